//! A runtime reverse-mode graph: the lecture notes' autograd, for computations that are known
//! only when the program runs (a formula a user types, a model read from a configuration
//! file, a graph whose shape depends on data). Where the function is known when the program
//! is compiled, `#[differentiable]` is faster: it needs no graph at all.
//!
//! The graph has the notes' three kinds of node ([`NodeKind`]):
//!
//! - **`Constant`** leaves ([`Tape::constant`]), which get no gradient;
//! - **`Accumulated`** leaves ([`Tape::var`], the notes' `requires_grad`), whose gradient
//!   accumulates over every [`backward`](Var::backward) until [`Tape::zero_grad`];
//! - one **`BackwardFunction`** per operation, holding what its derivative needs. An
//!   operation none of whose inputs needs a gradient makes a `Constant`, as does every
//!   operation inside [`Tape::no_record`].
//!
//! Every node lives in one arena owned by the [`Tape`]; a [`Var`] (a float), a [`Vector`] or a
//! [`Matrix`] is a copyable handle into it. A node reads only nodes made before it, so the
//! arena's order is topological: `backward` walks it down from the output, running the rule of
//! each operation the output depends on once, without recursion, so a graph of millions of
//! nodes works. [`Tape::topological_order`] gives the notes' explicit sort.
//!
//! The rules are grad's own: each float method calls the same `pullback::<name>` as the code
//! `#[differentiable]` generates, and each activation its `_vjp`, so the two engines agree,
//! conventions at kinks included (relu'(0) = 0, a tie of `max` splits the gradient, `sqrt`'s
//! slope at 0 is +∞). An operation of floats applies to a vector element by element (its
//! Jacobian is diagonal, so only the elementwise product is computed); a scalar operand of a
//! vector operation is broadcast.
//!
//! ```
//! use grad_runtime::tape::Tape;
//!
//! // The notes' circuit: f = (x + y) · z at (-2, 5, -4).
//! let tape = Tape::new();
//! let (x, y, z) = (tape.var(-2.0), tape.var(5.0), tape.var(-4.0));
//! let f = (x + y) * z;
//! f.backward();
//! assert_eq!(f.value(), -12.0);
//! assert_eq!((x.grad(), y.grad(), z.grad()), (-4.0, -4.0, 3.0));
//! ```

mod dot;
mod handles;
mod ops;

#[cfg(test)]
mod tests;

pub use handles::{Matrix, ScalarOperand, Var, Vector, VectorOperand};

use crate::Float;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use ops::Op;

/// The notes' three kinds of node in a computational graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A value that gets no gradient: a constant leaf, or the result of operations on
    /// constants alone or inside [`Tape::no_record`].
    Constant,
    /// A leaf whose gradient accumulates (`requires_grad`).
    Accumulated,
    /// An operation, which passes its gradient back to its inputs.
    BackwardFunction,
}

/// A node's place in its tape's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(u32);

impl NodeId {
    /// The node's index in its tape, in the order nodes were made.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The arena of a runtime graph: its nodes, their values and their gradients.
///
/// Operations record through `&Tape` (handles are `Copy` and borrow the tape), so the arena
/// sits in a `RefCell`; no borrow of it outlives a method.
pub struct Tape<T: Float = f64> {
    arena: RefCell<Arena<T>>,
    recording: Cell<bool>,
}

struct Arena<T> {
    nodes: Vec<Node<T>>,
    /// The values of every node, each node's elements contiguous at `Node::start`.
    values: Vec<T>,
    /// The gradients, laid out as `values`: grown to `values`' length when `backward` runs,
    /// so a node made after the last pass has none yet (zero).
    grads: Vec<T>,
    /// The inputs of `Stack` nodes.
    stacked: Vec<u32>,
    /// Names given to nodes for pictures.
    names: BTreeMap<u32, String>,
    /// The backward pass's marks of the nodes it has reached, kept for the next pass.
    reached: Vec<bool>,
    /// Room for a rule that needs some (`log_sum_exp`'s softmax), kept likewise.
    scratch: Vec<T>,
}

#[derive(Clone, Copy, Debug)]
struct Node<T> {
    op: Op<T>,
    kind: NodeKind,
    /// The first `op.arity()` are the inputs' ids.
    inputs: [u32; 3],
    start: u32,
    len: u32,
}

impl<T> Node<T> {
    fn range(&self) -> core::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }

