//! The gate: the one way an intent is decided. [`evaluate`] takes the
//! intent's bytes and a verified bundle and appends the result JSON of
//! runtime.md §7 to a buffer, returning a [`Summary`] of it — failing closed
//! on every error. `gait-run eval`, `serve`, `mcp-proxy` and `bench`, and the
//! language bindings, all decide through it; [`refuse`] writes the result
//! for a request that never reached a decision (a rejected bundle, a body
//! that cannot be read).

mod result;
mod trace;

use crate::approval::check::{check, code, Binding, Outcome, Request};
use crate::approval::Approvals;
use crate::bundle::{Rejection, Verified};
use crate::decision::Codes;
use crate::exit;
use crate::keys::KeyPair;
use crate::normalize::{self, Digest, IntentError};
use crate::tables::Scratch;
use crate::vocab::Verdict;
use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Duration;

pub use trace::{trace_id, verify_trace, TraceError};

pub const RESULT_SCHEMA_ID: &str = "gait.gate.result";
pub const TRACE_SCHEMA_ID: &str = "gait.gate.trace";

/// The per-decision deadline when none is given (`decision_timeout`).
pub const DEFAULT_DECISION_TIMEOUT: Duration = Duration::from_millis(50);

/// Options of one evaluation.
#[derive(Debug, Default)]
pub struct EvalOptions<'a> {
    pub simulate: bool,
    pub explain: bool,
    /// Write a signed trace into this directory with this key.
    pub trace: Option<(PathBuf, KeyPair)>,
    /// The per-decision deadline (default [`DEFAULT_DECISION_TIMEOUT`]): a
    /// decision still running past it is abandoned and answers `block`,
    /// `decision_timeout`, exit 1 — never a late `allow`.
    pub decision_timeout: Option<Duration>,
    /// Approval tokens (and the replay store, or an interactive approval)
    /// that may turn `require_approval` into `allow`.
    pub approvals: crate::approval::Approvals<'a>,
}

impl EvalOptions<'_> {
    fn deadline(&self) -> Duration {
        self.decision_timeout.unwrap_or(DEFAULT_DECISION_TIMEOUT)
    }
}

/// What a caller needs to know about a result it holds as bytes (its exit
/// code, status, metrics, log line), without reading the bytes back. `'b`
/// is the bundle's lifetime: the reason codes borrow from its string table
/// ([`Summary::into_owned`] detaches a summary from it). A summary of the
/// common path holds everything inline: it costs no heap allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary<'b> {
    /// The process exit code the result implies ([`crate::exit`]).
    pub exit: i32,
    /// The verdict the result shows.
    pub verdict: Verdict,
    /// The result's `reason_codes`.
    pub reason_codes: Codes<'b>,
    /// The result's `endpoint_classes` (sorted, unique).
    pub endpoint_classes: EndpointClasses,
    /// `None` when the intent was never normalized (invalid intent, rejected
    /// bundle).
    pub intent_digest: Option<Digest>,
    /// The result's `required_approvals`.
    pub required_approvals: u32,
    /// The verdict is `require_approval`, one approval is enough and every
    /// contributing rule allows interactive approval (the MCP proxy may ask
    /// the client): [`Request::asks_interactively`].
    pub interactive_approval: bool,
    /// The approval step, when tokens (or an interactive approval) were
    /// judged: the result's `approval` object.
    pub approval: Option<Box<Outcome>>,
    /// The result's `error`: why the gate refused to decide.
    pub error: Option<String>,
    /// The bundle's rejection, as data, when the gate refused because its
    /// bundle is no longer valid (exit [`exit::VERIFY`]; today: past its
    /// `not_after`). Embedders raise their own error from its code and
    /// message instead of reading the `error` text.
    pub rejection: Option<Box<Rejection>>,
}

/// The endpoint classes of a result, sorted and unique (inline: there are
/// seven classes).
pub type EndpointClasses = smallvec::SmallVec<[&'static str; 7]>;

impl Summary<'_> {
    /// Whether the call may run: the verdict shown is `allow` (`dry_run` is
    /// not: the call is not executed).
    pub fn allowed(&self) -> bool {
        self.verdict == Verdict::Allow
    }

    /// The same summary, owning its reason codes (detached from the
    /// bundle: of any lifetime).
    pub fn into_owned<'x>(self) -> Summary<'x> {
        Summary {
            exit: self.exit,
            verdict: self.verdict,
            reason_codes: crate::decision::owned_codes(self.reason_codes),
            endpoint_classes: self.endpoint_classes,
            intent_digest: self.intent_digest,
            required_approvals: self.required_approvals,
            interactive_approval: self.interactive_approval,
            approval: self.approval,
            error: self.error,
            rejection: self.rejection,
        }
    }
}

