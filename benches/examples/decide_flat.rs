//! Gait's decision time against the rule count, less sensitive to a busy
//! machine than criterion's median: the best of 7 rounds of 200,000
//! decisions over the timing mix (first hit, middle hit, last hit, miss), per
//! N and k, and the ratio to N = 10 (a diagnostic, not a benchmark).
//! Run: `cargo run -p gait-benches --release --example decide_flat`.
use gait_benches::corpus::timing_mix;
use gait_benches::gait::Gait;
use gait_benches::{gaitpol, rules, DOMAIN_COUNTS, RULE_COUNTS, SEED};
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

const ROUNDS: usize = 7;
const PER_ROUND: u32 = 200_000;

fn best_ns(n: usize, k: usize) -> Result<f64, String> {
    let mut gait = Gait::from_source(&gaitpol(n, k, SEED))?;
    let intents = timing_mix(&rules(n, k, SEED), SEED)
        .iter()
        .map(|c| gait.prepare(&c.probe.intent_json()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut best = f64::INFINITY;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for i in 0..PER_ROUND as usize {
            black_box(gait.decide(black_box(&intents[i % intents.len()])));
        }
        best = best.min(t.elapsed().as_nanos() as f64 / f64::from(PER_ROUND));
    }
    Ok(best)
}

fn main() -> ExitCode {
    for k in DOMAIN_COUNTS {
        let mut base = None;
        for n in RULE_COUNTS {
            match best_ns(n, k) {
                Ok(ns) => {
                    let ratio = ns / *base.get_or_insert(ns);
                    println!("k={k:>2} N={n:>6}: {ns:>6.0} ns per decision ({ratio:.2}× N=10)");
                }
                Err(e) => {
                    eprintln!("k={k} N={n}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
