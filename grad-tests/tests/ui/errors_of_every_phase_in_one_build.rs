use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut a = [x, 2.0 * x];
    let mut s = 0.0;
    if x > 0.0 {
        s = a[0] * a[0];
    }
    a[0] = 3.0;
    let t = x.rem_euclid(2.0);
    t + s + a[0] * a[1]
}

fn main() {}
