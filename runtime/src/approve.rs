//! `gait-run approve`: an approver signs an approval token for the
//! `approval_request` of a `require_approval` result.

use clap::Args;
use gait_run::approval::token::Claims;
use gait_run::exit;
use gait_run::keys::KeyPair;
use serde_json::Value;
use std::path::PathBuf;

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
    let key = KeyPair::read(&args.key).map_err(|e| format!("--key: {e}"))?;
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
    let summary = format!(
        "approved by {} (key {}): tool {}, intent {}, rules [{}], skill {}, token {} valid until {}",
        claims.approver,
        &claims.key_id[..16],
        req.get("tool_name").and_then(Value::as_str).unwrap_or("?"),
        claims.intent_digest,
        claims.rules.join(", "),
        req.get("skill_provenance")
            .filter(|s| !s.is_null())
            .map_or_else(|| "none".to_owned(), Value::to_string),
        claims.token_id,
        claims.not_after,
    );
    let token = claims.sign(&key);
    // The token must read back (a request with malformed digests cannot
    // make one that the gate would accept).
    gait_run::approval::token::read(&token)
        .map_err(|e| format!("the request does not make a valid token: {e}"))?;
    match &args.out {
        None => print!("{}", String::from_utf8_lossy(&token)),
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
    use super::parse_duration;

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
