//! The suite: one `bench_*` per function, each stating its inputs and its peers. Checking
//! every peer's gradient and then timing them is `Function::check_then_time`.

use std::hint::black_box;

use num_dual::{Dual64, DualSVec64};
use reverse::{Gradient, Tape};

use crate::functions::{dense, gaussian, lennard_jones, neuron, recurrence, rosenbrock, softmax};
use crate::measure::{Peers, Suite};
use crate::peers::{central_difference, dual_passes, seed_vec, tape_gradient, unseed_vec};

pub fn bench_neuron(suite: &mut Suite) {
    use neuron::*;
    let p = [2.0, -1.0, -3.0, -2.0, -3.0];
    let tape_ = Tape::new();
    let primal = |p: &[f64; 5]| neuron(p[0], p[1], p[2], p[3], p[4]);
    let peers = Peers::new(&p)
        .peer("primal", primal)
        .peer("hand", |p| hand(p[0], p[1], p[2], p[3], p[4]))
        .peer("grad", |p| neuron_grad(p[0], p[1], p[2], p[3], p[4]))
        .peer("fd", |p| {
            central_difference(&mut { *p }, 5, |p, i| &mut p[i], primal)
        })
        .peer("dual", |p| {
            let mut d = p.map(Dual64::from_re);
            dual_passes(&mut d, 5, |d, i| &mut d[i], dual)
        })
        .peer("dual_vec", |p| {
            unseed_vec(dual::<DualSVec64<5>>(&std::array::from_fn(|i| {
                seed_vec(p[i], i)
            })))
        })
        .peer("tape", |p| tape_gradient(&tape_, p, tape));
    suite
        .function(
            "neuron",
            "Sigmoid neuron (the seed's example): f = 1/(1+exp(-(w0 x0 + w1 x1 + w2)))",
            5,
        )
        .check_then_time(peers);
}

fn rosenbrock_point<const N: usize>() -> [f64; N] {
    std::array::from_fn(|i| 0.5 + 0.7 * (1.3 * i as f64).sin())
}

/// A gradient of N inputs from one num-dual vector pass.
pub type VectorMode<const N: usize> = fn(&[f64; N]) -> Vec<f64>;

pub fn bench_rosenbrock<const N: usize>(suite: &mut Suite, vector: Option<VectorMode<N>>) {
    use rosenbrock::*;
    let x = rosenbrock_point::<N>();
    let tape_ = Tape::new();
    let mut f = suite.function(
        &format!("rosenbrock_{N}"),
        &format!("Rosenbrock, N = {N} (`fn rosenbrock<const N: usize>(x: &[f64; N]) -> f64`)"),
        N,
    );
    let mut peers = Peers::new(&x)
        .peer("primal", rosenbrock)
        .peer("hand", hand)
        .peer("grad", rosenbrock_grad)
        .peer("grad_by_value", |x| rosenbrock_by_value_grad(*x))
        .peer("fd", |x| {
            central_difference(&mut { *x }, N, |x, i| &mut x[i], rosenbrock)
        })
        .peer("dual", |x| {
            let mut d = x.map(Dual64::from_re);
            dual_passes(&mut d, N, |d, i| &mut d[i], dual)
        });
    match vector {
        Some(vector) => peers = peers.peer("dual_vec", vector),
        None => f.note(format!(
            "No `DualSVec64<{N}>` peer: each number would carry {N} tangents ({} KB), so one \
             vector pass moves O(N²) memory through the stack; the scalar `Dual64` passes are \
             the faster forward mode here.",
            N * 8 / 1000
        )),
    }
    f.check_then_time(peers.peer("tape", |x| tape_gradient(&tape_, x, tape)));
}

pub fn rosenbrock_vector<const N: usize>(x: &[f64; N]) -> Vec<f64> {
    let d: [DualSVec64<N>; N] = std::array::from_fn(|i| seed_vec(x[i], i));
    unseed_vec(rosenbrock::dual(&d))
}

