//! Sub-slices, iterator adaptors over slices and arrays, slices passed on to differentiable
//! calls, and slices of arrays and of `Vec`s (issue 15). Each function is written as real code
//! writes it, and each gradient is checked against central finite differences and against
//! num-dual through a DualNum-generic copy of the function, or against a closed form.

// Index loops and `&Vec` parameters are how some of the functions under test are written.
#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

mod common;

use common::{assert_gradient, dual_gradient, xorshift};
use grad::differentiable;
use num_dual::{Dual64, DualNum};

/// Checks `analytic` against finite differences of `f` and against dual numbers through
/// `mirror`, and the mirror's value against `f`'s.
#[track_caller]
fn check(
    f: impl Fn(&[f64]) -> f64,
    mirror: impl Fn(&[Dual64]) -> Dual64,
    x: &[f64],
    analytic: &[f64],
) {
    assert_eq!(analytic.len(), x.len());
    assert_gradient(&f, x, analytic);
    let dual = dual_gradient(&mirror, x);
    for (i, (a, d)) in analytic.iter().zip(&dual).enumerate() {
        assert!(
            (a - d).abs() <= 1e-12 * d.abs().max(1.0),
            "coordinate {i} at {x:?}: analytic {a} vs dual {d}"
        );
    }
    let seeded: Vec<Dual64> = x.iter().map(|&v| Dual64::from(v)).collect();
    let value = f(x);
    assert!((mirror(&seeded).re - value).abs() <= 1e-12 * value.abs().max(1.0));
}

fn random_point(next: &mut impl FnMut() -> u64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| (next() % 40_000) as f64 / 10_000.0 - 2.0)
        .collect()
}

fn array<const N: usize>(x: &[f64]) -> [f64; N] {
    x.try_into().expect("the point has the array's length")
}

// ----- sub-slices -----

/// The interior of a grid, as finite-difference codes take it.
#[differentiable]
fn interior_energy(x: &[f64]) -> f64 {
    let n = x.len();
    let inner = &x[1..n - 1];
    let mut e = 0.0;
    for i in 0..inner.len() {
        e += (i as f64 + 1.0) * inner[i] * inner[i];
    }
    e + inner.iter().map(|v| v.sin()).sum::<f64>()
}

fn interior_energy_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let n = x.len();
    let inner = &x[1..n - 1];
    let mut e = D::from(0.0);
    for i in 0..inner.len() {
        e += inner[i] * inner[i] * (i as f64 + 1.0);
    }
    e + inner.iter().fold(D::from(0.0), |acc, v| acc + v.sin())
}

/// A prefix, a suffix and a range chosen at run time, each summed.
#[differentiable]
fn parts(x: &[f64], k: usize, a: usize, b: usize) -> f64 {
    let head = &x[..k];
    let tail: f64 = x[1..].iter().sum::<f64>();
    let middle = x[a..b].iter().sum::<f64>();
    head.iter().map(|v| v * v).sum::<f64>() * tail + middle.powi(3)
}

fn parts_dual<D: DualNum<f64> + Copy>(x: &[D], k: usize, a: usize, b: usize) -> D {
    let head = &x[..k];
    let tail = x[1..].iter().fold(D::from(0.0), |s, &v| s + v);
    let middle = x[a..b].iter().fold(D::from(0.0), |s, &v| s + v);
    head.iter().fold(D::from(0.0), |s, &v| s + v * v) * tail + middle.powi(3)
}

/// A sub-slice of a sub-slice, read by index, iterated and measured.
#[differentiable]
fn nested_parts(x: &[f64]) -> f64 {
    let s = &x[2..];
    let t = &s[1..3];
    let mut p = s[0] * t[1];
    for &v in &x[1..] {
        p += v * s.len() as f64;
    }
    p + t.iter().product::<f64>()
}

fn nested_parts_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let s = &x[2..];
    let t = &s[1..3];
    let mut p = s[0] * t[1];
    for &v in &x[1..] {
        p += v * s.len() as f64;
    }
    p + t[0] * t[1]
}

