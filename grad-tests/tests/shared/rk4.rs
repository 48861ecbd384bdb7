//! A damped oscillator and one classical Runge-Kutta step, differentiable, with a num-dual
//! integrator as their independent check: shared by `tests/array_assignment.rs` and
//! `benches/idioms.rs`, each of which includes this file with `#[path]`.

use grad::differentiable;
use num_dual::DualNum;

/// The right-hand side of a damped oscillator, `x'' = -k x - c x'`.
#[differentiable]
pub fn oscillator(state: [f64; 2], k: f64, c: f64) -> [f64; 2] {
    [state[1], -k * state[0] - c * state[1]]
}

/// One classical Runge-Kutta step; each stage is an array returned by a call, without an
/// annotation.
#[differentiable]
pub fn rk4_step(state: [f64; 2], k: f64, c: f64, h: f64) -> [f64; 2] {
    let k1 = oscillator(state, k, c);
    let k2 = oscillator(
        [state[0] + 0.5 * h * k1[0], state[1] + 0.5 * h * k1[1]],
        k,
        c,
    );
    let k3 = oscillator(
        [state[0] + 0.5 * h * k2[0], state[1] + 0.5 * h * k2[1]],
        k,
        c,
    );
    let k4 = oscillator([state[0] + h * k3[0], state[1] + h * k3[1]], k, c);
    [
        state[0] + h / 6.0 * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0]),
        state[1] + h / 6.0 * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1]),
    ]
}

/// The final position after `steps` steps of `h`, over dual numbers.
pub fn final_position_dual<D: DualNum<f64> + Copy>(x0: D, k: D, c: D, steps: usize, h: f64) -> D {
    let f = |s: [D; 2]| [s[1], -k * s[0] - c * s[1]];
    let mut state = [x0, D::from(0.0)];
    for _ in 0..steps {
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

/// The gradient of the final position by forward mode, one dual sweep per input.
pub fn final_position_num_dual(x0: f64, k: f64, c: f64, steps: usize, h: f64) -> [f64; 3] {
    use num_dual::Dual64;
    let seed = |i: usize, v: f64, j: usize| Dual64::new(v, if i == j { 1.0 } else { 0.0 });
    let d =
        |j: usize| final_position_dual(seed(0, x0, j), seed(1, k, j), seed(2, c, j), steps, h).eps;
    [d(0), d(1), d(2)]
}
