//! The signature model: which parameters are differentiated, and what the companions return.
//! One check per unsupported signature feature, each spanned on what the user wrote.

use crate::args::Args;
use crate::diagnostics::Diagnostics;
use crate::names;
use crate::types::{FloatTy, Len, Ty};
use proc_macro2::Ident;
use std::collections::HashMap;
use syn::{FnArg, GenericParam, ItemFn, Pat, ReturnType, Type};

pub struct Signature {
    pub params: Vec<Param>,
    /// Types of constant parameters that grad sees only by name, each with the message rustc
    /// gives if the type holds floats after all (see `grad::__private::Probe`).
    pub probes: Vec<(Type, String)>,
    /// The return type as written, and its float type (unknown for a type grad sees only by
    /// name until the body's value tells it); `None` after an error.
    pub ret: Option<(Type, Option<FloatTy>)>,
    /// What the function returns: a float, or an array of floats (a vector output).
    pub ret_class: Ty,
    /// The return type is a name grad cannot see into (`-> Vec3`): the shape of the body's
    /// value says what it is, and rustc confirms it when it checks the function itself.
    pub ret_by_name: bool,
    /// A nalgebra vector or point result: an array to the core, converted by the companions.
    pub ret_linalg: Option<crate::linalg::Linalg>,
    /// Parameters of types grad sees only by name that the body indexes: read as arrays
    /// whose shape rustc knows, each with the type rustc must confirm is an array of floats
    /// and how many dimensions deep the body indexes it.
    pub arrays_by_use: Vec<(Type, usize)>,
}

pub struct Param {
    /// The user's name, or a hidden one for `_`.
    pub ident: Ident,
    pub ty: Type,
    /// The type of its gradient: the parameter's own type, or the array an `&[f64; N]`
    /// refers to.
    pub gradient_ty: Type,
    pub class: Ty,
    pub differentiable: bool,
    /// `self`, as written (`&self`, `self: Box<Self>`): a constant input.
    pub receiver: Option<syn::Receiver>,
    /// A nalgebra vector, matrix or point: an array to the pipeline, converted by the
    /// companions.
    pub linalg: Option<crate::linalg::Linalg>,
}

