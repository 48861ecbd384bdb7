//! The reverse sweep: adjoints flow from the output back to the parameters.
//!
//! Straight-line code is walked backwards: each node that has an adjoint applies its local
//! derivative rule and contributes to its arguments' adjoints. Input: `v4 = v3 * z` with
//! `adj4 = upstream`. Output: `let adj3 = adj4 * z; let adj_z = adj4 * v3;`. Only active nodes
//! (floats that depend on a differentiated parameter) receive contributions, so constant
//! subexpressions cost nothing. The first contribution declares an adjoint and later ones add
//! to it, so no adjoint is initialised to zero and then overwritten.
//!
//! Control flow is reversed frame by frame. A frame is a block whose reverse runs as a unit:
//! the function body, a branch of an `if`, or one iteration of a loop body. Its reverse code
//! first recomputes the forward values it needs (for the function body that recomputation *is*
//! the forward sweep), then runs its adjoint steps backwards. So the reverse of an `if` replays
//! the branch that ran (`if cond { recompute; adjoints }`), and the reverse of a loop replays
//! its iterations backwards, restoring each iteration's starting values from a tape. Values
//! that are never overwritten are read directly and never recorded; a loop records only the
//! carried variables its reverse actually reads, so a pure accumulation records nothing.

use crate::graph::Output;
use crate::graph::{
    ArrayId, ArrayInit, ArrayWrite, BinaryOp, Block, CallArg, Graph, Loop, LoopHeader, Op,
    RegionId, Stmt, Ty, ValueId,
};
use crate::names;
use crate::primal::{Forward, TapeInfo};
use crate::rules::{self, Derivative, Operands, OperatorRule, Reads};
use crate::spell::{RecordsReads, flat, operand, passed_array, view_part, zero, zeros};
use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};
use std::collections::{BTreeSet, HashMap, HashSet};

mod checks;
mod loops;
mod neighbours;
mod overwrite;
mod render;
mod shortcuts;

use checks::collect_loop_bodies;
pub use overwrite::Covered;
pub use render::render;
use render::{contributions, group_accumulations};

/// One step of reverse code, before adjoint declarations are resolved.
pub enum Step {
    /// Code that needs no adjoint bookkeeping: recomputation, temporaries.
    Code(TokenStream),
    Contribute {
        target: ValueId,
        amount: TokenStream,
    },
    /// The reverse of an `if`: replays the frame of the branch that ran.
    If {
        cond: TokenStream,
        then_steps: Vec<Step>,
        else_steps: Vec<Step>,
        regions: [RegionId; 2],
    },
    /// The reverse of a loop: `header` opens the loop over iterations in reverse order.
    Loop {
        header: TokenStream,
        body: Vec<Step>,
        region: RegionId,
    },
    /// The reverse of a loop that computes each element of a slice parameter's gradient once,
    /// in order (`overwrite.rs`): `function(args.., |counter| { body; element })`, which
    /// writes the closure's results into the gradient.
    Fill {
        function: TokenStream,
        args: Vec<TokenStream>,
        counter: TokenStream,
        body: Vec<Step>,
        element: TokenStream,
        region: RegionId,
    },
    /// `let mut var = adjoint of node (or zero);`
    CarryInit { var: Ident, node: ValueId },
    /// `var = adjoint of node (or zero);`
    CarryBack { var: Ident, node: ValueId },
    /// `element += amount;`: a read's adjoint added to its array element. Steps of this kind
    /// commute, so a frame groups them by element (see `group_accumulations`).
    Accumulate {
        array: ArrayId,
        indices: Vec<ValueId>,
        element: TokenStream,
        amount: TokenStream,
    },
}

/// The reverse code of a frame, with what it reads.
pub struct Frame {
    /// Recomputation of the forward values the steps read (the forward sweep itself for the
    /// function body).
    pub forward: Vec<TokenStream>,
    pub steps: Vec<Step>,
    /// Every node the frame's code reads, wherever it is defined.
    pub referenced: BTreeSet<ValueId>,
    /// For a loop body: the carried values the recomputation reads, so the tape records them.
    pub live_entries: Vec<ValueId>,
    pub counter_live: bool,
}

