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

mod scopes;

use crate::diagnostics::Diagnostics;
use crate::graph::unify;
use crate::graph::{
    Array, ArrayId, ArrayInit, ArrayWrite, BinaryOp, Block, CallArg, CallStyle, Carried, FloatTy,
    Graph, If, InactiveExpr, Len, Loop, LoopHeader, Merge, Node, Op, RegionId, Stmt, Ty, ValueId,
    WriteRecord,
};
use crate::iterators;
use crate::rules::{self, Derivative, HelperShape};
use crate::signature::{Signature, classify, float_owner, ident_counts, tuple_output};
use proc_macro2::Span;
use quote::{ToTokens, quote};
use scopes::Scopes;
use std::collections::HashMap;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{BinOp, Expr, Item, Lit, Pat, Stmt as SynStmt, Type, UnOp};

/// What the function returns: a float, or an array of floats.
#[derive(Clone, Debug)]
pub enum Output {
    Scalar(ValueId),
    Array(ArrayId),
    /// A tuple of floats: a vector output.
    Tuple(Vec<ValueId>),
}

pub struct Lowered {
    pub graph: Graph,
    pub body: Block,
    pub output: Output,
    /// `const` and `use` items of the body, copied into the generated function.
    pub items: Vec<Item>,
}

/// The graph of a body that had errors: no code is generated from it, but it still tells
/// which functions the body calls with differentiated values.
pub struct Unfinished {
    pub graph: Graph,
    pub body: Block,
}

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
}

fn unit() -> Val {
    Val::Tuple(Vec::new())
}

