#![no_std]
pub use grad_macro::differentiable;
