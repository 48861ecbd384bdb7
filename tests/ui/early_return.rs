use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    return x * 2.0;
    #[allow(unreachable_code)]
    x
}

fn main() {}
