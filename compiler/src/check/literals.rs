//! Validation and canonicalization of literals (language.md §5).
//!
//! Each validator returns the canonical form the runtime will compare against,
//! or a [`LitError`] carrying a message, help and (where a fix is obvious) the
//! replacement text for a fix-it.

use base64::Engine as _;
use unicode_security::confusable_detection::skeleton;
use unicode_security::MixedScript;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LitError {
    pub message: String,
    pub help: String,
    /// A corrected literal value, for a fix-it.
    pub fix: Option<String>,
}

fn err(message: impl Into<String>, help: impl Into<String>) -> LitError {
    LitError {
        message: message.into(),
        help: help.into(),
        fix: None,
    }
}

fn err_fix(message: impl Into<String>, help: impl Into<String>, fix: String) -> LitError {
    LitError {
        message: message.into(),
        help: help.into(),
        fix: Some(fix),
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// What most literals are first checked for: not empty, no control characters.
fn filled(
    s: &str,
    what: &str,
    empty_help: impl Into<String>,
    control_help: &str,
) -> Result<(), LitError> {
    if s.is_empty() {
        return Err(err(format!("empty {what}"), empty_help));
    }
    if has_control(s) {
        return Err(err(
            format!("{what} contains a control character"),
            control_help,
        ));
    }
    Ok(())
}

/// Path globs: absolute (`/…` or `**/…`), segment-wise `*`, `?`, `**`, `[…]`.
pub fn path_glob(s: &str) -> Result<String, LitError> {
    filled(
        s,
        "path glob",
        "write an absolute pattern such as \"/workspace/**\"",
        "remove control characters (NUL, newline, ...)",
    )?;
    if s.contains('\\') {
        return Err(err_fix(
            "path glob contains `\\`",
            "paths are normalized to `/` separators before matching; write `/`",
            s.replace('\\', "/"),
        ));
    }
    if !(s.starts_with('/') || s.starts_with("**/") || s == "**") {
        let fixed = match s.strip_prefix("~/") {
            Some(rest) => format!("**/{rest}"),
            None => format!("/{s}"),
        };
        return Err(err_fix(
            format!("path glob `{s}` is not absolute"),
            "patterns match normalized absolute paths: start with `/` (or `**/` for any directory)",
            fixed,
        ));
    }
    if s.contains("//") {
        return Err(err_fix(
            "path glob contains `//`",
            "repeated `/` never occur in normalized paths",
            collapse_slashes(s),
        ));
    }
    if s.len() > 1 && s.ends_with('/') {
        return Err(err_fix(
            "path glob ends with `/`",
            "normalized paths never end with `/`; use `/dir/**` for a directory and everything under it",
            s.trim_end_matches('/').to_owned(),
        ));
    }
    for seg in s.split('/') {
        if seg == "." || seg == ".." {
            return Err(err(
                format!("path glob contains a `{seg}` segment"),
                "paths are normalized before matching (`..` and `.` are resolved), so such a pattern never matches; write the resolved path",
            ));
        }
        if seg.contains("**") && seg != "**" {
            return Err(err(
                format!("`**` must be a whole segment, found `{seg}`"),
                "use `**` alone between slashes for any number of segments, or `*` for a run of characters inside a segment",
            ));
        }
        check_classes(seg)?;
    }
    Ok(s.to_owned())
}

fn collapse_slashes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    out
}

fn check_classes(seg: &str) -> Result<(), LitError> {
    let mut chars = seg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                if matches!(chars.peek(), Some('!') | Some('^')) {
                    chars.next();
                }
                let mut closed = false;
                for (n, d) in chars.by_ref().enumerate() {
                    if d == ']' && n > 0 {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(err(
                        format!("unclosed or empty character class in `{seg}`"),
                        "a class is `[abc]`, `[a-z]` or `[!abc]` with at least one character",
                    ));
                }
            }
            ']' => {
                return Err(err(
                    format!("stray `]` in `{seg}`"),
                    "classes are written `[abc]`",
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Domain patterns: an exact host, or `*.suffix` (strictly below the suffix).
/// Returns the canonical form: lower-case, punycode, canonical IP, no trailing dot.
pub fn domain_pattern(s: &str) -> Result<String, LitError> {
    if s.is_empty() {
        return Err(err(
            "empty domain pattern",
            "write a host such as \"api.github.com\" or \"*.github.com\"",
        ));
    }
    if has_control(s) || s.chars().any(char::is_whitespace) {
        return Err(err(
            "domain pattern contains whitespace or a control character",
            "write just the host name",
        ));
    }
    if let Some(idx) = s.find("://") {
        let rest = &s[idx + 3..];
        let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        return Err(err_fix(
            format!("domain pattern `{s}` has a scheme"),
            "domain patterns are host names only; the scheme, port and path are not part of the domain",
            strip_port(host.rsplit('@').next().unwrap_or(host)).to_owned(),
        ));
    }
    if let Some(at) = s.rfind('@') {
        return Err(err_fix(
            format!("domain pattern `{s}` contains `@`"),
            "userinfo is never part of the domain: `https://api.github.com@evil.io/` is host `evil.io`",
            s[at + 1..].to_owned(),
        ));
    }
    if let Some(slash) = s.find('/') {
        return Err(err_fix(
            format!("domain pattern `{s}` contains a path"),
            "domain patterns are host names only",
            s[..slash].to_owned(),
        ));
    }
    // Bare or bracketed IPv6.
    let unbracketed = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    if unbracketed.contains(':') {
        if let Ok(v6) = unbracketed.parse::<std::net::Ipv6Addr>() {
            return Ok(canonical_v6(v6));
        }
        return Err(err_fix(
            format!("domain pattern `{s}` has a port"),
            "the port is dropped before matching; write the host alone",
            strip_port(s).to_owned(),
        ));
    }
    let body = s.strip_suffix('.').unwrap_or(s);
    if let Some(rest) = body.strip_prefix("*.") {
        if rest.contains('*') {
            return Err(err(
                format!("`*` may only be the whole first label, found `{s}`"),
                "write `*.example.com`",
            ));
        }
        let suffix = canonical_host(rest)?;
        if suffix.parse::<std::net::Ipv4Addr>().is_ok() {
            return Err(err(
                "`*.` cannot precede an IP address",
                "list IP addresses exactly",
            ));
        }
        return Ok(format!("*.{suffix}"));
    }
    if body.contains('*') {
        let fix = body
            .rfind('*')
            .map(|i| format!("*.{}", body[i + 1..].trim_start_matches('.')));
        return Err(LitError {
            message: format!("invalid wildcard in domain pattern `{s}`"),
            help: "`*` is only allowed as the whole first label: `*.example.com` matches hosts strictly below example.com".to_owned(),
            fix: fix.filter(|f| f.len() > 2),
        });
    }
    canonical_host(body)
}

fn strip_port(host: &str) -> &str {
    match host.rfind(':') {
        Some(i) if host[i + 1..].chars().all(|c| c.is_ascii_digit()) => &host[..i],
        _ => host,
    }
}

fn canonical_v6(v6: std::net::Ipv6Addr) -> String {
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

/// Canonicalizes a host with the WHATWG host parser, exactly as the runtime does.
fn canonical_host(host: &str) -> Result<String, LitError> {
    if host.split('.').any(str::is_empty) {
        return Err(err(
            format!("domain `{host}` has an empty label"),
            "remove the extra `.`",
        ));
    }
    match url::Host::parse(host) {
        Ok(url::Host::Domain(d)) => {
            if d.len() > 253 || d.split('.').any(|l| l.len() > 63) {
                return Err(err(
                    format!("domain `{host}` is too long"),
                    "labels are at most 63 bytes, names at most 253",
                ));
            }
            Ok(d)
        }
        Ok(url::Host::Ipv4(v4)) => Ok(v4.to_string()),
        Ok(url::Host::Ipv6(v6)) => Ok(canonical_v6(v6)),
        Err(e) => Err(err(
            format!("`{host}` is not a valid host name ({e})"),
            "use letters, digits, `-` and `.`",
        )),
    }
}

/// Tool globs: `*` only; stored lower-cased.
pub fn tool_glob(s: &str) -> Result<String, LitError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(err(
            "empty tool name",
            "write the tool's name, e.g. \"read_file\", or a glob such as \"mcp__*\"",
        ));
    }
    if t != s || has_control(s) || s.chars().any(char::is_whitespace) {
        return Err(err_fix(
            "tool name contains whitespace",
            "tool names are trimmed by the runtime",
            t.to_owned(),
        ));
    }
    if let Some(c) = s.chars().find(|c| matches!(c, '?' | '[' | ']' | '{' | '}')) {
        return Err(err(
            format!("`{c}` is not supported in tool globs"),
            "tool globs support only `*`, matching any run of characters",
        ));
    }
    if let Some((c, ascii)) = gait_run::normalize::tool_name_reads_as_ascii(s) {
        // The runtime refuses such an intent: the name is two tools.
        return Err(err_fix(
            format!("tool name holds `{c}`, which a case-insensitive dispatcher reads as `{ascii}`"),
            "the runtime refuses a tool name that reads as another name (intent_invalid): write it in ASCII",
            s.replace(c, ascii).to_lowercase(),
        ));
    }
    Ok(s.to_lowercase())
}

/// Command patterns: a program basename, `*` allowed.
pub fn command_pattern(s: &str) -> Result<String, LitError> {
    filled(
        s,
        "command pattern",
        "write a program name such as \"rm\" or \"mkfs*\"",
        "write just the program name",
    )?;
    if let Some(first) = s
        .split_whitespace()
        .next()
        .filter(|_| s.contains(char::is_whitespace))
    {
        let base = first.rsplit('/').next().unwrap_or(first).to_owned();
        return Err(err_fix(
            format!("command pattern `{s}` contains arguments"),
            "patterns match program basenames only; arguments are not matched",
            base,
        ));
    }
    if s.contains('/') {
        let base = s.rsplit('/').next().unwrap_or(s).to_owned();
        return Err(err_fix(
            format!("command pattern `{s}` is a path"),
            "commands are matched on the program's basename (`/bin/rm` runs `rm`)",
            base,
        ));
    }
    if s == gait_run::command::DYNAMIC {
        // The program value of a dynamic command line (runtime.md §3).
        return Ok(s.to_owned());
    }
    if let Some(c) = s.chars().find(|c| matches!(c, '?' | '[' | ']')) {
        return Err(err(
            format!("`{c}` is not supported in command patterns"),
            "only `*` is supported",
        ));
    }
    Ok(s.to_owned())
}

/// `sha256:` + 64 lowercase hex.
pub fn digest(s: &str) -> Result<String, LitError> {
    let Some(hex) = s.strip_prefix("sha256:") else {
        let fix = (s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| format!("sha256:{}", s.to_lowercase()));
        return Err(LitError {
            message: format!("digest `{s}` does not start with `sha256:`"),
            help: "digests are written `sha256:` followed by 64 lowercase hex digits".to_owned(),
            fix,
        });
    };
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(err(
            format!(
                "digest has {} characters after `sha256:`, expected 64 hex digits",
                hex.chars().count()
            ),
            "a SHA-256 digest is 64 hex digits",
        ));
    }
    if hex.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(err_fix(
            "digest must be lowercase hex",
            "write the hex digits in lowercase",
            format!("sha256:{}", hex.to_lowercase()),
        ));
    }
    Ok(s.to_owned())
}

/// `ed25519:` + standard base64 of exactly 32 bytes. Returns the key bytes.
pub fn key(s: &str) -> Result<[u8; 32], LitError> {
    let Some(b64) = s.strip_prefix("ed25519:") else {
        return Err(err(
            format!("key `{s}` does not start with `ed25519:`"),
            "keys are written `ed25519:` followed by the base64 of the 32-byte public key",
        ));
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| {
            err(
                format!("key is not valid base64 ({e})"),
                "use standard base64 (A-Z a-z 0-9 + /, `=` padding), as written by `gaitc keygen`",
            )
        })?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        err(
            format!("key decodes to {} bytes, expected 32", bytes.len()),
            "an Ed25519 public key is exactly 32 bytes (44 base64 characters)",
        )
    })
}

