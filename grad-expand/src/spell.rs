//! Spelling: how generated code names the graph's values and arrays. Shared by the primal
//! sweep, the reverse sweep and the companions, and by lowering for a slice's `.len()`.

use crate::graph::{ArrayId, ArrayInit, FloatTy, Graph, Loop, LoopHeader, Op, Ty, ValueId};
use crate::names;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// How generated code refers to a node's forward value: the parameter's name, the constant
/// itself, or the node's local.
pub fn operand(graph: &Graph, id: ValueId) -> TokenStream {
    match &graph.node(id).op {
        Op::Param { ident, .. } => quote!(#ident),
        Op::Constant(tokens) | Op::Length(tokens) => tokens.clone(),
        Op::Placeholder => zero(graph, id),
        _ => {
            let name = names::value(id);
            quote!(#name)
        }
    }
}

/// A value where the function passes it on as written (a call's argument, a local a macro
/// mentions): a float parameter taken by reference as the reference (`&x`), anything else as
/// [`operand`] spells it.
pub fn as_written(graph: &Graph, id: ValueId) -> TokenStream {
    match &graph.node(id).op {
        Op::Param {
            ident,
            by_reference: true,
        } => quote!(&#ident),
        _ => operand(graph, id),
    }
}

/// The zero of a node's float type, to start an adjoint that is added to in a loop or branch.
pub fn zero(graph: &Graph, id: ValueId) -> TokenStream {
    match graph.node(id).ty {
        Ty::Float(Some(float)) => float_zero(float),
        // A float whose type rustc infers from the use: num-traits' zero, which a generic `T`
        // has where `Default` is not (`T: num_traits::Float`).
        Ty::Float(None) => quote!(::grad::__private::Zero::zero()),
        _ => quote!(::core::default::Default::default()),
    }
}

/// `0` of a float type: a typed literal for `f32` and `f64`; for a generic `T`, num-traits'
/// `zero()`, which every bound grad accepts (`grad::Float`, `num_traits::Float`, `Real`)
/// provides, so the companions need no bound the user did not write.
pub fn float_zero(float: FloatTy) -> TokenStream {
    match float {
        FloatTy::F32 => quote!(0.0_f32),
        FloatTy::F64 => quote!(0.0_f64),
        FloatTy::Generic(_) => {
            let ty = float.ident();
            quote!(<#ty as ::grad::__private::Zero>::zero())
        }
    }
}

/// `1` of a float type (see [`float_zero`]).
pub fn float_one(float: FloatTy) -> TokenStream {
    match float {
        FloatTy::F32 => quote!(1.0_f32),
        FloatTy::F64 => quote!(1.0_f64),
        FloatTy::Generic(_) => {
            let ty = float.ident();
            quote!(<#ty as ::grad::__private::One>::one())
        }
    }
}

/// A float or (nested) array type as code, when analysis knows it whole: `f64`,
/// `[[T; 3]; 2]`; `None` for a float rustc infers or a length it infers.
pub fn known_type(ty: &Ty) -> Option<TokenStream> {
    match ty {
        Ty::Float(Some(float)) => {
            let ident = float.ident();
            Some(quote!(#ident))
        }
        Ty::Array(elem, len) if !len.is_inferred() => {
            let (elem, len) = (known_type(elem)?, &len.0);
            Some(quote!([#elem; #len]))
        }
        _ => None,
    }
}

/// Zeros of a float or (nested) array type: `[[0.0_f64; 3]; N]`.
pub fn zeros(ty: &Ty) -> TokenStream {
    match ty {
        Ty::Array(elem, len) => {
            let (elem, len) = (zeros(elem), &len.0);
            quote!([#elem; #len])
        }
        Ty::Float(Some(float)) => float_zero(*float),
        Ty::Float(None) => quote!(::grad::__private::Zero::zero()),
        _ => quote!(::core::default::Default::default()),
    }
}

/// How many floats a value of type `ty` holds: `1` for a float, `N` for `[T; N]`,
/// `(N * M)` for `[[T; M]; N]`, a constant expression.
pub fn element_count(ty: &Ty) -> TokenStream {
    match ty {
        Ty::Array(elem, len) if !matches!(**elem, Ty::Array(..)) => len.0.clone(),
        Ty::Array(elem, len) => {
            let (elem, len) = (element_count(elem), &len.0);
            quote!((#len * #elem))
        }
        _ => quote!(1),
    }
}

/// An array (or `&mut` to one) seen as a flat slice of its floats: `&mut a[..]` for `[T; N]`,
/// `a.as_flattened_mut()` for `[[T; N]; M]`, and so on.
pub fn flat(array: TokenStream, ty: &Ty, mutable: bool) -> TokenStream {
    let mut depth = 0;
    let mut current = ty;
    while let Ty::Array(elem, _) | Ty::Slice(elem) = current {
        depth += 1;
        current = elem;
    }
    let mut tokens = if mutable {
        quote!((&mut #array[..]))
    } else {
        quote!((&#array[..]))
    };
    for _ in 1..depth {
        tokens = if mutable {
            quote!(#tokens.as_flattened_mut())
        } else {
            quote!(#tokens.as_flattened())
        };
    }
    tokens
}

/// How generated code names an array: a parameter that is never written by its own name,
/// anything else by its local.
/// A call of `path` with its arguments spelled: `g(a, b)`, or, when the first is the
/// receiver (`CallArg::Receiver`), the method call `self.g(b)`, where rustc borrows or copies
/// the receiver as the method takes it (`path` is then `Self::g`).
pub fn call(
    path: &syn::Path,
    args: &[crate::graph::CallArg],
    spelled: Vec<TokenStream>,
    span: proc_macro2::Span,
) -> TokenStream {
    if let (Some(crate::graph::CallArg::Receiver(_)), Some(method)) =
        (args.first(), path.segments.last())
    {
        let receiver = &spelled[0];
        let rest = &spelled[1..];
        return quote::quote_spanned!(span=> #receiver.#method(#(#rest),*));
    }
    quote::quote_spanned!(span=> #path(#(#spelled),*))
}

pub fn array_name(graph: &Graph, id: ArrayId) -> TokenStream {
    let array = graph.array(id);
    match &array.init {
        ArrayInit::Param { ident, field, .. } if !array.written => quote!(#ident #(.#field)*),
        _ => {
            let name = names::array(id);
            quote!(#name)
        }
    }
}

/// An array as a call argument: its name, borrowed when the call wrote `&a`; a view as the
/// sub-slice of its source it is (`&x[1..]`).
pub fn passed_array(graph: &Graph, id: ArrayId, by_reference: bool) -> TokenStream {
    if let ArrayInit::View { source, .. } = &graph.array(id).init {
        let source = array_name(graph, *source);
        let part = view_part(graph, id);
        // A whole row (`p[i]` of a `&[[f64; 3]]`) is passed as written; a sub-slice is a
        // reference.
        return if by_reference || !is_row(graph, id) {
            quote!(&#source #part)
        } else {
            quote!(#source #part)
        };
    }
    let name = array_name(graph, id);
    if by_reference { quote!(&#name) } else { name }
}

/// Where a view lies in its source, as indexing spells it: `[i][a..b]`, `[1..]`. Its nodes
/// must be recorded as read by whoever spells it (`Graph::view_indices`).
pub fn view_part(graph: &Graph, id: ArrayId) -> TokenStream {
    let ArrayInit::View {
        prefix, start, end, ..
    } = &graph.array(id).init
    else {
        return TokenStream::new();
    };
    if is_row(graph, id) {
        let prefix = prefix.iter().map(|i| operand(graph, *i));
        return quote!(#([#prefix])*);
    }
    let prefix = prefix.iter().map(|i| operand(graph, *i));
    let start = match &graph.node(*start).op {
        Op::Constant(tokens) if tokens.to_string() == "0" => TokenStream::new(),
        _ => operand(graph, *start),
    };
    let end = end.map(|end| operand(graph, end));
    quote!(#([#prefix])* [#start..#end])
}

/// `let (e0, e1, ..) = call; let name = [e0, e1, ..];`: a tuple a call returns, held as an
/// array, as the primal and the tangent sweep spell it. Bound by a pattern, which a second
/// pass (the tangent function's gradient) reads as a call returning a tuple, as it reads the
/// user's own `let (a, b) = g(..);`.
pub fn tuple_into_array(
    name: &proc_macro2::Ident,
    mutable: bool,
    call: TokenStream,
    len: usize,
    span: proc_macro2::Span,
) -> TokenStream {
    let elements: Vec<proc_macro2::Ident> = (0..len).map(names::returned_element).collect();
    let mutability = mutable.then(|| quote!(mut));
    quote_spanned! {span=>
        let (#(#elements,)*) = #call;
        let #mutability #name = [#(#elements),*];
    }
}

/// Whether a view is a whole row of its source (`p[i]`), not a range of one.
pub fn is_row(graph: &Graph, id: ArrayId) -> bool {
    match &graph.array(id).init {
        ArrayInit::View {
            prefix, start, end, ..
        } => {
            !prefix.is_empty()
                && end.is_none()
                && matches!(&graph.node(*start).op, Op::Constant(tokens) if tokens.to_string() == "0")
        }
        _ => false,
    }
}

/// One tape record: the tuple `(a, b, ...)` of a loop's recorded values, or the pattern that
/// reads it back. Beyond twelve entries it nests tuples of at most twelve, because a fixed
/// tape starts as `[Default::default(); N]` and std implements `Default` for tuples of up to
/// twelve elements.
pub fn tape_tuple<T: quote::ToTokens>(items: &[T]) -> TokenStream {
    const MOST: usize = 12;
    if items.len() <= MOST {
        return quote!((#(#items,)*));
    }
    let chunks: Vec<TokenStream> = items.chunks(MOST).map(tape_tuple).collect();
    tape_tuple(&chunks)
}

/// The loop's range as the forward sweep iterates it.
pub fn range_tokens(graph: &Graph, l: &Loop, frame: &mut impl RecordsReads) -> TokenStream {
    let LoopHeader::Range {
        start,
        end,
        inclusive,
        reverse,
        step,
        ..
    } = &l.header
    else {
        return quote!(0..0);
    };
    frame.record([*start, *end].into_iter().chain(*step));
    let (start, end) = (operand(graph, *start), operand(graph, *end));
    let mut range = if *inclusive {
        quote!((#start..=#end))
    } else {
        quote!((#start..#end))
    };
    if *reverse {
        range = quote!(#range.rev());
    }
    if let Some(step) = step {
        let step = operand(graph, *step);
        range = quote!(#range.step_by(#step));
    }
    range
}

/// Something that collects the nodes generated code reads.
pub trait RecordsReads {
    fn record(&mut self, ids: impl IntoIterator<Item = ValueId>);
}

/// The function's value (or its tangent) as the core returns it, from how each float and
/// the output array are spelled: a float, an array, a tuple, a struct literal, a matrix's rows.
pub fn output(
    output: &crate::graph::Output,
    float: &dyn Fn(ValueId) -> TokenStream,
    array: &dyn Fn(ArrayId) -> TokenStream,
) -> TokenStream {
    use crate::graph::Output;
    match output {
        Output::Scalar(value) => float(*value),
        Output::Array(id) => array(*id),
        Output::Tuple(values) => {
            let values = values.iter().map(|v| float(*v));
            quote!((#(#values,)*))
        }
        Output::Struct {
            path,
            members,
            values,
        } => {
            let values = values.iter().map(|v| float(*v));
            quote!(#path { #(#members: #values,)* })
        }
        Output::Rows(rows) => {
            let rows = rows.iter().map(|row| {
                let values = row.iter().map(|v| float(*v));
                quote!([#(#values),*])
            });
            quote!([#(#rows),*])
        }
    }
}
