//! `#[differentiable(graph)]` (issue 18): `f_graph()` returns the compile-time expression
//! graph of `f` as Graphviz DOT text; on an impl block or a module, of every function the
//! block expands (beside `hessian`, and inherited as `hessian` is). Each picture is read
//! back here: its nodes, labels, styles and edges, and a small validator (braces balance,
//! every edge joins declared nodes). The option adds a companion and changes no other: the
//! gradients are checked against hand-derived values.

use grad::differentiable;
use std::collections::BTreeMap;

/// A picture read back: each node's label and attributes by id, and the edges.
struct Picture {
    nodes: BTreeMap<String, (String, String)>,
    edges: Vec<(String, String)>,
    text: &'static str,
}

impl Picture {
    /// Reads a picture, after checking that it holds together.
    fn read(text: &'static str) -> Picture {
        validate(text);
        let mut nodes = BTreeMap::new();
        let mut edges = Vec::new();
        for line in text.lines().map(str::trim) {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                [from, "->", to, ..] => {
                    edges.push((from.to_string(), to.trim_end_matches(';').to_string()))
                }
                [id, first, ..] if first.starts_with("[label=\"") => {
                    let attributes = &line[id.len() + 1..];
                    let label = attributes["[label=\"".len()..]
                        .split("\"")
                        .next()
                        .unwrap_or_default();
                    nodes.insert(id.to_string(), (label.to_owned(), attributes.to_owned()));
                }
                _ => {}
            }
        }
        Picture { nodes, edges, text }
    }

    /// The ids of the nodes with this label.
    fn labelled(&self, label: &str) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|(_, (l, _))| l == label)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// The one node with this label.
    fn the(&self, label: &str) -> &str {
        match self.labelled(label).as_slice() {
            [one] => one,
            other => panic!("{} nodes labelled {label:?}:\n{}", other.len(), self.text),
        }
    }

    fn has_edge(&self, from: &str, to: &str) -> bool {
        self.edges.iter().any(|(f, t)| f == from && t == to)
    }

    fn is_inactive(&self, id: &str) -> bool {
        self.nodes[id].1.contains("dashed")
    }
}

/// Braces balance outside labels, labels close, and every edge joins declared nodes.
fn validate(text: &str) {
    assert!(text.starts_with("digraph "), "{text}");
    assert!(text.contains("rankdir=LR;"), "{text}");
    let (mut depth, mut in_label, mut escaped) = (0i64, false, false);
    for c in text.chars() {
        match (in_label, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => in_label = !in_label,
            (false, _, '{') => depth += 1,
            (false, _, '}') => depth -= 1,
            _ => {}
        }
        assert!(depth >= 0, "a `}}` closes nothing:\n{text}");
    }
    assert!(depth == 0 && !in_label, "unbalanced:\n{text}");
    let mut declared = Vec::new();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split(' ').collect();
        if let [id, first, ..] = words.as_slice()
            && first.starts_with("[label=")
        {
            assert!(!declared.contains(id), "{id} is declared twice:\n{text}");
            declared.push(*id);
        }
    }
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split(' ').collect();
        if let [from, "->", to, ..] = words.as_slice() {
            let to = to.trim_end_matches(';');
            assert!(
                declared.contains(from) && declared.contains(&to),
                "the edge {from} -> {to} has an undeclared end:\n{text}"
            );
        }
    }
}

/// A block's picture of one function, read, after checking that it is that function's.
fn picture_of(text: &'static str, name: &str) -> Picture {
    let head = format!("digraph {name} {{");
    assert!(text.starts_with(&head), "not {name}'s picture:\n{text}");
    Picture::read(text)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + b.abs())
}

// ----- the seeds' circuit -----

#[differentiable(graph)]
fn circuit(x: f64, y: f64, z: f64) -> f64 {
    (x + y) * z
}

#[test]
fn the_circuit_is_pinned() {
    let expected = r#"digraph circuit {
    rankdir=LR;
    node [shape=ellipse];
    n0 [label="x", shape=box];
    n1 [label="y", shape=box];
    n2 [label="z", shape=box];
    n3 [label="+"];
    n4 [label="*"];
    result [label="return", shape=box, peripheries=2];
    n0 -> n3;
    n1 -> n3;
    n3 -> n4;
    n2 -> n4;
    n4 -> result;
}
"#;
    assert_eq!(circuit_graph(), expected);
}

