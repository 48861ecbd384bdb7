//! The derivative rule of every differentiable float method: the one home for each rule.
//!
//! Each function is named after the method it differentiates and takes
//!
//! 1. the method's inputs in method order, receiver first,
//! 2. `out`, the method's result, already computed by the forward sweep (rules reuse it rather
//!    than recompute `exp`, `sqrt`, `tanh`, ...),
//! 3. `upstream`, the gradient flowing into the result,
//!
//! and returns `upstream` times the partial derivative with respect to each float input: a bare
//! value for one input, a tuple for two or three.
//!
//! Where the derivative is undefined (kinks, singularities, ties), each rule documents the
//! value it picks; the choices follow PyTorch and JAX, and avoid NaN wherever a finite
//! conventional value exists.
//!
//! ```
//! use grad_runtime::pullback;
//!
//! // d/dx x² at x = 3: out = 9, upstream = 1.
//! assert_eq!(pullback::powi(3.0_f64, 2, 9.0, 1.0), 6.0);
//! // max(a, b) at a tie splits the gradient.
//! assert_eq!(pullback::max(1.0_f64, 1.0, 1.0, 1.0), (0.5, 0.5));
//! ```

use crate::float::{Real, is_nan, literal, nan};

/// `amount`, or exactly zero when no gradient flows in (`upstream == 0`).
///
/// Rules whose slope can be infinite (`sqrt` at 0, `asin` at ±1, `ln` at 0) would otherwise
/// turn a zero upstream into `0 · ∞ = NaN`: a NaN in every other row of a Jacobian, or in the
/// gradient of a function that scales such a term by zero. A NaN upstream still propagates.
#[inline(always)]
fn flowing<T: Real>(upstream: T, amount: T) -> T {
    if upstream == T::zero() {
        T::zero()
    } else {
        amount
    }
}

/// `sin`: d/dx = cos x.
#[inline(always)]
pub fn sin<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    upstream * x.cos()
}

/// `cos`: d/dx = -sin x.
#[inline(always)]
pub fn cos<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    -(upstream * x.sin())
}

/// `tan`: d/dx = 1 + tan² x, from `out`.
#[inline(always)]
pub fn tan<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * (T::one() + out * out)
}

/// `asin`: d/dx = 1 / √(1 - x²); infinite at ±1, NaN outside `[-1, 1]`.
#[inline(always)]
pub fn asin<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(upstream, upstream / one_minus_square(x).sqrt())
}

/// `acos`: d/dx = -1 / √(1 - x²); infinite at ±1, NaN outside `[-1, 1]`.
#[inline(always)]
pub fn acos<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(upstream, -(upstream / one_minus_square(x).sqrt()))
}

/// `atan`: d/dx = 1 / (1 + x²); tends to 0 (not NaN) for huge |x|.
#[inline(always)]
pub fn atan<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    upstream / (T::one() + x * x)
}

/// `atan2` with receiver `y`: `(∂/∂y, ∂/∂x) = (x, -y) / (x² + y²)`, and `(0, 0)` at the
/// origin, where the angle is undefined.
///
/// Computed through `hypot` so that x² + y² neither overflows nor underflows.
#[inline(always)]
pub fn atan2<T: Real>(y: T, x: T, out: T, upstream: T) -> (T, T) {
    let _ = out;
    let r = y.hypot(x);
    if r == T::zero() {
        return (T::zero(), T::zero());
    }
    let scaled = upstream / r;
    (scaled * (x / r), -(scaled * (y / r)))
}

/// `sinh`: d/dx = cosh x.
#[inline(always)]
pub fn sinh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    upstream * x.cosh()
}

/// `cosh`: d/dx = sinh x.
#[inline(always)]
pub fn cosh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    upstream * x.sinh()
}

/// `grad::sigmoid` on a float: d/dx = σ(1 - σ), from `out`, so the reverse sweep does not
/// evaluate the sigmoid again (its `sigmoid_vjp` would).
#[inline(always)]
pub fn sigmoid<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * out * (T::one() - out)
}

/// `tanh`: d/dx = 1 - tanh² x, from `out`.
#[inline(always)]
pub fn tanh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * one_minus_square(out)
}

/// `asinh`: d/dx = 1 / √(x² + 1), computed as `1 / hypot(x, 1)` so that huge |x| does not
/// overflow.
#[inline(always)]
pub fn asinh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    upstream / x.hypot(T::one())
}

/// `acosh`: d/dx = 1 / √((x - 1)(x + 1)); infinite at 1, NaN below.
#[inline(always)]
pub fn acosh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(
        upstream,
        upstream / ((x - T::one()) * (x + T::one())).sqrt(),
    )
}

/// `atanh`: d/dx = 1 / (1 - x²); infinite at ±1.
#[inline(always)]
pub fn atanh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(upstream, upstream / one_minus_square(x))
}

/// `exp`: d/dx = eˣ = `out`.
#[inline(always)]
pub fn exp<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * out
}

