//! Runs the agreement check of the comparison on its own: every engine on
//! the shared corpus of every (N, k), exit 1 on the first disagreement.
//! Run: `cargo run -p gait-benches --release --features peers --example agreement [N...]`.
use gait_benches::corpus::{corpus, CORPUS_SIZE};
use gait_benches::peers::{agreement, Engines};
use gait_benches::{rules, DOMAIN_COUNTS, RULE_COUNTS, SEED};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if args.is_empty() {
        RULE_COUNTS.to_vec()
    } else {
        args
    };
    for k in DOMAIN_COUNTS {
        for &n in &counts {
            let t = Instant::now();
            let checked = Engines::build(n, k, SEED).and_then(|mut engines| {
                agreement(&mut engines, &corpus(&rules(n, k, SEED), CORPUS_SIZE, SEED))
            });
            match checked {
                Ok(a) => println!(
                    "N={n:>6} k={k:>2}: {} intents ({} allow, {} block), every engine agrees ({:.1} s)",
                    a.intents,
                    a.allowed,
                    a.intents - a.allowed,
                    t.elapsed().as_secs_f64()
                ),
                Err(e) => {
                    eprintln!("N={n} k={k}: engines disagree: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
