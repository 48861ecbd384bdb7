//! The expression graph: SSA nodes, arranged in structured regions.
//!
//! Every node is defined once. A user's `let mut x` that is reassigned becomes several nodes,
//! one per assignment. Straight-line code is a list of node definitions in evaluation order;
//! `if` and loops are statements holding nested blocks. Values flow out of an `if` through
//! merge nodes (SSA phis) and around a loop through carried variables: an entry node at the
//! top of the body, the value at the end of the body, and an exit node after the loop.

pub use crate::ids::{ArrayId, RegionId, ValueId};
pub use crate::rules::BinaryOp;
use crate::rules::MethodRule;
pub use crate::types::{FloatTy, Len, Ty, unify};
use proc_macro2::{Ident, Span, TokenStream};
use std::collections::{HashMap, HashSet};

/// An array variable. Arrays are not SSA values: generated code keeps each in one mutable
/// local and writes its elements in place, so filling an array costs what it costs by hand.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub struct Array {
    pub ty: Ty,
    pub init: ArrayInit,
    pub region: RegionId,
    pub span: Span,
    /// Whether it holds values that depend on a differentiated parameter.
    pub active: bool,
    /// Whether its elements are assigned after it is declared.
    pub written: bool,
    /// Nodes created before the declaration have smaller ids: program order (for an array
    /// returned by a call, the call's place).
    pub seq: usize,
}

#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub enum ArrayInit {
    /// A parameter, named by the user's identifier; `index` is the parameter's position.
    /// With a `field` path, the array field `p.w` of a struct parameter `p` (its gradient
    /// entry's field of the same path holds its adjoint); never written.
    Param {
        ident: Ident,
        index: usize,
        field: Vec<syn::Member>,
    },
    /// `[a, b, c]`
    Literal(Vec<ValueId>),
    /// `[[a, b], [c, d]]`
    Literal2(Vec<Vec<ValueId>>),
    /// `[v; N]` or `[[v; N]; M]`: every element is `value`.
    Repeat { value: ValueId },
    /// `let b = a;`
    Copy(ArrayId),
    /// `w[i]` of a matrix `w`.
    Row { source: ArrayId, index: ValueId },
    /// The array a function returns (`softmax(z)`, `matvec(w, x)`), or, `tuple`, the tuple of
    /// floats it returns (`let (a, b) = g(x);`), held as an array of them: the call's value
    /// is spread into one (`[t.0, t.1]`) and its `_vjp` takes a tuple upstream.
    Call {
        path: syn::Path,
        args: Vec<CallArg>,
        tuple: bool,
    },
    /// A sub-slice read in place (`&x[a..b]`, a window, a chunk, a row of a `&[Vec<f64>]`):
    /// element `i` is `source[prefix..][start + i]`. Lowering reads and writes through it to
    /// `source` itself, so a view has no declaration, no adjoint and no writes of its own;
    /// only a call it is passed to sees it whole (`&x[start..end]`, and the callee's entry is
    /// added to the source's adjoint there). `source` is never a view.
    View {
        source: ArrayId,
        /// Indices into `source` before the sliced dimension (a row of a `&[Vec<f64>]`).
        prefix: Vec<ValueId>,
        start: ValueId,
        /// `None`: to the end of the source.
        end: Option<ValueId>,
        /// The number of elements, an integer node.
        len: ValueId,
    },
    /// A `Vec` of `len` copies of `value` on the heap: the start of a collected iterator
    /// (`let y: Vec<f64> = x.iter().map(..).collect();`), whose elements are then written.
    Heap { value: ValueId, len: ValueId },
}

/// An argument of a call: a scalar node or a whole array.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum CallArg {
    /// The `self` of a method call (`self.helper(x)`), always the first argument: the call
    /// is spelled as a method call (`self.helper_vjp(x, ..)`), so that rustc borrows or
    /// copies `self` as the callee takes it. Constant: it has no entry.
    Receiver(ValueId),
    Scalar(ValueId),
    /// A float passed by reference, written `&x` (to `g(x: &f64)`).
    Borrowed(ValueId),
    /// An array, passed as it is or, written `&a`, by reference.
    Array {
        array: ArrayId,
        by_reference: bool,
    },
}

