//! A picture of the compile-time expression graph, for `#[differentiable(graph)]`: the
//! lowered `Graph`, with analysis' activity, as Graphviz DOT text that `f_graph()` returns.
//!
//! Input: `fn circuit(x: f64, y: f64, z: f64) -> f64 { (x + y) * z }`. Output:
//! `digraph circuit { rankdir=LR; n0 [label="x", shape=box]; .. n3 [label="+"]; ..
//! n0 -> n3; .. n4 -> result; }`.
//!
//! It shows what the function computes: the values its result and its effects need, found
//! back from them as the primal sweep finds what it must compute, but for the whole function
//! and not per frame. So lowering's bookkeeping (the flag of a path that never returns early,
//! the value of a path that exited) and unused lets stay out of the picture. Constants that
//! only place or size something (an index, a loop bound, `powi`'s exponent) are written into
//! the label of what they place instead of drawn as nodes of their own. Array parameters
//! read at constant positions are drawn as their elements (`w[0]`), leaves like any other
//! parameter. Branches and loops are clusters; a loop's carried values are its entry and
//! exit nodes, joined to the values that flow in and around it. Every node kind has a
//! label, so any function the macro expands has a picture.

use crate::diagnostics::spelled;
use crate::graph::{
    ArrayId, ArrayInit, Block, CallArg, Graph, InactiveExpr, LoopHeader, Lowered, Mention, Op,
    Output, Stmt, ValueId, callee_as_written,
};
use proc_macro2::Ident;
use std::fmt::Write;
use syn::ext::IdentExt;

/// The DOT text of a lowered function named `name`.
pub fn dot(name: &Ident, lowered: &Lowered) -> String {
    let mut picture = Picture::new(&lowered.graph);
    picture.find_shown(lowered);
    picture.draw(name, lowered)
}

/// One end of an edge.
#[derive(Clone, Copy, PartialEq)]
enum End {
    Value(ValueId),
    Array(ArrayId),
    Result,
}

struct Edge {
    from: End,
    to: End,
    label: Option<String>,
    /// A back edge around a loop, which should not pull the layout backwards.
    back: bool,
}

struct Picture<'a> {
    graph: &'a Graph,
    shown: Vec<bool>,
    shown_arrays: Vec<bool>,
    /// The DOT id number of each declared node, in the order of declaration, so that the
    /// text does not change when lowering adds bookkeeping nodes the picture leaves out.
    numbers: Vec<Option<usize>>,
    array_numbers: Vec<Option<usize>>,
    next_number: usize,
    next_array_number: usize,
    clusters: usize,
    edges: Vec<Edge>,
    text: String,
    /// Set when a value or array joins the picture, until the search for them settles.
    grew: bool,
}

/// Labels are cut here, so that a long macro or path does not stretch the picture.
const LONGEST_LABEL: usize = 40;

impl<'a> Picture<'a> {
    fn new(graph: &'a Graph) -> Self {
        Picture {
            graph,
            shown: vec![false; graph.nodes.len()],
            shown_arrays: vec![false; graph.arrays.len()],
            numbers: vec![None; graph.nodes.len()],
            array_numbers: vec![None; graph.arrays.len()],
            next_number: 0,
            next_array_number: 0,
            clusters: 0,
            edges: Vec::new(),
            text: String::new(),
            grew: false,
        }
    }

    // ---- What the picture shows ----

    fn show(&mut self, id: ValueId) {
        self.show_end(End::Value(id));
    }

    fn show_array(&mut self, id: ArrayId) {
        self.show_end(End::Array(id));
    }

    /// Marks `end` and what it reads. A work list rather than recursion: a long function's
    /// chain of nodes would otherwise be as deep a stack.
    fn show_end(&mut self, end: End) {
        let mut pending = vec![end];
        while let Some(end) = pending.pop() {
            match end {
                End::Value(id) if !self.shown[id.0] => {
                    self.shown[id.0] = true;
                    self.grew = true;
                    pending.extend(self.inputs(id).into_iter().map(|(from, _)| from));
                }
                End::Array(id) if !self.shown_arrays[id.0] => {
                    self.shown_arrays[id.0] = true;
                    self.grew = true;
                    pending.extend(self.array_inputs(id));
                }
                _ => {}
            }
        }
    }

