//! Newton's method with grad's Hessian, truncated Newton with its Hessian-vector products,
//! against gradient descent and L-BFGS, all four through argmin: its `CostFunction`,
//! `Gradient` and `Hessian` traits are implemented with the companions that
//! `#[differentiable(hessian)]` writes beside each objective.
//!
//! Three problems: Rosenbrock's banana in 2 dimensions from (-1.2, 1), the chained
//! Rosenbrock function of 100 inputs from 0 (from (-1.2, 1, -1.2, 1, ..) the Newton methods
//! find its local minimum near f = 3.99, L-BFGS the global one), and an L2-regularised logistic regression with 100
//! weights on 400 badly scaled samples. Each solver runs until f(x) - f* <= TOLERANCE (or its
//! iteration cap); the table gives iterations, evaluations and time, and
//! `target/newton_convergence.png` plots log10(f(x) - f*) per iteration for each problem.
//!
//! Run with `cargo run --release -p grad-newton-example`.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use argmin::core::{
    CostFunction, Error, Executor, Gradient, Hessian, IterState, KV, Problem, Solver, State,
    TerminationStatus,
};
use argmin::solver::gradientdescent::SteepestDescent;
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::newton::Newton;
use argmin::solver::quasinewton::LBFGS;
use argmin_math::{ArgminDot, ArgminInv};
use grad::differentiable;
use plotters::prelude::*;

/// How close to the minimum's value a solver must come.
const TOLERANCE: f64 = 1e-10;

// ---------------------------------------------------------------------------------------------
// The objectives, written as their authors would, with the attribute added.

/// Rosenbrock's function of any number of inputs (the chained form, as in argmin's test
/// functions); its minimum is 0 at (1, .., 1).
#[differentiable(hessian)]
fn rosenbrock(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum()
}

/// The mean logistic loss of a linear model with labels in {-1, 1}, plus an L2 penalty.
#[differentiable(hessian, wrt(weights))]
fn logistic_loss(weights: &[f64], features: &[Vec<f64>], labels: &[f64], l2: f64) -> f64 {
    let mut total = 0.0;
    for (row, &label) in features.iter().zip(labels) {
        let margin: f64 = row.iter().zip(weights).map(|(a, w)| a * w).sum();
        total += (-label * margin).exp().ln_1p();
    }
    let penalty: f64 = weights.iter().map(|w| w * w).sum();
    total / labels.len() as f64 + 0.5 * l2 * penalty
}

// ---------------------------------------------------------------------------------------------
// One interface over the companions, so that each solver sees the same objective.

/// An objective with its gradient, Hessian and Hessian-vector product, all from grad.
trait Objective {
    fn value(&self, x: &[f64]) -> f64;
    fn gradient(&self, x: &[f64]) -> Vec<f64>;
    fn hessian(&self, x: &[f64]) -> Vec<Vec<f64>>;
    fn hessian_times(&self, x: &[f64], v: &[f64]) -> Vec<f64>;
}

struct Rosenbrock;

impl Objective for Rosenbrock {
    fn value(&self, x: &[f64]) -> f64 {
        rosenbrock(x)
    }
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        rosenbrock_grad(x)
    }
    fn hessian(&self, x: &[f64]) -> Vec<Vec<f64>> {
        rosenbrock_hessian(x)
    }
    fn hessian_times(&self, x: &[f64], v: &[f64]) -> Vec<f64> {
        rosenbrock_hvp(x, v)
    }
}

struct LogisticRegression {
    features: Vec<Vec<f64>>,
    labels: Vec<f64>,
    l2: f64,
}

impl Objective for LogisticRegression {
    fn value(&self, w: &[f64]) -> f64 {
        logistic_loss(w, &self.features, &self.labels, self.l2)
    }
    fn gradient(&self, w: &[f64]) -> Vec<f64> {
        logistic_loss_grad(w, &self.features, &self.labels, self.l2)
    }
    fn hessian(&self, w: &[f64]) -> Vec<Vec<f64>> {
        logistic_loss_hessian(w, &self.features, &self.labels, self.l2)
    }
    fn hessian_times(&self, w: &[f64], v: &[f64]) -> Vec<f64> {
        logistic_loss_hvp(w, &self.features, &self.labels, self.l2, v)
    }
}

