//! Random programs in batches, generated at test time: many more than the committed
//! `tests/generated/random_programs.rs`, checked the same way.
//!
//! The test generates `GRAD_FUZZ_CASES` programs (default 500) with the generator of
//! `tests/generate/programs.rs`, in batches of `GRAD_FUZZ_BATCH` (default 125): batch `b` is
//! `random_program_trees(seed ^ b * 0x9E3779B97F4A7C15, size)`, so its programs call earlier
//! programs of the same batch. Each batch is written as a standalone crate under
//! `<target>/tmp/grad-program-batches/batch_b/` (its own `[workspace]`, a path dependency on
//! this repository's `grad`, `num-dual` at the version of `Cargo.lock`, a copy of that lock,
//! built `--offline` into the shared target directory `<target>/tmp/grad-program-batches/target`
//! so that dependencies are compiled once), built and run. Its `main` checks every program at
//! `GRAD_FUZZ_POINTS` (default 8) deterministic random points, `x ∈ [-2, 2]^7` and
//! `n ∈ 0..=N_MAX`, with the checks of `tests/random_programs.rs` (`tests/common/program_check.rs`:
//! finite values, fourth-order central differences with the same clearance to kinks and
//! comparison flips and the same Richardson error estimate, `num_dual::Dual64`, the value of
//! `_value_and_grad`, `_vjp`; `_jvp` along a random tangent where grad's expansion defines it,
//! against the value, `grad · t` and the mirror seeded with the tangent; `_hvp` along a random
//! direction, of the programs that ask for `hessian` and get it, against central differences of
//! `_grad`), and prints one tab-separated `GRAD-FUZZ FAIL` line per failure. The progress lines
//! count the programs whose `_hvp` was compared at a point or more, and those of them with
//! second order through a call (their tangent sweep calls another program's `prog_J_tangent`);
//! the default campaign fails if it compared none of either.
//! A program whose expansion does not compile is a failure too (the build's errors are
//! mapped to programs by line; the rest of the batch is rebuilt without it and its callers).
//!
//! A failing program of each kind (up to `GRAD_FUZZ_SHRINK` kinds, default 3; the kind is the
//! check, or the error code of a compile failure) is then shrunk on its tree:
//! statements deleted, branches and loops replaced by one of their bodies, conditions by one
//! side, expressions by a subexpression or a literal (which drops a call), also in its
//! callees. Candidates are compiled and checked many to a crate; one that still fails the same
//! check at the same point (or, for a compile failure, whose expansion fails with the same
//! error while the same function without `#[differentiable]` compiles) replaces the program.
//! It stops when no candidate fails, or after `GRAD_FUZZ_SHRINK_SECONDS` (default 600) or
//! `GRAD_FUZZ_SHRINK_CANDIDATES` (default 5000) per program, and prints the program, its
//! callees, the point, and the gradient next to the finite differences and the dual numbers.
//!
//! Runs:
//!
//! ```sh
//! cargo test -p grad-tests --test program_batches -- --nocapture      # CI: 500 programs, fixed seed
//! GRAD_FUZZ_CASES=100000 GRAD_FUZZ_SEED=0x1234 cargo test -p grad-tests --test program_batches -- --nocapture
//! GRAD_FUZZ_PLANT_BUG=1 GRAD_FUZZ_CASES=20 GRAD_FUZZ_SHRINK=1 cargo test -p grad-tests --test program_batches -- --nocapture
//! ```
//!
//! The second is a long run, batch after batch with progress lines; the third plants a bug
//! (the derivative of `sin` 0.1% too large, through a helper with a hand-written `_vjp` that
//! the programs call instead of `sin`) to show the shrinker at work. `GRAD_FUZZ_OPT` sets the
//! opt-level of the generated crates (default 0: they compile faster than they run).
//! `GRAD_FUZZ_DENY_WARNINGS=1` makes warnings in the generated programs errors (of the
//! generator where the plain copy warns too, else of grad's expansion).
//!
//! The generator's switches (`Features` in `tests/generate/programs.rs`, percentages, 0 for
//! off) default to `Features::DEFAULT` and are overridden by `GRAD_FUZZ_CONST_PATTERNS` (of the
//! `match` patterns 0..=3 written as `const` items' names, default 30), `GRAD_FUZZ_SLICES` (of
//! the programs taking `v: &[f64]`, default 15), `GRAD_FUZZ_TUPLES` (of the programs taking
//! `p: (f64, f64)`, default 10), `GRAD_FUZZ_CONST_GENERIC` (of the programs
//! `prog_K<const N: usize>`, default 10), and, each of the programs that use the construct
//! (default 15): `GRAD_FUZZ_ARRAY_PATTERNS` (`let [b0, _, b2, b3] = v;`),
//! `GRAD_FUZZ_ARRAY_ASSIGNMENT` (`a = [a[1] * c + e, a[0], ..];`, `a = b;`),
//! `GRAD_FUZZ_LABELED_BLOCKS` (`let y = 'b0: { .. break 'b0 e; .. }`),
//! `GRAD_FUZZ_OPTION_PATTERNS` (`if let`, `let .. else`, `match` on `n.checked_sub(2)`) and
//! `GRAD_FUZZ_NUM_TRAITS` (programs generic over `T: num_traits::Float + FromPrimitive`,
//! checked in `f64` and, loosely, in `f32`); and, default 12, `GRAD_FUZZ_CLOSURES` (`let f3 =
//! |t: f64| e;` called, mapped over and passed as `.map(f3)`), `GRAD_FUZZ_SUB_SLICES`
//! (`a[1..].iter()`, `.skip(k)`, `.windows(2)`, `.chunks(2)`, `fold(f64::NEG_INFINITY,
//! f64::max)`, `max_by(..).unwrap()`, `(0..n).map(|i| ..)`), `GRAD_FUZZ_PASSTHROUGH`
//! (`table(i + n)` of a plain function, `assert!`, `debug_assert!(s0.is_finite())`) and
//! `GRAD_FUZZ_METHODS` (programs written as methods `prog_K(&self, ..)`, `prog_K(self, ..)`
//! or associated functions of a constant `struct Params`, in `#[differentiable] impl Params`
//! blocks or with the attribute on each method, reading `self.k`, `self.scale` and `self.n`,
//! calling `self.prog_J(..)`, `Self::prog_J(..)` and free programs, called by free programs
//! as `Params::prog_J(..)` and `Params::prog_J(prm, ..)`, and by the table as
//! `PARAMS.prog_K(..)`),
//! and, default 10, `GRAD_FUZZ_REF_PARAMS` (`x2: &f64`), `GRAD_FUZZ_ENUM_MODES` (`mode:
//! Mode` matched with its payload, called with `mode_of(n)`), `GRAD_FUZZ_STRUCTS` (programs
//! taking a `#[derive(grad::Differentiable)] struct Weights { a, w: [f64; 4], inner: Inner { b
//! }, n }` by value or reference, named in `#[differentiable(wrt(p, x0))]`, or methods of it
//! with `wrt(self, x0)`, reading `p.a`, `p.w[i]`, `p.inner.b` and `p.n`; the table builds the
//! struct from `x1`, `x2` and `v`, so that each float field's partial is checked as theirs)
//! and `GRAD_FUZZ_MODULES` (programs in `#[differentiable] pub mod mK { use super::*; .. }`
//! blocks, calling each other by name and called as `mK::prog_J(..)`, some calling the
//! module's `mix(|t: f64| e, a, b)` that takes a closure), and, default 15,
//! `GRAD_FUZZ_HESSIAN` (programs, free, methods or in modules, ask for `hessian` and call only
//! programs that asked for it; written where each callee got it and grad's expansion gives
//! `prog_K_hvp`, whose `_hvp` is then checked), for instance
//! `GRAD_FUZZ_CASES=100 GRAD_FUZZ_SLICES=100 cargo test -p grad-tests --test program_batches -- --nocapture`.
//!
//! Measured on 2 cores: the default run takes about 95 s on a clean target directory (the
//! generated crates' dependencies included, not the test's own build), about 65 s when only
//! `grad` changed, and 5 s when nothing did; a batch of 125 programs builds in about 16 s and
//! runs in 1 s (at opt-level 1 the builds take three times as long). The generated crates
//! build against this working tree's `grad`.

