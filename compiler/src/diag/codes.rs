//! The registry of diagnostic codes. Codes are stable: once published, a code
//! keeps its meaning forever. Each has a one-line title and a long explanation
//! (`gaitc explain CODE`) with an example.

use super::Severity;

/// Static facts about one diagnostic code.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    pub code: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// Long explanation in Markdown, ending with an example.
    pub explanation: &'static str,
}

macro_rules! codes {
    ($($name:ident, $sev:ident, $title:literal;)+) => {
        $(pub const $name: &str = stringify!($name);)+
        /// Every code, in order.
        pub const ALL: &[CodeInfo] = &[
            $(CodeInfo {
                code: stringify!($name),
                severity: Severity::$sev,
                title: $title,
                explanation: include_str!(concat!("explain/", stringify!($name), ".md")),
            },)+
        ];
    };
}

codes! {
    // Lexical and syntax errors.
    E0001, Error, "syntax error";
    E0002, Error, "unexpected character";
    E0003, Error, "unterminated string";
    E0004, Error, "invalid escape sequence";
    E0005, Error, "bidirectional control character";
    E0006, Error, "invalid integer";
    E0007, Error, "invisible character";
    // File structure.
    E0010, Error, "missing policy header";
    E0011, Error, "duplicate or misplaced policy header";
    E0012, Error, "missing default verdict";
    E0013, Error, "duplicate default verdict";
    E0014, Error, "duplicate fail_closed block";
    E0015, Error, "invalid fail_closed entry";
    E0016, Error, "item not allowed in an imported module";
    // Names and imports.
    E0020, Error, "unknown name";
    E0021, Error, "duplicate name";
    E0022, Error, "import not found";
    E0023, Error, "import cycle";
    E0024, Error, "set defined in terms of itself";
    // Types.
    E0030, Error, "type mismatch between attribute and set";
    E0031, Error, "missing quantifier on a multi-valued attribute";
    E0032, Error, "quantifier on a single-valued attribute";
    E0033, Error, "unknown attribute";
    E0034, Error, "invalid enum value";
    E0035, Error, "unknown set type";
    E0036, Error, "operator not valid here";
    // Literals.
    E0040, Error, "invalid path glob";
    E0041, Error, "invalid domain pattern";
    E0042, Error, "invalid tool glob";
    E0043, Error, "invalid command pattern";
    E0044, Error, "invalid digest";
    E0045, Error, "invalid key";
    E0046, Error, "invalid version";
    E0047, Error, "invalid literal";
    // Tool mappings.
    E0050, Error, "invalid tool-mapping kind";
    E0051, Error, "endpoint class inconsistent with mapping kind";
    E0052, Error, "invalid argument path";
    // Rules.
    E0060, Error, "rule without `then`";
    E0061, Error, "duplicate clause";
    E0062, Error, "`approvals` on a rule that does not require approval";
    // Tests.
    E0070, Error, "invalid test";
    // Approvals.
    E0080, Error, "unknown approver";
    E0081, Error, "duplicate approver";
    E0082, Error, "more approvals than approvers";
    E0083, Error, "invalid approval TTL";
    E0084, Error, "duplicate approval_ttl";
    // Warnings.
    W0001, Warning, "unused set";
    W0002, Warning, "unused import";
    W0003, Warning, "rule can never match";
    W0004, Warning, "rule shadowed by an earlier tier";
    W0005, Warning, "`any` on a target attribute in an allow rule";
    W0006, Warning, "`all` on a target attribute in a block or require_approval rule";
    W0007, Warning, "mixed-script literal";
    W0008, Warning, "confusable literal";
    W0009, Warning, "tool mapping for a tool no rule can see";
    W0010, Warning, "duplicate set element";
    W0011, Warning, "approval required but no approver declared";
}

/// Looks a code up (case-insensitive).
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    ALL.iter().find(|info| info.code.eq_ignore_ascii_case(code))
}
