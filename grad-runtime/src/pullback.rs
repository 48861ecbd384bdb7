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
//! Beside each pullback is its tangent rule for forward mode, `<name>_tangent`, which takes
//!
//! 1. the method's inputs in method order, integer ones (`powi`'s `n`) included,
//! 2. `out`, the method's result,
//! 3. one tangent per float input, in the same order,
//!
//! and returns the tangent of the result, Σᵢ ∂out/∂inputᵢ · dᵢ. Each is exactly the transpose
//! of its pullback, conventions included: at every point (kinks, ties and singularities too),
//! `<name>_tangent(inputs, out, eᵢ)` equals entry i of `<name>(inputs, out, 1)`. A rule of one
//! input is its own pullback with the tangent as upstream. A zero tangent contributes exactly
//! 0, even where its partial is infinite or NaN (`sqrt` at 0, `exp` past overflow, `abs` at
//! NaN), so an input held constant never turns the result into NaN, and all-zero tangents give
//! exactly 0 at every point; a NaN tangent propagates, except through a partial the pullback
//! fixes at 0 (`copysign`'s sign, `atan2` at the origin, the operand `max` does not return).
//! Each tangent reads the same values (`out` or the inputs) as its pullback, so the `reads`
//! column of grad-expand's rule table holds for both: a rule that reads only its output may be
//! given the output in place of its input, one that reads only its inputs its receiver in
//! place of `out`.
//!
//! Beside each tangent rule is its own reverse-mode rule, `<name>_tangent_vjp(inputs.., out,
//! tangents.., upstream)`, for second derivatives by reverse mode over forward mode: it
//! returns `upstream` times the partial of the tangent rule, as written, with respect to each
//! float argument in order, `out` and the tangents included (`out` is an independent argument:
//! `exp_tangent_vjp` gives `∂/∂x = 0`, `∂/∂out = dx`). At kinks and ties each partial is that
//! of the branch taken. A zero tangent makes the rule constant, so the inputs and `out` get
//! exactly 0 from its term, while the tangent's own entry keeps its slope, which is the
//! method's pullback with `upstream` (conventions included, `+∞` for `sqrt` at 0). A zero
//! upstream gives exactly 0 entries; NaN propagates.
//!
//! ```
//! use grad_runtime::pullback;
//!
//! // d/dx x² at x = 3: out = 9, upstream = 1.
//! assert_eq!(pullback::powi(3.0_f64, 2, 9.0, 1.0), 6.0);
//! // max(a, b) at a tie splits the gradient.
//! assert_eq!(pullback::max(1.0_f64, 1.0, 1.0, 1.0), (0.5, 0.5));
//! // Forward mode: the tangent of atan2(y, x) along (dy, dx) = (1, 0) at (y, x) = (0, 2).
//! assert_eq!(pullback::atan2_tangent(0.0_f64, 2.0, 0.0, 1.0, 0.0), 0.5);
//! assert_eq!(pullback::max_tangent(1.0_f64, 1.0, 1.0, 1.0, 0.0), 0.5);
//! ```

use crate::float::{Real, is_nan, literal, nan};

// Reverse mode through the tangent rules, `<name>_tangent_vjp`, for second derivatives.
pub use crate::second_order::*;

/// `amount`, or exactly zero when no gradient flows in (`upstream == 0`); in a tangent rule,
/// when the tangent is zero.
///
/// Rules whose slope can be infinite (`sqrt` at 0, `asin` at ±1, `ln` at 0) would otherwise
/// turn a zero upstream into `0 · ∞ = NaN`: a NaN in every other row of a Jacobian, or in the
/// gradient of a function that scales such a term by zero. A NaN upstream still propagates.
#[inline(always)]
pub(crate) fn flowing<T: Real>(upstream: T, amount: T) -> T {
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

/// The tangent of `sin`: dx · cos x.
///
/// [`sin`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn sin_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, sin(x, out, dx))
}

/// `cos`: d/dx = -sin x.
#[inline(always)]
pub fn cos<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    -(upstream * x.sin())
}

/// The tangent of `cos`: -dx · sin x.
///
/// [`cos`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn cos_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, cos(x, out, dx))
}

/// `tan`: d/dx = 1 + tan² x, from `out`.
#[inline(always)]
pub fn tan<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * (T::one() + out * out)
}

/// The tangent of `tan`: dx · (1 + out²).
///
/// [`tan`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn tan_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, tan(x, out, dx))
}

/// `asin`: d/dx = 1 / √(1 - x²); infinite at ±1, NaN outside `[-1, 1]`.
#[inline(always)]
pub fn asin<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(upstream, upstream / one_minus_square(x).sqrt())
}

/// The tangent of `asin`: dx / √(1 - x²).
///
/// [`asin`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn asin_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, asin(x, out, dx))
}

