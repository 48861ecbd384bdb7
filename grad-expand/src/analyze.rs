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
    ArrayId, ArrayInit, BinaryOp, Block, CallArg, Graph, InactiveExpr, Mention, Op, Stmt, Ty,
    ValueId, scalar_args,
};
use crate::rules::{self, Derivative};
use crate::signature::float_owner;

/// `fields_float`: the float type a differentiated struct's field takes where its use shows it
/// is a float but not which (the function's own): its code then needs no inference from a
/// literal (`0.2 * p.a` beside `let mut s = 0.5;`), which another crate's `f64x2: Add<f64>` can
/// make ambiguous. A field of another float type is a type error, never a silent reading.
pub fn analyze(
    graph: &mut Graph,
    body: &Block,
    fields_float: Option<crate::graph::FloatTy>,
    diagnostics: &mut Diagnostics,
) {
    while propagate(graph, body) {}
    if let Some(float) = fields_float {
        let untyped_fields: Vec<ValueId> = (0..graph.nodes.len())
            .map(ValueId)
            .filter(|id| {
                let node = graph.node(*id);
                node.ty == Ty::Float(None)
                    && matches!(node.op, Op::Field { param, .. } if graph.node(param).active)
            })
            .collect();
        if !untyped_fields.is_empty() {
            for id in untyped_fields {
                graph.node_mut(id).ty = Ty::Float(Some(float));
            }
            while propagate(graph, body) {}
        }
    }
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
    // Paths compared as written (syn's `PartialEq` needs its `extra-traits` feature, which
    // the macro's build leaves out).
    let spelled = |path: &syn::Path| quote::ToTokens::to_token_stream(path).to_string();
    let mut add = |path: &syn::Path, active: bool| {
        if active
            && !callees.iter().any(|c| spelled(c) == spelled(path))
            && !float_owner(path)
            && !crate::graph::constructs_data(path)
        {
            callees.push(path.clone());
        }
    };
    for node in &graph.nodes {
        if let Op::Call { path, args } = &node.op {
            add(path, call_activity(graph, args).0);
        }
    }
    for array in &graph.arrays {
        if let ArrayInit::Call { path, args, .. } = &array.init {
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
                        let args = args.clone();
                        changed |= fields_passed_as_floats(graph, &args);
                        let (active, ty) = call_activity(graph, &args);
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
                for &source in &sources {
                    let (active, ty) = (graph.node(source).active, graph.node(source).ty.clone());
                    changed |= set_array(graph, *array, active, &ty);
                }
                // Elements that are constants (`[T::zero(); 4]`) have the array's type.
                let elem = graph.array(*array).ty.scalar().clone();
                changed |= type_opaque_operands(graph, &sources, &elem);
            }
            Stmt::ArrayWrite(write) => {
                let (active, ty) = (
                    graph.node(write.value).active,
                    graph.node(write.value).ty.clone(),
                );
                changed |= set_array(graph, write.array, active, &ty);
                let elem = graph.array(write.array).ty.scalar().clone();
                changed |= type_opaque_operands(graph, &[write.value], &elem);
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
    let mut changed = set(graph, target, active, ty.clone());
    // A placeholder (the value of a path that exited) takes the type of what it merges
    // with, so that it is spelled as that type's zero.
    for source in sources {
        if matches!(graph.node(*source).op, Op::Placeholder) {
            changed |= set(graph, *source, false, ty.clone());
        }
    }
    // So does a merge merged again (a labeled block's value through its `break`s): the
    // values one merge joins have one type.
    if matches!(ty, Ty::Float(Some(_))) {
        for source in sources {
            let node = graph.node(*source);
            if matches!(node.op, Op::Merge | Op::LoopEntry | Op::LoopExit)
                && matches!(node.ty, Ty::Unknown | Ty::Float(None))
            {
                changed |= set(graph, *source, false, ty.clone());
            }
        }
    }
    // So does a constant that starts a float (`fold(T::zero(), ..)`).
    changed | type_opaque_operands(graph, sources, &ty)
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
            CallArg::Scalar(id) | CallArg::Borrowed(id) | CallArg::Receiver(id) => {
                (graph.node(*id).active, graph.node(*id).ty.clone())
            }
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
        Op::Neg(a) => {
            let a = *a;
            let (ty, active) = (unify(&ty_of(&a), &node.ty), is_active(&a));
            let changed = type_opaque_operands(graph, &[a], &ty);
            return set(graph, id, active, ty) || changed;
        }
        Op::ArrayRead { array, .. } => {
            let array = graph.array(*array);
            (array.active, array.ty.scalar().clone())
        }
        Op::Annotated { value, .. } => {
            // The annotation types the value too, which a reverse frame may record.
            let (value, ty) = (*value, node.ty.clone());
            let active = is_active(&value);
            let changed = type_opaque_operands(graph, &[value], &ty);
            return set(graph, id, active, ty) || changed;
        }
        Op::Binary {
            op: BinaryOp::Other,
            lhs,
            rhs,
            ..
        } => {
            // A comparison's operands have one type too.
            let (lhs, rhs) = (*lhs, *rhs);
            let ty = node.ty.clone();
            let shared = unify(&ty_of(&lhs), &ty_of(&rhs));
            return type_opaque_operands(graph, &[lhs, rhs], &shared) | set(graph, id, false, ty);
        }
        Op::Binary { lhs, rhs, .. } => {
            let ty = unify(&unify(&ty_of(lhs), &ty_of(rhs)), &node.ty);
            let (lhs, rhs) = (*lhs, *rhs);
            let active = is_active(&lhs) || is_active(&rhs);
            let changed = type_opaque_operands(graph, &[lhs, rhs], &ty);
            return set(graph, id, active, ty) || changed;
        }
        Op::Cast { value, .. } => (is_active(value) && node.ty.is_float(), node.ty.clone()),
        // A struct's field is differentiated once its use shows it is a float.
        Op::Field { param, .. } => (is_active(param) && node.ty.is_float(), node.ty.clone()),
        Op::FloatMethod { rule, args, .. } if rule.derivative != Derivative::NotFloat => {
            let floats: Vec<ValueId> = args
                .iter()
                .enumerate()
                .filter(|(i, _)| rule.arg_is_float(*i))
                .map(|(_, a)| *a)
                .collect();
            let ty = floats
                .iter()
                .fold(node.ty.clone(), |ty, a| unify(&ty, &ty_of(a)));
            let active = rule.derivative == Derivative::Pullback && floats.iter().any(is_active);
            // A float method's inputs are floats, whatever type rustc gives them.
            let operand_ty = if ty == Ty::Unknown {
                Ty::Float(None)
            } else {
                ty.clone()
            };
            let changed = type_opaque_operands(graph, &floats, &operand_ty);
            return set(graph, id, active, ty) || changed;
        }
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
            let args = args.clone();
            let typed = fields_passed_as_floats(graph, &args);
            // A call with a differentiated argument is a differentiable function: it returns
            // a float, taken to be the type of its first float argument.
            let (active, float) = call_activity(graph, &args);
            let node = graph.node(id);
            let ty = if active { float } else { node.ty.clone() };
            return set(graph, id, active, ty) || typed;
        }
        _ => return false,
    };
    set(graph, id, active, ty)
}

