//! Structs as differentiable inputs (issue 16): a parameter whose type derives
//! `grad::Differentiable`, named in `wrt(..)` (or `self`, in `wrt(self, ..)`), is
//! differentiated field by field, and its gradient entry is a value of the same struct
//! holding the partials (its constant fields as the input had them). Each gradient is
//! checked against central finite differences of every float field and against num-dual
//! through a DualNum-generic copy of the function.

// Index loops are how the functions under test are written.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_gradient_and_dual, xorshift};
use grad::{Differentiable, differentiable};
use num_dual::{Dual64, DualNum};

/// A dense layer's parameters, with a constant field.
#[derive(Clone, Debug, PartialEq, Differentiable)]
pub struct Layer {
    pub w: [[f64; 3]; 2],
    pub b: [f64; 2],
    pub scale: f64,
    pub repeats: usize,
}

impl Layer {
    /// The floats, in field order, and a layer rebuilt from them.
    fn flat(&self) -> Vec<f64> {
        let mut out: Vec<f64> = self.w.iter().flatten().copied().collect();
        out.extend(self.b);
        out.push(self.scale);
        out
    }

    fn with_floats(&self, v: &[f64]) -> Layer {
        Layer {
            w: [[v[0], v[1], v[2]], [v[3], v[4], v[5]]],
            b: [v[6], v[7]],
            scale: v[8],
            repeats: self.repeats,
        }
    }
}

#[differentiable(wrt(p, x))]
fn layer_loss(p: &Layer, x: [f64; 3]) -> f64 {
    let mut total = 0.0;
    for i in 0..2 {
        let mut z = p.b[i];
        for j in 0..3 {
            z += p.w[i][j] * x[j];
        }
        total += p.scale * z.tanh() * p.repeats as f64;
    }
    total
}

fn layer_mirror<D: DualNum<f64> + Copy>(v: &[D], x: [D; 3], repeats: usize) -> D {
    let mut total = D::zero();
    for i in 0..2 {
        let mut z = v[6 + i];
        for j in 0..3 {
            z += v[3 * i + j] * x[j];
        }
        total += v[8] * z.tanh() * repeats as f64;
    }
    total
}

fn random(next: &mut impl FnMut() -> u64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| (next() % 20_000) as f64 / 10_000.0 - 1.0)
        .collect()
}

#[test]
fn a_struct_parameter_gets_a_gradient_of_its_own_type() {
    let mut next = xorshift(0x57a0c7);
    for repeats in 1..4 {
        let v = random(&mut next, 12);
        let p = Layer {
            w: [[0.0; 3]; 2],
            b: [0.0; 2],
            scale: 0.0,
            repeats,
        }
        .with_floats(&v);
        let x = [v[9], v[10], v[11]];
        let (gp, gx) = layer_loss_grad(&p, x);
        // The constant field is as the input had it.
        assert_eq!(gp.repeats, repeats);
        let mut analytic = gp.flat();
        analytic.extend(gx);
        let f = |all: &[f64]| layer_loss(&p.with_floats(all), [all[9], all[10], all[11]]);
        let mirror = |all: &[Dual64]| layer_mirror(&all[..9], [all[9], all[10], all[11]], repeats);
        assert_gradient_and_dual(f, mirror, &v, &analytic);
        let (value, (gp2, gx2)) = layer_loss_value_and_grad(&p, x);
        assert_eq!(value, layer_loss(&p, x));
        assert_eq!((gp2, gx2), (gp.clone(), gx));
        let (gp3, _) = layer_loss_vjp(&p, x, 2.0);
        assert_eq!(gp3.scale, 2.0 * gp.scale);
    }
}

// ----- `self` in `wrt`, nested structs, a struct taken by value -----

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Inner {
    pub k: f64,
    pub tag: u8,
}

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Model {
    pub w: f64,
    pub b: f64,
    pub inner: Inner,
}

