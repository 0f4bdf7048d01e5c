//! W0010: a value written twice in one list.

use crate::diag::{codes, Diagnostic};
use crate::span::Span;

/// A string value `value` at `span` that was first written at `first`.
pub fn value(value: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::warning(codes::W0010, format!("`{value}` appears more than once"))
        .with_primary(span, "duplicate")
        .with_secondary(first, "first here")
        .with_help("remove the duplicate")
        .with_fix(span, "", "remove the duplicate")
}

/// An enum value at `span` already in the list.
pub fn enum_value(span: Span) -> Diagnostic {
    Diagnostic::warning(codes::W0010, "value appears more than once")
        .with_primary(span, "already in this list")
        .with_help("remove the duplicate")
}
