#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The fleet replay store end to end, with real parts (issue 18): a real
//! `redis-server` on a free loopback port, two `gait-run serve` sidecars
//! sharing it (`--approval-store redis://127.0.0.1:PORT`), a bundle whose
//! rule needs two distinct approvers (alice and bob), token pairs signed by
//! `gait-run approve`.
//!
//! - The same pair sent to both sidecars at the same moment, round after
//!   round with fresh tokens: exactly one `allow` per round, the other
//!   `require_approval` with both tokens `approval_token_replayed`.
//! - Redis stopped: a fresh, valid pair is `approval_store_unavailable`
//!   (`require_approval`, never `allow`) on both sidecars, which stay up;
//!   Redis back on the same port: the same pair, never recorded, grants once.
//!
//! The server is `$GAIT_REDIS_SERVER`, else what `scripts/setup_redis.sh`
//! installs (`<target>/adapters/redis/bin/redis-server`), else
//! `redis-server` on PATH. Without one the test is skipped, loudly — and
//! fails when `CI` is set (the convention of runtime/src/stores/redis.rs).

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Barrier;
use std::time::{Duration, Instant};
use support::approvals::{bundle_bytes, key};
use support::http::{parse_metrics, Conn};

/// Rounds of the race, each with a fresh intent and a fresh token pair.
const ROUNDS: usize = 20;

/// `$GAIT_REDIS_SERVER`, else `scripts/setup_redis.sh`'s install
/// (`<target>/adapters/redis/bin/redis-server`, the target folder being this
/// test binary's), else `redis-server` on PATH.
fn find_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GAIT_REDIS_SERVER").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    // <target>/<profile>/deps/<test binary>
    if let Some(target) = exe.ancestors().nth(3) {
        let local = target.join("adapters/redis/bin/redis-server");
        if local.is_file() {
            return Some(local);
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("redis-server"))
            .find(|p| p.is_file())
    })
}

/// The server, or `None` (skip) when there is none and CI is not set.
fn server_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(p) = find_server() {
        return Some(p);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let msg = "no redis-server: run scripts/setup_redis.sh (or set GAIT_REDIS_SERVER)";
    assert!(!ci, "{test}: {msg} (CI is set: this test must run)");
    // Straight to the process's stderr: libtest does not capture it, so the
    // skip shows even when the test passes.
    let _ = writeln!(std::io::stderr(), "\n!!!!! SKIPPED {test}: {msg} !!!!!");
    None
}

