//! Control flow: `if` and `match` as branches whose merges carry what the branches change,
//! and the exit flags that `return`, `break` and `continue` set.
//!
//! Input: `if c { y = y * x; }` with `y` bound to `v3`. Output: an `If` statement on `c`
//! whose then-block computes `v5 = v3 * x`, and a merge node `v6` (`v5` after the then-block,
//! `v3` after the empty else-block) that `y` is bound to after the `if`. A `match` becomes a
//! chain of such `If`s, one per arm, tested by `patterns.rs`.

use super::patterns::pattern_binding;
use super::{Lowerer, RETURNED, Val, broke, continued, unit};
use crate::graph::{
    ArrayId, ArrayInit, Block, If, Merge, Op, RegionId, Stmt, Ty, ValueId, pattern_holds_data,
    unify,
};
use proc_macro2::Span;
use syn::Expr;
use syn::spanned::Spanned;

impl Lowerer<'_> {
    /// Lowers an `if`: each branch into its own block, then a merge node for every variable
    /// either branch changed, and for the value.
    pub(super) fn branch(
        &mut self,
        cond: ValueId,
        then_branch: impl FnOnce(&mut Self) -> Val,
        else_branch: impl FnOnce(&mut Self) -> Val,
        span: Span,
    ) -> Val {
        let parent = self.region();
        let before = self.scopes.values();
        let then_region = self.graph.new_region(Some(parent));
        self.blocks.push(Block {
            region: then_region,
            stmts: Vec::new(),
        });
        let then_value = then_branch(self);
        let then_block = self.blocks.pop().expect("the then block is open");
        let after_then = self.restore(&before);
        let else_region = self.graph.new_region(Some(parent));
        self.blocks.push(Block {
            region: else_region,
            stmts: Vec::new(),
        });
        let else_value = else_branch(self);
        let mut else_block = self.blocks.pop().expect("the else block is open");
        let after_else = self.restore(&before);
        // Two arrays, one from each branch (`if c { [a, b] } else { [d, e] }`): the `if` gives
        // their elements, merged one by one, as a new array after it.
        let mut then_block = then_block;
        let chosen_elements = match (&then_value, &else_value) {
            (Val::Array(t), Val::Array(e)) if t != e => self
                .array_elements_in(&mut then_block, *t, span)
                .zip(self.array_elements_in(&mut else_block, *e, span)),
            _ => None,
        };

        let mut merges = Vec::new();
        for (depth, scope) in before.iter().enumerate() {
            for (index, original) in scope.iter().enumerate() {
                let (t, e) = (&after_then[depth][index], &after_else[depth][index]);
                if t != original || e != original {
                    let merged = self.merge(t.clone(), e.clone(), &mut merges, parent, span);
                    self.scopes.set(depth, index, merged);
                }
            }
        }
        let (value, chosen_array) = match chosen_elements {
            Some(((ty, then_elements), (_, else_elements))) => {
                let merged = then_elements
                    .into_iter()
                    .zip(else_elements)
                    .map(|(t, e)| {
                        match self.merge(Val::Scalar(t), Val::Scalar(e), &mut merges, parent, span)
                        {
                            Val::Scalar(id) => id,
                            _ => unreachable!("scalars merge into a scalar"),
                        }
                    })
                    .collect();
                (Val::Never, Some((ty, merged)))
            }
            None => (
                self.merge(then_value, else_value, &mut merges, parent, span),
                None,
            ),
        };
        self.blocks
            .last_mut()
            .expect("a block is always open")
            .stmts
            .push(Stmt::If(Box::new(If {
                cond,
                then_block,
                else_block,
                merges,
                span,
            })));
        match chosen_array {
            Some((ty, elements)) => {
                Val::Array(self.new_array(ty, ArrayInit::Literal(elements), span))
            }
            None => value,
        }
    }

    /// Reads every element of a one-dimensional array of known length at the end of `block`
    /// (a branch just lowered), with the array's type; `None` for other arrays.
    fn array_elements_in(
        &mut self,
        block: &mut Block,
        array: ArrayId,
        span: Span,
    ) -> Option<(Ty, Vec<ValueId>)> {
        let ty = self.graph.array(array).ty.clone();
        let Ty::Array(elem, len) = &ty else {
            return None;
        };
        let len: usize = len.0.to_string().trim_end_matches("usize").parse().ok()?;
        if matches!(**elem, Ty::Array(..))
            || !matches!(
                self.graph.array(array).init,
                ArrayInit::Literal(_)
                    | ArrayInit::Literal2(_)
                    | ArrayInit::Repeat { .. }
                    | ArrayInit::Copy(_)
                    | ArrayInit::Call { .. }
                    | ArrayInit::Param { .. }
            )
        {
            return None;
        }
        let elements = (0..len)
            .map(|i| {
                let index = proc_macro2::Literal::usize_unsuffixed(i);
                let index = self.define(
                    Op::Constant(quote::quote!(#index)),
                    Ty::Int,
                    span,
                    block.region,
                );
                block.stmts.push(Stmt::Node(index));
                let read = self.define(
                    Op::ArrayRead {
                        array,
                        indices: vec![index],
                    },
                    (**elem).clone(),
                    span,
                    block.region,
                );
                block.stmts.push(Stmt::Node(read));
                read
            })
            .collect();
        Some((ty, elements))
    }

    /// Puts every binding back to its value before a branch and returns the branch's values.
    fn restore(&mut self, before: &[Vec<Val>]) -> Vec<Vec<Val>> {
        self.scopes.restore(before)
    }

    fn merge(
        &mut self,
        then_value: Val,
        else_value: Val,
        merges: &mut Vec<Merge>,
        region: RegionId,
        span: Span,
    ) -> Val {
        match (then_value, else_value) {
            (Val::Never, Val::Never) => Val::Never,
            (Val::Array(t), Val::Array(e)) if t == e => Val::Array(t),
            (Val::Array(a), Val::Never) | (Val::Never, Val::Array(a)) => Val::Array(a),
            (Val::Array(_), Val::Array(_)) => {
                self.diagnostics.error_at(
                    span,
                    "branches that give different arrays are not supported yet: declare the array before the `if` and assign its elements in the branches",
                );
                self.poison(span)
            }
            (Val::Scalar(t), Val::Scalar(e)) if t == e => Val::Scalar(t),
            (Val::Scalar(t), Val::Scalar(e)) => {
                let ty = unify(&self.node(t).ty, &self.node(e).ty);
                let out = self.define(Op::Merge, ty, span, region);
                merges.push(Merge {
                    out,
                    then_value: t,
                    else_value: e,
                });
                Val::Scalar(out)
            }
            (Val::Tuple(ts), Val::Tuple(es)) if ts.len() == es.len() => Val::Tuple(
                ts.into_iter()
                    .zip(es)
                    .map(|(t, e)| self.merge(t, e, merges, region, span))
                    .collect(),
            ),
            (Val::Never, Val::Scalar(e)) => {
                let ty = self.node(e).ty.clone();
                let t = self.placeholder(ty, span);
                self.merge(Val::Scalar(t), Val::Scalar(e), merges, region, span)
            }
            (Val::Scalar(t), Val::Never) => {
                let ty = self.node(t).ty.clone();
                let e = self.placeholder(ty, span);
                self.merge(Val::Scalar(t), Val::Scalar(e), merges, region, span)
            }
            (Val::Never, Val::Tuple(es)) => {
                let ts = vec![Val::Never; es.len()];
                self.merge(Val::Tuple(ts), Val::Tuple(es), merges, region, span)
            }
            (Val::Tuple(ts), Val::Never) => {
                let es = vec![Val::Never; ts.len()];
                self.merge(Val::Tuple(ts), Val::Tuple(es), merges, region, span)
            }
            (Val::Closure(t), Val::Closure(e)) if t == e => Val::Closure(t),
            (Val::Closure(_), _) | (_, Val::Closure(_)) => {
                self.diagnostics.error_at(
                    span,
                    "a closure chosen by a branch is not supported in a differentiable function: call the closures inside the branches (`if c { f(x) } else { g(x) }`)",
                );
                self.poison(span)
            }
            _ => {
                self.diagnostics
                    .error_at(span, "the branches give values of different shapes");
                self.poison(span)
            }
        }
    }

    // ----- exit flags -----

    pub(super) fn flag(&self, name: &str) -> Option<ValueId> {
        match self.lookup(name) {
            Some(Val::Scalar(id)) => Some(*id),
            _ => None,
        }
    }

    pub(super) fn set_flag(&mut self, name: &str, value: bool, span: Span) {
        let constant = self.bool_constant(value, span);
        self.assign_name(name, Val::Scalar(constant));
    }

    /// True on the paths where an exit has happened and the rest of the block must not run.
    pub(super) fn exit_condition(&mut self, span: Span) -> Option<ValueId> {
        let mut flags: Vec<ValueId> = self.flag(RETURNED).into_iter().collect();
        let names: Vec<String> = self
            .loops
            .iter()
            .flat_map(|l| [broke(l.id), continued(l.id)])
            .collect();
        flags.extend(names.iter().filter_map(|n| self.flag(n)));
        self.any(flags, span)
    }

    /// The flags of every exit that can be taken here: `return`, and leaving any enclosing
    /// loop.
    pub(super) fn exit_flag_names(&self) -> Vec<String> {
        let mut names = vec![RETURNED.to_owned()];
        names.extend(
            self.loops
                .iter()
                .flat_map(|l| [broke(l.id), continued(l.id)]),
        );
        names
    }

    /// On the path where no exit happened, every exit flag is known to be false.
    pub(super) fn clear_exits(&mut self, span: Span) {
        for name in self.exit_flag_names() {
            if let Some(flag) = self.flag(&name)
                && self.const_bool(flag) != Some(false)
            {
                self.set_flag(&name, false, span);
            }
        }
    }

    // ----- `if` and `match` -----

    pub(super) fn if_expr(&mut self, e: &syn::ExprIf) -> Val {
        if let Expr::Let(lets) = &*e.cond {
            return self.if_let(e, lets);
        }
        let cond = self.scalar_expr(&e.cond);
        let then_branch = &e.then_branch;
        let else_branch = e.else_branch.as_ref().map(|(_, expr)| &**expr);
        self.branch(
            cond,
            |this| this.block(then_branch),
            |this| match else_branch {
                Some(expr) => this.expr(expr),
                None => unit(),
            },
            e.if_token.span,
        )
    }

    /// `if let Some(t) = lookup(i) { .. } else { .. }`: the pattern's test as rustc writes it,
    /// and its names bound in the `then` branch. The value tested is a constant.
    fn if_let(&mut self, e: &syn::ExprIf, lets: &syn::ExprLet) -> Val {
        let scrutinee = self.scalar_expr(&lets.expr);
        let span = e.if_token.span;
        let Some(test) = self.pattern_test(scrutinee, &lets.pat) else {
            return self.poison(span);
        };
        let then_branch = &e.then_branch;
        let else_branch = e.else_branch.as_ref().map(|(_, expr)| &**expr);
        let pattern = &*lets.pat;
        let then = |this: &mut Self| {
            this.in_scope(|this| {
                match pattern_binding(pattern) {
                    Some(name) if !pattern_holds_data(pattern) => {
                        this.bind(name, Val::Scalar(scrutinee));
                    }
                    _ => this.bind_pattern_names(scrutinee, pattern),
                }
                this.block(then_branch)
            })
        };
        match test {
            // An irrefutable pattern: the `then` branch always runs.
            None => then(self),
            Some(test) => self.branch(
                test,
                then,
                |this| match else_branch {
                    Some(expr) => this.expr(expr),
                    None => unit(),
                },
                span,
            ),
        }
    }

    /// A `match` on an integer or bool becomes a chain of `if`s, one per arm.
    pub(super) fn match_expr(&mut self, e: &syn::ExprMatch) -> Val {
        let scrutinee = self.scalar_expr(&e.expr);
        if e.arms.is_empty() {
            return self.unsupported(e, "a `match` needs at least one arm");
        }
        self.arms(scrutinee, &e.arms)
    }

    fn arms(&mut self, scrutinee: ValueId, arms: &[syn::Arm]) -> Val {
        let (arm, rest) = arms.split_first().expect("arms is not empty");
        let span = arm.pat.span();
        // rustc proves the match exhaustive, so the last arm needs no test.
        if rest.is_empty() {
            return self.arm_body(scrutinee, arm);
        }
        let Some(test) = self.pattern_test(scrutinee, &arm.pat) else {
            return self.poison(span);
        };
        let test = match &arm.guard {
            Some((_, guard)) => {
                let guard = &**guard;
                let always = self.bool_constant(true, span);
                let matched = test.unwrap_or(always);
                let f = self.bool_constant(false, span);
                let bindings = pattern_binding(&arm.pat);
                match self.branch(
                    matched,
                    |this| {
                        this.in_scope(|this| {
                            if pattern_holds_data(&arm.pat) {
                                this.bind_pattern_names(scrutinee, &arm.pat);
                            } else if let Some(name) = &bindings {
                                this.bind(name.clone(), Val::Scalar(scrutinee));
                            }
                            Val::Scalar(this.scalar_expr(guard))
                        })
                    },
                    |_| Val::Scalar(f),
                    span,
                ) {
                    Val::Scalar(id) => Some(id),
                    _ => None,
                }
            }
            None => test,
        };
        match test {
            None => self.arm_body(scrutinee, arm),
            Some(test) => self.branch(
                test,
                |this| this.arm_body(scrutinee, arm),
                |this| this.arms(scrutinee, rest),
                span,
            ),
        }
    }

    fn arm_body(&mut self, scrutinee: ValueId, arm: &syn::Arm) -> Val {
        self.in_scope(|this| {
            if pattern_holds_data(&arm.pat) {
                this.bind_pattern_names(scrutinee, &arm.pat);
            } else if let Some(name) = pattern_binding(&arm.pat) {
                this.bind(name, Val::Scalar(scrutinee));
            }
            this.expr(&arm.body)
        })
    }
}
