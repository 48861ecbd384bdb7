//! A slice parameter's gradient that one loop over the whole slice writes element by element
//! (`for i in 0..p.len()` adding to `g[i]` alone, the reverse of `p.iter().map(..).sum()`) is
//! assigned, not added to, and `f_grad_into` does not zero the caller's buffer first. When the
//! loop's reverse runs forwards (`reverses_forward` in `loops.rs`), the loop becomes a
//! `Step::Fill`: a closure computes each element in order and
//! `grad::__private::FilledGradient` writes it, into the caller's buffer or into a new `Vec`
//! that `f_grad` returns, which is then collected as it goes instead of allocated as zeros.
//! A loop over a zip with a shorter slice (`0..usize::min(w.len(), x.len())`) fills a prefix
//! and zeroes the rest.
//!
//! Why: the zero fill and the read of each element cost as much as the loop itself (sums of
//! maps over 1,000 elements, measured on hand-edited generated code: zero fill and `+=` 335
//! ns, `=` into the buffer as it is 161 ns; allocating zeros and assigning 280 ns, collecting
//! 174 ns). It is exact only if nothing else touches that gradient: the loop covers every
//! element once, and no other step of the whole function adds to or reads it, which
//! `assign_full_covers` checks on the finished steps before it changes anything.

use super::{Step, Sweep};
use crate::graph::{ArrayId, ArrayInit, Graph, Loop, LoopHeader, Op, Ty, ValueId};
use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

/// The loops that write a slice parameter's gradient once per element, counted per array: a
/// second loop writing it makes it ineligible.
#[derive(Default)]
pub(super) struct Cover {
    loops: usize,
    /// How the covering loop fills the gradient, when its reverse runs forwards.
    fill: Option<FillPlan>,
    /// Whether the loop covers the whole slice (`0..p.len()`), not a prefix of it.
    whole: bool,
}

/// A covering loop whose reverse runs forwards (`reverses_forward` in `loops.rs`): it fills
/// the gradient through `grad::__private::FilledGradient`, element by element in order.
struct FillPlan {
    counter: TokenStream,
    /// The loop's trip count: `p.len()`, or `usize::min(p.len(), q.len())` for a zip.
    count: TokenStream,
    /// `let (v, ..) = tape[counter];`: the iteration's record, for a loop with a tape.
    tape_read: Option<TokenStream>,
}

