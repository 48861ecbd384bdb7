//! `Dual`: each method's tangent is its rule's, and the derivative (finite differences); the
//! value-only parts (comparisons, predicates, conversions, constants); generic code run on
//! duals gives directional derivatives; the pullbacks run on duals give second derivatives.

use super::Dual;
use crate::pullback;
use crate::test_util::{central, err, fd_tol, same};
use core::any::type_name;
use core::f64::consts::PI;
use num_traits::{Float as NumFloat, FloatConst, FromPrimitive, Num, NumCast, ToPrimitive};
use std::format;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

type D = Dual<f64>;

/// The tangents every method is run with: unit, scaled, zero and NaN.
const TANGENTS: [f64; 4] = [1.0, 0.75, 0.0, NAN];

/// The value and tangent of a dual, both compared as bits (NaN equal to NaN).
fn same_dual<T: crate::Float>(got: Dual<T>, re: T, eps: T) -> bool {
    same(got.re, re) && same(got.eps, eps)
}

/// `method` on duals has the value of `value` and the tangent of `rule`, at every point (kinks
/// and singularities included) and for every tangent; and at `ordinary` points its tangent
/// matches a finite difference.
fn check_unary<T: crate::Float>(
    name: &str,
    ordinary: &[f64],
    special: &[f64],
    method: impl Fn(Dual<T>) -> Dual<T>,
    value: impl Fn(T) -> T,
    rule: impl Fn(T, T, T) -> T,
) {
    for &p in ordinary.iter().chain(special) {
        let x = T::from_f64(p);
        let out = value(x);
        for e in TANGENTS.map(T::from_f64) {
            let got = method(Dual::new(x, e));
            assert!(
                same_dual(got, out, rule(x, out, e)),
                "{name}<{}> at {p} along {e:?}: {got:?}, expected value {out:?}, tangent {:?}",
                type_name::<T>(),
                rule(x, out, e),
            );
        }
    }
    for &p in ordinary {
        let x = T::from_f64(p);
        let got = crate::float::to_f64(method(Dual::variable(x)).eps);
        let numeric = crate::float::to_f64(central(&value, x));
        assert!(
            err(got, numeric) <= fd_tol::<T>(),
            "{name}<{}> at {p}: tangent {got}, finite difference {numeric}",
            type_name::<T>(),
        );
    }
}

macro_rules! unary_methods {
    ($($name:ident $tangent:ident [$($o:expr),*] [$($s:expr),*];)*) => {
        fn unary_cases<T: crate::Float>() {
            $(
                check_unary::<T>(
                    stringify!($name),
                    &[$($o),*],
                    &[$($s),*],
                    |x| NumFloat::$name(x),
                    |x| NumFloat::$name(x),
                    pullback::$tangent,
                );
            )*
        }
    };
}

