//! The tangent (forward-mode) sweep, a mode beside `reverse.rs`: the primal code of the
//! function body, as `primal.rs` writes it, with each active value's tangent computed right
//! after it. One sweep gives the function's value and its directional derivative `J · t`.
//!
//! Input: the lowered body of `fn f(x: f64, y: f64) -> f64 { let s = x * y; s.sin() }`.
//! Output, in the core `__f_value_and_jvp(x, y, x_tangent, y_tangent)`:
//!
//! ```text
//! let __v2 = x * y;
//! let __tan2 = x_tangent * y + x * y_tangent;
//! let __v3 = __v2.sin();
//! let __tan3 = __rules::sin_tangent(__v2, __v3, __tan2);
//! (__v3, __tan3)
//! ```
//!
//! An inactive value (one that does not depend on a differentiated parameter) has no
//! tangent: a rule's term for it is left out, and where a tangent must be spelled anyway (an
//! array element, a branch's result), it is the zero of its type. Each float method's
//! tangent is its `<name>_tangent` rule in `grad-runtime/src/pullback.rs`, the transpose of
//! its pullback, so that kinks follow the same conventions in both modes.
//!
//! A call's tangent is the callee's gradient (from its `_vjp`, which reverse mode needs
//! anyway) times its arguments' tangents; or, where second order is asked for, the callee's
//! own tangent function (`g_tangent`), which the second pass can differentiate again.
//!
//! An array or a tuple a call returns gets its tangent element by element, each from the
//! callee's `_vjp` along that element's unit upstream.
//!
//! A sub-slice passed to a call has the same part of its source's tangent as its tangent.
//!
//! Not yet covered (the function then has no `f_jvp`, see `companions.rs`): struct fields
//! passed to calls, macros whose value is a float, slices built in the body
//! other than collected `Vec`s.

use crate::graph::{
    ArrayId, ArrayInit, BinaryOp, Block, Graph, If, Loop, LoopHeader, Op, Output, Stmt, Ty, ValueId,
};
use crate::names;
use crate::primal::{Forward, TapeInfo, repeat_tokens};
use crate::rules::Derivative;
use crate::spell::{array_name, known_type, operand, zero, zeros};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use std::collections::HashMap;

/// Why a function's body has no tangent sweep yet: the construct, for the documentation of
/// the missing `f_jvp` and for tests.
pub type Unsupported = &'static str;

/// Whether the tangent sweep covers every node and array of the body.
pub fn unsupported(graph: &Graph) -> Option<Unsupported> {
    for node in graph.nodes.iter().filter(|n| n.active) {
        match &node.op {
            Op::Call { args, .. } => {
                // A field passed whole is read as a float by the reverse sweep, which checks
                // it (an array field there is an error naming the typed copy); its tangent
                // would be used unchecked.
                let fields = args.iter().any(|arg| match arg {
                    crate::graph::CallArg::Scalar(v) | crate::graph::CallArg::Borrowed(v) => {
                        matches!(graph.node(*v).op, Op::Field { .. })
                    }
                    _ => false,
                });
                if fields {
                    return Some("a struct field passed to a call");
                }
            }
            Op::Macro { value: true, .. } => return Some("a macro's float value"),
            Op::Inactive { .. } => return Some("a value grad cannot see into"),
            _ => {}
        }
    }
    for array in graph.arrays.iter().filter(|a| a.active) {
        match &array.init {
            ArrayInit::Heap { .. } => {}
            // A slice parameter's tangent is a slice the caller gives; a sub-slice is read
            // through its source (a call of one is refused above).
            ArrayInit::Param { .. } | ArrayInit::View { .. } => {}
            _ if matches!(array.ty, Ty::Slice(_)) => return Some("a slice built in the body"),
            _ => {}
        }
    }
    None
}

/// Why a sweep that takes its calls' tangents from the callees' `_tangent` functions (for
/// second order, `TangentSweep::callee_tangents`) cannot be written: a constant slice passed
/// on; a collected `Vec`.
pub fn callee_tangents_unsupported(graph: &Graph) -> Option<Unsupported> {
    // A constant slice, or a constant part of an array, has no tangent to pass on, and a
    // zero one would have to be allocated at its run-time length.
    let constant_slice = graph.nodes.iter().any(|node| match &node.op {
        Op::Call { args, .. } => args.iter().any(|arg| match *arg {
            crate::graph::CallArg::Array { array, .. } => {
                let source = graph.array(graph.view_source(array));
                let part = matches!(graph.array(array).init, ArrayInit::View { .. });
                (part || matches!(source.ty, Ty::Slice(_)))
                    && !source.active
                    && source.ty.scalar().is_float()
            }
            _ => false,
        }),
        _ => false,
    });
    if constant_slice {
        return Some(
            "it passes a constant slice, or a part of a constant array, to a call: name the parameter it comes from in `wrt`",
        );
    }
    // The tangent of a collected `Vec` is written with a runtime helper the second pass
    // has no rule for.
    if graph
        .arrays
        .iter()
        .any(|array| array.active && matches!(array.init, ArrayInit::Heap { .. }))
    {
        return Some(
            "it collects a `Vec` of differentiated values, which second derivatives do not take yet",
        );
    }
    None
}

