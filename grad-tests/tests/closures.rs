//! Closures bound to locals and called, or passed to iterator adaptors by name, and reference
//! patterns in closure parameters and `for` loops, as real code writes them (issue 15). Each
//! gradient is checked against central finite differences and against num-dual through a
//! DualNum-generic copy of the function (closures and all), or against a closed form.

// Index loops are how some of the functions under test are written.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_gradient, dual_gradient, xorshift};
use grad::differentiable;
use num_dual::{Dual64, DualNum};
use num_traits::{Float, FromPrimitive};
use std::f64::consts::PI;

/// Checks `analytic` against finite differences of `f` and against dual numbers through
/// `mirror`.
#[track_caller]
fn check(
    f: impl Fn(&[f64]) -> f64,
    mirror: impl Fn(&[Dual64]) -> Dual64,
    x: &[f64],
    analytic: &[f64],
) {
    assert_gradient(&f, x, analytic);
    let dual = dual_gradient(&mirror, x);
    for (i, (a, d)) in analytic.iter().zip(&dual).enumerate() {
        assert!(
            (a - d).abs() <= 1e-12 * d.abs().max(1.0),
            "coordinate {i} at {x:?}: analytic {a} vs dual {d}"
        );
    }
    let seeded: Vec<Dual64> = x.iter().map(|&v| Dual64::from(v)).collect();
    let value = f(x);
    assert!((mirror(&seeded).re - value).abs() <= 1e-12 * value.abs().max(1.0));
}

fn random_point(next: &mut impl FnMut() -> u64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| (next() % 40_000) as f64 / 10_000.0 - 2.0)
        .collect()
}

// ----- closures bound to locals and called -----

/// The Levy function as benchmark suites write it: `w` is a closure called on single
/// coordinates, several times, also inside a loop.
#[differentiable]
fn levy(p: &[f64]) -> f64 {
    let w = |x: f64| 1.0 + (x - 1.0) / 4.0;
    let n = p.len();
    let term1 = (PI * w(p[0])).sin().powi(2);
    let term3 = (w(p[n - 1]) - 1.0).powi(2) * (1.0 + (2.0 * PI * w(p[n - 1])).sin().powi(2));
    let mut sum = 0.0;
    for i in 0..n - 1 {
        let wi = w(p[i]);
        sum += (wi - 1.0).powi(2) * (1.0 + 10.0 * (PI * wi + 1.0).sin().powi(2));
    }
    term1 + sum + term3
}

fn levy_dual<D: DualNum<f64> + Copy>(p: &[D]) -> D {
    let w = |x: D| (x - 1.0) / 4.0 + 1.0;
    let n = p.len();
    let term1 = (w(p[0]) * PI).sin().powi(2);
    let term3 = (w(p[n - 1]) - 1.0).powi(2) * ((w(p[n - 1]) * (2.0 * PI)).sin().powi(2) + 1.0);
    let mut sum = D::from(0.0);
    for i in 0..n - 1 {
        let wi = w(p[i]);
        sum += (wi - 1.0).powi(2) * ((wi * PI + 1.0).sin().powi(2) * 10.0 + 1.0);
    }
    term1 + sum + term3
}

#[test]
fn a_closure_called_on_coordinates_and_in_a_loop() {
    let mut next = xorshift(0x1e57);
    for n in [1, 2, 5] {
        for _ in 0..5 {
            let p = random_point(&mut next, n);
            check(levy, levy_dual, &p, &levy_grad(&p));
        }
    }
    // The minimum is at (1, ..., 1).
    assert!(levy(&[1.0; 4]).abs() < 1e-30);
}

/// `w(p[0]) + w(p[1])`: the gradient has a closed form.
#[differentiable]
fn two_calls(p: [f64; 2]) -> f64 {
    let w = |x: f64| 1.0 + (x - 1.0) / 4.0;
    w(p[0]) * w(p[1])
}

#[test]
fn two_calls_of_one_closure_match_the_closed_form() {
    let p = [0.3, -1.7];
    let g = two_calls_grad(p);
    let w = |x: f64| 1.0 + (x - 1.0) / 4.0;
    assert_eq!(g, [w(p[1]) / 4.0, w(p[0]) / 4.0]);
}

