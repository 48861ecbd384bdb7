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
