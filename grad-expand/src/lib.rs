//! The expansion behind grad's `#[differentiable]`, on `proc_macro2` token streams.
//!
//! `grad-macro` is a thin shim over [`differentiable`]; keeping the expansion in an ordinary
//! library lets unit tests, benchmarks and fuzzers call it directly.

mod analyze;
mod args;
mod blocks;
mod companions;
mod derive;
mod diagnostics;
mod expand;
mod fold;
mod generics;
mod graph;
mod groups;
mod ids;
mod iterators;
mod linalg;
mod lower;
mod names;
mod picture;
mod primal;
mod replay;
mod reverse;
mod rules;
mod second_order;
mod signature;
mod spell;
mod structure;
mod tangent;
mod tuple_params;
mod types;

#[cfg(test)]
mod tests;

pub use derive::derive_differentiable;
pub use expand::differentiable;
