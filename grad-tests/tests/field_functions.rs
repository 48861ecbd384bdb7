//! Issue 13: functions written the way practitioners in physics, robotics, statistics, finance,
//! graphics and signal processing write them, with only `#[differentiable]` added, each checked
//! against finite differences and dual numbers at random points. Of the twenty written, twelve
//! compiled and were right on the code before issue 13; one compiled with a wrong value and
//! gradient (`const_match_arms`), three failed inside generated code (the slice loops), one
//! used `sin_cos`, which grad did not know, and one took a tuple parameter; all six work now.
//! Of the three that took a `Vec3` alias of `[f64; 3]` (reported in issue 13 rather than left
//! out of the gradient), two compile unmodified since issue 15, which reads a parameter of a
//! type grad sees only by name as an array when the body indexes it, and lets rustc confirm it
//! is one (the module `vec3_aliases`); `ray_sphere_distance` passes its `dir` on whole without
//! indexing it, which grad still reports (module `does_not_compile`).

use grad::differentiable;
use std::f64::consts::{PI, SQRT_2};

// ===== physics =====

/// Total energy of a chain of masses joined by springs of rest length `REST`.
#[differentiable]
fn spring_chain_energy(positions: &[f64], velocities: &[f64], k: f64, m: f64) -> f64 {
    const REST: f64 = 1.0;
    let kinetic: f64 = velocities.iter().map(|&v| 0.5 * m * v * v).sum();
    let mut potential = 0.0;
    for i in 1..positions.len() {
        let stretch = positions[i] - positions[i - 1] - REST;
        potential += 0.5 * k * stretch * stretch;
    }
    kinetic + potential
}

/// Damped pendulum integrated with semi-implicit Euler; energy left after 100 steps.
#[differentiable]
fn pendulum_energy(theta0: f64, omega0: f64, damping: f64) -> f64 {
    const G: f64 = 9.81;
    const L: f64 = 1.0;
    const DT: f64 = 0.01;
    let (mut theta, mut omega) = (theta0, omega0);
    for _ in 0..100 {
        omega -= (G / L * theta.sin() + damping * omega) * DT;
        theta += omega * DT;
    }
    0.5 * L * L * omega * omega + G * L * (1.0 - theta.cos())
}

// ===== robotics =====

/// Reach cost of a 3-link planar arm, plus a small penalty on joint angles.
#[differentiable]
fn three_link_reach_cost(angles: [f64; 3], lengths: [f64; 3], target: [f64; 2]) -> f64 {
    let mut phi = 0.0;
    let mut x = 0.0;
    let mut y = 0.0;
    for (a, l) in angles.iter().zip(lengths.iter()) {
        phi += a;
        x += l * phi.cos();
        y += l * phi.sin();
    }
    let dx = x - target[0];
    let dy = y - target[1];
    let reg = 1e-3 * angles.iter().map(|a| a * a).sum::<f64>();
    dx * dx + dy * dy + reg
}

/// Integrated squared error of a PID loop driving a first-order plant to `setpoint`.
#[differentiable]
fn pid_cost(kp: f64, ki: f64, kd: f64, setpoint: f64, steps: usize) -> f64 {
    const DT: f64 = 0.05;
    const TAU: f64 = 0.5;
    let mut y = 0.0;
    let mut integral = 0.0;
    let mut prev_err = setpoint;
    let mut cost = 0.0;
    for _ in 0..steps {
        let err = setpoint - y;
        integral += err * DT;
        let derivative = (err - prev_err) / DT;
        let u = kp * err + ki * integral + kd * derivative;
        y += (u - y) / TAU * DT;
        prev_err = err;
        cost += err * err * DT;
    }
    cost
}

// ===== statistics =====

/// Log-likelihood of `data` under N(mu, sigma²).
#[differentiable]
fn gaussian_log_likelihood(data: &[f64], mu: f64, sigma: f64) -> f64 {
    let n = data.len() as f64;
    let ss: f64 = data.iter().map(|&x| (x - mu).powi(2)).sum();
    -0.5 * n * (2.0 * PI).ln() - n * sigma.ln() - ss / (2.0 * sigma * sigma)
}

/// Huber loss summed over residuals.
#[differentiable]
fn huber_loss(residuals: &[f64], delta: f64) -> f64 {
    residuals
        .iter()
        .map(|&r| {
            let a = r.abs();
            if a <= delta {
                0.5 * r * r
            } else {
                delta * (a - 0.5 * delta)
            }
        })
        .sum()
}

// ===== finance =====

/// Standard normal CDF via the Abramowitz-Stegun 7.1.26 approximation of erf.
#[differentiable]
fn norm_cdf(x: f64) -> f64 {
    const A1: f64 = 0.254829592;
    const A2: f64 = -0.284496736;
    const A3: f64 = 1.421413741;
    const A4: f64 = -1.453152027;
    const A5: f64 = 1.061405429;
    const P: f64 = 0.3275911;
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let z = x.abs() / SQRT_2;
    let t = 1.0 / (1.0 + P * z);
    let poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
    let erf = 1.0 - poly * (-z * z).exp();
    0.5 * (1.0 + sign * erf)
}

/// Black-Scholes price of a European call.
#[differentiable]
fn black_scholes_call(s: f64, k: f64, t: f64, r: f64, sigma: f64) -> f64 {
    let sqrt_t = t.sqrt();
    let d1 = ((s / k).ln() + (r + 0.5 * sigma * sigma) * t) / (sigma * sqrt_t);
    let d2 = d1 - sigma * sqrt_t;
    s * norm_cdf(d1) - k * (-r * t).exp() * norm_cdf(d2)
}

