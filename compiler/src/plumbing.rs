//! Command-line plumbing shared by the commands (`cli`), the language
//! server and skill signing: exit codes, output formats (and colour), JSON
//! text and atomic writes.
//! The command-line parser's view of these lives in `main.rs`.
//! It uses nothing else of the crate, so everything may use it.

use std::path::Path;

/// Exit codes shared by every command (runtime.md §1).
pub mod exit {
    pub const OK: i32 = 0;
    pub const INTERNAL: i32 = 1;
    pub const VERIFY: i32 = 2;
    pub const TEST_FAILED: i32 = 5;
    pub const INVALID: i32 = 6;
    /// `gaitc fmt --check` when a file would change.
    pub const WOULD_CHANGE: i32 = 1;
}

/// Output formats of `gaitc check` (the renderers are in [`crate::diag::render`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Plain,
    Json,
    Sarif,
}

/// Whether human output should be coloured: only on a terminal, never with `NO_COLOR`.
pub fn use_color(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// JSON as the commands print it: pretty, two-space indented.
pub fn pretty_json(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Writes `error: MESSAGE` to `err` and returns `code`: a command stopping there.
pub fn fail(err: &mut dyn std::io::Write, message: impl std::fmt::Display, code: i32) -> i32 {
    let _ = writeln!(err, "error: {message}");
    code
}

/// Writes a file atomically (temporary file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // A new temporary file beside it, created exclusively (a link planted at
    // a guessable name is never written through), then renamed; the mode
    // is what `std::fs::write` gives (0666 less the umask).
    gait_run::files::write_atomic(path, bytes, 0o666)
}
