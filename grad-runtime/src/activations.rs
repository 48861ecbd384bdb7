//! Activation functions, each with a `_vjp` companion.
//!
//! Calling convention: `name_vjp(inputs..., upstream)` returns `upstream` times the gradient,
//! one entry per float input (a bare value for one input, a tuple for two). Each function is
//! numerically stable over the whole float range: no NaN or infinity from a finite input.

use crate::Float;

/// σ(x) and σ(-x) = 1 - σ(x), both accurate: e^(-|x|) never overflows, and σ(-x) is not formed
/// by the cancelling subtraction 1 - σ(x).
#[inline]
fn sigmoid_pair<T: Float>(x: T) -> (T, T) {
    let e = (-x.abs()).exp();
    let big = T::ONE / (T::ONE + e);
    let small = e / (T::ONE + e);
    if x >= T::ZERO {
        (big, small)
    } else {
        // Also reached by NaN, for which both entries are NaN.
        (small, big)
    }
}

/// The logistic sigmoid σ(x) = 1 / (1 + e^(-x)).
///
/// Stable for large |x|: evaluated as 1 / (1 + e^(-x)) for x ≥ 0 and e^x / (1 + e^x) for x < 0,
/// so the exponential never overflows.
#[inline]
pub fn sigmoid<T: Float>(x: T) -> T {
    sigmoid_pair(x).0
}

/// Gradient of [`sigmoid`]: `upstream · σ(x) σ(-x)` (that is, σ(x)(1 - σ(x))), accurate in
/// the tails, where 1 - σ(x) would round to 0.
#[inline]
pub fn sigmoid_vjp<T: Float>(x: T, upstream: T) -> T {
    let (s, s_neg) = sigmoid_pair(x);
    upstream * (s * s_neg)
}

/// softplus(x) = ln(1 + e^x), a smooth ReLU.
///
/// Evaluated stably as max(x, 0) + ln_1p(e^(-|x|)).
#[inline]
pub fn softplus<T: Float>(x: T) -> T {
    x.max(T::ZERO) + (-x.abs()).exp().ln_1p()
}

/// Gradient of [`softplus`]: `upstream · σ(x)`.
#[inline]
pub fn softplus_vjp<T: Float>(x: T, upstream: T) -> T {
    upstream * sigmoid(x)
}

/// log σ(x) = -softplus(-x), stable for large |x|.
#[inline]
pub fn log_sigmoid<T: Float>(x: T) -> T {
    -softplus(-x)
}

/// Gradient of [`log_sigmoid`]: `upstream · σ(-x)`.
#[inline]
pub fn log_sigmoid_vjp<T: Float>(x: T, upstream: T) -> T {
    upstream * sigmoid(-x)
}

/// relu(x) = max(x, 0); NaN propagates.
#[inline]
pub fn relu<T: Float>(x: T) -> T {
    // `x <= 0` is false for NaN, which is thus returned.
    if x <= T::ZERO { T::ZERO } else { x }
}

/// Gradient of [`relu`]: `upstream` for x > 0, and 0 for x ≤ 0 (relu'(0) = 0, as PyTorch and
/// JAX); NaN at NaN.
#[inline]
pub fn relu_vjp<T: Float>(x: T, upstream: T) -> T {
    if x > T::ZERO {
        upstream
    } else if x.is_nan() {
        T::NAN
    } else {
        T::ZERO
    }
}

/// leaky_relu(x, slope) = x if x > 0, else slope · x.
#[inline]
pub fn leaky_relu<T: Float>(x: T, slope: T) -> T {
    if x > T::ZERO { x } else { slope * x }
}

/// Gradient of [`leaky_relu`]: `(∂/∂x, ∂/∂slope)` times `upstream`, that is `(1, 0)` for
/// x > 0 and `(slope, x)` otherwise. At x = 0 the negative side applies.
#[inline]
pub fn leaky_relu_vjp<T: Float>(x: T, slope: T, upstream: T) -> (T, T) {
    if x > T::ZERO {
        (upstream, T::ZERO)
    } else {
        (upstream * slope, upstream * x)
    }
}

