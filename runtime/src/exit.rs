//! Process exit codes (runtime.md §1), defined once: `gait-run`'s commands,
//! the gate's results, the sidecar and the MCP proxy all use these.

/// Success; for a decision, `allow` (and `dry_run`, and anything under
/// `--simulate`).
pub const OK: i32 = 0;
/// A decision answered `allow`.
pub const ALLOW: i32 = OK;
/// A failure inside the runtime (also a decision past its deadline).
pub const INTERNAL: i32 = 1;
/// A bundle or a trace failed verification.
pub const VERIFY: i32 = 2;
/// A decision answered `block`.
pub const BLOCK: i32 = 3;
/// A decision answered `require_approval`.
pub const APPROVAL: i32 = 4;
/// Invalid input: usage, an unreadable or invalid intent.
pub const INVALID: i32 = 6;
