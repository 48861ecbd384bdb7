//! Random programs with control flow and arrays.
//!
//! Every program is `pub fn prog_K(x0: f64, x1: f64, x2: f64, v: [f64; 4], n: usize) -> f64`,
//! or, a third of them, takes its array by reference, `v: &[f64; 4]` (read in place, and
//! sometimes through an alias `let w = v;`; the entries of the `PROGRAMS` table are closures
//! that take it by value). A call passes `&a` (or a reference as it is) to a program that takes
//! a reference, and `[v[0], v[1], v[2], v[3]]` of a reference to one that does not.
//!
//! A program is a few top-level segments, each a straight-line `let`, an `if`/`else if`/`else`
//! or `match` (as a statement or as the value of a `let`, whose `else` may `return`), a `for`
//! loop over a range (literal or runtime bounds, `rev`, `step_by`) or an array, a `while` or
//! `loop` counting its iterations, a `loop` that `break`s with a value, two nested loops with
//! labeled `break` and `continue`, a local array or 2×4 matrix filled in a loop (plain,
//! conditional and read-modify-write element writes, a recurrence over `a[i - 1]`, in-place
//! updates from another element that may be the same one, `a[i % 4] += a[(i + n) % 4] * e`),
//! an iterator idiom (`map` and `sum`, `copied`, `zip`, `fold`, `product`, sometimes calling a
//! program in the closure), a call of an earlier program, an early `return`, or a running
//! maximum or minimum (`let mut m = f64::NEG_INFINITY; for i in 0..n + 1 { m = m.max(e); }`,
//! also `e.min(m)`, `f64::max(m, e)` and loops over `v.iter()`, of candidates that read
//! `v[i % 4]`, the index's `fi`, a local, an `if` or a `match` value), which grad reverses
//! without a tape; a few of them are near misses that it reverses with a tape (the candidate
//! reads the running value, two running values in one loop, another update, `rev` or
//! `step_by`, a jump, a clamp). Loop and branch bodies mix the same constructs with `break`,
//! `continue`, `return`, shadowing `let`s and nested loops.
//! Expressions are [`FnGen`]'s, over the variables in scope, or, in most candidates of a
//! running extreme, made only of operations grad recomputes rather than records (see
//! `ProgGen::cheap_expr`).
//!
//! The mirror over [`num_dual::Dual64`] has the same control flow: it tests float conditions
//! with helpers (`gt(a, b, margin)` for `a > b`) that record, like a kink, how far the point
//! is from flipping the comparison (the gap `|a - b|` over how fast it closes, in input
//! units), so that the finite-difference check skips points whose stencil could take another
//! path. Integer conditions and `match`es do not depend on the floats.
//!
//! Loops stay tame over up to `N_MAX²` iterations: a `let mut` carried across iterations is
//! updated as `s = c1 s + c2 squash(e)` (or an equivalent form) with `c1 + c2 L ≤ RHO`, where
//! `L` bounds the Lipschitz constant of `e` with respect to the loop's state (the variables in
//! scope, each of weight 1, and the loop's own locals, with theirs), so no iteration expands
//! the state in the max norm and gradients stay within the state's bound; accumulators
//! (`acc += c e`) are never read inside loops, so they grow linearly at most.
//!
//! The generator also tracks which writes are still unread on some path (branches and loops
//! merge their paths' states), so that the programs compile without warnings.
//!
//! Constructs are behind switches ([`Features`], percentages; a switch at 0 draws no random
//! number, so it gives back the programs of before it):
//!
//! - const patterns: `match` arms naming `const` items, of the module
//!   (`pub const MODE_B: usize = 1;`, `MODE_B => ..`) or of the body (`const PHASE_B: usize =
//!   1;` at its top), alone, in or-patterns (`MODE_A | MODE_C`) or with a guard on `n`
//!   (`MODE_B if n % 2 == 0`), next to the bindings `g if g > 1` and a catch-all `_other`;
//! - slices: some programs take `v: &[f64]` (the table calls them with the
//!   four-element array; nobody else calls them, and a call from one passes `v` only to a
//!   program taking `[f64; 4]`, as `[v[0], v[1], v[2], v[3]]`), with more loops over
//!   `0..v.len()`, `let len = v.len(); for i in 0..len` and `for &t in v` whose carried
//!   variables are read by nonlinear updates (so the loop keeps a tape), and
//!   `v.iter().fold(f64::NEG_INFINITY, |r, &p| r.max(e))`;
//! - tuple parameters: `prog_K(x0: f64, p: (f64, f64), v, n)`, read as `p.0`
//!   and `p.1` or destructured (`let (x1, x2) = p;`), whose gradient entry is a tuple; nobody
//!   calls them;
//! - const generics: `prog_K<const N: usize>` with `N` only in the body (a
//!   local `[0.0; N]` filled over `0..N`, ranges `0..N`), called as `prog_K::<4>(..)`;
//!
//! and the constructs of issue 15, each in a share of the programs, at one or more of their
//! sites (a top-level segment now and then, more rarely a statement of a loop or a branch):
//!
//! - array patterns: `let [b0, _, b2, b3] = v;` (`= *v;` of a reference, of a local array
//!   too), `let [r0, [b1, _, _, b2]] = m;` of a matrix (a row an array, at the top level only,
//!   where the tail reads it), `let [b0, b1] = [e0, e1];`; the names are ordinary floats;
//! - whole-array assignment: a complete local array of four becomes loop-carried state
//!   (`Role::Carried`, so that loops bound its slope as a carried float's), assigned as a whole
//!   once at once and maybe later: `a = [a[1] * c1 + e * c2, a[0], (a[3] * c1 + e * c2).sin(),
//!   e * c2];` (each element a contraction in the state, at least one reading the old `a`) or
//!   `a = b;` (after a read of the old value if need be), outside loops, in branches, and in a
//!   loop of its own whose body is straight-line. grad refuses ("cannot yet differentiate this
//!   read") a read of the array inside a loop, branch or iterator before a later whole
//!   assignment, and in a branch (or anywhere after a conditional `return`, which grad takes as
//!   the start of the other branch) one whose new value reads the array: so a state array read
//!   in a nested region is assigned no more (`Var::read_nested`), a branch (or the code after a
//!   `return`) assigns it only values that do not read it, and no call takes it as an
//!   argument;
//! - labeled blocks: `let y = 'b0: { ..; if c { [update;] break 'b0 e; } ..; tail };`, the
//!   `break` also from inside a `for` or `while` loop in the block, or to an enclosing block;
//!   a `break` or `continue` to a loop from directly inside a block names the loop (E0695). Also
//!   as statements (`'b0: { .. break 'b0; .. }`, behind `LABELED_STATEMENTS`);
//! - `Option` patterns on a constant `Option<usize>` (`n.checked_sub(2)`,
//!   `(n % 4).checked_sub(1)`, `(i + n).checked_sub(3)`; `[1usize, 3, 5].get(n % 4).copied()`
//!   behind `OPTION_FROM_GET`, off: grad does not support `get`): `if let Some(k) = o { .. }`
//!   (with `else if c`, or as `else if let`), its value form, `let Some(k) = o else { return
//!   e };` and `match o { Some(0) | .. => .., Some(k) if k > 1 => .., Some(_) => .., None =>
//!   .. }`, as statements and values; `k` is an integer in scope (`Some(_)` where nothing read
//!   it), often read as `let c = k as f64;`, and no call's argument (grad cannot see its
//!   type);
//! - programs generic over the float type: `prog_K<T: num_traits::Float +
//!   num_traits::FromPrimitive + Default>` (or a `where` clause), literals spelled
//!   `T::from_f64(c).unwrap()` (`T::zero()`, `T::one()`), plain (grad converts them) or mixed,
//!   constants `T::from_f64(std::f64::consts::LN_2).unwrap()`, `T::neg_infinity()`, casts
//!   `T::from_usize(i).unwrap()`, path calls `T::sin(x)`, `acc = acc + e` for `acc += e`,
//!   `fold`s for `sum` and `product` (`T` is neither `Sum` nor `Product`). They call only
//!   generic programs (`prog_3(..)` or `prog_3::<T>(..)`), with arguments that depend on the
//!   inputs (grad cannot tell the type of a constant argument there); other programs call
//!   them too (`prog_3::<f64>(..)`). The table calls them as `prog_K::<f64>`, and their
//!   `_value_and_grad::<f32>` for a loose check in `f32`. The bound is num-traits' alone (no
//!   `Default`), and a labeled `break`'s value may start with a plain literal: two grad bugs
//!   the first runs found, now fixed;
//! - local closures: `let f3 = |t: f64| e;` capturing locals and parameters (at the top level),
//!   called right after (`f3(x0) + f3(v[2]) * 0.5`, arguments within [-2, 2] of slope 1, so a
//!   call is bounded as the body with `t` of that bound), in an iterator's closure
//!   (`v.iter().map(|&p| f3(p)).sum::<f64>()`, `fold(0.0, |r, &p| r * 0.5 + f3(p) * 0.25)`) and
//!   passed by name (`v.iter().copied().map(f3).sum::<f64>()`);
//! - sub-slices and adaptors at the top level, over `v` or a complete array of four:
//!   `a[1..].iter()`, `a[1..3].iter()`, `.skip(k)`, `.take(k)`, `.rev()`, `.step_by(2)`,
//!   `.copied()`, `.cloned()`, `a.windows(2).map(|w| ..)`, `a.chunks(2).map(|ch| ..)`,
//!   `a.iter().zip(a.iter().skip(1))`, `fold(f64::NEG_INFINITY, f64::max)`,
//!   `max_by(|a, b| a.partial_cmp(b).unwrap()).unwrap()` (the mirror folds with `d_max`, which
//!   records the kink), `(0..n).map(|i| ..)` and `let sl3 = &a[1..];` read right away; sums
//!   over at most four items (six for `0..n`) are bounded as four (six) times an item;
//! - code that passes through: `let c3: f64 = table(i + n);` of the module's plain `fn
//!   table(i: usize) -> f64` (no `_vjp`; `c(table(..))` in the mirror), after an integer local
//!   `let m2 = 2 * n + 1;` now and then, `assert!(n < 100);`, `debug_assert!(s0.is_finite());`
//!   and `assert!(!s0.is_nan(), ..)`, which only read the value;
//! - `x2: &f64` parameters, read as `*x2` (`x2.sin()` as a method's receiver); the table passes
//!   `&x2`, and such a program calls no other (grad passes the reference where an argument is
//!   `*x2`: FINDINGS.md) and nobody calls it;
//! - enum modes: a parameter `mode: Mode` of the module's `#[derive(Clone, Copy)] pub enum Mode
//!   { Lower(usize, f64), Upper(f64), Off }`, matched as a statement or a value (`Mode::Lower(k,
//!   lo) => .., Mode::Upper(hi) => .., Mode::Off | _ => ..`), the payload constants (`_` where
//!   unread; the mirror rebinds a float as `let lo = c(lo);`), never a call's bare argument;
//!   the table calls it with `mode_of(n)` (each of the three modes over `n ∈ 0..=N_MAX`), and
//!   nobody else calls it;
//! - methods (issue 16): the module's constant `#[derive(Clone, Copy)] pub struct Params {
//!   pub k: f64, pub scale: f64, pub n: usize }` and `pub const PARAMS: Params`, and impl
//!   blocks holding programs of any of the shapes above written as `pub fn prog_K(&self, x0:
//!   f64, ..)`, `self` by value now and then, or as associated functions `pub fn prog_K(x0:
//!   f64, ..)`. A method joins the block of the method before it or opens its own (each block
//!   where its first method would be); most blocks are `#[differentiable] impl Params { .. }`,
//!   whose methods carry no attribute of their own, and a quarter a plain `impl Params` whose
//!   methods each carry `#[differentiable]` (no associated function: it needs the attribute on
//!   its block). A method reads `self.k` and `self.scale` as float constants in its
//!   expressions (`T::from_f64(self.k).unwrap()` in a generic one; never a call's bare
//!   argument, whose type grad cannot see) and `self.n` as an integer (`0..self.n + 2`,
//!   indices, conditions, `match` scrutinees). Calls: a method calls earlier methods as
//!   `self.prog_J(..)` (`self.prog_J::<4>(..)`, `self.prog_J::<T>(..)`); methods and
//!   associated functions call associated functions as `Self::prog_J(..)` (or
//!   `Params::prog_J(..)`), free programs as `Params::prog_J(..)`; free programs and
//!   associated functions call methods taking `&self` as `Params::prog_J(prm, ..)` of a typed
//!   local `let prm: &Params = &PARAMS;`, and methods taking `self` by value not at all.
//!   grad differentiates method-call syntax on `self` only (`PARAMS.prog_J(..)` is refused,
//!   "an array cannot be used here" at its array argument), and cannot tell `&PARAMS`, or a
//!   local `p: Params`, from a float as a call's argument (FINDINGS.md). The table calls
//!   `PARAMS.prog_K(..)` (`Params::prog_K(..)`) and its companions; the mirror is the free
//!   `prog_K_dual(this: Params, ..)` (without `this` for an associated function) reading
//!   `c(this.k)` and calling `prog_J_dual(this, ..)` (`prog_J_dual(PARAMS, ..)` for `prm`);
//! - structs (issue 16): a differentiated parameter of the module's `#[derive(grad::
//!   Differentiable, Clone, Copy)] pub struct Weights { pub a: f64, pub w: [f64; 4], pub inner:
//!   Inner, pub n: usize }` (`Inner { pub b: f64 }` derived too), whose float fields stand for
//!   the table's `x1` (`p.a`), `x2` (`p.inner.b`) and `v` (`p.w`): `prog_K(x0: f64, p:
//!   &Weights, n: usize)` (`p: Weights` now and then, `p` first now and then) with
//!   `#[differentiable(wrt(p, x0))]` (or `wrt(x0, p)`), or a method `prog_K(&self, x0: f64, n:
//!   usize)` (`self` by value now and then) in an `impl Weights` block of its own, with
//!   `#[differentiable(wrt(self, x0))]`. The body starts with `let v: [f64; 4] = p.w;` (grad
//!   reads `p.w.iter()` as a constant, and a field passed whole to a call too: README,
//!   FINDINGS.md), and either `let x1: f64 = p.a; let x2: f64 = p.inner.b;` or reads `p.a` and
//!   `p.inner.b` in place, wherever `x1` and `x2` would be (conditions, call arguments, `break`
//!   and labeled-block values, branch values and branches too: grad read a field alone there as
//!   a constant until the fix of FINDINGS.md's first gen18 finding, re-verified by the gen19
//!   campaigns); expressions also read `p.w[i]`, and integers `p.n`
//!   (`WEIGHTS_N`, like `self.n`). A struct program may be any of the other shapes but a
//!   slice, tuple, `&f64` or float-generic one, calls other programs (never passing `p` or a
//!   field alone) and is called by nobody (`wrt` leaves its `_vjp` without entries for the
//!   rest). The table builds `weights(x1, x2, v)` and reads the gradient entry's fields as the
//!   gradient of `x1`, `x2` and `v`, so that each float field is checked against its own
//!   finite difference and dual seed (and asserts the entry's `n` is the input's); the mirror
//!   takes a `WeightsDual` of `Dual64`s built by `weights_dual(x1, x2, v)`;
//! - modules (issue 16): programs (not methods nor struct programs) in `#[differentiable] pub
//!   mod mK { #[allow(unused_imports)] use super::*; .. }` blocks, `K` the index of the first
//!   program, each where its first program would be; a module program joins the module of the
//!   last one or opens its own. Its functions carry no attribute and are called by name inside
//!   the module and as `mK::prog_J(..)` elsewhere (the table calls `mK::prog_J` and its
//!   companions; the mirror stays the free `prog_J_dual`). A module program now and then (40%
//!   of them, beside the closures switch) calls its module's helper `pub fn mix<F: Fn(f64) ->
//!   f64>(f: F, a: f64, b: f64) -> f64 { f(a) * 0.5 + f(b) * 0.5 }` with a closure, `let v3 =
//!   mix(|t: f64| e, x0, v[2]);` or a local closure by name, `mix(f2, ..)`, which grad inlines
//!   at the call (the mirror's `mix_dual` takes a closure of `Dual64`s).
//!
//! Forward mode and second order (issue 17): `render_programs` asks grad's expansion
//! (`grad_expand::differentiable`, see `expansion.rs`) which programs get `prog_K_jvp`, and the
//! table holds a `jvp` closure for those (`None` elsewhere, so the batch never names a missing
//! companion), checked along a random tangent against the value, `grad · t` and the mirror
//! seeded with the tangent. With the switch `hessian` a program (free, a method or in a
//! module; not a struct, slice or tuple program, which grad refuses second order) asks for
//! second order, and calls only earlier programs that asked for it too: a caller's tangent
//! sweep with `hessian` calls each callee's `prog_J_tangent` (a call with a differentiated
//! value), which only a callee with second order has, and its second pass differentiates that
//! through `prog_J_tangent_vjp`. Whether a program gets it is decided when rendering
//! (`second_order`), in order, callees first: it is written only where every program it calls
//! got it and grad's expansion with `hessian` defines `prog_K_hvp` and holds no
//! `compile_error!` (the program's own expansion, or its module's or `#[differentiable] impl
//! Params` block's with `hessian` on that program alone, which sees the block's helpers and
//! `Self`); a caller whose callee was refused is refused too, since its own expansion cannot
//! know. It is `#[differentiable(hessian)]` on a free program or a method of a plain `impl
//! Params`, `#[differentiable(hessian)]` of its own on a program inside a `#[differentiable]`
//! module or impl block, and `hessian` on the block itself (`#[differentiable(hessian)] pub mod
//! mK`, `#[differentiable(hessian)] impl Params`) where every program in it gets it. Its table
//! entry's `hvp` is checked along a random direction against central differences of
//! `prog_K_grad`.
//!
//! [`random_programs`] with other seeds explores beyond the committed programs.

use super::{
    Binding, Bound, DUAL_PRELUDE, Expr, FnGen, Generated, Lits, Mode, Op, Rng, SCALE_ITEM, bin,
    fields_only_pair, header, inverse_square_slope, literal, render, same,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The seed and count of the committed `random_programs` files.
pub const RANDOM_PROGRAMS_SEED: u64 = 0x6772_6164_0300;
pub const RANDOM_PROGRAMS_COUNT: usize = 120;
/// The largest `n` the programs are called with; a program runs at most `N_MAX²` iterations
/// of nested loops.
pub const PROGRAM_N_MAX: usize = 6;

/// Largest row sum of the Jacobian of one loop-carried update with respect to the state.
const RHO: f64 = 1.0;
/// Largest estimated cost (expression nodes evaluated, callees included) of one program.
const COST_BUDGET: f64 = 4000.0;
/// Coefficients `c2` of an update, largest first.
const COEFFICIENTS: &[f64] = &[1.0, 0.75, 0.5, 0.4, 0.25, 0.2, 0.1, 0.05, 0.02, 0.01];

/// Constructs the generator uses only when told to, each a percentage (0: never, and then the
/// generator draws no random number for it, so that turning a switch off gives back the
/// programs of before it existed). [`random_programs`] and the default campaign of
/// `tests/program_batches.rs` use [`Features::DEFAULT`]; the campaign reads overrides from
/// `GRAD_FUZZ_CONST_PATTERNS`, `GRAD_FUZZ_SLICES`, `GRAD_FUZZ_TUPLES`,
/// `GRAD_FUZZ_CONST_GENERIC`, `GRAD_FUZZ_ARRAY_PATTERNS`, `GRAD_FUZZ_ARRAY_ASSIGNMENT`,
/// `GRAD_FUZZ_LABELED_BLOCKS`, `GRAD_FUZZ_OPTION_PATTERNS`, `GRAD_FUZZ_NUM_TRAITS`,
/// `GRAD_FUZZ_CLOSURES`, `GRAD_FUZZ_SUB_SLICES`, `GRAD_FUZZ_PASSTHROUGH`,
/// `GRAD_FUZZ_REF_PARAMS`, `GRAD_FUZZ_ENUM_MODES`, `GRAD_FUZZ_METHODS`, `GRAD_FUZZ_STRUCTS`,
/// `GRAD_FUZZ_MODULES` and `GRAD_FUZZ_HESSIAN`.
///
/// From `array_patterns` on they are percentages of the programs: a program that uses a construct has it at
/// one or more of its sites (a top-level segment now and then, more rarely a statement of a
/// loop or branch body), at least once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// Of the `match` patterns `0..=3` (alone or a side of an or-pattern): written as the name
    /// of a `const` item, `MODE_B =>` of `pub const MODE_B: usize = 1;` in the module or
    /// `PHASE_B =>` of `const PHASE_B: usize = 1;` at the top of the body (half the programs
    /// each), a quarter of them with a guard (`MODE_B if n % 2 == 0 =>`).
    pub const_patterns: u64,
    /// Of the programs: `v: &[f64]`, a slice, instead of `v: [f64; 4]` or `v: &[f64; 4]`
    /// (called with a four-element slice; nobody calls such a program), with loops over
    /// `0..v.len()`, `let len = v.len(); for i in 0..len`, `for &t in v` and
    /// `v.iter().fold(f64::NEG_INFINITY, |r, &p| r.max(e))` more often.
    pub slices: u64,
    /// Of the programs: `x0: f64, p: (f64, f64)` instead of `x0, x1, x2`, read as `p.0`, `p.1`
    /// or destructured (`let (x1, x2) = p;`); its gradient entry is a tuple `(f64, f64)`.
    /// Nobody calls such a program.
    pub tuples: u64,
    /// Of the programs: `fn prog_K<const N: usize>(..)`, with `N` only in the body (local
    /// arrays `[0.0; N]`, ranges `0..N`), called as `prog_K::<4>(..)`.
    pub const_generic: u64,
    /// Of the programs: array patterns, `let [b0, _, b2, b3] = v;` (`= *v;` of a reference),
    /// of a local array, of a matrix's rows (`let [r0, [b1, _, _, b2]] = m;`) and of a literal
    /// (`let [b0, b1] = [e0, e1];`), the names read as ordinary floats (or arrays).
    pub array_patterns: u64,
    /// Of the programs: whole-array assignment to local arrays, `a = [a[1] * c1 + e * c2,
    /// a[0], ..];` (reading the old `a`), `a = b;` of another local array, outside loops, in
    /// a loop of its own and in other loops, each new element a contraction in the loop's
    /// state (see the module's documentation).
    pub array_assignment: u64,
    /// Of the programs: labeled blocks, `let y = 'b0: { if c { break 'b0 e1; } ..; e2 };`, also
    /// breaking out of a loop inside the block, and as statements (`'b0: { .. break 'b0; .. }`).
    pub labeled_blocks: u64,
    /// Of the programs: `if let`, `let .. else` (returning early) and `match` on a constant
    /// `Option<usize>` (`n.checked_sub(2)`, `(n % 4).checked_sub(1)`, `(i + n).checked_sub(3)`),
    /// the payload read as an integer and as `k as f64`; the `match` arms `Some(0)`,
    /// `Some(k) if k > 1`, `Some(_)`, `None`.
    pub option_patterns: u64,
    /// Of the programs: generic over the float type, `prog_K<T: num_traits::Float +
    /// num_traits::FromPrimitive>(x0: T, ..) -> T` (sometimes with a `where` clause), with
    /// `T::from_f64(c).unwrap()`, `T::zero()`, `T::one()` for constants, or plain literals
    /// (which grad converts), or both; `T::from_usize(i).unwrap()` for casts and `T::sin(x)` for
    /// path calls; checked as `prog_K::<f64>` and its companions, and its gradient in `f32`
    /// loosely. They call only generic programs; others call them too.
    pub num_traits: u64,
    /// Of the programs: local closures, `let f3 = |t: f64| t * 0.5 + e;` (capturing locals and
    /// parameters), called (`f3(x0) + f3(v[2])`), in an iterator's closure
    /// (`v.iter().map(|&p| f3(p)).sum::<f64>()`, `fold`) and passed by name (`.map(f3)`).
    pub closures: u64,
    /// Of the programs: sub-slices and iterator adaptors, `a[1..].iter()`, `a[1..3].iter()`,
    /// `let s3 = &a[1..];`, `.skip(k)`, `.take(k)`, `.rev()`, `.step_by(2)`, `.copied()`,
    /// `.cloned()`, `a.windows(2)`, `a.chunks(2)`, a `zip` with `a.iter().skip(1)`,
    /// `fold(f64::NEG_INFINITY, f64::max)`, `max_by(|a, b| a.partial_cmp(b).unwrap()).unwrap()`
    /// and `(0..n).map(|i| ..)`.
    pub sub_slices: u64,
    /// Of the programs: code that passes through, calls of the plain `table(i: usize) -> f64`
    /// (no `_vjp`) with constant arguments (`table(i + n)`), integer locals (`let m3 = 2 * n +
    /// 1;`), `assert!(n < 100);` and `debug_assert!(s0.is_finite());` reading a float.
    pub passthrough: u64,
    /// Of the programs: `x2: &f64` instead of `x2: f64`, read as `*x2` (and `x2.sin()` as a
    /// method's receiver); its gradient entry is a float. Nobody calls such a program.
    pub ref_params: u64,
    /// Of the programs: a parameter `mode: Mode` of the module's `enum Mode { Lower(usize,
    /// f64), Upper(f64), Off }`, matched (`Mode::Lower(k, lo) => ..`, as statements and values)
    /// with the payload read as constants; the table passes `mode_of(n)`. Nobody calls such a
    /// program.
    pub enum_modes: u64,
    /// Of the programs: methods of the module's constant struct `#[derive(Clone, Copy)] pub
    /// struct Params { pub k: f64, pub scale: f64, pub n: usize }` (`pub const PARAMS:
    /// Params`), in `#[differentiable] impl Params { .. }` blocks (one or more methods each,
    /// which carry no attribute of their own) or, a quarter of the blocks, plain `impl Params`
    /// blocks whose methods each carry `#[differentiable]`: `pub fn prog_K(&self, x0: f64, ..)
    /// -> f64`, a fifth of them `self` by value and 15% associated functions `pub fn
    /// prog_K(x0: f64, ..)`. Methods read `self.k` and `self.scale` as float constants
    /// (`T::from_f64(self.k).unwrap()` in a generic one) and `self.n` as an integer (ranges
    /// `0..self.n + 2`, indices, conditions), and call earlier methods as `self.prog_J(..)`
    /// (`self.prog_J::<4>(..)`, `self.prog_J::<T>(..)`); associated functions are called as
    /// `Self::prog_J(..)` or `Params::prog_J(..)`, and methods taking `&self` from free
    /// programs and associated functions as `Params::prog_J(prm, ..)` of `let prm: &Params =
    /// &PARAMS;` (see the module's documentation). The table calls `PARAMS.prog_K(..)`
    /// (`Params::prog_K(..)`), and the mirror is the free `prog_K_dual(this: Params, ..)`.
    pub methods: u64,
    /// Of the programs: a differentiated struct parameter, the module's `#[derive(grad::
    /// Differentiable, Clone, Copy)] pub struct Weights { pub a: f64, pub w: [f64; 4], pub
    /// inner: Inner, pub n: usize }` (with `Inner { pub b: f64 }` derived too): `prog_K(x0: f64,
    /// p: &Weights, n: usize)` (by value now and then, `p` first now and then) with
    /// `#[differentiable(wrt(p, x0))]`, or a method `prog_K(&self, x0: f64, n: usize)` (or
    /// `self`) of `impl Weights` with `#[differentiable(wrt(self, x0))]`. The float fields stand
    /// for the table's `x1` (`p.a`), `x2` (`p.inner.b`) and `v` (`p.w`): read in place or
    /// through typed locals (`let x1: f64 = p.a;`, always `let v: [f64; 4] = p.w;`), `p.w[i]`
    /// in expressions, `p.n` as an integer. The gradient entry is a `Weights` of partials,
    /// checked field by field as the table's inputs; nobody calls such a program.
    pub structs: u64,
    /// Of the programs (not methods, not struct programs): placed in `#[differentiable] pub mod
    /// mK { use super::*; .. }` blocks, whose functions carry no attribute, call each other by
    /// name and are called from outside as `mK::prog_J(..)` (the table calls `mK::prog_J` and
    /// its companions); a module's programs call its helper `mix(f, a, b)` that takes a
    /// closure now and then (`mix(|t: f64| e, x0, v[2])`, `mix(f3, ..)` of a local closure),
    /// which grad inlines at the call.
    pub modules: u64,
    /// Of the programs that are not struct, slice or tuple programs (grad refuses those second
    /// order): ask for `hessian`, and call only programs that asked for it too. Written (on
    /// the function, or on its module or impl block where each program in it gets it) where
    /// every program it calls got it and grad's expansion gives `prog_K_hvp` without a
    /// `compile_error!` (asked of `grad_expand` at rendering, callees first), else the
    /// attribute without it. The table then holds `prog_K_hvp`, checked along a random
    /// direction against central differences of `prog_K_grad`; through a call, it composes
    /// the callees' `prog_J_tangent`.
    pub hessian: u64,
}

impl Features {
    /// No new construct: the programs of before the switches.
    pub const NONE: Features = Features {
        const_patterns: 0,
        slices: 0,
        tuples: 0,
        const_generic: 0,
        array_patterns: 0,
        array_assignment: 0,
        labeled_blocks: 0,
        option_patterns: 0,
        num_traits: 0,
        closures: 0,
        sub_slices: 0,
        passthrough: 0,
        ref_params: 0,
        enum_modes: 0,
        methods: 0,
        structs: 0,
        modules: 0,
        hessian: 0,
    };

    /// What the committed programs and the default campaign use.
    pub const DEFAULT: Features = Features {
        const_patterns: 30,
        slices: 15,
        tuples: 10,
        const_generic: 10,
        array_patterns: 15,
        array_assignment: 15,
        labeled_blocks: 15,
        option_patterns: 15,
        num_traits: 15,
        closures: 12,
        sub_slices: 12,
        passthrough: 12,
        ref_params: 10,
        enum_modes: 10,
        methods: 12,
        structs: 10,
        modules: 10,
        hessian: 15,
    };
}

/// The constructs of the switches that one program uses at sites of its body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Uses {
    patterns: bool,
    assignment: bool,
    blocks: bool,
    options: bool,
    closures: bool,
    adaptors: bool,
    passthrough: bool,
    /// Takes `mode: Mode` (from [`Shape::mode`]).
    modes: bool,
}

/// One of [`Uses`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Construct {
    Patterns,
    Assignment,
    Blocks,
    Options,
    Closures,
    Adaptors,
    Passthrough,
    Modes,
}

const CONSTRUCTS: [Construct; 8] = [
    Construct::Patterns,
    Construct::Assignment,
    Construct::Blocks,
    Construct::Options,
    Construct::Closures,
    Construct::Adaptors,
    Construct::Passthrough,
    Construct::Modes,
];

impl Uses {
    fn has(self, c: Construct) -> bool {
        match c {
            Construct::Patterns => self.patterns,
            Construct::Assignment => self.assignment,
            Construct::Blocks => self.blocks,
            Construct::Options => self.options,
            Construct::Closures => self.closures,
            Construct::Adaptors => self.adaptors,
            Construct::Passthrough => self.passthrough,
            Construct::Modes => self.modes,
        }
    }
}

/// Where a construct goes: a top-level segment, a statement of a loop body or of a branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Site {
    Top,
    Loop,
    Branch,
}

/// `array.get(..)` on a constant array, an `Option` source of the option patterns: grad reports
/// "the array method `get` is not supported yet" (a grad limitation; see the report of issue 15).
const OPTION_FROM_GET: bool = false;
/// `*v` of an array behind a reference as the argument of a program taking `[f64; 4]`, beside
/// `[v[0], v[1], v[2], v[3]]` (the expansion passed the reference until this found it:
/// FINDINGS.md).
const DEREF_ARRAY_ARGS: bool = true;
/// A labeled block as a statement, `'b0: { if c { break 'b0; } .. }`, beside labeled blocks as
/// values (grad rejected statements until the first runs found it).
const LABELED_STATEMENTS: bool = true;

/// The signature of one program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// `v: &[f64; 4]` (or, with `slice`, `v: &[f64]`) rather than `v: [f64; 4]`.
    pub by_ref: bool,
    /// `v: &[f64]`.
    pub slice: bool,
    /// `x0: f64, p: (f64, f64)` rather than `x0, x1, x2`.
    pub tuple: bool,
    /// `<const N: usize>`.
    pub generic: bool,
    /// `<T: num_traits::Float + num_traits::FromPrimitive>`, and how it is written.
    pub float_generic: Option<FloatGeneric>,
    /// `x2: &f64`.
    pub ref_x2: bool,
    /// A last parameter `mode: Mode`.
    pub mode: bool,
    /// A method of the module's `Params`.
    pub method: Option<Method>,
    /// A differentiated `Weights` parameter (or `self` of a `Weights` method).
    pub strukt: Option<StructParam>,
    /// In the module `m{K}` (`K` the index of its first program).
    pub module: Option<usize>,
}

/// A program that takes the module's differentiated `Weights`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StructParam {
    /// `p: &Weights` (`&self`) rather than `p: Weights` (`self`).
    pub by_ref: bool,
    /// A method of `impl Weights`, `wrt(self, x0)`, rather than a free function.
    pub method: bool,
    /// `p` before `x0` in the parameters.
    pub first: bool,
    /// `wrt(p, x0)` rather than `wrt(x0, p)`.
    pub wrt_p_first: bool,
    /// `p.a` and `p.inner.b` read in place, rather than through `let x1: f64 = p.a;`.
    pub in_place: bool,
}

impl StructParam {
    /// The name of the struct in the body: `p`, or `self` in a method.
    fn name(self) -> &'static str {
        if self.method { "self" } else { "p" }
    }
}

/// `n` of the `Weights` the table builds: `p.n` in the programs.
const WEIGHTS_N: usize = 3;

/// A program written as a method (or an associated function) of the module's `Params`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method {
    pub receiver: Receiver,
    /// Opens an impl block of its own rather than joining the one of the method before it.
    pub new_impl: bool,
    /// The block it opens is a plain `impl Params` whose methods each carry
    /// `#[differentiable]`, rather than a `#[differentiable] impl Params` (never for an
    /// associated function, which needs the attribute on its block).
    pub attribute_each: bool,
}

/// How a method takes `self`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receiver {
    /// `&self`.
    Ref,
    /// `self` (`Params` is `Copy`).
    Value,
    /// No `self`: an associated function, called as `Self::prog_K(..)` in the impl and
    /// `Params::prog_K(..)` outside it.
    Assoc,
}

impl Method {
    /// Takes `self`, and may read its fields.
    fn has_self(self) -> bool {
        self.receiver != Receiver::Assoc
    }
}

/// The typed local through which a free program or an associated function calls a method
/// that takes `&self`: `let prm: &Params = &PARAMS;` (grad cannot tell the type of `&PARAMS`
/// as a call's argument), then `Params::prog_J(prm, ..)`.
const PARAMS_LOCAL: &str = "prm";

/// The module's constant struct, and the instance the table calls the methods on (with the
/// values of [`SELF_FLOATS`] and [`SELF_N`]).
fn params_items() -> String {
    let [(_, k), (_, scale)] = SELF_FLOATS;
    format!(
        "
    // A batch whose methods read no `self.n` (or no `self.k`) never reads it.
    #[allow(dead_code)]
    #[derive(Clone, Copy)]
    pub struct Params {{
        pub k: f64,
        pub scale: f64,
        pub n: usize,
    }}

    pub const PARAMS: Params = Params {{
        k: {},
        scale: {},
        n: {SELF_N},
    }};
",
        literal(k),
        literal(scale)
    )
}

/// `PARAMS.n`, the value of `self.n` in the methods.
const SELF_N: usize = 2;
/// `PARAMS.k` and `PARAMS.scale`, the float fields the methods read as constants.
const SELF_FLOATS: [(&str, f64); 2] = [("self.k", 0.75), ("self.scale", 0.5)];

/// How a program generic over its float type `T` is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloatGeneric {
    pub lits: Lits,
    /// The bounds in a `where` clause rather than in the angle brackets.
    pub where_clause: bool,
}

/// The `const` items of module-level (`MODE_*`) and body-level (`PHASE_*`) patterns, by value.
const MODULE_CONSTS: [&str; 4] = ["MODE_A", "MODE_B", "MODE_C", "MODE_D"];
const BODY_CONSTS: [&str; 4] = ["PHASE_A", "PHASE_B", "PHASE_C", "PHASE_D"];

// ---------------------------------------------------------------------------------------------
// The program tree.

