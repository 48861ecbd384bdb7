//! nalgebra's fixed-size vectors, matrices and points as parameters and locals (issue 16,
//! feature `nalgebra`): each gradient entry has its parameter's nalgebra type, and is checked
//! against central finite differences and against num-dual through a copy of the function
//! written on plain arrays of dual numbers.

mod common;

use common::{assert_gradient, assert_gradient_and_dual as check, xorshift};
use grad::differentiable;
use grad::nalgebra::{Matrix2, Matrix2x3, Matrix3, Point3, SVector, Vector2, Vector3};
use num_dual::DualNum;

fn random(next: &mut impl FnMut() -> u64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| (next() % 20_000) as f64 / 10_000.0 - 1.0)
        .collect()
}

// ----- forward kinematics of a planar three-joint arm -----

/// The squared distance from the arm's tip to a target: joint angles accumulate along the
/// chain, each link adds its length along the current direction.
#[differentiable]
fn reach_cost(q: Vector3<f64>, lengths: Vector3<f64>, target: Vector2<f64>) -> f64 {
    let mut tip = Vector2::new(0.0, 0.0);
    let mut angle = 0.0;
    for i in 0..3 {
        angle += q[i];
        tip += Vector2::new(angle.cos(), angle.sin()) * lengths[i];
    }
    let d = tip - target;
    d.norm_squared()
}

fn reach_mirror<D: DualNum<f64> + Copy>(v: &[D]) -> D {
    let (mut x, mut y, mut angle) = (D::zero(), D::zero(), D::zero());
    for i in 0..3 {
        angle += v[i];
        x += angle.cos() * v[3 + i];
        y += angle.sin() * v[3 + i];
    }
    (x - v[6]).powi(2) + (y - v[7]).powi(2)
}

#[test]
fn forward_kinematics_in_nalgebra() {
    let mut next = xorshift(0x4a1b);
    for _ in 0..20 {
        let v = random(&mut next, 8);
        let q = Vector3::new(v[0], v[1], v[2]);
        let lengths = Vector3::new(v[3], v[4], v[5]);
        let target = Vector2::new(v[6], v[7]);
        let (dq, dl, dt): (Vector3<f64>, Vector3<f64>, Vector2<f64>) =
            reach_cost_grad(q, lengths, target);
        let analytic: Vec<f64> = dq
            .iter()
            .chain(dl.iter())
            .chain(dt.iter())
            .copied()
            .collect();
        let f = |a: &[f64]| {
            reach_cost(
                Vector3::new(a[0], a[1], a[2]),
                Vector3::new(a[3], a[4], a[5]),
                Vector2::new(a[6], a[7]),
            )
        };
        check(f, reach_mirror, &v, &analytic);
    }
}

// ----- matrices, by reference, and the vector methods -----

#[differentiable]
fn mixed(m: &Matrix3<f64>, v: Vector3<f64>, p: Point3<f64>) -> f64 {
    let w = m * v;
    let gram = m.transpose() * m;
    let unit = w.normalize();
    let i3: Matrix3<f64> = Matrix3::identity();
    v.dot(&w) + gram[(0, 1)] + unit.x + v.cross(&w).norm() - (-v).sum()
        + (i3 * v).component_mul(&w).sum()
        + p.x * p.z
        - (w / 2.0).magnitude_squared()
}

fn mixed_mirror<D: DualNum<f64> + Copy>(a: &[D]) -> D {
    let m = |i: usize, j: usize| a[3 * i + j];
    let v = [a[9], a[10], a[11]];
    let p = [a[12], a[13], a[14]];
    let w: Vec<D> = (0..3)
        .map(|i| m(i, 0) * v[0] + m(i, 1) * v[1] + m(i, 2) * v[2])
        .collect();
    let gram01 = m(0, 0) * m(0, 1) + m(1, 0) * m(1, 1) + m(2, 0) * m(2, 1);
    let norm_w = (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]).sqrt();
    let cross = [
        v[1] * w[2] - v[2] * w[1],
        v[2] * w[0] - v[0] * w[2],
        v[0] * w[1] - v[1] * w[0],
    ];
    let dot = v[0] * w[0] + v[1] * w[1] + v[2] * w[2];
    let cross_norm = (cross[0] * cross[0] + cross[1] * cross[1] + cross[2] * cross[2]).sqrt();
    let sum_neg = -v[0] - v[1] - v[2];
    let half = (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]) * 0.25;
    dot + gram01 + w[0] / norm_w + cross_norm - sum_neg + dot + p[0] * p[2] - half
}

