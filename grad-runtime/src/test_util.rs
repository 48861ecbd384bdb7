//! Shared harness for the unit tests: finite differences generic over [`Float`], so that every
//! rule is checked in `f32` and `f64` through the same code.

use crate::Float;
use core::any::type_name;

/// The upstream gradient fed to every rule: not 1, so that a rule that forgets to multiply by
/// it is caught.
pub const UP: f64 = 0.75;

/// Whether `T` is the single-precision type, whose checks need looser tolerances.
pub fn is_single<T: Float>() -> bool {
    crate::float::to_f64(T::EPSILON) > 1e-10
}

/// Tolerance against a central finite difference computed in `T`.
pub fn fd_tol<T: Float>() -> f64 {
    if is_single::<T>() { 3e-3 } else { 1e-6 }
}

/// Tolerance against the closed-form derivative evaluated in `f64`.
pub fn formula_tol<T: Float>() -> f64 {
    if is_single::<T>() { 1e-5 } else { 1e-12 }
}

/// The metric of `check_gradient`: absolute below 1, relative above; equal values (infinities
/// included) have error 0.
pub fn err(a: f64, b: f64) -> f64 {
    if a == b {
        return 0.0;
    }
    (a - b).abs() / 1f64.max(a.abs()).max(b.abs())
}

/// Central difference of `f` at `x` in `T`'s own arithmetic, with the step of
/// `check_gradient` scaled to `T`'s epsilon.
pub fn central<T: Float>(f: impl Fn(T) -> T, x: T) -> T {
    let h = T::EPSILON.cbrt() * T::ONE.max(x.abs());
    let above = x + h;
    let below = x - (above - x);
    (f(above) - f(below)) / (above - below)
}

/// Checks `rule` (inputs, out, upstream → one partial per input, times upstream) at each point:
/// every partial against a finite difference of `f`, and against `formula` (the closed-form
/// partials, in `f64`).
pub fn check_rule<T: Float, const N: usize>(
    name: &str,
    points: &[[f64; N]],
    f: impl Fn([T; N]) -> T,
    rule: impl Fn([T; N], T, T) -> [T; N],
    formula: impl Fn([f64; N]) -> [f64; N],
) {
    let up = T::from_f64(UP);
    for point in points {
        let x = point.map(T::from_f64);
        let out = f(x);
        let got = rule(x, out, up);
        let exact = formula(x.map(crate::float::to_f64));
        for i in 0..N {
            let g = crate::float::to_f64(got[i]);
            let numeric = crate::float::to_f64(
                central(
                    |xi| {
                        let mut moved = x;
                        moved[i] = xi;
                        f(moved)
                    },
                    x[i],
                ) * up,
            );
            assert!(
                err(g, numeric) <= fd_tol::<T>(),
                "{name}<{}> partial {i} at {point:?}: rule gives {g}, finite difference {numeric}",
                type_name::<T>(),
            );
            let expected = exact[i] * UP;
            assert!(
                err(g, expected) <= formula_tol::<T>(),
                "{name}<{}> partial {i} at {point:?}: rule gives {g}, formula {expected}",
                type_name::<T>(),
            );
        }
    }
}

/// All pairs `[a, b]` with a from `xs` and b from `ys`.
pub fn grid(xs: &[f64], ys: &[f64]) -> std::vec::Vec<[f64; 2]> {
    xs.iter()
        .flat_map(|&a| ys.iter().map(move |&b| [a, b]))
        .collect()
}
