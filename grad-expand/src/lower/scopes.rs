//! The variables in scope while a body is lowered.
//!
//! Bindings live in nested scopes (a block, a loop body), in declaration order, so that a
//! branch can be undone by truncating them. Every statement asks for names that are usually
//! absent (the exit flags of `return`, `break` and `continue`), so lookups go through an
//! index by name instead of scanning every binding: a scan made a long function quadratic
//! to lower.

use std::collections::HashMap;

pub(super) struct Scopes<V> {
    scopes: Vec<Vec<(String, V)>>,
    /// Where each name is bound, innermost (latest) last.
    index: HashMap<String, Vec<(usize, usize)>>,
}

impl<V: Clone> Scopes<V> {
    /// One open scope, the function's.
    pub(super) fn new() -> Self {
        Scopes {
            scopes: vec![Vec::new()],
            index: HashMap::new(),
        }
    }

    /// How many scopes are open: 1 in the function's own block.
    pub(super) fn depth(&self) -> usize {
        self.scopes.len()
    }

    pub(super) fn push(&mut self) {
        self.scopes.push(Vec::new());
    }

    pub(super) fn pop(&mut self) {
        let depth = self.scopes.len() - 1;
        self.truncate_scope(depth, 0);
        self.scopes.pop();
    }

    /// Declares `name` in the innermost scope, shadowing any earlier binding.
    pub(super) fn bind(&mut self, name: String, val: V) {
        let depth = self.scopes.len() - 1;
        let scope = &mut self.scopes[depth];
        self.index
            .entry(name.clone())
            .or_default()
            .push((depth, scope.len()));
        scope.push((name, val));
    }

    pub(super) fn lookup(&self, name: &str) -> Option<&V> {
        let &(depth, index) = self.index.get(name)?.last()?;
        Some(&self.scopes[depth][index].1)
    }

    /// The depth of the scope that holds the innermost binding of `name` (0: the outermost).
    pub(super) fn depth_of(&self, name: &str) -> Option<usize> {
        self.index.get(name)?.last().map(|&(depth, _)| depth)
    }

    /// Gives the innermost binding of `name` a new value; false if there is none.
    pub(super) fn assign(&mut self, name: &str, val: V) -> bool {
        match self.index.get(name).and_then(|at| at.last()) {
            Some(&(depth, index)) => {
                self.scopes[depth][index].1 = val;
                true
            }
            None => false,
        }
    }

    /// Every binding's value, by scope.
    pub(super) fn values(&self) -> Vec<Vec<V>> {
        self.scopes
            .iter()
            .map(|scope| scope.iter().map(|(_, val)| val.clone()).collect())
            .collect()
    }

    /// Drops the bindings made since `before` was taken (by [`Scopes::values`]), puts the
    /// others back to their values then, and returns the values they had.
    pub(super) fn restore(&mut self, before: &[Vec<V>]) -> Vec<Vec<V>> {
        let after = self.values();
        while self.scopes.len() > before.len() {
            self.pop();
        }
        for (depth, values) in before.iter().enumerate() {
            self.truncate_scope(depth, values.len());
            for (binding, value) in self.scopes[depth].iter_mut().zip(values) {
                binding.1 = value.clone();
            }
        }
        after
    }

    /// Sets the binding at a position of [`Scopes::values`].
    pub(super) fn set(&mut self, depth: usize, index: usize, val: V) {
        self.scopes[depth][index].1 = val;
    }

    fn truncate_scope(&mut self, depth: usize, len: usize) {
        let scope = &mut self.scopes[depth];
        // Bindings are dropped latest first, and a binding's index entry is the last of its
        // name's: any later binding of the same name is later in this scope or in a deeper
        // one, already dropped.
        while scope.len() > len {
            let (name, _) = scope.pop().expect("the scope is longer than len");
            if let Some(at) = self.index.get_mut(&name) {
                at.pop();
                if at.is_empty() {
                    self.index.remove(&name);
                }
            }
        }
    }
}