/// Semantic versions `MAJOR.MINOR.PATCH[-pre][+build]`.
pub fn semver(s: &str) -> Result<String, LitError> {
    let core_end = s.find(['-', '+']).unwrap_or(s.len());
    let (core, rest) = s.split_at(core_end);
    let parts: Vec<&str> = core.split('.').collect();
    let numeric_ok = parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        });
    let rest_ok = rest.is_empty()
        || rest[1..]
            .split(['.', '+'])
            .all(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if numeric_ok && rest_ok {
        return Ok(s.to_owned());
    }
    let fix = match parts.as_slice() {
        [a] if a.chars().all(|c| c.is_ascii_digit()) && !a.is_empty() => Some(format!("{a}.0.0")),
        [a, b]
            if [a, b]
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())) =>
        {
            Some(format!("{a}.{b}.0"))
        }
        _ => s
            .strip_prefix('v')
            .filter(|x| semver(x).is_ok())
            .map(str::to_owned),
    };
    Err(LitError {
        message: format!("`{s}` is not a semantic version"),
        help: "write MAJOR.MINOR.PATCH, e.g. \"1.4.0\" (optionally with -prerelease or +build)"
            .to_owned(),
        fix,
    })
}

/// Identifiers (codes, approver names): not empty, and nothing but ASCII
/// letters, digits and the four characters of `allowed`. `helps`: for an
/// empty one, and for one with another character (which `fix` may repair).
fn identifier(
    s: &str,
    what: &str,
    allowed: [char; 4],
    helps: [&str; 2],
    fix: impl FnOnce() -> Option<String>,
) -> Result<String, LitError> {
    let [empty_help, help] = helps;
    if s.is_empty() {
        return Err(err(format!("empty {what}"), empty_help));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || allowed.contains(&c))
    {
        let [a, b, c, d] = allowed;
        return Err(LitError {
            message: format!(
                "{what} `{s}` contains characters other than letters, digits, `{a}`, `{b}`, `{c}` and `{d}`"
            ),
            help: help.to_owned(),
            fix: fix(),
        });
    }
    Ok(s.to_owned())
}

