//! `gait-run serve`: the HTTP sidecar (runtime.md §8, docs/integration/sidecar.md).
//!
//! hyper 1.x HTTP/1.1 on a multi-threaded tokio runtime. `POST /v1/eval`
//! answers a gate result (200 for every verdict, 400 invalid intent, 413 over
//! the body cap, 415 not JSON, 408 body too slow; every one of them a `block`
//! result except the 200s), `GET /healthz`, `GET /metrics`. The bundle is held
//! in an `ArcSwap`: a request takes one `Arc<Verified>` and decides with it
//! from start to end, and a reload swaps in a completely verified bundle, so
//! no request ever sees a half-loaded one.

pub mod log;
mod metrics;
mod store_slot;

use crate::cli_args::{options, read_verified, DeadlineArgs, TrustArgs};
use arc_swap::ArcSwap;
use bytes::Bytes;
use clap::Args;
use gait_run::approval::check::Outcome;
use gait_run::approval::{Approvals, ReplayStore};
use gait_run::bundle::{Verified, VerifyOptions};
use gait_run::envelope;
use gait_run::exit;
use gait_run::gate::{self, EvalOptions, Refusal, Summary};
use gait_run::keys::KeyPair;
use gait_run::normalize::IntentError;
use gait_run::tables::Scratch;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use log::Logger;
use metrics::Metrics;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store_slot::StoreSlot;
use subtle::ConstantTimeEq;
use tokio::signal::unix::{signal, SignalKind};

/// Arguments of `gait-run serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The bundle file (watched for changes and re-read on SIGHUP).
    #[arg(long)]
    bundle: PathBuf,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    deadline: DeadlineArgs,
    /// Address to listen on (`127.0.0.1:0` picks a free port; the bound address
    /// is printed on stdout as `{"listening": "ADDR"}`).
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// Environment variable holding the bearer token that /v1/eval and /metrics
    /// require (`Authorization: Bearer TOKEN`). Required when --listen is not a
    /// loopback address.
    #[arg(long, value_name = "VAR")]
    auth_token_env: Option<String>,
    /// Environment variable holding a secret (at least 32 bytes, random:
    /// `openssl rand -base64 32`) that authenticates this sidecar's answers.
    /// Every response then carries `Gait-Answer-Mac`: the hex HMAC-SHA256,
    /// under the secret, of `gait.answer.v2`, the request's `Gait-Nonce`
    /// (empty when absent), method, path, the hex SHA-256 of the request
    /// body read (of nothing when none was) and the status code, each
    /// followed by a line feed, then the body. A client given the same secret (and sending a fresh
    /// nonce) refuses any answer without a valid MAC: a process that takes
    /// the address while the sidecar is down cannot answer for it. The
    /// secret never crosses the wire, unlike the bearer token.
    #[arg(long, value_name = "VAR")]
    answer_key_env: Option<String>,
    /// Largest request body accepted; larger ones are answered 413.
    #[arg(long, default_value_t = 1024 * 1024, value_name = "BYTES")]
    max_body_bytes: usize,
    /// Time allowed to read a request's headers (then the connection is closed).
    #[arg(long, default_value_t = 5_000, value_name = "MS")]
    header_timeout_ms: u64,
    /// Time allowed to read a request's body (then 408).
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    request_timeout_ms: u64,
    /// How often the bundle file is checked for a change (size, mtime, inode);
    /// 0 turns watching off (SIGHUP still reloads).
    #[arg(long, default_value_t = 500, value_name = "MS")]
    watch_interval_ms: u64,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish.
    #[arg(long, default_value_t = 30_000, value_name = "MS")]
    shutdown_timeout_ms: u64,
    /// Write the JSON log lines (one per decision) to this file instead of stderr.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Most connections served at once; further ones wait in the listen
    /// backlog until one closes (idle keep-alive connections are closed after
    /// --header-timeout-ms).
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Worker threads (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Non-enforcing: block/require_approval become allow (as `eval --simulate`).
    #[arg(long)]
    simulate: bool,
    /// Write a signed trace (trace_<id>.json) of every decision into this directory.
    #[arg(long, requires = "trace_key")]
    trace_dir: Option<PathBuf>,
    /// Private key signing the traces.
    #[arg(long, requires = "trace_dir")]
    trace_key: Option<PathBuf>,
    /// The replay store of approval tokens (single use), shared by every
    /// request: a file path (one host, several processes), or
    /// redis://HOST:PORT (a fleet of sidecars). Opened at start (exit 6 when
    /// it cannot be). Default: approvals.db in the user's state directory,
    /// opened at the first request carrying tokens.
    #[arg(long, value_name = "SPEC")]
    approval_store: Option<String>,
}

