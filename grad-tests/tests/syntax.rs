//! Each body construct `#[differentiable]` supports, in its own small function, with the
//! gradient checked against values derived by hand (or central finite differences); `wrt`;
//! constant parameters; composition through calls; f32 functions. Every check also requires
//! `f_value_and_grad` to return exactly `f`'s value and `f_grad`'s gradient, and `f_vjp` to
//! scale the gradient by its upstream value.

mod common;

use common::assert_gradient;
use grad::differentiable;
use std::fmt::Debug;

// ----- the harness -----

/// The upstream gradient fed to every `_vjp`: not 1, so that a missing factor is caught.
const UPSTREAM: f64 = -0.75;

/// A gradient as the companions return it: a bare float or a tuple of floats.
trait Gradient: Copy + PartialEq + Debug {
    fn entries(self) -> Vec<f64>;
}

impl Gradient for f64 {
    fn entries(self) -> Vec<f64> {
        vec![self]
    }
}

impl Gradient for f32 {
    fn entries(self) -> Vec<f64> {
        vec![self.into()]
    }
}

impl<A: Gradient, B: Gradient> Gradient for (A, B) {
    fn entries(self) -> Vec<f64> {
        [self.0.entries(), self.1.entries()].concat()
    }
}

impl<A: Gradient, B: Gradient, C: Gradient> Gradient for (A, B, C) {
    fn entries(self) -> Vec<f64> {
        [self.0.entries(), self.1.entries(), self.2.entries()].concat()
    }
}

/// `|got - want| <= tol · max(1, |want|)`.
fn close(got: f64, want: f64, tol: f64) -> bool {
    got == want || (got - want).abs() <= tol * want.abs().max(1.0)
}

/// Checks one function's companions at one point:
/// - `value_and_grad` returns exactly `f`'s value and `grad`'s gradient,
/// - `grad` matches `want` (one entry per differentiated parameter) to `tol`,
/// - `vjp` (called with `UPSTREAM`) matches `UPSTREAM × want`.
#[track_caller]
fn check_tol<V: Copy + PartialEq + Debug, G: Gradient>(
    name: &str,
    value: V,
    value_and_grad: (V, G),
    grad: G,
    vjp: G,
    want: &[f64],
    tol: f64,
) {
    assert_eq!(
        value_and_grad.0, value,
        "{name}: value_and_grad's value against f"
    );
    assert_eq!(
        value_and_grad.1, grad,
        "{name}: value_and_grad's gradient against grad"
    );
    let got = grad.entries();
    assert_eq!(got.len(), want.len(), "{name}: number of gradient entries");
    for (i, (&got, &want)) in got.iter().zip(want).enumerate() {
        assert!(
            close(got, want, tol),
            "{name}: entry {i} is {got}, expected {want}"
        );
    }
    for (i, (got, &want)) in vjp.entries().into_iter().zip(want).enumerate() {
        let want = UPSTREAM * want;
        assert!(
            close(got, want, tol),
            "{name}: vjp entry {i} is {got}, expected {want}"
        );
    }
}

/// `check_tol` with the tolerance of f64 arithmetic.
#[track_caller]
fn check<V: Copy + PartialEq + Debug, G: Gradient>(
    name: &str,
    value: V,
    value_and_grad: (V, G),
    grad: G,
    vjp: G,
    want: &[f64],
) {
    check_tol(name, value, value_and_grad, grad, vjp, want, 1e-12);
}

/// ∂f/∂xᵢ by central differences.
fn central_difference(f: impl Fn(&[f64]) -> f64, at: &[f64]) -> Vec<f64> {
    (0..at.len())
        .map(|i| {
            let h = 1e-6 * at[i].abs().max(1.0);
            let (mut above, mut below) = (at.to_vec(), at.to_vec());
            above[i] += h;
            below[i] -= h;
            (f(&above) - f(&below)) / (above[i] - below[i])
        })
        .collect()
}

/// Points where the functions below are smooth.
const POINTS: [(f64, f64); 4] = [(0.7, -1.3), (-0.4, 0.9), (1.6, 2.2), (-2.1, -0.6)];

// ----- let -----

#[differentiable]
fn let_without_type(x: f64, y: f64) -> f64 {
    let p = x * y;
    let q = p + x;
    q * q
}

#[test]
fn let_without_a_type_annotation() {
    for (x, y) in POINTS {
        let q = x * y + x;
        check(
            "let_without_type",
            let_without_type(x, y),
            let_without_type_value_and_grad(x, y),
            let_without_type_grad(x, y),
            let_without_type_vjp(x, y, UPSTREAM),
            &[2.0 * q * (y + 1.0), 2.0 * q * x],
        );
    }
}

#[differentiable]
fn let_with_type(x: f64, y: f64) -> f64 {
    let p: f64 = x * y;
    let q: f64 = p - y;
    let c: f64 = 2.5;
    q * x * c
}

#[test]
fn let_with_a_type_annotation() {
    for (x, y) in POINTS {
        // 2.5 (x² y - x y).
        check(
            "let_with_type",
            let_with_type(x, y),
            let_with_type_value_and_grad(x, y),
            let_with_type_grad(x, y),
            let_with_type_vjp(x, y, UPSTREAM),
            &[2.5 * (2.0 * x * y - y), 2.5 * (x * x - x)],
        );
    }
}

#[differentiable]
fn tuple_pattern(x: f64, y: f64) -> f64 {
    let (a, b) = (x, y * 2.0);
    a * b
}

#[test]
fn let_with_a_tuple_pattern() {
    for (x, y) in POINTS {
        check(
            "tuple_pattern",
            tuple_pattern(x, y),
            tuple_pattern_value_and_grad(x, y),
            tuple_pattern_grad(x, y),
            tuple_pattern_vjp(x, y, UPSTREAM),
            &[2.0 * y, 2.0 * x],
        );
    }
}

