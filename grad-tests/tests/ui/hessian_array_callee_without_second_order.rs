use grad::differentiable;

// `spin` returns an array and has no second order: a caller's `hessian` needs its
// `spin_tangent` and `spin_tangent_vjp`, which `#[differentiable(hessian)]` on `spin` gives.
#[differentiable]
fn spin(x: f64) -> [f64; 2] {
    [x.sin(), x.cos()]
}

#[differentiable(hessian)]
fn energy(x: f64) -> f64 {
    let p = spin(x);
    p[0] * p[1]
}

fn main() {}
