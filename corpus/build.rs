//! Builds the corpus from published sources, at build time.
//!
//! For every source file named in `corpus.txt` this script finds the crate's source in the
//! cargo registry (the version this crate depends on, through `cargo metadata`), splits the file
//! into its top-level items, and writes a module to `OUT_DIR` with
//!
//! - the file's `use` items (a leading `crate::` becomes the crate's name) and its `const` and
//!   `static` items: the context the functions were written in;
//! - each selected function, byte for byte as published, with `#[grad::differentiable]` in
//!   front: nothing else is changed;
//! - `__cases()`, the checks of the module's functions (generated here from their signatures).
//!
//! `all.rs` holds every candidate, for `tests/corpus.rs`, which compiles them as a crate of their
//! own to learn which compile; `corpus.rs` holds the ones `status.tsv` records as compiling,
//! for this crate. `all_lines.tsv` says which lines of `all.rs` each function occupies, so that
//! a compile error can be charged to its function.

use quote::ToTokens;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Krate {
    name: String,
    version: String,
    licence: String,
}

struct FileSpec {
    krate: usize,
    path: String,
    module: String,
    fns: Vec<FnSpec>,
}

#[derive(Clone)]
struct FnSpec {
    name: String,
    helper: bool,
    /// Called by the others with constants only (ezing's `lit`, which converts an `f64`): copied
    /// as written, without the attribute, like the file's imports and constants.
    context: bool,
    n: usize,
    lo: f64,
    hi: f64,
    args: HashMap<usize, String>,
}

fn parse_spec(text: &str) -> (Vec<Krate>, Vec<FileSpec>) {
    let mut krates = Vec::new();
    let mut files: Vec<FileSpec> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "crate" => krates.push(Krate {
                name: words[1].to_string(),
                version: words[2].to_string(),
                licence: words[3..].join(" "),
            }),
            "file" => files.push(FileSpec {
                krate: krates.len() - 1,
                path: words[1].to_string(),
                module: words[2].to_string(),
                fns: Vec::new(),
            }),
            "fn" | "helper" | "context" => {
                let mut spec = FnSpec {
                    name: words[1].to_string(),
                    helper: words[0] == "helper",
                    context: words[0] == "context",
                    n: 3,
                    lo: -2.0,
                    hi: 2.0,
                    args: HashMap::new(),
                };
                for option in &words[2..] {
                    let (key, value) = option
                        .split_once('=')
                        .unwrap_or_else(|| panic!("corpus.txt:{}: option {option}", i + 1));
                    match key {
                        "n" => spec.n = value.parse().unwrap(),
                        "lo" => spec.lo = value.parse().unwrap(),
                        "hi" => spec.hi = value.parse().unwrap(),
                        _ => {
                            let k = key
                                .strip_prefix("arg")
                                .and_then(|k| k.parse().ok())
                                .unwrap_or_else(|| panic!("corpus.txt:{}: {key}", i + 1));
                            spec.args.insert(k, value.to_string());
                        }
                    }
                }
                files.last_mut().expect("fn before file").fns.push(spec);
            }
            other => panic!("corpus.txt:{}: unknown line kind {other}", i + 1),
        }
    }
    (krates, files)
}

/// Where each dependency's source is: `cargo metadata`, or the registry's folders.
fn source_dirs(manifest_dir: &Path, krates: &[Krate]) -> HashMap<String, PathBuf> {
    let mut dirs = HashMap::new();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(manifest_dir)
        .output();
    if let Ok(output) = output
        && output.status.success()
    {
        let json: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
        for package in json["packages"].as_array().into_iter().flatten() {
            let name = package["name"].as_str().unwrap_or_default();
            let version = package["version"].as_str().unwrap_or_default();
            if krates
                .iter()
                .any(|k| k.name == name && k.version == version)
            {
                let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap());
                dirs.insert(name.to_string(), manifest.parent().unwrap().to_path_buf());
            }
        }
    }
    // Without cargo metadata, look in the registry's source folders.
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    for k in krates {
        if dirs.contains_key(&k.name) {
            continue;
        }
        let folder = format!("{}-{}", k.name, k.version);
        if let Ok(registries) = std::fs::read_dir(home.join("registry").join("src")) {
            for registry in registries.flatten() {
                let dir = registry.path().join(&folder);
                if dir.join("Cargo.toml").exists() {
                    dirs.insert(k.name.clone(), dir);
                }
            }
        }
    }
    for k in krates {
        assert!(
            dirs.contains_key(&k.name),
            "the source of {} {} is not in the cargo registry: run `cargo fetch`",
            k.name,
            k.version
        );
    }
    dirs
}

