//! Every tangent rule, in f32 and f64: exactly the transpose of its pullback at ordinary points
//! and at every documented kink, tie and singularity; exactly 0 for a zero tangent everywhere;
//! NaN for a NaN tangent along a nonzero partial; and against central finite differences, one
//! input at a time and along a mixed direction, at ordinary points.

use crate::Float;
use crate::test_util::{central, err, fd_tol, same, unit};
use core::any::type_name;
use core::f64::consts::{FRAC_PI_2, PI};
use std::format;
use std::string::String;
use std::vec::Vec;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

/// A mixed direction: every input moves, by different amounts.
fn direction<T: Float, const K: usize>() -> [T; K] {
    let d = [0.6, -0.35, 0.8];
    core::array::from_fn(|i| T::from_f64(d[i]))
}

/// Checks the tangent rule `tangent` of the method `f` against its pullback `pullback`: the
/// transpose identity and the zero rule at `ordinary` and `special` points, and finite
/// differences and NaN propagation at `ordinary` ones.
fn check<T: Float, const K: usize>(
    name: &str,
    ordinary: &[[f64; K]],
    special: &[[f64; K]],
    f: impl Fn([T; K]) -> T,
    pullback: impl Fn([T; K], T, T) -> [T; K],
    tangent: impl Fn([T; K], T, [T; K]) -> T,
) {
    let label = |point: &[f64; K]| format!("{name}<{}> at {point:?}", type_name::<T>());
    for point in ordinary.iter().chain(special) {
        let x = point.map(T::from_f64);
        let out = f(x);
        let partials = pullback(x, out, T::ONE);
        for (i, &partial) in partials.iter().enumerate() {
            let along = tangent(x, out, unit(i, T::ONE));
            assert!(
                same(along, partial),
                "{}: tangent along input {i} is {along:?}, the pullback's partial {partial:?}",
                label(point),
            );
        }
        let still = tangent(x, out, [T::ZERO; K]);
        assert!(
            still == T::ZERO,
            "{}: a zero tangent gives {still:?}",
            label(point)
        );
    }
    for point in ordinary {
        let x = point.map(T::from_f64);
        let out = f(x);
        let partials = pullback(x, out, T::ONE);
        let moved = |d: [T; K]| central(|t| f(core::array::from_fn(|j| x[j] + t * d[j])), T::ZERO);
        for (i, &partial) in partials.iter().enumerate() {
            let e = unit(i, T::ONE);
            let got = crate::float::to_f64(tangent(x, out, e));
            let numeric = crate::float::to_f64(moved(e));
            assert!(
                err(got, numeric) <= fd_tol::<T>(),
                "{}: tangent along input {i} is {got}, finite difference {numeric}",
                label(point),
            );
            if partial != T::ZERO {
                let nan = tangent(x, out, unit(i, T::NAN));
                assert!(
                    nan.is_nan(),
                    "{}: a NaN tangent {i} gives {nan:?}",
                    label(point)
                );
            }
        }
        let d = direction::<T, K>();
        let got = crate::float::to_f64(tangent(x, out, d));
        let numeric = crate::float::to_f64(moved(d));
        assert!(
            err(got, numeric) <= fd_tol::<T>(),
            "{}: tangent along {d:?} is {got}, finite difference {numeric}",
            label(point),
        );
    }
}

/// One-input rules: `name [ordinary points] [special points]`.
macro_rules! unary_tangents {
    ($($name:ident $tangent:ident [$($p:expr),*] [$($s:expr),*];)*) => {
        fn unary_cases<T: Float>() {
            $(
                check::<T, 1>(
                    stringify!($name),
                    &[$([$p]),*],
                    &[$([$s]),*],
                    |[x]| T::$name(x),
                    |[x], out, up| [super::$name(x, out, up)],
                    |[x], out, [dx]| super::$tangent(x, out, dx),
                );
            )*
        }
    };
}

