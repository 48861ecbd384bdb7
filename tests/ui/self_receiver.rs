use grad::differentiable;

struct Model {
    w: f64,
}

impl Model {
    #[differentiable]
    fn predict(&self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {
    let _ = Model { w: 1.0 }.predict(2.0);
}
