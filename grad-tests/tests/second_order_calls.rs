//! Second order through calls (issue 17): a function with `hessian` that calls other
//! functions gets `f_hvp` and `f_hessian` when each callee has second order too (its own
//! `hessian`, or its block's): the caller's tangent sweep calls the callee's `g_tangent`, and
//! the second pass differentiates that call through `g_tangent_vjp`. Checked against
//! num-dual's hyper-dual numbers on mirrors written without grad, and against finite
//! differences of `f_grad`.

mod common;

use common::{hyper_hessian, xorshift};
use grad::differentiable;
use num_dual::DualNum;

fn random(next: &mut impl FnMut() -> u64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| (next() % 20_000) as f64 / 10_000.0 - 1.0)
        .collect()
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * (1.0 + a.abs().max(b.abs()))
}

// ----- free functions: a callee with a float and an array, called with constants too -----

#[differentiable(hessian)]
fn bump(a: f64, w: [f64; 2]) -> f64 {
    a.sin() * w[0] + w[1] * w[1] * a
}

fn bump_mirror<D: DualNum<f64> + Copy>(a: D, w: [D; 2]) -> D {
    a.sin() * w[0] + w[1] * w[1] * a
}

#[differentiable(hessian)]
fn two_bumps(x: f64, y: f64) -> f64 {
    let w = [x * y, y];
    // The second call's first argument is a constant: its tangent is zero.
    bump(x, w) + bump(2.0, w) * x
}

fn two_bumps_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let (x, y) = (v[0], v[1]);
    let w = [x * y, y];
    bump_mirror(x, w) + bump_mirror(D::from(2.0), w) * x
}

#[test]
fn a_call_of_a_function_with_second_order() {
    let mut next = xorshift(0xca11);
    for _ in 0..50 {
        let r = random(&mut next, 4);
        let ((hxx, hxy), (hyx, hyy)) = two_bumps_hessian(r[0], r[1]);
        let expected = hyper_hessian(two_bumps_mirror, &r[..2]);
        assert!(
            close(hxx, expected[0][0], 1e-12),
            "{hxx} vs {}",
            expected[0][0]
        );
        assert!(close(hxy, expected[0][1], 1e-12) && hxy.to_bits() == hyx.to_bits());
        assert!(close(hyy, expected[1][1], 1e-12));
        // H v against finite differences of the gradient.
        let (vx, vy) = (r[2], r[3]);
        let (hvx, hvy) = two_bumps_hvp(r[0], r[1], vx, vy);
        let h = 1e-6;
        let (gp, gm) = (
            two_bumps_grad(r[0] + h * vx, r[1] + h * vy),
            two_bumps_grad(r[0] - h * vx, r[1] - h * vy),
        );
        assert!(close(hvx, (gp.0 - gm.0) / (2.0 * h), 1e-6));
        assert!(close(hvy, (gp.1 - gm.1) / (2.0 * h), 1e-6));
        // The callee's own second order, through its array parameter.
        let (a, w) = (r[0], [r[1], r[2]]);
        let (ha, hw) = bump_hvp(a, w, 1.0, [0.0, 0.0]);
        let expected = hyper_hessian(|v| bump_mirror(v[0], [v[1], v[2]]), &[a, w[0], w[1]]);
        assert!(close(ha, expected[0][0], 1e-12));
        assert!(close(hw[0], expected[1][0], 1e-12) && close(hw[1], expected[2][0], 1e-12));
    }
}

// ----- a module with `hessian`: calls in loops, a chain of calls, a generic callee -----

#[differentiable(hessian)]
mod chain {
    use num_traits::Float;

    pub fn softplus<T: Float>(z: T) -> T {
        (T::one() + z.exp()).ln()
    }

    pub fn cell(h: f64, x: f64, w: f64) -> f64 {
        softplus::<f64>(w * h + x).tanh()
    }

    /// A recurrence of cells: calls in a loop, each taking the previous one's value.
    pub fn unrolled(xs: [f64; 4], w: f64) -> f64 {
        let mut h = 0.0;
        for x in xs {
            h = cell(h, x, w);
        }
        h * h
    }