unary_tangents! {
    sin sin_tangent [-2.5, -0.3, 0.4, 3.0] [0.0, 1e300, INF, NAN];
    cos cos_tangent [-2.5, -0.3, 0.4, 3.0] [0.0, PI, INF, NAN];
    tan tan_tangent [-1.2, 0.0, 0.3, 1.0] [FRAC_PI_2, -FRAC_PI_2, INF, NAN];
    asin asin_tangent [-0.8, 0.0, 0.3, 0.7] [1.0, -1.0, 1.5, NAN];
    acos acos_tangent [-0.8, 0.0, 0.3, 0.7] [1.0, -1.0, -1.5, NAN];
    atan atan_tangent [-5.0, 0.0, 0.5, 3.0] [1e200, -1e300, INF, NAN];
    sinh sinh_tangent [-3.0, 0.0, 0.5, 2.0] [800.0, -800.0, INF, NAN];
    cosh cosh_tangent [-3.0, 0.0, 0.5, 2.0] [800.0, -800.0, INF, NAN];
    tanh tanh_tangent [-3.0, 0.0, 0.5, 2.0] [30.0, -30.0, INF, NAN];
    asinh asinh_tangent [-10.0, 0.0, 0.7, 3.0] [1e300, -1e300, INF, NAN];
    acosh acosh_tangent [1.1, 1.5, 2.0, 5.0] [1.0, 0.5, 1e300, INF, NAN];
    atanh atanh_tangent [-0.8, 0.0, 0.5, 0.8] [1.0, -1.0, 2.0, NAN];
    exp exp_tangent [-5.0, 0.0, 0.5, 2.0] [800.0, -800.0, INF, -INF, NAN];
    exp2 exp2_tangent [-5.0, 0.0, 0.5, 2.0] [2000.0, -2000.0, INF, NAN];
    exp_m1 exp_m1_tangent [-5.0, 0.0, 0.5, 2.0] [800.0, -800.0, INF, NAN];
    ln ln_tangent [0.25, 1.0, 2.0, 10.0] [0.0, -0.0, -1.0, INF, NAN];
    log2 log2_tangent [0.25, 1.0, 2.0, 10.0] [0.0, -1.0, INF, NAN];
    log10 log10_tangent [0.25, 1.0, 2.0, 10.0] [0.0, -1.0, INF, NAN];
    ln_1p ln_1p_tangent [-0.5, 0.0, 0.5, 3.0] [-1.0, -2.0, INF, NAN];
    sqrt sqrt_tangent [0.25, 1.0, 2.0, 9.0] [0.0, -0.0, -1.0, INF, NAN];
    cbrt cbrt_tangent [-8.0, -0.5, 0.2, 27.0] [0.0, -0.0, 1e300, NAN];
    recip recip_tangent [-4.0, -0.5, 0.3, 7.0] [0.0, -0.0, 1e-300, INF, NAN];
    abs abs_tangent [-3.0, -0.2, 0.5, 4.0] [0.0, -0.0, INF, -INF, NAN];
    to_degrees to_degrees_tangent [-3.0, 0.0, 1.0, 100.0] [1e308, INF, NAN];
    to_radians to_radians_tangent [-3.0, 0.0, 1.0, 100.0] [1e308, INF, NAN];
    fract fract_tangent [-2.7, -0.4, 0.3, 5.6] [2.0, -3.0, 0.0, INF, NAN];
}

#[test]
fn unary_tangents_are_their_pullbacks() {
    unary_cases::<f32>();
    unary_cases::<f64>();
}

fn sigmoid_case<T: Float>() {
    check::<T, 1>(
        "sigmoid",
        &[[-3.0], [-0.5], [0.0], [0.7], [4.0]],
        &[[40.0], [-40.0], [800.0], [-800.0], [INF], [NAN]],
        |[x]| crate::sigmoid(x),
        |[x], out, up| [super::sigmoid(x, out, up)],
        |[x], out, [dx]| super::sigmoid_tangent(x, out, dx),
    );
}

#[test]
fn sigmoid_tangent_is_its_pullback() {
    sigmoid_case::<f32>();
    sigmoid_case::<f64>();
}

fn powi_cases<T: Float>() {
    for n in [-3, -1, 0, 1, 2, 3, 5, i32::MIN] {
        let ordinary: &[[f64; 1]] = if n == i32::MIN {
            &[]
        } else {
            &[[-2.0], [-0.5], [0.7], [1.5]]
        };
        check::<T, 1>(
            &format!("powi(_, {n})"),
            ordinary,
            &[
                [0.0],
                [-0.0],
                [1e200],
                [1e-200],
                [INF],
                [NAN],
                [1.0],
                [-1.0],
            ],
            |[x]| x.powi(n),
            |[x], out, up| [super::powi(x, n, out, up)],
            |[x], out, [dx]| super::powi_tangent(x, n, out, dx),
        );
    }
}

