//! Inverse kinematics of a three-joint arm, written in nalgebra: the forward kinematics is
//! plain nalgebra code (rotation matrices, matrix products, vectors), `#[differentiable]` gives
//! the gradient of the reach cost with respect to the joint angles (and the link lengths, and
//! the target) as nalgebra values, and gradient descent moves the tip onto the target.
//!
//! `cargo run --release -p grad-tests --example arm_nalgebra`

use grad::differentiable;
use grad::nalgebra::{Matrix3, Vector3};

/// The tip of an arm with a base joint turning about the vertical axis (`q.x`), a shoulder
/// and an elbow turning about the horizontal one (`q.y`, `q.z`), and links of `lengths.x`
/// (vertical, up to the shoulder), `lengths.y` and `lengths.z`; the squared distance to the
/// target.
#[differentiable]
fn reach_cost(q: Vector3<f64>, lengths: Vector3<f64>, target: Vector3<f64>) -> f64 {
    let (c0, s0) = (q.x.cos(), q.x.sin());
    let (c1, s1) = (q.y.cos(), q.y.sin());
    let (c2, s2) = (q.z.cos(), q.z.sin());
    let base = Matrix3::new(c0, -s0, 0.0, s0, c0, 0.0, 0.0, 0.0, 1.0);
    let shoulder = Matrix3::new(c1, 0.0, s1, 0.0, 1.0, 0.0, -s1, 0.0, c1);
    let elbow = Matrix3::new(c2, 0.0, s2, 0.0, 1.0, 0.0, -s2, 0.0, c2);
    let upper = Vector3::new(lengths.y, 0.0, 0.0);
    let fore = Vector3::new(lengths.z, 0.0, 0.0);
    let tip = Vector3::new(0.0, 0.0, lengths.x) + base * (shoulder * (upper + elbow * fore));
    (tip - target).norm_squared()
}

fn main() {
    let lengths = Vector3::new(0.5, 1.0, 0.8);
    let target = Vector3::new(0.9, 0.6, 0.7);
    let mut q = Vector3::new(0.1, -0.2, 0.3);
    let step = 0.2;
    for iteration in 0..=200 {
        let (cost, (dq, _dlengths, _dtarget)) = reach_cost_value_and_grad(q, lengths, target);
        if iteration % 40 == 0 {
            println!(
                "iteration {iteration:3}: cost {cost:.3e}, q = [{:+.4}, {:+.4}, {:+.4}]",
                q.x, q.y, q.z
            );
        }
        q -= dq * step;
    }
    let (dq, dlengths, dtarget) = reach_cost_grad(q, lengths, target);
    println!("at the end: d/dq = {:.1e}", dq.norm());
    println!("            d/dlengths = {dlengths:?}");
    println!("            d/dtarget = {dtarget:?}");
}
