#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! Counts heap allocations per decision on the gate's path.

use gait_run::bundle::{verify, VerifyOptions};
use gait_run::gate::{evaluate, EvalOptions};
use gait_run::tables::Scratch;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn count() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let bytes = std::fs::read(dir.join("matrix.gaitb")).unwrap();
    let b = verify(&bytes, &VerifyOptions { insecure_skip_verify: true, ..Default::default() }).unwrap();
    let opts = EvalOptions::default();
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(4096);
    for (name, text) in gait_run::bench::builtin_intents() {
        for _ in 0..3 {
            out.clear();
            evaluate(&b, &text, &opts, &mut scratch, &mut out);
        }
        out.clear();
        let reg = Region::new(GLOBAL);
        evaluate(&b, &text, &opts, &mut scratch, &mut out);
        let c = reg.change();
        println!("{name}: {} allocations {} reallocs {} bytes", c.allocations, c.reallocations, c.bytes_allocated);
    }
}