#[differentiable]
fn nested_typed_tuple_pattern(x: f64, y: f64) -> f64 {
    let ((a, b), c): ((f64, f64), f64) = ((x, y), 3.0);
    let (_, d) = (a, b * c);
    a * d
}

#[test]
fn let_with_a_nested_typed_tuple_pattern_and_a_wildcard() {
    for (x, y) in POINTS {
        check(
            "nested_typed_tuple_pattern",
            nested_typed_tuple_pattern(x, y),
            nested_typed_tuple_pattern_value_and_grad(x, y),
            nested_typed_tuple_pattern_grad(x, y),
            nested_typed_tuple_pattern_vjp(x, y, UPSTREAM),
            &[3.0 * y, 3.0 * x],
        );
    }
}

#[differentiable]
fn tuple_from_block(x: f64, y: f64) -> f64 {
    let (s, d) = {
        let s = x + y;
        (s, x - y)
    };
    s * d
}

#[test]
fn let_destructuring_a_tuple_built_in_a_block() {
    for (x, y) in POINTS {
        // (x + y)(x - y) = x² - y².
        check(
            "tuple_from_block",
            tuple_from_block(x, y),
            tuple_from_block_value_and_grad(x, y),
            tuple_from_block_grad(x, y),
            tuple_from_block_vjp(x, y, UPSTREAM),
            &[2.0 * x, -2.0 * y],
        );
    }
}

// ----- mutation -----

#[differentiable]
fn let_mut_reassigned(x: f64, y: f64) -> f64 {
    let mut s = x;
    s = s.sin() * y;
    s = x - s;
    s * s
}

#[test]
fn let_mut_and_reassignment() {
    for (x, y) in POINTS {
        // s = x - y sin x, f = s².
        let s = x - y * x.sin();
        check(
            "let_mut_reassigned",
            let_mut_reassigned(x, y),
            let_mut_reassigned_value_and_grad(x, y),
            let_mut_reassigned_grad(x, y),
            let_mut_reassigned_vjp(x, y, UPSTREAM),
            &[2.0 * s * (1.0 - y * x.cos()), -2.0 * s * x.sin()],
        );
    }
}

#[differentiable]
fn reassigned_parameter(mut x: f64, y: f64) -> f64 {
    x = x * y + 1.0;
    x * x
}

#[test]
fn reassigning_a_mut_parameter() {
    for (x, y) in POINTS {
        let s = x * y + 1.0;
        check(
            "reassigned_parameter",
            reassigned_parameter(x, y),
            reassigned_parameter_value_and_grad(x, y),
            reassigned_parameter_grad(x, y),
            reassigned_parameter_vjp(x, y, UPSTREAM),
            &[2.0 * s * y, 2.0 * s * x],
        );
    }
}

#[differentiable]
fn add_assign(x: f64, y: f64) -> f64 {
    let mut s = x;
    s += y * y;
    s * x
}

#[test]
fn compound_add_assign() {
    for (x, y) in POINTS {
        // x² + x y².
        check(
            "add_assign",
            add_assign(x, y),
            add_assign_value_and_grad(x, y),
            add_assign_grad(x, y),
            add_assign_vjp(x, y, UPSTREAM),
            &[2.0 * x + y * y, 2.0 * x * y],
        );
    }
}

#[differentiable]
fn sub_assign(x: f64, y: f64) -> f64 {
    let mut s = x * x;
    s -= y;
    s * y
}

#[test]
fn compound_sub_assign() {
    for (x, y) in POINTS {
        // x² y - y².
        check(
            "sub_assign",
            sub_assign(x, y),
            sub_assign_value_and_grad(x, y),
            sub_assign_grad(x, y),
            sub_assign_vjp(x, y, UPSTREAM),
            &[2.0 * x * y, x * x - 2.0 * y],
        );
    }
}

#[differentiable]
fn mul_assign(x: f64, y: f64) -> f64 {
    let mut s = x + 1.0;
    s *= y;
    s *= x;
    s
}

#[test]
fn compound_mul_assign() {
    for (x, y) in POINTS {
        // (x + 1) y x.
        check(
            "mul_assign",
            mul_assign(x, y),
            mul_assign_value_and_grad(x, y),
            mul_assign_grad(x, y),
            mul_assign_vjp(x, y, UPSTREAM),
            &[y * (2.0 * x + 1.0), x * (x + 1.0)],
        );
    }
}

#[differentiable]
fn div_assign(x: f64, y: f64) -> f64 {
    let mut s = x;
    s /= y;
    s /= 2.0;
    s * x
}

#[test]
fn compound_div_assign() {
    for (x, y) in POINTS {
        // x² / (2y).
        check(
            "div_assign",
            div_assign(x, y),
            div_assign_value_and_grad(x, y),
            div_assign_grad(x, y),
            div_assign_vjp(x, y, UPSTREAM),
            &[x / y, -x * x / (2.0 * y * y)],
        );
    }
}

#[differentiable]
fn rem_assign(x: f64, y: f64) -> f64 {
    let mut s = x;
    s %= y;
    s * 3.0
}

#[test]
fn compound_rem_assign() {
    for (x, y) in [(7.3, 2.0), (-7.3, 2.0), (7.3, -2.0), (0.5, 3.0)] {
        // 3 (x - trunc(x / y) y).
        check(
            "rem_assign",
            rem_assign(x, y),
            rem_assign_value_and_grad(x, y),
            rem_assign_grad(x, y),
            rem_assign_vjp(x, y, UPSTREAM),
            &[3.0, -3.0 * (x / y).trunc()],
        );
    }
}

