//! The scalar types grad differentiates, built on num-traits.
//!
//! Two levels, for two kinds of code:
//!
//! - **What generated code and the derivative rules need** is num-traits' [`Real`] (which
//!   every `num_traits::Float` is): a function generic over `T: num_traits::Float`, `T: Real`
//!   or `T: grad::Float` gets companions with exactly its own bounds, so a caller generic over
//!   num-traits needs nothing more. The helpers below (`literal`, `nan`, `is_nan`) say in
//!   terms of `Real` what it lacks.
//! - **[`Float`]**, grad's own trait, is num-traits' `Float` plus the constants and the
//!   arithmetic assignment operators that hand-written generic code wants (`T::ZERO`,
//!   `T::PI`, `x += y`), and it is what grad's activations and array helpers are generic
//!   over. It is implemented for `f32` and `f64`; being grad's own trait (no blanket impl over
//!   num-traits), it lets the activations take a float or an array of floats through one
//!   trait, which Rust's coherence rules would forbid for a blanket impl.
//!
//! The math itself is num-traits': with the `std` feature each method is the inherent method
//! of `f32`/`f64`, without it the `libm` crate's, so results may differ in the last bit
//! between the two builds.

use core::fmt::{Debug, Display};
use core::ops::{AddAssign, DivAssign, MulAssign, RemAssign, SubAssign};
pub use num_traits::real::Real;

/// A floating-point scalar: implemented for [`f32`] and [`f64`].
///
/// Every method of [`num_traits::Float`] (`sin`, `powi`, `max`, `is_nan`, ...) comes with it,
/// with the meaning of the inherent method of the same name; this trait adds constants and the
/// assignment operators. Generic differentiable functions may be written against it, against
/// `num_traits::Float`, or against `num_traits::real::Real`.
pub trait Float:
    num_traits::Float
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + RemAssign
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// `2`.
    const TWO: Self;
    /// `0.5`.
    const HALF: Self;
    /// π.
    const PI: Self;
    /// ln 2.
    const LN_2: Self;
    /// ln 10.
    const LN_10: Self;
    /// +∞.
    const INFINITY: Self;
    /// -∞.
    const NEG_INFINITY: Self;
    /// Not a number.
    const NAN: Self;
    /// The difference between 1 and the next larger value.
    const EPSILON: Self;
    /// The smallest positive normal value.
    const MIN_POSITIVE: Self;
    /// The largest finite value.
    const MAX: Self;

    /// Converts from `f64` (rounding to nearest for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts from `i32` (rounding to nearest for `f32`).
    fn from_i32(v: i32) -> Self;
}

macro_rules! impl_float {
    ($t:ident) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const TWO: Self = 2.0;
            const HALF: Self = 0.5;
            const PI: Self = core::$t::consts::PI;
            const LN_2: Self = core::$t::consts::LN_2;
            const LN_10: Self = core::$t::consts::LN_10;
            const INFINITY: Self = $t::INFINITY;
            const NEG_INFINITY: Self = $t::NEG_INFINITY;
            const NAN: Self = $t::NAN;
            const EPSILON: Self = $t::EPSILON;
            const MIN_POSITIVE: Self = $t::MIN_POSITIVE;
            const MAX: Self = $t::MAX;

            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn from_i32(v: i32) -> Self {
                v as $t
            }
        }
    };
}

impl_float!(f32);
impl_float!(f64);

/// `v` as a `T`: a constant of generic code (a literal, `π`). Rounds to nearest for `f32`;
/// a value `T` cannot hold becomes NaN rather than a panic.
#[inline(always)]
pub fn literal<T: Real>(v: f64) -> T {
    T::from(v).unwrap_or_else(nan)
}

/// A NaN of any `Real` type (`Real` has no constant for it).
#[inline(always)]
pub fn nan<T: Real>() -> T {
    T::zero() / T::zero()
}

/// Whether `x` is NaN, for any `Real` type.
#[inline(always)]
#[allow(clippy::eq_op)]
pub fn is_nan<T: Real>(x: T) -> bool {
    x != x
}

/// `x` as an `f64` (NaN if it has no `f64` value).
#[cfg(test)]
#[inline]
pub(crate) fn to_f64<T: Real>(x: T) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests;
