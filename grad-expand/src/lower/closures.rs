//! Closures bound to locals, inlined where they are called.
//!
//! Input: `let w = |x: f64| 1.0 + (x - 1.0) / 4.0; w(p[0]) + w(p[1])`. Output: the nodes of
//! `1.0 + (p[0] - 1.0) / 4.0` and of `1.0 + (p[1] - 1.0) / 4.0`, added: the definition adds no
//! node, and each call lowers the closure's body with its parameters bound to the arguments'
//! values. So generated code holds no closure, and a call costs what its body costs written
//! out. Passed to an iterator adaptor by name (`x.iter().map(w)`), a closure is called by the
//! rewritten loop (`iterators.rs` applies a path to the element), which inlines it the same way.
//!
//! The body sees the locals it names as they were where the closure was defined (its
//! captures), not as they are where it is called: a later `let k = ..;` that shadows a
//! captured `k` does not change the closure, and a `move` closure keeps a copy of the arrays it
//! captures. A closure that assigns a variable it captures (an `FnMut`) is an error naming the
//! fix, since inlining would drop the assignment; as is `return` in its body, and a closure
//! used in any other way than called, bound to a name, or passed to an adaptor.

use super::scopes::Scopes;
use super::{Lowerer, Val, strip_parens};
use crate::graph::{ArrayInit, Ty};
use quote::ToTokens;
use std::rc::Rc;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Pat, ReturnType, Type};

/// The error for a closure used as a value.
pub(super) const NOT_A_VALUE: &str = "a closure can only be called (`f(x)`), bound to a name (`let f = |x| ..;`) or passed to the iterator adaptors grad rewrites (`.map(f)`, `.fold(init, f)`) in a differentiable function: call it where its value is needed, in a loop of your own where a method would have called it";

/// The error for a closure passed to a function.
pub(super) const PASSED_TO_A_FUNCTION: &str = "a closure cannot be passed to a function in a differentiable function: grad differentiates a call through the callee's `_vjp`, which cannot see the closure; write the callee's loop in this function and call the closure there (`for k in 0..n { s += f(t[k]); }`), or put both functions in a `#[differentiable] mod`, which inlines a function that takes a closure where it is called";

/// The closures of the body and the calls being inlined.
#[derive(Default)]
pub(super) struct Closures {
    defined: Vec<LocalClosure>,
    /// How many closure bodies are being lowered, one inside another.
    inlining: usize,
}

/// A closure as it was defined.
#[derive(Clone)]
pub(super) struct LocalClosure {
    /// Shared, so that each call lowers the same syntax (an item in the body is hoisted once).
    closure: Rc<syn::ExprClosure>,
    /// The values of the locals its body names, where it was defined.
    captures: Vec<(String, Val)>,
    /// Whether lowering its body reported an error: later calls report it again no more.
    failed: bool,
}

