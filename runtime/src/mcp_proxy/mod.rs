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
//! pass through byte for byte (but for line breaks of other readers inside a
//! line, respelled: `session::one_line`). A line that is not JSON gets a `-32700` parse
//! error and is not forwarded; so does a message with a repeated key (peers
//! disagree on which copy wins, so the proxy and the server could read two
//! different calls). Server → client lines pass through unchanged. The
//! proxy exits with the server's exit status; the client closing stdin closes
//! the server's stdin, and the proxy then waits for the server.
//!
//! Interactive approval ([`session`], [`elicit`]): a `require_approval` call
//! that the policy lets be approved interactively is held while the proxy
//! asks the client (MCP `elicitation/create`); other traffic keeps flowing
//! both ways meanwhile, and a third thread answers the held calls whose
//! question was not answered in time.

mod decider;
mod defaults;
mod elicit;
mod session;

use crate::cli_args::{options, read_verified, DeadlineArgs, TrustArgs};
use crate::serve::log::Logger;
use clap::Args;
use gait_run::exit;
use gait_run::keys::KeyPair;
use gait_run::tables::Scratch;
use serde_json::{Map, Value};
use session::{Out, Session};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// How long an interactive approval (MCP elicitation) may take before
    /// the call is refused as not approved (seconds, 1 to 3600).
    #[arg(long, value_name = "SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    elicitation_timeout_secs: u64,
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
    let gate = decider::Gate {
        bundle,
        context,
        simulate: args.simulate,
        trace,
        decision_timeout: args.deadline.limit(),
        scratch: Scratch::default(),
        logging: log.is_some(),
        unrooted_relative_paths: false,
        defaults: defaults::ToolDefaults::default(),
    };
    let listed = gate.defaults.clone();
    let ids = match elicit::IdSpace::new() {
        Ok(ids) => ids,
        Err(e) => return fail(e, exit::INTERNAL),
    };
    let mut session = Session::new(
        gate,
        ids,
        Duration::from_secs(args.elicitation_timeout_secs),
    );
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
        let (child, out, log) = (child, out.clone(), log.clone());
        std::thread::spawn(move || {
            let mut reader = BufReader::with_capacity(64 * 1024, server_out);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        // Read before the client has it: a call the
                        // client makes from this listing is judged with
                        // its defaults.
                        listed.server_sent(&line);
                        write_line(&out, &line);
                    }
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
    // Held calls whose question was not answered in time.
    {
        let (pending, out, log) = (session.pending(), out.clone(), log.clone());
        std::thread::spawn(move || {
            while let Some(expired) = pending.wait_expired() {
                let outs = session::timed_out(expired, Instant::now());
                emit(outs, None, &out, log.as_deref());
            }
        });
    }
    client_to_server(&mut session, server_in, &out, log.as_deref());
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

/// Writes what the session asked for: to the server (`None` once it is
/// gone), the client, the log.
fn emit(
    outs: Vec<Out>,
    mut server_in: Option<&mut Option<std::io::BufWriter<ChildStdin>>>,
    out: &Mutex<std::io::Stdout>,
    log: Option<&Logger>,
) {
    for o in outs {
        match o {
            Out::Server(line) => {
                if let Some(slot) = server_in.as_deref_mut() {
                    let ok = slot
                        .as_mut()
                        .is_some_and(|w| w.write_all(&line).and_then(|()| w.flush()).is_ok());
                    if !ok {
                        // The server is gone; its thread ends the proxy.
                        *slot = None;
                    }
                }
            }
            Out::Client(msg) => {
                let mut bytes = msg.to_string().into_bytes();
                bytes.push(b'\n');
                write_line(out, &bytes);
            }
            Out::Log(fields) => {
                if let Some(l) = log {
                    l.event("decision", fields);
                }
            }
        }
    }
}

fn client_to_server<D: session::Decide>(
    session: &mut Session<D>,
    server_in: ChildStdin,
    out: &Mutex<std::io::Stdout>,
    log: Option<&Logger>,
) {
    let mut server_in = Some(std::io::BufWriter::new(server_in));
    let stdin = std::io::stdin();
    let mut reader = stdin.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        let outs = match read_line_bounded(&mut reader, &mut line, MAX_LINE) {
            Ok(Line::Eof) | Err(_) => break,
            Ok(Line::TooLong) => vec![Out::Client(session::parse_error(&format!(
                "the line is longer than {MAX_LINE} bytes"
            )))],
            Ok(Line::Complete) => session.handle(&line, Instant::now()),
        };
        emit(outs, Some(&mut server_in), out, log);
    }
    emit(session.close(Instant::now()), None, out, log);
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
