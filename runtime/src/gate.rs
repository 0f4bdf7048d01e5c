//! One decision, end to end: a verified bundle and an intent in, the result
//! JSON of runtime.md §7 and an exit code out — failing closed on every
//! error. Used by `gait-run eval` (and the serving modes to come).

use crate::bundle::{Rejection, Verified};
use crate::decision::Decision;
use crate::json::{write_str, write_str_list, write_u64};
use crate::keys::{b64_decode, b64_encode, KeyPair, PublicKey};
use crate::normalize::{self, IntentError, Normalized};
use crate::tables::Scratch;
use crate::vocab::{EndpointClass, Verdict};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Exit codes (runtime.md §1).
pub mod exit {
    pub const ALLOW: i32 = 0;
    pub const INTERNAL: i32 = 1;
    pub const VERIFY: i32 = 2;
    pub const BLOCK: i32 = 3;
    pub const APPROVAL: i32 = 4;
    pub const INVALID: i32 = 6;
}

pub const RESULT_SCHEMA_ID: &str = "gait.gate.result";
pub const TRACE_SCHEMA_ID: &str = "gait.gate.trace";

/// The per-decision deadline when none is given (`decision_timeout`).
pub const DEFAULT_DECISION_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(50);

/// Options of one evaluation.
#[derive(Debug, Default)]
pub struct EvalOptions {
    pub simulate: bool,
    pub explain: bool,
    /// Write a signed trace into this directory with this key.
    pub trace: Option<(PathBuf, KeyPair)>,
    /// The per-decision deadline (default [`DEFAULT_DECISION_TIMEOUT`]): a
    /// decision still running past it is abandoned and answers `block`,
    /// `decision_timeout`, exit 1 — never a late `allow`.
    pub decision_timeout: Option<std::time::Duration>,
}

impl EvalOptions {
    fn deadline(&self) -> Option<std::time::Duration> {
        Some(self.decision_timeout.unwrap_or(DEFAULT_DECISION_TIMEOUT))
    }
}

/// The result of a decision abandoned at its deadline: block, exit 1.
pub fn timed_out(bundle: Option<&Verified>, limit: std::time::Duration) -> Outcome {
    blocked(
        "decision_timeout",
        format!(
            "the decision did not finish within its deadline of {} ms",
            limit.as_millis()
        ),
        bundle.map(policy_json).unwrap_or(Value::Null),
        bundle.is_some_and(|b| b.signature_verified),
        exit::INTERNAL,
    )
}

/// A result and the process exit code it implies.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: Value,
    pub exit: i32,
}

fn exit_for(v: Verdict) -> i32 {
    match v {
        Verdict::Allow | Verdict::DryRun => exit::ALLOW,
        Verdict::Block => exit::BLOCK,
        Verdict::RequireApproval => exit::APPROVAL,
    }
}

fn policy_json(b: &Verified) -> Value {
    json!({"name": b.info.name, "version": b.info.version, "revision": b.info.revision, "digest": b.policy_digest})
}

fn blocked(
    code: &str,
    error: String,
    policy: Value,
    bundle_verified: bool,
    exit_code: i32,
) -> Outcome {
    Outcome {
        result: json!({
            "schema_id": RESULT_SCHEMA_ID, "schema_version": "1.0.0", "ok": false,
            "verdict": "block", "reason_codes": [code], "violations": [code], "matched_rules": [],
            "decision": "fail_closed", "policy": policy, "intent_digest": null, "endpoint_classes": [],
            "bundle_verified": bundle_verified, "required_approvals": 0, "warnings": [], "trace_path": null,
            "error": error,
        }),
        exit: exit_code,
    }
}

/// The result for a bundle that failed verification: block, its code, exit 2.
pub fn rejected(rej: &Rejection) -> Outcome {
    blocked(
        rej.code.as_str(),
        rej.to_string(),
        Value::Null,
        false,
        exit::VERIFY,
    )
}

/// The result for an intent that cannot be evaluated: block, `intent_invalid`, exit 6.
pub fn invalid_intent(err: &IntentError, bundle: Option<&Verified>) -> Outcome {
    let mut o = blocked(
        "intent_invalid",
        format!("invalid intent: {err}"),
        bundle.map(policy_json).unwrap_or(Value::Null),
        bundle.is_some_and(|b| b.signature_verified),
        exit::INVALID,
    );
    if let Some(obj) = o.result.as_object_mut() {
        obj.insert("error_field".into(), json!(err.field));
        if let Some(code) = err.code {
            // The specific code beside `intent_invalid` (sorted).
            let mut codes = vec!["intent_invalid", code];
            codes.sort_unstable();
            obj.insert("reason_codes".into(), json!(codes));
            obj.insert("violations".into(), json!(codes));
        }
    }
    o
}

