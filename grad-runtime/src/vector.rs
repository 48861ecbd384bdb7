//! Vector helpers over fixed-size arrays, each with a `_vjp` companion.
//!
//! Calling convention, as for the activations: `name_vjp(inputs..., upstream)` takes
//! `upstream` shaped like the function's output and returns `upstream` times the gradient, one
//! entry per float-valued input, shaped like that input (a bare value for one input, a tuple
//! for two). Every `_vjp` costs what its function costs (O(N) for a vector of N elements,
//! O(MN) for an M×N matrix) and never forms a Jacobian; nothing allocates.
//!
//! Forward mode: `name_jvp(inputs..., out, tangents...)` takes the inputs, the function's
//! result `out` and one tangent per float input (shaped like it) and returns the tangent of
//! the result, shaped like `out`: the calling convention of the scalar rules'
//! `pullback::<name>_tangent`. Each is exactly the transpose of its `_vjp` (the `_vjp` with
//! upstream eᵢ gives, for input j, what the `_jvp` with tangent eⱼ gives for output i), and
//! in a sum over inputs a zero tangent contributes exactly 0.
//!
//! ```
//! use grad_runtime::{dot, dot_vjp, softmax};
//!
//! let (a, b) = ([1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]);
//! assert_eq!(dot(a, b), 32.0);
//! // ∂(a·b)/∂a = b and ∂(a·b)/∂b = a, times the upstream gradient.
//! assert_eq!(dot_vjp(a, b, 2.0), ([8.0, 10.0, 12.0], [2.0, 4.0, 6.0]));
//! assert_eq!(softmax([0.0_f64, 0.0]), [0.5, 0.5]);
//! ```

use crate::Float;
use crate::pullback::flowing;
use core::array;

/// The dot product a · b = Σᵢ aᵢ bᵢ; 0 for N = 0.
#[inline]
pub fn dot<T: Float, const N: usize>(a: [T; N], b: [T; N]) -> T {
    let mut total = T::ZERO;
    for (ai, bi) in a.into_iter().zip(b) {
        total += ai * bi;
    }
    total
}

/// Gradient of [`dot`]: `(∂/∂a, ∂/∂b)` times `upstream`, that is `(upstream · b, upstream · a)`.
#[inline]
pub fn dot_vjp<T: Float, const N: usize>(a: [T; N], b: [T; N], upstream: T) -> ([T; N], [T; N]) {
    (b.map(|bi| upstream * bi), a.map(|ai| upstream * ai))
}

/// Tangent of [`dot`]: Σᵢ (daᵢ bᵢ + aᵢ dbᵢ), the transpose of [`dot_vjp`]; `out` is not read.
#[inline]
pub fn dot_jvp<T: Float, const N: usize>(
    a: [T; N],
    b: [T; N],
    out: T,
    da: [T; N],
    db: [T; N],
) -> T {
    let _ = out;
    let mut total = T::ZERO;
    for i in 0..N {
        total += flowing(da[i], da[i] * b[i]) + flowing(db[i], db[i] * a[i]);
    }
    total
}

/// The sum Σᵢ aᵢ of the elements; 0 for N = 0.
#[inline]
pub fn sum<T: Float, const N: usize>(a: [T; N]) -> T {
    let mut total = T::ZERO;
    for ai in a {
        total += ai;
    }
    total
}

/// Gradient of [`sum`]: ∂/∂aᵢ = 1, so every entry is `upstream`.
#[inline]
pub fn sum_vjp<T: Float, const N: usize>(a: [T; N], upstream: T) -> [T; N] {
    let _ = a;
    [upstream; N]
}

/// Tangent of [`sum`]: Σᵢ daᵢ, the transpose of [`sum_vjp`]; neither `a` nor `out` is read.
#[inline]
pub fn sum_jvp<T: Float, const N: usize>(a: [T; N], out: T, da: [T; N]) -> T {
    let _ = (a, out);
    sum(da)
}

/// The squared Euclidean norm ‖a‖² = Σᵢ aᵢ²; 0 for N = 0.
#[inline]
pub fn norm_sq<T: Float, const N: usize>(a: [T; N]) -> T {
    let mut total = T::ZERO;
    for ai in a {
        total += ai * ai;
    }
    total
}

/// Gradient of [`norm_sq`]: ∂/∂aᵢ = 2 aᵢ, times `upstream`.
#[inline]
pub fn norm_sq_vjp<T: Float, const N: usize>(a: [T; N], upstream: T) -> [T; N] {
    a.map(|ai| upstream * (T::TWO * ai))
}

