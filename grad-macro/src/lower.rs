//! Lowering: the function body (syn) becomes the expression graph.
//!
//! Input: `let q = x + y; q * z`. Output: nodes `v0 = x, v1 = y, v2 = z, v3 = v0 + v1,
//! v4 = v3 * v2`, with `v4` the output. Local names are resolved here, so reassignment and
//! shadowing simply bind a name to a newer node. Every unsupported construct is reported with
//! its span and lowered to a placeholder, so that one build shows every error.

use crate::diagnostics::Diagnostics;
use crate::graph::{BinaryOp, CallStyle, FloatTy, Graph, InactiveExpr, Node, Op, Ty, ValueId};
use crate::rules::{self, Derivative};
use crate::signature::{Signature, classify, float_type};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{BinOp, Block, Expr, Item, Lit, Pat, Stmt, Type, UnOp};

pub struct Lowered {
    pub graph: Graph,
    pub output: ValueId,
    /// `const` and `use` items of the body, copied into the generated function.
    pub items: Vec<Item>,
}

/// A lowered expression: a node, or a tuple of them (`()` is the empty tuple).
#[derive(Clone, Debug)]
enum Val {
    Scalar(ValueId),
    Tuple(Vec<Val>),
}

struct Binding {
    name: String,
    val: Val,
}

struct Lowerer<'a> {
    graph: Graph,
    scopes: Vec<Vec<Binding>>,
    local_consts: Vec<(String, Ty)>,
    items: Vec<Item>,
    diagnostics: &'a mut Diagnostics,
}

pub fn lower(
    body: &Block,
    signature: &Signature,
    diagnostics: &mut Diagnostics,
) -> Option<Lowered> {
    let mut lowerer = Lowerer {
        graph: Graph::default(),
        scopes: vec![Vec::new()],
        local_consts: Vec::new(),
        items: Vec::new(),
        diagnostics,
    };
    for param in &signature.params {
        let id = lowerer.graph.push(Node {
            op: Op::Param {
                ident: param.ident.clone(),
            },
            ty: param.class.clone(),
            active: param.differentiable,
            span: param.ident.span(),
        });
        lowerer.bind_name(param.ident.to_string(), Val::Scalar(id));
    }
    let errors_before = lowerer.diagnostics.count();
    let result = lowerer.function_body(body);
    let output = match result {
        // A bad return type was reported already; the body's shape would only repeat it.
        Some(_) if signature.ret.is_none() => None,
        Some(Val::Scalar(id)) => Some(id),
        Some(Val::Tuple(elements)) if elements.is_empty() => {
            lowerer.diagnostics.error_at(
                body.brace_token.span.close(),
                "the function body has no final value: end it with the expression to differentiate",
            );
            None
        }
        Some(Val::Tuple(_)) => {
            lowerer.diagnostics.error_at(
                body.brace_token.span.close(),
                "the function returns a tuple: vector outputs are not supported yet",
            );
            None
        }
        None => None,
    };
    if lowerer.diagnostics.count() > errors_before {
        return None;
    }
    Some(Lowered {
        graph: lowerer.graph,
        output: output?,
        items: lowerer.items,
    })
}

