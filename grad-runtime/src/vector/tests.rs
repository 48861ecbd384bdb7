//! Each vector helper and its vjp: hand-derived values, central finite differences at N = 1, 3
//! and 8 in f32 and f64, the vjps' shapes, and the edge cases (N = 0, ties, infinities, NaN,
//! inputs of magnitude 1000).

use super::*;
use crate::test_util::{UP, central, err, fd_tol, is_single};
use core::any::type_name;

/// Deterministic, irregular test inputs in roughly [-scale, scale]: entry i of the vector
/// numbered `seed`.
fn point<T: Float, const N: usize>(seed: u32, scale: f64) -> [T; N] {
    array::from_fn(|i| {
        let t = 1.37 * i as f64 + 0.61 * f64::from(seed) + 0.25;
        T::from_f64(scale * t.sin())
    })
}

/// ⟨u, y⟩ accumulated in f64, independent of the helpers under test.
fn inner<T: Float, const M: usize>(u: [T; M], y: [T; M]) -> T {
    let total: f64 = u
        .iter()
        .zip(&y)
        .map(|(a, b)| crate::float::to_f64(*a) * crate::float::to_f64(*b))
        .sum();
    T::from_f64(total)
}

/// uᵀ J_f(x) by central differences: entry i is ∂⟨u, f(x)⟩/∂xᵢ.
fn fd_vjp<T: Float, const N: usize, const M: usize>(
    f: impl Fn([T; N]) -> [T; M],
    x: [T; N],
    u: [T; M],
) -> [T; N] {
    array::from_fn(|i| {
        central(
            |xi| {
                let mut moved = x;
                moved[i] = xi;
                inner(u, f(moved))
            },
            x[i],
        )
    })
}

/// Asserts that each entry of `got` matches `want` within `tol`, in the metric of
/// `check_gradient`.
fn assert_close<T: Float, const N: usize>(what: &str, got: [T; N], want: [T; N], tol: f64) {
    for i in 0..N {
        let (g, w) = (crate::float::to_f64(got[i]), crate::float::to_f64(want[i]));
        assert!(
            err(g, w) <= tol,
            "{what}<{}, N = {N}> entry {i}: got {g}, want {w} (got {got:?})",
            type_name::<T>(),
        );
    }
}

/// Tolerance against a closed form evaluated in f64.
fn exact_tol<T: Float>() -> f64 {
    if is_single::<T>() { 1e-5 } else { 1e-13 }
}

/// Every helper's vjp against finite differences at three points of length N.
fn fd_cases<T: Float, const N: usize>() {
    let up = T::from_f64(UP);
    for seed in 0..3 {
        let a: [T; N] = point(seed, 1.5);
        let b: [T; N] = point(seed + 7, 2.0);
        let u: [T; N] = point(seed + 13, 1.0);

        let (d_a, d_b) = dot_vjp(a, b, up);
        assert_close(
            "dot_vjp.0",
            d_a,
            fd_vjp(|a| [dot(a, b) * up], a, [T::ONE]),
            fd_tol::<T>(),
        );
        assert_close(
            "dot_vjp.1",
            d_b,
            fd_vjp(|b| [dot(a, b) * up], b, [T::ONE]),
            fd_tol::<T>(),
        );

        let want = fd_vjp(|a| [sum(a)], a, [up]);
        assert_close("sum_vjp", sum_vjp(a, up), want, fd_tol::<T>());

        let want = fd_vjp(|a| [norm_sq(a)], a, [up]);
        assert_close("norm_sq_vjp", norm_sq_vjp(a, up), want, fd_tol::<T>());

        let want = fd_vjp(softmax, a, u);
        assert_close("softmax_vjp", softmax_vjp(a, u), want, fd_tol::<T>());

        let want = fd_vjp(|z| [log_sum_exp(z)], a, [up]);
        assert_close(
            "log_sum_exp_vjp",
            log_sum_exp_vjp(a, up),
            want,
            fd_tol::<T>(),
        );
    }
}

#[test]
fn vjps_match_finite_differences() {
    fd_cases::<f32, 1>();
    fd_cases::<f32, 3>();
    fd_cases::<f32, 8>();
    fd_cases::<f64, 1>();
    fd_cases::<f64, 3>();
    fd_cases::<f64, 8>();
}

