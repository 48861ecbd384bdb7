//! A formula typed on the command line, differentiated on grad's runtime tape: the case
//! `#[differentiable]` cannot serve, since the function is known only when the program runs.
//!
//! The formula is parsed by a small recursive-descent parser, built on a `grad::tape::Tape`
//! and run backward; the gradient is then checked against central finite differences of the
//! same parsed formula evaluated in plain `f64`.
//!
//! ```text
//! cargo run --example formula -- "sin(x*y) + x^2 / (1 + exp(-y))" x=0.5 y=1.2
//! cargo run --example formula -- --file formula.txt x=0.5 y=1.2
//! cargo run --example formula                       # the formula above at those values
//! ```
//!
//! Numbers, variables, `+ - * / ^`, unary minus, parentheses, the constants `pi` and `e`, and
//! calls of the functions in [`UNARY`] and [`BINARY`]. `^` binds tighter than unary minus
//! (`-x^2` is `-(x^2)`) and groups to the right; an integer literal exponent uses `powi`, any
//! other `powf`. A mistake gets a message with a caret under it, and exit code 2; a gradient
//! that disagrees with the differences, exit code 1.

use grad::tape::{Tape, Var};
use std::fmt;
use std::process::ExitCode;

const DEFAULT_FORMULA: &str = "sin(x*y) + x^2 / (1 + exp(-y))";
const DEFAULT_VALUES: [(&str, f64); 2] = [("x", 0.5), ("y", 1.2)];

/// The largest difference between the tape's gradient and the central differences that
/// passes, scaled by the gradient where it exceeds 1.
const TOLERANCE: f64 = 1e-6;

/// How deeply parentheses, calls, operators and chains of operators may nest, so that
/// neither the parser nor the evaluators can overflow the stack.
const DEEPEST: usize = 200;

// ---------------------------------------------------------------------------------------------
// The functions: each one's name, its operation on the tape and its plain `f64` formula (the
// oracle the gradient is checked against), in one table.

/// A function of one argument.
struct Unary {
    name: &'static str,
    tape: for<'t> fn(Var<'t>) -> Var<'t>,
    plain: fn(f64) -> f64,
}

/// A function of two arguments.
struct Binary {
    name: &'static str,
    tape: for<'t> fn(Var<'t>, Var<'t>) -> Var<'t>,
    plain: fn(f64, f64) -> f64,
}

const fn unary(
    name: &'static str,
    tape: for<'t> fn(Var<'t>) -> Var<'t>,
    plain: fn(f64) -> f64,
) -> Unary {
    Unary { name, tape, plain }
}

const fn binary(
    name: &'static str,
    tape: for<'t> fn(Var<'t>, Var<'t>) -> Var<'t>,
    plain: fn(f64, f64) -> f64,
) -> Binary {
    Binary { name, tape, plain }
}

/// The functions of one argument a formula may call.
const UNARY: &[Unary] = &[
    unary("sin", |x| x.sin(), f64::sin),
    unary("cos", |x| x.cos(), f64::cos),
    unary("tan", |x| x.tan(), f64::tan),
    unary("asin", |x| x.asin(), f64::asin),
    unary("acos", |x| x.acos(), f64::acos),
    unary("atan", |x| x.atan(), f64::atan),
    unary("sinh", |x| x.sinh(), f64::sinh),
    unary("cosh", |x| x.cosh(), f64::cosh),
    unary("tanh", |x| x.tanh(), f64::tanh),
    unary("asinh", |x| x.asinh(), f64::asinh),
    unary("acosh", |x| x.acosh(), f64::acosh),
    unary("atanh", |x| x.atanh(), f64::atanh),
    unary("exp", |x| x.exp(), f64::exp),
    unary("exp2", |x| x.exp2(), f64::exp2),
    unary("ln", |x| x.ln(), f64::ln),
    unary("log2", |x| x.log2(), f64::log2),
    unary("log10", |x| x.log10(), f64::log10),
    unary("sqrt", |x| x.sqrt(), f64::sqrt),
    unary("cbrt", |x| x.cbrt(), f64::cbrt),
    unary("abs", |x| x.abs(), f64::abs),
    unary("sigmoid", |x| x.sigmoid(), |x| 1.0 / (1.0 + (-x).exp())),
    unary("softplus", |x| x.softplus(), |x| x.exp().ln_1p()),
    unary("relu", |x| x.relu(), |x| x.max(0.0)),
];