/// argmin's view of an objective. `Hessian` is the dense matrix for Newton's method, or the
/// operator v -> H v for truncated Newton, which never forms the matrix.
struct ArgminProblem<H> {
    objective: Rc<dyn Objective>,
    hessian: fn(&Rc<dyn Objective>, &[f64]) -> H,
}

impl<H> CostFunction for ArgminProblem<H> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(self.objective.value(x))
    }
}

impl<H> Gradient for ArgminProblem<H> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(self.objective.gradient(x))
    }
}

impl<H> Hessian for ArgminProblem<H> {
    type Param = Vec<f64>;
    type Hessian = H;
    fn hessian(&self, x: &Vec<f64>) -> Result<H, Error> {
        Ok((self.hessian)(&self.objective, x))
    }
}

fn problem<H>(
    objective: &Rc<dyn Objective>,
    hessian: fn(&Rc<dyn Objective>, &[f64]) -> H,
) -> ArgminProblem<H> {
    ArgminProblem {
        objective: Rc::clone(objective),
        hessian,
    }
}

/// The Hessian as rows, from `f_hessian`. argmin's Newton step is `x - H⁻¹ g`, and its `Vec`
/// backend has no inverse, so this type brings one.
#[derive(Clone)]
struct DenseHessian(Vec<Vec<f64>>);

fn dense_hessian(objective: &Rc<dyn Objective>, x: &[f64]) -> DenseHessian {
    DenseHessian(objective.hessian(x))
}

impl ArgminInv<DenseHessian> for DenseHessian {
    /// Gauss-Jordan elimination with partial pivoting.
    fn inv(&self) -> Result<DenseHessian, Error> {
        let n = self.0.len();
        let mut a = self.0.clone();
        let mut inverse: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
            .collect();
        for column in 0..n {
            let pivot = (column..n)
                .max_by(|&i, &j| a[i][column].abs().total_cmp(&a[j][column].abs()))
                .expect("a column below the diagonal");
            if a[pivot][column] == 0.0 {
                return Err(Error::msg("the Hessian is singular"));
            }
            a.swap(column, pivot);
            inverse.swap(column, pivot);
            let scale = 1.0 / a[column][column];
            for j in 0..n {
                a[column][j] *= scale;
                inverse[column][j] *= scale;
            }
            for i in 0..n {
                let factor = a[i][column];
                if i != column && factor != 0.0 {
                    for j in 0..n {
                        a[i][j] -= factor * a[column][j];
                        inverse[i][j] -= factor * inverse[column][j];
                    }
                }
            }
        }
        Ok(DenseHessian(inverse))
    }
}

impl ArgminDot<Vec<f64>, Vec<f64>> for DenseHessian {
    fn dot(&self, v: &Vec<f64>) -> Vec<f64> {
        self.0
            .iter()
            .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
            .collect()
    }
}

/// The Hessian at `x` as an operator: each product is one `f_hvp`, a few gradients' cost.
#[derive(Clone)]
struct HessianProducts {
    objective: Rc<dyn Objective>,
    at: Vec<f64>,
}

fn hessian_products(objective: &Rc<dyn Objective>, x: &[f64]) -> HessianProducts {
    HessianProducts {
        objective: Rc::clone(objective),
        at: x.to_vec(),
    }
}

thread_local! {
    /// How many products the current run asked for (argmin counts the operators it built).
    static HESSIAN_PRODUCTS: Cell<u64> = const { Cell::new(0) };
}

impl ArgminDot<Vec<f64>, Vec<f64>> for HessianProducts {
    fn dot(&self, v: &Vec<f64>) -> Vec<f64> {
        HESSIAN_PRODUCTS.set(HESSIAN_PRODUCTS.get() + 1);
        self.objective.hessian_times(&self.at, v)
    }
}

