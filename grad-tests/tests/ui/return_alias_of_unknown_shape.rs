use grad::differentiable;

type Vec3 = [f64; 3];

#[differentiable]
fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

// The value is a call's result: grad cannot see its shape, and says how to write it.
#[differentiable]
fn towards(a: [f64; 3], b: [f64; 3]) -> Vec3 {
    sub(b, a)
}

fn main() {}
