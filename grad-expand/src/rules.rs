//! Which float methods grad can differentiate, and how.
//!
//! The derivative formulas themselves live in one place, `grad-runtime/src/pullback.rs`, as
//! generic functions named after the method; this table tells the macro each method's inputs
//! and which pullback (if any) to call.

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