/// Price of a bond paying `freq` coupons a year for `years` years, from its yield.
#[differentiable]
fn bond_price(face: f64, coupon_rate: f64, ytm: f64, years: u32, freq: u32) -> f64 {
    let n = years * freq;
    let c = face * coupon_rate / freq as f64;
    let y = ytm / freq as f64;
    let mut price = 0.0;
    for period in 1..=n {
        price += c / (1.0 + y).powi(period as i32);
    }
    price + face / (1.0 + y).powi(n as i32)
}

/// Variance of a portfolio, wᵀ Σ w.
#[differentiable]
fn portfolio_variance<const N: usize>(weights: [f64; N], cov: &[[f64; N]; N]) -> f64 {
    weights
        .iter()
        .enumerate()
        .map(|(i, wi)| {
            weights
                .iter()
                .enumerate()
                .map(|(j, wj)| wi * wj * cov[i][j])
                .sum::<f64>()
        })
        .sum()
}

// ===== graphics =====

#[differentiable]
fn smoothstep(edge0: f64, edge1: f64, x: f64) -> f64 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[differentiable]
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
}

/// Blends two colour channels across a soft edge.
#[differentiable]
fn soft_blend(a: f64, b: f64, x: f64) -> f64 {
    lerp(a, b, smoothstep(0.2, 0.8, x))
}

#[differentiable]
fn normalize(v: [f64; 3]) -> [f64; 3] {
    let len = v.iter().map(|c| c * c).sum::<f64>().sqrt();
    v.map(|c| c / len)
}

/// Phong shading: ambient + diffuse + specular.
#[differentiable]
fn phong(normal: [f64; 3], light: [f64; 3], view: [f64; 3], shininess: f64) -> f64 {
    const AMBIENT: f64 = 0.1;
    let n: [f64; 3] = normalize(normal);
    let l: [f64; 3] = normalize(light);
    let v: [f64; 3] = normalize(view);
    let n_dot_l: f64 = n.iter().zip(l.iter()).map(|(a, b)| a * b).sum();
    let mut r = [0.0; 3];
    for i in 0..3 {
        r[i] = 2.0 * n_dot_l * n[i] - l[i];
    }
    let r_dot_v: f64 = r.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
    let diffuse = n_dot_l.max(0.0);
    let specular = r_dot_v.max(0.0).powf(shininess);
    AMBIENT + 0.7 * diffuse + 0.2 * specular
}

// ===== signal processing =====

/// Mean energy of a FIR filter's output over the fully-overlapped part of the signal.
#[differentiable]
fn fir_energy<const TAPS: usize>(signal: &[f64], taps: [f64; TAPS]) -> f64 {
    let mut energy = 0.0;
    for n in TAPS - 1..signal.len() {
        let y: f64 = taps
            .iter()
            .enumerate()
            .map(|(k, h)| h * signal[n - k])
            .sum();
        energy += y * y;
    }
    energy / signal.len() as f64
}

// ===== the checks =====
//
// Every function is checked at several random points against central finite differences of
// the function itself and against forward-mode dual numbers (`num_dual::Dual64`) run through a
// mirror of the function, and `f_value_and_grad(..).0` must equal `f(..)` exactly.

mod common;

use common::{assert_gradient, xorshift};
use num_dual::{Dual64, DualNum};

/// Random points per function.
const POINTS: usize = 8;

/// Uniform in `[lo, hi)` from the next number of an xorshift stream.
fn uniform(next: &mut impl FnMut() -> u64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * ((next() >> 11) as f64 / (1u64 << 53) as f64)
}

fn uniforms(next: &mut impl FnMut() -> u64, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| uniform(next, lo, hi)).collect()
}

fn c(value: f64) -> Dual64 {
    Dual64::from(value)
}

fn d_abs(x: Dual64) -> Dual64 {
    if x.re < 0.0 { -x } else { x }
}

fn d_max(a: Dual64, b: Dual64) -> Dual64 {
    if a.re >= b.re { a } else { b }
}

/// The gradient of `f` at `x` by forward mode, one dual-number sweep per coordinate.
fn dual_gradient(f: impl Fn(&[Dual64]) -> Dual64, x: &[f64]) -> (f64, Vec<f64>) {
    let sweep = |i: usize| {
        let seeded: Vec<Dual64> = x
            .iter()
            .enumerate()
            .map(|(j, &v)| Dual64::new(v, if i == j { 1.0 } else { 0.0 }))
            .collect();
        f(&seeded)
    };
    let value = if x.is_empty() { f(&[]).re } else { sweep(0).re };
    (value, (0..x.len()).map(|i| sweep(i).eps).collect())
}

/// Checks `analytic` (the generated gradient, flattened in the order of `x`) against finite
/// differences of `f` and dual numbers through `mirror`, and the mirror's value against `f`'s.
#[track_caller]
fn check(
    label: &str,
    f: impl Fn(&[f64]) -> f64,
    mirror: impl Fn(&[Dual64]) -> Dual64,
    x: &[f64],
    analytic: &[f64],
) {
    assert_eq!(analytic.len(), x.len(), "{label}: gradient length");
    let value = f(x);
    let (dual_value, dual) = dual_gradient(mirror, x);
    assert!(
        (value - dual_value).abs() <= 1e-12 * value.abs().max(1.0),
        "{label}: the mirror disagrees with the function at {x:?}: {value} vs {dual_value}"
    );
    for (i, (a, d)) in analytic.iter().zip(&dual).enumerate() {
        let error = (a - d).abs() / a.abs().max(d.abs()).max(1.0);
        assert!(
            error < 1e-10,
            "{label}: coordinate {i} at {x:?}: grad {a} vs dual {d} (error {error:.2e})"
        );
    }
    assert_gradient(f, x, analytic);
}

