//! Each activation's vjp against finite differences and its closed form, in f32 and f64; the
//! kink conventions; and finiteness at extreme inputs.

use super::*;
use crate::test_util::{UP, check_rule, grid};

/// σ(x) by the textbook formula, fine in f64 at the moderate points used here.
fn naive_sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn gelu_tanh_form(x: f64) -> f64 {
    let u = GELU_SCALE * (x + GELU_CUBIC * x * x * x);
    0.5 * x * (1.0 + u.tanh())
}

fn smooth_cases<T: Float>() {
    check_rule::<T, 1>(
        "sigmoid",
        &[[-30.0], [-5.0], [-1.0], [0.0], [0.5], [3.0], [20.0]],
        |[x]| sigmoid(x),
        |[x], _, up| [sigmoid_vjp(x, up)],
        |[x]| {
            let s = naive_sigmoid(x);
            [s * (1.0 - s)]
        },
    );
    check_rule::<T, 1>(
        "softplus",
        &[[-20.0], [-2.0], [0.0], [1.0], [5.0], [30.0]],
        |[x]| softplus(x),
        |[x], _, up| [softplus_vjp(x, up)],
        |[x]| [naive_sigmoid(x)],
    );
    check_rule::<T, 1>(
        "log_sigmoid",
        &[[-30.0], [-2.0], [0.0], [1.0], [5.0], [20.0]],
        |[x]| log_sigmoid(x),
        |[x], _, up| [log_sigmoid_vjp(x, up)],
        |[x]| [1.0 - naive_sigmoid(x)],
    );
    check_rule::<T, 1>(
        "swish",
        &[[-20.0], [-3.0], [-0.5], [0.0], [1.0], [4.0], [20.0]],
        |[x]| swish(x),
        |[x], _, up| [swish_vjp(x, up)],
        |[x]| {
            let s = naive_sigmoid(x);
            [s + x * s * (1.0 - s)]
        },
    );
    check_rule::<T, 1>(
        "gelu",
        &[[-6.0], [-2.0], [-0.5], [0.0], [0.3], [1.0], [3.0], [8.0]],
        |[x]| gelu(x),
        |[x], _, up| [gelu_vjp(x, up)],
        |[x]| {
            let u = GELU_SCALE * (x + GELU_CUBIC * x * x * x);
            let du = GELU_SCALE * (1.0 + 3.0 * GELU_CUBIC * x * x);
            let t = u.tanh();
            [0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du]
        },
    );
}

#[test]
fn smooth_activations_match_finite_differences() {
    smooth_cases::<f32>();
    smooth_cases::<f64>();
}

fn piecewise_cases<T: Float>() {
    let away_from_kinks = [[-3.0], [-1.5], [-0.5], [0.3], [0.7], [2.0]];
    check_rule::<T, 1>(
        "relu",
        &away_from_kinks,
        |[x]| relu(x),
        |[x], _, up| [relu_vjp(x, up)],
        |[x]| [if x > 0.0 { 1.0 } else { 0.0 }],
    );
    check_rule::<T, 1>(
        "hard_tanh",
        &away_from_kinks,
        |[x]| hard_tanh(x),
        |[x], _, up| [hard_tanh_vjp(x, up)],
        |[x]| [if x.abs() < 1.0 { 1.0 } else { 0.0 }],
    );
    check_rule::<T, 2>(
        "leaky_relu",
        &grid(&[-2.0, -0.5, 0.5, 3.0], &[0.01, 0.2, 1.5]),
        |[x, slope]| leaky_relu(x, slope),
        |[x, slope], _, up| leaky_relu_vjp(x, slope, up).into(),
        |[x, slope]| if x > 0.0 { [1.0, 0.0] } else { [slope, x] },
    );
    check_rule::<T, 2>(
        "elu",
        &grid(&[-4.0, -1.0, -0.2, 0.5, 2.0], &[0.5, 1.0, 1.7]),
        |[x, alpha]| elu(x, alpha),
        |[x, alpha], _, up| elu_vjp(x, alpha, up).into(),
        |[x, alpha]| {
            if x > 0.0 {
                [1.0, 0.0]
            } else {
                [alpha * x.exp(), x.exp_m1()]
            }
        },
    );
}

#[test]
fn piecewise_activations_match_finite_differences() {
    piecewise_cases::<f32>();
    piecewise_cases::<f64>();
}

