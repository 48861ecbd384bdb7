//! Probes for silent wrong results: each function is plain Rust with `#[differentiable]`;
//! every check requires `f_value_and_grad(..).0 == f(..)` (bit for bit, or both NaN) and a
//! gradient that agrees with central finite differences.
#![allow(clippy::all, unused, non_upper_case_globals, unused_parens)]

mod common;

use grad::differentiable;

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

fn numeric(f: &dyn Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    common::numeric_gradient(f, x)
}

#[track_caller]
fn check_grad(name: &str, analytic: &[f64], numeric: &[f64]) {
    for (i, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        let error = (a - n).abs() / a.abs().max(n.abs()).max(1.0);
        assert!(
            error < 1e-5,
            "{name}: coordinate {i}: analytic {a} vs numeric {n}"
        );
    }
}

macro_rules! probe1 {
    ($(#[$m:meta])* $name:ident, $f:ident, $vg:ident, [$($x:expr),*]) => {
        #[test]
        $(#[$m])*
        fn $name() {
            for &x in &[$($x),*] {
                let x: f64 = x;
                let (v, g) = $vg(x);
                assert!(same(v, $f(x)), "{}: value {} vs f {} at {x}", stringify!($f), v, $f(x));
                let n = numeric(&|p: &[f64]| $f(p[0]), &[x]);
                check_grad(stringify!($f), &[g], &n);
            }
        }
    };
}

macro_rules! probe2 {
    ($(#[$m:meta])* $name:ident, $f:ident, $vg:ident, [$(($x:expr, $y:expr)),*]) => {
        #[test]
        $(#[$m])*
        fn $name() {
            for &(x, y) in &[$(($x, $y)),*] {
                let (x, y): (f64, f64) = (x, y);
                let (v, g) = $vg(x, y);
                assert!(same(v, $f(x, y)), "{}: value {} vs f {} at {x},{y}", stringify!($f), v, $f(x, y));
                let n = numeric(&|p: &[f64]| $f(p[0], p[1]), &[x, y]);
                check_grad(stringify!($f), &[g.0, g.1], &n);
            }
        }
    };
}

// ===== consts in nested blocks (those that would change a name used outside their block
// are now errors: tests/ui/inner_block_item_shadows.rs) =====

const K: f64 = 2.0;

mod other {
    pub const K: f64 = 10.0;
    pub const J: f64 = 5.0;
}

#[differentiable]
fn use_rename(x: f64) -> f64 {
    use other::J as K;
    x * K
}
probe1!(p_use_rename, use_rename, use_rename_value_and_grad, [1.5]);

#[differentiable]
fn const_used_before_decl(x: f64) -> f64 {
    let y = x * C2;
    const C2: f64 = 4.0;
    y + C2
}
probe1!(
    p_const_used_before_decl,
    const_used_before_decl,
    const_used_before_decl_value_and_grad,
    [1.5]
);

// A block-level const shadowing a local float variable only in its block.
#[differentiable]
fn const_shadows_local(x: f64) -> f64 {
    let s = x * x;
    let t = {
        const s: f64 = 7.0;
        x * s
    };
    s + t
}
probe1!(
    p_const_shadows_local,
    const_shadows_local,
    const_shadows_local_value_and_grad,
    [1.5]
);

// const in a loop body
#[differentiable]
fn const_in_loop(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        const STEP: f64 = 0.5;
        s += x * STEP * i as f64;
    }
    s * K
}
probe1!(
    p_const_in_loop,
    const_in_loop,
    const_in_loop_value_and_grad,
    [1.5]
);

static S: f64 = 1.25;

#[differentiable]
fn uses_static(x: f64) -> f64 {
    x * S + S
}
probe1!(
    p_uses_static,
    uses_static,
    uses_static_value_and_grad,
    [1.5]
);

struct Foo;
impl Foo {
    const SCALE: f64 = 3.5;
}

#[differentiable]
fn assoc_const(x: f64) -> f64 {
    x * Foo::SCALE + f64::EPSILON * x
}
probe1!(
    p_assoc_const,
    assoc_const,
    assoc_const_value_and_grad,
    [1.5]
);

// ===== shadowing =====

#[differentiable]
fn shadow_param(x: f64) -> f64 {
    let x = x * 2.0;
    let x = x * x;
    x
}
probe1!(
    p_shadow_param,
    shadow_param,
    shadow_param_value_and_grad,
    [1.5]
);

#[differentiable]
fn shadow_in_block(x: f64) -> f64 {
    let y = x;
    {
        let x = x * 3.0;
        let y = x + y;
    }
    y * x
}
probe1!(
    p_shadow_in_block,
    shadow_in_block,
    shadow_in_block_value_and_grad,
    [1.5]
);

#[differentiable]
fn shadow_in_loop(x: f64) -> f64 {
    let mut s = x;
    for _ in 0..3 {
        let s = s * 2.0;
        let _ = s;
    }
    s
}
probe1!(
    p_shadow_in_loop,
    shadow_in_loop,
    shadow_in_loop_value_and_grad,
    [1.5]
);

#[differentiable]
fn shadow_mut_in_loop(x: f64) -> f64 {
    let mut s = x;
    for _ in 0..3 {
        let mut s = s * 2.0;
        s += 1.0;
    }
    s
}
probe1!(
    p_shadow_mut_in_loop,
    shadow_mut_in_loop,
    shadow_mut_in_loop_value_and_grad,
    [1.5]
);

#[differentiable]
fn shadow_then_assign_outer(x: f64) -> f64 {
    let mut s = x;
    {
        let s2 = s;
        let mut s = s2 * 4.0;
        s *= 2.0;
    }
    s *= x;
    s
}
probe1!(
    p_shadow_then_assign_outer,
    shadow_then_assign_outer,
    shadow_then_assign_outer_value_and_grad,
    [1.5]
);

#[differentiable]
fn shadow_in_branch(x: f64) -> f64 {
    let mut y = x;
    if x > 0.0 {
        let y = y * 10.0;
        let _ = y;
    } else {
        y = y * 3.0;
    }
    y
}
probe1!(
    p_shadow_in_branch,
    shadow_in_branch,
    shadow_in_branch_value_and_grad,
    [1.5, -1.5]
);

#[differentiable]
fn shadow_param_by_for(x: f64, n: usize) -> f64 {
    let mut s = x;
    for n in 0..3 {
        s += n as f64 * x;
    }
    s * n as f64
}
#[test]
fn p_shadow_param_by_for() {
    let x = 1.5;
    let (v, g) = shadow_param_by_for_value_and_grad(x, 5);
    assert!(
        same(v, shadow_param_by_for(x, 5)),
        "{v} vs {}",
        shadow_param_by_for(x, 5)
    );
    let n = numeric(&|p: &[f64]| shadow_param_by_for(p[0], 5), &[x]);
    check_grad("shadow_param_by_for", &[g], &n);
}

#[differentiable]
fn shadow_int_by_float(x: f64, n: i32) -> f64 {
    let n = n as f64 * x;
    n * n
}
#[test]
fn p_shadow_int_by_float() {
    let x = 1.5;
    let (v, g) = shadow_int_by_float_value_and_grad(x, 3);
    assert!(same(v, shadow_int_by_float(x, 3)));
    let n = numeric(&|p: &[f64]| shadow_int_by_float(p[0], 3), &[x]);
    check_grad("shadow_int_by_float", &[g], &n);
}

#[differentiable]
fn match_arm_shadow(x: f64, n: i32) -> f64 {
    match n {
        k @ 1..=3 => {
            let k = k as f64 * x;
            k * x
        }
        k => {
            let x = x * k as f64;
            x * x
        }
    }
}
#[test]
fn p_match_arm_shadow() {
    for n in [0, 2, 5] {
        let x = 1.5;
        let (v, g) = match_arm_shadow_value_and_grad(x, n);
        assert!(
            same(v, match_arm_shadow(x, n)),
            "n={n}: {v} vs {}",
            match_arm_shadow(x, n)
        );
        let nn = numeric(&|p: &[f64]| match_arm_shadow(p[0], n), &[x]);
        check_grad("match_arm_shadow", &[g], &nn);
    }
}

// ===== match with consts =====

const LO: i32 = 2;
const HI: i32 = 4;

#[differentiable]
fn match_const_range(x: f64, n: i32) -> f64 {
    match n {
        LO..=HI => x * x,
        0 | 1 => x,
        _ => -x,
    }
}
#[test]
fn p_match_const_range() {
    for n in [0, 1, 2, 3, 4, 5, -1] {
        let x = 1.5;
        let (v, g) = match_const_range_value_and_grad(x, n);
        assert!(same(v, match_const_range(x, n)), "n={n}");
        let nn = numeric(&|p: &[f64]| match_const_range(p[0], n), &[x]);
        check_grad("match_const_range", &[g], &nn);
    }
}

// a const pattern: binding named like a const
#[differentiable]
fn match_const_ident(x: f64, n: i32) -> f64 {
    match n {
        LO => x * 10.0,
        HI => x * 100.0,
        _ => x,
    }
}
#[test]
fn p_match_const_ident() {
    for n in [0, 2, 4] {
        let x = 1.5;
        let (v, g) = match_const_ident_value_and_grad(x, n);
        assert!(
            same(v, match_const_ident(x, n)),
            "n={n}: {v} vs {}",
            match_const_ident(x, n)
        );
        let nn = numeric(&|p: &[f64]| match_const_ident(p[0], n), &[x]);
        check_grad("match_const_ident", &[g], &nn);
    }
}

// guard using a name that the arm pattern binds, shadowing an outer float local
#[differentiable]
fn guard_shadow(x: f64, n: i32) -> f64 {
    let k = x * 3.0;
    match n {
        k if k > 2 => x * k as f64,
        _ => k,
    }
}
#[test]
fn p_guard_shadow() {
    for n in [0, 5] {
        let x = 1.5;
        let (v, g) = guard_shadow_value_and_grad(x, n);
        assert!(
            same(v, guard_shadow(x, n)),
            "n={n}: {v} vs {}",
            guard_shadow(x, n)
        );
        let nn = numeric(&|p: &[f64]| guard_shadow(p[0], n), &[x]);
        check_grad("guard_shadow", &[g], &nn);
    }
}

// ===== integer / float interplay =====

#[differentiable]
fn float_rem_var(x: f64, y: f64) -> f64 {
    x % y
}
probe2!(
    p_float_rem_var,
    float_rem_var,
    float_rem_var_value_and_grad,
    [(5.3, 1.7), (-5.3, 1.7), (5.3, -1.7)]
);

#[differentiable]
fn int_div(x: f64, n: i32) -> f64 {
    let h = n / 2;
    x * h as f64 + (n % 3) as f64
}
#[test]
fn p_int_div() {
    for n in [5, -5] {
        let x = 1.5;
        let (v, g) = int_div_value_and_grad(x, n);
        assert!(same(v, int_div(x, n)));
        let nn = numeric(&|p: &[f64]| int_div(p[0], n), &[x]);
        check_grad("int_div", &[g], &nn);
    }
}

#[differentiable]
fn powi_runtime(x: f64, n: usize) -> f64 {
    x.powi(n as i32) + x.powi(-(n as i32))
}
#[test]
fn p_powi_runtime() {
    for n in [0, 1, 3] {
        let x = 1.3;
        let (v, g) = powi_runtime_value_and_grad(x, n);
        assert!(same(v, powi_runtime(x, n)));
        let nn = numeric(&|p: &[f64]| powi_runtime(p[0], n), &[x]);
        check_grad("powi_runtime", &[g], &nn);
    }
}

#[differentiable]
fn array_self_mul(x: [f64; 3], i: usize, j: usize) -> f64 {
    let mut a = x;
    a[i] *= a[j];
    a[j] -= a[i] * 2.0;
    a[0] + a[1] * 3.0 + a[2] * 5.0
}
#[test]
fn p_array_self_mul() {
    for (i, j) in [(0, 0), (1, 2), (2, 1)] {
        let x = [1.5, -0.7, 2.1];
        let (v, g) = array_self_mul_value_and_grad(x, i, j);
        assert!(same(v, array_self_mul(x, i, j)));
        let nn = numeric(&|p: &[f64]| array_self_mul([p[0], p[1], p[2]], i, j), &x);
        check_grad("array_self_mul", &g, &nn);
    }
}

#[differentiable]
fn recurrence(x: [f64; 4]) -> f64 {
    let mut a = x;
    for i in 1..4 {
        a[i] = a[i] + a[i - 1] * a[i];
    }
    a[3]
}
#[test]
fn p_recurrence() {
    let x = [0.5, -0.7, 1.1, 0.3];
    let (v, g) = recurrence_value_and_grad(x);
    assert!(same(v, recurrence(x)));
    let nn = numeric(&|p: &[f64]| recurrence([p[0], p[1], p[2], p[3]]), &x);
    check_grad("recurrence", &g, &nn);
}

#[differentiable]
fn tuple_swap(x: f64, y: f64) -> f64 {
    let (mut a, mut b) = (x, y);
    for _ in 0..3 {
        (a, b) = (b, a * b);
    }
    a + 2.0 * b
}
probe2!(
    p_tuple_swap,
    tuple_swap,
    tuple_swap_value_and_grad,
    [(1.1, 0.9)]
);

#[differentiable]
fn early_return_nested(x: f64) -> f64 {
    let mut s = x;
    for i in 0..5 {
        for j in 0..5 {
            s = s * 1.1 + x;
            if i * j == 6 {
                return s * x;
            }
        }
    }
    s
}
probe1!(
    p_early_return_nested,
    early_return_nested,
    early_return_nested_value_and_grad,
    [0.7]
);

#[differentiable]
fn break_value_in_match(x: f64, n: i32) -> f64 {
    let mut s = x;
    let r = loop {
        s = s * x;
        match n {
            0 => break s,
            _ => {
                if s > 10.0 {
                    break s + 1.0;
                }
            }
        }
    };
    r * 2.0
}
#[test]
fn p_break_value_in_match() {
    for n in [0, 1] {
        let x = 1.5;
        let (v, g) = break_value_in_match_value_and_grad(x, n);
        assert!(
            same(v, break_value_in_match(x, n)),
            "n={n}: {v} vs {}",
            break_value_in_match(x, n)
        );
        let nn = numeric(&|p: &[f64]| break_value_in_match(p[0], n), &[x]);
        check_grad("break_value_in_match", &[g], &nn);
    }
}

// ===== methods =====

#[differentiable]
fn methods_mix(x: f64, y: f64) -> f64 {
    x.max(1.0)
        + f64::max(x, y)
        + y.clamp(-1.0, 1.0)
        + x.mul_add(y, x)
        + x.hypot(y)
        + x.abs()
        + x.signum() * y
}
probe2!(
    p_methods_mix,
    methods_mix,
    methods_mix_value_and_grad,
    [(0.3, 0.7), (-1.3, 2.5), (2.0, -0.4)]
);

#[differentiable]
fn path_methods(x: f64, y: f64) -> f64 {
    f64::mul_add(x, y, 2.0)
        + f64::powf(x, y)
        + f64::atan2(y, x)
        + f64::hypot(y, x)
        + f64::min(y, x) * f64::copysign(x, y)
}
probe2!(
    p_path_methods,
    path_methods,
    path_methods_value_and_grad,
    [(0.3, 0.7), (1.3, -2.5)]
);

// ===== batch 2 =====

#[differentiable]
fn rem_simple(x: f64) -> f64 {
    x % 1.0 + (x * 2.5) % x
}
probe1!(
    p_rem_simple,
    rem_simple,
    rem_simple_value_and_grad,
    [1.7, -2.3]
);

#[differentiable]
fn loop_assign_then_shadow(x: f64) -> f64 {
    let mut s = x;
    for _ in 0..3 {
        s *= 2.0;
        let s = 1.0;
    }
    s
}
probe1!(
    p_loop_assign_then_shadow,
    loop_assign_then_shadow,
    loop_assign_then_shadow_value_and_grad,
    [1.5]
);

#[differentiable]
fn while_assign_then_shadow(x: f64) -> f64 {
    let mut s = x;
    let mut i = 0;
    while i < 3 {
        s = s * x;
        i += 1;
        let s = 0.0;
        let i = 100;
    }
    s
}
probe1!(
    p_while_assign_then_shadow,
    while_assign_then_shadow,
    while_assign_then_shadow_value_and_grad,
    [1.5]
);

#[differentiable]
fn for_var_shadows_outer_mut(x: f64) -> f64 {
    let mut n = 7;
    let mut s = 0.0;
    for mut n in 0..3 {
        n += 1;
        s += n as f64 * x;
    }
    n += 1;
    s + x * n as f64
}
probe1!(
    p_for_var_shadows_outer_mut,
    for_var_shadows_outer_mut,
    for_var_shadows_outer_mut_value_and_grad,
    [1.5]
);

#[differentiable]
fn neg_const_method(x: f64) -> f64 {
    x * (-2.0f64).powi(2) + (-1.0f64).abs() * x
}
probe1!(
    p_neg_const_method,
    neg_const_method,
    neg_const_method_value_and_grad,
    [1.5]
);

const NEG: f64 = 3.0;
#[differentiable]
fn neg_path_method(x: f64) -> f64 {
    x * (-NEG).abs() + (-f64::EPSILON).signum() * x
}
probe1!(
    p_neg_path_method,
    neg_path_method,
    neg_path_method_value_and_grad,
    [1.5]
);

#[differentiable]
fn neg_const_local_method(x: f64) -> f64 {
    let c = -0.5f64;
    x * c.exp() + (x * c).exp()
}
probe1!(
    p_neg_const_local_method,
    neg_const_local_method,
    neg_const_local_method_value_and_grad,
    [1.5]
);

#[differentiable]
fn generic_neg<T: grad::Float>(x: T) -> T {
    let c = -0.5;
    x * c.exp() + x * (-2.0).powi(2)
}
#[test]
fn p_generic_neg() {
    let x = 1.5f64;
    let (v, g) = generic_neg_value_and_grad(x);
    assert!(same(v, generic_neg(x)), "{v} vs {}", generic_neg(x));
    let n = numeric(&|p: &[f64]| generic_neg(p[0]), &[x]);
    check_grad("generic_neg", &[g], &n);
    let (v32, _) = generic_neg_value_and_grad(1.5f32);
    assert_eq!(v32, generic_neg(1.5f32));
}

#[differentiable]
fn neg_const_index(x: [f64; 3]) -> f64 {
    let c = -1.0f64;
    let i = 2;
    x[i] * c.max(-3.0) + x[0] * (-1.5f64).floor()
}
#[test]
fn p_neg_const_index() {
    let x = [1.5, 0.2, -0.7];
    let (v, g) = neg_const_index_value_and_grad(x);
    assert!(same(v, neg_const_index(x)), "{v} vs {}", neg_const_index(x));
    let n = numeric(&|p: &[f64]| neg_const_index([p[0], p[1], p[2]]), &x);
    check_grad("neg_const_index", &g, &n);
}

// closures' parameters shadowing outer names
#[differentiable]
fn closure_shadow(x: [f64; 3], w: f64) -> f64 {
    let s: f64 = x.iter().map(|w| w * 2.0).sum::<f64>();
    let t = x.iter().map(|&x| x * w).sum::<f64>();
    s * w + t
}
#[test]
fn p_closure_shadow() {
    let x = [1.5, 0.2, -0.7];
    let w = 0.9;
    let (v, g) = closure_shadow_value_and_grad(x, w);
    assert!(
        same(v, closure_shadow(x, w)),
        "{v} vs {}",
        closure_shadow(x, w)
    );
    let n = numeric(
        &|p: &[f64]| closure_shadow([p[0], p[1], p[2]], p[3]),
        &[x[0], x[1], x[2], w],
    );
    check_grad("closure_shadow", &[g.0[0], g.0[1], g.0[2], g.1], &n);
}

#[differentiable]
fn fold_shadow(x: [f64; 3], acc: f64) -> f64 {
    let p = x.iter().fold(acc, |acc, v| acc * v + acc);
    let q = x.iter().fold(1.0, |s, &acc| s + acc * acc);
    p + q * acc
}
#[test]
fn p_fold_shadow() {
    let x = [1.5, 0.2, -0.7];
    let w = 0.9;
    let (v, g) = fold_shadow_value_and_grad(x, w);
    assert!(same(v, fold_shadow(x, w)), "{v} vs {}", fold_shadow(x, w));
    let n = numeric(
        &|p: &[f64]| fold_shadow([p[0], p[1], p[2]], p[3]),
        &[x[0], x[1], x[2], w],
    );
    check_grad("fold_shadow", &[g.0[0], g.0[1], g.0[2], g.1], &n);
}

#[differentiable]
fn range_map_shadow(x: [f64; 4], i: usize) -> f64 {
    let s = (0..3).map(|i| x[i] * x[i + 1]).sum::<f64>();
    s + x[i]
}
#[test]
fn p_range_map_shadow() {
    let x = [1.5, 0.2, -0.7, 0.4];
    let (v, g) = range_map_shadow_value_and_grad(x, 3);
    assert!(
        same(v, range_map_shadow(x, 3)),
        "{v} vs {}",
        range_map_shadow(x, 3)
    );
    let n = numeric(
        &|p: &[f64]| range_map_shadow([p[0], p[1], p[2], p[3]], 3),
        &x,
    );
    check_grad("range_map_shadow", &g, &n);
}

#[differentiable]
fn closure_in_loop(x: [f64; 3], w: f64) -> f64 {
    let mut total = 0.0;
    for k in 0..3 {
        let kk = k as f64;
        total += x.iter().map(|v| v * kk + w).sum::<f64>();
        let w = 100.0;
        total += w * 0.0;
    }
    total * w
}
#[test]
fn p_closure_in_loop() {
    let x = [1.5, 0.2, -0.7];
    let w = 0.9;
    let (v, g) = closure_in_loop_value_and_grad(x, w);
    assert!(
        same(v, closure_in_loop(x, w)),
        "{v} vs {}",
        closure_in_loop(x, w)
    );
    let n = numeric(
        &|p: &[f64]| closure_in_loop([p[0], p[1], p[2]], p[3]),
        &[x[0], x[1], x[2], w],
    );
    check_grad("closure_in_loop", &[g.0[0], g.0[1], g.0[2], g.1], &n);
}

#[differentiable]
fn enumerate_shadow(x: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for (i, v) in x.iter().enumerate() {
        let x = v * 2.0;
        s += x * i as f64;
    }
    s + x[2]
}
#[test]
fn p_enumerate_shadow() {
    let x = [1.5, 0.2, -0.7];
    let (v, g) = enumerate_shadow_value_and_grad(x);
    assert!(
        same(v, enumerate_shadow(x)),
        "{v} vs {}",
        enumerate_shadow(x)
    );
    let n = numeric(&|p: &[f64]| enumerate_shadow([p[0], p[1], p[2]]), &x);
    check_grad("enumerate_shadow", &g, &n);
}

// ===== match extras =====

#[differentiable]
fn match_value_in_loop(x: f64, m: usize) -> f64 {
    let mut s = x;
    for i in 0..m {
        s = match i % 3 {
            0 => s * x,
            1 => s + x,
            _ => match i {
                n @ 2..=4 => s * n as f64,
                _ => s - 1.0,
            },
        };
    }
    s
}
#[test]
fn p_match_value_in_loop() {
    let x = 1.1;
    for m in [0, 3, 7] {
        let (v, g) = match_value_in_loop_value_and_grad(x, m);
        assert!(
            same(v, match_value_in_loop(x, m)),
            "{v} vs {}",
            match_value_in_loop(x, m)
        );
        let n = numeric(&|p: &[f64]| match_value_in_loop(p[0], m), &[x]);
        check_grad("match_value_in_loop", &[g], &n);
    }
}

#[differentiable]
fn match_binding_const_name(x: f64, n: i32) -> f64 {
    // `LO` is a const: this arm matches only n == 2; `other` binds.
    match n {
        LO => x * LO as f64,
        other => x * other as f64 + 1.0,
    }
}
#[test]
fn p_match_binding_const_name() {
    for n in [2, 3] {
        let x = 1.5;
        let (v, g) = match_binding_const_name_value_and_grad(x, n);
        assert!(
            same(v, match_binding_const_name(x, n)),
            "{v} vs {}",
            match_binding_const_name(x, n)
        );
        let nn = numeric(&|p: &[f64]| match_binding_const_name(p[0], n), &[x]);
        check_grad("mbcn", &[g], &nn);
    }
}

#[differentiable]
fn match_bool(x: f64, b: bool) -> f64 {
    match b && x > 0.0 {
        true => x * x,
        false => -x,
    }
}
#[test]
fn p_match_bool() {
    for b in [true, false] {
        for x in [1.5, -1.5] {
            let (v, g) = match_bool_value_and_grad(x, b);
            assert!(same(v, match_bool(x, b)));
            let nn = numeric(&|p: &[f64]| match_bool(p[0], b), &[x]);
            check_grad("match_bool", &[g], &nn);
        }
    }
}

#[differentiable]
fn match_at_or(x: f64, n: i32) -> f64 {
    match n {
        k @ (1 | 3) => x * k as f64,
        k @ (LO | HI) => x * x * k as f64,
        _ => x,
    }
}
#[test]
fn p_match_at_or() {
    for n in [1, 2, 3, 4, 5] {
        let x = 1.5;
        let (v, g) = match_at_or_value_and_grad(x, n);
        assert!(
            same(v, match_at_or(x, n)),
            "n={n}: {v} vs {}",
            match_at_or(x, n)
        );
        let nn = numeric(&|p: &[f64]| match_at_or(p[0], n), &[x]);
        check_grad("match_at_or", &[g], &nn);
    }
}

#[differentiable]
fn match_guard_float(x: f64, n: i32) -> f64 {
    match n {
        0 if x > 1.0 => x * x,
        0 => -x,
        k if (k as f64) < x => x * 3.0,
        _ => x * 4.0,
    }
}
#[test]
fn p_match_guard_float() {
    for n in [0, 1, 5] {
        for x in [1.5, 0.5] {
            let (v, g) = match_guard_float_value_and_grad(x, n);
            assert!(same(v, match_guard_float(x, n)), "n={n} x={x}");
            let nn = numeric(&|p: &[f64]| match_guard_float(p[0], n), &[x]);
            check_grad("match_guard_float", &[g], &nn);
        }
    }
}

// ===== early exits in loops with shadowing =====

#[differentiable]
fn labeled_break(x: f64) -> f64 {
    let mut s = x;
    'outer: for i in 0..4 {
        for j in 0..4 {
            s = s * 0.9 + x * (i + j) as f64;
            if j > i {
                continue 'outer;
            }
            if s > 5.0 {
                break 'outer;
            }
        }
    }
    s
}
probe1!(
    p_labeled_break,
    labeled_break,
    labeled_break_value_and_grad,
    [0.5, 1.5]
);

#[differentiable]
fn break_value_shadowed(x: f64) -> f64 {
    let mut s = x;
    let r = loop {
        s *= 1.5;
        if s > 3.0 {
            let s = s * 10.0;
            break s;
        }
    };
    r + s
}
probe1!(
    p_break_value_shadowed,
    break_value_shadowed,
    break_value_shadowed_value_and_grad,
    [0.5, 1.5]
);

#[differentiable]
fn return_in_loop_shadowed(x: f64) -> f64 {
    let mut s = x;
    for i in 0..5 {
        s = s * x;
        let s = s + 100.0;
        if i == 2 {
            return s;
        }
    }
    s
}
probe1!(
    p_return_in_loop_shadowed,
    return_in_loop_shadowed,
    return_in_loop_shadowed_value_and_grad,
    [0.5]
);

// ===== minimal reproductions =====

#[differentiable]
fn min_loop_shadow(x: f64) -> f64 {
    let mut s = x;
    for _ in 0..2 {
        s *= 2.0;
        let s = 1.0;
    }
    s
}
probe1!(
    p_min_loop_shadow,
    min_loop_shadow,
    min_loop_shadow_value_and_grad,
    [1.5]
);

#[differentiable]
fn min_loop_expr_shadow(x: f64) -> f64 {
    let mut s = x;
    loop {
        s *= 2.0;
        let s = 1.0;
        break;
    }
    s
}
probe1!(
    p_min_loop_expr_shadow,
    min_loop_expr_shadow,
    min_loop_expr_shadow_value_and_grad,
    [1.5]
);

/// Prints an expansion: `cargo test -p grad-tests --test hunt_probes show_expansion -- --nocapture --ignored`.
#[test]
#[ignore]
fn show_expansion() {
    let item: proc_macro2::TokenStream = std::env::var("ITEM")
        .unwrap_or_else(|_| {
            "fn f(x: f64) -> f64 { let mut s = x; for _ in 0..2 { s *= 2.0; let s = 1.0; } s }"
                .into()
        })
        .parse()
        .unwrap();
    let out = grad_expand::differentiable(proc_macro2::TokenStream::new(), item);
    let file: syn::File = syn::parse2(out).unwrap();
    println!("{}", prettyplease::unparse(&file));
}

// ===== batch 3 =====

#[differentiable]
fn or_binding_outer_local(x: f64, n: i32) -> f64 {
    let k = 10;
    match n {
        k @ 1 | k @ 2 => x * k as f64,
        _ => x * k as f64 + 1.0,
    }
}
#[test]
fn p_or_binding_outer_local() {
    for n in [1, 2, 3] {
        let x = 1.5;
        let (v, g) = or_binding_outer_local_value_and_grad(x, n);
        assert!(
            same(v, or_binding_outer_local(x, n)),
            "n={n}: {v} vs {}",
            or_binding_outer_local(x, n)
        );
        let nn = numeric(&|p: &[f64]| or_binding_outer_local(p[0], n), &[x]);
        check_grad("or_binding_outer_local", &[g], &nn);
    }
}

#[differentiable]
fn element_cache(x: [f64; 3], i: usize, j: usize) -> f64 {
    let mut a = x;
    let r0 = a[i];
    a[j] = a[j] * 5.0;
    let r1 = a[i];
    r0 + r1 * 2.0
}
#[test]
fn p_element_cache() {
    for (i, j) in [(0, 0), (1, 2), (2, 2)] {
        let x = [1.5, -0.7, 2.1];
        let (v, g) = element_cache_value_and_grad(x, i, j);
        assert!(
            same(v, element_cache(x, i, j)),
            "({i},{j}): {v} vs {}",
            element_cache(x, i, j)
        );
        let nn = numeric(&|p: &[f64]| element_cache([p[0], p[1], p[2]], i, j), &x);
        check_grad("element_cache", &g, &nn);
    }
}

#[differentiable]
fn element_cache_loop(x: [f64; 3], j: usize) -> f64 {
    let mut a = x;
    let mut s = 0.0;
    for i in 0..3 {
        let r0 = a[i];
        a[j] *= 2.0;
        s += r0 * a[i];
    }
    s
}
#[test]
fn p_element_cache_loop() {
    for j in [0, 1, 2] {
        let x = [1.5, -0.7, 2.1];
        let (v, g) = element_cache_loop_value_and_grad(x, j);
        assert!(
            same(v, element_cache_loop(x, j)),
            "{j}: {v} vs {}",
            element_cache_loop(x, j)
        );
        let nn = numeric(&|p: &[f64]| element_cache_loop([p[0], p[1], p[2]], j), &x);
        check_grad("element_cache_loop", &g, &nn);
    }
}

#[differentiable]
fn element_cache_2d(w: [[f64; 2]; 2], i: usize) -> f64 {
    let mut m = w;
    let row = m[i];
    m[1][0] = m[0][1] * 3.0;
    let r = m[i][0];
    row[0] + r + m[1][0]
}
#[test]
fn p_element_cache_2d() {
    for i in [0, 1] {
        let w = [[1.5, -0.7], [2.1, 0.3]];
        let (v, g) = element_cache_2d_value_and_grad(w, i);
        assert!(
            same(v, element_cache_2d(w, i)),
            "{i}: {v} vs {}",
            element_cache_2d(w, i)
        );
        let nn = numeric(
            &|p: &[f64]| element_cache_2d([[p[0], p[1]], [p[2], p[3]]], i),
            &[1.5, -0.7, 2.1, 0.3],
        );
        check_grad(
            "element_cache_2d",
            &[g[0][0], g[0][1], g[1][0], g[1][1]],
            &nn,
        );
    }
}

#[differentiable]
fn array_copy_then_write(x: [f64; 2]) -> f64 {
    let mut a = x;
    let b = a;
    a[0] = a[0] * a[1];
    let c = a;
    a[1] = 7.0;
    b[0] * 2.0 + c[1] * 3.0 + a[0]
}
#[test]
fn p_array_copy_then_write() {
    let x = [1.5, -0.7];
    let (v, g) = array_copy_then_write_value_and_grad(x);
    assert!(
        same(v, array_copy_then_write(x)),
        "{v} vs {}",
        array_copy_then_write(x)
    );
    let nn = numeric(&|p: &[f64]| array_copy_then_write([p[0], p[1]]), &x);
    check_grad("array_copy_then_write", &g, &nn);
}

#[differentiable]
fn array_shadow_in_loop(x: [f64; 3]) -> f64 {
    let mut a = x;
    for i in 0..3 {
        a[i] *= 2.0;
        let mut a = [1.0; 3];
        a[i] = 0.0;
    }
    a[0] + a[1] + a[2]
}
#[test]
fn p_array_shadow_in_loop() {
    let x = [1.5, -0.7, 2.1];
    let (v, g) = array_shadow_in_loop_value_and_grad(x);
    assert!(
        same(v, array_shadow_in_loop(x)),
        "{v} vs {}",
        array_shadow_in_loop(x)
    );
    let nn = numeric(&|p: &[f64]| array_shadow_in_loop([p[0], p[1], p[2]]), &x);
    check_grad("array_shadow_in_loop", &g, &nn);
}

#[differentiable]
fn closure_mutates_capture(x: [f64; 3]) -> f64 {
    let mut s = 0.0;
    let t = x
        .iter()
        .map(|v| {
            s += v * v;
            v * 2.0
        })
        .sum::<f64>();
    s + t
}
#[test]
fn p_closure_mutates_capture() {
    let x = [1.5, -0.7, 2.1];
    let (v, g) = closure_mutates_capture_value_and_grad(x);
    assert!(
        same(v, closure_mutates_capture(x)),
        "{v} vs {}",
        closure_mutates_capture(x)
    );
    let nn = numeric(&|p: &[f64]| closure_mutates_capture([p[0], p[1], p[2]]), &x);
    check_grad("closure_mutates_capture", &g, &nn);
}

// CONFUSING ERROR: the expansion does not compile (`cannot find value `__vNN` in this scope`).
/// A closure that assigns a captured variable, inside a loop (its generated code did not
/// compile: the loop did not carry `s`).
mod closure_mutates_in_for_mod {
    use super::*;
    #[differentiable]
    fn closure_mutates_in_for(x: [f64; 3]) -> f64 {
        let mut s = 0.0;
        let mut t = 0.0;
        for _ in 0..2 {
            t += x
                .iter()
                .map(|v| {
                    s += v * v;
                    v * 2.0
                })
                .sum::<f64>();
        }
        s + t
    }
    #[test]
    fn p_closure_mutates_in_for() {
        let x = [1.5, -0.7, 2.1];
        let (v, g) = closure_mutates_in_for_value_and_grad(x);
        assert!(
            same(v, closure_mutates_in_for(x)),
            "{v} vs {}",
            closure_mutates_in_for(x)
        );
        let nn = numeric(&|p: &[f64]| closure_mutates_in_for([p[0], p[1], p[2]]), &x);
        check_grad("closure_mutates_in_for", &g, &nn);
    }
}

#[differentiable]
fn cast_literal_f32(x: f32) -> f32 {
    let c = 0.1 + 0.2;
    x * c as f32 + x * (0.1 + 0.2) as f32
}
#[test]
fn p_cast_literal_f32() {
    let (v, g) = cast_literal_f32_value_and_grad(1.5f32);
    assert_eq!(v, cast_literal_f32(1.5f32));
    let c = (0.1f64 + 0.2) as f32;
    assert_eq!(g, c + c);
}

#[differentiable]
fn casts_mixed(x: f64, y: f32) -> f64 {
    let a = x as f32 * y;
    let b = (a as f64).sin() * x;
    let k = (x * 3.0) as i32;
    b + k as f64 * x + y as f64 * 0.0
}
#[test]
fn p_casts_mixed() {
    let (x, y) = (1.3, 0.7f32);
    let (v, g) = casts_mixed_value_and_grad(x, y);
    assert_eq!(v, casts_mixed(x, y));
    let a = ((x as f32) * y) as f64;
    let expected = a.cos() * y as f64 * x + a.sin() + 3.0;
    assert!(
        (g.0 - expected).abs() < 1e-6 * expected.abs(),
        "{} vs {}",
        g.0,
        expected
    );
}

#[differentiable]
fn minmax_nan(x: f64, y: f64) -> f64 {
    f64::max(x, y) + x.min(y) * 2.0 + f64::min(y, 1.0) + 0.5f64.max(x)
}
#[test]
fn p_minmax_nan() {
    for (x, y) in [(f64::NAN, 1.0), (1.0, f64::NAN), (0.3, 0.7), (0.7, 0.3)] {
        let (v, _) = minmax_nan_value_and_grad(x, y);
        assert!(same(v, minmax_nan(x, y)));
    }
    let (v, g) = minmax_nan_value_and_grad(0.3, 0.7);
    let n = numeric(&|p: &[f64]| minmax_nan(p[0], p[1]), &[0.3, 0.7]);
    check_grad("minmax_nan", &[g.0, g.1], &n);
}

#[differentiable]
fn clamp_all(x: f64, lo: f64) -> f64 {
    x.clamp(lo, lo + 1.0) + f64::clamp(x * 2.0, -1.0, lo)
}
probe2!(
    p_clamp_all,
    clamp_all,
    clamp_all_value_and_grad,
    [(0.3, 0.0), (-0.7, 0.2), (1.9, 0.5)]
);

#[differentiable]
fn misc_methods(x: f64, y: f64) -> f64 {
    x.fract()
        + x.to_degrees() * 0.01
        + y.to_radians()
        + x.exp_m1()
        + y.ln_1p()
        + x.cbrt()
        + y.recip()
        + x.log(y + 2.0)
        + x.exp2()
        + y.log2()
        + x.log10()
}
probe2!(
    p_misc_methods,
    misc_methods,
    misc_methods_value_and_grad,
    [(1.3, 0.7), (2.7, 1.2)]
);

#[differentiable]
fn trig_methods(x: f64, y: f64) -> f64 {
    let (s, c) = x.sin_cos();
    s * c
        + x.tan()
        + (y * 0.5).asin()
        + (y * 0.5).acos()
        + x.atan()
        + x.sinh()
        + y.cosh()
        + x.tanh()
        + x.asinh()
        + (y + 1.5).acosh()
        + (y * 0.5).atanh()
}
probe2!(
    p_trig_methods,
    trig_methods,
    trig_methods_value_and_grad,
    [(0.3, 0.7), (-0.4, -0.2)]
);

#[differentiable]
fn int_counter_loop(x: f64, n: usize) -> f64 {
    let mut k = 0usize;
    let mut s = 0.0;
    while k < n {
        k += 2;
        if k % 3 == 0 {
            continue;
        }
        s += x * k as f64;
    }
    s * k as f64
}
#[test]
fn p_int_counter_loop() {
    for n in [0, 5, 9] {
        let x = 1.1;
        let (v, g) = int_counter_loop_value_and_grad(x, n);
        assert!(
            same(v, int_counter_loop(x, n)),
            "{v} vs {}",
            int_counter_loop(x, n)
        );
        let nn = numeric(&|p: &[f64]| int_counter_loop(p[0], n), &[x]);
        check_grad("int_counter_loop", &[g], &nn);
    }
}

#[differentiable]
fn rev_step(x: [f64; 6], a: usize, b: usize) -> f64 {
    let mut s = 0.0;
    for i in (a..=b).rev().step_by(2) {
        s = s * x[i] + x[i];
    }
    for i in (a..b).step_by(3) {
        s += x[i] * x[i];
    }
    s
}
#[test]
fn p_rev_step() {
    for (a, b) in [(0, 5), (1, 4), (3, 3), (4, 2)] {
        let x = [1.5, -0.7, 2.1, 0.3, 0.9, -1.1];
        let (v, g) = rev_step_value_and_grad(x, a, b);
        assert!(same(v, rev_step(x, a, b)), "{v} vs {}", rev_step(x, a, b));
        let nn = numeric(
            &|p: &[f64]| rev_step([p[0], p[1], p[2], p[3], p[4], p[5]], a, b),
            &x,
        );
        check_grad("rev_step", &g, &nn);
    }
}

#[differentiable]
fn generic_literals<T: grad::Float>(x: T, y: T) -> T {
    let mut s = x * 0.5 + 1e-3;
    for i in 0..3 {
        s = s * y + T::from_f64(i as f64) * 0.25;
    }
    s.max(0.1) + (x - 2.0).abs() + y.powi(3) * 1.5
}
#[test]
fn p_generic_literals() {
    let (x, y) = (1.3, 0.7);
    let (v, g) = generic_literals_value_and_grad(x, y);
    assert!(same(v, generic_literals(x, y)));
    let n = numeric(&|p: &[f64]| generic_literals(p[0], p[1]), &[x, y]);
    check_grad("generic_literals", &[g.0, g.1], &n);
    let (v32, _) = generic_literals_value_and_grad(1.3f32, 0.7f32);
    assert_eq!(v32, generic_literals(1.3f32, 0.7f32));
}

#[differentiable]
fn tuple_reassign(x: f64, y: f64) -> f64 {
    let mut t = (x, y);
    let u = t;
    t.0 * 0.0
        + {
            let (a, b) = u;
            a * b
        }
        + t.1
}
probe2!(
    p_tuple_reassign,
    tuple_reassign,
    tuple_reassign_value_and_grad,
    [(1.3, 0.7)]
);

#[differentiable]
fn nested_fn_call(x: f64, y: f64) -> f64 {
    let a = shadow_param(x) * y;
    let b = self::element_helper(y, x);
    a + b
}
#[differentiable]
fn element_helper(a: f64, b: f64) -> f64 {
    a * b.sin()
}
probe2!(
    p_nested_fn_call,
    nested_fn_call,
    nested_fn_call_value_and_grad,
    [(1.3, 0.7)]
);

// ===== batch 4 =====

#[differentiable]
fn neg_patterns(x: f64, n: i32) -> f64 {
    match n {
        -1 => x * 2.0,
        -5..=-2 => x * 3.0,
        ..-5 => x * 4.0,
        10.. => x * 5.0,
        _ => x,
    }
}
#[test]
fn p_neg_patterns() {
    for n in [-7, -5, -3, -1, 0, 9, 10, 20] {
        let x = 1.5;
        let (v, g) = neg_patterns_value_and_grad(x, n);
        assert!(
            same(v, neg_patterns(x, n)),
            "n={n}: {v} vs {}",
            neg_patterns(x, n)
        );
        let nn = numeric(&|p: &[f64]| neg_patterns(p[0], n), &[x]);
        check_grad("neg_patterns", &[g], &nn);
    }
}

#[derive(Clone, Copy)]
enum Mode {
    A,
    B,
    C,
}

#[differentiable]
fn enum_glob(x: f64, m: Mode) -> f64 {
    use Mode::*;
    match m {
        A => x * 2.0,
        B | C => x * x,
    }
}
#[test]
fn p_enum_glob() {
    for m in [Mode::A, Mode::B, Mode::C] {
        let x = 1.5;
        let (v, g) = enum_glob_value_and_grad(x, m);
        assert!(same(v, enum_glob(x, m)));
        let nn = numeric(&|p: &[f64]| enum_glob(p[0], m), &[x]);
        check_grad("enum_glob", &[g], &nn);
    }
}

#[differentiable]
fn use_consts_module(x: f64) -> f64 {
    use std::f64::consts as c;
    x * c::PI + c::E
}
probe1!(
    p_use_consts_module,
    use_consts_module,
    use_consts_module_value_and_grad,
    [1.5]
);

mod fns {
    use grad::differentiable;
    #[differentiable]
    pub fn g(x: f64) -> f64 {
        x * x * x
    }
    #[differentiable]
    pub fn h(x: f64) -> f64 {
        x.sin()
    }
}

// A `use` that brings in a function whose `_vjp` it does not import: the call `h(x)` runs
// `fns::h`, and its gradient comes from the module-level `h_vjp` of another function.
#[differentiable]
fn h(x: f64) -> f64 {
    x * x
}
#[differentiable]
fn use_fn_without_vjp(x: f64) -> f64 {
    use fns::h;
    h(x)
}
probe1!(
    p_use_fn_without_vjp,
    use_fn_without_vjp,
    use_fn_without_vjp_value_and_grad,
    [1.5]
);

#[differentiable]
fn match_cast_scrutinee(x: f64) -> f64 {
    match (x * 3.0) as i32 {
        0..=2 => x * x,
        n @ 3..=5 => x * n as f64,
        _ => x.sin(),
    }
}
probe1!(
    p_match_cast_scrutinee,
    match_cast_scrutinee,
    match_cast_scrutinee_value_and_grad,
    [0.5, 1.2, 2.5]
);

#[differentiable]
fn continue_shadow(x: f64) -> f64 {
    let mut s = x;
    for i in 0..4 {
        s = s * 1.5;
        if i == 1 {
            continue;
        }
        let s = s * 0.0;
        let _ = s;
    }
    s
}
probe1!(
    p_continue_shadow,
    continue_shadow,
    continue_shadow_value_and_grad,
    [1.5]
);
