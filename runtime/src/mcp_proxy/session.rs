//! What the proxy does with each client line (decide `tools/call`, pass the
//! rest through), and the interactive approval: a `require_approval` call
//! whose every contributing rule allows it (`approvals N interactive`), from
//! a client that declared the `elicitation` capability, is held while the
//! proxy asks the client through `elicitation/create`; an accept re-decides
//! the call through the gate as approved by `interactive:<client name>` and
//! forwards it only when that decision is `allow`. Everything else — decline,
//! cancel, an error, no answer in time — answers the call as before
//! (`isError`). The proxy decides nothing itself: the gate does.
//!
//! Pure of I/O: every line in gives a list of [`Out`]s for the caller to
//! write, so the handling is tested without pipes or a clock.

use super::elicit::{self, Answer, ClientInfo, IdSpace, Prompt};
use gait_run::gate::Summary;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Most calls waiting for an answer at once; a call past it is answered as
/// not approved (`elicitation: "limit"` in the log).
pub(super) const MAX_PENDING: usize = 16;

/// What to write after a line.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Out {
    /// These bytes, unchanged, to the server.
    Server(Vec<u8>),
    /// This JSON message (one line) to the client.
    Client(Value),
    /// A `decision` event for the log.
    Log(Map<String, Value>),
}

/// A `tools/call` decided: the gate's summary, its result bytes, and the
/// fields of its `decision` log line (`None` when there is no log).
#[derive(Debug)]
pub(super) struct Decided {
    pub summary: Summary<'static>,
    pub result: Vec<u8>,
    pub log: Option<Map<String, Value>>,
    /// The normalized targets (`kind value (class)`), for a decision the
    /// proxy may ask its client to approve: what the approver is shown
    /// first, whatever the arguments hold. Empty otherwise.
    pub targets: Vec<String>,
}

/// The gate, as the session uses it.
pub(super) trait Decide {
    /// Decides one `tools/call` message. `oversize`: the line is larger
    /// than an intent may be. `interactive`: an approval given
    /// interactively by this approver (`interactive:<client name>`).
    fn decide(&mut self, msg: &Value, oversize: bool, interactive: Option<&str>) -> Decided;

    /// The client declared `capabilities.roots`: relative paths no longer
    /// have one base the proxy knows.
    fn client_has_roots(&mut self) {}

    /// Every client message (a batch's members one by one), before it is
    /// handled: the gate notes what it needs (`tools/list` requests).
    fn client_sent(&mut self, _msg: &Value) {}
}

/// A call held while its approver is asked.
#[derive(Debug)]
pub(super) struct Waiting {
    /// The call's id, as the client sent it.
    call_id: Value,
    /// The client's line, forwarded byte for byte when approved.
    line: Vec<u8>,
    msg: Value,
    oversize: bool,
    /// The `require_approval` decision (its answer when not approved).
    first: Decided,
    approver: String,
    asked: Instant,
    deadline: Instant,
}

/// The calls waiting for an answer, by elicitation id; shared with the
/// thread that times them out.
#[derive(Debug, Default)]
pub(super) struct Pending {
    table: Mutex<HashMap<String, Waiting>>,
    wake: Condvar,
}

impl Pending {
    /// Holds a call; gives it back when [`MAX_PENDING`] calls are held
    /// already (or the table cannot be used).
    fn insert(&self, id: String, w: Waiting) -> Result<(), Box<Waiting>> {
        let Ok(mut t) = self.table.lock() else {
            return Err(Box::new(w));
        };
        if t.len() >= MAX_PENDING {
            return Err(Box::new(w));
        }
        t.insert(id, w);
        self.wake.notify_all();
        Ok(())
    }

    fn take(&self, id: &str) -> Option<Waiting> {
        self.table.lock().ok()?.remove(id)
    }

    /// The elicitation id of the call the client sent under `call_id`.
    fn find_call(&self, call_id: &Value) -> Option<String> {
        let t = self.table.lock().ok()?;
        t.iter()
            .find(|(_, w)| same_id(&w.call_id, call_id))
            .map(|(k, _)| k.clone())
    }

