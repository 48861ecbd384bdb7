use grad::differentiable;

#[differentiable]
fn reach(theta: f64, target: &[(f64, f64)]) -> f64 {
    let (x, y) = (theta.cos(), theta.sin());
    let mut cost = 0.0;
    for i in 0..target.len() {
        let (tx, ty) = target[i];
        cost += (x - tx).powi(2) + (y - ty).powi(2);
    }
    cost
}

fn main() {}
