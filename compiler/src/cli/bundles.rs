//! The commands about bundles: `gaitc keygen` (signing keys), `gaitc build`
//! (a checked policy to a signed bundle) and `gaitc inspect`.

use super::paths::read_keys;
use crate::check::Session;
use crate::diag::render;
use crate::plumbing::{exit, fail, pretty_json, write_atomic};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `gaitc keygen --out PREFIX`: writes `PREFIX.key` (0600) and `PREFIX.pub`.
pub fn keygen(prefix: &Path, force: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let key_path = with_suffix(prefix, "key");
    let pub_path = with_suffix(prefix, "pub");
    if !force {
        for p in [&key_path, &pub_path] {
            if p.exists() {
                return fail(
                    err,
                    format_args!(
                        "{} exists; refusing to overwrite a key (use --force)",
                        p.display()
                    ),
                    exit::INVALID,
                );
            }
        }
    }
    let mut seed = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut seed) {
        return fail(
            err,
            format_args!("no randomness available: {e}"),
            exit::INTERNAL,
        );
    }
    let kp = gait_run::keys::KeyPair::from_seed(&seed);
    if let Err(e) = write_private(&key_path, kp.to_file_text().as_bytes()) {
        return fail(
            err,
            format_args!("cannot write {}: {e}", key_path.display()),
            exit::INTERNAL,
        );
    }
    if let Err(e) = std::fs::write(&pub_path, format!("{}\n", kp.public().to_base64())) {
        return fail(
            err,
            format_args!("cannot write {}: {e}", pub_path.display()),
            exit::INTERNAL,
        );
    }
    let _ = writeln!(out, "key_id={}", kp.public().id());
    let _ = writeln!(
        err,
        "wrote {} (private, 0600) and {} (public)",
        key_path.display(),
        pub_path.display()
    );
    let _ = writeln!(
        err,
        "trust it in a policy with: trust publisher \"NAME\" key \"ed25519:{0}\"\n\
         (an approver's key: trust approver \"NAME\" key \"ed25519:{0}\")",
        kp.public().to_base64()
    );
    exit::OK
}

fn with_suffix(prefix: &Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // `mode` applies only when the file is created: tighten an existing one too.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    f.write_all(bytes)
}

/// `gaitc build POLICY -o OUT --key KEY... [--not-after T]`.
pub fn build(
    policy_path: &Path,
    output: &Path,
    keys: &[PathBuf],
    not_after: Option<&str>,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    if keys.is_empty() {
        return fail(err, "a bundle must be signed: give --key KEYFILE (create one with `gaitc keygen --out NAME`)", exit::INVALID);
    }
    let pairs = match read_keys(keys, gait_run::keys::KeyPair::read) {
        Ok(pairs) => pairs,
        Err(e) => return fail(err, e, exit::INVALID),
    };
    if let Some(t) = not_after {
        if let Err(e) = gait_run::time::parse_rfc3339(t) {
            return fail(err, format_args!("--not-after: {e}"), exit::INVALID);
        }
    }
    let mut session = Session::new();
    let id = match session.load_path(policy_path) {
        Ok(id) => id,
        Err(e) => return fail(err, e, exit::INVALID),
    };
    let checked = session.check(id);
    let diags = session.diagnostics();
    if !diags.is_empty() {
        let _ = write!(
            err,
            "{}",
            render::text(&diags, &session.sources, false, color)
        );
    }
    let Some(policy) = checked.policy else {
        let what = if session.modules[id].kind == crate::check::FileKind::Module {
            "it is a module, not a policy"
        } else {
            "it has errors"
        };
        return fail(
            err,
            format_args!("{} was not built: {what}", policy_path.display()),
            exit::INVALID,
        );
    };
    let refs: Vec<&gait_run::keys::KeyPair> = pairs.iter().collect();
    let sources = session.source_digests(id);
    let (bytes, digest) = match crate::bundle::emit(&policy, &sources, &refs, not_after) {
        Ok(x) => x,
        Err(e) => return fail(err, e, exit::INVALID),
    };
    if let Err(e) = write_atomic(output, &bytes) {
        return fail(
            err,
            format_args!("cannot write {}: {e}", output.display()),
            exit::INTERNAL,
        );
    }
    let _ = writeln!(out, "policy_digest={digest}");
    let _ = writeln!(
        err,
        "built {} ({} rules, {} bytes, signed by {})",
        output.display(),
        policy.rules.len(),
        bytes.len(),
        refs.iter()
            .map(|k| &k.public().id()[..16])
            .collect::<Vec<_>>()
            .join(", ")
    );
    exit::OK
}