/// matvec's vjp against finite differences, in both W and x, for an M×N matrix.
fn matvec_fd_case<T: Float, const M: usize, const N: usize>() {
    for seed in 0..3 {
        let w: [[T; N]; M] = array::from_fn(|i| point(seed + 5 * i as u32, 1.2));
        let x: [T; N] = point(seed + 40, 2.0);
        let u: [T; M] = point(seed + 50, 1.0);
        let (d_w, d_x) = matvec_vjp(w, x, u);
        assert_close(
            "matvec_vjp.1",
            d_x,
            fd_vjp(|x| matvec(w, x), x, u),
            fd_tol::<T>(),
        );
        for i in 0..M {
            let row_fd = fd_vjp(
                |row| {
                    let mut moved = w;
                    moved[i] = row;
                    matvec(moved, x)
                },
                w[i],
                u,
            );
            assert_close("matvec_vjp.0 row", d_w[i], row_fd, fd_tol::<T>());
        }
    }
}

#[test]
fn matvec_vjp_matches_finite_differences() {
    matvec_fd_case::<f32, 1, 1>();
    matvec_fd_case::<f32, 3, 8>();
    matvec_fd_case::<f32, 8, 3>();
    matvec_fd_case::<f64, 1, 1>();
    matvec_fd_case::<f64, 3, 3>();
    matvec_fd_case::<f64, 3, 8>();
    matvec_fd_case::<f64, 8, 3>();
}

#[test]
fn vjps_have_one_entry_per_argument_shaped_like_it() {
    let a = [1.0_f64, 2.0, 3.0];
    let _: ([f64; 3], [f64; 3]) = dot_vjp(a, a, 1.0);
    let _: [f64; 3] = sum_vjp(a, 1.0);
    let _: [f64; 3] = norm_sq_vjp(a, 1.0);
    let _: [f64; 3] = softmax_vjp(a, a);
    let _: [f64; 3] = log_sum_exp_vjp(a, 1.0);
    let w = [[1.0_f32; 3]; 2];
    let _: [f32; 2] = matvec(w, [1.0; 3]);
    let _: ([[f32; 3]; 2], [f32; 3]) = matvec_vjp(w, [1.0; 3], [1.0; 2]);
}

#[test]
fn hand_derived_values() {
    let (a, b) = ([1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]);
    assert_eq!(dot(a, b), 32.0);
    assert_eq!(dot_vjp(a, b, 2.0), ([8.0, 10.0, 12.0], [2.0, 4.0, 6.0]));
    assert_eq!(sum(a), 6.0);
    assert_eq!(sum_vjp(a, 0.5), [0.5; 3]);
    assert_eq!(norm_sq([3.0_f64, 4.0]), 25.0);
    assert_eq!(norm_sq_vjp([3.0_f64, -4.0], 0.5), [3.0, -4.0]);
    assert_eq!(dot([1.5_f32], [2.0]), 3.0);
    assert_eq!(sum([2.5_f32]), 2.5);
    assert_eq!(norm_sq([-3.0_f32]), 9.0);

    let w = [[1.0_f64, 2.0], [3.0, 4.0], [5.0, 6.0]];
    let x = [1.0, -1.0];
    assert_eq!(matvec(w, x), [-1.0, -1.0, -1.0]);
    assert_eq!(matvec(w, [2.0, 0.5]), [3.0, 8.0, 13.0]);
    let (d_w, d_x) = matvec_vjp(w, x, [1.0, 2.0, 3.0]);
    // u · xᵀ and Wᵀ · u.
    assert_eq!(d_w, [[1.0, -1.0], [2.0, -2.0], [3.0, -3.0]]);
    assert_eq!(d_x, [1.0 + 6.0 + 15.0, 2.0 + 8.0 + 18.0]);

    // softmax([0, ln 2, ln 5]) = [1, 2, 5] / 8.
    let z = [0.0_f64, core::f64::consts::LN_2, 5.0_f64.ln()];
    assert_close("softmax", softmax(z), [0.125, 0.25, 0.625], 1e-15);
    // log(1 + 2 + 5) = ln 8.
    assert!(err(log_sum_exp(z), 8.0_f64.ln()) <= 1e-15);
    let up = 2.0;
    assert_close(
        "log_sum_exp_vjp",
        log_sum_exp_vjp(z, up),
        [0.25, 0.5, 1.25],
        1e-15,
    );
    // s ⊙ (u - ⟨s, u⟩) with s = [1, 2, 5] / 8 and u = [1, 0, -1]: ⟨s, u⟩ = -1/2.
    assert_close(
        "softmax_vjp",
        softmax_vjp(z, [1.0, 0.0, -1.0]),
        [0.125 * 1.5, 0.25 * 0.5, 0.625 * -0.5],
        1e-15,
    );
    assert_eq!(softmax([3.5_f64]), [1.0]);
    assert_eq!(softmax_vjp([3.5_f64], [2.0]), [0.0]);
    assert_eq!(log_sum_exp([3.5_f64]), 3.5);
    assert_eq!(log_sum_exp_vjp([3.5_f64], 2.0), [2.0]);
}

