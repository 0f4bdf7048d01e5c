//! One decision, end to end: a verified bundle and an intent in, the result
//! JSON of runtime.md §7 and an exit code out — failing closed on every
//! error. Used by `gait-run eval` (and the serving modes to come).

use crate::bundle::{Rejection, Verified};
use crate::decision::Decision;
use crate::keys::{b64_decode, b64_encode, KeyPair, PublicKey};
use crate::normalize::{self, IntentError, Normalized};
use crate::tables::Scratch;
use crate::vocab::Verdict;
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

/// Options of one evaluation.
#[derive(Debug, Default)]
pub struct EvalOptions {
    pub simulate: bool,
    pub explain: bool,
    /// Write a signed trace into this directory with this key.
    pub trace: Option<(PathBuf, KeyPair)>,
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
    let raw = match normalize::parse(text) {
        Ok(v) => v,
        Err(e) => return invalid_intent(&e, Some(bundle)),
    };
    eval_value(bundle, &raw, opts, scratch)
}

/// Evaluates a parsed intent against a verified bundle.
pub fn eval_value(
    bundle: &Verified,
    raw: &Value,
    opts: &EvalOptions,
    scratch: &mut Scratch,
) -> Outcome {
    let n = match normalize::normalize(raw, Some(&bundle.tables)) {
        Ok(n) => n,
        Err(e) => return invalid_intent(&e, Some(bundle)),
    };
    let decision = bundle.tables.decide(&n.intent, scratch);
    let mut out = result_json(bundle, &n, &decision, opts.simulate);
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
    let verdict = out["verdict"]
        .as_str()
        .and_then(Verdict::parse)
        .unwrap_or(Verdict::Block);
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

fn result_json(bundle: &Verified, n: &Normalized, d: &Decision, simulate: bool) -> Value {
    let mut classes: Vec<&str> = n.intent.targets.iter().map(|t| t.class.as_str()).collect();
    classes.sort_unstable();
    classes.dedup();
    let mut result = json!({
        "schema_id": RESULT_SCHEMA_ID,
        "schema_version": "1.0.0",
        "ok": true,
        "verdict": d.verdict.as_str(),
        "reason_codes": d.reason_codes,
        "violations": d.violations,
        "matched_rules": d.matched_rules,
        "decision": d.kind.as_str(),
        "policy": policy_json(bundle),
        "intent_digest": n.digest,
        "endpoint_classes": classes,
        "bundle_verified": bundle.signature_verified,
        "required_approvals": d.required_approvals,
        "warnings": n.warnings,
        "trace_path": null,
    });
    if simulate {
        let would_block = matches!(d.verdict, Verdict::Block | Verdict::RequireApproval);
        let mut reasons = d.reason_codes.clone();
        reasons.push("simulate_mode_non_enforcing".to_owned());
        if would_block {
            reasons.push(format!("simulated_{}", d.verdict));
        }
        reasons.sort();
        reasons.dedup();
        if let Some(obj) = result.as_object_mut() {
            obj.insert("simulated_verdict".into(), json!(d.verdict.as_str()));
            obj.insert("simulated_reason_codes".into(), json!(d.reason_codes));
            obj.insert("would_have_blocked".into(), json!(would_block));
            obj.insert("reason_codes".into(), json!(reasons));
            if would_block {
                obj.insert("verdict".into(), json!("allow"));
                obj.insert("violations".into(), json!([]));
                obj.insert("required_approvals".into(), json!(0));
            }
        }
    }
    result
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
        "intent": n.canonical,
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
