//! What each operation of the tape computes and how it sends its gradient back: one table
//! for the runtime engine, whose rules are the functions the macro's generated code calls
//! (`pullback::<name>`, the activations' `_vjp`, the vector helpers' kernels). An operation
//! of one, two or three floats applies to every element of a vector alike; the Jacobians of
//! such operations are diagonal and never built.

use crate::{Float, pullback};

/// The operation a node records: the notes' `BackwardFunction`, holding what its derivative
/// needs besides the values of its inputs and its output, which the tape keeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op<T> {
    /// A leaf: a constant, or a value that accumulates its gradient.
    Leaf,
    /// One float in, one out, element by element.
    Unary(Unary<T>),
    /// Two floats in, one out, element by element; a scalar operand is broadcast.
    Binary(Binary),
    /// Three floats in, one out, element by element; scalar operands are broadcast.
    Ternary(Ternary),
    /// Σᵢ xᵢ.
    Sum,
    /// Σᵢ aᵢ bᵢ.
    Dot,
    /// Σᵢ xᵢ².
    NormSq,
    /// softmax(z), through the kernel of `grad::softmax`.
    Softmax,
    /// log Σᵢ e^(zᵢ), through the kernel of `grad::log_sum_exp`.
    LogSumExp,
    /// W · x of a row-major matrix of `cols` columns.
    MatVec { cols: u32 },
    /// Element `i` of a vector.
    Index(u32),
    /// Scalars gathered into a vector: their ids are `Arena::stacked[first..first + len]`.
    Stack { first: u32 },
}

impl<T> Op<T> {
    /// How many of a node's fixed `inputs` the operation reads (`Stack` reads its own list).
    pub(crate) fn arity(&self) -> usize {
        match self {
            Op::Leaf | Op::Stack { .. } => 0,
            Op::Unary(_) | Op::Sum | Op::NormSq | Op::Softmax | Op::LogSumExp | Op::Index(_) => 1,
            Op::Binary(_) | Op::Dot | Op::MatVec { .. } => 2,
            Op::Ternary(_) => 3,
        }
    }
}

macro_rules! unary_ops {
    ($($variant:ident $(($data:ty))? => $label:literal),* $(,)?) => {
        /// The operations of one float: every float method of the macro's rule table and every
        /// activation.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub(crate) enum Unary<T> {
            $($variant $(($data))?),*
        }

        impl<T> Unary<T> {
            fn name(&self) -> &'static str {
                match self {
                    $(Unary::$variant { .. } => $label),*
                }
            }
        }
    };
}

unary_ops! {
    Neg => "-", Sin => "sin", Cos => "cos", Tan => "tan", Asin => "asin", Acos => "acos",
    Atan => "atan", Sinh => "sinh", Cosh => "cosh", Tanh => "tanh", Asinh => "asinh",
    Acosh => "acosh", Atanh => "atanh", Exp => "exp", Exp2 => "exp2", ExpM1 => "exp_m1",
    Ln => "ln", Log2 => "log2", Log10 => "log10", Ln1p => "ln_1p", Sqrt => "sqrt",
    Cbrt => "cbrt", Recip => "recip", Abs => "abs", ToDegrees => "to_degrees",
    ToRadians => "to_radians", Fract => "fract", Floor => "floor", Ceil => "ceil",
    Round => "round", Trunc => "trunc", Signum => "signum", Powi(i32) => "powi",
    Sigmoid => "sigmoid", Softplus => "softplus", LogSigmoid => "log_sigmoid", Relu => "relu",
    HardTanh => "hard_tanh", Swish => "swish", Gelu => "gelu", LeakyRelu(T) => "leaky_relu",
    Elu(T) => "elu",
}

