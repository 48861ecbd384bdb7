//! Runtime support for [grad](https://docs.rs/grad): compile-time reverse-mode automatic
//! differentiation of plain Rust functions through the `#[differentiable]` attribute.
//!
//! The attribute writes the backward sweep as ordinary Rust; everything that sweep calls at run
//! time lives here, and the `grad` crate re-exports it:
//!
//! - [`Float`]: grad's scalar trait (implemented for `f32` and `f64`), num-traits' `Float`
//!   with constants (`T::ZERO`, `T::PI`) and the assignment operators. Generic differentiable
//!   functions may be written against it or against num-traits' `Float` or `Real` (re-exported
//!   as [`num_traits`]). With the `std` feature (the default) the math is `std`'s; without
//!   it, `libm`'s, so the crate works in `no_std` builds.
//! - [`pullback`]: the derivative rule of each differentiable float method, one function per
//!   method, named after it, with the conventions chosen at kinks and singularities, and
//!   beside each its tangent rule for forward mode, `<name>_tangent`, and that rule's own
//!   reverse-mode rule, `<name>_tangent_vjp`, for Hessian-vector products by reverse mode
//!   over forward mode.
//! - [`Dual`]: a dual number (a value and one tangent) implementing num-traits' `Float` and
//!   grad's [`Float`], whose every method takes its tangent from those rules: generic code run
//!   on it gives a directional derivative, and the generic gradient core run on it gives a
//!   Hessian-vector product.
//! - Activation functions ([`sigmoid`], [`softplus`], [`relu`], [`gelu`], ...), each
//!   numerically stable and paired with a `_vjp` that returns its gradient times an upstream
//!   value. Each applies to a float or, elementwise, to a (nested) fixed-size array of floats:
//!   any [`Elementwise`] value.
//! - Vector helpers over fixed-size arrays ([`dot`], [`sum`], [`norm_sq`], [`matvec`],
//!   [`softmax`], [`log_sum_exp`]), each with an O(N) `_vjp`, without allocation.
//! - Beside each helper's tangent `<helper>_jvp`, its reverse-mode rule `<helper>_jvp_vjp`.
//! - With the `alloc` feature (implied by `std`): `check_gradient` and `central_difference`,
//!   to compare a gradient with central finite differences.
//!
//! ```
//! use grad_runtime::pullback;
//!
//! // d/dx sin(x) at x = 0.5, with upstream gradient 1.
//! let x = 0.5_f64;
//! assert_eq!(pullback::sin(x, x.sin(), 1.0), x.cos());
//! ```

#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "alloc")]
extern crate alloc;

// Unit tests use std (formatting, panics) even when the crate is built without it, so that
// `cargo test --no-default-features` exercises the libm code paths.
#[cfg(all(test, not(feature = "std")))]
extern crate std;

mod activations;
mod dual;
mod elementwise;
mod float;
mod float_content;
#[cfg(feature = "nalgebra")]
mod linalg;
pub mod pullback;
mod second_order;
mod structs;
mod vector;

#[cfg(feature = "alloc")]
mod check;
#[cfg(feature = "alloc")]
pub mod tape;

pub use activations::*;
#[cfg(feature = "alloc")]
pub use check::*;
pub use dual::Dual;
pub use elementwise::Elementwise;
pub use float::Float;
#[cfg(feature = "nalgebra")]
pub use nalgebra;
pub use num_traits;
pub use second_order::arrays::*;
pub use structs::{ConstantField, Differentiable};
pub use vector::*;

#[cfg(test)]
mod test_util;

