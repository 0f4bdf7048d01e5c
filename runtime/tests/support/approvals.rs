//! Approvers in a bundle: the fail-closed matrix fixture
//! (`tests/fixtures/matrix.gaitb`) with approvers declared in its tables
//! (built by approval_bundle.rs, shared with the runtime's unit tests), and
//! a folder to run `gait-run` approvals in.

use gait_run::keys::KeyPair;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};

include!("approval_bundle.rs");

/// The key pair of seed `[seed; 32]`: alice is 1, bob 3, carol 4 (not an
/// approver), the bundle's signer 9.
pub fn key(seed: u8) -> KeyPair {
    seed_key(seed)
}

/// The fail-closed matrix fixture with approvers alice (seed 1) and bob
/// (seed 3); rule `unverified_skill` (require_approval) allows alice and
/// bob and needs `n` of them; signed by seed 9.
pub fn bundle_bytes(n: u32) -> Vec<u8> {
    approval_bundle(&ApprovalSpec {
        approvers: &[("alice", 1), ("bob", 3)],
        set: Some(&["alice", "bob"]),
        n,
        interactive: false,
        default_ra: false,
    })
}

/// A folder with the bundle of [`bundle_bytes`], its trust key
/// (`release.pub`), the keys of alice, bob and carol (`NAME.key`), intents
/// `a.json` and `b.json` (reads by an unverified skill: require_approval)
/// and `block.json`; `gait-run` run in it.
pub struct Env {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

impl Env {
    pub fn new(n: u32) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::write(dir.join("p.gaitb"), bundle_bytes(n)).unwrap();
        std::fs::write(
            dir.join("release.pub"),
            format!("{}\n", key(9).public().to_base64()),
        )
        .unwrap();
        for (name, seed) in [("alice", 1), ("bob", 3), ("carol", 4)] {
            std::fs::write(dir.join(format!("{name}.key")), key(seed).to_file_text()).unwrap();
        }
        let intent = |path: &str| {
            json!({"tool_name": "read_file", "args": {"path": path},
                   "skill_provenance": {"skill_name": "web-search", "source": "registry", "publisher": "acme"},
                   "context": {"risk_class": "low"}})
            .to_string()
        };
        std::fs::write(dir.join("a.json"), intent("/workspace/a")).unwrap();
        std::fs::write(dir.join("b.json"), intent("/workspace/b")).unwrap();
        std::fs::write(
            dir.join("block.json"),
            r#"{"tool_name":"delete_file","targets":[{"kind":"path","value":"/workspace/x","operation":"delete"}],"context":{"risk_class":"low"}}"#,
        )
        .unwrap();
        Env { _tmp: tmp, dir }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_gait-run"))
            .args(args)
            .current_dir(&self.dir)
            .env("XDG_STATE_HOME", self.dir.join("state"))
            .output()
            .unwrap()
    }

    /// `eval` of an intent file, with extra arguments: the process's output.
    pub fn eval_output(&self, intent: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "eval",
            "--bundle",
            "p.gaitb",
            "--trust",
            "release.pub",
            "--intent",
            intent,
            // Signature checks in a debug build on a busy machine.
            "--decision-timeout-ms",
            "60000",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `eval` of an intent file, with extra arguments; (exit, result).
    pub fn eval(&self, intent: &str, extra: &[&str]) -> (i32, Value) {
        let o = self.eval_output(intent, extra);
        let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&o.stderr));
        });
        (o.status.code().unwrap(), v)
    }

    /// Saves the result of `intent` as `name` (for `approve --request`).
    pub fn request(&self, intent: &str, name: &str) -> Value {
        let (_, v) = self.eval(intent, &[]);
        std::fs::write(self.dir.join(name), v.to_string()).unwrap();
        v
    }

    /// `approve --request REQUEST --key KEY --approver WHO`, with extra
    /// arguments.
    pub fn approve(&self, request: &str, key: &str, who: &str, extra: &[&str]) -> Output {
        let mut all = vec![
            "approve",
            "--request",
            request,
            "--key",
            key,
            "--approver",
            who,
        ];
        all.extend_from_slice(extra);
        self.run(&all)
    }

    /// Signs `WHO.tok` for the request `ra.json` with `KEY` (succeeding).
    pub fn token(&self, who: &str, key: &str) {
        let out = format!("{who}.tok");
        let o = self.approve("ra.json", key, who, &["-o", &out]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
