//! `#[differentiable]` on a module or an impl block: every function in it that takes a float
//! and returns a float, an array or a tuple of them is expanded as if it carried the
//! attribute itself (`expand::function`); the others are left as written. The block's own
//! arguments, `hessian` and `graph` (`BlockOptions`), are each expanded function's too.
//!
//! Input: `#[differentiable] mod physics { fn energy(x: f64) -> f64 { .. } fn table() -> Vec<f64> { .. } }`.
//! Output: the module with `energy`, its core and companions, and `table` as it was. A call
//! of `table`-like functions with a differentiated value is reported here, naming the fix,
//! since grad knows they have no derivative; calls between expanded functions resolve
//! through each other's `_vjp` as calls between separately annotated functions do.

use crate::diagnostics::Diagnostics;
use crate::expand::{self, Context};
use crate::{generics, signature};
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::Token;
use syn::parse::Parser;
use syn::punctuated::Punctuated;

/// The attribute's own name on an item inside a block: the item's arguments (`wrt`) go to
/// its expansion, and the attribute is removed so that it does not expand the item again.
fn take_own_attribute(attrs: &mut Vec<syn::Attribute>) -> Option<TokenStream> {
    let position = attrs.iter().position(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "differentiable")
    })?;
    let attr = attrs.remove(position);
    Some(match attr.meta {
        syn::Meta::List(list) => list.tokens,
        _ => TokenStream::new(),
    })
}

/// What a block's attribute asks of every function the block expands, as if each carried
/// it: `hessian`, second order for each of one float output (so that calls between them
/// compose); `graph`, each one's picture (`f_graph()`). A block inside a module has the
/// module's too.
#[derive(Clone, Default)]
pub struct BlockOptions {
    pub hessian: Option<syn::Ident>,
    pub graph: Option<syn::Ident>,
}

impl BlockOptions {
    /// These options, with those of `outer` (the enclosing module's) that these do not give.
    fn within(self, outer: &BlockOptions) -> BlockOptions {
        BlockOptions {
            hessian: self.hessian.or_else(|| outer.hessian.clone()),
            graph: self.graph.or_else(|| outer.graph.clone()),
        }
    }
}

/// The block's own arguments, `hessian` and `graph` (`BlockOptions`); `wrt` names one
/// function's parameters, and belongs on that function. The second part is the errors.
fn block_arguments(args: &TokenStream, what: &str) -> (BlockOptions, TokenStream) {
    let refusal = || {
        syn::Error::new_spanned(
            args,
            format!("#[differentiable] on {what} takes no arguments but `hessian` and `graph`: put `#[differentiable(wrt(..))]` on the function it is for, inside"),
        )
        .to_compile_error()
    };
    let parser = Punctuated::<syn::Ident, Token![,]>::parse_terminated;
    let Ok(names) = parser.parse2(args.clone()) else {
        return (BlockOptions::default(), refusal());
    };
    let mut options = BlockOptions::default();
    let mut errors = TokenStream::new();
    for name in names {
        let slot = if name == "hessian" {
            &mut options.hessian
        } else if name == "graph" {
            &mut options.graph
        } else {
            return (BlockOptions::default(), refusal());
        };
        if slot.is_some() {
            let twice = syn::Error::new_spanned(&name, format!("`{name}` is given twice"));
            errors.extend(twice.to_compile_error());
        }
        *slot = Some(name);
    }
    (options, errors)
}

/// Why `sig` is left as written, with the block's float type parameters in view.
fn left_as_written(
    sig: &syn::Signature,
    impl_generics: Option<&syn::Generics>,
) -> Option<signature::LeftAsWritten> {
    let mut both = impl_generics.cloned().unwrap_or_default();
    both.params.extend(sig.generics.params.iter().cloned());
    if let Some(clause) = &sig.generics.where_clause {
        both.make_where_clause()
            .predicates
            .extend(clause.predicates.iter().cloned());
    }
    let _scope = generics::enter(&both);
    signature::left_as_written(sig)
}

