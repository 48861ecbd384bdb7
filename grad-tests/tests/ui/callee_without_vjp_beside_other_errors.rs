use grad::differentiable;

fn smooth(x: f64) -> f64 {
    x.tanh()
}

mod kernels {
    pub fn bump(x: f64) -> f64 {
        (-x * x).exp()
    }
}

#[differentiable]
fn f(x: f64, y: f64) -> f64 {
    let s = smooth(x) + kernels::bump(y);
    let t = s.rem_euclid(2.0);
    t * unknown_thing(3)
}

fn unknown_thing(n: i32) -> f64 {
    n as f64
}

fn main() {}
