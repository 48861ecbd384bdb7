//! Lowering: the function body (syn) becomes the expression graph.
//!
//! Input: `let q = x + y; q * z`. Output: nodes `v0 = x, v1 = y, v2 = z, v3 = v0 + v1,
//! v4 = v3 * v2`, with `v4` the output. Local names are resolved here, so reassignment and
//! shadowing simply bind a name to a newer node.
//!
//! Control flow is structured: `if` and `match` become `If` statements whose merge nodes carry
//! the variables they change; loops become `Loop` statements whose carried variables are the
//! outer variables the body assigns. Early exits (`return`, `break`, `continue`) become flags:
//! ordinary bool variables that the exit sets, with the rest of the enclosing block lowered
//! under `if !flag`. So every exit is reversed by the same machinery as an `if`, and a loop
//! stops when its body leaves its `break` flag set.
//!
//! Every unsupported construct is reported with its span and lowered to a placeholder, so
//! that one build shows every error.
//!
//! This file holds the lowerer, its entry point, statements and `let`, and the expression
//! dispatcher with the scalar expressions (operators, literals, paths, assignment). Each
//! submodule adds the methods for one kind of syntax: `control` (`if`, `match`, branches and
//! merges, exit flags), `patterns` (the tests of `match` arms), `loops`, `calls`,
//! `closures` (closures bound to locals, inlined where they are called), `arrays`, `slices`
//! (sub-slices, read in place as views), `adaptors` (iterator adaptors and consumers that
//! `iterators.rs` does not rewrite), `items` (`const` and `use` in the body) and `linalg`
//! (nalgebra's operators, constructors and methods); `scopes` holds the variables in scope.

mod adaptors;
mod arrays;
mod calls;
mod closures;
mod control;
mod items;
mod linalg;
mod loops;
mod macros;
mod patterns;
mod scopes;
mod slices;

use crate::diagnostics::Diagnostics;
use crate::graph::{
    ArrayId, ArrayInit, BinaryOp, Block, FloatTy, Graph, InactiveExpr, Node, Op, RegionId, Stmt,
    Ty, ValueId,
};
use crate::graph::{Lowered, Output, Unfinished, pattern_holds_data, unify};
use crate::signature::{Signature, classify, ident_counts, tuple_output};
use items::bound_names;
use proc_macro2::Span;
use quote::{ToTokens, quote};
use scopes::Scopes;
use std::collections::HashMap;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Item, Lit, Pat, Stmt as SynStmt, Type, UnOp};

/// A lowered expression.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Scalar(ValueId),
    /// A tuple of values; `()` is the empty tuple.
    Tuple(Vec<Val>),
    /// The expression left the block (`return`, `break`, `continue`): it has no value.
    Never,
    /// An array variable.
    Array(ArrayId),
    /// A closure bound to a local (`let w = |x| ..;`), inlined where it is called: an index
    /// into `Lowerer::closures`.
    Closure(usize),
}

fn unit() -> Val {
    Val::Tuple(Vec::new())
}

struct LoopContext {
    id: usize,
    label: Option<String>,
    /// A `loop` can `break` with a value; `for` and `while` cannot.
    has_value: bool,
    /// A labeled block (`'a: { .. }`): left only by `break 'a`, never by a bare `break` or
    /// by `continue`.
    block: bool,
}

// Exits are variables with names no Rust identifier can have.
const RETURNED: &str = "'returned";
const RETURN_VALUE: &str = "'return value";

fn broke(id: usize) -> String {
    format!("'broke {id}")
}

fn continued(id: usize) -> String {
    format!("'continued {id}")
}

fn break_value(id: usize) -> String {
    format!("'break value {id}")
}

struct Lowerer<'a> {
    /// For each nalgebra constructor read (`Matrix3::new`), a statement that compiles only
    /// if the name is nalgebra's (`lower/linalg.rs`), gathered in one function of the core.
    linalg_checks: Vec<proc_macro2::TokenStream>,
    /// nalgebra matrices, held as their rows: nalgebra reads them by `(row, column)` and
    /// iterates them column by column, so a row index or an iteration of one is refused.
    linalg_matrices: std::collections::HashSet<ArrayId>,
    /// The array fields of differentiated struct parameters that the body indexes
    /// (`p.w[i]`), by root and path (`p.w`), each an array parameter of its own.
    struct_arrays: HashMap<String, ArrayId>,
    /// Functions of the enclosing `#[differentiable]` module that take closures, inlined
    /// where they are called (`closures::helper_call`).
    helpers: &'a [syn::ItemFn],
    graph: Graph,
    scopes: Scopes<Val>,
    /// The blocks being built, innermost last.
    blocks: Vec<Block>,
    loops: Vec<LoopContext>,
    next_loop_id: usize,
    /// How many iterator idioms were rewritten as loops, to name their variables apart.
    rewrites: usize,
    local_consts: Vec<(String, Ty)>,
    items: Vec<Item>,
    return_ty: Option<FloatTy>,
    /// The call (a `syn::ExprCall` or, `self.step(x)`, a `syn::ExprMethodCall`) that the
    /// body ends with (`fn f(..) -> [f64; 3] { g(x) }`), when the function returns an array:
    /// it returns the array type the signature gives.
    returned_call: Option<(*const (), Ty)>,
    /// The struct literal the body ends with, when the return type is a name grad cannot
    /// see into (`-> Point`): the function's value, a vector output.
    returned_struct: Option<*const syn::ExprStruct>,
    /// That literal's path and fields, once lowered.
    output_struct: Option<(syn::Path, Vec<syn::Member>)>,
    /// Parameter `i`'s written type (parameter `i` is node `i`).
    param_types: Vec<Type>,
    /// The latest read of each array element, by array and index values.
    element_reads: HashMap<(ArrayId, Vec<ValueId>), ValueId>,
    /// The pure operations computed so far, by block: the same operation on the same values
    /// again in the same block is the same node.
    pure_nodes: HashMap<(PureOp, RegionId), ValueId>,
    /// Arrays whose element type is a name grad cannot see, reported once.
    unseen_elements: std::collections::HashSet<ArrayId>,
    /// The items of the blocks begun so far, each lowered once.
    hoisted: std::collections::HashSet<*const Item>,
    /// How often each identifier appears in the function body.
    body_idents: HashMap<String, usize>,
    /// The names the body indexes (`k1[0]`, `m[i][j]`), with the most indices seen on each.
    indexed_names: HashMap<String, usize>,
    /// The names the function binds as locals anywhere (parameters, `let`, loops, closures).
    local_names: std::collections::HashSet<String>,
    /// The full paths of the names the body's `use` items bring in.
    imports: HashMap<String, syn::Path>,
    /// The closures defined so far, with what they captured (`closures.rs`).
    closures: closures::Closures,
    diagnostics: &'a mut Diagnostics,
}

/// An operation whose result depends only on its operands, as a key: its name and operands.
type PureOp = (String, Vec<ValueId>);

fn pure_op(op: &Op) -> Option<PureOp> {
    match op {
        Op::Neg(a) => Some(("-".to_owned(), vec![*a])),
        Op::Binary { op, lhs, rhs, .. } => {
            let name = match op {
                BinaryOp::Add => "+",
                BinaryOp::Sub => "-",
                BinaryOp::Mul => "*",
                BinaryOp::Div => "/",
                BinaryOp::Rem | BinaryOp::Other => return None,
            };
            Some((name.to_owned(), vec![*lhs, *rhs]))
        }
        Op::FloatMethod { method, args, .. } => Some((format!(".{method}"), args.clone())),
        Op::Cast { value, to } => Some((format!("as {}", to.to_token_stream()), vec![*value])),
        _ => None,
    }
}