// ----- physics -----

#[test]
fn spring_chain_energy_gradient() {
    let mut next = xorshift(0x5eed_0001);
    const N: usize = 5;
    for _ in 0..POINTS {
        let positions: Vec<f64> = (0..N)
            .map(|i| i as f64 * 1.1 + uniform(&mut next, -0.3, 0.3))
            .collect();
        let velocities = uniforms(&mut next, N, -2.0, 2.0);
        let (k, m) = (uniform(&mut next, 0.5, 5.0), uniform(&mut next, 0.1, 3.0));
        let value = spring_chain_energy(&positions, &velocities, k, m);
        let (v, (dp, dv, dk, dm)) =
            spring_chain_energy_value_and_grad(&positions, &velocities, k, m);
        assert_eq!(v, value);
        let x: Vec<f64> = [&positions[..], &velocities[..], &[k, m]].concat();
        let analytic: Vec<f64> = [&dp[..], &dv[..], &[dk, dm]].concat();
        let f = |x: &[f64]| spring_chain_energy(&x[..N], &x[N..2 * N], x[2 * N], x[2 * N + 1]);
        let mirror = |x: &[Dual64]| {
            let (p, v, k, m) = (&x[..N], &x[N..2 * N], x[2 * N], x[2 * N + 1]);
            let mut e = c(0.0);
            for &vi in v {
                e += m * vi * vi * 0.5;
            }
            for i in 1..N {
                let s = p[i] - p[i - 1] - 1.0;
                e += k * s * s * 0.5;
            }
            e
        };
        check("spring_chain_energy", f, mirror, &x, &analytic);
    }
}

#[test]
fn pendulum_energy_gradient() {
    let mut next = xorshift(0x5eed_0002);
    for _ in 0..POINTS {
        let x = [
            uniform(&mut next, -1.5, 1.5),
            uniform(&mut next, -3.0, 3.0),
            uniform(&mut next, 0.0, 0.8),
        ];
        let (v, (a, b, d)) = pendulum_energy_value_and_grad(x[0], x[1], x[2]);
        assert_eq!(v, pendulum_energy(x[0], x[1], x[2]));
        let f = |x: &[f64]| pendulum_energy(x[0], x[1], x[2]);
        let mirror = |x: &[Dual64]| {
            let (mut theta, mut omega, damping) = (x[0], x[1], x[2]);
            for _ in 0..100 {
                omega -= ((theta.sin() * (9.81 / 1.0)) + damping * omega) * 0.01;
                theta += omega * 0.01;
            }
            omega * omega * 0.5 + (c(1.0) - theta.cos()) * 9.81
        };
        check("pendulum_energy", f, mirror, &x, &[a, b, d]);
    }
}

// ----- robotics -----

#[test]
fn three_link_reach_cost_gradient() {
    let mut next = xorshift(0x5eed_0003);
    for _ in 0..POINTS {
        let angles = [
            uniform(&mut next, -PI, PI),
            uniform(&mut next, -PI, PI),
            uniform(&mut next, -PI, PI),
        ];
        let lengths = [
            uniform(&mut next, 0.3, 1.5),
            uniform(&mut next, 0.3, 1.5),
            uniform(&mut next, 0.3, 1.5),
        ];
        let target = [uniform(&mut next, -2.0, 2.0), uniform(&mut next, -2.0, 2.0)];
        let (v, (da, dl, dt)) = three_link_reach_cost_value_and_grad(angles, lengths, target);
        assert_eq!(v, three_link_reach_cost(angles, lengths, target));
        let x: Vec<f64> = [&angles[..], &lengths[..], &target[..]].concat();
        let analytic: Vec<f64> = [&da[..], &dl[..], &dt[..]].concat();
        let f =
            |x: &[f64]| three_link_reach_cost([x[0], x[1], x[2]], [x[3], x[4], x[5]], [x[6], x[7]]);
        let mirror = |x: &[Dual64]| {
            let (mut phi, mut px, mut py) = (c(0.0), c(0.0), c(0.0));
            for j in 0..3 {
                phi += x[j];
                px += x[3 + j] * phi.cos();
                py += x[3 + j] * phi.sin();
            }
            let (dx, dy) = (px - x[6], py - x[7]);
            dx * dx + dy * dy + (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) * 1e-3
        };
        check("three_link_reach_cost", f, mirror, &x, &analytic);
    }
}

#[test]
fn pid_cost_gradient() {
    let mut next = xorshift(0x5eed_0004);
    for point in 0..POINTS {
        let steps = 10 + 10 * point;
        let x = [
            uniform(&mut next, 0.5, 2.0),
            uniform(&mut next, 0.1, 1.0),
            uniform(&mut next, 0.0, 0.05),
            uniform(&mut next, -2.0, 2.0),
        ];
        let (v, (dkp, dki, dkd, ds)) = pid_cost_value_and_grad(x[0], x[1], x[2], x[3], steps);
        assert_eq!(v, pid_cost(x[0], x[1], x[2], x[3], steps));
        let f = |x: &[f64]| pid_cost(x[0], x[1], x[2], x[3], steps);
        let mirror = |x: &[Dual64]| {
            let (kp, ki, kd, setpoint) = (x[0], x[1], x[2], x[3]);
            let (mut y, mut integral, mut prev_err, mut cost) = (c(0.0), c(0.0), setpoint, c(0.0));
            for _ in 0..steps {
                let err = setpoint - y;
                integral += err * 0.05;
                let derivative = (err - prev_err) / 0.05;
                let u = kp * err + ki * integral + kd * derivative;
                y += (u - y) / 0.5 * 0.05;
                prev_err = err;
                cost += err * err * 0.05;
            }
            cost
        };
        check("pid_cost", f, mirror, &x, &[dkp, dki, dkd, ds]);
    }
}

