//! Forward mode and second order (issue 17).
//!
//! `f_jvp(args.., tangents..)` gives the function's value and its directional derivative
//! `J · t` in one sweep: checked against the transpose of the reverse mode grad already has
//! (`f_jvp` along `t` equals `f_grad · t`, and row by row `f_jacobian · t` for vector
//! outputs), against num-dual's forward mode along the same direction, and against central
//! finite differences. `f_hvp` and `f_hessian` (reverse over forward) are checked against
//! num-dual's hyper-dual numbers (each second partial exactly) and finite differences of
//! `f_grad`.

mod common;

use common::{hyper_hessian, xorshift};
use grad::differentiable;
use num_dual::{Dual64, DualNum, HyperDual64};

fn random(next: &mut impl FnMut() -> u64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| (next() % 20_000) as f64 / 10_000.0 - 1.0)
        .collect()
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * (1.0 + a.abs().max(b.abs()))
}

/// The derivative of `f` at `x` along `t`, by num-dual: `f(x + ε t)`.
fn dual_direction(f: impl Fn(&[Dual64]) -> Dual64, x: &[f64], t: &[f64]) -> f64 {
    let seeded: Vec<Dual64> = x.iter().zip(t).map(|(x, t)| Dual64::new(*x, *t)).collect();
    f(&seeded).eps
}

fn central_difference(f: impl Fn(&[f64]) -> f64, x: &[f64], t: &[f64]) -> f64 {
    let h = 1e-6;
    let at = |s: f64| -> Vec<f64> { x.iter().zip(t).map(|(x, t)| x + s * t).collect() };
    (f(&at(h)) - f(&at(-h))) / (2.0 * h)
}

// ----- straight-line code, branches, kinks -----

#[differentiable(hessian)]
fn mixed(x: f64, y: f64, z: f64) -> f64 {
    let r = (x * x + y * y).sqrt();
    let a = y.atan2(x) * z;
    let b = if r > 0.5 {
        r.ln() - a / z.exp()
    } else {
        a.powi(3) + x.max(y)
    };
    b * (z / (1.0 + y * y)) + x.mul_add(y, z).tanh() - (x % 0.7)
}

fn mixed_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let (x, y, z) = (v[0], v[1], v[2]);
    let r = (x * x + y * y).sqrt();
    let a = y.atan2(x) * z;
    let b = if r.re() > 0.5 {
        r.ln() - a / z.exp()
    } else {
        a.powi(3) + if x.re() > y.re() { x } else { y }
    };
    // x % 0.7 = x - trunc(x / 0.7) * 0.7, of slope 1 in x.
    let rem = x - D::from((x.re() / 0.7).trunc() * 0.7);
    b * (z / (y * y + 1.0)) + (x * y + z).tanh() - rem
}

#[test]
fn the_jvp_is_the_gradient_along_the_tangent() {
    let mut next = xorshift(0xf0_0d);
    for _ in 0..200 {
        let v = random(&mut next, 6);
        let (x, t) = (&v[..3], &v[3..]);
        let (value, tangent) = mixed_jvp(x[0], x[1], x[2], t[0], t[1], t[2]);
        assert_eq!(
            value,
            mixed(x[0], x[1], x[2]),
            "the value is the function's"
        );
        let (gx, gy, gz) = mixed_grad(x[0], x[1], x[2]);
        let transposed = gx * t[0] + gy * t[1] + gz * t[2];
        assert!(
            close(tangent, transposed, 1e-13),
            "{tangent} vs grad · t {transposed}"
        );
        let dual = dual_direction(mixed_mirror, x, t);
        assert!(close(tangent, dual, 1e-12), "{tangent} vs num-dual {dual}");
    }
}

#[test]
fn kinks_follow_the_reverse_conventions() {
    // max at a tie: the reverse rule splits the gradient, so the tangent is the mean.
    #[differentiable]
    fn tie(a: f64, b: f64) -> f64 {
        a.max(b) + (a - b).abs()
    }
    let (_, t) = tie_jvp(1.0, 1.0, 1.0, 0.0);
    assert_eq!(t, 0.5);
    assert_eq!(tie_grad(1.0, 1.0).0, t);
    // sqrt at 0 along a zero tangent is zero, not NaN.
    #[differentiable]
    fn root(x: f64, y: f64) -> f64 {
        x.sqrt() + y
    }
    assert_eq!(root_jvp(0.0, 2.0, 0.0, 1.0), (2.0, 1.0));
}

// ----- loops, arrays, early exits -----

#[differentiable(hessian)]
fn series(v: [f64; 4], k: f64, n: usize) -> f64 {
    let mut acc = 0.0;
    let mut w = [0.0; 4];
    for i in 0..n {
        let wi = w[i % 4] + v[i % 4] * k;
        w[i % 4] = wi;
        if wi > 1.5 {
            break;
        }
        acc = acc * 0.5 + wi.sin();
    }
    let mut j = 0;
    while j < 4 && acc < 3.0 {
        acc += v[j] * v[j];
        j += 1;
    }
    acc
}

fn series_mirror<D: DualNum<f64> + Copy>(a: &[D], n: usize) -> D {
    let (v, k) = (&a[..4], a[4]);
    let mut acc = D::zero();
    let mut w = [D::zero(); 4];
    for i in 0..n {
        let wi = w[i % 4] + v[i % 4] * k;
        w[i % 4] = wi;
        if wi.re() > 1.5 {
            break;
        }
        acc = acc * 0.5 + wi.sin();
    }
    let mut j = 0;
    while j < 4 && acc.re() < 3.0 {
        acc += v[j] * v[j];
        j += 1;
    }
    acc
}

