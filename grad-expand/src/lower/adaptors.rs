//! Iterator chains with the adaptors that the rewrite of `iterators.rs` does not take (`skip`,
//! `take`, `rev`, `step_by`, `windows`, `chunks`, `chunks_exact`, a `zip` partner that is a
//! chain itself), and the consumers `max_by` and `min_by` (then `unwrap`, `expect` or
//! `unwrap_or`) and `collect`, over any chain.
//!
//! Input: `x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>()`. Output: the loop
//! `for p in 0..n { acc = acc + { let w = &x[p..p + 2]; (w[1] - w[0]).powi(2) }; }`, lowered
//! as the user's own loops are, after the count `n = usize::saturating_sub(x.len(), 1)`. A
//! chain is walked by position: each adaptor maps a position to one of the chain below it
//! (`skip(k)`: `p + k`, `rev()`: `n - 1 - p`, `step_by(s)`: `p * s`), and each window or
//! chunk is a view of its source (`slices.rs`), read in place. Counts over arrays of literal
//! length are literals, so loops over them keep their tapes on the stack.

use super::{Lowerer, Val, strip_parens};
use crate::graph::{ArrayInit, CallArg, InactiveExpr, Op, Ty, ValueId};
use crate::iterators::{self, Stage, Walk};
use proc_macro2::Span;
use quote::{format_ident, quote};
use std::rc::Rc;
use syn::spanned::Spanned;
use syn::{Expr, parse_quote_spanned};

/// The element at a position, as syntax.
type Element = Rc<dyn Fn(&Expr) -> Expr>;

/// A chain's elements: how many (an integer node), and the one at a position.
struct Seq {
    count: ValueId,
    element: Element,
}

/// What ends a chain.
enum Consumer<'e> {
    /// `sum`, `product`, `fold` (the rewrite of `iterators.rs` spells them).
    Accumulate,
    /// `collect::<Vec<f64>>()`: a `Vec` on the heap.
    Collect,
    /// `count()`, `len()`: how many elements.
    Count,
    /// `max_by(f).unwrap()`, `min_by(f).unwrap_or(d)`.
    Select {
        comparator: &'e Expr,
        max: bool,
        default: Option<&'e Expr>,
    },
}

/// The integer operations that count a chain's elements, on `usize`.
#[derive(Clone, Copy)]
enum Count {
    SaturatingSub,
    Min,
    DivCeil,
    Div,
}

const OPTION: &str = "returns an `Option`, which grad cannot hold: end it with `.unwrap()`, `.expect(..)` or `.unwrap_or(v)`, as in `x.iter().copied().max_by(|a, b| a.partial_cmp(b).unwrap()).unwrap()`";