impl Lowerer<'_> {
    /// `|x| body`, as a value that calls inline (`closure_call`). The body is checked here
    /// and lowered at each call.
    pub(super) fn closure(&mut self, closure: &syn::ExprClosure) -> Val {
        if let Some(token) = &closure.asyncness {
            return self.unsupported(
                token,
                "`async` closures are not supported in a differentiable function",
            );
        }
        if self.returns_in_body(closure) {
            return self.poison(closure.span());
        }
        let mut scan = BodyScan::default();
        scan.visit_expr(&closure.body);
        let moves = closure.capture.is_some();
        let mut captures = Vec::new();
        for name in scan.names {
            let Some(val) = self.lookup(&name).cloned() else {
                continue;
            };
            let val = match val {
                // A `move` closure owns a copy of an array it captures: later writes to the
                // array do not reach it. (An array behind a reference cannot be written.)
                Val::Array(array) if moves => {
                    let source = self.graph.array(array);
                    // (A sub-slice is a reference, and a `Vec` is moved in, not copied.)
                    let borrowed = match source.init {
                        ArrayInit::Param { index, .. } => {
                            matches!(self.param_types.get(index), Some(Type::Reference(_)))
                        }
                        _ => matches!(source.ty, Ty::Slice(_)),
                    };
                    if borrowed {
                        val
                    } else {
                        let ty = source.ty.clone();
                        Val::Array(self.new_array(ty, ArrayInit::Copy(array), closure.span()))
                    }
                }
                other => other,
            };
            captures.push((name, val));
        }
        self.closures.defined.push(LocalClosure {
            closure: Rc::new(closure.clone()),
            captures,
            failed: false,
        });
        Val::Closure(self.closures.defined.len() - 1)
    }

    /// Whether a closure given to an iterator chain (`.map(|v| ..)`, `.fold(0.0, |a, v| ..)`)
    /// returns from its body; if so the errors are reported. The chain's rewrite inlines the
    /// closure into a loop, where `return` would leave the function instead.
    pub(super) fn chain_closure_returns(&mut self, call: &syn::ExprMethodCall) -> bool {
        let mut found = false;
        let mut link = Some(call);
        while let Some(call) = link {
            for arg in &call.args {
                if let Expr::Closure(closure) = strip_parens(arg) {
                    found |= self.returns_in_body(closure);
                }
            }
            link = match strip_parens(&call.receiver) {
                Expr::MethodCall(inner) => Some(inner),
                _ => None,
            };
        }
        found
    }

    /// Reports each `return` that would leave the closure; whether there is one.
    fn returns_in_body(&mut self, closure: &syn::ExprClosure) -> bool {
        let mut scan = BodyScan::default();
        scan.visit_expr(&closure.body);
        for ret in &scan.returns {
            self.diagnostics.error_at(
                *ret,
                "`return` in a closure is not supported in a differentiable function: make the closure's value its final expression (`if c { a } else { b }`)",
            );
        }
        !scan.returns.is_empty()
    }

    /// `w(a, b)` of a closure bound to `w`, or `(|x| ..)(a)`: the closure's body, lowered
    /// with its parameters bound to the arguments' values and its captures to theirs. `None`
    /// if the callee is not a closure.
    pub(super) fn closure_call(&mut self, call: &syn::ExprCall) -> Option<Val> {
        let index = match strip_parens(&call.func) {
            Expr::Path(path) if path.qself.is_none() => {
                let name = path.path.get_ident()?.to_string();
                match self.lookup(&name) {
                    Some(Val::Closure(index)) => *index,
                    _ => return None,
                }
            }
            Expr::Closure(closure) => match self.closure(closure) {
                Val::Closure(index) => index,
                other => return Some(other),
            },
            _ => return None,
        };
        Some(self.inline_closure(index, call))
    }

    /// `rk4(|s| [s[1], -k * s[0]], state, h)` of a function `rk4<F: Fn(..)>` of the enclosing
    /// `#[differentiable]` module that takes a closure: its body, inlined as a closure's
    /// would be, where the closure it is given is known. It captures nothing: a fn item sees
    /// no local of its caller. `None` if the callee is no such function.
    pub(super) fn helper_call(&mut self, call: &syn::ExprCall) -> Option<Val> {
        let Expr::Path(path) = strip_parens(&call.func) else {
            return None;
        };
        let name = path.path.get_ident()?;
        if path.qself.is_some() || self.lookup(&name.to_string()).is_some() {
            return None;
        }
        let helper = self.helpers.iter().find(|h| h.sig.ident == *name)?;
        let closure = helper_as_closure(helper);
        if self.returns_in_body(&closure) {
            return Some(self.poison(call.span()));
        }
        self.closures.defined.push(LocalClosure {
            closure: Rc::new(closure),
            captures: Vec::new(),
            failed: false,
        });
        let index = self.closures.defined.len() - 1;
        Some(self.inline_closure(index, call))
    }

    /// The body of closure `index`, lowered with its parameters bound to `call`'s arguments.
    fn inline_closure(&mut self, index: usize, call: &syn::ExprCall) -> Val {
        let LocalClosure {
            closure,
            captures,
            failed,
        } = self.closures.defined[index].clone();
        if failed {
            return self.poison(call.span());
        }
        if call.args.len() != closure.inputs.len() {
            let message = format!(
                "this closure takes {} argument(s), not {}",
                closure.inputs.len(),
                call.args.len()
            );
            return self.unsupported(call, message);
        }
        // Arguments are evaluated where the call is, in order, before the body runs.
        let mut args = Vec::new();
        for arg in &call.args {
            let val = match strip_parens(arg) {
                Expr::Reference(reference) if reference.mutability.is_some() => {
                    return self.unsupported(arg, "passing `&mut` to a closure is not supported in a differentiable function: return the new value from the closure and assign it where it is called (`y = f(y);`)");
                }
                // Elements are values here, as in the iterator rewrite: `&v` passes `v`.
                Expr::Reference(reference) => self.expr(&reference.expr),
                other => self.expr(other),
            };
            if val == Val::Never {
                return Val::Never;
            }
            args.push(val);
        }
        // The body sees its captures and parameters, and no other local: a name that the call's
        // place binds anew is not the one the closure captured.
        let errors_before = self.diagnostics.count();
        let outer_scopes = std::mem::replace(&mut self.scopes, Scopes::new());
        let outer_loops = std::mem::take(&mut self.loops);
        self.closures.inlining += 1;
        for (name, val) in captures {
            self.bind(name, val);
        }
        self.scopes.push();
        for (pat, val) in closure.inputs.iter().zip(args) {
            self.bind_parameter(pat, val);
        }
        let mut value = self.expr(&closure.body);
        if let ReturnType::Type(_, ty) = &closure.output {
            value = self.annotate(value, &value_type(ty));
        }
        self.closures.inlining -= 1;
        self.loops = outer_loops;
        self.scopes = outer_scopes;
        if self.diagnostics.count() > errors_before {
            self.closures.defined[index].failed = true;
        }
        value
    }

    /// A closure's parameter: `x`, `x: f64`, `&x`, `(a, b)`, `&(a, b): &(f64, f64)`, with
    /// references read as the values they point to.
    fn bind_parameter(&mut self, pat: &Pat, val: Val) {
        let pat = value_pattern(pat);
        let mutable = match &pat {
            Pat::Ident(ident) => ident.mutability.is_some(),
            Pat::Type(typed) => {
                matches!(&*typed.pat, Pat::Ident(ident) if ident.mutability.is_some())
            }
            _ => false,
        };
        let val = match val {
            // An array passed by value is the closure's own copy, which it may write.
            Val::Array(array) if mutable => {
                let ty = self.graph.array(array).ty.clone();
                if let Ty::Slice(_) = ty {
                    Val::Array(array)
                } else {
                    Val::Array(self.new_array(ty, ArrayInit::Copy(array), pat.span()))
                }
            }
            other => other,
        };
        let slice = match &pat {
            Pat::Slice(slice) => Some(slice),
            Pat::Type(typed) => match &*typed.pat {
                Pat::Slice(slice) => Some(slice),
                _ => None,
            },
            _ => None,
        };
        match slice {
            // `|[a, b]: [f64; 2]|` reads the elements as `let [a, b] = v;` does.
            Some(slice) => {
                self.rewrites += 1;
                let name = quote::format_ident!("__grad_argument{}", self.rewrites);
                self.bind(name.to_string(), val);
                self.destructure_array(slice, &syn::parse_quote!(#name));
            }
            None => self.bind_pattern(&pat, val, None),
        }
    }

    /// Whether `name`, assigned, is a variable the closure being inlined captured; if so the
    /// error is reported.
    pub(super) fn assigns_a_capture(&mut self, place: impl ToTokens, name: &str) -> bool {
        let captured = self.closures.inlining > 0 && self.scopes.depth_of(name) == Some(0);
        if captured {
            self.diagnostics.error(
                place,
                format!("this closure assigns `{name}`, which it captures: grad inlines a closure where it is called, and supports closures that only read what they capture; return the new value from the closure and assign it where it is called (`{name} = f({name}, x);`)"),
            );
        }
        captured
    }

    /// Whether an assignment gives a variable a closure; if so the error is reported.
    pub(super) fn assigns_a_closure(&mut self, place: &Expr, val: &Val) -> bool {
        let closure = matches!(val, Val::Closure(_));
        if closure {
            self.diagnostics.error(
                place,
                "a closure cannot be assigned to a variable in a differentiable function: bind each closure to a name of its own (`let g = |x| ..;`)",
            );
        }
        closure
    }
}

/// A parameter pattern as it binds values: `&x` binds what `x` would, and `x: &f64` is
/// `x: f64`.
fn value_pattern(pat: &Pat) -> Pat {
    match pat {
        Pat::Reference(reference) => value_pattern(&reference.pat),
        Pat::Paren(inner) => value_pattern(&inner.pat),
        Pat::Tuple(tuple) => {
            let mut tuple = tuple.clone();
            for elem in tuple.elems.iter_mut() {
                *elem = value_pattern(elem);
            }
            Pat::Tuple(tuple)
        }
        Pat::Type(typed) => {
            let mut typed = typed.clone();
            *typed.pat = value_pattern(&typed.pat);
            *typed.ty = value_type(&typed.ty);
            Pat::Type(typed)
        }
        other => other.clone(),
    }
}

/// `&T` is read as `T`, also inside a tuple type.
fn value_type(ty: &Type) -> Type {
    match ty {
        Type::Reference(reference) if reference.mutability.is_none() => value_type(&reference.elem),
        Type::Paren(inner) => value_type(&inner.elem),
        Type::Tuple(tuple) => {
            let mut tuple = tuple.clone();
            for elem in tuple.elems.iter_mut() {
                *elem = value_type(elem);
            }
            Type::Tuple(tuple)
        }
        other => other.clone(),
    }
}

/// What a closure's body names, and where it returns.
#[derive(Default)]
struct BodyScan {
    /// Every single-identifier path, in order of first appearance.
    names: Vec<String>,
    /// `return`s that leave this closure (not one nested in it).
    returns: Vec<proc_macro2::Span>,
    /// How many closures nested in the body the scan is inside.
    nested: usize,
}

impl<'ast> Visit<'ast> for BodyScan {
    fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
        if let Some(ident) = path.path.get_ident() {
            let name = ident.to_string();
            if path.qself.is_none() && !self.names.contains(&name) {
                self.names.push(name);
            }
        }
        syn::visit::visit_expr_path(self, path);
    }

    fn visit_expr_return(&mut self, ret: &'ast syn::ExprReturn) {
        if self.nested == 0 {
            self.returns.push(ret.return_token.span);
        }
        syn::visit::visit_expr_return(self, ret);
    }

    fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
        self.nested += 1;
        syn::visit::visit_expr_closure(self, closure);
        self.nested -= 1;
    }

    // Items in the body are not closures' business: their names are their own.
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// A function that takes closures, as the closure `|f, s: [f64; 2], h: f64| -> [f64; 2] { .. }`
/// its call inlines: a parameter whose type is a closure's (`F`, `impl Fn(..)`) is untyped.
fn helper_as_closure(helper: &syn::ItemFn) -> syn::ExprClosure {
    let closure_types = crate::signature::closure_type_params(&helper.sig);
    let inputs = helper.sig.inputs.iter().filter_map(|input| match input {
        syn::FnArg::Typed(typed)
            if crate::signature::is_closure_type(&typed.ty, &closure_types) =>
        {
            Some((*typed.pat).clone())
        }
        syn::FnArg::Typed(typed) => Some(Pat::Type(typed.clone())),
        syn::FnArg::Receiver(_) => None,
    });
    let output = &helper.sig.output;
    let body = &helper.block;
    syn::parse_quote_spanned!(helper.sig.ident.span()=> |#(#inputs),*| #output #body)
}
