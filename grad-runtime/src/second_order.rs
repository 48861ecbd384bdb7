//! Reverse mode through the tangent rules: `<name>_tangent_vjp`, for second derivatives.
//!
//! grad computes Hessian-vector products by running its reverse mode over the code its
//! forward mode generates, and that code calls `pullback::<name>_tangent(inputs.., out,
//! tangents..)`. Reverse mode differentiates a call `p::g(args)` through `p::g_vjp(args..,
//! upstream)`, so beside each tangent rule is its `_vjp`, reachable as
//! `pullback::<name>_tangent_vjp`. It takes the tangent rule's arguments followed by
//! `upstream`, the gradient flowing into the tangent's result, and returns `upstream` times
//! the partial derivative with respect to each float argument, in argument order (integer
//! arguments such as `powi`'s `n` get no entry): for a rule of one input a tuple
//! `(∂/∂x, ∂/∂out, ∂/∂dx)`, for two inputs `(∂/∂a, ∂/∂b, ∂/∂out, ∂/∂da, ∂/∂db)`, and so on.
//!
//! **Every argument is independent.** `out` is an ordinary argument: each tangent rule is
//! differentiated exactly as written, so `exp_tangent(x, out, dx) = dx · out` has
//! `∂/∂x = 0` and `∂/∂out = dx`, while `sin_tangent(x, out, dx) = cos x · dx` has
//! `∂/∂x = -sin x · dx` and `∂/∂out = 0`. The reverse sweep carries `out`'s adjoint on to
//! the input through the method's own pullback. Where a closed form needs the method's value
//! of an input it reads it from `out` (`-sin x` is `-out` for `sin`), which the calling
//! convention guarantees is the method's result.
//!
//! Conventions, shared by every function here:
//!
//! - **The branch taken.** At kinks, ties and the special cases of a rule (`max` at a tie,
//!   `clamp` at a bound, `hypot` and `atan2` at the origin, `abs` at 0, the remainder's
//!   rounded quotient), each partial is the derivative of the tangent rule on the branch it
//!   takes at that point: `max_tangent` at a > b returns `da`, so `∂/∂da = 1` and every other
//!   partial is 0; at a tie it returns `(da + db) / 2`. The exceptions are documented on the
//!   function (`powf` at p = 0).
//! - **A zero tangent.** The tangent rules give exactly 0 for a zero tangent (`flowing`): as
//!   written they are then constant in the other arguments, so the partials that a term with
//!   a zero tangent contributes to the inputs and `out` are exactly 0. The partial with
//!   respect to the tangent itself is the term's slope in it, as if the rule did not special
//!   case 0: the rule is linear in each tangent, and that slope is the method's first
//!   derivative, which a Hessian-vector product needs even when an intermediate tangent
//!   happens to be 0. So the entry of a tangent is the method's own pullback with `upstream`,
//!   conventions included: where the slope is infinite (`sqrt` at 0, `ln` at 0, `asin` at
//!   ±1) the entry is the pullback's ±∞, and where it is NaN (outside the domain) NaN.
//! - **A zero upstream** gives exactly 0 in every entry, even where a partial is infinite or
//!   NaN, as the pullbacks do: a zero row of a Jacobian stays zero.
//! - **NaN** in an argument propagates to the entries whose partial reads it; an entry whose
//!   partial is 0 on the branch taken is exactly 0 (as the pullbacks' fixed zeros), even for
//!   a NaN upstream.
//!
//! ```
//! use grad_runtime::pullback;
//!
//! // sin_tangent(x, out, dx) = cos x · dx: ∂/∂x = -sin x · dx, ∂/∂out = 0, ∂/∂dx = cos x.
//! let (x, dx) = (0.5_f64, 2.0);
//! let (d_x, d_out, d_dx) = pullback::sin_tangent_vjp(x, x.sin(), dx, 1.0);
//! assert_eq!((d_x, d_out, d_dx), (-(dx * x.sin()), 0.0, x.cos()));
//! ```

use crate::float::{Real, literal};
use crate::pullback::{self, flowing};

/// `value`, or exactly 0 when the term's tangent or the upstream is 0: the partial of a
/// `flowing(tangent, ..)` term with respect to an argument other than its tangent.
#[inline(always)]
fn term<T: Real>(tangent: T, upstream: T, value: T) -> T {
    if tangent == T::zero() || upstream == T::zero() {
        T::zero()
    } else {
        value
    }
}

/// `1 - v²` as `(1 - v)(1 + v)`, as the pullbacks compute it.
#[inline(always)]
fn one_minus_square<T: Real>(v: T) -> T {
    (T::one() - v) * (T::one() + v)
}

/// `(0, 0, entry)`: a rule of one input whose slope reads neither x nor `out` (or whose
/// every branch is constant in them).
#[inline(always)]
fn flat<T: Real>(entry: T) -> (T, T, T) {
    (T::zero(), T::zero(), entry)
}

/// Reverse mode through [`sin_tangent`](pullback::sin_tangent) `= dx · cos x`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (-dx sin x, 0, cos x)` times `upstream`, with `sin x` read from
/// `out`.
#[inline(always)]
pub fn sin_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        term(dx, upstream, -(upstream * dx * out)),
        T::zero(),
        flowing(upstream, pullback::sin(x, out, upstream)),
    )
}

/// Reverse mode through [`cos_tangent`](pullback::cos_tangent) `= -dx · sin x`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (-dx cos x, 0, -sin x)` times `upstream`, with `cos x` read from
/// `out`.
#[inline(always)]
pub fn cos_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        term(dx, upstream, -(upstream * dx * out)),
        T::zero(),
        flowing(upstream, pullback::cos(x, out, upstream)),
    )
}

/// Reverse mode through [`tan_tangent`](pullback::tan_tangent) `= dx · (1 + out²)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, 2 dx out, 1 + out²)` times `upstream`.
#[inline(always)]
pub fn tan_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        T::zero(),
        term(dx, upstream, literal::<T>(2.0) * (upstream * dx) * out),
        flowing(upstream, pullback::tan(x, out, upstream)),
    )
}

/// Reverse mode through [`asin_tangent`](pullback::asin_tangent) `= dx / √(1 - x²)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (dx x / (1 - x²)^(3/2), 0, 1 / √(1 - x²))` times `upstream`;
/// infinite at ±1 (for a nonzero `dx`), NaN outside `[-1, 1]`.
#[inline(always)]
pub fn asin_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let s = one_minus_square(x);
    (
        term(dx, upstream, upstream * dx * x / (s * s.sqrt())),
        T::zero(),
        flowing(upstream, pullback::asin(x, out, upstream)),
    )
}

