//! Names the macro cannot resolve on its own (a `match` arm that names a `const` item or a
//! binding), loops over a slice's run-time length whose reverse sweep records values, and
//! const generics used only in the body. Each was a silent wrong result or an error inside
//! generated code; each is checked here against finite differences and dual numbers.

#![allow(clippy::needless_range_loop)] // index loops are what these tests differentiate

mod common;

use common::assert_gradient;
use grad::differentiable;
use num_dual::{Dual64, DualNum};

const A: u8 = 0;
const B: u8 = 1;

/// The arms name `const` items: only rustc knows that `A` is not a binding.
#[differentiable]
fn by_mode(x: f64, k: u8) -> f64 {
    match k {
        A => x * 2.0,
        B => x * 3.0,
        _ => x * 5.0,
    }
}

#[test]
fn match_arms_naming_consts_select_the_same_arm_as_the_function() {
    for (k, slope) in [(0u8, 2.0), (1, 3.0), (2, 5.0), (7, 5.0)] {
        let (value, gradient) = by_mode_value_and_grad(1.5, k);
        assert_eq!(value, by_mode(1.5, k), "k = {k}");
        assert_eq!(gradient, slope, "k = {k}");
    }
}

mod modes {
    pub const SQUARE: usize = 0;
    pub const CUBE: usize = 1;
}
use modes::{CUBE, SQUARE};

const LIMIT: usize = 4;

/// Consts in or-patterns and with guards, a path const, a binding with a guard, and a
/// binding in the last arm that the body reads.
#[differentiable]
fn mixed_arms(x: f64, k: usize) -> f64 {
    match k {
        SQUARE | LIMIT => x * x,
        CUBE if x > 0.0 => x * x * x,
        modes::CUBE => -x,
        small if small < 3 => x.sin() * small as f64,
        other => x * other as f64,
    }
}

#[test]
fn consts_or_patterns_guards_and_bindings_in_one_match() {
    for k in 0..7 {
        for x in [-1.3, 0.7, 2.1] {
            let (value, gradient) = mixed_arms_value_and_grad(x, k);
            assert_eq!(value, mixed_arms(x, k), "k = {k}, x = {x}");
            assert_gradient(|p| mixed_arms(p[0], k), &[x], &[gradient]);
        }
    }
}

/// A recurrence over a slice: the reverse sweep reads `y` of every step, so it is recorded.
#[differentiable]
fn recur(a: f64, xs: &[f64]) -> f64 {
    let mut y = 0.0;
    for &x in xs {
        y = a * y + x;
    }
    y
}

#[differentiable]
fn recur_indexed(a: f64, xs: &[f64]) -> f64 {
    let mut y = 0.0;
    for i in 0..xs.len() {
        y = (a * y).sin() + xs[i];
    }
    y
}

#[differentiable]
fn recur_bound_by_local(a: f64, xs: &[f64]) -> f64 {
    let n = xs.len();
    let mut y = 1.0;
    for i in 0..n {
        y *= (a + xs[i]).tanh();
    }
    y
}

#[differentiable]
fn slice_maximum(xs: &[f64]) -> f64 {
    xs.iter().fold(f64::NEG_INFINITY, |m, &z| m.max(z))
}

#[differentiable]
fn slice_map_sum(a: f64, xs: &[f64]) -> f64 {
    xs.iter().map(|&x| x * x - a * x.cos()).sum::<f64>()
}

fn dual_recur(a: Dual64, xs: &[Dual64], indexed: bool) -> Dual64 {
    let mut y = Dual64::from(0.0);
    for &x in xs {
        y = if indexed {
            (a * y).sin() + x
        } else {
            a * y + x
        };
    }
    y
}