#[differentiable]
fn tuple_swap(x: f64, y: f64) -> f64 {
    let (mut a, mut b) = (x, y);
    (a, b) = (b, a);
    a - 2.0 * b
}

#[test]
fn tuple_assignment_swaps() {
    for (x, y) in POINTS {
        // y - 2x.
        check(
            "tuple_swap",
            tuple_swap(x, y),
            tuple_swap_value_and_grad(x, y),
            tuple_swap_grad(x, y),
            tuple_swap_vjp(x, y, UPSTREAM),
            &[-2.0, 1.0],
        );
    }
}

#[differentiable]
fn tuple_assignment_steps(x: f64, y: f64) -> f64 {
    let (mut a, mut b) = (x, y);
    (a, b) = (b, a + b);
    (a, b) = (b, a * b);
    a + b
}

#[test]
fn tuple_assignment_reads_every_right_side_before_assigning() {
    for (x, y) in POINTS {
        // (y, x + y), then (x + y, y (x + y)): f = (x + y)(1 + y).
        check(
            "tuple_assignment_steps",
            tuple_assignment_steps(x, y),
            tuple_assignment_steps_value_and_grad(x, y),
            tuple_assignment_steps_grad(x, y),
            tuple_assignment_steps_vjp(x, y, UPSTREAM),
            &[1.0 + y, 1.0 + x + 2.0 * y],
        );
    }
}

// ----- blocks and shadowing -----

#[differentiable]
fn block_value(x: f64) -> f64 {
    let y = {
        let t = x * x;
        t + 1.0
    };
    y * x
}

#[test]
fn block_expression_as_a_value() {
    for (x, _) in POINTS {
        // x³ + x.
        check(
            "block_value",
            block_value(x),
            block_value_value_and_grad(x),
            block_value_grad(x),
            block_value_vjp(x, UPSTREAM),
            &[3.0 * x * x + 1.0],
        );
    }
}

#[differentiable]
fn block_shadows_parameter(x: f64) -> f64 {
    let y = {
        let x = x * 2.0;
        x * x
    };
    y + x
}

#[test]
fn shadowing_inside_a_block_ends_with_the_block() {
    for (x, _) in POINTS {
        // 4x² + x: after the block `x` is the parameter again.
        check(
            "block_shadows_parameter",
            block_shadows_parameter(x),
            block_shadows_parameter_value_and_grad(x),
            block_shadows_parameter_grad(x),
            block_shadows_parameter_vjp(x, UPSTREAM),
            &[8.0 * x + 1.0],
        );
    }
}

#[differentiable]
fn shadowing_lets(x: f64) -> f64 {
    let x = x * 3.0;
    let x = x.sin();
    x * 2.0
}

#[test]
fn shadowing_with_let() {
    for (x, _) in POINTS {
        check(
            "shadowing_lets",
            shadowing_lets(x),
            shadowing_lets_value_and_grad(x),
            shadowing_lets_grad(x),
            shadowing_lets_vjp(x, UPSTREAM),
            &[6.0 * (3.0 * x).cos()],
        );
    }
}

#[differentiable]
fn block_assigns_outer(x: f64) -> f64 {
    let mut a = x;
    let mut b = x;
    {
        a = a.powi(2);
        let a = 10.0 * a;
        b -= a;
    }
    a + b
}

#[test]
fn assignment_in_a_block_updates_the_outer_variable() {
    for (x, _) in POINTS {
        // a = x², the inner a = 10x² only lives in the block, b = x - 10x²: f = x - 9x².
        check(
            "block_assigns_outer",
            block_assigns_outer(x),
            block_assigns_outer_value_and_grad(x),
            block_assigns_outer_grad(x),
            block_assigns_outer_vjp(x, UPSTREAM),
            &[1.0 - 18.0 * x],
        );
    }
}

// ----- tuples, parentheses, unary minus, literals -----

#[differentiable]
fn tuple_fields(x: f64, y: f64) -> f64 {
    let t = (x * y, x + y);
    let u = ((x, 2.0), y);
    t.0 * t.1 + u.0.0 * u.0.1 * u.1
}

#[test]
fn tuple_fields_and_nested_fields() {
    for (x, y) in POINTS {
        // x y (x + y) + 2 x y.
        check(
            "tuple_fields",
            tuple_fields(x, y),
            tuple_fields_value_and_grad(x, y),
            tuple_fields_grad(x, y),
            tuple_fields_vjp(x, y, UPSTREAM),
            &[2.0 * x * y + y * y + 2.0 * y, x * x + 2.0 * x * y + 2.0 * x],
        );
    }
}

#[differentiable]
fn parentheses(x: f64, y: f64) -> f64 {
    -(x - y) * -(x + 2.0) / y
}

#[test]
fn parentheses_and_unary_minus_of_expressions() {
    for (x, y) in POINTS {
        // (x - y)(x + 2) / y.
        let p = (x - y) * (x + 2.0);
        check(
            "parentheses",
            parentheses(x, y),
            parentheses_value_and_grad(x, y),
            parentheses_grad(x, y),
            parentheses_vjp(x, y, UPSTREAM),
            &[(2.0 * x + 2.0 - y) / y, (-(x + 2.0) * y - p) / (y * y)],
        );
    }
}

#[differentiable]
fn unary_minus(x: f64) -> f64 {
    let n = -x;
    -(n * n * n) + (-2.0) * -(-x)
}

#[test]
fn unary_minus_of_variables_and_literals() {
    for (x, _) in POINTS {
        // x³ - 2x.
        check(
            "unary_minus",
            unary_minus(x),
            unary_minus_value_and_grad(x),
            unary_minus_grad(x),
            unary_minus_vjp(x, UPSTREAM),
            &[3.0 * x * x - 2.0],
        );
    }
}