    /// From the result and the effects back to everything they need. Branches and loops
    /// join what flows through them only once something after them is known to be needed,
    /// so the walk repeats until nothing more joins.
    fn find_shown(&mut self, lowered: &Lowered) {
        for value in lowered.output.values() {
            self.show(value);
        }
        if let Output::Array(array) = &lowered.output {
            self.show_array(*array);
        }
        for (index, node) in self.graph.nodes.iter().enumerate() {
            if matches!(node.op, Op::Macro { value: false, .. }) {
                self.show(ValueId(index));
            }
        }
        loop {
            self.grew = false;
            self.needs_of_block(&lowered.body);
            if !self.grew {
                break;
            }
        }
    }

    /// Marks what the statements of a block need; true when the block shows anything.
    /// Back to front, so that one walk carries a need through a chain of branches.
    fn needs_of_block(&mut self, block: &Block) -> bool {
        let mut shows = false;
        for stmt in block.stmts.iter().rev() {
            match stmt {
                Stmt::Node(id) => shows |= self.shown[id.0],
                Stmt::ArrayDecl(id) => shows |= self.shown_arrays[id.0],
                Stmt::ArrayWrite(write) => {
                    if self.shown_arrays[write.array.0] {
                        self.show(write.value);
                        for index in self.placing(&write.indices) {
                            self.show(index);
                        }
                        shows = true;
                    }
                }
                Stmt::If(branch) => {
                    let mut drawn = false;
                    for merge in &branch.merges {
                        if self.shown[merge.out.0] {
                            self.show(merge.then_value);
                            self.show(merge.else_value);
                            drawn = true;
                        }
                    }
                    drawn |= self.needs_of_block(&branch.then_block);
                    drawn |= self.needs_of_block(&branch.else_block);
                    if drawn {
                        self.show(branch.cond);
                        shows = true;
                    }
                }
                Stmt::Loop(l) => {
                    let mut drawn = false;
                    for carried in &l.carried {
                        if self.shown[carried.entry.0] || self.shown[carried.exit.0] {
                            self.show(carried.init);
                            self.show(carried.next);
                            drawn = true;
                        }
                    }
                    drawn |= self.needs_of_block(&l.body);
                    if drawn {
                        if let Some(stop) = l.stop {
                            self.show(stop);
                        }
                        if let LoopHeader::Range {
                            counter,
                            start,
                            end,
                            step,
                            ..
                        } = &l.header
                        {
                            let bounds: Vec<ValueId> =
                                [*start, *end].into_iter().chain(*step).collect();
                            let unwritten = self.placing(&bounds);
                            if !unwritten.is_empty() {
                                self.show(*counter);
                            }
                            for bound in unwritten {
                                self.show(bound);
                            }
                        }
                        shows = true;
                    }
                }
            }
        }
        shows
    }

    // ---- What each node reads ----

    /// The text of a value that is written into the label of what it places or sizes.
    fn written_in_label(&self, id: ValueId) -> Option<String> {
        match &self.graph.node(id).op {
            Op::Constant(tokens) | Op::Length(tokens) => Some(spelled(tokens)),
            _ => None,
        }
    }

    /// Of values that place or size something, those drawn as nodes.
    fn placing(&self, ids: &[ValueId]) -> Vec<ValueId> {
        ids.iter()
            .copied()
            .filter(|id| self.written_in_label(*id).is_none())
            .collect()
    }

    /// `[0]`, `[·][2]`: positions, with those drawn as nodes as `·`.
    fn positions(&self, ids: &[ValueId]) -> String {
        ids.iter()
            .map(|id| format!("[{}]", self.written_in_label(*id).as_deref().unwrap_or("·")))
            .collect()
    }