#[allow(dead_code)]
mod generate;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use generate::{
    Features, ProgramTree, random_program_trees, render_plain_functions, render_programs,
    second_order_programs,
};

/// The default seed, not the committed programs' `RANDOM_PROGRAMS_SEED`.
const DEFAULT_SEED: u64 = 0x6772_6164_0b00;

struct Config {
    seed: u64,
    cases: usize,
    batch: usize,
    points: usize,
    shrink: usize,
    shrink_time: Duration,
    shrink_candidates: usize,
    plant: bool,
    /// Warnings in the programs are errors (`GRAD_FUZZ_DENY_WARNINGS=1`): the generator's read
    /// tracking, and warnings in grad's expansions.
    deny_warnings: bool,
    /// The generator's switches: [`Features::DEFAULT`] with the overrides of the environment.
    features: Features,
    opt: String,
    /// `<target>/tmp/grad-program-batches`.
    root: PathBuf,
    cargo: String,
    num_dual: String,
    num_traits: String,
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => {
            let text = text.trim().replace('_', "");
            let parsed = match text.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => text.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={text} is not a number"))
        }
        Err(_) => default,
    }
}

impl Config {
    fn from_env() -> Config {
        let lock = fs::read_to_string(workspace().join("Cargo.lock")).expect("read Cargo.lock");
        let locked = |name: &str| {
            lock.split("[[package]]")
                .find(|p| p.contains(&format!("name = \"{name}\"")))
                .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
                .map(|v| v.trim_matches('"').to_string())
                .unwrap_or_else(|| panic!("{name} in Cargo.lock"))
        };
        let (num_dual, num_traits) = (locked("num-dual"), locked("num-traits"));
        let cargo = std::env::var("CARGO")
            .ok()
            .or_else(|| option_env!("CARGO").map(str::to_string))
            .unwrap_or_else(|| "cargo".to_string());
        Config {
            seed: env_number("GRAD_FUZZ_SEED", DEFAULT_SEED),
            cases: env_number("GRAD_FUZZ_CASES", 500) as usize,
            batch: env_number("GRAD_FUZZ_BATCH", 125).max(1) as usize,
            points: env_number("GRAD_FUZZ_POINTS", 8) as usize,
            shrink: env_number("GRAD_FUZZ_SHRINK", 3) as usize,
            shrink_time: Duration::from_secs(env_number("GRAD_FUZZ_SHRINK_SECONDS", 600)),
            shrink_candidates: env_number("GRAD_FUZZ_SHRINK_CANDIDATES", 5000) as usize,
            plant: env_number("GRAD_FUZZ_PLANT_BUG", 0) != 0,
            deny_warnings: env_number("GRAD_FUZZ_DENY_WARNINGS", 0) != 0,
            features: Features {
                const_patterns: env_number(
                    "GRAD_FUZZ_CONST_PATTERNS",
                    Features::DEFAULT.const_patterns,
                ),
                slices: env_number("GRAD_FUZZ_SLICES", Features::DEFAULT.slices),
                tuples: env_number("GRAD_FUZZ_TUPLES", Features::DEFAULT.tuples),
                const_generic: env_number(
                    "GRAD_FUZZ_CONST_GENERIC",
                    Features::DEFAULT.const_generic,
                ),
                array_patterns: env_number(
                    "GRAD_FUZZ_ARRAY_PATTERNS",
                    Features::DEFAULT.array_patterns,
                ),
                array_assignment: env_number(
                    "GRAD_FUZZ_ARRAY_ASSIGNMENT",
                    Features::DEFAULT.array_assignment,
                ),
                labeled_blocks: env_number(
                    "GRAD_FUZZ_LABELED_BLOCKS",
                    Features::DEFAULT.labeled_blocks,
                ),
                option_patterns: env_number(
                    "GRAD_FUZZ_OPTION_PATTERNS",
                    Features::DEFAULT.option_patterns,
                ),
                num_traits: env_number("GRAD_FUZZ_NUM_TRAITS", Features::DEFAULT.num_traits),
                closures: env_number("GRAD_FUZZ_CLOSURES", Features::DEFAULT.closures),
                sub_slices: env_number("GRAD_FUZZ_SUB_SLICES", Features::DEFAULT.sub_slices),
                passthrough: env_number("GRAD_FUZZ_PASSTHROUGH", Features::DEFAULT.passthrough),
                ref_params: env_number("GRAD_FUZZ_REF_PARAMS", Features::DEFAULT.ref_params),
                enum_modes: env_number("GRAD_FUZZ_ENUM_MODES", Features::DEFAULT.enum_modes),
                methods: env_number("GRAD_FUZZ_METHODS", Features::DEFAULT.methods),
                structs: env_number("GRAD_FUZZ_STRUCTS", Features::DEFAULT.structs),
                modules: env_number("GRAD_FUZZ_MODULES", Features::DEFAULT.modules),
                hessian: env_number("GRAD_FUZZ_HESSIAN", Features::DEFAULT.hessian),
            },
            opt: std::env::var("GRAD_FUZZ_OPT").unwrap_or_else(|_| "0".to_string()),
            root: Path::new(env!("CARGO_TARGET_TMPDIR")).join("grad-program-batches"),
            cargo,
            num_dual,
            num_traits,
        }
    }