    /// A vector function in the same module: it has no second order, and no error.
    pub fn pair(x: f64) -> [f64; 2] {
        [x.sin(), x.cos()]
    }
}

fn softplus_mirror<D: DualNum<f64> + Copy>(z: D) -> D {
    (z.exp() + 1.0).ln()
}

fn unrolled_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let w = v[4];
    let mut h = D::from(0.0);
    for x in &v[..4] {
        h = softplus_mirror(w * h + *x).tanh();
    }
    h * h
}

#[test]
fn calls_in_a_loop_of_a_module_with_second_order() {
    let mut next = xorshift(0x100b);
    for _ in 0..30 {
        let r = random(&mut next, 5);
        let (xs, w) = ([r[0], r[1], r[2], r[3]], 1.0 + r[4]);
        let ((hxx, hxw), (hwx, hww)) = chain::unrolled_hessian(xs, w);
        let expected = hyper_hessian(
            unrolled_mirror,
            &r[..4].iter().copied().chain([w]).collect::<Vec<_>>(),
        );
        for i in 0..4 {
            for j in 0..4 {
                assert!(close(hxx[i][j], expected[i][j], 1e-11), "H[{i}][{j}]");
            }
            assert!(close(hxw[i], expected[i][4], 1e-11));
            assert_eq!(hxw[i].to_bits(), hwx[i].to_bits());
        }
        assert!(close(hww, expected[4][4], 1e-11));
        // The vector function keeps its first-order companions.
        let j = chain::pair_jacobian(r[0]);
        assert!(close(j[0], r[0].cos(), 1e-15) && close(j[1], -r[0].sin(), 1e-15));
    }
}

// ----- methods: `self.helper(x)` with second order -----

struct Pendulum {
    length: f64,
}

#[differentiable(hessian)]
impl Pendulum {
    fn height(&self, theta: f64) -> f64 {
        self.length * (1.0 - theta.cos())
    }

    fn energy(&self, theta: f64, omega: f64) -> f64 {
        0.5 * self.length * self.length * omega * omega + 9.81 * self.height(theta)
    }
}

#[test]
fn a_method_calling_a_method_with_second_order() {
    let mut next = xorshift(0x9e4d);
    for _ in 0..30 {
        let r = random(&mut next, 3);
        let p = Pendulum { length: 1.5 + r[0] };
        let ((htt, hto), (hot, hoo)) = p.energy_hessian(r[1], r[2]);
        assert!(close(htt, 9.81 * p.length * r[1].cos(), 1e-13));
        assert!(hto == 0.0 && hot == 0.0);
        assert!(close(hoo, p.length * p.length, 1e-13));
    }
}

// ----- a callee with hand-written derivatives: `_vjp`, `_tangent` and `_tangent_vjp` -----

/// x / (1 + |x|), written without grad: its derivative s' = 1 / (1 + |x|)², and its second
/// s'' = -2 sign(x) / (1 + |x|)³.
fn softsign(x: f64) -> f64 {
    x / (1.0 + x.abs())
}

fn softsign_vjp(x: f64, upstream: f64) -> f64 {
    upstream / (1.0 + x.abs()).powi(2)
}

/// The tangent `s'(x) · t`, which a caller's second order calls.
fn softsign_tangent(x: f64, x_tangent: f64) -> f64 {
    x_tangent / (1.0 + x.abs()).powi(2)
}

/// Its pullback: one entry per argument, the argument's first and then the tangent's.
fn softsign_tangent_vjp(x: f64, x_tangent: f64, upstream: f64) -> (f64, f64) {
    let second = -2.0 * x.signum() / (1.0 + x.abs()).powi(3);
    (
        upstream * x_tangent * second,
        upstream / (1.0 + x.abs()).powi(2),
    )
}

#[differentiable(hessian)]
fn squash(x: f64, y: f64) -> f64 {
    softsign(x * y) + x
}