/// The number of elements of a call's tuple, held as an array of that length.
pub fn tuple_len(ty: &Ty) -> usize {
    match ty {
        Ty::Array(_, len) => len.0.to_string().parse().unwrap_or(0),
        _ => 0,
    }
}

/// A callee as the user wrote it, for messages: `g`, `fns::g`, or `self.g` for a method.
pub fn callee_as_written(path: &syn::Path, args: &[CallArg]) -> String {
    match (args.first(), path.segments.last()) {
        (Some(CallArg::Receiver(_)), Some(method)) => format!("self.{}", method.ident),
        _ => crate::diagnostics::spelled(path),
    }
}

/// The scalar nodes among a call's arguments.
pub fn scalar_args(args: &[CallArg]) -> Vec<ValueId> {
    args.iter()
        .filter_map(|a| match a {
            CallArg::Scalar(id) | CallArg::Borrowed(id) | CallArg::Receiver(id) => Some(*id),
            CallArg::Array { .. } => None,
        })
        .collect()
}

/// `array[indices] = value`.
#[cfg_attr(test, derive(Debug))]
pub struct ArrayWrite {
    pub array: ArrayId,
    pub indices: Vec<ValueId>,
    pub value: ValueId,
    pub span: Span,
}

/// How the user wrote a float method call, so the forward sweep writes it the same way and
/// `f_value_and_grad` returns exactly what `f` returns.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub enum CallStyle {
    /// `x.sin()`
    Method,
    /// `f64::sin(x)`: the path as written.
    Path(syn::Path),
}

#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub enum Op {
    /// The function's parameter, named by the user's identifier. A float taken by reference
    /// (`x: &f64`) is read as the float (see `companions.rs`); `by_reference` says where
    /// the function passes it on as the reference it is.
    Param {
        ident: Ident,
        by_reference: bool,
    },
    /// A float field of a differentiated struct parameter (`p.b`, `self.inner.k`): `param`
    /// is the parameter's node, `path` the fields. Its adjoint is added to the same field of
    /// the parameter's gradient entry.
    Field {
        param: ValueId,
        path: Vec<syn::Member>,
    },
    /// A literal or constant path, emitted verbatim where it is used.
    Constant(TokenStream),
    /// The value of a path that exited, where a merge still needs one; it is never read.
    /// Spelled as the zero of the type analysis gives it (`0.0_f64`, `T::zero()`), so that
    /// generic code needs no `Default` from `T`.
    Placeholder,
    /// A slice's `.len()`, emitted verbatim where it is used: inactive like a constant, but
    /// known only at run time, so it cannot size a fixed tape.
    Length(TokenStream),
    Neg(ValueId),
    Binary {
        op: BinaryOp,
        token: syn::BinOp,
        lhs: ValueId,
        rhs: ValueId,
    },
    Cast {
        value: ValueId,
        to: syn::Type,
    },
    /// A float method with a rule in `rules.rs`; `args[0]` is the receiver.
    FloatMethod {
        rule: &'static MethodRule,
        method: Ident,
        style: CallStyle,
        args: Vec<ValueId>,
    },
    /// A call of another function; its derivative comes from `path_vjp`.
    Call {
        path: syn::Path,
        args: Vec<CallArg>,
    },
    /// Anything on inactive values that needs no derivative: `n.pow(2)`, `cfg.scale`,
    /// `*r`, `!b`.
    Inactive {
        template: InactiveExpr,
        args: Vec<ValueId>,
    },
    /// A value bound with a type: a constant (`let c: f32 = 0.1;`), whose type must reach
    /// the code since the literal alone would be inferred differently; a value grad reads as
    /// a type rustc then confirms (`T::zero()`); the float `*x` of a parameter `x: &f64`.
    /// Its derivative is the identity.
    Annotated {
        value: ValueId,
        ty: syn::Type,
    },
    /// The value of a variable after an `if`, from whichever branch ran.
    Merge,
    /// A carried variable at the top of a loop body.
    LoopEntry,
    /// A carried variable after its loop.
    LoopExit,
    /// The counter of a `for` loop over a range.
    LoopCounter,
    /// `array[indices]`: one element.
    ArrayRead {
        array: ArrayId,
        indices: Vec<ValueId>,
    },
    /// A macro call as written (`assert!(x > 0.0)`, `println!("{s}")`, `matches!(m, A)`),
    /// run by the forward sweep where the function runs it, and never again: the locals it
    /// mentions are bound to their values just before it. An effect (`value` false) runs
    /// whether or not anything reads it; a macro with a value is a constant.
    Macro {
        tokens: TokenStream,
        mentions: Vec<(Ident, Mention)>,
        value: bool,
    },
}

