//! Methods, impl blocks and modules (issue 16): `#[differentiable]` on a method (its
//! companions are methods, `self` a constant input), on an impl block or a module (every
//! function that takes a float and returns a float, an array or a tuple of them gets its
//! companions; the others are left as written), with calls between them. Each gradient is
//! checked against central finite differences and against num-dual through a DualNum-generic
//! copy of the function, or against a closed form.

mod common;

use common::{assert_gradient, assert_gradient_and_dual as check, xorshift};
use grad::differentiable;
use num_dual::DualNum;

fn random_point(next: &mut impl FnMut() -> u64, n: usize, low: f64, high: f64) -> Vec<f64> {
    (0..n)
        .map(|_| low + (high - low) * (next() % 10_000) as f64 / 10_000.0)
        .collect()
}

// ----- a method with the attribute, calling another -----

/// A pricing model whose fields are the market (constants), as quant code writes it.
pub struct Pricer {
    pub strike: f64,
    pub rate: f64,
    pub years: f64,
}

impl Pricer {
    #[differentiable]
    pub fn d1(&self, spot: f64, vol: f64) -> f64 {
        ((spot / self.strike).ln() + (self.rate + 0.5 * vol * vol) * self.years)
            / (vol * self.years.sqrt())
    }

    /// A smooth call price (the logistic approximation of the normal CDF).
    #[differentiable]
    pub fn price(&self, spot: f64, vol: f64) -> f64 {
        let d1 = self.d1(spot, vol);
        let d2 = d1 - vol * self.years.sqrt();
        spot * grad::sigmoid(1.702 * d1)
            - self.strike * (-self.rate * self.years).exp() * grad::sigmoid(1.702 * d2)
    }
}

fn price_mirror<D: DualNum<f64> + Copy>(m: &Pricer, spot: D, vol: D) -> D {
    let sig = |z: D| (D::one() + (-z * 1.702).exp()).recip();
    let d1 =
        ((spot / m.strike).ln() + (vol * vol * 0.5 + m.rate) * m.years) / (vol * m.years.sqrt());
    let d2 = d1 - vol * m.years.sqrt();
    spot * sig(d1) - sig(d2) * (m.strike * (-m.rate * m.years).exp())
}

#[test]
fn a_method_and_the_method_it_calls_are_differentiated_with_self_constant() {
    let mut next = xorshift(0x5eed_0016);
    for _ in 0..20 {
        let m = Pricer {
            strike: 100.0,
            rate: 0.02,
            years: 0.75,
        };
        let x = random_point(&mut next, 2, 0.0, 1.0);
        let (spot, vol) = (80.0 + 40.0 * x[0], 0.1 + 0.4 * x[1]);
        let (value, (d_spot, d_vol)) = m.price_value_and_grad(spot, vol);
        assert_eq!(value, m.price(spot, vol));
        assert_eq!(m.price_grad(spot, vol), (d_spot, d_vol));
        assert_eq!(m.price_vjp(spot, vol, 2.0), (2.0 * d_spot, 2.0 * d_vol));
        check(
            |p| m.price(p[0], p[1]),
            |p| price_mirror(&m, p[0], p[1]),
            &[spot, vol],
            &[d_spot, d_vol],
        );
    }
}

// ----- an impl block -----

/// A planar two-link arm.
#[derive(Clone, Copy)]
pub struct Arm {
    pub l1: f64,
    pub l2: f64,
}

#[differentiable]
impl Arm {
    /// Left as written: it returns `Self`.
    pub fn new(l1: f64, l2: f64) -> Self {
        Arm { l1, l2 }
    }

    pub fn x(&self, q1: f64, q2: f64) -> f64 {
        self.l1 * q1.cos() + self.l2 * (q1 + q2).cos()
    }

    pub fn y(&self, q1: f64, q2: f64) -> f64 {
        self.l1 * q1.sin() + self.l2 * (q1 + q2).sin()
    }

    /// The tip, as a vector output.
    pub fn tip(&self, q: [f64; 2]) -> [f64; 2] {
        [self.x(q[0], q[1]), self.y(q[0], q[1])]
    }

    /// `self` by value calls methods that take `&self`: rustc borrows it, as in the body.
    pub fn reach_cost(self, q1: f64, q2: f64, target: [f64; 2]) -> f64 {
        let tip = self.tip([q1, q2]);
        Self::square(tip[0] - target[0]) + Self::square(tip[1] - target[1])
    }

    /// An associated function, called as `Self::square`.
    fn square(d: f64) -> f64 {
        d * d
    }