pub fn bench_dense(suite: &mut Suite) {
    use dense::*;
    const M: usize = 64;
    const N: usize = 64;
    // The parameters: W (row by row) and b. Input k is W's entry k for k < MN, then b's
    // entry k - MN.
    type Params = ([[f64; N]; M], [f64; M]);
    let w: [[f64; N]; M] =
        std::array::from_fn(|i| std::array::from_fn(|j| 0.2 * ((i * N + j) as f64 * 0.61).sin()));
    let b: [f64; M] = std::array::from_fn(|i| 0.1 * (i as f64 * 1.7).cos());
    let x: [f64; N] = std::array::from_fn(|j| (j as f64 * 0.37).sin());
    let t: [f64; M] = std::array::from_fn(|i| if i % 3 == 0 { 1.0 } else { 0.0 });
    let params: Params = (w, b);
    let tape_ = Tape::new();

    fn at(p: &mut Params, k: usize) -> &mut f64 {
        if k < M * N {
            &mut p.0[k / N][k % N]
        } else {
            &mut p.1[k - M * N]
        }
    }
    type DualParams = ([[Dual64; N]; M], [Dual64; M]);
    fn dual_at(p: &mut DualParams, k: usize) -> &mut Dual64 {
        if k < M * N {
            &mut p.0[k / N][k % N]
        } else {
            &mut p.1[k - M * N]
        }
    }

    let peers = Peers::new(&params)
        .peer("primal", |(w, b)| dense_loss(w, b, &x, &t))
        .peer("hand", |(w, b)| hand(w, b, &x, &t))
        .peer("grad", |(w, b)| dense_loss_grad(w, b, &x, &t))
        .peer("grad_by_value", |(w, b)| {
            dense_loss_by_value_grad(*w, *b, x, t)
        })
        .peer("fd", |p| {
            central_difference(&mut { *p }, M * N + M, at, |p| {
                dense_loss(&p.0, &p.1, &x, &t)
            })
        })
        .peer("dual", |(w, b)| {
            let mut p: DualParams = (
                w.map(|row| row.map(Dual64::from_re)),
                b.map(Dual64::from_re),
            );
            dual_passes(&mut p, M * N + M, dual_at, |p| dual(&p.0, &p.1, &x, &t))
        })
        .peer("tape", |(w, b)| {
            tape_.clear();
            let wv = tape_.add_vars(w.as_flattened());
            let bv = tape_.add_vars(b);
            let gradient = tape(&wv, &bv, &x, &t).grad();
            let mut out = gradient.wrt(wv.as_slice());
            out.extend(gradient.wrt(bv.as_slice()));
            out
        });
    let mut f = suite.function(
        "dense_64x64",
        "Dense layer 64×64 with sigmoid and squared loss, gradient with respect to W and b \
         (`wrt(w, b)`)",
        M * N + M,
    );
    f.note("No `DualSVec64` peer: 4,160 inputs would make every dual number 33 KB.".to_string());
    f.check_then_time(peers);
}

pub fn bench_softmax(suite: &mut Suite) {
    use softmax::*;
    const N: usize = 100;
    let z: [f64; N] = std::array::from_fn(|i| 3.0 * (i as f64 * 0.77).sin());
    let label = 17;
    let tape_ = Tape::new();
    let peers = Peers::new(&z)
        .peer("primal", |z| cross_entropy(z, label))
        .peer("hand", |z| hand(z, label))
        .peer("grad", |z| cross_entropy_grad(z, label))
        .peer("grad_by_value", |z| cross_entropy_by_value_grad(*z, label))
        .peer("grad_lse", |z| cross_entropy_lse_grad(*z, label))
        .peer("fd", |z| {
            central_difference(
                &mut { *z },
                N,
                |z, i| &mut z[i],
                |z| cross_entropy(z, label),
            )
        })
        .peer("dual", |z| {
            let mut d = z.map(Dual64::from_re);
            dual_passes(&mut d, N, |d, i| &mut d[i], |d| dual(d, label))
        })
        .peer("dual_vec", |z| {
            let d: [DualSVec64<N>; N] = std::array::from_fn(|i| seed_vec(z[i], i));
            unseed_vec(dual(&d, label))
        })
        .peer("tape", |z| tape_gradient(&tape_, z, |v| tape(v, label)));
    suite
        .function(
            "softmax_ce_100",
            "Softmax cross-entropy, N = 100 (max-shifted log-sum-exp)",
            N,
        )
        .check_then_time(peers);
}

