//! Every primitive grad differentiates, and its rule: the one home of derivative rules.
//!
//! - **Operators** (`+ - * / %`, negation, `as`): each rule is one operation, so generated
//!   code writes it inline; the table below says what each operand's adjoint receives and
//!   [`Contribution::spell`] writes it. (`%` branches, so it calls a pullback.)
//! - **Float methods** (`sin`, `powi`, `max`, ...) and grad's own scalar functions
//!   (`grad::sigmoid`): the formulas live in `grad-runtime/src/pullback.rs`, as generic
//!   functions named after the method, which any engine can call; the table here gives each
//!   one's inputs, what its rule reads and what it costs.
//! - **grad's array helpers** (`softmax`, `matvec`, the activations over arrays) are
//!   differentiated through their `_vjp` companions in grad-runtime; [`array_helper`] gives
//!   the shape of their results.
//! - **Calls of other functions** take the derivative the callee's own `#[differentiable]`
//!   gives it, `g_vjp` (`names::callee_vjp`).
//!
//! The reverse sweep applies exact algebraic shortcuts on top of the operator rules
//! (`x * x`, `c * y * y`, `y * y * y`, one division for both partials of `a / b`), in
//! `reverse/shortcuts.rs`: they give the same bits with fewer operations.
//!
//! Forward mode (`tangent.rs`) reads the same rows: an operator's tangent is written inline
//! there from the same partials, a float method's is `<name>_tangent` beside its pullback in
//! grad-runtime (the pullback's exact transpose), and second order differentiates that through
//! `<name>_tangent_vjp` (`grad-runtime/src/second_order.rs`). A new method needs all three.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};

/// An arithmetic or other binary operator, as the IR records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    /// Any operator that has no derivative (comparisons, logic, bit operations); only
    /// inactive operands reach it.
    Other,
}

/// What an operator's rule hands one operand's adjoint, given the result's adjoint `adj`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contribution {
    /// `adj`
    Upstream,
    /// `-adj`
    Negated,
    /// `adj * other`: the other operand.
    TimesOther,
    /// `adj / rhs`
    OverRhs,
    /// `-adj * out / rhs`
    NegatedOutOverRhs,
}

/// How an operator is differentiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorRule {
    /// Inline code: what the left and right operands' adjoints receive.
    Inline {
        lhs: Contribution,
        rhs: Contribution,
    },
    /// `pullback::<name>(a, b, out, adj)` returns both operands' entries.
    Pullback(&'static str),
    /// No derivative.
    None,
}

const OPERATORS: &[(BinaryOp, OperatorRule)] = {
    use Contribution::*;
    &[
        (
            BinaryOp::Add,
            OperatorRule::Inline {
                lhs: Upstream,
                rhs: Upstream,
            },
        ),
        (
            BinaryOp::Sub,
            OperatorRule::Inline {
                lhs: Upstream,
                rhs: Negated,
            },
        ),
        (
            BinaryOp::Mul,
            OperatorRule::Inline {
                lhs: TimesOther,
                rhs: TimesOther,
            },
        ),
        (
            BinaryOp::Div,
            OperatorRule::Inline {
                lhs: OverRhs,
                rhs: NegatedOutOverRhs,
            },
        ),
        (BinaryOp::Rem, OperatorRule::Pullback("rem")),
        (BinaryOp::Other, OperatorRule::None),
    ]
};

/// The rule of a binary operator.
pub fn operator(op: BinaryOp) -> OperatorRule {
    OPERATORS
        .iter()
        .find(|(row, _)| *row == op)
        .map_or(OperatorRule::None, |(_, rule)| *rule)
}

/// The rule of unary `-`.
pub const NEGATION: Contribution = Contribution::Negated;

/// The values a contribution reads besides `adj`, already spelled by the caller.
#[derive(Default)]
pub struct Operands {
    /// The other operand (for a product).
    pub other: Option<TokenStream>,
    /// The right operand (for a quotient).
    pub rhs: Option<TokenStream>,
    /// The result (for a quotient's divisor).
    pub out: Option<TokenStream>,
}

impl Contribution {
    /// Whether the contribution reads the other operand, the right operand, the result.
    pub fn reads(self) -> (bool, bool, bool) {
        match self {
            Contribution::Upstream | Contribution::Negated => (false, false, false),
            Contribution::TimesOther => (true, false, false),
            Contribution::OverRhs => (false, true, false),
            Contribution::NegatedOutOverRhs => (false, true, true),
        }
    }