#[test]
fn the_circuit_has_three_parameters_an_add_and_a_multiply() {
    let picture = Picture::read(circuit_graph());
    let (x, y, z) = (picture.the("x"), picture.the("y"), picture.the("z"));
    for parameter in [x, y, z] {
        assert!(picture.nodes[parameter].1.contains("shape=box"));
        assert!(!picture.is_inactive(parameter));
    }
    let (add, mul) = (picture.the("+"), picture.the("*"));
    assert_eq!(picture.nodes.len(), 6, "{}", picture.text);
    assert!(picture.has_edge(x, add) && picture.has_edge(y, add));
    assert!(picture.has_edge(add, mul) && picture.has_edge(z, mul));
    assert_eq!(picture.edges.len(), 5, "{}", picture.text);
    let output = picture.the("return");
    assert!(picture.nodes[output].1.contains("peripheries=2"));
    assert!(picture.has_edge(mul, output));
}

#[test]
fn the_circuit_gradient_is_unchanged() {
    // q = x + y = 3, f = qz: df/dx = df/dy = z = -4, df/dz = q = 3.
    assert_eq!(circuit(-2.0, 5.0, -4.0), -12.0);
    assert_eq!(circuit_grad(-2.0, 5.0, -4.0), (-4.0, -4.0, 3.0));
    assert_eq!(
        circuit_value_and_grad(-2.0, 5.0, -4.0),
        (-12.0, (-4.0, -4.0, 3.0))
    );
}

// ----- a sigmoid neuron, differentiated in its weights and bias only -----

#[differentiable(wrt(w, b), graph)]
fn neuron(w: [f64; 2], x: [f64; 2], b: f64) -> f64 {
    1.0 / (1.0 + (-(w[0] * x[0] + w[1] * x[1] + b)).exp())
}

#[test]
fn the_neuron_draws_its_inputs_as_inactive() {
    let picture = Picture::read(neuron_graph());
    for element in ["w[0]", "w[1]", "b"] {
        assert!(!picture.is_inactive(picture.the(element)), "{element}");
    }
    for element in ["x[0]", "x[1]"] {
        let id = picture.the(element);
        assert!(picture.is_inactive(id), "{element}:\n{}", picture.text);
        assert!(picture.nodes[id].1.contains("shape=box"));
    }
    // Each weight meets its input in a product, which is differentiated.
    let products = picture.labelled("*");
    assert_eq!(products.len(), 2);
    for (w, x) in [("w[0]", "x[0]"), ("w[1]", "x[1]")] {
        let (w, x) = (picture.the(w), picture.the(x));
        assert!(
            products.iter().any(|p| picture.has_edge(w, p)
                && picture.has_edge(x, p)
                && !picture.is_inactive(p))
        );
    }
    for label in ["neg", "exp", "/"] {
        assert!(!picture.is_inactive(picture.the(label)));
    }
    let constants = picture.labelled("1.0");
    assert_eq!(constants.len(), 2);
    assert!(constants.iter().all(|c| picture.is_inactive(c)));
    assert!(picture.has_edge(picture.the("/"), picture.the("return")));
}

#[test]
fn the_neuron_gradient_is_unchanged() {
    let (w, x, b) = ([2.0, -3.0], [-1.0, -2.0], -3.0);
    let s = 1.0 / (1.0 + (-1.0f64).exp());
    let local = s * (1.0 - s);
    let (dw, db) = neuron_grad(w, x, b);
    assert!(close(neuron(w, x, b), s));
    assert!(close(dw[0], x[0] * local) && close(dw[1], x[1] * local));
    assert!(close(db, local));
}

// ----- a loop and a branch -----

// An index loop is what the picture is about: the counter reads `x[i]`.
#[allow(clippy::needless_range_loop)]
#[differentiable(graph)]
fn clipped_squares(x: [f64; 3], a: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        if x[i] > 0.0 {
            s += a * x[i].powi(2);
        } else {
            s -= x[i];
        }
    }
    s
}

