//! Arrays: literals, repeats, element reads and writes, rows of a matrix, and lengths.
//!
//! Input: `let mut y = [0.0; 3]; y[1] = x[0] * 2.0; y[1]`. Output: an array declared by
//! `Repeat`, an `ArrayWrite` statement of its element 1, and an `ArrayRead` node of that
//! element. An array is not a node: its reads are nodes and its writes are statements, in
//! order, so that a read after a write reads the new value. A slice parameter is an array
//! whose length is known only at run time.

use super::{Lowerer, Val};
use crate::graph::{
    Array, ArrayId, ArrayInit, ArrayWrite, InactiveExpr, Len, Op, Stmt, Ty, ValueId, WriteRecord,
    unify,
};
use proc_macro2::Span;
use quote::{ToTokens, quote};
use syn::Expr;
use syn::spanned::Spanned;

impl Lowerer<'_> {
    pub(super) fn new_array(&mut self, ty: Ty, init: ArrayInit, span: Span) -> ArrayId {
        let region = self.region();
        let id = ArrayId(self.graph.arrays.len());
        self.graph.arrays.push(Array {
            ty,
            init,
            region,
            span,
            active: false,
            written: false,
            seq: self.graph.nodes.len(),
        });
        self.blocks
            .last_mut()
            .expect("a block is always open")
            .stmts
            .push(Stmt::ArrayDecl(id));
        id
    }

    pub(super) fn array_literal(&mut self, literal: &syn::ExprArray) -> Val {
        let span = literal.span();
        let len = literal.elems.len();
        let nested = literal.elems.iter().all(|e| matches!(e, Expr::Array(_)));
        if nested && len > 0 {
            let mut rows = Vec::new();
            for row in &literal.elems {
                let Expr::Array(row) = row else {
                    unreachable!("checked above")
                };
                rows.push(
                    row.elems
                        .iter()
                        .map(|e| self.scalar_expr(e))
                        .collect::<Vec<_>>(),
                );
            }
            let width = rows[0].len();
            if rows.iter().any(|r| r.len() != width) {
                return self.unsupported(literal, "the rows of this matrix have different lengths");
            }
            let elem = rows
                .iter()
                .flatten()
                .fold(Ty::Float(None), |t, v| unify(&t, &self.node(*v).ty));
            let ty = Ty::Array(
                Box::new(Ty::Array(Box::new(elem), Len(quote!(#width)))),
                Len(quote!(#len)),
            );
            return Val::Array(self.new_array(ty, ArrayInit::Literal2(rows), span));
        }
        let elements: Vec<ValueId> = literal.elems.iter().map(|e| self.scalar_expr(e)).collect();
        let elem = elements
            .iter()
            .fold(Ty::Float(None), |t, v| unify(&t, &self.node(*v).ty));
        let ty = Ty::Array(Box::new(elem), Len(quote!(#len)));
        Val::Array(self.new_array(ty, ArrayInit::Literal(elements), span))
    }

    pub(super) fn array_repeat(&mut self, repeat: &syn::ExprRepeat) -> Val {
        let span = repeat.span();
        let outer = repeat.len.to_token_stream();
        let (value, ty) = match &*repeat.expr {
            Expr::Repeat(inner) => {
                let value = self.scalar_expr(&inner.expr);
                let inner_len = inner.len.to_token_stream();
                let elem = self.node(value).ty.clone();
                (
                    value,
                    Ty::Array(
                        Box::new(Ty::Array(Box::new(elem), Len(inner_len))),
                        Len(outer),
                    ),
                )
            }
            expr => {
                let value = self.scalar_expr(expr);
                (
                    value,
                    Ty::Array(Box::new(self.node(value).ty.clone()), Len(outer)),
                )
            }
        };
        Val::Array(self.new_array(ty, ArrayInit::Repeat { value }, span))
    }

    /// `a.len()`, the one method of an array: a constant for an array, read at run time for a
    /// slice.
    pub(super) fn array_method(&mut self, array: ArrayId, call: &syn::ExprMethodCall) -> Val {
        if let Some(val) = self.linalg_method(array, call) {
            return val;
        }
        let what = format!("`{}`", call.method);
        if let Some(val) = self.misread_matrix(array, &call.method, &what) {
            return val;
        }
        if call.method == "is_empty" && call.args.is_empty() {
            let len = self.length_of(array, call.span());
            let zero = self.constant(quote!(0), Ty::Int, call.span());
            let token = syn::BinOp::Eq(syn::Token![==](call.span()));
            return Val::Scalar(self.binary_node(token, len, zero, call.span()));
        }
        if call.method == "len" && call.args.is_empty() {
            return Val::Scalar(self.length_of(array, call.span()));
        }
        let instead = if call.method == "iter_mut" {
            " (or a `for` loop over `iter_mut()`, assigning through `*o`)"
        } else {
            ""
        };
        self.unsupported(
            &call.method,
            format!(
                "the array method `{}` is not supported yet here: write a loop over the indices{instead}",
                call.method
            ),
        )
    }

    /// `a.len()`: a constant for an array, read at run time for a slice, the view's own
    /// length for a sub-slice.
    pub(super) fn length_of(&mut self, array: ArrayId, span: Span) -> ValueId {
        if let Some(len) = self.view_len(array) {
            return len;
        }
        match &self.graph.array(array).ty {
            Ty::Array(_, len) if !len.is_inferred() => self.constant(len.0.clone(), Ty::Int, span),
            // A slice is a parameter, never written, in scope everywhere in generated
            // code by its own name (or a collected `Vec`, by its local's).
            _ => {
                let name = match &self.graph.array(array).init {
                    ArrayInit::Param { ident, field, .. } => quote!(#ident #(.#field)*),
                    _ => {
                        let local = crate::names::array(array);
                        quote!(#local)
                    }
                };
                match self.push(Op::Length(quote!(#name.len())), Ty::Int, span) {
                    Val::Scalar(id) => id,
                    _ => unreachable!("push makes a scalar"),
                }
            }
        }
    }

    /// `a[i]`, `w[i][j]` (an element), or `w[i]` of a matrix (a copy of the row).
    pub(super) fn index(&mut self, index: &syn::ExprIndex) -> Val {
        let (base, index_exprs) = index_chain(index);
        // `m[(i, j)]` of a nalgebra matrix: row `i`, column `j`.
        let index_exprs: Vec<&Expr> = index_exprs
            .into_iter()
            .flat_map(|e| match e {
                Expr::Tuple(pair) if pair.elems.len() == 2 => pair.elems.iter().collect(),
                other => vec![other],
            })
            .collect();
        // `step(state, h)[0]`: a call's result indexed where it is made is an array, of the
        // type the callee's signature gives it.
        let base_val = match base {
            Expr::Call(call) => match &*call.func {
                Expr::Path(path) if self.calls_a_function(path) => {
                    let ty = Ty::inferred_array(index_exprs.len(), self.return_ty);
                    self.function_call(call, path.path.clone(), Some(ty), None)
                }
                _ => self.expr(base),
            },
            Expr::MethodCall(call) => match self.self_call(call) {
                Some((as_call, path, this)) => {
                    let ty = Ty::inferred_array(index_exprs.len(), self.return_ty);
                    self.function_call(&as_call, path, Some(ty), Some(this))
                }
                None => self.expr(base),
            },
            _ => match self.struct_field(base) {
                Some(Val::Array(array)) => Val::Array(array),
                _ => self.expr(base),
            },
        };
        let array = match base_val {
            Val::Array(array) => array,
            // A constant whose type only rustc knows (`origin: Vec3` left out by `wrt`):
            // indexed as written, with no derivative.
            Val::Scalar(id) if matches!(self.node(id).ty, Ty::Other | Ty::Unknown) => {
                if let Some(range) = index_exprs.iter().find(|e| matches!(e, Expr::Range(_))) {
                    return self.unsupported(range, "grad cannot see the type of this constant, so it cannot take a part of it: index its elements (`idx[k]` for `k` in `1..idx.len()`)");
                }
                let mut args = vec![id];
                args.extend(index_exprs.iter().map(|e| self.scalar_expr(e)));
                return self.inactive(InactiveExpr::Index, args, Ty::Unknown, index.span());
            }
            _ => return self.unsupported(
                base,
                "only fixed-size arrays and `&[f64]` slice parameters can be indexed or iterated in a differentiable function: use an array `[f64; N]`, or take a slice",
            ),
        };
        // `x[1..]`, `p[i][..k]`, `s[2]` of a sub-slice `s`: a view, or a place in its source.
        if index_exprs.len() == 1
            && let Some(val) = self.misread_matrix(array, index, "a single index")
        {
            return val;
        }
        let Some((array, indices)) = self.through_views(array, &index_exprs, index.span()) else {
            return self.poison(index.span());
        };
        if indices.is_empty() {
            return Val::Array(array);
        }
        self.read_element(array, indices, index)
    }

    /// The element (or row) `array[indices]`, of an array that is not a view.
    fn read_element(
        &mut self,
        array: ArrayId,
        indices: Vec<ValueId>,
        index: &syn::ExprIndex,
    ) -> Val {
        let ty = self.graph.array(array).ty.clone();
        let mut elem = &ty;
        for (depth, _) in indices.iter().enumerate() {
            match elem {
                Ty::Array(inner, _) | Ty::Slice(inner) => elem = inner,
                // `[Vec3; N]` as a constant (an element type grad cannot see is never
                // differentiated): the element as grad sees it, indexed further as written.
                Ty::Unknown if depth > 0 && !self.graph.array(array).active => {
                    let outer = indices[..depth].to_vec();
                    let read = self.push(
                        Op::ArrayRead {
                            array,
                            indices: outer,
                        },
                        Ty::Unknown,
                        index.span(),
                    );
                    let Val::Scalar(read) = read else {
                        unreachable!("an element read is a scalar")
                    };
                    let mut args = vec![read];
                    args.extend(&indices[depth..]);
                    return self.inactive(InactiveExpr::Index, args, Ty::Unknown, index.span());
                }
                // `[Vec3; N]`: the element type is a name grad cannot see into.
                Ty::Unknown => {
                    // Once per array, however often it is indexed.
                    if !self.unseen_elements.insert(array) {
                        return self.poison(index.span());
                    }
                    return self.unsupported(index, "grad cannot see the element type of this array, so it cannot index it this deep: write the element type out in the signature (`[[f64; 3]; N]`, not `[Vec3; N]`)");
                }
                _ => {
                    return self.unsupported(index, "this array has fewer dimensions than indices");
                }
            }
        }
        match elem {
            // A row of a slice parameter (`&[[f64; 3]]`), which is never written: read in
            // place, as a view, instead of copied.
            Ty::Array(..) if indices.len() == 1 && matches!(ty, Ty::Slice(_)) => {
                Val::Array(self.row_view(array, indices, index.span()))
            }
            Ty::Array(..) if indices.len() == 1 => {
                let init = ArrayInit::Row {
                    source: array,
                    index: indices[0],
                };
                Val::Array(self.new_array(elem.clone(), init, index.span()))
            }
            Ty::Array(..) => self.unsupported(index, "index every dimension of this array"),
            // A row of a `&[Vec<f64>]`: read in place, as a view of the whole row.
            Ty::Slice(_) => Val::Array(self.row_view(array, indices, index.span())),
            scalar => {
                // `x[i] * x[i]` reads one value: the same element, read again in the same
                // block with no write to the array in between, is the same node (and then
                // `x * x` gets its one-term derivative).
                let key = (array, indices.clone());
                let region = self.region();
                if let Some(&earlier) = self.element_reads.get(&key) {
                    let unchanged = !self
                        .graph
                        .writes
                        .iter()
                        .any(|w| w.array == array && w.seq > earlier.0);
                    if unchanged && self.node(earlier).region == region {
                        return Val::Scalar(earlier);
                    }
                }
                let read = self.push(
                    Op::ArrayRead { array, indices },
                    scalar.clone(),
                    index.span(),
                );
                if let Val::Scalar(id) = read {
                    self.element_reads.insert(key, id);
                }
                read
            }
        }
    }

    pub(super) fn write_element(&mut self, place: &syn::ExprIndex, value: Val) {
        let (base, index_exprs) = index_chain(place);
        if let Expr::Path(path) = base
            && let Some(name) = path.path.get_ident()
            && self.assigns_a_capture(place, &name.to_string())
        {
            return;
        }
        let array = match self.expr(base) {
            Val::Array(array) => array,
            // Reported where it was made (`let part = &mut a[1..];`).
            Val::Scalar(id) if self.is_poison(id) => return,
            _ => {
                self.diagnostics.error(
                    base,
                    "only fixed-size arrays and `&[f64]` slice parameters can be indexed or iterated in a differentiable function: use an array `[f64; N]`, or take a slice",
                );
                return;
            }
        };
        if self.graph.view_source(array) != array {
            self.diagnostics.error(
                place,
                "a sub-slice cannot be written in a differentiable function: write the elements of the array it is part of (`a[1 + i] = ..` for `&mut a[1..]`)",
            );
            return;
        }
        let indices: Vec<ValueId> = index_exprs.iter().map(|e| self.scalar_expr(e)).collect();
        let depth = array_depth(&self.graph.array(array).ty);
        if indices.len() != depth {
            self.diagnostics
                .error(place, "assign one element at a time: index every dimension");
            return;
        }
        let value = self.scalar(value, &Expr::Index(place.clone()));
        self.graph.arrays[array.0].written = true;
        let region = self.region();
        self.graph.writes.push(WriteRecord {
            array,
            region,
            seq: self.graph.nodes.len(),
        });
        self.blocks
            .last_mut()
            .expect("a block is always open")
            .stmts
            .push(Stmt::ArrayWrite(ArrayWrite {
                array,
                indices,
                value,
                span: place.span(),
            }));
    }
}

/// `w[i][j]` as `w` and `[i, j]`.
pub(super) fn index_chain(index: &syn::ExprIndex) -> (&Expr, Vec<&Expr>) {
    let mut indices = vec![&*index.index];
    let mut base = &*index.expr;
    loop {
        match base {
            Expr::Index(inner) => {
                indices.push(&*inner.index);
                base = &inner.expr;
            }
            Expr::Paren(inner) => base = &inner.expr,
            Expr::Group(inner) => base = &inner.expr,
            _ => break,
        }
    }
    indices.reverse();
    (base, indices)
}

fn array_depth(ty: &Ty) -> usize {
    match ty {
        Ty::Array(inner, _) | Ty::Slice(inner) => 1 + array_depth(inner),
        _ => 0,
    }
}
