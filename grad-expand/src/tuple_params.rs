//! Tuple parameters: `target: (f64, f64)` is differentiated as its elements.
//!
//! Input: `fn f(target: (f64, [f64; 2]), r: f64) -> f64 { .. }`. Output: the function the rest
//! of the pipeline sees, `fn f(__grad_target_0: f64, __grad_target_1: [f64; 2], r: f64) -> f64
//! { let target = (__grad_target_0, __grad_target_1); .. }`, and the groups that tell the
//! public companions to take `target` as written, pass `target.0, target.1` on, and return
//! its gradient entry as a tuple of the same shape.

use crate::args::Args;
use crate::diagnostics::Diagnostics;
use crate::signature::{Signature, classify, float_type, tuple_output};
use crate::types::Ty;
use proc_macro2::Ident;
use syn::{FnArg, ItemFn, Pat, Type, parse_quote};

/// A tuple parameter taken apart: its name and type as written, and its elements' names.
pub struct TupleParam {
    pub ident: Ident,
    pub ty: Type,
    pub elements: Vec<Ident>,
}

/// The elements of a tuple of floats and float arrays, or `None` for any other type.
fn float_elements(ty: &Type) -> Option<Vec<Type>> {
    match ty {
        Type::Paren(inner) => float_elements(&inner.elem),
        Type::Group(inner) => float_elements(&inner.elem),
        Type::Tuple(tuple) if !tuple.elems.is_empty() => tuple
            .elems
            .iter()
            .map(|elem| {
                let floats = float_type(elem).is_some() || classify(elem).scalar().is_float();
                floats.then(|| elem.clone())
            })
            .collect(),
        _ => None,
    }
}

/// Takes every differentiated tuple parameter apart (see the module docs); `wrt(target)`
/// becomes `wrt` of its elements. A tuple left out of `wrt` stays a constant, as written.
pub fn flatten(function: &ItemFn, args: &mut Args) -> (ItemFn, Vec<TupleParam>) {
    let mut flat = function.clone();
    let mut groups = Vec::new();
    let mut inputs = syn::punctuated::Punctuated::<FnArg, syn::Token![,]>::new();
    for input in &function.sig.inputs {
        let FnArg::Typed(typed) = input else {
            inputs.push(input.clone());
            continue;
        };
        let (Pat::Ident(pat), Some(elements)) = (&*typed.pat, float_elements(&typed.ty)) else {
            inputs.push(input.clone());
            continue;
        };
        let named_in_wrt = args.wrt.as_ref().is_none_or(|wrt| wrt.contains(&pat.ident));
        if pat.by_ref.is_some() || pat.subpat.is_some() || !named_in_wrt {
            inputs.push(input.clone());
            continue;
        }
        let ident = pat.ident.clone();
        let names: Vec<Ident> = (0..elements.len())
            .map(|k| crate::names::tuple_element(&ident, k))
            .collect();
        for (name, ty) in names.iter().zip(&elements) {
            inputs.push(parse_quote!(#name: #ty));
        }
        // `let target = (e0, e1);` first in the body, where the user's code finds `target`.
        let mutability = &pat.mutability;
        flat.block
            .stmts
            .insert(0, parse_quote!(let #mutability #ident = (#(#names,)*);));
        if let Some(wrt) = &mut args.wrt {
            let position = wrt.iter().position(|w| *w == ident).expect("named in wrt");
            wrt.splice(position..=position, names.iter().cloned());
        }
        groups.push(TupleParam {
            ident,
            ty: (*typed.ty).clone(),
            elements: names,
        });
    }
    flat.sig.inputs = inputs;
    (flat, groups)
}

/// The companions regroup a tuple's entries where the gradient is one tuple of entries, not
/// in Jacobian rows.
pub fn check_outputs(signature: &Signature, tuples: &[TupleParam], diagnostics: &mut Diagnostics) {
    let vector_output = !matches!(signature.ret_class, Ty::Float(_) | Ty::Unknown)
        || signature
            .ret
            .as_ref()
            .is_some_and(|(ty, _)| tuple_output(ty).is_some());
    if vector_output {
        for tuple in tuples {
            diagnostics.error(&tuple.ty, format!("a tuple parameter is differentiated only in a function that returns one float, so far: take the elements of `{}` as parameters of their own", tuple.ident));
        }
    }
}
