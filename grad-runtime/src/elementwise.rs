//! The [`Elementwise`] trait: a float or a (nested) fixed-size array of floats, so that one
//! function name applies a scalar rule to a single value or to every element of an array.

use crate::Float;

/// A float, or a fixed-size array (possibly nested) of floats: the shapes an elementwise
/// function such as [`sigmoid`](crate::sigmoid) accepts and returns.
///
/// Implemented for every [`Float`] (`f32`, `f64`), where each method applies its closure once,
/// and for `[E; N]` whenever `E` is itself `Elementwise`, where each method recurses into every
/// element, so `[f64; 4]`, `[f32; 8]` and `[[f64; 2]; 3]` all qualify. No allocation is
/// involved: the result is built in place, with the same shape as the input.
///
/// Closures are applied to the elements in row-major order (the order of a nested `for`
/// loop), which matters only for closures with side effects, such as accumulating a sum.
///
/// ```
/// use grad_runtime::Elementwise;
///
/// let doubled = [[1.0_f64, 2.0], [3.0, 4.0]].map_elements(|x| 2.0 * x);
/// assert_eq!(doubled, [[2.0, 4.0], [6.0, 8.0]]);
/// assert_eq!(Elementwise::map_elements(1.5_f32, |x| -x), -1.5);
/// assert_eq!([1.0_f64, 2.0, 3.0].fold_elements(0.0, |acc, x| acc + x), 6.0);
/// ```
pub trait Elementwise: Copy {
    /// The float at the bottom of the shape: `Self` for a float, `f64` for `[[f64; 2]; 3]`.
    type Scalar: Float;

    /// Applies `f` to every element, keeping the shape.
    fn map_elements(self, f: impl FnMut(Self::Scalar) -> Self::Scalar) -> Self;

    /// Applies `f` to every pair of corresponding elements of `self` and `other` (which have
    /// the same shape), keeping the shape.
    fn zip_map_elements(
        self,
        other: Self,
        f: impl FnMut(Self::Scalar, Self::Scalar) -> Self::Scalar,
    ) -> Self;

    /// Folds every element into an accumulator, starting from `init`.
    fn fold_elements<A>(self, init: A, f: impl FnMut(A, Self::Scalar) -> A) -> A;
}

impl<T: Float> Elementwise for T {
    type Scalar = T;

    #[inline(always)]
    fn map_elements(self, mut f: impl FnMut(T) -> T) -> T {
        f(self)
    }

    #[inline(always)]
    fn zip_map_elements(self, other: T, mut f: impl FnMut(T, T) -> T) -> T {
        f(self, other)
    }

    #[inline(always)]
    fn fold_elements<A>(self, init: A, mut f: impl FnMut(A, T) -> A) -> A {
        f(init, self)
    }
}

impl<E: Elementwise, const N: usize> Elementwise for [E; N] {
    type Scalar = E::Scalar;

    #[inline]
    fn map_elements(mut self, mut f: impl FnMut(E::Scalar) -> E::Scalar) -> Self {
        for element in &mut self {
            *element = element.map_elements(&mut f);
        }
        self
    }

    #[inline]
    fn zip_map_elements(
        mut self,
        other: Self,
        mut f: impl FnMut(E::Scalar, E::Scalar) -> E::Scalar,
    ) -> Self {
        for (element, other) in self.iter_mut().zip(other) {
            *element = element.zip_map_elements(other, &mut f);
        }
        self
    }

    #[inline]
    fn fold_elements<A>(self, init: A, mut f: impl FnMut(A, E::Scalar) -> A) -> A {
        let mut acc = init;
        for element in self {
            acc = element.fold_elements(acc, &mut f);
        }
        acc
    }
}

#[cfg(test)]
mod tests;
