//! The MCP elicitation pieces of the proxy's interactive approval (issue 18;
//! MCP `elicitation/create`, form mode): what the client declared at
//! `initialize`, the proxy's own request ids, the request the proxy sends and
//! the reading of the client's answer. Pure: no I/O, no clock of its own.

use serde_json::{json, Value};

/// Longest client name kept in an approver label (characters).
pub(super) const MAX_CLIENT_NAME: usize = 64;
/// The name of a client that declared none (or only unprintable characters).
pub(super) const UNNAMED_CLIENT: &str = "unnamed-client";
/// Longest argument text shown in an elicitation message (characters).
const MAX_ARGS_SHOWN: usize = 1_000;
/// Each target is shown up to this many characters, and this many targets.
const MAX_TARGET_SHOWN: usize = 300;
const MAX_TARGETS_SHOWN: usize = 16;
/// The property of the requested schema that must be `true` on accept.
pub(super) const APPROVE: &str = "approve";

/// What the client declared in `initialize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ClientInfo {
    /// `clientInfo.name`, sanitized ([`sanitize_client_name`]).
    pub name: String,
    /// The client can answer form-mode `elicitation/create`.
    pub elicitation: bool,
    /// The client declared `capabilities.roots`: it may hand the server
    /// roots, against which a server may resolve relative paths.
    pub roots: bool,
}

impl ClientInfo {
    /// Reads an `initialize` request's params.
    pub fn from_initialize(msg: &Value) -> ClientInfo {
        let params = msg.get("params");
        let name = params
            .and_then(|p| p.get("clientInfo"))
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let elicitation = params
            .and_then(|p| p.get("capabilities"))
            .and_then(|c| c.get("elicitation"));
        let roots = params
            .and_then(|p| p.get("capabilities"))
            .and_then(|c| c.get("roots"))
            .is_some_and(|r| !r.is_null());
        ClientInfo {
            name: sanitize_client_name(name),
            elicitation: supports_form(elicitation),
            roots,
        }
    }

    /// The approver label of an interactive approval by this client.
    pub fn approver(&self) -> String {
        format!("interactive:{}", self.name)
    }
}

/// Whether a declared `capabilities.elicitation` covers form mode: MCP
/// 2025-11-25 lists the modes (`{"form": {}, "url": {}}`); an empty object
/// (2025-06-18, before modes) means form only. URL mode alone is not enough:
/// the proxy asks for a form answer.
fn supports_form(cap: Option<&Value>) -> bool {
    match cap {
        Some(Value::Object(m)) => m.is_empty() || m.get("form").is_some_and(Value::is_object),
        _ => false,
    }
}

/// The client's self-declared name as it may appear in an approver label,
/// a log line and a trace: printable ASCII only (anything else, control
/// characters and bidirectional overrides above all, becomes `?`), runs of
/// spaces collapsed, trimmed, at most [`MAX_CLIENT_NAME`] characters;
/// [`UNNAMED_CLIENT`] when nothing printable is left.
pub(super) fn sanitize_client_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_CLIENT_NAME));
    let mut count = 0;
    for c in raw.chars() {
        let c = match c {
            ' ' | '\t' => ' ',
            c if c.is_ascii_graphic() => c,
            _ => '?',
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        if count == MAX_CLIENT_NAME {
            break;
        }
        out.push(c);
        count += 1;
    }
    let trimmed = out.trim_end();
    if trimmed.chars().all(|c| c == '?') {
        UNNAMED_CLIENT.to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The proxy's own request ids towards the client: strings
/// `gait-elicit-<32 hex>-<n>`. The client's ids go to the server and come
/// back from it; the server's ids go to the client and its answers come back
/// through the proxy — only answers carrying an id of this space (and of a
/// request still pending) are taken by the proxy. The random part is
/// unguessable (128 bits from the system's random source, as an approval
/// token id), so a server cannot send the client a request under an id the
/// proxy will read as the answer to its own question.
#[derive(Debug)]
pub(super) struct IdSpace {
    prefix: String,
    next: u64,
}

impl IdSpace {
    /// A fresh space with a random prefix.
    pub fn new() -> Result<IdSpace, String> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| format!("no random elicitation ids: {e}"))?;
        Ok(IdSpace::with_nonce(&gait_run::hex(&nonce)))
    }

    /// A space with this nonce (tests).
    pub fn with_nonce(nonce: &str) -> IdSpace {
        IdSpace {
            prefix: format!("gait-elicit-{nonce}-"),
            next: 1,
        }
    }

    /// The next id.
    pub fn next_id(&mut self) -> String {
        let id = format!("{}{}", self.prefix, self.next);
        self.next = self.next.saturating_add(1);
        id
    }

    /// Whether an id belongs to this space (whether or not it is pending).
    pub fn owns(&self, id: &Value) -> bool {
        id.as_str().is_some_and(|s| s.starts_with(&self.prefix))
    }
}

