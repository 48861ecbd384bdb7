//! The trait against the inherent methods. Run with `--no-default-features`, this compares
//! the libm implementations with std's; with `std` it pins the delegation.
//!
//! The traits are deliberately never brought into scope (only `<T as num_traits::Float>`
//! paths and bounds), so that `f64::sin(x)` here can only mean std's inherent method.

const POINTS: &[f64] = &[
    0.0,
    -0.0,
    0.3,
    -0.7,
    0.5,
    -0.5,
    1.0,
    -1.0,
    1.5,
    2.5,
    -2.5,
    -3.75,
    10.0,
    1e-5,
    123.456,
    -1e10,
    1e300,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

/// Equal (NaN matching NaN), or within `tol` relative error.
fn same(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * a.abs().max(b.abs())
}

macro_rules! compare {
    ($t:ident, $tol:expr, $what:expr, $ours:expr, $std:expr) => {{
        let (ours, std): ($t, $t) = ($ours, $std);
        assert!(
            same(ours as f64, std as f64, $tol),
            "{}::{}: Float gives {ours:?}, std {std:?}",
            stringify!($t),
            $what,
        );
    }};
}

macro_rules! matches_std {
    ($t:ident, $tol:expr) => {{
        for &p in POINTS {
            let x = p as $t;
            matches_std!(@unary $t, $tol, x;
                sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh exp exp2 exp_m1 ln log2
                log10 ln_1p sqrt cbrt recip abs signum floor ceil round trunc fract to_degrees
                to_radians);
            matches_std!(@bool $t, x;
                is_nan is_finite is_infinite is_normal is_sign_negative
                is_sign_positive);
            for &q in POINTS {
                let y = q as $t;
                matches_std!(@binary $t, $tol, x, y; atan2 log powf hypot max min copysign);
                compare!($t, $tol, "rem", x % y, x % y);
                compare!($t, $tol, "mul_add", <$t as num_traits::Float>::mul_add(x, y, 0.5), $t::mul_add(x, y, 0.5));
                if (-2.0..=3.0).contains(&y) {
                    compare!($t, $tol, "clamp", <$t as num_traits::Float>::clamp(x, -2.0, y), $t::clamp(x, -2.0, y));
                }
            }
            if x.abs() < 20.0 || !x.is_finite() {
                for n in -7..=7 {
                    compare!($t, $tol, "powi", <$t as num_traits::Float>::powi(x, n), $t::powi(x, n));
                }
            }
        }
    }};
    (@unary $t:ident, $tol:expr, $x:ident; $($name:ident)*) => {
        $(compare!($t, $tol, stringify!($name), <$t as num_traits::Float>::$name($x), $t::$name($x));)*
    };
    (@binary $t:ident, $tol:expr, $x:ident, $y:ident; $($name:ident)*) => {
        $(compare!($t, $tol, stringify!($name), <$t as num_traits::Float>::$name($x, $y), $t::$name($x, $y));)*
    };
    (@bool $t:ident, $x:ident; $($name:ident)*) => {
        $(assert_eq!(<$t as num_traits::Float>::$name($x), $t::$name($x), "{}::{}({:?})", stringify!($t), stringify!($name), $x);)*
    };
}

#[test]
fn f64_matches_std() {
    matches_std!(f64, 1e-14);
}

#[test]
fn f32_matches_std() {
    matches_std!(f32, 1e-6);
}

fn constants<T: crate::Float>() {
    assert_eq!(crate::float::to_f64(T::ZERO), 0.0);
    assert_eq!(crate::float::to_f64(T::ONE), 1.0);
    assert_eq!(crate::float::to_f64(T::TWO), 2.0);
    assert_eq!(crate::float::to_f64(T::HALF), 0.5);
    assert_eq!(T::PI, T::from_f64(core::f64::consts::PI));
    assert_eq!(T::LN_2, T::from_f64(core::f64::consts::LN_2));
    assert_eq!(T::LN_10, T::from_f64(core::f64::consts::LN_10));
    assert_eq!(crate::float::to_f64(T::INFINITY), f64::INFINITY);
    assert_eq!(crate::float::to_f64(T::NEG_INFINITY), f64::NEG_INFINITY);
    assert!(T::NAN.is_nan());
    assert!(T::ONE + T::EPSILON > T::ONE);
    assert_eq!(T::ONE + T::EPSILON / T::TWO, T::ONE);
    assert!(T::MIN_POSITIVE.is_normal() && !(T::MIN_POSITIVE / T::TWO).is_normal());
    assert!(T::MAX.is_finite() && (T::MAX * T::TWO).is_infinite());
    assert_eq!(crate::float::to_f64(T::from_i32(-7)), -7.0);
    assert_eq!(crate::float::to_f64(T::from_f64(2.5)), 2.5);
}

#[test]
fn constants_and_conversions() {
    constants::<f32>();
    constants::<f64>();
    assert_eq!(<f32 as crate::Float>::from_f64(0.1), 0.1_f32);
    assert_eq!(<f32 as crate::Float>::from_i32(16_777_217), 16_777_216.0);
    assert_eq!(crate::float::to_f64(0.1_f32), f64::from(0.1_f32));
}

fn edge_semantics<T: crate::Float>() {
    let c = T::from_f64;
    // max/min skip a NaN, like std.
    assert_eq!(T::NAN.max(c(1.0)), c(1.0));
    assert_eq!(c(1.0).min(T::NAN), c(1.0));
    assert!(T::NAN.max(T::NAN).is_nan());
    assert!(T::NAN.clamp(c(-1.0), c(1.0)).is_nan());
    assert_eq!(c(5.0).clamp(c(-1.0), c(1.0)), c(1.0));
    // signum keeps the sign of zero and propagates NaN.
    assert_eq!(c(0.0).signum(), c(1.0));
    assert_eq!(c(-0.0).signum(), c(-1.0));
    assert!(T::NAN.signum().is_nan());
    // Rounding is half away from zero; fract keeps the sign.
    assert_eq!(c(2.5).round(), c(3.0));
    assert_eq!(c(-2.5).round(), c(-3.0));
    assert_eq!(c(-2.75).fract(), c(-0.75));
    // powi: negative and extreme exponents.
    assert_eq!(c(2.0).powi(-3), c(0.125));
    assert_eq!(c(-2.0).powi(3), c(-8.0));
    assert_eq!(c(7.0).powi(0), c(1.0));
    assert_eq!(c(1.0).powi(i32::MIN), c(1.0));
    assert_eq!(c(2.0).powi(i32::MIN), c(0.0));
    assert_eq!(c(8.0).log(c(2.0)), c(8.0).ln() / c(2.0).ln());
    assert_eq!(c(3.0).copysign(c(-0.0)), c(-3.0));
    assert_eq!(c(2.0).mul_add(c(3.0), c(4.0)), c(10.0));
}

#[test]
fn edge_cases_follow_std() {
    edge_semantics::<f32>();
    edge_semantics::<f64>();
}