#[derive(Clone, Debug)]
enum Cond {
    /// A float comparison `a op b`, recorded by the mirror.
    Cmp(Expr, &'static str, Expr),
    /// An integer condition, the same text in both modes.
    Int(String),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    /// `let Some(k) = n.checked_sub(2)`, the condition of an `if let` (alone, never in `&&`).
    Let(String),
}

#[derive(Clone, Debug)]
enum IterKind {
    Sum,
    Product,
    /// `fold(init, |r, pat| body)`
    Fold(Expr),
    /// `source.sum::<f64>()` of a source that maps already (`.map(f3)`); `pat` and `body`
    /// are unused.
    SumOf,
    /// `source.fold(f64::NEG_INFINITY, f64::max)` (`min` from `f64::INFINITY` if not `max`)
    /// of a source of values.
    FoldPath {
        max: bool,
    },
    /// `source.max_by(|a, b| a.partial_cmp(b).unwrap()).unwrap()` (`min_by`) of a source of
    /// values; the mirror folds with `d_max`, which records the kink.
    MaxBy {
        max: bool,
    },
}

/// `source.map(|pat| body).sum::<f64>()` and friends.
#[derive(Clone, Debug)]
struct Iter {
    source: String,
    kind: IterKind,
    pat: String,
    body: Expr,
}

#[derive(Clone, Debug)]
struct Block {
    stmts: Vec<S>,
    tail: Expr,
    /// `return tail`: the block leaves the function instead of giving a value.
    diverges: bool,
}

#[derive(Clone, Debug)]
enum Init {
    Expr(Expr),
    /// `i as f64`
    Cast(String),
    /// `[0.0; 4]`
    Zeros,
    /// `[0.0; N]` of a const generic program.
    ZerosN,
    /// `[[0.0; 4]; rows]`
    Matrix(usize),
    Elements(Vec<Expr>),
    /// A copy of an array.
    Copy(String),
    /// `v.map(f64::name)`
    Map(String, &'static str),
    Iter(Iter),
    If(Vec<(Cond, Block)>, Block),
    Match(String, Vec<(String, Block)>),
    /// A `loop` that `break`s with a value, and its label.
    Loop(Option<String>, Vec<S>),
    /// `{ stmts; tail }`: never generated, a shrinking step of `tests/program_batches.rs`
    /// (an `if` or `match` value replaced by one of its arms).
    Block(Block),
    /// `'b0: { stmts; tail }`, whose statements may `break 'b0 e`.
    Labeled(String, Block),
    /// `|t: f64| body`, a local closure.
    Closure(String, Expr),
    /// `table(arg)` of the module's plain function (`c(..)` in the mirror).
    Table(String),
    /// `&a[1..3]`, a sub-slice: the same text in every mode.
    Slice(String),
    /// `p.w` or `p.a`, a field of the differentiated struct: the same text in every mode (a
    /// typed `let` of `.w` is an array of four).
    Field(String),
    /// `mix(|t: f64| body, a, b)` of the module's helper that takes a closure, or `mix(f3, a,
    /// b)` of the local closure `f3` (`mix_dual` in the mirror).
    Mix {
        by_name: Option<String>,
        body: Expr,
        args: [String; 2],
    },
}

/// An array pattern.
#[derive(Clone, Debug)]
enum Pat {
    Wild,
    Name(String),
    Array(Vec<Pat>),
}

fn render_pat(p: &Pat) -> String {
    match p {
        Pat::Wild => "_".to_string(),
        Pat::Name(name) => name.clone(),
        Pat::Array(items) => {
            let items: Vec<String> = items.iter().map(render_pat).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

#[derive(Clone, Debug)]
enum S {
    Let {
        name: String,
        mutable: bool,
        typed: bool,
        init: Init,
    },
    /// An integer statement, the same text in both modes.
    Raw(String),
    Assign {
        target: String,
        op: Option<Op>,
        value: Expr,
    },
    If(Vec<(Cond, Vec<S>)>, Option<Vec<S>>),
    Match(String, Vec<(String, Vec<S>)>),
    For {
        label: Option<String>,
        pat: String,
        iter: String,
        body: Vec<S>,
    },
    While {
        label: Option<String>,
        cond: Cond,
        body: Vec<S>,
    },
    Loop {
        label: Option<String>,
        body: Vec<S>,
    },
    Break(Option<String>, Option<Expr>),
    Continue(Option<String>),
    Return(Expr),
    /// `let [b0, _, b2] = init;` (`init` an array's name, `*v`, or elements).
    LetPat {
        pat: Pat,
        init: Init,
    },
    /// `a = [e0, e1, e2, e3];` or `a = b;`.
    AssignArray {
        target: String,
        init: Init,
    },
    /// `'b0: { .. }` as a statement.
    Labeled {
        label: String,
        body: Vec<S>,
    },
    /// `let Some(k) = n.checked_sub(2) else { return e };`
    LetElse {
        pat: String,
        scrutinee: String,
        otherwise: Block,
    },
    /// `debug_assert!(s0.is_finite());` (`assert!(!s0.is_nan(), ..)` if not `debug`) of a
    /// float, which the macro only reads.
    Check {
        name: String,
        debug: bool,
    },
    /// Nothing in the program; `let lo = c(lo);` in the mirror (`T::from_f64(lo).unwrap()` in
    /// a generic program) of an `f64` an enum pattern bound.
    Rebind(String),
}

// ---------------------------------------------------------------------------------------------
// Rendering.

fn comparison_helper(op: &str) -> &'static str {
    match op {
        ">" => "gt",
        ">=" => "ge",
        "<" => "lt",
        "<=" => "le",
        _ => unreachable!("comparison {op}"),
    }
}

fn render_cond(c: &Cond, mode: Mode) -> String {
    let operand = |c: &Cond, parens: bool| {
        let text = render_cond(c, mode);
        if parens { format!("({text})") } else { text }
    };
    match c {
        // A comparison of float fields alone, `p.a >= p.inner.b` (or with named constants,
        // `SCALE < p.a`): not typed as floats by grad (FINDINGS.md, gen19, "an operation of
        // float fields alone", and gen20); a literal operand types it.
        Cond::Cmp(a, op, b) if mode == Mode::Primal && fields_only_pair(a, b) => {
            format!("({} * 1.0) {op} {}", render(a, mode), render(b, mode))
        }
        Cond::Cmp(a, op, b) => match mode {
            Mode::Primal | Mode::Generic(_) => {
                format!("{} {op} {}", render(a, mode), render(b, mode))
            }
            Mode::Dual => format!(
                "{}({}, {}, margin)",
                comparison_helper(op),
                render(a, mode),
                render(b, mode)
            ),
        },
        Cond::Int(text) => text.clone(),
        Cond::And(a, b) => format!(
            "{} && {}",
            operand(a, matches!(**a, Cond::Or(..))),
            operand(b, matches!(**b, Cond::Or(..)))
        ),
        Cond::Or(a, b) => format!(
            "{} || {}",
            operand(a, matches!(**a, Cond::And(..))),
            operand(b, matches!(**b, Cond::And(..)))
        ),
        Cond::Not(a) => format!("!({})", render_cond(a, mode)),
        Cond::Let(text) => text.clone(),
    }
}

fn float_type(mode: Mode) -> &'static str {
    match mode {
        Mode::Primal => "f64",
        Mode::Dual => "Dual64",
        Mode::Generic(_) => "T",
    }
}

/// `0.0` in `mode`.
fn zero(mode: Mode) -> String {
    render(&Expr::Lit(0.0), mode)
}

/// `-0.0` in `mode`: where std's `f64` sum starts.
fn negative_zero(mode: Mode) -> String {
    match mode {
        Mode::Dual => "c(-0.0)".to_string(),
        _ => format!("-{}", zero(mode)),
    }
}

fn render_iter(it: &Iter, mode: Mode) -> String {
    let body = render(&it.body, mode);
    let ty = float_type(mode);
    match (&it.kind, mode) {
        // `T: num_traits::Float` is neither `Sum` nor `Product`: the same sum as a fold, from
        // `-0.0` as std's `f64` sum starts (an empty sum is `-0.0`, which `copysign` sees).
        (IterKind::Sum, Mode::Generic(_) | Mode::Dual) => format!(
            "{}.fold({}, |r, {}| r + {})",
            it.source,
            negative_zero(mode),
            it.pat,
            super::wrap(&it.body, it.body.precedence() <= 1, mode)
        ),
        (IterKind::Product, Mode::Generic(_)) => format!(
            "{}.fold({}, |r, {}| r * {})",
            it.source,
            render(&Expr::Lit(1.0), mode),
            it.pat,
            super::wrap(&it.body, it.body.precedence() <= 2, mode)
        ),
        (IterKind::Sum, _) => format!("{}.map(|{}| {body}).sum::<{ty}>()", it.source, it.pat),
        (IterKind::Product, _) => {
            format!("{}.map(|{}| {body}).product::<{ty}>()", it.source, it.pat)
        }
        (IterKind::Fold(init), _) => format!(
            "{}.fold({}, |r, {}| {body})",
            it.source,
            render(init, mode),
            it.pat
        ),
        (IterKind::SumOf, Mode::Generic(_) | Mode::Dual) => {
            format!("{}.fold({}, |r, y| r + y)", it.source, negative_zero(mode))
        }
        (IterKind::SumOf, _) => format!("{}.sum::<{ty}>()", it.source),
        (IterKind::FoldPath { max }, Mode::Primal) => {
            let (init, method) = extreme_names(*max);
            format!("{}.fold({init}, f64::{method})", it.source)
        }
        (IterKind::MaxBy { max }, Mode::Primal | Mode::Generic(_)) => {
            let method = if *max { "max_by" } else { "min_by" };
            format!(
                "{}.{method}(|a, b| a.partial_cmp(b).unwrap()).unwrap()",
                it.source
            )
        }
        (IterKind::FoldPath { max } | IterKind::MaxBy { max }, _) => {
            let (init, method) = extreme_names(*max);
            let step = Expr::Method {
                name: method,
                path: false,
                args: vec![var("r"), var("y")],
            };
            format!(
                "{}.fold({}, |r, y| {})",
                it.source,
                render(&Expr::Const(init.to_string()), mode),
                render(&step, mode)
            )
        }
    }
}

/// The start and the method of a running maximum (or minimum).
fn extreme_names(max: bool) -> (&'static str, &'static str) {
    if max {
        ("f64::NEG_INFINITY", "max")
    } else {
        ("f64::INFINITY", "min")
    }
}

fn render_block_value(b: &Block, mode: Mode, indent: usize, out: &mut String) {
    render_stmts(&b.stmts, mode, indent, out);
    let pad = "    ".repeat(indent);
    let ret = if b.diverges { "return " } else { "" };
    let _ = writeln!(out, "{pad}{ret}{}", render(&b.tail, mode));
}

fn label_prefix(label: &Option<String>) -> String {
    label.as_ref().map_or(String::new(), |l| format!("{l}: "))
}

fn render_init(init: &Init, mode: Mode, indent: usize) -> String {
    let pad = "    ".repeat(indent);
    match init {
        Init::Expr(e) => render(e, mode),
        Init::Cast(index) => match mode {
            Mode::Primal => format!("{index} as f64"),
            Mode::Dual => format!("c({index} as f64)"),
            Mode::Generic(_) => format!("T::from_usize({index}).unwrap()"),
        },
        Init::Zeros => format!("[{}; 4]", zero(mode)),
        Init::ZerosN => format!("[{}; N]", zero(mode)),
        Init::Matrix(rows) => format!("[[{}; 4]; {rows}]", zero(mode)),
        Init::Elements(items) => {
            let items: Vec<String> = items.iter().map(|e| render(e, mode)).collect();
            format!("[{}]", items.join(", "))
        }
        Init::Copy(name) => name.clone(),
        Init::Map(name, method) => match mode {
            Mode::Primal => format!("{name}.map(f64::{method})"),
            Mode::Dual => format!("{name}.map(|e| e.{method}())"),
            Mode::Generic(_) => format!("{name}.map(T::{method})"),
        },
        Init::Iter(it) => render_iter(it, mode),
        Init::If(arms, otherwise) => {
            let mut text = String::new();
            for (k, (cond, block)) in arms.iter().enumerate() {
                let keyword = if k == 0 { "if" } else { " else if" };
                let _ = writeln!(text, "{keyword} {} {{", render_cond(cond, mode));
                render_block_value(block, mode, indent + 1, &mut text);
                let _ = write!(text, "{pad}}}");
            }
            let _ = writeln!(text, " else {{");
            render_block_value(otherwise, mode, indent + 1, &mut text);
            let _ = write!(text, "{pad}}}");
            text
        }
        Init::Match(scrutinee, arms) => {
            let mut text = format!("match {scrutinee} {{\n");
            for (pat, block) in arms {
                if block.stmts.is_empty() && !block.diverges {
                    let _ = writeln!(text, "{pad}    {pat} => {},", render(&block.tail, mode));
                } else {
                    let _ = writeln!(text, "{pad}    {pat} => {{");
                    render_block_value(block, mode, indent + 2, &mut text);
                    let _ = writeln!(text, "{pad}    }}");
                }
            }
            let _ = write!(text, "{pad}}}");
            text
        }
        Init::Loop(label, body) => {
            let mut text = format!("{}loop {{\n", label_prefix(label));
            render_stmts(body, mode, indent + 1, &mut text);
            let _ = write!(text, "{pad}}}");
            text
        }
        Init::Block(block) => {
            let mut text = "{\n".to_string();
            render_block_value(block, mode, indent + 1, &mut text);
            let _ = write!(text, "{pad}}}");
            text
        }
        Init::Labeled(label, block) => {
            let mut text = format!("{label}: {{\n");
            render_block_value(block, mode, indent + 1, &mut text);
            let _ = write!(text, "{pad}}}");
            text
        }
        Init::Closure(param, body) => {
            format!("|{param}: {}| {}", float_type(mode), render(body, mode))
        }
        Init::Table(arg) => match mode {
            Mode::Primal => format!("table({arg})"),
            Mode::Dual => format!("c(table({arg}))"),
            Mode::Generic(_) => format!("T::from_f64(table({arg})).unwrap()"),
        },
        Init::Slice(text) | Init::Field(text) => text.clone(),
        Init::Mix {
            by_name,
            body,
            args: [a, b],
        } => {
            let f = match by_name {
                Some(name) => name.clone(),
                None => format!("|t: {}| {}", float_type(mode), render(body, mode)),
            };
            let mix = if mode == Mode::Dual {
                "mix_dual"
            } else {
                "mix"
            };
            format!("{mix}({f}, {a}, {b})")
        }
    }
}

fn render_stmts(stmts: &[S], mode: Mode, indent: usize, out: &mut String) {
    for s in stmts {
        render_s(s, mode, indent, out);
    }
}

fn render_s(s: &S, mode: Mode, indent: usize, out: &mut String) {
    let pad = "    ".repeat(indent);
    match s {
        S::Let {
            name,
            mutable,
            typed,
            init,
        } => {
            let m = if *mutable { "mut " } else { "" };
            let array_field = matches!(init, Init::Field(f) if f.ends_with(".w"));
            // A float value (an expression, or a loop's, block's, `if`'s or `match`'s value).
            let float_expr = matches!(
                init,
                Init::Expr(_)
                    | Init::Loop(..)
                    | Init::Labeled(..)
                    | Init::Block(_)
                    | Init::If(..)
                    | Init::Match(..)
            );
            let plain_expr = matches!(init, Init::Expr(_));
            let init = render_init(init, mode, indent);
            // A local holding `self.k` (or `-self.k`) alone may be passed to a call, where grad
            // needs its type (it cannot see a field's): written with it, as its message asks.
            let bare = init.trim_start_matches(['-', '(']).trim_end_matches(')');
            // So is a loop's value that may be `break self.k` (passed to a call, grad cannot
            // tell its type: the `0x180100` campaign of FINDINGS.md, gen18).
            let bare_field = SELF_FLOATS.iter().any(|(text, _)| bare == *text)
                || (!plain_expr
                    && float_expr
                    && SELF_FLOATS.iter().any(|(text, _)| init.contains(text)));
            let ty = if array_field {
                format!(": [{}; 4]", float_type(mode))
            } else if *typed || bare_field {
                format!(": {}", float_type(mode))
            } else {
                String::new()
            };
            let _ = writeln!(out, "{pad}let {m}{name}{ty} = {init};");
        }
        S::Raw(text) => {
            let _ = writeln!(out, "{pad}{text}");
        }
        // `T: num_traits::Float` has no `+=`: `acc = acc + e`.
        S::Assign {
            target,
            op: Some(op),
            value,
        } if matches!(mode, Mode::Generic(_)) => {
            let value = bin(*op, var(target), value.clone());
            let _ = writeln!(out, "{pad}{target} = {};", render(&value, mode));
        }
        S::Assign { target, op, value } => {
            let op = op.map_or("", Op::symbol);
            let _ = writeln!(out, "{pad}{target} {op}= {};", render(value, mode));
        }
        S::If(arms, otherwise) => {
            for (k, (cond, body)) in arms.iter().enumerate() {
                if k == 0 {
                    let _ = writeln!(out, "{pad}if {} {{", render_cond(cond, mode));
                } else {
                    let _ = writeln!(out, "{pad}}} else if {} {{", render_cond(cond, mode));
                }
                render_stmts(body, mode, indent + 1, out);
            }
            if let Some(body) = otherwise {
                let _ = writeln!(out, "{pad}}} else {{");
                render_stmts(body, mode, indent + 1, out);
            }
            let _ = writeln!(out, "{pad}}}");
        }
        S::Match(scrutinee, arms) => {
            let _ = writeln!(out, "{pad}match {scrutinee} {{");
            for (pat, body) in arms {
                let _ = writeln!(out, "{pad}    {pat} => {{");
                render_stmts(body, mode, indent + 2, out);
                let _ = writeln!(out, "{pad}    }}");
            }
            let _ = writeln!(out, "{pad}}}");
        }
        S::For {
            label,
            pat,
            iter,
            body,
        } => {
            let _ = writeln!(out, "{pad}{}for {pat} in {iter} {{", label_prefix(label));
            render_stmts(body, mode, indent + 1, out);
            let _ = writeln!(out, "{pad}}}");
        }
        S::While { label, cond, body } => {
            let _ = writeln!(
                out,
                "{pad}{}while {} {{",
                label_prefix(label),
                render_cond(cond, mode)
            );
            render_stmts(body, mode, indent + 1, out);
            let _ = writeln!(out, "{pad}}}");
        }
        S::Loop { label, body } => {
            let _ = writeln!(out, "{pad}{}loop {{", label_prefix(label));
            render_stmts(body, mode, indent + 1, out);
            let _ = writeln!(out, "{pad}}}");
        }
        S::Break(label, value) => {
            let value = value
                .as_ref()
                .map_or(String::new(), |e| format!(" {}", render(e, mode)));
            let label = label.as_ref().map_or(String::new(), |l| format!(" {l}"));
            let _ = writeln!(out, "{pad}break{label}{value};");
        }
        S::Continue(label) => {
            let label = label.as_ref().map_or(String::new(), |l| format!(" {l}"));
            let _ = writeln!(out, "{pad}continue{label};");
        }
        S::Return(e) => {
            let _ = writeln!(out, "{pad}return {};", render(e, mode));
        }
        S::LetPat { pat, init } => {
            let init = render_init(init, mode, indent);
            let _ = writeln!(out, "{pad}let {} = {init};", render_pat(pat));
        }
        S::AssignArray { target, init } => {
            let init = render_init(init, mode, indent);
            let _ = writeln!(out, "{pad}{target} = {init};");
        }
        S::Labeled { label, body } => {
            let _ = writeln!(out, "{pad}{label}: {{");
            render_stmts(body, mode, indent + 1, out);
            let _ = writeln!(out, "{pad}}}");
        }
        S::LetElse {
            pat,
            scrutinee,
            otherwise,
        } => {
            let _ = writeln!(out, "{pad}let {pat} = {scrutinee} else {{");
            render_block_value(otherwise, mode, indent + 1, out);
            let _ = writeln!(out, "{pad}}};");
        }
        S::Check { name, debug } => {
            // `x2.is_finite()` of `x2: &f64`; the mirror tests the value's real part.
            let name = name.trim_start_matches('*');
            let value = match mode {
                Mode::Dual => format!("{name}.re"),
                _ => name.to_string(),
            };
            if *debug {
                let _ = writeln!(out, "{pad}debug_assert!({value}.is_finite());");
            } else {
                let _ = writeln!(out, "{pad}assert!(!{value}.is_nan(), \"{name} is NaN\");");
            }
        }
        S::Rebind(name) => match mode {
            Mode::Primal => {}
            Mode::Dual => {
                let _ = writeln!(out, "{pad}let {name} = c({name});");
            }
            Mode::Generic(_) => {
                let _ = writeln!(out, "{pad}let {name} = T::from_f64({name}).unwrap();");
            }
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The generator's view of the variables in scope.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    Float,
    Int,
    Array,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// A parameter or an immutable local.
    Plain,
    /// A `let mut` float carried across loop iterations, updated contractively inside loops.
    Carried,
    /// A `let mut` float only added to inside loops, and never read there.
    Acc,
    /// `i as f64` of a loop index, declared at the top of the loop body if it is read.
    Cast,
    /// The element of a `for` over an array.
    Element,
    /// An integer: `n`, a loop index or a counter.
    Count,
}

struct Var {
    name: String,
    ty: Ty,
    role: Role,
    /// Magnitude (of each element, for arrays) and the L1 norm of the gradient with respect
    /// to the seven inputs, over the sample box.
    bound: Bound,
    /// Lipschitz constant with respect to the state of the loops the variable was declared
    /// in (1 for a variable declared outside every loop).
    lip: f64,
    /// Integers: the largest value. Arrays: the rows of a matrix `[[f64; 4]; rows]`, or 0.
    max: usize,
    /// Depends on the inputs.
    active: bool,
    mutable: bool,
    mutated: bool,
    /// Read since it was last assigned (or declared).
    pending: bool,
    read: bool,
    /// Arrays being filled, which are not read until they are complete.
    open: bool,
    /// A cast's loop index.
    of: Option<usize>,
    /// Shadowed by a later `let` of the same name.
    hidden: bool,
    /// The variable this one shadows.
    hides: Option<usize>,
    /// An array behind a reference: `v: &[f64; 4]` or an alias `let w = v;` of it.
    reference: bool,
    /// A slice `v: &[f64]` (a reference too).
    slice: bool,
    /// A local array of a const generic program, maybe `[f64; N]`: no argument of a call.
    sized_n: bool,
    /// An array a loop is iterating over by reference (`for &t in a.iter()`): not assigned.
    iterating: bool,
    /// An integer bound by a pattern (`Some(k)`), whose type grad cannot see: no argument of a
    /// call (grad asks for a typed local).
    bound_by_pattern: bool,
    /// Read inside a loop (other than the straight-line body of its own `state_loop`), a
    /// branch, a labeled block or an iterator's closure: grad then refuses a later whole
    /// assignment ("cannot yet differentiate this read": the reverse sweep would read the new
    /// value where it recomputes a condition or a derivative), so the array is no longer
    /// assigned as a whole.
    read_nested: bool,
}

impl Var {
    fn new(name: String, ty: Ty, role: Role, bound: Bound) -> Var {
        Var {
            name,
            ty,
            role,
            bound,
            lip: 1.0,
            max: 0,
            active: true,
            mutable: false,
            mutated: false,
            pending: true,
            read: false,
            open: false,
            of: None,
            hidden: false,
            hides: None,
            reference: false,
            slice: false,
            sized_n: false,
            iterating: false,
            bound_by_pattern: false,
            read_nested: false,
        }
    }
}

/// A labeled block being generated (`'b0: { .. }`).
struct BlockFrame {
    label: String,
    /// `loops.len()` where it opened: a `break` or `continue` directly inside it (with no
    /// loop in between) must name its loop (E0695).
    depth: usize,
    /// Its `break`s carry a value.
    value: bool,
    /// The states at its `break`s, joined.
    exit: Option<Vec<bool>>,
    /// The values it breaks with.
    gens: Vec<Gen>,
    /// How many `break`s name it.
    breaks: usize,
}

/// What a branch body or value block declares first: nothing, or `let c = k as f64;` of the
/// integer `k` an `Option` pattern bound.
#[derive(Clone, Copy, Debug)]
enum Prelude {
    None,
    Cast(usize),
}

/// The shape of a running extreme's loop (`ProgGen::running_extreme`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Extreme {
    /// `m = m.max(e)` over a unit-step range (or an array's elements, `for &t in v.iter()`,
    /// which grad loops over by index), with nothing else carried: grad finds where the
    /// final value was taken and replays only from there.
    Eligible,
    /// Near misses, which grad reverses with a tape. The candidate reads the running value
    /// too: `m = m.max(m * 0.5 + e * c)`, or `let c = if m > t { .. } else { .. };`.
    SelfRead,
    /// Two running extremes in one loop: `hi = hi.max(e1); lo = lo.min(e2);`.
    Two,
    /// Another variable updated in the same loop (a carried variable or an accumulator).
    Update,
    /// A reversed or stepped range.
    Range,
    /// A `break`, `continue` or `return` in the body (a `continue` after the update changes
    /// nothing, and grad does take the loop without a tape then).
    Jump,
    /// `m = m.max(e).min(k)`: the next value is a clamp, not the `max` itself.
    Clamped,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum LoopKind {
    For,
    While,
    /// A `loop` ended by a counter: `continue` would skip its exit test.
    Loop,
    /// A `loop` whose value is `break`'s.
    ValueLoop,
}

struct Frame {
    label: String,
    label_used: bool,
    kind: LoopKind,
    trips: usize,
    /// The magnitude, mode slope and real slope of the values a value loop breaks with.
    value: Option<(f64, f64, f64)>,
    /// Which variables (declared before the loop) have an unread write on some path out of
    /// the loop: none ran, or a `break` or `continue` left.
    exit: Vec<bool>,
}

/// A candidate leaf of a generated expression.
#[derive(Clone)]
struct Leaf {
    text: String,
    /// Magnitude, and slope: the real one outside loops, the Lipschitz weight inside.
    bound: Bound,
    reads: Vec<usize>,
    active: bool,
    preferred: bool,
}

/// A generated float expression.
#[derive(Clone)]
struct Gen {
    expr: Expr,
    /// Magnitude, and the slope in the current mode (real outside loops, Lipschitz inside).
    bound: Bound,
    /// The slope with respect to the inputs.
    real: f64,
    reads: Vec<usize>,
    active: bool,
}

/// An earlier program that later ones may call.
#[derive(Clone)]
struct Callee {
    name: String,
    bound: Bound,
    cost: f64,
    /// Takes its array by reference.
    by_ref: bool,
    /// Generic over its float type.
    float_generic: bool,
    /// A method or an associated function of `Params`.
    method: Option<Receiver>,
    /// In the module `m{K}`.
    module: Option<usize>,
    /// Asked for `hessian`: a program that asks for it calls only such programs.
    hessian: bool,
}

fn bound(mag: f64, slope: f64) -> Bound {
    Bound { mag, slope }
}

fn lit(value: f64) -> Expr {
    if value < 0.0 {
        Expr::Neg(Box::new(Expr::Lit(-value)))
    } else {
        Expr::Lit(value)
    }
}

fn var(name: &str) -> Expr {
    Expr::Var(name.to_string())
}

/// The number of operations of an expression, a cost estimate.
fn size(e: &Expr) -> f64 {
    match e {
        Expr::Var(_) | Expr::Field(..) | Expr::Lit(_) | Expr::Const(_) => 0.0,
        Expr::Neg(a) => 1.0 + size(a),
        Expr::Bin(_, a, b) => 1.0 + size(a) + size(b),
        Expr::Method { args, .. } | Expr::Call { args, .. } => {
            1.0 + args.iter().map(size).sum::<f64>()
        }
        Expr::PowI { base, .. } => 1.0 + size(base),
    }
}

const INDEX_NAMES: &[&str] = &["i", "j", "l"];
const CAST_NAMES: &[&str] = &["fi", "fj", "fl"];
const ELEMENT_NAMES: &[&str] = &["t", "u", "w"];

// ---------------------------------------------------------------------------------------------
// The generator of one program.

struct ProgGen<'r> {
    rng: &'r mut Rng,
    callees: &'r [Callee],
    env: Vec<Var>,
    /// `env.len()` where each open scope starts.
    scopes: Vec<usize>,
    loops: Vec<Frame>,
    /// `if` and `match` nesting.
    branches: usize,
    /// The product of the enclosing loops' trip counts.
    multiplier: f64,
    cost: f64,
    locals: usize,
    labels: usize,
    /// The magnitude and real slope of every `return`ed value.
    ret: Bound,
    uses_scale: bool,
    /// The next loop body must hold a nested loop.
    want_inner: bool,
    /// The next loop body must jump out of an enclosing loop by label.
    want_outer_jump: bool,
    features: Features,
    shape: Shape,
    /// Const patterns name `const` items of the body (`PHASE_*`) rather than the module's.
    const_body: bool,
    /// The values whose `const` item a pattern named.
    consts_used: [bool; 4],
    /// The constructs of issue 15 this program uses, and which of them it has used so far.
    uses: Uses,
    used: [bool; 8],
    /// The labeled blocks open here, innermost last.
    blocks: Vec<BlockFrame>,
    /// The next loop body must `break` out of the innermost labeled block.
    want_block_break: bool,
    /// The next local array becomes loop-carried state, assigned as a whole.
    want_state: bool,
    /// The state array whose `state_loop` body is being generated.
    state_body: Option<usize>,
    /// A `return` came before: grad takes what follows as inside a branch (see `fits`).
    returned: bool,
    /// Calls the module's `table`.
    uses_table: bool,
    /// Calls its module's helper `mix` that takes a closure.
    uses_mix: bool,
}

impl<'r> ProgGen<'r> {
    fn new(
        rng: &'r mut Rng,
        callees: &'r [Callee],
        shape: Shape,
        features: Features,
        uses: Uses,
    ) -> Self {
        let mut env = Vec::new();
        // A tuple parameter `p` is read as `p.0` and `p.1`, or destructured into `x1, x2`.
        let fields = shape.tuple && rng.percent(50);
        // A struct's fields `p.a` and `p.inner.b` stand for `x1` and `x2`, read in place or
        // through typed locals `let x1: f64 = p.a;`.
        let struct_fields = shape
            .strukt
            .filter(|s| s.in_place)
            .map(|s| [format!("{}.a", s.name()), format!("{}.inner.b", s.name())]);
        for i in 0..3 {
            let name = if fields && i > 0 {
                format!("p.{}", i - 1)
            } else if let Some(names) = struct_fields.as_ref().filter(|_| i > 0) {
                names[i - 1].clone()
            } else if shape.ref_x2 && i == 2 {
                "*x2".to_string()
            } else {
                format!("x{i}")
            };
            env.push(Var::new(name, Ty::Float, Role::Plain, bound(2.0, 1.0)));
        }
        let mut v = Var::new("v".to_string(), Ty::Array, Role::Plain, bound(2.0, 1.0));
        v.reference = shape.by_ref;
        v.slice = shape.slice;
        env.push(v);
        let const_body = features.const_patterns > 0 && rng.percent(50);
        let mut n = Var::new("n".to_string(), Ty::Int, Role::Count, bound(0.0, 0.0));
        n.max = PROGRAM_N_MAX;
        n.active = false;
        env.push(n);
        // A method reads `self.n`, an integer grad cannot see the type of (so no argument of
        // a call, as a pattern's binding).
        // So does a struct program `p.n`.
        let int_field = match (shape.method, shape.strukt) {
            (Some(m), _) if m.has_self() => Some(("self.n".to_string(), SELF_N)),
            (_, Some(s)) => Some((format!("{}.n", s.name()), WEIGHTS_N)),
            _ => None,
        };
        if let Some((name, max)) = int_field {
            let mut m = Var::new(name, Ty::Int, Role::Count, bound(0.0, 0.0));
            m.max = max;
            m.active = false;
            m.pending = false;
            m.read = true;
            m.bound_by_pattern = true;
            env.push(m);
        }
        ProgGen {
            rng,
            callees,
            env,
            scopes: vec![0],
            loops: Vec::new(),
            branches: 0,
            multiplier: 1.0,
            cost: 0.0,
            locals: 0,
            labels: 0,
            ret: bound(0.0, 0.0),
            uses_scale: false,
            want_inner: false,
            want_outer_jump: false,
            features,
            shape,
            const_body,
            consts_used: [false; 4],
            uses,
            used: [false; 8],
            uses_table: false,
            uses_mix: false,
            blocks: Vec::new(),
            want_block_break: false,
            want_state: false,
            state_body: None,
            returned: false,
        }
    }

    fn in_loop(&self) -> bool {
        !self.loops.is_empty()
    }

    /// A method that takes `self`, and may read its fields.
    fn has_self(&self) -> bool {
        self.shape.method.is_some_and(Method::has_self)
    }

    /// The name of an iterator closure's element: not `p` in a program whose tuple or struct
    /// parameter is `p`.
    fn pn(&self) -> &'static str {
        if self.shape.tuple || self.shape.strukt.is_some() {
            "z"
        } else {
            "p"
        }
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.locals += 1;
        format!("{prefix}{}", self.locals - 1)
    }

    fn declare(&mut self, v: Var) -> usize {
        self.env.push(v);
        self.env.len() - 1
    }

    fn pop_scope(&mut self) {
        let start = self.scopes.pop().expect("an open scope");
        while self.env.len() > start {
            let v = self.env.pop().expect("a variable");
            if let Some(k) = v.hides {
                self.env[k].hidden = false;
            }
        }
    }

    fn of_role(&self, role: Role) -> Vec<usize> {
        (0..self.env.len())
            .filter(|&k| self.env[k].role == role && self.env[k].ty == Ty::Float)
            .collect()
    }

    fn mark_read(&mut self, reads: &[usize]) {
        let nested =
            self.branches > 0 || !self.blocks.is_empty() || self.in_loop() || self.returned;
        for &k in reads {
            let v = &mut self.env[k];
            v.read = true;
            v.pending = false;
            v.read_nested |= nested && self.state_body != Some(k);
            if let Some(index) = v.of {
                self.env[index].read = true;
                self.env[index].pending = false;
            }
        }
    }

    /// Which variables have a write not read yet: `rustc` warns of a write that no path reads,
    /// so branches and loops merge the states of their paths.
    fn state(&self) -> Vec<bool> {
        self.env.iter().map(|v| v.pending).collect()
    }

    fn restore(&mut self, state: &[bool]) {
        for (v, &p) in self.env.iter_mut().zip(state) {
            v.pending = p;
        }
    }

    fn join(into: &mut Option<Vec<bool>>, state: Vec<bool>) {
        match into {
            None => *into = Some(state),
            Some(a) => {
                for (a, p) in a.iter_mut().zip(state) {
                    *a |= p;
                }
            }
        }
    }

    /// The real slope of a slope in the current mode over the variables `reads`.
    fn real_slope(&self, slope: f64, reads: &[usize]) -> f64 {
        if !self.in_loop() {
            return slope;
        }
        let ratio = reads
            .iter()
            .filter(|&&k| self.env[k].ty != Ty::Int && self.env[k].lip > 0.0)
            .map(|&k| self.env[k].bound.slope / self.env[k].lip)
            .fold(0.0, f64::max);
        slope * ratio
    }

    fn slope_of(&self, k: usize) -> f64 {
        if self.in_loop() {
            self.env[k].lip
        } else {
            self.env[k].bound.slope
        }
    }

    // --- integers ---------------------------------------------------------------------------

    /// The complete `[f64; 4]` arrays.
    fn vectors(&self) -> Vec<usize> {
        (0..self.env.len())
            .filter(|&k| self.env[k].ty == Ty::Array && !self.env[k].open && self.env[k].max == 0)
            .collect()
    }

    /// A copy of the array `k`: `v`, or `[v[0], v[1], v[2], v[3]]` of one behind a reference
    /// (grad does not differentiate through `*v`).
    fn copy_of(&self, k: usize) -> Init {
        let name = &self.env[k].name;
        if self.env[k].reference {
            Init::Elements((0..4).map(|i| var(&format!("{name}[{i}]"))).collect())
        } else {
            Init::Copy(name.clone())
        }
    }

    fn ints(&self) -> Vec<usize> {
        (0..self.env.len())
            .filter(|&k| self.env[k].ty == Ty::Int)
            .collect()
    }

    /// An index into a `[f64; 4]`: a literal, or an integer in range.
    fn index(&mut self) -> (String, Vec<usize>) {
        let ints = self.ints();
        if ints.is_empty() || self.rng.percent(30) {
            return (self.rng.below(4).to_string(), Vec::new());
        }
        if ints.len() >= 2 && self.rng.percent(15) {
            let a = ints[ints.len() - 1];
            let b = ints[self.rng.below(ints.len() - 1)];
            let text = format!("({} + {}) % 4", self.env[a].name, self.env[b].name);
            return (text, vec![a, b]);
        }
        // Prefer the innermost loop's variables.
        let k = if self.rng.percent(60) {
            *ints.last().expect("an integer")
        } else {
            self.rng.pick(&ints)
        };
        let (name, max) = (self.env[k].name.clone(), self.env[k].max);
        let text = if max <= 3 {
            if self.rng.percent(25) {
                format!("3 - {name}")
            } else {
                name
            }
        } else {
            format!("{name} % 4")
        };
        (text, vec![k])
    }

    /// A `match` scrutinee: its text, largest value and reads.
    fn scrutinee(&mut self) -> (String, usize, Vec<usize>) {
        let ints = self.ints();
        let k = if self.rng.percent(60) {
            *ints.last().expect("an integer")
        } else {
            self.rng.pick(&ints)
        };
        let (name, max) = (self.env[k].name.clone(), self.env[k].max);
        if ints.len() >= 2 && self.rng.percent(15) {
            let j = loop {
                let j = self.rng.pick(&ints);
                if j != k {
                    break j;
                }
            };
            let other = self.env[j].name.clone();
            let max = max + self.env[j].max;
            return (format!("{name} + {other}"), max, vec![k, j]);
        }
        if max >= 3 && self.rng.percent(40) {
            let m = self.rng.pick(&[2, 3, 4]);
            return (format!("{name} % {m}"), m - 1, vec![k]);
        }
        (name, max, vec![k])
    }

    /// Disjoint `match` patterns over `0..=max`, the last a wildcard.
    fn patterns(&mut self, max: usize) -> Vec<String> {
        let top = max.min(7);
        let mut pats = Vec::new();
        let mut v = 0;
        while v <= top && pats.len() < 3 {
            if self.rng.percent(20) {
                v += 1;
                continue;
            }
            match self.rng.below(4) {
                0 if v + 2 <= top => {
                    let w = 1 + self.rng.below(2).min(top - v - 1);
                    pats.push(format!("{v}..={}", v + w));
                    v += w + 1;
                }
                1 if v + 2 <= top => {
                    let (a, b) = (self.int_pattern(v, false), self.int_pattern(v + 2, false));
                    pats.push(format!("{a} | {b}"));
                    v += 3;
                }
                2 if v < top && !pats.is_empty() => {
                    pats.push(format!("g if g > {v}"));
                    break;
                }
                _ => {
                    let pat = self.int_pattern(v, true);
                    pats.push(pat);
                    v += 1;
                }
            }
        }
        if pats.is_empty() {
            pats.push("0".to_string());
        }
        // With const patterns, sometimes a binding rather than `_`: both are identifiers.
        let last = if self.features.const_patterns > 0 && self.rng.percent(25) {
            "_other"
        } else {
            "_"
        };
        pats.push(last.to_string());
        pats
    }

    /// The pattern of the value `v`: `v`, or the name of a `const` item of that value (with
    /// a guard on `n` now and then, where `guard`).
    fn int_pattern(&mut self, v: usize, guard: bool) -> String {
        let percent = self.features.const_patterns;
        if percent == 0 || v >= MODULE_CONSTS.len() || !self.rng.percent(percent) {
            return v.to_string();
        }
        self.consts_used[v] = true;
        let name = if self.const_body {
            BODY_CONSTS[v]
        } else {
            MODULE_CONSTS[v]
        };
        if guard && self.rng.percent(25) {
            self.mark_read(&[4]);
            let test = match self.rng.below(3) {
                0 => "n % 2 == 0".to_string(),
                1 => format!("n > {}", 1 + self.rng.below(3)),
                _ => "n < 4".to_string(),
            };
            return format!("{name} if {test}");
        }
        name.to_string()
    }

    fn int_cond(&mut self) -> Cond {
        let ints = self.ints();
        let k = if self.rng.percent(50) {
            *ints.last().expect("an integer")
        } else {
            self.rng.pick(&ints)
        };
        let (a, max) = (self.env[k].name.clone(), self.env[k].max.max(1));
        let mut reads = vec![k];
        let text = match self.rng.below(6) {
            0 => format!("{a} % 2 == 0"),
            1 => format!("{a} % 3 == 1"),
            2 => format!("{a} > {}", self.rng.below(max)),
            3 => format!("{a} < {}", 1 + self.rng.below(max)),
            4 if ints.len() >= 2 => {
                let j = self.rng.pick(&ints);
                if j == k {
                    format!("{a} == {}", self.rng.below(max + 1))
                } else {
                    reads.push(j);
                    let b = self.env[j].name.clone();
                    let c = 1 + self.rng.below(max + self.env[j].max.max(1));
                    if self.rng.percent(50) {
                        format!("{a} + {b} < {c}")
                    } else {
                        format!("{a} < {b}")
                    }
                }
            }
            _ => format!("{a} == {}", self.rng.below(max + 1)),
        };
        self.mark_read(&reads);
        Cond::Int(text)
    }

    // --- expressions --------------------------------------------------------------------------

    /// The leaves an expression may read: floats in scope (not accumulators inside loops),
    /// and a few elements of complete arrays.
    fn leaves(&mut self, prefer: &[usize]) -> Vec<Leaf> {
        let in_loop = self.in_loop();
        let mut leaves = Vec::new();
        let mut arrays = Vec::new();
        for k in 0..self.env.len() {
            let v = &self.env[k];
            if v.hidden {
                continue;
            }
            match v.ty {
                Ty::Float if !(in_loop && v.role == Role::Acc) => leaves.push(Leaf {
                    text: v.name.clone(),
                    bound: bound(v.bound.mag, self.slope_of(k)),
                    reads: vec![k],
                    active: v.active,
                    preferred: prefer.contains(&k)
                        || (v.pending && v.role != Role::Carried && v.role != Role::Acc),
                }),
                Ty::Array if !v.open => arrays.push(k),
                _ => {}
            }
        }
        // A method's constant fields, now and then.
        if self.has_self() {
            for (text, value) in SELF_FLOATS {
                if self.rng.percent(40) {
                    leaves.push(Leaf {
                        text: text.to_string(),
                        bound: bound(value, 0.0),
                        reads: Vec::new(),
                        active: false,
                        preferred: false,
                    });
                }
            }
        }
        // A struct's array field, indexed in place: `p.w[i]`, the values of `v`.
        if let Some(s) = self.shape.strukt
            && self.rng.percent(30)
        {
            let (index, reads) = self.index();
            leaves.push(Leaf {
                text: format!("{}.w[{index}]", s.name()),
                bound: bound(2.0, self.slope_of(3)),
                reads,
                active: true,
                preferred: false,
            });
        }
        let count = 1 + self.rng.below(3);
        for _ in 0..count {
            let a = self.rng.pick(&arrays);
            let (index, mut reads) = self.index();
            reads.push(a);
            let rows = self.env[a].max;
            let text = if rows > 0 {
                let row = self.rng.below(rows);
                format!("{}[{row}][{index}]", self.env[a].name)
            } else {
                format!("{}[{index}]", self.env[a].name)
            };
            if leaves.iter().any(|l: &Leaf| l.text == text) {
                continue;
            }
            leaves.push(Leaf {
                text,
                bound: bound(self.env[a].bound.mag, self.slope_of(a)),
                reads,
                active: self.env[a].active,
                preferred: prefer.contains(&a) || self.env[a].pending,
            });
        }
        leaves
    }

    /// A `FnGen` expression of `depth` over `leaves`.
    fn fn_expr(&mut self, depth: usize, leaves: &[Leaf]) -> Gen {
        let mut g = FnGen::new(&mut *self.rng, 0, Vec::new(), false);
        g.env = leaves
            .iter()
            .map(|l| Binding {
                name: l.text.clone(),
                bound: l.bound,
                pair: None,
                fields_read: [false; 2],
                mutable: false,
                mutated: false,
                used: !l.preferred,
                unread_write: false,
                input: false,
                shadowed: false,
                shadows: None,
            })
            .collect();
        let n = g.expr(depth);
        let uses_scale = g.uses_scale;
        self.uses_scale |= uses_scale;
        let mut reads = Vec::new();
        let mut active = false;
        n.expr.visit_names(&mut |name, _| {
            if let Some(l) = leaves.iter().find(|l| l.text == name) {
                reads.extend(l.reads.iter().copied());
                active |= l.active;
            }
        });
        let real = self.real_slope(n.bound.slope, &reads);
        Gen {
            expr: n.expr,
            bound: n.bound,
            real,
            reads,
            active,
        }
    }

    /// An expression over `leaves`; inside loops mostly without kinks, which every iteration
    /// would record.
    fn expr(&mut self, depth: usize, leaves: &[Leaf]) -> Gen {
        let mut g = self.fn_expr(depth, leaves);
        for _ in 0..4 {
            if !(self.in_loop() && g.expr.uses_margin() && self.rng.percent(75)) {
                break;
            }
            g = self.fn_expr(depth, leaves);
        }
        self.cost += self.multiplier * size(&g.expr);
        g
    }

    /// An expression, sometimes a call of an earlier program.
    fn operand(&mut self, depth: usize, prefer: &[usize]) -> Gen {
        let leaves = self.leaves(prefer);
        if self.rng.percent(12)
            && let Some(g) = self.call(&leaves)
        {
            return g;
        }
        self.expr(depth, &leaves)
    }

    /// A read of variable `k`, with its bounds.
    fn read_of(&self, k: usize) -> Gen {
        Gen {
            expr: var(&self.env[k].name),
            bound: bound(self.env[k].bound.mag, self.slope_of(k)),
            real: self.env[k].bound.slope,
            reads: vec![k],
            active: self.env[k].active,
        }
    }

    /// `g` squashed when it may exceed 1, and half the time otherwise.
    fn maybe_squashed(&mut self, g: Gen) -> Gen {
        if g.bound.mag > 1.0 || self.rng.percent(50) {
            self.squash(g)
        } else {
            g
        }
    }

    fn squash(&mut self, g: Gen) -> Gen {
        let name = self.rng.pick(&["sin", "cos", "tanh"]);
        let path = self.rng.percent(30);
        Gen {
            expr: Expr::Method {
                name,
                path,
                args: vec![g.expr],
            },
            bound: bound(1.0, g.bound.slope),
            ..g
        }
    }

    /// `prog_j(a, b, c, arr, k)` of an earlier program.
    fn call(&mut self, leaves: &[Leaf]) -> Option<Gen> {
        let room = COST_BUDGET - self.cost;
        // A program generic over its float type calls only programs that are too.
        let generic = self.shape.float_generic.is_some();
        let candidates: Vec<usize> = (0..self.callees.len())
            .filter(|&j| self.callees[j].cost * self.multiplier <= 0.4 * room)
            .filter(|&j| !generic || self.callees[j].float_generic)
            // A method taking `self` by value is called through `self` only (a free program
            // would pass a `Params`, which grad cannot tell from a float even in a typed
            // local).
            .filter(|&j| self.callees[j].method != Some(Receiver::Value) || self.has_self())
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let j = if self.rng.percent(50) {
            candidates[candidates.len() - 1 - self.rng.below(candidates.len().min(8))]
        } else {
            self.rng.pick(&candidates)
        };
        let callee = self.callees[j].clone();
        let mut args = Vec::new();
        let mut reads = Vec::new();
        let mut slope: f64 = 0.0;
        let mut active = false;
        // In a program generic over its float type, grad cannot tell the type of a constant
        // argument (a literal, `T::one()`, `T::from_usize(i).unwrap()`): "grad cannot tell
        // whether this argument is a float" (a grad bug; see the report of issue 15). There,
        // the arguments depend on the inputs, and a constant one is `x * 0.75` instead.
        let input = leaves
            .iter()
            .find(|l| l.active && !l.text.contains('['))
            .map_or_else(
                || self.read_of(0),
                |l| Gen {
                    expr: var(&l.text),
                    bound: l.bound,
                    real: l.bound.slope,
                    reads: l.reads.clone(),
                    active: true,
                },
            );
        let constant = |value: f64| -> Gen {
            if generic {
                Gen {
                    expr: bin(Op::Mul, input.expr.clone(), Expr::Lit(value)),
                    bound: bound(input.bound.mag * value, input.bound.slope * value),
                    real: input.real * value,
                    ..input.clone()
                }
            } else {
                Gen {
                    expr: Expr::Lit(value),
                    bound: bound(value, 0.0),
                    real: 0.0,
                    reads: Vec::new(),
                    active: false,
                }
            }
        };
        for _ in 0..3 {
            let roll = self.rng.below(100);
            // Not a float an enum pattern bound, whose type grad cannot tell.
            let small: Vec<&Leaf> = leaves
                .iter()
                .filter(|l| l.bound.mag <= 2.0 && !l.text.contains('[') && (l.active || !generic))
                // Nor a field of `self`, whose type grad cannot see either.
                .filter(|l| !l.text.starts_with("self."))
                .filter(|l| !l.reads.iter().any(|&k| self.env[k].bound_by_pattern))
                .collect();
            if roll < 15 {
                let c = constant(self.rng.pick(&[0.25, 0.5, 1.2, 1.5, 2.0]));
                slope = slope.max(c.bound.slope);
                active |= c.active;
                reads.extend(c.reads.iter().copied());
                args.push(c.expr);
            } else if roll < 55 && !small.is_empty() {
                let l = small[self.rng.below(small.len())].clone();
                if args
                    .iter()
                    .any(|a| matches!(a, Expr::Var(t) if *t == l.text))
                {
                    let c = constant(0.75);
                    slope = slope.max(c.bound.slope);
                    active |= c.active;
                    reads.extend(c.reads.iter().copied());
                    args.push(c.expr);
                    continue;
                }
                slope = slope.max(l.bound.slope);
                active |= l.active;
                reads.extend(l.reads.iter().copied());
                args.push(var(&l.text));
            } else {
                let depth = 1 + self.rng.below(2);
                let g = self.expr(depth, leaves);
                let g = if generic && !g.active {
                    constant(0.5)
                } else {
                    g
                };
                let g = self.squash(g);
                slope = slope.max(2.0 * g.bound.slope);
                active |= g.active;
                reads.extend(g.reads.iter().copied());
                let e = if self.rng.percent(50) {
                    g.expr
                } else {
                    bin(Op::Mul, g.expr, Expr::Lit(2.0))
                };
                args.push(e);
            }
        }
        // The array: `v` or a complete local array within [-2, 2]; `&a` to a callee that
        // takes it by reference (`v` itself when it is a reference already), and to one that
        // takes it by value, an array not behind a reference or `[v[0], v[1], v[2], v[3]]`.
        // Not an array assigned as a whole (see `fits`).
        let arrays: Vec<usize> = (0..self.env.len())
            .filter(|&k| {
                let a = &self.env[k];
                a.ty == Ty::Array
                    && !a.open
                    && a.max == 0
                    && a.bound.mag <= 2.0
                    && !a.sized_n
                    && a.role != Role::Carried
            })
            .collect();
        let mut a = if self.rng.percent(60) {
            3
        } else {
            self.rng.pick(&arrays)
        };
        if callee.by_ref && self.env[a].slice {
            // A slice is no `&[f64; 4]`: another array, or no call.
            let others: Vec<usize> = arrays
                .iter()
                .copied()
                .filter(|&k| !self.env[k].slice)
                .collect();
            if others.is_empty() {
                return None;
            }
            a = self.rng.pick(&others);
        }
        reads.push(a);
        active |= self.env[a].active;
        slope = slope.max(self.slope_of(a));
        let an = self.env[a].name.clone();
        let arg = match (callee.by_ref, self.env[a].reference) {
            (true, true) | (false, false) => an,
            (true, false) => format!("&{an}"),
            (false, true) if DEREF_ARRAY_ARGS && !self.env[a].slice && self.rng.percent(50) => {
                format!("*{an}")
            }
            (false, true) => format!("[{an}[0], {an}[1], {an}[2], {an}[3]]"),
        };
        args.push(var(&arg));
        // The count: within 0..=N_MAX.
        let ints: Vec<usize> = self
            .ints()
            .into_iter()
            .filter(|&k| self.env[k].max <= PROGRAM_N_MAX && !self.env[k].bound_by_pattern)
            .collect();
        let count = if ints.is_empty() || self.rng.percent(25) {
            self.rng.below(PROGRAM_N_MAX + 1).to_string()
        } else {
            let k = self.rng.pick(&ints);
            reads.push(k);
            self.env[k].name.clone()
        };
        args.push(var(&count));
        self.cost += self.multiplier * (callee.cost + 1.0);
        let real = self.real_slope(callee.bound.slope * slope, &reads);
        // A generic callee, sometimes with its type named: `prog_3::<T>` or `prog_3::<f64>`.
        let name = if callee.float_generic && self.rng.percent(30) {
            let ty = if generic { "T" } else { "f64" };
            format!("{}::<{ty}>", callee.name)
        } else {
            callee.name.clone()
        };
        // A method: `self.prog_J(..)` in a method, elsewhere `Params::prog_J(prm, ..)` (or
        // `Self::prog_J(prm, ..)` in an associated function); an associated function:
        // `Self::prog_J(..)` in the impl, `Params::prog_J(..)` outside it.
        let in_impl = self.shape.method.is_some();
        // A program of a module: by its name in the module, `mK::prog_J` elsewhere.
        let name = match callee.module {
            Some(m) if self.shape.module != Some(m) => format!("m{m}::{name}"),
            _ => name,
        };
        let name = match callee.method {
            None => name,
            Some(Receiver::Ref | Receiver::Value) if self.has_self() => format!("self.{name}"),
            Some(receiver) => {
                if receiver != Receiver::Assoc {
                    args.insert(0, var(PARAMS_LOCAL));
                }
                let ty = if in_impl && self.rng.percent(70) {
                    "Self"
                } else {
                    "Params"
                };
                format!("{ty}::{name}")
            }
        };
        Some(Gen {
            expr: Expr::Call { name, args },
            bound: bound(callee.bound.mag, callee.bound.slope * slope),
            real,
            reads,
            active,
        })
    }

    /// A float comparison of an active expression, usually with a threshold.
    fn float_cond(&mut self) -> Cond {
        let mut lhs = None;
        for _ in 0..6 {
            let depth = 1 + self.rng.below(2);
            let g = self.operand(depth, &[]);
            if g.active {
                lhs = Some(g);
                break;
            }
        }
        let lhs = lhs.unwrap_or_else(|| {
            let carried = self.of_role(Role::Carried);
            let k = if carried.is_empty() || self.rng.percent(30) {
                self.rng.below(3)
            } else {
                self.rng.pick(&carried)
            };
            Gen {
                active: true,
                ..self.read_of(k)
            }
        });
        self.comparison(lhs, |this| {
            let leaves = this.leaves(&[]);
            let depth = this.rng.below(2);
            this.expr(depth, &leaves)
        })
    }

    /// `lhs` compared with a threshold (60% of the time) or with `other`'s expression, which
    /// is never `lhs` itself.
    fn comparison(&mut self, lhs: Gen, other: impl FnOnce(&mut Self) -> Gen) -> Cond {
        self.mark_read(&lhs.reads);
        let rhs = if self.rng.percent(60) {
            let thresholds: &[f64] = if lhs.bound.mag <= 1.5 {
                &[-0.5, -0.25, 0.0, 0.25, 0.5]
            } else {
                &[-1.0, -0.5, 0.0, 0.5, 1.0]
            };
            lit(self.rng.pick(thresholds))
        } else {
            let g = other(self);
            self.mark_read(&g.reads);
            if same(&g.expr, &lhs.expr) {
                // `x2 <= x2` never flips, but the mirror would take it for a tie.
                Expr::Lit(0.5)
            } else {
                g.expr
            }
        };
        let op = self.rng.pick(&[">", "<", ">=", "<="]);
        Cond::Cmp(lhs.expr, op, rhs)
    }

    fn cond(&mut self) -> Cond {
        match self.rng.below(100) {
            0..=59 => self.float_cond(),
            60..=74 => {
                let (f, i) = (self.float_cond(), self.int_cond());
                if self.rng.percent(50) {
                    Cond::And(Box::new(f), Box::new(i))
                } else {
                    Cond::And(Box::new(i), Box::new(f))
                }
            }
            75..=84 => {
                let (f, i) = (self.float_cond(), self.int_cond());
                Cond::Or(Box::new(f), Box::new(i))
            }
            85..=92 => self.int_cond(),
            _ => {
                let i = self.int_cond();
                if self.rng.percent(50) {
                    Cond::Not(Box::new(i))
                } else {
                    let f = self.float_cond();
                    Cond::Not(Box::new(Cond::And(Box::new(i), Box::new(f))))
                }
            }
        }
    }

    // --- updates ------------------------------------------------------------------------------

    /// The largest coefficient `c2` with `c1 + c2 slope <= RHO`.
    fn coefficient(c1: f64, slope: f64) -> f64 {
        COEFFICIENTS
            .iter()
            .copied()
            .find(|c2| c1 + c2 * slope <= RHO)
            .unwrap_or(0.005)
    }

    /// `s = c1 s + c2 e` in one of several forms, a contraction in `s` and the state.
    fn carried_update(&mut self, k: usize, given: Option<Gen>, out: &mut Vec<S>) {
        let g = given.unwrap_or_else(|| {
            let depth = 1 + usize::from(self.rng.percent(35));
            self.operand(depth, &[k])
        });
        self.mark_read(&g.reads);
        let name = self.env[k].name.clone();
        let s = var(&name);
        let c1 = self.rng.pick(&[0.5, 0.6, 0.75, 0.8]);
        let form = self.rng.below(6);
        // Forms 0-3 squash e unless it is small already.
        let e = if form < 4 && (g.bound.mag > 1.0 || self.rng.percent(50)) {
            self.squash(g)
        } else {
            g
        };
        let c2 = Self::coefficient(c1, e.bound.slope);
        let (c1l, c2l) = (Expr::Lit(c1), Expr::Lit(c2));
        let old = self.env[k].bound;
        // In a branch (or a labeled block, which a `break` may leave first), the other path
        // keeps the old value: the bound never shrinks there (an `if`'s arm lowering it let the
        // `else` arm's update, `s0 = 0.6 * s0 + 0.5 * f64::powi(s0, 3)`, take `s0` for small,
        // and diverge to NaN: the `0x180001` campaign of FINDINGS.md, gen18).
        let keeps_old = self.branches > 0 || !self.blocks.is_empty();
        let mut mag = if self.in_loop() {
            old.mag.max(c2 * e.bound.mag / (1.0 - c1))
        } else if keeps_old {
            old.mag.max(c1 * old.mag + c2 * e.bound.mag)
        } else {
            c1 * old.mag + c2 * e.bound.mag
        };
        match form {
            0 => out.push(S::Assign {
                target: name,
                op: None,
                value: bin(
                    Op::Add,
                    bin(Op::Mul, s, c1l),
                    bin(Op::Mul, e.expr.clone(), c2l),
                ),
            }),
            1 => out.push(S::Assign {
                target: name,
                op: None,
                value: bin(
                    Op::Add,
                    bin(Op::Mul, c1l, s),
                    bin(Op::Mul, c2l, e.expr.clone()),
                ),
            }),
            2 => {
                out.push(S::Assign {
                    target: name.clone(),
                    op: Some(Op::Mul),
                    value: c1l,
                });
                let op = if self.rng.percent(70) {
                    Op::Add
                } else {
                    Op::Sub
                };
                out.push(S::Assign {
                    target: name,
                    op: Some(op),
                    value: bin(Op::Mul, c2l, e.expr.clone()),
                });
            }
            3 => out.push(S::Assign {
                target: name,
                op: None,
                value: Expr::Method {
                    name: "mul_add",
                    path: self.rng.percent(30),
                    args: vec![s, c1l, bin(Op::Mul, e.expr.clone(), c2l)],
                },
            }),
            _ => {
                // `s = (s * c1 + e * c2).sin()`: within [-1, 1].
                let f = self.rng.pick(&["sin", "tanh"]);
                out.push(S::Assign {
                    target: name,
                    op: None,
                    value: Expr::Method {
                        name: f,
                        path: false,
                        args: vec![bin(
                            Op::Add,
                            bin(Op::Mul, s, c1l),
                            bin(Op::Mul, e.expr.clone(), c2l),
                        )],
                    },
                });
                mag = if self.in_loop() || keeps_old {
                    old.mag.max(1.0)
                } else {
                    1.0
                };
            }
        }
        self.cost += self.multiplier * 3.0;
        let v = &mut self.env[k];
        v.bound.mag = mag;
        if self.loops.is_empty() {
            v.bound.slope = c1 * old.slope + c2 * e.real;
        }
        v.active |= e.active;
        v.mutated = true;
        v.read = true;
        v.pending = true;
    }

    /// `acc += c e`; inside loops `e` is squashed and `c` keeps the growth small.
    fn acc_update(&mut self, k: usize, given: Option<Gen>, out: &mut Vec<S>) {
        let g = given.unwrap_or_else(|| {
            let depth = 1 + self.rng.below(2);
            self.operand(depth, &[])
        });
        self.mark_read(&g.reads);
        let name = self.env[k].name.clone();
        let g = if g.bound.mag > 1.5 || (self.in_loop() && self.rng.percent(50)) {
            self.squash(g)
        } else {
            g
        };
        let m = self.multiplier;
        let c = COEFFICIENTS
            .iter()
            .copied()
            .find(|c| m * c * g.bound.mag <= 2.0 && c * g.bound.slope <= 4.0)
            .unwrap_or(0.005);
        let op = if self.rng.percent(65) {
            Op::Add
        } else {
            Op::Sub
        };
        let value = if c == 1.0 {
            g.expr.clone()
        } else if self.rng.percent(50) {
            bin(Op::Mul, g.expr.clone(), Expr::Lit(c))
        } else {
            bin(Op::Mul, Expr::Lit(c), g.expr.clone())
        };
        out.push(S::Assign {
            target: name,
            op: Some(op),
            value,
        });
        self.cost += m * 2.0;
        let v = &mut self.env[k];
        v.bound.mag += m * c * g.bound.mag;
        v.bound.slope += m * c * g.real;
        v.active |= g.active;
        v.mutated = true;
        v.read = true;
        v.pending = true;
    }

    /// An update of a random carried variable or accumulator.
    fn update(&mut self, out: &mut Vec<S>) {
        let carried = self.of_role(Role::Carried);
        let accs = self.of_role(Role::Acc);
        if !accs.is_empty() && (carried.is_empty() || self.rng.percent(35)) {
            let k = self.rng.pick(&accs);
            self.acc_update(k, None, out);
        } else {
            let k = self.rng.pick(&carried);
            self.carried_update(k, None, out);
        }
    }

    /// Reads the floats of the current scope that were never read: an update of a carried
    /// variable or accumulator over them.
    fn close_scope(&mut self, out: &mut Vec<S>) {
        let start = *self.scopes.last().expect("a scope");
        let pending: Vec<usize> = (start..self.env.len())
            .filter(|&k| {
                let v = &self.env[k];
                v.ty == Ty::Float && v.pending && v.role != Role::Cast
            })
            .collect();
        if pending.is_empty() {
            return;
        }
        let mut acc: Option<Gen> = None;
        for k in pending {
            let leaf = self.read_of(k);
            let term = self.maybe_squashed(leaf);
            acc = Some(match acc {
                None => term,
                Some(a) => {
                    let op = if self.rng.percent(60) {
                        Op::Add
                    } else {
                        Op::Sub
                    };
                    let mut reads = a.reads;
                    reads.extend(term.reads);
                    Gen {
                        expr: bin(op, a.expr, term.expr),
                        bound: bound(
                            a.bound.mag + term.bound.mag,
                            a.bound.slope + term.bound.slope,
                        ),
                        real: a.real + term.real,
                        reads,
                        active: a.active || term.active,
                    }
                }
            });
        }
        let g = acc.expect("a term");
        let accs: Vec<usize> = self
            .of_role(Role::Acc)
            .into_iter()
            .filter(|&k| k < start)
            .collect();
        let carried: Vec<usize> = self
            .of_role(Role::Carried)
            .into_iter()
            .filter(|&k| k < start)
            .collect();
        if !accs.is_empty() && (carried.is_empty() || self.rng.percent(50)) {
            let k = self.rng.pick(&accs);
            self.acc_update(k, Some(g), out);
        } else {
            let k = self.rng.pick(&carried);
            self.carried_update(k, Some(g), out);
        }
    }

    // --- statements ---------------------------------------------------------------------------

    fn bind_float(&mut self, name: String, g: &Gen) -> usize {
        let mut v = Var::new(name, Ty::Float, Role::Plain, bound(g.bound.mag, g.real));
        v.lip = if self.in_loop() { g.bound.slope } else { 1.0 };
        v.active = g.active;
        // A copy of a float a pattern bound (`let v16 = hi15;`) is no more a call's argument
        // than the float itself: grad cannot tell its type either.
        let mut e = &g.expr;
        while let Expr::Neg(a) = e {
            e = a;
        }
        if let Expr::Var(name) = e {
            v.bound_by_pattern = self
                .env
                .iter()
                .rev()
                .find(|w| w.name == *name)
                .is_some_and(|w| w.bound_by_pattern);
        }
        self.declare(v)
    }

    /// `let v = e;`
    fn let_expr(&mut self, out: &mut Vec<S>) {
        let depth = 1 + self.rng.below(2);
        let g = self.operand(depth, &[]);
        self.mark_read(&g.reads);
        let name = self.fresh("v");
        out.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: self.rng.percent(15),
            init: Init::Expr(g.expr.clone()),
        });
        self.bind_float(name, &g);
    }

