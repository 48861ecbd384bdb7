use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    'outer: {
        for _ in 0..3 {
            continue 'outer;
        }
        x * x
    }
}

fn main() {}
