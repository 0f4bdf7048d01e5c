#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark setup fails loudly"
)]
//! Gait against `cedar-policy` and `regorus` on the standard workload
//! (N ∈ {10, 100, 1,000, 10,000} rules, k ∈ {4, 16} domains per allowlist).
//!
//! First, before anything is timed, every engine decides the shared corpus
//! of 10,000 intents of every (N, k) (`gait_benches::peers::agreement`;
//! 1,000 of them at N = 10,000 unless `GAIT_BENCH_FULL_AGREEMENT=1`, see
//! [`corpus_size`]); one disagreement ends the bench with exit 1. Then criterion times, per engine
//! and N: compile (source text to the engine's runnable form), load (where
//! the engine has a separate step) and one decision (cycling through a
//! first-rule hit, a middle hit, a last hit and a miss).
//!
//! Run: `cargo bench -p gait-benches --features peers --bench compare`
//! (`GAIT_BENCH_RULES=10,100` restricts N); then
//! `cargo run -p gait-benches --release --features peers --example perf_report`.

use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode};
use gait_benches::corpus::{corpus, timing_mix, CORPUS_SIZE};
use gait_benches::gait::{self as gait, Gait};
use gait_benches::peers::{
    agreement, cedar_parse, rego_compile, rego_sources, Agreement, Cedar, Engines, Rego, RegoForm,
};
use gait_benches::{gaitpol, rules, translate, DOMAIN_COUNTS, RULE_COUNTS, SEED};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn rule_counts() -> Vec<usize> {
    match std::env::var("GAIT_BENCH_RULES") {
        Ok(list) => list
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .expect("GAIT_BENCH_RULES: comma-separated counts")
            })
            .collect(),
        Err(_) => RULE_COUNTS.to_vec(),
    }
}

/// Intents of the agreement check before timing: the full corpus up to
/// 1,000 rules; at 10,000 rules a tenth of it (every kind, 100 each) unless
/// `GAIT_BENCH_FULL_AGREEMENT=1`: the full corpus there costs Cedar and
/// regorus about 13 CPU-minutes per k (`--example agreement 10000` runs it).
fn corpus_size(n: usize) -> usize {
    if n < 10_000 || std::env::var_os("GAIT_BENCH_FULL_AGREEMENT").is_some_and(|v| v == "1") {
        CORPUS_SIZE
    } else {
        CORPUS_SIZE / 10
    }
}

/// The agreement check of one (N, k), its corpus split over two threads
/// (each with its own engines).
fn agree(n: usize, k: usize) -> Result<Agreement, String> {
    let cases = corpus(&rules(n, k, SEED), corpus_size(n), SEED);
    let (a, b) = cases.split_at(cases.len() / 2);
    let check = |part: &[gait_benches::corpus::Case]| {
        Engines::build(n, k, SEED).and_then(|mut engines| agreement(&mut engines, part))
    };
    std::thread::scope(|s| {
        let other = s.spawn(|| check(b));
        let first = check(a)?;
        let second = other.join().map_err(|_| "agreement thread panicked")??;
        Ok(Agreement {
            intents: first.intents + second.intents,
            allowed: first.allowed + second.allowed,
        })
    })
}

