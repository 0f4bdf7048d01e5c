//! Judging approval tokens against a `require_approval` decision. Pure but
//! for the one replay-store call that consumes the granting tokens.
//!
//! The *contributing rules* are the decision's matched rules that have
//! approval terms (its `require_approval` rules); a `default
//! require_approval` decision has none, and any declared approver may
//! approve it, once. The *allowed approvers* are the intersection of the
//! contributing rules' sets (a rule without a set allows any declared
//! approver). `N` is the decision's `required_approvals` (at least 1).
//!
//! Each token is judged, in order, to exactly one code — the first check
//! it fails, in this order:
//!
//! 1. `approval_token_invalid`: unreadable (not a strict
//!    `gait.approval_token`, [`super::token::read`]), or claiming a validity
//!    (`not_after - issued_at`) longer than the policy's `approval_ttl`;
//! 2. `approval_token_untrusted_approver`: the approver is not declared, or
//!    the key id is not one of that approver's keys;
//! 3. `approval_token_signature_invalid`;
//! 4. `approval_token_intent_mismatch`: another intent digest;
//! 5. `approval_token_policy_mismatch`: another policy digest or revision, or
//!    other rules than the contributing ones;
//! 6. `approval_token_untrusted_approver`: the approver is not allowed for
//!    these rules;
//! 7. `approval_token_expired`: now ≥ `not_after`;
//! 8. `approval_token_not_yet_valid`: `issued_at` more than
//!    [`CLOCK_SKEW_SECS`] after now (the approver's clock may run a little
//!    ahead; no allowance is made at expiry);
//!
//! and otherwise it is valid: `approval_token_duplicate_approver` when an
//! earlier valid token has the same approver (it does not count again),
//! `approval_token_replayed` when a counted token has the same token id
//! (another approver's token reusing an id is no second approval), else it
//! counts. When the counting approvers (plus an interactive
//! approval, see below) reach `N`, every counting token (one per distinct
//! approver: a valid approval given with a grant does not linger) is
//! consumed in one all-or-nothing store call: recorded → `allow`, the
//! tokens `approval_token_accepted`, decision code `approval_granted`;
//! some already used → those `approval_token_replayed`, `approval_insufficient`;
//! no store or a store error → `approval_store_unavailable`. Valid tokens
//! that did not grant are `approval_token_valid`. Short of `N`:
//! `approval_distinct_approvers_required` when the valid tokens would have
//! been enough but for repeated approvers, else `approval_insufficient`.
//!
//! An interactive approval ([`super::Approvals::interactive`]) counts as one
//! distinct approver only when there are contributing rules and every one
//! allows interactive approval; it consumes nothing.

use super::token::{self, Token};
use super::{Approvals, Consumed, TokenUse};
use crate::decision::Decision;
use crate::tables::Tables;
use crate::vocab::Verdict;
use serde::Serialize;

/// How far a token's `issued_at` may be ahead of the gate's clock.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// The most tokens judged for one decision; later ones are
/// `approval_token_invalid`.
pub const MAX_TOKENS: usize = 16;

/// The codes of approvals: per token, and for the decision.
pub mod code {
    pub const INVALID: &str = "approval_token_invalid";
    pub const SIGNATURE_INVALID: &str = "approval_token_signature_invalid";
    pub const UNTRUSTED_APPROVER: &str = "approval_token_untrusted_approver";
    pub const EXPIRED: &str = "approval_token_expired";
    pub const NOT_YET_VALID: &str = "approval_token_not_yet_valid";
    pub const INTENT_MISMATCH: &str = "approval_token_intent_mismatch";
    pub const POLICY_MISMATCH: &str = "approval_token_policy_mismatch";
    pub const REPLAYED: &str = "approval_token_replayed";
    pub const DUPLICATE_APPROVER: &str = "approval_token_duplicate_approver";
    /// Valid, consumed: the decision is `allow`.
    pub const ACCEPTED: &str = "approval_token_accepted";
    /// Valid, not consumed: the approval fell short or the store could not
    /// answer.
    pub const VALID: &str = "approval_token_valid";
    pub const GRANTED: &str = "approval_granted";
    pub const INSUFFICIENT: &str = "approval_insufficient";
    pub const DISTINCT_REQUIRED: &str = "approval_distinct_approvers_required";
    pub const STORE_UNAVAILABLE: &str = "approval_store_unavailable";
}

/// Names of rules or approvers, inline up to four.
pub type Names<'t> = smallvec::SmallVec<[&'t str; 4]>;

/// What a `require_approval` decision asks of its approvers (its texts are
/// the bundle's: it outlives changes to the decision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'t> {
    /// The contributing rules, sorted (inline up to four).
    pub rules: Names<'t>,
    /// The allowed approvers, sorted; `None`: any declared approver.
    pub allowed: Option<Names<'t>>,
    /// Distinct approvers required (at least 1).
    pub required: u32,
    /// Every contributing rule allows interactive approval (and there is one).
    pub interactive: bool,
}