    /// Left as written: it takes no float.
    pub fn total_length(&self) -> f64 {
        self.l1 + self.l2
    }
}

fn reach_mirror<D: DualNum<f64> + Copy>(arm: Arm, q1: D, q2: D, target: [D; 2]) -> D {
    let x = q1.cos() * arm.l1 + (q1 + q2).cos() * arm.l2;
    let y = q1.sin() * arm.l1 + (q1 + q2).sin() * arm.l2;
    (x - target[0]).powi(2) + (y - target[1]).powi(2)
}

#[test]
fn an_impl_block_differentiates_its_float_methods_and_leaves_the_others() {
    let arm = Arm::new(1.0, 0.6);
    assert_eq!(arm.total_length(), 1.6);
    let mut next = xorshift(0xa12a);
    for _ in 0..20 {
        let p = random_point(&mut next, 4, -1.5, 1.5);
        let (d_q1, d_q2, d_target) = arm.reach_cost_grad(p[0], p[1], [p[2], p[3]]);
        check(
            |p| arm.reach_cost(p[0], p[1], [p[2], p[3]]),
            |p| reach_mirror(arm, p[0], p[1], [p[2], p[3]]),
            &p,
            &[d_q1, d_q2, d_target[0], d_target[1]],
        );
        // The tip's Jacobian, row by row, against the closed form.
        let (q1, q2) = (p[0], p[1]);
        let jacobian = arm.tip_jacobian([q1, q2]);
        let s12 = (q1 + q2).sin();
        let c12 = (q1 + q2).cos();
        let expected = [
            [-arm.l1 * q1.sin() - arm.l2 * s12, -arm.l2 * s12],
            [arm.l1 * q1.cos() + arm.l2 * c12, arm.l2 * c12],
        ];
        for i in 0..2 {
            for j in 0..2 {
                assert!((jacobian[i][j] - expected[i][j]).abs() < 1e-12);
            }
        }
        assert_eq!(Arm::square_grad(p[2]), 2.0 * p[2]);
    }
}

// ----- an impl block generic over num-traits -----

pub struct Spring<T> {
    pub k: T,
    pub rest: T,
}

#[differentiable]
impl<T: num_traits::Float> Spring<T> {
    pub fn energy(&self, x: T, y: T) -> T {
        let stretch = (x * x + y * y).sqrt() - self.rest;
        T::from(0.5).unwrap() * self.k * stretch * stretch
    }
}

#[test]
fn a_generic_impl_block_gives_generic_methods() {
    let spring = Spring { k: 3.0, rest: 1.0 };
    let mut next = xorshift(0x5971);
    for _ in 0..20 {
        let p = random_point(&mut next, 2, 0.2, 2.0);
        let (dx, dy) = spring.energy_grad(p[0], p[1]);
        check(
            |p| spring.energy(p[0], p[1]),
            |p| {
                let stretch = (p[0] * p[0] + p[1] * p[1]).sqrt() - 1.0;
                stretch * stretch * 1.5
            },
            &p,
            &[dx, dy],
        );
    }
    let single = Spring {
        k: 3.0_f32,
        rest: 1.0_f32,
    };
    let (dx, _) = single.energy_grad(2.0, 0.0);
    assert!((dx - 3.0).abs() < 1e-6, "3 (|x| - 1) at x = 2: {dx}");
}

// ----- a trait impl -----

pub trait Objective {
    fn value(&self, x: f64, y: f64) -> f64;
}

pub struct Rosenbrock {
    pub a: f64,
    pub b: f64,
}

#[differentiable]
impl Objective for Rosenbrock {
    fn value(&self, x: f64, y: f64) -> f64 {
        (self.a - x).powi(2) + self.b * (y - x * x).powi(2)
    }
}

#[test]
fn a_trait_impl_gets_its_companions_in_an_inherent_impl() {
    let r = Rosenbrock { a: 1.0, b: 100.0 };
    let mut next = xorshift(0x7a17);
    for _ in 0..20 {
        let p = random_point(&mut next, 2, -2.0, 2.0);
        let (dx, dy) = r.value_grad(p[0], p[1]);
        let expected_dx = -2.0 * (1.0 - p[0]) - 400.0 * p[0] * (p[1] - p[0] * p[0]);
        let expected_dy = 200.0 * (p[1] - p[0] * p[0]);
        assert!((dx - expected_dx).abs() <= 1e-12 * expected_dx.abs().max(1.0));
        assert!((dy - expected_dy).abs() <= 1e-12 * expected_dy.abs().max(1.0));
        assert_gradient(|p| r.value(p[0], p[1]), &p, &[dx, dy]);
    }
}

