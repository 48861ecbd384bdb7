use grad::differentiable;

#[differentiable(graph, hessian, graph)]
mod physics {
    pub fn spring(k: f64, x: f64) -> f64 {
        0.5 * k * x * x
    }
}

fn main() {
    let _ = physics::spring_graph();
    let _ = physics::spring_hessian(1.0, 2.0);
}
