use grad::differentiable;

/// A table: called with constants, it needs no derivative.
fn lookup(i: usize) -> f64 {
    [0.5, 1.5][i]
}

fn g(x: f64) -> f64 {
    x * x
}

// Only the call that a differentiated value flows into needs a `_vjp`.
#[differentiable]
fn f(x: f64, i: usize) -> f64 {
    lookup(i) * g(x)
}

fn main() {}
