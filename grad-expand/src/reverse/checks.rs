//! What the reverse sweep cannot do correctly, found before it tries: arrays read by the
//! reverse after a later write changed them, calls that would pass a callee arrays written
//! since. Each is an error naming the copy that fixes it.

use super::Sweep;
use crate::graph::{ArrayId, ArrayInit, Block, CallArg, Op, RegionId, Stmt, ValueId};
use std::collections::HashSet;

impl Sweep<'_> {
    /// A reverse read of an array must see the value the forward read saw: only arrays that
    /// are not written again afterwards can be read there.
    pub(super) fn unsafe_array_reads(&self, block: &Block, live: &[bool]) -> Vec<ValueId> {
        let mut found = Vec::new();
        for (index, node) in self.graph.nodes.iter().enumerate() {
            let Op::ArrayRead { array, .. } = &node.op else {
                continue;
            };
            if !live[index] || !self.graph.region_within(node.region, block.region) {
                continue;
            }
            let declared = self.graph.array(*array).region;
            if self.graph.region_within(declared, block.region) {
                continue;
            }
            if self.written_after(*array, index, node.region) {
                found.push(ValueId(index));
            }
        }
        found
    }

    /// Whether `array` is written after program position `position` of a block in `region`:
    /// later, or in a loop around both that runs again.
    fn written_after(&self, array: ArrayId, position: usize, region: RegionId) -> bool {
        let declared = self.graph.array(array).region;
        self.graph
            .writes
            .iter()
            .filter(|w| w.array == array)
            .any(|w| {
                w.seq > position
                    || self.graph.loop_bodies.iter().any(|body| {
                        *body != declared
                            && self.graph.region_within(*body, declared)
                            && self.graph.region_within(region, *body)
                            && self.graph.region_within(w.region, *body)
                    })
            })
    }

    /// Whole arrays the reverse sweep would read too late. It calls a callee's `_vjp` with the
    /// arrays the call was given, by name, and it recomputes a nested block's calls and copies
    /// of arrays (`let b = a;`, `let row = w[i];`) from their sources: an array written again
    /// after the call or copy would give it its newer values. Each such call or copy is an
    /// error (in a nested block whether or not it is differentiated, since its result may be
    /// recomputed for other derivatives).
    pub(super) fn check_whole_array_reads(&mut self) {
        let nested = |region: RegionId| self.graph.region_parents[region.0].is_some();
        let mut errors = Vec::new();
        for (index, node) in self.graph.nodes.iter().enumerate() {
            if let Op::Call { args, .. } = &node.op {
                let reversed = node.active || nested(node.region);
                if reversed && self.passes_newer_array(args, index, node.region) {
                    errors.push(stale_call(node.span, nested(node.region)));
                }
            }
        }
        for array in &self.graph.arrays {
            match &array.init {
                ArrayInit::Call { args, .. } => {
                    let reversed = array.active || nested(array.region);
                    if reversed && self.passes_newer_array(args, array.seq, array.region) {
                        errors.push(stale_call(array.span, nested(array.region)));
                    }
                }
                ArrayInit::Copy(source) | ArrayInit::Row { source, .. } => {
                    let stale = nested(array.region)
                        && self.graph.array(*source).region != array.region
                        && self.written_after(*source, array.seq, array.region);
                    if stale {
                        errors.push(syn::Error::new(
                            array.span,
                            "grad cannot yet differentiate this copy: the array it copies is written again after it (later in the function or in a later iteration), and the reverse sweep, which recomputes this block, would copy the newer values; make the copy outside the loop or branch, or build it from elements (`[a[0], a[1]]`), whose reads a loop records",
                        ));
                    }
                }
                _ => {}
            }
        }
        self.errors.extend(errors);
    }

    fn passes_newer_array(&self, args: &[CallArg], position: usize, region: RegionId) -> bool {
        args.iter().any(|arg| match arg {
            CallArg::Array { array, .. } => {
                self.written_after(self.graph.view_source(*array), position, region)
            }
            CallArg::Scalar(_) | CallArg::Borrowed(_) | CallArg::Receiver(_) => false,
        })
    }

    /// Whether `region` is a loop body or lies inside one.
    pub(super) fn inside_loop(&self, region: RegionId) -> bool {
        let mut current = Some(region);
        while let Some(r) = current {
            if self.loop_bodies.contains(&r) {
                return true;
            }
            current = self.graph.region_parents[r.0];
        }
        false
    }
}

/// A call whose reverse would pass its callee arrays written since.
fn stale_call(span: proc_macro2::Span, nested: bool) -> syn::Error {
    let instead = if nested {
        "pass a copy made outside the loop or branch, before the writes, or one built from elements (`[a[0], a[1]]`), whose reads a loop records"
    } else {
        "copy the array before the writes (`let before = a;`) and pass the copy"
    };
    syn::Error::new(
        span,
        format!(
            "grad cannot yet differentiate this call: an array passed to it is written again after the call (later in the function or in a later iteration), and the reverse sweep would pass the newer values to the callee's `_vjp`; {instead}"
        ),
    )
}

pub(super) fn collect_loop_bodies(block: &Block, bodies: &mut HashSet<RegionId>) {
    for stmt in &block.stmts {
        match stmt {
            Stmt::If(branch) => {
                collect_loop_bodies(&branch.then_block, bodies);
                collect_loop_bodies(&branch.else_block, bodies);
            }
            Stmt::Loop(l) => {
                bodies.insert(l.body.region);
                collect_loop_bodies(&l.body, bodies);
            }
            Stmt::Node(_) | Stmt::ArrayDecl(_) | Stmt::ArrayWrite(_) => {}
        }
    }
}
