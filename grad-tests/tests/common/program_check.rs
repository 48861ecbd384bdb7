//! The checks of one generated program at one point, against fourth-order central finite
//! differences and dual numbers: shared by `tests/random_programs.rs` and by the crates that
//! `tests/program_batches.rs` generates (which load this file by its path), so that both
//! apply the same tolerances, clearances and error estimates.
//!
//! A program is a [`Subject`]: its primal, companions and `Dual64` mirror as function
//! pointers (the mirror also reports, through its `margin` argument, how far the point is
//! from a kink or from flipping a comparison, in input units).
#![allow(dead_code)]

use std::cell::Cell;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use num_dual::Dual64;

/// Points closer than this to a kink or to a comparison's flip, in input units (the mirror's
/// linear estimate), are skipped by the finite-difference check: its stencils span up to
/// ±4h = ±4.9e-4 and must take the same path everywhere.
pub const CLEARANCE: f64 = 0.01;
/// Points this close are skipped by the dual-number check too: at a tie the two may
/// legitimately take different paths.
pub const TIE: f64 = 1e-9;

pub type Gradient = (f64, f64, f64, [f64; 4]);
pub type Primal = fn(f64, f64, f64, [f64; 4], usize) -> f64;
pub type Grad = fn(f64, f64, f64, [f64; 4], usize) -> Gradient;
pub type ValueAndGrad = fn(f64, f64, f64, [f64; 4], usize) -> (f64, Gradient);
pub type Vjp = fn(f64, f64, f64, [f64; 4], usize, f64) -> Gradient;
pub type Mirror = fn(Dual64, Dual64, Dual64, [Dual64; 4], usize, &Cell<f64>) -> Dual64;
pub type ValueAndGrad32 = fn(f32, f32, f32, [f32; 4], usize) -> (f32, (f32, f32, f32, [f32; 4]));
/// `_jvp` along a tangent of the seven inputs: the value and the directional derivative.
pub type Jvp = fn(f64, f64, f64, [f64; 4], usize, [f64; 7]) -> (f64, f64);
/// `_hvp` along a direction of the seven inputs: the Hessian times it.
pub type Hvp = fn(f64, f64, f64, [f64; 4], usize, [f64; 7]) -> Gradient;

/// How far the gradient in `f32` of a program generic over its float type may be from the
/// `f64` one, relative to the largest component (at least 1): rounding at `f32`'s 6e-8,
/// through up to a few thousand operations, some of them ill-conditioned.
pub const F32_TOLERANCE: f64 = 2e-3;

/// A generated program with its companions and its dual-number mirror.
#[derive(Clone, Copy)]
pub struct Subject {
    pub name: &'static str,
    pub primal: Primal,
    pub grad: Grad,
    pub value_and_grad: ValueAndGrad,
    pub vjp: Vjp,
    pub dual: Mirror,
    /// `_value_and_grad` in `f32`, of a program generic over its float type.
    pub value_and_grad32: Option<ValueAndGrad32>,
    /// `_jvp`, where grad gives it.
    pub jvp: Option<Jvp>,
    /// `_hvp`, where the program asks for `hessian` and grad gives it.
    pub hvp: Option<Hvp>,
}

/// The seven float inputs `(x0, x1, x2, v0, v1, v2, v3)` and `n`.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    pub x: [f64; 7],
    pub n: usize,
}

impl Point {
    pub fn v(&self) -> [f64; 4] {
        [self.x[3], self.x[4], self.x[5], self.x[6]]
    }
}

pub fn primal(p: &Subject, x: [f64; 7], n: usize) -> f64 {
    (p.primal)(x[0], x[1], x[2], [x[3], x[4], x[5], x[6]], n)
}

pub fn flat((a, b, c, v): Gradient) -> [f64; 7] {
    [a, b, c, v[0], v[1], v[2], v[3]]
}