/// Untyped parameters, and a closure that captures a differentiated parameter and a local.
#[differentiable]
fn scaled(k: f64, x: [f64; 3]) -> f64 {
    let offset = x[2] * 0.5;
    let scale = |v| k * v + offset;
    scale(x[0]) * scale(x[1]) + scale(x[2]).sin()
}

fn scaled_dual<D: DualNum<f64> + Copy>(k: D, x: [D; 3]) -> D {
    let offset = x[2] * 0.5;
    let scale = |v| k * v + offset;
    scale(x[0]) * scale(x[1]) + scale(x[2]).sin()
}

#[test]
fn a_closure_capturing_a_differentiated_parameter() {
    let (k, x) = (1.3, [0.4, -0.9, 2.1]);
    let (dk, dx) = scaled_grad(k, x);
    check(
        |p| scaled(p[0], [p[1], p[2], p[3]]),
        |p| scaled_dual(p[0], [p[1], p[2], p[3]]),
        &[k, x[0], x[1], x[2]],
        &[dk, dx[0], dx[1], dx[2]],
    );
}

/// A closure with a block body (locals, a branch) called with different arguments, and one
/// closure calling another.
#[differentiable]
fn robust_fit(a: f64, b: f64, t: [f64; 4]) -> f64 {
    let huber = |r: f64| {
        let m = r.abs();
        if m < 1.0 { 0.5 * r * r } else { m - 0.5 }
    };
    let residual = |i: usize| huber(a * i as f64 + b - t[i]);
    let mut loss = 0.0;
    for i in 0..4 {
        loss += residual(i);
    }
    loss + huber(a) * 0.01
}

fn robust_fit_dual<D: DualNum<f64> + Copy>(a: D, b: D, t: [D; 4]) -> D {
    let huber = |r: D| {
        let m = r.abs();
        if m.re() < 1.0 { r * r * 0.5 } else { m - 0.5 }
    };
    let residual = |i: usize| huber(a * i as f64 + b - t[i]);
    let mut loss = D::from(0.0);
    for i in 0..4 {
        loss += residual(i);
    }
    loss + huber(a) * 0.01
}

#[test]
fn a_closure_with_a_block_body_and_a_closure_calling_it() {
    let mut next = xorshift(0xb10c);
    for _ in 0..10 {
        let p = random_point(&mut next, 6);
        let t = [p[2], p[3], p[4], p[5]];
        let (da, db, dt) = robust_fit_grad(p[0], p[1], t);
        check(
            |q| robust_fit(q[0], q[1], [q[2], q[3], q[4], q[5]]),
            |q| robust_fit_dual(q[0], q[1], [q[2], q[3], q[4], q[5]]),
            &p,
            &[da, db, dt[0], dt[1], dt[2], dt[3]],
        );
    }
}

/// The closure sees its captures as they were where it was defined: `k` shadowed after the
/// definition, and an array that a `move` closure copied, written after it.
#[differentiable]
fn captures_at_definition(x: f64, y: f64) -> f64 {
    let k = x * 2.0;
    let mut a = [y, 1.0];
    let f = |v: f64| k * v;
    let g = move |v: f64| a[0] * v;
    let k = 10.0;
    a[0] = x;
    f(y) + g(x) + k * a[0]
}

/// A `move` closure capturing an array parameter taken by value, written after.
#[differentiable]
fn moved_parameter(mut a: [f64; 2], x: f64) -> f64 {
    let g = move |v: f64| a[0] * v;
    a[0] = x;
    g(x) + a[0] * a[1]
}

#[test]
fn captures_are_the_values_at_the_definition() {
    // a0 x + x a1: the closure keeps a0 as it was passed.
    assert_eq!(moved_parameter_grad([2.0, 3.0], 5.0), ([5.0, 5.0], 5.0));
    assert_eq!(moved_parameter([2.0, 3.0], 5.0), 25.0);
    let (x, y) = (0.7, -1.1);
    let (dx, dy) = captures_at_definition_grad(x, y);
    // 2xy + yx + 10x: d/dx = 2y + y + 10, d/dy = 2x + x.
    assert!((dx - (3.0 * y + 10.0)).abs() < 1e-12, "{dx}");
    assert!((dy - 3.0 * x).abs() < 1e-12, "{dy}");
    assert!((captures_at_definition(x, y) - (3.0 * x * y + 10.0 * x)).abs() < 1e-12);
}

