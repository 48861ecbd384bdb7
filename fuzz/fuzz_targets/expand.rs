//! Arbitrary text through `#[differentiable]`'s expansion: the first line is the attribute's
//! arguments, the rest the item. Every input must give code or `compile_error!`, never a
//! panic; for an item that parses, the output must parse as a file too.
//!
//! `cargo +nightly fuzz run expand fuzz/corpus/expand -- -dict=fuzz/rust.dict`
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::str::FromStr;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (args, item) = text.split_once('\n').unwrap_or(("", text));
    let (Ok(args), Ok(item)) = (
        proc_macro2::TokenStream::from_str(args),
        proc_macro2::TokenStream::from_str(item),
    ) else {
        return;
    };
    let item_parses = syn::parse2::<syn::Item>(item.clone()).is_ok();
    let expanded = grad_expand::differentiable(args, item);
    // Input that is not an item comes back as it was, with the error beside it.
    if !item_parses {
        return;
    }
    if let Err(error) = syn::parse2::<syn::File>(expanded.clone()) {
        panic!("the expansion is not a valid file ({error}):\n{expanded}\nfrom:\n{text}");
    }
});