pub fn grad(p: &Subject, q: Point) -> [f64; 7] {
    flat((p.grad)(q.x[0], q.x[1], q.x[2], q.v(), q.n))
}

/// The fourth-order central difference of program `p` along input `i` at `q`, and an estimate
/// of its truncation error: Richardson's `|D(h) - D(2h)| / 15`. Some programs bend hard
/// (a fifth derivative in the thousands, seen near a comparison's flip), where `D(h)` is off
/// by more than 1e-6 relative although the gradient is exact.
pub fn finite_difference(p: &Subject, q: Point, i: usize) -> (f64, f64) {
    let at = |t: f64| {
        let mut x = q.x;
        x[i] += t;
        primal(p, x, q.n)
    };
    let d = |h: f64| (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
    let h = 1.0 / 8192.0;
    let fd = d(h);
    (fd, (fd - d(2.0 * h)).abs() / 15.0)
}

/// The smallest margin the mirror sees at the points of the finite-difference stencils along
/// input `i`. The margin at `q` alone extrapolates linearly, and misses a comparison of two
/// sides that are the same function computed two ways (`x0 - s0 + s0 < x0`, generated): equal
/// at `q` with equal derivatives, rounding alone picks the branch at the stencil's points,
/// where the mirror sees the tie. Computed only when a difference disagrees.
pub fn stencil_margin(p: &Subject, q: Point, i: usize) -> f64 {
    let h = 1.0 / 8192.0;
    [-4.0, -2.0, -1.0, 1.0, 2.0, 4.0]
        .iter()
        .map(|k| {
            let mut x = q.x;
            x[i] += k * h;
            dual_gradient(p, Point { x, n: q.n }).2
        })
        .fold(f64::INFINITY, f64::min)
}

/// The value, gradient and margin (to the nearest kink or flip) of the dual-number mirror.
pub fn dual_gradient(p: &Subject, q: Point) -> (f64, [f64; 7], f64) {
    let margin = Cell::new(f64::INFINITY);
    let mut value = 0.0;
    let mut gradient = [0.0; 7];
    for (i, slot) in gradient.iter_mut().enumerate() {
        let x: [Dual64; 7] =
            std::array::from_fn(|j| Dual64::new(q.x[j], if i == j { 1.0 } else { 0.0 }));
        let out = (p.dual)(x[0], x[1], x[2], [x[3], x[4], x[5], x[6]], q.n, &margin);
        value = out.re;
        *slot = out.eps;
    }
    (value, gradient, margin.get())
}

pub fn describe(p: &Subject, q: Point) -> String {
    format!(
        "{}({:?}, {:?}, {:?}, {:?}, {})",
        p.name,
        q.x[0],
        q.x[1],
        q.x[2],
        q.v(),
        q.n
    )
}

/// A failed check: which one (`fd`, `dual`, ...) and what it saw.
#[derive(Clone, Debug)]
pub struct Failure {
    pub check: &'static str,
    pub message: String,
}

fn fail(check: &'static str, message: String) -> Failure {
    Failure { check, message }
}

/// The value and the gradient are finite.
pub fn check_finite(p: &Subject, q: Point) -> Result<(), Failure> {
    let (value, g) = (p.value_and_grad)(q.x[0], q.x[1], q.x[2], q.v(), q.n);
    let finite = value.is_finite() && flat(g).iter().all(|g| g.is_finite());
    if finite {
        Ok(())
    } else {
        Err(fail(
            "nonfinite",
            format!("{} = {value}, grad {g:?}", describe(p, q)),
        ))
    }
}

/// `f_grad` agrees with fourth-order central differences to 1e-6, relative, plus four times
/// the difference's own error estimate. `Ok(false)`: the point is within [`CLEARANCE`] of a
/// kink or a flip, and was skipped.
pub fn check_finite_differences(p: &Subject, q: Point) -> Result<bool, Failure> {
    let (_, _, margin) = dual_gradient(p, q);
    if margin < CLEARANCE {
        return Ok(false);
    }
    let g = grad(p, q);
    let value = primal(p, q.x, q.n);
    for (i, g) in g.into_iter().enumerate() {
        let (fd, truncation) = finite_difference(p, q, i);
        let tolerance =
            1e-6 * fd.abs().max(g.abs()) + 1e-9 * (1.0 + value.abs()) + 4.0 * truncation;
        // Written so that a NaN fails.
        if !((g - fd).abs() <= tolerance) {
            if stencil_margin(p, q, i) < CLEARANCE / 2.0 {
                return Ok(false);
            }
            return Err(fail(
                "fd",
                format!(
                    "d/dx{i} {}: grad {g} vs finite difference {fd} (error {:e})",
                    describe(p, q),
                    (g - fd).abs()
                ),
            ));
        }
    }
    Ok(true)
}

/// `f_grad` agrees with forward-mode dual numbers to 1e-10, relative, and the primal with the
/// mirror's value. `Ok(false)`: the point is within [`TIE`] of a kink or a flip.
pub fn check_dual(p: &Subject, q: Point) -> Result<bool, Failure> {
    let (value, dual, margin) = dual_gradient(p, q);
    if margin < TIE {
        return Ok(false);
    }
    let g = grad(p, q);
    let scale = dual.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for i in 0..7 {
        // Relative, except for a component that is tiny next to the others: summed from
        // cancelling terms, it keeps only their absolute accuracy.
        let tolerance = 1e-10 * dual[i].abs().max(1e-3 * scale) + 1e-13;
        if !((g[i] - dual[i]).abs() <= tolerance) {
            return Err(fail(
                "dual",
                format!(
                    "d/dx{i} {}: grad {} vs dual {} (error {:e})",
                    describe(p, q),
                    g[i],
                    dual[i],
                    (g[i] - dual[i]).abs()
                ),
            ));
        }
    }
    let primal = primal(p, q.x, q.n);
    if !((primal - value).abs() <= 1e-12 * (1.0 + primal.abs())) {
        return Err(fail(
            "dual-value",
            format!("{}: primal {primal} vs dual {value}", describe(p, q)),
        ));
    }
    Ok(true)
}

/// The gradient in `f32` of a program generic over its float type agrees loosely with the
/// `f64` one at the same point (the point rounded to `f32`), within [`F32_TOLERANCE`] of the
/// largest component. `Ok(false)`: no `f32` gradient; or the point is within [`CLEARANCE`] of
/// a kink or a flip, which `f32` rounding could cross; or the value in `f32` is not within
/// [`F32_TOLERANCE`] of the value in `f64`: rounding took the function itself elsewhere (the
/// sign of `(x * 0.9).acos().cos()`, zero in exact arithmetic, picked by a `copysign`).
pub fn check_f32(p: &Subject, q: Point) -> Result<bool, Failure> {
    let Some(value_and_grad32) = p.value_and_grad32 else {
        return Ok(false);
    };
    let x32 = q.x.map(|x| x as f32);
    let q = Point {
        x: x32.map(f64::from),
        n: q.n,
    };
    let (_, _, margin) = dual_gradient(p, q);
    if margin < CLEARANCE {
        return Ok(false);
    }
    let (value32, (a, b, c, v)) = value_and_grad32(
        x32[0],
        x32[1],
        x32[2],
        [x32[3], x32[4], x32[5], x32[6]],
        q.n,
    );
    let value = primal(p, q.x, q.n);
    if !((f64::from(value32) - value).abs() <= F32_TOLERANCE * (1.0 + value.abs())) {
        return Ok(false);
    }
    let g = grad(p, q);
    let g32 = [a, b, c, v[0], v[1], v[2], v[3]].map(f64::from);
    let scale = g.iter().fold(1.0f64, |m, g| m.max(g.abs()));
    for i in 0..7 {
        if !((g32[i] - g[i]).abs() <= F32_TOLERANCE * scale) {
            return Err(fail(
                "f32",
                format!(
                    "d/dx{i} {}: grad in f32 {} vs f64 {} (error {:e}, scale {scale})",
                    describe(p, q),
                    g32[i],
                    g[i],
                    (g32[i] - g[i]).abs()
                ),
            ));
        }
    }
    Ok(true)
}

/// `f_value_and_grad` returns exactly the primal's value and exactly `f_grad`.
pub fn check_value_and_grad(p: &Subject, q: Point) -> Result<(), Failure> {
    let (value, g) = (p.value_and_grad)(q.x[0], q.x[1], q.x[2], q.v(), q.n);
    let primal = primal(p, q.x, q.n);
    if value.to_bits() != primal.to_bits() {
        return Err(fail(
            "value-and-grad",
            format!("{}: {} vs {}", describe(p, q), value, primal),
        ));
    }
    let plain = grad(p, q);
    if flat(g) != plain {
        return Err(fail(
            "value-and-grad",
            format!("{}: gradient {:?} vs {:?}", describe(p, q), flat(g), plain),
        ));
    }
    Ok(())
}

/// `f_vjp(.., u)` is `u` times the gradient: exactly for `power`, a power of two, to rounding
/// for `u`.
pub fn check_vjp(p: &Subject, q: Point, power: f64, u: f64) -> Result<(), Failure> {
    let g = grad(p, q);
    let vjp = |upstream: f64| flat((p.vjp)(q.x[0], q.x[1], q.x[2], q.v(), q.n, upstream));
    let exact = vjp(power);
    // `==`, not bits: `-16 * 0.0` is `-0.0`, which a sweep may well compute as `0.0`.
    if exact != g.map(|g| power * g) {
        return Err(fail(
            "vjp",
            format!(
                "{} with upstream {}: {:?} vs {:?}",
                describe(p, q),
                power,
                exact,
                g
            ),
        ));
    }
    let scaled = vjp(u);
    let scale = g.iter().fold(0.0f64, |m, g| m.max(g.abs())) * u.abs();
    for i in 0..7 {
        let want = u * g[i];
        let tolerance = 1e-10 * want.abs().max(1e-3 * scale) + 1e-13 * u.abs();
        if !((scaled[i] - want).abs() <= tolerance) {
            return Err(fail(
                "vjp",
                format!(
                    "d/dx{i} {} with upstream {u}: {} vs {want}",
                    describe(p, q),
                    scaled[i]
                ),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Forward mode and second order.

/// A direction of the seven inputs in `[-1, 1]^7`, drawn from the point's bits (`salt` tells
/// the tangent of `_jvp` from the direction of `_hvp`), so that a failure's point determines it.
pub fn direction(q: Point, salt: u64) -> [f64; 7] {
    let seed =
        q.x.iter()
            .fold(salt ^ q.n as u64, |h, x| (h ^ x.to_bits()).rotate_left(17));
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
    std::array::from_fn(|_| rng.uniform(-1.0, 1.0))
}

const TANGENT_SALT: u64 = 0x6a76_7000;
const DIRECTION_SALT: u64 = 0x6876_7000;

/// The tangent the `_jvp` check takes at `q`.
pub fn tangent(q: Point) -> [f64; 7] {
    direction(q, TANGENT_SALT)
}

/// The direction the `_hvp` check takes at `q`.
pub fn hvp_direction(q: Point) -> [f64; 7] {
    direction(q, DIRECTION_SALT)
}

/// The mirror seeded with the tangent `t` (one forward pass): its value, its directional
/// derivative and the margin along `t`.
pub fn dual_along(p: &Subject, q: Point, t: [f64; 7]) -> (f64, f64, f64) {
    let margin = Cell::new(f64::INFINITY);
    let x: [Dual64; 7] = std::array::from_fn(|j| Dual64::new(q.x[j], t[j]));
    let out = (p.dual)(x[0], x[1], x[2], [x[3], x[4], x[5], x[6]], q.n, &margin);
    (out.re, out.eps, margin.get())
}

/// `f_jvp` along a random tangent `t`: its value is the primal's, its tangent is `f_grad · t`
/// to 1e-10 of the sum of the terms' magnitudes, and it agrees with the mirror seeded with
/// `t` as `check_dual` does. `Ok(false)`: no `_jvp`, or (for the mirror) the point is within
/// [`TIE`] of a kink or a flip.
pub fn check_jvp(p: &Subject, q: Point) -> Result<bool, Failure> {
    let Some(jvp) = p.jvp else {
        return Ok(false);
    };
    let t = tangent(q);
    let (value, tangent) = jvp(q.x[0], q.x[1], q.x[2], q.v(), q.n, t);
    let primal = primal(p, q.x, q.n);
    if !(value == primal || (value.is_nan() && primal.is_nan())) {
        return Err(fail(
            "jvp-value",
            format!("{}: jvp value {value} vs primal {primal}", describe(p, q)),
        ));
    }
    let g = grad(p, q);
    let dot: f64 = g.iter().zip(&t).map(|(g, t)| g * t).sum();
    let terms: f64 = g.iter().zip(&t).map(|(g, t)| (g * t).abs()).sum();
    if !((tangent - dot).abs() <= 1e-10 * terms + 1e-13) {
        return Err(fail(
            "jvp",
            format!(
                "{} along {t:?}: jvp {tangent} vs grad · t {dot} (error {:e})",
                describe(p, q),
                (tangent - dot).abs()
            ),
        ));
    }
    let (_, dual, margin) = dual_along(p, q, t);
    if margin < TIE {
        return Ok(false);
    }
    if !((tangent - dual).abs() <= 1e-10 * dual.abs().max(1e-3 * terms) + 1e-13) {
        return Err(fail(
            "jvp-dual",
            format!(
                "{} along {t:?}: jvp {tangent} vs dual {dual} (error {:e})",
                describe(p, q),
                (tangent - dual).abs()
            ),
        ));
    }
    Ok(true)
}

/// `f_hvp` along a random direction `d` agrees with fourth-order central differences of
/// `f_grad` along `d` to 1e-5, relative to the largest component, plus four times the
/// differences' own error estimate. `Ok(false)`: no `_hvp`, or the point (or a point of the
/// stencil) is within [`CLEARANCE`] of a kink or a flip along `d`.
pub fn check_hvp(p: &Subject, q: Point) -> Result<bool, Failure> {
    let Some(hvp) = p.hvp else {
        return Ok(false);
    };
    let d = hvp_direction(q);
    let (_, _, margin) = dual_gradient(p, q);
    if margin < CLEARANCE || dual_along(p, q, d).2 < CLEARANCE {
        return Ok(false);
    }
    let h = 1.0 / 8192.0;
    let at = |s: f64| {
        let mut x = q.x;
        for (x, d) in x.iter_mut().zip(&d) {
            *x += s * d;
        }
        Point { x, n: q.n }
    };
    let g = |s: f64| grad(p, at(s));
    let diff = |h: f64| -> [f64; 7] {
        let (a, b, c, e) = (g(h), g(-h), g(2.0 * h), g(-2.0 * h));
        std::array::from_fn(|i| (8.0 * (a[i] - b[i]) - (c[i] - e[i])) / (12.0 * h))
    };
    let (fd, coarse) = (diff(h), diff(2.0 * h));
    let hv = flat(hvp(q.x[0], q.x[1], q.x[2], q.v(), q.n, d));
    let scale = fd
        .iter()
        .chain(&hv)
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-3 * grad(p, q).iter().fold(0.0f64, |m, g| m.max(g.abs())));
    for i in 0..7 {
        let truncation = (fd[i] - coarse[i]).abs() / 15.0;
        let tolerance =
            1e-5 * fd[i].abs().max(hv[i].abs()).max(1e-2 * scale) + 1e-8 + 4.0 * truncation;
        if !((hv[i] - fd[i]).abs() <= tolerance) {
            // The stencil may cross a flip the margin at `q` does not see.
            let stencil = [-2.0, -1.0, 1.0, 2.0]
                .iter()
                .map(|k| dual_along(p, at(k * h), d).2)
                .fold(f64::INFINITY, f64::min);
            if stencil < CLEARANCE / 2.0 {
                return Ok(false);
            }
            return Err(fail(
                "hvp",
                format!(
                    "(H d)_{i} {} along {d:?}: hvp {} vs finite difference of grad {} (error {:e})",
                    describe(p, q),
                    hv[i],
                    fd[i],
                    (hv[i] - fd[i]).abs()
                ),
            ));
        }
    }
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// The driver of the generated batch crates (`tests/program_batches.rs`).

/// A point and the two upstream values of the vjp check.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub point: Point,
    pub power: f64,
    pub upstream: f64,
}

impl Case {
    pub fn from_bits(x: [u64; 7], n: usize, power: u64, upstream: u64) -> Case {
        Case {
            point: Point {
                x: x.map(f64::from_bits),
                n,
            },
            power: f64::from_bits(power),
            upstream: f64::from_bits(upstream),
        }
    }
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi]`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// The deterministic cases of program `index` of a batch: `x ∈ [-2, 2]^7`, `n ∈ 0..=n_max`,
/// `power = ±2^k` with `k ∈ -8..8`, `upstream ∈ [-4, 4]`.
pub fn cases(seed: u64, index: usize, count: usize, n_max: usize) -> Vec<Case> {
    let mut rng = Rng(seed ^ (index as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    (0..count)
        .map(|_| {
            let x = std::array::from_fn(|_| rng.uniform(-2.0, 2.0));
            let n = (rng.next() % (n_max as u64 + 1)) as usize;
            let k = (rng.next() % 16) as i32 - 8;
            let sign = if rng.next() % 2 == 0 { 1.0 } else { -1.0 };
            Case {
                point: Point { x, n },
                power: sign * 2f64.powi(k),
                upstream: rng.uniform(-4.0, 4.0),
            }
        })
        .collect()
}

/// Counts of one run.
#[derive(Default)]
pub struct Stats {
    pub cases: usize,
    pub fd_skipped: usize,
    pub dual_skipped: usize,
    /// Points where `check_hvp` compared `_hvp` with the finite differences (not skipped).
    pub hvp_checked: usize,
}

/// Every check of `p` at `c`: the failures, at most one per check.
pub fn check_case(p: &Subject, c: &Case, stats: &mut Stats) -> Vec<Failure> {
    let q = c.point;
    stats.cases += 1;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut failures = Vec::new();
        if let Err(f) = check_finite(p, q) {
            // The other checks would only repeat it.
            return (vec![f], true, true, false);
        }
        let fd = check_finite_differences(p, q);
        let dual = check_dual(p, q);
        let skipped = (
            fd.as_ref().is_ok_and(|c| !c),
            dual.as_ref().is_ok_and(|c| !c),
        );
        failures.extend(fd.err());
        failures.extend(dual.err());
        failures.extend(check_value_and_grad(p, q).err());
        failures.extend(check_vjp(p, q, c.power, c.upstream).err());
        failures.extend(check_f32(p, q).err());
        failures.extend(check_jvp(p, q).err());
        let hvp = check_hvp(p, q);
        let hvp_checked = matches!(hvp, Ok(true));
        failures.extend(hvp.err());
        (failures, skipped.0, skipped.1, hvp_checked)
    }));
    match outcome {
        Ok((failures, fd_skipped, dual_skipped, hvp_checked)) => {
            stats.fd_skipped += usize::from(fd_skipped);
            stats.dual_skipped += usize::from(dual_skipped);
            stats.hvp_checked += usize::from(hvp_checked);
            failures
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            vec![fail(
                "panic",
                format!("{} panicked: {message}", describe(p, q)),
            )]
        }
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\t', '\n'], " ")
}

/// `GRAD-FUZZ FAIL label check n x-bits power-bits upstream-bits message`, tab-separated,
/// the floats as the hexadecimal bits of their `f64`s: the line `tests/program_batches.rs`
/// parses.
pub fn report(out: &mut impl std::io::Write, label: &str, c: &Case, f: &Failure) {
    let x: Vec<String> = c
        .point
        .x
        .iter()
        .map(|x| format!("{:016x}", x.to_bits()))
        .collect();
    let _ = writeln!(
        out,
        "GRAD-FUZZ\tFAIL\t{label}\t{}\t{}\t{}\t{:016x}\t{:016x}\t{}",
        f.check,
        c.point.n,
        x.join(","),
        c.power.to_bits(),
        c.upstream.to_bits(),
        one_line(&f.message)
    );
}

/// Checks every program at `per_program` cases and prints a line per failure, a line
/// `GRAD-FUZZ HVP name points` for each program with `_hvp` (the points where it was
/// compared, not skipped), and a summary line `GRAD-FUZZ DONE programs cases fd-skipped
/// dual-skipped hvp-points`.
pub fn fuzz_main(programs: &[Subject], seed: u64, per_program: usize, n_max: usize) {
    // Panics are reported as failures; their messages are in the failure lines.
    std::panic::set_hook(Box::new(|_| {}));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut stats = Stats::default();
    for (index, p) in programs.iter().enumerate() {
        // Names the program if the process dies or hangs in it.
        let _ = writeln!(out, "GRAD-FUZZ\tSTART\t{}", p.name);
        let _ = out.flush();
        let hvp_before = stats.hvp_checked;
        for c in cases(seed, index, per_program, n_max) {
            for f in check_case(p, &c, &mut stats) {
                report(&mut out, p.name, &c, &f);
            }
        }
        if p.hvp.is_some() {
            let points = stats.hvp_checked - hvp_before;
            let _ = writeln!(out, "GRAD-FUZZ\tHVP\t{}\t{points}", p.name);
        }
        let _ = out.flush();
    }
    let _ = writeln!(
        out,
        "GRAD-FUZZ\tDONE\t{}\t{}\t{}\t{}\t{}",
        programs.len(),
        stats.cases,
        stats.fd_skipped,
        stats.dual_skipped,
        stats.hvp_checked
    );
}

/// Checks each `(label, program, case)` and prints its failures, then a line
/// `GRAD-FUZZ DETAIL label ...` with the values compared, for the shrinker's report.
pub fn candidates_main(jobs: &[(&'static str, Subject, Case)]) {
    std::panic::set_hook(Box::new(|_| {}));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut stats = Stats::default();
    for (label, p, c) in jobs {
        for f in check_case(p, c, &mut stats) {
            report(&mut out, label, c, &f);
        }
        let q = c.point;
        let detail = catch_unwind(AssertUnwindSafe(|| {
            let (dual_value, dual, margin) = dual_gradient(p, q);
            let fd: Vec<f64> = (0..7).map(|i| finite_difference(p, q, i).0).collect();
            format!(
                "at {}: value {:?}, dual value {:?}, margin {:e}; grad {:?}; finite differences {:?}; dual {:?}",
                describe(p, q),
                primal(p, q.x, q.n),
                dual_value,
                margin,
                grad(p, q),
                fd,
                dual
            )
        }))
        .unwrap_or_else(|_| "panicked".to_string());
        let _ = writeln!(out, "GRAD-FUZZ\tDETAIL\t{label}\t{}", one_line(&detail));
        let _ = out.flush();
    }
}
