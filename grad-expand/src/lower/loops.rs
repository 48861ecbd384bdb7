//! Loops: `for` over an integer range, `while` and `loop`, and the `break` and `continue`
//! that leave them.
//!
//! Input: `for i in 0..n { s += x[i]; }` with `s` bound to `v1`. Output: a `Loop` statement
//! with a `Range` header whose counter is `i`, a body block, and `s` carried: an entry node
//! the body reads, the body's last value of `s` as the next entry, and an exit node bound to
//! `s` after the loop. Which variables are carried is read off the body's syntax (`LoopScan`)
//! before it is lowered, because the entry nodes must exist before the body reads them.
//! A `for` over an array or an iterator is first rewritten as a range loop (`iterators.rs`).

use super::{
    LoopContext, Lowerer, RETURN_VALUE, RETURNED, Val, break_value, broke, continued, unit,
};
use crate::graph::{Block, Carried, Loop, LoopHeader, Op, Stmt, Ty, ValueId, unify};
use crate::iterators;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{BinOp, Expr, Item, Pat};

impl Lowerer<'_> {
    pub(super) fn for_loop(&mut self, e: &syn::ExprForLoop) -> Val {
        let label = e.label.as_ref().map(|l| l.name.ident.to_string());
        let Some(range) = RangeSyntax::parse(&e.expr) else {
            if let Some(val) = self.adaptor_for(e) {
                return val;
            }
            self.rewrites += 1;
            if let Some(rewritten) = iterators::desugar_for(e, self.rewrites) {
                return self.expr(&rewritten);
            }
            return self.unsupported(
                &e.expr,
                "`for` loops are supported over integer ranges (`a..b`, `a..=b`, `(a..b).rev()`, `(a..b).step_by(s)`, `(a..b).rev().step_by(s)`) and arrays (`x`, `x.iter()`, `x.iter().enumerate()`, `x.iter().zip(y.iter())`)",
            );
        };
        let pattern_name = match &*e.pat {
            Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                Some(ident.ident.to_string())
            }
            Pat::Wild(_) => None,
            other => {
                return self.unsupported(other, "the loop variable must be a name or `_`");
            }
        };
        self.lower_loop(
            LoopSyntax::Range(range, pattern_name),
            &e.body,
            label,
            e.span(),
        )
    }

    pub(super) fn while_loop(&mut self, e: &syn::ExprWhile) -> Val {
        if let Expr::Let(lets) = &*e.cond {
            return self.unsupported(lets, "`while let` is not supported in a differentiable function: use `while` with a condition, or `loop` with `break`");
        }
        let label = e.label.as_ref().map(|l| l.name.ident.to_string());
        self.lower_loop(LoopSyntax::While(&e.cond), &e.body, label, e.span())
    }

    pub(super) fn loop_expr(&mut self, e: &syn::ExprLoop) -> Val {
        let label = e.label.as_ref().map(|l| l.name.ident.to_string());
        self.lower_loop(LoopSyntax::Loop, &e.body, label, e.span())
    }

    fn lower_loop(
        &mut self,
        syntax: LoopSyntax<'_>,
        body: &syn::Block,
        label: Option<String>,
        span: Span,
    ) -> Val {
        let id = self.next_loop_id;
        self.next_loop_id += 1;
        let is_loop_expr = matches!(syntax, LoopSyntax::Loop);

        // The range is evaluated once, before the loop.
        let range = match &syntax {
            LoopSyntax::Range(range, _) => {
                let start = self.scalar_expr(range.start);
                let end = self.scalar_expr(range.end);
                let step = range.step.map(|s| self.scalar_expr(s));
                let constant_bounds = [Some(start), Some(end), step]
                    .into_iter()
                    .flatten()
                    .all(|v| matches!(self.node(v).op, Op::Constant(_)));
                Some((
                    start,
                    end,
                    step,
                    range.inclusive,
                    range.reverse,
                    constant_bounds,
                ))
            }
            _ => None,
        };
        if is_loop_expr {
            let placeholder = self.placeholder(Ty::Unknown, span);
            self.bind(break_value(id), Val::Scalar(placeholder));
        }

        let scan = LoopScan::of(body, &syntax, label.as_deref());
        let mut carried_names: Vec<String> = Vec::new();
        for name in &scan.assigned {
            if self.lookup(name).is_some() && !carried_names.contains(name) {
                carried_names.push(name.clone());
            }
        }
        if scan.returns {
            carried_names.extend([RETURNED.to_owned(), RETURN_VALUE.to_owned()]);
        }
        for target in &scan.outer_labels {
            if let Some(outer) = self
                .loops
                .iter()
                .find(|l| l.label.as_deref() == Some(target))
            {
                carried_names.extend([broke(outer.id), continued(outer.id)]);
                if outer.has_value {
                    carried_names.push(break_value(outer.id));
                }
            }
        }
        if is_loop_expr && scan.breaks_with_value {
            carried_names.push(break_value(id));
        }

        let parent = self.region();
        let body_region = self.graph.new_region(Some(parent));
        self.graph.loop_bodies.push(body_region);
        let mut carried = Vec::new();
        for name in carried_names {
            let init = match self.lookup(&name).cloned() {
                Some(Val::Scalar(init)) => init,
                // Assigning a whole array is an error of its own, at the assignment.
                Some(Val::Array(_)) => continue,
                Some(_) => {
                    self.diagnostics.error_at(
                        span,
                        format!("the tuple `{name}` is assigned in this loop: assigning a whole tuple in a loop is not supported; use a separate variable for each element"),
                    );
                    continue;
                }
                None => continue,
            };
            let ty = self.node(init).ty.clone();
            let entry = self.define(Op::LoopEntry, ty, span, body_region);
            self.assign_name(&name, Val::Scalar(entry));
            carried.push((name, init, entry));
        }
        // Every iteration starts with no exit taken: the loop runs only where none was taken
        // before it, and stops after an iteration that takes one. Known-false flags keep the
        // body free of exit guards; the carried entries still feed the flags' values out.
        let exit_names = self.exit_flag_names();
        for name in &exit_names {
            if carried
                .iter()
                .any(|(carried_name, _, _)| carried_name == name)
            {
                self.set_flag(name, false, span);
            }
        }
        let before_loop: Vec<(String, Option<ValueId>)> = exit_names
            .into_iter()
            .filter(|name| {
                !carried
                    .iter()
                    .any(|(carried_name, _, _)| carried_name == name)
            })
            .map(|name| {
                let flag = self.flag(&name);
                (name, flag)
            })
            .collect();

        self.blocks.push(Block {
            region: body_region,
            stmts: Vec::new(),
        });
        self.scopes.push();
        self.loops.push(LoopContext {
            id,
            label,
            has_value: is_loop_expr,
            block: false,
        });
        let not_yet = self.bool_constant(false, span);
        self.bind(broke(id), Val::Scalar(not_yet));
        self.bind(continued(id), Val::Scalar(not_yet));
        let header = match (&syntax, range) {
            (
                LoopSyntax::Range(_, name),
                Some((start, end, step, inclusive, reverse, constant_bounds)),
            ) => {
                let counter = self.define(Op::LoopCounter, Ty::Int, span, body_region);
                if let Some(name) = name {
                    self.bind(name.clone(), Val::Scalar(counter));
                }
                LoopHeader::Range {
                    counter,
                    start,
                    end,
                    inclusive,
                    reverse,
                    step,
                    constant_bounds,
                }
            }
            _ => LoopHeader::Unbounded,
        };
        match &syntax {
            LoopSyntax::While(cond) => {
                let cond = self.scalar_expr(cond);
                let stop_name = broke(id);
                self.branch(
                    cond,
                    |this| this.stmts(&body.stmts),
                    |this| {
                        this.set_flag(&stop_name, true, span);
                        Val::Never
                    },
                    span,
                );
            }
            _ => {
                self.stmts(&body.stmts);
            }
        }
        // The loop stops after an iteration that broke out of it, returned, or left for an
        // outer loop.
        let mut stop_flags: Vec<ValueId> = self.flag(&broke(id)).into_iter().collect();
        stop_flags.extend(self.flag(RETURNED));
        let outer: Vec<String> = self.loops[..self.loops.len() - 1]
            .iter()
            .flat_map(|l| [broke(l.id), continued(l.id)])
            .collect();
        stop_flags.extend(outer.iter().filter_map(|n| self.flag(n)));
        let stop = self.any(stop_flags, span);
        if matches!(header, LoopHeader::Unbounded) && stop.is_none() {
            self.diagnostics
                .error_at(span, "this loop never ends: give it a `break`");
        }
        self.loops.pop();
        // Carried variables live outside the loop: a body's `let` that shadows one, or a
        // `for` variable of the same name, is dropped with the loop's scope before the next
        // values are read.
        self.scopes.pop();
        let nexts: Vec<ValueId> = carried
            .iter()
            .map(|(name, init, _)| match self.lookup(name) {
                Some(Val::Scalar(next)) => *next,
                _ => *init,
            })
            .collect();
        let body = self.blocks.pop().expect("the loop body block is open");

        // A flag the loop does not carry cannot change in it (no exit of that kind is inside),
        // but guards in the body may have rebound it to a value of the body's own.
        for (name, flag) in before_loop {
            if let Some(flag) = flag {
                self.assign_name(&name, Val::Scalar(flag));
            }
        }
        let mut carried_vars = Vec::new();
        for ((name, init, entry), next) in carried.into_iter().zip(nexts) {
            let ty = unify(&self.node(init).ty, &self.node(next).ty);
            self.graph.node_mut(entry).ty = ty.clone();
            let exit = self.define(Op::LoopExit, ty, span, parent);
            self.assign_name(&name, Val::Scalar(exit));
            carried_vars.push(Carried {
                init,
                entry,
                next,
                exit,
            });
        }
        self.blocks
            .last_mut()
            .expect("a block is always open")
            .stmts
            .push(Stmt::Loop(Box::new(Loop {
                id,
                header,
                carried: carried_vars,
                body,
                stop,
                span,
            })));
        if is_loop_expr {
            self.lookup(&break_value(id)).cloned().unwrap_or_else(unit)
        } else {
            unit()
        }
    }

    fn loop_target(&mut self, label: Option<&syn::Lifetime>, span: Span) -> Option<(usize, bool)> {
        let found = match label {
            None => self.loops.iter().rev().find(|l| !l.block),
            Some(label) => {
                let name = label.ident.to_string();
                self.loops
                    .iter()
                    .rev()
                    .find(|l| l.label.as_deref() == Some(name.as_str()))
            }
        };
        match found {
            Some(l) => Some((l.id, l.has_value)),
            None => {
                self.diagnostics
                    .error_at(span, "this `break` or `continue` has no loop to leave");
                None
            }
        }
    }

    pub(super) fn break_expr(&mut self, e: &syn::ExprBreak) -> Val {
        let Some((id, has_value)) = self.loop_target(e.label.as_ref(), e.span()) else {
            return Val::Never;
        };
        if let Some(value) = &e.expr {
            if !has_value {
                return self.unsupported(e, "only `loop` can `break` with a value");
            }
            let value = self.expr(value);
            self.assign_name(&break_value(id), value);
        }
        self.set_flag(&broke(id), true, e.span());
        Val::Never
    }

    /// `'a: { .. break 'a v; .. }`: the block's statements run as in any block, leaving it
    /// sets the block's flag as leaving a loop does (so the rest of the block runs only where
    /// it did not), and its value is the `break`'s where the flag is set.
    pub(super) fn labeled_block(&mut self, label: &syn::Label, block: &syn::Block) -> Val {
        let id = self.next_loop_id;
        self.next_loop_id += 1;
        let span = label.name.span();
        let not_yet = self.bool_constant(false, span);
        self.bind(broke(id), Val::Scalar(not_yet));
        let placeholder = self.placeholder(Ty::Unknown, span);
        self.bind(break_value(id), Val::Scalar(placeholder));
        self.loops.push(LoopContext {
            id,
            label: Some(label.name.ident.to_string()),
            has_value: true,
            block: true,
        });
        let value = self.block(block);
        self.loops.pop();
        let Some(left) = self.flag(&broke(id)) else {
            return value;
        };
        // A block left only by `break 'a;` (a statement, `()`) has no break value.
        let broken = match self.lookup(&break_value(id)).cloned() {
            Some(Val::Scalar(v)) if v == placeholder => unit(),
            Some(val) => val,
            None => unit(),
        };
        if value == Val::Never || value == unit() {
            return if value == Val::Never { broken } else { value };
        }
        match self.const_bool(left) {
            Some(false) => value,
            Some(true) => broken,
            None => self.branch(left, move |_| broken, move |_| value, span),
        }
    }

    pub(super) fn continue_expr(&mut self, e: &syn::ExprContinue) -> Val {
        if self.loops.iter().any(|l| {
            l.block
                && e.label
                    .as_ref()
                    .is_some_and(|t| l.label.as_deref() == Some(t.ident.to_string().as_str()))
        }) {
            return self.unsupported(
                e,
                "`continue` cannot name a labeled block: use `break` with the block's label",
            );
        }
        if let Some((id, _)) = self.loop_target(e.label.as_ref(), e.span()) {
            self.set_flag(&continued(id), true, e.span());
        }
        Val::Never
    }
}