pub fn module(args: TokenStream, module: syn::ItemMod) -> TokenStream {
    let (options, errors) = block_arguments(&args, "a module");
    inside_module(&options, errors, module)
}

fn inside_module(
    options: &BlockOptions,
    errors: TokenStream,
    mut module: syn::ItemMod,
) -> TokenStream {
    let Some((_, items)) = module.content.take() else {
        return module.into_token_stream();
    };
    // Functions that take closures are inlined where they are called, and left as written.
    let helpers: Vec<syn::ItemFn> = items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(function)
                if !has_own_attribute(&function.attrs)
                    && signature::takes_closures(&function.sig) =>
            {
                Some(function.clone())
            }
            _ => None,
        })
        .collect();
    let left: Vec<(String, String)> = items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(function)
                if !has_own_attribute(&function.attrs)
                    && !signature::takes_closures(&function.sig) =>
            {
                left_as_written(&function.sig, None).map(|left| {
                    let name = function.sig.ident.to_string();
                    let advice = advice(&name, "the module", &left);
                    (name, advice)
                })
            }
            _ => None,
        })
        .collect();
    let body: TokenStream = items
        .into_iter()
        .map(|item| match item {
            syn::Item::Fn(mut function) => {
                let own = take_own_attribute(&mut function.attrs);
                if own.is_none()
                    && (signature::takes_closures(&function.sig)
                        || left_as_written(&function.sig, None).is_some())
                {
                    return function.into_token_stream();
                }
                let context = Context {
                    in_impl: false,
                    impl_generics: None,
                    left_as_written: &left,
                    helpers: &helpers,
                    tangent_of: false,
                    block: options.clone(),
                };
                expand::function(own.unwrap_or_default(), function, &context).into_tokens()
            }
            syn::Item::Impl(mut block) => {
                let own = take_own_attribute(&mut block.attrs);
                inside_impl(options, own.unwrap_or_default(), block, &left, &helpers)
            }
            syn::Item::Mod(mut inner) if inner.content.is_some() => {
                let own = take_own_attribute(&mut inner.attrs);
                let (own, errors) = block_arguments(&own.unwrap_or_default(), "a module");
                inside_module(&own.within(options), errors, inner)
            }
            other => other.into_token_stream(),
        })
        .collect();
    let (inner, outer): (Vec<_>, Vec<_>) = module
        .attrs
        .iter()
        .partition(|attr| matches!(attr.style, syn::AttrStyle::Inner(_)));
    let syn::ItemMod {
        vis,
        unsafety,
        mod_token,
        ident,
        ..
    } = &module;
    quote! {
        #(#outer)* #vis #unsafety #mod_token #ident {
            #(#inner)*
            #errors
            #body
        }
    }
}

fn has_own_attribute(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "differentiable")
    })
}

/// An impl block: its methods' companions are methods of the same type. Those of a trait
/// impl go in an inherent impl beside it, public, since the trait's methods are.
pub fn impl_block(args: TokenStream, block: syn::ItemImpl) -> TokenStream {
    inside_impl(&BlockOptions::default(), args, block, &[], &[])
}