/// Reverse mode through [`acos_tangent`](pullback::acos_tangent) `= -dx / √(1 - x²)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (-dx x / (1 - x²)^(3/2), 0, -1 / √(1 - x²))` times `upstream`;
/// infinite at ±1 (for a nonzero `dx`), NaN outside `[-1, 1]`.
#[inline(always)]
pub fn acos_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let s = one_minus_square(x);
    (
        term(dx, upstream, -(upstream * dx * x / (s * s.sqrt()))),
        T::zero(),
        flowing(upstream, pullback::acos(x, out, upstream)),
    )
}

/// Reverse mode through [`atan_tangent`](pullback::atan_tangent) `= dx / (1 + x²)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (-2 dx x / (1 + x²)², 0, 1 / (1 + x²))` times `upstream`.
#[inline(always)]
pub fn atan_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let q = T::one() + x * x;
    (
        term(
            dx,
            upstream,
            -(literal::<T>(2.0) * (upstream * dx) * (x / q) / q),
        ),
        T::zero(),
        flowing(upstream, pullback::atan(x, out, upstream)),
    )
}

/// Reverse mode through [`atan2_tangent`](pullback::atan2_tangent) (receiver `y`)
/// `= (x dy - y dx) / r²` with r = hypot(y, x): `(∂/∂y, ∂/∂x, ∂/∂out, ∂/∂dy, ∂/∂dx)` times
/// `upstream`. With c = x / r and s = y / r:
///
/// - ∂/∂y = (-2 c s dy + (s² - c²) dx) / r²,
/// - ∂/∂x = ((s² - c²) dy + 2 c s dx) / r²,
/// - ∂/∂out = 0, and (∂/∂dy, ∂/∂dx) = (x, -y) / r², the pullback [`atan2`](pullback::atan2).
///
/// At the origin (r = 0) the rule returns 0 whatever its arguments, so every entry is 0.
#[inline(always)]
pub fn atan2_tangent_vjp<T: Real>(
    y: T,
    x: T,
    out: T,
    dy: T,
    dx: T,
    upstream: T,
) -> (T, T, T, T, T) {
    let zero = T::zero();
    let r = y.hypot(x);
    if r == zero {
        return (zero, zero, zero, zero, zero);
    }
    let (c, s) = (x / r, y / r);
    let two_cs = literal::<T>(2.0) * c * s;
    let diff = (s - c) * (s + c);
    let up_dy = upstream * dy / r / r;
    let up_dx = upstream * dx / r / r;
    let (d_dy, d_dx) = pullback::atan2(y, x, out, upstream);
    (
        term(dy, upstream, -(two_cs * up_dy)) + term(dx, upstream, diff * up_dx),
        term(dy, upstream, diff * up_dy) + term(dx, upstream, two_cs * up_dx),
        zero,
        flowing(upstream, d_dy),
        flowing(upstream, d_dx),
    )
}

/// Reverse mode through [`sinh_tangent`](pullback::sinh_tangent) `= dx · cosh x`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (dx sinh x, 0, cosh x)` times `upstream`, with `sinh x` read from
/// `out`.
#[inline(always)]
pub fn sinh_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        term(dx, upstream, upstream * dx * out),
        T::zero(),
        flowing(upstream, pullback::sinh(x, out, upstream)),
    )
}

/// Reverse mode through [`cosh_tangent`](pullback::cosh_tangent) `= dx · sinh x`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (dx cosh x, 0, sinh x)` times `upstream`, with `cosh x` read from
/// `out`.
#[inline(always)]
pub fn cosh_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        term(dx, upstream, upstream * dx * out),
        T::zero(),
        flowing(upstream, pullback::cosh(x, out, upstream)),
    )
}

/// Reverse mode through [`sigmoid_tangent`](pullback::sigmoid_tangent)
/// `= dx · out (1 - out)`: `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, dx (1 - 2 out), out (1 - out))` times
/// `upstream`.
#[inline(always)]
pub fn sigmoid_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        T::zero(),
        term(dx, upstream, upstream * dx * ((T::one() - out) - out)),
        flowing(upstream, pullback::sigmoid(x, out, upstream)),
    )
}

/// Reverse mode through [`tanh_tangent`](pullback::tanh_tangent) `= dx · (1 - out²)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, -2 dx out, 1 - out²)` times `upstream`.
#[inline(always)]
pub fn tanh_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        T::zero(),
        term(dx, upstream, -(literal::<T>(2.0) * (upstream * dx) * out)),
        flowing(upstream, pullback::tanh(x, out, upstream)),
    )
}

/// Reverse mode through [`asinh_tangent`](pullback::asinh_tangent) `= dx / h` with
/// h = hypot(x, 1): `(∂/∂x, ∂/∂out, ∂/∂dx) = (-dx x / h³, 0, 1 / h)` times `upstream`.
#[inline(always)]
pub fn asinh_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let h = x.hypot(T::one());
    (
        term(dx, upstream, -(upstream * dx * (x / h) / h / h)),
        T::zero(),
        flowing(upstream, pullback::asinh(x, out, upstream)),
    )
}

/// Reverse mode through [`acosh_tangent`](pullback::acosh_tangent) `= dx / √q` with
/// q = (x - 1)(x + 1): `(∂/∂x, ∂/∂out, ∂/∂dx) = (-dx x / q^(3/2), 0, 1 / √q)` times
/// `upstream`; infinite at 1 (for a nonzero `dx`), NaN below.
#[inline(always)]
pub fn acosh_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let q = (x - T::one()) * (x + T::one());
    (
        term(dx, upstream, -(upstream * dx * x / (q * q.sqrt()))),
        T::zero(),
        flowing(upstream, pullback::acosh(x, out, upstream)),
    )
}

/// Reverse mode through [`atanh_tangent`](pullback::atanh_tangent) `= dx / (1 - x²)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (2 dx x / (1 - x²)², 0, 1 / (1 - x²))` times `upstream`;
/// infinite at ±1 (for a nonzero `dx`).
#[inline(always)]
pub fn atanh_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let s = one_minus_square(x);
    (
        term(
            dx,
            upstream,
            literal::<T>(2.0) * (upstream * dx) * (x / s) / s,
        ),
        T::zero(),
        flowing(upstream, pullback::atanh(x, out, upstream)),
    )
}