unary_methods! {
    sin sin_tangent [-2.5, 0.4, 3.0] [0.0, INF, NAN];
    cos cos_tangent [-2.5, 0.4, 3.0] [0.0, INF, NAN];
    tan tan_tangent [-1.2, 0.3, 1.0] [0.0, INF, NAN];
    asin asin_tangent [-0.8, 0.3, 0.7] [1.0, -1.0, 1.5, NAN];
    acos acos_tangent [-0.8, 0.3, 0.7] [1.0, -1.0, 1.5, NAN];
    atan atan_tangent [-5.0, 0.5, 3.0] [1e30, INF, NAN];
    sinh sinh_tangent [-3.0, 0.5, 2.0] [800.0, INF, NAN];
    cosh cosh_tangent [-3.0, 0.5, 2.0] [800.0, INF, NAN];
    tanh tanh_tangent [-3.0, 0.5, 2.0] [30.0, INF, NAN];
    asinh asinh_tangent [-10.0, 0.7, 3.0] [1e30, INF, NAN];
    acosh acosh_tangent [1.1, 2.0, 5.0] [1.0, 0.5, NAN];
    atanh atanh_tangent [-0.8, 0.0, 0.5] [1.0, -1.0, NAN];
    exp exp_tangent [-5.0, 0.5, 2.0] [800.0, -800.0, NAN];
    exp2 exp2_tangent [-5.0, 0.5, 2.0] [2000.0, NAN];
    exp_m1 exp_m1_tangent [-5.0, 0.5, 2.0] [800.0, NAN];
    ln ln_tangent [0.25, 2.0, 10.0] [0.0, -1.0, NAN];
    log2 log2_tangent [0.25, 2.0, 10.0] [0.0, -1.0, NAN];
    log10 log10_tangent [0.25, 2.0, 10.0] [0.0, -1.0, NAN];
    ln_1p ln_1p_tangent [-0.5, 0.5, 3.0] [-1.0, -2.0, NAN];
    sqrt sqrt_tangent [0.25, 2.0, 9.0] [0.0, -0.0, -1.0, NAN];
    cbrt cbrt_tangent [-8.0, 0.2, 27.0] [0.0, NAN];
    recip recip_tangent [-4.0, 0.3, 7.0] [0.0, INF, NAN];
    abs abs_tangent [-3.0, -0.2, 0.5] [0.0, -0.0, NAN];
    to_degrees to_degrees_tangent [-3.0, 1.0, 100.0] [INF, NAN];
    to_radians to_radians_tangent [-3.0, 1.0, 100.0] [INF, NAN];
    fract fract_tangent [-2.7, 0.3, 5.6] [2.0, -3.0, NAN];
}

#[test]
fn unary_methods_take_their_tangent_rules() {
    unary_cases::<f32>();
    unary_cases::<f64>();
}

#[test]
fn powi_takes_its_tangent_rule() {
    fn case<T: crate::Float>() {
        for n in [-3, -1, 0, 1, 2, 5] {
            check_unary::<T>(
                &format!("powi(_, {n})"),
                &[-2.0, 0.7, 1.5],
                &[0.0, -0.0, INF, NAN],
                |x| x.powi(n),
                |x| x.powi(n),
                |x, out, dx| pullback::powi_tangent(x, n, out, dx),
            );
        }
    }
    case::<f32>();
    case::<f64>();
}

/// A two-input method against its rule, for every pair of tangents, and against finite
/// differences along a mixed direction at `ordinary` points.
fn check_binary<T: crate::Float>(
    name: &str,
    ordinary: &[[f64; 2]],
    special: &[[f64; 2]],
    method: impl Fn(Dual<T>, Dual<T>) -> Dual<T>,
    value: impl Fn(T, T) -> T,
    rule: impl Fn(T, T, T, T, T) -> T,
) {
    for [a, b] in ordinary.iter().chain(special).map(|p| p.map(T::from_f64)) {
        let out = value(a, b);
        for da in TANGENTS.map(T::from_f64) {
            for db in TANGENTS.map(T::from_f64) {
                let got = method(Dual::new(a, da), Dual::new(b, db));
                let expected = rule(a, b, out, da, db);
                assert!(
                    same_dual(got, out, expected),
                    "{name}<{}> at ({a:?}, {b:?}) along ({da:?}, {db:?}): {got:?}, expected \
                     value {out:?}, tangent {expected:?}",
                    type_name::<T>(),
                );
            }
        }
    }
    let (da, db) = (T::from_f64(0.6), T::from_f64(-0.35));
    for [a, b] in ordinary.iter().map(|p| p.map(T::from_f64)) {
        let got = crate::float::to_f64(method(Dual::new(a, da), Dual::new(b, db)).eps);
        let numeric = crate::float::to_f64(central(|t| value(a + t * da, b + t * db), T::ZERO));
        assert!(
            err(got, numeric) <= fd_tol::<T>(),
            "{name}<{}> at ({a:?}, {b:?}): tangent {got}, finite difference {numeric}",
            type_name::<T>(),
        );
    }
}

