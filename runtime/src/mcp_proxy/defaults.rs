//! The defaults an MCP server fills in for the arguments a call leaves
//! out, learned from its `tools/list` answers: a server validates a call
//! with the tool's `inputSchema` (zod's `.default()` in the TypeScript SDK,
//! pydantic defaults in the Python one) and runs it with each left-out
//! property's `default`, so the proxy judges the call with them too — a
//! `copy_file(src, dst = "/etc/cron.d/job")` called without `dst` writes
//! `/etc/cron.d/job`, which a call naming it is refused.
//!
//! The client's `tools/list` request ids are noted as the client sends
//! them; the server's answers to those ids (read on the server → client
//! thread, lines holding `"tools"` only) give each listed tool's top-level
//! property defaults. A later listing replaces a tool's defaults; a tool
//! never listed is judged with the arguments as sent.

use super::session::id_key;
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Most `tools/list` requests awaited at once, and most tools remembered
/// (a client or server flooding them cannot grow the proxy without bound).
const MAX_AWAITED: usize = 1024;
const MAX_TOOLS: usize = 16_384;

#[derive(Debug, Default)]
struct State {
    /// Each `tools/list` request id not yet answered ([`id_key`]), oldest
    /// first.
    awaited: VecDeque<String>,
    /// Tool name → its properties' defaults.
    defaults: HashMap<String, Map<String, Value>>,
}

/// Shared between the client thread (which notes requests and fills
/// calls) and the server thread (which reads the answers).
#[derive(Debug, Clone, Default)]
pub(super) struct ToolDefaults(Arc<Mutex<State>>);

impl ToolDefaults {
    /// A client message (one, or a batch's member): notes a `tools/list`
    /// request's id.
    pub fn client_sent(&self, m: &Value) {
        if m.get("method").and_then(Value::as_str) != Some("tools/list") {
            return;
        }
        let Some(id) = m.get("id") else {
            return;
        };
        if let Ok(mut s) = self.0.lock() {
            // Listings never answered (a server that drops them) make room
            // for new ones, oldest first.
            let key = id_key(id);
            if s.awaited.contains(&key) {
                return;
            }
            if s.awaited.len() >= MAX_AWAITED {
                s.awaited.pop_front();
            }
            s.awaited.push_back(key);
        }
    }