    /// The node's inputs: its fixed ones, or a `Stack`'s list in `stacked`.
    fn inputs_in<'a>(&'a self, stacked: &'a [u32]) -> &'a [u32] {
        match &self.op {
            Op::Stack { first } => &stacked[*first as usize..(*first + self.len) as usize],
            op => &self.inputs[..op.arity()],
        }
    }
}

impl Tape<f64> {
    /// An empty tape of `f64`s, recording. (`Tape::<f32>::default()` makes one of `f32`s;
    /// `new` names the float type so that literals such as `1.0 / (1.0 + x)` need no
    /// annotation.)
    pub fn new() -> Self {
        Self::default()
    }
}

impl<T: Float> Default for Tape<T> {
    /// An empty tape, recording.
    fn default() -> Self {
        Tape {
            arena: RefCell::new(Arena {
                nodes: Vec::new(),
                values: Vec::new(),
                grads: Vec::new(),
                stacked: Vec::new(),
                names: BTreeMap::new(),
                reached: Vec::new(),
                scratch: Vec::new(),
            }),
            recording: Cell::new(true),
        }
    }
}

impl<T: Float> Tape<T> {
    /// An empty tape with room for `nodes` float operations, so that a graph of known size
    /// grows its arena without the slack of doubling.
    pub fn with_capacity(nodes: usize) -> Self {
        let tape = Self::default();
        {
            let mut arena = tape.arena.borrow_mut();
            arena.nodes.reserve_exact(nodes);
            arena.values.reserve_exact(nodes);
            arena.grads.reserve_exact(nodes);
        }
        tape
    }

