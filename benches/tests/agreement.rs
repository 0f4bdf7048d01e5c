#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
//! Every engine of the comparison gives the decision each corpus case was
//! built to get, and the check catches an engine that does not.
//! Run: `cargo test -p gait-benches --features peers`.

use gait_benches::corpus::{corpus, timing_mix, Kind, Probe};
use gait_benches::peers::{agreement, Agreement, Cedar, Engines, Rego, RegoForm};
use gait_benches::{rules, SEED};

/// Every engine agrees on a 2,000-case corpus of `n` rules with `k`
/// alternatives each, for n = 1, 10, 100. One test per `k`: the test
/// harness runs them on two threads (each takes seconds in a debug build).
fn every_engine_agrees_at_small_n(k: usize) {
    for n in [1, 10, 100] {
        let mut engines = Engines::build(n, k, SEED).unwrap();
        let cases = corpus(&rules(n, k, SEED), 2_000, SEED);
        assert_eq!(
            agreement(&mut engines, &cases),
            Ok(Agreement {
                intents: 2_000,
                allowed: 800
            }),
            "n={n} k={k}"
        );
    }
}

#[test]
fn every_engine_agrees_at_small_n_with_4_alternatives() {
    every_engine_agrees_at_small_n(4);
}

#[test]
fn every_engine_agrees_at_small_n_with_16_alternatives() {
    every_engine_agrees_at_small_n(16);
}

#[test]
fn corpus_covers_every_kind_equally() {
    let cases = corpus(&rules(50, 4, SEED), 1_000, SEED);
    for kind in Kind::ALL {
        assert_eq!(
            cases.iter().filter(|c| c.kind == kind).count(),
            100,
            "{kind:?}"
        );
    }
    let r = rules(50, 4, SEED);
    let first = cases.iter().find(|c| c.kind == Kind::FirstHit).unwrap();
    assert_eq!(first.probe.tool, "tool_0");
    assert!(first.probe.paths[0].starts_with("/ws/p0/"));
    let last = cases.iter().find(|c| c.kind == Kind::LastHit).unwrap();
    assert_eq!(last.probe.tool, "tool_49");
    assert!(last.probe.domains.iter().all(|d| r[49].domains.contains(d)));
    let trap = cases
        .iter()
        .find(|c| c.kind == Kind::MissPrefixTrap)
        .unwrap();
    let rule = r.iter().find(|x| x.tool == trap.probe.tool).unwrap();
    assert!(trap.probe.paths[0].starts_with(&rule.prefix));
    assert!(!trap.probe.paths[0].starts_with(&format!("{}/", rule.prefix)));
}

#[test]
fn a_disagreeing_engine_fails_the_check() {
    let n = 10;
    let all = rules(n, 4, SEED);
    let mut engines = Engines::build(n, 4, SEED).unwrap();
    // Cedar without the last rule: the last-rule hits must be caught.
    engines.cedar = Cedar::from_rules(&all[..n - 1]).unwrap();
    let err = agreement(&mut engines, &timing_mix(&all, SEED)).unwrap_err();
    assert!(err.starts_with("case 2 (LastHit, "), "{err}");
    assert!(err.contains("cedar says block, expected allow"), "{err}");

    let mut engines = Engines::build(n, 4, SEED).unwrap();
    engines.rego_generated = Rego::from_rules(&all[1..], RegoForm::Generated).unwrap();
    let err = agreement(&mut engines, &timing_mix(&all, SEED)).unwrap_err();
    assert!(err.starts_with("case 0 (FirstHit, "), "{err}");
    assert!(
        err.contains("rego_generated says block, expected allow"),
        "{err}"
    );
}

/// Where the languages differ, and why the corpus stays clear of it: a
/// path equal to a rule's prefix. `P/**` matches `P` itself in Gait
/// (`**` is zero or more segments); Cedar's `like "P/*"` and Rego's
/// `glob.match("P/**", ["/"], _)` need the `/`.
#[test]
fn the_prefix_itself_is_outside_the_common_semantics() {
    let r = rules(3, 4, SEED);
    let probe = Probe {
        tool: r[1].tool.clone(),
        paths: vec![r[1].prefix.clone()],
        domains: vec![r[1].domains[0].clone()],
    };
    let mut engines = Engines::build(3, 4, SEED).unwrap();
    assert_eq!(
        engines.decisions(&probe).unwrap(),
        [true, true, false, false, false]
    );
}

#[test]
fn cedar_mapping_takes_at_most_one_path() {
    let r = rules(2, 4, SEED);
    let cedar = Cedar::from_rules(&r).unwrap();
    let probe = Probe {
        tool: r[0].tool.clone(),
        paths: vec![format!("{}/a", r[0].prefix), format!("{}/b", r[0].prefix)],
        domains: vec![r[0].domains[0].clone()],
    };
    let err = cedar.request(&probe).unwrap_err();
    assert!(
        err.starts_with("2 paths: the Cedar mapping takes at most one"),
        "{err}"
    );
}
