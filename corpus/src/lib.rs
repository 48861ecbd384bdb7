//! A corpus of published functions, annotated unmodified.
//!
//! `build.rs` reads the functions named in `corpus.txt` from their crates' published sources
//! and writes them here with only `#[grad::differentiable]` added; `tests/corpus.rs` checks each
//! generated gradient against central finite differences of the published function itself, and
//! against num-dual where the published function is generic over num-traits' `Float`. See
//! `README.md` beside this file for the list and what each function does under the attribute.
//!
//! Everything in this file is ours: the checks' plumbing and [`D`], a num-dual number that
//! implements num-traits' `Float`, so that a published generic function runs on dual numbers.

// Published code is included as written: its `cfg(feature = "cargo-clippy")` attributes are
// its authors', for a cargo feature this crate does not have.
#![allow(unexpected_cfgs)]

use num_dual::{Dual64, DualNum, HyperDual64};
use num_traits::{Float, FromPrimitive, Num, NumCast, One, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::iter::{Product, Sum};
use std::num::FpCategory;
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

include!(concat!(env!("OUT_DIR"), "/corpus.rs"));

/// The checks of one published function.
pub struct Case {
    /// `crate::function`.
    pub id: &'static str,
    /// How many floats the function takes (slices and arrays flattened).
    pub dims: usize,
    /// How many floats each differentiated parameter takes, in order (a vector output's
    /// Jacobian comes with one block per parameter).
    pub parts: Vec<usize>,
    /// How many floats it returns: 1, or the length of an array result.
    pub outputs: usize,
    /// Random points are drawn from `[lo, hi]` in every coordinate.
    pub lo: f64,
    pub hi: f64,
    /// The published function (or, for a private helper, its unchanged copy) at a point.
    pub value: Eval,
    /// grad's gradient (or Jacobian, row by row) at a point, flattened.
    pub gradient: Eval,
    /// The published function on dual numbers seeded along coordinate `i`: the tangent of every
    /// output. `None` where the function is written for `f64` only.
    pub dual: Option<DualEval>,
    /// grad's `f_jvp` at a point along a tangent (both flattened): the value and the output's
    /// tangent, flattened. `Err(why)` where grad generated no `f_jvp` (build.rs asked
    /// grad-expand, as the macro does).
    pub jvp: Result<JvpEval, &'static str>,
    /// grad's `f_hvp` at a point along a direction: the Hessian times the direction, flattened.
    pub hvp: Result<DirEval, &'static str>,
    /// grad's `f_hessian` at a point, flattened as grad returns it (blocks (i, j) in order, each
    /// row by row).
    pub hessian: Result<Eval, &'static str>,
    /// The published function on hyper-dual numbers (`eps1` along the direction, `eps2` along
    /// each coordinate in turn): the Hessian times the direction. `None` where the function is
    /// written for `f64` only, or has no `f_hvp` to compare with.
    pub hyper: Option<DirEval>,
    /// The Hessian the crate publishes for the function (argmin's `f_hessian`, called through
    /// the crate's path), flattened row by row, with its path. `None` where there is none, or
    /// grad has no `f_hessian` to compare with.
    pub published_hessian: Option<(&'static str, Eval)>,
}

/// `f_jvp` at a point along a tangent: (value, tangent), flattened.
pub type JvpEval = Box<dyn Fn(&[f64], &[f64]) -> (Vec<f64>, Vec<f64>)>;

/// A function of a point and a direction, its result flattened.
pub type DirEval = Box<dyn Fn(&[f64], &[f64]) -> Vec<f64>>;

/// A function of a point, its result flattened.
pub type Eval = Box<dyn Fn(&[f64]) -> Vec<f64>>;

/// A published function evaluated on dual numbers seeded along one coordinate.
pub type DualEval = Box<dyn Fn(&[f64], usize) -> Vec<f64>>;

/// Reads the arguments of a call from a point, as `f64`.
pub struct Plain<'a> {
    x: &'a [f64],
    offset: usize,
}

impl<'a> Plain<'a> {
    pub fn new(x: &'a [f64]) -> Self {
        Plain { x, offset: 0 }
    }
    pub fn at(self, offset: usize) -> Self {
        Plain { offset, ..self }
    }
    pub fn scalar(self) -> f64 {
        self.x[self.offset]
    }
    pub fn vec(self, n: usize) -> Vec<f64> {
        self.x[self.offset..self.offset + n].to_vec()
    }
    pub fn array<const N: usize>(self) -> [f64; N] {
        std::array::from_fn(|j| self.x[self.offset + j])
    }
}

/// Reads the arguments of a call from a point, as dual numbers seeded along coordinate `i`.
pub struct Dual<'a> {
    x: &'a [f64],
    seed: usize,
    offset: usize,
}

