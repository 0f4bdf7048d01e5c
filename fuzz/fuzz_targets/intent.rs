//! The intent reader and normalizer on arbitrary bytes, evaluated against a
//! real bundle: never panics, and an intent that is invalid is never allowed.
#![no_main]
use gait_run::bundle::{verify, VerifyOptions};
use gait_run::gate::{eval_text, EvalOptions};
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
    let out = eval_text(bundle, data, &EvalOptions::default(), &mut Scratch::default());
    if out.result["ok"] == false {
        assert_eq!(out.result["verdict"], "block");
        assert_ne!(out.exit, 0);
    }
});
