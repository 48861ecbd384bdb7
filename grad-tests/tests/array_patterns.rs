//! `let [a, b] = ...;` destructures an array as practitioners write it (issue 15), checked
//! against finite differences and a closed form.

mod common;

use common::assert_gradient;
use grad::differentiable;
use num_traits::{Float, FromPrimitive};

/// Booth's function as optimisation suites write it: the parameter by reference, destructured.
#[differentiable]
fn booth(param: &[f64; 2]) -> f64 {
    let [x1, x2] = *param;
    (x1 + 2.0 * x2 - 7.0).powi(2) + (2.0 * x1 + x2 - 5.0).powi(2)
}

/// A value, a mapped array, a wildcard and a nested pattern.
#[differentiable]
fn shapes(v: [f64; 3], m: [[f64; 2]; 2]) -> f64 {
    let [a, _, c] = v;
    let [x, y] = [v[0], v[1]].map(|t| 4.0 * t - 2.0);
    let [[m00, m01], [_, m11]] = m;
    a * c + x * y + m00 * m11 - m01.sin()
}

/// Generic over num-traits, destructuring a reference.
#[differentiable]
fn matyas<T: Float + FromPrimitive>(param: &[T; 2]) -> T {
    let [x, y] = *param;
    T::from_f64(0.26).unwrap() * (x.powi(2) + y.powi(2)) - T::from_f64(0.48).unwrap() * x * y
}

#[test]
fn a_destructured_reference_parameter() {
    let p = [1.0, 2.0];
    let g = booth_grad(&p);
    // Closed form at (1, 2): ∂/∂x1 = 2(-2) + 4(-1) = -8, ∂/∂x2 = 4(-2) + 2(-1) = -10.
    assert_eq!(g, [-8.0, -10.0]);
    let p = [0.3, -1.7];
    assert_gradient(|v| booth(&[v[0], v[1]]), &p, &booth_grad(&p));
}

#[test]
fn values_mapped_arrays_wildcards_and_nesting() {
    let (v, m) = ([0.4, -0.9, 1.3], [[0.2, -0.5], [0.8, 1.1]]);
    let (dv, dm) = shapes_grad(v, m);
    assert_gradient(
        |p| shapes([p[0], p[1], p[2]], [[p[3], p[4]], [p[5], p[6]]]),
        &[v[0], v[1], v[2], m[0][0], m[0][1], m[1][0], m[1][1]],
        &[dv[0], dv[1], dv[2], dm[0][0], dm[0][1], dm[1][0], dm[1][1]],
    );
}

#[test]
fn destructuring_in_generic_code() {
    let p = [0.7, -0.2];
    let g = matyas_grad(&p);
    // ∂/∂x = 0.52x - 0.48y, ∂/∂y = 0.52y - 0.48x.
    assert!((g[0] - (0.52 * 0.7 + 0.48 * 0.2)).abs() < 1e-15);
    assert!((g[1] - (0.52 * -0.2 - 0.48 * 0.7)).abs() < 1e-15);
    let g32 = matyas_grad(&[0.7f32, -0.2]);
    assert!((g32[0] as f64 - g[0]).abs() < 1e-6);
}

/// A parameter mapped whole and destructured, as test-function suites rescale their domain.
#[differentiable]
fn rescaled(p: [f64; 2]) -> f64 {
    let [x, y] = p.map(|v| 4.0 * v - 2.0);
    x * x + y.sin() * x
}

#[test]
fn a_parameter_mapped_and_destructured() {
    for p in [[0.1, 0.7], [0.9, -0.3]] {
        let g = rescaled_grad(p);
        let (x, y) = (4.0 * p[0] - 2.0, 4.0 * p[1] - 2.0);
        let closed = [4.0 * (2.0 * x + y.sin()), 4.0 * y.cos() * x];
        for k in 0..2 {
            assert!((g[k] - closed[k]).abs() < 1e-12, "{g:?} vs {closed:?}");
        }
        assert_gradient(|v| rescaled([v[0], v[1]]), &p, &g);
    }
}
