//! The runtime tape (`grad::tape`, issue 18) against the macro's generated `_grad` and the
//! `reverse` crate's tape, on functions all three can express: the sigmoid neuron,
//! Rosenbrock in 2 and 1,000 dimensions, a 32×32 dense sigmoid layer with a squared loss, and
//! softmax cross-entropy over 100 logits.
//!
//! Run with `cargo bench -p grad-tests --bench tape`; the results are in
//! `grad-tests/benches/tape.md`.
//!
//! Each function is written once per engine, operation for operation as the macro's source
//! (`reverse` has no `sigmoid` and a wrong `f64 / Var`, so it spells the sigmoid out with
//! `recip`). Data are made constants once per graph (`tape.constant`), literals stay
//! literals. The vector-shaped functions also get a row written with the tape's `Vector`
//! and `Matrix` operations.
//!
//! A tape's gradient is timed whole: leaves, recording, backward and reading the gradient
//! out, on a fresh tape per gradient (`*_fresh`) and on one tape cleared before each gradient
//! (`*_reused`, the arena's memory kept). For the profile, the scalar rows are also timed
//! recording alone (`*_record`: clear, leaves and operations, on a reused tape) and backward
//! alone (`*_backward`: again and again over one recorded graph), and for grad's tape the
//! depth-first search that orders the graph, which `backward` starts with
//! (`grad_tape_topological_order`).
//!
//! Before anything is timed, the macro's gradient is asserted equal to a hand-written one and
//! every tape's to the macro's; the node counts and bytes per node of both tapes are printed.

// The models are written with index loops, the way the math is written.
#![allow(clippy::needless_range_loop)]

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use grad::differentiable;
use grad::tape::{Matrix, Tape, Var, Vector};
use reverse::Gradient;

type ReverseTape = reverse::Tape;
type ReverseVar<'t> = reverse::Var<'t>;

/// A scalar graph on grad's tape: its leaves and its output.
type Build<'a> = &'a dyn for<'t> Fn(&'t Tape) -> (Vec<Var<'t>>, Var<'t>);
/// The same on `reverse`'s tape.
type BuildReverse<'a> =
    &'a dyn for<'t> Fn(&'t ReverseTape) -> (Vec<ReverseVar<'t>>, ReverseVar<'t>);
/// A whole gradient on grad's tape (the vector rows, whose leaves are vectors and matrices).
type Whole<'a> = &'a dyn Fn(&Tape) -> Vec<f64>;

/// `reverse`'s node (`struct Node { weights: [f64; 2], dependencies: [usize; 2] }`, private
/// in `reverse` 0.2.2, so its size is computed from the source): what one operation records.
const REVERSE_BYTES_PER_NODE: usize = 2 * size_of::<f64>() + 2 * size_of::<usize>();
/// `Var::grad` of `reverse` allocates one adjoint per node for the backward sweep.
const REVERSE_ADJOINT_BYTES: usize = size_of::<f64>();

// ---------------------------------------------------------------------------------------------
// The functions.

#[differentiable]
fn neuron(w0: f64, x0: f64, w1: f64, x1: f64, w2: f64) -> f64 {
    let dot = w0 * x0 + w1 * x1 + w2;
    1.0 / (1.0 + (-dot).exp())
}

fn neuron_hand(p: &[f64; 5]) -> Vec<f64> {
    let s = 1.0 / (1.0 + (-(p[0] * p[1] + p[2] * p[3] + p[4])).exp());
    let local = s * (1.0 - s);
    vec![
        p[1] * local,
        p[0] * local,
        p[3] * local,
        p[2] * local,
        local,
    ]
}

fn neuron_tape<'t>(tape: &'t Tape, p: &[f64]) -> (Vec<Var<'t>>, Var<'t>) {
    let v: Vec<Var<'t>> = p.iter().map(|&x| tape.var(x)).collect();
    let dot = v[0] * v[1] + v[2] * v[3] + v[4];
    let y = 1.0 / (1.0 + (-dot).exp());
    (v, y)
}

