//! The runtime tape against the macro, on every function of a shared table that both can
//! express, and against central finite differences on random programs.
//!
//! The two engines share their derivative rules (grad-runtime's `pullback` and the
//! activations' `_vjp`), so they must agree to rounding everywhere, kinks included.

use grad::differentiable;
use grad::tape::{Tape, Var};

/// One function of the table: the macro's value and gradient (flattened), and the same
/// function built on a tape from its flattened inputs.
struct Case {
    name: &'static str,
    point: &'static [f64],
    by_macro: fn(&[f64]) -> (f64, Vec<f64>),
    on_tape: for<'t> fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
}

#[differentiable]
fn circuit(x: f64, y: f64, z: f64) -> f64 {
    (x + y) * z
}

#[differentiable]
fn neuron(w0: f64, x0: f64, w1: f64, x1: f64, w2: f64) -> f64 {
    let dot = w0 * x0 + w1 * x1 + w2;
    1.0 / (1.0 + (-dot).exp())
}

#[differentiable]
fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

#[differentiable]
fn formula(x: f64, y: f64) -> f64 {
    (x * y).sin() + x.powi(2) / (1.0 + (-y).exp())
}

#[differentiable]
fn cross_entropy(z: [f64; 4]) -> f64 {
    grad::log_sum_exp(z) - z[2]
}

#[differentiable]
fn softmax_pick(z: [f64; 3]) -> f64 {
    let p = grad::softmax(z);
    p[0] * 2.0 + p[1]
}

#[differentiable]
fn dense_tanh(w: [[f64; 3]; 2], x: [f64; 3]) -> f64 {
    let h = grad::matvec(w, x);
    h[0].tanh() + h[1].tanh()
}

#[differentiable]
fn kinks(x: f64, y: f64) -> f64 {
    x.max(y) + (x - y).abs() + grad::relu(x - 1.0) * y + x.min(y)
}

// Written as practitioners write an indexed loop.
#[allow(clippy::needless_range_loop)]
#[differentiable]
fn branches_and_loops(x: [f64; 5]) -> f64 {
    let mut total = 0.0;
    for i in 0..5 {
        if x[i] > 0.0 {
            total += x[i].exp() * (i as f64);
        } else {
            total += x[i].sin() * x[i];
        }
    }
    total
}

#[differentiable]
fn two_input_methods(x: f64, y: f64) -> f64 {
    x.atan2(y) + x.hypot(y) + x.powf(y) + y.ln_1p() + x.mul_add(y, 2.0) + x.clamp(0.0, 0.5)
}

#[differentiable]
fn activations(x: f64) -> f64 {
    grad::sigmoid(x)
        + grad::softplus(x)
        + grad::gelu(x)
        + grad::swish(x)
        + grad::log_sigmoid(x)
        + grad::elu(x, 0.7)
        + grad::leaky_relu(x, 0.1)
        + grad::hard_tanh(x)
}

#[differentiable]
fn hyperbolic_and_logs(x: f64) -> f64 {
    x.sinh() * x.cosh()
        + x.asinh()
        + (x + 2.0).acosh()
        + (x * 0.5).atanh()
        + x.cbrt()
        + (x + 3.0).log2()
        + (x + 3.0).log10()
        + x.exp2()
        + x.exp_m1()
        + x.recip()
        + (x * 0.3).asin()
        + (x * 0.3).acos()
        + x.atan()
        + x.tan()
        + x.to_degrees()
        + x.fract()
        + x.sqrt()
}

fn activations_on_tape<'t>(_: &'t Tape, v: &[Var<'t>]) -> Var<'t> {
    let x = v[0];
    x.sigmoid()
        + x.softplus()
        + x.gelu()
        + x.swish()
        + x.log_sigmoid()
        + x.elu(0.7)
        + x.leaky_relu(0.1)
        + x.hard_tanh()
}

fn kinks_on_tape<'t>(_: &'t Tape, v: &[Var<'t>]) -> Var<'t> {
    v[0].max(v[1]) + (v[0] - v[1]).abs() + (v[0] - 1.0).relu() * v[1] + v[0].min(v[1])
}

fn vars_of<'t>(tape: &'t Tape, values: &[f64]) -> Vec<Var<'t>> {
    values.iter().map(|&v| tape.var(v)).collect()
}

