//! The `#[differentiable]` attribute of the [grad](https://docs.rs/grad) crate.
//!
//! This crate is a thin shim: the expansion lives in `grad-expand`, which works on
//! `proc_macro2` token streams so that tests, benchmarks and fuzzers can call it directly.

use proc_macro::TokenStream;

/// Generates the gradient companions of a function: `f_grad`, `f_value_and_grad` and
/// `f_vjp` (and `f_jacobian` for vector outputs). See the `grad` crate for the contract.
#[proc_macro_attribute]
pub fn differentiable(args: TokenStream, item: TokenStream) -> TokenStream {
    grad_expand::differentiable(args.into(), item.into()).into()
}

/// Makes a struct a differentiable input: a parameter of its type named in `wrt(..)` (or
/// `self`, in `wrt(self, ..)`) gets a gradient entry of the same type, holding the partials in
/// its float fields. See the `grad` crate.
#[proc_macro_derive(Differentiable)]
pub fn derive_differentiable(item: TokenStream) -> TokenStream {
    grad_expand::derive_differentiable(item.into()).into()
}