struct LoopContext {
    id: usize,
    label: Option<String>,
    /// A `loop` can `break` with a value; `for` and `while` cannot.
    has_value: bool,
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
    /// The names the function binds as locals anywhere (parameters, `let`, loops, closures).
    local_names: std::collections::HashSet<String>,
    /// The full paths of the names the body's `use` items bring in.
    imports: HashMap<String, syn::Path>,
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
    diagnostics: &mut Diagnostics,
) -> Result<Lowered, Box<Unfinished>> {
    let mut graph = Graph::default();
    let region = graph.new_region(None);
    let mut lowerer = Lowerer {
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
        return_ty: signature.ret.as_ref().map(|(_, float)| *float),
        param_types: signature.params.iter().map(|p| p.ty.clone()).collect(),
        element_reads: HashMap::new(),
        pure_nodes: HashMap::new(),
        unseen_elements: std::collections::HashSet::new(),
        hoisted: std::collections::HashSet::new(),
        body_idents: ident_counts(body.to_token_stream()),
        imports: HashMap::new(),
        local_names: bound_names(body, signature),
        diagnostics,
    };
    // Parameters come first, so parameter i is node i.
    for (index, param) in signature.params.iter().enumerate() {
        let id = lowerer.graph.push(Node {
            op: Op::Param {
                ident: param.ident.clone(),
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
            };
            let array = lowerer.new_array(param.class.clone(), init, param.ident.span());
            lowerer.graph.arrays[array.0].active = param.differentiable;
            lowerer.bind(param.ident.to_string(), Val::Array(array));
        } else {
            lowerer.bind(param.ident.to_string(), Val::Scalar(id));
        }
    }
    let errors_before = lowerer.diagnostics.count();
    let result = lowerer.function_body(body);
    let output = match result {
        // A bad return type was reported already; the body's shape would only repeat it.
        _ if signature.ret.is_none() => None,
        Val::Scalar(id) if !matches!(signature.ret_class, Ty::Array(..)) => {
            Some(Output::Scalar(id))
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
        Val::Scalar(_) | Val::Array(_) => {
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
        Val::Never => None,
    };
    let body = lowerer
        .blocks
        .pop()
        .expect("the function body block is open");
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
        self.constant(quote!(::core::default::Default::default()), ty, span)
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

    fn flag(&self, name: &str) -> Option<ValueId> {
        match self.lookup(name) {
            Some(Val::Scalar(id)) => Some(*id),
            _ => None,
        }
    }

    fn set_flag(&mut self, name: &str, value: bool, span: Span) {
        let constant = self.bool_constant(value, span);
        self.assign_name(name, Val::Scalar(constant));
    }

    // ----- control flow -----

    /// Lowers an `if`: each branch into its own block, then a merge node for every variable
    /// either branch changed, and for the value.
    fn branch(
        &mut self,
        cond: ValueId,
        then_branch: impl FnOnce(&mut Self) -> Val,
        else_branch: impl FnOnce(&mut Self) -> Val,
        span: Span,
    ) -> Val {
        let parent = self.region();
        let before = self.scopes.values();
        let then_region = self.graph.new_region(Some(parent));
        self.blocks.push(Block {
            region: then_region,
            stmts: Vec::new(),
        });
        let then_value = then_branch(self);
        let then_block = self.blocks.pop().expect("the then block is open");
        let after_then = self.restore(&before);
        let else_region = self.graph.new_region(Some(parent));
        self.blocks.push(Block {
            region: else_region,
            stmts: Vec::new(),
        });
        let else_value = else_branch(self);
        let else_block = self.blocks.pop().expect("the else block is open");
        let after_else = self.restore(&before);

        let mut merges = Vec::new();
        for (depth, scope) in before.iter().enumerate() {
            for (index, original) in scope.iter().enumerate() {
                let (t, e) = (&after_then[depth][index], &after_else[depth][index]);
                if t != original || e != original {
                    let merged = self.merge(t.clone(), e.clone(), &mut merges, parent, span);
                    self.scopes.set(depth, index, merged);
                }
            }
        }
        let value = self.merge(then_value, else_value, &mut merges, parent, span);
        self.blocks
            .last_mut()
            .expect("a block is always open")
            .stmts
            .push(Stmt::If(Box::new(If {
                cond,
                then_block,
                else_block,
                merges,
                span,
            })));
        value
    }

    /// Puts every binding back to its value before a branch and returns the branch's values.
    fn restore(&mut self, before: &[Vec<Val>]) -> Vec<Vec<Val>> {
        self.scopes.restore(before)
    }

    fn merge(
        &mut self,
        then_value: Val,
        else_value: Val,
        merges: &mut Vec<Merge>,
        region: RegionId,
        span: Span,
    ) -> Val {
        match (then_value, else_value) {
            (Val::Never, Val::Never) => Val::Never,
            (Val::Array(t), Val::Array(e)) if t == e => Val::Array(t),
            (Val::Array(a), Val::Never) | (Val::Never, Val::Array(a)) => Val::Array(a),
            (Val::Array(_), Val::Array(_)) => {
                self.diagnostics.error_at(
                    span,
                    "branches that give different arrays are not supported yet: declare the array before the `if` and assign its elements in the branches",
                );
                self.poison(span)
            }
            (Val::Scalar(t), Val::Scalar(e)) if t == e => Val::Scalar(t),
            (Val::Scalar(t), Val::Scalar(e)) => {
                let ty = unify(&self.node(t).ty, &self.node(e).ty);
                let out = self.define(Op::Merge, ty, span, region);
                merges.push(Merge {
                    out,
                    then_value: t,
                    else_value: e,
                });
                Val::Scalar(out)
            }
            (Val::Tuple(ts), Val::Tuple(es)) if ts.len() == es.len() => Val::Tuple(
                ts.into_iter()
                    .zip(es)
                    .map(|(t, e)| self.merge(t, e, merges, region, span))
                    .collect(),
            ),
            (Val::Never, Val::Scalar(e)) => {
                let ty = self.node(e).ty.clone();
                let t = self.placeholder(ty, span);
                self.merge(Val::Scalar(t), Val::Scalar(e), merges, region, span)
            }
            (Val::Scalar(t), Val::Never) => {
                let ty = self.node(t).ty.clone();
                let e = self.placeholder(ty, span);
                self.merge(Val::Scalar(t), Val::Scalar(e), merges, region, span)
            }
            (Val::Never, Val::Tuple(es)) => {
                let ts = vec![Val::Never; es.len()];
                self.merge(Val::Tuple(ts), Val::Tuple(es), merges, region, span)
            }
            (Val::Tuple(ts), Val::Never) => {
                let es = vec![Val::Never; ts.len()];
                self.merge(Val::Tuple(ts), Val::Tuple(es), merges, region, span)
            }
            _ => {
                self.diagnostics
                    .error_at(span, "the branches give values of different shapes");
                self.poison(span)
            }
        }
    }

    /// True on the paths where an exit has happened and the rest of the block must not run.
    fn exit_condition(&mut self, span: Span) -> Option<ValueId> {
        let mut flags: Vec<ValueId> = self.flag(RETURNED).into_iter().collect();
        let names: Vec<String> = self
            .loops
            .iter()
            .flat_map(|l| [broke(l.id), continued(l.id)])
            .collect();
        flags.extend(names.iter().filter_map(|n| self.flag(n)));
        self.any(flags, span)
    }

    /// The flags of every exit that can be taken here: `return`, and leaving any enclosing
    /// loop.
    fn exit_flag_names(&self) -> Vec<String> {
        let mut names = vec![RETURNED.to_owned()];
        names.extend(
            self.loops
                .iter()
                .flat_map(|l| [broke(l.id), continued(l.id)]),
        );
        names
    }

    /// On the path where no exit happened, every exit flag is known to be false.
    fn clear_exits(&mut self, span: Span) {
        for name in self.exit_flag_names() {
            if let Some(flag) = self.flag(&name) {
                if self.const_bool(flag) != Some(false) {
                    self.set_flag(&name, false, span);
                }
            }
        }
    }

    /// Statements in order; after one that may exit, the rest runs under `if !exited`.
    fn stmts(&mut self, stmts: &[SynStmt]) -> Val {
        // Items are in scope in their whole block, before their declaration too, and shadow
        // the enclosing block's locals of the same name.
        for stmt in stmts {
            if let SynStmt::Item(item) = stmt {
                if self.hoisted.insert(item as *const Item) && self.item_fits_one_scope(item, stmts)
                {
                    self.item(item);
                }
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
        if let Some(ret) = final_return {
            if value != Val::Never {
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
            SynStmt::Expr(expr, semi) => {
                let val = self.expr(expr);
                if val == Val::Never || semi.is_none() && is_last {
                    val
                } else {
                    unit()
                }
            }
            SynStmt::Macro(mac) => {
                self.macro_call(&mac.mac);
                unit()
            }
        }
    }

    fn local(&mut self, local: &syn::Local) {
        let Some(init) = &local.init else {
            self.diagnostics.error(
                local,
                "a `let` without a value is not supported: give the variable its value where it is declared",
            );
            // Bind the names anyway, so later assignments to them add no errors of their own.
            let placeholder = self.poison(local.span());
            self.bind_pattern(&local.pat, placeholder, None);
            return;
        };
        if let Some((else_token, _)) = &init.diverge {
            self.diagnostics.error(
                else_token,
                "`let ... else` is not supported in a differentiable function: use `match` on an integer, or test the value with `if` before the `let`",
            );
            return;
        }
        let annotation = match &local.pat {
            Pat::Type(typed) => Some(classify(&typed.ty)),
            _ => None,
        };
        let mut val = match (&*init.expr, annotation) {
            (Expr::Call(call), Some(ty @ Ty::Array(..))) => match &*call.func {
                Expr::Path(path) if path.qself.is_none() => {
                    self.function_call(call, path.path.clone(), Some(ty))
                }
                _ => self.expr(&init.expr),
            },
            _ => self.expr(&init.expr),
        };
        // Arrays are values in Rust: `let b = a;` is a copy, which `b`'s writes must not change.
        if let (Val::Array(source), true) = (&val, names_a_variable(&init.expr)) {
            let ty = self.graph.array(*source).ty.clone();
            val = Val::Array(self.new_array(ty, ArrayInit::Copy(*source), init.expr.span()));
        }
        self.bind_pattern(&local.pat, val, None);
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

    /// The generated code holds every item of the body in one scope, the function's. An item
    /// of an inner block fits there only if its names are used in that block alone: `const K`
    /// in a block, with `K` of the module read elsewhere, would change what `K` means there.
    fn item_fits_one_scope(&mut self, item: &Item, block: &[SynStmt]) -> bool {
        if self.scopes.depth() == 1 {
            return true;
        }
        let names = match item {
            Item::Const(constant) => vec![constant.ident.to_string()],
            Item::Use(item_use) => match use_names(&item_use.tree) {
                Some(names) => names,
                None => {
                    self.diagnostics.error(item, "a glob `use` (`use m::*;`) is supported only at the top of a differentiable function's body: move it there, or name what it brings in");
                    return false;
                }
            },
            _ => return true,
        };
        let in_block = ident_counts(quote!(#(#block)*));
        for name in names {
            // Locals are resolved by grad, not by name in the generated code: a block's
            // `const s` beside a local `s` elsewhere changes nothing there.
            let used_outside = self.body_idents.get(&name) > in_block.get(&name);
            if used_outside && !self.local_names.contains(&name) {
                self.diagnostics.error(item, format!("this item of an inner block is named `{name}`, which the function also uses outside the block; grad's generated code holds every item of the function in one scope, where it would change what `{name}` means there: give the item a name of its own, or move it to the top of the function"));
                return false;
            }
        }
        true
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Const(constant) => {
                let name = constant.ident.to_string();
                if self.local_consts.iter().any(|(n, _)| *n == name) {
                    self.diagnostics.error(
                        &constant.ident,
                        format!("a second `const {name}` in one differentiable function: the generated code holds all of its items in one scope, so give them different names"),
                    );
                    return;
                }
                let ty = classify(&constant.ty);
                self.local_consts.push((name.clone(), ty.clone()));
                self.items.push(item.clone());
                let ident = &constant.ident;
                let value = self.constant(quote!(#ident), ty, ident.span());
                self.bind(name, Val::Scalar(value));
            }
            Item::Use(item_use) => {
                imported_paths(&item_use.tree, &mut Vec::new(), &mut self.imports);
                self.items.push(item.clone());
            }
            other => self.diagnostics.error(
                other,
                "only `const` and `use` items are supported inside a differentiable function: move this item out of the function",
            ),
        }
    }

    fn macro_call(&mut self, mac: &syn::Macro) -> Val {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        self.unsupported(
            mac,
            format!(
                "macro calls such as `{name}!` are not supported in a differentiable function: write the expression out, or move the macro into a helper with a hand-written `_vjp`"
            ),
        )
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
                let val = self.expr(&assign.right);
                self.assign(&assign.left, val);
                unit()
            }
            Expr::Cast(cast) => self.cast(cast),
            Expr::MethodCall(call) => self.method_call(call),
            Expr::Call(call) => self.call(call),
            Expr::Block(block) => {
                if let Some(label) = &block.label {
                    return self.unsupported(label, "labeled blocks are not supported: use a labeled `loop` with `break`");
                }
                self.block(&block.block)
            }
            Expr::Tuple(tuple) => Val::Tuple(tuple.elems.iter().map(|e| self.expr(e)).collect()),
            Expr::Field(field) => self.field(field),
            Expr::Reference(reference) => {
                let inner = self.scalar_expr(&reference.expr);
                self.inactive(InactiveExpr::Reference, vec![inner], Ty::Unknown, expr.span())
            }
            Expr::Macro(mac) => self.macro_call(&mac.mac),
            Expr::If(e) => self.if_expr(e),
            Expr::Match(e) => self.match_expr(e),
            Expr::ForLoop(e) => self.for_loop(e),
            Expr::While(e) => {
                if let Expr::Let(lets) = &*e.cond {
                    return self.unsupported(lets, "`while let` is not supported in a differentiable function: use `while` with a condition, or `loop` with `break`");
                }
                let label = e.label.as_ref().map(|l| l.name.ident.to_string());
                self.lower_loop(LoopSyntax::While(&e.cond), &e.body, label, e.span())
            }
            Expr::Loop(e) => {
                let label = e.label.as_ref().map(|l| l.name.ident.to_string());
                self.lower_loop(LoopSyntax::Loop, &e.body, label, e.span())
            }
            Expr::Break(e) => self.break_expr(e),
            Expr::Continue(e) => self.continue_expr(e),
            Expr::Return(ret) => {
                let value = self.return_value(ret);
                self.assign_name(RETURN_VALUE, value);
                self.set_flag(RETURNED, true, ret.span());
                Val::Never
            }
            Expr::Closure(e) => self.unsupported(e, "closures are not supported in a differentiable function: write the closure's body as a separate #[differentiable] function and call it"),
            Expr::Unsafe(e) => self.unsupported(e.unsafe_token, "`unsafe` blocks are not supported in a differentiable function: move the unsafe code into a helper with a hand-written `_vjp`"),
            Expr::Async(e) => self.unsupported(e.async_token, "`async` blocks are not supported in a differentiable function"),
            Expr::Await(e) => self.unsupported(e, "`.await` is not supported in a differentiable function"),
            Expr::Try(e) => self.unsupported(e, "the `?` operator is not supported in a differentiable function: handle errors outside it"),
            Expr::TryBlock(e) => self.unsupported(e, "`try` blocks are not supported in a differentiable function"),
            Expr::Index(e) => self.index(e),
            Expr::Array(e) => self.array_literal(e),
            Expr::Repeat(e) => self.array_repeat(e),
            Expr::Range(e) => self.unsupported(e, "ranges are supported only as the range of a `for` loop"),
            Expr::Struct(e) => self.unsupported(e, "struct literals are not supported in a differentiable function: pass the floats as parameters"),
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
        if path.qself.is_none() {
            if let Some(ident) = path.path.get_ident() {
                if let Some(val) = self.lookup(&ident.to_string()) {
                    return val.clone();
                }
            }
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
        if let (UnOp::Deref(_), Val::Array(source)) = (unary.op, &operand) {
            // `*w` of an array taken by reference is a copy of the array.
            let ty = self.graph.array(*source).ty.clone();
            if let Ty::Slice(_) = ty {
                return self.unsupported(unary, "a slice cannot be copied into an array in a differentiable function: index it, or take a fixed-size array `&[f64; N]`");
            }
            return Val::Array(self.new_array(ty, ArrayInit::Copy(*source), unary.span()));
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
        if let Some(token) = compound {
            // For primitive types Rust evaluates the right side of `a += b` before reading `a`.
            let rhs = self.scalar_expr(&binary.right);
            let lhs = self.scalar_expr(&binary.left);
            let val = self.binary_node(token, lhs, rhs, span);
            self.assign(&binary.left, Val::Scalar(val));
            return unit();
        }
        let lhs = self.scalar_expr(&binary.left);
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

    fn method_call(&mut self, call: &syn::ExprMethodCall) -> Val {
        if matches!(
            call.method.to_string().as_str(),
            "sum" | "product" | "fold" | "map"
        ) {
            self.rewrites += 1;
            if let Some(rewritten) = iterators::desugar_method(call, self.rewrites) {
                return self.expr(&rewritten);
            }
        }
        // An iteration over an array that no rewrite took: name the method at fault. (Chains
        // over constants of other types pass through as written.)
        let over_array = iterators::chain_source(&call.receiver)
            .is_some_and(|source| matches!(self.lookup(&source.to_string()), Some(Val::Array(_))));
        if over_array {
            const SUPPORTED: &str = "write a loop over the indices (`for i in 0..x.len() { .. }`); supported are `iter`, `zip`, `enumerate`, `map`, `copied` and `cloned`, ended by `sum`, `product` or `fold`";
            return match iterators::unsupported_stage(&call.receiver) {
                Some(adaptor) => self.unsupported(
                    adaptor,
                    format!("the iterator adaptor `{adaptor}` is not supported yet: {SUPPORTED}"),
                ),
                None => {
                    let method = &call.method;
                    self.unsupported(
                        method,
                        format!("`{method}` on an iterator is not supported yet: {SUPPORTED}"),
                    )
                }
            };
        }
        let receiver = self.expr(&call.receiver);
        if let Val::Array(array) = receiver {
            if call.method == "len" && call.args.is_empty() {
                return match &self.graph.array(array).ty {
                    Ty::Array(_, Len(len)) => {
                        Val::Scalar(self.constant(len.clone(), Ty::Int, call.span()))
                    }
                    // A slice is a parameter, never written, in scope everywhere in generated
                    // code by its own name.
                    _ => {
                        let name = match &self.graph.array(array).init {
                            ArrayInit::Param { ident, .. } => quote!(#ident),
                            _ => {
                                let local = crate::names::array(array);
                                quote!(#local)
                            }
                        };
                        self.push(Op::Length(quote!(#name.len())), Ty::Int, call.span())
                    }
                };
            }
            return self.unsupported(
                &call.method,
                format!(
                    "the array method `{}` is not supported yet: write a loop over the indices",
                    call.method
                ),
            );
        }
        let receiver = self.scalar(receiver, &call.receiver);
        let mut args = vec![receiver];
        args.extend(call.args.iter().map(|arg| self.scalar_expr(arg)));
        let receiver_ty = self.node(receiver).ty.clone();
        // `g(x).sin()`, `SCALE.max(x)`: the receiver's type is unknown here (analysis settles
        // it), but a float method's receiver is a float.
        let float_receiver = receiver_ty.is_float() || receiver_ty == Ty::Unknown;
        if float_receiver && call.turbofish.is_none() {
            if call.method == "sin_cos" && call.args.is_empty() {
                return self.sin_cos(
                    receiver,
                    call.method.span(),
                    &Expr::MethodCall(call.clone()),
                );
            }
            if let Some(rule) = rules::method(&call.method.to_string()) {
                let span = call.method.span();
                return self.float_method(
                    rule,
                    call.method.clone(),
                    CallStyle::Method,
                    args,
                    span,
                    &Expr::MethodCall(call.clone()),
                );
            }
        }
        // Integer methods never return floats; anything else the checks reject if it is
        // applied to a differentiated value.
        let ty = if receiver_ty == Ty::Int {
            Ty::Int
        } else {
            Ty::Unknown
        };
        let template = InactiveExpr::Method {
            method: call.method.clone(),
            turbofish: call.turbofish.clone(),
        };
        self.inactive(template, args, ty, call.method.span())
    }

    /// `x.sin_cos()` is `(x.sin(), x.cos())`, as std computes it.
    fn sin_cos(&mut self, x: ValueId, span: Span, expr: &Expr) -> Val {
        let mut parts = Vec::new();
        for name in ["sin", "cos"] {
            let Some(rule) = rules::method(name) else {
                return self.unsupported(expr, "`sin_cos` needs the rules of `sin` and `cos`");
            };
            let method = syn::Ident::new(name, span);
            parts.push(self.float_method(rule, method, CallStyle::Method, vec![x], span, expr));
        }
        Val::Tuple(parts)
    }

    fn float_method(
        &mut self,
        rule: &'static rules::MethodRule,
        method: syn::Ident,
        style: CallStyle,
        args: Vec<ValueId>,
        span: Span,
        expr: &Expr,
    ) -> Val {
        if args.len() != rule.arity() {
            return self.unsupported(
                expr,
                format!(
                    "`{}` takes {} argument(s) here, not {}",
                    rule.name,
                    rule.arity() - 1,
                    args.len() - 1
                ),
            );
        }
        let ty = match rule.derivative {
            Derivative::Pullback | Derivative::Zero => args
                .iter()
                .enumerate()
                .filter(|(i, _)| rule.arg_is_float(*i))
                .fold(Ty::Float(None), |ty, (_, a)| unify(&ty, &self.node(*a).ty)),
            Derivative::NotFloat => Ty::Bool,
        };
        self.push(
            Op::FloatMethod {
                rule,
                method,
                style,
                args,
            },
            ty,
            span,
        )
    }

    fn call(&mut self, call: &syn::ExprCall) -> Val {
        let expr = Expr::Call(call.clone());
        // `<T as Float>::from_f64(2.0)`, `T::from_f64(2.0)`: a constant of a generic float type.
        if let Expr::Path(func) = &*call.func {
            let last = func
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            let constant_args = call.args.iter().all(|a| matches!(a, Expr::Lit(_)));
            if matches!(last.as_str(), "from_f64" | "from_i32") && constant_args {
                let owner = match &func.qself {
                    Some(qself) => classify(&qself.ty),
                    None => func
                        .path
                        .segments
                        .iter()
                        .rev()
                        .nth(1)
                        .and_then(|s| FloatTy::from_ident(&s.ident.to_string()))
                        .map_or(Ty::Unknown, |f| Ty::Float(Some(f))),
                };
                if owner.is_float() {
                    return Val::Scalar(self.constant(expr.to_token_stream(), owner, call.span()));
                }
            }
        }
        let path = match &*call.func {
            Expr::Path(path) if path.qself.is_none() => path.path.clone(),
            other => {
                return self.unsupported(
                    other,
                    "only calls of functions by path (`g(x)`, `module::g(x)`) are supported",
                );
            }
        };
        // A call of a local: a closure (reported where it was defined) or another value.
        if let Some(local) = path
            .get_ident()
            .and_then(|name| self.lookup(&name.to_string()))
        {
            let defined_in_error = matches!(local, Val::Scalar(id) if self.is_poison(*id));
            if defined_in_error {
                return self.poison(call.span());
            }
            return self.unsupported(&call.func, "only functions can be called in a differentiable function, and this names a local value: call the function by its own name");
        }
        let is_sin_cos = path.segments.last().is_some_and(|s| s.ident == "sin_cos");
        if float_owner(&path) && is_sin_cos && call.args.len() == 1 {
            let x = self.scalar_expr(&call.args[0]);
            return self.sin_cos(x, call.span(), &expr);
        }
        if float_method_path(&path).is_none() {
            return self.function_call(call, path, None);
        }
        let args: Vec<ValueId> = call.args.iter().map(|arg| self.scalar_expr(arg)).collect();
        if let Some(rule) = float_method_path(&path) {
            let method = path
                .segments
                .last()
                .map(|s| s.ident.clone())
                .expect("a path has segments");
            return self.float_method(
                rule,
                method,
                CallStyle::Path(path.clone()),
                args,
                call.span(),
                &expr,
            );
        }
        self.function_call(call, path, None)
    }

    /// A call of a function with a `_vjp`. It returns an array when the binding says so
    /// (`let y: [f64; 3] = g(x);`) or when the callee is one of grad's array helpers.
    fn function_call(
        &mut self,
        call: &syn::ExprCall,
        path: syn::Path,
        expected: Option<Ty>,
    ) -> Val {
        // `use fns::h;` in the body, then `h(x)`: the derivative is `fns::h_vjp`, which the
        // `use` did not bring in (a module-level `h_vjp` would be another function's).
        let path = match path
            .get_ident()
            .and_then(|name| self.imports.get(&name.to_string()))
        {
            Some(full) => full.clone(),
            None => path,
        };
        let mut args = Vec::new();
        // `grad::sigmoid(x)` of a float: a rule whose derivative reuses the output.
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let scalar_rule = rules::grad_scalar_function(&segments);
        for written in &call.args {
            // `g(&a)` passes an array by reference (to `g(a: &[f64; N])`).
            let (arg, by_reference) = match written {
                Expr::Reference(reference) if reference.mutability.is_none() => {
                    (&*reference.expr, true)
                }
                other => (other, false),
            };
            let value = if by_reference {
                match self.expr(arg) {
                    Val::Array(id) => Val::Array(id),
                    Val::Scalar(inner) => self.inactive(
                        InactiveExpr::Reference,
                        vec![inner],
                        Ty::Unknown,
                        written.span(),
                    ),
                    other => other,
                }
            } else {
                self.expr(arg)
            };
            match value {
                Val::Scalar(id) if call.args.len() == 1 && scalar_rule.is_some() => {
                    if let Some(rule) = scalar_rule {
                        let method = path
                            .segments
                            .last()
                            .map(|s| s.ident.clone())
                            .expect("a path has segments");
                        let expr = Expr::Call(call.clone());
                        return self.float_method(
                            rule,
                            method,
                            CallStyle::Path(path.clone()),
                            vec![id],
                            call.span(),
                            &expr,
                        );
                    }
                    args.push(CallArg::Scalar(id));
                }
                Val::Scalar(id) => args.push(CallArg::Scalar(id)),
                Val::Array(id) if matches!(self.graph.array(id).ty, Ty::Slice(_)) => {
                    return self.unsupported(arg, "passing a slice to a differentiable call is not supported yet: pass a fixed-size array");
                }
                Val::Array(id) => args.push(CallArg::Array {
                    array: id,
                    by_reference,
                }),
                Val::Never => return Val::Never,
                Val::Tuple(_) => {
                    return self.unsupported(
                        arg,
                        "a tuple cannot be passed to a differentiable call: pass its elements",
                    );
                }
            }
        }
        let array_ty = expected
            .filter(|t| matches!(t, Ty::Array(..)))
            .or_else(|| self.helper_result(&path, &args));
        match array_ty {
            Some(ty) => {
                let init = ArrayInit::Call { path, args };
                Val::Array(self.new_array(ty, init, call.span()))
            }
            None => self.push(Op::Call { path, args }, Ty::Unknown, call.span()),
        }
    }

    /// The array type one of grad's own array helpers returns (`rules::array_helper`).
    fn helper_result(&self, path: &syn::Path, args: &[CallArg]) -> Option<Ty> {
        let name = path.segments.last()?.ident.to_string();
        let Some(CallArg::Array { array: first, .. }) = args.first() else {
            return None;
        };
        let first = &self.graph.array(*first).ty;
        match rules::array_helper(&name)? {
            HelperShape::SameAsFirst => Some(first.clone()),
            HelperShape::OnePerRow => match first {
                Ty::Array(row, rows) => match &**row {
                    Ty::Array(elem, _) => Some(Ty::Array(elem.clone(), rows.clone())),
                    _ => None,
                },
                _ => None,
            },
        }
    }

    fn field(&mut self, field: &syn::ExprField) -> Val {
        let base = self.expr(&field.base);
        match (base, &field.member) {
            (Val::Tuple(elements), syn::Member::Unnamed(index)) => {
                match elements.get(index.index as usize) {
                    Some(element) => element.clone(),
                    None => self.unsupported(field, "this tuple has no such element"),
                }
            }
            (Val::Tuple(_), _) => self.unsupported(field, "a tuple has no named fields"),
            (Val::Array(_), _) => self.unsupported(field, "an array has no fields"),
            (Val::Never, _) => Val::Never,
            (Val::Scalar(base), member) => self.inactive(
                InactiveExpr::Field(member.clone()),
                vec![base],
                Ty::Unknown,
                field.span(),
            ),
        }
    }

    fn if_expr(&mut self, e: &syn::ExprIf) -> Val {
        if let Expr::Let(lets) = &*e.cond {
            return self.unsupported(lets, "`if let` is not supported in a differentiable function: compare values with `==`, `<`, ... or use `match` on an integer");
        }
        let cond = self.scalar_expr(&e.cond);
        let then_branch = &e.then_branch;
        let else_branch = e.else_branch.as_ref().map(|(_, expr)| &**expr);
        self.branch(
            cond,
            |this| this.block(then_branch),
            |this| match else_branch {
                Some(expr) => this.expr(expr),
                None => unit(),
            },
            e.if_token.span,
        )
    }

    /// A `match` on an integer or bool becomes a chain of `if`s, one per arm.
    fn match_expr(&mut self, e: &syn::ExprMatch) -> Val {
        let scrutinee = self.scalar_expr(&e.expr);
        if e.arms.is_empty() {
            return self.unsupported(e, "a `match` needs at least one arm");
        }
        self.arms(scrutinee, &e.arms)
    }

    fn arms(&mut self, scrutinee: ValueId, arms: &[syn::Arm]) -> Val {
        let (arm, rest) = arms.split_first().expect("arms is not empty");
        let span = arm.pat.span();
        // rustc proves the match exhaustive, so the last arm needs no test.
        if rest.is_empty() {
            return self.arm_body(scrutinee, arm);
        }
        let Some(test) = self.pattern_test(scrutinee, &arm.pat) else {
            return self.poison(span);
        };
        let test = match &arm.guard {
            Some((_, guard)) => {
                let guard = &**guard;
                let always = self.bool_constant(true, span);
                let matched = test.unwrap_or(always);
                let f = self.bool_constant(false, span);
                let bindings = pattern_binding(&arm.pat);
                match self.branch(
                    matched,
                    |this| {
                        this.in_scope(|this| {
                            if let Some(name) = &bindings {
                                this.bind(name.clone(), Val::Scalar(scrutinee));
                            }
                            Val::Scalar(this.scalar_expr(guard))
                        })
                    },
                    |_| Val::Scalar(f),
                    span,
                ) {
                    Val::Scalar(id) => Some(id),
                    _ => None,
                }
            }
            None => test,
        };
        match test {
            None => self.arm_body(scrutinee, arm),
            Some(test) => self.branch(
                test,
                |this| this.arm_body(scrutinee, arm),
                |this| this.arms(scrutinee, rest),
                span,
            ),
        }
    }

    fn arm_body(&mut self, scrutinee: ValueId, arm: &syn::Arm) -> Val {
        self.in_scope(|this| {
            if let Some(name) = pattern_binding(&arm.pat) {
                this.bind(name, Val::Scalar(scrutinee));
            }
            this.expr(&arm.body)
        })
    }

    /// `match scrutinee { pattern => true, _ => false }` in the generated code, for a pattern
    /// whose names only rustc can resolve.
    fn rustc_pattern_test(&mut self, scrutinee: ValueId, pattern: &Pat) -> Option<Option<ValueId>> {
        let matches = InactiveExpr::Matches(pattern.clone());
        match self.inactive(matches, vec![scrutinee], Ty::Bool, pattern.span()) {
            Val::Scalar(test) => Some(Some(test)),
            _ => None,
        }
    }

    /// The bool that tells whether `pattern` matches; `Some(None)` for a pattern that always
    /// matches, `None` after an error.
    fn pattern_test(&mut self, scrutinee: ValueId, pattern: &Pat) -> Option<Option<ValueId>> {
        let span = pattern.span();
        let equal = |this: &mut Self, value: ValueId| {
            this.binary_node(BinOp::Eq(syn::Token![==](span)), scrutinee, value, span)
        };
        match pattern {
            Pat::Wild(_) => Some(None),
            Pat::Ident(ident) if ident.by_ref.is_none() => match &ident.subpat {
                Some((_, sub)) => self.pattern_test(scrutinee, sub),
                // `A` may name a `const` item or bind a new variable, and only rustc knows
                // which: the generated code keeps the pattern as written.
                None => self.rustc_pattern_test(scrutinee, pattern),
            },
            Pat::Paren(inner) => self.pattern_test(scrutinee, &inner.pat),
            Pat::Lit(lit) => {
                let value = self.scalar_expr(&Expr::Lit(lit.clone()));
                Some(Some(equal(self, value)))
            }
            // A path may name a `const` or a unit enum variant: `match` resolves both,
            // where `==` would need `PartialEq`.
            Pat::Path(_) => self.rustc_pattern_test(scrutinee, pattern),
            Pat::Range(range) => {
                let mut tests = Vec::new();
                if let Some(start) = &range.start {
                    let start = self.scalar_expr(start);
                    tests.push(self.binary_node(
                        BinOp::Ge(syn::Token![>=](span)),
                        scrutinee,
                        start,
                        span,
                    ));
                }
                if let Some(end) = &range.end {
                    let end = self.scalar_expr(end);
                    let op = match range.limits {
                        syn::RangeLimits::Closed(_) => BinOp::Le(syn::Token![<=](span)),
                        syn::RangeLimits::HalfOpen(_) => BinOp::Lt(syn::Token![<](span)),
                    };
                    tests.push(self.binary_node(op, scrutinee, end, span));
                }
                let mut test: Option<ValueId> = None;
                for t in tests {
                    test = Some(match test {
                        None => t,
                        Some(acc) => {
                            self.binary_node(BinOp::And(syn::Token![&&](span)), acc, t, span)
                        }
                    });
                }
                Some(test)
            }
            Pat::Or(or) => {
                let mut tests = Vec::new();
                for case in &or.cases {
                    match self.pattern_test(scrutinee, case)? {
                        None => return Some(None),
                        Some(test) => tests.push(test),
                    }
                }
                Some(self.any(tests, span))
            }
            other => {
                self.diagnostics.error(
                    other,
                    "this pattern is not supported in a differentiable `match`: use literals, ranges (`1..=3`), constants, `|` and `_`",
                );
                None
            }
        }
    }

    fn for_loop(&mut self, e: &syn::ExprForLoop) -> Val {
        let label = e.label.as_ref().map(|l| l.name.ident.to_string());
        let Some(range) = RangeSyntax::parse(&e.expr) else {
            self.rewrites += 1;
            if let Some(rewritten) = iterators::desugar_for(e, self.rewrites) {
                return self.expr(&rewritten);
            }
            return self.unsupported(
                &e.expr,
                "`for` loops are supported over integer ranges (`a..b`, `a..=b`, `(a..b).rev()`, `(a..b).step_by(s)`, `(a..b).rev().step_by(s)`) and arrays (`x`, `x.iter()`, `x.iter().enumerate()`, `x.iter().zip(y.iter())`)",
            );
        };
        let pattern_name = match &*e.pat {
            Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                Some(ident.ident.to_string())
            }
            Pat::Wild(_) => None,
            other => {
                return self.unsupported(other, "the loop variable must be a name or `_`");
            }
        };
        self.lower_loop(
            LoopSyntax::Range(range, pattern_name),
            &e.body,
            label,
            e.span(),
        )
    }

    fn lower_loop(
        &mut self,
        syntax: LoopSyntax<'_>,
        body: &syn::Block,
        label: Option<String>,
        span: Span,
    ) -> Val {
        let id = self.next_loop_id;
        self.next_loop_id += 1;
        let is_loop_expr = matches!(syntax, LoopSyntax::Loop);

        // The range is evaluated once, before the loop.
        let range = match &syntax {
            LoopSyntax::Range(range, _) => {
                let start = self.scalar_expr(range.start);
                let end = self.scalar_expr(range.end);
                let step = range.step.map(|s| self.scalar_expr(s));
                let constant_bounds = [Some(start), Some(end), step]
                    .into_iter()
                    .flatten()
                    .all(|v| matches!(self.node(v).op, Op::Constant(_)));
                Some((
                    start,
                    end,
                    step,
                    range.inclusive,
                    range.reverse,
                    constant_bounds,
                ))
            }
            _ => None,
        };
        if is_loop_expr {
            let placeholder = self.placeholder(Ty::Unknown, span);
            self.bind(break_value(id), Val::Scalar(placeholder));
        }

        let scan = LoopScan::of(body, &syntax, label.as_deref());
        let mut carried_names: Vec<String> = Vec::new();
        for name in &scan.assigned {
            if self.lookup(name).is_some() && !carried_names.contains(name) {
                carried_names.push(name.clone());
            }
        }
        if scan.returns {
            carried_names.extend([RETURNED.to_owned(), RETURN_VALUE.to_owned()]);
        }
        for target in &scan.outer_labels {
            if let Some(outer) = self
                .loops
                .iter()
                .find(|l| l.label.as_deref() == Some(target))
            {
                carried_names.extend([broke(outer.id), continued(outer.id)]);
                if outer.has_value {
                    carried_names.push(break_value(outer.id));
                }
            }
        }
        if is_loop_expr && scan.breaks_with_value {
            carried_names.push(break_value(id));
        }

        let parent = self.region();
        let body_region = self.graph.new_region(Some(parent));
        self.graph.loop_bodies.push(body_region);
        let mut carried = Vec::new();
        for name in carried_names {
            let init = match self.lookup(&name).cloned() {
                Some(Val::Scalar(init)) => init,
                // Assigning a whole array is an error of its own, at the assignment.
                Some(Val::Array(_)) => continue,
                Some(_) => {
                    self.diagnostics.error_at(
                        span,
                        format!("the tuple `{name}` is assigned in this loop: assigning a whole tuple in a loop is not supported; use a separate variable for each element"),
                    );
                    continue;
                }
                None => continue,
            };
            let ty = self.node(init).ty.clone();
            let entry = self.define(Op::LoopEntry, ty, span, body_region);
            self.assign_name(&name, Val::Scalar(entry));
            carried.push((name, init, entry));
        }
        // Every iteration starts with no exit taken: the loop runs only where none was taken
        // before it, and stops after an iteration that takes one. Known-false flags keep the
        // body free of exit guards; the carried entries still feed the flags' values out.
        let exit_names = self.exit_flag_names();
        for name in &exit_names {
            if carried
                .iter()
                .any(|(carried_name, _, _)| carried_name == name)
            {
                self.set_flag(name, false, span);
            }
        }
        let before_loop: Vec<(String, Option<ValueId>)> = exit_names
            .into_iter()
            .filter(|name| {
                !carried
                    .iter()
                    .any(|(carried_name, _, _)| carried_name == name)
            })
            .map(|name| {
                let flag = self.flag(&name);
                (name, flag)
            })
            .collect();

        self.blocks.push(Block {
            region: body_region,
            stmts: Vec::new(),
        });
        self.scopes.push();
        self.loops.push(LoopContext {
            id,
            label,
            has_value: is_loop_expr,
        });
        let not_yet = self.bool_constant(false, span);
        self.bind(broke(id), Val::Scalar(not_yet));
        self.bind(continued(id), Val::Scalar(not_yet));
        let header = match (&syntax, range) {
            (
                LoopSyntax::Range(_, name),
                Some((start, end, step, inclusive, reverse, constant_bounds)),
            ) => {
                let counter = self.define(Op::LoopCounter, Ty::Int, span, body_region);
                if let Some(name) = name {
                    self.bind(name.clone(), Val::Scalar(counter));
                }
                LoopHeader::Range {
                    counter,
                    start,
                    end,
                    inclusive,
                    reverse,
                    step,
                    constant_bounds,
                }
            }
            _ => LoopHeader::Unbounded,
        };
        match &syntax {
            LoopSyntax::While(cond) => {
                let cond = self.scalar_expr(cond);
                let stop_name = broke(id);
                self.branch(
                    cond,
                    |this| this.stmts(&body.stmts),
                    |this| {
                        this.set_flag(&stop_name, true, span);
                        Val::Never
                    },
                    span,
                );
            }
            _ => {
                self.stmts(&body.stmts);
            }
        }
        // The loop stops after an iteration that broke out of it, returned, or left for an
        // outer loop.
        let mut stop_flags: Vec<ValueId> = self.flag(&broke(id)).into_iter().collect();
        stop_flags.extend(self.flag(RETURNED));
        let outer: Vec<String> = self.loops[..self.loops.len() - 1]
            .iter()
            .flat_map(|l| [broke(l.id), continued(l.id)])
            .collect();
        stop_flags.extend(outer.iter().filter_map(|n| self.flag(n)));
        let stop = self.any(stop_flags, span);
        if matches!(header, LoopHeader::Unbounded) && stop.is_none() {
            self.diagnostics
                .error_at(span, "this loop never ends: give it a `break`");
        }
        self.loops.pop();
        // Carried variables live outside the loop: a body's `let` that shadows one, or a
        // `for` variable of the same name, is dropped with the loop's scope before the next
        // values are read.
        self.scopes.pop();
        let nexts: Vec<ValueId> = carried
            .iter()
            .map(|(name, init, _)| match self.lookup(name) {
                Some(Val::Scalar(next)) => *next,
                _ => *init,
            })
            .collect();
        let body = self.blocks.pop().expect("the loop body block is open");

        // A flag the loop does not carry cannot change in it (no exit of that kind is inside),
        // but guards in the body may have rebound it to a value of the body's own.
        for (name, flag) in before_loop {
            if let Some(flag) = flag {
                self.assign_name(&name, Val::Scalar(flag));
            }
        }
        let mut carried_vars = Vec::new();
        for ((name, init, entry), next) in carried.into_iter().zip(nexts) {
            let ty = unify(&self.node(init).ty, &self.node(next).ty);
            self.graph.node_mut(entry).ty = ty.clone();
            let exit = self.define(Op::LoopExit, ty, span, parent);
            self.assign_name(&name, Val::Scalar(exit));
            carried_vars.push(Carried {
                init,
                entry,
                next,
                exit,
            });
        }
        self.blocks
            .last_mut()
            .expect("a block is always open")
            .stmts
            .push(Stmt::Loop(Box::new(Loop {
                id,
                header,
                carried: carried_vars,
                body,
                stop,
                span,
            })));
        if is_loop_expr {
            self.lookup(&break_value(id)).cloned().unwrap_or_else(unit)
        } else {
            unit()
        }
    }

    // ----- arrays -----

    fn new_array(&mut self, ty: Ty, init: ArrayInit, span: Span) -> ArrayId {
        let region = self.region();
        let id = ArrayId(self.graph.arrays.len());
        self.graph.arrays.push(Array {
            ty,
            init,
            region,
            span,
            active: false,
            written: false,
            seq: self.graph.nodes.len(),
        });
        self.blocks
            .last_mut()
            .expect("a block is always open")
            .stmts
            .push(Stmt::ArrayDecl(id));
        id
    }

    fn array_literal(&mut self, literal: &syn::ExprArray) -> Val {
        let span = literal.span();
        let len = literal.elems.len();
        let nested = literal.elems.iter().all(|e| matches!(e, Expr::Array(_)));
        if nested && len > 0 {
            let mut rows = Vec::new();
            for row in &literal.elems {
                let Expr::Array(row) = row else {
                    unreachable!("checked above")
                };
                rows.push(
                    row.elems
                        .iter()
                        .map(|e| self.scalar_expr(e))
                        .collect::<Vec<_>>(),
                );
            }
            let width = rows[0].len();
            if rows.iter().any(|r| r.len() != width) {
                return self.unsupported(literal, "the rows of this matrix have different lengths");
            }
            let elem = rows
                .iter()
                .flatten()
                .fold(Ty::Float(None), |t, v| unify(&t, &self.node(*v).ty));
            let ty = Ty::Array(
                Box::new(Ty::Array(Box::new(elem), Len(quote!(#width)))),
                Len(quote!(#len)),
            );
            return Val::Array(self.new_array(ty, ArrayInit::Literal2(rows), span));
        }
        let elements: Vec<ValueId> = literal.elems.iter().map(|e| self.scalar_expr(e)).collect();
        let elem = elements
            .iter()
            .fold(Ty::Float(None), |t, v| unify(&t, &self.node(*v).ty));
        let ty = Ty::Array(Box::new(elem), Len(quote!(#len)));
        Val::Array(self.new_array(ty, ArrayInit::Literal(elements), span))
    }

    fn array_repeat(&mut self, repeat: &syn::ExprRepeat) -> Val {
        let span = repeat.span();
        let outer = repeat.len.to_token_stream();
        let (value, ty) = match &*repeat.expr {
            Expr::Repeat(inner) => {
                let value = self.scalar_expr(&inner.expr);
                let inner_len = inner.len.to_token_stream();
                let elem = self.node(value).ty.clone();
                (
                    value,
                    Ty::Array(
                        Box::new(Ty::Array(Box::new(elem), Len(inner_len))),
                        Len(outer),
                    ),
                )
            }
            expr => {
                let value = self.scalar_expr(expr);
                (
                    value,
                    Ty::Array(Box::new(self.node(value).ty.clone()), Len(outer)),
                )
            }
        };
        Val::Array(self.new_array(ty, ArrayInit::Repeat { value }, span))
    }

    /// `a[i]`, `w[i][j]` (an element), or `w[i]` of a matrix (a copy of the row).
    fn index(&mut self, index: &syn::ExprIndex) -> Val {
        let (base, index_exprs) = index_chain(index);
        if let Some(range) = index_exprs.iter().find(|e| matches!(e, Expr::Range(_))) {
            return self.unsupported(range, "sub-slices (`x[1..]`, `&x[a..b]`) are not supported yet: loop over the indices of the part (`for i in 1..x.len() { .. x[i] .. }`)");
        }
        let array = match self.expr(base) {
            Val::Array(array) => array,
            // A constant whose type only rustc knows (`origin: Vec3` left out by `wrt`):
            // indexed as written, with no derivative.
            Val::Scalar(id) if matches!(self.node(id).ty, Ty::Other | Ty::Unknown) => {
                let mut args = vec![id];
                args.extend(index_exprs.iter().map(|e| self.scalar_expr(e)));
                return self.inactive(InactiveExpr::Index, args, Ty::Unknown, index.span());
            }
            _ => return self.unsupported(
                base,
                "only fixed-size arrays and `&[f64]` slice parameters can be indexed or iterated in a differentiable function: use an array `[f64; N]`, or take a slice",
            ),
        };
        let indices: Vec<ValueId> = index_exprs.iter().map(|e| self.scalar_expr(e)).collect();
        let ty = self.graph.array(array).ty.clone();
        let mut elem = &ty;
        for (depth, _) in indices.iter().enumerate() {
            match elem {
                Ty::Array(inner, _) | Ty::Slice(inner) => elem = inner,
                // `[Vec3; N]` as a constant (an element type grad cannot see is never
                // differentiated): the element as grad sees it, indexed further as written.
                Ty::Unknown if depth > 0 && !self.graph.array(array).active => {
                    let outer = indices[..depth].to_vec();
                    let read = self.push(
                        Op::ArrayRead {
                            array,
                            indices: outer,
                        },
                        Ty::Unknown,
                        index.span(),
                    );
                    let Val::Scalar(read) = read else {
                        unreachable!("an element read is a scalar")
                    };
                    let mut args = vec![read];
                    args.extend(&indices[depth..]);
                    return self.inactive(InactiveExpr::Index, args, Ty::Unknown, index.span());
                }
                // `[Vec3; N]`: the element type is a name grad cannot see into.
                Ty::Unknown => {
                    // Once per array, however often it is indexed.
                    if !self.unseen_elements.insert(array) {
                        return self.poison(index.span());
                    }
                    return self.unsupported(index, "grad cannot see the element type of this array, so it cannot index it this deep: write the element type out in the signature (`[[f64; 3]; N]`, not `[Vec3; N]`)");
                }
                _ => {
                    return self.unsupported(index, "this array has fewer dimensions than indices");
                }
            }
        }
        match elem {
            Ty::Array(..) if indices.len() == 1 => {
                let init = ArrayInit::Row {
                    source: array,
                    index: indices[0],
                };
                Val::Array(self.new_array(elem.clone(), init, index.span()))
            }
            Ty::Array(..) => self.unsupported(index, "index every dimension of this array"),
            scalar => {
                // `x[i] * x[i]` reads one value: the same element, read again in the same
                // block with no write to the array in between, is the same node (and then
                // `x * x` gets its one-term derivative).
                let key = (array, indices.clone());
                let region = self.region();
                if let Some(&earlier) = self.element_reads.get(&key) {
                    let unchanged = !self
                        .graph
                        .writes
                        .iter()
                        .any(|w| w.array == array && w.seq > earlier.0);
                    if unchanged && self.node(earlier).region == region {
                        return Val::Scalar(earlier);
                    }
                }
                let read = self.push(
                    Op::ArrayRead { array, indices },
                    scalar.clone(),
                    index.span(),
                );
                if let Val::Scalar(id) = read {
                    self.element_reads.insert(key, id);
                }
                read
            }
        }
    }

    fn write_element(&mut self, place: &syn::ExprIndex, value: Val) {
        let (base, index_exprs) = index_chain(place);
        let Val::Array(array) = self.expr(base) else {
            self.diagnostics.error(
                base,
                "only fixed-size arrays and `&[f64]` slice parameters can be indexed or iterated in a differentiable function: use an array `[f64; N]`, or take a slice",
            );
            return;
        };
        let indices: Vec<ValueId> = index_exprs.iter().map(|e| self.scalar_expr(e)).collect();
        let depth = array_depth(&self.graph.array(array).ty);
        if indices.len() != depth {
            self.diagnostics
                .error(place, "assign one element at a time: index every dimension");
            return;
        }
        let value = self.scalar(value, &Expr::Index(place.clone()));
        self.graph.arrays[array.0].written = true;
        let region = self.region();
        self.graph.writes.push(WriteRecord {
            array,
            region,
            seq: self.graph.nodes.len(),
        });
        self.blocks
            .last_mut()
            .expect("a block is always open")
            .stmts
            .push(Stmt::ArrayWrite(ArrayWrite {
                array,
                indices,
                value,
                span: place.span(),
            }));
    }

    fn loop_target(&mut self, label: Option<&syn::Lifetime>, span: Span) -> Option<(usize, bool)> {
        let found = match label {
            None => self.loops.last(),
            Some(label) => {
                let name = label.ident.to_string();
                self.loops
                    .iter()
                    .rev()
                    .find(|l| l.label.as_deref() == Some(name.as_str()))
            }
        };
        match found {
            Some(l) => Some((l.id, l.has_value)),
            None => {
                self.diagnostics
                    .error_at(span, "this `break` or `continue` has no loop to leave");
                None
            }
        }
    }

    fn break_expr(&mut self, e: &syn::ExprBreak) -> Val {
        let Some((id, has_value)) = self.loop_target(e.label.as_ref(), e.span()) else {
            return Val::Never;
        };
        if let Some(value) = &e.expr {
            if !has_value {
                return self.unsupported(e, "only `loop` can `break` with a value");
            }
            let value = self.expr(value);
            self.assign_name(&break_value(id), value);
        }
        self.set_flag(&broke(id), true, e.span());
        Val::Never
    }

    fn continue_expr(&mut self, e: &syn::ExprContinue) -> Val {
        if let Some((id, _)) = self.loop_target(e.label.as_ref(), e.span()) {
            self.set_flag(&continued(id), true, e.span());
        }
        Val::Never
    }
}

/// `w[i][j]` as `w` and `[i, j]`.
fn index_chain(index: &syn::ExprIndex) -> (&Expr, Vec<&Expr>) {
    let mut indices = vec![&*index.index];
    let mut base = &*index.expr;
    loop {
        match base {
            Expr::Index(inner) => {
                indices.push(&*inner.index);
                base = &inner.expr;
            }
            Expr::Paren(inner) => base = &inner.expr,
            Expr::Group(inner) => base = &inner.expr,
            _ => break,
        }
    }
    indices.reverse();
    (base, indices)
}

fn array_depth(ty: &Ty) -> usize {
    match ty {
        Ty::Array(inner, _) | Ty::Slice(inner) => 1 + array_depth(inner),
        _ => 0,
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

/// The name a match arm binds the scrutinee to (`n` in `n @ 1..=3` or in `n`).
fn pattern_binding(pattern: &Pat) -> Option<String> {
    match pattern {
        // A bare name that is a `const` matched only if the value equals it: binding the
        // name to the value then changes nothing.
        Pat::Ident(ident) => Some(ident.ident.to_string()),
        Pat::Paren(inner) => pattern_binding(&inner.pat),
        // `k @ 1 | k @ 2` binds `k` in every case; in `A | B` the names are constants, which
        // the arm reads as they are (binding `A` to a value equal to `B` would be wrong).
        Pat::Or(or) => {
            let names: Vec<Option<String>> = or
                .cases
                .iter()
                .map(|case| match case {
                    Pat::Ident(ident) if ident.subpat.is_some() => Some(ident.ident.to_string()),
                    _ => None,
                })
                .collect();
            let first = names.first().cloned().flatten()?;
            names
                .iter()
                .all(|n| n.as_deref() == Some(&first))
                .then_some(first)
        }
        _ => None,
    }
}

enum LoopSyntax<'a> {
    Range(RangeSyntax<'a>, Option<String>),
    While(&'a Expr),
    Loop,
}

/// `a..b`, `a..=b`, `(a..b).rev()`, `(a..b).step_by(s)`, `(a..b).rev().step_by(s)`.
struct RangeSyntax<'a> {
    start: &'a Expr,
    end: &'a Expr,
    inclusive: bool,
    reverse: bool,
    step: Option<&'a Expr>,
}

impl<'a> RangeSyntax<'a> {
    fn parse(expr: &'a Expr) -> Option<RangeSyntax<'a>> {
        match expr {
            Expr::Paren(inner) => RangeSyntax::parse(&inner.expr),
            Expr::Group(inner) => RangeSyntax::parse(&inner.expr),
            Expr::Range(range) => Some(RangeSyntax {
                start: range.start.as_deref()?,
                end: range.end.as_deref()?,
                inclusive: matches!(range.limits, syn::RangeLimits::Closed(_)),
                reverse: false,
                step: None,
            }),
            Expr::MethodCall(call) if call.method == "rev" && call.args.is_empty() => {
                let inner = RangeSyntax::parse(&call.receiver)?;
                (!inner.reverse && inner.step.is_none()).then_some(RangeSyntax {
                    reverse: true,
                    ..inner
                })
            }
            Expr::MethodCall(call) if call.method == "step_by" && call.args.len() == 1 => {
                let inner = RangeSyntax::parse(&call.receiver)?;
                inner.step.is_none().then_some(RangeSyntax {
                    step: call.args.first(),
                    ..inner
                })
            }
            _ => None,
        }
    }
}

/// What a loop body does to the world outside it, read off the syntax before lowering: the
/// variables it assigns and the exits that leave it.
#[derive(Default)]
struct LoopScan {
    assigned: Vec<String>,
    returns: bool,
    /// Labels of enclosing loops that the body breaks out of or continues.
    outer_labels: Vec<String>,
    breaks_with_value: bool,
    label: Option<String>,
    inner_labels: Vec<Option<String>>,
}

impl LoopScan {
    fn of(body: &syn::Block, syntax: &LoopSyntax<'_>, label: Option<&str>) -> LoopScan {
        let mut scan = LoopScan {
            label: label.map(str::to_owned),
            ..LoopScan::default()
        };
        if let LoopSyntax::While(cond) = syntax {
            scan.visit_expr(cond);
        }
        scan.visit_block(body);
        scan
    }

    fn assigned_place(&mut self, place: &Expr) {
        match place {
            Expr::Path(path) => {
                if let Some(ident) = path.path.get_ident() {
                    self.assigned.push(ident.to_string());
                }
            }
            Expr::Paren(inner) => self.assigned_place(&inner.expr),
            Expr::Tuple(tuple) => tuple.elems.iter().for_each(|e| self.assigned_place(e)),
            _ => {}
        }
    }

    fn exit(&mut self, label: Option<&syn::Lifetime>, with_value: bool) {
        match label.map(|l| l.ident.to_string()) {
            None => {
                if self.inner_labels.is_empty() && with_value {
                    self.breaks_with_value = true;
                }
            }
            Some(name) => {
                if self
                    .inner_labels
                    .iter()
                    .any(|l| l.as_deref() == Some(name.as_str()))
                {
                    return;
                }
                if self.label.as_deref() == Some(name.as_str()) {
                    self.breaks_with_value |= with_value;
                } else if !self.outer_labels.contains(&name) {
                    self.outer_labels.push(name);
                }
            }
        }
    }

    fn nested(&mut self, label: Option<&syn::Label>, visit: impl FnOnce(&mut Self)) {
        self.inner_labels
            .push(label.map(|l| l.name.ident.to_string()));
        visit(self);
        self.inner_labels.pop();
    }
}

impl<'ast> Visit<'ast> for LoopScan {
    fn visit_expr_assign(&mut self, e: &'ast syn::ExprAssign) {
        self.assigned_place(&e.left);
        syn::visit::visit_expr_assign(self, e);
    }

    fn visit_expr_binary(&mut self, e: &'ast syn::ExprBinary) {
        if matches!(
            e.op,
            BinOp::AddAssign(_)
                | BinOp::SubAssign(_)
                | BinOp::MulAssign(_)
                | BinOp::DivAssign(_)
                | BinOp::RemAssign(_)
                | BinOp::BitAndAssign(_)
                | BinOp::BitOrAssign(_)
                | BinOp::BitXorAssign(_)
                | BinOp::ShlAssign(_)
                | BinOp::ShrAssign(_)
        ) {
            self.assigned_place(&e.left);
        }
        syn::visit::visit_expr_binary(self, e);
    }

    fn visit_expr_return(&mut self, e: &'ast syn::ExprReturn) {
        self.returns = true;
        syn::visit::visit_expr_return(self, e);
    }

    fn visit_expr_break(&mut self, e: &'ast syn::ExprBreak) {
        self.exit(e.label.as_ref(), e.expr.is_some());
        syn::visit::visit_expr_break(self, e);
    }

    fn visit_expr_continue(&mut self, e: &'ast syn::ExprContinue) {
        self.exit(e.label.as_ref(), false);
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.visit_expr(&e.expr);
        self.nested(e.label.as_ref(), |this| this.visit_block(&e.body));
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.nested(e.label.as_ref(), |this| {
            this.visit_expr(&e.cond);
            this.visit_block(&e.body);
        });
    }

    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.nested(e.label.as_ref(), |this| this.visit_block(&e.body));
    }

    // A closure that the iterator rewrite inlines assigns what its body assigns
    // (`.map(|v| { s += v * v; v })`): those variables are carried by the loop too.
    fn visit_item(&mut self, _: &'ast Item) {}
}

/// `f64::sin` and `f32::max` name float methods in path form.
fn float_method_path(path: &syn::Path) -> Option<&'static rules::MethodRule> {
    if !float_owner(path) {
        return None;
    }
    let last = path.segments.last()?;
    if !last.arguments.is_none() {
        return None;
    }
    rules::method(&last.ident.to_string())
}

/// The names a `use` brings into scope; `None` for a glob.
fn use_names(tree: &syn::UseTree) -> Option<Vec<String>> {
    match tree {
        syn::UseTree::Path(path) => use_names(&path.tree),
        syn::UseTree::Name(name) => Some(vec![name.ident.to_string()]),
        syn::UseTree::Rename(rename) => Some(vec![rename.rename.to_string()]),
        syn::UseTree::Glob(_) => None,
        syn::UseTree::Group(group) => {
            let mut names = Vec::new();
            for tree in &group.items {
                names.extend(use_names(tree)?);
            }
            Some(names)
        }
    }
}

/// Each name a `use` brings in, with its full path: `use fns::{h, g as k};` gives `h` →
/// `fns::h` and `k` → `fns::g`.
fn imported_paths(
    tree: &syn::UseTree,
    prefix: &mut Vec<syn::Ident>,
    out: &mut HashMap<String, syn::Path>,
) {
    let full = |prefix: &[syn::Ident], last: &syn::Ident| -> syn::Path {
        let segments = prefix.iter().chain(std::iter::once(last));
        syn::parse_quote!(#(#segments)::*)
    };
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.clone());
            imported_paths(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(name) if name.ident != "self" => {
            out.insert(name.ident.to_string(), full(prefix, &name.ident));
        }
        syn::UseTree::Rename(rename) if rename.ident != "self" => {
            out.insert(rename.rename.to_string(), full(prefix, &rename.ident));
        }
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                imported_paths(tree, prefix, out);
            }
        }
        _ => {}
    }
}

/// Every name a parameter or a pattern of the body binds.
fn bound_names(body: &syn::Block, signature: &Signature) -> std::collections::HashSet<String> {
    struct Patterns(std::collections::HashSet<String>);
    impl<'ast> Visit<'ast> for Patterns {
        fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
            self.0.insert(pat.ident.to_string());
            syn::visit::visit_pat_ident(self, pat);
        }
    }
    let mut names = Patterns(
        signature
            .params
            .iter()
            .map(|p| p.ident.to_string())
            .collect(),
    );
    names.visit_block(body);
    names.0
}
