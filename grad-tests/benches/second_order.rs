//! Issue 17's companions against hand-written derivatives and num-dual: forward mode
//! (`f_jvp`, the directional derivative along one tangent), the Hessian-vector product
//! (`f_hvp`) and the dense Hessian (`f_hessian`), on Rosenbrock's function of 100 inputs and
//! of two, and the dense Hessian of the generic Rosenbrock at 10 and 100 inputs; and `f_jvp`
//! against the primal and num-dual on every function of the gradient suite (`jvp_suite`).
//!
//! Run with `cargo bench -p grad-tests --bench second_order`.

// Index loops are how Rosenbrock is written, by hand and for grad alike.
#![allow(clippy::needless_range_loop)]

use criterion::measurement::WallTime;
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use grad::differentiable;
use nalgebra::{DVector, SVector};
use num_dual::{Dual2DVec64, Dual2SVec64, Dual64, DualNum, HyperDual64};

const N: usize = 100;

/// The gradient suite's functions (benches/gradients), for `f_jvp` on each.
#[allow(dead_code)]
#[path = "gradients/functions/mod.rs"]
mod functions;

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

/// The value and the directional derivative by hand, in one loop, as `f_jvp` returns them.
fn rosenbrock_value_and_jvp_by_hand(x: &[f64; N], t: &[f64; N]) -> (f64, f64) {
    let (mut s, mut d) = (0.0, 0.0);
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
        d += 200.0 * a * (t[i + 1] - 2.0 * x[i] * t[i]) - 2.0 * b * t[i];
    }
    (s, d)
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

/// Rosenbrock for num-dual numbers that are not `Copy` (the dynamically sized `Dual2DVec64`).
fn rosenbrock_dual_clone<D: DualNum<f64>>(x: &[D]) -> D {
    let mut s = D::zero();
    for i in 0..x.len() - 1 {
        let a = x[i + 1].clone() - x[i].clone() * x[i].clone();
        let b = -x[i].clone() + 1.0;
        s += a.clone() * a * 100.0 + b.clone() * b;
    }
    s
}

/// The dense Hessian by hand: Rosenbrock's Hessian is tridiagonal.
fn rosenbrock_hessian_by_hand<const M: usize>(x: &[f64; M]) -> [[f64; M]; M] {
    let mut h = [[0.0; M]; M];
    for i in 0..M - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let hij = -400.0 * x[i];
        h[i][i] += -400.0 * a + 800.0 * x[i] * x[i] + 2.0;
        h[i][i + 1] = hij;
        h[i + 1][i] = hij;
        h[i + 1][i + 1] += 200.0;
    }
    h
}

/// The dense Hessian from `M` calls of `rosenbrock_hvp`, one along each unit vector (what
/// `f_hessian` does, without its symmetrisation).
fn rosenbrock_hessian_by_hvps<const M: usize>(x: &[f64; M]) -> [[f64; M]; M] {
    let mut h = [[0.0; M]; M];
    for j in 0..M {
        let mut e = [0.0; M];
        e[j] = 1.0;
        let column = rosenbrock_hvp(x, e);
        for i in 0..M {
            h[i][j] = column[i];
        }
    }
    h
}

/// The dense Hessian from num-dual's `hessian` with the statically sized `Dual2SVec64<M>`: one
/// pass, each number carrying a gradient of `M` and a Hessian of `M × M`.
fn rosenbrock_hessian_dual2_static<const M: usize>(x: &[f64; M]) -> [[f64; M]; M] {
    let (_, _, h) = num_dual::hessian(
        |v: SVector<Dual2SVec64<M>, M>| rosenbrock_dual(v.as_slice()),
        SVector::from(*x),
    );
    let mut out = [[0.0; M]; M];
    for i in 0..M {
        for j in 0..M {
            out[i][j] = h[(i, j)];
        }
    }
    out
}

/// The same with the dynamically sized `Dual2DVec64` (heap-allocated gradient and Hessian parts).
fn rosenbrock_hessian_dual2_dynamic<const M: usize>(x: &[f64; M]) -> [[f64; M]; M] {
    let (_, _, h) = num_dual::hessian(
        |v: DVector<Dual2DVec64>| rosenbrock_dual_clone(v.as_slice()),
        DVector::from_column_slice(x),
    );
    let mut out = [[0.0; M]; M];
    for i in 0..M {
        for j in 0..M {
            out[i][j] = h[(i, j)];
        }
    }
    out
}

