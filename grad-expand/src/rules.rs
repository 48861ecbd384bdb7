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
    /// `::grad::pullback::<name>(inputs..., out, upstream)` returns one entry per float input.
    Pullback,
    /// Piecewise constant: the gradient is zero everywhere it exists (floor, round, ...).
    Zero,
    /// Not a float result (`is_nan`): nothing to differentiate.
    NotFloat,
}

#[derive(Debug)]
pub struct MethodRule {
    pub name: &'static str,
    /// The inputs after the receiver.
    pub extra_args: &'static [Arg],
    pub derivative: Derivative,
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
    ($($name:ident [$($arg:ident),*] $derivative:ident;)*) => {
        const RULES: &[MethodRule] = &[$(MethodRule {
            name: stringify!($name),
            extra_args: &[$(Arg::$arg),*],
            derivative: Derivative::$derivative,
        }),*];
    };
}

rules! {
    sin [] Pullback; cos [] Pullback; tan [] Pullback;
    asin [] Pullback; acos [] Pullback; atan [] Pullback; atan2 [Float] Pullback;
    sinh [] Pullback; cosh [] Pullback; tanh [] Pullback;
    asinh [] Pullback; acosh [] Pullback; atanh [] Pullback;
    exp [] Pullback; exp2 [] Pullback; exp_m1 [] Pullback;
    ln [] Pullback; log [Float] Pullback; log2 [] Pullback; log10 [] Pullback; ln_1p [] Pullback;
    sqrt [] Pullback; cbrt [] Pullback; powi [Int] Pullback; powf [Float] Pullback;
    abs [] Pullback; hypot [Float] Pullback; mul_add [Float, Float] Pullback; recip [] Pullback;
    max [Float] Pullback; min [Float] Pullback; clamp [Float, Float] Pullback;
    copysign [Float] Pullback; to_degrees [] Pullback; to_radians [] Pullback; fract [] Pullback;
    floor [] Zero; ceil [] Zero; round [] Zero; trunc [] Zero; signum [] Zero;
    is_nan [] NotFloat; is_finite [] NotFloat; is_infinite [] NotFloat;
    is_sign_negative [] NotFloat; is_sign_positive [] NotFloat; is_normal [] NotFloat;
    is_subnormal [] NotFloat;
    // grad's own activations whose derivative is cheapest from their output.
    sigmoid [] Pullback;
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