/// `acos`: d/dx = -1 / √(1 - x²); infinite at ±1, NaN outside `[-1, 1]`.
#[inline(always)]
pub fn acos<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(upstream, -(upstream / one_minus_square(x).sqrt()))
}

/// The tangent of `acos`: -dx / √(1 - x²).
///
/// [`acos`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn acos_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, acos(x, out, dx))
}

/// `atan`: d/dx = 1 / (1 + x²); tends to 0 (not NaN) for huge |x|.
#[inline(always)]
pub fn atan<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    upstream / (T::one() + x * x)
}

/// The tangent of `atan`: dx / (1 + x²).
///
/// [`atan`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn atan_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, atan(x, out, dx))
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

/// The tangent of `atan2` (receiver `y`): `(x dy - y dx) / (x² + y²)`, and 0 at the origin,
/// the transpose of [`atan2`].
///
/// A zero tangent contributes exactly 0 (a NaN `dy` or `dx` propagates); at the origin the
/// result is 0 whatever the tangents, as the pullback's partials are.
#[inline(always)]
pub fn atan2_tangent<T: Real>(y: T, x: T, out: T, dy: T, dx: T) -> T {
    let _ = out;
    let r = y.hypot(x);
    if r == T::zero() {
        return T::zero();
    }
    flowing(dy, dy / r * (x / r)) + flowing(dx, -(dx / r * (y / r)))
}

/// `sinh`: d/dx = cosh x.
#[inline(always)]
pub fn sinh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    upstream * x.cosh()
}

/// The tangent of `sinh`: dx · cosh x.
///
/// [`sinh`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn sinh_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, sinh(x, out, dx))
}

/// `cosh`: d/dx = sinh x.
#[inline(always)]
pub fn cosh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    upstream * x.sinh()
}

/// The tangent of `cosh`: dx · sinh x.
///
/// [`cosh`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn cosh_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, cosh(x, out, dx))
}

/// `grad::sigmoid` on a float: d/dx = σ(1 - σ), from `out`, so the reverse sweep does not
/// evaluate the sigmoid again (its `sigmoid_vjp` would).
#[inline(always)]
pub fn sigmoid<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * out * (T::one() - out)
}

/// The tangent of `sigmoid`: dx · out (1 - out).
///
/// [`sigmoid`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn sigmoid_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, sigmoid(x, out, dx))
}

/// `tanh`: d/dx = 1 - tanh² x, from `out`.
#[inline(always)]
pub fn tanh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * one_minus_square(out)
}

/// The tangent of `tanh`: dx · (1 - out²).
///
/// [`tanh`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn tanh_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, tanh(x, out, dx))
}

/// `asinh`: d/dx = 1 / √(x² + 1), computed as `1 / hypot(x, 1)` so that huge |x| does not
/// overflow.
#[inline(always)]
pub fn asinh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    upstream / x.hypot(T::one())
}

/// The tangent of `asinh`: dx / hypot(x, 1).
///
/// [`asinh`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn asinh_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, asinh(x, out, dx))
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

/// The tangent of `acosh`: dx / √((x - 1)(x + 1)).
///
/// [`acosh`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn acosh_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, acosh(x, out, dx))
}

/// `atanh`: d/dx = 1 / (1 - x²); infinite at ±1.
#[inline(always)]
pub fn atanh<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(upstream, upstream / one_minus_square(x))
}

/// The tangent of `atanh`: dx / (1 - x²).
///
/// [`atanh`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn atanh_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, atanh(x, out, dx))
}

/// `exp`: d/dx = eˣ = `out`.
#[inline(always)]
pub fn exp<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * out
}

/// The tangent of `exp`: dx · out.
///
/// [`exp`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn exp_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, exp(x, out, dx))
}

/// `exp2`: d/dx = 2ˣ ln 2 = `out * LN_2`.
#[inline(always)]
pub fn exp2<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    upstream * (out * literal::<T>(core::f64::consts::LN_2))
}

/// The tangent of `exp2`: dx · out ln 2.
///
/// [`exp2`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn exp2_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, exp2(x, out, dx))
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

/// The tangent of `exp_m1`: dx · (out + 1).
///
/// [`exp_m1`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn exp_m1_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, exp_m1(x, out, dx))
}

/// `ln`: d/dx = 1 / x; infinite at 0.
#[inline(always)]
pub fn ln<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(upstream, upstream / x)
}

/// The tangent of `ln`: dx / x.
///
/// [`ln`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn ln_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, ln(x, out, dx))
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

/// The tangent of `log2`: dx / (x ln 2).
///
/// [`log2`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn log2_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, log2(x, out, dx))
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

/// The tangent of `log10`: dx / (x ln 10).
///
/// [`log10`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn log10_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, log10(x, out, dx))
}