impl Param {
    /// The parameter as the core (`core`) or a companion declares it: `x: f64` (a nalgebra
    /// value's array in the core), or the receiver as the user wrote it, without a `mut` the
    /// companion does not need.
    pub fn declaration(&self, core: bool) -> proc_macro2::TokenStream {
        match &self.receiver {
            Some(receiver) => {
                let mut receiver = receiver.clone();
                receiver.attrs.clear();
                // `mut self`, not the `mut` of `&mut self`.
                if !core && receiver.reference.is_none() && receiver.colon_token.is_none() {
                    receiver.mutability = None;
                }
                quote::quote!(#receiver)
            }
            None if core => {
                let ident = &self.ident;
                let ty = self.core_type();
                quote::quote!(#ident: #ty)
            }
            None => {
                let (ident, ty) = (&self.ident, &self.ty);
                quote::quote!(#ident: #ty)
            }
        }
    }

    /// The type the core takes: the parameter's own, or a nalgebra value's array.
    pub fn core_type(&self) -> proc_macro2::TokenStream {
        self.as_array_or(&self.ty)
    }

    /// The type of its entry in the core's gradient: a nalgebra value's is its array.
    pub fn core_gradient_type(&self) -> proc_macro2::TokenStream {
        self.as_array_or(&self.gradient_ty)
    }

    /// A nalgebra value's array type, or `ty` for any other parameter.
    fn as_array_or(&self, ty: &Type) -> proc_macro2::TokenStream {
        match &self.linalg {
            Some(linalg) => crate::linalg::array_type(&self.class, &linalg.elem),
            None => quote::quote!(#ty),
        }
    }
}

impl Signature {
    pub fn differentiable(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.differentiable)
    }
}

/// Reads the signature, reporting every unsupported part. It returns a model even after an
/// error, so the body can still be checked and all errors reported in one build.
pub fn analyze(function: &ItemFn, args: &Args, diagnostics: &mut Diagnostics) -> Signature {
    let errors_before = diagnostics.count();
    let sig = &function.sig;
    if let Some(token) = &sig.asyncness {
        diagnostics.error(token, "#[differentiable] does not support `async fn`: differentiate a plain `fn` and call it from async code");
    }
    if let Some(token) = &sig.constness {
        diagnostics.error(
            token,
            "#[differentiable] does not support `const fn`: remove `const`",
        );
    }
    if let Some(token) = &sig.unsafety {
        diagnostics.error(
            token,
            "#[differentiable] does not support `unsafe fn`: differentiate a safe function",
        );
    }
    if let Some(abi) = &sig.abi {
        diagnostics.error(abi, "#[differentiable] does not support `extern` functions: differentiate a plain Rust `fn` and wrap it");
    }
    if let Some(variadic) = &sig.variadic {
        diagnostics.error(
            variadic,
            "#[differentiable] does not support variadic functions",
        );
    }
    for param in &sig.generics.params {
        match param {
            GenericParam::Lifetime(_) => {}
            GenericParam::Type(ty) if crate::generics::index_of(&ty.ident.to_string()).is_some() => {}
            GenericParam::Type(ty) => diagnostics.error(
                ty,
                format!("#[differentiable] does not support the generic type parameter `{}`: write the function for `f64` or `f32`", ty.ident),
            ),
            // Const generics size arrays (`fn f<const N: usize>(x: [f64; N])`).
            GenericParam::Const(_) => {}
        }
    }

    let ret = return_type(sig, diagnostics);
    let uses = ArrayUses {
        depths: indexed_names(&function.block),
        float: ret.as_ref().and_then(|(_, float)| *float),
    };
    let params = sig
        .inputs
        .iter()
        .enumerate()
        .filter_map(|(index, input)| param(index, input, &uses, diagnostics))
        .collect::<Vec<_>>();
    let mut params = params;
    select_differentiable(&mut params, args, diagnostics);
    // A parameter of a type grad sees only by name, left constant by `wrt`, is read as
    // written (indexed by rustc), not as an array of a shape grad assumed.
    for param in params.iter_mut().filter(|p| !p.differentiable) {
        if param.class.has_inferred_len() {
            param.class = Ty::Other;
        }
    }
    let probes = match args.wrt {
        // Parameters left out of `wrt` are constants by the user's choice.
        Some(_) => Vec::new(),
        None => constant_parameters_hold_no_floats(&params, &sig.generics, diagnostics),
    };
    if !params.iter().any(|p| p.differentiable) && diagnostics.count() == errors_before {
        let mut unseen: Vec<String> = Vec::new();
        for (ty, _) in &probes {
            let name = format!("`{}`", crate::diagnostics::spelled(ty));
            if !unseen.contains(&name) {
                unseen.push(name);
            }
        }
        let message = if unseen.is_empty() {
            format!(
                "`{}` has no parameter to differentiate: give it an `f64` or `f32` parameter",
                sig.ident
            )
        } else {
            let names = if unseen.len() == 1 {
                "the name"
            } else {
                "the names"
            };
            format!(
                "`{}` has no parameter whose type grad can see is a float: it sees only {names} {}; write the float or array types out in the signature",
                sig.ident,
                unseen.join(", ")
            )
        };
        diagnostics.error(&sig.ident, message);
    }
    let ret_linalg = ret.as_ref().and_then(|(ty, _)| crate::linalg::classify(ty));
    let ret_class = match &ret_linalg {
        Some((_, shape)) => shape.clone(),
        None => ret.as_ref().map_or(Ty::Unknown, |(ty, _)| classify(ty)),
    };
    let ret_linalg = ret_linalg.map(|(linalg, _)| linalg);
    // The Jacobian of an array output in a nalgebra parameter is unrolled, one vjp per
    // output: it needs the output's length as a number.
    if let Some((ty, _)) = &ret
        && let Ty::Array(_, Len(len)) = &ret_class
        && ret_linalg.is_none()
        && len.to_string().parse::<usize>().is_err()
        && params
            .iter()
            .any(|p| p.linalg.is_some() && p.differentiable)
    {
        diagnostics.error(
            ty,
            "a function differentiated with respect to a nalgebra value returns an array whose length is written as a number (`[f64; 3]`), a float, a tuple or a nalgebra vector or matrix",
        );
    }
    if let Some((ty, _)) = &ret
        && !ret_class.is_float()
        && let Some(param) = params.iter().find(|p| p.is_struct())
    {
        diagnostics.error(
            ty,
            format!("a function differentiated with respect to the struct `{}` must return one float for now: return the output you differentiate, or take the struct's fields as parameters", param.ident),
        );
    }
    let ret_by_name = ret.as_ref().is_some_and(|(_, float)| float.is_none());
    let arrays_by_use = params
        .iter()
        .filter(|p| p.differentiable)
        .filter_map(|p| {
            let checked = match &p.class {
                Ty::Array(_, len) if len.is_inferred() => p.gradient_ty.clone(),
                Ty::Array(..) => unseen_element(&p.gradient_ty)?.clone(),
                _ => return None,
            };
            Some((checked, inferred_depth(&p.class)))
        })
        .collect();
    Signature {
        params,
        probes,
        ret,
        ret_class,
        ret_linalg,
        ret_by_name,
        arrays_by_use,
    }
}

fn return_type(
    sig: &syn::Signature,
    diagnostics: &mut Diagnostics,
) -> Option<(Type, Option<FloatTy>)> {
    let (fn_token, ident, inputs) = (&sig.fn_token, &sig.ident, &sig.inputs);
    // Spanned from `fn` to `)`: where the missing `-> f64` belongs.
    let mut parameters = proc_macro2::Group::new(
        proc_macro2::Delimiter::Parenthesis,
        quote::ToTokens::to_token_stream(inputs),
    );
    parameters.set_span(sig.paren_token.span.join());
    let signature_head = quote::quote!(#fn_token #ident #parameters);
    match &sig.output {
        ReturnType::Default => {
            diagnostics.error(
                signature_head,
                "a #[differentiable] function must return `f64` or `f32`, and this one returns `()`",
            );
            None
        }
        // A nalgebra vector or point: a vector output.
        ReturnType::Type(_, ty) if let Some((linalg, shape)) = crate::linalg::classify(ty) => {
            match (linalg.kind, shape.scalar()) {
                (_, Ty::Float(float)) => Some(((**ty).clone(), *float)),
                _ => None,
            }
        }
        ReturnType::Type(_, ty) if matches!(classify(ty), Ty::Array(elem, _) if matches!(*elem, Ty::Array(..))) =>
        {
            diagnostics.error(ty, "a #[differentiable] function cannot return an array of arrays yet: return a flat array (`[f64; M * N]`, row by row) or a tuple of floats");
            None
        }
        ReturnType::Type(_, ty) => match float_type(ty).or_else(|| match classify(ty) {
            Ty::Array(elem, _) => match &*elem {
                Ty::Float(float) => *float,
                _ => None,
            },
            _ => tuple_output(ty).and_then(|floats| floats.first().copied()),
        }) {
            Some(float) => Some(((**ty).clone(), Some(float))),
            None if seen_only_by_name(ty) && !matches!(**ty, Type::Reference(_)) => {
                Some(((**ty).clone(), None))
            }
            None => {
                let found = quote::quote!(#ty).to_string();
                diagnostics.error(
                    ty,
                    format!("a #[differentiable] function must return `f64` or `f32`, an array of them, or a tuple of them, not `{found}`"),
                );
                None
            }
        },
    }
}

/// `S`, `&S`, `Self`, `&Self`, `module::S<T>`: a type that may be a struct deriving
/// `grad::Differentiable`.
fn names_a_struct(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) if reference.mutability.is_none() => {
            names_a_struct(&reference.elem)
        }
        Type::Path(path) => path.qself.is_none(),
        Type::Paren(inner) => names_a_struct(&inner.elem),
        _ => false,
    }
}

impl Param {
    /// A struct parameter (or `self`) being differentiated field by field.
    pub fn is_struct(&self) -> bool {
        self.differentiable && self.class == Ty::Other
    }
}

/// Why a function of a `#[differentiable]` module or impl block is left as written (it
/// returns something other than a float, an array or a tuple of them, or takes no float),
/// or `None` for one that grad differentiates. A type seen only by name does not count (the
/// attribute on the function itself says to read it by its use): `by_name` says so.
pub fn left_as_written(sig: &syn::Signature) -> Option<LeftAsWritten> {
    let mut scratch = Diagnostics::default();
    let returned = return_type(sig, &mut scratch);
    if !matches!(returned, Some((_, Some(_)))) || scratch.has_errors() {
        let spelled = match &sig.output {
            ReturnType::Default => "()".to_string(),
            ReturnType::Type(_, ty) => crate::diagnostics::spelled(ty),
        };
        return Some(LeftAsWritten {
            why: format!("it returns `{spelled}`"),
            by_name: matches!(returned, Some((_, None))),
        });
    }
    let mut by_name = false;
    for input in &sig.inputs {
        if let FnArg::Typed(typed) = input {
            match content(&typed.ty) {
                Content::Floats => return None,
                Content::Unseen(_) => by_name = true,
                Content::NoFloats => {}
            }
        }
    }
    Some(LeftAsWritten {
        why: "it takes no float".to_string(),
        by_name,
    })
}

pub struct LeftAsWritten {
    pub why: String,
    /// What stops it is a type grad sees only by name.
    pub by_name: bool,
}

/// `T` of `Vec<T>` (under any path) or of `&Vec<T>`, whatever `T` is.
fn vec_element(ty: &Type) -> Option<&Type> {
    let ty = match ty {
        Type::Reference(reference) if reference.mutability.is_none() => &*reference.elem,
        other => other,
    };
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(elem)) if last.ident == "Vec" && args.args.len() == 1 => {
            Some(elem)
        }
        _ => None,
    }
}

/// The element type `E` of a slice parameter `&[E]`, `Vec<E>` or `&Vec<E>` that grad
/// differentiates: a float, an array of floats (`&[[f64; 3]]`), or a `Vec` of floats (the
/// rows of a `&[Vec<f64>]`).
pub fn slice_element(ty: &Type) -> Option<&Type> {
    let elem = match ty {
        Type::Reference(reference) if reference.mutability.is_none() => match &*reference.elem {
            Type::Slice(slice) => &*slice.elem,
            _ => vec_element(ty)?,
        },
        _ => vec_element(ty)?,
    };
    element_class(elem).is_some().then_some(elem)
}

/// `&[[f64; 2]]` for `&[(f64, f64)]` (and `Vec<[f64; 2]>` for `Vec<(f64, f64)>`): a slice of
/// tuples of one float type, written as the slice of arrays grad differentiates.
fn tuples_as_arrays(ty: &Type) -> Option<String> {
    let (elem, vec) = match ty {
        Type::Reference(reference) if reference.mutability.is_none() => match &*reference.elem {
            Type::Slice(slice) => (&*slice.elem, None),
            _ => (vec_element(ty)?, Some("&Vec")),
        },
        _ => (vec_element(ty)?, Some("Vec")),
    };
    let Type::Tuple(tuple) = elem else {
        return None;
    };
    let floats: Vec<FloatTy> = tuple.elems.iter().map(float_type).collect::<Option<_>>()?;
    let first = *floats.first()?;
    if floats.iter().any(|f| *f != first) {
        return None;
    }
    let array = format!("[{}; {}]", first.ident(), floats.len());
    Some(match vec {
        None => format!("&[{array}]"),
        Some(vec) => format!("{vec}<{array}>"),
    })
}

/// What a slice parameter's element is, if grad differentiates it.
fn element_class(elem: &Type) -> Option<Ty> {
    if let Some(float) = float_type(elem) {
        return Some(Ty::Float(Some(float)));
    }
    match classify(elem) {
        array @ Ty::Array(..) if array.scalar().is_float() => Some(array),
        _ => vec_element(elem)
            .filter(|_| !matches!(elem, Type::Reference(_)))
            .and_then(float_type)
            .map(|float| Ty::Slice(Box::new(Ty::Float(Some(float))))),
    }
}

/// The float types of a tuple of floats `(f64, f64)`: a vector output.
pub fn tuple_output(ty: &Type) -> Option<Vec<FloatTy>> {
    match ty {
        Type::Tuple(tuple) if !tuple.elems.is_empty() => {
            tuple.elems.iter().map(float_type).collect()
        }
        Type::Paren(inner) => tuple_output(&inner.elem),
        _ => None,
    }
}

/// `f64` or `f32`, written as a bare path.
pub fn float_type(ty: &Type) -> Option<FloatTy> {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            match segments
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice()
            {
                [name] | ["std" | "core", "primitive", name] => FloatTy::from_ident(name),
                _ => None,
            }
        }
        Type::Paren(inner) => float_type(&inner.elem),
        Type::Group(inner) => float_type(&inner.elem),
        _ => None,
    }
}