impl Model {
    #[differentiable(wrt(self, x))]
    pub fn predict(&self, x: f64) -> f64 {
        (self.w * x + self.b).tanh() * self.inner.k
    }
}

#[differentiable(wrt(m, x))]
fn by_value(m: Model, x: f64) -> f64 {
    m.w * x * x + m.inner.k.sin() * m.b
}

fn predict_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let (w, b, k, x) = (v[0], v[1], v[2], v[3]);
    (w * x + b).tanh() * k
}

fn by_value_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let (w, b, k, x) = (v[0], v[1], v[2], v[3]);
    w * x * x + k.sin() * b
}

#[test]
fn self_and_nested_structs_are_differentiated_when_named() {
    let mut next = xorshift(0x5e1f);
    for _ in 0..20 {
        let v = random(&mut next, 4);
        let m = Model {
            w: v[0],
            b: v[1],
            inner: Inner { k: v[2], tag: 7 },
        };
        let rebuild = |a: &[f64]| Model {
            w: a[0],
            b: a[1],
            inner: Inner { k: a[2], tag: 7 },
        };
        let (gm, gx) = m.predict_grad(v[3]);
        assert_eq!(gm.inner.tag, 7);
        let analytic = [gm.w, gm.b, gm.inner.k, gx];
        let f = |a: &[f64]| rebuild(a).predict(a[3]);
        assert_gradient_and_dual(f, predict_mirror, &v, &analytic);

        let (gm, gx) = by_value_grad(m, v[3]);
        let analytic = [gm.w, gm.b, gm.inner.k, gx];
        let f = |a: &[f64]| by_value(rebuild(a), a[3]);
        assert_gradient_and_dual(f, by_value_mirror, &v, &analytic);
    }
}

// ----- a generic struct -----

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Spring<T> {
    pub k: T,
    pub rest: T,
    pub anchor: [T; 2],
}

#[differentiable(wrt(s, x))]
fn spring_energy<T: num_traits::Float>(s: &Spring<T>, x: T) -> T {
    let stretch = x - s.rest - s.anchor[1];
    T::from(0.5).unwrap() * s.k * stretch * stretch + s.anchor[0]
}

#[test]
fn a_generic_struct_in_a_generic_function() {
    let s = Spring {
        k: 3.0,
        rest: 1.0,
        anchor: [0.25, 0.5],
    };
    let (gs, gx) = spring_energy_grad(&s, 3.0);
    // E = k (x - r - a1)^2 / 2 + a0, with x - r - a1 = 1.5: dE/dk = 1.125, dE/dr = dE/da1 =
    // -k 1.5, dE/da0 = 1, dE/dx = k 1.5.
    assert_eq!(
        (gs.k, gs.rest, gs.anchor, gx),
        (1.125, -4.5, [1.0, -4.5], 4.5)
    );
    let single = Spring {
        k: 3.0_f32,
        rest: 1.0_f32,
        anchor: [0.25, 0.5],
    };
    let (gs, gx) = spring_energy_grad(&single, 3.0_f32);
    assert_eq!(
        (gs.k, gs.rest, gs.anchor, gx),
        (1.125, -4.5, [1.0, -4.5], 4.5)
    );
}

// ----- fields read whole, as the compile-time check asks -----

#[derive(Clone, Debug, Differentiable)]
pub struct Weights {
    pub w: [f64; 3],
    pub k: f64,
    pub count: usize,
}

/// Fields read into typed locals, an array field also iterated, an integer field cast.
#[differentiable(wrt(p, x))]
fn weighted(p: &Weights, x: f64) -> f64 {
    let w: [f64; 3] = p.w;
    let k: f64 = p.k;
    w.iter().sum::<f64>() * x * p.count as f64 + w[0] * k * x + p.w[1]
}

