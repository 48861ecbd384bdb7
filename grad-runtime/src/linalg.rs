//! nalgebra's fixed-size types at the boundary of generated code: a differentiable function's
//! core computes on plain arrays (a matrix as its rows), and its companions convert the
//! nalgebra parameters in and the gradient entries out, so that each entry has its
//! parameter's type.

use nalgebra::{Point, SMatrix, Scalar};

/// A vector's elements.
pub fn vector_to_array<T: Scalar + Copy, const R: usize>(v: &SMatrix<T, R, 1>) -> [T; R] {
    core::array::from_fn(|i| v[i])
}

/// The vector of these elements.
pub fn array_to_vector<T: Scalar + Copy, const R: usize>(a: [T; R]) -> SMatrix<T, R, 1> {
    SMatrix::from_fn(|i, _| a[i])
}

/// A matrix's rows.
pub fn matrix_to_rows<T: Scalar + Copy, const R: usize, const C: usize>(
    m: &SMatrix<T, R, C>,
) -> [[T; C]; R] {
    core::array::from_fn(|i| core::array::from_fn(|j| m[(i, j)]))
}

/// The matrix of these rows.
pub fn rows_to_matrix<T: Scalar + Copy, const R: usize, const C: usize>(
    rows: [[T; C]; R],
) -> SMatrix<T, R, C> {
    SMatrix::from_fn(|i, j| rows[i][j])
}

/// A point's coordinates.
pub fn point_to_array<T: Scalar + Copy, const D: usize>(p: &Point<T, D>) -> [T; D] {
    core::array::from_fn(|i| p[i])
}

/// The point at these coordinates.
pub fn array_to_point<T: Scalar + Copy, const D: usize>(a: [T; D]) -> Point<T, D> {
    Point::from(array_to_vector(a))
}

/// The Jacobian whose row `i` is the gradient (a vector) of output `i`.
pub fn jacobian_of_vectors<T: Scalar + Copy, const M: usize, const N: usize>(
    rows: [SMatrix<T, N, 1>; M],
) -> SMatrix<T, M, N> {
    SMatrix::from_fn(|i, j| rows[i][j])
}

/// Compiles only for nalgebra's vectors: a constructor grad read as one (`Vector3::new`) is
/// checked to be nalgebra's, whose layout grad assumes, and not another crate's of that name.
pub fn vector_type<T: Scalar, const R: usize>(_: core::marker::PhantomData<SMatrix<T, R, 1>>) {}

/// Compiles only for nalgebra's matrices, whose `new` takes the elements row by row (another
/// crate's `Matrix3::new` may take them column by column).
pub fn matrix_type<T: Scalar, const R: usize, const C: usize>(
    _: core::marker::PhantomData<SMatrix<T, R, C>>,
) {
}

/// Compiles only for nalgebra's points.
pub fn point_type<T: Scalar, const D: usize>(_: core::marker::PhantomData<Point<T, D>>) {}
