use grad::differentiable;

#[differentiable]
fn in_an_array(x: f64) -> f64 {
    let square = |v: f64| v * v;
    let cube = |v: f64| v * v * v;
    let fs: [fn(f64) -> f64; 2] = [square, cube];
    fs[0](x) + fs[1](x)
}

#[differentiable]
fn chosen_by_a_branch(x: f64) -> f64 {
    let f: fn(f64) -> f64 = if x > 0.0 { |v| v * v } else { |v| -v };
    f(x)
}

#[differentiable]
fn reassigned(x: f64) -> f64 {
    let mut f: fn(f64) -> f64 = |v| v * v;
    if x > 1.0 {
        f = |v| v * 2.0;
    }
    f(x)
}

#[differentiable]
fn passed_by_mut_reference(x: f64) -> f64 {
    let mut y = x;
    let bump = |v: &mut f64| *v *= 2.0;
    bump(&mut y);
    y
}

fn main() {}