    /// A leaf that accumulates its gradient (the notes' `requires_grad = true`).
    pub fn var(&self, value: T) -> Var<'_, T> {
        Var::new(self, self.leaf(&[value], NodeKind::Accumulated))
    }

    /// A leaf that gets no gradient.
    pub fn constant(&self, value: T) -> Var<'_, T> {
        Var::new(self, self.leaf(&[value], NodeKind::Constant))
    }

    /// A vector leaf that accumulates its gradient, one entry per element.
    pub fn vector(&self, values: &[T]) -> Vector<'_, T> {
        Vector::new(self, self.leaf(values, NodeKind::Accumulated))
    }

    /// A vector leaf that gets no gradient.
    pub fn constant_vector(&self, values: &[T]) -> Vector<'_, T> {
        Vector::new(self, self.leaf(values, NodeKind::Constant))
    }

    /// A `rows × cols` matrix leaf that accumulates its gradient, from its entries row by
    /// row.
    ///
    /// # Panics
    /// If `entries` does not hold `rows · cols` values.
    pub fn matrix(&self, rows: usize, cols: usize, entries: &[T]) -> Matrix<'_, T> {
        assert_eq!(
            entries.len(),
            rows * cols,
            "a {rows}×{cols} matrix needs {} entries",
            rows * cols
        );
        Matrix::new(self, self.leaf(entries, NodeKind::Accumulated), rows, cols)
    }

    /// A `rows × cols` matrix leaf that gets no gradient.
    ///
    /// # Panics
    /// If `entries` does not hold `rows · cols` values.
    pub fn constant_matrix(&self, rows: usize, cols: usize, entries: &[T]) -> Matrix<'_, T> {
        assert_eq!(
            entries.len(),
            rows * cols,
            "a {rows}×{cols} matrix needs {} entries",
            rows * cols
        );
        Matrix::new(self, self.leaf(entries, NodeKind::Constant), rows, cols)
    }

    /// The floats `elements` gathered into a vector, each element's gradient flowing back to
    /// its float.
    pub fn stack(&self, elements: &[Var<'_, T>]) -> Vector<'_, T> {
        let mut arena = self.arena.borrow_mut();
        let first = index32(arena.stacked.len());
        let mut any_needs_grad = false;
        for element in elements {
            assert!(
                core::ptr::eq(element.tape(), self),
                "`Tape::stack` was given a value of another tape"
            );
            any_needs_grad |= arena.nodes[element.id().index()].kind != NodeKind::Constant;
            arena.stacked.push(element.id().0);
        }
        let kind = self.kind_of_result(any_needs_grad);
        let start = arena.values.len();
        for k in 0..elements.len() {
            let source = arena.nodes[arena.stacked[first as usize + k] as usize].start as usize;
            let value = arena.values[source];
            arena.values.push(value);
        }
        let id = arena.push_node(Op::Stack { first }, kind, [0; 3], start, elements.len());
        drop(arena);
        Vector::new(self, id)
    }

    /// Runs `f` without recording: every operation inside gives a `Constant`, which no
    /// gradient passes through (the notes' `no_grad`). Scopes nest; recording resumes after
    /// `f`, even if it panics.
    pub fn no_record<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Resume<'a>(&'a Cell<bool>, bool);
        impl Drop for Resume<'_> {
            fn drop(&mut self) {
                self.0.set(self.1);
            }
        }
        let _resume = Resume(&self.recording, self.recording.replace(false));
        f()
    }

    /// Whether operations are being recorded (false inside [`Tape::no_record`]).
    pub fn is_recording(&self) -> bool {
        self.recording.get()
    }

    /// Sets every gradient on the tape to zero: the leaves' accumulated ones and the last
    /// pass's gradients of operations.
    pub fn zero_grad(&self) {
        let mut arena = self.arena.borrow_mut();
        arena.grads.iter_mut().for_each(|g| *g = T::ZERO);
    }

    /// The number of nodes on the tape.
    pub fn len(&self) -> usize {
        self.arena.borrow().nodes.len()
    }

    /// Whether the tape holds no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every node, keeping the arena's memory for the next graph. It takes `&mut
    /// self`, so no handle into the old graph can outlive it.
    pub fn clear(&mut self) {
        let arena = self.arena.get_mut();
        arena.nodes.clear();
        arena.values.clear();
        arena.grads.clear();
        arena.stacked.clear();
        arena.names.clear();
    }

    /// The bytes the arena holds now: its nodes, values, gradients and stacked inputs (not
    /// names).
    pub fn memory_bytes(&self) -> usize {
        let arena = self.arena.borrow();
        arena.nodes.capacity() * core::mem::size_of::<Node<T>>()
            + (arena.values.capacity() + arena.grads.capacity()) * core::mem::size_of::<T>()
            + arena.stacked.capacity() * core::mem::size_of::<u32>()
    }

    /// The bytes one float operation takes on the tape: its node, its value and its gradient.
    pub const BYTES_PER_SCALAR_NODE: usize =
        core::mem::size_of::<Node<T>>() + 2 * core::mem::size_of::<T>();

    /// The nodes `output` depends on that take a gradient, each after every node it reads
    /// (inputs first, `output` last): the order in which the forward pass could have run
    /// them, and the reverse of the order in which `backward` runs their rules. Found by
    /// depth-first search with an explicit stack; `backward` itself needs no search, since
    /// the arena's own order is topological.
    pub fn topological_order(&self, output: NodeId) -> Vec<NodeId> {
        let arena = self.arena.borrow();
        arena
            .topological_order(output.0)
            .into_iter()
            .map(NodeId)
            .collect()
    }

    fn kind_of_result(&self, any_input_needs_grad: bool) -> NodeKind {
        if any_input_needs_grad && self.recording.get() {
            NodeKind::BackwardFunction
        } else {
            NodeKind::Constant
        }
    }

    fn leaf(&self, values: &[T], kind: NodeKind) -> NodeId {
        let mut arena = self.arena.borrow_mut();
        let start = arena.values.len();
        arena.values.extend_from_slice(values);
        arena.push_node(Op::Leaf, kind, [0; 3], start, values.len())
    }

    /// Records `op` of `inputs`, whose result has `len` elements, computing its value.
    fn record(&self, op: Op<T>, inputs: &[NodeId], len: usize) -> NodeId {
        debug_assert_eq!(inputs.len(), op.arity());
        let mut arena = self.arena.borrow_mut();
        let mut ids = [0; 3];
        let mut any_needs_grad = false;
        for (slot, input) in ids.iter_mut().zip(inputs) {
            *slot = input.0;
            any_needs_grad |= arena.nodes[input.index()].kind != NodeKind::Constant;
        }
        let kind = self.kind_of_result(any_needs_grad);
        let start = arena.values.len();
        // One float from floats: computed in place, without the element loop.
        if len == 1 {
            let at = |k: usize| {
                let node = &arena.nodes[ids[k] as usize];
                (node.len == 1).then(|| arena.values[node.start as usize])
            };
            let value = match op {
                Op::Unary(unary) => at(0).map(|x| unary.value(x)),
                Op::Binary(binary) => at(0).zip(at(1)).map(|(a, b)| binary.value(a, b)),
                _ => None,
            };
            if let Some(value) = value {
                arena.values.push(value);
                return arena.push_node(op, kind, ids, start, len);
            }
        }
        arena.values.resize(start + len, T::ZERO);
        let Arena { nodes, values, .. } = &mut *arena;
        let (earlier, out) = values.split_at_mut(start);
        let mut operands: [&[T]; 3] = [&[]; 3];
        for (operand, &id) in operands.iter_mut().zip(&ids[..inputs.len()]) {
            *operand = &earlier[nodes[id as usize].range()];
        }
        forward(op, &operands, out);
        arena.push_node(op, kind, ids, start, len)
    }

    /// Adds `upstream` (shaped as `output`) into `output`'s gradient and sends it back to
    /// every node `output` depends on. The gradients of operations are those of this pass
    /// (set to zero when the pass first reaches them); the leaves' accumulate.
    ///
    /// The arena's order is topological already (a node reads only nodes made before it), so
    /// the pass walks it downwards from `output`, running the rule of each node it has
    /// reached; [`Tape::topological_order`] gives the same order explicitly, at the cost of a
    /// search.
    fn backward_from(&self, output: NodeId, upstream: &[T]) {
        let mut arena = self.arena.borrow_mut();
        let arena = &mut *arena;
        let output_node = arena.nodes[output.index()];
        assert_eq!(
            upstream.len(),
            output_node.len as usize,
            "`backward_with` needs one upstream value per element of the output"
        );
        // Gradients are kept only from the first pass on, for every node made by then.
        let values_len = arena.values.len();
        arena.grads.resize(values_len, T::ZERO);
        if output_node.kind == NodeKind::Constant {
            // Nothing takes a constant's gradient.
            return;
        }
        let mut reached = core::mem::take(&mut arena.reached);
        reached.clear();
        reached.resize(output.index() + 1, false);
        reached[output.index()] = true;
        if output_node.kind == NodeKind::BackwardFunction {
            arena.grads[output_node.range()].fill(T::ZERO);
        }
        for (g, &u) in arena.grads[output_node.range()].iter_mut().zip(upstream) {
            *g += u;
        }
        let mut scratch = core::mem::take(&mut arena.scratch);
        for id in (0..=output.0).rev() {
            if !reached[id as usize] || arena.nodes[id as usize].kind != NodeKind::BackwardFunction
            {
                continue;
            }
            let node = arena.nodes[id as usize];
            for &input in node.inputs_in(&arena.stacked) {
                let source = arena.nodes[input as usize];
                if source.kind != NodeKind::Constant && !reached[input as usize] {
                    reached[input as usize] = true;
                    if source.kind == NodeKind::BackwardFunction {
                        arena.grads[source.range()].fill(T::ZERO);
                    }
                }
            }
            arena.propagate(id, &mut scratch);
        }
        arena.reached = reached;
        arena.scratch = scratch;
    }

    fn value(&self, id: NodeId) -> T {
        let arena = self.arena.borrow();
        arena.values[arena.nodes[id.index()].start as usize]
    }

    fn values(&self, id: NodeId) -> Vec<T> {
        let arena = self.arena.borrow();
        arena.values[arena.nodes[id.index()].range()].to_vec()
    }

    fn grad(&self, id: NodeId) -> T {
        let arena = self.arena.borrow();
        let start = arena.nodes[id.index()].start as usize;
        arena.grads.get(start).copied().unwrap_or(T::ZERO)
    }

    fn grads(&self, id: NodeId) -> Vec<T> {
        let arena = self.arena.borrow();
        arena.nodes[id.index()]
            .range()
            .map(|i| arena.grads.get(i).copied().unwrap_or(T::ZERO))
            .collect()
    }

    fn kind(&self, id: NodeId) -> NodeKind {
        self.arena.borrow().nodes[id.index()].kind
    }

    fn len_of(&self, id: NodeId) -> usize {
        self.arena.borrow().nodes[id.index()].len as usize
    }

    fn set_name(&self, id: NodeId, name: &str) {
        self.arena.borrow_mut().names.insert(id.0, name.into());
    }
}

