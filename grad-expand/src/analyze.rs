//! Analysis after lowering: which nodes are active, what float types they have, and the
//! checks that depend on both.
//!
//! A node is active when it is a float that depends on a differentiated parameter; only active
//! nodes get adjoints. Activity flows forward through every operation with a derivative, into
//! `if` merges, and around loops (a carried variable is active if its start or its update is),
//! so the pass repeats until nothing changes. Float types that lowering could not see (the
//! result of a call, a literal that meets a typed value in a loop) are settled the same way.

use crate::diagnostics::Diagnostics;
use crate::graph::unify;
use crate::graph::{
    ArrayId, ArrayInit, BinaryOp, Block, CallArg, Graph, InactiveExpr, Op, Stmt, Ty, ValueId,
    scalar_args,
};
use crate::rules::{self, Derivative};
use crate::signature::float_owner;

pub fn analyze(graph: &mut Graph, body: &Block, diagnostics: &mut Diagnostics) {
    while propagate(graph, body) {}
    settle_views(graph);
    check(graph, diagnostics);
}

/// A view's elements have its source's float type. (Its activity is its source's, which
/// every phase reads through `Graph::view_source`.)
fn settle_views(graph: &mut Graph) {
    for index in 0..graph.arrays.len() {
        let source = graph.view_source(ArrayId(index));
        if source.0 != index {
            let elem = graph.array(source).ty.scalar().clone();
            let scalar = scalar_mut(&mut graph.arrays[index].ty);
            if matches!(scalar, Ty::Float(None) | Ty::Unknown) && elem.is_float() {
                *scalar = elem;
            }
        }
    }
}

/// The callees whose `_vjp` the reverse sweep would call: those called with a value being
/// differentiated. For a body with errors, so that a missing `_vjp` is reported in the same
/// build as the macro's own errors.
pub fn differentiated_callees(graph: &mut Graph, body: &Block) -> Vec<syn::Path> {
    while propagate(graph, body) {}
    let mut callees: Vec<syn::Path> = Vec::new();
    let mut add = |path: &syn::Path, active: bool| {
        if active && !callees.contains(path) && !float_owner(path) && !constructs_data(path) {
            callees.push(path.clone());
        }
    };
    for node in &graph.nodes {
        if let Op::Call { path, args } = &node.op {
            add(path, call_activity(graph, args).0);
        }
    }
    for array in &graph.arrays {
        if let ArrayInit::Call { path, args } = &array.init {
            add(path, call_activity(graph, args).0);
        }
    }
    callees
}

/// One forward pass; true if anything changed.
fn propagate(graph: &mut Graph, block: &Block) -> bool {
    let mut changed = false;
    for stmt in &block.stmts {
        match stmt {
            Stmt::Node(id) => changed |= update(graph, *id),
            Stmt::ArrayDecl(array) => {
                let sources: Vec<ValueId> = match &graph.array(*array).init {
                    ArrayInit::Param { .. } => Vec::new(),
                    ArrayInit::Literal(values) => values.clone(),
                    ArrayInit::Literal2(rows) => rows.iter().flatten().copied().collect(),
                    ArrayInit::Repeat { value } => vec![*value],
                    ArrayInit::Call { args, .. } => {
                        let (active, ty) = call_activity(graph, args);
                        changed |= set_array(graph, *array, active, &ty);
                        Vec::new()
                    }
                    ArrayInit::Heap { value, .. } => vec![*value],
                    ArrayInit::View { .. } => Vec::new(),
                    ArrayInit::Copy(source) | ArrayInit::Row { source, .. } => {
                        let (active, ty) = {
                            let source = graph.array(*source);
                            (source.active, source.ty.scalar().clone())
                        };
                        changed |= set_array(graph, *array, active, &ty);
                        Vec::new()
                    }
                };
                for source in sources {
                    let (active, ty) = (graph.node(source).active, graph.node(source).ty.clone());
                    changed |= set_array(graph, *array, active, &ty);
                }
            }
            Stmt::ArrayWrite(write) => {
                let (active, ty) = (
                    graph.node(write.value).active,
                    graph.node(write.value).ty.clone(),
                );
                changed |= set_array(graph, write.array, active, &ty);
            }
            Stmt::If(branch) => {
                changed |= propagate(graph, &branch.then_block);
                changed |= propagate(graph, &branch.else_block);
                for merge in &branch.merges {
                    changed |= join(graph, merge.out, &[merge.then_value, merge.else_value]);
                }
            }
            Stmt::Loop(l) => {
                for carried in &l.carried {
                    changed |= join(graph, carried.entry, &[carried.init, carried.next]);
                }
                changed |= propagate(graph, &l.body);
                for carried in &l.carried {
                    changed |= join(graph, carried.exit, &[carried.entry, carried.next]);
                }
            }
        }
    }
    changed
}

