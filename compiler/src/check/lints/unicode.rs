//! W0007 and W0008: domain and path literals that mix scripts or imitate
//! ASCII with another script (homoglyphs).

use crate::check::literals::{script_findings, ScriptFinding};
use crate::diag::{codes, Diagnostic};
use crate::span::Span;

/// The warnings for one domain or path literal written at `span`.
pub fn check(span: Span, literal: &str) -> Vec<Diagnostic> {
    script_findings(literal)
        .into_iter()
        .map(|finding| match finding {
            ScriptFinding::Mixed { part } => Diagnostic::warning(codes::W0007, format!("`{part}` mixes characters of different scripts"))
                .with_primary(span, "mixed-script literal")
                .with_help("homoglyphs from another script can make a name look like a trusted one; write it in a single script (or in punycode if intended)"),
            ScriptFinding::Confusable { part, looks_like } => {
                Diagnostic::warning(codes::W0008, format!("`{part}` is written in a non-Latin script but looks like `{looks_like}`"))
                    .with_primary(span, "confusable literal")
                    .with_help(format!("if you meant `{looks_like}`, retype it in ASCII; if the non-Latin name is intended, write its punycode form"))
            }
        })
        .collect()
}