    /// Removes the calls whose deadline is `now` or earlier.
    #[cfg(test)]
    pub fn take_expired(&self, now: Instant) -> Vec<(String, Waiting)> {
        match self.table.lock() {
            Ok(mut t) => expired(&mut t, now),
            Err(_) => Vec::new(),
        }
    }

    /// Removes every call.
    fn take_all(&self) -> Vec<(String, Waiting)> {
        match self.table.lock() {
            Ok(mut t) => t.drain().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Blocks until some call is past its deadline and removes those
    /// (`None`: the table cannot be used any more).
    pub fn wait_expired(&self) -> Option<Vec<(String, Waiting)>> {
        let mut t = self.table.lock().ok()?;
        loop {
            let now = Instant::now();
            let due = expired(&mut t, now);
            if !due.is_empty() {
                return Some(due);
            }
            t = match t.values().map(|w| w.deadline).min() {
                Some(d) => {
                    self.wake
                        .wait_timeout(t, d.saturating_duration_since(now))
                        .ok()?
                        .0
                }
                None => self.wake.wait(t).ok()?,
            };
        }
    }
}

/// Removes the calls of `t` whose deadline is `now` or earlier.
fn expired(t: &mut HashMap<String, Waiting>, now: Instant) -> Vec<(String, Waiting)> {
    let due: Vec<String> = t
        .iter()
        .filter(|(_, w)| w.deadline <= now)
        .map(|(k, _)| k.clone())
        .collect();
    due.into_iter()
        .filter_map(|k| t.remove(&k).map(|w| (k, w)))
        .collect()
}

/// The client side of one proxy run.
pub(super) struct Session<D> {
    decider: D,
    client: Option<ClientInfo>,
    ids: IdSpace,
    pending: Arc<Pending>,
    timeout: Duration,
}

/// A `tools/call` request, in any case and with white space or control
/// characters anywhere: MCP's method names are exact, but a server that
/// matches them another way would run a `Tools/Call` (or `tools/call\0` to
/// a C string) the proxy forwarded unjudged. A method with any non-ASCII
/// character is judged as one too: no MCP method has one, and a server
/// folding Unicode case reads `toolſ/call` (U+017F) or `tools/call` with a
/// zero-width space as `tools/call`.
fn is_tools_call(v: &Value) -> bool {
    v.get("method").and_then(Value::as_str).is_some_and(|m| {
        !m.is_ascii() || {
            let mut core = m
                .bytes()
                .filter(|b| !b.is_ascii_whitespace() && !b.is_ascii_control());
            b"tools/call"
                .iter()
                .all(|want| core.next().is_some_and(|b| b.eq_ignore_ascii_case(want)))
                && core.next().is_none()
        }
    })
}

/// The members of an MCP message, by where they stand, that a reader
/// matching keys another way than byte for byte would also fill from a
/// key spelled otherwise.
const ENVELOPE: &[&str] = &["jsonrpc", "id", "method", "params", "result", "error"];
const PARAMS: &[&str] = &[
    "name",
    "arguments",
    "_meta",
    "task",
    "inputResponses",
    "requestState",
    "requestId",
    "protocolVersion",
    "capabilities",
    "clientInfo",
];
const CAPABILITIES: &[&str] = &["roots", "elicitation", "sampling", "experimental"];
const META: &[&str] = &[
    "progressToken",
    "io.modelcontextprotocol/protocolVersion",
    "io.modelcontextprotocol/clientCapabilities",
];

/// A key of a client message spelled otherwise than a member of the
/// protocol that a case-folding reader takes for it (`METHOD`, `Params`,
/// `paramſ`, `Name` beside `name`): Go's `encoding/json` matches struct
/// fields case-insensitively with Unicode folding and lets a later key
/// win, so a server built on it (mark3labs/mcp-go, older go-sdk) runs a
/// `tools/call` the proxy reads as something else, or another tool than
/// the one judged. Checked in the message, its `params`, their `_meta` and
/// `capabilities` (and the per-request capabilities of `_meta`), folding
/// case as Go does ([`gait_run::normalize::same_key_folding_case`]: `_`
/// and `-` count, unlike in the gate's reading of argument keys).
fn folded_key(m: &Value) -> Option<String> {
    fn check(obj: Option<&Value>, names: &[&str]) -> Option<String> {
        let Some(Value::Object(map)) = obj else {
            return None;
        };
        map.keys()
            .find(|k| {
                !names.contains(&k.as_str())
                    && names
                        .iter()
                        .any(|n| gait_run::normalize::same_key_folding_case(k, n))
            })
            .cloned()
    }
    let params = m.get("params");
    let meta = params.and_then(|p| p.get("_meta"));
    check(Some(m), ENVELOPE)
        .or_else(|| check(params, PARAMS))
        .or_else(|| check(meta, META))
        .or_else(|| check(params.and_then(|p| p.get("capabilities")), CAPABILITIES))
        .or_else(|| {
            check(
                meta.and_then(|p| p.get("io.modelcontextprotocol/clientCapabilities")),
                CAPABILITIES,
            )
        })
}

/// Whether a client request of MCP's per-request era (2026-07-28: no
/// `initialize`) says the client has roots: its
/// `params._meta["io.modelcontextprotocol/clientCapabilities"].roots`, or
/// roots among the answers it re-sends a call with (`params.inputResponses`
/// holding a `roots/list` result). A server may resolve relative paths
/// against those roots, as against roots declared at `initialize`.
fn declares_roots_per_request(m: &Value) -> bool {
    fn has_roots(v: &Value, depth: usize) -> bool {
        match v {
            // `Roots` too: a case-folding server reads it as `roots`.
            Value::Object(map) => {
                map.keys()
                    .any(|k| gait_run::normalize::same_key_folding_case(k, "roots"))
                    || (depth < 8 && map.values().any(|x| has_roots(x, depth + 1)))
            }
            Value::Array(items) => depth < 8 && items.iter().any(|x| has_roots(x, depth + 1)),
            _ => false,
        }
    }
    let params = m.get("params");
    let declared = params
        .and_then(|p| p.get("_meta"))
        .and_then(|p| p.get("io.modelcontextprotocol/clientCapabilities"))
        .and_then(|c| c.get("roots"))
        .is_some_and(|r| !r.is_null());
    declared
        || params
            .and_then(|p| p.get("inputResponses"))
            .is_some_and(|r| has_roots(r, 0))
}

/// A JSON-RPC id as the peers compare them: a number by its value (`1` and
/// `1.0` are one id to a JavaScript client or server), anything else by
/// its text.
pub(super) fn id_key(id: &Value) -> String {
    match id.as_f64() {
        Some(n) if id.is_number() => format!("n:{n}"),
        _ => format!("t:{id}"),
    }
}

/// Whether two JSON-RPC ids are one ([`id_key`]).
fn same_id(a: &Value, b: &Value) -> bool {
    id_key(a) == id_key(b)
}

/// The refusal of a message with a [`folded_key`].
fn folded_key_error(m: &Value, key: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": m.get("id").cloned().unwrap_or(Value::Null), "error": {"code": -32600,
        "message": format!("Invalid Request: the key {key:?} is a protocol member spelled otherwise, which a case-insensitive server reads as that member: refused, never forwarded")}})
}