/// The gradient of a `f(a, xs)` by dual numbers, one coordinate at a time.
fn dual_gradient(f: impl Fn(Dual64, &[Dual64]) -> Dual64, a: f64, xs: &[f64]) -> Vec<f64> {
    (0..=xs.len())
        .map(|seed| {
            let da = Dual64::new(a, if seed == 0 { 1.0 } else { 0.0 });
            let dxs: Vec<Dual64> = xs
                .iter()
                .enumerate()
                .map(|(i, &x)| Dual64::new(x, if seed == i + 1 { 1.0 } else { 0.0 }))
                .collect();
            f(da, &dxs).eps
        })
        .collect()
}

fn assert_close(analytic: &[f64], expected: &[f64]) {
    assert_eq!(analytic.len(), expected.len());
    for (i, (a, e)) in analytic.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-12 * e.abs().max(1.0),
            "coordinate {i}: {a} vs {e}"
        );
    }
}

fn joined(a: f64, xs: &[f64]) -> Vec<f64> {
    let mut all = vec![a];
    all.extend_from_slice(xs);
    all
}

#[test]
fn loops_over_a_slice_length_record_on_a_heap_tape() {
    let xs = [0.3, -1.2, 0.8, 2.5, -0.4, 1.1, 0.05];
    for n in [0, 1, 3, xs.len()] {
        let xs = &xs[..n];
        let a = 0.7;

        let (value, (da, dxs)) = recur_value_and_grad(a, xs);
        assert_eq!(value, recur(a, xs));
        let expected = dual_gradient(|a, xs| dual_recur(a, xs, false), a, xs);
        assert_close(&joined(da, &dxs), &expected);
        assert_gradient(|p| recur(p[0], &p[1..]), &joined(a, xs), &joined(da, &dxs));

        let (value, (da, dxs)) = recur_indexed_value_and_grad(a, xs);
        assert_eq!(value, recur_indexed(a, xs));
        let expected = dual_gradient(|a, xs| dual_recur(a, xs, true), a, xs);
        assert_close(&joined(da, &dxs), &expected);

        let (da, dxs) = recur_bound_by_local_grad(a, xs);
        let expected = dual_gradient(
            |a, xs| {
                xs.iter()
                    .fold(Dual64::from(1.0), |y, &x| y * (a + x).tanh())
            },
            a,
            xs,
        );
        assert_close(&joined(da, &dxs), &expected);

        let (da, dxs) = slice_map_sum_grad(a, xs);
        let expected = dual_gradient(|a, xs| xs.iter().map(|&x| x * x - a * x.cos()).sum(), a, xs);
        assert_close(&joined(da, &dxs), &expected);
    }
}

#[test]
fn a_running_maximum_over_a_slice_goes_to_the_maximum() {
    let xs = [0.3, -1.2, 2.5, 0.8, -0.4];
    let (value, gradient) = slice_maximum_value_and_grad(&xs);
    assert_eq!(value, 2.5);
    assert_eq!(gradient, vec![0.0, 0.0, 1.0, 0.0, 0.0]);
    assert_gradient(slice_maximum, &xs, &gradient);
}

/// `N` appears only in the body: the companions must pass it on explicitly.
#[differentiable]
fn sum_n<const N: usize>(x: f64) -> f64 {
    let mut a = [0.0; N];
    for i in 0..N {
        a[i] = x * (i as f64 + 1.0);
    }
    let mut s = 0.0;
    for v in a {
        s += v * v;
    }
    s
}

#[test]
fn a_const_generic_used_only_in_the_body() {
    // d/dx of x² Σ (i+1)² = 2x Σ (i+1)².
    let (value, gradient) = sum_n_value_and_grad::<3>(0.5);
    assert_eq!(value, sum_n::<3>(0.5));
    assert_eq!(gradient, 2.0 * 0.5 * 14.0);
    assert_gradient(|p| sum_n::<5>(p[0]), &[1.3], &[sum_n_grad::<5>(1.3)]);
    let dual = sum_n_dual::<4>(Dual64::new(0.9, 1.0));
    assert!((sum_n_grad::<4>(0.9) - dual.eps).abs() < 1e-12);
}

