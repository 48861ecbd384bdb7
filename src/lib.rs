#![no_std]
#![doc = include_str!("../README.md")]

// Generated code names this crate `::grad`, which must resolve inside the crate too.
extern crate self as grad;

pub use grad_macro::{Differentiable, differentiable};
pub use grad_runtime::*;
