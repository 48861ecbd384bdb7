//! Measuring, and recording what was measured: the suite and its functions, the one
//! check-then-time step every function goes through (`Function::check_then_time`), and the
//! medians read back from criterion after the run.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};

use crate::peers::Flat;

/// The peers, in report order: criterion id and label.
pub const PEERS: &[(&str, &str)] = &[
    ("primal", "primal (value only)"),
    ("hand", "hand-written gradient (reference)"),
    ("grad", "grad `_grad`"),
    ("grad_lse", "grad `_grad`, through `grad::log_sum_exp`"),
    ("grad_by_value", "grad `_grad`, the arrays by value"),
    ("fd", "central finite differences (2N primal calls)"),
    ("dual", "num-dual `Dual64`, one pass per input"),
    ("dual_vec", "num-dual `DualSVec64<N>`, one vector pass"),
    ("tape", "`reverse` tape (`Var`)"),
];

pub fn peer_label(id: &str) -> &'static str {
    PEERS
        .iter()
        .find(|(peer, _)| *peer == id)
        .map_or("?", |(_, label)| label)
}

pub struct Row {
    pub id: &'static str,
    /// Criterion's ids of this peer's measurements, one per round it was measured in.
    pub rounds: Vec<String>,
    /// Fewer samples (criterion's flat sampling, 10 samples) because one call is slow.
    pub reduced: bool,
    /// Largest error against the hand-written gradient, relative to its largest entry.
    pub error: Option<f64>,
    /// Median time per call, filled in from criterion's estimates after the run (for peers
    /// measured in several rounds, the least of the rounds' medians).
    pub ns: Option<f64>,
    /// For the primal, the hand-written gradient and grad's: the time per call of the
    /// fastest batch when the three take turns (see `Function::take_turns`).
    pub in_turns_ns: Option<f64>,
}

/// How many times the peers that the headline ratios compare (the primal, the hand-written
/// gradient and grad's) are measured, each time in a pass over the whole suite. The machine
/// is shared, and load from elsewhere only ever adds time, for seconds at a stretch: the
/// least of the rounds' medians is the measurement least disturbed by it.
pub const ROUNDS: usize = 5;

/// The peers that also take turns in the cross-check of the headline ratios.
const IN_TURNS: &[&str] = &["primal", "hand", "grad"];

/// How long the peers of one function take turns, in all.
const IN_TURNS_BUDGET: Duration = Duration::from_millis(600);

/// The peers measured in every round; the others are 5× to 3,000× apart and measured once.
fn measured_every_round(id: &str) -> bool {
    matches!(
        id,
        "primal" | "hand" | "grad" | "grad_lse" | "grad_by_value"
    )
}

/// How far a peer's gradient may be from the hand-written one, relative to the latter's
/// largest entry, before the run stops: 1e-5 for finite differences, 1e-9 for the others.
/// `None` for the peers that are not checked: the primal (a value, not a gradient) and the
/// hand-written gradient (the reference).
fn tolerance(id: &str) -> Option<f64> {
    match id {
        "primal" | "hand" => None,
        "fd" => Some(1e-5),
        _ => Some(1e-9),
    }
}

pub struct FunctionReport {
    pub group: String,
    pub title: String,
    pub inputs: usize,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

pub struct Suite {
    pub criterion: Criterion,
    pub functions: Vec<FunctionReport>,
    /// The pass over the suite being run (see `ROUNDS`).
    pub round: usize,
    /// Timing, rather than running each benchmark once as a test.
    pub benchmarking: bool,
}

pub struct Function<'a> {
    group: BenchmarkGroup<'a, WallTime>,
    report: FunctionReport,
    functions: &'a mut Vec<FunctionReport>,
    round: usize,
    benchmarking: bool,
    /// The peers of `IN_TURNS`, kept from `measure` for `take_turns`.
    turns: Vec<(&'static str, Calls<'a>)>,
}

/// A batch of calls of a peer, their results discarded through `black_box`. The loop is
/// inside, so that the calls are direct (an indirect call per call would cost the 2 ns
/// functions half their time).
type Calls<'a> = Box<dyn FnMut(u32) + 'a>;

