//! `gait_node`: the runtime's gate for Node.js, in process (napi-rs).
//!
//! One class, `Gate`: `Gate.open({bundle, trust, pin?, minRevision?,
//! decisionTimeoutMs?})` reads and verifies a bundle with the same checks as
//! `gait-run eval` (cli_args.rs), and `gate.evaluate(intentJson)` decides one
//! intent through `gait_run::gate::evaluate` — the one gate entry of the
//! runtime — returning the result JSON text of runtime.md §7, byte for byte
//! what `gait-run eval` prints for the same bundle and intent.
//!
//! Failing closed: a bundle that fails verification does not make `open`
//! throw; it gives a gate whose every `evaluate` answers the `block` result
//! `gait-run eval` prints for that bundle (its rejection code as the reason),
//! so the caller cannot mistake "no gate" for "no objection". A bundle past
//! its `not_after` while in use answers `block`, `bundle_expired`, as the
//! sidecar does. Usage errors (no trust key, an unreadable key file, a
//! malformed pin) throw.

use gait_run::bundle::{self, RejectCode, Rejection, Verified, VerifyOptions};
use gait_run::gate::{self, EvalOptions, Refusal};
use gait_run::keys::PublicKey;
use gait_run::tables::Scratch;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::path::Path;
use std::time::Duration;

/// Options of [`Gate::open`].
#[napi(object)]
pub struct GateOptions {
    /// The bundle file (`.gaitb`).
    pub bundle: String,
    /// Trusted public key files (one or more: key rotation).
    pub trust: Vec<String>,
    /// Accept only the bundle with this policy digest (`sha256:…`).
    pub pin: Option<String>,
    /// Reject a bundle whose revision is lower (anti-rollback).
    pub min_revision: Option<u32>,
    /// The per-decision deadline in milliseconds (runtime default: 50).
    pub decision_timeout_ms: Option<u32>,
}

enum State {
    Ready(Box<Verified>),
    Rejected(Rejection),
}

/// A verified bundle and the buffers to decide with it. Not shared between
/// threads: Node calls it on its own thread.
#[napi]
pub struct Gate {
    state: State,
    opts: EvalOptions,
    scratch: Scratch,
    out: Vec<u8>,
}

fn invalid(msg: String) -> Error {
    Error::new(Status::InvalidArg, msg)
}

fn verify_options(o: &GateOptions) -> Result<VerifyOptions> {
    if o.trust.is_empty() {
        return Err(invalid(
            "no trust key given: refusing to accept an unverified bundle".into(),
        ));
    }
    let mut trust = Vec::with_capacity(o.trust.len());
    for p in &o.trust {
        trust.push(PublicKey::read(Path::new(p)).map_err(|e| invalid(e.to_string()))?);
    }
    if let Some(pin) = &o.pin {
        let hex = pin.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(format!(
                "pin must be sha256: followed by 64 hex digits, got `{pin}`"
            )));
        }
    }
    Ok(VerifyOptions {
        trust,
        pin: o.pin.clone(),
        min_revision: o.min_revision,
        now: gait_run::time::now().0,
        insecure_skip_verify: false,
    })
}

#[napi]
impl Gate {
    /// Reads and verifies the bundle. Throws only on a usage error; a
    /// rejected bundle gives a gate that blocks everything (see `ok`).
    #[napi(factory)]
    pub fn open(options: GateOptions) -> Result<Gate> {
        let vopts = verify_options(&options)?;
        if options.decision_timeout_ms == Some(0) {
            return Err(invalid("decisionTimeoutMs must be at least 1".into()));
        }
        let state = match std::fs::read(&options.bundle) {
            Err(e) => State::Rejected(Rejection {
                code: RejectCode::Malformed,
                message: format!("cannot read {}: {e}", options.bundle),
            }),
            Ok(bytes) => match bundle::verify(&bytes, &vopts) {
                Ok(v) => State::Ready(Box::new(v)),
                Err(rej) => State::Rejected(rej),
            },
        };
        Ok(Gate {
            state,
            opts: EvalOptions {
                decision_timeout: options
                    .decision_timeout_ms
                    .map(|ms| Duration::from_millis(u64::from(ms))),
                ..EvalOptions::default()
            },
            scratch: Scratch::default(),
            out: Vec::with_capacity(1024),
        })
    }

    /// Whether the bundle verified: false means every decision is `block`
    /// with the rejection code.
    #[napi(getter)]
    pub fn ok(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }

    /// The stable rejection code (`bundle_signature_invalid`, …), if rejected.
    #[napi(getter)]
    pub fn rejection_code(&self) -> Option<String> {
        match &self.state {
            State::Rejected(r) => Some(r.code.as_str().to_string()),
            State::Ready(_) => None,
        }
    }

    /// The rejection's message, if rejected.
    #[napi(getter)]
    pub fn rejection_message(&self) -> Option<String> {
        match &self.state {
            State::Rejected(r) => Some(r.message.clone()),
            State::Ready(_) => None,
        }
    }

    /// The verified bundle's policy digest (`sha256:…`).
    #[napi(getter)]
    pub fn policy_digest(&self) -> Option<String> {
        match &self.state {
            State::Ready(v) => Some(v.policy_digest.clone()),
            State::Rejected(_) => None,
        }
    }

    /// Decides one intent (JSON text) and returns the result JSON text.
    /// Never throws: every failure is a `block` result.
    #[napi]
    pub fn evaluate(&mut self, intent: String) -> String {
        self.out.clear();
        match &self.state {
            State::Rejected(rej) => {
                gate::refuse(&mut self.out, Refusal::Rejected(rej), None);
            }
            State::Ready(v) => {
                if let Some(rej) = v.info.expired_at(gait_run::time::now().0) {
                    gate::refuse(&mut self.out, Refusal::Rejected(&rej), Some(v));
                } else {
                    gate::evaluate(
                        v,
                        intent.as_bytes(),
                        &self.opts,
                        &mut self.scratch,
                        &mut self.out,
                    );
                }
            }
        }
        match String::from_utf8(std::mem::take(&mut self.out)) {
            Ok(s) => {
                self.out = Vec::with_capacity(s.len());
                s
            }
            Err(_) => {
                self.out.clear();
                gate::refuse(
                    &mut self.out,
                    Refusal::Internal("internal error: the result is not UTF-8"),
                    None,
                );
                String::from_utf8_lossy(&self.out).into_owned()
            }
        }
    }
}
