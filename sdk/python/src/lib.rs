//! `gait._native`: the runtime's gate inside a Python process.
//!
//! This module decides nothing itself. A bundle is loaded and verified by
//! `gait_run::bundle` exactly as `gait-run verify` / `eval` load it (the same
//! `verify_options` and `read_verified`), and every decision is the
//! runtime's gate entry: intent bytes in, the result JSON bytes (identical to
//! `gait-run eval`'s result) and its summary out. Every call into
//! `gait_run::gate` is in one private function, [`run_gate`], so the module
//! follows that entry wherever it moves. The GIL is released while the
//! runtime decides, so decisions run in parallel on several threads.
//!
//! What the module adds is the Python side of the boundary: turning a Python
//! value into the intent's JSON text (strict: only what JSON can hold, depth
//! and size bounded — anything else is an invalid intent, decided by the
//! runtime's own `invalid_intent`), a bundle held behind a lock so `reload()`
//! swaps in a completely verified one (reloads serialized: never a lower
//! revision, even when two overlap), and raising `BundleRejected` when the
//! gate answers that its bundle has expired since it was loaded (the gate's
//! own check, before every decision).

use gait_run::bundle::{self, Rejection, Verified, VerifyOptions};
use gait_run::normalize::{IntentError, MAX_INTENT_BYTES};
use gait_run::tables::Scratch;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pyo3::create_exception!(
    _native,
    BundleRejected,
    PyException,
    "The bundle was rejected (args: the stable code, e.g. `bundle_key_untrusted`, and the message)."
);

/// Deepest nesting of lists and objects written into an intent.
const MAX_DEPTH: usize = 128;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The result of one decision as Python receives it: the result JSON bytes,
/// the exit code `gait-run eval` would give, the verdict, the reason codes
/// and the intent digest (None when the intent was never normalized).
type Answer<'py> = (
    Bound<'py, PyBytes>,
    i32,
    &'static str,
    Vec<String>,
    Option<String>,
);

/// What is put to the runtime's gate.
enum GateInput<'a> {
    /// Intent JSON text, decided against a verified bundle.
    Intent {
        bundle: &'a Verified,
        text: &'a [u8],
        decision_timeout: Option<Duration>,
    },
    /// A Python value that cannot be written as JSON: the runtime's
    /// invalid-intent result (field `intent`, this message, no policy).
    Unencodable(&'a str),
}

/// What the runtime's gate answered: the result JSON bytes and the part of
/// its summary Python needs.
struct Decided {
    result: Vec<u8>,
    exit: i32,
    verdict: &'static str,
    reason_codes: Vec<String>,
    intent_digest: Option<String>,
    /// The gate refused because its bundle is no longer valid.
    rejection: Option<Box<gait_run::bundle::Rejection>>,
}

/// The one place this module calls into `gait_run::gate`. A decision never
/// fails here: every error inside the runtime is a `block` result.
fn run_gate(input: GateInput<'_>) -> Decided {
    use gait_run::gate;
    let mut out = Vec::with_capacity(768);
    let s = match input {
        GateInput::Intent {
            bundle,
            text,
            decision_timeout,
        } => {
            let opts = gate::EvalOptions {
                decision_timeout,
                ..Default::default()
            };
            SCRATCH.with(|s| match s.try_borrow_mut() {
                Ok(mut scratch) => gate::evaluate(bundle, text, &opts, &mut scratch, &mut out),
                Err(_) => gate::evaluate(bundle, text, &opts, &mut Scratch::default(), &mut out),
            })
        }
        GateInput::Unencodable(message) => {
            let err = IntentError {
                field: "intent".into(),
                message: message.to_owned(),
                code: None,
            };
            gate::refuse(&mut out, gate::Refusal::Invalid(&err), None)
        }
    };
    Decided {
        result: out,
        exit: s.exit,
        verdict: s.verdict.as_str(),
        reason_codes: s.reason_codes.iter().map(|c| c.to_string()).collect(),
        intent_digest: s.intent_digest.map(|d| d.to_string()),
        rejection: s.rejection,
    }
}

