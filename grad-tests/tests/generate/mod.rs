//! A deterministic generator of `#[differentiable]` test programs.
//!
//! The committed files under `tests/generated/` are this module's output, and the
//! `generated_sources` test keeps them equal to it (`UPDATE_GENERATED=1` rewrites them), so
//! this file is the source of truth for the generated tests.
//!
//! Every generated function comes twice: the `#[differentiable]` f64 function under test, and
//! a mirror over [`num_dual::Dual64`] (suffix `_dual`) computing the same value with the same
//! statements, for the forward-mode check. The mirror also reports, through its `margin`
//! argument, how far (in input units, to first order) the point is from a kink of `abs`,
//! `max`, `min`, `clamp`, `copysign` or `hypot`, so that the finite-difference check can skip
//! points where the function is not smooth within the stencil.
//!
//! [`long_function_seeded`] and other seeds of [`random_expressions`] explore beyond the
//! committed programs.
//!
//! Every other operation stays on a domain where it is smooth: square roots and logarithms of
//! `e² + k`, divisions by `e² + k`, `asin`/`acos`/`atanh` of `0.9 sin e`, `exp` of `sin e`, and
//! so on. The generator also tracks a crude bound on each subexpression's magnitude and on the
//! L1 norm of its gradient over the sample box `[-2, 2]^n`, and only builds what keeps both
//! small, so that no generated function oscillates too fast for finite differences.

use std::f64::consts::{LN_2, LN_10, PI};
use std::fmt::Write as _;

mod expansion;
mod programs;
#[allow(unused_imports)]
pub use programs::{
    Features, ProgramTree, RANDOM_PROGRAMS_COUNT, RANDOM_PROGRAMS_SEED, random_program_trees,
    random_programs, random_programs_with, render_plain_functions, render_programs,
    second_order_programs,
};

/// The seed and count of the committed `random_expressions` files.
pub const RANDOM_EXPRESSIONS_SEED: u64 = 0x6772_6164_0001;
pub const RANDOM_EXPRESSIONS_COUNT: usize = 150;
/// The statement count of the committed `long_function` files.
pub const LONG_FUNCTION_STATEMENTS: usize = 200;
/// The seed of [`long_function`].
const LONG_FUNCTION_SEED: u64 = 0x6772_6164_0200;

/// Largest bound on how far one residual step of the long function moves.
const LONG_STEP: f64 = 0.3;
/// Largest magnitude bound a generated subexpression may have.
const MAX_MAGNITUDE: f64 = 20.0;
/// Largest bound on the L1 norm of a subexpression's gradient.
const MAX_SLOPE: f64 = 20.0;

/// One generated program: the `#[differentiable]` functions and their dual-number mirrors.
pub struct Generated {
    pub functions: String,
    pub dual: String,
}

/// `count` functions `pub fn expr_K(x0: f64, x1: f64, x2: f64) -> f64` made of a few `let`
/// statements over random expression trees; later ones sometimes call earlier ones.
pub fn random_expressions(seed: u64, count: usize) -> Generated {
    let mut rng = Rng(seed);
    let mut callees: Vec<(String, Bound)> = Vec::new();
    let mut functions = header(
        "random_expressions",
        &format!("random_expressions({seed:#x}, {count})"),
    );
    let mut dual = header(
        "random_expressions_dual",
        &format!("random_expressions({seed:#x}, {count})"),
    );
    functions.push_str(
        "#[rustfmt::skip]\npub mod random_expressions {\n    use grad::differentiable;\n",
    );
    dual.push_str("#[rustfmt::skip]\npub mod random_expressions_dual {\n");
    dual.push_str("    use super::random_expressions::*;\n");
    dual.push_str(DUAL_PRELUDE);
    dual.push_str(EXPRESSION_TABLE_TYPES);
    let mut uses_scale = false;
    for k in 0..count {
        let name = format!("expr_{k}");
        let mut generator = FnGen::new(&mut rng, 3, callees.clone(), false);
        let body = generator.body();
        uses_scale |= generator.uses_scale;
        write_function(&mut functions, &mut dual, &name, 3, &body);
        callees.push((name, body.tail.bound));
    }
    if uses_scale {
        // The dual mirrors see it through `use super::random_expressions::*`.
        let _ = write!(functions, "{SCALE_ITEM}");
    }
    let _ = writeln!(
        dual,
        "\n    pub const EXPRESSIONS: [Expression; {count}] = ["
    );
    for k in 0..count {
        let _ = writeln!(
            dual,
            "        Expression {{ name: \"expr_{k}\", primal: expr_{k}, grad: expr_{k}_grad, \
             value_and_grad: expr_{k}_value_and_grad, vjp: expr_{k}_vjp, dual: expr_{k}_dual }},"
        );
    }
    dual.push_str("    ];\n}\n");
    functions.push_str("}\n");
    Generated { functions, dual }
}

/// One function `pub fn long_function(x0: f64, x1: f64, x2: f64, x3: f64) -> f64` of exactly
/// `statements` `let` statements, each combining earlier locals, returning a combination of
/// the last few.
pub fn long_function(statements: usize) -> Generated {
    long_function_seeded(LONG_FUNCTION_SEED, statements)
}

/// [`long_function`] from another seed, to explore beyond the committed program.
pub fn long_function_seeded(seed: u64, statements: usize) -> Generated {
    let mut rng = Rng(seed);
    let what = if seed == LONG_FUNCTION_SEED {
        format!("long_function({statements})")
    } else {
        format!("long_function_seeded({seed:#x}, {statements})")
    };
    let mut functions = header("long_function", &what);
    let mut dual = header("long_function_dual", &what);
    functions
        .push_str("#[rustfmt::skip]\npub mod long_function {\n    use grad::differentiable;\n");
    dual.push_str("#[rustfmt::skip]\npub mod long_function_dual {\n");
    dual.push_str(DUAL_PRELUDE);
    let mut generator = FnGen::new(&mut rng, 4, Vec::new(), true);
    let body = generator.long_body(statements);
    write_function(&mut functions, &mut dual, "long_function", 4, &body);
    if generator.uses_scale {
        let _ = write!(functions, "{SCALE_ITEM}");
        let _ = write!(dual, "{}", SCALE_ITEM.replace("pub const", "const"));
    }
    functions.push_str("}\n");
    dual.push_str("}\n");
    Generated { functions, dual }
}

fn header(file: &str, call: &str) -> String {
    format!(
        "// @generated by tests/generate/mod.rs, {call}: do not edit.\n\
         // Regenerate with `UPDATE_GENERATED=1 cargo test -p grad-tests --test generated_sources`.\n\
         // tests/generated/{file}.rs is `include!`d by a test, so rustfmt does not visit it.\n\n"
    )
}

/// A constant of the generated module, read as `SCALE + e`.
const SCALE_ITEM: &str = "\n    pub const SCALE: f64 = 0.75;\n";

/// Helpers of the dual-number mirrors: constants, the methods `DualNum` lacks, and the kinks,
/// which record how far the point is from them.
const DUAL_PRELUDE: &str = r#"    use num_dual::{Dual64, DualNum};
    use std::cell::Cell;
    use support::*;

    /// Not every program uses every helper.
    #[allow(dead_code)]
    mod support {
        use num_dual::{Dual64, DualNum};
        use std::cell::Cell;

        pub fn c(value: f64) -> Dual64 {
            Dual64::from(value)
        }

        /// Records how far the point is from a kink, in input units along the current
        /// direction: the gap between the kink's operands over how fast it closes. A kink
        /// that does not move with the inputs (`max(x2, 1.5)` called with `x2 = 1.5`) is no
        /// kink of the function.
        pub fn note(margin: &Cell<f64>, gap: f64, speed: f64) {
            if speed != 0.0 {
                margin.set(margin.get().min(gap / speed));
            }
        }

        pub fn d_abs(a: Dual64, margin: &Cell<f64>) -> Dual64 {
            note(margin, a.re.abs(), a.eps.abs());
            if a.re < 0.0 { -a } else { a }
        }

        pub fn d_max(a: Dual64, b: Dual64, margin: &Cell<f64>) -> Dual64 {
            note(margin, (a.re - b.re).abs(), (a.eps - b.eps).abs());
            if a.re >= b.re { a } else { b }
        }

        pub fn d_min(a: Dual64, b: Dual64, margin: &Cell<f64>) -> Dual64 {
            note(margin, (a.re - b.re).abs(), (a.eps - b.eps).abs());
            if a.re <= b.re { a } else { b }
        }

        pub fn d_clamp(a: Dual64, lo: Dual64, hi: Dual64, margin: &Cell<f64>) -> Dual64 {
            note(margin, (a.re - lo.re).abs(), (a.eps - lo.eps).abs());
            note(margin, (a.re - hi.re).abs(), (a.eps - hi.eps).abs());
            if a.re < lo.re { lo } else if a.re > hi.re { hi } else { a }
        }

        pub fn d_copysign(a: Dual64, sign: Dual64, margin: &Cell<f64>) -> Dual64 {
            note(margin, a.re.abs(), a.eps.abs());
            note(margin, sign.re.abs(), sign.eps.abs());
            if a.re.is_sign_negative() == sign.re.is_sign_negative() { a } else { -a }
        }

        // Not `(a * a + b * b).sqrt()`: its derivative is 0 * inf = NaN at the origin, which a
        // value such as `clamp(x, -1, 1) - x` reaches with a zero gradient.
        pub fn d_hypot(a: Dual64, b: Dual64, margin: &Cell<f64>) -> Dual64 {
            let r = a.re.hypot(b.re);
            note(margin, r, a.eps.hypot(b.eps));
            let eps = if r == 0.0 { 0.0 } else { (a.re * a.eps + b.re * b.eps) / r };
            Dual64::new(r, eps)
        }

        // num-dual's atan2 differentiates `atan(y / x)`, which is NaN where x = 0.
        pub fn d_atan2(y: Dual64, x: Dual64) -> Dual64 {
            let r2 = x.re * x.re + y.re * y.re;
            Dual64::new(y.re.atan2(x.re), (x.re * y.eps - y.re * x.eps) / r2)
        }

        pub fn d_log(a: Dual64, base: Dual64) -> Dual64 {
            a.ln() / base.ln()
        }

        pub fn d_powf(a: Dual64, exponent: Dual64) -> Dual64 {
            a.powd(exponent)
        }

        pub fn d_to_degrees(a: Dual64) -> Dual64 {
            a * (180.0 / std::f64::consts::PI)
        }

        pub fn d_to_radians(a: Dual64) -> Dual64 {
            a * (std::f64::consts::PI / 180.0)
        }
    }
