//! Activation functions, each with a `_vjp` companion.
//!
//! Calling convention: `name_vjp(inputs..., upstream)` returns `upstream` times the gradient,
//! one entry per float input (a bare value for one input, a tuple for two). Each function is
//! numerically stable over the whole float range: no NaN or infinity from a finite input.
//!
//! Every activation is elementwise: it takes a float or a (nested) fixed-size array of floats
//! (any [`Elementwise`] value) and applies the same scalar rule to each element, so
//! `sigmoid(x)` works for `x: f64` and for `x: [[f32; 4]; 2]` alike. Its `_vjp` takes
//! `upstream` of the input's shape and is elementwise too: O(N) for N elements, no Jacobian.
//! The scalar parameters of [`leaky_relu`] (`slope`) and [`elu`] (`alpha`) are shared by every
//! element, so their gradient is the sum over the elements.
//!
//! Forward mode: `name_jvp(inputs..., out, tangents...)` takes the inputs, the function's
//! result `out` and one tangent per float input (shaped like it) and returns the tangent of
//! the result, the same calling convention as the scalar rules' `pullback::<name>_tangent`.
//! Each is exactly the transpose of its `_vjp`: the Jacobian is diagonal, so the tangent of
//! each element is the `_vjp`'s entry with the element's tangent as upstream. A zero tangent
//! (of an element or of a shared parameter) contributes exactly 0, as in the scalar rules.

use crate::pullback::flowing;
use crate::{Elementwise, Float};

