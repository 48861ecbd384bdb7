//! Macro calls: passed through as written, and run once.
//!
//! Input: `assert!(s > 0.0, "s = {s}");` with `s` bound to `v7`. Output: a `Macro` node whose
//! code is `{ let s = __v7; assert!(s > 0.0, "s = {s}"); }`: every local the macro mentions
//! (as a token, or inline in a format string) is bound to its value there, and the macro is
//! emitted as the user wrote it. The forward sweep runs every macro where the function runs
//! it, whether or not the gradient needs its value, and the reverse sweep never runs one again
//! (`replay.rs`). A macro's value is a constant: a value that depends on a differentiated
//! input cannot flow through one (`analyze.rs` reports it), except through `dbg!`, which
//! returns its argument and is lowered as exactly that, beside the line it prints.

use super::{Lowerer, Val, unit};
use crate::graph::{Mention, Op, Ty};
use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Token};

/// Macros whose value is `()`: they run for their effect.
const EFFECTS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "print",
    "println",
    "eprint",
    "eprintln",
    // The `log` and `tracing` crates' macros.
    "trace",
    "debug",
    "info",
    "warn",
    "error",
    "log",
];

/// Macros that never return.
const DIVERGING: &[&str] = &["panic", "unreachable", "todo", "unimplemented"];

impl Lowerer<'_> {
    /// A macro call; `statement` when its value is discarded (`println!(..);`).
    pub(super) fn macro_call(&mut self, mac: &syn::Macro, statement: bool) -> Val {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let span = mac
            .path
            .segments
            .first()
            .map_or_else(|| mac.span(), |s| s.ident.span());
        if name == "dbg" && mac.path.segments.len() == 1 {
            return self.dbg(mac, span);
        }
        let effect = statement || EFFECTS.contains(&name.as_str());
        let diverges = DIVERGING.contains(&name.as_str());
        let mentions = self.mentions(mac.tokens.clone());
        let tokens = mac.to_token_stream();
        let value = !effect && !diverges;
        let node = self.push(
            Op::Macro {
                tokens,
                mentions,
                value,
            },
            Ty::Unknown,
            span,
        );
        if diverges {
            Val::Never
        } else if value {
            node
        } else {
            unit()
        }
    }

    /// `dbg!(e)` is `e`, beside the line `dbg!` prints about it, printed in `dbg!`'s format
    /// from the value computed once (the expression is shown as rustc spells its tokens, which
    /// may space it differently from the source).
    fn dbg(&mut self, mac: &syn::Macro, span: Span) -> Val {
        let args = match mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            Ok(args) => args,
            Err(error) => {
                return self.unsupported(mac, format!("this `dbg!` does not parse: {error}"));
            }
        };
        if args.is_empty() {
            let tokens = quote_spanned! {span=>
                ::std::eprintln!("[{}:{}:{}]", ::core::file!(), ::core::line!(), ::core::column!())
            };
            self.push(
                Op::Macro {
                    tokens,
                    mentions: Vec::new(),
                    value: false,
                },
                Ty::Unknown,
                span,
            );
            return unit();
        }
        let mut values = Vec::new();
        for arg in &args {
            let val = self.expr(arg);
            let Some(mention) = self.mention(&val) else {
                return Val::Never;
            };
            let shown = Ident::new("__grad_dbg", span);
            let tokens = quote_spanned! {span=>
                ::std::eprintln!(
                    "[{}:{}:{}] {} = {:#?}",
                    ::core::file!(),
                    ::core::line!(),
                    ::core::column!(),
                    ::core::stringify!(#arg),
                    &#shown
                )
            };
            self.push(
                Op::Macro {
                    tokens,
                    mentions: vec![(shown, mention)],
                    value: false,
                },
                Ty::Unknown,
                arg.span(),
            );
            values.push(val);
        }
        match values.len() {
            1 => values.pop().expect("one value"),
            _ => Val::Tuple(values),
        }
    }

    /// The locals a macro's tokens mention, by name, as identifiers or inline in a format
    /// string (`"{s:.3}"`), each with the value it holds here.
    fn mentions(&mut self, tokens: TokenStream) -> Vec<(Ident, Mention)> {
        let mut names: Vec<Ident> = Vec::new();
        collect_names(tokens, &mut names);
        let mut mentions: Vec<(Ident, Mention)> = Vec::new();
        for name in names {
            if mentions.iter().any(|(known, _)| *known == name) {
                continue;
            }
            let Some(val) = self.lookup(&name.to_string()).cloned() else {
                continue;
            };
            // A closure is inlined where it is called, so generated code has no closure for
            // the macro to name.
            if matches!(val, Val::Closure(_)) {
                self.diagnostics.error(
                    &name,
                    format!("a macro cannot name the closure `{name}` in a differentiable function: call it before the macro and bind its value (`let v = {name}(x);`)"),
                );
                continue;
            }
            if let Some(mention) = self.mention(&val) {
                mentions.push((name, mention));
            }
        }
        mentions
    }

    fn mention(&self, val: &Val) -> Option<Mention> {
        match val {
            Val::Scalar(id) => Some(Mention::Scalar(*id)),
            Val::Array(id) => Some(Mention::Array(*id)),
            Val::Tuple(parts) => parts
                .iter()
                .map(|p| self.mention(p))
                .collect::<Option<Vec<_>>>()
                .map(Mention::Tuple),
            Val::Never | Val::Closure(_) => None,
        }
    }
}

/// Every identifier in `tokens`, and every name a string literal's format arguments name
/// inline (`{s}`, `{s:?}`, `{s:>8.3}`), in order of appearance.
fn collect_names(tokens: TokenStream, names: &mut Vec<Ident>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => names.push(ident),
            TokenTree::Group(group) => collect_names(group.stream(), names),
            TokenTree::Literal(literal) => {
                if let Ok(syn::Lit::Str(text)) = syn::parse2::<syn::Lit>(literal.to_token_stream())
                {
                    inline_arguments(&text.value(), literal.span(), names);
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

/// The names in `{name}` and `{name:spec}` of a format string (`{{` is a literal brace).
fn inline_arguments(text: &str, span: Span, names: &mut Vec<Ident>) {
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '{' {
            continue;
        }
        if chars.peek().is_some_and(|(_, next)| *next == '{') {
            chars.next();
            continue;
        }
        let mut name = String::new();
        while let Some((_, next)) = chars.peek() {
            if next.is_ascii_alphanumeric() || *next == '_' {
                name.push(*next);
                chars.next();
            } else {
                break;
            }
        }
        let starts_like_a_name = name
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
        let ends = chars
            .peek()
            .is_some_and(|(_, next)| matches!(next, '}' | ':'));
        if starts_like_a_name && ends && name != "_" {
            names.push(Ident::new(&name, span));
        }
    }
}
