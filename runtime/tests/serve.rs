#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! `gait-run serve` over real HTTP: the binary on a free loopback port, a
//! small HTTP/1.1 client on `std::net::TcpStream` (keep-alive, chunked bodies,
//! partial writes). Every status code, keep-alive, concurrent clients,
//! metrics, the per-decision log, auth, hot reload (good, tampered, lower
//! revision, SIGHUP) and graceful shutdown with a request in flight.

mod support;

use gait_run::bundle;
use gait_run::keys::KeyPair;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::http::{assert_valid, parse_metrics, schema, spawn_serve, Conn};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A bounded wait: polls `f` until it returns Some (a hang fails the test).
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Server {
    child: Child,
    addr: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Server {
    /// Starts the sidecar on the bundle copied into a fresh directory.
    fn start(extra: &[&str]) -> Server {
        Server::start_with(
            &std::fs::read(fixtures().join("matrix.gaitb")).unwrap(),
            extra,
            &[],
        )
    }

    fn start_with(bundle_bytes: &[u8], extra: &[&str], env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        std::fs::write(path.join("policy.gaitb"), bundle_bytes).unwrap();
        let log = path.join("serve.log");
        let (child, addr) = spawn_serve(
            Command::new(env!("CARGO_BIN_EXE_gait-run"))
                .arg("serve")
                .arg("--bundle")
                .arg(path.join("policy.gaitb"))
                .arg("--trust")
                .arg(fixtures().join("test.pub"))
                .args(["--listen", "127.0.0.1:0", "--workers", "2"])
                .arg("--log")
                .arg(&log)
                .args(extra)
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stderr(Stdio::piped()),
        );
        Server {
            child,
            addr,
            log,
            _dir: dir,
            dir: path,
        }
    }

    fn bundle_path(&self) -> PathBuf {
        self.dir.join("policy.gaitb")
    }

    /// Replaces the bundle file the way a deployment should: write, then rename.
    fn replace_bundle(&self, bytes: &[u8]) {
        let tmp = self.dir.join("policy.gaitb.tmp");
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, self.bundle_path()).unwrap();
    }

    fn conn(&self) -> Conn {
        Conn::open(&self.addr)
    }

    fn signal(&self, sig: &str) {
        // The shell's builtin `kill`: no dependency on procps.
        let ok = Command::new("sh")
            .args(["-c", &format!("kill {sig} {}", self.child.id())])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn wait(&mut self) -> i32 {
        eventually("the server to exit", || {
            self.child.try_wait().unwrap().map(|s| s.code().unwrap())
        })
    }

    /// The log's lines, each checked against schemas/v1/serve_log.schema.json.
    fn log_lines(&self) -> Vec<Value> {
        let schema = schema("serve_log.schema.json");
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                assert_valid(&schema, &v);
                v
            })
            .collect()
    }

    fn metrics(&self) -> BTreeMap<String, f64> {
        let r = self.conn().get("/metrics");
        assert_eq!(r.status, 200);
        parse_metrics(&r.text())
    }

    fn digest(&self) -> String {
        let r = self.conn().get("/healthz");
        assert_eq!(r.status, 200);
        r.json()["policy"]["digest"].as_str().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn intent(path: &str) -> Vec<u8> {
    json!({"tool_name": "read_file", "args": {"path": path}, "context": {"risk_class": "low"}})
        .to_string()
        .into_bytes()
}

fn allow_intent() -> Vec<u8> {
    intent("/workspace/a.txt")
}

fn block_intent() -> Vec<u8> {
    intent("/etc/passwd")
}

/// A copy of the fixture bundle with another revision, signed again with the
/// fixture key (so another policy digest).
fn resigned(revision: u32) -> Vec<u8> {
    let bytes = std::fs::read(fixtures().join("matrix.gaitb")).unwrap();
    let parsed = bundle::parse(&bytes).unwrap();
    let mut manifest = parsed.manifest.clone();
    manifest["policy"]["revision"] = json!(revision);
    let key = KeyPair::read(&fixtures().join("test.key")).unwrap();
    bundle::assemble(&manifest, parsed.payload, &[&key])
}

fn digest_of(bytes: &[u8]) -> String {
    bundle::parse(bytes).unwrap().policy_digest
}

#[test]
fn every_status_code() {
    let s = Server::start(&["--max-body-bytes", "1000"]);
    let mut c = s.conn();

    let r = c.eval(&allow_intent());
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    let v = r.json();
    assert_eq!(v["schema_id"], "gait.gate.result");
    assert_eq!(v["verdict"], "allow");
    assert_eq!(v["reason_codes"], json!(["workspace_read"]));

    let r = c.eval(&block_intent());
    assert_eq!(
        (r.status, r.json()["verdict"].clone()),
        (200, json!("block"))
    );

    let skill = json!({"tool_name": "read_file", "args": {"path": "/workspace/a"},
        "skill_provenance": {"skill_name": "x", "skill_version": "1.0.0", "source": "registry", "publisher": "acme"},
        "context": {"risk_class": "low"}});
    let r = c.eval(skill.to_string().as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["verdict"], "require_approval");

    // Parameters of the media type are accepted.
    let r = c.request(
        "POST",
        "/v1/eval",
        &[("Content-Type", "Application/JSON; charset=utf-8")],
        &allow_intent(),
    );
    assert_eq!(
        (r.status, r.json()["verdict"].clone()),
        (200, json!("allow"))
    );

    for bad in [&b"{not json"[..], br#"{"tool_name": ""}"#, b"[]"] {
        let r = c.eval(bad);
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(bad));
        let v = r.json();
        assert_eq!(v["verdict"], "block");
        assert_eq!(v["reason_codes"], json!(["intent_invalid"]));
    }

    // 413 from Content-Length alone (the body is never read) ...
    let big = vec![b' '; 5000];
    let r = c.eval(&big);
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["verdict"], "block");
    assert_eq!(r.json()["reason_codes"], json!(["intent_invalid"]));
    // ... and from a chunked body that grows past the cap.
    let mut c2 = s.conn();
    let chunk = format!("{:x}\r\n{}\r\n", 800, " ".repeat(800));
    let mut req = b"POST /v1/eval HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    req.extend_from_slice(chunk.as_bytes());
    req.extend_from_slice(chunk.as_bytes());
    req.extend_from_slice(b"0\r\n\r\n");
    c2.send_raw(&req);
    let r = c2.read_response();
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["verdict"], "block");

    for ct in [Some("text/plain"), Some("application/jsonx"), None] {
        let mut c = s.conn();
        let headers: Vec<(&str, &str)> = ct.iter().map(|v| ("Content-Type", *v)).collect();
        let r = c.request("POST", "/v1/eval", &headers, &allow_intent());
        assert_eq!(r.status, 415, "{ct:?}");
        assert_eq!(r.json()["verdict"], "block");
    }

    let mut c = s.conn();
    let r = c.get("/v1/eval");
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "POST");
    let r = c.request("POST", "/healthz", &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET, HEAD");
    let r = c.request("DELETE", "/metrics", &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(c.get("/").status, 404);
    assert_eq!(c.get("/v1/evaluate").status, 404);

    let r = c.get("/healthz");
    assert_eq!(r.status, 200);
    let h = r.json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["policy"]["revision"], 3);
    assert_eq!(h["policy"]["name"], "fail-closed-matrix");

    let r = c.get("/metrics");
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].starts_with("text/plain; version=0.0.4"));
    let m = parse_metrics(&r.text());
    let code = |c: &str| m[&format!("gait_http_responses_total{{code=\"{c}\"}}")];
    assert_eq!(code("200"), 5.0);
    assert_eq!(code("400"), 3.0);
    assert_eq!(code("413"), 2.0);
    assert_eq!(code("415"), 3.0);
    assert_eq!(code("405"), 3.0);
    assert_eq!(code("404"), 2.0);
    assert_eq!(
        m["gait_decisions_total{verdict=\"allow\",endpoint_class=\"fs.read\"}"],
        2.0
    );
    assert_eq!(
        m["gait_decisions_total{verdict=\"block\",endpoint_class=\"fs.read\"}"],
        1.0
    );
    assert_eq!(
        m["gait_decisions_total{verdict=\"require_approval\",endpoint_class=\"fs.read\"}"],
        1.0
    );
    // Invalid, oversize and wrong-type requests are blocks with no target.
    assert_eq!(
        m["gait_decisions_total{verdict=\"block\",endpoint_class=\"none\"}"],
        8.0
    );
    assert_eq!(m["gait_decision_latency_seconds_count"], 12.0);
    assert_eq!(m["gait_decision_latency_seconds_bucket{le=\"+Inf\"}"], 12.0);
    let digest = digest_of(&std::fs::read(fixtures().join("matrix.gaitb")).unwrap());
    assert_eq!(
        m[&format!("gait_bundle_info{{policy_digest=\"{digest}\",revision=\"3\",name=\"fail-closed-matrix\",version=\"1.0.0\"}}")],
        1.0
    );
    assert_eq!(m["gait_bundle_reloads_total{result=\"success\"}"], 0.0);
    assert_eq!(m["gait_bundle_reloads_total{result=\"failure\"}"], 0.0);
}