    /// `let v = prog_j(..);`
    fn let_call(&mut self, out: &mut Vec<S>) {
        let leaves = self.leaves(&[]);
        match self.call(&leaves) {
            Some(g) => {
                self.mark_read(&g.reads);
                let name = self.fresh("v");
                out.push(S::Let {
                    name: name.clone(),
                    mutable: false,
                    typed: self.rng.percent(30),
                    init: Init::Expr(g.expr.clone()),
                });
                self.bind_float(name, &g);
            }
            None => self.let_expr(out),
        }
    }

    /// A block's value: maybe a local, an update or a loop first, then a tail.
    fn value_block(&mut self, diverges: bool) -> (Block, Gen) {
        self.value_block_with(diverges, Prelude::None)
    }

    /// [`Self::value_block`] starting with `prelude`.
    fn value_block_with(&mut self, diverges: bool, prelude: Prelude) -> (Block, Gen) {
        self.returned |= diverges;
        self.scopes.push(self.env.len());
        let mut stmts = Vec::new();
        let mut prefer: Vec<usize> = self.prelude(prelude, &mut stmts).into_iter().collect();
        if !diverges && self.loops.len() < 2 && self.cost < COST_BUDGET && self.rng.percent(8) {
            self.for_loop(&mut stmts);
        }
        if !diverges && self.rng.percent(8) {
            self.shadow(&mut stmts);
        }
        if self.rng.percent(35) {
            let depth = 1 + self.rng.below(2);
            let g = self.operand(depth, &[]);
            self.mark_read(&g.reads);
            let name = self.fresh("v");
            stmts.push(S::Let {
                name: name.clone(),
                mutable: false,
                typed: false,
                init: Init::Expr(g.expr.clone()),
            });
            prefer.push(self.bind_float(name, &g));
        }
        // Not before a `return`, which would leave the write unread.
        if !diverges && self.rng.percent(15) {
            self.update(&mut stmts);
        }
        let depth = 1 + self.rng.below(2);
        let mut tail = self.operand(depth, &prefer);
        self.mark_read(&tail.reads);
        let start = *self.scopes.last().expect("a scope");
        let pending: Vec<usize> = (start..self.env.len())
            .filter(|&k| self.env[k].ty == Ty::Float && self.env[k].pending)
            .collect();
        for k in pending {
            let leaf = self.read_of(k);
            let s = self.squash(leaf);
            tail = Gen {
                expr: bin(Op::Add, tail.expr, s.expr),
                bound: bound(tail.bound.mag + 1.0, tail.bound.slope + s.bound.slope),
                real: tail.real + s.real,
                reads: [tail.reads, s.reads].concat(),
                active: tail.active || s.active,
            };
        }
        if tail.expr.is_leaf() {
            tail = self.squash(tail);
        }
        self.mark_read(&tail.reads);
        self.pop_scope();
        (
            Block {
                stmts,
                tail: tail.expr.clone(),
                diverges,
            },
            tail,
        )
    }

    fn merge(gens: &[Gen]) -> Gen {
        let mut g = gens[0].clone();
        for h in &gens[1..] {
            g.bound.mag = g.bound.mag.max(h.bound.mag);
            g.bound.slope = g.bound.slope.max(h.bound.slope);
            g.real = g.real.max(h.real);
            g.active |= h.active;
            g.reads.extend(h.reads.iter().copied());
        }
        g
    }

