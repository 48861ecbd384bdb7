//! Issue 15's constructs, each against what it replaces: a function generic over num-traits
//! against the same function written in `f64` and against its hand-written gradient, an
//! RK4 integrator that assigns its whole state each step against the same integrator written
//! with element writes, with num-dual's forward mode as a peer, and a smoothness penalty
//! written with `windows` and a sub-slice against its hand-written gradient; and issue 19's
//! sum-of-map functions over slices and arrays (`sum_of_map_1000`), each against the one-pass
//! gradient written beside such code (`p.iter().map(|x| 2.0 * x).collect()`).
//!
//! Run with `cargo bench -p grad-tests --bench idioms`.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use grad::differentiable;
use num_traits::{Float, FromPrimitive};
use std::iter::Sum;

const N: usize = 1000;

/// A sum of shifted squares and a log term, as num-traits code writes it.
#[differentiable]
fn bowl_generic<T: Float + FromPrimitive + Sum>(p: &[T]) -> T {
    let half = T::from_f64(0.5).unwrap();
    let shift = T::from_f64(0.25).unwrap();
    let squares: T = p.iter().map(|x| (*x - shift).powi(2)).sum();
    half * squares + (T::one() + squares).ln()
}

/// The same function written in `f64`.
#[differentiable]
fn bowl_f64(p: &[f64]) -> f64 {
    let squares: f64 = p.iter().map(|x| (*x - 0.25).powi(2)).sum();
    0.5 * squares + (1.0 + squares).ln()
}

/// Its gradient by hand: one pass for the sum, one for the entries.
fn bowl_by_hand(p: &[f64]) -> Vec<f64> {
    let squares: f64 = p.iter().map(|x| (x - 0.25).powi(2)).sum();
    let scale = 1.0 + 2.0 / (1.0 + squares);
    p.iter().map(|x| scale * (x - 0.25)).collect()
}

#[path = "../tests/shared/rk4.rs"]
mod rk4;

use rk4::*;

/// The state assigned whole each step.
#[differentiable]
fn integrate_assigning(x0: f64, k: f64, c: f64) -> f64 {
    let mut state = [x0, 0.0];
    for _ in 0..200 {
        state = rk4_step(state, k, c, 0.01);
    }
    state[0]
}

/// The same integrator with element writes, as grad required before.
#[differentiable]
fn integrate_by_elements(x0: f64, k: f64, c: f64) -> f64 {
    let mut state = [x0, 0.0];
    for _ in 0..200 {
        let next: [f64; 2] = rk4_step([state[0], state[1]], k, c, 0.01);
        state[0] = next[0];
        state[1] = next[1];
    }
    state[0]
}

/// A smoothness penalty as regularisers write it: squared first differences over windows of
/// two, squared second differences of the interior against its neighbours.
#[differentiable]
fn smoothness(x: &[f64], lambda: f64) -> f64 {
    let n = x.len();
    let first = x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>();
    let interior = &x[1..n - 1];
    let mut second = 0.0;
    for (i, c) in interior.iter().enumerate() {
        second += (x[i] - 2.0 * c + x[i + 2]).powi(2);
    }
    first + lambda * second
}

/// Its gradient by hand, into a buffer: one pass per term. Returns d/dlambda.
fn smoothness_by_hand(x: &[f64], lambda: f64, g: &mut [f64]) -> f64 {
    let n = x.len();
    g.fill(0.0);
    for i in 0..n - 1 {
        let d = 2.0 * (x[i + 1] - x[i]);
        g[i + 1] += d;
        g[i] -= d;
    }
    let mut dlambda = 0.0;
    for i in 0..n - 2 {
        let c = x[i] - 2.0 * x[i + 1] + x[i + 2];
        dlambda += c * c;
        let t = 2.0 * lambda * c;
        g[i] += t;
        g[i + 1] -= 2.0 * t;
        g[i + 2] += t;
    }
    dlambda
}

/// Rosenbrock over a slice as argmin's test functions write it: windows of two, each adding
/// to two neighbouring gradient entries (issue 19).
#[differentiable]
fn rosenbrock_windows(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum()
}

/// Its gradient by hand, into a buffer, in one pass.
fn rosenbrock_by_hand(x: &[f64], g: &mut [f64]) {
    g.fill(0.0);
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        g[i] += -400.0 * a * x[i] - 2.0 * (1.0 - x[i]);
        g[i + 1] += 200.0 * a;
    }
}