    /// A read of an array parameter at constant positions: drawn as a parameter itself.
    fn is_parameter_element(&self, id: ValueId) -> bool {
        match &self.graph.node(id).op {
            Op::ArrayRead { array, indices } => {
                let array = self.graph.array(*array);
                matches!(array.init, ArrayInit::Param { .. })
                    && !array.written
                    && self.placing(indices).is_empty()
            }
            _ => false,
        }
    }

    fn call_inputs(&self, args: &[CallArg]) -> Vec<End> {
        args.iter()
            .map(|arg| match arg {
                CallArg::Receiver(id) | CallArg::Scalar(id) | CallArg::Borrowed(id) => {
                    End::Value(*id)
                }
                CallArg::Array { array, .. } => End::Array(*array),
            })
            .collect()
    }

    /// The edges into a node, each with its label. Merges and loop values read through
    /// their statements instead.
    fn inputs(&self, id: ValueId) -> Vec<(End, Option<String>)> {
        let values = |ids: &[ValueId]| -> Vec<(End, Option<String>)> {
            ids.iter().map(|id| (End::Value(*id), None)).collect()
        };
        match &self.graph.node(id).op {
            Op::Param { .. }
            | Op::Constant(_)
            | Op::Placeholder
            | Op::Length(_)
            | Op::Merge
            | Op::LoopEntry
            | Op::LoopExit
            | Op::LoopCounter => Vec::new(),
            Op::Neg(value)
            | Op::Annotated { value, .. }
            | Op::Cast { value, .. }
            | Op::Field { param: value, .. } => values(&[*value]),
            Op::Binary { lhs, rhs, .. } => values(&[*lhs, *rhs]),
            Op::FloatMethod { args, .. } => {
                let mut read = values(&args[..args.len().min(1)]);
                read.extend(values(&self.placing(args.get(1..).unwrap_or_default())));
                read
            }
            Op::Call { args, .. } => self
                .call_inputs(args)
                .into_iter()
                .map(|end| (end, None))
                .collect(),
            Op::Inactive { args, .. } => values(args),
            Op::ArrayRead { .. } if self.is_parameter_element(id) => Vec::new(),
            Op::ArrayRead { array, indices } => {
                let mut read = vec![(End::Array(*array), None)];
                read.extend(
                    self.placing(indices)
                        .into_iter()
                        .map(|index| (End::Value(index), Some("index".to_owned()))),
                );
                read
            }
            Op::Macro { mentions, .. } => {
                let mut read = Vec::new();
                for (_, mention) in mentions {
                    mentioned(mention, &mut read);
                }
                read.into_iter().map(|end| (end, None)).collect()
            }
        }
    }

    /// What an array is made from.
    fn array_inputs(&self, id: ArrayId) -> Vec<End> {
        match &self.graph.array(id).init {
            ArrayInit::Param { .. } => Vec::new(),
            ArrayInit::Literal(values) => values.iter().map(|v| End::Value(*v)).collect(),
            ArrayInit::Literal2(rows) => rows.iter().flatten().map(|v| End::Value(*v)).collect(),
            ArrayInit::Repeat { value } => vec![End::Value(*value)],
            ArrayInit::Copy(source) => vec![End::Array(*source)],
            ArrayInit::Row { source, index } => std::iter::once(End::Array(*source))
                .chain(self.placing(&[*index]).into_iter().map(End::Value))
                .collect(),
            ArrayInit::Call { args, .. } => self.call_inputs(args),
            ArrayInit::View {
                source,
                prefix,
                start,
                end,
                ..
            } => {
                let bounds: Vec<ValueId> =
                    prefix.iter().copied().chain([*start]).chain(*end).collect();
                std::iter::once(End::Array(*source))
                    .chain(self.placing(&bounds).into_iter().map(End::Value))
                    .collect()
            }
            ArrayInit::Heap { value, len } => std::iter::once(End::Value(*value))
                .chain(self.placing(&[*len]).into_iter().map(End::Value))
                .collect(),
        }
    }