#[test]
fn fields_read_whole_through_typed_locals() {
    let p = Weights {
        w: [1.0, 2.0, 3.0],
        k: 0.5,
        count: 2,
    };
    let (dp, dx) = weighted_grad(&p, 2.0);
    // d/dw_i = 2 x (+ k x for w0, + 1 for w1); d/dk = w0 x; d/dx = 2 sum(w) + w0 k.
    assert_eq!(dp.w, [4.0 + 1.0, 4.0 + 1.0, 4.0]);
    assert_eq!((dp.k, dp.count, dx), (2.0, 2, 12.0 + 0.5));
}

// ----- fields passed on to calls -----

#[differentiable]
fn scaled_sine(a: f64, b: f64) -> f64 {
    a * b.sin()
}

#[differentiable]
fn dot3(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// A float field passed to a differentiable call as it is, an array field through a typed
/// local.
#[differentiable(wrt(p, x))]
fn passed_on(p: &Weights, x: f64) -> f64 {
    let w: [f64; 3] = p.w;
    scaled_sine(p.k, x) + dot3(w, [x, x * x, 1.0])
}

fn passed_on_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let (w, k, x) = ([v[0], v[1], v[2]], v[3], v[4]);
    k * x.sin() + w[0] * x + w[1] * x * x + w[2]
}

#[test]
fn fields_passed_on_to_calls() {
    let mut next = xorshift(0xf1e1d);
    for _ in 0..20 {
        let v = random(&mut next, 5);
        let rebuild = |a: &[f64]| Weights {
            w: [a[0], a[1], a[2]],
            k: a[3],
            count: 1,
        };
        let (dp, dx) = passed_on_grad(&rebuild(&v), v[4]);
        let analytic = [dp.w[0], dp.w[1], dp.w[2], dp.k, dx];
        let f = |a: &[f64]| passed_on(&rebuild(a), a[4]);
        assert_gradient_and_dual(f, passed_on_mirror, &v, &analytic);
    }
}

// ----- a float field read alone, wherever it is read (found by the generator) -----

#[differentiable]
fn times(a: f64, b: f64) -> f64 {
    a * b
}

/// `p.k` alone in a branch, a condition, a call's argument, a later branch of an `if`
/// value, a labeled block's value, a `break` value: each is a float read as written (issue
/// 16's generator found each refused as a constant).
// `loop { break .. }` is the generator's form of a loop's value.
#[allow(clippy::never_loop)]
#[differentiable(wrt(p, x))]
fn field_everywhere(p: &Weights, x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    if n > 1 {
        let t = p.k.tanh();
        s += t;
    }
    let c = if p.k > 0.5 { x * p.k } else { x };
    let y = if x > 0.5 {
        x
    } else if x < -0.5 {
        p.k * 2.0
    } else {
        p.k.sin()
    };
    let z = 'b: {
        if n > 2 {
            break 'b x;
        }
        p.k * p.k
    };
    let u = loop {
        break p.k.cos();
    };
    let untyped = p.k.exp();
    s * x + c + y + z * u + times(x, p.k.sin()) + times(x, 2.0 * p.k) + times(untyped, x)
}

fn field_everywhere_mirror<D: DualNum<f64> + Copy>(v: &[D], n: usize) -> D {
    let (k, x) = (v[0], v[1]);
    let s = if n > 1 { k.tanh() } else { D::zero() };
    let c = if k.re() > 0.5 { x * k } else { x };
    let y = if x.re() > 0.5 {
        x
    } else if x.re() < -0.5 {
        k * 2.0
    } else {
        k.sin()
    };
    let z = if n > 2 { x } else { k * k };
    s * x + c + y + z * k.cos() + x * k.sin() + x * k * 2.0 + k.exp() * x
}

