use grad::differentiable;

#[differentiable(wrt(x))]
fn limited(x: f64, y: f64) -> f64 {
    x * y
}

#[differentiable]
fn f(x: f64) -> f64 {
    limited(x, 3.0) + x
}

fn main() {}
