//! Tuple parameters of floats and float arrays are differentiated: the gradient entry of
//! `target: (f64, f64)` is a tuple `(∂f/∂target.0, ∂f/∂target.1)`. Checked against dual
//! numbers and finite differences.

mod common;

use common::assert_gradient;
use grad::differentiable;
use num_dual::{Dual64, DualNum};

/// Squared distance from the tip of a 2-link planar arm to a target (written as in the field).
#[differentiable]
fn two_link_reach_cost(theta1: f64, theta2: f64, target: (f64, f64)) -> f64 {
    const L1: f64 = 1.0;
    const L2: f64 = 0.8;
    let (tx, ty) = target;
    let x = L1 * theta1.cos() + L2 * (theta1 + theta2).cos();
    let y = L1 * theta1.sin() + L2 * (theta1 + theta2).sin();
    (x - tx).powi(2) + (y - ty).powi(2)
}

fn reach_dual(t1: Dual64, t2: Dual64, tx: Dual64, ty: Dual64) -> Dual64 {
    let x = t1.cos() + (t1 + t2).cos() * 0.8;
    let y = t1.sin() + (t1 + t2).sin() * 0.8;
    (x - tx).powi(2) + (y - ty).powi(2)
}

fn dual_gradient<const N: usize>(f: impl Fn([Dual64; N]) -> Dual64, x: [f64; N]) -> [f64; N] {
    std::array::from_fn(|i| {
        f(std::array::from_fn(|j| {
            Dual64::new(x[j], if i == j { 1.0 } else { 0.0 })
        }))
        .eps
    })
}

fn assert_close(a: &[f64], b: &[f64]) {
    for (i, (a, b)) in a.iter().zip(b).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "entry {i}: {a} vs {b}"
        );
    }
}

#[test]
fn a_tuple_parameter_has_a_tuple_entry() {
    let x = [0.3, 0.9, 1.1, 0.6];
    let (value, (d1, d2, (dtx, dty))) =
        two_link_reach_cost_value_and_grad(x[0], x[1], (x[2], x[3]));
    assert_eq!(value, two_link_reach_cost(x[0], x[1], (x[2], x[3])));
    let flat = [d1, d2, dtx, dty];
    assert_close(
        &flat,
        &dual_gradient(|d| reach_dual(d[0], d[1], d[2], d[3]), x),
    );
    assert_gradient(|p| two_link_reach_cost(p[0], p[1], (p[2], p[3])), &x, &flat);
    assert_eq!(
        two_link_reach_cost_grad(x[0], x[1], (x[2], x[3])),
        (d1, d2, (dtx, dty))
    );
    let scaled = two_link_reach_cost_vjp(x[0], x[1], (x[2], x[3]), 2.0);
    assert_eq!(scaled, (2.0 * d1, 2.0 * d2, (2.0 * dtx, 2.0 * dty)));
}

/// A tuple of a scalar and an array, read by field, and the only parameter.
#[differentiable]
fn weighted_norm(p: (f64, [f64; 3])) -> f64 {
    let w = p.0 * 2.0;
    let mut s = 0.0;
    for i in 0..3 {
        s += p.1[i] * p.1[i];
    }
    w * s.sqrt()
}

#[test]
fn a_tuple_with_an_array_as_the_only_parameter() {
    let (w, v) = (1.5, [0.3, -0.4, 1.2]);
    let (dw, dv) = weighted_norm_grad((w, v));
    let x = [w, v[0], v[1], v[2]];
    let expected = dual_gradient(
        |d| d[0] * 2.0 * (d[1] * d[1] + d[2] * d[2] + d[3] * d[3]).sqrt(),
        x,
    );
    assert_close(&[dw, dv[0], dv[1], dv[2]], &expected);
}

/// `wrt` names the tuple: its entry is the tuple; a tuple left out of `wrt` is a constant.
#[differentiable(wrt(offset))]
fn shifted(x: f64, offset: (f64, f64), scale: (f64, f64)) -> f64 {
    (x * scale.0 + offset.0).sin() * (x * scale.1 + offset.1)
}

#[test]
fn wrt_names_a_tuple_or_leaves_it_constant() {
    let (x, o, s) = (0.7, (0.2, -0.5), (1.3, 0.4));
    let (d0, d1) = shifted_grad(x, o, s);
    let expected = dual_gradient(|d| (d[0] + x * s.0).sin() * (d[1] + x * s.1), [o.0, o.1]);
    assert_close(&[d0, d1], &expected);
}

