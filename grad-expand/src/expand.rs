//! The driver: arguments -> signature -> lowering -> analysis (and the picture) -> reverse
//! sweep -> emission.
//!
//! The user's function is always emitted unchanged, even on error, so the rest of the crate
//! and IDEs keep working and the user sees only the real mistakes.

use crate::companions::Companions;
use crate::diagnostics::Diagnostics;
use crate::graph::{Output, Ty};
use crate::{
    analyze, args, blocks, generics, lower, picture, replay, signature, structure, tuple_params,
};
use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

pub fn differentiable(args: TokenStream, item: TokenStream) -> TokenStream {
    if let Ok(function) = syn::parse2::<syn::ItemFn>(item.clone()) {
        let context = Context {
            in_impl: function.sig.receiver().is_some(),
            ..Context::default()
        };
        return self::function(args, function, &context).into_tokens();
    }
    let mut parsed = syn::parse2::<syn::Item>(item.clone());
    if let Ok(block) = &mut parsed {
        crate::groups::keep_macro_groups_in(block);
    }
    match parsed {
        Ok(syn::Item::Impl(block)) => blocks::impl_block(args, block),
        Ok(syn::Item::Mod(module)) if module.content.is_some() => blocks::module(args, module),
        _ => not_a_function(item),
    }
}

/// Where a function sits, as its expansion needs to know.
#[derive(Default)]
pub struct Context<'a> {
    /// A method or associated function: `const _` items cannot go beside it, and the
    /// companions reach the core through `Self::`.
    pub in_impl: bool,
    /// The generics of the enclosing impl block (`impl<T: Float> Model<T>`).
    pub impl_generics: Option<&'a syn::Generics>,
    /// The functions of the enclosing `#[differentiable]` module or impl block that it left
    /// as written, as their callers name them (`h`, `Self::h`), each with what to say of a
    /// call of it with a differentiated value: it has no derivative, said now rather than
    /// by rustc.
    pub left_as_written: &'a [(String, String)],
    /// The functions of the enclosing `#[differentiable]` module that take closures
    /// (`fn rk4<F: Fn([f64; 2]) -> [f64; 2]>(f: F, ..)`), inlined where they are called.
    pub helpers: &'a [syn::ItemFn],
    /// The function is a scalar function's tangent (`second_order.rs`), expanded for its
    /// gradient alone: no forward mode and no second order of its own.
    pub tangent_of: bool,
    /// What the enclosing block's attribute asks of each of its functions: `hessian`,
    /// second order for each that returns one float (the others have none, without an
    /// error); `graph`, the picture of each.
    pub block: blocks::BlockOptions,
}

/// A function as the attribute emits it, and what it adds beside it.
pub struct Expansion {
    pub function: TokenStream,
    pub companions: TokenStream,
    /// The companions hold grad's errors (and only stubs).
    pub has_errors: bool,
}

