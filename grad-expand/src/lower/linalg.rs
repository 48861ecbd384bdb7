//! nalgebra's operations on fixed-size vectors and matrices, lowered to the scalar nodes
//! they compute: a vector is an array of nodes, a matrix its rows (`linalg.rs` reads the
//! types; the companions convert parameters in and gradient entries out).
//!
//! Input: `let r = m * v + w * 2.0; r.dot(&r).sqrt()`. Output: the nodes of
//! `r_i = sum_j m[i][j] * v[j] + w[i] * 2.0` and of the square root of `sum_i r_i * r_i`, so
//! that generated code is the straight-line arithmetic a hand-written gradient would do,
//! with no nalgebra value in it. Plain Rust arrays have no operators, fields or `dot`, so an
//! array that reaches one of these is nalgebra's.

use super::{Lowerer, Val};
use crate::graph::{ArrayId, ArrayInit, CallStyle, Op, Ty, ValueId};
use crate::rules;
use crate::types::Len;
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Expr};

/// The shape of a nalgebra value as lowered: `[n]` or `[rows, columns]`.
type Shape = Vec<usize>;

impl Lowerer<'_> {
    /// The literal dimensions of an array, or `None` (a slice, a length rustc infers).
    fn shape(&self, array: ArrayId) -> Option<Shape> {
        let mut dims = Vec::new();
        let mut ty = &self.graph.array(array).ty;
        while let Ty::Array(inner, Len(n)) = ty {
            dims.push(n.to_string().parse().ok()?);
            ty = inner;
        }
        (!dims.is_empty()).then_some(dims)
    }

    fn element_ty(&self, array: ArrayId) -> Ty {
        self.graph.array(array).ty.scalar().clone()
    }

    /// `array[indices]`, as a node.
    fn element_at(&mut self, array: ArrayId, at: &[usize], span: Span) -> ValueId {
        let indices: Vec<ValueId> = at
            .iter()
            .map(|i| self.int_constant(*i as u128, span))
            .collect();
        let ty = self.element_ty(array);
        match self.push(Op::ArrayRead { array, indices }, ty, span) {
            Val::Scalar(id) => id,
            _ => self.placeholder(Ty::Unknown, span),
        }
    }

    /// A new nalgebra value of `shape` from its elements, row by row.
    fn linalg_value(&mut self, shape: &[usize], values: Vec<ValueId>, elem: Ty, span: Span) -> Val {
        let literal = |n: usize| Len(proc_macro2::Literal::usize_unsuffixed(n).into_token_stream());
        let (ty, init) = match shape {
            [n] => (
                Ty::Array(Box::new(elem), literal(*n)),
                ArrayInit::Literal(values),
            ),
            [rows, columns] => {
                let row_ty = Ty::Array(Box::new(elem), literal(*columns));
                let chunks = values.chunks(*columns).map(<[ValueId]>::to_vec).collect();
                (
                    Ty::Array(Box::new(row_ty), literal(*rows)),
                    ArrayInit::Literal2(chunks),
                )
            }
            _ => return self.poison(span),
        };
        let array = self.new_array(ty, init, span);
        if shape.len() == 2 {
            self.linalg_matrices.insert(array);
        }
        Val::Array(array)
    }

    /// A use of a nalgebra matrix that would read it otherwise than by `(row, column)`: a
    /// single index (nalgebra's is column by column), `len`, an iteration. It is reported.
    pub(super) fn misread_matrix(
        &mut self,
        array: ArrayId,
        at: impl quote::ToTokens,
        what: &str,
    ) -> Option<Val> {
        if !self.linalg_matrices.contains(&array) {
            return None;
        }
        let message = format!(
            "{what} of a nalgebra matrix is not supported: read its elements as `m[(i, j)]`, row `i`, column `j`"
        );
        Some(self.unsupported(at, message))
    }

    /// Every element, row by row.
    fn elements(&mut self, array: ArrayId, shape: &[usize], span: Span) -> Vec<ValueId> {
        match shape {
            [n] => (0..*n)
                .map(|i| self.element_at(array, &[i], span))
                .collect(),
            [rows, columns] => (0..*rows)
                .flat_map(|i| (0..*columns).map(move |j| (i, j)))
                .collect::<Vec<_>>()
                .into_iter()
                .map(|(i, j)| self.element_at(array, &[i, j], span))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn arithmetic(&mut self, op: char, a: ValueId, b: ValueId, span: Span) -> ValueId {
        let token = match op {
            '+' => BinOp::Add(syn::Token![+](span)),
            '-' => BinOp::Sub(syn::Token![-](span)),
            '*' => BinOp::Mul(syn::Token![*](span)),
            _ => BinOp::Div(syn::Token![/](span)),
        };
        self.binary_node(token, a, b, span)
    }

    /// `a op b` element by element, of two values of one shape.
    fn elementwise(
        &mut self,
        op: char,
        a: ArrayId,
        b: ArrayId,
        shape: &[usize],
        span: Span,
    ) -> Val {
        let elem = self.element_ty(a);
        let xs = self.elements(a, shape, span);
        let ys = self.elements(b, shape, span);
        let values = xs
            .into_iter()
            .zip(ys)
            .map(|(x, y)| self.arithmetic(op, x, y, span))
            .collect();
        self.linalg_value(shape, values, elem, span)
    }

    /// `sum_k a_k * b_k`.
    fn sum_of_products(&mut self, pairs: Vec<(ValueId, ValueId)>, span: Span) -> ValueId {
        let mut total: Option<ValueId> = None;
        for (a, b) in pairs {
            let product = self.arithmetic('*', a, b, span);
            total = Some(match total {
                Some(t) => self.arithmetic('+', t, product, span),
                None => product,
            });
        }
        total.unwrap_or_else(|| self.placeholder(Ty::Unknown, span))
    }

    /// A binary operator with a nalgebra operand: `v + w`, `v - w`, `m * v`, `m * n`,
    /// `v * s`, `s * v`, `v / s`.
    pub(super) fn linalg_binary(&mut self, binary: &syn::ExprBinary, left: Val, right: Val) -> Val {
        let span = binary.span();
        let unknown_size = "grad differentiates nalgebra values whose size is written as a number (`Vector3<f64>`, `SMatrix<f64, 2, 3>`), not a const parameter";
        match (left, right) {
            (Val::Array(a), Val::Array(b)) => {
                let (Some(sa), Some(sb)) = (self.shape(a), self.shape(b)) else {
                    return self.unsupported(binary, unknown_size);
                };
                let elem = self.element_ty(a);
                match (&binary.op, sa.as_slice(), sb.as_slice()) {
                    (BinOp::Add(_) | BinOp::Sub(_), _, _) if sa == sb => {
                        let op = if matches!(binary.op, BinOp::Add(_)) { '+' } else { '-' };
                        self.elementwise(op, a, b, &sa, span)
                    }
                    // A column vector times a row (`v * w.transpose()`): the outer product.
                    (BinOp::Mul(_), [n], [1, m]) => {
                        let xs = self.elements(a, &sa, span);
                        let ys = self.elements(b, &sb, span);
                        let mut values = Vec::new();
                        for x in &xs {
                            for y in &ys {
                                values.push(self.arithmetic('*', *x, *y, span));
                            }
                        }
                        self.linalg_value(&[*n, *m], values, elem, span)
                    }
                    // A matrix times a vector or a matrix.
                    (BinOp::Mul(_), [rows, inner], rest) if rest.first() == Some(inner) => {
                        let columns = rest.get(1).copied();
                        let mut values = Vec::new();
                        for i in 0..*rows {
                            for j in 0..columns.unwrap_or(1) {
                                let pairs: Vec<(ValueId, ValueId)> = (0..*inner)
                                    .map(|k| {
                                        let x = self.element_at(a, &[i, k], span);
                                        let y = match columns {
                                            Some(_) => self.element_at(b, &[k, j], span),
                                            None => self.element_at(b, &[k], span),
                                        };
                                        (x, y)
                                    })
                                    .collect();
                                values.push(self.sum_of_products(pairs, span));
                            }
                        }
                        let shape = match columns {
                            Some(c) => vec![*rows, c],
                            None => vec![*rows],
                        };
                        self.linalg_value(&shape, values, elem, span)
                    }
                    _ => self.unsupported(
                        binary,
                        "this operation of nalgebra values is not supported: supported are `+` and `-` of values of one shape, a matrix times a vector or a matrix, and a value times or divided by a float",
                    ),
                }
            }
            // An operand in error was reported where it is.
            (Val::Array(_), Val::Scalar(s)) | (Val::Scalar(s), Val::Array(_))
                if self.is_poison(s) =>
            {
                Val::Scalar(s)
            }
            (Val::Array(a), Val::Scalar(s)) => self.scaled(binary, a, s, false),
            (Val::Scalar(s), Val::Array(a)) => self.scaled(binary, a, s, true),
            (Val::Never, _) | (_, Val::Never) => Val::Never,
            _ => self.unsupported(binary, "this operand cannot be used with an array"),
        }
    }

    /// `v * s`, `s * v`, `v / s`: every element times or divided by the float.
    fn scaled(
        &mut self,
        binary: &syn::ExprBinary,
        a: ArrayId,
        s: ValueId,
        scalar_first: bool,
    ) -> Val {
        let span = binary.span();
        let Some(shape) = self.shape(a) else {
            return self.unsupported(binary, "grad differentiates nalgebra values whose size is written as a number (`Vector3<f64>`, `SMatrix<f64, 2, 3>`), not a const parameter");
        };
        let op = match binary.op {
            BinOp::Mul(_) => '*',
            BinOp::Div(_) if !scalar_first => '/',
            _ => {
                return self.unsupported(
                    binary,
                    "a nalgebra value and a float combine only by `*` and by `/` (the value divided by the float)",
                );
            }
        };
        let elem = self.element_ty(a);
        let xs = self.elements(a, &shape, span);
        let values = xs
            .into_iter()
            .map(|x| {
                if scalar_first {
                    self.arithmetic(op, s, x, span)
                } else {
                    self.arithmetic(op, x, s, span)
                }
            })
            .collect();
        self.linalg_value(&shape, values, elem, span)
    }

    /// `-v` of a nalgebra value.
    pub(super) fn linalg_negation(&mut self, array: ArrayId, span: Span) -> Val {
        let Some(shape) = self.shape(array) else {
            return self.poison(span);
        };
        let elem = self.element_ty(array);
        let values = self
            .elements(array, &shape, span)
            .into_iter()
            .map(|x| match self.push(Op::Neg(x), elem.clone(), span) {
                Val::Scalar(id) => id,
                _ => x,
            })
            .collect();
        self.linalg_value(&shape, values, elem, span)
    }

    /// `v.x`, `v.y`, `v.z`, `v.w` of a vector or point.
    pub(super) fn linalg_field(&mut self, array: ArrayId, field: &syn::ExprField) -> Option<Val> {
        let syn::Member::Named(name) = &field.member else {
            return None;
        };
        let index = ["x", "y", "z", "w"].iter().position(|n| name == n)?;
        let shape = self.shape(array)?;
        if shape.len() != 1 || index >= shape[0] {
            return None;
        }
        Some(Val::Scalar(self.element_at(array, &[index], field.span())))
    }

    /// `Vector3::new(a, b, c)`, `Matrix2::new(a, b, c, d)` (row by row), `Point3::new(..)`,
    /// `Matrix2::from_row_slice(&[a, b, c, d])`, `Vector3::zeros()`, `Matrix3::identity()`;
    /// `None` for any other call.
    pub(super) fn linalg_constructor(&mut self, call: &syn::ExprCall) -> Option<Val> {
        let Expr::Path(path) = super::strip_parens(&call.func) else {
            return None;
        };
        let segments = &path.path.segments;
        let n = segments.len();
        if n < 2 {
            return None;
        }
        let constructor = segments[n - 1].ident.to_string();
        if !matches!(
            constructor.as_str(),
            "new" | "zeros" | "identity" | "from_row_slice"
        ) {
            return None;
        }
        // `Vector3::new`, `Vector3::<f64>::new`, `nalgebra::Matrix3::new`.
        let owner = &segments[n - 2];
        let ty: syn::Type = {
            let ident = &owner.ident;
            syn::parse_quote!(#ident<f64>)
        };
        let (linalg, shape_ty) = crate::linalg::classify(&ty)?;
        let mut shape = Vec::new();
        let mut current = &shape_ty;
        while let Ty::Array(inner, Len(len)) = current {
            shape.push(len.to_string().parse::<usize>().ok()?);
            current = inner;
        }
        let span = call.span();
        // grad reads the constructor by its name: the generated code checks that the name is
        // nalgebra's (whose `Matrix3::new` takes rows), so another crate's type of the same
        // name is a compile error at the call, never another layout read silently.
        let check = match linalg.kind {
            crate::linalg::Kind::Vector => quote::format_ident!("vector_type"),
            crate::linalg::Kind::Matrix => quote::format_ident!("matrix_type"),
            crate::linalg::Kind::Point => quote::format_ident!("point_type"),
        };
        let owner_path: Vec<&syn::PathSegment> = segments.iter().take(n - 1).collect();
        let owner_ident = &owner.ident;
        let prefix = owner_path[..owner_path.len() - 1].iter().map(|s| &s.ident);
        let leading = path.path.leading_colon;
        self.linalg_checks.push(quote::quote_spanned! {owner_ident.span()=>
            ::grad::__private::linalg::#check(::core::marker::PhantomData::<#leading #(#prefix::)* #owner_ident<f64>>);
        });
        let count: usize = shape.iter().product();
        let elem = Ty::Float(self.return_ty);
        let values: Vec<ValueId> = match constructor.as_str() {
            "new" if call.args.len() == count => {
                call.args.iter().map(|a| self.scalar_expr(a)).collect()
            }
            "new" => {
                let message = format!("`{}::new` takes {count} values here", owner.ident);
                return Some(self.unsupported(call, message));
            }
            // `Matrix2::from_row_slice(&[a, b, c, d])` of a slice written out.
            "from_row_slice" => {
                let [arg] = call.args.iter().collect::<Vec<_>>()[..] else {
                    return None;
                };
                let literal = match super::strip_parens(arg) {
                    Expr::Reference(reference) => super::strip_parens(&reference.expr),
                    other => other,
                };
                match literal {
                    Expr::Array(values) if values.elems.len() == count => {
                        values.elems.iter().map(|a| self.scalar_expr(a)).collect()
                    }
                    _ => {
                        let message = format!(
                            "grad reads `{}::from_row_slice` of a slice written out, of {count} values (`&[a, b, ..]`)",
                            owner.ident
                        );
                        return Some(self.unsupported(call, message));
                    }
                }
            }
            _ if !call.args.is_empty() || linalg.kind == crate::linalg::Kind::Point => return None,
            _ => {
                let float = self.return_ty?;
                let zero = crate::spell::float_zero(float);
                let one = crate::spell::float_one(float);
                let columns = shape.get(1).copied().unwrap_or(1);
                (0..count)
                    .map(|k| {
                        let diagonal = shape.len() == 2 && k / columns == k % columns;
                        let value = if constructor == "identity" && diagonal {
                            one.clone()
                        } else {
                            zero.clone()
                        };
                        self.constant(value, elem.clone(), span)
                    })
                    .collect()
            }
        };
        Some(self.linalg_value(&shape, values, elem, span))
    }

    /// A nalgebra matrix that is the function's value, as the rows of its elements.
    pub(super) fn matrix_rows(
        &mut self,
        array: ArrayId,
        span: Span,
    ) -> Option<crate::graph::Output> {
        let shape = self.shape(array)?;
        let [_, columns] = shape[..] else {
            return None;
        };
        let elements = self.elements(array, &shape, span);
        Some(crate::graph::Output::Rows(
            elements.chunks(columns).map(<[ValueId]>::to_vec).collect(),
        ))
    }

    /// `m.map(f)` of a nalgebra matrix held in a variable, or of a nalgebra value computed
    /// in place (`(m * 2.0).map(f)`, `m.transpose().map(f)`): `f` applied to each element, a
    /// value of the same shape. (A vector variable's `map` is an array's, rewritten to a
    /// loop; a matrix's cannot be, since its single index runs column by column.)
    pub(super) fn linalg_map(&mut self, call: &syn::ExprMethodCall) -> Option<Val> {
        if call.method != "map" || call.args.len() != 1 {
            return None;
        }
        let span = call.span();
        let array = match super::strip_parens(&call.receiver) {
            Expr::Path(receiver) => {
                let name = receiver.path.get_ident()?.to_string();
                let Some(&Val::Array(array)) = self.lookup(&name) else {
                    return None;
                };
                if !self.linalg_matrices.contains(&array) {
                    return None;
                }
                array
            }
            receiver @ Expr::Binary(_) => match self.expr(receiver) {
                Val::Array(array) => array,
                _ => return Some(self.poison(span)),
            },
            receiver if is_linalg_chain(receiver) => match self.expr(receiver) {
                Val::Array(array) => array,
                _ => return Some(self.poison(span)),
            },
            // `Matrix2::new(..).map(f)`; a call that returns a plain array of arrays maps its
            // rows, which this cannot tell apart once lowered.
            receiver @ Expr::Call(_) => match self.expr(receiver) {
                Val::Array(array)
                    if self.shape(array).is_some_and(|shape| shape.len() == 1)
                        || self.linalg_matrices.contains(&array) =>
                {
                    array
                }
                Val::Array(_) => {
                    return Some(self.unsupported(
                        receiver,
                        "bind this array to a variable first (`let a = ..; a.map(f)`)",
                    ));
                }
                _ => return Some(self.poison(span)),
            },
            _ => return None,
        };
        let shape = self.shape(array)?;
        let elem = self.element_ty(array);
        let elements = self.elements(array, &shape, span);
        self.rewrites += 1;
        let element_name = quote::format_ident!("__grad_element{}", self.rewrites, span = span);
        let Some(applied) =
            crate::iterators::apply(&call.args[0], syn::parse_quote!(#element_name), span)
        else {
            self.unsupported(
                &call.args[0],
                "grad applies `map` of a nalgebra matrix with a closure of one parameter or a function's path (`m.map(|x| x.sin())`, `m.map(f64::sin)`)",
            );
            // Reported: a value of the right shape keeps the function's own shape check quiet.
            return Some(self.linalg_value(&shape, elements, elem, span));
        };
        let values = elements
            .into_iter()
            .map(|element| {
                self.scopes.push();
                self.bind(element_name.to_string(), Val::Scalar(element));
                let value = self.scalar_expr(&applied);
                self.scopes.pop();
                value
            })
            .collect();
        Some(self.linalg_value(&shape, values, elem, span))
    }

    /// `v.dot(&w)`, `v.norm()`, `v.norm_squared()`, `v.magnitude()`, `v.normalize()`,
    /// `v.cross(&w)`, `v.component_mul(&w)`, `v.component_div(&w)`, `v.sum()`,
    /// `m.transpose()`; `None` for any other method.
    pub(super) fn linalg_method(
        &mut self,
        array: ArrayId,
        call: &syn::ExprMethodCall,
    ) -> Option<Val> {
        let method = call.method.to_string();
        let span = call.span();
        let shape = self.shape(array)?;
        let elem = self.element_ty(array);
        let other = |this: &mut Self| -> Option<ArrayId> {
            let arg = call.args.first()?;
            let arg = match super::strip_parens(arg) {
                Expr::Reference(reference) => &*reference.expr,
                other => other,
            };
            match this.expr(arg) {
                Val::Array(b) if this.shape(b).as_ref() == Some(&shape) => Some(b),
                _ => None,
            }
        };
        let norm_squared = |this: &mut Self| -> ValueId {
            let xs = this.elements(array, &shape, span);
            this.sum_of_products(xs.iter().map(|x| (*x, *x)).collect(), span)
        };
        let sqrt = |this: &mut Self, x: ValueId| -> ValueId {
            let rule = rules::method("sqrt").expect("sqrt has a rule");
            let method = syn::Ident::new("sqrt", span);
            match this.float_method(
                rule,
                method,
                CallStyle::Method,
                vec![x],
                span,
                &Expr::MethodCall(call.clone()),
            ) {
                Val::Scalar(id) => id,
                _ => x,
            }
        };
        let val = match method.as_str() {
            "dot" if call.args.len() == 1 => {
                let b = other(self)?;
                let xs = self.elements(array, &shape, span);
                let ys = self.elements(b, &shape, span);
                Val::Scalar(self.sum_of_products(xs.into_iter().zip(ys).collect(), span))
            }
            "norm_squared" | "magnitude_squared" if call.args.is_empty() => {
                Val::Scalar(norm_squared(self))
            }
            "norm" | "magnitude" if call.args.is_empty() => {
                let squared = norm_squared(self);
                Val::Scalar(sqrt(self, squared))
            }
            "normalize" if call.args.is_empty() => {
                let squared = norm_squared(self);
                let norm = sqrt(self, squared);
                let values = self
                    .elements(array, &shape, span)
                    .into_iter()
                    .map(|x| self.arithmetic('/', x, norm, span))
                    .collect();
                self.linalg_value(&shape, values, elem, span)
            }
            "sum" if call.args.is_empty() => {
                let xs = self.elements(array, &shape, span);
                let mut total = xs[0];
                for x in &xs[1..] {
                    total = self.arithmetic('+', total, *x, span);
                }
                Val::Scalar(total)
            }
            "component_mul" | "component_div" if call.args.len() == 1 => {
                let b = other(self)?;
                let op = if method == "component_mul" { '*' } else { '/' };
                self.elementwise(op, array, b, &shape, span)
            }
            "cross" if call.args.len() == 1 && shape == [3] => {
                let b = other(self)?;
                let a: Vec<ValueId> = self.elements(array, &shape, span);
                let c: Vec<ValueId> = self.elements(b, &shape, span);
                let mut values = Vec::new();
                for (i, j) in [(1, 2), (2, 0), (0, 1)] {
                    let left = self.arithmetic('*', a[i], c[j], span);
                    let right = self.arithmetic('*', a[j], c[i], span);
                    values.push(self.arithmetic('-', left, right, span));
                }
                self.linalg_value(&shape, values, elem, span)
            }
            // A vector's transpose is a row, a matrix of one row.
            "transpose" if call.args.is_empty() && shape.len() == 1 => {
                let values = self.elements(array, &shape, span);
                self.linalg_value(&[1, shape[0]], values, elem, span)
            }
            "transpose" if call.args.is_empty() && shape.len() == 2 => {
                let (rows, columns) = (shape[0], shape[1]);
                let mut values = Vec::new();
                for j in 0..columns {
                    for i in 0..rows {
                        values.push(self.element_at(array, &[i, j], span));
                    }
                }
                self.linalg_value(&[columns, rows], values, elem, span)
            }
            _ => return None,
        };
        Some(val)
    }
}

/// The methods of nalgebra values that `linalg_method` lowers.
const METHODS: &[&str] = &[
    "dot",
    "norm",
    "norm_squared",
    "magnitude",
    "magnitude_squared",
    "normalize",
    "cross",
    "component_mul",
    "component_div",
    "sum",
    "transpose",
];

/// Whether `expr` is a chain of nalgebra methods (`v.cross(&w)`, `m.transpose()`), not an
/// iterator chain.
pub(super) fn is_linalg_chain(expr: &Expr) -> bool {
    match super::strip_parens(expr) {
        Expr::MethodCall(call) => {
            METHODS.contains(&call.method.to_string().as_str()) && {
                let receiver = super::strip_parens(&call.receiver);
                !matches!(receiver, Expr::MethodCall(_)) || is_linalg_chain(receiver)
            }
        }
        _ => false,
    }
}
