//! The attribute's arguments: `#[differentiable]`, `#[differentiable(wrt(x, z))]`,
//! `#[differentiable(hessian)]`, `#[differentiable(graph)]`.

use crate::diagnostics::Diagnostics;
use proc_macro2::{Ident, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Token, parenthesized};

#[derive(Default)]
pub struct Args {
    /// `None` when every float parameter is differentiated.
    pub wrt: Option<Vec<Ident>>,
    /// `hessian`: second order (`f_hvp`, `f_hessian`) is asked for. It is not generated
    /// unasked, since it costs a second expansion and about three times the code to check.
    pub hessian: Option<Ident>,
    /// `graph`: `f_graph()` returns a picture of the function's expression graph (DOT).
    pub graph: Option<Ident>,
}

pub fn parse(tokens: TokenStream, diagnostics: &mut Diagnostics) -> Args {
    match syn::parse2::<ParsedArgs>(tokens) {
        Ok(parsed) => {
            parsed.errors.into_iter().for_each(|e| diagnostics.push(e));
            parsed.args
        }
        Err(error) => {
            diagnostics.push(error);
            Args::default()
        }
    }
}

struct ParsedArgs {
    args: Args,
    errors: Vec<syn::Error>,
}

impl Parse for ParsedArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut errors = Vec::new();
        while !input.is_empty() {
            let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            if key == "wrt" {
                let content;
                parenthesized!(content in input);
                // `parse_any`: `wrt(self)` gets grad's own message, not syn's "expected identifier".
                let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                    &content,
                    syn::ext::IdentExt::parse_any,
                )?;
                if args.wrt.is_some() {
                    errors.push(syn::Error::new_spanned(&key, "`wrt` is given twice"));
                }
                args.wrt = Some(names.into_iter().collect());
            } else if key == "hessian" {
                if args.hessian.is_some() {
                    errors.push(syn::Error::new_spanned(&key, "`hessian` is given twice"));
                }
                args.hessian = Some(key);
            } else if key == "graph" {
                if args.graph.is_some() {
                    errors.push(syn::Error::new_spanned(&key, "`graph` is given twice"));
                }
                args.graph = Some(key);
            } else {
                errors.push(syn::Error::new_spanned(
                    &key,
                    format!(
                        "unknown argument `{key}` to #[differentiable]; the arguments are `wrt(param, ...)`, `hessian` and `graph`"
                    ),
                ));
                // Skip the unknown argument's own tokens so the next error is still found.
                if input.peek(syn::token::Paren) {
                    let _content;
                    parenthesized!(_content in input);
                } else if input.peek(Token![=]) {
                    input.parse::<Token![=]>()?;
                    input.parse::<syn::Expr>()?;
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(ParsedArgs { args, errors })
    }
}