/// Reverse mode through [`exp_tangent`](pullback::exp_tangent) `= dx · out`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, dx, out)` times `upstream`.
#[inline(always)]
pub fn exp_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        T::zero(),
        term(dx, upstream, upstream * dx),
        flowing(upstream, pullback::exp(x, out, upstream)),
    )
}

/// Reverse mode through [`exp2_tangent`](pullback::exp2_tangent) `= dx · out ln 2`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, dx ln 2, out ln 2)` times `upstream`.
#[inline(always)]
pub fn exp2_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        T::zero(),
        term(
            dx,
            upstream,
            upstream * dx * literal::<T>(core::f64::consts::LN_2),
        ),
        flowing(upstream, pullback::exp2(x, out, upstream)),
    )
}

/// Reverse mode through [`exp_m1_tangent`](pullback::exp_m1_tangent) `= dx · (out + 1)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, dx, out + 1)` times `upstream`.
#[inline(always)]
pub fn exp_m1_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        T::zero(),
        term(dx, upstream, upstream * dx),
        flowing(upstream, pullback::exp_m1(x, out, upstream)),
    )
}

/// Reverse mode through [`ln_tangent`](pullback::ln_tangent) `= dx / x`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (-dx / x², 0, 1 / x)` times `upstream`; infinite at 0.
#[inline(always)]
pub fn ln_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        term(dx, upstream, -(upstream * dx / x / x)),
        T::zero(),
        flowing(upstream, pullback::ln(x, out, upstream)),
    )
}

/// Reverse mode through [`log2_tangent`](pullback::log2_tangent) `= dx / (x ln 2)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (-dx / (x² ln 2), 0, 1 / (x ln 2))` times `upstream`; infinite at
/// 0.
#[inline(always)]
pub fn log2_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let scaled = x * literal::<T>(core::f64::consts::LN_2);
    (
        term(dx, upstream, -(upstream * dx / scaled / x)),
        T::zero(),
        flowing(upstream, pullback::log2(x, out, upstream)),
    )
}

/// Reverse mode through [`log10_tangent`](pullback::log10_tangent) `= dx / (x ln 10)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (-dx / (x² ln 10), 0, 1 / (x ln 10))` times `upstream`; infinite
/// at 0.
#[inline(always)]
pub fn log10_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let scaled = x * literal::<T>(core::f64::consts::LN_10);
    (
        term(dx, upstream, -(upstream * dx / scaled / x)),
        T::zero(),
        flowing(upstream, pullback::log10(x, out, upstream)),
    )
}

/// Reverse mode through [`ln_1p_tangent`](pullback::ln_1p_tangent) `= dx / (1 + x)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (-dx / (1 + x)², 0, 1 / (1 + x))` times `upstream`; infinite at
/// -1.
#[inline(always)]
pub fn ln_1p_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let q = T::one() + x;
    (
        term(dx, upstream, -(upstream * dx / q / q)),
        T::zero(),
        flowing(upstream, pullback::ln_1p(x, out, upstream)),
    )
}

/// Reverse mode through [`log_tangent`](pullback::log_tangent) (base `base`)
/// `= dx / (x L) - dbase · out / (b L)` with L = ln b:
/// `(∂/∂x, ∂/∂base, ∂/∂out, ∂/∂dx, ∂/∂dbase)` times `upstream`, each term's partials exactly 0
/// when its tangent is:
///
/// - ∂/∂x = -dx / (x² L),
/// - ∂/∂base = -dx / (x b L²) + dbase · out (L + 1) / (b L)²,
/// - ∂/∂out = -dbase / (b L),
/// - (∂/∂dx, ∂/∂dbase) = (1 / (x L), -out / (b L)), the pullback [`log`](pullback::log).
#[inline(always)]
pub fn log_tangent_vjp<T: Real>(
    x: T,
    base: T,
    out: T,
    dx: T,
    dbase: T,
    upstream: T,
) -> (T, T, T, T, T) {
    let ln_base = base.ln();
    let b_l = base * ln_base;
    // The dx term dx / (x L), and the dbase term's factor dbase / (b L), times upstream.
    let first = upstream * dx / (x * ln_base);
    let second = upstream * dbase / b_l;
    let (d_dx, d_dbase) = pullback::log(x, base, out, upstream);
    (
        term(dx, upstream, -(first / x)),
        term(dx, upstream, -(first / (base * ln_base)))
            + term(dbase, upstream, second * out * (ln_base + T::one()) / b_l),
        term(dbase, upstream, -second),
        d_dx,
        d_dbase,
    )
}

/// Reverse mode through [`sqrt_tangent`](pullback::sqrt_tangent) `= dx / (2 |out|)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, -dx / (2 out²), 1 / (2 |out|))` times `upstream` for
/// out ≥ 0 (the sign flips for a negative `out`, which `sqrt` never returns).
///
/// At out = ±0 the rule as written has a pole; ∂/∂out takes the side of `sqrt`'s results,
/// out > 0 (also for -0, as the pullback's |out| does), which is -∞ times the sign of
/// `upstream · dx`: the one-sided limit, matching sqrt'' → -∞ at 0⁺ as the pullback's +∞
/// matches sqrt'. ∂/∂dx is the pullback's +∞ there.
#[inline(always)]
pub fn sqrt_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let magnitude = out.abs();
    let signed = if out < T::zero() {
        -magnitude
    } else {
        magnitude
    };
    (
        T::zero(),
        term(
            dx,
            upstream,
            -(upstream * dx / (literal::<T>(2.0) * magnitude) / signed),
        ),
        flowing(upstream, pullback::sqrt(x, out, upstream)),
    )
}

/// Reverse mode through [`cbrt_tangent`](pullback::cbrt_tangent) `= dx / (3 out²)`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, -2 dx / (3 out³), 1 / (3 out²))` times `upstream`.
///
/// At out = ±0 ∂/∂out is the formula with the zero's sign, ∓∞ times the sign of
/// `upstream · dx`: the limit from the side the zero is on (cbrt'' → -∞ at 0⁺, +∞ at 0⁻);
/// ∂/∂dx is the pullback's +∞.
#[inline(always)]
pub fn cbrt_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        T::zero(),
        term(
            dx,
            upstream,
            -(literal::<T>(2.0) * (upstream * dx) / (literal::<T>(3.0) * (out * out)) / out),
        ),
        flowing(upstream, pullback::cbrt(x, out, upstream)),
    )
}

