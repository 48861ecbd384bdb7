use super::*;
use alloc::vec;
use std::format;
use std::string::ToString;

/// x0² x1 + sin x2.
fn f(x: &[f64]) -> f64 {
    x[0] * x[0] * x[1] + x[2].sin()
}

fn grad_f(x: &[f64]) -> Vec<f64> {
    vec![2.0 * x[0] * x[1], x[0] * x[0], x[2].cos()]
}

#[test]
fn accepts_a_right_gradient() {
    for x in [
        [1.5, -2.0, 0.3],
        [0.0, 0.0, 0.0],
        [-4.0, 30.0, 12.0],
        [1e-4, 2.0, -1.0],
    ] {
        let check = check_gradient(f, &x, &grad_f(&x));
        assert!(check.passes(1e-7), "{check}");
        assert_eq!(check.coords.len(), 3);
        for (i, coord) in check.coords.iter().enumerate() {
            assert_eq!(coord.index, i);
            assert!(coord.step > 0.0);
        }
    }
}

#[test]
fn catches_a_wrong_gradient() {
    let x = [1.5, -2.0, 0.3];
    let mut wrong = grad_f(&x);
    // A classic slip: d/dx0 of x0² x1 written as x0 x1.
    wrong[0] = x[0] * x[1];
    let check = check_gradient(f, &x, &wrong);
    assert!(!check.passes(1e-6), "{check}");
    let worst = check.worst().unwrap();
    assert_eq!(worst.index, 0);
    assert!(check.max_error() > 0.4, "{check}");
    assert!(check.coords[1].error < 1e-8 && check.coords[2].error < 1e-8);
}

#[test]
fn error_is_absolute_when_small_and_relative_when_large() {
    let small = check_gradient(|x| 1e-3 * x[0], &[1.0], &[0.0]);
    assert!((small.max_error() - 1e-3).abs() < 1e-9);
    let large = check_gradient(|x| 1e6 * x[0], &[1.0], &[1.01e6]);
    assert!((large.max_error() - 0.01 / 1.01).abs() < 1e-6);
}

#[test]
fn nan_fails_the_check() {
    let x = [1.5, -2.0, 0.3];
    let mut analytic = grad_f(&x);
    analytic[1] = f64::NAN;
    let check = check_gradient(f, &x, &analytic);
    assert!(check.coords[1].error.is_nan());
    assert!(!check.passes(1e-6));
    assert!(!check.passes(f64::INFINITY));
    assert!(check.max_error().is_nan());
    assert_eq!(check.worst().unwrap().index, 1);

    // A function that is NaN at the point fails even with a "right" gradient.
    let check = check_gradient(|x| x[0].sqrt(), &[-1.0], &[0.5]);
    assert!(check.coords[0].numeric.is_nan());
    assert!(!check.passes(1.0));
}

#[test]
fn nan_is_worst_wherever_it_is() {
    let coord = |index, error| CoordinateCheck {
        index,
        analytic: 0.0,
        numeric: 0.0,
        step: 1e-6,
        error,
    };
    for nan_at in 0..3 {
        let coords = (0..3)
            .map(|i| coord(i, if i == nan_at { f64::NAN } else { i as f64 }))
            .collect();
        let check = GradientCheck { coords };
        assert_eq!(check.worst().unwrap().index, nan_at);
    }
}

#[test]
fn empty_input() {
    let check = check_gradient(|_| 1.0, &[], &[]);
    assert!(check.worst().is_none());
    assert_eq!(check.max_error(), 0.0);
    assert!(check.passes(0.0));
    assert!(check.to_string().contains("no coordinates"));
    assert!(central_difference(|_| 1.0, &[]).is_empty());
}

#[test]
#[should_panic(expected = "check_gradient")]
fn panics_on_length_mismatch() {
    check_gradient(f, &[1.0, 2.0, 3.0], &[1.0, 2.0]);
}

#[test]
fn steps_are_scaled_and_representable() {
    let x = [0.0, 0.1, 3.0, -1e8];
    // The last coordinate is left out of f: with f near 1e8 the rounding noise of the
    // difference would swamp the others.
    let check = check_gradient(|x| x[0] + x[1] + x[2], &x, &[1.0, 1.0, 1.0, 0.0]);
    let cbrt_eps = f64::EPSILON.cbrt();
    for (coord, &xi) in check.coords.iter().zip(&x) {
        let nominal = cbrt_eps * xi.abs().max(1.0);
        assert!((coord.step - nominal).abs() <= nominal * 1e-8, "{coord:?}");
        assert_eq!((xi + coord.step) - xi, coord.step);
    }
    assert!(check.passes(1e-9), "{check}");
}

#[test]
fn central_difference_matches_the_gradient() {
    let x = [0.7, -1.3, 2.1];
    let numeric = central_difference(f, &x);
    for (n, a) in numeric.iter().zip(grad_f(&x)) {
        assert!((n - a).abs() < 1e-8, "{n} vs {a}");
    }
    // The point is left as it was between coordinates.
    let numeric = central_difference(|x| x[0] * x[1], &[2.0, 5.0]);
    assert!((numeric[0] - 5.0).abs() < 1e-8 && (numeric[1] - 2.0).abs() < 1e-8);
}

#[test]
fn display_is_a_table_then_the_worst() {
    let x = [1.5, -2.0, 0.3];
    let mut wrong = grad_f(&x);
    wrong[2] += 1.0;
    let text = format!("{}", check_gradient(f, &x, &wrong));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].contains("analytic") && lines[0].contains("numeric"));
    assert!(lines[0].contains("error"));
    assert!(lines[3].trim_start().starts_with('2'));
    assert!(lines[4].starts_with("worst: index 2"), "{text}");
}