#[test]
fn a_callee_with_hand_written_second_order() {
    let mut next = xorshift(0x50f7);
    for _ in 0..50 {
        let r = random(&mut next, 2);
        let (x, y) = (2.0 * r[0], 2.0 * r[1]);
        let ((hxx, hxy), (_, hyy)) = squash_hessian(x, y);
        let u = x * y;
        let (first, second) = (
            1.0 / (1.0 + u.abs()).powi(2),
            -2.0 * u.signum() / (1.0 + u.abs()).powi(3),
        );
        assert!(close(hxx, second * y * y, 1e-13));
        assert!(close(hxy, second * x * y + first, 1e-13));
        assert!(close(hyy, second * x * x, 1e-13));
    }
}

// ----- a slice passed on, as argmin's `rosenbrock` calls `rosenbrock_ab` -----

#[differentiable(hessian)]
fn banana_ab(x: &[f64], a: f64, b: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += (a - x[i]).powi(2) + b * (x[i + 1] - x[i].powi(2)).powi(2);
    }
    s
}

#[differentiable(hessian)]
fn banana(x: &[f64]) -> f64 {
    banana_ab(x, 1.0, 100.0)
}

fn banana_mirror<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let mut s = D::from(0.0);
    for i in 0..x.len() - 1 {
        s += (-x[i] + 1.0).powi(2) + (x[i + 1] - x[i].powi(2)).powi(2) * 100.0;
    }
    s
}

#[test]
fn a_slice_passed_to_a_callee_with_second_order() {
    let mut next = xorshift(0xba7a);
    for n in 2..6 {
        let x = random(&mut next, n);
        let hessian = banana_hessian(&x);
        let expected = hyper_hessian(banana_mirror, &x);
        for i in 0..n {
            for j in 0..n {
                assert!(
                    close(hessian[i][j], expected[i][j], 1e-12),
                    "n = {n}, H[{i}][{j}]"
                );
            }
        }
        let v = random(&mut next, n);
        let hv = banana_hvp(&x, &v);
        for i in 0..n {
            let row: f64 = (0..n).map(|j| expected[i][j] * v[j]).sum();
            assert!(close(hv[i], row, 1e-12));
        }
    }
}

// ----- a slice, or a part of one, passed on: the fix that hessian's message names -----

#[differentiable(hessian)]
fn chain_scaled(x: &[f64], k: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += (x[i + 1] - x[i]).sin() * x[i] * k;
    }
    s
}

/// With `wrt(k)` `hessian` is refused (ui case `hessian_refused`); with every parameter
/// differentiated, the data's part has a tangent to pass on.
#[differentiable(hessian)]
fn part_of_data(data: &[f64], k: f64) -> f64 {
    chain_scaled(&data[1..], k) * k
}

#[differentiable(hessian)]
fn all_of_data(data: &[f64], k: f64) -> f64 {
    chain_scaled(data, k) * k
}

#[test]
fn slices_passed_on_once_named_in_wrt() {
    let data = [0.3, -0.2, 0.9, 0.4];
    let k = 0.7;
    let h = 1e-6;
    let (_, (_, part_kk)) = part_of_data_hessian(&data, k);
    let g = |k: f64| part_of_data_grad(&data, k).1;
    assert!((part_kk - (g(k + h) - g(k - h)) / (2.0 * h)).abs() < 1e-7);
    let (_, (_, all_kk)) = all_of_data_hessian(&data, k);
    let g = |k: f64| all_of_data_grad(&data, k).1;
    assert!((all_kk - (g(k + h) - g(k - h)) / (2.0 * h)).abs() < 1e-7);
}

// ----- calls returning arrays: the callee's tangent is an array, its pullback takes one -----

#[differentiable(hessian)]
fn swing(s: [f64; 2], k: f64) -> [f64; 2] {
    [s[0] + k * s[1].sin(), s[1] * s[0] - k]
}

#[differentiable(hessian)]
fn swung_energy(s: [f64; 2], k: f64) -> f64 {
    let q = swing(s, k * k);
    let mut e = q[0] * q[1] + q[1].cos();
    for _ in 0..2 {
        let r = swing(q, e);
        e += r[0] * r[0];
    }
    e
}

