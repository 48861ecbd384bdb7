use grad::differentiable;

// Inside a loop the reverse sweep recomputes `let before = a;` from `a` as it is after the
// loop's later writes.
#[differentiable]
fn copy_in_a_loop(x: [f64; 2]) -> f64 {
    let mut a = [x[0], x[1]];
    let mut total = 0.0;
    for i in 0..3 {
        let before = a;
        total += before[0] * before[1];
        a[i % 2] = total * x[0];
    }
    total
}

fn main() {}
