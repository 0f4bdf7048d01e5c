#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The v1.7 fail-closed matrix, against the real `gait-run` binary: every
//! class of failure answers `block` (never `allow`) with its own exit code.

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

struct Run {
    code: i32,
    json: Value,
}

fn eval_with(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .arg("eval")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The process may answer (and exit) before reading its input, e.g. for a rejected bundle.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let out = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    Run {
        code: out.status.code().unwrap(),
        json,
    }
}

fn bundle_args() -> Vec<String> {
    let f = fixtures();
    vec![
        "--bundle".into(),
        f.join("matrix.gaitb").display().to_string(),
        "--trust".into(),
        f.join("test.pub").display().to_string(),
    ]
}

fn eval(intent: &Value) -> Run {
    let args = bundle_args();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    eval_with(&refs, intent.to_string().as_bytes())
}

fn assert_block(r: &Run, code: i32, reason: &str) {
    assert_eq!(r.json["verdict"], "block", "{:#}", r.json);
    assert_eq!(r.code, code, "{:#}", r.json);
    assert!(
        r.json["reason_codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == reason),
        "want {reason}: {:#}",
        r.json
    );
}

fn read(path: &str, risk: &str) -> Value {
    json!({"tool_name": "read_file", "args": {"path": path},
           "arg_provenance": [{"arg_path": "$.path", "source": "user"}],
           "context": {"identity": "dev", "workspace": "/workspace", "risk_class": risk}})
}

#[test]
fn allowed_baseline() {
    let r = eval(&read("/workspace/a.txt", "high"));
    assert_eq!(
        (r.code, r.json["verdict"].as_str()),
        (0, Some("allow")),
        "{:#}",
        r.json
    );
    assert_eq!(r.json["reason_codes"], json!(["workspace_read"]));
    assert_eq!(r.json["decision"], "rule");
    assert_eq!(r.json["bundle_verified"], true);
}

#[test]
fn invalid_intents_block_with_exit_6() {
    let args = bundle_args();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let too_deep = format!(
        r#"{{"tool_name": "x", "targets": [{{"kind": "command", "value": "{}rm -rf /"}}]}}"#,
        "eval ".repeat(40)
    );
    for (what, text) in [
        ("a command nested too deeply to analyse", too_deep.as_bytes()),
        ("not JSON", &b"{not json"[..]),
        ("empty input", b""),
        ("a list", b"[]"),
        ("empty object", b"{}"),
        ("empty tool name", br#"{"tool_name": "  "}"#),
        ("targets not a list", br#"{"tool_name": "x", "targets": {}}"#),
        ("unknown target kind", br#"{"tool_name": "x", "targets": [{"kind": "file", "value": "/a"}]}"#),
        ("NUL in a path", br#"{"tool_name": "x", "targets": [{"kind": "path", "value": "/a\u0000b"}]}"#),
        ("tilde path", br#"{"tool_name": "x", "targets": [{"kind": "path", "value": "~/.ssh/id_rsa"}]}"#),
        ("relative path without workspace", br#"{"tool_name": "x", "targets": [{"kind": "path", "value": "a/b"}]}"#),
        ("a variable in a path (a tool may expand it)", br#"{"tool_name": "read_file", "args": {"path": "$HOME/../etc/shadow"}}"#),
        ("a file: URL given as a path", br#"{"tool_name": "x", "targets": [{"kind": "path", "value": "file:///etc/shadow"}]}"#),
        ("a process's root under /proc", br#"{"tool_name": "x", "targets": [{"kind": "path", "value": "/proc/self/root/etc/shadow"}]}"#),
        ("a descriptor under /dev", br#"{"tool_name": "x", "targets": [{"kind": "path", "value": "/dev/fd/3"}]}"#),
        ("an invisible character in a tool name", br#"{"tool_name": "read_file\u200b"}"#),
        ("unparsable URL", br#"{"tool_name": "x", "targets": [{"kind": "url", "value": "http://[example.com]/"}]}"#),
        ("control character in a tool name", br#"{"tool_name": "read\u0000file"}"#),
        ("newline in a tool name", br#"{"tool_name": "read_file\nexec"}"#),
        ("unknown provenance", br#"{"tool_name": "x", "arg_provenance": [{"arg_path": "$", "source": "internet"}]}"#),
        ("malformed digest", br#"{"tool_name": "x", "skill_provenance": {"skill_name": "s", "publisher": "p", "source": "r", "digest": "abc"}}"#),
        ("mapped argument not a string", br#"{"tool_name": "read_file", "args": {"path": 5}}"#),
        ("the string null as a mapped path (the Python MCP SDK hands the tool None)", br#"{"tool_name": "read_file", "args": {"path": "null"}, "context": {"workspace": "/workspace"}}"#),
        ("the string null as a url", br#"{"tool_name": "x", "targets": [{"kind": "url", "value": " null"}]}"#),
        ("args not an object", br#"{"tool_name": "x", "args": "rm -rf /"}"#),
        ("a repeated key", br#"{"tool_name": "read_file", "args": {"path": "/workspace/a"}, "tool_name": "exec"}"#),
        ("a repeated nested key", br#"{"tool_name": "read_file", "args": {"path": "/workspace/a", "path": "/etc/shadow"}}"#),
        ("an approval envelope's intent beside the intent's fields", br#"{"tool_name": "read_file", "args": {"path": "/workspace/a"}, "intent": {"tool_name": "delete_file"}}"#),
        ("the same, the key escaped", br#"{"tool_name": "read_file", "\u0069ntent": {"tool_name": "delete_file"}}"#),
        ("approval tokens in a bare intent", br#"{"tool_name": "read_file", "approval_tokens": []}"#),
    ] {
        let r = eval_with(&refs, text);
        assert_eq!(r.json["verdict"], "block", "{what}: {:#}", r.json);
        assert_eq!(r.json["reason_codes"], json!(["intent_invalid"]), "{what}");
        assert_eq!(r.code, 6, "{what}");
        assert_eq!(r.json["ok"], false);
        assert!(r.json["error"].as_str().unwrap().len() > 10, "{what}: a human error naming the field");
    }
    // A URL the HTTP clients and the WHATWG reading disagree on is invalid
    // with its own code beside `intent_invalid`.
    for (what, text) in [
        ("backslash before @", br#"{"tool_name": "x", "targets": [{"kind": "url", "value": "https://api.allowed.com\\@evil.com/"}]}"#.as_slice()),
        ("curl globbing", br#"{"tool_name": "x", "targets": [{"kind": "url", "value": "http://{example.com,169.254.169.254}/"}]}"#),
        ("space in the host", br#"{"tool_name": "x", "targets": [{"kind": "url", "value": "http://exa mple.com"}]}"#),
        ("host target with a backslash", br#"{"tool_name": "x", "targets": [{"kind": "host", "value": "a.com\\@evil.com"}]}"#),
    ] {
        let r = eval_with(&refs, text);
        assert_eq!(r.json["verdict"], "block", "{what}: {:#}", r.json);
        assert_eq!(r.json["reason_codes"], json!(["intent_invalid", "url_ambiguous"]), "{what}");
        assert_eq!(r.code, 6, "{what}");
    }
}

#[test]
fn missing_required_fields_at_high_risk() {
    let bare = json!({"tool_name": "list_things", "context": {"risk_class": "high"}});
    let r = eval(&bare);
    assert_block(&r, 3, "fail_closed_missing_targets");
    assert_eq!(r.json["decision"], "fail_closed");
    assert_eq!(
        r.json["reason_codes"],
        json!([
            "fail_closed_endpoint_class_unknown",
            "fail_closed_missing_arg_provenance",
            "fail_closed_missing_targets"
        ])
    );
    assert_eq!(
        r.json["violations"],
        json!([
            "endpoint_class_unknown",
            "missing_arg_provenance",
            "missing_targets"
        ])
    );
    // Provenance missing alone.
    let mut no_prov = read("/workspace/a.txt", "critical");
    no_prov.as_object_mut().unwrap().remove("arg_provenance");
    let r = eval(&no_prov);
    assert_eq!(
        r.json["reason_codes"],
        json!(["fail_closed_missing_arg_provenance"])
    );
    assert_eq!(r.code, 3);
    // The same intent at low risk is evaluated normally.
    let mut low = no_prov.clone();
    low["context"]["risk_class"] = json!("low");
    assert_eq!(eval(&low).json["verdict"], "allow");
}

#[test]
fn unknown_endpoint_class_and_unknown_risk() {
    let other = json!({"tool_name": "frobnicate", "targets": [{"kind": "other", "value": "x"}],
                       "arg_provenance": [{"arg_path": "$", "source": "user"}], "context": {"risk_class": "high"}});
    let r = eval(&other);
    assert_eq!(
        r.json["reason_codes"],
        json!(["fail_closed_endpoint_class_unknown"])
    );
    assert_eq!(r.code, 3);
    // An unknown or missing risk class is critical.
    let mut unknown = other.clone();
    unknown["context"]["risk_class"] = json!("extreme");
    let r = eval(&unknown);
    assert_eq!(
        r.json["reason_codes"],
        json!(["fail_closed_endpoint_class_unknown"])
    );
    assert!(r.json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w == "risk_class_unknown"));
    unknown["context"]
        .as_object_mut()
        .unwrap()
        .remove("risk_class");
    assert_eq!(eval(&unknown).json["decision"], "fail_closed");
    // At low risk there is no fail-closed step: the default decides.
    let mut low = other;
    low["context"]["risk_class"] = json!("low");
    let r = eval(&low);
    assert_eq!((r.json["decision"].as_str(), r.code), (Some("default"), 3));
    assert_eq!(r.json["reason_codes"], json!(["default_block"]));
}

fn trusted_key_id() -> String {
    let bytes = gait_run::keys::b64_decode("iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=").unwrap();
    gait_run::keys::key_id(&bytes.try_into().unwrap())
}

#[test]
fn skill_verification_failures_need_approval() {
    let digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let with_skill = |key_id: &str, publisher: &str, version: &str| {
        let mut i = read("/workspace/a.txt", "low");
        i["skill_provenance"] = json!({"skill_name": "Web-Search", "skill_version": version, "source": "registry",
                                       "publisher": publisher, "digest": digest, "signature_key_id": key_id});
        i
    };
    let good = eval(&with_skill(&trusted_key_id(), "ACME", "1.2.0"));
    assert_eq!(
        (good.code, good.json["verdict"].as_str()),
        (0, Some("allow")),
        "signed and pinned: {:#}",
        good.json
    );
    for (what, intent) in [
        ("other key", with_skill(&"ab".repeat(32), "acme", "1.2.0")),
        (
            "other publisher claiming the key",
            with_skill(&trusted_key_id(), "evil", "1.2.0"),
        ),
        (
            "unpinned version",
            with_skill(&trusted_key_id(), "acme", "1.3.0"),
        ),
    ] {
        let r = eval(&intent);
        assert_eq!(
            (r.code, r.json["verdict"].as_str()),
            (4, Some("require_approval")),
            "{what}: {:#}",
            r.json
        );
        assert_eq!(
            r.json["reason_codes"],
            json!(["skill_unverified"]),
            "{what}"
        );
        assert_eq!(r.json["required_approvals"], 1);
    }
}

#[test]
fn rejected_bundles_block_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixtures();
    let bundle = std::fs::read(f.join("matrix.gaitb")).unwrap();
    let mut flipped = bundle;
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    std::fs::write(dir.path().join("flipped.gaitb"), &flipped).unwrap();
    std::fs::write(dir.path().join("empty.gaitb"), b"").unwrap();
    let other = gait_run::keys::KeyPair::from_seed(&[9; 32]);
    std::fs::write(dir.path().join("other.pub"), other.public().to_base64()).unwrap();
    let intent = read("/workspace/a.txt", "low").to_string();
    let b = f.join("matrix.gaitb").display().to_string();
    let trust = f.join("test.pub").display().to_string();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let wrong_pin = format!("sha256:{}", "0".repeat(64));
    for (args, code) in [
        (
            vec!["--bundle", &b, "--trust", &p("other.pub")],
            "bundle_key_untrusted",
        ),
        (vec!["--bundle", &p("flipped.gaitb"), "--trust", &trust], ""),
        (
            vec!["--bundle", &p("empty.gaitb"), "--trust", &trust],
            "bundle_malformed",
        ),
        (
            vec!["--bundle", &p("missing.gaitb"), "--trust", &trust],
            "bundle_malformed",
        ),
        (
            vec!["--bundle", &b, "--trust", &trust, "--pin", &wrong_pin],
            "bundle_pin_mismatch",
        ),
        (
            vec!["--bundle", &b, "--trust", &trust, "--min-revision", "4"],
            "bundle_revision_rollback",
        ),
    ] {
        let r = eval_with(&args, intent.as_bytes());
        assert_eq!(r.json["verdict"], "block", "{args:?}");
        assert_eq!(r.code, 2, "{args:?}: {:#}", r.json);
        let reason = r.json["reason_codes"][0].as_str().unwrap();
        assert!(reason.starts_with("bundle_"), "{reason}");
        if !code.is_empty() {
            assert_eq!(reason, code);
        }
    }
    // No trust at all: refused (usage, exit 6), still a block answer.
    let r = eval_with(&["--bundle", &b], intent.as_bytes());
    assert_eq!((r.code, r.json["verdict"].as_str()), (6, Some("block")));
    // --insecure-skip-verify evaluates but says so.
    let r = eval_with(
        &["--bundle", &b, "--insecure-skip-verify"],
        intent.as_bytes(),
    );
    assert_eq!(
        (
            r.code,
            r.json["verdict"].as_str(),
            r.json["bundle_verified"].as_bool()
        ),
        (0, Some("allow"), Some(false))
    );
    // An unknown flag is a usage error that still answers block.
    let r = eval_with(
        &["--bundle", &b, "--trust", &trust, "--frobnicate"],
        intent.as_bytes(),
    );
    assert_eq!((r.code, r.json["verdict"].as_str()), (6, Some("block")));
}

#[test]
fn internal_errors_never_allow() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let mut args = bundle_args();
    args.extend([
        "--trace-dir".into(),
        not_a_dir.display().to_string(),
        "--trace-key".into(),
        fixtures().join("test.key").display().to_string(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = eval_with(
        &refs,
        read("/workspace/a.txt", "low").to_string().as_bytes(),
    );
    assert_eq!(
        (r.code, r.json["verdict"].as_str()),
        (1, Some("block")),
        "an allow whose trace cannot be written is not an allow: {:#}",
        r.json
    );
    assert_eq!(r.json["reason_codes"], json!(["internal_error"]));
}

#[test]
fn an_allow_whose_result_cannot_be_written_is_not_an_allow() {
    // Standard output that refuses every write (/dev/full; a reader that
    // closed the pipe is the same to the process): the decision is allow,
    // but whoever reads the result does not get it — exit 1, the cause on
    // standard error, and no panic.
    let run = |intent: Value| {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gait-run"))
            .arg("eval")
            .args(bundle_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(intent.to_string().as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(read("/workspace/a.txt", "high"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot be written to standard output") && !stderr.contains("panicked"),
        "{stderr}"
    );
    // A refusal keeps its own code (still not 0, and still the verdict's).
    let out = run(read("/etc/passwd", "high"));
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn simulate_is_non_enforcing() {
    let mut args = bundle_args();
    args.push("--simulate".into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = eval_with(&refs, read("/etc/passwd", "low").to_string().as_bytes());
    assert_eq!((r.code, r.json["verdict"].as_str()), (0, Some("allow")));
    assert_eq!(r.json["simulated_verdict"], "block");
    assert_eq!(r.json["would_have_blocked"], true);
    let reasons = r.json["reason_codes"].as_array().unwrap();
    assert!(
        reasons.iter().any(|x| x == "simulate_mode_non_enforcing")
            && reasons.iter().any(|x| x == "simulated_block")
    );
}

#[test]
fn traces_are_signed_and_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("traces");
    let mut args = bundle_args();
    args.extend([
        "--trace-dir".into(),
        traces.display().to_string(),
        "--trace-key".into(),
        fixtures().join("test.key").display().to_string(),
        // Not a test of speed: a debug build beside this binary's other
        // tests may pass the 50 ms default, and a decision past it writes
        // no trace.
        "--decision-timeout-ms".into(),
        "30000".into(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut intent = read("/workspace/a.txt", "low");
    intent["skill_provenance"] = json!({"skill_name": "s", "publisher": "p", "source": "r"});
    let r = eval_with(&refs, intent.to_string().as_bytes());
    let path = PathBuf::from(r.json["trace_path"].as_str().unwrap());
    let trace: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(trace["schema_id"], "gait.gate.trace");
    assert_eq!(
        trace["skill_provenance"]["skill_name"], "s",
        "skill provenance is copied into the trace"
    );
    assert_eq!(trace["trace_id"].as_str().unwrap().len(), 24);
    assert!(path.ends_with(format!(
        "trace_{}.json",
        trace["trace_id"].as_str().unwrap()
    )));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let verify = |file: &Path, key: &Path| {
        Command::new(env!("CARGO_BIN_EXE_gait-run"))
            .args(["trace", "verify"])
            .arg(file)
            .arg("--trust")
            .arg(key)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(verify(&path, &fixtures().join("test.pub")), Some(0));
    let mut tampered = trace;
    tampered["verdict"] = json!("allow");
    tampered["reason_codes"] = json!(["workspace_read_everything"]);
    let tp = dir.path().join("tampered.json");
    std::fs::write(&tp, tampered.to_string()).unwrap();
    assert_eq!(verify(&tp, &fixtures().join("test.pub")), Some(2));
    // A `verdict` put before the signed one: a reader keeping the first
    // copy of a key would see `allow` beside a valid signature.
    let text = std::fs::read_to_string(&path).unwrap();
    let repeated = text.replacen('{', "{\"verdict\": \"allow\", ", 1);
    let rp = dir.path().join("repeated.json");
    std::fs::write(&rp, repeated).unwrap();
    assert_eq!(verify(&rp, &fixtures().join("test.pub")), Some(2));
    let other = dir.path().join("other.pub");
    std::fs::write(
        &other,
        gait_run::keys::KeyPair::from_seed(&[8; 32])
            .public()
            .to_base64(),
    )
    .unwrap();
    assert_eq!(verify(&path, &other), Some(2));
}

#[test]
fn a_pinned_digest_with_another_publishers_key_is_not_signed() {
    let bytes = std::fs::read(fixtures().join("matrix.gaitb")).unwrap();
    let opts = gait_run::bundle::VerifyOptions {
        insecure_skip_verify: true,
        ..Default::default()
    };
    let tables = gait_run::bundle::verify(&bytes, &opts).unwrap().tables;
    let skill = |publisher: &str| gait_run::intent::Skill {
        name: "web-search".into(),
        version: Some("1.2.0".into()),
        publisher: publisher.to_owned().into(),
        source: "registry".into(),
        digest: Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into()),
        key_id: Some(trusted_key_id().into()),
    };
    let facts = |s| {
        tables.skill_facts(&gait_run::intent::Intent {
            skill: Some(s),
            ..Default::default()
        })
    };
    let acme = facts(skill("acme"));
    assert!(acme.signed && acme.pinned && acme.verified());
    let evil = facts(skill("evil"));
    assert!(
        !evil.signed,
        "acme's key does not sign for another publisher"
    );
    assert!(
        evil.pinned && !evil.verified(),
        "the digest is pinned, but the skill is not verified"
    );
}

#[test]
fn a_decision_past_its_deadline_blocks_and_leaves_no_trace() {
    use gait_run::bundle::{verify, VerifyOptions};
    use gait_run::gate::{evaluate, EvalOptions};
    use gait_run::tables::Scratch;
    let bytes = std::fs::read(fixtures().join("matrix.gaitb")).unwrap();
    let key = gait_run::keys::PublicKey::read(&fixtures().join("test.pub")).unwrap();
    let bundle = verify(
        &bytes,
        &VerifyOptions {
            trust: vec![key],
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let trace_key = gait_run::keys::KeyPair::read(&fixtures().join("test.key")).unwrap();
    // An intent the policy allows, under a deadline that has passed
    // before the decision starts.
    let intent = read("/workspace/a.txt", "low").to_string();
    let opts = EvalOptions {
        decision_timeout: Some(std::time::Duration::ZERO),
        trace: Some((dir.path().to_path_buf(), trace_key)),
        ..EvalOptions::default()
    };
    let mut out = Vec::new();
    let s = evaluate(
        &bundle,
        intent.as_bytes(),
        &opts,
        &mut Scratch::default(),
        &mut out,
    );
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(s.exit, 1);
    assert_eq!(r["verdict"], "block");
    assert_eq!(r["reason_codes"], json!(["decision_timeout"]));
    assert_eq!(r["decision"], "fail_closed");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no trace"
    );
    let fast = EvalOptions {
        decision_timeout: Some(std::time::Duration::ZERO),
        ..EvalOptions::default()
    };
    let mut out = Vec::new();
    let summary = evaluate(
        &bundle,
        intent.as_bytes(),
        &fast,
        &mut Scratch::default(),
        &mut out,
    );
    assert_eq!(summary.exit, 1);
    assert_eq!(summary.reason_codes.as_slice(), ["decision_timeout"]);
    let written: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(written["verdict"], "block");
    // The default deadline lets the same intent through.
    let mut out = Vec::new();
    let s = evaluate(
        &bundle,
        intent.as_bytes(),
        &EvalOptions::default(),
        &mut Scratch::default(),
        &mut out,
    );
    assert_eq!((s.exit, s.verdict.as_str()), (0, "allow"));
}

#[test]
fn the_deadline_flag_bounds_a_slow_command_analysis() {
    // A command line at the size limit, each part needing the grammar: in
    // this (debug) binary its analysis takes far longer than 1 ms.
    let line = "ls \"$a\"; ".repeat(gait_run::command::MAX_COMMAND_BYTES / 10);
    let intent = json!({"tool_name": "exec", "targets": [{"kind": "command", "value": line}],
                        "context": {"identity": "dev", "workspace": "/workspace", "risk_class": "low"}});
    let mut args = bundle_args();
    args.extend(["--decision-timeout-ms".into(), "1".into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = eval_with(&refs, intent.to_string().as_bytes());
    assert_block(&r, 1, "decision_timeout");
    // No deadline at all is not offered.
    let mut args = bundle_args();
    args.extend(["--decision-timeout-ms".into(), "0".into()]);
    let out = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .arg("eval")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
}

/// A bundle valid when it was loaded and past its `not_after` now: the gate
/// entry itself answers `block`, `bundle_expired`, exit 2, for an intent the
/// same bundle allows while valid — whoever holds the bundle (the sidecar,
/// the MCP proxy, a binding) checks nothing of its own.
#[test]
fn the_gate_entry_blocks_once_its_bundle_is_past_not_after() {
    use gait_run::bundle::{self, VerifyOptions};
    use gait_run::gate::{evaluate, EvalOptions};
    use gait_run::keys::{KeyPair, PublicKey};
    let f = fixtures();
    let parsed_bytes = std::fs::read(f.join("matrix.gaitb")).unwrap();
    let parsed = bundle::parse(&parsed_bytes).unwrap();
    let key = KeyPair::read(&f.join("test.key")).unwrap();
    let intent = json!({"tool_name": "read_file", "args": {"path": "/workspace/a.txt"},
        "context": {"risk_class": "low"}})
    .to_string();
    let decide = |not_after: i64, loaded_at: i64| {
        let mut manifest = parsed.manifest.clone();
        manifest["not_after"] = json!(gait_run::time::format_rfc3339(not_after));
        let bytes = bundle::assemble(&manifest, parsed.payload, &[&key]);
        let opts = VerifyOptions {
            trust: vec![PublicKey::read(&f.join("test.pub")).unwrap()],
            now: loaded_at,
            ..Default::default()
        };
        let verified = bundle::verify(&bytes, &opts).unwrap();
        let mut out = Vec::new();
        let s = evaluate(
            &verified,
            intent.as_bytes(),
            &EvalOptions::default(),
            &mut gait_run::tables::Scratch::default(),
            &mut out,
        );
        let v: Value = serde_json::from_slice(&out).unwrap();
        // The rejection is in the summary as data too (what the bindings
        // raise from), and matches the result's text.
        let rejection = s.rejection.map(|r| {
            assert_eq!(v["error"], json!(r.to_string()));
            (r.code.as_str(), r.message)
        });
        (
            (s.exit, v["verdict"].clone(), v["reason_codes"].clone()),
            rejection,
        )
    };
    let now = gait_run::time::now().0;
    // Valid for another day: allowed.
    assert_eq!(
        decide(now + 86_400, now),
        ((0, json!("allow"), json!(["workspace_read"])), None)
    );
    // Loaded a year before its not_after, which has passed since.
    let past = now - 86_400;
    let (answer, rejection) = decide(past, past - 365 * 86_400);
    assert_eq!(answer, (2, json!("block"), json!(["bundle_expired"])));
    let (code, message) = rejection.unwrap();
    assert_eq!(code, "bundle_expired");
    assert!(
        message.contains(&gait_run::time::format_rfc3339(past)),
        "{message}"
    );
}