#[test]
fn one_log_line_per_decision() {
    let mut s = Server::start(&[]);
    let mut c = s.conn();
    let allowed = c.eval(&allow_intent()).json();
    c.eval(b"nope");
    s.signal("-TERM");
    assert_eq!(s.wait(), 0);
    let lines = s.log_lines();
    for l in &lines {
        assert_eq!(l["schema_id"], "gait.serve.log");
        assert!(l["ts"].as_str().unwrap().ends_with('Z'));
    }
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["listening", "decision", "decision", "shutdown"]);
    let d = &lines[1];
    let policy = allowed["policy"]["digest"].as_str().unwrap();
    let intent_digest = allowed["intent_digest"].as_str().unwrap();
    assert_eq!(
        d["trace_id"],
        gait_run::gate::trace_id(policy, intent_digest, "allow")
    );
    assert_eq!(d["status"], 200);
    assert_eq!(d["verdict"], "allow");
    assert_eq!(d["reason_codes"], json!(["workspace_read"]));
    assert_eq!(d["endpoint_classes"], json!(["fs.read"]));
    assert!(d["latency_us"].is_u64());
    assert_eq!(d["policy_digest"], policy);
    let bad = &lines[2];
    assert_eq!(bad["status"], 400);
    assert_eq!(bad["verdict"], "block");
    assert_eq!(bad["trace_id"], Value::Null);
    assert_eq!(bad["reason_codes"], json!(["intent_invalid"]));
    assert_eq!(lines[3]["in_flight_finished"], true);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    for i in 0..100 {
        let (body, want) = if i % 2 == 0 {
            (allow_intent(), "allow")
        } else {
            (block_intent(), "block")
        };
        let r = c.eval(&body);
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["verdict"], want);
    }
    let m = s.metrics();
    assert_eq!(m["gait_http_responses_total{code=\"200\"}"], 100.0);
}

