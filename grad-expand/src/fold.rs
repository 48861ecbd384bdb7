//! Folds single-use temporaries back into their one use.
//!
//! The sweeps are emitted one `let` per graph node, which keeps each pass simple but makes
//! the generated code several times longer than the user's (`let __v9 = __v8 * 0.2;` for a
//! `* 0.2` inside a larger expression). This pass, run on the finished body of the core
//! function, moves `let t = e;` into the one place that reads `t` when that is safe:
//!
//! - `t` is a generated value, adjoint or partial, read exactly once in the whole function,
//!   by a later statement of the same block and not inside a nested `{ }` (a loop body or a
//!   branch), with no other `let t` in between: so `e` still runs exactly once, and no later
//!   than anything that reads its result;
//! - `e` is pure and reads only immutable bindings: generated values, adjoints and partials
//!   declared without `mut`, and the parameters; no indexing (arrays may be written in
//!   between), no calls but float methods and grad's own functions (the user's may have
//!   effects), no blocks; and it is short, so that folded expressions stay shallow.
//!
//! LLVM sees the same data flow either way; the point is the size of what rustc must parse,
//! type-check and lower, and of what a reader must read.

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, TokenStream, TokenTree};
use std::collections::{HashMap, HashSet};

/// The longest expression (in tokens, groups included) that is folded into its use.
const MAX_FOLDED_TOKENS: usize = 48;

/// Folds the single-use `let`s of `body`, the statements of a function whose parameters are
/// `params`.
pub fn fold_single_use(body: TokenStream, params: &[Ident]) -> TokenStream {
    let params: HashSet<String> = params.iter().map(ToString::to_string).collect();
    let body = propagate_aliases(body, &params);
    let mut survey = Survey::default();
    survey.tokens(body.clone());
    let folder = Folder {
        uses: survey.uses,
        mutable: survey.mutable,
        params,
    };
    subtract_negations(folder.block(body))
}

/// `x += -y;` and `x += (-y);` become `x -= y;` (the same IEEE result, one negation less per
/// execution), where `y` is one token: a name, a literal or a parenthesized expression.
fn subtract_negations(tokens: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if let [TokenTree::Punct(plus), eq, ..] = &tokens[i..] {
            let add_assign =
                plus.as_char() == '+' && plus.spacing() == Spacing::Joint && is_punct(eq, '=');
            let end = tokens[i..].iter().position(|t| is_punct(t, ';'));
            if let (true, Some(end)) = (add_assign, end)
                && let Some(operand) = negated_operand(&tokens[i + 2..i + end])
            {
                let mut minus = Punct::new('-', Spacing::Joint);
                minus.set_span(plus.span());
                out.extend([TokenTree::Punct(minus), eq.clone(), operand]);
                i += end;
                continue;
            }
        }
        out.push(match &tokens[i] {
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), subtract_negations(group.stream()));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            other => other.clone(),
        });
        i += 1;
    }
    out.into_iter().collect()
}

/// `y` of an expression `-y` or `(-y)`, when `y` is one token other than punctuation.
fn negated_operand(expr: &[TokenTree]) -> Option<TokenTree> {
    match expr {
        [TokenTree::Punct(minus), operand]
            if minus.as_char() == '-'
                && minus.spacing() == Spacing::Alone
                && !matches!(operand, TokenTree::Punct(_)) =>
        {
            Some(operand.clone())
        }
        [TokenTree::Group(group)] if group.delimiter() == Delimiter::Parenthesis => {
            let inner: Vec<TokenTree> = group.stream().into_iter().collect();
            negated_operand(&inner)
        }
        _ => None,
    }
}

/// Removes `let a = b;` where both are immutable and declared once (or `b` is a parameter),
/// reading `b` wherever `a` was read: `b` is in scope wherever `a` is, with the same value.
fn propagate_aliases(body: TokenStream, params: &HashSet<String>) -> TokenStream {
    let mut survey = Survey::default();
    survey.tokens(body.clone());
    let single = |name: &str| {
        !survey.mutable.contains(name) && survey.declarations.get(name).copied().unwrap_or(0) <= 1
    };
    let mut aliases: HashMap<String, String> = HashMap::new();
    let body = drop_aliases(body, &mut |alias: &str, target: &str| {
        let foldable = is_generated(alias)
            && !params.contains(alias)
            && single(alias)
            && (is_generated(target) || params.contains(target))
            && single(target);
        if foldable {
            aliases.insert(alias.to_owned(), target.to_owned());
        }
        foldable
    });
    let resolve = |name: &str| {
        let mut name = name;
        // Chains are short; the bound only guards against a cycle, which cannot happen.
        for _ in 0..64 {
            match aliases.get(name) {
                Some(next) => name = next,
                None => break,
            }
        }
        name.to_owned()
    };
    rename(body, &resolve)
}

