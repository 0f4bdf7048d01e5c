//! The command analyzer on arbitrary text: never panics (but inside
//! brush-parser, whose panics it catches), never hangs, never needs the
//! deadline — its work on a line is bounded by the shell grammar's steps
//! (`MAX_PARSE_STEPS`, the line's parses together), not by time: an
//! analysis under a 5 s deadline must not time out (a line at the bound
//! takes about 6 ms in release and 150 times that in this instrumented
//! build; `scripts/fuzz.sh` gives each input 15 s, two analyses and room) —
//! and a line it resolves is resolved the same way twice (no hidden state).
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
    let first = gait_run::deadline::run_with(Some(Duration::from_secs(5)), || programs(line));
    assert_ne!(first, Err(CommandError::Timeout), "slow input: {line:?}");
    assert_eq!(first, programs(line));
});