#[test]
fn matrices_points_and_vector_methods() {
    let mut next = xorshift(0x3a7);
    for _ in 0..20 {
        let a = random(&mut next, 15);
        let m = Matrix3::from_row_slice(&a[..9]);
        let v = Vector3::new(a[9], a[10], a[11]);
        let p = Point3::new(a[12], a[13], a[14]);
        let (dm, dv, dp): (Matrix3<f64>, Vector3<f64>, Point3<f64>) = mixed_grad(&m, v, p);
        let mut analytic: Vec<f64> = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| dm[(i, j)])
            .collect();
        analytic.extend(dv.iter());
        analytic.extend(dp.coords.iter());
        let f = |a: &[f64]| {
            mixed(
                &Matrix3::from_row_slice(&a[..9]),
                Vector3::new(a[9], a[10], a[11]),
                Point3::new(a[12], a[13], a[14]),
            )
        };
        check(f, mixed_mirror, &a, &analytic);
    }
}

// ----- rectangular matrices and `SVector` -----

#[differentiable]
fn projection(a: Matrix2x3<f64>, x: SVector<f64, 3>, weights: Vector2<f64>) -> f64 {
    let y = a * x;
    let shear = Matrix2x3::from_row_slice(&[1.0, 0.0, 0.0, 0.0, 1.0, x[2]]);
    weights.dot(&y) + (a * a.transpose())[(1, 0)] + shear[(1, 2)] - x[2]
}

#[test]
fn rectangular_matrices() {
    let a = Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
    let x = SVector::<f64, 3>::new(0.5, -1.0, 2.0);
    let weights = Vector2::new(3.0, -2.0);
    let (da, dx, dw) = projection_grad(a, x, weights);
    // d/da_ij of w.(a x) = w_i x_j; of (a a^T)_10 = sum_k a_1k a_0k: a_1j for row 0, a_0j
    // for row 1.
    for i in 0..2 {
        for j in 0..3 {
            let other = if i == 0 { a[(1, j)] } else { a[(0, j)] };
            assert_eq!(da[(i, j)], weights[i] * x[j] + other);
        }
    }
    assert_eq!(dx, a.transpose() * weights);
    assert_eq!(dw, a * x);
}

// ----- the spatial arm of `examples/arm_nalgebra.rs` -----

