//! `gait-run mcp-proxy`: a stdio MCP proxy (runtime.md §8, docs/integration/mcp_proxy.md).
//!
//! The client talks newline-delimited JSON-RPC 2.0 on the proxy's stdin and
//! stdout; the proxy spawns the server and talks to it on the server's stdin
//! and stdout (its stderr is inherited). Each direction is one thread reading
//! whole lines, so order is kept both ways, and every line is written with
//! one locked write.
//!
//! Client → server: every `tools/call` (alone or inside a batch) is decided
//! with the bundle (`params.name` as the tool, `params.arguments` as the args,
//! context from the flags); `allow` forwards the line byte for byte, anything
//! else answers the client with an `isError: true` tool result naming the
//! verdict and reasons, and the call never reaches the server. Other messages
//! pass through byte for byte. A line that is not JSON gets a `-32700` parse
//! error and is not forwarded; so does a message with a repeated key (peers
//! disagree on which copy wins, so the proxy and the server could read two
//! different calls). Server → client lines pass through unchanged. The
//! proxy exits with the server's exit status; the client closing stdin closes
//! the server's stdin, and the proxy then waits for the server.

use crate::cli_args::{options, read_verified, DeadlineArgs, TrustArgs};
use crate::serve::log::Logger;
use clap::Args;
use gait_run::bundle::Verified;
use gait_run::exit;
use gait_run::gate::{self, EvalOptions, Refusal, Summary};
use gait_run::keys::KeyPair;
use gait_run::tables::Scratch;
use serde_json::{json, Map, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Arguments of `gait-run mcp-proxy`.
#[derive(Args, Debug)]
pub struct McpProxyArgs {
    /// The bundle file.
    #[arg(long)]
    bundle: PathBuf,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    deadline: DeadlineArgs,
    /// `context.identity` of every intent (who the agent acts as).
    #[arg(long)]
    identity: Option<String>,
    /// `context.risk_class` of every intent (low, medium, high, critical;
    /// without it the gate evaluates as critical).
    #[arg(long)]
    risk: Option<String>,
    /// `context.workspace`: relative paths in arguments are joined to it. It
    /// is the server's working directory (the server resolves relative paths
    /// there): by default the proxy's own, or `--server-cwd`; given, the
    /// server is started in it.
    #[arg(long)]
    workspace: Option<String>,
    /// The MCP server's working directory (default: `--workspace`, else the
    /// proxy's own). It must equal `--workspace` when both are given.
    #[arg(long, value_name = "DIR")]
    server_cwd: Option<PathBuf>,
    /// Non-enforcing: block/require_approval become allow and are forwarded.
    #[arg(long)]
    simulate: bool,
    /// Write a signed trace of every decision into this directory.
    #[arg(long, requires = "trace_key")]
    trace_dir: Option<PathBuf>,
    /// Private key signing the traces.
    #[arg(long, requires = "trace_dir")]
    trace_key: Option<PathBuf>,
    /// Write one JSON line per decision to this file (schema gait.serve.log).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// The MCP server to spawn, after `--`: `-- npx @modelcontextprotocol/server-filesystem /ws`.
    #[arg(last = true, required = true, value_name = "SERVER_CMD")]
    server: Vec<String>,
}

/// The server's working directory, absolute: `--server-cwd`, else
/// `--workspace`, else the proxy's own; the two flags must agree.
fn server_cwd(args: &McpProxyArgs) -> Result<PathBuf, String> {
    let absolute = |p: &std::path::Path, flag: &str| -> Result<PathBuf, String> {
        if p.is_absolute() {
            Ok(p.to_path_buf())
        } else {
            Err(format!(
                "{flag} must be an absolute directory, got `{}`",
                p.display()
            ))
        }
    };
    let workspace = args
        .workspace
        .as_deref()
        .map(|w| absolute(std::path::Path::new(w), "--workspace"))
        .transpose()?;
    let cwd = args
        .server_cwd
        .as_deref()
        .map(|c| absolute(c, "--server-cwd"))
        .transpose()?;
    match (workspace, cwd) {
        (Some(w), Some(c)) if w != c => Err(format!(
            "--workspace {} and --server-cwd {} differ: relative paths would be judged in one directory and opened in the other",
            w.display(),
            c.display()
        )),
        (Some(w), _) => Ok(w),
        (None, Some(c)) => Ok(c),
        (None, None) => std::env::current_dir()
            .map_err(|e| format!("cannot read the working directory: {e}")),
    }
}

/// Longest client line read (a longer one is answered with a parse error and skipped).
const MAX_LINE: usize = 64 * 1024 * 1024;

/// What the client → server thread does with one line.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    /// Write the line, unchanged, to the server.
    Forward,
    /// Answer the client with this JSON text; the server sees nothing.
    Reply(String),
    /// Neither (a blank line, or a notification that was not allowed).
    Drop,
}