/// What the approver is shown about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Prompt {
    pub tool: String,
    /// The normalized targets the gate judged (each cut when long).
    pub targets: Vec<String>,
    /// The call's `arguments`, as JSON text (cut when long).
    pub arguments: String,
    pub endpoint_classes: Vec<String>,
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
    /// The intent's skill provenance, as the gate saw it (`None`: the intent
    /// named no skill; the proxy's intents carry none of their own).
    pub skill: Option<String>,
    /// `name revision N (sha256:…)` of the policy asking.
    pub policy: String,
}

impl Prompt {
    /// Reads what to show from the call and the gate's result document.
    pub fn new<R: AsRef<str>>(
        msg: &Value,
        result: &Value,
        reasons: &[R],
        targets: &[String],
    ) -> Prompt {
        let params = msg.get("params");
        // The call's own text is the agent's: shown so that it cannot be
        // laid out to read as something else ([`shown`]).
        let tool = params
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .map_or_else(|| "?".to_owned(), |t| cut(&shown(t), MAX_ARGS_SHOWN));
        let arguments = match params.and_then(|p| p.get("arguments")) {
            None | Some(Value::Null) => "{}".to_owned(),
            Some(a) => cut(&shown(&a.to_string()), MAX_ARGS_SHOWN),
        };
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let request = result.get("approval_request");
        let rules = match request.map(|r| strings(r.get("rules"))) {
            Some(r) if !r.is_empty() => r,
            _ => strings(result.get("matched_rules")),
        };
        let skill = request
            .and_then(|r| r.get("skill_provenance"))
            .filter(|s| !s.is_null())
            .map(|s| cut(&shown(&s.to_string()), MAX_ARGS_SHOWN));
        let policy = result.get("policy");
        let field = |k: &str| policy.and_then(|p| p.get(k));
        let policy = format!(
            "{} revision {} ({})",
            field("name").and_then(Value::as_str).unwrap_or("?"),
            field("revision").and_then(Value::as_u64).unwrap_or(0),
            field("digest").and_then(Value::as_str).unwrap_or("?"),
        );
        let mut shown_targets: Vec<String> = targets
            .iter()
            .take(MAX_TARGETS_SHOWN)
            .map(|t| cut_middle(&shown(t), MAX_TARGET_SHOWN))
            .collect();
        if targets.len() > MAX_TARGETS_SHOWN {
            shown_targets.push(format!("… and {} more", targets.len() - MAX_TARGETS_SHOWN));
        }
        Prompt {
            tool,
            targets: shown_targets,
            arguments,
            endpoint_classes: strings(result.get("endpoint_classes")),
            rules,
            reasons: reasons.iter().map(|r| r.as_ref().to_owned()).collect(),
            skill,
            policy,
        }
    }

    /// The message of the elicitation: what would run, and why it needs an
    /// approval.
    pub fn message(&self) -> String {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_owned()
            } else {
                v.join(", ")
            }
        };
        format!(
            "gait: the policy requires an approval for tools/call `{}`.\n\
             Targets: {}\n\
             Arguments: {}\n\
             Endpoint classes: {}\n\
             Rules: {}\n\
             Reasons: {}\n\
             Skill provenance: {}\n\
             Policy: {}\n\
             Approve to run this one call once; decline to refuse it.",
            self.tool,
            if self.targets.is_empty() {
                "none".to_owned()
            } else {
                self.targets.join("; ")
            },
            self.arguments,
            list(&self.endpoint_classes),
            list(&self.rules),
            list(&self.reasons),
            self.skill.as_deref().unwrap_or("none (no skill named)"),
            self.policy,
        )
    }
}