struct State {
    bundle: ArcSwap<Verified>,
    bundle_path: PathBuf,
    verify: VerifyOptions,
    eval: EvalOptions<'static>,
    store: StoreSlot,
    /// SHA-256 of the bearer token (compared in constant time).
    token_sha256: Option<[u8; 32]>,
    /// The secret of the answers' MAC (`--answer-key-env`).
    answer_key: Option<Vec<u8>>,
    max_body: usize,
    request_timeout: Duration,
    metrics: Metrics,
    log: Logger,
    /// The heavy lane: one decision at a time on a blocking thread, for
    /// bodies over [`HEAVY_BODY_BYTES`], so that worst-case input never
    /// occupies the workers that answer `/healthz` and small requests.
    heavy: tokio::sync::Semaphore,
}

/// Bodies larger than this are decided on the heavy lane. A decision's cost
/// grows with its input (the command analysis is linear, about 0.3 µs a
/// byte at worst): below this size it stays around a millisecond even for
/// hostile input, so it runs on the worker that read it.
const HEAVY_BODY_BYTES: usize = 8 * 1024;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn startup_error(code: &str, message: &str, exit: i32) -> i32 {
    // Not written: the exit code and standard error say it anyway.
    let _ = crate::say(json!({"ok": false, "code": code, "error": message}));
    eprintln!("error: {code}: {message}");
    exit
}

/// Runs the sidecar until SIGTERM/SIGINT; returns the exit code.
pub fn run(args: ServeArgs) -> i32 {
    let verify = match options(&args.trust) {
        Ok(o) => o,
        Err(e) => return startup_error("invalid_input", &e, exit::INVALID),
    };
    let token_sha256 = match &args.auth_token_env {
        Some(var) => match std::env::var(var) {
            Ok(t) if !t.trim().is_empty() => Some(gait_run::sha256(t.trim().as_bytes())),
            _ => {
                return startup_error(
                    "invalid_input",
                    &format!("--auth-token-env {var}: the variable is unset or empty"),
                    exit::INVALID,
                )
            }
        },
        None if !args.listen.ip().is_loopback() => {
            return startup_error(
                "invalid_input",
                &format!(
                    "--listen {} is not a loopback address: give a bearer token with --auth-token-env VAR",
                    args.listen
                ),
                exit::INVALID,
            )
        }
        None => None,
    };
    let answer_key = match &args.answer_key_env {
        Some(var) => match std::env::var(var) {
            Ok(k) if k.len() >= MIN_ANSWER_KEY_BYTES => Some(k.into_bytes()),
            Ok(_) | Err(_) => {
                return startup_error(
                    "invalid_input",
                    &format!("--answer-key-env {var}: the variable is unset, not UTF-8 or shorter than {MIN_ANSWER_KEY_BYTES} bytes"),
                    exit::INVALID,
                )
            }
        },
        None => None,
    };
    if args.max_body_bytes == 0 {
        return startup_error(
            "invalid_input",
            "--max-body-bytes must be at least 1",
            exit::INVALID,
        );
    }
    let trace = match (&args.trace_dir, &args.trace_key) {
        (Some(dir), Some(key)) => match KeyPair::read(key) {
            Ok(k) => Some((dir.clone(), k)),
            Err(e) => {
                return startup_error("invalid_input", &format!("--trace-key: {e}"), exit::INVALID)
            }
        },
        _ => None,
    };
    let verified = match read_verified(&args.bundle, &verify) {
        Ok(v) => v,
        Err(rej) => return startup_error(rej.code.as_str(), &rej.message, exit::VERIFY),
    };
    let store = StoreSlot::new();
    if let Some(spec) = &args.approval_store {
        match crate::stores::open(spec) {
            Ok(s) => {
                let _ = store.store.set(Arc::from(s));
            }
            Err(e) => {
                return startup_error(
                    "approval_store_unavailable",
                    &format!("--approval-store: {e}"),
                    exit::INVALID,
                )
            }
        }
    }
    let log = match Logger::open(args.log.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            return startup_error(
                "invalid_input",
                &format!("--log: cannot open: {e}"),
                exit::INVALID,
            )
        }
    };
    let state = Arc::new(State {
        bundle: ArcSwap::from_pointee(verified),
        bundle_path: args.bundle.clone(),
        verify,
        eval: EvalOptions {
            simulate: args.simulate,
            explain: false,
            trace,
            decision_timeout: args.deadline.limit(),
            approvals: Default::default(),
        },
        store,
        token_sha256,
        answer_key,
        max_body: args.max_body_bytes,
        request_timeout: Duration::from_millis(args.request_timeout_ms),
        metrics: Metrics::default(),
        log,
        heavy: tokio::sync::Semaphore::new(1),
    });
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = args.workers {
        rt.worker_threads(n.max(1));
    }
    let rt = match rt.build() {
        Ok(rt) => rt,
        Err(e) => {
            return startup_error(
                "internal",
                &format!("cannot start the runtime: {e}"),
                exit::INTERNAL,
            )
        }
    };
    let code = rt.block_on(serve(state.clone(), &args));
    drop(rt);
    state.log.close();
    code
}