#[test]
fn powi_tangent_is_its_pullback() {
    powi_cases::<f32>();
    powi_cases::<f64>();
}

fn binary_cases<T: Float>() {
    check::<T, 2>(
        "atan2",
        &[
            [1.0, 1.0],
            [-1.0, 2.0],
            [0.5, -3.0],
            [-2.0, -0.5],
            [0.2, 5.0],
        ],
        &[
            [0.0, 0.0],
            [-0.0, 0.0],
            [0.0, -0.0],
            [0.0, -1.0],
            [1e-300, 1e-300],
            [1e300, -1e300],
            [INF, 1.0],
            [NAN, 1.0],
        ],
        |[y, x]| y.atan2(x),
        |[y, x], out, up| super::atan2(y, x, out, up).into(),
        |[y, x], out, [dy, dx]| super::atan2_tangent(y, x, out, dy, dx),
    );
    check::<T, 2>(
        "log",
        &[[0.5, 2.0], [2.0, 3.0], [10.0, 0.5], [37.0, 10.0]],
        &[
            [0.0, 2.0],
            [2.0, 1.0],
            [1.0, 2.0],
            [-1.0, 2.0],
            [2.0, 0.0],
            [2.0, -3.0],
            [INF, 2.0],
            [NAN, 2.0],
        ],
        |[x, b]| x.log(b),
        |[x, b], out, up| super::log(x, b, out, up).into(),
        |[x, b], out, [dx, db]| super::log_tangent(x, b, out, dx, db),
    );
    check::<T, 2>(
        "powf",
        &[[0.3, -2.5], [1.0, 0.5], [2.5, 2.0], [7.0, 3.7], [2.0, -1.0]],
        &[
            [0.0, 0.0],
            [0.0, 0.5],
            [0.0, 2.0],
            [0.0, -1.0],
            [-2.0, 3.0],
            [-2.0, 0.5],
            [2.0, 0.0],
            [1.0, INF],
            [NAN, 2.0],
            [2.0, NAN],
        ],
        |[x, p]| x.powf(p),
        |[x, p], out, up| super::powf(x, p, out, up).into(),
        |[x, p], out, [dx, dp]| super::powf_tangent(x, p, out, dx, dp),
    );
    check::<T, 2>(
        "hypot",
        &[[3.0, 4.0], [-1.0, 2.0], [0.5, -0.2], [5.0, 0.0]],
        &[
            [0.0, 0.0],
            [-0.0, 0.0],
            [1e-300, 0.0],
            [1e300, 1e300],
            [INF, 1.0],
            [NAN, 1.0],
        ],
        |[x, y]| x.hypot(y),
        |[x, y], out, up| super::hypot(x, y, out, up).into(),
        |[x, y], out, [dx, dy]| super::hypot_tangent(x, y, out, dx, dy),
    );
    let ordered = [[1.0, 2.0], [3.0, -1.0], [-0.5, -0.4], [7.0, 7.5]];
    let ties = [
        [1.0, 1.0],
        [0.0, -0.0],
        [-2.0, -2.0],
        [INF, INF],
        [NAN, 1.0],
        [1.0, NAN],
        [NAN, NAN],
        [INF, 1.0],
    ];
    check::<T, 2>(
        "max",
        &ordered,
        &ties,
        |[a, b]| a.max(b),
        |[a, b], out, up| super::max(a, b, out, up).into(),
        |[a, b], out, [da, db]| super::max_tangent(a, b, out, da, db),
    );
    check::<T, 2>(
        "min",
        &ordered,
        &ties,
        |[a, b]| a.min(b),
        |[a, b], out, up| super::min(a, b, out, up).into(),
        |[a, b], out, [da, db]| super::min_tangent(a, b, out, da, db),
    );
    check::<T, 2>(
        "copysign",
        &[[2.0, 1.0], [2.0, -1.0], [-3.0, 0.5], [-3.0, -0.5]],
        &[
            [2.0, 0.0],
            [2.0, -0.0],
            [0.0, -1.0],
            [-0.0, 1.0],
            [NAN, 1.0],
            [2.0, NAN],
            [INF, -1.0],
        ],
        |[x, s]| x.copysign(s),
        |[x, s], out, up| super::copysign(x, s, out, up).into(),
        |[x, s], out, [dx, ds]| super::copysign_tangent(x, s, out, dx, ds),
    );
    check::<T, 2>(
        "rem",
        &[[5.3, 2.0], [-5.3, 2.0], [7.5, -2.0], [1.3, 0.4], [0.7, 3.0]],
        &[
            [1.0, 0.1],
            [4.0, 2.0],
            [-4.0, 2.0],
            [5.0, 0.0],
            [INF, 2.0],
            [3.0, INF],
            [NAN, 2.0],
            [0.0, 3.0],
        ],
        |[x, y]| x % y,
        |[x, y], out, up| super::rem(x, y, out, up).into(),
        |[x, y], out, [dx, dy]| super::rem_tangent(x, y, out, dx, dy),
    );
}

