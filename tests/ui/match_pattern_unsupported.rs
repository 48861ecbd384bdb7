use grad::differentiable;

#[differentiable]
fn f(x: f64, pair: (i32, i32)) -> f64 {
    match pair {
        (0, _) => x,
        _ => x * x,
    }
}

fn main() {}
