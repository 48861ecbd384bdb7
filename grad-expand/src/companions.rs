//! The companions: the hidden core that runs both sweeps, and the public functions around it.
//!
//! Input: `fn f(x: f64, y: f64, z: f64) -> f64 { (x + y) * z }`. Output: a hidden
//! `__f_value_and_vjp(x, y, z, upstream) -> (f64, (f64, f64, f64))` holding both sweeps, and the
//! public `f_grad`, `f_value_and_grad` and `f_vjp`, each a one-line call of it.

use crate::fold;
use crate::graph::{ArrayId, ArrayInit, FloatTy, Len, Ty, ValueId};
use crate::graph::{Lowered, Output};
use crate::names;
use crate::reverse::{Sweep, render};
use crate::signature::{self, Param, Signature};
use crate::spell::{array_name, element_count, float_one, float_zero, operand, zeros};
use crate::tuple_params::TupleParam;
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::HashMap;
use syn::ItemFn;

/// `T` of a slice parameter `x: &[T]` (or `Vec<T>`, `&Vec<T>`).
fn slice_element(param: &Param) -> Option<TokenStream> {
    if !matches!(param.class, Ty::Slice(_)) {
        return None;
    }
    signature::slice_element(&param.ty).map(|elem| quote!(#elem))
}

/// The type of a parameter's tangent in the forward core: its gradient entry's, a slice's a
/// slice of its elements (`&[f64]`, `&[[f64; 3]]`, `&[Vec<f64>]`).
fn tangent_type(param: &Param) -> TokenStream {
    match slice_element(param) {
        Some(elem) => quote!(&[#elem]),
        None => param.core_gradient_type(),
    }
}

/// An array of floats (of any depth) whose lengths are written out.
fn fixed_array_of_floats(ty: &Ty) -> bool {
    match ty {
        Ty::Array(elem, _) => !ty.has_inferred_len() && fixed_array_of_floats(elem),
        Ty::Float(_) => true,
        _ => false,
    }
}

/// A Hessian block's shape: `outer`'s, with a value of `inner`'s shape for each of its floats.
fn nested(outer: &Ty, inner: &Ty) -> Ty {
    match outer {
        Ty::Array(elem, len) => Ty::Array(Box::new(nested(elem, inner)), len.clone()),
        _ => inner.clone(),
    }
}

/// A shape of floats written as a type, with `elem` for its floats.
fn type_of(shape: &Ty, elem: &proc_macro2::Ident) -> TokenStream {
    match shape {
        Ty::Array(inner, len) => {
            let (inner, len) = (type_of(inner, elem), &len.0);
            quote!([#inner; #len])
        }
        _ => quote!(#elem),
    }
}

/// `#[doc(hidden)]`.
fn is_doc_hidden(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("doc")
        && matches!(&attr.meta, syn::Meta::List(list) if list.tokens.to_string() == "hidden")
}

/// A public companion's tangent or direction for a parameter: shaped like its gradient entry
/// (a nalgebra value as its type), a slice's a slice.
fn direction_parameter(param: &Param, name: &proc_macro2::Ident) -> TokenStream {
    let ty = match slice_element(param) {
        Some(_) => tangent_type(param),
        None => {
            let ty = &param.gradient_ty;
            quote!(#ty)
        }
    };
    quote!(#name: #ty)
}

/// That tangent or direction as the core takes it: a nalgebra value (taken by value
/// whatever its parameter is) as its array.
fn direction_argument(param: &Param, name: &proc_macro2::Ident) -> TokenStream {
    match &param.linalg {
        Some(linalg) => {
            let owned = crate::linalg::Linalg {
                by_reference: false,
                ..linalg.clone()
            };
            crate::linalg::to_array(&owned, quote!(#name))
        }
        None => quote!(#name),
    }
}

/// A zero gradient for a slice parameter: a `Vec` of zeros shaped like its elements (rows
/// as long as its rows, for a `&[Vec<f64>]`).
fn slice_zeros(param: &Param) -> TokenStream {
    let ident = &param.ident;
    match &param.class {
        Ty::Slice(elem) => match &**elem {
            Ty::Array(..) => {
                let zero = zeros(elem);
                quote!(::grad::__private::vec_filled(#zero, #ident.len()))
            }
            Ty::Slice(_) => quote!(::grad::__private::ragged_zeros(&#ident)),
            _ => quote!(::grad::__private::vec_zeros(#ident.len())),
        },
        _ => quote!(::grad::__private::vec_zeros(#ident.len())),
    }
}

/// The caller's buffer for a slice parameter's gradient in `f_grad_into`, checked against
/// the parameter's shape and zeroed, as the core expects its buffers.
fn zero_buffer(param: &Param) -> TokenStream {
    let ident = &param.ident;
    let buffer = names::slice_gradient(ident);
    match &param.class {
        Ty::Slice(elem) => match &**elem {
            Ty::Array(..) => {
                let zero = zeros(elem);
                quote!(::grad::__private::slice_adjoint_filled(#buffer, #ident.len(), #zero))
            }
            Ty::Slice(_) => quote!(::grad::__private::ragged_adjoint(#buffer, &#ident)),
            _ => quote!(::grad::__private::slice_adjoint(#buffer, #ident.len())),
        },
        _ => quote!(::grad::__private::slice_adjoint(#buffer, #ident.len())),
    }
}

/// One item alone, several as a tuple: how the companions group entries, types and names.
/// A Jacobian of unrolled vjps: `let (__row0_k, __row1_k, ..) = #row;` for each output `k`'s
/// vjp `rows[k]`, and for each of `entries` parameters the names of its rows, in order.
fn unrolled_rows(
    entries: usize,
    rows: Vec<TokenStream>,
) -> (Vec<TokenStream>, Vec<Vec<proc_macro2::Ident>>) {
    let mut calls = Vec::new();
    let mut columns: Vec<Vec<proc_macro2::Ident>> = vec![Vec::new(); entries];
    for (k, row) in rows.into_iter().enumerate() {
        let names_k: Vec<proc_macro2::Ident> = (0..entries)
            .map(|p| {
                quote::format_ident!("__row{}_{}", p, k, span = proc_macro2::Span::mixed_site())
            })
            .collect();
        let pattern = one_or_tuple(&names_k);
        calls.push(quote!(let #pattern = #row;));
        for (p, n) in names_k.into_iter().enumerate() {
            columns[p].push(n);
        }
    }
    (calls, columns)
}

/// The value of a constant expression of sizes (`(2 * 1) + 1`, `8`), where it has no names.
fn constant(expr: &syn::Expr) -> Option<usize> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) => int.base10_parse().ok(),
        syn::Expr::Paren(inner) => constant(&inner.expr),
        syn::Expr::Binary(binary) => {
            let (a, b) = (constant(&binary.left)?, constant(&binary.right)?);
            match binary.op {
                syn::BinOp::Add(_) => a.checked_add(b),
                syn::BinOp::Mul(_) => a.checked_mul(b),
                _ => None,
            }
        }
        _ => None,
    }
}

fn one_or_tuple<T: quote::ToTokens>(items: &[T]) -> TokenStream {
    match items {
        [only] => quote!(#only),
        many => quote!((#(#many),*)),
    }
}

/// What every public companion of a function is made of.
struct Setup<'a> {
    vis: &'a syn::Visibility,
    name: &'a proc_macro2::Ident,
    generics: &'a syn::Generics,
    where_clause: &'a Option<syn::WhereClause>,
    /// The companions' parameters, as the user wrote the function's.
    params: Vec<TokenStream>,
    /// The core's arguments, from those parameters.
    args: Vec<TokenStream>,
    ret: &'a syn::Type,
    core: TokenStream,
    upstream: proc_macro2::Ident,
    attrs: Vec<&'a syn::Attribute>,
    /// The seed of a scalar function's gradient.
    one: TokenStream,
    /// The zero gradient the core fills.
    init: TokenStream,
    allow: TokenStream,
}

impl Setup<'_> {
    /// One public companion: the function's `cfg`s, `doc`, its visibility, generics and where
    /// clause, its parameters followed by `inputs`, and `body`.
    fn companion(
        &self,
        name: &proc_macro2::Ident,
        doc: String,
        inline: bool,
        inputs: TokenStream,
        output: TokenStream,
        body: TokenStream,
    ) -> TokenStream {
        let Setup {
            attrs,
            allow,
            vis,
            generics,
            params,
            where_clause,
            ..
        } = self;
        let inline = inline.then(|| quote!(#[inline]));
        let inputs = if inputs.is_empty() {
            quote!(#(#params),*)
        } else {
            quote!(#(#params,)* #inputs)
        };
        quote! {
            #(#attrs)* #[doc = #doc] #inline #allow
            #vis fn #name #generics (#inputs) -> #output #where_clause { #body }
        }
    }
}

pub struct Companions<'a> {
    /// The user's function: the companions' names, generics and public parameters.
    pub function: &'a ItemFn,
    /// Tuple parameters, which the signature (and the core) sees as their elements.
    pub tuples: &'a [TupleParam],
    pub signature: &'a Signature,
    /// Output `i` depends on input `i` alone: the Jacobian is diagonal.
    pub elementwise: bool,
    /// The function is a method or an associated function: the companions and the core are
    /// too, and reach each other through `Self::`.
    pub in_impl: bool,
    /// A struct the function returns (`-> Point`, ending in `Point { x: a, y: b }`): its
    /// float fields, each with the one of its type, which seed the Jacobian's rows.
    pub struct_output: Option<Vec<(syn::Member, TokenStream)>>,
    /// The function is a tangent function (`second_order.rs`), whose body already brings
    /// the rules into scope.
    pub rules_in_scope: bool,
    /// What the core writes whole rather than adds to (`reverse/overwrite.rs`): the slice
    /// gradients `f_grad_into` need not zero, those `f_grad` hands the core as an empty `Vec`,
    /// and whether the whole gradient is one array `f_grad` hands it as an `UnfilledArray`.
    /// Set by `core`, which runs first.
    pub covered: std::cell::RefCell<crate::reverse::Covered>,
}

impl Companions<'_> {
    /// The tuple parameter that a parameter of the signature is element `k` of.
    fn tuple_of(&self, param: &Param) -> Option<(&TupleParam, usize)> {
        self.tuples.iter().find_map(|tuple| {
            let k = tuple.elements.iter().position(|e| *e == param.ident)?;
            Some((tuple, k))
        })
    }

    /// How the public companions reach a parameter of the signature: by its name, or as
    /// `target.k` of a tuple parameter.
    fn access(&self, param: &Param) -> TokenStream {
        match self.tuple_of(param) {
            Some((tuple, k)) => {
                let (ident, k) = (&tuple.ident, syn::Index::from(k));
                quote!(#ident.#k)
            }
            None => {
                let ident = &param.ident;
                quote!(#ident)
            }
        }
    }

    /// The public companions' parameters: the user's, tuples whole.
    fn public_params(&self) -> Vec<TokenStream> {
        self.signature
            .params
            .iter()
            .filter_map(|p| match self.tuple_of(p) {
                Some((tuple, 0)) => {
                    let (ident, ty) = (&tuple.ident, &tuple.ty);
                    Some(quote!(#ident: #ty))
                }
                Some(_) => None,
                None => Some(p.declaration(false)),
            })
            .collect()
    }

    /// One token per differentiated parameter of the signature, in order, gathered as the
    /// public companions return them: one alone, several in a tuple, and a tuple parameter's
    /// elements in a tuple of their own.
    fn grouped<'p>(
        &self,
        items: impl IntoIterator<Item = (&'p Param, TokenStream)>,
    ) -> TokenStream {
        let mut groups: Vec<(Option<&proc_macro2::Ident>, Vec<TokenStream>)> = Vec::new();
        for (param, tokens) in items {
            match self.tuple_of(param) {
                Some((tuple, _)) => match groups.last_mut() {
                    Some((Some(ident), members)) if **ident == tuple.ident => members.push(tokens),
                    _ => groups.push((Some(&tuple.ident), vec![tokens])),
                },
                None => groups.push((None, vec![tokens])),
            }
        }
        let entries: Vec<TokenStream> = groups
            .into_iter()
            .map(|(tuple, members)| match tuple {
                Some(_) => quote!((#(#members,)*)),
                None => members.into_iter().next().expect("one member"),
            })
            .collect();
        one_or_tuple(&entries)
    }

    /// The core's flat gradient, `__grad`, as the public companions return it (see
    /// `grouped`).
    fn regroup(&self, flat: TokenStream) -> TokenStream {
        if self.tuples.is_empty() {
            return flat;
        }
        let entries: Vec<&Param> = self
            .signature
            .differentiable()
            .filter(|p| slice_element(p).is_none())
            .collect();
        let names: Vec<proc_macro2::Ident> =
            (0..entries.len()).map(names::gradient_entry).collect();
        let pattern = one_or_tuple(&names);
        let result = self.grouped(entries.into_iter().zip(names.iter().map(|n| quote!(#n))));
        quote!({ let #pattern = #flat; #result })
    }

    /// The gradient as the public companions return it: a slice's entry is a `Vec`, a tuple
    /// parameter's a tuple.
    fn gradient_type(&self) -> TokenStream {
        self.grouped(self.signature.differentiable().map(|p| {
            let ty = match slice_element(p) {
                Some(elem) => quote!(::grad::__private::Vec<#elem>),
                None => {
                    let ty = &p.gradient_ty;
                    quote!(#ty)
                }
            };
            (p, ty)
        }))
    }

    /// What `_grad_into` returns: the entries of the parameters that are not slices.
    fn grad_into_return_type(&self) -> TokenStream {
        self.grouped(
            self.signature
                .differentiable()
                .filter(|p| slice_element(p).is_none())
                .map(|p| {
                    let ty = &p.gradient_ty;
                    (p, quote!(#ty))
                }),
        )
    }

    fn core_gradient_type(&self) -> TokenStream {
        let types: Vec<TokenStream> = self
            .signature
            .differentiable()
            .filter(|p| slice_element(p).is_none())
            .map(|p| p.core_gradient_type())
            .collect();
        one_or_tuple(&types)
    }

    /// The core's gradient `flat` as the public companions return it: a nalgebra entry as
    /// its parameter's type, then grouped (`regroup`).
    fn public_gradient(&self, flat: TokenStream) -> TokenStream {
        let entries: Vec<&Param> = self
            .signature
            .differentiable()
            .filter(|p| slice_element(p).is_none())
            .collect();
        if entries.iter().all(|p| p.linalg.is_none()) {
            return self.regroup(flat);
        }
        let names: Vec<proc_macro2::Ident> =
            (0..entries.len()).map(names::gradient_entry).collect();
        let pattern = one_or_tuple(&names);
        let converted: Vec<TokenStream> = entries
            .iter()
            .zip(&names)
            .map(|(p, name)| match &p.linalg {
                Some(linalg) => crate::linalg::from_array(linalg, quote!(#name)),
                None => quote!(#name),
            })
            .collect();
        let result = one_or_tuple(&converted);
        self.regroup(quote!({ let #pattern = #flat; #result }))
    }

    /// The zero gradient a companion hands the core to accumulate into.
    fn gradient_init(&self) -> TokenStream {
        let zeros: Vec<TokenStream> = self
            .signature
            .differentiable()
            .filter(|p| slice_element(p).is_none())
            .map(|p| {
                if p.is_struct() {
                    // A struct's gradient starts as the struct with its floats zero.
                    let (access, ty) = (self.access(p), &p.gradient_ty);
                    quote!(<#ty as ::grad::Differentiable>::zeros_like(&#access))
                } else {
                    zeros(&p.class)
                }
            })
            .collect();
        one_or_tuple(&zeros)
    }

    /// The parts every companion shares; `stub` companions only stand in for the real ones
    /// after an error.
    fn setup(&self, stub: bool) -> Setup<'_> {
        let sig = &self.function.sig;
        let ret = self.return_type();
        Setup {
            vis: &self.function.vis,
            name: &sig.ident,
            generics: &sig.generics,
            where_clause: &sig.generics.where_clause,
            params: self.public_params(),
            args: self
                .signature
                .params
                .iter()
                .map(|p| match &p.linalg {
                    Some(linalg) => crate::linalg::to_array(linalg, self.access(p)),
                    None => self.access(p),
                })
                .collect(),
            ret,
            core: self.core_path(),
            upstream: names::upstream(),
            // The companions of a hidden function (a tangent function's) are hidden too.
            attrs: self
                .function
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("cfg") || is_doc_hidden(a))
                .collect(),
            one: self
                .float()
                .map_or_else(|| quote!(::grad::__private::One::one()), float_one),
            init: self.gradient_init(),
            allow: if stub {
                quote!(#[allow(dead_code, unused_variables, clippy::too_many_arguments)])
            } else {
                quote!(#[allow(dead_code, clippy::too_many_arguments)])
            },
        }
    }

    fn slice_params(&self) -> Vec<&Param> {
        self.signature
            .differentiable()
            .filter(|p| slice_element(p).is_some())
            .collect()
    }

    /// The companions of a function with slice parameters: `f_grad` and friends return a
    /// `Vec` per slice, and `f_grad_into` writes the slices' gradients into the caller's
    /// buffers without allocating.
    fn slice_wrappers(&self, stub: bool) -> TokenStream {
        let setup = self.setup(stub);
        let Setup {
            name,
            args,
            ret,
            core,
            upstream,
            one,
            init,
            ..
        } = &setup;
        let (grad_ty, into_grad_ty) = (self.gradient_type(), self.grad_into_return_type());
        let slices = self.slice_params();
        let buffers: Vec<proc_macro2::Ident> = slices
            .iter()
            .map(|p| names::slice_gradient(&p.ident))
            .collect();
        let elems: Vec<TokenStream> = slices.iter().filter_map(|p| slice_element(p)).collect();
        let filled = &self.covered.borrow().filled;
        let zeroed: Vec<TokenStream> = slices
            .iter()
            .map(|p| {
                if filled.contains(&p.ident) {
                    quote!(::grad::__private::vec_unfilled())
                } else {
                    slice_zeros(p)
                }
            })
            .collect();
        let rest = names::rest();
        let others = self
            .signature
            .differentiable()
            .filter(|p| slice_element(p).is_none())
            .count();
        let mut other_index = 0;
        let assembled = self.grouped(self.signature.differentiable().map(|p| {
            let entry = if slice_element(p).is_some() {
                let buffer = names::slice_gradient(&p.ident);
                quote!(#buffer)
            } else if others == 1 {
                quote!(#rest)
            } else {
                let k = syn::Index::from(other_index);
                other_index += 1;
                quote!(#rest.#k)
            };
            (p, entry)
        }));
        let allocate = quote!(#(let mut #buffers = #zeroed;)*);
        let body = |seed: TokenStream, with_value: bool| -> TokenStream {
            if stub {
                return quote!(::core::unimplemented!());
            }
            let call = quote!(#core(#(#args,)* #(&mut #buffers,)* #seed, &mut #rest));
            if with_value {
                let value = names::function_value();
                quote!(#allocate let mut #rest = #init; let #value = #call; (#value, #assembled))
            } else {
                quote!(#allocate let mut #rest = #init; #call; #assembled)
            }
        };
        let (grad_body, value_body, vjp_body) = (
            body(one.clone(), false),
            body(one.clone(), true),
            body(quote!(#upstream), false),
        );
        let into_body = if stub {
            quote!(::core::unimplemented!())
        } else {
            let returned = self.regroup(quote!(#rest));
            // A buffer the core assigns every element of needs no zeros (the core checks
            // its length).
            let overwritten = &self.covered.borrow().assigned;
            let zero_buffers = slices
                .iter()
                .filter(|p| !overwritten.contains(&p.ident))
                .map(|p| zero_buffer(p));
            quote!(#(#zero_buffers;)* let mut #rest = #init; #core(#(#args,)* #(#buffers,)* #one, &mut #rest); #returned)
        };
        let grad_name = names::companion(name, "grad");
        let value_name = names::companion(name, "value_and_grad");
        let vjp_name = names::companion(name, "vjp");
        let into_name = names::companion(name, "grad_into");
        let grad_doc = format!(
            " The gradient of `{name}`: one entry per differentiable parameter, a `Vec` for each slice.\n\n Generated by `#[differentiable]`."
        );
        let value_doc = format!(
            " The value of `{name}` and its gradient, from one forward and one reverse sweep.\n\n Generated by `#[differentiable]`."
        );
        let vjp_doc = format!(
            " The vector-Jacobian product (pullback) of `{name}`: `upstream` times the gradient.\n\n Generated by `#[differentiable]`."
        );
        let into_doc = format!(
            " The gradient of `{name}` without allocating: each slice parameter's gradient is written into the buffer after the arguments (`x_grad` for `x`, of the same length); the other entries are returned.\n\n Generated by `#[differentiable]`."
        );
        [
            setup.companion(
                &grad_name,
                grad_doc,
                true,
                quote!(),
                grad_ty.clone(),
                grad_body,
            ),
            setup.companion(
                &value_name,
                value_doc,
                true,
                quote!(),
                quote!((#ret, #grad_ty)),
                value_body,
            ),
            setup.companion(
                &vjp_name,
                vjp_doc,
                true,
                quote!(#upstream: #ret),
                grad_ty,
                vjp_body,
            ),
            setup.companion(
                &into_name,
                into_doc,
                true,
                quote!(#(#buffers: &mut [#elems]),*),
                into_grad_ty,
                into_body,
            ),
        ]
        .into_iter()
        .collect()
    }

    /// The core as the companions call it, with the function's type and const parameters
    /// passed on explicitly: a parameter used only in the body (`[0.0; N]`) cannot be inferred.
    fn core_path(&self) -> TokenStream {
        self.beside(&names::core(&self.function.sig.ident))
    }

    /// A function generated beside the user's (a core, a second-order companion) as the
    /// companions call it: through `Self::` in an impl, with the type and const parameters.
    fn beside(&self, name: &proc_macro2::Ident) -> TokenStream {
        let owner = self.in_impl.then(|| quote!(Self::));
        let turbofish = self.turbofish();
        quote!(#owner #name #turbofish)
    }

    /// `::<T, N>` of the function's type and const parameters, passed on explicitly: a
    /// parameter used only in the body (`[0.0; N]`) cannot be inferred. `None` without any.
    fn turbofish(&self) -> Option<TokenStream> {
        let generics: Vec<&proc_macro2::Ident> = self
            .function
            .sig
            .generics
            .params
            .iter()
            .filter_map(|param| match param {
                syn::GenericParam::Type(ty) => Some(&ty.ident),
                syn::GenericParam::Const(constant) => Some(&constant.ident),
                syn::GenericParam::Lifetime(_) => None,
            })
            .collect();
        (!generics.is_empty()).then(|| quote!(::<#(#generics),*>))
    }

    /// The float type of the function's result (of its elements, for an array); `None`
    /// when nothing in the function says it and rustc infers it (`-> Vec3` of floats read
    /// out of `Vec3` parameters).
    fn float(&self) -> Option<FloatTy> {
        self.signature.ret.as_ref().and_then(|(_, float)| *float)
    }

    fn return_type(&self) -> &syn::Type {
        &self
            .signature
            .ret
            .as_ref()
            .expect("companions are generated only for a float return type")
            .0
    }

    /// A call of the user's function with the companion's parameters: `f(x, y)`,
    /// `f::<T>(x)`, `self.f(x)`, `Self::f(x)`.
    fn call_of_the_function(&self) -> TokenStream {
        let sig = &self.function.sig;
        let name = &sig.ident;
        let args: Vec<TokenStream> = sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                syn::FnArg::Typed(typed) => match &*typed.pat {
                    syn::Pat::Ident(ident) => {
                        let ident = &ident.ident;
                        Some(quote!(#ident))
                    }
                    _ => None,
                },
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        let turbofish = self.turbofish();
        match (sig.receiver(), self.in_impl) {
            (Some(_), _) => quote!(self.#name #turbofish(#(#args),*)),
            (None, true) => quote!(Self::#name #turbofish(#(#args),*)),
            (None, false) => quote!(#name #turbofish(#(#args),*)),
        }
    }

    /// The type the core returns: the function's own, or a nalgebra vector's array.
    fn core_return_type(&self) -> TokenStream {
        let ret = self.return_type();
        match &self.signature.ret_linalg {
            Some(linalg) => crate::linalg::array_type(&self.signature.ret_class, &linalg.elem),
            None => quote!(#ret),
        }
    }

    /// The Jacobian of an array output by columns: for each element of each differentiated
    /// parameter, the forward core along that element's unit tangent gives the derivative of
    /// every output, which goes into that element of each output's row (`rows[p][i]`). With
    /// the number of input elements, to compare with the outputs'; `None` for a parameter
    /// whose gradient entry is not a float or an array of them.
    fn forward_columns(
        &self,
        setup: &Setup,
        rows: &[proc_macro2::Ident],
    ) -> Option<(TokenStream, TokenStream)> {
        let params: Vec<&Param> = self.signature.differentiable().collect();
        if params
            .iter()
            .any(|p| p.is_struct() || p.linalg.is_some() || !p.class.scalar().is_float())
        {
            return None;
        }
        let one = float_one(self.float()?);
        let Ty::Array(_, Len(outputs)) = &self.signature.ret_class else {
            return None;
        };
        let core = self.beside(&names::jvp_core(&self.function.sig.ident));
        let args = &setup.args;
        let (element, output) = (names::input_element(), names::output_index());
        let column = names::output_tangent();
        let tangent_zeros: Vec<TokenStream> = params.iter().map(|p| zeros(&p.class)).collect();
        let counts: Vec<TokenStream> = params.iter().map(|p| element_count(&p.class)).collect();
        let loops = params.iter().enumerate().map(|(k, p)| {
            let unit = names::parameter_tangent(&p.ident);
            let tangents = tangent_zeros.iter().enumerate().map(|(j, zeros)| {
                if j == k { quote!(#unit) } else { zeros.clone() }
            });
            let row = &rows[k];
            let count = &counts[k];
            let column_of = quote!(let (_, #column) = #core(#(#args,)* #(#tangents),*););
            if p.class.is_float() {
                return quote! {{
                    let #unit = #one;
                    #column_of
                    for #output in 0..#outputs {
                        #row[#output] = #column[#output];
                    }
                }};
            }
            let zeros = &tangent_zeros[k];
            let seeded = crate::spell::flat(quote!(#unit), &p.class, true);
            let target = crate::spell::flat(quote!(#row[#output]), &p.class, true);
            quote! {
                for #element in 0..#count {
                    let mut #unit = #zeros;
                    #seeded[#element] = #one;
                    #column_of
                    for #output in 0..#outputs {
                        #target[#element] = #column[#output];
                    }
                }
            }
        });
        let inputs = match counts.as_slice() {
            [only] => only.clone(),
            many => quote!((#(#many)+*)),
        };
        Some((inputs, quote!(#(#loops)*)))
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
    /// `forward`: the forward core (`__f_value_and_jvp`) exists, and `f_jacobian` may take
    /// its columns from it.
    pub fn wrappers(&self, stub: bool, forward: bool) -> TokenStream {
        if !self.slice_params().is_empty() {
            return self.slice_wrappers(stub);
        }
        let setup = self.setup(stub);
        let Setup {
            name,
            args,
            ret,
            core,
            upstream,
            one,
            init,
            ..
        } = &setup;
        let grad_ty = self.gradient_type();
        let gradient = names::gradient();
        let zero = self
            .float()
            .map_or_else(|| quote!(::grad::__private::Zero::zero()), float_zero);
        // The gradient is a local the core fills in place and that is then returned as it
        // is, so it is built in the caller's result (no copy of a large array at the end).
        // An array the core fills in order starts unfilled, and is taken out after the call.
        let filled_array = self.covered.borrow().array.is_some();
        let (init, finished) = if filled_array {
            (
                quote!(::grad::__private::UnfilledArray::new()),
                quote!(#gradient.into_array()),
            )
        } else {
            (init.clone(), quote!(#gradient))
        };
        let gradient_of = |seed: TokenStream| -> TokenStream {
            let filled = quote!({ let mut #gradient = #init; #core(#(#args,)* #seed, &mut #gradient); #finished });
            self.public_gradient(filled)
        };
        let converted = self.signature.params.iter().any(|p| p.linalg.is_some());
        let (grad_body, value_and_grad_body, vjp_body) = if stub {
            let stub = quote!(::core::unimplemented!());
            (stub.clone(), stub.clone(), stub)
        } else {
            (
                gradient_of(one.clone()),
                if self.tuples.is_empty() && !converted && !filled_array {
                    quote! {
                        let mut #gradient = (#zero, #init);
                        #gradient.0 = #core(#(#args,)* #one, &mut #gradient.1);
                        #gradient
                    }
                } else {
                    let regrouped = self.public_gradient(finished.clone());
                    let value = names::function_value();
                    quote! {
                        let mut #gradient = #init;
                        let #value = #core(#(#args,)* #one, &mut #gradient);
                        (#value, #regrouped)
                    }
                },
                match &self.signature.ret_linalg {
                    Some(linalg) => gradient_of(crate::linalg::to_array(linalg, quote!(#upstream))),
                    None => gradient_of(quote!(#upstream)),
                },
            )
        };
        let mut wrt: Vec<String> = Vec::new();
        for p in self.signature.differentiable() {
            let name = match self.tuple_of(p) {
                Some((tuple, _)) => format!("`{}`", tuple.ident),
                None => format!("`{}`", p.ident),
            };
            if !wrt.contains(&name) {
                wrt.push(name);
            }
        }
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
        // A vector output has `f_vjp` and `f_jacobian`, and no `f_grad`.
        let vector_companions = |jacobian_ty: TokenStream, jacobian_body: TokenStream| {
            let jacobian_name = names::companion(name, "jacobian");
            let jacobian_doc = format!(
                " The Jacobian of `{name}` with respect to {wrt}: row `i` is the gradient of output `i`, shaped like the parameters.\n\n Generated by `#[differentiable]`."
            );
            let vjp = setup.companion(
                &vjp_name,
                vjp_doc.clone(),
                true,
                quote!(#upstream: #ret),
                grad_ty.clone(),
                vjp_body.clone(),
            );
            let jacobian = setup.companion(
                &jacobian_name,
                jacobian_doc,
                false,
                quote!(),
                jacobian_ty,
                jacobian_body,
            );
            quote!(#vjp #jacobian)
        };
        if let Some(fields) = &self.struct_output {
            // A struct output: one vjp per float field, seeded with the struct's zeros (from
            // the function's value) and a one in that field.
            let entries: Vec<&syn::Type> = self
                .signature
                .differentiable()
                .map(|p| &p.gradient_ty)
                .collect();
            let value = names::function_value();
            let seed = names::upstream();
            let vjps = fields
                .iter()
                .map(|(member, field_one)| {
                    let row = gradient_of(quote!(#seed));
                    quote!({
                        let mut #seed = <#ret as ::grad::Differentiable>::zeros_like(&#value);
                        #seed.#member = #field_one;
                        #row
                    })
                })
                .collect();
            let (calls, columns) = unrolled_rows(entries.len(), vjps);
            let outputs = proc_macro2::Literal::usize_unsuffixed(fields.len());
            let rows: Vec<TokenStream> = columns.iter().map(|c| quote!([#(#c),*])).collect();
            let result = one_or_tuple(&rows);
            let jacobian_ty = one_or_tuple(
                &entries
                    .iter()
                    .map(|e| quote!([#e; #outputs]))
                    .collect::<Vec<_>>(),
            );
            let call = self.call_of_the_function();
            let jacobian_body = if stub {
                quote!(::core::unimplemented!())
            } else {
                quote!(let #value = #call; #(#calls)* #result)
            };
            return vector_companions(jacobian_ty, jacobian_body);
        }
        if let Some(floats) = crate::signature::tuple_output(ret) {
            // A tuple output: the Jacobian's rows come from one vjp per output, unrolled.
            let entries: Vec<&syn::Type> = self
                .signature
                .differentiable()
                .map(|p| &p.gradient_ty)
                .collect();
            let outputs = floats.len();
            let vjps = (0..outputs)
                .map(|k| {
                    let seed = floats.iter().enumerate().map(|(j, float)| {
                        if j == k {
                            float_one(*float)
                        } else {
                            float_zero(*float)
                        }
                    });
                    gradient_of(quote!((#(#seed,)*)))
                })
                .collect();
            let (calls, columns) = unrolled_rows(entries.len(), vjps);
            let rows: Vec<TokenStream> = columns.iter().map(|c| quote!([#(#c),*])).collect();
            let result = one_or_tuple(&rows);
            let jacobian_ty = one_or_tuple(
                &entries
                    .iter()
                    .map(|e| quote!([#e; #outputs]))
                    .collect::<Vec<_>>(),
            );
            let jacobian_body = if stub {
                quote!(::core::unimplemented!())
            } else {
                quote!(#(#calls)* #result)
            };
            return vector_companions(jacobian_ty, jacobian_body);
        }
        if let (Some(out), Ty::Array(row, Len(rows))) =
            (&self.signature.ret_linalg, &self.signature.ret_class)
            && out.kind == crate::linalg::Kind::Matrix
            && let Ty::Array(_, Len(columns)) = &**row
        {
            // A nalgebra matrix output: one vjp per element, unrolled, row by row; the
            // Jacobian in each parameter is an array of the matrix's shape holding the
            // parameter's gradient entries (element (i, j) is the gradient of output (i, j)).
            let count = |len: &TokenStream| len.to_string().parse::<usize>().unwrap_or(0);
            let (row_count, column_count) = (count(rows), count(columns));
            let core_ret = self.core_return_type();
            let seed = names::upstream();
            let zero = zeros(&self.signature.ret_class);
            let vjps = (0..row_count)
                .flat_map(|i| (0..column_count).map(move |j| (i, j)))
                .map(|(i, j)| {
                    let (i, j) = (
                        proc_macro2::Literal::usize_unsuffixed(i),
                        proc_macro2::Literal::usize_unsuffixed(j),
                    );
                    let element = gradient_of(quote!(#seed));
                    quote!({
                        let mut #seed: #core_ret = #zero;
                        #seed[#i][#j] = #one;
                        #element
                    })
                })
                .collect();
            let entries: Vec<&syn::Type> = self
                .signature
                .differentiable()
                .map(|p| &p.gradient_ty)
                .collect();
            let (calls, per_entry) = unrolled_rows(entries.len(), vjps);
            let jacobian_ty = one_or_tuple(
                &entries
                    .iter()
                    .map(|e| quote!([[#e; #columns]; #rows]))
                    .collect::<Vec<_>>(),
            );
            let results: Vec<TokenStream> = per_entry
                .iter()
                .map(|elements| {
                    let rows = elements
                        .chunks(column_count.max(1))
                        .map(|row| quote!([#(#row),*]));
                    quote!([#(#rows),*])
                })
                .collect();
            let result = one_or_tuple(&results);
            let jacobian_body = if stub {
                quote!(::core::unimplemented!())
            } else {
                quote!(#(#calls)* #result)
            };
            return vector_companions(jacobian_ty, jacobian_body);
        }
        let nalgebra_params = self.signature.differentiable().any(|p| p.linalg.is_some());
        if let Ty::Array(_, Len(outputs)) = &self.signature.ret_class
            && (self.signature.ret_linalg.is_some() || nalgebra_params)
        {
            // A nalgebra vector output, or an array output of a function of nalgebra values:
            // one vjp per output, unrolled (nalgebra's sizes are small, and an entry is
            // converted to its parameter's type). For a nalgebra vector output, the Jacobian
            // in a nalgebra vector parameter is a matrix, in a float a vector, and in any
            // other parameter an array of its gradient entries; for an array output, it is
            // an array of gradient entries in every parameter.
            let count: usize = outputs.to_string().parse().unwrap_or(0);
            let outputs = proc_macro2::Literal::usize_unsuffixed(count);
            let elem = self.signature.ret_linalg.as_ref().map(|out| &out.elem);
            let core_ret = self.core_return_type();
            let entries: Vec<&Param> = self.signature.differentiable().collect();
            let seed = names::upstream();
            let zero = zeros(&self.signature.ret_class);
            let vjps = (0..count)
                .map(|k| {
                    let index = proc_macro2::Literal::usize_unsuffixed(k);
                    let row = gradient_of(quote!(#seed));
                    quote!({
                        let mut #seed: #core_ret = #zero;
                        #seed[#index] = #one;
                        #row
                    })
                })
                .collect();
            let (calls, columns) = unrolled_rows(entries.len(), vjps);
            let (types, results): (Vec<TokenStream>, Vec<TokenStream>) = entries
                .iter()
                .zip(&columns)
                .map(|(p, rows)| match (elem, &p.linalg, &p.class) {
                    (Some(elem), Some(linalg), Ty::Array(_, Len(n)))
                        if linalg.kind != crate::linalg::Kind::Matrix =>
                    {
                        (
                            quote!(::grad::nalgebra::SMatrix<#elem, #outputs, #n>),
                            quote!(::grad::__private::linalg::jacobian_of_vectors([#(#rows),*])),
                        )
                    }
                    (Some(elem), None, class) if class.is_float() => (
                        quote!(::grad::nalgebra::SVector<#elem, #outputs>),
                        quote!(::grad::__private::linalg::array_to_vector([#(#rows),*])),
                    ),
                    _ => {
                        let entry = &p.gradient_ty;
                        (quote!([#entry; #outputs]), quote!([#(#rows),*]))
                    }
                })
                .unzip();
            let jacobian_ty = one_or_tuple(&types);
            let result = one_or_tuple(&results);
            let jacobian_body = if stub {
                quote!(::core::unimplemented!())
            } else {
                quote!(#(#calls)* #result)
            };
            return vector_companions(jacobian_ty, jacobian_body);
        }
        if let Ty::Array(_, Len(outputs)) = &self.signature.ret_class {
            let row_zeros: Vec<TokenStream> = self
                .signature
                .differentiable()
                .map(|p| zeros(&Ty::Array(Box::new(p.class.clone()), Len(outputs.clone()))))
                .collect();
            let seed_zeros = zeros(&self.signature.ret_class);
            let entries: Vec<&syn::Type> = self
                .signature
                .differentiable()
                .map(|p| &p.gradient_ty)
                .collect();
            let rows: Vec<proc_macro2::Ident> =
                (0..entries.len()).map(names::jacobian_rows).collect();
            let columns: Vec<proc_macro2::Ident> = (0..entries.len())
                .map(|k| names::partial(ValueId(0), k))
                .collect();
            let jacobian_ty = one_or_tuple(
                &entries
                    .iter()
                    .map(|e| quote!([#e; #outputs]))
                    .collect::<Vec<_>>(),
            );
            let pattern = one_or_tuple(&columns);
            let result = one_or_tuple(&rows);
            let i = names::iteration();
            let seed = names::upstream();
            let jacobian_body = if stub {
                quote!(::core::unimplemented!())
            } else if self.elementwise {
                // Output i depends on input i alone: one vjp with an upstream of ones gives the
                // diagonal, and the rest of the Jacobian is zeros.
                let diagonal = names::partial(ValueId(0), 0);
                let [rows0] = rows.as_slice() else {
                    unreachable!("an elementwise function has one input")
                };
                let [entry] = entries.as_slice() else {
                    unreachable!("an elementwise function has one input")
                };
                let gradient = gradient_of(quote!(#seed));
                quote! {
                    let #seed: #ret = [#one; #outputs];
                    let #diagonal = #gradient;
                    let mut #rows0: [#entry; #outputs] = #(#row_zeros)*;
                    for #i in 0..#outputs {
                        #rows0[#i][#i] = #diagonal[#i];
                    }
                    #rows0
                }
            } else {
                let gradient = gradient_of(quote!(#seed));
                let by_rows = quote! {
                    for #i in 0..#outputs {
                        let mut #seed: #ret = #seed_zeros;
                        #seed[#i] = #one;
                        let #pattern = #gradient;
                        #(#rows[#i] = #columns;)*
                    }
                };
                let by_columns = forward
                    .then(|| self.forward_columns(&setup, &rows))
                    .flatten();
                // Fewer input elements than outputs: a column per input element from the
                // forward core costs less than a row per output from the reverse one. Sizes
                // the macro reads decide here; const generic ones in the generated code,
                // where they are constants and the compiler keeps one of the two.
                let known = |tokens: &TokenStream| -> Option<usize> {
                    syn::parse2::<syn::Expr>(tokens.clone())
                        .ok()
                        .and_then(|e| constant(&e))
                };
                let by_columns =
                    by_columns.filter(|(inputs, _)| match (known(inputs), known(outputs)) {
                        (Some(inputs), Some(outputs)) => inputs < outputs,
                        _ => true,
                    });
                let decided = by_columns
                    .as_ref()
                    .is_some_and(|(inputs, _)| known(inputs).is_some() && known(outputs).is_some());
                match by_columns {
                    Some((_, by_columns)) if decided => quote! {
                        #(let mut #rows: [#entries; #outputs] = #row_zeros;)*
                        #by_columns
                        #result
                    },
                    Some((inputs, by_columns)) => quote! {
                        #(let mut #rows: [#entries; #outputs] = #row_zeros;)*
                        if #inputs < #outputs { #by_columns } else { #by_rows }
                        #result
                    },
                    None => quote! {
                        #(let mut #rows: [#entries; #outputs] = #row_zeros;)*
                        #by_rows
                        #result
                    },
                }
            };
            return vector_companions(jacobian_ty, jacobian_body);
        }
        [
            setup.companion(
                &grad_name,
                grad_doc,
                true,
                quote!(),
                grad_ty.clone(),
                grad_body,
            ),
            setup.companion(
                &value_name,
                value_doc,
                true,
                quote!(),
                quote!((#ret, #grad_ty)),
                value_and_grad_body,
            ),
            setup.companion(
                &vjp_name,
                vjp_doc,
                true,
                quote!(#upstream: #ret),
                grad_ty,
                vjp_body,
            ),
        ]
        .into_iter()
        .collect()
    }

    /// The hidden function that holds the forward and the reverse sweep.
    pub fn core(&self, lowered: &Lowered) -> Result<TokenStream, syn::Error> {
        let sig = &self.function.sig;
        let generics = &sig.generics;
        let where_clause = &sig.generics.where_clause;
        let core = names::core(&sig.ident);
        let params = self.signature.params.iter().map(|p| p.declaration(true));
        let ret = self.core_return_type();
        let grad_ty = self.core_gradient_type();
        let upstream = names::core_upstream();
        let items = &lowered.items;
        // A float taken by reference (`x: &f64`) is read as the float itself.
        let derefs: Vec<TokenStream> = self
            .signature
            .params
            .iter()
            .filter(|p| matches!(p.ty, syn::Type::Reference(_)) && p.class.is_float())
            .map(|p| {
                let ident = &p.ident;
                quote!(let #ident = *#ident;)
            })
            .collect();
        let graph = &lowered.graph;
        // A field of a differentiated struct that grad reads as a constant (its use did not
        // show a float) must hold no floats: rustc checks it. A field whose value only ever
        // reaches operators without a derivative (`p.a >= p.b`, `if SCALE + p.a > 0.0`) needs
        // no check: no derivative could flow from it, whatever it holds.
        let mut reads = Vec::new();
        lowered.body.reads(graph, &mut reads);
        reads.extend(lowered.output.values());
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
        for (id, _) in graph.nodes.iter().enumerate() {
            for arg in graph.node_args(ValueId(id)) {
                users[arg.0].push(id);
            }
        }
        let mut read_count = vec![0usize; graph.nodes.len()];
        for read in &reads {
            read_count[read.0] += 1;
        }
        // Users come after what they read (SSA order): decided back to front.
        let mut discarded = vec![false; graph.nodes.len()];
        for id in (0..graph.nodes.len()).rev() {
            let without_derivative = |user: usize| {
                discarded[user]
                    || matches!(
                        graph.nodes[user].op,
                        crate::graph::Op::Binary {
                            op: crate::rules::BinaryOp::Other,
                            ..
                        }
                    )
            };
            discarded[id] = !users[id].is_empty()
                && users[id].len() == read_count[id]
                && users[id].iter().all(|user| without_derivative(*user));
        }
        let only_compared = |id: ValueId| discarded[id.0];
        let constant_fields: Vec<TokenStream> = graph
            .nodes
            .iter()
            .enumerate()
            .filter(|(id, node)| !node.active && !only_compared(ValueId(*id)))
            .map(|(_, node)| node)
            .filter_map(|node| match &node.op {
                crate::graph::Op::Field { param, path } if graph.node(*param).active => {
                    // Spanned where the field is read, the parameter's name included.
                    let name = operand(graph, *param).to_string();
                    let param = proc_macro2::Ident::new(&name, node.span);
                    Some(quote::quote_spanned!(node.span=> ::grad::__private::constant_field(&#param #(.#path)*);))
                }
                _ => None,
            })
            .collect();
        let param_arrays: HashMap<usize, ArrayId> = graph
            .arrays
            .iter()
            .enumerate()
            .filter_map(|(id, array)| match &array.init {
                ArrayInit::Param { index, field, .. } if field.is_empty() => {
                    Some((*index, ArrayId(id)))
                }
                _ => None,
            })
            .collect();
        // The core's gradient entries: the differentiated parameters except slices (whose
        // gradients go into buffers), each at its place in `*__gradient`.
        let gradient = names::core_gradient();
        let entries: Vec<(usize, &Param)> = self
            .signature
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.differentiable && slice_element(p).is_none())
            .collect();
        let place = |k: usize| {
            if entries.len() == 1 {
                quote!((*#gradient))
            } else {
                let k = syn::Index::from(k);
                quote!((*#gradient).#k)
            }
        };
        let mut gradient_places: HashMap<ArrayId, TokenStream> = entries
            .iter()
            .enumerate()
            .filter_map(|(k, (i, _))| param_arrays.get(i).map(|array| (*array, place(k))))
            .collect();
        // A struct's array fields, `p.w`, have their adjoints in the same field of its entry.
        let struct_entries: HashMap<usize, usize> = entries
            .iter()
            .enumerate()
            .filter(|(_, (_, p))| p.is_struct())
            .map(|(k, (i, _))| (*i, k))
            .collect();
        for (id, array) in graph.arrays.iter().enumerate() {
            if let ArrayInit::Param { index, field, .. } = &array.init
                && !field.is_empty()
                && let Some(k) = struct_entries.get(index)
            {
                let place = place(*k);
                gradient_places.insert(ArrayId(id), quote!(#place #(.#field)*));
            }
        }
        let mut sweep = Sweep::new(graph, gradient_places);
        sweep.struct_places = struct_entries
            .iter()
            .map(|(i, k)| (ValueId(*i), place(*k)))
            .collect();
        let mut frame = sweep.function(&lowered.body, lowered.output.clone());
        if let Some(mut error) = sweep.errors.pop() {
            for other in sweep.errors.drain(..) {
                error.combine(other);
            }
            return Err(error);
        }
        let covered = sweep.assign_full_covers(&mut frame.steps);
        // A gradient the core fills in order takes any `FilledGradient`: the caller's buffer,
        // or the empty `Vec` that `f_grad` returns filled.
        let buffers: Vec<TokenStream> = self
            .slice_params()
            .iter()
            .map(|p| {
                let buffer = names::slice_gradient(&p.ident);
                let elem = slice_element(p);
                if covered.filled.contains(&p.ident) {
                    quote!(#buffer: &mut (impl ::grad::__private::FilledGradient<#elem> + ?Sized))
                } else {
                    quote!(#buffer: &mut [#elem])
                }
            })
            .collect();
        // An array gradient filled in order: `f_grad` hands the core an `UnfilledArray`.
        let grad_ty = match &covered.array {
            Some(elem) => quote!((impl ::grad::__private::FilledGradient<#elem> + ?Sized)),
            None => grad_ty,
        };
        *self.covered.borrow_mut() = covered;
        let forward = &frame.forward;
        let backward = render(graph, &frame.steps);
        let value = crate::spell::output(&lowered.output, &|v| operand(graph, v), &|a| {
            array_name(graph, a)
        });
        // Array adjoints were built in place; scalar parameters' adjoints are stored at the
        // end (an entry without an adjoint stays the zero the caller gave).
        let scalar_gradients: Vec<TokenStream> = entries
            .iter()
            .enumerate()
            .filter(|(_, (i, _))| !param_arrays.contains_key(i) && sweep.has_adjoint[*i])
            .map(|(k, (i, _))| {
                // Parameters are pushed first, so parameter i is node i.
                let adj = names::adjoint(ValueId(*i));
                let place = place(k);
                quote!(#place = #adj;)
            })
            .collect();
        let attrs = self.inherited_attributes();
        // A user who calls only `f_grad` has still used `f`; without this, `f` warns as dead code.
        let user_function = self.beside(&sig.ident);
        let mark_used = quote!(let _ = #user_function;);
        let mut readable: Vec<proc_macro2::Ident> = self
            .signature
            .params
            .iter()
            .map(|p| p.ident.clone())
            .collect();
        readable.push(upstream.clone());
        let rules = names::pullback_rules();
        let use_rules = (!self.rules_in_scope).then(|| quote!(use ::grad::pullback as #rules;));
        let body = fold::fold_single_use(
            quote! {
                #mark_used
                #use_rules
                #(#items)*
                #(#derefs)*
                #(#constant_fields)*
                #(#forward)*
                #(#backward)*
                #(#scalar_gradients)*
                #value
            },
            &readable,
        );
        // Always inlined into the thin companions, so that each is optimised on its own:
        // in `f_grad` and `f_vjp` the value is unused, and LLVM deletes the forward code
        // (often a whole loop) that only computes it.
        Ok(quote! {
            #(#attrs)*
            #[doc(hidden)]
            #[inline(always)]
            #[allow(dead_code, unused_variables, unused_assignments, unused_mut, unused_parens, unused_comparisons, unreachable_code, non_upper_case_globals, clippy::all, clippy::pedantic, clippy::nursery)]
            fn #core #generics (#(#params,)* #(#buffers,)* #upstream: #ret, #gradient: &mut #grad_ty) -> #ret #where_clause {
                #body
            }
        })
    }
}

/// The picture `#[differentiable(graph)]` asks for.
impl Companions<'_> {
    /// `f_graph() -> &'static str`, returning `dot`; with `dot` absent, a stub that stands
    /// in after an error, so that call sites do not add "cannot find `f_graph`" to it. It
    /// takes no parameters and no generics: the picture is the same for every type, and
    /// `f_graph()` needs no turbofish.
    pub fn graph_picture(&self, dot: Option<&str>) -> TokenStream {
        let sig = &self.function.sig;
        let name = names::graph_picture(&sig.ident);
        let vis = &self.function.vis;
        let attrs = self.inherited_attributes();
        let doc = format!(
            " The compile-time expression graph of `{}`, as Graphviz DOT text (render it with `dot -Tsvg`).\n\n Generated by `#[differentiable(graph)]`.",
            sig.ident
        );
        let body = match dot {
            Some(dot) => quote!(#dot),
            None => quote!(::core::unimplemented!()),
        };
        quote! {
            #(#attrs)* #[doc = #doc] #[allow(dead_code)]
            #vis fn #name() -> &'static str { #body }
        }
    }
}

/// Forward mode: the hidden `__f_value_and_jvp` and the public `f_jvp`.
impl Companions<'_> {
    /// The core and `f_jvp` of a function the tangent sweep covers; `None` for the others,
    /// which have no `f_jvp` yet (see `tangent::unsupported`).
    /// `second_order`: the function asks for second order, so a call's tangent comes from
    /// the callee's tangent function, which the second pass can differentiate.
    pub fn jvp(&self, lowered: &Lowered, second_order: bool) -> Result<Jvp, &'static str> {
        let graph = &lowered.graph;
        if let Some(why) = crate::tangent::unsupported(graph) {
            return Err(why);
        }
        for p in self.signature.differentiable() {
            if !p.is_struct() && !matches!(p.class, Ty::Float(_) | Ty::Array(..) | Ty::Slice(_)) {
                return Err("forward mode takes floats, arrays and nalgebra values only yet");
            }
            // A tangent's type is written in signatures: no length left to rustc (`v: Vec3`
            // read as `[f64; _]`).
            if p.class.has_inferred_len() {
                return Err(
                    "a tangent's type must be written out, and grad sees this parameter's only by name",
                );
            }
        }
        let sig = &self.function.sig;
        let differentiable: Vec<(usize, &Param)> = self
            .signature
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.differentiable)
            .collect();
        let tangent_names: Vec<proc_macro2::Ident> = differentiable
            .iter()
            .map(|(_, p)| names::parameter_tangent(&p.ident))
            .collect();
        // Parameter `i` is node `i`; an array parameter is the array that reads it.
        let mut param_tangents = HashMap::new();
        let mut array_param_tangents = HashMap::new();
        for ((i, p), tangent) in differentiable.iter().zip(&tangent_names) {
            if p.class.is_float() {
                param_tangents.insert(ValueId(*i), quote!(#tangent));
            }
            // An array parameter, or an array field of a struct parameter (`p.w`, whose
            // tangent is the same field of the struct's tangent).
            for (id, array) in graph.arrays.iter().enumerate() {
                if let ArrayInit::Param { index, field, .. } = &array.init
                    && index == i
                {
                    array_param_tangents.insert(ArrayId(id), quote!(#tangent #(.#field)*));
                }
            }
        }
        let mut sweep =
            crate::tangent::TangentSweep::new(graph, param_tangents, array_param_tangents);
        sweep.struct_tangents = differentiable
            .iter()
            .zip(&tangent_names)
            .filter(|((_, p), _)| p.is_struct())
            .map(|((i, _), tangent)| (ValueId(*i), quote!(#tangent)))
            .collect();
        sweep.callee_tangents = second_order;
        let swept = sweep.function(&lowered.body, &lowered.output);
        let (code, value, tangent) = (swept.code, swept.value, swept.tangent);
        let items = &lowered.items;
        let derefs: Vec<TokenStream> = self
            .signature
            .params
            .iter()
            .filter(|p| matches!(p.ty, syn::Type::Reference(_)) && p.class.is_float())
            .map(|p| {
                let ident = &p.ident;
                quote!(let #ident = *#ident;)
            })
            .collect();
        let mut readable: Vec<proc_macro2::Ident> = self
            .signature
            .params
            .iter()
            .map(|p| p.ident.clone())
            .collect();
        readable.extend(tangent_names.iter().cloned());
        let rules = names::pullback_rules();
        // A scalar function's tangent alone, as a function of its parameters and tangents:
        // its gradient in the parameters is the Hessian times the tangents (`second_order`).
        // A function returning an array or a tuple gets the tangent function too, so that
        // callers with second order can call it (`f_tangent`, `f_tangent_vjp`), but no `f_hvp`.
        let second_order = if !matches!(
            lowered.output,
            Output::Scalar(_) | Output::Array(_) | Output::Tuple(_)
        ) || self.signature.ret_linalg.is_some()
        {
            Err("second derivatives are for functions of floats, arrays or tuples of them")
        } else if !self.slice_params().is_empty()
            && self.signature.differentiable().any(|p| p.linalg.is_some())
        {
            Err("second derivatives do not take slices and nalgebra values together yet")
        } else if !self.tuples.is_empty() {
            Err("second derivatives do not take tuple parameters yet")
        } else if let Some(why) = crate::tangent::callee_tangents_unsupported(graph) {
            Err(why)
        } else {
            Ok(())
        };
        let tangent_function = second_order.map(|()| {
            let name = names::expanded_tangent(&sig.ident);
            let generics = &sig.generics;
            let where_clause = &sig.generics.where_clause;
            let params = self.signature.params.iter().map(|p| p.declaration(true));
            let types = differentiable.iter().map(|(_, p)| tangent_type(p));
            let ret = self.return_type();
            // The body's `const` and `use` items; grad's own checks (a nalgebra constructor's
            // type) are in the first expansion already, and a second pass reads no `fn` item.
            let items = items.iter().filter(|item| !matches!(item, syn::Item::Fn(_)));
            let vis = &self.function.vis;
            let function: syn::ItemFn = syn::parse_quote! {
                #[doc(hidden)]
                #[allow(dead_code, unused_variables, unused_assignments, unused_mut, unused_parens, unused_comparisons, unreachable_code, non_upper_case_globals, clippy::all, clippy::pedantic, clippy::nursery)]
                #vis fn #name #generics (#(#params,)* #(#tangent_names: #types,)*) -> #ret #where_clause {
                    use ::grad::pullback as #rules;
                    #(#items)*
                    #(#derefs)*
                    #(#code)*
                    #tangent
                }
            };
            function
        });
        let body = fold::fold_single_use(
            quote! {
                use ::grad::pullback as #rules;
                #(#items)*
                #(#derefs)*
                #(#code)*
                (#value, #tangent)
            },
            &readable,
        );
        let core = names::jvp_core(&sig.ident);
        let generics = &sig.generics;
        let where_clause = &sig.generics.where_clause;
        let params = self.signature.params.iter().map(|p| p.declaration(true));
        let tangent_types: Vec<TokenStream> = differentiable
            .iter()
            .map(|(_, p)| tangent_type(p))
            .collect();
        let ret = self.core_return_type();
        let attrs = self.inherited_attributes();
        let core_fn = quote! {
            #(#attrs)*
            #[doc(hidden)]
            #[inline(always)]
            #[allow(dead_code, unused_variables, unused_assignments, unused_mut, unused_parens, unused_comparisons, unreachable_code, non_upper_case_globals, clippy::all, clippy::pedantic, clippy::nursery)]
            fn #core #generics (#(#params,)* #(#tangent_names: #tangent_types,)*) -> (#ret, #ret) #where_clause {
                #body
            }
        };
        // The public companion: tangents shaped like the gradient entries, converted in and
        // out as the other companions convert parameters and results.
        let setup = self.setup(false);
        // A tuple parameter's tangent is a tuple of its elements' (`target_tangent: (f64,
        // [f64; 2])`), passed on element by element.
        let public_tangents: Vec<TokenStream> = differentiable
            .iter()
            .zip(&tangent_names)
            .filter_map(|((_, p), name)| match self.tuple_of(p) {
                Some((tuple, 0)) => {
                    let (name, ty) = (names::parameter_tangent(&tuple.ident), &tuple.ty);
                    Some(quote!(#name: #ty))
                }
                Some(_) => None,
                None => Some(direction_parameter(p, name)),
            })
            .collect();
        let tangent_args: Vec<TokenStream> = differentiable
            .iter()
            .zip(&tangent_names)
            .map(|((_, p), name)| match self.tuple_of(p) {
                Some((tuple, k)) => {
                    let (name, k) = (names::parameter_tangent(&tuple.ident), syn::Index::from(k));
                    quote!(#name.#k)
                }
                None => direction_argument(p, name),
            })
            .collect();
        let core_path = self.beside(&core);
        let args = &setup.args;
        let (value_name, tangent_name) = (names::function_value(), names::output_tangent());
        let (value_out, tangent_out) = match &self.signature.ret_linalg {
            Some(out) => (
                crate::linalg::from_array(out, quote!(#value_name)),
                crate::linalg::from_array(out, quote!(#tangent_name)),
            ),
            None => (quote!(#value_name), quote!(#tangent_name)),
        };
        let public_ret = setup.ret;
        let name = &sig.ident;
        let jvp_name = names::companion(name, "jvp");
        let mut wrt: Vec<String> = Vec::new();
        for (_, p) in &differentiable {
            let name = match self.tuple_of(p) {
                Some((tuple, _)) => format!("`{}`", tuple.ident),
                None => format!("`{}`", p.ident),
            };
            if !wrt.contains(&name) {
                wrt.push(name);
            }
        }
        let doc = format!(
            " The value of `{name}` and its directional derivative (Jacobian-vector product) along the tangents of {}, one per parameter, each shaped like the parameter: forward mode, one sweep.\n\n Generated by `#[differentiable]`.",
            wrt.join(", ")
        );
        let public = setup.companion(
            &jvp_name,
            doc,
            true,
            quote!(#(#public_tangents),*),
            quote!((#public_ret, #public_ret)),
            quote! {
                let (#value_name, #tangent_name) = #core_path(#(#args,)* #(#tangent_args,)*);
                (#value_out, #tangent_out)
            },
        );
        Ok(Jvp {
            tokens: quote!(#core_fn #public),
            tangent_function,
        })
    }
}

/// Forward mode's code, and what second order is built from.
pub struct Jvp {
    /// The core and `f_jvp`.
    pub tokens: TokenStream,
    /// For a scalar function, `__f_tangent(params.., tangents..)`: the tangent alone; or
    /// why there is none.
    pub tangent_function: Result<syn::ItemFn, &'static str>,
}

/// Second order: `f_hvp` and `f_hessian`, from the gradient of the tangent function
/// (`second_order.rs`).
impl Companions<'_> {
    /// What a caller's second order needs of this function: `f_tangent(params..,
    /// tangents..)`, the tangent alone (the expanded `__f_tangent` under its public name), and
    /// its pullback `f_tangent_vjp(params.., tangents.., upstream)`, one entry per parameter
    /// (`upstream · H t`, from the expanded tangent's `_vjp`) and then one per tangent
    /// (`upstream · ∇f`, from `f_vjp`). Composed, so that `f_hvp` keeps a second pass in the
    /// parameters alone. Not for nalgebra parameters, whose `f_vjp` takes other types than
    /// the tangent function.
    pub fn tangent_and_its_vjp(&self, expanded: &syn::ItemFn) -> TokenStream {
        let name = &self.function.sig.ident;
        let public = names::tangent_function(name);
        let mut wrapper = expanded.clone();
        wrapper.sig.ident = public.clone();
        wrapper.attrs.push(syn::parse_quote!(#[inline]));
        let arguments: Vec<TokenStream> = expanded
            .sig
            .inputs
            .iter()
            .map(|input| match input {
                syn::FnArg::Receiver(_) => quote!(self),
                syn::FnArg::Typed(typed) => {
                    let pat = &typed.pat;
                    quote!(#pat)
                }
            })
            .collect();
        let expanded_path = self.beside(&expanded.sig.ident);
        *wrapper.block = syn::parse_quote!({ #expanded_path(#(#arguments),*) });
        let differentiable: Vec<&Param> = self.signature.differentiable().collect();
        if differentiable.iter().any(|p| p.linalg.is_some()) {
            return quote!(#wrapper);
        }
        let k = differentiable.len();
        let upstream = names::upstream();
        let ret = self.return_type();
        let params_only: Vec<&TokenStream> =
            arguments.iter().take(self.signature.params.len()).collect();
        let second = self.beside(&names::companion(&expanded.sig.ident, "vjp"));
        let first = self.beside(&names::companion(name, "vjp"));
        let (h, g): (Vec<proc_macro2::Ident>, Vec<proc_macro2::Ident>) = (0..k)
            .map(|i| {
                (
                    quote::format_ident!("__h{}", i, span = proc_macro2::Span::mixed_site()),
                    quote::format_ident!("__g{}", i, span = proc_macro2::Span::mixed_site()),
                )
            })
            .unzip();
        let (h_pattern, g_pattern) = (one_or_tuple(&h), one_or_tuple(&g));
        let mut vjp = expanded.clone();
        vjp.sig.ident = names::companion(&public, "vjp");
        vjp.sig.inputs.push(syn::parse_quote!(#upstream: #ret));
        let entry_types: Vec<TokenStream> = differentiable
            .iter()
            .map(|p| match slice_element(p) {
                Some(elem) => quote!(::grad::__private::Vec<#elem>),
                None => {
                    let ty = &p.gradient_ty;
                    quote!(#ty)
                }
            })
            .collect();
        vjp.sig.output = syn::parse_quote!(-> (#(#entry_types,)* #(#entry_types,)*));
        *vjp.block = syn::parse_quote!({
            let #h_pattern = #second(#(#arguments,)* #upstream);
            let #g_pattern = #first(#(#params_only,)* #upstream);
            (#(#h,)* #(#g,)*)
        });
        quote!(#wrapper #vjp)
    }

    pub fn hvp_and_hessian(&self, tangent_function: &proc_macro2::Ident) -> TokenStream {
        let sig = &self.function.sig;
        let setup = self.setup(false);
        let differentiable: Vec<&Param> = self.signature.differentiable().collect();
        let directions: Vec<proc_macro2::Ident> = differentiable
            .iter()
            .map(|p| {
                quote::format_ident!(
                    "{}_direction",
                    p.ident,
                    span = proc_macro2::Span::mixed_site()
                )
            })
            .collect();
        let nested_grad = self.beside(&names::companion(tangent_function, "grad"));
        let args = &setup.args;
        // The core's directions: a nalgebra direction as its array.
        let direction_args: Vec<TokenStream> = differentiable
            .iter()
            .zip(&directions)
            .map(|(p, name)| direction_argument(p, name))
            .collect();
        let public_directions: Vec<TokenStream> = differentiable
            .iter()
            .zip(&directions)
            .map(|(p, name)| direction_parameter(p, name))
            .collect();
        let grad_ty = self.gradient_type();
        let name = &sig.ident;
        let wrt: Vec<String> = differentiable
            .iter()
            .map(|p| format!("`{}`", p.ident))
            .collect();
        let wrt = wrt.join(", ");
        let hvp_name = names::companion(name, "hvp");
        let hvp_call =
            |directions: &[TokenStream]| quote!(#nested_grad(#(#args,)* #(#directions,)*));
        let hvp = setup.companion(
            &hvp_name,
            format!(
                " The Hessian of `{name}` with respect to {wrt} times the directions (one per parameter, each shaped like it), shaped like the gradient: reverse mode over forward mode, at the cost of a few gradients, without forming the Hessian.\n\n Generated by `#[differentiable]`."
            ),
            true,
            quote!(#(#public_directions),*),
            grad_ty,
            // With slices, the tangent function's gradient is already the public one (a `Vec`
            // per slice); otherwise its nalgebra entries are converted.
            if self.slice_params().is_empty() {
                self.public_gradient(hvp_call(&direction_args))
            } else {
                hvp_call(&direction_args)
            },
        );
        // The dense Hessian, for floats and arrays of them: entry (i, j) has the shape of
        // parameter i followed by that of parameter j, and is read through flat views (the
        // element (a, b) of entry (i, j) is its flat element `a * len_j + b`, `a` counting
        // parameter i's elements and `b` parameter j's).
        let shapes: Option<Vec<Ty>> = differentiable
            .iter()
            .map(|p| match (&p.linalg, &p.class) {
                (None, Ty::Float(_)) => Some(p.class.clone()),
                (None, Ty::Array(..)) if fixed_array_of_floats(&p.class) => Some(p.class.clone()),
                // A nalgebra vector or point: an array in the core, converted at the end.
                (Some(linalg), Ty::Array(elem, _))
                    if linalg.kind != crate::linalg::Kind::Matrix && elem.is_float() =>
                {
                    Some(p.class.clone())
                }
                // A slice of floats: its blocks are `Vec`s, as its gradient entry is.
                (None, Ty::Slice(elem)) if elem.is_float() => Some(p.class.clone()),
                _ => None,
            })
            .collect();
        let slices: Vec<bool> = differentiable
            .iter()
            .map(|p| matches!(p.class, Ty::Slice(_)))
            .collect();
        // Slices beside arrays would need blocks of arrays of `Vec`s.
        let shapes = shapes.filter(|shapes| {
            !slices.contains(&true) || !shapes.iter().any(|s| matches!(s, Ty::Array(..)))
        });
        let nalgebra: Vec<bool> = differentiable.iter().map(|p| p.linalg.is_some()).collect();
        // One float type throughout (an `f32` parameter of an `f64` function has no dense
        // Hessian: its blocks would mix types).
        let uniform = differentiable
            .iter()
            .all(|p| matches!(p.class.scalar(), Ty::Float(f) if *f == self.float()));
        let (Some(shapes), Some(float), true) = (shapes, self.float(), uniform) else {
            return hvp;
        };
        // How many floats each parameter holds; `None` for a float.
        let lengths: Vec<Option<TokenStream>> = shapes
            .iter()
            .zip(&differentiable)
            .map(|(shape, p)| match shape {
                Ty::Array(..) => Some(element_count(shape)),
                Ty::Slice(_) => {
                    let ident = &p.ident;
                    Some(quote!(#ident.len()))
                }
                _ => None,
            })
            .collect();
        let elem = float.ident();
        let k = differentiable.len();
        let block = |i: usize, j: usize| nested(&shapes[i], &shapes[j]);
        let vec_zeros = quote!(::grad::__private::vec_zeros);
        let entry_ty = |i: usize, j: usize| match (slices[i], slices[j]) {
            (true, true) => quote!(::grad::__private::Vec<::grad::__private::Vec<#elem>>),
            (true, false) | (false, true) => quote!(::grad::__private::Vec<#elem>),
            (false, false) => type_of(&block(i, j), &elem),
        };
        let entry_zero = |i: usize, j: usize| match (&lengths[i], &lengths[j]) {
            (Some(n), Some(m)) if slices[i] => {
                quote!(::grad::__private::vec_filled(#vec_zeros(#m), #n))
            }
            (Some(n), None) | (None, Some(n)) if slices[i] || slices[j] => {
                quote!(#vec_zeros(#n))
            }
            _ => zeros(&block(i, j)),
        };
        let hessian = quote::format_ident!("__hessian", span = proc_macro2::Span::mixed_site());
        let column = quote::format_ident!("__column", span = proc_macro2::Span::mixed_site());
        let (a, b) = (
            quote::format_ident!("__a", span = proc_macro2::Span::mixed_site()),
            quote::format_ident!("__b", span = proc_macro2::Span::mixed_site()),
        );
        let place = |i: usize, j: usize| -> TokenStream {
            if k == 1 {
                quote!(#hessian)
            } else {
                let (i, j) = (syn::Index::from(i), syn::Index::from(j));
                quote!(#hessian.#i.#j)
            }
        };
        // Element (a of i, b of j) of entry (i, j).
        let element = |i: usize, j: usize, a: &TokenStream, b: &TokenStream| -> TokenStream {
            let place = place(i, j);
            if slices[i] || slices[j] {
                return match (&lengths[i], &lengths[j]) {
                    (Some(_), Some(_)) => quote!(#place[#a][#b]),
                    (Some(_), None) => quote!(#place[#a]),
                    (None, Some(_)) => quote!(#place[#b]),
                    (None, None) => place,
                };
            }
            let flat = crate::spell::flat(place.clone(), &block(i, j), true);
            match (&lengths[i], &lengths[j]) {
                (None, None) => place,
                (Some(_), None) => quote!(#flat[#a]),
                (None, Some(_)) => quote!(#flat[#b]),
                (Some(_), Some(m)) => quote!(#flat[#a * #m + #b]),
            }
        };
        let column_entry = |i: usize, a: &TokenStream| -> TokenStream {
            let entry = if k == 1 {
                quote!(#column)
            } else {
                let i = syn::Index::from(i);
                quote!(#column.#i)
            };
            match &lengths[i] {
                None => entry,
                Some(_) if slices[i] => quote!(#entry[#a]),
                Some(_) => {
                    let flat = crate::spell::flat(entry, &shapes[i], false);
                    quote!(#flat[#a])
                }
            }
        };
        let over = |length: &Option<TokenStream>, index: &proc_macro2::Ident, body: TokenStream| {
            match length {
                None => body,
                Some(n) => quote!(for #index in 0..#n { #body }),
            }
        };
        let one = &setup.one;
        let (a_tokens, b_tokens) = (quote!(#a), quote!(#b));
        let mut columns = Vec::new();
        for j in 0..k {
            // One Hessian-vector product per element b of parameter j, along e_(j, b).
            let seeds: Vec<TokenStream> = (0..k)
                .map(|p| {
                    if let (true, Some(n)) = (slices[p], &lengths[p]) {
                        return if p == j {
                            quote!(&{ let mut e = #vec_zeros(#n); e[#b] = #one; e })
                        } else {
                            quote!(&#vec_zeros(#n))
                        };
                    }
                    let zeros = zeros(&differentiable[p].class);
                    if p != j {
                        return zeros;
                    }
                    match &lengths[j] {
                        None => quote!(#one),
                        Some(_) => {
                            let flat = crate::spell::flat(quote!(e), &shapes[j], true);
                            quote!({ let mut e = #zeros; #flat[#b] = #one; e })
                        }
                    }
                })
                .collect();
            let call = hvp_call(&seeds);
            let fills: Vec<TokenStream> = (0..k)
                .map(|i| {
                    let target = element(i, j, &a_tokens, &b_tokens);
                    let source = column_entry(i, &a_tokens);
                    over(&lengths[i], &a, quote!(#target = #source;))
                })
                .collect();
            columns.push(over(
                &lengths[j],
                &b,
                quote!({ let #column = #call; #(#fills)* }),
            ));
        }
        // Symmetric to the last bit: each pair of mirrored elements is their mean (halves
        // first, which cannot overflow where the elements do not).
        let mut symmetrize = Vec::new();
        let mean = quote::format_ident!("__mean", span = proc_macro2::Span::mixed_site());
        for i in 0..k {
            for j in i..k {
                let upper = element(i, j, &a_tokens, &b_tokens);
                let lower = element(j, i, &b_tokens, &a_tokens);
                let half = quote!((#one / (#one + #one)));
                let pair = quote! {
                    let #mean = #upper * #half + #lower * #half;
                    #upper = #mean;
                    #lower = #mean;
                };
                match (i == j, &lengths[i]) {
                    // A float's own second derivative has no mirror.
                    (true, None) => {}
                    // An array's own block: the pairs above its diagonal.
                    (true, Some(n)) => symmetrize.push(quote! {
                        for #a in 0..#n { for #b in (#a + 1)..#n { #pair } }
                    }),
                    (false, _) => {
                        let inner = over(&lengths[j], &b, pair);
                        symmetrize.push(over(&lengths[i], &a, inner));
                    }
                }
            }
        }

        let zeros_tokens: Vec<TokenStream> = (0..k)
            .map(|i| {
                let row: Vec<TokenStream> = (0..k).map(|j| entry_zero(i, j)).collect();
                one_or_tuple(&row)
            })
            .collect();
        // Blocks of nalgebra parameters are nalgebra values: a matrix for two vectors, a
        // vector for a vector and a float.
        let public_types: Vec<TokenStream> = (0..k)
            .map(|i| {
                let row: Vec<TokenStream> = (0..k)
                    .map(
                        |j| match (nalgebra[i] || nalgebra[j], &lengths[i], &lengths[j]) {
                            (true, Some(n), Some(m)) => {
                                quote!(::grad::nalgebra::SMatrix<#elem, #n, #m>)
                            }
                            (true, Some(n), None) | (true, None, Some(n)) => {
                                quote!(::grad::nalgebra::SVector<#elem, #n>)
                            }
                            _ => entry_ty(i, j),
                        },
                    )
                    .collect();
                one_or_tuple(&row)
            })
            .collect();
        let converted: Vec<TokenStream> = (0..k)
            .map(|i| {
                let row: Vec<TokenStream> = (0..k)
                    .map(|j| {
                        let entry = place(i, j);
                        match (nalgebra[i] || nalgebra[j], &lengths[i], &lengths[j]) {
                            (true, Some(_), Some(_)) => {
                                quote!(::grad::__private::linalg::rows_to_matrix(#entry))
                            }
                            (true, Some(_), None) | (true, None, Some(_)) => {
                                quote!(::grad::__private::linalg::array_to_vector(#entry))
                            }
                            _ => entry,
                        }
                    })
                    .collect();
                one_or_tuple(&row)
            })
            .collect();
        let result = one_or_tuple(&converted);
        let hessian_ty = one_or_tuple(&public_types);
        let hessian_zero = one_or_tuple(&zeros_tokens);
        let hessian_name = names::companion(name, "hessian");
        let dense = setup.companion(
            &hessian_name,
            format!(
                " The Hessian of `{name}` with respect to {wrt}: entry (i, j) has the shape of parameter i followed by that of parameter j (a float for two floats), exactly symmetric; one Hessian-vector product per input element.\n\n Generated by `#[differentiable]`."
            ),
            false,
            quote!(),
            hessian_ty,
            quote! {
                let mut #hessian = #hessian_zero;
                #(#columns)*
                #(#symmetrize)*
                #result
            },
        );
        quote!(#hvp #dense)
    }
}