/// softmax and log_sum_exp against their textbook formulas in f64, and softmax_vjp against the
/// explicit product with the Jacobian diag(s) - s sᵀ, at moderate inputs.
fn textbook_cases<T: Float, const N: usize>() {
    for seed in 0..3 {
        let z: [T; N] = point(seed, 3.0);
        let u: [T; N] = point(seed + 20, 1.0);
        let zf = z.map(crate::float::to_f64);
        let total: f64 = zf.iter().map(|zi| zi.exp()).sum();
        let s: [f64; N] = zf.map(|zi| zi.exp() / total);
        assert_close("softmax", softmax(z), s.map(T::from_f64), exact_tol::<T>());
        let lse = [log_sum_exp(z)];
        assert_close(
            "log_sum_exp",
            lse,
            [T::from_f64(total.ln())],
            exact_tol::<T>(),
        );

        let jacobian_product: [f64; N] = array::from_fn(|j| {
            (0..N)
                .map(|i| {
                    let delta = if i == j { 1.0 } else { 0.0 };
                    crate::float::to_f64(u[i]) * s[i] * (delta - s[j])
                })
                .sum()
        });
        let got = softmax_vjp(z, u);
        assert_close(
            "softmax_vjp",
            got,
            jacobian_product.map(T::from_f64),
            exact_tol::<T>(),
        );
        let sum_of_s: f64 = softmax(z).iter().map(|si| crate::float::to_f64(*si)).sum();
        assert!((sum_of_s - 1.0).abs() <= 8.0 * crate::float::to_f64(T::EPSILON));
    }
}

#[test]
fn softmax_and_log_sum_exp_match_their_textbook_formulas() {
    textbook_cases::<f32, 1>();
    textbook_cases::<f32, 3>();
    textbook_cases::<f32, 8>();
    textbook_cases::<f64, 1>();
    textbook_cases::<f64, 3>();
    textbook_cases::<f64, 8>();
}

#[test]
fn empty_inputs() {
    let empty: [f64; 0] = [];
    assert_eq!(dot(empty, empty), 0.0);
    assert_eq!(dot_vjp(empty, empty, 1.0), ([], []));
    assert_eq!(sum(empty), 0.0);
    assert_eq!(sum_vjp(empty, 1.0), []);
    assert_eq!(norm_sq(empty), 0.0);
    assert_eq!(norm_sq_vjp(empty, 1.0), []);
    assert_eq!(softmax(empty), []);
    assert_eq!(softmax_vjp(empty, empty), []);
    assert_eq!(log_sum_exp(empty), f64::NEG_INFINITY);
    assert_eq!(log_sum_exp([0.0_f32; 0]), f32::NEG_INFINITY);
    assert_eq!(log_sum_exp_vjp(empty, 1.0), []);

    // A 3×0 matrix maps to zeros; a 0×3 matrix to nothing, with a zero gradient for x.
    let tall: [[f64; 0]; 3] = [[]; 3];
    assert_eq!(matvec(tall, []), [0.0; 3]);
    assert_eq!(matvec_vjp(tall, [], [1.0; 3]), ([[]; 3], []));
    let wide: [[f64; 3]; 0] = [];
    assert_eq!(matvec(wide, [1.0; 3]), []);
    assert_eq!(matvec_vjp(wide, [1.0; 3], []), ([], [0.0; 3]));
}

