use grad::differentiable;

#[differentiable]
fn f(x: [f64; 2]) -> f64 {
    let mut h = [0.0; 2];
    for _ in 0..3 {
        let n = [h[1] + x[0], h[0] * x[1]];
        h = n[0];
    }
    h[0] + h[1]
}

fn main() {}
