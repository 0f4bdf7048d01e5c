//! How checking reports: the one place an invalid literal, a repeated
//! clause, a bad integer or an unknown enum word becomes a diagnostic.

use super::attrs::EnumKind;
use super::literals::{self, LitError};
use super::Session;
use crate::diag::{codes, Diagnostic};
use crate::span::{FileId, Span};
use crate::suggest::best_match;
use crate::syntax::ast::Spanned;
use std::collections::HashMap;

impl Session {
    pub(super) fn report(&mut self, file: FileId, d: Diagnostic) {
        self.diagnostics.push(d.in_file(file));
    }

    /// The value of a validated literal, or `None` after reporting why it is
    /// invalid: as `code`, labelled `label`, with the validator's help and fix-it.
    pub(super) fn literal<T>(
        &mut self,
        file: FileId,
        checked: Result<T, LitError>,
        code: &str,
        span: Span,
        label: &str,
    ) -> Option<T> {
        match checked {
            Ok(v) => Some(v),
            Err(e) => {
                self.report(file, lit_diag(code, e, span, label));
                None
            }
        }
    }

    /// A non-negative 32-bit integer as written, or `None` after reporting (E0006).
    pub(super) fn integer(&mut self, file: FileId, n: &Spanned<String>, what: &str) -> Option<u32> {
        let checked = literals::integer(&n.node, what);
        self.literal(file, checked, codes::E0006, n.span, "invalid integer")
    }

    /// Whether clause `kw` at `span` is the first of its kind (`seen` holds
    /// the first of each); a repeat is reported as a duplicate (E0061).
    pub(super) fn first(
        &mut self,
        file: FileId,
        seen: &mut HashMap<&'static str, Span>,
        kw: &'static str,
        span: Span,
    ) -> bool {
        if let Some(first) = seen.get(kw) {
            self.duplicate_clause(file, kw, span, *first);
            return false;
        }
        seen.insert(kw, span);
        true
    }

    /// A clause written twice where it may appear once (E0061).
    pub(super) fn duplicate_clause(&mut self, file: FileId, what: &str, span: Span, first: Span) {
        let d = Diagnostic::error(codes::E0061, format!("duplicate `{what}`"))
            .with_primary(span, format!("second `{what}`"))
            .with_secondary(first, format!("first `{what}`"))
            .with_help(format!("write `{what}` once"));
        self.report(file, d);
    }

    /// A word that is not a value of `kind`, or one written in quotes (E0034).
    pub(super) fn bad_enum(
        &mut self,
        file: FileId,
        span: Span,
        kind: EnumKind,
        word: &str,
        quoted: bool,
    ) {
        let spellings = kind.spellings();
        let mut d = if quoted && kind.parse(word).is_some() {
            Diagnostic::error(
                codes::E0034,
                format!("{} values are bare words, not strings", kind.what()),
            )
            .with_primary(span, "written as a string")
            .with_help(format!("write `{word}` without quotes"))
            .with_fix(span, word, "remove the quotes")
        } else {
            Diagnostic::error(codes::E0034, format!("`{word}` is not a {}", kind.what()))
                .with_primary(span, format!("unknown {}", kind.what()))
        };
        if d.help.is_none() {
            d = d.with_suggestion(
                span,
                best_match(word, spellings.iter().copied()),
                format!(
                    "{}es are: {}",
                    kind.what().trim_end_matches('s'),
                    spellings.join(", ")
                ),
            );
        }
        self.report(file, d);
    }
}

fn lit_diag(code: &str, e: LitError, span: Span, label: &str) -> Diagnostic {
    let mut d = Diagnostic::error(code, e.message)
        .with_primary(span, label)
        .with_help(e.help);
    if let Some(fix) = e.fix {
        d = d.with_fix(span, format!("{fix:?}"), format!("replace with {fix:?}"));
    }
    d
}