/// Neighbouring differences, with the slice zipped against itself shifted by one.
#[differentiable]
fn differences(x: &[f64]) -> f64 {
    x[1..]
        .iter()
        .zip(x.iter())
        .map(|(b, a)| (b - a).powi(2))
        .sum::<f64>()
}

fn differences_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    x[1..]
        .iter()
        .zip(x.iter())
        .fold(D::from(0.0), |s, (&b, &a)| s + (b - a).powi(2))
}

/// The same idioms on an array of constant length: the counts are literals.
#[differentiable]
fn array_parts(x: [f64; 6]) -> f64 {
    let inner = &x[1..5];
    let mut y = 0.0;
    for &v in x[2..].iter() {
        y = y * 0.5 + v.sin();
    }
    inner.iter().map(|v| v * v).sum::<f64>() + y * x[..3].iter().sum::<f64>()
}

fn array_parts_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let inner = &x[1..5];
    let mut y = D::from(0.0);
    for &v in x[2..].iter() {
        y = y * 0.5 + v.sin();
    }
    let squares = inner.iter().fold(D::from(0.0), |s, &v| s + v * v);
    squares + y * (x[0] + x[1] + x[2])
}

#[test]
fn sub_slices_read_the_right_elements() {
    let mut next = xorshift(0x51ce);
    for _ in 0..20 {
        let x = random_point(&mut next, 7);
        check(
            interior_energy,
            interior_energy_dual,
            &x,
            &interior_energy_grad(&x),
        );
        let (k, a, b) = (3, 2, 5);
        let (g, (), (), ()) = (parts_grad(&x, k, a, b), (), (), ());
        check(|p| parts(p, k, a, b), |p| parts_dual(p, k, a, b), &x, &g);
        check(nested_parts, nested_parts_dual, &x, &nested_parts_grad(&x));
        check(differences, differences_dual, &x, &differences_grad(&x));
        let x6 = &x[..6];
        check(
            |p| array_parts(array(p)),
            array_parts_dual,
            x6,
            &array_parts_grad(array(x6)),
        );
    }
    // Each adjoint lands on the element it was read from: `interior_energy` reads neither end.
    let g = interior_energy_grad(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!((g[0], g[3]), (0.0, 0.0));
    assert_eq!(g[1], 2.0 * 2.0 + 2.0_f64.cos());
    assert_eq!(g[2], 2.0 * 2.0 * 3.0 + 3.0_f64.cos());
}

// ----- adaptors -----

/// A total-variation smoother: windows of two, read as `w[0]` and `w[1]`.
#[differentiable]
fn roughness(x: &[f64]) -> f64 {
    x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>()
}

fn roughness_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    x.windows(2)
        .map(|w| (w[1] - w[0]).powi(2))
        .fold(D::from(0.0), |s, v| s + v)
}

/// The discrete second derivative over windows of three, on an array.
#[differentiable]
fn curvature(x: [f64; 7]) -> f64 {
    let mut c = 0.0;
    for (i, w) in x.windows(3).enumerate() {
        c += (i as f64 + 1.0) * (w[0] - 2.0 * w[1] + w[2]).powi(2);
    }
    c
}

fn curvature_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let mut c = D::from(0.0);
    for (i, w) in x.windows(3).enumerate() {
        c += (w[0] - w[1] * 2.0 + w[2]).powi(2) * (i as f64 + 1.0);
    }
    c
}

/// Horner's rule from the highest coefficient: `rev()` ended by `fold`, a recurrence.
#[differentiable]
fn horner(c: &[f64], t: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &a| acc * t + a)
}

fn horner_dual<D: DualNum<f64> + Copy>(c: &[D], t: D) -> D {
    c.iter().rev().fold(D::from(0.0), |acc, &a| acc * t + a)
}

/// `skip`, `take`, `step_by` and `zip` with a chain as partner.
#[differentiable]
fn strided(x: &[f64]) -> f64 {
    let odd: f64 = x.iter().skip(1).step_by(2).map(|v| v.sin()).sum();
    let head: f64 = x
        .iter()
        .take(3)
        .zip(x.iter().skip(1))
        .map(|(a, b)| a * b)
        .sum();
    let mut back = 0.0;
    for (i, &v) in x.iter().enumerate().skip(2).rev() {
        back = back * 0.9 + v * i as f64;
    }
    odd + head + back
}