/// σ(x) and σ(-x) = 1 - σ(x), both accurate: e^(-|x|) never overflows, and σ(-x) is not formed
/// by the cancelling subtraction 1 - σ(x).
#[inline]
pub(crate) fn sigmoid_pair<T: Float>(x: T) -> (T, T) {
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

// The scalar rules. The public functions below apply them to every element of an
// `Elementwise` value; for a bare float that is one call of the rule.

#[inline]
fn sigmoid_scalar<T: Float>(x: T) -> T {
    sigmoid_pair(x).0
}

#[inline]
pub(crate) fn sigmoid_vjp_scalar<T: Float>(x: T, upstream: T) -> T {
    let (s, s_neg) = sigmoid_pair(x);
    upstream * (s * s_neg)
}

#[inline]
fn softplus_scalar<T: Float>(x: T) -> T {
    x.max(T::ZERO) + (-x.abs()).exp().ln_1p()
}

#[inline]
pub(crate) fn softplus_vjp_scalar<T: Float>(x: T, upstream: T) -> T {
    upstream * sigmoid_scalar(x)
}

#[inline]
fn log_sigmoid_scalar<T: Float>(x: T) -> T {
    -softplus_scalar(-x)
}

#[inline]
pub(crate) fn log_sigmoid_vjp_scalar<T: Float>(x: T, upstream: T) -> T {
    upstream * sigmoid_scalar(-x)
}

#[inline]
fn relu_scalar<T: Float>(x: T) -> T {
    // `x <= 0` is false for NaN, which is thus returned.
    if x <= T::ZERO { T::ZERO } else { x }
}

#[inline]
pub(crate) fn relu_vjp_scalar<T: Float>(x: T, upstream: T) -> T {
    if x > T::ZERO {
        upstream
    } else if x.is_nan() {
        T::NAN
    } else {
        T::ZERO
    }
}

#[inline]
fn leaky_relu_scalar<T: Float>(x: T, slope: T) -> T {
    if x > T::ZERO { x } else { slope * x }
}

#[inline]
pub(crate) fn leaky_relu_vjp_scalar<T: Float>(x: T, slope: T, upstream: T) -> (T, T) {
    if x > T::ZERO {
        (upstream, T::ZERO)
    } else {
        (upstream * slope, upstream * x)
    }
}

#[inline]
fn hard_tanh_scalar<T: Float>(x: T) -> T {
    x.clamp(-T::ONE, T::ONE)
}

#[inline]
pub(crate) fn hard_tanh_vjp_scalar<T: Float>(x: T, upstream: T) -> T {
    if x > -T::ONE && x < T::ONE {
        upstream
    } else if x.is_nan() {
        T::NAN
    } else {
        T::ZERO
    }
}

#[inline]
fn swish_scalar<T: Float>(x: T) -> T {
    x * sigmoid_scalar(x)
}

#[inline]
pub(crate) fn swish_vjp_scalar<T: Float>(x: T, upstream: T) -> T {
    let (s, s_neg) = sigmoid_pair(x);
    upstream * (s * (T::ONE + x * s_neg))
}

#[inline]
fn elu_scalar<T: Float>(x: T, alpha: T) -> T {
    if x > T::ZERO { x } else { alpha * x.exp_m1() }
}

#[inline]
pub(crate) fn elu_vjp_scalar<T: Float>(x: T, alpha: T, upstream: T) -> (T, T) {
    if x > T::ZERO {
        (upstream, T::ZERO)
    } else {
        let em1 = x.exp_m1();
        (upstream * (alpha * (em1 + T::ONE)), upstream * em1)
    }
}

/// √(2/π), the scale inside GELU's tanh.
pub(crate) const GELU_SCALE: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of GELU's tanh approximation.
pub(crate) const GELU_CUBIC: f64 = 0.044_715;

/// u = √(2/π)(x + 0.044715 x³), the argument of GELU's tanh.
#[inline]
pub(crate) fn gelu_inner<T: Float>(x: T) -> T {
    T::from_f64(GELU_SCALE) * (x + T::from_f64(GELU_CUBIC) * (x * x * x))
}

#[inline]
fn gelu_scalar<T: Float>(x: T) -> T {
    x * sigmoid_scalar(T::TWO * gelu_inner(x))
}

#[inline]
pub(crate) fn gelu_vjp_scalar<T: Float>(x: T, upstream: T) -> T {
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

/// Applies a two-input scalar rule `(x, p, upstream) -> (∂x, ∂p)` to every element of `x`
/// with the shared parameter `p`, in one pass: `(∂x elementwise, Σ ∂p)`.
#[inline]
pub(crate) fn vjp_with_shared<X: Elementwise>(
    x: X,
    p: X::Scalar,
    upstream: X,
    rule: impl Fn(X::Scalar, X::Scalar, X::Scalar) -> (X::Scalar, X::Scalar),
) -> (X, X::Scalar) {
    let mut d_p = <X::Scalar as Float>::ZERO;
    let d_x = x.zip_map_elements(upstream, |x, up| {
        let (d_xi, d_pi) = rule(x, p, up);
        d_p += d_pi;
        d_xi
    });
    (d_x, d_p)
}

/// The tangent of a two-input scalar rule `(x, p, upstream) -> (∂x, ∂p)` applied to every
/// element of `x` with the shared parameter `p`: per element, the rule's `∂x` entry with `dx`
/// as upstream plus its `∂p` entry with `dp` as upstream, each exactly 0 when its tangent is.
#[inline]
fn jvp_with_shared<X: Elementwise>(
    x: X,
    p: X::Scalar,
    dx: X,
    dp: X::Scalar,
    rule: impl Fn(X::Scalar, X::Scalar, X::Scalar) -> (X::Scalar, X::Scalar),
) -> X {
    x.zip_map_elements(dx, |x, dxi| {
        flowing(dxi, rule(x, p, dxi).0) + flowing(dp, rule(x, p, dp).1)
    })
}

/// The logistic sigmoid σ(x) = 1 / (1 + e^(-x)), elementwise.
///
/// Stable for large |x|: evaluated as 1 / (1 + e^(-x)) for x ≥ 0 and e^x / (1 + e^x) for x < 0,
/// so the exponential never overflows.
///
/// ```
/// use grad_runtime::sigmoid;
///
/// assert_eq!(sigmoid(0.0_f64), 0.5);
/// assert_eq!(sigmoid([0.0_f32, 1000.0]), [0.5, 1.0]);
/// ```
#[inline]
pub fn sigmoid<X: Elementwise>(x: X) -> X {
    x.map_elements(sigmoid_scalar)
}

/// Gradient of [`sigmoid`], elementwise: `upstream · σ(x) σ(-x)` (that is, σ(x)(1 - σ(x))),
/// accurate in the tails, where 1 - σ(x) would round to 0.
#[inline]
pub fn sigmoid_vjp<X: Elementwise>(x: X, upstream: X) -> X {
    x.zip_map_elements(upstream, sigmoid_vjp_scalar)
}

/// Tangent of [`sigmoid`], elementwise: `dx · σ(x) σ(-x)`.
///
/// [`sigmoid_vjp`] with `dx` as upstream, and 0 where `dx` is 0; the derivative is
/// recomputed from `x`, as there, so `out` is not read.
#[inline]
pub fn sigmoid_jvp<X: Elementwise>(x: X, out: X, dx: X) -> X {
    let _ = out;
    x.zip_map_elements(dx, |x, d| flowing(d, sigmoid_vjp_scalar(x, d)))
}

/// softplus(x) = ln(1 + e^x), a smooth ReLU, elementwise.
///
/// Evaluated stably as max(x, 0) + ln_1p(e^(-|x|)).
#[inline]
pub fn softplus<X: Elementwise>(x: X) -> X {
    x.map_elements(softplus_scalar)
}

/// Gradient of [`softplus`], elementwise: `upstream · σ(x)`.
#[inline]
pub fn softplus_vjp<X: Elementwise>(x: X, upstream: X) -> X {
    x.zip_map_elements(upstream, softplus_vjp_scalar)
}

/// Tangent of [`softplus`], elementwise: `dx · σ(x)`.
///
/// [`softplus_vjp`] with `dx` as upstream, and 0 where `dx` is 0; the derivative is
/// recomputed from `x`, as there, so `out` is not read.
#[inline]
pub fn softplus_jvp<X: Elementwise>(x: X, out: X, dx: X) -> X {
    let _ = out;
    x.zip_map_elements(dx, |x, d| flowing(d, softplus_vjp_scalar(x, d)))
}

/// log σ(x) = -softplus(-x), elementwise; stable for large |x|.
#[inline]
pub fn log_sigmoid<X: Elementwise>(x: X) -> X {
    x.map_elements(log_sigmoid_scalar)
}

/// Gradient of [`log_sigmoid`], elementwise: `upstream · σ(-x)`.
#[inline]
pub fn log_sigmoid_vjp<X: Elementwise>(x: X, upstream: X) -> X {
    x.zip_map_elements(upstream, log_sigmoid_vjp_scalar)
}

/// Tangent of [`log_sigmoid`], elementwise: `dx · σ(-x)`.
///
/// [`log_sigmoid_vjp`] with `dx` as upstream, and 0 where `dx` is 0; the derivative is
/// recomputed from `x`, as there, so `out` is not read.
#[inline]
pub fn log_sigmoid_jvp<X: Elementwise>(x: X, out: X, dx: X) -> X {
    let _ = out;
    x.zip_map_elements(dx, |x, d| flowing(d, log_sigmoid_vjp_scalar(x, d)))
}

/// relu(x) = max(x, 0), elementwise; NaN propagates.
#[inline]
pub fn relu<X: Elementwise>(x: X) -> X {
    x.map_elements(relu_scalar)
}

/// Gradient of [`relu`], elementwise: `upstream` for x > 0, and 0 for x ≤ 0 (relu'(0) = 0, as
/// PyTorch and JAX); NaN at NaN.
#[inline]
pub fn relu_vjp<X: Elementwise>(x: X, upstream: X) -> X {
    x.zip_map_elements(upstream, relu_vjp_scalar)
}

/// Tangent of [`relu`], elementwise: `dx` for x > 0, 0 for x ≤ 0, NaN at NaN.
///
/// [`relu_vjp`] with `dx` as upstream, and 0 where `dx` is 0; the derivative is
/// recomputed from `x`, as there, so `out` is not read.
#[inline]
pub fn relu_jvp<X: Elementwise>(x: X, out: X, dx: X) -> X {
    let _ = out;
    x.zip_map_elements(dx, |x, d| flowing(d, relu_vjp_scalar(x, d)))
}

/// leaky_relu(x, slope) = x if x > 0, else slope · x, elementwise, with one `slope` shared by
/// every element.
///
/// ```
/// use grad_runtime::leaky_relu;
///
/// assert_eq!(leaky_relu(-2.0_f64, 0.1), -0.2);
/// assert_eq!(leaky_relu([-2.0_f64, 3.0], 0.5), [-1.0, 3.0]);
/// ```
#[inline]
pub fn leaky_relu<X: Elementwise>(x: X, slope: X::Scalar) -> X {
    x.map_elements(|x| leaky_relu_scalar(x, slope))
}

/// Gradient of [`leaky_relu`]: `(∂/∂x, ∂/∂slope)` times `upstream`.
///
/// Per element, `(1, 0)` for x > 0 and `(slope, x)` otherwise; at x = 0 the negative side
/// applies. The first entry has the shape of `x`; the second, the gradient of the shared
/// `slope`, is the sum Σᵢ upstreamᵢ · ∂yᵢ/∂slope over the elements.
#[inline]
pub fn leaky_relu_vjp<X: Elementwise>(x: X, slope: X::Scalar, upstream: X) -> (X, X::Scalar) {
    vjp_with_shared(x, slope, upstream, leaky_relu_vjp_scalar)
}

/// Tangent of [`leaky_relu`]: per element `dx` for x > 0 and `slope · dx + x · dslope`
/// otherwise (the negative side at x = 0), the transpose of [`leaky_relu_vjp`]; `out` is not
/// read.
#[inline]
pub fn leaky_relu_jvp<X: Elementwise>(
    x: X,
    slope: X::Scalar,
    out: X,
    dx: X,
    dslope: X::Scalar,
) -> X {
    let _ = out;
    jvp_with_shared(x, slope, dx, dslope, leaky_relu_vjp_scalar)
}

/// hard_tanh(x) = clamp(x, -1, 1), elementwise; NaN propagates.
#[inline]
pub fn hard_tanh<X: Elementwise>(x: X) -> X {
    x.map_elements(hard_tanh_scalar)
}

/// Gradient of [`hard_tanh`], elementwise: `upstream` strictly inside (-1, 1), and 0 at ±1 and
/// outside (as PyTorch); NaN at NaN.
#[inline]
pub fn hard_tanh_vjp<X: Elementwise>(x: X, upstream: X) -> X {
    x.zip_map_elements(upstream, hard_tanh_vjp_scalar)
}

/// Tangent of [`hard_tanh`], elementwise: `dx` strictly inside (-1, 1), 0 at ±1 and outside,
/// NaN at NaN.
///
/// [`hard_tanh_vjp`] with `dx` as upstream, and 0 where `dx` is 0; the derivative is
/// recomputed from `x`, as there, so `out` is not read.
#[inline]
pub fn hard_tanh_jvp<X: Elementwise>(x: X, out: X, dx: X) -> X {
    let _ = out;
    x.zip_map_elements(dx, |x, d| flowing(d, hard_tanh_vjp_scalar(x, d)))
}

/// swish(x) = x · σ(x) (also called SiLU), elementwise.
#[inline]
pub fn swish<X: Elementwise>(x: X) -> X {
    x.map_elements(swish_scalar)
}

/// Gradient of [`swish`], elementwise: `upstream · σ(x)(1 + x σ(-x))`.
#[inline]
pub fn swish_vjp<X: Elementwise>(x: X, upstream: X) -> X {
    x.zip_map_elements(upstream, swish_vjp_scalar)
}

/// Tangent of [`swish`], elementwise: `dx · σ(x)(1 + x σ(-x))`.
///
/// [`swish_vjp`] with `dx` as upstream, and 0 where `dx` is 0; the derivative is
/// recomputed from `x`, as there, so `out` is not read.
#[inline]
pub fn swish_jvp<X: Elementwise>(x: X, out: X, dx: X) -> X {
    let _ = out;
    x.zip_map_elements(dx, |x, d| flowing(d, swish_vjp_scalar(x, d)))
}

/// elu(x, alpha) = x if x > 0, else alpha · (e^x - 1), elementwise, with one `alpha` shared by
/// every element.
#[inline]
pub fn elu<X: Elementwise>(x: X, alpha: X::Scalar) -> X {
    x.map_elements(|x| elu_scalar(x, alpha))
}

/// Gradient of [`elu`]: `(∂/∂x, ∂/∂alpha)` times `upstream`.
///
/// Per element, `(1, 0)` for x > 0 and `(alpha e^x, e^x - 1)` otherwise; at x = 0 the negative
/// side applies (∂/∂x = alpha). The first entry has the shape of `x`; the second, the gradient
/// of the shared `alpha`, is the sum Σᵢ upstreamᵢ · ∂yᵢ/∂alpha over the elements.
#[inline]
pub fn elu_vjp<X: Elementwise>(x: X, alpha: X::Scalar, upstream: X) -> (X, X::Scalar) {
    vjp_with_shared(x, alpha, upstream, elu_vjp_scalar)
}

/// Tangent of [`elu`]: per element `dx` for x > 0 and `alpha e^x · dx + (e^x - 1) · dalpha`
/// otherwise (the negative side at x = 0), the transpose of [`elu_vjp`]; `out` is not read.
#[inline]
pub fn elu_jvp<X: Elementwise>(x: X, alpha: X::Scalar, out: X, dx: X, dalpha: X::Scalar) -> X {
    let _ = out;
    jvp_with_shared(x, alpha, dx, dalpha, elu_vjp_scalar)
}

/// The GELU tanh approximation, elementwise: 0.5 x (1 + tanh(u)) with
/// u = √(2/π)(x + 0.044715 x³).
///
/// Evaluated as x σ(2u), which is the same function (1 + tanh u = 2σ(2u)) without the
/// cancellation in 1 + tanh(u) for negative x.
#[inline]
pub fn gelu<X: Elementwise>(x: X) -> X {
    x.map_elements(gelu_scalar)
}

/// Gradient of [`gelu`], elementwise and exact for the tanh form:
/// `upstream · (s + 2 x s (1 - s) u')` with s = σ(2u) and u' = √(2/π)(1 + 3 · 0.044715 x²).
#[inline]
pub fn gelu_vjp<X: Elementwise>(x: X, upstream: X) -> X {
    x.zip_map_elements(upstream, gelu_vjp_scalar)
}

/// Tangent of [`gelu`], elementwise: `dx · (s + 2 x s (1 - s) u')`.
///
/// [`gelu_vjp`] with `dx` as upstream, and 0 where `dx` is 0; the derivative is
/// recomputed from `x`, as there, so `out` is not read.
#[inline]
pub fn gelu_jvp<X: Elementwise>(x: X, out: X, dx: X) -> X {
    let _ = out;
    x.zip_map_elements(dx, |x, d| flowing(d, gelu_vjp_scalar(x, d)))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod jvp_tests;
