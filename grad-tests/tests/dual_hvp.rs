//! Forward over reverse with `grad::Dual`: the gradient companion of a generic function, run
//! on duals seeded with a direction v, gives the Hessian-vector product H v in the tangents
//! (and the gradient in the values). Checked against central differences of the `f64`
//! gradient along v, and against closed forms.
//!
//! This is what `f_hvp` will do through a generic copy of the gradient core; here the core
//! is the one generic functions already get, so these tests show that `Dual` has everything
//! generated code asks of its scalar type.

// Index loops are how the functions under test are written.
#![allow(clippy::needless_range_loop)]

use grad::{Dual, differentiable};
use num_traits::real::Real;
use num_traits::{Float, FromPrimitive};
use std::iter::Sum;

type D = Dual<f64>;

#[differentiable]
fn cubic_well<T: Float>(x: T, y: T) -> T {
    let r2 = x * x + y * y;
    x * x * x - 0.5 * (y * y * y) + r2 * r2 * r2
}

#[differentiable]
fn soft_norm<T: Real>(v: [T; 3], eps: T) -> T {
    let s = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    (s + eps * eps).sqrt() - eps
}

#[differentiable]
fn clipped_energy<T>(x: [T; 4], k: T) -> T
where
    T: Float + FromPrimitive,
{
    let limit = T::from(1.5).unwrap();
    let mut e = T::zero();
    for i in 0..4 {
        let d = if x[i] > limit { limit } else { x[i] };
        e = e + k * d * d + T::from_f64(0.1).unwrap() * x[i].sin();
    }
    e
}

#[differentiable]
fn ripple<T: Float + FromPrimitive + Sum>(param: &[T]) -> T {
    let n = T::from_usize(param.len()).unwrap();
    let squares: T = param.iter().map(|x| x.powi(2)).sum();
    let waves: T = param.iter().map(|x| (x.atan2(n) * n).cos()).sum();
    (squares / n).sqrt().exp() + waves.tanh() * squares.ln_1p()
}

#[differentiable]
fn with_grad_float<T: grad::Float>(x: T, y: T) -> T {
    let mut acc = T::HALF * x * y;
    acc += (x.max(y) * T::PI).sin() + x.hypot(y).powf(T::TWO + T::HALF);
    acc
}

/// Central differences of `gradient` along `v`: (∇f(x + h v) - ∇f(x - h v)) / 2h.
fn fd_hvp(gradient: impl Fn(&[f64]) -> Vec<f64>, x: &[f64], v: &[f64]) -> Vec<f64> {
    let h = 1e-5;
    let moved = |s: f64| -> Vec<f64> { x.iter().zip(v).map(|(a, b)| a + s * h * b).collect() };
    let (up, down) = (gradient(&moved(1.0)), gradient(&moved(-1.0)));
    up.iter()
        .zip(&down)
        .map(|(a, b)| (a - b) / (2.0 * h))
        .collect()
}

fn seeded(x: &[f64], v: &[f64]) -> Vec<D> {
    x.iter().zip(v).map(|(&a, &b)| D::new(a, b)).collect()
}

/// The values of `dual` are `gradient` and its tangents the finite-difference H v.
fn assert_hvp(name: &str, dual: &[D], gradient: &[f64], hvp: &[f64]) {
    for (i, d) in dual.iter().enumerate() {
        assert_eq!(d.re, gradient[i], "{name}: gradient entry {i}");
        let scale = hvp[i].abs().max(1.0);
        assert!(
            (d.eps - hvp[i]).abs() <= 1e-6 * scale,
            "{name}: (H v)[{i}] is {} by duals, {} by finite differences",
            d.eps,
            hvp[i]
        );
    }
}

const DIRECTIONS: [[f64; 5]; 3] = [
    [1.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 1.0, 0.0, 0.0, 0.0],
    [0.3, -0.8, 0.5, 1.1, -0.2],
];