"#;

const EXPRESSION_TABLE_TYPES: &str = r#"
    pub type Primal = fn(f64, f64, f64) -> f64;
    pub type Grad = fn(f64, f64, f64) -> (f64, f64, f64);
    pub type ValueAndGrad = fn(f64, f64, f64) -> (f64, (f64, f64, f64));
    pub type Vjp = fn(f64, f64, f64, f64) -> (f64, f64, f64);
    pub type Mirror = fn(Dual64, Dual64, Dual64, &Cell<f64>) -> Dual64;

    /// One generated function with its companions and its dual-number mirror.
    pub struct Expression {
        pub name: &'static str,
        pub primal: Primal,
        pub grad: Grad,
        pub value_and_grad: ValueAndGrad,
        pub vjp: Vjp,
        pub dual: Mirror,
    }
"#;

// ---------------------------------------------------------------------------------------------
// A small seeded PRNG (SplitMix64).

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        assert!(n > 0);
        (self.next_u64() % n as u64) as usize
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next_u64() % 100 < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// Expressions and statements.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            Op::Add | Op::Sub => 1,
            Op::Mul | Op::Div => 2,
        }
    }
}

#[derive(Clone, Debug)]
enum Expr {
    Var(String),
    Field(String, usize),
    /// A positive literal.
    Lit(f64),
    Const(String),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    /// A float method; `args[0]` is the receiver. `path` writes `f64::name(args..)`.
    Method {
        name: &'static str,
        path: bool,
        args: Vec<Expr>,
    },
    PowI {
        base: Box<Expr>,
        exp: i32,
        path: bool,
    },
    Call {
        name: String,
        args: Vec<Expr>,
    },
}

fn bin(op: Op, a: Expr, b: Expr) -> Expr {
    Expr::Bin(op, Box::new(a), Box::new(b))
}

impl Expr {
    fn is_leaf(&self) -> bool {
        matches!(
            self,
            Expr::Var(_) | Expr::Field(..) | Expr::Lit(_) | Expr::Const(_)
        )
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Bin(op, ..) => op.precedence(),
            Expr::Neg(_) => 3,
            // `*x2` of `x2: &f64`.
            Expr::Var(name) if name.starts_with('*') => 3,
            _ => 4,
        }
    }

    /// Whether the dual mirror of this expression records kink margins.
    fn uses_margin(&self) -> bool {
        match self {
            Expr::Var(_) | Expr::Field(..) | Expr::Lit(_) | Expr::Const(_) => false,
            Expr::Neg(a) => a.uses_margin(),
            Expr::Bin(_, a, b) => a.uses_margin() || b.uses_margin(),
            Expr::Method { name, args, .. } => {
                KINKS.contains(name) || args.iter().any(Expr::uses_margin)
            }
            Expr::PowI { base, .. } => base.uses_margin(),
            Expr::Call { .. } => true,
        }
    }

    /// Calls `f` with each name read, and the tuple field read if any.
    fn visit_names(&self, f: &mut dyn FnMut(&str, Option<usize>)) {
        match self {
            Expr::Var(name) => f(name, None),
            Expr::Field(name, index) => f(name, Some(*index)),
            Expr::Lit(_) | Expr::Const(_) => {}
            Expr::Neg(a) => a.visit_names(f),
            Expr::Bin(_, a, b) => {
                a.visit_names(f);
                b.visit_names(f);
            }
            Expr::Method { args, .. } | Expr::Call { args, .. } => {
                for arg in args {
                    arg.visit_names(f);
                }
            }
            Expr::PowI { base, .. } => base.visit_names(f),
        }
    }
}

/// The methods whose dual mirror records a kink margin.
const KINKS: &[&str] = &["abs", "max", "min", "clamp", "copysign", "hypot"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Primal,
    Dual,
    /// A program generic over `T: num_traits::Float + num_traits::FromPrimitive`, its float
    /// literals spelled as [`Lits`] says.
    Generic(Lits),
}

/// How a program generic over its float type `T` spells a float literal `c`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Lits {
    /// `T::from_f64(c).unwrap()` (`T::zero()` and `T::one()` for 0 and 1).
    #[default]
    FromF64,
    /// `c` as written, which grad converts to `T` in a function generic over exactly one float
    /// type.
    Bare,
    /// Some literals one way and some the other (by the literal's value).
    Mixed,
}

/// A float literal of a program generic over `T`.
fn generic_literal(value: f64, lits: Lits) -> String {
    let bare = match lits {
        Lits::FromF64 => false,
        Lits::Bare => true,
        // A fixed scramble of the value's bits: the same literal is always spelled alike.
        Lits::Mixed => value.to_bits().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 63 == 0,
    };
    if bare {
        literal(value)
    } else if value == 0.0 {
        "T::zero()".to_string()
    } else if value == 1.0 {
        "T::one()".to_string()
    } else {
        format!("T::from_f64({}).unwrap()", literal(value))
    }
}

/// A constant of a program generic over `T`: `f64::INFINITY` is `T::infinity()`, any other
/// `f64` constant `T::from_f64(C).unwrap()`.
fn generic_constant(name: &str) -> String {
    match name {
        "f64::INFINITY" => "T::infinity()".to_string(),
        "f64::NEG_INFINITY" => "T::neg_infinity()".to_string(),
        _ => format!("T::from_f64({name}).unwrap()"),
    }
}

fn literal(value: f64) -> String {
    let text = format!("{value:?}");
    assert!(
        !text.contains('e'),
        "literal {text} would print in exponent form"
    );
    text
}

fn wrap(e: &Expr, parens: bool, mode: Mode) -> String {
    let text = render(e, mode);
    if parens { format!("({text})") } else { text }
}

/// Whether `e` reads a differentiated struct's whole float field (`p.a`, `p.inner.b`,
/// `self.a`, `self.inner.b`) and is made of such fields, named constants (`SCALE`),
/// negations and binary operations alone: grad cannot see its type (FINDINGS.md, gen19 and
/// gen20).
fn fields_only(e: &Expr) -> bool {
    untyped(e) && reads_field(e)
}

/// `e` is made of whole float fields, named constants, negations and binary operations.
fn untyped(e: &Expr) -> bool {
    match e {
        Expr::Var(name) => matches!(
            name.as_str(),
            "p.a" | "p.inner.b" | "self.a" | "self.inner.b"
        ),
        Expr::Const(_) => true,
        Expr::Neg(a) => untyped(a),
        Expr::Bin(_, a, b) => untyped(a) && untyped(b),
        _ => false,
    }
}

fn reads_field(e: &Expr) -> bool {
    match e {
        Expr::Var(name) => matches!(
            name.as_str(),
            "p.a" | "p.inner.b" | "self.a" | "self.inner.b"
        ),
        Expr::Neg(a) => reads_field(a),
        Expr::Bin(_, a, b) => reads_field(a) || reads_field(b),
        _ => false,
    }
}

/// Whether the operation of `a` and `b` is one grad cannot type ([`fields_only`]).
fn fields_only_pair(a: &Expr, b: &Expr) -> bool {
    untyped(a) && untyped(b) && (reads_field(a) || reads_field(b))
}

fn render(e: &Expr, mode: Mode) -> String {
    match e {
        // A method's float field `self.k`, a constant: the mirror's `c(this.k)` (the mirror
        // takes the struct as `this`; `write_dual` spells `self.` as `this.`).
        // (Not a field of the differentiated `Weights`, `self.a`, which the mirror reads as it
        // is.)
        Expr::Var(name) if matches!(name.as_str(), "self.k" | "self.scale") => match mode {
            Mode::Primal => name.clone(),
            Mode::Dual => format!("c({name})"),
            Mode::Generic(_) => format!("T::from_f64({name}).unwrap()"),
        },
        // The typed local `prm: &Params` a method is called with outside the impl: the
        // mirror passes the constant itself.
        Expr::Var(name) if mode == Mode::Dual && name == "prm" => "PARAMS".to_string(),
        Expr::Var(name) => name.clone(),
        Expr::Field(name, index) => format!("{name}.{index}"),
        Expr::Lit(value) => match mode {
            Mode::Primal => literal(*value),
            Mode::Dual => format!("c({})", literal(*value)),
            Mode::Generic(lits) => generic_literal(*value, lits),
        },
        Expr::Const(name) => match mode {
            Mode::Primal => name.clone(),
            Mode::Dual => format!("c({name})"),
            Mode::Generic(_) => generic_constant(name),
        },
        // grad does not type an operation of a differentiated struct's float fields alone
        // (`p.a * p.inner.b`, `-p.a * p.a`, `-p.a` as a call's argument) as a float in a
        // condition, a `break` value, a call's argument, the function's value, or an untyped
        // local passed to a call: FINDINGS.md, gen19, "an operation of float fields alone";
        // nor one of fields and named constants in a condition (`(SCALE + p.a).tanh() > 0.0`:
        // FINDINGS.md, gen20). A literal operand types it: `-(p.a * 1.0)`, `(p.a * 1.0) *
        // p.inner.b`, `(SCALE * 1.0) + p.a` (the mirror's operations are exact without it).
        Expr::Neg(a) if mode == Mode::Primal && fields_only(a) => {
            format!("-({} * 1.0)", render(a, mode))
        }
        Expr::Neg(a) => format!("-{}", wrap(a, a.precedence() <= 3, mode)),
        Expr::Bin(op, a, b) if mode == Mode::Primal && fields_only_pair(a, b) => {
            let p = op.precedence();
            let left = format!("({} * 1.0)", render(a, mode));
            let right = wrap(b, b.precedence() <= p || matches!(**b, Expr::Neg(_)), mode);
            format!("{left} {} {right}", op.symbol())
        }
        Expr::Bin(op, a, b) => {
            let p = op.precedence();
            let left = wrap(a, a.precedence() < p || matches!(**a, Expr::Neg(_)), mode);
            let right = wrap(b, b.precedence() <= p || matches!(**b, Expr::Neg(_)), mode);
            format!("{left} {} {right}", op.symbol())
        }
        Expr::Method { name, path, args } => match mode {
            Mode::Primal if *path => format!("f64::{name}({})", render_args(args, mode)),
            Mode::Generic(_) if *path => format!("T::{name}({})", render_args(args, mode)),
            // `x2.sin()` of `x2: &f64`, which the method call dereferences.
            Mode::Primal | Mode::Generic(_) => format!(
                "{}.{name}({})",
                receiver(&args[0], mode),
                render_args(&args[1..], mode)
            ),
            Mode::Dual => render_dual_method(name, args),
        },
        Expr::PowI { base, exp, path } => match mode {
            Mode::Primal if *path => format!("f64::powi({}, {exp})", render(base, mode)),
            Mode::Generic(_) if *path => format!("T::powi({}, {exp})", render(base, mode)),
            Mode::Primal | Mode::Generic(_) => format!("{}.powi({exp})", receiver(base, mode)),
            Mode::Dual => format!("{}.powi({exp})", wrap(base, base.precedence() < 4, mode)),
        },
        Expr::Call { name, args } => match mode {
            Mode::Primal | Mode::Generic(_) => format!("{name}({})", render_args(args, mode)),
            Mode::Dual => {
                // `prog_3::<4>` has the mirror `prog_3_dual::<4>`; the mirror of a program
                // generic over its float type, `prog_3::<T>` or `prog_3::<f64>`, is not generic.
                let (base, generics) = name.split_at(name.find("::<").unwrap_or(name.len()));
                let generics = match generics {
                    "::<T>" | "::<f64>" => "",
                    other => other,
                };
                // A method's call `self.prog_3(..)` has the mirror `prog_3_dual(this, ..)`;
                // `Self::prog_3(..)` and `Params::prog_3(..)` (of an associated function, or
                // of a method with the struct first) the mirror `prog_3_dual(..)`.
                // A program of a module, `m3::prog_5`, has the free mirror `prog_5_dual`.
                let base = match base.split_once("::") {
                    Some((m, rest))
                        if m.len() > 1
                            && m.starts_with('m')
                            && m[1..].bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        rest
                    }
                    _ => base,
                };
                let (base, this) = match base.strip_prefix("self.") {
                    Some(base) => (base, "this, "),
                    None => (
                        ["Self::", "Params::"]
                            .iter()
                            .find_map(|p| base.strip_prefix(p))
                            .unwrap_or(base),
                        "",
                    ),
                };
                format!(
                    "{base}_dual{generics}({this}{}, margin)",
                    render_args(args, mode)
                )
            }
        },
    }
}