/// The decision side of the proxy: bundle, context and options.
struct Gate {
    bundle: Verified,
    context: Map<String, Value>,
    opts: EvalOptions<'static>,
    scratch: Scratch,
    log: Option<Arc<Logger>>,
}

pub fn run(args: McpProxyArgs) -> i32 {
    // stdout is the client's channel: errors go to stderr only.
    let fail = |msg: String, code: i32| {
        eprintln!("gait-run mcp-proxy: error: {msg}");
        code
    };
    let opts = match options(&args.trust) {
        Ok(o) => o,
        Err(e) => return fail(e, exit::INVALID),
    };
    let bundle = match read_verified(&args.bundle, &opts) {
        Ok(b) => b,
        Err(rej) => return fail(rej.to_string(), exit::VERIFY),
    };
    let trace = match (&args.trace_dir, &args.trace_key) {
        (Some(dir), Some(key)) => match KeyPair::read(key) {
            Ok(k) => Some((dir.clone(), k)),
            Err(e) => return fail(format!("--trace-key: {e}"), exit::INVALID),
        },
        _ => None,
    };
    let log = match args.log.as_deref().map(|p| Logger::open(Some(p))) {
        None => None,
        Some(Ok(l)) => Some(Arc::new(l)),
        Some(Err(e)) => return fail(format!("--log: cannot open: {e}"), exit::INVALID),
    };
    // Relative paths are judged where the server resolves them: its
    // working directory is the intent's workspace.
    let server_cwd = match server_cwd(&args) {
        Ok(dir) => dir,
        Err(e) => return fail(e, exit::INVALID),
    };
    let workspace = Some(server_cwd.to_string_lossy().into_owned());
    let mut context = Map::new();
    for (k, v) in [
        ("identity", &args.identity),
        ("risk_class", &args.risk),
        ("workspace", &workspace),
    ] {
        if let Some(v) = v {
            context.insert(k.into(), Value::from(v.as_str()));
        }
    }
    let mut gate = Gate {
        bundle,
        context,
        opts: EvalOptions {
            simulate: args.simulate,
            explain: false,
            trace,
            decision_timeout: args.deadline.limit(),
            approvals: Default::default(),
        },
        scratch: Scratch::default(),
        log,
    };
    let Some((program, rest)) = args.server.split_first() else {
        return fail("no server command after `--`".into(), exit::INVALID);
    };
    let mut child = match Command::new(program)
        .args(rest)
        .current_dir(&server_cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return fail(format!("cannot start `{program}`: {e}"), exit::INTERNAL),
    };
    let (Some(server_in), Some(server_out)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        return fail("the server's stdio is not piped".into(), exit::INTERNAL);
    };
    let child = Arc::new(Mutex::new(child));
    let out = Arc::new(Mutex::new(std::io::stdout()));
    // Server → client; when the server's stdout ends, the proxy ends with the
    // server's exit status.
    let server_thread = {
        let (child, out, log) = (child, out.clone(), gate.log.clone());
        std::thread::spawn(move || {
            let mut reader = BufReader::with_capacity(64 * 1024, server_out);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => write_line(&out, &line),
                }
            }
            let code = match child.lock() {
                Ok(mut c) => wait_code(&mut c),
                Err(_) => exit::INTERNAL,
            };
            if let Ok(mut o) = out.lock() {
                let _ = o.flush();
            }
            if let Some(l) = log {
                l.close();
            }
            std::process::exit(code);
        })
    };
    client_to_server(&mut gate, server_in, &out);
    // stdin ended and the server's stdin is closed: the server thread exits
    // the process once the server has exited.
    let _ = server_thread.join();
    exit::INTERNAL
}

fn wait_code(child: &mut Child) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match child.wait() {
        Ok(s) => s
            .code()
            .or_else(|| s.signal().map(|sig| 128 + sig))
            .unwrap_or(exit::INTERNAL),
        Err(_) => exit::INTERNAL,
    }
}