// ----- Sums of maps over a slice or an array, as iterator-style code writes them -----

#[differentiable]
fn squares(p: &[f64]) -> f64 {
    p.iter().map(|x| x.powi(2)).sum()
}

fn squares_by_hand(p: &[f64]) -> Vec<f64> {
    p.iter().map(|x| 2.0 * x).collect()
}

#[differentiable]
fn quartic(p: &[f64]) -> f64 {
    p.iter()
        .map(|x| 0.5 * x.powi(4) - 2.0 * x.powi(2) + 0.3 * x)
        .sum()
}

fn quartic_by_hand(p: &[f64]) -> Vec<f64> {
    p.iter().map(|x| 2.0 * x.powi(3) - 4.0 * x + 0.3).collect()
}

#[differentiable]
fn exp_ln(p: &[f64]) -> f64 {
    p.iter().map(|x| (-x).exp() + (1.0 + x * x).ln()).sum()
}

fn exp_ln_by_hand(p: &[f64]) -> Vec<f64> {
    p.iter()
        .map(|x| -(-x).exp() + 2.0 * x / (1.0 + x * x))
        .collect()
}

#[differentiable(wrt(w))]
fn dot(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum()
}

fn dot_by_hand(_w: &[f64], x: &[f64]) -> Vec<f64> {
    x.to_vec()
}

#[differentiable]
fn squares_array(p: &[f64; N]) -> f64 {
    p.iter().map(|x| x.powi(2)).sum()
}

fn squares_array_by_hand(p: &[f64; N]) -> [f64; N] {
    p.map(|x| 2.0 * x)
}

fn assert_entries_close(name: &str, got: &[f64], hand: &[f64]) {
    assert_eq!(got.len(), hand.len(), "{name}");
    for (a, b) in got.iter().zip(hand) {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "{name}: {a} vs {b}"
        );
    }
}

fn check() {
    let p: Vec<f64> = (0..N).map(|i| (i as f64 * 0.37).sin()).collect();
    let hand = bowl_by_hand(&p);
    for (name, g) in [
        ("generic", bowl_generic_grad(&p)),
        ("f64", bowl_f64_grad(&p)),
    ] {
        for (a, b) in g.iter().zip(&hand) {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "bowl {name}: {a} vs {b}"
            );
        }
    }
    let x: Vec<f64> = (0..N).map(|i| (i as f64 * 0.11).cos()).collect();
    let array: [f64; N] = std::array::from_fn(|i| p[i]);
    assert_entries_close("squares", &squares_grad(&p), &squares_by_hand(&p));
    assert_entries_close("quartic", &quartic_grad(&p), &quartic_by_hand(&p));
    assert_entries_close("exp_ln", &exp_ln_grad(&p), &exp_ln_by_hand(&p));
    assert_entries_close("dot", &dot_grad(&p, &x), &dot_by_hand(&p, &x));
    assert_entries_close(
        "squares_array",
        &squares_array_grad(&array),
        &squares_array_by_hand(&array),
    );
    let mut hand = vec![0.0; N];
    let dlambda = smoothness_by_hand(&p, 0.3, &mut hand);
    let mut g = vec![0.0; N];
    let dl = smoothness_grad_into(&p, 0.3, &mut g);
    assert!((dl - dlambda).abs() <= 1e-12 * dlambda.abs().max(1.0));
    for (a, b) in g.iter().zip(&hand) {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "smoothness: {a} vs {b}"
        );
    }
    for n in [100, N] {
        let x = &p[..n];
        let mut hand = vec![0.0; n];
        rosenbrock_by_hand(x, &mut hand);
        assert_entries_close("rosenbrock_windows", &rosenbrock_windows_grad(x), &hand);
    }
    let (x0, k, c) = (1.0, 4.0, 0.3);
    let dual = final_position_num_dual(x0, k, c, 200, 0.01);
    for (name, g) in [
        ("assigning", integrate_assigning_grad(x0, k, c)),
        ("by elements", integrate_by_elements_grad(x0, k, c)),
    ] {
        for (a, b) in [(g.0, dual[0]), (g.1, dual[1]), (g.2, dual[2])] {
            assert!(
                (a - b).abs() <= 1e-10 * b.abs().max(1.0),
                "rk4 {name}: {a} vs {b}"
            );
        }
    }
}

