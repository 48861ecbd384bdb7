//! The pictures show every node's label and every edge's value and gradient, and the copies
//! committed in docs/pictures are what the example draws (regenerate them with
//! `UPDATE_PICTURES=1 cargo test -p grad-pictures-example`).

use grad_pictures_example::{Drawn, circuit, compiled_circuit, neuron, svg};
use std::path::PathBuf;

/// The text of each `<tspan>`: node labels, and edge labels line by line.
fn texts(svg: &str) -> Vec<&str> {
    svg.split("<tspan")
        .skip(1)
        .filter_map(|part| part.split_once('>'))
        .filter_map(|(_, rest)| rest.split_once("</tspan>"))
        .map(|(text, _)| text)
        .collect()
}

fn edges(svg: &str) -> usize {
    svg.matches("marker-end=\"url(#endarrow)\"").count()
}

fn assert_shows(drawn: &Drawn, labels: &[&str], edge_count: usize) {
    let picture = svg(&drawn.dot).unwrap();
    let texts = texts(&picture);
    for label in labels {
        assert!(
            texts.contains(label),
            "{}.svg lacks the label {label:?}; it has {texts:?}",
            drawn.name
        );
    }
    assert_eq!(edges(&picture), edge_count, "{}.svg's edges", drawn.name);
}

#[test]
fn circuit_values_and_gradients() {
    let drawn = circuit();
    assert_eq!(drawn.value, -12.0);
    assert_eq!(drawn.gradient, [("x", -4.0), ("y", -4.0), ("z", 3.0)]);
}

#[test]
fn circuit_picture_shows_labels_values_and_gradients() {
    // x, y and z into q, q and z into f, f out.
    assert_shows(
        &circuit(),
        &[
            "x", "y", "z", "q: +", "f: *", "-2", "5", "∇ -4", "3", "-4", "∇ 3", "-12", "∇ 1",
        ],
        5,
    );
}

#[test]
fn neuron_values_and_gradients() {
    let drawn = neuron();
    let expected = [
        ("w0", -0.196_612),
        ("x0", 0.393_224),
        ("w1", -0.393_224),
        ("x1", -0.589_836),
        ("w2", 0.196_612),
    ];
    assert!((drawn.value - 0.731_059).abs() < 1e-6);
    for ((name, gradient), (expected_name, expected)) in drawn.gradient.iter().zip(expected) {
        assert_eq!(*name, expected_name);
        assert!(
            (gradient - expected).abs() < 1e-6,
            "∂f/∂{name} = {gradient}"
        );
    }
}

#[test]
fn neuron_picture_shows_every_gate() {
    // Two into each product, two into their sum, two into + w2, one into negate, one into
    // exp, two into + 1 (a constant leaf), one into 1/x, and f out: 14 edges.
    assert_shows(
        &neuron(),
        &[
            "w0",
            "x0",
            "w1",
            "x1",
            "w2",
            "*",
            "+",
            "-",
            "exp",
            "1",
            "f: recip",
            "∇ -0.1966",
            "∇ 0.3932",
            "∇ -0.5898",
            "0.3679",
            "∇ -0.5344",
            "1.3679",
            "0.7311",
            "∇ 1",
        ],
        14,
    );
}

#[test]
fn the_compile_time_graph_of_the_same_circuit() {
    let drawn = compiled_circuit();
    assert_eq!(drawn.value, -12.0);
    assert_eq!(drawn.gradient, [("x", -4.0), ("y", -4.0), ("z", 3.0)]);
    // x and y into +, + and z into *, * into the result.
    assert_shows(&drawn, &["x", "y", "z", "+", "*", "return"], 5);
}

#[test]
fn the_constant_is_drawn_apart() {
    let picture = svg(&neuron().dot).unwrap();
    assert!(
        picture.contains("fill=\"#eeeeeeff\""),
        "the constant 1 is not filled"
    );
}

#[test]
fn committed_pictures_are_up_to_date() {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/pictures");
    let update = std::env::var_os("UPDATE_PICTURES").is_some();
    for drawn in [circuit(), neuron(), compiled_circuit()] {
        let picture = svg(&drawn.dot).unwrap();
        let path = directory.join(format!("{}.svg", drawn.name));
        if update {
            std::fs::create_dir_all(&directory).unwrap();
            std::fs::write(&path, &picture).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == picture,
            "{} is not what the example draws; regenerate it with \
             `UPDATE_PICTURES=1 cargo test -p grad-pictures-example`",
            path.display()
        );
    }
}
