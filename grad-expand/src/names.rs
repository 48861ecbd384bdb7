//! Names of everything the expansion generates.
//!
//! Locals use `Span::mixed_site()`, so they can never collide with a user's names, even a user
//! local called `__v0` or `upstream`. Companion functions use the span of the user's function
//! name, so users can call them.

use crate::ids::{ArrayId, ValueId};
use proc_macro2::{Ident, Span};
use quote::format_ident;

fn hidden(name: String) -> Ident {
    Ident::new(&name, Span::mixed_site())
}

/// Element `k` of a tuple a call returned, bound by a pattern before it is put in an array
/// (each is read once, on the next statement, so one name per position will do).
pub fn returned_element(k: usize) -> Ident {
    hidden(format!("__tuple{k}"))
}

/// The forward-sweep value of a node.
pub fn value(id: ValueId) -> Ident {
    hidden(format!("__v{}", id.0))
}

/// The tangent (d node along the input tangents) of a node in the tangent sweep.
pub fn tangent(id: ValueId) -> Ident {
    hidden(format!("__tan{}", id.0))
}

/// The tangent of an array variable.
pub fn array_tangent(id: ArrayId) -> Ident {
    hidden(format!("__tan_arr{}", id.0))
}

/// The tangent of a loop's carried variable `k`.
pub fn carried_tangent(loop_id: usize, k: usize) -> Ident {
    hidden(format!("__carry_tan{loop_id}_{k}"))
}

/// The core's tangent argument of a parameter, and the public `f_jvp`'s.
pub fn parameter_tangent(param: &Ident) -> Ident {
    format_ident!("{}_tangent", param, span = Span::mixed_site())
}

/// A scalar function's tangent as a function of its parameters and tangents (`f_tangent`),
/// whose gradient in the parameters is the Hessian-vector product. It is also what a caller's
/// second order calls: its `_vjp` (`f_tangent_vjp`) is the callee's second-order rule, as
/// `sin_tangent_vjp` is `sin`'s.
pub fn tangent_function(function: &Ident) -> Ident {
    companion(function, "tangent")
}

/// The tangent function as the second pass expands it, differentiated in the parameters
/// alone (its gradient is `f_hvp`); `f_tangent` calls it.
pub fn expanded_tangent(function: &Ident) -> Ident {
    format_ident!("__{}_tangent", function, span = function.span())
}

/// The output's tangent in `f_jvp`.
pub fn output_tangent() -> Ident {
    hidden("__tangent".to_owned())
}

/// The hidden function that computes a function's value and tangent.
pub fn jvp_core(function: &Ident) -> Ident {
    format_ident!("__{}_value_and_jvp", function, span = function.span())
}

/// The adjoint (d output / d node) of a node in the reverse sweep.
pub fn adjoint(id: ValueId) -> Ident {
    hidden(format!("__adj{}", id.0))
}

/// A temporary of the pullback of node `id`, entry `k`.
pub fn partial(id: ValueId, k: usize) -> Ident {
    hidden(format!("__d{}_{}", id.0, k))
}

/// The core's local name for `::grad::pullback` (`use ::grad::pullback as ..;`), which every
/// derivative rule is called through: a short path keeps the generated code small.
pub fn pullback_rules() -> Ident {
    hidden("__rules".to_owned())
}

/// The upstream gradient, as the hidden core function names its parameter.
pub fn core_upstream() -> Ident {
    hidden("__upstream".to_owned())
}

/// The gradient the core accumulates into, a `&mut` to the companion's result: arrays'
/// adjoints are built in place there instead of being copied out at the end.
pub fn core_gradient() -> Ident {
    hidden(CORE_GRADIENT.to_owned())
}

const CORE_GRADIENT: &str = "__gradient";
const ARRAY_ADJOINT: &str = "__adj_arr";

/// The function's value, while a companion regroups the gradient beside it.
pub fn function_value() -> Ident {
    hidden("__value".to_owned())
}

/// Entry `k` of the core's gradient, while a companion regroups it.
pub fn gradient_entry(k: usize) -> Ident {
    hidden(format!("__entry{k}"))
}

/// The gradient a companion returns, as it names its local.
pub fn gradient() -> Ident {
    hidden("__grad".to_owned())
}

/// The upstream gradient, as `f_vjp`'s public signature names it.
pub fn upstream() -> Ident {
    hidden("upstream".to_owned())
}

/// A parameter that the user left unnamed (`_: f64`).
pub fn unnamed_param(index: usize) -> Ident {
    hidden(format!("__p{index}"))
}

/// Element `k` of a tuple parameter, as the core takes it (see `tuple_params`).
pub fn tuple_element(param: &Ident, k: usize) -> Ident {
    hidden(format!("__grad_{param}_{k}"))
}

