//! Calls: float methods (`x.sin()`, `f64::max(a, b)`), grad's own functions
//! (`grad::sigmoid`, the array helpers) and calls of other functions.
//!
//! Input: `x.sin() * g(x)`. Output: `v1 = x.sin()` (a float method, derived by its row in
//! `rules.rs`), `v2 = g(x)` (a call, derived through `g_vjp`), `v3 = v1 * v2`. Any other
//! method is an inactive node, which the checks reject if a differentiated value flows in.
//! Iterator chains (`map`, `sum`, `product`, `fold`) are rewritten as loops first
//! (`iterators.rs`).

use super::{Lowerer, Val};
use crate::graph::{ArrayInit, CallArg, CallStyle, InactiveExpr, Op, Ty, ValueId, unify};
use crate::iterators;
use crate::rules::{self, Derivative, HelperShape};
use crate::signature::{classify, float_owner};
use proc_macro2::Span;
use quote::ToTokens;
use syn::Expr;
use syn::spanned::Spanned;

impl Lowerer<'_> {
    pub(super) fn method_call(&mut self, call: &syn::ExprMethodCall) -> Val {
        if let Some(tested) = range_contains(call) {
            return self.expr(&tested);
        }
        if let Some(val) = self.adaptor_method(call) {
            return val;
        }
        if let Some(val) = self.linalg_map(call) {
            return val;
        }
        if matches!(
            call.method.to_string().as_str(),
            "sum" | "product" | "fold" | "map"
        ) {
            if self.chain_closure_returns(call) {
                return self.poison(call.span());
            }
            self.rewrites += 1;
            if let Some(rewritten) = iterators::desugar_method(call, self.rewrites) {
                return self.expr(&rewritten);
            }
        }
        // An iteration over an array that no rewrite took: name the method at fault. (Chains
        // over constants of other types pass through as written.)
        let over_array = !super::linalg::is_linalg_chain(&call.receiver)
            && iterators::chain_source(&call.receiver).is_some_and(|source| {
                matches!(self.lookup(&source.to_string()), Some(Val::Array(_)))
            });
        if over_array {
            const SUPPORTED: &str = "write a loop over the indices (`for i in 0..x.len() { .. }`); supported are `iter`, `windows`, `chunks`, `chunks_exact`, `zip`, `enumerate`, `map`, `copied`, `cloned`, `skip`, `take`, `rev` and `step_by`, ended by `sum`, `product`, `fold`, `max_by` or `min_by` (then `unwrap`), `count` or `collect`";
            return match iterators::unsupported_stage(&call.receiver) {
                Some(adaptor) => self.unsupported(
                    adaptor,
                    format!("the iterator adaptor `{adaptor}` is not supported yet: {SUPPORTED}"),
                ),
                None => {
                    let method = &call.method;
                    self.unsupported(
                        method,
                        format!("`{method}` on an iterator is not supported yet: {SUPPORTED}"),
                    )
                }
            };
        }
        if let Some((as_call, path, this)) = self.self_call(call) {
            let returned = self.returned_type((call as *const syn::ExprMethodCall).cast());
            return self.function_call(&as_call, path, returned, Some(this));
        }
        let receiver = self.expr(&call.receiver);
        if let Val::Array(array) = receiver {
            return self.array_method(array, call);
        }
        let receiver = self.scalar(receiver, &call.receiver);
        let mut args = vec![receiver];
        args.extend(call.args.iter().map(|arg| self.scalar_expr(arg)));
        let receiver_ty = self.node(receiver).ty.clone();
        // `g(x).sin()`, `SCALE.max(x)`: the receiver's type is unknown here (analysis settles
        // it), but a float method's receiver is a float.
        let float_receiver = receiver_ty.is_float() || receiver_ty == Ty::Unknown;
        if float_receiver && call.turbofish.is_none() {
            if call.method == "sin_cos" && call.args.is_empty() {
                return self.sin_cos(
                    receiver,
                    call.method.span(),
                    &Expr::MethodCall(call.clone()),
                );
            }
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
        // Integer methods never return floats; anything else the checks reject if it is
        // applied to a differentiated value.
        let ty = if receiver_ty == Ty::Int {
            Ty::Int
        } else {
            Ty::Unknown
        };
        let template = InactiveExpr::Method {
            method: call.method.clone(),
            turbofish: call.turbofish.clone(),
        };
        let value = self.inactive(template, args, ty, call.method.span());
        match unwrapped_conversion(call) {
            Some(owner) => self.typed_as_generic(value, owner, call.span()),
            None => value,
        }
    }

    /// The array type the signature gives the call at `call`, when the body ends with it.
    fn returned_type(&self, call: *const ()) -> Option<Ty> {
        self.returned_call
            .as_ref()
            .filter(|(returned, _)| std::ptr::eq(*returned, call))
            .map(|(_, ty)| ty.clone())
    }

    /// `self.helper(x)` in a method, as the call `Self::helper(x)` with the receiver's node:
    /// derived through `self.helper_vjp(x, ..)`, since the companions of a method are
    /// methods. `None` for any other method call.
    pub(super) fn self_call(
        &self,
        call: &syn::ExprMethodCall,
    ) -> Option<(syn::ExprCall, syn::Path, ValueId)> {
        let Expr::Path(receiver) = super::strip_parens(&call.receiver) else {
            return None;
        };
        if !receiver.path.is_ident("self") {
            return None;
        }
        let Some(Val::Scalar(this)) = self.lookup("self").cloned() else {
            return None;
        };
        let (method, turbofish) = (&call.method, &call.turbofish);
        let path: syn::Path = syn::parse_quote_spanned!(method.span()=> Self::#method #turbofish);
        let as_call = syn::ExprCall {
            attrs: Vec::new(),
            func: Box::new(Expr::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: None,
                path: path.clone(),
            })),
            paren_token: call.paren_token,
            args: call.args.clone(),
        };
        Some((as_call, path, this))
    }

    /// A value grad reads as the function's generic float type `owner` (`T::zero()`,
    /// `T::from_f64(c).unwrap()`), bound with that type in the generated code
    /// (`let v: T = ..;`), so that rustc confirms it where the user wrote it.
    fn typed_as_generic(&mut self, value: Val, owner: &syn::Ident, span: Span) -> Val {
        let Val::Scalar(id) = value else {
            return value;
        };
        if self.is_poison(id) {
            return value;
        }
        let ty: syn::Type = syn::parse_quote!(#owner);
        let class = classify(&ty);
        self.push(Op::Annotated { value: id, ty }, class, span)
    }

    /// `x.sin_cos()` is `(x.sin(), x.cos())`, as std computes it.
    fn sin_cos(&mut self, x: ValueId, span: Span, expr: &Expr) -> Val {
        let mut parts = Vec::new();
        for name in ["sin", "cos"] {
            let Some(rule) = rules::method(name) else {
                return self.unsupported(expr, "`sin_cos` needs the rules of `sin` and `cos`");
            };
            let method = syn::Ident::new(name, span);
            parts.push(self.float_method(rule, method, CallStyle::Method, vec![x], span, expr));
        }
        Val::Tuple(parts)
    }

    pub(super) fn float_method(
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
        let ty = match rule.derivative {
            Derivative::Pullback | Derivative::Zero => args
                .iter()
                .enumerate()
                .filter(|(i, _)| rule.arg_is_float(*i))
                .fold(Ty::Float(None), |ty, (_, a)| unify(&ty, &self.node(*a).ty)),
            Derivative::NotFloat => Ty::Bool,
        };
        self.push(
            Op::FloatMethod {
                rule,
                method,
                style,
                args,
            },
            ty,
            span,
        )
    }

    pub(super) fn call(&mut self, call: &syn::ExprCall) -> Val {
        if let Some(inlined) = self.closure_call(call) {
            return inlined;
        }
        if let Some(value) = self.linalg_constructor(call) {
            return value;
        }
        let expr = Expr::Call(call.clone());
        // `<T as Float>::from_f64(2.0)`, the macro's own converted literal
        // `<T as Literal>::literal(2.0)` and its zeros and ones (`<T as Zero>::zero()`, which
        // a tangent sweep differentiated again holds): a constant of a generic float type. Unqualified,
        // `T::from_f64(2.0)` may be num-traits' (an `Option<T>`) or grad's (a `T`): rustc
        // knows which, so it stays a call whose result rustc types.
        if let Expr::Path(func) = &*call.func {
            let last = func
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            let constant_args = call.args.iter().all(crate::generics::is_plain_literal);
            let constant = match last.as_str() {
                "from_f64" | "from_i32" | "literal" => constant_args,
                "zero" | "one" => call.args.is_empty(),
                _ => false,
            };
            if constant {
                let owner = match &func.qself {
                    Some(qself) => classify(&qself.ty),
                    None => Ty::Unknown,
                };
                if owner.is_float() {
                    return Val::Scalar(self.constant(expr.to_token_stream(), owner, call.span()));
                }
            }
        }
        let path = match &*call.func {
            Expr::Path(path) if path.qself.is_none() => path.path.clone(),
            other => {
                return self.unsupported(
                    other,
                    "only calls of functions by path (`g(x)`, `module::g(x)`) are supported",
                );
            }
        };
        // A call of a local: a closure (reported where it was defined) or another value.
        if let Some(local) = path
            .get_ident()
            .and_then(|name| self.lookup(&name.to_string()))
        {
            let defined_in_error = matches!(local, Val::Scalar(id) if self.is_poison(*id));
            if defined_in_error {
                return self.poison(call.span());
            }
            return self.unsupported(&call.func, "only functions can be called in a differentiable function, and this names a local value: call the function by its own name");
        }
        let is_sin_cos = path.segments.last().is_some_and(|s| s.ident == "sin_cos");
        if float_owner(&path) && is_sin_cos && call.args.len() == 1 {
            let x = self.scalar_expr(&call.args[0]);
            return self.sin_cos(x, call.span(), &expr);
        }
        if let Some(owner) = generic_float_owner(&path)
            && call.args.is_empty()
            && path
                .segments
                .last()
                .is_some_and(|s| SELF_CONSTRUCTORS.contains(&s.ident.to_string().as_str()))
        {
            let value = self.function_call(call, path.clone(), None, None);
            return self.typed_as_generic(value, owner, call.span());
        }
        if float_method_path(&path).is_none() {
            let returned = self.returned_type((call as *const syn::ExprCall).cast());
            return self.function_call(call, path, returned, None);
        }
        let args: Vec<ValueId> = call.args.iter().map(|arg| self.scalar_expr(arg)).collect();
        if let Some(rule) = float_method_path(&path) {
            let method = path
                .segments
                .last()
                .map(|s| s.ident.clone())
                .expect("a path has segments");
            return self.float_method(
                rule,
                method,
                CallStyle::Path(path.clone()),
                args,
                call.span(),
                &expr,
            );
        }
        self.function_call(call, path, None, None)
    }

    /// A call of a function with a `_vjp`. It returns an array when the binding says so
    /// (`let y: [f64; 3] = g(x);`) or when the callee is one of grad's array helpers.
    pub(super) fn function_call(
        &mut self,
        call: &syn::ExprCall,
        path: syn::Path,
        expected: Option<Ty>,
        receiver: Option<ValueId>,
    ) -> Val {
        if receiver.is_none()
            && let Some(inlined) = self.helper_call(call)
        {
            return inlined;
        }
        // `let m = Matrix3::new(..);` with `m[(i, j)]` read later comes here with an array type.
        if receiver.is_none()
            && let Some(value) = self.linalg_constructor(call)
        {
            return value;
        }
        // `use fns::h;` in the body, then `h(x)`: the derivative is `fns::h_vjp`, which the
        // `use` did not bring in (a module-level `h_vjp` would be another function's).
        let path = match path
            .get_ident()
            .and_then(|name| self.imports.get(&name.to_string()))
        {
            Some(full) => full.clone(),
            None => path,
        };
        let mut args: Vec<CallArg> = receiver.map(CallArg::Receiver).into_iter().collect();
        // `grad::sigmoid(x)` of a float: a rule whose derivative reuses the output.
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let scalar_rule = rules::grad_scalar_function(&segments);
        for written in &call.args {
            // `g(x)` of a parameter `x: &f64` passes the reference as written; `g(*x)` passes
            // the float.
            if let Expr::Path(name) = super::strip_parens(written)
                && let Some(name) = name.path.get_ident()
                && let Some(Val::Scalar(id)) = self.lookup(&name.to_string()).cloned()
                && matches!(
                    self.node(id).op,
                    Op::Param {
                        by_reference: true,
                        ..
                    }
                )
            {
                args.push(CallArg::Borrowed(id));
                continue;
            }
            // `g(&a)` passes an array by reference (to `g(a: &[f64; N])`).
            let (arg, by_reference) = match written {
                Expr::Reference(reference) if reference.mutability.is_none() => {
                    (&*reference.expr, true)
                }
                other => (other, false),
            };
            let value = if by_reference {
                match self.expr(arg) {
                    Val::Array(id) => Val::Array(id),
                    // `g(&x)` of a float passes it to `g(x: &f64)`.
                    Val::Scalar(inner) if self.node(inner).ty.is_float() => {
                        args.push(CallArg::Borrowed(inner));
                        continue;
                    }
                    Val::Scalar(inner) => self.inactive(
                        InactiveExpr::Reference,
                        vec![inner],
                        Ty::Unknown,
                        written.span(),
                    ),
                    other => other,
                }
            } else {
                self.expr(arg)
            };
            match value {
                Val::Scalar(id) if call.args.len() == 1 && scalar_rule.is_some() => {
                    if let Some(rule) = scalar_rule {
                        let method = path
                            .segments
                            .last()
                            .map(|s| s.ident.clone())
                            .expect("a path has segments");
                        let expr = Expr::Call(call.clone());
                        return self.float_method(
                            rule,
                            method,
                            CallStyle::Path(path.clone()),
                            vec![id],
                            call.span(),
                            &expr,
                        );
                    }
                    args.push(CallArg::Scalar(id));
                }
                Val::Scalar(id) => args.push(CallArg::Scalar(id)),
                Val::Array(id) => args.push(CallArg::Array {
                    array: id,
                    by_reference,
                }),
                Val::Never => return Val::Never,
                Val::Tuple(_) => {
                    return self.unsupported(
                        arg,
                        "a tuple cannot be passed to a differentiable call: pass its elements",
                    );
                }
                Val::Closure(_) => {
                    return self.unsupported(arg, super::closures::PASSED_TO_A_FUNCTION);
                }
            }
        }
        let array_ty = expected
            .filter(|t| matches!(t, Ty::Array(..)))
            .or_else(|| self.helper_result(&path, &args));
        match array_ty {
            Some(ty) => {
                let init = ArrayInit::Call {
                    path,
                    args,
                    tuple: false,
                };
                Val::Array(self.new_array(ty, init, call.span()))
            }
            None => self.push(Op::Call { path, args }, Ty::Unknown, call.span()),
        }
    }

    /// The array type one of grad's own array helpers returns (`rules::array_helper`).
    fn helper_result(&self, path: &syn::Path, args: &[CallArg]) -> Option<Ty> {
        let name = path.segments.last()?.ident.to_string();
        let Some(CallArg::Array { array: first, .. }) = args.first() else {
            return None;
        };
        let first = &self.graph.array(*first).ty;
        match rules::array_helper(&name)? {
            HelperShape::SameAsFirst => Some(first.clone()),
            HelperShape::OnePerRow => match first {
                Ty::Array(row, rows) => match &**row {
                    Ty::Array(elem, _) => Some(Ty::Array(elem.clone(), rows.clone())),
                    _ => None,
                },
                _ => None,
            },
        }
    }
}

