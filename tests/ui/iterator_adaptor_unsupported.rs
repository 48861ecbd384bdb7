use grad::differentiable;

#[differentiable]
fn tail_energy(x: [f64; 4]) -> f64 {
    x.iter().skip(1).map(|v| v * v).sum::<f64>()
}

#[differentiable]
fn largest(x: [f64; 4]) -> f64 {
    let m = x.iter().cloned().max_by(|a, b| a.partial_cmp(b).unwrap());
    m.unwrap_or(0.0) * 2.0
}

#[differentiable]
fn roughness(xs: &[f64]) -> f64 {
    xs.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>()
}

#[differentiable]
fn tail_sum(xs: &[f64]) -> f64 {
    xs[1..].iter().sum::<f64>()
}

#[differentiable]
fn horner(xs: &[f64]) -> f64 {
    xs.iter().rev().fold(0.0, |acc, &x| acc * 0.5 + x)
}

#[differentiable]
fn doubled_first(xs: &[f64]) -> f64 {
    let v: Vec<f64> = xs.iter().map(|x| x * 2.0).collect();
    v[0]
}

fn main() {}