/// Text of the call as the approver sees it: control characters (a line
/// break in a tool name would start a forged `Arguments:` line) and the
/// invisible formatting characters (bidirectional overrides and isolates,
/// which reorder what is displayed; zero-width characters) written as
/// `\u{…}` escapes. JSON text escapes the controls but not the others.
fn shown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || gait_run::normalize::invisible(c) {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` cut in the middle to at most `max` characters and the `…` that
/// marks the cut: a long path keeps its start and its file name.
fn cut_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let head: String = s.chars().take(max / 2).collect();
    let tail: String = s.chars().skip(n - (max - max / 2)).collect();
    format!("{head}…{tail}")
}

/// `s` cut to at most `max` characters (`…` marks a cut).
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

/// The `elicitation/create` request (form mode; `mode` is left out, which
/// means form in every protocol version that has elicitation).
pub(super) fn request(id: &str, prompt: &Prompt) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "elicitation/create", "params": {
        "message": prompt.message(),
        "requestedSchema": {
            "type": "object",
            "properties": {APPROVE: {
                "type": "boolean",
                "title": "Approve",
                "description": format!("Run tools/call `{}` once", prompt.tool),
                "default": false,
            }},
            "required": [APPROVE],
        },
    }})
}

/// `notifications/cancelled` for a request the proxy sent and no longer
/// waits for.
pub(super) fn cancelled(id: &str, reason: &str) -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
           "params": {"requestId": id, "reason": reason}})
}

/// How an elicitation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    /// `action: accept` with `approve: true`.
    Accept,
    /// `action: decline`, or an accept whose `approve` is not `true`.
    Decline,
    /// `action: cancel`.
    Cancel,
    /// A JSON-RPC error, or a result that is not an elicitation result.
    Error(String),
    /// No answer within the timeout.
    Timeout,
    /// The client cancelled its `tools/call`, or closed its input.
    Abandoned,
}

impl Answer {
    /// The `action` recorded in the decision log.
    pub fn action(&self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::Decline => "decline",
            Answer::Cancel => "cancel",
            Answer::Error(_) => "error",
            Answer::Timeout => "timeout",
            Answer::Abandoned => "abandoned",
        }
    }
}

/// Reads the client's response to an `elicitation/create`.
pub(super) fn answer(response: &Value) -> Answer {
    if let Some(err) = response.get("error") {
        let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
        let message = err.get("message").and_then(Value::as_str).unwrap_or("");
        return Answer::Error(cut(&format!("error {code}: {message}"), 200));
    }
    let Some(result) = response.get("result") else {
        return Answer::Error("a response with neither result nor error".into());
    };
    match result.get("action").and_then(Value::as_str) {
        Some("accept") => {
            let approve = result.get("content").and_then(|c| c.get(APPROVE));
            if approve == Some(&Value::Bool(true)) {
                Answer::Accept
            } else {
                Answer::Decline
            }
        }
        Some("decline") => Answer::Decline,
        Some("cancel") => Answer::Cancel,
        Some(other) => Answer::Error(cut(&format!("unknown action `{other}`"), 200)),
        None => Answer::Error("the result has no action".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_info_and_capability() {
        let init = |caps: Value, info: Value| {
            ClientInfo::from_initialize(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": caps, "clientInfo": info}}))
        };
        let named = json!({"name": "desk", "version": "1"});
        assert_eq!(
            init(json!({"elicitation": {}}), named.clone()),
            ClientInfo {
                name: "desk".into(),
                elicitation: true,
                roots: false,
            }
        );
        // Roots declared (any object, `listChanged` or not).
        assert!(init(json!({"roots": {"listChanged": true}}), named.clone()).roots);
        assert!(init(json!({"roots": {}}), named.clone()).roots);
        assert!(!init(json!({"roots": null}), named.clone()).roots);
        assert!(
            init(
                json!({"elicitation": {"form": {}, "url": {}}}),
                named.clone()
            )
            .elicitation
        );
        assert!(init(json!({"elicitation": {"form": {}}}), named.clone()).elicitation);
        // URL mode only, no capability, a capability that is not an object.
        assert!(!init(json!({"elicitation": {"url": {}}}), named.clone()).elicitation);
        assert!(!init(json!({"roots": {}}), named.clone()).elicitation);
        assert!(!init(json!({"elicitation": true}), named.clone()).elicitation);
        assert!(!init(json!(null), named).elicitation);
        let anon = init(json!({"elicitation": {}}), json!({}));
        assert_eq!(anon.name, "unnamed-client");
        assert_eq!(anon.approver(), "interactive:unnamed-client");
    }

    #[test]
    fn client_names_are_sanitized() {
        assert_eq!(sanitize_client_name("Claude Desktop"), "Claude Desktop");
        assert_eq!(sanitize_client_name("  a \t\t b  "), "a b");
        assert_eq!(
            sanitize_client_name("evil\nforged line"),
            "evil?forged line"
        );
        assert_eq!(sanitize_client_name("x\u{202e}gnp.exe"), "x?gnp.exe");
        assert_eq!(sanitize_client_name("café"), "caf?");
        assert_eq!(sanitize_client_name(""), "unnamed-client");
        assert_eq!(sanitize_client_name("\u{1}\u{7f}"), "unnamed-client");
        assert_eq!(sanitize_client_name("   "), "unnamed-client");
        let long = "n".repeat(500);
        assert_eq!(sanitize_client_name(&long), "n".repeat(64));
        let spaced = format!("{} tail", "m".repeat(63));
        assert_eq!(sanitize_client_name(&spaced), "m".repeat(63));
    }

    #[test]
    fn ids_are_the_proxys_own() {
        let mut ids = IdSpace::with_nonce("00ff");
        assert_eq!(ids.next_id(), "gait-elicit-00ff-1");
        assert_eq!(ids.next_id(), "gait-elicit-00ff-2");
        assert!(ids.owns(&json!("gait-elicit-00ff-9")));
        assert!(!ids.owns(&json!("gait-elicit-00fe-1")));
        assert!(!ids.owns(&json!(1)));
        assert!(!ids.owns(&json!(null)));
        assert!(!ids.owns(&json!("1")));
        // Two spaces of two proxies (or two runs) do not share a prefix.
        let (mut a, mut b) = (IdSpace::new().unwrap(), IdSpace::new().unwrap());
        let id = a.next_id();
        assert!(a.owns(&json!(id)));
        assert!(!b.owns(&json!(id)), "{id} vs {}", b.next_id());
        assert_eq!(id.len(), "gait-elicit-".len() + 32 + 2);
    }

    fn prompt() -> Prompt {
        let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "write_file", "arguments": {"path": "/ws/a", "content": "x"}}});
        let result = json!({"verdict": "require_approval", "matched_rules": ["writes"],
            "endpoint_classes": ["fs.write"],
            "policy": {"name": "p", "version": "1.0.0", "revision": 4, "digest": "sha256:ab"}});
        Prompt::new(
            &call,
            &result,
            &["write_needs_approval".to_owned()],
            &["path /ws/a (fs.write)".to_owned()],
        )
    }

    #[test]
    fn a_long_target_keeps_its_start_and_its_file_name() {
        let long = format!("path /ws/{}/cron.d/backdoor (fs.write)", "d/".repeat(400));
        let p = Prompt::new::<String>(&json!({}), &json!({}), &[], &[long]);
        let [shown] = p.targets.as_slice() else {
            panic!("{:?}", p.targets)
        };
        assert_eq!(shown.chars().count(), MAX_TARGET_SHOWN + 1);
        assert!(shown.starts_with("path /ws/d/"), "{shown}");
        assert!(shown.ends_with("/cron.d/backdoor (fs.write)"), "{shown}");
        assert!(shown.contains('…'));
        let many: Vec<String> = (0..20)
            .map(|i| format!("path /ws/{i} (fs.write)"))
            .collect();
        let p = Prompt::new::<String>(&json!({}), &json!({}), &[], &many);
        assert_eq!(p.targets.len(), MAX_TARGETS_SHOWN + 1);
        assert_eq!(p.targets.last().map(String::as_str), Some("… and 4 more"));
    }

    #[test]
    fn the_request_names_tool_targets_rules_and_skill() {
        let req = request("gait-elicit-00ff-1", &prompt());
        assert_eq!(
            req,
            json!({"jsonrpc": "2.0", "id": "gait-elicit-00ff-1", "method": "elicitation/create",
                "params": {
                    "message": "gait: the policy requires an approval for tools/call `write_file`.\n\
                        Targets: path /ws/a (fs.write)\n\
                        Arguments: {\"path\":\"/ws/a\",\"content\":\"x\"}\n\
                        Endpoint classes: fs.write\n\
                        Rules: writes\n\
                        Reasons: write_needs_approval\n\
                        Skill provenance: none (no skill named)\n\
                        Policy: p revision 4 (sha256:ab)\n\
                        Approve to run this one call once; decline to refuse it.",
                    "requestedSchema": {"type": "object",
                        "properties": {"approve": {"type": "boolean", "title": "Approve",
                            "description": "Run tools/call `write_file` once", "default": false}},
                        "required": ["approve"]}}})
        );
    }

    #[test]
    fn the_approval_request_is_preferred_and_long_arguments_are_cut() {
        let call = json!({"method": "tools/call",
            "params": {"name": "t", "arguments": {"k": "é".repeat(2_000)}}});
        let result = json!({"matched_rules": ["a", "b"],
            "approval_request": {"rules": ["b"], "skill_provenance": {"name": "web", "verified": false}}});
        let p = Prompt::new::<String>(&call, &result, &[], &[]);
        assert_eq!(p.rules, ["b"]);
        assert_eq!(
            p.skill.as_deref(),
            Some(r#"{"name":"web","verified":false}"#)
        );
        assert_eq!(p.arguments.chars().count(), MAX_ARGS_SHOWN + 1);
        assert!(p.arguments.ends_with('…'));
        assert!(p.message().contains("Reasons: none\n"));
        assert!(p.message().contains("Policy: ? revision 0 (?)"));
    }

    #[test]
    fn the_call_cannot_forge_or_reorder_what_the_approver_reads() {
        let call = json!({"method": "tools/call", "params": {
            "name": "write_file`.\nArguments: {}\nRules: none",
            "arguments": {"path": "/ws/\u{202e}txt.hsab", "z": "a\u{200b}b\u{2066}"}}});
        let p = Prompt::new::<String>(&call, &json!({}), &[], &[]);
        assert_eq!(
            p.tool,
            "write_file`.\\u{000a}Arguments: {}\\u{000a}Rules: none"
        );
        assert_eq!(
            p.arguments,
            r#"{"path":"/ws/\u{202e}txt.hsab","z":"a\u{200b}b\u{2066}"}"#
        );
        let message = p.message();
        assert_eq!(
            message
                .lines()
                .filter(|l| l.starts_with("Arguments:"))
                .count(),
            1
        );
        assert!(!message.contains('\u{202e}') && !message.contains('\u{200b}'));
        // Tag characters (past U+FFFF) are escaped whole.
        assert_eq!(super::shown("a\u{e0072}b"), "a\\u{e0072}b");
        // Ordinary text, é included, is shown as it is.
        assert_eq!(shown("/ws/café {\"a\":1}"), "/ws/café {\"a\":1}");
    }

    #[test]
    fn answers() {
        let res = |r: Value| answer(&json!({"jsonrpc": "2.0", "id": "x", "result": r}));
        assert_eq!(
            res(json!({"action": "accept", "content": {"approve": true}})),
            Answer::Accept
        );
        // An accept must carry approve: true, the boolean.
        assert_eq!(
            res(json!({"action": "accept", "content": {"approve": false}})),
            Answer::Decline
        );
        assert_eq!(
            res(json!({"action": "accept", "content": {"approve": "true"}})),
            Answer::Decline
        );
        assert_eq!(res(json!({"action": "accept"})), Answer::Decline);
        assert_eq!(res(json!({"action": "decline"})), Answer::Decline);
        assert_eq!(res(json!({"action": "cancel"})), Answer::Cancel);
        assert_eq!(
            res(json!({"action": "maybe"})),
            Answer::Error("unknown action `maybe`".into())
        );
        assert_eq!(
            res(json!({})),
            Answer::Error("the result has no action".into())
        );
        assert_eq!(
            answer(&json!({"jsonrpc": "2.0", "id": "x",
                "error": {"code": -32601, "message": "Method not found"}})),
            Answer::Error("error -32601: Method not found".into())
        );
        assert_eq!(
            answer(&json!({"jsonrpc": "2.0", "id": "x"})),
            Answer::Error("a response with neither result nor error".into())
        );
    }
}
