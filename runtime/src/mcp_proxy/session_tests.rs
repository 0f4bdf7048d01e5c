//! The session's message handling against a stand-in gate whose answers are
//! written out here: `read` is allowed; `write` needs an approval that may
//! be given interactively (and is `allow` once given); `delete` needs one
//! that may not; `two`'s rule allows interactive approval but needs two
//! approvals, so the gate does not offer one (`interactive_approval` is
//! false: one answer cannot grant); `expiring` may be approved
//! interactively, but by the time the answer comes the bundle has expired
//! (`block` after an accept).

use super::*;
use gait_run::vocab::Verdict;

#[derive(Default)]
struct FakeGate {
    /// The `interactive` argument of every decision, in order.
    seen: Vec<Option<String>>,
    /// Told that the client declared roots.
    roots: bool,
    /// `roots` when each decision was made.
    roots_when_deciding: Vec<bool>,
}

impl Decide for FakeGate {
    fn client_has_roots(&mut self) {
        self.roots = true;
    }

    fn decide(&mut self, msg: &Value, _oversize: bool, interactive: Option<&str>) -> Decided {
        self.seen.push(interactive.map(str::to_owned));
        self.roots_when_deciding.push(self.roots);
        let tool = msg["params"]["name"].as_str().unwrap_or("");
        let (verdict, reason, interactive_ok, required) = match (tool, interactive) {
            ("read", _) => (Verdict::Allow, "reads", false, 0),
            ("write", Some(_)) => (Verdict::Allow, "approval_granted", false, 0),
            ("write", None) => (Verdict::RequireApproval, "writes_need_approval", true, 1),
            ("two", _) => (Verdict::RequireApproval, "two_approvals", false, 2),
            ("expiring", Some(_)) => (Verdict::Block, "bundle_expired", false, 0),
            ("expiring", None) => (Verdict::RequireApproval, "expiring_needs_approval", true, 1),
            _ => (Verdict::RequireApproval, "deletes_need_approval", false, 1),
        };
        let result = json!({"verdict": verdict.as_str(), "reason_codes": [reason],
            "matched_rules": [format!("{tool}_rule")], "endpoint_classes": ["fs.write"],
            "policy": {"name": "p", "revision": 2, "digest": "sha256:00"}});
        let mut log = Map::new();
        log.insert("verdict".into(), json!(verdict.as_str()));
        Decided {
            summary: Summary {
                exit: 0,
                verdict,
                reason_codes: [std::borrow::Cow::Owned(reason.to_owned())]
                    .into_iter()
                    .collect(),
                endpoint_classes: ["fs.write"].into_iter().collect(),
                intent_digest: Some(gait_run::normalize::Digest::of(&[0x11; 32])),
                required_approvals: required,
                interactive_approval: interactive_ok,
                approval: None,
                error: None,
                rejection: None,
            },
            result: result.to_string().into_bytes(),
            log: Some(log),
            targets: vec![format!("path /ws/{tool} (fs.write)")],
        }
    }
}

const TIMEOUT: Duration = Duration::from_secs(30);

fn session() -> Session<FakeGate> {
    Session::new(FakeGate::default(), IdSpace::with_nonce("test"), TIMEOUT)
}

fn init(name: &str, caps: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": caps,
        "clientInfo": {"name": name, "version": "1"}}})
    .to_string()
}

/// An initialized session of client `desk` with the elicitation capability.
fn asking() -> (Session<FakeGate>, Instant) {
    let mut s = session();
    let now = Instant::now();
    let line = init("desk", json!({"elicitation": {}}));
    assert_eq!(
        s.handle(line.as_bytes(), now),
        [Out::Server(line.into_bytes())]
    );
    (s, now)
}

/// The gate learns of the client's roots from `initialize` (the message
/// itself goes on unchanged); a client without them leaves it as it was.
#[test]
fn a_client_declaring_roots_is_told_to_the_gate() {
    let mut s = session();
    let line = init("desk", json!({"roots": {"listChanged": true}}));
    assert_eq!(
        s.handle(line.as_bytes(), Instant::now()),
        [Out::Server(line.into_bytes())]
    );
    assert!(s.decider.roots);
    let (s, _) = asking();
    assert!(!s.decider.roots);
    // Inside a batch too.
    let mut s = session();
    let batch = format!(
        "[{}, {}]",
        init("desk", json!({"roots": {}})),
        call(json!(1), "read")
    );
    s.handle(batch.as_bytes(), Instant::now());
    assert!(s.decider.roots);
}

fn call(id: Value, tool: &str) -> String {
    // Odd spacing: a forwarded call must be the client's bytes.
    format!(
        r#"{{"jsonrpc":"2.0", "id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{{"path":"/ws/a"}}}}}}"#
    ) + "\n"
}

fn answer(id: &str, result: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string()
}

