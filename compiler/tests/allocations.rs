#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! "The runtime never allocates per rule" (ARCHITECTURE.md): a decision
//! through the gate's one entry makes exactly as many heap allocations
//! against a bundle of 10,000 rules as against one of 10, for intents that
//! hit the first, a middle and the last rule and for a miss. Counted by a
//! global counting allocator, on a warm scratch and output buffer. (What a
//! decision still allocates per intent — strings of the normalized intent,
//! the result's summary — is reported, not yet zero: issue 15.)

use gait_run::gate::{evaluate, EvalOptions};
use gait_run::tables::Scratch;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// N rules: rule `i` allows tool `t{i}` on paths under `/ws/p{i}/` and the
/// hosts `api{i % 7}.example.com`.
fn policy(n: usize) -> String {
    let mut s = format!("policy \"alloc-{n}\" version \"1.0.0\"\n\ndefault block\n");
    for i in 0..n {
        s.push_str(&format!(
            "\nrule r{i} {{\n  when tool == \"t{i}\" and all path in [\"/ws/p{i}/**\"] and all domain in [\"api{}.example.com\"]\n  then allow\n  reason \"r{i}\"\n}}\n",
            i % 7
        ));
    }
    s
}

fn intent(rule: usize) -> Vec<u8> {
    format!(
        r#"{{"tool_name": "t{rule}", "targets": [{{"kind": "path", "value": "/ws/p{rule}/a/b.txt", "operation": "read"}}, {{"kind": "url", "value": "https://api{}.example.com/v1"}}], "context": {{"identity": "bench", "workspace": "/ws", "risk_class": "low"}}}}"#,
        rule % 7
    )
    .into_bytes()
}

/// Allocations of one warm decision of each intent.
fn allocations(rules: usize, intents: &[Vec<u8>]) -> Vec<(u64, String)> {
    let key = gait_run::keys::KeyPair::from_seed(&[9; 32]);
    let mut s = gaitc::check::Session::new();
    let id = s.load_source("p.gaitpol", &policy(rules), std::path::Path::new("."));
    let policy = s.check(id).policy.expect("checks");
    let bytes = gaitc::bundle::build(&s, id, &policy, &[&key], None)
        .expect("builds")
        .0;
    let opts = gait_run::bundle::VerifyOptions {
        trust: vec![key.public().clone()],
        ..Default::default()
    };
    let bundle = gait_run::bundle::verify(&bytes, &opts).expect("verifies");
    let eval = EvalOptions::default();
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(1 << 14);
    intents
        .iter()
        .map(|text| {
            for _ in 0..3 {
                out.clear();
                evaluate(&bundle, text, &eval, &mut scratch, &mut out);
            }
            out.clear();
            let region = Region::new(GLOBAL);
            let summary = evaluate(&bundle, text, &eval, &mut scratch, &mut out);
            let n = region.change().allocations as u64;
            (n, summary.verdict.as_str().to_owned())
        })
        .collect()
}

#[test]
fn a_decision_allocates_the_same_for_10_and_10000_rules() {
    // First rule, a middle one, the last of the small bundle (which the big
    // one has too), a tool no rule names, and a path outside the rule.
    let mut intents: Vec<Vec<u8>> = [0, 5, 9, 123_456].map(intent).to_vec();
    intents.push(
        String::from_utf8(intent(3))
            .unwrap()
            .replace("/ws/p3/", "/ws/p4/")
            .into_bytes(),
    );
    let small = allocations(10, &intents);
    let large = allocations(10_000, &intents);
    let verdicts: Vec<&str> = small.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(verdicts, ["allow", "allow", "allow", "block", "block"]);
    assert_eq!(
        small.iter().map(|(_, v)| v).collect::<Vec<_>>(),
        large.iter().map(|(_, v)| v).collect::<Vec<_>>()
    );
    // The counter counts (the decisions themselves may allocate nothing).
    let region = Region::new(GLOBAL);
    std::hint::black_box(Vec::<u8>::with_capacity(16));
    assert_eq!(region.change().allocations, 1, "the counter counts");
    for ((a, _), (b, _)) in small.iter().zip(&large) {
        assert_eq!(a, b, "10 rules: {small:?}; 10,000 rules: {large:?}");
    }
    eprintln!("allocations per decision (first, middle, last, unknown tool, miss): {small:?}");
}
