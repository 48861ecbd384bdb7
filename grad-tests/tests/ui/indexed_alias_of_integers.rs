use grad::differentiable;

type Counts = [u32; 3];

#[differentiable]
fn weighted(x: f64, counts: Counts) -> f64 {
    if counts[0] > 2 { x * x } else { x }
}

fn main() {}