/// Tangent of [`norm_sq`]: Σᵢ 2 aᵢ daᵢ, the transpose of [`norm_sq_vjp`]; `out` is not read.
#[inline]
pub fn norm_sq_jvp<T: Float, const N: usize>(a: [T; N], out: T, da: [T; N]) -> T {
    let _ = out;
    let mut total = T::ZERO;
    for (ai, dai) in a.into_iter().zip(da) {
        total += flowing(dai, dai * (T::TWO * ai));
    }
    total
}

/// The matrix-vector product W · x of an M×N matrix, stored as M rows of N elements, and a
/// vector of N elements: yᵢ = Σⱼ Wᵢⱼ xⱼ, one element per row. A row of an N = 0 matrix gives
/// 0.
///
/// ```
/// use grad_runtime::matvec;
///
/// let w = [[1.0_f64, 2.0], [3.0, 4.0], [5.0, 6.0]];
/// assert_eq!(matvec(w, [1.0, -1.0]), [-1.0, -1.0, -1.0]);
/// ```
#[inline]
pub fn matvec<T: Float, const M: usize, const N: usize>(w: [[T; N]; M], x: [T; N]) -> [T; M] {
    w.map(|row| dot(row, x))
}

/// Gradient of [`matvec`]: `(∂/∂W, ∂/∂x)` for an `upstream` u of M elements, that is the outer
/// product u · xᵀ (∂/∂Wᵢⱼ = uᵢ xⱼ) and Wᵀ · u (∂/∂xⱼ = Σᵢ Wᵢⱼ uᵢ), in O(MN) like the product
/// itself.
#[inline]
pub fn matvec_vjp<T: Float, const M: usize, const N: usize>(
    w: [[T; N]; M],
    x: [T; N],
    upstream: [T; M],
) -> ([[T; N]; M], [T; N]) {
    let d_w = upstream.map(|ui| x.map(|xj| ui * xj));
    let mut d_x = [T::ZERO; N];
    for (row, ui) in w.into_iter().zip(upstream) {
        for (d_xj, wij) in d_x.iter_mut().zip(row) {
            *d_xj += wij * ui;
        }
    }
    (d_w, d_x)
}

/// Tangent of [`matvec`]: dW · x + W · dx, that is Σⱼ (dWᵢⱼ xⱼ + Wᵢⱼ dxⱼ) for row i, in
/// O(MN), the transpose of [`matvec_vjp`]; `out` is not read.
#[inline]
pub fn matvec_jvp<T: Float, const M: usize, const N: usize>(
    w: [[T; N]; M],
    x: [T; N],
    out: [T; M],
    dw: [[T; N]; M],
    dx: [T; N],
) -> [T; M] {
    let _ = out;
    array::from_fn(|i| {
        let mut total = T::ZERO;
        for j in 0..N {
            total += flowing(dw[i][j], dw[i][j] * x[j]) + flowing(dx[j], w[i][j] * dx[j]);
        }
        total
    })
}

/// The index and value of the first largest element, or of the first NaN if there is one (so
/// that NaN propagates); `None` for an empty slice.
#[inline]
fn max_entry<T: Float>(z: &[T]) -> Option<(usize, T)> {
    let mut best = (0, *z.first()?);
    for (i, &zi) in z.iter().enumerate().skip(1) {
        if best.1.is_nan() {
            break;
        }
        if zi > best.1 || zi.is_nan() {
            best = (i, zi);
        }
    }
    Some(best)
}

/// e^(zᵢ - m), with e^0 = 1 wherever zᵢ = m, including when both are the same infinity (where
/// the subtraction alone would give NaN).
#[inline]
fn shifted_exp<T: Float>(zi: T, m: T) -> T {
    if zi == m { T::ONE } else { (zi - m).exp() }
}

/// With m = max z at index k: writes the max-shifted exponentials eᵢ = e^(zᵢ - m) into `e`
/// (of `z`'s length) and returns m and Σ_{i≠k} eᵢ (the whole sum is 1 + that, since e_k = 1);
/// `None` for an empty `z`.
#[inline]
fn shifted_exps_into<T: Float>(z: &[T], e: &mut [T]) -> Option<(T, T)> {
    let (k, m) = max_entry(z)?;
    let mut rest = T::ZERO;
    for (i, (ei, &zi)) in e.iter_mut().zip(z).enumerate() {
        *ei = shifted_exp(zi, m);
        if i != k {
            rest += *ei;
        }
    }
    Some((m, rest))
}

/// [`softmax`] of a slice of any length, written into `out` (of the same length): the one
/// kernel behind the array helper and the runtime tape's `softmax`.
#[inline]
pub(crate) fn softmax_into<T: Float>(z: &[T], out: &mut [T]) {
    if let Some((_, rest)) = shifted_exps_into(z, out) {
        let total = T::ONE + rest;
        for si in out {
            *si /= total;
        }
    }
}