/// Splits a source file into its top-level items, each with the comments before it: byte ranges
/// that cover the file, each of which parses as exactly one item.
fn items(src: &str) -> Vec<(std::ops::Range<usize>, syn::Item)> {
    let b = src.as_bytes();
    let mut cuts = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut level = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        level += 1;
                        i += 1;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        level -= 1;
                        i += 1;
                        if level == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) == Some(&b'"') {
                    let close: Vec<u8> = std::iter::once(b'"')
                        .chain(std::iter::repeat_n(b'#', hashes))
                        .collect();
                    j += 1;
                    while j < b.len() && !b[j..].starts_with(&close) {
                        j += 1;
                    }
                    i = j + close.len() - 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'\'' => {
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                } else {
                    // 'x' (one character, perhaps several bytes) or a lifetime.
                    let rest = &src[i + 1..];
                    let mut chars = rest.char_indices();
                    if let (Some((_, _)), Some((at, '\''))) = (chars.next(), chars.next()) {
                        i += 1 + at;
                    }
                }
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    cuts.push(i + 1);
                }
            }
            b';' if depth == 0 => cuts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in &cuts {
        let text = &src[start..cut];
        if let Ok(file) = syn::parse_file(text) {
            if file.items.len() == 1 {
                out.push((start..cut, file.items.into_iter().next().unwrap()));
                start = cut;
            } else if file.items.len() > 1 {
                panic!("items split wrongly at byte {start}");
            }
        }
    }
    out
}

/// The source text of an item without the file's inner comments and attributes before it.
fn item_text(src: &str) -> &str {
    let mut at = 0;
    for line in src.split_inclusive('\n') {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with("//!") || t.starts_with("#![") {
            at += line.len();
        } else {
            break;
        }
    }
    &src[at..]
}

/// `crate::x` in a `use` of the published crate means `name::x` here.
struct Reroot(String);

