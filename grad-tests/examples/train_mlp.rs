//! Trains a small neural network on Fisher's Iris data with gradients from `#[differentiable]`.
//!
//! The network is a multilayer perceptron: 4 standardised measurements → 8 tanh units → 3
//! class scores, with a softmax cross-entropy loss. One `#[differentiable]` function computes
//! the mean loss of a mini-batch; grad writes its gradient with respect to every weight matrix
//! and bias vector at compile time, and plain mini-batch gradient descent does the rest.
//!
//! The 150 flowers (`grad-tests/examples/data/iris.csv`) are split, stratified, into 120 for training and
//! 30 held out. Everything random (the split, the initial weights, the shuffles) comes from a
//! seeded xorshift generator, so every run prints the same numbers. The run checks the gradient
//! against finite differences once, shows a progress bar on a terminal, prints the training loss
//! every 10th epoch and the held-out accuracy, asserts that accuracy is at least 95%, and writes
//! the loss curve to `target/train_mlp_loss.png`.
//!
//! Run with `cargo run --release -p grad-tests --example train_mlp`.

// The model is written with index loops, the way the math is written.
#![allow(clippy::needless_range_loop)]

use std::path::Path;
use std::time::Instant;

use grad::differentiable;
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;

const FEATURES: usize = 4;
const HIDDEN: usize = 8;
const CLASSES: usize = 3;
const BATCH: usize = 10;
const TRAIN_PER_CLASS: usize = 40;
const EPOCHS: usize = 200;
const LEARNING_RATE: f64 = 0.1;
const SEED: u64 = 0x1815_2024;

/// The mean softmax cross-entropy of a mini-batch under the network
/// `scores = w2 · tanh(w1 · x + b1) + b2`.
#[differentiable(wrt(w1, b1, w2, b2))]
fn batch_loss(
    w1: [[f64; FEATURES]; HIDDEN],
    b1: [f64; HIDDEN],
    w2: [[f64; HIDDEN]; CLASSES],
    b2: [f64; CLASSES],
    x: [[f64; FEATURES]; BATCH],
    labels: [usize; BATCH],
) -> f64 {
    let mut total = 0.0;
    for n in 0..BATCH {
        let mut h = [0.0; HIDDEN];
        for i in 0..HIDDEN {
            let mut z = b1[i];
            for j in 0..FEATURES {
                z += w1[i][j] * x[n][j];
            }
            h[i] = z.tanh();
        }
        let mut scores = [0.0; CLASSES];
        for k in 0..CLASSES {
            scores[k] = b2[k];
            for i in 0..HIDDEN {
                scores[k] += w2[k][i] * h[i];
            }
        }
        // log Σ exp(s) - s[label], with the largest score shifted out so exp cannot overflow.
        let mut m = scores[0];
        for k in 1..CLASSES {
            m = m.max(scores[k]);
        }
        let mut s = 0.0;
        for k in 0..CLASSES {
            s += (scores[k] - m).exp();
        }
        total += s.ln() + m - scores[labels[n]];
    }
    total / BATCH as f64
}

/// The network's weights and biases.
#[derive(Clone, Copy)]
struct Mlp {
    w1: [[f64; FEATURES]; HIDDEN],
    b1: [f64; HIDDEN],
    w2: [[f64; HIDDEN]; CLASSES],
    b2: [f64; CLASSES],
}

impl Mlp {
    /// Glorot-uniform weights and zero biases.
    fn new(rng: &mut XorShift) -> Mlp {
        let a1 = (6.0 / (FEATURES + HIDDEN) as f64).sqrt();
        let a2 = (6.0 / (HIDDEN + CLASSES) as f64).sqrt();
        Mlp {
            w1: std::array::from_fn(|_| std::array::from_fn(|_| rng.uniform(-a1, a1))),
            b1: [0.0; HIDDEN],
            w2: std::array::from_fn(|_| std::array::from_fn(|_| rng.uniform(-a2, a2))),
            b2: [0.0; CLASSES],
        }
    }

    /// The class scores (logits) of one flower.
    fn scores(&self, x: &[f64; FEATURES]) -> [f64; CLASSES] {
        let h: [f64; HIDDEN] = std::array::from_fn(|i| {
            let z: f64 = self.b1[i] + (0..FEATURES).map(|j| self.w1[i][j] * x[j]).sum::<f64>();
            z.tanh()
        });
        std::array::from_fn(|k| self.b2[k] + (0..HIDDEN).map(|i| self.w2[k][i] * h[i]).sum::<f64>())
    }

    /// The most likely class of one flower.
    fn predict(&self, x: &[f64; FEATURES]) -> usize {
        let s = self.scores(x);
        (0..CLASSES).fold(0, |best, k| if s[k] > s[best] { k } else { best })
    }

