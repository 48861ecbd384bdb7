//! Slice gradients that one loop over the whole slice assigns element by element
//! (`grad-expand/src/reverse/overwrite.rs`): `f_grad_into` then leaves the caller's buffer
//! unzeroed, so every case here starts from a buffer of NaN. The functions that must not be
//! assigned (a loop inside a loop or a branch, two loops, part of the slice, another read)
//! start from NaN as well: a gradient left unzeroed there would come out NaN.
//!
//! A loop whose reverse may run forwards (its iterations' reverses read nothing another
//! writes) fills the gradient in order (`Step::Fill`): `f_grad` then collects a new `Vec`
//! as the loop goes, with no zeros first, and a loop over a zip with a shorter slice fills a
//! prefix and zeroes the rest. `f_grad`, `f_value_and_grad` and `f_vjp` take that path, so
//! each is checked here beside `f_grad_into`.

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

/// A zip: the loop runs over the shorter of the two, so `w`'s gradient is `x` on a prefix and
/// zero after it.
#[differentiable]
fn zipped(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b + 0.5 * a * a * b).sum()
}

/// A scalar parameter whose adjoint the forward-running reverse adds to in another order.
#[differentiable]
fn scaled(a: f64, p: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..p.len() {
        s += a * (p[i] * a).exp() - p[i];
    }
    s
}

/// The running product's adjoint changes from one iteration to the next: its reverse must
/// run backwards.
#[differentiable]
fn product(p: &[f64]) -> f64 {
    let mut acc = 1.0;
    for i in 0..p.len() {
        acc *= 1.0 + p[i] * p[i];
    }
    acc
}

/// A branch in the body: the accumulator is a merge, so the reverse runs backwards.
#[differentiable]
fn branchy(p: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..p.len() {
        if p[i] > 0.5 {
            s += p[i] * p[i];
        } else {
            s -= p[i].sin();
        }
    }
    s
}

/// Generic over num-traits, run in `f32`.
#[differentiable]
fn generic_terms<T: num_traits::Float + std::iter::Sum>(p: &[T]) -> T {
    p.iter().map(|&x| x * x.sin() + x.exp()).sum()
}

/// An array by reference: its gradient is the core's whole gradient, filled in order by
/// `core::array::from_fn` in `f_grad` (no zeros first).
#[differentiable]
fn array_terms(p: &[f64; 6]) -> f64 {
    p.iter().map(|x| x.powi(3) - 2.0 * x.sin()).sum()
}

/// An array by value, of a const generic length, generic over the float type.
#[differentiable]
fn generic_array<T: num_traits::Float + std::iter::Sum, const N: usize>(p: [T; N]) -> T {
    p.iter().map(|&x| x * x.exp()).sum()
}

/// Two entries in the gradient: the array is not the whole gradient, so it is zeroed and
/// added to as before.
#[differentiable]
fn array_and_scale(p: &[f64; 4], c: f64) -> f64 {
    p.iter().map(|x| c * x * x).sum()
}

/// An array beside a slice: the array is the core's whole gradient besides the slices', and
/// the slice companions hand it a zeroed array (`FilledGradient for [T; N]`).
#[differentiable]
fn array_beside_a_slice(p: &[f64; 4], v: &[f64]) -> f64 {
    p.iter().map(|x| x.sin()).sum::<f64>() + v.iter().map(|x| x * x * 0.5).sum::<f64>()
}

mod other_length {
    pub const N: usize = 3;
}

const N: usize = 4;

/// The loop's `N` is another constant than the array type's: the fill takes it as a count, and
/// the last element's gradient is zero.
#[differentiable]
fn shadowed_length(p: &[f64; N]) -> f64 {
    use other_length::N;
    let mut s = 0.0;
    for i in 0..N {
        s += p[i] * p[i];
    }
    s
}

/// Second order through a filled array gradient.
#[differentiable(hessian)]
fn cubes(p: &[f64; 3]) -> f64 {
    p.iter().map(|x| x.powi(3) + x * x).sum()
}

/// The accumulator on the right (`s = e + s`) and subtracted from (`t = t - e`): both add
/// only, so the reverse runs forwards; their product reads both after the loop.
#[differentiable]
#[allow(clippy::assign_op_pattern)] // the accumulator on the right, on purpose
fn two_accumulators(v: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    let mut t = 1.0;
    for i in 0..v.len() {
        s = (v[i] * a).sin() + s;
        t = t - v[i] * v[i] * 0.25;
    }
    s * t
}

/// The accumulator read by its own update twice: the reverse must run backwards.
#[differentiable]
fn compounding(v: &[f64]) -> f64 {
    let mut s = 0.5;
    for i in 0..v.len() {
        s += s * 0.1 + v[i].tanh();
    }
    s
}

fn bump(x: f64, a: f64) -> f64 {
    (x - a).powi(2) * 0.5 + x.exp()
}