/// Reason and violation codes: ASCII letters, digits and `_ . : -`.
pub fn code(s: &str) -> Result<String, LitError> {
    identifier(
        s,
        "code",
        ['_', '.', ':', '-'],
        [
            "reason and violation codes are stable identifiers such as \"secret_path_access\"",
            "codes are machine-readable identifiers; use snake_case",
        ],
        || {
            let snake_case = s
                .trim()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            Some(snake_case)
        },
    )
}

/// Approver names: ASCII letters, digits and `_ . @ -` (so `alice` or
/// `alice@example.com`; never a `:`, which the runtime keeps for approvers it
/// names itself, such as `interactive:CLIENT`). Case-sensitive.
pub fn approver_name(s: &str) -> Result<String, LitError> {
    // A token's approver is read with this limit: a longer name could never
    // approve anything.
    let max = gait_run::approval::token::MAX_APPROVER_LEN;
    if s.len() > max {
        return Err(err(
            format!("approver name is {} bytes long, more than {max}", s.len()),
            "approval tokens carry the approver's name and are refused when it is longer; use a shorter name",
        ));
    }
    identifier(
        s,
        "approver name",
        ['_', '.', '@', '-'],
        [
            "name the approver, e.g. \"alice\" or \"alice@example.com\"",
            "approver names are identifiers such as \"alice\" or \"alice@example.com\" (`:` is reserved for approvers the runtime names itself, such as `interactive:CLIENT`)",
        ],
        || None,
    )
}

