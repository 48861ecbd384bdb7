//! The identifiers of the graph's values, arrays and regions: indices into its tables. A leaf,
//! so that `names.rs` can spell them for every phase.

/// A node of the graph (an SSA value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub usize);

/// An array variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArrayId(pub usize);

/// A block of statements: the function body, a branch, a loop body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegionId(pub usize);
