//! Slice gradients that one loop over the whole slice assigns element by element
//! (`grad-expand/src/reverse/overwrite.rs`): `f_grad_into` then leaves the caller's buffer
//! unzeroed, so every case here starts from a buffer of NaN. The functions that must not be
//! assigned (a loop inside a loop or a branch, two loops, part of the slice, another read)
//! start from NaN as well: a gradient left unzeroed there would come out NaN.

#![allow(clippy::needless_range_loop)]

use grad::differentiable;

#[differentiable]
fn squares(p: &[f64]) -> f64 {
    p.iter().map(|x| x.powi(2)).sum()
}

#[differentiable]
fn quartic(p: &[f64]) -> f64 {
    p.iter()
        .map(|&x| 0.5 * x.powi(4) - 2.0 * x.powi(3) + x * x - 3.0 * x + 1.0)
        .sum()
}

#[differentiable]
fn weighted(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i].sin();
    }
    s
}

/// The loop runs three times over the slice: each element gets three contributions.
#[differentiable]
fn nested(p: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..3 {
        for i in 0..p.len() {
            s += p[i] * p[i] * (k as f64 + 1.0);
        }
    }
    s
}

/// The loop runs only when the first element is positive.
#[differentiable]
fn in_a_branch(p: &[f64]) -> f64 {
    let mut s = 0.0;
    if p[0] > 0.0 {
        for i in 0..p.len() {
            s += p[i].exp();
        }
    }
    s + p[0]
}

#[differentiable]
fn two_loops(p: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..p.len() {
        s += p[i].sin();
    }
    for i in 0..p.len() {
        s += p[i] * p[i];
    }
    s
}

#[differentiable]
fn part_of_the_slice(p: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..p.len() {
        s += p[i].powi(3);
    }
    s
}

#[differentiable]
fn another_read(p: &[f64]) -> f64 {
    let mut s = p[1] * 10.0;
    for i in 0..p.len() {
        s += p[i].cos();
    }
    s
}

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.4 + 0.6 * (i as f64 * 0.7).sin()).collect()
}

fn central(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let h = 1e-6;
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[i] += h;
            down[i] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

fn assert_close(what: &str, got: &[f64], expected: &[f64]) {
    assert_eq!(got.len(), expected.len(), "{what}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-6 * (1.0 + e.abs()),
            "{what}: entry {i}: {g} vs {e}"
        );
    }
}

/// `f_grad_into` into a NaN buffer, and `f_grad`, against central differences.
fn check(
    what: &str,
    f: fn(&[f64]) -> f64,
    into: fn(&[f64], &mut [f64]),
    grad: fn(&[f64]) -> Vec<f64>,
) {
    for n in [0, 1, 2, 5, 64] {
        if n == 0 && matches!(what, "in_a_branch" | "another_read") {
            continue;
        }
        let x = point(n.max(if what == "another_read" { 2 } else { 0 }));
        let expected = central(f, &x);
        let mut buffer = vec![f64::NAN; x.len()];
        into(&x, &mut buffer);
        assert_close(&format!("{what} into, n = {n}"), &buffer, &expected);
        assert_close(&format!("{what}, n = {n}"), &grad(&x), &expected);
    }
}

#[test]
fn assigned_gradients_fill_a_nan_buffer() {
    check("squares", squares, squares_grad_into, squares_grad);
    check("quartic", quartic, quartic_grad_into, quartic_grad);
}

#[test]
fn two_slices_one_loop() {
    for n in [0, 3, 17] {
        let (w, x) = (
            point(n),
            point(n).iter().map(|v| v * 2.0 - 0.3).collect::<Vec<_>>(),
        );
        let mut gw = vec![f64::NAN; n];
        let mut gx = vec![f64::NAN; n];
        weighted_grad_into(&w, &x, &mut gw, &mut gx);
        assert_close("∂/∂w", &gw, &central(|w| weighted(w, &x), &w));
        assert_close("∂/∂x", &gx, &central(|x| weighted(&w, x), &x));
    }
}

#[test]
fn gradients_that_must_still_be_added() {
    check("nested", nested, nested_grad_into, nested_grad);
    check("two_loops", two_loops, two_loops_grad_into, two_loops_grad);
    check(
        "part_of_the_slice",
        part_of_the_slice,
        part_of_the_slice_grad_into,
        part_of_the_slice_grad,
    );
    check(
        "another_read",
        another_read,
        another_read_grad_into,
        another_read_grad,
    );
    // The branch taken and not taken.
    for x in [point(4), point(4).iter().map(|v| -v).collect()] {
        let mut buffer = vec![f64::NAN; 4];
        in_a_branch_grad_into(&x, &mut buffer);
        assert_close("in_a_branch", &buffer, &central(in_a_branch, &x));
    }
}
