//! Branches, matches, loops and early exits, against finite differences on both sides of every
//! branch and against hand-derived values.

mod common;

use common::assert_gradient;
use grad::differentiable;

#[differentiable]
fn piecewise(x: f64, y: f64) -> f64 {
    if x > 1.0 {
        x * y
    } else if x > -1.0 {
        x.sin() * y * y
    } else {
        -x
    }
}

#[test]
fn if_else_chain_follows_the_branch_taken() {
    for x in [-2.0, -0.5, 0.3, 2.0] {
        let y = 0.7;
        let (dx, dy) = piecewise_grad(x, y);
        assert_gradient(|v| piecewise(v[0], v[1]), &[x, y], &[dx, dy]);
        assert_eq!(piecewise_value_and_grad(x, y).0, piecewise(x, y));
    }
    // The branch not taken divides by zero nowhere, but a NaN there must not leak either.
    assert_eq!(piecewise_grad(-2.0, 0.7), (-1.0, 0.0));
}

#[differentiable]
fn statement_if(x: f64) -> f64 {
    let mut y = x * x;
    if x < 0.0 {
        y = -y;
    }
    y += 1.0;
    y
}

#[test]
fn if_as_statement_assigns_a_variable() {
    assert_eq!(statement_if_grad(3.0), 6.0);
    assert_eq!(statement_if_grad(-3.0), 6.0);
}

#[differentiable]
fn no_nan_from_the_branch_not_taken(x: f64) -> f64 {
    if x > 0.0 { x.sqrt() } else { 0.0 * x }
}

#[test]
fn the_branch_not_taken_never_poisons_the_gradient() {
    // JAX's "double where" problem: sqrt's derivative at -1 is NaN, but that branch did not run.
    assert_eq!(no_nan_from_the_branch_not_taken_grad(-1.0), 0.0);
    assert_eq!(no_nan_from_the_branch_not_taken_grad(4.0), 0.25);
}

#[differentiable]
fn by_match(x: f64, n: i32) -> f64 {
    match n {
        0 => x,
        1 | 2 => x * x,
        3..=5 => x.powi(n),
        k if k < 0 => x.exp(),
        _ => 2.0 * x,
    }
}

#[test]
fn match_arms_each_differentiate() {
    let cases = [
        (0, 1.0),
        (1, 2.0 * 1.5),
        (2, 3.0),
        (4, 4.0 * 1.5f64.powi(3)),
        (-3, 1.5f64.exp()),
        (9, 2.0),
    ];
    for (n, want) in cases {
        let got = by_match_grad(1.5, n);
        assert!((got - want).abs() < 1e-12, "n = {n}: {got} vs {want}");
    }
}

#[differentiable]
fn early_return(x: f64) -> f64 {
    if x < 0.0 {
        return x * x;
    }
    let y = x.exp();
    y * 3.0
}

#[test]
fn early_return_from_a_branch() {
    assert_eq!(early_return_grad(-2.0), -4.0);
    assert!((early_return_grad(0.5) - 3.0 * 0.5f64.exp()).abs() < 1e-12);
}

/// sqrt(a) by 20 Newton steps; differentiating through them gives 1 / (2 sqrt(a)).
#[differentiable]
fn newton_sqrt(a: f64) -> f64 {
    let mut x = a;
    for _ in 0..20 {
        x = 0.5 * (x + a / x);
    }
    x
}

#[test]
fn newton_iterations_differentiate_to_the_derivative_of_sqrt() {
    for a in [0.5, 2.0, 9.0, 100.0] {
        let got = newton_sqrt_grad(a);
        let want = 1.0 / (2.0 * a.sqrt());
        assert!(
            (got - want).abs() < 1e-12 * want.max(1.0),
            "a = {a}: {got} vs {want}"
        );
    }
}

/// A 50-step recurrence with two loop-carried variables.
#[differentiable]
fn recurrence(a: f64, b: f64, x0: f64) -> f64 {
    let mut x = x0;
    let mut v = 0.0;
    for i in 0..50 {
        let t = i as f64 * 0.01;
        let x_next = x + 0.1 * v;
        v = v * a - 0.1 * (x * b + t).sin();
        x = x_next;
    }
    x * x + v
}