impl Expansion {
    pub fn into_tokens(self) -> TokenStream {
        let Expansion {
            function,
            companions,
            ..
        } = self;
        quote!(#function #companions)
    }
}

pub fn function(args: TokenStream, mut function: syn::ItemFn, context: &Context) -> Expansion {
    let _generics = match context.impl_generics {
        Some(outer) => {
            let mut both = outer.clone();
            both.params
                .extend(function.sig.generics.params.iter().cloned());
            if let Some(clause) = &function.sig.generics.where_clause {
                both.make_where_clause()
                    .predicates
                    .extend(clause.predicates.iter().cloned());
            }
            generics::enter(&both)
        }
        None => generics::enter(&function.sig.generics),
    };
    // Before anything reads the body: what lowering copies out of it (nested items, constant
    // expressions) is emitted through syn as well.
    crate::groups::keep_macro_groups(&mut function);
    let in_impl = context.in_impl;
    // A tangent function's literals were converted in the function it comes from.
    if !context.tangent_of {
        generics::convert_literals(&mut function);
    }
    let mut diagnostics = Diagnostics::default();
    let mut args = args::parse(args, &mut diagnostics);
    // The pipeline sees tuple parameters as their elements; the companions take them whole.
    let (flat_function, tuples) = tuple_params::flatten(&function, &mut args);
    let mut signature = signature::analyze(&flat_function, &args, &mut diagnostics);
    let signature_ok = !diagnostics.has_errors() && signature.ret.is_some();
    tuple_params::check_outputs(&signature, &tuples, &mut diagnostics);
    // The picture, asked for by the function or by its block.
    let graph = args.graph.is_some() || context.block.graph.is_some();
    let mut dot = None;
    let (mut lowered, mut unfinished) = match lower::lower(
        &flat_function.block,
        &signature,
        context.helpers,
        &mut diagnostics,
    ) {
        Ok(mut lowered) => {
            let fields_float = signature.ret.as_ref().and_then(|(_, float)| *float);
            analyze::analyze(
                &mut lowered.graph,
                &lowered.body,
                fields_float,
                &mut diagnostics,
            );
            // Drawn before `replay` adds the merges that only the reverse sweep reads.
            if graph {
                dot = Some(picture::dot(&function.sig.ident, &lowered));
            }
            replay::export(&mut lowered.graph, &mut lowered.body);
            (Some(lowered), None)
        }
        Err(unfinished) => (None, Some(unfinished)),
    };
    // `-> Vec3`: the body's value says what the name is (rustc checks the function against
    // it), and the companions are spelled from that.
    if signature.ret_by_name
        && let Some(lowered) = &lowered
    {
        let class = lowered.output_ty();
        if let (Some((_, float)), Ty::Float(Some(found))) = (&mut signature.ret, class.scalar()) {
            *float = Some(*found);
        }
        signature.ret_class = class;
    }
    let companions = Companions {
        tuples: &tuples,
        function: &function,
        signature: &signature,
        elementwise: lowered.as_ref().is_some_and(structure::is_elementwise),
        in_impl,
        struct_output: lowered.as_ref().and_then(struct_output),
        rules_in_scope: context.tangent_of,
        covered: Default::default(),
    };
    // The reverse sweep runs whenever the body lowered, so that its errors come in the same
    // build as every other phase's.
    let core = match (&lowered, signature_ok) {
        (Some(lowered), true) => match companions.core(lowered) {
            Ok(core) => Some(core),
            Err(error) => {
                diagnostics.push(error);
                None
            }
        },
        _ => None,
    };
    // With errors no core is emitted, so rustc would not look for the callees' `_vjp`s
    // until the next build: ask for them now.
    let callee_checks = if diagnostics.has_errors() && !in_impl {
        let callees = match (&mut lowered, &mut unfinished) {
            (Some(lowered), _) => {
                analyze::differentiated_callees(&mut lowered.graph, &lowered.body)
            }
            (_, Some(unfinished)) => {
                analyze::differentiated_callees(&mut unfinished.graph, &unfinished.body)
            }
            (None, None) => Vec::new(),
        };
        callee_checks(&callees)
    } else {
        TokenStream::new()
    };
    if !context.left_as_written.is_empty() {
        let graph = match (&mut lowered, &mut unfinished) {
            (Some(lowered), _) => Some((&mut lowered.graph, &lowered.body)),
            (_, Some(unfinished)) => Some((&mut unfinished.graph, &unfinished.body)),
            (None, None) => None,
        };
        if let Some((graph, body)) = graph {
            for callee in analyze::differentiated_callees(graph, body) {
                blocks::check_callee(&callee, context.left_as_written, &mut diagnostics);
            }
        }
    }
    let probes = if in_impl {
        TokenStream::new()
    } else {
        probes(&signature)
    };
    // Forward mode wherever the tangent sweep covers the body; second order where it is
    // asked for (`hessian`), or an error that says why it cannot be given.
    let (jvp, second) = match (&lowered, &core) {
        (Some(lowered), Some(_)) if !diagnostics.has_errors() && !context.tangent_of => {
            // A block's `hessian` is for the functions that can have second order; the
            // function's own is a promise, and an error where it cannot be kept.
            let from_block =
                context.block.hessian.as_ref().filter(|_| {
                    args.hessian.is_none() && matches!(lowered.output, Output::Scalar(_))
                });
            let scalar_output = matches!(lowered.output, Output::Scalar(_));
            let asked = args.hessian.as_ref().or(from_block);
            let jvp = companions.jvp(lowered, asked.is_some());
            let second = asked.map(|asked| {
                let made = match &jvp {
                    Ok(jvp) => jvp.tangent_function.clone().and_then(|tangent| {
                        crate::second_order::companions(&companions, tangent, context, scalar_output)
                    }),
                    Err(why) => Err(*why),
                };
                made.map_err(|why| {
                    diagnostics.error(
                        asked,
                        format!("grad cannot give `{}` second derivatives yet: {why}; remove `hessian` (the gradient and the other companions do not need it)", function.sig.ident),
                    );
                })
            });
            (jvp.ok().map(|jvp| jvp.tokens), second.and_then(Result::ok))
        }
        _ => (None, None),
    };
    let (companions, has_errors) = match (diagnostics.into_result(), core) {
        (Ok(()), Some(core)) => {
            let wrappers = companions.wrappers(false, jvp.is_some());
            let picture = graph.then(|| companions.graph_picture(dot.as_deref()));
            (quote!(#probes #core #wrappers #jvp #second #picture), false)
        }
        (result, _) => {
            let errors = result.err().map(|e| e.to_compile_error());
            let stubs = signature_ok.then(|| companions.wrappers(true, false));
            let picture = graph.then(|| companions.graph_picture(None));
            (quote!(#probes #errors #callee_checks #stubs #picture), true)
        }
    };
    Expansion {
        function: quote!(#function),
        companions,
        has_errors,
    }
}

/// The float fields of a struct the function returns, each with the one of its type.
fn struct_output(lowered: &crate::graph::Lowered) -> Option<Vec<(syn::Member, TokenStream)>> {
    let crate::graph::Output::Struct {
        members, values, ..
    } = &lowered.output
    else {
        return None;
    };
    Some(
        members
            .iter()
            .zip(values)
            .filter_map(|(member, value)| match lowered.graph.node(*value).ty {
                Ty::Float(Some(float)) => Some((member.clone(), crate::spell::float_one(float))),
                Ty::Float(None) => Some((member.clone(), quote!(::grad::__private::One::one()))),
                _ => None,
            })
            .collect(),
    )
}

/// One compile-time question to rustc per constant parameter type that grad sees only by
/// name: it fails, with the signature's message, if the type holds floats after all.
fn probes(signature: &signature::Signature) -> TokenStream {
    // A parameter grad sees only by name and reads as an array, because the body indexes
    // it: rustc confirms the type is an array.
    let arrays: TokenStream = signature
        .arrays_by_use
        .iter()
        .map(|(ty, depth)| {
            quote::quote_spanned! {ty.span()=>
                const _: () = {
                    fn read_as_an_array<A: ::grad::__private::IndexedArray<#depth> + ?Sized>() {}
                    let _ = read_as_an_array::<#ty>;
                };
            }
        })
        .collect();
    let questions: TokenStream = signature
        .probes
        .iter()
        .map(|(ty, message)| {
            // The message is a format string to `assert!`.
            let message = message.replace('{', "{{").replace('}', "}}");
            quote::quote_spanned! {ty.span()=>
                const _: () = {
                    #[allow(unused_imports)]
                    use ::grad::__private::Opaque as _;
                    ::core::assert!(!::grad::__private::Probe::<#ty>::HOLDS_FLOATS, #message)
                };
            }
        })
        .collect();
    quote::quote!(#arrays #questions)
}

/// `use g_vjp as _;` for each function the body calls with a differentiated value. Emitted
/// only beside the macro's own errors (no core is generated then), so that a callee without
/// a derivative is reported in the same build, not in the next one.
fn callee_checks(callees: &[syn::Path]) -> TokenStream {
    // `use` imports functions of modules, not a type's associated functions
    // (`Params::assoc_vjp`): those are found by rustc in the next build instead. Types are
    // told apart by Rust's naming convention.
    let callees: Vec<&syn::Path> = callees
        .iter()
        .filter(|path| {
            let n = path.segments.len();
            n < 2
                || !path.segments[n - 2]
                    .ident
                    .to_string()
                    .starts_with(|c: char| c.is_uppercase())
        })
        .collect();
    if callees.is_empty() {
        return TokenStream::new();
    }
    let uses = callees.iter().map(|path| {
        let vjp = crate::names::callee_vjp(path);
        quote::quote_spanned!(path.span()=> #[allow(unused_imports)] use #vjp as _;)
    });
    quote!(const _: () = { #(#uses)* };)
}

fn not_a_function(item: TokenStream) -> TokenStream {
    let message = "#[differentiable] applies to functions with a body, such as `fn f(x: f64) -> f64 { x * x }`";
    let error = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(function)) => syn::Error::new(function.span(), message),
        Ok(item) => {
            let what = item_kind(&item);
            syn::Error::new_spanned(
                head_tokens(&item),
                format!(
                    "#[differentiable] applies to functions, impl blocks and inline modules, not to {what}: put it on a `fn` with a body"
                ),
            )
        }
        Err(_) => syn::Error::new(proc_macro2::Span::call_site(), message),
    };
    let error = error.to_compile_error();
    quote!(#item #error)
}

fn item_kind(item: &syn::Item) -> &'static str {
    match item {
        syn::Item::Struct(_) => "a struct",
        syn::Item::Enum(_) => "an enum",
        syn::Item::Union(_) => "a union",
        syn::Item::Trait(_) => "a trait",
        syn::Item::Impl(_) => "an impl block",
        syn::Item::Mod(_) => "a module",
        syn::Item::Const(_) => "a const",
        syn::Item::Static(_) => "a static",
        syn::Item::Type(_) => "a type alias",
        syn::Item::Use(_) => "a use declaration",
        _ => "this item",
    }
}

/// The keyword and name of an item, so the error underlines `struct Point`, not its body.
fn head_tokens(item: &syn::Item) -> TokenStream {
    match item {
        syn::Item::Struct(s) => {
            let (token, ident) = (&s.struct_token, &s.ident);
            quote!(#token #ident)
        }
        syn::Item::Enum(e) => {
            let (token, ident) = (&e.enum_token, &e.ident);
            quote!(#token #ident)
        }
        syn::Item::Trait(t) => {
            let (token, ident) = (&t.trait_token, &t.ident);
            quote!(#token #ident)
        }
        syn::Item::Impl(i) => {
            let token = &i.impl_token;
            quote!(#token)
        }
        syn::Item::Mod(m) => {
            let (token, ident) = (&m.mod_token, &m.ident);
            quote!(#token #ident)
        }
        other => quote!(#other),
    }
}