#[test]
fn loops_arrays_and_early_exits() {
    let mut next = xorshift(0x100b);
    for n in 0..12 {
        for _ in 0..10 {
            let r = random(&mut next, 10);
            let v = [r[0] * 2.0, r[1] * 2.0, r[2], r[3]];
            let k = 1.0 + r[4];
            let (tv, tk) = ([r[5], r[6], r[7], r[8]], r[9]);
            let (value, tangent) = series_jvp(v, k, n, tv, tk);
            assert_eq!(value, series(v, k, n));
            let (gv, gk) = series_grad(v, k, n);
            let transposed: f64 = gv.iter().zip(&tv).map(|(g, t)| g * t).sum::<f64>() + gk * tk;
            assert!(close(tangent, transposed, 1e-13), "n = {n}");
            let x = [v[0], v[1], v[2], v[3], k];
            let t = [tv[0], tv[1], tv[2], tv[3], tk];
            let dual = dual_direction(|a| series_mirror(a, n), &x, &t);
            assert!(close(tangent, dual, 1e-12), "n = {n}: {tangent} vs {dual}");
        }
    }
}

// ----- vector outputs: the Jacobian times the tangent -----

#[differentiable]
fn field(p: [f64; 2], w: [[f64; 2]; 2]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..2 {
        out[i] = (w[i][0] * p[0] + w[i][1] * p[1]).tanh();
    }
    out[2] = out[0] * out[1];
    out
}

#[differentiable]
fn polar(x: f64, y: f64) -> (f64, f64) {
    ((x * x + y * y).sqrt(), y.atan2(x))
}

#[test]
fn vector_outputs_give_the_jacobian_times_the_tangent() {
    let mut next = xorshift(0x7ec);
    for _ in 0..50 {
        let r = random(&mut next, 12);
        let (p, w) = ([r[0], r[1]], [[r[2], r[3]], [r[4], r[5]]]);
        let (tp, tw) = ([r[6], r[7]], [[r[8], r[9]], [r[10], r[11]]]);
        let (value, tangent) = field_jvp(p, w, tp, tw);
        assert_eq!(value, field(p, w));
        let (jp, jw) = field_jacobian(p, w);
        for i in 0..3 {
            let mut row = 0.0;
            for a in 0..2 {
                row += jp[i][a] * tp[a];
                for b in 0..2 {
                    row += jw[i][a][b] * tw[a][b];
                }
            }
            assert!(close(tangent[i], row, 1e-13), "output {i}");
            let along = |s: &[f64]| field([s[0], s[1]], [[s[2], s[3]], [s[4], s[5]]])[i];
            let fd = central_difference(along, &r[..6], &r[6..]);
            assert!(
                close(tangent[i], fd, 1e-7),
                "output {i}: {} vs {fd}",
                tangent[i]
            );
        }
        let (x, y) = (r[0] + 1.5, r[1]);
        let ((rho, theta), (trho, ttheta)) = polar_jvp(x, y, r[2], r[3]);
        assert_eq!((rho, theta), polar(x, y));
        // One array per parameter: its partial of each output.
        let ([drx, dtx], [dry, dty]) = polar_jacobian(x, y);
        assert!(close(trho, drx * r[2] + dry * r[3], 1e-13));
        assert!(close(ttheta, dtx * r[2] + dty * r[3], 1e-13));
    }
}

/// Three input elements, eight outputs: `f_jacobian` takes its columns from forward mode.
#[differentiable]
fn sampled(t: f64, w: [[f64; 1]; 2]) -> [f64; 8] {
    let mut out = [0.0; 8];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (t * i as f64).sin() * w[0][0] + w[1][0] * t * t;
    }
    out
}

/// As many outputs as the caller asks: by columns for `M > 2`, by rows otherwise.
#[differentiable]
fn spread<const M: usize>(a: f64, b: f64) -> [f64; M] {
    let mut out = [0.0; M];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (a * (i as f64 + 1.0)).cos() * b;
    }
    out
}

#[test]
fn the_jacobian_by_columns_where_there_are_fewer_inputs_than_outputs() {
    let mut next = xorshift(0xc01);
    for _ in 0..30 {
        let r = random(&mut next, 3);
        let (t, w) = (r[0], [[r[1]], [r[2]]]);
        let (jt, jw) = sampled_jacobian(t, w);
        for i in 0..8 {
            // Row i from reverse mode: the pullback of the i-th unit output.
            let mut unit = [0.0; 8];
            unit[i] = 1.0;
            let (gt, gw) = sampled_vjp(t, w, unit);
            assert!(close(jt[i], gt, 1e-14), "output {i}: {} vs {gt}", jt[i]);
            assert!(close(jw[i][0][0], gw[0][0], 1e-14) && close(jw[i][1][0], gw[1][0], 1e-14));
            let along = |s: &[f64]| sampled(s[0], [[s[1]], [s[2]]])[i];
            let fd = central_difference(along, &r, &[1.0, 0.0, 0.0]);
            assert!(close(jt[i], fd, 1e-7), "output {i}: {} vs {fd}", jt[i]);
        }
        for m in [1usize, 2, 5] {
            let check = |ja: &[f64], jb: &[f64]| {
                for i in 0..m {
                    let k = i as f64 + 1.0;
                    let (a, b) = (r[0], r[1]);
                    assert!(close(ja[i], -(a * k).sin() * k * b, 1e-14), "M = {m}");
                    assert!(close(jb[i], (a * k).cos(), 1e-14), "M = {m}");
                }
            };
            match m {
                1 => {
                    let (ja, jb) = spread_jacobian::<1>(r[0], r[1]);
                    check(&ja, &jb);
                }
                2 => {
                    let (ja, jb) = spread_jacobian::<2>(r[0], r[1]);
                    check(&ja, &jb);
                }
                _ => {
                    let (ja, jb) = spread_jacobian::<5>(r[0], r[1]);
                    check(&ja, &jb);
                }
            }
        }
    }
}

