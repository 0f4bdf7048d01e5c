//! W0001 and W0002: sets and imports that nothing uses.

use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use std::collections::HashSet;

/// W0001 for each set (name, where it is defined) not in `used`.
pub fn sets<'a>(
    defined: impl IntoIterator<Item = (&'a str, Span)>,
    used: &HashSet<String>,
) -> Vec<Diagnostic> {
    defined
        .into_iter()
        .filter(|(name, _)| !used.contains(*name))
        .map(|(name, span)| {
            Diagnostic::warning(codes::W0001, format!("set `{name}` is never used"))
                .with_primary(span, "unused set")
                .with_help("use it in a rule, or remove it; a prefix `_` does not silence this")
        })
        .collect()
}

/// An import that resolved, and whether anything needs it.
#[derive(Debug, Clone)]
pub struct Import {
    pub alias: String,
    pub span: Span,
    /// One of its sets is referred to (`ALIAS.NAME`).
    pub used: bool,
    /// It brings mappings, trust or pins (or it is a policy, already an error).
    pub contributes: bool,
}

/// W0002 for each import neither used nor contributing.
pub fn imports(imports: &[Import]) -> Vec<Diagnostic> {
    imports
        .iter()
        .filter(|i| !i.used && !i.contributes)
        .map(|i| {
            Diagnostic::warning(codes::W0002, format!("import `{}` is never used", i.alias))
                .with_primary(i.span, "unused import")
                .with_help("refer to one of its sets as `ALIAS.NAME`, or remove the import")
        })
        .collect()
}
