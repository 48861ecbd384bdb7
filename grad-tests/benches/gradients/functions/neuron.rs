//! Function 1: the seed's sigmoid neuron, f = 1 / (1 + e^-(w0 x0 + w1 x1 + w2)), five
//! inputs.

use grad::differentiable;
use num_dual::DualNum;
use reverse::Var;

#[differentiable]
pub fn neuron(w0: f64, x0: f64, w1: f64, x1: f64, w2: f64) -> f64 {
    let dot = w0 * x0 + w1 * x1 + w2;
    1.0 / (1.0 + (-dot).exp())
}

pub fn hand(w0: f64, x0: f64, w1: f64, x1: f64, w2: f64) -> [f64; 5] {
    let s = 1.0 / (1.0 + (-(w0 * x0 + w1 * x1 + w2)).exp());
    let local = s * (1.0 - s);
    [x0 * local, w0 * local, x1 * local, w1 * local, local]
}

pub fn dual<D: DualNum<f64> + Copy>(p: &[D; 5]) -> D {
    let dot = p[0] * p[1] + p[2] * p[3] + p[4];
    (D::from(1.0) + (-dot).exp()).recip()
}

/// `c / x` is written `x.recip() * c` in every tape function: `reverse` 0.2.2 gives
/// `f64 / Var` the derivative -1/x instead of -c/x² (the check caught it).
pub fn tape<'t>(p: &[Var<'t>]) -> Var<'t> {
    let dot = p[0] * p[1] + p[2] * p[3] + p[4];
    (1.0 + (-dot).exp()).recip()
}
