//! The gradient benchmark suite: grad's generated gradients against the primal, a careful
//! hand-written gradient, central finite differences, forward mode with `num-dual`, and the
//! tape-based reverse mode of the `reverse` crate, on seven functions; then a compile-time
//! benchmark of the macro itself. It writes `BENCHMARKS.md` at the repository root.
//!
//! Run with `cargo bench --bench gradients` (a few minutes). `GRAD_BENCH_COMPILE=0` skips the
//! compile-time section and keeps the one saved by the last run that did it. A name filter
//! (`cargo bench --bench gradients -- rosenbrock`) runs only the matching benchmarks; the
//! report then marks the others as not run.
//!
//! Every peer's gradient is checked against the hand-written one before anything is timed
//! (grad, num-dual and the tape to 1e-9 relative, finite differences to 1e-5), so a wrong
//! gradient stops the run instead of being timed.

// The models are written with index loops, the way the math is written.
#![allow(clippy::needless_range_loop)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use grad::differentiable;
use nalgebra::{Const, U1};
use num_dual::{Derivative, Dual64, DualNum, DualSVec64};
use reverse::{Gradient, Tape, Var};

// ---------------------------------------------------------------------------------------------
// The functions. Each module holds the `#[differentiable]` primal (grad's input, also the
// primal peer), the hand-written gradient, the same function generic over `DualNum<f64>` for
// num-dual, and over `reverse::Var` for the tape.
// ---------------------------------------------------------------------------------------------

/// Function 1: the seed's sigmoid neuron, f = 1 / (1 + e^-(w0 x0 + w1 x1 + w2)), five
/// inputs.
mod neuron {
    use super::*;

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
}

/// Function 2: Rosenbrock's function in N dimensions.
mod rosenbrock {
    use super::*;

    #[differentiable]
    pub fn rosenbrock<const N: usize>(x: &[f64; N]) -> f64 {
        let mut s = 0.0;
        for i in 0..N - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            s += 100.0 * a * a + b * b;
        }
        s
    }

    /// The same function, its array taken by value.
    #[differentiable]
    pub fn rosenbrock_by_value<const N: usize>(x: [f64; N]) -> f64 {
        let mut s = 0.0;
        for i in 0..N - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            s += 100.0 * a * a + b * b;
        }
        s
    }

    pub fn hand<const N: usize>(x: &[f64; N]) -> [f64; N] {
        let mut g = [0.0; N];
        for i in 0..N - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            g[i] += -400.0 * x[i] * a - 2.0 * b;
            g[i + 1] += 200.0 * a;
        }
        g
    }

    pub fn dual<D: DualNum<f64> + Copy, const N: usize>(x: &[D; N]) -> D {
        let mut s = D::from(0.0);
        for i in 0..N - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = -x[i] + 1.0;
            s += a * a * 100.0 + b * b;
        }
        s
    }

    pub fn tape<'t>(x: &[Var<'t>]) -> Var<'t> {
        (0..x.len() - 1)
            .map(|i| {
                let a = x[i + 1] - x[i] * x[i];
                let b = 1.0 - x[i];
                100.0 * a * a + b * b
            })
            .sum()
    }
}

/// Function 3: a dense layer with a sigmoid and a squared loss; the gradient is with respect
/// to the weights and biases only.
mod dense {
    use super::*;

    /// The arrays by reference, as the hand-written gradient takes them: a 32 KB matrix is
    /// read in place instead of being copied in on every call.
    #[differentiable(wrt(w, b))]
    pub fn dense_loss<const M: usize, const N: usize>(
        w: &[[f64; N]; M],
        b: &[f64; M],
        x: &[f64; N],
        target: &[f64; M],
    ) -> f64 {
        let mut z = [0.0; M];
        for i in 0..M {
            z[i] = b[i];
            for j in 0..N {
                z[i] += w[i][j] * x[j];
            }
        }
        let mut loss = 0.0;
        for i in 0..M {
            let a = grad::sigmoid(z[i]);
            loss += (a - target[i]) * (a - target[i]);
        }
        0.5 * loss
    }

    /// The same function with its arrays by value.
    #[differentiable(wrt(w, b))]
    pub fn dense_loss_by_value<const M: usize, const N: usize>(
        w: [[f64; N]; M],
        b: [f64; M],
        x: [f64; N],
        target: [f64; M],
    ) -> f64 {
        let mut z = [0.0; M];
        for i in 0..M {
            z[i] = b[i];
            for j in 0..N {
                z[i] += w[i][j] * x[j];
            }
        }
        let mut loss = 0.0;
        for i in 0..M {
            let a = grad::sigmoid(z[i]);
            loss += (a - target[i]) * (a - target[i]);
        }
        0.5 * loss
    }

    /// Backpropagation by hand: δ = (a - t) a (1 - a), ∂L/∂W = δ xᵀ, ∂L/∂b = δ.
    #[allow(clippy::type_complexity)]
    pub fn hand<const M: usize, const N: usize>(
        w: &[[f64; N]; M],
        b: &[f64; M],
        x: &[f64; N],
        target: &[f64; M],
    ) -> ([[f64; N]; M], [f64; M]) {
        let mut dw = [[0.0; N]; M];
        let mut db = [0.0; M];
        for i in 0..M {
            let mut z = b[i];
            for j in 0..N {
                z += w[i][j] * x[j];
            }
            let a = grad::sigmoid(z);
            let delta = (a - target[i]) * a * (1.0 - a);
            db[i] = delta;
            for j in 0..N {
                dw[i][j] = delta * x[j];
            }
        }
        (dw, db)
    }

    pub fn dual<D: DualNum<f64> + Copy, const M: usize, const N: usize>(
        w: &[[D; N]; M],
        b: &[D; M],
        x: &[f64; N],
        target: &[f64; M],
    ) -> D {
        let mut loss = D::from(0.0);
        for i in 0..M {
            let mut z = b[i];
            for j in 0..N {
                z += w[i][j] * x[j];
            }
            let a = (D::from(1.0) + (-z).exp()).recip();
            let e = a - target[i];
            loss += e * e;
        }
        loss * 0.5
    }

    /// `w` flattened row by row.
    pub fn tape<'t>(w: &[Var<'t>], b: &[Var<'t>], x: &[f64], target: &[f64]) -> Var<'t> {
        let n = x.len();
        (0..b.len())
            .map(|i| {
                let z = (0..n).fold(b[i], |z, j| z + w[i * n + j] * x[j]);
                let a = (1.0 + (-z).exp()).recip();
                let e = a - target[i];
                e * e
            })
            .sum::<Var<'t>>()
            * 0.5
    }
}

/// Function 4: softmax cross-entropy with a max-shifted log-sum-exp.
mod softmax {
    use super::*;

    #[differentiable]
    pub fn cross_entropy<const N: usize>(z: &[f64; N], label: usize) -> f64 {
        let mut m = z[0];
        for i in 1..N {
            m = m.max(z[i]);
        }
        let mut s = 0.0;
        for i in 0..N {
            s += (z[i] - m).exp();
        }
        s.ln() + m - z[label]
    }

    /// The same function, its array taken by value.
    #[differentiable]
    pub fn cross_entropy_by_value<const N: usize>(z: [f64; N], label: usize) -> f64 {
        let mut m = z[0];
        for i in 1..N {
            m = m.max(z[i]);
        }
        let mut s = 0.0;
        for i in 0..N {
            s += (z[i] - m).exp();
        }
        s.ln() + m - z[label]
    }

    /// The same loss through grad's `log_sum_exp` helper.
    #[differentiable]
    pub fn cross_entropy_lse<const N: usize>(z: [f64; N], label: usize) -> f64 {
        grad::log_sum_exp(z) - z[label]
    }

    /// softmax(z) - onehot(label).
    pub fn hand<const N: usize>(z: &[f64; N], label: usize) -> [f64; N] {
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut g = [0.0; N];
        let mut s = 0.0;
        for i in 0..N {
            g[i] = (z[i] - m).exp();
            s += g[i];
        }
        let inv = 1.0 / s;
        for gi in g.iter_mut() {
            *gi *= inv;
        }
        g[label] -= 1.0;
        g
    }

    pub fn dual<D: DualNum<f64> + Copy, const N: usize>(z: &[D; N], label: usize) -> D {
        let mut m = z[0];
        for i in 1..N {
            if z[i].re() > m.re() {
                m = z[i];
            }
        }
        let mut s = D::from(0.0);
        for i in 0..N {
            s += (z[i] - m).exp();
        }
        s.ln() + m - z[label]
    }

    /// The shift m is taken from the values: a constant shift leaves the gradient exact, and
    /// `reverse` has no `max`.
    pub fn tape<'t>(z: &[Var<'t>], label: usize) -> Var<'t> {
        let m = z.iter().map(|v| v.val()).fold(f64::NEG_INFINITY, f64::max);
        let s: Var<'t> = z.iter().map(|&zi| (zi - m).exp()).sum();
        s.ln() + m - z[label]
    }
}

/// Function 5: a 1,000-step scalar recurrence, a one-unit RNN h ← tanh(w h + u xᵢ + b) over a
/// fixed input sequence, with a squared loss on the last state.
mod recurrence {
    use super::*;

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
}

/// Function 6: the pairwise Lennard-Jones energy of P particles in 3-D (ε = σ = 1).
mod lennard_jones {
    use super::*;

    #[differentiable]
    pub fn energy<const P: usize>(pos: [[f64; 3]; P]) -> f64 {
        let mut e = 0.0;
        for i in 0..P {
            for j in i + 1..P {
                let dx = pos[i][0] - pos[j][0];
                let dy = pos[i][1] - pos[j][1];
                let dz = pos[i][2] - pos[j][2];
                let r2 = dx * dx + dy * dy + dz * dz;
                let s6 = 1.0 / (r2 * r2 * r2);
                e += 4.0 * (s6 * s6 - s6);
            }
        }
        e
    }