/// `reverse` 0.2.2 gives `f64 / Var` the derivative -1/x instead of -c/x², so `1 / u` is
/// `u.recip()`.
fn neuron_reverse<'t>(tape: &'t ReverseTape, p: &[f64]) -> (Vec<ReverseVar<'t>>, ReverseVar<'t>) {
    let v = tape.add_vars(p);
    let dot = v[0] * v[1] + v[2] * v[3] + v[4];
    let y = (1.0 + (-dot).exp()).recip();
    (v, y)
}

#[differentiable]
fn rosenbrock<const N: usize>(x: &[f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
}

fn rosenbrock_hand(x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        g[i] += -400.0 * x[i] * a - 2.0 * b;
        g[i + 1] += 200.0 * a;
    }
    g
}

fn rosenbrock_tape<'t>(tape: &'t Tape, x: &[f64]) -> (Vec<Var<'t>>, Var<'t>) {
    let v: Vec<Var<'t>> = x.iter().map(|&x| tape.var(x)).collect();
    let term = |i: usize| {
        let a = v[i + 1] - v[i] * v[i];
        let b = 1.0 - v[i];
        100.0 * a * a + b * b
    };
    let y = (1..v.len() - 1).fold(term(0), |s, i| s + term(i));
    (v, y)
}

/// The same with the literals 1 and 100 made constants once: each `f64` operand of grad's
/// tape is a constant leaf of its own, one node more per operation.
fn rosenbrock_tape_hoisted<'t>(tape: &'t Tape, x: &[f64]) -> (Vec<Var<'t>>, Var<'t>) {
    let v: Vec<Var<'t>> = x.iter().map(|&x| tape.var(x)).collect();
    let (one, hundred) = (tape.constant(1.0), tape.constant(100.0));
    let term = |i: usize| {
        let a = v[i + 1] - v[i] * v[i];
        let b = one - v[i];
        hundred * a * a + b * b
    };
    let y = (1..v.len() - 1).fold(term(0), |s, i| s + term(i));
    (v, y)
}

fn rosenbrock_reverse<'t>(
    tape: &'t ReverseTape,
    x: &[f64],
) -> (Vec<ReverseVar<'t>>, ReverseVar<'t>) {
    let v = tape.add_vars(x);
    let term = |i: usize| {
        let a = v[i + 1] - v[i] * v[i];
        let b = 1.0 - v[i];
        100.0 * a * a + b * b
    };
    let y = (1..v.len() - 1).fold(term(0), |s, i| s + term(i));
    (v, y)
}

#[differentiable(wrt(w, b))]
fn dense_loss<const M: usize, const N: usize>(
    w: &[[f64; N]; M],
    b: &[f64; M],
    x: &[f64; N],
    target: &[f64; M],
) -> f64 {
    let mut z = [0.0; M];
    for i in 0..M {
        z[i] = b[i];
        for j in 0..N {
            z[i] += w[i][j] * x[j];
        }
    }
    let mut loss = 0.0;
    for i in 0..M {
        let a = grad::sigmoid(z[i]);
        loss += (a - target[i]) * (a - target[i]);
    }
    0.5 * loss
}

/// Backpropagation by hand: δ = (a - t) a (1 - a), ∂L/∂W = δ xᵀ, ∂L/∂b = δ; W row by row,
/// then b.
fn dense_hand(w: &[f64], b: &[f64], x: &[f64], target: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut g = vec![0.0; w.len() + b.len()];
    for i in 0..b.len() {
        let z = (0..n).fold(b[i], |z, j| z + w[i * n + j] * x[j]);
        let a = grad::sigmoid(z);
        let delta = (a - target[i]) * a * (1.0 - a);
        g[w.len() + i] = delta;
        for j in 0..n {
            g[i * n + j] = delta * x[j];
        }
    }
    g
}