impl<'a> Dual<'a> {
    pub fn new(x: &'a [f64], seed: usize) -> Self {
        Dual { x, seed, offset: 0 }
    }
    pub fn at(self, offset: usize) -> Self {
        Dual { offset, ..self }
    }
    fn d(&self, k: usize) -> D {
        let eps = if k == self.seed { 1.0 } else { 0.0 };
        Nd(Dual64::new(self.x[k], eps))
    }
    pub fn scalar(self) -> D {
        self.d(self.offset)
    }
    pub fn vec(self, n: usize) -> Vec<D> {
        (0..n).map(|j| self.d(self.offset + j)).collect()
    }
    pub fn array<const N: usize>(self) -> [D; N] {
        std::array::from_fn(|j| self.d(self.offset + j))
    }
}

/// Reads the arguments of a call from a point, as hyper-dual numbers: `eps1` along the direction
/// `v`, `eps2` along coordinate `seed`, so that `eps1eps2` of a scalar result is `(H v)[seed]`.
pub struct Hyper<'a> {
    x: &'a [f64],
    v: &'a [f64],
    seed: usize,
    offset: usize,
}

impl<'a> Hyper<'a> {
    pub fn new(x: &'a [f64], v: &'a [f64], seed: usize) -> Self {
        Hyper {
            x,
            v,
            seed,
            offset: 0,
        }
    }
    pub fn at(self, offset: usize) -> Self {
        Hyper { offset, ..self }
    }
    fn h(&self, k: usize) -> H {
        let eps2 = if k == self.seed { 1.0 } else { 0.0 };
        Nd(HyperDual64::new(self.x[k], self.v[k], eps2, 0.0))
    }
    pub fn scalar(self) -> H {
        self.h(self.offset)
    }
    pub fn vec(self, n: usize) -> Vec<H> {
        (0..n).map(|j| self.h(self.offset + j)).collect()
    }
    pub fn array<const N: usize>(self) -> [H; N] {
        std::array::from_fn(|j| self.h(self.offset + j))
    }
}

/// The mixed second derivative (`eps1eps2`) of a scalar result on hyper-dual numbers.
pub fn second(y: H) -> f64 {
    y.0.eps1eps2
}

/// A function's result as a list of floats.
pub trait Values {
    fn values(self) -> Vec<f64>;
}

impl Values for f64 {
    fn values(self) -> Vec<f64> {
        vec![self]
    }
}

impl<const N: usize> Values for [f64; N] {
    fn values(self) -> Vec<f64> {
        self.to_vec()
    }
}

/// The tangents of a result on dual numbers.
pub trait Tangents {
    fn tangents(self) -> Vec<f64>;
}

impl Tangents for D {
    fn tangents(self) -> Vec<f64> {
        vec![self.0.eps]
    }
}

impl<const N: usize> Tangents for [D; N] {
    fn tangents(self) -> Vec<f64> {
        self.iter().map(|d| d.0.eps).collect()
    }
}

/// A gradient or Jacobian of any shape grad returns, flattened in order.
pub trait Flat {
    fn flat(&self) -> Vec<f64>;
}

impl Flat for f64 {
    fn flat(&self) -> Vec<f64> {
        vec![*self]
    }
}

