//! Loops: a 1,000-step recurrence and a 10,000-term accumulation, each as the primal alone,
//! grad's gradient, and a careful hand-written gradient.
//!
//! Run with `cargo bench -p grad-tests --bench control_flow`.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use grad::differentiable;

/// A damped oscillator stepped 1,000 times; the loss is the final position and velocity.
#[differentiable]
fn recurrence(damping: f64, stiffness: f64, x0: f64) -> f64 {
    let mut x = x0;
    let mut v = 0.0;
    for i in 0..1000 {
        let force = -stiffness * x.sin() - damping * v + (i as f64 * 1e-3).cos() * 0.1;
        v += 0.01 * force;
        x += 0.01 * v;
    }
    x * x + v * v
}

/// Forward-mode tangents of (x, v) with respect to all three parameters, propagated in the
/// same loop: what a careful human writes for three inputs and a long recurrence.
fn recurrence_by_hand(damping: f64, stiffness: f64, x0: f64) -> (f64, f64, f64) {
    let (mut x, mut v) = (x0, 0.0);
    // Tangents: d/d(damping), d/d(stiffness), d/d(x0).
    let (mut dx, mut dv) = ([0.0, 0.0, 1.0], [0.0; 3]);
    for i in 0..1000 {
        let (s, c) = x.sin_cos();
        let force = -stiffness * s - damping * v + (i as f64 * 1e-3).cos() * 0.1;
        for p in 0..3 {
            let mut dforce = -stiffness * c * dx[p] - damping * dv[p];
            if p == 0 {
                dforce -= v;
            }
            if p == 1 {
                dforce -= s;
            }
            dv[p] += 0.01 * dforce;
            dx[p] += 0.01 * dv[p];
        }
        v += 0.01 * force;
        x += 0.01 * v;
    }
    let g = |p: usize| 2.0 * x * dx[p] + 2.0 * v * dv[p];
    (g(0), g(1), g(2))
}

/// A sum of 10,000 terms: records nothing, replays the loop backwards.
#[differentiable]
fn accumulation(a: f64, b: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        let t = i as f64 * 1e-4;
        s += (a * t).sin() * (b * t).exp();
    }
    s
}

fn accumulation_by_hand(a: f64, b: f64, n: usize) -> (f64, f64) {
    let (mut da, mut db) = (0.0, 0.0);
    for i in 0..n {
        let t = i as f64 * 1e-4;
        let (s, c) = (a * t).sin_cos();
        let e = (b * t).exp();
        da += c * t * e;
        db += s * e * t;
    }
    (da, db)
}

fn loops(c: &mut Criterion) {
    // The hand-written gradients are references only if they are right.
    let (g, h) = (
        recurrence_grad(0.1, 2.0, 0.5),
        recurrence_by_hand(0.1, 2.0, 0.5),
    );
    for (g, h) in [(g.0, h.0), (g.1, h.1), (g.2, h.2)] {
        assert!(
            (g - h).abs() <= 1e-9 * g.abs().max(1.0),
            "recurrence: {g} vs {h}"
        );
    }
    let (g, h) = (
        accumulation_grad(0.3, 0.2, 10_000),
        accumulation_by_hand(0.3, 0.2, 10_000),
    );
    for (g, h) in [(g.0, h.0), (g.1, h.1)] {
        assert!(
            (g - h).abs() <= 1e-9 * g.abs().max(1.0),
            "accumulation: {g} vs {h}"
        );
    }

    let mut group = c.benchmark_group("recurrence_1000");
    group.bench_function("primal", |bench| {
        bench.iter(|| recurrence(black_box(0.1), black_box(2.0), black_box(0.5)))
    });
    group.bench_function("grad", |bench| {
        bench.iter(|| recurrence_grad(black_box(0.1), black_box(2.0), black_box(0.5)))
    });
    group.bench_function("hand", |bench| {
        bench.iter(|| recurrence_by_hand(black_box(0.1), black_box(2.0), black_box(0.5)))
    });
    group.finish();

    let mut group = c.benchmark_group("accumulation_10000");
    group.bench_function("primal", |bench| {
        bench.iter(|| accumulation(black_box(0.3), black_box(0.2), black_box(10_000)))
    });
    group.bench_function("grad", |bench| {
        bench.iter(|| accumulation_grad(black_box(0.3), black_box(0.2), black_box(10_000)))
    });
    group.bench_function("hand", |bench| {
        bench.iter(|| accumulation_by_hand(black_box(0.3), black_box(0.2), black_box(10_000)))
    });
    group.finish();
}

criterion_group!(benches, loops);
criterion_main!(benches);