enum LoopSyntax<'a> {
    Range(RangeSyntax<'a>, Option<String>),
    While(&'a Expr),
    Loop,
}

/// `a..b`, `a..=b`, `(a..b).rev()`, `(a..b).step_by(s)`, `(a..b).rev().step_by(s)`.
struct RangeSyntax<'a> {
    start: &'a Expr,
    end: &'a Expr,
    inclusive: bool,
    reverse: bool,
    step: Option<&'a Expr>,
}

impl<'a> RangeSyntax<'a> {
    fn parse(expr: &'a Expr) -> Option<RangeSyntax<'a>> {
        match expr {
            Expr::Paren(inner) => RangeSyntax::parse(&inner.expr),
            Expr::Group(inner) => RangeSyntax::parse(&inner.expr),
            Expr::Range(range) => Some(RangeSyntax {
                start: range.start.as_deref()?,
                end: range.end.as_deref()?,
                inclusive: matches!(range.limits, syn::RangeLimits::Closed(_)),
                reverse: false,
                step: None,
            }),
            Expr::MethodCall(call) if call.method == "rev" && call.args.is_empty() => {
                let inner = RangeSyntax::parse(&call.receiver)?;
                (!inner.reverse && inner.step.is_none()).then_some(RangeSyntax {
                    reverse: true,
                    ..inner
                })
            }
            Expr::MethodCall(call) if call.method == "step_by" && call.args.len() == 1 => {
                let inner = RangeSyntax::parse(&call.receiver)?;
                inner.step.is_none().then_some(RangeSyntax {
                    step: call.args.first(),
                    ..inner
                })
            }
            _ => None,
        }
    }
}

/// What a loop body does to the world outside it, read off the syntax before lowering: the
/// variables it assigns and the exits that leave it.
#[derive(Default)]
struct LoopScan {
    assigned: Vec<String>,
    returns: bool,
    /// Labels of enclosing loops that the body breaks out of or continues.
    outer_labels: Vec<String>,
    breaks_with_value: bool,
    label: Option<String>,
    inner_labels: Vec<Option<String>>,
}

impl LoopScan {
    fn of(body: &syn::Block, syntax: &LoopSyntax<'_>, label: Option<&str>) -> LoopScan {
        let mut scan = LoopScan {
            label: label.map(str::to_owned),
            ..LoopScan::default()
        };
        if let LoopSyntax::While(cond) = syntax {
            scan.visit_expr(cond);
        }
        scan.visit_block(body);
        scan
    }