fn strided_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let odd = x
        .iter()
        .skip(1)
        .step_by(2)
        .fold(D::from(0.0), |s, v| s + v.sin());
    let head = x
        .iter()
        .take(3)
        .zip(x.iter().skip(1))
        .fold(D::from(0.0), |s, (&a, &b)| s + a * b);
    let mut back = D::from(0.0);
    for (i, &v) in x.iter().enumerate().skip(2).rev() {
        back = back * 0.9 + v * i as f64;
    }
    odd + head + back
}

/// Block sums over `chunks` (a shorter last chunk) and `chunks_exact` (left out).
#[differentiable]
fn blocks(x: &[f64]) -> f64 {
    let whole = x
        .chunks(3)
        .map(|c| c.iter().sum::<f64>().powi(2))
        .sum::<f64>();
    let exact = x
        .chunks_exact(2)
        .map(|c| c[0] * c[1] * c.len() as f64)
        .sum::<f64>();
    whole + exact
}

fn blocks_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let whole = x.chunks(3).fold(D::from(0.0), |s, c| {
        s + c.iter().fold(D::from(0.0), |t, &v| t + v).powi(2)
    });
    let exact = x
        .chunks_exact(2)
        .fold(D::from(0.0), |s, c| s + c[0] * c[1] * c.len() as f64);
    whole + exact
}

/// The largest and the smallest element by `max_by` and `min_by`, with their comparators as
/// written against std.
#[differentiable]
fn spread(x: &[f64]) -> f64 {
    let hi = x
        .iter()
        .copied()
        .max_by(|a, b| a.partial_cmp(b).unwrap())
        .unwrap();
    let lo = x.iter().cloned().min_by(|a, b| a.total_cmp(b)).unwrap();
    let far = x
        .iter()
        .map(|v| v * v)
        .max_by(f64::total_cmp)
        .unwrap_or(0.0);
    hi - lo + far
}

fn spread_dual<D: DualNum<f64> + Copy + PartialOrd>(x: &[D]) -> D {
    let hi = x
        .iter()
        .copied()
        .max_by(|a, b| a.partial_cmp(b).unwrap())
        .unwrap();
    let lo = x
        .iter()
        .copied()
        .min_by(|a, b| a.partial_cmp(b).unwrap())
        .unwrap();
    let far = x
        .iter()
        .map(|&v| v * v)
        .max_by(|a, b| a.partial_cmp(b).unwrap())
        .unwrap_or(D::from(0.0));
    hi - lo + far
}

/// The running maximum by `fold` with a path, and a map over a range: both worked before
/// the adaptors; they still do, also beside them.
#[differentiable]
fn peak_and_pairs(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let n = x.len();
    let pairs = (0..n - 1).map(|i| x[i] * x[i + 1]).sum::<f64>();
    let tail = (1..n).rev().step_by(2).map(|i| x[i]).sum::<f64>();
    m + pairs + tail
}

fn peak_and_pairs_dual<D: DualNum<f64> + Copy + PartialOrd>(x: &[D]) -> D {
    let m = x[1..].iter().fold(x[0], |m, &v| if v > m { v } else { m });
    let n = x.len();
    let pairs = (0..n - 1).fold(D::from(0.0), |s, i| s + x[i] * x[i + 1]);
    let tail = (1..n).rev().step_by(2).fold(D::from(0.0), |s, i| s + x[i]);
    m + pairs + tail
}

/// A `Vec` collected from a chain, then read by index and iterated.
#[differentiable]
fn collected(x: &[f64], k: f64) -> f64 {
    let y: Vec<f64> = x.iter().map(|v| (k * v).tanh()).collect();
    let mut s = 0.0;
    for i in 1..y.len() {
        s += y[i] * y[i - 1];
    }
    let z = x.windows(2).map(|w| w[0] + w[1]).collect::<Vec<f64>>();
    s + y.iter().sum::<f64>() + z[0] * z[z.len() - 1]
}

