//! Function 7: the log-likelihood of N data points under a Gaussian, as a function of the mean
//! and of log σ; the data are a constant parameter.

use grad::differentiable;
use num_dual::DualNum;
use reverse::Var;

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
