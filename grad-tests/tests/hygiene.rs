//! Generated names never collide with the user's: parameters and locals may be called
//! `upstream`, `grad`, `adj`, `x_grad` or `__v0`, and prelude names may be shadowed.

#![allow(non_camel_case_types, dead_code)]

use grad::differentiable;

// Shadowing prelude items proves the expansion spells out what it uses.
struct Result;
struct Ok;
struct Option;
struct Some;
struct None;
struct f64_like;

#[differentiable]
fn colliding_names(upstream: f64, grad: f64, adj: f64) -> f64 {
    let x_grad = upstream * grad;
    let __v0 = x_grad + adj;
    let __adj0 = __v0 * upstream;
    let __upstream = __adj0;
    let __d0_0 = __upstream.sin();
    __d0_0 * grad
}

fn colliding_names_by_hand(u: f64, g: f64, a: f64) -> (f64, f64, f64) {
    // f = sin((u g + a) u) g with w = (u g + a) u: dw/du = 2ug + a, dw/dg = u², dw/da = u.
    let w = (u * g + a) * u;
    let c = w.cos() * g;
    (c * (2.0 * u * g + a), c * u * u + w.sin(), c * u)
}

#[test]
fn user_names_that_look_generated_do_not_collide() {
    let (u, g, a) = (0.7, -1.3, 0.4);
    let got = colliding_names_vjp(u, g, a, 2.0);
    let want = colliding_names_by_hand(u, g, a);
    for (got, want) in [(got.0, want.0), (got.1, want.1), (got.2, want.2)] {
        assert!((got - 2.0 * want).abs() < 1e-12, "{got} vs {}", 2.0 * want);
    }
    let (value, _) = colliding_names_value_and_grad(u, g, a);
    assert_eq!(value, colliding_names(u, g, a));
}