impl Suite {
    pub fn function(&mut self, group: &str, title: &str, inputs: usize) -> Function<'_> {
        let mut benchmark_group = self.criterion.benchmark_group(group);
        benchmark_group.nresamples(20_000);
        Function {
            group: benchmark_group,
            report: FunctionReport {
                group: group.to_string(),
                title: title.to_string(),
                inputs,
                rows: Vec::new(),
                notes: Vec::new(),
            },
            functions: &mut self.functions,
            round: self.round,
            benchmarking: self.benchmarking,
            turns: Vec::new(),
        }
    }

    /// Fills in each row's `ns` from criterion's `estimates.json` files under `target`,
    /// those this run wrote (since `started`): the least of its rounds' medians.
    pub fn read_medians(&mut self, target: &Path, started: SystemTime) {
        for function in &mut self.functions {
            for row in &mut function.rows {
                let medians: Vec<f64> = row
                    .rounds
                    .iter()
                    .filter_map(|id| {
                        let path = target
                            .join("criterion")
                            .join(&function.group)
                            .join(id)
                            .join("new/estimates.json");
                        read_median(&path, started)
                    })
                    .collect();
                row.ns = medians.into_iter().reduce(f64::min);
            }
        }
    }
}

/// A function's inputs and its peers, in the order they are timed: each peer a closure from
/// the inputs to its result (a value for the primal, a gradient of any shape for the others).
/// A peer is boxed, but timed through its own monomorphic closure, so the calls criterion
/// times are direct.
pub struct Peers<'a, I> {
    input: &'a I,
    list: Vec<Box<dyn Peer<'a, I> + 'a>>,
}

impl<'a, I: 'a> Peers<'a, I> {
    pub fn new(input: &'a I) -> Self {
        Peers {
            input,
            list: Vec::new(),
        }
    }

    /// Adds the peer `id` (one of `PEERS`).
    pub fn peer<O: Flat, F: Fn(&I) -> O + 'a>(mut self, id: &'static str, f: F) -> Self {
        self.list.push(Box::new(Closure { id, f }));
        self
    }
}

trait Peer<'a, I> {
    fn id(&self) -> &'static str;
    /// Its result on `input`, flattened in parameter order.
    fn flat(&self, input: &I) -> Vec<f64>;
    /// Times it on `input`, passed through `black_box`.
    fn time(self: Box<Self>, function: &mut Function<'a>, input: &'a I);
}

struct Closure<F> {
    id: &'static str,
    f: F,
}

impl<'a, I: 'a, O: Flat, F: Fn(&I) -> O + 'a> Peer<'a, I> for Closure<F> {
    fn id(&self) -> &'static str {
        self.id
    }

    fn flat(&self, input: &I) -> Vec<f64> {
        (self.f)(input).flat()
    }

    fn time(self: Box<Self>, function: &mut Function<'a>, input: &'a I) {
        let f = self.f;
        function.measure(self.id, move || f(black_box(input)));
    }
}

impl<'a> Function<'a> {
    /// The one step of every function: checks each peer's gradient against the hand-written
    /// one (the peer `hand`) to its `tolerance`, and panics at the first that disagrees, so
    /// that nothing of a function is timed unless all its gradients are right; then times the
    /// peers in the order given, and records the function.
    pub fn check_then_time<I>(mut self, peers: Peers<'a, I>) {
        let input = peers.input;
        let want = peers
            .list
            .iter()
            .find(|peer| peer.id() == "hand")
            .expect("every function has a hand-written gradient")
            .flat(input);
        for peer in &peers.list {
            if let Some(tolerance) = tolerance(peer.id()) {
                self.check(peer.id(), &peer.flat(input), &want, tolerance);
            }
        }
        for peer in peers.list {
            peer.time(&mut self, input);
        }
        self.finish();
    }

    /// Checks a peer's gradient against the hand-written one, and panics if they disagree.
    fn check(&mut self, id: &'static str, got: &[f64], want: &[f64], tolerance: f64) {
        assert_eq!(
            got.len(),
            want.len(),
            "{}: {id} has the wrong length",
            self.report.group
        );
        let scale = want.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let error = got
            .iter()
            .zip(want)
            .fold(0.0_f64, |m, (g, w)| m.max((g - w).abs()))
            / scale.max(f64::MIN_POSITIVE);
        assert!(
            error <= tolerance,
            "{}: {id}'s gradient differs from the hand-written one by {error:e} (relative), \
             more than {tolerance:e}",
            self.report.group
        );
        self.row(id).error = Some(error);
    }

    fn row(&mut self, id: &'static str) -> &mut Row {
        let rows = &mut self.report.rows;
        let at = match rows.iter().position(|r| r.id == id) {
            Some(at) => at,
            None => {
                rows.push(Row {
                    id,
                    rounds: Vec::new(),
                    reduced: false,
                    error: None,
                    ns: None,
                    in_turns_ns: None,
                });
                rows.len() - 1
            }
        };
        &mut rows[at]
    }