#[test]
fn concurrent_clients_each_get_their_own_answer() {
    // About isolation between clients, not the deadline: 16 clients on two
    // workers of a debug build, on a shared machine, can hold a decision
    // past the default 50 ms.
    let s = Server::start(&["--decision-timeout-ms", "10000"]);
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let addr = s.addr.clone();
            std::thread::spawn(move || {
                let mut c = Conn::open(&addr);
                for i in 0..200 {
                    // Each request names its own path, and the answer's digest
                    // must be the digest of that very intent.
                    match (t + i) % 3 {
                        0 => {
                            let r = c.eval(&intent(&format!("/workspace/t{t}/f{i}")));
                            assert_eq!(r.status, 200);
                            assert_eq!(r.json()["verdict"], "allow");
                        }
                        1 => {
                            let r = c.eval(&intent(&format!("/etc/t{t}/f{i}")));
                            assert_eq!(r.status, 200);
                            assert_eq!(r.json()["verdict"], "block");
                            assert_eq!(r.json()["reason_codes"], json!(["default_block"]));
                        }
                        _ => {
                            let r = c.eval(format!("{{\"tool_name\": {t}{i}}}").as_bytes());
                            assert_eq!(r.status, 400);
                            assert_eq!(r.json()["reason_codes"], json!(["intent_invalid"]));
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let m = s.metrics();
    let total: f64 = (0..16)
        .map(|t| (0..200).filter(|i| (t + i) % 3 == 0).count() as f64)
        .sum();
    assert_eq!(
        m["gait_decisions_total{verdict=\"allow\",endpoint_class=\"fs.read\"}"],
        total
    );
    assert_eq!(m["gait_decision_latency_seconds_count"], 3200.0);
    assert_eq!(
        m["gait_http_responses_total{code=\"200\"}"] + m["gait_http_responses_total{code=\"400\"}"],
        3200.0
    );
}

#[test]
fn bearer_token_guards_eval_and_metrics() {
    let s = Server::start_with(
        &std::fs::read(fixtures().join("matrix.gaitb")).unwrap(),
        &["--auth-token-env", "GAIT_TEST_TOKEN"],
        &[("GAIT_TEST_TOKEN", "s3cret-token")],
    );
    let mut c = s.conn();
    let ct = ("Content-Type", "application/json");
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Bearer s3cret-tokenX"),
        Some("Basic s3cret-token"),
        Some("s3cret-token"),
    ] {
        let mut headers = vec![ct];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        let r = c.request("POST", "/v1/eval", &headers, &allow_intent());
        assert_eq!(r.status, 401, "{auth:?}");
        assert_eq!(r.headers["www-authenticate"], "Bearer realm=\"gait\"");
        let mut h = headers.clone();
        h.retain(|(k, _)| *k != "Content-Type");
        assert_eq!(c.request("GET", "/metrics", &h, b"").status, 401);
    }
    let r = c.request(
        "POST",
        "/v1/eval",
        &[ct, ("Authorization", "bearer s3cret-token")],
        &allow_intent(),
    );
    assert_eq!(
        (r.status, r.json()["verdict"].clone()),
        (200, json!("allow"))
    );
    let r = c.request(
        "GET",
        "/metrics",
        &[("Authorization", "Bearer s3cret-token")],
        b"",
    );
    assert_eq!(r.status, 200);
    // Liveness probes need no token.
    assert_eq!(c.get("/healthz").status, 200);
}

/// The MAC a client expects (`serve --answer-key-env`): over the nonce,
/// method, path, the body the sidecar read, the status and the answer.
fn answer_mac(key: &[u8], request: [&str; 3], read: &[u8], status: u16, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let [nonce, method, path] = request;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    let read = gait_run::hex(&gait_run::sha256(read));
    mac.update(format!("gait.answer.v2\n{nonce}\n{method}\n{path}\n{read}\n{status}\n").as_bytes());
    mac.update(body);
    gait_run::hex(&mac.finalize().into_bytes())
}

#[test]
fn answers_carry_a_mac_over_the_request_and_the_answer() {
    let key = "k".repeat(40);
    let k = key.as_bytes();
    let s = Server::start_with(
        &std::fs::read(fixtures().join("matrix.gaitb")).unwrap(),
        &["--answer-key-env", "GAIT_TEST_ANSWER_KEY"],
        &[("GAIT_TEST_ANSWER_KEY", &key)],
    );
    let mut c = s.conn();
    let ct = ("Content-Type", "application/json");
    let text = ("Content-Type", "text/plain");
    // (method, path, headers, body sent, body the sidecar reads, status)
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, &'a str)>,
        Vec<u8>,
        Vec<u8>,
        u16,
    );
    let cases: [Case; 7] = [
        (
            "POST",
            "/v1/eval",
            vec![ct, ("Gait-Nonce", "n-1")],
            allow_intent(),
            allow_intent(),
            200,
        ),
        (
            "POST",
            "/v1/eval",
            vec![ct, ("Gait-Nonce", "n.2~_")],
            block_intent(),
            block_intent(),
            200,
        ),
        (
            "POST",
            "/v1/eval",
            vec![ct, ("Gait-Nonce", "n3")],
            b"{".to_vec(),
            b"{".to_vec(),
            400,
        ),
        // Refused by its content type: the body is not read.
        (
            "POST",
            "/v1/eval",
            vec![text, ("Gait-Nonce", "n5")],
            allow_intent(),
            vec![],
            415,
        ),
        (
            "GET",
            "/healthz",
            vec![("Gait-Nonce", "n4")],
            vec![],
            vec![],
            200,
        ),
        ("GET", "/nowhere", vec![], vec![], vec![], 404),
        (
            "POST",
            "/v1/eval",
            vec![ct],
            allow_intent(),
            allow_intent(),
            200,
        ),
    ];
    for (method, path, headers, sent, read, status) in cases {
        let nonce = headers
            .iter()
            .find(|(k, _)| *k == "Gait-Nonce")
            .map_or("", |(_, v)| *v);
        let r = c.request(method, path, &headers, &sent);
        assert_eq!(r.status, status, "{method} {path}");
        let want = answer_mac(k, [nonce, method, path], &read, status, &r.body);
        assert_eq!(r.headers["gait-answer-mac"], want, "{method} {path}");
        // The answer to this request is no answer to another: another
        // nonce, method, path, request body, status, answer or key.
        for other in [
            answer_mac(k, ["other", method, path], &read, status, &r.body),
            answer_mac(k, [nonce, "PUT", path], &read, status, &r.body),
            answer_mac(k, [nonce, method, "/v2/eval"], &read, status, &r.body),
            answer_mac(
                k,
                [nonce, method, path],
                b"{\"tool_name\": \"x\"}",
                status,
                &r.body,
            ),
            answer_mac(k, [nonce, method, path], &read, 201, &r.body),
            answer_mac(k, [nonce, method, path], &read, status, b"{}"),
            answer_mac(&k[1..], [nonce, method, path], &read, status, &r.body),
        ] {
            assert_ne!(other, want);
        }
    }
    // A HEAD answer's body is not sent: its MAC covers none.
    let mut raw = TcpStream::connect(&s.addr).unwrap();
    std::io::Write::write_all(
        &mut raw,
        b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nGait-Nonce: h\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut head = String::new();
    raw.read_to_string(&mut head).unwrap();
    let want = answer_mac(k, ["h", "HEAD", "/healthz"], b"", 200, b"");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("gait-answer-mac: {want}")),
        "{head}"
    );
    // A nonce that is not a plain token: 400, authenticated over no nonce.
    for bad in ["", "a b", "é", &"n".repeat(129)] {
        let r = c.request(
            "POST",
            "/v1/eval",
            &[ct, ("Gait-Nonce", bad)],
            &allow_intent(),
        );
        assert_eq!(r.status, 400, "{bad:?}");
        assert!(r.text().contains("Gait-Nonce"), "{}", r.text());
        let want = answer_mac(k, ["", "POST", "/v1/eval"], b"", 400, &r.body);
        assert_eq!(r.headers["gait-answer-mac"], want);
    }
    // Without the option, no MAC.
    let plain = Server::start(&[]);
    let r = plain.conn().request(
        "POST",
        "/v1/eval",
        &[ct, ("Gait-Nonce", "n")],
        &allow_intent(),
    );
    assert_eq!(r.status, 200);
    assert!(!r.headers.contains_key("gait-answer-mac"));
}

#[test]
fn a_short_or_missing_answer_key_is_refused_at_start() {
    for env in [vec![], vec![("GAIT_TEST_ANSWER_KEY", "short")]] {
        let out = Command::new(env!("CARGO_BIN_EXE_gait-run"))
            .arg("serve")
            .arg("--bundle")
            .arg(fixtures().join("matrix.gaitb"))
            .arg("--trust")
            .arg(fixtures().join("test.pub"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--answer-key-env",
                "GAIT_TEST_ANSWER_KEY",
            ])
            .env_remove("GAIT_TEST_ANSWER_KEY")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(6), "{env:?}");
        let first: Value =
            serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
        assert_eq!(first["code"], "invalid_input");
        assert!(first["error"]
            .as_str()
            .unwrap()
            .contains("--answer-key-env"));
    }
}

#[test]
fn non_loopback_listening_requires_a_token() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        Command::new(env!("CARGO_BIN_EXE_gait-run"))
            .arg("serve")
            .arg("--bundle")
            .arg(fixtures().join("matrix.gaitb"))
            .arg("--trust")
            .arg(fixtures().join("test.pub"))
            .args(args)
            .envs(env.iter().copied())
            .env_remove("GAIT_UNSET_TOKEN")
            .output()
            .unwrap()
    };
    let out = run(&["--listen", "0.0.0.0:0"], &[]);
    assert_eq!(out.status.code(), Some(6));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["code"], "invalid_input");
    assert!(v["error"].as_str().unwrap().contains("--auth-token-env"));
    let out = run(&["--listen", "[::]:0"], &[]);
    assert_eq!(out.status.code(), Some(6));
    let out = run(
        &[
            "--listen",
            "0.0.0.0:0",
            "--auth-token-env",
            "GAIT_UNSET_TOKEN",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(6));
    let out = run(
        &["--listen", "127.0.0.1:0", "--auth-token-env", "GAIT_EMPTY"],
        &[("GAIT_EMPTY", " ")],
    );
    assert_eq!(out.status.code(), Some(6));
    // Usage errors of the parser exit 6 too; a rejected bundle exits 2.
    assert_eq!(run(&["--listen", "nowhere"], &[]).status.code(), Some(6));
    let bad = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .args(["serve", "--bundle"])
        .arg(fixtures().join("matrix.gaitb"))
        .args(["--trust", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(6));
    let dir = tempfile::tempdir().unwrap();
    let mut tampered = std::fs::read(fixtures().join("matrix.gaitb")).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    std::fs::write(dir.path().join("t.gaitb"), &tampered).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .args(["serve", "--listen", "127.0.0.1:0", "--bundle"])
        .arg(dir.path().join("t.gaitb"))
        .arg("--trust")
        .arg(fixtures().join("test.pub"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["code"], "bundle_payload_digest_mismatch");
}

#[test]
fn file_change_reload_good_tampered_and_lower_revision() {
    let mut s = Server::start(&["--watch-interval-ms", "50"]);
    let original = digest_of(&std::fs::read(s.bundle_path()).unwrap());
    assert_eq!(s.digest(), original);

    // A good bundle, revision 4: served once verified.
    let rev4 = resigned(4);
    let rev4_digest = digest_of(&rev4);
    assert_ne!(rev4_digest, original);
    s.replace_bundle(&rev4);
    eventually("the new bundle", || {
        (s.digest() == rev4_digest).then_some(())
    });
    let m = s.metrics();
    assert_eq!(m["gait_bundle_reloads_total{result=\"success\"}"], 1.0);
    assert_eq!(m["gait_bundle_reloads_total{result=\"failure\"}"], 0.0);
    let r = s.conn().eval(&allow_intent()).json();
    assert_eq!(r["policy"]["digest"], rev4_digest);
    assert_eq!(r["policy"]["revision"], 4);

    // A tampered one (payload changed after signing): the old keeps serving.
    let mut tampered = resigned(5);
    let last = tampered.len() - 1;
    tampered[last] ^= 0x40;
    s.replace_bundle(&tampered);
    eventually("the failed reload", || {
        (s.metrics()["gait_bundle_reloads_total{result=\"failure\"}"] == 1.0).then_some(())
    });
    assert_eq!(s.digest(), rev4_digest);
    assert_eq!(
        s.conn().eval(&allow_intent()).json()["policy"]["digest"],
        rev4_digest
    );

    // A lower revision (the original, validly signed): rejected as a rollback.
    s.replace_bundle(&std::fs::read(fixtures().join("matrix.gaitb")).unwrap());
    eventually("the rollback refusal", || {
        (s.metrics()["gait_bundle_reloads_total{result=\"failure\"}"] == 2.0).then_some(())
    });
    assert_eq!(s.digest(), rev4_digest);

    // Same revision, signed again (another digest): accepted.
    let mut manifest = bundle::parse(&rev4).unwrap().manifest;
    manifest["policy"]["version"] = json!("1.0.1");
    let key = KeyPair::read(&fixtures().join("test.key")).unwrap();
    let same_rev = bundle::assemble(&manifest, bundle::parse(&rev4).unwrap().payload, &[&key]);
    s.replace_bundle(&same_rev);
    let same_rev_digest = digest_of(&same_rev);
    eventually("the same-revision bundle", || {
        (s.digest() == same_rev_digest).then_some(())
    });

    // The log is written in batches: stop the server to have all of it.
    s.signal("-TERM");
    assert_eq!(s.wait(), 0);
    let reloads: Vec<Value> = s
        .log_lines()
        .into_iter()
        .filter(|l| l["event"] == "reload")
        .collect();
    let summary: Vec<(String, String)> = reloads
        .iter()
        .map(|l| {
            (
                l["result"].as_str().unwrap().to_owned(),
                l["code"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("success".to_owned(), "-".to_owned()),
            (
                "failure".to_owned(),
                "bundle_payload_digest_mismatch".to_owned()
            ),
            ("failure".to_owned(), "bundle_revision_rollback".to_owned()),
            ("success".to_owned(), "-".to_owned()),
        ]
    );
    assert!(reloads.iter().all(|l| l["trigger"] == "file_change"));
    assert_eq!(reloads[0]["previous_digest"], original);
    assert_eq!(
        reloads[1]["policy_digest"], rev4_digest,
        "the bundle still serving"
    );
}

#[test]
fn sighup_reloads_and_min_revision_is_honoured() {
    let mut s = Server::start(&["--watch-interval-ms", "0", "--min-revision", "3"]);
    let original = s.digest();
    let rev6 = resigned(6);
    s.replace_bundle(&rev6);
    // Watching is off: the old bundle serves until SIGHUP.
    assert_eq!(s.digest(), original);
    s.signal("-HUP");
    let rev6_digest = digest_of(&rev6);
    eventually("the SIGHUP reload", || {
        (s.digest() == rev6_digest).then_some(())
    });
    // SIGHUP with a rejected file (untrusted signer) keeps the bundle.
    let other = KeyPair::from_seed(&[7; 32]);
    let parsed_bytes = resigned(7);
    let parsed = bundle::parse(&parsed_bytes).unwrap();
    s.replace_bundle(&bundle::assemble(
        &parsed.manifest,
        parsed.payload,
        &[&other],
    ));
    s.signal("-HUP");
    eventually("the failed SIGHUP reload", || {
        (s.metrics()["gait_bundle_reloads_total{result=\"failure\"}"] == 1.0).then_some(())
    });
    assert_eq!(s.digest(), rev6_digest);
    s.signal("-TERM");
    assert_eq!(s.wait(), 0);
    let codes: Vec<Value> = s
        .log_lines()
        .into_iter()
        .filter(|l| l["event"] == "reload")
        .map(|l| json!([l["trigger"], l["result"], l["code"]]))
        .collect();
    assert_eq!(
        codes,
        [
            json!(["sighup", "success", null]),
            json!(["sighup", "failure", "bundle_key_untrusted"])
        ]
    );
}

#[test]
fn sigterm_lets_the_request_in_flight_finish() {
    let mut s = Server::start(&[]);
    let body = allow_intent();
    let mut c = s.conn();
    // Headers and half the body: the request is in flight.
    let head = format!(
        "POST /v1/eval HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    c.send_raw(head.as_bytes());
    c.send_raw(&body[..body.len() / 2]);
    // An idle keep-alive connection is closed at shutdown, not waited for.
    let mut idle = s.conn();
    assert_eq!(idle.get("/healthz").status, 200);
    s.signal("-TERM");
    // Once the listener is closed, the shutdown has begun.
    eventually("the listener to close", || {
        TcpStream::connect(&s.addr).is_err().then_some(())
    });
    assert!(idle.closed());
    c.send_raw(&body[body.len() / 2..]);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["verdict"], "allow");
    assert_eq!(s.wait(), 0);
    let last = s.log_lines().pop().unwrap();
    assert_eq!(last["event"], "shutdown");
    assert_eq!(last["in_flight_finished"], true);
}

#[test]
fn slow_bodies_get_408_and_slow_headers_are_cut() {
    let s = Server::start(&["--request-timeout-ms", "300", "--header-timeout-ms", "300"]);
    let mut c = s.conn();
    c.send_raw(b"POST /v1/eval HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"tool");
    let r = c.read_response();
    assert_eq!(r.status, 408);
    assert_eq!(r.json()["verdict"], "block");
    assert_eq!(r.json()["reason_codes"], json!(["intent_invalid"]));
    let mut slow = s.conn();
    slow.send_raw(b"GET /healthz HTTP/1.1\r\nHo");
    assert!(slow.closed());
}

#[test]
fn traces_are_written_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("traces");
    let key = fixtures().join("test.key");
    let s = Server::start(&[
        "--trace-dir",
        traces.to_str().unwrap(),
        "--trace-key",
        key.to_str().unwrap(),
    ]);
    let r = s.conn().eval(&block_intent()).json();
    let path = r["trace_path"].as_str().unwrap();
    assert!(path.starts_with(traces.to_str().unwrap()));
    let out = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .args(["trace", "verify", path, "--trust"])
        .arg(fixtures().join("test.pub"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "block");
}

#[test]
fn sigint_also_shuts_down_gracefully() {
    let mut s = Server::start(&[]);
    assert_eq!(s.conn().eval(&allow_intent()).status, 200);
    s.signal("-INT");
    assert_eq!(s.wait(), 0);
    let events: Vec<Value> = s
        .log_lines()
        .into_iter()
        .map(|l| l["event"].clone())
        .collect();
    assert_eq!(
        events,
        [json!("listening"), json!("decision"), json!("shutdown")]
    );
}

#[test]
fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let server = Server::start(&["--max-connections", "1"]);
    // The one slot is taken by a connection that has been served and stays open.
    let mut first = server.conn();
    assert_eq!(first.get("/healthz").status, 200);
    // A second connection is not accepted while the first is open: its
    // request gets no answer (the client stops waiting after 300 ms) ...
    let mut second = server.conn();
    second
        .reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    second.send_raw(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
    let mut byte = [0u8; 1];
    let waited = second.reader.get_mut().read(&mut byte);
    assert!(
        matches!(&waited, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "served beyond the limit: {waited:?}"
    );
    // ... and is served as soon as the first closes.
    drop(first);
    second
        .reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    assert_eq!(second.read_response().status, 200);
}

#[test]
fn max_connections_must_be_positive() {
    let out = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .args([
            "serve",
            "--bundle",
            "x.gaitb",
            "--trust",
            "x.pub",
            "--max-connections",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{out:?}");
}

#[test]
fn a_bundle_that_expires_while_serving_blocks_every_decision() {
    // Valid at start-up, expiring three seconds later; no reload happens.
    let bytes = std::fs::read(fixtures().join("matrix.gaitb")).unwrap();
    let parsed = bundle::parse(&bytes).unwrap();
    let mut manifest = parsed.manifest.clone();
    manifest["not_after"] = json!(gait_run::time::format_rfc3339(gait_run::time::now().0 + 3));
    let key = KeyPair::read(&fixtures().join("test.key")).unwrap();
    let expiring = bundle::assemble(&manifest, parsed.payload, &[&key]);
    let server = Server::start_with(&expiring, &["--watch-interval-ms", "0"], &[]);
    let not_after = server.metrics()["gait_bundle_not_after_seconds"];
    assert_eq!(
        Some(not_after as i64),
        bundle::parse(&expiring).unwrap().manifest["not_after"]
            .as_str()
            .and_then(|t| gait_run::time::parse_rfc3339(t).ok())
    );
    let first = server.conn().eval(&allow_intent());
    assert_eq!(
        (first.status, first.json()["verdict"].clone()),
        (200, json!("allow"))
    );
    let expired = eventually("the bundle to expire", || {
        let r = server.conn().eval(&allow_intent());
        (r.status != 200).then_some(r)
    });
    assert_eq!(expired.status, 503);
    let v = expired.json();
    assert_eq!(v["verdict"], "block");
    assert_eq!(v["reason_codes"], json!(["bundle_expired"]));
    // Health says so too: the bundle serving decides nothing more.
    let health = server.conn().get("/healthz");
    assert_eq!(health.status, 503);
    let h = health.json();
    assert_eq!(h["status"], "bundle_expired");
    assert_eq!(h["policy"]["name"], "fail-closed-matrix");
    assert!(
        h["error"]
            .as_str()
            .is_some_and(|e| e.contains("expired at")),
        "{h}"
    );
}

#[test]
fn healthz_and_small_requests_are_answered_while_worst_case_input_is_decided() {
    // Two worker threads: before the heavy lane, two worst-case intents
    // deciding on them left /healthz and small requests waiting behind.
    let s = Server::start(&["--decision-timeout-ms", "2000"]);
    // Worst-case input: a command line at the analysis limit whose every
    // part needs the grammar (slow in this debug build), in a body over the
    // heavy-lane threshold.
    let line = "ls \"$a\"; ".repeat(gait_run::command::MAX_COMMAND_BYTES / 10);
    let heavy = json!({"tool_name": "exec", "targets": [{"kind": "command", "value": line}],
                       "context": {"risk_class": "low"}})
    .to_string()
    .into_bytes();
    let started = Instant::now();
    let senders: Vec<_> = (0..40)
        .map(|_| {
            let (addr, body) = (s.addr.clone(), heavy.clone());
            std::thread::spawn(move || {
                let r = Conn::open(&addr).eval(&body);
                // Answered, and never allowed: the policy has no exec rule.
                assert_eq!(r.json()["verdict"], "block");
                Instant::now()
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let mut slowest = Duration::ZERO;
    let mut c = Conn::open(&s.addr);
    for _ in 0..10 {
        let t = Instant::now();
        assert_eq!(c.get("/healthz").status, 200);
        assert_eq!(c.eval(&allow_intent()).json()["verdict"], "allow");
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    let heavy_done = senders
        .into_iter()
        .map(|h| h.join().unwrap())
        .max()
        .unwrap();
    let heavy_span = heavy_done - started;
    // The check is meaningful only if the heavy decisions kept the server
    // busy for much longer than the small requests took.
    assert!(
        heavy_span > slowest * 4,
        "heavy work {heavy_span:?}, slowest small round trip {slowest:?}"
    );
    assert!(
        slowest < Duration::from_millis(500),
        "a small round trip took {slowest:?} while heavy input was decided"
    );
}
