//! Every rule against finite differences and its closed form, in f32 and f64, then each
//! convention at kinks and singularities, exactly.

use crate::Float;
use crate::test_util::{UP, check_rule, grid};
use core::f64::consts::{LN_2, LN_10, PI};

/// One test per unary rule: `name at [points] => |x| derivative in f64`.
macro_rules! unary_rules {
    ($($name:ident at [$($p:expr),* $(,)?] => |$x:ident| $d:expr;)*) => {
        $(
            #[test]
            fn $name() {
                fn case<T: Float>() {
                    check_rule::<T, 1>(
                        stringify!($name),
                        &[$([$p]),*],
                        |[x]| T::$name(x),
                        |[x], out, up| [super::$name(x, out, up)],
                        |[$x]| [$d],
                    );
                }
                case::<f32>();
                case::<f64>();
            }
        )*
    };
}

unary_rules! {
    sin at [-2.5, -1.0, -0.3, 0.0, 0.4, 1.2, 3.0] => |x| x.cos();
    cos at [-2.5, -1.0, -0.3, 0.0, 0.4, 1.2, 3.0] => |x| -x.sin();
    tan at [-1.2, -0.5, 0.0, 0.3, 1.0, 2.5] => |x| 1.0 / (x.cos() * x.cos());
    asin at [-0.8, -0.5, 0.0, 0.3, 0.7] => |x| 1.0 / (1.0 - x * x).sqrt();
    acos at [-0.8, -0.5, 0.0, 0.3, 0.7] => |x| -1.0 / (1.0 - x * x).sqrt();
    atan at [-5.0, -1.0, 0.0, 0.5, 3.0, 40.0] => |x| 1.0 / (1.0 + x * x);
    sinh at [-3.0, -1.0, 0.0, 0.5, 2.0, 4.0] => |x| x.cosh();
    cosh at [-3.0, -1.0, 0.0, 0.5, 2.0, 4.0] => |x| x.sinh();
    tanh at [-3.0, -1.0, 0.0, 0.5, 2.0, 4.0] => |x| 1.0 / (x.cosh() * x.cosh());
    asinh at [-10.0, -1.0, 0.0, 0.7, 3.0, 100.0] => |x| 1.0 / (x * x + 1.0).sqrt();
    acosh at [1.1, 1.5, 2.0, 5.0, 30.0] => |x| 1.0 / (x * x - 1.0).sqrt();
    atanh at [-0.8, -0.3, 0.0, 0.5, 0.8] => |x| 1.0 / (1.0 - x * x);
    exp at [-5.0, -1.0, 0.0, 0.5, 2.0, 6.0] => |x| x.exp();
    exp2 at [-5.0, -1.0, 0.0, 0.5, 2.0, 6.0] => |x| x.exp2() * LN_2;
    exp_m1 at [-5.0, -1.0, 0.0, 0.5, 2.0, 6.0] => |x| x.exp();
    ln at [0.25, 0.5, 1.0, 2.0, 10.0, 100.0] => |x| 1.0 / x;
    log2 at [0.25, 0.5, 1.0, 2.0, 10.0, 100.0] => |x| 1.0 / (x * LN_2);
    log10 at [0.25, 0.5, 1.0, 2.0, 10.0, 100.0] => |x| 1.0 / (x * LN_10);
    ln_1p at [-0.5, -0.1, 0.0, 0.5, 3.0, 50.0] => |x| 1.0 / (1.0 + x);
    sqrt at [0.25, 1.0, 2.0, 9.0, 1000.0] => |x| 0.5 / x.sqrt();
    cbrt at [-8.0, -0.5, 0.2, 1.0, 27.0, 1000.0] => |x| 1.0 / (3.0 * x.cbrt() * x.cbrt());
    recip at [-4.0, -0.5, 0.3, 1.0, 7.0] => |x| -1.0 / (x * x);
    abs at [-3.0, -0.2, 0.5, 4.0] => |x| x.signum();
    to_degrees at [-3.0, 0.0, 1.0, 100.0] => |_x| 180.0 / PI;
    to_radians at [-3.0, 0.0, 1.0, 100.0] => |_x| PI / 180.0;
    fract at [-2.7, -0.4, 0.3, 1.25, 5.6] => |_x| 1.0;
}