fn log(outs: &[Out]) -> Vec<Map<String, Value>> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Log(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

fn to_client(outs: &[Out]) -> Vec<Value> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Client(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

fn assert_refused(reply: &Value, id: Value, tool: &str, reason: &str) {
    assert_eq!(reply["id"], id);
    assert_eq!(reply["result"]["isError"], true);
    let text = reply["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "gait: blocked tools/call `{tool}`: verdict require_approval; reasons: {reason}"
        )),
        "{text}"
    );
    assert_eq!(
        reply["result"]["structuredContent"]["verdict"],
        "require_approval"
    );
}

/// Sends `write` as call 7 and returns the elicitation id asked.
fn ask(s: &mut Session<FakeGate>, now: Instant) -> String {
    let outs = s.handle(call(json!(7), "write").as_bytes(), now);
    let sent = to_client(&outs);
    assert_eq!(sent.len(), 1, "{outs:?}");
    assert_eq!(sent[0]["method"], "elicitation/create");
    assert_eq!(log(&outs)[0]["elicitation"], "requested");
    assert_eq!(log(&outs)[0]["forwarded"], false);
    assert!(!outs.iter().any(|o| matches!(o, Out::Server(_))));
    sent[0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn an_allowed_call_is_forwarded_byte_for_byte() {
    let (mut s, now) = asking();
    let line = call(json!(1), "read");
    let outs = s.handle(line.as_bytes(), now);
    assert_eq!(outs[0], Out::Server(line.into_bytes()));
    assert_eq!(log(&outs)[0]["forwarded"], true);
    assert_eq!(s.decider.seen, [None]);
}

#[test]
fn the_question_names_the_call_and_has_its_own_id() {
    let (mut s, now) = asking();
    let outs = s.handle(call(json!(7), "write").as_bytes(), now);
    let req = &to_client(&outs)[0];
    assert_eq!(req["jsonrpc"], "2.0");
    assert_eq!(req["id"], "gait-elicit-test-1");
    assert_eq!(req["method"], "elicitation/create");
    assert_eq!(
        req["params"]["message"],
        "gait: the policy requires an approval for tools/call `write`.\n\
         Targets: path /ws/write (fs.write)\n\
         Arguments: {\"path\":\"/ws/a\"}\n\
         Endpoint classes: fs.write\n\
         Rules: write_rule\n\
         Reasons: writes_need_approval\n\
         Skill provenance: none (no skill named)\n\
         Policy: p revision 2 (sha256:00)\n\
         Approve to run this one call once; decline to refuse it."
    );
    assert_eq!(
        req["params"]["requestedSchema"]["required"],
        json!(["approve"])
    );
    assert_eq!(
        req["params"]["requestedSchema"]["properties"]["approve"]["type"],
        "boolean"
    );
    assert_eq!(log(&outs)[0]["elicitation_id"], "gait-elicit-test-1");
    // The next question gets the next id.
    let outs = s.handle(call(json!(8), "write").as_bytes(), now);
    assert_eq!(to_client(&outs)[0]["id"], "gait-elicit-test-2");
}

#[test]
fn accept_re_decides_as_the_client_and_forwards_the_original_line() {
    let (mut s, now) = asking();
    let eid = ask(&mut s, now);
    let later = now + Duration::from_millis(1500);
    let reply = answer(
        &eid,
        json!({"action": "accept", "content": {"approve": true}}),
    );
    let outs = s.handle(reply.as_bytes(), later);
    assert_eq!(outs[0], Out::Server(call(json!(7), "write").into_bytes()));
    assert_eq!(outs.len(), 2);
    let l = &log(&outs)[0];
    assert_eq!(l["verdict"], "allow");
    assert_eq!(l["forwarded"], true);
    assert_eq!(l["elicitation"], "accept");
    assert_eq!(l["elicitation_id"], json!(eid));
    assert_eq!(l["elicitation_ms"], 1500);
    assert_eq!(l["approver"], "interactive:desk");
    assert_eq!(s.decider.seen, [None, Some("interactive:desk".to_owned())]);
    // Answered once: the same answer again is dropped, never forwarded.
    assert_eq!(s.handle(reply.as_bytes(), later), []);
}

#[test]
fn an_accept_the_gate_does_not_turn_into_allow_is_refused() {
    let (mut s, now) = asking();
    let outs = s.handle(call(json!("c"), "expiring").as_bytes(), now);
    assert_eq!(to_client(&outs)[0]["method"], "elicitation/create");
    let eid = to_client(&outs)[0]["id"].as_str().unwrap().to_owned();
    let reply = answer(
        &eid,
        json!({"action": "accept", "content": {"approve": true}}),
    );
    let outs = s.handle(reply.as_bytes(), now);
    assert!(!outs.iter().any(|o| matches!(o, Out::Server(_))));
    // The client gets the gate's second decision.
    let sent = to_client(&outs);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["id"], "c");
    assert_eq!(sent[0]["result"]["isError"], true);
    assert_eq!(
        sent[0]["result"]["content"][0]["text"],
        "gait: blocked tools/call `expiring`: verdict block; reasons: bundle_expired"
    );
    assert_eq!(sent[0]["result"]["structuredContent"]["verdict"], "block");
    let l = &log(&outs)[0];
    assert_eq!(l["verdict"], "block");
    assert_eq!(l["elicitation"], "accept");
    assert_eq!(l["approver"], "interactive:desk");
    assert_eq!(l["forwarded"], false);
    assert_eq!(s.decider.seen, [None, Some("interactive:desk".to_owned())]);
}

#[test]
fn a_rule_needing_two_approvals_is_never_asked_about() {
    let (mut s, now) = asking();
    let outs = s.handle(call(json!(4), "two").as_bytes(), now);
    let sent = to_client(&outs);
    assert_eq!(sent.len(), 1, "{outs:?}");
    assert_refused(&sent[0], json!(4), "two", "two_approvals");
    assert_eq!(
        sent[0]["result"]["content"][0]["text"],
        "gait: blocked tools/call `two`: verdict require_approval; reasons: two_approvals; approvals required: 2"
    );
    let l = &log(&outs)[0];
    assert_eq!(l["forwarded"], false);
    assert!(!l.contains_key("elicitation"));
    assert!(!outs.iter().any(|o| matches!(o, Out::Server(_))));
    // Exactly the answer of a client without the capability.
    let mut plain = session();
    let before = plain.handle(call(json!(4), "two").as_bytes(), now);
    assert_eq!(to_client(&before), sent);
    assert_eq!(s.decider.seen, [None]);
}

#[test]
fn decline_cancel_error_and_a_false_approve_answer_as_before() {
    let cases = [
        (json!({"result": {"action": "decline"}}), "decline"),
        (json!({"result": {"action": "cancel"}}), "cancel"),
        (
            json!({"result": {"action": "accept", "content": {"approve": false}}}),
            "decline",
        ),
        (
            json!({"result": {"action": "accept", "content": {}}}),
            "decline",
        ),
        (
            json!({"error": {"code": -32601, "message": "Method not found"}}),
            "error",
        ),
        (json!({"result": {"content": {"approve": true}}}), "error"),
    ];
    for (body, action) in cases {
        let (mut s, now) = asking();
        let eid = ask(&mut s, now);
        let mut msg = body.clone();
        msg["jsonrpc"] = json!("2.0");
        msg["id"] = json!(eid);
        let outs = s.handle(msg.to_string().as_bytes(), now);
        assert!(!outs.iter().any(|o| matches!(o, Out::Server(_))), "{body}");
        let sent = to_client(&outs);
        assert_eq!(sent.len(), 1, "{body}");
        assert_refused(&sent[0], json!(7), "write", "writes_need_approval");
        // The answer a client without elicitation gets, byte for byte.
        let mut plain = session();
        let before = plain.handle(call(json!(7), "write").as_bytes(), now);
        assert_eq!(to_client(&before), sent, "{body}");
        let l = &log(&outs)[0];
        assert_eq!(l["elicitation"], action, "{body}");
        assert_eq!(l["approver"], Value::Null);
        assert_eq!(l["forwarded"], false);
        assert_eq!(l["verdict"], "require_approval");
        assert_eq!(
            s.decider.seen,
            [None],
            "{body}: decided once, never as approved"
        );
    }
}

#[test]
fn no_answer_in_time_is_refused_and_the_question_withdrawn() {
    let (mut s, now) = asking();
    let eid = ask(&mut s, now);
    let pending = s.pending();
    assert!(pending
        .take_expired(now + TIMEOUT - Duration::from_millis(1))
        .is_empty());
    let outs = timed_out(pending.take_expired(now + TIMEOUT), now + TIMEOUT);
    let sent = to_client(&outs);
    assert_eq!(
        sent[0],
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {
            "requestId": eid, "reason": "gait: no answer in time; the call was refused"}})
    );
    assert_refused(&sent[1], json!(7), "write", "writes_need_approval");
    assert_eq!(log(&outs)[0]["elicitation"], "timeout");
    assert_eq!(log(&outs)[0]["elicitation_ms"], 30_000);
    // A late accept changes nothing and reaches nobody.
    let late = answer(
        &eid,
        json!({"action": "accept", "content": {"approve": true}}),
    );
    assert_eq!(s.handle(late.as_bytes(), now + TIMEOUT), []);
    assert_eq!(s.decider.seen, [None]);
}

