//! The approval step through the gate, with hand-written expectations:
//! every code, binding to one intent, a block never turned, and a property
//! test over random token sequences.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on broken fixtures"
)]

use super::token::Claims;
use super::{Approvals, Consumed, ReplayStore, StoreError, TokenUse};
use crate::bundle::{self, Verified, VerifyOptions};
use crate::gate::{self, EvalOptions, Summary};
use crate::keys::KeyPair;
use crate::tables::{Scratch, TableData, Tables};
use crate::vocab::Verdict;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Mutex;

/// 2026-12-04T08:00:00Z: the time tokens are judged at.
const NOW: i64 = 1_796_371_200;

/// A replay store in memory (tests only).
#[derive(Default)]
pub(crate) struct MemStore(Mutex<HashSet<String>>);

impl ReplayStore for MemStore {
    fn consume(&self, ids: &[TokenUse<'_>]) -> Result<Consumed, StoreError> {
        let mut used = self.0.lock().unwrap();
        let replayed: Vec<usize> = (0..ids.len())
            .filter(|&i| used.contains(ids[i].token_id))
            .collect();
        if !replayed.is_empty() {
            return Ok(Consumed::Replayed(replayed));
        }
        used.extend(ids.iter().map(|u| u.token_id.to_owned()));
        Ok(Consumed::Recorded)
    }
    fn describe(&self) -> String {
        "memory".into()
    }
}

struct Broken;
impl ReplayStore for Broken {
    fn consume(&self, _: &[TokenUse<'_>]) -> Result<Consumed, StoreError> {
        Err(StoreError("connection refused".into()))
    }
    fn describe(&self) -> String {
        "broken".into()
    }
}

/// The bundle builder shared with the integration tests
/// (tests/support/approval_bundle.rs).
mod shared {
    use crate as gait_run;
    include!("../../tests/support/approval_bundle.rs");
}

/// The seed of each approver key of [`fixture`].
fn seed(name: &str) -> u8 {
    match name {
        "alice" => 1,
        "alice2" => 2,
        "bob" => 3,
        "carol" => 4,
        _ => 5,
    }
}

pub(crate) fn key(name: &str) -> KeyPair {
    shared::seed_key(seed(name))
}

/// The fail-closed matrix fixture (rule `unverified_skill` requires
/// approval, `deletes` blocks) with approvers alice (two keys), bob and
/// carol; `set` restricts `unverified_skill` to those approvers, `n` is its
/// `approvals N`; `default_ra` makes the default `require_approval`.
pub(crate) fn fixture(
    set: Option<&[&str]>,
    n: u32,
    interactive: bool,
    default_ra: bool,
) -> Verified {
    let bytes = shared::approval_bundle(&shared::ApprovalSpec {
        approvers: &[
            ("alice", seed("alice")),
            ("alice", seed("alice2")),
            ("bob", seed("bob")),
            ("carol", seed("carol")),
        ],
        set,
        n,
        interactive,
        default_ra,
    });
    let opts = VerifyOptions {
        trust: vec![shared::seed_key(shared::SIGNER_SEED).public().clone()],
        now: NOW,
        ..VerifyOptions::default()
    };
    bundle::verify(&bytes, &opts).unwrap()
}

/// An intent that needs approval (an unverified skill reading `path`).
pub(crate) fn intent(path: &str) -> Vec<u8> {
    json!({"tool_name": "read_file", "args": {"path": path},
           "skill_provenance": {"skill_name": "web-search", "skill_version": "9.9.9", "source": "registry", "publisher": "acme"},
           "context": {"risk_class": "low"}})
    .to_string()
    .into_bytes()
}

/// An intent the policy blocks (a delete, no skill).
pub(crate) const BLOCKED: &[u8] = br#"{"tool_name":"delete_file","targets":[{"kind":"path","value":"/workspace/x","operation":"delete"}],"context":{"risk_class":"low"}}"#;

pub(crate) fn run<'b>(
    b: &'b Verified,
    intent: &[u8],
    tokens: &[Vec<u8>],
    store: Option<&dyn ReplayStore>,
    interactive: Option<&str>,
) -> (Summary<'b>, Value) {
    let tokens: Vec<&[u8]> = tokens.iter().map(Vec::as_slice).collect();
    let opts = EvalOptions {
        approvals: Approvals {
            tokens: &tokens,
            store,
            interactive,
            now: Some(NOW),
        },
        // Signature checks in an unoptimized build on a busy machine: not
        // what these tests are about.
        decision_timeout: Some(std::time::Duration::from_secs(120)),
        ..EvalOptions::default()
    };
    let mut out = Vec::new();
    let s = gate::evaluate(b, intent, &opts, &mut Scratch::default(), &mut out);
    (s, serde_json::from_slice(&out).unwrap())
}

/// A token for the approval request of `intent`, issued `issued` seconds
/// from NOW, valid `ttl` seconds.
pub(crate) fn token_for(
    b: &Verified,
    intent: &[u8],
    approver: &str,
    k: &KeyPair,
    issued: i64,
    ttl: i64,
) -> Vec<u8> {
    let (_, r) = run(b, intent, &[], None, None);
    // A result without a request (a block): the token binds what it shows.
    let shown = json!({"intent_digest": r["intent_digest"], "policy_digest": r["policy"]["digest"],
                       "policy_revision": r["policy"]["revision"], "rules": r["matched_rules"]});
    let req = r.get("approval_request").unwrap_or(&shown);
    let at = NOW + issued;
    Claims {
        token_id: crate::hex(
            &crate::sha256(
                format!(
                    "{approver}{issued}{ttl}{}{}",
                    k.public().id(),
                    req["intent_digest"]
                )
                .as_bytes(),
            )[..16],
        ),
        approver: approver.into(),
        key_id: String::new(),
        intent_digest: req["intent_digest"].as_str().unwrap().into(),
        policy_digest: req["policy_digest"].as_str().unwrap().into(),
        policy_revision: req["policy_revision"].as_u64().unwrap() as u32,
        rules: req["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect(),
        issued_at: crate::time::format_rfc3339(at),
        not_after: crate::time::format_rfc3339(at + ttl),
        issued_at_secs: at,
        not_after_secs: at + ttl,
    }
    .sign(k)
}

fn tok(b: &Verified, approver: &str) -> Vec<u8> {
    token_for(
        b,
        &intent("/workspace/a"),
        approver,
        &key(approver),
        -10,
        600,
    )
}

fn codes(r: &Value) -> Vec<&str> {
    r["approval"]["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect()
}

#[test]
fn a_require_approval_result_carries_its_request() {
    let b = fixture(Some(&["alice", "bob"]), 1, false, false);
    let (s, r) = run(&b, &intent("/workspace/a"), &[], None, None);
    assert_eq!(s.verdict, Verdict::RequireApproval);
    assert_eq!(s.approval, None);
    assert!(r.get("approval").is_none());
    assert_eq!(
        r["approval_request"],
        json!({"intent_digest": r["intent_digest"], "tool_name": "read_file", "policy_digest": b.policy_digest(), "policy_revision": 3,
               "rules": ["unverified_skill"], "approvals_required": 1, "approvers": ["alice", "bob"],
               "interactive": false, "approval_ttl_seconds": 900,
               "skill_provenance": {"skill_name": "web-search", "skill_version": "9.9.9", "publisher": "acme",
                                    "source": "registry", "digest": null, "signature_key_id": null}})
    );
    // Other verdicts have no request.
    let (_, r) = run(&b, BLOCKED, &[], None, None);
    assert_eq!(r["verdict"], "block");
    assert!(r.get("approval_request").is_none());
}

#[test]
fn one_valid_token_grants_once() {
    let b = fixture(None, 1, false, false);
    let store = MemStore::default();
    let t = tok(&b, "alice");
    let (s, r) = run(
        &b,
        &intent("/workspace/a"),
        std::slice::from_ref(&t),
        Some(&store),
        None,
    );
    assert_eq!((s.verdict, s.exit), (Verdict::Allow, 0));
    assert_eq!(
        r["reason_codes"],
        json!(["approval_granted", "skill_unverified"])
    );
    assert_eq!(r["violations"], json!([]));
    assert_eq!(r["required_approvals"], 0);
    let id = super::token::read(&t).unwrap().claims.token_id;
    assert_eq!(
        r["approval"],
        json!({"granted": true, "code": "approval_granted", "approvers": ["alice"],
               "tokens": [{"token_id": id, "approver": "alice", "code": "approval_token_accepted"}]})
    );
    assert!(r.get("approval_request").is_none());
    assert_eq!(s.approval.as_ref().unwrap().approvers, ["alice"]);
    // Single use.
    let (s, r) = run(&b, &intent("/workspace/a"), &[t], Some(&store), None);
    assert_eq!((s.verdict, s.exit), (Verdict::RequireApproval, 4));
    assert_eq!(codes(&r), ["approval_token_replayed"]);
    assert_eq!(
        r["reason_codes"],
        json!([
            "approval_insufficient",
            "approval_token_replayed",
            "skill_unverified"
        ])
    );
    assert_eq!(r["approval"]["granted"], false);
}

#[test]
fn every_token_code() {
    let b = fixture(Some(&["alice", "bob"]), 1, false, false);
    let a = intent("/workspace/a");
    let at = |approver: &str, k: &str, issued: i64, ttl: i64| {
        token_for(&b, &a, approver, &key(k), issued, ttl)
    };
    // A signature by another key under alice's key id.
    let mut forged: Value = serde_json::from_slice(&at("alice", "mallory", -10, 600)).unwrap();
    forged["key_id"] = json!(key("alice").public().id());
    forged["signature"]["key_id"] = json!(key("alice").public().id());
    // Alice's good token with one claim changed and re-signed: the claim
    // differs, the signature holds.
    let edited = |claim: &str, value: Value| {
        let mut v: Value = serde_json::from_slice(&at("alice", "alice", -10, 600)).unwrap();
        v[claim] = value;
        resign(&v, &key("alice"))
    };
    let wrong_rules = edited("rules", json!(["other"]));
    let other_revision = edited("policy_revision", json!(4));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("garbage", b"not json".to_vec(), "approval_token_invalid"),
        (
            "wrong schema",
            br#"{"schema_id":"gait.gate.result"}"#.to_vec(),
            "approval_token_invalid",
        ),
        (
            "ttl over the policy's",
            at("alice", "alice", -10, 901),
            "approval_token_invalid",
        ),
        (
            "forged",
            forged.to_string().into_bytes(),
            "approval_token_signature_invalid",
        ),
        (
            "undeclared approver",
            at("mallory", "mallory", -10, 600),
            "approval_token_untrusted_approver",
        ),
        (
            "another approver's key",
            at("alice", "bob", -10, 600),
            "approval_token_untrusted_approver",
        ),
        (
            "not allowed for the rule",
            at("carol", "carol", -10, 600),
            "approval_token_untrusted_approver",
        ),
        (
            "expired",
            at("alice", "alice", -700, 600),
            "approval_token_expired",
        ),
        (
            "expires now",
            at("alice", "alice", -600, 600),
            "approval_token_expired",
        ),
        (
            "not yet valid",
            at("alice", "alice", 61, 600),
            "approval_token_not_yet_valid",
        ),
        (
            "intent B",
            token_for(
                &b,
                &intent("/workspace/b"),
                "alice",
                &key("alice"),
                -10,
                600,
            ),
            "approval_token_intent_mismatch",
        ),
        (
            "not_after far beyond the TTL",
            edited("not_after", json!("9999-12-31T23:59:59Z")),
            "approval_token_invalid",
        ),
        (
            // Cyrillic `а`: another name, whatever it looks like.
            "confusable approver name",
            edited("approver", json!("\u{430}lice")),
            "approval_token_untrusted_approver",
        ),
        (
            "an interactive label as a token's approver",
            edited("approver", json!("interactive:alice")),
            "approval_token_untrusted_approver",
        ),
        ("other rules", wrong_rules, "approval_token_policy_mismatch"),
        (
            "other revision",
            other_revision,
            "approval_token_policy_mismatch",
        ),
    ];
    for (name, t, code) in cases {
        let store = MemStore::default();
        let (s, r) = run(&b, &a, &[t], Some(&store), None);
        assert_eq!(s.verdict, Verdict::RequireApproval, "{name}");
        assert_eq!(codes(&r), [code], "{name}");
        assert_eq!(
            r["reason_codes"],
            json!(["approval_insufficient", code, "skill_unverified"]),
            "{name}"
        );
    }
    // Within the skew allowance, and alice's second key: valid.
    for t in [
        at("alice", "alice", 60, 600),
        at("alice", "alice2", -10, 600),
    ] {
        let (s, _) = run(&b, &a, &[t], Some(&MemStore::default()), None);
        assert_eq!(s.verdict, Verdict::Allow);
    }
}

/// Re-signs an edited token (its claims as the JSON says).
fn resign(v: &Value, k: &KeyPair) -> Vec<u8> {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("signature");
    let body = crate::jcs::to_string(&v);
    v["signature"] = json!({"alg": "ed25519", "key_id": k.public().id(), "sig": crate::keys::b64_encode(&k.sign(body.as_bytes()))});
    v.to_string().into_bytes()
}

#[test]
fn n_distinct_approvers() {
    let b = fixture(None, 2, false, false);
    let a = intent("/workspace/a");
    let alice2 = token_for(&b, &a, "alice", &key("alice2"), -5, 600);
    let (s, r) = run(
        &b,
        &a,
        &[tok(&b, "alice"), alice2.clone()],
        Some(&MemStore::default()),
        None,
    );
    assert_eq!(s.verdict, Verdict::RequireApproval);
    assert_eq!(
        codes(&r),
        ["approval_token_valid", "approval_token_duplicate_approver"]
    );
    assert_eq!(
        r["approval"]["code"],
        "approval_distinct_approvers_required"
    );
    assert_eq!(
        r["reason_codes"],
        json!([
            "approval_distinct_approvers_required",
            "approval_token_duplicate_approver",
            "skill_unverified"
        ])
    );
    let (s, r) = run(
        &b,
        &a,
        &[tok(&b, "alice")],
        Some(&MemStore::default()),
        None,
    );
    assert_eq!(
        (s.verdict, r["approval"]["code"].as_str()),
        (Verdict::RequireApproval, Some("approval_insufficient"))
    );
    assert_eq!(r["approval"]["approvers"], json!(["alice"]));
    let store = MemStore::default();
    let (s, r) = run(
        &b,
        &a,
        &[tok(&b, "bob"), alice2, tok(&b, "alice"), tok(&b, "carol")],
        Some(&store),
        None,
    );
    assert_eq!(s.verdict, Verdict::Allow);
    // Every distinct approver's token is used (a valid approval does not
    // linger); a second token of the same approver is not.
    assert_eq!(r["approval"]["approvers"], json!(["alice", "bob", "carol"]));
    assert_eq!(
        codes(&r),
        [
            "approval_token_accepted",
            "approval_token_accepted",
            "approval_token_duplicate_approver",
            "approval_token_accepted"
        ]
    );
    // Used tokens never grant again; alice's unused one with a fresh one of
    // bob's does.
    let (s, r) = run(
        &b,
        &a,
        &[tok(&b, "bob"), tok(&b, "carol")],
        Some(&store),
        None,
    );
    assert_eq!(s.verdict, Verdict::RequireApproval);
    assert_eq!(
        codes(&r),
        ["approval_token_replayed", "approval_token_replayed"]
    );
    let fresh_bob = token_for(&b, &a, "bob", &key("bob"), -3, 600);
    let (s, r) = run(&b, &a, &[tok(&b, "alice"), fresh_bob], Some(&store), None);
    assert_eq!(s.verdict, Verdict::Allow, "{r}");
}

#[test]
fn a_token_id_reused_by_another_approver_is_a_replay() {
    // bob signs a token carrying alice's token id: two valid signatures,
    // two distinct approvers, one id. The id is used once: bob's is a
    // replay, and N = 2 is not reached — judged by the gate, the same with
    // every store (this one would record a repeated id twice).
    let b = fixture(None, 2, false, false);
    let a = intent("/workspace/a");
    let alice = tok(&b, "alice");
    let alice_id = serde_json::from_slice::<Value>(&alice).unwrap()["token_id"].clone();
    let mut bob: Value = serde_json::from_slice(&tok(&b, "bob")).unwrap();
    bob["token_id"] = alice_id;
    let bob = resign(&bob, &key("bob"));
    let store = MemStore::default();
    let (s, r) = run(&b, &a, &[alice.clone(), bob], Some(&store), None);
    assert_eq!(s.verdict, Verdict::RequireApproval);
    assert_eq!(
        codes(&r),
        ["approval_token_valid", "approval_token_replayed"]
    );
    assert_eq!(r["approval"]["code"], "approval_insufficient");
    assert_eq!(r["approval"]["approvers"], json!(["alice"]));
    assert_eq!(
        r["reason_codes"],
        json!([
            "approval_insufficient",
            "approval_token_replayed",
            "skill_unverified"
        ])
    );
    // Nothing was consumed: alice's token still grants with a real second
    // approval.
    let (s, r) = run(&b, &a, &[alice, tok(&b, "bob")], Some(&store), None);
    assert_eq!(s.verdict, Verdict::Allow, "{r}");
}

#[test]
fn no_store_or_a_failing_store_never_allows() {
    let b = fixture(None, 1, false, false);
    let a = intent("/workspace/a");
    for (store, says) in [
        (None, "no replay store"),
        (Some(&Broken as &dyn ReplayStore), "connection refused"),
    ] {
        let (s, r) = run(&b, &a, &[tok(&b, "alice")], store, None);
        assert_eq!((s.verdict, s.exit), (Verdict::RequireApproval, 4));
        assert_eq!(codes(&r), ["approval_token_valid"]);
        assert_eq!(
            r["reason_codes"],
            json!(["approval_store_unavailable", "skill_unverified"])
        );
        // What the store said is carried, in the result and the outcome
        // (the trace and the sidecar's log line serialize the outcome).
        assert_eq!(r["approval"]["store_error"], says, "{r}");
        let outcome = s.approval.as_deref().unwrap();
        assert_eq!(outcome.store_error.as_deref(), Some(says));
        assert_eq!(serde_json::to_value(outcome).unwrap()["store_error"], says);
    }
    // A store that answers has nothing to say: no `store_error`.
    let (s, r) = run(
        &b,
        &a,
        &[tok(&b, "alice")],
        Some(&MemStore::default()),
        None,
    );
    assert_eq!(s.verdict, Verdict::Allow, "{r}");
    assert!(r["approval"].get("store_error").is_none(), "{r}");
    let (_, r) = run(&b, &a, &[], Some(&Broken), None);
    assert!(r.get("approval").is_none(), "{r}");
}

#[test]
fn a_block_is_never_turned() {
    let b = fixture(None, 1, false, true);
    let tokens = vec![
        tok(&b, "alice"),
        tok(&b, "bob"),
        token_for(&b, BLOCKED, "alice", &key("alice"), -1, 60),
    ];
    let (s, r) = run(
        &b,
        BLOCKED,
        &tokens,
        Some(&MemStore::default()),
        Some("interactive:x"),
    );
    assert_eq!((s.verdict, s.exit), (Verdict::Block, 3));
    assert_eq!(r["reason_codes"], json!(["destructive_blocked"]));
    assert!(r.get("approval").is_none() && s.approval.is_none());
    // Nor is --simulate a way to consume or judge tokens.
    let opts = EvalOptions {
        simulate: true,
        approvals: Approvals {
            tokens: &[tokens[0].as_slice()],
            store: None,
            interactive: None,
            now: Some(NOW),
        },
        decision_timeout: Some(std::time::Duration::from_secs(120)),
        ..EvalOptions::default()
    };
    let mut out = Vec::new();
    let s = gate::evaluate(
        &b,
        &intent("/workspace/a"),
        &opts,
        &mut Scratch::default(),
        &mut out,
    );
    assert!(s.approval.is_none());
}

#[test]
fn a_default_require_approval_is_approved_by_any_declared_approver() {
    let b = fixture(Some(&["bob"]), 2, false, true);
    let i = br#"{"tool_name":"fetch","targets":[{"kind":"url","value":"https://example.com/"}],"context":{"risk_class":"low"}}"#;
    let (s, r) = run(&b, i, &[], None, None);
    assert_eq!(s.verdict, Verdict::RequireApproval);
    assert_eq!(r["decision"], "default");
    assert_eq!(r["approval_request"]["rules"], json!([]));
    assert_eq!(r["approval_request"]["approvals_required"], 1);
    assert_eq!(
        r["approval_request"]["approvers"],
        json!(["alice", "bob", "carol"])
    );
    let t = token_for(&b, i, "carol", &key("carol"), 0, 60);
    let (s, r) = run(&b, i, &[t], Some(&MemStore::default()), None);
    assert_eq!(s.verdict, Verdict::Allow);
    assert_eq!(
        r["reason_codes"],
        json!(["approval_granted", "default_require_approval"])
    );
}

#[test]
fn an_interactive_approval_counts_only_where_every_rule_allows_it() {
    let a = intent("/workspace/a");
    let b = fixture(None, 1, true, false);
    let (s, r) = run(&b, &a, &[], None, None);
    assert!(s.interactive_approval);
    assert_eq!(r["approval_request"]["interactive"], true);
    let (s, r) = run(&b, &a, &[], None, Some("interactive:claude"));
    assert_eq!(s.verdict, Verdict::Allow);
    assert_eq!(
        r["approval"],
        json!({"granted": true, "code": "approval_granted", "approvers": ["interactive:claude"], "tokens": []})
    );
    // With N = 2 it is one of them (and the proxy is not told to ask: one
    // answer cannot be enough).
    let b2 = fixture(None, 2, true, false);
    let (s, r) = run(&b2, &a, &[], None, None);
    assert!(!s.interactive_approval);
    assert_eq!(r["approval_request"]["interactive"], true);
    let (s, _) = run(&b2, &a, &[], None, Some("interactive:claude"));
    assert_eq!(s.verdict, Verdict::RequireApproval);
    let (s, r) = run(
        &b2,
        &a,
        &[tok(&b2, "alice")],
        Some(&MemStore::default()),
        Some("interactive:claude"),
    );
    assert_eq!(s.verdict, Verdict::Allow);
    assert_eq!(
        r["approval"]["approvers"],
        json!(["alice", "interactive:claude"])
    );
    // Not interactive: it does not count (nothing was judged).
    let b3 = fixture(None, 1, false, false);
    let (s, r) = run(&b3, &a, &[], None, Some("interactive:claude"));
    assert_eq!(s.verdict, Verdict::RequireApproval);
    assert!(r.get("approval").is_none());
    let (s, r) = run(&b3, &a, &[b"x".to_vec()], None, Some("interactive:claude"));
    assert_eq!(s.verdict, Verdict::RequireApproval);
    assert_eq!(r["approval"]["approvers"], json!([]));
}

#[test]
fn the_trace_records_the_approval() {
    let b = fixture(None, 1, false, false);
    let dir = tempfile::tempdir().unwrap();
    let t = tok(&b, "alice");
    let store = MemStore::default();
    let opts = EvalOptions {
        trace: Some((dir.path().to_path_buf(), KeyPair::from_seed(&[6; 32]))),
        approvals: Approvals {
            tokens: &[t.as_slice()],
            store: Some(&store),
            interactive: None,
            now: Some(NOW),
        },
        decision_timeout: Some(std::time::Duration::from_secs(120)),
        ..EvalOptions::default()
    };
    let mut out = Vec::new();
    let s = gate::evaluate(
        &b,
        &intent("/workspace/a"),
        &opts,
        &mut Scratch::default(),
        &mut out,
    );
    assert_eq!(s.verdict, Verdict::Allow);
    let r: Value = serde_json::from_slice(&out).unwrap();
    let trace: Value =
        serde_json::from_slice(&std::fs::read(r["trace_path"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(trace["verdict"], "allow");
    assert_eq!(trace["approval"], r["approval"]);
    assert_eq!(trace["approval"]["tokens"][0]["approver"], "alice");
    let signer = KeyPair::from_seed(&[6; 32]).public().clone();
    assert!(gate::verify_trace(&trace, &[signer]).is_ok());
}

#[test]
fn an_interactive_label_is_not_a_second_approver_by_name() {
    // A token whose approver is named like the interactive approval's label
    // does not count twice.
    let b = fixture(None, 2, true, false);
    let a = intent("/workspace/a");
    let (s, r) = run(
        &b,
        &a,
        &[tok(&b, "alice")],
        Some(&MemStore::default()),
        Some("alice"),
    );
    assert_eq!(s.verdict, Verdict::RequireApproval);
    assert_eq!(codes(&r), ["approval_token_duplicate_approver"]);
}

#[test]
fn tokens_past_the_limit_are_invalid() {
    let b = fixture(None, 1, false, false);
    let mut tokens = vec![b"x".to_vec(); super::check::MAX_TOKENS];
    tokens.push(tok(&b, "alice"));
    let (s, r) = run(
        &b,
        &intent("/workspace/a"),
        &tokens,
        Some(&MemStore::default()),
        None,
    );
    assert_eq!(s.verdict, Verdict::RequireApproval);
    assert!(codes(&r).iter().all(|c| *c == "approval_token_invalid"));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    /// A token sequence: picks from a pool (valid for intent A, for intent
    /// B, for the blocked intent), each maybe with one byte changed.
    fn sequence() -> impl Strategy<Value = Vec<(usize, Option<(usize, u8)>)>> {
        prop::collection::vec(
            (0usize..9, prop::option::of((any::<usize>(), 1u8..=255))),
            0..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
        #[test]
        fn no_token_sequence_turns_a_block_or_skips_n_distinct_approvers(seq in sequence()) {
            let b = fixtures();
            let a = intent("/workspace/a");
            let pool: Vec<Vec<u8>> = vec![
                token_for(b, &a, "alice", &key("alice"), -1, 300),
                token_for(b, &a, "alice", &key("alice2"), -2, 300),
                token_for(b, &a, "bob", &key("bob"), -1, 300),
                token_for(b, &a, "carol", &key("carol"), -1, 300),
                token_for(b, &a, "mallory", &key("mallory"), -1, 300),
                token_for(b, &intent("/workspace/b"), "bob", &key("bob"), -1, 300),
                token_for(b, BLOCKED, "alice", &key("alice"), -1, 300),
                token_for(b, BLOCKED, "bob", &key("bob"), -1, 300),
                token_for(b, &a, "carol", &key("carol"), -900, 300),
            ];
            let valid_for_a = [Some("alice"), Some("alice"), Some("bob"), Some("carol"), None, None, None, None, None];
            let mut tokens = Vec::new();
            let mut distinct = HashSet::new();
            for (i, m) in &seq {
                let mut t = pool[*i].clone();
                match m {
                    Some((at, x)) => { let n = t.len(); t[at % n] ^= x; }
                    None => { if let Some(a) = valid_for_a[*i] { distinct.insert(a); } }
                }
                tokens.push(t);
            }
            let (s, _) = run(b, BLOCKED, &tokens, Some(&MemStore::default()), None);
            prop_assert_eq!(s.verdict, Verdict::Block);
            let (s, r) = run(b, &a, &tokens, Some(&MemStore::default()), None);
            prop_assert_eq!(s.verdict == Verdict::Allow, distinct.len() >= 2, "{}", r);
        }
    }

    fn fixtures() -> &'static Verified {
        static B: std::sync::OnceLock<Verified> = std::sync::OnceLock::new();
        B.get_or_init(|| fixture(None, 2, false, false))
    }
}

/// Approver keys are decoded when the bundle loads: a key that is not an
/// Ed25519 key, or a record whose key id is not its key's, rejects it.
#[test]
fn a_bundle_with_a_bad_approver_key_does_not_load() {
    let bytes = include_bytes!("../../tests/fixtures/matrix.gaitb");
    let u = bundle::parse(bytes).unwrap();
    let base = TableData::decode(u.payload).unwrap();
    let with = |name: &str, id: &str, b64: &str| {
        let mut d = base.clone();
        for s in [name, id, b64] {
            let id = d.strings.push(s).unwrap();
            d.approvers.push(id);
        }
        Tables::load(d)
    };
    let alice = key("alice").public().clone();
    let bob = key("bob").public().clone();
    let good = with("alice", alice.id(), &alice.to_base64()).unwrap();
    assert_eq!(good.approver_public_key("alice", alice.id()), Some(&alice));
    assert_eq!(good.approver_public_key("alice", bob.id()), None);
    assert_eq!(good.approver_public_key("bob", alice.id()), None);
    let err = with("alice", bob.id(), &alice.to_base64()).unwrap_err();
    assert!(err.to_string().contains("is not the key's"), "{err}");
    let err = with("alice", alice.id(), "AAAA").unwrap_err();
    assert!(err.to_string().contains("approver alice"), "{err}");
    // One key under two names: its holder would count as two approvers.
    let mut d = base.clone();
    for name in ["alice", "alice2"] {
        for s in [name, alice.id(), &alice.to_base64()] {
            let id = d.strings.push(s).unwrap();
            d.approvers.push(id);
        }
    }
    let err = Tables::load(d).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "approvers alice and alice2 share the key {}",
            alice.id()
        )),
        "{err}"
    );
}
