//! The worked examples of the lecture notes in shared/seeds, against their hand-derived values.

use grad::differentiable;

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * (1.0 + b.abs())
}

#[differentiable]
pub fn f(x: f64, y: f64, z: f64) -> f64 {
    (x + y) * z
}

#[test]
fn add_then_multiply_at_the_seed_point() {
    // q = x + y = 3, f = qz: df/dx = df/dy = z = -4, df/dz = q = 3.
    assert_eq!(f_grad(-2.0, 5.0, -4.0), (-4.0, -4.0, 3.0));
    assert_eq!(
        f_value_and_grad(-2.0, 5.0, -4.0),
        (-12.0, (-4.0, -4.0, 3.0))
    );
    assert_eq!(f_vjp(-2.0, 5.0, -4.0, 0.5), (-2.0, -2.0, 1.5));
}

/// The sigmoid neuron: f(w, x) = 1 / (1 + e^-(w0 x0 + w1 x1 + w2)).
#[differentiable]
fn neuron(w0: f64, x0: f64, w1: f64, x1: f64, w2: f64) -> f64 {
    let dot = w0 * x0 + w1 * x1 + w2;
    1.0 / (1.0 + (-dot).exp())
}

#[test]
fn sigmoid_neuron_at_the_seed_point() {
    // w = (2, -3, -3), x = (-1, -2): dot = 1, σ = 0.7311, σ(1-σ) = 0.1966.
    let (value, (dw0, dx0, dw1, dx1, dw2)) = neuron_value_and_grad(2.0, -1.0, -3.0, -2.0, -3.0);
    let s = 1.0 / (1.0 + (-1.0f64).exp());
    let local = s * (1.0 - s);
    assert!(close(value, 0.731_058_578_630_004_9, 1e-15));
    assert!(close(local, 0.196_611_933_241_481_85, 1e-15));
    // The notes round these to (-0.20, 0.39, -0.39, -0.59, 0.20).
    assert!(close(dw0, -local, 1e-14) && (dw0 - -0.20).abs() < 0.005);
    assert!(close(dx0, 2.0 * local, 1e-14) && (dx0 - 0.39).abs() < 0.005);
    assert!(close(dw1, -2.0 * local, 1e-14) && (dw1 - -0.39).abs() < 0.005);
    assert!(close(dx1, -3.0 * local, 1e-14) && (dx1 - -0.59).abs() < 0.005);
    assert!(close(dw2, local, 1e-14) && (dw2 - 0.20).abs() < 0.005);
}

/// L = e^{w0} · (1 / w1).
#[differentiable]
fn exp_over(w0: f64, w1: f64) -> f64 {
    let p = w0.exp();
    let q = 1.0 / w1;
    p * q
}

#[test]
fn exp_times_reciprocal_at_the_seed_point() {
    let (dw0, dw1) = exp_over_grad(2.0, 2.0);
    // dL/dw0 = e^2 / 2 = 3.69, dL/dw1 = -e^2 / 4 = -1.85.
    assert!(close(dw0, 2f64.exp() / 2.0, 1e-15) && (dw0 - 3.69).abs() < 0.005);
    assert!(close(dw1, -(2f64.exp()) / 4.0, 1e-15) && (dw1 - -1.85).abs() < 0.005);
}

/// 1/(1+e^{-x}) written gate by gate, as the notes draw it.
#[differentiable]
fn sigmoid_by_gates(x: f64) -> f64 {
    let m = -x;
    let q = m.exp();
    let p = q + 1.0;
    1.0 / p
}

#[test]
fn sigmoid_gate_by_gate_matches_the_notes() {
    // At x = 1: dL/dP = -1/1.37² = -0.53, dL/dM = -0.53 e^{-1} = -0.20, dL/dx = 0.20.
    let dx = sigmoid_by_gates_grad(1.0);
    let s = 1.0 / (1.0 + (-1.0f64).exp());
    assert!(close(dx, s * (1.0 - s), 1e-15));
    assert!((dx - 0.20).abs() < 0.005);
    let p = 1.0 + (-1.0f64).exp();
    assert!((-1.0 / (p * p) - -0.53).abs() < 0.005);
}