fn collected_dual<D: DualNum<f64> + Copy>(x: &[D], k: D) -> D {
    let y: Vec<D> = x.iter().map(|&v| (k * v).tanh()).collect();
    let mut s = D::from(0.0);
    for i in 1..y.len() {
        s += y[i] * y[i - 1];
    }
    let z: Vec<D> = x.windows(2).map(|w| w[0] + w[1]).collect();
    s + y.iter().fold(D::from(0.0), |t, &v| t + v) + z[0] * z[z.len() - 1]
}

#[test]
fn adaptors_match_finite_differences_and_dual_numbers() {
    let mut next = xorshift(0xada7);
    for _ in 0..20 {
        let x = random_point(&mut next, 8);
        check(roughness, roughness_dual, &x, &roughness_grad(&x));
        let x7 = &x[..7];
        check(
            |p| curvature(array(p)),
            curvature_dual,
            x7,
            &curvature_grad(array(x7)),
        );
        let (gc, gt) = horner_grad(&x[..5], x[7]);
        let mut g = gc.clone();
        g.push(gt);
        check(
            |p| horner(&p[..5], p[5]),
            |p| horner_dual(&p[..5], p[5]),
            &[&x[..5], &[x[7]]].concat(),
            &g,
        );
        check(strided, strided_dual, &x, &strided_grad(&x));
        check(blocks, blocks_dual, &x, &blocks_grad(&x));
        check(spread, spread_dual, &x, &spread_grad(&x));
        check(
            peak_and_pairs,
            peak_and_pairs_dual,
            &x,
            &peak_and_pairs_grad(&x),
        );
        let (gx, gk) = collected_grad(&x, 0.7);
        let mut g = gx.clone();
        g.push(gk);
        let n = x.len();
        check(
            |p| collected(&p[..n], p[n]),
            |p| collected_dual(&p[..n], p[n]),
            &[&x[..], &[0.7]].concat(),
            &g,
        );
    }
    // Odd lengths: the last chunk of three is shorter, and `chunks_exact(2)` leaves one out.
    let x = [0.5, -1.0, 2.0, 1.5, 0.25];
    check(blocks, blocks_dual, &x, &blocks_grad(&x));
    // Horner's rule against its closed form: d/dc_k = t^k, d/dt = the derivative polynomial.
    let (gc, gt) = horner_grad(&[1.0, 2.0, 3.0], 0.5);
    assert_eq!(gc, vec![1.0, 0.5, 0.25]);
    assert_eq!(gt, 2.0 + 2.0 * 3.0 * 0.5);
}

#[test]
fn max_by_and_min_by_give_the_gradient_to_the_element_std_returns() {
    // Ties: `max_by` returns the last of equal maxima, `min_by` the first of equal minima,
    // and the whole gradient goes to that element (as a branch taken, not split as `max`).
    #[differentiable]
    fn last_max(x: [f64; 4]) -> f64 {
        x.iter()
            .copied()
            .max_by(|a, b| a.partial_cmp(b).unwrap())
            .unwrap()
    }
    #[differentiable]
    fn first_min(x: [f64; 4]) -> f64 {
        x.iter()
            .copied()
            .min_by(|a, b| a.partial_cmp(b).unwrap())
            .unwrap()
    }
    assert_eq!(last_max_grad([1.0, 3.0, 2.0, 3.0]), [0.0, 0.0, 0.0, 1.0]);
    assert_eq!(first_min_grad([2.0, 1.0, 1.0, 3.0]), [0.0, 1.0, 0.0, 0.0]);
    // A comparator of anything: the largest magnitude, whose gradient is its sign.
    #[differentiable]
    fn largest_magnitude(x: &[f64]) -> f64 {
        x.iter()
            .copied()
            .max_by(|a, b| a.abs().partial_cmp(&b.abs()).unwrap())
            .unwrap()
            .abs()
    }
    assert_eq!(
        largest_magnitude_grad(&[1.0, -4.0, 3.0]),
        vec![0.0, -1.0, 0.0]
    );
    // `unwrap_or` of an empty chain is the default, with no gradient to give.
    #[differentiable]
    fn largest_or_zero(x: &[f64], k: usize) -> f64 {
        x.iter()
            .take(k)
            .copied()
            .max_by(|a, b| a.partial_cmp(b).unwrap())
            .unwrap_or(0.0)
    }
    assert_eq!(largest_or_zero_value_and_grad(&[1.0, 2.0], 0).0, 0.0);
    assert_eq!(largest_or_zero_grad(&[1.0, 2.0], 0), vec![0.0, 0.0]);
    assert_eq!(
        largest_or_zero_grad(&[1.0, 2.0, 5.0], 2),
        vec![0.0, 1.0, 0.0]
    );
}

