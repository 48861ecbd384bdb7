//! Names of everything the expansion generates.
//!
//! Locals use `Span::mixed_site()`, so they can never collide with a user's names, even a user
//! local called `__v0` or `upstream`. Companion functions use the span of the user's function
//! name, so users can call them.

use crate::graph::ValueId;
use proc_macro2::{Ident, Span};
use quote::format_ident;

fn hidden(name: String) -> Ident {
    Ident::new(&name, Span::mixed_site())
}

/// The forward-sweep value of a node.
pub fn value(id: ValueId) -> Ident {
    hidden(format!("__v{}", id.0))
}

/// The adjoint (d output / d node) of a node in the reverse sweep.
pub fn adjoint(id: ValueId) -> Ident {
    hidden(format!("__adj{}", id.0))
}

/// A temporary of the pullback of node `id`, entry `k`.
pub fn partial(id: ValueId, k: usize) -> Ident {
    hidden(format!("__d{}_{}", id.0, k))
}

/// The upstream gradient, as the hidden core function names its parameter.
pub fn core_upstream() -> Ident {
    hidden("__upstream".to_owned())
}

/// The upstream gradient, as `f_vjp`'s public signature names it.
pub fn upstream() -> Ident {
    hidden("upstream".to_owned())
}

/// A parameter that the user left unnamed (`_: f64`).
pub fn unnamed_param(index: usize) -> Ident {
    hidden(format!("__p{index}"))
}

pub fn companion(function: &Ident, suffix: &str) -> Ident {
    format_ident!("{}_{}", function, suffix, span = function.span())
}

/// The one function holding the forward and reverse sweeps; the public companions are thin
/// wrappers around it, so the sweeps are generated once.
pub fn core(function: &Ident) -> Ident {
    format_ident!("__{}_value_and_vjp", function, span = function.span())
}

/// The user-visible `_vjp` of a callee: `p::g` becomes `p::g_vjp`, keeping generic arguments.
pub fn callee_vjp(path: &syn::Path) -> syn::Path {
    let mut vjp = path.clone();
    if let Some(last) = vjp.segments.last_mut() {
        last.ident = format_ident!("{}_vjp", last.ident, span = last.ident.span());
    }
    vjp
}
