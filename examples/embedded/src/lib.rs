//! grad in a `#![no_std]` crate, in `f32`: no standard library, no allocator.
//!
//! - [`solve_ik`]: inverse kinematics of a planar two-link arm by gradient descent on
//!   [`reach_cost`], whose gradient `reach_cost_grad` `#[differentiable]` writes at compile time.
//! - [`tune_pid`]: gradient descent on the gains of a PID controller, through [`pid_cost`], a
//!   32-step simulation of a first-order plant (a const-bounded loop, so its tape is a
//!   fixed-size array on the stack).
//!
//! Float methods (`cos`, `sin`, ...) are not inherent methods of `f32` in `core`; they come
//! from num-traits' `Float` (re-exported as `grad::num_traits`), which implements them with
//! `libm` when grad's `std` feature is off.

#![no_std]

#[cfg(test)]
extern crate std;

// Without std, `q[0].cos()` needs `Float` in scope. Whenever std is in the build after all (the
// test harness links it; `cargo build --workspace` turns on grad's `std` feature, which links it),
// std's inherent `f32::cos` takes precedence over the trait method and the import is unused.
use grad::differentiable;
#[allow(unused_imports)]
use grad::num_traits::Float;

/// Weight of the joint-angle regulariser in [`reach_cost`]: small enough that it moves a
/// reachable solution by far less than 1e-3; among angles that put the end effector in the
/// same place (`q` and `q + 2π`), it prefers the smaller.
pub const JOINT_WEIGHT: f32 = 1e-5;

/// Position of the end effector of a planar arm with joint angles `q` (radians; `q[1]` is
/// relative to the first link) and link lengths `lengths`, with the base at the origin.
pub fn end_effector(q: [f32; 2], lengths: [f32; 2]) -> [f32; 2] {
    let elbow = q[0] + q[1];
    [
        lengths[0] * q[0].cos() + lengths[1] * elbow.cos(),
        lengths[0] * q[0].sin() + lengths[1] * elbow.sin(),
    ]
}

/// Squared distance from the end effector to `target`, plus [`JOINT_WEIGHT`] × |q|².
#[differentiable(wrt(q))]
pub fn reach_cost(q: [f32; 2], target: [f32; 2], lengths: [f32; 2]) -> f32 {
    let elbow = q[0] + q[1];
    let x = lengths[0] * q[0].cos() + lengths[1] * elbow.cos();
    let y = lengths[0] * q[0].sin() + lengths[1] * elbow.sin();
    let dx = x - target[0];
    let dy = y - target[1];
    dx * dx + dy * dy + JOINT_WEIGHT * (q[0] * q[0] + q[1] * q[1])
}

/// Joint angles that bring the end effector to `target`, by `steps` steps of gradient descent
/// `q -= rate * ∇q reach_cost` from `initial`.
///
/// An unreachable target gives the closest reachable point: the arm stretched towards a target
/// beyond `lengths[0] + lengths[1]`, folded towards one nearer than `|lengths[0] - lengths[1]|`.
/// Each step costs one forward and one reverse sweep, on the stack. The cost's curvature grows
/// with the distance to the target; a `rate` below about
/// `1 / ((lengths[0] + lengths[1]) * (lengths[0] + lengths[1] + |target|))` keeps the descent
/// stable.
pub fn solve_ik(
    target: [f32; 2],
    lengths: [f32; 2],
    initial: [f32; 2],
    steps: usize,
    rate: f32,
) -> [f32; 2] {
    let mut q = initial;
    for _ in 0..steps {
        let g = reach_cost_grad(q, target, lengths);
        q[0] -= rate * g[0];
        q[1] -= rate * g[1];
    }
    q
}

/// Number of simulation steps in [`pid_cost`].
pub const PID_STEPS: usize = 32;

/// Time step of the simulation in [`pid_cost`], in seconds.
pub const PID_DT: f32 = 0.05;

/// Cost of the PID gains `gains = [kp, ki, kd]` on a step to `setpoint` of the first-order
/// plant `x' = -plant[0] x + plant[1] u`, simulated from rest for [`PID_STEPS`] steps of
/// [`PID_DT`] (explicit Euler): the integral of the squared tracking error plus a small
/// penalty on the control effort.
#[differentiable(wrt(gains))]
pub fn pid_cost(gains: [f32; 3], setpoint: f32, plant: [f32; 2]) -> f32 {
    let mut x = 0.0f32;
    let mut integral = 0.0f32;
    let mut previous = setpoint;
    let mut cost = 0.0f32;
    for _ in 0..PID_STEPS {
        let error = setpoint - x;
        integral += error * PID_DT;
        let derivative = (error - previous) / PID_DT;
        previous = error;
        let u = gains[0] * error + gains[1] * integral + gains[2] * derivative;
        x += PID_DT * (plant[1] * u - plant[0] * x);
        cost += PID_DT * (error * error + 1e-3 * u * u);
    }
    cost
}