    /// The mean cross-entropy over a data set, computed without grad as a cross-check.
    fn mean_loss(&self, data: &[Sample]) -> f64 {
        let total: f64 = data
            .iter()
            .map(|sample| {
                let s = self.scores(&sample.x);
                let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + s.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                lse - s[sample.label]
            })
            .sum();
        total / data.len() as f64
    }

    fn accuracy(&self, data: &[Sample]) -> f64 {
        let correct = data
            .iter()
            .filter(|s| self.predict(&s.x) == s.label)
            .count();
        correct as f64 / data.len() as f64
    }

    /// One step of gradient descent on one mini-batch; returns the batch's loss.
    fn step(&mut self, batch: &[Sample; BATCH], learning_rate: f64) -> f64 {
        let x = batch.map(|s| s.x);
        let labels = batch.map(|s| s.label);
        let (value, (dw1, db1, dw2, db2)) =
            batch_loss_value_and_grad(self.w1, self.b1, self.w2, self.b2, x, labels);
        for i in 0..HIDDEN {
            for j in 0..FEATURES {
                self.w1[i][j] -= learning_rate * dw1[i][j];
            }
            self.b1[i] -= learning_rate * db1[i];
        }
        for k in 0..CLASSES {
            for i in 0..HIDDEN {
                self.w2[k][i] -= learning_rate * dw2[k][i];
            }
            self.b2[k] -= learning_rate * db2[k];
        }
        value
    }

    /// All parameters in one flat vector, for the finite-difference check.
    fn flatten(&self) -> Vec<f64> {
        let mut v = Vec::new();
        self.w1.iter().for_each(|row| v.extend_from_slice(row));
        v.extend_from_slice(&self.b1);
        self.w2.iter().for_each(|row| v.extend_from_slice(row));
        v.extend_from_slice(&self.b2);
        v
    }

    fn unflatten(v: &[f64]) -> Mlp {
        let mut it = v.iter().copied();
        let mut next = || it.next().expect("too few parameters");
        Mlp {
            w1: std::array::from_fn(|_| std::array::from_fn(|_| next())),
            b1: std::array::from_fn(|_| next()),
            w2: std::array::from_fn(|_| std::array::from_fn(|_| next())),
            b2: std::array::from_fn(|_| next()),
        }
    }
}

/// One flower: four measurements and its species (0 setosa, 1 versicolor, 2 virginica).
#[derive(Clone, Copy, Debug)]
struct Sample {
    x: [f64; FEATURES],
    label: usize,
}

/// Marsaglia's xorshift64*, enough for shuffling and initial weights.
struct XorShift(u64);

impl XorShift {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Fisher–Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Parses the CSV shipped beside this example: a header, then four floats and a class index.
fn load_iris() -> Vec<Sample> {
    let text = include_str!("data/iris.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("sepal_length,sepal_width,petal_length,petal_width,species")
    );
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), FEATURES + 1, "bad row {line:?}");
            let x = std::array::from_fn(|j| fields[j].parse().expect("a number"));
            let label = fields[FEATURES].parse().expect("a class index");
            assert!(label < CLASSES, "bad class in {line:?}");
            Sample { x, label }
        })
        .collect()
}

/// A stratified split: `TRAIN_PER_CLASS` random flowers of each species for training, the
/// rest held out.
fn split(data: &[Sample], rng: &mut XorShift) -> (Vec<Sample>, Vec<Sample>) {
    let (mut train, mut held_out) = (Vec::new(), Vec::new());
    for class in 0..CLASSES {
        let mut members: Vec<Sample> = data.iter().copied().filter(|s| s.label == class).collect();
        rng.shuffle(&mut members);
        held_out.extend_from_slice(&members[TRAIN_PER_CLASS..]);
        members.truncate(TRAIN_PER_CLASS);
        train.extend(members);
    }
    (train, held_out)
}

/// Scales every feature to mean 0 and standard deviation 1, with the statistics of the
/// training set only, so nothing about the held-out flowers leaks into training.
fn standardise(train: &mut [Sample], held_out: &mut [Sample]) {
    for j in 0..FEATURES {
        let n = train.len() as f64;
        let mean = train.iter().map(|s| s.x[j]).sum::<f64>() / n;
        let var = train.iter().map(|s| (s.x[j] - mean).powi(2)).sum::<f64>() / n;
        let sd = var.sqrt();
        for s in train.iter_mut().chain(held_out.iter_mut()) {
            s.x[j] = (s.x[j] - mean) / sd;
        }
    }
}