// ----- generic code, f32, methods -----

#[differentiable(hessian)]
fn generic_energy<T: num_traits::Float>(x: T, y: T) -> T {
    let two = T::from(2.0).unwrap();
    (x * y).sin() * two + (x / (y * y + T::one())).exp()
}

struct Spring {
    k: f64,
}

#[differentiable]
impl Spring {
    #[differentiable(hessian)]
    fn energy(&self, x: f64, v: f64) -> f64 {
        0.5 * self.k * x * x + 0.5 * v * v * (1.0 + x.cos())
    }
}

#[test]
fn generic_functions_f32_and_methods() {
    let mut next = xorshift(0x6e6);
    for _ in 0..50 {
        let r = random(&mut next, 4);
        let (_, t) = generic_energy_jvp(r[0], r[1], r[2], r[3]);
        let (gx, gy) = generic_energy_grad(r[0], r[1]);
        assert!(close(t, gx * r[2] + gy * r[3], 1e-13));
        let (_, t32) = generic_energy_jvp(r[0] as f32, r[1] as f32, r[2] as f32, r[3] as f32);
        assert!(close(t32 as f64, t, 1e-4));
        let spring = Spring { k: 2.0 + r[0] };
        let (value, t) = spring.energy_jvp(r[1], r[2], r[3], 1.0);
        assert_eq!(value, spring.energy(r[1], r[2]));
        let (gx, gv) = spring.energy_grad(r[1], r[2]);
        assert!(close(t, gx * r[3] + gv, 1e-13));
    }
}

// ----- calls: the callee's gradient times the arguments' tangents -----

#[differentiable]
fn cell(a: f64, w: [f64; 2]) -> f64 {
    (a * w[0]).sin() + w[1] * w[1] * a
}

/// A callee with a hand-written derivative, as `Custom derivatives` in the README shows:
/// forward mode needs its `_vjp` alone.
fn softsign(x: f64) -> f64 {
    x / (1.0 + x.abs())
}

fn softsign_vjp(x: f64, upstream: f64) -> f64 {
    upstream / ((1.0 + x.abs()) * (1.0 + x.abs()))
}

#[differentiable]
fn network(x: f64, w: [f64; 2]) -> f64 {
    let y = cell(x * 2.0, w);
    let mut total = y * x;
    for i in 0..3 {
        total += softsign(cell(total, [x, i as f64]));
    }
    total
}

fn network_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let cell = |a: D, w0: D, w1: D| (a * w0).sin() + w1 * w1 * a;
    let softsign = |x: D| x / (x.abs() + 1.0);
    let (x, w0, w1) = (v[0], v[1], v[2]);
    let y = cell(x * 2.0, w0, w1);
    let mut total = y * x;
    for i in 0..3 {
        total += softsign(cell(total, x, D::from(i as f64)));
    }
    total
}

#[test]
fn calls_take_their_tangent_from_the_callee_gradient() {
    let mut next = xorshift(0xca11);
    for _ in 0..100 {
        let r = random(&mut next, 6);
        let (x, w, tx, tw) = (r[0], [r[1], r[2]], r[3], [r[4], r[5]]);
        let (value, tangent) = network_jvp(x, w, tx, tw);
        assert_eq!(value, network(x, w));
        let (gx, gw) = network_grad(x, w);
        let transposed = gx * tx + gw[0] * tw[0] + gw[1] * tw[1];
        assert!(close(tangent, transposed, 1e-13));
        let dual = dual_direction(network_mirror, &r[..3], &r[3..]);
        assert!(close(tangent, dual, 1e-12), "{tangent} vs {dual}");
    }
}

/// A pendulum's derivative: a call returning an array.
#[differentiable]
fn swing(s: [f64; 2], k: f64) -> [f64; 2] {
    [s[1], -k * s[0].sin()]
}

/// A call returning a tuple.
#[differentiable]
fn split(x: f64) -> (f64, f64) {
    (x.sin(), x * x)
}

/// A midpoint step of the pendulum and a reading of it: the array and tuple calls' tangents
/// come from their `_vjp`s, one per element.
#[differentiable]
fn midpoint(s: [f64; 2], k: f64, h: f64) -> f64 {
    let k1 = swing(s, k);
    let mid = [s[0] + 0.5 * h * k1[0], s[1] + 0.5 * h * k1[1]];
    let k2 = swing(mid, k);
    let (a, b) = split(k2[0]);
    a * b + k2[1]
}

fn midpoint_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let swing = |s: [D; 2], k: D| [s[1], -k * s[0].sin()];
    let (s, k, h) = ([v[0], v[1]], v[2], v[3]);
    let k1 = swing(s, k);
    let mid = [s[0] + h * k1[0] * 0.5, s[1] + h * k1[1] * 0.5];
    let k2 = swing(mid, k);
    let (a, b) = (k2[0].sin(), k2[0] * k2[0]);
    a * b + k2[1]
}

#[test]
fn calls_returning_arrays_and_tuples_take_their_tangents_element_by_element() {
    let mut next = xorshift(0xa77);
    for _ in 0..100 {
        let r = random(&mut next, 8);
        let (s, k, h) = ([r[0], r[1]], 1.0 + r[2], 0.1 + 0.1 * r[3]);
        let (ts, tk, th) = ([r[4], r[5]], r[6], r[7]);
        let (value, tangent) = midpoint_jvp(s, k, h, ts, tk, th);
        assert_eq!(value, midpoint(s, k, h));
        let (gs, gk, gh) = midpoint_grad(s, k, h);
        let transposed = gs[0] * ts[0] + gs[1] * ts[1] + gk * tk + gh * th;
        assert!(
            close(tangent, transposed, 1e-13),
            "{tangent} vs {transposed}"
        );
        let dual = dual_direction(midpoint_mirror, &[s[0], s[1], k, h], &r[4..]);
        assert!(close(tangent, dual, 1e-12), "{tangent} vs {dual}");
    }
}

