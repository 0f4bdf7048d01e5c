//! The `gait-run` command line.

mod approve;
mod cli_args;
mod mcp_proxy;
mod serve;
mod stores;

use clap::{Args, Parser, Subcommand};
use cli_args::{options, read_verified, DeadlineArgs, TrustArgs};
use gait_run::approval::ReplayStore;
use gait_run::exit;
use gait_run::gate::{self, Refusal};
use gait_run::keys::{KeyPair, PublicKey};
use gait_run::normalize::IntentError;
use gait_run::tables::Scratch;
use serde_json::json;
use std::path::PathBuf;

/// The runtime of the Gait policy toolchain: verifies signed policy bundles
/// and decides agents' tool calls with them.
///
/// Exit codes: 0 ok/allow, 1 internal, 2 verification failed, 3 blocked,
/// 4 approval required, 6 invalid input.
#[derive(Parser, Debug)]
#[command(name = "gait-run", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a bundle without evaluating anything.
    ///
    /// Checks, in order: structure and format version, payload digest,
    /// signatures against the trusted keys, --pin, not_after, --min-revision,
    /// and the payload's tables. Prints a JSON report; exit 0 or 2 with a
    /// stable code (bundle_malformed, bundle_format_unsupported,
    /// bundle_payload_digest_mismatch, bundle_unsigned, bundle_key_untrusted,
    /// bundle_signature_invalid, bundle_pin_mismatch, bundle_expired,
    /// bundle_revision_rollback).
    ///
    /// Example:
    ///   gait-run verify payments.gaitb --trust release.pub
    Verify {
        /// The bundle file.
        bundle: PathBuf,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Decide one intent: verify the bundle, normalize the intent, evaluate.
    ///
    /// Prints the result JSON (gait.gate.result) on stdout. Exit codes: 0 allow
    /// or dry_run, 3 block, 4 require_approval, 2 bundle rejected, 6 invalid
    /// intent or usage, 1 internal error. Every failure answers `block`.
    ///
    /// Examples:
    ///   gait-run eval --bundle p.gaitb --trust release.pub --intent intent.json
    ///   cat intent.json | gait-run eval --bundle p.gaitb --trust release.pub --explain
    Eval(EvalArgs),
    /// Sign an approval token for a require_approval result (approvers only).
    ///
    /// Reads the result's approval_request (intent digest, policy digest and
    /// revision, contributing rules, allowed approvers, the policy's
    /// approval_ttl) and writes a gait.approval_token signed with KEY: bound
    /// to that one intent and policy, valid for --ttl, usable once. Hand it to
    /// `gait-run eval --approval-token FILE` or the sidecar's approval_tokens.
    /// Refuses (exit 6) a result whose verdict is not require_approval, an
    /// approver not allowed by the request, and a --ttl over the policy's.
    ///
    /// Give the intent and the bundle (--intent FILE --bundle FILE, with the
    /// bundle's --trust as for eval): approve then reads the intent as the
    /// gate does, refuses a request whose intent digest or policy digest is
    /// not the intent's and the bundle's, and shows what the intent says
    /// (tool, endpoint classes, targets, skill provenance). Without them, what
    /// is shown comes from the result file, unverified: a warning says so.
    ///
    /// Example:
    ///   gait-run eval --bundle p.gaitb --trust release.pub --intent i.json > result.json   # exit 4
    ///   gait-run approve --request result.json --intent i.json --bundle p.gaitb --trust release.pub \
    ///       --key alice.key --approver alice --ttl 10m -o alice.token.json
    ///   gait-run eval --bundle p.gaitb --trust release.pub --intent i.json --approval-token alice.token.json
    #[command(verbatim_doc_comment)]
    Approve(approve::ApproveArgs),
    /// In-process decision latency per endpoint class (intent JSON text in,
    /// result out), after warm-up; prints a gait.perf.eval_report JSON.
    ///
    /// Without --intents, representative built-in intents (one per endpoint
    /// class) are used.
    ///
    /// Example:
    ///   gait-run bench --bundle p.gaitb --trust release.pub --iterations 20000 --report perf.json
    Bench {
        /// The bundle file.
        #[arg(long)]
        bundle: PathBuf,
        #[command(flatten)]
        trust: TrustArgs,
        /// A directory of intent JSON files to time (default: built-in intents).
        #[arg(long)]
        intents: Option<PathBuf>,
        /// Timed decisions per intent.
        #[arg(long, default_value_t = 10_000)]
        iterations: usize,
        /// Also write the report to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// HTTP sidecar: POST /v1/eval, GET /healthz, GET /metrics.
    ///
    /// POST /v1/eval takes an intent and answers the result — or
    /// {"intent": {...}, "approval_tokens": [TOKEN, ...]} to have approval
    /// tokens judged with the shared --approval-store; /metrics is in
    /// Prometheus text format. The bundle is reloaded on SIGHUP and when its
    /// file changes, verified first: a rejected one keeps the old serving.
    ///
    /// HTTP 200 for every verdict, 400 invalid intent, 413 body over the cap,
    /// 415 not application/json, 401 without the bearer token (when one is
    /// set), 404/405 other routes/methods. One JSON log line per decision.
    /// Exit: 0 after a graceful shutdown (SIGTERM/SIGINT), 2 bundle rejected
    /// at start, 6 usage (e.g. a non-loopback --listen without
    /// --auth-token-env), 1 internal.
    ///
    /// Example:
    ///   gait-run serve --bundle p.gaitb --trust release.pub --listen 127.0.0.1:8787
    Serve(serve::ServeArgs),
    /// MCP stdio proxy: spawns the server and gates every tools/call.
    ///
    /// Newline-delimited JSON-RPC 2.0 between the client (this process's
    /// stdin/stdout) and the server. A tools/call the policy allows is
    /// forwarded unchanged; any other verdict is answered to the client as a
    /// tool result with isError: true and never reaches the server.
    /// Everything else passes through unchanged, in order, both ways. Exits
    /// with the server's exit status (2 bundle rejected, 6 usage).
    ///
    /// Example:
    ///   gait-run mcp-proxy --bundle p.gaitb --trust release.pub --risk low --workspace /ws -- mcp-server-filesystem /ws
    McpProxy(mcp_proxy::McpProxyArgs),
    /// Signed decision traces.
    Trace {
        #[command(subcommand)]
        command: TraceCommand,
    },
}

/// Arguments of `gait-run eval`.
#[derive(Args, Debug)]
struct EvalArgs {
    /// The bundle file.
    #[arg(long)]
    bundle: PathBuf,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    deadline: DeadlineArgs,
    /// The intent (Gait IntentRequest JSON); `-` or absent reads stdin.
    #[arg(long, default_value = "-")]
    intent: PathBuf,
    /// Non-enforcing: block/require_approval become allow (with
    /// simulated_verdict and would_have_blocked); exit 0.
    #[arg(long)]
    simulate: bool,
    /// Add the normalized targets and, for the first two tiers, which
    /// atoms of each rule held.
    #[arg(long)]
    explain: bool,
    /// Write a signed trace (trace_<id>.json) into this directory.
    #[arg(long, requires = "trace_key")]
    trace_dir: Option<PathBuf>,
    /// Private key signing the trace.
    #[arg(long, requires = "trace_dir")]
    trace_key: Option<PathBuf>,
    /// An approval token file (`gait-run approve`; repeat for several
    /// approvers). Enough valid tokens from distinct allowed approvers turn
    /// require_approval into allow (reason approval_granted) and are used
    /// up; otherwise each token's code is in the result's `approval`. Never
    /// turns a block.
    #[arg(long = "approval-token", value_name = "FILE")]
    approval_token: Vec<PathBuf>,
    /// Where used token ids are recorded (single use): a file path, or
    /// redis://HOST:PORT for a fleet. Default: approvals.db in the user's
    /// state directory ($GAIT_STATE_DIR, else $XDG_STATE_HOME/gait, else
    /// ~/.local/state/gait). Opened only when tokens are given; unusable →
    /// approval_store_unavailable.
    #[arg(long, value_name = "SPEC", requires = "approval_token")]
    approval_store: Option<String>,
}

#[derive(Subcommand, Debug)]
enum TraceCommand {
    /// Verify a trace's signature against trusted keys (exit 0 or 2).
    Verify {
        /// The trace file.
        file: PathBuf,
        /// Trusted public key file (repeatable).
        #[arg(long = "trust", value_name = "PUBFILE", required = true)]
        trust: Vec<PathBuf>,
    },
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::INVALID,
            };
            // A caller of `eval` reads stdout: even a usage error answers block.
            if code != exit::OK && std::env::args().nth(1).as_deref() == Some("eval") {
                let err = IntentError {
                    field: "arguments".into(),
                    message: e.kind().to_string(),
                    code: None,
                };
                let mut out = Vec::new();
                gate::refuse(&mut out, Refusal::Invalid(&err), None);
                // Not written: the exit code says invalid input anyway.
                let _ = print_result(&out);
            }
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match cli.command {
        Command::Verify { bundle, trust } => verify(&bundle, &trust),
        Command::Eval(args) => eval(args),
        Command::Approve(args) => approve::run(args),
        Command::Serve(args) => serve::run(args),
        Command::McpProxy(args) => mcp_proxy::run(args),
        Command::Bench {
            bundle,
            trust,
            intents,
            iterations,
            report,
        } => bench(
            &bundle,
            &trust,
            intents.as_deref(),
            iterations,
            report.as_deref(),
        ),
        Command::Trace {
            command: TraceCommand::Verify { file, trust },
        } => trace_verify(&file, &trust),
    };
    std::process::exit(code);
}