fn binary_cases<T: crate::Float>() {
    let ordinary = [[1.5, 0.5], [-1.0, 2.0], [0.7, -3.0]];
    let positive = [[1.5, 0.5], [2.0, 3.0], [0.7, 4.0]];
    let special = [
        [0.0, 0.0],
        [-0.0, 0.0],
        [1.0, 1.0],
        [2.0, 0.0],
        [0.0, 2.0],
        [-2.0, 0.5],
        [NAN, 1.0],
        [1.0, NAN],
        [NAN, NAN],
        [INF, 1.0],
        [1.0, INF],
    ];
    check_binary::<T>(
        "atan2",
        &ordinary,
        &special,
        NumFloat::atan2,
        NumFloat::atan2,
        pullback::atan2_tangent,
    );
    check_binary::<T>(
        "log",
        &positive,
        &special,
        NumFloat::log,
        NumFloat::log,
        pullback::log_tangent,
    );
    check_binary::<T>(
        "powf",
        &positive,
        &special,
        NumFloat::powf,
        NumFloat::powf,
        pullback::powf_tangent,
    );
    check_binary::<T>(
        "hypot",
        &ordinary,
        &special,
        NumFloat::hypot,
        NumFloat::hypot,
        pullback::hypot_tangent,
    );
    check_binary::<T>(
        "max",
        &ordinary,
        &special,
        NumFloat::max,
        NumFloat::max,
        pullback::max_tangent,
    );
    check_binary::<T>(
        "min",
        &ordinary,
        &special,
        NumFloat::min,
        NumFloat::min,
        pullback::min_tangent,
    );
    check_binary::<T>(
        "copysign",
        &ordinary,
        &special,
        NumFloat::copysign,
        NumFloat::copysign,
        pullback::copysign_tangent,
    );
    check_binary::<T>(
        "%",
        &[[5.3, 2.0], [-5.3, 2.0], [1.3, 0.4]],
        &special,
        |a, b| a % b,
        |a, b| a % b,
        pullback::rem_tangent,
    );
}

#[test]
fn binary_methods_take_their_tangent_rules() {
    binary_cases::<f32>();
    binary_cases::<f64>();
}

#[test]
fn ternary_methods_take_their_tangent_rules() {
    fn case<T: crate::Float>() {
        let c = T::from_f64;
        let points = [
            [2.0, 3.0, 4.0],
            [-1.5, 0.5, -2.0],
            [-1.0, -1.0, 1.0],
            [1.0, -1.0, 1.0],
            [2.0, 2.0, 2.0],
            [3.0, -1.0, 1.0],
            [-3.0, -1.0, 1.0],
            [INF, 2.0, 3.0],
            [NAN, -1.0, 1.0],
        ];
        for [x, a, b] in points.map(|p| p.map(c)) {
            for [dx, da, db] in [
                [1.0, 0.0, 0.0],
                [0.0, 1.0, 0.0],
                [0.0, 0.0, 1.0],
                [0.5, -2.0, 3.0],
                [0.0; 3],
            ]
            .map(|d| d.map(c))
            {
                let (dual_x, dual_a, dual_b) =
                    (Dual::new(x, dx), Dual::new(a, da), Dual::new(b, db));
                let out = x.mul_add(a, b);
                let got = dual_x.mul_add(dual_a, dual_b);
                let expected = pullback::mul_add_tangent(x, a, b, out, dx, da, db);
                assert!(
                    same_dual(got, out, expected),
                    "mul_add at {x:?}, {a:?}, {b:?}: {got:?}"
                );
                if a <= b {
                    let out = NumFloat::clamp(x, a, b);
                    let got = NumFloat::clamp(dual_x, dual_a, dual_b);
                    let expected = pullback::clamp_tangent(x, a, b, out, dx, da, db);
                    assert!(
                        same_dual(got, out, expected),
                        "clamp at {x:?}, {a:?}, {b:?}: {got:?}"
                    );
                }
            }
        }
    }
    case::<f32>();
    case::<f64>();
}