/// A local a macro mentions, by what the function holds for it there.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub enum Mention {
    Scalar(ValueId),
    Array(ArrayId),
    Tuple(Vec<Mention>),
}

impl Mention {
    fn scalars(&self, out: &mut Vec<ValueId>) {
        match self {
            Mention::Scalar(id) => out.push(*id),
            Mention::Array(_) => {}
            Mention::Tuple(parts) => parts.iter().for_each(|p| p.scalars(out)),
        }
    }
}

/// The non-differentiable expressions the graph keeps, by shape.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub enum InactiveExpr {
    Method {
        method: Ident,
        turbofish: Option<syn::AngleBracketedGenericArguments>,
    },
    Field(syn::Member),
    Deref,
    Reference,
    Not,
    /// `match value { pattern => true, _ => false }`: a `match` arm whose pattern only rustc
    /// can resolve (`A` may name a `const` or bind a new variable).
    Matches(syn::Pat),
    /// `value[i][j]..`, on a constant whose type only rustc knows; the indices follow the
    /// value in the arguments.
    Index,
    /// `p[i].len()`: the length of a row of the array `p` (a `&[Vec<f64>]`), the indices
    /// in the arguments.
    RowLen(ArrayId),
    /// `a.partial_cmp(&b)` or `a.total_cmp(&b)` of floats: an ordering, which only decides
    /// which way the code goes (`max_by`'s comparator), so it needs no derivative.
    Compare(Ident),
    /// `match value { pattern => name, _ => unreachable!() }`: a name that a pattern of data
    /// (`Some(t)`, `Constraint::Lower(i, lo)`) binds, read where the pattern is known to
    /// match. A name that is a `const` reads the constant, which is what it matched.
    Binding {
        pattern: syn::Pat,
        name: Ident,
    },
}

#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub struct Node {
    pub op: Op,
    pub ty: Ty,
    /// True when the node is a float that depends on a differentiated parameter.
    pub active: bool,
    /// The user's code this node came from, for error spans on generated code.
    pub span: Span,
    /// The block that defines the node.
    pub region: RegionId,
}

impl Node {
    /// The nodes this node reads, in argument order. Merges, loop entries and exits read
    /// through the statement that defines them instead.
    pub fn args(&self) -> Vec<ValueId> {
        match &self.op {
            Op::Param { .. }
            | Op::Constant(_)
            | Op::Placeholder
            | Op::Length(_)
            | Op::Merge
            | Op::LoopEntry
            | Op::LoopExit
            | Op::LoopCounter => Vec::new(),
            Op::Neg(a) | Op::Annotated { value: a, .. } | Op::Field { param: a, .. } => vec![*a],
            Op::Binary { lhs, rhs, .. } => vec![*lhs, *rhs],
            Op::Cast { value, .. } => vec![*value],
            Op::FloatMethod { args, .. } | Op::Inactive { args, .. } => args.clone(),
            Op::Call { args, .. } => scalar_args(args),
            Op::ArrayRead { indices, .. } => indices.clone(),
            Op::Macro { mentions, .. } => {
                let mut out = Vec::new();
                mentions.iter().for_each(|(_, m)| m.scalars(&mut out));
                out
            }
        }
    }
}