#[differentiable]
fn spatial_reach(q: Vector3<f64>, lengths: Vector3<f64>, target: Vector3<f64>) -> f64 {
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

#[test]
fn a_spatial_arm_of_rotation_matrices() {
    let mut next = xorshift(0x5a7);
    for _ in 0..20 {
        let v = random(&mut next, 9);
        let vec3 = |a: &[f64], k: usize| Vector3::new(a[k], a[k + 1], a[k + 2]);
        let (dq, dl, dt) = spatial_reach_grad(vec3(&v, 0), vec3(&v, 3), vec3(&v, 6));
        let analytic: Vec<f64> = dq
            .iter()
            .chain(dl.iter())
            .chain(dt.iter())
            .copied()
            .collect();
        let f = |a: &[f64]| spatial_reach(vec3(a, 0), vec3(a, 3), vec3(a, 6));
        assert_gradient(f, &v, &analytic);
    }
}

// ----- a nalgebra vector output: its Jacobian is a matrix -----

/// The tip of the spatial arm, a vector output.
#[differentiable]
fn tip(q: Vector3<f64>, reach: f64) -> Vector3<f64> {
    let (c0, s0) = (q.x.cos(), q.x.sin());
    let (c1, s1) = (q.y.cos(), q.y.sin());
    let (c2, s2) = (q.z.cos(), q.z.sin());
    let base = Matrix3::new(c0, -s0, 0.0, s0, c0, 0.0, 0.0, 0.0, 1.0);
    let shoulder = Matrix3::new(c1, 0.0, s1, 0.0, 1.0, 0.0, -s1, 0.0, c1);
    let elbow = Matrix3::new(c2, 0.0, s2, 0.0, 1.0, 0.0, -s2, 0.0, c2);
    let upper = Vector3::new(1.0, 0.0, 0.0);
    let fore = Vector3::new(reach, 0.0, 0.0);
    Vector3::new(0.0, 0.0, 0.5) + base * (shoulder * (upper + elbow * fore))
}

#[test]
fn the_jacobian_of_a_vector_output_is_a_matrix() {
    let mut next = xorshift(0x71b);
    for _ in 0..20 {
        let v = random(&mut next, 5);
        let q = Vector3::new(v[0], v[1], v[2]);
        let reach = 0.5 + v[3].abs();
        let (jq, jr): (Matrix3<f64>, Vector3<f64>) = tip_jacobian(q, reach);
        // Column j of J against central differences in q_j and in the reach.
        for j in 0..3 {
            let h = 1e-6;
            let (mut a, mut b) = (q, q);
            a[j] += h;
            b[j] -= h;
            let column = (tip(a, reach) - tip(b, reach)) / (2.0 * h);
            assert!((jq.column(j) - column).norm() < 1e-8, "column {j}");
        }
        let dr = (tip(q, reach + 1e-6) - tip(q, reach - 1e-6)) / 2e-6;
        assert!((jr - dr).norm() < 1e-8);
        // The vjp is the transposed Jacobian times the upstream vector.
        let u = Vector3::new(v[4], 1.0, -0.5);
        let (gq, gr) = tip_vjp(q, reach, u);
        assert!((gq - jq.transpose() * u).norm() < 1e-12);
        assert!((gr - jr.dot(&u)).abs() < 1e-12);
    }
}

// ----- matrix results and `map` -----

/// A rotation about z by `t` scaled by `k`: a nalgebra matrix output.
#[differentiable]
fn scaled_rotation(t: f64, k: f64) -> Matrix3<f64> {
    let (s, c) = t.sin_cos();
    Matrix3::new(c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0) * k
}

/// A matrix output computed from a vector by `map`, a product and a transpose.
#[differentiable]
fn gram_of_squares(v: Vector3<f64>, a: Matrix2x3<f64>) -> Matrix2<f64> {
    let squared = a.map(|e| e * e);
    let weighted = squared.map(f64::sin) * v.component_mul(&v);
    let columns = Matrix2::new(weighted.x, weighted.y, weighted.y, weighted.x);
    columns * columns.transpose() + Matrix2::identity() * v.z
}

fn gram_mirror<D: DualNum<f64> + Copy>(v: &[D], a: &[D]) -> [[D; 2]; 2] {
    let w: Vec<D> = (0..2)
        .map(|i| {
            (0..3)
                .map(|k| (a[3 * i + k] * a[3 * i + k]).sin() * v[k] * v[k])
                .fold(D::zero(), |s, t| s + t)
        })
        .collect();
    let c = [[w[0], w[1]], [w[1], w[0]]];
    let mut out = [[D::zero(); 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            out[i][j] = c[i][0] * c[j][0] + c[i][1] * c[j][1];
        }
        out[i][i] += v[2];
    }
    out
}

#[test]
fn a_matrix_output_has_a_jacobian_of_its_shape_and_a_vjp_of_a_matrix() {
    let mut next = xorshift(0x3a7);
    for _ in 0..20 {
        let r = random(&mut next, 11);
        let (t, k) = (r[0] * 3.0, r[1] + 2.0);
        // The rotation's derivative in t is k times the rotation by t + π/2 in the plane.
        let [dt, dk]: [[[f64; 3]; 3]; 2] = {
            let (jt, jk) = scaled_rotation_jacobian(t, k);
            [jt, jk]
        };
        let (s, c) = t.sin_cos();
        let expected_dt = [[-s * k, -c * k, 0.0], [c * k, -s * k, 0.0], [0.0, 0.0, 0.0]];
        let expected_dk = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]];
        for i in 0..3 {
            for j in 0..3 {
                assert!((dt[i][j] - expected_dt[i][j]).abs() < 1e-14);
                assert!((dk[i][j] - expected_dk[i][j]).abs() < 1e-14);
            }
        }
        // The vjp of an upstream matrix is the sum of its elements times the Jacobian's.
        let u = Matrix3::from_row_slice(&r[2..11]);
        let (gt, gk) = scaled_rotation_vjp(t, k, u);
        let (mut st, mut sk) = (0.0, 0.0);
        for i in 0..3 {
            for j in 0..3 {
                st += u[(i, j)] * dt[i][j];
                sk += u[(i, j)] * dk[i][j];
            }
        }
        assert!((gt - st).abs() < 1e-13 && (gk - sk).abs() < 1e-13);
    }
}