#[test]
fn cubic_well_hvp_matches_its_closed_form() {
    let (x, y) = (0.6, -0.9);
    // f = x³ - y³/2 + r⁶ with r² = x² + y².
    let r2: f64 = x * x + y * y;
    let hessian = [
        [
            6.0 * x + 6.0 * r2 * r2 + 24.0 * x * x * r2,
            24.0 * x * y * r2,
        ],
        [
            24.0 * x * y * r2,
            -3.0 * y + 6.0 * r2 * r2 + 24.0 * y * y * r2,
        ],
    ];
    for v in DIRECTIONS.map(|d| [d[0], d[1]]) {
        let (gx, gy) = cubic_well_grad(D::new(x, v[0]), D::new(y, v[1]));
        let (fx, fy) = cubic_well_grad(x, y);
        assert_eq!((gx.re, gy.re), (fx, fy));
        for (i, g) in [gx, gy].iter().enumerate() {
            let hv = hessian[i][0] * v[0] + hessian[i][1] * v[1];
            assert!(
                (g.eps - hv).abs() <= 1e-12 * hv.abs().max(1.0),
                "{i}: {} vs {hv}",
                g.eps
            );
        }
    }
}

#[test]
fn hvps_of_generic_functions_match_finite_differences() {
    let x = [0.4, 1.9, -0.7, 1.2, 0.8];
    for v in DIRECTIONS {
        // soft_norm over (v[0..3], eps).
        let gradient = |p: &[f64]| {
            let (dv, de) = soft_norm_grad([p[0], p[1], p[2]], p[3]);
            vec![dv[0], dv[1], dv[2], de]
        };
        let p = [0.3, -1.2, 0.5, 0.1];
        let d = seeded(&p, &v[..4]);
        let (dv, de) = soft_norm_grad([d[0], d[1], d[2]], d[3]);
        assert_hvp(
            "soft_norm",
            &[dv[0], dv[1], dv[2], de],
            &gradient(&p),
            &fd_hvp(gradient, &p, &v[..4]),
        );

        // clipped_energy over (x[0..4], k): x[1] = 1.9 is clipped.
        let gradient = |p: &[f64]| {
            let (dx, dk) = clipped_energy_grad([p[0], p[1], p[2], p[3]], p[4]);
            vec![dx[0], dx[1], dx[2], dx[3], dk]
        };
        let d = seeded(&x, &v);
        let (dx, dk) = clipped_energy_grad([d[0], d[1], d[2], d[3]], d[4]);
        assert_hvp(
            "clipped_energy",
            &[dx[0], dx[1], dx[2], dx[3], dk],
            &gradient(&x),
            &fd_hvp(gradient, &x, &v),
        );

        // ripple over a slice.
        let d = seeded(&x, &v);
        assert_hvp(
            "ripple",
            &ripple_grad(&d),
            &ripple_grad(&x[..]),
            &fd_hvp(ripple_grad::<f64>, &x, &v),
        );

        // grad::Float.
        let gradient = |p: &[f64]| {
            let (a, b) = with_grad_float_grad(p[0], p[1]);
            vec![a, b]
        };
        let p = [0.7, -0.3];
        let (a, b) = with_grad_float_grad(D::new(p[0], v[0]), D::new(p[1], v[1]));
        assert_hvp(
            "with_grad_float",
            &[a, b],
            &gradient(&p),
            &fd_hvp(gradient, &p, &v[..2]),
        );
    }
}

#[test]
fn value_and_gradient_on_duals_give_the_directional_derivative_too() {
    // The value's tangent is ∇f · v.
    let (x, y) = (0.6, -0.9);
    let v = [0.3, -0.8];
    let (value, (gx, gy)) = cubic_well_value_and_grad(D::new(x, v[0]), D::new(y, v[1]));
    let (fx, fy) = cubic_well_grad(x, y);
    assert_eq!(value.re, cubic_well(x, y));
    assert!((value.eps - (fx * v[0] + fy * v[1])).abs() < 1e-12);
    assert_eq!((gx.re, gy.re), (fx, fy));
}