/// A merge, entry or exit is active if any of its sources is, and has their float type.
fn join(graph: &mut Graph, target: ValueId, sources: &[ValueId]) -> bool {
    let active = sources.iter().any(|s| graph.node(*s).active);
    let ty = sources.iter().fold(graph.node(target).ty.clone(), |ty, s| {
        unify(&ty, &graph.node(*s).ty)
    });
    set(graph, target, active, ty)
}

fn set(graph: &mut Graph, id: ValueId, active: bool, ty: Ty) -> bool {
    let node = graph.node_mut(id);
    let active = node.active || active;
    let ty = if matches!(node.ty, Ty::Unknown | Ty::Float(None)) && ty != Ty::Unknown {
        ty
    } else {
        node.ty.clone()
    };
    let changed = node.active != active || node.ty != ty;
    node.active = active;
    node.ty = ty;
    changed
}

/// An array is active once any element can be, and its elements have the float type its
/// values have.
fn set_array(graph: &mut Graph, id: ArrayId, active: bool, elem: &Ty) -> bool {
    let array = &mut graph.arrays[id.0];
    let mut changed = active && !array.active;
    array.active |= active;
    let scalar = scalar_mut(&mut array.ty);
    if matches!(scalar, Ty::Float(None) | Ty::Unknown) && elem.is_float() && scalar != elem {
        *scalar = unify(scalar, elem);
        changed = true;
    }
    changed
}

fn scalar_mut(ty: &mut Ty) -> &mut Ty {
    match ty {
        Ty::Array(elem, _) | Ty::Slice(elem) => scalar_mut(elem),
        other => other,
    }
}

/// Whether any argument of a call is differentiated, and the first known float type among
/// them.
fn call_activity(graph: &Graph, args: &[CallArg]) -> (bool, Ty) {
    let mut active = false;
    let mut float = Ty::Float(None);
    for arg in args {
        let (arg_active, ty) = match arg {
            CallArg::Scalar(id) => (graph.node(*id).active, graph.node(*id).ty.clone()),
            CallArg::Array { array: id, .. } => (
                graph.array(graph.view_source(*id)).active,
                graph.array(graph.view_source(*id)).ty.scalar().clone(),
            ),
        };
        active |= arg_active;
        if float == Ty::Float(None) && matches!(ty, Ty::Float(Some(_))) {
            float = ty;
        }
    }
    (active, float)
}

fn update(graph: &mut Graph, id: ValueId) -> bool {
    let node = graph.node(id);
    let is_active = |a: &ValueId| graph.node(*a).active;
    let ty_of = |a: &ValueId| graph.node(*a).ty.clone();
    let (active, ty) = match &node.op {
        Op::Neg(a) => (is_active(a), ty_of(a)),
        Op::ArrayRead { array, .. } => {
            let array = graph.array(*array);
            (array.active, array.ty.scalar().clone())
        }
        Op::Annotated { value, .. } => (is_active(value), node.ty.clone()),
        Op::Binary {
            op: BinaryOp::Other,
            ..
        } => (false, node.ty.clone()),
        Op::Binary { lhs, rhs, .. } => (
            is_active(lhs) || is_active(rhs),
            unify(&ty_of(lhs), &ty_of(rhs)),
        ),
        Op::Cast { value, .. } => (is_active(value) && node.ty.is_float(), node.ty.clone()),
        Op::FloatMethod { rule, args, .. } => {
            let active = rule.derivative == Derivative::Pullback
                && args
                    .iter()
                    .enumerate()
                    .any(|(i, a)| rule.arg_is_float(i) && is_active(a));
            let ty = match rule.derivative {
                Derivative::NotFloat => Ty::Bool,
                _ => args
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| rule.arg_is_float(*i))
                    .fold(node.ty.clone(), |ty, (_, a)| unify(&ty, &ty_of(a))),
            };
            (active, ty)
        }
        Op::Call { args, .. } => {
            // A call with a differentiated argument is a differentiable function: it returns
            // a float, taken to be the type of its first float argument.
            let (active, float) = call_activity(graph, args);
            let ty = if active { float } else { node.ty.clone() };
            (active, ty)
        }
        _ => return false,
    };
    set(graph, id, active, ty)
}