impl syn::visit_mut::VisitMut for Reroot {
    fn visit_item_use_mut(&mut self, item: &mut syn::ItemUse) {
        if let syn::UseTree::Path(path) = &mut item.tree
            && path.ident == "crate"
        {
            path.ident = syn::Ident::new(&self.0, path.ident.span());
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Scalar,
    Slice,
    Array(usize),
    ArrayRef(usize),
    Fixed,
}

#[derive(Clone, Copy, PartialEq)]
enum Output {
    Scalar,
    Array(usize),
    Other,
}

struct Signature {
    /// Type parameters and const parameters, in order, as `T` or `const N`.
    generics: Vec<(String, bool)>,
    params: Vec<Shape>,
    output: Output,
    /// Every float parameter is of a generic type, so the function runs on dual numbers.
    dual: bool,
}

fn array_len(len: &syn::Expr, generics: &[(String, bool)], n: usize) -> usize {
    match len {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().unwrap(),
        syn::Expr::Path(p) if generics.iter().any(|(g, c)| *c && p.path.is_ident(g)) => n,
        _ => 0,
    }
}

fn signature(item: &syn::ItemFn, spec: &FnSpec) -> Signature {
    let generics: Vec<(String, bool)> = item
        .sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some((t.ident.to_string(), false)),
            syn::GenericParam::Const(c) => Some((c.ident.to_string(), true)),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect();
    let float = |ty: &syn::Type| -> Option<bool> {
        if let syn::Type::Path(p) = ty {
            if p.path.is_ident("f64") {
                return Some(false);
            }
            if generics.iter().any(|(g, c)| !*c && p.path.is_ident(g)) {
                return Some(true);
            }
        }
        None
    };
    let mut dual = !generics.is_empty();
    let mut params = Vec::new();
    for (k, input) in item.sig.inputs.iter().enumerate() {
        let syn::FnArg::Typed(pat) = input else {
            params.push(Shape::Fixed);
            continue;
        };
        if spec.args.contains_key(&k) {
            params.push(Shape::Fixed);
            continue;
        }
        let (shape, generic) = match &*pat.ty {
            syn::Type::Reference(r) => match &*r.elem {
                syn::Type::Slice(s) => (Shape::Slice, float(&s.elem)),
                syn::Type::Array(a) => (
                    Shape::ArrayRef(array_len(&a.len, &generics, spec.n)),
                    float(&a.elem),
                ),
                _ => (Shape::Fixed, None),
            },
            syn::Type::Array(a) => (
                Shape::Array(array_len(&a.len, &generics, spec.n)),
                float(&a.elem),
            ),
            ty => (Shape::Scalar, float(ty)),
        };
        match generic {
            Some(g) => {
                dual &= g;
                params.push(shape);
            }
            None => params.push(Shape::Fixed),
        }
    }
    let output = match &item.sig.output {
        syn::ReturnType::Type(_, ty) => match &**ty {
            syn::Type::Array(a) if float(&a.elem).is_some() => {
                Output::Array(array_len(&a.len, &generics, spec.n))
            }
            ty if float(ty).is_some() => Output::Scalar,
            _ => Output::Other,
        },
        syn::ReturnType::Default => Output::Other,
    };
    Signature {
        generics,
        params,
        output,
        dual,
    }
}

/// The names of the functions grad's expansion of `text` (one function with
/// `#[grad::differentiable]` in front) defines, as the macro would expand it: `grad_expand` is
/// the library behind the macro, so the companions the checks call are exactly those that exist.
/// With `attr` (`hessian`), also the messages of the `compile_error!`s the expansion holds.
fn expansion_fns(text: &str, attr: &str) -> (BTreeSet<String>, BTreeSet<String>, Vec<String>) {
    let item: proc_macro2::TokenStream = text.parse().expect("a published function's tokens");
    let attr: proc_macro2::TokenStream = attr.parse().expect("attribute arguments");
    let out = grad_expand::differentiable(attr, item);
    let (mut defined, mut called, mut errors) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
    fn walk(
        tokens: proc_macro2::TokenStream,
        defined: &mut BTreeSet<String>,
        called: &mut BTreeSet<String>,
        errors: &mut Vec<String>,
    ) {
        let mut after_fn = false;
        let mut after_error = false;
        for tree in tokens {
            match tree {
                proc_macro2::TokenTree::Ident(ident) => {
                    let name = ident.to_string();
                    if after_fn {
                        defined.insert(name.clone());
                    } else if name.ends_with("_vjp") {
                        called.insert(name.clone());
                    }
                    after_fn = name == "fn";
                    after_error = name == "compile_error";
                }
                proc_macro2::TokenTree::Group(group) => {
                    if after_error {
                        errors.push(group.stream().to_string());
                    }
                    walk(group.stream(), defined, called, errors);
                    after_fn = false;
                    after_error = false;
                }
                proc_macro2::TokenTree::Punct(p) if p.as_char() == '!' => after_fn = false,
                _ => {
                    after_fn = false;
                    after_error = false;
                }
            }
        }
    }
    walk(out, &mut defined, &mut called, &mut errors);
    (defined, called, errors)
}

/// Whether `#[grad::differentiable(hessian)]` gives the function second order: then it is
/// annotated so (only the attribute, still), and otherwise plainly.
fn gets_hessian(text: &str, name: &str) -> bool {
    expansion_fns(text, "hessian")
        .0
        .contains(&format!("{name}_hvp"))
}

/// Which forward-mode and second-order companions grad gave a function: for each of `f_jvp`,
/// `f_hvp`, `f_hessian`, `Ok(())` or the first reason it has none, as README.md's "Forward mode
/// and second derivatives" gives them (the macro decides silently; the reasons are read from
/// the signature and the expansion, in the order the macro tests them).
struct Companions {
    jvp: Result<(), String>,
    hvp: Result<(), String>,
    hessian: Result<(), String>,
}

fn companions(text: &str, item: &syn::ItemFn, array_callees: &BTreeSet<String>) -> Companions {
    let name = item.sig.ident.to_string();
    let (defined, called, _) = expansion_fns(text, "");
    let has = |suffix: &str| defined.contains(&format!("{name}_{suffix}"));
    let jvp = if has("jvp") {
        Ok(())
    } else if called.iter().any(|c| {
        c.strip_suffix("_vjp")
            .is_some_and(|callee| array_callees.contains(callee))
    }) {
        Err("a call of a function that returns an array".to_string())
    } else {
        Err("its body (a struct field passed to a call, a macro's float value, ...)".to_string())
    };
    // Second order is asked for with `hessian`, and refused with the reason where it cannot
    // be given: the reason is the macro's own.
    let (with_hessian, _, errors) = expansion_fns(text, "hessian");
    let has_second = |suffix: &str| with_hessian.contains(&format!("{name}_{suffix}"));
    let hvp = if has_second("hvp") {
        Ok(())
    } else if has_second("tangent_vjp") {
        // A function returning an array or a tuple: second order for its callers alone.
        Err(
            "a vector output: `hessian` gives its callers `_tangent` and `_tangent_vjp`, no `_hvp`"
                .to_string(),
        )
    } else {
        let message = errors
            .iter()
            .find_map(|e| {
                let (_, why) = e.split_once("second derivatives yet: ")?;
                Some(why.split("; remove").next()?.to_string())
            })
            .unwrap_or_else(|| "the macro refused `hessian`".to_string());
        Err(message)
    };
    let hessian = if has_second("hessian") {
        Ok(())
    } else if let Err(e) = &hvp {
        Err(e.clone())
    } else {
        Err("parameters other than floats and 1-D arrays of one float type".to_string())
    };
    assert!(
        (!has_second("hessian") || has_second("hvp")) && (!has_second("hvp") || has("jvp")),
        "{name}: companions out of order"
    );
    Companions { jvp, hvp, hessian }
}

/// The checks of one function, as an expression of type `crate::Case`; `None` where the
/// signature is not one the checks can call (the function's entry says so).
fn case(
    module_path: &str,
    item: &syn::ItemFn,
    text: &str,
    spec: &FnSpec,
    public: bool,
    published_hessian: Option<&syn::ItemFn>,
    array_callees: &BTreeSet<String>,
) -> Result<String, String> {
    let sig = signature(item, spec);
    if sig.output == Output::Other {
        return Err("its result is not a float or an array of floats".into());
    }
    let companions = companions(text, item, array_callees);
    let name = &spec.name;
    let turbofish = |float: &str| -> String {
        if sig.generics.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = sig
                .generics
                .iter()
                .map(|(_, c)| {
                    if *c {
                        spec.n.to_string()
                    } else {
                        float.to_string()
                    }
                })
                .collect();
            format!("::<{}>", parts.join(", "))
        }
    };
    // The arguments, read from the point `x` (and, for dual numbers, seeded at coordinate `i`;
    // for hyper-dual numbers, along `v` and coordinate `i`).
    let args = |kind: &str| -> (String, String, usize) {
        let mut lets = String::new();
        let mut call = Vec::new();
        let mut offset = 0;
        for (k, shape) in sig.params.iter().enumerate() {
            let a = format!("a{k}");
            let (take, n, pass) = match shape {
                Shape::Scalar => ("scalar()".to_string(), 1, a.clone()),
                Shape::Slice => (format!("vec({})", spec.n), spec.n, format!("&{a}")),
                Shape::Array(n) => (format!("array::<{n}>()"), *n, a.clone()),
                Shape::ArrayRef(n) => (format!("array::<{n}>()"), *n, format!("&{a}")),
                Shape::Fixed => {
                    let value = spec.args.get(&k).cloned().unwrap_or_else(|| "?".into());
                    call.push(value);
                    continue;
                }
            };
            let source = match kind {
                "dual" => "crate::Dual::new(x, i)",
                "hyper" => "crate::Hyper::new(x, v, i)",
                _ => "crate::Plain::new(x)",
            };
            let _ = writeln!(lets, "let {a} = {source}.at({offset}).{take};");
            call.push(pass);
            offset += n;
        }
        (lets, call.join(", "), offset)
    };
    if sig
        .params
        .iter()
        .enumerate()
        .any(|(k, s)| *s == Shape::Fixed && !spec.args.contains_key(&k))
    {
        return Err("a parameter that is not a float needs a value (argK= in corpus.txt)".into());
    }
    let original = if public {
        format!("{module_path}::{name}")
    } else {
        format!("self::{name}")
    };
    let (lets, call, dims) = args("plain");
    let parts: Vec<usize> = sig
        .params
        .iter()
        .filter_map(|s| match s {
            Shape::Scalar => Some(1),
            Shape::Slice => Some(spec.n),
            Shape::Array(n) | Shape::ArrayRef(n) => Some(*n),
            Shape::Fixed => None,
        })
        .collect();
    let value = format!(
        "Box::new(|x: &[f64]| {{ {lets} crate::Values::values({original}{}({call})) }})",
        turbofish("f64")
    );
    let (outputs, gradient) = match sig.output {
        Output::Scalar => (
            1,
            format!(
                "Box::new(|x: &[f64]| {{ {lets} crate::Flat::flat(&{name}_grad{}({call})) }})",
                turbofish("f64")
            ),
        ),
        Output::Array(m) => (
            m,
            format!(
                "Box::new(|x: &[f64]| {{ {lets} crate::Flat::flat(&{name}_jacobian{}({call})) }})",
                turbofish("f64")
            ),
        ),
        Output::Other => unreachable!(),
    };
    let dual = if sig.dual {
        let (lets, call, _) = args("dual");
        format!(
            "Some(Box::new(|x: &[f64], i: usize| {{ {lets} crate::Tangents::tangents({original}{}({call})) }}))",
            turbofish("crate::D")
        )
    } else {
        "None".to_string()
    };
    // A tangent or direction per differentiated parameter, shaped like its gradient entry (an
    // array parameter by reference takes an owned array; a slice, a slice), read from `t`.
    let mut tangent_lets = String::new();
    let mut tangents = Vec::new();
    let mut offset = 0;
    for (k, shape) in sig.params.iter().enumerate() {
        let (take, n) = match shape {
            Shape::Scalar => ("scalar()".to_string(), 1),
            Shape::Slice => (format!("vec({})", spec.n), spec.n),
            Shape::Array(n) | Shape::ArrayRef(n) => (format!("array::<{n}>()"), *n),
            Shape::Fixed => continue,
        };
        let _ = writeln!(
            tangent_lets,
            "let t{k} = crate::Plain::new(t).at({offset}).{take};"
        );
        tangents.push(match shape {
            Shape::Slice => format!("&t{k}"),
            _ => format!("t{k}"),
        });
        offset += n;
    }
    let tangents = tangents.join(", ");
    let turbo = turbofish("f64");
    let reason = |r: String| format!("Err({r:?})");
    let jvp = match companions.jvp.clone() {
        Ok(()) => format!(
            "Ok(Box::new(|x: &[f64], t: &[f64]| {{ {lets} {tangent_lets} \
             let (value, tangent) = {name}_jvp{turbo}({call}, {tangents}); \
             (crate::Values::values(value), crate::Values::values(tangent)) }}))"
        ),
        Err(r) => reason(r),
    };
    let hvp = match companions.hvp.clone() {
        Ok(()) => format!(
            "Ok(Box::new(|x: &[f64], t: &[f64]| {{ {lets} {tangent_lets} \
             crate::Flat::flat(&{name}_hvp{turbo}({call}, {tangents})) }}))"
        ),
        Err(r) => reason(r),
    };
    let hessian = match companions.hessian.clone() {
        Ok(()) => format!(
            "Ok(Box::new(|x: &[f64]| {{ {lets} crate::Flat::flat(&{name}_hessian{turbo}({call})) }}))"
        ),
        Err(r) => reason(r),
    };
    let hyper = if sig.dual && companions.hvp.is_ok() {
        let (lets, call, _) = args("hyper");
        format!(
            "Some(Box::new(|x: &[f64], v: &[f64]| (0..{dims}).map(|i| {{ {lets} \
             crate::second({original}{}({call})) }}).collect()))",
            turbofish("crate::H")
        )
    } else {
        "None".to_string()
    };
    // The crate's own Hessian, where it has one for this function with the same parameters and
    // type parameters, and grad has `f_hessian`. Called by its path: grad's `f_hessian` has the
    // same name in this module.
    let published = match published_hessian {
        Some(p)
            if companions.hessian.is_ok()
                && p.sig.inputs.len() == item.sig.inputs.len()
                && signature(p, spec).generics == sig.generics
                && signature(p, spec).params == sig.params =>
        {
            let path = format!("{module_path}::{}", p.sig.ident);
            format!(
                "Some((\"{path}\", Box::new(|x: &[f64]| {{ {lets} crate::Flat::flat(&{path}{turbo}({call})) }})))"
            )
        }
        _ => "None".to_string(),
    };
    Ok(format!(
        "crate::Case {{ id: \"{module_path}::{name}\", dims: {dims}, parts: vec!{parts:?}, outputs: {outputs}, \
         lo: {:?}, hi: {:?}, value: {value}, gradient: {gradient}, dual: {dual}, \
         jvp: {jvp}, hvp: {hvp}, hessian: {hessian}, hyper: {hyper}, published_hessian: {published} }}",
        spec.lo, spec.hi
    ))
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo::rerun-if-changed=corpus.txt");
    println!("cargo::rerun-if-changed=status.tsv");
    println!("cargo::rerun-if-changed=build.rs");
    let spec = std::fs::read_to_string(manifest_dir.join("corpus.txt")).expect("corpus.txt");
    let (krates, files) = parse_spec(&spec);
    // `id<TAB>status<TAB>...`: the functions that compile are `ok` or `wrong`.
    let status = std::fs::read_to_string(manifest_dir.join("status.tsv")).unwrap_or_default();
    let compiles: Vec<&str> = status
        .lines()
        .filter_map(|l| {
            let mut parts = l.split('\t');
            let id = parts.next()?;
            matches!(parts.next()?, "ok" | "wrong" | "compiles" | "unchecked").then_some(id)
        })
        .collect();
    let dirs = source_dirs(&manifest_dir, &krates);

    let mut all = String::new();
    let mut included = String::new();
    let mut lines = String::new();
    let mut sources = String::new();
    let mut cases_included = Vec::new();
    for file in &files {
        let krate = &krates[file.krate];
        let crate_ident = krate.name.replace('-', "_");
        let path = dirs[&krate.name].join(&file.path);
        let src =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let stem = Path::new(&file.path)
            .with_extension("")
            .to_string_lossy()
            .replace(['/', '-', '.'], "_");
        let module = format!("{crate_ident}__{stem}");
        let mut context = String::new();
        let mut fns: BTreeMap<String, (String, syn::ItemFn)> = BTreeMap::new();
        for (range, item) in items(&src) {
            match item {
                syn::Item::Use(mut u) => {
                    syn::visit_mut::VisitMut::visit_item_use_mut(
                        &mut Reroot(crate_ident.clone()),
                        &mut u,
                    );
                    let _ = writeln!(context, "{}", u.to_token_stream());
                }
                syn::Item::Const(_) | syn::Item::Static(_) => {
                    let _ = writeln!(context, "{}", item_text(&src[range]).trim());
                }
                syn::Item::Fn(f) => {
                    fns.insert(
                        f.sig.ident.to_string(),
                        (item_text(&src[range]).trim().to_string(), f),
                    );
                }
                _ => {}
            }
        }
        let _ = writeln!(
            sources,
            "{}\t{}\t{}\t{}",
            krate.name,
            krate.version,
            krate.licence,
            path.display()
        );
        // One module in each output, with the context, then the functions.
        let header = format!(
            "#[allow(warnings, clippy::all, clippy::pedantic, clippy::nursery)]\n\
             pub mod {module} {{\n// Imports and constants of {} {}, {}\n{context}",
            krate.name, krate.version, file.path
        );
        let mut all_module = header.clone();
        let mut included_module = header;
        let mut any = false;
        let mut module_cases_included = Vec::new();
        // The file's functions that return an array (a call of one has no `f_jvp` yet).
        let array_callees: BTreeSet<String> = fns
            .iter()
            .filter(|(_, (_, f))| {
                matches!(&f.sig.output, syn::ReturnType::Type(_, ty) if matches!(**ty, syn::Type::Array(_)))
            })
            .map(|(name, _)| name.clone())
            .collect();
        for spec in &file.fns {
            let id = format!("{}::{}", file.module, spec.name);
            let (text, item) = fns
                .get(&spec.name)
                .unwrap_or_else(|| panic!("{} has no function {}", path.display(), spec.name));
            if spec.context {
                all_module.push_str(&format!("{text}\n"));
                included_module.push_str(&format!("{text}\n"));
                continue;
            }
            let public = matches!(item.vis, syn::Visibility::Public(_));
            let attribute = if gets_hessian(text, &spec.name) {
                "#[grad::differentiable(hessian)]"
            } else {
                "#[grad::differentiable]"
            };
            let annotated = format!("{attribute}\n{text}\n");
            let first = all.lines().count() + all_module.lines().count() + 1;
            all_module.push_str(&annotated);
            let last = all.lines().count() + all_module.lines().count();
            let role = if spec.helper { "helper" } else { "fn" };
            let published_hessian = fns
                .get(&format!("{}_hessian", spec.name))
                .filter(|(_, f)| matches!(f.vis, syn::Visibility::Public(_)))
                .map(|(_, f)| f);
            let check = case(
                &file.module,
                item,
                text,
                spec,
                public,
                published_hessian,
                &array_callees,
            );
            let _ = writeln!(
                lines,
                "{id}\t{first}\t{last}\t{role}\t{}\t{}\t{}",
                file.path,
                if public { "pub" } else { "private" },
                match &check {
                    Ok(_) => String::new(),
                    Err(e) => e.clone(),
                }
            );
            if compiles.contains(&id.as_str()) {
                any = true;
                included_module.push_str(&annotated);
                if let Ok(c) = check {
                    module_cases_included.push(c);
                }
            }
        }
        all_module.push_str("}\n");
        let _ = write!(
            included_module,
            "pub fn __cases() -> Vec<crate::Case> {{ vec![{}] }}\n}}\n",
            module_cases_included.join(",\n")
        );
        all.push_str(&all_module);
        if any {
            included.push_str(&included_module);
            cases_included.push(format!("{module}::__cases()"));
        }
    }
    let cases = |list: &[String]| {
        format!(
            "/// Every check of the corpus.\npub fn cases() -> Vec<Case> {{\n    let modules: Vec<Vec<Case>> = vec![{}];\n    modules.into_iter().flatten().collect()\n}}\n",
            list.join(", ")
        )
    };
    included.push_str(&cases(&cases_included));
    std::fs::write(out_dir.join("all.rs"), all).unwrap();
    std::fs::write(out_dir.join("corpus.rs"), included).unwrap();
    std::fs::write(out_dir.join("all_lines.tsv"), lines).unwrap();
    std::fs::write(out_dir.join("sources.tsv"), sources).unwrap();
}
