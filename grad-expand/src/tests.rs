//! Unit tests that call the expansion directly on token streams, and expansion snapshots that
//! make the generated chain-rule code reviewable in diffs. Regenerate the snapshots with
//! `UPDATE_EXPECT=1 cargo test -p grad-macro` and read the diff.

use crate::expand::differentiable;
use expect_test::{expect, expect_file};
use proc_macro2::TokenStream;
use quote::quote;

/// The expansion, pretty-printed, as a reviewer reads it.
fn expand_pretty(args: TokenStream, item: TokenStream) -> String {
    let output = differentiable(args, item);
    match syn::parse2::<syn::File>(output.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => output.to_string(),
    }
}

#[test]
fn snapshot_add_then_multiply() {
    let item = quote! {
        pub fn f(x: f64, y: f64, z: f64) -> f64 {
            (x + y) * z
        }
    };
    expect_file!["../snapshots/add_then_multiply.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_sigmoid_neuron() {
    let item = quote! {
        fn neuron(w0: f64, x0: f64, w1: f64, x1: f64, w2: f64) -> f64 {
            let dot = w0 * x0 + w1 * x1 + w2;
            1.0 / (1.0 + (-dot).exp())
        }
    };
    expect_file!["../snapshots/sigmoid_neuron.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_wrt_constants_and_reassignment() {
    let item = quote! {
        pub(crate) fn spring(k: f64, x: f64, rest: f64, n: usize) -> f64 {
            let mut stretch = x - rest;
            stretch *= n as f64;
            let energy = 0.5 * k * stretch.powi(2);
            return energy;
        }
    };
    let args = quote!(wrt(x));
    expect_file!["../snapshots/wrt_constants_and_reassignment.rs"]
        .assert_eq(&expand_pretty(args, item));
}

#[test]
fn snapshot_local_closures_inlined() {
    let item = quote! {
        fn warped(p: [f64; 3], k: f64) -> f64 {
            let w = |x: f64| 1.0 + (x - 1.0) / 4.0;
            let scale = |v| k * v;
            let squares: f64 = p.iter().copied().map(w).map(|v| v * v).sum();
            scale(w(p[0])) + w(p[1]) * squares
        }
    };
    expect_file!["../snapshots/local_closures_inlined.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_composition_and_two_input_methods() {
    let item = quote! {
        fn polar(x: f32, y: f32) -> f32 {
            let r = f32::hypot(x, y);
            let theta = y.atan2(x);
            shapes::wobble(r, theta) + r.max(1.0)
        }
    };
    expect_file!["../snapshots/composition_and_two_input_methods.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_match_on_consts_and_a_tuple_parameter() {
    let item = quote! {
        fn loss(target: (f64, f64), x: f64, mode: u8) -> f64 {
            let (tx, ty) = target;
            match mode {
                L2 => (x - tx) * (x - tx),
                L1 => (x - ty).abs(),
                _ => 0.0,
            }
        }
    };
    expect_file!["../snapshots/match_on_consts_and_a_tuple_parameter.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_slice_recurrence_on_a_heap_tape() {
    let item = quote! {
        fn recur(a: f64, xs: &[f64]) -> f64 {
            let mut y = 0.0;
            for &x in xs {
                y = (a * y).sin() + x;
            }
            y
        }
    };
    expect_file!["../snapshots/slice_recurrence_on_a_heap_tape.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_constant_calls_and_macros() {
    // `lookup` is plain Rust with no `_vjp`; the forward sweep calls it once per use, and the
    // reverse sweep reads the loop's values from its tape and the branch's from its export.
    let item = quote! {
        fn attenuate(x: f64, n: usize) -> f64 {
            assert!(x > 0.0, "x = {x}");
            let mut s = x * lookup(n);
            for i in 0..n {
                let w = lookup(i);
                s = (s * w).sin();
                if i % 2 == 0 {
                    s = s * lookup(i + 1);
                    println!("{i}: {s:.3}");
                }
            }
            dbg!(s)
        }
    };
    expect_file!["../snapshots/constant_calls_and_macros.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_sub_slice_read_in_place() {
    let item = quote! {
        fn interior(x: &[f64], k: f64) -> f64 {
            let n = x.len();
            let inner = &x[1..n - 1];
            k * inner.iter().map(|v| v * v).sum::<f64>()
        }
    };
    expect_file!["../snapshots/sub_slice_read_in_place.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_alias_return_type() {
    // `-> Vec3`: the array literal gives the shape; the float type is left to rustc.
    let item = quote! {
        fn sub(a: Vec3, b: Vec3) -> Vec3 {
            [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
        }
    };
    expect_file!["../snapshots/alias_return_type.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_iter_mut_and_branches_of_arrays() {
    // `iter_mut()` loops are element writes; the `if` of two arrays merges element by element.
    let item = quote! {
        fn shaped(x: [f64; 2], eps: f64) -> [f64; 2] {
            let mut out = [0.0; 2];
            for (o, &xi) in out.iter_mut().zip(x.iter()) {
                *o = xi * xi;
            }
            let d = out[0] + out[1];
            if d <= eps { [0.0, 0.0] } else { [out[0] / d, out[1] / d] }
        }
    };
    expect_file!["../snapshots/iter_mut_and_branches_of_arrays.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_windows_as_views() {
    let item = quote! {
        fn roughness(xs: &[f64]) -> f64 {
            xs.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>()
        }
    };
    expect_file!["../snapshots/windows_as_views.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_whole_array_assignment_in_a_loop() {
    let item = quote! {
        fn integrate(x0: f64, k: f64) -> f64 {
            let mut state = [x0, 0.0];
            for _ in 0..10 {
                state = step(state, k);
            }
            state = [state[1], state[0]];
            state[0] + state[1]
        }
    };
    expect_file!["../snapshots/whole_array_assignment_in_a_loop.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_patterns_of_data_on_constants() {
    let item = quote! {
        fn penalty(x: [f64; 2], c: Constraint, w: Option<f64>) -> f64 {
            let gap = match c {
                Constraint::Lower(i, lo) => lo - x[i],
                Constraint::Free => 0.0,
            };
            let Some(scale) = w else { return x[0] };
            if let Some(bias) = w { scale * gap * gap + bias * x[1] } else { 0.0 }
        }
    };
    expect_file!["../snapshots/patterns_of_data_on_constants.rs"]
        .assert_eq(&expand_pretty(quote!(wrt(x)), item));
}

#[test]
fn snapshot_error_keeps_the_function_and_stubs_the_companions() {
    let item = quote! {
        fn f(x: f64) -> f64 {
            let y = x.rem_euclid(1.0);
            y * y
        }
    };
    expect_file!["../snapshots/error_fallback.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn dead_code_is_not_computed() {
    let item = quote! {
        fn f(x: f64, y: f64) -> f64 {
            let unused = (x * y).sin().exp();
            let kept = x * 3.0;
            kept
        }
    };
    let expanded = expand_pretty(quote!(), item);
    let core = expanded.split("fn f_grad").next().unwrap_or_default();
    let core = core
        .split("fn __f_value_and_vjp")
        .nth(1)
        .unwrap_or_default();
    assert!(!core.contains("sin"), "{core}");
    // y has no adjoint: its entry stays the typed zero that `f_grad` hands the core.
    assert!(!core.contains(".1 ="), "{core}");
    let grad = expanded.split("fn f_grad").nth(1).unwrap_or_default();
    assert!(
        grad.contains("0.0_f64"),
        "y's gradient is a typed zero: {grad}"
    );
}

#[test]
fn a_non_function_item_is_kept_with_an_error() {
    let item = quote!(
        struct S;
    );
    let expanded = differentiable(quote!(), item).to_string();
    expect![[r##"struct S ; :: core :: compile_error ! { "#[differentiable] applies to functions, impl blocks and inline modules, not to a struct: put it on a `fn` with a body" }"##]]
        .assert_eq(&expanded);
}

#[test]
fn a_block_takes_hessian_and_graph_alone_or_together() {
    let module = quote!(
        mod m {
            pub fn f(x: f64) -> f64 {
                x * x
            }
        }
    );
    for (args, graph, hessian) in [
        (quote!(), false, false),
        (quote!(graph), true, false),
        (quote!(hessian), false, true),
        (quote!(hessian, graph), true, true),
        (quote!(graph, hessian,), true, true),
    ] {
        let expanded = differentiable(args.clone(), module.clone()).to_string();
        assert!(!expanded.contains("compile_error"), "{args}: {expanded}");
        assert_eq!(expanded.contains("fn f_graph"), graph, "{args}: {expanded}");
        assert_eq!(
            expanded.contains("fn f_hessian"),
            hessian,
            "{args}: {expanded}"
        );
    }
    // An impl block inside the module has the module's options; an inner module adds its own.
    let nested = quote!(
        mod m {
            pub struct S;
            impl S {
                pub fn g(&self, x: f64) -> f64 {
                    x * x
                }
            }
            #[differentiable(graph)]
            pub mod inner {
                pub fn h(x: f64) -> f64 {
                    x * x
                }
            }
        }
    );
    let expanded = differentiable(quote!(hessian), nested).to_string();
    assert!(expanded.contains("fn g_hessian") && !expanded.contains("fn g_graph"));
    assert!(expanded.contains("fn h_hessian") && expanded.contains("fn h_graph"));
}

#[test]
fn a_block_refuses_other_arguments_and_a_repeated_one() {
    let block = quote!(
        impl S {
            pub fn f(&self, x: f64) -> f64 {
                x * x
            }
        }
    );
    for args in [
        quote!(wrt(x)),
        quote!(graph, wrt(x)),
        quote!(jacobian),
        quote!(graph = 1),
    ] {
        let expanded = differentiable(args.clone(), block.clone()).to_string();
        assert!(
            expanded.contains("on an impl block takes no arguments but `hessian` and `graph`: put `#[differentiable(wrt(..))]` on the function it is for, inside"),
            "{args}: {expanded}"
        );
    }
    let expanded = differentiable(quote!(graph, hessian, graph), block).to_string();
    assert!(expanded.contains("`graph` is given twice"), "{expanded}");
    assert!(expanded.contains("fn f_graph") && expanded.contains("fn f_hessian"));
}

#[test]
fn garbage_input_gives_an_error_not_a_panic() {
    for item in [
        quote!(),
        quote!(fn),
        quote!(
            fn f(x: f64) -> f64;
        ),
        quote!(+ - *),
    ] {
        let expanded = differentiable(quote!(), item).to_string();
        assert!(expanded.contains("compile_error"), "{expanded}");
    }
    for args in [quote!(wrt), quote!(wrt = 3), quote!(wrt(1)), quote!(,)] {
        let expanded = differentiable(
            args,
            quote!(
                fn f(x: f64) -> f64 {
                    x
                }
            ),
        )
        .to_string();
        assert!(expanded.contains("compile_error"), "{expanded}");
    }
}

#[test]
fn snapshot_if_else() {
    let item = quote! {
        fn piecewise(x: f64, y: f64) -> f64 {
            let mut z = x * y;
            if x > 0.0 {
                z = z.sin();
            } else {
                z = -z * y;
            }
            z + x
        }
    };
    expect_file!["../snapshots/if_else.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_accumulation_loop_records_nothing() {
    let item = quote! {
        fn series(x: f64, n: usize) -> f64 {
            let mut s = 0.0;
            for i in 0..n {
                s += (x * i as f64).sin();
            }
            s
        }
    };
    expect_file!["../snapshots/accumulation_loop.rs"].assert_eq(&expand_pretty(quote!(), item));
}

/// A sum of maps over a zip: the reverse runs forwards and fills `w`'s gradient in order (a
/// prefix as long as the shorter slice, zeros after it), with `x`'s added inside the fill.
#[test]
fn snapshot_sum_of_map_fills_the_gradient() {
    let item = quote! {
        fn weighted_sines(w: &[f64], x: &[f64]) -> f64 {
            w.iter().zip(x).map(|(a, b)| a * b.sin()).sum()
        }
    };
    expect_file!["../snapshots/sum_of_map_filled.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_recurrence_records_the_carried_value() {
    let item = quote! {
        fn power_tower(x: f64) -> f64 {
            let mut y = x;
            for _ in 0..8 {
                y = (y * x).sin();
            }
            y
        }
    };
    expect_file!["../snapshots/recurrence_loop.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_running_maximum_records_two_iterations() {
    let item = quote! {
        fn log_sum_exp<const N: usize>(z: [f64; N]) -> f64 {
            let mut m = z[0];
            for i in 1..N {
                m = m.max(z[i]);
            }
            let mut s = 0.0;
            for i in 0..N {
                s += (z[i] - m).exp();
            }
            s.ln() + m
        }
    };
    expect_file!["../snapshots/running_maximum.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_while_with_break() {
    let item = quote! {
        fn bisect(x: f64, tolerance: f64) -> f64 {
            let mut y = x;
            let mut steps = 0;
            while y > tolerance {
                y = y * 0.5 + 0.01 * x;
                steps += 1;
                if steps > 50 {
                    break;
                }
            }
            y
        }
    };
    expect_file!["../snapshots/while_with_break.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_array_fill_and_in_place_update() {
    let item = quote! {
        fn layer(w: [[f64; 3]; 2], x: [f64; 3], s: f64) -> [f64; 2] {
            let mut z = [0.0; 2];
            for i in 0..2 {
                for j in 0..3 {
                    z[i] += w[i][j] * x[j];
                }
                z[i] *= s;
            }
            z
        }
    };
    expect_file!["../snapshots/array_layer.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn an_elementwise_function_gets_a_diagonal_jacobian_from_one_vjp() {
    let elementwise = quote! {
        fn f(x: [f64; 4]) -> [f64; 4] {
            let mut y = x;
            for i in 0..4 {
                y[i] = x[i].sin() * x[i];
            }
            y
        }
    };
    let coupled = quote! {
        fn g(x: [f64; 4]) -> [f64; 4] {
            let mut y = x;
            for i in 0..4 {
                y[i] = x[i].sin() * x[0];
            }
            y
        }
    };
    let one_vjp = "[1.0_f64; 4]";
    assert!(expand_pretty(quote!(), elementwise).contains(one_vjp));
    assert!(!expand_pretty(quote!(), coupled).contains(one_vjp));
}

mod never_panics {
    //! Mutated functions and attribute arguments go through the expansion: each must give
    //! code or `compile_error!`, never a panic.

    use super::differentiable;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestRunner};
    use std::str::FromStr;

    const SEEDS: &[&str] = &[
        "fn f(x: f64, y: f64, z: f64) -> f64 { (x + y) * z }",
        "fn g(x: f64, n: usize) -> f64 { let mut s = 0.0; for i in 0..n { if i % 2 == 0 { s += x.powi(i as i32); } else { continue; } } s }",
        "fn h<const N: usize>(w: [[f64; N]; 2], x: [f64; N]) -> [f64; 2] { let mut z = [0.0; 2]; for i in 0..2 { z[i] = x.iter().zip(w[i].iter()).map(|(a, b)| a * b).sum::<f64>(); } z }",
        "fn k<T: grad::Float>(x: T, y: T) -> T { let t = loop { if x > y { break x; } return y * 2.0; }; match 3 { 0 => t, 1..=2 => -t, _ => t.sin() } }",
        "fn m(x: &[f64], a: f64) -> (f64, f64) { let mut s = a; let mut k = 0; while k < x.len() { s = s.max(x[k]); k += 1; } (s, s * a) }",
    ];
    const VOCABULARY: &[&str] = &[
        "x", "y", "0", "1.5", "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}", ";", ",", ".",
        "let", "mut", "if", "else", "for", "in", "while", "loop", "break", "continue", "return",
        "match", "=>", "..", "..=", "&", "&&", "||", "!", "=", "+=", "sin", "f64", "f32", "usize",
        "::", "<", ">", "'a", "unsafe", "async", "move", "|", "self", "Self", "const", "_", "as",
        "println!", "?",
    ];

    fn mutate(source: &str, edits: &[(usize, usize, usize)]) -> String {
        let mut words: Vec<String> = source
            .split_inclusive(|c: char| !c.is_alphanumeric() && c != '_')
            .map(str::to_owned)
            .collect();
        for &(kind, at, pick) in edits {
            if words.is_empty() {
                break;
            }
            let at = at % words.len();
            match kind % 4 {
                0 => {
                    words.remove(at);
                }
                1 => words.insert(at, format!(" {} ", VOCABULARY[pick % VOCABULARY.len()])),
                2 => {
                    let other = pick % words.len();
                    words.swap(at, other);
                }
                _ => {
                    let copy = words[pick % words.len()].clone();
                    words.insert(at, copy);
                }
            }
        }
        words.concat()
    }

    #[test]
    fn mutated_functions_give_code_or_errors() {
        let config = Config {
            cases: 3000,
            rng_algorithm: RngAlgorithm::ChaCha,
            rng_seed: RngSeed::Fixed(0x6772_6164),
            failure_persistence: None,
            ..Config::default()
        };
        let strategy = (
            0..SEEDS.len(),
            prop::collection::vec((0..4usize, 0..400usize, 0..400usize), 1..6),
            0..4usize,
        );
        TestRunner::new(config)
            .run(&strategy, |(seed, edits, args)| {
                let source = mutate(SEEDS[seed], &edits);
                let Ok(item) = proc_macro2::TokenStream::from_str(&source) else {
                    return Ok(());
                };
                let args = ["", "wrt(x)", "wrt(x, y, nope)", "wrt(", "order = 2"][args];
                let args = proc_macro2::TokenStream::from_str(args).unwrap_or_default();
                let checked = check_expansion(args, item);
                prop_assert!(checked.is_ok(), "{}:\n{source}", checked.unwrap_err());
                Ok(())
            })
            .unwrap();
    }

    /// The expansion of `item` must not panic, and must be a valid file when `item` is a valid
    /// item (code, or the item beside `compile_error!`).
    fn check_expansion(
        args: proc_macro2::TokenStream,
        item: proc_macro2::TokenStream,
    ) -> Result<(), String> {
        let item_parses = syn::parse2::<syn::Item>(item.clone()).is_ok();
        let expanded = std::panic::catch_unwind(|| differentiable(args, item))
            .map_err(|_| "the expansion panicked".to_owned())?;
        if item_parses {
            syn::parse2::<syn::File>(expanded)
                .map_err(|error| format!("the expansion is not a valid file ({error})"))?;
        }
        Ok(())
    }

    /// Every function expanded without errors has a picture, and the picture holds together.
    fn check_pictures(args: &str, item: proc_macro2::TokenStream) -> Result<(), String> {
        let args = proc_macro2::TokenStream::from_str(args).unwrap_or_default();
        let expanded = std::panic::catch_unwind(|| differentiable(args, item))
            .map_err(|_| "the expansion panicked".to_owned())?;
        let Ok(file) = syn::parse2::<syn::File>(expanded.clone()) else {
            return Ok(());
        };
        let pictures = super::pictures_in(&file);
        if pictures.is_empty() && !expanded.to_string().contains("compile_error") {
            return Err("no picture".to_owned());
        }
        pictures.iter().try_for_each(|text| {
            super::check_picture(text).map_err(|error| format!("{error}:\n{text}"))
        })
    }

    #[test]
    fn mutated_functions_give_valid_pictures() {
        let config = Config {
            cases: 1500,
            rng_algorithm: RngAlgorithm::ChaCha,
            rng_seed: RngSeed::Fixed(0x0064_6f74),
            failure_persistence: None,
            ..Config::default()
        };
        let strategy = (
            0..SEEDS.len(),
            prop::collection::vec((0..4usize, 0..400usize, 0..400usize), 0..4),
            0..2usize,
        );
        TestRunner::new(config)
            .run(&strategy, |(seed, edits, args)| {
                let source = mutate(SEEDS[seed], &edits);
                let Ok(item) = proc_macro2::TokenStream::from_str(&source) else {
                    return Ok(());
                };
                let args = ["graph", "wrt(x), graph"][args];
                let checked = check_pictures(args, item);
                prop_assert!(checked.is_ok(), "{}:\n{source}", checked.unwrap_err());
                Ok(())
            })
            .unwrap();
    }

    /// The committed seed corpus of the cargo-fuzz target (`fuzz/`), and whatever it found,
    /// replayed on every test run: the first line of each file is the attribute's arguments.
    #[test]
    fn the_fuzz_corpus_gives_code_or_errors() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/expand");
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/expand is committed") {
            let path = entry.expect("a corpus entry").path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let (args, item) = text.split_once('\n').unwrap_or(("", &text));
            let (Ok(args), Ok(item)) = (
                proc_macro2::TokenStream::from_str(args),
                proc_macro2::TokenStream::from_str(item),
            ) else {
                continue;
            };
            if let Err(message) = check_expansion(args.clone(), item.clone()) {
                panic!("{message}: {}\n{text}", path.display());
            }
            let with_graph = match args.is_empty() {
                true => "graph".to_owned(),
                false => format!("{args}, graph"),
            };
            if let Err(message) = check_pictures(&with_graph, item) {
                panic!("{message}: {}\n{text}", path.display());
            }
            count += 1;
        }
        assert!(
            count >= 100,
            "only {count} corpus entries in {}",
            dir.display()
        );
    }
}

#[test]
fn two_elementwise_inputs_get_the_full_jacobian() {
    let item = quote! {
        fn f(x: [f64; 4], y: [f64; 4]) -> [f64; 4] {
            let mut z = x;
            for i in 0..4 {
                z[i] = x[i] * y[i];
            }
            z
        }
    };
    let expanded = expand_pretty(quote!(), item);
    assert!(!expanded.contains("[1.0_f64; 4]"), "{expanded}");
}

#[test]
fn snapshot_impl_block_with_methods() {
    // An impl block: the float methods get cores and companions of their own in the same
    // impl (`self` a constant input), `self.x(..)` is derived through `self.x_vjp(..)`, and
    // `new` is left as written.
    let item = quote! {
        impl Arm {
            pub fn new(l1: f64, l2: f64) -> Self {
                Arm { l1, l2 }
            }
            pub fn x(&self, q1: f64, q2: f64) -> f64 {
                self.l1 * q1.cos() + self.l2 * (q1 + q2).cos()
            }
            pub fn cost(&self, q1: f64, q2: f64, target: f64) -> f64 {
                let d = self.x(q1, q2) - target;
                d * d
            }
        }
    };
    expect_file!["../snapshots/impl_block_with_methods.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_tuple_returned_by_a_call() {
    // `let (x, y) = polar(r, t);`: the tuple is spread into an array, and `polar_vjp` takes
    // the elements' adjoints as a tuple.
    let item = quote! {
        fn cost(r: f64, t: f64, px: f64) -> f64 {
            let (x, y) = polar(r, t);
            (x - px) * (x - px) + y * y
        }
    };
    expect_file!["../snapshots/tuple_returned_by_a_call.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_module_with_a_closure_helper() {
    // A module: `euler` takes a closure, so it is left as written and inlined where it is
    // called, with the caller's closure; `position` gets companions.
    let item = quote! {
        mod sim {
            pub fn euler<F: Fn(f64) -> f64>(f: F, x: f64, h: f64) -> f64 {
                x + h * f(x)
            }
            pub fn position(k: f64, x0: f64) -> f64 {
                let mut x = x0;
                for _ in 0..3 {
                    x = euler(|s| -k * s, x, 0.1);
                }
                x
            }
        }
    };
    expect_file!["../snapshots/module_with_a_closure_helper.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_struct_parameter() {
    // `p` named in `wrt`: its float field `p.b` and its indexed array field `p.w` are
    // differentiated, their adjoints added to the same fields of `p`'s gradient entry, which
    // starts as `zeros_like(&p)`; `p.n` is read as written.
    let item = quote! {
        fn neuron(p: &Params, x: [f64; 2]) -> f64 {
            let z = p.w[0] * x[0] + p.w[1] * x[1] + p.b;
            z.tanh() * p.n as f64
        }
    };
    expect_file!["../snapshots/struct_parameter.rs"]
        .assert_eq(&expand_pretty(quote!(wrt(p, x)), item));
}

#[test]
fn snapshot_derive_differentiable() {
    let item = quote! {
        struct Params<T> {
            w: [T; 2],
            b: T,
            n: usize,
            inner: Inner,
        }
    };
    let output = crate::derive::derive_differentiable(item);
    let pretty = prettyplease::unparse(&syn::parse2::<syn::File>(output).expect("items"));
    expect_file!["../snapshots/derive_differentiable.rs"].assert_eq(&pretty);
}

#[test]
fn snapshot_nalgebra_parameters() {
    // nalgebra values are arrays to the core (a matrix its rows); the companions convert the
    // parameters in and the gradient entries out.
    let item = quote! {
        fn quad(m: &Matrix2<f64>, v: Vector2<f64>) -> f64 {
            let w = m * v;
            v.dot(&w) + w.norm()
        }
    };
    expect_file!["../snapshots/nalgebra_parameters.rs"].assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_nalgebra_vector_output() {
    // A nalgebra vector output: the core returns an array; `f_vjp` converts the upstream
    // vector, and `f_jacobian` unrolls one vjp per output into a matrix.
    let item = quote! {
        fn rotate(v: Vector2<f64>, angle: f64) -> Vector2<f64> {
            let (c, s) = (angle.cos(), angle.sin());
            Matrix2::new(c, -s, s, c) * v
        }
    };
    expect_file!["../snapshots/nalgebra_vector_output.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_nalgebra_matrix_output() {
    // A nalgebra matrix output: the core returns its rows, `f_vjp` converts the upstream
    // matrix, and `f_jacobian` unrolls one vjp per element. `map` applies its closure to each
    // element in place: no closure and no nalgebra value remain in the core.
    let item = quote! {
        fn scaled_rotation(angle: f64, k: f64) -> Matrix2<f64> {
            let (s, c) = angle.sin_cos();
            Matrix2::new(c, -s, s, c).map(|e| e * k)
        }
    };
    expect_file!["../snapshots/nalgebra_matrix_output.rs"]
        .assert_eq(&expand_pretty(quote!(), item));
}

#[test]
fn snapshot_forward_mode() {
    // `f_jvp`: the primal code with each active value's tangent right after it, a loop
    // carrying a tangent beside its value and a branch merging both; no tape, no adjoint.
    // With `hessian`: the tangent function `damped_tangent`, its own expansion (in the
    // parameters and the tangents), and `damped_hvp` and `damped_hessian` over its gradient.
    let item = quote! {
        fn damped(x: f64, k: f64, n: usize) -> f64 {
            let mut y = x;
            for i in 0..n {
                y = if y > 0.0 { (y * k).sin() } else { y * y - k };
            }
            y / (1.0 + x * x)
        }
    };
    expect_file!["../snapshots/forward_mode.rs"].assert_eq(&expand_pretty(quote!(hessian), item));
}

#[test]
fn snapshot_jacobian_by_columns() {
    // Three input elements and eight outputs: `f_jacobian` runs the forward core once per
    // input element, with that element's unit tangent, instead of the reverse core once per
    // output; with a const generic length the choice is a constant `if`.
    let sampled = quote! {
        fn sampled(t: f64, w: [f64; 2]) -> [f64; 8] {
            let mut out = [0.0; 8];
            for (i, o) in out.iter_mut().enumerate() {
                *o = (t * i as f64).sin() * w[0] + w[1] * t;
            }
            out
        }
    };
    let spread = quote! {
        fn spread<const M: usize>(a: f64) -> [f64; M] {
            [a.sin(); M]
        }
    };
    let both = format!(
        "{}\n{}",
        expand_pretty(quote!(), sampled),
        expand_pretty(quote!(), spread)
    );
    expect_file!["../snapshots/jacobian_by_columns.rs"].assert_eq(&both);
}

#[test]
fn snapshot_struct_result() {
    // `-> Polar` ending in a struct literal: a vector output whose upstream is a `Polar`;
    // the Jacobian seeds one float field at a time, from the function's value.
    let item = quote! {
        fn to_polar(x: f64, y: f64) -> Polar {
            Polar { r: (x * x + y * y).sqrt(), theta: y.atan2(x), quadrant: 1 }
        }
    };
    expect_file!["../snapshots/struct_result.rs"].assert_eq(&expand_pretty(quote!(), item));
}

/// The DOT text that the expansion's `<name>_graph()` returns.
fn graph_picture(args: TokenStream, item: TokenStream) -> String {
    let file: syn::File = syn::parse2(differentiable(args, item)).expect("the expansion parses");
    pictures_in(&file)
        .pop()
        .expect("a `_graph` companion returning a string literal")
}

/// The strings that the `_graph` companions of an expansion return, in impl blocks and
/// modules too.
fn pictures_in(file: &syn::File) -> Vec<String> {
    struct Pictures(Vec<String>);
    impl Pictures {
        fn add(&mut self, sig: &syn::Signature, block: &syn::Block) {
            if let (true, Some(syn::Stmt::Expr(syn::Expr::Lit(literal), None))) = (
                sig.ident.to_string().ends_with("_graph"),
                block.stmts.first(),
            ) && let syn::Lit::Str(text) = &literal.lit
            {
                self.0.push(text.value());
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Pictures {
        fn visit_item_fn(&mut self, function: &'ast syn::ItemFn) {
            self.add(&function.sig, &function.block);
        }
        fn visit_impl_item_fn(&mut self, function: &'ast syn::ImplItemFn) {
            self.add(&function.sig, &function.block);
        }
    }
    let mut pictures = Pictures(Vec::new());
    syn::visit::Visit::visit_file(&mut pictures, file);
    pictures.0
}

/// The DOT text holds together: braces balance outside labels, and every edge joins
/// declared nodes.
fn check_picture(text: &str) -> Result<(), String> {
    if !text.starts_with("digraph ") {
        return Err("it does not start with `digraph`".to_owned());
    }
    let (mut depth, mut in_label, mut escaped) = (0i64, false, false);
    for c in text.chars() {
        match (in_label, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => in_label = !in_label,
            (false, _, '{') => depth += 1,
            (false, _, '}') => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return Err("a `}` closes nothing".to_owned());
        }
    }
    if depth != 0 || in_label {
        return Err(format!("unbalanced: depth {depth}, in a label: {in_label}"));
    }
    let mut declared = std::collections::HashSet::new();
    let mut edges = Vec::new();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            [from, "->", to, ..] => edges.push((*from, to.trim_end_matches(';'))),
            [id, attributes, ..] if attributes.starts_with("[label=") => {
                declared.insert(*id);
            }
            _ => {}
        }
    }
    match edges
        .iter()
        .find(|(from, to)| !declared.contains(from) || !declared.contains(to))
    {
        Some((from, to)) => Err(format!("the edge {from} -> {to} has an undeclared end")),
        None => Ok(()),
    }
}

#[test]
fn snapshot_graph_picture() {
    // `graph`: `damped_graph()` returns the DOT text, shown after the expansion as it reads.
    let item = quote! {
        pub fn damped(x: f64, k: f64) -> f64 {
            let mut y = x;
            for _ in 0..3 {
                y = (k * y).sin();
            }
            if y > 0.0 { y } else { -y }
        }
    };
    let args = quote!(wrt(x), graph);
    let picture: String = graph_picture(args.clone(), item.clone())
        .lines()
        .map(|line| format!("// {line}\n"))
        .collect();
    let both = format!(
        "{}\n// damped_graph() returns:\n{picture}",
        expand_pretty(args, item)
    );
    expect_file!["../snapshots/graph_picture.rs"].assert_eq(&both);
}

#[test]
fn graph_labels_escape_quotes_and_backslashes() {
    let item = quote! {
        fn tagged(x: f64) -> f64 {
            assert!(x > 0.0, "q\"\\");
            x * x
        }
    };
    let picture = graph_picture(quote!(graph), item);
    assert!(
        picture.contains(r#"[label="assert!(x > 0.0, \"q\\\"\\\\\")", style=dashed"#),
        "{picture}"
    );
}

#[test]
fn graph_is_an_argument_given_once() {
    let item = quote! {
        fn f(x: f64) -> f64 {
            x * x
        }
    };
    let twice = differentiable(quote!(graph, graph), item.clone()).to_string();
    assert!(twice.contains("`graph` is given twice"), "{twice}");
    // An error leaves a stub behind, so that call sites add nothing to it.
    assert!(twice.contains("fn f_graph"), "{twice}");
    let without = differentiable(quote!(), item).to_string();
    assert!(!without.contains("f_graph"), "{without}");
}
