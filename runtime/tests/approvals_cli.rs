#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! Approvals through the binary: `gait-run approve`, `eval --approval-token`,
//! and the sidecar's `{"intent", "approval_tokens"}` body.

mod support;

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use support::approvals::{stderr, Env};
use support::http::{assert_valid, parse_metrics, schema, spawn_serve, stop_and_read_log, Conn};

/// Validates a document against schemas/v1/NAME.
fn assert_schema(name: &str, doc: &Value) {
    assert_valid(&schema(name), doc);
}

#[test]
fn approve_then_eval_grants_once_and_binds_to_the_intent() {
    let e = Env::new(1);
    let req = e.request("a.json", "ra.json");
    assert_eq!(req["verdict"], "require_approval");
    assert_eq!(
        req["approval_request"]["approvers"],
        json!(["alice", "bob"])
    );
    assert_eq!(req["approval_request"]["approval_ttl_seconds"], 900);
    assert_schema("result.schema.json", &req);

    let o = e.approve(
        "ra.json",
        "alice.key",
        "alice",
        &["--ttl", "10m", "-o", "alice.tok"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tok: Value =
        serde_json::from_slice(&std::fs::read(e.dir.join("alice.tok")).unwrap()).unwrap();
    assert_eq!(tok["schema_id"], "gait.approval_token");
    assert_eq!(tok["approver"], "alice");
    assert_eq!(tok["intent_digest"], req["intent_digest"]);
    assert_eq!(tok["rules"], json!(["unverified_skill"]));
    assert_eq!(tok["token_id"].as_str().unwrap().len(), 32);
    assert_schema("approval_token.schema.json", &tok);
    let ttl = gait_run::time::parse_rfc3339(tok["not_after"].as_str().unwrap()).unwrap()
        - gait_run::time::parse_rfc3339(tok["issued_at"].as_str().unwrap()).unwrap();
    assert_eq!(ttl, 600);

    // The token for intent A says nothing about intent B.
    let (code, r) = e.eval(
        "b.json",
        &["--approval-token", "alice.tok", "--approval-store", "s.db"],
    );
    assert_eq!((code, r["verdict"].as_str()), (4, Some("require_approval")));
    assert_eq!(
        r["approval"]["tokens"][0]["code"],
        "approval_token_intent_mismatch"
    );

    let (code, r) = e.eval(
        "a.json",
        &["--approval-token", "alice.tok", "--approval-store", "s.db"],
    );
    assert_eq!((code, r["verdict"].as_str()), (0, Some("allow")), "{r}");
    assert_eq!(
        r["reason_codes"],
        json!(["approval_granted", "skill_unverified"])
    );
    assert_eq!(r["approval"]["approvers"], json!(["alice"]));
    assert_eq!(r["approval"]["tokens"][0]["token_id"], tok["token_id"]);
    assert_eq!(
        r["approval"]["tokens"][0]["code"],
        "approval_token_accepted"
    );

    // A block is never turned, whatever tokens come with it.
    let (code, r) = e.eval(
        "block.json",
        &["--approval-token", "alice.tok", "--approval-store", "s.db"],
    );
    assert_eq!((code, r["verdict"].as_str()), (3, Some("block")));
    assert!(r.get("approval").is_none());
}

/// Two `eval` processes given the same token at once, on one store file:
/// exactly one is allowed; the other sees the token replayed. Then a third,
/// later, is refused too.
#[test]
fn a_token_is_used_once_across_processes() {
    let e = Env::new(1);
    e.request("a.json", "ra.json");
    e.token("bob", "bob.key");
    let args = ["--approval-token", "bob.tok", "--approval-store", "s.db"];
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(|| e.eval("a.json", &args));
        let b = s.spawn(|| e.eval("a.json", &args));
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut codes = [first.0, second.0];
    codes.sort_unstable();
    assert_eq!(codes, [0, 4], "one allow, one require_approval");
    let refused = if first.0 == 4 { &first.1 } else { &second.1 };
    assert_eq!(
        refused["approval"]["tokens"][0]["code"],
        "approval_token_replayed"
    );
    let (code, r) = e.eval("a.json", &args);
    assert_eq!(code, 4);
    assert_eq!(r["verdict"], "require_approval");
    assert_eq!(
        r["approval"]["tokens"][0]["code"],
        "approval_token_replayed"
    );
}

#[test]
fn approve_refuses_what_it_must_not_sign() {
    let e = Env::new(1);
    e.request("a.json", "ra.json");
    let blocked = e.request("block.json", "rb.json");
    assert_eq!(blocked["verdict"], "block");
    let refuse = |request: &str, key: &str, who: &str, extra: &[&str], says: &str| {
        let o = e.approve(request, key, who, extra);
        let what = (request, who, extra);
        assert_eq!(o.status.code(), Some(6), "{what:?}");
        assert!(stderr(&o).contains(says), "{what:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{what:?}");
    };
    refuse(
        "rb.json",
        "alice.key",
        "alice",
        &[],
        "not `require_approval`",
    );
    refuse(
        "ra.json",
        "carol.key",
        "carol",
        &[],
        "its approvers are: alice, bob",
    );
    let ttl = ["--ttl", "16m"];
    refuse(
        "ra.json",
        "alice.key",
        "alice",
        &ttl,
        "approval_ttl of 900 s",
    );
    let ttl = ["--ttl", "soon"];
    refuse("ra.json", "alice.key", "alice", &ttl, "expected a duration");
    refuse("missing.json", "alice.key", "alice", &[], "cannot read");
    // Default TTL = the policy's; the token goes to stdout.
    let o = e.approve("ra.json", "alice.key", "alice", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tok: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        gait_run::time::parse_rfc3339(tok["not_after"].as_str().unwrap()).unwrap()
            - gait_run::time::parse_rfc3339(tok["issued_at"].as_str().unwrap()).unwrap(),
        900
    );
}

#[test]
fn eval_needs_distinct_approvers_and_reports_each_token() {
    let e = Env::new(2);
    e.request("a.json", "ra.json");
    e.token("alice", "alice.key");
    e.token("bob", "bob.key");
    let (code, r) = e.eval(
        "a.json",
        &["--approval-token", "alice.tok", "--approval-store", "s.db"],
    );
    assert_eq!(code, 4);
    assert_eq!(r["approval"]["code"], "approval_insufficient");
    // A token signed with carol's key under alice's name.
    let o = e.approve("ra.json", "carol.key", "alice", &["-o", "fake.tok"]);
    assert_eq!(o.status.code(), Some(0));
    let (code, r) = e.eval(
        "a.json",
        &[
            "--approval-token",
            "alice.tok",
            "--approval-token",
            "fake.tok",
            "--approval-store",
            "s.db",
        ],
    );
    assert_eq!(code, 4);
    assert_eq!(
        r["approval"]["tokens"][1]["code"],
        "approval_token_untrusted_approver"
    );
    let (code, r) = e.eval(
        "a.json",
        &[
            "--approval-token",
            "alice.tok",
            "--approval-token",
            "bob.tok",
            "--approval-store",
            "s.db",
        ],
    );
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["approval"]["approvers"], json!(["alice", "bob"]));

    // Usage: an unreadable token file, a store without tokens.
    let (code, r) = e.eval("a.json", &["--approval-token", "nope.tok"]);
    assert_eq!((code, r["verdict"].as_str()), (6, Some("block")));
    assert_eq!(e.eval("a.json", &["--approval-store", "s.db"]).0, 6);
}

#[test]
fn the_sidecar_takes_tokens_beside_the_intent() {
    let e = Env::new(1);
    e.request("a.json", "ra.json");
    e.token("alice", "alice.key");
    let (mut child, addr) = spawn_serve(
        Command::new(env!("CARGO_BIN_EXE_gait-run"))
            .args([
                "serve",
                "--bundle",
                "p.gaitb",
                "--trust",
                "release.pub",
                "--listen",
                "127.0.0.1:0",
                "--workers",
                "1",
            ])
            .args([
                "--approval-store",
                "s.db",
                "--log",
                "serve.log",
                "--decision-timeout-ms",
                "60000",
            ])
            .current_dir(&e.dir)
            .stdin(Stdio::null())
            .stderr(Stdio::null()),
    );
    // Each answer that is a result is checked against result.schema.json.
    let post = |body: &str| -> (u16, Value) {
        let r = Conn::open(&addr).eval(body.as_bytes());
        (r.status, r.json())
    };
    let intent = std::fs::read_to_string(e.dir.join("a.json")).unwrap();
    let tok = std::fs::read_to_string(e.dir.join("alice.tok")).unwrap();
    // A bare intent keeps working.
    let (status, r) = post(&intent);
    assert_eq!(
        (status, r["verdict"].as_str()),
        (200, Some("require_approval"))
    );
    let envelope = format!(r#"{{"intent": {intent}, "approval_tokens": [{tok}]}}"#);
    let (status, r) = post(&envelope);
    assert_eq!((status, r["verdict"].as_str()), (200, Some("allow")), "{r}");
    assert_eq!(r["approval"]["approvers"], json!(["alice"]));
    // Used once: the store is shared by the process's requests.
    let (_, r) = post(&envelope);
    assert_eq!(r["verdict"], "require_approval");
    assert_eq!(
        r["approval"]["tokens"][0]["code"],
        "approval_token_replayed"
    );
    // An envelope with anything else in it is not an intent.
    let (status, r) = post(&format!(
        r#"{{"intent": {intent}, "approval_tokens": [], "x": 1}}"#
    ));
    assert_eq!((status, r["verdict"].as_str()), (400, Some("block")));
    let metrics = parse_metrics(&Conn::open(&addr).get("/metrics").text());
    for (outcome, n) in [("approval_granted", 1.0), ("approval_insufficient", 1.0)] {
        assert_eq!(
            metrics.get(&format!("gait_approvals_total{{outcome=\"{outcome}\"}}")),
            Some(&n),
            "{metrics:?}"
        );
    }
    let lines = stop_and_read_log(&mut child, &e.dir.join("serve.log"));
    let granted = lines
        .iter()
        .find(|l| l["approval"]["granted"] == true)
        .expect("a decision line with the approval");
    assert_eq!(
        granted["approval"]["tokens"][0]["token_id"],
        json!(serde_json::from_str::<Value>(&tok).unwrap()["token_id"])
    );
}

#[test]
fn help_teaches_the_approval_path() {
    let e = Env::new(1);
    let help = |cmd: &str| String::from_utf8_lossy(&e.run(&[cmd, "--help"]).stdout).into_owned();
    let approve = help("approve");
    for s in [
        "--request",
        "--approver",
        "--ttl",
        "require_approval",
        "gait-run eval",
    ] {
        assert!(approve.contains(s), "approve --help lacks {s}");
    }
    let eval = help("eval");
    assert!(eval.contains("--approval-token") && eval.contains("--approval-store"));
    assert!(help("serve").contains("approval_tokens"));
}

/// A store spec the sidecar cannot open stops it (exit 6) without printing
/// the Redis password the spec holds — neither for a malformed spec nor for
/// one the store refuses.
#[test]
fn serve_never_prints_the_store_password() {
    let e = Env::new(1);
    for spec in [
        " redis://:hunter2@127.0.0.1:1 ",
        "redis://:hunter2@127.0.0.1:1/-1",
        "rediss://user:hunter2@127.0.0.1:1",
    ] {
        let o = e.run(&[
            "serve",
            "--bundle",
            "p.gaitb",
            "--trust",
            "release.pub",
            "--listen",
            "127.0.0.1:0",
            "--approval-store",
            spec,
        ]);
        assert_eq!(o.status.code(), Some(6), "{spec}: {}", stderr(&o));
        let all = format!("{}{}", stderr(&o), String::from_utf8_lossy(&o.stdout));
        assert!(all.contains("approval store"), "{spec}: {all}");
        assert!(!all.contains("hunter2"), "{spec}: {all}");
    }
}