fn table() -> Vec<Case> {
    vec![
        Case {
            name: "circuit",
            point: &[-2.0, 5.0, -4.0],
            by_macro: |p| {
                let (v, g) = circuit_value_and_grad(p[0], p[1], p[2]);
                (v, vec![g.0, g.1, g.2])
            },
            on_tape: |_, v| (v[0] + v[1]) * v[2],
        },
        Case {
            name: "neuron",
            point: &[2.0, -1.0, -3.0, -2.0, -3.0],
            by_macro: |p| {
                let (v, g) = neuron_value_and_grad(p[0], p[1], p[2], p[3], p[4]);
                (v, vec![g.0, g.1, g.2, g.3, g.4])
            },
            on_tape: |_, v| {
                let dot = v[0] * v[1] + v[2] * v[3] + v[4];
                1.0 / (1.0 + (-dot).exp())
            },
        },
        Case {
            name: "rosenbrock",
            point: &[-1.2, 1.0],
            by_macro: |p| {
                let (v, g) = rosenbrock_value_and_grad(p[0], p[1]);
                (v, vec![g.0, g.1])
            },
            on_tape: |_, v| (1.0 - v[0]).powi(2) + 100.0 * (v[1] - v[0] * v[0]).powi(2),
        },
        Case {
            name: "formula",
            point: &[0.5, 1.2],
            by_macro: |p| {
                let (v, g) = formula_value_and_grad(p[0], p[1]);
                (v, vec![g.0, g.1])
            },
            on_tape: |_, v| (v[0] * v[1]).sin() + v[0].powi(2) / (1.0 + (-v[1]).exp()),
        },
        Case {
            name: "cross_entropy",
            point: &[0.5, -1.0, 2.0, 0.25],
            by_macro: |p| {
                let (v, g) = cross_entropy_value_and_grad([p[0], p[1], p[2], p[3]]);
                (v, g.to_vec())
            },
            on_tape: |tape, v| {
                let z = tape.stack(v);
                z.log_sum_exp() - z.get(2)
            },
        },
        Case {
            name: "softmax_pick",
            point: &[1.0, -0.5, 0.25],
            by_macro: |p| {
                let (v, g) = softmax_pick_value_and_grad([p[0], p[1], p[2]]);
                (v, g.to_vec())
            },
            on_tape: |tape, v| {
                let p = tape.stack(v).softmax();
                p.get(0) * 2.0 + p.get(1)
            },
        },
        Case {
            name: "dense_tanh",
            point: &[0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 1.0, 2.0, -1.0],
            by_macro: |p| {
                let w = [[p[0], p[1], p[2]], [p[3], p[4], p[5]]];
                let (v, (gw, gx)) = dense_tanh_value_and_grad(w, [p[6], p[7], p[8]]);
                (v, gw.iter().flatten().chain(&gx).copied().collect())
            },
            on_tape: |tape, v| {
                // Element by element from the table's flat leaves (`stack`, `get`);
                // `matrix_leaves_against_the_macro` checks the tape's own `matvec`.
                let w = tape.stack(&v[..6]);
                let x = tape.stack(&v[6..]);
                let h0 = (w.get(0) * x.get(0) + w.get(1) * x.get(1) + w.get(2) * x.get(2)).tanh();
                let h1 = (w.get(3) * x.get(0) + w.get(4) * x.get(1) + w.get(5) * x.get(2)).tanh();
                h0 + h1
            },
        },
        Case {
            name: "kinks at a tie",
            point: &[1.0, 1.0],
            by_macro: |p| {
                let (v, g) = kinks_value_and_grad(p[0], p[1]);
                (v, vec![g.0, g.1])
            },
            on_tape: kinks_on_tape,
        },
        Case {
            name: "kinks apart",
            point: &[1.5, 0.5],
            by_macro: |p| {
                let (v, g) = kinks_value_and_grad(p[0], p[1]);
                (v, vec![g.0, g.1])
            },
            on_tape: kinks_on_tape,
        },
        Case {
            name: "branches_and_loops",
            point: &[0.5, -1.0, 2.0, -0.25, 0.75],
            by_macro: |p| {
                let (v, g) = branches_and_loops_value_and_grad([p[0], p[1], p[2], p[3], p[4]]);
                (v, g.to_vec())
            },
            on_tape: |tape, v| {
                // The host program branches on values; the tape records the path taken.
                let mut total = tape.constant(0.0);
                for (i, &x) in v.iter().enumerate() {
                    if x.value() > 0.0 {
                        total += x.exp() * (i as f64);
                    } else {
                        total += x.sin() * x;
                    }
                }
                total
            },
        },
        Case {
            name: "two_input_methods",
            point: &[0.3, 1.7],
            by_macro: |p| {
                let (v, g) = two_input_methods_value_and_grad(p[0], p[1]);
                (v, vec![g.0, g.1])
            },
            on_tape: |_, v| {
                let (x, y) = (v[0], v[1]);
                x.atan2(y)
                    + x.hypot(y)
                    + x.powf(y)
                    + y.ln_1p()
                    + x.mul_add(y, 2.0)
                    + x.clamp(0.0, 0.5)
            },
        },
        Case {
            name: "activations",
            point: &[0.4],
            by_macro: |p| {
                let (v, g) = activations_value_and_grad(p[0]);
                (v, vec![g])
            },
            on_tape: activations_on_tape,
        },
        Case {
            name: "activations below zero",
            point: &[-0.8],
            by_macro: |p| {
                let (v, g) = activations_value_and_grad(p[0]);
                (v, vec![g])
            },
            on_tape: activations_on_tape,
        },
        Case {
            name: "hyperbolic_and_logs",
            point: &[0.7],
            by_macro: |p| {
                let (v, g) = hyperbolic_and_logs_value_and_grad(p[0]);
                (v, vec![g])
            },
            on_tape: |_, v| {
                let x = v[0];
                x.sinh() * x.cosh()
                    + x.asinh()
                    + (x + 2.0).acosh()
                    + (x * 0.5).atanh()
                    + x.cbrt()
                    + (x + 3.0).log2()
                    + (x + 3.0).log10()
                    + x.exp2()
                    + x.exp_m1()
                    + x.recip()
                    + (x * 0.3).asin()
                    + (x * 0.3).acos()
                    + x.atan()
                    + x.tan()
                    + x.to_degrees()
                    + x.fract()
                    + x.sqrt()
            },
        },
    ]
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-13 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn the_tape_agrees_with_the_macro_on_the_shared_table() {
    for case in table() {
        let (value, gradient) = (case.by_macro)(case.point);
        let tape = Tape::new();
        let inputs = vars_of(&tape, case.point);
        let output = (case.on_tape)(&tape, &inputs);
        output.backward();
        assert!(
            close(output.value(), value),
            "{}: value {} vs {value}",
            case.name,
            output.value()
        );
        let on_tape: Vec<f64> = inputs.iter().map(|v| v.grad()).collect();
        for (i, (t, m)) in on_tape.iter().zip(&gradient).enumerate() {
            assert!(
                close(*t, *m),
                "{}: ∂/∂input {i}: tape {t} vs macro {m}",
                case.name
            );
        }
    }
}

#[test]
fn the_shared_table_against_finite_differences() {
    // The table's points avoid kinks, except the tie, whose one-sided slopes differ.
    for case in table()
        .into_iter()
        .filter(|case| case.name != "kinks at a tie")
    {
        let (_, gradient) = (case.by_macro)(case.point);
        for i in 0..case.point.len() {
            let h = 1e-6;
            let at = |delta: f64| {
                let mut point = case.point.to_vec();
                point[i] += delta;
                (case.by_macro)(&point).0
            };
            let central = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (central - gradient[i]).abs() <= 1e-6 * (1.0 + central.abs()),
                "{}: ∂/∂input {i}: {} vs central difference {central}",
                case.name,
                gradient[i]
            );
        }
    }
}