impl<T: Flat> Flat for Vec<T> {
    fn flat(&self) -> Vec<f64> {
        self.iter().flat_map(Flat::flat).collect()
    }
}

impl<T: Flat, const N: usize> Flat for [T; N] {
    fn flat(&self) -> Vec<f64> {
        self.iter().flat_map(Flat::flat).collect()
    }
}

macro_rules! flat_tuple {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Flat),+> Flat for ($($t,)+) {
            fn flat(&self) -> Vec<f64> {
                let mut out = Vec::new();
                $(out.extend(self.$i.flat());)+
                out
            }
        }
    };
}

flat_tuple!(A 0, B 1);
flat_tuple!(A 0, B 1, C 2);
flat_tuple!(A 0, B 1, C 2, E 3);
flat_tuple!(A 0, B 1, C 2, E 3, F 4);

/// A num-dual number (`Dual64`, or `HyperDual64` for second derivatives) with num-traits'
/// `Float` (which num-dual does not implement), so that a published function generic over
/// `Float` runs on it unchanged. Every derivative comes from num-dual; comparisons, rounding and
/// the like read the real part.
#[derive(Clone, Copy, Debug)]
pub struct Nd<X>(pub X);

/// num-dual's first-order dual number, as a `Float`.
pub type D = Nd<Dual64>;

/// num-dual's hyper-dual number (`eps1eps2` carries a second derivative), as a `Float`.
pub type H = Nd<HyperDual64>;

/// What [`Nd`] needs of a num-dual number: whether its derivative parts are all zero (num-dual's
/// `==` compares the real parts only).
pub trait Number: DualNum<f64> + Copy {
    fn is_constant(&self) -> bool;
}

impl Number for Dual64 {
    fn is_constant(&self) -> bool {
        self.eps == 0.0
    }
}

impl Number for HyperDual64 {
    fn is_constant(&self) -> bool {
        self.eps1 == 0.0 && self.eps2 == 0.0 && self.eps1eps2 == 0.0
    }
}

impl<X: Number> Nd<X> {
    fn c(v: f64) -> Self {
        Nd(X::from(v))
    }
    fn re(self) -> f64 {
        self.0.re()
    }
}

impl<X: Number> PartialEq for Nd<X> {
    fn eq(&self, other: &Self) -> bool {
        self.re() == other.re()
    }
}

impl<X: Number> PartialOrd for Nd<X> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re().partial_cmp(&other.re())
    }
}

macro_rules! binary {
    ($tr:ident $m:ident $tra:ident $ma:ident) => {
        impl<X: Number> $tr for Nd<X> {
            type Output = Self;
            fn $m(self, o: Self) -> Self {
                Nd($tr::$m(self.0, o.0))
            }
        }
        impl<X: Number> $tra for Nd<X> {
            fn $ma(&mut self, o: Self) {
                *self = $tr::$m(*self, o);
            }
        }
    };
}

binary!(Add add AddAssign add_assign);
binary!(Sub sub SubAssign sub_assign);
binary!(Mul mul MulAssign mul_assign);
binary!(Div div DivAssign div_assign);

impl<X: Number> Rem for Nd<X> {
    type Output = Self;
    fn rem(self, o: Self) -> Self {
        // a % b = a - b trunc(a / b), with trunc's slope zero.
        self - o * Self::c((self.re() / o.re()).trunc())
    }
}

impl<X: Number> RemAssign for Nd<X> {
    fn rem_assign(&mut self, o: Self) {
        *self = *self % o;
    }
}

impl<X: Number> Neg for Nd<X> {
    type Output = Self;
    fn neg(self) -> Self {
        Nd(-self.0)
    }
}

impl<X: Number> Sum for Nd<X> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::c(0.0), |a, b| a + b)
    }
}

impl<'a, X: Number> Sum<&'a Nd<X>> for Nd<X> {
    fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.fold(Self::c(0.0), |a, b| a + *b)
    }
}

impl<X: Number> Product for Nd<X> {
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::c(1.0), |a, b| a * b)
    }
}

