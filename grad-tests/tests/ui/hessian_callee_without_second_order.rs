use grad::differentiable;

// `cube` has a gradient but no second order: a caller's `hessian` needs its `cube_tangent`.
#[differentiable]
fn cube(x: f64) -> f64 {
    x * x * x
}

#[differentiable(hessian)]
fn energy(x: f64, y: f64) -> f64 {
    cube(x) + x * y
}

fn main() {
    let _ = energy_hessian(1.0, 2.0);
}