/// Reverse mode through [`powi_tangent`](pullback::powi_tangent) `= n xⁿ⁻¹ dx`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (n (n - 1) xⁿ⁻² dx, 0, n xⁿ⁻¹)` times `upstream` (the integer `n`
/// has no entry).
///
/// For n = 0 the rule is the constant 0, so every entry is 0; for n = 1, ∂/∂x is exactly 0
/// (x⁰ is constant, even at x = 0). For n = `i32::MIN`, where the rule reads xⁿ⁻¹ as
/// `out / x`, the partials are those of `n out dx / x`: `(-n out dx / x², n dx / x,
/// n out / x)`.
#[inline(always)]
pub fn powi_tangent_vjp<T: Real>(x: T, n: i32, out: T, dx: T, upstream: T) -> (T, T, T) {
    let zero = T::zero();
    if n == 0 {
        return (zero, zero, zero);
    }
    let n_t = literal::<T>(f64::from(n));
    let d_dx = flowing(upstream, pullback::powi(x, n, out, upstream));
    match n.checked_sub(1) {
        // ∂/∂x of n x^m dx is n dx · m x^(m-1): the pullback of powi(x, m).
        Some(m) => (
            term(
                dx,
                upstream,
                n_t * dx * pullback::powi(x, m, x.powi(m), upstream),
            ),
            zero,
            d_dx,
        ),
        None => {
            let scaled = n_t * (upstream * dx) / x;
            (
                term(dx, upstream, -(scaled * out / x)),
                term(dx, upstream, scaled),
                d_dx,
            )
        }
    }
}

/// Reverse mode through [`powf_tangent`](pullback::powf_tangent)
/// `= p x^(p-1) dx + out ln x · dp`: `(∂/∂x, ∂/∂p, ∂/∂out, ∂/∂dx, ∂/∂dp)` times `upstream`,
/// each term's partials exactly 0 when its tangent is:
///
/// - ∂/∂x = p (p - 1) x^(p-2) dx + dp · out / x,
/// - ∂/∂p = x^(p-1) (1 + p ln x) dx,
/// - ∂/∂out = dp ln x,
/// - (∂/∂dx, ∂/∂dp) = (p x^(p-1), out ln x), the pullback [`powf`](pullback::powf).
///
/// Conventions, those of the rule's branches: the first term is 0 at p = 0, so its ∂/∂x and
/// ∂/∂dx are 0 there, but its ∂/∂p is the derivative of p x^(p-1) dx, dx / x, as that
/// branch only avoids 0 · ∞ and is not a kink (x^p at p = 0 has ∂²/∂x∂p = 1/x); its ∂/∂x is
/// also 0 at p = 1 (x⁰ is constant), and the ln x in its ∂/∂p is dropped at x = 0, p > 1
/// (x^(p-1) is constant 0 in p there, powf's convention). The second term is 0 at x = 0,
/// p > 0 for every x and p near enough on that branch, so its partials are all 0 there
/// (the true ∂²/∂x∂p of x^p at x = 0 is -∞ for p ≤ 1, and is not recovered).
#[inline(always)]
pub fn powf_tangent_vjp<T: Real>(x: T, p: T, out: T, dx: T, dp: T, upstream: T) -> (T, T, T, T, T) {
    let zero = T::zero();
    let one = T::one();
    let (d_dx, d_dp) = pullback::powf(x, p, out, upstream);
    let up_dx = upstream * dx;
    let (first_x, first_p) = if p == zero {
        (zero, up_dx / x)
    } else {
        let pm1 = x.powf(p - one);
        let d_x = if p == one {
            zero
        } else {
            up_dx * (p * ((p - one) * x.powf(p - one - one)))
        };
        let ln_term = if x == zero && p > one {
            zero
        } else {
            pm1 * x.ln()
        };
        (d_x, up_dx * (pm1 + p * ln_term))
    };
    let (second_x, second_out) = if x == zero && p > zero {
        (zero, zero)
    } else {
        let up_dp = upstream * dp;
        (up_dp * out / x, up_dp * x.ln())
    };
    (
        term(dx, upstream, first_x) + term(dp, upstream, second_x),
        term(dx, upstream, first_p),
        term(dp, upstream, second_out),
        d_dx,
        d_dp,
    )
}

/// Reverse mode through [`hypot_tangent`](pullback::hypot_tangent)
/// `= (x dx + y dy) / out`: `(∂/∂x, ∂/∂y, ∂/∂out, ∂/∂dx, ∂/∂dy)` times `upstream`:
/// `(dx / out, dy / out, -(x dx + y dy) / out², x / out, y / out)`, each term's partials
/// exactly 0 when its tangent is. At out = 0 the rule returns 0 whatever its arguments, so
/// every entry is 0.
#[inline(always)]
pub fn hypot_tangent_vjp<T: Real>(
    x: T,
    y: T,
    out: T,
    dx: T,
    dy: T,
    upstream: T,
) -> (T, T, T, T, T) {
    let zero = T::zero();
    if out == zero {
        return (zero, zero, zero, zero, zero);
    }
    let up_dx = upstream * dx / out;
    let up_dy = upstream * dy / out;
    let (d_dx, d_dy) = pullback::hypot(x, y, out, upstream);
    (
        term(dx, upstream, up_dx),
        term(dy, upstream, up_dy),
        -(term(dx, upstream, up_dx * (x / out)) + term(dy, upstream, up_dy * (y / out))),
        flowing(upstream, d_dx),
        flowing(upstream, d_dy),
    )
}

/// Reverse mode through [`mul_add_tangent`](pullback::mul_add_tangent)
/// `= a dx + x da + db`: `(∂/∂x, ∂/∂a, ∂/∂b, ∂/∂out, ∂/∂dx, ∂/∂da, ∂/∂db) = (da, dx, 0, 0, a,
/// x, 1)` times `upstream`, the first two exactly 0 when `da`, respectively `dx`, is.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn mul_add_tangent_vjp<T: Real>(
    x: T,
    a: T,
    b: T,
    out: T,
    dx: T,
    da: T,
    db: T,
    upstream: T,
) -> (T, T, T, T, T, T, T) {
    let _ = db;
    let zero = T::zero();
    let (d_dx, d_da, d_db) = pullback::mul_add(x, a, b, out, upstream);
    (
        term(da, upstream, upstream * da),
        term(dx, upstream, upstream * dx),
        zero,
        zero,
        flowing(upstream, d_dx),
        flowing(upstream, d_da),
        flowing(upstream, d_db),
    )
}

