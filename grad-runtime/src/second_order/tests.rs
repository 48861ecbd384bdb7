//! Every `_tangent_vjp` against forward mode through its tangent rule: at random ordinary
//! points each entry is the `Dual<f64>` derivative of the rule, as written, along that
//! argument, times `upstream`. Then the conventions shared by all (a zero tangent, a zero
//! upstream, NaN), each documented kink, tie and singularity exactly, a scan that every
//! tangent rule has its `_vjp` with the right parameters, and a Hessian assembled by hand from
//! a few of them.

// Entries are compared by index across several arrays.
#![allow(clippy::needless_range_loop)]

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
    same(a, b)
        || (a.is_finite()
            && b.is_finite()
            && (a - b).abs() <= tol * a.abs().max(b.abs()).max(floor))
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

/// Each argument's Dual derivative of `tangent` at `args`, times `up`.
fn forward<const K: usize>(tangent: impl Fn([D; K]) -> D, args: [f64; K], up: f64) -> [f64; K] {
    core::array::from_fn(|i| {
        let seeded: [D; K] = core::array::from_fn(|j| Dual::new(args[j], f64::from(j == i)));
        tangent(seeded).eps * up
    })
}

/// Equal to rounding (relative `TOL`), or both the same infinity or NaN.
fn assert_same<const K: usize>(label: &str, got: [f64; K], expected: [f64; K]) {
    for i in 0..K {
        assert!(
            close(got[i], expected[i], TOL, 1e-300),
            "{label}: entry {i} is {}, expected {}",
            got[i],
            expected[i]
        );
    }
}