#[test]
fn without_the_capability_the_call_is_refused_as_before() {
    for caps in [
        json!({}),
        json!({"elicitation": {"url": {}}}),
        json!({"sampling": {}}),
    ] {
        let mut s = session();
        let now = Instant::now();
        s.handle(init("desk", caps.clone()).as_bytes(), now);
        let outs = s.handle(call(json!(7), "write").as_bytes(), now);
        let sent = to_client(&outs);
        assert_eq!(sent.len(), 1, "{caps}");
        assert_refused(&sent[0], json!(7), "write", "writes_need_approval");
        assert_eq!(log(&outs)[0]["elicitation"], "no_capability");
    }
    // Before any initialize, too.
    let mut s = session();
    let outs = s.handle(call(json!(7), "write").as_bytes(), Instant::now());
    assert_refused(
        &to_client(&outs)[0],
        json!(7),
        "write",
        "writes_need_approval",
    );
}

#[test]
fn a_rule_without_interactive_is_never_asked_about() {
    let (mut s, now) = asking();
    let outs = s.handle(call(json!(3), "delete").as_bytes(), now);
    let sent = to_client(&outs);
    assert_eq!(sent.len(), 1);
    assert_refused(&sent[0], json!(3), "delete", "deletes_need_approval");
    assert!(!log(&outs)[0].contains_key("elicitation"));
}