/// Reverse mode through [`recip_tangent`](pullback::recip_tangent) `= -dx · out²`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, -2 dx out, -out²)` times `upstream`.
#[inline(always)]
pub fn recip_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    (
        T::zero(),
        term(dx, upstream, -(literal::<T>(2.0) * (upstream * dx) * out)),
        flowing(upstream, pullback::recip(x, out, upstream)),
    )
}

/// Reverse mode through [`abs_tangent`](pullback::abs_tangent) `= dx · sign x`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, 0, sign x)` times `upstream`, with the rule's sign: 0 at ±0
/// (the branch taken there is the constant 0), NaN at NaN. The sign is a step, so ∂/∂x is 0.
#[inline(always)]
pub fn abs_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let _ = dx;
    flat(flowing(upstream, pullback::abs(x, out, upstream)))
}

/// Reverse mode through [`max_tangent`](pullback::max_tangent), the tangent of the larger
/// operand: `(∂/∂a, ∂/∂b, ∂/∂out, ∂/∂da, ∂/∂db)` times `upstream`. The branch taken is
/// constant in a, b and `out`, so their entries are 0; the tangents' are the pullback
/// [`max`](pullback::max): `(1, 0)` for a > b, `(0, 1)` for a < b, `(1/2, 1/2)` at a tie,
/// the other operand's when one is NaN, NaN when both are.
#[inline(always)]
pub fn max_tangent_vjp<T: Real>(a: T, b: T, out: T, da: T, db: T, upstream: T) -> (T, T, T, T, T) {
    let _ = (da, db);
    let zero = T::zero();
    let (d_da, d_db) = pullback::max(a, b, out, upstream);
    (
        zero,
        zero,
        zero,
        flowing(upstream, d_da),
        flowing(upstream, d_db),
    )
}

/// Reverse mode through [`min_tangent`](pullback::min_tangent), the tangent of the smaller
/// operand: `(∂/∂a, ∂/∂b, ∂/∂out, ∂/∂da, ∂/∂db)` times `upstream`. The branch taken is
/// constant in a, b and `out`, so their entries are 0; the tangents' are the pullback
/// [`min`](pullback::min): `(1, 0)` for a < b, `(0, 1)` for a > b, `(1/2, 1/2)` at a tie,
/// the other operand's when one is NaN, NaN when both are.
#[inline(always)]
pub fn min_tangent_vjp<T: Real>(a: T, b: T, out: T, da: T, db: T, upstream: T) -> (T, T, T, T, T) {
    let _ = (da, db);
    let zero = T::zero();
    let (d_da, d_db) = pullback::min(a, b, out, upstream);
    (
        zero,
        zero,
        zero,
        flowing(upstream, d_da),
        flowing(upstream, d_db),
    )
}

/// Reverse mode through [`clamp_tangent`](pullback::clamp_tangent), the tangent of whichever
/// input is returned: `(∂/∂x, ∂/∂lo, ∂/∂hi, ∂/∂out, ∂/∂dx, ∂/∂dlo, ∂/∂dhi)` times
/// `upstream`. The branch is constant in x, lo, hi and `out`, so their entries are 0; the
/// tangents' are the pullback [`clamp`](pullback::clamp): `dx`'s for lo ≤ x ≤ hi (bounds
/// included) or a NaN x, `dlo`'s for x < lo, `dhi`'s for x > hi.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn clamp_tangent_vjp<T: Real>(
    x: T,
    lo: T,
    hi: T,
    out: T,
    dx: T,
    dlo: T,
    dhi: T,
    upstream: T,
) -> (T, T, T, T, T, T, T) {
    let _ = (dx, dlo, dhi);
    let zero = T::zero();
    let (d_dx, d_dlo, d_dhi) = pullback::clamp(x, lo, hi, out, upstream);
    (zero, zero, zero, zero, d_dx, d_dlo, d_dhi)
}

/// Reverse mode through [`copysign_tangent`](pullback::copysign_tangent) `= ±dx`:
/// `(∂/∂x, ∂/∂sign, ∂/∂out, ∂/∂dx, ∂/∂dsign) = (0, 0, 0, ±1, 0)` times `upstream`, + when
/// the sign bits of x and `sign` are equal. The sign is a step and `dsign` is ignored.
#[inline(always)]
pub fn copysign_tangent_vjp<T: Real>(
    x: T,
    sign: T,
    out: T,
    dx: T,
    dsign: T,
    upstream: T,
) -> (T, T, T, T, T) {
    let _ = (dx, dsign);
    let zero = T::zero();
    let (d_dx, d_dsign) = pullback::copysign(x, sign, out, upstream);
    (zero, zero, zero, d_dx, d_dsign)
}

/// Reverse mode through [`rem_tangent`](pullback::rem_tangent) `= dx - q dy` with the
/// quotient q = round((x - out) / y): `(∂/∂x, ∂/∂y, ∂/∂out, ∂/∂dx, ∂/∂dy) = (0, 0, 0, 1, -q)`
/// times `upstream`. The quotient is a step (`round`), so x, y and `out` get 0. ∂/∂dy is the
/// pullback [`rem`](pullback::rem)'s: NaN or infinite where the quotient is (y = 0, x
/// infinite, a quotient past the float range), as there, and 0 for a zero `upstream`.
#[inline(always)]
pub fn rem_tangent_vjp<T: Real>(x: T, y: T, out: T, dx: T, dy: T, upstream: T) -> (T, T, T, T, T) {
    let _ = (dx, dy);
    let zero = T::zero();
    let (d_dx, d_dy) = pullback::rem(x, y, out, upstream);
    (zero, zero, zero, d_dx, flowing(upstream, d_dy))
}

/// Reverse mode through [`to_degrees_tangent`](pullback::to_degrees_tangent)
/// `= dx · 180 / π`: `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, 0, 180 / π)` times `upstream`.
#[inline(always)]
pub fn to_degrees_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let _ = dx;
    flat(pullback::to_degrees(x, out, upstream))
}

/// Reverse mode through [`to_radians_tangent`](pullback::to_radians_tangent)
/// `= dx · π / 180`: `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, 0, π / 180)` times `upstream`.
#[inline(always)]
pub fn to_radians_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let _ = dx;
    flat(pullback::to_radians(x, out, upstream))
}

