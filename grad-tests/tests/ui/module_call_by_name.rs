use grad::differentiable;

#[differentiable]
mod geometry {
    pub type Vec3 = [f64; 3];

    pub fn norm(v: Vec3) -> f64 {
        (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
    }

    pub fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
        norm([a[0] - b[0], a[1] - b[1], a[2] - b[2]])
    }
}

fn main() {
    let _ = geometry::distance([1.0; 3], [0.0; 3]);
}