async fn serve(state: Arc<State>, args: &ServeArgs) -> i32 {
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            return startup_error(
                "internal",
                &format!("cannot listen on {}: {e}", args.listen),
                exit::INTERNAL,
            )
        }
    };
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        _ => return startup_error("internal", "cannot install signal handlers", exit::INTERNAL),
    };
    // Installed before the address is announced: a SIGHUP sent as soon as the
    // server is up must reload, not kill it.
    let hup = match signal(SignalKind::hangup()) {
        Ok(h) => Some(h),
        Err(e) => {
            state.log.event(
                "reload",
                fields(json!({"result": "failure", "trigger": "startup", "error": format!("cannot handle SIGHUP: {e}")})),
            );
            None
        }
    };
    let local = listener.local_addr().map_or(args.listen, |a| a);
    {
        let b = state.bundle.load();
        state.log.event(
            "listening",
            fields(json!({"addr": local.to_string(), "policy_digest": b.policy_digest(), "revision": b.info().revision})),
        );
    }
    // Who started the sidecar may have closed standard output: the address
    // is in the log too, and serving goes on.
    let _ = crate::say(json!({"listening": local.to_string()}));
    tokio::spawn(reload_loop(
        state.clone(),
        hup,
        (args.watch_interval_ms > 0).then(|| Duration::from_millis(args.watch_interval_ms)),
    ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(args.header_timeout_ms))
        .keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // One permit per open connection: at the limit, nothing more is accepted
    // until a connection closes (a flood of idle connections cannot exhaust
    // the process's descriptors or memory).
    let slots = Arc::new(tokio::sync::Semaphore::new(args.max_connections as usize));
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    // Out of descriptors and the like: wait a little, keep serving.
                    Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue; }
                };
                let _ = stream.set_nodelay(true);
                let st = state.clone();
                let service = hyper::service::service_fn(move |req| handle(req, st.clone()));
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(permit);
                });
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    drop(listener);
    let finished = tokio::time::timeout(
        Duration::from_millis(args.shutdown_timeout_ms),
        graceful.shutdown(),
    )
    .await
    .is_ok();
    state
        .log
        .event("shutdown", fields(json!({"in_flight_finished": finished})));
    if finished {
        exit::OK
    } else {
        exit::INTERNAL
    }
}

fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

type Resp = Response<Full<Bytes>>;

fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json_response(status: StatusCode, v: &Value) -> Resp {
    let body = serde_json::to_vec(v).unwrap_or_else(|_| b"{\"verdict\":\"block\"}".to_vec());
    respond(status, "application/json", body)
}

async fn handle(req: Request<Incoming>, st: Arc<State>) -> Result<Resp, Infallible> {
    let started = Instant::now();
    let Some(key) = st.answer_key.as_deref() else {
        let resp = route(req, &st, started).await;
        st.metrics.http(resp.status().as_u16());
        return Ok(resp);
    };
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let (nonce, resp) = match answer_nonce(&req) {
        Ok(nonce) => (nonce, route(req, &st, started).await),
        Err(e) => (
            String::new(),
            json_response(StatusCode::BAD_REQUEST, &json!({"error": e})),
        ),
    };
    st.metrics.http(resp.status().as_u16());
    let request = AnswerRequest {
        nonce: &nonce,
        method: &method,
        path: &path,
    };
    Ok(authenticated(resp, key, &request).await)
}

/// What an answer's MAC binds it to: the request's nonce, method, path and
/// (in the response's extensions, [`ReadBody`]) the body the sidecar read.
pub(crate) struct AnswerRequest<'a> {
    pub nonce: &'a str,
    pub method: &'a str,
    pub path: &'a str,
}

/// The SHA-256 of the request body `/v1/eval` read, carried from the
/// handler to the answer's MAC (absent: no body was read, and the MAC
/// covers the digest of nothing).
#[derive(Clone, Copy)]
struct ReadBody([u8; 32]);

/// The shortest secret `--answer-key-env` accepts (the MAC's security is
/// the secret's).
const MIN_ANSWER_KEY_BYTES: usize = 32;

/// The longest `Gait-Nonce` accepted.
const MAX_NONCE_BYTES: usize = 128;

/// The request's `Gait-Nonce` (empty when absent): 1 to 128 letters,
/// digits, `-`, `_`, `.` or `~`.
fn answer_nonce(req: &Request<Incoming>) -> Result<String, String> {
    let Some(v) = req.headers().get("gait-nonce") else {
        return Ok(String::new());
    };
    let b = v.as_bytes();
    if b.is_empty()
        || b.len() > MAX_NONCE_BYTES
        || !b
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~'))
    {
        return Err(format!(
            "Gait-Nonce must be 1 to {MAX_NONCE_BYTES} letters, digits, `-`, `_`, `.` or `~`"
        ));
    }
    Ok(String::from_utf8_lossy(b).into_owned())
}

/// The MAC of one answer (see `--answer-key-env`): HMAC-SHA256 of
/// `gait.answer.v2`, the nonce, the method, the path, the hex SHA-256 of
/// the request body read, and the status, each followed by a line feed,
/// then the body.
pub(crate) fn answer_mac(
    key: &[u8],
    request: &AnswerRequest<'_>,
    request_body: &[u8; 32],
    status: u16,
    body: &[u8],
) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    // Any key length is valid for HMAC: the error cannot occur.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    for part in [
        "gait.answer.v2",
        request.nonce,
        request.method,
        request.path,
        &gait_run::hex(request_body),
        &status.to_string(),
    ] {
        mac.update(part.as_bytes());
        mac.update(b"\n");
    }
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// `resp` with its `Gait-Answer-Mac` header.
async fn authenticated(resp: Resp, key: &[u8], request: &AnswerRequest<'_>) -> Resp {
    use http_body_util::BodyExt;
    let (mut parts, body) = resp.into_parts();
    let bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(never) => match never {},
    };
    let read = parts
        .extensions
        .get::<ReadBody>()
        .map_or_else(|| gait_run::sha256(b""), |r| r.0);
    // A HEAD answer's body is not sent: its MAC covers none.
    let sent: &[u8] = if request.method == "HEAD" {
        b""
    } else {
        &bytes
    };
    let mac = answer_mac(key, request, &read, parts.status.as_u16(), sent);
    if let Ok(v) = HeaderValue::from_str(&gait_run::hex(&mac)) {
        parts.headers.insert("gait-answer-mac", v);
    }
    Response::from_parts(parts, Full::new(bytes))
}

