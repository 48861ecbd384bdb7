use grad::differentiable;

#[differentiable]
fn positive_energy(x: [f64; 4]) -> f64 {
    x.iter().filter(|v| **v > 0.0).map(|v| v * v).sum::<f64>()
}

#[differentiable]
fn largest(x: [f64; 4]) -> f64 {
    let m = x.iter().cloned().max_by(|a, b| a.partial_cmp(b).unwrap());
    m.unwrap_or(0.0) * 2.0
}

fn by_magnitude(a: &f64, b: &f64) -> std::cmp::Ordering {
    a.abs().total_cmp(&b.abs())
}

#[differentiable]
fn largest_magnitude(xs: &[f64]) -> f64 {
    xs.iter().copied().max_by(by_magnitude).unwrap()
}

#[differentiable]
fn product_of_all(xs: &[f64]) -> f64 {
    xs.iter().copied().reduce(|a, b| a * b).unwrap_or(1.0)
}

#[differentiable]
fn queued(xs: &[f64]) -> f64 {
    let q = xs.iter().map(|x| x * 2.0).collect::<std::collections::VecDeque<f64>>();
    q[0]
}

#[differentiable]
fn doubled_in_place(xs: [f64; 3]) -> f64 {
    let mut a = xs;
    let part = &mut a[1..];
    part[0] *= 2.0;
    a[1] + a[2]
}

fn main() {}