#[test]
fn recurrence_with_two_carried_variables() {
    let p = [0.95, 1.3, 0.4];
    let (da, db, dx0) = recurrence_grad(p[0], p[1], p[2]);
    assert_gradient(|v| recurrence(v[0], v[1], v[2]), &p, &[da, db, dx0]);
}

#[differentiable]
fn nested_loops(x: f64, n: usize) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        for j in (0..=i).rev().step_by(2) {
            total += (x * i as f64 - j as f64).tanh();
        }
    }
    total
}

#[test]
fn nested_loops_with_runtime_bounds() {
    let dx = nested_loops_grad(0.3, 6);
    assert_gradient(|v| nested_loops(v[0], 6), &[0.3], &[dx]);
}

#[differentiable]
fn break_and_continue(x: f64, limit: f64) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    while k < 100 {
        k += 1;
        if k % 3 == 0 {
            continue;
        }
        s += (x * k as f64).sin();
        if s > limit {
            break;
        }
    }
    s * x
}

#[test]
fn continue_and_data_dependent_break() {
    for (x, limit) in [(0.1, 2.0), (0.3, 0.5), (0.05, 100.0)] {
        let (dx, dlimit) = break_and_continue_grad(x, limit);
        assert_gradient(|v| break_and_continue(v[0], limit), &[x], &[dx]);
        assert_eq!(dlimit, 0.0);
    }
}

#[differentiable]
fn return_from_loop(x: f64) -> f64 {
    let mut y = x;
    for i in 0..10 {
        y = y * 1.5 + 0.1;
        if y > 5.0 {
            return y * i as f64;
        }
    }
    -y
}

#[test]
fn early_return_from_inside_a_loop() {
    for x in [0.1, 1.0, -3.0] {
        let dx = return_from_loop_grad(x);
        assert_gradient(|v| return_from_loop(v[0]), &[x], &[dx]);
    }
}

#[differentiable]
fn loop_with_value(x: f64) -> f64 {
    let mut y = x;
    let found = loop {
        y = y * y + 0.5;
        if y > 10.0 {
            break y.ln();
        }
    };
    found * x
}

#[test]
fn loop_breaks_with_a_value() {
    for x in [0.5, 1.2, -0.3] {
        let dx = loop_with_value_grad(x);
        assert_gradient(|v| loop_with_value(v[0]), &[x], &[dx]);
    }
}

#[differentiable]
fn labeled(x: f64) -> f64 {
    let mut s = 0.0;
    'outer: for i in 0..8 {
        for j in 0..8 {
            if j > i {
                continue 'outer;
            }
            if i + j > 10 {
                break 'outer;
            }
            s += x.powi((i + j) % 4);
        }
    }
    s
}

#[test]
fn labeled_break_and_continue() {
    let dx = labeled_grad(1.1);
    assert_gradient(|v| labeled(v[0]), &[1.1], &[dx]);
}

/// A 100,000-iteration runtime loop: it works, and reversing it does not overflow the stack.
#[differentiable]
fn long_loop(x: f64, n: usize) -> f64 {
    let mut y = x;
    for i in 0..n {
        y = y + 1e-5 * (y * i as f64 * 1e-5).sin();
    }
    y
}

#[test]
fn a_hundred_thousand_iterations() {
    let dx = long_loop_grad(0.5, 100_000);
    assert_gradient(|v| long_loop(v[0], 100_000), &[0.5], &[dx]);
}

// Regression: a `return` in a loop after a nested loop ended read the nested loop's own copy
// of the "returned" flag outside its scope, and the expansion did not compile (E0425).
#[differentiable]
fn return_after_nested_loop(x: f64, y: f64) -> f64 {
    let mut s = x;
    for _ in 0..2 {
        for j in 0..3 {
            let c = j as f64;
            s = s * c + 0.5 * s;
        }
        if y > 1.0 {
            return s;
        }
    }
    s
}