fn method_not_allowed(allow: &'static str) -> Resp {
    let mut r = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({"error": "method not allowed"}),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

async fn route(req: Request<Incoming>, st: &Arc<State>, started: Instant) -> Resp {
    match req.uri().path() {
        "/healthz" => {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                return method_not_allowed("GET, HEAD");
            }
            let b = st.bundle.load();
            let policy = json!({"name": b.info().name, "version": b.info().version, "revision": b.info().revision, "digest": b.policy_digest()});
            // A bundle past its `not_after` decides nothing more (every
            // evaluation answers `block`): not healthy until a valid bundle
            // is reloaded.
            match b.info().expired_now() {
                None => json_response(StatusCode::OK, &json!({"status": "ok", "policy": policy})),
                Some(rej) => json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({"status": rej.code.as_str(), "error": rej.message, "policy": policy}),
                ),
            }
        }
        "/metrics" => {
            if req.method() != Method::GET {
                return method_not_allowed("GET");
            }
            if let Some(r) = unauthorized(&req, st) {
                return r;
            }
            let b = st.bundle.load_full();
            respond(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                st.metrics.render(&b).into_bytes(),
            )
        }
        "/v1/eval" => {
            if req.method() != Method::POST {
                return method_not_allowed("POST");
            }
            if let Some(r) = unauthorized(&req, st) {
                return r;
            }
            eval(req, st, started).await
        }
        _ => json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}

/// 401 unless the request carries the bearer token (when one is configured).
fn unauthorized(req: &Request<Incoming>, st: &State) -> Option<Resp> {
    let want = st.token_sha256.as_ref()?;
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
    // Hashing first makes the comparison independent of the token's length too.
    let ok =
        given.is_some_and(|t| bool::from(gait_run::sha256(t.as_bytes()).ct_eq(want.as_slice())));
    if ok {
        return None;
    }
    let mut r = json_response(
        StatusCode::UNAUTHORIZED,
        &json!({"error": "a valid bearer token is required"}),
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"gait\""),
    );
    Some(r)
}

fn is_json(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// A `block` result for a request that is not a readable intent, written
/// into `out`.
fn refused<'b>(out: &mut Vec<u8>, bundle: &Verified, field: &str, message: String) -> Summary<'b> {
    let err = IntentError {
        field: field.into(),
        message,
        code: None,
    };
    gate::refuse(out, Refusal::Invalid(&err), Some(bundle))
}

async fn eval(req: Request<Incoming>, st: &Arc<State>, started: Instant) -> Resp {
    let bundle = st.bundle.load_full();
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut out = Vec::with_capacity(1024);
    let mut read_body = None;
    let (status, summary) = if !is_json(&req) {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            refused(
                &mut out,
                &bundle,
                "content-type",
                "the request's Content-Type must be application/json".into(),
            ),
        )
    } else if declared.is_some_and(|n| n > st.max_body as u64) {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            refused(
                &mut out,
                &bundle,
                "intent",
                format!("the body is larger than {} bytes", st.max_body),
            ),
        )
    } else {
        // Never buffers more than the cap, whatever Content-Length said (or
        // with chunked transfer encoding).
        let body = Limited::new(req.into_body(), st.max_body);
        match tokio::time::timeout(st.request_timeout, body.collect()).await {
            Err(_) => (
                StatusCode::REQUEST_TIMEOUT,
                refused(
                    &mut out,
                    &bundle,
                    "intent",
                    "the body was not received in time".into(),
                ),
            ),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => (
                StatusCode::PAYLOAD_TOO_LARGE,
                refused(
                    &mut out,
                    &bundle,
                    "intent",
                    format!("the body is larger than {} bytes", st.max_body),
                ),
            ),
            Ok(Err(e)) => (
                StatusCode::BAD_REQUEST,
                refused(
                    &mut out,
                    &bundle,
                    "intent",
                    format!("cannot read the body: {e}"),
                ),
            ),
            Ok(Ok(collected)) => {
                let text = collected.to_bytes();
                if st.answer_key.is_some() {
                    read_body = Some(ReadBody(gait_run::sha256(&text)));
                }
                let summary = if text.len() > HEAVY_BODY_BYTES {
                    decide_heavy(st, Arc::clone(&bundle), text, &mut out).await
                } else if st.eval.trace.is_some() || envelope::looks_like_envelope(&text) {
                    // Writing a trace does file I/O (and an fsync); so may
                    // the replay store.
                    tokio::task::block_in_place(|| decide(st, &bundle, &text, &mut out))
                } else {
                    decide(st, &bundle, &text, &mut out)
                };
                let status = match summary.exit {
                    exit::INVALID => StatusCode::BAD_REQUEST,
                    exit::INTERNAL => StatusCode::INTERNAL_SERVER_ERROR,
                    // The gate's bundle is past its not_after: every decision
                    // is a block until a valid bundle is reloaded.
                    exit::VERIFY => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::OK,
                };
                (status, summary)
            }
        }
    };
    let latency = started.elapsed();
    record(st, &bundle, &summary, status, latency);
    let mut resp = respond(status, "application/json", out);
    if let Some(read) = read_body {
        resp.extensions_mut().insert(read);
    }
    resp
}