    /// `let x1 = e(x1, ..);`, hiding a float declared outside the current block.
    fn shadow(&mut self, out: &mut Vec<S>) {
        let start = *self.scopes.last().expect("a scope");
        let candidates: Vec<usize> = (0..start)
            .filter(|&k| {
                let v = &self.env[k];
                v.ty == Ty::Float
                    && v.role == Role::Plain
                    && !v.hidden
                    && !v.name.contains('.')
                    && !v.name.starts_with('*')
            })
            .collect();
        if candidates.is_empty() {
            return self.let_expr(out);
        }
        let k = self.rng.pick(&candidates);
        let depth = 1 + self.rng.below(2);
        let g = self.operand(depth, &[k]);
        self.mark_read(&g.reads);
        let name = self.env[k].name.clone();
        out.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: self.rng.percent(15),
            init: Init::Expr(g.expr.clone()),
        });
        self.env[k].hidden = true;
        let j = self.bind_float(name, &g);
        self.env[j].hides = Some(k);
    }

    /// `let v = if c { .. } else if c { .. } else { .. };`
    fn let_if(&mut self, out: &mut Vec<S>) {
        self.branches += 1;
        let mut arms = Vec::new();
        let mut gens = Vec::new();
        let mut joined = None;
        for _ in 0..1 + self.rng.below(2) {
            let cond = self.cond();
            let tested = self.state();
            let (block, g) = self.value_block(false);
            Self::join(&mut joined, self.state());
            self.restore(&tested);
            arms.push((cond, block));
            gens.push(g);
        }
        // Sometimes `else { return e }`: a branch that leaves the function.
        let diverges = self.rng.percent(12);
        let (otherwise, g) = self.value_block(diverges);
        if diverges {
            self.ret.mag = self.ret.mag.max(g.bound.mag);
            self.ret.slope = self.ret.slope.max(g.real);
        } else {
            Self::join(&mut joined, self.state());
            gens.push(g);
        }
        self.restore(&joined.expect("a state"));
        self.branches -= 1;
        let g = Self::merge(&gens);
        let name = self.fresh("v");
        out.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: self.rng.percent(20),
            init: Init::If(arms, otherwise),
        });
        self.bind_float(name, &g);
    }

    /// `let v = match k { .. };`
    fn let_match(&mut self, out: &mut Vec<S>) {
        let (scrutinee, max, reads) = self.scrutinee();
        self.mark_read(&reads);
        let pats = self.patterns(max);
        self.branches += 1;
        let mut arms = Vec::new();
        let mut gens = Vec::new();
        let before = self.state();
        let mut joined = None;
        for pat in pats {
            self.restore(&before);
            let (block, g) = self.value_block(false);
            Self::join(&mut joined, self.state());
            arms.push((pat, block));
            gens.push(g);
        }
        self.restore(&joined.expect("a state"));
        self.branches -= 1;
        let g = Self::merge(&gens);
        let name = self.fresh("v");
        out.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: false,
            init: Init::Match(scrutinee, arms),
        });
        self.bind_float(name, &g);
    }

    /// The statements of a branch: updates, maybe through a local or a call.
    fn branch_body(&mut self) -> Vec<S> {
        self.branch_body_with(Prelude::None)
    }

    /// [`Self::branch_body`] starting with `prelude`.
    fn branch_body_with(&mut self, prelude: Prelude) -> Vec<S> {
        self.scopes.push(self.env.len());
        let mut out = Vec::new();
        self.prelude(prelude, &mut out);
        for _ in 0..1 + self.rng.below(2) {
            if self.extra(&mut out, Site::Branch) {
                continue;
            }
            match self.rng.below(100) {
                0..=44 => self.update(&mut out),
                45..=59 => self.let_expr(&mut out),
                60..=67 => self.let_call(&mut out),
                68..=75 if self.branches < 2 => {
                    self.update(&mut out);
                    self.if_stmt(&mut out);
                }
                76..=83 if self.in_loop() => {
                    self.update(&mut out);
                    self.jump(&mut out, false);
                }
                84..=89 if self.loops.len() < 2 && self.cost < COST_BUDGET => {
                    if self.rng.percent(70) {
                        self.for_loop(&mut out);
                    } else {
                        self.while_loop(&mut out);
                    }
                }
                90..=95 => self.shadow(&mut out),
                _ => self.update(&mut out),
            }
        }
        self.close_scope(&mut out);
        self.pop_scope();
        out
    }

    /// `if c { .. } else if c { .. } else { .. }` updating variables.
    fn if_stmt(&mut self, out: &mut Vec<S>) {
        self.branches += 1;
        let mut arms = Vec::new();
        let mut joined = None;
        for _ in 0..1 + self.rng.below(2) {
            let cond = self.cond();
            let tested = self.state();
            let body = self.branch_body();
            Self::join(&mut joined, self.state());
            self.restore(&tested);
            arms.push((cond, body));
        }
        let otherwise = if self.rng.percent(60) {
            Some(self.branch_body())
        } else {
            None
        };
        Self::join(&mut joined, self.state());
        self.restore(&joined.expect("a state"));
        self.branches -= 1;
        out.push(S::If(arms, otherwise));
    }

    /// `match k { .. }` updating variables.
    fn match_stmt(&mut self, out: &mut Vec<S>, scrutinee: Option<(String, usize, Vec<usize>)>) {
        let (scrutinee, max, reads) = scrutinee.unwrap_or_else(|| self.scrutinee());
        self.mark_read(&reads);
        let pats = self.patterns(max);
        self.branches += 1;
        let mut arms = Vec::new();
        let before = self.state();
        let mut joined = None;
        for pat in pats {
            self.restore(&before);
            let body = self.branch_body();
            Self::join(&mut joined, self.state());
            arms.push((pat, body));
        }
        self.restore(&joined.expect("a state"));
        self.branches -= 1;
        out.push(S::Match(scrutinee, arms));
    }

    /// `let v = <iterator idiom>;` over `v` or a complete local array.
    fn let_iter(&mut self, out: &mut Vec<S>) {
        let arrays = self.vectors();
        let a = self.rng.pick(&arrays);
        if self.env[a].slice && self.rng.percent(35) {
            return self.fold_extreme(a, out);
        }
        let b = self.rng.pick(&arrays);
        let (an, bn) = (self.env[a].name.clone(), self.env[b].name.clone());
        let lip = |g: &Self, k: usize| g.slope_of(k);
        let param = |g: &Self, name: &str, k: usize| Leaf {
            text: name.to_string(),
            bound: bound(g.env[k].bound.mag, lip(g, k)),
            reads: vec![k],
            active: g.env[k].active,
            preferred: true,
        };
        // Not `p` in a program whose tuple parameter is `p`.
        let pn = self.pn();
        let kind = self.rng.below(6);
        let (source, pat, params) = match kind {
            0 | 4 => (
                format!("{an}.iter()"),
                format!("&{pn}"),
                vec![param(self, pn, a)],
            ),
            1 => (
                format!("{an}.iter().copied()"),
                pn.to_string(),
                vec![param(self, pn, a)],
            ),
            2 => (
                format!("{an}.iter().zip({bn}.iter())"),
                format!("(&{pn}, &q)"),
                vec![param(self, pn, a), param(self, "q", b)],
            ),
            _ => (
                format!("{an}.iter()"),
                format!("&{pn}"),
                vec![param(self, pn, a)],
            ),
        };
        let mut leaves = params.clone();
        let outer = self.leaves(&[]);
        leaves.extend(outer);
        let fold = kind == 3 || kind == 5;
        let mut init_gen = None;
        if fold {
            // The fold's accumulator `r` within [-2, 2].
            let init = self.operand(0, &[]);
            let init = if init.bound.mag > 2.0 {
                self.squash(init)
            } else {
                init
            };
            leaves.push(Leaf {
                text: "r".to_string(),
                bound: bound(init.bound.mag.max(2.0), 1.0),
                reads: Vec::new(),
                active: true,
                preferred: true,
            });
            init_gen = Some(init);
        }
        let depth = 1 + self.rng.below(2);
        let mut body = None;
        if self.rng.percent(35) {
            // A call inside the closure, once per element (when a callee is cheap enough).
            self.multiplier *= 4.0;
            body = self.call(&leaves);
            self.multiplier /= 4.0;
        }
        let mut body = match body {
            Some(g) => g,
            None => self.expr(depth, &leaves),
        };
        // Every closure parameter is read.
        for p in &params {
            let read = {
                let mut found = false;
                body.expr
                    .visit_names(&mut |name, _| found |= name == p.text);
                found
            };
            if !read {
                let s = self.squash(Gen {
                    expr: var(&p.text),
                    bound: p.bound,
                    real: 0.0,
                    reads: p.reads.clone(),
                    active: p.active,
                });
                body.expr = bin(Op::Add, body.expr, s.expr);
                body.bound = bound(body.bound.mag + 1.0, body.bound.slope + s.bound.slope);
            }
        }
        for p in &params {
            body.reads.extend(p.reads.iter().copied());
        }
        self.mark_read(&body.reads);
        // Read in the closure, which grad runs as a loop.
        for &k in &body.reads {
            self.env[k].read_nested = true;
        }
        let real_body = self
            .real_slope(body.bound.slope, &body.reads)
            .max(body.real);
        let (kind, g) = match init_gen {
            Some(init) => {
                self.mark_read(&init.reads);
                let c1 = self.rng.pick(&[0.5, 0.75]);
                let s = self.squash(body);
                let c2 = Self::coefficient(c1, s.bound.slope);
                let step = bin(
                    Op::Add,
                    bin(Op::Mul, var("r"), Expr::Lit(c1)),
                    bin(Op::Mul, Expr::Lit(c2), s.expr),
                );
                let mag = init.bound.mag.max(c2 / (1.0 - c1));
                let g = Gen {
                    expr: step,
                    bound: bound(mag, init.bound.slope + 4.0 * c2 * s.bound.slope),
                    real: init.real + 4.0 * c2 * real_body,
                    reads: s.reads.clone(),
                    active: true,
                };
                (IterKind::Fold(init.expr), g)
            }
            None if self.rng.percent(25) => {
                let c = self.rng.pick(&[0.1, 0.25]);
                let s = self.squash(body);
                let factor = bin(Op::Add, Expr::Lit(1.0), bin(Op::Mul, Expr::Lit(c), s.expr));
                let g = Gen {
                    expr: factor,
                    bound: bound(
                        (1.0 + c).powi(4),
                        4.0 * (1.0 + c).powi(3) * c * s.bound.slope,
                    ),
                    real: 4.0 * (1.0 + c).powi(3) * c * real_body,
                    reads: s.reads.clone(),
                    active: true,
                };
                (IterKind::Product, g)
            }
            None => {
                let g = Gen {
                    bound: bound(4.0 * body.bound.mag, 4.0 * body.bound.slope),
                    real: 4.0 * real_body,
                    ..body.clone()
                };
                (IterKind::Sum, g)
            }
        };
        self.cost += self.multiplier * 4.0 * size(&g.expr);
        let it = Iter {
            source,
            kind,
            pat,
            body: g.expr.clone(),
        };
        let name = self.fresh("v");
        out.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: false,
            init: Init::Iter(it),
        });
        self.bind_float(name, &g);
    }

    /// `let v = s.iter().fold(f64::NEG_INFINITY, |r, &p| r.max(e));` over the slice `s` (or
    /// the minimum from `f64::INFINITY`), `e` reading the element `p` (or `p` itself).
    fn fold_extreme(&mut self, a: usize, out: &mut Vec<S>) {
        // Not `p` in a program whose tuple parameter is `p`.
        let pn = self.pn();
        let p = Leaf {
            text: pn.to_string(),
            bound: bound(self.env[a].bound.mag, self.slope_of(a)),
            reads: vec![a],
            active: self.env[a].active,
            preferred: true,
        };
        let mut body = if self.rng.percent(30) {
            Gen {
                expr: var(pn),
                bound: p.bound,
                real: self.env[a].bound.slope,
                reads: vec![a],
                active: p.active,
            }
        } else {
            let mut leaves = vec![p.clone()];
            leaves.extend(self.leaves(&[]));
            let depth = 1 + self.rng.below(2);
            self.expr(depth, &leaves)
        };
        let mut read = false;
        body.expr.visit_names(&mut |name, _| read |= name == pn);
        if !read {
            body.expr = bin(Op::Add, body.expr, var(pn));
            body.bound = bound(
                body.bound.mag + p.bound.mag,
                body.bound.slope + p.bound.slope,
            );
            body.active |= p.active;
        }
        body.reads.push(a);
        self.mark_read(&body.reads);
        for &k in &body.reads {
            self.env[k].read_nested = true;
        }
        let real = self
            .real_slope(body.bound.slope, &body.reads)
            .max(body.real);
        let (init, method) = if self.rng.percent(50) {
            ("f64::NEG_INFINITY", "max")
        } else {
            ("f64::INFINITY", "min")
        };
        let step = Expr::Method {
            name: method,
            path: false,
            args: vec![var("r"), body.expr.clone()],
        };
        self.cost += self.multiplier * 4.0 * size(&step);
        let it = Iter {
            source: format!("{}.iter()", self.env[a].name),
            kind: IterKind::Fold(Expr::Const(init.to_string())),
            pat: format!("&{pn}"),
            body: step,
        };
        let name = self.fresh("v");
        out.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: false,
            init: Init::Iter(it),
        });
        let g = Gen {
            expr: var(&name),
            bound: body.bound,
            real,
            reads: body.reads,
            active: body.active,
        };
        self.bind_float(name, &g);
    }

    // --- loops ---------------------------------------------------------------------------------

    /// Enters a loop: every carried variable's real slope becomes the state's bound.
    fn enter_loop(&mut self, kind: LoopKind, trips: usize) {
        let lambda = self
            .env
            .iter()
            .filter(|v| v.ty != Ty::Int && v.role != Role::Acc)
            .map(|v| v.bound.slope)
            .fold(0.0, f64::max);
        for v in &mut self.env {
            if v.role == Role::Carried {
                v.bound.slope = v.bound.slope.max(lambda);
            }
        }
        let label = format!("'l{}", self.labels);
        self.labels += 1;
        self.loops.push(Frame {
            label,
            label_used: false,
            kind,
            trips,
            value: None,
            exit: self.state(),
        });
        self.multiplier *= trips as f64;
        self.scopes.push(self.env.len());
    }

    /// Ends the body of a `for i in 0..n` loop over a local array (sometimes with an update of
    /// another variable, `update_percent` of the time, and a cast first) and adds the loop.
    fn close_counted_loop(&mut self, mut body: Vec<S>, update_percent: u64, out: &mut Vec<S>) {
        if self.rng.percent(update_percent) {
            self.update(&mut body);
        }
        self.close_for(body, "i", "0..n", out);
    }

    /// Ends the body of a top-level `for pat in iter` loop (sometimes with a cast first) and
    /// adds the loop.
    fn close_for(&mut self, mut body: Vec<S>, pat: &str, iter: &str, out: &mut Vec<S>) {
        let cast = self.cast_stmt(0);
        let (label, _) = self.leave_loop(&mut body);
        if let Some(c) = cast {
            body.insert(0, c);
        }
        out.push(S::For {
            label,
            pat: pat.to_string(),
            iter: iter.to_string(),
            body,
        });
    }

    /// Leaves a loop: its label if a jump used it, and the value loop's break values.
    fn leave_loop(&mut self, body: &mut Vec<S>) -> (Option<String>, Option<(f64, f64, f64)>) {
        self.close_scope(body);
        let end = self.state();
        self.pop_scope();
        let frame = self.loops.pop().expect("a loop");
        self.multiplier /= frame.trips as f64;
        let mut exit = Some(frame.exit);
        Self::join(&mut exit, end);
        self.restore(&exit.expect("a state"));
        let label = frame.label_used.then_some(frame.label);
        (label, frame.value)
    }

    /// Random statements of a loop body.
    fn loop_statements(&mut self, body: &mut Vec<S>) {
        let depth = self.loops.len();
        let inner = std::mem::take(&mut self.want_inner);
        let outer_jump = std::mem::take(&mut self.want_outer_jump);
        let block_break = std::mem::take(&mut self.want_block_break);
        let count = 2 + self.rng.below(2);
        let inner_at = if inner { self.rng.below(count) } else { count };
        let block_at = if block_break {
            self.rng.below(count)
        } else {
            count
        };
        let mut jumped_out = false;
        for s in 0..count {
            if s == block_at {
                self.block_break(body);
                if s != inner_at {
                    continue;
                }
            }
            if s == inner_at {
                self.want_outer_jump = true;
                self.update(body);
                if self.rng.percent(50) {
                    self.for_loop(body);
                } else {
                    self.while_loop(body);
                }
                // Unused if no loop could be nested here.
                self.want_outer_jump = false;
                continue;
            }
            if outer_jump && !jumped_out && (s == count - 1 || self.rng.percent(40)) {
                jumped_out = true;
                self.jump(body, true);
                continue;
            }
            let over_budget = self.cost > COST_BUDGET;
            if self.extra(body, Site::Loop) {
                continue;
            }
            match self.rng.below(104) {
                0..=21 => self.update(body),
                22..=31 => {
                    let accs = self.of_role(Role::Acc);
                    if accs.is_empty() {
                        self.update(body);
                    } else {
                        let k = self.rng.pick(&accs);
                        self.acc_update(k, None, body);
                    }
                }
                32..=43 => self.let_expr(body),
                44..=48 => self.let_iter(body),
                49..=53 => self.let_if(body),
                54..=57 => self.let_match(body),
                58..=67 => self.if_stmt(body),
                68..=73 => self.match_stmt(body, None),
                74..=85 => self.jump(body, false),
                86..=93 if depth < 2 && !over_budget => {
                    if self.rng.percent(60) {
                        self.for_loop(body);
                    } else {
                        self.while_loop(body);
                    }
                }
                94..=96 => self.let_call(body),
                100..=103 if depth < 2 && !over_budget => self.running_extreme(body),
                _ => self.update(body),
            }
        }
        if outer_jump && !jumped_out {
            self.jump(body, true);
        }
        // Every loop does something to the floats.
        if !body.iter().any(|s| matches!(s, S::Assign { .. })) {
            self.update(body);
        }
    }

    /// `if c { [update;] break | continue | return }`, to the innermost loop or, with
    /// `outer`, to an enclosing one by label.
    fn jump(&mut self, out: &mut Vec<S>, outer: bool) {
        let depth = self.loops.len();
        if depth == 0 {
            return self.early_return(out);
        }
        let target = if outer && depth >= 2 {
            self.rng.below(depth - 1)
        } else if self.rng.percent(70) {
            depth - 1
        } else {
            self.rng.below(depth)
        };
        let kind = self.loops[target].kind;
        let can_continue = matches!(kind, LoopKind::For | LoopKind::While);
        if !outer && self.rng.percent(12) {
            return self.early_return(out);
        }
        self.branches += 1;
        if self.rng.percent(25) {
            // `match k { p => { .. jump }, q => { .. }, _ => { .. } }`
            let (scrutinee, max, reads) = self.scrutinee();
            self.mark_read(&reads);
            let pats = self.patterns(max);
            let at = self.rng.below(pats.len() - 1);
            let before = self.state();
            let mut joined = None;
            let mut arms = Vec::new();
            for (i, pat) in pats.into_iter().enumerate() {
                self.restore(&before);
                let body = if i == at {
                    self.jump_body(target, can_continue)
                } else {
                    let body = self.branch_body();
                    Self::join(&mut joined, self.state());
                    body
                };
                arms.push((pat, body));
            }
            self.restore(&joined.expect("a state"));
            self.branches -= 1;
            out.push(S::Match(scrutinee, arms));
            return;
        }
        let cond = self.cond();
        let tested = self.state();
        let body = self.jump_body(target, can_continue);
        self.restore(&tested);
        self.branches -= 1;
        out.push(S::If(vec![(cond, body)], None));
    }

    /// `[update;] break | continue` to loop `target`, which takes the writes to its exit.
    fn jump_body(&mut self, target: usize, can_continue: bool) -> Vec<S> {
        let depth = self.loops.len();
        let kind = self.loops[target].kind;
        let mut body = Vec::new();
        if self.rng.percent(30) {
            self.update(&mut body);
        }
        // Directly inside a labeled block, a jump to a loop names it (E0695).
        let in_block = self.blocks.last().is_some_and(|b| b.depth == depth);
        let label = (target + 1 < depth || in_block).then(|| {
            self.loops[target].label_used = true;
            self.loops[target].label.clone()
        });
        if can_continue && self.rng.percent(45) {
            body.push(S::Continue(label));
        } else if kind == LoopKind::ValueLoop {
            let depth = 1 + self.rng.below(2);
            let g = self.operand(depth, &[]);
            self.mark_read(&g.reads);
            self.break_value(target, &g);
            body.push(S::Break(label, Some(g.expr)));
        } else {
            body.push(S::Break(label, None));
        }
        // The jump takes the writes to the loop's exit (or next iteration).
        let state = self.state();
        let exit = &mut self.loops[target].exit;
        for (a, p) in exit.iter_mut().zip(state) {
            *a |= p;
        }
        body
    }

    fn break_value(&mut self, target: usize, g: &Gen) {
        let frame = &mut self.loops[target];
        let (m, s, r) = frame.value.unwrap_or((0.0, 0.0, 0.0));
        frame.value = Some((m.max(g.bound.mag), s.max(g.bound.slope), r.max(g.real)));
    }

    /// `if c { return e; }`
    fn early_return(&mut self, out: &mut Vec<S>) {
        self.branches += 1;
        let cond = self.cond();
        let tested = self.state();
        let depth = 1 + self.rng.below(2);
        let g = self.operand(depth, &[]);
        self.mark_read(&g.reads);
        self.restore(&tested);
        self.branches -= 1;
        self.ret.mag = self.ret.mag.max(g.bound.mag);
        self.ret.slope = self.ret.slope.max(g.real);
        self.returned = true;
        out.push(S::If(vec![(cond, vec![S::Return(g.expr)])], None));
    }

    /// A range for a `for` loop: its text, largest index and trip count.
    fn range(&mut self) -> (String, usize, usize) {
        let nm = PROGRAM_N_MAX;
        let l = 3 + self.rng.below(4);
        // An enclosing loop's index bounds a nested range.
        let outer: Vec<usize> = self
            .ints()
            .into_iter()
            .filter(|&k| self.env[k].name.len() == 1 && self.env[k].max >= 2 && k > 4)
            .collect();
        if !outer.is_empty() && self.rng.percent(30) {
            let k = self.rng.pick(&outer);
            let (name, max) = (self.env[k].name.clone(), self.env[k].max);
            self.mark_read(&[k]);
            return if self.rng.percent(50) {
                (format!("0..{name}"), max - 1, max)
            } else {
                (format!("(0..={name}).rev()"), max, max + 1)
            };
        }
        // The slice's length, or `N`, more often where there is one.
        if self.shape.slice && self.rng.percent(30) {
            return ("0..v.len()".to_string(), 3, 4);
        }
        if self.shape.generic && self.rng.percent(30) {
            return ("0..N".to_string(), 3, 4);
        }
        // A method's `self.n`.
        if self.has_self() && self.rng.percent(15) {
            return ("0..self.n + 2".to_string(), SELF_N + 1, SELF_N + 2);
        }
        match self.rng.below(10) {
            0 | 1 => (format!("0..{l}"), l - 1, l),
            2 | 3 => {
                self.mark_read(&[4]);
                ("0..n".to_string(), nm - 1, nm)
            }
            4 => (format!("(0..{l}).rev()"), l - 1, l),
            5 => (format!("(1..={l}).step_by(2)"), l, l.div_ceil(2)),
            6 => {
                self.mark_read(&[4]);
                ("1..n".to_string(), nm - 1, nm - 1)
            }
            7 => {
                self.mark_read(&[4]);
                ("(0..n).rev()".to_string(), nm - 1, nm)
            }
            8 => {
                self.mark_read(&[4]);
                ("(0..=n).rev().step_by(2)".to_string(), nm, nm / 2 + 1)
            }
            _ => ("0..v.len()".to_string(), 3, 4),
        }
    }

    /// A `for` loop over a range or an array, with a random body.
    fn for_loop(&mut self, out: &mut Vec<S>) {
        let depth = self.loops.len();
        let arrays = self.vectors();
        // A slice program loops over its slice more often.
        if self.rng.percent(if self.shape.slice { 45 } else { 30 }) {
            // Over an array.
            let a = if self.shape.slice && self.rng.percent(50) {
                3
            } else {
                self.rng.pick(&arrays)
            };
            let enumerate = self.rng.percent(50);
            let by_value = !enumerate && self.rng.percent(40);
            self.enter_loop(LoopKind::For, 4);
            let index = enumerate.then(|| self.declare_index(depth, 3));
            self.declare_element(depth, a);
            let mut body = Vec::new();
            // `a.iter()` borrows `a` for the loop.
            let iterating = self.env[a].iterating;
            self.env[a].iterating |= !by_value;
            self.loop_statements(&mut body);
            self.env[a].iterating = iterating;
            self.mark_read(&[a]);
            let index_read = index.is_some_and(|k| self.env[k].read);
            let cast = self.cast_stmt(depth);
            let (label, _) = self.leave_loop(&mut body);
            if let Some(c) = cast {
                body.insert(0, c);
            }
            let (an, e, i) = (
                self.env[a].name.clone(),
                ELEMENT_NAMES[depth],
                INDEX_NAMES[depth],
            );
            let (pat, iter) = if index_read {
                (format!("({i}, &{e})"), format!("{an}.iter().enumerate()"))
            } else if by_value && self.env[a].reference {
                (format!("&{e}"), an)
            } else if by_value {
                (e.to_string(), an)
            } else {
                (format!("&{e}"), format!("{an}.iter()"))
            };
            out.push(S::For {
                label,
                pat,
                iter,
                body,
            });
            return;
        }
        let (iter, max, trips) = self.range();
        let iter = if self.shape.slice && iter == "0..v.len()" && self.rng.percent(50) {
            // `let len = v.len(); for i in 0..len`
            let len = self.fresh("len");
            out.push(S::Raw(format!("let {len} = v.len();")));
            format!("0..{len}")
        } else {
            iter
        };
        self.enter_loop(LoopKind::For, trips);
        let index = self.declare_index(depth, max);
        let mut body = Vec::new();
        self.loop_statements(&mut body);
        let index_read = self.env[index].read;
        let cast = self.cast_stmt(depth);
        let (label, _) = self.leave_loop(&mut body);
        if let Some(c) = cast {
            body.insert(0, c);
        }
        let pat = if index_read {
            INDEX_NAMES[depth].to_string()
        } else {
            "_".to_string()
        };
        out.push(S::For {
            label,
            pat,
            iter,
            body,
        });
    }

    /// The index of the loop at `depth`, and its cast `fi`.
    fn declare_index(&mut self, depth: usize, max: usize) -> usize {
        let mut index = Var::new(
            INDEX_NAMES[depth].to_string(),
            Ty::Int,
            Role::Count,
            bound(0.0, 0.0),
        );
        index.max = max;
        index.active = false;
        index.pending = false;
        let k = self.declare(index);
        let mut cast = Var::new(
            CAST_NAMES[depth].to_string(),
            Ty::Float,
            Role::Cast,
            bound(max as f64, 0.0),
        );
        cast.lip = 0.0;
        cast.active = false;
        cast.pending = false;
        cast.of = Some(k);
        self.declare(cast);
        k
    }

    fn declare_element(&mut self, depth: usize, a: usize) -> usize {
        let mut e = Var::new(
            ELEMENT_NAMES[depth].to_string(),
            Ty::Float,
            Role::Element,
            self.env[a].bound,
        );
        e.active = self.env[a].active;
        self.declare(e)
    }

    /// `let fi = i as f64;` if the body read it.
    fn cast_stmt(&mut self, depth: usize) -> Option<S> {
        let name = CAST_NAMES[depth];
        let start = *self.scopes.last().expect("a scope");
        let k = (start..self.env.len()).find(|&k| self.env[k].name == name)?;
        self.env[k].read.then(|| S::Let {
            name: name.to_string(),
            mutable: false,
            typed: false,
            init: Init::Cast(INDEX_NAMES[depth].to_string()),
        })
    }

    /// `let mut k = 0; while k < L [&& c] { k += 1; .. }`
    fn while_loop(&mut self, out: &mut Vec<S>) {
        let k = self.fresh("k");
        out.push(S::Raw(format!("let mut {k} = 0;")));
        let (limit, max) = match self.rng.below(4) {
            0 => {
                self.mark_read(&[4]);
                ("n".to_string(), PROGRAM_N_MAX)
            }
            1 => {
                self.mark_read(&[4]);
                ("n + 1".to_string(), PROGRAM_N_MAX + 1)
            }
            _ => {
                let l = 3 + self.rng.below(4);
                (l.to_string(), l)
            }
        };
        self.enter_loop(LoopKind::While, max);
        let counter = self.counter(&k, max);
        let mut cond = Cond::Int(format!("{k} < {limit}"));
        if self.rng.percent(50) {
            let f = self.float_cond();
            cond = Cond::And(Box::new(cond), Box::new(f));
        }
        let mut body = vec![S::Raw(format!("{k} += 1;"))];
        self.loop_statements(&mut body);
        let (label, _) = self.leave_loop(&mut body);
        // The counter lives on after the loop.
        self.env.push(counter);
        out.push(S::While { label, cond, body });
    }

    /// A loop counter, declared outside the loop's scope (returned to push after it).
    fn counter(&mut self, name: &str, max: usize) -> Var {
        let mut c = Var::new(name.to_string(), Ty::Int, Role::Count, bound(0.0, 0.0));
        c.max = max;
        c.active = false;
        c.pending = false;
        c.read = true;
        // Visible inside the loop too: declared in its scope, moved out on leaving.
        let mut inside = Var::new(name.to_string(), Ty::Int, Role::Count, bound(0.0, 0.0));
        inside.max = max;
        inside.active = false;
        inside.pending = false;
        self.declare(inside);
        c
    }

    /// `let mut k = 0; loop { k += 1; ..; if k >= L || c { break; } }`, or with a value:
    /// `let v = loop { ..; if k >= L || c { break e; } };`.
    fn loop_stmt(&mut self, out: &mut Vec<S>, value: bool) {
        let k = self.fresh("k");
        out.push(S::Raw(format!("let mut {k} = 0;")));
        let l = 2 + self.rng.below(5);
        let kind = if value {
            LoopKind::ValueLoop
        } else {
            LoopKind::Loop
        };
        self.enter_loop(kind, l);
        let counter = self.counter(&k, l);
        let mut body = vec![S::Raw(format!("{k} += 1;"))];
        self.loop_statements(&mut body);
        let mut exit = Cond::Int(format!("{k} >= {l}"));
        if self.rng.percent(70) {
            let f = self.float_cond();
            exit = Cond::Or(Box::new(exit), Box::new(f));
        }
        let tested = self.state();
        let target = self.loops.len() - 1;
        let brk = if value {
            let depth = 1 + self.rng.below(2);
            let g = self.operand(depth, &[]);
            self.mark_read(&g.reads);
            self.break_value(target, &g);
            S::Break(None, Some(g.expr))
        } else {
            S::Break(None, None)
        };
        let state = self.state();
        for (a, p) in self.loops[target].exit.iter_mut().zip(state) {
            *a |= p;
        }
        self.restore(&tested);
        body.push(S::If(vec![(exit, vec![brk])], None));
        let (label, broke) = self.leave_loop(&mut body);
        self.env.push(counter);
        if value {
            let (mag, slope, real) = broke.expect("a break value");
            let name = self.fresh("v");
            out.push(S::Let {
                name: name.clone(),
                mutable: false,
                typed: self.rng.percent(20),
                init: Init::Loop(label, body),
            });
            let g = Gen {
                expr: var(&name),
                bound: bound(mag, slope),
                real,
                reads: Vec::new(),
                active: true,
            };
            self.bind_float(name, &g);
        } else {
            out.push(S::Loop { label, body });
        }
    }

    /// `let mut m = 0;` counted in a loop where a condition holds, then read.
    fn counting_loop(&mut self, out: &mut Vec<S>) {
        let m = self.fresh("m");
        out.push(S::Raw(format!("let mut {m} = 0;")));
        let mut loop_out = Vec::new();
        // The count is declared outside the loop, visible inside.
        let mut count = Var::new(m.clone(), Ty::Int, Role::Count, bound(0.0, 0.0));
        count.active = false;
        count.pending = false;
        count.max = PROGRAM_N_MAX * PROGRAM_N_MAX;
        let kc = self.declare(count);
        self.for_loop(&mut loop_out);
        // Add `if c { m += 1; }` to the loop body.
        let trips = PROGRAM_N_MAX;
        if let Some(S::For { body, .. }) = loop_out.last_mut() {
            let saved = std::mem::take(&mut self.loops);
            // The condition is built as if inside the loop (no accumulators).
            self.loops.push(Frame {
                label: String::new(),
                label_used: false,
                kind: LoopKind::For,
                trips,
                value: None,
                exit: Vec::new(),
            });
            // Inserted at a random place after the fact, its reads make no earlier write live.
            let state = self.state();
            let cond = self.cond();
            self.restore(&state);
            self.loops = saved;
            let at = self.rng.below(body.len() + 1).max(usize::from(matches!(
                body.first(),
                Some(S::Let {
                    init: Init::Cast(_),
                    ..
                })
            )));
            body.insert(
                at,
                S::If(vec![(cond, vec![S::Raw(format!("{m} += 1;"))])], None),
            );
        }
        out.extend(loop_out);
        self.env[kc].max = PROGRAM_N_MAX.min(self.env[kc].max);
        // Read the count.
        if self.rng.percent(50) {
            let (max, reads) = (self.env[kc].max, vec![kc]);
            self.match_stmt(out, Some((m.clone(), max, reads)));
        } else {
            let name = self.fresh("c");
            out.push(S::Let {
                name: name.clone(),
                mutable: false,
                typed: false,
                init: Init::Cast(m.clone()),
            });
            self.mark_read(&[kc]);
            let mut v = Var::new(
                name,
                Ty::Float,
                Role::Plain,
                bound(self.env[kc].max as f64, 0.0),
            );
            v.active = false;
            v.lip = 0.0;
            self.declare(v);
        }
    }

    // --- running extremes ---------------------------------------------------------------------

    /// `let mut m = init; for i in 0..n { m = m.max(e); }`: a running maximum or minimum of
    /// candidates `e` computed from the index, which grad reverses without a tape when nothing
    /// else is carried (it finds the first and the last iteration whose candidate is the final
    /// value and replays only from there); now and then a near miss that it reverses with a
    /// tape (see [`Extreme`]). The running value is mostly folded into a carried variable or an
    /// accumulator at once, else left for what follows to read.
    fn running_extreme(&mut self, out: &mut Vec<S>) {
        let depth = self.loops.len();
        let variant = match self.rng.below(100) {
            0..=69 => Extreme::Eligible,
            70..=74 => Extreme::SelfRead,
            75..=79 => Extreme::Two,
            80..=84 => Extreme::Update,
            85..=89 => Extreme::Range,
            90..=94 => Extreme::Jump,
            _ => Extreme::Clamped,
        };
        // The range (or an array): its text, largest index, trip count and whether it runs
        // at least once.
        let over_array = variant == Extreme::Eligible && self.rng.percent(10);
        let (iter, max, trips, runs) = if over_array {
            (String::new(), 3, 4, true)
        } else if variant == Extreme::Range {
            self.stepped_range()
        } else {
            self.forward_range(depth)
        };
        // The running values, declared before the loop; an infinite start only where the loop
        // updates it at least once (a jump may skip every update: `if c { continue; }` before
        // it), and a finite one where the candidate reads the running value.
        let count = if variant == Extreme::Two { 2 } else { 1 };
        let first_larger = self.rng.percent(50);
        let mut running = Vec::new();
        for r in 0..count {
            let larger = if r == 0 { first_larger } else { !first_larger };
            let finite = !runs || matches!(variant, Extreme::SelfRead | Extreme::Jump);
            let roll = self.rng.below(100);
            let (init, typed, start) = if roll < 35 && !finite {
                let name = if larger {
                    "f64::NEG_INFINITY"
                } else {
                    "f64::INFINITY"
                };
                (Expr::Const(name.to_string()), self.rng.percent(15), None)
            } else if roll < 55 {
                // A literal start needs its type: `m.max(e)` of a `{float}` does not compile.
                let value = if larger {
                    self.rng.pick(&[-2.5, -1.0, -0.5, 0.0, 0.5])
                } else {
                    self.rng.pick(&[-0.5, 0.0, 0.5, 1.0, 2.5])
                };
                let g = Gen {
                    expr: lit(value),
                    bound: bound(value.abs(), 0.0),
                    real: 0.0,
                    reads: Vec::new(),
                    active: false,
                };
                (g.expr.clone(), true, Some(g))
            } else {
                let depth = self.rng.below(2);
                let g = self.operand(depth, &[]);
                self.mark_read(&g.reads);
                let g = if g.bound.mag > 2.0 { self.squash(g) } else { g };
                (g.expr.clone(), self.rng.percent(15), Some(g))
            };
            let name = self.fresh("m");
            out.push(S::Let {
                name: name.clone(),
                mutable: true,
                typed,
                init: Init::Expr(init),
            });
            let b = start
                .as_ref()
                .map_or(bound(0.0, 0.0), |g| bound(g.bound.mag, g.real));
            let mut v = Var::new(name, Ty::Float, Role::Plain, b);
            v.lip = match &start {
                None => 0.0,
                Some(g) if self.in_loop() => g.bound.slope,
                Some(_) => 1.0,
            };
            v.active = start.as_ref().is_some_and(|g| g.active);
            v.mutable = true;
            v.mutated = true;
            // Not a leaf of the loop's expressions: it is read by its `max` alone.
            v.hidden = true;
            let k = self.declare(v);
            running.push((k, larger, start));
        }

        self.enter_loop(LoopKind::For, trips);
        let array = over_array.then(|| {
            let arrays = self.vectors();
            let a = if self.rng.percent(60) {
                3
            } else {
                self.rng.pick(&arrays)
            };
            self.mark_read(&[a]);
            a
        });
        // `a.iter()` borrows `a` for the loop.
        let iterating = array.map(|a| {
            let was = self.env[a].iterating;
            self.env[a].iterating = true;
            (a, was)
        });
        let index = match array {
            Some(_) => None,
            None => Some(self.declare_index(depth, max)),
        };
        let element = match (array, index) {
            (Some(a), _) => {
                let k = self.declare_element(depth, a);
                Leaf {
                    text: self.env[k].name.clone(),
                    bound: bound(self.env[k].bound.mag, self.slope_of(k)),
                    reads: vec![k],
                    active: self.env[k].active,
                    preferred: true,
                }
            }
            (None, Some(index)) => self.indexed_element(index),
            (None, None) => unreachable!("an index or an array"),
        };
        let mut body = Vec::new();
        let jump_first = variant == Extreme::Jump && self.rng.percent(50);
        if jump_first {
            self.jump(&mut body, false);
        }
        let mut candidates = Vec::new();
        for &(k, larger, _) in &running {
            let name = self.env[k].name.clone();
            // Always the element of an array over it (its pattern is read), else mostly.
            let must_read = array.is_some() || self.rng.percent(90);
            let g = if variant == Extreme::SelfRead {
                self.self_read_candidate(k, &element, &mut body)
            } else {
                self.candidate(&element, must_read, &mut body)
            };
            let m = var(&name);
            self.mark_read(&[k]);
            // A literal receiver, `0.5.max(m)`, would not compile.
            let receiver_ok = !matches!(g.expr, Expr::Lit(_) | Expr::Neg(_));
            let name_of = |larger: bool| if larger { "max" } else { "min" };
            let (path, args) = match self.rng.below(8) {
                0..=3 => (false, vec![m, g.expr.clone()]),
                4 | 5 if receiver_ok => (false, vec![g.expr.clone(), m]),
                4 | 5 => (false, vec![m, g.expr.clone()]),
                6 => (true, vec![m, g.expr.clone()]),
                _ => (true, vec![g.expr.clone(), m]),
            };
            let mut value = Expr::Method {
                name: name_of(larger),
                path,
                args,
            };
            if variant == Extreme::Clamped {
                // `m.max(e).min(1.5)`: the next value is the clamp, not the `max`.
                let limit = self.rng.pick(&[1.0, 1.5, 2.0]);
                value = Expr::Method {
                    name: name_of(!larger),
                    path: false,
                    args: vec![value, lit(if larger { limit } else { -limit })],
                };
            }
            body.push(S::Assign {
                target: name,
                op: None,
                value,
            });
            candidates.push(g);
        }
        if variant == Extreme::Update {
            self.update(&mut body);
        }
        if variant == Extreme::Jump && !jump_first {
            self.jump(&mut body, false);
        }
        if let Some((a, was)) = iterating {
            self.env[a].iterating = was;
        }
        // The loop body of a near miss may be wider than a candidate alone.
        self.cost += self.multiplier * 2.0;
        let index_read = index.is_some_and(|k| self.env[k].read);
        let cast = if index.is_some() {
            self.cast_stmt(depth)
        } else {
            None
        };
        let (label, _) = self.leave_loop(&mut body);
        if let Some(c) = cast {
            body.insert(0, c);
        }
        let (pat, iter) = match array {
            Some(a) => (
                format!("&{}", ELEMENT_NAMES[depth]),
                format!("{}.iter()", self.env[a].name),
            ),
            None if index_read => (INDEX_NAMES[depth].to_string(), iter),
            None => ("_".to_string(), iter),
        };
        out.push(S::For {
            label,
            pat,
            iter,
            body,
        });
        // The running values: within their starts' and candidates' bounds (a maximum or a
        // minimum has the slope of one of its operands).
        for ((k, _, start), g) in running.into_iter().zip(candidates) {
            let in_loop = self.in_loop();
            let v = &mut self.env[k];
            let (mut mag, mut real, mut lip) = (g.bound.mag, g.real, g.bound.slope);
            if let Some(s) = &start {
                mag = mag.max(s.bound.mag);
                real = real.max(s.real);
                lip = lip.max(s.bound.slope);
            }
            v.bound = bound(mag, real);
            v.lip = if in_loop { lip } else { 1.0 };
            v.active = g.active || start.is_some_and(|s| s.active);
            v.hidden = false;
            v.read = true;
            v.pending = true;
            // Mostly folded into a carried variable or an accumulator at once, so that its
            // gradient matters (a later read may be a comparison only).
            if self.rng.percent(75) {
                let leaf = self.read_of(k);
                let g = self.maybe_squashed(leaf);
                let accs = self.of_role(Role::Acc);
                if !accs.is_empty() && self.rng.percent(40) {
                    let a = self.rng.pick(&accs);
                    self.acc_update(a, Some(g), out);
                } else {
                    let carried = self.of_role(Role::Carried);
                    let c = self.rng.pick(&carried);
                    self.carried_update(c, Some(g), out);
                }
            }
        }
    }

    /// A forward unit-step range for a running extreme: text, largest index, trip count and
    /// whether it runs at least once. Nested, it may count to an enclosing loop's index.
    fn forward_range(&mut self, depth: usize) -> (String, usize, usize, bool) {
        let nm = PROGRAM_N_MAX;
        if depth > 0 && self.rng.percent(25) {
            let outer: Vec<usize> = self
                .ints()
                .into_iter()
                .filter(|&k| {
                    INDEX_NAMES[..depth].contains(&self.env[k].name.as_str())
                        && self.env[k].max >= 2
                })
                .collect();
            if !outer.is_empty() {
                let k = self.rng.pick(&outer);
                let (name, max) = (self.env[k].name.clone(), self.env[k].max);
                self.mark_read(&[k]);
                return if self.rng.percent(50) {
                    (format!("0..={name}"), max, max + 1, true)
                } else {
                    (format!("0..{name}"), max - 1, max, false)
                };
            }
        }
        if self.has_self() && self.rng.percent(10) {
            return ("0..self.n + 2".to_string(), SELF_N + 1, SELF_N + 2, true);
        }
        let l = 3 + self.rng.below(4);
        match self.rng.below(12) {
            0 | 1 => (format!("0..{l}"), l - 1, l, true),
            2 => (format!("1..={}", l - 1), l - 1, l - 1, true),
            3 => ("0..4".to_string(), 3, 4, true),
            4 => ("0..=3".to_string(), 3, 4, true),
            5 => ("0..v.len()".to_string(), 3, 4, true),
            6 => ("1..4".to_string(), 3, 3, true),
            7 | 8 => {
                self.mark_read(&[4]);
                ("0..n".to_string(), nm - 1, nm, false)
            }
            9 => {
                self.mark_read(&[4]);
                ("0..=n".to_string(), nm, nm + 1, true)
            }
            10 => {
                self.mark_read(&[4]);
                ("0..n + 1".to_string(), nm, nm + 1, true)
            }
            _ => {
                self.mark_read(&[4]);
                ("1..n".to_string(), nm - 1, nm - 1, false)
            }
        }
    }

    /// A reversed or stepped range, which grad reverses with a tape.
    fn stepped_range(&mut self) -> (String, usize, usize, bool) {
        let nm = PROGRAM_N_MAX;
        let l = 3 + self.rng.below(4);
        match self.rng.below(5) {
            0 => (format!("(0..{l}).rev()"), l - 1, l, true),
            1 => (format!("(1..={l}).step_by(2)"), l, l.div_ceil(2), true),
            2 => {
                self.mark_read(&[4]);
                ("(0..n).rev()".to_string(), nm - 1, nm, false)
            }
            3 => {
                self.mark_read(&[4]);
                ("(0..=n).step_by(2)".to_string(), nm, nm / 2 + 1, true)
            }
            _ => {
                self.mark_read(&[4]);
                ("(0..=n).rev()".to_string(), nm, nm + 1, true)
            }
        }
    }

    /// An element of a complete array at the index `index`: `v[i]` (or `v[3 - i]`) when the
    /// index stays below 4, `v[i % 4]` and the like otherwise.
    fn indexed_element(&mut self, index: usize) -> Leaf {
        let arrays = self.vectors();
        let a = if self.rng.percent(70) {
            3
        } else {
            self.rng.pick(&arrays)
        };
        let (i, max) = (self.env[index].name.clone(), self.env[index].max);
        let mut reads = vec![a, index];
        let at = match (max <= 3, self.rng.below(5)) {
            (true, 0..=2) => i,
            (true, 3) => format!("3 - {i}"),
            (false, 0..=2) => format!("{i} % 4"),
            (false, 3) => format!("({i} * 3) % 4"),
            _ => {
                reads.push(4);
                format!("({i} + n) % 4")
            }
        };
        Leaf {
            text: format!("{}[{at}]", self.env[a].name),
            bound: bound(self.env[a].bound.mag, self.slope_of(a)),
            reads,
            active: self.env[a].active,
            preferred: true,
        }
    }

    /// An expression of `depth` over `leaves` (mostly `element`'s, when given) made only of
    /// operations whose reverse needs their operands and not their result (`+`, `-`, `*`,
    /// `powi`, `mul_add`, division by `e² + k`): grad recomputes those in a reverse sweep
    /// where it would record a `sin` or a `sqrt`, and a running extreme is reversed without a
    /// tape only when its loop records nothing.
    fn cheap_expr(&mut self, depth: usize, leaves: &[Leaf]) -> Gen {
        let (expr, b) = self.cheap_node(depth, leaves);
        let mut reads = Vec::new();
        let mut active = false;
        expr.visit_names(&mut |name, _| {
            if let Some(l) = leaves.iter().find(|l| l.text == name) {
                reads.extend(l.reads.iter().copied());
                active |= l.active;
            }
        });
        self.cost += self.multiplier * size(&expr);
        let real = self.real_slope(b.slope, &reads);
        Gen {
            expr,
            bound: b,
            real,
            reads,
            active,
        }
    }

    fn cheap_leaf(&mut self, leaves: &[Leaf]) -> (Expr, Bound) {
        let preferred: Vec<&Leaf> = leaves.iter().filter(|l| l.preferred).collect();
        let l = if !preferred.is_empty() && self.rng.percent(50) {
            preferred[self.rng.below(preferred.len())]
        } else {
            &leaves[self.rng.below(leaves.len())]
        };
        (var(&l.text), l.bound)
    }

    fn cheap_node(&mut self, depth: usize, leaves: &[Leaf]) -> (Expr, Bound) {
        if depth == 0 || self.rng.percent(10) {
            return self.cheap_leaf(leaves);
        }
        for _ in 0..8 {
            let child = |g: &mut Self| {
                let d = if g.rng.percent(65) {
                    depth - 1
                } else {
                    g.rng.below(depth)
                };
                g.cheap_node(d, leaves)
            };
            let (e, b) = match self.rng.below(9) {
                0 | 1 => {
                    let ((a, ab), (c, cb)) = (child(self), child(self));
                    if same(&a, &c) {
                        continue;
                    }
                    let op = if self.rng.percent(50) {
                        Op::Add
                    } else {
                        Op::Sub
                    };
                    (bin(op, a, c), bound(ab.mag + cb.mag, ab.slope + cb.slope))
                }
                2 => {
                    let (a, ab) = child(self);
                    let l = self.rng.pick(&[0.25, 0.5, 0.75, 1.5, 2.0]);
                    let e = if self.rng.percent(50) {
                        bin(Op::Mul, a, Expr::Lit(l))
                    } else {
                        bin(Op::Mul, Expr::Lit(l), a)
                    };
                    (e, bound(ab.mag * l, ab.slope * l))
                }
                3 | 4 => {
                    let ((a, ab), (c, cb)) = (child(self), child(self));
                    (
                        bin(Op::Mul, a, c),
                        bound(ab.mag * cb.mag, ab.slope * cb.mag + ab.mag * cb.slope),
                    )
                }
                5 => {
                    let (a, ab) = child(self);
                    let exp = self.rng.pick(&[2, 3]);
                    let k = f64::from(exp);
                    let e = Expr::PowI {
                        base: Box::new(a),
                        exp,
                        path: self.rng.percent(30),
                    };
                    (
                        e,
                        bound(ab.mag.powi(exp), k * ab.mag.powi(exp - 1) * ab.slope),
                    )
                }
                6 => {
                    let ((a, ab), (c, cb), (d, db)) = (child(self), child(self), child(self));
                    let e = Expr::Method {
                        name: "mul_add",
                        path: self.rng.percent(30),
                        args: vec![a, c, d],
                    };
                    (
                        e,
                        bound(
                            ab.mag * cb.mag + db.mag,
                            ab.slope * cb.mag + ab.mag * cb.slope + db.slope,
                        ),
                    )
                }
                7 => {
                    // a / (c² + k)
                    let ((a, ab), (c, cb)) = (child(self), child(self));
                    let k = self.rng.pick(&[0.5, 1.0, 1.5]);
                    let den = bin(Op::Add, bin(Op::Mul, c.clone(), c), Expr::Lit(k));
                    (
                        bin(Op::Div, a, den),
                        bound(
                            ab.mag / k,
                            ab.slope / k + ab.mag * inverse_square_slope(k) * cb.slope,
                        ),
                    )
                }
                _ => {
                    let (a, ab) = child(self);
                    let l = self.rng.pick(&[0.25, 0.5, 1.0, 1.5]);
                    let e = if self.rng.percent(50) {
                        bin(Op::Add, a, Expr::Lit(l))
                    } else {
                        bin(Op::Sub, Expr::Lit(l), a)
                    };
                    (e, bound(ab.mag + l, ab.slope))
                }
            };
            if b.fits() {
                return (e, b);
            }
        }
        self.cheap_leaf(leaves)
    }

    /// A condition that grad's reverse can recompute without recording: an integer one, or
    /// a comparison of cheap expressions.
    fn cheap_cond(&mut self, element: &Leaf) -> Cond {
        if self.rng.percent(35) {
            return self.int_cond();
        }
        let mut leaves = self.leaves(&[]);
        leaves.push(element.clone());
        let depth = 1 + self.rng.below(2);
        let lhs = self.cheap_expr(depth, &leaves);
        self.comparison(lhs, |this| this.cheap_expr(0, &leaves))
    }

    /// An expression over the leaves in scope and `element`, `cheap` or any.
    fn element_expr(&mut self, element: &Leaf, calls: bool, cheap: bool) -> Gen {
        let mut leaves = self.leaves(&[]);
        leaves.push(element.clone());
        if calls
            && self.rng.percent(8)
            && let Some(g) = self.call(&leaves)
        {
            return g;
        }
        let depth = 1 + self.rng.below(2);
        if cheap {
            self.cheap_expr(depth, &leaves)
        } else {
            self.expr(depth, &leaves)
        }
    }

    /// Adds `element` (squashed, unless `cheap`) to `g` unless `g` reads it already.
    fn with_element(&mut self, g: Gen, element: &Leaf, cheap: bool) -> Gen {
        let mut found = false;
        g.expr
            .visit_names(&mut |name, _| found |= name == element.text);
        if found {
            return g;
        }
        let e = Gen {
            expr: var(&element.text),
            bound: element.bound,
            real: self.real_slope(element.bound.slope, &element.reads),
            reads: element.reads.clone(),
            active: element.active,
        };
        let e = if !cheap && self.rng.percent(50) {
            self.squash(e)
        } else {
            e
        };
        Gen {
            expr: bin(Op::Add, g.expr, e.expr),
            bound: bound(g.bound.mag + e.bound.mag, g.bound.slope + e.bound.slope),
            real: g.real + e.real,
            reads: [g.reads, e.reads].concat(),
            active: g.active || e.active,
        }
    }

    /// `let c = e;`, read by the caller: a candidate's local.
    fn candidate_local(&mut self, init: Init, g: &Gen, body: &mut Vec<S>) -> Gen {
        let name = self.fresh("c");
        body.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: self.rng.percent(15),
            init,
        });
        let k = self.bind_float(name.clone(), g);
        self.mark_read(&[k]);
        Gen {
            expr: var(&name),
            bound: g.bound,
            real: g.real,
            reads: vec![k],
            active: g.active,
        }
    }

    /// The value a running extreme is compared with in one iteration: an expression, or a
    /// local `let` of one, of an `if` or of a `match`, mostly reading `element`.
    fn candidate(&mut self, element: &Leaf, must_read: bool, body: &mut Vec<S>) -> Gen {
        // Mostly of operations grad recomputes: the reverse without a tape needs them.
        let cheap = self.rng.percent(65);
        let roll = self.rng.below(100);
        if roll < 55 {
            let g = self.element_expr(element, true, cheap);
            self.mark_read(&g.reads);
            let g = if must_read {
                self.with_element(g, element, cheap)
            } else {
                g
            };
            self.mark_read(&g.reads);
            return g;
        }
        if roll < 70 {
            let g = self.element_expr(element, true, cheap);
            let g = if must_read {
                self.with_element(g, element, cheap)
            } else {
                g
            };
            self.mark_read(&g.reads);
            return self.candidate_local(Init::Expr(g.expr.clone()), &g, body);
        }
        // `let c = if cond { e1 } else { e2 };` or `let c = match k { .. };`
        self.branches += 1;
        let (init, gens) = if roll < 88 {
            let cond = if cheap {
                self.cheap_cond(element)
            } else {
                self.cond()
            };
            let tested = self.state();
            let mut joined = None;
            let mut gens = Vec::new();
            for _ in 0..2 {
                self.restore(&tested);
                let g = self.element_expr(element, false, cheap);
                self.mark_read(&g.reads);
                Self::join(&mut joined, self.state());
                gens.push(g);
            }
            self.restore(&joined.expect("a state"));
            let arm = |g: &Gen| Block {
                stmts: Vec::new(),
                tail: g.expr.clone(),
                diverges: false,
            };
            let init = Init::If(vec![(cond, arm(&gens[0]))], arm(&gens[1]));
            (init, gens)
        } else {
            let (scrutinee, max, reads) = self.scrutinee();
            self.mark_read(&reads);
            let pats = self.patterns(max);
            let before = self.state();
            let mut joined = None;
            let mut arms = Vec::new();
            let mut gens = Vec::new();
            for pat in pats {
                self.restore(&before);
                let g = self.element_expr(element, false, cheap);
                self.mark_read(&g.reads);
                Self::join(&mut joined, self.state());
                arms.push((
                    pat,
                    Block {
                        stmts: Vec::new(),
                        tail: g.expr.clone(),
                        diverges: false,
                    },
                ));
                gens.push(g);
            }
            self.restore(&joined.expect("a state"));
            (Init::Match(scrutinee, arms), gens)
        };
        self.branches -= 1;
        let mut g = Self::merge(&gens);
        // The element, in some arm.
        let mut found = false;
        for h in &gens {
            h.expr
                .visit_names(&mut |name, _| found |= name == element.text);
        }
        let init = if found || !must_read {
            init
        } else {
            // Not read in any arm: added to the first.
            let first = self.with_element(gens[0].clone(), element, cheap);
            self.mark_read(&first.reads);
            g = Self::merge(&[g, first.clone()]);
            match init {
                Init::If(mut arms, otherwise) => {
                    arms[0].1.tail = first.expr;
                    Init::If(arms, otherwise)
                }
                Init::Match(s, mut arms) => {
                    arms[0].1.tail = first.expr;
                    Init::Match(s, arms)
                }
                other => other,
            }
        };
        self.candidate_local(init, &g, body)
    }

    /// A candidate that reads the running value `k` too (a near miss): `m * 0.5 + e * c`,
    /// or `let c = if m > t { e1 } else { e2 };`.
    fn self_read_candidate(&mut self, k: usize, element: &Leaf, body: &mut Vec<S>) -> Gen {
        let m = var(&self.env[k].name);
        let start = self.env[k].bound;
        let cheap = self.rng.percent(65);
        if self.rng.percent(50) {
            let g = self.element_expr(element, false, cheap);
            let g = self.with_element(g, element, cheap);
            self.mark_read(&g.reads);
            // Within max(|start|, 2 c |e|), and a contraction in the running value.
            let c = Self::coefficient(0.5, g.bound.slope);
            let e = Gen {
                expr: bin(
                    Op::Add,
                    bin(Op::Mul, m, Expr::Lit(0.5)),
                    bin(Op::Mul, g.expr.clone(), Expr::Lit(c)),
                ),
                bound: bound(
                    start.mag.max(2.0 * c * g.bound.mag),
                    2.0 * c * g.bound.slope,
                ),
                real: 2.0 * c * g.real,
                reads: [g.reads.clone(), vec![k]].concat(),
                active: g.active,
            };
            return e;
        }
        self.branches += 1;
        let threshold = lit(self.rng.pick(&[-0.5, 0.0, 0.5]));
        let op = self.rng.pick(&[">", "<", ">=", "<="]);
        let cond = Cond::Cmp(m, op, threshold);
        let tested = self.state();
        let mut joined = None;
        let mut gens = Vec::new();
        for _ in 0..2 {
            self.restore(&tested);
            let g = self.element_expr(element, false, cheap);
            let g = self.with_element(g, element, cheap);
            self.mark_read(&g.reads);
            Self::join(&mut joined, self.state());
            gens.push(g);
        }
        self.restore(&joined.expect("a state"));
        self.branches -= 1;
        let arm = |g: &Gen| Block {
            stmts: Vec::new(),
            tail: g.expr.clone(),
            diverges: false,
        };
        let init = Init::If(vec![(cond, arm(&gens[0]))], arm(&gens[1]));
        let g = Self::merge(&gens);
        self.candidate_local(init, &g, body)
    }

    // --- arrays -------------------------------------------------------------------------------

    /// A local array, complete after this statement or loop.
    fn array(&mut self, out: &mut Vec<S>) {
        let mut form = self.rng.below(12);
        if self.want_state && form == 10 {
            // Not a matrix.
            form = 5;
        }
        self.array_of_form(form, out);
    }

    /// [`Self::array`] of the given form.
    fn array_of_form(&mut self, form: usize, out: &mut Vec<S>) {
        let name = self.fresh("a");
        let mut a = Var::new(name.clone(), Ty::Array, Role::Plain, bound(0.0, 0.0));
        a.open = true;
        a.mutable = true;
        a.sized_n = self.shape.generic;
        let k = self.declare(a);
        let zeros = S::Let {
            name: name.clone(),
            mutable: true,
            typed: false,
            // `[0.0; N]` in a const generic program, whose `N` is 4.
            init: if self.shape.generic {
                Init::ZerosN
            } else {
                Init::Zeros
            },
        };
        let (mag, slope, active) = match form {
            0 | 1 => {
                // for i in 0..4 { a[i] = e(v[i]); }, or over v.iter().enumerate()
                out.push(zeros);
                let enumerate = form == 1;
                self.enter_loop(LoopKind::For, 4);
                let index = self.declare_index(0, 3);
                let prefer = if enumerate {
                    vec![self.declare_element(0, 3)]
                } else {
                    vec![]
                };
                let mut body = Vec::new();
                let mut leaves = self.leaves(&prefer);
                if !enumerate {
                    leaves.push(Leaf {
                        text: "v[i]".to_string(),
                        bound: bound(2.0, 1.0),
                        reads: vec![3, index],
                        active: true,
                        preferred: true,
                    });
                }
                let depth = 1 + self.rng.below(2);
                let g = self.expr(depth, &leaves);
                self.mark_read(&g.reads);
                self.mark_read(&[index]);
                body.push(S::Assign {
                    target: format!("{name}[i]"),
                    op: None,
                    value: g.expr.clone(),
                });
                if self.rng.percent(40) {
                    self.update(&mut body);
                }
                let (pat, iter) = if enumerate {
                    ("(i, &t)", "v.iter().enumerate()")
                } else {
                    ("i", if self.shape.generic { "0..N" } else { "0..4" })
                };
                self.close_for(body, pat, iter, out);
                (g.bound.mag, g.real.max(g.bound.slope), g.active)
            }
            2 => {
                // a[0] = e; for i in 1..4 { a[i] = a[i - 1] * c1 + e(v[i]) * c2; }
                out.push(zeros);
                let first = self.operand(1, &[]);
                self.mark_read(&first.reads);
                let first = if first.bound.mag > 2.0 {
                    self.squash(first)
                } else {
                    first
                };
                out.push(S::Assign {
                    target: format!("{name}[0]"),
                    op: None,
                    value: first.expr.clone(),
                });
                self.enter_loop(LoopKind::For, 3);
                let index = self.declare_index(0, 3);
                let mut leaves = self.leaves(&[]);
                leaves.push(Leaf {
                    text: "v[i]".to_string(),
                    bound: bound(2.0, 1.0),
                    reads: vec![3, index],
                    active: true,
                    preferred: true,
                });
                let depth = 1 + self.rng.below(2);
                let g = self.expr(depth, &leaves);
                self.mark_read(&g.reads);
                self.mark_read(&[index]);
                let g = self.squash(g);
                let c1 = self.rng.pick(&[0.5, 0.75]);
                let c2 = Self::coefficient(c1, g.bound.slope);
                let body = vec![S::Assign {
                    target: format!("{name}[i]"),
                    op: None,
                    value: bin(
                        Op::Add,
                        bin(Op::Mul, var(&format!("{name}[i - 1]")), Expr::Lit(c1)),
                        bin(Op::Mul, g.expr.clone(), Expr::Lit(c2)),
                    ),
                }];
                self.close_for(body, "i", "1..4", out);
                let mag = first.bound.mag.max(c2 / (1.0 - c1));
                let real = first.real.max(c2 * g.real / (1.0 - c1));
                (mag, real, true)
            }
            3 => {
                // for i in 0..n { a[i % 4] += e * c; }
                out.push(zeros);
                self.mark_read(&[4]);
                let trips = PROGRAM_N_MAX;
                self.enter_loop(LoopKind::For, trips);
                let index = self.declare_index(0, trips - 1);
                let depth = 1 + self.rng.below(2);
                let g = self.operand(depth, &[index + 1]);
                self.mark_read(&g.reads);
                self.mark_read(&[index]);
                let g = self.squash(g);
                let c = self.rng.pick(&[0.25, 0.5]);
                let body = vec![S::Assign {
                    target: format!("{name}[i % 4]"),
                    op: Some(Op::Add),
                    value: bin(Op::Mul, g.expr.clone(), Expr::Lit(c)),
                }];
                self.close_counted_loop(body, 40, out);
                // Two of the six iterations land on the same element.
                (2.0 * c, 2.0 * c * g.real, g.active)
            }
            4 => {
                // let mut a = v; a[2] *= c; a[1] += e;
                out.push(S::Let {
                    name: name.clone(),
                    mutable: true,
                    typed: false,
                    init: self.copy_of(3),
                });
                self.mark_read(&[3]);
                let i = self.rng.below(4);
                let c = self.rng.pick(&[0.5, 0.75, 1.5]);
                out.push(S::Assign {
                    target: format!("{name}[{i}]"),
                    op: Some(Op::Mul),
                    value: Expr::Lit(c),
                });
                let depth = 1 + self.rng.below(2);
                let g = self.operand(depth, &[]);
                self.mark_read(&g.reads);
                let g = if g.bound.mag > 2.0 { self.squash(g) } else { g };
                let j = self.rng.below(4);
                out.push(S::Assign {
                    target: format!("{name}[{j}]"),
                    op: Some(Op::Add),
                    value: g.expr.clone(),
                });
                (2.0 * c + g.bound.mag, 1.5 + g.real, true)
            }
            5 => {
                // let a = [e0, e1, e2, e3];
                let mut items = Vec::new();
                let (mut mag, mut slope, mut active) = (0.0f64, 0.0f64, false);
                for _ in 0..4 {
                    let depth = 1 + self.rng.below(2);
                    let g = self.operand(depth, &[]);
                    self.mark_read(&g.reads);
                    mag = mag.max(g.bound.mag);
                    slope = slope.max(g.real);
                    active |= g.active;
                    items.push(g.expr);
                }
                out.push(S::Let {
                    name: name.clone(),
                    mutable: false,
                    typed: false,
                    init: Init::Elements(items),
                });
                self.env[k].mutable = false;
                (mag, slope, active)
            }
            8 => {
                // for i in 0..4 { if c { a[i] = e1; } else { a[i] = e2; } }
                out.push(zeros);
                self.enter_loop(LoopKind::For, 4);
                let index = self.declare_index(0, 3);
                self.mark_read(&[index]);
                let element = Leaf {
                    text: "v[i]".to_string(),
                    bound: bound(2.0, 1.0),
                    reads: vec![3, index],
                    active: true,
                    preferred: true,
                };
                self.branches += 1;
                let cond = self.cond();
                let tested = self.state();
                let mut joined = None;
                let mut gens = Vec::new();
                for _ in 0..2 {
                    self.restore(&tested);
                    let mut leaves = self.leaves(&[]);
                    leaves.push(element.clone());
                    let depth = 1 + self.rng.below(2);
                    let g = self.expr(depth, &leaves);
                    self.mark_read(&g.reads);
                    Self::join(&mut joined, self.state());
                    gens.push(g);
                }
                self.restore(&joined.expect("a state"));
                self.branches -= 1;
                let target = format!("{name}[i]");
                let assign = |g: &Gen| S::Assign {
                    target: target.clone(),
                    op: None,
                    value: g.expr.clone(),
                };
                let body = vec![S::If(
                    vec![(cond, vec![assign(&gens[0])])],
                    Some(vec![assign(&gens[1])]),
                )];
                self.close_for(body, "i", "0..4", out);
                let g = Self::merge(&gens);
                (g.bound.mag, g.real.max(g.bound.slope), g.active)
            }
            9 => {
                // for i in 0..n { a[i % 4] = a[i % 4] * c1 + e * c2; }: the element read and
                // written again in every iteration is recorded on the loop's tape.
                let from_v = self.rng.percent(50);
                if from_v {
                    out.push(S::Let {
                        name: name.clone(),
                        mutable: true,
                        typed: false,
                        init: self.copy_of(3),
                    });
                    self.mark_read(&[3]);
                } else {
                    out.push(zeros);
                }
                self.mark_read(&[4]);
                let trips = PROGRAM_N_MAX;
                self.enter_loop(LoopKind::For, trips);
                let index = self.declare_index(0, trips - 1);
                let depth = 1 + self.rng.below(2);
                let g = self.operand(depth, &[index + 1]);
                self.mark_read(&g.reads);
                self.mark_read(&[index]);
                let g = self.squash(g);
                let c1 = self.rng.pick(&[0.5, 0.75]);
                let c2 = Self::coefficient(c1, g.bound.slope).min(0.5);
                let element = format!("{name}[i % 4]");
                let body = vec![S::Assign {
                    target: element.clone(),
                    op: None,
                    value: bin(
                        Op::Add,
                        bin(Op::Mul, var(&element), Expr::Lit(c1)),
                        bin(Op::Mul, g.expr.clone(), Expr::Lit(c2)),
                    ),
                }];
                self.close_counted_loop(body, 40, out);
                let start: f64 = if from_v { 2.0 } else { 0.0 };
                (
                    start.max(c2 / (1.0 - c1)),
                    start.min(1.0).max(c2 * g.real / (1.0 - c1)),
                    true,
                )
            }
            10 => {
                // let mut m = [[0.0; 4]; 2]; for i in 0..2 { for j in 0..4 { m[i][j] = e; } }
                out.push(S::Let {
                    name: name.clone(),
                    mutable: true,
                    typed: false,
                    init: Init::Matrix(2),
                });
                self.env[k].max = 2;
                self.enter_loop(LoopKind::For, 2);
                let row = self.declare_index(0, 1);
                self.enter_loop(LoopKind::For, 4);
                let column = self.declare_index(1, 3);
                let mut leaves = self.leaves(&[row + 1]);
                leaves.push(Leaf {
                    text: "v[j]".to_string(),
                    bound: bound(2.0, 1.0),
                    reads: vec![3, column],
                    active: true,
                    preferred: true,
                });
                let depth = 1 + self.rng.below(2);
                let g = self.expr(depth, &leaves);
                self.mark_read(&g.reads);
                self.mark_read(&[row, column]);
                let mut inner = vec![S::Assign {
                    target: format!("{name}[i][j]"),
                    op: None,
                    value: g.expr.clone(),
                }];
                let cast = self.cast_stmt(1);
                let (label, _) = self.leave_loop(&mut inner);
                if let Some(c) = cast {
                    inner.insert(0, c);
                }
                let mut body = vec![S::For {
                    label,
                    pat: "j".to_string(),
                    iter: "0..4".to_string(),
                    body: inner,
                }];
                if self.rng.percent(30) {
                    self.update(&mut body);
                }
                self.close_for(body, "i", "0..2", out);
                let (mag, real) = (g.bound.mag, g.real.max(g.bound.slope));
                if self.rng.percent(50) {
                    // A row, copied: `let a = m[1];`
                    let copy = self.fresh("a");
                    out.push(S::Let {
                        name: copy.clone(),
                        mutable: false,
                        typed: false,
                        init: Init::Copy(format!("{name}[{}]", self.rng.below(2))),
                    });
                    let mut r = Var::new(copy, Ty::Array, Role::Plain, bound(mag, real));
                    r.active = g.active;
                    self.declare(r);
                }
                (mag, real, g.active)
            }
            11 => {
                // let mut a = v; for i in 0..n { a[i % 4] += a[(i + 1) % 4] * (e * c); }: an
                // element updated in place from another one, which may be itself; grad keeps
                // the updated element's adjoint in place when that is safe.
                out.push(S::Let {
                    name: name.clone(),
                    mutable: true,
                    typed: false,
                    init: self.copy_of(3),
                });
                self.mark_read(&[3, 4]);
                let trips = PROGRAM_N_MAX;
                self.enter_loop(LoopKind::For, trips);
                let index = self.declare_index(0, trips - 1);
                let (mut mag, mut real): (f64, f64) = (2.0, 1.0);
                let mut body = Vec::new();
                for _ in 0..1 + self.rng.below(2) {
                    let depth = 1 + self.rng.below(2);
                    let g = self.operand(depth, &[index + 1]);
                    self.mark_read(&g.reads);
                    let g = self.squash(g);
                    let c = if body.is_empty() {
                        self.rng.pick(&[0.05, 0.1, 0.2])
                    } else {
                        self.rng.pick(&[0.05, 0.1])
                    };
                    let indices = [
                        "i % 4",
                        "(i + 1) % 4",
                        "(i + n) % 4",
                        "n % 4",
                        "3 - i % 4",
                        "(i * 3) % 4",
                        "2",
                    ];
                    let (k, j) = if self.rng.percent(75) {
                        ("i % 4", self.rng.pick(&indices))
                    } else {
                        (self.rng.pick(&indices[1..]), "i % 4")
                    };
                    let (target, source) = (format!("{name}[{k}]"), format!("{name}[{j}]"));
                    let step = bin(Op::Mul, g.expr.clone(), Expr::Lit(c));
                    let (op, value) = match self.rng.below(4) {
                        0 => (Some(Op::Add), bin(Op::Mul, var(&source), step)),
                        1 => (Some(Op::Sub), bin(Op::Mul, step, var(&source))),
                        2 => (
                            None,
                            bin(Op::Add, var(&target), bin(Op::Mul, var(&source), step)),
                        ),
                        _ => (
                            None,
                            bin(Op::Add, bin(Op::Mul, var(&source), step), var(&target)),
                        ),
                    };
                    body.push(S::Assign { target, op, value });
                    // Per iteration: |a| grows by (1 + c), its slope by as much plus what
                    // the step adds.
                    for _ in 0..trips {
                        real = real * (1.0 + c) + c * mag * g.real;
                        mag *= 1.0 + c;
                    }
                }
                self.mark_read(&[index]);
                self.close_counted_loop(body, 30, out);
                (mag, real, true)
            }
            _ => {
                // let a = v.map(f64::tanh);
                let method = self.rng.pick(&["tanh", "sin", "atan", "cos"]);
                // `v.map(..)` of `v: &[f64; 4]` does not compile under `#[differentiable]`
                // (E0594 in the expansion): elementwise instead.
                let init = if self.env[3].reference {
                    Init::Elements(
                        (0..4)
                            .map(|i| Expr::Method {
                                name: method,
                                path: false,
                                args: vec![var(&format!("v[{i}]"))],
                            })
                            .collect(),
                    )
                } else {
                    Init::Map("v".to_string(), method)
                };
                out.push(S::Let {
                    name: name.clone(),
                    mutable: false,
                    typed: false,
                    init,
                });
                self.mark_read(&[3]);
                self.env[k].mutable = false;
                (std::f64::consts::FRAC_PI_2, 1.0, true)
            }
        };
        let a = &mut self.env[k];
        a.bound = bound(mag, slope);
        a.active = active;
        a.open = false;
        a.mutated = true;
        a.pending = true;
        // Sometimes loop-carried state, assigned as a whole.
        // Not after a `return`: a new array's first assignment reads it (see `fits`).
        if self.uses.assignment && !self.returned && !self.env[k].sized_n && self.env[k].max == 0 {
            let want = std::mem::take(&mut self.want_state);
            if want || self.rng.percent(40) {
                self.make_state(k, out);
            }
        }
    }

    // --- the constructs of issue 15 -----------------------------------------------------------

    /// Maybe one of the constructs the program uses, at `site`: whether it added one. Draws
    /// no random number in a program that uses none.
    fn extra(&mut self, out: &mut Vec<S>, site: Site) -> bool {
        if self.uses == Uses::default() || (site != Site::Top && self.branches >= 3) {
            return false;
        }
        let options: Vec<Construct> = CONSTRUCTS
            .into_iter()
            .filter(|&c| self.uses.has(c) && self.fits(c, site))
            .collect();
        let percent = if site == Site::Top { 30 } else { 8 };
        if options.is_empty() || !self.rng.percent(percent) {
            return false;
        }
        let c = self.rng.pick(&options);
        self.construct(c, site, out);
        true
    }

    /// Whether construct `c` can go at `site` now.
    fn fits(&self, c: Construct, site: Site) -> bool {
        match c {
            Construct::Patterns | Construct::Options => true,
            // In a loop that assigns an array as a whole, grad reads the array only at the top
            // level of the loop's body, not in a nested branch, loop or iterator, nor as a
            // call's argument ("cannot yet differentiate this read"): whole assignments in
            // loops are only those of `state_loop`, whose body is straight-line.
            // In a branch, grad refuses a whole assignment reading the array itself: there,
            // `a = b;` or new elements that do not read `a` (see `array_update`). So it does
            // after a `return` (`if c { return e; } a = [a[1], ..];`): grad takes what follows
            // a conditional `return` as the other branch.
            Construct::Assignment => {
                site == Site::Top
                    || (site == Site::Branch
                        && !self.in_loop()
                        && !self.branch_state_arrays().is_empty())
            }
            Construct::Blocks => self.blocks.len() < 2,
            // Closures and iterator chains at the top level only, where slopes are real ones.
            Construct::Closures | Construct::Adaptors => {
                site == Site::Top && !self.in_loop() && self.branches == 0
            }
            Construct::Passthrough | Construct::Modes => true,
        }
    }

    fn construct(&mut self, c: Construct, site: Site, out: &mut Vec<S>) {
        let index = CONSTRUCTS
            .iter()
            .position(|&d| d == c)
            .expect("a construct");
        self.used[index] = true;
        match c {
            Construct::Patterns => self.array_pattern(out),
            Construct::Assignment => {
                let states = if site == Site::Branch || self.returned {
                    self.branch_state_arrays()
                } else {
                    self.state_arrays()
                };
                if site == Site::Top && (states.is_empty() || self.rng.percent(40)) {
                    // A new local array, made state.
                    self.want_state = true;
                    self.array(out);
                    self.want_state = false;
                } else if states.is_empty() {
                    self.array_pattern(out);
                } else {
                    let k = self.rng.pick(&states);
                    if site == Site::Top && self.rng.percent(50) {
                        self.state_loop(k, out);
                    } else {
                        self.array_update(k, out);
                    }
                }
            }
            Construct::Blocks => self.labeled_block(out),
            Construct::Options => match self.rng.below(100) {
                0..=21 => self.if_let_stmt(out),
                22..=41 => self.if_let_value(out),
                42..=61 => self.let_else(out),
                62..=81 => self.option_match(out, false),
                _ => self.option_match(out, true),
            },
            Construct::Closures => self.closure(out),
            Construct::Adaptors => self.adaptor(out),
            Construct::Passthrough => self.passthrough(out),
            Construct::Modes => {
                let value = self.rng.percent(50);
                self.mode_match(out, value)
            }
        }
    }

    // Array patterns.

    /// `let [b0, _, b2, b3] = a;` of a complete array of four (`*v` of a reference), `let
    /// [r0, [b1, _, _, b2]] = m;` of a matrix, or `let [b0, b1] = [e0, e1];`: the names are
    /// floats (a matrix's row an array) like any other.
    fn array_pattern(&mut self, out: &mut Vec<S>) {
        // Not a slice, nor `[f64; N]`, whose length a pattern cannot name.
        let arrays: Vec<usize> = (0..self.env.len())
            .filter(|&k| {
                let a = &self.env[k];
                a.ty == Ty::Array && !a.open && !a.hidden && !a.slice && !a.sized_n
            })
            .collect();
        if arrays.is_empty() || self.rng.percent(25) {
            let len = 2 + self.rng.below(3);
            let mut items = Vec::new();
            let mut gens = Vec::new();
            for _ in 0..len {
                let depth = 1 + self.rng.below(2);
                let g = self.operand(depth, &[]);
                self.mark_read(&g.reads);
                items.push(g.expr.clone());
                gens.push(g);
            }
            // Declared after every element: no element reads them.
            let mut pats = Vec::new();
            for (i, g) in gens.iter().enumerate() {
                if i > 0 && self.rng.percent(20) {
                    pats.push(Pat::Wild);
                } else {
                    let name = self.fresh("b");
                    self.bind_float(name.clone(), g);
                    pats.push(Pat::Name(name));
                }
            }
            out.push(S::LetPat {
                pat: Pat::Array(pats),
                init: Init::Elements(items),
            });
            return;
        }
        let a = self.rng.pick(&arrays);
        self.mark_read(&[a]);
        let an = self.env[a].name.clone();
        let source = if self.env[a].reference {
            format!("*{an}")
        } else {
            an
        };
        let rows = self.env[a].max;
        let mut named = false;
        // A row is an array, which only the function's tail reads (`finish`): at the top.
        let top = self.scopes.len() == 1;
        let pat = if rows > 0 {
            let items = (0..rows)
                .map(|_| {
                    if top && self.rng.percent(50) {
                        named = true;
                        let name = self.fresh("r");
                        let mut r =
                            Var::new(name.clone(), Ty::Array, Role::Plain, self.env[a].bound);
                        r.active = self.env[a].active;
                        self.declare(r);
                        Pat::Name(name)
                    } else {
                        Pat::Array((0..4).map(|_| self.element_pat(a, &mut named)).collect())
                    }
                })
                .collect();
            Pat::Array(items)
        } else {
            Pat::Array((0..4).map(|_| self.element_pat(a, &mut named)).collect())
        };
        let pat = if named {
            pat
        } else {
            // At least one name.
            let Pat::Array(mut items) = pat else {
                unreachable!("an array pattern")
            };
            items[0] = match items[0] {
                Pat::Array(_) => {
                    Pat::Array((0..4).map(|_| self.element_pat(a, &mut named)).collect())
                }
                _ => self.element_pat(a, &mut named),
            };
            if !named {
                let name = self.fresh("b");
                self.bind_element(a, name.clone());
                let first = match &mut items[0] {
                    Pat::Array(inner) => &mut inner[0],
                    other => other,
                };
                *first = Pat::Name(name);
            }
            Pat::Array(items)
        };
        out.push(S::LetPat {
            pat,
            init: Init::Copy(source),
        });
    }

    /// `_`, or a new float with the bounds of an element of array `a`.
    fn element_pat(&mut self, a: usize, named: &mut bool) -> Pat {
        if self.rng.percent(35) {
            return Pat::Wild;
        }
        *named = true;
        let name = self.fresh("b");
        self.bind_element(a, name.clone());
        Pat::Name(name)
    }

    fn bind_element(&mut self, a: usize, name: String) {
        let mut v = Var::new(name, Ty::Float, Role::Plain, self.env[a].bound);
        v.lip = if self.in_loop() {
            self.slope_of(a)
        } else {
            1.0
        };
        v.active = self.env[a].active;
        self.declare(v);
    }

    // Whole-array assignment.

    /// The local arrays that are loop-carried state, assignable here: not read in a nested
    /// region yet (see `Var::read_nested`).
    fn state_arrays(&self) -> Vec<usize> {
        (0..self.env.len())
            .filter(|&k| {
                let a = &self.env[k];
                a.ty == Ty::Array
                    && a.role == Role::Carried
                    && a.mutable
                    && !a.open
                    && !a.hidden
                    && !a.iterating
                    && !a.read_nested
            })
            .collect()
    }

    /// The state arrays that a branch may assign as a whole (see `fits`): read since their
    /// last write on every path (the new value does not read the old one).
    fn branch_state_arrays(&self) -> Vec<usize> {
        self.state_arrays()
            .into_iter()
            .filter(|&k| !self.env[k].pending)
            .collect()
    }

    /// Makes the complete local array `k` loop-carried state (`let mut`), and assigns it as a
    /// whole once, here or in a loop of its own.
    fn make_state(&mut self, k: usize, out: &mut Vec<S>) {
        let name = self.env[k].name.clone();
        for s in out.iter_mut().rev() {
            if let S::Let {
                name: n, mutable, ..
            } = s
                && *n == name
            {
                *mutable = true;
                break;
            }
        }
        self.env[k].mutable = true;
        self.env[k].role = Role::Carried;
        if self.rng.percent(50) {
            self.array_update(k, out);
        } else {
            self.state_loop(k, out);
        }
    }

    /// `for i in range { ..; a = [..]; ..; }` of the state array `k`, the other statements
    /// straight-line (see `fits`): updates, `let`s, array patterns.
    fn state_loop(&mut self, k: usize, out: &mut Vec<S>) {
        let depth = self.loops.len();
        let (iter, max, trips) = self.range();
        self.enter_loop(LoopKind::For, trips);
        let index = self.declare_index(depth, max);
        let mut body = Vec::new();
        let straight = |this: &mut Self, body: &mut Vec<S>| match this.rng.below(10) {
            0..=4 => this.update(body),
            5..=7 => this.let_expr(body),
            _ if this.uses.patterns => this.array_pattern(body),
            _ => this.update(body),
        };
        // Its reads here are at the top level of the body, which the loop's tape covers; after
        // a `return`, none (see `fits`).
        self.state_body = Some(k);
        let hidden = self.env[k].hidden;
        self.env[k].hidden |= self.returned;
        if self.rng.percent(40) {
            straight(self, &mut body);
        }
        self.array_update(k, &mut body);
        if self.rng.percent(40) {
            straight(self, &mut body);
        }
        self.env[k].hidden = hidden;
        self.state_body = None;
        let index_read = self.env[index].read;
        let cast = self.cast_stmt(depth);
        let (label, _) = self.leave_loop(&mut body);
        if let Some(c) = cast {
            body.insert(0, c);
        }
        let pat = if index_read {
            INDEX_NAMES[depth].to_string()
        } else {
            "_".to_string()
        };
        out.push(S::For {
            label,
            pat,
            iter,
            body,
        });
    }

    /// `a = b;` of another complete array of four, or `a = [e0, e1, e2, e3];` whose elements
    /// are elements of the old `a` (at least one), `a[j] * c1 + e * c2` (also under `sin` or
    /// as `mul_add`), or `e * c2`: each a contraction in the state, as `carried_update`'s.
    fn array_update(&mut self, k: usize, out: &mut Vec<S>) {
        let name = self.env[k].name.clone();
        let old = self.env[k].bound;
        let in_loop = self.in_loop();
        // In a branch, or after a `return`, the new value does not read the old (see `fits`).
        let in_branch = self.branches > 0 || !self.blocks.is_empty() || self.returned;
        // `a = b;` only where every path read the old value (else it would never be read): out
        // of branches, an update reading an element of it first if need be.
        if (!in_branch || !self.env[k].pending) && self.rng.percent(if in_branch { 50 } else { 25 })
        {
            let others: Vec<usize> = self
                .vectors()
                .into_iter()
                .filter(|&b| {
                    let v = &self.env[b];
                    b != k && !v.reference && !v.slice && !v.sized_n && !v.hidden
                })
                .collect();
            if !others.is_empty() {
                if self.env[k].pending {
                    let j = self.rng.below(4);
                    let leaf = Gen {
                        expr: var(&format!("{name}[{j}]")),
                        bound: bound(old.mag, self.slope_of(k)),
                        real: old.slope,
                        reads: vec![k],
                        active: self.env[k].active,
                    };
                    let leaf = self.maybe_squashed(leaf);
                    let carried = self.of_role(Role::Carried);
                    let c = self.rng.pick(&carried);
                    self.carried_update(c, Some(leaf), out);
                }
                let b = self.rng.pick(&others);
                self.mark_read(&[b]);
                let (bb, active) = (self.env[b].bound, self.env[b].active);
                out.push(S::AssignArray {
                    target: name,
                    init: Init::Copy(self.env[b].name.clone()),
                });
                self.cost += self.multiplier;
                // (Not shrinking in a branch: see `carried_update`.)
                let keeps_old = in_loop || self.branches > 0 || !self.blocks.is_empty();
                let v = &mut self.env[k];
                v.bound.mag = if keeps_old {
                    old.mag.max(bb.mag)
                } else {
                    bb.mag
                };
                if !in_loop {
                    v.bound.slope = bb.slope;
                }
                v.active |= active;
                v.mutated = true;
                v.read = true;
                v.pending = true;
                return;
            }
        }
        let reader = if in_branch { 4 } else { self.rng.below(4) };
        let mut items = Vec::new();
        let (mut mag, mut slope, mut active): (f64, f64, bool) = (0.0, 0.0, false);
        // Not a leaf of the new elements in a branch.
        let hidden = self.env[k].hidden;
        self.env[k].hidden |= in_branch;
        for i in 0..4 {
            let j = self.rng.below(4);
            let old_j = var(&format!("{name}[{j}]"));
            let roll = if in_branch { 99 } else { self.rng.below(100) };
            if roll < 30 {
                // `a[j]`
                items.push(old_j);
                mag = mag.max(old.mag);
                slope = slope.max(old.slope);
                active |= self.env[k].active;
                continue;
            }
            let depth = 1 + usize::from(self.rng.percent(35));
            let g = self.operand(depth, &[]);
            self.mark_read(&g.reads);
            active |= g.active;
            if roll < 85 || i == reader {
                let e = if g.bound.mag > 1.0 || self.rng.percent(50) {
                    self.squash(g)
                } else {
                    g
                };
                let c1 = self.rng.pick(&[0.5, 0.6, 0.75, 0.8]);
                let c2 = Self::coefficient(c1, e.bound.slope);
                let (c1l, c2l) = (Expr::Lit(c1), Expr::Lit(c2));
                let (value, m) = match self.rng.below(4) {
                    0 => (
                        bin(
                            Op::Add,
                            bin(Op::Mul, old_j, c1l),
                            bin(Op::Mul, e.expr.clone(), c2l),
                        ),
                        c2 * e.bound.mag,
                    ),
                    1 => (
                        bin(
                            Op::Add,
                            bin(Op::Mul, c2l, e.expr.clone()),
                            bin(Op::Mul, c1l, old_j),
                        ),
                        c2 * e.bound.mag,
                    ),
                    2 => (
                        Expr::Method {
                            name: "mul_add",
                            path: self.rng.percent(30),
                            args: vec![old_j, c1l, bin(Op::Mul, e.expr.clone(), c2l)],
                        },
                        c2 * e.bound.mag,
                    ),
                    _ => (
                        Expr::Method {
                            name: self.rng.pick(&["sin", "tanh"]),
                            path: false,
                            args: vec![bin(
                                Op::Add,
                                bin(Op::Mul, old_j, c1l),
                                bin(Op::Mul, e.expr.clone(), c2l),
                            )],
                        },
                        f64::NAN,
                    ),
                };
                let m = if m.is_nan() {
                    // Within [-1, 1].
                    if in_loop { old.mag.max(1.0) } else { 1.0 }
                } else if in_loop {
                    old.mag.max(m / (1.0 - c1))
                } else {
                    c1 * old.mag + m
                };
                mag = mag.max(m);
                slope = slope.max(c1 * old.slope + c2 * e.real);
                active |= self.env[k].active;
                items.push(value);
            } else {
                // `e * c2`, forgetting the old element.
                let e = self.squash(g);
                let c2 = Self::coefficient(0.0, e.bound.slope);
                items.push(bin(Op::Mul, e.expr.clone(), Expr::Lit(c2)));
                mag = mag.max(if in_loop { old.mag.max(c2) } else { c2 });
                slope = slope.max(c2 * e.real);
            }
        }
        self.env[k].hidden = hidden;
        if !in_branch {
            self.mark_read(&[k]);
        }
        self.cost += self.multiplier * (4.0 + items.iter().map(size).sum::<f64>());
        out.push(S::AssignArray {
            target: name,
            init: Init::Elements(items),
        });
        // (Not shrinking in a branch: see `carried_update`.)
        let keeps_old = in_loop || self.branches > 0 || !self.blocks.is_empty();
        let v = &mut self.env[k];
        v.bound.mag = if keeps_old { old.mag.max(mag) } else { mag };
        if !in_loop {
            v.bound.slope = slope;
        }
        v.active |= active;
        v.mutated = true;
        v.read = true;
        v.pending = true;
    }

    // Labeled blocks.

    /// `let y = 'b0: { ..; if c { break 'b0 e1; } ..; e2 };` or the statement `'b0: { ..;
    /// if c { break 'b0; } ..; }`, also breaking out of a loop inside the block.
    fn labeled_block(&mut self, out: &mut Vec<S>) {
        let value = !LABELED_STATEMENTS || self.rng.percent(65);
        let label = format!("'b{}", self.labels);
        self.labels += 1;
        self.blocks.push(BlockFrame {
            label: label.clone(),
            depth: self.loops.len(),
            value,
            exit: None,
            gens: Vec::new(),
            breaks: 0,
        });
        self.scopes.push(self.env.len());
        let mut stmts = Vec::new();
        for _ in 0..1 + self.rng.below(3) {
            match self.rng.below(100) {
                0..=39 => self.block_break(&mut stmts),
                40..=59 if self.loops.len() < 2 && self.cost < COST_BUDGET => {
                    // A loop whose body leaves the block.
                    self.want_block_break = true;
                    if self.rng.percent(70) {
                        self.for_loop(&mut stmts);
                    } else {
                        self.while_loop(&mut stmts);
                    }
                    assert!(!self.want_block_break, "a loop body took the break");
                }
                60..=79 => self.let_expr(&mut stmts),
                80..=87 if self.branches < 3 => self.if_stmt(&mut stmts),
                _ => self.update(&mut stmts),
            }
        }
        // A label no `break` names warns.
        if self.blocks.last().expect("a labeled block").breaks == 0 {
            self.block_break_to(self.blocks.len() - 1, &mut stmts);
        }
        if value {
            let depth = 1 + self.rng.below(2);
            let mut tail = self.operand(depth, &[]);
            self.mark_read(&tail.reads);
            let start = *self.scopes.last().expect("a scope");
            let pending: Vec<usize> = (start..self.env.len())
                .filter(|&k| self.env[k].ty == Ty::Float && self.env[k].pending)
                .collect();
            for k in pending {
                let leaf = self.read_of(k);
                let s = self.squash(leaf);
                tail = Gen {
                    expr: bin(Op::Add, tail.expr, s.expr),
                    bound: bound(tail.bound.mag + 1.0, tail.bound.slope + s.bound.slope),
                    real: tail.real + s.real,
                    reads: [tail.reads, s.reads].concat(),
                    active: tail.active || s.active,
                };
            }
            if tail.expr.is_leaf() {
                tail = self.squash(tail);
            }
            self.mark_read(&tail.reads);
            let end = self.state();
            self.pop_scope();
            let frame = self.blocks.pop().expect("a labeled block");
            let mut exit = frame.exit;
            Self::join(&mut exit, end);
            self.restore(&exit.expect("a state"));
            let mut gens = frame.gens;
            gens.push(tail.clone());
            let g = Self::merge(&gens);
            let name = self.fresh("v");
            out.push(S::Let {
                name: name.clone(),
                mutable: false,
                typed: self.rng.percent(20),
                init: Init::Labeled(
                    label,
                    Block {
                        stmts,
                        tail: tail.expr,
                        diverges: false,
                    },
                ),
            });
            self.bind_float(name, &g);
        } else {
            self.close_scope(&mut stmts);
            let end = self.state();
            self.pop_scope();
            let frame = self.blocks.pop().expect("a labeled block");
            let mut exit = frame.exit;
            Self::join(&mut exit, end);
            self.restore(&exit.expect("a state"));
            out.push(S::Labeled { label, body: stmts });
        }
    }

    /// `if c { [update;] break 'b0 [e]; }` to the innermost labeled block (or, now and then,
    /// another open one).
    fn block_break(&mut self, out: &mut Vec<S>) {
        let b = if self.blocks.len() > 1 && self.rng.percent(30) {
            self.rng.below(self.blocks.len())
        } else {
            self.blocks.len() - 1
        };
        self.block_break_to(b, out);
    }

    /// `if c { [update;] break 'b [e]; }` to the labeled block `b`.
    fn block_break_to(&mut self, b: usize, out: &mut Vec<S>) {
        self.blocks[b].breaks += 1;
        self.branches += 1;
        let cond = self.cond();
        let tested = self.state();
        let mut body = Vec::new();
        if self.rng.percent(30) {
            self.update(&mut body);
        }
        let label = self.blocks[b].label.clone();
        if self.blocks[b].value {
            let depth = 1 + self.rng.below(2);
            let g = self.operand(depth, &[]);
            self.mark_read(&g.reads);
            body.push(S::Break(Some(label), Some(g.expr.clone())));
            self.blocks[b].gens.push(g);
        } else {
            body.push(S::Break(Some(label), None));
        }
        let state = self.state();
        Self::join(&mut self.blocks[b].exit, state);
        self.restore(&tested);
        self.branches -= 1;
        out.push(S::If(vec![(cond, body)], None));
    }

    // `Option` patterns.

    /// A constant `Option<usize>`: its text, the largest value it holds, and its reads.
    fn option_source(&mut self) -> (String, usize, Vec<usize>) {
        let nm = PROGRAM_N_MAX;
        let others: Vec<usize> = self.ints().into_iter().filter(|&k| k != 4).collect();
        let kinds = if OPTION_FROM_GET { 5 } else { 4 };
        match self.rng.below(kinds) {
            2 => {
                let m = self.rng.pick(&[3, 4]);
                (format!("(n % {m}).checked_sub(1)"), m - 2, vec![4])
            }
            3 if !others.is_empty() => {
                // `(i + n)` makes `i` a `usize` whatever else it is compared with.
                let k = self.rng.pick(&others);
                let c = 1 + self.rng.below(3);
                let max = (self.env[k].max + nm).saturating_sub(c).max(1);
                (
                    format!("({} + n).checked_sub({c})", self.env[k].name),
                    max,
                    vec![k, 4],
                )
            }
            4 => ("[1usize, 3, 5].get(n % 4).copied()".to_string(), 5, vec![4]),
            _ => {
                let c = 1 + self.rng.below(3);
                (format!("n.checked_sub({c})"), nm - c, vec![4])
            }
        }
    }

    /// Declares the integer `name` (at most `max`) in the current scope.
    fn declare_int(&mut self, name: String, max: usize) -> usize {
        let mut k = Var::new(name, Ty::Int, Role::Count, bound(0.0, 0.0));
        k.max = max;
        k.active = false;
        k.pending = false;
        k.bound_by_pattern = true;
        self.declare(k)
    }

    /// `let c = k as f64;` of the integer `k`, first in a body, where `prelude` says so.
    fn prelude(&mut self, prelude: Prelude, out: &mut Vec<S>) -> Option<usize> {
        let Prelude::Cast(k) = prelude else {
            return None;
        };
        let name = self.fresh("c");
        out.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: false,
            init: Init::Cast(self.env[k].name.clone()),
        });
        self.mark_read(&[k]);
        let mut v = Var::new(
            name,
            Ty::Float,
            Role::Plain,
            bound(self.env[k].max as f64, 0.0),
        );
        v.active = false;
        v.lip = 0.0;
        Some(self.declare(v))
    }

    /// Runs `f` with a new integer `k` (at most `max`) in scope, which `f`'s body may start
    /// with `let c = k as f64;`: the pattern, `Some(k)` (with a guard on `k` if `guard`) or
    /// `Some(_)` where nothing read `k`, and `f`'s result.
    fn bind_some<R>(
        &mut self,
        max: usize,
        guard: bool,
        f: impl FnOnce(&mut Self, Prelude) -> R,
    ) -> (String, R) {
        self.scopes.push(self.env.len());
        let name = self.fresh("k");
        let k = self.declare_int(name.clone(), max);
        let guard = guard.then(|| {
            self.mark_read(&[k]);
            match self.rng.below(3) {
                0 => format!(" if {name} > {}", self.rng.below(max.max(1))),
                1 => format!(" if {name} % 2 == 0"),
                _ => format!(" if {name} < {}", 1 + self.rng.below(max.max(1))),
            }
        });
        let prelude = if self.rng.percent(50) {
            Prelude::Cast(k)
        } else {
            Prelude::None
        };
        let r = f(self, prelude);
        let read = self.env[k].read;
        self.pop_scope();
        let pat = match guard {
            Some(guard) => format!("Some({name}){guard}"),
            None if read => format!("Some({name})"),
            None => "Some(_)".to_string(),
        };
        (pat, r)
    }

    /// `if let Some(k) = opt { .. } [else if c { .. }] [else { .. }]` updating variables.
    fn if_let_stmt(&mut self, out: &mut Vec<S>) {
        let (source, max, reads) = self.option_source();
        self.mark_read(&reads);
        self.branches += 1;
        let tested = self.state();
        let (pat, body) = self.bind_some(max, false, |g, prelude| g.branch_body_with(prelude));
        let mut joined = Some(self.state());
        self.restore(&tested);
        let mut arms = vec![(Cond::Let(format!("let {pat} = {source}")), body)];
        if self.rng.percent(30) {
            // `else if c`, or `if c { .. } else if let ..`.
            let cond = self.cond();
            let tested = self.state();
            let body = self.branch_body();
            Self::join(&mut joined, self.state());
            self.restore(&tested);
            if self.rng.percent(50) {
                arms.push((cond, body));
            } else {
                arms.insert(0, (cond, body));
            }
        }
        let otherwise = if self.rng.percent(60) {
            Some(self.branch_body())
        } else {
            None
        };
        Self::join(&mut joined, self.state());
        self.restore(&joined.expect("a state"));
        self.branches -= 1;
        out.push(S::If(arms, otherwise));
    }

    /// `let v = if let Some(k) = opt { .. } else { .. };`
    fn if_let_value(&mut self, out: &mut Vec<S>) {
        let (source, max, reads) = self.option_source();
        self.mark_read(&reads);
        self.branches += 1;
        let tested = self.state();
        let (pat, (block, g)) = self.bind_some(max, false, |this, prelude| {
            this.value_block_with(false, prelude)
        });
        let mut joined = Some(self.state());
        self.restore(&tested);
        let (otherwise, h) = self.value_block(false);
        Self::join(&mut joined, self.state());
        self.restore(&joined.expect("a state"));
        self.branches -= 1;
        let g = Self::merge(&[g, h]);
        let name = self.fresh("v");
        out.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: self.rng.percent(20),
            init: Init::If(
                vec![(Cond::Let(format!("let {pat} = {source}")), block)],
                otherwise,
            ),
        });
        self.bind_float(name, &g);
    }

    /// `let Some(k) = opt else { return e; }; let c = k as f64;`, `k` and `c` in scope after.
    fn let_else(&mut self, out: &mut Vec<S>) {
        let (source, max, reads) = self.option_source();
        self.mark_read(&reads);
        self.branches += 1;
        let tested = self.state();
        let (otherwise, g) = self.value_block(true);
        self.ret.mag = self.ret.mag.max(g.bound.mag);
        self.ret.slope = self.ret.slope.max(g.real);
        self.restore(&tested);
        self.branches -= 1;
        let name = self.fresh("k");
        let k = self.declare_int(name.clone(), max);
        out.push(S::LetElse {
            pat: format!("Some({name})"),
            scrutinee: source,
            otherwise,
        });
        self.prelude(Prelude::Cast(k), out);
    }

    /// `match opt { Some(0) => .., Some(k) if k > 1 => .., Some(_) => .., None => .. }`
    /// updating variables or, with `value`, as the value of a `let`.
    fn option_match(&mut self, out: &mut Vec<S>, value: bool) {
        #[derive(Clone, Copy)]
        enum Arm {
            Value,
            Guard,
            Any,
            None,
        }
        let (source, max, reads) = self.option_source();
        self.mark_read(&reads);
        let mut kinds = Vec::new();
        if max >= 1 && self.rng.percent(40) {
            kinds.push(Arm::Value);
        }
        if max >= 2 && self.rng.percent(60) {
            kinds.push(Arm::Guard);
        }
        kinds.push(Arm::Any);
        let none_first = self.rng.percent(25);
        if none_first {
            kinds.insert(0, Arm::None);
        } else {
            kinds.push(Arm::None);
        }
        self.branches += 1;
        let before = self.state();
        let mut joined = None;
        let mut stmt_arms = Vec::new();
        let mut value_arms = Vec::new();
        let mut gens = Vec::new();
        for kind in kinds {
            self.restore(&before);
            let pat = match kind {
                Arm::Value => Some(match self.rng.below(3) {
                    0 => "Some(0)".to_string(),
                    1 if max >= 2 => "Some(1 | 2)".to_string(),
                    _ => "Some(0..=1)".to_string(),
                }),
                Arm::None if !none_first && self.rng.percent(30) => Some("_".to_string()),
                Arm::None => Some("None".to_string()),
                Arm::Guard | Arm::Any => None,
            };
            let guard = matches!(kind, Arm::Guard);
            if value {
                let (pat, (block, g)) = match pat {
                    Some(pat) => (pat, self.value_block(false)),
                    None => self.bind_some(max, guard, |this, prelude| {
                        this.value_block_with(false, prelude)
                    }),
                };
                value_arms.push((pat, block));
                gens.push(g);
            } else {
                let (pat, body) = match pat {
                    Some(pat) => (pat, self.branch_body()),
                    None => {
                        self.bind_some(max, guard, |this, prelude| this.branch_body_with(prelude))
                    }
                };
                stmt_arms.push((pat, body));
            }
            Self::join(&mut joined, self.state());
        }
        self.restore(&joined.expect("a state"));
        self.branches -= 1;
        if value {
            let g = Self::merge(&gens);
            let name = self.fresh("v");
            out.push(S::Let {
                name: name.clone(),
                mutable: false,
                typed: self.rng.percent(20),
                init: Init::Match(source, value_arms),
            });
            self.bind_float(name, &g);
        } else {
            out.push(S::Match(source, stmt_arms));
        }
    }

    // --- the program ---------------------------------------------------------------------------

    fn program(&mut self) -> (Vec<S>, Expr, Bound) {
        let (mut stmts, tail, result) = self.program_body();
        if self.const_body {
            // The body's `const` items that patterns name, first.
            let items: Vec<S> = (0..BODY_CONSTS.len())
                .filter(|&v| self.consts_used[v])
                .map(|v| S::Raw(format!("const {}: usize = {v};", BODY_CONSTS[v])))
                .collect();
            stmts.splice(0..0, items);
        }
        (stmts, tail, result)
    }

    fn program_body(&mut self) -> (Vec<S>, Expr, Bound) {
        let mut out = Vec::new();
        if self.shape.tuple && self.env[1].name == "x1" {
            out.push(S::Raw("let (x1, x2) = p;".to_string()));
        }
        if let Some(s) = self.shape.strukt {
            // The struct's array read into a typed local (grad reads `p.w.iter()` as a
            // constant: README), and its scalars unless read in place.
            let p = s.name();
            out.push(S::Let {
                name: "v".to_string(),
                mutable: false,
                typed: true,
                init: Init::Field(format!("{p}.w")),
            });
            if self.env[1].name == "x1" {
                for (x, field) in [("x1", "a"), ("x2", "inner.b")] {
                    out.push(S::Let {
                        name: x.to_string(),
                        mutable: false,
                        typed: true,
                        init: Init::Field(format!("{p}.{field}")),
                    });
                }
            }
        }
        if self.env[3].reference && !self.env[3].slice && self.rng.percent(30) {
            // `let w = v;`: another reference to the same array.
            let name = self.fresh("w");
            out.push(S::Let {
                name: name.clone(),
                mutable: false,
                typed: false,
                init: Init::Copy("v".to_string()),
            });
            self.mark_read(&[3]);
            let mut alias = Var::new(name, Ty::Array, Role::Plain, self.env[3].bound);
            alias.reference = true;
            self.declare(alias);
        }
        // The carried variables and an accumulator.
        for _ in 0..1 + self.rng.below(3) {
            let depth = 1 + self.rng.below(2);
            let g = self.operand(depth, &[]);
            self.mark_read(&g.reads);
            let g = if g.bound.mag > 2.0 {
                let s = self.squash(g);
                Gen {
                    expr: bin(Op::Mul, s.expr, Expr::Lit(2.0)),
                    bound: bound(2.0, 2.0 * s.bound.slope),
                    real: 2.0 * s.real,
                    ..s
                }
            } else {
                g
            };
            let name = self.fresh("s");
            out.push(S::Let {
                name: name.clone(),
                mutable: true,
                typed: self.rng.percent(15),
                init: Init::Expr(g.expr.clone()),
            });
            let k = self.bind_float(name, &g);
            self.env[k].role = Role::Carried;
            self.env[k].mutable = true;
        }
        let name = self.fresh("acc");
        out.push(S::Let {
            name: name.clone(),
            mutable: true,
            // `0.0` alone would leave its type open for `acc.sin()`.
            typed: true,
            init: Init::Expr(Expr::Lit(0.0)),
        });
        let mut acc = Var::new(name, Ty::Float, Role::Acc, bound(0.0, 0.0));
        acc.mutable = true;
        acc.active = false;
        acc.pending = false;
        self.declare(acc);

        if self.shape.generic {
            // A local `[0.0; N]` filled over `0..N`: the program reads its `N`.
            self.array_of_form(0, &mut out);
        }
        let segments = 4 + self.rng.below(3);
        let mut loops = 0;
        for s in 0..segments {
            let over = self.cost > COST_BUDGET;
            let want_loop = s == segments - 1 && loops == 0;
            let before = out.len();
            if !over && !want_loop && self.extra(&mut out, Site::Top) {
                continue;
            }
            let roll = if want_loop {
                self.rng.below(54)
            } else {
                self.rng.below(106)
            };
            match roll {
                _ if over => self.cheap_segment(&mut out),
                0..=13 => self.for_loop(&mut out),
                14..=21 => {
                    self.want_inner = true;
                    self.for_loop(&mut out);
                }
                22..=27 => self.while_loop(&mut out),
                28..=31 => self.loop_stmt(&mut out, false),
                32..=36 => self.loop_stmt(&mut out, true),
                37..=43 => self.array(&mut out),
                44..=47 => self.counting_loop(&mut out),
                48..=53 => self.running_extreme(&mut out),
                54..=61 => self.if_stmt(&mut out),
                62..=67 => self.let_if(&mut out),
                68..=72 => self.match_stmt(&mut out, None),
                73..=77 => self.let_match(&mut out),
                78..=85 => self.let_iter(&mut out),
                86..=90 => self.let_call(&mut out),
                91..=94 => self.early_return(&mut out),
                95..=100 => self.let_expr(&mut out),
                _ => self.update(&mut out),
            }
            if out[before..].iter().any(|s| {
                matches!(
                    s,
                    S::For { .. }
                        | S::While { .. }
                        | S::Loop { .. }
                        | S::Let {
                            init: Init::Loop(..),
                            ..
                        }
                )
            }) {
                loops += 1;
            }
        }
        // Each construct the program uses, at least once.
        for (c, construct) in CONSTRUCTS.into_iter().enumerate() {
            if self.uses.has(construct) && !self.used[c] {
                self.construct(construct, Site::Top, &mut out);
            }
        }
        self.finish(out)
    }

    fn cheap_segment(&mut self, out: &mut Vec<S>) {
        match self.rng.below(4) {
            0 => self.let_expr(out),
            1 => self.let_if(out),
            2 => self.update(out),
            _ => self.let_iter(out),
        }
    }

    /// Mutates every `let mut` not mutated yet, reads `n`, and returns a tail reading every
    /// float and array not read since its last assignment.
    fn finish(&mut self, mut out: Vec<S>) -> (Vec<S>, Expr, Bound) {
        for k in 0..self.env.len() {
            let v = &self.env[k];
            if v.ty == Ty::Float && v.mutable && !v.mutated {
                if v.role == Role::Acc {
                    self.acc_update(k, None, &mut out);
                } else {
                    self.carried_update(k, None, &mut out);
                }
            }
        }
        if !self.env[4].read {
            self.match_stmt(&mut out, Some(("n".to_string(), PROGRAM_N_MAX, vec![4])));
        }
        let mut terms: Vec<Gen> = Vec::new();
        for k in 0..self.env.len() {
            let v = &self.env[k];
            let text = match v.ty {
                Ty::Float if v.pending || !v.read => v.name.clone(),
                Ty::Array if v.pending || !v.read => {
                    let row = if v.max > 0 { "[0]" } else { "" };
                    format!("{}{row}[{}]", v.name, self.rng.below(4))
                }
                _ => continue,
            };
            let v = &self.env[k];
            let leaf = Gen {
                expr: var(&text),
                bound: v.bound,
                real: v.bound.slope,
                reads: vec![k],
                active: v.active,
            };
            let term = match self.rng.below(3) {
                0 if leaf.bound.mag <= 4.0 => leaf,
                1 if leaf.bound.mag <= 4.0 => {
                    let l = self.rng.pick(&[0.25, 0.5, 0.75, 1.5]);
                    Gen {
                        expr: bin(Op::Mul, leaf.expr, Expr::Lit(l)),
                        bound: bound(leaf.bound.mag * l, leaf.bound.slope * l),
                        real: leaf.real * l,
                        ..leaf
                    }
                }
                _ => self.squash(leaf),
            };
            terms.push(term);
        }
        if terms.is_empty() || self.rng.percent(40) {
            let depth = 1 + self.rng.below(2);
            let g = self.operand(depth, &[]);
            terms.push(g);
        }
        let mut iter = terms.into_iter();
        let mut tail = iter.next().expect("a term");
        for t in iter {
            let op = if self.rng.percent(60) {
                Op::Add
            } else {
                Op::Sub
            };
            tail = Gen {
                expr: bin(op, tail.expr, t.expr),
                bound: bound(
                    tail.bound.mag + t.bound.mag,
                    tail.bound.slope + t.bound.slope,
                ),
                real: tail.real + t.real,
                reads: [tail.reads, t.reads].concat(),
                active: tail.active || t.active,
            };
        }
        if tail.expr.is_leaf() {
            tail = self.squash(tail);
        }
        self.mark_read(&tail.reads);
        let result = bound(
            tail.bound.mag.max(self.ret.mag),
            tail.real.max(self.ret.slope),
        );
        (out, tail.expr, result)
    }
}