/// A method's receiver: `x2` of `*x2`, which the call dereferences.
fn receiver(e: &Expr, mode: Mode) -> String {
    match e {
        Expr::Var(name) if name.starts_with('*') => name[1..].to_string(),
        _ => wrap(e, e.precedence() < 4, mode),
    }
}

fn render_args(args: &[Expr], mode: Mode) -> String {
    args.iter()
        .map(|a| render(a, mode))
        .collect::<Vec<_>>()
        .join(", ")
}

fn render_dual_method(name: &str, args: &[Expr]) -> String {
    let receiver = || wrap(&args[0], args[0].precedence() < 4, Mode::Dual);
    let all = || render_args(args, Mode::Dual);
    match (name, args.get(1)) {
        ("powf", Some(Expr::Lit(v))) | ("log", Some(Expr::Lit(v))) => {
            format!("{}.{name}({})", receiver(), literal(*v))
        }
        ("powf", _) => format!("d_powf({})", all()),
        ("log", _) => format!("d_log({})", all()),
        ("to_degrees" | "to_radians" | "atan2", _) => format!("d_{name}({})", all()),
        _ if KINKS.contains(&name) => format!("d_{name}({}, margin)", all()),
        _ => format!(
            "{}.{name}({})",
            receiver(),
            render_args(&args[1..], Mode::Dual)
        ),
    }
}

#[derive(Clone, Debug)]
enum Pat {
    Name { name: String, mutable: bool },
    Pair([(String, bool); 2]),
}

#[derive(Clone, Debug)]
enum Init {
    Expr(Expr),
    Pair(Expr, Expr),
    Block(Vec<Stmt>, Expr),
}

#[derive(Clone, Debug)]
enum Stmt {
    Const {
        name: String,
        value: f64,
    },
    Let {
        pat: Pat,
        typed: bool,
        init: Init,
    },
    Assign {
        target: String,
        op: Option<Op>,
        value: Expr,
    },
    Swap {
        targets: [String; 2],
        values: [Expr; 2],
    },
}

impl Stmt {
    fn uses_margin(&self) -> bool {
        match self {
            Stmt::Const { .. } => false,
            Stmt::Let { init, .. } => match init {
                Init::Expr(e) => e.uses_margin(),
                Init::Pair(a, b) => a.uses_margin() || b.uses_margin(),
                Init::Block(stmts, tail) => {
                    stmts.iter().any(Stmt::uses_margin) || tail.uses_margin()
                }
            },
            Stmt::Assign { value, .. } => value.uses_margin(),
            Stmt::Swap { values, .. } => values.iter().any(Expr::uses_margin),
        }
    }
}

fn render_stmt(stmt: &Stmt, mode: Mode, indent: usize, out: &mut String) {
    let pad = "    ".repeat(indent);
    match stmt {
        Stmt::Const { name, value } => {
            let _ = writeln!(out, "{pad}const {name}: f64 = {};", literal(*value));
        }
        Stmt::Let { pat, typed, init } => {
            let pat = match pat {
                Pat::Name { name, mutable } => {
                    format!("{}{name}", if *mutable { "mut " } else { "" })
                }
                Pat::Pair(names) => {
                    let one =
                        |(n, m): &(String, bool)| format!("{}{n}", if *m { "mut " } else { "" });
                    format!("({}, {})", one(&names[0]), one(&names[1]))
                }
            };
            let ty = match (typed, mode, pat.starts_with('(')) {
                (false, ..) => "",
                (true, Mode::Primal, false) => ": f64",
                (true, Mode::Dual, false) => ": Dual64",
                (true, Mode::Generic(_), false) => ": T",
                (true, Mode::Primal, true) => ": (f64, f64)",
                (true, Mode::Dual, true) => ": (Dual64, Dual64)",
                (true, Mode::Generic(_), true) => ": (T, T)",
            };
            let init = match init {
                Init::Expr(e) => render(e, mode),
                Init::Pair(a, b) => format!("({}, {})", render(a, mode), render(b, mode)),
                Init::Block(stmts, tail) => {
                    let mut block = String::from("{\n");
                    for s in stmts {
                        render_stmt(s, mode, indent + 1, &mut block);
                    }
                    let _ = write!(block, "{pad}    {}\n{pad}}}", render(tail, mode));
                    block
                }
            };
            let _ = writeln!(out, "{pad}let {pat}{ty} = {init};");
        }
        Stmt::Assign { target, op, value } => {
            let op = op.map_or("", Op::symbol);
            let _ = writeln!(out, "{pad}{target} {op}= {};", render(value, mode));
        }
        Stmt::Swap { targets, values } => {
            let _ = writeln!(
                out,
                "{pad}({}, {}) = ({}, {});",
                targets[0],
                targets[1],
                render(&values[0], mode),
                render(&values[1], mode)
            );
        }
    }
}

struct Body {
    params: usize,
    stmts: Vec<Stmt>,
    tail: Node,
}

