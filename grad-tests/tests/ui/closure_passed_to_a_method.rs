use grad::differentiable;

#[differentiable(wrt(x))]
fn scaled(x: f64, offset: Option<f64>) -> f64 {
    let shift = offset.map_or(0.0, |o| o * x);
    x * x + shift
}

fn main() {}
