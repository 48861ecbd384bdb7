//! Whole-array assignment (`state = next;`), as integrators and recurrences are written
//! (issue 15), against finite differences and dual numbers.

mod common;

use common::assert_gradient;
use grad::differentiable;

#[path = "shared/rk4.rs"]
mod rk4;

use rk4::*;

/// Integrates for a fixed time and returns the final position: `state = rk4_step(..)`
/// inside a loop, with no annotation on the call's array result.
#[differentiable]
fn final_position(x0: f64, k: f64, c: f64) -> f64 {
    let mut state = [x0, 0.0];
    let h = 0.05;
    for _ in 0..40 {
        state = rk4_step(state, k, c, h);
    }
    state[0]
}

/// A recurrence that replaces its whole state each step, reading the old state in the new.
#[differentiable]
fn swapping_recurrence(x: [f64; 2]) -> f64 {
    let mut h = [0.0; 2];
    for _ in 0..3 {
        let n = [h[1] + x[0], h[0] * x[1] + 0.5];
        h = n;
    }
    h = [h[1], h[0]];
    h[0] * 2.0 + h[1]
}

/// Assignment in branches and of a matrix.
#[differentiable]
fn branchy(m: [[f64; 2]; 2], t: f64) -> f64 {
    let mut a = m;
    if t > 0.0 {
        a = [[m[1][1] * t, m[0][1]], [m[1][0], m[0][0] * t]];
    } else {
        a[0][0] = t;
    }
    a[0][0] * a[1][1] - a[0][1] * a[1][0]
}

#[test]
fn an_rk4_integrator_assigns_its_state_each_step() {
    let (x0, k, c) = (1.0, 4.0, 0.3);
    let (dx0, dk, dc) = final_position_grad(x0, k, c);
    assert_gradient(
        |p| final_position(p[0], p[1], p[2]),
        &[x0, k, c],
        &[dx0, dk, dc],
    );
    let dual = final_position_num_dual(x0, k, c, 40, 0.05);
    for (i, g) in [dx0, dk, dc].into_iter().enumerate() {
        let expected = dual[i];
        assert!(
            (g - expected).abs() <= 1e-12 * expected.abs().max(1.0),
            "{i}: {g} vs {expected}"
        );
    }
}

#[test]
fn a_state_replaced_by_a_new_array_and_swapped() {
    let x = [0.7, -1.3];
    let g = swapping_recurrence_grad(x);
    assert_gradient(|p| swapping_recurrence([p[0], p[1]]), &x, &g);
}

#[test]
fn assignment_in_branches_and_of_a_matrix() {
    let m = [[0.5, -0.2], [1.1, 0.8]];
    for t in [0.6, -0.4] {
        let (dm, dt) = branchy_grad(m, t);
        assert_gradient(
            |p| branchy([[p[0], p[1]], [p[2], p[3]]], p[4]),
            &[m[0][0], m[0][1], m[1][0], m[1][1], t],
            &[dm[0][0], dm[0][1], dm[1][0], dm[1][1], dt],
        );
    }
}
