//! Gradient checking: compare a gradient with central finite differences.
//!
//! ```
//! use grad_runtime::check_gradient;
//!
//! // f(x) = x0² x1, so ∇f = (2 x0 x1, x0²).
//! let f = |x: &[f64]| x[0] * x[0] * x[1];
//! let x = [1.5, -2.0];
//! let check = check_gradient(f, &x, &[2.0 * x[0] * x[1], x[0] * x[0]]);
//! assert!(check.passes(1e-6), "{check}");
//! ```

use alloc::vec::Vec;
use core::fmt;

/// The result of [`check_gradient`]: one [`CoordinateCheck`] per input coordinate.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientCheck {
    /// The comparison at each coordinate, in index order.
    pub coords: Vec<CoordinateCheck>,
}

/// The comparison of one partial derivative with its finite-difference estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct CoordinateCheck {
    /// Which input coordinate.
    pub index: usize,
    /// The gradient entry under test.
    pub analytic: f64,
    /// The central finite difference.
    pub numeric: f64,
    /// The step h of the finite difference: f was evaluated at x ± h along this coordinate.
    pub step: f64,
    /// `|analytic - numeric| / max(1, |analytic|, |numeric|)`: a relative error where the
    /// values are larger than 1, an absolute one where they are small (so that a partial near
    /// 0 is not judged by the noise of the finite difference). NaN if either value is NaN or
    /// infinite.
    pub error: f64,
}

impl GradientCheck {
    /// The coordinate with the largest error (a NaN error counts as the largest), or `None`
    /// when there are no coordinates.
    pub fn worst(&self) -> Option<&CoordinateCheck> {
        self.coords.iter().reduce(|worst, c| {
            if worst.error.is_nan() || c.error <= worst.error {
                worst
            } else {
                c
            }
        })
    }

    /// The largest error: 0 when there are no coordinates, NaN if any error is NaN.
    pub fn max_error(&self) -> f64 {
        self.worst().map_or(0.0, |c| c.error)
    }

    /// Whether every coordinate's error is at most `tolerance`; false if any error is NaN.
    pub fn passes(&self, tolerance: f64) -> bool {
        self.coords.iter().all(|c| c.error <= tolerance)
    }
}

impl fmt::Display for GradientCheck {
    /// A table with one line per coordinate, then the worst coordinate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>6}  {:>14}  {:>14}  {:>10}  {:>10}",
            "index", "analytic", "numeric", "step", "error"
        )?;
        for c in &self.coords {
            writeln!(
                f,
                "{:>6}  {:>14.6e}  {:>14.6e}  {:>10.3e}  {:>10.3e}",
                c.index, c.analytic, c.numeric, c.step, c.error
            )?;
        }
        match self.worst() {
            Some(c) => write!(f, "worst: index {} with error {:.3e}", c.index, c.error),
            None => write!(f, "worst: none (no coordinates)"),
        }
    }
}

/// Checks `analytic`, a claimed gradient of `f` at `x`, against central finite differences.
///
/// Each coordinate i is perturbed by a step h = ∛ε · max(1, |xᵢ|) (ε = `f64::EPSILON`), which
/// balances truncation error (O(h²)) against rounding error (O(ε/h)); h is then adjusted to
/// `(xᵢ + h) - xᵢ` so that the perturbation is exactly representable. Expect errors around
/// 1e-10 to 1e-8 for a correct gradient of a smooth function; a tolerance of 1e-6 is a sensible
/// default. The rounding part grows with |f(x)| / h, so a function whose value is large next
/// to its inputs' scale needs a looser tolerance. Near a kink, the numeric value averages the
/// two one-sided derivatives.
///
/// # Panics
/// If `x.len() != analytic.len()`.
pub fn check_gradient<F: Fn(&[f64]) -> f64>(f: F, x: &[f64], analytic: &[f64]) -> GradientCheck {
    assert_eq!(
        x.len(),
        analytic.len(),
        "check_gradient: x has {} coordinates but the analytic gradient has {}",
        x.len(),
        analytic.len()
    );
    let mut point = x.to_vec();
    let coords = analytic
        .iter()
        .enumerate()
        .map(|(index, &analytic)| {
            let (numeric, step) = partial(&f, &mut point, index);
            CoordinateCheck {
                index,
                analytic,
                numeric,
                step,
                error: error(analytic, numeric),
            }
        })
        .collect();
    GradientCheck { coords }
}

/// The gradient of `f` at `x` by central finite differences, with the steps of
/// [`check_gradient`].
pub fn central_difference<F: Fn(&[f64]) -> f64>(f: F, x: &[f64]) -> Vec<f64> {
    let mut point = x.to_vec();
    (0..x.len())
        .map(|index| partial(&f, &mut point, index).0)
        .collect()
}

/// The central difference along `index` and its step; `point` is restored before returning.
fn partial<F: Fn(&[f64]) -> f64>(f: &F, point: &mut [f64], index: usize) -> (f64, f64) {
    let x = point[index];
    let h = num_traits::Float::cbrt(f64::EPSILON)
        * num_traits::Float::max(1.0, num_traits::Float::abs(x));
    let above = x + h;
    let step = above - x;
    let below = x - step;
    point[index] = above;
    let f_above = f(point);
    point[index] = below;
    let f_below = f(point);
    point[index] = x;
    // Divide by the distance actually travelled, in case `below` was rounded.
    ((f_above - f_below) / (above - below), step)
}

fn error(analytic: f64, numeric: f64) -> f64 {
    if !num_traits::Float::is_finite(analytic) || !num_traits::Float::is_finite(numeric) {
        return f64::NAN;
    }
    let scale = num_traits::Float::max(
        1.0,
        num_traits::Float::max(
            num_traits::Float::abs(analytic),
            num_traits::Float::abs(numeric),
        ),
    );
    num_traits::Float::abs(analytic - numeric) / scale
}

#[cfg(test)]
mod tests;