fn all_equal_cases<T: Float>() {
    let c = T::from_f64(-2.5);
    let third = T::ONE / T::from_f64(3.0);
    assert_eq!(softmax([c; 3]), [third; 3]);
    assert_eq!(softmax([c; 8]), [T::from_f64(0.125); 8]);
    let lse = [log_sum_exp([c; 8])];
    assert_close(
        "log_sum_exp",
        lse,
        [c + T::from_f64(8.0).ln()],
        exact_tol::<T>(),
    );
    assert_eq!(log_sum_exp_vjp([c; 8], T::TWO), [T::from_f64(0.25); 8]);
    // Along a constant upstream softmax does not move: the vjp is (numerically) zero.
    for g in softmax_vjp([c; 3], [T::from_f64(0.7); 3]) {
        assert!(g.abs() <= T::EPSILON, "{g:?}");
    }
    // Ties at the maximum share it.
    let z = [T::ONE, T::ONE, T::ZERO];
    let s = softmax(z);
    assert_eq!(s[0], s[1]);
    assert!(s[0] > s[2]);
}

#[test]
fn all_equal_inputs() {
    all_equal_cases::<f32>();
    all_equal_cases::<f64>();
}

/// softmax and log_sum_exp, with their vjps, at ±magnitude: finite, summing to 1, and exact
/// where the small terms underflow.
fn extreme_cases<T: Float>(magnitude: f64) {
    let big = T::from_f64(magnitude);
    let z = [big, -big, T::ZERO, big - T::ONE, -big];
    let u = [T::ONE, -T::TWO, T::HALF, T::from_f64(3.0), T::ONE];
    let s = softmax(z);
    let lse = log_sum_exp(z);
    let d_soft = softmax_vjp(z, u);
    let d_lse = log_sum_exp_vjp(z, T::ONE);
    for v in s.into_iter().chain(d_soft).chain(d_lse).chain([lse]) {
        assert!(
            v.is_finite(),
            "at ±{magnitude}: {s:?} {d_soft:?} {d_lse:?} {lse:?}"
        );
    }
    let total: f64 = s.iter().map(|si| crate::float::to_f64(*si)).sum();
    assert!((total - 1.0).abs() <= 4.0 * crate::float::to_f64(T::EPSILON));
    // Only the two largest entries matter: lse = big + ln(1 + e^-1).
    let want = magnitude + (-1.0_f64).exp().ln_1p();
    assert!(
        err(crate::float::to_f64(lse), want) <= exact_tol::<T>(),
        "{lse:?} vs {want}"
    );
    assert_eq!(s[1], T::ZERO);
    assert_eq!(log_sum_exp([big, -big]), big);
    assert_eq!(softmax([big, -big]), [T::ONE, T::ZERO]);
    assert_eq!(softmax([-big, -big]), [T::HALF, T::HALF]);
    assert_eq!(log_sum_exp([-big]), -big);
    // Shifting every input by the same amount leaves softmax unchanged.
    let shifted = softmax([big - T::ONE, big, big - T::TWO]);
    let plain = softmax([-T::ONE, T::ZERO, -T::TWO]);
    assert_close(
        "softmax shift",
        shifted,
        plain,
        4.0 * crate::float::to_f64(T::EPSILON),
    );
}

#[test]
fn stable_at_extremes() {
    extreme_cases::<f64>(1000.0);
    extreme_cases::<f32>(100.0);
    extreme_cases::<f32>(1000.0);
}

#[test]
fn infinities_and_nan() {
    let inf = f64::INFINITY;
    let nan = f64::NAN;
    assert_eq!(log_sum_exp([-inf, -inf]), -inf);
    assert_eq!(softmax([-inf, -inf]), [0.5, 0.5]);
    assert_eq!(softmax([-inf, 0.0]), [0.0, 1.0]);
    assert_eq!(log_sum_exp([-inf, 0.0]), 0.0);
    assert_eq!(log_sum_exp([1.0, inf]), inf);
    assert_eq!(softmax([1.0, inf, inf]), [0.0, 0.5, 0.5]);
    assert!(log_sum_exp([1.0, nan, 2.0]).is_nan());
    assert!(log_sum_exp([nan, -inf]).is_nan());
    assert!(log_sum_exp([-inf, nan]).is_nan());
    assert!(log_sum_exp([inf, nan]).is_nan());
    assert!(softmax([1.0, nan, 2.0]).iter().all(|s| s.is_nan()));
    assert!(
        softmax_vjp([nan, 2.0], [1.0, 1.0])
            .iter()
            .all(|s| s.is_nan())
    );
}