/// A sequence of statements, the body of a function, branch or loop.
#[cfg_attr(test, derive(Debug))]
pub struct Block {
    pub region: RegionId,
    pub stmts: Vec<Stmt>,
}

impl Block {
    /// Whether any statement of the block, or of a block nested in it, satisfies `test`.
    pub fn any_nested(&self, test: &dyn Fn(&Stmt) -> bool) -> bool {
        self.stmts.iter().any(|stmt| stmt.any_nested(test))
    }

    /// Whether the block, nested blocks included, writes an element of an array `wanted`
    /// picks.
    pub fn writes_array(&self, wanted: &dyn Fn(ArrayId) -> bool) -> bool {
        self.stmts.iter().any(|stmt| stmt.writes_array(wanted))
    }

    /// Every value the block's statements read, once per operand that reads it, nested blocks
    /// included: node arguments, array elements and indices, conditions, merges, loop bounds,
    /// carried values.
    pub fn reads(&self, graph: &Graph, out: &mut Vec<ValueId>) {
        for stmt in &self.stmts {
            match stmt {
                Stmt::Node(id) => out.extend(graph.node_args(*id)),
                Stmt::ArrayDecl(id) => match &graph.array(*id).init {
                    ArrayInit::Param { .. } | ArrayInit::Copy(_) => {}
                    ArrayInit::Literal(values) => out.extend(values),
                    ArrayInit::Literal2(rows) => out.extend(rows.iter().flatten()),
                    ArrayInit::Repeat { value } => out.push(*value),
                    ArrayInit::Row { index, .. } => out.push(*index),
                    ArrayInit::Call { args, .. } => out.extend(graph.call_reads(args)),
                    ArrayInit::View { .. } => {}
                    ArrayInit::Heap { value, len } => out.extend([*value, *len]),
                },
                Stmt::ArrayWrite(write) => {
                    out.extend(&write.indices);
                    out.push(write.value);
                }
                Stmt::If(branch) => {
                    out.push(branch.cond);
                    for merge in &branch.merges {
                        out.extend([merge.then_value, merge.else_value]);
                    }
                    branch.then_block.reads(graph, out);
                    branch.else_block.reads(graph, out);
                }
                Stmt::Loop(l) => {
                    if let LoopHeader::Range {
                        start, end, step, ..
                    } = &l.header
                    {
                        out.extend([*start, *end]);
                        out.extend(*step);
                    }
                    for carried in &l.carried {
                        out.extend([carried.init, carried.next]);
                    }
                    out.extend(l.stop);
                    l.body.reads(graph, out);
                }
            }
        }
    }
}

#[cfg_attr(test, derive(Debug))]
pub enum Stmt {
    Node(ValueId),
    /// Declares an array and gives it its initial elements.
    ArrayDecl(ArrayId),
    ArrayWrite(ArrayWrite),
    If(Box<If>),
    Loop(Box<Loop>),
}

impl Stmt {
    /// Whether the statement, or one in a block nested in it, satisfies `test`.
    pub fn any_nested(&self, test: &dyn Fn(&Stmt) -> bool) -> bool {
        test(self)
            || match self {
                Stmt::If(branch) => {
                    branch.then_block.any_nested(test) || branch.else_block.any_nested(test)
                }
                Stmt::Loop(l) => l.body.any_nested(test),
                Stmt::Node(_) | Stmt::ArrayDecl(_) | Stmt::ArrayWrite(_) => false,
            }
    }

    /// Whether the statement, nested blocks included, writes an element of an array `wanted`
    /// picks.
    pub fn writes_array(&self, wanted: &dyn Fn(ArrayId) -> bool) -> bool {
        self.any_nested(&|stmt| matches!(stmt, Stmt::ArrayWrite(write) if wanted(write.array)))
    }
}

#[cfg_attr(test, derive(Debug))]
pub struct If {
    pub cond: ValueId,
    pub then_block: Block,
    pub else_block: Block,
    pub merges: Vec<Merge>,
    pub span: Span,
}