/// Whether `scaled` is `c · u` or `u · c` of a constant `c` and `u` itself.
fn scales(graph: &Graph, scaled: ValueId, u: ValueId) -> bool {
    match graph.node(scaled).op {
        Op::Binary {
            op: BinaryOp::Mul,
            lhs,
            rhs,
            ..
        } => (lhs == u && !graph.node(rhs).active) || (rhs == u && !graph.node(lhs).active),
        _ => false,
    }
}

/// The tangent sweep of the function body.
pub struct TangentSweep<'a> {
    graph: &'a Graph,
    /// The tangent of each differentiated parameter's node, and of each array parameter: the
    /// core's tangent arguments.
    param_tangents: HashMap<ValueId, TokenStream>,
    array_param_tangents: HashMap<ArrayId, TokenStream>,
    /// The tangent of each differentiated struct parameter: a value of the struct, whose
    /// fields are its fields' tangents.
    pub struct_tangents: HashMap<ValueId, TokenStream>,
    /// A call's tangent from the callee's tangent function (`g_tangent(args.., tangents..)`,
    /// which second order differentiates again through `g_tangent_vjp`), instead of from its
    /// `_vjp` (which every differentiable callee has, but which the second pass cannot
    /// differentiate).
    pub callee_tangents: bool,
}

/// The value of the function and its tangent, and the code that computes them.
pub struct Swept {
    pub code: Vec<TokenStream>,
    pub value: TokenStream,
    pub tangent: TokenStream,
}

impl<'a> TangentSweep<'a> {
    pub fn new(
        graph: &'a Graph,
        param_tangents: HashMap<ValueId, TokenStream>,
        array_param_tangents: HashMap<ArrayId, TokenStream>,
    ) -> Self {
        TangentSweep {
            graph,
            param_tangents,
            array_param_tangents,
            struct_tangents: HashMap::new(),
            callee_tangents: false,
        }
    }