#[test]
fn a_float_field_read_alone_anywhere() {
    let mut next = xorshift(0xf1e1d2);
    for n in 0..4 {
        for _ in 0..10 {
            let v = random(&mut next, 2);
            let v = [v[0] * 2.0, v[1] * 2.0];
            let p = Weights {
                w: [1.0, 2.0, 3.0],
                k: v[0],
                count: 1,
            };
            let (dp, dx) = field_everywhere_grad(&p, v[1], n);
            assert_eq!(dp.w, [0.0; 3]);
            let f = |a: &[f64]| {
                field_everywhere(
                    &Weights {
                        k: a[0],
                        ..p.clone()
                    },
                    a[1],
                    n,
                )
            };
            let mirror = |a: &[Dual64]| field_everywhere_mirror(a, n);
            assert_gradient_and_dual(f, mirror, &v, &[dp.k, dx]);
        }
    }
}

/// Arithmetic of fields alone (`p.k * p.k`, `-p.k`), in a call's argument, a `break` value
/// and the function's value, and integer fields in integer arithmetic and a comparison.
#[allow(clippy::never_loop)]
#[differentiable(wrt(p, x))]
fn field_arithmetic(p: &Weights, x: f64, m: usize) -> f64 {
    let y = loop {
        break p.k * p.k;
    };
    let mut s = times(x, p.k * p.k) + times(x, -p.k) + times(x, f64::tanh(p.k * p.w[0])) + y * x;
    for i in 0..p.count * m {
        s += x * i as f64;
    }
    if p.count > m { s } else { s + p.k * p.w[1] }
}

fn field_arithmetic_mirror<D: DualNum<f64> + Copy>(v: &[D], count: usize, m: usize) -> D {
    let (k, w0, w1, x) = (v[0], v[1], v[2], v[3]);
    let mut s = x * k * k - x * k + x * (k * w0).tanh() + k * k * x;
    let n = (0..count * m).map(|i| i as f64).sum::<f64>();
    s += x * n;
    if count > m { s } else { s + k * w1 }
}

#[test]
fn arithmetic_of_fields_alone() {
    let mut next = xorshift(0xf1e1d3);
    for (count, m) in [(1, 2), (3, 1), (2, 2)] {
        for _ in 0..10 {
            let v = random(&mut next, 4);
            let rebuild = |a: &[f64]| Weights {
                w: [a[1], a[2], 0.0],
                k: a[0],
                count,
            };
            let (dp, dx) = field_arithmetic_grad(&rebuild(&v), v[3], m);
            let f = |a: &[f64]| field_arithmetic(&rebuild(a), a[3], m);
            let mirror = |a: &[Dual64]| field_arithmetic_mirror(a, count, m);
            assert_gradient_and_dual(f, mirror, &v, &[dp.k, dp.w[0], dp.w[1], dx]);
        }
    }
}

// ----- a struct result: a vector output -----

#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
pub struct Polar {
    pub r: f64,
    pub theta: f64,
    pub quadrant: u8,
}

/// Cartesian to polar coordinates, as a struct with a constant field.
#[differentiable]
fn to_polar(x: f64, y: f64) -> Polar {
    let r = (x * x + y * y).sqrt();
    let quadrant = if x >= 0.0 { 1 } else { 2 };
    Polar {
        r,
        theta: y.atan2(x),
        quadrant,
    }
}

