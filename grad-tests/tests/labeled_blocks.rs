//! Labeled blocks (`'a: { .. break 'a v; .. }`), as early-exit computations are written
//! (issue 15), against finite differences and closed forms.

// Index loops are how the functions under test are written.
#![allow(clippy::needless_range_loop)]

mod common;

use common::assert_gradient;
use grad::differentiable;

#[differentiable]
fn piecewise(x: f64) -> f64 {
    let y = 'done: {
        if x > 1.0 {
            break 'done x * 2.0;
        }
        let t = x * x;
        if t < 0.25 {
            break 'done t.sin();
        }
        t + x
    };
    y * 3.0 + 1.0
}

/// A search that leaves the block from inside a loop, with a plain `break` of the loop too.
#[differentiable]
fn first_large(v: [f64; 4], threshold: f64) -> f64 {
    let found = 'search: {
        for i in 0..4 {
            if v[i] * v[i] > threshold {
                break 'search v[i] * threshold;
            }
            if v[i] < -10.0 {
                break;
            }
        }
        threshold.sqrt()
    };
    found + v[0]
}

#[test]
fn a_labeled_block_with_early_values() {
    // Each path: x > 1 → 2x; x² < 0.25 → sin(x²); else x² + x.
    for (x, dy) in [
        (1.5, 2.0),
        (0.3, (0.09f64).cos() * 0.6),
        (0.8, 2.0 * 0.8 + 1.0),
    ] {
        assert!((piecewise_grad(x) - 3.0 * dy).abs() < 1e-12, "{x}");
        assert_gradient(|p| piecewise(p[0]), &[x], &[piecewise_grad(x)]);
    }
}

#[test]
fn leaving_a_labeled_block_from_a_loop() {
    for (v, t) in [([0.1, 0.9, 2.0, 0.3], 0.5), ([0.1, 0.2, 0.3, 0.1], 0.5)] {
        let (dv, dt) = first_large_grad(v, t);
        assert_gradient(
            |p| first_large([p[0], p[1], p[2], p[3]], p[4]),
            &[v[0], v[1], v[2], v[3], t],
            &[dv[0], dv[1], dv[2], dv[3], dt],
        );
    }
}

/// A labeled block as a statement, left by `break 'a;` (found by the generator).
#[differentiable]
fn skip_when_large(x: f64, v: [f64; 3]) -> f64 {
    let mut acc = x;
    'b: {
        if x > 1.0 {
            break 'b;
        }
        acc += x * x;
    }
    'c: {
        for &t in v.iter() {
            if t < 0.0 {
                break 'c;
            }
            acc += t * x;
        }
    }
    acc
}

#[test]
fn labeled_blocks_as_statements() {
    for (x, v) in [(0.5, [0.2, 0.3, -1.0]), (1.5, [0.2, 0.3, 0.4])] {
        let (dx, dv) = skip_when_large_grad(x, v);
        assert_gradient(
            |p| skip_when_large(p[0], [p[1], p[2], p[3]]),
            &[x, v[0], v[1], v[2]],
            &[dx, dv[0], dv[1], dv[2]],
        );
    }
    // x = 0.5: acc = x + x² + (0.2 + 0.3) x, stopped at -1.0.
    assert_eq!(
        skip_when_large_grad(0.5, [0.2, 0.3, -1.0]).0,
        1.0 + 2.0 * 0.5 + 0.5
    );
}
