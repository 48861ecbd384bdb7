//! Each activation's `_jvp`, in f32 and f64: exactly the transpose of its `_vjp` (on arrays at
//! finite points, kinks included, and on a bare float also at ±∞ and NaN), exactly 0 for a zero
//! tangent, and against central finite differences away from the kinks.
//!
//! An array with a NaN or infinite element is left out of the transpose check: there the
//! `_vjp` with upstream eᵢ gives NaN for the other elements (0 · NaN), while the `_jvp` keeps
//! a zero tangent exactly 0.

use super::*;
use crate::test_util::check_jvp;
use std::vec::Vec;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

/// One elementwise activation without a parameter: checked on `[T; 4]` at `ordinary` and
/// `finite` points, and on bare floats at every listed value and at ±∞ and NaN.
macro_rules! elementwise {
    ($($name:ident $jvp:ident $vjp:ident [$($o:expr),*] [$($f:expr),*];)*) => {
        fn elementwise_cases<T: Float>() {
            $(
                let ordinary: &[[f64; 4]] = &[$($o),*];
                let finite: &[[f64; 4]] = &[$($f),*];
                check_jvp::<T, 4, 4>(stringify!($name), ordinary, finite, $name, $jvp, $vjp);
                let scalars: Vec<[f64; 1]> = ordinary
                    .iter()
                    .chain(finite)
                    .flatten()
                    .chain(&[INF, -INF, NAN])
                    .map(|&v| [v])
                    .collect();
                check_jvp::<T, 1, 1>(
                    stringify!($name),
                    &[],
                    &scalars,
                    |[x]| [$name(x)],
                    |[x], [out], [dx]| [$jvp(x, out, dx)],
                    |[x], [up]| [$vjp(x, up)],
                );
            )*
        }
    };
}

elementwise! {
    sigmoid sigmoid_jvp sigmoid_vjp [[-3.0, -0.5, 0.7, 4.0], [0.0, 1.0, -2.0, 0.2]]
        [[40.0, -40.0, 800.0, -800.0]];
    softplus softplus_jvp softplus_vjp [[-3.0, -0.5, 0.7, 4.0], [0.0, 1.0, -2.0, 0.2]]
        [[40.0, -40.0, 800.0, -800.0]];
    log_sigmoid log_sigmoid_jvp log_sigmoid_vjp [[-3.0, -0.5, 0.7, 4.0], [0.0, 1.0, -2.0, 0.2]]
        [[40.0, -40.0, 800.0, -800.0]];
    relu relu_jvp relu_vjp [[-3.0, -0.5, 0.7, 4.0]] [[0.0, -0.0, 1e30, -1e30]];
    hard_tanh hard_tanh_jvp hard_tanh_vjp [[-3.0, -0.5, 0.7, 4.0]] [[1.0, -1.0, 0.0, 1e30]];
    swish swish_jvp swish_vjp [[-3.0, -0.5, 0.7, 4.0], [0.0, 1.0, -2.0, 0.2]]
        [[40.0, -40.0, 800.0, -800.0]];
    gelu gelu_jvp gelu_vjp [[-3.0, -0.5, 0.7, 4.0], [0.0, 1.0, -2.0, 0.2]]
        [[40.0, -40.0, 1e30, -1e30]];
}

#[test]
fn elementwise_jvps_are_their_vjps() {
    elementwise_cases::<f32>();
    elementwise_cases::<f64>();
}

/// An activation with a shared parameter, over `[x0, x1, x2, p]`.
fn shared_cases<T: Float>() {
    let split = |v: [T; 4]| ([v[0], v[1], v[2]], v[3]);
    let join = |(x, p): ([T; 3], T)| [x[0], x[1], x[2], p];
    check_jvp::<T, 4, 3>(
        "leaky_relu",
        &[[-2.0, 0.5, 3.0, 0.1], [1.0, -1.5, -0.2, 0.3]],
        &[
            [0.0, -0.0, 1.0, 0.1],
            [-1.0, 2.0, 0.0, 0.0],
            [-1e30, 1e30, 0.0, 0.5],
        ],
        |v| {
            let (x, p) = split(v);
            leaky_relu(x, p)
        },
        |v, out, d| {
            let ((x, p), (dx, dp)) = (split(v), split(d));
            leaky_relu_jvp(x, p, out, dx, dp)
        },
        |v, up| {
            let (x, p) = split(v);
            join(leaky_relu_vjp(x, p, up))
        },
    );
    check_jvp::<T, 4, 3>(
        "elu",
        &[[-2.0, 0.5, 3.0, 1.5], [1.0, -1.5, -0.2, 0.3]],
        &[
            [0.0, -0.0, 1.0, 1.0],
            [-800.0, 2.0, 0.0, 0.5],
            [-1e30, 1e30, 0.0, 0.0],
        ],
        |v| {
            let (x, p) = split(v);
            elu(x, p)
        },
        |v, out, d| {
            let ((x, p), (dx, dp)) = (split(v), split(d));
            elu_jvp(x, p, out, dx, dp)
        },
        |v, up| {
            let (x, p) = split(v);
            join(elu_vjp(x, p, up))
        },
    );
    // Bare floats, NaN and infinities included: [x, p].
    let scalars = [
        [0.0, 0.5],
        [-0.0, 0.5],
        [-1.0, 0.5],
        [2.0, 0.5],
        [NAN, 0.5],
        [INF, 0.5],
        [-INF, 0.5],
        [-1.0, NAN],
    ];
    check_jvp::<T, 2, 1>(
        "leaky_relu (float)",
        &[],
        &scalars,
        |[x, p]| [leaky_relu(x, p)],
        |[x, p], [out], [dx, dp]| [leaky_relu_jvp(x, p, out, dx, dp)],
        |[x, p], [up]| leaky_relu_vjp(x, p, up).into(),
    );
    check_jvp::<T, 2, 1>(
        "elu (float)",
        &[],
        &scalars,
        |[x, p]| [elu(x, p)],
        |[x, p], [out], [dx, dp]| [elu_jvp(x, p, out, dx, dp)],
        |[x, p], [up]| elu_vjp(x, p, up).into(),
    );
}

#[test]
fn shared_parameter_jvps_are_the_transposes_of_their_vjps() {
    shared_cases::<f32>();
    shared_cases::<f64>();
}

#[test]
fn jvp_spot_values() {
    // relu'(0) = 0 and hard_tanh'(±1) = 0, as the _vjps.
    assert_eq!(relu_jvp([0.0_f64, 2.0], [0.0, 2.0], [1.0, 3.0]), [0.0, 3.0]);
    assert_eq!(
        hard_tanh_jvp([1.0_f64, 0.5], [1.0, 0.5], [1.0, 3.0]),
        [0.0, 3.0]
    );
    // leaky_relu on its negative side at 0: slope · dx + x · dslope.
    assert_eq!(
        leaky_relu_jvp([0.0_f64, -2.0], 0.1, [0.0, -0.2], [1.0, 0.0], 1.0),
        [0.1, -2.0]
    );
    // sigmoid'(0) = 1/4.
    assert_eq!(sigmoid_jvp(0.0_f64, 0.5, 2.0), 0.5);
}