/// A decision on the heavy lane: queued (without holding a worker) until
/// the lane is free, then run on a blocking thread.
async fn decide_heavy<'b>(
    st: &Arc<State>,
    bundle: Arc<Verified>,
    text: Bytes,
    out: &mut Vec<u8>,
) -> Summary<'b> {
    let Ok(_permit) = st.heavy.acquire().await else {
        return gate::refuse(
            out,
            Refusal::Internal("the heavy lane is closed"),
            Some(&bundle),
        );
    };
    let (st2, b2) = (Arc::clone(st), Arc::clone(&bundle));
    match tokio::task::spawn_blocking(move || {
        let mut o = Vec::with_capacity(1024);
        // The summary leaves this thread and outlives its bundle handle.
        let s: Summary<'static> = decide(&st2, &b2, &text, &mut o).into_owned();
        (s, o)
    })
    .await
    {
        Ok((summary, bytes)) => {
            out.extend_from_slice(&bytes);
            // Already owned: the codes are moved into a new inline list
            // (`Summary` is invariant over its lifetime, so it is restated,
            // not coerced); the heavy lane is not the allocation-free path.
            summary.into_owned()
        }
        Err(_) => gate::refuse(
            out,
            Refusal::Internal("the decision task failed"),
            Some(&bundle),
        ),
    }
}

/// One decision on the serving path: the result is written as bytes into
/// `out` (no JSON value is built). A body with approval tokens (see
/// [`body`]) is judged with the shared replay store.
fn decide<'b>(st: &State, bundle: &'b Verified, text: &[u8], out: &mut Vec<u8>) -> Summary<'b> {
    let (intent, tokens) = match envelope::split(text) {
        Ok(parts) => parts,
        Err(why) => return refused(out, bundle, "body", why),
    };
    // Without a store, a grant answers approval_store_unavailable with why.
    let unopened;
    let approvals = Approvals {
        store: if tokens.is_empty() {
            None
        } else {
            match st.store.get(&st.log) {
                Ok(s) => Some(s),
                Err(e) => {
                    unopened = crate::stores::Unopened(e);
                    Some(&unopened as &dyn ReplayStore)
                }
            }
        },
        tokens: &tokens,
        ..st.eval.approvals
    };
    let opts = &st.eval;
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut scratch) => gate::evaluate_with(bundle, intent, opts, &approvals, &mut scratch, out),
        Err(_) => gate::evaluate_with(
            bundle,
            intent,
            opts,
            &approvals,
            &mut Scratch::default(),
            out,
        ),
    })
}

