//! The reverse sweep: adjoints flow from the output back to the parameters.
//!
//! Nodes are visited in reverse order; each node that has an adjoint applies its local
//! derivative rule and contributes to its arguments' adjoints. Input: `v4 = v3 * z` with
//! `adj4 = upstream`. Output: `let adj3 = adj4 * z; let adj_z = adj4 * v3;`. Only active
//! nodes (floats that depend on a differentiated parameter) receive contributions, so constant
//! subexpressions cost nothing. The first contribution declares the adjoint, later ones add
//! to it, so no adjoint is ever initialised to zero and then overwritten.

use crate::emit::operand;
use crate::graph::{BinaryOp, Graph, Op, Ty, ValueId};
use crate::names;
use crate::rules::Derivative;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub struct ReverseSweep {
    pub statements: Vec<TokenStream>,
    /// The adjoint of every node that received one; `None` elsewhere.
    pub has_adjoint: Vec<bool>,
    /// Forward values that the reverse sweep reads.
    pub uses: Vec<ValueId>,
}

enum Step {
    Temporary(TokenStream),
    Contribute {
        target: ValueId,
        amount: TokenStream,
    },
}

struct Sweep<'g> {
    graph: &'g Graph,
    steps: Vec<Step>,
    has_adjoint: Vec<bool>,
    uses: Vec<ValueId>,
}