    fn assigned_place(&mut self, place: &Expr) {
        match place {
            Expr::Path(path) => {
                if let Some(ident) = path.path.get_ident() {
                    self.assigned.push(ident.to_string());
                }
            }
            Expr::Paren(inner) => self.assigned_place(&inner.expr),
            Expr::Tuple(tuple) => tuple.elems.iter().for_each(|e| self.assigned_place(e)),
            _ => {}
        }
    }

    fn exit(&mut self, label: Option<&syn::Lifetime>, with_value: bool) {
        match label.map(|l| l.ident.to_string()) {
            None => {
                if self.inner_labels.is_empty() && with_value {
                    self.breaks_with_value = true;
                }
            }
            Some(name) => {
                if self
                    .inner_labels
                    .iter()
                    .any(|l| l.as_deref() == Some(name.as_str()))
                {
                    return;
                }
                if self.label.as_deref() == Some(name.as_str()) {
                    self.breaks_with_value |= with_value;
                } else if !self.outer_labels.contains(&name) {
                    self.outer_labels.push(name);
                }
            }
        }
    }

    fn nested(&mut self, label: Option<&syn::Label>, visit: impl FnOnce(&mut Self)) {
        self.inner_labels
            .push(label.map(|l| l.name.ident.to_string()));
        visit(self);
        self.inner_labels.pop();
    }
}

impl<'ast> Visit<'ast> for LoopScan {
    fn visit_expr_assign(&mut self, e: &'ast syn::ExprAssign) {
        self.assigned_place(&e.left);
        syn::visit::visit_expr_assign(self, e);
    }