/// How the macro classifies a written type.
pub fn classify(ty: &Type) -> Ty {
    if let Some(float) = float_type(ty) {
        return Ty::Float(Some(float));
    }
    if let Type::Array(array) = ty {
        let len = quote::ToTokens::to_token_stream(&array.len);
        return Ty::Array(Box::new(classify(&array.elem)), Len(len));
    }
    if matches!(ty, Type::Reference(_) | Type::Ptr(_)) {
        return Ty::Other;
    }
    if let Type::Path(path) = ty
        && let Some(ident) = path.path.get_ident()
    {
        let name = ident.to_string();
        let is_int = matches!(
            name.as_str(),
            "i8" | "i16"
                | "i32"
                | "i64"
                | "i128"
                | "isize"
                | "u8"
                | "u16"
                | "u32"
                | "u64"
                | "u128"
                | "usize"
        );
        if is_int {
            return Ty::Int;
        }
        if name == "bool" {
            return Ty::Bool;
        }
    }
    Ty::Unknown
}

fn param(
    index: usize,
    input: &FnArg,
    uses: &ArrayUses,
    diagnostics: &mut Diagnostics,
) -> Option<Param> {
    let indexed = &uses.depths;
    let typed = match input {
        // `self` is a constant input, whatever its fields hold: the gradient is with
        // respect to the method's other parameters.
        FnArg::Receiver(receiver) => {
            return Some(Param {
                ident: Ident::new("self", receiver.self_token.span),
                ty: (*receiver.ty).clone(),
                gradient_ty: (*receiver.ty).clone(),
                class: Ty::Other,
                differentiable: false,
                receiver: Some(receiver.clone()),
                linalg: None,
            });
        }
        FnArg::Typed(typed) => typed,
    };
    let ident = match &*typed.pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
        Pat::Wild(_) => names::unnamed_param(index),
        other => {
            diagnostics.error(other, "#[differentiable] supports only plain names as parameters: bind the parameter to a name and destructure it in the body");
            return None;
        }
    };
    let ty = (*typed.ty).clone();
    if let Some((linalg, class)) = crate::linalg::classify(&ty) {
        let gradient_ty = match &ty {
            Type::Reference(reference) => (*reference.elem).clone(),
            other => other.clone(),
        };
        return Some(Param {
            ident,
            ty,
            gradient_ty,
            class,
            differentiable: false,
            receiver: None,
            linalg: Some(linalg),
        });
    }
    let mut gradient_ty = ty.clone();
    let class = match &ty {
        Type::Reference(reference) if reference.mutability.is_some() => {
            diagnostics.error(&ty, "#[differentiable] does not support `&mut` parameters: take the value and return the result instead");
            return None;
        }
        Type::Ptr(_) => {
            diagnostics.error(
                &ty,
                "#[differentiable] does not support raw pointer parameters: take the value instead",
            );
            return None;
        }
        // `&[f64]`, `&[[f64; 3]]`, `&[Vec<f64>]`; `Vec<..>` and `&Vec<..>` of the same are read
        // as a slice is, and differentiated as one: the gradient is a `Vec` (or the caller's
        // buffer, with `_grad_into`).
        other if slice_element(other).is_some() => {
            let elem = slice_element(other).expect("matched above");
            Ty::Slice(Box::new(
                element_class(elem).expect("checked by slice_element"),
            ))
        }
        // A reference to an array is read like the array, without copying it in; its
        // gradient is an array.
        Type::Reference(reference) if matches!(classify(&reference.elem), Ty::Array(..)) => {
            gradient_ty = (*reference.elem).clone();
            let class = classify(&reference.elem);
            let indexed_depth = indexed.get(&ident.to_string()).copied().unwrap_or(0);
            let depth = array_depth(&class);
            if unseen_element(&reference.elem).is_some() && indexed_depth > depth {
                with_inferred_elements(class, indexed_depth - depth, uses.float)
            } else {
                class
            }
        }
        // `x: &f64` is read as the float it refers to; its gradient entry is a float.
        Type::Reference(reference) if float_type(&reference.elem).is_some() => {
            gradient_ty = (*reference.elem).clone();
            classify(&reference.elem)
        }
        // A type grad sees only by name (`origin: Vec3`, `&Vec3`) that the body indexes is
        // read as an array whose shape rustc knows; rustc confirms it is one (the
        // `arrays_by_use` check) rather than grad guessing from the name.
        other if seen_only_by_name(other) && indexed.contains_key(&ident.to_string()) => {
            if let Type::Reference(reference) = other {
                gradient_ty = (*reference.elem).clone();
            }
            Ty::inferred_array(indexed[&ident.to_string()], uses.float)
        }
        // `[Vec3; N]` indexed twice: an array of arrays whose inner shape rustc knows.
        other
            if unseen_element(other).is_some()
                && indexed.get(&ident.to_string()).copied().unwrap_or(0)
                    > array_depth(&classify(other)) =>
        {
            let outer = classify(other);
            let inner_depth = indexed[&ident.to_string()] - array_depth(&outer);
            with_inferred_elements(outer, inner_depth, uses.float)
        }
        // Parameters of types grad does not recognise are constants, and known to be so.
        other => match classify(other) {
            Ty::Unknown => Ty::Other,
            class => class,
        },
    };
    Some(Param {
        ident,
        ty,
        gradient_ty,
        class,
        differentiable: false,
        receiver: None,
        linalg: None,
    })
}