impl<T: Float> Unary<T> {
    pub(crate) fn value(self, x: T) -> T {
        use Unary::*;
        match self {
            Neg => -x,
            Sin => x.sin(),
            Cos => x.cos(),
            Tan => x.tan(),
            Asin => x.asin(),
            Acos => x.acos(),
            Atan => x.atan(),
            Sinh => x.sinh(),
            Cosh => x.cosh(),
            Tanh => x.tanh(),
            Asinh => x.asinh(),
            Acosh => x.acosh(),
            Atanh => x.atanh(),
            Exp => x.exp(),
            Exp2 => x.exp2(),
            ExpM1 => x.exp_m1(),
            Ln => x.ln(),
            Log2 => x.log2(),
            Log10 => x.log10(),
            Ln1p => x.ln_1p(),
            Sqrt => x.sqrt(),
            Cbrt => x.cbrt(),
            Recip => x.recip(),
            Abs => x.abs(),
            ToDegrees => x.to_degrees(),
            ToRadians => x.to_radians(),
            Fract => x.fract(),
            Floor => x.floor(),
            Ceil => x.ceil(),
            Round => x.round(),
            Trunc => x.trunc(),
            Signum => x.signum(),
            Powi(n) => x.powi(n),
            Sigmoid => crate::sigmoid(x),
            Softplus => crate::softplus(x),
            LogSigmoid => crate::log_sigmoid(x),
            Relu => crate::relu(x),
            HardTanh => crate::hard_tanh(x),
            Swish => crate::swish(x),
            Gelu => crate::gelu(x),
            LeakyRelu(slope) => crate::leaky_relu(x, slope),
            Elu(alpha) => crate::elu(x, alpha),
        }
    }

    /// `upstream` times the derivative at `x`, whose value is `out`: the macro's rule, with
    /// its conventions at kinks (relu'(0) = 0, `abs`'(0) = 0, `sqrt`'(0) = +∞).
    pub(crate) fn pullback(self, x: T, out: T, upstream: T) -> T {
        use Unary::*;
        match self {
            Neg => -upstream,
            Sin => pullback::sin(x, out, upstream),
            Cos => pullback::cos(x, out, upstream),
            Tan => pullback::tan(x, out, upstream),
            Asin => pullback::asin(x, out, upstream),
            Acos => pullback::acos(x, out, upstream),
            Atan => pullback::atan(x, out, upstream),
            Sinh => pullback::sinh(x, out, upstream),
            Cosh => pullback::cosh(x, out, upstream),
            Tanh => pullback::tanh(x, out, upstream),
            Asinh => pullback::asinh(x, out, upstream),
            Acosh => pullback::acosh(x, out, upstream),
            Atanh => pullback::atanh(x, out, upstream),
            Exp => pullback::exp(x, out, upstream),
            Exp2 => pullback::exp2(x, out, upstream),
            ExpM1 => pullback::exp_m1(x, out, upstream),
            Ln => pullback::ln(x, out, upstream),
            Log2 => pullback::log2(x, out, upstream),
            Log10 => pullback::log10(x, out, upstream),
            Ln1p => pullback::ln_1p(x, out, upstream),
            Sqrt => pullback::sqrt(x, out, upstream),
            Cbrt => pullback::cbrt(x, out, upstream),
            Recip => pullback::recip(x, out, upstream),
            Abs => pullback::abs(x, out, upstream),
            ToDegrees => pullback::to_degrees(x, out, upstream),
            ToRadians => pullback::to_radians(x, out, upstream),
            Fract => pullback::fract(x, out, upstream),
            // Piecewise constant: zero wherever the derivative exists, as in the macro.
            Floor | Ceil | Round | Trunc | Signum => T::ZERO,
            Powi(n) => pullback::powi(x, n, out, upstream),
            Sigmoid => pullback::sigmoid(x, out, upstream),
            Softplus => crate::softplus_vjp(x, upstream),
            LogSigmoid => crate::log_sigmoid_vjp(x, upstream),
            Relu => crate::relu_vjp(x, upstream),
            HardTanh => crate::hard_tanh_vjp(x, upstream),
            Swish => crate::swish_vjp(x, upstream),
            Gelu => crate::gelu_vjp(x, upstream),
            LeakyRelu(slope) => crate::leaky_relu_vjp(x, slope, upstream).0,
            Elu(alpha) => crate::elu_vjp(x, alpha, upstream).0,
        }
    }