// ----- slices passed to differentiable calls -----

#[differentiable]
fn energy(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (i as f64 + 1.0) * x[i] * x[i];
    }
    s
}

#[differentiable]
fn weighted(x: &[f64], w: f64) -> f64 {
    x.iter().map(|v| (w * v).sin()).sum::<f64>()
}

/// The whole slice, parts of it, and windows of it, each passed to a differentiable callee:
/// each entry the callee returns is added to the caller's adjoint at the part's offset.
#[differentiable]
fn composed(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut s = w * energy(x) + energy(&x[1..]) * weighted(&x[..n - 2], w);
    for i in 0..n - 2 {
        s += weighted(&x[i..i + 3], 0.5);
    }
    s + x.windows(2).map(energy).sum::<f64>()
}

fn energy_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let mut s = D::from(0.0);
    for i in 0..x.len() {
        s += x[i] * x[i] * (i as f64 + 1.0);
    }
    s
}

fn weighted_dual<D: DualNum<f64> + Copy>(x: &[D], w: D) -> D {
    x.iter().fold(D::from(0.0), |s, &v| s + (w * v).sin())
}

fn composed_dual<D: DualNum<f64> + Copy>(x: &[D], w: D) -> D {
    let n = x.len();
    let mut s = w * energy_dual(x) + energy_dual(&x[1..]) * weighted_dual(&x[..n - 2], w);
    for i in 0..n - 2 {
        s += weighted_dual(&x[i..i + 3], D::from(0.5));
    }
    s + x
        .windows(2)
        .fold(D::from(0.0), |t, pair| t + energy_dual(pair))
}

/// A callee whose `_vjp` is written by hand, returning a `Vec` for its slice.
fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn mean_vjp(x: &[f64], upstream: f64) -> Vec<f64> {
    vec![upstream / x.len() as f64; x.len()]
}

/// A local array passed as a slice: `&a` to a callee taking `&[f64]`.
#[differentiable]
fn centred(x: [f64; 4]) -> f64 {
    let m = mean(&x[..]);
    let a = [x[0] - m, x[1] - m, x[2] - m, x[3] - m];
    energy(&a) + mean(&x[1..3])
}

fn centred_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let m = (x[0] + x[1] + x[2] + x[3]) / 4.0;
    let a = [x[0] - m, x[1] - m, x[2] - m, x[3] - m];
    energy_dual(&a) + (x[1] + x[2]) / 2.0
}

#[test]
fn slices_and_sub_slices_passed_to_differentiable_calls() {
    let mut next = xorshift(0xca11);
    for _ in 0..20 {
        let x = random_point(&mut next, 6);
        let (gx, gw) = composed_grad(&x, 0.8);
        let mut g = gx.clone();
        g.push(gw);
        check(
            |p| composed(&p[..6], p[6]),
            |p| composed_dual(&p[..6], p[6]),
            &[&x[..], &[0.8]].concat(),
            &g,
        );
        let x4 = &x[..4];
        check(
            |p| centred(array(p)),
            centred_dual,
            x4,
            &centred_grad(array(x4)),
        );
    }
}

// ----- slices and Vecs of arrays and of Vecs -----

/// The spread of a point cloud about its centroid: `&[[f64; 3]]`, `for q in points`.
#[differentiable]
fn cloud_spread(points: &[[f64; 3]], scale: f64) -> f64 {
    let n = points.len() as f64;
    let mut c = [0.0; 3];
    for q in points {
        for j in 0..3 {
            c[j] += q[j] / n;
        }
    }
    let mut s = 0.0;
    for i in 0..points.len() {
        for j in 0..3 {
            s += scale * (points[i][j] - c[j]).powi(2);
        }
    }
    s
}

