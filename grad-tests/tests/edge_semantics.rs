//! Semantics at the edges of the float range, as the README's "Edge semantics" section states
//! them: NaN and ±∞ propagate as IEEE arithmetic says, branches not taken never poison a
//! gradient, kinks follow the documented conventions, values near overflow keep finite
//! gradients where the true gradient is finite, subnormals are neither flushed nor trapped, and
//! f32 agrees with f64. Expected values are hand-derived (or closed forms evaluated directly).

mod common;

use common::assert_gradient;
use grad::{Float, differentiable};
use num_dual::{Dual64, DualNum};

// ----- NaN and infinities ------------------------------------------------------------------

#[differentiable]
fn smooth(x: f64, y: f64) -> f64 {
    x.sin() * y + (x * y).exp()
}

#[test]
fn nan_inputs_give_nan_values_and_gradients() {
    for (x, y) in [(f64::NAN, 1.0), (1.0, f64::NAN), (f64::NAN, f64::NAN)] {
        let (value, (dx, dy)) = smooth_value_and_grad(x, y);
        assert!(value.is_nan() && dx.is_nan() && dy.is_nan(), "{x} {y}");
    }
}

#[differentiable]
fn reciprocal_forms(x: f64) -> (f64, f64) {
    (x.recip(), x.powi(-1))
}

#[differentiable]
fn reciprocal(x: f64) -> f64 {
    1.0 / x
}

#[differentiable]
fn saturating(x: f64) -> f64 {
    x.atan() + x.tanh()
}

#[differentiable]
fn exponential(x: f64) -> f64 {
    x.exp()
}

#[differentiable]
#[allow(clippy::eq_op)]
fn difference(x: f64) -> f64 {
    x - x
}

#[test]
fn infinities_follow_ieee_arithmetic() {
    // d(1/x)/dx = -1/x²: -0 at ±∞, -∞ at ±0.
    assert_eq!(reciprocal_forms_jacobian(f64::INFINITY), [0.0, 0.0]);
    assert_eq!(reciprocal_forms_jacobian(0.0), [f64::NEG_INFINITY; 2]);
    assert_eq!(
        reciprocal_value_and_grad(0.0),
        (f64::INFINITY, f64::NEG_INFINITY)
    );
    assert_eq!(reciprocal_value_and_grad(f64::NEG_INFINITY), (-0.0, -0.0));
    // atan' = 1/(1+x²) and tanh' = 1 - tanh² both vanish at ±∞.
    assert_eq!(
        saturating_value_and_grad(f64::INFINITY),
        (1.0 + std::f64::consts::FRAC_PI_2, 0.0)
    );
    assert_eq!(
        saturating_value_and_grad(f64::NEG_INFINITY),
        (-1.0 - std::f64::consts::FRAC_PI_2, 0.0)
    );
    assert_eq!(
        exponential_value_and_grad(f64::INFINITY),
        (f64::INFINITY, f64::INFINITY)
    );
    assert_eq!(exponential_value_and_grad(f64::NEG_INFINITY), (0.0, 0.0));
    // ∞ - ∞ is NaN, but the chain rule's 1 - 1 is exactly 0, as forward mode says too.
    let (value, slope) = difference_value_and_grad(f64::INFINITY);
    assert!(value.is_nan());
    assert_eq!(slope, 0.0);
    let dual = Dual64::new(f64::INFINITY, 1.0);
    assert_eq!((dual - dual).eps, slope);
}

// ----- Branches not taken ------------------------------------------------------------------

#[differentiable]
fn guarded_log(x: f64) -> f64 {
    if x > 0.0 { x.ln() } else { 0.5 * x }
}

#[differentiable]
fn pick(x: f64, y: f64) -> f64 {
    let chosen = if x > 0.0 { x * 2.0 } else { y.sqrt() };
    chosen + 1.0
}

#[differentiable]
fn guarded_loop(x: f64, n: usize) -> f64 {
    let mut s = x;
    for k in 0..n {
        if s > 100.0 {
            break;
        }
        s = s * 2.0 + (k as f64);
    }
    if s > 1e6 { (s - 1e6).ln() } else { s }
}