// ---------------------------------------------------------------------------------------------
// Closures, sub-slices and adaptors, code that passes through, enum modes.

impl ProgGen<'_> {
    /// `a op c * b`, with bounds.
    fn combine(a: Gen, op: Op, c: f64, b: Gen) -> Gen {
        Gen {
            expr: bin(op, a.expr, bin(Op::Mul, b.expr, Expr::Lit(c))),
            bound: bound(
                a.bound.mag + c * b.bound.mag,
                a.bound.slope + c * b.bound.slope,
            ),
            real: a.real + c * b.real,
            reads: [a.reads, b.reads].concat(),
            active: a.active || b.active,
        }
    }

    /// `let v = e;` of a generated value.
    fn let_gen(&mut self, g: &Gen, init: Init, out: &mut Vec<S>) {
        self.mark_read(&g.reads);
        let name = self.fresh("v");
        out.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: false,
            init,
        });
        self.bind_float(name, g);
    }

    /// The inputs a closure may be called with, each within `[-2, 2]` with slope 1: `x0`,
    /// `x1` (`p.0`), `*x2`, `v[i]`.
    fn input_args(&self) -> Vec<(String, Vec<usize>)> {
        let mut args = Vec::new();
        for k in 0..3 {
            let v = &self.env[k];
            if v.ty == Ty::Float && !v.hidden {
                args.push((v.name.clone(), vec![k]));
            }
        }
        if !self.env[3].hidden {
            for i in 0..4 {
                args.push((format!("v[{i}]"), vec![3]));
            }
        }
        args
    }

    /// An expression over `params` (the parameters of an iterator's closure, each read at
    /// least once) and the variables in scope; its reads are marked as nested ones.
    fn element_body(&mut self, params: &[Leaf]) -> Gen {
        let mut leaves = params.to_vec();
        leaves.extend(self.leaves(&[]));
        let depth = 1 + self.rng.below(2);
        let mut body = self.expr(depth, &leaves);
        let mut unread = Vec::new();
        for p in params {
            let mut found = false;
            body.expr
                .visit_names(&mut |name, _| found |= name == p.text);
            if !found {
                unread.push(p.clone());
            }
        }
        for p in unread {
            let c = self.rng.pick(&[0.25, 0.5]);
            let leaf = Gen {
                expr: var(&p.text),
                bound: p.bound,
                real: p.bound.slope,
                reads: p.reads.clone(),
                active: p.active,
            };
            body = Self::combine(body, Op::Add, c, leaf);
        }
        self.mark_read(&body.reads);
        for &k in &body.reads {
            self.env[k].read_nested = true;
        }
        body
    }

    /// `let v3 = mix(|t: f64| e, a, b);` of the module's helper `mix(f, a, b) = f(a) * 0.5 +
    /// f(b) * 0.5` that takes a closure, which grad inlines at the call; or the closure bound
    /// first, `let f3 = |t: f64| e;`, and passed by name, `mix(f3, a, b)`. The arguments are
    /// inputs within [-2, 2] of slope 1, so the call is bounded as the body.
    fn mix(&mut self, out: &mut Vec<S>) {
        let t = Leaf {
            text: "t".to_string(),
            bound: bound(2.0, 1.0),
            reads: Vec::new(),
            active: true,
            preferred: true,
        };
        let body = self.element_body(&[t]);
        let args = self.input_args();
        let (a, ra) = args[self.rng.below(args.len())].clone();
        let (b, rb) = args[self.rng.below(args.len())].clone();
        let by_name = self.rng.percent(40).then(|| {
            let name = self.fresh("f");
            out.push(S::Let {
                name: name.clone(),
                mutable: false,
                typed: false,
                init: Init::Closure("t".to_string(), body.expr.clone()),
            });
            name
        });
        self.cost += self.multiplier * 2.0 * (size(&body.expr) + 1.0);
        self.uses_mix = true;
        let g = Gen {
            reads: [body.reads.clone(), ra, rb].concat(),
            active: true,
            ..body.clone()
        };
        let init = Init::Mix {
            by_name,
            body: body.expr,
            args: [a, b],
        };
        self.let_gen(&g, init, out);
    }

    /// An element of the array `a` named `text`, as a closure's parameter.
    fn element_leaf(&self, a: usize, text: &str) -> Leaf {
        Leaf {
            text: text.to_string(),
            bound: bound(self.env[a].bound.mag, self.slope_of(a)),
            reads: vec![a],
            active: self.env[a].active,
            preferred: true,
        }
    }

    /// `source.map(|pat| body).sum::<f64>()` over at most `count` items, or a `fold` that
    /// halves its accumulator: `let v = ..;`.
    fn let_reduction(
        &mut self,
        source: String,
        pat: String,
        body: Gen,
        count: f64,
        out: &mut Vec<S>,
    ) {
        self.cost += self.multiplier * count * size(&body.expr);
        let (kind, g) = if self.rng.percent(30) {
            let c2 = self.rng.pick(&[0.25, 0.5]);
            let step = bin(
                Op::Add,
                bin(Op::Mul, var("r"), Expr::Lit(0.5)),
                bin(Op::Mul, body.expr.clone(), Expr::Lit(c2)),
            );
            let g = Gen {
                expr: step,
                bound: bound(2.0 * c2 * body.bound.mag, 2.0 * c2 * body.bound.slope),
                real: 2.0 * c2 * body.real,
                ..body
            };
            (IterKind::Fold(Expr::Lit(0.0)), g)
        } else {
            let g = Gen {
                bound: bound(count * body.bound.mag, count * body.bound.slope),
                real: count * body.real,
                ..body
            };
            (IterKind::Sum, g)
        };
        let it = Iter {
            source,
            kind,
            pat,
            body: g.expr.clone(),
        };
        self.let_gen(&g, Init::Iter(it), out);
    }

    /// `let f3 = |t: f64| e;` capturing the variables in scope, then calls: `f3(x0) +
    /// f3(v[2]) * 0.5`, `v.iter().map(|&p| f3(p)).sum::<f64>()`, `v.iter().copied().map(f3)
    /// .sum::<f64>()`, `v.iter().fold(0.0, |r, &p| r * 0.5 + f3(p) * 0.25)`.
    fn closure(&mut self, out: &mut Vec<S>) {
        if self.in_loop() {
            return self.let_expr(out);
        }
        if self.shape.module.is_some() && self.shape.float_generic.is_none() && self.rng.percent(60)
        {
            return self.mix(out);
        }
        let name = self.fresh("f");
        let t = Leaf {
            text: "t".to_string(),
            bound: bound(2.0, 1.0),
            reads: Vec::new(),
            active: true,
            preferred: true,
        };
        let body = self.element_body(&[t]);
        out.push(S::Let {
            name: name.clone(),
            mutable: false,
            typed: false,
            init: Init::Closure("t".to_string(), body.expr.clone()),
        });
        let call_cost = size(&body.expr) + 1.0;
        // A call `f3(a)` of an argument within [-2, 2] whose slope is at most `s`.
        let call = |arg: &str, s: f64, reads: &[usize]| Gen {
            expr: var(&format!("{name}({arg})")),
            bound: bound(body.bound.mag, body.bound.slope * s.max(1.0)),
            real: body.real * s.max(1.0),
            reads: [body.reads.clone(), reads.to_vec()].concat(),
            active: true,
        };
        let pn = self.pn();
        for _ in 0..1 + self.rng.below(2) {
            let arrays: Vec<usize> = self
                .vectors()
                .into_iter()
                .filter(|&k| !self.env[k].hidden && self.env[k].bound.mag <= 2.0)
                .collect();
            let form = self.rng.below(4);
            if form < 2 || arrays.is_empty() {
                let args = self.input_args();
                let (arg, reads) = args[self.rng.below(args.len())].clone();
                let mut g = call(&arg, 1.0, &reads);
                self.cost += self.multiplier * call_cost;
                if self.rng.percent(50) {
                    let (arg, reads) = args[self.rng.below(args.len())].clone();
                    let h = call(&arg, 1.0, &reads);
                    self.cost += self.multiplier * call_cost;
                    let op = if self.rng.percent(60) {
                        Op::Add
                    } else {
                        Op::Sub
                    };
                    let c = self.rng.pick(&[0.5, 1.0]);
                    g = Self::combine(g, op, c, h);
                }
                if self.rng.percent(30) {
                    let e = self.operand(1, &[]);
                    g = Self::combine(g, Op::Add, 0.5, e);
                }
                let init = Init::Expr(g.expr.clone());
                self.let_gen(&g, init, out);
                continue;
            }
            let a = self.rng.pick(&arrays);
            let an = self.env[a].name.clone();
            let s = self.slope_of(a);
            let element = call(pn, s, &[a]);
            for &k in &element.reads {
                self.env[k].read_nested = true;
            }
            if form == 2 {
                self.let_reduction(format!("{an}.iter()"), format!("&{pn}"), element, 4.0, out);
            } else {
                // The closure passed by name.
                self.cost += self.multiplier * 4.0 * call_cost;
                let g = Gen {
                    bound: bound(4.0 * element.bound.mag, 4.0 * element.bound.slope),
                    real: 4.0 * element.real,
                    ..element
                };
                let copy = if self.rng.percent(50) {
                    "copied"
                } else {
                    "cloned"
                };
                let it = Iter {
                    source: format!("{an}.iter().{copy}().map({name})"),
                    kind: IterKind::SumOf,
                    pat: String::new(),
                    body: Expr::Lit(0.0),
                };
                self.let_gen(&g, Init::Iter(it), out);
            }
        }
    }

    /// A walk over part of the array `a` (at most 4 elements): its text, and whether it gives
    /// values (`.copied()`) rather than references.
    fn sub_walk(&mut self, an: &str) -> (String, bool) {
        let walk = match self.rng.below(11) {
            0 => format!("{an}[1..].iter()"),
            1 => format!("{an}[..3].iter()"),
            2 => {
                let lo = self.rng.below(3);
                let hi = lo + 1 + self.rng.below(4 - lo);
                format!("{an}[{lo}..{hi}].iter()")
            }
            3 => format!("{an}.iter().skip({})", 1 + self.rng.below(2)),
            4 => format!("{an}.iter().take({})", 1 + self.rng.below(3)),
            5 => format!("{an}.iter().rev()"),
            6 => format!("{an}.iter().step_by(2)"),
            7 => format!("{an}.iter().rev().step_by(2)"),
            8 => format!("{an}.iter().skip(1).step_by(2)"),
            9 => format!("{an}[1..].iter().rev()"),
            _ => format!("{an}.iter().rev().skip(1)"),
        };
        match self.rng.below(4) {
            0 => (format!("{walk}.copied()"), true),
            1 => (format!("{walk}.cloned()"), true),
            _ => (walk, false),
        }
    }

    /// Sub-slices and iterator adaptors over a complete array of four or the slice `v`.
    fn adaptor(&mut self, out: &mut Vec<S>) {
        if self.in_loop() {
            return self.let_expr(out);
        }
        let arrays: Vec<usize> = self
            .vectors()
            .into_iter()
            .filter(|&k| !self.env[k].hidden)
            .collect();
        let a = self.rng.pick(&arrays);
        let an = self.env[a].name.clone();
        let pn = self.pn();
        match self.rng.below(8) {
            0 | 1 => {
                let (source, values) = self.sub_walk(&an);
                let p = self.element_leaf(a, pn);
                let body = self.element_body(&[p]);
                let pat = if values {
                    pn.to_string()
                } else {
                    format!("&{pn}")
                };
                self.let_reduction(source, pat, body, 4.0, out);
            }
            2 => {
                let (source, pat, names) = if self.rng.percent(50) {
                    (format!("{an}.windows(2)"), "w", ["w[0]", "w[1]"])
                } else {
                    (format!("{an}.chunks(2)"), "ch", ["ch[0]", "ch[1]"])
                };
                let params = [
                    self.element_leaf(a, names[0]),
                    self.element_leaf(a, names[1]),
                ];
                let which = self.rng.below(2);
                let body = self.element_body(&params[which..which + 1]);
                self.let_reduction(source, pat.to_string(), body, 3.0, out);
            }
            3 => {
                let source = format!("{an}.iter().zip({an}.iter().skip(1))");
                let params = [self.element_leaf(a, pn), self.element_leaf(a, "q")];
                let body = self.element_body(&params);
                self.let_reduction(source, format!("(&{pn}, &q)"), body, 3.0, out);
            }
            4 | 5 => {
                let (walk, values) = self.sub_walk(&an);
                let source = if values {
                    walk
                } else {
                    format!("{walk}.copied()")
                };
                let max = self.rng.percent(50);
                let kind = if self.rng.percent(50) {
                    IterKind::FoldPath { max }
                } else {
                    IterKind::MaxBy { max }
                };
                self.mark_read(&[a]);
                self.env[a].read_nested = true;
                self.cost += self.multiplier * 4.0;
                let g = Gen {
                    expr: Expr::Lit(0.0),
                    bound: bound(self.env[a].bound.mag, self.slope_of(a)),
                    real: self.env[a].bound.slope,
                    reads: vec![a],
                    active: self.env[a].active,
                };
                let it = Iter {
                    source,
                    kind,
                    pat: String::new(),
                    body: Expr::Lit(0.0),
                };
                self.let_gen(&g, Init::Iter(it), out);
            }
            6 => {
                // `(0..n).map(|i| ..)`, the body reading an element at `i`.
                self.scopes.push(self.env.len());
                let start = self.env.len();
                let mut i = Var::new("i".to_string(), Ty::Int, Role::Count, bound(0.0, 0.0));
                i.max = PROGRAM_N_MAX - 1;
                i.active = false;
                i.pending = false;
                let ik = self.declare(i);
                let element = Leaf {
                    text: format!("{an}[i % 4]"),
                    bound: bound(self.env[a].bound.mag, self.slope_of(a)),
                    reads: vec![a, ik],
                    active: self.env[a].active,
                    preferred: true,
                };
                let mut body = self.element_body(&[element]);
                self.pop_scope();
                body.reads.retain(|&k| k < start);
                self.mark_read(&[4]);
                let count = PROGRAM_N_MAX as f64;
                self.let_reduction("(0..n)".to_string(), "i".to_string(), body, count, out);
            }
            _ => {
                // `let sl3 = &a[1..];` read right away.
                let range = self.rng.pick(&["1..", "..3", "1..3", "2..", "..2"]);
                let name = self.fresh("sl");
                out.push(S::Let {
                    name: name.clone(),
                    mutable: false,
                    typed: false,
                    init: Init::Slice(format!("&{an}[{range}]")),
                });
                self.mark_read(&[a]);
                if self.rng.percent(50) {
                    let p = self.element_leaf(a, pn);
                    let body = self.element_body(&[p]);
                    self.let_reduction(format!("{name}.iter()"), format!("&{pn}"), body, 3.0, out);
                } else {
                    let params = [
                        self.element_leaf(a, &format!("{name}[0]")),
                        self.element_leaf(a, &format!("{name}[1]")),
                    ];
                    let which = self.rng.below(2);
                    let g = self.element_body(&params[which..which + 1]);
                    let init = Init::Expr(g.expr.clone());
                    self.let_gen(&g, init, out);
                }
            }
        }
    }

    /// Code that passes through: `let c3 = table(i + n);` (after an integer local `let m2 =
    /// 2 * n + 1;` now and then), `assert!(n < 100);`, `debug_assert!(s0.is_finite());`.
    fn passthrough(&mut self, out: &mut Vec<S>) {
        let ints: Vec<usize> = self
            .ints()
            .into_iter()
            .filter(|&k| !self.env[k].bound_by_pattern && !self.env[k].hidden)
            .collect();
        match self.rng.below(5) {
            0..=2 => {
                let k = if self.rng.percent(60) {
                    *ints.last().expect("n")
                } else {
                    self.rng.pick(&ints)
                };
                let (name, max) = (self.env[k].name.clone(), self.env[k].max);
                self.mark_read(&[k]);
                let arg = if self.rng.percent(30) {
                    let m = self.fresh("m");
                    out.push(S::Raw(format!("let {m} = 2 * {name} + 1;")));
                    let mk = self.declare_int(m.clone(), 2 * max + 1);
                    self.env[mk].bound_by_pattern = false;
                    self.mark_read(&[mk]);
                    m
                } else if name != "n" && self.rng.percent(60) {
                    self.mark_read(&[4]);
                    format!("{name} + n")
                } else if self.rng.percent(50) {
                    format!("{name} + 1")
                } else {
                    name
                };
                let c = self.fresh("c");
                // Typed: a call's result may be a differentiable call's argument.
                out.push(S::Let {
                    name: c.clone(),
                    mutable: false,
                    typed: true,
                    init: Init::Table(arg),
                });
                let mut v = Var::new(c, Ty::Float, Role::Plain, bound(1.0, 0.0));
                v.active = false;
                v.lip = 0.0;
                self.declare(v);
                self.uses_table = true;
            }
            3 => {
                let k = self.rng.pick(&ints);
                let name = self.env[k].name.clone();
                self.mark_read(&[k]);
                let text = if name == "n" {
                    "assert!(n < 100);".to_string()
                } else {
                    self.mark_read(&[4]);
                    format!("assert!({name} + n < 100, \"{name} out of range\");")
                };
                out.push(S::Raw(text));
            }
            _ => {
                let in_loop = self.in_loop();
                let floats: Vec<usize> = (0..self.env.len())
                    .filter(|&k| {
                        let v = &self.env[k];
                        v.ty == Ty::Float
                            && !v.hidden
                            && (!in_loop || v.role != Role::Acc)
                            && !v.name.contains('.')
                    })
                    .collect();
                let k = self.rng.pick(&floats);
                self.mark_read(&[k]);
                out.push(S::Check {
                    name: self.env[k].name.clone(),
                    debug: self.rng.percent(60),
                });
            }
        }
    }

    /// A constant float an enum pattern binds, at most `mag`.
    fn declare_const_float(&mut self, name: String, mag: f64) -> usize {
        let mut v = Var::new(name, Ty::Float, Role::Plain, bound(mag, 0.0));
        v.active = false;
        v.lip = 0.0;
        v.bound_by_pattern = true;
        self.declare(v)
    }

    /// `match mode { Mode::Lower(k, lo) => .., Mode::Upper(hi) => .., Mode::Off => .. }`, as a
    /// statement or a value, the payload read as constants.
    fn mode_match(&mut self, out: &mut Vec<S>, value: bool) {
        #[derive(Clone, Copy, PartialEq)]
        enum Arm {
            Lower,
            Upper,
            Off,
            Rest,
        }
        let mut arms = vec![Arm::Lower, Arm::Upper];
        if self.rng.percent(30) {
            arms.swap(0, 1);
        }
        arms.push(if self.rng.percent(25) {
            Arm::Rest
        } else {
            Arm::Off
        });
        self.branches += 1;
        let before = self.state();
        let mut joined = None;
        let mut stmt_arms = Vec::new();
        let mut value_arms = Vec::new();
        let mut gens = Vec::new();
        for arm in arms {
            self.restore(&before);
            self.scopes.push(self.env.len());
            let int = (arm == Arm::Lower).then(|| {
                let name = self.fresh("k");
                self.declare_int(name, 3)
            });
            let float = match arm {
                Arm::Lower => Some(self.fresh("lo")),
                Arm::Upper => Some(self.fresh("hi")),
                _ => None,
            }
            .map(|name| self.declare_const_float(name, 1.5));
            let (mut stmts, block) = if value {
                let (block, g) = self.value_block(false);
                gens.push(g);
                (Vec::new(), Some(block))
            } else {
                (self.branch_body(), None)
            };
            let name_of = |g: &Self, k: Option<usize>| match k {
                Some(k) if g.env[k].read => g.env[k].name.clone(),
                _ => "_".to_string(),
            };
            let (i, f) = (name_of(self, int), name_of(self, float));
            let rebind = (f != "_").then(|| S::Rebind(f.clone()));
            self.pop_scope();
            let pat = match arm {
                Arm::Lower => format!("Mode::Lower({i}, {f})"),
                Arm::Upper => format!("Mode::Upper({f})"),
                Arm::Off => "Mode::Off".to_string(),
                Arm::Rest => "_".to_string(),
            };
            match block {
                Some(mut block) => {
                    block.stmts.splice(0..0, rebind);
                    value_arms.push((pat, block));
                }
                None => {
                    stmts.splice(0..0, rebind);
                    stmt_arms.push((pat, stmts));
                }
            }
            Self::join(&mut joined, self.state());
        }
        self.restore(&joined.expect("a state"));
        self.branches -= 1;
        if value {
            let g = Self::merge(&gens);
            let name = self.fresh("v");
            out.push(S::Let {
                name: name.clone(),
                mutable: false,
                typed: self.rng.percent(20),
                init: Init::Match("mode".to_string(), value_arms),
            });
            self.bind_float(name, &g);
        } else {
            out.push(S::Match("mode".to_string(), stmt_arms));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The files.

fn params(mode: Mode, shape: Shape) -> String {
    let ty = float_type(mode);
    let xs = if shape.tuple {
        format!("x0: {ty}, p: ({ty}, {ty})")
    } else if shape.ref_x2 {
        format!("x0: {ty}, x1: {ty}, x2: &{ty}")
    } else {
        format!("x0: {ty}, x1: {ty}, x2: {ty}")
    };
    let v = match (shape.by_ref, shape.slice) {
        (_, true) => format!("&[{ty}]"),
        (true, false) => format!("&[{ty}; 4]"),
        (false, false) => format!("[{ty}; 4]"),
    };
    let mode_param = if shape.mode { ", mode: Mode" } else { "" };
    // A struct program: `x0`, the struct (whose fields stand for `x1`, `x2` and `v`) and `n`;
    // the mirror takes `WeightsDual`, a method's mirror as `this` first.
    if let Some(s) = shape.strukt {
        let w = if mode == Mode::Dual {
            "WeightsDual"
        } else {
            "Weights"
        };
        let r = if s.by_ref { "&" } else { "" };
        let p = match (s.method, mode) {
            (true, Mode::Dual) => format!("this: {r}{w}"),
            (true, _) => format!("{r}self"),
            (false, _) => format!("p: {r}{w}"),
        };
        return if s.first || s.method {
            format!("{p}, x0: {ty}, n: usize{mode_param}")
        } else {
            format!("x0: {ty}, {p}, n: usize{mode_param}")
        };
    }
    // A method's receiver; its mirror takes the struct as a constant (`_this` where unread:
    // see `write_dual`).
    let receiver = match (shape.method.map(|m| m.receiver), mode) {
        (None | Some(Receiver::Assoc), _) => "",
        (Some(_), Mode::Dual) => "this: Params, ",
        (Some(Receiver::Value), _) => "self, ",
        (Some(Receiver::Ref), _) => "&self, ",
    };
    format!("{receiver}{xs}, v: {v}, n: usize{mode_param}")
}

/// The bounds of a program generic over its float type: num-traits' alone, which has no
/// `Default` (grad's generated code must not need it).
const FLOAT_BOUNDS: &str = "num_traits::Float + num_traits::FromPrimitive";

/// `<const N: usize>` of a const generic program, `<T: ..>` (or `<T>`, with a `where` clause
/// after the signature) of one generic over its float type.
fn generics(shape: Shape) -> String {
    match (shape.generic, shape.float_generic) {
        (true, _) => "<const N: usize>".to_string(),
        (false, Some(f)) if f.where_clause => "<T>".to_string(),
        (false, Some(_)) => format!("<T: {FLOAT_BOUNDS}>"),
        (false, None) => String::new(),
    }
}

/// The `where` clause of a program generic over its float type, if it has one, for a
/// signature indented by `pad`.
fn where_clause(shape: Shape, pad: &str) -> String {
    match shape.float_generic {
        Some(f) if f.where_clause => {
            format!("\n{pad}where\n{pad}    T: {FLOAT_BOUNDS},\n{}", &pad[1..])
        }
        _ => String::new(),
    }
}

/// The generics of a mirror: its float type is `Dual64`.
fn dual_generics(shape: Shape) -> &'static str {
    if shape.generic {
        "<const N: usize>"
    } else {
        ""
    }
}

/// How the `#[differentiable]` function of a program is written; `plain` for the copy without
/// the attribute, where every literal of a generic program must be a `T` already.
fn primal_mode(shape: Shape, plain: bool) -> Mode {
    match shape.float_generic {
        Some(_) if plain => Mode::Generic(Lits::FromF64),
        Some(f) => Mode::Generic(f.lits),
        None => Mode::Primal,
    }
}

/// The percentage of programs that take their array by reference, `v: &[f64; 4]`.
const BY_REF_PERCENT: u64 = 33;

/// Lints of deliberately written idioms in the generated programs.
const ALLOWS: &str = "#[allow(clippy::needless_range_loop, clippy::nonminimal_bool)]\n";

/// The comparisons of the mirrors' control flow.
const COMPARE_PRELUDE: &str = r#"    use compare::*;

    /// Float comparisons: each records how far the point is from flipping it, in input units
    /// along the current direction, like a kink.
    #[allow(dead_code)]
    mod compare {
        use super::support::note;
        use num_dual::Dual64;
        use std::cell::Cell;

        /// A comparison within rounding of a tie is a tie, however slowly its sides close
        /// in: `(s * s + 1.0).log2() < (s.powi(2) + 1.0).log(2.0)` compares one value twice,
        /// and rounding alone picks the branch, differently at nearby points. Sides that do
        /// not move with the inputs (an accumulator still at 0.0 against 0.0), or that are
        /// exactly the same value moving the same way (`x.min(2.0) < x` below 2, whose kink
        /// `min` records), do not flip.
        fn record(a: Dual64, b: Dual64, margin: &Cell<f64>) {
            let gap = (a.re - b.re).abs();
            let moves = a.eps != 0.0 || b.eps != 0.0;
            let same = a.re == b.re && a.eps == b.eps;
            if moves && !same && gap <= 1e-9 * (1.0 + a.re.abs() + b.re.abs()) {
                margin.set(0.0);
            } else {
                note(margin, gap, (a.eps - b.eps).abs());
            }
        }

        pub fn gt(a: Dual64, b: Dual64, margin: &Cell<f64>) -> bool {
            record(a, b, margin);
            a.re > b.re
        }

        pub fn ge(a: Dual64, b: Dual64, margin: &Cell<f64>) -> bool {
            record(a, b, margin);
            a.re >= b.re
        }

        pub fn lt(a: Dual64, b: Dual64, margin: &Cell<f64>) -> bool {
            record(a, b, margin);
            a.re < b.re
        }

        pub fn le(a: Dual64, b: Dual64, margin: &Cell<f64>) -> bool {
            record(a, b, margin);
            a.re <= b.re
        }
    }
"#;

const PROGRAM_TABLE_TYPES: &str = r#"
    pub type Gradient = (f64, f64, f64, [f64; 4]);
    pub type Primal = fn(f64, f64, f64, [f64; 4], usize) -> f64;
    pub type Grad = fn(f64, f64, f64, [f64; 4], usize) -> Gradient;
    pub type ValueAndGrad = fn(f64, f64, f64, [f64; 4], usize) -> (f64, Gradient);
    pub type Vjp = fn(f64, f64, f64, [f64; 4], usize, f64) -> Gradient;
    pub type Mirror = fn(Dual64, Dual64, Dual64, [Dual64; 4], usize, &Cell<f64>) -> Dual64;
    pub type ValueAndGrad32 =
        fn(f32, f32, f32, [f32; 4], usize) -> (f32, (f32, f32, f32, [f32; 4]));
    /// `_jvp` along the tangent `(t0, t1, t2, [t3, t4, t5, t6])`: the value and `grad · t`.
    pub type Jvp = fn(f64, f64, f64, [f64; 4], usize, [f64; 7]) -> (f64, f64);
    /// `_hvp` along the direction `(d0, d1, d2, [d3, d4, d5, d6])`: the Hessian times it.
    pub type Hvp = fn(f64, f64, f64, [f64; 4], usize, [f64; 7]) -> Gradient;

    /// One generated program with its companions and its dual-number mirror (and, for a
    /// program generic over its float type, `_value_and_grad` in `f32`).
    pub struct Program {
        pub name: &'static str,
        pub primal: Primal,
        pub grad: Grad,
        pub value_and_grad: ValueAndGrad,
        pub vjp: Vjp,
        pub dual: Mirror,
        pub value_and_grad32: Option<ValueAndGrad32>,
        /// `_jvp`, where grad's expansion defines it.
        pub jvp: Option<Jvp>,
        /// `_hvp`, where the program asks for `hessian` and grad gives it.
        pub hvp: Option<Hvp>,
    }
"#;

/// `count` programs `pub fn prog_K(x0: f64, x1: f64, x2: f64, v: [f64; 4], n: usize) -> f64`
/// (a third of them `v: &[f64; 4]`) with branches, loops and arrays; later ones call earlier
/// ones.
pub fn random_programs(seed: u64, count: usize) -> Generated {
    random_programs_with(seed, count, Features::DEFAULT)
}

/// [`random_programs`] with other [`Features`].
pub fn random_programs_with(seed: u64, count: usize, features: Features) -> Generated {
    let (trees, uses_scale) = program_trees(seed, count, features);
    let what = if features == Features::DEFAULT {
        format!("random_programs({seed:#x}, {count})")
    } else {
        format!("random_programs_with({seed:#x}, {count}, {features:?})")
    };
    render_programs(&what, &trees, uses_scale)
}

/// The trees of [`random_programs`] with `features`, and whether an expression used `SCALE`.
fn program_trees(seed: u64, count: usize, features: Features) -> (Vec<ProgramTree>, bool) {
    let mut rng = Rng(seed);
    let mut callees: Vec<Callee> = Vec::new();
    let mut trees = Vec::new();
    let mut uses_scale = false;
    // The module the next module program joins.
    let mut open_module = None;
    // No random number is drawn for a switch that is off.
    let roll = |rng: &mut Rng, percent: u64| percent > 0 && rng.percent(percent);
    for k in 0..count {
        let name = format!("prog_{k}");
        let slice = roll(&mut rng, features.slices);
        let tuple = roll(&mut rng, features.tuples);
        let generic = roll(&mut rng, features.const_generic);
        // Not both generic over `N` and over `T`.
        let float_generic = (!generic && roll(&mut rng, features.num_traits)).then(|| {
            let lits = [Lits::FromF64, Lits::Bare, Lits::Mixed][rng.below(3)];
            FloatGeneric {
                lits,
                where_clause: rng.percent(30),
            }
        });
        let ref_x2 = !tuple && roll(&mut rng, features.ref_params);
        let mode = roll(&mut rng, features.enum_modes);
        let method = roll(&mut rng, features.methods).then(|| {
            let receiver = match rng.below(100) {
                0..15 => Receiver::Assoc,
                15..35 => Receiver::Value,
                _ => Receiver::Ref,
            };
            Method {
                receiver,
                new_impl: rng.percent(40),
                attribute_each: receiver != Receiver::Assoc && rng.percent(25),
            }
        });
        // A differentiated struct: not with the other parameter shapes (its fields stand for
        // `x1`, `x2` and `v`), nor generic over the float type (`Weights` holds `f64`s).
        let plain_params = !slice && !tuple && !ref_x2 && float_generic.is_none();
        let strukt =
            (plain_params && method.is_none() && roll(&mut rng, features.structs)).then(|| {
                let method = rng.percent(30);
                StructParam {
                    by_ref: rng.percent(60),
                    method,
                    first: !method && rng.percent(30),
                    wrt_p_first: rng.percent(50),
                    in_place: rng.percent(60),
                }
            });
        // In a module, joining the last one or opening one of its own.
        let in_module = method.is_none() && strukt.is_none() && roll(&mut rng, features.modules);
        let module = in_module.then(|| match open_module {
            Some(m) if !rng.percent(40) => m,
            _ => {
                open_module = Some(k);
                k
            }
        });
        // A module program calls its module's helper that takes a closure now and then.
        let module_closures = in_module && float_generic.is_none() && rng.percent(40);
        let uses = Uses {
            patterns: roll(&mut rng, features.array_patterns),
            assignment: roll(&mut rng, features.array_assignment),
            blocks: roll(&mut rng, features.labeled_blocks),
            options: roll(&mut rng, features.option_patterns),
            closures: roll(&mut rng, features.closures) || module_closures,
            adaptors: roll(&mut rng, features.sub_slices),
            passthrough: roll(&mut rng, features.passthrough),
            modes: mode,
        };
        // A struct program's `v` is a local copy of `p.w`.
        let by_ref = (slice || rng.percent(BY_REF_PERCENT)) && strukt.is_none();
        let shape = Shape {
            by_ref,
            slice,
            tuple,
            generic,
            float_generic,
            ref_x2,
            mode,
            method,
            strukt,
            module,
        };
        // Second order asked for: of a program of a shape grad may give it for (not a struct,
        // slice or tuple program, which grad refuses), free, a method or in a module. It
        // calls only programs that asked for it too: a caller's tangent sweep calls the
        // callee's `prog_J_tangent`, which only a callee with second order has. Whether each
        // gets it is decided when writing (`second_order`), callees first, and a caller whose
        // callee did not get it does not either.
        let hessian = strukt.is_none() && !slice && !tuple && roll(&mut rng, features.hessian);
        let second_order_callees: Vec<Callee>;
        let reachable = if hessian {
            second_order_callees = callees.iter().filter(|c| c.hessian).cloned().collect();
            &second_order_callees[..]
        } else {
            &callees[..]
        };
        let mut g = ProgGen::new(&mut rng, reachable, shape, features, uses);
        let (stmts, tail, result) = g.program();
        let cost = g.cost;
        let uses_table = g.uses_table;
        let uses_mix = g.uses_mix;
        uses_scale |= g.uses_scale;
        let module_consts = if g.const_body {
            [false; 4]
        } else {
            g.consts_used
        };
        trees.push(ProgramTree {
            name: name.clone(),
            shape,
            module_consts,
            uses_table,
            uses_mix,
            hessian,
            stmts,
            tail,
        });
        // A program over a slice or a tuple is not called: grad passes neither on yet. Nor
        // one taking `x2: &f64` or a `Mode`, nor one differentiated with respect to a struct
        // (`wrt` leaves its `_vjp` without entries a caller would need).
        if !slice && !tuple && !ref_x2 && !mode && strukt.is_none() {
            let name = if generic {
                format!("{name}::<4>")
            } else {
                name
            };
            callees.push(Callee {
                name,
                bound: result,
                cost,
                by_ref: shape.by_ref,
                float_generic: float_generic.is_some(),
                method: method.map(|m| m.receiver),
                module,
                hessian,
            });
        }
    }
    (trees, uses_scale)
}

/// The files of the programs `trees`, in order (a program calls only programs before it);
/// `what` names them in the header, `scale` adds the `SCALE` constant.
pub fn render_programs(what: &str, trees: &[ProgramTree], scale: bool) -> Generated {
    let count = trees.len();
    let functions = render_functions(what, trees, scale, false);
    let mut dual = header("random_programs_dual", what);
    dual.push_str("#[rustfmt::skip]\n");
    dual.push_str(ALLOWS);
    dual.push_str("pub mod random_programs_dual {\n");
    dual.push_str("    use super::random_programs::*;\n");
    dual.push_str(DUAL_PRELUDE);
    dual.push_str(COMPARE_PRELUDE);
    dual.push_str(PROGRAM_TABLE_TYPES);
    let _ = writeln!(
        dual,
        "\n    /// The largest `n` the programs are meant for.\n    pub const N_MAX: usize = {PROGRAM_N_MAX};"
    );
    if trees.iter().any(|t| t.shape.strukt.is_some()) {
        dual.push_str(WEIGHTS_DUAL_ITEMS);
    }
    if trees.iter().any(|t| t.uses_mix) {
        dual.push_str(MIX_DUAL_ITEM);
    }
    for tree in trees {
        write_dual(&mut dual, tree);
    }
    let _ = writeln!(dual, "\n    pub const PROGRAMS: [Program; {count}] = [");
    // The companions grad's expansion defines: the table names `_jvp` and `_hvp` only where
    // they exist.
    let defined = super::expansion::defined_functions(&functions);
    for tree in trees {
        let k = &tree.name;
        let shape = tree.shape;
        let forward = forward_fields(
            k,
            shape,
            defined.contains(&format!("{k}_jvp")),
            defined.contains(&format!("{k}_hvp")),
        );
        if shape.slice
            || shape.tuple
            || shape.generic
            || shape.float_generic.is_some()
            || shape.ref_x2
            || shape.mode
            || shape.method.is_some()
            || shape.strukt.is_some()
            || shape.module.is_some()
        {
            let entry = table_entry(k, shape);
            let entry = entry.strip_suffix("        },").expect("an entry's end");
            let _ = writeln!(dual, "{entry}{forward}        }},");
        } else if shape.by_ref {
            // The table's entries take the array by value.
            let _ = writeln!(
                dual,
                "        Program {{\n            name: \"{k}\",\n            \
                 primal: |x0, x1, x2, v, n| {k}(x0, x1, x2, &v, n),\n            \
                 grad: |x0, x1, x2, v, n| {k}_grad(x0, x1, x2, &v, n),\n            \
                 value_and_grad: |x0, x1, x2, v, n| {k}_value_and_grad(x0, x1, x2, &v, n),\n            \
                 vjp: |x0, x1, x2, v, n, u| {k}_vjp(x0, x1, x2, &v, n, u),\n            \
                 dual: |x0, x1, x2, v, n, margin| {k}_dual(x0, x1, x2, &v, n, margin),\n            \
                 value_and_grad32: None,\n{forward}        }},"
            );
        } else {
            let _ = writeln!(
                dual,
                "        Program {{ name: \"{k}\", primal: {k}, grad: {k}_grad, \
                 value_and_grad: {k}_value_and_grad, vjp: {k}_vjp, dual: {k}_dual, value_and_grad32: None,\n{forward}        }},"
            );
        }
    }
    dual.push_str("    ];\n}\n");
    Generated { functions, dual }
}

#[allow(dead_code)]
/// The `#[differentiable]` functions of [`render_programs`] written as plain functions (in a
/// module `random_programs_plain`, without the attribute), every literal of a program generic
/// over its float type a `T` already: an error there is the generator's.
pub fn render_plain_functions(what: &str, trees: &[ProgramTree], scale: bool) -> String {
    let text = render_functions(what, trees, scale, true)
        .replace(
            "pub mod random_programs {",
            "#[allow(dead_code)]\npub mod random_programs_plain {",
        )
        .replace("    use grad::differentiable;\n", "");
    let mut plain = String::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().starts_with("#[differentiable"))
    {
        plain.push_str(line);
        plain.push('\n');
    }
    plain
}

