use grad::differentiable;

#[differentiable]
fn norm2(v: [f64; 2]) -> f64 {
    v[0] * v[0] + v[1] * v[1]
}

#[differentiable]
fn norm2_by_reference(v: &[f64; 2]) -> f64 {
    v[0] * v[0] + v[1] * v[1]
}

// The reverse sweep would hand `norm2_vjp` the array as it is after the write.
#[differentiable]
fn later_write(x: [f64; 2]) -> f64 {
    let mut a = [x[0], x[1]];
    let y = norm2(a);
    a[0] = 5.0 * x[1];
    y + a[0]
}

#[differentiable]
fn written_in_a_later_iteration(x: [f64; 2]) -> f64 {
    let mut a = [x[0], x[1]];
    let mut total = 0.0;
    for i in 0..3 {
        total += norm2_by_reference(&a);
        a[i % 2] = total * x[0];
    }
    total
}

fn main() {}
