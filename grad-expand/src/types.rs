//! What the macro knows of types: enough to tell floats, arrays of floats and everything
//! else apart. The signature classifies written types into these; the graph gives one to
//! every node and array.

use proc_macro2::{Ident, Span, TokenStream};

/// What the macro knows of a value's type: enough to tell floats from everything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// `[elem; len]`; a matrix is an array of arrays.
    Array(Box<Ty>, Len),
    /// `&[elem]`: a slice parameter, read-only, with a length known at run time.
    Slice(Box<Ty>),
    /// A float; `None` while the float type is not known (an unsuffixed literal, a call).
    Float(Option<FloatTy>),
    Int,
    Bool,
    /// Known not to be a float: a reference, or a parameter of another type (a constant).
    Other,
    /// A type the macro cannot tell (a field, an opaque call, a type alias).
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatTy {
    F32,
    F64,
    /// A type parameter bounded by `grad::Float`, by its index in the function's list.
    Generic(u8),
}

impl FloatTy {
    pub fn from_ident(ident: &str) -> Option<FloatTy> {
        match ident {
            "f32" => Some(FloatTy::F32),
            "f64" => Some(FloatTy::F64),
            other => crate::generics::index_of(other).map(FloatTy::Generic),
        }
    }

    /// The type as generated code writes it: `f64`, or the user's `T`.
    pub fn ident(self) -> Ident {
        let name = match self {
            FloatTy::F32 => "f32".to_owned(),
            FloatTy::F64 => "f64".to_owned(),
            FloatTy::Generic(index) => crate::generics::name_of(index),
        };
        Ident::new(&name, Span::call_site())
    }
}

impl Ty {
    /// Whether rustc infers the length of this array or of an array inside it.
    pub fn has_inferred_len(&self) -> bool {
        match self {
            Ty::Array(elem, len) => len.is_inferred() || elem.has_inferred_len(),
            _ => false,
        }
    }

    pub fn is_float(&self) -> bool {
        matches!(self, Ty::Float(_))
    }

    /// A float, or an array of floats: what can have a gradient.
    pub fn is_differentiable(&self) -> bool {
        match self {
            Ty::Float(_) => true,
            Ty::Array(elem, _) | Ty::Slice(elem) => elem.is_differentiable(),
            _ => false,
        }
    }

    /// The scalar at the bottom of nested arrays.
    pub fn scalar(&self) -> &Ty {
        match self {
            Ty::Array(elem, _) | Ty::Slice(elem) => elem.scalar(),
            other => other,
        }
    }
}

/// An array length as written (`3`, `N`), compared by its text.
#[derive(Clone, Debug)]
pub struct Len(pub TokenStream);

impl PartialEq for Len {
    fn eq(&self, other: &Len) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl Eq for Len {}

impl Len {
    /// A length rustc infers (`[x; _]`): an array whose type grad does not see written, such
    /// as a call's result, has the length the callee's signature gives it.
    pub fn inferred() -> Len {
        Len(quote::quote!(_))
    }

    pub fn is_inferred(&self) -> bool {
        self.0.to_string() == "_"
    }
}

impl Ty {
    /// An array of `depth` dimensions whose lengths rustc infers, of the float type of the
    /// function it appears in (`float`): arithmetic with its elements must agree with that
    /// type anyway, and rustc checks that it does.
    pub fn inferred_array(depth: usize, float: Option<FloatTy>) -> Ty {
        (0..depth).fold(Ty::Float(float), |elem, _| {
            Ty::Array(Box::new(elem), Len::inferred())
        })
    }
}

/// The type of an arithmetic result: a float if either side is one, as Rust requires both
/// sides to match.
pub fn unify(a: &Ty, b: &Ty) -> Ty {
    match (a, b) {
        (Ty::Float(Some(f)), _) | (_, Ty::Float(Some(f))) => Ty::Float(Some(*f)),
        (Ty::Float(None), _) | (_, Ty::Float(None)) => Ty::Float(None),
        (Ty::Int, _) | (_, Ty::Int) => Ty::Int,
        (Ty::Bool, Ty::Bool) => Ty::Bool,
        (Ty::Other, Ty::Other) => Ty::Other,
        _ => Ty::Unknown,
    }
}