/// The result for a failure inside the runtime: block, exit 1. Never allow.
pub fn internal(error: String, bundle: Option<&Verified>) -> Outcome {
    blocked(
        "internal_error",
        error,
        bundle.map(policy_json).unwrap_or(Value::Null),
        bundle.is_some_and(|b| b.signature_verified),
        exit::INTERNAL,
    )
}

/// Evaluates intent text against a verified bundle.
pub fn eval_text(
    bundle: &Verified,
    text: &[u8],
    opts: &EvalOptions,
    scratch: &mut Scratch,
) -> Outcome {
    crate::deadline::run_with(opts.deadline(), || {
        let raw = match normalize::parse_json(text) {
            Ok(v) => v,
            Err(e) => return invalid_intent(&e, Some(bundle)),
        };
        eval_json(bundle, &raw, opts, scratch)
    })
}

/// What a serving mode needs to know about a result it wrote as bytes (for
/// its status code, metrics and log), without reading the bytes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The process exit code the result implies (`exit::*`).
    pub exit: i32,
    /// The verdict the result shows.
    pub verdict: Verdict,
    pub reason_codes: Vec<String>,
    /// Sorted, unique.
    pub endpoint_classes: Vec<&'static str>,
    /// `None` when the intent was never normalized (invalid intent, rejected bundle).
    pub intent_digest: Option<String>,
}

impl Summary {
    fn of_value(o: &Outcome) -> Summary {
        let strings = |key: &str| -> Vec<String> {
            o.result[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        Summary {
            exit: o.exit,
            verdict: o.result["verdict"]
                .as_str()
                .and_then(Verdict::parse)
                .unwrap_or(Verdict::Block),
            reason_codes: strings("reason_codes"),
            endpoint_classes: strings("endpoint_classes")
                .iter()
                .filter_map(|c| EndpointClass::parse(c).map(EndpointClass::as_str))
                .collect(),
            intent_digest: o.result["intent_digest"].as_str().map(str::to_owned),
        }
    }
}

/// The fast path of one decision: intent text in, the result JSON (compact,
/// one line, no newline) appended to `out`, the exit code returned. The bytes
/// are exactly `serde_json::to_vec(&eval_text(…).result)`. With `--explain`
/// or a trace the result is built as a value first (those paths do more work
/// than the decision anyway).
pub fn eval_into(
    bundle: &Verified,
    text: &[u8],
    opts: &EvalOptions,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> i32 {
    eval_summarized(bundle, text, opts, scratch, out).exit
}

/// [`eval_into`], also returning a [`Summary`] of the result.
pub fn eval_summarized(
    bundle: &Verified,
    text: &[u8],
    opts: &EvalOptions,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Summary {
    let start = out.len();
    let (result, late) = crate::deadline::run_with(opts.deadline(), || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            summarized(bundle, text, opts, scratch, out)
        }));
        (r, crate::deadline::expired())
    });
    match result {
        _ if late => {
            out.truncate(start);
            write_outcome(
                out,
                timed_out(Some(bundle), opts.deadline().unwrap_or_default()),
            )
        }
        Ok(summary) => summary,
        Err(_) => {
            out.truncate(start);
            write_outcome(out, panicked(bundle))
        }
    }
}

/// A panic inside a decision (a bug) answers block, exit 1, like any
/// internal error — never a missing or partial result.
fn panicked(bundle: &Verified) -> Outcome {
    internal(
        "internal error: the evaluation panicked".to_owned(),
        Some(bundle),
    )
}