/// `w` row by row, then `b`; `x` and the target are constants.
fn dense_tape<'t>(
    tape: &'t Tape,
    w: &[f64],
    b: &[f64],
    x: &[f64],
    target: &[f64],
) -> (Vec<Var<'t>>, Var<'t>) {
    let n = x.len();
    let params: Vec<Var<'t>> = w.iter().chain(b).map(|&p| tape.var(p)).collect();
    let (wv, bv) = params.split_at(w.len());
    let xs: Vec<Var<'t>> = x.iter().map(|&xj| tape.constant(xj)).collect();
    let mut loss = None;
    for i in 0..b.len() {
        let z = (0..n).fold(bv[i], |z, j| z + wv[i * n + j] * xs[j]);
        let a = z.sigmoid();
        let e = a - tape.constant(target[i]);
        let square = e * e;
        loss = Some(loss.map_or(square, |l| l + square));
    }
    let y = 0.5 * loss.expect("a layer of at least one row");
    (params, y)
}

/// The layer in the tape's vector operations: 0.5 ‖σ(W x + b) - t‖².
fn dense_vector<'t>(
    tape: &'t Tape,
    w: &[f64],
    b: &[f64],
    x: &[f64],
    target: &[f64],
) -> (Matrix<'t>, Vector<'t>, Var<'t>) {
    let wm = tape.matrix(b.len(), x.len(), w);
    let bv = tape.vector(b);
    let z = wm.matvec(tape.constant_vector(x)) + bv;
    let e = z.sigmoid() - tape.constant_vector(target);
    (wm, bv, 0.5 * e.norm_sq())
}

fn dense_reverse<'t>(
    tape: &'t ReverseTape,
    w: &[f64],
    b: &[f64],
    x: &[f64],
    target: &[f64],
) -> (Vec<ReverseVar<'t>>, ReverseVar<'t>) {
    let n = x.len();
    let params: Vec<ReverseVar<'t>> = w.iter().chain(b).map(|&p| tape.add_var(p)).collect();
    let (wv, bv) = params.split_at(w.len());
    let loss = (0..b.len())
        .map(|i| {
            let z = (0..n).fold(bv[i], |z, j| z + wv[i * n + j] * x[j]);
            let a = (1.0 + (-z).exp()).recip();
            let e = a - target[i];
            e * e
        })
        .sum::<ReverseVar<'t>>();
    (params, loss * 0.5)
}

#[differentiable]
fn cross_entropy<const N: usize>(z: &[f64; N], label: usize) -> f64 {
    let mut m = z[0];
    for i in 1..N {
        m = m.max(z[i]);
    }
    let mut s = 0.0;
    for i in 0..N {
        s += (z[i] - m).exp();
    }
    s.ln() + m - z[label]
}

/// softmax(z) - onehot(label).
fn cross_entropy_hand(z: &[f64], label: usize) -> Vec<f64> {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut g: Vec<f64> = z.iter().map(|&zi| (zi - m).exp()).collect();
    let s: f64 = g.iter().sum();
    g.iter_mut().for_each(|gi| *gi /= s);
    g[label] -= 1.0;
    g
}

/// The shift m is taken from the values, a constant: a constant shift leaves the gradient
/// exact (the macro's gradient through the running maximum is zero in exact arithmetic).
fn cross_entropy_tape<'t>(tape: &'t Tape, z: &[f64], label: usize) -> (Vec<Var<'t>>, Var<'t>) {
    let v: Vec<Var<'t>> = z.iter().map(|&x| tape.var(x)).collect();
    let m = tape.constant(z.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    let s = (1..v.len()).fold((v[0] - m).exp(), |s, i| s + (v[i] - m).exp());
    let y = s.ln() + m - v[label];
    (v, y)
}

fn cross_entropy_vector<'t>(tape: &'t Tape, z: &[f64], label: usize) -> (Vector<'t>, Var<'t>) {
    let v = tape.vector(z);
    (v, v.log_sum_exp() - v.get(label))
}

fn cross_entropy_reverse<'t>(
    tape: &'t ReverseTape,
    z: &[f64],
    label: usize,
) -> (Vec<ReverseVar<'t>>, ReverseVar<'t>) {
    let v = tape.add_vars(z);
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let s = (1..v.len()).fold((v[0] - m).exp(), |s, i| s + (v[i] - m).exp());
    let y = s.ln() + m - v[label];
    (v, y)
}

