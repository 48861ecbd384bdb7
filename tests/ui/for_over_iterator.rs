use grad::differentiable;

#[differentiable]
fn f(x: f64, weights: &Vec<f64>) -> f64 {
    let mut s = 0.0;
    for w in weights.iter() {
        s += x * w;
    }
    s
}

fn main() {}