    /// The contribution as code. `values` holds what [`Contribution::reads`] asks for.
    pub fn spell(self, span: Span, adj: &Ident, values: &Operands) -> TokenStream {
        let read = |value: &Option<TokenStream>| value.clone().unwrap_or_default();
        match self {
            Contribution::Upstream => quote!(#adj),
            Contribution::Negated => quote_spanned!(span=> -#adj),
            Contribution::TimesOther => {
                let other = read(&values.other);
                quote_spanned!(span=> #adj * #other)
            }
            Contribution::OverRhs => {
                let rhs = read(&values.rhs);
                quote_spanned!(span=> #adj / #rhs)
            }
            Contribution::NegatedOutOverRhs => {
                let (out, rhs) = (read(&values.out), read(&values.rhs));
                quote_spanned!(span=> -#adj * #out / #rhs)
            }
        }
    }
}

/// `x as f32` of a float: the adjoint converted back to `x`'s type.
pub fn cast_back(span: Span, adj: &Ident, source: &Ident) -> TokenStream {
    quote_spanned!(span=> #adj as #source)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Arg {
    /// An input of the method's own float type.
    Float,
    /// `powi`'s integer exponent.
    Int,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Derivative {
    /// `::grad::pullback::<name>(inputs..., out, upstream)` returns one entry per float input
    /// (the core calls it through a local alias, `names::pullback_rules`).
    Pullback,
    /// Piecewise constant: the gradient is zero everywhere it exists (floor, round, ...).
    Zero,
    /// Not a float result (`is_nan`): nothing to differentiate.
    NotFloat,
}

/// What a pullback reads besides `upstream`. The macro passes something for every parameter
/// (the signature is fixed), but only what the rule reads needs to be recomputed or taped in
/// the reverse sweep: a rule that reads only its output (`exp`) gets the output in place of
/// its input, and one that reads only its inputs (`sin`) gets its receiver in place of `out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    Inputs,
    Output,
    Both,
}

#[derive(Debug)]
pub struct MethodRule {
    pub name: &'static str,
    /// The inputs after the receiver.
    pub extra_args: &'static [Arg],
    pub derivative: Derivative,
    pub reads: Reads,
    /// Costs far more than a tape entry (a libm call, a division or a square root): inside a
    /// loop with a tape, the reverse sweep reads its result from the tape rather than
    /// computing it again.
    pub expensive: bool,
}

impl MethodRule {
    pub fn arity(&self) -> usize {
        1 + self.extra_args.len()
    }

    pub fn arg_is_float(&self, index: usize) -> bool {
        index == 0 || self.extra_args[index - 1] == Arg::Float
    }
}

macro_rules! rules {
    ($($name:ident [$($arg:ident),*] $derivative:ident $reads:ident $cost:ident;)*) => {
        const RULES: &[MethodRule] = &[$(MethodRule {
            name: stringify!($name),
            extra_args: &[$(Arg::$arg),*],
            derivative: Derivative::$derivative,
            reads: Reads::$reads,
            expensive: rules!(@cost $cost),
        }),*];
    };
    (@cost expensive) => { true };
    (@cost cheap) => { false };
}

// What each pullback in `grad-runtime/src/pullback.rs` reads is part of its rule: keep the two
// in step (`reads_match_the_pullbacks` below checks the source).
rules! {
    sin [] Pullback Inputs expensive; cos [] Pullback Inputs expensive;
    tan [] Pullback Output expensive;
    asin [] Pullback Inputs expensive; acos [] Pullback Inputs expensive;
    atan [] Pullback Inputs expensive; atan2 [Float] Pullback Inputs expensive;
    sinh [] Pullback Inputs expensive; cosh [] Pullback Inputs expensive;
    tanh [] Pullback Output expensive;
    asinh [] Pullback Inputs expensive; acosh [] Pullback Inputs expensive;
    atanh [] Pullback Inputs expensive;
    exp [] Pullback Output expensive; exp2 [] Pullback Output expensive;
    exp_m1 [] Pullback Output expensive;
    ln [] Pullback Inputs expensive; log [Float] Pullback Both expensive;
    log2 [] Pullback Inputs expensive; log10 [] Pullback Inputs expensive;
    ln_1p [] Pullback Inputs expensive;
    sqrt [] Pullback Output expensive; cbrt [] Pullback Output expensive;
    powi [Int] Pullback Both cheap; powf [Float] Pullback Both expensive;
    abs [] Pullback Inputs cheap; hypot [Float] Pullback Both expensive;
    mul_add [Float, Float] Pullback Inputs cheap; recip [] Pullback Output expensive;
    max [Float] Pullback Inputs cheap; min [Float] Pullback Inputs cheap;
    clamp [Float, Float] Pullback Inputs cheap;
    copysign [Float] Pullback Inputs cheap; to_degrees [] Pullback Inputs cheap;
    to_radians [] Pullback Inputs cheap; fract [] Pullback Inputs cheap;
    floor [] Zero Inputs cheap; ceil [] Zero Inputs cheap; round [] Zero Inputs cheap;
    trunc [] Zero Inputs cheap; signum [] Zero Inputs cheap;
    is_nan [] NotFloat Inputs cheap; is_finite [] NotFloat Inputs cheap;
    is_infinite [] NotFloat Inputs cheap;
    is_sign_negative [] NotFloat Inputs cheap; is_sign_positive [] NotFloat Inputs cheap;
    is_normal [] NotFloat Inputs cheap; is_subnormal [] NotFloat Inputs cheap;
    // grad's own activations whose derivative is cheapest from their output.
    sigmoid [] Pullback Output expensive;
}

/// grad's own scalar functions with a rule of their own, called by path (`grad::sigmoid(x)`):
/// their rows are in the method table.
const GRAD_SCALAR_FUNCTIONS: &[&str] = &["sigmoid"];

/// The rule of `grad::<name>(x)` of a float, given the call's path segments.
pub fn grad_scalar_function(segments: &[String]) -> Option<&'static MethodRule> {
    match segments {
        [krate, name] if krate == "grad" && GRAD_SCALAR_FUNCTIONS.contains(&name.as_str()) => {
            method(name)
        }
        _ => None,
    }
}

/// The shape of what one of grad's array helpers returns, from its first argument's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelperShape {
    /// `softmax(z)` and the activations applied to an array: `z`'s shape.
    SameAsFirst,
    /// `matvec(w, x)`: one element per row of `w`.
    OnePerRow,
}

/// grad's array helpers (differentiated through their `_vjp` in grad-runtime), by name.
pub fn array_helper(name: &str) -> Option<HelperShape> {
    match name {
        "softmax" | "sigmoid" | "softplus" | "log_sigmoid" | "relu" | "hard_tanh" | "swish"
        | "gelu" | "leaky_relu" | "elu" => Some(HelperShape::SameAsFirst),
        "matvec" => Some(HelperShape::OnePerRow),
        _ => None,
    }
}

pub fn method(name: &str) -> Option<&'static MethodRule> {
    RULES.iter().find(|rule| rule.name == name)
}

/// Every float method with a derivative, for error messages (grad's `sigmoid` is a function,
/// not a method).
pub fn differentiable_names() -> impl Iterator<Item = &'static str> {
    RULES
        .iter()
        .filter(|rule| rule.derivative != Derivative::NotFloat && rule.name != "sigmoid")
        .map(|rule| rule.name)
}

#[cfg(test)]
mod tests {
    use super::{Derivative, RULES, Reads};

    /// The runtime tape (`grad::tape`) has an operation for every rule with a derivative, so
    /// that the two engines differentiate the same methods with the same rules.
    #[test]
    fn the_tape_has_every_rule() {
        let tape_ops = include_str!("../../grad-runtime/src/tape/ops.rs");
        for rule in RULES
            .iter()
            .filter(|r| r.derivative != Derivative::NotFloat)
        {
            assert!(
                tape_ops.contains(&format!("=> \"{}\"", rule.name)),
                "`{}` has no operation in grad-runtime/src/tape/ops.rs",
                rule.name
            );
        }
    }

    /// Each pullback's body, as written in grad-runtime, and which of `out` and its inputs it
    /// ignores (`let _ = ...;`), agrees with the table.
    #[test]
    fn reads_match_the_pullbacks() {
        let source = include_str!("../../grad-runtime/src/pullback.rs");
        for rule in RULES
            .iter()
            .filter(|r| r.derivative == Derivative::Pullback)
        {
            let start = source
                .find(&format!("pub fn {}<", rule.name))
                .unwrap_or_else(|| panic!("no pullback for `{}`", rule.name));
            let body = &source[start..];
            let body = &body[..body.find("\n}\n").expect("the end of the function")];
            let ignores = |name: &str| {
                body.contains(&format!("let _ = {name};"))
                    || body.contains(&format!("let _ = ({name},"))
                    || body.contains(&format!(", {name});"))
            };
            let expected = match (ignores("out"), ignores("x")) {
                (true, _) => Reads::Inputs,
                (false, true) => Reads::Output,
                (false, false) => Reads::Both,
            };
            // `fract`, `to_degrees`, `to_radians` read neither, and count as `Inputs`: the
            // receiver they get in place of `out` costs nothing.
            assert!(
                rule.reads == expected,
                "`{}` reads {:?} in pullback.rs but {:?} in the table",
                rule.name,
                expected,
                rule.reads
            );
        }
    }
}
