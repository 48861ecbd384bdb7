//! Function 6: the pairwise Lennard-Jones energy of P particles in 3-D (ε = σ = 1).

use grad::differentiable;
use num_dual::DualNum;
use reverse::Var;

#[differentiable]
pub fn energy<const P: usize>(pos: [[f64; 3]; P]) -> f64 {
    let mut e = 0.0;
    for i in 0..P {
        for j in i + 1..P {
            let dx = pos[i][0] - pos[j][0];
            let dy = pos[i][1] - pos[j][1];
            let dz = pos[i][2] - pos[j][2];
            let r2 = dx * dx + dy * dy + dz * dz;
            let s6 = 1.0 / (r2 * r2 * r2);
            e += 4.0 * (s6 * s6 - s6);
        }
    }
    e
}

/// The forces, by hand: ∂E/∂rᵢ = Σⱼ -24 s⁶ (2 s⁶ - 1) / r² · (rᵢ - rⱼ).
pub fn hand<const P: usize>(pos: &[[f64; 3]; P]) -> [[f64; 3]; P] {
    let mut g = [[0.0; 3]; P];
    for i in 0..P {
        for j in i + 1..P {
            let d = [
                pos[i][0] - pos[j][0],
                pos[i][1] - pos[j][1],
                pos[i][2] - pos[j][2],
            ];
            let inv = 1.0 / (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            let s6 = inv * inv * inv;
            let f = -24.0 * s6 * (2.0 * s6 - 1.0) * inv;
            for k in 0..3 {
                g[i][k] += f * d[k];
                g[j][k] -= f * d[k];
            }
        }
    }
    g
}

pub fn dual<D: DualNum<f64> + Copy, const P: usize>(pos: &[[D; 3]; P]) -> D {
    let mut e = D::from(0.0);
    for i in 0..P {
        for j in i + 1..P {
            let dx = pos[i][0] - pos[j][0];
            let dy = pos[i][1] - pos[j][1];
            let dz = pos[i][2] - pos[j][2];
            let r2 = dx * dx + dy * dy + dz * dz;
            let s6 = (r2 * r2 * r2).recip();
            e += (s6 * s6 - s6) * 4.0;
        }
    }
    e
}

/// `pos` flattened particle by particle.
pub fn tape<'t>(pos: &[Var<'t>]) -> Var<'t> {
    let p = pos.len() / 3;
    let mut terms = Vec::with_capacity(p * (p - 1) / 2);
    for i in 0..p {
        for j in i + 1..p {
            let dx = pos[3 * i] - pos[3 * j];
            let dy = pos[3 * i + 1] - pos[3 * j + 1];
            let dz = pos[3 * i + 2] - pos[3 * j + 2];
            let r2 = dx * dx + dy * dy + dz * dz;
            let s6 = (r2 * r2 * r2).recip();
            terms.push(4.0 * (s6 * s6 - s6));
        }
    }
    terms.into_iter().sum()
}
