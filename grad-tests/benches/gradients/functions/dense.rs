//! Function 3: a dense layer with a sigmoid and a squared loss; the gradient is with respect
//! to the weights and biases only.

use grad::differentiable;
use num_dual::DualNum;
use reverse::Var;

/// The arrays by reference, as the hand-written gradient takes them: a 32 KB matrix is
/// read in place instead of being copied in on every call.
#[differentiable(wrt(w, b))]
pub fn dense_loss<const M: usize, const N: usize>(
    w: &[[f64; N]; M],
    b: &[f64; M],
    x: &[f64; N],
    target: &[f64; M],
) -> f64 {
    let mut z = [0.0; M];
    for i in 0..M {
        z[i] = b[i];
        for j in 0..N {
            z[i] += w[i][j] * x[j];
        }
    }
    let mut loss = 0.0;
    for i in 0..M {
        let a = grad::sigmoid(z[i]);
        loss += (a - target[i]) * (a - target[i]);
    }
    0.5 * loss
}

/// The same function with its arrays by value.
#[differentiable(wrt(w, b))]
pub fn dense_loss_by_value<const M: usize, const N: usize>(
    w: [[f64; N]; M],
    b: [f64; M],
    x: [f64; N],
    target: [f64; M],
) -> f64 {
    let mut z = [0.0; M];
    for i in 0..M {
        z[i] = b[i];
        for j in 0..N {
            z[i] += w[i][j] * x[j];
        }
    }
    let mut loss = 0.0;
    for i in 0..M {
        let a = grad::sigmoid(z[i]);
        loss += (a - target[i]) * (a - target[i]);
    }
    0.5 * loss
}

/// Backpropagation by hand: δ = (a - t) a (1 - a), ∂L/∂W = δ xᵀ, ∂L/∂b = δ.
#[allow(clippy::type_complexity)]
pub fn hand<const M: usize, const N: usize>(
    w: &[[f64; N]; M],
    b: &[f64; M],
    x: &[f64; N],
    target: &[f64; M],
) -> ([[f64; N]; M], [f64; M]) {
    let mut dw = [[0.0; N]; M];
    let mut db = [0.0; M];
    for i in 0..M {
        let mut z = b[i];
        for j in 0..N {
            z += w[i][j] * x[j];
        }
        let a = grad::sigmoid(z);
        let delta = (a - target[i]) * a * (1.0 - a);
        db[i] = delta;
        for j in 0..N {
            dw[i][j] = delta * x[j];
        }
    }
    (dw, db)
}

pub fn dual<D: DualNum<f64> + Copy, const M: usize, const N: usize>(
    w: &[[D; N]; M],
    b: &[D; M],
    x: &[f64; N],
    target: &[f64; M],
) -> D {
    let mut loss = D::from(0.0);
    for i in 0..M {
        let mut z = b[i];
        for j in 0..N {
            z += w[i][j] * x[j];
        }
        let a = (D::from(1.0) + (-z).exp()).recip();
        let e = a - target[i];
        loss += e * e;
    }
    loss * 0.5
}

/// `w` flattened row by row.
pub fn tape<'t>(w: &[Var<'t>], b: &[Var<'t>], x: &[f64], target: &[f64]) -> Var<'t> {
    let n = x.len();
    (0..b.len())
        .map(|i| {
            let z = (0..n).fold(b[i], |z, j| z + w[i * n + j] * x[j]);
            let a = (1.0 + (-z).exp()).recip();
            let e = a - target[i];
            e * e
        })
        .sum::<Var<'t>>()
        * 0.5
}
