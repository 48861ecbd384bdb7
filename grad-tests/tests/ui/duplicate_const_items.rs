use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let a = {
        const C: f64 = 2.0;
        x * C
    };
    let b = {
        const C: f64 = 3.0;
        x * C
    };
    a + b
}

fn main() {}