impl<'t> Request<'t> {
    /// The request of a decision; `None` unless its verdict is
    /// `require_approval`.
    pub fn of(tables: &'t Tables, d: &Decision) -> Option<Request<'t>> {
        if d.verdict != Verdict::RequireApproval {
            return None;
        }
        let mut rules = Names::new();
        let mut allowed: Option<Names<'t>> = None;
        let mut interactive = true;
        for r in &d.matched_rules {
            let Some(term) = tables.approval_rule(r) else {
                continue;
            };
            rules.push(term.name);
            interactive &= term.interactive;
            if let Some(set) = term.approvers {
                allowed = Some(match allowed {
                    None => set.names().collect(),
                    Some(mut v) => {
                        v.retain(|n| set.contains(n));
                        v
                    }
                });
            }
        }
        Some(Request {
            interactive: interactive && !rules.is_empty(),
            rules,
            allowed,
            required: d.required_approvals.max(1),
        })
    }

    /// The approvers who may approve, sorted: the allowed set, or every
    /// declared approver (the approver table is sorted by name: each name
    /// once). Nothing is collected.
    pub fn approvers<'s>(&'s self, tables: &'t Tables) -> impl Iterator<Item = &'t str> + 's {
        let mut prev = None;
        let declared = self
            .allowed
            .is_none()
            .then(|| tables.approver_keys().map(|(a, _, _)| a))
            .into_iter()
            .flatten()
            .filter(move |a| prev.replace(*a) != Some(*a));
        self.allowed.iter().flatten().copied().chain(declared)
    }

    /// Whether the MCP proxy may ask its client for this approval: the
    /// rules allow interactive approval and one approval is enough (one
    /// interactive answer is one approver, so it cannot grant more).
    pub fn asks_interactively(&self) -> bool {
        self.interactive && self.required <= 1
    }

    fn allows(&self, approver: &str) -> bool {
        self.allowed
            .as_ref()
            .is_none_or(|v| v.binary_search(&approver).is_ok())
    }
}

/// What a token must be bound to.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub intent_digest: &'a str,
    pub policy_digest: &'a str,
    pub policy_revision: u32,
}

/// One token's judgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResult {
    /// `None` for a token that cannot be read.
    pub token_id: Option<String>,
    pub approver: Option<String>,
    pub code: &'static str,
}

/// The approval step of one decision (the result's `approval` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub granted: bool,
    /// `approval_granted`, `approval_insufficient`,
    /// `approval_distinct_approvers_required` or `approval_store_unavailable`.
    pub code: &'static str,
    /// Granted: the approvers whose approval was used (an interactive one
    /// as its label); otherwise the distinct approvers with valid tokens.
    /// Sorted.
    pub approvers: Vec<String>,
    /// Every token given, in order.
    pub tokens: Vec<TokenResult>,
    /// With `approval_store_unavailable`: what the replay store said (its
    /// [`super::StoreError`] text: the stores name themselves without
    /// credentials), for the result, the trace and the decision log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
}

impl Outcome {
    /// The failure codes of the outcome (the decision code and each
    /// token's, sorted and unique) for the result's `reason_codes`: none
    /// when granted.
    pub fn failure_codes(&self) -> Vec<&'static str> {
        if self.granted {
            return Vec::new();
        }
        let mut v: Vec<&'static str> = self
            .tokens
            .iter()
            .map(|t| t.code)
            .filter(|c| *c != code::VALID)
            .chain([self.code])
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// The token as read (`None` when unreadable) and the first check it
/// fails ([`code::VALID`] when none).
fn judge(
    tables: &Tables,
    b: &Binding<'_>,
    req: &Request<'_>,
    now: i64,
    bytes: &[u8],
) -> (Option<Token>, &'static str) {
    let Ok(t) = token::read(bytes) else {
        return (None, code::INVALID);
    };
    let verdict = first_failure(tables, b, req, now, &t);
    (Some(t), verdict)
}

fn first_failure(
    tables: &Tables,
    b: &Binding<'_>,
    req: &Request<'_>,
    now: i64,
    t: &Token,
) -> &'static str {
    let c = &t.claims;
    if c.not_after_secs - c.issued_at_secs > i64::from(tables.approval_ttl_secs()) {
        return code::INVALID;
    }
    let Some(key) = tables.approver_public_key(&c.approver, &c.key_id) else {
        return code::UNTRUSTED_APPROVER;
    };
    if !t.verify(key) {
        return code::SIGNATURE_INVALID;
    }
    if c.intent_digest != b.intent_digest {
        return code::INTENT_MISMATCH;
    }
    if c.policy_digest != b.policy_digest
        || c.policy_revision != b.policy_revision
        || !c
            .rules
            .iter()
            .map(String::as_str)
            .eq(req.rules.iter().copied())
    {
        return code::POLICY_MISMATCH;
    }
    if !req.allows(&c.approver) {
        return code::UNTRUSTED_APPROVER;
    }
    if now >= c.not_after_secs {
        return code::EXPIRED;
    }
    if c.issued_at_secs > now.saturating_add(CLOCK_SKEW_SECS) {
        return code::NOT_YET_VALID;
    }
    code::VALID
}