fn powi_case<T: Float>() {
    for n in [-3, -1, 0, 1, 2, 3, 5] {
        check_rule::<T, 1>(
            "powi",
            &[[-2.0], [-0.5], [0.7], [1.5], [3.0]],
            |[x]| x.powi(n),
            |[x], out, up| [super::powi(x, n, out, up)],
            |[x]| {
                [if n == 0 {
                    0.0
                } else {
                    f64::from(n) * x.powi(n - 1)
                }]
            },
        );
    }
}

#[test]
fn powi() {
    powi_case::<f32>();
    powi_case::<f64>();
}

fn binary_cases<T: Float>() {
    check_rule::<T, 2>(
        "atan2",
        &[
            [1.0, 1.0],
            [-1.0, 2.0],
            [0.5, -3.0],
            [-2.0, -0.5],
            [3.0, 0.1],
            [0.2, 5.0],
        ],
        |[y, x]| y.atan2(x),
        |[y, x], out, up| super::atan2(y, x, out, up).into(),
        |[y, x]| {
            let r2 = x * x + y * y;
            [x / r2, -y / r2]
        },
    );
    check_rule::<T, 2>(
        "powf",
        &grid(&[0.3, 1.0, 2.5, 7.0], &[-2.5, -1.0, 0.5, 1.0, 2.0, 3.7]),
        |[x, p]| x.powf(p),
        |[x, p], out, up| super::powf(x, p, out, up).into(),
        |[x, p]| [p * x.powf(p - 1.0), x.powf(p) * x.ln()],
    );
    check_rule::<T, 2>(
        "log",
        &grid(&[0.5, 2.0, 10.0, 37.0], &[0.5, 2.0, 3.0, 10.0]),
        |[x, b]| x.log(b),
        |[x, b], out, up| super::log(x, b, out, up).into(),
        |[x, b]| [1.0 / (x * b.ln()), -x.ln() / (b * b.ln() * b.ln())],
    );
    check_rule::<T, 2>(
        "hypot",
        &[
            [3.0, 4.0],
            [-1.0, 2.0],
            [0.5, -0.2],
            [-3.0, -7.0],
            [1e-3, 2.0],
            [5.0, 0.0],
        ],
        |[x, y]| x.hypot(y),
        |[x, y], out, up| super::hypot(x, y, out, up).into(),
        |[x, y]| {
            let r = (x * x + y * y).sqrt();
            [x / r, y / r]
        },
    );
    let ordered = [
        [1.0, 2.0],
        [3.0, -1.0],
        [-0.5, -0.4],
        [7.0, 7.5],
        [-2.0, 6.0],
    ];
    check_rule::<T, 2>(
        "max",
        &ordered,
        |[a, b]| a.max(b),
        |[a, b], out, up| super::max(a, b, out, up).into(),
        |[a, b]| if a > b { [1.0, 0.0] } else { [0.0, 1.0] },
    );
    check_rule::<T, 2>(
        "min",
        &ordered,
        |[a, b]| a.min(b),
        |[a, b], out, up| super::min(a, b, out, up).into(),
        |[a, b]| if a < b { [1.0, 0.0] } else { [0.0, 1.0] },
    );
    check_rule::<T, 2>(
        "copysign",
        &[
            [2.0, 1.0],
            [2.0, -1.0],
            [-3.0, 0.5],
            [-3.0, -0.5],
            [0.25, 4.0],
        ],
        |[x, s]| x.copysign(s),
        |[x, s], out, up| super::copysign(x, s, out, up).into(),
        |[x, s]| [if (x < 0.0) == (s < 0.0) { 1.0 } else { -1.0 }, 0.0],
    );
    check_rule::<T, 2>(
        "rem",
        &[
            [5.3, 2.0],
            [-5.3, 2.0],
            [7.5, -2.0],
            [1.3, 0.4],
            [0.7, 3.0],
            [-9.1, -4.0],
        ],
        |[x, y]| x % y,
        |[x, y], out, up| super::rem(x, y, out, up).into(),
        |[x, y]| [1.0, -(x / y).trunc()],
    );
}