/// Prints a result (the gate's compact bytes) indented for people. The
/// bytes are the gate's own; a result that does not read back (never
/// expected) is printed as it is.
/// Prints a result, pretty; false when it cannot be written (see [`say`]).
fn print_result(result: &[u8]) -> bool {
    match serde_json::from_slice::<serde_json::Value>(result)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
    {
        Some(text) => say(text),
        None => say(String::from_utf8_lossy(result)),
    }
}

/// Writes `text` and a newline to standard output. False, with the cause
/// on standard error, when the write fails (a pipe whose reader is gone, a
/// full disk): a command that would have exited 0 then exits 1 (internal)
/// — whoever reads the output did not get it, and an allow is not
/// answered without its result; a refusal keeps its own code. (A write the
/// system takes is not seen failing: into a pipe's buffer whose reader
/// leaves later, or to a closed descriptor, which Rust's standard output
/// treats as a sink.)
pub(crate) fn say(text: impl std::fmt::Display) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("error: the output cannot be written to standard output: {e}");
            false
        }
    }
}

fn eval(args: EvalArgs) -> i32 {
    let EvalArgs {
        bundle: bundle_path,
        trust,
        deadline,
        intent,
        simulate,
        explain,
        trace_dir,
        trace_key,
        approval_token,
        approval_store,
    } = args;
    let mut out = Vec::with_capacity(1024);
    // Prints the result, its error on stderr, and answers its exit code.
    let answer = |summary: gate::Summary, out: &[u8]| {
        if let Some(err) = &summary.error {
            eprintln!("error: {err}");
        }
        if !print_result(out) && summary.exit == exit::OK {
            return exit::INTERNAL;
        }
        // (Under --simulate the gate already answers allow, and so exit 0.)
        summary.exit
    };
    let usage = |msg: String, out: &mut Vec<u8>| {
        let err = IntentError {
            field: "arguments".into(),
            message: msg,
            code: None,
        };
        gate::refuse(out, Refusal::Invalid(&err), None)
    };
    let opts = match options(&trust) {
        Ok(o) => o,
        Err(e) => {
            let s = usage(e, &mut out);
            return answer(s, &out);
        }
    };
    let trace = match (trace_dir, trace_key) {
        (Some(dir), Some(key)) => match KeyPair::read(&key) {
            Ok(k) => Some((dir, k)),
            Err(e) => {
                let s = usage(format!("--trace-key: {e}"), &mut out);
                return answer(s, &out);
            }
        },
        _ => None,
    };
    let mut tokens = Vec::with_capacity(approval_token.len());
    for f in &approval_token {
        match read_token_file(f) {
            Ok(t) => tokens.push(t),
            Err(e) => {
                let s = usage(e, &mut out);
                return answer(s, &out);
            }
        }
    }
    let verified = match read_verified(&bundle_path, &opts) {
        Ok(v) => v,
        Err(rej) => {
            let s = gate::refuse(&mut out, Refusal::Rejected(&rej), None);
            return answer(s, &out);
        }
    };
    // The store is opened only when there are tokens to judge.
    let store = if tokens.is_empty() {
        None
    } else {
        let opened = match approval_store {
            Some(spec) => stores::open(&spec),
            None => stores::open_default(),
        };
        match opened {
            Ok(s) => Some((s, true)),
            Err(e) => {
                eprintln!("warning: the approval store cannot be opened ({e}): no token can be used (approval_store_unavailable)");
                // The decision's `approval.store_error` says why.
                Some((Box::new(stores::Unopened(e)) as Box<dyn ReplayStore>, false))
            }
        }
    };
    let text = if intent.as_os_str() == "-" {
        let mut buf = Vec::new();
        let limit = gait_run::normalize::MAX_INTENT_BYTES as u64 + 1;
        match std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), limit),
            &mut buf,
        ) {
            Ok(_) => Ok(buf),
            Err(e) => Err(format!("cannot read standard input: {e}")),
        }
    } else {
        std::fs::read(&intent).map_err(|e| format!("cannot read {}: {e}", intent.display()))
    };
    let summary = match text {
        Ok(text) => {
            let eval_opts = gate::EvalOptions {
                simulate,
                explain,
                trace,
                decision_timeout: deadline.limit(),
                approvals: gait_run::approval::Approvals {
                    tokens: &tokens.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                    store: store.as_ref().map(|(s, _)| &**s),
                    interactive: None,
                    now: None,
                },
            };
            gate::evaluate(
                &verified,
                &text,
                &eval_opts,
                &mut Scratch::default(),
                &mut out,
            )
        }
        Err(e) => {
            let err = IntentError {
                field: "intent".into(),
                message: e,
                code: None,
            };
            gate::refuse(&mut out, Refusal::Invalid(&err), Some(&verified))
        }
    };
    // A store that was opened but failed to answer: say what it said (the
    // result's `approval.store_error`; never the spec, which may hold a
    // password).
    if let (Some((_, true)), Some(e)) = (
        &store,
        summary
            .approval
            .as_ref()
            .and_then(|a| a.store_error.as_ref()),
    ) {
        eprintln!("warning: the approval store failed ({e}): no token was used (approval_store_unavailable)");
    }
    answer(summary, &out)
}