/// `ln_1p`: d/dx = 1 / (1 + x); infinite at -1.
#[inline(always)]
pub fn ln_1p<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = out;
    flowing(upstream, upstream / (T::one() + x))
}

/// The tangent of `ln_1p`: dx / (1 + x).
///
/// [`ln_1p`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn ln_1p_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, ln_1p(x, out, dx))
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

/// The tangent of `log` (base `base`): `dx / (x ln b) - dbase · out / (b ln b)`, the
/// transpose of [`log`]; a zero tangent contributes exactly 0.
#[inline(always)]
pub fn log_tangent<T: Real>(x: T, base: T, out: T, dx: T, dbase: T) -> T {
    let ln_base = base.ln();
    flowing(dx, dx / (x * ln_base)) + flowing(dbase, -(dbase * out / (base * ln_base)))
}

/// `sqrt`: d/dx = 1 / (2√x) = `1 / (2 out)`, so sqrt'(0) = +∞ (the one-sided derivative).
#[inline(always)]
pub fn sqrt<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    // |out| so that sqrt(-0.0) = -0.0 also gets the +∞ of the convention.
    flowing(upstream, upstream / (literal::<T>(2.0) * out.abs()))
}

/// The tangent of `sqrt`: dx / (2 |out|).
///
/// [`sqrt`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn sqrt_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, sqrt(x, out, dx))
}

/// `cbrt`: d/dx = 1 / (3 ∛x²) = `1 / (3 out²)`, so cbrt'(0) = +∞.
#[inline(always)]
pub fn cbrt<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    flowing(upstream, upstream / (literal::<T>(3.0) * (out * out)))
}

/// The tangent of `cbrt`: dx / (3 out²).
///
/// [`cbrt`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn cbrt_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, cbrt(x, out, dx))
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
    // `(ā n) xⁿ⁻¹`, not `ā (n xⁿ⁻¹)`: the same two roundings, and where the upstream is the
    // same in every iteration of a loop (a sum of maps), `ā n` is computed once, as a
    // hand-written `2.0 * x.powi(3)` folds its constant.
    flowing(
        upstream,
        (upstream * literal::<T>(f64::from(n))) * pow_n_minus_1,
    )
}

