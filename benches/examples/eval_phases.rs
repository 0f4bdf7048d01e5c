#![allow(clippy::unwrap_used, clippy::expect_used, reason = "diagnostic tool")]
//! Where the time of one decision from text goes (a diagnostic, not a benchmark).
use std::hint::black_box;
use std::time::Instant;

fn time<T>(name: &str, n: u32, mut f: impl FnMut() -> T) {
    for _ in 0..1000 {
        black_box(f());
    }
    let t = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    println!(
        "{name:<28} {:>8.0} ns",
        t.elapsed().as_nanos() as f64 / f64::from(n)
    );
}

fn main() {
    let bytes = std::fs::read("runtime/tests/fixtures/matrix.gaitb").unwrap();
    let opts = gait_run::bundle::VerifyOptions {
        insecure_skip_verify: true,
        ..Default::default()
    };
    let bundle = gait_run::bundle::verify(&bytes, &opts).unwrap();
    let (_, text) = gait_run::bench::builtin_intents()
        .into_iter()
        .next()
        .unwrap();
    let n = 50_000;
    let mut arena = gait_run::json::Bump::new();
    let parsed = gait_run::json::Bump::new();
    let raw = gait_run::normalize::parse_json(&text, &parsed).unwrap();
    let norm = gait_run::normalize::normalize_json(&raw, Some(&bundle.tables)).unwrap();
    let mut scratch = gait_run::tables::Scratch::default();
    time("parse (JSON tree in a reset arena)", n, || {
        arena.reset();
        let raw = gait_run::normalize::parse_json(&text, &arena).unwrap();
        black_box(&raw);
    });
    time("normalize (incl. digest)", n, || {
        gait_run::normalize::normalize_json(&raw, Some(&bundle.tables)).unwrap()
    });
    time("  digest only (SHA-256)", n, || {
        gait_run::sha256(&norm.canonical)
    });
    time("decide", n, || {
        bundle.tables.decide(&norm.intent, &mut scratch)
    });
    let eo = gait_run::gate::EvalOptions::default();
    let mut out = Vec::with_capacity(1024);
    time("evaluate (all, bytes)", n, || {
        out.clear();
        gait_run::gate::evaluate(&bundle, &text, &eo, &mut scratch, &mut out)
    });
}