/// A closure called in a loop on the loop's carried value: a nonlinear recurrence, whose
/// reverse sweep reads the values the loop recorded.
#[differentiable]
fn recurrence(x: [f64; 4], a: f64) -> f64 {
    let step = |s: f64, v: f64| s * a + (s * v).sin();
    let mut s = 0.5;
    for i in 0..4 {
        s = step(s, x[i]);
    }
    s
}

fn recurrence_dual<D: DualNum<f64> + Copy>(x: [D; 4], a: D) -> D {
    let step = |s: D, v: D| s * a + (s * v).sin();
    let mut s = D::from(0.5);
    for i in 0..4 {
        s = step(s, x[i]);
    }
    s
}

/// A closure defined in a loop body, capturing the counter and a carried variable, with a
/// loop and a `const` in its own body, called twice.
#[differentiable]
fn defined_in_a_loop(x: [f64; 4], a: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        let f = |v: f64| {
            const C: f64 = 0.5;
            let mut t = 0.0;
            for j in 0..i {
                t += x[j] * v * C;
            }
            t + s * a
        };
        s = f(x[i]).tanh() + f(a);
    }
    s
}

fn defined_in_a_loop_dual<D: DualNum<f64> + Copy>(x: [D; 4], a: D) -> D {
    let mut s = D::from(0.0);
    for i in 0..4 {
        let f = |v: D| {
            const C: f64 = 0.5;
            let mut t = D::from(0.0);
            for j in 0..i {
                t += x[j] * v * C;
            }
            t + s * a
        };
        s = f(x[i]).tanh() + f(a);
    }
    s
}

/// A closure defined in a closure, and closures called in a `while` condition and in the
/// branches of an `if`.
#[differentiable]
fn nested(x: f64, y: f64) -> f64 {
    let outer = |u: f64| {
        let inner = |w: f64| w * u + y;
        inner(u) * inner(x)
    };
    let mut k = 0;
    let mut acc = 0.0;
    while outer(acc) < 10.0 && k < 5 {
        acc += x * x + 0.5;
        k += 1;
    }
    if x > 0.0 { outer(acc) } else { -outer(y) }
}

fn nested_dual<D: DualNum<f64> + Copy>(x: D, y: D) -> D {
    let outer = |u: D| {
        let inner = |w: D| w * u + y;
        inner(u) * inner(x)
    };
    let mut k = 0;
    let mut acc = D::from(0.0);
    while outer(acc).re() < 10.0 && k < 5 {
        acc += x * x + 0.5;
        k += 1;
    }
    if x.re() > 0.0 { outer(acc) } else { -outer(y) }
}

#[test]
fn closures_in_loops_conditions_and_branches() {
    let mut next = xorshift(0x100b);
    for _ in 0..10 {
        let p = random_point(&mut next, 5);
        let (dx, da) = recurrence_grad([p[0], p[1], p[2], p[3]], p[4]);
        check(
            |q| recurrence([q[0], q[1], q[2], q[3]], q[4]),
            |q| recurrence_dual([q[0], q[1], q[2], q[3]], q[4]),
            &p,
            &[dx[0], dx[1], dx[2], dx[3], da],
        );
        let (dx, da) = defined_in_a_loop_grad([p[0], p[1], p[2], p[3]], p[4]);
        check(
            |q| defined_in_a_loop([q[0], q[1], q[2], q[3]], q[4]),
            |q| defined_in_a_loop_dual([q[0], q[1], q[2], q[3]], q[4]),
            &p,
            &[dx[0], dx[1], dx[2], dx[3], da],
        );
        let (dx, dy) = nested_grad(p[0], p[1]);
        check(
            |q| nested(q[0], q[1]),
            |q| nested_dual(q[0], q[1]),
            &p[..2],
            &[dx, dy],
        );
    }
}

/// A closure in a loop whose own local shadows a variable of the function, a `move`
/// closure keeping a scalar it captured before the scalar changed, and a closure by name
/// over an integer range.
#[differentiable]
fn shadows_moves_and_ranges(x: [f64; 3]) -> f64 {
    let t = x[0] * 2.0;
    let mut s = 0.0;
    for i in 0..3 {
        let f = |v: f64| {
            let mut t = v;
            t *= t;
            t
        };
        s += f(x[i]) * t;
    }
    let mut m = x[1];
    let g = move |v: f64| m * v;
    m += 1.0;
    let w = |i: usize| x[i] * (i as f64 + 1.0);
    s + g(x[2]) + m + (0..3).map(w).sum::<f64>()
}