// ---------------------------------------------------------------------------------------------
// Checking and timing.

/// One function with its peers.
struct Model<'a> {
    name: &'static str,
    /// The hand-written gradient, which the macro's must match.
    hand: Vec<f64>,
    /// The macro's gradient, flattened in the tapes' parameter order.
    by_macro: Vec<f64>,
    tape: Build<'a>,
    /// Another way to write the scalar graph, timed whole on a reused tape.
    tape_variant: Option<(&'static str, Build<'a>)>,
    vector: Option<Whole<'a>>,
    reverse: BuildReverse<'a>,
}

fn scalar_gradient(vars: &[Var<'_>], y: Var<'_>) -> Vec<f64> {
    y.backward();
    vars.iter().map(|v| v.grad()).collect()
}

fn reverse_gradient(vars: &[ReverseVar<'_>], y: ReverseVar<'_>) -> Vec<f64> {
    y.grad().wrt(vars)
}

fn whole_tape(build: Build<'_>, tape: &Tape) -> Vec<f64> {
    let (vars, y) = build(tape);
    scalar_gradient(&vars, y)
}

fn whole_reverse(build: BuildReverse<'_>, tape: &ReverseTape) -> Vec<f64> {
    let (vars, y) = build(tape);
    reverse_gradient(&vars, y)
}

fn assert_close(label: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{label}: length");
    let scale = want.iter().fold(1e-300_f64, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tolerance * scale,
            "{label}: element {i} is {g}, expected {w}"
        );
    }
}

impl Model<'_> {
    /// Asserts every gradient against the macro's (and the macro's against the hand-written
    /// one), then prints the node counts and bytes per node.
    fn check(&self) {
        let name = self.name;
        assert_close(&format!("{name}: macro"), &self.by_macro, &self.hand, 1e-12);
        let mut fresh = Tape::new();
        let by_tape = whole_tape(self.tape, &fresh);
        assert_close(
            &format!("{name}: grad tape"),
            &by_tape,
            &self.by_macro,
            1e-12,
        );
        let (scalar_nodes, scalar_bytes) = (fresh.len(), fresh.memory_bytes());
        // The same graph again on the cleared tape gives the same gradient.
        fresh.clear();
        let again = whole_tape(self.tape, &fresh);
        assert_eq!(again, by_tape, "{name}: grad tape after clear");
        if let Some((label, variant)) = self.tape_variant {
            let g = whole_tape(variant, &Tape::new());
            assert_close(
                &format!("{name}: grad tape, {label}"),
                &g,
                &self.by_macro,
                1e-12,
            );
        }
        let vector = self.vector.map(|vector| {
            let tape = Tape::new();
            let g = vector(&tape);
            assert_close(
                &format!("{name}: grad tape vectors"),
                &g,
                &self.by_macro,
                1e-12,
            );
            (tape.len(), tape.memory_bytes())
        });
        let reverse_tape = ReverseTape::new();
        let by_reverse = whole_reverse(self.reverse, &reverse_tape);
        assert_close(
            &format!("{name}: reverse"),
            &by_reverse,
            &self.by_macro,
            1e-10,
        );
        let reverse_nodes = reverse_tape.len();
        println!(
            "{name}: {} inputs; grad tape {scalar_nodes} nodes, {scalar_bytes} B \
             ({:.1} B/node, {} B per scalar node by construction); reverse {reverse_nodes} \
             nodes, {} B recorded + {} B of adjoints ({} + {} B/node, from its source)",
            self.hand.len(),
            scalar_bytes as f64 / scalar_nodes as f64,
            Tape::<f64>::BYTES_PER_SCALAR_NODE,
            reverse_nodes * REVERSE_BYTES_PER_NODE,
            reverse_nodes * REVERSE_ADJOINT_BYTES,
            REVERSE_BYTES_PER_NODE,
            REVERSE_ADJOINT_BYTES,
        );
        if let Some((nodes, bytes)) = vector {
            println!(
                "{name}: grad tape vectors {nodes} nodes, {bytes} B ({:.1} B/input)",
                bytes as f64 / self.hand.len() as f64
            );
        }
    }

    fn time<R>(&self, cr: &mut Criterion, by_macro: impl Fn() -> R) {
        self.check();
        let mut group = cr.benchmark_group(self.name);
        group.bench_function("macro", |b| b.iter(&by_macro));
        time_grad_tape(&mut group, "grad_tape", &|t| whole_tape(self.tape, t));
        if let Some(vector) = self.vector {
            time_grad_tape(&mut group, "grad_tape_vector", vector);
        }
        time_reverse(&mut group, "reverse", &|t| whole_reverse(self.reverse, t));
        if let Some((label, variant)) = self.tape_variant {
            let mut tape = Tape::new();
            group.bench_function(format!("grad_tape_{label}_reused"), |b| {
                b.iter(|| {
                    tape.clear();
                    whole_tape(variant, &tape)
                })
            });
        }
        // The profile: recording alone, and backward alone over one recorded graph.
        let mut tape = Tape::new();
        group.bench_function("grad_tape_record", |b| {
            b.iter(|| {
                tape.clear();
                (self.tape)(&tape).1.value()
            })
        });
        let tape = Tape::new();
        let (_, y) = (self.tape)(&tape);
        group.bench_function("grad_tape_backward", |b| b.iter(|| y.backward()));
        // Part of backward: the depth-first search for the nodes the output depends on.
        group.bench_function("grad_tape_topological_order", |b| {
            b.iter(|| tape.topological_order(y.id()))
        });
        let reverse_tape = ReverseTape::new();
        group.bench_function("reverse_record", |b| {
            b.iter(|| {
                reverse_tape.clear();
                (self.reverse)(&reverse_tape).1.val()
            })
        });
        let reverse_tape = ReverseTape::new();
        let (_, y) = (self.reverse)(&reverse_tape);
        group.bench_function("reverse_backward", |b| b.iter(|| y.grad()));
        group.finish();
    }
}

