//! Signed traces (runtime.md §7): one JSON document per decision, signed
//! with Ed25519 over the SHA-256 of its canonical (RFC 8785) text without
//! its `signature`; and their verification.

use super::result::{endpoint_classes, Shown};
use super::TRACE_SCHEMA_ID;
use crate::approval::check::Outcome;
use crate::bundle::Verified;
use crate::keys::{b64_decode, b64_encode, KeyPair, PublicKey};
use crate::normalize::Normalized;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// `trace_id` = first 24 hex of SHA-256 of `policy_digest:intent_digest:verdict`.
pub fn trace_id(policy_digest: &str, intent_digest: &str, verdict: &str) -> String {
    let full = crate::hex(&crate::sha256(
        format!("{policy_digest}:{intent_digest}:{verdict}").as_bytes(),
    ));
    full[..24].to_owned()
}

/// Builds and signs the trace of a decision.
pub(super) fn signed(
    key: &KeyPair,
    bundle: &Verified,
    n: &Normalized,
    s: &Shown<'_>,
    approval: Option<&Outcome>,
    observed_at: &str,
) -> Value {
    let verdict = s.verdict.as_str();
    let mut trace = json!({
        "schema_id": TRACE_SCHEMA_ID,
        "schema_version": "1.0.0",
        "trace_id": trace_id(bundle.policy_digest(), &n.digest, verdict),
        "tool_name": n.intent.tool,
        "intent_digest": n.digest,
        "policy_digest": bundle.policy_digest(),
        "policy": {"name": bundle.info().name, "version": bundle.info().version, "revision": bundle.info().revision},
        "verdict": verdict,
        "decision": s.decision.kind.as_str(),
        "reason_codes": s.reasons(),
        "violations": s.violations(),
        "matched_rules": s.decision.matched_rules,
        "endpoint_classes": endpoint_classes(&n.intent),
        "required_approvals": s.required_approvals(),
        "skill_provenance": n.skill_provenance,
        "bundle_verified": bundle.signature_verified,
        "observed_at": observed_at,
        // The normalized intent, so that an incident can be replayed as a
        // regression test (`gaitc test add --from-trace`).
        "intent": n.canonical_value(),
    });
    if let Some(a) = approval {
        // Token ids, approvers and each token's code.
        trace["approval"] = serde_json::to_value(a).unwrap_or(Value::Null);
    }
    if s.simulate {
        trace["simulated_verdict"] = json!(s.decision.verdict.as_str());
    }
    sign(key, trace)
}

fn sign(key: &KeyPair, mut trace: Value) -> Value {
    let digest = crate::sha256(crate::jcs::to_string(&trace).as_bytes());
    trace["signature"] = json!({
        "alg": "ed25519",
        "key_id": key.public().id(),
        "signed_digest": crate::hex(&digest),
        "sig": b64_encode(&key.sign(&digest)),
    });
    trace
}

/// Signs the trace of a decision and writes it (mode 0600, atomically) as
/// `trace_<id>.json` in `dir`; returns its path.
pub(super) fn write(
    dir: &Path,
    key: &KeyPair,
    bundle: &Verified,
    n: &Normalized,
    s: &Shown<'_>,
    approval: Option<&Outcome>,
) -> std::io::Result<PathBuf> {
    let (secs, nanos) = crate::time::now();
    let trace = signed(
        key,
        bundle,
        n,
        s,
        approval,
        &crate::time::format_rfc3339_nanos(secs, nanos),
    );
    std::fs::create_dir_all(dir)?;
    let id = trace["trace_id"].as_str().unwrap_or("unknown").to_owned();
    let path = dir.join(format!("trace_{id}.json"));
    let text = serde_json::to_string_pretty(&trace).map_err(std::io::Error::other)? + "\n";
    // Through a new temporary file (never one planted at a name others can
    // guess: the trace id and the pid are), then renamed.
    crate::files::write_atomic(&path, text.as_bytes(), 0o600)?;
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
