//! The `#[differentiable]` attribute of the [grad](https://docs.rs/grad) crate.
//!
//! This crate is a thin shim: the expansion lives in [`expand::differentiable`], which works
//! on `proc_macro2` token streams so that unit tests and fuzzers can call it directly.

mod analyze;
mod args;
mod diagnostics;
mod emit;
mod expand;
mod generics;
mod graph;
mod iterators;
mod lower;
mod names;
mod reverse;
mod rules;
mod signature;
mod structure;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Generates the gradient companions of a scalar function: `f_grad`, `f_value_and_grad`
/// and `f_vjp`. See the `grad` crate for the full contract.
#[proc_macro_attribute]
pub fn differentiable(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::differentiable(args.into(), item.into()).into()
}
