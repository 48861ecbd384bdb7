use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut a = [x, 2.0 * x];
    let mut s = 0.0;
    for _ in 0..3 {
        if s < 10.0 {
            s += a[0] * a[1];
        }
        a[0] *= 1.5;
    }
    s
}

fn main() {}