/// PID gains improved from `initial` by `steps` steps of gradient descent on [`pid_cost`],
/// each gain kept non-negative.
pub fn tune_pid(
    initial: [f32; 3],
    setpoint: f32,
    plant: [f32; 2],
    steps: usize,
    rate: f32,
) -> [f32; 3] {
    let mut gains = initial;
    for _ in 0..steps {
        let g = pid_cost_grad(gains, setpoint, plant);
        for i in 0..3 {
            gains[i] = (gains[i] - rate * g[i]).max(0.0);
        }
    }
    gains
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const LENGTHS: [f32; 2] = [1.0, 0.7];

    fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
        (a[0] - b[0]).hypot(a[1] - b[1])
    }

    /// Central finite difference of `f` at `x` in coordinate `i`, in f64: the perturbed point is
    /// computed in f64 and rounded to f32, and the quotient divides by the step that was
    /// actually taken after rounding.
    fn central_difference<const N: usize>(
        f: impl Fn([f32; N]) -> f32,
        x: [f32; N],
        i: usize,
    ) -> f64 {
        let h = 1e-2 * f64::from(x[i]).abs().max(1.0);
        let mut plus = x;
        let mut minus = x;
        plus[i] = (f64::from(x[i]) + h) as f32;
        minus[i] = (f64::from(x[i]) - h) as f32;
        let step = f64::from(plus[i]) - f64::from(minus[i]);
        (f64::from(f(plus)) - f64::from(f(minus))) / step
    }

    /// Checks every coordinate of `gradient` against [`central_difference`], to a relative
    /// error of 1e-3 (f32 rounding in the function values limits the differences to about 1e-5).
    fn assert_matches_differences<const N: usize>(
        f: impl Fn([f32; N]) -> f32,
        x: [f32; N],
        gradient: [f32; N],
    ) {
        for (i, &got) in gradient.iter().enumerate() {
            let want = central_difference(&f, x, i);
            let got = f64::from(got);
            assert!(
                (got - want).abs() <= 1e-3 * want.abs().max(1.0),
                "at {x:?}, coordinate {i}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn reaches_a_reachable_target() {
        let targets = [[1.2, 0.5], [-0.4, 1.1], [0.6, -0.9], [0.35, 0.1]];
        for target in targets {
            let q = solve_ik(target, LENGTHS, [0.3, 0.8], 2000, 0.05);
            let reached = end_effector(q, LENGTHS);
            let miss = distance(reached, target);
            assert!(
                miss < 1e-3,
                "target {target:?}: reached {reached:?}, {miss} away"
            );
        }
    }

    #[test]
    fn gradient_matches_central_differences() {
        let points = [
            ([0.3, 0.8], [1.2, 0.5]),
            ([-1.1, 2.0], [-0.4, 1.1]),
            ([2.5, -0.4], [2.0, 2.0]),
            ([0.0, 3.0], [0.1, 0.05]),
        ];
        for (q, target) in points {
            let g = reach_cost_grad(q, target, LENGTHS);
            let (value, g2) = reach_cost_value_and_grad(q, target, LENGTHS);
            assert_eq!(value, reach_cost(q, target, LENGTHS));
            assert_eq!(g, g2);
            assert_matches_differences(|q| reach_cost(q, target, LENGTHS), q, g);
        }
    }

    /// An angle reduced to (-π, π].
    fn wrap(angle: f32) -> f64 {
        let a = f64::from(angle).rem_euclid(2.0 * PI);
        if a > PI { a - 2.0 * PI } else { a }
    }

    #[test]
    fn an_unreachable_target_gives_the_closest_reachable_point() {
        let reach = LENGTHS[0] + LENGTHS[1];
        // Just out of reach ([0, 1.8]) the cost is nearly flat in one direction: more steps.
        for target in [[3.0, 1.0], [-2.0, -2.5], [0.0, 1.8]] {
            let q = solve_ik(target, LENGTHS, [0.3, 0.8], 5000, 0.05);
            // Stretched: the elbow is straight and the arm points at the target.
            assert!(wrap(q[1]).abs() < 1e-3, "target {target:?}: q = {q:?}");
            let bearing = f64::from(target[1]).atan2(f64::from(target[0]));
            assert!(wrap((f64::from(q[0]) - bearing) as f32).abs() < 1e-3);
            let norm = target[0].hypot(target[1]);
            let closest = [target[0] * reach / norm, target[1] * reach / norm];
            let reached = end_effector(q, LENGTHS);
            assert!(
                distance(reached, closest) < 1e-3,
                "{reached:?} vs {closest:?}"
            );
        }
        // Nearer than |l1 - l2|: the arm folds back, and the end effector stops on the inner
        // circle of radius 0.3, on the side of the target.
        let target = [0.1, 0.05];
        let q = solve_ik(target, LENGTHS, [0.3, 0.8], 2000, 0.05);
        assert!((wrap(q[1]).abs() - PI).abs() < 1e-3, "q = {q:?}");
        let norm = target[0].hypot(target[1]);
        let inner = LENGTHS[0] - LENGTHS[1];
        let closest = [target[0] * inner / norm, target[1] * inner / norm];
        let reached = end_effector(q, LENGTHS);
        assert!(
            distance(reached, closest) < 1e-3,
            "{reached:?} vs {closest:?}"
        );
    }

    #[test]
    fn pid_gradient_matches_central_differences() {
        let plant = [0.8, 2.0];
        for gains in [[1.0, 0.5, 0.05], [3.0, 2.0, 0.2], [0.2, 0.0, 0.0]] {
            let g = pid_cost_grad(gains, 1.0, plant);
            assert_matches_differences(|k| pid_cost(k, 1.0, plant), gains, g);
        }
    }

    #[test]
    fn tuning_lowers_the_pid_cost() {
        let plant = [0.8, 2.0];
        let initial = [0.5, 0.1, 0.0];
        let tuned = tune_pid(initial, 1.0, plant, 200, 0.5);
        let before = pid_cost(initial, 1.0, plant);
        let after = pid_cost(tuned, 1.0, plant);
        assert!(after < 0.5 * before, "{before} -> {after} with {tuned:?}");
        assert!(tuned.iter().all(|k| k.is_finite() && *k >= 0.0));
    }
}
