#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! `gait-run mcp-proxy` against small stand-in servers (`cat` echoes every
//! line it gets, so what reaches the server comes back byte for byte):
//! pass-through, order, gating of `tools/call`, parse errors, batches, exit
//! status and stdin EOF. The real filesystem server and the real MCP SDK are
//! exercised by scripts/test_mcp_proxy.sh.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The workspace the proxy judges relative paths in, and starts the server
/// in: a real directory.
fn workspace() -> PathBuf {
    let dir = std::env::temp_dir().join("gait-mcp-proxy-tests-ws");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn proxy(trust: &str, server: &[&str]) -> Child {
    let f = fixtures();
    Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .arg("mcp-proxy")
        .arg("--bundle")
        .arg(f.join("matrix.gaitb"))
        .arg("--trust")
        .arg(f.join(trust))
        .args(["--risk", "low", "--identity", "t", "--workspace"])
        .arg(workspace())
        .arg("--")
        .args(server)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the process to end (bounded: a hang fails the test instead of
/// blocking the suite).
fn wait(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code().unwrap();
        }
        assert!(Instant::now() < deadline, "the proxy did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends all lines, closes stdin, returns (exit code, stdout lines).
fn session(server: &[&str], input: &[&str]) -> (i32, Vec<String>) {
    let mut child = proxy("test.pub", server);
    let mut stdin = child.stdin.take().unwrap();
    for l in input {
        stdin.write_all(l.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
    }
    drop(stdin);
    let out = child.stdout.take().unwrap();
    let lines: Vec<String> = BufReader::new(out).lines().map(Result::unwrap).collect();
    (wait(&mut child), lines)
}

fn call(id: Value, path: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "read_file", "arguments": {"path": path}}})
    .to_string()
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn assert_blocked(reply: &Value, id: Value, reason: &str) {
    assert_eq!(reply["jsonrpc"], "2.0");
    assert_eq!(reply["id"], id);
    let r = &reply["result"];
    assert_eq!(r["isError"], true);
    assert_eq!(r["content"][0]["type"], "text");
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("gait: blocked tools/call `read_file`: verdict block; reasons: "),
        "{text}"
    );
    assert!(text.contains(reason), "{text}");
    assert_eq!(r["structuredContent"]["schema_id"], "gait.gate.result");
    assert_eq!(r["structuredContent"]["verdict"], "block");
    assert_eq!(r["structuredContent"]["reason_codes"], json!([reason]));
}

#[test]
fn messages_pass_through_byte_for_byte_and_in_order_and_only_allowed_calls_reach_the_server() {
    // Odd spacing and key order: forwarded lines must come back unchanged.
    let init = r#"{ "id":1 ,"jsonrpc":"2.0","method":"initialize","params":{"protocolVersion":"2025-06-18"}}"#;
    let notification = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let allowed = call(json!(3), "/workspace/a.txt");
    // Judged where the server opens it: in its working directory (the
    // proxy's --workspace, a temp directory the policy does not allow).
    let relative = call(json!("r"), "notes/b.txt");
    let blocked = call(json!(4), "/etc/passwd");
    let traversal = call(json!(5), "/workspace/../etc/shadow");
    let response_to_server = r#"{"jsonrpc":"2.0","id":"srv-1","result":{"roots":[]}}"#;
    let plain_batch = r#"[{"jsonrpc":"2.0","id":6,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"}]"#;
    let last = r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#;
    let input = [
        init,
        notification,
        list,
        &allowed,
        &relative,
        &blocked,
        &traversal,
        response_to_server,
        plain_batch,
        last,
    ];
    let (code, lines) = session(&["cat"], &input);
    assert_eq!(code, 0);
    let forwarded = [
        init,
        notification,
        list,
        &allowed,
        response_to_server,
        plain_batch,
        last,
    ];
    let echoed: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.contains("gait: blocked"))
        .collect();
    assert_eq!(echoed, forwarded);
    let replies: Vec<Value> = lines
        .iter()
        .filter(|l| l.contains("gait: blocked"))
        .map(|l| parse(l))
        .collect();
    assert_eq!(replies.len(), 3);
    assert_blocked(&replies[0], json!("r"), "default_block");
    assert_blocked(&replies[1], json!(4), "default_block");
    assert_blocked(&replies[2], json!(5), "default_block");
    assert_eq!(
        replies[2]["result"]["structuredContent"]["endpoint_classes"],
        json!(["fs.read"])
    );
}

#[test]
fn an_unparseable_line_gets_a_parse_error_and_is_not_forwarded() {
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let (code, lines) = session(&["cat"], &["{not json", "", ping]);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let err = parse(&lines[0]);
    assert_eq!(err["jsonrpc"], "2.0");
    assert_eq!(err["id"], Value::Null);
    assert_eq!(err["error"]["code"], -32700);
    assert_eq!(err["error"]["message"], "Parse error");
    // The blank line is neither forwarded nor answered; the proxy goes on.
    assert_eq!(lines[1], ping);
}

#[test]
fn a_repeated_key_is_refused_even_outside_tools_call() {
    // A first-wins server would read `tools/call` where the proxy reads `ping`.
    let sneaky = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping","params":{"name":"read_file","arguments":{"path":"/etc/passwd"}}}"#;
    let shadowed_arg = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/workspace/a","path":"/etc/passwd"}}}"#;
    let (code, lines) = session(&["cat"], &[sneaky, shadowed_arg]);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for l in &lines {
        let v = parse(l);
        assert_eq!(v["error"]["code"], -32700);
        assert!(
            v["error"]["data"]
                .as_str()
                .unwrap()
                .contains("appears twice"),
            "{l}"
        );
    }
}

#[test]
fn a_tools_call_notification_that_is_not_allowed_is_dropped() {
    let note = r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"read_file","arguments":{"path":"/etc/passwd"}}}"#;
    let ping = r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#;
    let (code, lines) = session(&["cat"], &[note, ping]);
    assert_eq!(code, 0);
    assert_eq!(lines, vec![ping.to_owned()]);
}

