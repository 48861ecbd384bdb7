//! Generated `#[differentiable]` programs with branches, loops and arrays, against finite
//! differences and dual numbers.
//!
//! `tests/generated/random_programs.rs` holds the programs under test, written by
//! `tests/generate/programs.rs` from a fixed seed: `if`/`else if`/`else` and `match` as
//! statements and values, `for` over ranges (literal and runtime bounds, `rev`, `step_by`) and
//! arrays, `while` and `loop` with counters, `break` (also with a value and by label),
//! `continue`, early `return` from loops, local arrays filled in loops, iterator idioms and
//! calls of earlier programs inside loops and branches. `random_programs_dual.rs` holds a
//! mirror of each over `num_dual::Dual64` with the same control flow, which also measures how
//! close a point is to a kink or to flipping a float comparison. Every program is checked at
//! 32 points `(x0, x1, x2) ∈ [-2, 2]^3`, `v ∈ [-2, 2]^4`, `n ∈ 0..=N_MAX` drawn by proptest
//! from a fixed seed, so runs are reproducible.

// Random programs contain what a person would not write (`let v = v;`, `x >= x`): clippy's
// style lints have nothing to say about them.
#![allow(clippy::all)]

use std::cell::Cell;

use num_dual::Dual64;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};

include!("generated/random_programs.rs");
include!("generated/random_programs_dual.rs");

use random_programs_dual::{Gradient, N_MAX, PROGRAMS, Program};

/// Points closer than this to a kink or to a comparison's flip, in input units (the mirror's
/// linear estimate), are skipped by the finite-difference check: its stencils span up to
/// ±4h = ±4.9e-4 and must take the same path everywhere.
const CLEARANCE: f64 = 0.01;
/// Points this close are skipped by the dual-number check too: at a tie the two may
/// legitimately take different paths.
const TIE: f64 = 1e-9;

fn config(seed: u64) -> Config {
    Config {
        cases: 32,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        // Shrinking would move every program's point at once, trading the failure found for
        // another; the message names the program and the exact point.
        max_shrink_iters: 0,
        ..Config::default()
    }
}

/// The seven float inputs `(x0, x1, x2, v0, v1, v2, v3)` and `n`.
#[derive(Clone, Copy, Debug)]
struct Point {
    x: [f64; 7],
    n: usize,
}

impl Point {
    fn v(&self) -> [f64; 4] {
        [self.x[3], self.x[4], self.x[5], self.x[6]]
    }
}

/// One point per generated program.
fn points() -> impl Strategy<Value = Vec<Point>> {
    let point = (prop::array::uniform7(-2.0..=2.0f64), 0..=N_MAX).prop_map(|(x, n)| Point { x, n });
    prop::collection::vec(point, PROGRAMS.len()..=PROGRAMS.len())
}

fn primal(p: &Program, x: [f64; 7], n: usize) -> f64 {
    (p.primal)(x[0], x[1], x[2], [x[3], x[4], x[5], x[6]], n)
}

fn flat((a, b, c, v): Gradient) -> [f64; 7] {
    [a, b, c, v[0], v[1], v[2], v[3]]
}

fn grad(p: &Program, q: Point) -> [f64; 7] {
    flat((p.grad)(q.x[0], q.x[1], q.x[2], q.v(), q.n))
}