/// The naive way with num-dual's scalar hyper-duals: one `HyperDual64` pass per entry of the
/// upper triangle, `M (M + 1) / 2` passes.
fn rosenbrock_hessian_hyperdual<const M: usize>(x: &[f64; M]) -> [[f64; M]; M] {
    let mut h = [[0.0; M]; M];
    for i in 0..M {
        for j in i..M {
            let seeded: Vec<HyperDual64> = (0..M)
                .map(|k| {
                    HyperDual64::new(
                        x[k],
                        if k == i { 1.0 } else { 0.0 },
                        if k == j { 1.0 } else { 0.0 },
                        0.0,
                    )
                })
                .collect();
            let hij = rosenbrock_dual(&seeded).eps1eps2;
            h[i][j] = hij;
            h[j][i] = hij;
        }
    }
    h
}

fn inputs_of<const M: usize>() -> [f64; M] {
    let mut x = [0.0; M];
    for i in 0..M {
        x[i] = 0.5 + 0.01 * i as f64;
    }
    x
}

fn assert_hessian_eq<const M: usize>(what: &str, h: &[[f64; M]; M], by_hand: &[[f64; M]; M]) {
    for i in 0..M {
        for j in 0..M {
            let (a, b) = (h[i][j], by_hand[i][j]);
            assert!(
                (a - b).abs() < 1e-9 * b.abs().max(1.0),
                "{what}: H[{i}][{j}] = {a}, by hand {b}"
            );
        }
    }
}

/// Runs `f` on a thread with a stack of 64 MiB: an `SVector` of 100 `Dual2SVec64<100>` (each
/// with a 100 × 100 Hessian part) is 8 MB, more than the main thread's stack.
fn with_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(s, f)
            .unwrap()
            .join()
            .unwrap()
    })
}

fn check_hessians<const M: usize>() {
    let x = inputs_of::<M>();
    let by_hand = rosenbrock_hessian_by_hand(&x);
    assert_hessian_eq("f_hessian", &rosenbrock_hessian(&x), &by_hand);
    assert_hessian_eq("hvps", &rosenbrock_hessian_by_hvps(&x), &by_hand);
    let h = with_big_stack(|| rosenbrock_hessian_dual2_static(&x));
    assert_hessian_eq("Dual2SVec64", &h, &by_hand);
    assert_hessian_eq(
        "Dual2DVec64",
        &rosenbrock_hessian_dual2_dynamic(&x),
        &by_hand,
    );
    assert_hessian_eq("HyperDual64", &rosenbrock_hessian_hyperdual(&x), &by_hand);
}

fn bench_hessians<const M: usize>(group: &mut criterion::BenchmarkGroup<'_, WallTime>) {
    check_hessians::<M>();
    let x = inputs_of::<M>();
    group.bench_function(format!("rosenbrock_{M}/hessian/grad"), |b| {
        b.iter(|| rosenbrock_hessian(black_box(&x)))
    });
    group.bench_function(format!("rosenbrock_{M}/hessian/hand"), |b| {
        b.iter(|| rosenbrock_hessian_by_hand(black_box(&x)))
    });
    group.bench_function(format!("rosenbrock_{M}/hessian/hvps"), |b| {
        b.iter(|| rosenbrock_hessian_by_hvps(black_box(&x)))
    });
    group.bench_function(
        format!("rosenbrock_{M}/hessian/num-dual-Dual2SVec64"),
        |b| with_big_stack(|| b.iter(|| rosenbrock_hessian_dual2_static(black_box(&x)))),
    );
    group.bench_function(
        format!("rosenbrock_{M}/hessian/num-dual-Dual2DVec64"),
        |b| b.iter(|| rosenbrock_hessian_dual2_dynamic(black_box(&x))),
    );
    group.bench_function(
        format!("rosenbrock_{M}/hessian/num-dual-HyperDual64"),
        |b| b.iter(|| rosenbrock_hessian_hyperdual(black_box(&x))),
    );
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
    let (value_by_hand, tangent_by_hand) = rosenbrock_value_and_jvp_by_hand(&x, &t);
    assert_eq!(value_by_hand, value);
    assert!((tangent_by_hand - by_hand).abs() < 1e-9 * by_hand.abs().max(1.0));
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
    // The tangent is copied into the call as a caller's array is (`black_box(t)` instead makes
    // LLVM copy it element by element, 50-70 ns that are the benchmark's, not f_jvp's).
    group.bench_function("rosenbrock_100/jvp/grad", |b| {
        b.iter(|| rosenbrock_jvp(black_box(&x), *black_box(&t)))
    });
    group.bench_function("rosenbrock_100/jvp/hand", |b| {
        b.iter(|| rosenbrock_jvp_by_hand(black_box(&x), black_box(&t)))
    });
    group.bench_function("rosenbrock_100/jvp/hand-with-value", |b| {
        b.iter(|| rosenbrock_value_and_jvp_by_hand(black_box(&x), black_box(&t)))
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
    bench_hessians::<10>(&mut group);
    bench_hessians::<100>(&mut group);
    group.finish();
}

/// A tangent of `n` inputs, the same for grad and num-dual.
fn tangent_of(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7) % 5) as f64 * 0.1 - 0.2).collect()
}