    /// The forces, by hand: ∂E/∂rᵢ = Σⱼ -24 s⁶ (2 s⁶ - 1) / r² · (rᵢ - rⱼ).
    pub fn hand<const P: usize>(pos: &[[f64; 3]; P]) -> [[f64; 3]; P] {
        let mut g = [[0.0; 3]; P];
        for i in 0..P {
            for j in i + 1..P {
                let d = [
                    pos[i][0] - pos[j][0],
                    pos[i][1] - pos[j][1],
                    pos[i][2] - pos[j][2],
                ];
                let inv = 1.0 / (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
                let s6 = inv * inv * inv;
                let f = -24.0 * s6 * (2.0 * s6 - 1.0) * inv;
                for k in 0..3 {
                    g[i][k] += f * d[k];
                    g[j][k] -= f * d[k];
                }
            }
        }
        g
    }

    pub fn dual<D: DualNum<f64> + Copy, const P: usize>(pos: &[[D; 3]; P]) -> D {
        let mut e = D::from(0.0);
        for i in 0..P {
            for j in i + 1..P {
                let dx = pos[i][0] - pos[j][0];
                let dy = pos[i][1] - pos[j][1];
                let dz = pos[i][2] - pos[j][2];
                let r2 = dx * dx + dy * dy + dz * dz;
                let s6 = (r2 * r2 * r2).recip();
                e += (s6 * s6 - s6) * 4.0;
            }
        }
        e
    }

    /// `pos` flattened particle by particle.
    pub fn tape<'t>(pos: &[Var<'t>]) -> Var<'t> {
        let p = pos.len() / 3;
        let mut terms = Vec::with_capacity(p * (p - 1) / 2);
        for i in 0..p {
            for j in i + 1..p {
                let dx = pos[3 * i] - pos[3 * j];
                let dy = pos[3 * i + 1] - pos[3 * j + 1];
                let dz = pos[3 * i + 2] - pos[3 * j + 2];
                let r2 = dx * dx + dy * dy + dz * dz;
                let s6 = (r2 * r2 * r2).recip();
                terms.push(4.0 * (s6 * s6 - s6));
            }
        }
        terms.into_iter().sum()
    }
}

/// Function 7: the log-likelihood of N data points under a Gaussian, as a function of the mean
/// and of log σ; the data are a constant parameter.
mod gaussian {
    use super::*;

    /// ½ ln(2π).
    pub const HALF_LN_TAU: f64 = 0.918_938_533_204_672_8;

    #[differentiable(wrt(mu, log_sigma))]
    pub fn log_likelihood(mu: f64, log_sigma: f64, data: &[f64]) -> f64 {
        let inv_sigma = (-log_sigma).exp();
        let mut total = 0.0;
        for i in 0..data.len() {
            let r = (data[i] - mu) * inv_sigma;
            total -= 0.5 * r * r;
        }
        total - data.len() as f64 * (log_sigma + HALF_LN_TAU)
    }

    /// ∂/∂μ = Σ rᵢ / σ and ∂/∂ log σ = Σ rᵢ² - N, with rᵢ = (xᵢ - μ) / σ.
    pub fn hand(mu: f64, log_sigma: f64, data: &[f64]) -> [f64; 2] {
        let inv_sigma = (-log_sigma).exp();
        let (mut sum_r, mut sum_rr) = (0.0, 0.0);
        for &x in data {
            let r = (x - mu) * inv_sigma;
            sum_r += r;
            sum_rr += r * r;
        }
        [sum_r * inv_sigma, sum_rr - data.len() as f64]
    }

    pub fn dual<D: DualNum<f64> + Copy>(p: &[D; 2], data: &[f64]) -> D {
        let (mu, log_sigma) = (p[0], p[1]);
        let inv_sigma = (-log_sigma).exp();
        let mut total = D::from(0.0);
        for &x in data {
            let r = (-mu + x) * inv_sigma;
            total -= r * r * 0.5;
        }
        total - (log_sigma + HALF_LN_TAU) * data.len() as f64
    }

    pub fn tape<'t>(p: &[Var<'t>], data: &[f64]) -> Var<'t> {
        let (mu, log_sigma) = (p[0], p[1]);
        let inv_sigma = (-log_sigma).exp();
        let total: Var<'t> = data
            .iter()
            .map(|&x| {
                let r = (x - mu) * inv_sigma;
                -0.5 * r * r
            })
            .sum();
        total - (log_sigma + HALF_LN_TAU) * data.len() as f64
    }
}

// ---------------------------------------------------------------------------------------------
// The generic peers.
// ---------------------------------------------------------------------------------------------