/// `out` is `then_value` when the `then` branch ran and `else_value` otherwise.
#[cfg_attr(test, derive(Debug))]
pub struct Merge {
    pub out: ValueId,
    pub then_value: ValueId,
    pub else_value: ValueId,
}

#[cfg_attr(test, derive(Debug))]
pub struct Loop {
    /// Distinguishes the loop's tape and counters in generated code.
    pub id: usize,
    pub header: LoopHeader,
    pub carried: Vec<Carried>,
    pub body: Block,
    /// A bool computed at the end of the body: true when the loop must stop (a `break`, a
    /// `return`, a `while` condition that failed). `None` when only the range ends it.
    pub stop: Option<ValueId>,
    pub span: Span,
}

#[cfg_attr(test, derive(Debug))]
pub enum LoopHeader {
    /// `for counter in start..end` and its `..=`, `.rev()` and `.step_by(step)` forms.
    Range {
        counter: ValueId,
        start: ValueId,
        end: ValueId,
        inclusive: bool,
        reverse: bool,
        step: Option<ValueId>,
        /// The range's bounds and step are compile-time constants.
        constant_bounds: bool,
    },
    /// `while` and `loop`: the body decides when to stop.
    Unbounded,
}

#[cfg_attr(test, derive(Debug))]
pub struct Carried {
    pub init: ValueId,
    pub entry: ValueId,
    pub next: ValueId,
    pub exit: ValueId,
}

/// Where an array element is written, for checking that reverse code reads arrays safely.
#[cfg_attr(test, derive(Debug))]
pub struct WriteRecord {
    pub array: ArrayId,
    pub region: RegionId,
    /// Nodes created before the write have smaller ids: program order.
    pub seq: usize,
}

#[derive(Default)]
#[cfg_attr(test, derive(Debug))]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub arrays: Vec<Array>,
    pub writes: Vec<WriteRecord>,
    pub loop_bodies: Vec<RegionId>,
    /// The enclosing region of each region; the function body has none.
    pub region_parents: Vec<Option<RegionId>>,
    /// For a constant computed once in a branch (a call, a macro's value, see `replay.rs`):
    /// the merge that hands its value out of the branch, so that the reverse sweep reads it
    /// instead of computing it again.
    pub exports: HashMap<ValueId, ValueId>,
    /// The merges in `exports`.
    pub export_merges: HashSet<ValueId>,
    /// Copies made by `*v` of an array taken by reference: the array's elements, where a
    /// copy `let w = v;` is the reference again.
    pub dereferenced: HashSet<ArrayId>,
}

impl Graph {
    /// The array a view reads (itself for any other array).
    pub fn view_source(&self, id: ArrayId) -> ArrayId {
        match &self.array(id).init {
            ArrayInit::View { source, .. } => *source,
            _ => id,
        }
    }

    /// The integer nodes that place a view in its source: its prefix, start and end.
    pub fn view_indices(&self, id: ArrayId) -> Vec<ValueId> {
        match &self.array(id).init {
            ArrayInit::View {
                prefix, start, end, ..
            } => prefix.iter().copied().chain([*start]).chain(*end).collect(),
            _ => Vec::new(),
        }
    }

    /// The nodes a call's arguments read: its scalars, and where the views it is passed lie.
    pub fn call_reads(&self, args: &[CallArg]) -> Vec<ValueId> {
        let mut reads = scalar_args(args);
        for arg in args {
            if let CallArg::Array { array, .. } = arg {
                reads.extend(self.view_indices(*array));
            }
        }
        reads
    }

    /// The nodes a node reads (`Node::args`), with the bounds of the views a call is passed.
    pub fn node_args(&self, id: ValueId) -> Vec<ValueId> {
        match &self.node(id).op {
            Op::Call { args, .. } => self.call_reads(args),
            _ => self.node(id).args(),
        }
    }

    pub fn push(&mut self, node: Node) -> ValueId {
        self.nodes.push(node);
        ValueId(self.nodes.len() - 1)
    }

