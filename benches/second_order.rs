//! Issue 17's companions against hand-written derivatives and num-dual: forward mode
//! (`f_jvp`, the directional derivative along one tangent), the Hessian-vector product
//! (`f_hvp`) and the dense Hessian (`f_hessian`), on Rosenbrock's function of 100 inputs and
//! of two.
//!
//! Run with `cargo bench --bench second_order`.

// Index loops are how Rosenbrock is written, by hand and for grad alike.
#![allow(clippy::needless_range_loop)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use grad::differentiable;
use num_dual::{Dual64, DualNum, HyperDual64};

const N: usize = 100;

#[differentiable(hessian)]
fn rosenbrock<const N: usize>(x: &[f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

fn rosenbrock_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let mut s = D::zero();
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = -x[i] + 1.0;
        s += a * a * 100.0 + b * b;
    }
    s
}

/// The directional derivative by hand: the closed-form gradient dotted with `t`, in one loop.
fn rosenbrock_jvp_by_hand(x: &[f64; N], t: &[f64; N]) -> f64 {
    let mut d = 0.0;
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        d += 200.0 * a * (t[i + 1] - 2.0 * x[i] * t[i]) - 2.0 * b * t[i];
    }
    d
}

/// H v by hand: Rosenbrock's Hessian is tridiagonal.
fn rosenbrock_hvp_by_hand(x: &[f64; N], v: &[f64; N]) -> [f64; N] {
    let mut hv = [0.0; N];
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        // The term 100 a² + (1 - x_i)² in (x_i, x_{i+1}).
        let hii = -400.0 * a + 800.0 * x[i] * x[i] + 2.0;
        let hij = -400.0 * x[i];
        hv[i] += hii * v[i] + hij * v[i + 1];
        hv[i + 1] += hij * v[i] + 200.0 * v[i + 1];
    }
    hv
}

#[differentiable(hessian)]
fn rosenbrock_2(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

fn rosenbrock_2_hessian_by_hand(x: f64, y: f64) -> ((f64, f64), (f64, f64)) {
    let hxx = 2.0 - 400.0 * (y - x * x) + 800.0 * x * x;
    let hxy = -400.0 * x;
    ((hxx, hxy), (hxy, 200.0))
}

fn inputs() -> ([f64; N], [f64; N]) {
    let mut x = [0.0; N];
    let mut t = [0.0; N];
    for i in 0..N {
        x[i] = 0.5 + 0.01 * i as f64;
        t[i] = ((i * 7) % 5) as f64 * 0.1 - 0.2;
    }
    (x, t)
}

fn check() {
    let (x, t) = inputs();
    let (value, tangent) = rosenbrock_jvp(&x, t);
    assert_eq!(value, rosenbrock(&x));
    let by_hand = rosenbrock_jvp_by_hand(&x, &t);
    assert!((tangent - by_hand).abs() < 1e-9 * by_hand.abs().max(1.0));
    let hv = rosenbrock_hvp(&x, t);
    let hv_by_hand = rosenbrock_hvp_by_hand(&x, &t);
    for i in 0..N {
        assert!((hv[i] - hv_by_hand[i]).abs() < 1e-9 * hv_by_hand[i].abs().max(1.0));
    }
    let h = rosenbrock_2_hessian(-1.2, 1.0);
    let h_by_hand = rosenbrock_2_hessian_by_hand(-1.2, 1.0);
    assert!((h.0.0 - h_by_hand.0.0).abs() < 1e-9 && (h.0.1 - h_by_hand.0.1).abs() < 1e-9);
    assert!((h.1.1 - h_by_hand.1.1).abs() < 1e-9);
}

fn bench(c: &mut Criterion) {
    check();
    let (x, t) = inputs();
    let mut group = c.benchmark_group("second_order");
    group.bench_function("rosenbrock_100/primal", |b| {
        b.iter(|| rosenbrock(black_box(&x)))
    });
    group.bench_function("rosenbrock_100/jvp/grad", |b| {
        b.iter(|| rosenbrock_jvp(black_box(&x), black_box(t)))
    });
    group.bench_function("rosenbrock_100/jvp/hand", |b| {
        b.iter(|| rosenbrock_jvp_by_hand(black_box(&x), black_box(&t)))
    });
    group.bench_function("rosenbrock_100/jvp/num-dual", |b| {
        b.iter(|| {
            let seeded: Vec<Dual64> = black_box(&x)
                .iter()
                .zip(black_box(&t))
                .map(|(x, t)| Dual64::new(*x, *t))
                .collect();
            rosenbrock_dual(&seeded).eps
        })
    });
    group.bench_function("rosenbrock_100/grad/grad", |b| {
        b.iter(|| rosenbrock_grad(black_box(&x)))
    });
    group.bench_function("rosenbrock_100/hvp/grad", |b| {
        b.iter(|| rosenbrock_hvp(black_box(&x), black_box(t)))
    });
    group.bench_function("rosenbrock_100/hvp/hand", |b| {
        b.iter(|| rosenbrock_hvp_by_hand(black_box(&x), black_box(&t)))
    });
    // num-dual: one hyper-dual pass per output element, eps1 along v and eps2 along e_i.
    group.bench_function("rosenbrock_100/hvp/num-dual", |b| {
        b.iter(|| {
            let (x, t) = (black_box(&x), black_box(&t));
            let mut hv = [0.0; N];
            for i in 0..N {
                let seeded: Vec<HyperDual64> = (0..N)
                    .map(|k| HyperDual64::new(x[k], t[k], if k == i { 1.0 } else { 0.0 }, 0.0))
                    .collect();
                hv[i] = rosenbrock_dual(&seeded).eps1eps2;
            }
            hv
        })
    });
    group.bench_function("rosenbrock_2/hessian/grad", |b| {
        b.iter(|| rosenbrock_2_hessian(black_box(-1.2), black_box(1.0)))
    });
    group.bench_function("rosenbrock_2/hessian/hand", |b| {
        b.iter(|| rosenbrock_2_hessian_by_hand(black_box(-1.2), black_box(1.0)))
    });
    group.bench_function("rosenbrock_2/hessian/num-dual", |b| {
        b.iter(|| {
            let (x, y) = (black_box(-1.2), black_box(1.0));
            let f =
                |a: HyperDual64, b: HyperDual64| (-a + 1.0).powi(2) + (b - a * a).powi(2) * 100.0;
            let d = |i: usize, j: usize| {
                let seed = |k: usize| {
                    (
                        if k == i { 1.0 } else { 0.0 },
                        if k == j { 1.0 } else { 0.0 },
                    )
                };
                let ((a1, a2), (b1, b2)) = (seed(0), seed(1));
                f(
                    HyperDual64::new(x, a1, a2, 0.0),
                    HyperDual64::new(y, b1, b2, 0.0),
                )
                .eps1eps2
            };
            let (hxx, hxy, hyy) = (d(0, 0), d(0, 1), d(1, 1));
            ((hxx, hxy), (hxy, hyy))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
