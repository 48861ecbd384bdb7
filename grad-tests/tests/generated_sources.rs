//! The committed sources under `tests/generated/` are exactly what `tests/generate` writes.
//!
//! Run with `UPDATE_GENERATED=1` to rewrite them after changing the generator.

mod generate;

use std::path::PathBuf;

fn check(file: &str, expected: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/generated")
        .join(file);
    if std::env::var_os("UPDATE_GENERATED").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create tests/generated");
        std::fs::write(&path, expected).expect("write a generated source");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{} is not what tests/generate writes: run `UPDATE_GENERATED=1 cargo test -p grad-tests --test generated_sources`",
        path.display()
    );
}

#[test]
fn random_expressions_are_up_to_date() {
    let generated = generate::random_expressions(
        generate::RANDOM_EXPRESSIONS_SEED,
        generate::RANDOM_EXPRESSIONS_COUNT,
    );
    check("random_expressions.rs", &generated.functions);
    check("random_expressions_dual.rs", &generated.dual);
}

#[test]
fn random_programs_are_up_to_date() {
    let generated = generate::random_programs(
        generate::RANDOM_PROGRAMS_SEED,
        generate::RANDOM_PROGRAMS_COUNT,
    );
    check("random_programs.rs", &generated.functions);
    check("random_programs_dual.rs", &generated.dual);
}

#[test]
fn long_function_is_up_to_date() {
    let generated = generate::long_function(generate::LONG_FUNCTION_STATEMENTS);
    check("long_function.rs", &generated.functions);
    check("long_function_dual.rs", &generated.dual);
    let lets = generated
        .functions
        .lines()
        .filter(|line| line.trim_start().starts_with("let "))
        .count();
    assert_eq!(lets, generate::LONG_FUNCTION_STATEMENTS);
}

#[test]
fn generation_is_deterministic() {
    let a = generate::random_expressions(7, 5);
    let b = generate::random_expressions(7, 5);
    assert_eq!(a.functions, b.functions);
    assert_eq!(a.dual, b.dual);
    assert_ne!(a.functions, generate::random_expressions(8, 5).functions);
    let a = generate::random_programs(7, 5);
    let b = generate::random_programs(7, 5);
    assert_eq!(a.functions, b.functions);
    assert_eq!(a.dual, b.dual);
    assert_ne!(a.functions, generate::random_programs(8, 5).functions);
}