#[test]
fn binary_tangents_are_the_transposes_of_their_pullbacks() {
    binary_cases::<f32>();
    binary_cases::<f64>();
}

fn ternary_cases<T: Float>() {
    check::<T, 3>(
        "mul_add",
        &[[2.0, 3.0, 4.0], [-1.5, 0.5, -2.0], [0.1, -7.0, 3.0]],
        &[
            [0.0, 0.0, 0.0],
            [INF, 2.0, 3.0],
            [2.0, INF, 1.0],
            [2.0, 3.0, INF],
            [NAN, 1.0, 1.0],
            [1e300, 1e300, 1.0],
        ],
        |[x, a, b]| x.mul_add(a, b),
        |[x, a, b], out, up| super::mul_add(x, a, b, out, up).into(),
        |[x, a, b], out, [dx, da, db]| super::mul_add_tangent(x, a, b, out, dx, da, db),
    );
    check::<T, 3>(
        "clamp",
        &[
            [0.5, -1.0, 1.0],
            [-3.0, -1.0, 1.0],
            [4.0, -1.0, 2.0],
            [-0.2, -0.3, 0.9],
        ],
        &[
            [-1.0, -1.0, 1.0],
            [1.0, -1.0, 1.0],
            [2.0, 2.0, 2.0],
            [1.0, 2.0, 2.0],
            [3.0, 2.0, 2.0],
            [NAN, -1.0, 1.0],
            [INF, -1.0, 1.0],
            [-INF, -1.0, 1.0],
        ],
        |[x, lo, hi]| x.clamp(lo, hi),
        |[x, lo, hi], out, up| super::clamp(x, lo, hi, out, up).into(),
        |[x, lo, hi], out, [dx, dlo, dhi]| super::clamp_tangent(x, lo, hi, out, dx, dlo, dhi),
    );
}

#[test]
fn ternary_tangents_are_the_transposes_of_their_pullbacks() {
    ternary_cases::<f32>();
    ternary_cases::<f64>();
}

