//! A generated `#[differentiable]` function of 200 `let` statements over four inputs, against
//! finite differences and dual numbers.
//!
//! `tests/generated/long_function.rs` is written by `tests/generate`;
//! `long_function_dual.rs` mirrors it over `num_dual::Dual64` and measures how close a point
//! is to a kink (`abs`, `max`, `min`, `clamp`, `copysign`, `hypot`).

use std::cell::Cell;

use num_dual::Dual64;

include!("generated/long_function.rs");
include!("generated/long_function_dual.rs");

use long_function::{
    long_function, long_function_grad, long_function_value_and_grad, long_function_vjp,
};
use long_function_dual::long_function_dual;

/// Points closer than this to a kink, in input units (the mirror's linear estimate), are
/// skipped by the finite-difference check: its stencil spans ±2h = ±2.4e-4 and must not cross
/// the kink.
const KINK_CLEARANCE: f64 = 0.01;
/// Points this close to a kink are skipped by the dual-number check too: at a tie the two
/// conventions may legitimately differ.
const TIE: f64 = 1e-9;

/// A fixed xorshift sequence of points of `[-2, 2]^4`.
fn sequence() -> impl Iterator<Item = [f64; 4]> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
    };
    std::iter::repeat_with(move || [next(), next(), next(), next()])
}

/// A few points by hand and some from the sequence.
fn points() -> Vec<[f64; 4]> {
    let mut points = vec![
        [0.3, -0.7, 1.1, -1.9],
        [-1.25, 0.5, 0.75, 1.5],
        [1.9, 1.8, -1.7, 0.2],
    ];
    points.extend(sequence().take(13));
    points
}

fn grad(p: [f64; 4]) -> [f64; 4] {
    let (a, b, c, d) = long_function_grad(p[0], p[1], p[2], p[3]);
    [a, b, c, d]
}

/// The value, gradient and kink margin of the dual-number mirror at `p`.
fn dual_gradient(p: [f64; 4]) -> (f64, [f64; 4], f64) {
    let margin = Cell::new(f64::INFINITY);
    let mut value = 0.0;
    let mut gradient = [0.0; 4];
    for (i, slot) in gradient.iter_mut().enumerate() {
        let x: Vec<Dual64> = (0..4)
            .map(|j| Dual64::new(p[j], if i == j { 1.0 } else { 0.0 }))
            .collect();
        let out = long_function_dual(x[0], x[1], x[2], x[3], &margin);
        value = out.re;
        *slot = out.eps;
    }
    (value, gradient, margin.get())
}

/// The fourth-order central difference along coordinate `i` at `p`.
fn finite_difference(p: [f64; 4], i: usize) -> f64 {
    let h = 1.0 / 8192.0;
    let at = |t: f64| {
        let mut q = p;
        q[i] += t;
        long_function(q[0], q[1], q[2], q[3])
    };
    (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h)
}

/// Checked at the first points of the sequence clear of every kink: the function has
/// several, and a stencil must not cross one.
#[test]
fn gradient_matches_finite_differences() {
    let clear: Vec<[f64; 4]> = sequence()
        .take(500)
        .filter(|p| dual_gradient(*p).2 >= KINK_CLEARANCE)
        .take(12)
        .collect();
    assert_eq!(clear.len(), 12, "too few points clear of kinks");
    for p in clear {
        let g = grad(p);
        let value = long_function(p[0], p[1], p[2], p[3]);
        for (i, g) in g.into_iter().enumerate() {
            let fd = finite_difference(p, i);
            let tolerance = 1e-6 * fd.abs().max(g.abs()) + 1e-9 * (1.0 + value.abs());
            assert!(
                (g - fd).abs() <= tolerance,
                "d/dx{i} at {p:?}: grad {g} vs finite difference {fd}"
            );
        }
    }
}

#[test]
fn gradient_matches_dual_numbers() {
    let mut checked = 0;
    for p in points() {
        let (value, dual, margin) = dual_gradient(p);
        if margin < TIE {
            continue;
        }
        checked += 1;
        let g = grad(p);
        let scale = dual.iter().fold(0.0f64, |m, d| m.max(d.abs()));
        assert!(scale > 1e-6, "the gradient at {p:?} vanishes: {dual:?}");
        for i in 0..4 {
            let tolerance = 1e-10 * dual[i].abs().max(1e-3 * scale) + 1e-13;
            assert!(
                (g[i] - dual[i]).abs() <= tolerance,
                "d/dx{i} at {p:?}: grad {} vs dual {}",
                g[i],
                dual[i]
            );
        }
        let primal = long_function(p[0], p[1], p[2], p[3]);
        assert!(
            (primal - value).abs() <= 1e-12 * (1.0 + primal.abs()),
            "{primal} vs {value}"
        );
    }
    assert!(checked >= 12, "only {checked} points clear of ties");
}

#[test]
fn value_and_grad_and_vjp_agree_with_grad() {
    for p in points() {
        let g = grad(p);
        let (value, with_value) = long_function_value_and_grad(p[0], p[1], p[2], p[3]);
        assert_eq!(value, long_function(p[0], p[1], p[2], p[3]));
        assert_eq!(with_value, long_function_grad(p[0], p[1], p[2], p[3]));
        let (a, b, c, d) = long_function_vjp(p[0], p[1], p[2], p[3], -0.25);
        assert_eq!([a, b, c, d], g.map(|g| -0.25 * g));
        let (a, b, c, d) = long_function_vjp(p[0], p[1], p[2], p[3], 1.7);
        for (got, want) in [a, b, c, d].into_iter().zip(g.map(|g| 1.7 * g)) {
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1e-300),
                "{got} vs {want}"
            );
        }
    }
}