#[test]
fn a_loop_and_a_branch_are_clusters() {
    let text = clipped_squares_graph();
    let picture = Picture::read(text);
    assert!(
        text.contains("subgraph cluster_0 {\n        label=\"for counter in 0..3\";"),
        "{text}"
    );
    for label in ["label=\"if\";", "label=\"then\";", "label=\"else\";"] {
        assert!(text.contains(label), "{label}:\n{text}");
    }
    // The exponent is written into the method's label, the index of `x[i]` drawn as the
    // counter that places it.
    let power = picture.the("powi(2)");
    let counter = picture.the("counter");
    assert!(picture.is_inactive(counter));
    assert_eq!(picture.labelled("x[·]").len(), 3);
    assert!(
        picture
            .labelled("x[·]")
            .iter()
            .all(|read| picture.has_edge(counter, read))
    );
    assert!(picture.has_edge(picture.the("a"), picture.the("*")));
    assert!(picture.has_edge(picture.the("*"), picture.the("+")) && !picture.is_inactive(power));
    let merge = picture.the("merge");
    assert!(picture.has_edge(picture.the("+"), merge) && picture.has_edge(picture.the("-"), merge));
    assert!(picture.has_edge(picture.the(">"), merge));
    let (entry, exit) = (picture.the("loop entry"), picture.the("loop exit"));
    assert!(picture.has_edge(merge, entry) && picture.has_edge(merge, exit));
    assert!(picture.has_edge(exit, picture.the("return")));
}

#[test]
fn the_loop_and_branch_gradient_is_unchanged() {
    let (x, a) = ([1.5, -2.0, 3.0], 0.5);
    assert!(close(clipped_squares(x, a), 0.5 * (2.25 + 9.0) + 2.0));
    let (dx, da) = clipped_squares_grad(x, a);
    assert!(close(dx[0], 2.0 * a * 1.5) && close(dx[1], -1.0) && close(dx[2], 2.0 * a * 3.0));
    assert!(close(da, 2.25 + 9.0));
}

// ----- a method, a generic function, and `graph` beside `hessian` -----

pub struct Spring {
    pub k: f64,
}

impl Spring {
    #[differentiable(graph)]
    pub fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x
    }
}

#[differentiable(graph)]
fn cube<T: grad::Float>(x: T) -> T {
    x * x * x
}

#[differentiable(hessian, graph)]
fn bowl(x: f64, y: f64) -> f64 {
    x * x * y
}

#[test]
fn a_method_draws_self_as_a_constant() {
    let picture = Picture::read(Spring::energy_graph());
    assert!(picture.text.starts_with("digraph energy {"));
    assert!(picture.is_inactive(picture.the("self")));
    assert!(picture.has_edge(picture.the("self"), picture.the(".k")));
    assert!(!picture.is_inactive(picture.the("x")));
    let spring = Spring { k: 3.0 };
    assert!(close(spring.energy_grad(2.0), 6.0));
}

#[test]
fn a_generic_function_needs_no_turbofish() {
    let picture = Picture::read(cube_graph());
    assert_eq!(picture.labelled("*").len(), 2);
    assert!(close(cube_grad(2.0f64), 12.0));
    assert!((cube_grad(2.0f32) - 12.0).abs() < 1e-5);
}

#[test]
fn graph_combines_with_hessian() {
    let picture = Picture::read(bowl_graph());
    assert_eq!(picture.labelled("*").len(), 2);
    // f = x²y: ∇f = (2xy, x²), H = [[2y, 2x], [2x, 0]].
    assert_eq!(bowl_grad(3.0, 2.0), (12.0, 9.0));
    assert_eq!(bowl_hessian(3.0, 2.0), ((4.0, 6.0), (6.0, 0.0)));
}

// ----- a method of an impl block under the attribute -----

#[differentiable]
impl Spring {
    #[differentiable(graph)]
    pub fn damped(&self, v: f64) -> f64 {
        -self.k * v.tanh()
    }
}

