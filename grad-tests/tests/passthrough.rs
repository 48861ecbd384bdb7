//! Code that does not depend on a differentiated input passes through as written, and runs
//! once (issue 15): calls of plain functions and methods with constant arguments (no `_vjp`
//! needed), num-traits conversions, macros (`assert!`, `println!`, `dbg!`, ...) and `&f64`
//! parameters. Gradients against finite differences, closed forms and dual numbers; how often
//! the constant code runs against how often the function itself runs it.

// Index loops are how the functions under test are written.
#![allow(clippy::needless_range_loop)]

mod common;

use common::assert_gradient;
use grad::differentiable;
use num_dual::{Dual64, DualNum};
use num_traits::{Float, FromPrimitive};
use std::cell::Cell;

thread_local! {
    static CALLS: Cell<usize> = const { Cell::new(0) };
    static NOISE: Cell<u64> = const { Cell::new(0) };
}

fn called() {
    CALLS.with(|c| c.set(c.get() + 1));
}

/// How many times the constant code runs in `f`.
fn calls(f: impl FnOnce()) -> usize {
    CALLS.with(|c| c.set(0));
    f();
    CALLS.with(Cell::get)
}

/// A table lookup: plain Rust, no attribute, no `_vjp`.
fn weight(i: usize) -> f64 {
    called();
    [1.5, 0.5, 2.5, 0.75][i % 4]
}

/// Another value on every call, as a random number generator gives: computing it twice would
/// give the reverse sweep another function than the one that ran.
fn noise() -> f64 {
    called();
    NOISE.with(|n| {
        let k = n.get() + 1;
        n.set(k);
        0.5 + ((k * 7919) % 101) as f64 / 101.0
    })
}

fn reset_noise() {
    NOISE.with(|n| n.set(0));
}

fn basis(i: usize) -> [f64; 3] {
    called();
    [1.0, 0.5 * i as f64, 0.25]
}

fn scale_and_shift(i: usize) -> (f64, f64) {
    called();
    (1.0 + 0.5 * i as f64, -0.25 * i as f64)
}

fn coefficients(n: usize) -> Vec<f64> {
    called();
    (0..n).map(|k| 1.0 + 0.1 * k as f64).collect()
}

pub struct Spring {
    stiffness: f64,
}

impl Spring {
    fn factor(&self, k: i32) -> f64 {
        called();
        self.stiffness * f64::from(k)
    }
}

/// Constant calls at the top, in a loop, in a branch, and in a branch in a loop.
#[differentiable]
fn weighted(x: f64, y: f64, n: usize) -> f64 {
    let w0 = weight(n);
    let mut s = w0 * x * y;
    for i in 0..n {
        let w = weight(i);
        s = (s * w + y).sin();
        if i % 2 == 0 {
            let v = weight(i + 1);
            if v > 1.0 {
                s *= weight(i + 2);
            }
            s += v * x;
        }
    }
    if s > 0.0 {
        s * weight(3)
    } else {
        s - x * weight(2)
    }
}

fn weighted_dual(x: Dual64, y: Dual64, n: usize) -> Dual64 {
    let w = |i: usize| [1.5, 0.5, 2.5, 0.75][i % 4];
    let mut s = x * y * w(n);
    for i in 0..n {
        s = (s * w(i) + y).sin();
        if i % 2 == 0 {
            let v = w(i + 1);
            if v > 1.0 {
                s *= w(i + 2);
            }
            s += x * v;
        }
    }
    if s.re > 0.0 { s * w(3) } else { s - x * w(2) }
}

#[test]
fn calls_with_constant_arguments_need_no_vjp_and_run_once() {
    for (x, y, n) in [(0.3, -0.7, 5), (1.1, 0.4, 4), (-0.6, 0.9, 7)] {
        let (gx, gy) = weighted_grad(x, y, n);
        assert_gradient(|v| weighted(v[0], v[1], n), &[x, y], &[gx, gy]);
        let dx = weighted_dual(Dual64::new(x, 1.0), Dual64::new(y, 0.0), n).eps;
        let dy = weighted_dual(Dual64::new(x, 0.0), Dual64::new(y, 1.0), n).eps;
        assert!((gx - dx).abs() < 1e-12 && (gy - dy).abs() < 1e-12);
        let runs = calls(|| {
            weighted(x, y, n);
        });
        assert_eq!(
            calls(|| {
                let _ = weighted_grad(x, y, n);
            }),
            runs
        );
        assert_eq!(
            calls(|| {
                let _ = weighted_value_and_grad(x, y, n);
            }),
            runs
        );
        assert_eq!(
            calls(|| {
                let _ = weighted_vjp(x, y, n, 2.0);
            }),
            runs
        );
    }
}

