use grad::differentiable;

struct Model {
    w: f64,
}

impl Model {
    #[differentiable(wrt(self, x))]
    fn predict(&self, x: f64) -> f64 {
        self.w * x
    }

    // The fix the message names: the field as a parameter.
    #[differentiable]
    fn predict_with(&self, w: f64, x: f64) -> f64 {
        w * x
    }

    fn predict_fixed(&self, x: f64) -> f64 {
        self.predict_with(self.w, x)
    }
}

fn main() {
    let model = Model { w: 1.0 };
    let _ = model.predict(2.0);
    let _ = model.predict_fixed(2.0);
    let _ = model.predict_with_grad(1.0, 2.0);
}
