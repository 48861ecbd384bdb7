use grad::differentiable;

// Second derivatives of a nalgebra value are not given yet.
#[differentiable(hessian)]
fn tip(q: grad::nalgebra::Vector2<f64>) -> grad::nalgebra::Vector2<f64> {
    grad::nalgebra::Vector2::new(q.x.cos(), q.y.sin())
}

// `hessian` is given once.
#[differentiable(hessian, hessian)]
fn twice(x: f64) -> f64 {
    x * x
}

#[differentiable(hessian)]
fn chain(x: &[f64], k: f64) -> f64 {
    (x[1] - x[0]).sin() * k
}

// A constant slice, or a part of one, passed to a call has no tangent to pass on.
#[differentiable(hessian, wrt(k))]
fn part_of_data(data: &[f64], k: f64) -> f64 {
    chain(&data[1..], k) * k
}

#[differentiable(hessian, wrt(k))]
fn all_of_data(data: &[f64], k: f64) -> f64 {
    chain(data, k) * k
}

fn main() {}
