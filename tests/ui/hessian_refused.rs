use grad::differentiable;

#[differentiable]
fn inner(x: f64) -> (f64, f64) {
    (x.sin(), x.cos())
}

// Second derivatives compose only through calls that return a float or an array.
#[differentiable(hessian)]
fn outer(x: f64, y: f64) -> f64 {
    let (p, _) = inner(x * y);
    p + y
}

// Second derivatives are for functions of one float output.
#[differentiable(hessian)]
fn pair(x: f64) -> (f64, f64) {
    (x.sin(), x.cos())
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
