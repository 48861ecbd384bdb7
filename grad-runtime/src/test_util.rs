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

/// Equal, or both NaN (+0 and -0 count as equal, as `==` has them).
pub fn same<T: Float>(a: T, b: T) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// `scale` at entry `i`, 0 elsewhere.
pub fn unit<T: Float, const K: usize>(i: usize, scale: T) -> [T; K] {
    core::array::from_fn(|j| if i == j { scale } else { T::ZERO })
}

/// Checks a helper's `_jvp` against its `_vjp` and its function, all three written over the
/// flattened inputs (K floats) and outputs (M floats): at every point the `_jvp` along input j
/// is exactly the `_vjp`'s entry j for upstream eᵢ, for every output i, and a zero tangent
/// gives exactly 0; at `ordinary` points the `_jvp` along a mixed direction matches central
/// finite differences of `f`.
pub fn check_jvp<T: Float, const K: usize, const M: usize>(
    name: &str,
    ordinary: &[[f64; K]],
    special: &[[f64; K]],
    f: impl Fn([T; K]) -> [T; M],
    jvp: impl Fn([T; K], [T; M], [T; K]) -> [T; M],
    vjp: impl Fn([T; K], [T; M]) -> [T; K],
) {
    let label = |point: &[f64; K]| std::format!("{name}<{}> at {point:?}", type_name::<T>());
    for point in ordinary.iter().chain(special) {
        let x = point.map(T::from_f64);
        let out = f(x);
        for i in 0..M {
            let entries = vjp(x, unit(i, T::ONE));
            for (j, &entry) in entries.iter().enumerate() {
                let along = jvp(x, out, unit(j, T::ONE))[i];
                assert!(
                    same(along, entry),
                    "{}: output {i} along input {j} is {along:?}, the _vjp's entry {entry:?}",
                    label(point),
                );
            }
        }
        let still = jvp(x, out, [T::ZERO; K]);
        assert!(
            still.iter().all(|&t| t == T::ZERO),
            "{}: a zero tangent gives {still:?}",
            label(point),
        );
    }
    let d: [T; K] = core::array::from_fn(|j| T::from_f64([0.6, -0.35, 0.8, 0.25, -0.9][j % 5]));
    for point in ordinary {
        let x = point.map(T::from_f64);
        let got = jvp(x, f(x), d);
        for (i, &got) in got.iter().enumerate() {
            let numeric = central(|t| f(core::array::from_fn(|j| x[j] + t * d[j]))[i], T::ZERO);
            let (got, numeric) = (crate::float::to_f64(got), crate::float::to_f64(numeric));
            assert!(
                err(got, numeric) <= fd_tol::<T>(),
                "{}: output {i} along {d:?} is {got}, finite difference {numeric}",
                label(point),
            );
        }
    }
}