/// At ties, bounds, the origin and the branches of `powi` and `powf`, the entries are forward
/// mode through the rule as written, on the branch it takes.
#[test]
fn branches_taken_are_forward_mode_through_the_rule() {
    let u = 0.75;
    let max = |[a, b, o, da, db]: [D; 5]| pb::max_tangent(a, b, o, da, db);
    let min = |[a, b, o, da, db]: [D; 5]| pb::min_tangent(a, b, o, da, db);
    let as_array = |e: (f64, f64, f64, f64, f64)| [e.0, e.1, e.2, e.3, e.4];
    for [a, b] in [[2.0, 1.0], [1.0, 2.0], [1.0, 1.0], [NAN, 1.0], [1.0, NAN]] {
        let args = [a, b, a.max(b), 0.3, -0.4];
        assert_same(
            &format!("max at {a}, {b}"),
            as_array(max_tangent_vjp(a, b, a.max(b), 0.3, -0.4, u)),
            forward(max, args, u),
        );
        let args = [a, b, a.min(b), 0.3, -0.4];
        assert_same(
            &format!("min at {a}, {b}"),
            as_array(min_tangent_vjp(a, b, a.min(b), 0.3, -0.4, u)),
            forward(min, args, u),
        );
    }
    assert_eq!(
        max_tangent_vjp(1.0, 1.0, 1.0, 0.3, 0.4, u),
        (0.0, 0.0, 0.0, u / 2.0, u / 2.0)
    );
    assert_eq!(
        max_tangent_vjp(3.0, 1.0, 3.0, 0.3, 0.4, u),
        (0.0, 0.0, 0.0, u, 0.0)
    );
    assert_eq!(
        min_tangent_vjp(3.0, 1.0, 1.0, 0.3, 0.4, u),
        (0.0, 0.0, 0.0, 0.0, u)
    );
    let e = max_tangent_vjp(NAN, NAN, NAN, 0.3, 0.4, u);
    assert!(e.3.is_nan() && e.4.is_nan() && e.0 == 0.0);

    // clamp at and beyond its bounds.
    let clamp =
        |[x, lo, hi, o, dx, dlo, dhi]: [D; 7]| pb::clamp_tangent(x, lo, hi, o, dx, dlo, dhi);
    for x in [-2.0, -1.0, 0.0, 1.0, 2.0, NAN] {
        let out = x.clamp(-1.0, 1.0);
        let args = [x, -1.0, 1.0, out, 0.3, -0.4, 0.5];
        let e = clamp_tangent_vjp(x, -1.0, 1.0, out, 0.3, -0.4, 0.5, u);
        assert_same(
            &format!("clamp at {x}"),
            [e.0, e.1, e.2, e.3, e.4, e.5, e.6],
            forward(clamp, args, u),
        );
    }
    assert_eq!(
        clamp_tangent_vjp(-1.0, -1.0, 1.0, -1.0, 0.3, 0.4, 0.5, u),
        (0.0, 0.0, 0.0, 0.0, u, 0.0, 0.0)
    );

    // hypot and atan2 at the origin: the rule is the constant 0.
    let hypot = |[x, y, o, dx, dy]: [D; 5]| pb::hypot_tangent(x, y, o, dx, dy);
    let atan2 = |[y, x, o, dy, dx]: [D; 5]| pb::atan2_tangent(y, x, o, dy, dx);
    for [x, y] in [
        [0.0, 0.0],
        [-0.0, 0.0],
        [0.0, 2.0],
        [-3.0, 0.0],
        [1e-200, 1e-200],
    ] {
        let out = x.hypot(y);
        assert_same(
            &format!("hypot at {x}, {y}"),
            as_array(hypot_tangent_vjp(x, y, out, 0.3, -0.4, u)),
            forward(hypot, [x, y, out, 0.3, -0.4], u),
        );
        let out = y.atan2(x);
        let got = as_array(atan2_tangent_vjp(y, x, out, 0.3, -0.4, u));
        let expected = forward(atan2, [y, x, out, 0.3, -0.4], u);
        for i in 0..5 {
            assert!(
                close(got[i], expected[i], TOL, 1e-300),
                "atan2 at {y}, {x}: entry {i} is {}, forward mode {}",
                got[i],
                expected[i]
            );
        }
    }
    assert_eq!(
        hypot_tangent_vjp(0.0, 0.0, 0.0, 1.0, 1.0, u),
        (0.0, 0.0, 0.0, 0.0, 0.0)
    );
    assert_eq!(
        atan2_tangent_vjp(0.0, 0.0, 0.0, 1.0, 1.0, u),
        (0.0, 0.0, 0.0, 0.0, 0.0)
    );

    // abs at ±0: the constant 0; copysign across signs, signed zeros included.
    let abs = |[x, o, dx]: [D; 3]| pb::abs_tangent(x, o, dx);
    for x in [0.0, -0.0, 2.0, -2.0] {
        let e = abs_tangent_vjp(x, x.abs(), 0.3, u);
        assert_same(
            &format!("abs at {x}"),
            [e.0, e.1, e.2],
            forward(abs, [x, x.abs(), 0.3], u),
        );
    }
    assert_eq!(abs_tangent_vjp(0.0, 0.0, 0.3, u), (0.0, 0.0, 0.0));
    let copysign = |[x, s, o, dx, ds]: [D; 5]| pb::copysign_tangent(x, s, o, dx, ds);
    for [x, s] in [
        [2.0_f64, -1.0],
        [-2.0, 1.0],
        [2.0, -0.0],
        [-0.0, 0.0],
        [0.0, 3.0],
    ] {
        let out = x.copysign(s);
        assert_same(
            &format!("copysign at {x}, {s}"),
            as_array(copysign_tangent_vjp(x, s, out, 0.3, 0.4, u)),
            forward(copysign, [x, s, out, 0.3, 0.4], u),
        );
    }
    assert_eq!(
        copysign_tangent_vjp(2.0, -1.0, -2.0, 0.3, NAN, u),
        (0.0, 0.0, 0.0, -u, 0.0)
    );

    // powi at x = 0 and its n = 0, 1 cases.
    for n in [0, 1, 2, 3, 4, -1, -2] {
        let powi = move |[x, o, dx]: [D; 3]| pb::powi_tangent(x, n, o, dx);
        for x in [0.0, 1.5, -0.5] {
            let out = f64::powi(x, n);
            let e = powi_tangent_vjp(x, n, out, 0.3, u);
            assert_same(
                &format!("powi({n}) at {x}"),
                [e.0, e.1, e.2],
                forward(powi, [x, out, 0.3], u),
            );
        }
    }
    assert_eq!(powi_tangent_vjp(0.0, 0, 1.0, 0.3, u), (0.0, 0.0, 0.0));
    assert_eq!(powi_tangent_vjp(0.0, 1, 0.0, 0.3, u), (0.0, 0.0, u));
    assert_eq!(
        powi_tangent_vjp(0.0, 2, 0.0, 0.3, u),
        (2.0 * 0.3 * u, 0.0, 0.0)
    );

    // powf on the branches other than p = 0: p = 1, x = 0 with p > 0 (and p > 1).
    let powf = |[x, p, o, dx, dp]: [D; 5]| pb::powf_tangent(x, p, o, dx, dp);
    for [x, p] in [
        [2.0, 1.0],
        [0.0, 2.0],
        [0.0, 1.0],
        [0.0, 3.5],
        [0.0, 0.5],
        [0.0, -1.0],
    ] {
        let out = x.powf(p);
        assert_same(
            &format!("powf at {x}, {p}"),
            as_array(powf_tangent_vjp(x, p, out, 0.3, -0.4, u)),
            forward(powf, [x, p, out, 0.3, -0.4], u),
        );
    }
    assert_eq!(
        powf_tangent_vjp(0.0, 2.0, 0.0, 0.3, -0.4, u),
        (2.0 * 0.3 * u, 0.0, 0.0, 0.0, 0.0)
    );

    // rem's quotient, also where it is NaN.
    let rem = |[x, y, o, dx, dy]: [D; 5]| pb::rem_tangent(x, y, o, dx, dy);
    for [x, y] in [[1.0, 0.1], [7.5, 2.0], [-7.5, 2.0], [3.0, 0.0], [INF, 2.0]] {
        let out = x % y;
        assert_same(
            &format!("rem at {x}, {y}"),
            as_array(rem_tangent_vjp(x, y, out, 0.3, -0.4, u)),
            forward(rem, [x, y, out, 0.3, -0.4], u),
        );
    }
    assert_eq!(
        rem_tangent_vjp(1.0, 0.1, 1.0 % 0.1, 0.3, 0.4, u),
        (0.0, 0.0, 0.0, u, -9.0 * u)
    );
}

