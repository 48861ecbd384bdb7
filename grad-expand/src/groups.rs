//! The user's function as the attribute emits it: an expression a `macro_rules!` macro passed
//! in (`$e:expr`) keeps its grouping.
//!
//! Why: rustc hands such a fragment to the attribute as a group without delimiters, syn parses
//! it as `Expr::Group`, and printed back it is again a group without delimiters, which rustc
//! then does not treat as one: `$e * y` with `$e = x - a * x * x` came out as
//! `x - a * x * x * y`, so the function computed something else than the one written, while
//! its gradient (lowered from syn's tree) was that of the written one. Each such group that is
//! an operand of an operator becomes a parenthesized expression instead, which rustc reads the
//! same way syn did; elsewhere the grouping cannot matter, and parentheses there would only
//! draw `unused_parens`. The driver does this before lowering, so that what the core copies
//! out of the body (a nested `const`, a constant expression) is parenthesized too.

use syn::visit_mut::VisitMut;
use syn::{Expr, ExprParen};

/// Puts in parentheses every delimiter-less group of `function`'s body that is an operand.
pub fn keep_macro_groups(function: &mut syn::ItemFn) {
    Parenthesize.visit_block_mut(&mut function.block);
}

/// The same for every item of a `#[differentiable]` impl block or module, the functions it
/// leaves as written included (they are emitted through syn too).
pub fn keep_macro_groups_in(item: &mut syn::Item) {
    Parenthesize.visit_item_mut(item);
}

struct Parenthesize;

/// `expr` in parentheses, if it is a delimiter-less group whose content binds less tightly
/// than an operand must.
fn parenthesize(expr: &mut Expr) {
    let Expr::Group(group) = expr else {
        return;
    };
    let atomic = matches!(
        *group.expr,
        Expr::Lit(_)
            | Expr::Path(_)
            | Expr::Call(_)
            | Expr::MethodCall(_)
            | Expr::Paren(_)
            | Expr::Field(_)
            | Expr::Index(_)
            | Expr::Macro(_)
            | Expr::Tuple(_)
            | Expr::Array(_)
    );
    if atomic {
        return;
    }
    let paren = ExprParen {
        attrs: std::mem::take(&mut group.attrs),
        paren_token: syn::token::Paren(group.group_token.span),
        expr: group.expr.clone(),
    };
    *expr = Expr::Paren(paren);
}

impl VisitMut for Parenthesize {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Binary(binary) => {
                parenthesize(&mut binary.left);
                parenthesize(&mut binary.right);
            }
            Expr::Unary(unary) => parenthesize(&mut unary.expr),
            Expr::Cast(cast) => parenthesize(&mut cast.expr),
            Expr::MethodCall(call) => parenthesize(&mut call.receiver),
            Expr::Field(field) => parenthesize(&mut field.base),
            Expr::Index(index) => parenthesize(&mut index.expr),
            Expr::Try(try_expr) => parenthesize(&mut try_expr.expr),
            Expr::Reference(reference) => parenthesize(&mut reference.expr),
            Expr::Range(range) => {
                if let Some(start) = &mut range.start {
                    parenthesize(start);
                }
                if let Some(end) = &mut range.end {
                    parenthesize(end);
                }
            }
            _ => {}
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}
