//! The primal sweep of a frame: which nodes it must compute (liveness) and their code, with
//! the tapes its loops record for the reverse sweep. The tangent sweep (`tangent.rs`) walks
//! with it, adding each active value's tangent after the code of the value.

use crate::graph::CallArg;
use crate::graph::{
    ArrayId, ArrayInit, Block, CallStyle, Graph, If, InactiveExpr, Loop, LoopHeader, Mention, Op,
    RegionId, Stmt, Ty, ValueId,
};
use crate::names;
use crate::spell::{
    RecordsReads, array_name, as_written, operand, passed_array, range_tokens, tape_tuple, zero,
};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use std::collections::{BTreeSet, HashMap, HashSet};

/// What a loop's tape records, decided by the reverse sweep of its body.
pub struct TapeInfo {
    /// The carried values at the start of each iteration that the reverse sweep reads.
    pub entries: Vec<ValueId>,
    /// Whether the forward sweep counts iterations (loops that can stop early, and fixed tapes).
    pub counted: bool,
    /// For loops over constant bounds: the length of a fixed-size tape (no heap).
    pub fixed_len: Option<TokenStream>,
}

/// The forward sweep of one frame: which nodes it must compute (liveness), and their code.
pub struct Forward<'a> {
    graph: &'a Graph,
    live: &'a mut Vec<bool>,
    tapes: &'a HashMap<usize, TapeInfo>,
    emitted_ifs: HashSet<*const If>,
    emitted_loops: HashSet<usize>,
    pub referenced: BTreeSet<ValueId>,
    /// How many loops nested in the frame the walk is inside (they run again here).
    nested_loops: usize,
    /// The frame being emitted: only its own arrays are declared and written here; arrays of
    /// enclosing frames already hold their values.
    frame: RegionId,
    /// Values the frame gets from its loop's tape instead of computing them.
    pub provided: HashSet<ValueId>,
    /// Whether this is the forward sweep itself (the function body's frame), not the
    /// recomputation of a reverse frame: only it runs macros, and it computes the constants
    /// that recomputations take from it (see `replay.rs`).
    primal: bool,
    /// The arrays this recomputation reads as arrays (not through values it replays).
    needed_arrays: HashSet<ArrayId>,
    /// Declare arrays with their types where analysis knows them: without the adjoints
    /// that pin them down in the reverse core, `let mut p = [0.0; 2]; p[i] += ..` can be
    /// ambiguous to rustc (another crate's `f64x2: Add<f64>`), in the tangent sweep's core.
    pub typed_arrays: bool,
}