/// `noise()` gives another value each call: the gradient is right only if the reverse sweep
/// reads the values the forward sweep drew.
#[differentiable]
fn jittered(x: f64, n: usize) -> f64 {
    let mut s = x;
    for _ in 0..n {
        let e = noise();
        s = (s * e).sin() + x * e;
        if s > 0.5 {
            s *= noise();
        }
    }
    s
}

fn jittered_dual(x: Dual64, n: usize) -> Dual64 {
    let mut s = x;
    for _ in 0..n {
        let e = noise();
        s = (s * e).sin() + x * e;
        if s.re > 0.5 {
            s *= noise();
        }
    }
    s
}

#[test]
fn a_constant_that_changes_on_every_call_is_read_where_it_was_drawn() {
    for x in [0.2, 0.9, -1.3] {
        reset_noise();
        let (value, g) = jittered_value_and_grad(x, 12);
        reset_noise();
        let dual = jittered_dual(Dual64::new(x, 1.0), 12);
        assert_eq!(value, dual.re);
        assert!((g - dual.eps).abs() < 1e-12, "{g} vs {}", dual.eps);
    }
}

/// num-traits conversions of constants, in a generic function.
#[differentiable]
fn polynomial<T: Float + FromPrimitive>(x: T, n: usize) -> T {
    let half = T::from_f64(0.5).unwrap();
    let mut total = T::from_usize(n).unwrap() * half;
    for k in 0..n {
        let c = T::from_usize(k + 1).unwrap();
        total = total * x + c * half;
    }
    total
}

#[test]
fn num_traits_conversions_pass_through() {
    for x in [0.3, -0.8, 1.2] {
        let n = 4;
        let g = polynomial_grad(x, n);
        assert_gradient(|v| polynomial(v[0], n), &[x], &[g]);
        // p(x) = 2 x^4 + 0.5 x^3 + x^2 + 1.5 x + 2
        let closed = 8.0 * x * x * x + 1.5 * x * x + 2.0 * x + 1.5;
        assert!((g - closed).abs() < 1e-12);
        let g32 = polynomial_grad(x as f32, n);
        assert!((f64::from(g32) - closed).abs() < 1e-4);
    }
}

/// A constant slice's length, a method of a constant struct, a `std` constant, integer casts
/// and a `Vec` a constant call returns.
#[differentiable(wrt(x))]
fn spring_energy(x: f64, weights: &[f64], spring: &Spring) -> f64 {
    let n = weights.len();
    let mut e = 0.0;
    for i in 0..n {
        let c = coefficients(i + 1);
        let k = spring.factor(i as i32 + 1);
        e += 0.5 * k * c[i] * weights[i] * (x - i as f64).powi(2);
    }
    e * std::f64::consts::PI / n as f64
}

#[test]
fn lengths_methods_constants_and_casts_pass_through() {
    let weights = [0.5, 1.5, 2.0];
    let spring = Spring { stiffness: 0.8 };
    for x in [0.3, 1.7] {
        let g = spring_energy_grad(x, &weights, &spring);
        assert_gradient(|v| spring_energy(v[0], &weights, &spring), &[x], &[g]);
        let closed: f64 = (0..3)
            .map(|i| {
                let k = 0.8 * (i + 1) as f64;
                let c = 1.0 + 0.1 * i as f64;
                k * c * weights[i] * (x - i as f64)
            })
            .sum::<f64>()
            * std::f64::consts::PI
            / 3.0;
        assert!((g - closed).abs() < 1e-12, "{g} vs {closed}");
        let runs = calls(|| {
            spring_energy(x, &weights, &spring);
        });
        assert_eq!(runs, 6);
        assert_eq!(
            calls(|| {
                let _ = spring_energy_grad(x, &weights, &spring);
            }),
            runs
        );
    }
}

