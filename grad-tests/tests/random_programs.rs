//! Generated `#[differentiable]` programs with branches, loops and arrays, against finite
//! differences and dual numbers.
//!
//! `tests/generated/random_programs.rs` holds the programs under test, written by
//! `tests/generate/programs.rs` from a fixed seed: `if`/`else if`/`else` and `match` as
//! statements and values, `for` over ranges (literal and runtime bounds, `rev`, `step_by`) and
//! arrays, `while` and `loop` with counters, `break` (also with a value and by label),
//! `continue`, early `return` from loops, local arrays filled in loops, iterator idioms,
//! running maxima and minima (`m = m.max(e)` over a range, which grad reverses without a tape,
//! and near misses that it tapes), calls of earlier programs inside loops and branches, and
//! the switches of `Features::DEFAULT` (slices, tuple parameters, const generics, `const`
//! patterns, array patterns, whole-array assignment, labeled blocks, `Option` patterns,
//! programs generic over `T: num_traits::Float`, called as `prog_K::<f64>`, and programs
//! written as methods and associated functions of a constant `struct Params` in impl blocks,
//! called as `PARAMS.prog_K(..)` and `Params::prog_K(..)`, programs differentiated with respect
//! to a derived `struct Weights` parameter or `self`, checked field by field, and programs in
//! `#[differentiable] pub mod mK` blocks, called as `mK::prog_K(..)`).
//! `random_programs_dual.rs` holds a mirror of each over `num_dual::Dual64` with the same
//! control flow, which also measures how close a point is to a kink or to flipping a float
//! comparison. Every program is checked at 32 points `(x0, x1, x2) ∈ [-2, 2]^3`,
//! `v ∈ [-2, 2]^4`, `n ∈ 0..=N_MAX` drawn by proptest from a fixed seed, so runs are
//! reproducible; the generic ones also in `f32`, loosely. Where grad gives them, `_jvp` is
//! checked along a random tangent (value, `grad · t`, the mirror seeded with it) and `_hvp` (of
//! the programs written with `hessian`) against central differences of `_grad`.

// Random programs contain what a person would not write (`let v = v;`, `x >= x`): clippy's
// style lints have nothing to say about them.
#![allow(clippy::all)]

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};

include!("generated/random_programs.rs");
include!("generated/random_programs_dual.rs");

/// The checks, tolerances and clearances, shared with `tests/program_batches.rs`.
#[path = "common/program_check.rs"]
mod program_check;

use program_check::{
    Point, Subject, check_dual, check_f32, check_finite, check_finite_differences, check_hvp,
    check_jvp, check_value_and_grad, check_vjp,
};
use random_programs_dual::{N_MAX, PROGRAMS};

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

/// The programs under test.
fn subjects() -> Vec<Subject> {
    PROGRAMS
        .iter()
        .map(|p| Subject {
            name: p.name,
            primal: p.primal,
            grad: p.grad,
            value_and_grad: p.value_and_grad,
            vjp: p.vjp,
            dual: p.dual,
            value_and_grad32: p.value_and_grad32,
            jvp: p.jvp,
            hvp: p.hvp,
        })
        .collect()
}

/// One point per generated program.
fn points() -> impl Strategy<Value = Vec<Point>> {
    let point = (prop::array::uniform7(-2.0..=2.0f64), 0..=N_MAX).prop_map(|(x, n)| Point { x, n });
    prop::collection::vec(point, PROGRAMS.len()..=PROGRAMS.len())
}

#[test]
fn every_generated_program_is_finite_at_the_corners_and_the_origin() {
    let mut points = vec![[0.0; 7]];
    for corner in [0u32, 0b1010101, 0b0101010, 0b1111111, 0b0011100, 0b1100011] {
        points.push(std::array::from_fn(|bit| {
            if corner >> bit & 1 == 1 { 2.0 } else { -2.0 }
        }));
    }
    for p in &subjects() {
        for &x in &points {
            for n in [0, 1, N_MAX] {
                if let Err(f) = check_finite(p, Point { x, n }) {
                    panic!("{}", f.message);
                }
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
        for (p, q) in subjects().iter().zip(points) {
            match check_finite_differences(p, q) {
                Ok(checked) => skipped += usize::from(!checked),
                Err(f) => prop_assert!(false, "{}", f.message),
            }
        }
        // Kinks and comparisons must not hide most of the programs.
        prop_assert!(skipped * 5 <= PROGRAMS.len(), "{skipped} programs skipped near kinks");
    }

    /// `f_grad` agrees with forward-mode dual numbers to 1e-10, relative.
    #[test]
    fn gradients_match_dual_numbers(points in points()) {
        for (p, q) in subjects().iter().zip(points) {
            if let Err(f) = check_dual(p, q) {
                prop_assert!(false, "{}", f.message);
            }
        }
    }

    /// The programs generic over their float type give nearly the same gradient in `f32`.
    #[test]
    fn generic_gradients_in_f32_match_f64_loosely(points in points()) {
        for (p, q) in subjects().iter().zip(points) {
            if let Err(f) = check_f32(p, q) {
                prop_assert!(false, "{}", f.message);
            }
        }
    }

    /// `f_jvp` along a random tangent is the primal's value and `f_grad · t`, and agrees with
    /// the mirror seeded with the tangent.
    #[test]
    fn jvp_is_the_gradient_along_the_tangent(points in points()) {
        for (p, q) in subjects().iter().zip(points) {
            if let Err(f) = check_jvp(p, q) {
                prop_assert!(false, "{}", f.message);
            }
        }
    }

    /// `f_hvp` along a random direction agrees with central differences of `f_grad`.
    #[test]
    fn hvp_matches_finite_differences_of_the_gradient(points in points()) {
        for (p, q) in subjects().iter().zip(points) {
            if let Err(f) = check_hvp(p, q) {
                prop_assert!(false, "{}", f.message);
            }
        }
    }

    /// `f_value_and_grad` returns exactly the primal's value and exactly `f_grad`.
    #[test]
    fn value_and_grad_is_the_primal_and_the_gradient(points in points()) {
        for (p, q) in subjects().iter().zip(points) {
            if let Err(f) = check_value_and_grad(p, q) {
                prop_assert!(false, "{}", f.message);
            }
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
        for (p, q) in subjects().iter().zip(points) {
            if let Err(f) = check_vjp(p, q, power, u) {
                prop_assert!(false, "{}", f.message);
            }
        }
    }
}