/// Support for generated code; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::float_content::{FloatContent, Opaque, Probe};
    pub use crate::structs::{
        CopyField, FieldOf, FloatField, ZeroField, add_to_float_field, constant_field,
    };

    /// Conversions between nalgebra's types and the arrays generated code computes on.
    #[cfg(feature = "nalgebra")]
    pub mod linalg {
        pub use crate::linalg::*;
    }

    #[cfg(feature = "alloc")]
    pub use alloc::vec::Vec;

    #[cfg(not(feature = "alloc"))]
    pub use no_alloc::{TapeNeedsAlloc, Vec};

    /// Without the `alloc` feature there is no heap: a loop that needs a tape on the heap
    /// must fail to compile with a message that says what to do, and slice gradients, which
    /// need a `Vec`, must come from `f_grad_into`.
    #[cfg(not(feature = "alloc"))]
    mod no_alloc {
        use core::marker::PhantomData;
        use core::ops::{Deref, DerefMut, Index, RangeFull};

        /// Stands in for `Vec` without `alloc`. It holds nothing: a loop tape cannot be made
        /// from it (see [`TapeNeedsAlloc`]), and a slice gradient it stands for is empty.
        pub struct Vec<T>(pub(super) PhantomData<T>);

        /// Never implemented: the bound that stops a heap tape from compiling without `alloc`.
        #[diagnostic::on_unimplemented(
            message = "this loop's trip count is known only at run time, so its reverse sweep keeps a tape on the heap, which needs grad's `alloc` feature",
            label = "a loop whose reverse sweep needs a heap tape",
            note = "enable grad's `alloc` feature (`grad = {{ version = \"0.1\", default-features = false, features = [\"alloc\"] }}`), or give the loop constant bounds (`for i in 0..N` with a constant `N`): its tape then lives on the stack"
        )]
        pub trait TapeNeedsAlloc {}

        // No `Default`: this `new` exists to fail with a message, not to make values.
        #[allow(clippy::new_without_default)]
        impl<T> Vec<T> {
            /// Fails to compile: see [`TapeNeedsAlloc`].
            pub fn new() -> Self
            where
                T: TapeNeedsAlloc,
            {
                Vec(PhantomData)
            }

            /// Fails to compile: see [`TapeNeedsAlloc`].
            pub fn with_capacity(_capacity: usize) -> Self
            where
                T: TapeNeedsAlloc,
            {
                Vec(PhantomData)
            }

            /// Never reached: see [`TapeNeedsAlloc`].
            pub fn push(&mut self, _value: T) {}
        }

        impl<T> Index<RangeFull> for Vec<T> {
            type Output = [T];
            fn index(&self, _: RangeFull) -> &[T] {
                &[]
            }
        }

        impl<T> Deref for Vec<T> {
            type Target = [T];
            fn deref(&self) -> &[T] {
                &[]
            }
        }

        impl<T> DerefMut for Vec<T> {
            fn deref_mut(&mut self) -> &mut [T] {
                &mut []
            }
        }
    }

    /// A fixed-size array of floats, `DEPTH` dimensions deep: what grad reads a parameter of
    /// a type it sees only by name as, when the function indexes it (`origin[0]` of
    /// `origin: Vec3`). rustc confirms it, rather than grad trusting the name.
    #[diagnostic::on_unimplemented(
        message = "grad reads this parameter as an array of floats, because the function indexes it, but `{Self}` is not one",
        label = "grad sees only this type's name",
        note = "write the parameter's type out (`[f64; 3]`), or keep the parameter constant by naming the others in `wrt(..)`"
    )]
    pub trait IndexedArray<const DEPTH: usize> {}

    impl<T: FloatElement, const N: usize> IndexedArray<1> for [T; N] {}
    impl<T: FloatElement, const N: usize, const M: usize> IndexedArray<2> for [[T; N]; M] {}
    impl<T: FloatElement, const N: usize, const M: usize, const K: usize> IndexedArray<3>
        for [[[T; N]; M]; K]
    {
    }

    /// The element of such an array: a float.
    #[diagnostic::on_unimplemented(
        message = "grad reads this parameter as an array of floats, because the function indexes it, but its elements are `{Self}`",
        label = "grad sees only this type's name",
        note = "write the parameter's type out (`[u32; 3]`), or keep the parameter constant by naming the others in `wrt(..)`"
    )]
    pub trait FloatElement {}

    #[diagnostic::do_not_recommend]
    impl<T: Real> FloatElement for T {}

    /// Checks that a callee's `_vjp` returned a single gradient entry. Any value passes: an
    /// entry must work for a float of any `Real` type, which no bound here can tell from a
    /// tuple, so an entry of the wrong shape fails where it is added, at the call.
    pub trait Entries1<T> {
        /// The entry itself.
        fn entries(self) -> T;
    }

    #[diagnostic::do_not_recommend]
    impl<T> Entries1<T> for T {
        #[inline(always)]
        fn entries(self) -> T {
            self
        }
    }

    macro_rules! entries {
        ($($name:ident ($($t:ident)*) $message:literal;)*) => {$(
            /// Checks that a callee's `_vjp` returned one gradient entry per float argument.
            #[diagnostic::on_unimplemented(
                message = $message,
                label = "the callee's `_vjp` must return one entry per float argument",
                note = "a `_vjp` returns one entry per float argument, in argument order (a tuple for several); a function with `wrt(..)` returns fewer, so call it only from code that is not differentiated"
            )]
            pub trait $name<$($t),*> {
                /// The entries as a tuple.
                fn entries(self) -> ($($t,)*);
            }

            #[diagnostic::do_not_recommend]
            impl<$($t),*> $name<$($t),*> for ($($t,)*) {
                #[inline(always)]
                fn entries(self) -> ($($t,)*) {
                    self
                }
            }
        )*};
    }

    entries! {
        Entries2 (A B) "this call's `_vjp` returned `{Self}`, but the call has 2 float arguments, so it must return a tuple of 2 gradient entries";
        Entries3 (A B C) "this call's `_vjp` returned `{Self}`, but the call has 3 float arguments, so it must return a tuple of 3 gradient entries";
        Entries4 (A B C D) "this call's `_vjp` returned `{Self}`, but the call has 4 float arguments, so it must return a tuple of 4 gradient entries";
        Entries5 (A B C D E) "this call's `_vjp` returned `{Self}`, but the call has 5 float arguments, so it must return a tuple of 5 gradient entries";
        Entries6 (A B C D E F) "this call's `_vjp` returned `{Self}`, but the call has 6 float arguments, so it must return a tuple of 6 gradient entries";
        Entries7 (A B C D E F G) "this call's `_vjp` returned `{Self}`, but the call has 7 float arguments, so it must return a tuple of 7 gradient entries";
        Entries8 (A B C D E F G H) "this call's `_vjp` returned `{Self}`, but the call has 8 float arguments, so it must return a tuple of 8 gradient entries";
        Entries9 (A B C D E F G H I) "this call's `_vjp` returned `{Self}`, but the call has 9 float arguments, so it must return a tuple of 9 gradient entries";
        Entries10 (A B C D E F G H I J) "this call's `_vjp` returned `{Self}`, but the call has 10 float arguments, so it must return a tuple of 10 gradient entries";
        Entries11 (A B C D E F G H I J K) "this call's `_vjp` returned `{Self}`, but the call has 11 float arguments, so it must return a tuple of 11 gradient entries";
        Entries12 (A B C D E F G H I J K L) "this call's `_vjp` returned `{Self}`, but the call has 12 float arguments, so it must return a tuple of 12 gradient entries";
    }

    /// A constant of generic code in its float type: `<T as Literal>::literal(2.0)`. A
    /// qualified path rather than `literal::<T>(2.0)`, so that it can follow a labeled
    /// `break` (syn reads `break 'b ::path` as a label).
    pub trait Literal: Sized {
        /// `v` in this type (see `grad::float::literal`).
        fn literal(v: f64) -> Self;
    }

    impl<T: Real> Literal for T {
        #[inline(always)]
        fn literal(v: f64) -> T {
            crate::float::literal(v)
        }
    }
    use crate::float::{Real, is_nan, nan};
    pub use num_traits::{One, Zero};

    /// `target += amount`, element by element: the reverse of an array copy, or a callee's
    /// entry for an array argument. Arrays of arrays come flattened (`as_flattened_mut`).
    #[inline(always)]
    pub fn add_elements<T: Copy + core::ops::Add<Output = T>>(target: &mut [T], amount: &[T]) {
        for (element, amount) in target.iter_mut().zip(amount) {
            *element = *element + *amount;
        }
    }

    /// `sum_k a_k * b_k`: a callee's entry for an array argument times that argument's
    /// tangent, in forward mode. Arrays of arrays come flattened (`as_flattened`).
    #[inline(always)]
    pub fn dot_elements<T: Copy + Zero + core::ops::Mul<Output = T>>(a: &[T], b: &[T]) -> T {
        let mut total = T::zero();
        for (a, b) in a.iter().zip(b) {
            total = total + *a * *b;
        }
        total
    }

    /// The sum of every element: the adjoint of a value repeated into an array (`[x; N]`).
    #[inline(always)]
    pub fn sum_elements<T: Copy + Zero>(elements: &[T]) -> T {
        let mut total = T::zero();
        for element in elements {
            total = total + *element;
        }
        total
    }

    /// The adjoint of a slice parameter: the caller's buffer, checked and zeroed.
    #[inline]
    pub fn slice_adjoint<T: Zero>(buffer: &mut [T], len: usize) -> &mut [T] {
        assert_eq!(
            buffer.len(),
            len,
            "a gradient buffer must have the length of its slice parameter"
        );
        for element in buffer.iter_mut() {
            *element = T::zero();
        }
        buffer
    }

    /// Where a slice parameter's gradient goes when one loop of the core computes every
    /// element once, in order (`grad-expand/src/reverse/overwrite.rs`): the caller's buffer
    /// in `f_grad_into`, or a new `Vec` (an array, for an array parameter) that `f_grad` has
    /// filled as the loop goes. Neither is zeroed first, and the `Vec` is written once per
    /// element, as `collect` writes it.
    pub trait FilledGradient<T> {
        /// Element `i` of the gradient is `element(i)`, for `i` in `0..len`, called in order.
        fn write_each(&mut self, len: usize, element: impl FnMut(usize) -> T);

        /// Elements `0..count` (`count ≤ len`) are `element(i)`, called in order; the rest
        /// are `zero` (a loop over a zip with a shorter slice). An array fills its own length
        /// whatever `len` says: grad spells `len` as the body does, which may name another
        /// constant than the array's type.
        fn write_prefix(
            &mut self,
            len: usize,
            count: usize,
            zero: T,
            element: impl FnMut(usize) -> T,
        );
    }

    impl<T: Clone> FilledGradient<T> for [T] {
        #[inline(always)]
        fn write_each(&mut self, len: usize, mut element: impl FnMut(usize) -> T) {
            let buffer = slice_buffer(self, len);
            for (i, slot) in buffer.iter_mut().enumerate() {
                *slot = element(i);
            }
        }

        #[inline(always)]
        fn write_prefix(
            &mut self,
            len: usize,
            count: usize,
            zero: T,
            mut element: impl FnMut(usize) -> T,
        ) {
            let (head, tail) = slice_buffer(self, len).split_at_mut(count);
            for (i, slot) in head.iter_mut().enumerate() {
                *slot = element(i);
            }
            tail.fill(zero);
        }
    }

    /// An array gradient a caller zeroed (a Jacobian's row, a Hessian's pass) is written in
    /// place.
    impl<T: Clone, const N: usize> FilledGradient<T> for [T; N] {
        #[inline(always)]
        fn write_each(&mut self, len: usize, element: impl FnMut(usize) -> T) {
            self.as_mut_slice().write_each(len, element);
        }

        #[inline(always)]
        fn write_prefix(
            &mut self,
            _len: usize,
            count: usize,
            zero: T,
            element: impl FnMut(usize) -> T,
        ) {
            self.as_mut_slice().write_prefix(N, count, zero, element);
        }
    }

    /// The array gradient `f_grad` gets when a loop of the core fills it in order: built by
    /// `core::array::from_fn` as the loop goes, with no zeros first, as a hand-written
    /// `p.map(..)` builds it.
    pub struct UnfilledArray<T, const N: usize>(Option<[T; N]>);

    impl<T: Copy + Zero, const N: usize> UnfilledArray<T, N> {
        #[inline(always)]
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            UnfilledArray(None)
        }

        /// The filled array; zeros if no fill ran (the core's fill is unconditional, so
        /// that is never seen).
        #[inline(always)]
        pub fn into_array(self) -> [T; N] {
            match self.0 {
                Some(array) => array,
                None => [T::zero(); N],
            }
        }
    }

    impl<T: Clone, const N: usize> FilledGradient<T> for UnfilledArray<T, N> {
        #[inline(always)]
        fn write_each(&mut self, len: usize, element: impl FnMut(usize) -> T) {
            assert_eq!(len, N, "an array gradient is filled over its whole length");
            self.0 = Some(core::array::from_fn(element));
        }

        #[inline(always)]
        fn write_prefix(
            &mut self,
            _len: usize,
            count: usize,
            zero: T,
            mut element: impl FnMut(usize) -> T,
        ) {
            self.0 = Some(core::array::from_fn(|i| {
                if i < count { element(i) } else { zero.clone() }
            }));
        }
    }

    #[cfg(feature = "alloc")]
    impl<T: Clone> FilledGradient<T> for Vec<T> {
        #[inline(always)]
        fn write_each(&mut self, len: usize, element: impl FnMut(usize) -> T) {
            // Collected, as a hand-written `map(..).collect()` is: one exact allocation.
            *self = (0..len).map(element).collect();
        }

        #[inline(always)]
        fn write_prefix(
            &mut self,
            len: usize,
            count: usize,
            zero: T,
            element: impl FnMut(usize) -> T,
        ) {
            self.clear();
            self.reserve_exact(len);
            self.extend((0..count).map(element));
            self.resize(len, zero);
        }
    }

    /// Without `alloc`, `f_grad`'s stand-in `Vec` is the empty slice it always was.
    #[cfg(not(feature = "alloc"))]
    impl<T: Clone> FilledGradient<T> for Vec<T> {
        fn write_each(&mut self, len: usize, element: impl FnMut(usize) -> T) {
            (**self).write_each(len, element);
        }

        fn write_prefix(
            &mut self,
            len: usize,
            count: usize,
            zero: T,
            element: impl FnMut(usize) -> T,
        ) {
            (**self).write_prefix(len, count, zero, element);
        }
    }

    /// The slice gradient `f_grad` hands the core when a loop of the core fills it in order
    /// (see [`FilledGradient`]): empty until the fill.
    #[cfg(feature = "alloc")]
    #[inline]
    pub fn vec_unfilled<T>() -> Vec<T> {
        Vec::new()
    }

    /// Without `alloc` there is no `Vec` to return: `f_grad_into` is the form to call.
    #[cfg(not(feature = "alloc"))]
    #[inline]
    pub fn vec_unfilled<T>() -> Vec<T> {
        Vec(core::marker::PhantomData)
    }

    /// A slice's gradient buffer as the core adds into it: checked against the parameter's
    /// length (which also lets the compiler drop the bounds checks of the core's writes),
    /// and not zeroed, since the companions hand the core zeros already (`f_grad_into`
    /// zeroes its caller's buffer with `slice_adjoint`).
    #[inline(always)]
    pub fn slice_buffer<T>(buffer: &mut [T], len: usize) -> &mut [T] {
        assert_eq!(
            buffer.len(),
            len,
            "a gradient buffer must have the length of its slice parameter"
        );
        buffer
    }

    /// A slice of rows' gradient buffer as the core adds into it: checked against the
    /// parameter's shape, not zeroed (see `slice_buffer`).
    #[inline]
    pub fn ragged_buffer<'b, T, B: AsMut<[T]>, R: AsRef<[T]>>(
        buffer: &'b mut [B],
        rows: &[R],
    ) -> &'b mut [B] {
        assert_eq!(
            buffer.len(),
            rows.len(),
            "a gradient buffer must have the length of its slice parameter"
        );
        for (row, like) in buffer.iter_mut().zip(rows) {
            assert_eq!(
                row.as_mut().len(),
                like.as_ref().len(),
                "each row of a gradient buffer must have the length of its parameter's row"
            );
        }
        buffer
    }

    /// A zeroed gradient for a slice parameter of length `len`.
    #[cfg(feature = "alloc")]
    #[inline]
    pub fn vec_zeros<T: Zero + Clone>(len: usize) -> Vec<T> {
        alloc::vec![T::zero(); len]
    }

    /// Without `alloc` there is no `Vec` to return: `f_grad_into` is the form to call.
    #[cfg(not(feature = "alloc"))]
    #[inline]
    pub fn vec_zeros<T: Zero + Clone>(_len: usize) -> Vec<T> {
        Vec(core::marker::PhantomData)
    }

    /// `len` copies of `value`: a collected `Vec` before its elements are written, its
    /// adjoint, and the gradient of a slice of arrays (`vec_filled([0.0; 3], len)`).
    #[cfg(feature = "alloc")]
    #[inline]
    pub fn vec_filled<T: Clone>(value: T, len: usize) -> Vec<T> {
        alloc::vec![value; len]
    }

    /// Without `alloc` there is no `Vec` to return: `f_grad_into` is the form to call.
    #[cfg(not(feature = "alloc"))]
    #[inline]
    pub fn vec_filled<T: Clone>(_value: T, _len: usize) -> Vec<T> {
        Vec(core::marker::PhantomData)
    }

    /// The adjoint of a parameter that is a slice of arrays (`&[[f64; 3]]`): the caller's
    /// buffer, checked and zeroed.
    #[inline]
    pub fn slice_adjoint_filled<T: Clone>(buffer: &mut [T], len: usize, zero: T) -> &mut [T] {
        assert_eq!(
            buffer.len(),
            len,
            "a gradient buffer must have the length of its slice parameter"
        );
        for element in buffer.iter_mut() {
            *element = zero.clone();
        }
        buffer
    }

    /// The gradient of a slice of rows (`&[Vec<f64>]`): zero rows as long as the parameter's.
    #[cfg(feature = "alloc")]
    #[inline]
    pub fn ragged_zeros<T: Zero + Clone, R: AsRef<[T]>>(rows: &[R]) -> Vec<Vec<T>> {
        rows.iter()
            .map(|row| vec_zeros(row.as_ref().len()))
            .collect()
    }

    /// Without `alloc` there is no `Vec` to return: `f_grad_into` is the form to call.
    #[cfg(not(feature = "alloc"))]
    #[inline]
    pub fn ragged_zeros<T: Zero + Clone, R: AsRef<[T]>>(_rows: &[R]) -> Vec<Vec<T>> {
        Vec(core::marker::PhantomData)
    }

    /// The adjoint of a slice of rows (`&[Vec<f64>]`): the caller's buffer of rows, checked
    /// against the parameter's shape and zeroed.
    #[inline]
    pub fn ragged_adjoint<'b, T: Zero, B: AsMut<[T]>, R: AsRef<[T]>>(
        buffer: &'b mut [B],
        rows: &[R],
    ) -> &'b mut [B] {
        assert_eq!(
            buffer.len(),
            rows.len(),
            "a gradient buffer must have the length of its slice parameter"
        );
        for (row, like) in buffer.iter_mut().zip(rows) {
            let row = row.as_mut();
            assert_eq!(
                row.len(),
                like.as_ref().len(),
                "each row of a gradient buffer must have the length of its parameter's row"
            );
            for element in row.iter_mut() {
                *element = T::zero();
            }
        }
        buffer
    }

    /// An array, seen through any number of references.
    pub trait Referent {
        type Array: Copy;
        fn array(&self) -> &Self::Array;
    }

    impl<E: Copy, const N: usize> Referent for [E; N] {
        type Array = [E; N];
        #[inline(always)]
        fn array(&self) -> &Self::Array {
            self
        }
    }

    impl<A: Referent + ?Sized> Referent for &A {
        type Array = A::Array;
        #[inline(always)]
        fn array(&self) -> &Self::Array {
            (**self).array()
        }
    }

    /// A copy of an array, or of the array a reference refers to: the start of a local that
    /// the body writes (`v.map(f)` on `v: &[f64; N]`).
    #[inline(always)]
    pub fn copy_of<A: Referent>(value: &A) -> A::Array {
        *value.array()
    }

    /// The pullback of [`copy_of`]: the copy's adjoint is the array's. Generated code that
    /// grad differentiates again (a tangent sweep, for second order) calls `copy_of` too.
    #[inline(always)]
    pub fn copy_of_vjp<A: Referent>(value: &A, upstream: A::Array) -> A::Array {
        let _ = value;
        upstream
    }

    /// A NaN of `like`'s type: the start of the iteration where a running maximum took its
    /// final value, which routes the `max` pullback's whole gradient to the new value.
    #[inline(always)]
    pub fn nan_like<T: Real>(like: T) -> T {
        let _ = like;
        nan()
    }

    /// Whether a value is a running maximum's final value (both NaN counts).
    #[inline(always)]
    pub fn same_value<T: Real>(value: T, last: T) -> bool {
        value == last || (is_nan(value) && is_nan(last))
    }

    /// How many values a range iterator yields, for replaying a loop backwards.
    #[inline(always)]
    pub fn trip_count<I: Iterator>(range: I) -> usize {
        range.size_hint().0
    }

    /// The length of a range with constant bounds, for a loop's fixed-size tape.
    pub const fn trip_len(start: i128, end: i128, step: usize, inclusive: bool) -> usize {
        let end = if inclusive { end + 1 } else { end };
        if end <= start {
            return 0;
        }
        let len = (end - start) as u128;
        let step = if step == 0 { 1 } else { step as u128 };
        len.div_ceil(step) as usize
    }

    /// An integer loop counter, reconstructed in the reverse sweep from the iteration index.
    pub trait Counter: Copy {
        /// `self + n`, in the counter's own type.
        fn up(self, n: usize) -> Self;
        /// `self - n`, in the counter's own type.
        fn down(self, n: usize) -> Self;
    }

    macro_rules! counters {
        ($($t:ty)*) => {$(
            impl Counter for $t {
                #[inline(always)]
                fn up(self, n: usize) -> Self {
                    self.wrapping_add(n as $t)
                }
                #[inline(always)]
                fn down(self, n: usize) -> Self {
                    self.wrapping_sub(n as $t)
                }
            }
        )*};
    }
    counters!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize);

    // Each takes both bounds, though it reads one, so that the counter gets the range's
    // integer type even when one bound is an untyped literal.

    /// The `k`-th value of `start..end` stepping by `step`.
    #[inline(always)]
    pub fn range_nth<T: Counter>(start: T, _end: T, k: usize, step: usize) -> T {
        start.up(k * step)
    }

    /// The `k`-th value of `(start..end).rev()` stepping by `step`.
    #[inline(always)]
    pub fn range_nth_back<T: Counter>(_start: T, end: T, k: usize, step: usize) -> T {
        end.down(1 + k * step)
    }

    /// The `k`-th value of `(start..=end).rev()` stepping by `step`.
    #[inline(always)]
    pub fn range_nth_back_inclusive<T: Counter>(_start: T, end: T, k: usize, step: usize) -> T {
        end.down(k * step)
    }
}