#[test]
fn a_shadowing_local_a_moved_scalar_and_a_range() {
    let x = [0.3, -0.5, 0.8];
    let g = shadows_moves_and_ranges_grad(x);
    // 2 x0 (x0² + x1² + x2²) + x1 x2 + x1 + 1 + x0 + 2 x1 + 3 x2.
    let squares = x[0] * x[0] + x[1] * x[1] + x[2] * x[2];
    let expected = [
        2.0 * squares + 4.0 * x[0] * x[0] + 1.0,
        4.0 * x[0] * x[1] + x[2] + 1.0 + 2.0,
        4.0 * x[0] * x[2] + x[1] + 3.0,
    ];
    for i in 0..3 {
        assert!(
            (g[i] - expected[i]).abs() < 1e-12,
            "{i}: {} vs {}",
            g[i],
            expected[i]
        );
    }
    assert_gradient(|p| shadows_moves_and_ranges([p[0], p[1], p[2]]), &x, &g);
}

/// A closure returning an array, an RK4 integrator as its dual copy in
/// `tests/array_assignment.rs` writes it.
#[differentiable]
fn final_position(x0: f64, k: f64, c: f64) -> f64 {
    let f = |s: [f64; 2]| [s[1], -k * s[0] - c * s[1]];
    let mut state = [x0, 0.0];
    let h = 0.05;
    for _ in 0..40 {
        let k1 = f(state);
        let k2 = f([state[0] + 0.5 * h * k1[0], state[1] + 0.5 * h * k1[1]]);
        let k3 = f([state[0] + 0.5 * h * k2[0], state[1] + 0.5 * h * k2[1]]);
        let k4 = f([state[0] + h * k3[0], state[1] + h * k3[1]]);
        state = [
            state[0] + h / 6.0 * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0]),
            state[1] + h / 6.0 * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1]),
        ];
    }
    state[0]
}

fn final_position_dual<D: DualNum<f64> + Copy>(x0: D, k: D, c: D) -> D {
    let f = |s: [D; 2]| [s[1], -k * s[0] - c * s[1]];
    let mut state = [x0, D::from(0.0)];
    let h = 0.05;
    for _ in 0..40 {
        let k1 = f(state);
        let k2 = f([state[0] + k1[0] * (0.5 * h), state[1] + k1[1] * (0.5 * h)]);
        let k3 = f([state[0] + k2[0] * (0.5 * h), state[1] + k2[1] * (0.5 * h)]);
        let k4 = f([state[0] + k3[0] * h, state[1] + k3[1] * h]);
        state = [
            state[0] + (k1[0] + k2[0] * 2.0 + k3[0] * 2.0 + k4[0]) * (h / 6.0),
            state[1] + (k1[1] + k2[1] * 2.0 + k3[1] * 2.0 + k4[1]) * (h / 6.0),
        ];
    }
    state[0]
}

#[test]
fn a_closure_returning_an_array_in_an_integrator() {
    let (x0, k, c) = (1.0, 4.0, 0.3);
    let (dx0, dk, dc) = final_position_grad(x0, k, c);
    check(
        |p| final_position(p[0], p[1], p[2]),
        |p| final_position_dual(p[0], p[1], p[2]),
        &[x0, k, c],
        &[dx0, dk, dc],
    );
}

/// Generic code over num-traits: the closure's parameter has the type parameter's type and
/// it captures constants made with `T::from_f64`.
#[differentiable]
fn levy_generic<T: Float + FromPrimitive>(p: &[T]) -> T {
    let one = T::one();
    let four = T::from_f64(4.0).unwrap();
    let pi = T::from_f64(PI).unwrap();
    let w = |x: T| one + (x - one) / four;
    let n = p.len();
    let mut sum = (pi * w(p[0])).sin().powi(2);
    for i in 0..n {
        let wi = w(p[i]);
        sum = sum + (wi - one).powi(2) * (one + (pi * wi).sin().powi(2));
    }
    sum
}

fn levy_generic_dual<D: DualNum<f64> + Copy>(p: &[D]) -> D {
    let w = |x: D| (x - 1.0) / 4.0 + 1.0;
    let mut sum = (w(p[0]) * PI).sin().powi(2);
    for &x in p {
        let wi = w(x);
        sum += (wi - 1.0).powi(2) * ((wi * PI).sin().powi(2) + 1.0);
    }
    sum
}