    fn batch_seed(&self, b: usize) -> u64 {
        self.seed ^ (b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

// ---------------------------------------------------------------------------------------------
// Crates.

/// A failure's point: the bits of `Case` (see `tests/common/program_check.rs`).
#[derive(Clone, Debug, PartialEq)]
struct CaseBits {
    x: [u64; 7],
    n: usize,
    power: u64,
    upstream: u64,
}

impl CaseBits {
    fn source(&self) -> String {
        let x: Vec<String> = self.x.iter().map(|b| format!("{b:#018x}")).collect();
        format!(
            "program_check::Case::from_bits([{}], {}, {:#018x}, {:#018x})",
            x.join(", "),
            self.n,
            self.power,
            self.upstream
        )
    }

    fn describe(&self) -> String {
        let x: Vec<f64> = self.x.iter().map(|&b| f64::from_bits(b)).collect();
        format!(
            "x0 = {:?}, x1 = {:?}, x2 = {:?}, v = {:?}, n = {} (vjp upstreams {:?}, {:?})",
            x[0],
            x[1],
            x[2],
            &x[3..],
            self.n,
            f64::from_bits(self.power),
            f64::from_bits(self.upstream)
        )
    }
}

/// A line `GRAD-FUZZ FAIL label check n x power upstream message`.
struct FailLine {
    label: String,
    check: String,
    case: CaseBits,
    message: String,
}

fn parse_fail(line: &str) -> Option<FailLine> {
    let f: Vec<&str> = line.splitn(9, '\t').collect();
    if f.len() != 9 || f[0] != "GRAD-FUZZ" || f[1] != "FAIL" {
        return None;
    }
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    let x: Vec<u64> = f[5].split(',').filter_map(hex).collect();
    Some(FailLine {
        label: f[2].to_string(),
        check: f[3].to_string(),
        case: CaseBits {
            x: x.try_into().ok()?,
            n: f[4].parse().ok()?,
            power: hex(f[6])?,
            upstream: hex(f[7])?,
        },
        message: f[8].to_string(),
    })
}

/// Which part of a rendered set of programs a line is in.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Part {
    /// The `#[differentiable]` functions.
    Functions,
    /// The `Dual64` mirrors.
    Dual,
    /// The same functions without `#[differentiable]`: an error there is the generator's.
    Plain,
    /// The mirrors' `PROGRAMS` table, which names each function's companions: an error there
    /// follows from a function that did not expand (a macro that panicked emits nothing).
    Table,
}

/// Rendered programs: the text, and where each part and each program starts (1-based lines).
struct Piece {
    text: String,
    /// `(first line, part, program)`, in order.
    marks: Vec<(usize, Part, Option<String>)>,
    lines: usize,
}

impl Piece {
    fn locate(&self, line: usize) -> Option<(Part, Option<String>)> {
        if line == 0 || line > self.lines {
            return None;
        }
        self.marks
            .iter()
            .rev()
            .find(|(first, ..)| *first <= line)
            .map(|(_, part, name)| (*part, name.clone()))
    }
}

const PLANTED: &str = "
    /// A planted bug: `sin` whose hand-written derivative is 0.1% too large.
    pub fn planted_sin(x: f64) -> f64 {
        x.sin()
    }

    pub fn planted_sin_vjp(x: f64, upstream: f64) -> f64 {
        upstream * x.cos() * 1.001
    }
";

/// The functions, their mirrors and their plain copies, in modules `random_programs`,
/// `random_programs_dual` and `random_programs_plain`.
fn render_piece(cfg: &Config, trees: &[ProgramTree]) -> Piece {
    let mut trees = trees.to_vec();
    if cfg.plant {
        for t in &mut trees {
            t.sin_as_path();
        }
    }
    let generated = render_programs("tests/program_batches.rs", &trees, true);
    let mut functions = generated.functions;
    // The plain copy spells every literal of a program generic over its float type as a `T`.
    let mut plain = render_plain_functions("tests/program_batches.rs", &trees, true);
    if cfg.plant {
        for text in [&mut functions, &mut plain] {
            *text = text.replace("f64::sin(", "planted_sin(");
            let end = text.rfind("}\n").expect("the module's end");
            text.insert_str(end, PLANTED);
        }
    }
    let mut text = String::new();
    if cfg.deny_warnings {
        text.push_str("#![deny(warnings)]\n");
    }
    let mut marks = Vec::new();
    for (part, source) in [
        (Part::Functions, &functions),
        (Part::Dual, &generated.dual),
        (Part::Plain, &plain),
    ] {
        let first = text.lines().count() + 1;
        marks.push((first, part, None));
        let lines: Vec<&str> = source.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("pub const PROGRAMS") {
                marks.push((first + i, Part::Table, None));
                continue;
            }
            let Some(rest) = line.trim_start().strip_prefix("pub fn ") else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let name = name.strip_suffix("_dual").unwrap_or(&name).to_string();
            if !trees.iter().any(|t| t.name == name) {
                continue;
            }
            // From the attribute above, if any (`#[differentiable(wrt(p, x0))]` too); a method
            // that opens an impl block, or a program that opens a module, from the block's
            // first line (errors of the whole block are its).
            let mut at = i;
            while at > 0 && {
                let above = lines[at - 1].trim();
                above.starts_with("#[differentiable")
                    || ["impl Params {", "impl Weights {", "use super::*;"].contains(&above)
                    || above == "#[allow(unused_imports)]"
                    || (above.starts_with("pub mod m") && above.ends_with('{'))
            } {
                at -= 1;
            }
            marks.push((first + at, part, Some(name)));
        }
        text.push_str(source);
    }
    let lines = text.lines().count();
    Piece { text, marks, lines }
}

/// One compile error: its line in `src/programs.rs` and its code (or message).
#[derive(Clone, Debug)]
struct Diag {
    line: Option<usize>,
    code: String,
    text: String,
}

enum Built {
    Binary(PathBuf),
    Errors(Vec<Diag>, String),
}

/// The workspace's root, where grad's own manifest and `Cargo.lock` are.
fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn write_crate(cfg: &Config, dir: &Path, name: &str, programs: &str, main: &str) {
    fs::create_dir_all(dir.join("src")).expect("create a crate directory");
    let manifest = workspace();
    let toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         # Not a member of grad's workspace.\n[workspace]\n\n\
         [dependencies]\ngrad = {{ path = '{}' }}\nnum-dual = \"={}\"\nnum-traits = \"={}\"\n\n\
         [profile.dev]\nopt-level = {}\ndebug = false\nincremental = false\n",
        manifest.display(),
        cfg.num_dual,
        cfg.num_traits,
        cfg.opt
    );
    if fs::read_to_string(dir.join("Cargo.toml")).ok() != Some(toml.clone()) {
        fs::write(dir.join("Cargo.toml"), &toml).expect("write Cargo.toml");
    }
    if !dir.join("Cargo.lock").exists() {
        fs::copy(manifest.join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy Cargo.lock");
    }
    // Unchanged files keep their times, so that a crate built before is not built again.
    for (file, text) in [("src/programs.rs", programs), ("src/main.rs", main)] {
        let path = dir.join(file);
        if fs::read_to_string(&path).ok().as_deref() != Some(text) {
            fs::write(&path, text).expect("write a source file");
        }
    }
}

fn build(cfg: &Config, dir: &Path, name: &str) -> Built {
    let target = cfg.root.join("target");
    let output = Command::new(&cfg.cargo)
        .args([
            "build",
            "--offline",
            "--message-format=short",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .output()
        .expect("run cargo build");
    if output.status.success() {
        return Built::Binary(target.join("debug").join(name));
    }
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let mut diags = Vec::new();
    for line in stderr.lines() {
        // `src/programs.rs:12:5: error[E0425]: cannot find value ...`
        let (place, rest) = match line.find(": error") {
            Some(at) => (&line[..at], line[at + 2..].trim()),
            None if line.starts_with("error") => ("", line),
            None => continue,
        };
        if rest.starts_with("error: aborting") || rest.starts_with("error: could not compile") {
            continue;
        }
        let line_number = place
            .strip_prefix("src/programs.rs:")
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.parse().ok());
        let code = match rest.strip_prefix("error[") {
            Some(r) => r.split(']').next().unwrap_or("").to_string(),
            None => rest.chars().take(60).collect(),
        };
        diags.push(Diag {
            line: line_number,
            code,
            text: line.to_string(),
        });
    }
    Built::Errors(diags, stderr)
}

/// Runs `binary`, its output in `dir/out.txt`, killed after `limit`: its output, or what went
/// wrong and its output so far.
fn run(binary: &Path, dir: &Path, limit: Duration) -> Result<String, (String, String)> {
    let path = dir.join("out.txt");
    let file = fs::File::create(&path).expect("create out.txt");
    let mut child = Command::new(binary)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| (format!("run {}: {e}", binary.display()), String::new()))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let out = fs::read_to_string(&path).unwrap_or_default();
            return if status.success() {
                Ok(out)
            } else {
                Err((format!("exited with {status}"), out))
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let out = fs::read_to_string(&path).unwrap_or_default();
            return Err((format!("ran longer than {limit:?}"), out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn check_path() -> String {
    format!(
        "{:?}",
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/program_check.rs")
    )
}

const SUBJECT_MACRO: &str = "macro_rules! subject {
    ($name:expr, $p:expr) => {{
        let p = &$p;
        program_check::Subject {
            name: $name,
            primal: p.primal,
            grad: p.grad,
            value_and_grad: p.value_and_grad,
            vjp: p.vjp,
            dual: p.dual,
            value_and_grad32: p.value_and_grad32,
            jvp: p.jvp,
            hvp: p.hvp,
        }
    }};
}
";

// ---------------------------------------------------------------------------------------------
// Batches.

/// A failing program.
struct Found {
    /// The seed of its batch.
    seed: u64,
    program: String,
    /// `compile`, `generator` (the plain copy or the mirror does not compile), or a check of
    /// `program_check.rs` (`fd`, `dual`, ...).
    check: String,
    case: Option<CaseBits>,
    message: String,
    /// The program and its callees, callees first.
    set: Vec<ProgramTree>,
    /// Other failures of the same program.
    more: usize,
}

/// The program `name` and every program it calls, directly or not, in `trees`' order.
fn closure(trees: &[ProgramTree], name: &str) -> Vec<ProgramTree> {
    let mut wanted = vec![name.to_string()];
    let mut k = 0;
    while k < wanted.len() {
        if let Some(t) = trees.iter().find(|t| t.name == wanted[k]) {
            for c in t.calls() {
                if !wanted.contains(&c) {
                    wanted.push(c);
                }
            }
        }
        k += 1;
    }
    trees
        .iter()
        .filter(|t| wanted.contains(&t.name))
        .cloned()
        .collect()
}

struct BatchOutcome {
    found: Vec<Found>,
    programs: usize,
    cases: usize,
    fd_skipped: usize,
    /// Second order: the programs with `_hvp` compared at one point or more, those of them
    /// whose tangent sweep calls another program's tangent function (second order through a
    /// call), those compared at no point, and the points compared.
    hvp: SecondOrder,
    build: Duration,
    run: Duration,
}

/// Counts of the `_hvp` checks of a batch (see [`BatchOutcome`]).
#[derive(Clone, Copy, Default)]
struct SecondOrder {
    programs: usize,
    through_calls: usize,
    unchecked: usize,
    points: usize,
}

impl SecondOrder {
    fn add(&mut self, other: SecondOrder) {
        self.programs += other.programs;
        self.through_calls += other.through_calls;
        self.unchecked += other.unchecked;
        self.points += other.points;
    }
}

fn check_batch(cfg: &Config, b: usize, trees: &[ProgramTree]) -> BatchOutcome {
    let seed = cfg.batch_seed(b);
    let dir = cfg.root.join(format!("batch_{b}"));
    let name = format!("grad_program_batch_{b}");
    let mut outcome = BatchOutcome {
        found: Vec::new(),
        programs: 0,
        cases: 0,
        fd_skipped: 0,
        hvp: SecondOrder::default(),
        build: Duration::ZERO,
        run: Duration::ZERO,
    };
    let mut excluded: Vec<String> = Vec::new();
    // Rebuilt without the programs that do not compile or crash, a few times.
    for _attempt in 0..8 {
        // Without the programs that do not compile and their callers.
        let active: Vec<ProgramTree> = trees
            .iter()
            .filter(|t| {
                !closure(trees, &t.name)
                    .iter()
                    .any(|c| excluded.contains(&c.name))
            })
            .cloned()
            .collect();
        if active.is_empty() {
            return outcome;
        }
        let piece = render_piece(cfg, &active);
        let main = format!(
            "#![allow(warnings)]\n// @generated by tests/program_batches.rs: batch {b}, seed {seed:#x}.\n\n\
             mod programs;\n#[path = {}]\nmod program_check;\n\n{SUBJECT_MACRO}\n\
             fn main() {{\n    let programs: Vec<program_check::Subject> = programs::random_programs_dual::PROGRAMS\n        \
             .iter()\n        .map(|p| subject!(p.name, p))\n        .collect();\n    \
             program_check::fuzz_main(&programs, {seed:#x}, {}, programs::random_programs_dual::N_MAX);\n}}\n",
            check_path(),
            cfg.points
        );
        write_crate(cfg, &dir, &name, &piece.text, &main);
        let start = Instant::now();
        let built = build(cfg, &dir, &name);
        outcome.build += start.elapsed();
        match built {
            Built::Binary(binary) => {
                let start = Instant::now();
                let out = run(&binary, &dir, Duration::from_secs(900));
                outcome.run += start.elapsed();
                let out = match out {
                    Ok(out) => out,
                    Err((e, out)) => {
                        // The program being checked: the batch runs again without it.
                        let last = out
                            .lines()
                            .rev()
                            .find_map(|l| l.strip_prefix("GRAD-FUZZ\tSTART\t"))
                            .map(str::to_string);
                        outcome.found.push(Found {
                            seed,
                            program: last.clone().unwrap_or_else(|| format!("batch {b}")),
                            check: "run".to_string(),
                            case: None,
                            message: format!("the check {e}"),
                            set: last.as_ref().map_or(Vec::new(), |p| closure(trees, p)),
                            more: 0,
                        });
                        match last {
                            Some(program) => {
                                excluded.push(program);
                                continue;
                            }
                            None => return outcome,
                        }
                    }
                };
                let mut by_program: BTreeMap<String, usize> = BTreeMap::new();
                // The programs written with `hessian`, and whether through a call.
                let second_order = second_order_programs(&active);
                for line in out.lines() {
                    if let Some(rest) = line.strip_prefix("GRAD-FUZZ\tHVP\t")
                        && let Some((program, points)) = rest.split_once('\t')
                    {
                        let points: usize = points.parse().unwrap_or(0);
                        if points == 0 {
                            outcome.hvp.unchecked += 1;
                        } else {
                            outcome.hvp.programs += 1;
                            outcome.hvp.through_calls +=
                                usize::from(second_order.get(program) == Some(&true));
                        }
                        continue;
                    }
                    if let Some(f) = parse_fail(line) {
                        if let Some(&k) = by_program.get(&f.label) {
                            outcome.found[k].more += 1;
                            continue;
                        }
                        by_program.insert(f.label.clone(), outcome.found.len());
                        outcome.found.push(Found {
                            seed,
                            set: closure(trees, &f.label),
                            program: f.label,
                            check: f.check,
                            case: Some(f.case),
                            message: f.message,
                            more: 0,
                        });
                    } else if let Some(rest) = line.strip_prefix("GRAD-FUZZ\tDONE\t") {
                        let n: Vec<usize> =
                            rest.split('\t').filter_map(|s| s.parse().ok()).collect();
                        outcome.programs = n[0];
                        outcome.cases = n[1];
                        outcome.fd_skipped = n[2];
                        outcome.hvp.points = n[4];
                    }
                }
                return outcome;
            }
            Built::Errors(diags, stderr) => {
                // Per program: its first error, and whether its plain copy or its mirror
                // failed too (then the generator is at fault, not grad).
                let mut named: BTreeMap<String, (Diag, bool)> = BTreeMap::new();
                for d in &diags {
                    if let Some((part, Some(program))) = d.line.and_then(|l| piece.locate(l)) {
                        let entry = named.entry(program).or_insert_with(|| (d.clone(), false));
                        entry.1 |= matches!(part, Part::Dual | Part::Plain);
                    }
                }
                if named.is_empty() {
                    outcome.found.push(Found {
                        seed,
                        program: format!("batch {b}"),
                        check: "build".to_string(),
                        case: None,
                        message: stderr.chars().take(4000).collect(),
                        set: Vec::new(),
                        more: 0,
                    });
                    return outcome;
                }
                for (program, (diag, generator)) in named {
                    let check = if generator { "generator" } else { "compile" };
                    outcome.found.push(Found {
                        seed,
                        set: closure(trees, &program),
                        program: program.clone(),
                        check: check.to_string(),
                        case: None,
                        message: format!("{} | {}", diag.code, diag.text),
                        more: 0,
                    });
                    excluded.push(program);
                }
            }
        }
    }
    outcome
}

// ---------------------------------------------------------------------------------------------
// Shrinking.

struct Shrunk {
    set: Vec<ProgramTree>,
    from: usize,
    rounds: usize,
    tried: usize,
    elapsed: Duration,
    detail: Option<String>,
    reproduced: bool,
}

fn size(set: &[ProgramTree]) -> usize {
    set.iter().map(ProgramTree::size).sum()
}

/// The error code that a compile failure's message starts with (for a failed check, the
/// start of its message).
fn signature(found: &Found) -> String {
    if found.case.is_some() {
        return String::new();
    }
    found
        .message
        .split(" | ")
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Evaluates candidates (each a set of programs, the failing one last) in one crate: the
/// indices of those that still fail as `found` does, with their detail lines.
fn evaluate(cfg: &Config, found: &Found, candidates: &[Vec<ProgramTree>]) -> Vec<(usize, String)> {
    let dir = cfg.root.join("shrink");
    let name = "grad_program_shrink";
    let mut live: Vec<usize> = (0..candidates.len()).collect();
    for _attempt in 0..4 {
        if live.is_empty() {
            return Vec::new();
        }
        let mut programs = String::new();
        let mut pieces = Vec::new();
        for &k in &live {
            let offset = programs.lines().count() + 1;
            let _ = writeln!(programs, "pub mod c{k} {{");
            let piece = render_piece(cfg, &candidates[k]);
            programs.push_str(&piece.text);
            programs.push_str("}\n");
            pieces.push((k, offset, piece));
        }
        let mut main = format!(
            "#![allow(warnings)]\n// @generated by tests/program_batches.rs: shrinking {}.\n\n\
             mod programs;\n#[path = {}]\nmod program_check;\n\n{SUBJECT_MACRO}\nfn main() {{\n    let jobs = vec![\n",
            found.program,
            check_path()
        );
        if let Some(case) = &found.case {
            for &k in &live {
                let last = candidates[k].len() - 1;
                let _ = writeln!(
                    main,
                    "        (\"c{k}\", subject!(\"{}\", programs::c{k}::random_programs_dual::PROGRAMS[{last}]), {}),",
                    found.program,
                    case.source()
                );
            }
        }
        main.push_str("    ];\n    program_check::candidates_main(&jobs);\n}\n");
        write_crate(cfg, &dir, name, &programs, &main);
        match build(cfg, &dir, name) {
            Built::Binary(binary) => {
                if found.case.is_none() {
                    // A compile failure that compiles is gone.
                    return Vec::new();
                }
                let Ok(out) = run(&binary, &dir, Duration::from_secs(120)) else {
                    return Vec::new();
                };
                let mut failing = HashSet::new();
                let mut details = BTreeMap::new();
                for line in out.lines() {
                    if let Some(f) = parse_fail(line) {
                        if f.check == found.check {
                            failing.insert(f.label);
                        }
                    } else if let Some(rest) = line.strip_prefix("GRAD-FUZZ\tDETAIL\t")
                        && let Some((label, detail)) = rest.split_once('\t')
                    {
                        details.insert(label.to_string(), detail.to_string());
                    }
                }
                return live
                    .iter()
                    .filter(|k| failing.contains(&format!("c{k}")))
                    .map(|&k| (k, details.remove(&format!("c{k}")).unwrap_or_default()))
                    .collect();
            }
            Built::Errors(diags, _) => {
                // Which candidates the errors are in, and in which part.
                let mut errors: BTreeMap<usize, Vec<(Part, String, String)>> = BTreeMap::new();
                let mut unplaced = false;
                for d in &diags {
                    let place = d.line.and_then(|line| {
                        pieces
                            .iter()
                            .rev()
                            .find(|(_, offset, _)| *offset <= line)
                            .and_then(|(k, offset, piece)| {
                                // `pub mod cK {` is the line at `offset`.
                                piece.locate(line - offset).map(|(part, _)| (*k, part))
                            })
                    });
                    match place {
                        Some((k, part)) => {
                            errors.entry(k).or_default().push((
                                part,
                                d.code.clone(),
                                d.text.clone(),
                            ));
                        }
                        None => unplaced = true,
                    }
                }
                if unplaced {
                    return Vec::new();
                }
                if found.case.is_none() {
                    let want = signature(found);
                    return errors
                        .iter()
                        .filter(|(_, e)| {
                            e.iter()
                                .all(|(part, ..)| matches!(part, Part::Functions | Part::Table))
                                && e.iter().any(|(_, code, _)| *code == want)
                        })
                        .map(|(&k, e)| {
                            let texts: Vec<&str> =
                                e.iter().map(|(.., text)| text.as_str()).collect();
                            (k, texts.join("\n"))
                        })
                        .collect();
                }
                live.retain(|k| !errors.contains_key(k));
            }
        }
    }
    Vec::new()
}

/// The set without the programs that the failing one (the last) no longer calls.
fn prune(set: Vec<ProgramTree>) -> Vec<ProgramTree> {
    let last = set.last().expect("a program").name.clone();
    closure(&set, &last)
}

fn shrink(cfg: &Config, found: &Found) -> Shrunk {
    let start = Instant::now();
    let mut current = found.set.clone();
    let mut shrunk = Shrunk {
        from: size(&current),
        set: current.clone(),
        rounds: 0,
        tried: 0,
        elapsed: Duration::ZERO,
        detail: None,
        reproduced: false,
    };
    // Crashes, hangs and the generator's own errors are not shrunk.
    if found.check == "run" || found.check == "generator" {
        return shrunk;
    }
    // The program alone must fail as in its batch.
    let alone = evaluate(cfg, found, std::slice::from_ref(&current));
    shrunk.tried += 1;
    let Some((_, detail)) = alone.into_iter().next() else {
        shrunk.elapsed = start.elapsed();
        return shrunk;
    };
    shrunk.reproduced = true;
    shrunk.detail = Some(detail);
    let mut seen: HashSet<String> = HashSet::new();
    const CHUNK: usize = 24;
    'rounds: loop {
        let mut candidates: Vec<Vec<ProgramTree>> = Vec::new();
        for (i, program) in current.iter().enumerate() {
            for reduced in program.reductions() {
                let mut set = current.clone();
                set[i] = reduced;
                let set = prune(set);
                let key = render_programs("", &set, true).functions;
                if seen.insert(key) {
                    candidates.push(set);
                }
            }
        }
        candidates.sort_by_key(|set| size(set));
        for chunk in candidates.chunks(CHUNK) {
            if start.elapsed() > cfg.shrink_time || shrunk.tried >= cfg.shrink_candidates {
                break 'rounds;
            }
            shrunk.tried += chunk.len();
            let accepted = evaluate(cfg, found, chunk);
            // The smallest, as the chunk is sorted.
            if let Some((k, detail)) = accepted.into_iter().min_by_key(|(k, _)| *k) {
                current = chunk[k].clone();
                shrunk.rounds += 1;
                if !detail.is_empty() {
                    shrunk.detail = Some(detail);
                }
                continue 'rounds;
            }
        }
        break;
    }
    shrunk.set = current;
    shrunk.elapsed = start.elapsed();
    shrunk
}

/// The `#[differentiable]` functions of a set, as they were compiled.
fn source(cfg: &Config, set: &[ProgramTree]) -> String {
    let piece = render_piece(cfg, set);
    let text = piece
        .text
        .split("pub mod random_programs_dual")
        .next()
        .unwrap_or_default();
    let scale_unused = text.matches("SCALE").count() == 1;
    text.lines()
        .filter(|l| !l.starts_with("//") && !l.starts_with("#[") && !l.trim().is_empty())
        .filter(|l| !(scale_unused && l.contains("pub const SCALE")))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("    #[differentiable]", "\n    #[differentiable]")
}

// ---------------------------------------------------------------------------------------------

#[test]
fn generated_programs_in_batches_match_finite_differences_and_dual_numbers() {
    let cfg = Config::from_env();
    fs::create_dir_all(&cfg.root).expect("create the batches' directory");
    let batches = cfg.cases.div_ceil(cfg.batch);
    eprintln!(
        "program_batches: {} programs in {batches} batches of {}, seed {:#x}, {} points each, opt-level {}{}; crates in {}",
        cfg.cases,
        cfg.batch,
        cfg.seed,
        cfg.points,
        cfg.opt,
        if cfg.plant { ", PLANTED BUG" } else { "" },
        cfg.root.display()
    );
    let start = Instant::now();
    let mut found: Vec<Found> = Vec::new();
    let (mut programs, mut cases, mut fd_skipped) = (0, 0, 0);
    let mut hvp = SecondOrder::default();
    for b in 0..batches {
        let count = cfg.batch.min(cfg.cases - b * cfg.batch);
        let trees = random_program_trees(cfg.batch_seed(b), count, cfg.features);
        let outcome = check_batch(&cfg, b, &trees);
        programs += outcome.programs;
        cases += outcome.cases;
        fd_skipped += outcome.fd_skipped;
        hvp.add(outcome.hvp);
        eprintln!(
            "batch {}/{batches} (seed {:#x}): {} programs checked at {} points, {} with hvp ({} through calls), {} failing; build {:.1} s, run {:.1} s; {programs}/{} programs, {} failing, {:.0} s in all",
            b + 1,
            cfg.batch_seed(b),
            outcome.programs,
            outcome.cases,
            outcome.hvp.programs,
            outcome.hvp.through_calls,
            outcome.found.len(),
            outcome.build.as_secs_f64(),
            outcome.run.as_secs_f64(),
            cfg.cases,
            found.len() + outcome.found.len(),
            start.elapsed().as_secs_f64()
        );
        for f in &outcome.found {
            eprintln!("  {} {}: {}", f.program, f.check, f.message);
        }
        found.extend(outcome.found);
    }
    let mut report = String::new();
    // One failure of each kind (check, and error code for a compile failure): a long run may
    // find one bug many times.
    let mut order: Vec<&Found> = Vec::new();
    let mut kinds = HashSet::new();
    for f in found.iter().filter(|f| !f.set.is_empty()) {
        if kinds.insert(format!("{} {}", f.check, signature(f))) {
            order.push(f);
        }
    }
    for f in order.into_iter().take(cfg.shrink) {
        eprintln!(
            "shrinking {} (batch seed {:#x}, {})...",
            f.program, f.seed, f.check
        );
        let s = shrink(&cfg, f);
        let _ = writeln!(
            report,
            "\n==== {} of the batch of seed {:#x}: {} ====\n{}",
            f.program, f.seed, f.check, f.message
        );
        if let Some(case) = &f.case {
            let _ = writeln!(report, "point: {}", case.describe());
        }
        if !s.reproduced {
            let _ = writeln!(
                report,
                "(not shrunk: {}; the program as found)",
                if s.tried > 0 {
                    "it did not fail alone"
                } else {
                    "a crash, a hang or a generator error"
                }
            );
        } else {
            let _ = writeln!(
                report,
                "shrunk from {} to {} nodes in {} steps, {} candidates, {:.0} s:",
                s.from,
                size(&s.set),
                s.rounds,
                s.tried,
                s.elapsed.as_secs_f64()
            );
        }
        let _ = writeln!(report, "{}", source(&cfg, &s.set));
        if let Some(detail) = &s.detail {
            let _ = writeln!(report, "{detail}");
        }
        eprintln!("{report}");
        report.clear();
    }
    eprintln!(
        "program_batches: {programs} programs at {cases} points ({fd_skipped} skipped by the finite-difference check near kinks), {} failing, {:.0} s",
        found.len(),
        start.elapsed().as_secs_f64()
    );
    eprintln!(
        "program_batches: second order: {} programs with hvp checked at {} points in all, {} of them through calls (the tangent sweep calls another program's tangent function); {} more with hvp skipped at every point",
        hvp.programs, hvp.points, hvp.through_calls, hvp.unchecked
    );
    let mut summary = String::new();
    for f in &found {
        let _ = writeln!(
            summary,
            "{} (batch seed {:#x}) {}{}: {}",
            f.program,
            f.seed,
            f.check,
            if f.more > 0 {
                format!(" and {} more", f.more)
            } else {
                String::new()
            },
            f.message.lines().next().unwrap_or_default()
        );
    }
    // The shrunk programs are in the output above.
    assert!(
        found.is_empty(),
        "{} failing programs:\n{summary}",
        found.len()
    );
    // Kinks and comparisons must not hide most of the points.
    assert!(
        fd_skipped * 5 <= cases,
        "{fd_skipped} of {cases} points skipped near kinks"
    );
    assert_eq!(programs, cfg.cases, "programs checked");
    // The default campaign checks second order, through calls too.
    if cfg.features == Features::DEFAULT && cfg.cases >= 500 {
        assert!(
            hvp.programs > 0 && hvp.through_calls > 0,
            "{} programs with hvp checked, {} through calls",
            hvp.programs,
            hvp.through_calls
        );
    }
}
