use grad::differentiable;

#[differentiable]
fn f(x: f64, n: Option<usize>) -> f64 {
    let mut y = x;
    let mut m = n;
    while let Some(k) = m {
        y = y * x;
        m = if k > 0 { Some(k - 1) } else { None };
    }
    y
}

fn main() {}