// ----- a method that steps an array state, called in a loop -----

pub struct Oscillator {
    pub omega: f64,
    pub damping: f64,
}

impl Oscillator {
    #[differentiable]
    fn derivative(&self, s: [f64; 2]) -> [f64; 2] {
        [s[1], -self.omega * self.omega * s[0] - self.damping * s[1]]
    }

    /// One classical Runge-Kutta step.
    #[differentiable]
    fn rk4(&self, s: [f64; 2], h: f64) -> [f64; 2] {
        let k1 = self.derivative(s);
        let k2 = self.derivative([s[0] + 0.5 * h * k1[0], s[1] + 0.5 * h * k1[1]]);
        let k3 = self.derivative([s[0] + 0.5 * h * k2[0], s[1] + 0.5 * h * k2[1]]);
        let k4 = self.derivative([s[0] + h * k3[0], s[1] + h * k3[1]]);
        [
            s[0] + h / 6.0 * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0]),
            s[1] + h / 6.0 * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1]),
        ]
    }

    /// The position after `steps` steps from `(x0, v0)`.
    #[differentiable]
    pub fn final_position(&self, x0: f64, v0: f64, steps: usize) -> f64 {
        let h = 0.05;
        let mut state = [x0, v0];
        for _ in 0..steps {
            state = self.rk4(state, h);
        }
        state[0]
    }
}

#[test]
fn a_method_stepping_an_array_state_in_a_loop() {
    let osc = Oscillator {
        omega: 2.0,
        damping: 0.1,
    };
    let mut next = xorshift(0x05c1);
    for _ in 0..10 {
        let p = random_point(&mut next, 2, -1.0, 1.0);
        let (dx0, dv0) = osc.final_position_grad(p[0], p[1], 40);
        // The map is linear in the initial state: the gradient is the same at every
        // point, and finite differences are exact up to rounding.
        assert_gradient(|p| osc.final_position(p[0], p[1], 40), &p, &[dx0, dv0]);
        assert!((osc.final_position(p[0], p[1], 40) - (dx0 * p[0] + dv0 * p[1])).abs() < 1e-12);
    }
}

// ----- a module -----

#[differentiable]
pub mod physics {
    pub const G: f64 = 9.81;

    pub fn spring(k: f64, x: f64) -> f64 {
        0.5 * k * x * x
    }

    pub fn gravity(m: f64, h: f64) -> f64 {
        m * G * h
    }

    pub fn energy(k: f64, x: f64, m: f64, h: f64) -> f64 {
        spring(k, x) + gravity(m, h)
    }

    /// An explicit attribute inside the module: its `wrt` applies.
    #[differentiable(wrt(x))]
    pub fn spring_in_x(k: f64, x: f64) -> f64 {
        spring(k, x)
    }

    /// Left as written: it returns a `Vec`.
    pub fn samples(n: usize) -> Vec<f64> {
        (0..n).map(|i| i as f64 * 0.5).collect()
    }

    /// Constant arguments: `samples` needs no derivative here.
    pub fn sampled_energy(k: f64, n: usize) -> f64 {
        let xs = samples(n);
        let mut total = 0.0;
        for x in xs {
            // The element type of a value grad cannot see, as its message asks.
            let x: f64 = x;
            total += spring(k, x);
        }
        total
    }

    pub mod nested {
        pub fn doubled(x: f64) -> f64 {
            2.0 * super::spring(1.0, x)
        }
    }

    pub struct Pendulum {
        pub length: f64,
    }

    impl Pendulum {
        pub fn height(&self, angle: f64) -> f64 {
            self.length * (1.0 - angle.cos())
        }

        pub fn potential(&self, m: f64, angle: f64) -> f64 {
            gravity(m, self.height(angle))
        }
    }
}

#[test]
fn a_module_differentiates_its_float_functions_and_calls_between_them_compose() {
    let mut next = xorshift(0x0d01);
    for _ in 0..20 {
        let p = random_point(&mut next, 4, -2.0, 2.0);
        let (dk, dx, dm, dh) = physics::energy_grad(p[0], p[1], p[2], p[3]);
        check(
            |p| physics::energy(p[0], p[1], p[2], p[3]),
            |p| p[0] * p[1] * p[1] * 0.5 + p[2] * p[3] * 9.81,
            &p,
            &[dk, dx, dm, dh],
        );
        assert_eq!(physics::spring_in_x_grad(p[0], p[1]), p[0] * p[1]);
        assert_eq!(physics::nested::doubled_grad(p[1]), 2.0 * p[1]);
        let pendulum = physics::Pendulum { length: 1.5 };
        let (dm, dangle) = pendulum.potential_grad(p[2], p[3]);
        assert!((dm - 9.81 * 1.5 * (1.0 - p[3].cos())).abs() < 1e-12);
        assert!((dangle - p[2] * 9.81 * 1.5 * p[3].sin()).abs() < 1e-12);
    }
    assert_eq!(physics::samples(3), vec![0.0, 0.5, 1.0]);
    // 0.5 k (0 + 0.25 + 1): its derivative in k is 0.625.
    assert_eq!(physics::sampled_energy_grad(2.0, 3), 0.625);
}