/// The tangent of `powi`: `n xⁿ⁻¹ dx`, exactly 0 when n = 0 or `dx` is 0; [`powi`] with `dx`
/// as upstream (the integer `n` has no tangent), conventions included.
#[inline(always)]
pub fn powi_tangent<T: Real>(x: T, n: i32, out: T, dx: T) -> T {
    flowing(dx, powi(x, n, out, dx))
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

/// The tangent of `powf`: `p x^(p-1) dx + out ln x · dp`, the transpose of [`powf`] with its
/// conventions (the first term is 0 when p = 0, the second when x = 0 and p > 0); a zero
/// tangent contributes exactly 0.
#[inline(always)]
pub fn powf_tangent<T: Real>(x: T, p: T, out: T, dx: T, dp: T) -> T {
    let d_x = if p == T::zero() {
        T::zero()
    } else {
        dx * (p * x.powf(p - T::one()))
    };
    let d_p = if x == T::zero() && p > T::zero() {
        T::zero()
    } else {
        dp * (out * x.ln())
    };
    flowing(dx, d_x) + flowing(dp, d_p)
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

/// The tangent of `hypot`: `(x dx + y dy) / out`, and 0 at the origin (out = 0), the
/// transpose of [`hypot`]; a zero tangent contributes exactly 0.
#[inline(always)]
pub fn hypot_tangent<T: Real>(x: T, y: T, out: T, dx: T, dy: T) -> T {
    if out == T::zero() {
        return T::zero();
    }
    flowing(dx, dx * (x / out)) + flowing(dy, dy * (y / out))
}

/// `mul_add` (x · a + b): `(∂/∂x, ∂/∂a, ∂/∂b) = (a, x, 1)`.
#[inline(always)]
pub fn mul_add<T: Real>(x: T, a: T, b: T, out: T, upstream: T) -> (T, T, T) {
    let _ = (b, out);
    (upstream * a, upstream * x, upstream)
}

/// The tangent of `mul_add` (x · a + b): `a dx + x da + db`, the transpose of [`mul_add`]; a
/// zero tangent contributes exactly 0 (so an infinite `x` with a constant `a` gives no NaN).
#[inline(always)]
pub fn mul_add_tangent<T: Real>(x: T, a: T, b: T, out: T, dx: T, da: T, db: T) -> T {
    let _ = (b, out);
    flowing(dx, dx * a) + flowing(da, da * x) + db
}

/// `recip`: d/dx = -1 / x² = `-out²`.
#[inline(always)]
pub fn recip<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = x;
    flowing(upstream, -(upstream * (out * out)))
}

/// The tangent of `recip`: -dx · out².
///
/// [`recip`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn recip_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, recip(x, out, dx))
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

/// The tangent of `abs`: dx · sign x (0 at ±0, NaN at NaN).
///
/// [`abs`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn abs_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, abs(x, out, dx))
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

/// The tangent of `max`: the tangent of the larger operand, the transpose of [`max`]: at a tie
/// the mean `(da + db) / 2`, with exactly one NaN operand the other's tangent, with both NaN
/// NaN.
#[inline(always)]
pub fn max_tangent<T: Real>(a: T, b: T, out: T, da: T, db: T) -> T {
    let _ = out;
    select_tangent(a > b, a < b, a, b, da, db)
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

/// The tangent of `min`: the tangent of the smaller operand, the transpose of [`min`]: at a
/// tie the mean `(da + db) / 2`, with exactly one NaN operand the other's tangent, with both
/// NaN NaN.
#[inline(always)]
pub fn min_tangent<T: Real>(a: T, b: T, out: T, da: T, db: T) -> T {
    let _ = out;
    select_tangent(a < b, a > b, a, b, da, db)
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

/// The tangent routed by `max`/`min`, the transpose of [`select`].
#[inline(always)]
fn select_tangent<T: Real>(a_wins: bool, b_wins: bool, a: T, b: T, da: T, db: T) -> T {
    if a_wins || (is_nan(b) && !is_nan(a)) {
        da
    } else if b_wins || (is_nan(a) && !is_nan(b)) {
        db
    } else if a == b {
        let half = literal::<T>(0.5);
        da * half + db * half
    } else {
        // Both NaN: NaN along either operand, as the pullback's partials, but a zero tangent
        // still gives 0.
        flowing(da, nan::<T>()) + flowing(db, nan::<T>())
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

/// The tangent of `clamp(x, lo, hi)`: the tangent of whichever input is returned, the
/// transpose of [`clamp`]: `dx` when lo ≤ x ≤ hi (bounds included) or x is NaN, `dlo` when
/// x < lo, `dhi` when x > hi.
#[inline(always)]
pub fn clamp_tangent<T: Real>(x: T, lo: T, hi: T, out: T, dx: T, dlo: T, dhi: T) -> T {
    let _ = out;
    if x < lo {
        dlo
    } else if x > hi {
        dhi
    } else {
        dx
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

/// The tangent of `copysign`: `±dx`, + when the sign bits of x and `sign` are equal, the
/// transpose of [`copysign`]. The sign is a step, so `dsign` is ignored (even a NaN one).
#[inline(always)]
pub fn copysign_tangent<T: Real>(x: T, sign: T, out: T, dx: T, dsign: T) -> T {
    let _ = (out, dsign);
    if x.is_sign_negative() == sign.is_sign_negative() {
        dx
    } else {
        -dx
    }
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

/// The tangent of `%`: `dx - trunc(x / y) dy`, with the quotient recovered from `out` as
/// [`rem`] does, its transpose. A zero `dy` contributes exactly 0, also where the quotient
/// is NaN or infinite (`y = 0`, `x` infinite).
#[inline(always)]
pub fn rem_tangent<T: Real>(x: T, y: T, out: T, dx: T, dy: T) -> T {
    let quotient = ((x - out) / y).round();
    dx + flowing(dy, -(dy * quotient))
}

/// `to_degrees`: d/dx = 180 / π, applied with the same constant as the forward method.
#[inline(always)]
pub fn to_degrees<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = (x, out);
    upstream.to_degrees()
}

/// The tangent of `to_degrees`: dx · 180 / π.
///
/// [`to_degrees`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn to_degrees_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, to_degrees(x, out, dx))
}

/// `to_radians`: d/dx = π / 180, applied with the same constant as the forward method.
#[inline(always)]
pub fn to_radians<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = (x, out);
    upstream.to_radians()
}

/// The tangent of `to_radians`: dx · π / 180.
///
/// [`to_radians`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn to_radians_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, to_radians(x, out, dx))
}

/// `fract` (x - trunc x): d/dx = 1 away from the integers, and 1 at them too (the jumps are
/// ignored, as for `floor` and friends whose gradient is 0).
#[inline(always)]
pub fn fract<T: Real>(x: T, out: T, upstream: T) -> T {
    let _ = (x, out);
    upstream
}

/// The tangent of `fract`: dx.
///
/// [`fract`] with `dx` as upstream (a rule of one input is its own transpose),
/// conventions included, and exactly 0 when `dx` is 0.
#[inline(always)]
pub fn fract_tangent<T: Real>(x: T, out: T, dx: T) -> T {
    flowing(dx, fract(x, out, dx))
}

/// `1 - v²` as `(1 - v)(1 + v)`, which keeps its relative accuracy when |v| is near 1.
#[inline(always)]
fn one_minus_square<T: Real>(v: T) -> T {
    (T::one() - v) * (T::one() + v)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tangent_tests;
