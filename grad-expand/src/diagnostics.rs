//! Errors collected across every pass, so that a user with three mistakes sees three messages
//! in one build (the serde_derive `Ctxt` pattern).

use quote::ToTokens;
use std::fmt::Display;

#[derive(Default)]
pub struct Diagnostics {
    combined: Option<syn::Error>,
    count: usize,
}

impl Diagnostics {
    pub fn push(&mut self, error: syn::Error) {
        self.count += 1;
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Records an error spanned on exactly the tokens the user wrote.
    pub fn error(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub fn error_at(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    pub fn has_errors(&self) -> bool {
        self.combined.is_some()
    }

    /// How many errors so far; a pass compares counts to learn whether it added any.
    pub fn count(&self) -> usize {
        self.count
    }

    pub fn into_result(self) -> Result<(), syn::Error> {
        match self.combined {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// A type or expression as a message quotes it: `&Vec<f64>`, not the tokens' `& Vec < f64 >`.
pub fn spelled(tokens: impl ToTokens) -> String {
    let mut text = tokens.to_token_stream().to_string();
    for (spaced, tight) in [
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        ("& ", "&"),
        (" ,", ","),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
        ("( ", "("),
        (" )", ")"),
        (" :: ", "::"),
        (":: ", "::"),
    ] {
        text = text.replace(spaced, tight);
    }
    text
}