/// Reads a token file (at most one byte over the token size limit: the
/// gate's reader refuses larger ones as `approval_token_invalid`).
fn read_token_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let limit = gait_run::approval::token::MAX_TOKEN_BYTES as u64 + 1;
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit).read_to_end(&mut buf))
        .map_err(|e| format!("--approval-token: cannot read {}: {e}", path.display()))?;
    Ok(buf)
}

fn trace_verify(file: &PathBuf, trust_files: &[PathBuf]) -> i32 {
    let mut trust = Vec::new();
    for p in trust_files {
        match PublicKey::read(p) {
            Ok(k) => trust.push(k),
            Err(e) => return fail("invalid_input", &e.to_string(), exit::INVALID),
        }
    }
    let text = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) => {
            return fail(
                "trace_malformed",
                &format!("cannot read {}: {e}", file.display()),
                exit::VERIFY,
            )
        }
    };
    // The strict reader: a repeated key (a `verdict` put before the signed
    // one) is a malformed trace, not one whose last copy is verified while
    // another reader keeps the first.
    let trace: serde_json::Value = match gait_run::json::Json::parse_value(&text) {
        Ok(v) => v,
        Err(e) => return fail("trace_malformed", &format!("not JSON: {e}"), exit::VERIFY),
    };
    match gate::verify_trace(&trace, &trust) {
        Ok(key_id) => {
            let report = json!({"ok": true, "trace_id": trace["trace_id"], "verdict": trace["verdict"], "key_id": key_id});
            if say(report) {
                exit::OK
            } else {
                exit::INTERNAL
            }
        }
        Err(e) => fail(e.code, &e.message, exit::VERIFY),
    }
}