/// hard_tanh(x) = clamp(x, -1, 1); NaN propagates.
#[inline]
pub fn hard_tanh<T: Float>(x: T) -> T {
    x.clamp(-T::ONE, T::ONE)
}

/// Gradient of [`hard_tanh`]: `upstream` strictly inside (-1, 1), and 0 at ±1 and outside (as
/// PyTorch); NaN at NaN.
#[inline]
pub fn hard_tanh_vjp<T: Float>(x: T, upstream: T) -> T {
    if x > -T::ONE && x < T::ONE {
        upstream
    } else if x.is_nan() {
        T::NAN
    } else {
        T::ZERO
    }
}

/// swish(x) = x · σ(x) (also called SiLU).
#[inline]
pub fn swish<T: Float>(x: T) -> T {
    x * sigmoid(x)
}

/// Gradient of [`swish`]: `upstream · σ(x)(1 + x σ(-x))`.
#[inline]
pub fn swish_vjp<T: Float>(x: T, upstream: T) -> T {
    let (s, s_neg) = sigmoid_pair(x);
    upstream * (s * (T::ONE + x * s_neg))
}

/// elu(x, alpha) = x if x > 0, else alpha · (e^x - 1).
#[inline]
pub fn elu<T: Float>(x: T, alpha: T) -> T {
    if x > T::ZERO { x } else { alpha * x.exp_m1() }
}

/// Gradient of [`elu`]: `(∂/∂x, ∂/∂alpha)` times `upstream`, that is `(1, 0)` for x > 0 and
/// `(alpha e^x, e^x - 1)` otherwise. At x = 0 the negative side applies (∂/∂x = alpha).
#[inline]
pub fn elu_vjp<T: Float>(x: T, alpha: T, upstream: T) -> (T, T) {
    if x > T::ZERO {
        (upstream, T::ZERO)
    } else {
        let em1 = x.exp_m1();
        (upstream * (alpha * (em1 + T::ONE)), upstream * em1)
    }
}

/// √(2/π), the scale inside GELU's tanh.
const GELU_SCALE: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of GELU's tanh approximation.
const GELU_CUBIC: f64 = 0.044_715;

/// The GELU tanh approximation: 0.5 x (1 + tanh(u)) with u = √(2/π)(x + 0.044715 x³).
///
/// Evaluated as x σ(2u), which is the same function (1 + tanh u = 2σ(2u)) without the
/// cancellation in 1 + tanh(u) for negative x.
#[inline]
pub fn gelu<T: Float>(x: T) -> T {
    x * sigmoid(T::TWO * gelu_inner(x))
}

/// Gradient of [`gelu`], exact for the tanh form:
/// `upstream · (s + 2 x s (1 - s) u')` with s = σ(2u) and u' = √(2/π)(1 + 3 · 0.044715 x²).
#[inline]
pub fn gelu_vjp<T: Float>(x: T, upstream: T) -> T {
    let (s, s_neg) = sigmoid_pair(T::TWO * gelu_inner(x));
    let slope = s * s_neg;
    // In the tails slope is exactly 0 while x u' may be infinite (x³ overflows first in f32):
    // the product's limit is 0, not NaN.
    if slope == T::ZERO {
        return upstream * s;
    }
    let du = T::from_f64(GELU_SCALE) * (T::ONE + T::from_f64(3.0 * GELU_CUBIC) * (x * x));
    upstream * (s + T::TWO * x * slope * du)
}

/// u = √(2/π)(x + 0.044715 x³), the argument of GELU's tanh.
#[inline]
fn gelu_inner<T: Float>(x: T) -> T {
    T::from_f64(GELU_SCALE) * (x + T::from_f64(GELU_CUBIC) * (x * x * x))
}

#[cfg(test)]
mod tests;
