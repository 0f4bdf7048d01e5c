//! The command analyzer on arbitrary text: never panics (but inside
//! brush-parser, whose panics it catches), never hangs (run
//! with `-timeout=1`: a slow input is a failure), never needs the deadline
//! (an analysis under a 500 ms deadline — generous for this instrumented
//! build, about 30× slower than release — must not time out), and a line it
//! resolves is resolved the same way twice (no hidden state).
#![no_main]
use gait_run::command::{programs, CommandError};
use libfuzzer_sys::fuzz_target;
use std::sync::Once;
use std::time::Duration;

/// libFuzzer's panic hook aborts on every panic, caught or not: the
/// analyzer catches brush-parser's own (`grammar`: the line is then a syntax
/// error, an invalid intent), so those are let through; any other panic is
/// a failure.
static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.location().is_some_and(|l| l.file().contains("brush-parser")) {
                return;
            }
            abort(info);
        }));
    });
    let Ok(line) = std::str::from_utf8(data) else { return };
    if line.contains('\0') {
        return;
    }
    let first = gait_run::deadline::run_with(Some(Duration::from_millis(500)), || programs(line));
    assert_ne!(first, Err(CommandError::Timeout), "slow input: {line:?}");
    assert_eq!(first, programs(line));
});
