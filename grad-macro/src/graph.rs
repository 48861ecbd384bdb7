//! The expression graph: SSA nodes in evaluation order.
//!
//! Every node is defined once and its arguments always come earlier, so the node order is a
//! topological order: the forward sweep walks it front to back and the reverse sweep back to
//! front. A user's `let mut x` that is reassigned becomes several nodes, one per assignment.

use crate::rules::MethodRule;
use proc_macro2::{Ident, Span, TokenStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub usize);

/// What the macro knows of a value's type: enough to tell floats from everything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A float; `None` while the float type is not known (an unsuffixed literal, a call).
    Float(Option<FloatTy>),
    Int,
    Bool,
    /// A constant of a type the macro cannot name (a field, a struct, an opaque call).
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatTy {
    F32,
    F64,
}

impl FloatTy {
    pub fn from_ident(ident: &str) -> Option<FloatTy> {
        match ident {
            "f32" => Some(FloatTy::F32),
            "f64" => Some(FloatTy::F64),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FloatTy::F32 => "f32",
            FloatTy::F64 => "f64",
        }
    }
}

impl Ty {
    pub fn is_float(&self) -> bool {
        matches!(self, Ty::Float(_))
    }
}

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

/// How the user wrote a float method call, so the forward sweep writes it the same way and
/// `f_value_and_grad` returns exactly what `f` returns.
#[derive(Clone, Debug)]
pub enum CallStyle {
    /// `x.sin()`
    Method,
    /// `f64::sin(x)`: the path as written.
    Path(syn::Path),
}

#[derive(Clone, Debug)]
pub enum Op {
    /// The function's parameter, named by the user's identifier.
    Param {
        ident: Ident,
    },
    /// A literal or constant path, emitted verbatim where it is used.
    Constant(TokenStream),
    Neg(ValueId),
    Binary {
        op: BinaryOp,
        token: syn::BinOp,
        lhs: ValueId,
        rhs: ValueId,
    },
    Cast {
        value: ValueId,
        to: syn::Type,
    },
    /// A float method with a rule in `rules.rs`; `args[0]` is the receiver.
    FloatMethod {
        rule: &'static MethodRule,
        method: Ident,
        style: CallStyle,
        args: Vec<ValueId>,
    },
    /// A call of another function; its derivative comes from `path_vjp`.
    Call {
        path: syn::Path,
        args: Vec<ValueId>,
    },
    /// Anything on inactive values that needs no derivative: `n.pow(2)`, `cfg.scale`,
    /// `*r`, `!b`. The tokens are the expression with every operand replaced by a placeholder.
    Inactive {
        template: InactiveExpr,
        args: Vec<ValueId>,
    },
}

/// The non-differentiable expressions the graph keeps, by shape.
#[derive(Clone, Debug)]
pub enum InactiveExpr {
    Method {
        method: Ident,
        turbofish: Option<syn::AngleBracketedGenericArguments>,
    },
    Field(syn::Member),
    Deref,
    Reference,
    Not,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub ty: Ty,
    /// True when the node is a float that depends on a differentiated parameter.
    pub active: bool,
    /// The user's code this node came from, for error spans on generated code.
    pub span: Span,
}

impl Node {
    /// The nodes this node reads, in argument order.
    pub fn args(&self) -> Vec<ValueId> {
        match &self.op {
            Op::Param { .. } | Op::Constant(_) => Vec::new(),
            Op::Neg(a) => vec![*a],
            Op::Binary { lhs, rhs, .. } => vec![*lhs, *rhs],
            Op::Cast { value, .. } => vec![*value],
            Op::FloatMethod { args, .. } | Op::Call { args, .. } | Op::Inactive { args, .. } => {
                args.clone()
            }
        }
    }
}

#[derive(Default, Debug)]
pub struct Graph {
    pub nodes: Vec<Node>,
}

impl Graph {
    pub fn push(&mut self, node: Node) -> ValueId {
        self.nodes.push(node);
        ValueId(self.nodes.len() - 1)
    }

    pub fn node(&self, id: ValueId) -> &Node {
        &self.nodes[id.0]
    }

    pub fn node_mut(&mut self, id: ValueId) -> &mut Node {
        &mut self.nodes[id.0]
    }
}
