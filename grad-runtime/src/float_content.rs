//! Whether a type holds floats, asked of rustc where the macro sees only a name.
//!
//! `#[differentiable]` reads types as written, so `origin: Vec3` (an alias of `[f64; 3]`) or
//! `cfg: Config` tell it nothing. A parameter that holds floats and is not differentiated must
//! be a compile error, never a silent constant: for each such name the macro emits
//! `const _: () = assert!(!Probe::<Vec3>::HOLDS_FLOATS, "..")`.
//!
//! The probe resolves by the inherent-impl-first rule: `Probe::<T>::HOLDS_FLOATS` is the
//! inherent constant when `T: FloatContent` and the trait's `false` otherwise. So std's types
//! answer by what they hold, and a type that does not implement [`FloatContent`] (a user's
//! struct) is a constant input, as the README says.

use core::marker::PhantomData;

/// What a type holds, for the types grad and std define.
pub trait FloatContent {
    /// Whether a value of the type contains an `f32` or `f64`.
    const HOLDS_FLOATS: bool;
}

macro_rules! holds {
    ($value:literal: $($ty:ty),*) => {
        $(impl FloatContent for $ty { const HOLDS_FLOATS: bool = $value; })*
    };
}

holds!(true: f32, f64);
holds!(false: i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, bool, char, str, ());

#[cfg(feature = "alloc")]
holds!(false: alloc::string::String);

impl<T: FloatContent, const N: usize> FloatContent for [T; N] {
    const HOLDS_FLOATS: bool = T::HOLDS_FLOATS;
}

macro_rules! holds_what_it_wraps {
    ($($wrapper:ty),*) => {
        $(impl<T: FloatContent + ?Sized> FloatContent for $wrapper {
            const HOLDS_FLOATS: bool = T::HOLDS_FLOATS;
        })*
    };
}

holds_what_it_wraps!(&T, &mut T, *const T, *mut T);

impl<T: FloatContent> FloatContent for [T] {
    const HOLDS_FLOATS: bool = T::HOLDS_FLOATS;
}

impl<T: FloatContent> FloatContent for Option<T> {
    const HOLDS_FLOATS: bool = T::HOLDS_FLOATS;
}

#[cfg(feature = "alloc")]
holds_what_it_wraps!(alloc::boxed::Box<T>);

#[cfg(feature = "alloc")]
impl<T: FloatContent> FloatContent for alloc::vec::Vec<T> {
    const HOLDS_FLOATS: bool = T::HOLDS_FLOATS;
}

macro_rules! tuples {
    ($(($($name:ident),+))*) => {
        $(impl<$($name: FloatContent),+> FloatContent for ($($name,)+) {
            const HOLDS_FLOATS: bool = false $(|| $name::HOLDS_FLOATS)+;
        })*
    };
}

tuples! {
    (A) (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F)
    (A, B, C, D, E, F, G) (A, B, C, D, E, F, G, H)
}

/// `Probe::<T>::HOLDS_FLOATS`: `T::HOLDS_FLOATS` where `T: FloatContent`, `false` otherwise.
pub struct Probe<T: ?Sized>(PhantomData<T>);

impl<T: FloatContent + ?Sized> Probe<T> {
    /// What `T` says of itself.
    pub const HOLDS_FLOATS: bool = T::HOLDS_FLOATS;
}

/// The answer for types without [`FloatContent`]: constants.
pub trait Opaque {
    /// A type that says nothing holds no float grad could differentiate.
    const HOLDS_FLOATS: bool = false;
}

impl<T: ?Sized> Opaque for Probe<T> {}

#[cfg(test)]
mod tests {
    use super::{Opaque as _, Probe};

    type Vec3 = [f64; 3];
    type Indices = [usize; 2];
    #[allow(dead_code)]
    struct Config {
        scale: f64,
    }

    #[test]
    #[allow(clippy::assertions_on_constants)] // the constants are what is tested
    fn aliases_answer_by_what_they_name_and_other_types_are_constants() {
        assert!(Probe::<Vec3>::HOLDS_FLOATS);
        assert!(Probe::<&[(usize, f32)]>::HOLDS_FLOATS);
        assert!(Probe::<Option<[f64; 2]>>::HOLDS_FLOATS);
        assert!(!Probe::<Indices>::HOLDS_FLOATS);
        assert!(!Probe::<&str>::HOLDS_FLOATS);
        assert!(!Probe::<Config>::HOLDS_FLOATS);
        assert!(
            !Probe::<(Config, f64)>::HOLDS_FLOATS,
            "a tuple with an unknown part"
        );
    }
}
