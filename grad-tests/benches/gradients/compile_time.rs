//! Generated functions, expanded in-process and built as crates.
//!
//! The expansion is `grad_expand::differentiable` (grad-macro is a shim over it), called
//! here on `proc_macro2` token streams. The build times come from `cargo build` of a crate
//! in `target/compile-bench/crate` that depends on grad by path.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::report;

pub struct Case {
    pub name: String,
    pub description: String,
    pub source: String,
}

/// A deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A straight-line function of `statements` `let`s over four inputs; each uses the
/// previous value and one earlier value, so none is dead.
pub fn straight_line(statements: usize) -> Case {
    let name = format!("straight_{statements}");
    let mut rng = Rng(0x5eed_0000 + statements as u64);
    let mut s = format!("pub fn {name}(x0: f64, x1: f64, x2: f64, x3: f64) -> f64 {{\n");
    let value = |k: usize| {
        if k < 4 {
            format!("x{k}")
        } else {
            format!("v{}", k - 4)
        }
    };
    for k in 0..statements {
        let a = if k == 0 {
            value(0)
        } else {
            format!("v{}", k - 1)
        };
        let b = value(rng.below(k + 4));
        let c = 0.1 + 0.1 * rng.below(9) as f64;
        let expr = match rng.below(8) {
            0 => format!("{a} * {b} * {c:.1}"),
            1 => format!("{a} + {c:.1} * {b}"),
            2 => format!("({a} - {b}).sin()"),
            3 => format!("{a}.tanh() * {b}"),
            4 => format!("({a} * {c:.1}).exp() - {b}"),
            5 => format!("{a} / ({b} * {b} + 1.0)"),
            6 => format!("({a} * {a} + 1.0).sqrt() + {b}.cos()"),
            _ => format!("{a}.max({b}) * {c:.1}"),
        };
        writeln!(s, "    let v{k} = {expr};").unwrap();
    }
    writeln!(s, "    v{}\n}}", statements - 1).unwrap();
    Case {
        name,
        description: format!("straight line, {statements} statements"),
        source: s,
    }
}

/// A function of `statements` statements (counting every `let`, assignment, `if`, `for`
/// and `while`, nested ones included) with `for` loops over constant and run-time
/// bounds, `while` loops and `if`/`else if`/`else` chains.
pub fn control_flow(statements: usize) -> Case {
    let name = format!("control_flow_{statements}");
    let mut rng = Rng(0xc0de_0000 + statements as u64);
    let mut s = format!(
        "pub fn {name}(x0: f64, x1: f64, x2: f64, x3: f64, n: usize) -> f64 {{\n    \
         let mut s0 = x0;\n    let mut s1 = x1;\n    let mut s2 = x2;\n"
    );
    let mut count = 3;
    let mut lets = 0;
    let var = |rng: &mut Rng| format!("s{}", rng.below(3));
    let input = |rng: &mut Rng| format!("x{}", rng.below(4));
    while count < statements - 1 {
        let room = statements - 1 - count;
        let c = 0.1 + 0.1 * rng.below(8) as f64;
        let (a, b, d) = (var(&mut rng), var(&mut rng), var(&mut rng));
        let x = input(&mut rng);
        match rng.below(4) {
            // for, let, if/else with one statement each, and one more assignment: 6
            0 | 1 if room >= 6 => {
                let bound = if rng.below(2) == 0 {
                    "n".to_string()
                } else {
                    format!("{}", 3 + rng.below(6))
                };
                writeln!(
                    s,
                    "    for i in 0..{bound} {{\n        let t = ({a} * {x} + i as f64 * {c:.1}).sin();\n        \
                     if t > 0.0 {{\n            {b} = {b} * 0.9 + t * {c:.1};\n        }} else {{\n            \
                     {d} = {d} - {c:.1} * t;\n        }}\n        {a} = {a} * 0.95 + 0.05 * {b}.tanh();\n    }}"
                )
                .unwrap();
                count += 6;
            }
            // if / else if / else with one statement each: 4
            2 if room >= 4 => {
                writeln!(
                    s,
                    "    if {a} > {b} {{\n        {d} = ({d} * {x}).cos();\n    }} else if {b} > {c:.1} {{\n        \
                     {a} = {a} * {c:.1} + {x};\n    }} else {{\n        {b} = -{b} * 0.5;\n    }}"
                )
                .unwrap();
                count += 4;
            }
            // a counter, a while loop with two statements: 4
            3 if room >= 4 => {
                writeln!(
                    s,
                    "    let mut k{lets} = 0;\n    while k{lets} < {} {{\n        \
                     {a} = {a} * 0.9 + ({b} + k{lets} as f64).sin() * {c:.1};\n        k{lets} += 1;\n    }}",
                    2 + rng.below(4)
                )
                .unwrap();
                lets += 1;
                count += 4;
            }
            // a let and an assignment: 2
            _ if room >= 2 => {
                writeln!(
                    s,
                    "    let u{lets} = ({a} * {c:.1} + {x}).exp() / ({b} * {b} + 1.0);\n    {d} = {d} + 0.1 * u{lets};"
                )
                .unwrap();
                lets += 1;
                count += 2;
            }
            _ => {
                writeln!(s, "    {a} = {a} * {c:.1} + {b};").unwrap();
                count += 1;
            }
        }
    }
    s.push_str("    s0 + s1 * s2\n}\n");
    Case {
        name,
        description: format!(
            "{statements} statements with `for` (constant and run-time bounds), `while` and \
             `if`/`else` chains"
        ),
        source: s,
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        straight_line(100),
        straight_line(1000),
        straight_line(5000),
        control_flow(200),
    ]
}