#[differentiable]
fn constants_on_either_side(x: f64, y: f64) -> f64 {
    2.0 / x + y / 4.0 - (1.0 - x) * (3.0 + y) + 5.0 % y
}

#[test]
fn constant_operands_on_either_side_of_each_operator() {
    for (x, y) in POINTS {
        // 2/x + y/4 - (1 - x)(3 + y) + (5 - trunc(5/y) y).
        check(
            "constants_on_either_side",
            constants_on_either_side(x, y),
            constants_on_either_side_value_and_grad(x, y),
            constants_on_either_side_grad(x, y),
            constants_on_either_side_vjp(x, y, UPSTREAM),
            &[
                -2.0 / (x * x) + 3.0 + y,
                0.25 - (1.0 - x) - (5.0 / y).trunc(),
            ],
        );
    }
}

#[differentiable]
fn literal_forms(x: f64) -> f64 {
    x * 2. + x * 1e-3 + x * 2.0_f64 + x * 2f64 + 1_000.5 * x + 0.5e1 * x - 1E2 * x
}

#[test]
fn float_literals_in_every_form() {
    for (x, _) in POINTS {
        check(
            "literal_forms",
            literal_forms(x),
            literal_forms_value_and_grad(x),
            literal_forms_grad(x),
            literal_forms_vjp(x, UPSTREAM),
            &[2.0 + 1e-3 + 2.0 + 2.0 + 1000.5 + 5.0 - 100.0],
        );
    }
}

#[differentiable]
fn literal_forms_f32(x: f32) -> f32 {
    x * 2. + x * 1e-3 + x * 2.0_f32 + x * 2f32 + 0.25e1 * x + (-1.5f32).abs() * x
}

#[test]
fn f32_literals_in_every_form() {
    for (x, _) in POINTS {
        let x = x as f32;
        check_tol(
            "literal_forms_f32",
            literal_forms_f32(x),
            literal_forms_f32_value_and_grad(x),
            literal_forms_f32_grad(x),
            literal_forms_f32_vjp(x, UPSTREAM as f32),
            &[2.0 + 1e-3 + 2.0 + 2.0 + 2.5 + 1.5],
            1e-6,
        );
    }
}

// ----- constants -----

#[differentiable]
fn std_consts(x: f64) -> f64 {
    std::f64::consts::PI * x
        + core::f64::consts::E * x.sin()
        + f64::EPSILON * x
        + x * std::f64::consts::FRAC_PI_2.sin()
}

#[test]
fn constants_from_std_and_core() {
    use std::f64::consts::{E, PI};
    for (x, _) in POINTS {
        check(
            "std_consts",
            std_consts(x),
            std_consts_value_and_grad(x),
            std_consts_grad(x),
            std_consts_vjp(x, UPSTREAM),
            &[PI + E * x.cos() + f64::EPSILON + 1.0],
        );
    }
}

mod physics {
    pub const GRAVITY: f64 = 9.81;
}

const HALF: f64 = 0.5;

#[differentiable]
fn module_consts(x: f64) -> f64 {
    HALF * physics::GRAVITY * x * x
}

#[test]
fn module_constants() {
    for (x, _) in POINTS {
        check(
            "module_consts",
            module_consts(x),
            module_consts_value_and_grad(x),
            module_consts_grad(x),
            module_consts_vjp(x, UPSTREAM),
            &[9.81 * x],
        );
    }
}

#[differentiable]
fn local_const_items(x: f64) -> f64 {
    const SCALE: f64 = 3.0;
    const POWER: i32 = 3;
    x * SCALE + SCALE.powi(2) + x.powi(POWER)
}

#[test]
fn local_const_items_in_the_body() {
    for (x, _) in POINTS {
        check(
            "local_const_items",
            local_const_items(x),
            local_const_items_value_and_grad(x),
            local_const_items_grad(x),
            local_const_items_vjp(x, UPSTREAM),
            &[3.0 + 3.0 * x * x],
        );
    }
}

#[differentiable]
fn use_item(x: f64) -> f64 {
    use std::f64::consts::FRAC_PI_4;
    (x * FRAC_PI_4).tan()
}

#[test]
fn use_items_in_the_body() {
    use std::f64::consts::FRAC_PI_4;
    for (x, _) in POINTS {
        let c = (x * FRAC_PI_4).cos();
        check(
            "use_item",
            use_item(x),
            use_item_value_and_grad(x),
            use_item_grad(x),
            use_item_vjp(x, UPSTREAM),
            &[FRAC_PI_4 / (c * c)],
        );
    }
}

// ----- casts and integers -----

#[differentiable]
fn int_casts(x: f64, n: usize, k: i32) -> f64 {
    x * n as f64 + (k as f64) * x * x
}

#[test]
fn integer_to_float_casts() {
    for (x, _) in POINTS {
        for (n, k) in [(0, 0), (3, -2), (7, 5)] {
            check(
                "int_casts",
                int_casts(x, n, k),
                int_casts_value_and_grad(x, n, k),
                int_casts_grad(x, n, k),
                int_casts_vjp(x, n, k, UPSTREAM),
                &[n as f64 + 2.0 * f64::from(k) * x],
            );
        }
    }
}

#[differentiable]
fn integer_locals(x: f64, n: u32) -> f64 {
    let m = n * 2 + 1;
    let mut j = m;
    j += 3;
    j %= 4;
    let k = m as i32 - 2;
    x.powi(k) * (m as f64) + (j as f64) * x
}

