//! W0005 and W0006: a quantifier that lets an intent slip through the rule.

use crate::diag::{codes, Diagnostic};
use crate::syntax::ast::{Quant, Spanned};
use gait_run::vocab::Verdict;

/// The warning for quantifier `q` on `attr` in a rule deciding `verdict`,
/// where `effective` is the quantifier after the `not`s around it (a negated
/// `any` is an `all`): `any` lets an allow rule allow on one target, `all`
/// lets a block (or approval) rule be escaped by one harmless target.
pub fn check(
    q: &Spanned<Quant>,
    attr: &str,
    effective: Quant,
    verdict: Verdict,
) -> Option<Diagnostic> {
    match (verdict, effective) {
        (Verdict::Allow, Quant::Any) => Some(Diagnostic::warning(codes::W0005, format!("`any {attr}` in an allow rule"))
            .with_primary(q.span, "one matching target is enough to allow")
            .with_help(format!("an intent with several targets would be allowed as soon as one of them matches; use `all {attr}` so that every target must match"))),
        (Verdict::Block | Verdict::RequireApproval, Quant::All) => {
            Some(Diagnostic::warning(codes::W0006, format!("`all {attr}` in a {verdict} rule"))
                .with_primary(q.span, "every target must match for the rule to fire")
                .with_help(format!("adding one harmless target escapes this rule; use `any {attr}` so that one matching target is enough")))
        }
        _ => None,
    }
}
