//! Keeps the corpus's record honest.
//!
//! 1. Compiles every candidate of `corpus.txt` (build.rs's `all.rs`) as a crate of its own with
//!    `cargo check`, and charges each compile error to the function whose lines it points at:
//!    which functions compile unmodified, and the first error of each that does not. The ones
//!    that compile are checked again on their own, so that the set this crate includes is known
//!    to compile.
//! 2. Checks the gradient of every function this crate includes against central finite
//!    differences of the published function (or, for a private helper, of its unchanged copy)
//!    and against num-dual running the published function, where it is generic over `Float`.
//!    Where grad generated them (build.rs asks grad-expand), checks `f_jvp`, `f_hvp` and
//!    `f_hessian` at the same points: against `f_grad`, finite differences, num-dual's hyper-dual
//!    numbers and, for argmin, the Hessians the crate publishes.
//! 3. Compares the outcome with `status.tsv`, `README.md` beside it and the count in the
//!    workspace README. `UPDATE_CORPUS=1 cargo test -p grad-corpus` rewrites all three (run it
//!    twice after a change: a function that starts to compile is included, and so checked, in
//!    the build after the one that found it compiles).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const OUT_DIR: &str = env!("OUT_DIR");

struct Function {
    id: String,
    first: usize,
    last: usize,
    role: String,
    file: String,
    private: bool,
    /// Why the checks cannot call it, if they cannot.
    no_check: String,
}

