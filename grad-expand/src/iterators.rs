//! Iterator idioms over arrays, rewritten as index loops before lowering.
//!
//! Input: `x.iter().zip(y.iter()).map(|(a, b)| a * b).sum::<f64>()`. Output:
//! `{ let mut acc = -0.0; for i in 0..x.len() { acc = acc + { let (a, b) = (x[i], y[i]); a * b }; } acc }`
//! (std sums floats from -0.0 too).
//! The loop is then lowered like any loop the user wrote, so its reverse sweep is the same
//! index loop run backwards, and a sum records nothing. Only the lowering sees the rewrite:
//! the function itself keeps the user's iterator code.

use proc_macro2::Span;
use quote::{format_ident, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Pat, parse_quote_spanned};

/// Names for the rewrite's own variables; `n` keeps nested rewrites apart.
struct Names {
    n: usize,
    span: Span,
}

impl Names {
    fn ident(&self, what: &str) -> syn::Ident {
        format_ident!("__grad_{}{}", what, self.n, span = self.span)
    }
}

/// One step of a chain, innermost first.
pub(crate) enum Stage<'e> {
    /// `x.iter()`, `x.into_iter()` or `x` itself: the array being walked.
    Source(&'e Expr),
    /// `x.iter_mut()` of a local array `x`: its elements as places a `for` body assigns
    /// through (`*o = ..`).
    SourceMut(&'e Expr),
    /// `(a..b)` or `(a..=b)`: the integers being walked.
    Range(&'e syn::ExprRange),
    Zip(&'e Expr),
    Enumerate,
    Map(&'e Expr),
    /// `.copied()`, `.cloned()`: elements are values here already.
    Identity,
    // The adaptors that `lower/adaptors.rs` rewrites (the rewrite here does not).
    Skip(&'e Expr),
    Take(&'e Expr),
    Rev,
    StepBy(&'e Expr),
    /// `x.windows(k)`: the array and `k`.
    Windows(&'e Expr, &'e Expr),
    /// `x.chunks(k)`, whose last chunk may be shorter.
    Chunks(&'e Expr, &'e Expr),
    /// `x.chunks_exact(k)`, which leaves out a shorter last chunk.
    ChunksExact(&'e Expr, &'e Expr),
}

impl Stage<'_> {
    /// Whether the index-loop rewrite of this file takes the stage as it is.
    pub(crate) fn rewritten_here(&self) -> bool {
        match self {
            Stage::Source(_)
            | Stage::SourceMut(_)
            | Stage::Range(_)
            | Stage::Enumerate
            | Stage::Map(_) => true,
            Stage::Identity => true,
            // A partner that is itself a chain (`zip(x.iter().skip(1))`) is not.
            Stage::Zip(other) => stages(other).is_none(),
            _ => false,
        }
    }
}

/// The method calls of a chain, innermost first, ending at its source.
pub(crate) fn stages(expr: &Expr) -> Option<Vec<Stage<'_>>> {
    match expr {
        Expr::MethodCall(call) => {
            let method = call.method.to_string();
            let args: Vec<&Expr> = call.args.iter().collect();
            let stage = match (method.as_str(), args.as_slice()) {
                ("iter" | "into_iter", []) => return Some(vec![Stage::Source(&call.receiver)]),
                ("iter_mut", []) => return Some(vec![Stage::SourceMut(&call.receiver)]),
                ("windows", [k]) => return Some(vec![Stage::Windows(&call.receiver, k)]),
                ("chunks", [k]) => return Some(vec![Stage::Chunks(&call.receiver, k)]),
                ("chunks_exact", [k]) => {
                    return Some(vec![Stage::ChunksExact(&call.receiver, k)]);
                }
                ("zip", [other]) => Stage::Zip(strip_iter(other)),
                ("enumerate", []) => Stage::Enumerate,
                ("map", [f]) => Stage::Map(f),
                ("copied" | "cloned", []) => Stage::Identity,
                ("skip", [k]) => Stage::Skip(k),
                ("take", [k]) => Stage::Take(k),
                ("rev", []) => Stage::Rev,
                ("step_by", [k]) => Stage::StepBy(k),
                _ => return None,
            };
            let mut inner = stages(&call.receiver)?;
            inner.push(stage);
            Some(inner)
        }
        Expr::Paren(inner) => match &*inner.expr {
            Expr::Range(range) if range.start.is_some() && range.end.is_some() => {
                Some(vec![Stage::Range(range)])
            }
            other => stages(other),
        },
        _ => None,
    }
}

/// `y.iter()`, `&y` and `y` all mean the array `y` as a zip partner.
pub(crate) fn strip_iter(expr: &Expr) -> &Expr {
    match expr {
        Expr::MethodCall(call)
            if call.args.is_empty() && (call.method == "iter" || call.method == "into_iter") =>
        {
            &call.receiver
        }
        other => borrowed_variable(other).unwrap_or(other),
    }
}

/// `&x` of a variable `x` (walked as `x` itself), or `x`.
fn borrowed_variable(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::Path(path) if path.path.get_ident().is_some() => Some(expr),
        Expr::Reference(reference) if reference.mutability.is_none() => {
            borrowed_variable(&reference.expr)
        }
        Expr::Paren(inner) => borrowed_variable(&inner.expr),
        _ => None,
    }
}

/// A closure's patterns see values here, not references: `|&v|` binds what `|v|` would.
pub(crate) fn strip_refs(pat: &Pat) -> Pat {
    match pat {
        Pat::Reference(reference) => strip_refs(&reference.pat),
        Pat::Tuple(tuple) => {
            let mut tuple = tuple.clone();
            for elem in tuple.elems.iter_mut() {
                *elem = strip_refs(elem);
            }
            Pat::Tuple(tuple)
        }
        Pat::Type(typed) => strip_refs(&typed.pat),
        Pat::Paren(inner) => strip_refs(&inner.pat),
        other => other.clone(),
    }
}

/// Applies a closure or a function path to an element expression.
pub(crate) fn apply(f: &Expr, element: Expr, span: Span) -> Option<Expr> {
    match f {
        Expr::Closure(closure) if closure.inputs.len() == 1 => {
            let pat = strip_refs(&closure.inputs[0]);
            let body = &closure.body;
            reparse(quote_spanned!(span=> { let #pat = #element; #body }))
        }
        Expr::Path(path) => reparse(quote_spanned!(span=> #path(#element))),
        // `.map(&w)` calls `w`.
        Expr::Reference(reference) if reference.mutability.is_none() => {
            apply(&reference.expr, element, span)
        }
        _ => None,
    }
}

/// The rewrite of a chain: statements that bind the sources, the loop bound, and the element
/// of index `i`.
pub(crate) struct Walk {
    pub setup: Vec<syn::Stmt>,
    /// The loop's range: `0..x.len()`, or the user's own `a..b`.
    pub range: Expr,
    pub element: Expr,
    /// The element of an `iter_mut()` source (`x[i]`), a place inside `element`.
    pub place: Option<Expr>,
}

/// The loop variable of rewrite `n`, which a `Walk`'s element reads.
pub(crate) fn index_ident(n: usize, span: Span) -> syn::Ident {
    Names { n, span }.ident("i")
}

fn walk(stages: &[Stage<'_>], names: &Names) -> Option<Walk> {
    let span = names.span;
    let index = names.ident("i");
    let mut setup = Vec::new();
    let mut sources = 0usize;
    let mut bind = |source: &Expr, setup: &mut Vec<syn::Stmt>| -> Expr {
        // A plain variable is read in place; anything else is evaluated once, before the loop.
        if let Expr::Path(path) = source
            && path.path.get_ident().is_some()
        {
            return source.clone();
        }
        let name = format_ident!("__grad_src{}_{}", names.n, sources, span = span);
        sources += 1;
        setup.push(parse_quote_spanned!(span=> let #name = #source;));
        parse_quote_spanned!(span=> #name)
    };
    let (first, rest) = stages.split_first()?;
    let mut place = None;
    let (range, mut element): (Expr, Expr) = match first {
        // Only a variable is a place to assign through.
        Stage::SourceMut(Expr::Path(path)) if path.path.get_ident().is_some() => {
            let element: Expr = parse_quote_spanned!(span=> #path[#index]);
            place = Some(element.clone());
            (parse_quote_spanned!(span=> 0..#path.len()), element)
        }
        Stage::SourceMut(_) => return None,
        Stage::Source(source) => {
            let source = bind(source, &mut setup);
            (
                parse_quote_spanned!(span=> 0..#source.len()),
                parse_quote_spanned!(span=> #source[#index]),
            )
        }
        Stage::Range(range) => (
            Expr::Range((*range).clone()),
            parse_quote_spanned!(span=> #index),
        ),
        _ => return None,
    };
    for stage in rest {
        element = match stage {
            Stage::Source(_) | Stage::SourceMut(_) | Stage::Range(_) => return None,
            // A mapped place is no longer one.
            Stage::Map(_) if place.is_some() => return None,
            Stage::Skip(_)
            | Stage::Take(_)
            | Stage::Rev
            | Stage::StepBy(_)
            | Stage::Windows(..)
            | Stage::Chunks(..)
            | Stage::ChunksExact(..) => return None,
            Stage::Zip(other) => {
                let other = bind(other, &mut setup);
                parse_quote_spanned!(span=> (#element, #other[#index]))
            }
            Stage::Enumerate => parse_quote_spanned!(span=> (#index, #element)),
            Stage::Map(f) => apply(f, element, f.span())?,
            Stage::Identity => element,
        };
    }
    Some(Walk {
        setup,
        range,
        element,
        place,
    })
}

/// `sum`, `product` and `fold` over an iterator chain, and `map` on an array, as a block.
pub fn desugar_method(call: &syn::ExprMethodCall, n: usize) -> Option<Expr> {
    desugar_consumer(call, n, None)
}

/// `sum`, `product` and `fold` as a block over `given`, a walk of the chain made elsewhere
/// (`lower/adaptors.rs`), or over this file's rewrite of the chain when `None`.
pub(crate) fn desugar_consumer(
    call: &syn::ExprMethodCall,
    n: usize,
    given: Option<Walk>,
) -> Option<Expr> {
    let rewrites_here = given.is_none();
    let given = std::cell::Cell::new(given);
    let span = call.span();
    let names = Names { n, span };
    let index = names.ident("i");
    let acc = names.ident("acc");
    let method = call.method.to_string();
    let args: Vec<&Expr> = call.args.iter().collect();
    // `{ setup; let mut acc = start; for i in range { step(element) } acc }`
    let accumulate = |start: proc_macro2::TokenStream,
                      step: &dyn Fn(&Expr) -> proc_macro2::TokenStream|
     -> Option<Expr> {
        // A sum or fold reads elements; one over `iter_mut()` places is not rewritten.
        let Walk {
            setup,
            range,
            element,
            place: None,
        } = (match given.take() {
            Some(given) => given,
            None => walk(&stages(&call.receiver)?, &names)?,
        })
        else {
            return None;
        };
        let step = step(&element);
        reparse(quote_spanned! {span=>
            {
                #(#setup)*
                let mut #acc = #start;
                for #index in #range {
                    #step
                }
                #acc
            }
        })
    };
    match (method.as_str(), args.as_slice()) {
        ("sum" | "product", []) => {
            let (start, op) = if method == "sum" {
                (quote_spanned!(span=> -0.0), quote_spanned!(span=> +))
            } else {
                (quote_spanned!(span=> 1.0), quote_spanned!(span=> *))
            };
            let start = match &call.turbofish {
                Some(turbofish) => {
                    let ty = turbofish.args.first()?;
                    // In a function generic over `T`, `sum::<T>()` starts from a `T` too.
                    let start = crate::generics::literal(start);
                    quote_spanned!(span=> { let start: #ty = #start; start })
                }
                None => crate::generics::literal(start),
            };
            accumulate(
                start,
                &|element| quote_spanned!(span=> #acc = #acc #op #element;),
            )
        }
        // `fold(init, f64::max)`: a function path takes the accumulator and the element.
        ("fold", [init, Expr::Path(f)]) => accumulate(
            quote_spanned!(span=> #init),
            &|element| quote_spanned!(span=> #acc = #f(#acc, #element);),
        ),
        ("fold", [init, Expr::Closure(closure)]) if closure.inputs.len() == 2 => {
            let acc_pat = strip_refs(&closure.inputs[0]);
            let elem_pat = strip_refs(&closure.inputs[1]);
            let body = &closure.body;
            accumulate(
                quote_spanned!(span=> #init),
                &|element| quote_spanned!(span=> #acc = { let #acc_pat = #acc; let #elem_pat = #element; #body };),
            )
        }
        // `x.map(f)` on an array (not an iterator): a new array of the same length.
        ("map", [f]) if rewrites_here && stages(&call.receiver).is_none() => {
            let Walk {
                setup,
                range,
                element,
                ..
            } = walk(&[Stage::Source(&call.receiver)], &names)?;
            let source = match &call.receiver.as_ref() {
                Expr::Path(path) if path.path.get_ident().is_some() => (*call.receiver).clone(),
                _ => {
                    let name = format_ident!("__grad_src{}_0", n, span = span);
                    parse_quote_spanned!(span=> #name)
                }
            };
            let applied = apply(f, element, f.span())?;
            let out = names.ident("out");
            reparse(quote_spanned! {span=>
                {
                    #(#setup)*
                    let mut #out = #source;
                    for #index in #range {
                        #out[#index] = #applied;
                    }
                    #out
                }
            })
        }
        _ => None,
    }
}

/// `for PAT in ITERATOR { body }` over an array, as a loop over its indices.
pub fn desugar_for(for_loop: &syn::ExprForLoop, n: usize) -> Option<Expr> {
    desugar_for_over(for_loop, n, None)
}

/// `for PAT in ..` over `given`, a walk made elsewhere (`lower/adaptors.rs`), or over this
/// file's rewrite of the iterator when `None`.
pub(crate) fn desugar_for_over(
    for_loop: &syn::ExprForLoop,
    n: usize,
    given: Option<Walk>,
) -> Option<Expr> {
    let span = for_loop.span();
    let names = Names { n, span };
    let Walk {
        setup,
        range,
        element,
        place,
    } = match given {
        Some(given) => given,
        None => {
            // `for v in x` and `for v in &x` over an array variable.
            let chain = stages(&for_loop.expr)
                .or_else(|| borrowed_variable(&for_loop.expr).map(|x| vec![Stage::Source(x)]))?;
            walk(&chain, &names)?
        }
    };
    let index = names.ident("i");
    let mut pat = strip_refs(&for_loop.pat);
    let label = &for_loop.label;
    let mut body = for_loop.body.clone();
    if let Some(place) = place {
        // `for o in x.iter_mut() { *o = .. }`: the name of the place is left out of the
        // pattern, and `*o` in the body is `x[i]`.
        let name = take_place(&mut pat, &element, &place)?;
        let mut through = ThroughPlace {
            name,
            place,
            other_use: false,
        };
        syn::visit_mut::VisitMut::visit_block_mut(&mut through, &mut body);
        if through.other_use {
            return None;
        }
    }
    let body = &body.stmts;
    reparse(quote_spanned! {span=>
        {
            #(#setup)*
            #label for #index in #range {
                let #pat = #element;
                #(#body)*
            }
        }
    })
}

/// The first method of an iterator chain that the rewrite does not know, for the error
/// message: in `x.iter().skip(1).sum()`, `skip`.
pub fn unsupported_stage(expr: &Expr) -> Option<&syn::Ident> {
    match expr {
        Expr::MethodCall(call) => {
            let known = matches!(
                (call.method.to_string().as_str(), call.args.len()),
                (
                    "iter" | "into_iter" | "enumerate" | "copied" | "cloned" | "rev",
                    0
                ) | ("zip" | "map" | "skip" | "take" | "step_by", 1)
            );
            let source = matches!(
                (call.method.to_string().as_str(), call.args.len()),
                ("iter" | "into_iter", 0) | ("windows" | "chunks" | "chunks_exact", 1)
            );
            if source {
                return None;
            }
            unsupported_stage(&call.receiver).or(if known { None } else { Some(&call.method) })
        }
        Expr::Paren(inner) => unsupported_stage(&inner.expr),
        _ => None,
    }
}

/// The variable a chain of method calls starts from: `x` of `x.iter().skip(1)` and of
/// `x.windows(2)`; none for a chain that a consumer (`sum`, `len`) has already turned into a
/// value.
pub fn chain_source(expr: &Expr) -> Option<&syn::Ident> {
    if consumes(expr) {
        return None;
    }
    match expr {
        Expr::MethodCall(call) => match &*call.receiver {
            Expr::Path(path) => path.path.get_ident(),
            receiver => chain_source(receiver),
        },
        Expr::Paren(inner) => chain_source(&inner.expr),
        _ => None,
    }
}

/// Whether `expr` ends an iterator chain with a method that consumes it.
fn consumes(expr: &Expr) -> bool {
    match expr {
        Expr::MethodCall(call) => matches!(
            call.method.to_string().as_str(),
            "sum"
                | "product"
                | "fold"
                | "reduce"
                | "count"
                | "last"
                | "nth"
                | "max"
                | "min"
                | "max_by"
                | "min_by"
                | "max_by_key"
                | "min_by_key"
                | "collect"
                | "any"
                | "all"
                | "position"
                | "find"
                | "for_each"
                | "unwrap"
                | "len"
        ),
        Expr::Paren(inner) => consumes(&inner.expr),
        _ => false,
    }
}

/// The rewrite as an expression. The user's tokens are re-read, and syn cannot read every
/// arrangement rustc can (`break 'b ::path`), so a rewrite that does not read back is not
/// made, rather than a panic in the macro.
fn reparse(tokens: proc_macro2::TokenStream) -> Option<Expr> {
    syn::parse2(tokens).ok()
}

/// Replaces the part of `pat` that binds `place` within `element` (`o` of `(o, x)` against
/// `(y[i], x[i])`) with `_`, and gives its name.
fn take_place(pat: &mut Pat, element: &Expr, place: &Expr) -> Option<syn::Ident> {
    use quote::ToTokens;
    if element.to_token_stream().to_string() == place.to_token_stream().to_string() {
        let Pat::Ident(ident) = &*pat else {
            return None;
        };
        if ident.by_ref.is_some() || ident.subpat.is_some() {
            return None;
        }
        let name = ident.ident.clone();
        *pat = parse_quote_spanned!(name.span()=> _);
        return Some(name);
    }
    let (Pat::Tuple(tuple), Expr::Tuple(parts)) = (pat, element) else {
        return None;
    };
    if tuple.elems.len() != parts.elems.len() {
        return None;
    }
    let mut found = None;
    for (sub, part) in tuple.elems.iter_mut().zip(&parts.elems) {
        if found.is_none() && contains(part, place) {
            found = Some(take_place(sub, part, place)?);
        }
    }
    found
}

fn contains(expr: &Expr, place: &Expr) -> bool {
    use quote::ToTokens;
    expr.to_token_stream()
        .to_string()
        .contains(&place.to_token_stream().to_string())
}

/// Rewrites `*o` as the place `o` refers to; notes any other use of `o`.
struct ThroughPlace {
    name: syn::Ident,
    place: Expr,
    other_use: bool,
}

impl syn::visit_mut::VisitMut for ThroughPlace {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Deref(_),
            expr: inner,
            ..
        }) = expr
            && matches!(&**inner, Expr::Path(path) if path.path.is_ident(&self.name))
        {
            let place = &self.place;
            *expr = parse_quote_spanned!(inner.span()=> (#place));
            return;
        }
        if let Expr::Path(path) = expr
            && path.path.is_ident(&self.name)
        {
            self.other_use = true;
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }

    // A closure or a nested item with its own `o` is left alone.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