/// Whether `id` is a field of a differentiated struct, or arithmetic of such fields alone
/// (`p.a * p.b`, `-p.a`), whose type grad has not seen: used as a float, it is one (its
/// fields' types follow on the next round of analysis).
fn of_fields(graph: &Graph, id: ValueId) -> bool {
    let node = graph.node(id);
    if node.ty != Ty::Unknown {
        return node.ty.is_float();
    }
    match &node.op {
        Op::Field { param, .. } => graph.node(*param).active,
        Op::Neg(a) => of_fields(graph, *a),
        Op::Binary { op, lhs, rhs, .. } if *op != BinaryOp::Other && *op != BinaryOp::Rem => {
            of_fields(graph, *lhs) && of_fields(graph, *rhs)
        }
        _ => false,
    }
}

/// A field of a differentiated struct passed to a call (`g(p.b, x)`) is read as a float,
/// whose entry the callee's `_vjp` returns: if it is not one, the generated call does not
/// compile (the entry's type, or the `Entries` count, disagrees), never a silent constant.
fn fields_passed_as_floats(graph: &mut Graph, args: &[CallArg]) -> bool {
    let fields: Vec<ValueId> = scalar_args(args)
        .into_iter()
        .filter(|a| graph.node(*a).ty == Ty::Unknown && of_fields(graph, *a))
        .collect();
    let mut changed = false;
    for field in fields {
        changed |= set(graph, field, true, Ty::Float(None));
    }
    changed
}

/// A struct parameter differentiated field by field reaches its gradient only through its
/// fields: a call that takes it whole (or, `self.g(..)`, as its receiver) would drop what the
/// callee reads of it, so it is an error.
fn whole_structs(graph: &Graph, diagnostics: &mut Diagnostics) {
    let is_struct = |id: &ValueId| {
        let node = graph.node(*id);
        matches!(node.op, Op::Param { .. }) && node.active && node.ty == Ty::Other
    };
    let mut report = |args: &[CallArg], span: proc_macro2::Span| {
        for arg in args {
            match arg {
                CallArg::Receiver(id) if is_struct(id) => diagnostics.error_at(span, "a method differentiated with respect to `self` cannot call another method of `self` yet: pass the fields the callee reads as arguments (`self.g(self.k, x)`, with `fn g(&self, k: f64, x: f64)`)"),
                CallArg::Scalar(id) | CallArg::Borrowed(id) if is_struct(id) => diagnostics.error_at(span, "a struct differentiated field by field cannot be passed whole to a call yet: pass the fields the callee reads (`g(p.w, p.b)`)"),
                _ => {}
            }
        }
    };
    for node in &graph.nodes {
        if let Op::Call { args, .. } = &node.op {
            report(args, node.span);
        }
    }
    for array in &graph.arrays {
        if let ArrayInit::Call { args, .. } = &array.init {
            report(args, array.span);
        }
    }
}