fn fail(code: &str, error: &str, exit_code: i32) -> i32 {
    // Not written: the exit code and standard error say it anyway.
    let _ = say(json!({"ok": false, "code": code, "error": error}));
    eprintln!("error: {code}: {error}");
    exit_code
}

fn verify(path: &std::path::Path, t: &TrustArgs) -> i32 {
    let opts = match options(t) {
        Ok(o) => o,
        Err(e) => return fail("invalid_input", &e, exit::INVALID),
    };
    match read_verified(path, &opts) {
        Ok(v) => {
            let report = json!({
                "ok": true,
                "policy": {"name": v.info().name, "version": v.info().version, "revision": v.info().revision},
                "policy_digest": v.policy_digest(),
                "rules": v.info().rules,
                "not_after": v.info().not_after,
                "signed_by": v.signed_by,
                "bundle_verified": v.signature_verified,
            });
            if say(report) {
                exit::OK
            } else {
                exit::INTERNAL
            }
        }
        Err(rej) => fail(rej.code.as_str(), &rej.message, exit::VERIFY),
    }
}

fn bench(
    bundle_path: &std::path::Path,
    t: &TrustArgs,
    intents: Option<&std::path::Path>,
    iterations: usize,
    report: Option<&std::path::Path>,
) -> i32 {
    let opts = match options(t) {
        Ok(o) => o,
        Err(e) => return fail("invalid_input", &e, exit::INVALID),
    };
    if iterations == 0 {
        return fail(
            "invalid_input",
            "--iterations must be at least 1",
            exit::INVALID,
        );
    }
    let verified = match read_verified(bundle_path, &opts) {
        Ok(v) => v,
        Err(rej) => return fail(rej.code.as_str(), &rej.message, exit::VERIFY),
    };
    let set = match intents {
        None => gait_run::bench::builtin_intents(),
        Some(dir) => {
            let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect(),
                Err(e) => {
                    return fail(
                        "invalid_input",
                        &format!("cannot read {}: {e}", dir.display()),
                        exit::INVALID,
                    )
                }
            };
            files.sort();
            let mut set = Vec::new();
            for f in files {
                match std::fs::read(&f) {
                    Ok(b) => set.push((f.display().to_string(), b)),
                    Err(e) => {
                        return fail(
                            "invalid_input",
                            &format!("cannot read {}: {e}", f.display()),
                            exit::INVALID,
                        )
                    }
                }
            }
            if set.is_empty() {
                return fail(
                    "invalid_input",
                    &format!("no *.json intents in {}", dir.display()),
                    exit::INVALID,
                );
            }
            set
        }
    };
    let out = gait_run::bench::run(&verified, &set, iterations);
    let text = serde_json::to_string_pretty(&out).unwrap_or_default();
    if let Some(p) = report {
        if let Err(e) = std::fs::write(p, format!("{text}\n")) {
            return fail(
                "internal",
                &format!("cannot write {}: {e}", p.display()),
                exit::INTERNAL,
            );
        }
    }
    if say(text) {
        exit::OK
    } else {
        exit::INTERNAL
    }
}
