use grad::differentiable;

#[differentiable]
fn pair(x: f64) -> (f64, f64) {
    (x * x, x.sin())
}

#[differentiable]
fn use_pair(x: f64) -> f64 {
    let p = pair(x);
    p.0 + p.1
}

// The two fixes the message names.
#[differentiable]
fn use_pair_destructured(x: f64) -> f64 {
    let (a, b) = pair(x);
    a + b
}

#[differentiable]
fn use_pair_typed(x: f64) -> f64 {
    let p: (f64, f64) = pair(x);
    p.0 + p.1
}

fn main() {}
