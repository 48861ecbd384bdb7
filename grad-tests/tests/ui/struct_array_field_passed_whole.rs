use grad::{Differentiable, differentiable};

#[derive(Clone, Copy, Differentiable)]
pub struct Weights {
    pub w: [f64; 4],
    pub a: f64,
}

#[differentiable]
fn dot(x: f64, v: [f64; 4]) -> f64 {
    x * (v[0] + v[1] + v[2] + v[3])
}

// An array field passed whole to a call is read as a float: it needs a typed copy
// (`let w: [f64; 4] = p.w; dot(x, w)`, which compiles).
#[differentiable(wrt(p, x))]
fn passed_whole(x: f64, p: &Weights) -> f64 {
    dot(x, p.w) + p.a
}

fn main() {}
