use grad::differentiable;

// `graph` is given once; its picture is still there to call after the error.
#[differentiable(graph, wrt(x), graph)]
fn twice(x: f64, k: f64) -> f64 {
    x * k
}

fn main() {
    let _ = twice_graph();
}