impl Lowerer<'_> {
    // ----- names and scopes -----

    fn bind_name(&mut self, name: String, val: Val) {
        self.scopes
            .last_mut()
            .expect("a scope is always open")
            .push(Binding { name, val });
    }

    fn lookup(&self, name: &str) -> Option<&Val> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|scope| scope.iter().rev())
            .find(|b| b.name == name)
            .map(|b| &b.val)
    }

    /// Assignment rebinds the name in the scope that declared it: the variable is the same,
    /// its value is a new node.
    fn assign_name(&mut self, name: &str, val: Val) -> bool {
        let binding = self
            .scopes
            .iter_mut()
            .rev()
            .flat_map(|scope| scope.iter_mut().rev())
            .find(|b| b.name == name);
        match binding {
            Some(binding) => {
                binding.val = val;
                true
            }
            None => false,
        }
    }

    fn in_scope<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(Vec::new());
        let result = f(self);
        self.scopes.pop();
        result
    }

    // ----- nodes -----

    fn push(&mut self, op: Op, ty: Ty, active: bool, span: Span) -> Val {
        Val::Scalar(self.graph.push(Node {
            op,
            ty,
            active,
            span,
        }))
    }

    fn node(&self, id: ValueId) -> &Node {
        self.graph.node(id)
    }

    /// The placeholder for an expression that was reported as an error.
    fn poison(&mut self, span: Span) -> Val {
        self.push(Op::Constant(quote!(())), Ty::Unknown, false, span)
    }

    fn unsupported(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) -> Val {
        let span = tokens
            .to_token_stream()
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |t| t.span());
        self.diagnostics.error(tokens, message);
        self.poison(span)
    }

    /// The scalar behind a value, or an error if it is a tuple.
    fn scalar(&mut self, val: Val, expr: &Expr) -> ValueId {
        match val {
            Val::Scalar(id) => id,
            Val::Tuple(_) => match self.unsupported(
                expr,
                "a tuple cannot be used here: use one of its elements (`t.0`)",
            ) {
                Val::Scalar(id) => id,
                Val::Tuple(_) => unreachable!("poison is a scalar"),
            },
        }
    }

    fn scalar_expr(&mut self, expr: &Expr) -> ValueId {
        let val = self.expr(expr);
        self.scalar(val, expr)
    }

    // ----- statements -----

    fn function_body(&mut self, body: &Block) -> Option<Val> {
        let count = body.stmts.len();
        let mut result = Val::Tuple(Vec::new());
        for (index, stmt) in body.stmts.iter().enumerate() {
            let is_last = index + 1 == count;
            if let Stmt::Expr(Expr::Return(ret), _) = stmt {
                if !is_last {
                    self.diagnostics.error(
                        ret,
                        "early `return` is not supported yet: make `return` the last statement",
                    );
                    return None;
                }
                return match &ret.expr {
                    Some(value) => Some(self.expr(value)),
                    None => Some(Val::Tuple(Vec::new())),
                };
            }
            result = self.stmt(stmt, is_last);
        }
        Some(result)
    }

    fn block(&mut self, block: &Block) -> Val {
        self.in_scope(|this| {
            let count = block.stmts.len();
            let mut result = Val::Tuple(Vec::new());
            for (index, stmt) in block.stmts.iter().enumerate() {
                result = this.stmt(stmt, index + 1 == count);
            }
            result
        })
    }

    /// Lowers one statement; the value is the block's value when it is the tail expression.
    fn stmt(&mut self, stmt: &Stmt, is_last: bool) -> Val {
        let unit = Val::Tuple(Vec::new());
        match stmt {
            Stmt::Local(local) => {
                self.local(local);
                unit
            }
            Stmt::Item(item) => {
                self.item(item);
                unit
            }
            Stmt::Expr(expr, semi) => {
                let val = self.expr(expr);
                if semi.is_none() && is_last { val } else { unit }
            }
            Stmt::Macro(mac) => {
                self.macro_call(&mac.mac);
                unit
            }
        }
    }

    fn local(&mut self, local: &syn::Local) {
        let Some(init) = &local.init else {
            self.diagnostics.error(local, "a `let` without a value is not supported: give the variable its value where it is declared");
            // Bind the names anyway, so later assignments to them add no errors of their own.
            let placeholder = self.poison(local.span());
            self.bind_pattern(&local.pat, placeholder, None);
            return;
        };
        if let Some((else_token, _)) = &init.diverge {
            self.diagnostics.error(
                else_token,
                "`let ... else` is not supported in a differentiable function",
            );
            return;
        }
        let val = self.expr(&init.expr);
        self.bind_pattern(&local.pat, val, None);
    }

    fn bind_pattern(&mut self, pat: &Pat, val: Val, annotation: Option<&Type>) {
        match pat {
            Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                if let Some(ty) = annotation {
                    self.annotate(&val, ty);
                }
                self.bind_name(ident.ident.to_string(), val);
            }
            Pat::Type(typed) => self.bind_pattern(&typed.pat, val, Some(&typed.ty)),
            Pat::Paren(inner) => self.bind_pattern(&inner.pat, val, annotation),
            Pat::Wild(_) => {}
            Pat::Tuple(tuple) => {
                let elements = match val {
                    Val::Tuple(elements) if elements.len() == tuple.elems.len() => elements,
                    _ => {
                        self.diagnostics.error(
                            tuple,
                            "this tuple pattern needs a tuple value of the same length, written in the function (`let (a, b) = (x, y);`)",
                        );
                        return;
                    }
                };
                let element_types: Vec<Option<&Type>> = match annotation {
                    Some(Type::Tuple(types)) if types.elems.len() == elements.len() => {
                        types.elems.iter().map(Some).collect()
                    }
                    _ => vec![None; elements.len()],
                };
                for ((pat, val), ty) in tuple.elems.iter().zip(elements).zip(element_types) {
                    self.bind_pattern(pat, val, ty);
                }
            }
            other => self.diagnostics.error(
                other,
                "this pattern is not supported: bind plain names or tuples of names",
            ),
        }
    }

    /// A type annotation tells the macro a float type it could not infer (`let c: f32 = g(x);`).
    fn annotate(&mut self, val: &Val, ty: &Type) {
        if let Val::Scalar(id) = val {
            let annotated = classify(ty);
            let node = self.graph.node_mut(*id);
            if matches!(node.ty, Ty::Unknown | Ty::Float(None)) && annotated != Ty::Unknown {
                node.ty = annotated;
            }
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Const(constant) => {
                self.local_consts.push((constant.ident.to_string(), classify(&constant.ty)));
                self.items.push(item.clone());
            }
            Item::Use(_) => self.items.push(item.clone()),
            other => self.diagnostics.error(
                other,
                "only `const` and `use` items are supported inside a differentiable function: move this item out of the function",
            ),
        }
    }

    fn macro_call(&mut self, mac: &syn::Macro) -> Val {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        self.unsupported(
            mac,
            format!("macro calls such as `{name}!` are not supported in a differentiable function: write the expression out, or move the macro into a helper with a hand-written `_vjp`"),
        )
    }

    // ----- expressions -----

    fn expr(&mut self, expr: &Expr) -> Val {
        match expr {
            Expr::Lit(lit) => self.literal(&lit.lit),
            Expr::Path(path) => self.path(path),
            Expr::Paren(inner) => self.expr(&inner.expr),
            Expr::Group(inner) => self.expr(&inner.expr),
            Expr::Unary(unary) => self.unary(unary),
            Expr::Binary(binary) => self.binary(binary),
            Expr::Assign(assign) => {
                let val = self.expr(&assign.right);
                self.assign(&assign.left, val);
                Val::Tuple(Vec::new())
            }
            Expr::Cast(cast) => self.cast(cast),
            Expr::MethodCall(call) => self.method_call(call),
            Expr::Call(call) => self.call(call),
            Expr::Block(block) => {
                if let Some(label) = &block.label {
                    return self.unsupported(label, "labeled blocks are not supported yet");
                }
                self.block(&block.block)
            }
            Expr::Tuple(tuple) => Val::Tuple(tuple.elems.iter().map(|e| self.expr(e)).collect()),
            Expr::Field(field) => self.field(field),
            Expr::Reference(reference) => {
                let inner = self.scalar_expr(&reference.expr);
                self.inactive(InactiveExpr::Reference, vec![inner], Ty::Unknown, expr, "cannot take a reference to a value being differentiated: pass the value itself")
            }
            Expr::Macro(mac) => self.macro_call(&mac.mac),
            Expr::Return(ret) => self.unsupported(ret, "early `return` is not supported yet: make `return` the last statement"),
            Expr::If(e) => self.unsupported(e.if_token, "`if` is not supported in a differentiable function yet; for a kink use `max`, `min`, `abs` or `clamp`, which have derivatives"),
            Expr::Match(e) => self.unsupported(e.match_token, "`match` is not supported in a differentiable function yet"),
            Expr::ForLoop(e) => self.unsupported(e.for_token, "`for` loops are not supported in a differentiable function yet"),
            Expr::While(e) => self.unsupported(e.while_token, "`while` loops are not supported in a differentiable function yet"),
            Expr::Loop(e) => self.unsupported(e.loop_token, "`loop` is not supported in a differentiable function yet"),
            Expr::Break(e) => self.unsupported(e, "`break` is not supported in a differentiable function yet"),
            Expr::Continue(e) => self.unsupported(e, "`continue` is not supported in a differentiable function yet"),
            Expr::Closure(e) => self.unsupported(e, "closures are not supported in a differentiable function: write the closure's body as a separate #[differentiable] function and call it"),
            Expr::Unsafe(e) => self.unsupported(e.unsafe_token, "`unsafe` blocks are not supported in a differentiable function: move the unsafe code into a helper with a hand-written `_vjp`"),
            Expr::Async(e) => self.unsupported(e.async_token, "`async` blocks are not supported in a differentiable function"),
            Expr::Await(e) => self.unsupported(e, "`.await` is not supported in a differentiable function"),
            Expr::Try(e) => self.unsupported(e, "the `?` operator is not supported in a differentiable function: handle errors outside it"),
            Expr::TryBlock(e) => self.unsupported(e, "`try` blocks are not supported in a differentiable function"),
            Expr::Index(e) => self.unsupported(e, "indexing is not supported yet: pass the elements as separate parameters"),
            Expr::Array(e) => self.unsupported(e, "arrays are not supported yet: use separate variables"),
            Expr::Repeat(e) => self.unsupported(e, "arrays are not supported yet: use separate variables"),
            Expr::Range(e) => self.unsupported(e, "ranges are not supported outside loops"),
            Expr::Struct(e) => self.unsupported(e, "struct literals are not supported in a differentiable function: pass the floats as parameters"),
            Expr::Let(e) => self.unsupported(e, "`let` expressions are not supported in a differentiable function"),
            other => self.unsupported(other, "this expression is not supported in a differentiable function"),
        }
    }

    fn literal(&mut self, lit: &Lit) -> Val {
        let span = lit.span();
        let tokens = lit.to_token_stream();
        match lit {
            Lit::Float(float) => {
                let ty = Ty::Float(FloatTy::from_ident(float.suffix()));
                self.push(Op::Constant(tokens), ty, false, span)
            }
            Lit::Int(int) => {
                let ty = match FloatTy::from_ident(int.suffix()) {
                    Some(float) => Ty::Float(Some(float)),
                    None => Ty::Int,
                };
                self.push(Op::Constant(tokens), ty, false, span)
            }
            Lit::Bool(_) => self.push(Op::Constant(tokens), Ty::Bool, false, span),
            other => self.unsupported(
                other,
                "only number and bool literals are supported in a differentiable function",
            ),
        }
    }

    fn path(&mut self, path: &syn::ExprPath) -> Val {
        if path.qself.is_none() {
            if let Some(ident) = path.path.get_ident() {
                if let Some(val) = self.lookup(&ident.to_string()) {
                    return val.clone();
                }
            }
        }
        let ty = self.constant_type(&path.path);
        self.push(Op::Constant(path.to_token_stream()), ty, false, path.span())
    }

    /// The type of a constant path: `std::f64::consts::PI`, `f32::EPSILON`, a local `const`.
    fn constant_type(&self, path: &syn::Path) -> Ty {
        if let Some(ident) = path.get_ident() {
            let name = ident.to_string();
            return self
                .local_consts
                .iter()
                .rev()
                .find(|(n, _)| *n == name)
                .map_or(Ty::Unknown, |(_, ty)| ty.clone());
        }
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        segments[..segments.len() - 1]
            .iter()
            .rev()
            .find_map(|s| FloatTy::from_ident(s))
            .map_or(Ty::Unknown, |float| Ty::Float(Some(float)))
    }

    fn unary(&mut self, unary: &syn::ExprUnary) -> Val {
        let expr = Expr::Unary(unary.clone());
        let operand = self.scalar_expr(&unary.expr);
        match unary.op {
            UnOp::Neg(_) => {
                let node = self.node(operand).clone();
                if let Op::Constant(tokens) = &node.op {
                    // Folding `-2.0` into one constant keeps generated code as readable as the input.
                    let op = unary.op;
                    return self.push(
                        Op::Constant(quote!(#op #tokens)),
                        node.ty,
                        false,
                        unary.span(),
                    );
                }
                self.push(Op::Neg(operand), node.ty, node.active, unary.span())
            }
            UnOp::Not(_) => {
                let ty = self.node(operand).ty.clone();
                self.inactive(
                    InactiveExpr::Not,
                    vec![operand],
                    ty,
                    &expr,
                    "`!` cannot apply to a value being differentiated",
                )
            }
            UnOp::Deref(_) => self.inactive(
                InactiveExpr::Deref,
                vec![operand],
                Ty::Unknown,
                &expr,
                "`*` cannot apply to a value being differentiated",
            ),
            _ => self.unsupported(
                unary,
                "this operator is not supported in a differentiable function",
            ),
        }
    }

    /// A node that needs no derivative; it is an error if a differentiated value flows into it.
    fn inactive(
        &mut self,
        template: InactiveExpr,
        args: Vec<ValueId>,
        ty: Ty,
        expr: &Expr,
        message: &str,
    ) -> Val {
        if let Some(active) = args.iter().find(|a| self.node(**a).active) {
            let _ = active;
            return self.unsupported(expr, message);
        }
        self.push(Op::Inactive { template, args }, ty, false, expr.span())
    }

    fn binary(&mut self, binary: &syn::ExprBinary) -> Val {
        let compound = match binary.op {
            BinOp::AddAssign(t) => Some(BinOp::Add(syn::Token![+](t.spans[0]))),
            BinOp::SubAssign(t) => Some(BinOp::Sub(syn::Token![-](t.spans[0]))),
            BinOp::MulAssign(t) => Some(BinOp::Mul(syn::Token![*](t.spans[0]))),
            BinOp::DivAssign(t) => Some(BinOp::Div(syn::Token![/](t.spans[0]))),
            BinOp::RemAssign(t) => Some(BinOp::Rem(syn::Token![%](t.spans[0]))),
            _ => None,
        };
        if let Some(token) = compound {
            let lhs = self.scalar_expr(&binary.left);
            let rhs = self.scalar_expr(&binary.right);
            let val = self.arithmetic(token, lhs, rhs, binary.span());
            self.assign(&binary.left, val);
            return Val::Tuple(Vec::new());
        }
        let lhs = self.scalar_expr(&binary.left);
        let rhs = self.scalar_expr(&binary.right);
        self.arithmetic(binary.op, lhs, rhs, binary.span())
    }

    fn arithmetic(&mut self, token: BinOp, lhs: ValueId, rhs: ValueId, span: Span) -> Val {
        let op = match token {
            BinOp::Add(_) => BinaryOp::Add,
            BinOp::Sub(_) => BinaryOp::Sub,
            BinOp::Mul(_) => BinaryOp::Mul,
            BinOp::Div(_) => BinaryOp::Div,
            BinOp::Rem(_) => BinaryOp::Rem,
            _ => BinaryOp::Other,
        };
        let (l, r) = (self.node(lhs), self.node(rhs));
        let (ty, active) = if op == BinaryOp::Other {
            let ty = match token {
                BinOp::BitAnd(_)
                | BinOp::BitOr(_)
                | BinOp::BitXor(_)
                | BinOp::Shl(_)
                | BinOp::Shr(_) => unify(&l.ty, &r.ty),
                _ => Ty::Bool,
            };
            (ty, false)
        } else {
            (unify(&l.ty, &r.ty), l.active || r.active)
        };
        self.push(
            Op::Binary {
                op,
                token,
                lhs,
                rhs,
            },
            ty,
            active,
            span,
        )
    }

    fn assign(&mut self, place: &Expr, val: Val) {
        match place {
            Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
                let name = path.path.get_ident().map(ToString::to_string).unwrap_or_default();
                if !self.assign_name(&name, val) {
                    self.diagnostics.error(place, format!("cannot assign to `{name}`: only local variables can be assigned"));
                }
            }
            Expr::Paren(inner) => self.assign(&inner.expr, val),
            Expr::Tuple(places) => match val {
                Val::Tuple(values) if values.len() == places.elems.len() => {
                    for (place, val) in places.elems.iter().zip(values) {
                        self.assign(place, val);
                    }
                }
                _ => self.diagnostics.error(place, "this tuple assignment needs a tuple value of the same length"),
            },
            Expr::Infer(_) => {}
            Expr::Index(_) => self.diagnostics.error(place, "assigning to an element is not supported yet"),
            Expr::Field(_) => self.diagnostics.error(place, "assigning to a field is not supported in a differentiable function: use a local variable"),
            other => self.diagnostics.error(other, "only local variables can be assigned in a differentiable function"),
        }
    }

    fn cast(&mut self, cast: &syn::ExprCast) -> Val {
        let value = self.scalar_expr(&cast.expr);
        let source = self.node(value).clone();
        let target = classify(&cast.ty);
        let active = source.active && target.is_float();
        if active && source.ty == Ty::Float(None) {
            return self.unsupported(
                &cast.expr,
                "grad cannot tell the float type of this value: bind it to a local with a type (`let v: f64 = ...;`) before the cast",
            );
        }
        self.push(
            Op::Cast {
                value,
                to: (*cast.ty).clone(),
            },
            target,
            active,
            cast.span(),
        )
    }

    fn method_call(&mut self, call: &syn::ExprMethodCall) -> Val {
        let receiver = self.scalar_expr(&call.receiver);
        let mut args = vec![receiver];
        args.extend(call.args.iter().map(|arg| self.scalar_expr(arg)));
        let receiver_ty = self.node(receiver).ty.clone();
        if receiver_ty.is_float() && call.turbofish.is_none() {
            if let Some(rule) = rules::method(&call.method.to_string()) {
                let span = call.method.span();
                return self.float_method(
                    rule,
                    call.method.clone(),
                    CallStyle::Method,
                    args,
                    span,
                    &Expr::MethodCall(call.clone()),
                );
            }
        }
        let expr = Expr::MethodCall(call.clone());
        if args.iter().any(|a| self.node(*a).active) {
            let method = &call.method;
            let message = if receiver_ty.is_float() {
                no_derivative(method)
            } else {
                format!(
                    "cannot differentiate through `{method}`: it is not a float method with a derivative"
                )
            };
            return self.unsupported(method, message);
        }
        let ty = if receiver_ty == Ty::Int {
            Ty::Int
        } else {
            Ty::Unknown
        };
        let template = InactiveExpr::Method {
            method: call.method.clone(),
            turbofish: call.turbofish.clone(),
        };
        self.inactive(template, args, ty, &expr, "")
    }

    fn float_method(
        &mut self,
        rule: &'static rules::MethodRule,
        method: syn::Ident,
        style: CallStyle,
        args: Vec<ValueId>,
        span: Span,
        expr: &Expr,
    ) -> Val {
        if args.len() != rule.arity() {
            return self.unsupported(
                expr,
                format!(
                    "`{}` takes {} argument(s) here, not {}",
                    rule.name,
                    rule.arity() - 1,
                    args.len() - 1
                ),
            );
        }
        let float_ty = args
            .iter()
            .enumerate()
            .filter(|(i, _)| rule.arg_is_float(*i))
            .fold(Ty::Float(None), |ty, (_, a)| unify(&ty, &self.node(*a).ty));
        let (ty, active) = match rule.derivative {
            Derivative::Pullback => {
                let active = args
                    .iter()
                    .enumerate()
                    .any(|(i, a)| rule.arg_is_float(i) && self.node(*a).active);
                (float_ty, active)
            }
            Derivative::Zero => (float_ty, false),
            Derivative::NotFloat => (Ty::Bool, false),
        };
        self.push(
            Op::FloatMethod {
                rule,
                method,
                style,
                args,
            },
            ty,
            active,
            span,
        )
    }

    fn call(&mut self, call: &syn::ExprCall) -> Val {
        let expr = Expr::Call(call.clone());
        let path = match &*call.func {
            Expr::Path(path) if path.qself.is_none() => path.path.clone(),
            other => {
                return self.unsupported(
                    other,
                    "only calls of functions by path (`g(x)`, `module::g(x)`) are supported",
                );
            }
        };
        let args: Vec<ValueId> = call.args.iter().map(|arg| self.scalar_expr(arg)).collect();
        if let Some(rule) = float_method_path(&path) {
            let method = path
                .segments
                .last()
                .map(|s| s.ident.clone())
                .expect("a float path has segments");
            return self.float_method(
                rule,
                method,
                CallStyle::Path(path.clone()),
                args,
                call.span(),
                &expr,
            );
        }
        let active = args.iter().any(|a| self.node(*a).active);
        if active {
            if let Some(float_owner) = float_owner(&path) {
                let method = path
                    .segments
                    .last()
                    .map(|s| s.ident.clone())
                    .expect("a float path has segments");
                let _ = float_owner;
                return self.unsupported(&method, no_derivative(&method));
            }
            let mut failed = false;
            for (arg, id) in call.args.iter().zip(&args) {
                if self.node(*id).ty == Ty::Unknown {
                    self.diagnostics.error(
                        arg,
                        "grad cannot tell whether this argument is a float, which it needs to match the callee's `_vjp`: bind it to a local with a type (`let v: f64 = ...;`)",
                    );
                    failed = true;
                }
            }
            if failed {
                return self.poison(call.span());
            }
        }
        let ty = if active { Ty::Float(None) } else { Ty::Unknown };
        self.push(Op::Call { path, args }, ty, active, call.span())
    }

    fn field(&mut self, field: &syn::ExprField) -> Val {
        let base = self.expr(&field.base);
        match (base, &field.member) {
            (Val::Tuple(elements), syn::Member::Unnamed(index)) => {
                match elements.get(index.index as usize) {
                    Some(element) => element.clone(),
                    None => self.unsupported(field, "this tuple has no such element"),
                }
            }
            (Val::Tuple(_), _) => self.unsupported(field, "a tuple has no named fields"),
            (Val::Scalar(base), member) => {
                let expr = Expr::Field(field.clone());
                self.inactive(
                    InactiveExpr::Field(member.clone()),
                    vec![base],
                    Ty::Unknown,
                    &expr,
                    "a float has no fields",
                )
            }
        }
    }
}

