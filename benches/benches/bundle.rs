#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark setup fails loudly"
)]
//! Bundle load + verify, and decision latency from the loaded tables, for
//! generated policies of 10 to 10,000 rules.
//! Run: `cargo bench -p gait-benches --bench bundle`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gait_benches::gait;
use gait_run::bundle;
use gait_run::intent::{Intent, Target};
use gait_run::keys::KeyPair;
use gait_run::tables::Scratch;
use gait_run::vocab::{EndpointClass, HostClass, Risk, TargetKind};
use std::hint::black_box;

fn build(n: usize, key: &KeyPair) -> Vec<u8> {
    gait::compile(&gait_benches::gaitpol(n, 4, 42), key).expect("generated policy builds")
}

/// An intent that hits rule `i` of the standard workload (path and url target).
fn hit(n: usize, i: usize) -> Intent<'static> {
    let rule = &gait_benches::rules(n, 4, 42)[i];
    Intent {
        tool: rule.tool.clone().into(),
        risk: Risk::Low,
        targets: vec![
            Target {
                kind: TargetKind::Path,
                value: format!("{}/file.txt", rule.prefix).into(),
                operation: None,
                class: EndpointClass::FsRead,
                destructive: false,
                host: None,
                programs: Vec::new(),
            },
            Target {
                kind: TargetKind::Url,
                value: format!("https://{}/x", rule.domains[0]).into(),
                operation: None,
                class: EndpointClass::NetHttp,
                destructive: false,
                host: Some((rule.domains[0].clone().into(), HostClass::Public)),
                programs: Vec::new(),
            },
        ]
        .into(),
        ..Intent::default()
    }
}

fn benches(c: &mut Criterion) {
    let key = gait::key();
    let opts = gait::verify_options();
    let mut load = c.benchmark_group("load_verify");
    load.sample_size(20);
    let mut bundles = Vec::new();
    for n in [10usize, 100, 1_000, 10_000] {
        let bytes = build(n, &key);
        load.bench_with_input(BenchmarkId::from_parameter(n), &bytes, |b, bytes| {
            b.iter(|| black_box(bundle::verify(black_box(bytes), &opts).expect("verifies")))
        });
        bundles.push((n, bytes));
    }
    load.finish();

    let mut decide = c.benchmark_group("decide_normalized");
    for (n, bytes) in &bundles {
        let verified = bundle::verify(bytes, &opts).expect("verifies");
        let intents = [hit(*n, 0), hit(*n, n / 2), hit(*n, n - 1)];
        let mut scratch = Scratch::default();
        for intent in &intents {
            let d = verified.tables.decide(intent, &mut scratch);
            assert_eq!(d.verdict, gait_run::vocab::Verdict::Allow, "{d:?}");
        }
        decide.bench_with_input(BenchmarkId::from_parameter(n), &intents, |b, intents| {
            let mut k = 0;
            b.iter(|| {
                k = (k + 1) % intents.len();
                black_box(verified.tables.decide(black_box(&intents[k]), &mut scratch))
            })
        });
    }
    decide.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
