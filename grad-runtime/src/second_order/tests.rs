//! Every `_tangent_vjp` against forward mode through its tangent rule: at random ordinary
//! points each entry is the `Dual<f64>` derivative of the rule, as written, along that
//! argument, times `upstream`. Then the conventions shared by all (a zero tangent, a zero
//! upstream, NaN), each documented kink, tie and singularity exactly, a scan that every
//! tangent rule has its `_vjp` with the right parameters, and a Hessian assembled by hand from
//! a few of them.

use super::*;
use crate::Dual;
use crate::pullback as pb;
use std::format;

type D = Dual<f64>;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

/// A small deterministic generator (xorshift64*), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// A tangent or an upstream: magnitude in [0.2, 2.5], either sign, never 0.
    fn nonzero(&mut self) -> f64 {
        let magnitude = self.range(0.2, 2.5);
        if self.unit() < 0.5 {
            -magnitude
        } else {
            magnitude
        }
    }
}

/// Equal, or both NaN; +0 and -0 count as equal.
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Relative agreement to `tol`, with values below `floor` compared absolutely.
fn close(a: f64, b: f64, tol: f64, floor: f64) -> bool {
    same(a, b) || (a - b).abs() <= tol * a.abs().max(b.abs()).max(floor)
}

const POINTS: usize = 300;
const TOL: f64 = 1e-12;

/// Checks a rule of `N` float inputs with `K = 2N + 1` float arguments (inputs, `out`,
/// tangents): at random points from `sample`, every entry of `vjp` against the Dual
/// derivative of `tangent` along that argument times upstream; then the shared conventions.
fn check<const N: usize, const K: usize>(
    name: &str,
    sample: impl Fn(&mut Rng) -> [f64; N],
    method: impl Fn([f64; N]) -> f64,
    tangent: impl Fn([D; K]) -> D,
    vjp: impl Fn([f64; K], f64) -> [f64; K],
) {
    assert_eq!(K, 2 * N + 1);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    for _ in 0..POINTS {
        let inputs = sample(&mut rng);
        let out = method(inputs);
        let args: [f64; K] = core::array::from_fn(|i| {
            if i < N {
                inputs[i]
            } else if i == N {
                out
            } else {
                rng.nonzero()
            }
        });
        let up = rng.nonzero();
        let got = vjp(args, up);
        let label = format!("{name} at {args:?}, upstream {up}");
        for i in 0..K {
            let seeded: [D; K] = core::array::from_fn(|j| Dual::new(args[j], f64::from(j == i)));
            let expected = tangent(seeded).eps * up;
            // Entries are sums of a few products; an absolute floor of the upstream's scale
            // covers the cancellation in those sums.
            assert!(
                close(got[i], expected, TOL, 1e-3),
                "{label}: entry {i} is {}, forward mode gives {expected}",
                got[i]
            );
        }

        // A zero upstream: every entry exactly 0.
        let still = vjp(args, 0.0);
        assert!(
            still.iter().all(|&e| e == 0.0),
            "{label}: a zero upstream gives {still:?}"
        );

        // All tangents zero: the rule is the constant 0, so inputs and out get exactly 0,
        // while each tangent keeps its slope, which does not depend on the tangents.
        let mut quiet = args;
        for t in &mut quiet[N + 1..] {
            *t = 0.0;
        }
        let at_zero = vjp(quiet, up);
        for i in 0..=N {
            assert!(
                at_zero[i] == 0.0,
                "{label}: with zero tangents entry {i} is {}",
                at_zero[i]
            );
        }
        for i in N + 1..K {
            assert!(
                same(at_zero[i], got[i]),
                "{label}: with zero tangents entry {i} is {}, else {}",
                at_zero[i],
                got[i]
            );
        }

        // NaN: a NaN upstream reaches every entry that is not a fixed zero.
        let nan = vjp(args, NAN);
        for i in 0..K {
            if got[i] != 0.0 {
                assert!(
                    nan[i].is_nan(),
                    "{label}: a NaN upstream gives entry {i} {}",
                    nan[i]
                );
            }
        }
    }
}

fn unary(
    name: &str,
    (lo, hi): (f64, f64),
    method: fn(f64) -> f64,
    tangent: fn(D, D, D) -> D,
    vjp: fn(f64, f64, f64, f64) -> (f64, f64, f64),
) {
    check::<1, 3>(
        name,
        |r| [r.range(lo, hi)],
        |[x]| method(x),
        |[x, o, d]| tangent(x, o, d),
        |[x, o, d], u| {
            let (a, b, c) = vjp(x, o, d, u);
            [a, b, c]
        },
    );
}

