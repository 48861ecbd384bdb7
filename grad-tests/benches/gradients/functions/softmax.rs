//! Function 4: softmax cross-entropy with a max-shifted log-sum-exp.

use grad::differentiable;
use num_dual::DualNum;
use reverse::Var;

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
