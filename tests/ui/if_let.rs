use grad::differentiable;

#[differentiable]
fn f(x: f64, n: Option<usize>) -> f64 {
    if let Some(k) = n { x * k as f64 } else { x }
}

fn main() {}