/// ⟨a, b⟩ over flattened inputs.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Asserts that grad's and num-dual's directional derivatives agree with the hand-written
/// gradient dotted with the tangent, and grad's value with the primal, before any timing.
fn check_jvp(name: &str, (value, tangent): (f64, f64), primal: f64, dual: f64, by_hand: f64) {
    let scale = by_hand.abs().max(1.0);
    assert_eq!(value, primal, "{name}: f_jvp's value");
    assert!(
        (tangent - by_hand).abs() < 1e-9 * scale,
        "{name}: {tangent} != {by_hand}"
    );
    assert!(
        (dual - by_hand).abs() < 1e-9 * scale,
        "{name}: num-dual {dual} != {by_hand}"
    );
}

/// f_jvp along one tangent on each function of the gradient suite, against the primal and one
/// num-dual `Dual64` pass seeded with the same tangent.
fn jvp_suite(c: &mut Criterion) {
    use functions::{dense, gaussian, lennard_jones, neuron, recurrence, rosenbrock, softmax};
    let mut group = c.benchmark_group("jvp_suite");

    {
        let p = [2.0, -1.0, -3.0, -2.0, -3.0];
        let t: [f64; 5] = tangent_of(5).try_into().unwrap();
        let jvp = |p: &[f64; 5], t: &[f64; 5]| {
            neuron::neuron_jvp(p[0], p[1], p[2], p[3], p[4], t[0], t[1], t[2], t[3], t[4])
        };
        let dual = |p: &[f64; 5], t: &[f64; 5]| {
            neuron::dual(&std::array::from_fn(|i| Dual64::new(p[i], t[i]))).eps
        };
        let primal = |p: &[f64; 5]| neuron::neuron(p[0], p[1], p[2], p[3], p[4]);
        let by_hand = dot(&neuron::hand(p[0], p[1], p[2], p[3], p[4]), &t);
        check_jvp("neuron", jvp(&p, &t), primal(&p), dual(&p, &t), by_hand);
        group.bench_function("neuron/primal", |b| b.iter(|| primal(black_box(&p))));
        group.bench_function("neuron/jvp/grad", |b| {
            b.iter(|| jvp(black_box(&p), black_box(&t)))
        });
        group.bench_function("neuron/jvp/num-dual", |b| {
            b.iter(|| dual(black_box(&p), black_box(&t)))
        });
    }
    {
        const R: usize = 100;
        let x: [f64; R] = std::array::from_fn(|i| 0.5 + 0.7 * (1.3 * i as f64).sin());
        let t: [f64; R] = tangent_of(R).try_into().unwrap();
        let dual = |x: &[f64; R], t: &[f64; R]| {
            rosenbrock::dual::<Dual64, R>(&std::array::from_fn(|i| Dual64::new(x[i], t[i]))).eps
        };
        let by_hand = dot(&rosenbrock::hand(&x), &t);
        check_jvp(
            "rosenbrock_100",
            rosenbrock::rosenbrock_jvp(&x, t),
            rosenbrock::rosenbrock(&x),
            dual(&x, &t),
            by_hand,
        );
        group.bench_function("rosenbrock_100/primal", |b| {
            b.iter(|| rosenbrock::rosenbrock(black_box(&x)))
        });
        group.bench_function("rosenbrock_100/jvp/grad", |b| {
            b.iter(|| rosenbrock::rosenbrock_jvp(black_box(&x), *black_box(&t)))
        });
        group.bench_function("rosenbrock_100/jvp/num-dual", |b| {
            b.iter(|| dual(black_box(&x), black_box(&t)))
        });
    }
    {
        const M: usize = 64;
        const K: usize = 64;
        let w: [[f64; K]; M] = std::array::from_fn(|i| {
            std::array::from_fn(|j| 0.2 * ((i * K + j) as f64 * 0.61).sin())
        });
        let b: [f64; M] = std::array::from_fn(|i| 0.1 * (i as f64 * 1.7).cos());
        let x: [f64; K] = std::array::from_fn(|j| (j as f64 * 0.37).sin());
        let target: [f64; M] = std::array::from_fn(|i| if i % 3 == 0 { 1.0 } else { 0.0 });
        let flat = tangent_of(M * K + M);
        let tw: [[f64; K]; M] = std::array::from_fn(|i| std::array::from_fn(|j| flat[i * K + j]));
        let tb: [f64; M] = std::array::from_fn(|i| flat[M * K + i]);
        let dual = |tw: &[[f64; K]; M], tb: &[f64; M]| {
            let dw: [[Dual64; K]; M] =
                std::array::from_fn(|i| std::array::from_fn(|j| Dual64::new(w[i][j], tw[i][j])));
            let db: [Dual64; M] = std::array::from_fn(|i| Dual64::new(b[i], tb[i]));
            dense::dual(&dw, &db, &x, &target).eps
        };
        let (gw, gb) = dense::hand(&w, &b, &x, &target);
        let by_hand = dot(gw.as_flattened(), tw.as_flattened()) + dot(&gb, &tb);
        check_jvp(
            "dense_64x64",
            dense::dense_loss_jvp(&w, &b, &x, &target, tw, tb),
            dense::dense_loss(&w, &b, &x, &target),
            dual(&tw, &tb),
            by_hand,
        );
        group.bench_function("dense_64x64/primal", |bench| {
            bench.iter(|| dense::dense_loss(black_box(&w), black_box(&b), &x, &target))
        });
        group.bench_function("dense_64x64/jvp/grad", |bench| {
            bench.iter(|| {
                dense::dense_loss_jvp(
                    black_box(&w),
                    black_box(&b),
                    &x,
                    &target,
                    *black_box(&tw),
                    *black_box(&tb),
                )
            })
        });
        group.bench_function("dense_64x64/jvp/num-dual", |bench| {
            bench.iter(|| dual(black_box(&tw), black_box(&tb)))
        });
    }
    {
        const S: usize = 100;
        let z: [f64; S] = std::array::from_fn(|i| 3.0 * (i as f64 * 0.77).sin());
        let label = 17;
        let t: [f64; S] = tangent_of(S).try_into().unwrap();
        let dual = |z: &[f64; S], t: &[f64; S]| {
            softmax::dual::<Dual64, S>(&std::array::from_fn(|i| Dual64::new(z[i], t[i])), label).eps
        };
        check_jvp(
            "softmax_ce_100",
            softmax::cross_entropy_jvp(&z, label, t),
            softmax::cross_entropy(&z, label),
            dual(&z, &t),
            dot(&softmax::hand(&z, label), &t),
        );
        group.bench_function("softmax_ce_100/primal", |b| {
            b.iter(|| softmax::cross_entropy(black_box(&z), label))
        });
        group.bench_function("softmax_ce_100/jvp/grad", |b| {
            b.iter(|| softmax::cross_entropy_jvp(black_box(&z), label, *black_box(&t)))
        });
        group.bench_function("softmax_ce_100/jvp/num-dual", |b| {
            b.iter(|| dual(black_box(&z), black_box(&t)))
        });
    }
    {
        let p = [0.9, 0.5, 0.1];
        let t = [0.3, -0.2, 0.1];
        let dual = |p: &[f64; 3], t: &[f64; 3]| {
            recurrence::dual(&std::array::from_fn(|i| Dual64::new(p[i], t[i]))).eps
        };
        check_jvp(
            "recurrence_1000",
            recurrence::rnn_jvp(p[0], p[1], p[2], t[0], t[1], t[2]),
            recurrence::rnn(p[0], p[1], p[2]),
            dual(&p, &t),
            dot(&recurrence::hand(p[0], p[1], p[2]), &t),
        );
        group.bench_function("recurrence_1000/primal", |b| {
            b.iter(|| {
                let p = black_box(&p);
                recurrence::rnn(p[0], p[1], p[2])
            })
        });
        group.bench_function("recurrence_1000/jvp/grad", |b| {
            b.iter(|| {
                let (p, t) = (black_box(&p), black_box(&t));
                recurrence::rnn_jvp(p[0], p[1], p[2], t[0], t[1], t[2])
            })
        });
        group.bench_function("recurrence_1000/jvp/num-dual", |b| {
            b.iter(|| dual(black_box(&p), black_box(&t)))
        });
    }
    {
        const P: usize = 32;
        let pos: [[f64; 3]; P] = std::array::from_fn(|i| {
            let cell = [i % 4, (i / 4) % 4, i / 16];
            std::array::from_fn(|k| 1.2 * cell[k] as f64 + 0.05 * ((i * 3 + k) as f64).sin())
        });
        let flat = tangent_of(3 * P);
        let t: [[f64; 3]; P] = std::array::from_fn(|i| std::array::from_fn(|k| flat[3 * i + k]));
        let dual = |pos: &[[f64; 3]; P], t: &[[f64; 3]; P]| {
            let d: [[Dual64; 3]; P] =
                std::array::from_fn(|i| std::array::from_fn(|k| Dual64::new(pos[i][k], t[i][k])));
            lennard_jones::dual(&d).eps
        };
        check_jvp(
            "lennard_jones_32",
            lennard_jones::energy_jvp(pos, t),
            lennard_jones::energy(pos),
            dual(&pos, &t),
            dot(lennard_jones::hand(&pos).as_flattened(), t.as_flattened()),
        );
        group.bench_function("lennard_jones_32/primal", |b| {
            b.iter(|| lennard_jones::energy(*black_box(&pos)))
        });
        group.bench_function("lennard_jones_32/jvp/grad", |b| {
            b.iter(|| lennard_jones::energy_jvp(*black_box(&pos), *black_box(&t)))
        });
        group.bench_function("lennard_jones_32/jvp/num-dual", |b| {
            b.iter(|| dual(black_box(&pos), black_box(&t)))
        });
    }
    {
        let data: Vec<f64> = (0..1000).map(|i| 1.5 + (i as f64 * 0.37).sin()).collect();
        let (mu, log_sigma, t) = (1.2, -0.3, [0.3, -0.2]);
        let dual = |mu: f64, log_sigma: f64, t: &[f64; 2]| {
            gaussian::dual(
                &[Dual64::new(mu, t[0]), Dual64::new(log_sigma, t[1])],
                &data,
            )
            .eps
        };
        check_jvp(
            "gaussian_ll_1000",
            gaussian::log_likelihood_jvp(mu, log_sigma, &data, t[0], t[1]),
            gaussian::log_likelihood(mu, log_sigma, &data),
            dual(mu, log_sigma, &t),
            dot(&gaussian::hand(mu, log_sigma, &data), &t),
        );
        group.bench_function("gaussian_ll_1000/primal", |b| {
            b.iter(|| gaussian::log_likelihood(black_box(mu), black_box(log_sigma), &data))
        });
        group.bench_function("gaussian_ll_1000/jvp/grad", |b| {
            b.iter(|| {
                let t = black_box(&t);
                gaussian::log_likelihood_jvp(black_box(mu), black_box(log_sigma), &data, t[0], t[1])
            })
        });
        group.bench_function("gaussian_ll_1000/jvp/num-dual", |b| {
            b.iter(|| dual(black_box(mu), black_box(log_sigma), black_box(&t)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench, jvp_suite);
criterion_main!(benches);