// ----- statistics -----

#[test]
fn gaussian_log_likelihood_gradient() {
    let mut next = xorshift(0x5eed_0005);
    for point in 0..POINTS {
        let n = 1 + point * 3;
        let data = uniforms(&mut next, n, -3.0, 3.0);
        let (mu, sigma) = (uniform(&mut next, -1.0, 1.0), uniform(&mut next, 0.3, 3.0));
        let (v, (dd, dmu, dsigma)) = gaussian_log_likelihood_value_and_grad(&data, mu, sigma);
        assert_eq!(v, gaussian_log_likelihood(&data, mu, sigma));
        let x: Vec<f64> = [&data[..], &[mu, sigma]].concat();
        let analytic: Vec<f64> = [&dd[..], &[dmu, dsigma]].concat();
        let f = |x: &[f64]| gaussian_log_likelihood(&x[..n], x[n], x[n + 1]);
        let mirror = |x: &[Dual64]| {
            let (mu, sigma) = (x[n], x[n + 1]);
            let mut ss = c(0.0);
            for &xi in &x[..n] {
                ss += (xi - mu).powi(2);
            }
            let nf = n as f64;
            c(-0.5 * nf * (2.0 * PI).ln()) - sigma.ln() * nf - ss / (sigma * sigma * 2.0)
        };
        check("gaussian_log_likelihood", f, mirror, &x, &analytic);
    }
}

#[test]
fn huber_loss_gradient() {
    let mut next = xorshift(0x5eed_0006);
    let mut checked = 0;
    for point in 0..POINTS {
        let n = 2 + point;
        let residuals = uniforms(&mut next, n, -3.0, 3.0);
        let delta = uniform(&mut next, 0.5, 2.0);
        let near_kink = residuals
            .iter()
            .any(|r| (r.abs() - delta).abs() < 1e-3 || r.abs() < 1e-3);
        if near_kink {
            continue;
        }
        let (v, (dr, ddelta)) = huber_loss_value_and_grad(&residuals, delta);
        assert_eq!(v, huber_loss(&residuals, delta));
        let x: Vec<f64> = [&residuals[..], &[delta]].concat();
        let analytic: Vec<f64> = [&dr[..], &[ddelta]].concat();
        let f = |x: &[f64]| huber_loss(&x[..n], x[n]);
        let mirror = |x: &[Dual64]| {
            let delta = x[n];
            let mut total = c(0.0);
            for &r in &x[..n] {
                let a = d_abs(r);
                total += if a.re <= delta.re {
                    r * r * 0.5
                } else {
                    delta * (a - delta * 0.5)
                };
            }
            total
        };
        check("huber_loss", f, mirror, &x, &analytic);
        checked += 1;
    }
    assert!(checked >= POINTS / 2, "too few points away from the kinks");
}

// ----- finance -----

