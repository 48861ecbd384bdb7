use grad::differentiable;

// A type of another crate (or the user's own) with nalgebra's name: grad reads
// `Vector3::new(..)` as nalgebra's constructor, and the generated code checks that it is.
pub struct Vector3<T> {
    pub x: T,
    pub y: T,
    pub z: T,
}

impl<T> Vector3<T> {
    pub fn new(x: T, y: T, z: T) -> Self {
        Vector3 { x, y, z }
    }
}

#[differentiable]
fn first_two(x: f64) -> f64 {
    let v = Vector3::new(x, 2.0 * x, 3.0);
    v.x + v.y + v.z
}

fn main() {
    let _ = first_two(1.0);
}