/// `f64::sin` and `f32::max` name float methods in path form.
fn float_method_path(path: &syn::Path) -> Option<&'static rules::MethodRule> {
    if !float_owner(path) {
        return None;
    }
    let last = path.segments.last()?;
    if !last.arguments.is_none() {
        return None;
    }
    rules::method(&last.ident.to_string())
}

/// A path that names data rather than a function that computes: an enum variant or tuple
/// struct (`graph::constructs_data`), or a float method (`f64::sin`).
pub(super) fn names_data(path: &syn::Path) -> bool {
    crate::graph::constructs_data(path) || float_method_path(path).is_some()
}

/// num-traits' constants of a float type, which return `Self` (`T::zero()`, `T::PI()`).
const SELF_CONSTRUCTORS: &[&str] = &[
    "zero",
    "one",
    "epsilon",
    "max_value",
    "min_value",
    "min_positive_value",
    "infinity",
    "neg_infinity",
    "nan",
    "neg_zero",
    "PI",
    "E",
    "TAU",
    "SQRT_2",
    "LN_2",
    "LN_10",
    "LOG2_E",
    "LOG10_E",
    "LOG2_10",
    "LOG10_2",
    "FRAC_1_PI",
    "FRAC_2_PI",
    "FRAC_2_SQRT_PI",
    "FRAC_1_SQRT_2",
    "FRAC_PI_2",
    "FRAC_PI_3",
    "FRAC_PI_4",
    "FRAC_PI_6",
    "FRAC_PI_8",
];

