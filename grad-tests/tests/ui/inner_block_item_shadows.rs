use grad::differentiable;

const K: f64 = 2.0;

mod other {
    pub const K: f64 = 10.0;
}

#[differentiable]
fn block_const_vs_module_const(x: f64) -> f64 {
    let a = {
        const K: f64 = 3.0;
        x * K
    };
    a + x * K
}

#[differentiable]
fn block_use_vs_module_const(x: f64) -> f64 {
    let a = {
        use other::K;
        x * K
    };
    a + x * K
}

#[differentiable]
fn const_in_branch(x: f64) -> f64 {
    if x > 0.0 {
        const K: f64 = 5.0;
        x * K
    } else {
        x * K
    }
}

#[differentiable]
fn min_block_const(x: f64) -> f64 {
    {
        const K: f64 = 3.0;
    }
    x * K
}

#[differentiable]
fn glob_in_a_block(x: f64) -> f64 {
    let y = {
        use other::*;
        x * K
    };
    y
}

fn main() {}
