#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The replay store failing, through the binary: what the store said is
//! carried into the decision (`approval.store_error`, eval's stderr, the
//! sidecar's log line) without the Redis password; and the sidecar's
//! default store, when it cannot be opened, is tried again by a later
//! request instead of staying unavailable for the sidecar's life.

mod support;

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use support::approvals::{stderr, Env};
use support::http::{assert_valid, schema, spawn_serve, stop_and_read_log, Conn};

const PASSWORD: &str = "hunter2-in-the-url-only";

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn eval_says_why_the_store_failed_without_the_password() {
    let e = Env::new(1);
    e.request("a.json", "ra.json");
    e.token("alice", "alice.key");
    let port = closed_port();
    let spec = format!("redis://gate:{PASSWORD}@127.0.0.1:{port}/2");
    let o = e.eval_output(
        "a.json",
        &["--approval-token", "alice.tok", "--approval-store", &spec],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_valid(&schema("result.schema.json"), &r);
    assert_eq!(r["verdict"], "require_approval");
    assert_eq!(r["approval"]["code"], "approval_store_unavailable");
    assert_eq!(r["approval"]["tokens"][0]["code"], "approval_token_valid");
    let said = r["approval"]["store_error"].as_str().unwrap();
    let named = format!("approval store redis://127.0.0.1:{port}/2: unreachable: ");
    assert!(said.starts_with(&named), "{said}");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("warning: the approval store failed ({named}")),
        "{err}"
    );
    let all = format!("{}{err}", String::from_utf8_lossy(&o.stdout));
    assert!(!all.contains(PASSWORD) && !all.contains("gate:"), "{all}");

    // The default store cannot be opened (its state folder is a file): the
    // opening's error is the decision's `store_error`.
    std::fs::write(e.dir.join("state"), "not a folder").unwrap();
    let (code, r) = e.eval("a.json", &["--approval-token", "alice.tok"]);
    assert_eq!(code, 4, "{r}");
    assert_eq!(r["approval"]["code"], "approval_store_unavailable");
    let said = r["approval"]["store_error"].as_str().unwrap();
    assert!(
        said.starts_with("approval store file:") && said.contains("cannot create"),
        "{said}"
    );
}

#[test]
fn the_sidecar_opens_its_default_store_again_after_a_failure() {
    let e = Env::new(1);
    e.request("a.json", "ra.json");
    e.token("alice", "alice.key");
    // The state folder's parent is a file: the default store cannot be
    // created until it is moved away.
    let blocker = e.dir.join("blocker");
    std::fs::write(&blocker, "in the way").unwrap();
    let (mut child, addr) = spawn_serve(
        Command::new(env!("CARGO_BIN_EXE_gait-run"))
            .args(["serve", "--bundle", "p.gaitb", "--trust", "release.pub"])
            .args(["--listen", "127.0.0.1:0", "--workers", "1"])
            .args(["--log", "serve.log", "--decision-timeout-ms", "60000"])
            .env("GAIT_STATE_DIR", blocker.join("state"))
            .current_dir(&e.dir)
            .stdin(Stdio::null())
            .stderr(Stdio::null()),
    );
    let intent = std::fs::read_to_string(e.dir.join("a.json")).unwrap();
    let tok = std::fs::read_to_string(e.dir.join("alice.tok")).unwrap();
    let envelope = format!(r#"{{"intent": {intent}, "approval_tokens": [{tok}]}}"#);
    let post = || {
        let r = Conn::open(&addr).eval(envelope.as_bytes());
        assert_eq!(r.status, 200);
        r.json()
    };
    for _ in 0..2 {
        let r = post();
        assert_eq!(r["verdict"], "require_approval", "{r}");
        assert_eq!(r["approval"]["code"], "approval_store_unavailable");
        let said = r["approval"]["store_error"].as_str().unwrap();
        assert!(said.contains("cannot create"), "{said}");
    }
    // The folder can be made now: the next request opens the store, and
    // the token (never recorded) grants, once.
    std::fs::remove_file(&blocker).unwrap();
    let r = post();
    assert_eq!(r["verdict"], "allow", "{r}");
    assert_eq!(r["approval"]["approvers"], json!(["alice"]));
    assert!(blocker.join("state").join("approvals.db").is_file());
    let r = post();
    assert_eq!(
        r["approval"]["tokens"][0]["code"],
        "approval_token_replayed"
    );
    // The log: the failure once (the same error twice), then the opening;
    // the decisions carry the store's error.
    let lines = stop_and_read_log(&mut child, &e.dir.join("serve.log"));
    let events: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "approval_store")
        .map(|l| &l["result"])
        .collect();
    assert_eq!(events, [&json!("failure"), &json!("opened")]);
    let unavailable = lines
        .iter()
        .filter(|l| l["approval"]["code"] == "approval_store_unavailable")
        .filter(|l| l["approval"]["store_error"].is_string())
        .count();
    assert_eq!(unavailable, 2);
}