#[test]
fn a_method_of_a_differentiable_impl_block_has_a_picture() {
    let picture = Picture::read(Spring::damped_graph());
    assert!(picture.has_edge(picture.the("v"), picture.the("tanh")));
    let spring = Spring { k: 2.0 };
    let t = 0.5f64.tanh();
    assert!(close(spring.damped_grad(0.5), -2.0 * (1.0 - t * t)));
}

// ----- `graph` on a block: every function the block expands has its picture -----

pub struct Pendulum {
    pub length: f64,
}

#[grad::differentiable(graph)]
impl Pendulum {
    pub fn height(&self, theta: f64) -> f64 {
        self.length * (1.0 - theta.cos())
    }

    pub fn energy(&self, theta: f64, omega: f64) -> f64 {
        0.5 * omega * omega + 9.81 * self.height(theta)
    }

    /// Left as written: it takes no float, so it has no picture either.
    pub fn name(&self) -> &'static str {
        "pendulum"
    }
}

#[test]
fn an_impl_block_with_graph_gives_each_method_its_picture() {
    let height = picture_of(Pendulum::height_graph(), "height");
    assert!(height.is_inactive(height.the("self")));
    assert!(height.has_edge(height.the("theta"), height.the("cos")));
    let energy = picture_of(Pendulum::energy_graph(), "energy");
    assert!(
        energy.text.contains("height"),
        "the call is drawn:\n{}",
        energy.text
    );
    let p = Pendulum { length: 2.0 };
    assert_eq!(p.name(), "pendulum");
}

#[test]
fn an_impl_block_with_graph_keeps_its_gradients() {
    // E = ω²/2 + g l (1 - cos θ): ∂E/∂θ = g l sin θ, ∂E/∂ω = ω.
    let p = Pendulum { length: 2.0 };
    let (theta, omega) = (0.3f64, -1.5);
    let (dtheta, domega) = p.energy_grad(theta, omega);
    assert!(close(dtheta, 9.81 * 2.0 * theta.sin()));
    assert!(close(domega, omega));
    assert!(close(p.height_grad(theta), 2.0 * theta.sin()));
}

pub trait Potential {
    fn potential(&self, x: f64) -> f64;
}

pub struct Well {
    pub depth: f64,
}

// A trait impl's companions go in an inherent impl beside it, the picture with them.
#[differentiable(graph)]
impl Potential for Well {
    fn potential(&self, x: f64) -> f64 {
        -self.depth * (-x * x).exp()
    }
}

#[test]
fn a_trait_impl_with_graph_gives_its_method_a_picture() {
    let picture = picture_of(Well::potential_graph(), "potential");
    assert!(!picture.is_inactive(picture.the("exp")));
    // V = -d e^{-x²}: V' = 2 d x e^{-x²}.
    let well = Well { depth: 3.0 };
    let x = 0.7f64;
    assert!(close(
        well.potential_grad(x),
        2.0 * 3.0 * x * (-x * x).exp()
    ));
}

#[grad::differentiable(graph)]
mod kinetics {
    pub fn rate(k: f64, c: f64) -> f64 {
        k * c * c
    }

    /// The fix the block's refusal of `wrt` names: the argument on the function, inside.
    #[grad::differentiable(wrt(c))]
    pub fn growth(k: f64, c: f64) -> f64 {
        k * c.exp()
    }

    /// Left as written: it returns no float.
    pub fn table() -> Vec<f64> {
        vec![1.0, 2.0]
    }
}

#[test]
fn a_module_with_graph_gives_each_function_its_picture() {
    let rate = picture_of(kinetics::rate_graph(), "rate");
    assert_eq!(rate.labelled("*").len(), 2);
    for parameter in ["k", "c"] {
        assert!(!rate.is_inactive(rate.the(parameter)), "{parameter}");
    }
    let growth = picture_of(kinetics::growth_graph(), "growth");
    // `wrt(c)`: `k` is a constant, drawn so.
    assert!(growth.is_inactive(growth.the("k")));
    assert!(!growth.is_inactive(growth.the("c")));
    assert_eq!(kinetics::table(), vec![1.0, 2.0]);
}