#[test]
fn integer_locals_and_arithmetic() {
    for (x, _) in POINTS {
        for n in [1_u32, 2, 4] {
            let m = 2 * n + 1;
            let j = (m + 3) % 4;
            let k = m as i32 - 2;
            let want = f64::from(m) * f64::from(k) * x.powi(k - 1) + f64::from(j);
            check(
                "integer_locals",
                integer_locals(x, n),
                integer_locals_value_and_grad(x, n),
                integer_locals_grad(x, n),
                integer_locals_vjp(x, n, UPSTREAM),
                &[want],
            );
        }
    }
}

#[differentiable]
fn through_f32(x: f64) -> f64 {
    let s = x as f32;
    let t = s * s;
    (t as f64) * 2.0
}

#[test]
fn cast_f64_to_f32_and_back() {
    for (x, _) in POINTS {
        // 2 x², with x rounded to f32 on the way: d/dx = 4 x up to f32 precision.
        check_tol(
            "through_f32",
            through_f32(x),
            through_f32_value_and_grad(x),
            through_f32_grad(x),
            through_f32_vjp(x, UPSTREAM),
            &[4.0 * x],
            1e-6,
        );
    }
}

#[differentiable]
fn mixed_float_params(x: f64, y: f32) -> f64 {
    x * (y as f64) + (x as f32 * y) as f64
}

#[test]
fn f64_and_f32_parameters_together() {
    for (x, y) in POINTS {
        let y = y as f32;
        let yf = f64::from(y);
        // 2 x y: the entries are an f64 and an f32.
        let (dx, dy): (f64, f32) = mixed_float_params_grad(x, y);
        assert!(close(dx, 2.0 * yf, 1e-6) && close(dy.into(), 2.0 * x, 1e-6));
        check_tol(
            "mixed_float_params",
            mixed_float_params(x, y),
            mixed_float_params_value_and_grad(x, y),
            mixed_float_params_grad(x, y),
            mixed_float_params_vjp(x, y, UPSTREAM),
            &[2.0 * yf, 2.0 * x],
            1e-6,
        );
    }
}

#[differentiable]
fn f32_result_of_f64_input(x: f64) -> f32 {
    (x.sin() as f32) * 2.0
}

#[test]
fn f32_result_from_an_f64_parameter() {
    for (x, _) in POINTS {
        // The gradient is an f64 (the parameter's type), the upstream an f32 (the result's).
        let gradient: f64 = f32_result_of_f64_input_grad(x);
        assert!(close(gradient, 2.0 * x.cos(), 1e-6));
        check_tol(
            "f32_result_of_f64_input",
            f32_result_of_f64_input(x),
            f32_result_of_f64_input_value_and_grad(x),
            f32_result_of_f64_input_grad(x),
            f32_result_of_f64_input_vjp(x, UPSTREAM as f32),
            &[2.0 * x.cos()],
            1e-6,
        );
    }
}

// ----- the result -----

#[differentiable]
#[allow(clippy::needless_return)] // the final `return` is the construct under test
fn final_return(x: f64) -> f64 {
    let y = x * x;
    return y * x;
}

#[test]
fn final_return_statement() {
    for (x, _) in POINTS {
        check(
            "final_return",
            final_return(x),
            final_return_value_and_grad(x),
            final_return_grad(x),
            final_return_vjp(x, UPSTREAM),
            &[3.0 * x * x],
        );
    }
}

#[differentiable]
fn constant_result(_x: f64) -> f64 {
    2.5
}

#[test]
fn constant_result_has_zero_gradient() {
    for (x, _) in POINTS {
        check(
            "constant_result",
            constant_result(x),
            constant_result_value_and_grad(x),
            constant_result_grad(x),
            constant_result_vjp(x, UPSTREAM),
            &[0.0],
        );
        assert_eq!(constant_result_grad(x), 0.0);
    }
}

// ----- wrt -----

#[differentiable(wrt(x, z))]
fn wrt_two(x: f64, y: f64, z: f64) -> f64 {
    x * y + y * z * z
}

#[test]
fn wrt_limits_the_gradient_to_the_named_parameters() {
    for (x, y) in POINTS {
        let z = x - y;
        check(
            "wrt_two",
            wrt_two(x, y, z),
            wrt_two_value_and_grad(x, y, z),
            wrt_two_grad(x, y, z),
            wrt_two_vjp(x, y, z, UPSTREAM),
            &[y, 2.0 * y * z],
        );
    }
}

#[differentiable(wrt(y))]
fn wrt_one(x: f64, y: f64) -> f64 {
    x.sin() * y * y
}

#[test]
fn wrt_naming_one_parameter_gives_a_bare_value() {
    for (x, y) in POINTS {
        let gradient: f64 = wrt_one_grad(x, y);
        let scaled: f64 = wrt_one_vjp(x, y, UPSTREAM);
        assert!(close(scaled, UPSTREAM * gradient, 1e-15));
        check(
            "wrt_one",
            wrt_one(x, y),
            wrt_one_value_and_grad(x, y),
            gradient,
            scaled,
            &[2.0 * x.sin() * y],
        );
    }
}

#[differentiable(wrt(_x))]
fn wrt_output_independent(_x: f64, y: f64) -> f64 {
    y * y
}

#[test]
fn wrt_parameter_that_the_result_ignores_has_gradient_zero() {
    for (x, y) in POINTS {
        check(
            "wrt_output_independent",
            wrt_output_independent(x, y),
            wrt_output_independent_value_and_grad(x, y),
            wrt_output_independent_grad(x, y),
            wrt_output_independent_vjp(x, y, UPSTREAM),
            &[0.0],
        );
        assert_eq!(wrt_output_independent_grad(x, y), 0.0);
    }
}

// ----- constant parameters -----

pub struct Config {
    scale: f64,
    offset: f64,
}