/// The in-process expansion of one case.
#[derive(Default, Clone)]
pub struct Expansion {
    pub ok: bool,
    pub tokens_in: usize,
    pub tokens_out: usize,
    pub lines_in: usize,
    pub lines_out: usize,
    pub median_ms: f64,
    pub runs: usize,
}

/// The best of up to three `cargo` runs of the crate: wall-clock seconds, whether it
/// succeeded, and whether rustc needed a larger stack (`RUST_MIN_STACK`) to get there.
#[derive(Clone, Copy)]
pub struct Build {
    pub seconds: f64,
    pub ok: bool,
    pub big_stack: bool,
}

/// One way of building the crate.
pub struct Config {
    pub label: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// Its own target directory, where its settings rebuild the dependencies.
    target: &'static str,
}

pub const CONFIGS: [Config; 4] = [
    Config {
        label: "`cargo check`",
        args: &["check"],
        env: &[],
        target: "target",
    },
    Config {
        label: "`cargo check`, macro optimised",
        args: &["check"],
        env: &[("CARGO_PROFILE_DEV_BUILD_OVERRIDE_OPT_LEVEL", "3")],
        target: "target-optimised-macro",
    },
    Config {
        label: "`cargo build`",
        args: &["build"],
        env: &[],
        target: "target",
    },
    Config {
        label: "`cargo build --release`",
        args: &["build", "--release"],
        env: &[],
        target: "target",
    },
];

pub struct Measured {
    pub case: String,
    pub description: String,
    pub expansion: Expansion,
    /// Per configuration: the function alone, and with `#[grad::differentiable]`.
    pub builds: Vec<(Build, Build)>,
}

pub struct Results {
    /// The markdown section, or why there is none.
    pub markdown: String,
}

fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    // The bench's own build settings must not leak into the crates built here.
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        command.env_remove(var);
    }
    command.env("CARGO_INCREMENTAL", "0");
    command
}

/// Runs `command`; the wall-clock seconds, and its error output if it failed.
fn timed(mut command: Command) -> (f64, Result<(), String>) {
    let start = Instant::now();
    let output = command.output();
    let seconds = start.elapsed().as_secs_f64();
    let result = match output {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
        Err(error) => Err(format!("cannot run cargo: {error}")),
    };
    (seconds, result)
}

fn count(tokens: proc_macro2::TokenStream) -> usize {
    tokens
        .into_iter()
        .map(|tree| match tree {
            proc_macro2::TokenTree::Group(group) => 1 + count(group.stream()),
            _ => 1,
        })
        .sum()
}

fn lines(tokens: proc_macro2::TokenStream) -> usize {
    syn::parse2::<syn::File>(tokens).map_or(0, |file| prettyplease::unparse(&file).lines().count())
}

/// Expands a case in this process: the median of up to 25 runs (at least 3, about 3 s).
fn expand(source: &str) -> Expansion {
    use proc_macro2::TokenStream;
    let item: TokenStream = source.parse().expect("a generated case tokenizes");
    let out = grad_expand::differentiable(TokenStream::new(), item.clone());
    let ok = !out.to_string().contains("compile_error");
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 3 || (times.len() < 25 && start.elapsed() < Duration::from_secs(3)) {
        let input = item.clone();
        let t = Instant::now();
        let expanded = grad_expand::differentiable(TokenStream::new(), input);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        drop(black_box(expanded));
    }
    times.sort_by(f64::total_cmp);
    Expansion {
        ok,
        tokens_in: count(item.clone()),
        tokens_out: count(out.clone()),
        lines_in: lines(item),
        lines_out: lines(out),
        median_ms: times[times.len() / 2],
        runs: times.len(),
    }
}