// ----- a module whose helper takes a type grad sees only by name -----

#[differentiable]
pub mod geometry {
    pub type Vec3 = [f64; 3];

    /// Left as written by the module (grad sees only the name `Vec3`), so the attribute is
    /// on it, as the module's error for a call of it says.
    #[differentiable]
    pub fn norm(v: Vec3) -> f64 {
        (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
    }

    pub fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
        norm([a[0] - b[0], a[1] - b[1], a[2] - b[2]])
    }
}

#[test]
fn a_helper_over_an_alias_is_differentiated_with_its_own_attribute() {
    let mut next = xorshift(0x9e0);
    for _ in 0..20 {
        let p = random_point(&mut next, 6, -2.0, 2.0);
        let (da, db) = geometry::distance_grad([p[0], p[1], p[2]], [p[3], p[4], p[5]]);
        let d = geometry::distance([p[0], p[1], p[2]], [p[3], p[4], p[5]]);
        for i in 0..3 {
            assert!((da[i] - (p[i] - p[i + 3]) / d).abs() < 1e-12);
            assert!((db[i] + da[i]).abs() < 1e-12);
        }
    }
}

// ----- calls that return tuples -----

/// Polar to Cartesian coordinates, a tuple of floats.
#[differentiable]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

/// Destructured calls of a function returning a tuple, one with an unused element, one in a
/// loop; and a call of constants only whose tuple holds an integer, passed through.
#[differentiable]
fn spiral_cost(r: f64, t: f64, px: f64, n: usize) -> f64 {
    let (x, y) = polar(r, t);
    let (_, y2) = polar(2.0 * r, t + 0.5);
    let mut total = (x - px).powi(2) + y * y + y2;
    let (count, weight) = split(n);
    for k in 0..count {
        let (a, b): (f64, f64) = polar(r + 0.1 * k as f64, t * weight);
        total += a * b;
    }
    let typed: (f64, f64) = polar(r, 0.5 * t);
    total + typed.0 * typed.1
}

fn split(n: usize) -> (usize, f64) {
    (n, 0.5)
}

fn spiral_mirror<D: DualNum<f64> + Copy>(r: D, t: D, px: D, n: usize) -> D {
    let polar = |r: D, t: D| (r * t.cos(), r * t.sin());
    let (x, y) = polar(r, t);
    let (_, y2) = polar(r * 2.0, t + 0.5);
    let mut total = (x - px).powi(2) + y * y + y2;
    for k in 0..n {
        let (a, b) = polar(r + 0.1 * k as f64, t * 0.5);
        total += a * b;
    }
    let typed = polar(r, t * 0.5);
    total + typed.0 * typed.1
}

impl Arm {
    /// A method returning a tuple, destructured by another method.
    #[differentiable]
    pub fn reach(&self, q1: f64, q2: f64) -> (f64, f64) {
        (self.x(q1, q2), self.y(q1, q2))
    }

    #[differentiable]
    pub fn reach_distance(&self, q1: f64, q2: f64, tx: f64, ty: f64) -> f64 {
        let (x, y) = self.reach(q1, q2);
        ((x - tx).powi(2) + (y - ty).powi(2)).sqrt()
    }
}

#[test]
fn calls_returning_tuples_are_differentiated_when_destructured() {
    let mut next = xorshift(0x7091e);
    for n in 0..4 {
        let p = random_point(&mut next, 3, -2.0, 2.0);
        let (dr, dt, dpx) = spiral_cost_grad(p[0], p[1], p[2], n);
        check(
            |p| spiral_cost(p[0], p[1], p[2], n),
            |p| spiral_mirror(p[0], p[1], p[2], n),
            &p,
            &[dr, dt, dpx],
        );
    }
    let arm = Arm::new(1.0, 0.6);
    for _ in 0..10 {
        let p = random_point(&mut next, 4, -1.5, 1.5);
        let (d1, d2, dx, dy) = arm.reach_distance_grad(p[0], p[1], p[2], p[3]);
        check(
            |p| arm.reach_distance(p[0], p[1], p[2], p[3]),
            |p| reach_mirror(arm, p[0], p[1], [p[2], p[3]]).sqrt(),
            &p,
            &[d1, d2, dx, dy],
        );
    }
}