// ---------------------------------------------------------------------------------------------
// Truncated Newton: an argmin solver of our own, since argmin's `NewtonCG` (with its
// More-Thuente line search) crept along the banana's valley at a hundredth of f per step here,
// with the exact dense Hessian as well as with `f_hvp`.

/// Newton's step solved inexactly by conjugate gradients, which only ever multiply by the
/// Hessian (one `f_hvp` each), stopped at a residual of min(0.01, sqrt|g|)·|g| or at a
/// direction of non-positive curvature; then a backtracking line search on the Armijo
/// condition. The forcing term is Nocedal and Wright's (superlinear near the minimum) with
/// their cap of 1/2 lowered to 0.01: at 1/2 the banana took 63 iterations, at 0.01 it takes 20,
/// and the logistic regression the same 10 or 11 for twice the products.
struct TruncatedNewton;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `a + t b`.
fn axpy(a: &[f64], t: f64, b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + t * y).collect()
}

impl TruncatedNewton {
    fn direction(gradient: &[f64], hessian: &impl ArgminDot<Vec<f64>, Vec<f64>>) -> Vec<f64> {
        let gradient_norm = dot(gradient, gradient).sqrt();
        let tolerance = gradient_norm.sqrt().min(0.01) * gradient_norm;
        let mut step = vec![0.0; gradient.len()];
        let mut residual = gradient.to_vec();
        let mut search: Vec<f64> = gradient.iter().map(|g| -g).collect();
        let mut residual_squared = dot(&residual, &residual);
        for iteration in 0..2 * gradient.len() {
            let curved = hessian.dot(&search);
            let curvature = dot(&search, &curved);
            if curvature <= 1e-12 * dot(&search, &search) {
                if iteration == 0 {
                    step = search;
                }
                break;
            }
            let length = residual_squared / curvature;
            step = axpy(&step, length, &search);
            residual = axpy(&residual, length, &curved);
            let next_squared = dot(&residual, &residual);
            if next_squared.sqrt() <= tolerance {
                break;
            }
            let beta = next_squared / residual_squared;
            search = residual
                .iter()
                .zip(&search)
                .map(|(r, p)| beta * p - r)
                .collect();
            residual_squared = next_squared;
        }
        step
    }
}