/// Times `config` on the crate holding `source`: the best of three runs (fewer past 20
/// s), each after a change to the file so that cargo rebuilds it. A build that fails is
/// tried again with a 64 MiB stack for rustc, as rustc's own stack-overflow message
/// suggests.
fn build_crate(dir: &Path, config: &Config, source: &str) -> Build {
    let krate = dir.join("crate");
    let mut best = Build {
        seconds: f64::INFINITY,
        ok: false,
        big_stack: false,
    };
    let start = Instant::now();
    for run in 0..3 {
        if run > 0 && start.elapsed() > Duration::from_secs(20) {
            break;
        }
        let text = format!("{source}\n// run {run}\n");
        std::fs::write(krate.join("src/lib.rs"), text).expect("write the crate's lib.rs");
        let command = |big_stack: bool| {
            let mut command = cargo();
            command
                .current_dir(&krate)
                .args(config.args)
                .arg("--quiet")
                .env("CARGO_TARGET_DIR", dir.join(config.target))
                .envs(config.env.iter().copied());
            if big_stack {
                command.env("RUST_MIN_STACK", "67108864");
            }
            command
        };
        let big_stack = best.big_stack;
        let (mut seconds, mut result) = timed(command(big_stack));
        let mut needed_stack = big_stack;
        if result.is_err() && !big_stack {
            (seconds, result) = timed(command(true));
            needed_stack = true;
        }
        match result {
            Ok(()) if seconds < best.seconds || !best.ok => {
                best = Build {
                    seconds,
                    ok: true,
                    big_stack: needed_stack,
                };
            }
            Ok(()) => {}
            Err(stderr) => {
                let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
                eprintln!("compile bench: {} failed:", config.label);
                for line in tail.into_iter().rev() {
                    eprintln!("  {line}");
                }
                return Build {
                    seconds,
                    ok: false,
                    big_stack: true,
                };
            }
        }
    }
    best
}

pub fn run(target: &Path) -> Results {
    // grad's own manifest, at the workspace's root.
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let dir = target.join("compile-bench");
    let cases_dir = dir.join("cases");
    std::fs::create_dir_all(&cases_dir).expect("create target/compile-bench");
    let cases = cases();
    println!("compile bench: expanding in-process");
    let expansions: Vec<Expansion> = cases
        .iter()
        .map(|case| {
            let path = cases_dir.join(format!("{}.rs", case.name));
            std::fs::write(&path, &case.source).expect("write a case");
            expand(&case.source)
        })
        .collect();

    let krate = dir.join("crate");
    std::fs::create_dir_all(krate.join("src")).expect("create the crate");
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"grad-compile-bench\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [workspace]\n\n[dependencies]\ngrad = {{ path = {:?} }}\n",
            root.display().to_string()
        ),
    )
    .expect("write the crate's manifest");
    let _ = std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock"));
    // Dependencies first, untimed; then an empty crate, timed, as the fixed cost.
    let header = "#![allow(warnings)]\n";
    let mut empty = Vec::new();
    for config in &CONFIGS {
        println!(
            "compile bench: building the dependencies for {}",
            config.label
        );
        build_crate(&dir, config, &format!("{header}// warm-up\n"));
        empty.push(build_crate(&dir, config, &format!("{header}// empty\n")));
    }
    let mut measured = Vec::new();
    for (case, expansion) in cases.iter().zip(expansions) {
        println!("compile bench: building {}", case.name);
        let primal = format!("{header}{}", case.source);
        let attributed = format!("{header}#[grad::differentiable]\n{}", case.source);
        let builds = CONFIGS
            .iter()
            .map(|config| {
                (
                    build_crate(&dir, config, &primal),
                    build_crate(&dir, config, &attributed),
                )
            })
            .collect();
        measured.push(Measured {
            case: case.name.clone(),
            description: case.description.clone(),
            expansion,
            builds,
        });
    }
    let markdown = report::compile_section(&measured, &empty);
    let _ = std::fs::write(dir.join("section.md"), &markdown);
    Results { markdown }
}

/// The section the last full run saved, when this run skips the compile benchmark.
pub fn saved(target: &Path) -> Results {
    let path = target.join("compile-bench/section.md");
    let markdown = match std::fs::read_to_string(&path) {
        Ok(section) => format!(
            "{section}\n_This section is from an earlier run (`GRAD_BENCH_COMPILE=0` skipped \
             it this time)._\n"
        ),
        Err(_) => {
            "## Compile time\n\nNot measured in this run (`GRAD_BENCH_COMPILE=0`).\n".to_string()
        }
    };
    Results { markdown }
}