    pub fn function(&self, body: &Block, output: &Output) -> Swept {
        let graph = self.graph;
        let mut live = vec![false; graph.nodes.len()];
        let outputs = output.values();
        for id in &outputs {
            live[id.0] = true;
        }
        let tapes: HashMap<usize, TapeInfo> = HashMap::new();
        let mut forward = Forward::new(graph, &mut live, &tapes, body.region);
        forward.typed_arrays = true;
        forward.liveness(body);
        let mut walk = Walk {
            sweep: self,
            forward,
        };
        let mut code = walk.block(body);
        let value = crate::spell::output(output, &|v| operand(graph, v), &|a| array_name(graph, a));
        if let Output::Struct {
            members, values, ..
        } = output
        {
            // A struct's tangent is the value with each float field's tangent in it (its other
            // fields, constants, as the value's: `Differentiable::zeros_like` copies them).
            let (value_name, tangent_name) = (names::function_value(), names::output_tangent());
            let fields = members
                .iter()
                .zip(values)
                .filter(|(_, v)| graph.node(**v).ty.is_float())
                .map(|(member, v)| {
                    let tangent = self.tangent_or_zero(*v);
                    quote!(#tangent_name.#member = #tangent;)
                });
            code.push(quote! {
                let #value_name = #value;
                let mut #tangent_name = ::grad::Differentiable::zeros_like(&#value_name);
                #(#fields)*
            });
            return Swept {
                code,
                value: quote!(#value_name),
                tangent: quote!(#tangent_name),
            };
        }
        let tangent = crate::spell::output(output, &|v| self.tangent_or_zero(v), &|a| {
            self.array_tangent(a)
        });
        Swept {
            code,
            value,
            tangent,
        }
    }

    /// The tangent of an active value, `None` for an inactive one (its tangent is zero).
    fn tangent(&self, id: ValueId) -> Option<TokenStream> {
        let node = self.graph.node(id);
        if !node.active || !node.ty.is_float() {
            return None;
        }
        if let Some(tangent) = self.param_tangents.get(&id) {
            return Some(tangent.clone());
        }
        match node.op {
            // A parameter left out of `wrt` is a constant.
            Op::Param { .. } => None,
            _ => {
                let name = names::tangent(id);
                Some(quote!(#name))
            }
        }
    }

    fn tangent_or_zero(&self, id: ValueId) -> TokenStream {
        self.tangent(id).unwrap_or_else(|| zero(self.graph, id))
    }

    /// The tangent of `id`, or the zero of `like`'s type: a literal's own type is often left
    /// to rustc, where the place it flows to (a loop's variable, a branch's result) has one.
    fn tangent_or_zero_as(&self, id: ValueId, like: ValueId) -> TokenStream {
        self.tangent(id).unwrap_or_else(|| {
            let ty = &self.graph.node(id).ty;
            if matches!(ty, Ty::Float(Some(_))) {
                zero(self.graph, id)
            } else {
                zero(self.graph, like)
            }
        })
    }

    /// The tangent of an array passed to a call: the array's own, or for a part of another
    /// (`&x[1..]`, a row `p[i]`) the same part of the other's tangent, spelled as
    /// `spell::passed_array` spells the part.
    fn passed_tangent(&self, id: ArrayId, by_reference: bool) -> TokenStream {
        let ArrayInit::View { source, .. } = &self.graph.array(id).init else {
            return self.array_tangent(id);
        };
        let source = self.array_tangent(*source);
        let part = crate::spell::view_part(self.graph, id);
        if by_reference || !crate::spell::is_row(self.graph, id) {
            quote!(&#source #part)
        } else {
            quote!(#source #part)
        }
    }

    /// The tangent of an array: its own, or zeros of its shape for an inactive one.
    fn array_tangent(&self, id: ArrayId) -> TokenStream {
        let array = self.graph.array(id);
        if !array.active {
            return zeros(&array.ty);
        }
        if let ArrayInit::Param { .. } = array.init {
            match self.array_param_tangents.get(&id) {
                // A written parameter's tangent is a copy, declared beside the copy of it.
                Some(_) if array.written => {}
                Some(tangent) => return tangent.clone(),
                // A parameter left out of `wrt`: constant.
                None => return zeros(&array.ty),
            }
        }
        let name = names::array_tangent(id);
        quote!(#name)
    }
}

/// One walk over the body, emitting the primal code through `primal.rs` and the tangents
/// beside it.
struct Walk<'s, 'a> {
    sweep: &'s TangentSweep<'a>,
    forward: Forward<'a>,
}

impl Walk<'_, '_> {
    fn graph(&self) -> &Graph {
        self.sweep.graph
    }

    fn block(&mut self, block: &Block) -> Vec<TokenStream> {
        let mut out = Vec::new();
        for stmt in &block.stmts {
            match stmt {
                Stmt::Node(id) => {
                    if self.forward.is_live(*id) {
                        out.extend(self.forward.node(*id));
                        out.extend(self.node_tangent(*id));
                    }
                }
                Stmt::ArrayDecl(id) => {
                    if self.forward.declares(*id) {
                        out.extend(self.forward.array_decl(*id));
                        out.extend(self.array_decl_tangent(*id));
                    }
                }
                Stmt::ArrayWrite(write) => {
                    let name = array_name(self.graph(), write.array);
                    let indices: Vec<TokenStream> =
                        write.indices.iter().map(|i| self.forward.arg(*i)).collect();
                    let value = self.forward.arg(write.value);
                    let span = write.span;
                    out.push(quote_spanned!(span=> #name #([#indices])* = #value;));
                    if self.graph().array(write.array).active {
                        let tangent = self.sweep.array_tangent(write.array);
                        let value = self.sweep.tangent_or_zero(write.value);
                        out.push(quote_spanned!(span=> #tangent #([#indices])* = #value;));
                    }
                }
                Stmt::If(branch) => {
                    if self.forward.emits_if(branch) {
                        out.push(self.emit_if(branch));
                    }
                }
                Stmt::Loop(l) => {
                    if self.forward.emits_loop(l.id) {
                        out.push(self.emit_loop(l));
                    }
                }
            }
        }
        out
    }

    /// `let __tanN = ..;` for an active node, from its rule.
    fn node_tangent(&mut self, id: ValueId) -> Option<TokenStream> {
        let graph = self.sweep.graph;
        let node = graph.node(id);
        if !node.active || !node.ty.is_float() {
            return None;
        }
        let span = node.span;
        let t = |v: ValueId| self.sweep.tangent(v);
        let expr = match &node.op {
            Op::Neg(a) => {
                let ta = t(*a)?;
                quote_spanned!(span=> -#ta)
            }
            Op::Annotated { value, ty } => {
                let tv = self.sweep.tangent_or_zero(*value);
                let name = names::tangent(id);
                return Some(quote_spanned!(span=> let #name: #ty = #tv;));
            }
            Op::Cast { value, to } => {
                let tv = t(*value)?;
                quote_spanned!(span=> #tv as #to)
            }
            Op::ArrayRead { array, indices } => {
                if !graph.array(*array).active {
                    return None;
                }
                let tangent = self.sweep.array_tangent(*array);
                let indices: Vec<TokenStream> =
                    indices.iter().map(|i| self.forward.arg(*i)).collect();
                quote_spanned!(span=> #tangent #([#indices])*)
            }
            Op::Binary { op, lhs, rhs, .. } => {
                let (a, b) = (self.forward.arg(*lhs), self.forward.arg(*rhs));
                let (ta, tb) = (t(*lhs), t(*rhs));
                let out = names::value(id);
                match (op, ta, tb) {
                    (_, None, None) => return None,
                    (BinaryOp::Add, Some(ta), Some(tb)) => quote_spanned!(span=> #ta + #tb),
                    (BinaryOp::Add, Some(t), None) | (BinaryOp::Add, None, Some(t)) => t,
                    (BinaryOp::Sub, Some(ta), Some(tb)) => quote_spanned!(span=> #ta - #tb),
                    (BinaryOp::Sub, Some(ta), None) => ta,
                    (BinaryOp::Sub, None, Some(tb)) => quote_spanned!(span=> -#tb),
                    // d(a · a) = 2a · da: one addition fewer, and bit for bit the sum of
                    // the two equal products (a doubling is exact).
                    (BinaryOp::Mul, Some(ta), Some(_)) if lhs == rhs => {
                        quote_spanned!(span=> (#a + #a) * #ta)
                    }
                    // d((c · u) · u) = 2 (c · u) · du, for a constant c: two operations where
                    // the product rule takes four that IEEE rounding keeps the compiler from
                    // merging (`100.0 * a * a`).
                    (BinaryOp::Mul, Some(_), Some(tb)) if scales(graph, *lhs, *rhs) => {
                        quote_spanned!(span=> (#a + #a) * #tb)
                    }
                    (BinaryOp::Mul, Some(ta), Some(_)) if scales(graph, *rhs, *lhs) => {
                        quote_spanned!(span=> (#b + #b) * #ta)
                    }
                    (BinaryOp::Mul, Some(ta), Some(tb)) => {
                        quote_spanned!(span=> #ta * #b + #a * #tb)
                    }
                    (BinaryOp::Mul, Some(ta), None) => quote_spanned!(span=> #ta * #b),
                    (BinaryOp::Mul, None, Some(tb)) => quote_spanned!(span=> #a * #tb),
                    // d(a / b) = (da - out · db) / b: the reverse rule's partials.
                    (BinaryOp::Div, Some(ta), Some(tb)) => {
                        quote_spanned!(span=> (#ta - #out * #tb) / #b)
                    }
                    (BinaryOp::Div, Some(ta), None) => quote_spanned!(span=> #ta / #b),
                    (BinaryOp::Div, None, Some(tb)) => quote_spanned!(span=> -(#out * #tb) / #b),
                    (BinaryOp::Rem, ta, tb) => {
                        let zero = zero(graph, id);
                        let (ta, tb) = (ta.unwrap_or(zero.clone()), tb.unwrap_or(zero));
                        let rules = names::pullback_rules();
                        quote_spanned!(span=> #rules::rem_tangent(#a, #b, #out, #ta, #tb))
                    }
                    (BinaryOp::Other, ..) => return None,
                }
            }
            Op::FloatMethod { rule, args, .. } => {
                if rule.derivative != Derivative::Pullback {
                    return None;
                }
                let mut inputs = Vec::new();
                let mut tangents = Vec::new();
                // A literal input (`x.clamp(-1.0, 1.0)`) is written with the method's float
                // type, and so is its zero tangent: the call's arguments must say they are
                // floats for the second pass (`second_order.rs`) to differentiate it.
                let concrete = match graph.node(id).ty {
                    Ty::Float(Some(
                        float @ (crate::types::FloatTy::F32 | crate::types::FloatTy::F64),
                    )) => Some(float.ident()),
                    _ => None,
                };
                for (k, arg) in args.iter().enumerate() {
                    let input = self.forward.arg(*arg);
                    let untyped = matches!(graph.node(*arg).ty, Ty::Float(None) | Ty::Unknown);
                    match (&concrete, rule.arg_is_float(k) && untyped) {
                        (Some(float), true) => inputs.push(quote!((#input as #float))),
                        _ => inputs.push(input),
                    }
                    if rule.arg_is_float(k) {
                        tangents.push(self.sweep.tangent_or_zero_as(*arg, id));
                    }
                }
                let out = names::value(id);
                let rules = names::pullback_rules();
                let tangent_rule = quote::format_ident!("{}_tangent", rule.name);
                quote_spanned!(span=> #rules::#tangent_rule(#(#inputs,)* #out, #(#tangents),*))
            }
            Op::Call { path, args } => self.call_tangent(id, path, args)?,
            Op::Field { param, path } => {
                let tangent = self.sweep.struct_tangents.get(param)?;
                quote_spanned!(span=> #tangent #(.#path)*)
            }
            // Merges, loop entries and exits get their tangents where the `if` or loop is
            // written; a parameter's is the core's argument.
            _ => return None,
        };
        let name = names::tangent(id);
        Some(quote_spanned!(span=> let #name = #expr;))
    }

    /// A call's tangent: the callee's gradient (`g_vjp(args.., 1)`, one entry per float
    /// argument) times the arguments' tangents. Exact, at the cost of the callee's reverse
    /// sweep, and it needs nothing of the callee but the `_vjp` the reverse mode needs.
    fn call_tangent(
        &mut self,
        id: ValueId,
        path: &syn::Path,
        args: &[crate::graph::CallArg],
    ) -> Option<TokenStream> {
        if self.sweep.callee_tangents {
            return Some(self.callee_tangent(id, path, args));
        }
        let graph = self.sweep.graph;
        let one = match graph.node(id).ty {
            Ty::Float(Some(float)) => crate::spell::float_one(float),
            _ => quote!(::grad::__private::One::one()),
        };
        self.pulled_back_tangent(id, path, args, one, graph.node(id).span)
    }

    /// `upstream · J t` of a call: the callee's `_vjp` along `upstream` (one entry per float
    /// argument), dotted with the arguments' tangents; `None` when no argument has one. The
    /// entries are named after `id`, inside the expression's own block.
    fn pulled_back_tangent(
        &mut self,
        id: ValueId,
        path: &syn::Path,
        args: &[crate::graph::CallArg],
        upstream: TokenStream,
        span: proc_macro2::Span,
    ) -> Option<TokenStream> {
        use crate::graph::CallArg;
        let graph = self.sweep.graph;
        let float_args: Vec<CallArg> = args
            .iter()
            .copied()
            .filter(|a| match a {
                CallArg::Scalar(v) | CallArg::Borrowed(v) => graph.node(*v).ty.scalar().is_float(),
                CallArg::Array { array, .. } => graph.array(*array).ty.scalar().is_float(),
                CallArg::Receiver(_) => false,
            })
            .collect();
        let mut inputs: Vec<TokenStream> = args
            .iter()
            .map(|arg| match *arg {
                CallArg::Scalar(v) | CallArg::Receiver(v) => self.forward.arg(v),
                CallArg::Borrowed(v) => {
                    let v = self.forward.arg(v);
                    quote!(&#v)
                }
                CallArg::Array {
                    array,
                    by_reference,
                } => crate::spell::passed_array(graph, array, by_reference),
            })
            .collect();
        inputs.push(upstream);
        let vjp = names::callee_vjp(path);
        let vjp_call = crate::spell::call(&vjp, args, inputs, span);
        let check = quote::format_ident!("Entries{}", float_args.len().max(1), span = span);
        let entries: Vec<proc_macro2::Ident> = (0..float_args.len())
            .map(|k| names::partial(id, k))
            .collect();
        let mut terms = Vec::new();
        for (arg, entry) in float_args.iter().zip(&entries) {
            match *arg {
                CallArg::Scalar(v) | CallArg::Borrowed(v) => {
                    if let Some(tangent) = self.sweep.tangent(v) {
                        terms.push(quote!(#entry * #tangent));
                    }
                }
                // A part of an array is active with the array it reads.
                CallArg::Array {
                    array,
                    by_reference,
                } if graph.array(graph.view_source(array)).active => {
                    let ty = &graph.array(array).ty;
                    let tangent = self.sweep.passed_tangent(array, by_reference);
                    let (a, b) = (
                        crate::spell::flat(quote!(#entry), ty, false),
                        crate::spell::flat(tangent, ty, false),
                    );
                    terms.push(quote!(::grad::__private::dot_elements(#a, #b)));
                }
                _ => {}
            }
        }
        let (first, rest) = terms.split_first()?;
        let pattern = if entries.len() == 1 {
            let entry = &entries[0];
            quote!(#entry)
        } else {
            quote!((#(#entries),*))
        };
        Some(quote_spanned! {span=> {
            let #pattern = ::grad::__private::#check::entries(#vjp_call);
            #first #(+ #rest)*
        }})
    }

    /// The tangent of an array (or tuple) a call returns: element by element, the callee's
    /// `_vjp` along that element's unit upstream, dotted with the arguments' tangents (one
    /// reverse sweep of the callee per element, and nothing of it but its `_vjp`). The
    /// tangent starts as a copy of the value, whose shape rustc may know better than grad
    /// (`[x; _]`), and each element is overwritten.
    fn array_call_tangent(
        &mut self,
        id: ArrayId,
        path: &syn::Path,
        args: &[crate::graph::CallArg],
        tuple: bool,
    ) -> Option<TokenStream> {
        let graph = self.sweep.graph;
        let array = graph.array(id);
        let span = array.span;
        let (zero, one) = match array.ty.scalar() {
            Ty::Float(Some(float)) => (
                crate::spell::float_zero(*float),
                crate::spell::float_one(*float),
            ),
            _ => (
                quote!(::grad::__private::Zero::zero()),
                quote!(::grad::__private::One::one()),
            ),
        };
        // With second order, the callee's own tangent function, an array as the call's value
        // is, which the second pass differentiates through its `_tangent_vjp`.
        // (A tuple's tangent is then a tuple, held as an array by `array_decl_tangent`.)
        if self.sweep.callee_tangents {
            return Some(self.callee_tangent_call(path, args, span));
        }
        let value = array_name(graph, id);
        // The entries are named after the array's id: any name will do, since each is
        // scoped to its element's block.
        let base = ValueId(id.0);
        if tuple {
            let count = crate::graph::tuple_len(&array.ty);
            let mut elements = Vec::new();
            for e in 0..count {
                let seed = (0..count).map(|k| if k == e { one.clone() } else { zero.clone() });
                let upstream = quote!((#(#seed,)*));
                elements.push(self.pulled_back_tangent(base, path, args, upstream, span)?);
            }
            return Some(quote!([#(#elements),*]));
        }
        let (element, unit, slot) = (names::input_element(), names::upstream(), names::slot());
        let tangent = names::array_tangent(id);
        let element_tangent = self.pulled_back_tangent(base, path, args, quote!(#unit), span)?;
        let ty = &array.ty;
        let (tangent_flat, unit_flat) = (
            crate::spell::flat(quote!(#tangent), ty, true),
            crate::spell::flat(quote!(#unit), ty, true),
        );
        Some(quote_spanned! {span=> {
            let mut #tangent = #value;
            for #element in 0..#tangent_flat.len() {
                let mut #unit = #value;
                for #slot in #unit_flat.iter_mut() {
                    *#slot = #zero;
                }
                #unit_flat[#element] = #one;
                #tangent_flat[#element] = #element_tangent;
            }
            #tangent
        }})
    }

    /// A call's tangent from the callee's own tangent function: `g_tangent(args..,
    /// tangents..)`, one tangent per float argument (the zero of its type where the argument
    /// is a constant), the convention of `_vjp`'s entries. A callee with second order
    /// (`#[differentiable(hessian)]`) has it, and its `_vjp` for the second pass.
    fn callee_tangent(
        &mut self,
        id: ValueId,
        path: &syn::Path,
        args: &[crate::graph::CallArg],
    ) -> TokenStream {
        let span = self.sweep.graph.node(id).span;
        self.callee_tangent_call(path, args, span)
    }

    /// `g_tangent(args.., tangents..)` of a call, whatever it returns.
    fn callee_tangent_call(
        &mut self,
        path: &syn::Path,
        args: &[crate::graph::CallArg],
        span: proc_macro2::Span,
    ) -> TokenStream {
        use crate::graph::CallArg;
        let graph = self.sweep.graph;
        let mut inputs = Vec::new();
        let mut tangents = Vec::new();
        for arg in args {
            match *arg {
                CallArg::Scalar(v) | CallArg::Receiver(v) => inputs.push(self.forward.arg(v)),
                CallArg::Borrowed(v) => {
                    let v = self.forward.arg(v);
                    inputs.push(quote!(&#v));
                }
                CallArg::Array {
                    array,
                    by_reference,
                } => inputs.push(crate::spell::passed_array(graph, array, by_reference)),
            }
            match *arg {
                CallArg::Scalar(v) | CallArg::Borrowed(v)
                    if graph.node(v).ty.scalar().is_float() =>
                {
                    // A constant of a type rustc infers (`g(2.0, x)`) has the zero tangent
                    // `0.0`, a literal as the argument is.
                    tangents.push(match (self.sweep.tangent(v), &graph.node(v).ty) {
                        (Some(tangent), _) => tangent,
                        (None, Ty::Float(Some(float))) => crate::spell::float_zero(*float),
                        (None, _) => quote!(0.0),
                    });
                }
                CallArg::Array {
                    array,
                    by_reference,
                } if graph.array(array).ty.scalar().is_float() => {
                    tangents.push(self.sweep.passed_tangent(array, by_reference));
                }
                _ => {}
            }
        }
        inputs.extend(tangents);
        let tangent_function = names::callee_companion(path, "tangent");
        crate::spell::call(&tangent_function, args, inputs, span)
    }

    /// The tangent array beside an active array.
    fn array_decl_tangent(&mut self, id: ArrayId) -> Option<TokenStream> {
        let graph = self.sweep.graph;
        let array = graph.array(id);
        if !array.active {
            return None;
        }
        let span = array.span;
        let name = names::array_tangent(id);
        let mutability = array.written.then(|| quote!(mut));
        let init = match &array.init {
            ArrayInit::Param { .. } => {
                // Read in place unless written (then copied, as its value is).
                let tangent = self.sweep.array_param_tangents.get(&id)?.clone();
                if !array.written {
                    return None;
                }
                quote!(#tangent)
            }
            ArrayInit::Literal(values) => {
                let tangents = values.iter().map(|v| self.sweep.tangent_or_zero(*v));
                quote!([#(#tangents),*])
            }
            ArrayInit::Literal2(rows) => {
                let rows = rows.iter().map(|row| {
                    let tangents = row.iter().map(|v| self.sweep.tangent_or_zero(*v));
                    quote!([#(#tangents),*])
                });
                quote!([#(#rows),*])
            }
            ArrayInit::Repeat { value } => match self.sweep.tangent(*value) {
                Some(tangent) => repeat_tokens(&array.ty, tangent),
                None => zeros(&array.ty),
            },
            // Tangent arrays are owned values (no reference to see through), copied as they
            // are: no call that a second pass would have to differentiate.
            ArrayInit::Copy(source) => self.sweep.array_tangent(*source),
            ArrayInit::Row { source, index } => {
                let source = self.sweep.array_tangent(*source);
                let index = self.forward.arg(*index);
                quote!(#source[#index])
            }
            ArrayInit::Call { path, args, tuple } => {
                let init = self.array_call_tangent(id, path, args, *tuple)?;
                if *tuple && self.sweep.callee_tangents {
                    let len = crate::graph::tuple_len(&array.ty);
                    return Some(crate::spell::tuple_into_array(
                        &name,
                        array.written,
                        init,
                        len,
                        span,
                    ));
                }
                init
            }
            // A collected `Vec` starts as copies of one value, and so does its tangent.
            ArrayInit::Heap { value, len } => {
                let (tangent, len) = (self.sweep.tangent_or_zero(*value), self.forward.arg(*len));
                quote!(::grad::__private::vec_filled(#tangent, #len))
            }
            ArrayInit::View { .. } => {
                return None;
            }
        };
        let literal = matches!(
            array.init,
            ArrayInit::Literal(_) | ArrayInit::Literal2(_) | ArrayInit::Repeat { .. }
        );
        let ty = if literal {
            typed(&array.ty)
        } else {
            TokenStream::new()
        };
        Some(quote_spanned!(span=> let #mutability #name #ty = #init;))
    }

    fn emit_if(&mut self, branch: &If) -> TokenStream {
        let span = branch.span;
        let merges: Vec<_> = branch
            .merges
            .iter()
            .filter(|m| self.forward.is_live(m.out))
            .collect();
        let cond = self.forward.arg(branch.cond);
        let then_code = self.block(&branch.then_block);
        let else_code = self.block(&branch.else_block);
        let graph = self.graph();
        let mut outs = Vec::new();
        let mut types = Vec::new();
        let mut then_values = Vec::new();
        let mut else_values = Vec::new();
        for merge in &merges {
            outs.push({
                let name = names::value(merge.out);
                quote!(#name)
            });
            types.push(known_type(&graph.node(merge.out).ty));
            then_values.push(operand(graph, merge.then_value));
            else_values.push(operand(graph, merge.else_value));
            if self.sweep.tangent(merge.out).is_some() {
                let name = names::tangent(merge.out);
                outs.push(quote!(#name));
                types.push(known_type(&graph.node(merge.out).ty));
                then_values.push(self.sweep.tangent_or_zero_as(merge.then_value, merge.out));
                else_values.push(self.sweep.tangent_or_zero_as(merge.else_value, merge.out));
            }
        }
        // The merged values were read: the primal sweep's bookkeeping of what it references.
        for merge in &merges {
            self.forward.arg(merge.then_value);
            self.forward.arg(merge.else_value);
        }
        if outs.is_empty() {
            return quote_spanned!(span=> if #cond { #(#then_code)* } else { #(#else_code)* });
        }
        // Typed where analysis knows every type, as the arrays are (see `Forward`).
        let typed = types
            .into_iter()
            .collect::<Option<Vec<TokenStream>>>()
            .map(|types| quote!(: (#(#types,)*)));
        quote_spanned! {span=>
            let (#(#outs,)*) #typed = if #cond {
                #(#then_code)*
                (#(#then_values,)*)
            } else {
                #(#else_code)*
                (#(#else_values,)*)
            };
        }
    }

    fn emit_loop(&mut self, l: &Loop) -> TokenStream {
        let span = l.span;
        let kept: Vec<usize> = (0..l.carried.len())
            .filter(|k| self.forward.is_live(l.carried[*k].next))
            .collect();
        let mut carried = Vec::new();
        let mut types = Vec::new();
        let mut inits = Vec::new();
        let mut entries = Vec::new();
        let mut exits = Vec::new();
        // Each carried variable's update: the next value, or (`true`) its tangent.
        let mut updates: Vec<(ValueId, bool)> = Vec::new();
        for k in &kept {
            let c = &l.carried[*k];
            carried.push({
                let name = names::carried(l.id, *k);
                quote!(#name)
            });
            types.push(typed(&self.sweep.graph.node(c.entry).ty));
            inits.push(self.forward.arg(c.init));
            entries.push({
                let name = names::value(c.entry);
                quote!(#name)
            });
            exits.push({
                let name = names::value(c.exit);
                quote!(#name)
            });
            updates.push((c.next, false));
            if self.sweep.tangent(c.entry).is_some() {
                carried.push({
                    let name = names::carried_tangent(l.id, *k);
                    quote!(#name)
                });
                types.push(typed(&self.sweep.graph.node(c.entry).ty));
                inits.push(self.sweep.tangent_or_zero_as(c.init, c.entry));
                entries.push({
                    let name = names::tangent(c.entry);
                    quote!(#name)
                });
                exits.push({
                    let name = names::tangent(c.exit);
                    quote!(#name)
                });
                updates.push((c.next, true));
            }
        }
        let counter_var = names::counter(l.id);
        let (header, counter) = match &l.header {
            LoopHeader::Range { counter, .. } => {
                let range = crate::spell::range_tokens(self.sweep.graph, l, &mut self.forward);
                let value = names::value(*counter);
                (
                    quote_spanned!(span=> for #counter_var in #range),
                    quote!(let #value = #counter_var;),
                )
            }
            LoopHeader::Unbounded => (quote_spanned!(span=> loop), TokenStream::new()),
        };
        self.forward.enter_loop();
        let body = self.block(&l.body);
        self.forward.leave_loop();
        let nexts: Vec<TokenStream> = updates
            .into_iter()
            .map(|(next, tangent)| match tangent {
                true => self.sweep.tangent_or_zero(next),
                false => self.forward.arg(next),
            })
            .collect();
        let stop = l.stop.map(|stop| {
            let stop = self.forward.arg(stop);
            quote!(if #stop { break; })
        });
        quote_spanned! {span=>
            #(let mut #carried #types = #inits;)*
            #header {
                #(let #entries = #carried;)*
                #counter
                #(#body)*
                #(#carried = #nexts;)*
                #stop
            }
            #(let #exits = #carried;)*
        }
    }
}

/// `: f64` where analysis knows the type (see `Forward::typed_arrays`).
fn typed(ty: &Ty) -> TokenStream {
    known_type(ty).map(|ty| quote!(: #ty)).unwrap_or_default()
}