/// A JSON-RPC response: an id and no method.
fn is_response(v: &Value) -> bool {
    v.get("method").is_none() && v.get("id").is_some()
}

/// The answer to a client message under the proxy's own id space.
fn proxy_id_error(id: &Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600,
        "message": "Invalid Request: ids starting with the proxy's elicitation prefix are the proxy's own"}})
}

pub(super) fn parse_error(message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error", "data": message}})
}

impl<D: Decide> Session<D> {
    pub fn new(decider: D, ids: IdSpace, timeout: Duration) -> Session<D> {
        Session {
            decider,
            client: None,
            ids,
            pending: Arc::new(Pending::default()),
            timeout,
        }
    }

    /// Whether a message answers a question of the proxy (a response whose
    /// id is in the proxy's space).
    fn is_answer(&self, m: &Value) -> bool {
        is_response(m) && m.get("id").is_some_and(|id| self.ids.owns(id))
    }

    /// Whether a message that is not an answer still carries an id of the
    /// proxy's space (as its `id`, or as the `requestId` it cancels).
    /// Never forwarded: a server that saw one would know the proxy's ids and
    /// could ask the client a question of its own under the id of a pending
    /// one, whose answer the proxy would read as the approval.
    fn claims_proxy_id(&self, m: &Value) -> bool {
        let cancelled = m.get("params").and_then(|p| p.get("requestId"));
        !self.is_answer(m)
            && [m.get("id"), cancelled]
                .into_iter()
                .flatten()
                .any(|id| self.ids.owns(id))
    }

