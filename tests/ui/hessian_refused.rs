use grad::differentiable;

#[differentiable]
fn inner(x: f64) -> [f64; 2] {
    [x.sin(), x.cos()]
}

// Second derivatives compose only through calls that return one float.
#[differentiable(hessian)]
fn outer(x: f64, y: f64) -> f64 {
    let p = inner(x * y);
    p[0] + y
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

fn main() {}
