use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = 'done: {
        if x > 0.0 {
            break 'done x;
        }
        -x
    };
    y * 2.0
}

fn main() {}