/// Reverse mode through [`fract_tangent`](pullback::fract_tangent) `= dx`:
/// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, 0, 1)` times `upstream`.
#[inline(always)]
pub fn fract_tangent_vjp<T: Real>(x: T, out: T, dx: T, upstream: T) -> (T, T, T) {
    let _ = dx;
    flat(pullback::fract(x, out, upstream))
}

/// Reverse mode through the array helpers' tangents, `<helper>_jvp_vjp`: re-exported at the
/// crate root beside the helpers (`grad_runtime::sigmoid_jvp_vjp`), with the conventions of
/// the scalar ones above. Each takes the `_jvp`'s arguments and `upstream`, shaped like the
/// `_jvp`'s result, and returns one entry per float argument, shaped like it (a shared scalar
/// parameter's entry is the sum over the elements).
pub(crate) mod arrays {
    use super::term;
    use crate::activations::{
        GELU_CUBIC, GELU_SCALE, elu_vjp_scalar, gelu_inner, gelu_vjp_scalar, hard_tanh_vjp_scalar,
        leaky_relu_vjp_scalar, log_sigmoid_vjp_scalar, relu_vjp_scalar, sigmoid_pair,
        sigmoid_vjp_scalar, softplus_vjp_scalar, swish_vjp_scalar, vjp_with_shared,
    };
    use crate::pullback::flowing;
    use crate::{Elementwise, Float, dot, matvec_vjp, softmax};
    use core::array;

    /// `upstream · dx` element by element, exactly 0 where either is 0: the factor of every
    /// partial of a `flowing(dx, ..)` term other than its tangent's.
    #[inline(always)]
    fn scaled<X: Elementwise>(dx: X, upstream: X) -> X {
        dx.zip_map_elements(upstream, |d, u| term(d, u, u * d))
    }

    /// The `_jvp_vjp` of an elementwise `_jvp` whose element is `flowing(d, first(x, d))`:
    /// `(∂/∂x, ∂/∂out, ∂/∂dx) = (dx · second(x), 0, first(x, 1))` times `upstream`.
    #[inline(always)]
    fn elementwise<X: Elementwise>(
        x: X,
        dx: X,
        upstream: X,
        second: impl Fn(X::Scalar) -> X::Scalar,
        first: impl Fn(X::Scalar, X::Scalar) -> X::Scalar,
    ) -> (X, X, X) {
        let zero = <X::Scalar as Float>::ZERO;
        let d_x = x.zip_map_elements(scaled(dx, upstream), |x, ud| {
            if ud == zero { zero } else { ud * second(x) }
        });
        let d_dx = x.zip_map_elements(upstream, |x, u| flowing(u, first(x, u)));
        (d_x, x.map_elements(|_| zero), d_dx)
    }

    /// σ'(x) = σ(x) σ(-x) and σ''(x) = σ(x) σ(-x) (σ(-x) - σ(x)).
    #[inline(always)]
    fn sigmoid_slopes<T: Float>(x: T) -> (T, T) {
        let (s, s_neg) = sigmoid_pair(x);
        let slope = s * s_neg;
        (slope, slope * (s_neg - s))
    }

    /// Reverse mode through [`sigmoid_jvp`](crate::sigmoid_jvp) `= dx · σ'(x)`, elementwise:
    /// `(∂/∂x, ∂/∂out, ∂/∂dx) = (dx σ''(x), 0, σ'(x))` times `upstream`, with σ' = σ(x) σ(-x)
    /// and σ'' = σ' (σ(-x) - σ(x)); `out` is not read, as by the `_jvp`.
    #[inline]
    pub fn sigmoid_jvp_vjp<X: Elementwise>(x: X, out: X, dx: X, upstream: X) -> (X, X, X) {
        let _ = out;
        elementwise(x, dx, upstream, |x| sigmoid_slopes(x).1, sigmoid_vjp_scalar)
    }

    /// Reverse mode through [`softplus_jvp`](crate::softplus_jvp) `= dx · σ(x)`, elementwise:
    /// `(∂/∂x, ∂/∂out, ∂/∂dx) = (dx σ(x) σ(-x), 0, σ(x))` times `upstream`.
    #[inline]
    pub fn softplus_jvp_vjp<X: Elementwise>(x: X, out: X, dx: X, upstream: X) -> (X, X, X) {
        let _ = out;
        elementwise(
            x,
            dx,
            upstream,
            |x| sigmoid_slopes(x).0,
            softplus_vjp_scalar,
        )
    }

    /// Reverse mode through [`log_sigmoid_jvp`](crate::log_sigmoid_jvp) `= dx · σ(-x)`,
    /// elementwise: `(∂/∂x, ∂/∂out, ∂/∂dx) = (-dx σ(x) σ(-x), 0, σ(-x))` times `upstream`.
    #[inline]
    pub fn log_sigmoid_jvp_vjp<X: Elementwise>(x: X, out: X, dx: X, upstream: X) -> (X, X, X) {
        let _ = out;
        elementwise(
            x,
            dx,
            upstream,
            |x| -sigmoid_slopes(x).0,
            log_sigmoid_vjp_scalar,
        )
    }

    /// Reverse mode through [`relu_jvp`](crate::relu_jvp), elementwise: `(∂/∂x, ∂/∂out,
    /// ∂/∂dx) = (0, 0, relu'(x))` times `upstream`: the step is flat on each branch, and
    /// relu'(x) is the `_vjp`'s (1 for x > 0, 0 for x ≤ 0, NaN at NaN).
    #[inline]
    pub fn relu_jvp_vjp<X: Elementwise>(x: X, out: X, dx: X, upstream: X) -> (X, X, X) {
        let _ = out;
        let zero = <X::Scalar as Float>::ZERO;
        elementwise(x, dx, upstream, |_| zero, relu_vjp_scalar)
    }

    /// Reverse mode through [`hard_tanh_jvp`](crate::hard_tanh_jvp), elementwise:
    /// `(∂/∂x, ∂/∂out, ∂/∂dx) = (0, 0, hard_tanh'(x))` times `upstream`, hard_tanh'(x) the
    /// `_vjp`'s (1 strictly inside (-1, 1), 0 at ±1 and outside, NaN at NaN).
    #[inline]
    pub fn hard_tanh_jvp_vjp<X: Elementwise>(x: X, out: X, dx: X, upstream: X) -> (X, X, X) {
        let _ = out;
        let zero = <X::Scalar as Float>::ZERO;
        elementwise(x, dx, upstream, |_| zero, hard_tanh_vjp_scalar)
    }