/// `bump`'s hand-written pullback, which grad calls for it.
fn bump_vjp(x: f64, a: f64, upstream: f64) -> (f64, f64) {
    let g = x - a + x.exp();
    (upstream * g, -upstream * (x - a))
}

/// A call inside the loop, differentiated through its `_vjp`.
#[differentiable]
fn through_a_call(v: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..v.len() {
        s += bump(v[i], a);
    }
    s
}

/// `enumerate`: the counter is read as a float.
#[differentiable]
fn enumerated(v: &[f64]) -> f64 {
    v.iter()
        .enumerate()
        .map(|(i, x)| x * x * (i as f64 + 1.0))
        .sum()
}

/// Two loops over the slice: two writers, so the gradient is zeroed and added to.
#[differentiable]
fn two_sums(v: &[f64]) -> f64 {
    v.iter().map(|x| x.sin()).sum::<f64>() * v.iter().map(|x| x.cos()).sum::<f64>()
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

#[test]
fn forward_filled_gradients_in_every_companion() {
    for n in [0, 1, 7, 100] {
        let x = point(n);
        let expected = central(squares, &x);
        let (value, grad) = squares_value_and_grad(&x);
        assert_eq!(value, squares(&x));
        assert_close("squares value_and_grad", &grad, &expected);
        let scaled_up: Vec<f64> = expected.iter().map(|g| -2.5 * g).collect();
        assert_close("squares vjp", &squares_vjp(&x, -2.5), &scaled_up);
    }
}

#[test]
fn a_zip_fills_a_prefix_and_zeroes_the_rest() {
    for (nw, nx) in [(0, 0), (0, 3), (3, 0), (5, 5), (9, 4), (4, 9), (64, 63)] {
        let w = point(nw);
        let x: Vec<f64> = point(nx).iter().map(|v| 1.5 - v).collect();
        let expected_w = central(|w| zipped(w, &x), &w);
        let expected_x = central(|x| zipped(&w, x), &x);
        let (gw, gx) = zipped_grad(&w, &x);
        assert_close(&format!("∂/∂w, {nw} and {nx}"), &gw, &expected_w);
        assert_close(&format!("∂/∂x, {nw} and {nx}"), &gx, &expected_x);
        // The tail past the shorter slice is exactly zero, not a leftover.
        assert!(gw[nw.min(nx)..].iter().all(|g| *g == 0.0));
        let (mut bw, mut bx) = (vec![f64::NAN; nw], vec![f64::NAN; nx]);
        zipped_grad_into(&w, &x, &mut bw, &mut bx);
        assert_close("∂/∂w into NaN", &bw, &expected_w);
        assert_close("∂/∂x into NaN", &bx, &expected_x);
        let (gw, gx) = zipped_vjp(&w, &x, 3.0);
        let triple = |v: &[f64]| v.iter().map(|g| 3.0 * g).collect::<Vec<_>>();
        assert_close("∂/∂w vjp", &gw, &triple(&expected_w));
        assert_close("∂/∂x vjp", &gx, &triple(&expected_x));
    }
}

#[test]
fn a_buffer_of_the_wrong_length_is_refused() {
    let x = point(4);
    let result = std::panic::catch_unwind(|| {
        let mut short = vec![0.0; 3];
        squares_grad_into(&x, &mut short);
    });
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains("a gradient buffer must have the length of its slice parameter"),
        "{message}"
    );
}

#[test]
fn forward_reverse_with_a_scalar_parameter() {
    for n in [0, 1, 6, 50] {
        let p = point(n);
        let a = 0.7;
        let (ga, gp) = scaled_grad(a, &p);
        let h = 1e-6;
        let expected_a = (scaled(a + h, &p) - scaled(a - h, &p)) / (2.0 * h);
        assert!(
            (ga - expected_a).abs() <= 1e-6 * (1.0 + expected_a.abs()),
            "{ga} vs {expected_a}"
        );
        assert_close("∂/∂p", &gp, &central(|p| scaled(a, p), &p));
        let mut buffer = vec![f64::NAN; n];
        let ga_into = scaled_grad_into(a, &p, &mut buffer);
        assert!((ga_into - expected_a).abs() <= 1e-6 * (1.0 + expected_a.abs()));
        assert_close("∂/∂p into NaN", &buffer, &gp);
    }
}

#[test]
fn loops_that_must_still_run_backwards() {
    check("product", product, product_grad_into, product_grad);
    check("branchy", branchy, branchy_grad_into, branchy_grad);
}

#[test]
fn generic_f32_fills_in_order() {
    let x: Vec<f32> = (0..33).map(|i| 0.1 + 0.03 * i as f32).collect();
    let grad = generic_terms_grad(&x);
    let mut buffer = vec![f32::NAN; x.len()];
    generic_terms_grad_into(&x, &mut buffer);
    for ((g, b), x) in grad.iter().zip(&buffer).zip(&x) {
        let expected = x.sin() + x * x.cos() + x.exp();
        assert!(
            (g - expected).abs() <= 1e-5 * (1.0 + expected.abs()),
            "{g} vs {expected}"
        );
        assert_eq!(g, b);
    }
}

