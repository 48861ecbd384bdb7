use grad::differentiable;

// `iter_mut()` driven by `map(..).count()`: grad says what it takes instead.
#[differentiable]
fn scaled(x: [f64; 3]) -> f64 {
    let mut out = [0.0; 3];
    x.iter().zip(out.iter_mut()).map(|(x, o)| *o = 2.0 * x).count();
    out[0] + out[1] + out[2]
}

fn main() {}