/// `exp2`: d/dx = 2ˣ ln 2 = `out * LN_2`.
#[inline(always)]
pub fn exp2<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * (out * literal::<T>(core::f64::consts::LN_2))
}

/// `exp_m1`: d/dx = eˣ = `out + 1`.
///
/// For very negative x this rounds the (tiny) gradient to 0, an absolute error below
/// `EPSILON`.
#[inline(always)]
pub fn exp_m1<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * (out + T::one())
}

/// `ln`: d/dx = 1 / x; infinite at 0.
#[inline(always)]
pub fn ln<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(upstream, upstream / x)
}

/// `log2`: d/dx = 1 / (x ln 2).
#[inline(always)]
pub fn log2<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(
        upstream,
        upstream / (x * literal::<T>(core::f64::consts::LN_2)),
    )
}

/// `log10`: d/dx = 1 / (x ln 10).
#[inline(always)]
pub fn log10<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(
        upstream,
        upstream / (x * literal::<T>(core::f64::consts::LN_10)),
    )
}

/// `ln_1p`: d/dx = 1 / (1 + x); infinite at -1.
#[inline(always)]
pub fn ln_1p<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(upstream, upstream / (T::one() + x))
}

/// `log` (logarithm in base `base`): `(∂/∂x, ∂/∂base) = (1 / (x ln b), -out / (b ln b))`.
#[inline(always)]
pub fn log<T: Real>(x: T, base: T, out: T, upstream: T) -> (T, T) {
    let ln_base = base.ln();
    (
        flowing(upstream, upstream / (x * ln_base)),
        flowing(upstream, -(upstream * out / (base * ln_base))),
    )
}

/// `sqrt`: d/dx = 1 / (2√x) = `1 / (2 out)`, so sqrt'(0) = +∞ (the one-sided derivative).
#[inline(always)]
pub fn sqrt<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    // |out| so that sqrt(-0.0) = -0.0 also gets the +∞ of the convention.
    flowing(upstream, upstream / (literal::<T>(2.0) * out.abs()))
}

/// `cbrt`: d/dx = 1 / (3 ∛x²) = `1 / (3 out²)`, so cbrt'(0) = +∞.
#[inline(always)]
pub fn cbrt<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    flowing(upstream, upstream / (literal::<T>(3.0) * (out * out)))
}

/// `powi`: d/dx = n xⁿ⁻¹, and exactly 0 when n = 0 (x⁰ is constant, even at x = 0 where
/// n xⁿ⁻¹ would be 0 · ∞).
#[inline(always)]
pub fn powi<T: Real>(x: T, n: i32, out: T, upstream: T) -> T {
    if n == 0 {
        return T::zero();
    }
    // xⁿ⁻¹ directly rather than out / x: it stays right at x = 0 and where xⁿ over- or
    // underflows but xⁿ⁻¹ does not.
    let pow_n_minus_1 = match n.checked_sub(1) {
        Some(m) => x.powi(m),
        None => out / x,
    };
    flowing(
        upstream,
        upstream * (literal::<T>(f64::from(n)) * pow_n_minus_1),
    )
}

/// `powf` (x raised to p): `(∂/∂x, ∂/∂p) = (p x^(p-1), out ln x)`.
///
/// Conventions: ∂/∂x is exactly 0 when p = 0 (x⁰ is constant); ∂/∂p is exactly 0 when x = 0 and
/// p > 0 (0^p is constant there), instead of the NaN of 0 · (-∞). For x < 0, ∂/∂p is NaN (the
/// logarithm is complex).
#[inline(always)]
pub fn powf<T: Real>(x: T, p: T, out: T, upstream: T) -> (T, T) {
    let d_x = if p == T::zero() {
        T::zero()
    } else {
        upstream * (p * x.powf(p - T::one()))
    };
    let d_p = if x == T::zero() && p > T::zero() {
        T::zero()
    } else {
        upstream * (out * x.ln())
    };
    (flowing(upstream, d_x), flowing(upstream, d_p))
}

/// `hypot`: `(∂/∂x, ∂/∂y) = (x, y) / out`, and `(0, 0)` when out = 0 (at the origin, where the
/// norm has a kink).
///
/// Each ratio lies in [-1, 1], so it is formed before multiplying by `upstream` to avoid
/// overflow when `out` is tiny.
#[inline(always)]
pub fn hypot<T: Real>(x: T, y: T, out: T, upstream: T) -> (T, T) {
    if out == T::zero() {
        return (T::zero(), T::zero());
    }
    (upstream * (x / out), upstream * (y / out))
}

/// `mul_add` (x · a + b): `(∂/∂x, ∂/∂a, ∂/∂b) = (a, x, 1)`.
#[inline(always)]
pub fn mul_add<T: Real>(x: T, a: T, b: T, out: T, upstream: T) -> (T, T, T) {
    let _ = (b, out);
    (upstream * a, upstream * x, upstream)
}

/// `recip`: d/dx = -1 / x² = `-out²`.
#[inline(always)]
pub fn recip<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    flowing(upstream, -(upstream * (out * out)))
}