/// A non-negative 32-bit integer as written (a `revision`, a `priority`, an
/// `approvals` count): decimal digits without leading zeros. `what` names it
/// in the message.
pub fn integer(s: &str, what: &str) -> Result<u32, LitError> {
    let leading_zero = s.len() > 1 && s.starts_with('0');
    let reason = match s.parse::<u32>() {
        Ok(v) if !leading_zero => return Ok(v),
        _ if s.starts_with('-') => "must not be negative",
        _ if s.contains(['.', 'e', 'E']) => "must be a whole number",
        _ if leading_zero => "must not have leading zeros",
        _ => "is larger than 4294967295",
    };
    Err(err(
        format!("{what} {reason}: `{s}`"),
        format!("{what} is a non-negative whole number that fits in 32 bits"),
    ))
}

/// A duration as written: decimal digits and a unit, `s`, `m` or `h`
/// (`90s`, `15m`, `2h`). The value in seconds (no range check).
pub fn duration(s: &str) -> Result<u64, LitError> {
    use gait_run::time::{parse_duration, DurationError};
    parse_duration(s).map_err(|e| match e {
        DurationError::Malformed => err(
            format!("`{s}` is not a duration"),
            "write a number without leading zeros and a unit, e.g. `15m`",
        ),
        DurationError::Unit => err(
            format!("`{s}` is not a duration"),
            "write a number and a unit: `s` (seconds), `m` (minutes) or `h` (hours), e.g. `15m`",
        ),
        DurationError::TooLarge => err(
            format!("duration `{s}` is too large"),
            "write at most a few hours, e.g. `2h`",
        ),
    })
}

/// A plain non-empty name (identities, publishers, sources, skills, markers).
pub fn non_empty(s: &str, what: &str) -> Result<String, LitError> {
    filled(
        s,
        what,
        format!("remove the empty string or write the {what}"),
        "remove it",
    )?;
    Ok(s.to_owned())
}

/// Findings of the Unicode lints for one domain or path literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptFinding {
    /// A label or segment mixes scripts (e.g. Latin with Cyrillic).
    Mixed { part: String },
    /// A label or segment is written in another script but looks like ASCII.
    Confusable { part: String, looks_like: String },
}

/// Checks each `.`- or `/`-separated part of a literal for mixed scripts and
/// for whole-script confusables with ASCII.
pub fn script_findings(s: &str) -> Vec<ScriptFinding> {
    let mut out = Vec::new();
    for part in s.split(['.', '/']) {
        if part.is_ascii() {
            continue;
        }
        if !part.is_single_script() {
            out.push(ScriptFinding::Mixed {
                part: part.to_owned(),
            });
            continue;
        }
        let sk: String = skeleton(part).collect();
        if sk.is_ascii() && sk != part {
            out.push(ScriptFinding::Confusable {
                part: part.to_owned(),
                looks_like: sk,
            });
        }
    }
    out
}