fn answer(py: Python<'_>, d: Decided) -> Answer<'_> {
    (
        PyBytes::new(py, &d.result),
        d.exit,
        d.verdict,
        d.reason_codes,
        d.intent_digest,
    )
}

fn rejected_err(rej: &Rejection) -> PyErr {
    BundleRejected::new_err((rej.code.as_str(), rej.message.clone()))
}

/// A verified bundle and how to verify it again.
#[pyclass(frozen, module = "gait._native")]
struct NativeGate {
    path: PathBuf,
    verify: VerifyOptions,
    decision_timeout: Option<Duration>,
    current: RwLock<Arc<Verified>>,
    /// Held by a reload from reading `current` to swapping it.
    reloading: Mutex<()>,
}

impl NativeGate {
    fn bundle(&self) -> Arc<Verified> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            // A panic while swapping leaves the old (verified) bundle.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// `reload` without the GIL: verify and swap under the reload lock.
    fn reload_serialized(&self) -> PyResult<Arc<Verified>> {
        let _one_at_a_time = match self.reloading.lock() {
            Ok(g) => g,
            // A panic in an earlier reload changed nothing: go on.
            Err(poisoned) => poisoned.into_inner(),
        };
        let current = self.bundle();
        let mut opts = self.verify.clone();
        opts.now = gait_run::time::now().0;
        opts.min_revision = Some(opts.min_revision.unwrap_or(0).max(current.info().revision));
        let loaded =
            Arc::new(bundle::read_verified(&self.path, &opts).map_err(|r| rejected_err(&r))?);
        let mut g = match self.current.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Only reloads write `current` and they hold the reload lock, so
        // this holds; checked again where the swap happens all the same.
        if loaded.info().revision < g.info().revision {
            return Err(BundleRejected::new_err((
                "bundle_revision_rollback",
                format!(
                    "revision {} is lower than the deciding revision {}",
                    loaded.info().revision,
                    g.info().revision
                ),
            )));
        }
        *g = Arc::clone(&loaded);
        Ok(loaded)
    }

    /// One decision on intent text, without the GIL.
    fn decide(&self, py: Python<'_>, text: &[u8]) -> Decided {
        let b = self.bundle();
        let decision_timeout = self.decision_timeout;
        py.detach(|| {
            run_gate(GateInput::Intent {
                bundle: &b,
                text,
                decision_timeout,
            })
        })
    }
}

#[pymethods]
impl NativeGate {
    /// Reads and verifies the bundle (trusted key files, optional pin and
    /// minimum revision) as `gait-run verify` does. Raises `BundleRejected`
    /// with the stable code, or `ValueError` for unusable options.
    #[new]
    #[pyo3(signature = (bundle_path, trust, pin=None, min_revision=None, decision_timeout_ms=None))]
    fn new(
        py: Python<'_>,
        bundle_path: PathBuf,
        trust: Vec<PathBuf>,
        pin: Option<String>,
        min_revision: Option<u32>,
        decision_timeout_ms: Option<u64>,
    ) -> PyResult<Self> {
        let decision_timeout = match decision_timeout_ms {
            None => None,
            Some(ms @ 1..=60_000) => Some(Duration::from_millis(ms)),
            Some(ms) => {
                return Err(PyValueError::new_err(format!(
                    "decision_timeout_ms must be 1..=60000, got {ms}"
                )))
            }
        };
        let verify = bundle::verify_options(&trust, pin.as_deref(), min_revision, false)
            .map_err(PyValueError::new_err)?;
        let loaded = py
            .detach(|| bundle::read_verified(&bundle_path, &verify))
            .map_err(|r| rejected_err(&r))?;
        Ok(NativeGate {
            path: bundle_path,
            verify,
            decision_timeout,
            current: RwLock::new(Arc::new(loaded)),
            reloading: Mutex::new(()),
        })
    }

    /// Verifies the bundle file again (same trust and pin, never a lower
    /// revision than the one deciding now) and swaps it in. A rejected one
    /// keeps the old bundle and raises `BundleRejected`. Returns the policy.
    ///
    /// Reloads are serialized (one at a time, waiting without the GIL), so
    /// two overlapping reloads cannot swap in an older revision after a
    /// newer one: each verifies against the revision deciding when it
    /// starts, and swaps only a revision at least as high as the one
    /// deciding when it swaps.
    fn reload<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let swapped = py.detach(|| self.reload_serialized())?;
        policy_dict(py, &swapped)
    }

    /// The policy deciding now: name, version, revision, digest, signed_by.
    fn policy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        policy_dict(py, &self.bundle())
    }

    /// One decision. `intent` is a dict (or any JSON-shaped value), a JSON
    /// `str`, or `bytes`. A value that is not JSON is an invalid intent
    /// (block, `intent_invalid`), never an exception. Raises
    /// `BundleRejected` only when the bundle has expired since it was loaded.
    fn evaluate<'py>(&self, py: Python<'py>, intent: &Bound<'py, PyAny>) -> PyResult<Answer<'py>> {
        let decided = if let Ok(b) = intent.cast_exact::<PyBytes>() {
            self.decide(py, b.as_bytes())
        } else if let Ok(s) = intent.cast_exact::<PyString>() {
            match s.to_str() {
                Ok(text) => self.decide(py, text.as_bytes()),
                Err(e) => return Ok(invalid(py, &format!("the intent text is not UTF-8: {e}"))),
            }
        } else {
            match encode(intent) {
                Ok(text) => self.decide(py, &text),
                Err(e) => return Ok(invalid(py, e.message())),
            }
        };
        // The gate entry refused because its bundle is no longer valid
        // (past its not_after since it was loaded): raised, with the
        // rejection's own code and message.
        if let Some(rej) = &decided.rejection {
            return Err(BundleRejected::new_err((
                rej.code.as_str().to_owned(),
                rej.message.clone(),
            )));
        }
        Ok(answer(py, decided))
    }
}

