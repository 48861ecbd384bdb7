use grad::differentiable;

#[differentiable]
mod physics {
    pub fn weights(x: f64) -> Vec<f64> {
        vec![x, 2.0 * x]
    }

    pub fn total(x: f64) -> f64 {
        let w = weights(x);
        w[0] + w[1]
    }
}

struct Model {
    k: f64,
}

#[differentiable]
impl Model {
    fn scaled(&self, x: f64) -> Vec<f64> {
        vec![self.k * x]
    }

    fn first(&self, x: f64) -> f64 {
        let v: f64 = self.scaled(x)[0];
        v
    }
}

fn main() {
    let _ = physics::total(1.0);
    let _ = Model { k: 1.0 }.first(1.0);
}
