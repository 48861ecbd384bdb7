use grad::differentiable;
use grad::nalgebra::{Matrix3, Vector3};

#[differentiable]
fn scaled(m: Matrix3<f64>, k: f64) -> Matrix3<f64> {
    m * k
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

// nalgebra indexes a matrix column by column and its `len` counts every element: grad holds
// a matrix as rows, so it refuses to read one other than by `(row, column)`.
#[differentiable]
fn linear_index(m: grad::nalgebra::Matrix2<f64>) -> f64 {
    m[1] * m.len() as f64
}

fn main() {}
