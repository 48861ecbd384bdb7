//! Sums of maps whose gradients are filled in order (`grad-expand/src/reverse/overwrite.rs`),
//! one for each family of the rule table: each element expression `e(x, a)` becomes a sum over
//! a slice with a scalar parameter, a sum over an array of five, and a sum over a zip with a
//! shorter slice. Every companion's gradient (`f_grad`, `f_grad_into` into NaN buffers,
//! `f_value_and_grad`, `f_vjp`) is checked against central differences of the function at
//! points away from the expressions' kinks.

use grad::differentiable;

fn central(f: &dyn Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * (1.0 + x[i].abs());
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[i] += h;
            down[i] -= h;
            (f(&up) - f(&down)) / (up[i] - down[i])
        })
        .collect()
}

fn assert_close(what: &str, got: &[f64], expected: &[f64]) {
    assert_eq!(got.len(), expected.len(), "{what}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 2e-6 * (1.0 + e.abs()),
            "{what}: entry {i}: {g} vs {e}"
        );
    }
}

/// Points in (0.3, 1.7). The nearest of them to a kink of the expressions below (`max` and
/// `min` at `x = a` and `x = 1.2 a`) lies 8.6e-4 from it, some 400 difference steps, as
/// computed for these seeds and scalars when the test was written.
fn points(n: usize, seed: u64) -> Vec<f64> {
    (0..n)
        .map(|i| 1.0 + 0.7 * ((i as f64 + 1.0) * 1.37 + seed as f64 * 0.61).sin())
        .collect()
}

macro_rules! filled_sums {
    ($($name:ident: |$x:ident, $a:ident| $e:expr;)*) => {
        $(
            mod $name {
                use super::*;

                #[differentiable]
                pub fn slice(v: &[f64], $a: f64) -> f64 {
                    v.iter().map(|&$x| $e).sum()
                }

                #[differentiable]
                pub fn array(v: &[f64; 5]) -> f64 {
                    let $a: f64 = 0.45;
                    v.iter().map(|&$x| $e).sum()
                }

                #[differentiable(wrt(v))]
                pub fn zipped(v: &[f64], w: &[f64]) -> f64 {
                    let $a: f64 = 0.8;
                    v.iter().zip(w).map(|(&$x, &y)| $e * y).sum()
                }

                #[test]
                fn every_companion_against_central_differences() {
                    for (n, seed) in [(0, 1), (1, 2), (5, 3), (40, 4)] {
                        let v = points(n, seed);
                        let a = 0.6 + 0.1 * seed as f64;
                        let expected = central(&|v| slice(v, a), &v);
                        let h = 1e-6;
                        let expected_a = (slice(&v, a + h) - slice(&v, a - h)) / (2.0 * h);
                        let (gv, ga) = slice_grad(&v, a);
                        assert_close("slice, f_grad", &gv, &expected);
                        assert!((ga - expected_a).abs() <= 2e-6 * (1.0 + expected_a.abs()));
                        let mut buffer = vec![f64::NAN; n];
                        let ga_into = slice_grad_into(&v, a, &mut buffer);
                        assert_close("slice, f_grad_into", &buffer, &expected);
                        assert_eq!(ga_into.to_bits(), ga.to_bits());
                        let (value, (gv, _)) = slice_value_and_grad(&v, a);
                        assert_eq!(value.to_bits(), slice(&v, a).to_bits());
                        assert_close("slice, f_value_and_grad", &gv, &expected);
                        let (gv, _) = slice_vjp(&v, a, -1.5);
                        let scaled: Vec<f64> = expected.iter().map(|g| -1.5 * g).collect();
                        assert_close("slice, f_vjp", &gv, &scaled);

                        let w = points(n / 2 + 1, seed + 7);
                        let g = zipped_grad(&v, &w);
                        assert_close("zip, f_grad", &g, &central(&|v| zipped(v, &w), &v));
                        let mut buffer = vec![f64::NAN; n];
                        zipped_grad_into(&v, &w, &mut buffer);
                        assert_close("zip, f_grad_into", &buffer, &g);
                    }
                    let v: [f64; 5] = std::array::from_fn(|i| points(5, 9)[i]);
                    let expected = central(&|v| array(v.try_into().unwrap()), &v);
                    assert_close("array, f_grad", &array_grad(&v), &expected);
                    let (value, g) = array_value_and_grad(&v);
                    assert_eq!(value.to_bits(), array(&v).to_bits());
                    assert_close("array, f_value_and_grad", &g, &expected);
                }
            }
        )*
    };
}

filled_sums! {
    polynomial: |x, a| 0.5 * x.powi(4) - a * x.powi(3) + x * x - 3.0 * x;
    trigonometric: |x, a| (a * x).sin() * x.cos() + (x - a).tan();
    hyperbolic: |x, a| (x * a).tanh() + x.sinh() - (0.5 * x).cosh();
    exponential: |x, a| (-a * x).exp() + x.exp2() - x.exp_m1();
    logarithmic: |x, a| (x + a).ln() + x.log2() * x.log10() + (x * a).ln_1p();
    roots_and_powers: |x, a| x.sqrt() * a + x.cbrt() + x.powf(a) + a.powf(x);
    quotients: |x, a| a / x + x / (1.0 + x * x) - x.recip();
    inverse_trigonometric: |x, a| (0.5 * x).asin() + (0.4 * x).acos() + (a * x).atan();
    two_inputs: |x, a| x.atan2(a) + x.hypot(a) + x.max(a) - x.min(1.2 * a);
    kinks_away: |x, a| (x - 0.2).abs() * a + (x - 0.1).max(0.0) + x.signum() * x;
    mixed: |x, a| ((x * a).sin() + 2.0).ln() * (x.sqrt() + a).exp() / (1.0 + x.powi(2));
}
