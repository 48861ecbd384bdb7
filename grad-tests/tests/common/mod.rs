//! Independent oracles shared by the behaviour tests.
#![allow(dead_code)]

/// Central finite differences of `f` at `x`, with a step scaled to each coordinate.
pub fn numeric_gradient(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * x[i].abs().max(1.0);
            let mut plus = x.to_vec();
            let mut minus = x.to_vec();
            plus[i] += h;
            minus[i] -= h;
            (f(&plus) - f(&minus)) / (2.0 * h)
        })
        .collect()
}

/// Asserts that `analytic` matches central finite differences of `f` at `x`.
#[track_caller]
pub fn assert_gradient(f: impl Fn(&[f64]) -> f64, x: &[f64], analytic: &[f64]) {
    let numeric = numeric_gradient(f, x);
    for (i, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
        let error = (a - n).abs() / a.abs().max(n.abs()).max(1.0);
        assert!(
            error < 1e-6,
            "coordinate {i} at {x:?}: analytic {a} vs numeric {n} (error {error:.2e})"
        );
    }
}

/// A deterministic xorshift stream of `u64`s from a nonzero `seed`.
pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// The gradient of `f` by forward-mode dual numbers (num-dual), one sweep per coordinate.
pub fn dual_gradient(f: impl Fn(&[num_dual::Dual64]) -> num_dual::Dual64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let seeded: Vec<num_dual::Dual64> = x
                .iter()
                .enumerate()
                .map(|(j, &v)| num_dual::Dual64::new(v, if i == j { 1.0 } else { 0.0 }))
                .collect();
            f(&seeded).eps
        })
        .collect()
}

/// Asserts that `analytic` matches central finite differences of `f` (relative 1e-6) and
/// dual numbers through `mirror`, a copy of `f` generic over num-dual (1e-12).
#[track_caller]
pub fn assert_gradient_and_dual(
    f: impl Fn(&[f64]) -> f64,
    mirror: impl Fn(&[num_dual::Dual64]) -> num_dual::Dual64,
    x: &[f64],
    analytic: &[f64],
) {
    assert_gradient(&f, x, analytic);
    let dual = dual_gradient(&mirror, x);
    for (i, (a, d)) in analytic.iter().zip(&dual).enumerate() {
        assert!(
            (a - d).abs() <= 1e-12 * d.abs().max(1.0),
            "coordinate {i} at {x:?}: analytic {a} vs dual {d}"
        );
    }
}

/// `∂²f/∂x_i∂x_j` of a mirror, by num-dual's hyper-dual numbers.
pub fn hyper_hessian(
    f: impl Fn(&[num_dual::HyperDual64]) -> num_dual::HyperDual64,
    x: &[f64],
) -> Vec<Vec<f64>> {
    let n = x.len();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    let seeded: Vec<num_dual::HyperDual64> = x
                        .iter()
                        .enumerate()
                        .map(|(k, x)| {
                            let e1 = if k == i { 1.0 } else { 0.0 };
                            let e2 = if k == j { 1.0 } else { 0.0 };
                            num_dual::HyperDual64::new(*x, e1, e2, 0.0)
                        })
                        .collect();
                    f(&seeded).eps1eps2
                })
                .collect()
        })
        .collect()
}