fn select_differentiable(params: &mut [Param], args: &Args, diagnostics: &mut Diagnostics) {
    let Some(wrt) = &args.wrt else {
        for param in params.iter_mut() {
            param.differentiable = param.class.is_differentiable();
        }
        return;
    };
    for (position, name) in wrt.iter().enumerate() {
        if wrt[..position].contains(name) {
            diagnostics.error(name, format!("`{name}` is named twice in `wrt`"));
            continue;
        }
        match params.iter_mut().find(|p| p.ident == *name) {
            // A struct (or `self`): differentiated field by field, its gradient entry a value
            // of the same type; rustc checks that it derives `grad::Differentiable`.
            Some(param) if param.class == Ty::Other && names_a_struct(&param.ty) => {
                param.differentiable = true;
                param.gradient_ty = match &param.ty {
                    Type::Reference(reference) => (*reference.elem).clone(),
                    other => other.clone(),
                };
            }
            None => diagnostics.error(name, format!("`wrt` names `{name}`, which is not a parameter of this function")),
            Some(param) if !param.class.is_differentiable() => diagnostics.error(
                name,
                format!("`wrt` names `{name}`, which is not an `f64` or `f32` parameter (or an array of them) and has no gradient"),
            ),
            Some(param) => param.differentiable = true,
        }
    }
}

