use grad::differentiable;

#[differentiable]
fn total(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i];
    }
    s
}

#[differentiable]
fn f(x: &[f64], a: f64) -> f64 {
    a * total(x)
}

fn main() {}