/// Judges the tokens (and an interactive approval) given for a
/// `require_approval` decision and, when they suffice, consumes the
/// granting tokens in the store. `None` when there is nothing to judge.
pub fn check(
    tables: &Tables,
    b: &Binding<'_>,
    req: &Request<'_>,
    approvals: &Approvals<'_>,
) -> Option<Outcome> {
    let interactive = approvals.interactive.filter(|_| req.interactive);
    if approvals.tokens.is_empty() && interactive.is_none() {
        return None;
    }
    let now = approvals.now.unwrap_or_else(|| crate::time::now().0);
    let mut results = Vec::with_capacity(approvals.tokens.len());
    // Valid tokens: (index into results, token); counted ones first-come.
    let mut counted: Vec<(usize, Token)> = Vec::new();
    let mut duplicates = 0usize;
    for (i, bytes) in approvals.tokens.iter().enumerate() {
        let (token, mut code) = if i < MAX_TOKENS {
            judge(tables, b, req, now, bytes)
        } else {
            (None, code::INVALID)
        };
        // An approver counts once, and an interactive approval's label is
        // one approver already.
        let repeated = |t: &Token| {
            interactive == Some(t.claims.approver.as_str())
                || counted
                    .iter()
                    .any(|(_, c)| c.claims.approver == t.claims.approver)
        };
        // A token id is used once: a second valid token carrying an id
        // already counted here is a replay, whatever its approver (so the
        // store is never handed one id twice).
        let reused = |t: &Token| {
            counted
                .iter()
                .any(|(_, c)| c.claims.token_id == t.claims.token_id)
        };
        if code == code::VALID && token.as_ref().is_some_and(repeated) {
            duplicates += 1;
            code = code::DUPLICATE_APPROVER;
        } else if code == code::VALID && token.as_ref().is_some_and(reused) {
            code = code::REPLAYED;
        }
        results.push(TokenResult {
            token_id: token.as_ref().map(|t| t.claims.token_id.clone()),
            approver: token.as_ref().map(|t| t.claims.approver.clone()),
            code,
        });
        if let (code::VALID, Some(t)) = (code, token) {
            counted.push((i, t));
        }
    }
    let required = req.required as usize;
    let have = counted.len() + usize::from(interactive.is_some());
    let mut approvers: Vec<String> = interactive.map(str::to_owned).into_iter().collect();
    let mut store_error = None;
    let code = if have >= required {
        let uses: Vec<TokenUse<'_>> = counted
            .iter()
            .map(|(_, t)| TokenUse {
                token_id: &t.claims.token_id,
                not_after: t.claims.not_after_secs,
            })
            .collect();
        let consumed = if uses.is_empty() {
            Ok(Consumed::Recorded)
        } else {
            match approvals.store {
                Some(store) => store.consume(&uses),
                None => Err(super::StoreError("no replay store".into())),
            }
        };
        match consumed {
            Ok(Consumed::Recorded) => {
                for (i, t) in &counted {
                    results[*i].code = code::ACCEPTED;
                    approvers.push(t.claims.approver.clone());
                }
                approvers.sort_unstable();
                return Some(Outcome {
                    granted: true,
                    code: code::GRANTED,
                    approvers,
                    tokens: results,
                    store_error: None,
                });
            }
            Ok(Consumed::Replayed(used)) if !used.is_empty() => {
                for u in used {
                    if let Some((i, _)) = counted.get(u) {
                        results[*i].code = code::REPLAYED;
                    }
                }
                code::INSUFFICIENT
            }
            // A store that answers "replayed" naming nothing is not answering.
            Ok(Consumed::Replayed(_)) => {
                store_error = Some("the store answered `replayed` naming no token id".into());
                code::STORE_UNAVAILABLE
            }
            Err(e) => {
                store_error = Some(e.0);
                code::STORE_UNAVAILABLE
            }
        }
    } else if have + duplicates >= required {
        code::DISTINCT_REQUIRED
    } else {
        code::INSUFFICIENT
    };
    approvers.extend(
        counted
            .iter()
            .filter(|(i, _)| results[*i].code == code::VALID)
            .map(|(_, t)| t.claims.approver.clone()),
    );
    approvers.sort_unstable();
    Some(Outcome {
        granted: false,
        code,
        approvers,
        tokens: results,
        store_error,
    })
}