/// Arrays and tuples that constant calls return, used as constants, at the top and in a loop.
#[differentiable]
fn projected(x: f64, y: f64, n: usize) -> f64 {
    let b = basis(n);
    let (a0, c0) = scale_and_shift(n);
    let mut s = a0 * x + c0 + b[1] * y;
    for i in 0..n {
        let v: [f64; 3] = basis(i);
        let t = scale_and_shift(i);
        s = (s * v[1] + t.0 * y).tanh() + t.1 * v[2];
        if i > 1 {
            let u = basis(i + 1);
            s += u[1] * x;
        }
    }
    s * basis(2)[1]
}

#[test]
fn arrays_and_tuples_from_constant_calls_pass_through() {
    for (x, y, n) in [(0.4, -0.3, 4), (-1.0, 0.8, 3)] {
        let (gx, gy) = projected_grad(x, y, n);
        assert_gradient(|v| projected(v[0], v[1], n), &[x, y], &[gx, gy]);
        let runs = calls(|| {
            projected(x, y, n);
        });
        assert_eq!(
            calls(|| {
                let _ = projected_grad(x, y, n);
            }),
            runs
        );
    }
}

macro_rules! count {
    () => {
        called()
    };
}

/// Assertions, prints and `dbg!` as the function writes them, with integers and bools.
#[differentiable]
fn checked(x: f64, y: f64, n: usize, verbose: bool) -> f64 {
    assert!(
        x.is_finite() && y.is_finite(),
        "inputs must be finite: {x}, {y}"
    );
    debug_assert!(n < 1000);
    assert_eq!(n + 1 - 1, n, "n = {}", n);
    assert_ne!(n, usize::MAX);
    count!();
    let mut s = x * y;
    for i in 0..n {
        s = s.sin() * y + x;
        count!();
        if verbose {
            println!("step {i}: s = {s:.3}");
            eprint!("{} ", i);
        }
        if s > 2.0 || i == n {
            eprintln!("large: {s}");
            count!();
        }
    }
    dbg!(s);
    let t = dbg!(s * x, n + 1);
    assert!(t.1 > n);
    t.0 + y
}

#[test]
fn assertions_and_prints_pass_through() {
    for (x, y, n) in [(0.5, 1.5, 3), (1.2, -0.4, 5)] {
        let (gx, gy) = checked_grad(x, y, n, false);
        assert_gradient(|v| checked(v[0], v[1], n, false), &[x, y], &[gx, gy]);
        assert_eq!(checked_grad(x, y, n, true), (gx, gy));
    }
}

#[test]
fn macros_run_once_per_call_of_the_function_and_of_its_companions() {
    let (x, y, n) = (1.2, 1.5, 6);
    let runs = calls(|| {
        checked(x, y, n, false);
    });
    assert!(runs > n + 1, "the branch ran too: {runs}");
    assert_eq!(
        calls(|| {
            let _ = checked_grad(x, y, n, false);
        }),
        runs
    );
    assert_eq!(
        calls(|| {
            let _ = checked_value_and_grad(x, y, n, false);
        }),
        runs
    );
    assert_eq!(
        calls(|| {
            let _ = checked_vjp(x, y, n, false, 1.0);
        }),
        runs
    );
}

#[test]
#[should_panic(expected = "inputs must be finite")]
fn a_failing_assertion_fails_in_the_gradient_too() {
    let _ = checked_grad(f64::NAN, 1.0, 2, false);
}

/// A function with two outputs: `f_jacobian` runs it (and its macros) once per output.
#[differentiable]
fn polar(r: f64, theta: f64) -> (f64, f64) {
    count!();
    (r * theta.cos(), r * theta.sin())
}

#[test]
fn the_jacobian_runs_the_function_once_per_output() {
    assert_eq!(
        calls(|| {
            let _ = polar(1.0, 0.5);
        }),
        1
    );
    assert_eq!(
        calls(|| {
            let _ = polar_vjp(1.0, 0.5, (1.0, 0.0));
        }),
        1
    );
    assert_eq!(
        calls(|| {
            let _ = polar_jacobian(1.0, 0.5);
        }),
        2
    );
}

