//! Function 5: a 1,000-step scalar recurrence, a one-unit RNN h ← tanh(w h + u xᵢ + b) over a
//! fixed input sequence, with a squared loss on the last state.

use grad::differentiable;
use num_dual::DualNum;
use reverse::Var;

pub const STEPS: usize = 1000;

#[differentiable]
pub fn rnn(w: f64, u: f64, b: f64) -> f64 {
    let mut h = 0.0;
    for i in 0..1000 {
        let input = (i as f64 * 0.01).sin();
        h = (w * h + u * input + b).tanh();
    }
    (h - 0.5) * (h - 0.5)
}

/// Backpropagation through time by hand: the forward sweep stores the states and inputs,
/// the reverse sweep reads them.
pub fn hand(w: f64, u: f64, b: f64) -> [f64; 3] {
    let mut hs = [0.0; STEPS + 1];
    let mut xs = [0.0; STEPS];
    for i in 0..STEPS {
        xs[i] = (i as f64 * 0.01).sin();
        hs[i + 1] = (w * hs[i] + u * xs[i] + b).tanh();
    }
    let mut adj = 2.0 * (hs[STEPS] - 0.5);
    let (mut dw, mut du, mut db) = (0.0, 0.0, 0.0);
    for i in (0..STEPS).rev() {
        let d = adj * (1.0 - hs[i + 1] * hs[i + 1]);
        dw += d * hs[i];
        du += d * xs[i];
        db += d;
        adj = d * w;
    }
    [dw, du, db]
}

pub fn dual<D: DualNum<f64> + Copy>(p: &[D; 3]) -> D {
    let (w, u, b) = (p[0], p[1], p[2]);
    let mut h = D::from(0.0);
    for i in 0..STEPS {
        let input = (i as f64 * 0.01).sin();
        h = (w * h + u * input + b).tanh();
    }
    let e = h - 0.5;
    e * e
}

pub fn tape<'t>(p: &[Var<'t>]) -> Var<'t> {
    let (w, u, b) = (p[0], p[1], p[2]);
    // The first step from h = 0 with the input sin(0) = 0 is tanh(b), without the two
    // nodes that multiply by zero.
    let mut h = b.tanh();
    for i in 1..STEPS {
        let input = (i as f64 * 0.01).sin();
        h = (w * h + u * input + b).tanh();
    }
    let e = h - 0.5;
    e * e
}
