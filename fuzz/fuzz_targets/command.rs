//! The command analyzer on arbitrary text: never panics, never hangs (run
//! with `-timeout=1`: a slow input is a failure), never needs the deadline
//! (an analysis under a 500 ms deadline — generous for this instrumented
//! build, about 30× slower than release — must not time out), and a line it
//! resolves is resolved the same way twice (no hidden state).
#![no_main]
use gait_run::command::{programs, CommandError};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else { return };
    if line.contains('\0') {
        return;
    }
    let first = gait_run::deadline::run_with(Some(Duration::from_millis(500)), || programs(line));
    assert_ne!(first, Err(CommandError::Timeout), "slow input: {line:?}");
    assert_eq!(first, programs(line));
});