/// The module `random_programs` of the functions `trees`.
fn render_functions(what: &str, trees: &[ProgramTree], scale: bool, plain: bool) -> String {
    let mut functions = header("random_programs", what);
    functions.push_str("#[rustfmt::skip]\n");
    functions.push_str(ALLOWS);
    functions.push_str("pub mod random_programs {\n    use grad::differentiable;\n");
    let blocks = method_blocks(trees);
    // The programs written with `hessian` (none in the plain copy).
    let given = if plain {
        BTreeSet::new()
    } else {
        second_order(trees, &blocks)
    };
    let mut modules_written = Vec::new();
    for tree in trees {
        // A module, where its first program would be (the first one here: the shrinker
        // renders some of the programs).
        if let Some(m) = tree.shape.module {
            if modules_written.contains(&m) {
                continue;
            }
            modules_written.push(m);
            // `hessian` on the module where each of its programs gets it, else on those
            // that do.
            let members = module_members(trees, m);
            let whole = members.iter().all(|t| given.contains(&t.name));
            let attribute = if whole {
                "#[differentiable(hessian)]"
            } else {
                "#[differentiable]"
            };
            let own = if whole {
                BTreeSet::new()
            } else {
                given.clone()
            };
            let _ = write!(
                functions,
                "\n    {attribute}\n{}",
                module_item(trees, m, plain, &own)
            );
            continue;
        }
        // A method of `Weights`, in an impl block of its own.
        if tree.shape.strukt.is_some_and(|s| s.method) {
            functions.push_str("\n    impl Weights {");
            write_function(&mut functions, tree, plain, 2, true, false);
            functions.push_str("    }\n");
            continue;
        }
        if tree.shape.method.is_none() {
            write_function(
                &mut functions,
                tree,
                plain,
                1,
                true,
                given.contains(&tree.name),
            );
            continue;
        }
        let Some((each, block)) = blocks.iter().find(|(_, b)| b[0].name == tree.name) else {
            continue;
        };
        if *each {
            functions.push('\n');
            functions.push_str(&impl_item(block, plain, true, &given));
        } else {
            // `hessian` on the block where each of its methods gets it.
            let whole = block.iter().all(|t| given.contains(&t.name));
            let (attribute, own) = if whole {
                ("#[differentiable(hessian)]", BTreeSet::new())
            } else {
                ("#[differentiable]", given.clone())
            };
            let _ = write!(
                functions,
                "\n    {attribute}\n{}",
                impl_item(block, plain, false, &own)
            );
        }
    }
    if scale {
        let _ = write!(functions, "{SCALE_ITEM}");
    }
    // The module's `const` items that patterns name (the mirrors see them through `use`).
    for (v, name) in MODULE_CONSTS.iter().enumerate() {
        if trees.iter().any(|t| t.module_consts[v]) {
            let _ = writeln!(functions, "\n    pub const {name}: usize = {v};");
        }
    }
    if trees.iter().any(|t| t.uses_table) {
        functions.push_str(TABLE_ITEM);
    }
    if trees.iter().any(|t| t.shape.mode) {
        functions.push_str(MODE_ITEMS);
    }
    if trees.iter().any(|t| t.shape.method.is_some()) {
        functions.push_str(&params_items());
    }
    if trees.iter().any(|t| t.shape.strukt.is_some()) {
        functions.push_str(&weights_items());
    }
    functions.push_str("}\n");
    functions
}

