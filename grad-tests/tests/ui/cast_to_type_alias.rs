use grad::differentiable;

type Real = f64;

#[differentiable]
fn f(x: f32) -> f64 {
    (x as Real) * 3.0
}

fn main() {}
