//! The approval token reader on arbitrary bytes: it never panics, and a
//! token it accepts signs and reads back to the same claims, its signed
//! text being RFC 8785 JSON.
#![no_main]
use gait_run::approval::token::read;
use gait_run::keys::KeyPair;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = read(data) else { return };
    let signed = token.claims.signed_bytes();
    let v: serde_json::Value = serde_json::from_slice(&signed).expect("signed text is JSON");
    assert_eq!(gait_run::jcs::to_string(&v).as_bytes(), &signed[..]);
    let key = KeyPair::from_seed(&[7; 32]);
    let again = read(&token.claims.clone().sign(&key)).expect("a signed token reads back");
    assert!(again.verify(key.public()));
    assert_eq!(again.claims.token_id, token.claims.token_id);
    assert_eq!(again.claims.rules, token.claims.rules);
    assert_eq!(again.claims.not_after_secs, token.claims.not_after_secs);
});
