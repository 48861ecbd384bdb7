//! The functions. Each module holds the `#[differentiable]` primal (grad's input, also the
//! primal peer), the hand-written gradient, the same function generic over `DualNum<f64>` for
//! num-dual, and over `reverse::Var` for the tape.

pub mod dense;
pub mod gaussian;
pub mod lennard_jones;
pub mod neuron;
pub mod recurrence;
pub mod rosenbrock;
pub mod softmax;
