//! Types grad sees only by name, resolved through rustc (issue 15): a parameter of an alias
//! type that the body indexes is read as an array whose shape rustc knows, and a
//! call's result that the body indexes is an array of the callee's return type. Checked
//! against finite differences, num-dual and closed forms.

mod common;

use common::assert_gradient;
use grad::differentiable;
use num_dual::{Dual64, DualNum};

type Vec3 = [f64; 3];

#[differentiable]
fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// An alias by value and by reference, indexed, and passed on to `dot`.
#[differentiable]
fn reach_cost(origin: Vec3, target: &Vec3, dir: Vec3, k: f64) -> f64 {
    let d = [
        origin[0] - target[0],
        origin[1] - target[1],
        origin[2] - target[2],
    ];
    k * dot(d, d) + dot(d, dir) * dir[0]
}

/// An array of aliases, indexed twice.
#[differentiable]
fn spring_chain<const N: usize>(pos: [Vec3; N], k: f64) -> f64 {
    let mut e = 0.0;
    for i in 1..N {
        let dx = pos[i][0] - pos[i - 1][0];
        let dy = pos[i][1] - pos[i - 1][1];
        let dz = pos[i][2] - pos[i - 1][2];
        e += k * (dx * dx + dy * dy + dz * dz);
    }
    e
}

#[differentiable]
fn rate(state: [f64; 2], k: f64) -> [f64; 2] {
    [state[1], -k * state[0]]
}

/// Call results without annotations: bound by `let`, and indexed where made.
#[differentiable]
fn euler_steps(x0: f64, k: f64) -> f64 {
    let state = [x0, 0.0];
    let d = rate(state, k);
    let mid = [state[0] + 0.1 * d[0], state[1] + 0.1 * d[1]];
    mid[0] + rate(mid, k)[1] * 0.1
}

fn euler_steps_dual<D: DualNum<f64> + Copy>(x0: D, k: D) -> D {
    let rate = |s: [D; 2]| [s[1], -k * s[0]];
    let state = [x0, D::from(0.0)];
    let d = rate(state);
    let mid = [state[0] + d[0] * 0.1, state[1] + d[1] * 0.1];
    mid[0] + rate(mid)[1] * 0.1
}

/// A lookup table with its own `Index`: constant by `wrt`, indexed as written.
struct Table([f64; 4]);

impl std::ops::Index<usize> for Table {
    type Output = f64;
    fn index(&self, i: usize) -> &f64 {
        &self.0[i]
    }
}

#[differentiable(wrt(x))]
fn looked_up(x: f64, table: Table) -> f64 {
    x * table[1] + table[3]
}

#[test]
fn alias_parameters_by_value_by_reference_and_passed_on() {
    let (a, b) = ([1.0, -2.0, 0.5], [0.3, 0.7, -1.1]);
    assert_eq!(dot_grad(a, b), (b, a));
    let (origin, target, dir, k) = ([1.0, 2.0, 3.0], [0.5, 0.0, -1.0], [0.2, -0.3, 0.4], 2.0);
    let (d_origin, d_target, d_dir, dk) = reach_cost_grad(origin, &target, dir, k);
    let point: Vec<f64> = origin
        .iter()
        .chain(&target)
        .chain(&dir)
        .copied()
        .chain([k])
        .collect();
    let analytic: Vec<f64> = d_origin
        .iter()
        .chain(&d_target)
        .chain(&d_dir)
        .copied()
        .chain([dk])
        .collect();
    assert_gradient(
        |p| {
            reach_cost(
                [p[0], p[1], p[2]],
                &[p[3], p[4], p[5]],
                [p[6], p[7], p[8]],
                p[9],
            )
        },
        &point,
        &analytic,
    );
}

#[test]
fn an_array_of_aliases() {
    let pos = [[0.0, 0.1, 0.2], [1.0, 0.0, -0.5], [1.5, 0.8, 0.1]];
    let (d_pos, dk) = spring_chain_grad(pos, 0.7);
    // ∂/∂pos[0] = -2k (pos[1] - pos[0]).
    for c in 0..3 {
        assert!((d_pos[0][c] + 2.0 * 0.7 * (pos[1][c] - pos[0][c])).abs() < 1e-14);
    }
    let point: Vec<f64> = pos.iter().flatten().copied().chain([0.7]).collect();
    let analytic: Vec<f64> = d_pos.iter().flatten().copied().chain([dk]).collect();
    assert_gradient(
        |p| {
            spring_chain(
                [[p[0], p[1], p[2]], [p[3], p[4], p[5]], [p[6], p[7], p[8]]],
                p[9],
            )
        },
        &point,
        &analytic,
    );
}

#[test]
fn call_results_read_as_arrays_without_annotations() {
    let (x0, k) = (0.8, 3.0);
    let (dx0, dk) = euler_steps_grad(x0, k);
    let dual = |i: usize| {
        let seed = |j: usize, v: f64| Dual64::new(v, if i == j { 1.0 } else { 0.0 });
        euler_steps_dual(seed(0, x0), seed(1, k)).eps
    };
    assert!((dx0 - dual(0)).abs() < 1e-14 && (dk - dual(1)).abs() < 1e-14);
    assert_gradient(|p| euler_steps(p[0], p[1]), &[x0, k], &[dx0, dk]);
}