/// One input, three outputs: `f_jacobian` goes by columns, running the function's forward
/// sweep (and its macros) once per input element.
#[differentiable]
fn powers(t: f64) -> [f64; 3] {
    count!();
    [t, t * t, t * t * t]
}

#[test]
fn the_jacobian_by_columns_runs_the_function_once_per_input_element() {
    let mut jacobian = [0.0; 3];
    assert_eq!(calls(|| jacobian = powers_jacobian(2.0)), 1);
    assert_eq!(jacobian, [1.0, 4.0, 12.0]);
}

#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    Smooth,
    Sharp,
}

/// Macros with a value, on constants: `matches!` and a `vec!` table.
#[differentiable(wrt(x))]
fn shaped(x: f64, n: usize, mode: Mode) -> f64 {
    let table = vec![1.0, 0.5, 0.25, 0.125];
    let mut s = x;
    for i in 0..n {
        let gains = vec![table[i % 4], 2.0];
        s = s * gains[0] + x * gains[1];
        if matches!(mode, Mode::Smooth) && i % 2 == 0 {
            s = s.tanh();
        }
    }
    s
}

#[test]
fn macros_with_constant_values_pass_through() {
    for mode in [Mode::Smooth, Mode::Sharp] {
        for x in [0.2, -0.9] {
            let g = shaped_grad(x, 5, mode);
            assert_gradient(|v| shaped(v[0], 5, mode), &[x], &[g]);
        }
    }
}

/// A helper that takes its float by reference, with a hand-written `_vjp`.
fn cube(x: &f64) -> f64 {
    x * x * x
}

fn cube_vjp(x: &f64, upstream: f64) -> f64 {
    3.0 * x * x * upstream
}

/// Floats by reference: read as the float, passed on as the reference.
#[differentiable]
fn by_reference(x: &f64, y: f64, w: &[f64; 2]) -> f64 {
    assert!(*x > -10.0, "x = {x}");
    let a = *x * y + x.sin() + x * 2.0;
    a * w[0] + cube(x) * w[1]
}

#[differentiable]
fn by_reference_generic<T: grad::Float>(x: &T, y: &T) -> T {
    (*x * *y).exp() + x.powi(2)
}

/// A float by reference left out of `wrt` is a constant.
#[differentiable(wrt(y))]
fn scaled_by_reference(scale: &f64, y: f64) -> f64 {
    println!("scale = {scale}");
    scale * y.exp()
}

#[test]
fn floats_by_reference_are_differentiated() {
    let g: f64 = scaled_by_reference_grad(&2.0, 0.5);
    assert!((g - 2.0 * 0.5f64.exp()).abs() < 1e-12);
    let w = [0.5, -1.5];
    for (x, y) in [(0.4, 1.3), (-1.1, 0.2)] {
        let (gx, gy, gw): (f64, f64, [f64; 2]) = by_reference_grad(&x, y, &w);
        assert_gradient(
            |v| by_reference(&v[0], v[1], &[v[2], v[3]]),
            &[x, y, w[0], w[1]],
            &[gx, gy, gw[0], gw[1]],
        );
        let closed = (y + x.cos() + 2.0) * w[0] + 3.0 * x * x * w[1];
        assert!((gx - closed).abs() < 1e-12);
        let (gx, gy): (f64, f64) = by_reference_generic_grad(&x, &y);
        assert_gradient(|v| by_reference_generic(&v[0], &v[1]), &[x, y], &[gx, gy]);
        let (gx32, _) = by_reference_generic_grad(&(x as f32), &(y as f32));
        assert!((f64::from(gx32) - gx).abs() < 1e-4 * gx.abs().max(1.0));
    }
}

/// A constant call in a loop nested in another loop: right, though the reverse sweep runs the
/// inner loop (and the call) again to record its tape (README, "not supported").
#[differentiable]
fn nested(x: f64, n: usize) -> f64 {
    let mut s = x;
    for i in 0..n {
        for j in 0..n {
            s = (s * weight(i + j)).sin() + x;
            if j > i {
                count!();
            }
        }
    }
    s
}

