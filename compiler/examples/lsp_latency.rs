//! How long after a change `gaitc lsp` publishes diagnostics, on a generated
//! 1,000-line policy. Not a test: it prints figures.
//!
//! ```text
//! cargo build --release -p gaitc
//! cargo run --release -p gaitc --example lsp_latency -- target/release/gaitc [CHANGES] [DEBOUNCE_MS]
//! ```
//!
//! It starts `GAITC lsp`, opens the policy, then sends CHANGES (default 100)
//! full-text changes, each editing one rule (every other change introduces an
//! error, the next removes it), and measures from writing each `didChange` to
//! reading the `publishDiagnostics` of that version. Changes are sent one at a
//! time, so each measurement includes one debounce (DEBOUNCE_MS, default the
//! server's 20 ms) plus one full check.

#[path = "../tests/lsp_support/reader.rs"]
mod reader;

use serde_json::{json, Value};
use std::io::Write;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// A policy of exactly `lines` lines: sets, then rules of 6 lines each.
fn policy(lines: usize) -> String {
    let mut out = String::from(
        "policy \"latency\" version \"1.0.0\"\n\ndefault block\n\nimport std.secrets\n\n\
         let ws: paths = [\"/workspace/**\", \"/tmp/agent/**\"]\n\
         let hosts: domains = [\"api.github.com\", \"*.stripe.com\", \"pypi.org\"]\n",
    );
    let mut i = 0;
    while out.lines().count() + 7 <= lines {
        let verdict = ["allow", "block", "require_approval"][i % 3];
        let cond = match i % 4 {
            0 => format!("tool == \"tool_{i}\" and all path in ws"),
            1 => format!("tool == \"tool_{i}\" and any domain in hosts"),
            2 => format!("tool == \"tool_{i}\" and any endpoint in [fs.write, fs.delete]"),
            _ => format!("tool == \"tool_{i}\" and any path in secrets.credentials"),
        };
        let cond = if verdict == "allow" {
            cond.replace("any ", "all ")
        } else {
            cond.replace("all ", "any ")
        };
        out.push_str(&format!(
            "\nrule r{i} priority {} {{\n  when {cond}\n  then {verdict}\n  reason \"r{i}\"\n}}\n",
            10 + (i % 10) * 10
        ));
        i += 1;
    }
    while out.lines().count() < lines {
        out.push_str("# padding\n");
    }
    out
}

struct Server {
    stdin: ChildStdin,
    rx: Receiver<Value>,
}

impl Server {
    fn send(&mut self, v: &Value) -> Result<(), String> {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .and_then(|_| self.stdin.flush())
            .map_err(|e| format!("write to gaitc lsp: {e}"))
    }

    fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Result<Value, String> {
        loop {
            let m = self
                .rx
                .recv_timeout(Duration::from_secs(60))
                .map_err(|_| format!("no {what} within 60 s"))?;
            if pred(&m) {
                return Ok(m);
            }
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let gaitc = args
        .next()
        .unwrap_or_else(|| "target/release/gaitc".to_owned());
    let changes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let debounce: Option<u64> = args.next().and_then(|a| a.parse().ok());

    let dir = std::env::temp_dir().join(format!("gaitc-lsp-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("latency.gaitpol");
    let text = policy(1000);
    std::fs::write(&path, &text).map_err(|e| e.to_string())?;
    let uri = url::Url::from_file_path(&path)
        .map_err(|_| "bad path".to_owned())?
        .to_string();

    let mut child = Command::new(&gaitc)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {gaitc} lsp: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let rx = reader::spawn_reader(stdout);
    let mut s = Server { stdin, rx };
    let mut init = json!({"cacheDir": dir.join("cache")});
    if let Some(ms) = debounce {
        init["debounceMs"] = json!(ms);
    }
    s.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                   "params": {"processId": null, "rootUri": null, "capabilities": {}, "initializationOptions": init}}))?;
    s.wait("initialize response", |m| m["id"] == 1)?;
    s.send(&json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}))?;

    let opened = Instant::now();
    s.send(&json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                   "params": {"textDocument": {"uri": uri, "languageId": "gaitpol", "version": 1, "text": text}}}))?;
    let first = s.wait("diagnostics on open", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 1
    })?;
    let open_ms = opened.elapsed().as_secs_f64() * 1e3;
    let errors_on_open = first["params"]["diagnostics"]
        .as_array()
        .map(|d| d.iter().filter(|d| d["severity"] == 1).count())
        .unwrap_or(0);

    let mut times = Vec::with_capacity(changes);
    for n in 0..changes {
        let version = n as i64 + 2;
        // Every other change breaks rule r{k} (`then allw`), the next one restores it.
        let k = n / 2 % 100;
        let edited = if n % 2 == 0 {
            text.replacen(
                &format!("reason \"r{k}\""),
                &format!("reason \"r{k}\"\n  then allw"),
                1,
            )
        } else {
            text.clone()
        };
        let sent = Instant::now();
        s.send(
            &json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
                       "params": {"textDocument": {"uri": uri, "version": version},
                                  "contentChanges": [{"text": edited}]}}),
        )?;
        let m = s.wait("diagnostics after a change", |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version
        })?;
        times.push(sent.elapsed().as_secs_f64() * 1e3);
        let got = m["params"]["diagnostics"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        if n % 2 == 0 && got == 0 {
            return Err(format!("change {version}: the error was not reported"));
        }
    }
    s.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}))?;
    s.wait("shutdown response", |m| m["id"] == 2)?;
    s.send(&json!({"jsonrpc": "2.0", "method": "exit", "params": null}))?;
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);

    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "policy: {} lines, {} errors on open; first diagnostics after open: {open_ms:.1} ms",
        text.lines().count(),
        errors_on_open
    );
    println!(
        "change → publishDiagnostics over {} changes (debounce {}): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        times.len(),
        debounce.map(|d| format!("{d} ms")).unwrap_or_else(|| "default 20 ms".to_owned()),
        pct(0.5),
        pct(0.95),
        pct(1.0)
    );
    Ok(())
}
