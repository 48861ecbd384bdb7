use grad::differentiable;

pub struct Config {
    pub scale: f64,
}

fn g(x: f64, s: f64) -> f64 {
    x * s
}

fn g_vjp(x: f64, s: f64, upstream: f64) -> (f64, f64) {
    (upstream * s, upstream * x)
}

#[differentiable]
fn f(x: f64, config: &Config) -> f64 {
    g(x, config.scale)
}

fn main() {}
