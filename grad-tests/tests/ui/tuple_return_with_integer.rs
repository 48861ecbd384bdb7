use grad::differentiable;

#[differentiable]
fn f(x: f64, y: f64) -> (f64, usize) {
    (x * y, 3)
}

fn main() {}