#[test]
fn branches_not_taken_never_poison_a_gradient() {
    // ln's derivative 1/x would be -1 at -1, and ln(-1) is NaN: neither is computed.
    assert_eq!(guarded_log_value_and_grad(-1.0), (-0.5, 0.5));
    assert_eq!(guarded_log_value_and_grad(0.0), (0.0, 0.5));
    assert_eq!(guarded_log_grad(2.0), 0.5);
    // A NaN, or a square root's infinite slope, in the arm not taken stays there.
    assert_eq!(pick_grad(1.0, f64::NAN), (2.0, 0.0));
    assert_eq!(pick_grad(1.0, 0.0), (2.0, 0.0));
    assert_eq!(pick_grad(1.0, -4.0), (2.0, 0.0));
    let (dx, dy) = pick_grad(-1.0, 4.0);
    assert_eq!((dx, dy), (0.0, 0.25));
    // The logarithm after the loop is never reached: s ≤ 1e6.
    for n in 0..12 {
        let (value, slope) = guarded_loop_value_and_grad(0.75, n);
        assert!(value.is_finite() && slope.is_finite(), "n = {n}");
        assert_gradient(|v| guarded_loop(v[0], n), &[0.75], &[slope]);
    }
}

// ----- Kinks -------------------------------------------------------------------------------

#[differentiable]
fn kinks(x: f64, y: f64) -> (f64, f64, f64, f64, f64, f64) {
    (
        grad::relu(x),
        x.abs(),
        x.max(y),
        x.sqrt(),
        x.clamp(0.0, 1.0),
        grad::hard_tanh(x),
    )
}

#[test]
fn kinks_follow_the_documented_conventions() {
    // Rows are outputs, columns (x, y); the Jacobian comes as one column per input.
    let rows = |x: f64, y: f64| {
        let (dx, dy) = kinks_jacobian(x, y);
        core::array::from_fn::<[f64; 2], 6, _>(|k| [dx[k], dy[k]])
    };
    let at_zero = rows(0.0, 0.0);
    assert_eq!(at_zero[0], [0.0, 0.0], "relu at 0");
    assert_eq!(at_zero[1], [0.0, 0.0], "abs at 0");
    assert_eq!(at_zero[2], [0.5, 0.5], "max at a tie");
    assert_eq!(at_zero[3], [f64::INFINITY, 0.0], "sqrt at 0");
    assert_eq!(at_zero[4], [1.0, 0.0], "clamp at its lower bound");
    let at_one = rows(1.0, 2.0);
    assert_eq!(at_one[4], [1.0, 0.0], "clamp at its upper bound");
    assert_eq!(at_one[5], [0.0, 0.0], "hard_tanh at 1");
    assert_eq!(rows(-1.0, 2.0)[5], [0.0, 0.0], "hard_tanh at -1");
    // A NaN argument of max: all of the gradient goes to the argument returned.
    assert_eq!(larger_grad(f64::NAN, 3.0), (0.0, 1.0));
    assert_eq!(larger_grad(3.0, f64::NAN), (1.0, 0.0));
}

#[differentiable]
fn larger(x: f64, y: f64) -> f64 {
    x.max(y)
}

#[differentiable]
#[allow(clippy::needless_range_loop)] // the index loop is the construct under test
fn running_max(z: [f64; 4]) -> f64 {
    let mut m = z[0];
    for i in 1..4 {
        m = m.max(z[i].sqrt());
    }
    m
}

#[test]
fn a_running_maximum_gives_the_values_it_passed_over_nothing() {
    // sqrt(0) has an infinite slope, and the NaNs before the first number meet each other in
    // `max`; neither reaches the gradient, since the maximum passed them over (as a branch
    // not taken).
    assert_eq!(
        running_max_grad([f64::NAN, f64::NAN, 4.0, 0.0]),
        [0.0, 0.0, 0.25, 0.0]
    );
    // While it is still NaN at the end, the NaNs are what it returns: NaN partials.
    let all_nan = running_max_grad([f64::NAN; 4]);
    assert!(all_nan.iter().all(|d| d.is_nan()), "{all_nan:?}");
    // A tie after the maximum was taken shares the gradient.
    assert_eq!(
        running_max_grad([1.0, 4.0, 2.0, 4.0]),
        [0.0, 0.125, 0.0, 0.125]
    );
}

