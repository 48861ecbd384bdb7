use grad::differentiable;

type Real = f64;

#[differentiable]
fn energy(x: Real, k: f64) -> f64 {
    k * x * x
}

fn main() {}