/// A `Vec` collected in the body, then read and written.
#[differentiable]
fn collected(x: &[f64], k: f64) -> f64 {
    let mut y: Vec<f64> = x.iter().map(|v| (v * k).sin()).collect();
    y[0] *= k;
    y.iter().map(|v| v * v).sum()
}

fn collected_mirror<D: DualNum<f64> + Copy>(p: &[D]) -> D {
    let k = p[p.len() - 1];
    let mut y: Vec<D> = p[..p.len() - 1].iter().map(|v| (*v * k).sin()).collect();
    y[0] *= k;
    y.iter().map(|v| *v * *v).sum()
}

#[test]
fn a_collected_vec_has_a_tangent() {
    let mut next = xorshift(0xc011);
    for n in 1..5 {
        let r = random(&mut next, 2 * n + 2);
        let (x, k, t, tk) = (&r[..n], r[n], &r[n + 1..2 * n + 1], r[2 * n + 1]);
        let (value, tangent) = collected_jvp(x, k, t, tk);
        assert_eq!(value, collected(x, k));
        let point: Vec<f64> = x.iter().copied().chain([k]).collect();
        let direction: Vec<f64> = t.iter().copied().chain([tk]).collect();
        let dual = dual_direction(collected_mirror, &point, &direction);
        assert!(close(tangent, dual, 1e-12), "{tangent} vs {dual}");
    }
}

// ----- second order: f_hvp and f_hessian -----

#[test]
fn the_hessian_of_elementary_functions_against_hyper_duals() {
    let mut next = xorshift(0x4e55);
    for _ in 0..100 {
        let r = random(&mut next, 6);
        let x = [r[0], r[1], r[2] + 1.5];
        let h = mixed_hessian(x[0], x[1], x[2]);
        let rows = [
            [h.0.0, h.0.1, h.0.2],
            [h.1.0, h.1.1, h.1.2],
            [h.2.0, h.2.1, h.2.2],
        ];
        let expected = hyper_hessian(mixed_mirror, &x);
        for i in 0..3 {
            for j in 0..3 {
                assert!(
                    close(rows[i][j], expected[i][j], 1e-11),
                    "H[{i}][{j}] = {} vs {}",
                    rows[i][j],
                    expected[i][j]
                );
                assert_eq!(rows[i][j].to_bits(), rows[j][i].to_bits(), "symmetric");
            }
        }
        // f_hvp is H v, without forming H.
        let v = [r[3], r[4], r[5]];
        let hv = mixed_hvp(x[0], x[1], x[2], v[0], v[1], v[2]);
        let hv = [hv.0, hv.1, hv.2];
        for i in 0..3 {
            let row: f64 = (0..3).map(|j| expected[i][j] * v[j]).sum();
            assert!(close(hv[i], row, 1e-11), "(Hv)[{i}]");
        }
    }
}

#[test]
fn the_hessian_through_loops_arrays_and_early_exits() {
    let mut next = xorshift(0x5ec0);
    for n in 0..10 {
        for _ in 0..5 {
            let r = random(&mut next, 5);
            let v = [r[0] * 2.0, r[1] * 2.0, r[2], r[3]];
            let k = 1.0 + r[4];
            let x = [v[0], v[1], v[2], v[3], k];
            let expected = hyper_hessian(|a| series_mirror(a, n), &x);
            let ((hvv, hvk), (hkv, hkk)) = series_hessian(v, k, n);
            for i in 0..4 {
                for j in 0..4 {
                    assert!(close(hvv[i][j], expected[i][j], 1e-11), "n = {n}");
                }
                assert!(close(hvk[i], expected[i][4], 1e-11));
                assert_eq!(hvk[i].to_bits(), hkv[i].to_bits());
            }
            assert!(close(hkk, expected[4][4], 1e-11));
            // The Hessian-vector product along each input agrees with finite differences of
            // the gradient.
            let direction = [0.3, -0.2, 0.5, 0.1];
            let (hv_v, hv_k) = series_hvp(v, k, n, direction, 0.7);
            let h = 1e-6;
            let shifted = |s: f64| {
                let mut w = v;
                for (w, d) in w.iter_mut().zip(&direction) {
                    *w += s * d;
                }
                series_grad(w, k + s * 0.7, n)
            };
            let ((gp, kp), (gm, km)) = (shifted(h), shifted(-h));
            for i in 0..4 {
                assert!(close(hv_v[i], (gp[i] - gm[i]) / (2.0 * h), 1e-6), "n = {n}");
            }
            assert!(close(hv_k, (kp - km) / (2.0 * h), 1e-6));
        }
    }
}

