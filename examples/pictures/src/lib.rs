//! The notes' circuits on grad's runtime tape, run backward and drawn as SVG: each edge
//! carries the value that flows forward over the gradient that flows back.
//!
//! [`circuit`] and [`neuron`] build and differentiate the two graphs; [`svg`] lays out any
//! DOT text of [`Tape::to_dot`] with the pure-Rust `layout-rs` crate, so no system Graphviz
//! is needed. `layout-rs` reads a subset of DOT; [`for_layout`] rewrites what it would
//! misread.

use grad::tape::Tape;
use layout::backends::svg::SVGWriter;
use layout::gv::{DotParser, GraphBuilder};

/// A graph that has run backward: its picture and what it computed.
pub struct Drawn {
    /// The file stem of its picture (`circuit` gives `circuit.svg`).
    pub name: &'static str,
    /// The tape's DOT text, after `backward`.
    pub dot: String,
    /// The output's value.
    pub value: f64,
    /// Each input's name and gradient, in the order the inputs were made.
    pub gradient: Vec<(&'static str, f64)>,
}

/// The notes' circuit f = (x + y) · z at (x, y, z) = (-2, 5, -4), with q = x + y named.
pub fn circuit() -> Drawn {
    let tape = Tape::new();
    let x = tape.var(-2.0).named("x");
    let y = tape.var(5.0).named("y");
    let z = tape.var(-4.0).named("z");
    let q = (x + y).named("q");
    let f = (q * z).named("f");
    f.backward();
    Drawn {
        name: "circuit",
        dot: tape.to_dot(),
        value: f.value(),
        gradient: vec![("x", x.grad()), ("y", y.grad()), ("z", z.grad())],
    }
}

/// The same circuit as `#[differentiable(graph)]` sees it when the program is compiled: its
/// expression graph (`circuit_function_graph()`), with no values, since it holds for every input; the
/// gradient from the generated `circuit_function_value_and_grad`.
pub fn compiled_circuit() -> Drawn {
    let (value, (dx, dy, dz)) = circuit_function_value_and_grad(-2.0, 5.0, -4.0);
    Drawn {
        name: "circuit_graph",
        dot: circuit_function_graph().to_string(),
        value,
        gradient: vec![("x", dx), ("y", dy), ("z", dz)],
    }
}

/// The circuit written as a plain function, for the macro.
#[grad::differentiable(graph)]
pub fn circuit_function(x: f64, y: f64, z: f64) -> f64 {
    (x + y) * z
}

/// The sigmoid neuron f = 1 / (1 + e^-(w0 x0 + w1 x1 + w2)) at w = (2, -3, -3),
/// x = (-1, -2), written gate by gate as the notes draw it: `*`, `+`, negate, `exp`, `+1`
/// and `1/x` (`recip`).
pub fn neuron() -> Drawn {
    let tape = Tape::new();
    let w0 = tape.var(2.0).named("w0");
    let x0 = tape.var(-1.0).named("x0");
    let w1 = tape.var(-3.0).named("w1");
    let x1 = tape.var(-2.0).named("x1");
    let w2 = tape.var(-3.0).named("w2");
    let product0 = w0 * x0;
    let product1 = w1 * x1;
    let dot = product0 + product1;
    let sum = dot + w2;
    let negated = -sum;
    let exponential = negated.exp();
    let denominator = exponential + 1.0;
    let f = denominator.recip().named("f");
    f.backward();
    Drawn {
        name: "neuron",
        dot: tape.to_dot(),
        value: f.value(),
        gradient: vec![
            ("w0", w0.grad()),
            ("x0", x0.grad()),
            ("w1", w1.grad()),
            ("x1", x1.grad()),
            ("w2", w2.grad()),
        ],
    }
}

/// DOT text rewritten into the subset `layout-rs` 0.1.3 reads as Graphviz would:
///
/// - colours it does not know (`grey50`, `grey40`) become ones it does (it draws unknown
///   colours black);
/// - a dashed node (it dashes edges only: `style=dashed`, `style="rounded,dashed"`) is
///   filled light grey instead, so that constants still stand apart;
/// - `shape=point` (it draws any unknown shape as a circle labelled with the node's id)
///   becomes an empty circle.
///
/// Everything else is kept: it reads `rankdir=LR`, boxes and ellipses, and `\n` in labels,
/// and it ignores `fontname`, `fontcolor` and `peripheries`. Subgraphs are read and their
/// nodes and edges drawn, but a cluster gets no frame and no label.
pub fn for_layout(dot: &str) -> String {
    let mut text = String::with_capacity(dot.len());
    for line in dot.lines() {
        let mut line = line.replace("grey50", "gray").replace("grey40", "dimgray");
        if is_node(&line) {
            line = undashed(&line);
        }
        if line.contains("shape=point") {
            line = line.replace("shape=point", "label=\"\", shape=circle");
        }
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// Whether a line of DOT declares a node: `id [..]`, not an edge nor a default.
fn is_node(line: &str) -> bool {
    let Some((id, _)) = line.trim_start().split_once(" [") else {
        return false;
    };
    !line.contains("->") && !matches!(id, "node" | "edge" | "graph")
}

/// A node's line with a dashed style made a light grey fill.
fn undashed(line: &str) -> String {
    let Some(start) = line.find("style=") else {
        return line.to_string();
    };
    let value_start = start + "style=".len();
    let rest = &line[value_start..];
    let value_len = match rest.strip_prefix('"') {
        Some(quoted) => quoted.find('"').map_or(rest.len(), |end| end + 2),
        None => rest.find([',', ']']).unwrap_or(rest.len()),
    };
    if !rest[..value_len].contains("dashed") {
        return line.to_string();
    }
    format!(
        "{}style=filled, fillcolor=\"#eeeeee\"{}",
        &line[..start],
        &rest[value_len..]
    )
}

/// The SVG picture of DOT text, laid out by `layout-rs` after [`for_layout`].
///
/// # Errors
/// The parser's message, with the position of what it could not read.
pub fn svg(dot: &str) -> Result<String, String> {
    let text = for_layout(dot);
    let mut parser = DotParser::new(&text);
    let graph = parser
        .process()
        .map_err(|message| format!("layout-rs could not read the DOT text: {message}"))?;
    let mut builder = GraphBuilder::new();
    builder.visit_graph(&graph);
    let mut visual = builder.get();
    let mut writer = SVGWriter::new();
    visual.do_it(false, false, false, &mut writer);
    Ok(settled(&writer.finalize()))
}

/// `layout-rs`'s SVG made the same on every run and in the tape's font: it writes its font
/// classes from a hash map, in an order that changes from run to run, so they are sorted
/// here; and it writes every text in Times, where the tape's DOT asks for Helvetica.
fn settled(svg: &str) -> String {
    let (Some(start), Some(end)) = (svg.find("<style>\n"), svg.find("</style>")) else {
        return svg.to_string();
    };
    let start = start + "<style>\n".len();
    let mut classes: Vec<&str> = svg[start..end].lines().collect();
    classes.sort_unstable();
    let mut text = String::with_capacity(svg.len());
    text.push_str(&svg[..start]);
    for class in classes {
        text.push_str(&class.replace("Times, serif", "Helvetica, Arial, sans-serif"));
        text.push('\n');
    }
    text.push_str(&svg[end..]);
    text
}

#[cfg(test)]
mod tests {
    use super::for_layout;

    #[test]
    fn dashed_nodes_are_filled_and_edges_kept_dashed() {
        let dot = "digraph g {\n    node [shape=ellipse];\n    n6 [label=\"0.0\", shape=box, style=\"rounded,dashed\", color=grey50];\n    n7 [label=\">\", style=dashed, color=grey50];\n    n8 [label=\"neg\"];\n    n6 -> n7 [style=dashed, color=grey50];\n    out8 [shape=point];\n}\n";
        let expected = "digraph g {\n    node [shape=ellipse];\n    n6 [label=\"0.0\", shape=box, style=filled, fillcolor=\"#eeeeee\", color=gray];\n    n7 [label=\">\", style=filled, fillcolor=\"#eeeeee\", color=gray];\n    n8 [label=\"neg\"];\n    n6 -> n7 [style=dashed, color=gray];\n    out8 [label=\"\", shape=circle];\n}\n";
        assert_eq!(for_layout(dot), expected);
    }
}