#[test]
fn malformed_calls_are_blocked_as_invalid_intents() {
    let no_name = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"path":"/workspace/a"}}}"#;
    let bad_path = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_file","arguments":{"path":42}}}"#;
    let (code, lines) = session(&["cat"], &[no_name, bad_path]);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (line, id) in lines.iter().zip([1, 2]) {
        let v = parse(line);
        assert_eq!(v["id"], id);
        assert_eq!(v["result"]["isError"], true);
        assert_eq!(
            v["result"]["structuredContent"]["reason_codes"],
            json!(["intent_invalid"])
        );
    }
}

#[test]
fn batches_go_through_only_when_every_call_is_allowed() {
    let ok_batch = format!(
        "[{},{}]",
        call(json!(1), "/workspace/a"),
        r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#
    );
    let mixed = format!(
        "[{},{},{},{}]",
        call(json!(3), "/workspace/a"),
        call(json!(4), "/etc/passwd"),
        r#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/x"}"#
    );
    let (code, lines) = session(&["cat"], &[&ok_batch, &mixed]);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (echo, reply): (Vec<&String>, Vec<&String>) = lines.iter().partition(|l| **l == ok_batch);
    assert_eq!(echo.len(), 1);
    let replies = parse(reply[0]);
    let replies = replies.as_array().unwrap();
    assert_eq!(
        replies.len(),
        3,
        "one answer per request, none for the notification"
    );
    assert_eq!(replies[0]["id"], 3);
    assert_eq!(replies[0]["error"]["code"], -32600);
    assert_blocked(&replies[1], json!(4), "default_block");
    assert_eq!(replies[2]["id"], 5);
    assert_eq!(replies[2]["error"]["code"], -32600);
}

