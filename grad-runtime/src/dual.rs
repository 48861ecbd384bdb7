//! [`Dual`]: a first-order dual number, a value and one tangent, for forward mode through
//! generic code and forward over reverse through grad's generic gradient cores.

use crate::float::Real;
use crate::pullback::{self, flowing};
use core::cmp::Ordering;
use core::fmt;
use core::iter::{Product, Sum};
use core::num::FpCategory;
use core::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};
use num_traits::{
    Float as NumFloat, FloatConst, FromPrimitive, Num, NumCast, One, ToPrimitive, Zero,
};

/// A dual number `re + eps ε` with ε² = 0: a value and its tangent along one direction.
///
/// Seed inputs with [`Dual::variable`] (tangent 1) or [`Dual::new`] (any tangent), constants
/// with [`Dual::constant`] or `From`; evaluate any function generic over num-traits' `Float`
/// or `Real`, or over grad's [`Float`](crate::Float); read the value from `re` and the
/// directional derivative from `eps`. It implements num-traits' `Float` (hence `Real`),
/// `FromPrimitive` and `FloatConst`, and grad's `Float` for any grad float `T` (`Dual<f64>`,
/// `Dual<f32>`, and `Dual<Dual<f64>>` for second derivatives directly); it is `no_std`.
///
/// Forward over reverse: the gradient companion of a generic function (`f_grad`), run on
/// duals seeded with a direction v, gives the gradient in `re` and the Hessian-vector product
/// H v in `eps`, because every derivative rule the gradient core calls (`pullback::sin`, ...)
/// is generic over `Real` and so runs on duals too.
///
/// # Conventions
///
/// Every method's tangent is its rule in [`pullback`](crate::pullback): `x.sin()` sets `eps`
/// to `pullback::sin_tangent(x.re, out, x.eps)`, so the conventions at kinks and
/// singularities are the reverse sweep's, from one home: a tie of `max` or `min` splits the
/// tangent in half, `abs` is flat at 0, `sqrt` at 0 is infinitely steep, `clamp` gives its
/// bounds to `x`, `%` uses the quotient of the value computed. The operators follow grad's
/// operator rules: `d(a b) = da b + a db`, `d(a / b) = da / b - db (a / b) / b`. A zero
/// tangent contributes exactly 0 everywhere (`0 · ∞` is not formed), so a constant
/// (`eps == 0`) stays a constant through every operation, even past overflow or at NaN.
///
/// Comparisons (`==`, `<`, `partial_cmp`, `Zero::is_zero`), the predicates (`is_nan`,
/// `is_sign_negative`, ...), conversions to primitives (`to_f64`, `NumCast::from` of a dual)
/// and the piecewise-constant methods (`floor`, `ceil`, `round`, `trunc`, `signum`) read only
/// the value `re`; the last have a zero tangent, and conversions from primitives give one. So a
/// branch in generic code (`if x == y`, `if x < 0`) takes the path it takes in `f64`, and the
/// tangent is the derivative of the branch taken. In particular
/// `Dual::new(1.0, 2.0) == Dual::new(1.0, 3.0)`, and `assert_eq!` on duals compares values:
/// compare the fields to compare both parts.
///
/// ```
/// use grad_runtime::Dual;
/// use grad_runtime::num_traits::Float;
///
/// // d/dx (x sin x) at x = 2: sin 2 + 2 cos 2.
/// let x = Dual::variable(2.0_f64);
/// let y = x * x.sin();
/// assert_eq!(y.re, 2.0 * 2.0_f64.sin());
/// assert!((y.eps - (2.0_f64.sin() + 2.0 * 2.0_f64.cos())).abs() < 1e-15);
///
/// // max at a tie splits the tangent, as its pullback splits the gradient.
/// let m = Dual::new(1.0_f64, 4.0).max(Dual::new(1.0, 0.0));
/// assert_eq!((m.re, m.eps), (1.0, 2.0));
///
/// // Forward over reverse by hand: the pullback of sin on a seeded dual gives cos x and,
/// // as its tangent, sin'' x = -sin x.
/// let d = grad_runtime::pullback::sin(x, x.sin(), Dual::constant(1.0));
/// assert_eq!((d.re, d.eps), (2.0_f64.cos(), -2.0_f64.sin()));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Dual<T> {
    /// The value.
    pub re: T,
    /// The tangent: the derivative of the value along the seeded direction.
    pub eps: T,
}

impl<T> Dual<T> {
    /// `re + eps ε`.
    #[inline(always)]
    pub const fn new(re: T, eps: T) -> Self {
        Dual { re, eps }
    }
}