impl<O, H> Solver<O, Iterate<H>> for TruncatedNewton
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>
        + Hessian<Param = Vec<f64>, Hessian = H>,
    H: ArgminDot<Vec<f64>, Vec<f64>>,
{
    fn name(&self) -> &str {
        "truncated Newton"
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: Iterate<H>,
    ) -> Result<(Iterate<H>, Option<KV>), Error> {
        let x = state.take_param().expect("a starting point");
        let value = match state.get_cost() {
            known if known.is_finite() => known,
            _ => problem.cost(&x)?,
        };
        let gradient = problem.gradient(&x)?;
        let hessian = problem.hessian(&x)?;
        let direction = Self::direction(&gradient, &hessian);
        let slope = dot(&gradient, &direction);
        let mut length = 1.0;
        for _ in 0..60 {
            let candidate = axpy(&x, length, &direction);
            let candidate_value = problem.cost(&candidate)?;
            if candidate_value <= value + 1e-4 * length * slope {
                return Ok((state.param(candidate).cost(candidate_value), None));
            }
            length *= 0.5;
        }
        Err(Error::msg(
            "no step along the truncated Newton direction decreases f",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Running the solvers.

/// f(x) at each iteration and the time since the start, for the plot.
type Trace = Rc<RefCell<Vec<(u64, f64, Duration)>>>;

/// Wraps an argmin solver so that f(x) is known after every iteration (argmin's Newton step
/// does not evaluate it), which lets argmin's own target-cost test stop every solver alike,
/// and records it. It costs one evaluation of f per iteration for every solver.
struct Recorded<S> {
    solver: S,
    objective: Rc<dyn Objective>,
    trace: Trace,
    started: Instant,
}

type Iterate<H> = IterState<Vec<f64>, Vec<f64>, (), H, (), f64>;

impl<S> Recorded<S> {
    /// The state with f at its point as its cost. A solver that set the cost itself keeps its
    /// state untouched: setting it again would make the previous cost the current one, and
    /// L-BFGS stops when the two are equal.
    fn with_cost<H>(&self, state: Iterate<H>) -> (Iterate<H>, f64) {
        let x = state.get_param().expect("the solver's point");
        let cost = self.objective.value(x);
        if state.get_cost() == cost {
            (state, cost)
        } else {
            (state.cost(cost), cost)
        }
    }
}

impl<O, S, H> Solver<O, Iterate<H>> for Recorded<S>
where
    S: Solver<O, Iterate<H>>,
{
    fn name(&self) -> &str {
        self.solver.name()
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: Iterate<H>,
    ) -> Result<(Iterate<H>, Option<KV>), Error> {
        let (state, kv) = self.solver.init(problem, state)?;
        let (state, cost) = self.with_cost(state);
        self.trace
            .borrow_mut()
            .push((0, cost, self.started.elapsed()));
        Ok((state, kv))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: Iterate<H>,
    ) -> Result<(Iterate<H>, Option<KV>), Error> {
        let iteration = state.get_iter() + 1;
        let (state, kv) = self.solver.next_iter(problem, state)?;
        let (state, cost) = self.with_cost(state);
        self.trace
            .borrow_mut()
            .push((iteration, cost, self.started.elapsed()));
        Ok((state, kv))
    }

    fn terminate(&mut self, state: &Iterate<H>) -> TerminationStatus {
        self.solver.terminate(state)
    }
}

/// What one solver did on one problem.
struct Run {
    solver: &'static str,
    iterations: u64,
    reached: bool,
    final_gap: f64,
    time: Duration,
    values: u64,
    gradients: u64,
    hessians: u64,
    products: u64,
    trace: Vec<(u64, f64)>,
}

fn run<O, S, H>(
    name: &'static str,
    objective: &Rc<dyn Objective>,
    problem: O,
    solver: S,
    start: &[f64],
    minimum: f64,
    max_iters: u64,
) -> Run
where
    S: Solver<O, Iterate<H>>,
    O: 'static,
    H: Clone,
{
    let trace: Trace = Rc::default();
    HESSIAN_PRODUCTS.set(0);
    let recorded = Recorded {
        solver,
        objective: Rc::clone(objective),
        trace: Rc::clone(&trace),
        started: Instant::now(),
    };
    let started = Instant::now();
    let result = Executor::new(problem, recorded)
        .configure(|state| {
            state
                .param(start.to_vec())
                .max_iters(max_iters)
                .target_cost(minimum + TOLERANCE)
                .counting(true)
        })
        .run()
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    let time = started.elapsed();
    let counts = &result.state.counts;
    let count = |key: &str| counts.get(key).copied().unwrap_or(0);
    let trace: Vec<(u64, f64)> = trace
        .borrow()
        .iter()
        .map(|&(iteration, cost, _)| (iteration, cost - minimum))
        .collect();
    let final_gap = trace.last().map_or(f64::INFINITY, |&(_, gap)| gap);
    Run {
        solver: name,
        iterations: result.state.iter,
        reached: final_gap <= TOLERANCE,
        final_gap,
        time,
        values: count("cost_count"),
        gradients: count("gradient_count"),
        hessians: count("hessian_count"),
        products: HESSIAN_PRODUCTS.get(),
        trace,
    }
}

/// All four solvers on one objective from one starting point.
fn compare(objective: Rc<dyn Objective>, start: &[f64], minimum: f64) -> Vec<Run> {
    let line_search = MoreThuenteLineSearch::new();
    let tiny = f64::EPSILON * f64::EPSILON;
    vec![
        run(
            "gradient descent",
            &objective,
            problem(&objective, dense_hessian),
            SteepestDescent::new(line_search.clone()),
            start,
            minimum,
            200_000,
        ),
        run(
            "L-BFGS (m = 7)",
            &objective,
            problem(&objective, dense_hessian),
            LBFGS::new(line_search.clone(), 7)
                .with_tolerance_grad(tiny)
                .and_then(|lbfgs| lbfgs.with_tolerance_cost(tiny))
                .expect("positive tolerances"),
            start,
            minimum,
            20_000,
        ),
        run(
            "Newton (f_hessian)",
            &objective,
            problem(&objective, dense_hessian),
            Newton::new(),
            start,
            minimum,
            200,
        ),
        run(
            "truncated Newton",
            &objective,
            problem(&objective, hessian_products),
            TruncatedNewton,
            start,
            minimum,
            200,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// The logistic regression's data: badly scaled features, so that curvature differs by four
// orders of magnitude between directions, the case Newton's method exists for.

struct XorShift(u64);

impl XorShift {
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly normal: the sum of four uniforms, centred and scaled to unit variance.
    fn next_normal(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.next_unit()).sum();
        (sum - 2.0) * 3f64.sqrt()
    }
}

fn logistic_regression(samples: usize, dimension: usize) -> LogisticRegression {
    let mut rng = XorShift(0x6e65_7774_6f6e);
    let truth: Vec<f64> = (0..dimension).map(|_| rng.next_normal()).collect();
    let scales: Vec<f64> = (0..dimension)
        .map(|j| 10f64.powf(-1.0 + 2.0 * j as f64 / (dimension - 1) as f64))
        .collect();
    let mut features = Vec::with_capacity(samples);
    let mut labels = Vec::with_capacity(samples);
    for _ in 0..samples {
        let row: Vec<f64> = scales.iter().map(|s| s * rng.next_normal()).collect();
        let margin: f64 = row.iter().zip(&truth).map(|(a, w)| a * w).sum::<f64>() / 10.0;
        labels.push(if margin + rng.next_normal() > 0.0 {
            1.0
        } else {
            -1.0
        });
        features.push(row);
    }
    LogisticRegression {
        features,
        labels,
        l2: 1e-3,
    }
}

/// The minimum's value, from Newton's method run to convergence (its quadratic convergence
/// makes the last steps change nothing).
fn minimum_by_newton(objective: &dyn Objective, start: &[f64]) -> f64 {
    let mut x = start.to_vec();
    for _ in 0..100 {
        let step = DenseHessian(objective.hessian(&x))
            .inv()
            .expect("a regular Hessian")
            .dot(&objective.gradient(&x));
        x.iter_mut().zip(&step).for_each(|(xi, si)| *xi -= si);
    }
    let gradient_norm = objective
        .gradient(&x)
        .iter()
        .map(|g| g * g)
        .sum::<f64>()
        .sqrt();
    assert!(
        gradient_norm < 1e-10,
        "Newton's reference: |g| = {gradient_norm:e}"
    );
    objective.value(&x)
}

// ---------------------------------------------------------------------------------------------
// Output.

const COLOURS: [RGBColor; 4] = [
    RGBColor(120, 120, 120),
    RGBColor(30, 110, 220),
    RGBColor(220, 50, 40),
    RGBColor(40, 160, 60),
];
const COLOUR_NAMES: [&str; 4] = ["grey", "blue", "red", "green"];

/// The fastest of a few calls: the time of one call on a quiet machine.
fn time_of<R>(mut call: impl FnMut() -> R) -> Duration {
    let repeats = 20;
    (0..repeats)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(call());
            started.elapsed()
        })
        .min()
        .expect("repeats")
}

/// What one call of each companion costs at `x`, and one Gauss-Jordan inverse of the Hessian.
fn print_costs(objective: &dyn Objective, x: &[f64]) {
    let v: Vec<f64> = (0..x.len()).map(|i| (i as f64).cos()).collect();
    let value = time_of(|| objective.value(x));
    let gradient = time_of(|| objective.gradient(x));
    let product = time_of(|| objective.hessian_times(x, &v));
    let hessian = time_of(|| objective.hessian(x));
    let dense = DenseHessian(objective.hessian(x));
    let inverse = time_of(|| dense.inv());
    println!(
        "  one call: f {value:.2?}, f_grad {gradient:.2?}, f_hvp {product:.2?} ({:.1} gradients), \
         f_hessian {hessian:.2?} ({:.1} gradients); one inverse {inverse:.2?}",
        product.as_secs_f64() / gradient.as_secs_f64(),
        hessian.as_secs_f64() / gradient.as_secs_f64(),
    );
}

fn print_table(title: &str, runs: &[Run]) {
    println!("\n{title}");
    println!(
        "  {:<19} {:>10} {:>7} {:>9} {:>8} {:>6} {:>10} {:>12}  plot",
        "solver", "iterations", "values", "gradients", "Hessians", "H·v", "f - f*", "time"
    );
    for (run, colour) in runs.iter().zip(COLOUR_NAMES) {
        println!(
            "  {:<19} {:>10} {:>7} {:>9} {:>8} {:>6} {:>10.1e} {:>10.2?}{}  {colour}",
            run.solver,
            run.iterations,
            run.values,
            run.gradients,
            run.hessians,
            run.products,
            run.final_gap,
            run.time,
            if run.reached { "  " } else { " *" },
        );
    }
}

/// One panel per problem: log10(f - f*) from -12 to 6 (grid lines every 2) against
/// log10(iteration + 1) (grid lines at 1, 10, 100, ..), a line per solver. No text: plotters draws text only with a font feature, which needs system
/// fonts; the colours are named in the printed tables.
fn plot(problems: &[(&str, Vec<Run>)], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (1200, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, problems.len()));
    for ((_, runs), panel) in problems.iter().zip(&panels) {
        let most = runs
            .iter()
            .map(|run| run.trace.len())
            .max()
            .unwrap_or(1)
            .max(2) as f64;
        let (x_max, y_min, y_max) = (most.log10(), -12.0, 6.0);
        let mut chart = ChartBuilder::on(panel)
            .margin(20)
            .build_cartesian_2d(0.0..x_max, y_min..y_max)?;
        let grid = RGBColor(225, 225, 225);
        for decade in 0..=(x_max.ceil() as i32) {
            let x = f64::from(decade).min(x_max);
            chart.draw_series(LineSeries::new([(x, y_min), (x, y_max)], grid))?;
        }
        for level in (y_min as i32..=y_max as i32).step_by(2) {
            let y = f64::from(level);
            chart.draw_series(LineSeries::new([(0.0, y), (x_max, y)], grid))?;
        }
        chart.draw_series(LineSeries::new(
            [
                (0.0, y_min),
                (x_max, y_min),
                (x_max, y_max),
                (0.0, y_max),
                (0.0, y_min),
            ],
            BLACK,
        ))?;
        for (run, colour) in runs.iter().zip(COLOURS) {
            chart.draw_series(LineSeries::new(
                run.trace
                    .iter()
                    .filter(|(_, gap)| gap.is_finite())
                    .map(|&(iteration, gap)| {
                        let x = ((iteration + 1) as f64).log10();
                        let y = gap.max(1e-300).log10().clamp(y_min, y_max);
                        (x, y)
                    }),
                colour.stroke_width(2),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn main() {
    let banana: Rc<dyn Objective> = Rc::new(Rosenbrock);
    let chained: Rc<dyn Objective> = Rc::new(Rosenbrock);
    let regression = logistic_regression(400, 100);
    let regression_minimum = minimum_by_newton(&regression, &[0.0; 100]);
    let regression: Rc<dyn Objective> = Rc::new(regression);

    let problems = vec![
        (
            "Rosenbrock, 2 inputs, from (-1.2, 1)",
            compare(Rc::clone(&banana), &[-1.2, 1.0], 0.0),
        ),
        (
            "Rosenbrock, 100 inputs, from 0",
            compare(Rc::clone(&chained), &[0.0; 100], 0.0),
        ),
        (
            "Logistic regression, 100 weights, 400 samples, from 0",
            compare(Rc::clone(&regression), &[0.0; 100], regression_minimum),
        ),
    ];
    println!("Each solver runs until f(x) - f* <= {TOLERANCE:e}; * marks one that stopped first.");
    let objectives = [(banana, 2), (chained, 100), (regression, 100)];
    for ((title, runs), (objective, inputs)) in problems.iter().zip(&objectives) {
        print_table(title, runs);
        let x: Vec<f64> = (0..*inputs).map(|i| 0.5 + 0.1 * (i as f64).sin()).collect();
        print_costs(objective.as_ref(), &x);
    }
    std::fs::create_dir_all(target_dir()).expect("create the target directory");
    let png = target_dir()
        .canonicalize()
        .expect("the target directory")
        .join("newton_convergence.png");
    plot(&problems, &png).expect("draw the convergence plot");
    println!(
        "\nlog10(f - f*) against log10(iteration + 1), a panel per problem: {}",
        png.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `f_grad` along e_j: column j of the Hessian.
    fn hessian_by_differences(objective: &dyn Objective, x: &[f64]) -> Vec<Vec<f64>> {
        let h = 1e-5;
        let columns: Vec<Vec<f64>> = (0..x.len())
            .map(|j| {
                let mut up = x.to_vec();
                let mut down = x.to_vec();
                up[j] += h;
                down[j] -= h;
                let (gu, gd) = (objective.gradient(&up), objective.gradient(&down));
                gu.iter()
                    .zip(&gd)
                    .map(|(a, b)| (a - b) / (2.0 * h))
                    .collect()
            })
            .collect();
        (0..x.len())
            .map(|i| columns.iter().map(|column| column[i]).collect())
            .collect()
    }

    fn check(objective: &dyn Objective, x: &[f64]) {
        let hessian = objective.hessian(x);
        let differences = hessian_by_differences(objective, x);
        let v: Vec<f64> = (0..x.len()).map(|i| (i as f64 * 0.7).sin()).collect();
        let product = objective.hessian_times(x, &v);
        let dense_product = DenseHessian(hessian.clone()).dot(&v);
        for i in 0..x.len() {
            for j in 0..x.len() {
                let scale = 1.0 + hessian[i][j].abs();
                assert!((hessian[i][j] - differences[i][j]).abs() < 1e-5 * scale);
                assert_eq!(hessian[i][j], hessian[j][i], "symmetric to the last bit");
            }
            let scale = 1.0 + dense_product[i].abs();
            assert!((product[i] - dense_product[i]).abs() < 1e-10 * scale);
        }
    }

    #[test]
    fn companions_agree_with_differences_of_the_gradient() {
        check(&Rosenbrock, &[-1.2, 1.0]);
        check(&Rosenbrock, &[0.3, -0.4, 0.9, 1.1, -0.2]);
        check(
            &logistic_regression(30, 6),
            &[0.1, -0.3, 0.2, 0.05, -0.4, 0.6],
        );
    }

    #[test]
    fn the_hand_written_inverse_inverts() {
        let h = DenseHessian(Rosenbrock.hessian(&[0.3, -0.4, 0.9, 1.1, -0.2]));
        let inverse = h.inv().unwrap();
        for j in 0..5 {
            let unit: Vec<f64> = (0..5).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
            let column = h.dot(&inverse.dot(&unit));
            for (i, value) in column.iter().enumerate() {
                assert!((value - unit[i]).abs() < 1e-12, "{column:?}");
            }
        }
    }

    #[test]
    fn every_solver_reaches_the_banana_minimum() {
        for run in compare(Rc::new(Rosenbrock), &[-1.2, 1.0], 0.0) {
            assert!(run.reached, "{}: f - f* = {:e}", run.solver, run.final_gap);
        }
    }
}