impl Sweep<'_> {
    /// Notes the slice parameter whose gradient loop `l`'s reverse body writes once per
    /// iteration at the counter, if `l` runs over the whole slice, or over a prefix of it
    /// (a zip with a shorter slice) when its reverse runs `forward`.
    pub(super) fn note_full_cover(
        &mut self,
        l: &Loop,
        direct: bool,
        forward: bool,
        tape_read: Option<TokenStream>,
        body: &[Step],
    ) {
        let LoopHeader::Range {
            counter,
            start,
            end,
            inclusive: false,
            step: None,
            ..
        } = &l.header
        else {
            return;
        };
        if !direct || !is_zero(self.graph, *start) {
            return;
        }
        for step in body {
            if let Step::Accumulate { array, indices, .. } = step
                && indices.as_slice() == [*counter]
            {
                // An array parameter's gradient is only ever filled: the wrapper zeroes it
                // otherwise, so assigning would save little.
                let whole_array = forward && is_whole_array(self.graph, *end, *array);
                let whole = whole_array || is_length_of(self.graph, *end, *array);
                let prefix = forward && bounded_by_length_of(self.graph, *end, *array);
                if !(whole || prefix) {
                    continue;
                }
                let cover = self.full_covers.entry(*array).or_default();
                cover.loops += 1;
                cover.whole = whole;
                cover.fill = forward.then(|| {
                    let counter = crate::names::value(*counter);
                    FillPlan {
                        counter: quote!(#counter),
                        count: crate::spell::operand(self.graph, *end),
                        tape_read: tape_read.clone(),
                    }
                });
            }
        }
    }

    /// Turns the one accumulation into each fully covered gradient into an assignment, where
    /// the whole function's steps add to that gradient nowhere else and name it nowhere else;
    /// a covering loop whose reverse runs forwards becomes a `Step::Fill`. Returns the slice
    /// parameters whose buffers need no zeroing, and of those the ones filled in order.
    pub fn assign_full_covers(&self, steps: &mut Vec<Step>) -> Covered {
        let mut covered = Covered::default();
        // In the arrays' order, so that the expansion is the same every time: when one loop
        // covers two slices, the first is filled and the second assigned inside the fill.
        let mut covers: Vec<_> = self.full_covers.iter().collect();
        covers.sort_by_key(|(array, _)| array.0);
        for (&array, cover) in covers {
            if cover.loops != 1 || !(cover.whole || cover.fill.is_some()) {
                continue;
            }
            let ArrayInit::Param { ident, .. } = &self.graph.array(array).init else {
                continue;
            };
            // An array's gradient is filled only where it is the core's whole gradient
            // (`(*__gradient)`): then `f_grad` can hand the core an `UnfilledArray`.
            let gradient = crate::names::core_gradient();
            let is_array = matches!(self.graph.array(array).ty, Ty::Array(..));
            if is_array
                && self.gradient_places.get(&array).map(ToString::to_string)
                    != Some(quote!((*#gradient)).to_string())
            {
                continue;
            }
            // The adjoint's local name, and the caller's buffer it was made from.
            let mut names = Vec::new();
            collect_names(steps, array, &mut names);
            let buffer = crate::names::slice_gradient(ident);
            names.push(buffer.to_string());
            let mut accumulations = 0;
            let mut named_elsewhere = false;
            survey(
                steps,
                array,
                &names,
                &mut accumulations,
                &mut named_elsewhere,
            );
            if accumulations != 1 || named_elsewhere {
                continue;
            }
            if let Some(plan) = &cover.fill {
                let (buffer, len, elem) = match &self.graph.array(array).ty {
                    Ty::Slice(elem) => (quote!(#buffer), quote!(#ident.len()), elem),
                    Ty::Array(elem, len) => {
                        let len = &len.0;
                        (quote!(&mut *#gradient), quote!(#len), elem)
                    }
                    _ => continue,
                };
                // An array is filled up to the loop's count, zeros after: the count is spelled
                // as in the body, which may name another constant than the array's type.
                let (function, args) = if is_array {
                    let zero = crate::spell::zeros(elem);
                    (quote!(write_prefix), vec![buffer, len.clone(), len, zero])
                } else if cover.whole {
                    (quote!(write_each), vec![buffer, len])
                } else {
                    let (count, zero) = (&plan.count, crate::spell::zeros(elem));
                    (quote!(write_prefix), vec![buffer, len, count.clone(), zero])
                };
                let function = quote!(::grad::__private::FilledGradient::#function);
                if fill(steps, array, &names[0], function, args, plan) {
                    if is_array {
                        covered.array = crate::spell::known_type(elem);
                    } else {
                        covered.assigned.push(ident.clone());
                        covered.filled.push(ident.clone());
                    }
                    continue;
                }
            }
            if cover.whole && assign(steps, array) {
                covered.assigned.push(ident.clone());
            }
        }
        covered
    }
}

/// The slice parameters whose gradient the core assigns every element of (`f_grad_into`
/// zeroes no buffer for them), and of those the ones a `Step::Fill` writes in order (their
/// core parameter takes any `FilledGradient`, and `f_grad` hands it an empty `Vec`).
#[derive(Default)]
pub struct Covered {
    pub assigned: Vec<proc_macro2::Ident>,
    pub filled: Vec<proc_macro2::Ident>,
    /// The element type of an array parameter's gradient that is the core's whole gradient
    /// and is filled in order: the core's gradient then takes any `FilledGradient`, and
    /// `f_grad` hands it an `UnfilledArray`.
    pub array: Option<TokenStream>,
}

fn is_zero(graph: &Graph, id: ValueId) -> bool {
    match &graph.node(id).op {
        Op::Constant(tokens) => {
            let text = tokens.to_string().replace([' ', '_'], "");
            text == "0" || text == "0usize"
        }
        _ => false,
    }
}

/// Whether `array` is a slice parameter `p` of floats and `end` is `p.len()`. Not a reading of
/// names: lowering makes an `Op::Length` spelled `p.len()` only for the parameter itself
/// (`lower/arrays.rs`, `length_of`); a sub-slice or a shadowing view has a length node of its
/// own.
fn is_length_of(graph: &Graph, end: ValueId, array: ArrayId) -> bool {
    let array = graph.array(array);
    let (Op::Length(tokens), ArrayInit::Param { ident, field, .. }, Ty::Slice(elem)) =
        (&graph.node(end).op, &array.init, &array.ty)
    else {
        return false;
    };
    matches!(**elem, Ty::Float(_))
        && field.is_empty()
        && tokens.to_string().replace(' ', "") == format!("{ident}.len()")
}

/// Whether `array` is a parameter `[F; N]` of a float type analysis knows and `end` is its
/// length `N`, spelled the same. Spelled the same is not proved the same (a `use` in the body
/// can bring in another `N`), so the fill takes that `N` as a count only: the array's impls of
/// `FilledGradient::write_prefix` fill their own length, the count's elements from the loop
/// and zeros after them, which is the gradient whichever constant `N` names.
fn is_whole_array(graph: &Graph, end: ValueId, array: ArrayId) -> bool {
    let array = graph.array(array);
    let (Op::Constant(tokens), ArrayInit::Param { field, .. }, Ty::Array(elem, len)) =
        (&graph.node(end).op, &array.init, &array.ty)
    else {
        return false;
    };
    matches!(**elem, Ty::Float(Some(_)))
        && field.is_empty()
        && !len.is_inferred()
        && tokens.to_string() == len.0.to_string()
}

/// Whether `end` is at most `array`'s length by construction: `p.len()`, or a
/// `usize::min` one of whose operands is (the trip count of a zip).
fn bounded_by_length_of(graph: &Graph, end: ValueId, array: ArrayId) -> bool {
    if is_length_of(graph, end, array) {
        return true;
    }
    let Op::Call { path, args } = &graph.node(end).op else {
        return false;
    };
    let is_min = quote!(#path).to_string().replace(' ', "") == "usize::min";
    is_min
        && args.iter().any(|arg| match arg {
            crate::graph::CallArg::Scalar(id) => bounded_by_length_of(graph, *id, array),
            _ => false,
        })
}

/// Whether `tokens` declare `name` (`let mut name = ..;`): the adjoint's one binding, made
/// from the caller's buffer.
fn declares(tokens: &TokenStream, name: &str) -> bool {
    let mut words = tokens.clone().into_iter();
    matches!(
        (words.next(), words.next(), words.next()),
        (Some(TokenTree::Ident(l)), Some(TokenTree::Ident(m)), Some(TokenTree::Ident(n)))
            if l == "let" && m == "mut" && n == name
    )
}

/// The name of the adjoint an accumulation's element lives in: its first identifier.
fn adjoint_name(element: &TokenStream) -> Option<String> {
    element.clone().into_iter().find_map(|token| match token {
        TokenTree::Ident(ident) => Some(ident.to_string()),
        _ => None,
    })
}

fn mentions(tokens: &TokenStream, name: &str) -> bool {
    tokens.clone().into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident == name,
        TokenTree::Group(group) => mentions(&group.stream(), name),
        _ => false,
    })
}

/// Counts the accumulations into `array` and whether any other code names its adjoint or the
/// buffer it was made from.
fn survey(
    steps: &[Step],
    array: ArrayId,
    names: &[String],
    accumulations: &mut usize,
    named: &mut bool,
) {
    for step in steps {
        match step {
            Step::Accumulate {
                array: a,
                element,
                amount,
                ..
            } => {
                if *a == array {
                    *accumulations += 1;
                    *named |= names.iter().any(|n| mentions(amount, n));
                } else {
                    *named |= names
                        .iter()
                        .any(|n| mentions(element, n) || mentions(amount, n));
                }
            }
            Step::Code(tokens) if names.first().is_some_and(|n| declares(tokens, n)) => {}
            Step::Code(tokens) | Step::Contribute { amount: tokens, .. } => {
                // Code reaches an adjoint array only by its name (a call's `_vjp` added at
                // an offset, a copy): each array's adjoint is a local of its own.
                *named |= names.iter().any(|n| mentions(tokens, n));
            }
            Step::If {
                cond,
                then_steps,
                else_steps,
                ..
            } => {
                *named |= names.iter().any(|n| mentions(cond, n));
                survey(then_steps, array, names, accumulations, named);
                survey(else_steps, array, names, accumulations, named);
            }
            Step::Loop { header, body, .. } => {
                *named |= names.iter().any(|n| mentions(header, n));
                survey(body, array, names, accumulations, named);
            }
            Step::Fill { args, body, .. } => {
                *named |= args.iter().any(|a| names.iter().any(|n| mentions(a, n)));
                survey(body, array, names, accumulations, named);
            }
            Step::CarryInit { .. } | Step::CarryBack { .. } => {}
        }
    }
}

fn collect_names(steps: &[Step], array: ArrayId, names: &mut Vec<String>) {
    for step in steps {
        match step {
            Step::Accumulate {
                array: a, element, ..
            } if *a == array => {
                if let Some(name) = adjoint_name(element)
                    && !names.contains(&name)
                {
                    names.push(name);
                }
            }
            Step::If {
                then_steps,
                else_steps,
                ..
            } => {
                collect_names(then_steps, array, names);
                collect_names(else_steps, array, names);
            }
            Step::Loop { body, .. } | Step::Fill { body, .. } => collect_names(body, array, names),
            _ => {}
        }
    }
}

/// Replaces the accumulation into `array` by an assignment, if it is at the top of the body
/// of a loop at the top of the function's steps: a loop inside another loop would write each
/// element more than once, and one inside a branch perhaps never. Whether it did.
fn assign(steps: &mut [Step], array: ArrayId) -> bool {
    for step in steps.iter_mut() {
        let (Step::Loop { body, .. } | Step::Fill { body, .. }) = step else {
            continue;
        };
        for step in body.iter_mut() {
            if let Step::Accumulate {
                array: a,
                element,
                amount,
                ..
            } = step
                && *a == array
            {
                *step = Step::Code(quote!(#element = #amount;));
                return true;
            }
        }
    }
    false
}

/// Replaces the top-level loop whose body accumulates into `array` by a `Step::Fill` whose
/// closure returns that element, and drops the adjoint's binding (`let mut adjoint = ..;`):
/// the fill checks the buffer's length itself. Whether it did.
fn fill(
    steps: &mut Vec<Step>,
    array: ArrayId,
    adjoint: &str,
    function: TokenStream,
    args: Vec<TokenStream>,
    plan: &FillPlan,
) -> bool {
    let found = steps.iter().position(|step| {
        matches!(step, Step::Loop { body, .. } if body.iter().any(
            |s| matches!(s, Step::Accumulate { array: a, .. } if *a == array)))
    });
    let Some(at) = found else {
        return false;
    };
    let Step::Loop { body, region, .. } = steps.remove(at) else {
        unreachable!("found a loop")
    };
    let element = crate::names::filled_element();
    let body = plan
        .tape_read
        .iter()
        .map(|read| Step::Code(read.clone()))
        .chain(body)
        .map(|step| match step {
            Step::Accumulate {
                array: a, amount, ..
            } if a == array => Step::Code(quote!(let #element = #amount;)),
            step => step,
        })
        .collect();
    steps.insert(
        at,
        Step::Fill {
            function,
            args,
            counter: plan.counter.clone(),
            body,
            element: quote!(#element),
            region,
        },
    );
    steps.retain(|step| !matches!(step, Step::Code(tokens) if declares(tokens, adjoint)));
    true
}
