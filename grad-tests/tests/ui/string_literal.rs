use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let _label = "loss";
    x * x
}

fn main() {}