#[test]
fn switches_add_their_constructs() {
    let all = generate::Features {
        const_patterns: 100,
        slices: 50,
        tuples: 50,
        const_generic: 50,
        array_patterns: 50,
        array_assignment: 50,
        labeled_blocks: 50,
        option_patterns: 50,
        num_traits: 50,
        closures: 30,
        sub_slices: 30,
        passthrough: 30,
        ref_params: 20,
        enum_modes: 20,
        methods: 30,
        structs: 0,
        modules: 0,
        hessian: 0,
    };
    let on = generate::random_programs_with(10, 60, all);
    for construct in [
        "pub const MODE_",
        "const PHASE_",
        " if n ",
        "_other =>",
        "v: &[f64]",
        "v.len()",
        ".fold(f64::",
        "p: (f64, f64)",
        "let (x1, x2) = p;",
        "p.1",
        "<const N: usize>",
        "[0.0; N]",
        "::<4>(",
        "let [",
        "] = *v;",
        "'b",
        "break 'b",
        "if let Some(",
        "let Some(",
        ".checked_sub(",
        "None =>",
        "num_traits::Float + num_traits::FromPrimitive",
        "T::from_f64(",
        "T::from_usize(",
        "-> T",
        "= |t: f64| ",
        "(0..n).",
        "pub fn table(i: usize) -> f64",
        "= table(",
        "assert!(",
        "x2: &f64",
        "mode: Mode",
        "Mode::Lower(",
        "Mode::Upper(",
        "pub fn mode_of(",
        "impl Params {",
        "(&self, x0: f64",
        "(self, x0: f64",
        "self.k",
        "self.scale",
        "self.n",
        "self.prog_",
        "Self::prog_",
        "Params::prog_",
        "let prm: &Params = &PARAMS;",
        "(prm, ",
        "    #[differentiable]\n    impl Params {",
        "    impl Params {\n        #[differentiable]\n        pub fn",
        "pub const PARAMS: Params",
    ] {
        assert!(on.functions.contains(construct), "no {construct}");
    }
    // A whole-array assignment: `a3 = [` or `a3 = a5;`.
    assert!(
        on.functions.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with('a')
                && l.split_once(" = ")
                    .is_some_and(|(a, _)| a.len() > 1 && a[1..].chars().all(|c| c.is_ascii_digit()))
        }),
        "no whole-array assignment"
    );
    assert!(on.dual.contains("_dual::<4>("));
    assert!(on.dual.contains("_value_and_grad::<f32>("));
    assert!(on.dual.contains("let lo") || on.dual.contains("let hi"));
    // Closures called and passed on, sub-slices and adaptors.
    for group in [
        &[
            ".map(|&p| f",
            ".copied().map(f",
            ".cloned().map(f",
            "| r * 0.5 + f",
        ][..],
        &[
            "[1..",
            "[..",
            ".skip(",
            ".take(",
            ".windows(2)",
            ".chunks(2)",
        ],
        &[
            "f64::max)",
            "f64::min)",
            ".partial_cmp(b).unwrap()).unwrap()",
        ],
    ] {
        assert!(
            group.iter().any(|c| on.functions.contains(c)),
            "none of {group:?}"
        );
    }
    assert!(on.dual.contains("mode_of(n)"));
    // Methods: called on `PARAMS`, mirrored with the struct as a constant.
    for construct in [
        "PARAMS.prog_",
        "_dual(PARAMS, ",
        "this: Params",
        "c(this.",
        ", margin)",
    ] {
        assert!(on.dual.contains(construct), "no {construct} in the mirrors");
    }
    // Struct parameters and modules (issue 16), in programs of their own.
    let on = generate::random_programs_with(
        7,
        60,
        generate::Features {
            structs: 50,
            modules: 50,
            const_generic: 20,
            enum_modes: 20,
            methods: 20,
            ..generate::Features::NONE
        },
    );
    for construct in [
        "#[derive(grad::Differentiable, Clone, Copy, Debug)]\n    pub struct Weights {",
        "#[differentiable(wrt(p, x0))]",
        "#[differentiable(wrt(x0, p))]",
        "p: &Weights",
        "p: Weights",
        "impl Weights {",
        "(&self, x0: f64, n: usize",
        "(self, x0: f64, n: usize",
        "let v: [f64; 4] = p.w;",
        "let x1: f64 = p.a;",
        "p.inner.b",
        ".w[",
        "#[differentiable]\n    pub mod m",
        "use super::*;",
        "pub fn mix<F: Fn(f64) -> f64>(",
        "mix(|t: f64| ",
    ] {
        assert!(on.functions.contains(construct), "no {construct}");
    }
    for construct in [
        // Structs: built from the table's inputs, checked field by field.
        "weights(x1, x2, v)",
        "weights_dual(x1, x2, v)",
        "g.1.inner.b",
        "assert_eq!(g.0.n, WEIGHTS_N);",
        // Modules: called by their path, mirrored by free functions.
        "primal: |x0, x1, x2, v, n| m",
        "mix_dual(",
    ] {
        assert!(on.dual.contains(construct), "no {construct} in the mirrors");
    }
    // A module's program calls another module's program by its path.
    assert!(
        on.functions.split("::prog_").any(|before| {
            let path = before.trim_end_matches(|c: char| c.is_ascii_digit());
            path.len() < before.len() && path.ends_with('m')
        }),
        "no call by a module's path"
    );
    // Second order where grad gives it (asked of its expansion), and forward mode wherever
    // the expansion defines `_jvp`.
    let on = generate::random_programs_with(
        7,
        40,
        generate::Features {
            hessian: 60,
            ..generate::Features::NONE
        },
    );
    assert!(
        on.functions
            .contains("#[differentiable(hessian)]\n    pub fn prog_")
    );
    for construct in [
        "jvp: Some(|x0, x1, x2, v, n, t| prog_",
        "hvp: Some(|x0, x1, x2, v, n, t| prog_",
    ] {
        assert!(on.dual.contains(construct), "no {construct} in the table");
    }
    // Second order through calls: a program with `_hvp` calls programs that have it too (its
    // tangent sweep calls their `prog_J_tangent`), never one without it.
    let features = generate::Features {
        hessian: 60,
        ..generate::Features::NONE
    };
    through_calls(&generate::random_program_trees(7, 40, features), &on);
    // Methods and modules with second order: `hessian` of their own in a block with the
    // attribute, on the block where each of its programs has it, and through calls of
    // methods and of modules' programs.
    let features = generate::Features {
        hessian: 80,
        methods: 40,
        modules: 40,
        ..generate::Features::NONE
    };
    let trees = generate::random_program_trees(0, 80, features);
    let on = generate::random_programs_with(0, 80, features);
    for construct in [
        "    #[differentiable(hessian)]\n    pub mod m",
        "    #[differentiable(hessian)]\n    impl Params {",
        "    #[differentiable]\n    impl Params {",
        "        #[differentiable(hessian)]\n        pub fn prog_",
    ] {
        assert!(on.functions.contains(construct), "no {construct}");
    }
    for construct in [
        "hvp: Some(|x0, x1, x2, v, n, t| PARAMS.prog_",
        "hvp: Some(|x0, x1, x2, v, n, t| Params::prog_",
        "hvp: Some(|x0, x1, x2, v, n, t| m",
    ] {
        assert!(on.dual.contains(construct), "no {construct} in the table");
    }
    through_calls(&trees, &on);
    let off = generate::random_programs_with(7, 30, generate::Features::NONE);
    assert!(!off.dual.contains("hvp: Some("), "an hvp while off");
    for construct in [
        "MODE_",
        "PHASE_",
        "&[f64]",
        "p: (",
        "const N",
        "_other",
        "let [",
        "'b",
        "Some(",
        "<T",
        "|t: ",
        "table(",
        "assert!",
        "&f64",
        "Mode",
        "Params",
        "self",
        "Weights",
        "wrt(",
        "pub mod m",
        "mix(",
    ] {
        assert!(!off.functions.contains(construct), "{construct} while off");
    }
}

