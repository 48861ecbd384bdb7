use grad::differentiable;

#[derive(Clone, Copy)]
struct Point {
    coords: [f64; 2],
}

impl std::ops::Index<usize> for Point {
    type Output = f64;
    fn index(&self, i: usize) -> &f64 {
        &self.coords[i]
    }
}

#[differentiable]
fn norm_sq(p: Point) -> f64 {
    p[0] * p[0] + p[1] * p[1]
}

fn main() {}
