//! Sub-slices, read in place: `&x[1..]`, `x[a..b]`, `&p[i][..k]`, the windows and chunks of
//! an iterator chain, and the rows of a `&[Vec<f64>]`.
//!
//! Input: `let s = &x[2..]; s[i] * s.len() as f64`. Output: a view of `x` (an array of the
//! graph, `ArrayInit::View`, with no declaration), whose element read `s[i]` is the node
//! `x[2 + i]` and whose length is the node `x.len() - 2`. So each element's adjoint reaches
//! the element of `x` it was read from, nothing is copied, and every check that concerns `x`
//! (reads after writes, tapes) sees the read as a read of `x`. Only a call sees a view whole:
//! it is passed as `&x[2..]`, and the callee's entry is added to `x`'s adjoint there.

use super::{Lowerer, Val};
use crate::graph::{Array, ArrayId, ArrayInit, BinaryOp, InactiveExpr, Len, Op, Ty, ValueId};
use proc_macro2::Span;
use quote::{ToTokens, quote};
use syn::Expr;
use syn::spanned::Spanned;

impl Lowerer<'_> {
    /// Applies index expressions, which may hold ranges, to `array`: the array and the
    /// indices of the element or row they name, or a view (with no indices) when they end in a
    /// range. `None` after an error.
    pub(super) fn through_views(
        &mut self,
        array: ArrayId,
        exprs: &[&Expr],
        span: Span,
    ) -> Option<(ArrayId, Vec<ValueId>)> {
        let mut array = array;
        let mut pending = Vec::new();
        for expr in exprs {
            match expr {
                Expr::Range(range) => {
                    let prefix = std::mem::take(&mut pending);
                    array = self.sub_slice(array, prefix, range, span)?;
                }
                other => pending.push(self.scalar_expr(other)),
            }
        }
        if pending.is_empty() {
            return Some((array, pending));
        }
        Some(self.place_in_source(array, pending, span))
    }

    /// `view[indices]` as a place in the view's source; any other array's place is itself.
    fn place_in_source(
        &mut self,
        array: ArrayId,
        indices: Vec<ValueId>,
        span: Span,
    ) -> (ArrayId, Vec<ValueId>) {
        let ArrayInit::View {
            source,
            prefix,
            start,
            ..
        } = self.graph.array(array).init.clone()
        else {
            return (array, indices);
        };
        let first = self.int_add(start, indices[0], span);
        let mut place = prefix;
        place.push(first);
        place.extend(&indices[1..]);
        (source, place)
    }

    /// The view `array[prefix..][range]`.
    fn sub_slice(
        &mut self,
        array: ArrayId,
        prefix: Vec<ValueId>,
        range: &syn::ExprRange,
        span: Span,
    ) -> Option<ArrayId> {
        // The dimension being sliced: the view's own, or one of an array below `prefix`.
        let (source, prefix, base_start, base_end, base_len) =
            match self.graph.array(array).init.clone() {
                ArrayInit::View {
                    source,
                    prefix: outer,
                    start,
                    end,
                    len,
                } if prefix.is_empty() => (source, outer, Some(start), end, len),
                _ => {
                    let (source, prefix) = if prefix.is_empty() {
                        (array, prefix)
                    } else {
                        self.place_in_source(array, prefix, span)
                    };
                    if dimension(&self.graph.array(source).ty, prefix.len()).is_none() {
                        self.unsupported(range, "this array has fewer dimensions than indices");
                        return None;
                    }
                    let Some(len) = self.dimension_len(source, &prefix, span) else {
                        self.unsupported(
                            range,
                            "grad cannot take a part of this array: index its elements",
                        );
                        return None;
                    };
                    (source, prefix, None, None, len)
                }
            };
        let Some(elem) = dimension(&self.graph.array(source).ty, prefix.len()).cloned() else {
            self.unsupported(range, "this array has fewer dimensions than indices");
            return None;
        };
        let inclusive = matches!(range.limits, syn::RangeLimits::Closed(_));
        let from = range.start.as_ref().map(|e| self.scalar_expr(e));
        let to = match range.end.as_ref().map(|e| self.scalar_expr(e)) {
            Some(to) if inclusive => {
                let one = self.constant(quote!(1), Ty::Int, range.span());
                Some(self.int_add(to, one, span))
            }
            other => other,
        };
        let len = match (from, to) {
            (None, None) => base_len,
            (Some(from), None) => self.int_sub(base_len, from, span),
            (None, Some(to)) => to,
            (Some(from), Some(to)) => self.int_sub(to, from, span),
        };
        let zero = self.constant(quote!(0), Ty::Int, span);
        let offset = base_start.unwrap_or(zero);
        let start = match from {
            Some(from) => self.int_add(offset, from, span),
            None => offset,
        };
        let end = match to {
            Some(to) => Some(self.int_add(offset, to, span)),
            None => base_end,
        };
        let init = ArrayInit::View {
            source,
            prefix,
            start,
            end,
            len,
        };
        Some(self.new_view(Ty::Slice(Box::new(elem)), init, span))
    }

    /// The row `array[indices]` of a `&[Vec<f64>]`, read in place as a view.
    pub(super) fn row_view(
        &mut self,
        array: ArrayId,
        indices: Vec<ValueId>,
        span: Span,
    ) -> ArrayId {
        let elem = dimension(&self.graph.array(array).ty, indices.len())
            .cloned()
            .unwrap_or(Ty::Unknown);
        let len = match self.dimension_len(array, &indices, span) {
            Some(len) => len,
            None => self.constant(quote!(0), Ty::Int, span),
        };
        let start = self.constant(quote!(0), Ty::Int, span);
        let init = ArrayInit::View {
            source: array,
            prefix: indices,
            start,
            end: None,
            len,
        };
        self.new_view(Ty::Slice(Box::new(elem)), init, span)
    }

    /// A view's length, if `array` is a view.
    pub(super) fn view_len(&self, array: ArrayId) -> Option<ValueId> {
        match &self.graph.array(array).init {
            ArrayInit::View { len, .. } => Some(*len),
            _ => None,
        }
    }

    /// The length of the dimension of `array` (not a view) below `prefix`: a constant for an
    /// array, `x.len()` for a slice, `p[i].len()` for a row of a `&[Vec<f64>]`.
    fn dimension_len(&mut self, array: ArrayId, prefix: &[ValueId], span: Span) -> Option<ValueId> {
        let ty = self.graph.array(array).ty.clone();
        let mut current = &ty;
        for _ in prefix {
            match current {
                Ty::Array(elem, _) | Ty::Slice(elem) => current = elem,
                _ => return None,
            }
        }
        match current {
            Ty::Array(_, Len(len)) => Some(self.constant(len.clone(), Ty::Int, span)),
            Ty::Slice(_) if prefix.is_empty() => Some(self.length_of(array, span)),
            Ty::Slice(_) => {
                let template = InactiveExpr::RowLen(array);
                match self.inactive(template, prefix.to_vec(), Ty::Int, span) {
                    Val::Scalar(id) => Some(id),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// An array of the graph with no declaration of its own.
    fn new_view(&mut self, ty: Ty, init: ArrayInit, span: Span) -> ArrayId {
        let id = ArrayId(self.graph.arrays.len());
        self.graph.arrays.push(Array {
            ty,
            init,
            region: self.region(),
            span,
            active: false,
            written: false,
            seq: self.graph.nodes.len(),
        });
        id
    }

    /// The value of an integer literal node.
    pub(super) fn int_literal(&self, id: ValueId) -> Option<u128> {
        match &self.node(id).op {
            Op::Constant(tokens) => tokens
                .to_string()
                .replace('_', "")
                .trim_end_matches("usize")
                .parse()
                .ok(),
            _ => None,
        }
    }

    pub(super) fn int_constant(&mut self, value: u128, span: Span) -> ValueId {
        let literal = proc_macro2::Literal::u128_unsuffixed(value);
        self.constant(literal.to_token_stream(), Ty::Int, span)
    }

    /// `a + b` of index integers, folded where one side is a literal zero or both are literals.
    pub(super) fn int_add(&mut self, a: ValueId, b: ValueId, span: Span) -> ValueId {
        match (self.int_literal(a), self.int_literal(b)) {
            (Some(0), _) => b,
            (_, Some(0)) => a,
            (Some(x), Some(y)) => self.int_constant(x + y, span),
            _ => self.binary_node(syn::BinOp::Add(syn::Token![+](span)), a, b, span),
        }
    }

    /// `a - b` of index integers, folded where it is plain: `b` zero, both literals, or
    /// `(b + k) - b` (the length of `x[i..i + k]`).
    pub(super) fn int_sub(&mut self, a: ValueId, b: ValueId, span: Span) -> ValueId {
        match (self.int_literal(a), self.int_literal(b)) {
            (_, Some(0)) => return a,
            (Some(x), Some(y)) if x >= y => return self.int_constant(x - y, span),
            _ => {}
        }
        if let Op::Binary {
            op: BinaryOp::Add,
            lhs,
            rhs,
            ..
        } = self.node(a).op
        {
            if lhs == b {
                return rhs;
            }
            if rhs == b {
                return lhs;
            }
        }
        self.binary_node(syn::BinOp::Sub(syn::Token![-](span)), a, b, span)
    }
}

/// The type of what `depth` indices leave of `ty`, if it can be sliced: its element type.
fn dimension(ty: &Ty, depth: usize) -> Option<&Ty> {
    let mut current = ty;
    for _ in 0..depth {
        match current {
            Ty::Array(elem, _) | Ty::Slice(elem) => current = elem,
            _ => return None,
        }
    }
    match current {
        Ty::Array(elem, _) | Ty::Slice(elem) => Some(elem),
        _ => None,
    }
}