impl<T: Zero> Dual<T> {
    /// A constant: tangent 0.
    #[inline(always)]
    pub fn constant(re: T) -> Self {
        Dual { re, eps: T::zero() }
    }
}

impl<T: One> Dual<T> {
    /// The variable of differentiation: tangent 1.
    #[inline(always)]
    pub fn variable(re: T) -> Self {
        Dual { re, eps: T::one() }
    }
}

impl<T: Zero> From<T> for Dual<T> {
    /// A constant: tangent 0.
    #[inline(always)]
    fn from(re: T) -> Self {
        Dual::constant(re)
    }
}

impl<T: PartialEq> PartialEq for Dual<T> {
    /// Compares the values only, as the branches of generic code need.
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}

impl<T: PartialOrd> PartialOrd for Dual<T> {
    /// Orders by the values only.
    #[inline(always)]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl<T: fmt::Display> fmt::Display for Dual<T> {
    /// `re + epsε`, each part with the formatter's options (`{:.3}` applies to both).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.re, f)?;
        f.write_str(" + ")?;
        fmt::Display::fmt(&self.eps, f)?;
        f.write_str("ε")
    }
}

// Operators: the tangents of grad's operator rules (`grad-expand/src/rules.rs`), the
// transpose of what each operand's adjoint receives.

impl<T: Real> Add for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn add(self, rhs: Self) -> Self {
        Dual::new(self.re + rhs.re, self.eps + rhs.eps)
    }
}

impl<T: Real> Sub for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        Dual::new(self.re - rhs.re, self.eps - rhs.eps)
    }
}

impl<T: Real> Mul for Dual<T> {
    type Output = Self;
    /// `d(a b) = da · b + a · db`, each term exactly 0 when its tangent is.
    #[inline(always)]
    fn mul(self, rhs: Self) -> Self {
        Dual::new(
            self.re * rhs.re,
            flowing(self.eps, self.eps * rhs.re) + flowing(rhs.eps, rhs.eps * self.re),
        )
    }
}

impl<T: Real> Div for Dual<T> {
    type Output = Self;
    /// `d(a / b) = da / b - db · out / b`, each term exactly 0 when its tangent is.
    #[inline(always)]
    fn div(self, rhs: Self) -> Self {
        let out = self.re / rhs.re;
        Dual::new(
            out,
            flowing(self.eps, self.eps / rhs.re) + flowing(rhs.eps, -rhs.eps * out / rhs.re),
        )
    }
}

impl<T: Real> Rem for Dual<T> {
    type Output = Self;
    /// [`pullback::rem_tangent`].
    #[inline(always)]
    fn rem(self, rhs: Self) -> Self {
        let out = self.re % rhs.re;
        Dual::new(
            out,
            pullback::rem_tangent(self.re, rhs.re, out, self.eps, rhs.eps),
        )
    }
}

impl<T: Real> Neg for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Dual::new(-self.re, -self.eps)
    }
}

macro_rules! assign_ops {
    ($($trait:ident $method:ident $op:ident $op_method:ident;)*) => {$(
        impl<T: Real> $trait for Dual<T> {
            #[inline(always)]
            fn $method(&mut self, rhs: Self) {
                *self = $op::$op_method(*self, rhs);
            }
        }
    )*};
}

assign_ops! {
    AddAssign add_assign Add add;
    SubAssign sub_assign Sub sub;
    MulAssign mul_assign Mul mul;
    DivAssign div_assign Div div;
    RemAssign rem_assign Rem rem;
}

impl<T: Real> Sum for Dual<T> {
    /// Starts from -0.0, as `f64`'s sum does (an empty sum is -0.0).
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        let neg_zero = -T::zero();
        iter.fold(Dual::new(neg_zero, neg_zero), |a, b| a + b)
    }
}

impl<'a, T: Real> Sum<&'a Dual<T>> for Dual<T> {
    /// Starts from -0.0, as `f64`'s sum does (an empty sum is -0.0).
    fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

impl<T: Real> Product for Dual<T> {
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Dual::constant(T::one()), |a, b| a * b)
    }
}

impl<'a, T: Real> Product<&'a Dual<T>> for Dual<T> {
    fn product<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.copied().product()
    }
}

impl<T: Real> Zero for Dual<T> {
    #[inline(always)]
    fn zero() -> Self {
        Dual::constant(T::zero())
    }
    /// Whether the value is 0 (the tangent is not read, as for `==`).
    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.re == T::zero()
    }
}