pub fn companion(function: &Ident, suffix: &str) -> Ident {
    format_ident!("{}_{}", function, suffix, span = function.span())
}

/// The companion that returns a picture of the function's expression graph, as DOT text.
pub fn graph_picture(function: &Ident) -> Ident {
    companion(function, "graph")
}

/// The one function holding the forward and reverse sweeps; the public companions are thin
/// wrappers around it, so the sweeps are generated once.
pub fn core(function: &Ident) -> Ident {
    format_ident!("__{}_value_and_vjp", function, span = function.span())
}

/// The user-visible `_vjp` of a callee: `p::g` becomes `p::g_vjp`, keeping generic arguments.
pub fn callee_vjp(path: &syn::Path) -> syn::Path {
    callee_companion(path, "vjp")
}

/// A callee's companion: `p::g` becomes `p::g_<suffix>`, keeping generic arguments.
pub fn callee_companion(path: &syn::Path, suffix: &str) -> syn::Path {
    let mut companion = path.clone();
    if let Some(last) = companion.segments.last_mut() {
        last.ident = format_ident!("{}_{}", last.ident, suffix, span = last.ident.span());
    }
    companion
}

/// A loop's carried variable `k` while the forward sweep runs the loop.
pub fn carried(loop_id: usize, k: usize) -> Ident {
    hidden(format!("__carry{loop_id}_{k}"))
}

/// The adjoint of a loop's carried variable `k`, handed from one reversed iteration to the
/// one before it.
pub fn carried_adjoint(loop_id: usize, k: usize) -> Ident {
    hidden(format!("__carry_adj{loop_id}_{k}"))
}

/// For a loop that keeps a running maximum: the last iteration that computed its final value.
pub fn last_reached(loop_id: usize) -> Ident {
    hidden(format!("__reached{loop_id}"))
}

/// For a loop that keeps a running maximum: the iteration where it took its final value
/// (none when it started with it).
pub fn last_taken(loop_id: usize) -> Ident {
    hidden(format!("__taken{loop_id}"))
}

/// The values a loop records per iteration for its reverse sweep.
pub fn tape(loop_id: usize) -> Ident {
    hidden(format!("__tape{loop_id}"))
}

/// The contribution to an array's adjoint that a neighbour-coupled loop carries to its next
/// iteration (`reverse/neighbours.rs`).
pub fn neighbour_pending(array: usize) -> Ident {
    hidden(format!("__pending{array}"))
}

/// Where that carried contribution goes once the loop is over.
pub fn neighbour_index(array: usize) -> Ident {
    hidden(format!("__pending_at{array}"))
}

/// How many iterations a loop ran.
pub fn count(loop_id: usize) -> Ident {
    hidden(format!("__count{loop_id}"))
}

/// The index of the iteration being reversed.
pub fn iteration() -> Ident {
    hidden("__k".to_owned())
}

/// An input element and an output, in `f_jacobian`'s loops by columns.
pub fn input_element() -> Ident {
    hidden("__element".to_owned())
}
pub fn output_index() -> Ident {
    hidden("__output".to_owned())
}

/// An element of an array being filled, in generated loops over its elements.
pub fn slot() -> Ident {
    hidden("__slot".to_owned())
}

/// The forward sweep's loop variable of a `for` loop.
pub fn counter(loop_id: usize) -> Ident {
    hidden(format!("__i{loop_id}"))
}

/// An array variable that needs a local of its own.
pub fn array(id: ArrayId) -> Ident {
    hidden(format!("__arr{}", id.0))
}

/// The adjoint of an array variable.
pub fn array_adjoint(id: ArrayId) -> Ident {
    hidden(format!("{ARRAY_ADJOINT}{}", id.0))
}

/// Whether `name` is an array's adjoint, or the core's gradient, which holds the parameters'.
pub fn is_array_adjoint(name: &str) -> bool {
    name.starts_with(ARRAY_ADJOINT) || name == CORE_GRADIENT
}

/// The Jacobian rows of parameter `k`, filled one output at a time.
pub fn jacobian_rows(k: usize) -> Ident {
    hidden(format!("__jacobian{k}"))
}

/// Entry `k` of the `_vjp` of the call that initialises an array.
pub fn array_call_entry(id: ArrayId, k: usize) -> Ident {
    hidden(format!("__d_arr{}_{}", id.0, k))
}

/// The element of a slice parameter's gradient that one iteration of a `Step::Fill` computes
/// and returns.
pub fn filled_element() -> Ident {
    hidden("__element".to_owned())
}

/// The buffer that receives the gradient of slice parameter `param` (`x_grad` for `x`).
pub fn slice_gradient(param: &Ident) -> Ident {
    format_ident!("{}_grad", param, span = Span::mixed_site())
}

/// The gradient entries the core returns besides the slices' buffers.
pub fn rest() -> Ident {
    hidden("__rest".to_owned())
}
