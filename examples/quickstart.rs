//! grad in one page: annotate plain functions, then call their generated gradients.
//!
//! Run with `cargo run --release --example quickstart`.

use grad::{check_gradient, differentiable};

/// The lecture notes' first graph: f = (x + y) · z.
#[differentiable]
fn f(x: f64, y: f64, z: f64) -> f64 {
    (x + y) * z
}

/// A sigmoid neuron with two inputs and a bias.
#[differentiable]
fn neuron(w0: f64, x0: f64, w1: f64, x1: f64, bias: f64) -> f64 {
    grad::sigmoid(w0 * x0 + w1 * x1 + bias)
}

/// Rosenbrock's banana, the classic hard case for gradient descent.
#[differentiable]
fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

fn main() {
    let (value, (dx, dy, dz)) = f_value_and_grad(-2.0, 5.0, -4.0);
    println!("f(-2, 5, -4) = {value}");
    println!("gradient     = ({dx}, {dy}, {dz})");

    let (w0, x0, w1, x1, bias) = (2.0, -1.0, -3.0, -2.0, -3.0);
    let (value, gradient) = neuron_value_and_grad(w0, x0, w1, x1, bias);
    println!("\nneuron       = {value:.6}");
    println!("gradient     = {gradient:.6?}");

    // Check a gradient against central finite differences.
    let (gx, gy) = rosenbrock_grad(-1.2, 1.0);
    let check = check_gradient(|v| rosenbrock(v[0], v[1]), &[-1.2, 1.0], &[gx, gy]);
    println!("\nrosenbrock gradient at (-1.2, 1) = ({gx:.4}, {gy:.4})");
    println!(
        "gradient check, worst error {:.1e}:\n{check}",
        check.max_error()
    );

    // Minimise it with gradient descent and momentum.
    let (mut x, mut y, mut vx, mut vy) = (-1.2, 1.0, 0.0, 0.0);
    for _ in 0..20_000 {
        let (gx, gy) = rosenbrock_grad(x, y);
        vx = 0.9 * vx - 2e-4 * gx;
        vy = 0.9 * vy - 2e-4 * gy;
        x += vx;
        y += vy;
    }
    println!(
        "minimum found at ({x:.4}, {y:.4}), value {:.2e}",
        rosenbrock(x, y)
    );
}