fn summarized(
    bundle: &Verified,
    text: &[u8],
    opts: &EvalOptions,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Summary {
    if opts.explain || opts.trace.is_some() {
        return write_outcome(out, eval_text(bundle, text, opts, scratch));
    }
    let n = match normalize::parse_json(text)
        .and_then(|raw| normalize::normalize_json(&raw, Some(&bundle.tables)))
    {
        Ok(n) => n,
        Err(e) => return write_outcome(out, invalid_intent(&e, Some(bundle))),
    };
    let decision = n.decide(|i| bundle.tables.decide(i, scratch));
    write_result(out, bundle, &n, &decision, opts.simulate)
}

/// Appends an outcome's result (compact) and summarizes it; a result that
/// cannot be serialized (never expected) becomes a block.
pub fn write_outcome(out: &mut Vec<u8>, o: Outcome) -> Summary {
    let start = out.len();
    if serde_json::to_writer(&mut *out, &o.result).is_err() {
        out.truncate(start);
        let o = internal("the result cannot be serialized".into(), None);
        out.extend_from_slice(
            br#"{"ok":false,"verdict":"block","reason_codes":["internal_error"]}"#,
        );
        return Summary::of_value(&o);
    }
    Summary::of_value(&o)
}

fn endpoint_classes(n: &Normalized) -> Vec<&'static str> {
    let mut classes: Vec<&'static str> =
        n.intent.targets.iter().map(|t| t.class.as_str()).collect();
    classes.sort_unstable();
    classes.dedup();
    classes
}

/// Evaluates a parsed intent against a verified bundle.
pub fn eval_value(
    bundle: &Verified,
    raw: &Value,
    opts: &EvalOptions,
    scratch: &mut Scratch,
) -> Outcome {
    eval_json(bundle, &crate::json::Json::from_value(raw), opts, scratch)
}

fn eval_json(
    bundle: &Verified,
    raw: &crate::json::Json<'_>,
    opts: &EvalOptions,
    scratch: &mut Scratch,
) -> Outcome {
    crate::deadline::run_with(opts.deadline(), || {
        let o = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            outcome(bundle, raw, opts, scratch)
        }))
        .unwrap_or_else(|_| panicked(bundle));
        if crate::deadline::expired() {
            timed_out(Some(bundle), opts.deadline().unwrap_or_default())
        } else {
            o
        }
    })
}

fn outcome(
    bundle: &Verified,
    raw: &crate::json::Json<'_>,
    opts: &EvalOptions,
    scratch: &mut Scratch,
) -> Outcome {
    let n = match normalize::normalize_json(raw, Some(&bundle.tables)) {
        Ok(n) => n,
        Err(e) => return invalid_intent(&e, Some(bundle)),
    };
    let decision = n.decide(|i| bundle.tables.decide(i, scratch));
    let mut bytes = Vec::with_capacity(512);
    write_result(&mut bytes, bundle, &n, &decision, opts.simulate);
    let mut out: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return internal(format!("result serialization: {e}"), Some(bundle)),
    };
    if opts.explain {
        let explained = bundle.tables.explain(&n.intent, 2, scratch);
        let rules: Vec<Value> = explained
            .iter()
            .map(|r| {
                json!({"rule": r.name, "priority": r.priority, "verdict": r.verdict.as_str(), "matched": r.matched,
                       "atoms": r.atoms.iter().map(|(t, held)| json!({"atom": t, "held": held})).collect::<Vec<_>>()})
            })
            .collect();
        let targets: Vec<Value> = n
            .intent
            .targets
            .iter()
            .map(|t| {
                json!({"kind": t.kind.as_str(), "value": t.value, "operation": t.operation, "endpoint_class": t.class.as_str(),
                       "destructive": t.destructive, "path": t.path, "domain": t.host.as_ref().map(|h| &h.0),
                       "host_class": t.host.as_ref().map(|h| h.1.as_str()), "programs": t.programs})
            })
            .collect();
        if let Some(obj) = out.as_object_mut() {
            obj.insert(
                "explain".into(),
                json!({"tool": n.intent.tool, "risk": n.intent.risk.as_str(), "targets": targets, "rules": rules,
                       "skill": n.intent.skill.as_ref().map(|_| { let f = bundle.tables.skill_facts(&n.intent); json!({"signed": f.signed, "pinned": f.pinned, "verified": f.verified()}) })}),
            );
        }
    }
    let verdict = shown_verdict(&decision, opts.simulate);
    if crate::deadline::expired() {
        // No trace for a decision that will be answered as timed out.
        return timed_out(Some(bundle), opts.deadline().unwrap_or_default());
    }
    if let Some((dir, key)) = &opts.trace {
        match write_trace(dir, key, bundle, &n, &out) {
            Ok(path) => {
                if let Some(obj) = out.as_object_mut() {
                    obj.insert("trace_path".into(), json!(path.display().to_string()));
                }
            }
            Err(e) => return internal(format!("cannot write the trace: {e}"), Some(bundle)),
        }
    }
    Outcome {
        exit: exit_for(verdict),
        result: out,
    }
}