#[test]
fn a_constant_call_in_a_nested_loop_is_right() {
    for x in [0.3, -0.7] {
        let g = nested_grad(x, 3);
        assert_gradient(|v| nested(v[0], 3), &[x], &[g]);
        // `weight` runs 9 times in `nested`, and again for the inner loops' tapes; the
        // macro runs 3 times in both.
        CALLS.with(|c| c.set(0));
        let _ = nested(x, 3);
        assert_eq!(CALLS.with(Cell::get), 12);
        CALLS.with(|c| c.set(0));
        let _ = nested_grad(x, 3);
        assert_eq!(CALLS.with(Cell::get), 12 + 9);
    }
}

/// A differentiable function that takes its float by reference, called with `&y`.
#[differentiable]
fn bump(x: &f64, k: f64) -> f64 {
    x * x * k
}

#[differentiable]
fn calls_by_reference(y: f64, k: f64) -> f64 {
    bump(&y, k) + bump(&(y * 2.0), 1.0) * y
}

#[test]
fn a_float_passed_by_reference_to_a_differentiable_call() {
    for (y, k) in [(0.7, 1.5), (-1.2, 0.3)] {
        let (gy, gk) = calls_by_reference_grad(y, k);
        assert_gradient(|v| calls_by_reference(v[0], v[1]), &[y, k], &[gy, gk]);
        // y^2 k + 4 y^3
        assert!((gy - (2.0 * y * k + 12.0 * y * y)).abs() < 1e-12);
        assert!((gk - y * y).abs() < 1e-12);
    }
}

/// What the error on `vec![x, 2.0 * x]` asks for (ui `macro_of_a_differentiated_value`): the
/// expression written out.
#[differentiable]
fn written_out(x: f64) -> f64 {
    let v = [x, 2.0 * x];
    v[0] * v[1]
}

#[test]
fn the_macro_error_s_workaround_compiles() {
    assert_eq!(written_out_grad(1.5), 6.0);
}

/// Constant calls in a branch of a loop nested in a loop: the outer loop's reverse runs the
/// inner loop again, which computes its constants again rather than reading its own exports.
#[differentiable]
fn relaxed<T: Float + FromPrimitive>(x: T, rounds: usize) -> T {
    let mut s = x;
    for _ in 0..rounds {
        let mut k = 0;
        while k < 3 && s.cos() > T::from_f64(-2.0).unwrap() {
            k += 1;
            if s > T::zero() {
                s = (s * T::from_f64(0.6).unwrap() + x * T::from_f64(0.3).unwrap()).sin();
            } else {
                s = s * T::from_f64(0.9).unwrap() + T::from_usize(k).unwrap() * x;
            }
        }
    }
    s
}

fn relaxed_dual(x: Dual64, rounds: usize) -> Dual64 {
    let mut s = x;
    for _ in 0..rounds {
        let mut k = 0;
        while k < 3 && s.re.cos() > -2.0 {
            k += 1;
            if s.re > 0.0 {
                s = (s * 0.6 + x * 0.3).sin();
            } else {
                s = s * 0.9 + x * k as f64;
            }
        }
    }
    s
}

#[test]
fn constants_of_a_branch_in_a_nested_loop_are_computed_again_there() {
    for x in [0.4, -0.7, 1.1] {
        let g = relaxed_grad(x, 3);
        let dual = relaxed_dual(Dual64::new(x, 1.0), 3);
        assert!((g - dual.eps).abs() < 1e-12, "{g} vs {}", dual.eps);
        assert_gradient(|v| relaxed(v[0], 3), &[x], &[g]);
        let g32 = relaxed_grad(x as f32, 3);
        assert!((f64::from(g32) - dual.eps).abs() < 1e-3);
    }
}

fn lit<F: Float>(c: f64) -> F {
    F::from(c).unwrap()
}

/// Constants whose float type only the arithmetic around them tells (a product of two
/// conversions, a fold's start, an array of zeros), kept in a branch that the reverse sweep
/// reads: each is spelled with the function's own `T`, which needs no `Default`.
#[differentiable]
fn eased<T: Float + FromPrimitive>(t: T, v: &[T; 3]) -> T {
    let mut total = T::zero();
    for i in 0..3 {
        if t < lit::<T>(0.5) {
            total = total + (lit::<T>(13.0) * lit::<T>(0.25) * t).sin() * v[i];
        } else {
            let spread = v.iter().fold(T::zero(), |r, &p| r + (p * t).cos());
            let mut slots = [T::zero(); 3];
            slots[i] = spread * t;
            total = total + slots[i] * lit::<T>(2.0).powf(t);
        }
    }
    total
}

