//! The result JSON of runtime.md §7, written as bytes in one fixed field
//! order: for a decision ([`write_decision`]) and for a refusal
//! ([`write_refusal`]). No JSON value is built.

use super::{exit_for, EndpointClasses, Refusal, Summary, RESULT_SCHEMA_ID};
use crate::approval::check::{Outcome, Request};
use crate::bundle::Verified;
use crate::decision::{Codes, Decision};
use crate::exit;
use crate::intent::Intent;
use crate::json::{write_opt_str, write_str, write_str_list, write_u64};
use crate::normalize::Normalized;
use crate::tables::Scratch;
use crate::vocab::Verdict;
use std::borrow::Cow;

/// What the result shows of a decision: `--simulate` turns `block` and
/// `require_approval` into `allow`, adds `simulate_mode_non_enforcing` (and
/// `simulated_<verdict>` when it turned a verdict), and shows no violations
/// or approvals for a verdict it turned.
pub(super) struct Shown<'t> {
    pub decision: Decision<'t>,
    /// What the decision asks of approvers, while the verdict shown is
    /// `require_approval` (worked out once, before any approval step).
    pub request: Option<Request<'t>>,
    pub simulate: bool,
    /// `--simulate` turned the verdict into `allow`.
    pub turned: bool,
    pub verdict: Verdict,
    /// The reasons `--simulate` shows (else the decision's own).
    simulated_reasons: Option<Codes<'t>>,
}

impl<'t> Shown<'t> {
    pub fn of(d: Decision<'t>, request: Option<Request<'t>>, simulate: bool) -> Shown<'t> {
        let turned = simulate && matches!(d.verdict, Verdict::Block | Verdict::RequireApproval);
        let simulated_reasons = simulate.then(|| {
            let mut r = d.reason_codes.clone();
            r.push(Cow::Borrowed("simulate_mode_non_enforcing"));
            if let Some(code) = simulated_code(d.verdict).filter(|_| turned) {
                r.push(Cow::Borrowed(code));
            }
            r.sort_unstable();
            r.dedup();
            r
        });
        let verdict = if turned { Verdict::Allow } else { d.verdict };
        Shown {
            request: request.filter(|_| verdict == Verdict::RequireApproval),
            verdict,
            decision: d,
            simulate,
            turned,
            simulated_reasons,
        }
    }

    pub fn reasons(&self) -> &[Cow<'t, str>] {
        self.simulated_reasons
            .as_deref()
            .unwrap_or(&self.decision.reason_codes)
    }

    pub fn violations(&self) -> &[Cow<'t, str>] {
        if self.turned {
            &[]
        } else {
            &self.decision.violations
        }
    }

    pub fn required_approvals(&self) -> u32 {
        if self.turned {
            0
        } else {
            self.decision.required_approvals
        }
    }
}

/// `simulated_<verdict>`, for a verdict `--simulate` turns into `allow`.
pub(super) fn simulated_code(turned: Verdict) -> Option<&'static str> {
    match turned {
        Verdict::Block => Some("simulated_block"),
        Verdict::RequireApproval => Some("simulated_require_approval"),
        Verdict::Allow | Verdict::DryRun => None,
    }
}

/// The endpoint classes of the intent's targets, sorted and unique.
pub(super) fn endpoint_classes(intent: &Intent) -> EndpointClasses {
    let mut classes: EndpointClasses = intent.targets.iter().map(|t| t.class.as_str()).collect();
    classes.sort_unstable();
    classes.dedup();
    classes
}

fn write_policy(out: &mut Vec<u8>, bundle: &Verified) {
    out.extend_from_slice(bundle.policy_json());
}

