//! Spelling: how generated code names the graph's values and arrays. Shared by the primal
//! sweep, the reverse sweep and the companions, and by lowering for a slice's `.len()`.

use crate::graph::{ArrayId, ArrayInit, Graph, Loop, LoopHeader, Op, Ty, ValueId};
use crate::names;
use proc_macro2::TokenStream;
use quote::quote;

/// How generated code refers to a node's forward value: the parameter's name, the constant
/// itself, or the node's local.
pub fn operand(graph: &Graph, id: ValueId) -> TokenStream {
    match &graph.node(id).op {
        Op::Param { ident } => quote!(#ident),
        Op::Constant(tokens) | Op::Length(tokens) => tokens.clone(),
        _ => {
            let name = names::value(id);
            quote!(#name)
        }
    }
}

/// The zero of a node's float type, to start an adjoint that is added to in a loop or branch.
pub fn zero(graph: &Graph, id: ValueId) -> TokenStream {
    match graph.node(id).ty {
        Ty::Float(Some(float)) => {
            let ty = float.ident();
            quote!(<#ty as ::grad::Float>::ZERO)
        }
        _ => quote!(::core::default::Default::default()),
    }
}

/// How generated code names an array: a parameter that is never written by its own name,
/// anything else by its local.
pub fn array_name(graph: &Graph, id: ArrayId) -> TokenStream {
    let array = graph.array(id);
    match &array.init {
        ArrayInit::Param { ident, .. } if !array.written => quote!(#ident),
        _ => {
            let name = names::array(id);
            quote!(#name)
        }
    }
}

/// An array as a call argument: its name, borrowed when the call wrote `&a`.
pub fn passed_array(graph: &Graph, id: ArrayId, by_reference: bool) -> TokenStream {
    let name = array_name(graph, id);
    if by_reference { quote!(&#name) } else { name }
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
