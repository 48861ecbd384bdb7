use grad::differentiable;

// A deferred `let` of an array: grad asks for its value where it is declared.
#[differentiable]
fn f(x: f64) -> f64 {
    let y: [f64; 2];
    y = [x, x * x];
    y[0] + y[1]
}

fn main() {}
