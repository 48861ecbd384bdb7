use grad::differentiable;

fn integrate(f: impl Fn(f64) -> f64, n: usize) -> f64 {
    (0..n).map(|i| f((i as f64 + 0.5) / n as f64)).sum::<f64>() / n as f64
}

#[differentiable]
fn f(k: f64) -> f64 {
    let g = |t: f64| (k * t).sin();
    integrate(g, 100) + integrate(|t: f64| k * t, 10)
}

fn main() {}