#[test]
fn the_client_name_is_sanitized_into_the_approver() {
    let mut s = session();
    let now = Instant::now();
    let name = format!("ev\u{202e}il\n{}", "x".repeat(100));
    s.handle(
        init(&name, json!({"elicitation": {"form": {}}})).as_bytes(),
        now,
    );
    let eid = ask(&mut s, now);
    let reply = answer(
        &eid,
        json!({"action": "accept", "content": {"approve": true}}),
    );
    let outs = s.handle(reply.as_bytes(), now);
    let label = format!("interactive:ev?il?{}", "x".repeat(58));
    assert_eq!(log(&outs)[0]["approver"], json!(label));
    assert_eq!(s.decider.seen[1].as_deref(), Some(label.as_str()));
}

#[test]
fn other_traffic_flows_while_a_call_is_held() {
    let (mut s, now) = asking();
    let eid = ask(&mut s, now);
    // The client's requests, and its answers to the server's requests
    // (whatever their ids), go to the server.
    for line in [
        r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":"srv-1","result":{"roots":[]}}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":5,"result":{"action":"accept","content":{"approve":true}}}"#
            .to_owned(),
        answer("gait-elicit-other-1", json!({"action": "accept"})),
        call(json!(10), "read"),
    ] {
        let outs = s.handle(line.as_bytes(), now);
        assert_eq!(outs[0], Out::Server(line.clone().into_bytes()), "{line}");
    }
    // A request from the client that reuses the proxy's id space is not an
    // answer, and is not forwarded either: the server never learns the
    // proxy's ids (with them it could ask the client a look-alike question
    // under a pending id, and the answer would be read as the approval).
    let reused = json!({"jsonrpc": "2.0", "id": eid, "method": "ping"}).to_string();
    let outs = s.handle(reused.as_bytes(), now);
    assert_eq!(
        outs,
        [Out::Client(
            json!({"jsonrpc": "2.0", "id": eid, "error": {"code": -32600,
            "message": "Invalid Request: ids starting with the proxy's elicitation prefix are the proxy's own"}})
        )]
    );
    // Nor a cancellation of the proxy's question, alone or in a batch.
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": eid}});
    assert_eq!(s.handle(cancel.to_string().as_bytes(), now), []);
    let batch = json!([{"jsonrpc": "2.0", "id": 11, "method": "ping"}, cancel]).to_string();
    let outs = s.handle(batch.as_bytes(), now);
    assert!(
        !outs.iter().any(|o| matches!(o, Out::Server(_))),
        "{outs:?}"
    );
    assert_eq!(to_client(&outs)[0]["error"]["code"], -32600);
    assert_eq!(s.decider.seen, [None, None]);
    // The held call is still held: its answer still counts.
    let reply = answer(
        &eid,
        json!({"action": "accept", "content": {"approve": true}}),
    );
    let outs = s.handle(reply.as_bytes(), now);
    assert_eq!(outs[0], Out::Server(call(json!(7), "write").into_bytes()));
    // An answer in the proxy's space for nothing pending is dropped.
    assert_eq!(
        s.handle(
            answer("gait-elicit-test-99", json!({"action": "decline"})).as_bytes(),
            now
        ),
        []
    );
}

#[test]
fn a_call_the_client_cancels_is_dropped_and_its_question_withdrawn() {
    let (mut s, now) = asking();
    let eid = ask(&mut s, now);
    let cancel = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#;
    let outs = s.handle(cancel.as_bytes(), now);
    assert_eq!(
        to_client(&outs),
        [
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {
            "requestId": eid, "reason": "gait: the call was given up"}})
        ]
    );
    assert_eq!(log(&outs)[0]["elicitation"], "abandoned");
    let late = answer(
        &eid,
        json!({"action": "accept", "content": {"approve": true}}),
    );
    assert_eq!(s.handle(late.as_bytes(), now), []);
    // A cancellation of anything else is the server's.
    let other = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8}}"#;
    assert_eq!(
        s.handle(other.as_bytes(), now),
        [Out::Server(other.as_bytes().to_vec())]
    );
}