/// The table of `generated` gives `_hvp` to programs that call other programs, and only where
/// each program called has `_hvp` too (else the build fails: "cannot find function
/// `prog_J_tangent`"); and what `second_order_programs` says of each program is the table's.
fn through_calls(trees: &[generate::ProgramTree], generated: &generate::Generated) {
    let has_hvp = |name: &str| {
        // The table's entry: `name: "prog_K",` and, before the next entry, `hvp: Some(`.
        let entry = generated
            .dual
            .split(&format!("name: \"{name}\","))
            .nth(1)
            .expect("an entry of the table");
        let entry = entry.split("Program {").next().unwrap_or(entry);
        entry.contains("hvp: Some(")
    };
    let names: Vec<&str> = trees.iter().map(|t| t.name.as_str()).collect();
    let second_order = generate::second_order_programs(trees);
    let mut through = 0;
    for tree in trees {
        assert_eq!(
            has_hvp(&tree.name),
            second_order.contains_key(&tree.name),
            "{}: the table and `second_order_programs` disagree",
            tree.name
        );
        if !has_hvp(&tree.name) {
            continue;
        }
        let callees: Vec<String> = tree
            .calls()
            .into_iter()
            .filter(|c| names.contains(&c.as_str()))
            .collect();
        for callee in &callees {
            assert!(
                has_hvp(callee),
                "{} has hvp but calls {callee}, which has none",
                tree.name
            );
        }
        through += usize::from(second_order[&tree.name]);
    }
    assert!(through > 0, "no second order through calls");
}