#[test]
fn a_closure_in_generic_code() {
    let p = [0.3, -1.2, 2.5];
    let g = levy_generic_grad(&p);
    check(levy_generic, levy_generic_dual, &p, &g);
    let p32 = p.map(|v| v as f32);
    let g32 = levy_generic_grad(&p32);
    for i in 0..3 {
        assert!(((g32[i] as f64) - g[i]).abs() <= 1e-4 * g[i].abs().max(1.0));
    }
}

/// A closure called immediately, one taking an array pattern, one behind a `&dyn Fn`, and ones whose
/// parameters are references (`w(&x)`), with `|&x|` and `|&(a, b)|` patterns.
#[differentiable]
#[allow(clippy::redundant_closure_call)] // as a user wrote it
fn reference_parameters(x: f64, y: f64) -> f64 {
    let square = |&v: &f64| v * v;
    let product = |&(a, b): &(f64, f64)| a * b;
    let swap = |[a, b]: [f64; 2]| (b, a);
    let cube: &dyn Fn(f64) -> f64 = &|t| t * t * t;
    let (u, v) = swap([x, y]);
    square(&u) + product(&(u, v)) + (|t: f64| t.exp())(v) + cube(x)
}

#[test]
fn reference_patterns_in_closure_parameters() {
    let (x, y) = (0.4, -0.8);
    let (dx, dy) = reference_parameters_grad(x, y);
    // y² + yx + e^x + x³.
    assert!((dx - (y + x.exp() + 3.0 * x * x)).abs() < 1e-12, "{dx}");
    assert!((dy - (2.0 * y + x)).abs() < 1e-12, "{dy}");
}

/// The workaround the error for a closure that assigns what it captures suggests: return
/// the new value and assign it where the closure is called.
#[differentiable]
fn accumulate(x: [f64; 3]) -> f64 {
    let mut s = 0.0;
    let add = |s: f64, v: f64| s + v * v;
    for i in 0..3 {
        s = add(s, x[i]);
    }
    s
}

/// The workaround the error for `return` in a closure suggests: the value as the final
/// expression, with `if .. else ..`.
#[differentiable]
fn clamp_below(x: f64) -> f64 {
    let relu = |v: f64| if v < 0.0 { 0.0 } else { v };
    relu(x) + relu(x - 1.0)
}

/// The workarounds the errors for a closure used as a value, chosen by a branch, assigned
/// or given `&mut` suggest: call each closure where its value is needed.
#[differentiable]
fn called_where_needed(x: f64) -> f64 {
    let square = |v: f64| v * v;
    let cube = |v: f64| v * v * v;
    let values = [square(x), cube(x)];
    let chosen = if x > 0.0 { square(x) } else { cube(x) };
    let bump = |v: f64| v * 2.0;
    let mut y = x;
    y = bump(y);
    values[0] + values[1] + chosen + y
}

/// The workaround the error for a closure passed to a method suggests: the loop the method
/// would have run, written out.
#[differentiable(wrt(x))]
#[allow(clippy::ptr_arg)] // as a user wrote it
fn below(x: f64, limits: &Vec<f64>) -> f64 {
    let under = |l: f64| l < x;
    let mut n = 0;
    for &l in limits.iter() {
        if under(l) {
            n += 1;
        }
    }
    x * n as f64
}

/// The workaround the error for a closure passed to a function suggests: the callee's loop
/// written in the function, calling the closure.
#[differentiable]
fn integral(k: f64) -> f64 {
    let f = |t: f64| (k * t).sin();
    let n = 100;
    let h = 1.0 / n as f64;
    let mut s = 0.0;
    for i in 0..n {
        s += f((i as f64 + 0.5) * h) * h;
    }
    s
}

#[test]
fn the_workarounds_the_closure_errors_suggest() {
    let x = [0.5, -1.5, 2.0];
    assert_eq!(accumulate_grad(x), [1.0, -3.0, 4.0]);
    assert_eq!(clamp_below_grad(0.5), 1.0);
    assert_eq!(clamp_below_grad(1.5), 2.0);
    assert_eq!(clamp_below_grad(-0.5), 0.0);
    // x² + x³ + (x² or x³) + 2x.
    assert_eq!(called_where_needed_grad(2.0), 4.0 + 12.0 + 4.0 + 2.0);
    assert_eq!(called_where_needed_grad(-2.0), -4.0 + 12.0 + 12.0 + 2.0);
    assert_eq!(below_value_and_grad(1.0, &vec![0.5, 2.0, -1.0]), (2.0, 2.0));
    let k = 1.3;
    let dk = integral_grad(k);
    assert_gradient(|p| integral(p[0]), &[k], &[dk]);
}