/// The plain function the programs call with constant arguments: no `_vjp`, its calls pass
/// through.
const TABLE_ITEM: &str = "
    pub fn table(i: usize) -> f64 {
        [0.5, 0.25, 0.75, 1.0, 0.125, 0.375, 0.625, 0.875][i % 8]
    }
";

/// The enum with data of the programs that take `mode: Mode`, and the modes the table calls
/// them with.
const MODE_ITEMS: &str = "
    // A batch whose patterns all write a payload as `_` never reads it.
    #[allow(dead_code)]
    #[derive(Clone, Copy)]
    pub enum Mode {
        Lower(usize, f64),
        Upper(f64),
        Off,
    }

    pub fn mode_of(n: usize) -> Mode {
        match n % 3 {
            0 => Mode::Lower(n % 4, 0.5 - 0.25 * n as f64),
            1 => Mode::Upper(1.5 - 0.25 * n as f64),
            _ => Mode::Off,
        }
    }
";

/// The helper of a module's programs that takes a closure, inlined at each call (`mix_dual`
/// in the mirror).
const MIX_ITEM: &str = "
        pub fn mix<F: Fn(f64) -> f64>(f: F, a: f64, b: f64) -> f64 {
            f(a) * 0.5 + f(b) * 0.5
        }
";