type Tangent2 = fn(D, D, D, D, D) -> D;
type Vjp2 = fn(f64, f64, f64, f64, f64, f64) -> (f64, f64, f64, f64, f64);

fn binary(
    name: &str,
    sample: impl Fn(&mut Rng) -> [f64; 2],
    method: fn(f64, f64) -> f64,
    tangent: Tangent2,
    vjp: Vjp2,
) {
    check::<2, 5>(
        name,
        sample,
        |[a, b]| method(a, b),
        |[a, b, o, da, db]| tangent(a, b, o, da, db),
        |[a, b, o, da, db], u| {
            let (e0, e1, e2, e3, e4) = vjp(a, b, o, da, db, u);
            [e0, e1, e2, e3, e4]
        },
    );
}

fn both(lo: f64, hi: f64, lo2: f64, hi2: f64) -> impl Fn(&mut Rng) -> [f64; 2] {
    move |r| [r.range(lo, hi), r.range(lo2, hi2)]
}

#[test]
fn unary_vjps_are_forward_mode_through_their_tangents() {
    unary(
        "sin",
        (-4.0, 4.0),
        f64::sin,
        pb::sin_tangent,
        sin_tangent_vjp,
    );
    unary(
        "cos",
        (-4.0, 4.0),
        f64::cos,
        pb::cos_tangent,
        cos_tangent_vjp,
    );
    unary(
        "tan",
        (-1.4, 1.4),
        f64::tan,
        pb::tan_tangent,
        tan_tangent_vjp,
    );
    unary(
        "asin",
        (-0.95, 0.95),
        f64::asin,
        pb::asin_tangent,
        asin_tangent_vjp,
    );
    unary(
        "acos",
        (-0.95, 0.95),
        f64::acos,
        pb::acos_tangent,
        acos_tangent_vjp,
    );
    unary(
        "atan",
        (-6.0, 6.0),
        f64::atan,
        pb::atan_tangent,
        atan_tangent_vjp,
    );
    unary(
        "sinh",
        (-4.0, 4.0),
        f64::sinh,
        pb::sinh_tangent,
        sinh_tangent_vjp,
    );
    unary(
        "cosh",
        (-4.0, 4.0),
        f64::cosh,
        pb::cosh_tangent,
        cosh_tangent_vjp,
    );
    unary(
        "sigmoid",
        (-6.0, 6.0),
        crate::sigmoid::<f64>,
        pb::sigmoid_tangent,
        sigmoid_tangent_vjp,
    );
    unary(
        "tanh",
        (-4.0, 4.0),
        f64::tanh,
        pb::tanh_tangent,
        tanh_tangent_vjp,
    );
    unary(
        "asinh",
        (-8.0, 8.0),
        f64::asinh,
        pb::asinh_tangent,
        asinh_tangent_vjp,
    );
    unary(
        "acosh",
        (1.05, 8.0),
        f64::acosh,
        pb::acosh_tangent,
        acosh_tangent_vjp,
    );
    unary(
        "atanh",
        (-0.95, 0.95),
        f64::atanh,
        pb::atanh_tangent,
        atanh_tangent_vjp,
    );
    unary(
        "exp",
        (-5.0, 5.0),
        f64::exp,
        pb::exp_tangent,
        exp_tangent_vjp,
    );
    unary(
        "exp2",
        (-5.0, 5.0),
        f64::exp2,
        pb::exp2_tangent,
        exp2_tangent_vjp,
    );
    unary(
        "exp_m1",
        (-5.0, 5.0),
        f64::exp_m1,
        pb::exp_m1_tangent,
        exp_m1_tangent_vjp,
    );
    unary("ln", (0.05, 20.0), f64::ln, pb::ln_tangent, ln_tangent_vjp);
    unary(
        "log2",
        (0.05, 20.0),
        f64::log2,
        pb::log2_tangent,
        log2_tangent_vjp,
    );
    unary(
        "log10",
        (0.05, 20.0),
        f64::log10,
        pb::log10_tangent,
        log10_tangent_vjp,
    );
    unary(
        "ln_1p",
        (-0.9, 20.0),
        f64::ln_1p,
        pb::ln_1p_tangent,
        ln_1p_tangent_vjp,
    );
    unary(
        "sqrt",
        (0.01, 30.0),
        f64::sqrt,
        pb::sqrt_tangent,
        sqrt_tangent_vjp,
    );
    unary(
        "cbrt",
        (-30.0, 30.0),
        f64::cbrt,
        pb::cbrt_tangent,
        cbrt_tangent_vjp,
    );
    unary(
        "recip",
        (0.1, 10.0),
        f64::recip,
        pb::recip_tangent,
        recip_tangent_vjp,
    );
    unary(
        "recip-",
        (-10.0, -0.1),
        f64::recip,
        pb::recip_tangent,
        recip_tangent_vjp,
    );
    unary(
        "abs",
        (-5.0, 5.0),
        f64::abs,
        pb::abs_tangent,
        abs_tangent_vjp,
    );
    unary(
        "to_degrees",
        (-5.0, 5.0),
        f64::to_degrees,
        pb::to_degrees_tangent,
        to_degrees_tangent_vjp,
    );
    unary(
        "to_radians",
        (-500.0, 500.0),
        f64::to_radians,
        pb::to_radians_tangent,
        to_radians_tangent_vjp,
    );
    unary(
        "fract",
        (-5.0, 5.0),
        f64::fract,
        pb::fract_tangent,
        fract_tangent_vjp,
    );
}