    fn visit_expr_binary(&mut self, e: &'ast syn::ExprBinary) {
        if matches!(
            e.op,
            BinOp::AddAssign(_)
                | BinOp::SubAssign(_)
                | BinOp::MulAssign(_)
                | BinOp::DivAssign(_)
                | BinOp::RemAssign(_)
                | BinOp::BitAndAssign(_)
                | BinOp::BitOrAssign(_)
                | BinOp::BitXorAssign(_)
                | BinOp::ShlAssign(_)
                | BinOp::ShrAssign(_)
        ) {
            self.assigned_place(&e.left);
        }
        syn::visit::visit_expr_binary(self, e);
    }

    fn visit_expr_return(&mut self, e: &'ast syn::ExprReturn) {
        self.returns = true;
        syn::visit::visit_expr_return(self, e);
    }

    fn visit_expr_break(&mut self, e: &'ast syn::ExprBreak) {
        self.exit(e.label.as_ref(), e.expr.is_some());
        syn::visit::visit_expr_break(self, e);
    }

    fn visit_expr_continue(&mut self, e: &'ast syn::ExprContinue) {
        self.exit(e.label.as_ref(), false);
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.visit_expr(&e.expr);
        self.nested(e.label.as_ref(), |this| this.visit_block(&e.body));
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.nested(e.label.as_ref(), |this| {
            this.visit_expr(&e.cond);
            this.visit_block(&e.body);
        });
    }

    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.nested(e.label.as_ref(), |this| this.visit_block(&e.body));
    }

    // A closure that the iterator rewrite inlines assigns what its body assigns
    // (`.map(|v| { s += v * v; v })`): those variables are carried by the loop too.
    fn visit_item(&mut self, _: &'ast Item) {}
}