pub fn lower(
    body: &syn::Block,
    signature: &Signature,
    helpers: &[syn::ItemFn],
    diagnostics: &mut Diagnostics,
) -> Result<Lowered, Box<Unfinished>> {
    let mut graph = Graph::default();
    let region = graph.new_region(None);
    let mut lowerer = Lowerer {
        linalg_checks: Vec::new(),
        linalg_matrices: std::collections::HashSet::new(),
        struct_arrays: HashMap::new(),
        helpers,
        graph,
        scopes: Scopes::new(),
        blocks: vec![Block {
            region,
            stmts: Vec::new(),
        }],
        loops: Vec::new(),
        next_loop_id: 0,
        rewrites: 0,
        local_consts: Vec::new(),
        items: Vec::new(),
        return_ty: signature.ret.as_ref().and_then(|(_, float)| *float),
        returned_struct: match body.stmts.last() {
            Some(SynStmt::Expr(Expr::Struct(literal), None)) if signature.ret_by_name => {
                Some(literal as *const syn::ExprStruct)
            }
            _ => None,
        },
        output_struct: None,
        returned_call: match (body.stmts.last(), &signature.ret_class) {
            (Some(SynStmt::Expr(Expr::Call(call), None)), ty @ Ty::Array(..)) => {
                Some(((call as *const syn::ExprCall).cast(), ty.clone()))
            }
            (Some(SynStmt::Expr(Expr::MethodCall(call), None)), ty @ Ty::Array(..)) => {
                Some(((call as *const syn::ExprMethodCall).cast(), ty.clone()))
            }
            _ => None,
        },
        param_types: signature.params.iter().map(|p| p.ty.clone()).collect(),
        element_reads: HashMap::new(),
        pure_nodes: HashMap::new(),
        unseen_elements: std::collections::HashSet::new(),
        hoisted: std::collections::HashSet::new(),
        body_idents: ident_counts(body.to_token_stream()),
        indexed_names: crate::signature::indexed_names(body),
        imports: HashMap::new(),
        local_names: bound_names(body, signature),
        closures: closures::Closures::default(),
        diagnostics,
    };
    // Parameters come first, so parameter i is node i.
    for (index, param) in signature.params.iter().enumerate() {
        let id = lowerer.graph.push(Node {
            op: Op::Param {
                ident: param.ident.clone(),
                by_reference: matches!(param.ty, Type::Reference(_)) && param.class.is_float(),
            },
            ty: param.class.clone(),
            active: param.differentiable,
            span: param.ident.span(),
            region,
        });
        if let Ty::Array(..) | Ty::Slice(..) = param.class {
            let init = ArrayInit::Param {
                ident: param.ident.clone(),
                index,
                field: Vec::new(),
            };
            let array = lowerer.new_array(param.class.clone(), init, param.ident.span());
            lowerer.graph.arrays[array.0].active = param.differentiable;
            if param
                .linalg
                .as_ref()
                .is_some_and(|l| l.kind == crate::linalg::Kind::Matrix)
            {
                lowerer.linalg_matrices.insert(array);
            }
            lowerer.bind(param.ident.to_string(), Val::Array(array));
        } else {
            lowerer.bind(param.ident.to_string(), Val::Scalar(id));
        }
    }
    // The array fields of struct parameters, with the depth the body indexes them to.
    for (index, param) in signature.params.iter().enumerate() {
        if !param.is_struct() {
            continue;
        }
        let mut scan = IndexedFields {
            root: param.ident.to_string(),
            found: Vec::new(),
        };
        syn::visit::Visit::visit_block(&mut scan, body);
        for (path, depth, written) in scan.found {
            let key = field_key(&param.ident.to_string(), &path);
            let ty = written.unwrap_or_else(|| Ty::inferred_array(depth, lowerer.return_ty));
            let init = ArrayInit::Param {
                ident: param.ident.clone(),
                index,
                field: path,
            };
            let array = lowerer.new_array(ty, init, param.ident.span());
            lowerer.graph.arrays[array.0].active = true;
            lowerer.struct_arrays.insert(key, array);
        }
    }
    let errors_before = lowerer.diagnostics.count();
    let result = lowerer.function_body(body);
    let output = match result {
        // A bad return type was reported already; the body's shape would only repeat it.
        _ if signature.ret.is_none() => None,
        // A return type grad sees only by name (`-> Vec3`) is what the body's value shows:
        // a float, or an array whose length grad knows.
        Val::Scalar(id) if signature.ret_by_name && lowerer.node(id).ty.is_float() => {
            Some(Output::Scalar(id))
        }
        Val::Array(id)
            if signature.ret_by_name && !lowerer.graph.array(id).ty.has_inferred_len() =>
        {
            Some(Output::Array(id))
        }
        Val::Tuple(elements) if signature.ret_by_name && lowerer.output_struct.is_some() => {
            let (path, members) = lowerer.output_struct.take().expect("checked above");
            let values = elements
                .iter()
                .filter_map(|e| match e {
                    Val::Scalar(id) => Some(*id),
                    _ => None,
                })
                .collect();
            Some(Output::Struct {
                path,
                members,
                values,
            })
        }
        // The body's own error says why its value has no shape.
        _ if signature.ret_by_name && lowerer.diagnostics.count() > errors_before => None,
        _ if signature.ret_by_name => {
            let (ty, _) = signature.ret.as_ref().expect("checked above");
            let name = crate::diagnostics::spelled(ty);
            lowerer.diagnostics.error(
                ty,
                format!("grad sees only the name `{name}` of the return type, and cannot tell from the function's value whether it is a float or an array of how many floats: write out the type that `{name}` names (`-> [f64; 3]`, `-> f64`)"),
            );
            None
        }
        Val::Scalar(id) if !matches!(signature.ret_class, Ty::Array(..)) => {
            // The function's value has its return type, which analysis carries to what it
            // is made of (`p.a * p.b` of a struct's fields).
            if let (Some((_, Some(float))), Ty::Unknown) = (&signature.ret, &lowerer.node(id).ty) {
                lowerer.graph.node_mut(id).ty = Ty::Float(Some(*float));
            }
            Some(Output::Scalar(id))
        }
        Val::Array(id)
            if signature
                .ret_linalg
                .as_ref()
                .is_some_and(|l| l.kind == crate::linalg::Kind::Matrix) =>
        {
            lowerer.matrix_rows(id, body.brace_token.span.close())
        }
        Val::Array(id) if matches!(signature.ret_class, Ty::Array(..)) => Some(Output::Array(id)),
        Val::Tuple(elements)
            if signature
                .ret
                .as_ref()
                .is_some_and(|(ty, _)| tuple_output(ty).is_some()) =>
        {
            let scalars: Option<Vec<ValueId>> = elements
                .iter()
                .map(|e| match e {
                    Val::Scalar(id) => Some(*id),
                    _ => None,
                })
                .collect();
            match scalars {
                Some(scalars) => Some(Output::Tuple(scalars)),
                None => {
                    lowerer.diagnostics.error_at(
                        body.brace_token.span.close(),
                        "return a tuple of floats: each element one float",
                    );
                    None
                }
            }
        }
        Val::Scalar(_) | Val::Array(_) | Val::Closure(_) => {
            lowerer.diagnostics.error_at(
                body.brace_token.span.close(),
                "the function's value does not have the shape of its return type",
            );
            None
        }
        Val::Tuple(elements) if elements.is_empty() => {
            lowerer.diagnostics.error_at(
                body.brace_token.span.close(),
                "the function body has no final value: end it with the expression to differentiate",
            );
            None
        }
        Val::Tuple(_) => {
            lowerer.diagnostics.error_at(
                body.brace_token.span.close(),
                "the function returns a tuple: vector outputs are not supported yet",
            );
            None
        }
        Val::Never => {
            if lowerer.diagnostics.count() == errors_before {
                lowerer.diagnostics.error_at(
                    body.brace_token.span.close(),
                    "the function never returns a value (it ends in `panic!`, `todo!` or another macro that does not return): give it a float value to differentiate",
                );
            }
            None
        }
    };
    let body = lowerer
        .blocks
        .pop()
        .expect("the function body block is open");
    if !lowerer.linalg_checks.is_empty() {
        let checks = std::mem::take(&mut lowerer.linalg_checks);
        lowerer.items.push(syn::parse_quote! {
            #[allow(dead_code)]
            fn __grad_nalgebra_check() { #(#checks)* }
        });
    }
    match output {
        Some(output) if lowerer.diagnostics.count() == errors_before => Ok(Lowered {
            graph: lowerer.graph,
            body,
            output,
            items: lowerer.items,
        }),
        _ => Err(Box::new(Unfinished {
            graph: lowerer.graph,
            body,
        })),
    }
}

impl Lowerer<'_> {
    // ----- names and scopes -----

    fn bind(&mut self, name: String, val: Val) {
        self.scopes.bind(name, val);
    }

    fn lookup(&self, name: &str) -> Option<&Val> {
        self.scopes.lookup(name)
    }

    /// Assignment rebinds the name in the scope that declared it: the variable is the same,
    /// its value is a new node.
    fn assign_name(&mut self, name: &str, val: Val) -> bool {
        self.scopes.assign(name, val)
    }

    fn in_scope<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push();
        let result = f(self);
        self.scopes.pop();
        result
    }

    // ----- nodes -----

    fn region(&self) -> RegionId {
        self.blocks.last().expect("a block is always open").region
    }

    /// A node computed here, in the current block.
    fn push(&mut self, op: Op, ty: Ty, span: Span) -> Val {
        let region = self.region();
        // `(a - t) * (a - t)` is one subtraction, squared: a repeated operation adds no node,
        // so its adjoint is summed once and `x * x` rules see one operand.
        let key = pure_op(&op).map(|pure| (pure, region));
        if let Some(&earlier) = key.as_ref().and_then(|key| self.pure_nodes.get(key)) {
            return Val::Scalar(earlier);
        }
        let id = self.graph.push(Node {
            op,
            ty,
            active: false,
            span,
            region,
        });
        self.blocks
            .last_mut()
            .expect("a block is always open")
            .stmts
            .push(Stmt::Node(id));
        if let Some(key) = key {
            self.pure_nodes.insert(key, id);
        }
        Val::Scalar(id)
    }

    /// A node defined by a statement (a merge, a loop entry or exit), not computed on its own.
    fn define(&mut self, op: Op, ty: Ty, span: Span, region: RegionId) -> ValueId {
        self.graph.push(Node {
            op,
            ty,
            active: false,
            span,
            region,
        })
    }

    fn node(&self, id: ValueId) -> &Node {
        self.graph.node(id)
    }

    fn constant(&mut self, tokens: proc_macro2::TokenStream, ty: Ty, span: Span) -> ValueId {
        match self.push(Op::Constant(tokens), ty, span) {
            Val::Scalar(id) => id,
            _ => unreachable!("push makes a scalar"),
        }
    }

    fn bool_constant(&mut self, value: bool, span: Span) -> ValueId {
        self.constant(quote!(#value), Ty::Bool, span)
    }

    fn const_bool(&self, id: ValueId) -> Option<bool> {
        match &self.node(id).op {
            Op::Constant(tokens) => match tokens.to_string().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The placeholder for an expression that was reported as an error.
    fn poison(&mut self, span: Span) -> Val {
        Val::Scalar(self.constant(quote!(()), Ty::Unknown, span))
    }

    /// Whether a node stands for an expression that was reported as an error.
    fn is_poison(&self, id: ValueId) -> bool {
        matches!(&self.node(id).op, Op::Constant(tokens) if tokens.to_string() == "()")
    }

    /// A value for a path that exited, where a merge still needs one; it is never read.
    fn placeholder(&mut self, ty: Ty, span: Span) -> ValueId {
        match self.push(Op::Placeholder, ty, span) {
            Val::Scalar(id) => id,
            _ => unreachable!("a placeholder is a scalar node"),
        }
    }

    fn unsupported(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) -> Val {
        let span = tokens
            .to_token_stream()
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |t| t.span());
        self.diagnostics.error(tokens, message);
        self.poison(span)
    }

    /// The scalar behind a value, or an error if it is a tuple.
    fn scalar(&mut self, val: Val, expr: &Expr) -> ValueId {
        match val {
            Val::Scalar(id) => id,
            Val::Never => self.placeholder(Ty::Unknown, expr.span()),
            Val::Array(_) => match self.unsupported(
                expr,
                "an array cannot be used here: index it (`a[i]`), or loop over its elements",
            ) {
                Val::Scalar(id) => id,
                _ => unreachable!("poison is a scalar"),
            },
            Val::Tuple(_) => {
                let message = "a tuple cannot be used here: use one of its elements (`t.0`)";
                match self.unsupported(expr, message) {
                    Val::Scalar(id) => id,
                    _ => unreachable!("poison is a scalar"),
                }
            }
            Val::Closure(_) => match self.unsupported(expr, closures::NOT_A_VALUE) {
                Val::Scalar(id) => id,
                _ => unreachable!("poison is a scalar"),
            },
        }
    }

    fn scalar_expr(&mut self, expr: &Expr) -> ValueId {
        let val = self.expr(expr);
        self.scalar(val, expr)
    }

    fn binary_node(&mut self, token: BinOp, lhs: ValueId, rhs: ValueId, span: Span) -> ValueId {
        let op = match token {
            BinOp::Add(_) => BinaryOp::Add,
            BinOp::Sub(_) => BinaryOp::Sub,
            BinOp::Mul(_) => BinaryOp::Mul,
            BinOp::Div(_) => BinaryOp::Div,
            BinOp::Rem(_) => BinaryOp::Rem,
            _ => BinaryOp::Other,
        };
        let (l, r) = (&self.node(lhs).ty, &self.node(rhs).ty);
        let ty = match token {
            BinOp::Eq(_)
            | BinOp::Ne(_)
            | BinOp::Lt(_)
            | BinOp::Le(_)
            | BinOp::Gt(_)
            | BinOp::Ge(_)
            | BinOp::And(_)
            | BinOp::Or(_) => Ty::Bool,
            _ => unify(l, r),
        };
        match self.push(
            Op::Binary {
                op,
                token,
                lhs,
                rhs,
            },
            ty,
            span,
        ) {
            Val::Scalar(id) => id,
            _ => unreachable!("push makes a scalar"),
        }
    }

    fn not(&mut self, value: ValueId, span: Span) -> ValueId {
        match self.const_bool(value) {
            Some(b) => self.bool_constant(!b, span),
            None => match self.push(
                Op::Inactive {
                    template: InactiveExpr::Not,
                    args: vec![value],
                },
                Ty::Bool,
                span,
            ) {
                Val::Scalar(id) => id,
                _ => unreachable!("push makes a scalar"),
            },
        }
    }

    /// `a || b || ...` over the flags that are not known to be false; `None` if all are.
    fn any(&mut self, flags: Vec<ValueId>, span: Span) -> Option<ValueId> {
        let mut result: Option<ValueId> = None;
        for flag in flags {
            match self.const_bool(flag) {
                Some(false) => continue,
                Some(true) => return Some(self.bool_constant(true, span)),
                None => {}
            }
            result = Some(match result {
                None => flag,
                Some(acc) => self.binary_node(BinOp::Or(syn::Token![||](span)), acc, flag, span),
            });
        }
        result
    }

    // ----- statements -----
    /// Statements in order; after one that may exit, the rest runs under `if !exited`.
    fn stmts(&mut self, stmts: &[SynStmt]) -> Val {
        if stmts.iter().any(is_let_else) {
            let rewritten: Vec<SynStmt> = stmts.iter().flat_map(|s| self.let_else(s)).collect();
            return self.stmts(&rewritten);
        }
        // Items are in scope in their whole block, before their declaration too, and shadow
        // the enclosing block's locals of the same name.
        for stmt in stmts {
            if let SynStmt::Item(item) = stmt
                && self.hoisted.insert(item as *const Item)
                && self.item_fits_one_scope(item, stmts)
            {
                self.item(item);
            }
        }
        let mut value = unit();
        for (index, stmt) in stmts.iter().enumerate() {
            value = self.stmt(stmt, index + 1 == stmts.len());
            if index + 1 == stmts.len() || value == Val::Never {
                continue;
            }
            let span = stmt.span();
            match self.exit_condition(span) {
                None => {}
                Some(exited) if self.const_bool(exited) == Some(true) => return Val::Never,
                Some(exited) => {
                    let rest = &stmts[index + 1..];
                    let go_on = self.not(exited, span);
                    return self.branch(
                        go_on,
                        |this| {
                            this.clear_exits(span);
                            this.stmts(rest)
                        },
                        |_| Val::Never,
                        span,
                    );
                }
            }
        }
        value
    }

    /// `let PAT = value else { diverge };` as three statements: the value bound to a hidden
    /// local, `if let PAT = hidden {} else { diverge }` (after which the rest of the block runs
    /// only where the pattern matched, as after any statement that may exit), and
    /// `let PAT = hidden;`, which binds the names as any pattern of data on a constant does.
    fn let_else(&mut self, stmt: &SynStmt) -> Vec<SynStmt> {
        let SynStmt::Local(local) = stmt else {
            return vec![stmt.clone()];
        };
        let Some(init) = &local.init else {
            return vec![stmt.clone()];
        };
        let Some((_, diverge)) = &init.diverge else {
            return vec![stmt.clone()];
        };
        self.rewrites += 1;
        let hidden = quote::format_ident!("__grad_let_else{}", self.rewrites);
        let (pat, value) = (&local.pat, &init.expr);
        let span = local.span();
        vec![
            syn::parse_quote_spanned!(span=> let #hidden = #value;),
            syn::parse_quote_spanned!(span=> if let #pat = #hidden {} else #diverge),
            syn::parse_quote_spanned!(span=> let #pat = #hidden;),
        ]
    }

    fn function_body(&mut self, body: &syn::Block) -> Val {
        let span = body.span();
        let returned = self.bool_constant(false, span);
        self.bind(RETURNED.to_owned(), Val::Scalar(returned));
        let ty = Ty::Float(self.return_ty);
        let placeholder = self.placeholder(ty, span);
        self.bind(RETURN_VALUE.to_owned(), Val::Scalar(placeholder));
        // A final `return e;` is the function's value, like a tail expression.
        let (stmts, final_return) = match body.stmts.split_last() {
            Some((SynStmt::Expr(Expr::Return(ret), _), rest)) => (rest, Some(ret)),
            _ => (&body.stmts[..], None),
        };
        let mut value = self.stmts(stmts);
        if let Some(ret) = final_return
            && value != Val::Never
        {
            value = match self.exit_condition(span) {
                None => self.return_value(ret),
                Some(exited) => {
                    let go_on = self.not(exited, span);
                    self.branch(
                        go_on,
                        |this| {
                            this.clear_exits(span);
                            this.return_value(ret)
                        },
                        |_| Val::Never,
                        span,
                    )
                }
            };
        }
        let returned = self.flag(RETURNED).expect("the return flag is bound");
        match (self.const_bool(returned), value) {
            (Some(false), value) => value,
            (_, Val::Never) => self.lookup(RETURN_VALUE).cloned().unwrap_or_else(unit),
            (_, value) => {
                let early = self.lookup(RETURN_VALUE).cloned().unwrap_or_else(unit);
                self.branch(returned, |_| early, |_| value, span)
            }
        }
    }

    fn return_value(&mut self, ret: &syn::ExprReturn) -> Val {
        match &ret.expr {
            Some(value) => self.expr(value),
            None => self.unsupported(ret, "`return` needs the function's float value"),
        }
    }

    fn block(&mut self, block: &syn::Block) -> Val {
        self.in_scope(|this| this.stmts(&block.stmts))
    }

    /// Lowers one statement; the value is the block's value when it is the tail expression.
    fn stmt(&mut self, stmt: &SynStmt, is_last: bool) -> Val {
        match stmt {
            SynStmt::Local(local) => {
                self.local(local);
                unit()
            }
            // Lowered when the block began (see `stmts`).
            SynStmt::Item(_) => unit(),
            SynStmt::Expr(Expr::Macro(mac), Some(_)) => match self.macro_call(&mac.mac, true) {
                Val::Never => Val::Never,
                _ => unit(),
            },
            SynStmt::Expr(expr, semi) => {
                let val = self.expr(expr);
                if val == Val::Never || semi.is_none() && is_last {
                    val
                } else {
                    unit()
                }
            }
            SynStmt::Macro(mac) => {
                let value = mac.semi_token.is_none() && is_last;
                match self.macro_call(&mac.mac, !value) {
                    Val::Never => Val::Never,
                    val if value => val,
                    _ => unit(),
                }
            }
        }
    }

    fn local(&mut self, local: &syn::Local) {
        if let (Pat::Slice(pattern), Some(init)) = (&local.pat, &local.init)
            && init.diverge.is_none()
        {
            return self.destructure_array(pattern, &init.expr);
        }
        let Some(init) = &local.init else {
            // `let p;` (or `let p: f64;`), assigned later: Rust sees that every read comes
            // after an assignment, so until then the name holds a placeholder nobody reads.
            let (name, ty) = match &local.pat {
                Pat::Ident(ident) => (Some(ident), Ty::Unknown),
                Pat::Type(typed) => match &*typed.pat {
                    Pat::Ident(ident) => (Some(ident), classify(&typed.ty)),
                    _ => (None, Ty::Unknown),
                },
                _ => (None, Ty::Unknown),
            };
            if let Some(name) = name.filter(|n| n.by_ref.is_none() && n.subpat.is_none())
                && !matches!(ty, Ty::Array(..) | Ty::Slice(_))
            {
                let placeholder = self.placeholder(ty, local.span());
                self.bind(name.ident.to_string(), Val::Scalar(placeholder));
                return;
            }
            self.diagnostics.error(
                local,
                "a `let` without a value is supported for one variable of a float, integer or `bool` type (`let p;`, `let p: f64;`): give this one its value where it is declared",
            );
            // Bind the names anyway, so later assignments to them add no errors of their own.
            let placeholder = self.poison(local.span());
            self.bind_pattern(&local.pat, placeholder, None);
            return;
        };
        if let Some((else_token, _)) = &init.diverge {
            // `stmts` rewrites every `let ... else`; one seen here is not in a block.
            self.diagnostics.error(
                else_token,
                "this `let ... else` is not supported here: put it in a block",
            );
            return;
        }
        if self.destructure_tuple_call(&local.pat, &init.expr) {
            return;
        }
        let annotation = match &local.pat {
            Pat::Type(typed) => Some(classify(&typed.ty)),
            _ => None,
        };
        // `let k1 = f(state);` with `k1[i]` read later: the call returns an array, whose type
        // rustc knows from `f`'s signature (`[x; _]` in generated code).
        let annotation = annotation.or_else(|| match (&local.pat, &*init.expr) {
            (Pat::Ident(ident), Expr::Call(_) | Expr::MethodCall(_)) => self
                .indexed_names
                .get(&ident.ident.to_string())
                .map(|depth| Ty::inferred_array(*depth, self.return_ty)),
            _ => None,
        });
        let mut val = match (&*init.expr, annotation) {
            (Expr::Call(call), Some(ty @ Ty::Array(..))) => match &*call.func {
                Expr::Path(path) if self.calls_a_function(path) => {
                    self.function_call(call, path.path.clone(), Some(ty), None)
                }
                _ => self.expr(&init.expr),
            },
            (Expr::MethodCall(call), Some(ty @ Ty::Array(..))) => match self.self_call(call) {
                Some((as_call, path, this)) => {
                    self.function_call(&as_call, path, Some(ty), Some(this))
                }
                None => self.expr(&init.expr),
            },
            _ => self.expr(&init.expr),
        };
        // Arrays are values in Rust: `let b = a;` is a copy, which `b`'s writes must not change.
        // (A slice, a sub-slice or a `Vec` is borrowed or moved instead: the same array.)
        if let (Val::Array(source), true) = (&val, names_a_variable(&init.expr)) {
            if matches!(self.graph.array(*source).ty, Ty::Slice(_)) {
                return self.bind_pattern(&local.pat, val, None);
            }
            let ty = self.graph.array(*source).ty.clone();
            val = Val::Array(self.new_array(ty, ArrayInit::Copy(*source), init.expr.span()));
        }
        self.bind_pattern(&local.pat, val, None);
    }

    /// `let [a, b] = v;` (also `= *p;` for `p: &[f64; 2]`, and nested patterns) reads each
    /// element as written: `let a = v[0]; let b = v[1];`, so rows, scalars and elements of
    /// types only rustc knows are read as indexing reads them. A value that is not a variable
    /// is bound first. rustc checks the pattern's length against the array in the user's own
    /// function, which is emitted unchanged.
    fn destructure_array(&mut self, pattern: &syn::PatSlice, value: &Expr) {
        let mut source = value;
        while let Expr::Unary(syn::ExprUnary {
            op: UnOp::Deref(_),
            expr,
            ..
        }) = source
        {
            source = expr;
        }
        let source: Expr = if names_a_variable(source) {
            source.clone()
        } else {
            self.rewrites += 1;
            let name = quote::format_ident!("__grad_destructured{}", self.rewrites);
            if let SynStmt::Local(bound) =
                syn::parse_quote_spanned!(value.span()=> let #name = #source;)
            {
                self.local(&bound);
            }
            syn::parse_quote!(#name)
        };
        for (k, element) in pattern.elems.iter().enumerate() {
            match element {
                Pat::Wild(_) => {}
                Pat::Rest(rest) => {
                    self.diagnostics.error(
                        rest,
                        "`..` in an array pattern is not supported: name every element, with `_` for the ones you do not use, or index the array (`v[0]`)",
                    );
                    return;
                }
                _ => {
                    let index = syn::Index::from(k);
                    if let SynStmt::Local(read) =
                        syn::parse_quote_spanned!(element.span()=> let #element = #source[#index];)
                    {
                        self.local(&read);
                    }
                }
            }
        }
    }

    /// `let (a, b) = g(x);` of a call with a float argument: the callee returns a tuple of
    /// floats, held as an array of them (`ArrayInit::Call` with `tuple`), whose elements the
    /// names read. A call of constants only (`let (i, w) = split(k);`) passes through as
    /// written instead, whatever its tuple holds. False when this is not such a `let`.
    fn destructure_tuple_call(&mut self, pattern: &Pat, value: &Expr) -> bool {
        // `let p: (f64, f64) = g(x);`: the type says the call's value is a tuple of floats,
        // whose fields `p.0`, `p.1` are read as the names of a pattern would be.
        let typed_tuple = match pattern {
            Pat::Type(typed) => match (&*typed.pat, crate::signature::tuple_output(&typed.ty)) {
                (Pat::Ident(ident), Some(floats))
                    if ident.by_ref.is_none() && ident.subpat.is_none() =>
                {
                    Some((ident.ident.clone(), floats.len()))
                }
                _ => None,
            },
            _ => None,
        };
        let pattern = match pattern {
            Pat::Type(typed) => &*typed.pat,
            other => other,
        };
        let len = match (pattern, &typed_tuple) {
            (_, Some((_, len))) => *len,
            (Pat::Tuple(tuple), None)
                if !tuple.elems.is_empty()
                    && !tuple.elems.iter().any(|p| matches!(p, Pat::Rest(_))) =>
            {
                tuple.elems.len()
            }
            _ => return false,
        };
        let takes_floats =
            |lowerer: &Self, args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>| {
                fn mentions(lowerer: &Lowerer, tokens: proc_macro2::TokenStream) -> bool {
                    tokens.into_iter().any(|token| match token {
                        proc_macro2::TokenTree::Group(group) => mentions(lowerer, group.stream()),
                        // A parameter left out by `wrt` is a constant: such a call passes through.
                        proc_macro2::TokenTree::Ident(name) => {
                            match lowerer.lookup(&name.to_string()) {
                                Some(Val::Scalar(id)) => {
                                    let node = lowerer.node(*id);
                                    node.ty.is_float()
                                        && (node.active || !matches!(node.op, Op::Param { .. }))
                                }
                                Some(Val::Array(id)) => {
                                    let array = lowerer.graph.array(*id);
                                    array.ty.scalar().is_float()
                                        && (array.active
                                            || !matches!(array.init, ArrayInit::Param { .. }))
                                }
                                _ => false,
                            }
                        }
                        _ => false,
                    })
                }
                mentions(lowerer, args.to_token_stream())
            };
        let ty = Ty::Array(
            Box::new(Ty::Float(self.return_ty)),
            crate::types::Len(proc_macro2::Literal::usize_unsuffixed(len).to_token_stream()),
        );
        let val = match super::lower::strip_parens(value) {
            Expr::Call(call) => match &*call.func {
                // `f64::sin_cos(x)`, `T::sin_cos(x)`: a float method's pair, not a tuple call.
                Expr::Path(path)
                    if crate::signature::float_owner(&path.path)
                        || calls::generic_float_owner(&path.path).is_some() =>
                {
                    return false;
                }
                Expr::Path(path)
                    if self.calls_a_function(path) && takes_floats(self, &call.args) =>
                {
                    self.function_call(call, path.path.clone(), Some(ty), None)
                }
                _ => return false,
            },
            Expr::MethodCall(call) if takes_floats(self, &call.args) => {
                match self.self_call(call) {
                    Some((as_call, path, this)) => {
                        self.function_call(&as_call, path, Some(ty), Some(this))
                    }
                    None => return false,
                }
            }
            _ => return false,
        };
        let array = match val {
            Val::Array(array) => array,
            // An argument in error: the names are bound to placeholders.
            other => {
                self.bind_pattern(pattern, other, None);
                return true;
            }
        };
        if let ArrayInit::Call { tuple, .. } = &mut self.graph.arrays[array.0].init {
            *tuple = true;
        }
        self.rewrites += 1;
        let name = quote::format_ident!("__grad_tuple{}", self.rewrites);
        self.bind(name.to_string(), Val::Array(array));
        if let Some((binding, len)) = typed_tuple {
            let span = binding.span();
            let fields = (0..len)
                .map(|k| {
                    let index = syn::Index::from(k);
                    let read: Expr = syn::parse_quote_spanned!(span=> #name[#index]);
                    self.expr(&read)
                })
                .collect();
            self.bind(binding.to_string(), Val::Tuple(fields));
            return true;
        }
        let Pat::Tuple(tuple) = pattern else {
            return true;
        };
        for (k, element) in tuple.elems.iter().enumerate() {
            if matches!(element, Pat::Wild(_)) {
                continue;
            }
            let index = syn::Index::from(k);
            if let SynStmt::Local(read) =
                syn::parse_quote_spanned!(element.span()=> let #element = #name[#index];)
            {
                self.local(&read);
            }
        }
        true
    }

    fn bind_pattern(&mut self, pat: &Pat, val: Val, annotation: Option<&Type>) {
        match pat {
            Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                let val = match annotation {
                    Some(ty) => self.annotate(val, ty),
                    None => val,
                };
                self.bind(ident.ident.to_string(), val);
            }
            Pat::Type(typed) => self.bind_pattern(&typed.pat, val, Some(&typed.ty)),
            Pat::Paren(inner) => self.bind_pattern(&inner.pat, val, annotation),
            Pat::Wild(_) => {}
            Pat::Tuple(tuple) => {
                let elements = match val {
                    Val::Tuple(elements) if elements.len() == tuple.elems.len() => elements,
                    // A value whose type only rustc knows (a constant parameter's field or
                    // element): its parts are read as `.0`, `.1`, ...
                    Val::Scalar(id) if !self.node(id).ty.is_float() => (0..tuple.elems.len())
                        .map(|k| {
                            let member = syn::Member::Unnamed(syn::Index::from(k));
                            let span = tuple.elems[k].span();
                            self.inactive(InactiveExpr::Field(member), vec![id], Ty::Unknown, span)
                        })
                        .collect(),
                    _ => {
                        self.diagnostics.error(
                            tuple,
                            "this tuple pattern needs a tuple value of the same length, written in the function (`let (a, b) = (x, y);`)",
                        );
                        return;
                    }
                };
                let element_types: Vec<Option<&Type>> = match annotation {
                    Some(Type::Tuple(types)) if types.elems.len() == elements.len() => {
                        types.elems.iter().map(Some).collect()
                    }
                    _ => vec![None; elements.len()],
                };
                for ((pat, val), ty) in tuple.elems.iter().zip(elements).zip(element_types) {
                    self.bind_pattern(pat, val, ty);
                }
            }
            // A pattern of data (`Some(w)`, `Point { x, y }`) on a constant: its names read
            // from it (the third statement of a `let ... else`, or an irrefutable struct).
            pattern if pattern_holds_data(pattern) => match val {
                Val::Scalar(id) if !self.node(id).ty.is_float() => {
                    self.bind_pattern_names(id, pattern);
                }
                _ => self.diagnostics.error(
                    pattern,
                    "this pattern needs a value of the same shape, written in the function",
                ),
            },
            // A pattern that tests a constant (`let 1..=3 = n else { .. }`) binds at most the
            // name of an `@`.
            Pat::Lit(_) | Pat::Range(_) | Pat::Or(_) if matches!(val, Val::Scalar(_)) => {
                if let (Some(name), Val::Scalar(id)) = (patterns::pattern_binding(pat), val) {
                    self.bind(name, Val::Scalar(id));
                }
            }
            other => self.diagnostics.error(
                other,
                "this pattern is not supported: bind plain names or tuples of names",
            ),
        }
    }

    /// A type annotation tells the macro a type it could not infer (`let c: f32 = g(x);`).
    /// A constant keeps the annotation in the generated code, where it decides the literal's
    /// type.
    fn annotate(&mut self, val: Val, ty: &Type) -> Val {
        let Val::Scalar(id) = val else {
            return val;
        };
        if self.is_poison(id) {
            return val;
        }
        let annotated = classify(ty);
        if let Op::Constant(_) = self.node(id).op {
            let span = self.node(id).span;
            return self.push(
                Op::Annotated {
                    value: id,
                    ty: ty.clone(),
                },
                annotated,
                span,
            );
        }
        let node = self.graph.node_mut(id);
        if matches!(node.ty, Ty::Unknown | Ty::Float(None)) && annotated != Ty::Unknown {
            node.ty = annotated;
        }
        Val::Scalar(id)
    }

    // ----- expressions -----

    fn expr(&mut self, expr: &Expr) -> Val {
        match expr {
            Expr::Lit(lit) => self.literal(&lit.lit),
            Expr::Path(path) => self.path(path),
            Expr::Paren(inner) => self.expr(&inner.expr),
            Expr::Group(inner) => self.expr(&inner.expr),
            Expr::Unary(unary) => self.unary(unary),
            Expr::Binary(binary) => self.binary(binary),
            Expr::Assign(assign) => {
                if let Some((name, Val::Array(target))) = assign_target(&assign.left)
                    .and_then(|name| Some((name.clone(), self.lookup(&name.to_string())?.clone())))
                {
                    self.assign_whole_array(&name, target, &assign.right);
                    return unit();
                }
                let val = self.expr(&assign.right);
                self.assign(&assign.left, val);
                unit()
            }
            Expr::Cast(cast) => self.cast(cast),
            Expr::MethodCall(call) => self.method_call(call),
            Expr::Call(call) => self.call(call),
            Expr::Block(block) => match &block.label {
                Some(label) => self.labeled_block(label, &block.block),
                None => self.block(&block.block),
            },
            Expr::Tuple(tuple) => Val::Tuple(tuple.elems.iter().map(|e| self.expr(e)).collect()),
            Expr::Field(field) => self.field(field),
            Expr::Reference(reference) => {
                let inner = self.expr(&reference.expr);
                // `&|x| ..` and `&f` of a closure `f` call as the closure does.
                if let Val::Closure(_) = inner {
                    return inner;
                }
                // `&x[1..]`, `&a`: an array borrowed is read as the array itself.
                if let Val::Array(_) = inner {
                    if reference.mutability.is_none() {
                        return inner;
                    }
                    return self.unsupported(expr, "`&mut` of an array or of a part of one is not supported in a differentiable function: write its elements where they are needed (`a[1 + i] = ..`)");
                }
                let inner = self.scalar(inner, &reference.expr);
                self.inactive(InactiveExpr::Reference, vec![inner], Ty::Unknown, expr.span())
            }
            Expr::Macro(mac) => self.macro_call(&mac.mac, false),
            Expr::If(e) => self.if_expr(e),
            Expr::Match(e) => self.match_expr(e),
            Expr::ForLoop(e) => self.for_loop(e),
            Expr::While(e) => self.while_loop(e),
            Expr::Loop(e) => self.loop_expr(e),
            Expr::Break(e) => self.break_expr(e),
            Expr::Continue(e) => self.continue_expr(e),
            Expr::Return(ret) => {
                let value = self.return_value(ret);
                self.assign_name(RETURN_VALUE, value);
                self.set_flag(RETURNED, true, ret.span());
                Val::Never
            }
            Expr::Closure(e) => self.closure(e),
            Expr::Unsafe(e) => self.unsupported(e.unsafe_token, "`unsafe` blocks are not supported in a differentiable function: move the unsafe code into a helper with a hand-written `_vjp`"),
            Expr::Async(e) => self.unsupported(e.async_token, "`async` blocks are not supported in a differentiable function"),
            Expr::Await(e) => self.unsupported(e, "`.await` is not supported in a differentiable function"),
            Expr::Try(e) => self.unsupported(e, "the `?` operator is not supported in a differentiable function: handle errors outside it"),
            Expr::TryBlock(e) => self.unsupported(e, "`try` blocks are not supported in a differentiable function"),
            Expr::Index(e) => self.index(e),
            Expr::Array(e) => self.array_literal(e),
            Expr::Repeat(e) => self.array_repeat(e),
            Expr::Range(e) => self.unsupported(e, "ranges are supported only as the range of a `for` loop"),
            Expr::Struct(e) if self.returned_struct == Some(e as *const syn::ExprStruct) => {
                self.struct_output(e)
            }
            Expr::Struct(e) => self.unsupported(e, "a struct literal is supported as the function's value only (`-> Point` ending in `Point { x: a, y: b }`): pass the floats as parameters, or build the struct at the end"),
            Expr::Let(e) => self.unsupported(e, "`if let` is not supported in a differentiable function: compare values with `==`, `<`, ... or use `match` on an integer"),
            other => self.unsupported(other, "this expression is not supported in a differentiable function"),
        }
    }

    fn literal(&mut self, lit: &Lit) -> Val {
        let span = lit.span();
        let tokens = lit.to_token_stream();
        let ty = match lit {
            Lit::Float(float) => Ty::Float(FloatTy::from_ident(float.suffix())),
            Lit::Int(int) => match FloatTy::from_ident(int.suffix()) {
                Some(float) => Ty::Float(Some(float)),
                None => Ty::Int,
            },
            Lit::Bool(_) => Ty::Bool,
            other => {
                return self.unsupported(
                    other,
                    "only number and bool literals are supported in a differentiable function",
                );
            }
        };
        Val::Scalar(self.constant(tokens, ty, span))
    }

    fn path(&mut self, path: &syn::ExprPath) -> Val {
        if path.qself.is_none()
            && let Some(ident) = path.path.get_ident()
            && let Some(val) = self.lookup(&ident.to_string())
        {
            return val.clone();
        }
        let ty = self.constant_type(&path.path);
        Val::Scalar(self.constant(path.to_token_stream(), ty, path.span()))
    }

    /// The type of a constant path: `std::f64::consts::PI`, `f32::EPSILON`, a local `const`.
    fn constant_type(&self, path: &syn::Path) -> Ty {
        if let Some(ident) = path.get_ident() {
            let name = ident.to_string();
            return self
                .local_consts
                .iter()
                .rev()
                .find(|(n, _)| *n == name)
                .map_or(Ty::Unknown, |(_, ty)| ty.clone());
        }
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        segments[..segments.len() - 1]
            .iter()
            .rev()
            .find_map(|s| FloatTy::from_ident(s))
            .map_or(Ty::Unknown, |float| Ty::Float(Some(float)))
    }

    fn unary(&mut self, unary: &syn::ExprUnary) -> Val {
        let operand = self.expr(&unary.expr);
        if let (UnOp::Neg(_), Val::Array(array)) = (unary.op, &operand) {
            return self.linalg_negation(*array, unary.span());
        }
        if let (UnOp::Deref(_), Val::Array(source)) = (unary.op, &operand) {
            // `*w` of an array taken by reference is a copy of the array.
            let ty = self.graph.array(*source).ty.clone();
            if let Ty::Slice(_) = ty {
                return self.unsupported(unary, "a slice cannot be copied into an array in a differentiable function: index it, or take a fixed-size array `&[f64; N]`");
            }
            let copy = self.new_array(ty, ArrayInit::Copy(*source), unary.span());
            self.graph.dereferenced.insert(copy);
            return Val::Array(copy);
        }
        let operand = self.scalar(operand, &unary.expr);
        let span = unary.span();
        match unary.op {
            UnOp::Neg(_) => {
                let node = self.node(operand).clone();
                if let Op::Constant(tokens) = &node.op {
                    // Folding `-2.0` into one constant keeps generated code as readable as the input.
                    let op = unary.op;
                    return Val::Scalar(self.constant(quote!(#op #tokens), node.ty, span));
                }
                self.push(Op::Neg(operand), node.ty, span)
            }
            UnOp::Not(_) => Val::Scalar(self.not(operand, span)),
            // In rewritten iterator code, elements are values where the user's closure saw
            // references, so `*v` of a float is the float itself.
            // `*x` of a parameter `x: &f64` is the float, a value of its own: passed to a call
            // it is the float, where `x` is passed as the reference.
            UnOp::Deref(_)
                if self.node(operand).ty.is_float()
                    && matches!(
                        self.node(operand).op,
                        Op::Param {
                            by_reference: true,
                            ..
                        }
                    ) =>
            {
                let ty = self.node(operand).ty.clone();
                match &self.param_types[operand.0] {
                    Type::Reference(reference) => {
                        let written = (*reference.elem).clone();
                        self.push(
                            Op::Annotated {
                                value: operand,
                                ty: written,
                            },
                            ty,
                            span,
                        )
                    }
                    _ => Val::Scalar(operand),
                }
            }
            UnOp::Deref(_) if self.node(operand).ty.is_float() => Val::Scalar(operand),
            UnOp::Deref(_) => {
                // `*n` for a parameter `n: &usize` is an integer; elsewhere grad cannot tell.
                let ty = match self.node(operand).op {
                    Op::Param { .. } => self.deref_type(operand),
                    _ => Ty::Unknown,
                };
                self.inactive(InactiveExpr::Deref, vec![operand], ty, span)
            }
            _ => self.unsupported(
                unary,
                "this operator is not supported in a differentiable function",
            ),
        }
    }

    fn deref_type(&self, param: ValueId) -> Ty {
        match self.param_types.get(param.0) {
            Some(Type::Reference(reference)) => match classify(&reference.elem) {
                Ty::Unknown => Ty::Other,
                ty => ty,
            },
            _ => Ty::Unknown,
        }
    }

    /// A node that needs no derivative; the checks report it if a differentiated value
    /// flows into it.
    fn inactive(&mut self, template: InactiveExpr, args: Vec<ValueId>, ty: Ty, span: Span) -> Val {
        self.push(Op::Inactive { template, args }, ty, span)
    }

    fn binary(&mut self, binary: &syn::ExprBinary) -> Val {
        let compound = match binary.op {
            BinOp::AddAssign(t) => Some(BinOp::Add(syn::Token![+](t.spans[0]))),
            BinOp::SubAssign(t) => Some(BinOp::Sub(syn::Token![-](t.spans[0]))),
            BinOp::MulAssign(t) => Some(BinOp::Mul(syn::Token![*](t.spans[0]))),
            BinOp::DivAssign(t) => Some(BinOp::Div(syn::Token![/](t.spans[0]))),
            BinOp::RemAssign(t) => Some(BinOp::Rem(syn::Token![%](t.spans[0]))),
            BinOp::BitAndAssign(t) => Some(BinOp::BitAnd(syn::Token![&](t.spans[0]))),
            BinOp::BitOrAssign(t) => Some(BinOp::BitOr(syn::Token![|](t.spans[0]))),
            BinOp::BitXorAssign(t) => Some(BinOp::BitXor(syn::Token![^](t.spans[0]))),
            BinOp::ShlAssign(t) => Some(BinOp::Shl(syn::Token![<<](t.spans[0]))),
            BinOp::ShrAssign(t) => Some(BinOp::Shr(syn::Token![>>](t.spans[0]))),
            _ => None,
        };
        let span = binary.span();
        // `tip += step` of a nalgebra value: `tip = tip + (step)`, a whole-array assignment.
        if let Some(token) = compound
            && let Expr::Path(place) = &*binary.left
            && let Some(name) = place.path.get_ident()
            && matches!(self.lookup(&name.to_string()), Some(Val::Array(_)))
            && matches!(
                token,
                BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_)
            )
        {
            let right = &binary.right;
            let assignment: Expr = syn::parse_quote_spanned!(span=> #name = #name #token (#right));
            return self.expr(&assignment);
        }
        if let Some(token) = compound {
            // For primitive types Rust evaluates the right side of `a += b` before reading `a`.
            let rhs = self.scalar_expr(&binary.right);
            let lhs = self.scalar_expr(&binary.left);
            let val = self.binary_node(token, lhs, rhs, span);
            self.assign(&binary.left, Val::Scalar(val));
            return unit();
        }
        let left = self.expr(&binary.left);
        if !matches!(binary.op, BinOp::And(_) | BinOp::Or(_)) {
            let right = self.expr(&binary.right);
            let arithmetic = matches!(
                binary.op,
                BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_)
            );
            if arithmetic && (matches!(left, Val::Array(_)) || matches!(right, Val::Array(_))) {
                return self.linalg_binary(binary, left, right);
            }
            let lhs = self.scalar(left, &binary.left);
            let rhs = self.scalar(right, &binary.right);
            return Val::Scalar(self.binary_node(binary.op, lhs, rhs, span));
        }
        let lhs = self.scalar(left, &binary.left);
        match binary.op {
            // `a && b` evaluates `b` only when `a` holds: lowering it as an `if` keeps that.
            BinOp::And(_) | BinOp::Or(_) => {
                let is_and = matches!(binary.op, BinOp::And(_));
                let right = &binary.right;
                let short = self.bool_constant(!is_and, span);
                if let Some(known) = self.const_bool(lhs) {
                    return if known == is_and {
                        Val::Scalar(self.scalar_expr(right))
                    } else {
                        Val::Scalar(short)
                    };
                }
                let evaluate = |this: &mut Self| Val::Scalar(this.scalar_expr(right));
                let skip = move |_: &mut Self| Val::Scalar(short);
                if is_and {
                    self.branch(lhs, evaluate, skip, span)
                } else {
                    self.branch(lhs, skip, evaluate, span)
                }
            }
            _ => {
                let rhs = self.scalar_expr(&binary.right);
                Val::Scalar(self.binary_node(binary.op, lhs, rhs, span))
            }
        }
    }

    /// Whether `f(..)` calls a function (whose result's type rustc knows from its signature),
    /// not a local closure, an enum variant or a float method.
    fn calls_a_function(&self, path: &syn::ExprPath) -> bool {
        path.qself.is_none()
            && !calls::names_data(&path.path)
            && path
                .path
                .get_ident()
                .is_none_or(|name| self.lookup(&name.to_string()).is_none())
    }

    /// `state = next;` for an array variable: every element of `state` takes `next`'s, so
    /// the array stays one local written in place (also inside a loop, where it is carried).
    /// The value is lowered with `state`'s type, so a call needs no annotation to return an
    /// array (`state = step(state, h);`), and it is read in full before any element is
    /// written (`h = [h[1], h[0]];` swaps).
    fn assign_whole_array(&mut self, name: &syn::Ident, target: ArrayId, value: &Expr) {
        if self.assigns_a_capture(name, &name.to_string()) {
            return;
        }
        let ty = self.graph.array(target).ty.clone();
        if !matches!(ty, Ty::Array(..)) {
            self.diagnostics.error(
                name,
                format!("`{name}` is a slice parameter, which cannot be assigned: copy it into a local array, or assign its elements to a new array"),
            );
            return;
        }
        // `state = step(state, h)`: the callee's reverse needs `state` as it was at the call,
        // which the assignment then overwrites. Passing it as its elements
        // (`[state[0], state[1]]`) lets a loop's tape record them.
        let spread = |mut call: syn::ExprCall| {
            for arg in call.args.iter_mut() {
                if assign_target(arg).as_ref() == Some(name)
                    && let Some(elements) = element_literal(&quote::quote!(#name), &ty)
                {
                    *arg = elements;
                }
            }
            call
        };
        let source = match value {
            Expr::Call(call) => match &*call.func {
                Expr::Path(path) if self.calls_a_function(path) => {
                    let call = spread(call.clone());
                    self.function_call(&call, path.path.clone(), Some(ty.clone()), None)
                }
                _ => self.expr(value),
            },
            Expr::MethodCall(call) => match self.self_call(call) {
                Some((as_call, path, this)) => {
                    let call = spread(as_call);
                    self.function_call(&call, path, Some(ty.clone()), Some(this))
                }
                None => self.expr(value),
            },
            _ => self.expr(value),
        };
        let source = match source {
            Val::Array(source) => source,
            Val::Never => return,
            _ => {
                self.diagnostics.error(
                    value,
                    format!(
                        "`{name}` is an array, so it can only be assigned an array of the same type"
                    ),
                );
                return;
            }
        };
        self.rewrites += 1;
        let n = self.rewrites;
        let temp = quote::format_ident!("__grad_assigned{}", n, span = name.span());
        self.bind(temp.to_string(), Val::Array(source));
        let mut lens = Vec::new();
        let mut current = &ty;
        while let Ty::Array(elem, len) = current {
            lens.push(len.0.clone());
            current = elem;
        }
        let indices: Vec<syn::Ident> = (0..lens.len())
            .map(|d| quote::format_ident!("__grad_k{}_{}", n, d, span = name.span()))
            .collect();
        let mut copy: Expr =
            syn::parse_quote_spanned!(name.span()=> #name #([#indices])* = #temp #([#indices])*);
        for (depth, (index, len)) in indices.iter().zip(&lens).enumerate().rev() {
            // A length rustc infers is read from the array (`a.len()`, `a[k0].len()`).
            let len = if len.to_string() == "_" {
                let outer = &indices[..depth];
                quote::quote!(#name #([#outer])* .len())
            } else {
                len.clone()
            };
            copy = syn::parse_quote_spanned!(name.span()=> for #index in 0..#len { #copy; });
        }
        self.expr(&copy);
    }

    fn assign(&mut self, place: &Expr, val: Val) {
        match place {
            Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
                let name = path.path.get_ident().map(ToString::to_string).unwrap_or_default();
                if let Some(Val::Array(_)) = self.lookup(&name) {
                    self.diagnostics.error(
                        place,
                        format!("assigning a whole array is not supported yet: assign the elements of `{name}`, or declare a new array"),
                    );
                    return;
                }
                if self.assigns_a_capture(path, &name) || self.assigns_a_closure(place, &val) {
                    return;
                }
                if !self.assign_name(&name, val) {
                    self.diagnostics.error(
                        place,
                        format!("cannot assign to `{name}`: only local variables can be assigned"),
                    );
                }
            }
            Expr::Paren(inner) => self.assign(&inner.expr, val),
            Expr::Tuple(places) => match val {
                Val::Tuple(values) if values.len() == places.elems.len() => {
                    for (place, val) in places.elems.iter().zip(values) {
                        self.assign(place, val);
                    }
                }
                _ => self
                    .diagnostics
                    .error(place, "this tuple assignment needs a tuple value of the same length"),
            },
            Expr::Infer(_) => {}
            Expr::Index(index) => self.write_element(index, val),
            Expr::Field(_) => self.diagnostics.error(
                place,
                "assigning to a field is not supported in a differentiable function: use a local variable",
            ),
            other => self
                .diagnostics
                .error(other, "only local variables can be assigned in a differentiable function"),
        }
    }

    fn cast(&mut self, cast: &syn::ExprCast) -> Val {
        let value = self.scalar_expr(&cast.expr);
        let target = classify(&cast.ty);
        self.push(
            Op::Cast {
                value,
                to: (*cast.ty).clone(),
            },
            target,
            cast.span(),
        )
    }

    /// `Point { x: a, y: b }` as the function's value: its fields' values, as a tuple, and
    /// the literal's path and fields for the output.
    fn struct_output(&mut self, literal: &syn::ExprStruct) -> Val {
        if let Some(rest) = &literal.rest {
            return self.unsupported(
                rest,
                "`..` in the struct the function returns is not supported: write every field",
            );
        }
        let mut members = Vec::new();
        let mut values = Vec::new();
        for field in &literal.fields {
            let value = self.expr(&field.expr);
            match value {
                Val::Scalar(_) => {}
                Val::Never => return Val::Never,
                _ => return self.unsupported(&field.expr, "each field of the struct the function returns must be one float or a constant: arrays and tuples in it are not supported yet"),
            }
            members.push(field.member.clone());
            values.push(value);
        }
        self.output_struct = Some((literal.path.clone(), members));
        Val::Tuple(values)
    }

    /// `p.a.b` of a differentiated struct parameter `p`: an array field the body indexes
    /// (an array parameter of its own), or any other field, a node whose type its use says
    /// (a float's adjoint goes to the same field of `p`'s gradient entry; an integer or
    /// other constant is read as written). `None` for any other expression.
    fn struct_field(&mut self, expr: &Expr) -> Option<Val> {
        let (root, path) = field_chain(expr)?;
        let name = root.to_string();
        let Some(Val::Scalar(param)) = self.lookup(&name).cloned() else {
            return None;
        };
        let node = self.node(param);
        let is_struct = matches!(node.op, Op::Param { .. }) && node.active && node.ty == Ty::Other;
        if !is_struct {
            return None;
        }
        if let Some(array) = self.struct_arrays.get(&field_key(&name, &path)) {
            return Some(Val::Array(*array));
        }
        Some(self.push(Op::Field { param, path }, Ty::Unknown, expr.span()))
    }

    fn field(&mut self, field: &syn::ExprField) -> Val {
        if let Some(val) = self.struct_field(&Expr::Field(field.clone())) {
            return val;
        }
        let base = self.expr(&field.base);
        match (base, &field.member) {
            (Val::Tuple(elements), syn::Member::Unnamed(index)) => {
                match elements.get(index.index as usize) {
                    Some(element) => element.clone(),
                    None => self.unsupported(field, "this tuple has no such element"),
                }
            }
            (Val::Tuple(_), _) => self.unsupported(field, "a tuple has no named fields"),
            (Val::Array(array), _) => match self.linalg_field(array, field) {
                Some(val) => val,
                None => self.unsupported(
                    field,
                    "an array has no fields (a nalgebra vector's are `x`, `y`, `z` and `w`)",
                ),
            },
            (Val::Closure(_), _) => self.unsupported(field, closures::NOT_A_VALUE),
            (Val::Never, _) => Val::Never,
            (Val::Scalar(base), member) => self.inactive(
                InactiveExpr::Field(member.clone()),
                vec![base],
                Ty::Unknown,
                field.span(),
            ),
        }
    }
}

/// Whether an expression is just a variable's name.
fn names_a_variable(expr: &Expr) -> bool {
    match expr {
        Expr::Path(path) => path.qself.is_none() && path.path.get_ident().is_some(),
        Expr::Paren(inner) => names_a_variable(&inner.expr),
        Expr::Group(inner) => names_a_variable(&inner.expr),
        _ => false,
    }
}

/// The variable an assignment writes as a whole (`state = ...`), if it is a plain name.
fn assign_target(place: &Expr) -> Option<syn::Ident> {
    match place {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident().cloned(),
        Expr::Paren(inner) => assign_target(&inner.expr),
        _ => None,
    }
}

/// An array of literal length written as its elements (`[a[0], a[1]]`, nested for a matrix),
/// or `None` when a length is not a literal.
fn element_literal(array: &proc_macro2::TokenStream, ty: &Ty) -> Option<Expr> {
    let Ty::Array(elem, len) = ty else {
        return Some(syn::parse_quote!(#array));
    };
    let len: usize = len.0.to_string().trim_end_matches("usize").parse().ok()?;
    let elements = (0..len)
        .map(|k| {
            let k = syn::Index::from(k);
            element_literal(&quote::quote!(#array[#k]), elem)
        })
        .collect::<Option<Vec<Expr>>>()?;
    Some(syn::parse_quote!([#(#elements),*]))
}

fn is_let_else(stmt: &SynStmt) -> bool {
    matches!(stmt, SynStmt::Local(local) if local.init.as_ref().is_some_and(|init| init.diverge.is_some()))
}

/// The expression inside any parentheses (and invisible groups) around it.
pub(super) fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(inner) => strip_parens(&inner.expr),
        Expr::Group(inner) => strip_parens(&inner.expr),
        other => other,
    }
}

/// `p.a.b`: the name it starts from and the fields, outermost last; `None` for anything but
/// fields of a name.
fn field_chain(expr: &Expr) -> Option<(&syn::Ident, Vec<syn::Member>)> {
    let mut path = Vec::new();
    let mut current = strip_parens(expr);
    while let Expr::Field(field) = current {
        path.push(field.member.clone());
        current = strip_parens(&field.base);
    }
    path.reverse();
    match current {
        Expr::Path(root) if !path.is_empty() => Some((root.path.get_ident()?, path)),
        _ => None,
    }
}

/// The key of a struct parameter's field: `p.w`, `self.inner.k`.
fn field_key(root: &str, path: &[syn::Member]) -> String {
    let mut key = root.to_string();
    for member in path {
        key.push('.');
        key.push_str(&member.to_token_stream().to_string());
    }
    key
}

/// The array fields of the struct parameter `root`: those the body indexes (`p.w[i][j]`),
/// each with the most indices it is read with, and those it binds with an array type
/// (`let w: [f64; 3] = p.w;`), with that type.
struct IndexedFields {
    root: String,
    found: Vec<(Vec<syn::Member>, usize, Option<Ty>)>,
}

impl IndexedFields {
    fn add(&mut self, path: Vec<syn::Member>, depth: usize, written: Option<Ty>) {
        match self.found.iter_mut().find(|(p, _, _)| *p == path) {
            Some((_, d, w)) => {
                *d = (*d).max(depth);
                if w.is_none() {
                    *w = written;
                }
            }
            None => self.found.push((path, depth, written)),
        }
    }
}

impl<'ast> syn::visit::Visit<'ast> for IndexedFields {
    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let (Pat::Type(typed), Some(init)) = (&local.pat, &local.init)
            && let ty @ Ty::Array(..) = crate::signature::classify(&typed.ty)
            && let Some((root, path)) = field_chain(&init.expr)
            && *root == self.root
        {
            let depth = array_depth(&ty);
            self.add(path, depth, Some(ty));
        }
        syn::visit::visit_local(self, local);
    }

    fn visit_expr_index(&mut self, index: &'ast syn::ExprIndex) {
        let (base, indices) = arrays::index_chain(index);
        if let Some((root, path)) = field_chain(base)
            && *root == self.root
        {
            self.add(path, indices.len(), None);
        }
        syn::visit::visit_expr_index(self, index);
    }
}

fn array_depth(ty: &Ty) -> usize {
    match ty {
        Ty::Array(inner, _) => 1 + array_depth(inner),
        _ => 0,
    }
}
