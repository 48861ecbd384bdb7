//! Functions written against num-traits, the way the ecosystem writes generic math
//! (`T: Float + FromPrimitive + Sum`, `T::from_f64(c).unwrap()`, `T::zero()`, ...), with
//! nothing added but the attribute. Each gradient is checked against central finite
//! differences of the function itself, in f64 and f32, and against num-dual or a closed form.

// Index loops are how the functions under test are written.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_gradient, dual_gradient, xorshift};
use grad::differentiable;
use num_dual::{Dual64, DualNum};
use num_traits::real::Real;
use num_traits::{Float, FloatConst, FromPrimitive, NumCast};
use std::iter::Sum;

/// A bowl with a ripple: the sum of squares scaled by the dimension, minus a cosine term.
#[differentiable]
fn ripple_bowl<T>(param: &[T]) -> T
where
    T: Float + FromPrimitive + Sum,
{
    let n = T::from_usize(param.len()).unwrap();
    let one = T::one();
    let c = T::from_f64(2.0).unwrap() * T::from_f64(core::f64::consts::PI).unwrap();
    let squares: T = param.iter().map(|x| x.powi(2)).sum();
    let ripples: T = param.iter().map(|x| (c * *x).cos()).sum();
    -T::from_f64(20.0).unwrap() * (-T::from_f64(0.2).unwrap() * (one / n * squares).sqrt()).exp()
        - (one / n * ripples).exp()
        + one.exp()
}

/// The same bowl over dual numbers, for an independent derivative.
fn ripple_bowl_dual(param: &[Dual64]) -> Dual64 {
    let n = param.len() as f64;
    let c = 2.0 * core::f64::consts::PI;
    let squares = param.iter().fold(Dual64::from(0.0), |s, x| s + x.powi(2));
    let ripples = param
        .iter()
        .fold(Dual64::from(0.0), |s, x| s + (*x * c).cos());
    -(((squares / n).sqrt() * -0.2).exp() * 20.0) - (ripples / n).exp() + 1.0f64.exp()
}

/// A valley with constants from `FloatConst` and `NumCast`.
#[differentiable]
fn curved_valley<T: Float + FloatConst + NumCast>(x: T, y: T) -> T {
    let ten: T = NumCast::from(10.0).unwrap();
    let a = T::PI() / ten;
    let shifted = y - x * x;
    ten * shifted * shifted + (T::one() - x).powi(2) + (a * x).sin() * T::epsilon()
}

/// A function bounded only by `Real`, over an array.
#[differentiable]
fn soft_norm<T: Real>(v: [T; 3], eps: T) -> T {
    let s = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    (s + eps * eps).sqrt() - eps
}

/// Generic over num-traits, with a loop, a branch and a constant from `T::from`.
#[differentiable]
fn clipped_energy<T>(x: [T; 4], k: T) -> T
where
    T: Float + FromPrimitive,
{
    let limit = T::from(1.5).unwrap();
    let mut e = T::zero();
    for i in 0..4 {
        let d = if x[i] > limit { limit } else { x[i] };
        e = e + k * d * d + T::from_f64(0.1).unwrap() * x[i].sin();
    }
    e
}

/// Cubes, which the reverse sweep differentiates in one step as `3·x²` (`6·x·..` for a cube
/// of a sum of squares): the factor is `T`'s, not an `f64` literal. (It was `t * 3.0`, which
/// did not compile for a generic `T`; found by the generic random programs of issue 15.)
#[differentiable]
fn cubic_well<T: Float>(x: T, y: T) -> T {
    let r2 = x * x + y * y;
    x * x * x - 0.5 * (y * y * y) + r2 * r2 * r2
}

/// The same with `grad::Float`.
#[differentiable]
fn cube_grad_float<T: grad::Float>(x: T) -> T {
    x * x * x
}

fn random_point(next: &mut impl FnMut() -> u64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| (next() % 20_000) as f64 / 10_000.0 - 1.0)
        .collect()
}

#[test]
fn slices_with_from_f64_from_usize_and_sums_match_finite_differences_and_dual_numbers() {
    let mut next = xorshift(0x5eed_0f15);
    for _ in 0..20 {
        let p = random_point(&mut next, 5);
        let g = ripple_bowl_grad(&p);
        assert_gradient(ripple_bowl, &p, &g);
        let dual = dual_gradient(ripple_bowl_dual, &p);
        for i in 0..p.len() {
            let expected = dual[i];
            assert!(
                (g[i] - expected).abs() <= 1e-12 * expected.abs().max(1.0),
                "{i}: {} vs {expected}",
                g[i]
            );
        }
        // The same definition in f32.
        let p32: Vec<f32> = p.iter().map(|&v| v as f32).collect();
        let g32 = ripple_bowl_grad(&p32);
        for i in 0..p.len() {
            assert!(((g32[i] as f64) - g[i]).abs() <= 1e-4 * g[i].abs().max(1.0));
        }
    }
}

