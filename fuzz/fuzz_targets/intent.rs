//! The intent reader and normalizer on arbitrary bytes, evaluated against a
//! real bundle through the one gate entry: never panics, the result is one
//! JSON document whose summary says what it says, and an intent that is
//! invalid is never allowed. The scratch (and its intent arena) is reused
//! from input to input, as a sidecar worker reuses it, and a fresh scratch
//! gives the same bytes: nothing of an earlier decision leaks into a later.
#![no_main]
use gait_run::bundle::{verify, VerifyOptions};
use gait_run::gate::{evaluate, EvalOptions};
use gait_run::tables::Scratch;
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use std::sync::OnceLock;

static BUNDLE: OnceLock<gait_run::bundle::Verified> = OnceLock::new();

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fuzz_target!(|data: &[u8]| {
    let bundle = BUNDLE.get_or_init(|| {
        let bytes = include_bytes!("../../runtime/tests/fixtures/matrix.gaitb");
        let opts = VerifyOptions { insecure_skip_verify: true, ..VerifyOptions::default() };
        verify(bytes, &opts).expect("fixture bundle loads")
    });
    let mut bytes = Vec::new();
    let opts = EvalOptions::default();
    let summary = SCRATCH.with(|s| evaluate(bundle, data, &opts, &mut s.borrow_mut(), &mut bytes));
    let mut fresh = Vec::new();
    let again = evaluate(bundle, data, &opts, &mut Scratch::default(), &mut fresh);
    let timed_out = |s: &gait_run::gate::Summary| s.reason_codes.iter().any(|c| c == "decision_timeout");
    if !timed_out(&summary) && !timed_out(&again) {
        assert_eq!(bytes, fresh, "a reused scratch decides as a fresh one");
    }
    let result: serde_json::Value = serde_json::from_slice(&bytes).expect("the result is JSON");
    assert_eq!(result["verdict"], summary.verdict.as_str());
    assert_eq!(result["reason_codes"], serde_json::json!(summary.reason_codes));
    if result["ok"] == false {
        assert_eq!(result["verdict"], "block");
        assert_ne!(summary.exit, 0);
    }
});