/// Where the rule special-cases a zero tangent, or has a pole, the documented choices.
#[test]
fn documented_choices_where_forward_mode_differs() {
    let u = 0.75;
    // A zero tangent: the tangent keeps its slope (forward mode through `flowing` gives 0),
    // inputs and out get 0.
    assert_eq!(
        sin_tangent_vjp(0.5, 0.5_f64.sin(), 0.0, u),
        (0.0, 0.0, u * 0.5_f64.cos())
    );
    assert_eq!(
        exp_tangent_vjp(1.0, 1.0_f64.exp(), 0.0, u),
        (0.0, 0.0, u * 1.0_f64.exp())
    );
    assert_eq!(
        mul_add_tangent_vjp(2.0, 3.0, 4.0, 10.0, 0.0, 0.0, 0.0, u),
        (0.0, 0.0, 0.0, 0.0, 3.0 * u, 2.0 * u, u)
    );
    // An infinite slope at a zero tangent: the pullback's, and 0 for a zero upstream.
    assert_eq!(sqrt_tangent_vjp(0.0, 0.0, 0.0, u), (0.0, 0.0, INF));
    assert_eq!(sqrt_tangent_vjp(0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0));
    assert_eq!(ln_tangent_vjp(0.0, -INF, 0.0, u), (0.0, 0.0, INF));
    assert_eq!(asin_tangent_vjp(1.0, 1.0_f64.asin(), 0.0, u).2, INF);
    // sqrt at 0: the one-sided -∞ (forward mode through |out| at 0 gives 0), for -0 too.
    assert_eq!(sqrt_tangent_vjp(0.0, 0.0, 0.3, u), (0.0, -INF, INF));
    assert_eq!(sqrt_tangent_vjp(-0.0, -0.0, 0.3, u), (0.0, -INF, INF));
    assert_eq!(sqrt_tangent_vjp(0.0, 0.0, -0.3, u), (0.0, INF, INF));
    // cbrt at ±0: the side of the zero.
    assert_eq!(cbrt_tangent_vjp(0.0, 0.0, 0.3, u), (0.0, -INF, INF));
    assert_eq!(cbrt_tangent_vjp(-0.0, -0.0, 0.3, u), (0.0, INF, INF));
    // abs at NaN: NaN along dx, as the pullback (forward mode through a NaN constant gives 0).
    let e = abs_tangent_vjp(NAN, NAN, 0.3, u);
    assert!(e.0 == 0.0 && e.1 == 0.0 && e.2.is_nan());
    // powf at p = 0: ∂/∂p is the derivative of p x^(p-1) dx, dx / x, not the branch's 0.
    let (x, dx, dp) = (2.0_f64, 0.3, -0.4);
    let e = powf_tangent_vjp(x, 0.0, 1.0, dx, dp, u);
    assert_eq!(e.3, 0.0);
    assert!((e.1 - u * dx / x).abs() < 1e-15);
    let h = 1e-6;
    let moved = |p: f64| pb::powf_tangent(x, p, 1.0, dx, dp);
    let numeric = (moved(h) - moved(-h)) / (2.0 * h) * u;
    assert!((e.1 - numeric).abs() < 1e-8, "{} vs {numeric}", e.1);
    assert!((e.0 - u * dp * 1.0 / x).abs() < 1e-15);
    assert!((e.2 - u * dp * x.ln()).abs() < 1e-15);
}

