//! `#[derive(grad::Differentiable)]`: a struct whose floats a differentiable function takes
//! as an input, and whose gradient entry is a value of the same struct holding the partials.
//!
//! Input: `struct Params { w: [f64; 3], b: f64, n: usize }`. Output: `Differentiable`, whose
//! `zeros_like` gives `w` and `b` zero and copies `n`, and `FloatContent` (true), so that a
//! parameter of the type left constant is an error rather than a silent constant. What a field
//! holds is rustc's to say: a field whose type mentions none of the struct's type parameters is
//! asked by method resolution (`FieldOf`), and one that does must be `Differentiable` itself
//! (a where clause), since a generic field cannot be asked.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub fn derive_differentiable(item: TokenStream) -> TokenStream {
    let input = match syn::parse2::<syn::DeriveInput>(item) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let fields = match &input.data {
        syn::Data::Struct(data) => &data.fields,
        syn::Data::Enum(data) => {
            return syn::Error::new_spanned(
                data.enum_token,
                "#[derive(Differentiable)] applies to structs: give the enum's floats a struct of their own",
            )
            .to_compile_error();
        }
        syn::Data::Union(data) => {
            return syn::Error::new_spanned(
                data.union_token,
                "#[derive(Differentiable)] applies to structs, not unions",
            )
            .to_compile_error();
        }
    };
    let type_params: Vec<&syn::Ident> = input.generics.type_params().map(|p| &p.ident).collect();
    let mut bounds = Vec::new();
    let values: Vec<TokenStream> = fields
        .iter()
        .enumerate()
        .map(|(k, field)| {
            let member = match &field.ident {
                Some(ident) => quote!(#ident),
                None => {
                    let index = syn::Index::from(k);
                    quote!(#index)
                }
            };
            let ty = &field.ty;
            let value = if let Some((zero, param)) = generic_zero(ty, &type_params) {
                // `k: T`, `w: [[T; 3]; 2]` of a float type parameter: its zero, whatever `T`.
                bounds.push(quote_spanned!(ty.span()=> #param: ::grad::num_traits::Zero));
                zero
            } else if mentions_any(ty, &type_params) {
                bounds.push(quote_spanned!(ty.span()=> #ty: ::grad::Differentiable));
                quote_spanned!(ty.span()=> ::grad::Differentiable::zeros_like(&self.#member))
            } else {
                quote_spanned!(ty.span()=> (&::grad::__private::FieldOf(&self.#member)).zero_or_copy())
            };
            quote!(#member: #value)
        })
        .collect();
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut predicates: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    for bound in bounds {
        if !predicates
            .iter()
            .any(|p| p.to_string() == bound.to_string())
        {
            predicates.push(bound);
        }
    }
    quote! {
        impl #impl_generics ::grad::Differentiable for #name #ty_generics where #(#predicates,)* {
            fn zeros_like(&self) -> Self {
                #[allow(unused_imports)]
                use ::grad::__private::{CopyField as _, ZeroField as _};
                #name { #(#values,)* }
            }
        }
        impl #impl_generics ::grad::__private::FloatContent for #name #ty_generics #where_clause {
            const HOLDS_FLOATS: bool = true;
        }
    }
}

/// The zero of a type parameter `T`, or of arrays of it (`[[T; 3]; 2]`), and `T`.
fn generic_zero<'a>(
    ty: &syn::Type,
    params: &[&'a syn::Ident],
) -> Option<(TokenStream, &'a syn::Ident)> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => {
            let ident = path.path.get_ident()?;
            let param = params.iter().find(|p| **p == ident)?;
            Some((quote!(<#param as ::grad::num_traits::Zero>::zero()), *param))
        }
        syn::Type::Array(array) => {
            let (zero, param) = generic_zero(&array.elem, params)?;
            Some((quote!(::core::array::from_fn(|_| #zero)), param))
        }
        syn::Type::Paren(inner) => generic_zero(&inner.elem, params),
        _ => None,
    }
}

/// Whether a type mentions one of `names` anywhere (`T`, `[T; 3]`, `Inner<T>`).
fn mentions_any(ty: &syn::Type, names: &[&syn::Ident]) -> bool {
    fn walk(tokens: TokenStream, names: &[&syn::Ident]) -> bool {
        tokens.into_iter().any(|token| match token {
            proc_macro2::TokenTree::Ident(ident) => names.iter().any(|n| **n == ident),
            proc_macro2::TokenTree::Group(group) => walk(group.stream(), names),
            _ => false,
        })
    }
    walk(quote!(#ty), names)
}
