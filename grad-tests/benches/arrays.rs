//! Elementwise vector functions: their vjp must scale like N, not N².
//!
//! Run with `cargo bench -p grad-tests --bench arrays`; compare `vjp/1024` with `vjp/4096` (≈ 4×).

use criterion::{BenchmarkId, Criterion, black_box, criterion_group, criterion_main};
use grad::differentiable;

/// Output i depends on input i only.
#[differentiable]
fn swish_like<const N: usize>(x: [f64; N]) -> [f64; N] {
    let mut y = x;
    for i in 0..N {
        y[i] = x[i] * grad::sigmoid(x[i]);
    }
    y
}

/// A scalar loss with a vector intermediate.
#[differentiable]
fn loss<const N: usize>(x: [f64; N]) -> f64 {
    let h: [f64; N] = swish_like(x);
    h.iter().map(|v| v * v).sum::<f64>()
}

fn input<const N: usize>() -> [f64; N] {
    std::array::from_fn(|i| (i as f64 * 0.37).sin())
}

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("elementwise_vjp");
    let (x1, x4) = (input::<1024>(), input::<4096>());
    let (u1, u4) = ([1.0; 1024], [1.0; 4096]);
    group.bench_with_input(BenchmarkId::new("vjp", 1024), &x1, |b, x| {
        b.iter(|| swish_like_vjp(black_box(*x), black_box(u1)))
    });
    group.bench_with_input(BenchmarkId::new("vjp", 4096), &x4, |b, x| {
        b.iter(|| swish_like_vjp(black_box(*x), black_box(u4)))
    });
    group.bench_with_input(BenchmarkId::new("loss_grad", 1024), &x1, |b, x| {
        b.iter(|| loss_grad(black_box(*x)))
    });
    group.bench_with_input(BenchmarkId::new("loss_grad", 4096), &x4, |b, x| {
        b.iter(|| loss_grad(black_box(*x)))
    });
    group.finish();
}

criterion_group!(benches, scaling);
criterion_main!(benches);