/// Why the gate answers `block` without a decision.
#[derive(Debug, Clone, Copy)]
pub enum Refusal<'a> {
    /// The bundle failed verification (exit 2; its stable code).
    Rejected(&'a Rejection),
    /// The intent cannot be evaluated (exit 6, `intent_invalid`).
    Invalid(&'a IntentError),
    /// A failure inside the runtime (exit 1, `internal_error`).
    Internal(&'a str),
    /// The decision did not finish within its deadline (exit 1,
    /// `decision_timeout`).
    TimedOut(Duration),
}

/// Decides one intent: its bytes in (JSON text, read strictly), the result
/// JSON (compact, one line, no newline) appended to `out`, its summary
/// returned. Every failure — an invalid intent, a panic, the deadline, a
/// trace that cannot be written — is a `block` result, never a missing or
/// partial one and never `allow`. A bundle past its `not_after` decides
/// nothing more: `block`, `bundle_expired`, exit 2 ([`exit::VERIFY`]), the
/// only way this entry answers exit 2 (every embedder holding a bundle for
/// long — the sidecar, the MCP proxy, the bindings — gets the check here).
pub fn evaluate<'b>(
    bundle: &'b Verified,
    intent: &[u8],
    opts: &EvalOptions,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Summary<'b> {
    evaluate_with(bundle, intent, opts, &opts.approvals, scratch, out)
}

/// [`evaluate`] with the approvals of this one request (the sidecar's
/// `approval_tokens`) in place of `opts.approvals`.
pub fn evaluate_with<'b>(
    bundle: &'b Verified,
    intent: &[u8],
    opts: &EvalOptions,
    approvals: &Approvals<'_>,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Summary<'b> {
    if let Some(rej) = bundle.info().expired_now() {
        return refuse(out, Refusal::Rejected(&rej), Some(bundle));
    }
    let start = out.len();
    let limit = opts.deadline();
    // The intent's JSON tree lives in the scratch's arena, and the
    // normalized intent borrows from it and from the text: the arena is
    // lent out for the whole decision (the scratch itself goes to the
    // tables) and given back, reset, after it — after a panic too.
    let arena = scratch.take_arena();
    let (decided, late) = crate::deadline::run_with(Some(limit), || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            decide(bundle, intent, opts, approvals, scratch, out, &arena)
        }));
        (r, crate::deadline::expired())
    });
    scratch.return_arena(arena);
    match decided {
        Ok(summary) if !late => summary,
        Ok(_) => {
            out.truncate(start);
            refuse(out, Refusal::TimedOut(limit), Some(bundle))
        }
        Err(_) => {
            out.truncate(start);
            refuse(
                out,
                Refusal::Internal("internal error: the evaluation panicked"),
                Some(bundle),
            )
        }
    }
}

/// Appends the `block` result of a request that never reached a decision
/// and returns its summary.
pub fn refuse<'b>(out: &mut Vec<u8>, why: Refusal<'_>, bundle: Option<&Verified>) -> Summary<'b> {
    result::write_refusal(out, why, bundle)
}

fn decide<'b>(
    bundle: &'b Verified,
    text: &[u8],
    opts: &EvalOptions,
    approvals: &Approvals<'_>,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    arena: &crate::json::Bump,
) -> Summary<'b> {
    // The canonical text is kept only for a signed trace (the digest is
    // all a result shows of it).
    let keep_canonical = opts.trace.is_some();
    let normalized = normalize::parse_json(text, arena).and_then(|raw| {
        normalize::normalize_json_in(
            &raw,
            Some(&bundle.tables),
            keep_canonical,
            &mut scratch.normalize,
        )
    });
    let n = match normalized {
        Ok(n) => n,
        Err(e) => return refuse(out, Refusal::Invalid(&e), Some(bundle)),
    };
    let mut decision = n.decide(|i| bundle.tables.decide(i, scratch));
    // What a `require_approval` decision asks, worked out once: judged
    // against here, written into the result there.
    let request = Request::of(&bundle.tables, &decision);
    // The approval step: only for a `require_approval` decision given
    // something to judge, never under --simulate (which consumes nothing).
    let approval = match &request {
        Some(req)
            if !opts.simulate
                && (!approvals.tokens.is_empty() || approvals.interactive.is_some()) =>
        {
            approve(bundle, &n.digest, &mut decision, req, approvals)
        }
        _ => None,
    };
    let shown = result::Shown::of(decision, request, opts.simulate);
    let explain = opts.explain.then(|| {
        let backslash = n.backslash_reading.as_deref();
        result::explain(bundle, &n.intent, backslash, &n.shell_readings, scratch)
    });
    let mut trace_path = None;
    if let Some((dir, key)) = &opts.trace {
        if crate::deadline::expired() {
            // No trace for a decision that will be answered as timed out
            // (`evaluate` replaces this result).
            return refuse(out, Refusal::TimedOut(opts.deadline()), Some(bundle));
        }
        match trace::write(dir, key, bundle, &n, &shown, approval.as_deref()) {
            Ok(path) => trace_path = Some(path.display().to_string()),
            Err(e) => {
                let msg = format!("cannot write the trace: {e}");
                return refuse(out, Refusal::Internal(&msg), Some(bundle));
            }
        }
    }
    result::write_decision(
        out,
        bundle,
        &n,
        shown,
        trace_path.as_deref(),
        explain.as_deref(),
        approval,
    )
}

