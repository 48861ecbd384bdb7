use super::*;
use crate::pullback;
use alloc::vec;

#[test]
fn the_notes_circuit() {
    // f = (x + y) · z at (-2, 5, -4): q = 3, f = -12, ∂f/∂q = z = -4, ∂f/∂z = q = 3.
    let tape = Tape::new();
    let (x, y, z) = (tape.var(-2.0), tape.var(5.0), tape.var(-4.0));
    let q = x + y;
    let f = q * z;
    f.backward();
    assert_eq!(f.value(), -12.0);
    assert_eq!(q.grad(), -4.0);
    assert_eq!([x.grad(), y.grad(), z.grad()], [-4.0, -4.0, 3.0]);
    assert_eq!(f.kind(), NodeKind::BackwardFunction);
    assert_eq!(x.kind(), NodeKind::Accumulated);
}

#[test]
fn the_notes_sigmoid_neuron() {
    // f(w, x) = 1 / (1 + e^-(w0 x0 + w1 x1 + w2)) at w = (2, -3, -3), x = (-1, -2): the dot
    // product is 1, f = 0.73, and the gradients are (-0.2, 0.39, -0.39, -0.59, 0.2).
    let tape = Tape::new();
    let (w0, w1, w2) = (tape.var(2.0), tape.var(-3.0), tape.var(-3.0));
    let (x0, x1) = (tape.var(-1.0), tape.var(-2.0));
    let dot = w0 * x0 + w1 * x1 + w2;
    let f = 1.0 / (1.0 + (-dot).exp());
    f.backward();
    let s = 1.0 / (1.0 + (-1.0f64).exp());
    let local = s * (1.0 - s);
    assert!((f.value() - s).abs() < 1e-15);
    let expected = [-local, -2.0 * local, local, 2.0 * local, -3.0 * local];
    let got = [w0.grad(), w1.grad(), w2.grad(), x0.grad(), x1.grad()];
    for (g, e) in got.iter().zip(expected) {
        assert!((g - e).abs() < 1e-15, "{got:?} vs {expected:?}");
    }
    // Through the sigmoid gate in one node, the same.
    let tape = Tape::new();
    let w = tape.vector(&[2.0, -3.0, -3.0]);
    let x = tape.constant_vector(&[-1.0, -2.0, 1.0]);
    let f = w.dot(x).sigmoid();
    f.backward();
    for (g, e) in w.grad().iter().zip([-local, -2.0 * local, local]) {
        assert!((g - e).abs() < 1e-15);
    }
    assert_eq!(x.grad(), vec![0.0; 3]);
}

#[test]
fn gradients_accumulate_until_zero_grad() {
    let tape = Tape::new();
    let x = tape.var(3.0);
    let y = x * x;
    y.backward();
    y.backward();
    assert_eq!(x.grad(), 12.0);
    // The operation's gradient is that of the last pass, not a sum.
    assert_eq!(y.grad(), 1.0);
    tape.zero_grad();
    assert_eq!(x.grad(), 0.0);
    (x.sin()).backward_with(2.0);
    assert_eq!(x.grad(), 2.0 * 3.0f64.cos());
}

#[test]
fn constants_and_no_record_take_no_gradient() {
    let tape = Tape::new();
    let x = tape.var(2.0);
    let c = tape.constant(5.0);
    let from_constants = c * c;
    assert_eq!(from_constants.kind(), NodeKind::Constant);
    let frozen = tape.no_record(|| x * 10.0);
    assert!(tape.is_recording());
    assert_eq!(frozen.kind(), NodeKind::Constant);
    assert_eq!(frozen.value(), 20.0);
    let f = x * c + frozen * x;
    f.backward();
    // ∂/∂x of 5x + 20x with 20 held constant.
    assert_eq!(x.grad(), 25.0);
    assert_eq!(c.grad(), 0.0);
    // Nested scopes resume as they were.
    tape.no_record(|| {
        tape.no_record(|| ());
        assert!(!tape.is_recording());
    });
    assert!(tape.is_recording());
}

#[test]
fn backward_of_a_constant_does_nothing() {
    let tape = Tape::new();
    let x = tape.var(1.0);
    let c = tape.constant(2.0) * 3.0;
    c.backward();
    assert_eq!(x.grad(), 0.0);
    assert_eq!(c.grad(), 0.0);
}

