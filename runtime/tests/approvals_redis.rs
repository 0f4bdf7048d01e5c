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
//! The server is found and started by runtime/src/stores/redis_server.rs
//! (shared with the store's unit tests): `$GAIT_REDIS_SERVER`, else what
//! `scripts/setup_redis.sh` installs, else `redis-server` on PATH. Without
//! one the test is skipped, loudly — and fails when `CI` is set.

#[path = "../src/stores/redis_server.rs"]
mod redis_server;
mod support;

use redis_server::{server_or_skip, Server};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Barrier;
use support::approvals::{bundle_bytes, key};
use support::http::{parse_metrics, stop_and_read_log, Conn};

/// Rounds of the race, each with a fresh intent and a fresh token pair.
const ROUNDS: usize = 20;

/// The server's password: in the sidecars' store URL, never in their logs.
const PASSWORD: &str = "s3cret-fleet-only";

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
    let mut redis = Server::start(&bin, None, Some(PASSWORD));
    let store = format!("redis://:{PASSWORD}@127.0.0.1:{}", redis.port);
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
    let _redis = Server::start(&bin, Some(port), Some(PASSWORD));
    let r = conns[1].eval(&body);
    assert_eq!(r.status, 200);
    assert_granted(&r.json());
    let r = conns[0].eval(&body);
    assert_eq!(r.status, 200);
    assert_replayed(&r.json());
    // The decision logs, with the store's failures, never hold its password.
    // Stopped with SIGTERM, as an operator would: the log writer batches
    // lines for up to 50 ms and a graceful stop writes what is pending (a
    // SIGKILL loses it, and made this check flaky).
    for (s, log) in sidecars.iter_mut().zip(["a.log", "b.log"]) {
        let lines = stop_and_read_log(&mut s.child, &dir.join(log));
        let text = std::fs::read_to_string(dir.join(log)).unwrap();
        let unavailable = lines
            .iter()
            .filter(|l| l["approval"]["code"] == "approval_store_unavailable")
            .count();
        assert_eq!(unavailable, 4, "{log}: {text}");
        assert!(!text.contains(PASSWORD), "{log} holds the password");
    }
}