/// `*`-glob match (tool globs): `*` matches any run of characters.
pub fn star_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fix-it offered for a rejected literal (`None` when it is accepted).
    fn fix<T>(checked: Result<T, LitError>) -> Option<String> {
        checked.err().and_then(|e| e.fix)
    }

    #[test]
    fn durations_and_approver_names() {
        assert_eq!(duration("90s").ok(), Some(90));
        assert_eq!(duration("15m").ok(), Some(900));
        assert_eq!(duration("2h").ok(), Some(7200));
        for bad in ["15", "15d", "15ms", "m", "015m", "99999999999999999999h"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
        for good in ["alice", "alice@example.com", "on-call_2.b"] {
            assert_eq!(approver_name(good).ok().as_deref(), Some(good));
        }
        for bad in ["", "interactive:claude", "a b", "ålice"] {
            assert!(approver_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn path_globs() {
        for good in ["/workspace/**", "**/.ssh/id_*", "/a/[a-z]?/b"] {
            assert!(path_glob(good).is_ok(), "{good}");
        }
        for bad in ["/a/../b", "/a/./b", "/a**", "/a/[ab", "/a/", ""] {
            assert!(path_glob(bad).is_err(), "{bad}");
        }
        assert_eq!(
            fix(path_glob("workspace/**")).as_deref(),
            Some("/workspace/**")
        );
        assert_eq!(fix(path_glob("/a//b")).as_deref(), Some("/a/b"));
    }

    #[test]
    fn domains() {
        for (written, canonical) in [
            ("API.GitHub.com", "api.github.com"),
            ("*.stripe.com", "*.stripe.com"),
            ("example.com.", "example.com"),
            ("0xA9.254.169.254", "169.254.169.254"),
            ("[::ffff:169.254.169.254]", "169.254.169.254"),
            ("bücher.de", "xn--bcher-kva.de"),
        ] {
            assert_eq!(domain_pattern(written).unwrap(), canonical);
        }
        for written in ["https://api.github.com/x", "api.github.com:443"] {
            assert_eq!(
                fix(domain_pattern(written)).as_deref(),
                Some("api.github.com")
            );
        }
        for bad in ["api.*.com", "*github.com", "a@b.com", "a..b"] {
            assert!(domain_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digests_keys_versions() {
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert!(digest(&format!("sha256:{hex}")).is_ok());
        assert!(fix(digest(hex)).is_some());
        assert!(digest(&format!("sha256:{}", hex.to_uppercase())).is_err());
        assert!(key("ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=").is_ok());
        assert!(key("ed25519:3q2+7w==").is_err());
        assert!(semver("1.4.0").is_ok());
        assert!(semver("1.4.0-rc.1+b5").is_ok());
        assert_eq!(fix(semver("1.4")).as_deref(), Some("1.4.0"));
        assert!(semver("01.2.3").is_err());
    }

    #[test]
    fn commands_and_tools() {
        assert!(command_pattern("mkfs*").is_ok());
        for written in ["/bin/rm", "rm -rf"] {
            assert_eq!(fix(command_pattern(written)).as_deref(), Some("rm"));
        }
        assert_eq!(tool_glob("Read_File").unwrap(), "read_file");
        // Refused as the runtime refuses an intent's tool name.
        assert!(tool_glob("li\u{17f}t_DIR").is_err());
        assert!(tool_glob("mcp__\u{ff52}*").is_err());
        assert_eq!(tool_glob("\u{c9}crire").unwrap(), "\u{e9}crire");
        assert!(tool_glob("read?").is_err());
        assert!(star_match("mcp__*", "mcp__fs_read"));
        assert!(star_match("*", ""));
        assert!(!star_match("a*b", "acx"));
    }

    #[test]
    fn scripts() {
        assert_eq!(
            script_findings("p\u{0430}ypal.com"),
            vec![ScriptFinding::Mixed {
                part: "p\u{0430}ypal".into()
            }]
        );
        let conf = script_findings("\u{0440}\u{0430}\u{0443}\u{0440}\u{0430}\u{04CF}.com");
        assert!(
            matches!(conf.as_slice(), [ScriptFinding::Confusable { .. }]),
            "{conf:?}"
        );
        assert!(script_findings("bücher.de").is_empty());
        assert!(script_findings("/home/dev/документы").is_empty());
    }
}