/// Judges the approvals of a `require_approval` decision and applies the
/// outcome: granted, the verdict becomes `allow` (the rules' reasons and
/// `approval_granted`; no violations, no approvals required); otherwise it
/// stays and gains the failure codes.
fn approve(
    bundle: &Verified,
    intent_digest: &str,
    decision: &mut crate::decision::Decision<'_>,
    req: &Request<'_>,
    approvals: &Approvals<'_>,
) -> Option<Box<Outcome>> {
    let binding = Binding {
        intent_digest,
        policy_digest: bundle.policy_digest(),
        policy_revision: bundle.info().revision,
    };
    let outcome = check(&bundle.tables, &binding, req, approvals)?;
    if outcome.granted {
        decision.verdict = Verdict::Allow;
        decision.reason_codes.push(Cow::Borrowed(code::GRANTED));
        decision.violations.clear();
        decision.required_approvals = 0;
    } else {
        decision
            .reason_codes
            .extend(outcome.failure_codes().into_iter().map(Cow::Borrowed));
    }
    decision.reason_codes.sort_unstable();
    decision.reason_codes.dedup();
    Some(Box::new(outcome))
}

/// The stages of a decision, as `gait-run bench` reports them.
pub const STAGES: [&str; 5] = ["read", "normalize", "digest", "decide", "write"];

/// Times the stages of one decision (plain options: no explain, trace or
/// simulation), in nanoseconds, in [`STAGES`] order: reading the intent
/// text, normalizing it (without the digest), the intent digest (RFC 8785
/// text and SHA-256, timed by computing it again over the same text),
/// deciding, writing the result into `out`. `None` for an intent the gate
/// refuses (there are no later stages). Clock reads only: a bench tool, not
/// the decision path.
pub fn stage_times(
    bundle: &Verified,
    intent: &[u8],
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Option<[u64; 5]> {
    let arena = scratch.take_arena();
    let times = stage_times_in(bundle, intent, scratch, out, &arena);
    scratch.return_arena(arena);
    times
}

fn stage_times_in(
    bundle: &Verified,
    intent: &[u8],
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    arena: &crate::json::Bump,
) -> Option<[u64; 5]> {
    let ns = |t: std::time::Instant| u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let t = std::time::Instant::now();
    let raw = normalize::parse_json(intent, arena).ok()?;
    let read = ns(t);
    let t = std::time::Instant::now();
    let n = normalize::normalize_json_in(&raw, Some(&bundle.tables), true, &mut scratch.normalize)
        .ok()?;
    let normalize_all = ns(t);
    let t = std::time::Instant::now();
    std::hint::black_box(normalize::digest_of(std::hint::black_box(&n.canonical)));
    let digest = ns(t);
    let t = std::time::Instant::now();
    let decision = n.decide(|i| bundle.tables.decide(i, scratch));
    let decide = ns(t);
    let t = std::time::Instant::now();
    let request = Request::of(&bundle.tables, &decision);
    let shown = result::Shown::of(decision, request, false);
    // The summary and the normalized intent are dropped inside the stage,
    // as in a decision.
    drop(result::write_decision(
        out, bundle, &n, shown, None, None, None,
    ));
    drop(n);
    let write = ns(t);
    Some([
        read,
        normalize_all.saturating_sub(digest),
        digest,
        decide,
        write,
    ])
}

fn exit_for(v: Verdict) -> i32 {
    match v {
        Verdict::Allow | Verdict::DryRun => exit::ALLOW,
        Verdict::Block => exit::BLOCK,
        Verdict::RequireApproval => exit::APPROVAL,
    }
}