#[differentiable]
fn constant_params(n: usize, x: f64, flag: bool, k: i32, cfg: &Config, y: f64) -> f64 {
    let sign = (flag as i32 * 2 - 1) as f64;
    sign * cfg.scale * x * y + (n as f64) * x + (k as f64) * y + cfg.offset
}

#[test]
fn integer_bool_and_reference_parameters_get_no_entry() {
    let cfg = Config {
        scale: 1.5,
        offset: -4.0,
    };
    for (x, y) in POINTS {
        for (n, flag, k) in [(2, true, -3), (5, false, 4)] {
            let sign = if flag { 1.0 } else { -1.0 };
            let (dx, dy) = constant_params_grad(n, x, flag, k, &cfg, y);
            let want = [sign * 1.5 * y + n as f64, sign * 1.5 * x + f64::from(k)];
            check(
                "constant_params",
                constant_params(n, x, flag, k, &cfg, y),
                constant_params_value_and_grad(n, x, flag, k, &cfg, y),
                (dx, dy),
                constant_params_vjp(n, x, flag, k, &cfg, y, UPSTREAM),
                &want,
            );
        }
    }
}

// ----- parameters the result does not depend on -----

#[differentiable]
fn ignores_y(x: f64, y: f64) -> f64 {
    let _ = y;
    x.exp()
}

#[differentiable]
fn unnamed_parameter(x: f64, _: f64) -> f64 {
    x * x
}

#[differentiable]
fn y_only_through_floor(x: f64, y: f64) -> f64 {
    x * y.floor()
}

#[test]
fn unused_parameters_have_gradient_exactly_zero() {
    for (x, y) in POINTS {
        let (dx, dy) = ignores_y_grad(x, y);
        assert_eq!(dy, 0.0);
        check(
            "ignores_y",
            ignores_y(x, y),
            ignores_y_value_and_grad(x, y),
            (dx, dy),
            ignores_y_vjp(x, y, UPSTREAM),
            &[x.exp(), 0.0],
        );

        let (dx, dy) = unnamed_parameter_grad(x, y);
        assert_eq!(dy, 0.0);
        check(
            "unnamed_parameter",
            unnamed_parameter(x, y),
            unnamed_parameter_value_and_grad(x, y),
            (dx, dy),
            unnamed_parameter_vjp(x, y, UPSTREAM),
            &[2.0 * x, 0.0],
        );

        let (dx, dy) = y_only_through_floor_grad(x, y);
        assert_eq!(dy, 0.0);
        check(
            "y_only_through_floor",
            y_only_through_floor(x, y),
            y_only_through_floor_value_and_grad(x, y),
            (dx, dy),
            y_only_through_floor_vjp(x, y, UPSTREAM),
            &[y.floor(), 0.0],
        );
    }
}

// ----- composition -----

#[differentiable]
fn square(x: f64) -> f64 {
    x * x
}

#[differentiable]
fn calls_square(x: f64, y: f64) -> f64 {
    square(x * y) + y
}

#[test]
fn calling_another_differentiable_function() {
    for (x, y) in POINTS {
        // x² y² + y.
        check(
            "calls_square",
            calls_square(x, y),
            calls_square_value_and_grad(x, y),
            calls_square_grad(x, y),
            calls_square_vjp(x, y, UPSTREAM),
            &[2.0 * x * y * y, 2.0 * x * x * y + 1.0],
        );
    }
}

#[differentiable]
fn nested_calls(x: f64) -> f64 {
    square(square(x))
}

#[test]
fn nested_calls_of_a_differentiable_function() {
    for (x, _) in POINTS {
        check(
            "nested_calls",
            nested_calls(x),
            nested_calls_value_and_grad(x),
            nested_calls_grad(x),
            nested_calls_vjp(x, UPSTREAM),
            &[4.0 * x * x * x],
        );
    }
}

mod inner {
    use grad::differentiable;

    #[differentiable]
    pub fn cube(x: f64) -> f64 {
        x * x * x
    }
}

#[differentiable]
fn calls_across_modules(x: f64) -> f64 {
    inner::cube(x.sin()) + crate::inner::cube(x) + self::inner::cube(2.0)
}

#[test]
fn calling_through_a_module_path() {
    for (x, _) in POINTS {
        // sin³ x + x³ + 8.
        let (s, c) = x.sin_cos();
        check(
            "calls_across_modules",
            calls_across_modules(x),
            calls_across_modules_value_and_grad(x),
            calls_across_modules_grad(x),
            calls_across_modules_vjp(x, UPSTREAM),
            &[3.0 * s * s * c + 3.0 * x * x],
        );
    }
}

/// Rounds in the forward pass; passes the gradient straight through in the backward pass.
fn round_ste(x: f64) -> f64 {
    x.round()
}

/// The straight-through estimator's custom derivative.
fn round_ste_vjp(_x: f64, upstream: f64) -> f64 {
    upstream
}

#[differentiable]
fn quantised_loss(w: f64, target: f64) -> f64 {
    let q = round_ste(w * 4.0) / 4.0;
    (q - target) * (q - target)
}

#[test]
fn calling_a_hand_written_vjp() {
    for (w, target) in [(0.3_f64, 0.1), (-0.7, 0.4), (1.1, -2.0)] {
        // q = round(4w) / 4, and dq/dw = 1 through the estimator.
        let q = (w * 4.0).round() / 4.0;
        check(
            "quantised_loss",
            quantised_loss(w, target),
            quantised_loss_value_and_grad(w, target),
            quantised_loss_grad(w, target),
            quantised_loss_vjp(w, target, UPSTREAM),
            &[2.0 * (q - target), -2.0 * (q - target)],
        );
    }
}

#[differentiable]
fn scaled_sum(x: f64, c: f64) -> f64 {
    x * c + c * c
}