#[test]
fn binary_rules() {
    binary_cases::<f32>();
    binary_cases::<f64>();
}

fn ternary_cases<T: Float>() {
    check_rule::<T, 3>(
        "mul_add",
        &[[2.0, 3.0, 4.0], [-1.5, 0.5, -2.0], [0.1, -7.0, 3.0]],
        |[x, a, b]| x.mul_add(a, b),
        |[x, a, b], out, up| super::mul_add(x, a, b, out, up).into(),
        |[x, a, _b]| [a, x, 1.0],
    );
    check_rule::<T, 3>(
        "clamp",
        &[
            [0.5, -1.0, 1.0],
            [-3.0, -1.0, 1.0],
            [4.0, -1.0, 2.0],
            [0.0, -0.5, 0.5],
            [-0.2, -0.3, 0.9],
        ],
        |[x, lo, hi]| x.clamp(lo, hi),
        |[x, lo, hi], out, up| super::clamp(x, lo, hi, out, up).into(),
        |[x, lo, hi]| {
            if x < lo {
                [0.0, 1.0, 0.0]
            } else if x > hi {
                [0.0, 0.0, 1.0]
            } else {
                [1.0, 0.0, 0.0]
            }
        },
    );
}

#[test]
fn ternary_rules() {
    ternary_cases::<f32>();
    ternary_cases::<f64>();
}

/// Shorthand for literals in the generic convention tests.
fn c<T: Float>(v: f64) -> T {
    T::from_f64(v)
}

fn abs_conventions<T: Float>() {
    let up = c::<T>(UP);
    assert_eq!(super::abs(T::ZERO, T::ZERO, up), T::ZERO);
    assert_eq!(super::abs(-T::ZERO, T::ZERO, up), T::ZERO);
    assert!(super::abs(T::NAN, T::NAN, up).is_nan());
    assert_eq!(super::abs(c(-2.0), c(2.0), up), -up);
    assert_eq!(super::abs(c(2.0), c(2.0), up), up);
}

#[test]
fn abs_is_flat_at_zero_and_nan_at_nan() {
    abs_conventions::<f32>();
    abs_conventions::<f64>();
}

fn max_min_conventions<T: Float>() {
    let up = c::<T>(UP);
    let half = up / T::TWO;
    let three = c::<T>(3.0);
    for rule in [super::max::<T>, super::min::<T>] {
        // A tie splits evenly, signed zeros included.
        assert_eq!(rule(three, three, three, up), (half, half));
        assert_eq!(rule(-T::ZERO, T::ZERO, T::ZERO, up), (half, half));
        // Exactly one NaN: all to the number, which is what std returns.
        assert_eq!(rule(T::NAN, three, three, up), (T::ZERO, up));
        assert_eq!(rule(three, T::NAN, three, up), (up, T::ZERO));
        let (a, b) = rule(T::NAN, T::NAN, T::NAN, up);
        assert!(a.is_nan() && b.is_nan());
    }
    assert_eq!(T::NAN.max(three), three);
    assert_eq!(three.max(T::NAN), three);
    assert_eq!(T::NAN.min(three), three);
    assert_eq!(three.min(T::NAN), three);
    // Strict order, for the exact values.
    assert_eq!(super::max(c(1.0), c(2.0), c(2.0), up), (T::ZERO, up));
    assert_eq!(super::min(c(1.0), c(2.0), c(1.0), up), (up, T::ZERO));
}