#[test]
fn topological_order_puts_inputs_first_and_skips_constants() {
    let tape = Tape::new();
    let x = tape.var(1.0);
    let c = tape.constant(2.0);
    let a = x * c;
    let b = a.exp();
    let f = a + b;
    let order = tape.topological_order(f.id());
    assert_eq!(order, vec![x.id(), a.id(), b.id(), f.id()]);
}

#[test]
fn every_float_method_uses_the_macros_rule() {
    let tape = Tape::new();
    let x0 = 0.3;
    let x = tape.var(x0);
    let cases: [(Var<'_>, f64); 8] = [
        (x.sin(), pullback::sin(x0, x0.sin(), 1.0)),
        (x.sqrt(), pullback::sqrt(x0, x0.sqrt(), 1.0)),
        (x.tanh(), pullback::tanh(x0, x0.tanh(), 1.0)),
        (x.powi(3), pullback::powi(x0, 3, x0.powi(3), 1.0)),
        (x.powf(2.5), pullback::powf(x0, 2.5, x0.powf(2.5), 1.0).0),
        (x.atan2(2.0), pullback::atan2(x0, 2.0, x0.atan2(2.0), 1.0).0),
        (x.relu(), crate::relu_vjp(x0, 1.0)),
        (x.gelu(), crate::gelu_vjp(x0, 1.0)),
    ];
    for (result, expected) in cases {
        tape.zero_grad();
        result.backward();
        assert_eq!(x.grad(), expected);
    }
}

#[test]
fn conventions_at_kinks_are_the_macros() {
    let tape = Tape::new();
    let zero = tape.var(0.0);
    zero.relu().backward();
    assert_eq!(zero.grad(), 0.0);
    tape.zero_grad();
    zero.abs().backward();
    assert_eq!(zero.grad(), 0.0);
    tape.zero_grad();
    zero.sqrt().backward();
    assert_eq!(zero.grad(), f64::INFINITY);
    let (a, b) = (tape.var(1.0), tape.var(1.0));
    a.max(b).backward();
    assert_eq!((a.grad(), b.grad()), (0.5, 0.5));
}

#[test]
fn vectors_elementwise_with_broadcast() {
    let tape = Tape::new();
    let v = tape.vector(&[1.0, 2.0, 3.0]);
    let s = tape.var(2.0);
    // f = Σ (s · v)² = s² Σ v²: ∂/∂v = 2 s² v, ∂/∂s = 2 s Σ v².
    let f = ((v * s).powi(2)).sum();
    f.backward();
    assert_eq!(f.value(), 56.0);
    assert_eq!(v.grad(), vec![8.0, 16.0, 24.0]);
    assert_eq!(s.grad(), 56.0);
}

#[test]
fn softmax_matvec_and_log_sum_exp() {
    let tape = Tape::new();
    let w = tape.matrix(2, 3, &[1.0, 2.0, 3.0, -1.0, 0.5, 0.25]);
    let x = tape.vector(&[0.5, -1.0, 2.0]);
    let z = w.matvec(x);
    assert_eq!(z.values(), vec![4.5, -0.5]);
    let p = z.softmax();
    let loss = -p.get(0).ln() + z.log_sum_exp() * 0.0;
    loss.backward();
    // -ln softmax(z)₀: ∂/∂z = softmax(z) - e₀; ∂/∂W = that ⊗ x; ∂/∂x = Wᵀ that.
    let s = crate::softmax([4.5, -0.5]);
    let dz = [s[0] - 1.0, s[1]];
    let dw: Vec<f64> = dz
        .iter()
        .flat_map(|d| [0.5, -1.0, 2.0].map(|xj| d * xj))
        .collect();
    for (g, e) in w.grad().iter().zip(&dw) {
        assert!((g - e).abs() < 1e-15);
    }
    let dx = [
        dz[0] - dz[1],
        dz[0] * 2.0 + dz[1] * 0.5,
        dz[0] * 3.0 + dz[1] * 0.25,
    ];
    for (g, e) in x.grad().iter().zip(dx) {
        assert!((g - e).abs() < 1e-15);
    }
}

#[test]
fn stack_gathers_floats() {
    let tape = Tape::new();
    let (a, b) = (tape.var(1.0), tape.var(2.0));
    let v = tape.stack(&[a, b * 3.0, tape.constant(4.0)]);
    let f = v.norm_sq();
    f.backward();
    assert_eq!(f.value(), 1.0 + 36.0 + 16.0);
    assert_eq!((a.grad(), b.grad()), (2.0, 36.0));
}

#[test]
fn backward_with_a_vector_upstream() {
    let tape = Tape::new();
    let v = tape.vector(&[1.0, 2.0]);
    let y = v.exp();
    y.backward_with(&[1.0, -1.0]);
    assert_eq!(v.grad(), vec![1.0f64.exp(), -(2.0f64.exp())]);
}

#[test]
fn a_million_nodes() {
    // A chain of 10⁶ operations: backward must not recurse.
    let tape = Tape::new();
    let x = tape.var(1.0);
    let mut y = x;
    for _ in 0..500_000 {
        y = y * 1.000001 + 0.0;
    }
    assert!(tape.len() > 1_000_000);
    y.backward();
    let expected = 1.000001f64.powi(500_000);
    assert!((x.grad() - expected).abs() < 1e-9 * expected);
}

#[test]
#[should_panic(expected = "vectors of different lengths")]
fn mismatched_lengths_panic() {
    let tape = Tape::new();
    let _ = tape.vector(&[1.0, 2.0]) + tape.vector(&[1.0, 2.0, 3.0]);
}

#[test]
fn dot_export_of_the_circuit() {
    let tape = Tape::new();
    let x = tape.var(-2.0).named("x");
    let y = tape.var(5.0).named("y");
    let z = tape.var(-4.0).named("z");
    let f = ((x + y).named("q") * z).named("f");
    f.backward();
    let dot = tape.to_dot();
    assert_eq!(
        dot,
        "digraph tape {\n    rankdir=LR;\n    node [fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n    n0 [label=\"x\", shape=box];\n    n1 [label=\"y\", shape=box];\n    n2 [label=\"z\", shape=box];\n    n3 [label=\"q: +\", shape=ellipse];\n    n4 [label=\"f: *\", shape=ellipse];\n    n0 -> n3 [label=\"-2\\n∇ -4\"];\n    n1 -> n3 [label=\"5\\n∇ -4\"];\n    n3 -> n4 [label=\"3\\n∇ -4\"];\n    n2 -> n4 [label=\"-4\\n∇ 3\"];\n    out4 [shape=point];\n    n4 -> out4 [label=\"-12\\n∇ 1\"];\n}\n"
    );
}

#[test]
fn f32_tapes() {
    let tape = Tape::<f32>::default();
    let x = tape.var(2.0);
    let f = 3.0f32 * x * x - x;
    f.backward();
    assert_eq!(x.grad(), 11.0);
}

#[test]
fn nodes_made_after_a_pass_and_outputs_before_the_end() {
    let tape = Tape::new();
    let x = tape.var(2.0);
    let y = x * x;
    let later = y.exp();
    // `later` is beyond `y`: the pass from `y` neither reaches nor disturbs it.
    y.backward();
    assert_eq!(x.grad(), 4.0);
    assert_eq!(later.grad(), 0.0);
    let after_the_pass = x + 1.0;
    assert_eq!(after_the_pass.grad(), 0.0);
    after_the_pass.backward();
    assert_eq!(x.grad(), 5.0);
    // `y` was not reached by the second pass: its gradient is the first pass's.
    assert_eq!(y.grad(), 1.0);
}

#[test]
fn with_capacity_holds_a_graph_of_that_size_without_slack() {
    let tape = Tape::<f64>::with_capacity(1_000);
    let x = tape.var(1.0);
    let mut y = x;
    for _ in 0..999 {
        y = y.sin();
    }
    y.backward();
    assert_eq!(tape.len(), 1_000);
    assert_eq!(
        tape.memory_bytes(),
        1_000 * Tape::<f64>::BYTES_PER_SCALAR_NODE
    );
}

#[test]
fn empty_vectors_and_matrices() {
    let tape = Tape::new();
    let s = tape.var(2.0);
    let empty = tape.vector(&[]);
    let scaled = (empty * s).exp();
    assert!(scaled.is_empty());
    let total = scaled.sum() + s;
    total.backward();
    assert_eq!(s.grad(), 1.0);
    assert_eq!(empty.log_sum_exp().value(), f64::NEG_INFINITY);
    let w = tape.matrix(3, 0, &[]);
    let y = w.matvec(tape.vector(&[])).sum() * s;
    y.backward();
    assert_eq!(y.value(), 0.0);
}

#[test]
fn a_picture_before_any_backward_shows_zero_gradients() {
    let tape = Tape::new();
    let x = tape.var(1.5).named("x");
    let _ = (x * 2.0).exp();
    let dot = tape.to_dot();
    assert!(dot.contains("n0 -> n2 [label=\"1.5\\n∇ 0\"];"), "{dot}");
}
