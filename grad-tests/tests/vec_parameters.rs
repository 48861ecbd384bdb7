//! `Vec<f64>` and `&Vec<f64>` parameters, read and differentiated as slices (issue 15),
//! against finite differences and num-dual.

// Index loops are how the functions under test are written.
#![allow(clippy::needless_range_loop)]
// `&Vec<f64>` parameters are what these tests are about.
#![allow(clippy::ptr_arg)]

mod common;

use common::assert_gradient;
use grad::differentiable;
use num_dual::{Dual64, DualNum};

#[differentiable]
fn weighted_squares(x: Vec<f64>, k: f64) -> f64 {
    x.iter().map(|v| k * v * v).sum::<f64>()
}

#[differentiable]
fn cubic_and_sines(x: &Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i] * x[i];
    }
    for &t in x {
        s += t.sin();
    }
    s
}

fn cubic_and_sines_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let mut s = D::from(0.0);
    for &t in x {
        s += t * t * t + t.sin();
    }
    s
}

#[test]
fn a_vec_by_value_and_by_reference() {
    let x = vec![0.4, -1.1, 2.0];
    let (g, dk) = weighted_squares_grad(x.clone(), 3.0);
    // ∂/∂x_i = 2 k x_i, ∂/∂k = Σ x_i².
    for i in 0..3 {
        assert!((g[i] - 2.0 * 3.0 * x[i]).abs() < 1e-14, "{i}");
    }
    assert!((dk - x.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-14);

    let g = cubic_and_sines_grad(&x);
    assert_gradient(|p| cubic_and_sines(&p.to_vec()), &x, &g);
    for i in 0..x.len() {
        let dual: Vec<Dual64> = x
            .iter()
            .enumerate()
            .map(|(j, &v)| Dual64::new(v, if i == j { 1.0 } else { 0.0 }))
            .collect();
        let expected = cubic_and_sines_dual(&dual).eps;
        assert!((g[i] - expected).abs() < 1e-12, "{i}");
    }
    // Into the caller's buffer, without allocating a gradient.
    let mut buffer = [0.0; 3];
    cubic_and_sines_grad_into(&x, &mut buffer);
    assert_eq!(buffer.to_vec(), g);
}

/// Iterating a `&Vec<f64>` by reference, as written against a `Vec` of weights.
#[differentiable]
fn weighted_sum(x: f64, weights: &Vec<f64>) -> f64 {
    let mut s = 0.0;
    for w in weights.iter() {
        s += x * w * w;
    }
    s
}

#[test]
fn iterating_a_vec_reference() {
    let weights = vec![0.5, -2.0, 1.5];
    let (dx, dw) = weighted_sum_grad(0.7, &weights);
    assert!((dx - (0.25 + 4.0 + 2.25)).abs() < 1e-14);
    for i in 0..3 {
        assert!((dw[i] - 2.0 * 0.7 * weights[i]).abs() < 1e-14, "{i}");
    }
}
