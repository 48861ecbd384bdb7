//! Companions of fixed-size code never touch the heap: a counting global allocator watches
//! every call. (Runtime-bounded loops that need a tape may allocate; that is checked too, so
//! the counter is known to work.)

use grad::differentiable;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

// Per thread, so that the test harness and other tests running at the same time do not count.
thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[differentiable]
fn scalar(x: f64, y: f64) -> f64 {
    let r = x.hypot(y);
    r.sin() * grad::sigmoid(x - y)
}

/// A recurrence over constant bounds: its tape is a fixed-size array on the stack.
#[differentiable]
fn const_bounded(x: f64, a: f64) -> f64 {
    let mut y = x;
    for i in 0..64 {
        y = (y * a).sin() + i as f64 * 1e-3;
        if y > 10.0 {
            break;
        }
    }
    y
}

/// A runtime trip count with nothing to record: no tape, so no heap either.
#[differentiable]
fn runtime_accumulation(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        s += (x * i as f64).cos();
    }
    s
}

/// A runtime trip count whose reverse needs each iteration's value: this one has a tape.
#[differentiable]
fn runtime_recurrence(x: f64, n: usize) -> f64 {
    let mut y = x;
    for _ in 0..n {
        y = (y * x).sin();
    }
    y
}

#[test]
fn fixed_size_companions_never_allocate() {
    let mut sink = 0.0;
    let count = allocations_during(|| {
        for k in 0..1000 {
            let t = k as f64 * 1e-3;
            sink += scalar_grad(t, 0.5).0;
            sink += scalar_value_and_grad(t, 0.5).0;
            sink += const_bounded_grad(t, 0.9).1;
            sink += const_bounded_vjp(t, 0.9, 2.0).0;
            sink += runtime_accumulation_grad(t, 100);
        }
    });
    assert!(sink.is_finite());
    assert_eq!(count, 0, "the companions allocated {count} times");
}

#[test]
fn the_counter_sees_a_runtime_tape() {
    let count = allocations_during(|| {
        assert!(runtime_recurrence_grad(0.5, 100).is_finite());
    });
    assert!(count > 0);
}

#[test]
fn a_runtime_tape_over_a_whole_range_is_one_allocation() {
    // The trip count is known when the loop starts: the tape is reserved once, not grown.
    let count = allocations_during(|| {
        assert!(runtime_recurrence_grad(0.5, 1000).is_finite());
    });
    assert_eq!(
        count, 1,
        "the tape of 1,000 records took {count} allocations"
    );
}

/// An elementwise `[f32; 8] → [f32; 8]` function: its vjp is a loop over eight elements.
#[differentiable]
fn elementwise_f32(x: [f32; 8]) -> [f32; 8] {
    let mut y = x;
    for i in 0..8 {
        y[i] = grad::softplus(x[i]) * x[i].cos();
    }
    y
}

/// Generic code in a const-bounded loop, used in f32.
#[differentiable]
fn generic_recurrence<T: grad::Float>(x: [T; 4], a: T) -> T {
    let mut y = a;
    for v in x.iter() {
        y = (y * *v).tanh() + 0.5 * y;
    }
    y
}

#[test]
fn arrays_and_generic_f32_code_never_allocate() {
    let mut sink = 0.0f32;
    let count = allocations_during(|| {
        for k in 0..1000 {
            let x: [f32; 8] = std::array::from_fn(|i| (i + k) as f32 * 0.01);
            sink += elementwise_f32_vjp(x, [1.0; 8])[3];
            sink += generic_recurrence_grad([x[0], x[1], x[2], x[3]], 0.7).1;
        }
    });
    assert!(sink.is_finite());
    assert_eq!(count, 0, "the companions allocated {count} times");
}

#[differentiable]
fn slice_energy(x: &[f64], k: f64) -> f64 {
    let mut e = 0.0;
    for i in 1..x.len() {
        let d = x[i] - x[i - 1];
        e += k * d * d;
    }
    e
}

#[test]
fn the_allocation_free_slice_form_never_allocates() {
    let x = vec![0.1, 0.4, 0.2, 0.9, 1.3];
    let mut buffer = vec![0.0; x.len()];
    let mut sink = 0.0;
    let count = allocations_during(|| {
        for _ in 0..1000 {
            sink += slice_energy_grad_into(&x, 2.0, &mut buffer);
        }
    });
    assert!(sink.is_finite() && buffer.iter().all(|g| g.is_finite()));
    assert_eq!(count, 0, "the companions allocated {count} times");
    assert!(allocations_during(|| drop(slice_energy_grad(&x, 2.0))) > 0);
}

/// A max over `1..N` (N a const generic) records the running maximum on the stack too.
#[allow(clippy::needless_range_loop)]
#[differentiable]
fn softmax_cross_entropy<const N: usize>(z: [f64; N], label: usize) -> f64 {
    let mut m = z[0];
    for i in 1..N {
        m = m.max(z[i]);
    }
    let mut s = 0.0;
    for v in z {
        s += (v - m).exp();
    }
    s.ln() + m - z[label]
}

#[test]
fn loops_over_const_generic_bounds_never_allocate() {
    let z: [f64; 16] = std::array::from_fn(|i| (i as f64 * 0.7).sin());
    let mut sink = 0.0;
    let count = allocations_during(|| {
        for label in 0..16 {
            sink += softmax_cross_entropy_grad(z, label)[label];
        }
    });
    assert!(sink.is_finite());
    assert_eq!(count, 0, "the companions allocated {count} times");
}

/// Sub-slices, windows and reversed folds of an array: views read in place, and counts that
/// are literals, so the recurrence's tape is on the stack.
#[differentiable]
fn array_views(x: [f64; 8], t: f64) -> f64 {
    let inner = &x[1..7];
    let rough = x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>();
    let poly = inner.iter().rev().fold(0.0, |acc, &a| acc * t + a);
    let peak = x
        .iter()
        .copied()
        .max_by(|a, b| a.partial_cmp(b).unwrap())
        .unwrap();
    rough + poly + peak + x.chunks(3).map(|c| c[0] * c[c.len() - 1]).sum::<f64>()
}

/// The same idioms on a slice, through the allocation-free form.
#[differentiable]
fn slice_views(x: &[f64], k: f64) -> f64 {
    let inner = &x[1..x.len() - 1];
    let rough = x.windows(2).map(|w| k * (w[1] - w[0]).powi(2)).sum::<f64>();
    rough + inner.iter().step_by(2).map(|v| v * v).sum::<f64>()
}

#[test]
fn sub_slices_and_windows_never_allocate() {
    let x: [f64; 8] = std::array::from_fn(|i| (i as f64 * 0.9).sin());
    let slice = x.to_vec();
    let mut buffer = vec![0.0; slice.len()];
    let mut sink = 0.0;
    let count = allocations_during(|| {
        for _ in 0..100 {
            let (g, dt) = array_views_grad(x, 0.5);
            sink += g[3] + dt;
            sink += slice_views_grad_into(&slice, 2.0, &mut buffer);
        }
    });
    assert!(sink.is_finite() && buffer.iter().all(|g| g.is_finite()));
    assert_eq!(count, 0, "the companions allocated {count} times");
}