fn write_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// Appends the result of a decision and returns its summary (which takes
/// the decision's reasons and the digest: nothing is copied). `trace_path`
/// and `explain` (an object's JSON text) are shown when given.
pub(super) fn write_decision<'b>(
    out: &mut Vec<u8>,
    bundle: &'b Verified,
    n: &Normalized,
    s: Shown<'b>,
    trace_path: Option<&str>,
    explain: Option<&[u8]>,
    approval: Option<Box<Outcome>>,
) -> Summary<'b> {
    let d = &s.decision;
    let classes = endpoint_classes(&n.intent);
    out.extend_from_slice(br#"{"schema_id":""#);
    out.extend_from_slice(RESULT_SCHEMA_ID.as_bytes());
    out.extend_from_slice(br#"","schema_version":"1.0.0","ok":true,"verdict":"#);
    write_str(out, s.verdict.as_str());
    out.extend_from_slice(br#","reason_codes":"#);
    write_str_list(out, s.reasons().iter().map(|c| c.as_ref()));
    out.extend_from_slice(br#","violations":"#);
    write_str_list(out, s.violations().iter().map(|c| c.as_ref()));
    out.extend_from_slice(br#","matched_rules":"#);
    write_str_list(out, d.matched_rules.iter().map(|c| c.as_ref()));
    out.extend_from_slice(br#","decision":"#);
    write_str(out, d.kind.as_str());
    out.extend_from_slice(br#","policy":"#);
    write_policy(out, bundle);
    out.extend_from_slice(br#","intent_digest":"#);
    write_str(out, &n.digest);
    out.extend_from_slice(br#","endpoint_classes":"#);
    write_str_list(out, classes.iter().copied());
    out.extend_from_slice(br#","bundle_verified":"#);
    write_bool(out, bundle.signature_verified);
    out.extend_from_slice(br#","required_approvals":"#);
    write_u64(out, u64::from(s.required_approvals()));
    out.extend_from_slice(br#","warnings":"#);
    write_str_list(out, n.warnings.iter().copied());
    out.extend_from_slice(br#","trace_path":"#);
    write_opt_str(out, trace_path);
    // The request: its object, and whether the MCP proxy may ask for it.
    if let Some(req) = &s.request {
        write_approval_request(out, bundle, n, req);
    }
    let interactive_approval = s.request.as_ref().is_some_and(Request::asks_interactively);
    if let Some(a) = &approval {
        out.extend_from_slice(br#","approval":"#);
        write_outcome(out, a);
    }
    if s.simulate {
        out.extend_from_slice(br#","simulated_verdict":"#);
        write_str(out, d.verdict.as_str());
        out.extend_from_slice(br#","simulated_reason_codes":"#);
        write_str_list(out, d.reason_codes.iter().map(|c| c.as_ref()));
        out.extend_from_slice(br#","would_have_blocked":"#);
        write_bool(
            out,
            matches!(d.verdict, Verdict::Block | Verdict::RequireApproval),
        );
    }
    if let Some(explain) = explain {
        out.extend_from_slice(br#","explain":"#);
        out.extend_from_slice(explain);
    }
    out.push(b'}');
    let (exit, verdict, required_approvals) =
        (exit_for(s.verdict), s.verdict, s.required_approvals());
    Summary {
        exit,
        verdict,
        reason_codes: match s.simulated_reasons {
            Some(r) => r,
            None => s.decision.reason_codes,
        },
        endpoint_classes: classes,
        intent_digest: Some(n.digest),
        required_approvals,
        interactive_approval,
        approval,
        error: None,
        rejection: None,
    }
}

/// `,"approval_request":{…}`: what an approver signs for (`gait-run
/// approve` reads it back).
fn write_approval_request<'t>(
    out: &mut Vec<u8>,
    bundle: &'t Verified,
    n: &Normalized,
    req: &Request<'t>,
) {
    out.extend_from_slice(br#","approval_request":{"intent_digest":"#);
    write_str(out, &n.digest);
    out.extend_from_slice(br#","tool_name":"#);
    write_str(out, &n.intent.tool);
    out.extend_from_slice(br#","policy_digest":"#);
    write_str(out, bundle.policy_digest());
    out.extend_from_slice(br#","policy_revision":"#);
    write_u64(out, u64::from(bundle.info().revision));
    out.extend_from_slice(br#","rules":"#);
    write_str_list(out, req.rules.iter().copied());
    out.extend_from_slice(br#","approvals_required":"#);
    write_u64(out, u64::from(req.required));
    out.extend_from_slice(br#","approvers":"#);
    write_str_list(out, req.approvers(&bundle.tables));
    out.extend_from_slice(br#","interactive":"#);
    write_bool(out, req.interactive);
    out.extend_from_slice(br#","approval_ttl_seconds":"#);
    write_u64(out, u64::from(bundle.tables.approval_ttl_secs()));
    out.extend_from_slice(br#","skill_provenance":"#);
    match &n.intent.skill {
        None => out.extend_from_slice(b"null"),
        Some(k) => {
            out.extend_from_slice(br#"{"skill_name":"#);
            write_str(out, &k.name);
            out.extend_from_slice(br#","skill_version":"#);
            write_opt_str(out, k.version.as_deref());
            out.extend_from_slice(br#","publisher":"#);
            write_str(out, &k.publisher);
            out.extend_from_slice(br#","source":"#);
            write_str(out, &k.source);
            out.extend_from_slice(br#","digest":"#);
            write_opt_str(out, k.digest.as_deref());
            out.extend_from_slice(br#","signature_key_id":"#);
            write_opt_str(out, k.key_id.as_deref());
            out.push(b'}');
        }
    }
    out.push(b'}');
}

/// The `approval` object: `{"granted", "code", "approvers", "tokens":
/// [{"token_id", "approver", "code"}]}`.
pub(super) fn write_outcome(out: &mut Vec<u8>, a: &Outcome) {
    out.extend_from_slice(br#"{"granted":"#);
    write_bool(out, a.granted);
    out.extend_from_slice(br#","code":"#);
    write_str(out, a.code);
    out.extend_from_slice(br#","approvers":"#);
    write_str_list(out, a.approvers.iter().map(|c| c.as_ref()));
    out.extend_from_slice(br#","tokens":["#);
    for (i, t) in a.tokens.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"token_id":"#);
        write_opt_str(out, t.token_id.as_deref());
        out.extend_from_slice(br#","approver":"#);
        write_opt_str(out, t.approver.as_deref());
        out.extend_from_slice(br#","code":"#);
        write_str(out, t.code);
        out.push(b'}');
    }
    out.push(b']');
    if let Some(e) = &a.store_error {
        out.extend_from_slice(br#","store_error":"#);
        write_str(out, e);
    }
    out.push(b'}');
}

/// Appends the `block` result of a refusal and returns its summary.
pub(super) fn write_refusal<'b>(
    out: &mut Vec<u8>,
    why: Refusal<'_>,
    bundle: Option<&Verified>,
) -> Summary<'b> {
    let timed_out;
    let (code, error, exit_code, field, extra): (
        &'static str,
        Cow<'_, str>,
        i32,
        Option<&str>,
        Option<&str>,
    ) = match why {
        Refusal::Rejected(rej) => (
            rej.code.as_str(),
            Cow::Owned(rej.to_string()),
            exit::VERIFY,
            None,
            None,
        ),
        Refusal::Invalid(e) => (
            "intent_invalid",
            Cow::Owned(format!("invalid intent: {e}")),
            exit::INVALID,
            Some(e.field.as_str()),
            e.code,
        ),
        Refusal::Internal(msg) => (
            "internal_error",
            Cow::Borrowed(msg),
            exit::INTERNAL,
            None,
            None,
        ),
        Refusal::TimedOut(limit) => {
            timed_out = format!(
                "the decision did not finish within its deadline of {} ms",
                limit.as_millis()
            );
            (
                "decision_timeout",
                Cow::Borrowed(timed_out.as_str()),
                exit::INTERNAL,
                None,
                None,
            )
        }
    };
    // A rejected bundle shows no policy: nothing of it is trusted.
    let bundle = match why {
        Refusal::Rejected(_) => None,
        _ => bundle,
    };
    // The specific code beside `intent_invalid`, sorted.
    let mut codes: smallvec::SmallVec<[&'static str; 2]> = smallvec::smallvec![code];
    if let Some(extra) = extra {
        codes.push(extra);
        codes.sort_unstable();
    }
    out.extend_from_slice(br#"{"schema_id":""#);
    out.extend_from_slice(RESULT_SCHEMA_ID.as_bytes());
    out.extend_from_slice(
        br#"","schema_version":"1.0.0","ok":false,"verdict":"block","reason_codes":"#,
    );
    write_str_list(out, codes.iter().copied());
    out.extend_from_slice(br#","violations":"#);
    write_str_list(out, codes.iter().copied());
    out.extend_from_slice(br#","matched_rules":[],"decision":"fail_closed","policy":"#);
    match bundle {
        Some(b) => write_policy(out, b),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","intent_digest":null,"endpoint_classes":[],"bundle_verified":"#);
    write_bool(out, bundle.is_some_and(|b| b.signature_verified));
    out.extend_from_slice(br#","required_approvals":0,"warnings":[],"trace_path":null,"error":"#);
    write_str(out, &error);
    if let Some(field) = field {
        out.extend_from_slice(br#","error_field":"#);
        write_str(out, field);
    }
    out.push(b'}');
    Summary {
        exit: exit_code,
        verdict: Verdict::Block,
        reason_codes: codes.iter().map(|c| Cow::Borrowed(*c)).collect(),
        endpoint_classes: EndpointClasses::new(),
        intent_digest: None,
        required_approvals: 0,
        interactive_approval: false,
        approval: None,
        error: Some(error.into_owned()),
        rejection: match why {
            Refusal::Rejected(rej) => Some(Box::new(rej.clone())),
            _ => None,
        },
    }
}

/// The `explain` object of `--explain`: the normalized intent as the rules
/// see it, and each rule of the first two tiers with each atom of its
/// condition and whether it held.
/// The `explain` object: the normalized intent's targets and each rule's
/// atoms; with `backslash`, the targets of the intent's backslash reading
/// too (`backslash_reading.targets`: a path holding `\` is judged both
/// ways, and whoever approves it must see both), and with `shell`, those of
/// each shell reading (`shell_readings[].targets`: quotes removed, each
/// bracket expression one of its characters).
pub(super) fn explain(
    bundle: &Verified,
    intent: &Intent,
    backslash: Option<&Intent>,
    shell: &[Intent],
    scratch: &mut Scratch,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let rules = bundle.tables.explain(intent, 2, scratch);
    out.extend_from_slice(br#"{"tool":"#);
    write_str(&mut out, &intent.tool);
    out.extend_from_slice(br#","risk":"#);
    write_str(&mut out, intent.risk.as_str());
    out.extend_from_slice(br#","targets":"#);
    write_targets(&mut out, intent);
    if let Some(b) = backslash {
        out.extend_from_slice(br#","backslash_reading":{"targets":"#);
        write_targets(&mut out, b);
        out.push(b'}');
    }
    if !shell.is_empty() {
        out.extend_from_slice(br#","shell_readings":["#);
        for (i, reading) in shell.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"targets":"#);
            write_targets(&mut out, reading);
            out.push(b'}');
        }
        out.push(b']');
    }
    out.extend_from_slice(br#","rules":["#);
    for (i, r) in rules.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"rule":"#);
        write_str(&mut out, &r.name);
        out.extend_from_slice(br#","priority":"#);
        write_u64(&mut out, u64::from(r.priority));
        out.extend_from_slice(br#","verdict":"#);
        write_str(&mut out, r.verdict.as_str());
        out.extend_from_slice(br#","matched":"#);
        write_bool(&mut out, r.matched);
        out.extend_from_slice(br#","atoms":["#);
        for (j, (atom, held)) in r.atoms.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"atom":"#);
            write_str(&mut out, atom);
            out.extend_from_slice(br#","held":"#);
            write_bool(&mut out, *held);
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(br#"],"skill":"#);
    if intent.skill.is_some() {
        let f = bundle.tables.skill_facts(intent);
        out.extend_from_slice(br#"{"signed":"#);
        write_bool(&mut out, f.signed);
        out.extend_from_slice(br#","pinned":"#);
        write_bool(&mut out, f.pinned);
        out.extend_from_slice(br#","verified":"#);
        write_bool(&mut out, f.verified());
        out.push(b'}');
    } else {
        out.extend_from_slice(b"null");
    }
    out.push(b'}');
    out
}

/// `[{"kind": …, "value": …, …}, …]`: the targets of `intent`.
fn write_targets(out: &mut Vec<u8>, intent: &Intent) {
    out.push(b'[');
    for (i, t) in intent.targets.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"kind":"#);
        write_str(out, t.kind.as_str());
        out.extend_from_slice(br#","value":"#);
        write_str(out, &t.value);
        out.extend_from_slice(br#","operation":"#);
        write_opt_str(out, t.operation.as_deref());
        out.extend_from_slice(br#","endpoint_class":"#);
        write_str(out, t.class.as_str());
        out.extend_from_slice(br#","destructive":"#);
        write_bool(out, t.destructive);
        out.extend_from_slice(br#","path":"#);
        write_opt_str(out, t.path());
        out.extend_from_slice(br#","domain":"#);
        write_opt_str(out, t.host.as_ref().map(|h| &*h.0));
        out.extend_from_slice(br#","host_class":"#);
        write_opt_str(out, t.host.as_ref().map(|h| h.1.as_str()));
        out.extend_from_slice(br#","programs":"#);
        write_str_list(out, t.programs.iter().map(|c| c.as_ref()));
        out.push(b'}');
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_codes_name_the_turned_verdict() {
        for v in Verdict::ALL {
            let turned = matches!(v, Verdict::Block | Verdict::RequireApproval);
            let want = turned.then(|| format!("simulated_{v}"));
            assert_eq!(simulated_code(*v).map(str::to_owned), want, "{v}");
        }
    }
}
