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

use num_dual::{Dual64, DualNum};
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
}

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
        D(Dual64::new(self.x[k], eps))
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

/// num-dual's `Dual64` with num-traits' `Float` (which num-dual does not implement), so that a
/// published function generic over `Float` runs on it unchanged. Every derivative comes from
/// num-dual; comparisons, rounding and the like read the real part.
#[derive(Clone, Copy, Debug)]
pub struct D(pub Dual64);

impl D {
    fn c(v: f64) -> D {
        D(Dual64::from_re(v))
    }
    fn re(self) -> f64 {
        self.0.re
    }
}

impl PartialEq for D {
    fn eq(&self, other: &D) -> bool {
        self.re() == other.re()
    }
}

impl PartialOrd for D {
    fn partial_cmp(&self, other: &D) -> Option<Ordering> {
        self.re().partial_cmp(&other.re())
    }
}

macro_rules! binary {
    ($tr:ident $m:ident $tra:ident $ma:ident) => {
        impl $tr for D {
            type Output = D;
            fn $m(self, o: D) -> D {
                D($tr::$m(self.0, o.0))
            }
        }
        impl $tra for D {
            fn $ma(&mut self, o: D) {
                *self = $tr::$m(*self, o);
            }
        }
    };
}

binary!(Add add AddAssign add_assign);
binary!(Sub sub SubAssign sub_assign);
binary!(Mul mul MulAssign mul_assign);
binary!(Div div DivAssign div_assign);

impl Rem for D {
    type Output = D;
    fn rem(self, o: D) -> D {
        // a % b = a - b trunc(a / b), with trunc's slope zero.
        self - o * D::c((self.re() / o.re()).trunc())
    }
}

impl RemAssign for D {
    fn rem_assign(&mut self, o: D) {
        *self = *self % o;
    }
}

impl Neg for D {
    type Output = D;
    fn neg(self) -> D {
        D(-self.0)
    }
}

impl Sum for D {
    fn sum<I: Iterator<Item = D>>(iter: I) -> D {
        iter.fold(D::c(0.0), |a, b| a + b)
    }
}

impl<'a> Sum<&'a D> for D {
    fn sum<I: Iterator<Item = &'a D>>(iter: I) -> D {
        iter.fold(D::c(0.0), |a, b| a + *b)
    }
}

impl Product for D {
    fn product<I: Iterator<Item = D>>(iter: I) -> D {
        iter.fold(D::c(1.0), |a, b| a * b)
    }
}

impl Zero for D {
    fn zero() -> D {
        D::c(0.0)
    }
    fn is_zero(&self) -> bool {
        self.re() == 0.0
    }
}

impl One for D {
    fn one() -> D {
        D::c(1.0)
    }
}

impl Num for D {
    type FromStrRadixErr = <f64 as Num>::FromStrRadixErr;
    fn from_str_radix(s: &str, radix: u32) -> Result<D, Self::FromStrRadixErr> {
        f64::from_str_radix(s, radix).map(D::c)
    }
}

impl ToPrimitive for D {
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

impl NumCast for D {
    fn from<N: ToPrimitive>(n: N) -> Option<D> {
        n.to_f64().map(D::c)
    }
}

impl FromPrimitive for D {
    fn from_i64(n: i64) -> Option<D> {
        Some(D::c(n as f64))
    }
    fn from_u64(n: u64) -> Option<D> {
        Some(D::c(n as f64))
    }
    fn from_f64(n: f64) -> Option<D> {
        Some(D::c(n))
    }
}

macro_rules! constant {
    ($($m:ident)+) => {
        $(fn $m() -> D { D::c(f64::$m()) })+
    };
}

macro_rules! real {
    ($($m:ident -> $t:ty)+) => {
        $(fn $m(self) -> $t { self.re().$m() })+
    };
}

macro_rules! step {
    ($($m:ident)+) => {
        $(fn $m(self) -> D { D::c(self.re().$m()) })+
    };
}

macro_rules! dual {
    ($($m:ident)+) => {
        $(fn $m(self) -> D { D(DualNum::$m(&self.0)) })+
    };
}

impl Float for D {
    constant!(nan infinity neg_infinity neg_zero min_value min_positive_value max_value epsilon);
    real!(is_nan -> bool is_infinite -> bool is_finite -> bool is_normal -> bool
        classify -> FpCategory is_sign_positive -> bool is_sign_negative -> bool
        integer_decode -> (u64, i16, i8));
    step!(floor ceil round trunc signum);
    dual!(recip sqrt cbrt exp exp2 exp_m1 ln ln_1p log2 log10 sin cos tan asin acos atan
        sinh cosh tanh asinh acosh atanh);

    fn fract(self) -> D {
        self - self.trunc()
    }
    fn abs(self) -> D {
        if self.re() < 0.0 { -self } else { self }
    }
    fn mul_add(self, a: D, b: D) -> D {
        self * a + b
    }
    fn powi(self, n: i32) -> D {
        D(self.0.powi(n))
    }
    fn powf(self, n: D) -> D {
        // A constant exponent keeps num-dual's rule for x^n (defined at x <= 0 too).
        if n.0.eps == 0.0 {
            D(self.0.powf(n.re()))
        } else {
            D(self.0.powd(n.0))
        }
    }
    fn log(self, base: D) -> D {
        self.ln() / base.ln()
    }
    fn max(self, o: D) -> D {
        if o.re() > self.re() || self.is_nan() {
            o
        } else {
            self
        }
    }
    fn min(self, o: D) -> D {
        if o.re() < self.re() || self.is_nan() {
            o
        } else {
            self
        }
    }
    fn abs_sub(self, o: D) -> D {
        if self.re() <= o.re() {
            D::c(0.0)
        } else {
            self - o
        }
    }
    fn hypot(self, o: D) -> D {
        (self * self + o * o).sqrt()
    }
    fn atan2(self, o: D) -> D {
        D(DualNum::atan2(&self.0, o.0))
    }
    fn sin_cos(self) -> (D, D) {
        (self.sin(), self.cos())
    }
}
