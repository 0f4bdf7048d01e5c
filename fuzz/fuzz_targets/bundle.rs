//! The bundle loader on arbitrary bytes: structure parsing, payload decoding
//! and table validation never panic, and whatever loads can be evaluated.
#![no_main]
use gait_run::bundle::{verify, VerifyOptions};
use gait_run::tables::{Scratch, TableData, Tables};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = VerifyOptions { insecure_skip_verify: true, ..VerifyOptions::default() };
    let _ = verify(data, &opts);
    if let Ok(decoded) = TableData::decode(data) {
        if let Ok(tables) = Tables::load(decoded) {
            let mut scratch = Scratch::default();
            let _ = tables.decide(&gait_run::intent::Intent::default(), &mut scratch);
        }
    }
});