#[test]
fn malformed_batches_are_refused_never_forwarded() {
    // A nested list would carry a tools/call past a one-level check; an empty
    // list or a scalar member is not a JSON-RPC batch either. With `cat` as
    // the server, anything forwarded would come back verbatim.
    let nested = format!("[[{}]]", call(json!(1), "/etc/passwd"));
    let mixed = format!("[{}, 7]", call(json!(2), "/workspace/a"));
    let (code, lines) = session(&["cat"], &[&nested, &mixed, "[]"]);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 3, "{lines:?}");
    for line in &lines {
        assert!(
            !line.contains("tools/call") && line != "[]",
            "forwarded: {line}"
        );
        let v = parse(line);
        assert_eq!(v["error"]["code"], -32600, "{v}");
        assert_eq!(v["id"], Value::Null);
    }
}

#[test]
fn a_call_larger_than_an_intent_may_be_is_invalid_not_forwarded() {
    // Over 1 MiB (the gate's intent limit), though under the proxy's line
    // limit: refused as an invalid intent, like eval and serve refuse it.
    let big = "a".repeat(gait_run::normalize::MAX_INTENT_BYTES);
    let line = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "read_file", "arguments": {"path": "/workspace/a", "pad": big}}})
    .to_string();
    let (code, lines) = session(&["cat"], &[&line]);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].len() < 10_000, "forwarded, not answered");
    assert_blocked(&parse(&lines[0]), json!(9), "intent_invalid");
}

#[test]
fn server_to_client_requests_pass_through_unchanged() {
    let request = r#"{"jsonrpc":"2.0","id":"s1","method":"roots/list" }"#;
    let script = format!("printf '%s\\n' '{request}'; cat");
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let (code, lines) = session(&["sh", "-c", &script], &[ping]);
    assert_eq!(code, 0);
    assert_eq!(lines, vec![request.to_owned(), ping.to_owned()]);
}

#[test]
fn stdin_eof_closes_the_server_and_the_proxy_exits_with_its_status() {
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let (code, lines) = session(&["sh", "-c", "cat; exit 7"], &[ping]);
    assert_eq!(code, 7);
    assert_eq!(lines, vec![ping.to_owned()]);
}

#[test]
fn the_server_exiting_ends_the_proxy_with_its_status_while_the_client_is_still_connected() {
    let mut child = proxy(
        "test.pub",
        &["sh", "-c", "read line; printf '%s\\n' \"$line\"; exit 3"],
    );
    let mut stdin = child.stdin.take().unwrap();
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    writeln!(stdin, "{ping}").unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first.trim_end(), ping);
    // stdin stays open: the server's exit alone ends the proxy.
    assert_eq!(wait(&mut child), 3);
    drop(stdin);
}