#[test]
fn held_calls_are_bounded() {
    let (mut s, now) = asking();
    for i in 0..MAX_PENDING {
        let outs = s.handle(call(json!(i), "write").as_bytes(), now);
        assert_eq!(to_client(&outs)[0]["method"], "elicitation/create");
    }
    let outs = s.handle(call(json!("over"), "write").as_bytes(), now);
    let sent = to_client(&outs);
    assert_eq!(sent.len(), 1);
    assert_refused(&sent[0], json!("over"), "write", "writes_need_approval");
    assert_eq!(log(&outs)[0]["elicitation"], "limit");
    // Closing the input gives up every held call (logged, nothing sent).
    let outs = s.close(now);
    assert_eq!(outs.len(), MAX_PENDING);
    assert!(log(&outs).iter().all(|l| l["elicitation"] == "abandoned"));
}

#[test]
fn batches_and_notifications_are_not_asked_about() {
    let (mut s, now) = asking();
    let batch = format!("[{}]", call(json!(4), "write").trim_end());
    let outs = s.handle(batch.as_bytes(), now);
    let sent = to_client(&outs);
    assert_eq!(sent.len(), 1);
    assert_refused(&sent[0][0], json!(4), "write", "writes_need_approval");
    let note =
        r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"write","arguments":{}}}"#;
    let outs = s.handle(note.as_bytes(), now);
    assert!(to_client(&outs).is_empty());
    assert!(!outs.iter().any(|o| matches!(o, Out::Server(_))));
}

#[test]
fn answers_inside_a_batch_are_taken_out_and_the_rest_forwarded() {
    let (mut s, now) = asking();
    let eid = ask(&mut s, now);
    let mine = json!({"jsonrpc": "2.0", "id": eid, "result": {"action": "decline"}});
    let theirs = json!({"jsonrpc": "2.0", "id": "srv-2", "result": {"roots": []}});
    let batch = json!([mine, theirs]).to_string();
    let outs = s.handle(batch.as_bytes(), now);
    assert_refused(
        &to_client(&outs)[0],
        json!(7),
        "write",
        "writes_need_approval",
    );
    // Only the server's answer reaches it, as a line of its own; the
    // proxy's id never does.
    assert_eq!(
        outs.last(),
        Some(&Out::Server(
            (json!([theirs]).to_string() + "\n").into_bytes()
        ))
    );
    assert!(!outs.iter().any(
        |o| matches!(o, Out::Server(b) if String::from_utf8_lossy(b).contains("gait-elicit"))
    ));
    assert_eq!(log(&outs)[0]["elicitation"], "decline");
    // A batch of nothing but the proxy's answers sends the server nothing.
    let eid = ask(&mut s, now);
    let only = json!([{"jsonrpc": "2.0", "id": eid, "result": {"action": "cancel"}}]).to_string();
    let outs = s.handle(only.as_bytes(), now);
    assert!(!outs.iter().any(|o| matches!(o, Out::Server(_))));
    assert_eq!(log(&outs)[0]["elicitation"], "cancel");
}