/// NaN in an argument reaches the entries whose partial reads it.
#[test]
fn nan_propagates() {
    let u = 0.75;
    let e = sin_tangent_vjp(NAN, NAN, 0.3, u);
    assert!(e.0.is_nan() && e.1 == 0.0 && e.2.is_nan());
    let e = sin_tangent_vjp(0.5, 0.5_f64.sin(), NAN, u);
    assert!(e.0.is_nan() && e.1 == 0.0 && !e.2.is_nan());
    let e = exp_tangent_vjp(1.0, NAN, 0.3, u);
    assert!(e.0 == 0.0 && e.1 == 0.3 * u && e.2.is_nan());
    let e = atan2_tangent_vjp(NAN, 1.0, NAN, 0.3, 0.4, u);
    assert!(e.0.is_nan() && e.1.is_nan() && e.3.is_nan() && e.4.is_nan());
    let e = hypot_tangent_vjp(1.0, 2.0, NAN, 0.3, 0.4, u);
    assert!(e.0.is_nan() && e.2.is_nan() && e.3.is_nan());
    let e = powf_tangent_vjp(NAN, 2.0, NAN, 0.3, 0.4, u);
    assert!(e.0.is_nan() && e.1.is_nan() && e.3.is_nan() && e.4.is_nan());
    let e = mul_add_tangent_vjp(NAN, 2.0, 1.0, NAN, 0.3, 0.4, 0.5, u);
    assert!(e.0 == 0.4 * u && e.5.is_nan() && e.4 == 2.0 * u);
    let e = asin_tangent_vjp(2.0, NAN, 0.3, u);
    assert!(e.0.is_nan() && e.2.is_nan());
}