/// `gaitc inspect BUNDLE [--json]`: structure and payload digest are checked;
/// signatures are listed, not verified (use `gait-run verify` with keys).
pub fn inspect(path: &Path, json_out: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return fail(
                err,
                format_args!("cannot read {}: {e}", path.display()),
                exit::INVALID,
            )
        }
    };
    let parsed = match gait_run::bundle::parse(&bytes) {
        Ok(p) => p,
        Err(rej) => {
            if json_out {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::json!({"ok": false, "code": rej.code.as_str(), "error": rej.message})
                );
            }
            return fail(err, format_args!("{rej}"), exit::VERIFY);
        }
    };
    let data = match gait_run::tables::TableData::decode(parsed.payload) {
        Ok(d) => d,
        Err(e) => {
            return fail(
                err,
                format_args!("bundle_malformed: payload: {e}"),
                exit::VERIFY,
            )
        }
    };
    let matchers: Vec<serde_json::Value> = data
        .matchers
        .iter()
        .enumerate()
        .filter(|(_, m)| m.patterns > 0)
        .map(|(i, m)| {
            serde_json::json!({"attribute": gait_run::tables::matcher::NAMES.get(i).copied().unwrap_or("?"), "patterns": m.patterns, "automata": m.dfas.len(),
                               "dfa_bytes": m.dfas.iter().map(|d| d.bytes.len()).sum::<usize>()})
        })
        .collect();
    // Approval terms by rule name: the allowed approvers (`None`: any
    // declared approver) and whether interactive approval is allowed.
    let approval_terms: std::collections::HashMap<&str, serde_json::Value> = data
        .approval_terms()
        .map(|a| {
            let terms = serde_json::json!({"approvers": a.approvers, "interactive": a.interactive});
            (a.rule, terms)
        })
        .collect();
    let rules: Vec<serde_json::Value> = data
        .rule_records()
        .map(|r| {
            let mut rule = serde_json::json!({
                "name": r.name,
                "priority": r.priority,
                "verdict": r.verdict.map(|v| v.as_str()),
            });
            if let Some(terms) = approval_terms.get(r.name) {
                let mut terms = terms.clone();
                // 0 in the rule record: no `approvals` clause, one approval.
                terms["required"] = r.approvals_required().into();
                rule["approval"] = terms;
            }
            rule
        })
        .collect();
    let approvers: Vec<serde_json::Value> = data
        .approver_records()
        .map(|a| serde_json::json!({"name": a.name, "key_id": a.key_id}))
        .collect();
    let report = serde_json::json!({
        "ok": true,
        "policy_digest": parsed.policy_digest,
        "manifest": parsed.manifest,
        "signatures": parsed.signatures.iter().map(|s| serde_json::json!({"alg": s.alg, "key_id": s.key_id})).collect::<Vec<_>>(),
        "tables": {
            "rules": data.rules.len() / gait_run::tables::RULE_STRIDE,
            "nodes": data.nodes.len() / gait_run::tables::node::STRIDE,
            "atoms": data.atoms.len() / gait_run::tables::atom::STRIDE,
            "value_sets": data.valuesets.len() / 2,
            "strings": data.strings.len(),
            "unanchored_rules": data.unanchored.len(),
            "tool_mappings": data.mappings.len() / 2,
            "trusted_keys": data.trust.len() / 3,
            "pins": data.pins.len() / 3,
            "matchers": matchers,
            "payload_bytes": parsed.payload.len(),
        },
        "approval_ttl_secs": data.approval_ttl_secs,
        "approvers": approvers,
        "rules": rules,
    });
    if json_out {
        let _ = writeln!(out, "{}", pretty_json(&report));
        return exit::OK;
    }
    let i = &parsed.info;
    let _ = writeln!(
        out,
        "policy       {} {} (revision {})",
        i.name, i.version, i.revision
    );
    let _ = writeln!(out, "digest       {}", parsed.policy_digest);
    let _ = writeln!(
        out,
        "payload      {} bytes, sha256:{}",
        i.payload_size, i.payload_sha256
    );
    if let Some(na) = &i.not_after {
        let _ = writeln!(out, "not after    {na}");
    }
    for s in &parsed.signatures {
        let _ = writeln!(out, "signature    {} key {}", s.alg, s.key_id);
    }
    if parsed.signatures.is_empty() {
        let _ = writeln!(out, "signature    (none: this bundle will be rejected)");
    }
    if let Some(sources) = parsed.manifest.get("sources").and_then(|v| v.as_array()) {
        for s in sources {
            let _ = writeln!(
                out,
                "source       {} sha256:{}",
                s["path"].as_str().unwrap_or(""),
                s["sha256"].as_str().unwrap_or("")
            );
        }
    }
    let t = &report["tables"];
    let _ = writeln!(
        out,
        "tables       {} rules, {} nodes, {} atoms, {} value sets, {} unanchored",
        t["rules"], t["nodes"], t["atoms"], t["value_sets"], t["unanchored_rules"]
    );
    for m in t["matchers"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "matcher      {:<16} {} patterns, {} DFA bytes",
            m["attribute"].as_str().unwrap_or(""),
            m["patterns"],
            m["dfa_bytes"]
        );
    }
    let _ = writeln!(
        out,
        "approval ttl {}",
        duration_text(data.approval_ttl_secs)
    );
    for a in &approvers {
        let _ = writeln!(
            out,
            "approver     {:<24} key {}",
            a["name"].as_str().unwrap_or(""),
            a["key_id"].as_str().unwrap_or("")
        );
    }
    for r in report["rules"].as_array().into_iter().flatten() {
        let mut terms = String::new();
        if let Some(a) = r.get("approval") {
            let from = match a["approvers"].as_array() {
                Some(names) => {
                    let names: Vec<&str> = names.iter().filter_map(|n| n.as_str()).collect();
                    names.join(", ")
                }
                None => "any approver".to_owned(),
            };
            terms = format!(", approvals {} from {from}", a["required"]);
            if a["interactive"] == true {
                terms.push_str(", interactive");
            }
        }
        let _ = writeln!(
            out,
            "rule         {:<24} priority {:<4} {}{terms}",
            r["name"].as_str().unwrap_or(""),
            r["priority"],
            r["verdict"].as_str().unwrap_or("")
        );
    }
    exit::OK
}

/// Seconds as the policy would write them: `15m`, `2h`, `90s`.
fn duration_text(secs: u32) -> String {
    match secs {
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
