use grad::differentiable;

#[differentiable]
fn first(v: [f64; 4]) -> f64 {
    let [a, ..] = v;
    a * a
}

fn main() {}