fn cloud_spread_dual<D: DualNum<f64> + Copy>(points: &[[D; 3]], scale: D) -> D {
    let n = points.len() as f64;
    let mut c = [D::from(0.0); 3];
    for q in points {
        for j in 0..3 {
            c[j] += q[j] / n;
        }
    }
    let mut s = D::from(0.0);
    for p in points {
        for j in 0..3 {
            s += scale * (p[j] - c[j]).powi(2);
        }
    }
    s
}

/// Rows of different lengths: `&[Vec<f64>]`, indexed, measured and iterated row by row.
#[differentiable]
fn ragged_rows(rows: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for i in 0..rows.len() {
        for j in 0..rows[i].len() {
            s += (j as f64 + 1.0) * rows[i][j] * rows[i][j];
        }
    }
    for row in rows {
        s += row.iter().map(|v| v.sin()).sum::<f64>() * row.len() as f64;
    }
    s
}

fn ragged_rows_dual<D: DualNum<f64> + Copy>(rows: &[Vec<D>]) -> D {
    let mut s = D::from(0.0);
    for row in rows {
        for (j, &v) in row.iter().enumerate() {
            s += v * v * (j as f64 + 1.0);
        }
        s += row.iter().fold(D::from(0.0), |t, v| t + v.sin()) * row.len() as f64;
    }
    s
}

/// A `Vec` of pairs by value, and a `&Vec<Vec<f64>>`.
#[differentiable]
fn pair_products(pairs: Vec<[f64; 2]>, w: f64) -> f64 {
    pairs.iter().map(|p| w * p[0] * p[1]).sum::<f64>()
}

#[differentiable]
fn row_norms(rows: &Vec<Vec<f64>>) -> f64 {
    rows.iter()
        .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt())
        .sum::<f64>()
}

/// Integer slices are constants that index the float slice.
#[differentiable]
fn gathered(x: &[f64], idx: &[usize]) -> f64 {
    let mut s = 0.0;
    for &i in idx {
        s += x[i] * x[i];
    }
    s + idx.iter().map(|&i| x[i].sin()).sum::<f64>() + x[idx[0]]
}

#[test]
fn slices_of_arrays_and_of_vecs() {
    let mut next = xorshift(0x2d2d);
    for _ in 0..10 {
        let flat = random_point(&mut next, 13);
        let points: Vec<[f64; 3]> = flat[..12].chunks(3).map(array).collect();
        let scale = flat[12];
        let (gp, gs) = cloud_spread_grad(&points, scale);
        let mut g: Vec<f64> = gp.iter().flatten().copied().collect();
        g.push(gs);
        let unflatten = |p: &[f64]| -> Vec<[f64; 3]> { p[..12].chunks(3).map(array).collect() };
        check(
            |p| cloud_spread(&unflatten(p), p[12]),
            |p| {
                let pts: Vec<[Dual64; 3]> = p[..12].chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
                cloud_spread_dual(&pts, p[12])
            },
            &flat,
            &g,
        );
        // Into the caller's buffer, shaped like the parameter.
        let mut buffer = vec![[9.0; 3]; points.len()];
        let gs_into = cloud_spread_grad_into(&points, scale, &mut buffer);
        assert_eq!((buffer, gs_into), (gp, gs));

        let lens = [2, 0, 3, 1];
        let split = |p: &[f64]| -> Vec<Vec<f64>> {
            let mut at = 0;
            lens.iter()
                .map(|&n| {
                    at += n;
                    p[at - n..at].to_vec()
                })
                .collect()
        };
        let split_dual = |p: &[Dual64]| -> Vec<Vec<Dual64>> {
            let mut at = 0;
            lens.iter()
                .map(|&n| {
                    at += n;
                    p[at - n..at].to_vec()
                })
                .collect()
        };
        let rows = split(&flat[..6]);
        let g = ragged_rows_grad(&rows);
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), lens);
        let g_flat: Vec<f64> = g.iter().flatten().copied().collect();
        check(
            |p| ragged_rows(&split(p)),
            |p| ragged_rows_dual(&split_dual(p)),
            &flat[..6],
            &g_flat,
        );
        let mut buffer: Vec<Vec<f64>> = lens.iter().map(|&n| vec![1.0; n]).collect();
        ragged_rows_grad_into(&rows, &mut buffer);
        assert_eq!(buffer, g);
    }
    // Closed forms.
    let (g, dw) = pair_products_grad(vec![[1.0, 2.0], [3.0, 4.0]], 0.5);
    assert_eq!((g, dw), (vec![[1.0, 0.5], [2.0, 1.5]], 14.0));
    // d|r|/dr = r / |r|.
    let g = row_norms_grad(&vec![vec![3.0, 4.0], vec![], vec![-2.0]]);
    assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), [2, 0, 1]);
    for (a, e) in g.iter().flatten().zip([0.6, 0.8, -1.0]) {
        assert!((a - e).abs() < 1e-15, "{g:?}");
    }
    let g = gathered_grad(&[1.0, 2.0, 3.0], &[0, 2, 2]);
    let expected = [
        2.0 + 1.0_f64.cos() + 1.0,
        0.0,
        2.0 * (2.0 * 3.0 + 3.0_f64.cos()),
    ];
    for (a, e) in g.iter().zip(expected) {
        assert!((a - e).abs() < 1e-14, "{g:?}");
    }
}