/// Drops each `let a = b;` statement that `accept(a, b)` accepts.
fn drop_aliases(tokens: TokenStream, accept: &mut dyn FnMut(&str, &str) -> bool) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if let [
            let_token,
            TokenTree::Ident(alias),
            eq,
            TokenTree::Ident(target),
            semi,
            ..,
        ] = &tokens[i..]
        {
            let statement_start = i == 0 || ends_statement(&tokens[i - 1]);
            if statement_start
                && is_ident(let_token, "let")
                && is_punct(eq, '=')
                && is_punct(semi, ';')
                && accept(&alias.to_string(), &target.to_string())
            {
                i += 5;
                continue;
            }
        }
        out.push(match &tokens[i] {
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), drop_aliases(group.stream(), accept));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            other => other.clone(),
        });
        i += 1;
    }
    out.into_iter().collect()
}

/// Renames every read (an identifier not after `.` or `::`) through `resolve`.
fn rename(tokens: TokenStream, resolve: &dyn Fn(&str) -> String) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        out.push(match token {
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), rename(group.stream(), resolve));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            TokenTree::Ident(ident) if !after_path_separator(&tokens, i) => {
                let name = ident.to_string();
                let resolved = resolve(&name);
                if resolved == name {
                    token.clone()
                } else {
                    TokenTree::Ident(Ident::new(&resolved, ident.span()))
                }
            }
            other => other.clone(),
        });
    }
    out.into_iter().collect()
}

#[derive(Default)]
struct Survey {
    /// How often each identifier is read (declarations by `let name` excluded).
    uses: HashMap<String, usize>,
    /// Identifiers declared `let mut` (nothing else is ever assigned).
    mutable: HashSet<String>,
    /// How often each identifier is bound: by `let name`, or in the pattern of a `let` or a
    /// `for`.
    declarations: HashMap<String, usize>,
}

impl Survey {
    fn tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Group(group) => {
                    let pattern = i > 0
                        && (is_ident(&tokens[i - 1], "let") || is_ident(&tokens[i - 1], "for"));
                    if pattern {
                        self.pattern(group.stream());
                    }
                    self.tokens(group.stream());
                }
                TokenTree::Ident(ident) => {
                    let after_let = i > 0 && is_ident(&tokens[i - 1], "let");
                    let after_let_mut =
                        i > 1 && is_ident(&tokens[i - 1], "mut") && is_ident(&tokens[i - 2], "let");
                    if after_let_mut {
                        self.mutable.insert(ident.to_string());
                    }
                    if after_let && ident != "mut" || after_let_mut {
                        *self.declarations.entry(ident.to_string()).or_insert(0) += 1;
                    }
                    if !after_let && !after_path_separator(&tokens, i) {
                        *self.uses.entry(ident.to_string()).or_insert(0) += 1;
                    }
                }
                _ => {}
            }
        }
    }

    /// The identifiers bound by a `let` or `for` pattern.
    fn pattern(&mut self, tokens: TokenStream) {
        for token in tokens {
            match token {
                TokenTree::Group(group) => self.pattern(group.stream()),
                TokenTree::Ident(ident) => {
                    *self.declarations.entry(ident.to_string()).or_insert(0) += 1;
                }
                _ => {}
            }
        }
    }
}

struct Folder {
    uses: HashMap<String, usize>,
    mutable: HashSet<String>,
    params: HashSet<String>,
}

fn is_ident(token: &TokenTree, name: &str) -> bool {
    matches!(token, TokenTree::Ident(ident) if ident == name)
}

fn is_punct(token: &TokenTree, ch: char) -> bool {
    matches!(token, TokenTree::Punct(punct) if punct.as_char() == ch)
}

