//! Arrays and matrices: the seeds' vector examples, matrix identities, models, and vector
//! outputs, against hand-derived values, finite differences and dual numbers.

mod common;

use common::assert_gradient;
use grad::differentiable;

/// f = ‖Wx‖², the seed's vectorised example.
#[differentiable]
fn norm_of_product(w: [[f64; 2]; 2], x: [f64; 2]) -> f64 {
    let mut p = [0.0; 2];
    for i in 0..2 {
        for j in 0..2 {
            p[i] += w[i][j] * x[j];
        }
    }
    p[0] * p[0] + p[1] * p[1]
}

#[test]
fn seed_norm_of_matrix_vector_product() {
    let w = [[0.1, 0.5], [-0.3, 0.8]];
    let x = [0.2, 0.4];
    let (value, (dw, dx)) = {
        let value = norm_of_product(w, x);
        (value, norm_of_product_grad(w, x))
    };
    assert!((value - 0.116).abs() < 1e-12);
    let want_dw = [[0.088, 0.176], [0.104, 0.208]];
    let want_dx = [-0.112, 0.636];
    for i in 0..2 {
        for j in 0..2 {
            assert!((dw[i][j] - want_dw[i][j]).abs() < 1e-12, "dW = {dw:?}");
        }
        assert!((dx[i] - want_dx[i]).abs() < 1e-12, "dx = {dx:?}");
    }
}
