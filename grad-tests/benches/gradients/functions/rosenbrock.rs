//! Function 2: Rosenbrock's function in N dimensions.

use grad::differentiable;
use num_dual::DualNum;
use reverse::Var;

#[differentiable]
pub fn rosenbrock<const N: usize>(x: &[f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

/// The same function, its array taken by value.
#[differentiable]
pub fn rosenbrock_by_value<const N: usize>(x: [f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

pub fn hand<const N: usize>(x: &[f64; N]) -> [f64; N] {
    let mut g = [0.0; N];
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        g[i] += -400.0 * x[i] * a - 2.0 * b;
        g[i + 1] += 200.0 * a;
    }
    g
}

pub fn dual<D: DualNum<f64> + Copy, const N: usize>(x: &[D; N]) -> D {
    let mut s = D::from(0.0);
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = -x[i] + 1.0;
        s += a * a * 100.0 + b * b;
    }
    s
}

pub fn tape<'t>(x: &[Var<'t>]) -> Var<'t> {
    (0..x.len() - 1)
        .map(|i| {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            100.0 * a * a + b * b
        })
        .sum()
}