/// A closure whose parameter is a `mut` array works on its own copy.
#[differentiable]
fn own_copy(x: [f64; 2]) -> f64 {
    let bump = |mut a: [f64; 2]| {
        a[0] *= 3.0;
        a[0] + a[1]
    };
    bump(x) + x[0]
}

#[test]
fn a_mut_array_parameter_is_the_closures_own_copy() {
    assert_eq!(own_copy([1.0, 2.0]), 6.0);
    assert_eq!(own_copy_grad([1.0, 2.0]), [4.0, 1.0]);
}

// ----- closures passed to iterator adaptors by name -----

/// `x.iter().map(w).sum::<f64>()`, `fold` with a closure by name, and `map` on an array.
#[differentiable]
fn adaptors_by_name(x: &[f64], k: f64) -> f64 {
    let w = |v: &f64| 1.0 + (v - 1.0) / 4.0;
    let add = |acc: f64, v: &f64| acc + k * v * v;
    let soft = |v: f64| (1.0 + v.exp()).ln();
    let s: f64 = x.iter().map(&w).sum::<f64>();
    let t = x.iter().fold(0.0, add);
    let u = [x[0], k].map(soft);
    s * t + u[0] + u[1]
}

fn adaptors_by_name_dual<D: DualNum<f64> + Copy>(x: &[D], k: D) -> D {
    let w = |v: &D| (*v - 1.0) / 4.0 + 1.0;
    let add = |acc: D, v: &D| acc + k * *v * *v;
    let soft = |v: D| (v.exp() + 1.0).ln();
    let s = x.iter().map(w).fold(D::from(0.0), |a, b| a + b);
    let t = x.iter().fold(D::from(0.0), add);
    let u = [x[0], k].map(soft);
    s * t + u[0] + u[1]
}

#[test]
fn closures_passed_to_adaptors_by_name() {
    let mut next = xorshift(0xada9);
    for _ in 0..10 {
        let p = random_point(&mut next, 5);
        let (dx, dk) = adaptors_by_name_grad(&p[..4], p[4]);
        let mut g = dx.clone();
        g.push(dk);
        check(
            |q| adaptors_by_name(&q[..4], q[4]),
            |q| adaptors_by_name_dual(&q[..4], q[4]),
            &p,
            &g,
        );
    }
}

/// A closure over a zipped pair, passed by name, with reference patterns `(&a, &b)`.
#[differentiable]
fn squared_error(a: [f64; 3], b: [f64; 3]) -> f64 {
    let diff = |(&x, &t): (&f64, &f64)| (x - t) * (x - t);
    a.iter().zip(b.iter()).map(diff).sum::<f64>()
}

#[test]
fn a_closure_over_pairs_by_name() {
    let (a, b) = ([0.5, 1.5, -2.0], [1.0, 1.0, 1.0]);
    let (da, db) = squared_error_grad(a, b);
    for i in 0..3 {
        assert!((da[i] - 2.0 * (a[i] - b[i])).abs() < 1e-12);
        assert!((db[i] + 2.0 * (a[i] - b[i])).abs() < 1e-12);
    }
}

// ----- reference patterns in closure parameters and `for` loops -----

/// `for (&x, &t) in a.iter().zip(b.iter())`, `for (i, &x) in a.iter().enumerate()`, `for &x
/// in a.iter()`, `for &x in &a` and `zip(&b)` over arrays, and `.map(|(&x, &t)| ..)`,
/// `.map(|&x| ..)`.
#[differentiable]
fn reference_loops(a: [f64; 3], b: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for (&x, &t) in a.iter().zip(b.iter()) {
        s += (x - t) * (x - t);
    }
    for (i, &x) in a.iter().enumerate() {
        s += x * (i as f64 + 1.0);
    }
    for &x in a.iter() {
        s += x.sin();
    }
    for &x in &b {
        s += x * x * x;
    }
    for (x, &t) in a.iter().zip(&b) {
        s += x * t;
    }
    s + a.iter().zip(b.iter()).map(|(&x, &t)| x * t).sum::<f64>()
        + b.iter().map(|&x| x.exp()).sum::<f64>()
}