#[test]
fn second_order_of_generic_functions_and_methods() {
    let mut next = xorshift(0x9e9);
    for _ in 0..50 {
        let r = random(&mut next, 4);
        let mirror = |a: &[HyperDual64]| {
            let (x, y) = (a[0], a[1]);
            (x * y).sin() * 2.0 + (x / (y * y + 1.0)).exp()
        };
        let expected = hyper_hessian(mirror, &r[..2]);
        let ((hxx, hxy), (hyx, hyy)) = generic_energy_hessian(r[0], r[1]);
        assert!(close(hxx, expected[0][0], 1e-12) && close(hyy, expected[1][1], 1e-12));
        assert!(close(hxy, expected[0][1], 1e-12) && hxy == hyx);
        let ((fxx, _), (_, fyy)) = generic_energy_hessian(r[0] as f32, r[1] as f32);
        assert!(close(fxx as f64, hxx, 1e-4) && close(fyy as f64, hyy, 1e-4));
        // E = k x² / 2 + v² (1 + cos x) / 2.
        let spring = Spring { k: 2.0 + r[0] };
        let (x, v) = (r[1], r[2]);
        let ((exx, exv), (_, evv)) = spring.energy_hessian(x, v);
        assert!(close(exx, spring.k - 0.5 * v * v * x.cos(), 1e-13));
        assert!(close(exv, -v * x.sin(), 1e-13));
        assert!(close(evv, 1.0 + x.cos(), 1e-13));
        let (hx, hv) = spring.energy_hvp(x, v, 1.0, r[3]);
        assert!(close(hx, exx + exv * r[3], 1e-13) && close(hv, exv + evv * r[3], 1e-13));
    }
}

#[test]
fn newton_s_method_with_the_hessian() {
    // Rosenbrock: Newton's method from (-1.2, 1) reaches the minimum (1, 1).
    #[differentiable(hessian)]
    fn rosenbrock(x: f64, y: f64) -> f64 {
        (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
    }
    let (mut x, mut y) = (-1.2, 1.0);
    for _ in 0..50 {
        let (gx, gy) = rosenbrock_grad(x, y);
        let ((a, b), (c, d)) = rosenbrock_hessian(x, y);
        let det = a * d - b * c;
        x -= (d * gx - b * gy) / det;
        y -= (a * gy - c * gx) / det;
    }
    assert!(
        (x - 1.0).abs() < 1e-12 && (y - 1.0).abs() < 1e-12,
        "({x}, {y})"
    );
}

#[test]
fn second_order_of_generic_code_with_constant_branches() {
    // A branch returning a constant: its tangent is a zero of `F` (found on ezing's easing
    // functions, which had no second order until it was spelled as a literal of `F`).
    #[differentiable(hessian)]
    fn ramp<F: num_traits::Float>(t: F, k: F) -> F {
        if t < F::zero() {
            F::zero()
        } else {
            (k * t).powi(3) + F::from(2.0).unwrap().powf(t)
        }
    }
    for (t, k) in [(0.7, 1.3), (-0.5, 2.0), (1.9, -0.4)] {
        let ((htt, htk), (_, hkk)) = ramp_hessian(t, k);
        let (ett, etk, ekk) = if t < 0.0 {
            (0.0, 0.0, 0.0)
        } else {
            let ln2 = 2f64.ln();
            (
                6.0 * k.powi(3) * t + 2f64.powf(t) * ln2 * ln2,
                9.0 * k * k * t * t,
                6.0 * k * t.powi(3),
            )
        };
        assert!(close(htt, ett, 1e-13) && close(htk, etk, 1e-13) && close(hkk, ekk, 1e-13));
        let (ht32, _) = ramp_hvp(t as f32, k as f32, 1.0, 0.0);
        assert!(close(ht32 as f64, ett, 1e-4));
    }
}

/// A two-dimensional array beside a vector and a float: the Hessian's blocks nest the
/// parameters' shapes (`hmm[i][j][k][l]` is ∂²f/∂m[i][j]∂m[k][l]).
// Index loops, as the formula reads.
#[allow(clippy::needless_range_loop)]
#[differentiable(hessian)]
fn bilinear(m: [[f64; 2]; 3], v: [f64; 2], s: f64) -> f64 {
    let mut acc = 0.0;
    for i in 0..3 {
        for j in 0..2 {
            acc += (m[i][j] * v[j]).sin() * s;
        }
    }
    acc * acc + s.exp()
}

fn bilinear_mirror<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let mut acc = D::from(0.0);
    for i in 0..3 {
        for j in 0..2 {
            acc += (x[2 * i + j] * x[6 + j]).sin() * x[8];
        }
    }
    acc * acc + x[8].exp()
}

#[test]
fn the_hessian_of_two_dimensional_arrays_nests_the_shapes() {
    let mut next = xorshift(0x2d2d);
    for _ in 0..20 {
        let x = random(&mut next, 9);
        let m = [[x[0], x[1]], [x[2], x[3]], [x[4], x[5]]];
        let (v, s) = ([x[6], x[7]], x[8]);
        let expected = hyper_hessian(bilinear_mirror, &x);
        let ((hmm, hmv, hms), (hvm, hvv, hvs), (hsm, hsv, hss)) = bilinear_hessian(m, v, s);
        // Flat index of each parameter's elements in the mirror's inputs.
        let at_m = |i: usize, j: usize| 2 * i + j;
        for (i, j) in (0..3).flat_map(|i| (0..2).map(move |j| (i, j))) {
            for (k, l) in (0..3).flat_map(|k| (0..2).map(move |l| (k, l))) {
                let want = expected[at_m(i, j)][at_m(k, l)];
                assert!(close(hmm[i][j][k][l], want, 1e-12), "m{i}{j} m{k}{l}");
                assert_eq!(hmm[i][j][k][l].to_bits(), hmm[k][l][i][j].to_bits());
            }
            for b in 0..2 {
                assert!(close(hmv[i][j][b], expected[at_m(i, j)][6 + b], 1e-12));
                assert_eq!(hmv[i][j][b].to_bits(), hvm[b][i][j].to_bits());
            }
            assert!(close(hms[i][j], expected[at_m(i, j)][8], 1e-12));
            assert_eq!(hms[i][j].to_bits(), hsm[i][j].to_bits());
        }
        for a in 0..2 {
            for b in 0..2 {
                assert!(close(hvv[a][b], expected[6 + a][6 + b], 1e-12));
            }
            assert!(close(hvs[a], expected[6 + a][8], 1e-12) && hvs[a] == hsv[a]);
        }
        assert!(close(hss, expected[8][8], 1e-12));
    }
}