fn swing_mirror<D: DualNum<f64> + Copy>(s: [D; 2], k: D) -> [D; 2] {
    [s[0] + k * s[1].sin(), s[1] * s[0] - k]
}

fn swung_energy_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let q = swing_mirror([v[0], v[1]], v[2] * v[2]);
    let mut e = q[0] * q[1] + q[1].cos();
    for _ in 0..2 {
        let r = swing_mirror(q, e);
        e += r[0] * r[0];
    }
    e
}

#[test]
fn calls_returning_arrays_in_second_order() {
    let mut next = xorshift(0xa77a);
    for _ in 0..30 {
        let r: Vec<f64> = random(&mut next, 6).iter().map(|v| 0.5 * v).collect();
        let (s, k) = ([r[0], r[1]], r[2]);
        let expected = hyper_hessian(swung_energy_mirror, &r[..3]);
        let ((hss, hsk), (hks, hkk)) = swung_energy_hessian(s, k);
        for i in 0..2 {
            for j in 0..2 {
                assert!(close(hss[i][j], expected[i][j], 1e-10), "H[{i}][{j}]");
            }
            assert!(close(hsk[i], expected[i][2], 1e-10) && hsk[i] == hks[i]);
        }
        assert!(close(hkk, expected[2][2], 1e-10));
        let (hvs, hvk) = swung_energy_hvp(s, k, [r[3], r[4]], r[5]);
        for i in 0..3 {
            let row: f64 = (0..3).map(|j| expected[i][j] * r[3 + j]).sum();
            let got = if i < 2 { hvs[i] } else { hvk };
            assert!(close(got, row, 1e-10), "(Hv)[{i}]");
        }
        // The callee's tangent alone is its Jacobian times the tangents.
        let (_, jvp) = swing_jvp(s, k, [r[3], r[4]], r[5]);
        assert_eq!(swing_tangent(s, k, [r[3], r[4]], r[5]), jvp);
    }
}

// ----- calls returning tuples -----

#[differentiable(hessian)]
fn polar_step(r: f64, theta: f64) -> (f64, f64) {
    (r * theta.cos(), r * theta.sin() + theta)
}

#[differentiable(hessian)]
fn polar_energy(r: f64, theta: f64) -> f64 {
    let (x, y) = polar_step(r, theta * r);
    let p: (f64, f64) = polar_step(x, y);
    x * y + p.0 * p.1.sin()
}

fn polar_step_mirror<D: DualNum<f64> + Copy>(r: D, theta: D) -> (D, D) {
    (r * theta.cos(), r * theta.sin() + theta)
}

fn polar_energy_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let (x, y) = polar_step_mirror(v[0], v[1] * v[0]);
    let p = polar_step_mirror(x, y);
    x * y + p.0 * p.1.sin()
}

#[test]
fn calls_returning_tuples_in_second_order() {
    let mut next = xorshift(0x7a91);
    for _ in 0..30 {
        let r = random(&mut next, 4);
        let expected = hyper_hessian(polar_energy_mirror, &r[..2]);
        let ((hrr, hrt), (htr, htt)) = polar_energy_hessian(r[0], r[1]);
        assert!(close(hrr, expected[0][0], 1e-10) && close(htt, expected[1][1], 1e-10));
        assert!(close(hrt, expected[0][1], 1e-10) && hrt == htr);
        let (hvr, hvt) = polar_energy_hvp(r[0], r[1], r[2], r[3]);
        assert!(close(
            hvr,
            expected[0][0] * r[2] + expected[0][1] * r[3],
            1e-10
        ));
        assert!(close(
            hvt,
            expected[1][0] * r[2] + expected[1][1] * r[3],
            1e-10
        ));
        let (_, jvp) = polar_step_jvp(r[0], r[1], r[2], r[3]);
        assert_eq!(polar_step_tangent(r[0], r[1], r[2], r[3]), jvp);
    }
}