// ----- what the errors suggest -----

/// Each workaround a message of this area suggests, written out: it compiles and is right.
#[test]
fn the_workarounds_the_errors_suggest() {
    // "`max_by` returns an `Option` ..: end it with `.unwrap()` ..."
    #[differentiable]
    fn largest(x: [f64; 4]) -> f64 {
        let m = x
            .iter()
            .copied()
            .max_by(|a, b| a.partial_cmp(b).unwrap())
            .unwrap();
        m * 2.0
    }
    assert_eq!(largest_grad([1.0, 5.0, 2.0, 3.0]), [0.0, 2.0, 0.0, 0.0]);

    // "`&mut` of an array or of a part of one ..: write its elements (`a[1 + i] = ..`)"
    #[differentiable]
    fn doubled_in_place(xs: [f64; 3]) -> f64 {
        let mut a = xs;
        let i = 0;
        a[1 + i] *= 2.0;
        a[1] + a[2]
    }
    assert_eq!(doubled_in_place_grad([1.0, 1.0, 1.0]), [0.0, 2.0, 1.0]);

    // "write its tuples as arrays (`&[[f64; 2]]`, read as `target[i][0]` or
    // `let [a, b] = target[i];`)"
    #[differentiable]
    fn reach(theta: f64, target: &[[f64; 2]]) -> f64 {
        let (x, y) = (theta.cos(), theta.sin());
        let mut cost = 0.0;
        for i in 0..target.len() {
            let [tx, ty] = target[i];
            cost += (x - tx).powi(2) + (y - target[i][1]).powi(2) * ty;
        }
        cost
    }
    let target = [[0.5, 1.5], [-1.0, 0.25]];
    let (dtheta, dtarget) = reach_grad(0.3, &target);
    assert_gradient(|p| reach(p[0], &target), &[0.3], &[dtheta]);
    let flat = [0.5, 1.5, -1.0, 0.25];
    let unflat = |p: &[f64]| [[p[0], p[1]], [p[2], p[3]]];
    let g: Vec<f64> = dtarget.iter().flatten().copied().collect();
    assert_gradient(|p| reach(0.3, &unflat(p)), &flat, &g);

    // "`map` takes a closure .. or a function path (`map(f64::sin)`)" and "`fold` takes ..
    // (`fold(f64::NEG_INFINITY, f64::max)`)", past an adaptor.
    #[differentiable]
    fn tail_peak(x: &[f64]) -> f64 {
        x.iter()
            .skip(1)
            .copied()
            .map(f64::sin)
            .fold(f64::NEG_INFINITY, f64::max)
            + x.iter().rev().take(2).count() as f64
    }
    let x = [0.1, 0.4, 1.2, 0.2];
    assert_eq!(tail_peak_grad(&x), vec![0.0, 0.0, 1.2_f64.cos(), 0.0]);
    assert_eq!(tail_peak(&x), tail_peak_value_and_grad(&x).0);
}