/// True when a Redis server answers `PING` on the port.
fn pings(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// A redis-server on a loopback port (a free one, or the one given),
/// without persistence; killed on drop.
struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start(bin: &Path, port: Option<u16>) -> Redis {
        for _attempt in 0..5 {
            let port = port.unwrap_or_else(|| {
                let l = TcpListener::bind("127.0.0.1:0").unwrap();
                l.local_addr().unwrap().port()
            });
            let dir = tempfile::tempdir().unwrap();
            let mut child = Command::new(bin)
                .args(["--bind", "127.0.0.1", "--port"])
                .arg(port.to_string())
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--loglevel", "warning", "--dir"])
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break; // the port was taken meanwhile: try again
                }
                if pings(port) {
                    return Redis {
                        child,
                        port,
                        _dir: dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server {} did not start", bin.display());
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `gait-run serve` on a free loopback port, in `dir`; killed on drop.
struct Sidecar {
    child: Child,
    addr: String,
}

impl Sidecar {
    fn start(dir: &Path, store: &str, log: &str) -> Sidecar {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gait-run"))
            .args(["serve", "--bundle", "p.gaitb", "--trust", "release.pub"])
            .args(["--listen", "127.0.0.1:0", "--workers", "2"])
            .args(["--approval-store", store, "--log", log])
            // Signature checks in a debug build on a busy machine: the
            // deadline must never be what decides.
            .args(["--decision-timeout-ms", "60000"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let v: Value = serde_json::from_str(&first)
            .unwrap_or_else(|e| panic!("no listening line ({e}): {first:?}"));
        Sidecar {
            child,
            addr: v["listening"].as_str().unwrap().to_owned(),
        }
    }

    fn conn(&self) -> Conn {
        Conn::open(&self.addr)
    }

    /// Still running, and `/healthz` answers.
    fn is_up(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none() && self.conn().get("/healthz").status == 200
    }

    fn approvals_total(&self, outcome: &str) -> f64 {
        let r = self.conn().get("/metrics");
        assert_eq!(r.status, 200);
        let m = parse_metrics(&r.text());
        m.get(&format!("gait_approvals_total{{outcome=\"{outcome}\"}}"))
            .copied()
            .unwrap_or(0.0)
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bundle (rule `unverified_skill`: two of alice and bob), its trust
/// key and the approvers' keys, in a fresh folder.
fn setup() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("p.gaitb"), bundle_bytes(2)).unwrap();
    std::fs::write(
        dir.join("release.pub"),
        format!("{}\n", key(9).public().to_base64()),
    )
    .unwrap();
    for (name, seed) in [("alice", 1), ("bob", 3)] {
        std::fs::write(dir.join(format!("{name}.key")), key(seed).to_file_text()).unwrap();
    }
    tmp
}

/// A read made by an unverified skill: `require_approval` (two approvers).
fn intent(path: &str) -> String {
    json!({"tool_name": "read_file", "args": {"path": path},
           "skill_provenance": {"skill_name": "web-search", "skill_version": "1.2.0",
                                "source": "registry", "publisher": "acme"},
           "context": {"risk_class": "low"}})
    .to_string()
}

/// Asks the sidecar about `intent` (no tokens), checks it needs alice and
/// bob, and has both approve the result: the two tokens' JSON text.
fn token_pair(dir: &Path, sidecar: &Sidecar, intent: &str) -> [String; 2] {
    let r = sidecar.conn().eval(intent.as_bytes());
    assert_eq!(r.status, 200);
    let req = r.json();
    assert_eq!(req["verdict"], "require_approval", "{req}");
    assert_eq!(
        req["approval_request"]["rules"],
        json!(["unverified_skill"])
    );
    assert_eq!(req["approval_request"]["approvals_required"], 2);
    assert_eq!(
        req["approval_request"]["approvers"],
        json!(["alice", "bob"])
    );
    std::fs::write(dir.join("request.json"), &r.body).unwrap();
    ["alice", "bob"].map(|who| {
        let o = Command::new(env!("CARGO_BIN_EXE_gait-run"))
            .args(["approve", "--request", "request.json", "--approver", who])
            .args(["--key", &format!("{who}.key")])
            .current_dir(dir)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "approve as {who}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let token = String::from_utf8(o.stdout).unwrap();
        let t: Value = serde_json::from_str(&token).unwrap();
        assert_eq!(t["approver"], who);
        assert_eq!(t["intent_digest"], req["intent_digest"]);
        token
    })
}

fn envelope(intent: &str, tokens: &[String; 2]) -> Vec<u8> {
    format!(
        r#"{{"intent": {intent}, "approval_tokens": [{}, {}]}}"#,
        tokens[0].trim(),
        tokens[1].trim()
    )
    .into_bytes()
}

/// The codes of the result's tokens, in order.
fn token_codes(r: &Value) -> Vec<&str> {
    r["approval"]["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect()
}

fn assert_granted(r: &Value) {
    assert_eq!(r["verdict"], "allow", "{r}");
    assert_eq!(
        r["reason_codes"],
        json!(["approval_granted", "skill_unverified"])
    );
    assert_eq!(r["approval"]["granted"], true);
    assert_eq!(r["approval"]["code"], "approval_granted");
    assert_eq!(r["approval"]["approvers"], json!(["alice", "bob"]));
    assert_eq!(
        token_codes(r),
        ["approval_token_accepted", "approval_token_accepted"]
    );
}

fn assert_replayed(r: &Value) {
    assert_eq!(r["verdict"], "require_approval", "{r}");
    assert_eq!(
        r["reason_codes"],
        json!([
            "approval_insufficient",
            "approval_token_replayed",
            "skill_unverified"
        ])
    );
    assert_eq!(r["approval"]["granted"], false);
    assert_eq!(r["approval"]["code"], "approval_insufficient");
    assert_eq!(
        token_codes(r),
        ["approval_token_replayed", "approval_token_replayed"]
    );
}

fn assert_store_unavailable(r: &Value) {
    assert_eq!(r["verdict"], "require_approval", "{r}");
    assert_eq!(
        r["reason_codes"],
        json!(["approval_store_unavailable", "skill_unverified"])
    );
    assert_eq!(r["approval"]["granted"], false);
    assert_eq!(r["approval"]["code"], "approval_store_unavailable");
    assert_eq!(
        token_codes(r),
        ["approval_token_valid", "approval_token_valid"]
    );
}

/// `gait_approvals_total{outcome}` summed over the sidecars.
fn total(sidecars: &[Sidecar], outcome: &str) -> f64 {
    sidecars.iter().map(|s| s.approvals_total(outcome)).sum()
}

#[test]
fn two_sidecars_on_one_redis_grant_each_pair_once_and_never_allow_without_it() {
    let test = "two_sidecars_on_one_redis_grant_each_pair_once_and_never_allow_without_it";
    let Some(bin) = server_or_skip(test) else {
        return;
    };
    let tmp = setup();
    let dir = tmp.path();
    let mut redis = Redis::start(&bin, None);
    let store = format!("redis://127.0.0.1:{}", redis.port);
    let mut sidecars = [
        Sidecar::start(dir, &store, "a.log"),
        Sidecar::start(dir, &store, "b.log"),
    ];

    // The race: one connection to each sidecar, opened beforehand; both
    // requests leave at the barrier.
    let mut conns = [sidecars[0].conn(), sidecars[1].conn()];
    let mut wins = [0usize; 2];
    for round in 0..ROUNDS {
        let intent = intent(&format!("/workspace/round-{round}.md"));
        let tokens = token_pair(dir, &sidecars[round % 2], &intent);
        let body = envelope(&intent, &tokens);
        let barrier = Barrier::new(2);
        let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
            let racers: Vec<_> = conns
                .iter_mut()
                .map(|c| {
                    let (body, barrier) = (&body, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let r = c.eval(body);
                        (r.status, r.json())
                    })
                })
                .collect();
            racers.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!((answers[0].0, answers[1].0), (200, 200), "round {round}");
        let allowed: Vec<usize> = (0..2)
            .filter(|&i| answers[i].1["verdict"] == "allow")
            .collect();
        assert_eq!(
            allowed.len(),
            1,
            "round {round}: exactly one allow: {} / {}",
            answers[0].1,
            answers[1].1
        );
        let winner = allowed[0];
        wins[winner] += 1;
        assert_granted(&answers[winner].1);
        assert_replayed(&answers[1 - winner].1);
        // Later, at either sidecar: still used.
        let r = conns[round % 2].eval(&body);
        assert_eq!(r.status, 200);
        assert_replayed(&r.json());
    }
    eprintln!("allows per sidecar over {ROUNDS} rounds: {wins:?}");
    assert_eq!(total(&sidecars, "approval_granted"), ROUNDS as f64);
    assert_eq!(
        total(&sidecars, "approval_insufficient"),
        2.0 * ROUNDS as f64
    );
    assert_eq!(total(&sidecars, "approval_store_unavailable"), 0.0);

    // Redis goes away. A fresh, valid pair is never an allow, on either
    // sidecar, however often it is tried; and the sidecars stay up.
    let port = redis.port;
    redis.kill();
    let intent = intent("/workspace/after-redis.md");
    let tokens = token_pair(dir, &sidecars[0], &intent);
    let body = envelope(&intent, &tokens);
    for attempt in 0..3 {
        for (i, c) in conns.iter_mut().enumerate() {
            let r = c.eval(&body);
            assert_eq!(r.status, 200, "sidecar {i}, attempt {attempt}");
            assert_store_unavailable(&r.json());
        }
    }
    // New connections too (the store is per process, not per connection).
    for s in &sidecars {
        let r = s.conn().eval(&body);
        assert_eq!(r.status, 200);
        assert_store_unavailable(&r.json());
    }
    for (i, s) in sidecars.iter_mut().enumerate() {
        assert!(s.is_up(), "sidecar {i} went down with the store");
    }
    assert_eq!(total(&sidecars, "approval_store_unavailable"), 8.0);
    assert_eq!(total(&sidecars, "approval_granted"), ROUNDS as f64);

    // Redis back (empty: no persistence) on the same port: the sidecars
    // reconnect, and the pair, never recorded, grants once.
    let _redis = Redis::start(&bin, Some(port));
    let r = conns[1].eval(&body);
    assert_eq!(r.status, 200);
    assert_granted(&r.json());
    let r = conns[0].eval(&body);
    assert_eq!(r.status, 200);
    assert_replayed(&r.json());
}
