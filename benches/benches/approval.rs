#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark setup fails loudly"
)]
//! The approval step's cost (issue 18): one `require_approval` decision,
//! intent text in and result out, without tokens and with two valid tokens
//! from two approvers (N = 2: two Ed25519 verifications, one store call
//! into a store that records nothing, so every iteration grants); and an
//! `allow` decision, which must not be slower than before; the approval
//! check alone, and its crypto floor (one strict Ed25519 verification).
//! Run:
//! `cargo bench -p gait-benches --bench approval`.

use criterion::{criterion_group, criterion_main, Criterion};
use gait_run::approval::check::{check, Binding, Request};
use gait_run::approval::token::Claims;
use gait_run::approval::{Approvals, Consumed, ReplayStore, StoreError, TokenUse};
use gait_run::bundle::{self, Verified, VerifyOptions};
use gait_run::gate::{evaluate, EvalOptions};
use gait_run::keys::KeyPair;
use gait_run::tables::Scratch;
use gait_run::vocab::Verdict;
use std::hint::black_box;
use std::path::Path;

/// Grants every time (the bench measures the check, not a store).
struct Forgetful;
impl ReplayStore for Forgetful {
    fn consume(&self, _: &[TokenUse<'_>]) -> Result<Consumed, StoreError> {
        Ok(Consumed::Recorded)
    }
    fn describe(&self) -> String {
        "forgetful".into()
    }
}

fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed(&[seed; 32])
}

/// The fail-closed matrix policy (`runtime/tests/fixtures/matrix.gaitpol`,
/// the source of `matrix.gaitb`) with approvers alice (seed 1) and bob
/// (seed 3) declared and `approvals 2` on its `unverified_skill` rule,
/// compiled by gaitc ([`gait_benches::gait::compile`]).
fn fixture() -> Verified {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/tests/fixtures/matrix.gaitpol");
    let src = std::fs::read_to_string(path).unwrap();
    let approvers: String = [("alice", 1), ("bob", 3)]
        .iter()
        .map(|(n, s)| {
            format!(
                "trust approver \"{n}\" key \"ed25519:{}\"\n",
                key(*s).public().to_base64()
            )
        })
        .collect();
    let (default, rule) = ("default block\n", "reason \"skill_unverified\"\n");
    assert!(
        src.contains(default) && src.contains(rule),
        "matrix.gaitpol changed"
    );
    let src = src
        .replacen(default, &format!("{default}\n{approvers}"), 1)
        .replacen(rule, &format!("{rule}  approvals 2\n"), 1);
    let signer = key(9);
    let bytes = gait_benches::gait::compile(&src, &signer).unwrap();
    bundle::verify(
        &bytes,
        &VerifyOptions {
            trust: vec![signer.public().clone()],
            ..Default::default()
        },
    )
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let b = fixture();
    let intent = br#"{"tool_name":"read_file","args":{"path":"/workspace/a.txt"},"skill_provenance":{"skill_name":"web-search","source":"registry","publisher":"acme"},"context":{"risk_class":"low"}}"#;
    let allowed = br#"{"tool_name":"read_file","args":{"path":"/workspace/a.txt"},"context":{"risk_class":"low"}}"#;
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(2048);
    let plain = EvalOptions::default();
    let s = evaluate(&b, intent, &plain, &mut scratch, &mut out);
    assert_eq!(s.verdict, Verdict::RequireApproval);
    let result: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let req = &result["approval_request"];
    let now = gait_run::time::now().0;
    let tokens: Vec<Vec<u8>> = [("alice", 1u8), ("bob", 3)]
        .iter()
        .map(|(who, seed)| {
            Claims {
                token_id: gait_run::hex(&[*seed; 16]),
                approver: (*who).to_owned(),
                key_id: String::new(),
                intent_digest: req["intent_digest"].as_str().unwrap().to_owned(),
                policy_digest: req["policy_digest"].as_str().unwrap().to_owned(),
                policy_revision: req["policy_revision"].as_u64().unwrap() as u32,
                rules: vec!["unverified_skill".to_owned()],
                issued_at: gait_run::time::format_rfc3339(now - 1),
                not_after: gait_run::time::format_rfc3339(now + 899),
                issued_at_secs: now - 1,
                not_after_secs: now + 899,
            }
            .sign(&key(*seed))
        })
        .collect();
    let token_slices: Vec<&[u8]> = tokens.iter().map(Vec::as_slice).collect();
    let with_tokens = EvalOptions {
        approvals: Approvals {
            tokens: &token_slices,
            store: Some(&Forgetful),
            interactive: None,
            now: None,
        },
        ..EvalOptions::default()
    };
    out.clear();
    let s = evaluate(&b, intent, &with_tokens, &mut scratch, &mut out);
    assert_eq!(
        s.verdict,
        Verdict::Allow,
        "{}",
        String::from_utf8_lossy(&out)
    );
    out.clear();
    assert!(evaluate(&b, allowed, &plain, &mut scratch, &mut out).allowed());

    let mut run = |name: &str, text: &[u8], opts: &EvalOptions| {
        c.bench_function(name, |bn| {
            bn.iter(|| {
                out.clear();
                black_box(evaluate(&b, black_box(text), opts, &mut scratch, &mut out))
            })
        });
    };
    run("approval/require_approval_no_tokens", intent, &plain);
    run("approval/two_valid_tokens_granted", intent, &with_tokens);
    run("approval/allow_no_tokens", allowed, &plain);
    // What the approval step's cost is made of: one strict Ed25519
    // verification of a token's signed text, one approver key decoded.
    let token = gait_run::approval::token::read(&tokens[0]).unwrap();
    let pk = key(1).public().clone();
    let b64 = pk.to_base64();
    c.bench_function("approval/token_read", |bn| {
        bn.iter(|| black_box(gait_run::approval::token::read(black_box(&tokens[0]))))
    });
    c.bench_function("approval/ed25519_verify_strict", |bn| {
        bn.iter(|| black_box(token.verify(black_box(&pk))))
    });
    c.bench_function("approval/public_key_parse", |bn| {
        bn.iter(|| black_box(gait_run::keys::PublicKey::parse(black_box(&b64))))
    });
    // The approval check alone (`approval::check::check`, outside the
    // decision): two tokens read, their approvers' keys looked up, two
    // strict Ed25519 verifications, the bindings, the store call, the
    // outcome. And its crypto floor: one strict verification of the signed
    // text, computed beforehand (`PublicKey::verify`, nothing else). The
    // check's non-crypto part is the first less twice the second.
    let binding = Binding {
        intent_digest: req["intent_digest"].as_str().unwrap(),
        policy_digest: b.policy_digest(),
        policy_revision: b.info().revision,
    };
    let request = Request {
        rules: ["unverified_skill"].into_iter().collect(),
        allowed: Some(["alice", "bob"].into_iter().collect()),
        required: 2,
        interactive: false,
    };
    let outcome = check(&b.tables, &binding, &request, &with_tokens.approvals).unwrap();
    assert!(outcome.granted, "{outcome:?}");
    c.bench_function("approval/check_two_valid_tokens", |bn| {
        bn.iter(|| {
            black_box(check(
                &b.tables,
                black_box(&binding),
                &request,
                &with_tokens.approvals,
            ))
        })
    });
    let signed = token.claims.signed_bytes();
    assert!(pk.verify(&signed, &token.sig));
    c.bench_function("approval/ed25519_verify_strict_raw", |bn| {
        bn.iter(|| black_box(pk.verify(black_box(&signed), black_box(&token.sig))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