fn functions() -> Vec<Function> {
    let text = fs::read_to_string(Path::new(OUT_DIR).join("all_lines.tsv")).unwrap();
    text.lines()
        .map(|l| {
            let p: Vec<&str> = l.split('\t').collect();
            Function {
                id: p[0].to_string(),
                first: p[1].parse().unwrap(),
                last: p[2].parse().unwrap(),
                role: p[3].to_string(),
                file: p[4].to_string(),
                private: p[5] == "private",
                no_check: p.get(6).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory this test was built in (`OUT_DIR` is `<target>/<profile>/build/<x>/out`).
fn target_dir() -> PathBuf {
    Path::new(OUT_DIR).ancestors().nth(4).unwrap().to_path_buf()
}

/// A crate with the candidates, beside this workspace's target directory.
fn write_check_crate(dir: &Path) {
    fs::create_dir_all(dir.join("src")).unwrap();
    let workspace = manifest_dir().parent().unwrap().to_path_buf();
    let ours = fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap();
    let mut dependencies = String::new();
    let mut inside = false;
    for line in ours.lines() {
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if inside && !line.trim().is_empty() && !line.starts_with('#') {
            let line = line.replace(
                "path = \"..\"",
                &format!("path = {:?}", workspace.display().to_string()),
            );
            dependencies.push_str(&line);
            dependencies.push('\n');
        }
    }
    let toml = format!(
        "[package]\nname = \"grad-corpus-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         publish = false\n\n# Not a member of grad's workspace.\n[workspace]\n\n\
         [dependencies]\n{dependencies}\n[profile.dev]\ndebug = false\nincremental = false\n"
    );
    if fs::read_to_string(dir.join("Cargo.toml")).ok() != Some(toml.clone()) {
        fs::write(dir.join("Cargo.toml"), toml).unwrap();
    }
    fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let lib = "#![allow(warnings)]\ninclude!(\"all.rs\");\n";
    if fs::read_to_string(dir.join("src/lib.rs")).ok().as_deref() != Some(lib) {
        fs::write(dir.join("src/lib.rs"), lib).unwrap();
    }
}

/// `cargo check` of the crate: every error, as (line in all.rs, message), in rustc's order.
fn check(dir: &Path) -> Vec<(Option<usize>, String)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args([
            "check",
            "--offline",
            "--message-format=json",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .stdin(Stdio::null())
        .output()
        .expect("run cargo check");
    let mut errors = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if json["reason"] != "compiler-message" || json["message"]["level"] != "error" {
            continue;
        }
        let message = &json["message"];
        let mut text = message["message"].as_str().unwrap_or_default().to_string();
        // rustc's own messages are terse ("mismatched types"): add the primary span's label.
        let label = message["spans"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["is_primary"] == true)
            .and_then(|s| s["label"].as_str());
        if let Some(label) = label.filter(|l| !l.is_empty() && !text.contains(l)) {
            text = format!("{text} ({label})");
        }
        if text.starts_with("aborting due to") {
            continue;
        }
        errors.push((line_in_all(&message["spans"]), text));
    }
    if errors.is_empty() && !output.status.success() {
        panic!(
            "cargo check of the corpus failed without a compile error:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    errors
}

/// The line of `all.rs` a diagnostic points at: its primary span, or where the macro that
/// produced that span was called.
fn line_in_all(spans: &serde_json::Value) -> Option<usize> {
    fn walk(span: &serde_json::Value) -> Option<usize> {
        if span["file_name"].as_str()?.ends_with("all.rs") {
            return span["line_start"].as_u64().map(|l| l as usize);
        }
        walk(&span["expansion"]["span"])
    }
    let spans = spans.as_array()?;
    spans
        .iter()
        .filter(|s| s["is_primary"] == true)
        .chain(spans.iter())
        .find_map(walk)
}

/// Which functions compile: for each one that does not, its first error.
fn compile_errors(functions: &[Function]) -> BTreeMap<String, String> {
    let dir = target_dir().join("corpus-check");
    write_check_crate(&dir);
    let all = fs::read_to_string(Path::new(OUT_DIR).join("all.rs")).unwrap();
    let mut lines: Vec<String> = all.lines().map(str::to_string).collect();
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    // First every candidate; then, until none fails, only the ones that compiled, with the
    // others' lines blanked (so that line numbers stay).
    for _ in 0..6 {
        let text = lines.join("\n") + "\n";
        if fs::read_to_string(dir.join("src/all.rs")).ok() != Some(text.clone()) {
            fs::write(dir.join("src/all.rs"), text).unwrap();
        }
        let errors = check(&dir);
        if errors.is_empty() {
            return failed;
        }
        let mut unowned = Vec::new();
        for (line, message) in errors {
            let owner = line.and_then(|l| functions.iter().find(|f| f.first <= l && l <= f.last));
            match owner {
                Some(f) => {
                    failed.entry(f.id.clone()).or_insert(message);
                }
                None => unowned.push(format!("line {line:?}: {message}")),
            }
        }
        assert!(
            unowned.is_empty(),
            "compile errors outside the corpus's functions (the context build.rs writes):\n{}",
            unowned.join("\n")
        );
        for f in functions.iter().filter(|f| failed.contains_key(&f.id)) {
            for line in &mut lines[f.first - 1..f.last] {
                line.clear();
            }
        }
    }
    panic!("the corpus's compiling functions still do not compile together after 6 rounds");
}

/// A deterministic stream of points in the case's box.
fn points(case: &grad_corpus::Case, count: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..count)
        .map(|_| {
            (0..case.dims)
                .map(|_| case.lo + (case.hi - case.lo) * next())
                .collect()
        })
        .collect()
}

/// The gradient of every output by a fourth-order central difference.
fn finite_differences(case: &grad_corpus::Case, x: &[f64]) -> Vec<Vec<f64>> {
    let mut rows = vec![vec![0.0; case.dims]; case.outputs];
    for i in 0..case.dims {
        let h = 1e-4 * x[i].abs().max(1.0);
        let at = |t: f64| {
            let mut y = x.to_vec();
            y[i] += t;
            (case.value)(&y)
        };
        let (p2, p1, m1, m2) = (at(2.0 * h), at(h), at(-h), at(-2.0 * h));
        for (k, row) in rows.iter_mut().enumerate() {
            row[i] = (-p2[k] + 8.0 * p1[k] - 8.0 * m1[k] + m2[k]) / (12.0 * h);
        }
    }
    rows
}

/// grad's gradient (or Jacobian) as one row per output.
fn gradient_rows(case: &grad_corpus::Case, x: &[f64]) -> Vec<Vec<f64>> {
    let flat = (case.gradient)(x);
    assert_eq!(
        flat.len(),
        case.outputs * case.dims,
        "{}: gradient shape",
        case.id
    );
    if case.outputs == 1 {
        return vec![flat];
    }
    // A Jacobian comes as one block per parameter, each `outputs` rows of that parameter.
    let mut rows = vec![Vec::new(); case.outputs];
    let mut at = 0;
    for &part in &case.parts {
        for row in rows.iter_mut() {
            row.extend_from_slice(&flat[at..at + part]);
            at += part;
        }
    }
    rows
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    a == b || (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1.0)
}

/// `Ok(what it was checked against)` or `Err(the first disagreement)`.
fn verdict(case: &grad_corpus::Case) -> Result<&'static str, String> {
    for (p, x) in points(case, 5, case.id.len() as u64 * 7919)
        .iter()
        .enumerate()
    {
        let grad = gradient_rows(case, x);
        let numeric = finite_differences(case, x);
        for k in 0..case.outputs {
            for i in 0..case.dims {
                let (g, n) = (grad[k][i], numeric[k][i]);
                if !close(g, n, 1e-6) {
                    return Err(format!(
                        "point {p}, output {k}, coordinate {i}: grad {g:.6e}, finite differences {n:.6e}"
                    ));
                }
            }
        }
        if let Some(dual) = &case.dual {
            for i in 0..case.dims {
                let tangents = dual(x, i);
                for (k, (row, &d)) in grad.iter().zip(&tangents).enumerate() {
                    let g = row[i];
                    if !close(g, d, 1e-9) {
                        return Err(format!(
                            "point {p}, output {k}, coordinate {i}: grad {g:.6e}, num-dual {d:.6e}"
                        ));
                    }
                }
            }
        }
    }
    Ok(if case.dual.is_some() {
        "finite differences and num-dual"
    } else {
        "finite differences (num-dual cannot run it: written for f64)"
    })
}

/// Random directions (tangents, Hessian directions) in `[-1, 1]^dims`, one per point.
fn directions(case: &grad_corpus::Case, count: usize, seed: u64) -> Vec<Vec<f64>> {
    let unit = grad_corpus::Case {
        lo: -1.0,
        hi: 1.0,
        ..dummy(case.dims)
    };
    points(&unit, count, seed)
}

/// A case of `dims` coordinates with no functions, for [`points`] in another box.
fn dummy(dims: usize) -> grad_corpus::Case {
    grad_corpus::Case {
        id: "",
        dims,
        parts: Vec::new(),
        outputs: 0,
        lo: 0.0,
        hi: 0.0,
        value: Box::new(|_| Vec::new()),
        gradient: Box::new(|_| Vec::new()),
        dual: None,
        jvp: Err(""),
        hvp: Err(""),
        hessian: Err(""),
        hyper: None,
        published_hessian: None,
    }
}

/// The random points of the gradient checks, and a random direction at each.
fn points_and_directions(case: &grad_corpus::Case) -> Vec<(Vec<f64>, Vec<f64>)> {
    let seed = case.id.len() as u64 * 7919;
    points(case, 5, seed)
        .into_iter()
        .zip(directions(case, 5, seed + 1))
        .collect()
}

/// `x + s v`.
fn along(x: &[f64], v: &[f64], s: f64) -> Vec<f64> {
    x.iter().zip(v).map(|(x, v)| x + s * v).collect()
}

/// A fourth-order central difference of `f` along `v` at `x`, every output.
fn difference_along(f: &dyn Fn(&[f64]) -> Vec<f64>, x: &[f64], v: &[f64]) -> Vec<f64> {
    let h = 1e-4 * x.iter().fold(1.0_f64, |m, x| m.max(x.abs()));
    let (p2, p1, m1, m2) = (
        f(&along(x, v, 2.0 * h)),
        f(&along(x, v, h)),
        f(&along(x, v, -h)),
        f(&along(x, v, -2.0 * h)),
    );
    (0..p1.len())
        .map(|k| (-p2[k] + 8.0 * p1[k] - 8.0 * m1[k] + m2[k]) / (12.0 * h))
        .collect()
}

/// `f_jvp`: its value is the function's, bit for bit; its tangent is `f_grad · t` (or
/// `f_jacobian · t`) up to rounding, and a central difference along `t`.
fn jvp_verdict(case: &grad_corpus::Case, jvp: &grad_corpus::JvpEval) -> Result<(), String> {
    for (p, (x, t)) in points_and_directions(case).iter().enumerate() {
        let (value, tangent) = jvp(x, t);
        let expected = (case.value)(x);
        for k in 0..case.outputs {
            if value[k].to_bits() != expected[k].to_bits() {
                return Err(format!(
                    "point {p}, output {k}: value {:.17e}, the function's {:.17e}",
                    value[k], expected[k]
                ));
            }
        }
        let rows = gradient_rows(case, x);
        let numeric = difference_along(&case.value, x, t);
        for k in 0..case.outputs {
            let dot: f64 = rows[k].iter().zip(t).map(|(g, t)| g * t).sum();
            let scale: f64 = rows[k].iter().zip(t).map(|(g, t)| (g * t).abs()).sum();
            let d = tangent[k];
            // NaN is not within.
            let within = (d - dot).abs() <= 1e-12 * scale.max(d.abs()).max(1.0);
            if !within {
                return Err(format!(
                    "point {p}, output {k}: tangent {d:.6e}, gradient times tangent {dot:.6e}"
                ));
            }
            if !close(d, numeric[k], 1e-6) {
                return Err(format!(
                    "point {p}, output {k}: tangent {d:.6e}, finite differences {:.6e}",
                    numeric[k]
                ));
            }
        }
    }
    Ok(())
}

/// `f_hvp`: a central difference of `f_grad` along the direction and, where the function is
/// generic, num-dual's hyper-dual numbers running the published function.
fn hvp_verdict(case: &grad_corpus::Case, hvp: &grad_corpus::DirEval) -> Result<(), String> {
    for (p, (x, v)) in points_and_directions(case).iter().enumerate() {
        let hv = hvp(x, v);
        assert_eq!(hv.len(), case.dims, "{}: f_hvp's shape", case.id);
        let numeric = difference_along(&case.gradient, x, v);
        for i in 0..case.dims {
            if !close(hv[i], numeric[i], 1e-5) {
                return Err(format!(
                    "point {p}, coordinate {i}: H·v {:.6e}, finite differences of f_grad {:.6e}",
                    hv[i], numeric[i]
                ));
            }
        }
        if let Some(hyper) = &case.hyper {
            let exact = hyper(x, v);
            for i in 0..case.dims {
                if !close(hv[i], exact[i], 1e-9) {
                    return Err(format!(
                        "point {p}, coordinate {i}: H·v {:.6e}, num-dual hyper-dual {:.6e}",
                        hv[i], exact[i]
                    ));
                }
            }
        }
    }
    Ok(())
}

/// grad's dense Hessian as rows: its blocks (i, j), each `parts[i]` by `parts[j]`, in place.
fn hessian_rows(case: &grad_corpus::Case, flat: &[f64]) -> Vec<Vec<f64>> {
    let n = case.dims;
    assert_eq!(flat.len(), n * n, "{}: f_hessian's shape", case.id);
    let offsets: Vec<usize> = case
        .parts
        .iter()
        .scan(0, |at, &p| {
            let o = *at;
            *at += p;
            Some(o)
        })
        .collect();
    let mut rows = vec![vec![0.0; n]; n];
    let mut at = 0;
    for (i, &pi) in case.parts.iter().enumerate() {
        for (j, &pj) in case.parts.iter().enumerate() {
            for a in 0..pi {
                for b in 0..pj {
                    rows[offsets[i] + a][offsets[j] + b] = flat[at];
                    at += 1;
                }
            }
        }
    }
    rows
}

/// `f_hessian`: symmetric bit for bit, each element the mean of the mirrored elements of
/// `f_hvp`'s columns along the unit vectors (as grad documents it), and close to each of them.
fn hessian_verdict(
    case: &grad_corpus::Case,
    hessian: &grad_corpus::Eval,
    hvp: &grad_corpus::DirEval,
) -> Result<(), String> {
    for (p, (x, _)) in points_and_directions(case).iter().enumerate() {
        let h = hessian_rows(case, &hessian(x));
        let columns: Vec<Vec<f64>> = (0..case.dims)
            .map(|b| {
                let e: Vec<f64> = (0..case.dims)
                    .map(|i| f64::from(u8::from(i == b)))
                    .collect();
                hvp(x, &e)
            })
            .collect();
        for a in 0..case.dims {
            for b in 0..case.dims {
                if h[a][b].to_bits() != h[b][a].to_bits() {
                    return Err(format!(
                        "point {p}: not symmetric: ({a}, {b}) {:.17e}, ({b}, {a}) {:.17e}",
                        h[a][b], h[b][a]
                    ));
                }
                let mean = if a == b {
                    columns[b][a]
                } else {
                    columns[b][a] * 0.5 + columns[a][b] * 0.5
                };
                if h[a][b].to_bits() != mean.to_bits() || !close(h[a][b], columns[b][a], 1e-12) {
                    return Err(format!(
                        "point {p}: ({a}, {b}) {:.17e}, f_hvp along e_{b} {:.17e} (and e_{a}: {:.17e})",
                        h[a][b], columns[b][a], columns[a][b]
                    ));
                }
            }
        }
    }
    Ok(())
}

/// grad's `f_hessian` against the Hessian the crate publishes (argmin's hand-derived ones).
fn published_verdict(
    case: &grad_corpus::Case,
    hessian: &grad_corpus::Eval,
    published: &grad_corpus::Eval,
) -> Result<(), String> {
    for (p, (x, _)) in points_and_directions(case).iter().enumerate() {
        let h = hessian_rows(case, &hessian(x));
        let theirs = published(x);
        // A published Hessian may be with respect to the leading parameter alone (argmin's
        // `rosenbrock_ab_hessian(param, a, b)` is `param`'s), where grad's is with respect to
        // every float parameter: it is then compared with grad's leading block.
        let dims = (0..=case.dims)
            .find(|m| m * m == theirs.len())
            .ok_or_else(|| format!("published Hessian of {} elements", theirs.len()))?;
        for a in 0..dims {
            for b in 0..dims {
                let t = theirs[a * dims + b];
                if !close(h[a][b], t, 1e-9) {
                    return Err(format!(
                        "point {p}: ({a}, {b}) grad {:.6e}, published {t:.6e}",
                        h[a][b]
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The forward-mode and second-order cells of a row: `ok`, `absent: why` or `wrong: where`.
fn cell(result: Result<Result<(), String>, &str>) -> String {
    match result {
        Ok(Ok(())) => "ok".to_string(),
        Ok(Err(e)) => format!("wrong: {e}"),
        Err(why) => format!("absent: {why}"),
    }
}

/// `[f_jvp, f_hvp, f_hessian, published Hessian]` of one case.
fn second_order_cells(case: &grad_corpus::Case) -> [String; 4] {
    let jvp = case
        .jvp
        .as_ref()
        .map(|f| jvp_verdict(case, f))
        .map_err(|e| *e);
    let hvp = case
        .hvp
        .as_ref()
        .map(|f| hvp_verdict(case, f))
        .map_err(|e| *e);
    let hessian = match (&case.hessian, &case.hvp) {
        (Ok(h), Ok(v)) => Ok(hessian_verdict(case, h, v)),
        (Err(e), _) => Err(*e),
        (Ok(_), Err(e)) => Err(*e),
    };
    let published = match (&case.hessian, &case.published_hessian) {
        (Ok(h), Some((path, theirs))) => match published_verdict(case, h, theirs) {
            Ok(()) => format!("ok: `{path}`"),
            Err(e) => format!("wrong: `{path}`: {e}"),
        },
        _ => "-".to_string(),
    };
    [cell(jvp), cell(hvp), cell(hessian), published]
}

struct Row {
    id: String,
    status: &'static str,
    detail: String,
    /// `f_jvp`, `f_hvp`, `f_hessian` and the published Hessian: `-` where not checked.
    second: [String; 4],
}

/// A compile error's message up to its advice (the first `: ` or `; `), to group errors by kind.
fn kind(message: &str) -> &str {
    let cut = [": ", "; "]
        .iter()
        .filter_map(|sep| message.find(sep))
        .min()
        .unwrap_or(message.len());
    &message[..cut]
}

fn replace_between(text: &str, start: &str, end: &str, with: &str) -> String {
    let a = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start} marker"));
    let b = text[a..]
        .find(end)
        .unwrap_or_else(|| panic!("no {end} marker"))
        + a;
    format!("{}{start}\n{with}{}", &text[..a], &text[b..])
}

/// How many checked functions have companion `column` (0 `f_jvp`, 1 `f_hvp`, 2 `f_hessian`), and
/// how many of those are right.
fn second_order_count(rows: &[Row], column: usize) -> (usize, usize) {
    let cells = rows.iter().map(|r| &r.second[column]);
    let has = cells
        .clone()
        .filter(|c| *c != "-" && !c.starts_with("absent"))
        .count();
    let right = cells.filter(|c| *c == "ok").count();
    (has, right)
}

/// corpus/README.md's record of forward mode and second order: the counts, why the others have
/// none (the first reason), and the function-by-function table.
fn second_order_table(rows: &[Row]) -> String {
    let checked: Vec<&Row> = rows.iter().filter(|r| r.second[0] != "-").collect();
    let mut out = String::new();
    let names = ["`f_jvp`", "`f_hvp`", "`f_hessian`"];
    let _ = writeln!(
        out,
        "Of the {} functions that compile and are checked:\n",
        checked.len()
    );
    let _ = writeln!(
        out,
        "| companion | functions that get it | right | why the others have none (first reason) |\n|---|---:|---:|---|"
    );
    for (c, name) in names.iter().enumerate() {
        let (has, right) = second_order_count(rows, c);
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &checked {
            if let Some(why) = r.second[c].strip_prefix("absent: ") {
                *reasons.entry(why).or_default() += 1;
            }
        }
        let mut reasons: Vec<(&str, usize)> = reasons.into_iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let reasons: Vec<String> = reasons.iter().map(|(w, n)| format!("{n}: {w}")).collect();
        let _ = writeln!(out, "| {name} | {has} | {right} | {} |", reasons.join("; "));
    }
    let published: Vec<&Row> = checked
        .iter()
        .copied()
        .filter(|r| r.second[3] != "-")
        .collect();
    let published_ok = published
        .iter()
        .filter(|r| r.second[3].starts_with("ok"))
        .count();
    let _ = writeln!(
        out,
        "\ngrad's `f_hessian` against the Hessian the crate publishes: {published_ok} of {} agree.\n",
        published.len()
    );
    let _ = writeln!(
        out,
        "| function | `f_jvp` | `f_hvp` | `f_hessian` | published Hessian |\n|---|---|---|---|---|"
    );
    for r in &checked {
        let cells: Vec<String> = r.second.iter().map(|c| c.replace('|', "\\|")).collect();
        let _ = writeln!(out, "| `{}` | {} |", r.id, cells.join(" | "));
    }
    out
}

#[test]
fn the_corpus_is_as_recorded() {
    let functions = functions();
    let errors = compile_errors(&functions);
    let cases: BTreeMap<&str, grad_corpus::Case> = grad_corpus::cases()
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut rows = Vec::new();
    for f in &functions {
        let (status, detail) = if let Some(e) = errors.get(&f.id) {
            ("error", e.clone())
        } else if let Some(case) = cases.get(f.id.as_str()) {
            match verdict(case) {
                Ok(against) => ("ok", against.to_string()),
                Err(e) => ("wrong", e),
            }
        } else if !f.no_check.is_empty() {
            (
                "unchecked",
                format!("compiles; not checked: {}", f.no_check),
            )
        } else {
            (
                "compiles",
                "compiles; checked from the next build on (UPDATE_CORPUS=1 again)".to_string(),
            )
        };
        let second = match cases.get(f.id.as_str()) {
            Some(case) if status != "error" => second_order_cells(case),
            _ => ["-", "-", "-", "-"].map(str::to_string),
        };
        rows.push(Row {
            id: f.id.clone(),
            status,
            detail: detail.replace(['\t', '\n'], " "),
            second: second.map(|c| c.replace(['\t', '\n'], " ")),
        });
    }

    let status: String = rows
        .iter()
        .map(|r| {
            format!(
                "{}\t{}\t{}\t{}\n",
                r.id,
                r.status,
                r.detail,
                r.second.join("\t")
            )
        })
        .collect();
    let total = rows.len();
    let compile = rows.iter().filter(|r| r.status != "error").count();
    let ok = rows.iter().filter(|r| r.status == "ok").count();
    let [jvp, hvp, hessian] = [0, 1, 2].map(|c| second_order_count(&rows, c));
    let sentence = format!(
        "Published code, unmodified: {ok} of {total} functions compile and match finite differences \
         ({compile} of {total} compile; the list, with the first error of each that does not, is in \
         [corpus/README.md](corpus/README.md)). Of the {compile} that compile, {} get `f_jvp` \
         ({} right), and {} get second order with `hessian` added to the attribute: `f_hvp` \
         ({} right) and {} `f_hessian` ({} right).",
        jvp.0, jvp.1, hvp.0, hvp.1, hessian.0, hessian.1
    );

    // corpus/README.md's table and summary.
    let sources = fs::read_to_string(Path::new(OUT_DIR).join("sources.tsv")).unwrap();
    let crates: BTreeMap<String, (String, String)> = sources
        .lines()
        .map(|l| {
            let p: Vec<&str> = l.split('\t').collect();
            (p[0].to_string(), (p[1].to_string(), p[2].to_string()))
        })
        .collect();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{ok} of {total} functions compile unmodified and match finite differences (and num-dual \
         where the function is generic); {compile} of {total} compile.\n"
    );
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.status == "error") {
        *kinds.entry(kind(&r.detail)).or_default() += 1;
    }
    let mut kinds: Vec<(&str, usize)> = kinds.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let _ = writeln!(
        table,
        "First errors, by kind (each message up to its advice):\n"
    );
    let _ = writeln!(table, "| functions | first error |\n|---:|---|");
    for (k, n) in &kinds {
        let _ = writeln!(table, "| {n} | {} |", k.replace('|', "\\|"));
    }
    let _ = writeln!(
        table,
        "\n| function | crate | source | status | first error, or what it was checked against |\n|---|---|---|---|---|"
    );
    for (r, f) in rows.iter().zip(&functions) {
        let krate = crates
            .keys()
            .find(|k| f.id.starts_with(k.as_str()))
            .unwrap();
        let (version, licence) = &crates[krate];
        let role = match (f.role.as_str(), f.private) {
            ("helper", true) => " (private helper)",
            ("helper", false) => " (helper)",
            _ => "",
        };
        let _ = writeln!(
            table,
            "| `{}`{role} | {krate} {version} ({licence}) | `{}` | {} | {} |",
            r.id,
            f.file,
            r.status,
            // The list of float methods that follows "has no derivative" is in status.tsv.
            r.detail
                .split("; the float methods")
                .next()
                .unwrap()
                .replace('|', "\\|")
        );
    }
    let second_table = second_order_table(&rows);
    let readme_path = manifest_dir().join("README.md");
    let readme = fs::read_to_string(&readme_path).unwrap();
    let readme_new = replace_between(&readme, "<!-- table -->", "<!-- /table -->", &table);
    let readme_new = replace_between(
        &readme_new,
        "<!-- second-order -->",
        "<!-- /second-order -->",
        &second_table,
    );
    let main_path = manifest_dir().parent().unwrap().join("README.md");
    let main = fs::read_to_string(&main_path).unwrap();
    let main_new = replace_between(
        &main,
        "<!-- corpus-count -->",
        "<!-- /corpus-count -->",
        &format!("{sentence}\n"),
    );

    let status_path = manifest_dir().join("status.tsv");
    if std::env::var_os("UPDATE_CORPUS").is_some() {
        fs::write(&status_path, &status).unwrap();
        fs::write(&readme_path, &readme_new).unwrap();
        fs::write(&main_path, &main_new).unwrap();
        println!("{sentence}");
        return;
    }
    let recorded = fs::read_to_string(&status_path).unwrap_or_default();
    let mut changes = String::new();
    let old: BTreeMap<&str, &str> = recorded
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .collect();
    for line in status.lines() {
        let (id, now) = line.split_once('\t').unwrap();
        if old.get(id) != Some(&now) {
            let _ = writeln!(
                changes,
                "{id}:\n  recorded: {}\n  now:      {now}",
                old.get(id).unwrap_or(&"(absent)")
            );
        }
    }
    assert!(
        changes.is_empty() && recorded == status,
        "the corpus is not as corpus/status.tsv records (UPDATE_CORPUS=1 cargo test -p grad-corpus \
         rewrites the record and both READMEs):\n{changes}"
    );
    assert!(
        readme == readme_new,
        "corpus/README.md's tables are stale: UPDATE_CORPUS=1 cargo test -p grad-corpus"
    );
    assert!(
        main == main_new,
        "README.md's corpus count is stale: UPDATE_CORPUS=1 cargo test -p grad-corpus"
    );
}