/// The verdict the result shows: `--simulate` turns block and
/// require_approval into allow.
fn shown_verdict(d: &Decision, simulate: bool) -> Verdict {
    if simulate && would_block(d) {
        Verdict::Allow
    } else {
        d.verdict
    }
}

/// The reason codes the result shows: `--simulate` adds
/// `simulate_mode_non_enforcing` and, when it turned a verdict into allow,
/// `simulated_<verdict>`.
fn shown_reasons(d: &Decision, simulate: bool) -> std::borrow::Cow<'_, [String]> {
    if !simulate {
        return std::borrow::Cow::Borrowed(&d.reason_codes);
    }
    let mut reasons = d.reason_codes.clone();
    reasons.push("simulate_mode_non_enforcing".to_owned());
    if would_block(d) {
        reasons.push(format!("simulated_{}", d.verdict));
    }
    reasons.sort_unstable();
    reasons.dedup();
    std::borrow::Cow::Owned(reasons)
}

fn would_block(d: &Decision) -> bool {
    matches!(d.verdict, Verdict::Block | Verdict::RequireApproval)
}

/// Writes the result JSON of runtime.md §7 (compact, fields in a fixed order)
/// and returns its summary (what is shown is worked out once, for both).
fn write_result(
    out: &mut Vec<u8>,
    bundle: &Verified,
    n: &Normalized,
    d: &Decision,
    simulate: bool,
) -> Summary {
    let blocked = simulate && would_block(d);
    let verdict = shown_verdict(d, simulate);
    let reasons = shown_reasons(d, simulate);
    let classes = endpoint_classes(n);
    out.extend_from_slice(
        br#"{"schema_id":"gait.gate.result","schema_version":"1.0.0","ok":true,"verdict":"#,
    );
    write_str(out, verdict.as_str());
    out.extend_from_slice(br#","reason_codes":"#);
    write_str_list(out, reasons.iter().map(String::as_str));
    out.extend_from_slice(br#","violations":"#);
    if blocked {
        out.extend_from_slice(b"[]");
    } else {
        write_str_list(out, d.violations.iter().map(String::as_str));
    }
    out.extend_from_slice(br#","matched_rules":"#);
    write_str_list(out, d.matched_rules.iter().map(String::as_str));
    out.extend_from_slice(br#","decision":"#);
    write_str(out, d.kind.as_str());
    out.extend_from_slice(br#","policy":{"name":"#);
    write_str(out, &bundle.info.name);
    out.extend_from_slice(br#","version":"#);
    write_str(out, &bundle.info.version);
    out.extend_from_slice(br#","revision":"#);
    write_u64(out, u64::from(bundle.info.revision));
    out.extend_from_slice(br#","digest":"#);
    write_str(out, &bundle.policy_digest);
    out.extend_from_slice(br#"},"intent_digest":"#);
    write_str(out, &n.digest);
    out.extend_from_slice(br#","endpoint_classes":"#);
    write_str_list(out, classes.iter().copied());
    out.extend_from_slice(if bundle.signature_verified {
        br#","bundle_verified":true,"required_approvals":"#
    } else {
        br#","bundle_verified":false,"required_approvals":"#
    });
    write_u64(
        out,
        if blocked {
            0
        } else {
            u64::from(d.required_approvals)
        },
    );
    out.extend_from_slice(br#","warnings":"#);
    write_str_list(out, n.warnings.iter().copied());
    out.extend_from_slice(br#","trace_path":null"#);
    if simulate {
        out.extend_from_slice(br#","simulated_verdict":"#);
        write_str(out, d.verdict.as_str());
        out.extend_from_slice(br#","simulated_reason_codes":"#);
        write_str_list(out, d.reason_codes.iter().map(String::as_str));
        out.extend_from_slice(if would_block(d) {
            br#","would_have_blocked":true"#
        } else {
            br#","would_have_blocked":false"#
        });
    }
    out.push(b'}');
    Summary {
        exit: exit_for(verdict),
        verdict,
        reason_codes: reasons.into_owned(),
        endpoint_classes: classes,
        intent_digest: Some(n.digest.clone()),
    }
}

/// `trace_id` = first 24 hex of SHA-256 of `policy_digest:intent_digest:verdict`.
pub fn trace_id(policy_digest: &str, intent_digest: &str, verdict: &str) -> String {
    let full = crate::hex(&crate::sha256(
        format!("{policy_digest}:{intent_digest}:{verdict}").as_bytes(),
    ));
    full[..24].to_owned()
}

/// Builds and signs a trace: Ed25519 over the SHA-256 of the canonical JSON of
/// the trace without its `signature`.
pub fn signed_trace(
    key: &KeyPair,
    bundle: &Verified,
    n: &Normalized,
    result: &Value,
    observed_at: &str,
) -> Value {
    let verdict = result["verdict"].as_str().unwrap_or("block");
    let mut trace = json!({
        "schema_id": TRACE_SCHEMA_ID,
        "schema_version": "1.0.0",
        "trace_id": trace_id(&bundle.policy_digest, &n.digest, verdict),
        "tool_name": n.intent.tool,
        "intent_digest": n.digest,
        "policy_digest": bundle.policy_digest,
        "policy": {"name": bundle.info.name, "version": bundle.info.version, "revision": bundle.info.revision},
        "verdict": verdict,
        "decision": result["decision"],
        "reason_codes": result["reason_codes"],
        "violations": result["violations"],
        "matched_rules": result["matched_rules"],
        "endpoint_classes": result["endpoint_classes"],
        "required_approvals": result["required_approvals"],
        "skill_provenance": n.skill_provenance,
        "bundle_verified": bundle.signature_verified,
        "observed_at": observed_at,
        // The normalized intent, so that an incident can be replayed as a
        // regression test (`gaitc test add --from-trace`).
        "intent": n.canonical_value(),
    });
    if let Some(sv) = result.get("simulated_verdict") {
        trace["simulated_verdict"] = sv.clone();
    }
    let digest = crate::sha256(crate::jcs::to_string(&trace).as_bytes());
    trace["signature"] = json!({
        "alg": "ed25519",
        "key_id": key.public().id(),
        "signed_digest": crate::hex(&digest),
        "sig": b64_encode(&key.sign(&digest)),
    });
    trace
}

fn write_trace(
    dir: &Path,
    key: &KeyPair,
    bundle: &Verified,
    n: &Normalized,
    result: &Value,
) -> std::io::Result<PathBuf> {
    let (secs, nanos) = crate::time::now();
    let trace = signed_trace(
        key,
        bundle,
        n,
        result,
        &crate::time::format_rfc3339_nanos(secs, nanos),
    );
    std::fs::create_dir_all(dir)?;
    let id = trace["trace_id"].as_str().unwrap_or("unknown").to_owned();
    let path = dir.join(format!("trace_{id}.json"));
    let text = serde_json::to_string_pretty(&trace).map_err(std::io::Error::other)? + "\n";
    let tmp = dir.join(format!(".trace_{id}.{}.tmp", std::process::id()));
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Why a trace failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    pub code: &'static str,
    pub message: String,
}

/// Verifies a trace's signature against trusted keys; returns the signer's key id.
pub fn verify_trace(trace: &Value, trust: &[PublicKey]) -> Result<String, TraceError> {
    let err = |code: &'static str, message: &str| TraceError {
        code,
        message: message.to_owned(),
    };
    let mut body = trace.clone();
    let sig = body
        .as_object_mut()
        .and_then(|o| o.remove("signature"))
        .ok_or_else(|| err("trace_unsigned", "the trace has no signature"))?;
    if body.get("schema_id").and_then(Value::as_str) != Some(TRACE_SCHEMA_ID) {
        return Err(err("trace_malformed", "not a gait.gate.trace"));
    }
    let field = |k: &str| {
        sig.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| err("trace_malformed", "incomplete signature"))
    };
    if field("alg")? != "ed25519" {
        return Err(err(
            "trace_signature_invalid",
            "unsupported signature algorithm",
        ));
    }
    let digest = crate::sha256(crate::jcs::to_string(&body).as_bytes());
    if crate::hex(&digest) != field("signed_digest")? {
        return Err(err(
            "trace_digest_mismatch",
            "the trace does not match its signed digest (it was changed)",
        ));
    }
    let key_id = field("key_id")?;
    let key = trust
        .iter()
        .find(|k| k.id() == key_id)
        .ok_or_else(|| err("trace_key_untrusted", "signed by a key that is not trusted"))?;
    let sig_bytes = b64_decode(field("sig")?)
        .ok_or_else(|| err("trace_signature_invalid", "signature is not base64"))?;
    if !key.verify(&digest, &sig_bytes) {
        return Err(err(
            "trace_signature_invalid",
            "the signature does not verify",
        ));
    }
    Ok(key_id.to_owned())
}