/// `abs`: d/dx = sign of x, with abs'(0) = 0 (for `-0` too, as PyTorch and JAX), and NaN at
/// NaN.
#[inline(always)]
pub fn abs<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    if x > T::zero() {
        upstream
    } else if x < T::zero() {
        -upstream
    } else if x == T::zero() {
        T::zero()
    } else {
        nan::<T>()
    }
}

/// `max`: the gradient goes to the larger operand.
///
/// Conventions: a tie (a == b) splits `upstream` evenly, half to each (as PyTorch and JAX do);
/// if exactly one operand is NaN the whole gradient goes to the other, which is what `max`
/// returns; if both are NaN both partials are NaN.
#[inline(always)]
pub fn max<T: Real>(a: T, b: T, out: T, upstream: T) -> (T, T) {
    let _ = out;
    select(a > b, a < b, a, b, upstream)
}

/// `min`: the gradient goes to the smaller operand.
///
/// Conventions: a tie (a == b) splits `upstream` evenly, half to each (as PyTorch and JAX do);
/// if exactly one operand is NaN the whole gradient goes to the other, which is what `min`
/// returns; if both are NaN both partials are NaN.
#[inline(always)]
pub fn min<T: Real>(a: T, b: T, out: T, upstream: T) -> (T, T) {
    let _ = out;
    select(a < b, a > b, a, b, upstream)
}

/// Routes `upstream` for `max`/`min`: to `a` if `a_wins`, to `b` if `b_wins`, else a tie or a
/// NaN.
#[inline(always)]
fn select<T: Real>(a_wins: bool, b_wins: bool, a: T, b: T, upstream: T) -> (T, T) {
    if a_wins || (is_nan(b) && !is_nan(a)) {
        (upstream, T::zero())
    } else if b_wins || (is_nan(a) && !is_nan(b)) {
        (T::zero(), upstream)
    } else if a == b {
        let half = upstream * literal::<T>(0.5);
        (half, half)
    } else {
        (nan::<T>(), nan::<T>())
    }
}

/// `clamp(x, lo, hi)`: `(∂/∂x, ∂/∂lo, ∂/∂hi)`, the gradient going to whichever input is
/// returned.
///
/// Conventions: to x when lo ≤ x ≤ hi, bounds included (as PyTorch); to `lo` when x < lo; to
/// `hi` when x > hi. A NaN x is returned as is, so the gradient goes to x.
#[inline(always)]
pub fn clamp<T: Real>(x: T, lo: T, hi: T, out: T, upstream: T) -> (T, T, T) {
    let _ = out;
    if x < lo {
        (T::zero(), upstream, T::zero())
    } else if x > hi {
        (T::zero(), T::zero(), upstream)
    } else {
        (upstream, T::zero(), T::zero())
    }
}

/// `copysign`: `(∂/∂x, ∂/∂sign) = (±1, 0)`, +1 when the sign bits of x and `sign` are equal
/// (the result is x) and -1 otherwise (the result is -x). The sign of `sign` is a step, so its
/// partial is 0.
#[inline(always)]
pub fn copysign<T: Real>(x: T, sign: T, out: T, upstream: T) -> (T, T) {
    let _ = out;
    let d_x = if x.is_sign_negative() == sign.is_sign_negative() {
        upstream
    } else {
        -upstream
    };
    (d_x, T::zero())
}

/// `%` (the remainder x - trunc(x / y) · y): `(∂/∂x, ∂/∂y) = (1, -trunc(x / y))`.
///
/// The quotient is recovered as `(x - out) / y`, rounded, rather than as `trunc(x / y)`: the
/// rounded division can land on the wrong integer (`1.0 % 0.1` has quotient 9, but
/// `1.0 / 0.1 == 10.0`), while `out` is the exact remainder the forward sweep used.
#[inline(always)]
pub fn rem<T: Real>(x: T, y: T, out: T, upstream: T) -> (T, T) {
    let quotient = ((x - out) / y).round();
    (upstream, -(upstream * quotient))
}

/// `to_degrees`: d/dx = 180 / π, applied with the same constant as the forward method.
#[inline(always)]
pub fn to_degrees<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = (x, out);
    upstream.to_degrees()
}

/// `to_radians`: d/dx = π / 180, applied with the same constant as the forward method.
#[inline(always)]
pub fn to_radians<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = (x, out);
    upstream.to_radians()
}

/// `fract` (x - trunc x): d/dx = 1 away from the integers, and 1 at them too (the jumps are
/// ignored, as for `floor` and friends whose gradient is 0).
#[inline(always)]
pub fn fract<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = (x, out);
    upstream
}

/// `1 - v²` as `(1 - v)(1 + v)`, which keeps its relative accuracy when |v| is near 1.
#[inline(always)]
fn one_minus_square<T: Real>(v: T) -> T {
    (T::one() - v) * (T::one() + v)
}

#[cfg(test)]
mod tests;
