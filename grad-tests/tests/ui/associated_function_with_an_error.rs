use grad::differentiable;

pub struct Params;

pub trait Odd {
    fn odd(self) -> f64;
}

impl Odd for f64 {
    fn odd(self) -> f64 {
        self
    }
}

#[differentiable]
impl Params {
    pub fn assoc(x0: f64) -> f64 {
        x0.sin()
    }
}

// Only grad's own error: no "unresolved import `Params`" beside it.
#[differentiable]
pub fn free(x0: f64) -> f64 {
    Params::assoc(x0) + x0.odd()
}

fn main() {}
