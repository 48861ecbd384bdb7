//! The handles users compute with, [`Var`], [`Vector`] and [`Matrix`], and their operators
//! and methods, each of which records one node.

use super::ops::{Binary, Op, Ternary, Unary};
use super::{NodeId, NodeKind, Tape};
use crate::Float;
use alloc::vec::Vec;
use core::fmt;
use core::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

/// A float on a [`Tape`]: a leaf or the result of an operation.
///
/// Copy it freely; it is an index into the tape, which it borrows.
#[derive(Clone, Copy)]
pub struct Var<'t, T: Float = f64> {
    tape: &'t Tape<T>,
    id: NodeId,
}

/// A vector of floats on a [`Tape`]: one node, whatever its length.
///
/// The float methods and the operators apply element by element; a [`Var`] or a float
/// operand is broadcast to every element.
#[derive(Clone, Copy)]
pub struct Vector<'t, T: Float = f64> {
    tape: &'t Tape<T>,
    id: NodeId,
}

/// A matrix of floats on a [`Tape`], stored row by row in one node.
#[derive(Clone, Copy)]
pub struct Matrix<'t, T: Float = f64> {
    tape: &'t Tape<T>,
    id: NodeId,
    rows: usize,
    cols: usize,
}

/// What a float operation of a [`Var`] takes as its other operand: a `Var` or a float (which
/// becomes a constant leaf).
pub trait ScalarOperand<'t, T: Float>: Copy {
    /// The operand's node on `tape`.
    fn node_on(self, tape: &'t Tape<T>) -> NodeId;
}

/// What an elementwise operation of a [`Vector`] takes as its other operand: a `Vector` of
/// the same length, or a [`Var`] or a float, broadcast to every element.
pub trait VectorOperand<'t, T: Float>: Copy {
    /// The operand's node on `tape`.
    fn node_on(self, tape: &'t Tape<T>) -> NodeId;
}

fn same_tape<T: Float>(tape: &Tape<T>, other: &Tape<T>) {
    assert!(
        core::ptr::eq(tape, other),
        "an operation combines values of two different tapes"
    );
}

impl<'t, T: Float> ScalarOperand<'t, T> for Var<'t, T> {
    fn node_on(self, tape: &'t Tape<T>) -> NodeId {
        same_tape(tape, self.tape);
        self.id
    }
}

impl<'t, T: Float> ScalarOperand<'t, T> for T {
    fn node_on(self, tape: &'t Tape<T>) -> NodeId {
        tape.constant(self).id
    }
}

impl<'t, T: Float> VectorOperand<'t, T> for Vector<'t, T> {
    fn node_on(self, tape: &'t Tape<T>) -> NodeId {
        same_tape(tape, self.tape);
        self.id
    }
}

impl<'t, T: Float> VectorOperand<'t, T> for Var<'t, T> {
    fn node_on(self, tape: &'t Tape<T>) -> NodeId {
        same_tape(tape, self.tape);
        self.id
    }
}

impl<'t, T: Float> VectorOperand<'t, T> for T {
    fn node_on(self, tape: &'t Tape<T>) -> NodeId {
        tape.constant(self).id
    }
}

/// The length of an elementwise result of operands of `lens` elements: the longest (or 0 if
/// one is empty), which every operand must have unless it has one (a broadcast scalar).
fn elementwise_len(label: &str, lens: &[usize]) -> usize {
    // An empty vector with a broadcast scalar is empty.
    let len = if lens.contains(&0) {
        0
    } else {
        lens.iter().copied().max().unwrap_or(1)
    };
    assert!(
        lens.iter().all(|&l| l == len || l == 1),
        "`{label}` of vectors of different lengths: {lens:?}"
    );
    len
}

fn record_elementwise<T: Float>(tape: &Tape<T>, op: Op<T>, inputs: &[NodeId]) -> NodeId {
    let label = match op {
        Op::Binary(binary) => binary.label(),
        Op::Ternary(ternary) => ternary.label(),
        _ => "an elementwise operation",
    };
    let mut lens = [1; 3];
    for (len, &id) in lens.iter_mut().zip(inputs) {
        *len = tape.len_of(id);
    }
    let len = elementwise_len(label, &lens[..inputs.len()]);
    tape.record(op, inputs, len)
}

