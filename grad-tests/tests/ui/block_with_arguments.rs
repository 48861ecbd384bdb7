use grad::differentiable;

#[differentiable(wrt(x))]
mod physics {
    pub fn spring(k: f64, x: f64) -> f64 {
        0.5 * k * x * x
    }
}

fn main() {
    let _ = physics::spring(1.0, 2.0);
}