impl<T: Real> One for Dual<T> {
    #[inline(always)]
    fn one() -> Self {
        Dual::constant(T::one())
    }
}

impl<T: Real> Num for Dual<T> {
    type FromStrRadixErr = T::FromStrRadixErr;
    /// A constant parsed as `T`.
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        T::from_str_radix(s, radix).map(Dual::constant)
    }
}

impl<T: ToPrimitive> ToPrimitive for Dual<T> {
    #[inline]
    fn to_i64(&self) -> Option<i64> {
        self.re.to_i64()
    }
    #[inline]
    fn to_u64(&self) -> Option<u64> {
        self.re.to_u64()
    }
    #[inline]
    fn to_i128(&self) -> Option<i128> {
        self.re.to_i128()
    }
    #[inline]
    fn to_u128(&self) -> Option<u128> {
        self.re.to_u128()
    }
    #[inline]
    fn to_f32(&self) -> Option<f32> {
        self.re.to_f32()
    }
    #[inline]
    fn to_f64(&self) -> Option<f64> {
        self.re.to_f64()
    }
}

impl<T: Real> NumCast for Dual<T> {
    /// A constant (tangent 0); another `Dual` converts by its value.
    #[inline]
    fn from<N: ToPrimitive>(n: N) -> Option<Self> {
        <T as NumCast>::from(n).map(Dual::constant)
    }
}

impl<T: Real + FromPrimitive> FromPrimitive for Dual<T> {
    #[inline]
    fn from_i64(n: i64) -> Option<Self> {
        T::from_i64(n).map(Dual::constant)
    }
    #[inline]
    fn from_u64(n: u64) -> Option<Self> {
        T::from_u64(n).map(Dual::constant)
    }
    #[inline]
    fn from_i128(n: i128) -> Option<Self> {
        T::from_i128(n).map(Dual::constant)
    }
    #[inline]
    fn from_u128(n: u128) -> Option<Self> {
        T::from_u128(n).map(Dual::constant)
    }
    #[inline]
    fn from_f32(n: f32) -> Option<Self> {
        T::from_f32(n).map(Dual::constant)
    }
    #[inline]
    fn from_f64(n: f64) -> Option<Self> {
        T::from_f64(n).map(Dual::constant)
    }
}

/// Constants of `T`, with tangent 0.
macro_rules! constants {
    ($($name:ident)*) => {$(
        #[inline]
        fn $name() -> Self {
            Dual::constant(T::$name())
        }
    )*};
}

/// Predicates and decompositions of the value.
macro_rules! of_value {
    ($($name:ident -> $ty:ty)*) => {$(
        #[inline]
        fn $name(self) -> $ty {
            self.re.$name()
        }
    )*};
}

/// Piecewise-constant methods: the value's, with tangent 0 (grad's rule for them).
macro_rules! steps {
    ($($name:ident)*) => {$(
        #[inline]
        fn $name(self) -> Self {
            Dual::constant(self.re.$name())
        }
    )*};
}

/// One-input methods: the value's, with the tangent of `pullback::<name>_tangent`.
macro_rules! unary {
    ($($name:ident $tangent:ident)*) => {$(
        #[inline]
        fn $name(self) -> Self {
            let out = self.re.$name();
            Dual::new(out, pullback::$tangent(self.re, out, self.eps))
        }
    )*};
}

/// Two-input methods: the value's, with the tangent of `pullback::<name>_tangent`.
macro_rules! binary {
    ($($name:ident $tangent:ident)*) => {$(
        #[inline]
        fn $name(self, other: Self) -> Self {
            let out = self.re.$name(other.re);
            Dual::new(
                out,
                pullback::$tangent(self.re, other.re, out, self.eps, other.eps),
            )
        }
    )*};
}

impl<T: NumFloat> NumFloat for Dual<T> {
    constants!(nan infinity neg_infinity neg_zero min_value min_positive_value epsilon max_value);
    of_value!(
        is_nan -> bool is_infinite -> bool is_finite -> bool is_normal -> bool
        is_subnormal -> bool classify -> FpCategory is_sign_positive -> bool
        is_sign_negative -> bool integer_decode -> (u64, i16, i8)
    );
    steps!(floor ceil round trunc signum);
    unary!(
        sin sin_tangent cos cos_tangent tan tan_tangent asin asin_tangent
        acos acos_tangent atan atan_tangent sinh sinh_tangent cosh cosh_tangent
        tanh tanh_tangent asinh asinh_tangent acosh acosh_tangent atanh atanh_tangent
        exp exp_tangent exp2 exp2_tangent exp_m1 exp_m1_tangent ln ln_tangent
        log2 log2_tangent log10 log10_tangent ln_1p ln_1p_tangent sqrt sqrt_tangent
        cbrt cbrt_tangent recip recip_tangent abs abs_tangent fract fract_tangent
        to_degrees to_degrees_tangent to_radians to_radians_tangent
    );
    binary!(
        atan2 atan2_tangent log log_tangent powf powf_tangent hypot hypot_tangent
        max max_tangent min min_tangent copysign copysign_tangent
    );