/// Spot values of the conventions, written out.
#[test]
fn tangent_conventions() {
    use super::*;
    // A tie of max or min: half of each tangent.
    assert_eq!(max_tangent(1.0_f64, 1.0, 1.0, 2.0, 4.0), 3.0);
    assert_eq!(min_tangent(1.0_f64, 1.0, 1.0, 2.0, 0.0), 1.0);
    // abs is flat at 0, sqrt infinitely steep, but a zero tangent stays 0.
    assert_eq!(abs_tangent(0.0_f64, 0.0, 5.0), 0.0);
    assert_eq!(sqrt_tangent(0.0_f64, 0.0, 1.0), f64::INFINITY);
    assert_eq!(sqrt_tangent(0.0_f64, 0.0, 0.0), 0.0);
    assert!(sqrt_tangent(4.0_f64, 2.0, f64::NAN).is_nan());
    // clamp at a bound gives x's tangent; below it, lo's.
    assert_eq!(clamp_tangent(1.0_f64, -1.0, 1.0, 1.0, 2.0, 3.0, 4.0), 2.0);
    assert_eq!(clamp_tangent(-2.0_f64, -1.0, 1.0, -1.0, 2.0, 3.0, 4.0), 3.0);
    // An infinite x times a constant a: no NaN.
    assert_eq!(
        mul_add_tangent(f64::INFINITY, 2.0, 0.0, f64::INFINITY, 1.0, 0.0, 0.0),
        2.0
    );
    // powi: n = 0 is constant, also at 0; the integer takes no tangent.
    assert_eq!(powi_tangent(0.0_f64, 0, 1.0, 1.0), 0.0);
    assert_eq!(powi_tangent(3.0_f64, 2, 9.0, 0.5), 3.0);
    // rem: the quotient of the forward sweep (1.0 % 0.1 has quotient 9).
    assert_eq!(rem_tangent(1.0_f64, 0.1, 1.0 % 0.1, 0.0, 1.0), -9.0);
    // atan2 and hypot are flat at the origin.
    assert_eq!(atan2_tangent(0.0_f64, 0.0, 0.0, 1.0, 1.0), 0.0);
    assert_eq!(hypot_tangent(0.0_f64, 0.0, 0.0, 1.0, 1.0), 0.0);
    // copysign ignores the tangent of the sign.
    assert_eq!(copysign_tangent(2.0_f64, -1.0, -2.0, 1.0, f64::NAN), -1.0);
}

/// The parameters of `pub fn <name><T: Real>(...)` in pullback.rs, as `name: type` strings.
fn parameters(source: &str, name: &str) -> Option<Vec<String>> {
    let start = source.find(&format!("pub fn {name}<"))?;
    let rest = &source[start..];
    let open = rest.find('(')?;
    let close = rest.find(')')?;
    Some(
        rest[open + 1..close]
            .split(',')
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect(),
    )
}

/// Every pullback has a tangent beside it, with the parameters of the convention: the
/// pullback's inputs, `out`, then `d<input>: T` for each float input in order.
#[test]
fn every_pullback_has_a_tangent() {
    let source = include_str!("../pullback.rs");
    let mut count = 0;
    for line in source.lines() {
        let Some(rest) = line.strip_prefix("pub fn ") else {
            continue;
        };
        let name = &rest[..rest.find('<').expect("a generic rule")];
        if name.ends_with("_tangent") {
            continue;
        }
        count += 1;
        let pullback = parameters(source, name).expect("the pullback's parameters");
        assert_eq!(pullback.last().map(String::as_str), Some("upstream: T"));
        let inputs = &pullback[..pullback.len() - 2];
        let mut expected: Vec<String> = inputs.to_vec();
        expected.push(String::from("out: T"));
        for input in inputs {
            if let Some(input) = input.strip_suffix(": T") {
                expected.push(format!("d{input}: T"));
            }
        }
        let tangent = parameters(source, &format!("{name}_tangent"))
            .unwrap_or_else(|| panic!("`{name}` has no `{name}_tangent` in pullback.rs"));
        assert_eq!(tangent, expected, "the parameters of `{name}_tangent`");
        let position = |f: &str| source.find(&format!("pub fn {f}<")).unwrap();
        assert!(
            position(&format!("{name}_tangent")) > position(name),
            "`{name}_tangent` follows `{name}`"
        );
    }
    assert!(count >= 38, "only {count} pullbacks found");
}

/// A tangent with several nonzero entries gives the pullback's partials combined.
#[test]
fn tangents_are_linear_in_the_tangents() {
    use super::*;
    let (y, x) = (0.7_f64, -1.3);
    let out = y.atan2(x);
    let (py, px) = atan2(y, x, out, 1.0);
    let t = atan2_tangent(y, x, out, 0.25, -2.0);
    assert!((t - (0.25 * py - 2.0 * px)).abs() < 1e-15);
    let (x, a, b) = (1.5_f64, -2.0, 0.5);
    let out = x.mul_add(a, b);
    let t = mul_add_tangent(x, a, b, out, 3.0, 0.5, -1.0);
    assert_eq!(t, 3.0 * a + 0.5 * x - 1.0);
    let pi = PI;
    assert_eq!(sin_tangent(pi, pi.sin(), 2.0), -2.0);
}