impl<T: Float> Arena<T> {
    fn push_node(
        &mut self,
        op: Op<T>,
        kind: NodeKind,
        inputs: [u32; 3],
        start: usize,
        len: usize,
    ) -> NodeId {
        let id = NodeId(index32(self.nodes.len()));
        self.nodes.push(Node {
            op,
            kind,
            inputs,
            start: index32(start),
            len: index32(len),
        });
        id
    }

    /// The inputs of node `id`.
    fn inputs(&self, id: u32) -> &[u32] {
        self.nodes[id as usize].inputs_in(&self.stacked)
    }

    fn topological_order(&self, output: u32) -> Vec<u32> {
        let mut order = Vec::new();
        if self.nodes[output as usize].kind == NodeKind::Constant {
            return order;
        }
        let mut visited = vec![false; self.nodes.len()];
        // Each entry is a node and the index of the next input to visit.
        let mut stack = vec![(output, 0usize)];
        visited[output as usize] = true;
        while let Some((id, next)) = stack.last_mut() {
            match self.inputs(*id).get(*next).copied() {
                Some(input) => {
                    *next += 1;
                    let input_needs_grad = self.nodes[input as usize].kind != NodeKind::Constant;
                    if input_needs_grad && !visited[input as usize] {
                        visited[input as usize] = true;
                        stack.push((input, 0));
                    }
                }
                None => {
                    order.push(*id);
                    stack.pop();
                }
            }
        }
        order
    }

