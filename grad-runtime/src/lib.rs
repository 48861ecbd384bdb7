//! Runtime support for [grad](https://docs.rs/grad): compile-time reverse-mode automatic
//! differentiation of plain Rust functions through the `#[differentiable]` attribute.
//!
//! The attribute writes the backward sweep as ordinary Rust; everything that sweep calls at run
//! time lives here, and the `grad` crate re-exports it:
//!
//! - [`Float`]: the scalar trait (implemented for `f32` and `f64`) that generic differentiable
//!   functions are written against. With the `std` feature (the default) its methods delegate
//!   to `std`; without it, to [`libm`], so the crate works in `no_std` builds.
//! - [`pullback`]: the derivative rule of each differentiable float method, one function per
//!   method, named after it, with the conventions chosen at kinks and singularities.
//! - Activation functions ([`sigmoid`], [`softplus`], [`relu`], [`gelu`], ...), each
//!   numerically stable and paired with a `_vjp` that returns its gradient times an upstream
//!   value.
//! - With the `alloc` feature (implied by `std`): `check_gradient` and `central_difference`,
//!   to compare a gradient with central finite differences.
//!
//! ```
//! use grad_runtime::{Float, pullback};
//!
//! // d/dx sin(x) at x = 0.5, with upstream gradient 1.
//! let x = 0.5_f64;
//! let out = Float::sin(x);
//! assert_eq!(pullback::sin(x, out, 1.0), Float::cos(x));
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
mod float;
pub mod pullback;

#[cfg(feature = "alloc")]
mod check;

pub use activations::*;
#[cfg(feature = "alloc")]
pub use check::*;
pub use float::Float;

#[cfg(test)]
mod test_util;