fn reference_loops_dual<D: DualNum<f64> + Copy>(a: [D; 3], b: [D; 3]) -> D {
    let mut s = D::from(0.0);
    for (&x, &t) in a.iter().zip(b.iter()) {
        s += (x - t) * (x - t);
    }
    for (i, &x) in a.iter().enumerate() {
        s += x * (i as f64 + 1.0);
    }
    for &x in a.iter() {
        s += x.sin();
    }
    for &x in &b {
        s += x * x * x;
    }
    for (x, &t) in a.iter().zip(&b) {
        s += *x * t;
    }
    s + a
        .iter()
        .zip(b.iter())
        .map(|(&x, &t)| x * t)
        .fold(D::from(0.0), |p, q| p + q)
        + b.iter().map(|&x| x.exp()).fold(D::from(0.0), |p, q| p + q)
}

#[test]
fn reference_patterns_in_for_loops_over_arrays() {
    let mut next = xorshift(0x2ef5);
    for _ in 0..10 {
        let p = random_point(&mut next, 6);
        let (da, db) = reference_loops_grad([p[0], p[1], p[2]], [p[3], p[4], p[5]]);
        check(
            |q| reference_loops([q[0], q[1], q[2]], [q[3], q[4], q[5]]),
            |q| reference_loops_dual([q[0], q[1], q[2]], [q[3], q[4], q[5]]),
            &p,
            &[da[0], da[1], da[2], db[0], db[1], db[2]],
        );
    }
}

/// The same patterns over `&[f64]` slices.
#[differentiable]
fn reference_slice_loops(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (&x, &t) in a.iter().zip(b.iter()) {
        s += (x - t) * (x - t);
    }
    for (i, &x) in a.iter().enumerate() {
        s += x * (i as f64 + 1.0);
    }
    for &x in a.iter() {
        s += x.sin();
    }
    for &x in b {
        s += x * x * x;
    }
    s + a.iter().zip(b).map(|(&x, &t)| x * t).sum::<f64>()
}

fn reference_slice_loops_dual<D: DualNum<f64> + Copy>(a: &[D], b: &[D]) -> D {
    let mut s = D::from(0.0);
    for (&x, &t) in a.iter().zip(b.iter()) {
        s += (x - t) * (x - t);
    }
    for (i, &x) in a.iter().enumerate() {
        s += x * (i as f64 + 1.0);
    }
    for &x in a.iter() {
        s += x.sin();
    }
    for &x in b {
        s += x * x * x;
    }
    s + a
        .iter()
        .zip(b)
        .map(|(&x, &t)| x * t)
        .fold(D::from(0.0), |p, q| p + q)
}

#[test]
fn reference_patterns_in_for_loops_over_slices() {
    let mut next = xorshift(0x511c);
    for _ in 0..10 {
        let p = random_point(&mut next, 8);
        let (da, db) = reference_slice_loops_grad(&p[..4], &p[4..]);
        let mut g = da.clone();
        g.extend(db);
        check(
            |q| reference_slice_loops(&q[..4], &q[4..]),
            |q| reference_slice_loops_dual(&q[..4], &q[4..]),
            &p,
            &g,
        );
    }
}

/// `for &(a, b) in pairs.iter()` and `.map(|&(a, b)| ..)` over constant pairs (kept constant
/// with `wrt`: a slice of tuples is data, not a differentiated parameter).
#[differentiable(wrt(x))]
fn over_pairs(x: f64, pairs: &[(f64, f64)]) -> f64 {
    let mut s = 0.0;
    for &(a, b) in pairs.iter() {
        s += a * b * x;
    }
    s + pairs.iter().map(|&(a, b)| a * (b * x).sin()).sum::<f64>()
}

#[test]
fn reference_tuple_patterns_over_constant_pairs() {
    let pairs = [(1.0, 2.0), (3.0, -4.0)];
    let x = 0.6;
    let g = over_pairs_grad(x, &pairs);
    let expected: f64 = pairs
        .iter()
        .map(|&(a, b)| a * b + a * b * (b * x).cos())
        .sum();
    assert!((g - expected).abs() < 1e-12, "{g} vs {expected}");
    assert_gradient(|p| over_pairs(p[0], &pairs), &[x], &[g]);
}