/// Every kind of decision line the session writes, completed with the
/// fields the gate and the logger add, is a valid
/// schemas/v1/serve_log.schema.json line; and the schema refuses the
/// combinations the session never writes.
#[test]
fn the_log_lines_follow_the_log_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/v1/serve_log.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let line = |fields: &Map<String, Value>| {
        let mut v = json!({"schema_id": "gait.serve.log", "ts": "2026-12-04T09:00:00.5Z",
            "event": "decision", "trace_id": "0123456789abcdef01234567", "tool_name": "write",
            "reason_codes": ["writes_need_approval"], "endpoint_classes": ["fs.write"],
            "latency_us": 12, "policy_digest": format!("sha256:{}", "a".repeat(64)),
            "intent_digest": format!("sha256:{}", "b".repeat(64))});
        for (k, x) in fields {
            v[k] = x.clone();
        }
        v
    };
    let nonce = "0123456789abcdef0123456789abcdef";
    let mut s = Session::new(FakeGate::default(), IdSpace::with_nonce(nonce), TIMEOUT);
    let now = Instant::now();
    s.handle(init("desk", json!({"elicitation": {}})).as_bytes(), now);
    let mut lines = Vec::new();
    let ask = |s: &mut Session<FakeGate>, lines: &mut Vec<Map<String, Value>>| {
        let outs = s.handle(call(json!(7), "write").as_bytes(), now);
        lines.extend(log(&outs));
        // The question's id (none once the calls held are at the limit).
        to_client(&outs)[0]["id"].as_str().map(str::to_owned)
    };
    for body in [
        json!({"result": {"action": "accept", "content": {"approve": true}}}),
        json!({"result": {"action": "decline"}}),
        json!({"result": {"action": "cancel"}}),
        json!({"error": {"code": -32601, "message": "Method not found"}}),
    ] {
        let eid = ask(&mut s, &mut lines).unwrap();
        let mut msg = body;
        msg["jsonrpc"] = json!("2.0");
        msg["id"] = json!(eid);
        lines.extend(log(&s.handle(msg.to_string().as_bytes(), now)));
    }
    ask(&mut s, &mut lines);
    let pending = s.pending();
    lines.extend(log(&timed_out(
        pending.take_expired(now + TIMEOUT),
        now + TIMEOUT,
    )));
    for _ in 0..=MAX_PENDING {
        ask(&mut s, &mut lines);
    }
    lines.extend(log(&s.close(now)));
    lines.extend(log(&s.handle(call(json!(1), "read").as_bytes(), now)));
    lines.extend(log(&s.handle(call(json!(2), "two").as_bytes(), now)));
    let mut plain = session();
    lines.extend(log(&plain.handle(call(json!(3), "write").as_bytes(), now)));
    let mut kinds: Vec<&str> = lines
        .iter()
        .map(|l| l.get("elicitation").and_then(Value::as_str).unwrap_or("-"))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "-",
            "abandoned",
            "accept",
            "cancel",
            "decline",
            "error",
            "limit",
            "no_capability",
            "requested",
            "timeout"
        ]
    );
    for l in &lines {
        let v = line(l);
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{v}: {errors:?}");
    }
    // What the session never writes, the schema refuses: an approver on a
    // decline, a requested line forwarded, an error without its text.
    let eid = format!("gait-elicit-{nonce}-1");
    for bad in [
        json!({"forwarded": false, "elicitation": "decline", "elicitation_id": eid,
               "elicitation_ms": 1, "approver": "interactive:desk"}),
        json!({"forwarded": true, "elicitation": "requested", "elicitation_id": eid}),
        json!({"forwarded": false, "elicitation": "error", "elicitation_id": eid,
               "elicitation_ms": 1, "approver": null}),
        json!({"forwarded": false, "elicitation": "timeout", "elicitation_id": eid}),
        json!({"forwarded": false, "elicitation": "requested", "elicitation_id": "gait-elicit-test-1"}),
    ] {
        let Value::Object(fields) = bad else {
            unreachable!()
        };
        let v = line(&fields);
        assert!(!validator.is_valid(&v), "{v}");
    }
}

#[test]
fn an_answer_with_a_repeated_key_is_no_answer() {
    // serde_json keeps the last copy (`accept`), other readers the first:
    // the proxy reads neither and the call stays held.
    let (mut s, now) = asking();
    let eid = ask(&mut s, now);
    let forged = format!(
        r#"{{"jsonrpc":"2.0","id":"{eid}","result":{{"action":"decline","action":"accept","content":{{"approve":true}}}}}}"#
    );
    let outs = s.handle(forged.as_bytes(), now);
    assert_eq!(outs.len(), 1, "{outs:?}");
    assert_eq!(to_client(&outs)[0]["error"]["code"], -32700);
    assert_eq!(s.decider.seen, [None]);
    // A repeated id is no answer either.
    let two_ids = format!(
        r#"{{"jsonrpc":"2.0","id":"gait-elicit-test-99","id":"{eid}","result":{{"action":"accept","content":{{"approve":true}}}}}}"#
    );
    assert_eq!(
        to_client(&s.handle(two_ids.as_bytes(), now))[0]["error"]["code"],
        -32700
    );
    assert_eq!(s.decider.seen, [None]);
    // The question is still open: a decline answers it as before.
    let outs = s.handle(answer(&eid, json!({"action": "decline"})).as_bytes(), now);
    assert_refused(
        &to_client(&outs)[0],
        json!(7),
        "write",
        "writes_need_approval",
    );
}

