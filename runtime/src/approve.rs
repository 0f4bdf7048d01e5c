//! `gait-run approve`: an approver signs an approval token for the
//! `approval_request` of a `require_approval` result.
//!
//! A token signs the request's intent digest, not the result file's
//! `tool_name` or `skill_provenance`: a changed result file could show a
//! harmless tool beside another intent's digest. With `--intent FILE
//! --bundle FILE` (and the bundle's trust flags, as `eval` takes them),
//! `approve` reads the intent as the gate does, recomputes its digest and
//! the bundle's policy digest, refuses a request that differs, and shows
//! the approver the intent itself; without them it warns that what it
//! shows is the result file's unverified copy.

use crate::cli_args::{options, read_verified, TrustArgs};
use clap::Args;
use gait_run::approval::token::Claims;
use gait_run::bundle::Verified;
use gait_run::exit;
use gait_run::gate::{self, EvalOptions};
use gait_run::keys::KeyPair;
use gait_run::normalize::{self, Normalized};
use gait_run::tables::Scratch;
use gait_run::vocab::Verdict;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Arguments of `gait-run approve`.
#[derive(Args, Debug)]
pub struct ApproveArgs {
    /// The result JSON of the decision to approve (`gait-run eval` stdout,
    /// or the sidecar's answer): its verdict must be require_approval.
    #[arg(long, value_name = "RESULT.json")]
    request: PathBuf,
    /// The approver's private key file (as written by `gaitc keygen`); its
    /// public key must be declared for the approver in the policy
    /// (`trust approver "NAME" key "ed25519:…"`).
    #[arg(long, value_name = "KEYFILE")]
    key: PathBuf,
    /// The approver's name, as declared in the policy and listed in the
    /// request's `approval_request.approvers`.
    #[arg(long, value_name = "NAME")]
    approver: String,
    /// How long the token is valid: `90s`, `10m`, `1h` (digits and a unit,
    /// as in a policy's approval_ttl). Default and maximum: the policy's approval_ttl
    /// (`approval_request.approval_ttl_seconds`).
    #[arg(long, value_name = "DURATION")]
    ttl: Option<String>,
    /// Write the token here (mode 0600) instead of standard output.
    #[arg(short = 'o', long = "out", value_name = "TOKEN.json")]
    out: Option<PathBuf>,
    /// The intent the request is for (recommended, with --bundle): read and
    /// normalized as the gate reads it; its intent digest must be the
    /// request's, and what is shown is what the intent says (tool, endpoint
    /// classes, targets, skill provenance). Without it, what is shown comes
    /// from the result file, unverified.
    #[arg(long, value_name = "FILE", requires = "bundle")]
    intent: Option<PathBuf>,
    /// The bundle the request was decided with (with --intent), verified as
    /// `eval` verifies it (--trust, --pin, --min-revision): its policy
    /// digest and revision must be the request's, and it must decide the
    /// intent require_approval with the request's rules.
    #[arg(long, value_name = "BUNDLE", requires = "intent")]
    bundle: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
}

/// `--ttl`: read as a policy's `approval_ttl` is ([`gait_run::time::parse_duration`]).
fn parse_duration(s: &str) -> Result<u64, String> {
    gait_run::time::parse_duration(s).map_err(|_| {
        format!("--ttl `{s}`: expected a duration such as 90s, 10m or 1h (digits and a unit)")
    })
}

fn refuse(msg: &str) -> i32 {
    eprintln!("error: approve: {msg}");
    exit::INVALID
}

fn str_of<'a>(req: &'a Value, key: &str) -> Result<&'a str, String> {
    req.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("approval_request.{key} is missing or not a string"))
}

pub fn run(args: ApproveArgs) -> i32 {
    match approve(&args) {
        Ok(code) => code,
        Err(msg) => refuse(&msg),
    }
}

/// What the intent says, read as the gate reads it (`--intent`), and the
/// request the bundle makes for it.
struct Checked {
    /// The gate's `approval_request` for the intent under the bundle.
    request: Value,
    /// One line for the approver: tool, endpoint classes, targets, skill.
    shown: String,
}