#[differentiable]
fn root_and_line(x: f64) -> (f64, f64) {
    (x.sqrt(), 2.0 * x)
}

#[test]
fn an_infinite_slope_stays_in_its_own_row_of_a_jacobian() {
    // ∂√x/∂x = +∞ at 0 (the convention); the other output's row is not 0 · ∞ = NaN.
    assert_eq!(root_and_line_jacobian(0.0), [f64::INFINITY, 2.0]);
    assert_eq!(root_and_line_vjp(0.0, (0.0, 1.0)), 2.0);
    assert!(root_and_line_vjp(0.0, (f64::NAN, 1.0)).is_nan());
}

// ----- Near overflow -----------------------------------------------------------------------

#[differentiable]
fn stable_activations(x: f64) -> (f64, f64, f64) {
    (grad::sigmoid(x), grad::softplus(x), grad::log_sigmoid(x))
}

#[differentiable]
fn stable_activations_f32(x: f32) -> (f32, f32, f32) {
    (grad::sigmoid(x), grad::softplus(x), grad::log_sigmoid(x))
}

/// The textbook sigmoid: its value is fine far out, but its gradient there is 0 · ∞.
#[differentiable]
fn naive_sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[differentiable]
fn square_forms(x: f64) -> (f64, f64) {
    (x * x, x.powi(2))
}