#[test]
fn operators_follow_the_operator_rules() {
    let (a, b) = (D::new(3.0, 0.5), D::new(-2.0, 4.0));
    let check = |got: D, re: f64, eps: f64| {
        assert!(same_dual(got, re, eps), "{got:?}, expected {re} + {eps}ε");
    };
    check(a + b, 1.0, 4.5);
    check(a - b, 5.0, -3.5);
    check(a * b, -6.0, 0.5 * -2.0 + 4.0 * 3.0);
    check(a / b, -1.5, 0.5 / -2.0 + -4.0 * -1.5 / -2.0);
    check(-a, -3.0, -0.5);
    check(a % b, 3.0 % -2.0, 0.5 - 4.0 * (3.0_f64 / -2.0).trunc());
    let mut c = a;
    c += b;
    check(c, 1.0, 4.5);
    c -= b;
    check(c, 3.0, 0.5);
    c *= b;
    check(c, -6.0, 11.0);
    c /= b;
    assert!(
        (c.re - 3.0).abs() < 1e-15 && (c.eps - 0.5).abs() < 1e-15,
        "{c:?}"
    );
    c %= D::constant(2.0);
    check(c, 1.0, 0.5);
    // A zero tangent contributes exactly 0: an infinite constant times a variable, and a
    // constant divided by an infinite or zero constant, give no NaN.
    check(D::constant(INF) * D::variable(2.0), INF, INF);
    check(D::constant(INF) * D::constant(2.0), INF, 0.0);
    check(D::variable(2.0) * D::constant(0.0), 0.0, 0.0);
    check(D::constant(1.0) / D::constant(0.0), INF, 0.0);
    check(D::variable(1.0) / D::constant(INF), 0.0, 0.0);
    // NaN tangents propagate.
    assert!((D::new(1.0, NAN) * D::constant(2.0)).eps.is_nan());
}

#[test]
fn a_constant_stays_constant_through_every_method() {
    // Points where a method overflows, or is infinitely steep, or NaN: eps stays exactly 0.
    for x in [0.0, -0.0, 1.0, -1.0, 800.0, -800.0, 1e300, INF, -INF, NAN] {
        let c = D::constant(x);
        let results = [
            c.sin(),
            c.cos(),
            c.tan(),
            c.asin(),
            c.acos(),
            c.atan(),
            c.sinh(),
            c.cosh(),
            c.tanh(),
            c.asinh(),
            c.acosh(),
            c.atanh(),
            c.exp(),
            c.exp2(),
            c.exp_m1(),
            c.ln(),
            c.log2(),
            c.log10(),
            c.ln_1p(),
            c.sqrt(),
            c.cbrt(),
            c.recip(),
            c.abs(),
            c.fract(),
            c.to_degrees(),
            c.to_radians(),
            c.powi(-3),
            c.powf(c),
            c.log(c),
            c.atan2(c),
            c.hypot(c),
            c.max(c),
            c.min(c),
            c.copysign(c),
            c % c,
            c * c,
            c / c,
            c + c,
            c - c,
            c.mul_add(c, c),
            c.floor(),
            c.signum(),
            c.abs_sub(D::constant(-1.0)),
        ];
        for (i, r) in results.iter().enumerate() {
            assert!(r.eps == 0.0, "result {i} at {x}: {r:?}");
        }
    }
}

