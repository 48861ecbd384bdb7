//! Issue 16's constructs against hand-written gradients and num-dual: the inverse-kinematics
//! cost of a spatial three-joint arm written in nalgebra (rotation matrices, products,
//! `norm_squared`), and a dense layer whose parameters are a struct deriving
//! `grad::Differentiable`.
//!
//! Run with `cargo bench -p grad-tests --bench organised`.

// Index loops are how the layer is written, by hand and for grad alike.
#![allow(clippy::needless_range_loop)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use grad::nalgebra::{Matrix3, Vector3};
use grad::{Differentiable, differentiable};
use num_dual::{Dual64, DualNum};

/// The squared distance from the arm's tip to the target (`grad-tests/examples/arm_nalgebra.rs`).
#[differentiable(wrt(q))]
fn reach_cost(q: Vector3<f64>, lengths: Vector3<f64>, target: Vector3<f64>) -> f64 {
    let (c0, s0) = (q.x.cos(), q.x.sin());
    let (c1, s1) = (q.y.cos(), q.y.sin());
    let (c2, s2) = (q.z.cos(), q.z.sin());
    let base = Matrix3::new(c0, -s0, 0.0, s0, c0, 0.0, 0.0, 0.0, 1.0);
    let shoulder = Matrix3::new(c1, 0.0, s1, 0.0, 1.0, 0.0, -s1, 0.0, c1);
    let elbow = Matrix3::new(c2, 0.0, s2, 0.0, 1.0, 0.0, -s2, 0.0, c2);
    let upper = Vector3::new(lengths.y, 0.0, 0.0);
    let fore = Vector3::new(lengths.z, 0.0, 0.0);
    let tip = Vector3::new(0.0, 0.0, lengths.x) + base * (shoulder * (upper + elbow * fore));
    (tip - target).norm_squared()
}

/// Its gradient in `q` by hand, from the closed form of the tip.
fn reach_cost_by_hand(
    q: Vector3<f64>,
    lengths: Vector3<f64>,
    target: Vector3<f64>,
) -> Vector3<f64> {
    let (c0, s0) = (q.x.cos(), q.x.sin());
    let (c1, s1) = (q.y.cos(), q.y.sin());
    let (c2, s2) = (q.z.cos(), q.z.sin());
    let (a, b) = (lengths.y + lengths.z * c2, -lengths.z * s2);
    let (p, h) = (c1 * a + s1 * b, -s1 * a + c1 * b);
    let d = Vector3::new(c0 * p, s0 * p, lengths.x + h) - target;
    let (dp2, dh2) = (
        -c1 * lengths.z * s2 - s1 * lengths.z * c2,
        s1 * lengths.z * s2 - c1 * lengths.z * c2,
    );
    let column = |x: f64, y: f64, z: f64| 2.0 * (d.x * x + d.y * y + d.z * z);
    Vector3::new(
        column(-s0 * p, c0 * p, 0.0),
        column(c0 * h, s0 * h, -p),
        column(c0 * dp2, s0 * dp2, dh2),
    )
}

