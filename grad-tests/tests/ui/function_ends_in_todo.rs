use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    assert!(x > 0.0);
    todo!()
}

fn main() {}