/// Central finite differences, one coordinate at a time: 2 primal calls per input, with the
/// step ∛ε · max(|x|, 1) that balances truncation and rounding error. `at(p, i)` is input i.
fn central_difference<P>(
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
fn dual_passes<P>(
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
fn seed_vec<const N: usize>(value: f64, i: usize) -> DualSVec64<N> {
    DualSVec64::new(value, Derivative::derivative_generic(Const::<N>, U1, i))
}

fn unseed_vec<const N: usize>(y: DualSVec64<N>) -> Vec<f64> {
    y.eps
        .unwrap_generic(Const::<N>, U1)
        .iter()
        .copied()
        .collect()
}

/// One tape per benchmark, cleared before each gradient (so its buffer is reused).
fn tape_gradient(
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
trait Flat {
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

// ---------------------------------------------------------------------------------------------
// Measuring, and recording what was measured.
// ---------------------------------------------------------------------------------------------

/// The peers, in report order: criterion id and label.
const PEERS: &[(&str, &str)] = &[
    ("primal", "primal (value only)"),
    ("hand", "hand-written gradient (reference)"),
    ("grad", "grad `_grad`"),
    ("grad_lse", "grad `_grad`, through `grad::log_sum_exp`"),
    ("grad_by_value", "grad `_grad`, the arrays by value"),
    ("fd", "central finite differences (2N primal calls)"),
    ("dual", "num-dual `Dual64`, one pass per input"),
    ("dual_vec", "num-dual `DualSVec64<N>`, one vector pass"),
    ("tape", "`reverse` tape (`Var`)"),
];

fn peer_label(id: &str) -> &'static str {
    PEERS
        .iter()
        .find(|(peer, _)| *peer == id)
        .map_or("?", |(_, label)| label)
}

struct Row {
    id: &'static str,
    /// Criterion's ids of this peer's measurements, one per round it was measured in.
    rounds: Vec<String>,
    /// Fewer samples (criterion's flat sampling, 10 samples) because one call is slow.
    reduced: bool,
    /// Largest error against the hand-written gradient, relative to its largest entry.
    error: Option<f64>,
    /// Median time per call, filled in from criterion's estimates after the run (for peers
    /// measured in several rounds, the least of the rounds' medians).
    ns: Option<f64>,
    /// For the primal, the hand-written gradient and grad's: the time per call of the
    /// fastest batch when the three take turns (see `Function::take_turns`).
    in_turns_ns: Option<f64>,
}

/// How many times the peers that the headline ratios compare (the primal, the hand-written
/// gradient and grad's) are measured, each time in a pass over the whole suite. The machine
/// is shared, and load from elsewhere only ever adds time, for seconds at a stretch: the
/// least of the rounds' medians is the measurement least disturbed by it.
const ROUNDS: usize = 5;

/// The peers that also take turns in the cross-check of the headline ratios.
const IN_TURNS: &[&str] = &["primal", "hand", "grad"];

/// How long the peers of one function take turns, in all.
const IN_TURNS_BUDGET: Duration = Duration::from_millis(600);

/// The peers measured in every round; the others are 5× to 3,000× apart and measured once.
fn measured_every_round(id: &str) -> bool {
    matches!(
        id,
        "primal" | "hand" | "grad" | "grad_lse" | "grad_by_value"
    )
}

struct FunctionReport {
    group: String,
    title: String,
    inputs: usize,
    rows: Vec<Row>,
    notes: Vec<String>,
}

struct Suite {
    criterion: Criterion,
    functions: Vec<FunctionReport>,
    /// The pass over the suite being run (see `ROUNDS`).
    round: usize,
    /// Timing, rather than running each benchmark once as a test.
    benchmarking: bool,
}

struct Function<'a> {
    group: BenchmarkGroup<'a, WallTime>,
    report: FunctionReport,
    functions: &'a mut Vec<FunctionReport>,
    round: usize,
    benchmarking: bool,
    /// The peers of `IN_TURNS`, kept from `measure` for `take_turns`.
    turns: Vec<(&'static str, Calls<'a>)>,
}

/// A batch of calls of a peer, their results discarded through `black_box`. The loop is
/// inside, so that the calls are direct (an indirect call per call would cost the 2 ns
/// functions half their time).
type Calls<'a> = Box<dyn FnMut(u32) + 'a>;

impl Suite {
    fn function(&mut self, group: &str, title: &str, inputs: usize) -> Function<'_> {
        let mut benchmark_group = self.criterion.benchmark_group(group);
        benchmark_group.nresamples(20_000);
        Function {
            group: benchmark_group,
            report: FunctionReport {
                group: group.to_string(),
                title: title.to_string(),
                inputs,
                rows: Vec::new(),
                notes: Vec::new(),
            },
            functions: &mut self.functions,
            round: self.round,
            benchmarking: self.benchmarking,
            turns: Vec::new(),
        }
    }
}

impl<'a> Function<'a> {
    /// Checks a peer's gradient against the hand-written one, and panics if they disagree.
    fn check(&mut self, id: &'static str, got: &[f64], want: &[f64], tolerance: f64) {
        assert_eq!(
            got.len(),
            want.len(),
            "{}: {id} has the wrong length",
            self.report.group
        );
        let scale = want.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let error = got
            .iter()
            .zip(want)
            .fold(0.0_f64, |m, (g, w)| m.max((g - w).abs()))
            / scale.max(f64::MIN_POSITIVE);
        assert!(
            error <= tolerance,
            "{}: {id}'s gradient differs from the hand-written one by {error:e} (relative), \
             more than {tolerance:e}",
            self.report.group
        );
        self.row(id).error = Some(error);
    }

    fn row(&mut self, id: &'static str) -> &mut Row {
        let rows = &mut self.report.rows;
        let at = match rows.iter().position(|r| r.id == id) {
            Some(at) => at,
            None => {
                rows.push(Row {
                    id,
                    rounds: Vec::new(),
                    reduced: false,
                    error: None,
                    ns: None,
                    in_turns_ns: None,
                });
                rows.len() - 1
            }
        };
        &mut rows[at]
    }

    /// Times `f` with criterion.
    fn measure<O>(&mut self, id: &'static str, f: impl FnMut() -> O) {
        self.measure_with(id, f);
    }

    /// `measure`, and keeps `f` for `take_turns`, for the peers of `IN_TURNS`.
    fn measure_in_turns<O>(&mut self, id: &'static str, f: impl FnMut() -> O + 'a) {
        if let Some(mut f) = self.measure_with(id, f) {
            if IN_TURNS.contains(&id) && self.round == 0 && self.benchmarking {
                self.turns.push((
                    id,
                    Box::new(move |calls| {
                        for _ in 0..calls {
                            black_box(f());
                        }
                    }),
                ));
            }
        }
    }

    /// Times `f` with criterion, and hands it back if it ran. A call slower than 200 µs gets
    /// 10 samples of flat sampling and a short measurement instead of 50 samples.
    fn measure_with<O, F: FnMut() -> O>(&mut self, id: &'static str, mut f: F) -> Option<F> {
        if self.round > 0 && !measured_every_round(id) {
            return None;
        }
        black_box(f());
        let start = Instant::now();
        black_box(f());
        let once = start.elapsed();
        let reduced = once > Duration::from_micros(200);
        if reduced {
            self.group
                .sample_size(10)
                .sampling_mode(SamplingMode::Flat)
                .warm_up_time(Duration::from_millis(100))
                .measurement_time((once * 12).max(Duration::from_millis(500)));
        } else {
            self.group
                .sample_size(50)
                .sampling_mode(SamplingMode::Auto)
                .warm_up_time(Duration::from_millis(400))
                .measurement_time(Duration::from_millis(1200));
        }
        let round_id = match self.round {
            0 => id.to_string(),
            round => format!("{id}~{round}"),
        };
        self.group.bench_function(&round_id, |b| b.iter(&mut f));
        let row = self.row(id);
        row.reduced = reduced;
        row.rounds.push(round_id);
        Some(f)
    }

    /// The cross-check of the headline ratios: the primal, the hand-written gradient and
    /// grad's take turns, a batch of about 20 µs of calls each, over and over for
    /// `IN_TURNS_BUDGET`, and each keeps its fastest batch. Criterion measures one peer for
    /// seconds, then the next, so load from elsewhere that comes and goes falls on one peer
    /// and not the other; in turns, all three see the same machine, and the fastest batch is
    /// the one least disturbed.
    fn take_turns(&mut self) {
        if self.turns.is_empty() {
            return;
        }
        let batch = Duration::from_micros(20);
        let sizes: Vec<u32> = self
            .turns
            .iter_mut()
            .map(|(_, calls)| {
                let mut size = 1u32;
                loop {
                    let start = Instant::now();
                    calls(size);
                    if start.elapsed() >= batch || size >= 1 << 20 {
                        break size;
                    }
                    size *= 2;
                }
            })
            .collect();
        let mut fastest = vec![f64::INFINITY; self.turns.len()];
        let start = Instant::now();
        while start.elapsed() < IN_TURNS_BUDGET {
            for ((_, calls), (size, fastest)) in self
                .turns
                .iter_mut()
                .zip(sizes.iter().zip(fastest.iter_mut()))
            {
                let batch_start = Instant::now();
                calls(*size);
                let per_call = batch_start.elapsed().as_secs_f64() * 1e9 / f64::from(*size);
                *fastest = fastest.min(per_call);
            }
        }
        let ids: Vec<&'static str> = self.turns.iter().map(|(id, _)| *id).collect();
        for (id, ns) in ids.into_iter().zip(fastest) {
            self.row(id).in_turns_ns = Some(ns);
        }
        self.turns.clear();
    }

    fn note(&mut self, note: impl Into<String>) {
        self.report.notes.push(note.into());
    }

    fn finish(mut self) {
        self.take_turns();
        let order = |id: &str| PEERS.iter().position(|(p, _)| *p == id);
        self.report.rows.sort_by_key(|r| order(r.id));
        self.group.finish();
        // A later round adds its measurements to the rows of the first.
        match self
            .functions
            .iter_mut()
            .find(|f| f.group == self.report.group)
        {
            Some(first) => {
                for row in self.report.rows {
                    if let Some(earlier) = first.rows.iter_mut().find(|r| r.id == row.id) {
                        earlier.rounds.extend(row.rounds);
                    }
                }
            }
            None => self.functions.push(self.report),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The suite.
// ---------------------------------------------------------------------------------------------

fn bench_neuron(suite: &mut Suite) {
    use neuron::*;
    let p = [2.0, -1.0, -3.0, -2.0, -3.0];
    let want = hand(p[0], p[1], p[2], p[3], p[4]).flat();
    let mut f = suite.function(
        "neuron",
        "Sigmoid neuron (the seed's example): f = 1/(1+exp(-(w0 x0 + w1 x1 + w2)))",
        5,
    );
    let primal = |p: &[f64; 5]| neuron(p[0], p[1], p[2], p[3], p[4]);
    let tape_ = Tape::new();
    f.check(
        "grad",
        &neuron_grad(p[0], p[1], p[2], p[3], p[4]).flat(),
        &want,
        1e-9,
    );
    let fd = |p: &[f64; 5]| central_difference(&mut { *p }, 5, |p, i| &mut p[i], primal);
    f.check("fd", &fd(&p), &want, 1e-5);
    let passes = |p: &[f64; 5]| {
        let mut d = p.map(Dual64::from_re);
        dual_passes(&mut d, 5, |d, i| &mut d[i], dual)
    };
    f.check("dual", &passes(&p), &want, 1e-9);
    let vector = |p: &[f64; 5]| {
        unseed_vec(dual::<DualSVec64<5>>(&std::array::from_fn(|i| {
            seed_vec(p[i], i)
        })))
    };
    f.check("dual_vec", &vector(&p), &want, 1e-9);
    f.check("tape", &tape_gradient(&tape_, &p, tape), &want, 1e-9);

    f.measure_in_turns("primal", || primal(black_box(&p)));
    f.measure_in_turns("hand", || {
        let p = black_box(&p);
        hand(p[0], p[1], p[2], p[3], p[4])
    });
    f.measure_in_turns("grad", || {
        let p = black_box(&p);
        neuron_grad(p[0], p[1], p[2], p[3], p[4])
    });
    f.measure("fd", || fd(black_box(&p)));
    f.measure("dual", || passes(black_box(&p)));
    f.measure("dual_vec", || vector(black_box(&p)));
    f.measure("tape", || tape_gradient(&tape_, black_box(&p), tape));
    f.finish();
}

fn rosenbrock_point<const N: usize>() -> [f64; N] {
    std::array::from_fn(|i| 0.5 + 0.7 * (1.3 * i as f64).sin())
}

/// A gradient of N inputs from one num-dual vector pass.
type VectorMode<const N: usize> = fn(&[f64; N]) -> Vec<f64>;

fn bench_rosenbrock<const N: usize>(suite: &mut Suite, vector: Option<VectorMode<N>>) {
    use rosenbrock::*;
    let x = rosenbrock_point::<N>();
    let want = hand(&x).flat();
    let mut f = suite.function(
        &format!("rosenbrock_{N}"),
        &format!("Rosenbrock, N = {N} (`fn rosenbrock<const N: usize>(x: &[f64; N]) -> f64`)"),
        N,
    );
    let tape_ = Tape::new();
    f.check("grad", &rosenbrock_grad(&x).flat(), &want, 1e-9);
    f.check(
        "grad_by_value",
        &rosenbrock_by_value_grad(x).flat(),
        &want,
        1e-9,
    );
    let fd = |x: &[f64; N]| central_difference(&mut { *x }, N, |x, i| &mut x[i], rosenbrock);
    f.check("fd", &fd(&x), &want, 1e-5);
    let passes = |x: &[f64; N]| {
        let mut d = x.map(Dual64::from_re);
        dual_passes(&mut d, N, |d, i| &mut d[i], dual)
    };
    f.check("dual", &passes(&x), &want, 1e-9);
    if let Some(vector) = vector {
        f.check("dual_vec", &vector(&x), &want, 1e-9);
    }
    f.check("tape", &tape_gradient(&tape_, &x, tape), &want, 1e-9);

    f.measure_in_turns("primal", || rosenbrock(black_box(&x)));
    f.measure_in_turns("hand", || hand(black_box(&x)));
    f.measure_in_turns("grad", || rosenbrock_grad(black_box(&x)));
    f.measure("grad_by_value", || rosenbrock_by_value_grad(*black_box(&x)));
    f.measure("fd", || fd(black_box(&x)));
    f.measure("dual", || passes(black_box(&x)));
    if let Some(vector) = vector {
        f.measure("dual_vec", || vector(black_box(&x)));
    } else {
        f.note(format!(
            "No `DualSVec64<{N}>` peer: each number would carry {N} tangents ({} KB), so one \
             vector pass moves O(N²) memory through the stack; the scalar `Dual64` passes are \
             the faster forward mode here.",
            N * 8 / 1000
        ));
    }
    f.measure("tape", || tape_gradient(&tape_, black_box(&x), tape));
    f.finish();
}

fn rosenbrock_vector<const N: usize>(x: &[f64; N]) -> Vec<f64> {
    let d: [DualSVec64<N>; N] = std::array::from_fn(|i| seed_vec(x[i], i));
    unseed_vec(rosenbrock::dual(&d))
}

fn bench_dense(suite: &mut Suite) {
    use dense::*;
    const M: usize = 64;
    const N: usize = 64;
    let w: [[f64; N]; M] =
        std::array::from_fn(|i| std::array::from_fn(|j| 0.2 * ((i * N + j) as f64 * 0.61).sin()));
    let b: [f64; M] = std::array::from_fn(|i| 0.1 * (i as f64 * 1.7).cos());
    let x: [f64; N] = std::array::from_fn(|j| (j as f64 * 0.37).sin());
    let t: [f64; M] = std::array::from_fn(|i| if i % 3 == 0 { 1.0 } else { 0.0 });
    let want = hand(&w, &b, &x, &t).flat();
    let mut f = suite.function(
        "dense_64x64",
        "Dense layer 64×64 with sigmoid and squared loss, gradient with respect to W and b \
         (`wrt(w, b)`)",
        M * N + M,
    );
    let tape_ = Tape::new();
    f.check("grad", &dense_loss_grad(&w, &b, &x, &t).flat(), &want, 1e-9);
    f.check(
        "grad_by_value",
        &dense_loss_by_value_grad(w, b, x, t).flat(),
        &want,
        1e-9,
    );

    // Input k is W's entry k (row by row) for k < MN, then b's entry k - MN.
    type Params = ([[f64; N]; M], [f64; M]);
    fn at(p: &mut Params, k: usize) -> &mut f64 {
        if k < M * N {
            &mut p.0[k / N][k % N]
        } else {
            &mut p.1[k - M * N]
        }
    }
    let fd = |w: &[[f64; N]; M], b: &[f64; M]| {
        let mut p: Params = (*w, *b);
        central_difference(&mut p, M * N + M, at, |p| dense_loss(&p.0, &p.1, &x, &t))
    };
    f.check("fd", &fd(&w, &b), &want, 1e-5);

    type DualParams = ([[Dual64; N]; M], [Dual64; M]);
    fn dual_at(p: &mut DualParams, k: usize) -> &mut Dual64 {
        if k < M * N {
            &mut p.0[k / N][k % N]
        } else {
            &mut p.1[k - M * N]
        }
    }
    let passes = |w: &[[f64; N]; M], b: &[f64; M]| {
        let mut p: DualParams = (
            w.map(|row| row.map(Dual64::from_re)),
            b.map(Dual64::from_re),
        );
        dual_passes(&mut p, M * N + M, dual_at, |p| dual(&p.0, &p.1, &x, &t))
    };
    f.check("dual", &passes(&w, &b), &want, 1e-9);

    let taped = |w: &[[f64; N]; M], b: &[f64; M]| {
        tape_.clear();
        let wv = tape_.add_vars(w.as_flattened());
        let bv = tape_.add_vars(b);
        let gradient = tape(&wv, &bv, &x, &t).grad();
        let mut out = gradient.wrt(wv.as_slice());
        out.extend(gradient.wrt(bv.as_slice()));
        out
    };
    f.check("tape", &taped(&w, &b), &want, 1e-9);

    f.measure_in_turns("primal", || {
        dense_loss(black_box(&w), black_box(&b), &x, &t)
    });
    f.measure_in_turns("hand", || hand(black_box(&w), black_box(&b), &x, &t));
    f.measure_in_turns("grad", || {
        dense_loss_grad(black_box(&w), black_box(&b), &x, &t)
    });
    f.measure("grad_by_value", || {
        dense_loss_by_value_grad(*black_box(&w), *black_box(&b), x, t)
    });
    f.measure("fd", || fd(black_box(&w), black_box(&b)));
    f.measure("dual", || passes(black_box(&w), black_box(&b)));
    f.note("No `DualSVec64` peer: 4,160 inputs would make every dual number 33 KB.".to_string());
    f.measure("tape", || taped(black_box(&w), black_box(&b)));
    f.finish();
}

fn bench_softmax(suite: &mut Suite) {
    use softmax::*;
    const N: usize = 100;
    let z: [f64; N] = std::array::from_fn(|i| 3.0 * (i as f64 * 0.77).sin());
    let label = 17;
    let want = hand(&z, label).flat();
    let mut f = suite.function(
        "softmax_ce_100",
        "Softmax cross-entropy, N = 100 (max-shifted log-sum-exp)",
        N,
    );
    let tape_ = Tape::new();
    f.check("grad", &cross_entropy_grad(&z, label).flat(), &want, 1e-9);
    f.check(
        "grad_by_value",
        &cross_entropy_by_value_grad(z, label).flat(),
        &want,
        1e-9,
    );
    f.check(
        "grad_lse",
        &cross_entropy_lse_grad(z, label).flat(),
        &want,
        1e-9,
    );
    let fd = |z: &[f64; N]| {
        central_difference(
            &mut { *z },
            N,
            |z, i| &mut z[i],
            |z| cross_entropy(z, label),
        )
    };
    f.check("fd", &fd(&z), &want, 1e-5);
    let passes = |z: &[f64; N]| {
        let mut d = z.map(Dual64::from_re);
        dual_passes(&mut d, N, |d, i| &mut d[i], |d| dual(d, label))
    };
    f.check("dual", &passes(&z), &want, 1e-9);
    let vector = |z: &[f64; N]| {
        let d: [DualSVec64<N>; N] = std::array::from_fn(|i| seed_vec(z[i], i));
        unseed_vec(dual(&d, label))
    };
    f.check("dual_vec", &vector(&z), &want, 1e-9);
    let taped = |z: &[f64; N]| tape_gradient(&tape_, z, |v| tape(v, label));
    f.check("tape", &taped(&z), &want, 1e-9);

    f.measure_in_turns("primal", || cross_entropy(black_box(&z), label));
    f.measure_in_turns("hand", || hand(black_box(&z), label));
    f.measure_in_turns("grad", || cross_entropy_grad(black_box(&z), label));
    f.measure("grad_by_value", || {
        cross_entropy_by_value_grad(*black_box(&z), label)
    });
    f.measure("grad_lse", || cross_entropy_lse_grad(*black_box(&z), label));
    f.measure("fd", || fd(black_box(&z)));
    f.measure("dual", || passes(black_box(&z)));
    f.measure("dual_vec", || vector(black_box(&z)));
    f.measure("tape", || taped(black_box(&z)));
    f.finish();
}

fn bench_recurrence(suite: &mut Suite) {
    use recurrence::*;
    let p = [0.9, 0.5, 0.1];
    let want = hand(p[0], p[1], p[2]).flat();
    let mut f = suite.function(
        "recurrence_1000",
        "1,000-step scalar recurrence h ← tanh(w h + u sin(0.01 i) + b), loss (h - 0.5)²",
        3,
    );
    let tape_ = Tape::new();
    f.check("grad", &rnn_grad(p[0], p[1], p[2]).flat(), &want, 1e-9);
    let primal = |p: &[f64; 3]| rnn(p[0], p[1], p[2]);
    let fd = |p: &[f64; 3]| central_difference(&mut { *p }, 3, |p, i| &mut p[i], primal);
    f.check("fd", &fd(&p), &want, 1e-5);
    let passes = |p: &[f64; 3]| {
        let mut d = p.map(Dual64::from_re);
        dual_passes(&mut d, 3, |d, i| &mut d[i], dual)
    };
    f.check("dual", &passes(&p), &want, 1e-9);
    let vector = |p: &[f64; 3]| {
        unseed_vec(dual::<DualSVec64<3>>(&std::array::from_fn(|i| {
            seed_vec(p[i], i)
        })))
    };
    f.check("dual_vec", &vector(&p), &want, 1e-9);
    f.check("tape", &tape_gradient(&tape_, &p, tape), &want, 1e-9);

    f.measure_in_turns("primal", || primal(black_box(&p)));
    f.measure_in_turns("hand", || {
        let p = black_box(&p);
        hand(p[0], p[1], p[2])
    });
    f.measure_in_turns("grad", || {
        let p = black_box(&p);
        rnn_grad(p[0], p[1], p[2])
    });
    f.measure("fd", || fd(black_box(&p)));
    f.measure("dual", || passes(black_box(&p)));
    f.measure("dual_vec", || vector(black_box(&p)));
    f.measure("tape", || tape_gradient(&tape_, black_box(&p), tape));
    f.finish();
}

fn bench_lennard_jones(suite: &mut Suite) {
    use lennard_jones::*;
    const P: usize = 32;
    // A 4 × 4 × 2 lattice of spacing 1.15 (near the potential's minimum at 2^(1/6) ≈ 1.12),
    // jittered.
    let pos: [[f64; 3]; P] = std::array::from_fn(|i| {
        let cell = [i % 4, (i / 4) % 4, i / 16];
        std::array::from_fn(|k| 1.15 * cell[k] as f64 + 0.05 * ((3 * i + k) as f64 * 2.3).sin())
    });
    let want = hand(&pos).flat();
    let mut f = suite.function(
        "lennard_jones_32",
        "Lennard-Jones energy of 32 particles in 3-D (`[[f64; 3]; 32]`, nested loops over pairs)",
        3 * P,
    );
    let tape_ = Tape::new();
    f.check("grad", &energy_grad(pos).flat(), &want, 1e-9);
    let fd = |pos: &[[f64; 3]; P]| {
        central_difference(
            &mut { *pos },
            3 * P,
            |p, k| &mut p[k / 3][k % 3],
            |p| energy(*p),
        )
    };
    f.check("fd", &fd(&pos), &want, 1e-5);
    let passes = |pos: &[[f64; 3]; P]| {
        let mut d = pos.map(|r| r.map(Dual64::from_re));
        dual_passes(&mut d, 3 * P, |d, k| &mut d[k / 3][k % 3], dual)
    };
    f.check("dual", &passes(&pos), &want, 1e-9);
    let vector = |pos: &[[f64; 3]; P]| {
        let d: [[DualSVec64<{ 3 * P }>; 3]; P] =
            std::array::from_fn(|i| std::array::from_fn(|k| seed_vec(pos[i][k], 3 * i + k)));
        unseed_vec(dual(&d))
    };
    f.check("dual_vec", &vector(&pos), &want, 1e-9);
    let taped = |pos: &[[f64; 3]; P]| tape_gradient(&tape_, pos.as_flattened(), tape);
    f.check("tape", &taped(&pos), &want, 1e-9);

    f.measure_in_turns("primal", || energy(*black_box(&pos)));
    f.measure_in_turns("hand", || hand(black_box(&pos)));
    f.measure_in_turns("grad", || energy_grad(*black_box(&pos)));
    f.measure("fd", || fd(black_box(&pos)));
    f.measure("dual", || passes(black_box(&pos)));
    f.measure("dual_vec", || vector(black_box(&pos)));
    f.measure("tape", || taped(black_box(&pos)));
    f.finish();
}

fn bench_gaussian(suite: &mut Suite) {
    use gaussian::*;
    // 1,000 deterministic draws of N(1.5, 0.8²) (Box-Muller on a fixed xorshift sequence).
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let data: Vec<f64> = (0..1000)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            1.5 + 0.8 * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        })
        .collect();
    let p = [1.2, (0.7f64).ln()];
    let want = hand(p[0], p[1], &data).flat();
    let mut f = suite.function(
        "gaussian_ll_1000",
        "Gaussian log-likelihood of 1,000 data points, gradient with respect to μ and log σ \
         (`wrt(mu, log_sigma)`, the data a `&[f64]` constant)",
        2,
    );
    let tape_ = Tape::new();
    f.check(
        "grad",
        &log_likelihood_grad(p[0], p[1], &data).flat(),
        &want,
        1e-9,
    );
    let primal = |p: &[f64; 2]| log_likelihood(p[0], p[1], &data);
    let fd = |p: &[f64; 2]| central_difference(&mut { *p }, 2, |p, i| &mut p[i], primal);
    f.check("fd", &fd(&p), &want, 1e-5);
    let passes = |p: &[f64; 2]| {
        let mut d = p.map(Dual64::from_re);
        dual_passes(&mut d, 2, |d, i| &mut d[i], |d| dual(d, &data))
    };
    f.check("dual", &passes(&p), &want, 1e-9);
    let vector = |p: &[f64; 2]| {
        let d: [DualSVec64<2>; 2] = std::array::from_fn(|i| seed_vec(p[i], i));
        unseed_vec(dual(&d, &data))
    };
    f.check("dual_vec", &vector(&p), &want, 1e-9);
    let taped = |p: &[f64; 2]| tape_gradient(&tape_, p, |v| tape(v, &data));
    f.check("tape", &taped(&p), &want, 1e-9);

    f.measure_in_turns("primal", || primal(black_box(&p)));
    f.measure_in_turns("hand", || {
        let p = black_box(&p);
        hand(p[0], p[1], black_box(&data))
    });
    f.measure_in_turns("grad", || {
        let p = black_box(&p);
        log_likelihood_grad(p[0], p[1], black_box(&data))
    });
    f.measure("fd", || fd(black_box(&p)));
    f.measure("dual", || passes(black_box(&p)));
    f.measure("dual_vec", || vector(black_box(&p)));
    f.measure("tape", || taped(black_box(&p)));
    f.finish();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    // As criterion decides: `cargo bench` passes `--bench`; `cargo test --benches` does not,
    // and then every benchmark runs once, as a test.
    let benchmarking = has("--bench") && !has("--test") && !has("--list");
    let target = target_directory();
    let started = SystemTime::now();

    let criterion = Criterion::default()
        .without_plots()
        .output_directory(&target.join("criterion"))
        .configure_from_args();
    let mut suite = Suite {
        criterion,
        functions: Vec::new(),
        round: 0,
        benchmarking,
    };
    // `cargo test --benches` runs each benchmark once, as a test: one round is enough.
    let rounds = if benchmarking { ROUNDS } else { 1 };
    for round in 0..rounds {
        suite.round = round;
        bench_neuron(&mut suite);
        bench_rosenbrock::<2>(&mut suite, Some(rosenbrock_vector::<2>));
        bench_rosenbrock::<100>(&mut suite, Some(rosenbrock_vector::<100>));
        bench_rosenbrock::<1000>(&mut suite, None);
        bench_dense(&mut suite);
        bench_softmax(&mut suite);
        bench_recurrence(&mut suite);
        bench_lennard_jones(&mut suite);
        bench_gaussian(&mut suite);
    }
    suite.criterion.final_summary();
    if !benchmarking {
        return;
    }

    for function in &mut suite.functions {
        for row in &mut function.rows {
            let medians: Vec<f64> = row
                .rounds
                .iter()
                .filter_map(|id| {
                    let path = target
                        .join("criterion")
                        .join(&function.group)
                        .join(id)
                        .join("new/estimates.json");
                    read_median(&path, started)
                })
                .collect();
            row.ns = medians.into_iter().reduce(f64::min);
        }
    }
    let compile = match std::env::var("GRAD_BENCH_COMPILE").as_deref() {
        Ok("0") => compile_time::saved(&target),
        _ => compile_time::run(&target),
    };
    let markdown = report::render(&suite.functions, &compile);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    std::fs::write(&path, markdown).expect("write BENCHMARKS.md");
    println!("wrote {}", path.display());
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, or three levels above this executable
/// (`target/release/deps/gradients-…`).
fn target_directory() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)
        };
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The median time per iteration, in ns, from criterion's `estimates.json`, if this run wrote
/// it.
fn read_median(path: &Path, since: SystemTime) -> Option<f64> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let json = std::fs::read_to_string(path).ok()?;
    let median = &json[json.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

// ---------------------------------------------------------------------------------------------
// The compile-time benchmark.
// ---------------------------------------------------------------------------------------------

mod compile_time {
    //! Generated functions, expanded in-process and built as crates.
    //!
    //! The expansion is `grad_expand::differentiable` (grad-macro is a shim over it), called
    //! here on `proc_macro2` token streams. The build times come from `cargo build` of a crate
    //! in `target/compile-bench/crate` that depends on grad by path.

    use super::*;
    use std::process::Command;

    pub struct Case {
        pub name: String,
        pub description: String,
        pub source: String,
    }

    /// A deterministic xorshift generator.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// A straight-line function of `statements` `let`s over four inputs; each uses the
    /// previous value and one earlier value, so none is dead.
    pub fn straight_line(statements: usize) -> Case {
        let name = format!("straight_{statements}");
        let mut rng = Rng(0x5eed_0000 + statements as u64);
        let mut s = format!("pub fn {name}(x0: f64, x1: f64, x2: f64, x3: f64) -> f64 {{\n");
        let value = |k: usize| {
            if k < 4 {
                format!("x{k}")
            } else {
                format!("v{}", k - 4)
            }
        };
        for k in 0..statements {
            let a = if k == 0 {
                value(0)
            } else {
                format!("v{}", k - 1)
            };
            let b = value(rng.below(k + 4));
            let c = 0.1 + 0.1 * rng.below(9) as f64;
            let expr = match rng.below(8) {
                0 => format!("{a} * {b} * {c:.1}"),
                1 => format!("{a} + {c:.1} * {b}"),
                2 => format!("({a} - {b}).sin()"),
                3 => format!("{a}.tanh() * {b}"),
                4 => format!("({a} * {c:.1}).exp() - {b}"),
                5 => format!("{a} / ({b} * {b} + 1.0)"),
                6 => format!("({a} * {a} + 1.0).sqrt() + {b}.cos()"),
                _ => format!("{a}.max({b}) * {c:.1}"),
            };
            writeln!(s, "    let v{k} = {expr};").unwrap();
        }
        writeln!(s, "    v{}\n}}", statements - 1).unwrap();
        Case {
            name,
            description: format!("straight line, {statements} statements"),
            source: s,
        }
    }

    /// A function of `statements` statements (counting every `let`, assignment, `if`, `for`
    /// and `while`, nested ones included) with `for` loops over constant and run-time
    /// bounds, `while` loops and `if`/`else if`/`else` chains.
    pub fn control_flow(statements: usize) -> Case {
        let name = format!("control_flow_{statements}");
        let mut rng = Rng(0xc0de_0000 + statements as u64);
        let mut s = format!(
            "pub fn {name}(x0: f64, x1: f64, x2: f64, x3: f64, n: usize) -> f64 {{\n    \
             let mut s0 = x0;\n    let mut s1 = x1;\n    let mut s2 = x2;\n"
        );
        let mut count = 3;
        let mut lets = 0;
        let var = |rng: &mut Rng| format!("s{}", rng.below(3));
        let input = |rng: &mut Rng| format!("x{}", rng.below(4));
        while count < statements - 1 {
            let room = statements - 1 - count;
            let c = 0.1 + 0.1 * rng.below(8) as f64;
            let (a, b, d) = (var(&mut rng), var(&mut rng), var(&mut rng));
            let x = input(&mut rng);
            match rng.below(4) {
                // for, let, if/else with one statement each, and one more assignment: 6
                0 | 1 if room >= 6 => {
                    let bound = if rng.below(2) == 0 {
                        "n".to_string()
                    } else {
                        format!("{}", 3 + rng.below(6))
                    };
                    writeln!(
                        s,
                        "    for i in 0..{bound} {{\n        let t = ({a} * {x} + i as f64 * {c:.1}).sin();\n        \
                         if t > 0.0 {{\n            {b} = {b} * 0.9 + t * {c:.1};\n        }} else {{\n            \
                         {d} = {d} - {c:.1} * t;\n        }}\n        {a} = {a} * 0.95 + 0.05 * {b}.tanh();\n    }}"
                    )
                    .unwrap();
                    count += 6;
                }
                // if / else if / else with one statement each: 4
                2 if room >= 4 => {
                    writeln!(
                        s,
                        "    if {a} > {b} {{\n        {d} = ({d} * {x}).cos();\n    }} else if {b} > {c:.1} {{\n        \
                         {a} = {a} * {c:.1} + {x};\n    }} else {{\n        {b} = -{b} * 0.5;\n    }}"
                    )
                    .unwrap();
                    count += 4;
                }
                // a counter, a while loop with two statements: 4
                3 if room >= 4 => {
                    writeln!(
                        s,
                        "    let mut k{lets} = 0;\n    while k{lets} < {} {{\n        \
                         {a} = {a} * 0.9 + ({b} + k{lets} as f64).sin() * {c:.1};\n        k{lets} += 1;\n    }}",
                        2 + rng.below(4)
                    )
                    .unwrap();
                    lets += 1;
                    count += 4;
                }
                // a let and an assignment: 2
                _ if room >= 2 => {
                    writeln!(
                        s,
                        "    let u{lets} = ({a} * {c:.1} + {x}).exp() / ({b} * {b} + 1.0);\n    {d} = {d} + 0.1 * u{lets};"
                    )
                    .unwrap();
                    lets += 1;
                    count += 2;
                }
                _ => {
                    writeln!(s, "    {a} = {a} * {c:.1} + {b};").unwrap();
                    count += 1;
                }
            }
        }
        s.push_str("    s0 + s1 * s2\n}\n");
        Case {
            name,
            description: format!(
                "{statements} statements with `for` (constant and run-time bounds), `while` and \
                 `if`/`else` chains"
            ),
            source: s,
        }
    }

    pub fn cases() -> Vec<Case> {
        vec![
            straight_line(100),
            straight_line(1000),
            straight_line(5000),
            control_flow(200),
        ]
    }

    /// The in-process expansion of one case.
    #[derive(Default, Clone)]
    pub struct Expansion {
        pub ok: bool,
        pub tokens_in: usize,
        pub tokens_out: usize,
        pub lines_in: usize,
        pub lines_out: usize,
        pub median_ms: f64,
        pub runs: usize,
    }

    /// The best of up to three `cargo` runs of the crate: wall-clock seconds, whether it
    /// succeeded, and whether rustc needed a larger stack (`RUST_MIN_STACK`) to get there.
    #[derive(Clone, Copy)]
    pub struct Build {
        pub seconds: f64,
        pub ok: bool,
        pub big_stack: bool,
    }

    /// One way of building the crate.
    pub struct Config {
        pub label: &'static str,
        args: &'static [&'static str],
        env: &'static [(&'static str, &'static str)],
        /// Its own target directory, where its settings rebuild the dependencies.
        target: &'static str,
    }

    pub const CONFIGS: [Config; 4] = [
        Config {
            label: "`cargo check`",
            args: &["check"],
            env: &[],
            target: "target",
        },
        Config {
            label: "`cargo check`, macro optimised",
            args: &["check"],
            env: &[("CARGO_PROFILE_DEV_BUILD_OVERRIDE_OPT_LEVEL", "3")],
            target: "target-optimised-macro",
        },
        Config {
            label: "`cargo build`",
            args: &["build"],
            env: &[],
            target: "target",
        },
        Config {
            label: "`cargo build --release`",
            args: &["build", "--release"],
            env: &[],
            target: "target",
        },
    ];

    pub struct Measured {
        pub case: String,
        pub description: String,
        pub expansion: Expansion,
        /// Per configuration: the function alone, and with `#[grad::differentiable]`.
        pub builds: Vec<(Build, Build)>,
    }

    pub struct Results {
        /// The markdown section, or why there is none.
        pub markdown: String,
    }

    fn cargo() -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        // The bench's own build settings must not leak into the crates built here.
        for var in [
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET_DIR",
            "CARGO_MAKEFLAGS",
            "MAKEFLAGS",
            "MFLAGS",
        ] {
            command.env_remove(var);
        }
        command.env("CARGO_INCREMENTAL", "0");
        command
    }

    /// Runs `command`; the wall-clock seconds, and its error output if it failed.
    fn timed(mut command: Command) -> (f64, Result<(), String>) {
        let start = Instant::now();
        let output = command.output();
        let seconds = start.elapsed().as_secs_f64();
        let result = match output {
            Ok(output) if output.status.success() => Ok(()),
            Ok(output) => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
            Err(error) => Err(format!("cannot run cargo: {error}")),
        };
        (seconds, result)
    }

    fn count(tokens: proc_macro2::TokenStream) -> usize {
        tokens
            .into_iter()
            .map(|tree| match tree {
                proc_macro2::TokenTree::Group(group) => 1 + count(group.stream()),
                _ => 1,
            })
            .sum()
    }

    fn lines(tokens: proc_macro2::TokenStream) -> usize {
        syn::parse2::<syn::File>(tokens)
            .map_or(0, |file| prettyplease::unparse(&file).lines().count())
    }

    /// Expands a case in this process: the median of up to 25 runs (at least 3, about 3 s).
    fn expand(source: &str) -> Expansion {
        use proc_macro2::TokenStream;
        let item: TokenStream = source.parse().expect("a generated case tokenizes");
        let out = grad_expand::differentiable(TokenStream::new(), item.clone());
        let ok = !out.to_string().contains("compile_error");
        let mut times = Vec::new();
        let start = Instant::now();
        while times.len() < 3 || (times.len() < 25 && start.elapsed() < Duration::from_secs(3)) {
            let input = item.clone();
            let t = Instant::now();
            let expanded = grad_expand::differentiable(TokenStream::new(), input);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            drop(black_box(expanded));
        }
        times.sort_by(f64::total_cmp);
        Expansion {
            ok,
            tokens_in: count(item.clone()),
            tokens_out: count(out.clone()),
            lines_in: lines(item),
            lines_out: lines(out),
            median_ms: times[times.len() / 2],
            runs: times.len(),
        }
    }

    /// Times `config` on the crate holding `source`: the best of three runs (fewer past 20
    /// s), each after a change to the file so that cargo rebuilds it. A build that fails is
    /// tried again with a 64 MiB stack for rustc, as rustc's own stack-overflow message
    /// suggests.
    fn build_crate(dir: &Path, config: &Config, source: &str) -> Build {
        let krate = dir.join("crate");
        let mut best = Build {
            seconds: f64::INFINITY,
            ok: false,
            big_stack: false,
        };
        let start = Instant::now();
        for run in 0..3 {
            if run > 0 && start.elapsed() > Duration::from_secs(20) {
                break;
            }
            let text = format!("{source}\n// run {run}\n");
            std::fs::write(krate.join("src/lib.rs"), text).expect("write the crate's lib.rs");
            let command = |big_stack: bool| {
                let mut command = cargo();
                command
                    .current_dir(&krate)
                    .args(config.args)
                    .arg("--quiet")
                    .env("CARGO_TARGET_DIR", dir.join(config.target))
                    .envs(config.env.iter().copied());
                if big_stack {
                    command.env("RUST_MIN_STACK", "67108864");
                }
                command
            };
            let big_stack = best.big_stack;
            let (mut seconds, mut result) = timed(command(big_stack));
            let mut needed_stack = big_stack;
            if result.is_err() && !big_stack {
                (seconds, result) = timed(command(true));
                needed_stack = true;
            }
            match result {
                Ok(()) if seconds < best.seconds || !best.ok => {
                    best = Build {
                        seconds,
                        ok: true,
                        big_stack: needed_stack,
                    };
                }
                Ok(()) => {}
                Err(stderr) => {
                    let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
                    eprintln!("compile bench: {} failed:", config.label);
                    for line in tail.into_iter().rev() {
                        eprintln!("  {line}");
                    }
                    return Build {
                        seconds,
                        ok: false,
                        big_stack: true,
                    };
                }
            }
        }
        best
    }

    pub fn run(target: &Path) -> Results {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = target.join("compile-bench");
        let cases_dir = dir.join("cases");
        std::fs::create_dir_all(&cases_dir).expect("create target/compile-bench");
        let cases = cases();
        println!("compile bench: expanding in-process");
        let expansions: Vec<Expansion> = cases
            .iter()
            .map(|case| {
                let path = cases_dir.join(format!("{}.rs", case.name));
                std::fs::write(&path, &case.source).expect("write a case");
                expand(&case.source)
            })
            .collect();

        let krate = dir.join("crate");
        std::fs::create_dir_all(krate.join("src")).expect("create the crate");
        std::fs::write(
            krate.join("Cargo.toml"),
            format!(
                "[package]\nname = \"grad-compile-bench\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [workspace]\n\n[dependencies]\ngrad = {{ path = {:?} }}\n",
                root.display().to_string()
            ),
        )
        .expect("write the crate's manifest");
        let _ = std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock"));
        // Dependencies first, untimed; then an empty crate, timed, as the fixed cost.
        let header = "#![allow(warnings)]\n";
        let mut empty = Vec::new();
        for config in &CONFIGS {
            println!(
                "compile bench: building the dependencies for {}",
                config.label
            );
            build_crate(&dir, config, &format!("{header}// warm-up\n"));
            empty.push(build_crate(&dir, config, &format!("{header}// empty\n")));
        }
        let mut measured = Vec::new();
        for (case, expansion) in cases.iter().zip(expansions) {
            println!("compile bench: building {}", case.name);
            let primal = format!("{header}{}", case.source);
            let attributed = format!("{header}#[grad::differentiable]\n{}", case.source);
            let builds = CONFIGS
                .iter()
                .map(|config| {
                    (
                        build_crate(&dir, config, &primal),
                        build_crate(&dir, config, &attributed),
                    )
                })
                .collect();
            measured.push(Measured {
                case: case.name.clone(),
                description: case.description.clone(),
                expansion,
                builds,
            });
        }
        let markdown = report::compile_section(&measured, &empty);
        let _ = std::fs::write(dir.join("section.md"), &markdown);
        Results { markdown }
    }

    /// The section the last full run saved, when this run skips the compile benchmark.
    pub fn saved(target: &Path) -> Results {
        let path = target.join("compile-bench/section.md");
        let markdown = match std::fs::read_to_string(&path) {
            Ok(section) => format!(
                "{section}\n_This section is from an earlier run (`GRAD_BENCH_COMPILE=0` skipped \
                 it this time)._\n"
            ),
            Err(_) => "## Compile time\n\nNot measured in this run (`GRAD_BENCH_COMPILE=0`).\n"
                .to_string(),
        };
        Results { markdown }
    }
}