#[differentiable]
fn radius(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

#[differentiable]
fn log_sum_exp_loss(z: [f64; 3]) -> f64 {
    grad::log_sum_exp(z)
}

#[test]
fn exp_stays_finite_up_to_overflow() {
    // The largest argument whose exponential is finite; its derivative is the same number.
    let x = f64::MAX.ln();
    let (value, slope) = exponential_value_and_grad(x);
    assert!(value.is_finite() && value > 1e307);
    assert_eq!(slope, value);
    let (value, slope) = exponential_value_and_grad(-745.0);
    assert!(value > 0.0 && value == slope, "{value} {slope}");
}

#[test]
fn sigmoid_softplus_and_log_sigmoid_keep_finite_gradients_far_out() {
    for x in [-1e308, -1e4, -800.0, -40.0, 40.0, 800.0, 1e4, 1e308] {
        let (values, slopes) = (stable_activations(x), stable_activations_jacobian(x));
        let (values, slopes) = ([values.0, values.1, values.2], slopes);
        assert!(
            values.iter().chain(&slopes).all(|v| v.is_finite()),
            "{x}: {values:?} {slopes:?}"
        );
        // σ' = σ(1 - σ), softplus' = σ(x), log_sigmoid' = σ(-x): each within [0, 1].
        let sigma = 1.0 / (1.0 + (-x).exp());
        assert!((slopes[1] - sigma).abs() <= 1e-15, "{x}");
        assert!((slopes[2] - (1.0 - sigma)).abs() <= 1e-15, "{x}");
        assert!((0.0..=0.25).contains(&slopes[0]), "{x}");
    }
    for x in [-1e38_f32, -200.0, -100.0, 100.0, 200.0, 1e38] {
        let slopes = stable_activations_f32_jacobian(x);
        assert!(slopes.iter().all(|v| v.is_finite()), "{x}: {slopes:?}");
    }
    // softplus(x) = x far right, 0 far left, with slopes 1 and 0.
    assert_eq!(stable_activations(800.0).1, 800.0);
    assert_eq!(stable_activations_jacobian(800.0)[1], 1.0);
    assert_eq!(stable_activations_jacobian(-800.0)[1], 0.0);
}

#[test]
fn the_textbook_sigmoid_overflows_in_its_gradient_as_ieee_says() {
    // Documented pitfall: e^800 = ∞, so the chain rule multiplies 0 by ∞. Forward-mode dual
    // numbers say the same; `grad::sigmoid` is the stable form.
    let (value, slope) = naive_sigmoid_value_and_grad(-800.0);
    assert_eq!(value, 0.0);
    assert!(slope.is_nan());
    let x = Dual64::new(-800.0, 1.0);
    let dual = ((-x).exp() + 1.0).recip();
    assert!(dual.eps.is_nan());
    assert_eq!(stable_activations_jacobian(-800.0)[0], 0.0);
    // Where e^-x is finite the two forms agree.
    let naive = naive_sigmoid_grad(-30.0);
    let stable = stable_activations_jacobian(-30.0)[0];
    assert!(
        (naive - stable).abs() <= 1e-15 * stable.abs(),
        "{naive} {stable}"
    );
}

#[test]
fn gradients_stay_finite_where_only_the_value_overflows() {
    // x² overflows at 1e200, but its derivative 2x = 2e200 does not.
    let [square, powi] = square_forms_jacobian(1e200);
    assert_eq!((square, powi), (2e200, 2e200));
    // hypot neither overflows nor underflows: ∂/∂x = x / r.
    let (dx, dy) = radius_grad(1e300, 1e300);
    assert!((dx - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
    assert!((dy - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
    let (dx, dy) = radius_grad(3e-310, 4e-310);
    assert!(
        (dx - 0.6).abs() < 1e-3 && (dy - 0.8).abs() < 1e-3,
        "{dx} {dy}"
    );
    // The softmax weights of equal huge logits.
    let g = log_sum_exp_loss_grad([1000.0, 1000.0, -1000.0]);
    assert_eq!(g, [0.5, 0.5, 0.0]);
}

// ----- Subnormals --------------------------------------------------------------------------

#[differentiable]
fn products(x: f64, y: f64) -> f64 {
    x * y + 3.0 * x
}

#[differentiable]
fn root(x: f64) -> f64 {
    x.sqrt()
}

#[differentiable]
fn products_f32(x: f32, y: f32) -> f32 {
    x * y + 3.0 * x
}

#[test]
fn subnormals_are_neither_flushed_nor_trapped() {
    let tiny: f64 = 1e-310;
    assert!(tiny.is_subnormal());
    // ∂(xy + 3x)/∂x = y + 3, ∂/∂y = x: a subnormal x comes back unchanged.
    let (dx, dy) = products_grad(tiny, 2.0);
    assert_eq!((dx, dy), (5.0, tiny));
    let (dx, dy) = products_grad(1.0, f64::from_bits(1));
    assert_eq!((dx, dy), (3.0 + f64::from_bits(1), 1.0));
    let (dx, dy) = products_grad(f64::from_bits(1), 0.5);
    assert_eq!((dx, dy), (3.5, f64::from_bits(1)));
    assert!(dy.is_subnormal());
    // sqrt' = 1 / (2 sqrt x): large but finite at the smallest subnormal.
    let slope = root_grad(f64::from_bits(1));
    assert_eq!(slope, 0.5 / f64::from_bits(1).sqrt());
    assert!(slope.is_finite());
    let tiny32 = 1e-40_f32;
    assert!(tiny32.is_subnormal());
    assert_eq!(products_f32_grad(tiny32, 2.0), (5.0, tiny32));
}

// ----- f32 against f64 ---------------------------------------------------------------------

#[differentiable]
fn model<T: Float>(x: T, y: T, w: [T; 3]) -> T {
    let mut s = 0.0;
    for (i, wi) in w.iter().enumerate() {
        let t = T::from_f64(i as f64) * 0.5;
        s += wi.tanh() * (x * t + y).sin();
    }
    let r = x.hypot(y) + (x * y).exp() / (1.0 + x * x);
    grad::softplus(s) + r.ln() + x.max(y).powi(3) - grad::sigmoid(w[0] * y)
}

#[test]
fn f32_agrees_with_f64_within_its_precision() {
    let points = [
        (0.3, -0.7, [0.1, -0.4, 1.2]),
        (-1.1, 0.6, [2.0, 0.5, -0.3]),
        (1.7, 1.2, [-1.5, 0.9, 0.05]),
    ];
    for (x, y, w) in points {
        let (v64, (gx64, gy64, gw64)) = model_value_and_grad(x, y, w);
        let w32 = w.map(|v| v as f32);
        let (v32, (gx32, gy32, gw32)) = model_value_and_grad(x as f32, y as f32, w32);
        let close = |a: f32, b: f64| {
            let error = (f64::from(a) - b).abs() / b.abs().max(1.0);
            assert!(error < 2e-5, "f32 {a} vs f64 {b} at {x} {y} {w:?}");
        };
        close(v32, v64);
        close(gx32, gx64);
        close(gy32, gy64);
        for (a, b) in gw32.into_iter().zip(gw64) {
            close(a, b);
        }
        assert_gradient(
            |v| model(v[0], v[1], [v[2], v[3], v[4]]),
            &[x, y, w[0], w[1], w[2]],
            &[gx64, gy64, gw64[0], gw64[1], gw64[2]],
        );
    }
}

#[test]
fn f32_infinities_and_nan_match_f64() {
    let (v, g) = (
        saturating_f32_value_and_grad(f32::INFINITY),
        saturating_value_and_grad(f64::INFINITY),
    );
    assert!(
        (f64::from(v.0) - g.0).abs() < 1e-6 && f64::from(v.1) == g.1,
        "{v:?} {g:?}"
    );
    let (value, slope) = saturating_f32_value_and_grad(f32::NAN);
    assert!(value.is_nan() && slope.is_nan());
}

#[differentiable]
fn saturating_f32(x: f32) -> f32 {
    x.atan() + x.tanh()
}

/// `let p;` assigned later, in branches and after them, as numerical code declares its
/// working variables (statrs's `inv_beta_reg`).
#[allow(clippy::needless_late_init)]
#[differentiable]
fn deferred(a: f64, b: f64, flip: bool) -> f64 {
    let mut p;
    let q: f64;
    if flip {
        p = b;
        q = a * a;
    } else {
        p = a;
        q = b.sin();
    }
    p = p * q + 1.0;
    let r;
    r = p.ln();
    r * q
}

#[test]
fn variables_declared_without_a_value() {
    for flip in [false, true] {
        for (a, b) in [(0.7, 1.3), (1.9, 0.4)] {
            let (ga, gb) = deferred_grad(a, b, flip);
            common::assert_gradient(|v| deferred(v[0], v[1], flip), &[a, b], &[ga, gb]);
        }
    }
    // Closed form with flip: f = ln(b a² + 1) a², df/da = 2ab a²/(b a² + 1) + 2a ln(b a² + 1).
    let (a, b) = (0.7_f64, 1.3_f64);
    let s = b * a * a + 1.0;
    let (ga, _) = deferred_grad(a, b, true);
    assert!((ga - (2.0 * a * b * a * a / s + 2.0 * a * s.ln())).abs() < 1e-13);
}

/// `(a..b).contains(&x)` and `(a..=b).contains(&x)`, as numerical code tests a domain.
#[differentiable]
fn clipped_inside(x: f64, k: f64) -> f64 {
    if (0.0..=1.0).contains(&x) {
        k * x * x
    } else if (1.0..2.0).contains(&x) {
        k * x
    } else {
        k
    }
}

#[test]
fn ranges_tested_with_contains() {
    // Inside [0, 1]: (2kx, x²); inside [1, 2): (k, x); elsewhere (0, 1).
    assert_eq!(clipped_inside_grad(0.5, 3.0), (3.0, 0.25));
    assert_eq!(clipped_inside_grad(1.0, 3.0), (6.0, 1.0));
    assert_eq!(clipped_inside_grad(1.5, 3.0), (3.0, 1.5));
    assert_eq!(clipped_inside_grad(2.0, 3.0), (0.0, 1.0));
    assert_eq!(clipped_inside_grad(-0.5, 3.0), (0.0, 1.0));
}
