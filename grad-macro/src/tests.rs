//! Unit tests that call the expansion directly on token streams.

use crate::expand::differentiable;
use proc_macro2::TokenStream;
use quote::quote;

/// The expansion, pretty-printed, as a reviewer reads it.
pub fn expand_pretty(args: TokenStream, item: TokenStream) -> String {
    let output = differentiable(args, item);
    match syn::parse2::<syn::File>(output.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => output.to_string(),
    }
}

#[test]
fn print_example() {
    println!(
        "{}",
        expand_pretty(
            quote!(),
            quote!(
                pub fn f(x: f64, y: f64, z: f64) -> f64 {
                    (x + y) * z
                }
            )
        )
    );
    println!(
        "{}",
        expand_pretty(
            quote!(),
            quote!(
                fn neuron(w0: f64, x0: f64, w1: f64, x1: f64, w2: f64) -> f64 {
                    let dot = w0 * x0 + w1 * x1 + w2;
                    1.0 / (1.0 + (-dot).exp())
                }
            )
        )
    );
}
