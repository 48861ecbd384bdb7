//! What grad's expansion defines, read from the macro itself: `grad_expand::differentiable` is
//! an ordinary library (as in `corpus/build.rs`), so the generator asks it which companions a
//! rendered program gets (`prog_K_jvp`, `prog_K_hvp`) before the table names them, and whether
//! `hessian` is given rather than refused before writing it.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The functions an expansion defines, the tangent functions it names without defining them
/// (`g_tangent`, called by a tangent sweep with second order), and whether it holds a
/// `compile_error!`.
#[derive(Clone, Debug, Default)]
pub struct Expansion {
    pub defined: BTreeSet<String>,
    pub tangents_called: BTreeSet<String>,
    pub error: bool,
}

thread_local! {
    /// Expansions by `(attribute arguments, item)`: the shrinker renders the same items many
    /// times.
    static CACHE: RefCell<HashMap<(String, String), Expansion>> = RefCell::new(HashMap::new());
}

/// The expansion of `#[differentiable(attr)]` on `item` (a panic of the macro, which rustc
/// would report as an error, is an expansion with an error and nothing defined).
pub fn expand(attr: &str, item: &str) -> Expansion {
    let key = (attr.to_string(), item.to_string());
    if let Some(e) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return e;
    }
    let expansion = (|| {
        let item: TokenStream = item.parse().ok()?;
        let attr: TokenStream = attr.parse().ok()?;
        let out = catch_unwind(AssertUnwindSafe(|| grad_expand::differentiable(attr, item)));
        let mut e = Expansion::default();
        walk(out.ok()?, &mut e);
        Some(e)
    })()
    .unwrap_or(Expansion {
        error: true,
        ..Expansion::default()
    });
    CACHE.with(|c| c.borrow_mut().insert(key, expansion.clone()));
    expansion
}

fn walk(tokens: TokenStream, e: &mut Expansion) {
    let mut after_fn = false;
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                if after_fn {
                    e.defined.insert(name.clone());
                } else if name.ends_with("_tangent") {
                    e.tangents_called.insert(name.clone());
                }
                e.error |= name == "compile_error";
                after_fn = name == "fn";
            }
            TokenTree::Group(group) => {
                walk(group.stream(), e);
                after_fn = false;
            }
            _ => after_fn = false,
        }
    }
}

/// Every function that the `#[differentiable]` items of the rendered source `text` define
/// once expanded (the items' own and their companions), found by expanding each item the
/// attribute is on: a function, an impl block or a module, at any depth (in a plain module or
/// a plain impl block too). An item is the tokens after the attribute up to its first brace
/// group (a function's body, a block's items).
pub fn defined_functions(text: &str) -> BTreeSet<String> {
    let mut defined = BTreeSet::new();
    if let Ok(tokens) = text.parse::<TokenStream>() {
        collect(tokens, &mut defined);
    }
    defined
}

fn collect(tokens: TokenStream, defined: &mut BTreeSet<String>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < trees.len() {
        if let Some(attr) = differentiable_attribute(&trees, i) {
            let mut end = i + 2;
            while end < trees.len()
                && !matches!(&trees[end], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
            {
                end += 1;
            }
            let item: TokenStream = trees[i + 2..(end + 1).min(trees.len())]
                .iter()
                .cloned()
                .collect();
            defined.extend(expand(&attr, &item.to_string()).defined);
            i = end + 1;
            continue;
        }
        if let TokenTree::Group(g) = &trees[i]
            && g.delimiter() == Delimiter::Brace
        {
            collect(g.stream(), defined);
        }
        i += 1;
    }
}

/// The arguments of `#[differentiable(..)]` (empty for `#[differentiable]`) if `trees[i..]`
/// starts with it.
fn differentiable_attribute(trees: &[TokenTree], i: usize) -> Option<String> {
    let TokenTree::Punct(p) = trees.get(i)? else {
        return None;
    };
    let TokenTree::Group(g) = trees.get(i + 1)? else {
        return None;
    };
    if p.as_char() != '#' || g.delimiter() != Delimiter::Bracket {
        return None;
    }
    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
    match inner.as_slice() {
        [TokenTree::Ident(name)] if name == "differentiable" => Some(String::new()),
        [TokenTree::Ident(name), TokenTree::Group(args)]
            if name == "differentiable" && args.delimiter() == Delimiter::Parenthesis =>
        {
            Some(args.stream().to_string())
        }
        _ => None,
    }
}