/// The parameters of `pub fn <name><` in `source`, as `name: type` strings.
fn parameters(source: &str, name: &str) -> Option<std::vec::Vec<std::string::String>> {
    let start = source.find(&format!("pub fn {name}<"))?;
    let rest = &source[start..];
    let open = rest.find('(')?;
    let close = rest.find(')')?;
    Some(
        rest[open + 1..close]
            .split(',')
            .map(|p| p.split_whitespace().collect::<std::vec::Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect(),
    )
}

/// Every tangent rule in pullback.rs has its `_vjp` here, taking the rule's parameters and
/// `upstream`, and returning one `T` per float parameter.
#[test]
fn every_tangent_has_a_vjp() {
    let rules = include_str!("../pullback.rs");
    let here = include_str!("../second_order.rs");
    let mut count = 0;
    for line in rules.lines() {
        let Some(rest) = line.strip_prefix("pub fn ") else {
            continue;
        };
        let name = &rest[..rest.find('<').expect("a generic rule")];
        if !name.ends_with("_tangent") {
            continue;
        }
        count += 1;
        let mut expected = parameters(rules, name).expect("the tangent's parameters");
        let floats = expected.iter().filter(|p| p.ends_with(": T")).count();
        expected.push("upstream: T".into());
        let vjp = format!("{name}_vjp");
        let got = parameters(here, &vjp)
            .unwrap_or_else(|| panic!("`{name}` has no `{vjp}` in second_order.rs"));
        assert_eq!(got, expected, "the parameters of `{vjp}`");
        let start = here.find(&format!("pub fn {vjp}<")).unwrap();
        let signature = &here[start..start + here[start..].find('{').unwrap()];
        let returns = signature.split("->").nth(1).expect("a return type");
        let returned = returns.matches('T').count();
        assert_eq!(
            returned, floats,
            "`{vjp}` returns one entry per float argument"
        );
        assert!(
            here[..start].ends_with("#[inline(always)]\n")
                || here[..start]
                    .ends_with("#[inline(always)]\n#[allow(clippy::too_many_arguments)]\n"),
            "`{vjp}` is #[inline(always)]"
        );
    }
    assert!(count >= 38, "only {count} tangent rules found");
}

/// The Hessian of f(x, y) = sin(x y) + exp(x), column by column, by reverse mode over the
/// forward-mode code (w = x y, s = sin w, e = exp x, f = s + e, each with its tangent),
/// chaining the `_tangent_vjp`s by hand, against the closed form.
#[test]
fn hessian_of_sin_xy_plus_exp_x() {
    fn hvp(x: f64, y: f64, vx: f64, vy: f64) -> [f64; 2] {
        // Forward, with tangents: the operator rule for the product, then the method rules.
        let w = x * y;
        let dw = pb::flowing(vx, vx * y) + pb::flowing(vy, vy * x);
        let s = w.sin();
        let _ds = pb::sin_tangent(w, s, dw);
        let e = x.exp();
        let _de = pb::exp_tangent(x, e, vx);
        // Reverse from the tangent of f, df = ds + de; the tangents of the inputs are
        // constant, so their adjoints are dropped.
        let (mut adj_x, mut adj_y) = (0.0, 0.0);
        let (adj_ds, adj_de) = (1.0, 1.0);
        let (ax, ae, _) = exp_tangent_vjp(x, e, vx, adj_de);
        adj_x += ax;
        let adj_e = ae;
        let (aw, as_, adw) = sin_tangent_vjp(w, s, dw, adj_ds);
        let mut adj_w = aw;
        let adj_s = as_;
        // dw = vx y + x vy.
        adj_y += adj_dw_times(vx, adw);
        adj_x += adj_dw_times(vy, adw);
        // The primal sweep's adjoints: s = sin w, e = exp x, w = x y.
        adj_w += pb::sin(w, s, adj_s);
        adj_x += pb::exp(x, e, adj_e);
        adj_x += adj_w * y;
        adj_y += adj_w * x;
        [adj_x, adj_y]
    }
    fn adj_dw_times(v: f64, adw: f64) -> f64 {
        v * adw
    }
    let hessian = |x: f64, y: f64| {
        let (xy, sxy, cxy) = (x * y, (x * y).sin(), (x * y).cos());
        [
            [-y * y * sxy + x.exp(), cxy - xy * sxy],
            [cxy - xy * sxy, -x * x * sxy],
        ]
    };
    // y = 0 with v = (1, 0) makes the tangent of x y exactly 0: its slope must still count.
    for [x, y] in [[0.7, -1.3], [0.0, 2.0], [1.5, 0.0], [-2.0, 0.4], [0.3, 0.3]] {
        let h = hessian(x, y);
        for (k, v) in [[1.0, 0.0], [0.0, 1.0]].into_iter().enumerate() {
            let got = hvp(x, y, v[0], v[1]);
            for i in 0..2 {
                assert!(
                    (got[i] - h[i][k]).abs() <= 1e-14 * h[i][k].abs().max(1.0),
                    "H[{i}][{k}] at ({x}, {y}): {} vs {}",
                    got[i],
                    h[i][k]
                );
            }
        }
        // A mixed direction: H v.
        let v = [0.6, -0.35];
        let got = hvp(x, y, v[0], v[1]);
        for i in 0..2 {
            let expected = h[i][0] * v[0] + h[i][1] * v[1];
            assert!((got[i] - expected).abs() <= 1e-14 * expected.abs().max(1.0));
        }
    }
}

/// `N` values from `v` starting at `at`.
fn take<T: Copy, const N: usize>(v: &[T], at: usize) -> [T; N] {
    core::array::from_fn(|i| v[at + i])
}

/// Three values from `v` starting at `at`.
fn t3<T: Copy>(v: &[T], at: usize) -> [T; 3] {
    take(v, at)
}

/// Checks an array helper's `_jvp_vjp` at `args` (its float arguments, flattened in order)
/// and `upstream` (flattened like the `_jvp`'s result): entry k must be Σ_q u_q ∂r_q/∂arg_k,
/// with the derivatives from forward mode (Dual) through the `_jvp` seeded in argument k.
fn check_flat(
    name: &str,
    args: &[f64],
    upstream: &[f64],
    jvp: impl Fn(&[D]) -> std::vec::Vec<D>,
    vjp: impl Fn(&[f64], &[f64]) -> std::vec::Vec<f64>,
) {
    let got = vjp(args, upstream);
    assert_eq!(
        got.len(),
        args.len(),
        "{name}: one entry per float argument"
    );
    for k in 0..args.len() {
        let seeded: std::vec::Vec<D> = args
            .iter()
            .enumerate()
            .map(|(j, &a)| Dual::new(a, f64::from(j == k)))
            .collect();
        let result = jvp(&seeded);
        assert_eq!(result.len(), upstream.len());
        let expected: f64 = result.iter().zip(upstream).map(|(r, u)| r.eps * u).sum();
        assert!(
            close(got[k], expected, TOL, 1e-3),
            "{name} at {args:?}, upstream {upstream:?}: entry {k} is {}, forward mode {expected}",
            got[k]
        );
    }
    // A zero upstream gives zero entries.
    let zeros = std::vec![0.0; upstream.len()];
    assert!(
        vjp(args, &zeros).iter().all(|&e| e == 0.0),
        "{name}: a zero upstream"
    );
}

type Unary3 = fn([f64; 3]) -> [f64; 3];
type UnaryJvp3 = fn([D; 3], [D; 3], [D; 3]) -> [D; 3];
type UnaryVjp3 = fn([f64; 3], [f64; 3], [f64; 3], [f64; 3]) -> ([f64; 3], [f64; 3], [f64; 3]);

#[test]
fn activation_jvp_vjps_are_forward_mode_through_their_jvps() {
    let cases: [(&str, Unary3, UnaryJvp3, UnaryVjp3); 7] = [
        (
            "sigmoid",
            crate::sigmoid,
            crate::sigmoid_jvp,
            crate::sigmoid_jvp_vjp,
        ),
        (
            "softplus",
            crate::softplus,
            crate::softplus_jvp,
            crate::softplus_jvp_vjp,
        ),
        (
            "log_sigmoid",
            crate::log_sigmoid,
            crate::log_sigmoid_jvp,
            crate::log_sigmoid_jvp_vjp,
        ),
        ("relu", crate::relu, crate::relu_jvp, crate::relu_jvp_vjp),
        (
            "hard_tanh",
            crate::hard_tanh,
            crate::hard_tanh_jvp,
            crate::hard_tanh_jvp_vjp,
        ),
        (
            "swish",
            crate::swish,
            crate::swish_jvp,
            crate::swish_jvp_vjp,
        ),
        ("gelu", crate::gelu, crate::gelu_jvp, crate::gelu_jvp_vjp),
    ];
    let mut rng = Rng(0x5151_2727_9393_0101);
    for (name, f, jvp, vjp) in cases {
        for _ in 0..60 {
            let x: [f64; 3] = core::array::from_fn(|_| rng.range(-5.0, 5.0));
            let dx: [f64; 3] = core::array::from_fn(|_| rng.nonzero());
            let u: [f64; 3] = core::array::from_fn(|_| rng.nonzero());
            let args: std::vec::Vec<f64> = [x, f(x), dx].concat();
            check_flat(
                name,
                &args,
                &u,
                |a| jvp(take(a, 0), take(a, 3), take(a, 6)).to_vec(),
                |a, u| {
                    let (e0, e1, e2) = vjp(take(a, 0), take(a, 3), take(a, 6), take(u, 0));
                    [e0, e1, e2].concat()
                },
            );
            // A zero tangent: x gets 0, dx keeps its slope.
            let (e0, _, e2) = vjp(x, f(x), [0.0; 3], u);
            assert_eq!(e0, [0.0; 3], "{name}: zero tangents");
            assert_eq!(e2, vjp(x, f(x), dx, u).2, "{name}: the tangents' slopes");
        }
    }
    // A bare float is one element, through the same code.
    let (x, dx, u) = (0.3_f64, 0.5, 0.75);
    let array = crate::sigmoid_jvp_vjp([x; 3], crate::sigmoid([x; 3]), [dx; 3], [u; 3]);
    let scalar = crate::sigmoid_jvp_vjp(x, crate::sigmoid(x), dx, u);
    assert_eq!(scalar, (array.0[0], array.1[0], array.2[0]));
    // Kinks: relu and hard_tanh are flat on each branch; their tangents' slopes are the
    // `_vjp`'s conventions.
    let x = [0.0, -1.0, 1.0];
    let (e0, e1, e2) = crate::relu_jvp_vjp(x, crate::relu(x), [0.3; 3], [0.75; 3]);
    assert_eq!((e0, e1, e2), ([0.0; 3], [0.0; 3], [0.0, 0.0, 0.75]));
    let (e0, _, e2) = crate::hard_tanh_jvp_vjp(x, crate::hard_tanh(x), [0.3; 3], [0.75; 3]);
    assert_eq!((e0, e2), ([0.0; 3], [0.75, 0.0, 0.0]));
    // gelu's tails, where the `_vjp` returns s: 0 along x.
    let far = [-40.0_f64, 40.0, 1e200];
    let (e0, _, e2) = crate::gelu_jvp_vjp(far, crate::gelu(far), [0.3; 3], [0.75; 3]);
    assert_eq!(e0, [0.0; 3]);
    assert_eq!(e2, [0.0, 0.75, 0.75]);
}

#[test]
fn shared_parameter_jvp_vjps_are_forward_mode_through_their_jvps() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for _ in 0..60 {
        let x: [f64; 3] = core::array::from_fn(|_| rng.range(-4.0, 4.0));
        let p = rng.range(0.05, 2.0);
        let dx: [f64; 3] = core::array::from_fn(|_| rng.nonzero());
        let dp = rng.nonzero();
        let u: [f64; 3] = core::array::from_fn(|_| rng.nonzero());
        let args_of = |out: [f64; 3]| {
            let mut args = x.to_vec();
            args.push(p);
            args.extend(out);
            args.extend(dx);
            args.push(dp);
            args
        };
        let flat = |e: ([f64; 3], f64, [f64; 3], [f64; 3], f64)| {
            let mut v = e.0.to_vec();
            v.push(e.1);
            v.extend(e.2);
            v.extend(e.3);
            v.push(e.4);
            v
        };
        check_flat(
            "leaky_relu",
            &args_of(crate::leaky_relu(x, p)),
            &u,
            |a| {
                crate::leaky_relu_jvp::<[D; 3]>(take(a, 0), a[3], take(a, 4), take(a, 7), a[10])
                    .to_vec()
            },
            |a, u| {
                flat(crate::leaky_relu_jvp_vjp::<[f64; 3]>(
                    take(a, 0),
                    a[3],
                    take(a, 4),
                    take(a, 7),
                    a[10],
                    take(u, 0),
                ))
            },
        );
        check_flat(
            "elu",
            &args_of(crate::elu(x, p)),
            &u,
            |a| crate::elu_jvp::<[D; 3]>(take(a, 0), a[3], take(a, 4), take(a, 7), a[10]).to_vec(),
            |a, u| {
                flat(crate::elu_jvp_vjp::<[f64; 3]>(
                    take(a, 0),
                    a[3],
                    take(a, 4),
                    take(a, 7),
                    a[10],
                    take(u, 0),
                ))
            },
        );
    }
    // x = 0 takes the negative side, as the `_jvp`.
    let e = crate::leaky_relu_jvp_vjp([0.0, 1.0], 0.1, [0.0, 1.0], [0.3, 0.3], 0.5, [1.0, 1.0]);
    assert_eq!(e, ([0.5, 0.0], 0.3, [0.0, 0.0], [0.1, 1.0], 0.0));
    // Zero tangents: x and the parameter get 0.
    let e = crate::elu_jvp_vjp([-1.0, 1.0], 0.5, [0.0; 2], [0.0; 2], 0.0, [1.0, 1.0]);
    assert_eq!((e.0, e.1), ([0.0; 2], 0.0));
}

