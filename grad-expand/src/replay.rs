//! Constants that are computed once.
//!
//! Code that does not depend on a differentiated input passes through as written: calls of
//! any function with constant arguments (`lookup(i)`, `T::from_usize(n).unwrap()`), methods
//! of values whose type grad cannot see (`cfg.factor(3)`), and macros. The reverse sweep
//! recomputes the forward values of a branch or a loop iteration that it reads (see
//! `reverse.rs`), and computing such a value again could give another value (a counter, a
//! random number) and would repeat its effects, so it never does: a value of this kind that
//! a reverse frame reads comes from where the forward sweep computed it.
//!
//! - In the body of a loop, the loop's tape records it (`reverse.rs` adds it to the values
//!   the tape provides).
//! - In a branch, a merge (an *export*, made here) hands it out of the `if` to the enclosing
//!   block, as a variable the branch changes would be; the branch's reverse reads the export.
//!   In a branch inside a loop body, the export is in turn recorded by the loop's tape.
//!
//! A value read out of such a constant (a field `c.k`, an element `t[i]`, a name a pattern
//! binds) is handed out instead of the constant when the constant itself is not needed, so a
//! constant of a type that cannot be copied (a `Vec`) is never recorded.
//!
//! What stays: a loop whose tape is recorded by the reverse of an enclosing loop or branch (a
//! loop nested in a loop, or in a branch) runs again there, and so do the calls in it,
//! including those its branches export (the run that would read an export computes it:
//! `primal.rs`, `Forward::replayed`).

use crate::graph::{
    ArrayId, ArrayInit, Block, Graph, InactiveExpr, Merge, Node, Op, RegionId, Stmt, Ty, ValueId,
};

/// Whether the reverse sweep, recomputing the frame of region `frame`, must take node `id`
/// from the forward sweep rather than compute it.
pub fn must_replay(graph: &Graph, id: ValueId, frame: RegionId) -> bool {
    if graph.export_merges.contains(&id) {
        return true;
    }
    let node = graph.node(id);
    match &node.op {
        Op::Call { .. } => !node.active,
        Op::Macro { value, .. } => *value,
        Op::Inactive {
            template: InactiveExpr::Method { .. },
            args,
        } => !matches!(graph.node(args[0]).ty, Ty::Int | Ty::Bool | Ty::Float(_)),
        // An element of an array a constant call returned, declared in the frame.
        Op::ArrayRead { array, .. } => {
            impure_array(graph, *array) && graph.region_within(graph.array(*array).region, frame)
        }
        Op::Inactive { template, args } if projection(template) => {
            let source = args[0];
            graph.region_within(graph.node(source).region, frame)
                && must_replay(graph, source, frame)
        }
        _ => false,
    }
}

/// An array that a call with constant arguments returned (`let t: [f64; 3] = table(i);`)
/// and that is not written afterwards: a recomputation reads its elements from the forward
/// sweep and does not declare it (call it) again, unless a loop nested in the frame reads it.
pub fn impure_array(graph: &Graph, id: ArrayId) -> bool {
    let array = graph.array(id);
    matches!(array.init, ArrayInit::Call { .. }) && !array.active && !array.written
}

/// The constant a projection (`c.k`, `t[i]`, a pattern's test or binding) reads out of, if
/// the node is one: once that constant is at hand, the projection is computed from it.
pub fn projected(graph: &Graph, id: ValueId) -> Option<ValueId> {
    match &graph.node(id).op {
        Op::Inactive { template, args } if projection(template) => Some(args[0]),
        _ => None,
    }
}

/// A read out of a value: a field, an element, a pattern's test or binding.
fn projection(template: &InactiveExpr) -> bool {
    matches!(
        template,
        InactiveExpr::Field(_)
            | InactiveExpr::Index
            | InactiveExpr::Binding { .. }
            | InactiveExpr::Matches(_)
    )
}

/// Gives every value of a branch that a reverse frame might take from the forward sweep an
/// export: a merge of the `if` that holds it after the branch, and a placeholder after the
/// other branch (which never reads it). Exports nobody reads are not emitted.
pub fn export(graph: &mut Graph, body: &mut Block) {
    for stmt in &mut body.stmts {
        match stmt {
            Stmt::If(branch) => {
                export(graph, &mut branch.then_block);
                export(graph, &mut branch.else_block);
                for then_side in [true, false] {
                    let block = if then_side {
                        &branch.then_block
                    } else {
                        &branch.else_block
                    };
                    for value in exportable(graph, block) {
                        let node = graph.node(value).clone();
                        let made = |op| Node {
                            op,
                            ty: node.ty.clone(),
                            active: false,
                            span: node.span,
                            region: body.region,
                        };
                        let out = graph.push(made(Op::Merge));
                        let placeholder = graph.push(made(Op::Placeholder));
                        let (then_value, else_value) = if then_side {
                            (value, placeholder)
                        } else {
                            (placeholder, value)
                        };
                        branch.merges.push(Merge {
                            out,
                            then_value,
                            else_value,
                        });
                        graph.exports.insert(value, out);
                        graph.export_merges.insert(out);
                    }
                }
            }
            Stmt::Loop(l) => export(graph, &mut l.body),
            Stmt::Node(_) | Stmt::ArrayDecl(_) | Stmt::ArrayWrite(_) => {}
        }
    }
}

/// The values a branch block computes that may be replayed: its own nodes, and the exports
/// of the `if`s nested in it.
fn exportable(graph: &Graph, block: &Block) -> Vec<ValueId> {
    let mut found = Vec::new();
    for stmt in &block.stmts {
        match stmt {
            Stmt::Node(id) if must_replay(graph, *id, block.region) => found.push(*id),
            Stmt::If(inner) => found.extend(
                inner
                    .merges
                    .iter()
                    .map(|m| m.out)
                    .filter(|out| graph.export_merges.contains(out)),
            ),
            _ => {}
        }
    }
    found
}