fn idioms(cr: &mut Criterion) {
    check();
    let p: Vec<f64> = (0..N).map(|i| (i as f64 * 0.37).sin()).collect();
    let mut group = cr.benchmark_group("bowl_1000");
    group.bench_function("primal", |b| b.iter(|| bowl_f64(black_box(&p))));
    group.bench_function("hand", |b| b.iter(|| bowl_by_hand(black_box(&p))));
    group.bench_function("grad_f64", |b| b.iter(|| bowl_f64_grad(black_box(&p))));
    group.bench_function("grad_num_traits", |b| {
        b.iter(|| bowl_generic_grad(black_box(&p)))
    });
    group.finish();
    let x: Vec<f64> = (0..N).map(|i| (i as f64 * 0.11).cos()).collect();
    let array: [f64; N] = std::array::from_fn(|i| p[i]);
    let mut group = cr.benchmark_group("sum_of_map_1000");
    let mut buffer = vec![0.0; N];
    group.bench_function("squares/primal", |b| b.iter(|| squares(black_box(&p))));
    group.bench_function("squares/hand", |b| {
        b.iter(|| squares_by_hand(black_box(&p)))
    });
    group.bench_function("squares/grad", |b| b.iter(|| squares_grad(black_box(&p))));
    group.bench_function("squares/grad_into", |b| {
        b.iter(|| squares_grad_into(black_box(&p), &mut buffer))
    });
    group.bench_function("quartic/hand", |b| {
        b.iter(|| quartic_by_hand(black_box(&p)))
    });
    group.bench_function("quartic/grad", |b| b.iter(|| quartic_grad(black_box(&p))));
    group.bench_function("exp_ln/hand", |b| b.iter(|| exp_ln_by_hand(black_box(&p))));
    group.bench_function("exp_ln/grad", |b| b.iter(|| exp_ln_grad(black_box(&p))));
    group.bench_function("dot/hand", |b| {
        b.iter(|| dot_by_hand(black_box(&p), black_box(&x)))
    });
    group.bench_function("dot/grad", |b| {
        b.iter(|| dot_grad(black_box(&p), black_box(&x)))
    });
    group.bench_function("squares_array/hand", |b| {
        b.iter(|| squares_array_by_hand(black_box(&array)))
    });
    group.bench_function("squares_array/grad", |b| {
        b.iter(|| squares_array_grad(black_box(&array)))
    });
    group.finish();
    for n in [100, N] {
        let mut group = cr.benchmark_group(format!("rosenbrock_windows_{n}"));
        let x = &p[..n];
        let mut buffer = vec![0.0; n];
        group.bench_function("primal", |b| b.iter(|| rosenbrock_windows(black_box(x))));
        group.bench_function("hand", |b| {
            b.iter(|| rosenbrock_by_hand(black_box(x), &mut buffer))
        });
        group.bench_function("grad_into", |b| {
            b.iter(|| rosenbrock_windows_grad_into(black_box(x), &mut buffer))
        });
        group.bench_function("grad", |b| b.iter(|| rosenbrock_windows_grad(black_box(x))));
        group.finish();
    }
    let mut group = cr.benchmark_group("smoothness_1000");
    let mut buffer = vec![0.0; N];
    group.bench_function("primal", |b| b.iter(|| smoothness(black_box(&p), 0.3)));
    group.bench_function("hand", |b| {
        b.iter(|| smoothness_by_hand(black_box(&p), 0.3, &mut buffer))
    });
    group.bench_function("grad_into", |b| {
        b.iter(|| smoothness_grad_into(black_box(&p), 0.3, &mut buffer))
    });
    group.bench_function("grad", |b| b.iter(|| smoothness_grad(black_box(&p), 0.3)));
    group.finish();
    let (x0, k, c) = (1.0, 4.0, 0.3);
    let mut group = cr.benchmark_group("rk4_200_steps");
    group.bench_function("primal", |b| {
        b.iter(|| integrate_assigning(black_box(x0), black_box(k), black_box(c)))
    });
    group.bench_function("grad_assigning", |b| {
        b.iter(|| integrate_assigning_grad(black_box(x0), black_box(k), black_box(c)))
    });
    group.bench_function("grad_by_elements", |b| {
        b.iter(|| integrate_by_elements_grad(black_box(x0), black_box(k), black_box(c)))
    });
    group.bench_function("num_dual_3_passes", |b| {
        b.iter(|| final_position_num_dual(black_box(x0), black_box(k), black_box(c), 200, 0.01))
    });
    group.finish();
}

criterion_group!(benches, idioms);
criterion_main!(benches);