#[test]
fn float_const_and_num_cast_constants() {
    let (x, y) = (0.7, -0.4);
    let (dx, dy) = curved_valley_grad(x, y);
    // Closed form: ∂/∂x = -40x(y - x²) - 2(1 - x) + ε a cos(ax), ∂/∂y = 20(y - x²).
    let a = core::f64::consts::PI / 10.0;
    let expected_dx = -40.0 * x * (y - x * x) - 2.0 * (1.0 - x) + f64::EPSILON * a * (a * x).cos();
    assert!((dx - expected_dx).abs() <= 1e-12, "{dx} vs {expected_dx}");
    assert!((dy - 20.0 * (y - x * x)).abs() <= 1e-12);
    let (dx32, dy32) = curved_valley_grad(x as f32, y as f32);
    assert!(((dx32 as f64) - dx).abs() <= 1e-4 && ((dy32 as f64) - dy).abs() <= 1e-4);
}

#[test]
fn a_real_bound_alone() {
    let v = [0.3, -1.2, 0.5];
    let (dv, deps) = soft_norm_grad(v, 0.1);
    assert_gradient(
        |p| soft_norm([p[0], p[1], p[2]], p[3]),
        &[v[0], v[1], v[2], 0.1],
        &[dv[0], dv[1], dv[2], deps],
    );
    let (dv32, _) = soft_norm_grad(v.map(|x| x as f32), 0.1f32);
    for i in 0..3 {
        assert!(((dv32[i] as f64) - dv[i]).abs() <= 1e-5);
    }
}

#[test]
fn loops_and_branches_under_num_traits_bounds() {
    let x = [0.4, 1.9, -0.7, 1.2];
    let (dx, dk) = clipped_energy_grad(x, 0.8);
    assert_gradient(
        |p| clipped_energy([p[0], p[1], p[2], p[3]], p[4]),
        &[x[0], x[1], x[2], x[3], 0.8],
        &[dx[0], dx[1], dx[2], dx[3], dk],
    );
}

/// A caller generic over num-traits calls the companions with nothing more than its own
/// bounds.
fn descend<T: Float + FromPrimitive + Sum>(p: &mut [T], steps: usize) -> T {
    let rate = T::from_f64(0.01).unwrap();
    for _ in 0..steps {
        let g = ripple_bowl_grad(p);
        for (x, d) in p.iter_mut().zip(g) {
            *x = *x - rate * d;
        }
    }
    ripple_bowl(p)
}

#[test]
fn companions_need_no_bound_beyond_the_functions_own() {
    let mut p = [0.2, -0.1, 0.15];
    let start = ripple_bowl(&p);
    let end = descend(&mut p, 50);
    assert!(end < start, "{end} < {start}");
    let mut p32 = [0.2f32, -0.1, 0.15];
    assert!(descend(&mut p32, 50) < ripple_bowl(&[0.2f32, -0.1, 0.15]));
}

/// A helper that takes an `f64`, as easing and interpolation crates write it: its literal
/// argument stays an `f64`.
fn lit<F: Float>(v: f64) -> F {
    F::from(v).unwrap()
}

#[differentiable]
fn eased<F: Float>(t: F) -> F {
    let two = lit::<F>(2.0);
    two * t * t - lit::<F>(0.5) * t + F::max(t, 0.0) + lit::<F>(-(3.0 / 4.0)) * t
}

#[test]
fn literals_passed_to_functions_keep_their_type() {
    let t: f64 = 0.3;
    assert!((eased_grad(t) - (4.0 * t - 0.5 + 1.0 - 0.75)).abs() < 1e-15);
    assert!((eased_grad(0.3f32) - (4.0f32 * 0.3 - 0.5 + 1.0 - 0.75)).abs() < 1e-6);
}

#[test]
fn cubes_in_generic_code() {
    for (x, y) in [(0.7, -1.3), (-0.4, 0.9)] {
        let (dx, dy) = cubic_well_grad(x, y);
        // Closed form: d/dx = 3x² + 6x r², d/dy = -1.5y² + 6y r², r² = x² + y².
        let r2: f64 = x * x + y * y;
        let (ex, ey) = (
            3.0 * x * x + 6.0 * x * r2 * r2,
            -1.5 * y * y + 6.0 * y * r2 * r2,
        );
        assert!((dx - ex).abs() <= 1e-12 * ex.abs().max(1.0), "{dx} vs {ex}");
        assert!((dy - ey).abs() <= 1e-12 * ey.abs().max(1.0), "{dy} vs {ey}");
        let (dx32, dy32) = cubic_well_grad(x as f32, y as f32);
        assert!(((dx32 as f64) - ex).abs() <= 1e-4 * ex.abs().max(1.0));
        assert!(((dy32 as f64) - ey).abs() <= 1e-4 * ey.abs().max(1.0));
        assert_eq!(cube_grad_float_grad(x), 3.0 * (x * x));
    }
}