/// The same cost on dual numbers, for num-dual's forward mode (one pass per joint).
fn reach_cost_dual(q: [Dual64; 3], lengths: [f64; 3], target: [f64; 3]) -> Dual64 {
    let (c0, s0) = (q[0].cos(), q[0].sin());
    let (c1, s1) = (q[1].cos(), q[1].sin());
    let (c2, s2) = (q[2].cos(), q[2].sin());
    let (a, b) = (c2 * lengths[2] + lengths[1], -s2 * lengths[2]);
    let (p, h) = (c1 * a + s1 * b, -s1 * a + c1 * b);
    let d = [
        c0 * p - target[0],
        s0 * p - target[1],
        h + lengths[0] - target[2],
    ];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

#[derive(Clone, Differentiable)]
pub struct Layer {
    pub w: [[f64; 8]; 8],
    pub b: [f64; 8],
}

/// A tanh layer's summed output.
#[differentiable(wrt(p))]
fn layer(p: &Layer, x: [f64; 8]) -> f64 {
    let mut total = 0.0;
    for i in 0..8 {
        let mut z = p.b[i];
        for j in 0..8 {
            z += p.w[i][j] * x[j];
        }
        total += z.tanh();
    }
    total
}

/// Its gradient by hand.
fn layer_by_hand(p: &Layer, x: [f64; 8]) -> Layer {
    let mut g = Layer {
        w: [[0.0; 8]; 8],
        b: [0.0; 8],
    };
    for i in 0..8 {
        let mut z = p.b[i];
        for j in 0..8 {
            z += p.w[i][j] * x[j];
        }
        let t = z.tanh();
        let dz = 1.0 - t * t;
        g.b[i] = dz;
        for j in 0..8 {
            g.w[i][j] = dz * x[j];
        }
    }
    g
}

fn check() {
    let (q, lengths, target) = (
        Vector3::new(0.3, -0.4, 0.5),
        Vector3::new(0.5, 1.0, 0.8),
        Vector3::new(0.9, 0.6, 0.7),
    );
    let by_grad = reach_cost_grad(q, lengths, target);
    let by_hand = reach_cost_by_hand(q, lengths, target);
    assert!((by_grad - by_hand).norm() < 1e-12, "{by_grad} vs {by_hand}");
    let x = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8];
    let mut p = Layer {
        w: [[0.0; 8]; 8],
        b: [0.0; 8],
    };
    for i in 0..8 {
        p.b[i] = 0.05 * i as f64;
        for j in 0..8 {
            p.w[i][j] = ((i * 8 + j) as f64 * 0.37).sin() * 0.3;
        }
    }
    let (g, h) = (layer_grad(&p, x), layer_by_hand(&p, x));
    for i in 0..8 {
        assert!((g.b[i] - h.b[i]).abs() < 1e-12);
        for j in 0..8 {
            assert!((g.w[i][j] - h.w[i][j]).abs() < 1e-12);
        }
    }
}

fn organised(cr: &mut Criterion) {
    check();
    let (q, lengths, target) = (
        Vector3::new(0.3, -0.4, 0.5),
        Vector3::new(0.5, 1.0, 0.8),
        Vector3::new(0.9, 0.6, 0.7),
    );
    let mut group = cr.benchmark_group("arm_nalgebra");
    group.bench_function("primal", |b| {
        b.iter(|| reach_cost(black_box(q), black_box(lengths), black_box(target)))
    });
    group.bench_function("hand", |b| {
        b.iter(|| reach_cost_by_hand(black_box(q), black_box(lengths), black_box(target)))
    });
    group.bench_function("grad", |b| {
        b.iter(|| reach_cost_grad(black_box(q), black_box(lengths), black_box(target)))
    });
    group.bench_function("num_dual_3_passes", |b| {
        b.iter(|| {
            let (q, l, t) = (black_box(q), black_box(lengths), black_box(target));
            let mut g = [0.0; 3];
            for (k, entry) in g.iter_mut().enumerate() {
                let seeded =
                    core::array::from_fn(|i| Dual64::new(q[i], if i == k { 1.0 } else { 0.0 }));
                *entry = reach_cost_dual(seeded, [l.x, l.y, l.z], [t.x, t.y, t.z]).eps;
            }
            g
        })
    });
    group.finish();
    let x = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8];
    let mut p = Layer {
        w: [[0.0; 8]; 8],
        b: [0.0; 8],
    };
    for i in 0..8 {
        for j in 0..8 {
            p.w[i][j] = ((i * 8 + j) as f64 * 0.37).sin() * 0.3;
        }
    }
    let mut group = cr.benchmark_group("struct_layer");
    group.bench_function("primal", |b| b.iter(|| layer(black_box(&p), black_box(x))));
    group.bench_function("hand", |b| {
        b.iter(|| layer_by_hand(black_box(&p), black_box(x)))
    });
    group.bench_function("grad", |b| {
        b.iter(|| layer_grad(black_box(&p), black_box(x)))
    });
    group.finish();
}

criterion_group!(benches, organised);
criterion_main!(benches);