pub fn reverse(graph: &Graph, output: ValueId) -> ReverseSweep {
    let mut sweep = Sweep {
        graph,
        steps: Vec::new(),
        has_adjoint: vec![false; graph.nodes.len()],
        uses: Vec::new(),
    };
    let upstream = names::core_upstream();
    sweep.contribute(output, quote!(#upstream));
    for index in (0..=output.0).rev() {
        if sweep.has_adjoint[index] {
            sweep.pullback(ValueId(index));
        }
    }
    let statements = render(&sweep.steps, graph.nodes.len());
    ReverseSweep {
        statements,
        has_adjoint: sweep.has_adjoint,
        uses: sweep.uses,
    }
}

impl Sweep<'_> {
    /// The forward value of a node, as the reverse sweep reads it.
    fn value(&mut self, id: ValueId) -> TokenStream {
        self.uses.push(id);
        operand(self.graph, id)
    }

    fn is_active(&self, id: ValueId) -> bool {
        self.graph.node(id).active
    }

    fn contribute(&mut self, target: ValueId, amount: TokenStream) {
        if self.is_active(target) {
            self.has_adjoint[target.0] = true;
            self.steps.push(Step::Contribute { target, amount });
        }
    }

    fn pullback(&mut self, id: ValueId) {
        let node = self.graph.node(id);
        let span = node.span;
        let adj = names::adjoint(id);
        match &node.op {
            Op::Param { .. } | Op::Constant(_) | Op::Inactive { .. } => {}
            Op::Neg(a) => self.contribute(*a, quote_spanned!(span=> -#adj)),
            Op::Binary { op, lhs, rhs, .. } => self.binary(id, *op, *lhs, *rhs),
            Op::Cast { value, .. } => {
                if let Ty::Float(Some(source)) = self.graph.node(*value).ty {
                    let source = proc_macro2::Ident::new(source.name(), span);
                    self.contribute(*value, quote_spanned!(span=> #adj as #source));
                }
            }
            Op::FloatMethod { rule, args, .. } => {
                if rule.derivative == Derivative::Pullback {
                    let name = proc_macro2::Ident::new(rule.name, span);
                    let float_args: Vec<ValueId> = args
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| rule.arg_is_float(*i))
                        .map(|(_, a)| *a)
                        .collect();
                    let inputs: Vec<TokenStream> = args.iter().map(|a| self.value(*a)).collect();
                    let out = self.value(id);
                    let call =
                        quote_spanned!(span=> ::grad::pullback::#name(#(#inputs,)* #out, #adj));
                    self.distribute(id, &float_args, call);
                }
            }
            Op::Call { path, args } => {
                let vjp = names::callee_vjp(path);
                let float_args: Vec<ValueId> = args
                    .iter()
                    .copied()
                    .filter(|a| self.graph.node(*a).ty.is_float())
                    .collect();
                let inputs: Vec<TokenStream> = args.iter().map(|a| self.value(*a)).collect();
                let call = quote_spanned!(span=> #vjp(#(#inputs,)* #adj));
                self.distribute(id, &float_args, call);
            }
        }
    }

    /// Hands each float input its entry of a pullback's result: the value itself for one
    /// input, a destructured tuple for several.
    fn distribute(&mut self, id: ValueId, float_args: &[ValueId], call: TokenStream) {
        let span = self.graph.node(id).span;
        if let [only] = float_args {
            self.contribute(*only, call);
            return;
        }
        let partials: Vec<TokenStream> = float_args
            .iter()
            .enumerate()
            .map(|(k, a)| {
                if self.is_active(*a) {
                    let name = names::partial(id, k);
                    quote!(#name)
                } else {
                    quote!(_)
                }
            })
            .collect();
        self.steps.push(Step::Temporary(
            quote_spanned!(span=> let (#(#partials),*) = #call;),
        ));
        for (k, a) in float_args.iter().enumerate() {
            let name = names::partial(id, k);
            self.contribute(*a, quote!(#name));
        }
    }

    fn binary(&mut self, id: ValueId, op: BinaryOp, lhs: ValueId, rhs: ValueId) {
        let span = self.graph.node(id).span;
        let adj = names::adjoint(id);
        let (lhs_active, rhs_active) = (self.is_active(lhs), self.is_active(rhs));
        match op {
            BinaryOp::Add => {
                self.contribute(lhs, quote!(#adj));
                self.contribute(rhs, quote!(#adj));
            }
            BinaryOp::Sub => {
                self.contribute(lhs, quote!(#adj));
                self.contribute(rhs, quote_spanned!(span=> -#adj));
            }
            BinaryOp::Mul => {
                if lhs_active {
                    let b = self.value(rhs);
                    self.contribute(lhs, quote_spanned!(span=> #adj * #b));
                }
                if rhs_active {
                    let a = self.value(lhs);
                    self.contribute(rhs, quote_spanned!(span=> #adj * #a));
                }
            }
            BinaryOp::Div => {
                // d(a/b) = da/b - (a/b) db/b: one division serves both partials.
                let b = self.value(rhs);
                match (lhs_active, rhs_active) {
                    (true, true) => {
                        let out = self.value(id);
                        let scaled = names::partial(id, 0);
                        self.steps.push(Step::Temporary(
                            quote_spanned!(span=> let #scaled = #adj / #b;),
                        ));
                        self.contribute(lhs, quote!(#scaled));
                        self.contribute(rhs, quote_spanned!(span=> -#scaled * #out));
                    }
                    (true, false) => self.contribute(lhs, quote_spanned!(span=> #adj / #b)),
                    (false, true) => {
                        let out = self.value(id);
                        self.contribute(rhs, quote_spanned!(span=> -#adj * #out / #b));
                    }
                    (false, false) => {}
                }
            }
            BinaryOp::Rem => {
                let a = self.value(lhs);
                let b = self.value(rhs);
                let out = self.value(id);
                let call = quote_spanned!(span=> ::grad::pullback::rem(#a, #b, #out, #adj));
                self.distribute(id, &[lhs, rhs], call);
            }
            BinaryOp::Other => {}
        }
    }
}

/// The first contribution to an adjoint declares it (`mut` only if more follow).
fn render(steps: &[Step], node_count: usize) -> Vec<TokenStream> {
    let mut remaining = vec![0usize; node_count];
    for step in steps {
        if let Step::Contribute { target, .. } = step {
            remaining[target.0] += 1;
        }
    }
    let mut declared = vec![false; node_count];
    steps
        .iter()
        .map(|step| match step {
            Step::Temporary(tokens) => tokens.clone(),
            Step::Contribute { target, amount } => {
                let adj = names::adjoint(*target);
                if declared[target.0] {
                    quote!(#adj += #amount;)
                } else {
                    declared[target.0] = true;
                    if remaining[target.0] > 1 {
                        quote!(let mut #adj = #amount;)
                    } else {
                        quote!(let #adj = #amount;)
                    }
                }
            }
        })
        .collect()
}
