//! A slice parameter's gradient that one loop over the whole slice writes element by element
//! (`for i in 0..p.len()` adding to `g[i]` alone, the reverse of `p.iter().map(..).sum()`) is
//! assigned, not added to, and `f_grad_into` does not zero the caller's buffer first.
//!
//! Why: the zero fill and the read of each element cost as much as the loop itself (sums of
//! maps over 1,000 elements, measured on hand-edited generated code: zero fill and `+=` 335
//! ns, `=` into the buffer as it is 161 ns; collecting a new `Vec` by hand 174 ns). It is
//! exact only if nothing else touches that gradient: the loop covers every element once, and
//! no other step of the whole function adds to or reads it, which `assign_full_covers`
//! checks on the finished steps before it changes anything.

use super::{Step, Sweep};
use crate::graph::{ArrayId, ArrayInit, Graph, Loop, LoopHeader, Op, Ty, ValueId};
use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

impl Sweep<'_> {
    /// Notes the slice parameter whose gradient loop `l`'s reverse body writes once per
    /// iteration at the counter, if `l` runs over the whole slice. Counted per array: a
    /// second loop writing it makes it ineligible.
    pub(super) fn note_full_cover(&mut self, l: &Loop, direct: bool, body: &[Step]) {
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
                && is_length_of(self.graph, *end, *array)
            {
                *self.full_covers.entry(*array).or_default() += 1;
            }
        }
    }

    /// Turns the one accumulation into each fully covered gradient into an assignment, where
    /// the whole function's steps add to that gradient nowhere else and name it nowhere else.
    /// Returns the slice parameters whose buffers need no zeroing.
    pub fn assign_full_covers(&self, steps: &mut [Step]) -> Vec<proc_macro2::Ident> {
        let mut assigned = Vec::new();
        for (&array, &loops) in &self.full_covers {
            if loops != 1 {
                continue;
            }
            let ArrayInit::Param { ident, .. } = &self.graph.array(array).init else {
                continue;
            };
            // The adjoint's local name, and the caller's buffer it was made from.
            let mut names = Vec::new();
            collect_names(steps, array, &mut names);
            names.push(crate::names::slice_gradient(ident).to_string());
            let mut accumulations = 0;
            let mut named_elsewhere = false;
            survey(
                steps,
                array,
                &names,
                &mut accumulations,
                &mut named_elsewhere,
            );
            if accumulations == 1 && !named_elsewhere && assign(steps, array) {
                assigned.push(ident.clone());
            }
        }
        assigned
    }
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
            Step::Loop { body, .. } => collect_names(body, array, names),
            _ => {}
        }
    }
}

/// Replaces the accumulation into `array` by an assignment, if it is at the top of the body
/// of a loop at the top of the function's steps: a loop inside another loop would write each
/// element more than once, and one inside a branch perhaps never. Whether it did.
fn assign(steps: &mut [Step], array: ArrayId) -> bool {
    for step in steps.iter_mut() {
        let Step::Loop { body, .. } = step else {
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
