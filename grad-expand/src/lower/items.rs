//! Items of the body: `const` and `use`, copied into the generated function.
//!
//! Input: `const K: f64 = 2.0; use fns::h;` in the body. Output: `K` bound to a constant node
//! of type `f64`, which generated code reads by name; `h` recorded as `fns::h`, so that a call
//! `h(x)` is derived by `fns::h_vjp`; both items in `Lowered::items`. The generated code holds
//! every item of the function in one scope, so an item of an inner block is checked not to
//! change what its name means elsewhere.

use super::{Lowerer, Val};
use crate::signature::Signature;
use crate::signature::{classify, ident_counts};
use quote::quote;
use std::collections::HashMap;
use syn::visit::Visit;
use syn::{Item, Stmt as SynStmt};

impl Lowerer<'_> {
    /// The generated code holds every item of the body in one scope, the function's. An item
    /// of an inner block fits there only if its names are used in that block alone: `const K`
    /// in a block, with `K` of the module read elsewhere, would change what `K` means there.
    pub(super) fn item_fits_one_scope(&mut self, item: &Item, block: &[SynStmt]) -> bool {
        if self.scopes.depth() == 1 {
            return true;
        }
        let names = match item {
            Item::Const(constant) => vec![constant.ident.to_string()],
            Item::Use(item_use) => match use_names(&item_use.tree) {
                Some(names) => names,
                None => {
                    self.diagnostics.error(item, "a glob `use` (`use m::*;`) is supported only at the top of a differentiable function's body: move it there, or name what it brings in");
                    return false;
                }
            },
            _ => return true,
        };
        let in_block = ident_counts(quote!(#(#block)*));
        for name in names {
            // Locals are resolved by grad, not by name in the generated code: a block's
            // `const s` beside a local `s` elsewhere changes nothing there.
            let used_outside = self.body_idents.get(&name) > in_block.get(&name);
            if used_outside && !self.local_names.contains(&name) {
                self.diagnostics.error(item, format!("this item of an inner block is named `{name}`, which the function also uses outside the block; grad's generated code holds every item of the function in one scope, where it would change what `{name}` means there: give the item a name of its own, or move it to the top of the function"));
                return false;
            }
        }
        true
    }

    pub(super) fn item(&mut self, item: &Item) {
        match item {
            Item::Const(constant) => {
                let name = constant.ident.to_string();
                if self.local_consts.iter().any(|(n, _)| *n == name) {
                    self.diagnostics.error(
                        &constant.ident,
                        format!("a second `const {name}` in one differentiable function: the generated code holds all of its items in one scope, so give them different names"),
                    );
                    return;
                }
                let ty = classify(&constant.ty);
                self.local_consts.push((name.clone(), ty.clone()));
                self.items.push(item.clone());
                let ident = &constant.ident;
                let value = self.constant(quote!(#ident), ty, ident.span());
                self.bind(name, Val::Scalar(value));
            }
            Item::Use(item_use) => {
                imported_paths(&item_use.tree, &mut Vec::new(), &mut self.imports);
                self.items.push(item.clone());
            }
            other => self.diagnostics.error(
                other,
                "only `const` and `use` items are supported inside a differentiable function: move this item out of the function",
            ),
        }
    }
}

/// The names a `use` brings into scope; `None` for a glob.
fn use_names(tree: &syn::UseTree) -> Option<Vec<String>> {
    match tree {
        syn::UseTree::Path(path) => use_names(&path.tree),
        syn::UseTree::Name(name) => Some(vec![name.ident.to_string()]),
        syn::UseTree::Rename(rename) => Some(vec![rename.rename.to_string()]),
        syn::UseTree::Glob(_) => None,
        syn::UseTree::Group(group) => {
            let mut names = Vec::new();
            for tree in &group.items {
                names.extend(use_names(tree)?);
            }
            Some(names)
        }
    }
}

/// Each name a `use` brings in, with its full path: `use fns::{h, g as k};` gives `h` →
/// `fns::h` and `k` → `fns::g`.
fn imported_paths(
    tree: &syn::UseTree,
    prefix: &mut Vec<syn::Ident>,
    out: &mut HashMap<String, syn::Path>,
) {
    let full = |prefix: &[syn::Ident], last: &syn::Ident| -> syn::Path {
        let segments = prefix.iter().chain(std::iter::once(last));
        syn::parse_quote!(#(#segments)::*)
    };
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.clone());
            imported_paths(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(name) if name.ident != "self" => {
            out.insert(name.ident.to_string(), full(prefix, &name.ident));
        }
        syn::UseTree::Rename(rename) if rename.ident != "self" => {
            out.insert(rename.rename.to_string(), full(prefix, &rename.ident));
        }
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                imported_paths(tree, prefix, out);
            }
        }
        _ => {}
    }
}

/// Every name a parameter or a pattern of the body binds.
pub(super) fn bound_names(
    body: &syn::Block,
    signature: &Signature,
) -> std::collections::HashSet<String> {
    struct Patterns(std::collections::HashSet<String>);
    impl<'ast> Visit<'ast> for Patterns {
        fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
            self.0.insert(pat.ident.to_string());
            syn::visit::visit_pat_ident(self, pat);
        }
    }
    let mut names = Patterns(
        signature
            .params
            .iter()
            .map(|p| p.ident.to_string())
            .collect(),
    );
    names.visit_block(body);
    names.0
}
