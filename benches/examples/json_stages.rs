#![allow(clippy::unwrap_used, clippy::expect_used, reason = "diagnostic tool")]
//! Where the time of one decision from JSON text goes on the comparison's
//! workload, at each rule count: `gait_run::gate::stage_times` (read,
//! normalize, digest, decide, write) over the four timing probes, averaged
//! (a diagnostic, not a benchmark).
use gait_benches::{corpus, gait, rules, SEED};

fn main() {
    let k = 4;
    for n in [10, 1_000, 10_000] {
        let specs = rules(n, k, SEED);
        let g = gait::Gait::from_source(&gait_benches::gaitpol(n, k, SEED)).expect("compiles");
        let texts: Vec<String> = corpus::timing_mix(&specs, SEED)
            .iter()
            .map(|c| c.probe.intent_json())
            .collect();
        let mut scratch = gait_run::tables::Scratch::default();
        let mut out = Vec::with_capacity(4096);
        let mut sums = [0u64; 5];
        let rounds = 20_000u64;
        for round in 0..rounds + 1_000 {
            for t in &texts {
                out.clear();
                let s =
                    gait_run::gate::stage_times(&g.bundle, t.as_bytes(), &mut scratch, &mut out)
                        .expect("decided");
                if round >= 1_000 {
                    for (sum, x) in sums.iter_mut().zip(s) {
                        *sum += x;
                    }
                }
            }
        }
        let per = |x: u64| x as f64 / (rounds as f64 * texts.len() as f64);
        println!(
            "N = {n:>6}: {}",
            gait_run::gate::STAGES
                .iter()
                .zip(sums)
                .map(|(name, x)| format!("{name} {:.0} ns", per(x)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
