use grad::differentiable;

#[differentiable]
fn offset(x: [f64; 2], shift: (f64, f64)) -> [f64; 2] {
    [x[0] + shift.0, x[1] + shift.1]
}

#[differentiable]
fn mixed(p: (usize, f64), x: f64) -> f64 {
    x * p.1
}

fn main() {}