    pub(crate) fn label(self) -> alloc::string::String {
        use alloc::format;
        use alloc::string::ToString;
        match self {
            Unary::Powi(n) => format!("powi({n})"),
            Unary::LeakyRelu(slope) => format!("leaky_relu({slope})"),
            Unary::Elu(alpha) => format!("elu({alpha})"),
            other => other.name().to_string(),
        }
    }
}

/// The operations of two floats: the arithmetic operators and the float methods of two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Atan2,
    Log,
    Powf,
    Hypot,
    Max,
    Min,
    Copysign,
}

impl Binary {
    pub(crate) fn value<T: Float>(self, a: T, b: T) -> T {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Div => a / b,
            Binary::Rem => a % b,
            Binary::Atan2 => a.atan2(b),
            Binary::Log => a.log(b),
            Binary::Powf => a.powf(b),
            Binary::Hypot => a.hypot(b),
            Binary::Max => a.max(b),
            Binary::Min => a.min(b),
            Binary::Copysign => a.copysign(b),
        }
    }

    /// `upstream` times the partials in `a` and `b`; the operators' entries are the inline
    /// contributions of the macro's operator table (`grad-expand/src/rules.rs`).
    pub(crate) fn pullback<T: Float>(self, a: T, b: T, out: T, upstream: T) -> (T, T) {
        match self {
            Binary::Add => (upstream, upstream),
            Binary::Sub => (upstream, -upstream),
            Binary::Mul => (upstream * b, upstream * a),
            Binary::Div => (upstream / b, -upstream * out / b),
            Binary::Rem => pullback::rem(a, b, out, upstream),
            Binary::Atan2 => pullback::atan2(a, b, out, upstream),
            Binary::Log => pullback::log(a, b, out, upstream),
            Binary::Powf => pullback::powf(a, b, out, upstream),
            Binary::Hypot => pullback::hypot(a, b, out, upstream),
            Binary::Max => pullback::max(a, b, out, upstream),
            Binary::Min => pullback::min(a, b, out, upstream),
            Binary::Copysign => pullback::copysign(a, b, out, upstream),
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Binary::Add => "+",
            Binary::Sub => "-",
            Binary::Mul => "*",
            Binary::Div => "/",
            Binary::Rem => "%",
            Binary::Atan2 => "atan2",
            Binary::Log => "log",
            Binary::Powf => "powf",
            Binary::Hypot => "hypot",
            Binary::Max => "max",
            Binary::Min => "min",
            Binary::Copysign => "copysign",
        }
    }
}

/// The float methods of three floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ternary {
    /// `x.mul_add(a, b)` = x · a + b.
    MulAdd,
    /// `x.clamp(lo, hi)`.
    Clamp,
}

impl Ternary {
    pub(crate) fn value<T: Float>(self, x: T, a: T, b: T) -> T {
        match self {
            Ternary::MulAdd => x.mul_add(a, b),
            // As `f64::clamp`, whose NaN `x` is returned as is, without its panic on bad bounds.
            Ternary::Clamp => {
                if x < a {
                    a
                } else if x > b {
                    b
                } else {
                    x
                }
            }
        }
    }

    pub(crate) fn pullback<T: Float>(self, x: T, a: T, b: T, out: T, upstream: T) -> (T, T, T) {
        match self {
            Ternary::MulAdd => pullback::mul_add(x, a, b, out, upstream),
            Ternary::Clamp => pullback::clamp(x, a, b, out, upstream),
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Ternary::MulAdd => "mul_add",
            Ternary::Clamp => "clamp",
        }
    }
}
