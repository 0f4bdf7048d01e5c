//! The intent reader and normalizer on arbitrary bytes, evaluated against a
//! real bundle: never panics, an intent that is invalid is never allowed, and
//! the serving path (`eval_into`) writes exactly the value path's result.
#![no_main]
use gait_run::bundle::{verify, VerifyOptions};
use gait_run::gate::{eval_into, eval_text, EvalOptions};
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
    let mut bytes = Vec::new();
    let exit = eval_into(bundle, data, &EvalOptions::default(), &mut Scratch::default(), &mut bytes);
    assert_eq!(exit, out.exit);
    assert_eq!(bytes, serde_json::to_vec(&out.result).expect("result serializes"));
});
