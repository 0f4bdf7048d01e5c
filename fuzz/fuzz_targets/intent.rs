//! The intent reader and normalizer on arbitrary bytes, evaluated against a
//! real bundle through the one gate entry: never panics, the result is one
//! JSON document whose summary says what it says, and an intent that is
//! invalid is never allowed.
#![no_main]
use gait_run::bundle::{verify, VerifyOptions};
use gait_run::gate::{evaluate, EvalOptions};
use gait_run::tables::Scratch;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static BUNDLE: OnceLock<gait_run::bundle::Verified> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let bundle = BUNDLE.get_or_init(|| {
        let bytes = include_bytes!("../../runtime/tests/fixtures/matrix.gaitb");
        let opts = VerifyOptions { insecure_skip_verify: true, ..VerifyOptions::default() };
        verify(bytes, &opts).expect("fixture bundle loads")
    });
    let mut bytes = Vec::new();
    let summary = evaluate(bundle, data, &EvalOptions::default(), &mut Scratch::default(), &mut bytes);
    let result: serde_json::Value = serde_json::from_slice(&bytes).expect("the result is JSON");
    assert_eq!(result["verdict"], summary.verdict.as_str());
    assert_eq!(result["reason_codes"], serde_json::json!(summary.reason_codes));
    if result["ok"] == false {
        assert_eq!(result["verdict"], "block");
        assert_ne!(summary.exit, 0);
    }
});