#[test]
fn second_derivatives_at_kinks_follow_the_tangent_rules() {
    #[differentiable(hessian)]
    fn root(x: f64) -> f64 {
        x.sqrt()
    }
    #[differentiable(hessian)]
    fn kinks(x: f64, y: f64) -> f64 {
        x.max(y) + x.min(y) * 0.5 + x.clamp(-1.0, 1.0) + x.abs() + (x * y).abs()
    }
    // sqrt'' = -x^(-3/2) / 4: -1/32 at 4, -∞ at 0.
    assert_eq!(root_hessian(4.0), -0.03125);
    assert_eq!(root_hessian(0.0), f64::NEG_INFINITY);
    // Piecewise linear: zero second derivatives on the branch taken, at ties and kinks too.
    for (x, y) in [(1.0, 1.0), (0.3, 0.2), (0.0, 0.0), (-1.0, 2.0), (1.0, 0.0)] {
        let ((a, b), (c, d)) = kinks_hessian(x, y);
        let expected_cross = if x * y != 0.0 { (x * y).signum() } else { 0.0 };
        assert_eq!((a, d), (0.0, 0.0), "at ({x}, {y})");
        assert_eq!((b, c), (expected_cross, expected_cross), "at ({x}, {y})");
    }
}

// ----- slices -----

/// Rosenbrock over a slice, and a function of a slice of rows and a sub-slice.
#[differentiable(hessian)]
fn rosenbrock_slice(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        s += 100.0 * a * a + (1.0 - x[i]).powi(2);
    }
    s
}

fn rosenbrock_slice_mirror<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let mut s = D::from(0.0);
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        s += a * a * 100.0 + (-x[i] + 1.0).powi(2);
    }
    s
}

#[differentiable(hessian)]
fn scaled_norm(x: &[f64], k: f64) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += (k * v).sin() * v;
    }
    s * k
}

fn scaled_norm_mirror<D: DualNum<f64> + Copy>(p: &[D]) -> D {
    let k = p[p.len() - 1];
    let mut s = D::from(0.0);
    for v in &p[..p.len() - 1] {
        s += (k * *v).sin() * *v;
    }
    s * k
}

#[differentiable]
fn rows_and_windows(x: &[f64], w: &[[f64; 2]], k: f64) -> f64 {
    let s: f64 = x.iter().map(|v| v * v).sum();
    let pairs: f64 = x.windows(2).map(|p| (p[1] - p[0]).sin()).sum();
    s * k + w[0][1] * x[1..].iter().sum::<f64>() + pairs * w[1][0]
}

fn rows_and_windows_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    // x = v[0..4], w = v[4..8] (rows of two), k = v[8].
    let (x, w, k) = (&v[..4], &v[4..8], v[8]);
    let s = x.iter().fold(D::zero(), |s, v| s + *v * *v);
    let pairs = (0..3).fold(D::zero(), |s, i| s + (x[i + 1] - x[i]).sin());
    s * k + w[1] * (x[1] + x[2] + x[3]) + pairs * w[2]
}

#[test]
fn slices_in_forward_mode_and_second_order() {
    let mut next = xorshift(0x511c);
    for _ in 0..30 {
        let r = random(&mut next, 18);
        let (x, t) = (&r[..4], &r[4..8]);
        let (value, tangent) = rosenbrock_slice_jvp(x, t);
        assert_eq!(value, rosenbrock_slice(x));
        let g = rosenbrock_slice_grad(x);
        let transposed: f64 = g.iter().zip(t).map(|(g, t)| g * t).sum();
        assert!(close(tangent, transposed, 1e-13));
        // H t against finite differences of the gradient.
        let hv = rosenbrock_slice_hvp(x, t);
        let h = 1e-6;
        let at = |s: f64| -> Vec<f64> { x.iter().zip(t).map(|(x, t)| x + s * t).collect() };
        let (gp, gm) = (
            rosenbrock_slice_grad(&at(h)),
            rosenbrock_slice_grad(&at(-h)),
        );
        for i in 0..4 {
            assert!(close(hv[i], (gp[i] - gm[i]) / (2.0 * h), 1e-6), "(Hv)[{i}]");
        }
        // The dense Hessian of a slice: a `Vec` of rows, against hyper-duals.
        let hessian = rosenbrock_slice_hessian(x);
        let expected = hyper_hessian(rosenbrock_slice_mirror, x);
        assert_eq!(hessian.len(), 4);
        for i in 0..4 {
            for j in 0..4 {
                assert!(close(hessian[i][j], expected[i][j], 1e-12), "H[{i}][{j}]");
                assert_eq!(hessian[i][j].to_bits(), hessian[j][i].to_bits());
            }
        }
        // A slice beside a float.
        let ((hxx, hxk), (hkx, hkk)) = scaled_norm_hessian(x, r[12]);
        let mut point = x.to_vec();
        point.push(r[12]);
        let expected = hyper_hessian(scaled_norm_mirror, &point);
        for i in 0..4 {
            for j in 0..4 {
                assert!(close(hxx[i][j], expected[i][j], 1e-12));
            }
            assert!(close(hxk[i], expected[i][4], 1e-12) && hxk[i] == hkx[i]);
        }
        assert!(close(hkk, expected[4][4], 1e-12));
        // Rows and a sub-slice.
        let w = [[r[8], r[9]], [r[10], r[11]]];
        let tw = [[r[13], r[14]], [r[15], r[16]]];
        let (value, tangent) = rows_and_windows_jvp(x, &w, r[12], t, &tw, r[17]);
        assert_eq!(value, rows_and_windows(x, &w, r[12]));
        let point: Vec<f64> = x
            .iter()
            .chain(w.iter().flatten())
            .copied()
            .chain([r[12]])
            .collect();
        let direction: Vec<f64> = t
            .iter()
            .chain(tw.iter().flatten())
            .copied()
            .chain([r[17]])
            .collect();
        let dual = dual_direction(rows_and_windows_mirror, &point, &direction);
        assert!(close(tangent, dual, 1e-12), "{tangent} vs {dual}");
    }
}