#[test]
fn a_module_with_graph_keeps_its_gradients() {
    // r = k c²: ∂r/∂k = c², ∂r/∂c = 2kc.
    assert_eq!(kinetics::rate_grad(3.0, 2.0), (4.0, 12.0));
    // g = k e^c, in c alone: k e^c.
    assert!(close(kinetics::growth_grad(3.0, 0.5), 3.0 * 0.5f64.exp()));
}

// ----- `hessian, graph` on a block, and blocks inside a module inheriting its options -----

#[grad::differentiable(hessian, graph)]
mod bowls {
    pub fn bowl(x: f64, y: f64) -> f64 {
        x * x * y
    }

    /// An array output: its picture, and no second order (without an error).
    pub fn pair(x: f64) -> [f64; 2] {
        [x.sin(), x.cos()]
    }

    pub struct Cubic {
        pub a: f64,
    }

    // No attribute of its own: the module's `hessian` and `graph` are its.
    impl Cubic {
        pub fn value(&self, x: f64) -> f64 {
            self.a * x * x * x
        }
    }
}

#[grad::differentiable(hessian)]
mod layered {
    // Its own `graph`, and the enclosing module's `hessian`.
    #[grad::differentiable(graph)]
    pub mod inner {
        pub fn quartic(x: f64) -> f64 {
            x * x * x * x
        }
    }
}

#[test]
fn hessian_and_graph_on_a_module() {
    let bowl = picture_of(bowls::bowl_graph(), "bowl");
    assert_eq!(bowl.labelled("*").len(), 2);
    // f = x²y: ∇f = (2xy, x²), H = [[2y, 2x], [2x, 0]].
    assert_eq!(bowls::bowl_grad(3.0, 2.0), (12.0, 9.0));
    assert_eq!(bowls::bowl_hessian(3.0, 2.0), ((4.0, 6.0), (6.0, 0.0)));
    let pair = picture_of(bowls::pair_graph(), "pair");
    assert!(pair.has_edge(pair.the("x"), pair.the("sin")));
    let j = bowls::pair_jacobian(0.5);
    assert!(close(j[0], 0.5f64.cos()) && close(j[1], -0.5f64.sin()));
}

#[test]
fn an_impl_block_inside_a_module_inherits_hessian_and_graph() {
    let picture = picture_of(bowls::Cubic::value_graph(), "value");
    assert!(picture.is_inactive(picture.the("self")));
    let cubic = bowls::Cubic { a: 2.0 };
    // a x³: 3 a x², 6 a x.
    assert!(close(cubic.value_grad(1.5), 3.0 * 2.0 * 1.5 * 1.5));
    assert!(close(cubic.value_hessian(1.5), 6.0 * 2.0 * 1.5));
}

#[test]
fn a_module_inside_a_module_has_its_own_graph_and_the_outer_hessian() {
    let picture = picture_of(layered::inner::quartic_graph(), "quartic");
    assert_eq!(picture.labelled("*").len(), 3);
    // x⁴: 4x³, 12x².
    assert!(close(layered::inner::quartic_grad(2.0), 32.0));
    assert!(close(layered::inner::quartic_hessian(2.0), 48.0));
}

#[grad::differentiable(graph, hessian)]
impl Spring {
    pub fn stretched(&self, x: f64, y: f64) -> f64 {
        self.k * (x * x + y * y).sqrt()
    }
}

#[test]
fn graph_and_hessian_on_an_impl_block() {
    let picture = picture_of(Spring::stretched_graph(), "stretched");
    assert!(!picture.is_inactive(picture.the("sqrt")));
    // k r with r = √(x² + y²) = 5 at (3, 4): ∇ = k (x, y) / r, H = k (r² I - p pᵀ) / r³.
    let spring = Spring { k: 2.0 };
    let (dx, dy) = spring.stretched_grad(3.0, 4.0);
    assert!(close(dx, 2.0 * 3.0 / 5.0) && close(dy, 2.0 * 4.0 / 5.0));
    let ((hxx, hxy), (hyx, hyy)) = spring.stretched_hessian(3.0, 4.0);
    assert!(close(hxx, 2.0 * 16.0 / 125.0) && close(hyy, 2.0 * 9.0 / 125.0));
    assert!(close(hxy, -2.0 * 12.0 / 125.0) && close(hyx, hxy));
}