fn policy_dict<'py>(py: Python<'py>, b: &Verified) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &b.info().name)?;
    d.set_item("version", &b.info().version)?;
    d.set_item("revision", b.info().revision)?;
    d.set_item("digest", b.policy_digest())?;
    d.set_item("signed_by", b.signed_by.clone())?;
    d.set_item("not_after", b.info().not_after.clone())?;
    Ok(d)
}

fn invalid<'py>(py: Python<'py>, message: &str) -> Answer<'py> {
    answer(py, run_gate(GateInput::Unencodable(message)))
}

/// The runtime's result for an intent that cannot be written as JSON
/// (block, `intent_invalid`, field `intent`, exit 6, no policy): what every
/// transport answers for such a value, so that all of them agree.
#[pyfunction]
fn invalid_intent<'py>(py: Python<'py>, message: &str) -> Answer<'py> {
    invalid(py, message)
}

/// The intent's JSON text, exactly as `NativeGate.evaluate` sends it to the
/// runtime: `bytes` as they are, a `str` as UTF-8, anything else written as
/// JSON (compact). Raises `TypeError` for a value JSON cannot hold and
/// `ValueError` for one it cannot hold faithfully (NaN, infinity, lone
/// surrogates, nesting over 128, over the runtime's 1 MiB intent limit).
#[pyfunction]
fn encode_intent<'py>(
    py: Python<'py>,
    intent: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    if let Ok(b) = intent.cast_exact::<PyBytes>() {
        return Ok(b.clone());
    }
    if let Ok(s) = intent.cast_exact::<PyString>() {
        return Ok(PyBytes::new(py, s.to_str()?.as_bytes()));
    }
    match encode(intent) {
        Ok(text) => Ok(PyBytes::new(py, &text)),
        Err(EncodeError::Type(m)) => Err(PyTypeError::new_err(m)),
        Err(EncodeError::Value(m)) => Err(PyValueError::new_err(m)),
    }
}

/// The intent digest (`sha256:` + 64 hex digits) the runtime gives the
/// intent text `text` in its result's `intent_digest`, or None when the
/// runtime would not normalize it (an invalid intent has no digest). The
/// digest covers the canonical intent (tool, args, context, skill
/// provenance, explicit targets and provenance), never the bundle's
/// mappings, so no bundle is needed: the sidecar client compares it with
/// the digest an `allow` answer claims. An approval envelope (`{"intent":
/// {…}, "approval_tokens": […]}`, which `gait-run serve` takes) gives the
/// digest of its `intent`.
#[pyfunction]
fn intent_digest(text: &[u8]) -> Option<String> {
    // The envelope read as the sidecar reads it: its `intent` member's own
    // bytes (not a re-serialized copy), a malformed envelope no digest; the
    // intent read and normalized as the gate reads it.
    let (intent_text, _tokens) = gait_run::envelope::split(text).ok()?;
    gait_run::normalize::intent_digest(intent_text)
        .ok()
        .map(|d| d.to_string())
}

