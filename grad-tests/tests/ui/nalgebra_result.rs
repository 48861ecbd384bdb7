use grad::differentiable;

// nalgebra indexes a matrix column by column and its `len` counts every element: grad holds
// a matrix as rows, so it refuses to read one other than by `(row, column)`.
#[differentiable]
fn linear_index(m: grad::nalgebra::Matrix2<f64>) -> f64 {
    m[1] * m.len() as f64
}

// A matrix's `map` takes a closure of one parameter or a function's path.
#[differentiable]
fn map_of_a_method(m: grad::nalgebra::Matrix2<f64>) -> grad::nalgebra::Matrix2<f64> {
    m.map(f64::sin.clone())
}

fn main() {}