impl<X: Number> Zero for Nd<X> {
    fn zero() -> Self {
        Self::c(0.0)
    }
    fn is_zero(&self) -> bool {
        self.re() == 0.0
    }
}

impl<X: Number> One for Nd<X> {
    fn one() -> Self {
        Self::c(1.0)
    }
}

impl<X: Number> Num for Nd<X> {
    type FromStrRadixErr = <f64 as Num>::FromStrRadixErr;
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        f64::from_str_radix(s, radix).map(Self::c)
    }
}

impl<X: Number> ToPrimitive for Nd<X> {
    fn to_i64(&self) -> Option<i64> {
        self.re().to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.re().to_u64()
    }
    fn to_f64(&self) -> Option<f64> {
        Some(self.re())
    }
}

impl<X: Number> NumCast for Nd<X> {
    fn from<N: ToPrimitive>(n: N) -> Option<Self> {
        n.to_f64().map(Self::c)
    }
}

impl<X: Number> FromPrimitive for Nd<X> {
    fn from_i64(n: i64) -> Option<Self> {
        Some(Self::c(n as f64))
    }
    fn from_u64(n: u64) -> Option<Self> {
        Some(Self::c(n as f64))
    }
    fn from_f64(n: f64) -> Option<Self> {
        Some(Self::c(n))
    }
}

macro_rules! constant {
    ($($m:ident)+) => {
        $(fn $m() -> Self { Self::c(f64::$m()) })+
    };
}

macro_rules! real {
    ($($m:ident -> $t:ty)+) => {
        $(fn $m(self) -> $t { self.re().$m() })+
    };
}

macro_rules! step {
    ($($m:ident)+) => {
        $(fn $m(self) -> Self { Self::c(self.re().$m()) })+
    };
}

macro_rules! dual {
    ($($m:ident)+) => {
        $(fn $m(self) -> Self { Nd(DualNum::$m(&self.0)) })+
    };
}

impl<X: Number> Float for Nd<X> {
    constant!(nan infinity neg_infinity neg_zero min_value min_positive_value max_value epsilon);
    real!(is_nan -> bool is_infinite -> bool is_finite -> bool is_normal -> bool
        classify -> FpCategory is_sign_positive -> bool is_sign_negative -> bool
        integer_decode -> (u64, i16, i8));
    step!(floor ceil round trunc signum);
    dual!(recip sqrt cbrt exp exp2 exp_m1 ln ln_1p log2 log10 sin cos tan asin acos atan
        sinh cosh tanh asinh acosh atanh);

    fn fract(self) -> Self {
        self - self.trunc()
    }
    fn abs(self) -> Self {
        if self.re() < 0.0 { -self } else { self }
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        self * a + b
    }
    fn powi(self, n: i32) -> Self {
        Nd(DualNum::powi(&self.0, n))
    }
    fn powf(self, n: Self) -> Self {
        // A constant exponent keeps num-dual's rule for x^n (defined at x <= 0 too).
        if n.0.is_constant() {
            Nd(DualNum::powf(&self.0, n.re()))
        } else {
            Nd(DualNum::powd(&self.0, n.0))
        }
    }
    fn log(self, base: Self) -> Self {
        self.ln() / base.ln()
    }
    fn max(self, o: Self) -> Self {
        if o.re() > self.re() || self.is_nan() {
            o
        } else {
            self
        }
    }
    fn min(self, o: Self) -> Self {
        if o.re() < self.re() || self.is_nan() {
            o
        } else {
            self
        }
    }
    fn abs_sub(self, o: Self) -> Self {
        if self.re() <= o.re() {
            Self::c(0.0)
        } else {
            self - o
        }
    }
    fn hypot(self, o: Self) -> Self {
        (self * self + o * o).sqrt()
    }
    fn atan2(self, o: Self) -> Self {
        Nd(DualNum::atan2(&self.0, o.0))
    }
    fn sin_cos(self) -> (Self, Self) {
        (self.sin(), self.cos())
    }
}