#[test]
fn steps_and_predicates_read_the_value() {
    let x = D::new(-2.5, 3.0);
    for (got, re) in [
        (x.floor(), -3.0),
        (x.ceil(), -2.0),
        (x.round(), -3.0),
        (x.trunc(), -2.0),
        (x.signum(), -1.0),
    ] {
        assert!(same_dual(got, re, 0.0), "{got:?}");
    }
    assert!(x.is_sign_negative() && !x.is_sign_positive());
    assert!(x.is_finite() && x.is_normal() && !x.is_nan() && !x.is_infinite());
    assert!(D::new(NAN, 0.0).is_nan() && !D::new(1.0, NAN).is_nan());
    assert!(D::new(INF, 1.0).is_infinite());
    assert!(D::new(1e-310, 1.0).is_subnormal());
    assert_eq!(x.classify(), (-2.5_f64).classify());
    assert_eq!(x.integer_decode(), NumFloat::integer_decode(-2.5_f64));
    // abs_sub: 0 when self <= other, else the difference.
    assert!(same_dual(
        D::new(1.0, 2.0).abs_sub(D::new(3.0, 1.0)),
        0.0,
        0.0
    ));
    assert!(same_dual(
        D::new(5.0, 2.0).abs_sub(D::new(3.0, 1.0)),
        2.0,
        1.0
    ));
    // sin_cos is sin and cos.
    let (s, c) = D::new(0.3, 2.0).sin_cos();
    assert!(same_dual(s, 0.3_f64.sin(), 2.0 * 0.3_f64.cos()));
    assert!(same_dual(c, 0.3_f64.cos(), -(2.0 * 0.3_f64.sin())));
}

#[test]
fn comparisons_read_the_value_only() {
    let (a, b) = (D::new(1.0, 2.0), D::new(1.0, -5.0));
    assert!(a == b && a <= b && a >= b);
    assert!(a.partial_cmp(&b) != Some(core::cmp::Ordering::Less));
    assert!(D::new(1.0, 9.0) < D::new(2.0, 0.0));
    assert_eq!(a.partial_cmp(&b), Some(core::cmp::Ordering::Equal));
    assert!(D::new(NAN, 0.0) != D::new(NAN, 0.0));
    assert!(D::new(0.0, 1.0) == D::new(-0.0, 0.0));
    assert!(num_traits::Zero::is_zero(&D::new(0.0, 1.0)));
}

#[test]
fn conversions_and_constants_have_zero_tangents() {
    let check = |got: D, re: f64| assert!(same_dual(got, re, 0.0), "{got:?}, expected {re}");
    check(<D as NumCast>::from(2.5_f32).unwrap(), 2.5);
    check(<D as NumCast>::from(7_u8).unwrap(), 7.0);
    check(<D as FromPrimitive>::from_f64(0.1).unwrap(), 0.1);
    check(D::from_i64(-3).unwrap(), -3.0);
    check(D::from_u128(5).unwrap(), 5.0);
    check(<D as crate::Float>::from_f64(0.25), 0.25);
    check(<D as crate::Float>::from_i32(4), 4.0);
    check(<D as From<f64>>::from(1.5), 1.5);
    check(D::from_str_radix("2.5", 10).unwrap(), 2.5);
    check(D::default(), 0.0);
    check(<D as num_traits::Zero>::zero(), 0.0);
    check(<D as num_traits::One>::one(), 1.0);
    check(<D as NumFloat>::nan(), NAN);
    check(<D as NumFloat>::infinity(), INF);
    check(<D as NumFloat>::neg_infinity(), -INF);
    check(<D as NumFloat>::neg_zero(), -0.0);
    check(<D as NumFloat>::max_value(), f64::MAX);
    check(<D as NumFloat>::min_value(), f64::MIN);
    check(<D as NumFloat>::min_positive_value(), f64::MIN_POSITIVE);
    check(<D as NumFloat>::epsilon(), f64::EPSILON);
    check(D::PI(), PI);
    check(D::LN_2(), core::f64::consts::LN_2);
    check(<D as crate::Float>::PI, PI);
    check(<D as crate::Float>::HALF, 0.5);
    check(<D as crate::Float>::NAN, NAN);
    check(<D as crate::Float>::MAX, f64::MAX);
    assert!(<D as NumFloat>::neg_zero().re.is_sign_negative());
    // To primitives: the value.
    let x = D::new(2.75, 9.0);
    assert_eq!(x.to_f64(), Some(2.75));
    assert_eq!(x.to_f32(), Some(2.75));
    assert_eq!(x.to_i64(), Some(2));
    assert_eq!(x.to_u8(), Some(2));
    assert_eq!(<f64 as NumCast>::from(x), Some(2.75));
    // And from another dual: its value.
    check(<D as NumCast>::from(x).unwrap(), 2.75);
}