#[test]
fn return_after_a_nested_loop_in_the_same_loop() {
    // s is multiplied by 0.5 * 1.5 * 2.5 = 1.875 per outer iteration: one before the return
    // when y > 1, two otherwise.
    assert_eq!(return_after_nested_loop_grad(1.5, 2.0), (1.875, 0.0));
    assert_eq!(
        return_after_nested_loop_grad(1.5, 0.0),
        (1.875 * 1.875, 0.0)
    );
    assert_eq!(return_after_nested_loop(1.5, 2.0), 1.5 * 1.875);
}

// Regression: a range pattern from 0 on an unsigned scrutinee lowered to `k >= 0 && ..`,
// which warned (`unused_comparisons`) in the generated code under `#![deny(warnings)]`.
#[deny(warnings)]
mod range_from_zero {
    use grad::differentiable;

    #[differentiable]
    pub fn by_range(x: f64, k: usize) -> f64 {
        match k {
            0..=2 => x * x,
            3..6 => x.sin(),
            _ => x,
        }
    }
}

#[test]
fn match_on_a_range_from_zero() {
    use range_from_zero::{by_range, by_range_grad};
    for x in [-1.3, 0.4, 2.0] {
        assert_eq!(by_range_grad(x, 0), 2.0 * x);
        assert_eq!(by_range_grad(x, 2), 2.0 * x);
        assert_eq!(by_range_grad(x, 3), x.cos());
        assert_eq!(by_range_grad(x, 6), 1.0);
        assert_gradient(|v| by_range(v[0], 4), &[x], &[by_range_grad(x, 4)]);
    }
}

// Regression: a loop over constant bounds whose tape records more than twelve values (here the
// results of thirteen expensive rules) failed to compile: its fixed-size tape starts as
// `[Default::default(); N]`, and std implements `Default` for tuples of up to twelve.
#[differentiable]
fn many_recorded_values(x: f64) -> f64 {
    let mut s: f64 = 0.5;
    for _ in 0..2 {
        s = s * 0.5
            + (s.sin()
                + s.exp()
                + s.sqrt()
                + s.tanh()
                + s.cbrt()
                + s.exp2()
                + s.sinh()
                + s.cosh()
                + s.atan()
                + s.asinh()
                + s.exp_m1()
                + s.ln()
                + s.cos())
                * x;
    }
    s
}

#[test]
fn a_tape_records_more_than_twelve_values() {
    for x in [0.05, 0.1, 0.2] {
        let slope = many_recorded_values_grad(x);
        assert_gradient(|v| many_recorded_values(v[0]), &[x], &[slope]);
    }
}

// ----- Running maxima and minima ---------------------------------------------------------------
//
// A loop that keeps a running maximum records where it last took a new value and replays
// only the iterations from there, instead of taping every iteration. The reference below is
// the plain taped reverse, written out here with the README's conventions (a tie splits the
// gradient evenly, a NaN operand gives all of it to the other, values passed over get none),
// on inputs full of ties and NaNs.

#[differentiable]
#[allow(clippy::needless_range_loop)] // the index loop is the construct under test
fn running_max(z: [f64; 6]) -> f64 {
    let mut m = z[0];
    for i in 1..6 {
        m = m.max(z[i]);
    }
    m
}

#[differentiable]
#[allow(clippy::needless_range_loop)] // the index loop is the construct under test
fn running_min_new_value_first(z: [f64; 6]) -> f64 {
    let mut m = z[0];
    for i in 1..6 {
        m = z[i].min(m);
    }
    m
}

/// A computed candidate, a start the gradient never reaches, a runtime bound, and a factor
/// after the loop.
#[differentiable]
#[allow(clippy::needless_range_loop)] // the index loop is the construct under test
fn largest_square(z: [f64; 6], s: f64, n: usize) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..n {
        m = f64::max(m, (z[i] - s) * (z[i] - s));
    }
    m * s
}

