use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let relu = |v: f64| {
        if v < 0.0 {
            return 0.0;
        }
        v
    };
    relu(x) + relu(x - 1.0)
}

#[differentiable]
fn in_an_adaptor(x: [f64; 3]) -> f64 {
    let s: f64 = x
        .iter()
        .map(|&v| {
            if v < 0.0 {
                return 0.0;
            }
            v * v
        })
        .sum();
    s + 1.0
}

fn main() {}