/// What a written type holds, as far as its spelling tells.
enum Content {
    Floats,
    NoFloats,
    /// Only rustc knows: these parts are names (aliases, structs, other crates' types).
    Unseen(Vec<Type>),
}

impl Content {
    fn or(self, other: Content) -> Content {
        match (self, other) {
            (Content::Floats, _) | (_, Content::Floats) => Content::Floats,
            (Content::Unseen(mut a), Content::Unseen(b)) => {
                a.extend(b);
                Content::Unseen(a)
            }
            (Content::Unseen(a), Content::NoFloats) | (Content::NoFloats, Content::Unseen(a)) => {
                Content::Unseen(a)
            }
            (Content::NoFloats, Content::NoFloats) => Content::NoFloats,
        }
    }
}

fn content(ty: &Type) -> Content {
    if float_type(ty).is_some() {
        return Content::Floats;
    }
    match ty {
        Type::Array(array) => content(&array.elem),
        Type::Slice(slice) => content(&slice.elem),
        Type::Reference(reference) => content(&reference.elem),
        Type::Ptr(pointer) => content(&pointer.elem),
        Type::Paren(inner) => content(&inner.elem),
        Type::Group(inner) => content(&inner.elem),
        Type::Tuple(tuple) => tuple
            .elems
            .iter()
            .map(content)
            .fold(Content::NoFloats, Content::or),
        // Functions and trait objects are called, not differentiated.
        Type::BareFn(_) | Type::ImplTrait(_) | Type::TraitObject(_) | Type::Never(_) => {
            Content::NoFloats
        }
        Type::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
            match classify(ty) {
                Ty::Int | Ty::Bool => Content::NoFloats,
                _ if path.path.is_ident("char") || path.path.is_ident("str") => Content::NoFloats,
                _ => Content::Unseen(vec![ty.clone()]),
            }
        }
        Type::Path(path) => {
            // `Option<f64>`, `Wrapper<[f64; 3]>`: a float among the arguments is a float held.
            let arguments =
                path.path
                    .segments
                    .iter()
                    .flat_map(|segment| match &segment.arguments {
                        syn::PathArguments::AngleBracketed(args) => args
                            .args
                            .iter()
                            .filter_map(|arg| match arg {
                                syn::GenericArgument::Type(ty) => Some(content(ty)),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    });
            match arguments.fold(Content::NoFloats, Content::or) {
                Content::Floats => Content::Floats,
                _ => Content::Unseen(vec![ty.clone()]),
            }
        }
        _ => Content::Unseen(vec![ty.clone()]),
    }
}

/// The rule that no parameter is silently left out of the gradient: a constant parameter
/// whose type holds floats is an error, and one whose type grad sees only by name is asked
/// of rustc (the probes, emitted beside the function).
fn constant_parameters_hold_no_floats(
    params: &[Param],
    generics: &syn::Generics,
    diagnostics: &mut Diagnostics,
) -> Vec<(Type, String)> {
    let differentiated: Vec<String> = params
        .iter()
        .filter(|p| p.differentiable)
        .map(|p| p.ident.to_string())
        .collect();
    let keep_constant = if differentiated.is_empty() {
        String::new()
    } else {
        format!(
            ", or keep it constant by naming the parameters to differentiate: `#[differentiable(wrt({}))]`",
            differentiated.join(", ")
        )
    };
    let generic_names: Vec<String> = generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(ty) => Some(ty.ident.to_string()),
            GenericParam::Const(constant) => Some(constant.ident.to_string()),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    let unsupported_generics: Vec<String> = generics
        .type_params()
        .filter(|ty| crate::generics::index_of(&ty.ident.to_string()).is_none())
        .map(|ty| ty.ident.to_string())
        .collect();
    let mut probes = Vec::new();
    for param in params
        .iter()
        .filter(|p| !p.differentiable && p.ident != "self")
    {
        let (name, ty) = (&param.ident, &param.ty);
        let written = crate::diagnostics::spelled(ty);
        match content(ty) {
            Content::NoFloats => {}
            Content::Floats => {
                let instead = match tuples_as_arrays(ty) {
                    Some(arrays) => format!(
                        "write its tuples as arrays (`{arrays}`, read as `{name}[i][0]` or `let [a, b] = {name}[i];`)"
                    ),
                    None => {
                        "take its floats as parameters of their own (`f64`, `[f64; N]`, `&[f64]`)"
                            .to_owned()
                    }
                };
                diagnostics.error(
                    ty,
                    format!(
                        "`{name}` holds floats, but grad cannot differentiate a parameter of type `{written}` yet and would leave it out of the gradient: {instead}{keep_constant}"
                    ),
                );
            }
            Content::Unseen(parts) => {
                for part in parts {
                    let part_written = crate::diagnostics::spelled(&part);
                    if contains_generic_ident(&part, &unsupported_generics) {
                        // Reported already, as a generic parameter grad does not support.
                        continue;
                    }
                    if contains_generic_ident(&part, &generic_names) {
                        diagnostics.error(
                            &part,
                            format!(
                                "grad cannot tell whether `{part_written}` holds floats, and a float parameter must not be left out of the gradient silently: write the type out in the signature{keep_constant}"
                            ),
                        );
                    } else {
                        // A struct deriving `grad::Differentiable` is differentiated when named.
                        let as_struct = if names_a_struct(ty) {
                            let mut wrt: Vec<String> = differentiated.clone();
                            wrt.insert(0, name.to_string());
                            format!(
                                "; if `{part_written}` is a struct deriving `grad::Differentiable`, differentiate `{name}` field by field by naming it: `#[differentiable(wrt({}))]`",
                                wrt.join(", ")
                            )
                        } else {
                            String::new()
                        };
                        let message = format!(
                            "`{name}` holds floats, but grad sees only the name `{part_written}` and would leave `{name}` out of the gradient: write out in the signature the float or array type that `{part_written}` names{as_struct}{keep_constant}"
                        );
                        probes.push((part, message));
                    }
                }
            }
        }
    }
    probes
}

/// Whether a type names one of `names` anywhere inside, `Foo<Bar<T>>` and `[u8; N]` included.
fn contains_generic_ident(ty: &Type, names: &[String]) -> bool {
    let counts = ident_counts(quote::quote!(#ty));
    names.iter().any(|name| counts.contains_key(name))
}

/// How often each identifier appears in some tokens, nested groups included.
pub fn ident_counts(tokens: proc_macro2::TokenStream) -> std::collections::HashMap<String, usize> {
    fn walk(
        tokens: proc_macro2::TokenStream,
        counts: &mut std::collections::HashMap<String, usize>,
    ) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(ident) => {
                    *counts.entry(ident.to_string()).or_default() += 1;
                }
                proc_macro2::TokenTree::Group(group) => walk(group.stream(), counts),
                _ => {}
            }
        }
    }
    let mut counts = std::collections::HashMap::new();
    walk(tokens, &mut counts);
    counts
}

