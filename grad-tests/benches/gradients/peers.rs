//! The generic peers: central finite differences, num-dual's forward passes, the `reverse`
//! tape, and the flattening of a gradient of any shape for the checks.

use nalgebra::{Const, U1};
use num_dual::{Derivative, Dual64, DualSVec64};
use reverse::{Gradient, Tape, Var};

/// Central finite differences, one coordinate at a time: 2 primal calls per input, with the
/// step ∛ε · max(|x|, 1) that balances truncation and rounding error. `at(p, i)` is input i.
pub fn central_difference<P>(
    p: &mut P,
    n: usize,
    at: impl Fn(&mut P, usize) -> &mut f64,
    f: impl Fn(&P) -> f64,
) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let v = *at(p, i);
            let h = f64::EPSILON.cbrt() * v.abs().max(1.0);
            *at(p, i) = v + h;
            let up = f(p);
            *at(p, i) = v - h;
            let down = f(p);
            *at(p, i) = v;
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// Forward mode, one `Dual64` pass per input: input i gets the tangent 1 for its pass and 0
/// again after it, so the dual inputs are built once per gradient.
pub fn dual_passes<P>(
    p: &mut P,
    n: usize,
    at: impl Fn(&mut P, usize) -> &mut Dual64,
    f: impl Fn(&P) -> Dual64,
) -> Vec<f64> {
    (0..n)
        .map(|i| {
            at(p, i).eps = 1.0;
            let d = f(p).eps;
            at(p, i).eps = 0.0;
            d
        })
        .collect()
}

/// Input i of N seeded with the i-th unit vector, for one vector-mode pass.
pub fn seed_vec<const N: usize>(value: f64, i: usize) -> DualSVec64<N> {
    DualSVec64::new(value, Derivative::derivative_generic(Const::<N>, U1, i))
}

pub fn unseed_vec<const N: usize>(y: DualSVec64<N>) -> Vec<f64> {
    y.eps
        .unwrap_generic(Const::<N>, U1)
        .iter()
        .copied()
        .collect()
}

/// One tape per benchmark, cleared before each gradient (so its buffer is reused).
pub fn tape_gradient(
    tape: &Tape,
    inputs: &[f64],
    f: impl for<'t> Fn(&[Var<'t>]) -> Var<'t>,
) -> Vec<f64> {
    tape.clear();
    let vars = tape.add_vars(inputs);
    let y = f(&vars);
    y.grad().wrt(vars.as_slice())
}

/// Flattens a gradient of any shape, in parameter order.
pub trait Flat {
    fn push_to(&self, out: &mut Vec<f64>);
    fn flat(&self) -> Vec<f64> {
        let mut out = Vec::new();
        self.push_to(&mut out);
        out
    }
}

impl Flat for f64 {
    fn push_to(&self, out: &mut Vec<f64>) {
        out.push(*self);
    }
}

impl<T: Flat, const N: usize> Flat for [T; N] {
    fn push_to(&self, out: &mut Vec<f64>) {
        self.iter().for_each(|v| v.push_to(out));
    }
}

impl Flat for Vec<f64> {
    fn push_to(&self, out: &mut Vec<f64>) {
        out.extend_from_slice(self);
    }
}

impl<A: Flat, B: Flat> Flat for (A, B) {
    fn push_to(&self, out: &mut Vec<f64>) {
        self.0.push_to(out);
        self.1.push_to(out);
    }
}

impl<A: Flat, B: Flat, C: Flat> Flat for (A, B, C) {
    fn push_to(&self, out: &mut Vec<f64>) {
        self.0.push_to(out);
        self.1.push_to(out);
        self.2.push_to(out);
    }
}

impl<A: Flat, B: Flat, C: Flat, D: Flat, E: Flat> Flat for (A, B, C, D, E) {
    fn push_to(&self, out: &mut Vec<f64>) {
        self.0.push_to(out);
        self.1.push_to(out);
        self.2.push_to(out);
        self.3.push_to(out);
        self.4.push_to(out);
    }
}