/// `[[value; N]; M]` for an array type.
pub fn repeat_tokens(ty: &Ty, value: TokenStream) -> TokenStream {
    match ty {
        Ty::Array(elem, len) => {
            let inner = repeat_tokens(elem, value);
            let len = &len.0;
            quote!([#inner; #len])
        }
        _ => value,
    }
}

impl RecordsReads for Forward<'_> {
    fn record(&mut self, ids: impl IntoIterator<Item = ValueId>) {
        self.referenced.extend(ids);
    }
}

impl<'a> Forward<'a> {
    pub fn new(
        graph: &'a Graph,
        live: &'a mut Vec<bool>,
        tapes: &'a HashMap<usize, TapeInfo>,
        frame: RegionId,
    ) -> Self {
        Forward {
            graph,
            live,
            tapes,
            frame,
            primal: graph.region_parents[frame.0].is_none(),
            needed_arrays: HashSet::new(),
            typed_arrays: false,
            provided: HashSet::new(),
            emitted_ifs: HashSet::new(),
            emitted_loops: HashSet::new(),
            referenced: BTreeSet::new(),
            nested_loops: 0,
        }
    }

    fn owns(&self, array: ArrayId) -> bool {
        self.graph
            .region_within(self.graph.array(array).region, self.frame)
    }

    /// Where a recomputation takes a constant from instead of computing it again: the
    /// export that hands it out of its branch (see `replay.rs`). A constant of a loop body
    /// is on the loop's tape (`provided`); one of a loop nested in this frame has no export
    /// and is computed again, and so is everything in it: its exports are computed by the
    /// very run that would read them.
    fn replayed(&self, id: ValueId) -> Option<ValueId> {
        if self.primal
            || self.nested_loops > 0
            || self.provided.contains(&id)
            || !crate::replay::must_replay(self.graph, id, self.frame)
        {
            return None;
        }
        self.graph.exports.get(&id).copied()
    }

    /// Whether a recomputation leaves out the declaration of an array a constant call
    /// returned, because it replays every read of it (see `replay::impure_array`).
    fn skips_array(&self, id: ArrayId) -> bool {
        !self.primal
            && crate::replay::impure_array(self.graph, id)
            && !self.needed_arrays.contains(&id)
    }

    /// Records the arrays a computed node or array statement reads as arrays.
    fn needs_arrays_of(&mut self, stmt: &Stmt) {
        let mut found = Vec::new();
        let call_arrays = |args: &[CallArg], found: &mut Vec<ArrayId>| {
            for arg in args {
                if let CallArg::Array { array, .. } = arg {
                    found.push(*array);
                }
            }
        };
        match stmt {
            Stmt::Node(id) => match &self.graph.node(*id).op {
                Op::ArrayRead { array, .. } => found.push(*array),
                Op::Call { args, .. } => call_arrays(args, &mut found),
                Op::Macro { mentions, .. } => {
                    fn arrays(mention: &Mention, found: &mut Vec<ArrayId>) {
                        match mention {
                            Mention::Array(id) => found.push(*id),
                            Mention::Scalar(_) => {}
                            Mention::Tuple(parts) => parts.iter().for_each(|p| arrays(p, found)),
                        }
                    }
                    mentions.iter().for_each(|(_, m)| arrays(m, &mut found));
                }
                _ => {}
            },
            Stmt::ArrayDecl(id) => match &self.graph.array(*id).init {
                ArrayInit::Copy(source) | ArrayInit::Row { source, .. } => found.push(*source),
                ArrayInit::Call { args, .. } => call_arrays(args, &mut found),
                _ => {}
            },
            _ => {}
        }
        self.needed_arrays.extend(found);
    }

    fn is_macro(&self, id: ValueId) -> bool {
        matches!(self.graph.node(id).op, Op::Macro { .. })
    }

    /// The nodes an array statement of this frame reads.
    fn array_stmt_args(&self, stmt: &Stmt) -> Vec<ValueId> {
        match stmt {
            Stmt::ArrayDecl(id) if self.owns(*id) => match &self.graph.array(*id).init {
                ArrayInit::Literal(values) => values.clone(),
                ArrayInit::Literal2(rows) => rows.iter().flatten().copied().collect(),
                ArrayInit::Repeat { value } => vec![*value],
                ArrayInit::Row { index, .. } => vec![*index],
                ArrayInit::Call { args, .. } => self.graph.call_reads(args),
                ArrayInit::Heap { value, len } => vec![*value, *len],
                ArrayInit::Param { .. } | ArrayInit::Copy(_) | ArrayInit::View { .. } => Vec::new(),
            },
            Stmt::ArrayWrite(write) if self.owns(write.array) => {
                write.indices.iter().copied().chain([write.value]).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Whether a block writes an array this frame owns (so it must run).
    fn writes_own_arrays(&self, block: &Block) -> bool {
        block.any_nested(&|stmt| match stmt {
            Stmt::ArrayDecl(id) => self.owns(*id),
            Stmt::ArrayWrite(write) => self.owns(write.array),
            _ => false,
        })
    }

    /// Marks, back to front, every node the live nodes need; an `if` or loop is computed
    /// when a value it produces is live, and a loop also when this frame reverses it (its
    /// tape is recorded here).
    pub fn liveness(&mut self, block: &Block) -> bool {
        let mut any = false;
        for stmt in block.stmts.iter().rev() {
            match stmt {
                Stmt::Node(id) => {
                    // The forward sweep runs every macro where the function runs it.
                    if self.primal && self.is_macro(*id) {
                        self.live[id.0] = true;
                    }
                    if self.live[id.0] && !self.provided.contains(id) {
                        match self.replayed(*id) {
                            Some(export) => self.live[export.0] = true,
                            None => {
                                for arg in self.graph.node_args(*id) {
                                    self.live[arg.0] = true;
                                }
                                self.needs_arrays_of(stmt);
                            }
                        }
                        any = true;
                    }
                }
                Stmt::If(branch) => {
                    let mut needed = false;
                    for merge in &branch.merges {
                        let computed = !self.provided.contains(&merge.out)
                            && self.replayed(merge.out).is_none();
                        if self.live[merge.out.0] && computed {
                            self.live[merge.then_value.0] = true;
                            self.live[merge.else_value.0] = true;
                            needed = true;
                        }
                    }
                    let then_needed = self.liveness(&branch.then_block);
                    let else_needed = self.liveness(&branch.else_block);
                    // An export taken from further out is bound before the `if`, where the
                    // branches' own reads of it (just walked) find it.
                    for merge in &branch.merges {
                        if let Some(export) = self.replayed(merge.out)
                            && self.live[merge.out.0]
                        {
                            self.live[export.0] = true;
                            any = true;
                        }
                    }
                    if needed || then_needed || else_needed {
                        self.live[branch.cond.0] = true;
                        self.emitted_ifs.insert(&**branch as *const If);
                        any = true;
                    }
                }
                Stmt::ArrayDecl(id) if self.skips_array(*id) => {}
                Stmt::ArrayDecl(_) | Stmt::ArrayWrite(_) => {
                    if matches!(stmt, Stmt::ArrayDecl(id) if self.owns(*id)) {
                        self.needs_arrays_of(stmt);
                    }
                    let args = self.array_stmt_args(stmt);
                    if !args.is_empty() || matches!(stmt, Stmt::ArrayDecl(id) if self.owns(*id)) {
                        for arg in args {
                            self.live[arg.0] = true;
                        }
                        any = true;
                    }
                }
                Stmt::Loop(l) => {
                    if self.loop_liveness(l) {
                        any = true;
                    }
                }
            }
        }
        any
    }

    /// A loop runs when a value it leaves behind is live, when its iterations must be
    /// recorded or counted for the reverse sweep, or when it writes this frame's arrays. Then
    /// its body computes what the live values need, around the loop: a carried variable whose
    /// start of iteration is needed needs its update from the iteration before.
    fn loop_liveness(&mut self, l: &Loop) -> bool {
        let tape = self.tapes.get(&l.id);
        let recorded = tape.is_some_and(|t| !t.entries.is_empty() || t.counted);
        let runs_macros = self.primal
            && l.body
                .any_nested(&|stmt| matches!(stmt, Stmt::Node(id) if self.is_macro(*id)));
        let needed = l.carried.iter().any(|c| self.live[c.exit.0])
            || recorded
            || self.writes_own_arrays(&l.body)
            || runs_macros;
        if !needed {
            return false;
        }
        self.emitted_loops.insert(l.id);
        if let Some(tape) = tape {
            for entry in &tape.entries {
                self.live[entry.0] = true;
            }
        }
        if let Some(stop) = l.stop {
            self.live[stop.0] = true;
        }
        for carried in &l.carried {
            if self.live[carried.exit.0] {
                self.live[carried.next.0] = true;
            }
        }
        loop {
            self.nested_loops += 1;
            self.liveness(&l.body);
            self.nested_loops -= 1;
            let mut changed = false;
            for carried in &l.carried {
                if self.live[carried.entry.0] && !self.live[carried.next.0] {
                    self.live[carried.next.0] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for carried in &l.carried {
            if self.live[carried.next.0] {
                self.live[carried.init.0] = true;
            }
        }
        if let LoopHeader::Range {
            start, end, step, ..
        } = &l.header
        {
            self.live[start.0] = true;
            self.live[end.0] = true;
            if let Some(step) = step {
                self.live[step.0] = true;
            }
        }
        true
    }

    /// Whether the walk computes node `id`.
    pub fn is_live(&self, id: ValueId) -> bool {
        self.live[id.0] && !self.provided.contains(&id)
    }

    /// Whether the walk declares array `id`.
    pub fn declares(&self, id: ArrayId) -> bool {
        self.owns(id) && !self.skips_array(id)
    }

    pub fn emits_if(&self, branch: &If) -> bool {
        self.emitted_ifs.contains(&(branch as *const If))
    }

    pub fn emits_loop(&self, id: usize) -> bool {
        self.emitted_loops.contains(&id)
    }

    /// A walk of another sweep (`tangent.rs`) enters and leaves a loop's body.
    pub fn enter_loop(&mut self) {
        self.nested_loops += 1;
    }

    pub fn leave_loop(&mut self) {
        self.nested_loops -= 1;
    }

    pub fn arg(&mut self, id: ValueId) -> TokenStream {
        self.referenced.insert(id);
        operand(self.graph, id)
    }

    fn call_arg(&mut self, arg: CallArg) -> TokenStream {
        match arg {
            CallArg::Scalar(id) | CallArg::Receiver(id) => {
                self.referenced.insert(id);
                operand(self.graph, id)
            }
            CallArg::Borrowed(id) => {
                let value = self.arg(id);
                quote!(&#value)
            }
            CallArg::Array {
                array,
                by_reference,
            } => {
                self.referenced.extend(self.graph.view_indices(array));
                passed_array(self.graph, array, by_reference)
            }
        }
    }

    /// The value a macro sees for a local it mentions: a scalar's value (a clone, for a value
    /// of a type grad cannot see, which may not be `Copy`), an array (a slice or `Vec`
    /// parameter borrowed as a slice), a tuple of these.
    fn mention(&mut self, mention: &Mention) -> TokenStream {
        match mention {
            Mention::Scalar(id) => {
                self.referenced.insert(*id);
                let value = as_written(self.graph, *id);
                match self.graph.node(*id).ty {
                    Ty::Float(_) | Ty::Int | Ty::Bool => value,
                    // A parameter or constant of a type only rustc knows (a `Vec`, a struct)
                    // is read where it is.
                    _ if matches!(self.graph.node(*id).op, Op::Constant(_) | Op::Param { .. }) => {
                        value
                    }
                    _ => quote!(::core::clone::Clone::clone(&#value)),
                }
            }
            Mention::Array(id) => {
                let name = array_name(self.graph, *id);
                match self.graph.array(*id).ty {
                    Ty::Slice(_) => quote!(&*#name),
                    _ => name,
                }
            }
            Mention::Tuple(parts) => {
                let parts: Vec<TokenStream> = parts.iter().map(|p| self.mention(p)).collect();
                quote!((#(#parts,)*))
            }
        }
    }

    /// A method receiver: a constant such as `-2.0` needs parentheses there.
    fn receiver(&mut self, id: ValueId) -> TokenStream {
        let tokens = self.arg(id);
        match self.graph.node(id).op {
            Op::Constant(_) => quote!((#tokens)),
            _ => tokens,
        }
    }

    /// The code of a block. `own_frame` is true for the frame's own block, whose loops record
    /// tapes.
    pub fn block(&mut self, block: &Block, own_frame: bool) -> Vec<TokenStream> {
        let mut out = Vec::new();
        for stmt in &block.stmts {
            match stmt {
                Stmt::Node(id) => {
                    if self.live[id.0] && !self.provided.contains(id) {
                        out.extend(self.node(*id));
                    }
                }
                Stmt::ArrayDecl(id) => {
                    if self.owns(*id) && !self.skips_array(*id) {
                        out.extend(self.array_decl(*id));
                    }
                }
                Stmt::ArrayWrite(write) => {
                    if self.owns(write.array) {
                        let name = array_name(self.graph, write.array);
                        let indices: Vec<_> = write.indices.iter().map(|i| self.arg(*i)).collect();
                        let value = self.arg(write.value);
                        let span = write.span;
                        out.push(quote_spanned!(span=> #name #([#indices])* = #value;));
                    }
                }
                Stmt::If(branch) => {
                    for merge in &branch.merges {
                        if let Some(export) = self.replayed(merge.out)
                            && self.live[merge.out.0]
                        {
                            let name = names::value(merge.out);
                            let export = self.arg(export);
                            out.push(quote!(let #name = #export;));
                        }
                    }
                    if self.emitted_ifs.contains(&(&**branch as *const If)) {
                        out.push(self.emit_if(branch));
                    }
                }
                Stmt::Loop(l) => {
                    if self.emitted_loops.contains(&l.id) {
                        let tape = if own_frame {
                            self.tapes.get(&l.id)
                        } else {
                            None
                        };
                        out.push(self.emit_loop(l, tape));
                    }
                }
            }
        }
        out
    }

    pub fn array_decl(&mut self, id: ArrayId) -> Option<TokenStream> {
        let array = self.graph.array(id);
        let span = array.span;
        let name = names::array(id);
        let mutability = array.written.then(|| quote!(mut));
        let init = match &array.init {
            ArrayInit::Param { ident, .. } => {
                if !array.written {
                    return None;
                }
                quote!(#ident)
            }
            ArrayInit::Literal(values) => {
                let values: Vec<_> = values.iter().map(|v| self.arg(*v)).collect();
                quote!([#(#values),*])
            }
            ArrayInit::Literal2(rows) => {
                let rows: Vec<TokenStream> = rows
                    .iter()
                    .map(|row| {
                        let values: Vec<_> = row.iter().map(|v| self.arg(*v)).collect();
                        quote!([#(#values),*])
                    })
                    .collect();
                quote!([#(#rows),*])
            }
            ArrayInit::Repeat { value } => {
                let value = self.arg(*value);
                repeat_tokens(&array.ty, value)
            }
            // A local that is written must own its elements, even when its source is an
            // array parameter taken by reference.
            ArrayInit::Copy(source) if array.written => {
                let source = array_name(self.graph, *source);
                quote!(::grad::__private::copy_of(&#source))
            }
            // `*v` of an array: the elements, whether `v` is the array or a reference to it.
            ArrayInit::Copy(source) if self.graph.dereferenced.contains(&id) => {
                let source = array_name(self.graph, *source);
                quote!(::grad::__private::copy_of(&#source))
            }
            ArrayInit::Copy(source) => array_name(self.graph, *source),
            ArrayInit::Row { source, index } => {
                let source = array_name(self.graph, *source);
                let index = self.arg(*index);
                quote!(#source[#index])
            }
            ArrayInit::Call { path, args, tuple } => {
                let spelled: Vec<_> = args.iter().map(|a| self.call_arg(*a)).collect();
                let call = crate::spell::call(path, args, spelled, span);
                if *tuple {
                    let len = crate::graph::tuple_len(&array.ty);
                    return Some(crate::spell::tuple_into_array(
                        &name,
                        array.written,
                        call,
                        len,
                        span,
                    ));
                } else {
                    call
                }
            }
            // Read in place through its source.
            ArrayInit::View { .. } => return None,
            ArrayInit::Heap { value, len } => {
                let (value, len) = (self.arg(*value), self.arg(*len));
                quote!(::grad::__private::vec_filled(#value, #len))
            }
        };
        // Arrays built here, or copied out of `copy_of` (an array, never a reference).
        let owned = match array.init {
            ArrayInit::Literal(_) | ArrayInit::Literal2(_) | ArrayInit::Repeat { .. } => true,
            ArrayInit::Copy(_) => array.written || self.graph.dereferenced.contains(&id),
            _ => false,
        };
        let ty = (self.typed_arrays && owned)
            .then(|| crate::spell::known_type(&array.ty))
            .flatten()
            .map(|ty| quote!(: #ty));
        Some(quote_spanned!(span=> let #mutability #name #ty = #init;))
    }

    fn emit_if(&mut self, branch: &If) -> TokenStream {
        let span = branch.span;
        let merges: Vec<_> = branch
            .merges
            .iter()
            .filter(|m| {
                self.live[m.out.0]
                    && !self.provided.contains(&m.out)
                    && self.replayed(m.out).is_none()
            })
            .collect();
        let cond = self.arg(branch.cond);
        let then_code = self.block(&branch.then_block, false);
        let then_values: Vec<TokenStream> = merges.iter().map(|m| self.arg(m.then_value)).collect();
        let else_code = self.block(&branch.else_block, false);
        let else_values: Vec<TokenStream> = merges.iter().map(|m| self.arg(m.else_value)).collect();
        if merges.is_empty() {
            return quote_spanned!(span=> if #cond { #(#then_code)* } else { #(#else_code)* });
        }
        let outs = merges.iter().map(|m| names::value(m.out));
        quote_spanned! {span=>
            let (#(#outs,)*) = if #cond {
                #(#then_code)*
                (#(#then_values,)*)
            } else {
                #(#else_code)*
                (#(#else_values,)*)
            };
        }
    }

    fn emit_loop(&mut self, l: &Loop, tape: Option<&TapeInfo>) -> TokenStream {
        let span = l.span;
        // Only the carried variables the live code needs run around the loop.
        let kept: Vec<usize> = (0..l.carried.len())
            .filter(|k| self.live[l.carried[*k].next.0])
            .collect();
        let carried: Vec<_> = kept.iter().map(|k| names::carried(l.id, *k)).collect();
        let inits: Vec<TokenStream> = kept.iter().map(|k| self.arg(l.carried[*k].init)).collect();
        let entries: Vec<_> = kept
            .iter()
            .map(|k| names::value(l.carried[*k].entry))
            .collect();
        let count = names::count(l.id);
        let tape_name = names::tape(l.id);
        let mut before = Vec::new();
        let mut record = TokenStream::new();
        let mut counting = TokenStream::new();
        if let Some(info) = tape {
            if info.counted {
                before.push(quote!(let mut #count = 0usize;));
                counting = quote!(#count += 1;);
            }
            if !info.entries.is_empty() {
                let recorded: Vec<_> = info.entries.iter().map(|e| names::value(*e)).collect();
                match &info.fixed_len {
                    Some(len) => {
                        // Each slot starts as its entry type's zero: a generic `T` has no
                        // `Default`.
                        let zeros: Vec<TokenStream> =
                            info.entries.iter().map(|e| zero(self.graph, *e)).collect();
                        let empty = tape_tuple(&zeros);
                        before.push(quote!(let mut #tape_name = [#empty; #len];));
                        let record_tuple = tape_tuple(&recorded);
                        record = quote!(#tape_name[#count] = #record_tuple;);
                    }
                    // A loop that runs its whole range knows its trip count: one allocation.
                    None if l.stop.is_none() && matches!(l.header, LoopHeader::Range { .. }) => {
                        let range = range_tokens(self.graph, l, self);
                        before.push(quote_spanned!(span=> let mut #tape_name = ::grad::__private::Vec::with_capacity(::grad::__private::trip_count(#range));));
                        let record_tuple = tape_tuple(&recorded);
                        record = quote!(#tape_name.push(#record_tuple););
                    }
                    None => {
                        before.push(quote_spanned!(span=> let mut #tape_name = ::grad::__private::Vec::new();));
                        let record_tuple = tape_tuple(&recorded);
                        record = quote!(#tape_name.push(#record_tuple););
                    }
                }
            }
        }
        let counter_var = names::counter(l.id);
        let (header, counter) = match &l.header {
            LoopHeader::Range { counter, .. } => {
                let range = range_tokens(self.graph, l, self);
                let value = names::value(*counter);
                (
                    quote_spanned!(span=> for #counter_var in #range),
                    quote!(let #value = #counter_var;),
                )
            }
            LoopHeader::Unbounded => (quote_spanned!(span=> loop), TokenStream::new()),
        };
        self.nested_loops += 1;
        let body = self.block(&l.body, false);
        self.nested_loops -= 1;
        let nexts: Vec<TokenStream> = kept.iter().map(|k| self.arg(l.carried[*k].next)).collect();
        let stop = l.stop.map(|stop| {
            let stop = self.arg(stop);
            quote!(if #stop { break; })
        });
        let exits: Vec<_> = kept
            .iter()
            .map(|k| names::value(l.carried[*k].exit))
            .collect();
        quote_spanned! {span=>
            #(#before)*
            #(let mut #carried = #inits;)*
            #header {
                #(let #entries = #carried;)*
                #counter
                #(#body)*
                #record
                #(#carried = #nexts;)*
                #counting
                #stop
            }
            #(let #exits = #carried;)*
        }
    }

    pub fn node(&mut self, id: ValueId) -> Option<TokenStream> {
        let node = self.graph.node(id);
        let span = node.span;
        if let Some(export) = self.replayed(id) {
            let name = names::value(id);
            let export = self.arg(export);
            return Some(quote_spanned!(span=> let #name = #export;));
        }
        let expr = match &node.op {
            Op::Param { .. }
            | Op::Constant(_)
            | Op::Placeholder
            | Op::Length(_)
            | Op::Merge
            | Op::LoopEntry
            | Op::LoopExit
            | Op::LoopCounter => return None,
            Op::Neg(a) => {
                let a = self.arg(*a);
                quote_spanned!(span=> -#a)
            }
            Op::Field { param, path } => {
                let param = self.arg(*param);
                quote_spanned!(span=> #param #(.#path)*)
            }
            Op::ArrayRead { array, indices } => {
                let name = array_name(self.graph, *array);
                let indices: Vec<_> = indices.iter().map(|i| self.arg(*i)).collect();
                quote_spanned!(span=> #name #([#indices])*)
            }
            Op::Annotated { value, ty } => {
                let value = self.arg(*value);
                let name = names::value(id);
                return Some(quote_spanned!(span=> let #name: #ty = #value;));
            }
            Op::Binary {
                token, lhs, rhs, ..
            } => {
                let (a, b) = (self.arg(*lhs), self.arg(*rhs));
                quote_spanned!(span=> #a #token #b)
            }
            Op::Cast { value, to } => {
                let a = self.arg(*value);
                quote_spanned!(span=> #a as #to)
            }
            Op::FloatMethod {
                method,
                style,
                args,
                ..
            } => match style {
                CallStyle::Method => {
                    let recv = self.receiver(args[0]);
                    let rest: Vec<_> = args[1..].iter().map(|a| self.arg(*a)).collect();
                    quote_spanned!(span=> #recv.#method(#(#rest),*))
                }
                CallStyle::Path(path) => {
                    let all: Vec<_> = args.iter().map(|a| self.arg(*a)).collect();
                    quote_spanned!(span=> #path(#(#all),*))
                }
            },
            Op::Call { path, args } => {
                let spelled: Vec<_> = args.iter().map(|a| self.call_arg(*a)).collect();
                crate::spell::call(path, args, spelled, span)
            }
            Op::Macro {
                tokens,
                mentions,
                value,
            } => {
                if !*value && !self.primal {
                    return None;
                }
                let bound: Vec<TokenStream> = mentions
                    .iter()
                    .filter_map(|(name, mention)| {
                        let value = self.mention(mention);
                        // A parameter read as it is needs no binding.
                        (*name != value.to_string())
                            .then(|| quote_spanned!(span=> let #name = #value;))
                    })
                    .collect();
                match (*value, bound.is_empty()) {
                    (false, true) => return Some(quote_spanned!(span=> #tokens;)),
                    (false, false) => return Some(quote_spanned!(span=> { #(#bound)* #tokens; })),
                    (true, true) => tokens.clone(),
                    (true, false) => quote_spanned!(span=> { #(#bound)* #tokens }),
                }
            }
            Op::Inactive { template, args } => match template {
                InactiveExpr::Method { method, turbofish } => {
                    let recv = self.receiver(args[0]);
                    let rest: Vec<_> = args[1..].iter().map(|a| self.arg(*a)).collect();
                    quote_spanned!(span=> #recv.#method #turbofish (#(#rest),*))
                }
                InactiveExpr::Field(member) => {
                    let base = self.receiver(args[0]);
                    quote_spanned!(span=> #base.#member)
                }
                InactiveExpr::Deref => {
                    let a = self.arg(args[0]);
                    quote_spanned!(span=> *#a)
                }
                InactiveExpr::Reference => {
                    let a = self.arg(args[0]);
                    quote_spanned!(span=> &#a)
                }
                InactiveExpr::Not => {
                    let a = self.arg(args[0]);
                    quote_spanned!(span=> !#a)
                }
                InactiveExpr::Index => {
                    let base = self.receiver(args[0]);
                    let indices = args[1..].iter().map(|a| self.arg(*a));
                    quote_spanned!(span=> #base #([#indices])*)
                }
                InactiveExpr::RowLen(array) => {
                    let array = array_name(self.graph, *array);
                    let indices = args.iter().map(|a| self.arg(*a));
                    quote_spanned!(span=> #array #([#indices])* .len())
                }
                InactiveExpr::Compare(method) => {
                    let recv = self.receiver(args[0]);
                    let other = self.arg(args[1]);
                    quote_spanned!(span=> #recv.#method(&#other))
                }
                InactiveExpr::Binding { pattern, name } => {
                    let a = self.arg(args[0]);
                    quote_spanned! {span=>
                        match #a {
                            #[allow(unused_variables, unused_mut)]
                            #pattern => #name,
                            #[allow(unreachable_patterns)]
                            _ => ::core::unreachable!(),
                        }
                    }
                }
                InactiveExpr::Matches(pattern) => {
                    let a = self.arg(args[0]);
                    // A binding pattern matches everything: the function's own `match` then
                    // has the same unreachable arms, reported once there, not here.
                    quote_spanned! {span=>
                        match #a {
                            #[allow(unused_variables, unused_mut)]
                            #pattern => true,
                            #[allow(unreachable_patterns)]
                            _ => false,
                        }
                    }
                }
            },
        };
        let name = names::value(id);
        Some(quote_spanned!(span=> let #name = #expr;))
    }
}
