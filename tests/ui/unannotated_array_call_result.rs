use grad::differentiable;

#[differentiable]
fn rate(state: [f64; 2], k: f64) -> [f64; 2] {
    [state[1], -k * state[0]]
}

#[differentiable]
fn euler(x0: f64, k: f64) -> f64 {
    let state = [x0, 0.0];
    let d = rate(state, k);
    state[0] + 0.1 * d[0] + d[1]
}

fn main() {}