/// The tape's `matvec` against the macro's on the dense layer, with the matrix a leaf of its
/// own.
#[test]
fn matrix_leaves_against_the_macro() {
    let w = [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]];
    let x = [1.0, 2.0, -1.0];
    let (value, (gw, gx)) = dense_tanh_value_and_grad(w, x);
    let tape = Tape::new();
    let wt = tape.matrix(2, 3, w.as_flattened());
    let xt = tape.vector(&x);
    let f = wt.matvec(xt).tanh().sum();
    f.backward();
    assert!(close(f.value(), value));
    for (t, m) in wt.grad().iter().zip(gw.as_flattened()) {
        assert!(close(*t, *m), "{t} vs {m}");
    }
    for (t, m) in xt.grad().iter().zip(&gx) {
        assert!(close(*t, *m), "{t} vs {m}");
    }
}

/// A small random program: an expression tree over a few inputs.
enum Expr {
    Input(usize),
    Literal(f64),
    Unary(&'static str, Box<Expr>),
    Binary(char, Box<Expr>, Box<Expr>),
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

// Functions smooth on the whole line, so that finite differences hold at any point.
const UNARY: &[&str] = &[
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "softplus",
    "atan",
    "exp_small",
    "square",
    "neg",
];

fn random_expr(rng: &mut Rng, inputs: usize, depth: u32) -> Expr {
    if depth == 0 || rng.below(4) == 0 {
        return if rng.below(4) == 0 {
            Expr::Literal(rng.uniform(-2.0, 2.0))
        } else {
            Expr::Input(rng.below(inputs as u64) as usize)
        };
    }
    if rng.below(3) == 0 {
        let name = UNARY[rng.below(UNARY.len() as u64) as usize];
        Expr::Unary(name, Box::new(random_expr(rng, inputs, depth - 1)))
    } else {
        let op = ['+', '-', '*', '/'][rng.below(4) as usize];
        Expr::Binary(
            op,
            Box::new(random_expr(rng, inputs, depth - 1)),
            Box::new(random_expr(rng, inputs, depth - 1)),
        )
    }
}

fn eval(expr: &Expr, x: &[f64]) -> f64 {
    match expr {
        Expr::Input(i) => x[*i],
        Expr::Literal(c) => *c,
        Expr::Unary(name, a) => {
            let a = eval(a, x);
            match *name {
                "sin" => a.sin(),
                "cos" => a.cos(),
                "tanh" => a.tanh(),
                "sigmoid" => grad::sigmoid(a),
                "softplus" => grad::softplus(a),
                "atan" => a.atan(),
                "exp_small" => (a.tanh()).exp(),
                "square" => a.powi(2),
                "neg" => -a,
                _ => unreachable!(),
            }
        }
        // Division by 1 + b² keeps every quotient smooth.
        Expr::Binary(op, a, b) => {
            let (a, b) = (eval(a, x), eval(b, x));
            match op {
                '+' => a + b,
                '-' => a - b,
                '*' => a * b,
                _ => a / (1.0 + b * b),
            }
        }
    }
}

fn build<'t>(expr: &Expr, tape: &'t Tape, x: &[Var<'t>]) -> Var<'t> {
    match expr {
        Expr::Input(i) => x[*i],
        Expr::Literal(c) => tape.constant(*c),
        Expr::Unary(name, a) => {
            let a = build(a, tape, x);
            match *name {
                "sin" => a.sin(),
                "cos" => a.cos(),
                "tanh" => a.tanh(),
                "sigmoid" => a.sigmoid(),
                "softplus" => a.softplus(),
                "atan" => a.atan(),
                "exp_small" => a.tanh().exp(),
                "square" => a.powi(2),
                "neg" => -a,
                _ => unreachable!(),
            }
        }
        Expr::Binary(op, a, b) => {
            let (a, b) = (build(a, tape, x), build(b, tape, x));
            match op {
                '+' => a + b,
                '-' => a - b,
                '*' => a * b,
                _ => a / (1.0 + b * b),
            }
        }
    }
}

#[test]
fn random_programs_against_finite_differences() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut checked = 0;
    for _ in 0..2_000 {
        let inputs = 1 + rng.below(4) as usize;
        let expr = random_expr(&mut rng, inputs, 5);
        let point: Vec<f64> = (0..inputs).map(|_| rng.uniform(-1.5, 1.5)).collect();
        let tape = Tape::new();
        let x = vars_of(&tape, &point);
        let f = build(&expr, &tape, &x);
        assert!(close(f.value(), eval(&expr, &point)));
        if !f.requires_grad() {
            // A program of literals alone.
            continue;
        }
        f.backward();
        for i in 0..inputs {
            let h = 1e-5;
            let shifted = |delta: f64| {
                let mut p = point.clone();
                p[i] += delta;
                eval(&expr, &p)
            };
            let central = (shifted(h) - shifted(-h)) / (2.0 * h);
            let g = x[i].grad();
            assert!(
                (central - g).abs() <= 1e-5 * (1.0 + central.abs()),
                "∂/∂x{i} = {g} vs central difference {central} at {point:?}"
            );
        }
        checked += 1;
    }
    assert!(
        checked > 1_500,
        "only {checked} programs had an input to check"
    );
}

/// Gradient accumulation across passes and `zero_grad`, on a graph built once and walked
/// twice, as a training loop that sums the gradients of two losses does.
#[test]
fn two_losses_accumulate_into_the_leaves() {
    let tape = Tape::new();
    let w = tape.var(0.5);
    let loss_a = (w * 3.0 - 1.0).powi(2);
    let loss_b = (w * -2.0 + 4.0).powi(2);
    loss_a.backward();
    loss_b.backward();
    let expected = 2.0 * (0.5 * 3.0 - 1.0) * 3.0 + 2.0 * (0.5 * -2.0 + 4.0) * -2.0;
    assert_eq!(w.grad(), expected);
    tape.zero_grad();
    loss_b.backward();
    assert_eq!(w.grad(), 2.0 * (0.5 * -2.0 + 4.0) * -2.0);
}