impl<'t, T: Float> Var<'t, T> {
    pub(super) fn new(tape: &'t Tape<T>, id: NodeId) -> Self {
        Var { tape, id }
    }

    /// The tape the value lives on.
    pub fn tape(self) -> &'t Tape<T> {
        self.tape
    }

    /// The value's node.
    pub fn id(self) -> NodeId {
        self.id
    }

    /// The value.
    pub fn value(self) -> T {
        self.tape.value(self.id)
    }

    /// The gradient: for an `Accumulated` leaf, the sum over every `backward` since the last
    /// [`Tape::zero_grad`]; for an operation, that of the last `backward` that reached it; 0
    /// for a `Constant`.
    pub fn grad(self) -> T {
        self.tape.grad(self.id)
    }

    /// The kind of node: `Constant`, `Accumulated` or `BackwardFunction`.
    pub fn kind(self) -> NodeKind {
        self.tape.kind(self.id)
    }

    /// Whether a gradient flows into this value (any kind but `Constant`).
    pub fn requires_grad(self) -> bool {
        self.kind() != NodeKind::Constant
    }

    /// Names the value in pictures ([`Tape::to_dot`]).
    pub fn named(self, name: &str) -> Self {
        self.tape.set_name(self.id, name);
        self
    }

    /// Sends the gradient of this value, 1, back to every leaf it depends on: the notes'
    /// `backward()`.
    pub fn backward(self) {
        self.backward_with(T::ONE);
    }

    /// Sends `upstream` back as this value's gradient (a vector-Jacobian product, with this
    /// value one output of many).
    pub fn backward_with(self, upstream: T) {
        self.tape.backward_from(self.id, &[upstream]);
    }

    fn unary(self, op: Unary<T>) -> Self {
        Var::new(self.tape, self.tape.record(Op::Unary(op), &[self.id], 1))
    }

    fn binary(self, op: Binary, other: impl ScalarOperand<'t, T>) -> Self {
        let other = other.node_on(self.tape);
        Var::new(
            self.tape,
            self.tape.record(Op::Binary(op), &[self.id, other], 1),
        )
    }

    fn ternary(
        self,
        op: Ternary,
        a: impl ScalarOperand<'t, T>,
        b: impl ScalarOperand<'t, T>,
    ) -> Self {
        let inputs = [self.id, a.node_on(self.tape), b.node_on(self.tape)];
        Var::new(self.tape, self.tape.record(Op::Ternary(op), &inputs, 1))
    }
}

impl<'t, T: Float> Vector<'t, T> {
    pub(super) fn new(tape: &'t Tape<T>, id: NodeId) -> Self {
        Vector { tape, id }
    }