/// The fourth-order central difference of program `p` along input `i` at `q`, and an estimate
/// of its truncation error: Richardson's `|D(h) - D(2h)| / 15`. Some programs bend hard
/// (a fifth derivative in the thousands, seen near a comparison's flip), where `D(h)` is off
/// by more than 1e-6 relative although the gradient is exact.
fn finite_difference(p: &Program, q: Point, i: usize) -> (f64, f64) {
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

/// The value, gradient and margin (to the nearest kink or flip) of the dual-number mirror.
fn dual_gradient(p: &Program, q: Point) -> (f64, [f64; 7], f64) {
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

fn describe(p: &Program, q: Point) -> String {
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

#[test]
fn every_generated_program_is_finite_at_the_corners_and_the_origin() {
    let mut points = vec![[0.0; 7]];
    for corner in [0u32, 0b1010101, 0b0101010, 0b1111111, 0b0011100, 0b1100011] {
        points.push(std::array::from_fn(|bit| {
            if corner >> bit & 1 == 1 { 2.0 } else { -2.0 }
        }));
    }
    for p in &PROGRAMS {
        for &x in &points {
            for n in [0, 1, N_MAX] {
                let q = Point { x, n };
                let (value, g) = (p.value_and_grad)(x[0], x[1], x[2], q.v(), n);
                let finite = value.is_finite() && flat(g).iter().all(|g| g.is_finite());
                assert!(finite, "{} = {value}, grad {g:?}", describe(p, q));
            }
        }
    }
}

proptest! {
    #![proptest_config(config(0x0002))]

    /// `f_grad` agrees with fourth-order central differences to 1e-6, relative, plus four times
    /// the difference's own error estimate.
    #[test]
    fn gradients_match_finite_differences(points in points()) {
        let mut skipped = 0;
        for (p, q) in PROGRAMS.iter().zip(points) {
            let (_, _, margin) = dual_gradient(p, q);
            if margin < CLEARANCE {
                skipped += 1;
                continue;
            }
            let g = grad(p, q);
            let value = primal(p, q.x, q.n);
            for (i, g) in g.into_iter().enumerate() {
                let (fd, truncation) = finite_difference(p, q, i);
                let tolerance =
                    1e-6 * fd.abs().max(g.abs()) + 1e-9 * (1.0 + value.abs()) + 4.0 * truncation;
                prop_assert!(
                    (g - fd).abs() <= tolerance,
                    "d/dx{i} {}: grad {g} vs finite difference {fd} (error {:e})",
                    describe(p, q), (g - fd).abs()
                );
            }
        }
        // Kinks and comparisons must not hide most of the programs.
        prop_assert!(skipped * 5 <= PROGRAMS.len(), "{skipped} programs skipped near kinks");
    }

    /// `f_grad` agrees with forward-mode dual numbers to 1e-10, relative.
    #[test]
    fn gradients_match_dual_numbers(points in points()) {
        for (p, q) in PROGRAMS.iter().zip(points) {
            let (value, dual, margin) = dual_gradient(p, q);
            if margin < TIE {
                continue;
            }
            let g = grad(p, q);
            let scale = dual.iter().fold(0.0f64, |m, g| m.max(g.abs()));
            for i in 0..7 {
                // Relative, except for a component that is tiny next to the others: summed
                // from cancelling terms, it keeps only their absolute accuracy.
                let tolerance = 1e-10 * dual[i].abs().max(1e-3 * scale) + 1e-13;
                prop_assert!(
                    (g[i] - dual[i]).abs() <= tolerance,
                    "d/dx{i} {}: grad {} vs dual {} (error {:e})",
                    describe(p, q), g[i], dual[i], (g[i] - dual[i]).abs()
                );
            }
            let primal = primal(p, q.x, q.n);
            prop_assert!(
                (primal - value).abs() <= 1e-12 * (1.0 + primal.abs()),
                "{}: primal {primal} vs dual {value}", describe(p, q)
            );
        }
    }

    /// `f_value_and_grad` returns exactly the primal's value and exactly `f_grad`.
    #[test]
    fn value_and_grad_is_the_primal_and_the_gradient(points in points()) {
        for (p, q) in PROGRAMS.iter().zip(points) {
            let (value, g) = (p.value_and_grad)(q.x[0], q.x[1], q.x[2], q.v(), q.n);
            let primal = primal(p, q.x, q.n);
            prop_assert_eq!(
                value.to_bits(), primal.to_bits(),
                "{}: {} vs {}", describe(p, q), value, primal
            );
            prop_assert_eq!(flat(g), grad(p, q), "{}", describe(p, q));
        }
    }

    /// `f_vjp(.., u)` is `u` times the gradient: exactly for a power of two, to rounding
    /// otherwise.
    #[test]
    fn vjp_scales_the_gradient(
        points in points(),
        u in -4.0..4.0f64,
        k in -8i32..8,
        negative in any::<bool>(),
    ) {
        let power = if negative { -2f64.powi(k) } else { 2f64.powi(k) };
        for (p, q) in PROGRAMS.iter().zip(points) {
            let g = grad(p, q);
            let vjp = |upstream: f64| flat((p.vjp)(q.x[0], q.x[1], q.x[2], q.v(), q.n, upstream));
            let exact = vjp(power);
            // `==`, not bits: `-16 * 0.0` is `-0.0`, which a sweep may well compute as `0.0`.
            prop_assert_eq!(
                exact, g.map(|g| power * g),
                "{} with upstream {}: {:?} vs {:?}", describe(p, q), power, exact, g
            );
            let scaled = vjp(u);
            let scale = g.iter().fold(0.0f64, |m, g| m.max(g.abs())) * u.abs();
            for i in 0..7 {
                let want = u * g[i];
                let tolerance = 1e-10 * want.abs().max(1e-3 * scale) + 1e-13 * u.abs();
                prop_assert!(
                    (scaled[i] - want).abs() <= tolerance,
                    "d/dx{i} {} with upstream {u}: {} vs {want}", describe(p, q), scaled[i]
                );
            }
        }
    }
}