pub struct Sweep<'g> {
    graph: &'g Graph,
    /// Where the adjoints of differentiated array parameters live: their entries of the
    /// gradient the core was handed (zeroed by its caller), not locals.
    gradient_places: HashMap<ArrayId, TokenStream>,
    /// Where the gradient entry of each differentiated struct parameter lives, by the
    /// parameter's node: a float field's adjoint is added to the same field there.
    pub struct_places: HashMap<ValueId, TokenStream>,
    pub has_adjoint: Vec<bool>,
    /// A vector output's array, whose adjoint starts as the upstream gradient.
    output_array: Option<ArrayId>,
    /// The loops being reversed as running maxima (see `Selection`): their running value
    /// comes from what the forward sweep recorded, not from a tape.
    selecting: HashSet<usize>,
    /// How many times the function reads each node (arguments, conditions, carried values,
    /// outputs), to tell where an adjoint comes from one place only.
    read_counts: Vec<usize>,
    /// Nodes whose adjoint variable holds twice their adjoint (see `doubles_its_adjoint`).
    doubled: HashSet<ValueId>,
    /// The regions that are loop bodies, for messages that depend on being in a loop.
    loop_bodies: HashSet<RegionId>,
    /// Per slice parameter's gradient, how many loops over the whole slice write it once per
    /// element (`overwrite.rs`).
    full_covers: HashMap<ArrayId, overwrite::Cover>,
    pub errors: Vec<syn::Error>,
}

impl<'g> Sweep<'g> {
    pub fn new(graph: &'g Graph, gradient_places: HashMap<ArrayId, TokenStream>) -> Self {
        Sweep {
            graph,
            gradient_places,
            struct_places: HashMap::new(),
            has_adjoint: vec![false; graph.nodes.len()],
            output_array: None,
            selecting: HashSet::new(),
            read_counts: Vec::new(),
            doubled: HashSet::new(),
            loop_bodies: HashSet::new(),
            full_covers: HashMap::new(),
            errors: Vec::new(),
        }
    }