/// The gradient of a running maximum (`larger`) or minimum of `z` with respect to `z`, by
/// recording the running value and walking back to the last value that took over.
fn taped_running_gradient(z: &[f64; 6], larger: bool) -> [f64; 6] {
    let mut before = [0.0; 6];
    let mut m = z[0];
    for i in 1..6 {
        before[i] = m;
        m = if larger { m.max(z[i]) } else { m.min(z[i]) };
    }
    let mut gradient = [0.0; 6];
    let mut carried = 1.0;
    for i in (1..6).rev() {
        let (old, new) = (before[i], z[i]);
        let old_wins = if larger { old > new } else { old < new };
        let new_wins = if larger { new > old } else { new < old };
        let (to_old, to_new) = if old_wins || (new.is_nan() && !old.is_nan()) {
            (carried, 0.0)
        } else if new_wins || (old.is_nan() && !new.is_nan()) {
            gradient[i] += carried;
            return gradient;
        } else if old == new {
            (carried / 2.0, carried / 2.0)
        } else {
            (f64::NAN, f64::NAN)
        };
        gradient[i] += to_new;
        carried = to_old;
    }
    gradient[0] += carried;
    gradient
}

/// Checks the gradient `(∂/∂z, ∂/∂s)` of `f(z, s)` against finite differences at (z, s).
#[track_caller]
fn assert_array_and_scalar_gradient<const N: usize>(
    f: impl Fn([f64; N], f64) -> f64,
    (dz, ds): ([f64; N], f64),
    z: [f64; N],
    s: f64,
) {
    let mut analytic = dz.to_vec();
    analytic.push(ds);
    let mut at = z.to_vec();
    at.push(s);
    assert_gradient(|v| f(std::array::from_fn(|i| v[i]), v[N]), &at, &analytic);
}

