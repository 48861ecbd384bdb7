//! Generic float types: `fn f<T: grad::Float>(x: T) -> T`.
//!
//! The names of a function's float type parameters are needed wherever a written type is
//! classified, deep inside several passes, so they are kept for the length of one expansion
//! in a thread-local scope rather than threaded through every call.

use std::cell::RefCell;
use syn::{GenericParam, Generics, TypeParamBound, WherePredicate};

thread_local! {
    static FLOAT_PARAMS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static CONST_PARAMS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The float type parameters of the function being expanded, until dropped; then those of
/// the expansion it is nested in (second order expands a function inside another's), if any.
pub struct Scope {
    outer_floats: Vec<String>,
    outer_consts: Vec<String>,
}

impl Drop for Scope {
    fn drop(&mut self) {
        let (floats, consts) = (
            std::mem::take(&mut self.outer_floats),
            std::mem::take(&mut self.outer_consts),
        );
        FLOAT_PARAMS.with(|names| *names.borrow_mut() = floats);
        CONST_PARAMS.with(|names| *names.borrow_mut() = consts);
    }
}

pub fn enter(generics: &Generics) -> Scope {
    let names = float_params(generics)
        .iter()
        .map(ToString::to_string)
        .collect();
    let outer_floats =
        FLOAT_PARAMS.with(|current| std::mem::replace(&mut *current.borrow_mut(), names));
    let consts = generics
        .const_params()
        .map(|c| c.ident.to_string())
        .collect();
    let outer_consts =
        CONST_PARAMS.with(|current| std::mem::replace(&mut *current.borrow_mut(), consts));
    Scope {
        outer_floats,
        outer_consts,
    }
}

/// Whether `name` is one of the function's const generic parameters.
pub fn is_const_param(name: &str) -> bool {
    CONST_PARAMS.with(|names| names.borrow().iter().any(|n| n == name))
}

/// The index of a float type parameter by name.
pub fn index_of(name: &str) -> Option<u8> {
    FLOAT_PARAMS.with(|names| {
        names
            .borrow()
            .iter()
            .position(|n| n == name)
            .map(|i| i as u8)
    })
}

pub fn name_of(index: u8) -> String {
    FLOAT_PARAMS.with(|names| {
        names
            .borrow()
            .get(usize::from(index))
            .cloned()
            .unwrap_or_default()
    })
}

/// Type parameters bounded by a trait named `Float` or `Real` (`grad::Float`,
/// `num_traits::Float`, `num_traits::real::Real`, or one of them imported), in the parameter
/// list or in a where clause.
pub fn float_params(generics: &Generics) -> Vec<&syn::Ident> {
    fn is_float<'a>(mut bounds: impl Iterator<Item = &'a TypeParamBound>) -> bool {
        bounds.any(|bound| match bound {
            TypeParamBound::Trait(t) => t
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "Float" || s.ident == "Real"),
            _ => false,
        })
    }
    generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(ty) => {
                let in_where = generics.where_clause.iter().flat_map(|w| &w.predicates).any(|p| match p {
                    WherePredicate::Type(pred) => {
                        matches!(&pred.bounded_ty, syn::Type::Path(path) if path.path.is_ident(&ty.ident))
                            && is_float(pred.bounds.iter())
                    }
                    _ => false,
                });
                (is_float(ty.bounds.iter()) || in_where).then_some(&ty.ident)
            }
            _ => None,
        })
        .collect()
}

/// In a function generic over exactly one float type `T`, an unsuffixed float literal such as
/// `2.0` means `T`'s 2 (`<T as grad::__private::Literal>::literal(2.0)`, through num-traits,
/// which every bound grad accepts provides): the macro writes that, so the user need not.
pub fn convert_literals(function: &mut syn::ItemFn) {
    let params = float_params(&function.sig.generics);
    let [only] = params.as_slice() else {
        return;
    };
    let ty = (*only).clone();
    let mut converter = Converter { ty };
    syn::visit_mut::VisitMut::visit_block_mut(&mut converter, &mut function.block);
}

/// A float literal the macro writes itself (a sum's `-0.0`), in the function's float type when
/// the function is generic over exactly one: what `convert_literals` does to the user's.
pub fn literal(value: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let names = FLOAT_PARAMS.with(|names| names.borrow().clone());
    match names.as_slice() {
        [only] => {
            let ty = syn::Ident::new(only, proc_macro2::Span::call_site());
            quote::quote!(<#ty as ::grad::__private::Literal>::literal(#value))
        }
        _ => value,
    }
}

struct Converter {
    ty: syn::Ident,
}

/// Calls that convert an `f64` into the float type (`T::from_f64(0.5)`, `T::from(0.5)`,
/// `num_traits::cast(0.5)`): their literal arguments are `f64`s already.
fn converts_from_f64(call: &syn::ExprCall) -> bool {
    let syn::Expr::Path(path) = &*call.func else {
        return false;
    };
    path.path.segments.last().is_some_and(|last| {
        let name = last.ident.to_string();
        name.starts_with("from") || name == "cast"
    })
}

/// `T::max(x, 0.0)`, `Float::powf(x, 2.0)`: a float method in path form.
fn calls_a_float_method(call: &syn::ExprCall) -> bool {
    let syn::Expr::Path(path) = &*call.func else {
        return false;
    };
    path.path.segments.len() > 1
        && path
            .path
            .segments
            .last()
            .is_some_and(|last| crate::rules::method(&last.ident.to_string()).is_some())
}

/// A float or integer literal, possibly negated or in parentheses.
pub fn is_plain_literal(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(_) | syn::Lit::Int(_),
            ..
        }) => true,
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        })
        | syn::Expr::Paren(syn::ExprParen { expr, .. }) => is_plain_literal(expr),
        _ => false,
    }
}

/// A value written with literals alone (`4.0 / 11.0`, `-(1.0 + 0.5)`): handed to a function,
/// it has the type of that function's parameter, like a single literal.
fn is_literal_expression(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Binary(binary) => {
            is_literal_expression(&binary.left) && is_literal_expression(&binary.right)
        }
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        })
        | syn::Expr::Paren(syn::ExprParen { expr, .. }) => is_literal_expression(expr),
        other => is_plain_literal(other),
    }
}

impl syn::visit_mut::VisitMut for Converter {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::Call(call) = expr {
            if converts_from_f64(call) {
                return;
            }
            // A literal handed as it is to a function (`lit::<F>(2.0)`, `lookup(0.5)`,
            // `lit::<F>(4.0 / 11.0)`) is what that function's signature says, which the
            // user's code already compiles against: only a float method (`T::max(x, 0.0)`)
            // takes `T` by grad's rule.
            if !calls_a_float_method(call) {
                self.visit_expr_mut(&mut call.func);
                for arg in call.args.iter_mut() {
                    if !is_literal_expression(arg) {
                        self.visit_expr_mut(arg);
                    }
                }
                return;
            }
        }

        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(float),
            ..
        }) = expr
            && float.suffix().is_empty()
        {
            let (ty, lit) = (&self.ty, float.clone());
            *expr = syn::parse_quote_spanned!(lit.span()=> <#ty as ::grad::__private::Literal>::literal(#lit));
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }

    // Patterns and types hold no float literals to convert; items inside the body keep theirs.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
