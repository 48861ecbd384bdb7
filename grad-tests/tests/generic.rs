//! Functions generic over the float type: one definition, differentiated in f32 and f64.

mod common;

use common::assert_gradient;
use grad::{Float, differentiable};

/// Literals need no ceremony: `2.0` here is `T::from_f64(2.0)`.
#[differentiable]
fn spring_energy<T: Float>(k: T, x: T, rest: T) -> T {
    let stretch = x - rest;
    0.5 * k * stretch * stretch + 2.0 * T::sin(x) + x.exp() * 1e-3
}

#[differentiable]
fn generic_loop<T>(x: [T; 4], scale: T) -> T
where
    T: grad::Float,
{
    let mut s = 0.0;
    for v in x {
        if v > 0.0 {
            s += scale * v.powi(2);
        } else {
            s -= v;
        }
    }
    grad::sigmoid(s)
}

#[test]
fn one_generic_definition_in_f64_and_f32() {
    let (k, x, rest) = (3.0, 1.4, 1.0);
    let g64 = spring_energy_grad(k, x, rest);
    assert_gradient(
        |v| spring_energy(v[0], v[1], v[2]),
        &[k, x, rest],
        &[g64.0, g64.1, g64.2],
    );
    let g32 = spring_energy_grad(k as f32, x as f32, rest as f32);
    for (a, b) in [(g32.0, g64.0), (g32.1, g64.1), (g32.2, g64.2)] {
        assert!(
            (f64::from(a) - b).abs() <= 1e-5 * b.abs().max(1.0),
            "{a} vs {b}"
        );
    }
}

#[test]
fn generic_arrays_loops_and_branches() {
    let x = [0.5, -1.0, 1.5, -0.25];
    let (dx, dscale) = generic_loop_grad(x, 0.3);
    let f = |v: &[f64]| generic_loop([v[0], v[1], v[2], v[3]], v[4]);
    assert_gradient(
        f,
        &[x[0], x[1], x[2], x[3], 0.3],
        &[dx[0], dx[1], dx[2], dx[3], dscale],
    );
    let (dx32, _) = generic_loop_grad(x.map(|v| v as f32), 0.3f32);
    for i in 0..4 {
        assert!((f64::from(dx32[i]) - dx[i]).abs() < 1e-5);
    }
}