fn write_line(out: &Mutex<std::io::Stdout>, bytes: &[u8]) {
    if let Ok(mut o) = out.lock() {
        let _ = o.write_all(bytes);
        let _ = o.flush();
    }
}

fn client_to_server(gate: &mut Gate, server_in: ChildStdin, out: &Mutex<std::io::Stdout>) {
    let mut server_in = Some(std::io::BufWriter::new(server_in));
    let stdin = std::io::stdin();
    let mut reader = stdin.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        let action = match read_line_bounded(&mut reader, &mut line, MAX_LINE) {
            Ok(Line::Eof) | Err(_) => break,
            Ok(Line::TooLong) => Action::Reply(parse_error(&format!(
                "the line is longer than {MAX_LINE} bytes"
            ))),
            Ok(Line::Complete) => gate.handle(&line),
        };
        match action {
            Action::Forward => {
                let ok = server_in
                    .as_mut()
                    .is_some_and(|w| w.write_all(&line).and_then(|()| w.flush()).is_ok());
                if !ok {
                    // The server is gone; its thread ends the proxy.
                    server_in = None;
                }
            }
            Action::Reply(text) => {
                let mut bytes = text.into_bytes();
                bytes.push(b'\n');
                write_line(out, &bytes);
            }
            Action::Drop => {}
        }
    }
    // Dropping the writer closes the server's stdin.
    drop(server_in);
}

enum Line {
    Complete,
    TooLong,
    Eof,
}

/// Reads one line (with its `\n`, if any) into `buf`, keeping at most `max`
/// bytes: a longer line is consumed and reported as `TooLong`.
fn read_line_bounded(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> std::io::Result<Line> {
    let mut too_long = false;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::Eof,
                (true, true) => Line::TooLong,
                (true, false) => Line::Complete,
            });
        }
        any = true;
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !too_long {
            if buf.len() + take > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&avail[..take]);
            }
        }
        r.consume(take);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

fn parse_error(message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error", "data": message}})
        .to_string()
}

fn is_tools_call(v: &Value) -> bool {
    v.get("method").and_then(Value::as_str) == Some("tools/call")
}

