//! Each vector helper's `_jvp`, in f32 and f64: exactly the transpose of its `_vjp`, exactly 0
//! for a zero tangent, and against central finite differences.
//!
//! The inputs are flattened: `dot` over `[a0, a1, a2, b0, b1, b2]`, `matvec` over the rows of
//! `w` then `x`.

use super::*;
use crate::test_util::check_jvp;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

fn halves<T: Float>(v: [T; 6]) -> ([T; 3], [T; 3]) {
    ([v[0], v[1], v[2]], [v[3], v[4], v[5]])
}

fn joined<T: Float>((a, b): ([T; 3], [T; 3])) -> [T; 6] {
    [a[0], a[1], a[2], b[0], b[1], b[2]]
}

fn matrix<T: Float>(v: [T; 9]) -> ([[T; 3]; 2], [T; 3]) {
    ([[v[0], v[1], v[2]], [v[3], v[4], v[5]]], [v[6], v[7], v[8]])
}

fn cases<T: Float>() {
    check_jvp::<T, 6, 1>(
        "dot",
        &[[1.0, -2.0, 0.5, 3.0, 0.25, -1.0]],
        &[
            [INF, 1.0, 0.0, 2.0, 3.0, 4.0],
            [NAN, 1.0, 0.0, 2.0, 3.0, 4.0],
            [0.0; 6],
        ],
        |v| {
            let (a, b) = halves(v);
            [dot(a, b)]
        },
        |v, [out], d| {
            let ((a, b), (da, db)) = (halves(v), halves(d));
            [dot_jvp(a, b, out, da, db)]
        },
        |v, [up]| {
            let (a, b) = halves(v);
            joined(dot_vjp(a, b, up))
        },
    );
    check_jvp::<T, 3, 1>(
        "sum",
        &[[1.0, -2.0, 0.5]],
        &[[INF, 1.0, 0.0], [NAN, 1.0, 0.0]],
        |a| [sum(a)],
        |a, [out], da| [sum_jvp(a, out, da)],
        |a, [up]| sum_vjp(a, up),
    );
    check_jvp::<T, 3, 1>(
        "norm_sq",
        &[[1.0, -2.0, 0.5]],
        &[[INF, 1.0, 0.0], [NAN, 1.0, 0.0], [0.0; 3]],
        |a| [norm_sq(a)],
        |a, [out], da| [norm_sq_jvp(a, out, da)],
        |a, [up]| norm_sq_vjp(a, up),
    );
    // A finite W: with an infinite or NaN entry the _vjp's other rows get 0 · ∞ = NaN.
    check_jvp::<T, 9, 2>(
        "matvec",
        &[[1.0, -2.0, 0.5, 3.0, 0.25, -1.0, 0.7, -0.3, 2.0]],
        &[
            [1e30, -2.0, 0.5, 3.0, 0.25, -1e30, 0.7, -0.3, 2.0],
            [0.0; 9],
        ],
        |v| {
            let (w, x) = matrix(v);
            matvec(w, x)
        },
        |v, out, d| {
            let ((w, x), (dw, dx)) = (matrix(v), matrix(d));
            matvec_jvp(w, x, out, dw, dx)
        },
        |v, up| {
            let (w, x) = matrix(v);
            let (d_w, d_x) = matvec_vjp(w, x, up);
            [
                d_w[0][0], d_w[0][1], d_w[0][2], d_w[1][0], d_w[1][1], d_w[1][2], d_x[0], d_x[1],
                d_x[2],
            ]
        },
    );
    // Not at NaN, where the softmax is NaN and so is every tangent.
    let softmax_special: &[[f64; 4]] = &[
        [1000.0, 1000.0, -1000.0, 0.0],
        [INF, 0.0, 1.0, INF],
        [-INF; 4],
        [INF; 4],
        [0.0; 4],
    ];
    check_jvp::<T, 4, 4>(
        "softmax",
        &[[1.0, -2.0, 0.5, 3.0], [0.1, 0.2, -0.3, 0.0]],
        softmax_special,
        softmax,
        softmax_jvp,
        softmax_vjp,
    );
    check_jvp::<T, 4, 1>(
        "log_sum_exp",
        &[[1.0, -2.0, 0.5, 3.0], [0.1, 0.2, -0.3, 0.0]],
        softmax_special,
        |z| [log_sum_exp(z)],
        |z, [out], dz| [log_sum_exp_jvp(z, out, dz)],
        |z, [up]| log_sum_exp_vjp(z, up),
    );
}

#[test]
fn vector_jvps_are_the_transposes_of_their_vjps() {
    cases::<f32>();
    cases::<f64>();
}

#[test]
fn jvp_spot_values() {
    let (a, b) = ([1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]);
    // d(a·b) = da·b + a·db.
    assert_eq!(
        dot_jvp(a, b, 32.0, [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]),
        4.0 + 3.0
    );
    let w = [[1.0_f64, 2.0], [3.0, 4.0]];
    let x = [1.0, -1.0];
    let dw = [[1.0, 0.0], [0.0, 0.0]];
    assert_eq!(
        matvec_jvp(w, x, matvec(w, x), dw, [0.0, 1.0]),
        [1.0 + 2.0, 4.0]
    );
    // The softmax of equal inputs moves along a tangent minus its mean.
    let s = softmax([0.0_f64, 0.0]);
    assert_eq!(softmax_jvp([0.0, 0.0], s, [1.0, -1.0]), [0.5, -0.5]);
    // An empty log_sum_exp has a zero tangent.
    assert_eq!(log_sum_exp_jvp::<f64, 0>([], f64::NEG_INFINITY, []), 0.0);
}

/// Every `_vjp` of the activations and vector helpers has a `_jvp` after it, taking the same
/// inputs, then `out`, then the tangents.
#[test]
fn every_vjp_has_a_jvp() {
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
            let Some(helper) = name.strip_suffix("_vjp") else {
                continue;
            };
            count += 1;
            let at = |f: &str| source.find(&std::format!("pub fn {f}<"));
            let jvp = at(&std::format!("{helper}_jvp"))
                .unwrap_or_else(|| panic!("`{name}` has no `{helper}_jvp`"));
            assert!(jvp > at(name).unwrap(), "`{helper}_jvp` follows `{name}`");
            let signature = &source[jvp..jvp + source[jvp..].find('{').unwrap()];
            assert!(
                signature.contains("out:"),
                "`{helper}_jvp` takes `out`: {signature}"
            );
        }
    }
    assert_eq!(count, 15);
}