fn check_agreement(counts: &[usize]) {
    for k in DOMAIN_COUNTS {
        for &n in counts {
            let t = Instant::now();
            match agree(n, k) {
                Ok(a) => eprintln!(
                    "agreement N={n} k={k}: {} intents ({} allow, {} block), every engine agrees ({:.1} s)",
                    a.intents,
                    a.allowed,
                    a.intents - a.allowed,
                    t.elapsed().as_secs_f64()
                ),
                Err(e) => {
                    eprintln!("agreement N={n} k={k}: engines disagree, nothing is timed: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
}

/// Lean settings: fast cases get 30 samples in 2 s; slow ones (a peer at
/// 1,000 rules and more, compile and load at 10,000) get 10 flat samples.
fn settings(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, slow: bool) {
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    if slow {
        group.sampling_mode(SamplingMode::Flat).sample_size(10);
    } else {
        group.sampling_mode(SamplingMode::Auto).sample_size(30);
    }
}

fn decision(c: &mut Criterion, counts: &[usize]) {
    for k in DOMAIN_COUNTS {
        let mut group = c.benchmark_group(format!("decision_k{k}"));
        for &n in counts {
            let mut e = Engines::build(n, k, SEED).expect("engines build");
            let mix = timing_mix(&rules(n, k, SEED), SEED);
            let texts: Vec<String> = mix.iter().map(|c| c.probe.intent_json()).collect();
            let peers: Vec<String> = mix.iter().map(|c| c.probe.peer_json()).collect();
            let prepared: Vec<_> = texts.iter().map(|t| e.gait.prepare(t).unwrap()).collect();
            let requests: Vec<_> = mix
                .iter()
                .map(|c| e.cedar.request(&c.probe).unwrap())
                .collect();
            let inputs: Vec<_> = peers.iter().map(|p| Rego::input(p).unwrap()).collect();
            let cycle = mix.len();
            let mut i = 0;
            let mut next = move || {
                i = (i + 1) % cycle;
                i
            };

            settings(&mut group, false);
            group.bench_function(BenchmarkId::new("gait", n), |b| {
                b.iter(|| black_box(e.gait.decide(black_box(&prepared[next()]))))
            });
            group.bench_function(BenchmarkId::new("gait_json", n), |b| {
                b.iter(|| black_box(e.gait.decide_json(black_box(&texts[next()]))))
            });
            settings(&mut group, n >= 1_000);
            group.bench_function(BenchmarkId::new("cedar", n), |b| {
                b.iter(|| black_box(e.cedar.decide(black_box(&requests[next()]))))
            });
            group.bench_function(BenchmarkId::new("cedar_json", n), |b| {
                b.iter(|| black_box(e.cedar.decide_json(black_box(&peers[next()]))))
            });
            for (name, rego) in [
                ("rego_data", &mut e.rego_data),
                ("rego_generated", &mut e.rego_generated),
            ] {
                group.bench_function(BenchmarkId::new(name, n), |b| {
                    b.iter(|| black_box(rego.decide(black_box(&inputs[next()]))))
                });
                group.bench_function(BenchmarkId::new(format!("{name}_json"), n), |b| {
                    b.iter(|| black_box(rego.decide_json(black_box(&peers[next()]))))
                });
            }
        }
        group.finish();
    }
}

fn compile_and_load(c: &mut Criterion, counts: &[usize]) {
    let key = gait::key();
    let opts = gait::verify_options();
    for k in DOMAIN_COUNTS {
        let mut compile = c.benchmark_group(format!("compile_k{k}"));
        for &n in counts {
            settings(&mut compile, n >= 1_000);
            let src = gaitpol(n, k, SEED);
            compile.bench_function(BenchmarkId::new("gait", n), |b| {
                b.iter(|| black_box(gait::compile(black_box(&src), &key).unwrap()))
            });
            let r = rules(n, k, SEED);
            let cedar_text = translate::cedar(&r).unwrap();
            compile.bench_function(BenchmarkId::new("cedar", n), |b| {
                b.iter(|| black_box(cedar_parse(black_box(&cedar_text)).unwrap()))
            });
            for form in [RegoForm::Data, RegoForm::Generated] {
                let (policy, data) = rego_sources(&r, form).unwrap();
                compile.bench_function(BenchmarkId::new(form.name(), n), |b| {
                    b.iter(|| black_box(rego_compile(&policy, data.as_deref()).unwrap()))
                });
            }
        }
        compile.finish();

        let mut load = c.benchmark_group(format!("load_k{k}"));
        for &n in counts {
            settings(&mut load, n >= 1_000);
            let bytes = gait::compile(&gaitpol(n, k, SEED), &key).unwrap();
            load.bench_function(BenchmarkId::new("gait", n), |b| {
                b.iter(|| black_box(Gait::new(gait::load(black_box(&bytes), &opts).unwrap())))
            });
            let r = rules(n, k, SEED);
            for form in [RegoForm::Data, RegoForm::Generated] {
                let (policy, data) = rego_sources(&r, form).unwrap();
                let engine = rego_compile(&policy, data.as_deref()).unwrap();
                load.bench_function(BenchmarkId::new(form.name(), n), |b| {
                    b.iter_batched(
                        || engine.clone(),
                        |engine| Rego::prepare(engine).unwrap(),
                        BatchSize::PerIteration,
                    )
                });
            }
            // Cedar has no load step: `Authorizer::is_authorized` takes the
            // parsed `PolicySet` as it is (its construction is checked here).
            black_box(Cedar::from_rules(&r).unwrap());
        }
        load.finish();
    }
}

fn main() {
    let counts = rule_counts();
    check_agreement(&counts);
    let mut c = Criterion::default().configure_from_args();
    decision(&mut c, &counts);
    compile_and_load(&mut c, &counts);
    c.final_summary();
}