impl Gate {
    fn handle(&mut self, line: &[u8]) -> Action {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            return Action::Drop;
        }
        // One strict parse: a repeated key in any object is a parse error
        // (the server and the gate might read different copies).
        let msg: Value = match gait_run::json::Json::parse(text) {
            Ok(v) => v.to_value(),
            Err(e) => return Action::Reply(parse_error(&format!("not JSON: {e}"))),
        };
        let oversize = text.len() > gait_run::normalize::MAX_INTENT_BYTES;
        match &msg {
            Value::Object(_) if is_tools_call(&msg) => {
                let outcome = self.decide(&msg, oversize);
                if allowed(&outcome) {
                    Action::Forward
                } else {
                    match msg.get("id") {
                        Some(id) => Action::Reply(blocked_reply(id, &msg, &outcome).to_string()),
                        None => Action::Drop,
                    }
                }
            }
            // JSON-RPC 2.0: a batch is a non-empty list of request objects.
            // Anything else (a nested list above all, which could hide a
            // tools/call from the check below) is refused, not forwarded.
            Value::Array(items) if items.is_empty() || items.iter().any(|m| !m.is_object()) => {
                Action::Reply(
                    json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600,
                        "message": "Invalid Request: a batch is a non-empty list of request objects"}})
                    .to_string(),
                )
            }
            Value::Array(items) if items.iter().any(is_tools_call) => {
                // Every call of the batch is decided (and logged); the batch
                // goes through only when all are allowed. Otherwise nothing of
                // it is forwarded and the proxy answers each request in it.
                let outcomes: Vec<Option<Decided>> = items
                    .iter()
                    .map(|m| is_tools_call(m).then(|| self.decide(m, oversize)))
                    .collect();
                if outcomes.iter().flatten().all(allowed) {
                    return Action::Forward;
                }
                let replies: Vec<Value> = items
                    .iter()
                    .zip(&outcomes)
                    .filter_map(|(m, o)| {
                        let id = m.get("id")?;
                        Some(match o {
                            Some(o) if !allowed(o) => blocked_reply(id, m, o),
                            _ => json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600,
                                "message": "not forwarded: this batch holds a tools/call that the policy did not allow"}}),
                        })
                    })
                    .collect();
                if replies.is_empty() {
                    Action::Drop
                } else {
                    Action::Reply(Value::Array(replies).to_string())
                }
            }
            _ => Action::Forward,
        }
    }

    /// Decides one `tools/call` message.
    /// `oversize`: the line is larger than an intent may be
    /// (`normalize::MAX_INTENT_BYTES`); its calls are invalid intents, as at
    /// the other gates, and are not evaluated.
    fn decide(&mut self, msg: &Value, oversize: bool) -> Decided {
        let started = Instant::now();
        let params = msg.get("params");
        let mut intent = Map::new();
        if let Some(name) = params.and_then(|p| p.get("name")) {
            intent.insert("tool_name".into(), name.clone());
        }
        let args = match params.and_then(|p| p.get("arguments")) {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(a) => a.clone(),
        };
        intent.insert("args".into(), args);
        intent.insert("context".into(), Value::Object(self.context.clone()));
        let mut result = Vec::with_capacity(1024);
        // A bundle past its not_after decides nothing more: block.
        let summary = match self.bundle.info.expired_at(gait_run::time::now().0) {
            Some(rej) => gate::refuse(&mut result, Refusal::Rejected(&rej), Some(&self.bundle)),
            None if oversize => {
                let err = gait_run::normalize::IntentError {
                    field: "intent".into(),
                    message: format!(
                        "larger than {} bytes",
                        gait_run::normalize::MAX_INTENT_BYTES
                    ),
                    code: None,
                };
                gate::refuse(&mut result, Refusal::Invalid(&err), Some(&self.bundle))
            }
            // The intent's text, decided by the one gate entry like any other.
            None => match serde_json::to_vec(&Value::Object(intent)) {
                Ok(text) => gate::evaluate(
                    &self.bundle,
                    &text,
                    &self.opts,
                    &mut self.scratch,
                    &mut result,
                ),
                Err(e) => {
                    let msg = format!("cannot write the intent: {e}");
                    gate::refuse(&mut result, Refusal::Internal(&msg), Some(&self.bundle))
                }
            },
        };
        if let Some(log) = &self.log {
            let verdict = summary.verdict.as_str();
            let trace_id = summary
                .intent_digest
                .as_deref()
                .map(|d| gate::trace_id(&self.bundle.policy_digest, d, verdict));
            let mut f = Map::new();
            f.insert("trace_id".into(), json!(trace_id));
            f.insert(
                "tool_name".into(),
                params
                    .and_then(|p| p.get("name"))
                    .cloned()
                    .unwrap_or(Value::Null),
            );
            f.insert("verdict".into(), json!(verdict));
            f.insert("forwarded".into(), json!(summary.allowed()));
            f.insert("reason_codes".into(), json!(summary.reason_codes));
            f.insert("endpoint_classes".into(), json!(summary.endpoint_classes));
            f.insert(
                "latency_us".into(),
                json!(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)),
            );
            f.insert("policy_digest".into(), json!(self.bundle.policy_digest));
            f.insert("intent_digest".into(), json!(summary.intent_digest));
            log.event("decision", f);
        }
        Decided { summary, result }
    }
}

/// A `tools/call` decided: the gate's summary and its result bytes.
struct Decided {
    summary: Summary,
    result: Vec<u8>,
}

fn allowed(o: &Decided) -> bool {
    // `dry_run` is not `allow`: the call is not executed.
    o.summary.allowed()
}

/// The tool result answering a call that was not allowed.
fn blocked_reply(id: &Value, msg: &Value, o: &Decided) -> Value {
    let s = &o.summary;
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
    let structured: Value = serde_json::from_slice(&o.result).unwrap_or(Value::Null);
    json!({"jsonrpc": "2.0", "id": id, "result": {
        "content": [{"type": "text", "text": text}],
        "isError": true,
        "structuredContent": structured,
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_lines() {
        let mut r = std::io::Cursor::new(b"abc\n0123456789\nxy".to_vec());
        let mut b = Vec::new();
        assert!(matches!(
            read_line_bounded(&mut r, &mut b, 5),
            Ok(Line::Complete)
        ));
        assert_eq!(b, b"abc\n");
        b.clear();
        assert!(matches!(
            read_line_bounded(&mut r, &mut b, 5),
            Ok(Line::TooLong)
        ));
        b.clear();
        assert!(matches!(
            read_line_bounded(&mut r, &mut b, 5),
            Ok(Line::Complete)
        ));
        assert_eq!(b, b"xy");
        b.clear();
        assert!(matches!(
            read_line_bounded(&mut r, &mut b, 5),
            Ok(Line::Eof)
        ));
    }
}