#[differentiable]
fn calls_with_constants(x: f64) -> f64 {
    scaled_sum(x, 3.0) + scaled_sum(0.5, x) + scaled_sum(x, std::f64::consts::E)
}

#[test]
fn calling_with_a_constant_float_argument() {
    for (x, _) in POINTS {
        // 3x + 9 + 0.5x + x² + e x + e².
        check(
            "calls_with_constants",
            calls_with_constants(x),
            calls_with_constants_value_and_grad(x),
            calls_with_constants_grad(x),
            calls_with_constants_vjp(x, UPSTREAM),
            &[3.0 + 0.5 + 2.0 * x + std::f64::consts::E],
        );
    }
}

#[differentiable]
fn power(x: f64, n: i32) -> f64 {
    x.powi(n)
}

#[differentiable]
fn calls_with_integer_argument(x: f64, n: i32) -> f64 {
    power(x, n + 1) * 2.0
}

#[test]
fn calling_with_an_integer_argument() {
    for (x, _) in POINTS {
        for n in [0, 2, 3] {
            check(
                "calls_with_integer_argument",
                calls_with_integer_argument(x, n),
                calls_with_integer_argument_value_and_grad(x, n),
                calls_with_integer_argument_grad(x, n),
                calls_with_integer_argument_vjp(x, n, UPSTREAM),
                &[2.0 * f64::from(n + 1) * x.powi(n)],
            );
        }
    }
}

#[differentiable]
fn neuron(w: f64, x: f64, b: f64) -> f64 {
    let z = w.mul_add(x, b);
    grad::sigmoid(z) * grad::softplus(-z)
}

#[test]
fn composition_matches_finite_differences() {
    let f = |v: &[f64]| neuron(v[0], v[1], v[2]);
    for at in [[0.5, -1.2, 0.3], [-2.0, 0.7, 1.1], [1.3, 1.9, -0.4]] {
        let numeric = central_difference(f, &at);
        let [w, x, b] = at;
        check_tol(
            "neuron",
            neuron(w, x, b),
            neuron_value_and_grad(w, x, b),
            neuron_grad(w, x, b),
            neuron_vjp(w, x, b, UPSTREAM),
            &numeric,
            1e-7,
        );
    }
}

// ----- f32 functions -----

#[differentiable]
fn square32(x: f32) -> f32 {
    x * x
}

#[differentiable]
fn f32_everything(x: f32, y: f32) -> f32 {
    let (a, mut b) = (x * y, y);
    b *= 2.0;
    let c = { square32(a) - b };
    c + f32::sin(x) + std::f32::consts::PI * y
}

#[test]
fn f32_function_with_locals_blocks_and_a_call() {
    for (x, y) in POINTS {
        let (x, y) = (x as f32, y as f32);
        let (xf, yf) = (f64::from(x), f64::from(y));
        // x² y² - 2y + sin x + π y.
        let want = [
            2.0 * xf * yf * yf + xf.cos(),
            2.0 * xf * xf * yf - 2.0 + std::f64::consts::PI,
        ];
        check_tol(
            "f32_everything",
            f32_everything(x, y),
            f32_everything_value_and_grad(x, y),
            f32_everything_grad(x, y),
            f32_everything_vjp(x, y, UPSTREAM as f32),
            &want,
            1e-5,
        );
    }
}

// ----- regression tests for bugs found while writing these tests -----

#[differentiable]
fn annotated_f32_literal(x: f64) -> f64 {
    let c: f32 = 0.1;
    x * (c as f64)
}

#[test]
fn annotated_literal_keeps_its_type() {
    let want = f64::from(0.1_f32);
    assert_eq!(annotated_f32_literal(2.0), 2.0 * want);
    check(
        "annotated_f32_literal",
        annotated_f32_literal(2.0),
        annotated_f32_literal_value_and_grad(2.0),
        annotated_f32_literal_grad(2.0),
        annotated_f32_literal_vjp(2.0, UPSTREAM),
        &[want],
    );
}

#[differentiable]
fn cast_to_primitive_path(x: f32) -> f64 {
    (x as std::primitive::f64) * 3.0
}

// A cast to an alias (`x as Real`) is a compile error (tests/ui/cast_to_type_alias.rs): it
// used to get gradient 0 silently.
#[test]
fn cast_to_a_float_spelled_as_a_path_is_differentiated() {
    assert_eq!(cast_to_primitive_path_grad(1.0), 3.0);
}

#[differentiable]
fn compound_assign_order(x: f64) -> f64 {
    let mut a = x;
    a += {
        a = a * 2.0 + 1.0;
        a
    };
    a
}

#[test]
fn compound_assignment_evaluates_its_right_side_first() {
    // Rust: the block sets a = 2x + 1 and yields it, then a = (2x + 1) + (2x + 1) = 4x + 2.
    assert_eq!(compound_assign_order(1.0), 6.0);
    check(
        "compound_assign_order",
        compound_assign_order(1.0),
        compound_assign_order_value_and_grad(1.0),
        compound_assign_order_grad(1.0),
        compound_assign_order_vjp(1.0, UPSTREAM),
        &[4.0],
    );
}

// Regression tests for reproducers that did not compile in the first version of the macro.

#[differentiable]
fn annotated_base(x: f64) -> f64 {
    let base: f64 = 10.0;
    let n: i32 = 3;
    let k: i64 = 3_000_000_000;
    base.powf(x) + x * n.pow(2) as f64 + x * (k as f64) * 1e-9
}

#[test]
fn annotated_literals_keep_their_types() {
    let x = 0.7;
    let want = 10f64.powf(x) * 10f64.ln() + 9.0 + 3.0;
    assert!((annotated_base_grad(x) - want).abs() < 1e-12);
    assert_eq!(annotated_base_value_and_grad(x).0, annotated_base(x));
}