#[test]
fn display_shows_both_parts() {
    assert_eq!(format!("{}", D::new(1.5, -2.0)), "1.5 + -2ε");
    assert_eq!(format!("{:.2}", D::new(1.0, 0.5)), "1.00 + 0.50ε");
}

#[test]
fn sums_and_products() {
    let xs = [D::new(1.0, 1.0), D::new(2.0, 0.0), D::new(3.0, 2.0)];
    let s: D = xs.iter().sum();
    assert!(same_dual(s, 6.0, 3.0));
    let p: D = xs.into_iter().product();
    // d(x y z) = dx y z + x dy z + x y dz.
    assert!(same_dual(p, 6.0, 6.0 + 0.0 + 4.0));
    let empty: D = core::iter::empty::<D>().sum();
    assert!(empty.re == 0.0 && empty.re.is_sign_negative(), "{empty:?}");
}

/// A hand-written function generic over num-traits' `Float`, with branches, a tie-prone max,
/// an integer power and a method of two inputs.
fn f<T: NumFloat>(x: T, y: T) -> T {
    let two = T::from(2.0).unwrap();
    let m = x.max(y);
    let base = (x * y).sin() + x.powi(3) / y + y.exp().ln_1p();
    if x > T::zero() {
        base + m * x.atan2(y) - (x * x + y * y).sqrt() / two
    } else {
        base - m.abs()
    }
}

/// Its directional derivative along (dx, dy), derived by hand for the branch x > 0, x > y.
fn df_by_hand(x: f64, y: f64, dx: f64, dy: f64) -> f64 {
    let d_sin = (x * y).cos() * (dx * y + x * dy);
    let d_pow = (3.0 * x * x * dx * y - x.powi(3) * dy) / (y * y);
    let d_softplus = y.exp() / (1.0 + y.exp()) * dy;
    let r2 = x * x + y * y;
    let d_angle = (y * dx - x * dy) / r2;
    // m = x on this branch.
    let d_m_angle = dx * x.atan2(y) + x * d_angle;
    let d_norm = (x * dx + y * dy) / r2.sqrt() / 2.0;
    d_sin + d_pow + d_softplus + d_m_angle - d_norm
}

#[test]
fn generic_code_on_duals_gives_directional_derivatives() {
    for (x, y, dx, dy) in [
        (1.3, 0.4, 1.0, 0.0),
        (1.3, 0.4, 0.0, 1.0),
        (2.0, -0.7, 0.3, -1.2),
    ] {
        let got = f(D::new(x, dx), D::new(y, dy));
        assert_eq!(got.re, f(x, y));
        let expected = df_by_hand(x, y, dx, dy);
        assert!(
            (got.eps - expected).abs() < 1e-12,
            "at ({x}, {y}) along ({dx}, {dy}): {} vs {expected}",
            got.eps
        );
        let numeric = central(|t| f(x + t * dx, y + t * dy), 0.0);
        assert!(
            err(got.eps, numeric) <= 1e-6,
            "{} vs finite difference {numeric}",
            got.eps
        );
    }
    // At a tie of max on the other branch: half of each tangent through max, abs at -1.
    let got = f(D::new(-1.0, 1.0), D::new(-1.0, 0.0));
    let numeric_free = {
        // The same function with max's tie split by hand: m = (x + y) / 2 near the tie.
        let g = |x: f64, y: f64| {
            let base = (x * y).sin() + x.powi(3) / y + y.exp().ln_1p();
            base - ((x + y) / 2.0).abs()
        };
        central(|t| g(-1.0 + t, -1.0), 0.0)
    };
    assert!(
        err(got.eps, numeric_free) <= 1e-6,
        "{} vs {numeric_free}",
        got.eps
    );
}

