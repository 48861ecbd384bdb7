//! The `Elementwise` trait, and the activations applied to arrays: `[f64; 4]`, `[f32; 8]` and
//! `[[f64; 2]; 3]` give, element by element, exactly what the scalar call gives; the shared
//! parameters of `leaky_relu` and `elu` get the sum over the elements; arrays with entries of
//! magnitude 1000 (f64) or 100 (f32) stay finite.

use super::*;
use crate::test_util::{UP, central, err, fd_tol};
use crate::*;

#[test]
fn trait_methods_keep_the_shape_and_visit_in_row_major_order() {
    assert_eq!(Elementwise::map_elements(2.0_f64, |x| x * 3.0), 6.0);
    assert_eq!(
        Elementwise::zip_map_elements(2.0_f32, 5.0, |a, b| a - b),
        -3.0
    );
    assert_eq!(
        Elementwise::fold_elements(2.0_f64, 1.0, |acc, x| acc + x),
        3.0
    );

    let m = [[1.0_f64, 2.0], [3.0, 4.0], [5.0, 6.0]];
    assert_eq!(
        m.map_elements(|x| -x),
        [[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]]
    );
    assert_eq!(m.zip_map_elements(m, |a, b| a * b)[2], [25.0, 36.0]);
    assert_eq!(m.fold_elements(0.0, |acc, x| acc + x), 21.0);
    // Row-major: a nested loop's order, seen by a closure with state.
    let mut seen = [0.0; 6];
    let mut next = 0;
    let _ = m.map_elements(|x| {
        seen[next] = x;
        next += 1;
        x
    });
    assert_eq!(seen, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let digits = m.fold_elements(0.0, |acc, x| 10.0 * acc + x);
    assert_eq!(digits, 123_456.0);

    let empty: [[f32; 3]; 0] = [];
    assert_eq!(empty.map_elements(|x| x + 1.0), empty);
    assert_eq!(empty.fold_elements(7.0, |acc, x| acc + x), 7.0);
}

/// Inputs spanning both sides of every kink, and the tails.
const XS: [f64; 8] = [-3.0, -1.0, -0.4, 0.0, 0.3, 0.9, 1.7, 5.0];
/// Upstream values, none equal to 1.
const US: [f64; 8] = [0.75, -1.5, 2.0, 0.5, -0.25, 1.25, 3.0, -2.0];

/// Asserts bitwise equality (so that NaN matches NaN).
fn same<T: Float>(what: &str, got: T, want: T) {
    assert!(
        got == want || (got.is_nan() && want.is_nan()),
        "{what}: array call gives {got:?}, scalar call {want:?}"
    );
}

/// Checks that the activation `$f` and its vjp `$vjp` act on `[f64; 4]`, `[f32; 8]` and
/// `[[f64; 2]; 3]` exactly as the scalar calls do on each element.
macro_rules! check_one_input {
    ($($f:ident $vjp:ident;)*) => {$(
        let name = stringify!($f);
        let x4: [f64; 4] = [XS[0], XS[3], XS[5], XS[7]];
        let u4: [f64; 4] = [US[0], US[3], US[5], US[7]];
        let (y, g): ([f64; 4], [f64; 4]) = ($f(x4), $vjp(x4, u4));
        for i in 0..4 {
            same(name, y[i], $f(x4[i]));
            same(stringify!($vjp), g[i], $vjp(x4[i], u4[i]));
        }

        let x8: [f32; 8] = XS.map(|x| x as f32);
        let u8: [f32; 8] = US.map(|u| u as f32);
        let (y, g): ([f32; 8], [f32; 8]) = ($f(x8), $vjp(x8, u8));
        for i in 0..8 {
            same(name, y[i], $f(x8[i]));
            same(stringify!($vjp), g[i], $vjp(x8[i], u8[i]));
        }

        let x32: [[f64; 2]; 3] = [[XS[0], XS[1]], [XS[3], XS[4]], [XS[6], XS[7]]];
        let u32: [[f64; 2]; 3] = [[US[0], US[1]], [US[3], US[4]], [US[6], US[7]]];
        let (y, g): ([[f64; 2]; 3], [[f64; 2]; 3]) = ($f(x32), $vjp(x32, u32));
        for i in 0..3 {
            for j in 0..2 {
                same(name, y[i][j], $f(x32[i][j]));
                same(stringify!($vjp), g[i][j], $vjp(x32[i][j], u32[i][j]));
            }
        }

        // NaN stays in its element.
        let with_nan = $f([1.0_f64, f64::NAN]);
        assert!(!with_nan[0].is_nan() && with_nan[1].is_nan(), "{name}: {with_nan:?}");
    )*};
}

#[test]
fn one_input_activations_act_per_element() {
    check_one_input! {
        sigmoid sigmoid_vjp;
        softplus softplus_vjp;
        log_sigmoid log_sigmoid_vjp;
        relu relu_vjp;
        hard_tanh hard_tanh_vjp;
        swish swish_vjp;
        gelu gelu_vjp;
    }
}

/// Checks that the two-input activation `$f(x, p)` and `$vjp` act per element on the same
/// shapes, with the parameter's gradient the sum (in row-major order) of the scalar ones.
macro_rules! check_two_input {
    ($($f:ident $vjp:ident $p:literal;)*) => {$(
        let name = stringify!($f);
        let vjp_name = stringify!($vjp);

        let x4: [f64; 4] = [XS[0], XS[3], XS[5], XS[7]];
        let u4: [f64; 4] = [US[0], US[3], US[5], US[7]];
        let p: f64 = $p;
        let (y, (g, g_p)): ([f64; 4], ([f64; 4], f64)) = ($f(x4, p), $vjp(x4, p, u4));
        let mut want_p = 0.0;
        for i in 0..4 {
            same(name, y[i], $f(x4[i], p));
            let (g_i, g_p_i) = $vjp(x4[i], p, u4[i]);
            same(vjp_name, g[i], g_i);
            want_p += g_p_i;
        }
        same(vjp_name, g_p, want_p);

        let x8: [f32; 8] = XS.map(|x| x as f32);
        let u8: [f32; 8] = US.map(|u| u as f32);
        let p: f32 = $p;
        let (y, (g, g_p)): ([f32; 8], ([f32; 8], f32)) = ($f(x8, p), $vjp(x8, p, u8));
        let mut want_p = 0.0;
        for i in 0..8 {
            same(name, y[i], $f(x8[i], p));
            let (g_i, g_p_i) = $vjp(x8[i], p, u8[i]);
            same(vjp_name, g[i], g_i);
            want_p += g_p_i;
        }
        same(vjp_name, g_p, want_p);

        let x32: [[f64; 2]; 3] = [[XS[0], XS[1]], [XS[3], XS[4]], [XS[6], XS[7]]];
        let u32: [[f64; 2]; 3] = [[US[0], US[1]], [US[3], US[4]], [US[6], US[7]]];
        let p: f64 = $p;
        let (y, (g, g_p)): ([[f64; 2]; 3], ([[f64; 2]; 3], f64)) =
            ($f(x32, p), $vjp(x32, p, u32));
        let mut want_p = 0.0;
        for i in 0..3 {
            for j in 0..2 {
                same(name, y[i][j], $f(x32[i][j], p));
                let (g_ij, g_p_ij) = $vjp(x32[i][j], p, u32[i][j]);
                same(vjp_name, g[i][j], g_ij);
                want_p += g_p_ij;
            }
        }
        same(vjp_name, g_p, want_p);

        // The parameter's gradient against a finite difference of ⟨u, f(x, p)⟩ in p.
        let weighted = |p: f64| -> f64 {
            let y = $f(x32, p);
            (0..3).flat_map(|i| (0..2).map(move |j| (i, j))).map(|(i, j)| u32[i][j] * y[i][j]).sum()
        };
        let numeric = central(weighted, $p);
        let g_p = $vjp(x32, $p, u32).1;
        assert!(err(g_p, numeric) <= fd_tol::<f64>(), "{vjp_name}: {g_p} vs {numeric}");
    )*};
}

#[test]
fn two_input_activations_act_per_element_and_sum_the_parameter_gradient() {
    check_two_input! {
        leaky_relu leaky_relu_vjp 0.2;
        elu elu_vjp 1.3;
    }
}

#[test]
fn hand_derived_array_values() {
    assert_eq!(
        relu([[-1.0_f64, 2.0], [0.0, -0.0]]),
        [[0.0, 2.0], [0.0, 0.0]]
    );
    assert_eq!(
        relu_vjp([-1.0_f64, 2.0, 0.0], [5.0, 6.0, 7.0]),
        [0.0, 6.0, 0.0]
    );
    assert_eq!(hard_tanh([-3.0_f32, 0.5, 2.0]), [-1.0, 0.5, 1.0]);
    assert_eq!(sigmoid([0.0_f64; 3]), [0.5; 3]);
    assert_eq!(sigmoid_vjp([0.0_f64; 2], [1.0, 2.0]), [0.25, 0.5]);
    // leaky_relu on [-2, 3] with slope 0.1 and upstream [1, 1]: ∂/∂slope = -2 + 0.
    assert_eq!(leaky_relu([-2.0_f64, 3.0], 0.5), [-1.0, 3.0]);
    assert_eq!(
        leaky_relu_vjp([-2.0_f64, 3.0], 0.5, [1.0, 1.0]),
        ([0.5, 1.0], -2.0)
    );
    // elu with alpha 2 on [0, 1]: ∂/∂x = [alpha e^0, 1], ∂/∂alpha = (e^0 - 1) + 0 = 0.
    assert_eq!(elu_vjp([0.0_f64, 1.0], 2.0, [1.0, 1.0]), ([2.0, 1.0], 0.0));
    let empty: [f64; 0] = [];
    assert_eq!(gelu(empty), empty);
    assert_eq!(leaky_relu_vjp(empty, 0.1, empty), ([], 0.0));
}

/// A generic layer over any shape, as user code would write it.
fn layer<X: Elementwise>(x: X, slope: X::Scalar) -> X {
    leaky_relu(gelu(swish(x)), slope)
}

#[test]
fn generic_code_over_elementwise_values() {
    let x = [[0.5_f64, -1.0], [2.0, -0.25]];
    let y = layer(x, 0.1);
    for i in 0..2 {
        for j in 0..2 {
            assert_eq!(y[i][j], layer(x[i][j], 0.1));
        }
    }
    // The scalar path still infers f64 for unsuffixed literals.
    let s = sigmoid(2.0);
    let _: f64 = s;
    assert_eq!(s, sigmoid(2.0_f64));
    let t = leaky_relu_vjp(-1.0, 0.5, UP);
    let _: (f64, f64) = t;
}

/// Every activation and vjp on an array holding ±magnitude, zero and moderate values: finite
/// everywhere, and saturated where it should be.
macro_rules! check_extremes {
    ($t:ty, $magnitude:expr) => {{
        let m: $t = $magnitude;
        let x: [$t; 5] = [-m, -1.0, 0.0, 1.0, m];
        let u: [$t; 5] = [1.0; 5];
        let arrays: [(&str, [$t; 5]); 18] = [
            ("sigmoid", sigmoid(x)),
            ("sigmoid_vjp", sigmoid_vjp(x, u)),
            ("softplus", softplus(x)),
            ("softplus_vjp", softplus_vjp(x, u)),
            ("log_sigmoid", log_sigmoid(x)),
            ("log_sigmoid_vjp", log_sigmoid_vjp(x, u)),
            ("relu", relu(x)),
            ("relu_vjp", relu_vjp(x, u)),
            ("hard_tanh", hard_tanh(x)),
            ("hard_tanh_vjp", hard_tanh_vjp(x, u)),
            ("swish", swish(x)),
            ("swish_vjp", swish_vjp(x, u)),
            ("gelu", gelu(x)),
            ("gelu_vjp", gelu_vjp(x, u)),
            ("leaky_relu", leaky_relu(x, 0.1)),
            ("leaky_relu_vjp", leaky_relu_vjp(x, 0.1, u).0),
            ("elu", elu(x, 1.0)),
            ("elu_vjp", elu_vjp(x, 1.0, u).0),
        ];
        for (name, values) in arrays {
            assert!(
                values.iter().all(|v| v.is_finite()),
                "{name} at ±{m}: {values:?}"
            );
        }
        assert!(leaky_relu_vjp(x, 0.1, u).1.is_finite());
        assert!(elu_vjp(x, 1.0, u).1.is_finite());
        assert_eq!(sigmoid(x)[4], 1.0);
        assert_eq!(softplus(x)[4], m);
        assert_eq!(log_sigmoid(x)[0], -m);
        assert_eq!(gelu(x)[4], m);
        assert_eq!(gelu_vjp(x, u)[4], 1.0);
        assert_eq!(swish_vjp(x, u)[4], 1.0);
        // σ'(100) is still a (subnormal) f32.
        let tail = sigmoid_vjp(x, u)[4];
        assert!((0.0..1e-40).contains(&tail), "{tail:?}");
    }};
}

#[test]
fn arrays_stay_finite_at_extremes() {
    check_extremes!(f64, 1000.0);
    check_extremes!(f32, 100.0);
    check_extremes!(f64, 100.0);
}
