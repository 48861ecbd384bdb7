use grad::differentiable;
use grad::nalgebra::Vector3;

#[differentiable]
fn scaled(v: Vector3<f64>, k: f64) -> Vector3<f64> {
    v * k
}

#[differentiable]
fn elements(v: Vector3<f64>, k: f64) -> [f64; 3] {
    [v.x * k, v.y * k, v.z * k]
}

#[differentiable]
fn outer(v: Vector3<f64>) -> f64 {
    let w = v * v.transpose();
    w[(0, 0)]
}

fn main() {}
