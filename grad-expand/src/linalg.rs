//! nalgebra's fixed-size types, read from their spelling: `Vector3<f64>`, `Matrix3<T>`,
//! `Matrix2x3<f64>`, `SVector<f64, 4>`, `SMatrix<f64, 2, 3>`, `Point3<f64>` (under any path,
//! by value or by reference). Such a parameter is an array to the pipeline (a matrix is its
//! rows); the companions convert it in and its gradient entry out
//! (`grad::__private::linalg`), so that the core computes on plain arrays and each entry has
//! its parameter's type. A user type of the same name that is not nalgebra's fails those
//! conversions at compile time, never silently.

use crate::types::{Len, Ty};
use proc_macro2::TokenStream;
use quote::quote;
use syn::Type;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Vector,
    Matrix,
    Point,
}

/// A parameter's nalgebra type: its kind, the element type as written and its shape.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub struct Linalg {
    pub kind: Kind,
    pub elem: Type,
    pub by_reference: bool,
}

/// The nalgebra type `ty` names, with its shape as the pipeline's array type.
pub fn classify(ty: &Type) -> Option<(Linalg, Ty)> {
    let (ty, by_reference) = match ty {
        Type::Reference(reference) if reference.mutability.is_none() => (&*reference.elem, true),
        other => (other, false),
    };
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let elem = types.next()?.clone();
    let float = match crate::signature::classify(&elem) {
        Ty::Float(float) => Ty::Float(float),
        _ => return None,
    };
    // The dimensions given as further arguments (`SMatrix<f64, 2, 3>`): literals or const
    // parameters, as written.
    let dims: Vec<TokenStream> = args
        .args
        .iter()
        .skip(1)
        .map(|a| match a {
            syn::GenericArgument::Const(c) => quote!(#c),
            syn::GenericArgument::Type(t) => quote!(#t),
            other => quote!(#other),
        })
        .collect();
    let name = last.ident.to_string();
    let digit = |s: &str| -> Option<TokenStream> {
        let n: usize = s.parse().ok().filter(|n| (1..=6).contains(n))?;
        let n = proc_macro2::Literal::usize_unsuffixed(n);
        Some(quote!(#n))
    };
    let vector = |n: TokenStream| Ty::Array(Box::new(float.clone()), Len(n));
    let matrix = |r: TokenStream, c: TokenStream| {
        Ty::Array(Box::new(Ty::Array(Box::new(float.clone()), Len(c))), Len(r))
    };
    let (kind, shape) = match name.as_str() {
        "SVector" if dims.len() == 1 => (Kind::Vector, vector(dims[0].clone())),
        "SMatrix" if dims.len() == 2 => (Kind::Matrix, matrix(dims[0].clone(), dims[1].clone())),
        _ if dims.is_empty() => {
            if let Some(n) = name.strip_prefix("Vector").and_then(digit) {
                (Kind::Vector, vector(n))
            } else if let Some(n) = name.strip_prefix("Point").and_then(digit) {
                (Kind::Point, vector(n))
            } else if let Some(rest) = name.strip_prefix("Matrix") {
                match rest.split_once('x') {
                    Some((r, c)) => (Kind::Matrix, matrix(digit(r)?, digit(c)?)),
                    None => {
                        let n = digit(rest)?;
                        (Kind::Matrix, matrix(n.clone(), n))
                    }
                }
            } else {
                return None;
            }
        }
        _ => return None,
    };
    Some((
        Linalg {
            kind,
            elem,
            by_reference,
        },
        shape,
    ))
}

/// The plain array type the core takes for a value of this shape: `[f64; 3]`, `[[T; 3]; 2]`.
pub fn array_type(shape: &Ty, elem: &Type) -> TokenStream {
    match shape {
        Ty::Array(inner, Len(n)) => {
            let inner = array_type(inner, elem);
            quote!([#inner; #n])
        }
        _ => quote!(#elem),
    }
}

/// The core's argument for a parameter reached as `access`: its elements (a matrix's rows).
pub fn to_array(linalg: &Linalg, access: TokenStream) -> TokenStream {
    let borrowed = if linalg.by_reference {
        access
    } else {
        quote!(&#access)
    };
    match linalg.kind {
        Kind::Vector => quote!(::grad::__private::linalg::vector_to_array(#borrowed)),
        Kind::Matrix => quote!(::grad::__private::linalg::matrix_to_rows(#borrowed)),
        Kind::Point => quote!(::grad::__private::linalg::point_to_array(#borrowed)),
    }
}

/// A gradient entry computed as an array, as a value of the parameter's type.
pub fn from_array(linalg: &Linalg, array: TokenStream) -> TokenStream {
    match linalg.kind {
        Kind::Vector => quote!(::grad::__private::linalg::array_to_vector(#array)),
        Kind::Matrix => quote!(::grad::__private::linalg::rows_to_matrix(#array)),
        Kind::Point => quote!(::grad::__private::linalg::array_to_point(#array)),
    }
}