/// Parts of arrays passed to calls: a sub-slice, a window of a slice, a row of a slice of
/// arrays, a part of an array; their tangents are the same parts of the sources' tangents.
#[differentiable(hessian)]
fn chain_energy(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += (x[i + 1] - x[i]).sin() * x[i];
    }
    s
}

#[differentiable(hessian)]
fn pair_energy(p: [f64; 2]) -> f64 {
    (p[0] * p[1]).cos() + p[0]
}

#[differentiable(hessian)]
fn parts_passed_on(x: &[f64], k: f64) -> f64 {
    let head = chain_energy(&x[..3]);
    let tail = chain_energy(&x[1..]);
    let middle = chain_energy(&x[1..x.len() - 1]);
    k * head + tail * tail + middle
}

// The index loop passes the row `points[i]`, a part of the slice (what the test is about).
#[allow(clippy::needless_range_loop)]
#[differentiable]
fn rows_passed_on(points: &[[f64; 2]], a: [f64; 4]) -> f64 {
    let mut s = 0.0;
    for i in 0..points.len() {
        s += pair_energy(points[i]);
    }
    s + chain_energy(&a[1..]) * chain_energy(&a[..2])
}

/// A part of an array the body builds and writes, passed on.
#[differentiable(hessian)]
fn local_part_passed_on(x: [f64; 3]) -> f64 {
    let mut a = [x[0], x[1] * x[2], 0.0, 1.0];
    a[2] = x[0].sin();
    chain_energy(&a[1..]) + a[0] * chain_energy(&a[..3])
}

fn local_part_passed_on_mirror<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let a = [x[0], x[1] * x[2], x[0].sin(), D::from(1.0)];
    chain_energy_mirror(&a[1..]) + a[0] * chain_energy_mirror(&a[..3])
}

fn chain_energy_mirror<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let mut s = D::from(0.0);
    for i in 0..x.len() - 1 {
        s += (x[i + 1] - x[i]).sin() * x[i];
    }
    s
}

fn parts_passed_on_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let (x, k) = (&v[..v.len() - 1], v[v.len() - 1]);
    let tail = chain_energy_mirror(&x[1..]);
    k * chain_energy_mirror(&x[..3]) + tail * tail + chain_energy_mirror(&x[1..x.len() - 1])
}

fn rows_passed_on_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    // points = v[..6] (three rows of two), a = v[6..10].
    let mut s = D::from(0.0);
    for i in 0..3 {
        let (p0, p1) = (v[2 * i], v[2 * i + 1]);
        s += (p0 * p1).cos() + p0;
    }
    let a = &v[6..10];
    s + chain_energy_mirror(&a[1..]) * chain_energy_mirror(&a[..2])
}

#[test]
fn parts_of_arrays_passed_to_calls() {
    let mut next = xorshift(0x9a57);
    for _ in 0..30 {
        let r = random(&mut next, 24);
        let (x, t, k, tk) = (&r[..6], &r[6..12], r[12], r[13]);
        let (value, tangent) = parts_passed_on_jvp(x, k, t, tk);
        assert_eq!(value, parts_passed_on(x, k));
        let (gx, gk) = parts_passed_on_grad(x, k);
        let transposed = gx.iter().zip(t).map(|(g, t)| g * t).sum::<f64>() + gk * tk;
        assert!(
            close(tangent, transposed, 1e-12),
            "{tangent} vs {transposed}"
        );
        let point: Vec<f64> = x.iter().copied().chain([k]).collect();
        let direction: Vec<f64> = t.iter().copied().chain([tk]).collect();
        let dual = dual_direction(parts_passed_on_mirror, &point, &direction);
        assert!(close(tangent, dual, 1e-12), "{tangent} vs {dual}");
        // Second order through the parts: against hyper-duals.
        let expected = hyper_hessian(parts_passed_on_mirror, &point);
        let ((hxx, hxk), (hkx, hkk)) = parts_passed_on_hessian(x, k);
        for i in 0..6 {
            for j in 0..6 {
                assert!(close(hxx[i][j], expected[i][j], 1e-11), "H[{i}][{j}]");
            }
            assert!(close(hxk[i], expected[i][6], 1e-11) && hxk[i] == hkx[i]);
        }
        assert!(close(hkk, expected[6][6], 1e-11));
        let (hvx, hvk) = parts_passed_on_hvp(x, k, t, tk);
        for i in 0..7 {
            let row: f64 = (0..7).map(|j| expected[i][j] * direction[j]).sum();
            let got = if i < 6 { hvx[i] } else { hvk };
            assert!(close(got, row, 1e-11), "(Hv)[{i}]");
        }
        // A part of a local array that the body writes.
        let y = [r[0], r[1], r[2]];
        let ty = [r[3], r[4], r[5]];
        let (value, tangent) = local_part_passed_on_jvp(y, ty);
        assert_eq!(value, local_part_passed_on(y));
        let dual = dual_direction(local_part_passed_on_mirror, &y, &ty);
        assert!(close(tangent, dual, 1e-12), "{tangent} vs {dual}");
        let expected = hyper_hessian(local_part_passed_on_mirror, &y);
        let hessian = local_part_passed_on_hessian(y);
        for i in 0..3 {
            for j in 0..3 {
                assert!(close(hessian[i][j], expected[i][j], 1e-11), "H[{i}][{j}]");
            }
        }
        // Rows of a slice of arrays, and parts of an array.
        let points = [[r[14], r[15]], [r[16], r[17]], [r[18], r[19]]];
        let a = [r[20], r[21], r[22], r[23]];
        let tp = [[r[0], r[1]], [r[2], r[3]], [r[4], r[5]]];
        let ta = [r[6], r[7], r[8], r[9]];
        let (value, tangent) = rows_passed_on_jvp(&points, a, &tp, ta);
        assert_eq!(value, rows_passed_on(&points, a));
        let point: Vec<f64> = points.iter().flatten().chain(&a).copied().collect();
        let direction: Vec<f64> = tp.iter().flatten().chain(&ta).copied().collect();
        let dual = dual_direction(rows_passed_on_mirror, &point, &direction);
        assert!(close(tangent, dual, 1e-12), "{tangent} vs {dual}");
    }
}