#[test]
fn array_gradients_are_filled_in_order() {
    let p = [0.3, -1.2, 0.8, 2.0, -0.1, 0.55];
    let expected = central(|x| array_terms(x.try_into().unwrap()), &p);
    assert_close("array_terms grad", &array_terms_grad(&p), &expected);
    let (value, grad) = array_terms_value_and_grad(&p);
    assert_eq!(value, array_terms(&p));
    assert_close("array_terms value_and_grad", &grad, &expected);
    let halved: Vec<f64> = expected.iter().map(|g| 0.5 * g).collect();
    assert_close("array_terms vjp", &array_terms_vjp(&p, 0.5), &halved);

    let q = [0.25_f32, -0.5, 1.0, 0.75, -1.25];
    let grad = generic_array_grad(q);
    for (g, x) in grad.iter().zip(q) {
        let expected = x.exp() * (1.0 + x);
        assert!(
            (g - expected).abs() <= 1e-6 * (1.0 + expected.abs()),
            "{g} vs {expected}"
        );
    }
    let empty: [f64; 0] = [];
    assert_eq!(generic_array_grad(empty), empty);

    let r = [0.5, -0.25, 1.5, 2.0];
    let (gp, gc) = array_and_scale_grad(&r, 1.5);
    assert_close("∂/∂p", &gp, &r.iter().map(|x| 3.0 * x).collect::<Vec<_>>());
    assert!((gc - r.iter().map(|x| x * x).sum::<f64>()).abs() < 1e-12);
}

#[test]
fn second_order_through_a_filled_array() {
    let p = [0.4, -0.7, 1.3];
    let hessian = cubes_hessian(&p);
    for i in 0..3 {
        for j in 0..3 {
            let expected = if i == j { 6.0 * p[i] + 2.0 } else { 0.0 };
            assert!(
                (hessian[i][j] - expected).abs() < 1e-12,
                "{i} {j}: {}",
                hessian[i][j]
            );
        }
    }
    assert_close(
        "cubes grad",
        &cubes_grad(&p),
        &p.map(|x| 3.0 * x * x + 2.0 * x),
    );
}

#[test]
fn more_loops_against_central_differences() {
    let a = 0.35;
    for n in [0, 1, 4, 31] {
        let v = point(n);
        let (gv, ga) = two_accumulators_grad(&v, a);
        assert_close(
            "two_accumulators ∂/∂v",
            &gv,
            &central(|v| two_accumulators(v, a), &v),
        );
        let h = 1e-6;
        let expected = (two_accumulators(&v, a + h) - two_accumulators(&v, a - h)) / (2.0 * h);
        assert!(
            (ga - expected).abs() <= 1e-6 * (1.0 + expected.abs()),
            "{ga} vs {expected}"
        );
        let mut buffer = vec![f64::NAN; n];
        compounding_grad_into(&v, &mut buffer);
        assert_close("compounding", &buffer, &central(compounding, &v));
        let (gv, ga) = through_a_call_grad(&v, a);
        assert_close(
            "through_a_call ∂/∂v",
            &gv,
            &central(|v| through_a_call(v, a), &v),
        );
        let expected = (through_a_call(&v, a + h) - through_a_call(&v, a - h)) / (2.0 * h);
        assert!(
            (ga - expected).abs() <= 1e-6 * (1.0 + expected.abs()),
            "{ga} vs {expected}"
        );
        check(
            "enumerated",
            enumerated,
            enumerated_grad_into,
            enumerated_grad,
        );
        check("two_sums", two_sums, two_sums_grad_into, two_sums_grad);
    }
}

#[test]
fn an_array_filled_beside_a_slice() {
    let p: [f64; 4] = [0.3, -0.8, 1.1, 2.0];
    let v = point(7);
    let expected_p: Vec<f64> = p.iter().map(|x| x.cos()).collect();
    let (gp, gv) = array_beside_a_slice_grad(&p, &v);
    assert_close("∂/∂p", &gp, &expected_p);
    assert_close("∂/∂v", &gv, &v);
    let mut buffer = vec![f64::NAN; v.len()];
    let gp = array_beside_a_slice_grad_into(&p, &v, &mut buffer);
    assert_close("∂/∂p, f_grad_into", &gp, &expected_p);
    assert_close("∂/∂v, f_grad_into", &buffer, &v);
}

#[test]
fn an_array_filled_up_to_a_count_named_like_its_length() {
    let p = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(shadowed_length(&p), 14.0);
    assert_eq!(shadowed_length_grad(&p), [2.0, 4.0, 6.0, 0.0]);
    let (value, grad) = shadowed_length_value_and_grad(&p);
    assert_eq!((value, grad), (14.0, [2.0, 4.0, 6.0, 0.0]));
}