fn write_function(
    functions: &mut String,
    dual: &mut String,
    name: &str,
    params: usize,
    body: &Body,
) {
    assert_eq!(params, body.params);
    let list = |ty: &str| {
        (0..params)
            .map(|i| format!("x{i}: {ty}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        functions,
        "\n    #[differentiable]\n    pub fn {name}({}) -> f64 {{",
        list("f64")
    );
    let margin = if body.stmts.iter().any(Stmt::uses_margin) || body.tail.expr.uses_margin() {
        "margin"
    } else {
        "_margin"
    };
    let _ = writeln!(
        dual,
        "\n    pub fn {name}_dual({}, {margin}: &Cell<f64>) -> Dual64 {{",
        list("Dual64")
    );
    for stmt in &body.stmts {
        render_stmt(stmt, Mode::Primal, 2, functions);
        render_stmt(stmt, Mode::Dual, 2, dual);
    }
    let _ = writeln!(
        functions,
        "        {}\n    }}",
        render(&body.tail.expr, Mode::Primal)
    );
    let _ = writeln!(
        dual,
        "        {}\n    }}",
        render(&body.tail.expr, Mode::Dual)
    );
}

// ---------------------------------------------------------------------------------------------
// Bounds.

/// `|value| <= mag` and `|gradient|_1 <= slope` over the sample box.
#[derive(Clone, Copy, Debug)]
struct Bound {
    mag: f64,
    slope: f64,
}

impl Bound {
    fn fits(self) -> bool {
        self.mag.is_finite() && self.mag <= MAX_MAGNITUDE && self.slope <= MAX_SLOPE
    }
}

#[derive(Clone, Debug)]
struct Node {
    expr: Expr,
    bound: Bound,
}

fn node(expr: Expr, mag: f64, slope: f64) -> Node {
    Node {
        expr,
        bound: Bound { mag, slope },
    }
}

/// The largest `|2b / (b² + k)²|`, the derivative of `1 / (b² + k)`.
fn inverse_square_slope(k: f64) -> f64 {
    let b = (k / 3.0).sqrt();
    2.0 * b / ((b * b + k) * (b * b + k))
}

fn ln_mag(lo: f64, hi: f64) -> f64 {
    lo.ln().abs().max(hi.ln().abs())
}

/// Literals for `e * L`, `e + L`, `L - e`.
const LITERALS: &[f64] = &[
    0.1, 0.25, 0.3, 0.35, 0.5, 0.65, 0.75, 0.8, 1.2, 1.25, 1.5, 2.0, 2.5,
];
/// `std` constants for `e * C`.
const PATH_CONSTANTS: &[(&str, f64)] = &[
    ("std::f64::consts::FRAC_PI_4", std::f64::consts::FRAC_PI_4),
    ("std::f64::consts::LN_2", LN_2),
    ("std::f64::consts::FRAC_1_PI", std::f64::consts::FRAC_1_PI),
    (
        "core::f64::consts::FRAC_1_SQRT_2",
        std::f64::consts::FRAC_1_SQRT_2,
    ),
];
/// The value of the generated modules' `pub const SCALE: f64`.
const SCALE: f64 = 0.75;
/// Nice literals to scale an expression down into bounds, largest first.
const SCALES: &[f64] = &[0.5, 0.25, 0.1, 0.05, 0.02, 0.01];

// ---------------------------------------------------------------------------------------------
// The generator of one function.

struct Binding {
    name: String,
    bound: Bound,
    /// A tuple local `let t = (a, b);`, read through `t.0` and `t.1`.
    pair: Option<[Bound; 2]>,
    /// Which of a tuple local's fields were read.
    fields_read: [bool; 2],
    mutable: bool,
    mutated: bool,
    /// Read at least once.
    used: bool,
    /// Assigned since the last read.
    unread_write: bool,
    input: bool,
    /// Hidden by a later binding of the same name.
    shadowed: bool,
    /// The binding this one hides.
    shadows: Option<usize>,
}

impl Binding {
    /// Every tuple field must be read too. TODO: drop this rule once grad is fixed: it
    /// leaves out the computation of a dead value (`let t = (x.sin(), x * C); t.0`, or
    /// `let _u = x * C;`) but keeps the `const C` it read, which then warns as never used
    /// in the generated companions, although the function itself is fine.
    fn needs_read(&self) -> bool {
        !self.used || self.unread_write || (self.pair.is_some() && self.fields_read != [true; 2])
    }
}

struct FnGen<'r> {
    rng: &'r mut Rng,
    params: usize,
    env: Vec<Binding>,
    /// `env.len()` where each open scope starts.
    scopes: Vec<usize>,
    callees: Vec<(String, Bound)>,
    locals: usize,
    consts: usize,
    /// The long function: only `let`s, reading recent locals.
    long: bool,
    /// Whether the function reads the module's `SCALE`.
    uses_scale: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Add,
    Sub,
    Mul,
    Div,
    Literal,
    Neg,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Atan2,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Exp,
    Exp2,
    ExpM1,
    Ln,
    Log,
    Log2,
    Log10,
    Ln1p,
    Sqrt,
    Cbrt,
    PowI,
    PowINeg,
    PowF,
    Abs,
    Hypot,
    MulAdd,
    Recip,
    Max,
    Min,
    Clamp,
    Copysign,
    ToDegrees,
    ToRadians,
    LiteralReceiver,
    Call,
}

const KIND_WEIGHTS: &[(Kind, usize)] = &[
    (Kind::Add, 8),
    (Kind::Sub, 6),
    (Kind::Mul, 8),
    (Kind::Div, 4),
    (Kind::Literal, 5),
    (Kind::Neg, 2),
    (Kind::Sin, 3),
    (Kind::Cos, 3),
    (Kind::Tan, 2),
    (Kind::Asin, 2),
    (Kind::Acos, 2),
    (Kind::Atan, 2),
    (Kind::Atan2, 2),
    (Kind::Sinh, 2),
    (Kind::Cosh, 2),
    (Kind::Tanh, 3),
    (Kind::Asinh, 2),
    (Kind::Acosh, 2),
    (Kind::Atanh, 2),
    (Kind::Exp, 3),
    (Kind::Exp2, 2),
    (Kind::ExpM1, 2),
    (Kind::Ln, 2),
    (Kind::Log, 2),
    (Kind::Log2, 1),
    (Kind::Log10, 1),
    (Kind::Ln1p, 2),
    (Kind::Sqrt, 2),
    (Kind::Cbrt, 2),
    (Kind::PowI, 3),
    (Kind::PowINeg, 1),
    (Kind::PowF, 2),
    (Kind::Abs, 2),
    (Kind::Hypot, 2),
    (Kind::MulAdd, 2),
    (Kind::Recip, 2),
    (Kind::Max, 2),
    (Kind::Min, 2),
    (Kind::Clamp, 2),
    (Kind::Copysign, 1),
    (Kind::ToDegrees, 1),
    (Kind::ToRadians, 1),
    (Kind::LiteralReceiver, 3),
    (Kind::Call, 12),
];

/// Whether two expressions are the same computation, whether written in method or path form.
fn same(a: &Expr, b: &Expr) -> bool {
    render(a, Mode::Dual) == render(b, Mode::Dual)
}

impl<'r> FnGen<'r> {
    fn new(rng: &'r mut Rng, params: usize, callees: Vec<(String, Bound)>, long: bool) -> Self {
        let env = (0..params)
            .map(|i| Binding {
                name: format!("x{i}"),
                bound: Bound {
                    mag: 2.0,
                    slope: 1.0,
                },
                pair: None,
                mutable: false,
                mutated: false,
                used: false,
                fields_read: [false; 2],
                unread_write: false,
                input: true,
                shadowed: false,
                shadows: None,
            })
            .collect();
        FnGen {
            rng,
            params,
            env,
            scopes: vec![0],
            callees,
            locals: 0,
            consts: 0,
            long,
            uses_scale: false,
        }
    }

    // --- bindings -----------------------------------------------------------------------

    fn fresh(&mut self) -> String {
        self.locals += 1;
        format!("v{}", self.locals - 1)
    }

    fn lookup(&self, name: &str) -> usize {
        self.env
            .iter()
            .rposition(|b| b.name == name && !b.shadowed)
            .unwrap_or_else(|| panic!("generator: `{name}` is not in scope"))
    }

    fn bind(&mut self, name: String, bound: Bound, pair: Option<[Bound; 2]>, mutable: bool) {
        let shadows = self.env.iter().rposition(|b| b.name == name && !b.shadowed);
        if let Some(i) = shadows {
            self.env[i].shadowed = true;
        }
        self.env.push(Binding {
            name,
            bound,
            pair,
            mutable,
            mutated: false,
            used: false,
            fields_read: [false; 2],
            unread_write: false,
            input: false,
            shadowed: false,
            shadows,
        });
    }

    fn pop_scope(&mut self) {
        let start = self.scopes.pop().expect("an open scope");
        while self.env.len() > start {
            let b = self.env.pop().expect("a binding");
            if let Some(i) = b.shadows {
                self.env[i].shadowed = false;
            }
        }
    }

    /// Marks every binding `e` reads as read.
    fn read(&mut self, e: &Expr) {
        let mut names = Vec::new();
        e.visit_names(&mut |n, field| names.push((n.to_string(), field)));
        for (name, field) in names {
            let i = self.lookup(&name);
            self.env[i].used = true;
            self.env[i].unread_write = false;
            if let Some(f) = field {
                self.env[i].fields_read[f] = true;
            }
        }
    }

    fn visible(&self) -> Vec<usize> {
        (0..self.env.len())
            .filter(|&i| !self.env[i].shadowed)
            .collect()
    }

    fn leaf_of(&mut self, i: usize) -> Node {
        let b = &self.env[i];
        match b.pair {
            Some(bounds) => {
                let which = self.rng.below(2);
                Node {
                    expr: Expr::Field(b.name.clone(), which),
                    bound: bounds[which],
                }
            }
            None => Node {
                expr: Expr::Var(b.name.clone()),
                bound: b.bound,
            },
        }
    }

    fn leaf(&mut self) -> Node {
        let visible = self.visible();
        if self.long {
            // A parameter, or a recent or any earlier local put through sin, cos or tanh:
            // whatever a local's size, the leaf stays within [-1, 1].
            let locals: Vec<usize> = visible
                .iter()
                .copied()
                .filter(|&i| !self.env[i].input)
                .collect();
            let roll = self.rng.below(100);
            let i = if locals.is_empty() || roll < 25 {
                let x = self.rng.below(self.params);
                return self.leaf_of(x);
            } else if roll < 75 {
                let recent = &locals[locals.len().saturating_sub(8)..];
                self.rng.pick(recent)
            } else {
                self.rng.pick(&locals)
            };
            // Not tanh: it saturates to exactly ±1 on the larger locals.
            let leaf = self.leaf_of(i).expr;
            let name = self.rng.pick(&["sin", "cos"]);
            let e = self.method(name, vec![leaf]);
            return node(e, 1.0, 1.0);
        }
        let i = {
            let needy: Vec<usize> = visible
                .iter()
                .copied()
                .filter(|&i| self.env[i].needs_read())
                .collect();
            if !needy.is_empty() && self.rng.percent(40) {
                self.rng.pick(&needy)
            } else {
                self.rng.pick(&visible)
            }
        };
        self.leaf_of(i)
    }

    // --- expressions ----------------------------------------------------------------------

    fn method(&mut self, name: &'static str, args: Vec<Expr>) -> Expr {
        // Clippy's type-certainty check behind some method lints walks every `let` a
        // receiver depends on, once per path through them: on `v.max(w)` (also `atan2`,
        // `hypot`, `powf`, `log`, `copysign`) late in the long function, `cargo clippy`
        // runs for hours. The path form `f64::max(v, w)` is not checked.
        let path = self.rng.percent(30)
            || (self.long
                && ["atan2", "hypot", "max", "min", "powf", "log", "copysign"].contains(&name));
        Expr::Method { name, path, args }
    }

    fn powi(&mut self, base: Expr, exp: i32) -> Expr {
        Expr::PowI {
            base: Box::new(base),
            exp,
            path: self.rng.percent(30),
        }
    }

    fn lit(&mut self) -> f64 {
        self.rng.pick(LITERALS)
    }

    /// `sin e`, `cos e` or `tanh e`: within [-1, 1], with `e`'s slope.
    fn squash(&mut self, a: Node) -> Node {
        let name = self.rng.pick(&["sin", "cos", "tanh"]);
        let e = self.method(name, vec![a.expr]);
        node(e, 1.0, a.bound.slope)
    }

    /// `e² + k`, as `e * e + k` or `e.powi(2) + k`: within [k, mag² + k].
    fn positive(&mut self, a: Node, k: f64) -> Node {
        let Bound { mag, slope } = a.bound;
        let square = if a.expr.is_leaf() && self.rng.percent(60) {
            bin(Op::Mul, a.expr.clone(), a.expr)
        } else {
            self.powi(a.expr, 2)
        };
        node(
            bin(Op::Add, square, Expr::Lit(k)),
            mag * mag + k,
            2.0 * mag * slope,
        )
    }

    fn child_depth(&mut self, depth: usize) -> usize {
        if self.rng.percent(65) {
            depth - 1
        } else {
            self.rng.below(depth)
        }
    }

    fn child(&mut self, depth: usize) -> Node {
        let d = self.child_depth(depth);
        self.expr(d)
    }

    fn expr(&mut self, depth: usize) -> Node {
        if depth == 0 || self.rng.percent(8) {
            return self.leaf();
        }
        for _ in 0..12 {
            if let Some(n) = self.operation(depth)
                && n.bound.fits()
            {
                return n;
            }
        }
        self.fallback()
    }

    /// A leaf, scaled into bounds if needed, under `sin`.
    fn fallback(&mut self) -> Node {
        let mut n = self.leaf();
        if !n.bound.fits() {
            let room = (MAX_MAGNITUDE / n.bound.mag).min(MAX_SLOPE / n.bound.slope);
            let scale = SCALES.iter().copied().find(|s| *s <= room).unwrap_or(0.001);
            n = node(
                bin(Op::Mul, n.expr, Expr::Lit(scale)),
                n.bound.mag * scale,
                n.bound.slope * scale,
            );
        }
        let e = self.method("sin", vec![n.expr]);
        node(e, 1.0, n.bound.slope)
    }

    fn kind(&mut self) -> Kind {
        let total: usize = KIND_WEIGHTS.iter().map(|(_, w)| w).sum();
        loop {
            let mut roll = self.rng.below(total);
            let kind = KIND_WEIGHTS
                .iter()
                .find(|(_, weight)| {
                    let hit = roll < *weight;
                    roll = roll.saturating_sub(*weight);
                    hit
                })
                .map(|(kind, _)| *kind)
                .expect("a kind");
            // The finite-difference check of the long function needs points clear of every
            // kink, so it gets a fifth as many.
            let kink = matches!(
                kind,
                Kind::Abs | Kind::Hypot | Kind::Max | Kind::Min | Kind::Clamp | Kind::Copysign
            );
            if !(self.long && kink && self.rng.percent(80)) {
                return kind;
            }
        }
    }

    /// One random operation over children of depth below `depth`; `None` to retry.
    fn operation(&mut self, depth: usize) -> Option<Node> {
        let kind = self.kind();
        let unary = |g: &mut Self, name: &'static str, a: Node, mag: f64, slope: f64| {
            let e = g.method(name, vec![a.expr]);
            Some(node(e, mag, slope))
        };
        match kind {
            Kind::Add | Kind::Sub => {
                let (a, b) = (self.child(depth), self.child(depth));
                let op = if matches!(kind, Kind::Add) {
                    Op::Add
                } else {
                    Op::Sub
                };
                if same(&a.expr, &b.expr) {
                    return None;
                }
                let (ab, bb) = (a.bound, b.bound);
                Some(node(
                    bin(op, a.expr, b.expr),
                    ab.mag + bb.mag,
                    ab.slope + bb.slope,
                ))
            }
            Kind::Mul => {
                let (a, b) = (self.child(depth), self.child(depth));
                let (ab, bb) = (a.bound, b.bound);
                Some(node(
                    bin(Op::Mul, a.expr, b.expr),
                    ab.mag * bb.mag,
                    ab.slope * bb.mag + ab.mag * bb.slope,
                ))
            }
            Kind::Div => {
                let (a, b) = (self.child(depth), self.child(depth));
                let ab = a.bound;
                if self.rng.percent(70) {
                    // a / (b² + k)
                    let k = self.rng.pick(&[0.5, 1.0, 1.5]);
                    // d/db 1/(b² + k) is at most inverse_square_slope(k) times b's slope.
                    let bs = b.bound.slope;
                    let den = self.positive(b, k);
                    Some(node(
                        bin(Op::Div, a.expr, den.expr),
                        ab.mag / k,
                        ab.slope / k + ab.mag * inverse_square_slope(k) * bs,
                    ))
                } else {
                    // a / (squash(b) + 2), the denominator within [1, 3]
                    let bs = b.bound.slope;
                    let s = self.squash(b);
                    let den = bin(Op::Add, s.expr, Expr::Lit(2.0));
                    Some(node(
                        bin(Op::Div, a.expr, den),
                        ab.mag,
                        ab.slope + ab.mag * bs,
                    ))
                }
            }
            Kind::Literal => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                let l = self.lit();
                Some(match self.rng.below(8) {
                    0 => node(bin(Op::Mul, a.expr, Expr::Lit(l)), mag * l, slope * l),
                    6 => {
                        let (name, value) = self.rng.pick(PATH_CONSTANTS);
                        let c = Expr::Const(name.to_string());
                        node(bin(Op::Mul, a.expr, c), mag * value, slope * value)
                    }
                    7 => {
                        // A constant of the generated module, whose type grad cannot see.
                        self.uses_scale = true;
                        let c = Expr::Const("SCALE".to_string());
                        node(bin(Op::Add, c, a.expr), mag + SCALE, slope)
                    }
                    1 => node(bin(Op::Mul, Expr::Lit(l), a.expr), mag * l, slope * l),
                    2 => node(bin(Op::Add, a.expr, Expr::Lit(l)), mag + l, slope),
                    3 => node(bin(Op::Sub, Expr::Lit(l), a.expr), mag + l, slope),
                    4 => node(bin(Op::Sub, a.expr, Expr::Lit(l)), mag + l, slope),
                    _ => {
                        let d = self.rng.pick(&[1.5, 2.0, 3.0, 4.0]);
                        node(bin(Op::Div, a.expr, Expr::Lit(d)), mag / d, slope / d)
                    }
                })
            }
            Kind::Neg => {
                let a = self.child(depth);
                if matches!(a.expr, Expr::Neg(_)) {
                    return None;
                }
                Some(node(
                    Expr::Neg(Box::new(a.expr)),
                    a.bound.mag,
                    a.bound.slope,
                ))
            }
            Kind::Sin | Kind::Cos | Kind::Tanh => {
                let a = self.child(depth);
                let name = match kind {
                    Kind::Sin => "sin",
                    Kind::Cos => "cos",
                    _ => "tanh",
                };
                let slope = a.bound.slope;
                unary(self, name, a, 1.0, slope)
            }
            Kind::Tan => {
                // tan(1.2 squash(a)): the argument stays within ±1.2 < π/2.
                let a = self.child(depth);
                let slope = a.bound.slope;
                let s = self.squash(a);
                let arg = node(bin(Op::Mul, s.expr, Expr::Lit(1.2)), 1.2, 1.2 * slope);
                let t = 1.2f64.tan();
                unary(self, "tan", arg, t, 1.2 * (1.0 + t * t) * slope)
            }
            Kind::Asin | Kind::Acos | Kind::Atanh => {
                let a = self.child(depth);
                let slope = a.bound.slope;
                let s = self.squash(a);
                let arg = node(bin(Op::Mul, s.expr, Expr::Lit(0.9)), 0.9, 0.9 * slope);
                match kind {
                    Kind::Asin => unary(self, "asin", arg, PI / 2.0, 0.9 / 0.19f64.sqrt() * slope),
                    Kind::Acos => unary(self, "acos", arg, PI, 0.9 / 0.19f64.sqrt() * slope),
                    _ => unary(self, "atanh", arg, 0.9f64.atanh(), 0.9 / 0.19 * slope),
                }
            }
            Kind::Atan => {
                let a = self.child(depth);
                let slope = a.bound.slope;
                unary(self, "atan", a, PI / 2.0, slope)
            }
            Kind::Atan2 => {
                let (a, b) = (self.child(depth), self.child(depth));
                let k = self.rng.pick(&[0.5, 1.0]);
                let (ab, bb) = (a.bound, b.bound);
                let p = self.positive(b, k);
                let slope = ab.slope / k + bb.mag * bb.slope / k;
                let args = if self.rng.percent(50) {
                    vec![a.expr, p.expr]
                } else {
                    vec![p.expr, a.expr]
                };
                let e = self.method("atan2", args);
                Some(node(e, PI, slope))
            }
            Kind::Sinh | Kind::Cosh => {
                let a = self.child(depth);
                let slope = a.bound.slope;
                let l = self.rng.pick(&[1.0, 1.5, 2.0]);
                let s = self.squash(a);
                let arg = if l == 1.0 {
                    s.expr
                } else {
                    bin(Op::Mul, s.expr, Expr::Lit(l))
                };
                let arg = node(arg, l, l * slope);
                if matches!(kind, Kind::Sinh) {
                    unary(self, "sinh", arg, l.sinh(), l * l.cosh() * slope)
                } else {
                    unary(self, "cosh", arg, l.cosh(), l * l.sinh() * slope)
                }
            }
            Kind::Asinh => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                unary(self, "asinh", a, mag.asinh(), slope)
            }
            Kind::Acosh => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                let k = self.rng.pick(&[1.5, 2.0]);
                let p = self.positive(a, k);
                unary(
                    self,
                    "acosh",
                    p,
                    (mag * mag + k).acosh(),
                    2.0 * mag * slope / (k * k - 1.0).sqrt(),
                )
            }
            Kind::Exp | Kind::Exp2 | Kind::ExpM1 => {
                let a = self.child(depth);
                let slope = a.bound.slope;
                let s = self.squash(a);
                let e1 = std::f64::consts::E;
                match kind {
                    Kind::Exp => unary(self, "exp", s, e1, e1 * slope),
                    Kind::Exp2 => unary(self, "exp2", s, 2.0, 2.0 * LN_2 * slope),
                    _ => unary(self, "exp_m1", s, e1 - 1.0, e1 * slope),
                }
            }
            Kind::Ln | Kind::Sqrt => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                let k = self.rng.pick(&[0.5, 1.0, 2.0]);
                let p = self.positive(a, k);
                let hi = mag * mag + k;
                if matches!(kind, Kind::Ln) {
                    unary(self, "ln", p, ln_mag(k, hi), slope / k.sqrt())
                } else {
                    unary(self, "sqrt", p, hi.sqrt(), slope)
                }
            }
            Kind::Log => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                let p = self.positive(a, 1.0);
                let top = (mag * mag + 1.0).ln();
                if self.rng.percent(50) {
                    let base = self.rng.pick(&[2.0, 3.0, 10.0]);
                    let e = self.method("log", vec![p.expr, Expr::Lit(base)]);
                    Some(node(e, top / base.ln(), slope / base.ln()))
                } else {
                    let b = self.child(depth);
                    let bs = b.bound.slope;
                    let base = self.positive(b, 2.0);
                    let e = self.method("log", vec![p.expr, base.expr]);
                    let s = slope / LN_2 + top / (LN_2 * LN_2) * bs / 2f64.sqrt();
                    Some(node(e, top / LN_2, s))
                }
            }
            Kind::Log2 | Kind::Log10 => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                let p = self.positive(a, 1.0);
                let top = (mag * mag + 1.0).ln();
                if matches!(kind, Kind::Log2) {
                    unary(self, "log2", p, top / LN_2, slope / LN_2)
                } else {
                    unary(self, "log10", p, top / LN_10, slope / LN_10)
                }
            }
            Kind::Ln1p => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                if self.rng.percent(50) {
                    let sq = if a.expr.is_leaf() {
                        bin(Op::Mul, a.expr.clone(), a.expr)
                    } else {
                        self.powi(a.expr, 2)
                    };
                    let e = self.method("ln_1p", vec![sq]);
                    Some(node(e, (mag * mag).ln_1p(), slope))
                } else {
                    // ln(1 + squash(a) / 2): the argument stays within ±0.5.
                    let s = self.squash(a);
                    let arg = bin(Op::Mul, s.expr, Expr::Lit(0.5));
                    let e = self.method("ln_1p", vec![arg]);
                    Some(node(e, 2f64.ln(), slope))
                }
            }
            Kind::Cbrt => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                if self.rng.percent(50) {
                    let k = self.rng.pick(&[0.5, 1.0]);
                    let p = self.positive(a, k);
                    let s = 2.0 / 3.0 * mag * k.powf(-2.0 / 3.0) * slope;
                    unary(self, "cbrt", p, (mag * mag + k).cbrt(), s)
                } else {
                    let s = self.squash(a);
                    let arg = node(bin(Op::Add, s.expr, Expr::Lit(2.0)), 3.0, slope);
                    unary(self, "cbrt", arg, 3f64.cbrt(), slope / 3.0)
                }
            }
            Kind::PowI => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                let n = self.rng.pick(&[2, 3]);
                let e = self.powi(a.expr, n);
                Some(node(e, mag.powi(n), f64::from(n) * mag.powi(n - 1) * slope))
            }
            Kind::PowINeg => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                let n = self.rng.pick(&[-1, -2, -3]);
                let p = self.positive(a, 1.0);
                let e = self.powi(p.expr, n);
                Some(node(e, 1.0, f64::from(-n) * 2.0 * mag * slope))
            }
            Kind::PowF => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                let k = self.rng.pick(&[0.5, 1.0]);
                let hi = mag * mag + k;
                let p = self.positive(a, k);
                if self.rng.percent(40) {
                    let l = self.rng.pick(&[0.3, 0.5, 1.5, 2.5]);
                    let d = l * k.powf(l - 1.0).max(hi.powf(l - 1.0));
                    let e = self.method("powf", vec![p.expr, Expr::Lit(l)]);
                    Some(node(e, hi.powf(l), d * 2.0 * mag * slope))
                } else {
                    // An exponent within [-1, 1].
                    let b = self.child(depth);
                    let bs = b.bound.slope;
                    let s = self.squash(b);
                    let mag_out = hi.max(1.0 / k);
                    let dy = (1.0 / (k * k)).max(1.0);
                    let slope_out = dy * 2.0 * mag * slope + ln_mag(k, hi) * mag_out * bs;
                    let e = self.method("powf", vec![p.expr, s.expr]);
                    Some(node(e, mag_out, slope_out))
                }
            }
            Kind::Abs => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                unary(self, "abs", a, mag, slope)
            }
            Kind::Hypot | Kind::Max | Kind::Min | Kind::Copysign => {
                let (a, b) = (self.child(depth), self.child(depth));
                if same(&a.expr, &b.expr) {
                    return None;
                }
                let (ab, bb) = (a.bound, b.bound);
                let (name, mag, slope) = match kind {
                    Kind::Hypot => ("hypot", ab.mag + bb.mag, ab.slope + bb.slope),
                    Kind::Max => ("max", ab.mag.max(bb.mag), ab.slope.max(bb.slope)),
                    Kind::Min => ("min", ab.mag.max(bb.mag), ab.slope.max(bb.slope)),
                    _ => ("copysign", ab.mag, ab.slope),
                };
                let e = self.method(name, vec![a.expr, b.expr]);
                Some(node(e, mag, slope))
            }
            Kind::MulAdd => {
                let (a, b, c) = (self.child(depth), self.child(depth), self.child(depth));
                let (ab, bb, cb) = (a.bound, b.bound, c.bound);
                let e = self.method("mul_add", vec![a.expr, b.expr, c.expr]);
                Some(node(
                    e,
                    ab.mag * bb.mag + cb.mag,
                    ab.slope * bb.mag + ab.mag * bb.slope + cb.slope,
                ))
            }
            Kind::Recip => {
                let a = self.child(depth);
                let Bound { mag: _, slope } = a.bound;
                let k = self.rng.pick(&[0.5, 1.0]);
                let p = self.positive(a, k);
                unary(self, "recip", p, 1.0 / k, inverse_square_slope(k) * slope)
            }
            Kind::Clamp => {
                let a = self.child(depth);
                let ab = a.bound;
                if self.rng.percent(50) {
                    let lo = self.rng.pick(&[0.5, 1.0, 1.5]);
                    let hi = self.rng.pick(&[0.5, 1.0, 1.5]);
                    let args = vec![a.expr, Expr::Neg(Box::new(Expr::Lit(lo))), Expr::Lit(hi)];
                    let e = self.method("clamp", args);
                    Some(node(e, ab.mag.min(lo.max(hi)), ab.slope))
                } else {
                    // Bounds within [-2.5, -0.5] and [0.5, 2.5], so lo < hi.
                    let (b, c) = (self.child(depth), self.child(depth));
                    let slope = ab.slope.max(b.bound.slope).max(c.bound.slope);
                    let lo = self.squash(b);
                    let hi = self.squash(c);
                    let lo = bin(Op::Sub, lo.expr, Expr::Lit(1.5));
                    let hi = bin(Op::Add, hi.expr, Expr::Lit(1.5));
                    let e = self.method("clamp", vec![a.expr, lo, hi]);
                    Some(node(e, ab.mag.max(2.5), slope))
                }
            }
            Kind::ToDegrees => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                let l = self.rng.pick(&[0.01, 0.02]);
                let e = self.method("to_degrees", vec![a.expr]);
                let k = 180.0 / PI * l;
                Some(node(bin(Op::Mul, e, Expr::Lit(l)), mag * k, slope * k))
            }
            Kind::ToRadians => {
                let a = self.child(depth);
                let Bound { mag, slope } = a.bound;
                let e = self.method("to_radians", vec![a.expr]);
                let k = PI / 180.0;
                if self.rng.percent(50) {
                    Some(node(e, mag * k, slope * k))
                } else {
                    let l = self.rng.pick(&[20.0, 50.0]);
                    Some(node(
                        bin(Op::Mul, e, Expr::Lit(l)),
                        mag * k * l,
                        slope * k * l,
                    ))
                }
            }
            Kind::LiteralReceiver => self.literal_receiver(depth),
            Kind::Call => self.call(depth),
        }
    }

    /// A float method of a suffixed literal, with an active argument: `2.0_f64.powf(e)`,
    /// `(-0.5_f64).max(e)`, `1.5_f64.atan2(e)`, `2.0_f64.hypot(e)`, `3.0_f64.log(e² + 2)`,
    /// `0.5_f64.copysign(e)`.
    fn literal_receiver(&mut self, depth: usize) -> Option<Node> {
        let l = self.rng.pick(&[0.5, 1.5, 2.0, 3.0]);
        let typed = Expr::Const(format!("{}_f64", literal(l)));
        let a = self.child(depth);
        let Bound { mag, slope } = a.bound;
        let (name, receiver, arg, bound) = match self.rng.below(7) {
            0 => {
                let s = self.squash(a);
                let m = l.max(1.0 / l);
                (
                    "powf",
                    typed,
                    s.expr,
                    Bound {
                        mag: m,
                        slope: l.ln().abs() * m * slope,
                    },
                )
            }
            1 | 2 => {
                // A negative receiver for `max`, a positive one for `min`, so that both sides win.
                let (name, receiver) = if self.rng.percent(50) {
                    ("max", Expr::Neg(Box::new(typed)))
                } else {
                    ("min", typed)
                };
                (
                    name,
                    receiver,
                    a.expr,
                    Bound {
                        mag: mag.max(l),
                        slope,
                    },
                )
            }
            3 => (
                "atan2",
                typed,
                a.expr,
                Bound {
                    mag: PI,
                    slope: slope / (2.0 * l),
                },
            ),
            4 => (
                "hypot",
                typed,
                a.expr,
                Bound {
                    mag: mag + l,
                    slope,
                },
            ),
            5 => {
                let base = self.positive(a, 2.0);
                let top = l.ln().abs();
                let s = top / (LN_2 * LN_2) * slope / 2f64.sqrt();
                (
                    "log",
                    typed,
                    base.expr,
                    Bound {
                        mag: top / LN_2,
                        slope: s,
                    },
                )
            }
            _ => ("copysign", typed, a.expr, Bound { mag: l, slope: 0.0 }),
        };
        let e = self.method(name, vec![receiver, arg]);
        Some(Node { expr: e, bound })
    }

    /// `expr_j(a, b, c)` of an earlier function, with arguments within [-2, 2].
    fn call(&mut self, depth: usize) -> Option<Node> {
        if self.callees.is_empty() {
            return None;
        }
        // Prefer recent functions, so that calls chain.
        let n = self.callees.len();
        let j = if self.rng.percent(50) {
            n - 1 - self.rng.below(n.min(10))
        } else {
            self.rng.below(n)
        };
        let (name, callee) = self.callees[j].clone();
        let mut args = Vec::new();
        let mut arg_slope: f64 = 0.0;
        for _ in 0..3 {
            // Arguments stay within [-2, 2], where the callee's bound holds.
            let roll = self.rng.below(100);
            let arg = if roll < 15 {
                node(Expr::Lit(self.lit().min(2.0)), 0.0, 0.0)
            } else if roll < 55 {
                let small: Vec<usize> = self
                    .visible()
                    .into_iter()
                    .filter(|&i| self.env[i].pair.is_none() && self.env[i].bound.mag <= 2.0)
                    .collect();
                if small.is_empty() {
                    node(Expr::Lit(0.5), 0.5, 0.0)
                } else {
                    let i = self.rng.pick(&small);
                    self.leaf_of(i)
                }
            } else {
                let a = self.child(depth);
                let slope = a.bound.slope;
                let s = self.squash(a);
                if self.rng.percent(50) {
                    s
                } else {
                    node(bin(Op::Mul, s.expr, Expr::Lit(2.0)), 2.0, 2.0 * slope)
                }
            };
            // The same variable twice would tie the callee's `max(x1, x2)` at every point.
            if !matches!(arg.expr, Expr::Lit(_)) && args.iter().any(|a| same(a, &arg.expr)) {
                return None;
            }
            arg_slope = arg_slope.max(arg.bound.slope);
            args.push(arg.expr);
        }
        Some(node(
            Expr::Call { name, args },
            callee.mag,
            callee.slope * arg_slope,
        ))
    }

    // --- statements -------------------------------------------------------------------------

    fn let_depth(&mut self) -> usize {
        if self.rng.percent(10) {
            5
        } else {
            1 + self.rng.below(4)
        }
    }

    /// A function body of a few statements and a tail reading every unread local.
    fn body(&mut self) -> Body {
        let n = 3 + self.rng.below(5);
        let mut stmts = Vec::new();
        for _ in 0..n {
            self.statement(0, &mut stmts);
        }
        let tail = self.close_scope(&mut stmts);
        Body {
            params: self.params,
            stmts,
            tail,
        }
    }

    /// `statements` `let`s and a tail over the last few locals.
    ///
    /// Two hundred nested squashing functions would flatten any gradient to nothing, so each
    /// statement is a residual step: `v_k = v_j + c T` or `v_j * (1 + c sin T)`, where `v_j`
    /// is the oldest local not read yet (usually `v_{k-1}`), and `T` a random expression over
    /// the parameters and `sin`, `cos` or `tanh` of earlier locals, with `c` small enough that
    /// `c T` moves by at most `LONG_STEP` when its leaves do.
    fn long_body(&mut self, statements: usize) -> Body {
        let mut stmts = Vec::new();
        for k in 0..statements {
            let base = self
                .env
                .iter()
                .position(|b| !b.used && !b.input)
                .unwrap_or(k % self.params);
            let base = Expr::Var(self.env[base].name.clone());
            let depth = 1 + self.rng.below(2);
            let t = self.expr(depth);
            let Bound { mag, slope } = t.bound;
            let c = [0.5, 0.25, 0.1, 0.05, 0.02]
                .into_iter()
                .find(|c| c * slope <= LONG_STEP && c * mag <= LONG_STEP)
                .unwrap_or(0.01);
            let e = match self.rng.below(10) {
                0..=3 => bin(Op::Add, base, bin(Op::Mul, t.expr, Expr::Lit(c))),
                4 | 5 => bin(Op::Sub, base, bin(Op::Mul, Expr::Lit(c), t.expr)),
                6 | 7 => bin(Op::Add, bin(Op::Mul, t.expr, Expr::Lit(c)), base),
                _ => {
                    let s = self.method("sin", vec![t.expr]);
                    let factor = bin(
                        Op::Add,
                        bin(Op::Mul, s, Expr::Lit(c.min(0.25))),
                        Expr::Lit(1.0),
                    );
                    bin(Op::Mul, base, factor)
                }
            };
            self.read(&e);
            let name = self.fresh();
            stmts.push(Stmt::Let {
                pat: Pat::Name {
                    name: name.clone(),
                    mutable: false,
                },
                typed: false,
                init: Init::Expr(e),
            });
            self.bind(
                name,
                Bound {
                    mag: 1.0,
                    slope: 1.0,
                },
                None,
                false,
            );
        }
        // The tail: the last few locals, and any never read.
        let last: Vec<usize> = (self.env.len().saturating_sub(3)..self.env.len()).collect();
        for i in last {
            self.env[i].used = false;
        }
        let tail = self.close_scope(&mut stmts);
        Body {
            params: self.params,
            stmts,
            tail,
        }
    }

    /// One statement (or a few) at block nesting `blocks`.
    fn statement(&mut self, blocks: usize, out: &mut Vec<Stmt>) {
        let start = *self.scopes.last().expect("a scope");
        // A `let mut` waiting for its mutation gets it half of the time.
        let pending: Vec<usize> = (start..self.env.len())
            .filter(|&i| self.env[i].mutable && !self.env[i].mutated && !self.env[i].shadowed)
            .collect();
        if !pending.is_empty() && self.rng.percent(50) {
            let i = self.rng.pick(&pending);
            self.mutate(i, out);
            return;
        }
        let visible = self.visible();
        let mutables: Vec<usize> = visible
            .iter()
            .copied()
            .filter(|&i| self.env[i].mutable && self.env[i].pair.is_none())
            .collect();
        let scalars: Vec<usize> = visible
            .iter()
            .copied()
            .filter(|&i| self.env[i].pair.is_none())
            .collect();
        loop {
            match self.rng.below(100) {
                0..=29 => return self.let_statement(false, out),
                30..=41 => return self.let_statement(true, out),
                42..=51 if !mutables.is_empty() => {
                    let i = self.rng.pick(&mutables);
                    return self.mutate(i, out);
                }
                52..=63 => {
                    let i = self.rng.pick(&scalars);
                    return self.shadow(i, out);
                }
                64..=71 if blocks == 0 || (blocks == 1 && self.rng.percent(30)) => {
                    return self.block(blocks + 1, out);
                }
                72..=78 => return self.destructure(out),
                79..=84 => return self.pair_local(out),
                85..=89 if mutables.len() >= 2 => return self.swap(&mutables, out),
                90..=94 => return self.constant(out),
                95..=99 if !self.callees.is_empty() => {
                    let depth = 1 + self.rng.below(3);
                    if let Some(n) = self.call(depth) {
                        return self.push_let(out, false, n);
                    }
                }
                _ => {}
            }
        }
    }

    fn push_let(&mut self, out: &mut Vec<Stmt>, mutable: bool, n: Node) {
        self.read(&n.expr);
        let name = self.fresh();
        let typed = self.rng.percent(15);
        out.push(Stmt::Let {
            pat: Pat::Name {
                name: name.clone(),
                mutable,
            },
            typed,
            init: Init::Expr(n.expr),
        });
        self.bind(name, n.bound, None, mutable);
    }

    fn let_statement(&mut self, mutable: bool, out: &mut Vec<Stmt>) {
        let depth = self.let_depth();
        let n = self.expr(depth);
        self.push_let(out, mutable, n);
    }

    fn constant(&mut self, out: &mut Vec<Stmt>) {
        let name = format!("C{}", self.consts);
        self.consts += 1;
        let value = self.lit();
        out.push(Stmt::Const {
            name: name.clone(),
            value,
        });
        let depth = self.let_depth();
        let a = self.expr(depth);
        let Bound { mag, slope } = a.bound;
        let n = if self.rng.percent(50) {
            node(
                bin(Op::Mul, a.expr, Expr::Const(name)),
                mag * value,
                slope * value,
            )
        } else {
            node(bin(Op::Add, a.expr, Expr::Const(name)), mag + value, slope)
        };
        self.push_let(out, false, n);
    }

    /// `v` put through a random unary function, so that `v = f(v) op e` is not `v op= e`.
    fn touch(&mut self, i: usize) -> Node {
        let v = self.leaf_of(i);
        let slope = v.bound.slope;
        match self.rng.below(4) {
            0 => self.squash(v),
            1 => {
                let e = self.method("atan", vec![v.expr]);
                node(e, PI / 2.0, slope)
            }
            2 => {
                let l = self.rng.pick(&[0.5, 0.75]);
                node(
                    bin(Op::Mul, v.expr, Expr::Lit(l)),
                    v.bound.mag * l,
                    slope * l,
                )
            }
            _ => {
                let e = self.method("asinh", vec![v.expr]);
                node(e, v.bound.mag.asinh(), slope)
            }
        }
    }

    /// A right-hand side for `target op= rhs` that does not mention `target` at its top.
    fn rhs(&mut self, target: &str) -> Node {
        let depth = 1 + self.rng.below(3);
        let n = self.expr(depth);
        let bare = |e: &Expr| matches!(e, Expr::Var(v) if v == target);
        let top_bare = match &n.expr {
            Expr::Bin(_, a, b) => bare(a) || bare(b),
            e => bare(e),
        };
        if top_bare { self.squash(n) } else { n }
    }

    fn mutate(&mut self, i: usize, out: &mut Vec<Stmt>) {
        let target = self.env[i].name.clone();
        let old = self.env[i].bound;
        for _ in 0..8 {
            let (op, n) = match self.rng.below(5) {
                0 | 1 => {
                    let e = self.rhs(&target);
                    let op = if self.rng.percent(50) {
                        Op::Add
                    } else {
                        Op::Sub
                    };
                    let b = e.bound;
                    (Some(op), node(e.expr, old.mag + b.mag, old.slope + b.slope))
                }
                2 => {
                    let e = self.rhs(&target);
                    let e = if self.rng.percent(50) {
                        self.squash(e)
                    } else {
                        e
                    };
                    let b = e.bound;
                    (
                        Some(Op::Mul),
                        node(
                            e.expr,
                            old.mag * b.mag,
                            old.slope * b.mag + old.mag * b.slope,
                        ),
                    )
                }
                3 => {
                    let e = self.rhs(&target);
                    let k = self.rng.pick(&[0.5, 1.0, 1.5]);
                    let b = e.bound;
                    let p = self.positive(e, k);
                    let slope = old.slope / k + old.mag * inverse_square_slope(k) * b.slope;
                    (Some(Op::Div), node(p.expr, old.mag / k, slope))
                }
                _ => {
                    let t = self.touch(i);
                    let e = self.rhs(&target);
                    if same(&t.expr, &e.expr) {
                        continue;
                    }
                    let op = self.rng.pick(&[Op::Add, Op::Sub, Op::Mul]);
                    let (tb, eb) = (t.bound, e.bound);
                    let bound = match op {
                        Op::Mul => Bound {
                            mag: tb.mag * eb.mag,
                            slope: tb.slope * eb.mag + tb.mag * eb.slope,
                        },
                        _ => Bound {
                            mag: tb.mag + eb.mag,
                            slope: tb.slope + eb.slope,
                        },
                    };
                    (
                        None,
                        Node {
                            expr: bin(op, t.expr, e.expr),
                            bound,
                        },
                    )
                }
            };
            if n.bound.fits() {
                return self.finish_mutation(i, op, n, out);
            }
        }
        let half = node(Expr::Lit(0.5), old.mag * 0.5, old.slope * 0.5);
        self.finish_mutation(i, Some(Op::Mul), half, out);
    }

    fn finish_mutation(&mut self, i: usize, op: Option<Op>, n: Node, out: &mut Vec<Stmt>) {
        self.read(&n.expr);
        let b = &mut self.env[i];
        b.used = true;
        b.mutated = true;
        b.unread_write = true;
        b.bound = n.bound;
        out.push(Stmt::Assign {
            target: b.name.clone(),
            op,
            value: n.expr,
        });
    }

    /// `let v = g(v, ..);`, hiding `v` (a local or a parameter).
    fn shadow(&mut self, i: usize, out: &mut Vec<Stmt>) {
        if self.env[i].mutable && !self.env[i].mutated {
            // Hidden before its mutation, its `mut` would be unused.
            self.mutate(i, out);
        }
        let name = self.env[i].name.clone();
        let mut n = None;
        for _ in 0..8 {
            let candidate = match self.rng.below(3) {
                0 => {
                    let v = self.leaf_of(i);
                    let depth = 1 + self.rng.below(3);
                    let e = self.expr(depth);
                    if same(&v.expr, &e.expr) {
                        continue;
                    }
                    let op = self.rng.pick(&[Op::Add, Op::Sub, Op::Mul]);
                    let (vb, eb) = (v.bound, e.bound);
                    let bound = match op {
                        Op::Mul => Bound {
                            mag: vb.mag * eb.mag,
                            slope: vb.slope * eb.mag + vb.mag * eb.slope,
                        },
                        _ => Bound {
                            mag: vb.mag + eb.mag,
                            slope: vb.slope + eb.slope,
                        },
                    };
                    Node {
                        expr: bin(op, v.expr, e.expr),
                        bound,
                    }
                }
                1 => {
                    let t = self.touch(i);
                    let depth = 1 + self.rng.below(3);
                    let e = self.expr(depth);
                    let (tb, eb) = (t.bound, e.bound);
                    node(
                        bin(Op::Add, t.expr, e.expr),
                        tb.mag + eb.mag,
                        tb.slope + eb.slope,
                    )
                }
                _ => {
                    let v = self.leaf_of(i);
                    let (a, b) = (self.expr(2), self.expr(2));
                    let (vb, ab, bb) = (v.bound, a.bound, b.bound);
                    let e = self.method("mul_add", vec![v.expr, a.expr, b.expr]);
                    node(
                        e,
                        vb.mag * ab.mag + bb.mag,
                        vb.slope * ab.mag + vb.mag * ab.slope + bb.slope,
                    )
                }
            };
            if candidate.bound.fits() {
                n = Some(candidate);
                break;
            }
        }
        let n = n.unwrap_or_else(|| {
            let v = self.leaf_of(i);
            node(
                bin(Op::Mul, v.expr, Expr::Lit(0.5)),
                v.bound.mag * 0.5,
                v.bound.slope * 0.5,
            )
        });
        self.read(&n.expr);
        let mutable = self.rng.percent(10);
        let typed = self.rng.percent(15);
        out.push(Stmt::Let {
            pat: Pat::Name {
                name: name.clone(),
                mutable,
            },
            typed,
            init: Init::Expr(n.expr),
        });
        self.bind(name, n.bound, None, mutable);
    }

    /// `let v = { statements; tail };`
    fn block(&mut self, blocks: usize, out: &mut Vec<Stmt>) {
        self.scopes.push(self.env.len());
        let n = 1 + self.rng.below(3);
        let mut stmts = Vec::new();
        for _ in 0..n {
            self.statement(blocks, &mut stmts);
        }
        let tail = self.close_scope(&mut stmts);
        let name = self.fresh();
        out.push(Stmt::Let {
            pat: Pat::Name {
                name: name.clone(),
                mutable: false,
            },
            typed: false,
            init: Init::Block(stmts, tail.expr),
        });
        self.bind(name, tail.bound, None, false);
    }

    /// `let (a, b) = (e1, e2);`
    fn destructure(&mut self, out: &mut Vec<Stmt>) {
        let (d1, d2) = (self.let_depth(), self.let_depth());
        let (a, b) = (self.expr(d1), self.expr(d2));
        self.read(&a.expr);
        self.read(&b.expr);
        let names = [self.fresh(), self.fresh()];
        let both = self.rng.percent(25);
        let muts = [both || self.rng.percent(15), both || self.rng.percent(15)];
        out.push(Stmt::Let {
            pat: Pat::Pair([(names[0].clone(), muts[0]), (names[1].clone(), muts[1])]),
            typed: self.rng.percent(20),
            init: Init::Pair(a.expr, b.expr),
        });
        let [n0, n1] = names;
        self.bind(n0, a.bound, None, muts[0]);
        self.bind(n1, b.bound, None, muts[1]);
        if both && self.rng.percent(60) {
            let n = self.env.len();
            self.swap(&[n - 2, n - 1], out);
        }
    }

    /// `let t = (e1, e2);`, read later as `t.0` and `t.1`.
    fn pair_local(&mut self, out: &mut Vec<Stmt>) {
        let (d1, d2) = (self.let_depth(), self.let_depth());
        let (a, b) = (self.expr(d1), self.expr(d2));
        self.read(&a.expr);
        self.read(&b.expr);
        let name = self.fresh();
        out.push(Stmt::Let {
            pat: Pat::Name {
                name: name.clone(),
                mutable: false,
            },
            typed: false,
            init: Init::Pair(a.expr, b.expr),
        });
        let zero = Bound {
            mag: 0.0,
            slope: 0.0,
        };
        self.bind(name, zero, Some([a.bound, b.bound]), false);
    }

    /// `(p, q) = (q, p);` or `(p, q) = (q * l, p + e);`
    fn swap(&mut self, mutables: &[usize], out: &mut Vec<Stmt>) {
        let i = self.rng.pick(mutables);
        let j = loop {
            let j = self.rng.pick(mutables);
            if j != i {
                break j;
            }
        };
        let (p, q) = (self.leaf_of(i), self.leaf_of(j));
        let (new_p, new_q) = if self.rng.percent(50) {
            (q, p)
        } else {
            let l = self.rng.pick(&[0.5, 0.75]);
            let first = node(
                bin(Op::Mul, q.expr, Expr::Lit(l)),
                q.bound.mag * l,
                q.bound.slope * l,
            );
            let e = self.expr(1);
            let (pb, eb) = (p.bound, e.bound);
            let second = node(
                bin(Op::Add, p.expr, e.expr),
                pb.mag + eb.mag,
                pb.slope + eb.slope,
            );
            if second.bound.fits() {
                (first, second)
            } else {
                let (p, q) = (self.leaf_of(i), self.leaf_of(j));
                (q, p)
            }
        };
        self.read(&new_p.expr);
        self.read(&new_q.expr);
        for (k, n) in [(i, &new_p), (j, &new_q)] {
            let b = &mut self.env[k];
            b.mutated = true;
            b.unread_write = true;
            b.bound = n.bound;
        }
        out.push(Stmt::Swap {
            targets: [self.env[i].name.clone(), self.env[j].name.clone()],
            values: [new_p.expr, new_q.expr],
        });
    }

    /// Mutates every `let mut` of the scope not mutated yet, then returns a tail reading
    /// every binding of the scope not read since its last assignment.
    fn close_scope(&mut self, out: &mut Vec<Stmt>) -> Node {
        let start = *self.scopes.last().expect("a scope");
        loop {
            let pending = (start..self.env.len())
                .find(|&i| self.env[i].mutable && !self.env[i].mutated && !self.env[i].shadowed);
            match pending {
                Some(i) => self.mutate(i, out),
                None => break,
            }
        }
        let needy: Vec<usize> = (start..self.env.len())
            .filter(|&i| !self.env[i].shadowed && self.env[i].needs_read())
            .collect();
        let mut terms: Vec<Node> = Vec::new();
        for i in needy {
            let leaf = match self.env[i].pair {
                Some(bounds) => {
                    // An unread field, or either.
                    let which = self.env[i].fields_read.iter().position(|r| !r).unwrap_or(0);
                    let name = self.env[i].name.clone();
                    if self.env[i].fields_read == [false; 2] {
                        terms.push(node(
                            Expr::Field(name.clone(), 1),
                            bounds[1].mag,
                            bounds[1].slope,
                        ));
                    }
                    node(
                        Expr::Field(name, which),
                        bounds[which].mag,
                        bounds[which].slope,
                    )
                }
                None => self.leaf_of(i),
            };
            let term = match self.rng.below(3) {
                0 => leaf,
                1 => {
                    let l = self.lit();
                    let Bound { mag, slope } = leaf.bound;
                    node(bin(Op::Mul, leaf.expr, Expr::Lit(l)), mag * l, slope * l)
                }
                _ => self.squash(leaf),
            };
            terms.push(term);
        }
        if terms.is_empty() || (!self.long && self.rng.percent(50)) {
            let depth = 1 + self.rng.below(3);
            let e = self.expr(depth);
            terms.push(e);
        }
        let mut iter = terms.into_iter();
        let mut acc = iter.next().expect("a term");
        for t in iter {
            if same(&acc.expr, &t.expr) {
                continue;
            }
            let op = if self.rng.percent(60) {
                Op::Add
            } else {
                Op::Sub
            };
            let (ab, tb) = (acc.bound, t.bound);
            acc = node(
                bin(op, acc.expr, t.expr),
                ab.mag + tb.mag,
                ab.slope + tb.slope,
            );
        }
        if acc.expr.is_leaf() {
            acc = self.squash(acc);
        }
        self.read(&acc.expr);
        if self.scopes.len() > 1 {
            self.pop_scope();
        }
        acc
    }
}