    pub fn node(&self, id: ValueId) -> &Node {
        &self.nodes[id.0]
    }

    pub fn node_mut(&mut self, id: ValueId) -> &mut Node {
        &mut self.nodes[id.0]
    }

    pub fn array(&self, id: ArrayId) -> &Array {
        &self.arrays[id.0]
    }

    pub fn new_region(&mut self, parent: Option<RegionId>) -> RegionId {
        self.region_parents.push(parent);
        RegionId(self.region_parents.len() - 1)
    }

    /// Whether `inner` is `outer` or nested in it.
    pub fn region_within(&self, inner: RegionId, outer: RegionId) -> bool {
        let mut region = Some(inner);
        while let Some(r) = region {
            if r == outer {
                return true;
            }
            region = self.region_parents[r.0];
        }
        false
    }
}

/// What the function returns: a float, or an array of floats.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub enum Output {
    Scalar(ValueId),
    Array(ArrayId),
    /// A tuple of floats: a vector output.
    Tuple(Vec<ValueId>),
    /// A struct literal of floats, `Point { x: a, y: b }`, the function's value: a vector
    /// output whose upstream is a value of the struct.
    Struct {
        path: syn::Path,
        members: Vec<syn::Member>,
        values: Vec<ValueId>,
    },
    /// A nalgebra matrix, the function's value, as its rows: a vector output whose upstream
    /// is a matrix of the same shape (the core's `[[T; C]; R]`).
    Rows(Vec<Vec<ValueId>>),
}

impl Output {
    /// The values the function returns (none for an array, whose elements are written).
    pub fn values(&self) -> Vec<ValueId> {
        match self {
            Output::Scalar(value) => vec![*value],
            Output::Array(_) => Vec::new(),
            Output::Tuple(values) | Output::Struct { values, .. } => values.clone(),
            Output::Rows(rows) => rows.iter().flatten().copied().collect(),
        }
    }
}

/// What lowering produces: the graph of the body, its structured statements and its output.
pub struct Lowered {
    pub graph: Graph,
    pub body: Block,
    pub output: Output,
    /// `const` and `use` items of the body, copied into the generated function.
    pub items: Vec<syn::Item>,
}

impl Lowered {
    /// The type of the function's value, after analysis: a float, an array of floats or
    /// (for a tuple) `Ty::Other`.
    pub fn output_ty(&self) -> Ty {
        match &self.output {
            Output::Scalar(id) => self.graph.node(*id).ty.clone(),
            Output::Array(id) => self.graph.array(*id).ty.clone(),
            Output::Tuple(_) | Output::Struct { .. } | Output::Rows(_) => Ty::Other,
        }
    }
}

/// The graph of a body that had errors: no code is generated from it, but it still tells
/// which functions the body calls with differentiated values.
pub struct Unfinished {
    pub graph: Graph,
    pub body: Block,
}

/// Whether a pattern destructures data (an enum variant with fields, a struct, a tuple, a
/// reference, a slice) rather than testing a scalar.
pub fn pattern_holds_data(pattern: &syn::Pat) -> bool {
    use syn::Pat;
    match pattern {
        Pat::TupleStruct(_)
        | Pat::Struct(_)
        | Pat::Tuple(_)
        | Pat::Reference(_)
        | Pat::Slice(_) => true,
        Pat::Paren(inner) => pattern_holds_data(&inner.pat),
        Pat::Or(or) => or.cases.iter().any(pattern_holds_data),
        Pat::Ident(ident) => ident
            .subpat
            .as_ref()
            .is_some_and(|(_, sub)| pattern_holds_data(sub)),
        _ => false,
    }
}

/// A path that by Rust's naming convention builds data rather than calling a function: an
/// enum variant or tuple struct (`Some`, `Constraint::Lower`, `Point`). A function named
/// against the convention is then reported, never differentiated as data.
pub fn constructs_data(path: &syn::Path) -> bool {
    path.segments
        .last()
        .and_then(|last| last.ident.to_string().chars().next())
        .is_some_and(char::is_uppercase)
}