const MIX_DUAL_ITEM: &str = "
    pub fn mix_dual<F: Fn(Dual64) -> Dual64>(f: F, a: Dual64, b: Dual64) -> Dual64 {
        f(a) * 0.5 + f(b) * 0.5
    }
";

/// The differentiated structs of the struct programs, and the constructor the table builds
/// them with from its inputs (`x1`, `x2`, `v`).
fn weights_items() -> String {
    format!(
        "
    // A batch whose programs read no `p.n` never reads it.
    #[allow(dead_code)]
    #[derive(grad::Differentiable, Clone, Copy, Debug)]
    pub struct Inner {{
        pub b: f64,
    }}

    #[allow(dead_code)]
    #[derive(grad::Differentiable, Clone, Copy, Debug)]
    pub struct Weights {{
        pub a: f64,
        pub w: [f64; 4],
        pub inner: Inner,
        pub n: usize,
    }}

    pub const WEIGHTS_N: usize = {WEIGHTS_N};

    #[allow(dead_code)]
    pub fn weights(a: f64, b: f64, w: [f64; 4]) -> Weights {{
        Weights {{
            a,
            w,
            inner: Inner {{ b }},
            n: WEIGHTS_N,
        }}
    }}
"
    )
}

/// The mirrors' `Weights`, of dual numbers.
const WEIGHTS_DUAL_ITEMS: &str = "
    #[allow(dead_code)]
    #[derive(Clone, Copy)]
    pub struct InnerDual {
        pub b: Dual64,
    }

    #[allow(dead_code)]
    #[derive(Clone, Copy)]
    pub struct WeightsDual {
        pub a: Dual64,
        pub w: [Dual64; 4],
        pub inner: InnerDual,
        pub n: usize,
    }

    pub fn weights_dual(a: Dual64, b: Dual64, w: [Dual64; 4]) -> WeightsDual {
        WeightsDual {
            a,
            w,
            inner: InnerDual { b },
            n: WEIGHTS_N,
        }
    }
";

/// The `PROGRAMS` entry of a struct program: the table's `x1`, `x2` and `v` are the struct's
/// `a`, `inner.b` and `w`, and its gradient entry's fields are those of the table's gradient
/// (whose `n` must be the input's).
fn struct_table_entry(k: &str, shape: Shape, s: StructParam) -> String {
    let g = if shape.generic { "::<4>" } else { "" };
    let mode = if shape.mode { ", mode_of(n)" } else { "" };
    let r = if s.by_ref { "&" } else { "" };
    let (call, args, dual_args) = if s.method {
        (
            format!("weights(x1, x2, v).{k}"),
            format!("x0, n{mode}"),
            format!("{r}weights_dual(x1, x2, v), x0, n{mode}"),
        )
    } else if s.first {
        (
            k.to_string(),
            format!("{r}weights(x1, x2, v), x0, n{mode}"),
            format!("{r}weights_dual(x1, x2, v), x0, n{mode}"),
        )
    } else {
        (
            k.to_string(),
            format!("x0, {r}weights(x1, x2, v), n{mode}"),
            format!("x0, {r}weights_dual(x1, x2, v), n{mode}"),
        )
    };
    // The gradient in the order of the parameters (`self` first).
    let (x, p) = if s.first || s.method {
        ("g.1", "g.0")
    } else {
        ("g.0", "g.1")
    };
    let gradient = format!(
        "{{\n                assert_eq!({p}.n, WEIGHTS_N);\n                \
         ({x}, {p}.a, {p}.inner.b, {p}.w)\n            }}"
    );
    format!(
        "        Program {{\n            name: \"{k}\",\n            \
         primal: |x0, x1, x2, v, n| {call}{g}({args}),\n            \
         grad: |x0, x1, x2, v, n| {{\n                let g = {call}_grad{g}({args});\n                {gradient}\n            }},\n            \
         value_and_grad: |x0, x1, x2, v, n| {{\n                let (y, g) = {call}_value_and_grad{g}({args});\n                (y, {gradient})\n            }},\n            \
         vjp: |x0, x1, x2, v, n, u| {{\n                let g = {call}_vjp{g}({args}, u);\n                {gradient}\n            }},\n            \
         dual: |x0, x1, x2, v, n, margin| {k}_dual{g}({dual_args}, margin),\n            \
         value_and_grad32: None,\n        }},"
    )
}

/// The `PROGRAMS` entry of a program over a slice or a tuple, or const generic, or a method:
/// closures that take the table's arguments, and give its gradient shape (the slice's gradient
/// is a `Vec`, the tuple's a tuple); a method is called on `PARAMS`, its mirror with `PARAMS`.
fn table_entry(k: &str, shape: Shape) -> String {
    if let Some(s) = shape.strukt {
        return struct_table_entry(k, shape, s);
    }
    let module = shape.module.map(|m| format!("m{m}::"));
    let (on, this) = match (shape.method.map(|m| m.receiver), &module) {
        (_, Some(module)) => (module.as_str(), ""),
        (None, None) => ("", ""),
        (Some(Receiver::Assoc), None) => ("Params::", ""),
        (Some(_), None) => ("PARAMS.", "PARAMS, "),
    };
    let g = match (shape.generic, shape.float_generic) {
        (true, _) => "::<4>",
        (false, Some(_)) => "::<f64>",
        (false, None) => "",
    };
    let xs = if shape.tuple {
        "x0, (x1, x2)"
    } else if shape.ref_x2 {
        "x0, x1, &x2"
    } else {
        "x0, x1, x2"
    };
    let v = if shape.by_ref { "&v" } else { "v" };
    let mode = if shape.mode { ", mode_of(n)" } else { "" };
    let args = format!("{xs}, {v}, n{mode}");
    let (a, b, c, d) = if shape.tuple {
        ("g.0", "g.1.0", "g.1.1", "g.2")
    } else {
        ("g.0", "g.1", "g.2", "g.3")
    };
    let d = if shape.slice {
        format!("[{d}[0], {d}[1], {d}[2], {d}[3]]")
    } else {
        d.to_string()
    };
    let gradient = format!("({a}, {b}, {c}, {d})");
    // A program generic over its float type, differentiated in `f32` too.
    let value_and_grad32 = if shape.float_generic.is_some() {
        format!(
            "Some(|x0, x1, x2, v, n| {{\n                let (y, g) = {on}{k}_value_and_grad::<f32>({args});\n                (y, {gradient})\n            }})"
        )
    } else {
        "None".to_string()
    };
    // A slice program's gradient comes from `_grad_into`, into a buffer of NaN: whatever the
    // core does not write (a gradient it assigns, `reverse/overwrite.rs`, is not zeroed first)
    // shows as NaN. `_value_and_grad` and `_vjp` still go through the `Vec` wrappers.
    let grad = if shape.slice && !shape.tuple {
        format!(
            "{{\n                let mut buffer = vec![f64::NAN; v.len()];\n                let g = {on}{k}_grad_into{g}({args}, &mut buffer);\n                (g.0, g.1, g.2, [buffer[0], buffer[1], buffer[2], buffer[3]])\n            }}"
        )
    } else {
        format!(
            "{{\n                let g = {on}{k}_grad{g}({args});\n                {gradient}\n            }}"
        )
    };
    format!(
        "        Program {{\n            name: \"{k}\",\n            \
         primal: |x0, x1, x2, v, n| {on}{k}{g}({args}),\n            \
         grad: |x0, x1, x2, v, n| {grad},\n            \
         value_and_grad: |x0, x1, x2, v, n| {{\n                let (y, g) = {on}{k}_value_and_grad{g}({args});\n                (y, {gradient})\n            }},\n            \
         vjp: |x0, x1, x2, v, n, u| {{\n                let g = {on}{k}_vjp{g}({args}, u);\n                {gradient}\n            }},\n            \
         dual: |x0, x1, x2, v, n, margin| {k}_dual{dg}({this}{args}, margin),\n            \
         value_and_grad32: {value_and_grad32},\n        }},",
        dg = if shape.generic { "::<4>" } else { "" },
    )
}

/// The `jvp` and `hvp` fields of a program's `PROGRAMS` entry: closures calling `prog_K_jvp`
/// and `prog_K_hvp` with the table's arguments where grad defines them (`jvp`, `hvp`), else
/// `None`; `None` too for the shapes whose tangents are not the table's seven floats (a struct,
/// a tuple, a slice: grad gives them no `_jvp`).
fn forward_fields(k: &str, shape: Shape, jvp: bool, hvp: bool) -> String {
    let known = shape.strukt.is_none() && !shape.tuple && !shape.slice;
    let module = shape.module.map(|m| format!("m{m}::"));
    let on = match (shape.method.map(|m| m.receiver), &module) {
        (_, Some(module)) => module.as_str(),
        (None, None) => "",
        (Some(Receiver::Assoc), None) => "Params::",
        (Some(_), None) => "PARAMS.",
    };
    let g = match (shape.generic, shape.float_generic) {
        (true, _) => "::<4>",
        (false, Some(_)) => "::<f64>",
        (false, None) => "",
    };
    let xs = if shape.ref_x2 {
        "x0, x1, &x2"
    } else {
        "x0, x1, x2"
    };
    let v = if shape.by_ref { "&v" } else { "v" };
    let mode = if shape.mode { ", mode_of(n)" } else { "" };
    let args = format!("{xs}, {v}, n{mode}");
    let t = "t[0], t[1], t[2], [t[3], t[4], t[5], t[6]]";
    let jvp = if jvp && known {
        format!("Some(|x0, x1, x2, v, n, t| {on}{k}_jvp{g}({args}, {t}))")
    } else {
        "None".to_string()
    };
    let hvp = if hvp && known {
        format!("Some(|x0, x1, x2, v, n, t| {on}{k}_hvp{g}({args}, {t}))")
    } else {
        "None".to_string()
    };
    format!("            jvp: {jvp},\n            hvp: {hvp},\n")
}

/// The methods in impl blocks of `Params`, each block where its first method would be, with
/// whether its methods carry the attribute each (a plain `impl Params`): a method joins the
/// block of the method before it unless it opens one of its own (or it is an associated
/// function and the block's methods carry the attribute each).
fn method_blocks(trees: &[ProgramTree]) -> Vec<(bool, Vec<&ProgramTree>)> {
    let mut blocks: Vec<(bool, Vec<&ProgramTree>)> = Vec::new();
    for tree in trees {
        let Some(m) = tree.shape.method else {
            continue;
        };
        match blocks.last_mut() {
            // An associated function needs the attribute on its block.
            Some((each, block)) if !m.new_impl && (m.has_self() || !*each) => block.push(tree),
            _ => blocks.push((m.attribute_each, vec![tree])),
        }
    }
    blocks
}

/// The programs of the module `m{m}`.
fn module_members(trees: &[ProgramTree], m: usize) -> Vec<&ProgramTree> {
    trees.iter().filter(|t| t.shape.module == Some(m)).collect()
}

/// The module `m{m}` without its attribute, `pub mod mK { .. }`: its programs carry
/// `#[differentiable(hessian)]` of their own where named in `own`, else no attribute.
fn module_item(trees: &[ProgramTree], m: usize, plain: bool, own: &BTreeSet<String>) -> String {
    let mut item =
        format!("    pub mod m{m} {{\n        #[allow(unused_imports)]\n        use super::*;\n");
    let members = module_members(trees, m);
    for member in &members {
        write_function(
            &mut item,
            member,
            plain,
            2,
            false,
            own.contains(&member.name),
        );
    }
    if members.iter().any(|t| t.uses_mix) {
        item.push_str(MIX_ITEM);
    }
    item.push_str("    }\n");
    item
}

/// An impl block of `Params` without its attribute, `impl Params { .. }`: its methods carry
/// `#[differentiable]` each if `each`, with `hessian` where named in `hessian`; else only
/// those named carry `#[differentiable(hessian)]` (in a block with the attribute).
fn impl_item(
    block: &[&ProgramTree],
    plain: bool,
    each: bool,
    hessian: &BTreeSet<String>,
) -> String {
    let mut item = "    impl Params {".to_string();
    for method in block {
        write_function(
            &mut item,
            method,
            plain,
            2,
            each,
            hessian.contains(&method.name),
        );
    }
    item.push_str("    }\n");
    item
}

/// The programs written with `hessian`, in order, callees first: those that ask for it
/// whose callees got it (a caller's tangent sweep calls `prog_J_tangent`, which only a callee
/// with second order has; the caller's expansion alone cannot know whether it exists), and
/// where grad's expansion gives `prog_K_hvp` without a `compile_error!`: the function's own
/// expansion with `hessian` (`wrt(..)` never comes with it), or, in a module or an impl block
/// with the attribute, the block's with `#[differentiable(hessian)]` on that program alone,
/// which sees the block's helpers and `Self` as rustc's does. Never an attribute that the
/// build would refuse.
fn second_order(trees: &[ProgramTree], blocks: &[(bool, Vec<&ProgramTree>)]) -> BTreeSet<String> {
    second_order_through(trees, blocks).into_keys().collect()
}

/// [`second_order`], each with whether its expansion calls another program's tangent
/// function (second order through a call: `prog_J_tangent`, of a call with a differentiated
/// value).
fn second_order_through(
    trees: &[ProgramTree],
    blocks: &[(bool, Vec<&ProgramTree>)],
) -> BTreeMap<String, bool> {
    let names: BTreeSet<&str> = trees.iter().map(|t| t.name.as_str()).collect();
    let mut given = BTreeMap::new();
    for tree in trees {
        if !tree.hessian || tree.shape.strukt.is_some() {
            continue;
        }
        let callees_have_it = tree
            .calls()
            .iter()
            .filter(|c| names.contains(c.as_str()))
            .all(|c| given.contains_key(c));
        if !callees_have_it {
            continue;
        }
        let name = &tree.name;
        let alone = BTreeSet::from([name.clone()]);
        let block = blocks
            .iter()
            .find(|(_, b)| b.iter().any(|t| t.name == *name));
        let expansion = match (tree.shape.module, block) {
            (Some(m), _) => super::expansion::expand("", &module_item(trees, m, false, &alone)),
            (None, Some((false, block))) => {
                super::expansion::expand("", &impl_item(block, false, false, &alone))
            }
            _ => {
                let mut item = String::new();
                write_function(&mut item, tree, false, 1, false, false);
                super::expansion::expand("hessian", &item)
            }
        };
        if !expansion.error && expansion.defined.contains(&format!("{name}_hvp")) {
            let own = format!("{name}_tangent");
            let through = expansion.tangents_called.iter().any(|t| {
                *t != own
                    && t.strip_suffix("_tangent")
                        .is_some_and(|callee| names.contains(callee))
            });
            given.insert(name.clone(), through);
        }
    }
    given
}

/// The programs of `trees` written with `hessian` (see [`second_order`]), each with whether
/// it has it through a call: its tangent sweep calls another program's tangent function.
pub fn second_order_programs(trees: &[ProgramTree]) -> BTreeMap<String, bool> {
    second_order_through(trees, &method_blocks(trees))
}

/// A program at `indent` (1 in the module, 2 in an impl block), with `#[differentiable]` if
/// `attribute` (not in a block that carries it), with `hessian` if `hessian` (alone where the
/// block carries the attribute: `#[differentiable(hessian)]`).
fn write_function(
    functions: &mut String,
    tree: &ProgramTree,
    plain: bool,
    indent: usize,
    attribute: bool,
    hessian: bool,
) {
    let (name, stmts, tail) = (&tree.name, &tree.stmts, &tree.tail);
    let mode = primal_mode(tree.shape, plain);
    let pad = "    ".repeat(indent);
    let mut body = String::new();
    render_stmts(stmts, mode, indent + 1, &mut body);
    let _ = writeln!(body, "{pad}    {}\n{pad}}}", render(tail, mode));
    // The attribute's arguments: none, or `wrt(..)` naming a struct program's struct, and
    // `hessian` where given (`second_order`).
    let args = match (attribute, tree.shape.strukt) {
        (false, _) => None,
        // A struct program names the struct in `wrt`.
        (true, Some(s)) => {
            let (p, x) = (s.name(), "x0");
            Some(if s.wrt_p_first {
                format!("wrt({p}, {x})")
            } else {
                format!("wrt({x}, {p})")
            })
        }
        (true, None) => Some(String::new()),
    };
    let args = match (args, hessian && !plain) {
        (args, false) => args,
        (None, true) => Some("hessian".to_string()),
        (Some(args), true) if args.is_empty() => Some("hessian".to_string()),
        (Some(args), true) => Some(format!("{args}, hessian")),
    };
    let attribute = match args {
        None => String::new(),
        Some(args) if args.is_empty() => format!("{pad}#[differentiable]\n"),
        Some(args) => format!("{pad}#[differentiable({args})]\n"),
    };
    let _ = writeln!(
        functions,
        "\n{attribute}{pad}pub fn {name}{}({}) -> {}{} {{",
        generics(tree.shape),
        params(mode, tree.shape),
        float_type(mode),
        where_clause(tree.shape, &pad)
    );
    // The typed local through which it calls methods that take `&self`.
    if body.contains(&format!("({PARAMS_LOCAL}, ")) {
        let _ = writeln!(functions, "{pad}    let {PARAMS_LOCAL}: &Params = &PARAMS;");
    }
    functions.push_str(&body);
}

fn write_dual(dual: &mut String, tree: &ProgramTree) {
    let (name, stmts, tail) = (&tree.name, &tree.stmts, &tree.tail);
    let mut body = String::new();
    render_stmts(stmts, Mode::Dual, 2, &mut body);
    let _ = writeln!(body, "        {}\n    }}", render(tail, Mode::Dual));
    // A method's integer conditions and ranges read `self.n`, the mirror's `this.n`.
    let body = body.replace("self.", "this.");
    let margin = if body.contains("margin") {
        "margin"
    } else {
        "_margin"
    };
    let mut params = params(Mode::Dual, tree.shape);
    if !body.contains("this") {
        params = params.replace("this: Params", "_this: Params");
    }
    let _ = writeln!(
        dual,
        "\n    pub fn {name}_dual{}({params}, {margin}: &Cell<f64>) -> Dual64 {{",
        dual_generics(tree.shape),
    );
    dual.push_str(&body);
}

// ---------------------------------------------------------------------------------------------
// Trees, for the harness of `tests/program_batches.rs`: it renders programs, checks them and
// shrinks the failing ones.

/// One generated program: `pub fn name(x0, x1, x2, v, n) -> f64 { stmts; tail }`.
#[derive(Clone, Debug)]
pub struct ProgramTree {
    pub name: String,
    pub shape: Shape,
    /// The module's `const` items (`MODE_*`, by value) that its patterns name.
    module_consts: [bool; 4],
    /// Calls the module's plain `table`.
    uses_table: bool,
    /// Calls its module's helper `mix` that takes a closure.
    uses_mix: bool,
    /// `hessian` asked for (written where grad's expansion gives it: `write_function`).
    pub hessian: bool,
    stmts: Vec<S>,
    tail: Expr,
}

/// The trees [`random_programs`] renders: `random_programs(seed, count)` is
/// `render_programs(.., &random_program_trees(seed, count), ..)`.
#[allow(dead_code)]
pub fn random_program_trees(seed: u64, count: usize, features: Features) -> Vec<ProgramTree> {
    program_trees(seed, count, features).0
}

/// Visits the expressions and statement lists of a tree, and counts (or applies) the
/// one-step reductions of the shrinker: the `target`-th site reached is reduced.
struct Reducer {
    target: usize,
    count: usize,
}

impl Reducer {
    /// Whether this site is the one to reduce.
    fn hit(&mut self) -> bool {
        let hit = self.count == self.target;
        self.count += 1;
        hit
    }

    fn done(&self) -> bool {
        self.count > self.target
    }

    fn expr(&mut self, e: &mut Expr) {
        if self.done() {
            return;
        }
        let children: Vec<Expr> = match e {
            Expr::Var(_) | Expr::Field(..) | Expr::Lit(_) | Expr::Const(_) => return,
            Expr::Neg(a) => vec![(**a).clone()],
            Expr::Bin(_, a, b) => vec![(**a).clone(), (**b).clone()],
            Expr::Method { args, .. } => args.clone(),
            Expr::PowI { base, .. } => vec![(**base).clone()],
            // The float arguments; the array and the count are not floats, nor the struct
            // `prm` a method is called with.
            Expr::Call { args, .. } => args
                .iter()
                .filter(|a| !matches!(a, Expr::Var(name) if name == PARAMS_LOCAL))
                .take(3)
                .cloned()
                .collect(),
        };
        if self.hit() {
            *e = Expr::Lit(0.5);
            return;
        }
        for child in children {
            if self.hit() {
                *e = child;
                return;
            }
        }
        match e {
            Expr::Neg(a) | Expr::PowI { base: a, .. } => self.expr(a),
            Expr::Bin(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            Expr::Method { args, .. } | Expr::Call { args, .. } => {
                for a in args {
                    self.expr(a);
                }
            }
            _ => {}
        }
    }

    fn cond(&mut self, c: &mut Cond) {
        if self.done() {
            return;
        }
        let sides: Vec<Cond> = match c {
            Cond::And(a, b) | Cond::Or(a, b) => vec![(**a).clone(), (**b).clone()],
            Cond::Not(a) => vec![(**a).clone()],
            _ => Vec::new(),
        };
        for side in sides {
            if self.hit() {
                *c = side;
                return;
            }
        }
        match c {
            Cond::Cmp(a, _, b) => {
                self.expr(a);
                self.expr(b);
            }
            Cond::Int(_) | Cond::Let(_) => {}
            Cond::And(a, b) | Cond::Or(a, b) => {
                self.cond(a);
                self.cond(b);
            }
            Cond::Not(a) => self.cond(a),
        }
    }

    fn block(&mut self, b: &mut Block, in_loop: bool) {
        self.stmts(&mut b.stmts, in_loop);
        self.expr(&mut b.tail);
    }

    fn init(&mut self, init: &mut Init, in_loop: bool) {
        if self.done() {
            return;
        }
        // An `if` or `match` value replaced by one of its arms, a block by its value.
        let arms: Vec<Block> = match init {
            Init::If(arms, otherwise) => arms
                .iter()
                .map(|(_, b)| b.clone())
                .chain([otherwise.clone()])
                .collect(),
            Init::Match(_, arms) => arms.iter().map(|(_, b)| b.clone()).collect(),
            _ => Vec::new(),
        };
        for block in arms {
            if self.hit() {
                *init = Init::Block(block);
                return;
            }
        }
        if let Init::Block(b) = init
            && b.stmts.is_empty()
            && !b.diverges
            && self.hit()
        {
            *init = Init::Expr(b.tail.clone());
            return;
        }
        if let Init::If(arms, _) = init
            && arms.len() > 1
        {
            for k in 0..arms.len() {
                if self.hit() {
                    arms.remove(k);
                    return;
                }
            }
        }
        if matches!(init, Init::Iter(_) | Init::Loop(..) | Init::Cast(_)) && self.hit() {
            *init = Init::Expr(Expr::Lit(0.5));
            return;
        }
        match init {
            Init::Expr(e) => self.expr(e),
            Init::Elements(items) => {
                for e in items {
                    self.expr(e);
                }
            }
            Init::Iter(it) => {
                if let IterKind::Fold(e) = &mut it.kind {
                    self.expr(e);
                }
                self.expr(&mut it.body);
            }
            Init::If(arms, otherwise) => {
                for (c, b) in arms {
                    self.cond(c);
                    self.block(b, in_loop);
                }
                self.block(otherwise, in_loop);
            }
            Init::Match(_, arms) => {
                for (_, b) in arms {
                    self.block(b, in_loop);
                }
            }
            Init::Loop(_, body) => self.stmts(body, true),
            Init::Block(b) | Init::Labeled(_, b) => self.block(b, in_loop),
            Init::Closure(_, body)
            | Init::Mix {
                by_name: None,
                body,
                ..
            } => self.expr(body),
            Init::Cast(_)
            | Init::Table(_)
            | Init::Slice(_)
            | Init::Field(_)
            | Init::Mix { .. }
            | Init::Zeros
            | Init::ZerosN
            | Init::Matrix(_)
            | Init::Copy(_)
            | Init::Map(..) => {}
        }
    }

    /// `in_loop`: inside a `loop`, whose `break`s must stay (a `while`'s counter ends it,
    /// and counters, `S::Raw`, are never deleted).
    fn stmts(&mut self, list: &mut Vec<S>, in_loop: bool) {
        let mut i = 0;
        while i < list.len() && !self.done() {
            let keep = matches!(list[i], S::Raw(_) | S::Rebind(_)) || (in_loop && breaks(&list[i]));
            if !keep && self.hit() {
                list.remove(i);
                return;
            }
            // A compound statement replaced by one of its bodies, or without one arm.
            let bodies: Vec<Vec<S>> = match &list[i] {
                S::If(arms, otherwise) => arms
                    .iter()
                    .map(|(_, b)| b.clone())
                    .chain(otherwise.clone())
                    .collect(),
                S::Match(_, arms) => arms.iter().map(|(_, b)| b.clone()).collect(),
                S::For { body, .. } | S::While { body, .. } => vec![body.clone()],
                _ => Vec::new(),
            };
            for body in bodies {
                if self.hit() {
                    list.splice(i..=i, body);
                    return;
                }
            }
            if let S::If(arms, otherwise) = &mut list[i] {
                if otherwise.is_some() && self.hit() {
                    *otherwise = None;
                    return;
                }
                if arms.len() > 1 {
                    for k in 0..arms.len() {
                        if self.hit() {
                            arms.remove(k);
                            return;
                        }
                    }
                }
            }
            match &mut list[i] {
                S::Let { init, .. } => self.init(init, in_loop),
                S::Raw(_) | S::Continue(_) | S::Break(_, None) | S::Check { .. } | S::Rebind(_) => {
                }
                S::Assign { value, .. } | S::Return(value) | S::Break(_, Some(value)) => {
                    self.expr(value);
                }
                S::If(arms, otherwise) => {
                    for (c, body) in arms {
                        self.cond(c);
                        self.stmts(body, in_loop);
                    }
                    if let Some(body) = otherwise {
                        self.stmts(body, in_loop);
                    }
                }
                S::Match(_, arms) => {
                    for (_, body) in arms {
                        self.stmts(body, in_loop);
                    }
                }
                S::For { body, .. } | S::Labeled { body, .. } => self.stmts(body, in_loop),
                S::While { cond, body, .. } => {
                    self.cond(cond);
                    self.stmts(body, in_loop);
                }
                S::Loop { body, .. } => self.stmts(body, true),
                S::LetPat { init, .. } | S::AssignArray { init, .. } => self.init(init, in_loop),
                S::LetElse { otherwise, .. } => self.block(otherwise, in_loop),
            }
            i += 1;
        }
    }

    fn program(&mut self, p: &mut ProgramTree) {
        self.stmts(&mut p.stmts, false);
        self.expr(&mut p.tail);
    }
}

/// Whether a statement holds a `break`.
fn breaks(s: &S) -> bool {
    let any = |list: &[S]| list.iter().any(breaks);
    let block = |b: &Block| any(&b.stmts);
    match s {
        S::Break(..) => true,
        S::If(arms, otherwise) => {
            arms.iter().any(|(_, b)| any(b)) || otherwise.as_deref().is_some_and(any)
        }
        S::Match(_, arms) => arms.iter().any(|(_, b)| any(b)),
        S::For { body, .. }
        | S::While { body, .. }
        | S::Loop { body, .. }
        | S::Labeled { body, .. } => any(body),
        S::Let { init, .. } => match init {
            Init::If(arms, otherwise) => arms.iter().any(|(_, b)| block(b)) || block(otherwise),
            Init::Match(_, arms) => arms.iter().any(|(_, b)| block(b)),
            Init::Loop(_, body) => any(body),
            Init::Block(b) | Init::Labeled(_, b) => block(b),
            _ => false,
        },
        S::LetElse { otherwise, .. } => block(otherwise),
        _ => false,
    }
}

fn expr_nodes(e: &Expr) -> usize {
    let mut n = 1;
    match e {
        Expr::Neg(a) | Expr::PowI { base: a, .. } => n += expr_nodes(a),
        Expr::Bin(_, a, b) => n += expr_nodes(a) + expr_nodes(b),
        Expr::Method { args, .. } | Expr::Call { args, .. } => {
            n += args.iter().map(expr_nodes).sum::<usize>();
        }
        _ => {}
    }
    n
}

fn cond_nodes(c: &Cond) -> usize {
    match c {
        Cond::Cmp(a, _, b) => 1 + expr_nodes(a) + expr_nodes(b),
        Cond::Int(_) | Cond::Let(_) => 1,
        Cond::And(a, b) | Cond::Or(a, b) => 1 + cond_nodes(a) + cond_nodes(b),
        Cond::Not(a) => 1 + cond_nodes(a),
    }
}

fn block_nodes(b: &Block) -> usize {
    stmts_nodes(&b.stmts) + expr_nodes(&b.tail)
}

fn stmts_nodes(list: &[S]) -> usize {
    list.iter()
        .map(|s| {
            1 + match s {
                S::Let { init, .. } => match init {
                    Init::Expr(e) => expr_nodes(e),
                    Init::Elements(items) => items.iter().map(expr_nodes).sum(),
                    Init::Iter(it) => {
                        let fold = match &it.kind {
                            IterKind::Fold(e) => expr_nodes(e),
                            _ => 0,
                        };
                        1 + fold + expr_nodes(&it.body)
                    }
                    Init::If(arms, otherwise) => {
                        arms.iter()
                            .map(|(c, b)| cond_nodes(c) + block_nodes(b))
                            .sum::<usize>()
                            + block_nodes(otherwise)
                    }
                    Init::Match(_, arms) => arms.iter().map(|(_, b)| 1 + block_nodes(b)).sum(),
                    Init::Loop(_, body) => stmts_nodes(body),
                    Init::Block(b) | Init::Labeled(_, b) => block_nodes(b),
                    _ => 1,
                },
                S::LetPat { init, .. } | S::AssignArray { init, .. } => match init {
                    Init::Elements(items) => items.iter().map(expr_nodes).sum(),
                    _ => 1,
                },
                S::Labeled { body, .. } => stmts_nodes(body),
                S::LetElse { otherwise, .. } => block_nodes(otherwise),
                S::Raw(_) | S::Continue(_) | S::Break(_, None) | S::Check { .. } | S::Rebind(_) => {
                    0
                }
                S::Assign { value, .. } | S::Return(value) | S::Break(_, Some(value)) => {
                    expr_nodes(value)
                }
                S::If(arms, otherwise) => {
                    arms.iter()
                        .map(|(c, b)| cond_nodes(c) + stmts_nodes(b))
                        .sum::<usize>()
                        + otherwise.as_deref().map_or(0, stmts_nodes)
                }
                S::Match(_, arms) => arms.iter().map(|(_, b)| 1 + stmts_nodes(b)).sum(),
                S::For { body, .. } | S::Loop { body, .. } => stmts_nodes(body),
                S::While { cond, body, .. } => cond_nodes(cond) + stmts_nodes(body),
            }
        })
        .sum()
}

fn visit_expr(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    f(e);
    match e {
        Expr::Neg(a) | Expr::PowI { base: a, .. } => visit_expr(a, f),
        Expr::Bin(_, a, b) => {
            visit_expr(a, f);
            visit_expr(b, f);
        }
        Expr::Method { args, .. } | Expr::Call { args, .. } => {
            for a in args {
                visit_expr(a, f);
            }
        }
        _ => {}
    }
}

fn visit_exprs(list: &mut [S], f: &mut dyn FnMut(&mut Expr)) {
    fn cond(c: &mut Cond, f: &mut dyn FnMut(&mut Expr)) {
        match c {
            Cond::Cmp(a, _, b) => {
                visit_expr(a, f);
                visit_expr(b, f);
            }
            Cond::Int(_) | Cond::Let(_) => {}
            Cond::And(a, b) | Cond::Or(a, b) => {
                cond(a, f);
                cond(b, f);
            }
            Cond::Not(a) => cond(a, f),
        }
    }
    fn block(b: &mut Block, f: &mut dyn FnMut(&mut Expr)) {
        visit_exprs(&mut b.stmts, f);
        visit_expr(&mut b.tail, f);
    }
    for s in list {
        match s {
            S::Let { init, .. } => match init {
                Init::Expr(e) => visit_expr(e, f),
                Init::Elements(items) => {
                    for e in items {
                        visit_expr(e, f);
                    }
                }
                Init::Iter(it) => {
                    if let IterKind::Fold(e) = &mut it.kind {
                        visit_expr(e, f);
                    }
                    visit_expr(&mut it.body, f);
                }
                Init::If(arms, otherwise) => {
                    for (c, b) in arms {
                        cond(c, f);
                        block(b, f);
                    }
                    block(otherwise, f);
                }
                Init::Match(_, arms) => {
                    for (_, b) in arms {
                        block(b, f);
                    }
                }
                Init::Loop(_, body) => visit_exprs(body, f),
                Init::Block(b) | Init::Labeled(_, b) => block(b, f),
                Init::Closure(_, body)
                | Init::Mix {
                    by_name: None,
                    body,
                    ..
                } => visit_expr(body, f),
                _ => {}
            },
            S::Check { .. } | S::Rebind(_) => {}
            S::LetPat { init, .. } | S::AssignArray { init, .. } => {
                if let Init::Elements(items) = init {
                    for e in items {
                        visit_expr(e, f);
                    }
                }
            }
            S::Labeled { body, .. } => visit_exprs(body, f),
            S::LetElse { otherwise, .. } => block(otherwise, f),
            S::Assign { value, .. } | S::Return(value) | S::Break(_, Some(value)) => {
                visit_expr(value, f);
            }
            S::If(arms, otherwise) => {
                for (c, body) in arms {
                    cond(c, f);
                    visit_exprs(body, f);
                }
                if let Some(body) = otherwise {
                    visit_exprs(body, f);
                }
            }
            S::Match(_, arms) => {
                for (_, body) in arms {
                    visit_exprs(body, f);
                }
            }
            S::For { body, .. } | S::Loop { body, .. } => visit_exprs(body, f),
            S::While { cond: c, body, .. } => {
                cond(c, f);
                visit_exprs(body, f);
            }
            S::Raw(_) | S::Continue(_) | S::Break(_, None) => {}
        }
    }
}

#[allow(dead_code)]
impl ProgramTree {
    /// The programs this one calls.
    pub fn calls(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut copy = self.clone();
        let mut note = |e: &mut Expr| {
            if let Expr::Call { name, .. } = e {
                // `prog_3::<4>`, `self.prog_3`, `Self::prog_3` and `Params::prog_3` call
                // `prog_3`.
                let name = name.split("::<").next().unwrap_or_default();
                let name = ["self.", "Self::", "Params::"]
                    .iter()
                    .find_map(|p| name.strip_prefix(p))
                    .unwrap_or(name);
                // `m3::prog_5`, of a module, calls `prog_5`.
                let name = name.rsplit("::").next().unwrap_or(name).to_string();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        };
        visit_exprs(&mut copy.stmts, &mut note);
        visit_expr(&mut copy.tail, &mut note);
        names
    }

    /// Statements, conditions and expression nodes: the shrinker's measure.
    pub fn size(&self) -> usize {
        stmts_nodes(&self.stmts) + expr_nodes(&self.tail)
    }

    /// Every program one reduction smaller: a statement deleted, an `if`, `match` or loop
    /// replaced by one of its bodies or without an arm, a condition by one side, an
    /// expression by a subexpression or a literal (which drops a call), an `if` or `match`
    /// value by one arm.
    pub fn reductions(&self) -> Vec<ProgramTree> {
        let mut count = Reducer {
            target: usize::MAX,
            count: 0,
        };
        count.program(&mut self.clone());
        (0..count.count)
            .map(|target| {
                let mut p = self.clone();
                Reducer { target, count: 0 }.program(&mut p);
                p
            })
            .collect()
    }

    /// Writes `x.sin()` as `f64::sin(x)`, so that a harness can replace that text (the
    /// planted bug of `tests/program_batches.rs`).
    pub fn sin_as_path(&mut self) {
        let mut path_form = |e: &mut Expr| {
            if let Expr::Method {
                name: "sin", path, ..
            } = e
            {
                *path = true;
            }
        };
        visit_exprs(&mut self.stmts, &mut path_form);
        visit_expr(&mut self.tail, &mut path_form);
    }
}