fn sum_n_dual<const N: usize>(x: Dual64) -> Dual64 {
    (0..N).map(|i| (x * (i as f64 + 1.0)).powi(2)).sum()
}

/// An enum without `PartialEq`: its unit variants are matched as patterns, not compared.
#[derive(Clone, Copy)]
enum Blend {
    Linear,
    Smooth,
    Sharp,
}

#[differentiable]
fn blend(t: f64, mode: Blend) -> f64 {
    match mode {
        Blend::Linear => t,
        Blend::Smooth => t * t * (3.0 - 2.0 * t),
        Blend::Sharp => t.powi(4),
    }
}

#[test]
fn match_on_unit_enum_variants() {
    for mode in [Blend::Linear, Blend::Smooth, Blend::Sharp] {
        let (value, slope) = blend_value_and_grad(0.3, mode);
        assert_eq!(value, blend(0.3, mode));
        assert_gradient(|p| blend(p[0], mode), &[0.3], &[slope]);
    }
    assert!((blend_grad(0.3, Blend::Smooth) - 6.0 * 0.3 * 0.7).abs() < 1e-15);
}

type Vec3 = [f64; 3];

/// The workaround the alias error suggests: `wrt` keeps `origin` constant, read as written.
#[differentiable(wrt(r))]
fn distance_cost(origin: Vec3, r: f64) -> f64 {
    let d = origin[0] * origin[0] + origin[1] * origin[1] + origin[2] * origin[2];
    (d.sqrt() - r).powi(2)
}

/// The workaround the tuple-slice error suggests: `wrt` keeps the data constant.
#[differentiable(wrt(theta))]
fn reach(theta: f64, target: &[(f64, f64)]) -> f64 {
    let (x, y) = (theta.cos(), theta.sin());
    let mut cost = 0.0;
    for i in 0..target.len() {
        let (tx, ty) = target[i];
        cost += (x - tx).powi(2) + (y - ty).powi(2);
    }
    cost
}

/// A user's struct without grad's derive is a constant input, without `wrt`; an alias of
/// integers holds no floats.
struct Spring {
    stiffness: f64,
}
type Indices = [usize; 2];

#[differentiable]
fn spring_energy(x: [f64; 3], spring: &Spring, ends: Indices) -> f64 {
    let stretch = x[ends[1]] - x[ends[0]];
    0.5 * spring.stiffness * stretch * stretch
}

#[test]
fn constant_parameters_that_hold_floats_compile_when_named_constant() {
    let origin = [1.0, 2.0, 2.0];
    let slope = distance_cost_grad(origin, 2.5);
    assert_gradient(|p| distance_cost(origin, p[0]), &[2.5], &[slope]);
    assert_eq!(slope, -2.0 * (3.0 - 2.5));

    let target = [(0.5, 0.5), (-1.0, 0.2)];
    let slope = reach_grad(0.3, &target);
    assert_gradient(|p| reach(p[0], &target), &[0.3], &[slope]);

    let spring = Spring { stiffness: 4.0 };
    let x = [0.1, 0.7, -0.2];
    let gradient = spring_energy_grad(x, &spring, [0, 2]);
    // E = ½k(x2 - x0)²: ∂/∂x0 = -k(x2 - x0), ∂/∂x2 = k(x2 - x0).
    assert_close(&gradient, &[-4.0 * (-0.2 - 0.1), 0.0, 4.0 * (-0.2 - 0.1)]);
    assert_gradient(
        |p| spring_energy([p[0], p[1], p[2]], &spring, [0, 2]),
        &x,
        &gradient,
    );
}

/// The workaround for a `&Vec<f64>` parameter: `wrt` keeps it constant, iterated as written.
#[differentiable(wrt(x))]
#[allow(clippy::ptr_arg)] // as a user wrote it
fn weighted(x: f64, weights: &Vec<f64>) -> f64 {
    let mut s = 0.0;
    for w in weights.iter() {
        s += x * w;
    }
    s
}