// ----- struct parameters: the tangent is a value of the struct -----

#[derive(Clone, Copy, Debug, grad::Differentiable)]
pub struct Cell {
    pub gain: f64,
    pub w: [f64; 3],
    pub inner: Bias,
    pub steps: usize,
}

#[derive(Clone, Copy, Debug, grad::Differentiable)]
pub struct Bias {
    pub b: f64,
}

#[differentiable(wrt(p, x), hessian)]
fn cell_output(x: f64, p: &Cell) -> f64 {
    let mut s = p.gain * x;
    for i in 0..p.steps {
        s = (s + p.w[i % 3] * p.inner.b).tanh();
    }
    s
}

impl Cell {
    #[differentiable(wrt(self, x), hessian)]
    fn energy(&self, x: f64) -> f64 {
        self.gain * x * x + self.inner.b * self.w[1]
    }
}

#[test]
fn struct_parameters_take_a_struct_tangent() {
    let mut next = xorshift(0x57c7);
    for steps in 0..5 {
        let r = random(&mut next, 12);
        let p = Cell {
            gain: r[0],
            w: [r[1], r[2], r[3]],
            inner: Bias { b: r[4] },
            steps,
        };
        let t = Cell {
            gain: r[6],
            w: [r[7], r[8], r[9]],
            inner: Bias { b: r[10] },
            steps: 0,
        };
        let (value, tangent) = cell_output_jvp(r[5], &p, r[11], t);
        assert_eq!(value, cell_output(r[5], &p));
        let (gx, gp) = cell_output_grad(r[5], &p);
        let transposed = gx * r[11]
            + gp.gain * t.gain
            + gp.w.iter().zip(&t.w).map(|(g, t)| g * t).sum::<f64>()
            + gp.inner.b * t.inner.b;
        assert!(close(tangent, transposed, 1e-13), "steps = {steps}");
        let along = |s: &[f64]| {
            let q = Cell {
                gain: s[0],
                w: [s[1], s[2], s[3]],
                inner: Bias { b: s[4] },
                steps,
            };
            cell_output(s[5], &q)
        };
        let point = [p.gain, p.w[0], p.w[1], p.w[2], p.inner.b, r[5]];
        let direction = [t.gain, t.w[0], t.w[1], t.w[2], t.inner.b, r[11]];
        let fd = central_difference(along, &point, &direction);
        assert!(close(tangent, fd, 1e-7), "{tangent} vs {fd}");
        let (_, tangent) = p.energy_jvp(r[5], t, 1.0);
        let (gp, gx) = p.energy_grad(r[5]);
        let transposed = gx + gp.gain * t.gain + gp.inner.b * t.inner.b + gp.w[1] * t.w[1];
        assert!(close(tangent, transposed, 1e-13));
        // Second order with a struct parameter: `f_hvp` along a struct direction is shaped
        // like the gradient, against central differences of `f_grad` along it.
        let (hx, hp) = cell_output_hvp(r[5], &p, r[11], t);
        let h = 1e-5;
        let shifted = |s: f64| {
            let q = Cell {
                gain: p.gain + s * t.gain,
                w: std::array::from_fn(|k| p.w[k] + s * t.w[k]),
                inner: Bias {
                    b: p.inner.b + s * t.inner.b,
                },
                steps,
            };
            cell_output_grad(r[5] + s * r[11], &q)
        };
        let ((gxp, gpp), (gxm, gpm)) = (shifted(h), shifted(-h));
        let fd = |a: f64, b: f64| (a - b) / (2.0 * h);
        assert!(close(hx, fd(gxp, gxm), 1e-6), "steps = {steps}");
        assert!(close(hp.gain, fd(gpp.gain, gpm.gain), 1e-6));
        assert!(close(hp.inner.b, fd(gpp.inner.b, gpm.inner.b), 1e-6));
        for k in 0..3 {
            assert!(close(hp.w[k], fd(gpp.w[k], gpm.w[k]), 1e-6));
        }
        // A method with `wrt(self)`: E = gain x² + b w1, so H (t, 1) in closed form.
        let (hs, hx) = p.energy_hvp(r[5], t, 1.0);
        assert!(close(hx, 2.0 * p.gain + 2.0 * r[5] * t.gain, 1e-13));
        assert!(close(hs.gain, 2.0 * r[5], 1e-13));
        assert!(close(hs.inner.b, t.w[1], 1e-13) && close(hs.w[1], t.inner.b, 1e-13));
        assert!(hs.w[0] == 0.0 && hs.w[2] == 0.0);
    }
}