#[test]
fn max_min_split_ties_and_skip_nan() {
    max_min_conventions::<f32>();
    max_min_conventions::<f64>();
}

fn clamp_conventions<T: Float>() {
    let up = c::<T>(UP);
    let (lo, hi) = (c::<T>(-1.0), c::<T>(2.0));
    let to_x = (up, T::ZERO, T::ZERO);
    assert_eq!(super::clamp(lo, lo, hi, lo, up), to_x);
    assert_eq!(super::clamp(hi, lo, hi, hi, up), to_x);
    assert_eq!(super::clamp(c(0.5), lo, hi, c(0.5), up), to_x);
    assert_eq!(
        super::clamp(c(-1.5), lo, hi, lo, up),
        (T::ZERO, up, T::ZERO)
    );
    assert_eq!(super::clamp(c(2.5), lo, hi, hi, up), (T::ZERO, T::ZERO, up));
    assert_eq!(super::clamp(hi, hi, hi, hi, up), to_x);
    assert_eq!(super::clamp(T::NAN, lo, hi, T::NAN, up), to_x);
}

#[test]
fn clamp_gives_bounds_to_x() {
    clamp_conventions::<f32>();
    clamp_conventions::<f64>();
}

fn root_conventions<T: Float>() {
    let up = c::<T>(UP);
    assert_eq!(super::sqrt(T::ZERO, T::ZERO, up), T::INFINITY);
    assert_eq!(super::cbrt(T::ZERO, T::ZERO, up), T::INFINITY);
}

#[test]
fn roots_are_infinitely_steep_at_zero() {
    root_conventions::<f32>();
    root_conventions::<f64>();
}

fn pow_conventions<T: Float>() {
    let up = c::<T>(UP);
    let zero = T::ZERO;
    // powf at x = 0, p > 0: ∂/∂p is exactly 0, never NaN.
    assert_eq!(super::powf(zero, c(2.0), zero, up), (zero, zero));
    assert_eq!(super::powf(zero, c(1.0), zero, up), (up, zero));
    assert_eq!(super::powf(zero, c(0.5), zero, up), (T::INFINITY, zero));
    // p = 0: x⁰ is constant, so ∂/∂x is 0 even at x = 0.
    assert_eq!(super::powf(zero, zero, T::ONE, up).0, zero);
    let three = c::<T>(3.0);
    let (d_x, d_p) = super::powf(three, zero, T::ONE, up);
    assert_eq!(d_x, zero);
    assert_eq!(d_p, up * three.ln());

    assert_eq!(super::powi(zero, 0, T::ONE, up), zero);
    assert_eq!(super::powi(three, 0, T::ONE, up), zero);
    assert_eq!(super::powi(zero, 1, zero, up), up);
    assert_eq!(super::powi(zero, 2, zero, up), zero);
    // n - 1 would overflow for i32::MIN.
    assert_eq!(
        super::powi(T::ONE, i32::MIN, T::ONE, up),
        up * T::from_i32(i32::MIN)
    );
    assert!(!super::powi(c(2.0), i32::MIN, zero, up).is_nan());
}

#[test]
fn powers_avoid_nan_at_zero() {
    pow_conventions::<f32>();
    pow_conventions::<f64>();
}

fn origin_conventions<T: Float>() {
    let up = c::<T>(UP);
    let zero = T::ZERO;
    assert_eq!(super::hypot(zero, zero, zero, up), (zero, zero));
    assert_eq!(super::hypot(-zero, zero, zero, up), (zero, zero));
    assert_eq!(super::atan2(zero, zero, zero, up), (zero, zero));
    assert_eq!(super::atan2(zero, -zero, T::PI, up), (zero, zero));
}

#[test]
fn hypot_and_atan2_are_zero_at_the_origin() {
    origin_conventions::<f32>();
    origin_conventions::<f64>();
}

