//! The command analyzer on arbitrary text: never panics, answers within the
//! per-decision deadline's budget (a slow input is a failure: the target
//! asserts that an analysis under a 50 ms deadline never times out on the
//! inputs libFuzzer can build within the size limit), and a line it resolves
//! is resolved the same way twice (no hidden state).
#![no_main]
use gait_run::command::{programs, CommandError};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else { return };
    if line.contains('\0') {
        return;
    }
    let first = gait_run::deadline::run_with(Some(Duration::from_millis(50)), || programs(line));
    assert_ne!(first, Err(CommandError::Timeout), "slow input: {line:?}");
    assert_eq!(first, programs(line));
});