/// The float type that owns a path such as `f64::sin`.
pub fn float_owner(path: &syn::Path) -> bool {
    let n = path.segments.len();
    if n < 2 {
        return false;
    }
    let owner = path.segments[n - 2].ident.to_string();
    owner == "Float" || FloatTy::from_ident(&owner).is_some()
}

/// The names a body indexes (`a[i]`, `m[i][j]`) as arrays of values, each with the most
/// indices seen on it; a name whose elements index other arrays (`x[ends[1]]`) or are
/// converted with `as` (`counts[0] as f64`) holds integers and is left out.
pub fn indexed_names(body: &syn::Block) -> HashMap<String, usize> {
    #[derive(Default)]
    struct Finder {
        depths: HashMap<String, usize>,
        /// Names whose elements index other arrays (`x[ends[1]]`) or are converted with `as`:
        /// integers, not the function's floats.
        indices: std::collections::HashSet<String>,
    }
    fn base_name(index: &syn::ExprIndex) -> (Option<String>, usize) {
        let mut depth = 1;
        let mut base = &*index.expr;
        while let syn::Expr::Index(inner) = base {
            depth += 1;
            base = &inner.expr;
        }
        match base {
            syn::Expr::Path(path) => (path.path.get_ident().map(ToString::to_string), depth),
            _ => (None, depth),
        }
    }
    struct IndexNames<'f>(&'f mut std::collections::HashSet<String>);
    impl<'ast> syn::visit::Visit<'ast> for IndexNames<'_> {
        fn visit_expr_index(&mut self, index: &'ast syn::ExprIndex) {
            if let (Some(name), _) = base_name(index) {
                self.0.insert(name);
            }
            syn::visit::visit_expr_index(self, index);
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_index(&mut self, index: &'ast syn::ExprIndex) {
            if let (Some(name), depth) = base_name(index) {
                let entry = self.depths.entry(name).or_insert(0);
                *entry = (*entry).max(depth);
            }
            syn::visit::Visit::visit_expr(&mut IndexNames(&mut self.indices), &index.index);
            syn::visit::visit_expr_index(self, index);
        }

        // `counts[0] as f64`: elements converted with `as` are integers (or another float
        // type), not the function's floats.
        fn visit_expr_cast(&mut self, cast: &'ast syn::ExprCast) {
            let mut inner = &*cast.expr;
            while let syn::Expr::Paren(paren) = inner {
                inner = &paren.expr;
            }
            if let syn::Expr::Index(index) = inner
                && let (Some(name), _) = base_name(index)
            {
                self.indices.insert(name);
            }
            syn::visit::visit_expr_cast(self, cast);
        }
    }
    let mut finder = Finder::default();
    syn::visit::Visit::visit_block(&mut finder, body);
    let Finder {
        mut depths,
        indices,
    } = finder;
    depths.retain(|name, _| !indices.contains(name));
    depths
}