#[test]
fn an_answer_approves_only_the_call_it_was_asked_about() {
    let (mut s, now) = asking();
    let first = ask(&mut s, now);
    let outs = s.handle(call(json!(8), "write").as_bytes(), now);
    let second = to_client(&outs)[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let accept = json!({"action": "accept", "content": {"approve": true}});
    // The id as a number, or the counter alone, is not the question's.
    for id in [json!(2), json!("2")] {
        let line = json!({"jsonrpc": "2.0", "id": id, "result": accept}).to_string();
        assert_eq!(
            s.handle(line.as_bytes(), now),
            [Out::Server(line.clone().into_bytes())]
        );
    }
    assert_eq!(s.decider.seen, [None, None]);
    // Accepting the second question forwards call 8, and only it.
    let outs = s.handle(answer(&second, accept.clone()).as_bytes(), now);
    assert_eq!(outs[0], Out::Server(call(json!(8), "write").into_bytes()));
    assert_eq!(
        outs.iter().filter(|o| matches!(o, Out::Server(_))).count(),
        1
    );
    // Call 7 is still held, and a second use of the second answer is dropped.
    assert_eq!(s.handle(answer(&second, accept).as_bytes(), now), []);
    let outs = s.handle(answer(&first, json!({"action": "cancel"})).as_bytes(), now);
    assert_refused(
        &to_client(&outs)[0],
        json!(7),
        "write",
        "writes_need_approval",
    );
}

/// The lines a server reading text lines would see in `bytes`: split at
/// `\n`, `\r`, `\r\n` (Python's text streams, Node's readline) and at
/// U+0085, U+2028, U+2029 as well (`str.splitlines`).
fn server_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .split(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_message_hidden_between_line_breaks_of_another_reading_never_reaches_the_server() {
    let hidden = r#"{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"delete","arguments":{}}}"#;
    for (open, close) in [("\r", "\r"), ("\u{2028}", "\u{2029}"), ("\u{85}", "\u{85}")] {
        // Outside strings only `\r` is JSON whitespace; the others are
        // read inside a string.
        let line = if open == "\r" {
            format!(
                r#"{{"jsonrpc":"2.0","id":9,"method":"ping","params":{{"x":{open}{hidden}{close}}}}}"#
            )
        } else {
            json!({"jsonrpc": "2.0", "id": 9, "method": "ping",
                   "params": {"x": format!("{open}{hidden}{close}")}})
            .to_string()
        };
        let mut s = session();
        let outs = s.handle(format!("{line}\r\n").as_bytes(), Instant::now());
        let [Out::Server(sent)] = outs.as_slice() else {
            panic!("{open:?}: {outs:?}")
        };
        // Every reading of the forwarded bytes is the one message judged:
        // the ping, with the same value.
        let lines = server_lines(sent);
        assert_eq!(lines.len(), 1, "{open:?}: {lines:?}");
        let got: Value = serde_json::from_str(&lines[0]).unwrap();
        let want: Value = serde_json::from_str(&line.replace('\r', " ")).unwrap();
        assert_eq!(got, want, "{open:?}");
        assert_eq!(got["method"], "ping");
        assert!(sent.ends_with(b"\r\n"), "the line's own ending is kept");
    }
    // A line without them is forwarded byte for byte, other non-ASCII
    // characters (their first bytes are those of U+0085 or U+2028: `©` is
    // C2 A9, `€` E2 82 AC) included.
    let plain = format!("{hidden}\n")
        .replace("delete", "read")
        .replace("{}}", r#"{"note":"© €  "}}"#);
    assert!(plain.contains('€'));
    let outs = session().handle(plain.as_bytes(), Instant::now());
    assert_eq!(outs.first(), Some(&Out::Server(plain.into_bytes())));
}

/// A method that a server matching names loosely reads as `tools/call` is
/// judged as one, not forwarded unjudged.
#[test]
fn a_tools_call_in_another_case_is_judged() {
    for method in [
        "Tools/Call",
        "TOOLS/CALL",
        " tools/call",
        "tools/call\\t",
        "tools/call\\u0000",
        "tools/ call",
        "tool\u{17f}/call",
        "tools/call\u{200b}",
    ] {
        let (mut s, now) = asking();
        let line = call(json!(3), "delete").replace("tools/call", method);
        let outs = s.handle(line.as_bytes(), now);
        let sent = to_client(&outs);
        assert_eq!(sent.len(), 1, "{method:?}: {outs:?}");
        assert_refused(&sent[0], json!(3), "delete", "deletes_need_approval");
        assert!(
            !outs.iter().any(|o| matches!(o, Out::Server(_))),
            "{method:?}: nothing reaches the server"
        );
    }
}

#[test]
fn a_protocol_member_spelled_otherwise_is_refused_never_forwarded() {
    // Go's encoding/json (mcp-go, older go-sdk servers) takes `METHOD`,
    // `Params`, `paramſ` (U+017F) or a later `Name` for the member: each of
    // these runs `exec` on such a server, while the proxy read a response,
    // a ping, or a call of another tool.
    let lines = [
        r#"{"jsonrpc":"2.0","id":2,"METHOD":"tools/call","PARAMS":{"NAME":"exec","ARGUMENTS":{"command":"rm -rf /"}}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"read","arguments":{"path":"/ws/a"},"Name":"exec","Arguments":{"command":"rm -rf /"}}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"ping","Method":"tools/call","Params":{"name":"exec","arguments":{"command":"rm -rf /"}}}"#,
        r#"{"jsonrpc":"2.0","id":7,"methoD":"tools/call","paramſ":{"name":"exec","arguments":{"command":"id"}}}"#,
        r#"{"jsonrpc":"2.0","id":8,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"Roots":{}},"clientInfo":{"name":"c","version":"0"}}}"#,
        r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"read","arguments":{"path":"/ws/a"},"_meta":{"ProgressToken":1}}}"#,
        r#"[{"jsonrpc":"2.0","id":10,"method":"ping"},{"jsonrpc":"2.0","id":11,"Method":"tools/call","params":{"name":"exec","arguments":{}}}]"#,
    ];
    for line in lines {
        let mut s = session();
        let outs = s.handle(format!("{line}\n").as_bytes(), Instant::now());
        assert!(
            !outs.iter().any(|o| matches!(o, Out::Server(_))),
            "{line}: {outs:?}"
        );
        let replies = to_client(&outs);
        assert_eq!(replies.len(), 1, "{line}");
        assert_eq!(replies[0]["error"]["code"], -32600, "{line}");
        let id: Value = serde_json::from_str::<Value>(line).unwrap()["id"].clone();
        assert_eq!(replies[0]["id"], id, "{line}");
        assert!(s.decider.seen.is_empty() && !s.decider.roots, "{line}");
    }
    // Keys Go does not fold into a member (`_` and `-` count) are not its.
    for line in [
        r#"{"jsonrpc":"2.0","id":5,"method":"ping","params":{"meta":{},"request_id":1,"client_info":{}}}"#,
        r#"{"jsonrpc":"2.0","id":6,"method":"ping","_id":1}"#,
    ] {
        let mut s = session();
        let outs = s.handle(format!("{line}\n").as_bytes(), Instant::now());
        assert_eq!(
            outs,
            [Out::Server(format!("{line}\n").into_bytes())],
            "{line}"
        );
    }
    // The members as spelled, and keys that only look alike, pass.
    let mut s = session();
    let line = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read","arguments":{"Name":"x","METHOD":"y"},"_meta":{"progressToken":1}}}"#;
    let outs = s.handle(format!("{line}\n").as_bytes(), Instant::now());
    assert_eq!(outs[0], Out::Server(format!("{line}\n").into_bytes()));
}

#[test]
fn roots_declared_per_request_are_told_to_the_gate_before_the_call_is_decided() {
    // MCP's per-request era has no `initialize`: a call carries the
    // client's capabilities in `_meta`, or re-sends roots it was asked for
    // in `inputResponses`. Either tells the gate that a relative path may
    // be resolved against the client's roots.
    let meta = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read","arguments":{"path":"a.txt"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"roots":{}}}}}"#;
    let answers = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read","arguments":{"path":"a.txt"},"inputResponses":{"r1":{"roots":[{"uri":"file:///home/u"}]}}}}"#;
    let folded = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read","arguments":{"path":"a.txt"},"inputResponses":{"r1":{"ROOTS":[{"uri":"file:///home/u"}]}}}}"#;
    for line in [meta, answers, folded] {
        let mut s = session();
        let _ = s.handle(format!("{line}\n").as_bytes(), Instant::now());
        assert_eq!(s.decider.roots_when_deciding, [true], "{line}");
    }
    // Capabilities without roots, or roots: null, tell nothing.
    for caps in [r#"{"elicitation":{}}"#, r#"{"roots":null}"#] {
        let line = format!(
            r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"read","arguments":{{}},"_meta":{{"io.modelcontextprotocol/clientCapabilities":{caps}}}}}}}"#
        );
        let mut s = session();
        let _ = s.handle(format!("{line}\n").as_bytes(), Instant::now());
        assert!(!s.decider.roots, "{line}");
    }
}

#[test]
fn a_held_call_cancelled_inside_a_batch_or_by_another_spelling_of_its_id_is_withdrawn() {
    // In a batch: the notice is the proxy's (the question withdrawn, the
    // call never approvable), the rest of the batch goes on as its own.
    let (mut s, now) = asking();
    let eid = ask(&mut s, now);
    let ping = json!({"jsonrpc": "2.0", "id": 12, "method": "ping"});
    let batch = json!([ping, {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}}]);
    let outs = s.handle(batch.to_string().as_bytes(), now);
    assert_eq!(log(&outs)[0]["elicitation"], "abandoned");
    assert!(
        outs.contains(&Out::Server(format!("{}\n", json!([ping])).into_bytes())),
        "{outs:?}"
    );
    let late = answer(
        &eid,
        json!({"action": "accept", "content": {"approve": true}}),
    );
    assert_eq!(s.handle(late.as_bytes(), now), []);
    // `7.0` is the id `7` to a JavaScript client.
    let (mut s, now) = asking();
    let _ = ask(&mut s, now);
    let cancel =
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7.0}}"#;
    let outs = s.handle(cancel.as_bytes(), now);
    assert_eq!(log(&outs)[0]["elicitation"], "abandoned");
}