/// [`log_sum_exp`] of a slice of any length: the one kernel behind the array helper and the
/// runtime tape's `log_sum_exp`.
#[inline]
pub(crate) fn log_sum_exp_of<T: Float>(z: &[T]) -> T {
    let Some((k, m)) = max_entry(z) else {
        return T::NEG_INFINITY;
    };
    let mut rest = T::ZERO;
    for (i, &zi) in z.iter().enumerate() {
        if i != k {
            rest += shifted_exp(zi, m);
        }
    }
    m + rest.ln_1p()
}

/// The softmax sᵢ = e^(zᵢ) / Σⱼ e^(zⱼ), a probability vector.
///
/// Numerically stable: evaluated as e^(zᵢ - m) / Σⱼ e^(zⱼ - m) with m = max z, so no
/// exponential overflows and the sum is at least 1; inputs of any finite magnitude (±1000 in
/// `f64`, say) give finite results. Edge cases: an empty input gives an empty output;
/// all-equal inputs give 1/N each (also when they are all -∞ or all +∞); entries equal to a
/// +∞ maximum share the probability and the others get 0; a NaN anywhere makes every entry
/// NaN.
///
/// ```
/// use grad_runtime::softmax;
///
/// let s = softmax([1000.0_f64, 1000.0, -1000.0]);
/// assert_eq!(s, [0.5, 0.5, 0.0]);
/// ```
#[inline]
pub fn softmax<T: Float, const N: usize>(z: [T; N]) -> [T; N] {
    let mut out = z;
    softmax_into(&z, &mut out);
    out
}

/// Gradient of [`softmax`]: with s = softmax(z), ∂sᵢ/∂zⱼ = sᵢ(δᵢⱼ - sⱼ), so the product with
/// `upstream` u is s ⊙ (u - ⟨s, u⟩), that is sᵢ (uᵢ - Σⱼ sⱼ uⱼ): O(N), without the N×N
/// Jacobian.
#[inline]
pub fn softmax_vjp<T: Float, const N: usize>(z: [T; N], upstream: [T; N]) -> [T; N] {
    let s = softmax(z);
    let mean = dot(s, upstream);
    array::from_fn(|i| s[i] * (upstream[i] - mean))
}

/// Tangent of [`softmax`]: with s = `out` (which must be `softmax(z)`), s ⊙ (dz - ⟨s, dz⟩),
/// in O(N) from `out` without evaluating an exponential: the transpose of [`softmax_vjp`]
/// (the Jacobian is symmetric).
#[inline]
pub fn softmax_jvp<T: Float, const N: usize>(z: [T; N], out: [T; N], dz: [T; N]) -> [T; N] {
    let _ = z;
    let mean = dot(out, dz);
    array::from_fn(|i| out[i] * (dz[i] - mean))
}

/// log Σᵢ e^(zᵢ), the smooth maximum; -∞ for N = 0 (the logarithm of an empty sum).
///
/// Numerically stable: evaluated as m + ln_1p(Σ_{i≠k} e^(zᵢ - m)) with m = z_k = max z, so no
/// exponential overflows, inputs of any finite magnitude give a finite result, and a dominant
/// maximum keeps full relative accuracy. All -∞ gives -∞, any +∞ gives +∞, and any NaN gives
/// NaN.
///
/// ```
/// use grad_runtime::log_sum_exp;
///
/// assert_eq!(log_sum_exp([1000.0_f64, -1000.0]), 1000.0);
/// assert!((log_sum_exp([0.0_f64, 0.0]) - core::f64::consts::LN_2).abs() < 1e-15);
/// assert_eq!(log_sum_exp::<f64, 0>([]), f64::NEG_INFINITY);
/// ```
#[inline]
pub fn log_sum_exp<T: Float, const N: usize>(z: [T; N]) -> T {
    log_sum_exp_of(&z)
}

/// Gradient of [`log_sum_exp`]: ∂/∂zᵢ = e^(zᵢ) / Σⱼ e^(zⱼ) = softmax(z)ᵢ, times `upstream`.
#[inline]
pub fn log_sum_exp_vjp<T: Float, const N: usize>(z: [T; N], upstream: T) -> [T; N] {
    softmax(z).map(|si| upstream * si)
}

/// Tangent of [`log_sum_exp`]: ⟨softmax(z), dz⟩, the transpose of [`log_sum_exp_vjp`]. The
/// softmax is recomputed from `z`, as there, so `out` is not read.
#[inline]
pub fn log_sum_exp_jvp<T: Float, const N: usize>(z: [T; N], out: T, dz: [T; N]) -> T {
    let _ = out;
    dot(softmax(z), dz)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod jvp_tests;
