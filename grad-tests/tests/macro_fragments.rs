//! Functions written by a `macro_rules!` macro: an expression it passes in (`$e:expr`) is one
//! operand wherever the macro puts it (`$e * y`), and the function the attribute emits must
//! compute what the same function without the attribute computes. It did not: syn prints such
//! a fragment back as a group without delimiters, which rustc does not group, so `$e * y` with
//! `$e = x - a * x * x` became `x - a * x * x * y` (`grad-expand/src/groups.rs`).

use grad::differentiable;

macro_rules! both {
    ($plain:ident, $grad:ident: |$x:ident, $y:ident| $body:expr) => {
        fn $plain($x: f64, $y: f64) -> f64 {
            $body
        }

        #[differentiable]
        fn $grad($x: f64, $y: f64) -> f64 {
            $body
        }
    };
}

macro_rules! operands {
    (|$x:ident, $y:ident| $e:expr) => {
        both!(times_plain, times: |$x, $y| $e * $y);
        both!(negated_plain, negated: |$x, $y| -$e + $y);
        both!(divided_plain, divided: |$x, $y| $y / $e);
        both!(method_plain, method: |$x, $y| $e.sin() * $y);
        both!(cast_plain, cast: |$x, $y| $e as f64 - $y);
        both!(parenthesized_plain, parenthesized: |$x, $y| ($e) * $y);
    };
}

operands!(|x, y| x - 0.8 * x * x);

macro_rules! sum_of_map {
    (|$x:ident| $e:expr) => {
        fn zipped_plain(v: &[f64], w: &[f64]) -> f64 {
            v.iter().zip(w).map(|(&$x, &y)| $e * y).sum()
        }

        #[differentiable(wrt(v))]
        fn zipped(v: &[f64], w: &[f64]) -> f64 {
            v.iter().zip(w).map(|(&$x, &y)| $e * y).sum()
        }
    };
}

sum_of_map!(|x| x + 0.5 - x.sin() * 2.0);

macro_rules! in_a_block {
    (|$x:ident| $e:expr, $c:expr) => {
        struct Scaled(f64);

        #[differentiable]
        impl Scaled {
            /// Left as written by the block (it takes no float), and emitted through syn all
            /// the same.
            fn factor(&self) -> f64 {
                $c * self.0
            }

            fn apply(&self, $x: f64) -> f64 {
                $e * self.0 + $x
            }
        }
    };
}

in_a_block!(|x| x - 0.25 * x * x, 1.0 - 0.5);

fn check(
    name: &str,
    plain: fn(f64, f64) -> f64,
    grad: fn(f64, f64) -> f64,
    gradient: fn(f64, f64) -> (f64, f64),
) {
    for (x, y) in [(1.2, 0.9), (-0.7, 1.6), (0.3, -2.1)] {
        assert_eq!(
            grad(x, y).to_bits(),
            plain(x, y).to_bits(),
            "{name} at ({x}, {y})"
        );
        let h = 1e-6;
        let dx = (plain(x + h, y) - plain(x - h, y)) / (2.0 * h);
        let dy = (plain(x, y + h) - plain(x, y - h)) / (2.0 * h);
        let (gx, gy) = gradient(x, y);
        assert!(
            (gx - dx).abs() <= 1e-6 * (1.0 + dx.abs()),
            "{name} ∂/∂x: {gx} vs {dx}"
        );
        assert!(
            (gy - dy).abs() <= 1e-6 * (1.0 + dy.abs()),
            "{name} ∂/∂y: {gy} vs {dy}"
        );
    }
}

#[test]
fn a_fragment_is_one_operand_in_the_emitted_function() {
    check("times", times_plain, times, times_grad);
    check("negated", negated_plain, negated, negated_grad);
    check("divided", divided_plain, divided, divided_grad);
    check("method", method_plain, method, method_grad);
    check("cast", cast_plain, cast, cast_grad);
    check(
        "parenthesized",
        parenthesized_plain,
        parenthesized,
        parenthesized_grad,
    );
}

#[test]
fn a_fragment_in_a_closure_of_a_sum_of_maps() {
    let (v, w) = (vec![1.2, 0.4, -0.3], vec![0.9, 1.1]);
    assert_eq!(zipped(&v, &w).to_bits(), zipped_plain(&v, &w).to_bits());
    let g = zipped_grad(&v, &w);
    for i in 0..v.len() {
        let h = 1e-6;
        let (mut up, mut down) = (v.clone(), v.clone());
        up[i] += h;
        down[i] -= h;
        let expected = (zipped_plain(&up, &w) - zipped_plain(&down, &w)) / (2.0 * h);
        assert!(
            (g[i] - expected).abs() <= 1e-6 * (1.0 + expected.abs()),
            "{i}: {} vs {expected}",
            g[i]
        );
    }
}

#[test]
fn a_fragment_in_an_impl_block() {
    let s = Scaled(1.5);
    assert_eq!(s.factor(), (1.0 - 0.5) * 1.5);
    for x in [0.8, -1.3] {
        assert_eq!(
            s.apply(x).to_bits(),
            ((x - 0.25 * x * x) * 1.5 + x).to_bits()
        );
        let expected = (1.0 - 0.5 * x) * 1.5 + 1.0;
        assert!((s.apply_grad(x) - expected).abs() < 1e-12, "{x}");
    }
}

macro_rules! nested_item {
    (|$x:ident| $e:expr) => {
        #[differentiable]
        fn with_a_nested_constant($x: f64) -> f64 {
            const SCALE: f64 = $e * 2.0;
            $x * SCALE
        }
    };
}

nested_item!(|x| 1.0 - 0.5);

#[test]
fn a_fragment_in_an_item_inside_the_function() {
    assert_eq!(with_a_nested_constant(3.0), 3.0 * (1.0 - 0.5) * 2.0);
    assert_eq!(with_a_nested_constant_grad(3.0), (1.0 - 0.5) * 2.0);
}
