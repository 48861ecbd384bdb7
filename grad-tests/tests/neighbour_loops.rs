//! Loops whose reverse adds to two neighbouring elements of an adjoint per iteration
//! (`g[i]`, `g[i + 1]`), which grad reverses carrying one of them in a register
//! (`grad-expand/src/reverse/neighbours.rs`): against hand-derived gradients and central
//! differences, at every length including those that run the loop zero times or once.

#![allow(clippy::needless_range_loop)]

use grad::differentiable;

#[differentiable]
fn rosenbrock_windows(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum()
}

#[differentiable]
fn rosenbrock_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len().saturating_sub(1) {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

/// Offsets -1 and 0, with a second loop and a lone read adding to the same adjoint.
#[differentiable]
fn backward_differences(x: &[f64], weight: f64) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() {
        s += weight * (x[i] - x[i - 1]).powi(2) * x[i - 1].sin();
    }
    for i in 0..x.len() {
        s += x[i].exp() * 0.25;
    }
    if !x.is_empty() {
        s += x[0] * 3.0;
    }
    s
}

/// A fixed-size array, generic: the carried contribution is a `T`.
#[differentiable]
fn chain<T: grad::Float>(x: [T; 6]) -> T {
    let mut s = T::ZERO;
    for i in 0..5 {
        s += x[i] * x[i + 1] + (x[i + 1] - x[i]).tanh();
    }
    s
}

#[differentiable]
fn chain_f32(x: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for i in 0..x.len().saturating_sub(1) {
        s += (x[i] - 2.0 * x[i + 1]).powi(2);
    }
    s
}

fn rosenbrock_by_hand(x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    for i in 0..x.len().saturating_sub(1) {
        let a = x[i + 1] - x[i] * x[i];
        g[i] += -400.0 * a * x[i] - 2.0 * (1.0 - x[i]);
        g[i + 1] += 200.0 * a;
    }
    g
}

fn central(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let h = 1e-6;
            let mut up = x.to_vec();
            let mut down = x.to_vec();
            up[i] += h;
            down[i] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.3 + 0.7 * (i as f64 * 1.3).sin()).collect()
}

fn assert_close(got: &[f64], expected: &[f64], tolerance: f64, what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= tolerance * (1.0 + e.abs()),
            "{what}: entry {i}: {g} vs {e}"
        );
    }
}

#[test]
fn rosenbrock_at_every_small_length_and_at_100() {
    for n in (0..8).chain([100]) {
        let x = point(n);
        let hand = rosenbrock_by_hand(&x);
        assert_close(&rosenbrock_windows_grad(&x), &hand, 1e-14, "windows");
        assert_close(&rosenbrock_index_grad(&x), &hand, 1e-14, "index");
        // Into a dirty buffer: every element is written, none left from before.
        let mut buffer = vec![f64::NAN; n];
        rosenbrock_windows_grad_into(&x, &mut buffer);
        assert_close(&buffer, &hand, 1e-14, "windows into a NaN buffer");
    }
}

#[test]
fn offsets_minus_one_and_zero_beside_other_contributions() {
    for n in 0..7 {
        let x = point(n);
        let (gx, gw) = backward_differences_grad(&x, 1.5);
        let fd = central(|x| backward_differences(x, 1.5), &x);
        assert_close(&gx, &fd, 1e-7, "x");
        let fd_w =
            (backward_differences(&x, 1.5 + 1e-6) - backward_differences(&x, 1.5 - 1e-6)) / 2e-6;
        assert!(
            (gw - fd_w).abs() <= 1e-7 * (1.0 + fd_w.abs()),
            "{gw} vs {fd_w}"
        );
    }
}

#[test]
fn generic_arrays_and_f32() {
    let x = [0.5, -0.25, 1.0, 0.75, -1.5, 2.0];
    let g = chain_grad(x);
    let fd = central(|x| chain([x[0], x[1], x[2], x[3], x[4], x[5]]), &x);
    assert_close(&g, &fd, 1e-8, "chain");
    let g32 = chain_grad::<f32>(x.map(|v| v as f32));
    for (a, b) in g32.iter().zip(&g) {
        assert!((f64::from(*a) - b).abs() < 1e-4);
    }
    let y = [1.0f32, -2.0, 0.5, 3.0];
    let g = chain_f32_grad(&y);
    // d/dy of Σ (y_i - 2 y_{i+1})²: 2 r_i into y_i, -4 r_i into y_{i+1}.
    let mut expected = [0.0f32; 4];
    for i in 0..3 {
        let r = y[i] - 2.0 * y[i + 1];
        expected[i] += 2.0 * r;
        expected[i + 1] += -4.0 * r;
    }
    assert_eq!(g, expected.to_vec());
}
