use grad::differentiable;

#[differentiable]
fn f(x: [f64; 3]) -> f64 {
    let mut s = 0.0;
    let mut add = |v: f64| s += v * v;
    for i in 0..3 {
        add(x[i]);
    }
    s
}

#[differentiable]
fn g(x: f64) -> f64 {
    let mut a = [0.0; 2];
    let mut set = |v: f64| a[0] = v;
    set(x);
    set(x * 2.0);
    a[0] + a[1]
}

fn main() {}
