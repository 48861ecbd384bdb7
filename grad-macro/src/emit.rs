//! Code generation: the forward sweep, and the companions around the sweeps.
//!
//! Input: `fn f(x: f64, y: f64, z: f64) -> f64 { (x + y) * z }`. Output: a hidden
//! `__f_value_and_vjp(x, y, z, upstream) -> (f64, (f64, f64, f64))` holding both sweeps, and the
//! public `f_grad`, `f_value_and_grad` and `f_vjp`, each a one-line call of it.

use crate::graph::{CallStyle, Graph, InactiveExpr, Op, ValueId};
use crate::lower::Lowered;
use crate::names;
use crate::reverse::ReverseSweep;
use crate::signature::Signature;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ItemFn;

/// How generated code refers to a node's forward value: the parameter's name, the constant
/// itself, or the node's local.
pub fn operand(graph: &Graph, id: ValueId) -> TokenStream {
    match &graph.node(id).op {
        Op::Param { ident } => quote!(#ident),
        Op::Constant(tokens) => tokens.clone(),
        _ => {
            let name = names::value(id);
            quote!(#name)
        }
    }
}

/// A method receiver: a constant such as `-2.0` needs parentheses there.
fn receiver(graph: &Graph, id: ValueId) -> TokenStream {
    let tokens = operand(graph, id);
    match graph.node(id).op {
        Op::Constant(_) => quote!((#tokens)),
        _ => tokens,
    }
}

fn forward_expr(graph: &Graph, id: ValueId) -> Option<TokenStream> {
    let node = graph.node(id);
    let span = node.span;
    let arg = |a: &ValueId| operand(graph, *a);
    let expr = match &node.op {
        Op::Param { .. } | Op::Constant(_) => return None,
        Op::Neg(a) => {
            let a = arg(a);
            quote_spanned!(span=> -#a)
        }
        Op::Binary {
            token, lhs, rhs, ..
        } => {
            let (a, b) = (arg(lhs), arg(rhs));
            quote_spanned!(span=> #a #token #b)
        }
        Op::Cast { value, to } => {
            let a = arg(value);
            quote_spanned!(span=> #a as #to)
        }
        Op::FloatMethod {
            method,
            style,
            args,
            ..
        } => match style {
            CallStyle::Method => {
                let recv = receiver(graph, args[0]);
                let rest = args[1..].iter().map(arg);
                quote_spanned!(span=> #recv.#method(#(#rest),*))
            }
            CallStyle::Path(path) => {
                let all = args.iter().map(arg);
                quote_spanned!(span=> #path(#(#all),*))
            }
        },
        Op::Call { path, args } => {
            let all = args.iter().map(arg);
            quote_spanned!(span=> #path(#(#all),*))
        }
        Op::Inactive { template, args } => match template {
            InactiveExpr::Method { method, turbofish } => {
                let recv = receiver(graph, args[0]);
                let rest = args[1..].iter().map(arg);
                quote_spanned!(span=> #recv.#method #turbofish (#(#rest),*))
            }
            InactiveExpr::Field(member) => {
                let base = receiver(graph, args[0]);
                quote_spanned!(span=> #base.#member)
            }
            InactiveExpr::Deref => {
                let a = arg(&args[0]);
                quote_spanned!(span=> *#a)
            }
            InactiveExpr::Reference => {
                let a = arg(&args[0]);
                quote_spanned!(span=> &#a)
            }
            InactiveExpr::Not => {
                let a = arg(&args[0]);
                quote_spanned!(span=> !#a)
            }
        },
    };
    let name = names::value(id);
    Some(quote_spanned!(span=> let #name = #expr;))
}

/// The forward sweep computes each node the output or the reverse sweep needs, once.
fn forward(graph: &Graph, output: ValueId, reverse: &ReverseSweep) -> Vec<TokenStream> {
    let mut needed = vec![false; graph.nodes.len()];
    let mut pending: Vec<ValueId> = reverse.uses.clone();
    pending.push(output);
    while let Some(id) = pending.pop() {
        if !needed[id.0] {
            needed[id.0] = true;
            pending.extend(graph.node(id).args());
        }
    }
    (0..graph.nodes.len())
        .filter(|i| needed[*i])
        .filter_map(|i| forward_expr(graph, ValueId(i)))
        .collect()
}

pub struct Companions<'a> {
    pub function: &'a ItemFn,
    pub signature: &'a Signature,
}

impl Companions<'_> {
    fn gradient_type(&self) -> TokenStream {
        let types: Vec<&syn::Type> = self.signature.differentiable().map(|p| &p.ty).collect();
        match types.as_slice() {
            [only] => quote!(#only),
            many => quote!((#(#many),*)),
        }
    }

    fn return_type(&self) -> &syn::Type {
        &self
            .signature
            .ret
            .as_ref()
            .expect("companions are generated only for a float return type")
            .0
    }

    /// `#[cfg]` attributes follow the function onto its companions; nothing else does
    /// (a copied `#[no_mangle]` or `#[test]` would be wrong).
    fn inherited_attributes(&self) -> Vec<&syn::Attribute> {
        self.function
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg"))
            .collect()
    }

    /// The three public companions, calling `core`; with `body` absent they are stubs, so an
    /// error in the body does not also produce "cannot find `f_grad`" errors at call sites.
    pub fn wrappers(&self, stub: bool) -> TokenStream {
        let sig = &self.function.sig;
        let vis = &self.function.vis;
        let name = &sig.ident;
        let (impl_generics, _, where_clause) = sig.generics.split_for_impl();
        let _ = impl_generics;
        let generics = &sig.generics;
        let params: Vec<TokenStream> = self
            .signature
            .params
            .iter()
            .map(|p| {
                let (ident, ty) = (&p.ident, &p.ty);
                quote!(#ident: #ty)
            })
            .collect();
        let args: Vec<&proc_macro2::Ident> =
            self.signature.params.iter().map(|p| &p.ident).collect();
        let ret = self.return_type();
        let grad_ty = self.gradient_type();
        let core = names::core(name);
        let upstream = names::upstream();
        let attrs = self.inherited_attributes();
        let one = quote!(<#ret as ::grad::Float>::ONE);
        let call = |seed: TokenStream| -> TokenStream {
            if stub {
                quote!(::core::unimplemented!())
            } else {
                quote!(#core(#(#args,)* #seed))
            }
        };
        let grad_body = call(one.clone());
        let value_and_grad_body = call(one);
        let vjp_body = call(quote!(#upstream));
        let (grad_body, vjp_body) = if stub {
            (grad_body, vjp_body)
        } else {
            (quote!(#grad_body.1), quote!(#vjp_body.1))
        };
        let wrt: Vec<String> = self
            .signature
            .differentiable()
            .map(|p| format!("`{}`", p.ident))
            .collect();
        let wrt = wrt.join(", ");
        let grad_doc = format!(
            " The gradient of `{name}` with respect to {wrt}: one entry per parameter, in parameter order, each shaped like its parameter.\n\n Generated by `#[differentiable]`."
        );
        let value_doc = format!(
            " The value of `{name}` and its gradient with respect to {wrt}, from one forward and one reverse sweep.\n\n Generated by `#[differentiable]`."
        );
        let vjp_doc = format!(
            " The vector-Jacobian product (pullback) of `{name}`: `upstream` times the gradient with respect to {wrt}.\n\n Generated by `#[differentiable]`."
        );
        let grad_name = names::companion(name, "grad");
        let value_name = names::companion(name, "value_and_grad");
        let vjp_name = names::companion(name, "vjp");
        let allow = if stub {
            quote!(#[allow(dead_code, unused_variables)])
        } else {
            quote!(#[allow(dead_code)])
        };
        quote! {
            #(#attrs)*
            #[doc = #grad_doc]
            #[inline]
            #allow
            #vis fn #grad_name #generics (#(#params),*) -> #grad_ty #where_clause {
                #grad_body
            }

            #(#attrs)*
            #[doc = #value_doc]
            #[inline]
            #allow
            #vis fn #value_name #generics (#(#params),*) -> (#ret, #grad_ty) #where_clause {
                #value_and_grad_body
            }

            #(#attrs)*
            #[doc = #vjp_doc]
            #[inline]
            #allow
            #vis fn #vjp_name #generics (#(#params,)* #upstream: #ret) -> #grad_ty #where_clause {
                #vjp_body
            }
        }
    }

    /// The hidden function that holds the forward and the reverse sweep.
    pub fn core(&self, lowered: &Lowered, reverse: &ReverseSweep) -> TokenStream {
        let sig = &self.function.sig;
        let generics = &sig.generics;
        let where_clause = &sig.generics.where_clause;
        let core = names::core(&sig.ident);
        let params = self.signature.params.iter().map(|p| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote!(#ident: #ty)
        });
        let ret = self.return_type();
        let grad_ty = self.gradient_type();
        let upstream = names::core_upstream();
        let items = &lowered.items;
        let graph = &lowered.graph;
        let forward = forward(graph, lowered.output, reverse);
        let backward = &reverse.statements;
        let value = operand(graph, lowered.output);
        // Parameters are pushed first, so parameter i is node i.
        let gradients: Vec<TokenStream> = self
            .signature
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.differentiable)
            .map(|(i, p)| {
                if reverse.has_adjoint[i] {
                    let adj = names::adjoint(ValueId(i));
                    quote!(#adj)
                } else {
                    let ty = &p.ty;
                    quote!(<#ty as ::grad::Float>::ZERO)
                }
            })
            .collect();
        let gradient = match gradients.as_slice() {
            [only] => only.clone(),
            many => quote!((#(#many),*)),
        };
        let attrs = self.inherited_attributes();
        // A user who calls only `f_grad` has still used `f`; without this, `f` warns as dead code.
        let name = &sig.ident;
        let mark_used = sig.generics.type_params().next().is_none()
            && sig.generics.const_params().next().is_none();
        let mark_used = mark_used.then(|| quote!(let _ = #name;));
        quote! {
            #(#attrs)*
            #[doc(hidden)]
            #[inline]
            #[allow(unused_variables, clippy::all, clippy::pedantic, clippy::nursery)]
            fn #core #generics (#(#params,)* #upstream: #ret) -> (#ret, #grad_ty) #where_clause {
                #mark_used
                #(#items)*
                #(#forward)*
                #(#backward)*
                (#value, #gradient)
            }
        }
    }
}