    #[inline]
    fn mul_add(self, a: Self, b: Self) -> Self {
        let out = self.re.mul_add(a.re, b.re);
        Dual::new(
            out,
            pullback::mul_add_tangent(self.re, a.re, b.re, out, self.eps, a.eps, b.eps),
        )
    }

    #[inline]
    fn powi(self, n: i32) -> Self {
        let out = self.re.powi(n);
        Dual::new(out, pullback::powi_tangent(self.re, n, out, self.eps))
    }

    /// The value's `clamp`, with [`pullback::clamp_tangent`]: the tangent of whichever input
    /// is returned, `x`'s at the bounds.
    #[inline]
    fn clamp(self, lo: Self, hi: Self) -> Self {
        let out = NumFloat::clamp(self.re, lo.re, hi.re);
        Dual::new(
            out,
            pullback::clamp_tangent(self.re, lo.re, hi.re, out, self.eps, lo.eps, hi.eps),
        )
    }

    /// `max(self - other, 0)` as `f64::abs_sub`: 0 (tangent 0) when `self <= other`, else
    /// the difference.
    #[inline]
    fn abs_sub(self, other: Self) -> Self {
        if self.re <= other.re {
            Dual::constant(T::zero())
        } else {
            self - other
        }
    }

    #[inline]
    fn sin_cos(self) -> (Self, Self) {
        let (sin, cos) = self.re.sin_cos();
        (
            Dual::new(sin, pullback::sin_tangent(self.re, sin, self.eps)),
            Dual::new(cos, pullback::cos_tangent(self.re, cos, self.eps)),
        )
    }
}

/// num-traits' constants (`T::PI()`), with tangent 0.
macro_rules! float_consts {
    ($($name:ident)*) => {
        impl<T: Real + FloatConst> FloatConst for Dual<T> {
            $(
                #[inline]
                fn $name() -> Self {
                    Dual::constant(T::$name())
                }
            )*
        }
    };
}

float_consts!(
    E FRAC_1_PI FRAC_1_SQRT_2 FRAC_2_PI FRAC_2_SQRT_PI FRAC_PI_2 FRAC_PI_3 FRAC_PI_4 FRAC_PI_6
    FRAC_PI_8 LN_10 LN_2 LOG10_E LOG2_E PI SQRT_2 TAU LOG10_2 LOG2_10
);

/// grad's own trait, for any grad float `T` (so `Dual<f64>`, `Dual<f32>`, and duals of duals):
/// its constants are `T`'s with tangent 0.
impl<T: crate::Float> crate::Float for Dual<T> {
    const ZERO: Self = Dual::new(T::ZERO, T::ZERO);
    const ONE: Self = Dual::new(T::ONE, T::ZERO);
    const TWO: Self = Dual::new(T::TWO, T::ZERO);
    const HALF: Self = Dual::new(T::HALF, T::ZERO);
    const PI: Self = Dual::new(T::PI, T::ZERO);
    const LN_2: Self = Dual::new(T::LN_2, T::ZERO);
    const LN_10: Self = Dual::new(T::LN_10, T::ZERO);
    const INFINITY: Self = Dual::new(T::INFINITY, T::ZERO);
    const NEG_INFINITY: Self = Dual::new(T::NEG_INFINITY, T::ZERO);
    const NAN: Self = Dual::new(T::NAN, T::ZERO);
    const EPSILON: Self = Dual::new(T::EPSILON, T::ZERO);
    const MIN_POSITIVE: Self = Dual::new(T::MIN_POSITIVE, T::ZERO);
    const MAX: Self = Dual::new(T::MAX, T::ZERO);

    #[inline]
    fn from_f64(v: f64) -> Self {
        Dual::constant(<T as crate::Float>::from_f64(v))
    }
    #[inline]
    fn from_i32(v: i32) -> Self {
        Dual::constant(<T as crate::Float>::from_i32(v))
    }
}

#[cfg(test)]
mod tests;