/// A string as a JSON string literal (quoted, control characters escaped):
/// what is shown to the approver cannot move their terminal's cursor. The
/// invisible format characters are escaped too (`\u202e`, still JSON):
/// a direction override or a zero-width character would show the approver
/// another text than the one they approve (Trojan Source), as the MCP
/// proxy's prompt and the policy language already refuse to.
fn quoted(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_else(|_| "\"?\"".to_owned());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if normalize::invisible(c) {
            // UTF-16 units: past U+FFFF a JSON escape is a surrogate pair.
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut buf))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if buf.len() > limit {
        return Err(format!("{} is larger than {limit} bytes", path.display()));
    }
    Ok(buf)
}

/// What the normalized intent says, for the approver.
fn describe(n: &Normalized, classes: &Value) -> String {
    let i = &n.intent;
    let classes: Vec<&str> = classes
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let targets: Vec<String> = i
        .targets
        .iter()
        .map(|t| {
            format!(
                "{} {} {}{}",
                t.class.as_str(),
                t.kind.as_str(),
                quoted(&t.value),
                if t.destructive { " (destructive)" } else { "" }
            )
        })
        .collect();
    let skill = i.skill.as_ref().map_or_else(
        || "none".to_owned(),
        |k| {
            format!(
                "{} version {} (publisher {}, source {}, digest {}, signed by {})",
                quoted(&k.name),
                k.version
                    .as_deref()
                    .map_or_else(|| "none".to_owned(), quoted),
                quoted(&k.publisher),
                quoted(&k.source),
                k.digest.as_deref().unwrap_or("none"),
                k.key_id.as_deref().unwrap_or("none"),
            )
        },
    );
    format!(
        "tool {}, endpoint classes [{}], targets [{}], skill {}",
        quoted(&i.tool),
        classes.join(", "),
        targets.join("; "),
        skill
    )
}

/// `--intent` and `--bundle`: the bundle verified as `eval` verifies it,
/// the intent read and normalized by the gate's reader, their digests
/// compared with the request's, and the request the gate makes for the
/// intent (which must be the file's: same rules).
fn check_intent(
    args: &ApproveArgs,
    intent: &Path,
    bundle: &Path,
    req: &Value,
    key: &gait_run::keys::PublicKey,
) -> Result<Checked, String> {
    let opts = options(&args.trust)?;
    let verified: Verified = read_verified(bundle, &opts)
        .map_err(|rej| format!("--bundle {}: {rej}", bundle.display()))?;
    // A token signed with a key the policy does not declare for this
    // approver is refused by the gate (approval_token_untrusted_approver,
    // by the same lookup): say so now rather than hand out a token that
    // cannot work.
    if verified
        .tables
        .approver_public_key(&args.approver, key.id())
        .is_none()
    {
        return Err(format!(
            "--key {}: its key id {} is not one the policy declares for approver `{}`; the gate would refuse the token (approval_token_untrusted_approver)",
            args.key.display(),
            key.id(),
            args.approver,
        ));
    }
    let text =
        read_limited(intent, normalize::MAX_INTENT_BYTES).map_err(|e| format!("--intent: {e}"))?;
    let arena = gait_run::json::Bump::new();
    let n = normalize::parse_json(&text, &arena)
        .and_then(|raw| normalize::normalize_json(&raw, Some(&verified.tables)))
        .map_err(|e| format!("--intent {}: not a valid intent: {e}", intent.display()))?;
    let asked = str_of(req, "intent_digest")?;
    if n.digest != asked {
        return Err(format!(
            "the request is for intent {asked}, but --intent {} is {}: the result file is not this \
             intent's decision (changed, or another intent's); nothing signed",
            intent.display(),
            n.digest
        ));
    }
    let policy = str_of(req, "policy_digest")?;
    let revision = req.get("policy_revision").and_then(Value::as_u64);
    if verified.policy_digest() != policy || revision != Some(u64::from(verified.info().revision)) {
        return Err(format!(
            "the request was decided under policy {policy} (revision {}), but --bundle {} is {} \
             (revision {}): approve against the bundle the gate runs; nothing signed",
            revision.map_or_else(|| "?".to_owned(), |r| r.to_string()),
            bundle.display(),
            verified.policy_digest(),
            verified.info().revision
        ));
    }
    // The gate's own decision of the intent: the request it makes.
    let mut out = Vec::with_capacity(2048);
    let eval = EvalOptions {
        // A decision for a person, not a hot path: no deadline to speak of.
        decision_timeout: Some(std::time::Duration::from_secs(60)),
        ..EvalOptions::default()
    };
    let summary = gate::evaluate(&verified, &text, &eval, &mut Scratch::default(), &mut out);
    let result: Value = serde_json::from_slice(&out)
        .map_err(|e| format!("the gate's result does not read back: {e}"))?;
    if summary.verdict != Verdict::RequireApproval {
        return Err(format!(
            "--bundle decides --intent `{}`, not `require_approval`: there is nothing to approve",
            summary.verdict.as_str()
        ));
    }
    let request = result
        .get("approval_request")
        .filter(|r| r.is_object())
        .cloned()
        .ok_or("the gate's require_approval result has no approval_request")?;
    if request.get("intent_digest") != req.get("intent_digest")
        || request.get("rules") != req.get("rules")
    {
        return Err(format!(
            "the request's rules {} are not the ones --bundle asks approval for with --intent ({}): \
             nothing signed",
            req.get("rules").unwrap_or(&Value::Null),
            request.get("rules").unwrap_or(&Value::Null)
        ));
    }
    Ok(Checked {
        shown: describe(&n, result.get("endpoint_classes").unwrap_or(&Value::Null)),
        request,
    })
}

