use grad::differentiable;

#[differentiable]
fn outer(x: [f64; 2], y: [f64; 2]) -> [[f64; 2]; 2] {
    [[x[0] * y[0], x[0] * y[1]], [x[1] * y[0], x[1] * y[1]]]
}

fn main() {}
