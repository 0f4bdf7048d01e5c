#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark setup fails loudly"
)]
//! `gaitc check` on generated policies: parse, resolve, type-check and lint.
//! Run: `cargo bench -p gait-benches --bench check`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gaitc::check::Session;
use std::hint::black_box;
use std::path::Path;

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    group.sample_size(10);
    for n in [100usize, 1_000, 10_000] {
        let src = gait_benches::gaitpol(n, 4, 42);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &src, |b, src| {
            b.iter(|| {
                let mut s = Session::new();
                let id = s.load_source("bench.gaitpol", black_box(src), Path::new("."));
                let checked = s.check(id);
                assert!(checked.policy.is_some(), "{:?}", s.diagnostics().first());
                black_box(checked)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
