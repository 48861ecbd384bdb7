//! Pictures of a runtime graph in Graphviz's DOT language, drawn as the notes draw their
//! circuits: operations as nodes, and on each edge the value that flows forward over the
//! gradient that flows back.

use super::ops::Op;
use super::{Arena, NodeKind, Tape};
use crate::Float;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use core::fmt::Write;

impl<T: Float> Tape<T> {
    /// The whole graph as DOT text (render it with Graphviz's `dot -Tsvg`, or any DOT
    /// viewer).
    ///
    /// Leaves are boxes labelled with their names ([`Var::named`](super::Var::named)) or
    /// values, operations are ellipses labelled with their operation, and `Constant`s are
    /// grey and dashed. Each edge carries the value of its source over `∇` and its gradient
    /// from the last `backward`; a result that no node reads gets an edge of its own to a
    /// point.
    ///
    /// ```
    /// use grad_runtime::tape::Tape;
    ///
    /// let tape = Tape::new();
    /// let x = tape.var(3.0).named("x");
    /// let y = (x * x).named("y");
    /// y.backward();
    /// let dot = tape.to_dot();
    /// assert!(dot.contains(r#"n0 -> n1 [label="3\n∇ 6"]"#));
    /// ```
    pub fn to_dot(&self) -> String {
        let arena = self.arena.borrow();
        let mut used = vec![false; arena.nodes.len()];
        for id in 0..arena.nodes.len() {
            for &input in arena.inputs(id as u32) {
                used[input as usize] = true;
            }
        }
        let mut dot = String::from(
            "digraph tape {\n    rankdir=LR;\n    node [fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n",
        );
        for (id, node) in arena.nodes.iter().enumerate() {
            let label = escape(&node_label(&arena, id));
            let style = if node.kind == NodeKind::Constant {
                ", color=grey50, fontcolor=grey40, style=dashed"
            } else {
                ""
            };
            let shape = if matches!(node.op, Op::Leaf) {
                "box"
            } else {
                "ellipse"
            };
            let _ = writeln!(dot, "    n{id} [label=\"{label}\", shape={shape}{style}];");
        }
        for id in 0..arena.nodes.len() {
            for &input in arena.inputs(id as u32) {
                let label = escape(&edge_label(&arena, input as usize));
                let _ = writeln!(dot, "    n{input} -> n{id} [label=\"{label}\"];");
            }
        }
        for (id, node) in arena.nodes.iter().enumerate() {
            if !used[id] && !matches!(node.op, Op::Leaf) {
                let label = escape(&edge_label(&arena, id));
                let _ = writeln!(dot, "    out{id} [shape=point];");
                let _ = writeln!(dot, "    n{id} -> out{id} [label=\"{label}\"];");
            }
        }
        dot.push_str("}\n");
        dot
    }
}

fn node_label<T: Float>(arena: &Arena<T>, id: usize) -> String {
    let node = &arena.nodes[id];
    let name = arena.names.get(&(id as u32));
    let operation = match node.op {
        Op::Leaf => None,
        Op::Unary(unary) => Some(unary.label()),
        Op::Binary(binary) => Some(binary.label().to_string()),
        Op::Ternary(ternary) => Some(ternary.label().to_string()),
        Op::Sum => Some("sum".to_string()),
        Op::Dot => Some("dot".to_string()),
        Op::NormSq => Some("norm_sq".to_string()),
        Op::Softmax => Some("softmax".to_string()),
        Op::LogSumExp => Some("log_sum_exp".to_string()),
        Op::MatVec { .. } => Some("matvec".to_string()),
        Op::Index(i) => Some(format!("[{i}]")),
        Op::Stack { .. } => Some("stack".to_string()),
    };
    match (name, operation) {
        (Some(name), Some(operation)) => format!("{name}: {operation}"),
        (Some(name), None) => name.clone(),
        (None, Some(operation)) => operation,
        (None, None) => numbers(&arena.values[node.range()]),
    }
}

/// The value of node `id` over its gradient, as drawn on the edges leaving it.
fn edge_label<T: Float>(arena: &Arena<T>, id: usize) -> String {
    let range = arena.nodes[id].range();
    let value = numbers(&arena.values[range.clone()]);
    if arena.nodes[id].kind == NodeKind::Constant {
        value
    } else {
        // Gradients exist from the first `backward` on; before it, they are zero.
        let grads: alloc::vec::Vec<T> = range
            .map(|i| arena.grads.get(i).copied().unwrap_or(T::ZERO))
            .collect();
        format!("{value}\n∇ {}", numbers(&grads))
    }
}

/// A float, or up to four elements of a vector, briefly.
fn numbers<T: Float>(values: &[T]) -> String {
    match values {
        [v] => number(*v),
        _ => {
            let shown: alloc::vec::Vec<String> =
                values.iter().take(4).map(|&v| number(v)).collect();
            let more = if values.len() > 4 { ", …" } else { "" };
            format!("[{}{more}]", shown.join(", "))
        }
    }
}

/// At most four decimals, without trailing zeros.
fn number<T: Float>(v: T) -> String {
    let v = v.to_f64().unwrap_or(f64::NAN);
    if !v.is_finite() {
        return format!("{v}");
    }
    let text = format!("{v:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