// ---------------------------------------------------------------------------------------------
// The report.
// ---------------------------------------------------------------------------------------------

mod report {
    use super::*;
    use std::process::Command;

    fn command_output(program: &str, args: &[&str]) -> Option<String> {
        let output = Command::new(program).args(args).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    fn cpu_model() -> String {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".to_string())
    }

    /// Today's UTC date and time, from the system clock.
    fn now_utc() -> String {
        let secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()) as i64;
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!(
            "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
            rem / 3600,
            rem % 3600 / 60
        )
    }

    pub fn time(ns: f64) -> String {
        if ns < 1e3 {
            format!("{ns:.1} ns")
        } else if ns < 1e6 {
            format!("{:.2} µs", ns / 1e3)
        } else if ns < 1e9 {
            format!("{:.2} ms", ns / 1e6)
        } else {
            format!("{:.2} s", ns / 1e9)
        }
    }

    fn ratio(a: Option<f64>, b: Option<f64>) -> String {
        match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => {
                let r = a / b;
                if r >= 100.0 {
                    format!("{r:.0}×")
                } else if r >= 10.0 {
                    format!("{r:.1}×")
                } else {
                    format!("{r:.2}×")
                }
            }
            _ => "—".to_string(),
        }
    }

    fn ns(function: &FunctionReport, id: &str) -> Option<f64> {
        function.rows.iter().find(|r| r.id == id).and_then(|r| r.ns)
    }

    fn in_turns(function: &FunctionReport, id: &str) -> Option<f64> {
        function
            .rows
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.in_turns_ns)
    }

    /// The faster of the two num-dual peers.
    fn best_dual(function: &FunctionReport) -> Option<f64> {
        match (ns(function, "dual"), ns(function, "dual_vec")) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn render(functions: &[FunctionReport], compile: &compile_time::Results) -> String {
        let mut md = String::new();
        let rustc = command_output("rustc", &["-V"]).unwrap_or_else(|| "unknown".into());
        let nproc = command_output("nproc", &[]).unwrap_or_else(|| {
            std::thread::available_parallelism().map_or("?".into(), |n| n.to_string())
        });
        md.push_str("# Benchmarks\n\n");
        md.push_str(
            "Generated by `cargo bench --bench gradients` (`benches/gradients.rs`), which runs \
             every benchmark and then rewrites this file; edit the generator, not this file.\n\n",
        );
        writeln!(md, "- date: {}", now_utc()).unwrap();
        writeln!(
            md,
            "- machine: {} ({nproc} cores available, `nproc`)",
            cpu_model()
        )
        .unwrap();
        writeln!(md, "- compiler: `{rustc}`, release profile (`cargo bench`)").unwrap();
        md.push_str(
            "- method: criterion 0.5, the median time per call; 50 samples after a 0.4 s \
             warm-up, or 10 samples of flat sampling for calls slower than 200 µs (marked †). \
             The primal, the hand-written gradient and grad's are measured in five passes \
             over the whole suite, and each gets the least of its five medians: load from \
             elsewhere on this shared machine only adds time, for seconds at a stretch, and \
             moved single measurements by up to 30%. The other peers are measured once. \
             As a cross-check of the headline ratios, the three also take turns after \
             criterion is done with each function: a batch of about 20 µs of calls each, round \
             after round for 0.6 s, keeping each peer's fastest batch (*in turns*); all three \
             then see the same machine at the same moments.\n\n",
        );

        md.push_str("## Summary\n\n");
        md.push_str(
            "Time of one gradient. **grad / hand** is the headline: grad's generated `_grad` \
             against a careful hand-written gradient. **grad / primal** is the cost of the \
             gradient in units of the function itself (reverse mode promises a small constant). \
             *in turns* is the cross-check of the headline: the same ratio from the fastest \
             batches of the three peers taking turns (see the method above). \
             The last three columns are how many times slower than grad each other approach is \
             (num-dual: the faster of its two modes).\n\n",
        );
        md.push_str(
            "| function | inputs | primal | hand-written | grad | **grad / hand** | in turns \
             | grad / primal | num-dual / grad | finite diff. / grad | tape / grad |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for f in functions {
            let cell = |id: &str| ns(f, id).map_or("—".to_string(), time);
            writeln!(
                md,
                "| {} | {} | {} | {} | {} | **{}** | {} | {} | {} | {} | {} |",
                f.group,
                f.inputs,
                cell("primal"),
                cell("hand"),
                cell("grad"),
                ratio(ns(f, "grad"), ns(f, "hand")),
                ratio(in_turns(f, "grad"), in_turns(f, "hand")),
                ratio(ns(f, "grad"), ns(f, "primal")),
                ratio(best_dual(f), ns(f, "grad")),
                ratio(ns(f, "fd"), ns(f, "grad")),
                ratio(ns(f, "tape"), ns(f, "grad")),
            )
            .unwrap();
        }
        md.push('\n');
        md.push_str(&expectations(functions));
        md.push_str(FINDINGS);

        md.push_str("\n## The peers\n\n");
        md.push_str(PEERS_TEXT);

        md.push_str("\n## Per function\n\n");
        md.push_str(
            "Time per call, and the ratio to the primal and to the hand-written gradient. \
             *error* is the largest difference from the hand-written gradient, relative to its \
             largest entry, checked before timing (the run stops above 1e-9, or 1e-5 for \
             finite differences).\n\n",
        );
        for f in functions {
            writeln!(md, "### {}: {}\n", f.group, f.title).unwrap();
            md.push_str("| peer | time per call | × primal | × hand-written | error |\n");
            md.push_str("|---|---:|---:|---:|---:|\n");
            for row in &f.rows {
                let time_cell = match row.ns {
                    Some(ns) => format!("{}{}", time(ns), if row.reduced { " †" } else { "" }),
                    None => "not run".to_string(),
                };
                let error = row.error.map_or("—".to_string(), |e| {
                    if e == 0.0 {
                        "0".to_string()
                    } else {
                        format!("{e:.1e}")
                    }
                });
                writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    peer_label(row.id),
                    time_cell,
                    ratio(row.ns, ns(f, "primal")),
                    ratio(row.ns, ns(f, "hand")),
                    if row.id == "hand" {
                        "reference".to_string()
                    } else {
                        error
                    },
                )
                .unwrap();
            }
            for note in &f.notes {
                writeln!(md, "\n{note}").unwrap();
            }
            md.push('\n');
        }
        md.push_str(&compile.markdown);
        md
    }

    /// Issue 6's targets, met or missed per function.
    fn expectations(functions: &[FunctionReport]) -> String {
        let judge = |name: &str, pass: &dyn Fn(&FunctionReport) -> Option<bool>| {
            let (mut met, mut missed) = (Vec::new(), Vec::new());
            for f in functions {
                match pass(f) {
                    Some(true) => met.push(f.group.as_str()),
                    Some(false) => missed.push(f.group.as_str()),
                    None => {}
                }
            }
            let list = |v: &[&str]| {
                if v.is_empty() {
                    "none".to_string()
                } else {
                    v.join(", ")
                }
            };
            format!(
                "- {name}: **missed by {}**; met by {}.\n",
                list(&missed),
                list(&met)
            )
            .replace("**missed by none**", "missed by none")
        };
        let r = |f: &FunctionReport, a: &str, b: &str| Some(ns(f, a)? / ns(f, b)?);
        let mut md = String::from("Against the targets of issue 6:\n\n");
        md.push_str(&judge("grad / hand-written ≤ 1.10", &|f| {
            Some(r(f, "grad", "hand")? <= 1.10)
        }));
        md.push_str(&judge("the same, in turns", &|f| {
            Some(in_turns(f, "grad")? / in_turns(f, "hand")? <= 1.10)
        }));
        let mut per_primal: Vec<f64> = functions
            .iter()
            .filter_map(|f| r(f, "grad", "primal"))
            .collect();
        per_primal.sort_by(f64::total_cmp);
        if let Some(median) = per_primal.get(per_primal.len() / 2) {
            let verdict = if *median <= 3.0 { "met" } else { "**missed**" };
            writeln!(
                md,
                "- gradient / primal ≤ 3 on the median function: {verdict} ({median:.2}×)."
            )
            .unwrap();
        }
        md.push_str(&judge("gradient / primal ≤ 4 on every function", &|f| {
            Some(r(f, "grad", "primal")? <= 4.0)
        }));
        md.push_str(&judge(
            "at N ≥ 100 inputs, num-dual / grad ≥ N/4 and finite differences / grad ≥ N/2",
            &|f| {
                if f.inputs < 100 {
                    return None;
                }
                let n = f.inputs as f64;
                Some(best_dual(f)? / ns(f, "grad")? >= n / 4.0 && r(f, "fd", "grad")? >= n / 2.0)
            },
        ));
        md.push_str(&judge("tape / grad ≥ 10", &|f| {
            Some(r(f, "tape", "grad")? >= 10.0)
        }));
        md.push_str(
            "\nNo reverse mode can beat a tape by more than the tape's own cost over the primal \
             (tape / primal), since every gradient costs at least one primal evaluation; that bound \
             is below 10 where the primal is dominated by transcendental functions (the recurrence's \
             `sin` and `tanh`, softmax's `exp`), so the tape target cannot be met there by any \
             generator:\n\n| function | tape / primal (bound on tape / grad) | tape / grad |\n|---|---:|---:|\n",
        );
        for f in functions {
            if let (Some(bound), Some(actual)) = (r(f, "tape", "primal"), r(f, "tape", "grad")) {
                writeln!(md, "| {} | {bound:.2}× | {actual:.2}× |", f.group).unwrap();
            }
        }
        md.push('\n');
        md
    }

    pub fn compile_section(
        measured: &[compile_time::Measured],
        empty: &[compile_time::Build],
    ) -> String {
        use compile_time::{Build, CONFIGS};
        let mut md = String::from("## Compile time\n\n");
        md.push_str(COMPILE_TEXT);
        md.push_str(
            "\n### Expansion, in-process\n\n\
             The expansion holds the user's function unchanged plus the generated companions; \
             *generated / primal* counts only what the macro adds.\n\n\
             | function | expands | expansion time | tokens: primal → expansion | generated / primal \
             (tokens) | lines: primal → expansion (prettyplease) |\n|---|---|---:|---:|---:|---:|\n",
        );
        for m in measured {
            let e = &m.expansion;
            writeln!(
                md,
                "| {} ({}) | {} | {:.2} ms (median of {}) | {} → {} ({:.1}×) | {:.1}× | {} → {} ({:.1}×) |",
                m.case,
                m.description,
                if e.ok { "yes" } else { "**compile_error!**" },
                e.median_ms,
                e.runs,
                e.tokens_in,
                e.tokens_out,
                e.tokens_out as f64 / e.tokens_in.max(1) as f64,
                e.tokens_out.saturating_sub(e.tokens_in) as f64 / e.tokens_in.max(1) as f64,
                e.lines_in,
                e.lines_out,
                e.lines_out as f64 / e.lines_in.max(1) as f64,
            )
            .unwrap();
        }
        md.push_str(
            "\n### Building a crate that holds it\n\n\
             Wall-clock time of cargo on a one-file crate that depends on grad (dependencies \
             already built, `CARGO_INCREMENTAL=0`, the best of three runs): the function alone \
             → with `#[grad::differentiable]` on it. The empty crate is the fixed cost of cargo \
             and rustc. *Macro optimised* builds grad-macro and its dependencies with \
             `opt-level = 3` (`[profile.dev.build-override]`, here through \
             `CARGO_PROFILE_DEV_BUILD_OVERRIDE_OPT_LEVEL=3`); by default cargo compiles proc \
             macros without optimisation. ‡: rustc overflowed its stack and the build needed \
             `RUST_MIN_STACK=64 MiB`.\n\n",
        );
        md.push_str("| function |");
        for config in &CONFIGS {
            write!(md, " {} |", config.label).unwrap();
        }
        md.push_str("\n|---|");
        md.push_str(&"---:|".repeat(CONFIGS.len()));
        md.push('\n');
        let cell = |b: Build| {
            if b.ok {
                format!("{:.2} s{}", b.seconds, if b.big_stack { " ‡" } else { "" })
            } else {
                "**fails**".to_string()
            }
        };
        md.push_str("| empty crate |");
        for b in empty {
            write!(md, " {} |", cell(*b)).unwrap();
        }
        md.push('\n');
        for m in measured {
            write!(md, "| {} |", m.case).unwrap();
            for &(primal, grad) in &m.builds {
                let factor = if primal.ok && grad.ok {
                    format!(" ({:.1}×)", grad.seconds / primal.seconds)
                } else {
                    String::new()
                };
                write!(md, " {} → {}{factor} |", cell(primal), cell(grad)).unwrap();
            }
            md.push('\n');
        }
        md.push_str(&compile_findings(measured));
        md
    }

    /// What the compile numbers say, for the largest straight-line case.
    fn compile_findings(measured: &[compile_time::Measured]) -> String {
        let mut md = String::new();
        let largest = measured
            .iter()
            .filter(|m| m.case.starts_with("straight"))
            .max_by_key(|m| m.expansion.tokens_in);
        if let Some(m) = largest {
            let (check, check_optimised) = (m.builds[0], m.builds[1]);
            if check.0.ok && check.1.ok && check_optimised.1.ok {
                writeln!(
                    md,
                    "\nFor {}, `cargo check` grows by {:.2} s with the attribute. The optimised \
                     expansion itself takes {:.2} s in-process, and building the macro with \
                     optimisation saves {:.2} s of the growth, so most of it is rustc checking \
                     the {:.1}× larger code rather than the macro running.",
                    m.case,
                    check.1.seconds - check.0.seconds,
                    m.expansion.median_ms / 1e3,
                    check.1.seconds - check_optimised.1.seconds,
                    m.expansion.lines_out as f64 / m.expansion.lines_in.max(1) as f64,
                )
                .unwrap();
            }
        }
        let stack: Vec<&str> = measured
            .iter()
            .filter(|m| m.builds.iter().any(|(primal, _)| primal.big_stack))
            .map(|m| m.case.as_str())
            .collect();
        if !stack.is_empty() {
            writeln!(
                md,
                "\nThe debug build of {} overflows rustc's default stack even without grad \
                 (in LLVM's DWARF writer, which recurses once per nested `let` scope); with \
                 `RUST_MIN_STACK=64 MiB` both versions build. A user with functions this long \
                 needs that setting or `debug = \"line-tables-only\"` regardless of grad.",
                stack.join(", ")
            )
            .unwrap();
        }
        md
    }

    const PEERS_TEXT: &str = "\
- **primal**: the `#[differentiable]` function itself, called as a user calls it. Rosenbrock, \
the dense layer and softmax take their arrays by reference (`x: &[f64; N]`), as their \
hand-written gradients do, and their tables also time the same function with its arrays by \
value (*grad, the arrays by value*: each call then copies them in, 0.8 KB for Rosenbrock 100 \
and softmax, 32 KB for the dense layer); Lennard-Jones takes its positions by value.
- **hand-written**: a careful gradient written by hand (backpropagation for the dense layer, \
softmax − one-hot, the forces for Lennard-Jones, backpropagation through time storing the \
states for the recurrence, the closed forms for the Gaussian); it takes its arrays by \
reference. It is the reference: every other peer is checked against it before timing.
- **grad**: the generated `f_grad`.
- **finite differences**: central differences, two primal calls per input with step \
∛ε·max(|x|, 1), on a copy of the inputs.
- **num-dual** (0.11): the function written generically over `num_dual::DualNum<f64>`; \
`Dual64` does one forward pass per input (the dual inputs are built once per gradient and \
only the seed moves), `DualSVec64<N>` carries all N tangents in one pass. The vector mode is \
measured where N ≤ 100.
- **tape**: [`reverse`](https://crates.io/crates/reverse) 0.2.2, a tape-based reverse mode \
with a `Var<'tape>` type that records every operation on a `Tape` (a `RefCell<Vec<Node>>`) \
and sweeps it backwards in `grad()`. One tape per benchmark, `clear()`ed before each call, so \
its buffer is reused; each call still allocates the input `Var`s, the adjoint vector and the \
result. It has no `max`: the softmax shift is taken from the values, which leaves the \
gradient exact.

Why `reverse`: it is the scalar tape-and-`Var` design this comparison is about, it has no \
dependencies at all and builds as-is on Rust 1.95 (edition 2018, about 700 lines). It is not \
widely used (lib.rs counts about fifty downloads a month). Also looked at: `autograd` \
(rust-autograd, 2.0.0-rc3) is a tensor library on `ndarray` with a graph context, not a scalar \
tape, and brings a large dependency tree; `easy-ml` 2.3 has a scalar reverse mode \
(`Record` on a `WengertList`) and no required dependencies either, but it is a whole \
machine-learning library whose operators work on references and whose constants must go \
through a swapped-operations trait, so the generic code would not be the same function; \
heavy frameworks (`candle`, `burn`, `dfdx`) are tensor-level and far outside this scale.
";

    const COMPILE_TEXT: &str = "\
Generated functions over four `f64` inputs: straight-line functions of 100, 1,000 and 5,000 \
`let` statements (each uses the previous value and one earlier value, through `+ - * /`, \
`sin cos tanh exp sqrt max`), and a 200-statement function with `for` loops over constant \
and run-time bounds, `while` loops and `if`/`else if`/`else` chains. The sources are in \
`target/compile-bench/cases/`.

**Expansion time** is measured in-process: `grad_expand::differentiable` (the expansion \
behind `#[differentiable]`; grad-macro is a thin shim over it) on `proc_macro2` token \
streams, the median of up to 25 runs. This is an optimised build of the expansion (the \
bench profile); cargo builds proc macros without optimisation by default, and the \
compiler's token conversion across the proc-macro bridge is left out, so the difference \
between the `cargo check` columns below is the cost a user sees. **Code size** is the \
token count of the function against that of the whole expansion (the function, the core \
`__f_value_and_vjp` and the companions), and the same as lines after prettyplease.
";

    /// What reading the expansions found. Kept by hand in the generator: revisit it when the
    /// macro changes.
    const FINDINGS: &str = "\
### Why grad is slower than hand-written where it is

From reading the expansions (`grad_expand::differentiable`, and the snapshots in \
`grad-expand/snapshots/`) and timing edited copies of the generated code in side experiments \
on this machine (those figures are not produced by this bench). Fixed along the way, each \
found this way: the reverse sweep of a loop with a tape now reads the results of expensive \
rules (`exp`, `tanh`, `sin`, `sqrt`, ...) from the tape instead of computing them again \
(softmax: N `exp` calls instead of 2N; the recurrence: its `tanh` and `sin` from the tape, \
which took it from 1.5× to 1.0× the hand-written gradient); pullbacks only reference what \
their rule reads; `x[i] * x[i]` is one read with the one-term derivative `ā·2x`; `x * x` \
and `c * x * x` contribute `ā·2x` and `ā·2cx` in one term; `c / x` with a literal `c` has the pullback `-ā · out² / c`; \
unit-step loops are reversed by running their range backwards; an in-place update `z[i] += t` \
keeps the element's adjoint in place instead of zeroing it and adding it back (the dense \
layer's inner loop then keeps it in a register: 6.7 → 5.9 µs); a repeated operation in one \
block is one node (`(a - t) * (a - t)` is a square); the core accumulates array gradients in \
the companion's result through `&mut` instead of returning a tuple that `_grad` copies out \
(one copy of each gradient array less per call); `y * y * y` contributes `ā·3y²` in one term \
(Lennard-Jones' `r2 * r2 * r2`: 2.90 → 2.42 µs); `c * y * y` contributes `ā·(2c)y` with `2c` \
folded at expansion; `x += -y` is written `x -= y`; a frame's element accumulations are \
grouped by element (`g[i][0..3]`, then `g[j][0..3]`), which lets LLVM pair them \
(Lennard-Jones 2.58 → 2.36 µs); a loop that keeps a running maximum (`m = m.max(z[i])`) \
records nothing, and its reverse searches for the iteration that took the final value and \
replays only from there, instead of replaying every iteration from a tape (softmax, timed \
in turns with the hand-written gradient: 1.45× → 1.16×); the cube of a sum of squares \
(`r2 * r2 * r2`, `r2 = dx * dx + ...`) folds the squares' 2 into the cube's 3, bit for bit \
(Lennard-Jones, in turns: 1.22× → 1.10×).