    // ---- Labels ----

    fn label(&self, id: ValueId) -> String {
        match &self.graph.node(id).op {
            Op::Param { ident, .. } => ident.unraw().to_string(),
            Op::Field { param, path } => {
                let fields: Vec<String> = path.iter().map(member).collect();
                format!("{}.{}", self.label(*param), fields.join("."))
            }
            Op::Constant(tokens) | Op::Length(tokens) => spelled(tokens),
            Op::Placeholder => "(no value)".to_owned(),
            Op::Neg(_) => "neg".to_owned(),
            Op::Binary { token, .. } => operator(token),
            Op::Cast { to, .. } => format!("as {}", spelled(to)),
            Op::FloatMethod { method, args, .. } => match args.get(1..) {
                Some(extra) if !extra.is_empty() => {
                    let extra: Vec<String> = extra
                        .iter()
                        .map(|a| self.written_in_label(*a).unwrap_or_else(|| "·".to_owned()))
                        .collect();
                    format!("{method}({})", extra.join(", "))
                }
                _ => method.to_string(),
            },
            Op::Call { path, args } => format!("{}(..)", callee_as_written(path, args)),
            Op::Inactive { template, .. } => match template {
                InactiveExpr::Method { method, .. } => format!(".{method}()"),
                InactiveExpr::Field(field) => format!(".{}", member(field)),
                InactiveExpr::Deref => "*".to_owned(),
                InactiveExpr::Reference => "&".to_owned(),
                InactiveExpr::Not => "!".to_owned(),
                InactiveExpr::Matches(pattern) => format!("matches {}", spelled(pattern)),
                InactiveExpr::Index => "[..]".to_owned(),
                InactiveExpr::RowLen(_) => "row len".to_owned(),
                InactiveExpr::Compare(method) => method.to_string(),
                InactiveExpr::Binding { name, .. } => name.unraw().to_string(),
            },
            Op::Annotated { ty, .. } => format!(": {}", spelled(ty)),
            Op::Merge => "merge".to_owned(),
            Op::LoopEntry => "loop entry".to_owned(),
            Op::LoopExit => "loop exit".to_owned(),
            Op::LoopCounter => "counter".to_owned(),
            Op::ArrayRead { array, indices } => match &self.graph.array(*array).init {
                ArrayInit::Param { .. } => {
                    format!("{}{}", self.array_label(*array), self.positions(indices))
                }
                _ => self.positions(indices),
            },
            Op::Macro { tokens, .. } => code(tokens),
        }
    }

    fn array_label(&self, id: ArrayId) -> String {
        let array = self.graph.array(id);
        match &array.init {
            ArrayInit::Param { ident, field, .. } => std::iter::once(ident.unraw().to_string())
                .chain(field.iter().map(member))
                .collect::<Vec<_>>()
                .join("."),
            ArrayInit::Literal(_) => "[..]".to_owned(),
            ArrayInit::Literal2(_) => "[[..]]".to_owned(),
            ArrayInit::Repeat { .. } => match &array.ty {
                crate::graph::Ty::Array(_, len) => format!("[_; {}]", spelled(&len.0)),
                _ => "[_; _]".to_owned(),
            },
            ArrayInit::Copy(_) => "copy".to_owned(),
            ArrayInit::Row { index, .. } => format!("row {}", self.positions(&[*index])),
            ArrayInit::Call { path, args, .. } => format!("{}(..)", callee_as_written(path, args)),
            ArrayInit::View { start, end, .. } => {
                let bound =
                    |id: ValueId| self.written_in_label(id).unwrap_or_else(|| "·".to_owned());
                let end = end.map(bound).unwrap_or_default();
                format!("[{}..{end}]", bound(*start))
            }
            ArrayInit::Heap { len, .. } => {
                let len = self
                    .written_in_label(*len)
                    .unwrap_or_else(|| "·".to_owned());
                format!("vec![_; {len}]")
            }
        }
    }