/// The errors that depend on activity: a differentiated value flowing where it cannot be
/// differentiated.
fn check(graph: &Graph, diagnostics: &mut Diagnostics) {
    whole_structs(graph, diagnostics);
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
                        Op::Call { path, args: call_args } => {
                            // Once per call, at the call, however many fields are read.
                            if tuple_calls.insert(args[0]) {
                                let callee = crate::graph::callee_as_written(path, call_args);
                                diagnostics.error_at(graph.node(args[0]).span, format!("`{callee}` returns a tuple, whose fields grad differentiates when a `let` destructures the call or gives its type: write `let (a, b) = {callee}(..);` or `let p: (f64, f64) = {callee}(..);`"));
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
                        Op::Call { path, args: call_args } => {
                            // Once per call, at the call, however many elements are read.
                            if tuple_calls.insert(args[0]) {
                                let callee = crate::graph::callee_as_written(path, call_args);
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
            Op::Call { path, .. } if node.active && crate::graph::constructs_data(path) => {
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
            Op::Macro {
                tokens,
                mentions,
                value: true,
            } => {
                let active = mentions
                    .iter()
                    .find(|(_, mention)| mention_active(graph, mention));
                if let Some((name, _)) = active {
                    let mac = macro_name(tokens);
                    diagnostics.error_at(
                        node.span,
                        format!("grad cannot differentiate through the macro `{mac}!`, whose value here depends on `{name}`, a value being differentiated: write the expression out without the macro, or compute it in a helper function `h` with a hand-written `h_vjp`"),
                    );
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

/// Whether a local a macro mentions holds a value that depends on a differentiated input.
fn mention_active(graph: &Graph, mention: &Mention) -> bool {
    match mention {
        Mention::Scalar(id) => graph.node(*id).active,
        Mention::Array(id) => graph.array(*id).active,
        Mention::Tuple(parts) => parts.iter().any(|p| mention_active(graph, p)),
    }
}

/// `name` of a macro call's tokens `path::name!(..)`.
fn macro_name(tokens: &proc_macro2::TokenStream) -> String {
    let mut name = String::new();
    for token in tokens.clone() {
        match token {
            proc_macro2::TokenTree::Ident(ident) => name = ident.to_string(),
            proc_macro2::TokenTree::Punct(punct) if punct.as_char() == '!' => break,
            _ => {}
        }
    }
    name
}

fn no_derivative(method: &syn::Ident) -> String {
    format!(
        "`{method}` has no derivative in grad; the float methods with derivatives are {}. To use `{method}`, call it in a helper function `h` and write `h_vjp` by hand",
        rules::differentiable_names().collect::<Vec<_>>().join(", ")
    )
}

/// Float arithmetic, comparisons and float methods take operands of one type: a constant call's
/// result of a type grad cannot see (`lit::<F>(2.0)`, `T::from_f64(c).unwrap()`) that meets a
/// float is that float, and is spelled so where a placeholder stands for it.
fn type_opaque_operands(graph: &mut Graph, operands: &[ValueId], ty: &Ty) -> bool {
    let mut changed = false;
    // A field of a differentiated struct used as a float operand (of arithmetic, a
    // comparison with a float, a float method) is a float, whose type rustc may infer: left
    // untyped, it would be read as a constant (and the `ConstantField` check refuse it).
    // Wrong only if the field is not a float, and then its adjoint does not compile.
    if matches!(ty, Ty::Float(_)) {
        for &operand in operands {
            let node = graph.node(operand);
            // A merged value (a branch's, a loop's, a `break`'s) used as a float is one too;
            // its sources follow (`join`).
            let merged = matches!(node.op, Op::Merge | Op::LoopEntry | Op::LoopExit)
                && matches!(ty, Ty::Float(Some(_)));
            if node.ty == Ty::Unknown && (merged || of_fields(graph, operand)) {
                changed |= set(graph, operand, false, ty.clone());
            }
        }
    }
    if matches!(ty, Ty::Float(Some(_))) {
        for &operand in operands {
            // Arithmetic of opaque values is typed through to its own operands on the next
            // round, so `(lit(13.0) * lit(PI) * t).sin()` types both literals.
            if let Op::ArrayRead { array, .. } = graph.node(operand).op {
                // An element read as a float types its array, and so the array's start.
                changed |= set_array(graph, array, false, ty);
            }
            let opaque = match &graph.node(operand).op {
                Op::Call { .. } | Op::Inactive { .. } | Op::Neg(_) | Op::Field { .. } => true,
                Op::Binary { op, .. } => *op != BinaryOp::Other,
                Op::FloatMethod { rule, .. } => rule.derivative != Derivative::NotFloat,
                _ => false,
            };
            if opaque && matches!(graph.node(operand).ty, Ty::Unknown | Ty::Float(None)) {
                changed |= set(graph, operand, false, ty.clone());
            }
        }
    }
    changed
}