    /// Reverse mode through [`swish_jvp`](crate::swish_jvp) `= dx · σ(x)(1 + x σ(-x))`,
    /// elementwise: `(∂/∂x, ∂/∂out, ∂/∂dx) = (dx σ'(x)(2 + x (σ(-x) - σ(x))), 0, σ(x)(1 +
    /// x σ(-x)))` times `upstream`, σ' = σ(x) σ(-x).
    #[inline]
    pub fn swish_jvp_vjp<X: Elementwise>(x: X, out: X, dx: X, upstream: X) -> (X, X, X) {
        let _ = out;
        elementwise(
            x,
            dx,
            upstream,
            |x| {
                let (s, s_neg) = sigmoid_pair(x);
                s * s_neg * (<X::Scalar as Float>::TWO + x * (s_neg - s))
            },
            swish_vjp_scalar,
        )
    }

    /// Reverse mode through [`gelu_jvp`](crate::gelu_jvp) `= dx · g(x)` with
    /// g = s + 2 x s (1 - s) u', s = σ(2u), elementwise: `(∂/∂x, ∂/∂out, ∂/∂dx) =
    /// (dx g'(x), 0, g(x))` times `upstream`, with
    /// g' = s(1 - s) (4 u' + 4 x u'² (1 - 2s) + 2 x u''), u' = √(2/π)(1 + 3 · 0.044715 x²),
    /// u'' = 6 √(2/π) · 0.044715 x. In the tails, where the `_vjp`'s slope s(1 - s) is exactly
    /// 0 and it returns s, ∂/∂x is 0.
    #[inline]
    pub fn gelu_jvp_vjp<X: Elementwise>(x: X, out: X, dx: X, upstream: X) -> (X, X, X) {
        let _ = out;
        elementwise(
            x,
            dx,
            upstream,
            |x| {
                let two = <X::Scalar as Float>::TWO;
                let (s, s_neg) = sigmoid_pair(two * gelu_inner(x));
                let slope = s * s_neg;
                if slope == <X::Scalar as Float>::ZERO {
                    return slope;
                }
                let scale = <X::Scalar as Float>::from_f64(GELU_SCALE);
                let du = scale
                    * (<X::Scalar as Float>::ONE
                        + <X::Scalar as Float>::from_f64(3.0 * GELU_CUBIC) * (x * x));
                let ddu = scale * <X::Scalar as Float>::from_f64(6.0 * GELU_CUBIC) * x;
                let four = two * two;
                slope * (four * du + four * x * du * du * (s_neg - s) + two * x * ddu)
            },
            gelu_vjp_scalar,
        )
    }

    /// The entries of the tangents of a rule with a shared parameter: the `_vjp`'s, each
    /// exactly 0 for a zero upstream.
    #[inline(always)]
    fn shared_slopes<X: Elementwise>(
        x: X,
        p: X::Scalar,
        upstream: X,
        rule: impl Fn(X::Scalar, X::Scalar, X::Scalar) -> (X::Scalar, X::Scalar),
    ) -> (X, X::Scalar) {
        vjp_with_shared(x, p, upstream, |x, p, u| {
            let (d_x, d_p) = rule(x, p, u);
            (flowing(u, d_x), flowing(u, d_p))
        })
    }

    /// Reverse mode through [`leaky_relu_jvp`](crate::leaky_relu_jvp), per element `dx` for
    /// x > 0 and `slope · dx + x · dslope` otherwise: `(∂/∂x, ∂/∂slope, ∂/∂out, ∂/∂dx,
    /// ∂/∂dslope)` times `upstream`. Per element on the negative side (x ≤ 0, and NaN):
    /// ∂/∂x = dslope, a share dx of ∂/∂slope, ∂/∂dx = slope, a share x of ∂/∂dslope; on the
    /// positive side ∂/∂dx = 1 and the rest 0. The scalar entries sum over the elements.
    #[inline]
    pub fn leaky_relu_jvp_vjp<X: Elementwise>(
        x: X,
        slope: X::Scalar,
        out: X,
        dx: X,
        dslope: X::Scalar,
        upstream: X,
    ) -> (X, X::Scalar, X, X, X::Scalar) {
        let _ = out;
        let zero = <X::Scalar as Float>::ZERO;
        let d_x = x.zip_map_elements(upstream, |x, u| {
            if x > zero {
                zero
            } else {
                term(dslope, u, u * dslope)
            }
        });
        let d_slope = x
            .zip_map_elements(
                scaled(dx, upstream),
                |x, ud| if x > zero { zero } else { ud },
            )
            .fold_elements(zero, |total, e| total + e);
        let (d_dx, d_dslope) = shared_slopes(x, slope, upstream, leaky_relu_vjp_scalar);
        (d_x, d_slope, x.map_elements(|_| zero), d_dx, d_dslope)
    }

    /// Reverse mode through [`elu_jvp`](crate::elu_jvp), per element `dx` for x > 0 and
    /// `alpha eˣ dx + (eˣ - 1) dalpha` otherwise: `(∂/∂x, ∂/∂alpha, ∂/∂out, ∂/∂dx,
    /// ∂/∂dalpha)` times `upstream`. Per element on the negative side (x ≤ 0, and NaN):
    /// ∂/∂x = eˣ (alpha dx + dalpha), a share eˣ dx of ∂/∂alpha, ∂/∂dx = alpha eˣ, a share
    /// eˣ - 1 of ∂/∂dalpha; on the positive side ∂/∂dx = 1 and the rest 0. The scalar entries
    /// sum over the elements.
    #[inline]
    pub fn elu_jvp_vjp<X: Elementwise>(
        x: X,
        alpha: X::Scalar,
        out: X,
        dx: X,
        dalpha: X::Scalar,
        upstream: X,
    ) -> (X, X::Scalar, X, X, X::Scalar) {
        let _ = out;
        let zero = <X::Scalar as Float>::ZERO;
        let exp = |x: X::Scalar| num_traits::Float::exp_m1(x) + <X::Scalar as Float>::ONE;
        let ud = scaled(dx, upstream);
        let from_dx = x.zip_map_elements(ud, |x, ud| {
            if x > zero || ud == zero {
                zero
            } else {
                ud * alpha * exp(x)
            }
        });
        let from_dalpha = x.zip_map_elements(upstream, |x, u| {
            if x > zero {
                zero
            } else {
                term(dalpha, u, u * dalpha * exp(x))
            }
        });
        let d_alpha = x
            .zip_map_elements(ud, |x, ud| {
                if x > zero || ud == zero {
                    zero
                } else {
                    ud * exp(x)
                }
            })
            .fold_elements(zero, |total, e| total + e);
        let (d_dx, d_dalpha) = shared_slopes(x, alpha, upstream, elu_vjp_scalar);
        (
            from_dx.zip_map_elements(from_dalpha, |a, b| a + b),
            d_alpha,
            x.map_elements(|_| zero),
            d_dx,
            d_dalpha,
        )
    }

