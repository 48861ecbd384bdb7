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

fn main() {}
