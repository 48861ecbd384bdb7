use grad::differentiable;

#[differentiable]
fn pair(x: f64) -> (f64, f64) {
    (x * x, x.sin())
}

#[differentiable]
fn use_pair(x: f64) -> f64 {
    let p: (f64, f64) = pair(x);
    p.0 + p.1
}

#[differentiable]
fn use_pair2(x: f64) -> f64 {
    let (a, b) = pair(x);
    a + b
}
fn main() {}
