//! Arrays and matrices: the seeds' vector examples, matrix identities, models, and vector
//! outputs, against hand-derived values, finite differences and dual numbers.

// The model is written with index loops, the way the math is written.
#![allow(clippy::needless_range_loop)]

mod common;

use common::assert_gradient;
use grad::differentiable;
use num_dual::{Dual64, DualNum};

/// f = ‖Wx‖², the seed's vectorised example.
#[differentiable]
fn norm_of_product(w: [[f64; 2]; 2], x: [f64; 2]) -> f64 {
    let mut p = [0.0; 2];
    for i in 0..2 {
        for j in 0..2 {
            p[i] += w[i][j] * x[j];
        }
    }
    p[0] * p[0] + p[1] * p[1]
}

#[test]
fn seed_norm_of_matrix_vector_product() {
    let w = [[0.1, 0.5], [-0.3, 0.8]];
    let x = [0.2, 0.4];
    let (value, (dw, dx)) = {
        let value = norm_of_product(w, x);
        (value, norm_of_product_grad(w, x))
    };
    assert!((value - 0.116).abs() < 1e-12);
    let want_dw = [[0.088, 0.176], [0.104, 0.208]];
    let want_dx = [-0.112, 0.636];
    for i in 0..2 {
        for j in 0..2 {
            assert!((dw[i][j] - want_dw[i][j]).abs() < 1e-12, "dW = {dw:?}");
        }
        assert!((dx[i] - want_dx[i]).abs() < 1e-12, "dx = {dx:?}");
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-10 * a.abs().max(b.abs()).max(1.0)
}

/// βᵀx: the gradient with respect to x is β (and with respect to β is x).
#[differentiable]
fn inner<const N: usize>(beta: [f64; N], x: [f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N {
        s += beta[i] * x[i];
    }
    s
}

/// xᵀx: the gradient is 2x.
#[differentiable]
fn square<const N: usize>(x: [f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
    }
    s
}

/// xᵀAx: the gradient with respect to x is (A + Aᵀ)x.
#[differentiable(wrt(x))]
fn quadratic_form<const N: usize>(a: [[f64; N]; N], x: [f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N {
        for j in 0..N {
            s += x[i] * a[i][j] * x[j];
        }
    }
    s
}

#[test]
fn matrix_identities_at_two_sizes() {
    let beta = [0.5, -1.0, 2.0];
    let x = [1.5, 0.25, -0.75];
    let (dbeta, dx) = inner_grad(beta, x);
    assert_eq!((dbeta, dx), (x, beta));
    assert_eq!(square_grad(x), [3.0, 0.5, -1.5]);
    let x5 = [0.1, 0.2, 0.3, 0.4, 0.5];
    assert_eq!(square_grad(x5), x5.map(|v| 2.0 * v));

    let a = [[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0], [0.25, 4.0, -2.0]];
    let dx = quadratic_form_grad(a, x);
    for i in 0..3 {
        let want: f64 = (0..3).map(|j| (a[i][j] + a[j][i]) * x[j]).sum();
        assert!(close(dx[i], want), "{dx:?}");
    }
    let a2 = [[2.0, -1.0], [0.5, 3.0]];
    let x2 = [0.3, -0.7];
    let dx2 = quadratic_form_grad(a2, x2);
    for i in 0..2 {
        let want: f64 = (0..2).map(|j| (a2[i][j] + a2[j][i]) * x2[j]).sum();
        assert!(close(dx2[i], want));
    }
}

/// Rosenbrock's function in N dimensions.
#[differentiable]
fn rosenbrock<const N: usize>(x: [f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

#[test]
fn rosenbrock_in_two_and_ten_dimensions() {
    let x2 = [-1.2, 1.0];
    assert_gradient(|v| rosenbrock([v[0], v[1]]), &x2, &rosenbrock_grad(x2));
    assert_eq!(rosenbrock_grad([1.0; 2]), [0.0; 2]);
    let x10: [f64; 10] = std::array::from_fn(|i| 0.3 * i as f64 - 1.0);
    let f = |v: &[f64]| rosenbrock::<10>(v.try_into().unwrap());
    assert_gradient(f, &x10, &rosenbrock_grad(x10));
}

/// A dense layer with a sigmoid and a squared loss, differentiated with respect to the
/// weights and biases only.
#[differentiable(wrt(w, b))]
fn dense_loss(w: [[f64; 3]; 4], b: [f64; 4], x: [f64; 3], target: [f64; 4]) -> f64 {
    let mut z = [0.0; 4];
    for i in 0..4 {
        z[i] = b[i];
        for j in 0..3 {
            z[i] += w[i][j] * x[j];
        }
    }
    let mut loss = 0.0;
    for i in 0..4 {
        let a = grad::sigmoid(z[i]);
        loss += (a - target[i]) * (a - target[i]);
    }
    0.5 * loss
}

#[test]
fn dense_layer_with_sigmoid_and_squared_loss() {
    let w = [
        [0.1, -0.2, 0.3],
        [0.4, 0.5, -0.6],
        [-0.7, 0.8, 0.9],
        [0.05, -0.15, 0.25],
    ];
    let b = [0.01, -0.02, 0.03, 0.0];
    let x = [0.5, -1.5, 2.0];
    let t = [1.0, 0.0, 0.5, 0.25];
    let (dw, db) = dense_loss_grad(w, b, x, t);
    // By hand: dL/dz_i = (a_i - t_i) a_i (1 - a_i); dL/dW = δ xᵀ; dL/db = δ.
    for i in 0..4 {
        let z: f64 = b[i] + (0..3).map(|j| w[i][j] * x[j]).sum::<f64>();
        let a = 1.0 / (1.0 + (-z).exp());
        let delta = (a - t[i]) * a * (1.0 - a);
        assert!(close(db[i], delta), "db = {db:?}");
        for j in 0..3 {
            assert!(close(dw[i][j], delta * x[j]), "dw = {dw:?}");
        }
    }
}

/// Softmax cross-entropy with a max-shifted log-sum-exp.
#[differentiable]
fn cross_entropy(z: [f64; 5], label: usize) -> f64 {
    let mut m = z[0];
    for i in 1..5 {
        m = m.max(z[i]);
    }
    let mut s = 0.0;
    for i in 0..5 {
        s += (z[i] - m).exp();
    }
    s.ln() + m - z[label]
}

#[test]
fn softmax_cross_entropy_gradient_is_softmax_minus_one_hot() {
    let z = [1.0, -2.0, 0.5, 3.0, 0.0];
    let dz = cross_entropy_grad(z, 2);
    let total: f64 = z.iter().map(|v| v.exp()).sum();
    for i in 0..5 {
        let want = z[i].exp() / total - if i == 2 { 1.0 } else { 0.0 };
        assert!(close(dz[i], want), "{dz:?}");
    }
    // Stable where the naive form overflows.
    let big = [1000.0, 999.0, 998.0, 0.0, -5.0];
    assert!(cross_entropy_grad(big, 0).iter().all(|g| g.is_finite()));
}

/// An elementwise vector function: output i depends on input i only.
#[differentiable]
fn elementwise(x: [f64; 4]) -> [f64; 4] {
    let mut y = [0.0; 4];
    for i in 0..4 {
        y[i] = x[i].sin() * x[i];
    }
    y
}

#[test]
fn elementwise_jacobian_is_diagonal() {
    let x = [0.1, -0.5, 1.3, 2.0];
    let jacobian = elementwise_jacobian(x);
    for i in 0..4 {
        for j in 0..4 {
            let want = if i == j {
                x[i].cos() * x[i] + x[i].sin()
            } else {
                0.0
            };
            assert!(close(jacobian[i][j], want), "J = {jacobian:?}");
        }
    }
    let upstream = [1.0, 2.0, -1.0, 0.5];
    let vjp = elementwise_vjp(x, upstream);
    for j in 0..4 {
        assert!(close(vjp[j], upstream[j] * jacobian[j][j]));
    }
}

/// A general vector function of two inputs with three outputs: a full Jacobian.
#[differentiable]
fn spherical(p: [f64; 2], r: f64) -> [f64; 3] {
    let (theta, phi) = (p[0], p[1]);
    [
        r * theta.sin() * phi.cos(),
        r * theta.sin() * phi.sin(),
        r * theta.cos(),
    ]
}

#[test]
fn full_jacobian_against_dual_numbers() {
    use num_dual::{Dual64, DualNum};
    fn spherical_dual(p: [Dual64; 2], r: Dual64) -> [Dual64; 3] {
        let (theta, phi) = (p[0], p[1]);
        [
            r * theta.sin() * phi.cos(),
            r * theta.sin() * phi.sin(),
            r * theta.cos(),
        ]
    }
    let (p, r) = ([0.7, -1.1], 2.5);
    let (jp, jr) = spherical_jacobian(p, r);
    for input in 0..3 {
        let seed = |k: usize| {
            Dual64::new(
                if k < 2 { p[k] } else { r },
                if k == input { 1.0 } else { 0.0 },
            )
        };
        let out = spherical_dual([seed(0), seed(1)], seed(2));
        for row in 0..3 {
            let got = if input < 2 { jp[row][input] } else { jr[row] };
            assert!(
                close(got, out[row].eps),
                "row {row}, input {input}: {got} vs {}",
                out[row].eps
            );
        }
    }
    let _ = Dual64::from(1.0).re();
}

#[differentiable]
fn rows_and_copies(w: [[f64; 2]; 3], x: f64) -> f64 {
    let row = w[1];
    let mut scaled = row;
    scaled[0] *= x;
    let v = [x * 2.0, row[1].sin()];
    scaled[0] + scaled[1] * v[0] + v[1] + w[0][0] * row.len() as f64
}

#[test]
fn rows_copies_and_literals() {
    let w = [[0.5, 1.5], [-0.25, 0.75], [2.0, -1.0]];
    let x = 1.3;
    let (dw, dx) = rows_and_copies_grad(w, x);
    let flat = |v: &[f64]| {
        let w = [[v[0], v[1]], [v[2], v[3]], [v[4], v[5]]];
        rows_and_copies(w, v[6])
    };
    let point = [w[0][0], w[0][1], w[1][0], w[1][1], w[2][0], w[2][1], x];
    let analytic = [
        dw[0][0], dw[0][1], dw[1][0], dw[1][1], dw[2][0], dw[2][1], dx,
    ];
    assert_gradient(flat, &point, &analytic);
}

#[differentiable]
fn norm_squared(v: [f64; 3]) -> f64 {
    v[0] * v[0] + v[1] * v[1] + v[2] * v[2]
}

/// A vector output called from another differentiable function: the binding's type says the
/// call returns an array.
#[differentiable]
fn scaled(v: [f64; 3], s: f64) -> [f64; 3] {
    let mut out = v;
    for i in 0..3 {
        out[i] *= s;
    }
    out
}

#[differentiable]
fn composed(v: [f64; 3], s: f64) -> f64 {
    let w: [f64; 3] = scaled(v, s);
    norm_squared(w) + w[1]
}

#[test]
fn calls_with_array_arguments_and_results() {
    let (v, s) = ([0.5, -1.0, 2.0], 1.5);
    // f = s² |v|² + s v1: df/dv = 2 s² v + s e1, df/ds = 2 s |v|² + v1.
    let (dv, ds) = composed_grad(v, s);
    let norm: f64 = v.iter().map(|a| a * a).sum();
    for i in 0..3 {
        let want = 2.0 * s * s * v[i] + if i == 1 { s } else { 0.0 };
        assert!(close(dv[i], want), "{dv:?}");
    }
    assert!(close(ds, 2.0 * s * norm + v[1]));
}

#[differentiable]
fn iterator_idioms(x: [f64; 4], y: [f64; 4]) -> f64 {
    let squares = x.iter().map(|v| v * v).sum::<f64>();
    let dot = x.iter().zip(y.iter()).map(|(a, b)| a * b).sum::<f64>();
    let folded = x.iter().fold(1.0, |acc, &v| acc * (1.0 + 0.1 * v));
    let sines = y.map(f64::sin);
    let mut weighted = 0.0;
    for (i, v) in sines.iter().enumerate() {
        weighted += (i as f64 + 1.0) * v;
    }
    for v in x {
        weighted += v.tanh();
    }
    for &v in y.iter() {
        weighted -= 0.5 * v;
    }
    squares + dot * folded + weighted
}

#[test]
fn iterator_chains_closures_and_array_loops() {
    let x = [0.5, -1.0, 1.5, 0.25];
    let y = [1.0, 2.0, -0.5, 0.75];
    let (dx, dy) = iterator_idioms_grad(x, y);
    let f = |v: &[f64]| iterator_idioms([v[0], v[1], v[2], v[3]], [v[4], v[5], v[6], v[7]]);
    let point = [x, y].concat();
    assert_gradient(f, &point, &[dx, dy].concat());
    assert_eq!(
        iterator_idioms_value_and_grad(x, y).0,
        iterator_idioms(x, y)
    );
}

/// A tuple of floats is a vector output too: its upstream is a tuple.
#[differentiable]
fn polar_to_cartesian(r: f64, theta: f64) -> (f64, f64) {
    (r * theta.cos(), r * theta.sin())
}

#[test]
fn tuple_outputs_have_a_vjp_and_a_jacobian() {
    let (r, theta) = (2.0, 0.6);
    let (dr, dtheta) = polar_to_cartesian_jacobian(r, theta);
    // Row i is the gradient of output i: d(x, y)/dr = (cos, sin), d(x, y)/dθ = (-r sin, r cos).
    assert!(close(dr[0], theta.cos()) && close(dr[1], theta.sin()));
    assert!(close(dtheta[0], -r * theta.sin()) && close(dtheta[1], r * theta.cos()));
    let (vr, vtheta) = polar_to_cartesian_vjp(r, theta, (1.0, -2.0));
    assert!(close(vr, dr[0] - 2.0 * dr[1]));
    assert!(close(vtheta, dtheta[0] - 2.0 * dtheta[1]));
}

/// A slice parameter: its gradient is a `Vec` from `_grad`, or written into a caller's buffer
/// by `_grad_into` without allocating.
#[differentiable]
fn weighted_sum_of_squares(x: &[f64], weight: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += weight * x[i] * x[i];
    }
    s + x.iter().map(|v| v.sin()).sum::<f64>()
}

#[test]
fn slice_parameters_have_vec_gradients_and_an_allocation_free_form() {
    let x = vec![0.5, -1.0, 2.0, 0.25, 1.5];
    let w = 0.7;
    let (dx, dw) = weighted_sum_of_squares_grad(&x, w);
    assert_eq!(dx.len(), x.len());
    for i in 0..x.len() {
        assert!(close(dx[i], 2.0 * w * x[i] + x[i].cos()), "{dx:?}");
    }
    assert!(close(dw, x.iter().map(|v| v * v).sum::<f64>()));
    let mut buffer = vec![f64::NAN; x.len()];
    let dw_into = weighted_sum_of_squares_grad_into(&x, w, &mut buffer);
    assert_eq!((buffer, dw_into), (dx, dw));
    let (value, _) = weighted_sum_of_squares_value_and_grad(&x, w);
    assert_eq!(value, weighted_sum_of_squares(&x, w));
}

/// grad's vector helpers and elementwise activations, called from a differentiable function.
#[differentiable]
fn helpers(w: [[f64; 3]; 2], x: [f64; 3], z: [f64; 4]) -> f64 {
    let h = grad::matvec(w, x);
    let a = grad::sigmoid(h);
    let p = grad::softmax(z);
    let r = grad::leaky_relu(z, 0.1);
    grad::dot(a, [0.5, -1.5])
        + grad::sum(p) * grad::norm_sq(x)
        + grad::log_sum_exp(z)
        + grad::sum(r) * 0.25
}

#[test]
fn vector_helpers_and_elementwise_activations_through_the_macro() {
    let w = [[0.1, -0.4, 0.3], [0.8, 0.2, -0.6]];
    let x = [1.0, -0.5, 2.0];
    let z = [0.3, -1.2, 2.2, 0.7];
    let (dw, dx, dz) = helpers_grad(w, x, z);
    let f = |v: &[f64]| {
        helpers(
            [[v[0], v[1], v[2]], [v[3], v[4], v[5]]],
            [v[6], v[7], v[8]],
            [v[9], v[10], v[11], v[12]],
        )
    };
    let point = [w[0].as_slice(), &w[1], &x, &z].concat();
    let analytic = [dw[0].as_slice(), &dw[1], &dx, &dz].concat();
    assert_gradient(f, &point, &analytic);
}

#[differentiable]
fn inner_step(y: f64, k: f64) -> f64 {
    y + 0.1 * (k * y).sin()
}

/// Calls of differentiable functions inside loops and branches.
#[differentiable]
fn calls_in_control_flow(y0: f64, k: f64, n: usize) -> f64 {
    let mut y = y0;
    for i in 0..n {
        if i % 2 == 0 {
            y = inner_step(y, k);
        } else {
            y = inner_step(y, -k) * 0.9;
        }
    }
    y
}

#[test]
fn calls_inside_loops_and_branches() {
    let (dy, dk) = calls_in_control_flow_grad(0.4, 1.3, 7);
    assert_gradient(
        |v| calls_in_control_flow(v[0], v[1], 7),
        &[0.4, 1.3],
        &[dy, dk],
    );
}

/// Output i depends on input i and on x[0]: not elementwise, so the full Jacobian.
#[differentiable]
fn coupled(x: [f64; 3]) -> [f64; 3] {
    let mut y = x;
    for i in 0..3 {
        y[i] = x[i].sin() * x[0];
    }
    y
}

#[test]
fn coupled_jacobian_has_its_off_diagonal_column() {
    let x = [0.4, -0.3, 1.1];
    let j = coupled_jacobian(x);
    for i in 0..3 {
        for k in 0..3 {
            let mut want = if i == k { x[i].cos() * x[0] } else { 0.0 };
            if k == 0 {
                want += x[i].sin();
            }
            assert!(close(j[i][k], want), "J = {j:?}");
        }
    }
}

/// Loops bounded by a const generic record their tape on the stack, sized by the parameter.
#[differentiable]
fn chain<const M: usize>(w: [f64; M]) -> f64 {
    let mut y = 1.0;
    for i in 0..M {
        y = (y * w[i]).sin();
    }
    for v in w {
        y = (y + v).tanh();
    }
    w.iter().fold(y, |acc, &v| (acc * v).cos())
}

#[test]
fn const_generic_loops_with_tapes() {
    let w = [0.9, 1.2, -0.4, 0.7, 1.5];
    let dw = chain_grad(w);
    let f = |v: &[f64]| chain::<5>(v.try_into().unwrap());
    assert_gradient(f, &w, &dw);
    let w2 = [0.3, 0.8];
    assert_gradient(|v| chain::<2>(v.try_into().unwrap()), &w2, &chain_grad(w2));
}

/// In-place updates `a[i] += t` keep the element's adjoint where it is in reverse (no zeroing
/// and adding back). These cases are the ones where that is wrong, and must fall back:
/// indices that coincide at run time, an old element that is also read elsewhere, a write
/// to the array between the read and the update, and `t - a[i]`.
#[differentiable]
fn in_place_updates(x: [f64; 4], k: usize, j: usize) -> f64 {
    let mut a = [0.0; 4];
    for i in 0..4 {
        a[i] = x[i] * x[(i + 1) % 4];
    }
    for i in 0..4 {
        // `a[j]` may be `a[k]`: both updates go through the same element.
        a[k] += a[j] * x[i];
        a[j] -= 0.5 * x[i].sin();
    }
    // The old element is also used elsewhere.
    let old = a[k];
    a[k] = old + x[0];
    let mut y = old * old;
    // A write to the array between the read and the update.
    let r = a[j];
    a[k] = x[3] * x[2];
    a[j] = r + x[1];
    // The element on the right of a subtraction.
    a[k] = x[0] - a[k];
    for i in 0..4 {
        y += a[i] * a[i] * (i as f64 + 1.0);
    }
    y
}

#[test]
fn in_place_updates_against_finite_differences() {
    let x = [0.7, -0.4, 1.1, 0.3];
    for k in 0..4 {
        for j in 0..4 {
            let f = |v: &[f64]| in_place_updates(v.try_into().unwrap(), k, j);
            assert_gradient(f, &x, &in_place_updates_grad(x, k, j));
        }
    }
}

/// `(a - t) * (a - t)` written twice is one subtraction, squared.
#[differentiable]
fn repeated_subexpressions(x: [f64; 3], t: f64) -> f64 {
    let mut loss = 0.0;
    for i in 0..3 {
        let a = x[i].exp();
        loss += (a - t) * (a - t) + (a - t).sin() * x[i].exp() + -x[i] * -x[i];
    }
    loss / t + (x[0] - t).cos() * (x[0] - t).sin()
}

#[test]
fn repeated_subexpressions_against_finite_differences() {
    let x = [0.2, -0.5, 0.9];
    let t = 0.8;
    let (dx, dt) = repeated_subexpressions_grad(x, t);
    let f = |v: &[f64]| repeated_subexpressions([v[0], v[1], v[2]], v[3]);
    assert_gradient(f, &[x[0], x[1], x[2], t], &[dx[0], dx[1], dx[2], dt]);
}

/// Arrays taken by reference are read in place (a large matrix is not copied in); their
/// gradients are arrays.
#[differentiable]
fn weighted_norm(w: &[[f64; 2]; 3], x: &[f64; 2]) -> f64 {
    let mut total = 0.0;
    for i in 0..w.len() {
        let row = w[i];
        let alias = x;
        let p = row[0] * alias[0] + row[1] * x[1];
        total += p * p;
    }
    total + x.iter().map(|v| v.sin()).sum::<f64>()
}

#[differentiable]
fn through_a_call(w: &[[f64; 2]; 3], x: &[f64; 2], s: f64) -> f64 {
    s * weighted_norm(w, x)
}

/// `&a` passes a local array, or an array parameter taken by value, by reference.
#[differentiable]
fn borrowing_calls(x: [f64; 2], s: f64) -> f64 {
    let w = [[x[0] * s, x[1]], [s, x[0]], [x[1].sin(), 1.0]];
    let shifted: [f64; 2] = shift(&x, s);
    weighted_norm(&w, &x) + s * weighted_norm(&w, &shifted)
}

#[differentiable]
fn shift(v: &[f64; 2], s: f64) -> [f64; 2] {
    [v[0] + s, v[1] * s]
}

#[differentiable]
fn scaled_by_reference(v: &[f64; 3], s: f64) -> [f64; 3] {
    [v[0] * s, v[1] * v[2], s.exp()]
}

#[test]
fn array_parameters_by_reference() {
    let w = [[0.3, -0.7], [1.1, 0.4], [-0.2, 0.9]];
    let x = [0.5, -1.3];
    let flat = |v: &[f64]| -> ([[f64; 2]; 3], [f64; 2]) {
        ([[v[0], v[1]], [v[2], v[3]], [v[4], v[5]]], [v[6], v[7]])
    };
    let point = [
        w[0][0], w[0][1], w[1][0], w[1][1], w[2][0], w[2][1], x[0], x[1],
    ];
    let (dw, dx) = weighted_norm_grad(&w, &x);
    let analytic: Vec<f64> = dw.iter().flatten().chain(&dx).copied().collect();
    assert_gradient(
        |v| {
            let (w, x) = flat(v);
            weighted_norm(&w, &x)
        },
        &point,
        &analytic,
    );
    let (value, (dw2, dx2)) = weighted_norm_value_and_grad(&w, &x);
    assert_eq!(value, weighted_norm(&w, &x));
    assert_eq!((dw2, dx2), (dw, dx));

    let s = 1.7;
    let (cw, cx, cs) = through_a_call_grad(&w, &x, s);
    for i in 0..3 {
        for j in 0..2 {
            assert!(close(cw[i][j], s * dw[i][j]), "{cw:?}");
        }
    }
    assert!(close(cx[0], s * dx[0]) && close(cx[1], s * dx[1]));
    assert!(close(cs, weighted_norm(&w, &x)));

    let (bx, bs) = borrowing_calls_grad(x, s);
    assert_gradient(
        |v| borrowing_calls([v[0], v[1]], v[2]),
        &[x[0], x[1], s],
        &[bx[0], bx[1], bs],
    );

    let v = [0.4, -0.8, 1.5];
    let (jv, js) = scaled_by_reference_jacobian(&v, s);
    let want_jv = [[s, 0.0, 0.0], [0.0, v[2], v[1]], [0.0, 0.0, 0.0]];
    let want_js = [v[0], 0.0, s.exp()];
    assert_eq!(jv, want_jv);
    assert!((0..3).all(|k| close(js[k], want_js[k])), "{js:?}");
    let (pv, ps) = scaled_by_reference_vjp(&v, s, [1.0, 2.0, 3.0]);
    assert!(close(pv[0], s) && close(pv[1], 2.0 * v[2]) && close(pv[2], 2.0 * v[1]));
    assert!(close(ps, v[0] + 3.0 * s.exp()));
}

/// A parameter array that the body writes: its adjoint is the gradient entry itself, written
/// and read in place through the reverse sweep.
#[differentiable]
fn writes_its_parameter(mut x: [f64; 3], s: f64) -> [f64; 2] {
    x[0] *= s;
    x[1] += x[0] * x[2];
    x[2] = x[1].sin();
    [x[0] + x[2], x[1] * s]
}

#[test]
fn a_written_array_parameter_against_finite_differences() {
    let (x, s) = ([0.3, -1.2, 0.8], 1.4);
    let (jx, js) = writes_its_parameter_jacobian(x, s);
    for (row, (gx, gs)) in jx.iter().zip(js).enumerate() {
        let f = |v: &[f64]| writes_its_parameter([v[0], v[1], v[2]], v[3])[row];
        assert_gradient(f, &[x[0], x[1], x[2], s], &[gx[0], gx[1], gx[2], gs]);
    }
    let (vx, vs) = writes_its_parameter_vjp(x, s, [0.5, -2.0]);
    let want_x: Vec<f64> = (0..3).map(|k| 0.5 * jx[0][k] - 2.0 * jx[1][k]).collect();
    assert!(
        (0..3).all(|k| close(vx[k], want_x[k])),
        "{vx:?} vs {want_x:?}"
    );
    assert!(close(vs, 0.5 * js[0] - 2.0 * js[1]));
}

#[differentiable]
fn squared_norm(v: &[f64; 2]) -> f64 {
    v[0] * v[0] + v[1] * v[1]
}

/// The workarounds the errors for arrays written after a call or copy suggest: a copy made
/// before the writes, and inside a loop a copy built from elements, whose reads are recorded.
#[differentiable]
fn copies_before_writes(x: [f64; 2]) -> f64 {
    let mut a = [x[0], x[1]];
    let before = a;
    let mut total = squared_norm(&before);
    a[0] = 5.0 * x[1];
    for i in 0..3 {
        let current = [a[0], a[1]];
        total += squared_norm(&current) + current[0] * current[1];
        a[i % 2] = total * x[0];
    }
    total + a[0]
}

#[test]
fn copies_before_writes_against_finite_differences() {
    for x in [[0.3, 0.7], [-0.2, 0.4]] {
        let f = |v: &[f64]| copies_before_writes([v[0], v[1]]);
        assert_gradient(f, &x, &copies_before_writes_grad(x));
    }
}

/// A by-reference array copied into a local that is written (`*v`, and `v.map(..)`, which
/// the macro rewrites into a written copy).
#[differentiable]
fn copies_of_a_reference(v: &[f64; 3], s: f64) -> f64 {
    let mapped = v.map(f64::sin);
    let mut owned = *v;
    owned[1] *= s;
    owned[2] += mapped[0] * s;
    owned.iter().sum::<f64>() + mapped[2]
}

#[test]
fn copies_of_a_reference_against_finite_differences() {
    let (v, s) = ([0.4, -0.9, 1.3], 0.7);
    let (dv, ds) = copies_of_a_reference_grad(&v, s);
    let f = |p: &[f64]| copies_of_a_reference(&[p[0], p[1], p[2]], p[3]);
    assert_gradient(f, &[v[0], v[1], v[2], s], &[dv[0], dv[1], dv[2], ds]);
}

/// An `if` whose branches give different arrays, as derivative code returns its cases
/// (argmin's `bukin_n6_derivative`): the elements are merged one by one.
#[differentiable]
fn picked(x: f64, y: f64, c: bool) -> [f64; 2] {
    let base = [x * y, y];
    let v = if x > 0.5 {
        [x * x, y.sin()]
    } else if c {
        base
    } else {
        [0.0, 0.0]
    };
    [v[0] + v[1], v[1] * x]
}

fn picked_dual(x: Dual64, y: Dual64, c: bool) -> [Dual64; 2] {
    let v = if x.re > 0.5 {
        [x * x, y.sin()]
    } else if c {
        [x * y, y]
    } else {
        [Dual64::from_re(0.0), Dual64::from_re(0.0)]
    };
    [v[0] + v[1], v[1] * x]
}

#[test]
fn branches_that_give_different_arrays() {
    for (x, y, c) in [(0.9, -0.4, false), (0.2, 1.3, true), (-0.3, 0.7, false)] {
        let (jx, jy) = picked_jacobian(x, y, c);
        let dx = picked_dual(Dual64::new(x, 1.0), Dual64::from_re(y), c);
        let dy = picked_dual(Dual64::from_re(x), Dual64::new(y, 1.0), c);
        for i in 0..2 {
            assert!((jx[i] - dx[i].eps).abs() < 1e-14, "{jx:?} vs {dx:?}");
            assert!((jy[i] - dy[i].eps).abs() < 1e-14, "{jy:?} vs {dy:?}");
        }
        assert_eq!(picked(x, y, c)[0], dx[0].re);
    }
}

/// A local array filled and updated through `iter_mut()`, as Rust code writes element loops.
#[differentiable]
fn filled(x: [f64; 3], k: f64) -> f64 {
    let mut out = [0.0; 3];
    for (o, &xi) in out.iter_mut().zip(x.iter()) {
        *o = k * xi * xi;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o += i as f64 * x[i].sin();
    }
    for o in out.iter_mut() {
        *o *= 2.0;
    }
    out[0] + out[1] * out[2]
}

fn filled_dual(x: [Dual64; 3], k: Dual64) -> Dual64 {
    let out: [Dual64; 3] = std::array::from_fn(|i| (k * x[i] * x[i] + x[i].sin() * i as f64) * 2.0);
    out[0] + out[1] * out[2]
}

#[test]
fn arrays_written_through_iter_mut() {
    let (x, k) = ([0.4, -1.1, 0.7], 1.3);
    let (gx, gk) = filled_grad(x, k);
    for j in 0..3 {
        let seeded: [Dual64; 3] =
            std::array::from_fn(|i| Dual64::new(x[i], if i == j { 1.0 } else { 0.0 }));
        let d = filled_dual(seeded, Dual64::from_re(k));
        assert!((gx[j] - d.eps).abs() < 1e-13, "{gx:?} vs {}", d.eps);
    }
    let d = filled_dual(x.map(Dual64::from_re), Dual64::new(k, 1.0));
    assert!((gk - d.eps).abs() < 1e-13);
    assert_gradient(
        |p| filled([p[0], p[1], p[2]], p[3]),
        &[x[0], x[1], x[2], k],
        &[gx[0], gx[1], gx[2], gk],
    );
}
