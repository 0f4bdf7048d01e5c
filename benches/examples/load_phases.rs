#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark setup fails loudly"
)]
//! Times the phases of loading a 10,000-rule bundle (a diagnostic, not a benchmark).
use std::time::Instant;
fn main() {
    let key = gait_run::keys::KeyPair::from_seed(&[1; 32]);
    let src = gait_benches::gaitpol(10_000, 4, 42);
    let mut s = gaitc::check::Session::new();
    let id = s.load_source("b.gaitpol", &src, std::path::Path::new("."));
    let policy = s.check(id).policy.expect("checks");
    let bytes = gaitc::bundle::build(&s, id, &policy, &[&key], None)
        .expect("builds")
        .0;
    println!("bundle bytes: {}", bytes.len());
    let parsed = gait_run::bundle::parse(&bytes).expect("parses");
    let d = gait_run::tables::TableData::decode(parsed.payload).expect("decodes");
    // The payload's sections as stored: `[u32 tag][u32 length]`, 8-aligned.
    let payload = parsed.payload;
    let (mut at, mut stored) = (8, Vec::new());
    while at + 8 <= payload.len() {
        let word = |i: usize| u32::from_le_bytes(payload[i..i + 4].try_into().unwrap());
        let (tag, len) = (word(at), word(at + 4) as usize);
        stored.push(format!("{tag}: {len}"));
        at = (at + 8 + len).div_ceil(8) * 8;
    }
    println!("stored sections (tag: bytes): {}", stored.join(", "));
    let words = |v: &Vec<u32>| v.len() * 4;
    println!(
        "payload sections (bytes): strings {} ({} strings), lists {}, rules {}, nodes {}, atoms {}, valuesets {}, postings {}, matchers {} (automata {})",
        d.strings.iter().map(|s| s.len() + 4).sum::<usize>(),
        d.strings.len(),
        words(&d.lists),
        words(&d.rules),
        words(&d.nodes),
        words(&d.atoms),
        words(&d.valuesets),
        words(&d.enum_postings) + words(&d.flag_postings) + words(&d.unanchored),
        d.matchers.iter().map(|m| (m.sources.len() + m.postings.len() + m.exact.slots.len() + m.exact.entries.len() + m.prefix.slots.len() + m.prefix.entries.len() + m.suffix.slots.len() + m.suffix.entries.len()) * 4).sum::<usize>(),
        d.matchers.iter().flat_map(|m| &m.dfas).map(|x| x.bytes.len()).sum::<usize>(),
    );
    let mut totals = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let parsed = gait_run::bundle::parse(&bytes).expect("parses");
        let t1 = t.elapsed();
        parsed
            .check_signatures(std::slice::from_ref(key.public()))
            .expect("signed");
        let t2 = t.elapsed();
        let data = gait_run::tables::TableData::decode(parsed.payload).expect("decodes");
        let t3 = t.elapsed();
        let tables = gait_run::tables::Tables::load(data).expect("loads");
        let t4 = t.elapsed();
        println!("parse+digest {:?}  signature {:?}  decode {:?}  load+validate {:?}  total {:?}  ({} rules)", t1, t2 - t1, t3 - t2, t4 - t3, t4, tables.rule_count());
        totals.push(t4);
    }
    // The whole of `bundle::verify` (what `gait-run` and the benchmarks call):
    // the phases above and the manifest's checks, end to end.
    let opts = gait_run::bundle::VerifyOptions {
        trust: vec![key.public().clone()],
        ..Default::default()
    };
    let mut whole = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let verified = gait_run::bundle::verify(&bytes, &opts).expect("verifies");
        whole.push(t.elapsed());
        drop(verified);
    }
    summary("bundle::verify", whole);
    summary("total", totals);
}

/// Prints the min, median and max of a set of load times.
fn summary(what: &str, mut times: Vec<std::time::Duration>) {
    times.sort();
    println!(
        "{what} over {} loads: min {:?}, median {:?}, max {:?}",
        times.len(),
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