#[test]
fn a_constant_with_its_own_index_is_read_as_written() {
    assert_eq!(looked_up_grad(2.0, Table([0.0, 1.5, 0.0, 4.0])), 1.5);
}

type Counts = [u32; 3];

/// An alias of integers whose elements are converted with `as`: read as written, a constant.
#[differentiable]
fn weighted_by_counts(x: f64, counts: Counts) -> f64 {
    x * x * counts[0] as f64 + x * (counts[2] as f64)
}

/// The two fixes `tests/ui/indexed_alias_of_integers.rs` suggests, which compile.
#[differentiable]
fn counted_written_out(x: f64, counts: [u32; 3]) -> f64 {
    if counts[0] > 2 { x * x } else { x }
}

#[differentiable(wrt(x))]
fn counted_by_wrt(x: f64, counts: Counts) -> f64 {
    if counts[0] > 2 { x * x } else { x }
}

#[test]
fn aliases_of_integers_stay_constants() {
    assert_eq!(
        weighted_by_counts_grad(1.5, [2, 0, 4]),
        2.0 * 1.5 * 2.0 + 4.0
    );
    assert_eq!(counted_written_out_grad(1.5, [3, 0, 0]), 3.0);
    assert_eq!(counted_by_wrt_grad(1.5, [1, 0, 0]), 1.0);
}

// Published vector code returns its alias (`-> Vec3`): the body's value shows the shape, and
// rustc checks the function against the alias.

#[differentiable]
fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[differentiable]
fn scale(a: Vec3, k: f64) -> Vec3 {
    [a[0] * k, a[1] * k, a[2] * k]
}

const MU: f64 = 3.986_004_418e5;

/// Two-body gravitational acceleration, as orbital mechanics code writes it.
#[differentiable]
fn two_body_accel(r: Vec3) -> Vec3 {
    let rn = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
    let k = -MU / (rn * rn * rn);
    [k * r[0], k * r[1], k * r[2]]
}

type Real = f64;

#[differentiable]
fn energy(v: f64, m: f64) -> Real {
    0.5 * m * v * v
}

type Vec3f = [f32; 3];

/// Nothing in the function names the float type: rustc infers it from the alias.
#[differentiable]
fn midpoint(a: Vec3f, b: Vec3f) -> Vec3f {
    [
        (a[0] + b[0]) * 0.5,
        (a[1] + b[1]) * 0.5,
        (a[2] + b[2]) * 0.5,
    ]
}

fn seeded(v: [f64; 3], k: usize) -> [Dual64; 3] {
    std::array::from_fn(|i| Dual64::new(v[i], if i == k { 1.0 } else { 0.0 }))
}

#[test]
fn aliases_as_return_types() {
    let a = [0.3, -1.2, 0.8];
    let b = [1.1, 0.4, -0.6];
    // The Jacobian of a × b against num-dual, column by column.
    let (ja, jb) = cross_jacobian(a, b);
    let dual_cross = |a: [Dual64; 3], b: [Dual64; 3]| {
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    };
    for k in 0..3 {
        let by_a = dual_cross(seeded(a, k), b.map(Dual64::from_re));
        let by_b = dual_cross(a.map(Dual64::from_re), seeded(b, k));
        for i in 0..3 {
            assert!((ja[i][k] - by_a[i].eps).abs() < 1e-14);
            assert!((jb[i][k] - by_b[i].eps).abs() < 1e-14);
        }
    }
    // The vjp of scale against the closed form: upstream · k and upstream · a.
    let u = [0.5, -2.0, 1.5];
    let (da, dk) = scale_vjp(a, 2.5, u);
    assert_eq!(da, [0.5 * 2.5, -2.0 * 2.5, 1.5 * 2.5]);
    assert!((dk - (u[0] * a[0] + u[1] * a[1] + u[2] * a[2])).abs() < 1e-14);
    // Each row of the two-body Jacobian against finite differences.
    let r = [1.2, -0.4, 0.3];
    let j = two_body_accel_jacobian(r);
    for (i, row) in j.iter().enumerate() {
        assert_gradient(|p| two_body_accel([p[0], p[1], p[2]])[i], &r, row);
    }
    let (dv, dm) = energy_grad(3.0, 2.0);
    assert_eq!((dv, dm), (6.0, 4.5));
    let (fa, fb) = midpoint_vjp([1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [1.0, 1.0, 2.0]);
    assert_eq!(fa, [0.5, 0.5, 1.0]);
    assert_eq!(fb, [0.5, 0.5, 1.0]);
}

#[differentiable]
fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// What the error for `-> Vec3` of a call's result suggests (tests/ui/
/// return_alias_of_unknown_shape.rs): the type written out, the call's result returned.
#[differentiable]
fn towards(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    sub(b, a)
}

#[test]
fn a_call_returned_as_the_functions_array() {
    let (ja, jb) = towards_jacobian([1.0, 2.0, 3.0], [0.5, -1.0, 4.0]);
    for i in 0..3 {
        for k in 0..3 {
            let identity = if i == k { 1.0 } else { 0.0 };
            assert_eq!(ja[i][k], -identity);
            assert_eq!(jb[i][k], identity);
        }
    }
}
