//! The reverse of a loop: the loop and tape policy.
//!
//! Input: a `Loop` of the graph and the frame of its body. Output: the reverse steps that
//! replay its iterations backwards. A loop whose iterations carry no gradient reverses as a
//! plain loop; one that only keeps a running maximum or minimum reverses as a selection
//! (nothing recorded); any other replays its iterations backwards from a tape of the carried
//! values its reverse reads, on the stack when the trip count is a constant, else in one
//! reserved `Vec`. A loop whose iterations' reverses are independent (`reverses_forward`)
//! replays them forwards instead, so that a gradient it writes once per element can be built
//! in order (`overwrite.rs`).

use super::render::touches_array_adjoints;
use super::{Frame, FrameBuilder, Step, Sweep, neighbours};
use crate::graph::{Loop, LoopHeader, Op, Stmt, ValueId};
use crate::names;
use crate::primal::{Forward, TapeInfo};
use crate::rules::BinaryOp;
use crate::spell::{operand, range_tokens, tape_tuple};
use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};
use std::collections::HashMap;

/// A loop whose only gradient-carrying variable is a running maximum or minimum of values it
/// computes from its counter (`m = m.max(z[i])`). Going backwards, every iteration where the
/// running value wins outright passes the gradient through untouched; the iteration where
/// the final value first appeared takes all that is left, and the iterations before it get
/// nothing (as a branch not taken). The forward sweep records nothing: the reverse sweep finds
/// the first and the last iteration whose candidate equals the final value (the first is
/// where it was taken, unless the loop started with it; the ones after are ties) and replays
/// only the iterations between them, where the running value is the final value, with a NaN
/// in its place at the iteration that took it, which routes the whole gradient to the new
/// value.
struct Selection {
    /// Which carried variable is the running value.
    carried: usize,
    /// The value it is compared with in each iteration.
    candidate: ValueId,
    /// The range's counter and first value.
    counter: ValueId,
    start: ValueId,
}