/// A whole gradient on a fresh tape per call, and on one tape cleared before each call.
fn time_grad_tape(group: &mut BenchmarkGroup<'_, WallTime>, id: &str, f: Whole<'_>) {
    group.bench_function(format!("{id}_fresh"), |b| b.iter(|| f(&Tape::new())));
    let mut tape = Tape::new();
    group.bench_function(format!("{id}_reused"), |b| {
        b.iter(|| {
            tape.clear();
            f(&tape)
        })
    });
}

fn time_reverse(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    f: &dyn Fn(&ReverseTape) -> Vec<f64>,
) {
    group.bench_function(format!("{id}_fresh"), |b| b.iter(|| f(&ReverseTape::new())));
    let tape = ReverseTape::new();
    group.bench_function(format!("{id}_reused"), |b| {
        b.iter(|| {
            tape.clear();
            f(&tape)
        })
    });
}

// ---------------------------------------------------------------------------------------------
// The benchmarks.

fn bench_neuron(cr: &mut Criterion) {
    let p = [2.0, -1.0, -3.0, -2.0, -3.0];
    let g = neuron_grad(p[0], p[1], p[2], p[3], p[4]);
    let model = Model {
        name: "neuron",
        hand: neuron_hand(&p),
        by_macro: vec![g.0, g.1, g.2, g.3, g.4],
        tape: &|t| neuron_tape(t, black_box(&p)),
        tape_variant: None,
        vector: None,
        reverse: &|t| neuron_reverse(t, black_box(&p)),
    };
    model.time(cr, || {
        let p = black_box(p);
        neuron_grad(p[0], p[1], p[2], p[3], p[4])
    });
}

fn rosenbrock_point<const N: usize>() -> [f64; N] {
    std::array::from_fn(|i| 0.5 + 0.7 * (1.3 * i as f64).sin())
}