#[test]
fn a_struct_result_is_a_vector_output() {
    let mut next = xorshift(0x9017a);
    for _ in 0..20 {
        let v = random(&mut next, 2);
        let (x, y) = (v[0] + 0.1, v[1]);
        let (jx, jy) = to_polar_jacobian(x, y);
        // Rows in field order (r, theta), against finite differences and dual numbers.
        let r_of = |a: &[f64]| to_polar(a[0], a[1]).r;
        let theta_of = |a: &[f64]| to_polar(a[0], a[1]).theta;
        assert_gradient_and_dual(
            r_of,
            |a: &[Dual64]| (a[0] * a[0] + a[1] * a[1]).sqrt(),
            &[x, y],
            &[jx[0], jy[0]],
        );
        assert_gradient_and_dual(
            theta_of,
            |a: &[Dual64]| a[1].atan2(a[0]),
            &[x, y],
            &[jx[1], jy[1]],
        );
        // The vjp with a struct upstream: the upstream's fields weigh the rows.
        let upstream = Polar {
            r: 2.0,
            theta: -0.5,
            quadrant: 0,
        };
        let (gx, gy) = to_polar_vjp(x, y, upstream);
        assert!((gx - (2.0 * jx[0] - 0.5 * jx[1])).abs() < 1e-12);
        assert!((gy - (2.0 * jy[0] - 0.5 * jy[1])).abs() < 1e-12);
        // Forward mode: the tangent is a `Polar` of the fields' tangents, its constant field
        // the value's.
        let (tx, ty) = (v[1] - 0.3, 0.8);
        let (value, tangent) = to_polar_jvp(x, y, tx, ty);
        assert_eq!(value, to_polar(x, y));
        assert!((tangent.r - (jx[0] * tx + jy[0] * ty)).abs() < 1e-12);
        assert!((tangent.theta - (jx[1] * tx + jy[1] * ty)).abs() < 1e-12);
        assert_eq!(tangent.quadrant, value.quadrant);
        let seeded = [Dual64::new(x, tx), Dual64::new(y, ty)];
        let dual_theta = seeded[1].atan2(seeded[0]).eps;
        assert!((tangent.theta - dual_theta).abs() < 1e-12);
    }
}

// ----- tuple fields -----

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Tupled {
    pub t: (f64, f64),
    pub m: (f64, usize),
    pub k: f64,
}

/// Tuple fields of floats, and a tuple mixing a float and a constant: their gradient starts
/// at zero (a copied tuple would start at the input's value).
#[differentiable(wrt(p, x))]
fn tupled(p: &Tupled, x: f64) -> f64 {
    p.t.0 * x + (p.t.1 * p.k).sin() + p.m.0 * p.m.1 as f64
}

#[test]
fn tuple_fields_are_differentiated_from_zero() {
    let mut next = xorshift(0x7e91);
    for _ in 0..10 {
        let v = random(&mut next, 5);
        let rebuild = |a: &[f64]| Tupled {
            t: (a[0], a[1]),
            m: (a[2], 3),
            k: a[3],
        };
        let (dp, dx) = tupled_grad(&rebuild(&v), v[4]);
        assert_eq!(dp.m.1, 3, "the constant is kept");
        let analytic = [dp.t.0, dp.t.1, dp.m.0, dp.k, dx];
        let f = |a: &[f64]| tupled(&rebuild(a), a[4]);
        let mirror = |a: &[Dual64]| a[0] * a[4] + (a[1] * a[3]).sin() + a[2] * 3.0;
        assert_gradient_and_dual(f, mirror, &v, &analytic);
    }
}

// ----- two fields compared with each other -----

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Band {
    pub low: f64,
    pub high: f64,
}

/// `p.low > p.high` compares two fields alone: no float is shown by the comparison, and none
/// is needed, since a comparison passes no derivative on.
#[differentiable(wrt(p, x))]
fn banded(p: &Band, x: f64) -> f64 {
    if p.low > p.high {
        x * p.low
    } else if SHIFT + p.high < 0.0 {
        // A field and a constant alone, only compared (found by the generator).
        x
    } else {
        x * x * p.high
    }
}

const SHIFT: f64 = 10.0;

#[test]
fn two_fields_compared_with_each_other() {
    for (low, high, x) in [(0.5, 2.0, 1.5), (3.0, 1.0, -0.5), (-20.0, -15.0, 0.5)] {
        let p = Band { low, high };
        let (dp, dx) = banded_grad(&p, x);
        if low > high {
            assert_eq!((dp.low, dp.high, dx), (x, 0.0, low));
        } else if SHIFT + high < 0.0 {
            assert_eq!((dp.low, dp.high, dx), (0.0, 0.0, 1.0));
        } else {
            assert_eq!((dp.low, dp.high, dx), (0.0, x * x, 2.0 * x * high));
        }
    }
}