fn approve(args: &ApproveArgs) -> Result<i32, String> {
    let text = std::fs::read(&args.request)
        .map_err(|e| format!("cannot read {}: {e}", args.request.display()))?;
    let result: Value = serde_json::from_slice(&text)
        .map_err(|e| format!("{} is not JSON: {e}", args.request.display()))?;
    let verdict = result.get("verdict").and_then(Value::as_str).unwrap_or("");
    if verdict != "require_approval" {
        return Err(format!(
            "the request's verdict is `{verdict}`, not `require_approval`: there is nothing to approve (a block is never approvable)"
        ));
    }
    let req = result
        .get("approval_request")
        .filter(|r| r.is_object())
        .ok_or("the result has no approval_request object (was it written by this gait-run?)")?;
    let key = KeyPair::read(&args.key).map_err(|e| format!("--key: {e}"))?;
    let checked = match (&args.intent, &args.bundle) {
        (Some(intent), Some(bundle)) => {
            Some(check_intent(args, intent, bundle, req, key.public())?)
        }
        _ => {
            let t = &args.trust;
            if !t.trust.is_empty()
                || t.pin.is_some()
                || t.min_revision.is_some()
                || t.insecure_skip_verify
            {
                return Err(
                    "--trust, --pin, --min-revision and --insecure-skip-verify verify --bundle: give --intent FILE --bundle FILE"
                        .to_owned(),
                );
            }
            eprintln!(
                "warning: approve: without --intent and --bundle, what is shown (tool, skill) comes from the \
                 unverified result file {}, not from the intent the token is bound to: a changed file can show \
                 one tool and carry another intent's digest. Give --intent FILE --bundle FILE to check it.",
                args.request.display()
            );
            None
        }
    };
    // Verified: the gate's request for the intent (the same digests and
    // rules as the file's, checked above).
    let req = checked.as_ref().map_or(req, |c| &c.request);
    let approvers: Vec<&str> = req
        .get("approvers")
        .and_then(Value::as_array)
        .ok_or("approval_request.approvers is missing")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if !approvers.contains(&args.approver.as_str()) {
        return Err(format!(
            "`{}` may not approve this request; its approvers are: {}",
            args.approver,
            if approvers.is_empty() {
                "none (the policy declares no approver allowed for these rules)".to_owned()
            } else {
                approvers.join(", ")
            }
        ));
    }
    let policy_ttl = req
        .get("approval_ttl_seconds")
        .and_then(Value::as_u64)
        .ok_or("approval_request.approval_ttl_seconds is missing")?;
    let ttl = match &args.ttl {
        None => policy_ttl,
        Some(t) => parse_duration(t)?,
    };
    if ttl == 0 || ttl > policy_ttl {
        return Err(format!(
            "--ttl is {ttl} s: it must be between 1 s and the policy's approval_ttl of {policy_ttl} s"
        ));
    }
    let rules: Vec<String> = req
        .get("rules")
        .and_then(Value::as_array)
        .ok_or("approval_request.rules is missing")?
        .iter()
        .map(|r| r.as_str().map(str::to_owned))
        .collect::<Option<_>>()
        .ok_or("approval_request.rules holds a non-string")?;
    let revision = req
        .get("policy_revision")
        .and_then(Value::as_u64)
        .and_then(|r| u32::try_from(r).ok())
        .ok_or("approval_request.policy_revision is missing")?;
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| format!("no random token id: {e}"))?;
    let now = gait_run::time::now().0;
    let ttl = i64::try_from(ttl).map_err(|_| "--ttl is too large".to_owned())?;
    let claims = Claims {
        token_id: gait_run::hex(&id),
        approver: args.approver.clone(),
        key_id: key.public().id().to_owned(),
        intent_digest: str_of(req, "intent_digest")?.to_owned(),
        policy_digest: str_of(req, "policy_digest")?.to_owned(),
        policy_revision: revision,
        rules,
        issued_at: gait_run::time::format_rfc3339(now),
        not_after: gait_run::time::format_rfc3339(now + ttl),
        issued_at_secs: now,
        not_after_secs: now + ttl,
    };
    let what = match &checked {
        Some(c) => format!("{} (read from the intent)", c.shown),
        None => format!(
            "tool {}, skill {} (from the result file, unverified)",
            quoted(req.get("tool_name").and_then(Value::as_str).unwrap_or("?")),
            req.get("skill_provenance")
                .filter(|s| !s.is_null())
                .map_or_else(|| "none".to_owned(), Value::to_string),
        ),
    };
    let summary = format!(
        "approved by {} (key {}): {what}; intent {}, rules [{}], token {} valid until {}",
        claims.approver,
        claims.key_id.get(..16).unwrap_or(&claims.key_id),
        claims.intent_digest,
        claims.rules.join(", "),
        claims.token_id,
        claims.not_after,
    );
    let token = claims.sign(&key);
    // The token must read back (a request with malformed digests cannot
    // make one that the gate would accept).
    gait_run::approval::token::read(&token)
        .map_err(|e| format!("the request does not make a valid token: {e}"))?;
    match &args.out {
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(&token)
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write the token to standard output: {e}"))?;
        }
        Some(path) => {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            f.write_all(&token)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    eprintln!("{summary}");
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::{parse_duration, quoted};

    #[test]
    fn what_the_approver_sees_hides_no_character() {
        for (s, shown) in [
            ("/ws/a\u{202e}txt.exe", "\"/ws/a\\u202etxt.exe\""),
            ("rm\u{200b} -rf", "\"rm\\u200b -rf\""),
            ("\u{61c}\u{2066}x\u{feff}", "\"\\u061c\\u2066x\\ufeff\""),
            ("a\u{1b}[2Jb", "\"a\\u001b[2Jb\""),
            ("/ws/café", "\"/ws/café\""),
            // Tag characters (ASCII no one sees), past U+FFFF: a pair.
            ("a\u{e0072}\u{e006d}b", "\"a\\udb40\\udc72\\udb40\\udc6db\""),
            ("x\u{fe0f}\u{3164}", "\"x\\ufe0f\\u3164\""),
        ] {
            assert_eq!(quoted(s), shown, "{s:?}");
            // Still a JSON string literal, of the same text.
            assert_eq!(serde_json::from_str::<String>(&quoted(s)).unwrap(), s);
        }
    }

    #[test]
    fn durations_read_as_in_a_policy() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("10m"), Ok(600));
        assert_eq!(parse_duration("1h"), Ok(3600));
        // A bare number and a leading zero are refused, as gaitc refuses
        // them in `approval_ttl`.
        for bad in [
            "",
            "90",
            "010m",
            "m",
            "1d",
            "-1s",
            "1.5h",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