fn bench_rosenbrock<const N: usize>(cr: &mut Criterion) {
    let x = rosenbrock_point::<N>();
    let name = if N == 2 {
        "rosenbrock_2"
    } else {
        "rosenbrock_1000"
    };
    assert!(N == 2 || N == 1000, "a name for Rosenbrock {N}");
    let model = Model {
        name,
        hand: rosenbrock_hand(&x),
        by_macro: rosenbrock_grad(&x).to_vec(),
        tape: &|t| rosenbrock_tape(t, black_box(&x)),
        tape_variant: Some(("hoisted", &|t| rosenbrock_tape_hoisted(t, black_box(&x)))),
        vector: None,
        reverse: &|t| rosenbrock_reverse(t, black_box(&x)),
    };
    model.time(cr, || rosenbrock_grad(black_box(&x)));
}

fn bench_dense(cr: &mut Criterion) {
    const M: usize = 32;
    const N: usize = 32;
    let w: [[f64; N]; M] =
        std::array::from_fn(|i| std::array::from_fn(|j| 0.1 * ((i * N + j) as f64 * 0.37).sin()));
    let b: [f64; M] = std::array::from_fn(|i| 0.05 * (i as f64 * 0.7).cos());
    let x: [f64; N] = std::array::from_fn(|j| (j as f64 * 0.3).sin());
    let target: [f64; M] = std::array::from_fn(|i| if i % 3 == 0 { 1.0 } else { 0.0 });
    let flat_w: Vec<f64> = w.iter().flatten().copied().collect();
    let (gw, gb) = dense_loss_grad(&w, &b, &x, &target);
    let by_macro: Vec<f64> = gw.iter().flatten().chain(&gb).copied().collect();
    let model = Model {
        name: "dense_32x32",
        hand: dense_hand(&flat_w, &b, &x, &target),
        by_macro,
        tape: &|t| dense_tape(t, black_box(&flat_w), &b, &x, &target),
        tape_variant: None,
        vector: Some(&|t| {
            let (wm, bv, y) = dense_vector(t, black_box(&flat_w), &b, &x, &target);
            y.backward();
            let mut g = wm.grad();
            g.extend(bv.grad());
            g
        }),
        reverse: &|t| dense_reverse(t, black_box(&flat_w), &b, &x, &target),
    };
    model.time(cr, || dense_loss_grad(black_box(&w), &b, &x, &target));
}

fn bench_softmax(cr: &mut Criterion) {
    const N: usize = 100;
    let z: [f64; N] = std::array::from_fn(|i| 2.0 * (0.9 * i as f64).sin());
    let label = 17;
    let model = Model {
        name: "softmax_ce_100",
        hand: cross_entropy_hand(&z, label),
        by_macro: cross_entropy_grad(&z, label).to_vec(),
        tape: &|t| cross_entropy_tape(t, black_box(&z), label),
        tape_variant: None,
        vector: Some(&|t| {
            let (v, y) = cross_entropy_vector(t, black_box(&z), label);
            y.backward();
            v.grad()
        }),
        reverse: &|t| cross_entropy_reverse(t, black_box(&z), label),
    };
    model.time(cr, || cross_entropy_grad(black_box(&z), label));
}

fn benches(cr: &mut Criterion) {
    println!(
        "grad::tape: {} B per scalar node (node {} B + value and gradient); reverse: {} B \
         per node recorded + {} B adjoint in backward",
        Tape::<f64>::BYTES_PER_SCALAR_NODE,
        Tape::<f64>::BYTES_PER_SCALAR_NODE - 2 * size_of::<f64>(),
        REVERSE_BYTES_PER_NODE,
        REVERSE_ADJOINT_BYTES
    );
    bench_neuron(cr);
    bench_rosenbrock::<2>(cr);
    bench_rosenbrock::<1000>(cr);
    bench_dense(cr);
    bench_softmax(cr);
}

criterion_group! {
    name = tape;
    config = Criterion::default().without_plots();
    targets = benches
}
criterion_main!(tape);