/// Generic over the float type, in f32 and f64.
#[differentiable]
fn generic_pair<T: grad::Float>(p: (T, T), k: T) -> T {
    let (a, b) = p;
    a * b * k + a.exp()
}

#[test]
fn generic_tuple_parameters() {
    let ((da, db), dk) = generic_pair_grad((0.5f64, 2.0), 3.0);
    assert_close(
        &[da, db, dk],
        &[2.0 * 3.0 + 0.5f64.exp(), 0.5 * 3.0, 0.5 * 2.0],
    );
    let ((da, _), _) = generic_pair_grad((0.5f32, 2.0), 3.0);
    assert!((da - (6.0 + 0.5f32.exp())).abs() < 1e-5);
}

/// The workaround the error for a tuple with an integer suggests: `wrt` keeps it constant.
#[differentiable(wrt(x))]
fn mixed(p: (usize, f64), x: f64) -> f64 {
    x * p.1 * p.0 as f64
}

#[test]
fn a_tuple_with_an_integer_kept_constant() {
    assert_eq!(mixed_value_and_grad((3, 0.5), 2.0), (3.0, 1.5));
}

/// A tuple beside a slice: the slice's entry is a `Vec`, the tuple's a tuple; `_grad_into`
/// returns the tuple.
#[differentiable]
fn line_fit(line: (f64, f64), xs: &[f64], ys: &[f64]) -> f64 {
    let (slope, intercept) = line;
    let mut loss = 0.0;
    for i in 0..xs.len() {
        let r = slope * xs[i] + intercept - ys[i];
        loss += r * r;
    }
    loss
}

#[test]
fn a_tuple_beside_slices() {
    let (xs, ys) = ([0.0, 1.0, 2.0], [1.0, 2.5, 5.5]);
    let ((ds, di), dxs, dys) = line_fit_grad((2.0, 0.5), &xs, &ys);
    // r = 2x + 0.5 - y = [-0.5, 0, -1]: ∂/∂slope = 2 Σ r x = -4, ∂/∂intercept = 2 Σ r = -3,
    // ∂/∂x_i = 2 r_i slope, ∂/∂y_i = -2 r_i.
    assert_eq!((ds, di), (-4.0, -3.0));
    assert_eq!(dxs, vec![-2.0, 0.0, -4.0]);
    assert_eq!(dys, vec![1.0, -0.0, 2.0]);
    let (mut bx, mut by) = ([0.0; 3], [0.0; 3]);
    let rest = line_fit_grad_into((2.0, 0.5), &xs, &ys, &mut bx, &mut by);
    assert_eq!((rest, bx.to_vec(), by.to_vec()), ((ds, di), dxs, dys));
    let (value, _) = line_fit_value_and_grad((2.0, 0.5), &xs, &ys);
    assert_eq!(value, line_fit((2.0, 0.5), &xs, &ys));
}

#[test]
fn a_tuple_parameter_takes_a_tuple_tangent() {
    // `f_jvp` along (t1, t2, (ttx, tty)) is the gradient dotted with it.
    let x = [0.4, -1.1, 1.2, 0.3];
    let t = [0.7, -0.2, 0.5, 1.5];
    let (value, tangent) =
        two_link_reach_cost_jvp(x[0], x[1], (x[2], x[3]), t[0], t[1], (t[2], t[3]));
    assert_eq!(value, two_link_reach_cost(x[0], x[1], (x[2], x[3])));
    let (d1, d2, (dtx, dty)) = two_link_reach_cost_grad(x[0], x[1], (x[2], x[3]));
    let transposed = d1 * t[0] + d2 * t[1] + dtx * t[2] + dty * t[3];
    assert!((tangent - transposed).abs() < 1e-13);
    let seeded = |k: usize| Dual64::new(x[k], t[k]);
    let dual = reach_dual(seeded(0), seeded(1), seeded(2), seeded(3)).eps;
    assert!((tangent - dual).abs() < 1e-13, "{tangent} vs {dual}");
    // A tuple of a scalar and an array, and generic code.
    let (_, tangent) = weighted_norm_jvp((1.5, [0.3, -0.4, 1.2]), (1.0, [0.5, 0.0, -2.0]));
    let (dw, dv) = weighted_norm_grad((1.5, [0.3, -0.4, 1.2]));
    assert!((tangent - (dw + dv[0] * 0.5 - dv[2] * 2.0)).abs() < 1e-13);
    let (_, tangent) = generic_pair_jvp((0.5f32, 2.0), 3.0, (1.0, 0.0), 0.0);
    assert!((tangent - (6.0 + 0.5f32.exp())).abs() < 1e-5);
}