    /// The tape the vector lives on.
    pub fn tape(self) -> &'t Tape<T> {
        self.tape
    }

    /// The vector's node.
    pub fn id(self) -> NodeId {
        self.id
    }

    /// The number of elements.
    pub fn len(self) -> usize {
        self.tape.len_of(self.id)
    }

    /// Whether the vector has no element.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The elements' values.
    pub fn values(self) -> Vec<T> {
        self.tape.values(self.id)
    }

    /// The elements' gradients (see [`Var::grad`]).
    pub fn grad(self) -> Vec<T> {
        self.tape.grads(self.id)
    }

    /// The kind of node.
    pub fn kind(self) -> NodeKind {
        self.tape.kind(self.id)
    }

    /// Names the vector in pictures ([`Tape::to_dot`]).
    pub fn named(self, name: &str) -> Self {
        self.tape.set_name(self.id, name);
        self
    }

    /// Sends `upstream`, one value per element, back as this vector's gradient: the product
    /// of `upstream` with the Jacobian of the vector in every leaf, without building it.
    ///
    /// # Panics
    /// If `upstream` has another length than the vector.
    pub fn backward_with(self, upstream: &[T]) {
        self.tape.backward_from(self.id, upstream);
    }

    /// Element `i`.
    ///
    /// # Panics
    /// If `i` is out of bounds.
    pub fn get(self, i: usize) -> Var<'t, T> {
        let len = self.len();
        assert!(
            i < len,
            "index {i} out of bounds of a vector of {len} elements"
        );
        let index = u32::try_from(i).expect("an index of a vector on a tape fits in u32");
        Var::new(self.tape, self.tape.record(Op::Index(index), &[self.id], 1))
    }

    /// Σᵢ xᵢ; 0 for an empty vector.
    pub fn sum(self) -> Var<'t, T> {
        Var::new(self.tape, self.tape.record(Op::Sum, &[self.id], 1))
    }

    /// ‖x‖² = Σᵢ xᵢ².
    pub fn norm_sq(self) -> Var<'t, T> {
        Var::new(self.tape, self.tape.record(Op::NormSq, &[self.id], 1))
    }

    /// The dot product Σᵢ xᵢ yᵢ.
    ///
    /// # Panics
    /// If the lengths differ.
    pub fn dot(self, other: Vector<'t, T>) -> Var<'t, T> {
        let other = VectorOperand::node_on(other, self.tape);
        let (n, m) = (self.len(), self.tape.len_of(other));
        assert_eq!(n, m, "`dot` of vectors of {n} and {m} elements");
        Var::new(self.tape, self.tape.record(Op::Dot, &[self.id, other], 1))
    }

    /// The softmax, as [`grad::softmax`](crate::softmax) (the same numerically stable
    /// kernel); its gradient is computed in O(n) from its output.
    pub fn softmax(self) -> Self {
        Vector::new(
            self.tape,
            self.tape.record(Op::Softmax, &[self.id], self.len()),
        )
    }

    /// log Σᵢ e^(xᵢ), as [`grad::log_sum_exp`](crate::log_sum_exp).
    pub fn log_sum_exp(self) -> Var<'t, T> {
        Var::new(self.tape, self.tape.record(Op::LogSumExp, &[self.id], 1))
    }

    fn unary(self, op: Unary<T>) -> Self {
        Vector::new(
            self.tape,
            self.tape.record(Op::Unary(op), &[self.id], self.len()),
        )
    }

    fn binary(self, op: Binary, other: impl VectorOperand<'t, T>) -> Self {
        let inputs = [self.id, other.node_on(self.tape)];
        Vector::new(
            self.tape,
            record_elementwise(self.tape, Op::Binary(op), &inputs),
        )
    }

    fn ternary(
        self,
        op: Ternary,
        a: impl VectorOperand<'t, T>,
        b: impl VectorOperand<'t, T>,
    ) -> Self {
        let inputs = [self.id, a.node_on(self.tape), b.node_on(self.tape)];
        Vector::new(
            self.tape,
            record_elementwise(self.tape, Op::Ternary(op), &inputs),
        )
    }
}

impl<'t, T: Float> Matrix<'t, T> {
    pub(super) fn new(tape: &'t Tape<T>, id: NodeId, rows: usize, cols: usize) -> Self {
        Matrix {
            tape,
            id,
            rows,
            cols,
        }
    }

    /// The matrix's node.
    pub fn id(self) -> NodeId {
        self.id
    }

    /// The number of rows.
    pub fn rows(self) -> usize {
        self.rows
    }

    /// The number of columns.
    pub fn cols(self) -> usize {
        self.cols
    }

    /// The entries, row by row.
    pub fn values(self) -> Vec<T> {
        self.tape.values(self.id)
    }

    /// The entries' gradients, row by row.
    pub fn grad(self) -> Vec<T> {
        self.tape.grads(self.id)
    }

    /// The kind of node.
    pub fn kind(self) -> NodeKind {
        self.tape.kind(self.id)
    }

    /// Names the matrix in pictures ([`Tape::to_dot`]).
    pub fn named(self, name: &str) -> Self {
        self.tape.set_name(self.id, name);
        self
    }

