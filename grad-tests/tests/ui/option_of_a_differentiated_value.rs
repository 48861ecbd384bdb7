use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let o = if x > 0.0 { Some(x) } else { None };
    if let Some(t) = o { t * t } else { 0.0 }
}

fn main() {}
