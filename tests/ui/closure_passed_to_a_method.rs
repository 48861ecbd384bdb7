use grad::differentiable;

#[differentiable(wrt(x))]
#[allow(clippy::ptr_arg)]
fn below(x: f64, limits: &Vec<f64>) -> f64 {
    let n = limits.iter().filter(|&&l| l < x).count();
    x * n as f64
}

fn main() {}