/// The type of an arithmetic result: a float if either side is one, as Rust requires both
/// sides to match.
fn unify(a: &Ty, b: &Ty) -> Ty {
    match (a, b) {
        (Ty::Float(Some(f)), _) | (_, Ty::Float(Some(f))) => Ty::Float(Some(*f)),
        (Ty::Float(None), _) | (_, Ty::Float(None)) => Ty::Float(None),
        (Ty::Int, _) | (_, Ty::Int) => Ty::Int,
        (Ty::Bool, Ty::Bool) => Ty::Bool,
        _ => Ty::Unknown,
    }
}

/// `f64` in `f64::sin`, `std::f64::sin` is not a function, so only the type itself counts.
fn float_owner(path: &syn::Path) -> Option<FloatTy> {
    let n = path.segments.len();
    if n < 2 {
        return None;
    }
    let owner = &path.segments[n - 2];
    FloatTy::from_ident(&owner.ident.to_string())
}

/// `f64::sin` and `f32::max` name float methods in path form.
fn float_method_path(path: &syn::Path) -> Option<&'static rules::MethodRule> {
    float_owner(path)?;
    let last = path.segments.last()?;
    if !last.arguments.is_none() {
        return None;
    }
    rules::method(&last.ident.to_string())
}

fn no_derivative(method: &syn::Ident) -> String {
    format!(
        "`{method}` has no derivative in grad; the float methods with derivatives are {}. To use `{method}`, call it in a helper function `h` and write `h_vjp` by hand",
        rules::differentiable_names().collect::<Vec<_>>().join(", ")
    )
}

#[allow(dead_code)]
fn _type_is_float(ty: &Type) -> bool {
    float_type(ty).is_some()
}

#[allow(dead_code)]
fn _tokens(_: TokenStream) {}