    /// The table of waiting calls (for the timeout thread).
    pub fn pending(&self) -> Arc<Pending> {
        self.pending.clone()
    }

    /// One line from the client (`\n` and `\r` included or not).
    pub fn handle(&mut self, line: &[u8], now: Instant) -> Vec<Out> {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            return Vec::new();
        }
        // One strict parse: a repeated key in any object is a parse error
        // (the server and the gate might read different copies).
        let msg: Value = match gait_run::json::Json::parse_value(text) {
            Ok(v) => v,
            Err(e) => return vec![Out::Client(parse_error(&format!("not JSON: {e}")))],
        };
        // What the server reads as one line must be the message judged
        // here: a server reading text lines may also end a line at a raw
        // `\r` (Python's text streams, Node's readline) or at U+0085,
        // U+2028, U+2029 (`str.splitlines`), and would read a message hidden
        // between them. In a line that parsed, a raw `\r` is whitespace
        // outside strings and those three characters are inside strings:
        // forwarded as a space and as `\u` escapes, the message is the same.
        // A protocol member spelled otherwise: never forwarded (see
        // `folded_key`), in a batch too.
        let members = match &msg {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        if let Some((m, key)) = members.iter().find_map(|m| folded_key(m).map(|k| (*m, k))) {
            let refused = if msg.is_array() { &Value::Null } else { m };
            return vec![Out::Client(folded_key_error(refused, &key))];
        }
        if members.iter().any(|m| declares_roots_per_request(m)) {
            self.decider.client_has_roots();
        }
        for m in &members {
            self.decider.client_sent(m);
        }
        let respelled = one_line(line);
        let line = respelled.as_deref().unwrap_or(line);
        let oversize = text.len() > gait_run::normalize::MAX_INTENT_BYTES;
        let forward = || vec![Out::Server(line.to_vec())];
        // An `initialize` inside a batch (which MCP does not allow, and a
        // server may still read) declares roots as well as one alone does.
        if let Value::Array(items) = &msg {
            let declares_roots = |m: &Value| {
                m.get("method").and_then(Value::as_str) == Some("initialize")
                    && ClientInfo::from_initialize(m).roots
            };
            if items.iter().any(declares_roots) {
                self.decider.client_has_roots();
            }
        }
        match &msg {
            // The answer to the proxy's own question: never the server's.
            Value::Object(_) if self.is_answer(&msg) => self.answered(&msg, now),
            // A request under the proxy's id, or a cancellation of one of its
            // questions: the client's mistake, kept from the server.
            Value::Object(_) if self.claims_proxy_id(&msg) => match msg.get("id") {
                Some(id) => vec![Out::Client(proxy_id_error(id))],
                None => Vec::new(),
            },
            Value::Object(_) if is_tools_call(&msg) => self.call(&msg, line, oversize, now),
            Value::Object(_) if msg.get("method").and_then(Value::as_str) == Some("initialize") => {
                let client = ClientInfo::from_initialize(&msg);
                if client.roots {
                    self.decider.client_has_roots();
                }
                self.client = Some(client);
                forward()
            }
            // The client gives up a call the proxy holds: the server never
            // saw it, so the notice stays here too.
            Value::Object(_) if self.cancels_held(&msg) => self.withdraw(&msg, now),
            // JSON-RPC 2.0: a batch is a non-empty list of request objects.
            // Anything else (a nested list above all, which could hide a
            // tools/call from the check below) is refused, not forwarded.
            Value::Array(items) if items.is_empty() || items.iter().any(|m| !m.is_object()) => {
                vec![Out::Client(
                    json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600,
                        "message": "Invalid Request: a batch is a non-empty list of request objects"}}),
                )]
            }
            // Answers to the proxy's questions inside a batch (JSON-RPC 2.0
            // clients may batch responses) are the proxy's too: taken out,
            // and the rest handled as its own batch. Forwarded, they would
            // show the server the proxy's ids.
            Value::Array(items) if items.iter().any(|m| self.is_answer(m)) => {
                self.take_out(items, now, Self::is_answer, Self::answered)
            }
            // Notices giving up held calls inside a batch: withdrawn as one
            // alone is, and the rest handled as its own batch.
            Value::Array(items) if items.iter().any(|m| self.cancels_held(m)) => {
                self.take_out(items, now, Self::cancels_held, Self::withdraw)
            }
            Value::Array(items) if items.iter().any(|m| self.claims_proxy_id(m)) => {
                vec![Out::Client(proxy_id_error(&Value::Null))]
            }
            Value::Array(items) if items.iter().any(is_tools_call) => {
                self.batch(items, line, oversize)
            }
            _ => forward(),
        }
    }

    /// A batch some of whose members are the proxy's own (`mine`): those
    /// handled by `take`, the rest as a batch of its own.
    fn take_out(
        &mut self,
        items: &[Value],
        now: Instant,
        mine: fn(&Self, &Value) -> bool,
        take: fn(&mut Self, &Value, Instant) -> Vec<Out>,
    ) -> Vec<Out> {
        let (own, rest): (Vec<&Value>, Vec<&Value>) = items.iter().partition(|m| mine(self, m));
        let mut outs: Vec<Out> = own.into_iter().flat_map(|m| take(self, m, now)).collect();
        if !rest.is_empty() {
            // A line of its own, ended as every forwarded line is (without
            // the `\n`, the server would read it glued to the next message).
            let text = json!(rest).to_string() + "\n";
            outs.extend(self.handle(text.as_bytes(), now));
        }
        outs
    }

    /// Whether `m` is a `notifications/cancelled` of a call the proxy
    /// holds.
    fn cancels_held(&self, m: &Value) -> bool {
        m.get("method").and_then(Value::as_str) == Some("notifications/cancelled")
            && m.get("params")
                .and_then(|p| p.get("requestId"))
                .and_then(|id| self.pending.find_call(id))
                .is_some()
    }

    /// Withdraws the held call a `notifications/cancelled` gives up.
    fn withdraw(&mut self, m: &Value, now: Instant) -> Vec<Out> {
        let held = m
            .get("params")
            .and_then(|p| p.get("requestId"))
            .and_then(|id| self.pending.find_call(id))
            .and_then(|k| self.pending.take(&k).map(|w| (k, w)));
        match held {
            Some((k, w)) => not_approved(&k, w, Answer::Abandoned, now, true),
            None => Vec::new(),
        }
    }

    /// A single `tools/call`.
    fn call(&mut self, msg: &Value, line: &[u8], oversize: bool, now: Instant) -> Vec<Out> {
        let d = self.decider.decide(msg, oversize, None);
        if d.summary.allowed() {
            return with_log(vec![Out::Server(line.to_vec())], &d, true, &[]);
        }
        let Some(id) = msg.get("id") else {
            // A notification: no id to answer or to ask about.
            return with_log(Vec::new(), &d, false, &[]);
        };
        if !d.summary.interactive_approval {
            return with_log(
                vec![Out::Client(blocked_reply(id, msg, &d))],
                &d,
                false,
                &[],
            );
        }
        let client = match &self.client {
            Some(c) if c.elicitation => c.clone(),
            _ => {
                let f = [("elicitation", json!("no_capability"))];
                return with_log(vec![Out::Client(blocked_reply(id, msg, &d))], &d, false, &f);
            }
        };
        let eid = self.ids.next_id();
        let result: Value = serde_json::from_slice(&d.result).unwrap_or(Value::Null);
        let request = elicit::request(
            &eid,
            &Prompt::new(msg, &result, &d.summary.reason_codes, &d.targets),
        );
        let fields = [
            ("elicitation", json!("requested")),
            ("elicitation_id", json!(eid)),
        ];
        let logged = with_log(vec![Out::Client(request)], &d, false, &fields);
        let waiting = Waiting {
            call_id: id.clone(),
            line: line.to_vec(),
            msg: msg.clone(),
            oversize,
            first: d,
            approver: client.approver(),
            asked: now,
            deadline: now + self.timeout,
        };
        match self.pending.insert(eid, waiting) {
            Ok(()) => logged,
            Err(w) => {
                let f = [("elicitation", json!("limit"))];
                let reply = blocked_reply(&w.call_id, &w.msg, &w.first);
                with_log(vec![Out::Client(reply)], &w.first, false, &f)
            }
        }
    }

    /// A response to an `elicitation/create` of the proxy.
    fn answered(&mut self, msg: &Value, now: Instant) -> Vec<Out> {
        let Some(key) = msg.get("id").and_then(Value::as_str) else {
            return Vec::new();
        };
        // Late (timed out) or unknown: dropped, never forwarded.
        let Some(w) = self.pending.take(key) else {
            return Vec::new();
        };
        let answer = elicit::answer(msg);
        if answer != Answer::Accept {
            return not_approved(key, w, answer, now, false);
        }
        let d = self.decider.decide(&w.msg, w.oversize, Some(&w.approver));
        let fields = answer_fields(key, &Answer::Accept, Some(&w.approver), w.asked, now);
        if d.summary.allowed() {
            with_log(vec![Out::Server(w.line)], &d, true, &fields)
        } else {
            let reply = blocked_reply(&w.call_id, &w.msg, &d);
            with_log(vec![Out::Client(reply)], &d, false, &fields)
        }
    }

    /// A batch with a `tools/call`: no elicitation (answered as before).
    fn batch(&mut self, items: &[Value], line: &[u8], oversize: bool) -> Vec<Out> {
        // Every call of the batch is decided (and logged); the batch goes
        // through only when all are allowed. Otherwise nothing of it is
        // forwarded and the proxy answers each request in it.
        let decided: Vec<Option<Decided>> = items
            .iter()
            .map(|m| is_tools_call(m).then(|| self.decider.decide(m, oversize, None)))
            .collect();
        let all = decided.iter().flatten().all(|d| d.summary.allowed());
        let mut outs = Vec::new();
        for d in decided.iter().flatten() {
            outs = with_log(outs, d, d.summary.allowed(), &[]);
        }
        if all {
            outs.insert(0, Out::Server(line.to_vec()));
            return outs;
        }
        let replies: Vec<Value> = items
            .iter()
            .zip(&decided)
            .filter_map(|(m, d)| {
                let id = m.get("id")?;
                Some(match d {
                    Some(d) if !d.summary.allowed() => blocked_reply(id, m, d),
                    _ => json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600,
                        "message": "not forwarded: this batch holds a tools/call that the policy did not allow"}}),
                })
            })
            .collect();
        if !replies.is_empty() {
            outs.insert(0, Out::Client(Value::Array(replies)));
        }
        outs
    }

    /// The client's input ended: the held calls can no longer be approved
    /// (they are logged, and the server never sees them).
    pub fn close(&mut self, now: Instant) -> Vec<Out> {
        self.pending
            .take_all()
            .into_iter()
            .flat_map(|(k, w)| not_approved(&k, w, Answer::Abandoned, now, false))
            .filter(|o| matches!(o, Out::Log(_)))
            .collect()
    }
}