// ----- with generics, exits and closures -----

/// Written against num-traits: a collected `Vec`, `max_by`, a sub-slice and `sum::<T>()`.
#[differentiable]
fn generic_roughness<T: num_traits::Float + std::iter::Sum>(x: &[T]) -> T {
    let d: Vec<T> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let m = x
        .iter()
        .copied()
        .max_by(|a, b| a.partial_cmp(b).unwrap())
        .unwrap();
    d.iter().map(|v| *v * *v).sum::<T>() + m + x[1..].iter().copied().sum::<T>()
}

fn generic_roughness_dual<D: DualNum<f64> + Copy + PartialOrd>(x: &[D]) -> D {
    let d: Vec<D> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let m = x
        .iter()
        .copied()
        .max_by(|a, b| a.partial_cmp(b).unwrap())
        .unwrap();
    let tail = x[1..].iter().fold(D::from(0.0), |s, &v| s + v);
    d.iter().fold(D::from(0.0), |s, &v| s + v * v) + m + tail
}

/// `break` and `return` inside a loop over windows.
#[differentiable]
fn until_a_jump(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        if w[0] > 1.5 {
            return s * w[1];
        }
        if w[1] < -1.5 {
            break;
        }
        s = s * 0.5 + w[0] * w[1];
    }
    s
}

fn until_a_jump_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let mut s = D::from(0.0);
    for w in x.windows(2) {
        if w[0].re() > 1.5 {
            return s * w[1];
        }
        if w[1].re() < -1.5 {
            break;
        }
        s = s * 0.5 + w[0] * w[1];
    }
    s
}

/// Closures that capture a sub-slice, by reference and by `move`.
#[differentiable]
fn captured_part(x: &[f64], k: f64) -> f64 {
    let tail = &x[1..];
    let f = |i: usize| tail[i] * k;
    let g = move |i: usize| tail[i].sin();
    f(0) + g(1) + tail.iter().map(|v| v * f(0)).sum::<f64>()
}

fn captured_part_dual<D: DualNum<f64> + Copy>(x: &[D], k: D) -> D {
    let tail = &x[1..];
    let f = |i: usize| tail[i] * k;
    let g = |i: usize| tail[i].sin();
    f(0) + g(1) + tail.iter().fold(D::from(0.0), |s, &v| s + v * f(0))
}

#[test]
fn with_generics_exits_and_closures() {
    let mut next = xorshift(0x6e6e);
    for _ in 0..20 {
        let x = random_point(&mut next, 6);
        check(
            generic_roughness::<f64>,
            generic_roughness_dual,
            &x,
            &generic_roughness_grad(&x),
        );
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        for (a, b) in generic_roughness_grad(&x32)
            .iter()
            .zip(generic_roughness_grad(&x))
        {
            assert!((f64::from(*a) - b).abs() < 1e-4 * b.abs().max(1.0));
        }
        check(until_a_jump, until_a_jump_dual, &x, &until_a_jump_grad(&x));
        let (g, dk) = captured_part_grad(&x, x[0]);
        let mut g = g.clone();
        g.push(dk);
        check(
            |p| captured_part(&p[..6], p[6]),
            |p| captured_part_dual(&p[..6], p[6]),
            &[&x[..], &[x[0]]].concat(),
            &g,
        );
    }
}

/// `zip` stops at the shorter walk. Before issue 15 the rewrite walked the first one's
/// indices, so `dot_grad` of slices of different lengths indexed past the shorter one and
/// panicked where `dot` returns a value.
#[differentiable]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y.iter()).map(|(a, b)| a * b).sum::<f64>()
}

#[test]
fn zip_stops_at_the_shorter_slice() {
    let (x, y) = ([1.0, 2.0, 3.0], [4.0, 5.0]);
    assert_eq!(dot_value_and_grad(&x, &y).0, dot(&x, &y));
    assert_eq!(dot_grad(&x, &y), (vec![4.0, 5.0, 0.0], vec![1.0, 2.0]));
    assert_eq!(dot_grad(&y, &x), (vec![1.0, 2.0], vec![4.0, 5.0, 0.0]));
}