/// Why a value cannot be an intent's JSON text.
enum EncodeError {
    /// A type JSON cannot hold (`TypeError`).
    Type(String),
    /// A value JSON cannot hold faithfully, or too much of it (`ValueError`).
    Value(String),
}

impl EncodeError {
    fn message(&self) -> &str {
        match self {
            EncodeError::Type(m) | EncodeError::Value(m) => m,
        }
    }
}

/// Writes a Python value as compact JSON.
fn encode(v: &Bound<'_, PyAny>) -> Result<Vec<u8>, EncodeError> {
    if let Ok(b) = v.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, v, 0)?;
    Ok(out)
}

fn too_large(out: &[u8]) -> Result<(), EncodeError> {
    if out.len() > MAX_INTENT_BYTES {
        return Err(EncodeError::Value(format!(
            "larger than {MAX_INTENT_BYTES} bytes"
        )));
    }
    Ok(())
}

fn write_value(out: &mut Vec<u8>, v: &Bound<'_, PyAny>, depth: usize) -> Result<(), EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError::Value(format!(
            "nested deeper than {MAX_DEPTH} levels"
        )));
    }
    if let Ok(s) = v.cast::<PyString>() {
        let text = s.to_str().map_err(|_| {
            EncodeError::Value("a string is not valid Unicode (lone surrogate)".into())
        })?;
        gait_run::json::write_str(out, text);
        return too_large(out);
    }
    if let Ok(d) = v.cast::<PyDict>() {
        out.push(b'{');
        for (i, (k, item)) in d.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let Ok(key) = k.cast::<PyString>() else {
                return Err(EncodeError::Type(format!(
                    "unsupported object key of type {} (keys must be str)",
                    type_name(&k)
                )));
            };
            let key = key.to_str().map_err(|_| {
                EncodeError::Value("an object key is not valid Unicode (lone surrogate)".into())
            })?;
            gait_run::json::write_str(out, key);
            out.push(b':');
            write_value(out, &item, depth + 1)?;
        }
        out.push(b'}');
        return too_large(out);
    }
    if let Ok(l) = v.cast::<PyList>() {
        out.push(b'[');
        for (i, item) in l.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_value(out, &item, depth + 1)?;
        }
        out.push(b']');
        return too_large(out);
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        out.push(b'[');
        for (i, item) in t.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_value(out, &item, depth + 1)?;
        }
        out.push(b']');
        return too_large(out);
    }
    if v.is_none() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    if let Ok(b) = v.cast::<pyo3::types::PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
        return Ok(());
    }
    if let Ok(i) = v.cast::<PyInt>() {
        if let Ok(n) = i.extract::<i64>() {
            out.extend_from_slice(n.to_string().as_bytes());
        } else if let Ok(n) = i.extract::<u64>() {
            out.extend_from_slice(n.to_string().as_bytes());
        } else if let Ok(n) = i.extract::<i128>() {
            out.extend_from_slice(n.to_string().as_bytes());
        } else {
            return Err(EncodeError::Value(
                "an integer is too large for an intent".into(),
            ));
        }
        return too_large(out);
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        let x = f.value();
        if !x.is_finite() {
            return Err(EncodeError::Value(
                "a number is NaN or infinite (JSON has no such number)".into(),
            ));
        }
        serde_json::to_writer(&mut *out, &x)
            .map_err(|e| EncodeError::Value(format!("a number: {e}")))?;
        return too_large(out);
    }
    Err(EncodeError::Type(format!(
        "unsupported value of type {} (an intent holds only dict, list, tuple, str, int, float, bool and None)",
        type_name(v)
    )))
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeGate>()?;
    m.add_function(wrap_pyfunction!(encode_intent, m)?)?;
    m.add_function(wrap_pyfunction!(invalid_intent, m)?)?;
    m.add_function(wrap_pyfunction!(intent_digest, m)?)?;
    m.add("BundleRejected", m.py().get_type::<BundleRejected>())?;
    m.add("MAX_INTENT_BYTES", MAX_INTENT_BYTES)?;
    m.add("RUNTIME_VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