/// The functions of two arguments a formula may call.
const BINARY: &[Binary] = &[
    binary("max", |a, b| a.max(b), f64::max),
    binary("min", |a, b| a.min(b), f64::min),
    binary("atan2", |y, x| y.atan2(x), f64::atan2),
    binary("pow", |x, p| x.powf(p), f64::powf),
    binary("hypot", |a, b| a.hypot(b), f64::hypot),
    binary("log", |x, base| x.log(base), f64::log),
];

/// The named constants, unless the command line gives a variable of the same name.
const CONSTANTS: [(&str, f64); 2] = [("pi", std::f64::consts::PI), ("e", std::f64::consts::E)];

// ---------------------------------------------------------------------------------------------
// The parsed formula.

/// A formula, its variables numbered in the order the command line gives them.
#[derive(Debug, PartialEq)]
enum Expr {
    Number(f64),
    /// A literal written without a point or an exponent, which as an exponent selects `powi`.
    Integer(i32),
    Variable(usize),
    Neg(Box<Expr>),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    Mul(Box<Expr>, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Powi(Box<Expr>, i32),
    Powf(Box<Expr>, Box<Expr>),
    Unary(&'static Unary, Box<Expr>),
    Binary(&'static Binary, Box<Expr>, Box<Expr>),
}

impl fmt::Debug for Unary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Unary {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl PartialEq for Binary {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Expr {
    /// The formula on `tape`, its variables `variables`.
    fn build<'t>(&self, tape: &'t Tape, variables: &[Var<'t>]) -> Var<'t> {
        let both = |a: &Expr, b: &Expr| (a.build(tape, variables), b.build(tape, variables));
        match self {
            Expr::Number(value) => tape.constant(*value),
            Expr::Integer(value) => tape.constant(f64::from(*value)),
            Expr::Variable(i) => variables[*i],
            Expr::Neg(a) => -a.build(tape, variables),
            Expr::Add(a, b) => {
                let (a, b) = both(a, b);
                a + b
            }
            Expr::Sub(a, b) => {
                let (a, b) = both(a, b);
                a - b
            }
            Expr::Mul(a, b) => {
                let (a, b) = both(a, b);
                a * b
            }
            Expr::Div(a, b) => {
                let (a, b) = both(a, b);
                a / b
            }
            Expr::Powi(a, n) => a.build(tape, variables).powi(*n),
            Expr::Powf(a, b) => {
                let (a, b) = both(a, b);
                a.powf(b)
            }
            Expr::Unary(function, a) => (function.tape)(a.build(tape, variables)),
            Expr::Binary(function, a, b) => {
                let (a, b) = both(a, b);
                (function.tape)(a, b)
            }
        }
    }

    /// The formula's value in plain `f64` arithmetic.
    fn eval(&self, values: &[f64]) -> f64 {
        match self {
            Expr::Number(value) => *value,
            Expr::Integer(value) => f64::from(*value),
            Expr::Variable(i) => values[*i],
            Expr::Neg(a) => -a.eval(values),
            Expr::Add(a, b) => a.eval(values) + b.eval(values),
            Expr::Sub(a, b) => a.eval(values) - b.eval(values),
            Expr::Mul(a, b) => a.eval(values) * b.eval(values),
            Expr::Div(a, b) => a.eval(values) / b.eval(values),
            Expr::Powi(a, n) => a.eval(values).powi(*n),
            Expr::Powf(a, b) => a.eval(values).powf(b.eval(values)),
            Expr::Unary(function, a) => (function.plain)(a.eval(values)),
            Expr::Binary(function, a, b) => (function.plain)(a.eval(values), b.eval(values)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The parser.

/// A mistake in a formula, at a character position.
#[derive(Debug, PartialEq)]
struct ParseError {
    /// The position in characters (not bytes), for the caret.
    column: usize,
    message: String,
}

impl ParseError {
    /// The formula, a caret under the mistake, and the message.
    fn show(&self, formula: &str) -> String {
        format!(
            "{formula}\n{caret:>width$}\nerror at column {column}: {message}",
            caret = "^",
            width = self.column + 1,
            column = self.column + 1,
            message = self.message
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(f64),
    /// A literal of digits alone, which fits an `i32`.
    Integer(i32),
    Name(String),
    Symbol(char),
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Number(value) => write!(f, "the number {value}"),
            Token::Integer(value) => write!(f, "the number {value}"),
            Token::Name(name) => write!(f, "`{name}`"),
            Token::Symbol(symbol) => write!(f, "`{symbol}`"),
            Token::End => f.write_str("the end of the formula"),
        }
    }
}

/// The tokens of `formula`, each with its column.
fn tokenize(formula: &str) -> Result<Vec<(Token, usize)>, ParseError> {
    let chars: Vec<char> = formula.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let mut integer = true;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                integer &= chars[i] != '.';
                i += 1;
            }
            // An exponent, only where digits follow (`2e` is 2 and then `e`).
            let digits_at = |k: usize| chars.get(k).is_some_and(char::is_ascii_digit);
            if matches!(chars.get(i), Some('e' | 'E')) {
                let signed = matches!(chars.get(i + 1), Some('+' | '-'));
                let first_digit = i + 1 + usize::from(signed);
                if digits_at(first_digit) {
                    integer = false;
                    i = first_digit;
                    while digits_at(i) {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let token = match (integer, text.parse::<i32>(), text.parse::<f64>()) {
                (true, Ok(value), _) => Token::Integer(value),
                (_, _, Ok(value)) => Token::Number(value),
                (_, _, Err(_)) => {
                    return Err(ParseError {
                        column: start,
                        message: format!("`{text}` is not a number"),
                    });
                }
            };
            tokens.push((token, start));
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push((Token::Name(chars[start..i].iter().collect()), start));
        } else if "+-*/^(),".contains(c) {
            tokens.push((Token::Symbol(c), start));
            i += 1;
        } else {
            return Err(ParseError {
                column: start,
                message: format!("unexpected character `{c}`"),
            });
        }
    }
    tokens.push((Token::End, chars.len()));
    Ok(tokens)
}

/// Parses `formula`, whose variables are `variables` (numbered in that order).
///
/// ```text
/// sum     = product (('+' | '-') product)*
/// product = unary (('*' | '/') unary)*
/// unary   = '-' unary | power
/// power   = primary ('^' unary)?
/// primary = number | name | name '(' sum (',' sum)* ')' | '(' sum ')'
/// ```
fn parse(formula: &str, variables: &[&str]) -> Result<Expr, ParseError> {
    let mut parser = Parser {
        tokens: tokenize(formula)?,
        at: 0,
        variables,
        depth: 0,
    };
    let expr = parser.sum()?;
    match parser.peek() {
        Token::End => Ok(expr),
        Token::Symbol(')') => Err(parser.error("this `)` closes nothing")),
        other => Err(parser.error(&format!("expected an operator, found {other}"))),
    }
}

struct Parser<'a> {
    tokens: Vec<(Token, usize)>,
    at: usize,
    variables: &'a [&'a str],
    /// How deeply the parser has nested, chains of operators counted.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at].0
    }

    fn column(&self) -> usize {
        self.tokens[self.at].1
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.at].0.clone();
        if token != Token::End {
            self.at += 1;
        }
        token
    }

    fn error(&self, message: &str) -> ParseError {
        ParseError {
            column: self.column(),
            message: message.to_string(),
        }
    }

    /// One level deeper, refused past [`DEEPEST`].
    fn deeper(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > DEEPEST {
            return Err(self.error(&format!("the formula nests more than {DEEPEST} deep")));
        }
        Ok(())
    }

    fn expect(&mut self, symbol: char, what: &str) -> Result<(), ParseError> {
        if *self.peek() == Token::Symbol(symbol) {
            self.next();
            Ok(())
        } else {
            Err(self.error(&format!(
                "expected `{symbol}` {what}, found {}",
                self.peek()
            )))
        }
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let outer = self.depth;
        let mut expr = self.product()?;
        while let Token::Symbol(symbol @ ('+' | '-')) = *self.peek() {
            self.next();
            self.deeper()?;
            let right = self.product()?;
            expr = if symbol == '+' {
                Expr::Add(Box::new(expr), Box::new(right))
            } else {
                Expr::Sub(Box::new(expr), Box::new(right))
            };
        }
        self.depth = outer;
        Ok(expr)
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let outer = self.depth;
        let mut expr = self.unary()?;
        while let Token::Symbol(symbol @ ('*' | '/')) = *self.peek() {
            self.next();
            self.deeper()?;
            let right = self.unary()?;
            expr = if symbol == '*' {
                Expr::Mul(Box::new(expr), Box::new(right))
            } else {
                Expr::Div(Box::new(expr), Box::new(right))
            };
        }
        self.depth = outer;
        Ok(expr)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if *self.peek() == Token::Symbol('-') {
            self.next();
            self.deeper()?;
            let operand = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(operand)));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.primary()?;
        if *self.peek() != Token::Symbol('^') {
            return Ok(base);
        }
        self.next();
        self.deeper()?;
        let exponent = self.unary()?;
        self.depth -= 1;
        Ok(match exponent {
            Expr::Integer(n) => Expr::Powi(Box::new(base), n),
            Expr::Neg(inner) => match *inner {
                Expr::Integer(n) => Expr::Powi(Box::new(base), -n),
                other => Expr::Powf(Box::new(base), Box::new(Expr::Neg(Box::new(other)))),
            },
            exponent => Expr::Powf(Box::new(base), Box::new(exponent)),
        })
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let column = self.column();
        match self.next() {
            Token::Number(value) => Ok(Expr::Number(value)),
            Token::Integer(value) => Ok(Expr::Integer(value)),
            Token::Symbol('(') => {
                self.deeper()?;
                let expr = self.sum()?;
                self.expect(')', "to close the `(`")?;
                self.depth -= 1;
                Ok(expr)
            }
            Token::Name(name) if *self.peek() == Token::Symbol('(') => self.call(&name, column),
            Token::Name(name) => self.name(&name, column),
            token => {
                self.at -= usize::from(token != Token::End);
                Err(self.error(&format!(
                    "expected a number, a variable or `(`, found {token}"
                )))
            }
        }
    }

    /// A variable or a named constant.
    fn name(&self, name: &str, column: usize) -> Result<Expr, ParseError> {
        if let Some(i) = self.variables.iter().position(|&v| v == name) {
            return Ok(Expr::Variable(i));
        }
        if let Some(&(_, value)) = CONSTANTS.iter().find(|(constant, _)| *constant == name) {
            return Ok(Expr::Number(value));
        }
        let message = if UNARY.iter().any(|f| f.name == name)
            || BINARY.iter().any(|f| f.name == name)
        {
            format!("`{name}` is a function: call it, as in `{name}(x)`")
        } else if self.variables.is_empty() {
            format!("`{name}` has no value: give one after the formula, as in `{name}=1.5`")
        } else {
            format!(
                "`{name}` has no value (the variables are {}): give one after the formula, as in `{name}=1.5`",
                self.variables.join(", ")
            )
        };
        Err(ParseError { column, message })
    }

    /// A call of a function of [`UNARY`] or [`BINARY`], its name read and `(` next.
    fn call(&mut self, name: &str, column: usize) -> Result<Expr, ParseError> {
        self.next();
        self.deeper()?;
        let mut arguments = vec![self.sum()?];
        while *self.peek() == Token::Symbol(',') {
            self.next();
            arguments.push(self.sum()?);
        }
        self.expect(')', &format!("to close the call of `{name}`"))?;
        self.depth -= 1;
        let count = arguments.len();
        let mut arguments = arguments.into_iter();
        let mut argument = || Box::new(arguments.next().expect("counted"));
        if let Some(function) = UNARY.iter().find(|f| f.name == name) {
            if count == 1 {
                return Ok(Expr::Unary(function, argument()));
            }
            return Err(ParseError {
                column,
                message: format!("`{name}` takes 1 argument, not {count}"),
            });
        }
        if let Some(function) = BINARY.iter().find(|f| f.name == name) {
            if count == 2 {
                let first = argument();
                return Ok(Expr::Binary(function, first, argument()));
            }
            return Err(ParseError {
                column,
                message: format!("`{name}` takes 2 arguments, not {count}"),
            });
        }
        let known: Vec<&str> = UNARY
            .iter()
            .map(|f| f.name)
            .chain(BINARY.iter().map(|f| f.name))
            .collect();
        Err(ParseError {
            column,
            message: format!("unknown function `{name}` (known: {})", known.join(", ")),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The command line.

/// What the command line asks for.
#[derive(Debug)]
struct Request {
    formula: String,
    names: Vec<String>,
    values: Vec<f64>,
}

const USAGE: &str = "usage: formula [FORMULA | --file PATH] [NAME=VALUE ...]
  e.g. formula \"sin(x*y) + x^2 / (1 + exp(-y))\" x=0.5 y=1.2";

fn request(arguments: &[String]) -> Result<Request, String> {
    if arguments.is_empty() {
        return Ok(Request {
            formula: DEFAULT_FORMULA.to_string(),
            names: DEFAULT_VALUES.iter().map(|(n, _)| n.to_string()).collect(),
            values: DEFAULT_VALUES.iter().map(|&(_, v)| v).collect(),
        });
    }
    let mut formula = None;
    let mut names = Vec::new();
    let mut values = Vec::new();
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        if argument == "--help" || argument == "-h" {
            return Err(USAGE.to_string());
        } else if argument == "--file" {
            let path = arguments.next().ok_or("`--file` needs a path")?;
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read {path}: {error}"))?;
            // One line, so that the caret of a message lines up.
            let text: Vec<&str> = text.split_whitespace().collect();
            set_formula(&mut formula, text.join(" "))?;
        } else if let Some((name, value)) = argument.split_once('=') {
            let name = name.trim();
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !valid {
                return Err(format!("`{name}` in `{argument}` is not a variable name"));
            }
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| format!("`{value}` in `{argument}` is not a number"))?;
            if names.iter().any(|n| n == name) {
                return Err(format!("`{name}` is given twice"));
            }
            names.push(name.to_string());
            values.push(value);
        } else {
            set_formula(&mut formula, argument.clone())?;
        }
    }
    let formula = formula.ok_or(format!("no formula given\n{USAGE}"))?;
    Ok(Request {
        formula,
        names,
        values,
    })
}

fn set_formula(formula: &mut Option<String>, text: String) -> Result<(), String> {
    if formula.is_some() {
        return Err(format!(
            "two formulas given (quote a formula with spaces)\n{USAGE}"
        ));
    }
    *formula = Some(text);
    Ok(())
}

/// The central difference of `expr` along variable `i`.
fn central_difference(expr: &Expr, values: &[f64], i: usize) -> f64 {
    let step = 1e-5 * values[i].abs().max(1.0);
    let mut shifted = values.to_vec();
    shifted[i] = values[i] + step;
    let above = expr.eval(&shifted);
    shifted[i] = values[i] - step;
    let below = expr.eval(&shifted);
    (above - below) / (2.0 * step)
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let request = match request(&arguments) {
        Ok(request) => request,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let names: Vec<&str> = request.names.iter().map(String::as_str).collect();
    let expr = match parse(&request.formula, &names) {
        Ok(expr) => expr,
        Err(error) => {
            eprintln!("{}", error.show(&request.formula));
            return ExitCode::from(2);
        }
    };

    let tape = Tape::new();
    let variables: Vec<Var> = names
        .iter()
        .zip(&request.values)
        .map(|(name, &value)| tape.var(value).named(name))
        .collect();
    let f = expr.build(&tape, &variables).named("f");
    f.backward();

    let at: Vec<String> = names
        .iter()
        .zip(&request.values)
        .map(|(name, value)| format!("{name} = {value}"))
        .collect();
    println!("f({}) = {}", names.join(", "), request.formula);
    println!("at {}", at.join(", "));
    let plain = expr.eval(&request.values);
    println!(
        "f = {}   ({} nodes on the tape; in plain f64, {plain})",
        f.value(),
        tape.len()
    );
    let mut worst: f64 = 0.0;
    let mut within =
        f.value().to_bits() == plain.to_bits() || (f.value() - plain).abs() <= TOLERANCE;
    for (i, (name, variable)) in names.iter().zip(&variables).enumerate() {
        let gradient = variable.grad();
        let difference = central_difference(&expr, &request.values, i);
        let error = (gradient - difference).abs();
        // A NaN fails and is the worst.
        worst = if error.is_nan() || worst.is_nan() {
            f64::NAN
        } else {
            worst.max(error)
        };
        within &= error <= TOLERANCE * gradient.abs().max(1.0);
        println!(
            "∂f/∂{name} = {gradient:<20}  central difference {difference:<20}  error {error:.1e}"
        );
    }
    let verdict = if within { "within" } else { "ABOVE" };
    println!("max abs error {worst:.1e}: {verdict} the tolerance {TOLERANCE:.0e} · max(1, |∂f|)");
    if within {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(formula: &str) -> Expr {
        parse(formula, &["x", "y"]).unwrap()
    }

    fn error(formula: &str) -> ParseError {
        parse(formula, &["x", "y"]).unwrap_err()
    }

    fn x() -> Box<Expr> {
        Box::new(Expr::Variable(0))
    }

    fn y() -> Box<Expr> {
        Box::new(Expr::Variable(1))
    }

    #[test]
    fn precedence_and_associativity() {
        // * over +, left to right.
        assert_eq!(
            parsed("x + y * 2"),
            Expr::Add(x(), Box::new(Expr::Mul(y(), Box::new(Expr::Integer(2)))))
        );
        assert_eq!(
            parsed("x - y - 1"),
            Expr::Sub(Box::new(Expr::Sub(x(), y())), Box::new(Expr::Integer(1)))
        );
        assert_eq!(parsed("x / y / 2").eval(&[8.0, 2.0]), 2.0);
        // ^ over unary minus, to the right.
        assert_eq!(parsed("-x^2"), Expr::Neg(Box::new(Expr::Powi(x(), 2))));
        assert_eq!(parsed("2^3^2").eval(&[0.0, 0.0]), 512.0);
        assert_eq!(parsed("(x + y) * 2").eval(&[1.0, 2.0]), 6.0);
    }

    #[test]
    fn integer_literal_exponents_use_powi() {
        assert_eq!(parsed("x^3"), Expr::Powi(x(), 3));
        assert_eq!(parsed("x^-2"), Expr::Powi(x(), -2));
        assert_eq!(
            parsed("x^2.0"),
            Expr::Powf(x(), Box::new(Expr::Number(2.0)))
        );
        assert_eq!(parsed("x^y"), Expr::Powf(x(), y()));
        assert_eq!(
            parsed("x^1e1"),
            Expr::Powf(x(), Box::new(Expr::Number(10.0)))
        );
    }

    #[test]
    fn numbers_and_constants() {
        assert_eq!(parsed("1.5e-3"), Expr::Number(1.5e-3));
        assert_eq!(parsed(".5"), Expr::Number(0.5));
        assert_eq!(parsed("pi"), Expr::Number(std::f64::consts::PI));
        // A variable named as a constant wins.
        assert_eq!(parse("e", &["e"]).unwrap(), Expr::Variable(0));
        // 2e is 2 followed by the constant e, which needs an operator between.
        assert_eq!(error("2e").column, 1);
    }

    #[test]
    fn calls() {
        assert_eq!(parsed("sin(x)").eval(&[1.0, 0.0]), 1f64.sin());
        assert_eq!(parsed("max(x, y)").eval(&[1.0, 3.0]), 3.0);
        assert_eq!(
            parsed("atan2(y, x)").eval(&[1.0, 1.0]),
            std::f64::consts::FRAC_PI_4
        );
        assert_eq!(parsed("pow(x, y)").eval(&[2.0, 3.0]), 8.0);
        assert!(matches!(parsed("sigmoid(x)"), Expr::Unary(f, _) if f.name == "sigmoid"));
    }

    #[test]
    fn errors_point_at_the_mistake() {
        let cases = [
            (
                "x + ",
                4,
                "expected a number, a variable or `(`, found the end of the formula",
            ),
            (
                "x + * y",
                4,
                "expected a number, a variable or `(`, found `*`",
            ),
            (
                "(x + y",
                6,
                "expected `)` to close the `(`, found the end of the formula",
            ),
            ("x + y)", 5, "this `)` closes nothing"),
            ("x y", 2, "expected an operator, found `y`"),
            (
                "x + z",
                4,
                "`z` has no value (the variables are x, y): give one after the formula, as in `z=1.5`",
            ),
            ("foo(x)", 0, "unknown function `foo`"),
            ("sin(x, y)", 0, "`sin` takes 1 argument, not 2"),
            ("max(x)", 0, "`max` takes 2 arguments, not 1"),
            ("sin + x", 0, "`sin` is a function: call it, as in `sin(x)`"),
            ("x # y", 2, "unexpected character `#`"),
            ("1.2.3", 0, "`1.2.3` is not a number"),
            (
                "",
                0,
                "expected a number, a variable or `(`, found the end of the formula",
            ),
        ];
        for (formula, column, message) in cases {
            let error = error(formula);
            assert_eq!(error.column, column, "{formula}: {error:?}");
            assert!(error.message.starts_with(message), "{formula}: {error:?}");
        }
    }

    #[test]
    fn the_caret_sits_under_the_mistake() {
        let shown = error("x + * y").show("x + * y");
        assert_eq!(
            shown,
            "x + * y\n    ^\nerror at column 5: expected a number, a variable or `(`, found `*`"
        );
        // Columns count characters, not bytes.
        let error = parse("é + ?", &["é"]).unwrap_err();
        assert_eq!(error.column, 4);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(error(&deep).message.contains("nests more than"));
        let long = vec!["x"; 10_000].join(" + ");
        assert!(error(&long).message.contains("nests more than"));
        let minus = format!("{}x", "-".repeat(10_000));
        assert!(error(&minus).message.contains("nests more than"));
        // Within the limit, fine.
        let fine = format!("{}x{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(parsed(&fine), Expr::Variable(0));
        let chain = parsed(&vec!["x"; 150].join(" + "));
        assert_eq!(chain.eval(&[2.0, 0.0]), 300.0);
        let tape = Tape::new();
        let variables = [tape.var(2.0), tape.var(0.0)];
        chain.build(&tape, &variables).backward();
        assert_eq!(variables[0].grad(), 150.0);
    }

    #[test]
    fn tape_gradient_matches_differences() {
        let formulas = [
            DEFAULT_FORMULA,
            "x^3 - 2*x*y + y^-2",
            "pow(x, y) + hypot(x, y) + log(y, x)",
            "tanh(x) * sigmoid(y) + softplus(x - y) + sqrt(x*x + 1)",
            "atan2(y, x) + max(x, 2*y) + min(x, y) + abs(x - 3)",
        ];
        let values = [0.7, 1.3];
        for formula in formulas {
            let expr = parsed(formula);
            let tape = Tape::new();
            let variables = [tape.var(values[0]), tape.var(values[1])];
            let f = expr.build(&tape, &variables);
            f.backward();
            assert!((f.value() - expr.eval(&values)).abs() < 1e-12, "{formula}");
            for (i, variable) in variables.iter().enumerate() {
                let difference = central_difference(&expr, &values, i);
                assert!(
                    (variable.grad() - difference).abs() < 1e-7,
                    "{formula}: ∂{i}"
                );
            }
        }
    }

    #[test]
    fn command_lines() {
        let arguments = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let r = request(&arguments(&["x*y", "x=1", "y=-2.5"])).unwrap();
        assert_eq!(
            (r.formula.as_str(), r.names, r.values),
            (
                "x*y",
                vec!["x".to_string(), "y".to_string()],
                vec![1.0, -2.5]
            )
        );
        assert!(
            request(&arguments(&["x", "x=a"]))
                .unwrap_err()
                .contains("not a number")
        );
        assert!(
            request(&arguments(&["x", "y"]))
                .unwrap_err()
                .contains("two formulas")
        );
        assert!(
            request(&arguments(&["x=1"]))
                .unwrap_err()
                .contains("no formula")
        );
        assert!(
            request(&arguments(&["--file"]))
                .unwrap_err()
                .contains("needs a path")
        );
        assert_eq!(request(&[]).unwrap().formula, DEFAULT_FORMULA);
    }
}