pub fn bench_recurrence(suite: &mut Suite) {
    use recurrence::*;
    let p = [0.9, 0.5, 0.1];
    let tape_ = Tape::new();
    let primal = |p: &[f64; 3]| rnn(p[0], p[1], p[2]);
    let peers = Peers::new(&p)
        .peer("primal", primal)
        .peer("hand", |p| hand(p[0], p[1], p[2]))
        .peer("grad", |p| rnn_grad(p[0], p[1], p[2]))
        .peer("fd", |p| {
            central_difference(&mut { *p }, 3, |p, i| &mut p[i], primal)
        })
        .peer("dual", |p| {
            let mut d = p.map(Dual64::from_re);
            dual_passes(&mut d, 3, |d, i| &mut d[i], dual)
        })
        .peer("dual_vec", |p| {
            unseed_vec(dual::<DualSVec64<3>>(&std::array::from_fn(|i| {
                seed_vec(p[i], i)
            })))
        })
        .peer("tape", |p| tape_gradient(&tape_, p, tape));
    suite
        .function(
            "recurrence_1000",
            "1,000-step scalar recurrence h ← tanh(w h + u sin(0.01 i) + b), loss (h - 0.5)²",
            3,
        )
        .check_then_time(peers);
}

pub fn bench_lennard_jones(suite: &mut Suite) {
    use lennard_jones::*;
    const P: usize = 32;
    // A 4 × 4 × 2 lattice of spacing 1.15 (near the potential's minimum at 2^(1/6) ≈ 1.12),
    // jittered.
    let pos: [[f64; 3]; P] = std::array::from_fn(|i| {
        let cell = [i % 4, (i / 4) % 4, i / 16];
        std::array::from_fn(|k| 1.15 * cell[k] as f64 + 0.05 * ((3 * i + k) as f64 * 2.3).sin())
    });
    let tape_ = Tape::new();
    let peers = Peers::new(&pos)
        .peer("primal", |pos| energy(*pos))
        .peer("hand", hand)
        .peer("grad", |pos| energy_grad(*pos))
        .peer("fd", |pos| {
            central_difference(
                &mut { *pos },
                3 * P,
                |p, k| &mut p[k / 3][k % 3],
                |p| energy(*p),
            )
        })
        .peer("dual", |pos| {
            let mut d = pos.map(|r| r.map(Dual64::from_re));
            dual_passes(&mut d, 3 * P, |d, k| &mut d[k / 3][k % 3], dual)
        })
        .peer("dual_vec", |pos| {
            let d: [[DualSVec64<{ 3 * P }>; 3]; P] =
                std::array::from_fn(|i| std::array::from_fn(|k| seed_vec(pos[i][k], 3 * i + k)));
            unseed_vec(dual(&d))
        })
        .peer("tape", |pos| {
            tape_gradient(&tape_, pos.as_flattened(), tape)
        });
    suite
        .function(
            "lennard_jones_32",
            "Lennard-Jones energy of 32 particles in 3-D (`[[f64; 3]; 32]`, nested loops over \
             pairs)",
            3 * P,
        )
        .check_then_time(peers);
}

pub fn bench_gaussian(suite: &mut Suite) {
    use gaussian::*;
    // 1,000 deterministic draws of N(1.5, 0.8²) (Box-Muller on a fixed xorshift sequence).
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let data: Vec<f64> = (0..1000)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            1.5 + 0.8 * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        })
        .collect();
    let p = [1.2, (0.7f64).ln()];
    let tape_ = Tape::new();
    let primal = |p: &[f64; 2]| log_likelihood(p[0], p[1], &data);
    // The hand-written gradient and grad's also pass the data through `black_box`.
    let peers = Peers::new(&p)
        .peer("primal", primal)
        .peer("hand", |p| hand(p[0], p[1], black_box(&data)))
        .peer("grad", |p| {
            log_likelihood_grad(p[0], p[1], black_box(&data))
        })
        .peer("fd", |p| {
            central_difference(&mut { *p }, 2, |p, i| &mut p[i], primal)
        })
        .peer("dual", |p| {
            let mut d = p.map(Dual64::from_re);
            dual_passes(&mut d, 2, |d, i| &mut d[i], |d| dual(d, &data))
        })
        .peer("dual_vec", |p| {
            let d: [DualSVec64<2>; 2] = std::array::from_fn(|i| seed_vec(p[i], i));
            unseed_vec(dual(&d, &data))
        })
        .peer("tape", |p| tape_gradient(&tape_, p, |v| tape(v, &data)));
    suite
        .function(
            "gaussian_ll_1000",
            "Gaussian log-likelihood of 1,000 data points, gradient with respect to μ and log σ \
             (`wrt(mu, log_sigma)`, the data a `&[f64]` constant)",
            2,
        )
        .check_then_time(peers);
}