fn pick(w: f64, k: usize) -> (usize, f64) {
    (k % 2, w * 0.5)
}

/// `w` is a constant (left out by `wrt`): the call of constants passes through as written,
/// whatever its tuple holds.
#[differentiable(wrt(x))]
fn picked(x: f64, w: f64, k: usize) -> f64 {
    let (i, half) = pick(w, k);
    x * half + i as f64
}

#[test]
fn a_tuple_call_of_constants_passes_through() {
    assert_eq!(picked_grad(3.0, 1.5, 3), 0.75);
    assert_eq!(picked(3.0, 1.5, 3), 3.25);
}

// ----- helpers that take closures, inlined where the closure is known -----

#[differentiable]
pub mod sim {
    /// One classical Runge-Kutta step of `s' = f(s)`: generic over the closure, so it is
    /// inlined at each call, with the caller's closure.
    pub fn rk4<F: Fn([f64; 2]) -> [f64; 2]>(f: F, s: [f64; 2], h: f64) -> [f64; 2] {
        let k1 = f(s);
        let k2 = f([s[0] + 0.5 * h * k1[0], s[1] + 0.5 * h * k1[1]]);
        let k3 = f([s[0] + 0.5 * h * k2[0], s[1] + 0.5 * h * k2[1]]);
        let k4 = f([s[0] + h * k3[0], s[1] + h * k3[1]]);
        [
            s[0] + h / 6.0 * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0]),
            s[1] + h / 6.0 * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1]),
        ]
    }

    /// The trapezoid rule, with the integrand as `impl Fn`.
    pub fn trapezoid(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
        let h = (b - a) / n as f64;
        let mut total = 0.5 * (f(a) + f(b));
        for i in 1..n {
            total += f(a + i as f64 * h);
        }
        total * h
    }

    /// A damped oscillator integrated with `rk4`, its closure capturing `k` and `c`.
    pub fn final_position(k: f64, c: f64, x0: f64, steps: usize) -> f64 {
        let mut state = [x0, 0.0];
        for _ in 0..steps {
            state = rk4(|s| [s[1], -k * s[0] - c * s[1]], state, 0.05);
        }
        state[0]
    }

    pub fn area(w: f64, b: f64) -> f64 {
        trapezoid(|x| (w * x).sin(), 0.0, b, 50)
    }
}

fn final_position_mirror<D: DualNum<f64> + Copy>(k: D, c: D, x0: D, steps: usize) -> D {
    let f = |s: [D; 2]| [s[1], -k * s[0] - c * s[1]];
    let h = 0.05;
    let mut s = [x0, D::zero()];
    for _ in 0..steps {
        let k1 = f(s);
        let k2 = f([s[0] + k1[0] * (0.5 * h), s[1] + k1[1] * (0.5 * h)]);
        let k3 = f([s[0] + k2[0] * (0.5 * h), s[1] + k2[1] * (0.5 * h)]);
        let k4 = f([s[0] + k3[0] * h, s[1] + k3[1] * h]);
        s = [
            s[0] + (k1[0] + k2[0] * 2.0 + k3[0] * 2.0 + k4[0]) * (h / 6.0),
            s[1] + (k1[1] + k2[1] * 2.0 + k3[1] * 2.0 + k4[1]) * (h / 6.0),
        ];
    }
    s[0]
}

fn area_mirror<D: DualNum<f64> + Copy>(w: D, b: D) -> D {
    let h = b / 50.0;
    let mut total = ((w * 0.0).sin() + (w * b).sin()) * 0.5;
    for i in 1..50 {
        total += (w * (h * i as f64)).sin();
    }
    total * h
}

#[test]
fn helpers_taking_closures_are_inlined_where_the_closure_is_known() {
    let mut next = xorshift(0x4c4);
    for _ in 0..10 {
        let p = random_point(&mut next, 3, 0.2, 2.0);
        let (dk, dc, dx0) = sim::final_position_grad(p[0], p[1], p[2], 40);
        check(
            |p| sim::final_position(p[0], p[1], p[2], 40),
            |p| final_position_mirror(p[0], p[1], p[2], 40),
            &p,
            &[dk, dc, dx0],
        );
        let (dw, db) = sim::area_grad(p[0], p[1]);
        check(
            |p| sim::area(p[0], p[1]),
            |p| area_mirror(p[0], p[1]),
            &p[..2],
            &[dw, db],
        );
    }
}