/// The outputs of a held call that is not approved: its `isError` answer
/// (the one it got before interactive approval existed; none when the
/// client gave the call up: a cancelled request gets no response) and its
/// log line; `cancel_request`: also withdraw the question from the client.
pub(super) fn not_approved(
    key: &str,
    w: Waiting,
    answer: Answer,
    now: Instant,
    cancel_request: bool,
) -> Vec<Out> {
    let mut outs = Vec::with_capacity(3);
    if cancel_request {
        let why = match answer {
            Answer::Timeout => "gait: no answer in time; the call was refused",
            _ => "gait: the call was given up",
        };
        outs.push(Out::Client(elicit::cancelled(key, why)));
    }
    if answer != Answer::Abandoned {
        outs.push(Out::Client(blocked_reply(&w.call_id, &w.msg, &w.first)));
    }
    let fields = answer_fields(key, &answer, None, w.asked, now);
    with_log(outs, &w.first, false, &fields)
}

/// The outputs of calls past their deadline.
pub(super) fn timed_out(expired: Vec<(String, Waiting)>, now: Instant) -> Vec<Out> {
    expired
        .into_iter()
        .flat_map(|(k, w)| not_approved(&k, w, Answer::Timeout, now, true))
        .collect()
}

fn answer_fields(
    key: &str,
    answer: &Answer,
    approver: Option<&str>,
    asked: Instant,
    now: Instant,
) -> Vec<(&'static str, Value)> {
    let waited =
        u64::try_from(now.saturating_duration_since(asked).as_millis()).unwrap_or(u64::MAX);
    let mut f = vec![
        ("elicitation", json!(answer.action())),
        ("elicitation_id", json!(key)),
        ("elicitation_ms", json!(waited)),
        ("approver", json!(approver)),
    ];
    if let Answer::Error(e) = answer {
        f.push(("elicitation_error", json!(e)));
    }
    f
}