    /// Sends node `id`'s gradient to its inputs that take one, through the operation's rule.
    fn propagate(&mut self, id: u32, scratch: &mut Vec<T>) {
        let node = self.nodes[id as usize];
        if node.kind != NodeKind::BackwardFunction {
            return;
        }
        // Most nodes hold one float: their rule without the element loop's indexing.
        if node.len == 1 {
            let at = |k: usize| self.nodes[node.inputs[k] as usize];
            let (out, upstream) = (
                self.values[node.start as usize],
                self.grads[node.start as usize],
            );
            match node.op {
                Op::Unary(unary) => {
                    let x = at(0);
                    if x.kind != NodeKind::Constant {
                        let d = unary.pullback(self.values[x.start as usize], out, upstream);
                        self.grads[x.start as usize] += d;
                    }
                    return;
                }
                Op::Binary(binary) => {
                    // An output of one element has operands of one element.
                    let (a, b) = (at(0), at(1));
                    let (av, bv) = (self.values[a.start as usize], self.values[b.start as usize]);
                    let (da, db) = binary.pullback(av, bv, out, upstream);
                    if a.kind != NodeKind::Constant {
                        self.grads[a.start as usize] += da;
                    }
                    if b.kind != NodeKind::Constant {
                        self.grads[b.start as usize] += db;
                    }
                    return;
                }
                _ => {}
            }
        }
        let Arena {
            nodes,
            values,
            grads,
            stacked,
            ..
        } = self;
        let start = node.start as usize;
        // Inputs were made before the node, so their gradients lie before its own.
        let (input_grads, own) = grads.split_at_mut(start);
        let upstream = &own[..node.len as usize];
        let out = &values[node.range()];
        let input_node = |k: usize| nodes[node.inputs[k] as usize];
        let takes_grad = |k: usize| input_node(k).kind != NodeKind::Constant;
        let value_of = |k: usize| &values[input_node(k).range()];
        match node.op {
            Op::Leaf => {}
            Op::Unary(unary) => {
                if takes_grad(0) {
                    let x = value_of(0);
                    let gx = &mut input_grads[input_node(0).range()];
                    for i in 0..upstream.len() {
                        gx[i] += unary.pullback(x[i], out[i], upstream[i]);
                    }
                }
            }
            Op::Binary(binary) => {
                let (a, b) = (value_of(0), value_of(1));
                let (ra, rb) = (input_node(0).range(), input_node(1).range());
                let (ta, tb) = (takes_grad(0), takes_grad(1));
                for i in 0..upstream.len() {
                    let (ia, ib) = (broadcast(a.len(), i), broadcast(b.len(), i));
                    let (da, db) = binary.pullback(a[ia], b[ib], out[i], upstream[i]);
                    if ta {
                        input_grads[ra.start + ia] += da;
                    }
                    if tb {
                        input_grads[rb.start + ib] += db;
                    }
                }
            }
            Op::Ternary(ternary) => {
                let (x, a, b) = (value_of(0), value_of(1), value_of(2));
                let ranges = [
                    input_node(0).range(),
                    input_node(1).range(),
                    input_node(2).range(),
                ];
                let takes = [takes_grad(0), takes_grad(1), takes_grad(2)];
                for i in 0..upstream.len() {
                    let at = [
                        broadcast(x.len(), i),
                        broadcast(a.len(), i),
                        broadcast(b.len(), i),
                    ];
                    let (dx, da, db) =
                        ternary.pullback(x[at[0]], a[at[1]], b[at[2]], out[i], upstream[i]);
                    for (k, d) in [dx, da, db].into_iter().enumerate() {
                        if takes[k] {
                            input_grads[ranges[k].start + at[k]] += d;
                        }
                    }
                }
            }
            Op::Sum => {
                let u = upstream[0];
                input_grads[input_node(0).range()]
                    .iter_mut()
                    .for_each(|g| *g += u);
            }
            Op::NormSq => {
                let u = upstream[0];
                let x = value_of(0);
                let gx = &mut input_grads[input_node(0).range()];
                for (g, &xi) in gx.iter_mut().zip(x) {
                    *g += u * (T::TWO * xi);
                }
            }
            Op::Dot => {
                let u = upstream[0];
                let (a, b) = (value_of(0), value_of(1));
                for (k, other) in [(0, b), (1, a)] {
                    if takes_grad(k) {
                        let g = &mut input_grads[input_node(k).range()];
                        for (g, &o) in g.iter_mut().zip(other) {
                            *g += u * o;
                        }
                    }
                }
            }
            Op::Softmax => {
                // s ⊙ (u - ⟨s, u⟩) from the output s, as `grad::softmax_jvp`: the Jacobian is
                // symmetric and never built.
                let mean = out
                    .iter()
                    .zip(upstream)
                    .fold(T::ZERO, |acc, (&s, &u)| acc + s * u);
                let gz = &mut input_grads[input_node(0).range()];
                for i in 0..out.len() {
                    gz[i] += out[i] * (upstream[i] - mean);
                }
            }
            Op::LogSumExp => {
                // softmax(z) · u, the softmax from the shared kernel, as `grad::log_sum_exp_vjp`.
                let z = value_of(0);
                scratch.clear();
                scratch.resize(z.len(), T::ZERO);
                crate::vector::softmax_into(z, scratch);
                let u = upstream[0];
                let gz = &mut input_grads[input_node(0).range()];
                for (g, &s) in gz.iter_mut().zip(scratch.iter()) {
                    *g += u * s;
                }
            }
            Op::MatVec { cols: 0 } => {}
            Op::MatVec { cols } => {
                let cols = cols as usize;
                let (w, x) = (value_of(0), value_of(1));
                if takes_grad(0) {
                    let gw = &mut input_grads[input_node(0).range()];
                    for (row, &u) in gw.chunks_exact_mut(cols).zip(upstream) {
                        for (g, &xj) in row.iter_mut().zip(x) {
                            *g += u * xj;
                        }
                    }
                }
                if takes_grad(1) {
                    let gx = &mut input_grads[input_node(1).range()];
                    for (row, &u) in w.chunks_exact(cols).zip(upstream) {
                        for (g, &wij) in gx.iter_mut().zip(row) {
                            *g += wij * u;
                        }
                    }
                }
            }
            Op::Index(i) => {
                input_grads[input_node(0).start as usize + i as usize] += upstream[0];
            }
            Op::Stack { first } => {
                for (k, &u) in upstream.iter().enumerate() {
                    let source = nodes[stacked[first as usize + k] as usize];
                    if source.kind != NodeKind::Constant {
                        input_grads[source.start as usize] += u;
                    }
                }
            }
        }
    }
}