#[test]
fn generic_code_over_grads_float_runs_on_duals() {
    fn g<T: crate::Float>(x: T) -> T {
        let mut acc = T::ZERO;
        acc += T::PI * x * x;
        acc -= T::HALF * x;
        acc /= T::TWO;
        acc + crate::sigmoid(x)
    }
    fn case<T: crate::Float>() {
        let x = T::from_f64(0.8);
        let got = g(Dual::variable(x));
        let numeric = central(g, x);
        assert!(err(crate::float::to_f64(got.eps), crate::float::to_f64(numeric)) <= fd_tol::<T>());
    }
    case::<f32>();
    case::<f64>();
    // The activations over arrays of duals: softplus' = sigmoid, elementwise.
    let xs = [D::variable(0.5), D::new(-1.0, 2.0)];
    let ys = crate::softplus(xs);
    assert!((ys[0].eps - crate::sigmoid(0.5)).abs() < 1e-15);
    assert!((ys[1].eps - 2.0 * crate::sigmoid(-1.0)).abs() < 1e-15);
    // And the vector helpers: d softmax along a tangent agrees with softmax_jvp.
    let z = [0.3, -1.0, 2.0];
    let dz = [1.0, 0.5, -0.25];
    let s = crate::softmax(core::array::from_fn::<D, 3, _>(|i| D::new(z[i], dz[i])));
    let jvp = crate::softmax_jvp(z, crate::softmax(z), dz);
    for i in 0..3 {
        assert!(
            (s[i].eps - jvp[i]).abs() < 1e-15,
            "{:?} vs {jvp:?}",
            s.map(|d| d.eps)
        );
    }
}

/// Forward over reverse: a pullback run on duals, its input seeded, gives the derivative of
/// the partial, a second derivative.
#[test]
fn pullbacks_on_duals_give_second_derivatives() {
    let up = D::constant(1.0);
    let x = 0.7_f64;
    let seeded = D::variable(x);
    let close = |got: D, re: f64, eps: f64| {
        assert!(
            (got.re - re).abs() < 1e-14 && (got.eps - eps).abs() < 1e-13,
            "{got:?}, expected {re} + {eps}ε"
        );
    };
    // sin'' = -sin.
    close(pullback::sin(seeded, seeded.sin(), up), x.cos(), -x.sin());
    // exp'' = exp, read from out.
    close(pullback::exp(seeded, seeded.exp(), up), x.exp(), x.exp());
    // tanh'' = -2 tanh (1 - tanh²), read from out.
    let t = x.tanh();
    close(
        pullback::tanh(seeded, seeded.tanh(), up),
        1.0 - t * t,
        -2.0 * t * (1.0 - t * t),
    );
    // sqrt'' = -1 / (4 x^(3/2)).
    close(
        pullback::sqrt(seeded, seeded.sqrt(), up),
        0.5 / x.sqrt(),
        -0.25 / x.powf(1.5),
    );
    // (x³)'' = 6x.
    close(
        pullback::powi(seeded, 3, seeded.powi(3), up),
        3.0 * x * x,
        6.0 * x,
    );
    // ln'' = -1 / x².
    close(
        pullback::ln(seeded, seeded.ln(), up),
        1.0 / x,
        -1.0 / (x * x),
    );
    // sigmoid'' = σ(1 - σ)(1 - 2σ).
    let s = crate::sigmoid(x);
    close(
        pullback::sigmoid(seeded, crate::sigmoid(seeded), up),
        s * (1.0 - s),
        s * (1.0 - s) * (1.0 - 2.0 * s),
    );
    // atan2(y, x): ∂/∂y = x / r²; its derivative in y is -2xy / r⁴, in x (y² - x²) / r⁴.
    let (y, x2) = (0.4_f64, -1.1_f64);
    let r2 = x2 * x2 + y * y;
    let out = y.atan2(x2);
    let (dy_along_y, _) = pullback::atan2(D::variable(y), D::constant(x2), D::constant(out), up);
    close(dy_along_y, x2 / r2, -2.0 * x2 * y / (r2 * r2));
    let (dy_along_x, dx_along_x) =
        pullback::atan2(D::constant(y), D::variable(x2), D::constant(out), up);
    close(dy_along_x, x2 / r2, (y * y - x2 * x2) / (r2 * r2));
    close(dx_along_x, -y / r2, 2.0 * x2 * y / (r2 * r2));
    // A tie of max: each partial is half, constant, so its derivative is 0.
    let (da, db) = pullback::max(D::variable(1.0), D::constant(1.0), D::constant(1.0), up);
    close(da, 0.5, 0.0);
    close(db, 0.5, 0.0);
    // The upstream itself a dual (a Hessian-vector product's adjoint): linear in it.
    let (dy, dx) = pullback::hypot(
        D::new(3.0, 0.0),
        D::new(4.0, 0.0),
        D::constant(5.0),
        D::new(1.0, 2.0),
    );
    close(dy, 0.6, 1.2);
    close(dx, 0.8, 1.6);
}