fn norm_cdf_dual(x: Dual64) -> Dual64 {
    let sign = if x.re < 0.0 { -1.0 } else { 1.0 };
    let z = d_abs(x) / SQRT_2;
    let t = (z * 0.3275911 + 1.0).recip();
    let poly = ((((t * 1.061405429 - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
        + 0.254829592)
        * t;
    let erf = c(1.0) - poly * (-z * z).exp();
    (erf * sign + 1.0) * 0.5
}

#[test]
fn norm_cdf_gradient() {
    let mut next = xorshift(0x5eed_0007);
    for _ in 0..POINTS {
        let x = [uniform(&mut next, -4.0, 4.0)];
        let (v, d) = norm_cdf_value_and_grad(x[0]);
        assert_eq!(v, norm_cdf(x[0]));
        check(
            "norm_cdf",
            |x| norm_cdf(x[0]),
            |x| norm_cdf_dual(x[0]),
            &x,
            &[d],
        );
    }
}

#[test]
fn black_scholes_call_gradient() {
    let mut next = xorshift(0x5eed_0008);
    for _ in 0..POINTS {
        let x = [
            uniform(&mut next, 50.0, 150.0),
            uniform(&mut next, 50.0, 150.0),
            uniform(&mut next, 0.1, 3.0),
            uniform(&mut next, 0.0, 0.1),
            uniform(&mut next, 0.05, 0.6),
        ];
        let (v, (ds, dk, dt, dr, dsigma)) =
            black_scholes_call_value_and_grad(x[0], x[1], x[2], x[3], x[4]);
        assert_eq!(v, black_scholes_call(x[0], x[1], x[2], x[3], x[4]));
        let f = |x: &[f64]| black_scholes_call(x[0], x[1], x[2], x[3], x[4]);
        let mirror = |x: &[Dual64]| {
            let (s, k, t, r, sigma) = (x[0], x[1], x[2], x[3], x[4]);
            let sqrt_t = t.sqrt();
            let d1 = ((s / k).ln() + (r + sigma * sigma * 0.5) * t) / (sigma * sqrt_t);
            let d2 = d1 - sigma * sqrt_t;
            s * norm_cdf_dual(d1) - k * (-r * t).exp() * norm_cdf_dual(d2)
        };
        check(
            "black_scholes_call",
            f,
            mirror,
            &x,
            &[ds, dk, dt, dr, dsigma],
        );
    }
}

#[test]
fn bond_price_gradient() {
    let mut next = xorshift(0x5eed_0009);
    for point in 0..POINTS {
        let (years, freq) = (1 + point as u32 * 4, [1, 2, 4, 12][point % 4]);
        let x = [
            uniform(&mut next, 100.0, 1000.0),
            uniform(&mut next, 0.0, 0.1),
            uniform(&mut next, 0.001, 0.12),
        ];
        let (v, (dface, dcoupon, dytm)) = bond_price_value_and_grad(x[0], x[1], x[2], years, freq);
        assert_eq!(v, bond_price(x[0], x[1], x[2], years, freq));
        let f = |x: &[f64]| bond_price(x[0], x[1], x[2], years, freq);
        let mirror = |x: &[Dual64]| {
            let n = years * freq;
            let coupon = x[0] * x[1] / freq as f64;
            let y = x[2] / freq as f64;
            let mut price = c(0.0);
            for period in 1..=n {
                price += coupon / (y + 1.0).powi(period as i32);
            }
            price + x[0] / (y + 1.0).powi(n as i32)
        };
        check("bond_price", f, mirror, &x, &[dface, dcoupon, dytm]);
    }
}

#[test]
fn portfolio_variance_gradient() {
    let mut next = xorshift(0x5eed_000a);
    for _ in 0..POINTS {
        let weights = [
            uniform(&mut next, 0.0, 1.0),
            uniform(&mut next, 0.0, 1.0),
            uniform(&mut next, 0.0, 1.0),
            uniform(&mut next, 0.0, 1.0),
        ];
        let mut cov = [[0.0; 4]; 4];
        for row in cov.iter_mut() {
            for entry in row.iter_mut() {
                *entry = uniform(&mut next, -0.5, 0.5);
            }
        }
        let (v, (dw, dcov)) = portfolio_variance_value_and_grad(weights, &cov);
        assert_eq!(v, portfolio_variance(weights, &cov));
        let x: Vec<f64> = weights
            .iter()
            .chain(cov.iter().flatten())
            .copied()
            .collect();
        let analytic: Vec<f64> = dw.iter().chain(dcov.iter().flatten()).copied().collect();
        let f = |x: &[f64]| {
            let mut cov = [[0.0; 4]; 4];
            for i in 0..4 {
                cov[i].copy_from_slice(&x[4 + 4 * i..8 + 4 * i]);
            }
            portfolio_variance([x[0], x[1], x[2], x[3]], &cov)
        };
        let mirror = |x: &[Dual64]| {
            let mut total = c(0.0);
            for i in 0..4 {
                for j in 0..4 {
                    total += x[i] * x[j] * x[4 + 4 * i + j];
                }
            }
            total
        };
        check("portfolio_variance", f, mirror, &x, &analytic);
    }
}

// ----- graphics -----

#[test]
fn soft_blend_gradient() {
    let mut next = xorshift(0x5eed_000b);
    let mut checked = 0;
    for _ in 0..POINTS {
        let x = [
            uniform(&mut next, 0.0, 1.0),
            uniform(&mut next, 0.0, 1.0),
            uniform(&mut next, -0.2, 1.2),
        ];
        if (x[2] - 0.2).abs() < 1e-3 || (x[2] - 0.8).abs() < 1e-3 {
            continue;
        }
        let (v, (da, db, dx)) = soft_blend_value_and_grad(x[0], x[1], x[2]);
        assert_eq!(v, soft_blend(x[0], x[1], x[2]));
        let f = |x: &[f64]| soft_blend(x[0], x[1], x[2]);
        let mirror = |x: &[Dual64]| {
            let raw = (x[2] - 0.2) / 0.6;
            let t = if raw.re < 0.0 {
                c(0.0)
            } else if raw.re > 1.0 {
                c(1.0)
            } else {
                raw
            };
            let s = t * t * (c(3.0) - t * 2.0);
            x[0] + (x[1] - x[0]) * s
        };
        check("soft_blend", f, mirror, &x, &[da, db, dx]);
        checked += 1;
    }
    assert!(checked >= POINTS / 2, "too few points away from the kinks");
}

#[test]
fn phong_gradient() {
    let mut next = xorshift(0x5eed_000c);
    for point in 0..POINTS {
        let mut jitter = |base: [f64; 3]| base.map(|b| b + uniform(&mut next, -0.2, 0.2));
        let normal = jitter([0.0, 0.0, 1.0]);
        let light = jitter([0.4, 0.3, 1.0]);
        // Every other point looks away from the highlight, where the specular term is 0.
        let view = if point % 2 == 0 {
            jitter([-0.4, -0.3, 1.0])
        } else {
            jitter([0.9, 0.9, -0.2])
        };
        let shininess = uniform(&mut next, 2.0, 40.0);
        let (v, (dn, dl, dv, ds)) = phong_value_and_grad(normal, light, view, shininess);
        assert_eq!(v, phong(normal, light, view, shininess));
        let x: Vec<f64> = [&normal[..], &light[..], &view[..], &[shininess]].concat();
        let analytic: Vec<f64> = [&dn[..], &dl[..], &dv[..], &[ds]].concat();
        let f = |x: &[f64]| {
            phong(
                [x[0], x[1], x[2]],
                [x[3], x[4], x[5]],
                [x[6], x[7], x[8]],
                x[9],
            )
        };
        let mirror = |x: &[Dual64]| {
            let unit = |v: &[Dual64]| {
                let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                [v[0] / len, v[1] / len, v[2] / len]
            };
            let (n, l, v) = (unit(&x[0..3]), unit(&x[3..6]), unit(&x[6..9]));
            let n_dot_l = n[0] * l[0] + n[1] * l[1] + n[2] * l[2];
            let r: Vec<Dual64> = (0..3).map(|i| n_dot_l * n[i] * 2.0 - l[i]).collect();
            let r_dot_v = r[0] * v[0] + r[1] * v[1] + r[2] * v[2];
            let diffuse = d_max(n_dot_l, c(0.0));
            let base = d_max(r_dot_v, c(0.0));
            let specular = if base.re > 0.0 {
                (base.ln() * x[9]).exp()
            } else {
                c(0.0)
            };
            diffuse * 0.7 + specular * 0.2 + 0.1
        };
        check("phong", f, mirror, &x, &analytic);
    }
}

// ----- signal processing -----

#[test]
fn fir_energy_gradient() {
    let mut next = xorshift(0x5eed_000d);
    for point in 0..POINTS {
        let n = 4 + 3 * point;
        let signal = uniforms(&mut next, n, -1.0, 1.0);
        let taps = [
            uniform(&mut next, -1.0, 1.0),
            uniform(&mut next, -1.0, 1.0),
            uniform(&mut next, -1.0, 1.0),
            uniform(&mut next, -1.0, 1.0),
        ];
        let (v, (ds, dt)) = fir_energy_value_and_grad(&signal, taps);
        assert_eq!(v, fir_energy(&signal, taps));
        let x: Vec<f64> = [&signal[..], &taps[..]].concat();
        let analytic: Vec<f64> = [&ds[..], &dt[..]].concat();
        let f = |x: &[f64]| fir_energy(&x[..n], [x[n], x[n + 1], x[n + 2], x[n + 3]]);
        let mirror = |x: &[Dual64]| {
            let (signal, taps) = (&x[..n], &x[n..]);
            let mut energy = c(0.0);
            for i in 3..n {
                let mut y = c(0.0);
                for k in 0..4 {
                    y += taps[k] * signal[i - k];
                }
                energy += y * y;
            }
            energy / n as f64
        };
        check("fir_energy", f, mirror, &x, &analytic);
    }
}

/// Functions that take a `Vec3` alias, unmodified (they did not compile before issue 15).
mod vec3_aliases {
    use super::*;

    type Vec3 = [f64; 3];

    /// Lennard-Jones energy of a small cluster.
    #[differentiable]
    pub fn lennard_jones<const N: usize>(pos: [Vec3; N], epsilon: f64, sigma: f64) -> f64 {
        let mut energy = 0.0;
        for i in 0..N {
            for j in (i + 1)..N {
                let d = [
                    pos[i][0] - pos[j][0],
                    pos[i][1] - pos[j][1],
                    pos[i][2] - pos[j][2],
                ];
                let r2: f64 = d.iter().map(|x| x * x).sum();
                let sr6 = (sigma * sigma / r2).powi(3);
                energy += 4.0 * epsilon * (sr6 * sr6 - sr6);
            }
        }
        energy
    }

    #[differentiable]
    pub fn dot(a: Vec3, b: Vec3) -> f64 {
        a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    }
}

/// Does not compile unmodified yet; enable the module to reproduce.
#[cfg(any())]
mod does_not_compile {
    use super::vec3_aliases::*;
    use super::*;

    type Vec3 = [f64; 3];

    // error[E0080]: `dir` holds floats, but grad sees only the name `Vec3` and would leave
    //   `dir` out of the gradient (it is passed to `dot` whole, never indexed)
    /// Distance along a (unit) ray to the nearest hit of a sphere, or infinity.
    #[differentiable]
    fn ray_sphere_distance(origin: Vec3, dir: Vec3, center: Vec3, radius: f64) -> f64 {
        let oc = [
            origin[0] - center[0],
            origin[1] - center[1],
            origin[2] - center[2],
        ];
        let b = dot(oc, dir);
        let c = dot(oc, oc) - radius * radius;
        let disc = b * b - c;
        if disc < 0.0 {
            return f64::INFINITY;
        }
        -b - disc.sqrt()
    }
}

// ----- fixed in issue 13: a tuple parameter (it was left out of the gradient, and its
// destructuring rejected) -----

/// Squared distance from the tip of a 2-link planar arm to a target.
#[differentiable]
fn two_link_reach_cost(theta1: f64, theta2: f64, target: (f64, f64)) -> f64 {
    const L1: f64 = 1.0;
    const L2: f64 = 0.8;
    let (tx, ty) = target;
    let x = L1 * theta1.cos() + L2 * (theta1 + theta2).cos();
    let y = L1 * theta1.sin() + L2 * (theta1 + theta2).sin();
    (x - tx).powi(2) + (y - ty).powi(2)
}

#[test]
fn two_link_reach_cost_gradient() {
    let mut next = xorshift(0x5eed_0014);
    for _ in 0..POINTS {
        let x = uniforms(&mut next, 4, -2.0, 2.0);
        let (v, (d1, d2, (dtx, dty))) =
            two_link_reach_cost_value_and_grad(x[0], x[1], (x[2], x[3]));
        assert_eq!(v, two_link_reach_cost(x[0], x[1], (x[2], x[3])));
        let f = |x: &[f64]| two_link_reach_cost(x[0], x[1], (x[2], x[3]));
        let mirror = |x: &[Dual64]| {
            let px = x[0].cos() + (x[0] + x[1]).cos() * 0.8;
            let py = x[0].sin() + (x[0] + x[1]).sin() * 0.8;
            (px - x[2]).powi(2) + (py - x[3]).powi(2)
        };
        check("two_link_reach_cost", f, mirror, &x, &[d1, d2, dtx, dty]);
    }
}

// ----- fixed in issue 13: `f64::sin_cos` (it was rejected with a message about the tuple
// pattern) -----

/// Horizontal range of a projectile launched from `height` at `angle_deg`.
#[differentiable]
fn projectile_range(v0: f64, angle_deg: f64, height: f64) -> f64 {
    const G: f64 = 9.81;
    let theta = angle_deg.to_radians();
    let (s, c) = theta.sin_cos();
    let vx = v0 * c;
    let vy = v0 * s;
    let t_flight = (vy + (vy * vy + 2.0 * G * height).sqrt()) / G;
    vx * t_flight
}

#[test]
fn projectile_range_gradient() {
    let mut next = xorshift(0x5eed_0013);
    for _ in 0..POINTS {
        let x = [
            uniform(&mut next, 5.0, 30.0),
            uniform(&mut next, 10.0, 80.0),
            uniform(&mut next, 0.0, 10.0),
        ];
        let (v, (dv0, dangle, dheight)) = projectile_range_value_and_grad(x[0], x[1], x[2]);
        assert_eq!(v, projectile_range(x[0], x[1], x[2]));
        let f = |x: &[f64]| projectile_range(x[0], x[1], x[2]);
        let mirror = |x: &[Dual64]| {
            let theta = x[1] * (PI / 180.0);
            let (vx, vy) = (x[0] * theta.cos(), x[0] * theta.sin());
            let t_flight = (vy + (vy * vy + x[2] * (2.0 * 9.81)).sqrt()) / 9.81;
            vx * t_flight
        };
        check("projectile_range", f, mirror, &x, &[dv0, dangle, dheight]);
    }
}

// ----- fixed in issue 13: loops over a slice's run-time length that record values -----
// (each gave E0435 inside generated code: its tape was sized by `len()` as if constant)

/// Mean binary cross-entropy of logistic regression; `xs` holds the rows one after another.
#[differentiable]
fn logistic_loss(w: &[f64], b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let d = w.len();
    let mut loss = 0.0;
    for i in 0..ys.len() {
        let mut z = b;
        for j in 0..d {
            z += w[j] * xs[i * d + j];
        }
        let p = 1.0 / (1.0 + (-z).exp());
        loss -= ys[i] * p.ln() + (1.0 - ys[i]) * (1.0 - p).ln();
    }
    loss / ys.len() as f64
}

/// Squared tracking error of a one-pole low-pass filter run over `input`.
#[differentiable]
fn lowpass_tracking_error(input: &[f64], target: &[f64], alpha: f64) -> f64 {
    let mut y = input[0];
    let mut err = 0.0;
    for (&x, &t) in input.iter().zip(target.iter()) {
        y += alpha * (x - y);
        err += (y - t).powi(2);
    }
    err
}

/// RMS of a Hann-windowed frame.
#[differentiable]
fn hann_windowed_rms(frame: &[f64]) -> f64 {
    let n = frame.len();
    let sum_sq: f64 = frame
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / (n - 1) as f64).cos();
            (w * x).powi(2)
        })
        .sum();
    (sum_sq / n as f64).sqrt()
}
#[test]
fn logistic_loss_gradient() {
    let mut next = xorshift(0x5eed_0010);
    for point in 0..POINTS {
        let (d, rows) = (2 + point % 3, 3 + point);
        let w = uniforms(&mut next, d, -1.0, 1.0);
        let b = uniform(&mut next, -0.5, 0.5);
        let xs = uniforms(&mut next, d * rows, -2.0, 2.0);
        let ys: Vec<f64> = (0..rows).map(|i| (i % 2) as f64).collect();
        let (v, (dw, db, dxs, dys)) = logistic_loss_value_and_grad(&w, b, &xs, &ys);
        assert_eq!(v, logistic_loss(&w, b, &xs, &ys));
        let x: Vec<f64> = [&w[..], &[b], &xs[..], &ys[..]].concat();
        let analytic: Vec<f64> = [&dw[..], &[db], &dxs[..], &dys[..]].concat();
        let split = |x: &[f64]| -> (Vec<f64>, f64, Vec<f64>, Vec<f64>) {
            let (w, rest) = x.split_at(d);
            let (b, rest) = rest.split_at(1);
            let (xs, ys) = rest.split_at(d * rows);
            (w.to_vec(), b[0], xs.to_vec(), ys.to_vec())
        };
        let f = |x: &[f64]| {
            let (w, b, xs, ys) = split(x);
            logistic_loss(&w, b, &xs, &ys)
        };
        let mirror = |x: &[Dual64]| {
            let (w, rest) = x.split_at(d);
            let (b, rest) = rest.split_at(1);
            let (xs, ys) = rest.split_at(d * rows);
            let mut loss = c(0.0);
            for i in 0..rows {
                let mut z = b[0];
                for j in 0..d {
                    z += w[j] * xs[i * d + j];
                }
                let p = (c(1.0) + (-z).exp()).recip();
                loss -= ys[i] * p.ln() + (c(1.0) - ys[i]) * (c(1.0) - p).ln();
            }
            loss / rows as f64
        };
        check("logistic_loss", f, mirror, &x, &analytic);
    }
}

