//! Structure the generated code can exploit: elementwise vector functions.
//!
//! For `fn f(x: [f64; N]) -> [f64; N]` whose output `i` depends on input `i` alone, the
//! Jacobian is diagonal, and one vjp with an upstream of ones gives its diagonal. This module
//! recognises the shape a user writes such a function in: one loop over `0..N` that writes
//! `y[i]` from values read at index `i` only, with nothing carried from one iteration to the
//! next and nothing differentiated coming in from outside the loop.

use crate::graph::{ArrayId, ArrayInit, Block, LoopHeader, Op, Stmt, Ty, ValueId};
use crate::graph::{Lowered, Output};

pub fn is_elementwise(lowered: &Lowered) -> bool {
    let Output::Array(output) = lowered.output else {
        return false;
    };
    let graph = &lowered.graph;
    let Ty::Array(_, output_len) = &graph.array(output).ty else {
        return false;
    };
    // One differentiated input: an array parameter.
    let array_inputs = graph
        .arrays
        .iter()
        .filter(|a| a.active && matches!(a.init, ArrayInit::Param { .. }))
        .count();
    let scalar_inputs = graph
        .nodes
        .iter()
        .filter(|n| {
            n.active
                && matches!(n.op, Op::Param { .. })
                && !matches!(n.ty, Ty::Array(..) | Ty::Slice(_))
        })
        .count();
    if array_inputs != 1 || scalar_inputs != 0 {
        return false;
    }
    let mut loops = Vec::new();
    let mut outside_writes = false;
    collect(
        &lowered.body,
        output,
        &mut loops,
        &mut outside_writes,
        false,
    );
    let [body_loop] = loops.as_slice() else {
        return false;
    };
    if outside_writes {
        return false;
    }
    let l = body_loop;
    let LoopHeader::Range {
        counter,
        start,
        end,
        inclusive: false,
        reverse: false,
        step: None,
        ..
    } = &l.header
    else {
        return false;
    };
    let constant = |id: &ValueId| match &graph.node(*id).op {
        Op::Constant(tokens) => Some(tokens.to_string()),
        _ => None,
    };
    if constant(start).as_deref() != Some("0") || constant(end) != Some(output_len.0.to_string()) {
        return false;
    }
    if l.stop.is_some() || l.carried.iter().any(|c| graph.node(c.entry).active) {
        return false;
    }
    let body_region = l.body.region;
    let inside = |id: ValueId| graph.region_within(graph.node(id).region, body_region);
    for (index, node) in graph.nodes.iter().enumerate() {
        if !inside(ValueId(index)) {
            continue;
        }
        // Every differentiated value in the loop comes from this iteration's elements.
        if node
            .args()
            .iter()
            .any(|a| graph.node(*a).active && !inside(*a))
        {
            return false;
        }
        if let Op::ArrayRead { array, indices } = &node.op {
            if graph.array(*array).active && indices.as_slice() != [*counter] {
                return false;
            }
            if let Ty::Array(_, len) = &graph.array(*array).ty
                && graph.array(*array).active
                && *len != *output_len
            {
                return false;
            }
        }
    }
    writes_at(&l.body, output, *counter)
}

/// The loops that write `output`, and whether anything else writes it.
fn collect<'b>(
    block: &'b Block,
    output: ArrayId,
    loops: &mut Vec<&'b crate::graph::Loop>,
    outside: &mut bool,
    in_loop: bool,
) {
    for stmt in &block.stmts {
        match stmt {
            Stmt::ArrayWrite(write) if write.array == output && !in_loop => *outside = true,
            Stmt::If(branch) => {
                collect(&branch.then_block, output, loops, outside, in_loop);
                collect(&branch.else_block, output, loops, outside, in_loop);
            }
            Stmt::Loop(l) => {
                if l.body.writes_array(&|array| array == output) {
                    if in_loop {
                        *outside = true;
                    } else {
                        loops.push(l);
                    }
                }
                let mut nested = Vec::new();
                collect(&l.body, output, &mut nested, outside, true);
            }
            _ => {}
        }
    }
}

/// Every write of `output` in the loop body is at the loop's own index.
fn writes_at(block: &Block, output: ArrayId, counter: ValueId) -> bool {
    block.stmts.iter().all(|stmt| match stmt {
        Stmt::ArrayWrite(write) if write.array == output => write.indices.as_slice() == [counter],
        Stmt::If(branch) => {
            writes_at(&branch.then_block, output, counter)
                && writes_at(&branch.else_block, output, counter)
        }
        Stmt::Loop(l) => !l.body.writes_array(&|array| array == output),
        _ => true,
    })
}