/// Compares grad's gradient with central finite differences on one mini-batch.
fn check_gradient_once(model: &Mlp, batch: &[Sample; BATCH]) {
    let x = batch.map(|s| s.x);
    let labels = batch.map(|s| s.label);
    let (dw1, db1, dw2, db2) = batch_loss_grad(model.w1, model.b1, model.w2, model.b2, x, labels);
    let analytic = Mlp {
        w1: dw1,
        b1: db1,
        w2: dw2,
        b2: db2,
    }
    .flatten();
    let loss_at = |v: &[f64]| {
        let m = Mlp::unflatten(v);
        batch_loss(m.w1, m.b1, m.w2, m.b2, x, labels)
    };
    let plain = model.mean_loss(batch);
    let differentiable = loss_at(&model.flatten());
    assert!(
        (plain - differentiable).abs() < 1e-12,
        "{plain} vs {differentiable}"
    );
    let check = grad::check_gradient(loss_at, &model.flatten(), &analytic);
    assert!(check.passes(1e-6), "gradient check failed:\n{check}");
    println!(
        "gradient check: {} parameters agree with finite differences",
        analytic.len()
    );
}

/// The top of the plot's loss axis: 5% above the largest loss.
fn plot_y_max(losses: &[f64]) -> f64 {
    losses.iter().copied().fold(0.0, f64::max) * 1.05
}

/// Draws the training loss per epoch as a line chart. The plot has no text: plotters renders
/// text only with a font feature, and those need system font libraries or a bundled font.
fn plot_loss(losses: &[f64], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let y_max = plot_y_max(losses);
    let mut chart = ChartBuilder::on(&root)
        .margin(30)
        .build_cartesian_2d(1.0..losses.len() as f64, 0.0..y_max)?;
    // Grid lines at tenths of each axis, drawn as plain lines.
    let grid = RGBColor(220, 220, 220);
    for t in 0..=10 {
        let x = 1.0 + (losses.len() as f64 - 1.0) * t as f64 / 10.0;
        let y = y_max * t as f64 / 10.0;
        chart.draw_series(LineSeries::new([(x, 0.0), (x, y_max)], grid))?;
        chart.draw_series(LineSeries::new([(1.0, y), (losses.len() as f64, y)], grid))?;
    }
    let frame = [
        (1.0, 0.0),
        (losses.len() as f64, 0.0),
        (losses.len() as f64, y_max),
        (1.0, y_max),
        (1.0, 0.0),
    ];
    chart.draw_series(LineSeries::new(frame, BLACK))?;
    chart.draw_series(LineSeries::new(
        losses
            .iter()
            .enumerate()
            .map(|(epoch, &loss)| ((epoch + 1) as f64, loss)),
        BLUE.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}

fn main() {
    let started = Instant::now();
    let mut rng = XorShift(SEED);

    let data = load_iris();
    assert_eq!(data.len(), 150);
    let (mut train, mut held_out) = split(&data, &mut rng);
    standardise(&mut train, &mut held_out);
    println!(
        "Iris: {} flowers, {} for training and {} held out",
        data.len(),
        train.len(),
        held_out.len()
    );
    assert_eq!(
        train.len() % BATCH,
        0,
        "the training set must fill whole mini-batches"
    );

    let mut model = Mlp::new(&mut rng);
    let first_batch: [Sample; BATCH] = std::array::from_fn(|i| train[i]);
    check_gradient_once(&model, &first_batch);

    let bar = ProgressBar::new(EPOCHS as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} epochs, loss {msg}")
            .expect("a valid template"),
    );
    let mut losses = Vec::with_capacity(EPOCHS);
    for epoch in 1..=EPOCHS {
        rng.shuffle(&mut train);
        for chunk in train.chunks_exact(BATCH) {
            let batch: &[Sample; BATCH] = chunk.try_into().expect("a whole mini-batch");
            model.step(batch, LEARNING_RATE);
        }
        let loss = model.mean_loss(&train);
        losses.push(loss);
        bar.set_message(format!("{loss:.4}"));
        bar.inc(1);
        if epoch == 1 || epoch % 10 == 0 {
            // `suspend` prints even when the bar is hidden (output not a terminal).
            bar.suspend(|| println!("epoch {epoch:>3}: training loss {loss:.4}"));
        }
    }
    bar.finish_and_clear();

    let train_accuracy = model.accuracy(&train);
    let accuracy = model.accuracy(&held_out);
    let final_loss = losses[losses.len() - 1];
    println!("final training loss {final_loss:.4}");
    println!("training accuracy   {:.1}%", 100.0 * train_accuracy);
    println!(
        "held-out accuracy   {:.1}% ({} of {})",
        100.0 * accuracy,
        (accuracy * held_out.len() as f64).round(),
        held_out.len()
    );

    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target"));
    std::fs::create_dir_all(dir).expect("create target/");
    let png = dir
        .canonicalize()
        .expect("the target directory")
        .join("train_mlp_loss.png");
    plot_loss(&losses, &png).expect("plot the loss curve");
    println!(
        "loss curve written to {} (x: epochs 1 to {EPOCHS}, y: loss 0 to {:.3}, grid at tenths)",
        png.display(),
        plot_y_max(&losses)
    );
    println!("done in {:.2?}", started.elapsed());

    assert!(
        accuracy >= 0.95,
        "held-out accuracy {:.1}% is below 95%",
        100.0 * accuracy
    );
}