/// A type written as a bare name grad cannot resolve (an alias such as `Vec3`), or a shared
/// reference to one.
fn seen_only_by_name(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) if reference.mutability.is_none() => {
            seen_only_by_name(&reference.elem)
        }
        Type::Path(path) if path.qself.is_none() => {
            path.path.get_ident().is_some()
                && classify(ty) == Ty::Unknown
                && !path.path.is_ident("char")
                && !path.path.is_ident("str")
                && !path.path.is_ident("String")
        }
        _ => false,
    }
}

/// The element type at the bottom of an array type, when grad sees it only by name
/// (`Vec3` in `[Vec3; N]`).
fn unseen_element(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Array(array) => match &*array.elem {
            Type::Array(_) => unseen_element(&array.elem),
            elem if seen_only_by_name(elem) => Some(elem),
            _ => None,
        },
        Type::Reference(reference) if reference.mutability.is_none() => {
            unseen_element(&reference.elem)
        }
        _ => None,
    }
}

fn array_depth(ty: &Ty) -> usize {
    match ty {
        Ty::Array(elem, _) => 1 + array_depth(elem),
        _ => 0,
    }
}

/// `ty` with its unknown elements replaced by arrays of `depth` inferred dimensions.
fn with_inferred_elements(ty: Ty, depth: usize, float: Option<FloatTy>) -> Ty {
    match ty {
        Ty::Array(elem, len) => {
            Ty::Array(Box::new(with_inferred_elements(*elem, depth, float)), len)
        }
        _ => Ty::inferred_array(depth, float),
    }
}

