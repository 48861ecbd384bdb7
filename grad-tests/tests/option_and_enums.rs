//! `Option` locals, `if let`, `match` on enums with data and `let ... else`, where the value
//! matched is a constant (issue 15), against finite differences and closed forms.

// Index loops are how the functions under test are written.
#![allow(clippy::needless_range_loop)]

mod common;

use common::assert_gradient;
use grad::differentiable;

/// A table that may not have an entry: plain Rust, no attribute, no `_vjp`.
fn lookup(i: usize) -> Option<f64> {
    [Some(0.5), None, Some(2.0)].get(i).copied().flatten()
}

#[derive(Clone, Copy, Debug)]
enum Constraint {
    Lower(usize, f64),
    Upper(usize, f64),
    Free,
}

/// `if let` on a call's `Option`, and `match` on an `Option` with a guard.
#[differentiable]
fn weighted(x: [f64; 3]) -> f64 {
    let mut total = 0.0;
    for i in 0..3 {
        if let Some(w) = lookup(i) {
            total += w * x[i] * x[i];
        } else {
            total += x[i];
        }
    }
    let bonus = match lookup(2) {
        Some(w) if w > 1.0 => w * x[0],
        Some(_) => x[1],
        None => 0.0,
    };
    total + bonus
}

/// Penalties from constraints given as an enum with data: a constant input.
#[differentiable(wrt(x))]
fn penalty(x: [f64; 3], constraints: [Constraint; 3]) -> f64 {
    let mut p = 0.0;
    for k in 0..3 {
        let term = match constraints[k] {
            Constraint::Lower(i, lo) => {
                let gap = lo - x[i];
                if gap > 0.0 { gap * gap } else { 0.0 }
            }
            Constraint::Upper(i, hi) => {
                let gap = x[i] - hi;
                if gap > 0.0 { gap * gap } else { 0.0 }
            }
            Constraint::Free => 0.0,
        };
        p += term;
    }
    p
}

/// `let ... else` with an early return.
#[differentiable]
fn scaled_or_zero(x: f64, i: usize) -> f64 {
    let Some(w) = lookup(i) else {
        return x.sin();
    };
    w * x * x
}

#[test]
fn if_let_and_match_on_an_option() {
    let x = [0.3, -1.2, 0.8];
    let g = weighted_grad(x);
    // Closed form: entries 0 and 2 weighted (0.5, 2.0), entry 1 linear; bonus 2.0 * x[0].
    let expected = [2.0 * 0.5 * x[0] + 2.0, 1.0, 2.0 * 2.0 * x[2]];
    for i in 0..3 {
        assert!(
            (g[i] - expected[i]).abs() < 1e-15,
            "{i}: {} vs {}",
            g[i],
            expected[i]
        );
    }
    assert_gradient(|p| weighted([p[0], p[1], p[2]]), &x, &g);
}

#[test]
fn match_on_an_enum_with_data() {
    let constraints = [
        Constraint::Lower(0, 1.0),
        Constraint::Upper(2, -0.5),
        Constraint::Free,
    ];
    let x = [0.4, 3.0, 0.1];
    let g = penalty_grad(x, constraints);
    // ∂/∂x0 = -2(1.0 - 0.4), ∂/∂x2 = 2(0.1 + 0.5), x1 free.
    assert_eq!(g, [-2.0 * (1.0 - 0.4), 0.0, 2.0 * (0.1 + 0.5)]);
    assert_gradient(|p| penalty([p[0], p[1], p[2]], constraints), &x, &g);
}

#[test]
fn let_else_returns_early() {
    assert_eq!(scaled_or_zero_grad(0.7, 0), 0.5 * 2.0 * 0.7);
    assert_eq!(scaled_or_zero_grad(0.7, 1), 0.7f64.cos());
    assert_eq!(scaled_or_zero_grad(0.7, 2), 2.0 * 2.0 * 0.7);
}

/// An `Option` parameter of a non-float: a constant.
#[differentiable]
fn optional_scale(x: f64, n: Option<usize>) -> f64 {
    if let Some(k) = n { x * k as f64 } else { x }
}

#[differentiable]
fn optional_scale_else(x: f64, n: Option<usize>) -> f64 {
    let Some(k) = n else { return x };
    x * k as f64 * x
}

/// A tuple pattern on a constant pair.
#[differentiable]
fn by_pair(x: f64, pair: (i32, i32)) -> f64 {
    match pair {
        (0, _) => x,
        (a, b) if a > b => x * x * a as f64,
        _ => x * x * x,
    }
}

#[test]
fn option_parameters_and_tuple_patterns() {
    assert_eq!(optional_scale_grad(0.4, Some(3)), 3.0);
    assert_eq!(optional_scale_grad(0.4, None), 1.0);
    assert_eq!(optional_scale_else_grad(0.4, Some(3)), 3.0 * 2.0 * 0.4);
    assert_eq!(optional_scale_else_grad(0.4, None), 1.0);
    assert_eq!(by_pair_grad(0.5, (0, 4)), 1.0);
    assert_eq!(by_pair_grad(0.5, (3, 1)), 3.0 * 2.0 * 0.5);
    assert_eq!(by_pair_grad(0.5, (1, 3)), 3.0 * 0.5 * 0.5);
}

#[derive(Clone, Copy)]
struct Spring {
    stiffness: f64,
    rest: f64,
}

/// An irrefutable pattern of data on a constant: a struct destructured.
#[differentiable(wrt(x))]
fn spring_energy(x: f64, spring: Spring) -> f64 {
    let Spring { stiffness, rest } = spring;
    0.5 * stiffness * (x - rest) * (x - rest)
}

#[test]
fn a_constant_struct_destructured() {
    let spring = Spring {
        stiffness: 3.0,
        rest: 0.5,
    };
    assert_eq!(spring_energy_grad(1.5, spring), 3.0 * (1.5 - 0.5));
}
