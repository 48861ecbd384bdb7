//! Reverse steps to tokens. Input: the `Step`s of the whole function. Output: statements in
//! which each adjoint is declared by its first contribution (`let`, `let mut` only if more
//! follow) or, when that contribution is nested in an `if` or loop, as zero just before it.

use super::Step;
use crate::graph::{FloatTy, Graph, RegionId, Ty, ValueId};
use crate::names;
use crate::spell::zero;
use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use std::collections::BTreeSet;

/// Moves the element accumulations of each stretch of steps that touches no array adjoint
/// otherwise to its end, ordered by array and index (`g[i][0]`, `g[i][1]`, `g[i][2]`,
/// `g[j][0]`, ...), where the reverse sweep produced them in reverse program order. Adjacent
/// elements in order let LLVM pair their loads and stores. Each element gets the same
/// additions, in the same order unless two index expressions name it at run time.
pub(super) fn group_accumulations(steps: Vec<Step>) -> Vec<Step> {
    let mut out = Vec::with_capacity(steps.len());
    let mut pending: Vec<Step> = Vec::new();
    let flush = |pending: &mut Vec<Step>, out: &mut Vec<Step>| {
        pending.sort_by(|a, b| match (a, b) {
            (
                Step::Accumulate {
                    array: a,
                    indices: i,
                    ..
                },
                Step::Accumulate {
                    array: b,
                    indices: j,
                    ..
                },
            ) => (a.0, i).cmp(&(b.0, j)),
            _ => std::cmp::Ordering::Equal,
        });
        out.append(pending);
    };
    for step in steps {
        match &step {
            Step::Accumulate { .. } => pending.push(step),
            Step::Contribute { amount, .. } if !touches_array_adjoints(amount) => out.push(step),
            Step::Code(tokens) if !touches_array_adjoints(tokens) => out.push(step),
            Step::CarryInit { .. } | Step::CarryBack { .. } => out.push(step),
            _ => {
                flush(&mut pending, &mut out);
                out.push(step);
            }
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Whether generated code names an array's adjoint (or the gradient that holds one).
pub(super) fn touches_array_adjoints(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|token| match token {
        TokenTree::Ident(ident) => names::is_array_adjoint(&ident.to_string()),
        TokenTree::Group(group) => touches_array_adjoints(&group.stream()),
        _ => false,
    })
}

/// Calls `visit` with each contribution's target and amount in `steps`, nested steps
/// included, in order.
fn each_contribution<'s>(steps: &'s [Step], visit: &mut dyn FnMut(ValueId, &'s TokenStream)) {
    for step in steps {
        match step {
            Step::Contribute { target, amount } => visit(*target, amount),
            Step::If {
                then_steps,
                else_steps,
                ..
            } => {
                each_contribution(then_steps, visit);
                each_contribution(else_steps, visit);
            }
            Step::Loop { body, .. } | Step::Fill { body, .. } => each_contribution(body, visit),
            Step::Code(_)
            | Step::CarryInit { .. }
            | Step::CarryBack { .. }
            | Step::Accumulate { .. } => {}
        }
    }
}

/// The amounts contributed to `target`'s adjoint in `steps`, nested steps included.
pub(super) fn contributions(steps: &[Step], target: ValueId) -> Vec<&TokenStream> {
    let mut found = Vec::new();
    each_contribution(steps, &mut |t, amount| {
        if t == target {
            found.push(amount);
        }
    });
    found
}

/// Turns steps into code. The first contribution to an adjoint declares it (`mut` only if
/// more follow); an adjoint that first receives a contribution inside an `if` or a loop but
/// belongs to an outer block is declared as zero just before that `if` or loop, so it is in
/// scope for everything after.
pub fn render(graph: &Graph, steps: &[Step]) -> Vec<TokenStream> {
    let mut counts = vec![0usize; graph.nodes.len()];
    each_contribution(steps, &mut |target, _| counts[target.0] += 1);
    let mut renderer = Renderer {
        graph,
        counts,
        declared: vec![false; graph.nodes.len()],
    };
    let mut out = Vec::new();
    renderer.steps(steps, &mut out);
    out
}

struct Renderer<'g> {
    graph: &'g Graph,
    counts: Vec<usize>,
    declared: Vec<bool>,
}

/// `target += amount;`, or `target = target + amount;` for a generic float type, which
/// num-traits' `Float` and `Real` give no `+=`.
fn add_to(target: &dyn quote::ToTokens, amount: &TokenStream, generic: bool) -> TokenStream {
    if generic {
        quote!(#target = #target + #amount;)
    } else {
        quote!(#target += #amount;)
    }
}

impl Renderer<'_> {
    /// Whether a value of type `ty` (or its elements) has a generic float type.
    fn generic(&self, ty: &Ty) -> bool {
        matches!(ty.scalar(), Ty::Float(Some(FloatTy::Generic(_))))
    }

    fn adjoint_or_zero(&self, node: ValueId) -> TokenStream {
        if self.declared[node.0] {
            let adj = names::adjoint(node);
            quote!(#adj)
        } else {
            zero(self.graph, node)
        }
    }

    /// Declares, as zero, the adjoints of outer nodes that a nested `if` or loop adds to.
    fn declare_outer(
        &mut self,
        inner: &[&[Step]],
        regions: &[RegionId],
        out: &mut Vec<TokenStream>,
    ) {
        let mut targets = BTreeSet::new();
        for steps in inner {
            each_contribution(steps, &mut |target, _| {
                targets.insert(target);
            });
        }
        for target in targets {
            let region = self.graph.node(target).region;
            let inside = regions.iter().any(|r| self.graph.region_within(region, *r));
            if !inside && !self.declared[target.0] {
                self.declared[target.0] = true;
                // Declared here, it is added to later, so it is mutable.
                self.counts[target.0] = self.counts[target.0].max(2);
                let adj = names::adjoint(target);
                let zero = zero(self.graph, target);
                out.push(quote!(let mut #adj = #zero;));
            }
        }
    }

    /// The code of a loop's body (a `for` loop's or a fill's closure), after declaring in
    /// `out` the outer adjoints it adds to.
    fn loop_body(
        &mut self,
        body: &[Step],
        region: RegionId,
        out: &mut Vec<TokenStream>,
    ) -> Vec<TokenStream> {
        self.declare_outer(&[body], &[region], out);
        let mut body_code = Vec::new();
        self.steps(body, &mut body_code);
        body_code
    }

    fn steps(&mut self, steps: &[Step], out: &mut Vec<TokenStream>) {
        for step in steps {
            match step {
                Step::Code(tokens) => out.push(tokens.clone()),
                Step::Contribute { target, amount } => {
                    let adj = names::adjoint(*target);
                    if self.declared[target.0] {
                        out.push(add_to(
                            &adj,
                            amount,
                            self.generic(&self.graph.node(*target).ty),
                        ));
                    } else {
                        self.declared[target.0] = true;
                        if self.counts[target.0] > 1 {
                            out.push(quote!(let mut #adj = #amount;));
                        } else {
                            out.push(quote!(let #adj = #amount;));
                        }
                    }
                }
                Step::Accumulate {
                    array,
                    element,
                    amount,
                    ..
                } => {
                    let generic = self.generic(&self.graph.array(*array).ty);
                    out.push(add_to(element, amount, generic));
                }
                Step::CarryInit { var, node } => {
                    let value = self.adjoint_or_zero(*node);
                    out.push(quote!(let mut #var = #value;));
                }
                Step::CarryBack { var, node } => {
                    let value = self.adjoint_or_zero(*node);
                    out.push(quote!(#var = #value;));
                }
                Step::If {
                    cond,
                    then_steps,
                    else_steps,
                    regions,
                } => {
                    self.declare_outer(&[then_steps, else_steps], regions, out);
                    let mut then_code = Vec::new();
                    self.steps(then_steps, &mut then_code);
                    let mut else_code = Vec::new();
                    self.steps(else_steps, &mut else_code);
                    out.push(quote! {
                        if #cond {
                            #(#then_code)*
                        } else {
                            #(#else_code)*
                        }
                    });
                }
                Step::Loop {
                    header,
                    body,
                    region,
                } => {
                    let body_code = self.loop_body(body, *region, out);
                    out.push(quote! {
                        #header {
                            #(#body_code)*
                        }
                    });
                }
                Step::Fill {
                    function,
                    args,
                    counter,
                    body,
                    element,
                    region,
                } => {
                    let body_code = self.loop_body(body, *region, out);
                    out.push(quote! {
                        #function(#(#args,)* |#counter| {
                            #(#body_code)*
                            #element
                        });
                    });
                }
            }
        }
    }
}
