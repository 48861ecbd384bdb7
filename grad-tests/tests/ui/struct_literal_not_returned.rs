use grad::{Differentiable, differentiable};

#[derive(Clone, Copy, Differentiable)]
struct Point {
    x: f64,
    y: f64,
}

#[differentiable]
fn through_a_local(a: f64) -> f64 {
    let p = Point { x: a, y: 2.0 * a };
    p.x + p.y
}

#[differentiable]
fn with_rest(a: f64, base: Point) -> Point {
    Point { x: a, ..base }
}

fn main() {}