fn copysign_conventions<T: Float>() {
    let up = c::<T>(UP);
    let three = c::<T>(3.0);
    let zero = T::ZERO;
    // The sign bit decides, so -0 is negative.
    assert_eq!(three.copysign(-zero), -three);
    assert_eq!(super::copysign(three, -zero, -three, up), (-up, zero));
    assert_eq!(super::copysign(-three, -zero, -three, up), (up, zero));
    assert_eq!(super::copysign(-three, zero, three, up), (-up, zero));
    assert_eq!(super::copysign(three, c(2.0), three, up), (up, zero));
}

#[test]
fn copysign_follows_sign_bits() {
    copysign_conventions::<f32>();
    copysign_conventions::<f64>();
}

fn rem_quotient<T: Float>() {
    let up = c::<T>(UP);
    let (x, y) = (T::ONE, c::<T>(0.1));
    let out = x % y;
    // The quotient fmod used is 9, though the rounded x / y is 10.
    assert_eq!(super::rem(x, y, out, up), (up, -(c::<T>(9.0) * up)));
    // x % ∞ = x: quotient 0.
    let five = c::<T>(5.0);
    let (d_x, d_y) = super::rem(five, T::INFINITY, five % T::INFINITY, up);
    assert_eq!((d_x, d_y), (up, T::ZERO));
}

#[test]
fn rem_uses_the_quotient_of_the_forward_sweep() {
    assert_eq!((1.0_f64 / 0.1).trunc(), 10.0);
    rem_quotient::<f32>();
    rem_quotient::<f64>();
}

fn simple_formulas<T: Float>() {
    let up = c::<T>(UP);
    let x = c::<T>(0.6);
    let out = x.tan();
    assert_eq!(super::tan(x, out, up), up * (T::ONE + out * out));
    let out = x.tanh();
    assert_eq!(
        super::tanh(x, out, up),
        up * ((T::ONE - out) * (T::ONE + out))
    );
    let out = x.exp();
    assert_eq!(super::exp(x, out, up), up * out);
    let out = x.exp2();
    assert_eq!(super::exp2(x, out, up), up * (out * T::LN_2));
    let out = x.exp_m1();
    assert_eq!(super::exp_m1(x, out, up), up * (out + T::ONE));
    let out = x.recip();
    assert_eq!(super::recip(x, out, up), -(up * out * out));
    assert_eq!(super::fract(x, x.fract(), up), up);
}

#[test]
fn rules_reuse_the_forward_output() {
    simple_formulas::<f32>();
    simple_formulas::<f64>();
}

fn careful_numerics<T: Float>() {
    let up = T::ONE;
    // Far out, x² + y² would overflow; the true partials are tiny but nonzero.
    let big = c::<T>(1e30);
    let (d_y, d_x) = super::atan2(big, big, T::PI / c(4.0), up);
    assert!(d_y > T::ZERO && d_y.is_finite(), "{d_y:?}");
    assert!(d_x < T::ZERO && d_x.is_finite(), "{d_x:?}");
    // And near 0 it would underflow.
    let tiny = c::<T>(1e-30);
    let (d_y, _) = super::atan2(tiny, tiny, T::PI / c(4.0), up);
    assert!(d_y.is_finite() && d_y > c(1e29), "{d_y:?}");
    // hypot's partials stay in [-1, 1] at a subnormal norm.
    let sub = T::MIN_POSITIVE / c(1024.0);
    let (d_x, d_y) = super::hypot(sub, T::ZERO, sub, up);
    assert_eq!((d_x, d_y), (T::ONE, T::ZERO));
    // atan and asinh tend to 0 rather than NaN for huge x.
    assert_eq!(super::atan(T::MAX, T::PI / T::TWO, up), T::ZERO);
    let d = super::asinh(T::MAX, T::MAX.asinh(), up);
    assert!(d > T::ZERO && d.is_finite());
}

#[test]
fn rules_survive_extreme_inputs() {
    careful_numerics::<f32>();
    careful_numerics::<f64>();
}
