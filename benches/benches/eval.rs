#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark setup fails loudly"
)]
//! A typical decision, end to end in process: intent JSON text in, result
//! JSON out (parse, normalize with the bundle's tool mappings, decide, build
//! the result bytes) — through the runtime's one gate entry,
//! `gate::evaluate`. Run:
//! `cargo bench -p gait-benches --bench eval`.

use criterion::{criterion_group, criterion_main, Criterion};
use gait_run::bundle::{verify, VerifyOptions};
use gait_run::gate::{evaluate, EvalOptions};
use gait_run::keys::KeyPair;
use gait_run::tables::Scratch;
use std::hint::black_box;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let key = KeyPair::from_seed(&[1; 32]);
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/payments-agent.gaitpol"),
    )
    .unwrap();
    let mut s = gaitc::check::Session::new();
    let id = s.load_source(
        "payments-agent.gaitpol",
        &src,
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .as_path(),
    );
    let policy = s.check(id).policy.expect("example checks");
    let bytes = gaitc::bundle::build(&s, id, &policy, &[&key], None)
        .unwrap()
        .0;
    let bundle = verify(
        &bytes,
        &VerifyOptions {
            trust: vec![key.public().clone()],
            ..Default::default()
        },
    )
    .unwrap();
    let typical = br#"{"schema_id":"gait.gate.intent_request","schema_version":"1.0.0","tool_name":"write_file",
        "args":{"path":"/workspace/out/report.txt","content":"quarterly numbers"},
        "arg_provenance":[{"arg_path":"$.path","source":"user"}],
        "context":{"identity":"payments-agent","workspace":"/workspace","risk_class":"high"}}"#;
    let opts = EvalOptions::default();
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(1024);
    let check = evaluate(&bundle, typical, &opts, &mut scratch, &mut out);
    assert!(check.allowed(), "{}", String::from_utf8_lossy(&out));
    c.bench_function("evaluate/typical_write", |b| {
        b.iter(|| {
            out.clear();
            black_box(evaluate(
                &bundle,
                black_box(typical),
                &opts,
                &mut scratch,
                &mut out,
            ))
        })
    });
    let egress = br#"{"tool_name":"web_fetch","args":{"url":"https://api.github.com/repos"},
        "arg_provenance":[{"arg_path":"$.url","source":"user"}],"context":{"identity":"a","workspace":"/workspace","risk_class":"low"}}"#;
    c.bench_function("evaluate/egress", |b| {
        b.iter(|| {
            out.clear();
            black_box(evaluate(
                &bundle,
                black_box(egress),
                &opts,
                &mut scratch,
                &mut out,
            ))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