#[test]
fn a_rejected_bundle_never_starts_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    let script = format!("touch '{}'; cat", marker.display());
    let other = dir.path().join("other.pub");
    // A valid key that did not sign the bundle.
    std::fs::write(&other, "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .arg("mcp-proxy")
        .arg("--bundle")
        .arg(fixtures().join("matrix.gaitb"))
        .arg("--trust")
        .arg(&other)
        .args(["--", "sh", "-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    assert_eq!(wait(&mut child), 2);
    assert_eq!(
        std::io::read_to_string(out).unwrap(),
        "",
        "stdout is the client's channel"
    );
    assert!(!marker.exists());
}

#[test]
fn usage_errors_exit_6() {
    let out = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .args(["mcp-proxy", "--bundle", "x.gaitb", "--", "cat"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(out.stdout.is_empty());
    let out = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .args(["mcp-proxy", "--bundle", "x.gaitb", "--insecure-skip-verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "no server command");
}

#[test]
fn the_decision_log_has_one_line_per_call() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("proxy.log");
    let f = fixtures();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .arg("mcp-proxy")
        .arg("--bundle")
        .arg(f.join("matrix.gaitb"))
        .arg("--trust")
        .arg(f.join("test.pub"))
        .args(["--risk", "low", "--log"])
        .arg(&log)
        .args(["--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", call(json!(1), "/workspace/a")).unwrap();
    writeln!(stdin, "{}", call(json!(2), "/etc/passwd")).unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":3,"method":"ping"}}"#).unwrap();
    drop(stdin);
    let out = child.stdout.take().unwrap();
    let _ = std::io::read_to_string(out).unwrap();
    assert_eq!(wait(&mut child), 0);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/v1/serve_log.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(parse)
        .collect();
    assert_eq!(lines.len(), 2, "one line per tools/call, none for ping");
    for l in &lines {
        assert!(validator.is_valid(l), "{l}");
        assert_eq!(l["event"], "decision");
        assert_eq!(l["tool_name"], "read_file");
        assert_eq!(l["endpoint_classes"], json!(["fs.read"]));
    }
    assert_eq!(
        (&lines[0]["verdict"], &lines[0]["forwarded"]),
        (&json!("allow"), &json!(true))
    );
    assert_eq!(
        (&lines[1]["verdict"], &lines[1]["forwarded"]),
        (&json!("block"), &json!(false))
    );
    assert_eq!(lines[1]["reason_codes"], json!(["default_block"]));
}

#[test]
fn relative_paths_are_judged_in_the_servers_working_directory() {
    // The server (`pwd` before echoing) runs in the workspace the proxy
    // judges relative paths against.
    let ws = workspace();
    let (code, lines) = session(
        &["sh", "-c", "pwd; cat"],
        &[r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#],
    );
    assert_eq!(code, 0);
    assert_eq!(lines[0], ws.to_string_lossy());
    // Two different directories for judging and opening are refused.
    let f = fixtures();
    let out = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .arg("mcp-proxy")
        .arg("--bundle")
        .arg(f.join("matrix.gaitb"))
        .arg("--trust")
        .arg(f.join("test.pub"))
        .args([
            "--workspace",
            "/workspace",
            "--server-cwd",
            "/tmp",
            "--",
            "cat",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("differ"));
}

#[test]
fn a_call_is_judged_with_the_defaults_the_servers_listing_shows() {
    // A server that fills a left-out `path` from its tool's inputSchema
    // default: the call is judged with it. Defaulting to a workspace file,
    // `read_file` with no path is allowed (with no target it was the
    // default block) and forwarded as sent; defaulting to /etc/shadow
    // (a listing answered again), it is blocked and never reaches the
    // server.
    let listing = |id: u32, default: &str| {
        json!({"jsonrpc": "2.0", "id": id, "result": {"tools": [{"name": "read_file",
            "inputSchema": {"type": "object", "properties": {"path": {"type": "string", "default": default}}}}]}})
        .to_string()
    };
    let script = format!(
        r#"while IFS= read -r line; do case "$line" in *'"id":2,"method":"tools/list"'*) printf '%s\n' '{}';; *'"id":4,"method":"tools/list"'*) printf '%s\n' '{}';; *) printf '%s\n' "$line";; esac; done"#,
        listing(2, "/workspace/a.txt"),
        listing(4, "/etc/shadow")
    );
    let mut child = proxy("test.pub", &["sh", "-c", &script]);
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = |line: String| {
        for bytes in [line.as_bytes(), b"\n"] {
            stdin.write_all(bytes).unwrap();
        }
        stdin.flush().unwrap();
    };
    let empty_call = |id: u32| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "read_file", "arguments": {}}})
        .to_string()
    };
    // The client waits for the listing before calling, as clients do.
    send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#.to_owned());
    assert_eq!(out.next().unwrap().unwrap(), listing(2, "/workspace/a.txt"));
    send(empty_call(3));
    // Forwarded as sent (the server echoes it): the default is judged, not
    // written into the call.
    assert_eq!(out.next().unwrap().unwrap(), empty_call(3));
    send(r#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#.to_owned());
    assert_eq!(out.next().unwrap().unwrap(), listing(4, "/etc/shadow"));
    send(empty_call(5));
    let reply = parse(&out.next().unwrap().unwrap());
    assert_eq!(reply["id"], 5);
    assert_eq!(reply["result"]["structuredContent"]["verdict"], "block");
    drop(stdin);
    assert_eq!(wait(&mut child), 0);
    assert!(out.next().is_none(), "nothing more reached the server");
}