/// Counts a decision and writes its log line.
fn record(
    st: &State,
    bundle: &Verified,
    summary: &Summary<'_>,
    status: StatusCode,
    latency: Duration,
) {
    let verdict = summary.verdict.as_str();
    st.metrics
        .decision(verdict, &summary.endpoint_classes, latency);
    if let Some(a) = &summary.approval {
        st.metrics.approval(a.code);
    }
    let trace_id = summary
        .intent_digest
        .as_deref()
        .map(|d| gate::trace_id(bundle.policy_digest(), d, verdict));
    st.log.line(&DecisionLine {
        schema_id: log::SCHEMA_ID,
        ts: log::now(),
        event: "decision",
        trace_id,
        status: status.as_u16(),
        verdict,
        reason_codes: &summary.reason_codes,
        endpoint_classes: &summary.endpoint_classes,
        latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        policy_digest: bundle.policy_digest(),
        intent_digest: summary.intent_digest.as_deref(),
        approval: summary.approval.as_deref(),
    });
}

/// A `decision` log line (schemas/v1/serve_log.schema.json), serialized
/// directly: the per-request path builds no JSON values for it.
#[derive(serde::Serialize)]
struct DecisionLine<'a> {
    schema_id: &'static str,
    ts: String,
    event: &'static str,
    trace_id: Option<String>,
    status: u16,
    verdict: &'a str,
    reason_codes: &'a [std::borrow::Cow<'a, str>],
    endpoint_classes: &'a [&'a str],
    latency_us: u64,
    policy_digest: &'a str,
    intent_digest: Option<&'a str>,
    /// The approval step (token ids, approvers, codes), when tokens were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    approval: Option<&'a Outcome>,
}

/// Identity of the bundle file's current version, as far as metadata tells.
fn file_stamp(path: &std::path::Path) -> Option<(u64, i64, i64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.len(), m.mtime(), m.mtime_nsec(), m.ino()))
}

async fn reload_loop(
    st: Arc<State>,
    mut hup: Option<tokio::signal::unix::Signal>,
    watch: Option<Duration>,
) {
    let mut last = file_stamp(&st.bundle_path);
    let mut tick = tokio::time::interval(watch.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let trigger = tokio::select! {
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "sighup",
            _ = tick.tick() => {
                if watch.is_none() { continue; }
                if file_stamp(&st.bundle_path) == last { continue; }
                "file_change"
            }
        };
        // The stamp is taken before the file is read: a file replaced while
        // it is being verified has another stamp, so it is reloaded at the
        // next tick instead of being taken for the version just read.
        last = file_stamp(&st.bundle_path);
        let st2 = st.clone();
        let _ = tokio::task::spawn_blocking(move || reload(&st2, trigger)).await;
    }
}

/// Verifies the bundle file again (same trust and pin; never a lower revision
/// than the one serving) and swaps it in; a rejected one keeps the old.
fn reload(st: &State, trigger: &str) {
    let current = st.bundle.load_full();
    let mut opts = st.verify.clone();
    opts.now = gait_run::time::now().0;
    opts.min_revision = Some(opts.min_revision.unwrap_or(0).max(current.info().revision));
    match read_verified(&st.bundle_path, &opts) {
        Ok(v) => {
            let (digest, revision) = (v.policy_digest().to_owned(), v.info().revision);
            st.bundle.store(Arc::new(v));
            st.metrics.reload(true);
            st.log.event(
                "reload",
                fields(json!({"result": "success", "trigger": trigger, "policy_digest": digest, "revision": revision,
                              "previous_digest": current.policy_digest(), "previous_revision": current.info().revision})),
            );
        }
        Err(rej) => {
            st.metrics.reload(false);
            st.log.event(
                "reload",
                fields(json!({"result": "failure", "trigger": trigger, "code": rej.code.as_str(), "error": rej.message,
                              "policy_digest": current.policy_digest(), "revision": current.info().revision})),
            );
        }
    }
}
