//! Structs as differentiable inputs: a parameter whose type derives [`Differentiable`] has a
//! gradient entry of the same type, holding the partials in its float fields (the pytree rule
//! of JAX), and its other fields as the input had them.

use core::marker::PhantomData;

/// A value whose floats can be differentiated: `#[derive(grad::Differentiable)]` on a struct
/// whose fields are floats, arrays of them, other such structs, or constants.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is differentiated field by field, so it must derive `grad::Differentiable`",
    label = "a parameter named in `wrt(..)`, of a type that does not derive `grad::Differentiable`",
    note = "add `#[derive(grad::Differentiable)]` to the struct, or leave the parameter out of `wrt(..)` to keep it constant"
)]
pub trait Differentiable: Sized {
    /// The same value with every float it holds zero, and every other field as it is: where a
    /// gradient of this type starts.
    fn zeros_like(&self) -> Self;
}

impl Differentiable for f64 {
    fn zeros_like(&self) -> Self {
        0.0
    }
}

impl Differentiable for f32 {
    fn zeros_like(&self) -> Self {
        0.0
    }
}

impl<T: Differentiable, const N: usize> Differentiable for [T; N] {
    fn zeros_like(&self) -> Self {
        core::array::from_fn(|i| self[i].zeros_like())
    }
}

// Integers and `bool` are kept as they are, so that a tuple mixing them with floats
// (`(f64, usize)`) zeroes its floats and keeps its constants.
macro_rules! constants_kept {
    ($($ty:ty),*) => {
        $(impl Differentiable for $ty {
            fn zeros_like(&self) -> Self {
                *self
            }
        })*
    };
}

constants_kept!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, bool, char
);

// A tuple field of floats (`t: (f64, f64)`) starts at zero too: copied as a constant, its
// gradient would start at the input's value and be wrong.
macro_rules! differentiable_tuples {
    ($(($($t:ident $i:tt),+))*) => {
        $(impl<$($t: Differentiable),+> Differentiable for ($($t,)+) {
            fn zeros_like(&self) -> Self {
                ($(self.$i.zeros_like(),)+)
            }
        })*
    };
}

differentiable_tuples! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
}

impl<T> Differentiable for PhantomData<T> {
    fn zeros_like(&self) -> Self {
        PhantomData
    }
}

/// A field of a derived struct, as the derive's generated code asks what it holds: a field
/// whose type is [`Differentiable`] starts at zero, any other is a constant, copied. The
/// choice is rustc's (the inherent-impl-first rule of method resolution, on a concrete type).
pub struct FieldOf<'a, T>(pub &'a T);

/// A field that holds floats: zero.
pub trait ZeroField<T> {
    /// The field's zero.
    fn zero_or_copy(&self) -> T;
}

impl<T: Differentiable> ZeroField<T> for FieldOf<'_, T> {
    fn zero_or_copy(&self) -> T {
        self.0.zeros_like()
    }
}

/// A constant field: a copy.
pub trait CopyField<T> {
    /// The field as it is.
    fn zero_or_copy(&self) -> T;
}

impl<T: Clone> CopyField<T> for &FieldOf<'_, T> {
    fn zero_or_copy(&self) -> T {
        self.0.clone()
    }
}

/// A type that holds no floats: a field of a differentiated struct that grad reads as a
/// constant (an integer count, a flag) must be one, which generated code checks, so that a
/// float field read where grad cannot see that it is a float is a compile error rather than a
/// gradient left out. Implement it for a type of your own that holds no floats (an enum of
/// modes) to read such a field as a constant.
#[diagnostic::on_unimplemented(
    message = "`{Self}` may hold floats, but grad reads this field of a differentiated struct as a constant",
    label = "read as a constant",
    note = "index an array field where you read it (`p.w[i]`), or read the field into a typed local first (`let k: f64 = p.k;`, `let w: [f64; 3] = p.w;`); for a type that holds no floats, implement `grad::ConstantField` for it"
)]
pub trait ConstantField {}

macro_rules! constant_fields {
    ($($ty:ty),*) => {
        $(impl ConstantField for $ty {})*
    };
}

constant_fields!(
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    bool,
    char,
    str,
    ()
);

impl<T: ConstantField + ?Sized> ConstantField for &T {}
impl<T: ConstantField, const N: usize> ConstantField for [T; N] {}
impl<T: ConstantField> ConstantField for [T] {}
impl<T: ConstantField> ConstantField for Option<T> {}
impl<T> ConstantField for PhantomData<T> {}

#[cfg(feature = "alloc")]
impl<T: ConstantField> ConstantField for alloc::vec::Vec<T> {}

#[cfg(feature = "alloc")]
impl ConstantField for alloc::string::String {}

/// Checks, at compile time, that a field read as a constant holds no floats.
#[inline(always)]
pub fn constant_field<T: ConstantField + ?Sized>(_: &T) {}

/// A field of a differentiated struct that grad reads as one float (it is used as one, or
/// passed whole to a call): its adjoint is added to the same field of the gradient entry.
#[diagnostic::on_unimplemented(
    message = "grad reads this field of a differentiated struct as one float, but it is a `{Self}`",
    label = "read as a float",
    note = "an array field is an array where it is indexed (`p.w[i]`); to pass it whole to a call, copy it into a typed local first (`let w: [f64; 4] = p.w; g(w)`)"
)]
pub trait FloatField: Sized {
    /// `self + amount`.
    fn plus(self, amount: Self) -> Self;
}

// Not recommended: an array's error then names `FloatField` and its note, not num-traits'.
#[diagnostic::do_not_recommend]
impl<T: num_traits::real::Real> FloatField for T {
    #[inline(always)]
    fn plus(self, amount: T) -> T {
        self + amount
    }
}

/// `*place += amount` for a field grad reads as a float, checked to be one (see
/// [`FloatField`]).
#[inline(always)]
pub fn add_to_float_field<T: FloatField + Copy>(place: &mut T, amount: T) {
    *place = place.plus(amount);
}