    /// The function body's frame: the forward sweep, then the reverse sweep seeded with the
    /// upstream gradient at the output.
    pub fn function(&mut self, body: &Block, output: Output) -> Frame {
        collect_loop_bodies(body, &mut self.loop_bodies);
        self.check_whole_array_reads();
        let mut reads = Vec::new();
        body.reads(self.graph, &mut reads);
        match &output {
            Output::Scalar(value) => reads.push(*value),
            Output::Tuple(values) | Output::Struct { values, .. } => reads.extend(values),
            Output::Rows(rows) => reads.extend(rows.iter().flatten()),
            Output::Array(_) => {}
        }
        self.read_counts = vec![0; self.graph.nodes.len()];
        for id in reads {
            self.read_counts[id.0] += 1;
        }
        let upstream = names::core_upstream();
        let mut steps = Vec::new();
        match output {
            Output::Scalar(value) => {
                self.contribute(&mut steps, value, quote!(#upstream));
                self.frame(body, steps, &[value], None)
            }
            Output::Array(array) => {
                self.output_array = Some(array);
                self.frame(body, steps, &[], None)
            }
            Output::Tuple(values) => {
                for (k, value) in values.iter().enumerate() {
                    let k = syn::Index::from(k);
                    self.contribute(&mut steps, *value, quote!(#upstream.#k));
                }
                self.frame(body, steps, &values, None)
            }
            Output::Struct {
                members, values, ..
            } => {
                for (member, value) in members.iter().zip(&values) {
                    self.contribute(&mut steps, *value, quote!(#upstream.#member));
                }
                self.frame(body, steps, &values, None)
            }
            Output::Rows(rows) => {
                for (i, row) in rows.iter().enumerate() {
                    for (j, value) in row.iter().enumerate() {
                        let (i, j) = (
                            proc_macro2::Literal::usize_unsuffixed(i),
                            proc_macro2::Literal::usize_unsuffixed(j),
                        );
                        self.contribute(&mut steps, *value, quote!(#upstream[#i][#j]));
                    }
                }
                let values: Vec<ValueId> = rows.into_iter().flatten().collect();
                self.frame(body, steps, &values, None)
            }
        }
    }

    /// The adjoint of an array, as a place: a local, or the parameter's gradient entry.
    fn array_adjoint(&self, id: ArrayId) -> TokenStream {
        match self.gradient_places.get(&id) {
            Some(place) => place.clone(),
            None => {
                let adj = names::array_adjoint(id);
                quote!(#adj)
            }
        }
    }

    fn array_active(&self, id: ArrayId) -> bool {
        self.graph.array(id).active
    }

    /// Whether a block writes an active array: its reverse then has work even when no
    /// variable it changes carries a gradient.
    fn writes_active_arrays(&self, block: &Block) -> bool {
        block.writes_array(&|array| self.array_active(array))
    }

    fn element(
        &self,
        frame: &mut FrameBuilder,
        array: ArrayId,
        indices: &[ValueId],
    ) -> TokenStream {
        let adj = self.array_adjoint(array);
        let indices: Vec<TokenStream> = indices.iter().map(|i| self.value(frame, *i)).collect();
        quote!(#adj #([#indices])*)
    }

    /// The reverse of an array's declaration: its adjoint flows into what it was made from.
    fn reverse_array_decl(&mut self, id: ArrayId, frame: &mut FrameBuilder) {
        if !self.array_active(id) {
            return;
        }
        let adj = self.array_adjoint(id);
        match &self.graph.array(id).init {
            ArrayInit::Param { .. } => {}
            ArrayInit::Literal(values) => {
                for (k, value) in values.iter().enumerate() {
                    self.contribute(&mut frame.steps, *value, quote!(#adj[#k]));
                }
            }
            ArrayInit::Literal2(rows) => {
                for (i, row) in rows.iter().enumerate() {
                    for (j, value) in row.iter().enumerate() {
                        self.contribute(&mut frame.steps, *value, quote!(#adj[#i][#j]));
                    }
                }
            }
            ArrayInit::Repeat { value } => {
                let elements = flat(quote!(#adj), &self.graph.array(id).ty, false);
                let total = quote!(::grad::__private::sum_elements(#elements));
                self.contribute(&mut frame.steps, *value, total);
            }
            ArrayInit::Copy(source) => {
                if self.array_active(*source) {
                    let ty = &self.graph.array(id).ty;
                    let target = flat(self.array_adjoint(*source), ty, true);
                    let amount = flat(quote!(#adj), ty, false);
                    frame.steps.push(Step::Code(
                        quote!(::grad::__private::add_elements(#target, #amount);),
                    ));
                }
            }
            ArrayInit::Call { path, args, tuple } => {
                let upstream = if *tuple {
                    let elements = (0..crate::graph::tuple_len(&self.graph.array(id).ty))
                        .map(proc_macro2::Literal::usize_unsuffixed);
                    quote!((#(#adj[#elements],)*))
                } else {
                    quote!(#adj)
                };
                let (path, args) = (path.clone(), args.clone());
                let span = self.graph.array(id).span;
                let entry = |k: usize| names::array_call_entry(id, k);
                self.reverse_call(span, entry, &path, &args, upstream, frame);
            }
            // A view has no adjoint of its own (reads go to its source); a heap array's
            // elements are all written before they are read.
            ArrayInit::View { .. } => {}
            ArrayInit::Heap { value, .. } => {
                let elements = flat(quote!(#adj), &self.graph.array(id).ty, false);
                let total = quote!(::grad::__private::sum_elements(#elements));
                self.contribute(&mut frame.steps, *value, total);
            }
            ArrayInit::Row { source, index } => {
                if self.array_active(*source) {
                    let source = self.array_adjoint(*source);
                    let index = self.value(frame, *index);
                    let ty = &self.graph.array(id).ty;
                    let target = flat(quote!(#source[#index]), ty, true);
                    let amount = flat(quote!(#adj), ty, false);
                    frame.steps.push(Step::Code(
                        quote!(::grad::__private::add_elements(#target, #amount);),
                    ));
                }
            }
        }
    }

    fn is_active(&self, id: ValueId) -> bool {
        self.graph.node(id).active
    }

    fn contribute(&mut self, steps: &mut Vec<Step>, target: ValueId, amount: TokenStream) {
        if self.is_active(target) {
            self.has_adjoint[target.0] = true;
            steps.push(Step::Contribute { target, amount });
        }
    }

    /// Builds a frame's reverse steps (seeded by `seeds`), then the recomputation they need.
    fn frame(
        &mut self,
        block: &Block,
        seeds: Vec<Step>,
        outputs: &[ValueId],
        body_of: Option<&Loop>,
    ) -> Frame {
        // The adjoints of the arrays this block declares start at zero (a vector output's at
        // the upstream gradient), before anything adds to them.
        let mut steps = Vec::new();
        let mut heap_lens = Vec::new();
        for (index, array) in self.graph.arrays.iter().enumerate() {
            let id = ArrayId(index);
            let in_gradient = self.gradient_places.contains_key(&id);
            if array.active && array.region == block.region && !in_gradient {
                let adj = self.array_adjoint(id);
                let init = if self.output_array == Some(id) {
                    let upstream = names::core_upstream();
                    quote!(#upstream)
                } else if let (ArrayInit::Param { ident, .. }, Ty::Slice(elem)) =
                    (&array.init, &array.ty)
                {
                    // A slice's gradient goes into the buffer the companion hands over, zeros
                    // already (`f_grad_into` zeroes its caller's; the others allocate zeros),
                    // so that it is filled once.
                    let buffer = names::slice_gradient(ident);
                    match &**elem {
                        // `&[Vec<f64>]`: a buffer of rows as long as the parameter's.
                        Ty::Slice(_) => quote!(::grad::__private::ragged_buffer(#buffer, &#ident)),
                        _ => quote!(::grad::__private::slice_buffer(#buffer, #ident.len())),
                    }
                } else if let (ArrayInit::Heap { len, .. }, Ty::Slice(elem)) =
                    (&array.init, &array.ty)
                {
                    heap_lens.push(*len);
                    let (zero, len) = (zeros(elem), operand(self.graph, *len));
                    quote!(::grad::__private::vec_filled(#zero, #len))
                } else {
                    zeros(&array.ty)
                };
                steps.push(Step::Code(quote!(let mut #adj = #init;)));
            }
        }
        steps.extend(seeds);
        let mut frame = FrameBuilder {
            steps,
            referenced: heap_lens.into_iter().collect(),
            tapes: HashMap::new(),
            in_place_updates: HashMap::new(),
        };
        for (position, stmt) in block.stmts.iter().enumerate().rev() {
            match stmt {
                Stmt::ArrayDecl(id) => self.reverse_array_decl(*id, &mut frame),
                Stmt::ArrayWrite(write) => {
                    if self.array_active(write.array) {
                        // The written value got the element's adjoint; the value it replaced
                        // did not reach the output through this element, so it gets none.
                        let element = self.element(&mut frame, write.array, &write.indices);
                        self.contribute(&mut frame.steps, write.value, element.clone());
                        if let Some(read) = self.updated_read(block, position, write) {
                            frame.in_place_updates.insert(
                                read,
                                InPlaceUpdate {
                                    zeroing_step: frame.steps.len(),
                                    value: write.value,
                                },
                            );
                        }
                        let zero = zero(self.graph, write.value);
                        frame.steps.push(Step::Code(quote!(#element = #zero;)));
                    }
                }
                Stmt::Node(id) => {
                    if self.has_adjoint[id.0] {
                        self.pullback(*id, &mut frame);
                    }
                }
                Stmt::If(branch) => {
                    let mut seeds = [Vec::new(), Vec::new()];
                    for merge in &branch.merges {
                        if self.has_adjoint[merge.out.0] {
                            let adj = names::adjoint(merge.out);
                            self.contribute(&mut seeds[0], merge.then_value, quote!(#adj));
                            self.contribute(&mut seeds[1], merge.else_value, quote!(#adj));
                        }
                    }
                    let writes = self.writes_active_arrays(&branch.then_block)
                        || self.writes_active_arrays(&branch.else_block);
                    if seeds.iter().all(Vec::is_empty) && !writes {
                        continue;
                    }
                    let [then_seeds, else_seeds] = seeds;
                    let then_frame = self.frame(&branch.then_block, then_seeds, &[], None);
                    let else_frame = self.frame(&branch.else_block, else_seeds, &[], None);
                    frame.referenced.insert(branch.cond);
                    frame.referenced.extend(&then_frame.referenced);
                    frame.referenced.extend(&else_frame.referenced);
                    frame.steps.push(Step::If {
                        cond: operand(self.graph, branch.cond),
                        then_steps: then_frame.into_steps(Vec::new()),
                        else_steps: else_frame.into_steps(Vec::new()),
                        regions: [branch.then_block.region, branch.else_block.region],
                    });
                }
                Stmt::Loop(l) => self.reverse_loop(l, &mut frame),
            }
        }
        if let Some(l) = body_of {
            for (k, carried) in l.carried.iter().enumerate() {
                if self.is_active(carried.entry) {
                    frame.steps.push(Step::CarryBack {
                        var: names::carried_adjoint(l.id, k),
                        node: carried.entry,
                    });
                }
            }
        }

        // The frame recomputes what its steps read from its own block.
        let seeds: Vec<ValueId> = frame
            .referenced
            .iter()
            .chain(outputs)
            .copied()
            .filter(|id| self.graph.node(*id).region == block.region)
            .collect();
        let liveness = |provided: &HashSet<ValueId>| {
            let mut live = vec![false; self.graph.nodes.len()];
            for id in &seeds {
                live[id.0] = true;
            }
            let mut forward = Forward::new(self.graph, &mut live, &frame.tapes, block.region);
            forward.provided = provided.clone();
            forward.liveness(block);
            live
        };
        // A read of an array that is written again later cannot be recomputed; in a loop body
        // the tape records the value it read instead.
        let mut provided = HashSet::new();
        let mut live = liveness(&provided);
        if self.graph.region_parents[block.region.0].is_some() {
            let unsafe_reads = self.unsafe_array_reads(block, &live);
            for read in unsafe_reads {
                if body_of.is_some() && self.graph.node(read).region == block.region {
                    provided.insert(read);
                } else {
                    // Inside a loop a copy must be made per iteration, and only one built
                    // from elements is recorded (a `let before = a;` there is rejected).
                    let instead = if self.inside_loop(block.region) {
                        "build a copy from its elements at the top of the loop body (`let now = [a[0], a[1]];`) and read the copy"
                    } else {
                        "copy the array before the writes (`let before = a;`) and read the copy"
                    };
                    self.errors.push(syn::Error::new(
                        self.graph.node(read).span,
                        format!("grad cannot yet differentiate this read: the array is written again after it (later in the function or in a later iteration), and the reverse sweep would read the newer value; {instead}"),
                    ));
                }
            }
            if !provided.is_empty() {
                live = liveness(&provided);
            }
        }
        // The constants of a loop body that its reverse reads (calls, macros' values) come
        // from the tape, never from running them again (see `replay.rs`). Recording a value
        // read out of a constant can leave the constant itself unneeded, so the set is found
        // by repeating; a last step keeps every constant still needed.
        if body_of.is_some() {
            let base = provided.clone();
            let wanted = |live: &[bool]| -> HashSet<ValueId> {
                (0..live.len())
                    .map(ValueId)
                    .filter(|id| {
                        live[id.0]
                            && self.graph.node(*id).region == block.region
                            && crate::replay::must_replay(self.graph, *id, block.region)
                    })
                    .collect()
            };
            let mut replayed: HashSet<ValueId> = HashSet::new();
            for _ in 0..4 {
                let next = wanted(&live);
                if next == replayed {
                    break;
                }
                replayed = next;
                provided = base.union(&replayed).copied().collect();
                live = liveness(&provided);
            }
            let missing: Vec<ValueId> = wanted(&live).difference(&replayed).copied().collect();
            if !missing.is_empty() {
                provided.extend(missing);
                live = liveness(&provided);
            }
            // A projection of a constant the tape records anyway is computed from it.
            let redundant: Vec<ValueId> = provided
                .iter()
                .copied()
                .filter(|id| {
                    !base.contains(id)
                        && crate::replay::projected(self.graph, *id)
                            .is_some_and(|source| provided.contains(&source))
                })
                .collect();
            if !redundant.is_empty() {
                for id in redundant {
                    provided.remove(&id);
                }
                live = liveness(&provided);
            }
        }
        // A loop body that records a tape anyway (or can keep one on the stack) records the
        // results of expensive rules its reverse reads, rather than computing them again.
        // (A running maximum keeps no tape: see `Selection`.)
        if let Some(l) = body_of.filter(|l| !self.selecting.contains(&l.id)) {
            let has_tape = !provided.is_empty() || l.carried.iter().any(|c| live[c.entry.0]);
            if has_tape || self.constant_tape_len(l).is_some() {
                let unsafe_reads = provided.clone();
                for _ in 0..3 {
                    let expensive: HashSet<ValueId> = self
                        .graph
                        .nodes
                        .iter()
                        .enumerate()
                        .filter(|(index, node)| {
                            live[*index]
                                && node.region == block.region
                                && matches!(&node.op, Op::FloatMethod { rule, .. } if rule.expensive)
                        })
                        .map(|(index, _)| ValueId(index))
                        .collect();
                    let next: HashSet<ValueId> = unsafe_reads.union(&expensive).copied().collect();
                    if next == provided {
                        break;
                    }
                    provided = next;
                    live = liveness(&provided);
                }
            }
        }
        let mut forward = Forward::new(self.graph, &mut live, &frame.tapes, block.region);
        forward.provided = provided.clone();
        forward.liveness(block);
        let tokens = forward.block(block, true);
        let forward_referenced = forward.referenced;
        let live_entries = body_of
            .map(|l| {
                let mut recorded: Vec<ValueId> = l
                    .carried
                    .iter()
                    .map(|c| c.entry)
                    .filter(|e| live[e.0])
                    .collect();
                recorded.extend(provided.iter().copied());
                recorded.sort();
                recorded
            })
            .unwrap_or_default();
        let counter_live = match body_of.map(|l| &l.header) {
            Some(LoopHeader::Range { counter, .. }) => live[counter.0],
            _ => false,
        };
        frame.referenced.extend(forward_referenced);
        frame.referenced.extend(outputs);
        Frame {
            forward: tokens,
            steps: group_accumulations(frame.steps),
            referenced: frame.referenced,
            live_entries,
            counter_live,
        }
    }

    /// The read of the element that `write` updates in place (`a[i] = a[i] + t`, `a[i] -= t`),
    /// when the read is in the same block and nothing writes the array in between.
    fn updated_read(&self, block: &Block, position: usize, write: &ArrayWrite) -> Option<ValueId> {
        let Op::Binary { op, lhs, rhs, .. } = &self.graph.node(write.value).op else {
            return None;
        };
        let operands = match op {
            BinaryOp::Add => vec![*lhs, *rhs],
            BinaryOp::Sub => vec![*lhs],
            _ => return None,
        };
        let read = operands.into_iter().find(|&operand| {
            matches!(&self.graph.node(operand).op,
                Op::ArrayRead { array, indices } if *array == write.array && *indices == write.indices)
        })?;
        let read_at = block.stmts[..position]
            .iter()
            .rposition(|stmt| matches!(stmt, Stmt::Node(id) if *id == read))?;
        let written_between = block.stmts[read_at + 1..position]
            .iter()
            .any(|stmt| stmt.writes_array(&|array| array == write.array));
        (!written_between).then_some(read)
    }

    fn value(&self, frame: &mut FrameBuilder, id: ValueId) -> TokenStream {
        frame.referenced.insert(id);
        operand(self.graph, id)
    }

    fn pullback(&mut self, id: ValueId, frame: &mut FrameBuilder) {
        let node = self.graph.node(id);
        let span = node.span;
        let adj = names::adjoint(id);
        match &node.op {
            Op::Param { .. }
            | Op::Constant(_)
            | Op::Placeholder
            | Op::Length(_)
            | Op::Inactive { .. }
            | Op::Macro { .. }
            | Op::Merge
            | Op::LoopEntry
            | Op::LoopExit
            | Op::LoopCounter => {}
            // A value bound with its type (`*x` of `x: &f64`) is the value itself.
            Op::Annotated { value, .. } => self.contribute(&mut frame.steps, *value, quote!(#adj)),
            Op::Field { param, path } => {
                if let Some(place) = self.struct_places.get(param) {
                    // Through a check that the field is a float: a field passed whole to a
                    // call is read as one, and an array field there needs a typed copy.
                    frame.steps.push(Step::Code(
                        quote_spanned!(span=> ::grad::__private::add_to_float_field(&mut #place #(.#path)*, #adj);),
                    ));
                }
            }
            Op::Neg(a) => {
                let amount = rules::NEGATION.spell(span, &adj, &Operands::default());
                self.contribute(&mut frame.steps, *a, amount)
            }
            Op::ArrayRead { array, indices } => {
                if frame.passes_adjoint_through(id) {
                    return;
                }
                let element = self.element(frame, *array, indices);
                frame.steps.push(Step::Accumulate {
                    array: *array,
                    indices: indices.clone(),
                    element,
                    amount: quote_spanned!(span=> #adj),
                });
            }
            Op::Binary { op, lhs, rhs, .. } => self.binary(id, *op, *lhs, *rhs, frame),
            Op::Cast { value, .. } => {
                if let Ty::Float(Some(source)) = self.graph.node(*value).ty {
                    let amount = rules::cast_back(span, &adj, &source.ident());
                    self.contribute(&mut frame.steps, *value, amount);
                }
            }
            Op::FloatMethod { rule, args, .. } => {
                if rule.derivative == Derivative::Pullback {
                    let name = Ident::new(rule.name, span);
                    let float_args: Vec<ValueId> = args
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| rule.arg_is_float(*i))
                        .map(|(_, a)| *a)
                        .collect();
                    // Only what the rule reads is referenced (see `Reads`), so that the
                    // reverse sweep neither recomputes nor tapes the rest.
                    let (inputs, out) = match rule.reads {
                        Reads::Output => {
                            let out = self.value(frame, id);
                            (vec![out.clone(); args.len()], out)
                        }
                        Reads::Inputs => {
                            let inputs: Vec<TokenStream> =
                                args.iter().map(|a| self.value(frame, *a)).collect();
                            let receiver = inputs[0].clone();
                            (inputs, receiver)
                        }
                        Reads::Both => (
                            args.iter().map(|a| self.value(frame, *a)).collect(),
                            self.value(frame, id),
                        ),
                    };
                    let rules = names::pullback_rules();
                    let call = quote_spanned!(span=> #rules::#name(#(#inputs,)* #out, #adj));
                    self.distribute(id, &float_args, call, frame);
                }
            }
            Op::Call { path, args } => {
                let upstream = quote!(#adj);
                let entry = |k: usize| names::partial(id, k);
                self.reverse_call(span, entry, path, args, upstream, frame);
            }
        }
    }

    fn call_arg(&self, frame: &mut FrameBuilder, arg: CallArg) -> TokenStream {
        match arg {
            CallArg::Scalar(id) | CallArg::Receiver(id) => {
                frame.referenced.insert(id);
                operand(self.graph, id)
            }
            CallArg::Borrowed(id) => {
                let value = self.value(frame, id);
                quote!(&#value)
            }
            CallArg::Array {
                array,
                by_reference,
            } => {
                frame.referenced.extend(self.graph.view_indices(array));
                passed_array(self.graph, array, by_reference)
            }
        }
    }

    /// The reverse of a call: `g_vjp(args..., upstream)` gives one entry per float argument
    /// (a float or an array of floats), each added to that argument's adjoint.
    fn reverse_call(
        &mut self,
        span: proc_macro2::Span,
        entry_name: impl Fn(usize) -> Ident,
        path: &syn::Path,
        args: &[CallArg],
        upstream: TokenStream,
        frame: &mut FrameBuilder,
    ) {
        let vjp = names::callee_vjp(path);
        let float_args: Vec<CallArg> = args
            .iter()
            .copied()
            .filter(|a| match a {
                // A constant array the function does not index (`let l: [f64; 3] = arm.lengths;`)
                // is a scalar node of array type: it has an entry all the same.
                CallArg::Scalar(v) | CallArg::Borrowed(v) => {
                    self.graph.node(*v).ty.scalar().is_float()
                }
                CallArg::Array { array, .. } => self.graph.array(*array).ty.scalar().is_float(),
                CallArg::Receiver(_) => false,
            })
            .collect();
        let mut inputs: Vec<TokenStream> = args.iter().map(|a| self.call_arg(frame, *a)).collect();
        inputs.push(upstream);
        let vjp_call = crate::spell::call(&vjp, args, inputs, span);
        // The `Entries` traits turn a `_vjp` that returns the wrong number of entries into an
        // error that says so, at the call.
        let check = quote::format_ident!("Entries{}", float_args.len().max(1), span = span);
        let call = quote_spanned!(span=> ::grad::__private::#check::entries(#vjp_call));
        let entries: Vec<TokenStream> = if float_args.len() == 1 {
            vec![call]
        } else {
            let names: Vec<_> = (0..float_args.len()).map(entry_name).collect();
            frame.steps.push(Step::Code(
                quote_spanned!(span=> let (#(#names),*) = #call;),
            ));
            names.iter().map(|n| quote!(#n)).collect()
        };
        for (arg, entry) in float_args.into_iter().zip(entries) {
            match arg {
                CallArg::Scalar(value) | CallArg::Borrowed(value) => {
                    self.contribute(&mut frame.steps, value, entry)
                }
                // Filtered out above: a receiver has no entry.
                CallArg::Receiver(_) => {}
                CallArg::Array { array, .. } => {
                    let source = self.graph.view_source(array);
                    if self.array_active(source) {
                        let ty = &self.graph.array(array).ty;
                        // A view's entry goes to its part of its source's adjoint.
                        let adjoint = self.array_adjoint(source);
                        let part = view_part(self.graph, array);
                        frame.referenced.extend(self.graph.view_indices(array));
                        let target = flat(quote!(#adjoint #part), ty, true);
                        let amount = flat(entry, ty, false);
                        frame.steps.push(Step::Code(
                            quote!(::grad::__private::add_elements(#target, #amount);),
                        ));
                    }
                }
            }
        }
    }

    /// Hands each float input its entry of a pullback's result: the value itself for one
    /// input, a destructured tuple for several.
    fn distribute(
        &mut self,
        id: ValueId,
        float_args: &[ValueId],
        call: TokenStream,
        frame: &mut FrameBuilder,
    ) {
        let span = self.graph.node(id).span;
        if let [only] = float_args {
            self.contribute(&mut frame.steps, *only, call);
            return;
        }
        let partials: Vec<TokenStream> = float_args
            .iter()
            .enumerate()
            .map(|(k, a)| {
                if self.is_active(*a) {
                    let name = names::partial(id, k);
                    quote!(#name)
                } else {
                    quote!(_)
                }
            })
            .collect();
        frame.steps.push(Step::Code(
            quote_spanned!(span=> let (#(#partials),*) = #call;),
        ));
        for (k, a) in float_args.iter().enumerate() {
            let name = names::partial(id, k);
            self.contribute(&mut frame.steps, *a, quote!(#name));
        }
    }

    fn binary(
        &mut self,
        id: ValueId,
        op: BinaryOp,
        lhs: ValueId,
        rhs: ValueId,
        frame: &mut FrameBuilder,
    ) {
        if self.binary_shortcut(id, op, lhs, rhs, frame) {
            return;
        }
        let span = self.graph.node(id).span;
        let adj = names::adjoint(id);
        match rules::operator(op) {
            OperatorRule::Inline {
                lhs: to_lhs,
                rhs: to_rhs,
            } => {
                for (operand, other, contribution) in [(lhs, rhs, to_lhs), (rhs, lhs, to_rhs)] {
                    // A contribution to an inactive operand is dropped, so it reads nothing.
                    if !self.is_active(operand) {
                        continue;
                    }
                    let (reads_other, reads_rhs, reads_out) = contribution.reads();
                    let values = Operands {
                        other: reads_other.then(|| self.value(frame, other)),
                        rhs: reads_rhs.then(|| self.value(frame, rhs)),
                        out: reads_out.then(|| self.value(frame, id)),
                    };
                    let amount = contribution.spell(span, &adj, &values);
                    self.contribute(&mut frame.steps, operand, amount);
                }
            }
            OperatorRule::Pullback(name) => {
                let a = self.value(frame, lhs);
                let b = self.value(frame, rhs);
                let out = self.value(frame, id);
                let rules = names::pullback_rules();
                let name = Ident::new(name, span);
                let call = quote_spanned!(span=> #rules::#name(#a, #b, #out, #adj));
                self.distribute(id, &[lhs, rhs], call, frame);
            }
            OperatorRule::None => {}
        }
    }
}

struct FrameBuilder {
    steps: Vec<Step>,
    referenced: BTreeSet<ValueId>,
    tapes: HashMap<usize, TapeInfo>,
    /// In-place element updates seen so far, by the read of the old element.
    in_place_updates: HashMap<ValueId, InPlaceUpdate>,
}

/// `a[i] = a[i] + t`: in reverse, the write hands the element's adjoint to the sum and zeroes
/// the element, then the read adds the sum's adjoint back. When that adjoint reaches the read
/// unchanged (the sum and the read have no other adjoint), the element keeps its adjoint:
/// no zeroing, no adding back, and a loop of such updates keeps it in a register.
struct InPlaceUpdate {
    /// Where the write's `element = 0` is in the steps.
    zeroing_step: usize,
    /// The sum written back.
    value: ValueId,
}

impl FrameBuilder {
    /// Whether the read `read`, whose element is updated in place, passes its adjoint
    /// through unchanged (then the write's zeroing is dropped, and the read adds nothing).
    fn passes_adjoint_through(&mut self, read: ValueId) -> bool {
        let Some(update) = self.in_place_updates.remove(&read) else {
            return false;
        };
        let sum = names::adjoint(update.value).to_string();
        let to_read = contributions(&self.steps, read);
        let unchanged = to_read.len() == 1
            && to_read[0].to_string() == sum
            && contributions(&self.steps, update.value).len() == 1;
        if unchanged {
            self.steps[update.zeroing_step] = Step::Code(TokenStream::new());
        }
        unchanged
    }
}

impl Frame {
    /// The frame as one list of steps: `prelude`, the recomputation, then the adjoints.
    pub fn into_steps(self, prelude: Vec<TokenStream>) -> Vec<Step> {
        prelude
            .into_iter()
            .chain(self.forward)
            .map(Step::Code)
            .chain(self.steps)
            .collect()
    }
}

/// The value of a literal constant node (`1.0`, `-2.5`), if it is one.
fn literal_value(graph: &Graph, id: ValueId) -> Option<f64> {
    match &graph.node(id).op {
        Op::Constant(tokens) => {
            let text = tokens.to_string().replace([' ', '_'], "");
            let text = text.trim_end_matches("f64").trim_end_matches("f32");
            text.parse().ok()
        }
        _ => None,
    }
}

impl RecordsReads for FrameBuilder {
    fn record(&mut self, ids: impl IntoIterator<Item = ValueId>) {
        self.referenced.extend(ids);
    }
}