fn eased_dual(t: Dual64, v: &[Dual64; 3]) -> Dual64 {
    let mut total = Dual64::from_re(0.0);
    for i in 0..3 {
        if t.re < 0.5 {
            total += (t * 13.0 * 0.25).sin() * v[i];
        } else {
            let spread = v
                .iter()
                .fold(Dual64::from_re(0.0), |r, &p| r + (p * t).cos());
            total += spread * t * (t * 2.0_f64.ln()).exp();
        }
    }
    total
}

#[test]
fn constants_typed_by_their_use_need_no_default() {
    let v = [0.3, -0.6, 0.9];
    for t in [0.2, 0.8] {
        let (gt, gv) = eased_grad(t, &v);
        let dual_t = eased_dual(Dual64::new(t, 1.0), &v.map(Dual64::from_re));
        assert!((gt - dual_t.eps).abs() < 1e-12, "{gt} vs {}", dual_t.eps);
        for k in 0..3 {
            let mut vd = v.map(Dual64::from_re);
            vd[k].eps = 1.0;
            let dual_v = eased_dual(Dual64::from_re(t), &vd);
            assert!((gv[k] - dual_v.eps).abs() < 1e-12);
        }
        assert_gradient(
            |p| eased(p[0], &[p[1], p[2], p[3]]),
            &[t, v[0], v[1], v[2]],
            &[gt, gv[0], gv[1], gv[2]],
        );
    }
}

#[differentiable]
fn damped(x0: f64, x1: f64) -> f64 {
    x0 * x1.sin()
}

/// A `&f64` parameter dereferenced into a call that takes a float, directly and through a
/// local, beside one passed on as the reference it is (found by the generator).
#[differentiable]
fn dereferenced(x0: f64, x2: &f64) -> f64 {
    let y = *x2;
    damped(x0, *x2) + damped(y, x0) + cube(x2)
}

#[test]
fn a_reference_parameter_dereferenced_into_a_call() {
    for (x0, x2) in [(1.0, 0.5), (-0.3, 1.7)] {
        let (g0, g2) = dereferenced_grad(x0, &x2);
        // d/dx0 = sin x2 + x2 cos x0; d/dx2 = x0 cos x2 + sin x0 + 3 x2².
        let closed0: f64 = x2.sin() + x2 * x0.cos();
        let closed2: f64 = x0 * x2.cos() + x0.sin() + 3.0 * x2 * x2;
        assert!((g0 - closed0).abs() < 1e-12, "{g0} vs {closed0}");
        assert!((g2 - closed2).abs() < 1e-12, "{g2} vs {closed2}");
        assert_gradient(|v| dereferenced(v[0], &v[1]), &[x0, x2], &[g0, g2]);
    }
}

#[differentiable]
fn weighted_sine(x0: f64, v: [f64; 4], n: usize) -> f64 {
    x0 * v[n % 4].sin()
}

/// `*v` of an array taken by reference, passed to a call that takes the array, directly and
/// through a copy.
#[differentiable]
fn dereferenced_array(x0: f64, v: &[f64; 4], n: usize) -> f64 {
    let w = *v;
    weighted_sine(x0, *v, n) + weighted_sine(x0, w, n + 1) * w[2]
}

#[test]
fn a_dereferenced_array_parameter_passed_on() {
    let v = [0.3, -0.7, 1.1, 0.5];
    let (dx, dv) = dereferenced_array_grad(0.8, &v, 1);
    // f = x sin(v1) + x sin(v2) v2.
    assert!((dx - (v[1].sin() + v[2].sin() * v[2])).abs() < 1e-15);
    assert!((dv[1] - 0.8 * v[1].cos()).abs() < 1e-15);
    assert!((dv[2] - 0.8 * (v[2].cos() * v[2] + v[2].sin())).abs() < 1e-15);
    assert_eq!((dv[0], dv[3]), (0.0, 0.0));
}
