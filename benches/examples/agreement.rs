//! Runs the agreement check of the comparison on its own: every engine on
//! the full shared corpus (10,000 intents) of every (N, k), k = 4 and k = 16
//! on two threads; exit 1 on the first disagreement.
//! Run: `cargo run -p gait-benches --release --features peers --example agreement [N...]`.
use gait_benches::corpus::{corpus, CORPUS_SIZE};
use gait_benches::peers::{agreement, Engines};
use gait_benches::{rules, DOMAIN_COUNTS, RULE_COUNTS, SEED};
use std::process::ExitCode;
use std::time::Instant;

/// Checks every N of `counts` at `k`; the first disagreement as an error.
fn check(counts: &[usize], k: usize) -> Result<(), String> {
    for &n in counts {
        let t = Instant::now();
        let a = Engines::build(n, k, SEED)
            .and_then(|mut engines| {
                agreement(&mut engines, &corpus(&rules(n, k, SEED), CORPUS_SIZE, SEED))
            })
            .map_err(|e| format!("N={n} k={k}: engines disagree: {e}"))?;
        println!(
            "N={n:>6} k={k:>2}: {} intents ({} allow, {} block), every engine agrees ({:.1} s)",
            a.intents,
            a.allowed,
            a.intents - a.allowed,
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args: Vec<usize> = Vec::new();
    for a in std::env::args().skip(1) {
        match a.parse() {
            Ok(n) if n > 0 => args.push(n),
            _ => {
                eprintln!("agreement: `{a}` is not a rule count (usage: agreement [N...])");
                return ExitCode::from(6);
            }
        }
    }
    let counts = if args.is_empty() {
        RULE_COUNTS.to_vec()
    } else {
        args
    };
    let counts = &counts;
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = DOMAIN_COUNTS
            .iter()
            .map(|&k| s.spawn(move || check(counts, k)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a check thread panicked".to_owned()))
            })
            .collect()
    });
    let mut code = ExitCode::SUCCESS;
    for e in results.into_iter().filter_map(Result::err) {
        eprintln!("{e}");
        code = ExitCode::FAILURE;
    }
    code
}
