//! The gradient benchmark suite: grad's generated gradients against the primal, a careful
//! hand-written gradient, central finite differences, forward mode with `num-dual`, and the
//! tape-based reverse mode of the `reverse` crate, on seven functions; then a compile-time
//! benchmark of the macro itself. It writes `BENCHMARKS.md` at the repository root.
//!
//! Run with `cargo bench -p grad-tests --bench gradients` (a few minutes). `GRAD_BENCH_COMPILE=0` skips the
//! compile-time section and keeps the one saved by the last run that did it. A name filter
//! (`cargo bench -p grad-tests --bench gradients -- rosenbrock`) runs only the matching benchmarks; the
//! report then marks the others as not run.
//!
//! Every peer's gradient is checked against the hand-written one before anything is timed
//! (grad, num-dual and the tape to 1e-9 relative, finite differences to 1e-5), so a wrong
//! gradient stops the run instead of being timed.
//!
//! This file is the entry: `main` and the list of benchmarks. The parts are in
//! `grad-tests/benches/gradients/`: `functions/` (one module per function: the primal, the hand-written
//! gradient, the num-dual and tape versions), `peers.rs` (the generic peers), `measure.rs`
//! (the suite, and the check-then-time step every function goes through), `suite.rs` (each
//! function's inputs and peers), `compile_time.rs` and `report.rs`.

// The models are written with index loops, the way the math is written.
#![allow(clippy::needless_range_loop)]

// Files directly in `grad-tests/benches/` would be bench targets of their own; these are in a
// subdirectory, which cargo does not scan, and named by path.
#[path = "gradients/compile_time.rs"]
mod compile_time;
#[path = "gradients/functions/mod.rs"]
mod functions;
#[path = "gradients/measure.rs"]
mod measure;
#[path = "gradients/peers.rs"]
mod peers;
#[path = "gradients/report.rs"]
mod report;
#[path = "gradients/suite.rs"]
mod suite;

use std::path::Path;
use std::time::SystemTime;

use criterion::Criterion;

use measure::{ROUNDS, Suite, target_directory};
use suite::{
    bench_dense, bench_gaussian, bench_lennard_jones, bench_neuron, bench_recurrence,
    bench_rosenbrock, bench_softmax, rosenbrock_vector,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    // As criterion decides: `cargo bench` passes `--bench`; `cargo test --benches` does not,
    // and then every benchmark runs once, as a test.
    let benchmarking = has("--bench") && !has("--test") && !has("--list");
    let target = target_directory();
    let started = SystemTime::now();

    let criterion = Criterion::default()
        .without_plots()
        .output_directory(&target.join("criterion"))
        .configure_from_args();
    let mut suite = Suite {
        criterion,
        functions: Vec::new(),
        round: 0,
        benchmarking,
    };
    // `cargo test --benches` runs each benchmark once, as a test: one round is enough.
    let rounds = if benchmarking { ROUNDS } else { 1 };
    for round in 0..rounds {
        suite.round = round;
        bench_neuron(&mut suite);
        bench_rosenbrock::<2>(&mut suite, Some(rosenbrock_vector::<2>));
        bench_rosenbrock::<100>(&mut suite, Some(rosenbrock_vector::<100>));
        bench_rosenbrock::<1000>(&mut suite, None);
        bench_dense(&mut suite);
        bench_softmax(&mut suite);
        bench_recurrence(&mut suite);
        bench_lennard_jones(&mut suite);
        bench_gaussian(&mut suite);
    }
    suite.criterion.final_summary();
    if !benchmarking {
        return;
    }

    suite.read_medians(&target, started);
    let compile = match std::env::var("GRAD_BENCH_COMPILE").as_deref() {
        Ok("0") => compile_time::saved(&target),
        _ => compile_time::run(&target),
    };
    let mut markdown = report::render(&suite.functions, &compile);
    // The idioms, organised, second-order and tape benchmarks run on their own; their
    // measured sections are kept beside them.
    for section in ["idioms.md", "organised.md", "second_order.md", "tape.md"] {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("benches")
            .join(section);
        if let Ok(section) = std::fs::read_to_string(file) {
            markdown.push('\n');
            markdown.push_str(&section);
        }
    }
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md"));
    std::fs::write(path, markdown).expect("write BENCHMARKS.md");
    println!("wrote {}", path.display());
}
