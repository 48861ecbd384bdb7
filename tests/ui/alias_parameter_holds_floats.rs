use grad::differentiable;

type Vec3 = [f64; 3];

#[differentiable]
fn distance_cost(origin: Vec3, r: f64) -> f64 {
    let d = origin[0] * origin[0] + origin[1] * origin[1] + origin[2] * origin[2];
    (d.sqrt() - r).powi(2)
}

fn main() {}