impl Sweep<'_> {
    pub(super) fn reverse_loop(&mut self, l: &Loop, frame: &mut FrameBuilder) {
        let active: Vec<usize> = (0..l.carried.len())
            .filter(|k| self.is_active(l.carried[*k].entry))
            .collect();
        if !self.writes_active_arrays(&l.body)
            && !active
                .iter()
                .any(|k| self.has_adjoint[l.carried[*k].exit.0])
        {
            // No gradient flows into the loop, so nothing flows out of it.
            return;
        }
        for k in &active {
            frame.steps.push(Step::CarryInit {
                var: names::carried_adjoint(l.id, *k),
                node: l.carried[*k].exit,
            });
        }
        // An iteration's reverse starts from the adjoints its carried variables' next values
        // get from the iteration after it.
        let body_frame = |sweep: &mut Self| {
            let mut seeds = Vec::new();
            for k in &active {
                let var = names::carried_adjoint(l.id, *k);
                sweep.contribute(&mut seeds, l.carried[*k].next, quote!(#var));
            }
            sweep.frame(&l.body, seeds, &[], Some(l))
        };
        let errors = self.errors.len();
        let selection = self.running_selection(l, &active);
        if selection.is_some() {
            self.selecting.insert(l.id);
        }
        let mut body = body_frame(self);
        let selection = selection.filter(|s| body.live_entries == [l.carried[s.carried].entry]);
        if self.selecting.remove(&l.id) && selection.is_none() {
            // Its reverse reads more than the running value: reverse it with a tape.
            self.errors.truncate(errors);
            body = body_frame(self);
        }
        if let Some(selection) = selection {
            self.reverse_selection(l, selection, body, frame);
        } else {
            self.reverse_taped_loop(l, body, frame);
        }
        for k in active {
            let var = names::carried_adjoint(l.id, k);
            self.contribute(&mut frame.steps, l.carried[k].init, quote!(#var));
        }
    }

    /// A loop that only keeps a running maximum or minimum (`m = m.max(e)`, `m = e.min(m)`) of
    /// values `e` that do not depend on it, as `Selection` describes.
    fn running_selection(&self, l: &Loop, active: &[usize]) -> Option<Selection> {
        let LoopHeader::Range {
            counter,
            start,
            reverse: false,
            step: None,
            ..
        } = &l.header
        else {
            return None;
        };
        if l.stop.is_some() || self.writes_active_arrays(&l.body) {
            return None;
        }
        let [k] = active else {
            return None;
        };
        let carried = &l.carried[*k];
        let next = self.graph.node(carried.next);
        let Op::FloatMethod { rule, args, .. } = &next.op else {
            return None;
        };
        if !matches!(rule.name, "max" | "min") {
            return None;
        }
        let candidate = match args[..] {
            [a, b] if a == carried.entry && b != carried.entry => b,
            [a, b] if b == carried.entry && a != carried.entry => a,
            _ => return None,
        };
        // The running value is read by the max alone, and the max by the next iteration
        // alone, so no other value of an iteration depends on them.
        let mut reads = Vec::new();
        l.body.reads(self.graph, &mut reads);
        let entry_reads = reads.iter().filter(|r| **r == carried.entry).count();
        let next_reads = reads.iter().filter(|r| **r == carried.next).count();
        let only_the_max = entry_reads == 1 && next_reads == 0;
        (next.region == l.body.region && only_the_max).then_some(Selection {
            carried: *k,
            candidate,
            counter: *counter,
            start: *start,
        })
    }

    /// Finds the first and the last iteration whose candidate is the final value, then
    /// replays the iterations between them backwards, as `Selection` describes.
    fn reverse_selection(
        &mut self,
        l: &Loop,
        selection: Selection,
        body: Frame,
        frame: &mut FrameBuilder,
    ) {
        let carried = &l.carried[selection.carried];
        frame.referenced.extend(&body.referenced);
        frame.referenced.extend([carried.init, carried.exit]);
        let range = range_tokens(self.graph, l, frame);
        // The candidate alone, computed from the counter, for the searches.
        let mut live = vec![false; self.graph.nodes.len()];
        live[selection.candidate.0] = true;
        let no_tapes = HashMap::new();
        let mut forward = Forward::new(self.graph, &mut live, &no_tapes, l.body.region);
        forward.liveness(&l.body);
        let candidate_code = forward.block(&l.body, true);
        frame.referenced.extend(forward.referenced);

        let (reached, taken) = (names::last_reached(l.id), names::last_taken(l.id));
        let (init, exit) = (
            operand(self.graph, carried.init),
            names::value(carried.exit),
        );
        let counter = names::value(selection.counter);
        let candidate = operand(self.graph, selection.candidate);
        let entry = names::value(carried.entry);
        let is_final = quote!(::grad::__private::same_value(#candidate, #exit));
        let span = l.span;
        frame.steps.push(Step::Code(quote_spanned! {span=>
            let mut #taken = ::core::option::Option::None;
            if !::grad::__private::same_value(#init, #exit) {
                for #counter in #range {
                    #(#candidate_code)*
                    if #is_final {
                        #taken = ::core::option::Option::Some(#counter);
                        break;
                    }
                }
            }
            let mut #reached = ::core::option::Option::None;
            for #counter in #range.rev() {
                #(#candidate_code)*
                if #is_final {
                    #reached = ::core::option::Option::Some(#counter);
                    break;
                }
            }
        }));
        let last = names::iteration();
        let start = operand(self.graph, selection.start);
        let header = quote_spanned! {span=>
            for #counter in (match #reached {
                ::core::option::Option::Some(#last) => #taken.unwrap_or(#start)..=#last,
                ::core::option::Option::None => 1..=0,
            }).rev()
        };
        let prelude = vec![quote! {
            let #entry = if #taken == ::core::option::Option::Some(#counter) {
                ::grad::__private::nan_like(#exit)
            } else {
                #exit
            };
        }];
        frame.steps.push(Step::Loop {
            header,
            body: body.into_steps(prelude),
            region: l.body.region,
        });
    }

    /// Replays every iteration backwards, restoring the carried values it reads from a tape.
    fn reverse_taped_loop(&mut self, l: &Loop, body: Frame, frame: &mut FrameBuilder) {
        frame.referenced.extend(&body.referenced);

        let span = l.span;
        let tape = names::tape(l.id);
        let count = names::count(l.id);
        let k = names::iteration();
        let has_stop = l.stop.is_some() || matches!(l.header, LoopHeader::Unbounded);
        let constant_len = self.constant_tape_len(l);
        let info = TapeInfo {
            entries: body.live_entries.clone(),
            counted: has_stop || (!body.live_entries.is_empty() && constant_len.is_some()),
            fixed_len: constant_len.filter(|_| !body.live_entries.is_empty()),
        };
        let entries: Vec<Ident> = body.live_entries.iter().map(|e| names::value(*e)).collect();
        let forward_order = !has_stop && self.reverses_forward(l, &body.steps);
        // A loop over a unit-step range that always runs to the end is reversed by running
        // its range backwards, or forwards where its iterations' reverses are independent
        // (`reverses_forward`): the counter is the range's own (no reconstruction), and
        // LLVM sees its bounds, so indexing by it needs no bounds checks.
        let direct = match &l.header {
            LoopHeader::Range {
                counter,
                start,
                end,
                inclusive,
                reverse,
                step: None,
                ..
            } if !has_stop => {
                frame.referenced.extend([*start, *end]);
                let (start, end) = (operand(self.graph, *start), operand(self.graph, *end));
                let range = if *inclusive {
                    quote!((#start..=#end))
                } else {
                    quote!((#start..#end))
                };
                let range = if *reverse || forward_order {
                    range
                } else {
                    quote!(#range.rev())
                };
                let counter = if body.counter_live {
                    let counter = names::value(*counter);
                    quote!(#counter)
                } else {
                    quote!(_)
                };
                Some((counter, range))
            }
            _ => None,
        };
        let header = if let Some((counter, range)) = &direct {
            if info.entries.is_empty() {
                quote_spanned!(span=> for #counter in #range)
            } else {
                let tape_slice = if info.fixed_len.is_some() {
                    quote!(#tape[..#count])
                } else {
                    quote!(#tape[..])
                };
                let record = tape_tuple(&entries);
                let records = if forward_order {
                    quote!(#tape_slice.iter())
                } else {
                    quote!(#tape_slice.iter().rev())
                };
                quote_spanned!(span=> for (&#record, #counter) in #records.zip(#range))
            }
        } else if !info.entries.is_empty() {
            let tape_slice = if info.fixed_len.is_some() {
                quote!(#tape[..#count])
            } else {
                quote!(#tape[..])
            };
            let record = tape_tuple(&entries);
            quote_spanned!(span=> for (#k, &#record) in #tape_slice.iter().enumerate().rev())
        } else if info.counted {
            quote_spanned!(span=> for #k in (0..#count).rev())
        } else {
            let range = range_tokens(self.graph, l, frame);
            quote_spanned!(span=> for #k in (0..::grad::__private::trip_count(#range)).rev())
        };
        let mut prelude = Vec::new();
        if let (
            true,
            None,
            LoopHeader::Range {
                counter,
                start,
                end,
                inclusive,
                reverse,
                step,
                ..
            },
        ) = (body.counter_live, &direct, &l.header)
        {
            frame.referenced.extend([*start, *end]);
            frame.referenced.extend(*step);
            let counter = names::value(*counter);
            let step = step.map_or(quote!(1), |s| operand(self.graph, s));
            let (start, end) = (operand(self.graph, *start), operand(self.graph, *end));
            let nth = match (reverse, inclusive) {
                (false, _) => quote!(range_nth),
                (true, false) => quote!(range_nth_back),
                (true, true) => quote!(range_nth_back_inclusive),
            };
            let value = quote!(::grad::__private::#nth(#start, #end, #k, #step));
            prelude.push(quote_spanned!(span=> let #counter = #value;));
        }
        frame.tapes.insert(l.id, info);
        let mut body = body;
        let mut after = Vec::new();
        if let (
            Some(_),
            false,
            LoopHeader::Range {
                counter,
                reverse: false,
                ..
            },
        ) = (&direct, forward_order, &l.header)
        {
            // The reverse runs the counter down by one per iteration.
            match neighbours::carry_neighbours(
                self.graph,
                *counter,
                std::mem::take(&mut body.steps),
            ) {
                Ok(carried) => {
                    frame.steps.extend(carried.before);
                    body.steps = carried.body;
                    after = carried.after;
                }
                Err(steps) => body.steps = steps,
            }
        }
        // A fill's closure gets the counter alone: it reads the iteration's record itself
        // (a covering loop starts at 0, so the record's index is the counter).
        let tape_read = match &l.header {
            LoopHeader::Range { counter, .. } if !entries.is_empty() => {
                let (record, counter) = (tape_tuple(&entries), names::value(*counter));
                Some(quote!(let #record = #tape[#counter];))
            }
            _ => None,
        };
        self.note_full_cover(l, direct.is_some(), forward_order, tape_read, &body.steps);
        frame.steps.push(Step::Loop {
            header,
            body: body.into_steps(prelude),
            region: l.body.region,
        });
        frame.steps.extend(after);
    }

    /// Whether the reverse of loop `l` may run its iterations forwards, as the loop ran: a
    /// unit-step range over `0..n` whose iterations' reverses read nothing another
    /// iteration's reverse writes. Then an adjoint element each iteration writes alone is
    /// written in increasing order, which lets a gradient be built as it goes (`overwrite.rs`).
    ///
    /// That holds when the body writes no array (no element's adjoint is read back) and has
    /// no loop inside (no inner tape is read backwards); when every carried variable with a
    /// gradient only accumulates (`acc = acc + e`, `acc = acc - e`, read by that alone), so
    /// its adjoint is the same in every iteration; and when each array adjoint the reverse
    /// adds to is indexed by the counter first (disjoint elements) and no other reverse code
    /// names an array adjoint. The additions into the adjoints of values outside the loop
    /// are then made in another order, a rounding difference only.
    fn reverses_forward(&self, l: &Loop, steps: &[Step]) -> bool {
        let LoopHeader::Range {
            counter,
            reverse: false,
            step: None,
            ..
        } = &l.header
        else {
            return false;
        };
        if l.stop.is_some()
            || l.body.writes_array(&|_| true)
            || l.body.any_nested(&|stmt| matches!(stmt, Stmt::Loop(_)))
        {
            return false;
        }
        let mut reads = Vec::new();
        l.body.reads(self.graph, &mut reads);
        let accumulates = |carried: &crate::graph::Carried| {
            let Op::Binary { op, lhs, rhs, .. } = &self.graph.node(carried.next).op else {
                return false;
            };
            let entry = carried.entry;
            let shape = match op {
                BinaryOp::Add => (*lhs == entry) != (*rhs == entry),
                BinaryOp::Sub => *lhs == entry && *rhs != entry,
                _ => false,
            };
            shape
                && reads.iter().filter(|r| **r == entry).count() == 1
                && !reads.contains(&carried.next)
        };
        l.carried
            .iter()
            .filter(|carried| self.is_active(carried.entry))
            .all(accumulates)
            && disjoint_by_counter(steps, *counter)
    }

    /// The tape of a loop over constant bounds is a fixed-size array, unless the bounds are
    /// literals that make it too large for the stack.
    pub(super) fn constant_tape_len(&self, l: &Loop) -> Option<TokenStream> {
        let LoopHeader::Range {
            start,
            end,
            inclusive,
            step,
            constant_bounds: true,
            ..
        } = &l.header
        else {
            return None;
        };
        let literal = |id: &ValueId| -> Option<i128> {
            match &self.graph.node(*id).op {
                Op::Constant(tokens) => tokens.to_string().replace([' ', '_'], "").parse().ok(),
                _ => None,
            }
        };
        if let (Some(a), Some(b)) = (literal(start), literal(end)) {
            let step = step.as_ref().map_or(Some(1), literal).unwrap_or(1).max(1);
            let len = (b - a + i128::from(*inclusive)).max(0) / step;
            if len > 4096 {
                return None;
            }
        }
        // A const generic may size an array but not enter a const computation: `a..N` gets a
        // tape of length `N` (enough for every iteration), and any other range over a const
        // generic keeps a heap tape.
        let names_const_generic = |id: &ValueId| match &self.graph.node(*id).op {
            Op::Constant(tokens) => crate::generics::is_const_param(&tokens.to_string()),
            _ => false,
        };
        if names_const_generic(start) || step.as_ref().is_some_and(names_const_generic) {
            return None;
        }
        if names_const_generic(end) {
            // `a..N` with a literal `a ≥ 0`, reversed or stepped, runs at most `N` times.
            return (literal(start).is_some_and(|a| a >= 0) && !*inclusive)
                .then(|| operand(self.graph, *end));
        }
        let (start, end) = (operand(self.graph, *start), operand(self.graph, *end));
        let step = step.map_or(quote!(1), |s| operand(self.graph, s));
        Some(
            quote!(::grad::__private::trip_len((#start) as i128, (#end) as i128, (#step) as usize, #inclusive)),
        )
    }
}

/// Whether each array adjoint `steps` add to is indexed by `counter` first, and no other step
/// names an array adjoint (see `reverses_forward`).
fn disjoint_by_counter(steps: &[Step], counter: ValueId) -> bool {
    steps.iter().all(|step| match step {
        Step::Accumulate {
            indices, amount, ..
        } => indices.first() == Some(&counter) && !touches_array_adjoints(amount),
        Step::Code(tokens) | Step::Contribute { amount: tokens, .. } => {
            !touches_array_adjoints(tokens)
        }
        Step::If {
            cond,
            then_steps,
            else_steps,
            ..
        } => {
            !touches_array_adjoints(cond)
                && disjoint_by_counter(then_steps, counter)
                && disjoint_by_counter(else_steps, counter)
        }
        Step::CarryInit { .. } | Step::CarryBack { .. } => true,
        Step::Loop { .. } | Step::Fill { .. } => false,
    })
}
