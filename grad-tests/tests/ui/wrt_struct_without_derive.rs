use grad::differentiable;

struct Model {
    w: f64,
}

impl Model {
    #[differentiable(wrt(self, x))]
    fn predict(&self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {
    let model = Model { w: 1.0 };
    let _ = model.predict(2.0);
}