pub struct Cfg {
    pub s: f64,
}

#[differentiable]
fn scaled_by_config(x: f64, c: &Cfg) -> f64 {
    x * x * c.s
}

#[differentiable]
fn passes_config_on(x: f64, c: &Cfg) -> f64 {
    scaled_by_config(x, c) + 1.0
}

const SCALE: f64 = 2.0;

#[differentiable]
fn constant_receiver(x: f64) -> f64 {
    SCALE.max(x) + SCALE.min(x) * 3.0
}

#[test]
fn a_reference_parameter_can_be_passed_to_a_differentiable_callee() {
    let c = Cfg { s: 3.0 };
    assert_eq!(passes_config_on_grad(2.0, &c), 12.0);
}

#[test]
fn a_constant_receiver_with_a_float_argument_is_a_float_method() {
    // x = 1: max picks SCALE (gradient 0), min picks x (gradient 3).
    assert_eq!(constant_receiver_grad(1.0), 3.0);
    // x = 5: max picks x (gradient 1), min picks SCALE.
    assert_eq!(constant_receiver_grad(5.0), 1.0);
}

#[differentiable]
fn seven_floats(a: f64, b: f64, c: f64, d: f64, e: f64, f: f64, g: f64) -> f64 {
    a * b + c * d + e * f * g
}

#[test]
fn seven_float_parameters_pass_clippy_and_differentiate() {
    assert_eq!(
        seven_floats_grad(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0),
        (2.0, 1.0, 4.0, 3.0, 42.0, 35.0, 30.0)
    );
}

// `c * y * y` has the one-term derivative 2·(c·y); c·y read elsewhere too still gets its own.
#[differentiable]
fn scaled_squares(y: f64, z: f64) -> f64 {
    let t = 3.0 * y;
    let a = 0.5 * z * z;
    let b = y * (2.5 * y);
    let c = (y * 4.0) * y;
    a + b + c + t * y + t.sin()
}

#[test]
fn scaled_squares_match_their_derivatives() {
    for (y, z) in [(0.7, -1.3), (-2.0, 0.25), (0.0, 3.0)] {
        let (dy, dz) = scaled_squares_grad(y, z);
        let expected_dy = 2.0 * 2.5 * y + 2.0 * 4.0 * y + 2.0 * 3.0 * y + 3.0 * (3.0 * y).cos();
        assert!(
            (dy - expected_dy).abs() <= 1e-12 * expected_dy.abs().max(1.0),
            "{dy} {expected_dy}"
        );
        assert!((dz - z).abs() <= 1e-15, "{dz} {z}");
        assert_gradient(|v| scaled_squares(v[0], v[1]), &[y, z], &[dy, dz]);
    }
}

// `y * y * y` has the one-term derivative 3·(y·y); y·y read elsewhere too still gets its own.
#[differentiable]
fn cubes(y: f64, z: f64) -> f64 {
    let square = y * y;
    let cube = square * y;
    let other = z * (z * z);
    cube + other + square.sin() + (y * z) * (y * z) * (y * z)
}

#[test]
fn cubes_match_their_derivatives() {
    for (y, z) in [(0.7, -1.3), (-2.0, 0.25), (0.0, 3.0)] {
        let (dy, dz) = cubes_grad(y, z);
        let expected_dy = 3.0 * y * y + 2.0 * y * (y * y).cos() + 3.0 * (y * z).powi(2) * z;
        let expected_dz = 3.0 * z * z + 3.0 * (y * z).powi(2) * y;
        for (got, want) in [(dy, expected_dy), (dz, expected_dz)] {
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{got} {want}"
            );
        }
        assert_gradient(|v| cubes(v[0], v[1]), &[y, z], &[dy, dz]);
    }
}

// The cube of a sum of squares (`r2 * r2 * r2`, a squared distance cubed) folds the 2 of the
// squares' derivatives into the cube's 3; the same function with r2 also read elsewhere keeps
// the two steps. Both must give the same bits, and the right derivative.
#[differentiable]
fn inverse_sixth_power(dx: f64, dy: f64, dz: f64) -> f64 {
    let r2 = dx * dx - dy * dy + dz * dz;
    1.0 / (r2 * r2 * r2)
}

#[differentiable]
fn inverse_sixth_power_unfolded(dx: f64, dy: f64, dz: f64) -> f64 {
    let r2 = dx * dx - dy * dy + dz * dz;
    1.0 / (r2 * r2 * r2) + r2 * 0.0
}

#[test]
fn a_cubed_sum_of_squares_folds_its_constants_exactly() {
    let mut bits = common::xorshift(0x9e37_79b9_7f4a_7c15);
    let mut next = move || (bits() >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0;
    for _ in 0..1000 {
        let (x, y, z) = (next(), next() * 0.5, next());
        let folded = inverse_sixth_power_grad(x, y, z);
        let unfolded = inverse_sixth_power_unfolded_grad(x, y, z);
        assert_eq!(folded, unfolded, "at ({x}, {y}, {z})");
    }
    for (x, y, z) in [(0.9, 0.3, -1.1), (-1.5, 1.0, 0.4)] {
        // d(r2⁻³)/dx = -3 r2⁻⁴ · 2x, and -2y for y.
        let r2: f64 = x * x - y * y + z * z;
        let scale = -6.0 / r2.powi(4);
        let want = [scale * x, -scale * y, scale * z];
        let (gx, gy, gz) = inverse_sixth_power_grad(x, y, z);
        for (got, want) in [gx, gy, gz].into_iter().zip(want) {
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{got} {want}"
            );
        }
        assert_gradient(
            |v| inverse_sixth_power(v[0], v[1], v[2]),
            &[x, y, z],
            &[gx, gy, gz],
        );
    }
}