/// Early exits, constant-bound loops that keep a tape, and break values under a plain
/// num-traits bound, which has no `Default`.
#[differentiable]
fn exits_and_tapes<T: Float>(x: T) -> T {
    if x > T::one() + T::one() {
        return x * x;
    }
    let mut s = x;
    for _ in 0..3 {
        s = (s * x).sin();
    }
    let mut k = 0;
    let y = loop {
        k += 1;
        if k > 2 {
            break s * x;
        }
    };
    let z = 'b: {
        if x > T::zero() {
            break 'b x.sin();
        }
        x
    };
    y + z
}

#[test]
fn exits_tapes_and_break_values_need_no_default() {
    for x in [-0.4, 0.7, 2.5] {
        let g: f64 = exits_and_tapes_grad(x);
        assert_gradient(|p| exits_and_tapes(p[0]), &[x], &[g]);
        let g32 = exits_and_tapes_grad(x as f32);
        assert!(
            (g32 as f64 - g).abs() <= 1e-4 * g.abs().max(1.0),
            "{x}: {g32} vs {g}"
        );
    }
    assert_eq!(exits_and_tapes_grad(2.5), 5.0);
}

/// A labeled `break` whose value starts with a literal, from a loop inside the block (the
/// macro used to panic here, found by the generator).
#[differentiable]
#[allow(clippy::let_and_return)] // the generator's form, which exposed the panic
fn first_below<T: Float>(x: T, v: [T; 4]) -> T {
    let y = 'b: {
        for &t in v.iter() {
            if t < x {
                break 'b 0.25 - t * x;
            }
        }
        x
    };
    y
}

#[test]
fn a_labeled_break_of_a_literal_in_generic_code() {
    let v = [0.9, 0.2, -0.5, 0.1];
    let (dx, dv) = first_below_grad(0.5f64, v);
    // The loop stops at v[1] = 0.2 < 0.5: y = 0.25 - v[1] x.
    assert_eq!(dx, -0.2);
    assert_eq!(dv, [0.0, -0.5, 0.0, 0.0]);
}

/// The bowl with its constants as parameters, and the published wrapper that passes them on
/// (argmin's `rosenbrock` calls `rosenbrock_ab` this way): grad reads `T::from_f64(c)
/// .unwrap()`, `T::zero()` and `T::PI()` as `T`, the generated code says so, and rustc
/// confirms it.
#[differentiable]
fn scaled_ripple_bowl<T>(param: &[T], depth: T, ripple: T, shift: T) -> T
where
    T: Float + FromPrimitive + Sum,
{
    let n = T::from_usize(param.len()).unwrap();
    let squares: T = param.iter().map(|x| (*x - shift).powi(2)).sum();
    let ripples: T = param.iter().map(|x| (ripple * *x).cos()).sum();
    -depth * (-(squares / n).sqrt()).exp() - (ripples / n).exp()
}

#[differentiable]
fn default_ripple_bowl<T>(param: &[T]) -> T
where
    T: Float + FromPrimitive + FloatConst + Sum,
{
    scaled_ripple_bowl(
        param,
        T::from_f64(20.0).unwrap(),
        T::from(2.0).unwrap() * T::PI(),
        T::zero(),
    )
}

fn default_ripple_bowl_dual(param: &[Dual64]) -> Dual64 {
    let n = param.len() as f64;
    let c = 2.0 * core::f64::consts::PI;
    let squares = param.iter().fold(Dual64::from(0.0), |s, x| s + x.powi(2));
    let ripples = param
        .iter()
        .fold(Dual64::from(0.0), |s, x| s + (*x * c).cos());
    -((-(squares / n).sqrt()).exp() * 20.0) - (ripples / n).exp()
}

#[test]
fn constants_of_the_generic_type_passed_to_a_differentiable_call() {
    let mut next = xorshift(0x5eed);
    for _ in 0..5 {
        let p = random_point(&mut next, 4);
        let g = default_ripple_bowl_grad(&p);
        assert_gradient(default_ripple_bowl, &p, &g);
        let dual = dual_gradient(default_ripple_bowl_dual, &p);
        for (a, b) in g.iter().zip(&dual) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        let p32: Vec<f32> = p.iter().map(|&v| v as f32).collect();
        let g32 = default_ripple_bowl_grad(&p32);
        for (a, b) in g32.iter().zip(&g) {
            assert!(
                (<f64 as From<f32>>::from(*a) - b).abs() < 1e-3 * b.abs().max(1.0),
                "{a} vs {b}"
            );
        }
    }
}
