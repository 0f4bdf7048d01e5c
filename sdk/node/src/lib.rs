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

use gait_run::bundle::{self, Rejection, Verified, VerifyOptions};
use gait_run::gate::{self, EvalOptions, Refusal};
use gait_run::tables::Scratch;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::path::{Path, PathBuf};
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
    opts: EvalOptions<'static>,
    scratch: Scratch,
    out: Vec<u8>,
}

fn invalid(msg: String) -> Error {
    Error::new(Status::InvalidArg, msg)
}

/// The verification options, built by the runtime's own
/// [`bundle::verify_options`] (as `gait-run` builds them from `--trust`,
/// `--pin`, `--min-revision`).
fn verify_options(o: &GateOptions) -> Result<VerifyOptions> {
    let trust: Vec<PathBuf> = o.trust.iter().map(PathBuf::from).collect();
    bundle::verify_options(&trust, o.pin.as_deref(), o.min_revision, false).map_err(invalid)
}

/// The per-decision deadline: 1 to 60000 ms, as `gait-run --decision-timeout-ms`.
fn decision_timeout(ms: Option<u32>) -> Result<Option<Duration>> {
    match ms {
        None => Ok(None),
        Some(ms @ 1..=60_000) => Ok(Some(Duration::from_millis(u64::from(ms)))),
        Some(ms) => Err(invalid(format!(
            "decisionTimeoutMs must be from 1 to 60000, got {ms}"
        ))),
    }
}

#[napi]
impl Gate {
    /// Reads and verifies the bundle. Throws only on a usage error; a
    /// rejected bundle gives a gate that blocks everything (see `ok`).
    /// A panic in Rust (`catch_unwind`, on every export) becomes a thrown
    /// JS error, which the plugin turns into a block.
    #[napi(factory, catch_unwind)]
    pub fn open(options: GateOptions) -> Result<Gate> {
        let vopts = verify_options(&options)?;
        let decision_timeout = decision_timeout(options.decision_timeout_ms)?;
        let state = match bundle::read_verified(Path::new(&options.bundle), &vopts) {
            Ok(v) => State::Ready(Box::new(v)),
            Err(rej) => State::Rejected(rej),
        };
        Ok(Gate {
            state,
            opts: EvalOptions {
                decision_timeout,
                ..EvalOptions::default()
            },
            scratch: Scratch::default(),
            out: Vec::with_capacity(1024),
        })
    }

    /// Whether the bundle verified: false means every decision is `block`
    /// with the rejection code.
    #[napi(getter, catch_unwind)]
    pub fn ok(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }

    /// The stable rejection code (`bundle_signature_invalid`, …), if rejected.
    #[napi(getter, catch_unwind)]
    pub fn rejection_code(&self) -> Option<String> {
        match &self.state {
            State::Rejected(r) => Some(r.code.as_str().to_string()),
            State::Ready(_) => None,
        }
    }

    /// The rejection's message, if rejected.
    #[napi(getter, catch_unwind)]
    pub fn rejection_message(&self) -> Option<String> {
        match &self.state {
            State::Rejected(r) => Some(r.message.clone()),
            State::Ready(_) => None,
        }
    }

    /// The verified bundle's policy digest (`sha256:…`).
    #[napi(getter, catch_unwind)]
    pub fn policy_digest(&self) -> Option<String> {
        match &self.state {
            State::Ready(v) => Some(v.policy_digest().to_owned()),
            State::Rejected(_) => None,
        }
    }

    /// Decides one intent (JSON text) and returns the result JSON text.
    /// Every failure of the decision is a `block` result; only a panic in
    /// Rust throws (a JS error: the plugin blocks the call).
    #[napi(catch_unwind)]
    pub fn evaluate(&mut self, intent: String) -> String {
        self.out.clear();
        match &self.state {
            State::Rejected(rej) => {
                gate::refuse(&mut self.out, Refusal::Rejected(rej), None);
            }
            State::Ready(v) => {
                // Past its not_after, the gate answers block, bundle_expired.
                gate::evaluate(
                    v,
                    intent.as_bytes(),
                    &self.opts,
                    &mut self.scratch,
                    &mut self.out,
                );
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