impl Lowerer<'_> {
    /// The method calls this file lowers; `None` leaves `call` to `method_call`.
    pub(super) fn adaptor_method(&mut self, call: &syn::ExprMethodCall) -> Option<Val> {
        let method = call.method.to_string();
        match (method.as_str(), call.args.len()) {
            ("partial_cmp" | "total_cmp", 1) => Some(self.comparison(call)),
            ("sum" | "product" | "fold", _) => {
                let chain = iterators::stages(&call.receiver)?;
                if chain.iter().all(Stage::rewritten_here) && !self.zips_unequal(&chain) {
                    return None;
                }
                Some(self.consume(call, &chain, Consumer::Accumulate))
            }
            ("collect", 0) => {
                let chain = iterators::stages(&call.receiver)?;
                let into_vec = call.turbofish.as_ref().is_none_or(|turbofish| {
                    quote!(#turbofish)
                        .to_string()
                        .replace(' ', "")
                        .starts_with("::<Vec<")
                });
                if !into_vec {
                    return Some(self.unsupported(
                        &call.method,
                        "grad collects iterators only into a `Vec` (`collect::<Vec<f64>>()`)",
                    ));
                }
                Some(self.consume(call, &chain, Consumer::Collect))
            }
            ("count" | "len", 0) => {
                let chain = iterators::stages(&call.receiver)?;
                Some(self.consume(call, &chain, Consumer::Count))
            }
            ("max_by" | "min_by", 1) => {
                iterators::stages(&call.receiver)?;
                Some(self.unsupported(&call.method, format!("`{method}` {OPTION}")))
            }
            ("unwrap", 0) | ("expect" | "unwrap_or", 1) => {
                let Expr::MethodCall(select) = strip_parens(&call.receiver) else {
                    return None;
                };
                let max = select.method == "max_by";
                if !(max || select.method == "min_by") || select.args.len() != 1 {
                    return None;
                }
                let chain = iterators::stages(&select.receiver)?;
                let default = (method == "unwrap_or").then(|| &call.args[0]);
                let consumer = Consumer::Select {
                    comparator: &select.args[0],
                    max,
                    default,
                };
                Some(self.consume(select, &chain, consumer))
            }
            _ => None,
        }
    }

    /// `for PAT in CHAIN` over a chain that `iterators.rs` does not rewrite, or over a
    /// sub-slice (`for &v in &x[1..]`).
    pub(super) fn adaptor_for(&mut self, e: &syn::ExprForLoop) -> Option<Val> {
        let chain = match iterators::stages(&e.expr) {
            Some(chain)
                if chain.iter().all(Stage::rewritten_here) && !self.zips_unequal(&chain) =>
            {
                return None;
            }
            Some(chain) => chain,
            None if names_a_sub_slice(&e.expr) => vec![Stage::Source(&e.expr)],
            None => return None,
        };
        if let Expr::MethodCall(call) = strip_parens(&e.expr)
            && self.chain_closure_returns(call)
        {
            return Some(self.poison(e.span()));
        }
        self.rewrites += 1;
        let n = self.rewrites;
        let span = e.span();
        Some(self.in_scope(|this| {
            let Some(walk) = this.walk(&chain, n, span) else {
                return this.poison(span);
            };
            match iterators::desugar_for_over(e, n, Some(walk)) {
                Some(rewritten) => this.expr(&rewritten),
                None => this.poison(span),
            }
        }))
    }

    /// Whether a chain zips walks that may have different lengths (slices, ranges, arrays of
    /// different lengths). `iterators.rs` walks the first one's indices, which is right only
    /// when all have one length; `zip` stops at the shortest.
    fn zips_unequal(&self, chain: &[Stage<'_>]) -> bool {
        if !chain.iter().any(|stage| matches!(stage, Stage::Zip(_))) {
            return false;
        }
        let len = |expr: &Expr| -> Option<String> {
            let Expr::Path(path) = strip_parens(expr) else {
                return None;
            };
            match self.lookup(&path.path.get_ident()?.to_string())? {
                Val::Array(array) => match &self.graph.array(*array).ty {
                    Ty::Array(_, len) => Some(len.0.to_string()),
                    _ => None,
                },
                _ => None,
            }
        };
        let mut lens = chain.iter().filter_map(|stage| match stage {
            Stage::Source(source) => Some(len(source)),
            Stage::Zip(other) => Some(len(other)),
            Stage::Range(_) => Some(None),
            _ => None,
        });
        let Some(Some(first)) = lens.next() else {
            return true;
        };
        !lens.all(|len| len.as_ref() == Some(&first))
    }

    /// A chain and what ends it, as a loop over the chain's positions.
    fn consume(
        &mut self,
        call: &syn::ExprMethodCall,
        chain: &[Stage<'_>],
        consumer: Consumer<'_>,
    ) -> Val {
        if self.chain_closure_returns(call) {
            return self.poison(call.span());
        }
        self.rewrites += 1;
        let n = self.rewrites;
        let span = call.span();
        self.in_scope(|this| {
            let Some(seq) = this.sequence(chain, n, span) else {
                return this.poison(span);
            };
            let index = iterators::index_ident(n, span);
            let index_expr: Expr = parse_quote_spanned!(span=> #index);
            let count = this.int_expr(seq.count, format_ident!("__grad_n{}", n, span = span));
            match consumer {
                Consumer::Accumulate => {
                    let walk = Walk {
                        setup: Vec::new(),
                        range: parse_quote_spanned!(span=> 0..#count),
                        element: (seq.element)(&index_expr),
                        place: None,
                    };
                    match iterators::desugar_consumer(call, n, Some(walk)) {
                        Some(rewritten) => this.expr(&rewritten),
                        None => this.unsupported(
                            &call.method,
                            format!("`{}` takes an initial value and a closure of two parameters or a function path (`fold(0.0, |acc, v| acc + v)`, `fold(f64::NEG_INFINITY, f64::max)`)", call.method),
                        ),
                    }
                }
                Consumer::Collect => {
                    let zero = crate::generics::literal(quote!(0.0));
                    let value = this.constant(zero, Ty::Float(None), span);
                    let ty = Ty::Slice(Box::new(Ty::Float(None)));
                    let init = ArrayInit::Heap {
                        value,
                        len: seq.count,
                    };
                    let heap = this.new_array(ty, init, span);
                    let out = format_ident!("__grad_out{}", n, span = span);
                    this.bind(out.to_string(), Val::Array(heap));
                    let element = (seq.element)(&index_expr);
                    let fill: Expr = parse_quote_spanned! {span=>
                        for #index in 0..#count {
                            #out[#index] = #element;
                        }
                    };
                    this.expr(&fill);
                    Val::Array(heap)
                }
                Consumer::Count => Val::Scalar(seq.count),
                Consumer::Select {
                    comparator,
                    max,
                    default,
                } => {
                    let best = format_ident!("__grad_best{}", n, span = span);
                    let best_expr: Expr = parse_quote_spanned!(span=> #best);
                    let Some(compare) = apply2(
                        comparator,
                        (seq.element)(&best_expr),
                        (seq.element)(&index_expr),
                        span,
                    ) else {
                        return this.unsupported(comparator, "grad supports `max_by` and `min_by` with a closure of two parameters, such as `|a, b| a.partial_cmp(b).unwrap()` or `|a, b| a.total_cmp(b)`, or `f64::total_cmp`");
                    };
                    // std's `max_by` keeps the last of equal elements, `min_by` the first.
                    let replace = if max { quote!(!=) } else { quote!(==) };
                    // The search runs before any branch on an empty chain, so that the
                    // reverse sweep reads the index it found instead of searching again.
                    let chosen = (seq.element)(&best_expr);
                    let chosen: Expr = match default {
                        Some(default) => parse_quote_spanned! {span=>
                            if #count == 0 { #default } else { #chosen }
                        },
                        None => chosen,
                    };
                    let select: Expr = parse_quote_spanned! {span=>
                        {
                            let mut #best = 0usize;
                            for #index in 1..#count {
                                if (#compare) #replace ::core::cmp::Ordering::Greater {
                                    #best = #index;
                                }
                            }
                            #chosen
                        }
                    };
                    this.expr(&select)
                }
            }
        })
    }

    /// A chain's walk for `iterators.rs` to wrap: the loop over its positions.
    fn walk(&mut self, chain: &[Stage<'_>], n: usize, span: Span) -> Option<Walk> {
        let seq = self.sequence(chain, n, span)?;
        let index = iterators::index_ident(n, span);
        let count = self.int_expr(seq.count, format_ident!("__grad_n{}", n, span = span));
        Some(Walk {
            setup: Vec::new(),
            range: parse_quote_spanned!(span=> 0..#count),
            element: (seq.element)(&parse_quote_spanned!(span=> #index)),
            place: None,
        })
    }

    /// The elements of a chain, innermost stage first. Errors are reported here.
    fn sequence(&mut self, chain: &[Stage<'_>], n: usize, span: Span) -> Option<Seq> {
        let errors = self.diagnostics.count();
        let seq = self.stages_sequence(chain, n, span);
        if seq.is_none() && self.diagnostics.count() == errors {
            self.diagnostics
                .error_at(span, "grad cannot walk this iterator chain: write a loop over the indices (`for i in 0..x.len() { .. }`)");
        }
        seq
    }

    fn stages_sequence(&mut self, chain: &[Stage<'_>], n: usize, span: Span) -> Option<Seq> {
        let (first, rest) = chain.split_first()?;
        let mut seq = match first {
            Stage::Source(source) => self.source(source, n, span)?,
            Stage::Range(range) => self.range_source(range, span)?,
            Stage::Windows(source, k)
            | Stage::Chunks(source, k)
            | Stage::ChunksExact(source, k) => {
                let name = self.bind_source(source, n, span)?;
                let k_value = self.scalar_expr(k);
                let k_name = self.hidden(n, span);
                let k = self.int_expr(k_value, k_name);
                let len = self.scalar_expr(&parse_quote_spanned!(span=> #name.len()));
                let (count, element): (ValueId, Element) = match first {
                    Stage::Windows(..) => {
                        let one = self.constant(quote!(1), Ty::Int, span);
                        let overlap = self.int_sub(k_value, one, span);
                        let count = self.count(Count::SaturatingSub, len, overlap, span);
                        (
                            count,
                            Rc::new(move |p| parse_quote_spanned!(span=> &#name[#p..#p + #k])),
                        )
                    }
                    Stage::Chunks(..) => {
                        let count = self.count(Count::DivCeil, len, k_value, span);
                        (
                            count,
                            Rc::new(
                                move |p| parse_quote_spanned!(span=> &#name[#p * #k..(#p * #k + #k).min(#name.len())]),
                            ),
                        )
                    }
                    _ => {
                        let count = self.count(Count::Div, len, k_value, span);
                        (
                            count,
                            Rc::new(
                                move |p| parse_quote_spanned!(span=> &#name[#p * #k..#p * #k + #k]),
                            ),
                        )
                    }
                };
                Seq { count, element }
            }
            _ => return None,
        };
        for stage in rest {
            let Seq { count, element } = seq;
            seq = match stage {
                Stage::Skip(k) => {
                    let k_value = self.scalar_expr(k);
                    let k_name = self.hidden(n, span);
                    let k = self.int_expr(k_value, k_name);
                    Seq {
                        count: self.count(Count::SaturatingSub, count, k_value, span),
                        element: Rc::new(move |p| element(&parse_quote_spanned!(span=> (#p + #k)))),
                    }
                }
                Stage::Take(k) => {
                    let k_value = self.scalar_expr(k);
                    Seq {
                        count: self.count(Count::Min, count, k_value, span),
                        element,
                    }
                }
                Stage::Rev => {
                    let last = match self.int_literal(count) {
                        None => {
                            let name = self.hidden(n, span);
                            let count = self.int_expr(count, name);
                            parse_quote_spanned!(span=> #count - 1)
                        }
                        // (With no elements, the element is never read.)
                        Some(len) => {
                            let last = proc_macro2::Literal::u128_unsuffixed(len.saturating_sub(1));
                            parse_quote_spanned!(span=> #last)
                        }
                    };
                    let last: Expr = last;
                    Seq {
                        count,
                        element: Rc::new(move |p| {
                            element(&parse_quote_spanned!(span=> (#last - #p)))
                        }),
                    }
                }
                Stage::StepBy(step) => {
                    let step_value = self.scalar_expr(step);
                    let step_name = self.hidden(n, span);
                    let step = self.int_expr(step_value, step_name);
                    Seq {
                        count: self.count(Count::DivCeil, count, step_value, span),
                        element: Rc::new(move |p| {
                            element(&parse_quote_spanned!(span=> (#p * #step)))
                        }),
                    }
                }
                Stage::Zip(other) => {
                    let other = match iterators::stages(other) {
                        Some(chain) => self.stages_sequence(&chain, n, span)?,
                        None => self.source(other, n, span)?,
                    };
                    let other_element = other.element;
                    Seq {
                        count: self.count(Count::Min, count, other.count, span),
                        element: Rc::new(move |p| {
                            let (a, b) = (element(p), other_element(p));
                            parse_quote_spanned!(span=> (#a, #b))
                        }),
                    }
                }
                Stage::Enumerate => Seq {
                    count,
                    element: Rc::new(move |p| {
                        let e = element(p);
                        parse_quote_spanned!(span=> (#p, #e))
                    }),
                },
                Stage::Map(f) => {
                    let probe: Expr = parse_quote_spanned!(span=> ());
                    if iterators::apply(f, probe, span).is_none() {
                        self.unsupported(f, "`map` takes a closure of one parameter or a function path (`map(|v| v * v)`, `map(f64::sin)`)");
                        return None;
                    }
                    let f = (*f).clone();
                    Seq {
                        count,
                        element: Rc::new(move |p| {
                            iterators::apply(&f, element(p), f.span()).expect("checked above")
                        }),
                    }
                }
                Stage::Identity => Seq { count, element },
                Stage::Source(_)
                | Stage::SourceMut(_)
                | Stage::Range(_)
                | Stage::Windows(..)
                | Stage::Chunks(..)
                | Stage::ChunksExact(..) => return None,
            };
        }
        Some(seq)
    }

    /// An array or slice walked element by element (`x`, `&x[1..]`, a constant `idx`).
    fn source(&mut self, source: &Expr, n: usize, span: Span) -> Option<Seq> {
        let name = self.bind_source(source, n, span)?;
        let count = self.scalar_expr(&parse_quote_spanned!(span=> #name.len()));
        Some(Seq {
            count,
            element: Rc::new(move |p| parse_quote_spanned!(span=> #name[#p])),
        })
    }

    /// `(a..b)` and `(a..=b)`, of `usize`: element `p` is `a + p`.
    fn range_source(&mut self, range: &syn::ExprRange, span: Span) -> Option<Seq> {
        let (Some(start), Some(end)) = (&range.start, &range.end) else {
            self.unsupported(
                range,
                "a range walked by an iterator needs both bounds (`a..b`)",
            );
            return None;
        };
        let start = self.scalar_expr(start);
        let mut end = self.scalar_expr(end);
        if matches!(range.limits, syn::RangeLimits::Closed(_)) {
            let one = self.constant(quote!(1), Ty::Int, span);
            end = self.int_add(end, one, span);
        }
        let count = self.count(Count::SaturatingSub, end, start, span);
        let first = self.int_expr(start, format_ident!("__grad_start{}", start.0, span = span));
        let from_zero = self.int_literal(start) == Some(0);
        Some(Seq {
            count,
            element: Rc::new(move |p| {
                if from_zero {
                    p.clone()
                } else {
                    parse_quote_spanned!(span=> (#first + #p))
                }
            }),
        })
    }

    /// Binds the array a chain walks to a hidden name, evaluated once, before the loop.
    fn bind_source(&mut self, source: &Expr, n: usize, span: Span) -> Option<syn::Ident> {
        let val = self.expr(source);
        match val {
            Val::Array(_) | Val::Scalar(_) => {}
            _ => {
                self.unsupported(
                    source,
                    "an iterator chain walks an array, a slice or a range",
                );
                return None;
            }
        }
        let name = self.hidden(n, span);
        self.bind(name.to_string(), val);
        Some(name)
    }

    /// A fresh hidden name of rewrite `n`.
    fn hidden(&mut self, n: usize, span: Span) -> syn::Ident {
        self.rewrites += 1;
        format_ident!("__grad_v{}_{}", n, self.rewrites, span = span)
    }

    /// An integer node as syntax: its literal, or a hidden name bound to it.
    fn int_expr(&mut self, value: ValueId, name: syn::Ident) -> Expr {
        if let Some(literal) = self.int_literal(value) {
            let literal = proc_macro2::Literal::u128_unsuffixed(literal);
            return syn::parse_quote!(#literal);
        }
        self.bind(name.to_string(), Val::Scalar(value));
        syn::parse_quote!(#name)
    }

    /// A count on `usize`, folded when both sides are literals.
    fn count(&mut self, op: Count, a: ValueId, b: ValueId, span: Span) -> ValueId {
        if let (Some(x), Some(y)) = (self.int_literal(a), self.int_literal(b)) {
            let folded = match op {
                Count::SaturatingSub => Some(x.saturating_sub(y)),
                Count::Min => Some(x.min(y)),
                Count::DivCeil => (y > 0).then(|| x.div_ceil(y)),
                Count::Div => (y > 0).then(|| x / y),
            };
            if let Some(value) = folded {
                let literal = proc_macro2::Literal::u128_unsuffixed(value);
                return self.constant(quote!(#literal), Ty::Int, span);
            }
        }
        let same = a == b
            || matches!((&self.node(a).op, &self.node(b).op),
                (Op::Constant(x), Op::Constant(y)) if x.to_string() == y.to_string());
        match (op, self.int_literal(b)) {
            (Count::SaturatingSub, Some(0)) | (Count::DivCeil | Count::Div, Some(1)) => return a,
            // `N.min(N)`: arrays of one const generic length zipped.
            (Count::Min, _) if same => return a,
            _ => {}
        }
        if let Count::Div = op {
            return self.binary_node(syn::BinOp::Div(syn::Token![/](span)), a, b, span);
        }
        let name = match op {
            Count::SaturatingSub => "saturating_sub",
            Count::Min => "min",
            _ => "div_ceil",
        };
        let method = syn::Ident::new(name, span);
        let path: syn::Path = syn::parse_quote_spanned!(span=> usize::#method);
        let args = vec![CallArg::Scalar(a), CallArg::Scalar(b)];
        match self.push(Op::Call { path, args }, Ty::Int, span) {
            Val::Scalar(id) => id,
            _ => unreachable!("push makes a scalar"),
        }
    }

    /// `a.partial_cmp(&b)` and `a.total_cmp(&b)`: of floats, an ordering that needs no
    /// derivative (it only decides which way the code goes, as `a < b` does).
    fn comparison(&mut self, call: &syn::ExprMethodCall) -> Val {
        let span = call.method.span();
        let receiver = self.scalar_expr(&call.receiver);
        let written = &call.args[0];
        let other = match written {
            Expr::Reference(reference) if reference.mutability.is_none() => &*reference.expr,
            other => other,
        };
        let other = self.scalar_expr(other);
        let floats = self.node(receiver).ty.is_float() || self.node(other).ty.is_float();
        if floats && call.turbofish.is_none() {
            let template = InactiveExpr::Compare(call.method.clone());
            return self.inactive(template, vec![receiver, other], Ty::Other, span);
        }
        // Of anything else: as written.
        let other = if matches!(written, Expr::Reference(_)) {
            match self.inactive(InactiveExpr::Reference, vec![other], Ty::Unknown, span) {
                Val::Scalar(id) => id,
                _ => other,
            }
        } else {
            other
        };
        let template = InactiveExpr::Method {
            method: call.method.clone(),
            turbofish: call.turbofish.clone(),
        };
        self.inactive(template, vec![receiver, other], Ty::Unknown, span)
    }
}

/// A comparator applied to two elements: `{ let a = A; let b = B; body }`.
fn apply2(f: &Expr, a: Expr, b: Expr, span: Span) -> Option<Expr> {
    match f {
        Expr::Closure(closure) if closure.inputs.len() == 2 => {
            let pa = iterators::strip_refs(&closure.inputs[0]);
            let pb = iterators::strip_refs(&closure.inputs[1]);
            let body = &closure.body;
            Some(parse_quote_spanned!(span=> { let #pa = #a; let #pb = #b; #body }))
        }
        // `f64::total_cmp`, `f64::partial_cmp` (then unwrapped by the caller's own code).
        Expr::Path(path) => {
            let method = &path.path.segments.last()?.ident;
            (method == "total_cmp").then(|| parse_quote_spanned!(span=> (#a).#method(&#b)))
        }
        Expr::Reference(reference) if reference.mutability.is_none() => {
            apply2(&reference.expr, a, b, span)
        }
        Expr::Paren(inner) => apply2(&inner.expr, a, b, span),
        _ => None,
    }
}

/// `&x[1..]`, `x[a..b]`: an expression that is a sub-slice.
fn names_a_sub_slice(expr: &Expr) -> bool {
    match expr {
        Expr::Reference(reference) if reference.mutability.is_none() => {
            names_a_sub_slice(&reference.expr)
        }
        Expr::Paren(inner) => names_a_sub_slice(&inner.expr),
        Expr::Index(index) => matches!(&*index.index, Expr::Range(_)),
        _ => false,
    }
}