#[test]
fn lowpass_tracking_error_gradient() {
    let mut next = xorshift(0x5eed_0011);
    for point in 0..POINTS {
        let n = 2 + point;
        let input = uniforms(&mut next, n, -1.0, 1.0);
        let target = uniforms(&mut next, n, -1.0, 1.0);
        let alpha = uniform(&mut next, 0.1, 0.9);
        let (v, (di, dt, da)) = lowpass_tracking_error_value_and_grad(&input, &target, alpha);
        assert_eq!(v, lowpass_tracking_error(&input, &target, alpha));
        let x: Vec<f64> = [&input[..], &target[..], &[alpha]].concat();
        let analytic: Vec<f64> = [&di[..], &dt[..], &[da]].concat();
        let f = |x: &[f64]| lowpass_tracking_error(&x[..n], &x[n..2 * n], x[2 * n]);
        let mirror = |x: &[Dual64]| {
            let alpha = x[2 * n];
            let mut y = x[0];
            let mut err = c(0.0);
            for i in 0..n {
                y += alpha * (x[i] - y);
                err += (y - x[n + i]).powi(2);
            }
            err
        };
        check("lowpass_tracking_error", f, mirror, &x, &analytic);
    }
}

#[test]
fn hann_windowed_rms_gradient() {
    let mut next = xorshift(0x5eed_0012);
    for point in 0..POINTS {
        let n = 3 + point;
        let frame = uniforms(&mut next, n, -1.0, 1.0);
        let (v, analytic) = hann_windowed_rms_value_and_grad(&frame);
        assert_eq!(v, hann_windowed_rms(&frame));
        let mirror = |x: &[Dual64]| {
            let mut sum_sq = c(0.0);
            for (i, &x) in x.iter().enumerate() {
                let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / (n - 1) as f64).cos();
                sum_sq += (x * w).powi(2);
            }
            (sum_sq / n as f64).sqrt()
        };
        check(
            "hann_windowed_rms",
            hann_windowed_rms,
            mirror,
            &frame,
            &analytic,
        );
    }
}