/// A gradient written by hand from the pullbacks, generic over `Real`, as grad's reverse sweep
/// is: run on duals seeded with v it gives the Hessian-vector product H v.
#[test]
fn a_generic_gradient_on_duals_gives_hessian_vector_products() {
    use num_traits::real::Real;
    // f(x, y) = sin(x y) + x² y.
    fn gradient<T: Real>(x: T, y: T) -> [T; 2] {
        let xy = x * y;
        let s = xy.sin();
        let x2 = x.powi(2);
        let _f = s + x2 * y;
        let one = T::one();
        // Reverse sweep.
        let d_s = one;
        let d_x2 = one * y;
        let mut d_y = one * x2;
        let d_xy = pullback::sin(xy, s, d_s);
        let mut d_x = d_xy * y;
        d_y = d_y + d_xy * x;
        d_x = d_x + pullback::powi(x, 2, x2, d_x2);
        [d_x, d_y]
    }
    let (x, y) = (0.9_f64, -0.6_f64);
    let c = (x * y).cos();
    let s = (x * y).sin();
    let hessian = [
        [-y * y * s + 2.0 * y, c - x * y * s + 2.0 * x],
        [c - x * y * s + 2.0 * x, -x * x * s],
    ];
    for v in [[1.0, 0.0], [0.0, 1.0], [0.3, -2.0]] {
        let g = gradient(D::new(x, v[0]), D::new(y, v[1]));
        for i in 0..2 {
            let hv = hessian[i][0] * v[0] + hessian[i][1] * v[1];
            assert!(
                (g[i].eps - hv).abs() < 1e-13,
                "(H v)[{i}] for v = {v:?}: {} vs {hv}",
                g[i].eps
            );
        }
        assert_eq!(g.map(|d| d.re), gradient(x, y));
    }
}

#[test]
fn duals_of_duals_give_second_derivatives_directly() {
    type DD = Dual<Dual<f64>>;
    let x = 0.5_f64;
    // x seeded in both levels: d²/dx² sin x = -sin x in eps.eps.
    let seeded = DD::new(D::new(x, 1.0), D::new(1.0, 0.0));
    let y = seeded.sin() * seeded;
    // (x sin x)'' = 2 cos x - x sin x.
    assert!(
        (y.eps.eps - (2.0 * x.cos() - x * x.sin())).abs() < 1e-14,
        "{y:?}"
    );
    assert!((y.eps.re - (x.sin() + x * x.cos())).abs() < 1e-15);
}
