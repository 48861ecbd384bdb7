//! The [`Float`] trait: the scalar types grad differentiates.

use core::fmt::{Debug, Display};
use core::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

/// A floating-point scalar: implemented for [`f32`] and [`f64`].
///
/// Generic differentiable functions are written against this trait, and the derivative rules
/// in [`crate::pullback`] are generic over it. Every method has the name and meaning of the
/// inherent method of the same name on `f64`; with the `std` feature each one delegates to it,
/// without `std` to the [`libm`] crate, so results may differ in the last bit between the two
/// builds.
pub trait Float:
    Copy
    + Clone
    + PartialEq
    + PartialOrd
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Rem<Output = Self>
    + Neg<Output = Self>
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
    /// Positive infinity.
    const INFINITY: Self;
    /// Negative infinity.
    const NEG_INFINITY: Self;
    /// Not a number.
    const NAN: Self;
    /// The difference between 1 and the next larger representable number.
    const EPSILON: Self;
    /// The smallest positive normal number.
    const MIN_POSITIVE: Self;
    /// The largest finite number.
    const MAX: Self;

    /// Converts from `f64` with an `as` cast (rounds to nearest for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact for both implementations).
    fn to_f64(self) -> f64;
    /// Converts from `i32` with an `as` cast (rounds to nearest for `f32`).
    fn from_i32(v: i32) -> Self;

    /// Sine (radians).
    fn sin(self) -> Self;
    /// Cosine (radians).
    fn cos(self) -> Self;
    /// Tangent (radians).
    fn tan(self) -> Self;
    /// Arcsine, in `[-π/2, π/2]`; NaN outside `[-1, 1]`.
    fn asin(self) -> Self;
    /// Arccosine, in `[0, π]`; NaN outside `[-1, 1]`.
    fn acos(self) -> Self;
    /// Arctangent, in `[-π/2, π/2]`.
    fn atan(self) -> Self;
    /// Four-quadrant arctangent of `self / other` (`self` is y, `other` is x).
    fn atan2(self, other: Self) -> Self;
    /// Hyperbolic sine.
    fn sinh(self) -> Self;
    /// Hyperbolic cosine.
    fn cosh(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Inverse hyperbolic sine.
    fn asinh(self) -> Self;
    /// Inverse hyperbolic cosine; NaN below 1.
    fn acosh(self) -> Self;
    /// Inverse hyperbolic tangent; NaN outside `[-1, 1]`.
    fn atanh(self) -> Self;
    /// `e^self`.
    fn exp(self) -> Self;
    /// `2^self`.
    fn exp2(self) -> Self;
    /// `e^self - 1`, accurate near zero.
    fn exp_m1(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Logarithm in base `base`.
    fn log(self, base: Self) -> Self;
    /// Base-2 logarithm.
    fn log2(self) -> Self;
    /// Base-10 logarithm.
    fn log10(self) -> Self;
    /// `ln(1 + self)`, accurate near zero.
    fn ln_1p(self) -> Self;
    /// Square root; NaN for negative numbers other than `-0`.
    fn sqrt(self) -> Self;
    /// Cube root.
    fn cbrt(self) -> Self;
    /// `self` raised to an integer power.
    fn powi(self, n: i32) -> Self;
    /// `self` raised to a floating-point power.
    fn powf(self, n: Self) -> Self;
    /// `sqrt(self² + other²)` without undue overflow or underflow.
    fn hypot(self, other: Self) -> Self;
    /// `self * a + b` with a single rounding.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `1 / self`.
    fn recip(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// `1` for positive numbers and `+0`, `-1` for negative numbers and `-0`, NaN for NaN.
    fn signum(self) -> Self;
    /// The larger of the two; if one is NaN, the other.
    fn max(self, other: Self) -> Self;
    /// The smaller of the two; if one is NaN, the other.
    fn min(self, other: Self) -> Self;
    /// `self` restricted to `[lo, hi]`; NaN stays NaN.
    ///
    /// # Panics
    /// If `lo > hi` or either bound is NaN.
    fn clamp(self, lo: Self, hi: Self) -> Self;
    /// The magnitude of `self` with the sign bit of `sign`.
    fn copysign(self, sign: Self) -> Self;
    /// Largest integer not above `self`.
    fn floor(self) -> Self;
    /// Smallest integer not below `self`.
    fn ceil(self) -> Self;
    /// Nearest integer, halfway cases away from zero.
    fn round(self) -> Self;
    /// Integer part, rounding towards zero.
    fn trunc(self) -> Self;
    /// `self - self.trunc()`.
    fn fract(self) -> Self;
    /// Radians to degrees.
    fn to_degrees(self) -> Self;
    /// Degrees to radians.
    fn to_radians(self) -> Self;
    /// Whether `self` is NaN.
    fn is_nan(self) -> bool;
    /// Whether `self` is neither infinite nor NaN.
    fn is_finite(self) -> bool;
    /// Whether `self` is positive or negative infinity.
    fn is_infinite(self) -> bool;
    /// Whether `self` is neither zero, infinite, subnormal nor NaN.
    fn is_normal(self) -> bool;
    /// Whether `self` is subnormal.
    fn is_subnormal(self) -> bool;
    /// Whether the sign bit is set (true for `-0.0` and some NaNs).
    fn is_sign_negative(self) -> bool;
    /// Whether the sign bit is clear (true for `+0.0` and some NaNs).
    fn is_sign_positive(self) -> bool;
}

/// `x^n` by repeated squaring, for builds without `std`'s `powi`.
#[cfg(not(feature = "std"))]
fn powi_by_squaring<T: Float>(x: T, n: i32) -> T {
    // `unsigned_abs` so that `i32::MIN` does not overflow.
    let mut e = n.unsigned_abs();
    let mut base = x;
    let mut acc = T::ONE;
    while e > 0 {
        if e & 1 == 1 {
            acc *= base;
        }
        base *= base;
        e >>= 1;
    }
    if n < 0 { acc.recip() } else { acc }
}

// Every method is spelled `$t::name(self)` (std) or `libm::Libm::<$t>::name(self)` (no std),
// never `self.name()`: without std, `self.name()` on a primitive resolves to this very trait
// method and would recurse forever.
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
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn from_i32(v: i32) -> Self {
                v as $t
            }

            impl_float!(@delegate $t;
                sin(self) => sin;
                cos(self) => cos;
                tan(self) => tan;
                asin(self) => asin;
                acos(self) => acos;
                atan(self) => atan;
                atan2(self, other) => atan2;
                sinh(self) => sinh;
                cosh(self) => cosh;
                tanh(self) => tanh;
                asinh(self) => asinh;
                acosh(self) => acosh;
                atanh(self) => atanh;
                exp(self) => exp;
                exp2(self) => exp2;
                exp_m1(self) => expm1;
                ln(self) => log;
                log2(self) => log2;
                log10(self) => log10;
                ln_1p(self) => log1p;
                sqrt(self) => sqrt;
                cbrt(self) => cbrt;
                powf(self, n) => pow;
                hypot(self, other) => hypot;
                mul_add(self, a, b) => fma;
                abs(self) => fabs;
                copysign(self, sign) => copysign;
                floor(self) => floor;
                ceil(self) => ceil;
                round(self) => round;
                trunc(self) => trunc;
            );

            #[inline]
            fn log(self, base: Self) -> Self {
                #[cfg(feature = "std")]
                {
                    $t::log(self, base)
                }
                #[cfg(not(feature = "std"))]
                {
                    libm::Libm::<$t>::log(self) / libm::Libm::<$t>::log(base)
                }
            }
            #[inline]
            fn powi(self, n: i32) -> Self {
                #[cfg(feature = "std")]
                {
                    $t::powi(self, n)
                }
                #[cfg(not(feature = "std"))]
                {
                    powi_by_squaring(self, n)
                }
            }
            #[inline]
            fn signum(self) -> Self {
                #[cfg(feature = "std")]
                {
                    $t::signum(self)
                }
                #[cfg(not(feature = "std"))]
                {
                    if $t::is_nan(self) {
                        self
                    } else {
                        libm::Libm::<$t>::copysign(1.0, self)
                    }
                }
            }
            #[inline]
            fn fract(self) -> Self {
                #[cfg(feature = "std")]
                {
                    $t::fract(self)
                }
                #[cfg(not(feature = "std"))]
                {
                    self - libm::Libm::<$t>::trunc(self)
                }
            }

            // These are inherent methods of `core`, so the same call serves both builds.
            #[inline]
            fn recip(self) -> Self {
                $t::recip(self)
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                $t::max(self, other)
            }
            #[inline]
            fn min(self, other: Self) -> Self {
                $t::min(self, other)
            }
            #[inline]
            fn clamp(self, lo: Self, hi: Self) -> Self {
                $t::clamp(self, lo, hi)
            }
            #[inline]
            fn to_degrees(self) -> Self {
                $t::to_degrees(self)
            }
            #[inline]
            fn to_radians(self) -> Self {
                $t::to_radians(self)
            }
            #[inline]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            #[inline]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline]
            fn is_infinite(self) -> bool {
                $t::is_infinite(self)
            }
            #[inline]
            fn is_normal(self) -> bool {
                $t::is_normal(self)
            }
            #[inline]
            fn is_subnormal(self) -> bool {
                $t::is_subnormal(self)
            }
            #[inline]
            fn is_sign_negative(self) -> bool {
                $t::is_sign_negative(self)
            }
            #[inline]
            fn is_sign_positive(self) -> bool {
                $t::is_sign_positive(self)
            }
        }
    };

    // `name(self, args...) => libm_name`: the std method `name`, or libm's `libm_name`.
    (@delegate $t:ident; $($name:ident(self $(, $arg:ident)*) => $libm:ident;)*) => {
        $(
            #[inline]
            fn $name(self $(, $arg: Self)*) -> Self {
                #[cfg(feature = "std")]
                {
                    $t::$name(self $(, $arg)*)
                }
                #[cfg(not(feature = "std"))]
                {
                    libm::Libm::<$t>::$libm(self $(, $arg)*)
                }
            }
        )*
    };
}

impl_float!(f32);
impl_float!(f64);

#[cfg(test)]
mod tests;