/// The value of `op` of its inputs' values (`input(k)`), written into `out`.
fn forward<T: Float>(op: Op<T>, operands: &[&[T]; 3], out: &mut [T]) {
    let input = |k: usize| operands[k];
    match op {
        Op::Leaf | Op::Stack { .. } => unreachable!("leaves and stacks are not computed"),
        Op::Unary(unary) => {
            for (o, &x) in out.iter_mut().zip(input(0)) {
                *o = unary.value(x);
            }
        }
        Op::Binary(binary) => {
            let (a, b) = (input(0), input(1));
            for (i, o) in out.iter_mut().enumerate() {
                *o = binary.value(a[broadcast(a.len(), i)], b[broadcast(b.len(), i)]);
            }
        }
        Op::Ternary(ternary) => {
            let (x, a, b) = (input(0), input(1), input(2));
            for (i, o) in out.iter_mut().enumerate() {
                *o = ternary.value(
                    x[broadcast(x.len(), i)],
                    a[broadcast(a.len(), i)],
                    b[broadcast(b.len(), i)],
                );
            }
        }
        Op::Sum => out[0] = input(0).iter().fold(T::ZERO, |acc, &x| acc + x),
        Op::NormSq => out[0] = input(0).iter().fold(T::ZERO, |acc, &x| acc + x * x),
        Op::Dot => {
            out[0] = input(0)
                .iter()
                .zip(input(1))
                .fold(T::ZERO, |acc, (&a, &b)| acc + a * b);
        }
        Op::Softmax => crate::vector::softmax_into(input(0), out),
        Op::LogSumExp => out[0] = crate::vector::log_sum_exp_of(input(0)),
        // A matrix without columns gives zeros (and `chunks_exact` needs a size).
        Op::MatVec { cols: 0 } => out.fill(T::ZERO),
        Op::MatVec { cols } => {
            let x = input(1);
            for (o, row) in out.iter_mut().zip(input(0).chunks_exact(cols as usize)) {
                *o = row
                    .iter()
                    .zip(x)
                    .fold(T::ZERO, |acc, (&w, &xj)| acc + w * xj);
            }
        }
        Op::Index(i) => out[0] = input(0)[i as usize],
    }
}

/// The element of an operand of `len` elements that element `i` of the result reads: a
/// scalar is broadcast.
#[inline]
fn broadcast(len: usize, i: usize) -> usize {
    if len == 1 { 0 } else { i }
}

#[inline]
fn index32(n: usize) -> u32 {
    u32::try_from(n).expect("a tape holds at most 2³² - 1 nodes and values")
}