    /// A line from the server: the answer to an awaited `tools/list`
    /// gives its tools' defaults. Cheap for every other line (no parse
    /// unless a listing is awaited and the line names `"tools"`).
    pub fn server_sent(&self, line: &[u8]) {
        let awaiting = self.0.lock().is_ok_and(|s| !s.awaited.is_empty());
        if !awaiting || !contains(line, b"\"tools\"") {
            return;
        }
        let Ok(msg) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        let answers: Vec<&Value> = match &msg {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let Ok(mut s) = self.0.lock() else {
            return;
        };
        for answer in answers {
            // A response (a result or an error, no method): a request of
            // the server's own under the same id number is not the answer.
            let Some(id) = answer.get("id") else {
                continue;
            };
            if answer.get("method").is_some()
                || !(answer.get("result").is_some() || answer.get("error").is_some())
            {
                continue;
            }
            let key = id_key(id);
            let Some(at) = s.awaited.iter().position(|k| *k == key) else {
                continue;
            };
            s.awaited.remove(at);
            let tools = answer
                .get("result")
                .and_then(|r| r.get("tools"))
                .and_then(Value::as_array);
            for tool in tools.into_iter().flatten() {
                let Some(name) = tool.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let defaults: Map<String, Value> = tool
                    .get("inputSchema")
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                    .map(|props| {
                        props
                            .iter()
                            .filter_map(|(k, p)| Some((k.clone(), p.get("default")?.clone())))
                            .collect()
                    })
                    .unwrap_or_default();
                if s.defaults.len() < MAX_TOOLS || s.defaults.contains_key(name) {
                    s.defaults.insert(name.to_owned(), defaults);
                }
            }
        }
    }

    /// `args` with the listed defaults of tool `name` filled in for the
    /// properties it leaves out (an explicit `null` is the call's own).
    pub fn fill(&self, name: Option<&Value>, args: &mut Value) {
        let (Some(name), Value::Object(args)) = (name.and_then(Value::as_str), args) else {
            return;
        };
        let Ok(s) = self.0.lock() else {
            return;
        };
        if let Some(defaults) = s.defaults.get(name) {
            for (k, v) in defaults {
                if !args.contains_key(k) {
                    args.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listing(id: Value) -> Vec<u8> {
        json!({"jsonrpc": "2.0", "id": id, "result": {"tools": [
            {"name": "copy_file", "inputSchema": {"type": "object", "properties": {
                "src": {"type": "string"},
                "dst": {"type": "string", "default": "/etc/cron.d/job"}}}},
            {"name": "ping", "inputSchema": {"type": "object"}}]}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn defaults_come_from_the_answer_to_the_client_s_listing_only() {
        let d = ToolDefaults::default();
        // An answer nobody asked for (a server claiming a listing) is not read.
        d.server_sent(&listing(json!(7)));
        let mut args = json!({"src": "/workspace/a"});
        d.fill(Some(&json!("copy_file")), &mut args);
        assert_eq!(args, json!({"src": "/workspace/a"}));
        d.client_sent(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
        d.server_sent(&listing(json!(2)));
        for (given, judged) in [
            (
                json!({"src": "/workspace/a"}),
                json!({"src": "/workspace/a", "dst": "/etc/cron.d/job"}),
            ),
            (
                json!({"src": "/workspace/a", "dst": "/workspace/b"}),
                json!({"src": "/workspace/a", "dst": "/workspace/b"}),
            ),
            (
                json!({"src": "/workspace/a", "dst": null}),
                json!({"src": "/workspace/a", "dst": null}),
            ),
        ] {
            let mut args = given;
            d.fill(Some(&json!("copy_file")), &mut args);
            assert_eq!(args, judged);
        }
        // Another tool, or arguments that are not an object: unchanged.
        let mut args = json!({});
        d.fill(Some(&json!("ping")), &mut args);
        assert_eq!(args, json!({}));
        let mut args = json!("x");
        d.fill(Some(&json!("copy_file")), &mut args);
        assert_eq!(args, json!("x"));
        // A request of the server's own under a listing's id is not its
        // answer; the answer, its id spelled 3.0 for 3, is.
        d.client_sent(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}));
        let request = json!({"jsonrpc": "2.0", "id": 3, "method": "sampling/createMessage", "params": {"tools": [], "result": {}}});
        d.server_sent(request.to_string().as_bytes());
        let changed = String::from_utf8(listing(json!(3.0)))
            .unwrap()
            .replace("/etc/cron.d/job", "/etc/other");
        d.server_sent(changed.as_bytes());
        let mut args = json!({});
        d.fill(Some(&json!("copy_file")), &mut args);
        assert_eq!(args["dst"], "/etc/other");
        // The id was answered once: a second answer to it is not read.
        let again = String::from_utf8(listing(json!(2)))
            .unwrap()
            .replace("/etc/cron.d/job", "/x");
        d.server_sent(again.as_bytes());
        let mut args = json!({});
        d.fill(Some(&json!("copy_file")), &mut args);
        assert_eq!(args["dst"], "/etc/other");
    }

    #[test]
    fn listings_never_answered_do_not_stop_later_ones_being_read() {
        let d = ToolDefaults::default();
        for i in 0..(MAX_AWAITED as u64 + 10) {
            d.client_sent(&json!({"jsonrpc": "2.0", "id": i, "method": "tools/list"}));
            // Error answers end a listing too.
            if i % 2 == 0 {
                d.server_sent(
                    json!({"jsonrpc": "2.0", "id": i, "error": {"code": -1, "message": "tools"}})
                        .to_string()
                        .as_bytes(),
                );
            }
        }
        d.client_sent(&json!({"jsonrpc": "2.0", "id": "last", "method": "tools/list"}));
        d.server_sent(&listing(json!("last")));
        let mut args = json!({});
        d.fill(Some(&json!("copy_file")), &mut args);
        assert_eq!(args["dst"], "/etc/cron.d/job");
    }
}