/// Compiled, but gave a wrong value and gradient before issue 13's fix: the arm patterns `LOSS_L2`, `LOSS_L1`, `LOSS_LOG_COSH` name `const` items, but the
/// macro read a bare identifier pattern as a binding that matches everything, so it kept only
/// the first arm (`r * r`): `regression_loss_value_and_grad` returned the L2 value and gradient
/// for every mode, with no warning or error. The generated code now keeps the patterns.
mod const_match_arms {
    use super::*;

    const LOSS_L2: u8 = 0;
    const LOSS_L1: u8 = 1;
    const LOSS_LOG_COSH: u8 = 2;

    /// Regression loss chosen by a mode code.
    #[differentiable]
    fn regression_loss(pred: &[f64], target: &[f64], mode: u8) -> f64 {
        let mut total = 0.0;
        for i in 0..pred.len() {
            let r = pred[i] - target[i];
            total += match mode {
                LOSS_L2 => r * r,
                LOSS_L1 => r.abs(),
                LOSS_LOG_COSH => r.cosh().ln(),
                _ => 0.0,
            };
        }
        total / pred.len() as f64
    }

    #[test]
    fn regression_loss_matches_its_gradient() {
        let mut next = xorshift(0x5eed_000e);
        for mode in [LOSS_L2, LOSS_L1, LOSS_LOG_COSH, 9] {
            let n = 5;
            let pred = uniforms(&mut next, n, -2.0, 2.0);
            let target = uniforms(&mut next, n, -2.0, 2.0);
            let (v, (dp, dt)) = regression_loss_value_and_grad(&pred, &target, mode);
            assert_eq!(v, regression_loss(&pred, &target, mode), "mode {mode}");
            let x: Vec<f64> = [&pred[..], &target[..]].concat();
            let analytic: Vec<f64> = [&dp[..], &dt[..]].concat();
            let f = |x: &[f64]| regression_loss(&x[..n], &x[n..], mode);
            let mirror = |x: &[Dual64]| {
                let mut total = c(0.0);
                for i in 0..n {
                    let r = x[i] - x[n + i];
                    total += match mode {
                        LOSS_L2 => r * r,
                        LOSS_L1 => d_abs(r),
                        LOSS_LOG_COSH => r.cosh().ln(),
                        _ => c(0.0),
                    };
                }
                total / n as f64
            };
            check("regression_loss", f, mirror, &x, &analytic);
        }
    }
}

