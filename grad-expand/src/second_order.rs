//! Second order, by reverse over forward: a scalar function's tangent sweep, written as a
//! function of the parameters and the tangents (`__f_tangent(x, v) = ∇f(x) · v`, from
//! `companions.rs`), goes through the whole pipeline again, as if the user had written it,
//! differentiated with respect to the parameters. Its gradient is `∇(∇f · v) = H v`: `f_hvp`
//! is that gradient, at the cost of a few of `f`'s gradients, and `f_hessian` gathers one
//! `f_hvp` per input element. Beside it, `f_tangent` (the same function) and `f_tangent_vjp`
//! (its `_vjp` in the parameters, then `u · ∇f` from `f_vjp` for the tangents) are the
//! second-order rule of a call of `f` in another function's tangent sweep, as
//! `sin_tangent_vjp` is `sin`'s, so second order composes through calls. (Differentiating
//! the second pass in the tangents as well would give `f_tangent_vjp` directly, but costs
//! `f_hvp` a quarter more: the tangents' adjoints are not all compiled away.)
//!
//! Every derivative the second pass needs is a rule already: the operators' own, and for
//! each `__rules::<name>_tangent(..)` call the tangent sweep writes, its `_tangent_vjp` in
//! grad-runtime (`second_order.rs` there). So the kink conventions of second order are
//! those of the tangent rules, and there is no second copy of any sweep.
//!
//! Second order is generated when `#[differentiable(hessian)]` asks for it (it costs a second
//! expansion and about three times the code for rustc to check). The second pass runs only
//! when the first succeeded; if it cannot be made, the error says why, on `hessian`.

use crate::companions::Companions;
use crate::expand::{self, Context};
use proc_macro2::TokenStream;
use quote::quote;

/// The tangent function's expansion (its core and its gradient), `f_hvp` and `f_hessian`.
pub fn companions(
    companions: &Companions,
    tangent: syn::ItemFn,
    context: &Context,
    scalar_output: bool,
) -> Result<TokenStream, &'static str> {
    let wrt: Vec<&proc_macro2::Ident> = companions
        .signature
        .differentiable()
        .map(|p| &p.ident)
        .collect();
    let nested = Context {
        in_impl: context.in_impl,
        impl_generics: context.impl_generics,
        left_as_written: &[],
        helpers: &[],
        tangent_of: true,
        block: Default::default(),
    };
    let name = tangent.sig.ident.clone();
    let for_callers = companions.tangent_and_its_vjp(&tangent);
    let expansion = expand::function(quote!(wrt(#(#wrt),*)), tangent, &nested);
    if expansion.has_errors {
        return Err("its tangent sweep uses a construct that grad cannot differentiate again");
    }
    // The Hessian of an array output would be a tensor of the third order: such a function
    // has second order for its callers alone.
    let public = if scalar_output {
        companions.hvp_and_hessian(&name)
    } else {
        TokenStream::new()
    };
    let tokens = expansion.into_tokens();
    Ok(quote!(#tokens #for_callers #public))
}
