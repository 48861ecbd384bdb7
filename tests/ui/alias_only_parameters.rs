use grad::differentiable;

type Vec3 = [f64; 3];

#[differentiable]
fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[differentiable]
fn pair_energy<const N: usize>(pos: [Vec3; N], k: f64) -> f64 {
    let mut e = 0.0;
    for i in 0..N {
        e += k * (pos[i][0] * pos[i][0] + pos[i][1] * pos[i][1]);
    }
    e
}

fn main() {}