#[test]
fn vec3_alias_functions() {
    use vec3_aliases::*;
    let mut next = xorshift(0x5eed_0015);
    for _ in 0..POINTS {
        let x = uniforms(&mut next, 9, -1.0, 1.0);
        // dot: the gradient entries are each other.
        let (a, b) = ([x[0], x[1], x[2]], [x[3], x[4], x[5]]);
        assert_eq!(dot_grad(a, b), (b, a));
        // A cluster of three atoms.
        let pos = [
            [0.0, 0.0, 0.0],
            [1.1 + x[6] * 0.05, 0.1, 0.0],
            [0.2, 1.0 + x[7] * 0.05, 0.3 + x[8] * 0.05],
        ];
        let (d_pos, d_eps, d_sigma) = lennard_jones_grad(pos, 1.0, 1.0);
        let f = |p: &[f64]| {
            lennard_jones(
                [[p[0], p[1], p[2]], [p[3], p[4], p[5]], [p[6], p[7], p[8]]],
                p[9],
                p[10],
            )
        };
        let point: Vec<f64> = pos.iter().flatten().copied().chain([1.0, 1.0]).collect();
        let analytic: Vec<f64> = d_pos
            .iter()
            .flatten()
            .copied()
            .chain([d_eps, d_sigma])
            .collect();
        let mirror = |p: &[Dual64]| {
            let mut energy = c(0.0);
            for i in 0..3 {
                for j in (i + 1)..3 {
                    let r2 = (0..3).fold(c(0.0), |s, k| {
                        let d = p[3 * i + k] - p[3 * j + k];
                        s + d * d
                    });
                    let sr6 = (p[10] * p[10] / r2).powi(3);
                    energy += p[9] * 4.0 * (sr6 * sr6 - sr6);
                }
            }
            energy
        };
        check("lennard_jones (Vec3)", f, mirror, &point, &analytic);
    }
}