    /// Times `f` with criterion, and keeps it for `take_turns` if `id` is one of `IN_TURNS`.
    fn measure<O>(&mut self, id: &'static str, f: impl FnMut() -> O + 'a) {
        if let Some(mut f) = self.measure_with(id, f)
            && IN_TURNS.contains(&id)
            && self.round == 0
            && self.benchmarking
        {
            self.turns.push((
                id,
                Box::new(move |calls| {
                    for _ in 0..calls {
                        black_box(f());
                    }
                }),
            ));
        }
    }

    /// Times `f` with criterion, and hands it back if it ran. A call slower than 200 µs gets
    /// 10 samples of flat sampling and a short measurement instead of 50 samples.
    fn measure_with<O, F: FnMut() -> O>(&mut self, id: &'static str, mut f: F) -> Option<F> {
        if self.round > 0 && !measured_every_round(id) {
            return None;
        }
        black_box(f());
        let start = Instant::now();
        black_box(f());
        let once = start.elapsed();
        let reduced = once > Duration::from_micros(200);
        if reduced {
            self.group
                .sample_size(10)
                .sampling_mode(SamplingMode::Flat)
                .warm_up_time(Duration::from_millis(100))
                .measurement_time((once * 12).max(Duration::from_millis(500)));
        } else {
            self.group
                .sample_size(50)
                .sampling_mode(SamplingMode::Auto)
                .warm_up_time(Duration::from_millis(400))
                .measurement_time(Duration::from_millis(1200));
        }
        let round_id = match self.round {
            0 => id.to_string(),
            round => format!("{id}~{round}"),
        };
        self.group.bench_function(&round_id, |b| b.iter(&mut f));
        let row = self.row(id);
        row.reduced = reduced;
        row.rounds.push(round_id);
        Some(f)
    }

    /// The cross-check of the headline ratios: the primal, the hand-written gradient and
    /// grad's take turns, a batch of about 20 µs of calls each, over and over for
    /// `IN_TURNS_BUDGET`, and each keeps its fastest batch. Criterion measures one peer for
    /// seconds, then the next, so load from elsewhere that comes and goes falls on one peer
    /// and not the other; in turns, all three see the same machine, and the fastest batch is
    /// the one least disturbed.
    fn take_turns(&mut self) {
        if self.turns.is_empty() {
            return;
        }
        let batch = Duration::from_micros(20);
        let sizes: Vec<u32> = self
            .turns
            .iter_mut()
            .map(|(_, calls)| {
                let mut size = 1u32;
                loop {
                    let start = Instant::now();
                    calls(size);
                    if start.elapsed() >= batch || size >= 1 << 20 {
                        break size;
                    }
                    size *= 2;
                }
            })
            .collect();
        let mut fastest = vec![f64::INFINITY; self.turns.len()];
        let start = Instant::now();
        while start.elapsed() < IN_TURNS_BUDGET {
            for ((_, calls), (size, fastest)) in self
                .turns
                .iter_mut()
                .zip(sizes.iter().zip(fastest.iter_mut()))
            {
                let batch_start = Instant::now();
                calls(*size);
                let per_call = batch_start.elapsed().as_secs_f64() * 1e9 / f64::from(*size);
                *fastest = fastest.min(per_call);
            }
        }
        let ids: Vec<&'static str> = self.turns.iter().map(|(id, _)| *id).collect();
        for (id, ns) in ids.into_iter().zip(fastest) {
            self.row(id).in_turns_ns = Some(ns);
        }
        self.turns.clear();
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.report.notes.push(note.into());
    }

    fn finish(mut self) {
        self.take_turns();
        let order = |id: &str| PEERS.iter().position(|(p, _)| *p == id);
        self.report.rows.sort_by_key(|r| order(r.id));
        self.group.finish();
        // A later round adds its measurements to the rows of the first.
        match self
            .functions
            .iter_mut()
            .find(|f| f.group == self.report.group)
        {
            Some(first) => {
                for row in self.report.rows {
                    if let Some(earlier) = first.rows.iter_mut().find(|r| r.id == row.id) {
                        earlier.rounds.extend(row.rounds);
                    }
                }
            }
            None => self.functions.push(self.report),
        }
    }
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, or three levels above this executable
/// (`target/release/deps/gradients-…`).
pub fn target_directory() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)
        };
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| {
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")).to_path_buf()
        })
}

/// The median time per iteration, in ns, from criterion's `estimates.json`, if this run wrote
/// it.
fn read_median(path: &Path, since: SystemTime) -> Option<f64> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let json = std::fs::read_to_string(path).ok()?;
    let median = &json[json.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}