#[test]
fn map_of_a_matrix_and_a_matrix_output_against_num_dual() {
    let mut next = xorshift(0x5eed);
    for _ in 0..20 {
        let r = random(&mut next, 9);
        let v = Vector3::new(r[0], r[1], r[2]);
        let a = Matrix2x3::from_row_slice(&r[3..9]);
        let value = gram_of_squares(v, a);
        let mirrored = gram_mirror(&r[..3], &r[3..]);
        for i in 0..2 {
            for j in 0..2 {
                let close = (value[(i, j)] - mirrored[i][j]).abs() < 1e-14;
                assert!(close, "the mirror computes the function");
            }
        }
        // Element (i, j) of each is the gradient of output (i, j).
        type Entries<E> = [[E; 2]; 2];
        let (jv, ja): (Entries<Vector3<f64>>, Entries<Matrix2x3<f64>>) =
            gram_of_squares_jacobian(v, a);
        for i in 0..2 {
            for j in 0..2 {
                let analytic: Vec<f64> = jv[i][j]
                    .iter()
                    .copied()
                    .chain(
                        (0..2)
                            .flat_map(|p| (0..3).map(move |q| (p, q)))
                            .map(|pq| ja[i][j][pq]),
                    )
                    .collect();
                let element = |x: &[f64]| {
                    let m = gram_of_squares(
                        Vector3::new(x[0], x[1], x[2]),
                        Matrix2x3::from_row_slice(&x[3..9]),
                    );
                    m[(i, j)]
                };
                let mirror = |x: &[num_dual::Dual64]| gram_mirror(&x[..3], &x[3..])[i][j];
                check(element, mirror, &r, &analytic);
            }
        }
        // The vjp of an upstream matrix against the Jacobian.
        let u = Matrix2::new(r[0], 1.0, -0.5, r[4]);
        let (gv, ga) = gram_of_squares_vjp(v, a, u);
        let mut sv = Vector3::zeros();
        let mut sa = Matrix2x3::zeros();
        for i in 0..2 {
            for j in 0..2 {
                sv += jv[i][j] * u[(i, j)];
                sa += ja[i][j] * u[(i, j)];
            }
        }
        assert!((gv - sv).norm() < 1e-12 && (ga - sa).norm() < 1e-12);
    }
}

/// An outer product (`v * w.transpose()`) and `map` of a value computed in place.
#[differentiable]
fn outer_energy(v: Vector3<f64>, w: Vector3<f64>) -> f64 {
    let m: Matrix3<f64> = v * w.transpose();
    (m * 0.5).map(|e| e.tanh()).sum() + m.transpose().map(f64::sin)[(0, 2)]
}

#[test]
fn an_outer_product_and_map_of_an_expression() {
    let mut next = xorshift(0x0e7);
    for _ in 0..20 {
        let r = random(&mut next, 6);
        let (g, h) = outer_energy_grad(
            Vector3::new(r[0], r[1], r[2]),
            Vector3::new(r[3], r[4], r[5]),
        );
        let analytic: Vec<f64> = g.iter().chain(h.iter()).copied().collect();
        let f = |x: &[f64]| {
            outer_energy(
                Vector3::new(x[0], x[1], x[2]),
                Vector3::new(x[3], x[4], x[5]),
            )
        };
        let mirror = |x: &[num_dual::Dual64]| {
            let mut total = num_dual::Dual64::from(0.0);
            for i in 0..3 {
                for j in 0..3 {
                    total += (x[i] * x[3 + j] * 0.5).tanh();
                }
            }
            // The transpose's element (0, 2) is the product's (2, 0).
            total + (x[2] * x[3]).sin()
        };
        check(f, mirror, &r, &analytic);
    }
}

// ----- second order of nalgebra parameters -----

/// The arm's reach cost, with its Hessian in the joint angles for Newton's method.
#[differentiable(wrt(q), hessian)]
fn reach_cost_2(q: Vector3<f64>, lengths: Vector3<f64>, target: Vector2<f64>) -> f64 {
    let mut tip = Vector2::new(0.0, 0.0);
    let mut angle = 0.0;
    for i in 0..3 {
        angle += q[i];
        tip += Vector2::new(angle.cos(), angle.sin()) * lengths[i];
    }
    (tip - target).norm_squared()
}

#[test]
fn the_hessian_in_a_nalgebra_vector_is_a_matrix() {
    let mut next = xorshift(0x4e55a);
    for _ in 0..20 {
        let r = random(&mut next, 11);
        let q = Vector3::new(r[0], r[1], r[2]);
        let lengths = Vector3::new(1.0 + r[3].abs(), 1.0 + r[4].abs(), 0.5 + r[5].abs());
        let target = Vector2::new(r[6], r[7]);
        let h: Matrix3<f64> = reach_cost_2_hessian(q, lengths, target);
        assert_eq!(h, h.transpose(), "symmetric to the bit");
        // H v against finite differences of the gradient, and against the Hessian.
        let v = Vector3::new(r[8], r[9], r[10]);
        let hv: Vector3<f64> = reach_cost_2_hvp(q, lengths, target, v);
        assert!((hv - h * v).norm() < 1e-12 * (1.0 + hv.norm()));
        let step = 1e-6;
        let fd = (reach_cost_2_grad(q + v * step, lengths, target)
            - reach_cost_2_grad(q - v * step, lengths, target))
            / (2.0 * step);
        assert!((hv - fd).norm() < 1e-6 * (1.0 + hv.norm()), "{hv} vs {fd}");
    }
}