- **Close to hand-written** (the neuron, the recurrence, Rosenbrock, the Gaussian): the \
generated code is the chain rule written out, and when only `_grad` is called LLVM deletes \
the forward sweep that computes the value. What remains is un-simplified adjoint \
arithmetic: `total -= 0.5 * r * r` contributes `-ā·r` to `r` in one term (the `c * y * y` \
rule), but the chain through `r = (x - μ) · σ⁻¹` still multiplies every term by σ⁻¹ and the \
upstream gradient, where the hand-written gradient sums `Σ r` and `Σ r²` and scales them once \
at the end; IEEE rules keep LLVM from reassociating it, and grad does not factor \
loop-invariant values out of sums.
- **Softmax cross-entropy**: the gradient through the running maximum is zero in exact \
arithmetic, and the hand-written gradient skips it. grad still computes it: the maximum's \
adjoint is summed over the N terms of the log-sum-exp (a chain of N dependent \
subtractions, which IEEE rules keep LLVM from splitting), and two short searches find the \
iteration that took the maximum, which is then replayed alone. In side experiments, \
removing the searches saved about 4% of the hand-written time, and splitting the sum in \
two chains 3% in one timing and nothing in another. Through `grad::log_sum_exp` the gradient is much slower (the \
*through `grad::log_sum_exp`* row): the helper's vjp is called on its own and computes the \
N exponentials of the softmax again.
- **Lennard-Jones**: the forward sweep is deleted, so the cost is the reverse sweep. It \
recomputes each pair and differentiates `s6 * s6 - s6`, `1.0 / r6` and `r2 * r2 * r2` rule \
by rule, with the squares' 2 folded into the cube's 3; the hand-written force \
`-24 s⁶ (2 s⁶ - 1) / r²` needs the same division and folds all the constants (4, 2, 3, 2) \
and the sign into one factor, a few operations per pair fewer.
- **Arrays by value**: with its arrays by reference (`w: &[[f64; N]; M]`), as the \
hand-written gradient takes them, the dense layer's generated code matches backpropagation. \
Taken by value, every call copies the 32 KB matrix in first (the by-value row of its table \
below); Rosenbrock 100's 0.8 KB copy cost it about 13% of the hand-written time in a side \
experiment (1.17× by value, 1.04× by reference).
- **The tape crate**: `reverse` allocates per call (the input `Var`s, the adjoint vector, the \
result) and records every operation as a node, including constants (`x - c` is two nodes), \
then sweeps with indirect indexing. Where transcendental functions dominate the primal (the \
recurrence, softmax), its overhead is small next to them, so no reverse mode can be 10× \
faster (see the bound above). **`reverse` 0.2.2 has a wrong derivative**: `f64 / Var` \
records -1/x instead of -c/x². The check against the hand-written gradient caught it (the \
neuron's gradient came out 37% off), so the tape functions here write `c / x` as \
`x.recip() * c`.
";
}
