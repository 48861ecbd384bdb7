//! The tests of `match` arms: a pattern becomes the bool node that tells whether it matches.
//!
//! Input: `1..=3 | 7` against the scrutinee `v2`. Output: nodes for
//! `(v2 >= 1 && v2 <= 3) || v2 == 7`. A name or path that only rustc can resolve (a `const`,
//! a unit enum variant) is kept as written, as a `match` in the generated code.

use super::{Lowerer, Val};
use crate::graph::{InactiveExpr, Ty, ValueId, pattern_holds_data};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Pat};

impl Lowerer<'_> {
    /// `match scrutinee { pattern => true, _ => false }` in the generated code, for a pattern
    /// whose names only rustc can resolve.
    fn rustc_pattern_test(&mut self, scrutinee: ValueId, pattern: &Pat) -> Option<Option<ValueId>> {
        let matches = InactiveExpr::Matches(pattern.clone());
        match self.inactive(matches, vec![scrutinee], Ty::Bool, pattern.span()) {
            Val::Scalar(test) => Some(Some(test)),
            _ => None,
        }
    }

    /// The bool that tells whether `pattern` matches; `Some(None)` for a pattern that always
    /// matches, `None` after an error.
    pub(super) fn pattern_test(
        &mut self,
        scrutinee: ValueId,
        pattern: &Pat,
    ) -> Option<Option<ValueId>> {
        let span = pattern.span();
        let equal = |this: &mut Self, value: ValueId| {
            this.binary_node(BinOp::Eq(syn::Token![==](span)), scrutinee, value, span)
        };
        match pattern {
            Pat::Wild(_) => Some(None),
            Pat::Ident(ident) if ident.by_ref.is_none() => match &ident.subpat {
                Some((_, sub)) => self.pattern_test(scrutinee, sub),
                // `A` may name a `const` item or bind a new variable, and only rustc knows
                // which: the generated code keeps the pattern as written.
                None => self.rustc_pattern_test(scrutinee, pattern),
            },
            Pat::Paren(inner) => self.pattern_test(scrutinee, &inner.pat),
            Pat::Lit(lit) => {
                let value = self.scalar_expr(&Expr::Lit(lit.clone()));
                Some(Some(equal(self, value)))
            }
            // A path may name a `const` or a unit enum variant: `match` resolves both,
            // where `==` would need `PartialEq`.
            Pat::Path(_) => self.rustc_pattern_test(scrutinee, pattern),
            Pat::Range(range) => {
                let mut tests = Vec::new();
                if let Some(start) = &range.start {
                    let start = self.scalar_expr(start);
                    tests.push(self.binary_node(
                        BinOp::Ge(syn::Token![>=](span)),
                        scrutinee,
                        start,
                        span,
                    ));
                }
                if let Some(end) = &range.end {
                    let end = self.scalar_expr(end);
                    let op = match range.limits {
                        syn::RangeLimits::Closed(_) => BinOp::Le(syn::Token![<=](span)),
                        syn::RangeLimits::HalfOpen(_) => BinOp::Lt(syn::Token![<](span)),
                    };
                    tests.push(self.binary_node(op, scrutinee, end, span));
                }
                let mut test: Option<ValueId> = None;
                for t in tests {
                    test = Some(match test {
                        None => t,
                        Some(acc) => {
                            self.binary_node(BinOp::And(syn::Token![&&](span)), acc, t, span)
                        }
                    });
                }
                Some(test)
            }
            Pat::Or(or) => {
                let mut tests = Vec::new();
                for case in &or.cases {
                    match self.pattern_test(scrutinee, case)? {
                        None => return Some(None),
                        Some(test) => tests.push(test),
                    }
                }
                Some(self.any(tests, span))
            }
            // Patterns of data (`Some(t)`, `Constraint::Lower(i, lo)`, `(0, x)`, `&v`): rustc
            // tests them as written; the names they bind are read by `bind_pattern_names`.
            Pat::TupleStruct(_)
            | Pat::Struct(_)
            | Pat::Tuple(_)
            | Pat::Reference(_)
            | Pat::Slice(_) => self.rustc_pattern_test(scrutinee, pattern),
            other => {
                self.diagnostics.error(
                    other,
                    "this pattern is not supported in a differentiable `match`: use literals, ranges (`1..=3`), constants, patterns of enums, structs and tuples, `|` and `_`",
                );
                None
            }
        }
    }

    /// Binds the names a pattern of data binds (`t` in `Some(t)`), each read from the
    /// scrutinee where the pattern is known to match. The values are constants: a pattern of
    /// data cannot test a value being differentiated (analysis reports it if it does).
    pub(super) fn bind_pattern_names(&mut self, scrutinee: ValueId, pattern: &Pat) {
        if !pattern_holds_data(pattern) {
            return;
        }
        let mut names = Vec::new();
        collect_names(pattern, &mut names);
        for name in names {
            let binding = InactiveExpr::Binding {
                pattern: pattern.clone(),
                name: name.clone(),
            };
            let value = self.inactive(binding, vec![scrutinee], Ty::Unknown, name.span());
            self.bind(name.to_string(), value);
        }
    }
}

/// The names a pattern binds, in order, once each (an or-pattern binds the same names in
/// every case).
fn collect_names(pattern: &Pat, names: &mut Vec<syn::Ident>) {
    let add = |ident: &syn::Ident, names: &mut Vec<syn::Ident>| {
        if !names.contains(ident) {
            names.push(ident.clone());
        }
    };
    match pattern {
        Pat::Ident(ident) => {
            add(&ident.ident, names);
            if let Some((_, sub)) = &ident.subpat {
                collect_names(sub, names);
            }
        }
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| collect_names(p, names)),
        Pat::Tuple(t) => t.elems.iter().for_each(|p| collect_names(p, names)),
        Pat::Slice(s) => s.elems.iter().for_each(|p| collect_names(p, names)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| collect_names(&f.pat, names)),
        Pat::Reference(r) => collect_names(&r.pat, names),
        Pat::Paren(p) => collect_names(&p.pat, names),
        Pat::Type(t) => collect_names(&t.pat, names),
        Pat::Or(or) => {
            if let Some(first) = or.cases.first() {
                collect_names(first, names);
            }
        }
        _ => {}
    }
}

/// The name a match arm binds the scrutinee to (`n` in `n @ 1..=3` or in `n`).
pub(super) fn pattern_binding(pattern: &Pat) -> Option<String> {
    match pattern {
        // A bare name that is a `const` matched only if the value equals it: binding the
        // name to the value then changes nothing.
        Pat::Ident(ident) => Some(ident.ident.to_string()),
        Pat::Paren(inner) => pattern_binding(&inner.pat),
        // `k @ 1 | k @ 2` binds `k` in every case; in `A | B` the names are constants, which
        // the arm reads as they are (binding `A` to a value equal to `B` would be wrong).
        Pat::Or(or) => {
            let names: Vec<Option<String>> = or
                .cases
                .iter()
                .map(|case| match case {
                    Pat::Ident(ident) if ident.subpat.is_some() => Some(ident.ident.to_string()),
                    _ => None,
                })
                .collect();
            let first = names.first().cloned().flatten()?;
            names
                .iter()
                .all(|n| n.as_deref() == Some(&first))
                .then_some(first)
        }
        _ => None,
    }
}