    fn loop_label(&self, header: &LoopHeader) -> String {
        let LoopHeader::Range {
            start,
            end,
            inclusive,
            reverse,
            step,
            ..
        } = header
        else {
            return "loop".to_owned();
        };
        let bound = |id: ValueId| match (&self.graph.node(id).op, self.written_in_label(id)) {
            (_, Some(text)) => text,
            (Op::Param { ident, .. }, None) => ident.unraw().to_string(),
            _ => "·".to_owned(),
        };
        let dots = if *inclusive { "..=" } else { ".." };
        let mut range = format!("{}{dots}{}", bound(*start), bound(*end));
        if *reverse {
            range = format!("({range}).rev()");
        }
        if let Some(step) = step {
            range = format!("({range}).step_by({})", bound(*step));
        }
        format!("for counter in {range}")
    }

    // ---- The text ----

    fn draw(mut self, name: &Ident, lowered: &Lowered) -> String {
        let name = dot_id(&name.unraw().to_string());
        self.text = format!("digraph {name} {{\n    rankdir=LR;\n    node [shape=ellipse];\n");
        // Parameters first, whatever reads them first.
        for (index, node) in self.graph.nodes.iter().enumerate() {
            if matches!(node.op, Op::Param { .. }) && self.shown[index] {
                self.declare(ValueId(index), 1);
            }
        }
        self.draw_block(&lowered.body, 1);
        // Anything the statements did not place (a view, which has no declaration of its
        // own) goes at the top level, so that every edge ends at a declared node.
        for index in 0..self.shown.len() {
            if self.shown[index] {
                self.declare(ValueId(index), 1);
            }
        }
        for index in 0..self.shown_arrays.len() {
            if self.shown_arrays[index] {
                self.declare_array(ArrayId(index), 1);
            }
        }
        self.text
            .push_str("    result [label=\"return\", shape=box, peripheries=2];\n");
        self.output_edges(&lowered.output);
        // Declaring an end adds the edges into it, which may name more ends.
        let mut index = 0;
        while index < self.edges.len() {
            let (from, to) = (self.edges[index].from, self.edges[index].to);
            self.declare_end(from);
            self.declare_end(to);
            index += 1;
        }
        let edges = std::mem::take(&mut self.edges);
        for edge in &edges {
            let mut attributes = Vec::new();
            if let Some(label) = &edge.label {
                attributes.push(format!("label={}", quoted(label)));
            }
            if !self.is_active(edge.from) {
                attributes.push("style=dashed, color=grey50".to_owned());
            }
            if edge.back {
                attributes.push("constraint=false".to_owned());
            }
            let attributes = if attributes.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attributes.join(", "))
            };
            let (from, to) = (self.end_id(edge.from), self.end_id(edge.to));
            let _ = writeln!(self.text, "    {from} -> {to}{attributes};");
        }
        self.text.push_str("}\n");
        self.text
    }

    fn output_edges(&mut self, output: &Output) {
        let labelled: Vec<(End, Option<String>)> = match output {
            Output::Scalar(value) => vec![(End::Value(*value), None)],
            Output::Array(array) => vec![(End::Array(*array), None)],
            Output::Tuple(values) => values
                .iter()
                .enumerate()
                .map(|(k, v)| (End::Value(*v), Some(format!(".{k}"))))
                .collect(),
            Output::Struct {
                members, values, ..
            } => members
                .iter()
                .zip(values)
                .map(|(m, v)| (End::Value(*v), Some(format!(".{}", member(m)))))
                .collect(),
            Output::Rows(rows) => rows
                .iter()
                .enumerate()
                .flat_map(|(i, row)| {
                    row.iter()
                        .enumerate()
                        .map(move |(j, v)| (End::Value(*v), Some(format!("[{i}][{j}]"))))
                })
                .collect(),
        };
        for (from, label) in labelled {
            self.edge(from, End::Result, label, false);
        }
    }

    fn edge(&mut self, from: End, to: End, label: Option<String>, back: bool) {
        self.edges.push(Edge {
            from,
            to,
            label,
            back,
        });
    }

    fn draw_block(&mut self, block: &Block, depth: usize) {
        for stmt in &block.stmts {
            match stmt {
                Stmt::Node(id) => {
                    if self.shown[id.0] {
                        self.declare(*id, depth);
                    }
                }
                Stmt::ArrayDecl(id) => {
                    if self.shown_arrays[id.0] {
                        self.declare_array(*id, depth);
                    }
                }
                Stmt::ArrayWrite(write) => {
                    if self.shown_arrays[write.array.0] {
                        let at = self.positions(&write.indices);
                        let array = End::Array(write.array);
                        self.edge(
                            End::Value(write.value),
                            array,
                            Some(format!("{at} =")),
                            false,
                        );
                        for index in self.placing(&write.indices) {
                            self.edge(End::Value(index), array, Some("index".to_owned()), false);
                        }
                    }
                }
                Stmt::If(branch) => {
                    let merges: Vec<_> = branch
                        .merges
                        .iter()
                        .filter(|m| self.shown[m.out.0])
                        .collect();
                    let then_shows = self.block_shows(&branch.then_block);
                    let else_shows = self.block_shows(&branch.else_block);
                    // Branches that only pass values through draw as their merges alone.
                    if then_shows || else_shows {
                        self.open_cluster("if", depth);
                        for (block, shows, label) in [
                            (&branch.then_block, then_shows, "then"),
                            (&branch.else_block, else_shows, "else"),
                        ] {
                            if shows {
                                self.open_cluster(label, depth + 1);
                                self.draw_block(block, depth + 2);
                                self.close_cluster(depth + 1);
                            }
                        }
                        self.close_cluster(depth);
                    }
                    for merge in merges {
                        self.declare(merge.out, depth);
                        let out = End::Value(merge.out);
                        self.edge(
                            End::Value(merge.then_value),
                            out,
                            Some("then".to_owned()),
                            false,
                        );
                        self.edge(
                            End::Value(merge.else_value),
                            out,
                            Some("else".to_owned()),
                            false,
                        );
                        self.edge(End::Value(branch.cond), out, Some("if".to_owned()), false);
                    }
                }
                Stmt::Loop(l) => {
                    let carried_shown = l
                        .carried
                        .iter()
                        .any(|c| self.shown[c.entry.0] || self.shown[c.exit.0]);
                    if !carried_shown && !self.block_shows(&l.body) {
                        continue;
                    }
                    let label = self.loop_label(&l.header);
                    self.open_cluster(&label, depth);
                    if let LoopHeader::Range {
                        counter,
                        start,
                        end,
                        step,
                        ..
                    } = &l.header
                        && self.shown[counter.0]
                    {
                        self.declare(*counter, depth + 1);
                        let bounds: Vec<ValueId> =
                            [*start, *end].into_iter().chain(*step).collect();
                        for bound in self.placing(&bounds) {
                            self.edge(End::Value(bound), End::Value(*counter), None, false);
                        }
                    }
                    for carried in &l.carried {
                        if self.shown[carried.entry.0] {
                            self.declare(carried.entry, depth + 1);
                        }
                    }
                    self.draw_block(&l.body, depth + 1);
                    self.close_cluster(depth);
                    for carried in &l.carried {
                        let (entry, exit) = (carried.entry, carried.exit);
                        if self.shown[entry.0] {
                            let to = End::Value(entry);
                            self.edge(End::Value(carried.init), to, Some("init".to_owned()), false);
                            self.edge(End::Value(carried.next), to, Some("next".to_owned()), true);
                        }
                        if self.shown[exit.0] {
                            self.declare(exit, depth);
                            let to = End::Value(exit);
                            self.edge(End::Value(carried.init), to, Some("init".to_owned()), false);
                            self.edge(End::Value(carried.next), to, Some("last".to_owned()), false);
                            if let Some(stop) = l.stop.filter(|s| self.shown[s.0]) {
                                self.edge(End::Value(stop), to, Some("stop".to_owned()), false);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Whether a block, nested blocks included, declares anything the picture shows or
    /// writes a shown array.
    fn block_shows(&self, block: &Block) -> bool {
        block.any_nested(&|stmt| match stmt {
            Stmt::Node(id) => self.shown[id.0],
            Stmt::ArrayDecl(id) => self.shown_arrays[id.0],
            Stmt::ArrayWrite(write) => self.shown_arrays[write.array.0],
            Stmt::If(_) | Stmt::Loop(_) => false,
        })
    }

    fn open_cluster(&mut self, label: &str, depth: usize) {
        let number = self.clusters;
        self.clusters += 1;
        let indent = "    ".repeat(depth);
        let _ = writeln!(
            self.text,
            "{indent}subgraph cluster_{number} {{\n{indent}    label={};",
            quoted(label)
        );
    }

    fn close_cluster(&mut self, depth: usize) {
        let _ = writeln!(self.text, "{}}}", "    ".repeat(depth));
    }

    fn declare_end(&mut self, end: End) {
        match end {
            End::Value(id) => self.declare(id, 1),
            End::Array(id) => self.declare_array(id, 1),
            End::Result => {}
        }
    }

    fn declare(&mut self, id: ValueId, depth: usize) {
        if self.numbers[id.0].is_some() {
            return;
        }
        self.numbers[id.0] = Some(self.next_number);
        self.next_number += 1;
        let node = self.graph.node(id);
        let shape = match &node.op {
            Op::Param { .. } | Op::Field { .. } => Some("box"),
            Op::ArrayRead { .. } if self.is_parameter_element(id) => Some("box"),
            Op::Constant(_) | Op::Length(_) | Op::Placeholder => Some("box"),
            _ => None,
        };
        let rounded = matches!(node.op, Op::Constant(_) | Op::Length(_) | Op::Placeholder);
        let attributes = attributes(&self.label(id), shape, rounded, node.active);
        let dot_id = self.end_id(End::Value(id));
        let _ = writeln!(
            self.text,
            "{}{dot_id} [{attributes}];",
            "    ".repeat(depth)
        );
        for (from, label) in self.inputs(id) {
            self.edge(from, End::Value(id), label, false);
        }
    }

    fn declare_array(&mut self, id: ArrayId, depth: usize) {
        if self.array_numbers[id.0].is_some() {
            return;
        }
        self.array_numbers[id.0] = Some(self.next_array_number);
        self.next_array_number += 1;
        let active = self.graph.array(id).active;
        let attributes = attributes(&self.array_label(id), Some("box3d"), false, active);
        let dot_id = self.end_id(End::Array(id));
        let _ = writeln!(
            self.text,
            "{}{dot_id} [{attributes}];",
            "    ".repeat(depth)
        );
        for from in self.array_inputs(id) {
            self.edge(from, End::Array(id), None, false);
        }
    }

    /// The DOT id of an end. Every end is declared before an edge names it (`draw`), so
    /// the graph's own numbering is only a fallback that still names a distinct node.
    fn end_id(&self, end: End) -> String {
        match end {
            End::Value(id) => match self.numbers[id.0] {
                Some(number) => format!("n{number}"),
                None => format!("v{}", id.0),
            },
            End::Array(id) => match self.array_numbers[id.0] {
                Some(number) => format!("a{number}"),
                None => format!("w{}", id.0),
            },
            End::Result => "result".to_owned(),
        }
    }

    fn is_active(&self, end: End) -> bool {
        match end {
            End::Value(id) => self.graph.node(id).active,
            End::Array(id) => self.graph.array(id).active,
            End::Result => true,
        }
    }
}

/// The values and arrays a macro mentions.
fn mentioned(mention: &Mention, out: &mut Vec<End>) {
    match mention {
        Mention::Scalar(id) => out.push(End::Value(*id)),
        Mention::Array(id) => out.push(End::Array(*id)),
        Mention::Tuple(parts) => parts.iter().for_each(|part| mentioned(part, out)),
    }
}

/// A node's attributes: inactive values (constants, and what depends on no differentiated
/// parameter) dashed and grey, differentiated ones solid.
fn attributes(label: &str, shape: Option<&str>, rounded: bool, active: bool) -> String {
    let mut attributes = vec![format!("label={}", quoted(label))];
    if let Some(shape) = shape {
        attributes.push(format!("shape={shape}"));
    }
    let style: Vec<&str> = [rounded.then_some("rounded"), (!active).then_some("dashed")]
        .into_iter()
        .flatten()
        .collect();
    match style.as_slice() {
        [] => {}
        [one] => attributes.push(format!("style={one}")),
        several => attributes.push(format!("style=\"{}\"", several.join(","))),
    }
    if !active {
        attributes.push("color=grey50, fontcolor=grey50".to_owned());
    }
    attributes.join(", ")
}

fn member(member: &syn::Member) -> String {
    match member {
        syn::Member::Named(ident) => ident.unraw().to_string(),
        syn::Member::Unnamed(index) => index.index.to_string(),
    }
}

/// The operator a node applies, as the user wrote it: `s += x` adds.
fn operator(token: &syn::BinOp) -> String {
    use syn::BinOp;
    let text = match token {
        BinOp::Add(_) | BinOp::AddAssign(_) => "+",
        BinOp::Sub(_) | BinOp::SubAssign(_) => "-",
        BinOp::Mul(_) | BinOp::MulAssign(_) => "*",
        BinOp::Div(_) | BinOp::DivAssign(_) => "/",
        BinOp::Rem(_) | BinOp::RemAssign(_) => "%",
        BinOp::And(_) => "&&",
        BinOp::Or(_) => "||",
        BinOp::BitXor(_) | BinOp::BitXorAssign(_) => "^",
        BinOp::BitAnd(_) | BinOp::BitAndAssign(_) => "&",
        BinOp::BitOr(_) | BinOp::BitOrAssign(_) => "|",
        BinOp::Shl(_) | BinOp::ShlAssign(_) => "<<",
        BinOp::Shr(_) | BinOp::ShrAssign(_) => ">>",
        BinOp::Eq(_) => "==",
        BinOp::Lt(_) => "<",
        BinOp::Le(_) => "<=",
        BinOp::Ne(_) => "!=",
        BinOp::Ge(_) => ">=",
        BinOp::Gt(_) => ">",
        other => return spelled(other),
    };
    text.to_owned()
}

/// Code as a label: the tokens' spacing, tightened only where no operator can be mangled
/// (`assert!(x > 0.0, "m")`).
fn code(tokens: &proc_macro2::TokenStream) -> String {
    let mut text = tokens.to_string();
    for (spaced, tight) in [
        (" ! (", "!("),
        (" ! [", "!["),
        (" ! {", "!{"),
        ("( ", "("),
        (" )", ")"),
        (" ,", ","),
        (" :: ", "::"),
        (" . ", "."),
    ] {
        text = text.replace(spaced, tight);
    }
    text
}

/// A label as a DOT string: cut to `LONGEST_LABEL` characters, then quotes and backslashes
/// escaped (a backslash would otherwise start one of DOT's `\n`, `\l` escapes).
fn quoted(label: &str) -> String {
    let flat = label.replace(['\n', '\r'], " ");
    let cut: String = if flat.chars().count() > LONGEST_LABEL {
        flat.chars()
            .take(LONGEST_LABEL - 1)
            .chain(std::iter::once('…'))
            .collect()
    } else {
        flat
    };
    format!("\"{}\"", cut.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The graph's name as a DOT id: bare where DOT reads it as a name, quoted where it would
/// read a keyword (`fn graph`) or stop at a character.
fn dot_id(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let keyword = ["node", "edge", "graph", "digraph", "subgraph", "strict"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(name));
    if plain && !keyword {
        name.to_owned()
    } else {
        quoted(name)
    }
}