/// How the body indexes its names, for parameters of types grad sees only by name.
struct ArrayUses {
    /// The most indices seen on each name. Only indexing counts: a constant passed on whole
    /// (a `&Config` handed to another function) is as likely as an array.
    depths: HashMap<String, usize>,
    /// The function's float type, the elements' (see `Ty::inferred_array`).
    float: Option<FloatTy>,
}

/// How many of an array type's dimensions have lengths rustc infers.
fn inferred_depth(ty: &Ty) -> usize {
    match ty {
        Ty::Array(elem, len) => usize::from(len.is_inferred()) + inferred_depth(elem),
        _ => 0,
    }
}

/// The type parameters of `sig` bounded by `Fn`, `FnMut` or `FnOnce`.
pub fn closure_type_params(sig: &syn::Signature) -> Vec<syn::Ident> {
    let is_fn_bound = |bound: &syn::TypeParamBound| match bound {
        syn::TypeParamBound::Trait(t) => t
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Fn" || s.ident == "FnMut" || s.ident == "FnOnce"),
        _ => false,
    };
    let mut names: Vec<syn::Ident> = sig
        .generics
        .type_params()
        .filter(|p| p.bounds.iter().any(is_fn_bound))
        .map(|p| p.ident.clone())
        .collect();
    if let Some(clause) = &sig.generics.where_clause {
        for predicate in &clause.predicates {
            if let syn::WherePredicate::Type(typed) = predicate
                && typed.bounds.iter().any(is_fn_bound)
                && let syn::Type::Path(path) = &typed.bounded_ty
                && let Some(ident) = path.path.get_ident()
            {
                names.push(ident.clone());
            }
        }
    }
    names
}

/// `F` of a closure type parameter, `impl Fn(..)`, `&dyn Fn(..)`, or a reference to one.
pub fn is_closure_type(ty: &syn::Type, closure_types: &[syn::Ident]) -> bool {
    let is_fn = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>| {
        bounds.iter().any(|bound| match bound {
            syn::TypeParamBound::Trait(t) => t
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "Fn" || s.ident == "FnMut" || s.ident == "FnOnce"),
            _ => false,
        })
    };
    match ty {
        syn::Type::Path(path) => path
            .path
            .get_ident()
            .is_some_and(|ident| closure_types.contains(ident)),
        syn::Type::ImplTrait(imp) => is_fn(&imp.bounds),
        syn::Type::TraitObject(object) => is_fn(&object.bounds),
        syn::Type::Reference(reference) => is_closure_type(&reference.elem, closure_types),
        syn::Type::Paren(inner) => is_closure_type(&inner.elem, closure_types),
        _ => false,
    }
}

/// Whether a function takes a closure, so that grad inlines it where it is called instead
/// of differentiating it on its own; only one whose other type parameters are none (its
/// body is lowered in its caller, where they mean nothing).
pub fn takes_closures(sig: &syn::Signature) -> bool {
    let closure_types = closure_type_params(sig);
    let other_type_params = sig
        .generics
        .type_params()
        .any(|p| !closure_types.contains(&p.ident));
    !other_type_params
        && sig.receiver().is_none()
        && sig.inputs.iter().any(|input| {
            matches!(input, syn::FnArg::Typed(typed) if is_closure_type(&typed.ty, &closure_types))
        })
}