/// An impl block inside a module, whose options (`module_options`) are its own too.
fn inside_impl(
    module_options: &BlockOptions,
    args: TokenStream,
    mut block: syn::ItemImpl,
    module_left: &[(String, String)],
    helpers: &[syn::ItemFn],
) -> TokenStream {
    let (own, errors) = block_arguments(&args, "an impl block");
    let options = own.within(module_options);
    let items = std::mem::take(&mut block.items);
    let mut left: Vec<(String, String)> = module_left.to_vec();
    left.extend(items.iter().filter_map(|item| match item {
        syn::ImplItem::Fn(method) if !has_own_attribute(&method.attrs) => {
            left_as_written(&method.sig, Some(&block.generics)).map(|left| {
                let name = method.sig.ident.to_string();
                let advice = advice(&name, "the impl block", &left);
                (format!("Self::{name}"), advice)
            })
        }
        _ => None,
    }));
    let in_trait = block.trait_.is_some();
    let mut kept = Vec::new();
    let mut beside = TokenStream::new();
    for item in items {
        let syn::ImplItem::Fn(mut method) = item else {
            kept.push(item.into_token_stream());
            continue;
        };
        let own = take_own_attribute(&mut method.attrs);
        if own.is_none() && left_as_written(&method.sig, Some(&block.generics)).is_some() {
            kept.push(method.into_token_stream());
            continue;
        }
        let function = syn::ItemFn {
            attrs: method.attrs,
            vis: method.vis,
            sig: method.sig,
            block: Box::new(method.block),
        };
        let context = Context {
            in_impl: true,
            impl_generics: Some(&block.generics),
            left_as_written: &left,
            helpers,
            tangent_of: false,
            block: options.clone(),
        };
        let mut expansion = expand::function(own.unwrap_or_default(), function, &context);
        if in_trait {
            expansion.companions = publish(expansion.companions);
            kept.push(expansion.function);
            beside.extend(expansion.companions);
        } else {
            kept.push(expansion.into_tokens());
        }
    }
    let syn::ItemImpl {
        attrs,
        defaultness,
        unsafety,
        impl_token,
        generics,
        trait_,
        self_ty,
        ..
    } = &block;
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let trait_ = trait_
        .as_ref()
        .map(|(bang, path, for_token)| quote!(#bang #path #for_token));
    let inherent = (!beside.is_empty()).then(|| {
        quote! {
            impl #impl_generics #self_ty #where_clause {
                #beside
            }
        }
    });
    quote! {
        #(#attrs)* #defaultness #unsafety #impl_token #impl_generics #trait_ #self_ty #where_clause {
            #errors
            #(#kept)*
        }
        #inherent
    }
}

/// The companions of a trait method, made `pub`: a trait impl's method has no visibility
/// of its own, and is as reachable as the trait.
fn publish(companions: TokenStream) -> TokenStream {
    let Ok(file) = syn::parse2::<ImplItems>(companions.clone()) else {
        return companions;
    };
    file.0
        .into_iter()
        .map(|mut item| {
            if let syn::ImplItem::Fn(method) = &mut item
                && !method.sig.ident.to_string().starts_with("__")
            {
                method.vis = syn::parse_quote!(pub);
            }
            item.into_token_stream()
        })
        .collect()
}

struct ImplItems(Vec<syn::ImplItem>);

impl syn::parse::Parse for ImplItems {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let mut items = Vec::new();
        while !input.is_empty() {
            items.push(input.parse()?);
        }
        Ok(ImplItems(items))
    }
}

/// What to say of a call, with a differentiated value, of `name`, which `block` left as
/// written; each fix is one that compiles.
fn advice(name: &str, block: &str, left: &signature::LeftAsWritten) -> String {
    let why = &left.why;
    if left.by_name {
        format!(
            "`{name}` is called with a differentiated value, but #[differentiable] on {block} left it as written because {why}, as far as grad can tell from the names of its types. Put `#[differentiable]` on `{name}` itself, where grad reads those types by their use, or write `{name}_vjp` by hand beside it"
        )
    } else {
        format!(
            "`{name}` is called with a differentiated value but has no derivative: #[differentiable] on {block} left it as written because {why}. Make it return `f64` or `f32`, an array or a tuple of them, or keep differentiated values out of the call"
        )
    }
}

/// A call, with a differentiated value, of a function the block left as written.
pub fn check_callee(callee: &syn::Path, left: &[(String, String)], diagnostics: &mut Diagnostics) {
    let named: Vec<String> = callee
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let named = named.join("::");
    if let Some((_, advice)) = left.iter().find(|(name, _)| *name == named) {
        diagnostics.error(callee, advice);
    }
}