/// The errors that depend on activity: a differentiated value flowing where it cannot be
/// differentiated.
fn check(graph: &Graph, diagnostics: &mut Diagnostics) {
    let mut tuple_calls = std::collections::HashSet::new();
    for node in &graph.nodes {
        match &node.op {
            Op::Inactive { template, args } => {
                if !args.iter().any(|a| graph.node(*a).active) {
                    continue;
                }
                let message = match template {
                    InactiveExpr::Method { method, .. } if graph.node(args[0]).ty.is_float() => no_derivative(method),
                    InactiveExpr::Method { method, .. } => format!(
                        "cannot differentiate through `{method}`: it is not a float method with a derivative"
                    ),
                    InactiveExpr::Field(_) => match &graph.node(args[0]).op {
                        Op::Call { path, .. } => {
                            // Once per call, at the call, however many fields are read.
                            if tuple_calls.insert(args[0]) {
                                let callee = crate::diagnostics::spelled(path);
                                diagnostics.error_at(graph.node(args[0]).span, format!("`{callee}` returns a tuple, and calls whose result is a tuple are not differentiated yet: give each element a function of its own that returns one float, or write the callee's body here"));
                            }
                            continue;
                        }
                        _ => "a float has no fields".to_owned(),
                    },
                    InactiveExpr::Deref => "`*` cannot apply to a value being differentiated".to_owned(),
                    InactiveExpr::Reference => {
                        "cannot take a reference to a value being differentiated: pass the value itself".to_owned()
                    }
                    InactiveExpr::Not => "`!` cannot apply to a value being differentiated".to_owned(),
                    InactiveExpr::Index => match &graph.node(args[0]).op {
                        Op::Call { path, .. } => {
                            // Once per call, at the call, however many elements are read.
                            if tuple_calls.insert(args[0]) {
                                let callee = crate::diagnostics::spelled(path);
                                diagnostics.error_at(graph.node(args[0]).span, format!("grad cannot see the type `{callee}` returns, and its result is indexed: give the binding the callee's array type (`let v: [f64; 3] = {callee}(..);`)"));
                            }
                            continue;
                        }
                        _ => "only arrays and slices whose type is written out can be indexed with a derivative: write the parameter's type out (`[f64; 3]`, not an alias)".to_owned(),
                    },
                    // The pattern's test reports it, once.
                    InactiveExpr::Binding { .. } => continue,
                    // An ordering or a length: nothing to differentiate.
                    InactiveExpr::Compare(_) | InactiveExpr::RowLen(_) => continue,
                    InactiveExpr::Matches(pattern) if crate::graph::pattern_holds_data(pattern) => "grad cannot differentiate through a pattern of data (`Some(t)`, `Lower(i, lo)`) on a value that depends on a differentiated input: keep the float in a local of its own, and what says which case applies in another (a `bool` or an index)".to_owned(),
                    InactiveExpr::Matches(_) => "cannot `match` on a value being differentiated: compare it with `if` (`if x < 1.0 { .. } else { .. }`)".to_owned(),
                };
                diagnostics.error_at(node.span, message);
            }
            Op::Call { path, .. } if node.active && constructs_data(path) => {
                let name = crate::diagnostics::spelled(path);
                diagnostics.error_at(node.span, format!("`{name}(..)` builds an enum or struct value from a value being differentiated, which grad cannot differentiate yet: keep the float in a local of its own, and what says which case applies in another (a `bool` or an index)"));
            }
            Op::Call { path, args } if node.active => {
                if float_owner(path) {
                    let method = &path.segments.last().expect("a path has segments").ident;
                    diagnostics.error_at(method.span(), no_derivative(method));
                    continue;
                }
                for arg in scalar_args(args) {
                    if graph.node(arg).ty == Ty::Unknown {
                        diagnostics.error_at(
                            graph.node(arg).span,
                            "grad cannot tell whether this argument is a float, which it needs to match the callee's `_vjp`: bind it to a local with a type (`let v: f64 = ...;`)",
                        );
                    }
                }
            }
            Op::Cast { value, to } if graph.node(*value).active && node.ty == Ty::Unknown => {
                let to = quote::quote!(#to).to_string();
                diagnostics.error_at(
                    node.span,
                    format!("grad cannot tell whether `{to}` is a float type, so it cannot differentiate this cast: write `f64` or `f32`"),
                );
            }
            Op::Cast { value, .. } if node.active && graph.node(*value).ty == Ty::Float(None) => {
                diagnostics.error_at(
                    graph.node(*value).span,
                    "grad cannot tell the float type of this value: bind it to a local with a type (`let v: f64 = ...;`) before the cast",
                );
            }
            _ => {}
        }
    }
}

fn no_derivative(method: &syn::Ident) -> String {
    format!(
        "`{method}` has no derivative in grad; the float methods with derivatives are {}. To use `{method}`, call it in a helper function `h` and write `h_vjp` by hand",
        rules::differentiable_names().collect::<Vec<_>>().join(", ")
    )
}

/// A path that by Rust's naming convention builds data rather than calling a function: an
/// enum variant or tuple struct (`Some`, `Constraint::Lower`, `Point`).
fn constructs_data(path: &syn::Path) -> bool {
    path.segments
        .last()
        .and_then(|last| last.ident.to_string().chars().next())
        .is_some_and(char::is_uppercase)
}
