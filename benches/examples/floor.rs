#![allow(clippy::unwrap_used, clippy::expect_used, reason = "diagnostic tool")]
//! The floor of a decision from JSON text, on the comparison's workload at
//! 1,000 rules (a diagnostic, not a benchmark): what reading the intent
//! and digesting it cost with the libraries the gate uses, measured beside
//! the whole decision (`gate::evaluate`).
//!
//! - `tokenize`: serde_json skipping the text (`IgnoredAny`): no value is
//!   kept, no string is checked for escapes — below any reader's cost.
//! - `typed read`: serde_json reading the intent's fields into a derived
//!   struct of borrowed strings (what a reader of the fixed fields alone
//!   would cost; no duplicate-key, `__proto__` or number-range checks).
//! - `gate read`: the gate's own reader (`Json::parse_in`: every key
//!   checked, into the arena).
//! - `digest`: SHA-256 of the intent's canonical text (RFC 8785), which
//!   every result carries as `intent_digest` (runtime.md §3, §7).
//! - `decision`: `gate::evaluate`, text in, result bytes out.
//!
//! `cargo run -p gait-benches --release --example floor`
use gait_benches::{corpus, gait, rules, SEED};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::hint::black_box;
use std::time::Instant;

/// The intent's fields as a derived reader would take them.
#[derive(Deserialize)]
#[allow(dead_code, reason = "read, never looked at: the reading is timed")]
struct IntentView<'a> {
    schema_id: &'a str,
    schema_version: &'a str,
    tool_name: &'a str,
    args: IgnoredAny,
    #[serde(borrow)]
    targets: Vec<TargetView<'a>>,
    #[serde(borrow)]
    arg_provenance: Vec<ProvenanceView<'a>>,
    #[serde(borrow)]
    context: ContextView<'a>,
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "read, never looked at")]
struct TargetView<'a> {
    kind: &'a str,
    value: &'a str,
    #[serde(default)]
    operation: Option<&'a str>,
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "read, never looked at")]
struct ProvenanceView<'a> {
    arg_path: &'a str,
    source: &'a str,
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "read, never looked at")]
struct ContextView<'a> {
    identity: &'a str,
    workspace: &'a str,
    risk_class: &'a str,
}

/// Mean nanoseconds of `f` over every text, after a warm-up.
fn mean(texts: &[String], mut f: impl FnMut(usize, &str)) -> f64 {
    let rounds = 50_000;
    for _ in 0..2_000 {
        for (i, t) in texts.iter().enumerate() {
            f(i, t);
        }
    }
    let start = Instant::now();
    for _ in 0..rounds {
        for (i, t) in texts.iter().enumerate() {
            f(i, t);
        }
    }
    start.elapsed().as_nanos() as f64 / (rounds * texts.len()) as f64
}

fn main() {
    let (n, k) = (1_000, 4);
    let specs = rules(n, k, SEED);
    let mut g = gait::Gait::from_source(&gait_benches::gaitpol(n, k, SEED)).expect("compiles");
    let texts: Vec<String> = corpus::timing_mix(&specs, SEED)
        .iter()
        .map(|c| c.probe.intent_json())
        .collect();
    let canonical: Vec<Vec<u8>> = texts
        .iter()
        .map(|t| {
            let arena = gait_run::json::Bump::new();
            let raw = gait_run::normalize::parse_json(t.as_bytes(), &arena).expect("reads");
            let mut n = gait_run::normalize::normalize_json(&raw, None).expect("normalizes");
            std::mem::take(&mut n.canonical)
        })
        .collect();
    let sizes = |v: &[usize]| format!("{:?}", v);
    println!(
        "intents: {} bytes; canonical texts: {} bytes",
        sizes(&texts.iter().map(String::len).collect::<Vec<_>>()),
        sizes(&canonical.iter().map(Vec::len).collect::<Vec<_>>())
    );
    let tokenize = mean(&texts, |_, t| {
        black_box(serde_json::from_str::<IgnoredAny>(black_box(t)).expect("JSON"));
    });
    let typed = mean(&texts, |_, t| {
        let v: IntentView = serde_json::from_str(black_box(t)).expect("fields");
        black_box(v.targets.len());
    });
    let mut arena = gait_run::json::Bump::new();
    let gate_read = mean(&texts, |_, t| {
        arena.reset();
        black_box(gait_run::json::Json::parse_in(black_box(t.as_bytes()), &arena).expect("JSON"));
    });
    let digest = mean(&texts, |i, _| {
        black_box(gait_run::sha256(black_box(&canonical[i])));
    });
    let decision = mean(&texts, |_, t| {
        black_box(g.decide_json(black_box(t)));
    });
    println!(
        "tokenize {tokenize:.0} ns, typed read {typed:.0} ns, gate read {gate_read:.0} ns, \
         digest {digest:.0} ns, decision {decision:.0} ns"
    );
    println!(
        "floor (typed read + digest): {:.0} ns, {:.0} % of the decision",
        typed + digest,
        100.0 * (typed + digest) / decision
    );
}
