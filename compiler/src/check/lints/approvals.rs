//! W0011: a `require_approval` rule (or a `default require_approval`) in a
//! policy that declares no approver: nobody can ever approve it, so the
//! intent can never run.

use crate::check::model::Policy;
use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use gait_run::vocab::Verdict;

const HELP: &str = "declare who may approve with `trust approver \"NAME\" key \"ed25519:…\"` (generate a key with `gaitc keygen`), or decide `block` if nobody should";

/// One warning per `require_approval` rule, and one at the `default` item
/// (`default_span`) when it is `require_approval`, if `policy` declares no
/// approver. Each in the file of the policy.
pub fn nobody_can_approve(policy: &Policy, default_span: Option<Span>) -> Vec<Diagnostic> {
    if !policy.approvers.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<Diagnostic> = policy
        .rules
        .iter()
        .filter(|r| r.verdict == Verdict::RequireApproval)
        .map(|r| {
            Diagnostic::warning(
                codes::W0011,
                format!(
                    "rule `{}` requires approval, but the policy declares no approver",
                    r.name
                ),
            )
            .with_primary(r.name_span, "nobody can ever approve this rule")
            .with_help(HELP)
        })
        .collect();
    if let Some(span) = default_span.filter(|_| policy.default == Verdict::RequireApproval) {
        out.push(
            Diagnostic::warning(
                codes::W0011,
                "the default verdict requires approval, but the policy declares no approver",
            )
            .with_primary(span, "nobody can ever approve what no rule decides")
            .with_help(HELP),
        );
    }
    out
}