#[test]
fn a_vec_named_constant_is_read_as_written() {
    let weights = vec![0.5, -1.5, 4.0];
    assert_eq!(weighted_value_and_grad(2.0, &weights), (6.0, 3.0));
}

#[differentiable]
fn polar(r: f64, theta: f64) -> f64 {
    let (s, c) = theta.sin_cos();
    let (s2, c2) = f64::sin_cos(2.0 * theta);
    r * (s + c) + s2 * c2
}

#[test]
fn sin_cos_in_method_and_path_form() {
    let (r, theta) = (1.7, 0.4);
    let (value, (dr, dtheta)) = polar_value_and_grad(r, theta);
    assert_eq!(value, polar(r, theta));
    let dual = |r: Dual64, t: Dual64| r * (t.sin() + t.cos()) + (t * 2.0).sin() * (t * 2.0).cos();
    let by_r = dual(Dual64::new(r, 1.0), Dual64::from(theta)).eps;
    let by_theta = dual(Dual64::from(r), Dual64::new(theta, 1.0)).eps;
    assert_close(&[dr, dtheta], &[by_r, by_theta]);
}

pub struct Arm {
    pub lengths: [f64; 3],
}

#[differentiable]
fn planar_tip_distance(l: [f64; 3], q: [f64; 3]) -> f64 {
    let a = q[0];
    let b = a + q[1];
    let c = b + q[2];
    let x = l[0] * a.cos() + l[1] * b.cos() + l[2] * c.cos();
    let y = l[0] * a.sin() + l[1] * b.sin() + l[2] * c.sin();
    x * x + y * y
}

/// A struct's array field, bound with its type and passed on: a constant argument that still
/// has its entry in the callee's `_vjp`.
#[differentiable]
fn arm_reach(arm: &Arm, q: [f64; 3]) -> f64 {
    let l: [f64; 3] = arm.lengths;
    planar_tip_distance(l, q)
}

#[test]
fn a_struct_field_array_passed_to_a_differentiable_call() {
    let arm = Arm {
        lengths: [1.0, 0.8, 0.5],
    };
    let q = [0.1, 0.2, 0.3];
    let gradient = arm_reach_grad(&arm, q);
    assert_eq!(gradient, planar_tip_distance_grad(arm.lengths, q).1);
    assert_gradient(|p| arm_reach(&arm, [p[0], p[1], p[2]]), &q, &gradient);
}

/// `fold` with a function path, after `cloned`: a running maximum over an array and a slice.
#[differentiable]
fn peak(x: [f64; 4]) -> f64 {
    x.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
}

#[differentiable]
fn slice_peak_plus(a: f64, xs: &[f64]) -> f64 {
    a * xs.iter().copied().fold(f64::INFINITY, f64::min)
}

#[test]
fn fold_with_a_function_path() {
    assert_eq!(
        peak_value_and_grad([1.0, 4.0, 2.0, 3.0]),
        (4.0, [0.0, 1.0, 0.0, 0.0])
    );
    let xs = [0.5, -2.0, 1.0];
    let (value, (da, dxs)) = slice_peak_plus_value_and_grad(3.0, &xs);
    assert_eq!(value, slice_peak_plus(3.0, &xs));
    assert_eq!((da, dxs), (-2.0, vec![0.0, 3.0, 0.0]));
}

/// The workaround the tuple-call error suggests: one function per element.
#[differentiable]
fn pair_square(x: f64) -> f64 {
    x * x
}

#[differentiable]
fn pair_sine(x: f64) -> f64 {
    x.sin()
}

#[differentiable]
fn use_pair(x: f64) -> f64 {
    pair_square(x) + pair_sine(x)
}

#[test]
fn one_function_per_tuple_element() {
    assert_eq!(use_pair_grad(0.5), 2.0 * 0.5 + 0.5f64.cos());
}