    /// The product W · x, one element per row; its gradient is the outer product u · xᵀ for
    /// W and Wᵀ · u for x.
    ///
    /// # Panics
    /// If `x` has another length than the matrix has columns.
    pub fn matvec(self, x: Vector<'t, T>) -> Vector<'t, T> {
        let x_id = VectorOperand::node_on(x, self.tape);
        assert_eq!(
            x.len(),
            self.cols,
            "`matvec` of a {}×{} matrix and a vector of {} elements",
            self.rows,
            self.cols,
            x.len()
        );
        let cols = u32::try_from(self.cols).expect("a matrix on a tape has fewer than 2³² columns");
        let id = self
            .tape
            .record(Op::MatVec { cols }, &[self.id, x_id], self.rows);
        Vector::new(self.tape, id)
    }
}

macro_rules! elementwise_methods {
    ($($name:ident => $variant:ident,)*) => {
        impl<'t, T: Float> Var<'t, T> {
            $(
                #[doc = concat!("`", stringify!($name), "` of the value, differentiated by grad's rule for it.")]
                pub fn $name(self) -> Self {
                    self.unary(Unary::$variant)
                }
            )*
        }

        impl<'t, T: Float> Vector<'t, T> {
            $(
                #[doc = concat!("`", stringify!($name), "` of every element, differentiated by grad's rule for it.")]
                pub fn $name(self) -> Self {
                    self.unary(Unary::$variant)
                }
            )*
        }
    };
}

elementwise_methods! {
    sin => Sin, cos => Cos, tan => Tan, asin => Asin, acos => Acos, atan => Atan,
    sinh => Sinh, cosh => Cosh, tanh => Tanh, asinh => Asinh, acosh => Acosh, atanh => Atanh,
    exp => Exp, exp2 => Exp2, exp_m1 => ExpM1, ln => Ln, log2 => Log2, log10 => Log10,
    ln_1p => Ln1p, sqrt => Sqrt, cbrt => Cbrt, recip => Recip, abs => Abs,
    to_degrees => ToDegrees, to_radians => ToRadians, fract => Fract, floor => Floor,
    ceil => Ceil, round => Round, trunc => Trunc, signum => Signum, sigmoid => Sigmoid,
    softplus => Softplus, log_sigmoid => LogSigmoid, relu => Relu, hard_tanh => HardTanh,
    swish => Swish, gelu => Gelu,
}

macro_rules! parameterised_methods {
    ($handle:ident, $operand:ident) => {
        impl<'t, T: Float> $handle<'t, T> {
            /// `powi(n)`, differentiated by grad's rule for it.
            pub fn powi(self, n: i32) -> Self {
                self.unary(Unary::Powi(n))
            }

            /// [`leaky_relu`](crate::leaky_relu) with a constant `slope`.
            pub fn leaky_relu(self, slope: T) -> Self {
                self.unary(Unary::LeakyRelu(slope))
            }

            /// [`elu`](crate::elu) with a constant `alpha`.
            pub fn elu(self, alpha: T) -> Self {
                self.unary(Unary::Elu(alpha))
            }

            /// `atan2(self, x)`: the angle of the point (x, self).
            pub fn atan2(self, x: impl $operand<'t, T>) -> Self {
                self.binary(Binary::Atan2, x)
            }

            /// The logarithm in `base`.
            pub fn log(self, base: impl $operand<'t, T>) -> Self {
                self.binary(Binary::Log, base)
            }

            /// `self` to the power `p`.
            pub fn powf(self, p: impl $operand<'t, T>) -> Self {
                self.binary(Binary::Powf, p)
            }

            /// √(self² + other²).
            pub fn hypot(self, other: impl $operand<'t, T>) -> Self {
                self.binary(Binary::Hypot, other)
            }

            /// The larger; a tie splits the gradient in halves.
            pub fn max(self, other: impl $operand<'t, T>) -> Self {
                self.binary(Binary::Max, other)
            }

            /// The smaller; a tie splits the gradient in halves.
            pub fn min(self, other: impl $operand<'t, T>) -> Self {
                self.binary(Binary::Min, other)
            }

            /// `self`'s magnitude with `sign`'s sign.
            pub fn copysign(self, sign: impl $operand<'t, T>) -> Self {
                self.binary(Binary::Copysign, sign)
            }

            /// self · a + b.
            pub fn mul_add(self, a: impl $operand<'t, T>, b: impl $operand<'t, T>) -> Self {
                self.ternary(Ternary::MulAdd, a, b)
            }

            /// `self` limited to `[lo, hi]`; the gradient goes to whichever is returned (to
            /// `self` at the bounds).
            pub fn clamp(self, lo: impl $operand<'t, T>, hi: impl $operand<'t, T>) -> Self {
                self.ternary(Ternary::Clamp, lo, hi)
            }
        }
    };
}

parameterised_methods!(Var, ScalarOperand);
parameterised_methods!(Vector, VectorOperand);

macro_rules! operators {
    ($($Op:ident $op:ident $OpAssign:ident $op_assign:ident => $binary:ident;)*) => {$(
        impl<'t, T: Float> $Op for Var<'t, T> {
            type Output = Var<'t, T>;
            fn $op(self, rhs: Self) -> Var<'t, T> {
                self.binary(Binary::$binary, rhs)
            }
        }

        impl<'t, T: Float> $Op<T> for Var<'t, T> {
            type Output = Var<'t, T>;
            fn $op(self, rhs: T) -> Var<'t, T> {
                self.binary(Binary::$binary, rhs)
            }
        }

        impl<'t, T: Float> $Op<Vector<'t, T>> for Var<'t, T> {
            type Output = Vector<'t, T>;
            fn $op(self, rhs: Vector<'t, T>) -> Vector<'t, T> {
                let inputs = [self.id, VectorOperand::node_on(rhs, self.tape)];
                Vector::new(self.tape, record_elementwise(self.tape, Op::Binary(Binary::$binary), &inputs))
            }
        }

        impl<'t, T: Float> $Op for Vector<'t, T> {
            type Output = Vector<'t, T>;
            fn $op(self, rhs: Self) -> Vector<'t, T> {
                self.binary(Binary::$binary, rhs)
            }
        }