    /// Reverse mode through [`dot_jvp`](crate::dot_jvp) `= Σᵢ (daᵢ bᵢ + aᵢ dbᵢ)`:
    /// `(∂/∂a, ∂/∂b, ∂/∂out, ∂/∂da, ∂/∂db) = (db, da, 0, b, a)` times `upstream`, the first
    /// two exactly 0 where `db`, respectively `da`, is.
    #[inline]
    #[allow(clippy::type_complexity)]
    pub fn dot_jvp_vjp<T: Float, const N: usize>(
        a: [T; N],
        b: [T; N],
        out: T,
        da: [T; N],
        db: [T; N],
        upstream: T,
    ) -> ([T; N], [T; N], T, [T; N], [T; N]) {
        let _ = out;
        (
            db.map(|d| term(d, upstream, upstream * d)),
            da.map(|d| term(d, upstream, upstream * d)),
            T::ZERO,
            b.map(|bi| flowing(upstream, upstream * bi)),
            a.map(|ai| flowing(upstream, upstream * ai)),
        )
    }

    /// Reverse mode through [`sum_jvp`](crate::sum_jvp) `= Σᵢ daᵢ`: `(∂/∂a, ∂/∂out, ∂/∂da) =
    /// (0, 0, 1)` times `upstream`.
    #[inline]
    pub fn sum_jvp_vjp<T: Float, const N: usize>(
        a: [T; N],
        out: T,
        da: [T; N],
        upstream: T,
    ) -> ([T; N], T, [T; N]) {
        let _ = (a, out, da);
        ([T::ZERO; N], T::ZERO, [upstream; N])
    }

    /// Reverse mode through [`norm_sq_jvp`](crate::norm_sq_jvp) `= Σᵢ 2 aᵢ daᵢ`:
    /// `(∂/∂a, ∂/∂out, ∂/∂da) = (2 da, 0, 2 a)` times `upstream`, the first exactly 0 where
    /// `da` is.
    #[inline]
    pub fn norm_sq_jvp_vjp<T: Float, const N: usize>(
        a: [T; N],
        out: T,
        da: [T; N],
        upstream: T,
    ) -> ([T; N], T, [T; N]) {
        let _ = out;
        (
            da.map(|d| term(d, upstream, T::TWO * (upstream * d))),
            T::ZERO,
            a.map(|ai| flowing(upstream, upstream * (T::TWO * ai))),
        )
    }

    /// Reverse mode through [`matvec_jvp`](crate::matvec_jvp) `= dW · x + W · dx`, for an
    /// `upstream` u of M elements: `(∂/∂W, ∂/∂x, ∂/∂out, ∂/∂dW, ∂/∂dx) = (u dxᵀ, dWᵀ u, 0,
    /// u xᵀ, Wᵀ u)`, the first two with each term exactly 0 where its tangent is; the last
    /// two are [`matvec_vjp`](crate::matvec_vjp). O(MN).
    #[inline]
    #[allow(clippy::type_complexity)]
    pub fn matvec_jvp_vjp<T: Float, const M: usize, const N: usize>(
        w: [[T; N]; M],
        x: [T; N],
        out: [T; M],
        dw: [[T; N]; M],
        dx: [T; N],
        upstream: [T; M],
    ) -> ([[T; N]; M], [T; N], [T; M], [[T; N]; M], [T; N]) {
        let _ = out;
        let d_w = array::from_fn(|i| {
            let ui = upstream[i];
            dx.map(|dxj| term(dxj, ui, ui * dxj))
        });
        let mut d_x = [T::ZERO; N];
        for (row, &ui) in dw.iter().zip(&upstream) {
            for (d_xj, &dwij) in d_x.iter_mut().zip(row) {
                *d_xj += term(dwij, ui, ui * dwij);
            }
        }
        let (d_dw, d_dx) = matvec_vjp(w, x, upstream);
        (d_w, d_x, [T::ZERO; M], d_dw, d_dx)
    }

    /// Reverse mode through [`softmax_jvp`](crate::softmax_jvp) `= out ⊙ (dz - ⟨out, dz⟩)`,
    /// which reads `out` and not `z`: with m = ⟨out, dz⟩ and an `upstream` u,
    /// `(∂/∂z, ∂/∂out, ∂/∂dz) = (0, u ⊙ (dz - m) - ⟨u, out⟩ dz, out ⊙ (u - ⟨u, out⟩))`. O(N).
    #[inline]
    pub fn softmax_jvp_vjp<T: Float, const N: usize>(
        z: [T; N],
        out: [T; N],
        dz: [T; N],
        upstream: [T; N],
    ) -> ([T; N], [T; N], [T; N]) {
        let _ = z;
        let mean = dot(out, dz);
        let weight = dot(upstream, out);
        (
            [T::ZERO; N],
            array::from_fn(|k| upstream[k] * (dz[k] - mean) - weight * dz[k]),
            array::from_fn(|k| out[k] * (upstream[k] - weight)),
        )
    }

    /// Reverse mode through [`log_sum_exp_jvp`](crate::log_sum_exp_jvp) `= ⟨softmax(z), dz⟩`,
    /// which recomputes the softmax s from `z`: `(∂/∂z, ∂/∂out, ∂/∂dz) = (s ⊙ (dz - ⟨s, dz⟩),
    /// 0, s)` times `upstream` (the softmax's Jacobian is symmetric). O(N).
    #[inline]
    pub fn log_sum_exp_jvp_vjp<T: Float, const N: usize>(
        z: [T; N],
        out: T,
        dz: [T; N],
        upstream: T,
    ) -> ([T; N], T, [T; N]) {
        let _ = out;
        let s = softmax(z);
        let mean = dot(s, dz);
        (
            array::from_fn(|k| upstream * (s[k] * (dz[k] - mean))),
            T::ZERO,
            s.map(|sk| upstream * sk),
        )
    }
}

#[cfg(test)]
mod tests;