/// `(a..b).map(f).sum()`: a range walked by an iterator chain.
#[differentiable]
fn range_map_sum(xs: &[f64], n: usize) -> f64 {
    (0..n).map(|i| xs[i] * xs[i + 1]).sum::<f64>() + (1..=2).map(|k| xs[k]).product::<f64>()
}

#[test]
fn an_integer_range_walked_by_map() {
    let xs = [0.5, -1.5, 2.0, 0.25];
    let gradient = range_map_sum_grad(&xs, 3);
    let f = |p: &[f64]| range_map_sum(p, 3);
    assert_gradient(f, &xs, &gradient);
    // Σ x_i x_{i+1} + x1 x2: ∂/∂x0 = x1, ∂/∂x1 = x0 + x2 + x2, ∂/∂x2 = x1 + x3 + x1, ∂/∂x3 = x2.
    assert_eq!(
        gradient,
        vec![-1.5, 0.5 + 2.0 + 2.0, -1.5 + 0.25 - 1.5, 2.0]
    );
}

/// The workaround the error for a read in a branch of a loop suggests: a copy built from
/// elements at the top of the loop body.
#[differentiable]
fn grows_in_loop(x: f64) -> f64 {
    let mut a = [x, 2.0 * x];
    let mut s = 0.0;
    for _ in 0..3 {
        let now = [a[0], a[1]];
        if s < 10.0 {
            s += now[0] * now[1];
        }
        a[0] *= 1.5;
    }
    s
}

#[test]
fn a_copy_built_from_elements_inside_a_loop() {
    let x = 0.7;
    let slope = grows_in_loop_grad(x);
    assert_gradient(|p| grows_in_loop(p[0]), &[x], &[slope]);
    // s = 2x²(1 + 1.5 + 2.25) while s stays below 10: ds/dx = 4x · 4.75.
    assert!((slope - 4.0 * x * 4.75).abs() < 1e-12);
}

/// The workaround the alias error suggests for `[Vec3; N]`: `wrt` keeps it constant, and it
/// is indexed as written.
#[differentiable(wrt(k))]
fn pair_energy<const N: usize>(pos: [Vec3; N], k: f64) -> f64 {
    let mut e = 0.0;
    for i in 0..N {
        e += k * (pos[i][0] * pos[i][0] + pos[i][1] * pos[i][1]);
    }
    e
}

#[test]
fn an_array_of_aliases_named_constant_is_indexed_as_written() {
    let pos = [[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]];
    assert_eq!(pair_energy_value_and_grad(pos, 2.0), (2.0 * 6.25, 6.25));
}

/// A block's `const` shadows an enclosing local of the same name in the whole block, and an
/// item may be used before its declaration: the macro resolved the inner `scale` to the local
/// (a silent wrong value and gradient, 4 instead of 5).
#[differentiable]
#[allow(non_upper_case_globals)]
fn shadowed_by_a_const(x: f64) -> f64 {
    let scale = 2.0;
    let inner = {
        const scale: f64 = 3.0;
        scale * x
    };
    let before = K * x;
    const K: f64 = 4.0;
    inner + scale * x + before
}

#[test]
fn a_block_const_shadows_a_local() {
    assert_eq!(shadowed_by_a_const(1.0), 9.0);
    assert_eq!(shadowed_by_a_const_value_and_grad(1.0), (9.0, 9.0));
}

/// An or-pattern of consts binds nothing: the arm reads the consts as they are.
#[differentiable]
fn or_of_consts(x: f64, k: usize) -> f64 {
    match k {
        SQUARE | LIMIT => x * LIMIT as f64,
        _ => x,
    }
}

#[test]
fn an_or_pattern_of_consts_reads_the_consts() {
    // k = 0 = SQUARE matches; the arm reads LIMIT = 4, not the matched value.
    assert_eq!(or_of_consts_value_and_grad(1.5, 0), (6.0, 4.0));
    assert_eq!(or_of_consts_value_and_grad(1.5, 4), (6.0, 4.0));
}