/// num-traits' conversions into a float type, which return `Option<Self>`.
const CONVERSIONS: &[&str] = &[
    "from",
    "from_f64",
    "from_f32",
    "from_usize",
    "from_isize",
    "from_u8",
    "from_u16",
    "from_u32",
    "from_u64",
    "from_u128",
    "from_i8",
    "from_i16",
    "from_i32",
    "from_i64",
    "from_i128",
];

/// `T` of a path `T::name`, when `T` is one of the function's generic float types.
pub(super) fn generic_float_owner(path: &syn::Path) -> Option<&syn::Ident> {
    if path.leading_colon.is_some() || path.segments.len() != 2 {
        return None;
    }
    let owner = &path.segments[0].ident;
    crate::generics::index_of(&owner.to_string()).map(|_| owner)
}

/// `T` of `T::from_f64(c).unwrap()` (or `.expect(..)`, any conversion of num-traits).
fn unwrapped_conversion(call: &syn::ExprMethodCall) -> Option<&syn::Ident> {
    if !matches!(call.method.to_string().as_str(), "unwrap" | "expect") {
        return None;
    }
    let Expr::Call(conversion) = super::strip_parens(&call.receiver) else {
        return None;
    };
    let Expr::Path(func) = &*conversion.func else {
        return None;
    };
    let name = func.path.segments.last()?.ident.to_string();
    if func.qself.is_some() || !CONVERSIONS.contains(&name.as_str()) {
        return None;
    }
    generic_float_owner(&func.path)
}

/// `(a..b).contains(&x)` as the comparisons it makes, `{ let v = x; a <= v && v < b }`
/// (`v <= b` for `a..=b`): a range is otherwise only the range of a `for` loop.
fn range_contains(call: &syn::ExprMethodCall) -> Option<Expr> {
    if call.method != "contains" || call.args.len() != 1 {
        return None;
    }
    let Expr::Range(range) = super::strip_parens(&call.receiver) else {
        return None;
    };
    let (start, end) = (range.start.as_ref()?, range.end.as_ref()?);
    let value = match &call.args[0] {
        Expr::Reference(reference) if reference.mutability.is_none() => &*reference.expr,
        other => other,
    };
    let span = call.method.span();
    let tested = quote::format_ident!("__grad_contained", span = span);
    let upper = match range.limits {
        syn::RangeLimits::HalfOpen(_) => quote::quote_spanned!(span=> #tested < #end),
        syn::RangeLimits::Closed(_) => quote::quote_spanned!(span=> #tested <= #end),
    };
    syn::parse2(quote::quote_spanned! {span=>
        { let #tested = #value; #start <= #tested && #upper }
    })
    .ok()
}