        impl<'t, T: Float> $Op<Var<'t, T>> for Vector<'t, T> {
            type Output = Vector<'t, T>;
            fn $op(self, rhs: Var<'t, T>) -> Vector<'t, T> {
                self.binary(Binary::$binary, rhs)
            }
        }

        impl<'t, T: Float> $Op<T> for Vector<'t, T> {
            type Output = Vector<'t, T>;
            fn $op(self, rhs: T) -> Vector<'t, T> {
                self.binary(Binary::$binary, rhs)
            }
        }

        impl<'t, T: Float, R> $OpAssign<R> for Var<'t, T>
        where
            Var<'t, T>: $Op<R, Output = Var<'t, T>>,
        {
            fn $op_assign(&mut self, rhs: R) {
                *self = $Op::$op(*self, rhs);
            }
        }

        impl<'t, T: Float, R> $OpAssign<R> for Vector<'t, T>
        where
            Vector<'t, T>: $Op<R, Output = Vector<'t, T>>,
        {
            fn $op_assign(&mut self, rhs: R) {
                *self = $Op::$op(*self, rhs);
            }
        }

        operators!(@float_lhs $Op $op $binary f32);
        operators!(@float_lhs $Op $op $binary f64);
    )*};
    (@float_lhs $Op:ident $op:ident $binary:ident $float:ident) => {
        impl<'t> $Op<Var<'t, $float>> for $float {
            type Output = Var<'t, $float>;
            fn $op(self, rhs: Var<'t, $float>) -> Var<'t, $float> {
                rhs.tape.constant(self).binary(Binary::$binary, rhs)
            }
        }

        impl<'t> $Op<Vector<'t, $float>> for $float {
            type Output = Vector<'t, $float>;
            fn $op(self, rhs: Vector<'t, $float>) -> Vector<'t, $float> {
                $Op::$op(rhs.tape.constant(self), rhs)
            }
        }
    };
}

operators! {
    Add add AddAssign add_assign => Add;
    Sub sub SubAssign sub_assign => Sub;
    Mul mul MulAssign mul_assign => Mul;
    Div div DivAssign div_assign => Div;
    Rem rem RemAssign rem_assign => Rem;
}

impl<'t, T: Float> Neg for Var<'t, T> {
    type Output = Self;
    fn neg(self) -> Self {
        self.unary(Unary::Neg)
    }
}

impl<'t, T: Float> Neg for Vector<'t, T> {
    type Output = Self;
    fn neg(self) -> Self {
        self.unary(Unary::Neg)
    }
}

impl<T: Float> fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Var")
            .field("id", &self.id.0)
            .field("value", &self.value())
            .field("grad", &self.grad())
            .field("kind", &self.kind())
            .finish()
    }
}

impl<T: Float> fmt::Debug for Vector<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vector")
            .field("id", &self.id.0)
            .field("values", &self.values())
            .field("grad", &self.grad())
            .field("kind", &self.kind())
            .finish()
    }
}

impl<T: Float> fmt::Debug for Matrix<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matrix")
            .field("id", &self.id.0)
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("values", &self.values())
            .field("grad", &self.grad())
            .finish()
    }
}