#[test]
fn vector_jvp_vjps_are_forward_mode_through_their_jvps() {
    let mut rng = Rng(0xfeed_beef_1234_5678);
    for _ in 0..60 {
        let a: [f64; 3] = core::array::from_fn(|_| rng.range(-3.0, 3.0));
        let b: [f64; 3] = core::array::from_fn(|_| rng.range(-3.0, 3.0));
        let da: [f64; 3] = core::array::from_fn(|_| rng.nonzero());
        let db: [f64; 3] = core::array::from_fn(|_| rng.nonzero());
        let u = rng.nonzero();

        let args = [a.as_slice(), &b, &[crate::dot(a, b)], &da, &db].concat();
        check_flat(
            "dot",
            &args,
            &[u],
            |v| {
                std::vec![crate::dot_jvp(
                    t3(v, 0),
                    t3(v, 3),
                    v[6],
                    t3(v, 7),
                    t3(v, 10)
                )]
            },
            |v, u| {
                let e = crate::dot_jvp_vjp(t3(v, 0), t3(v, 3), v[6], t3(v, 7), t3(v, 10), u[0]);
                [e.0.as_slice(), &e.1, &[e.2], &e.3, &e.4].concat()
            },
        );

        let args = [a.as_slice(), &[crate::sum(a)], &da].concat();
        check_flat(
            "sum",
            &args,
            &[u],
            |v| std::vec![crate::sum_jvp(t3(v, 0), v[3], t3(v, 4))],
            |v, u| {
                let e = crate::sum_jvp_vjp(t3(v, 0), v[3], t3(v, 4), u[0]);
                [e.0.as_slice(), &[e.1], &e.2].concat()
            },
        );

        let args = [a.as_slice(), &[crate::norm_sq(a)], &da].concat();
        check_flat(
            "norm_sq",
            &args,
            &[u],
            |v| std::vec![crate::norm_sq_jvp(t3(v, 0), v[3], t3(v, 4))],
            |v, u| {
                let e = crate::norm_sq_jvp_vjp(t3(v, 0), v[3], t3(v, 4), u[0]);
                [e.0.as_slice(), &[e.1], &e.2].concat()
            },
        );

        // softmax and log_sum_exp, over z = a.
        let us: [f64; 3] = core::array::from_fn(|_| rng.nonzero());
        let args = [a.as_slice(), &crate::softmax(a), &da].concat();
        check_flat(
            "softmax",
            &args,
            &us,
            |v| crate::softmax_jvp(t3(v, 0), t3(v, 3), t3(v, 6)).to_vec(),
            |v, u| {
                let e = crate::softmax_jvp_vjp(t3(v, 0), t3(v, 3), t3(v, 6), t3(u, 0));
                [e.0, e.1, e.2].concat()
            },
        );
        let args = [a.as_slice(), &[crate::log_sum_exp(a)], &da].concat();
        check_flat(
            "log_sum_exp",
            &args,
            &[u],
            |v| std::vec![crate::log_sum_exp_jvp(t3(v, 0), v[3], t3(v, 4))],
            |v, u| {
                let e = crate::log_sum_exp_jvp_vjp(t3(v, 0), v[3], t3(v, 4), u[0]);
                [e.0.as_slice(), &[e.1], &e.2].concat()
            },
        );

        // matvec: W is 2×3, x = b.
        let w: [[f64; 3]; 2] = [a, core::array::from_fn(|_| rng.range(-3.0, 3.0))];
        let dw: [[f64; 3]; 2] = core::array::from_fn(|_| core::array::from_fn(|_| rng.nonzero()));
        let um: [f64; 2] = core::array::from_fn(|_| rng.nonzero());
        let args = [
            w.as_flattened(),
            &b,
            &crate::matvec(w, b),
            dw.as_flattened(),
            &db,
        ]
        .concat();
        let matrix = |v: &[D], at: usize| -> [[D; 3]; 2] { [t3(v, at), t3(v, at + 3)] };
        check_flat(
            "matvec",
            &args,
            &um,
            |v| {
                crate::matvec_jvp(
                    matrix(v, 0),
                    t3(v, 6),
                    take::<D, 2>(v, 9),
                    matrix(v, 11),
                    t3(v, 17),
                )
                .to_vec()
            },
            |v, u| {
                let m = |at: usize| -> [[f64; 3]; 2] { [t3(v, at), t3(v, at + 3)] };
                let e = crate::matvec_jvp_vjp(
                    m(0),
                    t3(v, 6),
                    take::<f64, 2>(v, 9),
                    m(11),
                    t3(v, 17),
                    take::<f64, 2>(u, 0),
                );
                [e.0.as_flattened(), &e.1, &e.2, e.3.as_flattened(), &e.4].concat()
            },
        );
    }
}

/// Every array helper's `_jvp` has its `_jvp_vjp` here, taking the `_jvp`'s parameters and
/// `upstream`.
#[test]
fn every_helper_jvp_has_a_vjp() {
    let here = include_str!("../second_order.rs");
    let mut count = 0;
    for source in [
        include_str!("../activations.rs"),
        include_str!("../vector.rs"),
    ] {
        for line in source.lines() {
            let Some(rest) = line.strip_prefix("pub fn ") else {
                continue;
            };
            let name = &rest[..rest.find('<').expect("a generic helper")];
            if !name.ends_with("_jvp") {
                continue;
            }
            count += 1;
            let expected = parameters(source, name).expect("the _jvp's parameters");
            let vjp = format!("{name}_vjp");
            let got = parameters(here, &vjp)
                .unwrap_or_else(|| panic!("`{name}` has no `{vjp}` in second_order.rs"));
            assert_eq!(got.len(), expected.len() + 1, "the parameters of `{vjp}`");
            assert!(got.last().unwrap().starts_with("upstream: "));
            assert_eq!(
                got[..expected.len()],
                expected[..],
                "the parameters of `{vjp}`"
            );
        }
    }
    assert!(count >= 15, "only {count} helper _jvps found");
}