/// Whether the identifier at `i` follows `.` or `::` (a method, field or path segment).
fn after_path_separator(tokens: &[TokenTree], i: usize) -> bool {
    i > 0 && is_punct(&tokens[i - 1], '.')
        || i > 1 && is_punct(&tokens[i - 1], ':') && is_punct(&tokens[i - 2], ':')
}

/// `__v12`, `__adj12`, `__d12_0`: the names the sweeps give nodes (see `names.rs`).
fn is_generated(name: &str) -> bool {
    ["__v", "__adj", "__d"].iter().any(|prefix| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    })
}

fn token_count(tokens: &[TokenTree]) -> usize {
    tokens
        .iter()
        .map(|t| match t {
            TokenTree::Group(g) => 1 + token_count(&g.stream().into_iter().collect::<Vec<_>>()),
            _ => 1,
        })
        .sum()
}

fn ends_statement(token: &TokenTree) -> bool {
    is_punct(token, ';')
        || matches!(token, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
}

/// Splits a block's tokens into statements: each ends with a `;` or, for a statement that
/// starts with a keyword that takes a block (`for`, `if`, ...), with its last `{ }`.
fn statements(tokens: Vec<TokenTree>) -> Vec<Vec<TokenTree>> {
    const BLOCK_STATEMENTS: &[&str] = &["for", "while", "loop", "if", "match", "fn", "unsafe"];
    let mut out = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(token) = iter.next() {
        let is_semi = is_punct(&token, ';');
        let is_brace = matches!(&token, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace);
        current.push(token);
        let block_statement = current
            .first()
            .is_some_and(|t| BLOCK_STATEMENTS.iter().any(|k| is_ident(t, k)));
        let continues = iter.peek().is_some_and(|next| {
            is_ident(next, "else") || is_punct(next, '.') || is_punct(next, '?')
        });
        if is_semi || (is_brace && block_statement && !continues) {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

impl Folder {
    /// Folds within one block's statements, then within the blocks nested in them.
    fn block(&self, tokens: TokenStream) -> TokenStream {
        let mut stmts: Vec<Option<Vec<TokenTree>>> = statements(tokens.into_iter().collect())
            .into_iter()
            .map(Some)
            .collect();
        // Where each name is read (outside nested blocks) or declared, by statement.
        let mut reads: HashMap<String, Vec<usize>> = HashMap::new();
        let mut declared: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, stmt) in stmts.iter().enumerate() {
            let stmt = stmt.as_deref().unwrap_or_default();
            let mut names = Vec::new();
            outside_braces(stmt, &mut names);
            for name in names {
                reads.entry(name).or_default().push(index);
            }
            if let Some(name) = declared_name(stmt) {
                declared.entry(name).or_default().push(index);
            }
        }
        for index in 0..stmts.len() {
            let Some((name, expr)) = stmts[index].as_deref().and_then(|s| self.candidate(s)) else {
                continue;
            };
            let Some(target) = reads
                .get(&name)
                .and_then(|at| at.iter().copied().find(|&t| t > index))
            else {
                continue;
            };
            let shadowed = declared
                .get(&name)
                .is_some_and(|at| at.iter().any(|&d| d > index && d < target));
            if shadowed {
                continue;
            }
            let Some(target_stmt) = stmts[target].as_mut() else {
                continue;
            };
            if replace_first(target_stmt, &name, &parenthesize(expr)) {
                stmts[index] = None;
            }
        }
        stmts
            .into_iter()
            .flatten()
            .flatten()
            .map(|token| match token {
                TokenTree::Group(group) => {
                    let mut folded = Group::new(group.delimiter(), self.block(group.stream()));
                    folded.set_span(group.span());
                    TokenTree::Group(folded)
                }
                other => other,
            })
            .collect()
    }

    /// `let name = expr;` that can be folded: its name and expression.
    fn candidate(&self, stmt: &[TokenTree]) -> Option<(String, Vec<TokenTree>)> {
        let [let_token, TokenTree::Ident(name), eq, expr @ .., semi] = stmt else {
            return None;
        };
        let name = name.to_string();
        let foldable = is_ident(let_token, "let")
            && is_punct(eq, '=')
            && is_punct(semi, ';')
            && is_generated(&name)
            && !self.params.contains(&name)
            && !self.mutable.contains(&name)
            && self.uses.get(&name) == Some(&1)
            && !expr.is_empty()
            && token_count(expr) <= MAX_FOLDED_TOKENS
            && self.pure(expr);
        foldable.then(|| (name, expr.to_vec()))
    }

    /// Reads only immutable bindings, calls nothing but float methods and grad's own
    /// functions, indexes nothing and holds no block.
    fn pure(&self, expr: &[TokenTree]) -> bool {
        for (i, token) in expr.iter().enumerate() {
            match token {
                TokenTree::Group(group) => match group.delimiter() {
                    Delimiter::Parenthesis | Delimiter::None => {
                        let called = i > 0 && matches!(&expr[i - 1], TokenTree::Ident(_));
                        if called && !allowed_call(expr, i - 1) {
                            return false;
                        }
                        let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                        if !self.pure(&inner) {
                            return false;
                        }
                    }
                    Delimiter::Bracket | Delimiter::Brace => return false,
                },
                TokenTree::Ident(ident) => {
                    let name = ident.to_string();
                    let after_as = i > 0 && is_ident(&expr[i - 1], "as");
                    let starts_path = expr.get(i + 1).is_some_and(|t| is_punct(t, ':'));
                    let binding = (is_generated(&name) || self.params.contains(&name))
                        && !self.mutable.contains(&name);
                    let keyword = matches!(name.as_str(), "as" | "true" | "false");
                    if !(after_path_separator(expr, i)
                        || after_as
                        || starts_path
                        || binding
                        || keyword)
                    {
                        return false;
                    }
                }
                _ => {}
            }
        }
        true
    }
}

/// The call whose callee ends at `i`: a method (after `.`), or a path through `grad`.
fn allowed_call(expr: &[TokenTree], i: usize) -> bool {
    if i > 0 && is_punct(&expr[i - 1], '.') {
        return true;
    }
    let mut first = i;
    while first >= 3 && is_punct(&expr[first - 1], ':') && is_punct(&expr[first - 2], ':') {
        first -= 3;
    }
    is_ident(&expr[first], "grad")
}

/// The names `let name` or `let (a, b)` declares at the start of `stmt`.
fn declared_name(stmt: &[TokenTree]) -> Option<String> {
    match stmt {
        [let_token, TokenTree::Ident(name), ..] if is_ident(let_token, "let") => {
            if name == "mut" {
                match stmt.get(2) {
                    Some(TokenTree::Ident(name)) => Some(name.to_string()),
                    _ => None,
                }
            } else {
                Some(name.to_string())
            }
        }
        _ => None,
    }
}

/// Every identifier read in `tokens` outside nested `{ }` blocks (`let` patterns included,
/// which only makes the search more careful).
fn outside_braces(tokens: &[TokenTree], names: &mut Vec<String>) {
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(ident) if !after_path_separator(tokens, i) => {
                names.push(ident.to_string());
            }
            TokenTree::Group(group) if group.delimiter() != Delimiter::Brace => {
                outside_braces(&group.stream().into_iter().collect::<Vec<_>>(), names);
            }
            _ => {}
        }
    }
}

/// Replaces the first read of `name` outside nested blocks with `replacement`.
fn replace_first(tokens: &mut [TokenTree], name: &str, replacement: &TokenTree) -> bool {
    for i in 0..tokens.len() {
        let read_here = matches!(&tokens[i], TokenTree::Ident(ident) if ident == name)
            && !after_path_separator(tokens, i);
        if read_here {
            tokens[i] = replacement.clone();
            return true;
        }
        if let TokenTree::Group(group) = &tokens[i] {
            if group.delimiter() == Delimiter::Brace {
                continue;
            }
            let mut inner: Vec<TokenTree> = group.stream().into_iter().collect();
            if replace_first(&mut inner, name, replacement) {
                let mut rebuilt = Group::new(group.delimiter(), inner.into_iter().collect());
                rebuilt.set_span(group.span());
                tokens[i] = TokenTree::Group(rebuilt);
                return true;
            }
        }
    }
    false
}

/// A lone token as it is; anything longer in parentheses, so that precedence is kept.
fn parenthesize(expr: Vec<TokenTree>) -> TokenTree {
    if let [single] = expr.as_slice() {
        let negative =
            matches!(single, TokenTree::Literal(lit) if lit.to_string().starts_with('-'));
        if !negative {
            return single.clone();
        }
    }
    TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        expr.into_iter().collect(),
    ))
}