/// Appends the `decision` log line of `d` (when logging) to `outs`.
fn with_log(
    mut outs: Vec<Out>,
    d: &Decided,
    forwarded: bool,
    extra: &[(&'static str, Value)],
) -> Vec<Out> {
    if let Some(fields) = &d.log {
        let mut f = fields.clone();
        f.insert("forwarded".into(), json!(forwarded));
        for (k, v) in extra {
            f.insert((*k).into(), v.clone());
        }
        outs.push(Out::Log(f));
    }
    outs
}

/// The tool result answering a call that was not allowed.
pub(super) fn blocked_reply(id: &Value, msg: &Value, d: &Decided) -> Value {
    let s = &d.summary;
    let tool = msg
        .get("params")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    let mut text = format!(
        "gait: blocked tools/call `{tool}`: verdict {}; reasons: {}",
        s.verdict,
        if s.reason_codes.is_empty() {
            "none".to_owned()
        } else {
            s.reason_codes.join(", ")
        }
    );
    if s.required_approvals > 0 {
        text.push_str(&format!("; approvals required: {}", s.required_approvals));
    }
    if let Some(e) = &s.error {
        text.push_str(&format!("; error: {e}"));
    }
    // The result document as the client sees it from `gait-run eval`
    // (read back from the gate's bytes: a refusal is not the hot path).
    let structured: Value = serde_json::from_slice(&d.result).unwrap_or(Value::Null);
    json!({"jsonrpc": "2.0", "id": id, "result": {
        "content": [{"type": "text", "text": text}],
        "isError": true,
        "structuredContent": structured,
    }})
}

/// `line` with every raw `\r` but a final one (before its `\n`) written as
/// a space, and U+0085, U+2028, U+2029 as `\u` escapes; `None` when it has
/// none of them. For a line that parsed as JSON only: the value is the same.
fn one_line(line: &[u8]) -> Option<Vec<u8>> {
    let body_len =
        line.len() - usize::from(line.ends_with(b"\n")) - usize::from(line.ends_with(b"\r\n"));
    let (body, end) = line.split_at(body_len);
    // A break of another reader at `i`: its length, and its spelling here.
    let break_at = |i: usize| -> Option<(usize, &'static [u8])> {
        match body.get(i..)? {
            [b'\r', ..] => Some((1, b" ")),
            [0xc2, 0x85, ..] => Some((2, b"\\u0085")),
            [0xe2, 0x80, 0xa8, ..] => Some((3, b"\\u2028")),
            [0xe2, 0x80, 0xa9, ..] => Some((3, b"\\u2029")),
            _ => None,
        }
    };
    let first = (0..body.len()).find(|&i| break_at(i).is_some())?;
    let mut out = Vec::with_capacity(line.len() + 16);
    out.extend_from_slice(&body[..first]);
    let mut i = first;
    while let Some(&b) = body.get(i) {
        match break_at(i) {
            Some((len, with)) => {
                out.extend_from_slice(with);
                i += len;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    out.extend_from_slice(end);
    Some(out)
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
