use grad::{Differentiable, differentiable};

#[derive(Clone, Differentiable)]
struct Params {
    w: [f64; 3],
    k: f64,
}

// `p.w` is iterated, not indexed, and `p.k` converted: grad cannot see that they are floats,
// and rustc refuses to read them as constants.
#[differentiable(wrt(p, x))]
fn total(p: &Params, x: f64) -> f64 {
    p.w.iter().sum::<f64>() * x + p.k as f64
}

fn main() {}