fn same_floats(a: &[f64], b: &[f64]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

#[test]
fn a_running_maximum_splits_its_gradient_at_ties() {
    // Hand-derived: the 3 at index 1 takes over; the ties at 2 and 4 each halve what passes.
    assert_eq!(
        running_max_grad([1.0, 3.0, 3.0, 2.0, 3.0, 0.0]),
        [0.0, 0.25, 0.25, 0.0, 0.5, 0.0]
    );
    // The start is never beaten: it gets everything.
    assert_eq!(
        running_max_grad([5.0, 1.0, 2.0, 3.0, 4.0, 0.0]),
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    );
    // All equal: every step halves.
    assert_eq!(
        running_max_grad([2.0; 6]),
        [1.0 / 32.0, 1.0 / 32.0, 1.0 / 16.0, 0.125, 0.25, 0.5]
    );
    // The last value takes over.
    assert_eq!(
        running_min_new_value_first_grad([5.0, 4.0, 3.0, 2.0, 1.0, 0.0]),
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    );
    // A NaN start is replaced by the first number, which keeps the gradient.
    assert_eq!(
        running_max_grad([f64::NAN, 1.0, 0.0, 0.5, 0.0, -1.0]),
        [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    );
}

#[test]
fn running_maxima_and_minima_match_the_taped_reverse() {
    // Few distinct values, so that ties are common, and now and then a NaN.
    let mut next = common::xorshift(0x2545_f491_4f6c_dd1d);
    for _ in 0..2000 {
        let z: [f64; 6] = std::array::from_fn(|_| match next() % 9 {
            0 => f64::NAN,
            k => (k % 4) as f64 - 1.0,
        });
        let want_max = taped_running_gradient(&z, true);
        let want_min = taped_running_gradient(&z, false);
        let got_max = running_max_grad(z);
        let got_min = running_min_new_value_first_grad(z);
        assert!(
            same_floats(&got_max, &want_max),
            "max of {z:?}: {got_max:?}"
        );
        assert!(
            same_floats(&got_min, &want_min),
            "min of {z:?}: {got_min:?}"
        );
    }
}

#[test]
fn a_running_maximum_of_computed_values_matches_finite_differences() {
    let z = [0.3, -1.2, 2.1, 0.8, -2.5, 1.7];
    for (s, n) in [(0.4, 6), (0.4, 3), (-0.7, 6), (1.1, 1)] {
        assert_array_and_scalar_gradient(
            |z, s| largest_square(z, s, n),
            largest_square_grad(z, s, n),
            z,
            s,
        );
    }
    // No iteration: the start, -∞, is inactive, so no gradient reaches z.
    assert_eq!(largest_square_grad(z, 0.4, 0).0, [0.0; 6]);
}

/// A running maximum per row, inside a loop that is itself reversed.
#[differentiable]
#[allow(clippy::needless_range_loop)] // the index loop is the construct under test
fn sum_of_row_maxima_squared(w: [[f64; 4]; 3], x: [f64; 4]) -> f64 {
    let mut total = 0.0;
    for r in 0..3 {
        let mut m = w[r][0] * x[0];
        for c in 1..=3 {
            m = m.max(w[r][c] * x[c]);
        }
        total += m * m;
    }
    total
}

/// The candidate comes out of a branch; the loop runs over an inclusive runtime range.
#[differentiable]
#[allow(clippy::needless_range_loop)] // the index loop is the construct under test
fn largest_folded(z: [f64; 5], s: f64, last: usize) -> f64 {
    let mut m = f64::INFINITY;
    for i in 0..=last {
        let c = if z[i] > 0.0 { z[i].sin() } else { -z[i] * s };
        m = m.min(c);
    }
    m
}

/// Two running extremes in one loop, and a running maximum that is read inside the loop: both
/// are reversed with a tape.
#[differentiable]
#[allow(clippy::needless_range_loop)] // the index loop is the construct under test
fn extremes(z: [f64; 5]) -> (f64, f64, f64) {
    let (mut hi, mut lo, mut area) = (z[0], z[0], 0.0);
    for i in 1..5 {
        hi = hi.max(z[i]);
        lo = lo.min(z[i]);
        area += hi;
    }
    (hi, lo, area)
}

#[differentiable]
#[allow(clippy::needless_range_loop)] // the index loop is the construct under test
fn running_max_f32(z: [f32; 4], s: f32) -> f32 {
    let mut m = z[0] * s;
    for i in 1..4 {
        m = f32::max(z[i] * s, m);
    }
    m
}

#[test]
fn running_maxima_in_nested_loops_branches_and_f32_match_finite_differences() {
    let w = [
        [0.3, -1.2, 2.1, 0.8],
        [-0.4, 0.9, -2.2, 1.5],
        [1.1, 0.2, 0.7, -0.6],
    ];
    let x = [0.9, -0.8, 0.6, 1.3];
    let (dw, dx) = sum_of_row_maxima_squared_grad(w, x);
    let mut analytic: Vec<f64> = dw.iter().flatten().copied().collect();
    analytic.extend(dx);
    let f = |v: &[f64]| {
        let w = std::array::from_fn(|r| std::array::from_fn(|c| v[4 * r + c]));
        sum_of_row_maxima_squared(w, std::array::from_fn(|c| v[12 + c]))
    };
    let mut at: Vec<f64> = w.iter().flatten().copied().collect();
    at.extend(x);
    assert_gradient(f, &at, &analytic);

    let z = [0.4, -1.3, 2.2, -0.2, 0.9];
    for (s, last) in [(0.5, 4), (2.0, 4), (0.5, 2), (-1.0, 0)] {
        assert_array_and_scalar_gradient(
            |z, s| largest_folded(z, s, last),
            largest_folded_grad(z, s, last),
            z,
            s,
        );
    }

    // By hand: the maximum of z·s is 0.9 · 1.5 at index 2.
    let (dz, ds) = running_max_f32_grad([0.2, -0.5, 0.9, 0.4], 1.5);
    assert_eq!(dz, [0.0, 0.0, 1.5, 0.0]);
    assert_eq!(ds, 0.9);
}

#[test]
fn running_extremes_read_in_the_loop_keep_a_tape() {
    let z = [0.5, 1.5, -0.5, 2.5, 1.0];
    // hi runs 0.5, 1.5, 1.5, 2.5, 2.5 (after each of the four iterations: 1.5, 1.5, 2.5, 2.5),
    // lo ends at -0.5, area = 1.5 + 1.5 + 2.5 + 2.5.
    let rows = extremes_jacobian(z);
    assert_eq!(rows[0], [0.0, 0.0, 0.0, 1.0, 0.0]);
    assert_eq!(rows[1], [0.0, 0.0, 1.0, 0.0, 0.0]);
    assert_eq!(rows[2], [0.0, 2.0, 0.0, 2.0, 0.0]);
}
