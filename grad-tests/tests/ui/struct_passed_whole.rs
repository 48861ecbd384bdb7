use grad::{Differentiable, differentiable};

#[derive(Clone, Differentiable)]
struct Params {
    w: f64,
}

#[differentiable]
fn helper(p: &Params, x: f64) -> f64 {
    p.w * x
}

#[differentiable(wrt(p, x))]
fn whole(p: &Params, x: f64) -> f64 {
    helper(p, x)
}

impl Params {
    #[differentiable(wrt(self, x))]
    fn scaled(&self, x: f64) -> f64 {
        self.w * x
    }

    #[differentiable(wrt(self, x))]
    fn twice(&self, x: f64) -> f64 {
        2.0 * self.scaled(x)
    }
}

#[differentiable(wrt(p, x))]
fn vector(p: &Params, x: f64) -> [f64; 2] {
    [p.w * x, x]
}

fn main() {}