#[test]
fn powi_vjp_is_forward_mode_through_its_tangent() {
    for n in [-3, -2, -1, 1, 2, 3, 4, 7] {
        check::<1, 3>(
            &format!("powi({n})"),
            |r| {
                let x = r.range(0.2, 3.0);
                [if r.unit() < 0.5 { -x } else { x }]
            },
            |[x]| x.powi(n),
            |[x, o, d]| pb::powi_tangent(x, n, o, d),
            |[x, o, d], u| {
                let (a, b, c) = powi_tangent_vjp(x, n, o, d, u);
                [a, b, c]
            },
        );
    }
}

#[test]
fn binary_vjps_are_forward_mode_through_their_tangents() {
    binary(
        "atan2",
        both(-3.0, 3.0, -3.0, 3.0),
        f64::atan2,
        pb::atan2_tangent,
        atan2_tangent_vjp,
    );
    binary(
        "log",
        both(0.05, 20.0, 1.2, 12.0),
        f64::log,
        pb::log_tangent,
        log_tangent_vjp,
    );
    binary(
        "log<1",
        both(0.05, 20.0, 0.05, 0.8),
        f64::log,
        pb::log_tangent,
        log_tangent_vjp,
    );
    binary(
        "powf",
        both(0.05, 5.0, -3.0, 3.0),
        f64::powf,
        pb::powf_tangent,
        powf_tangent_vjp,
    );
    binary(
        "hypot",
        both(-3.0, 3.0, -3.0, 3.0),
        f64::hypot,
        pb::hypot_tangent,
        hypot_tangent_vjp,
    );
    binary(
        "max",
        both(-3.0, 3.0, -3.0, 3.0),
        f64::max,
        pb::max_tangent,
        max_tangent_vjp,
    );
    binary(
        "min",
        both(-3.0, 3.0, -3.0, 3.0),
        f64::min,
        pb::min_tangent,
        min_tangent_vjp,
    );
    binary(
        "copysign",
        both(-3.0, 3.0, -3.0, 3.0),
        f64::copysign,
        pb::copysign_tangent,
        copysign_tangent_vjp,
    );
    binary(
        "rem",
        both(-30.0, 30.0, 0.3, 4.0),
        |x, y| x % y,
        pb::rem_tangent,
        rem_tangent_vjp,
    );
}

#[test]
fn ternary_vjps_are_forward_mode_through_their_tangents() {
    check::<3, 7>(
        "mul_add",
        |r| [r.range(-3.0, 3.0), r.range(-3.0, 3.0), r.range(-3.0, 3.0)],
        |[x, a, b]| x.mul_add(a, b),
        |[x, a, b, o, dx, da, db]| pb::mul_add_tangent(x, a, b, o, dx, da, db),
        |[x, a, b, o, dx, da, db], u| {
            let e = mul_add_tangent_vjp(x, a, b, o, dx, da, db, u);
            [e.0, e.1, e.2, e.3, e.4, e.5, e.6]
        },
    );
    check::<3, 7>(
        "clamp",
        |r| [r.range(-3.0, 3.0), r.range(-2.0, -0.5), r.range(0.5, 2.0)],
        |[x, lo, hi]| x.clamp(lo, hi),
        |[x, lo, hi, o, dx, dlo, dhi]| pb::clamp_tangent(x, lo, hi, o, dx, dlo, dhi),
        |[x, lo, hi, o, dx, dlo, dhi], u| {
            let e = clamp_tangent_vjp(x, lo, hi, o, dx, dlo, dhi, u);
            [e.0, e.1, e.2, e.3, e.4, e.5, e.6]
        },
    );
}