fn kink_conventions<T: Float>() {
    let up = T::from_f64(UP);
    let zero = T::ZERO;
    let one = T::ONE;
    assert_eq!(relu_vjp(zero, up), zero);
    assert_eq!(relu_vjp(-zero, up), zero);
    assert!(relu(T::NAN).is_nan());
    assert!(relu_vjp(T::NAN, up).is_nan());
    assert_eq!(relu(T::from_f64(-2.0)), zero);

    let slope = T::from_f64(0.1);
    assert_eq!(leaky_relu_vjp(zero, slope, up), (slope * up, zero));
    assert_eq!(elu_vjp(zero, T::TWO, up), (T::TWO * up, zero));

    assert_eq!(hard_tanh_vjp(one, up), zero);
    assert_eq!(hard_tanh_vjp(-one, up), zero);
    assert_eq!(hard_tanh_vjp(T::from_f64(0.999), up), up);
    assert_eq!(hard_tanh_vjp(T::from_f64(1.5), up), zero);
    assert!(hard_tanh(T::NAN).is_nan());
    assert!(hard_tanh_vjp(T::NAN, up).is_nan());
}

#[test]
fn kinks_follow_pytorch() {
    kink_conventions::<f32>();
    kink_conventions::<f64>();
}

fn known_values<T: Float>() {
    let close = |a: T, b: f64| (crate::float::to_f64(a) - b).abs() <= 1e-6 * b.abs().max(1.0);
    assert_eq!(sigmoid(T::ZERO), T::HALF);
    assert!(close(softplus(T::ZERO), core::f64::consts::LN_2));
    assert!(close(log_sigmoid(T::ZERO), -core::f64::consts::LN_2));
    assert_eq!(gelu(T::ZERO), T::ZERO);
    assert_eq!(swish(T::ZERO), T::ZERO);
    for x in [-4.0, -1.0, -0.2, 0.4, 2.5] {
        let t = T::from_f64(x);
        assert!(close(gelu(t), gelu_tanh_form(x)), "gelu({x})");
        assert!(close(sigmoid(t), naive_sigmoid(x)), "sigmoid({x})");
        assert!(close(softplus(t), x.exp().ln_1p()), "softplus({x})");
    }
}

#[test]
fn activations_have_their_textbook_values() {
    known_values::<f32>();
    known_values::<f64>();
}

fn finite_at_extremes<T: Float>(magnitude: f64) {
    let one = T::ONE;
    for x in [-magnitude, magnitude].map(T::from_f64) {
        let values = [
            ("sigmoid", sigmoid(x)),
            ("sigmoid_vjp", sigmoid_vjp(x, one)),
            ("softplus", softplus(x)),
            ("softplus_vjp", softplus_vjp(x, one)),
            ("log_sigmoid", log_sigmoid(x)),
            ("log_sigmoid_vjp", log_sigmoid_vjp(x, one)),
            ("swish", swish(x)),
            ("swish_vjp", swish_vjp(x, one)),
            ("gelu", gelu(x)),
            ("gelu_vjp", gelu_vjp(x, one)),
            ("elu", elu(x, one)),
            ("elu_vjp.0", elu_vjp(x, one, one).0),
            ("elu_vjp.1", elu_vjp(x, one, one).1),
        ];
        for (name, v) in values {
            assert!(v.is_finite(), "{name}({x:?}) = {v:?}");
        }
    }
    let (neg, pos) = (T::from_f64(-magnitude), T::from_f64(magnitude));
    assert_eq!(sigmoid(pos), one);
    // e^(-100) is still a (subnormal) f32, so σ(-100) is tiny rather than 0.
    assert!(sigmoid(neg) >= T::ZERO && sigmoid(neg) < T::from_f64(1e-40));
    assert_eq!(softplus(pos), pos);
    assert_eq!(log_sigmoid(neg), neg);
    assert_eq!(gelu(pos), pos);
    assert_eq!(gelu_vjp(pos, one), one);
    assert_eq!(swish_vjp(pos, one), one);
}

#[test]
fn stable_at_extremes() {
    finite_at_extremes::<f32>(100.0);
    finite_at_extremes::<f64>(100.0);
    finite_at_extremes::<f64>(1000.0);
    // f32 overflows x³ inside gelu beyond about 7e12; the result must still be finite.
    finite_at_extremes::<f32>(1e20);
    finite_at_extremes::<f64>(1e200);
}
