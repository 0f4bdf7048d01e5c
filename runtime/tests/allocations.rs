#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! Allocations on the decision path (issue 15), counted by a global counting
//! allocator:
//! - reading an intent's JSON into a warm arena allocates nothing, for every
//!   intent of the conformance corpus, the SLO intents and the built-in
//!   bench intents (and a crafted one with a large object); an intent with
//!   escapes costs serde_json's own decode buffer, once per intent;
//! - a large intent's arena is not kept by the scratch after its decision
//!   (a long-lived evaluator does not hold a hostile intent's tree);
//! - a warm decision allocates the same count every time (printed: what
//!   remains is the normalized intent, the decision and the summary);
//! - a warm decision on the common path allocates nothing at all: every
//!   corpus intent whose values normalization leaves as they were, with
//!   file-system targets or plain URLs and hosts (other URLs and command
//!   lines are read by libraries that allocate inside: counted, not
//!   asserted);
//! - reusing the scratch changes nothing: every corpus intent, decided in
//!   turn with one scratch (its arena reset, grown, dropped), gives the
//!   bytes a fresh scratch gives.
//!
//! "The runtime never allocates per rule" is `compiler/tests/allocations.rs`.

use gait_run::bundle::{verify, VerifyOptions};
use gait_run::gate::{evaluate, EvalOptions};
use gait_run::json::Bump;
use gait_run::tables::Scratch;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::path::{Path, PathBuf};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every intent of the corpus, as JSON text.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = gait_run::bench::builtin_intents();
    for e in std::fs::read_dir(repo().join("perf/slo_intents")).unwrap() {
        let p = e.unwrap().path();
        out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
    }
    let mut suites: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/conformance"))
        .unwrap()
        .map(|e| e.unwrap().path().join("cases.json"))
        .filter(|p| p.exists())
        .collect();
    suites.sort();
    for suite in suites {
        let cases: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&suite).unwrap()).unwrap();
        for case in cases.as_array().unwrap() {
            if let Some(intent) = case.get("intent") {
                let name = format!("{}: {}", suite.display(), case["name"]);
                // Compact and pretty, as adapters send either.
                out.push((name.clone(), serde_json::to_vec(intent).unwrap()));
                out.push((name, serde_json::to_vec_pretty(intent).unwrap()));
            }
        }
    }
    // Escaped strings and keys (decoded into the arena), an object past the
    // pairwise repeated-key check (its keys sorted in the arena), nesting.
    let wide: Vec<String> = (0..40)
        .map(|i| format!("\"k{i}\": [{i}, {{\"n\": null}}]"))
        .collect();
    // Deep nesting: within serde_json's recursion limit (128) the tree is
    // read into the arena like any other; past it the intent is refused.
    for depth in [120, 200] {
        out.push((
            format!("nested {depth} deep"),
            format!(
                r#"{{"tool_name": "read_file", "args": {{"path": "/workspace/a", "deep": {}1{}}}, "targets": [{{"kind": "path", "value": "/workspace/a", "operation": "read"}}], "context": {{"workspace": "/workspace", "risk_class": "low"}}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            )
            .into_bytes(),
        ));
    }
    out.push((
        "crafted".into(),
        format!(
            r#"{{"tool_name": "read\u005ffile", "args": {{"p\u0061th": "/workspace/a\"b\\c\u00e9", {}}}, "context": {{"workspace": "/workspace", "risk_class": "low"}}}}"#,
            wide.join(", ")
        )
        .into_bytes(),
    ));
    out
}

/// One test: the counter is global, so the checks run one after another on
/// one thread (parallel tests would count each other's allocations).
#[test]
fn allocations_on_the_decision_path() {
    reading_an_intent_allocates_nothing_on_a_warm_arena();
    a_large_intents_arena_is_not_kept();
    warm_decisions_allocate_the_same_each_time();
    a_reused_scratch_decides_as_a_fresh_one();
    common_path_decisions_allocate_nothing();
}

/// Whether normalizing `text` left every value as it was and every list
/// within its inline capacity (outside any counted region): the common
/// path, as adapters and the SLO intents send intents. Such an intent's
/// decision must not allocate. The rest is counted, not asserted: a value
/// normalization rewrites (a relative or dotted path, an upper-case name)
/// is a new string; serde_json decodes escapes through a buffer of its own.
fn common_path(bundle: &gait_run::bundle::Verified, text: &[u8]) -> bool {
    use gait_run::intent::Target;
    use std::borrow::Cow;
    let borrowed = |c: &Cow<'_, str>| matches!(c, Cow::Borrowed(_));
    let opt = |c: &Option<Cow<'_, str>>| c.as_ref().is_none_or(borrowed);
    // File-system targets, and network targets whose URL or host is plain
    // (borrowed as it is, not read by the `url` crate).
    let common_target = |t: &Target<'_>| {
        let class = t.class.as_str();
        let place = match &t.host {
            None => class.starts_with("fs."),
            Some((host, _)) => class.starts_with("net.") && borrowed(host),
        };
        place && borrowed(&t.value) && opt(&t.operation) && t.programs.is_empty()
    };
    let arena = Bump::new();
    let Ok(raw) = gait_run::normalize::parse_json(text, &arena) else {
        return false;
    };
    let Ok(n) = gait_run::normalize::normalize_json_with(&raw, Some(&bundle.tables), false) else {
        return false;
    };
    let i = &n.intent;
    !text.contains(&b'\\')
        && !i.targets.is_empty()
        && !i.targets.spilled()
        && i.targets.iter().all(common_target)
        && !i.provenance.spilled()
        && i.arg_strings.is_empty()
        && n.warnings.is_empty()
        && n.backslash_reading.is_none()
        // (Quotes or bracket sets in a path: the shell readings build
        // intents of their own, a path's rare case.)
        && n.shell_readings.is_empty()
        && borrowed(&i.tool)
        && opt(&i.identity)
        && opt(&i.workspace)
        && i.skill.as_ref().is_none_or(|k| {
            borrowed(&k.name)
                && borrowed(&k.publisher)
                && borrowed(&k.source)
                && opt(&k.version)
                && opt(&k.digest)
                && opt(&k.key_id)
        })
}

fn common_path_decisions_allocate_nothing() {
    // Issue 15: no heap allocation per decision on the common path — the
    // intent read into the arena, normalized into borrowed values, decided
    // into inline codes, the result written into a reused buffer and the
    // summary returned. Every corpus intent of the common path is checked,
    // whatever its verdict (allow, block, require_approval, fail-closed).
    let bundle = bundle();
    let opts = EvalOptions::default();
    let mut out = Vec::with_capacity(1 << 16);
    let mut scratch = Scratch::default();
    let (mut checked, mut verdicts) = (0, std::collections::BTreeSet::new());
    let (mut fail_closed, mut network) = (0, 0);
    for (name, text) in corpus() {
        if !common_path(&bundle, &text) {
            continue;
        }
        let n = warm_count(&bundle, &text, &opts, &mut scratch, &mut out);
        let mut result = Vec::new();
        let s = evaluate(&bundle, &text, &opts, &mut scratch, &mut result);
        let result: serde_json::Value = serde_json::from_slice(&result).unwrap();
        if result["decision"] == "fail_closed" {
            fail_closed += 1;
        }
        // Fewer than five codes: more spill the inline list (counted, not
        // asserted: a policy whose rules give many reasons at once).
        if s.reason_codes.spilled() {
            continue;
        }
        assert_eq!(n, 0, "{name}: {s:?}");
        checked += 1;
        if s.endpoint_classes.iter().any(|c| c.starts_with("net.")) {
            network += 1;
        }
        verdicts.insert(s.verdict);
    }
    assert!(checked >= 100, "{checked} common-path intents decided");
    assert!(
        verdicts.len() >= 3,
        "allow, block and require_approval are among them: {verdicts:?}"
    );
    assert!(fail_closed > 0, "fail-closed decisions are among them");
    assert!(network >= 10, "{network} network intents among them");
}

fn reading_an_intent_allocates_nothing_on_a_warm_arena() {
    let corpus = corpus();
    assert!(corpus.len() > 100, "the corpus is there: {}", corpus.len());
    let mut arena = Bump::new();
    let (mut read, mut escaped) = (0, 0);
    for (name, text) in &corpus {
        // Warm: a reset keeps the arena's last (largest) chunk, which grows
        // until one chunk holds this intent's tree (chunks double: a few
        // rounds at most).
        let mut ok = false;
        for _ in 0..4 {
            ok = gait_run::normalize::parse_json(text, &arena).is_ok();
            arena.reset();
        }
        // Within serde_json's recursion limit a deep intent is read; past
        // it, refused.
        match name.as_str() {
            "nested 120 deep" => assert!(ok, "{name}"),
            "nested 200 deep" => assert!(!ok, "{name}"),
            _ => {}
        }
        if !ok {
            // Refused intents (the invalid-intent suites) build an error
            // message: that path is not the decision path.
            continue;
        }
        let region = Region::new(GLOBAL);
        let raw = gait_run::normalize::parse_json(text, &arena).unwrap();
        let stats = region.change();
        assert!(matches!(raw, gait_run::json::Json::Obj(_)), "{name}");
        arena.reset();
        if text.contains(&b'\\') {
            // serde_json decodes escapes through a buffer of its own, one
            // per parse (its reader takes none from the caller): that
            // buffer, grown to the longest escaped string, and nothing else.
            assert!(
                stats.allocations <= 1,
                "{name}: reading an intent with escapes allocated {stats:?}"
            );
            escaped += 1;
        } else {
            assert_eq!(
                (stats.allocations, stats.reallocations),
                (0, 0),
                "{name}: reading the intent allocated"
            );
            read += 1;
        }
    }
    assert!(read > 100, "{read} intents read without an allocation");
    assert!(escaped > 10, "{escaped} intents with escapes read");
}

fn bundle() -> gait_run::bundle::Verified {
    let bytes = std::fs::read(repo().join("runtime/tests/fixtures/matrix.gaitb")).unwrap();
    verify(
        &bytes,
        &VerifyOptions {
            insecure_skip_verify: true,
            ..Default::default()
        },
    )
    .unwrap()
}

fn a_large_intents_arena_is_not_kept() {
    let bundle = bundle();
    let zeros = vec!["0"; 300_000].join(",");
    let big = format!(
        r#"{{"tool_name": "read_file", "args": {{"path": "/workspace/a", "pad": [{zeros}]}}, "context": {{"workspace": "/workspace", "risk_class": "low"}}}}"#
    );
    assert!(big.len() < gait_run::normalize::MAX_INTENT_BYTES);
    let small = gait_run::bench::builtin_intents().remove(0).1;
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(1 << 16);
    let opts = EvalOptions::default();
    let warm_before = warm_count(&bundle, &small, &opts, &mut scratch, &mut out);
    out.clear();
    let region = Region::new(GLOBAL);
    let summary = evaluate(&bundle, big.as_bytes(), &opts, &mut scratch, &mut out);
    let stats = region.change();
    drop(summary);
    // stats_alloc counts a reallocation's growth in bytes_allocated.
    let held = stats.bytes_allocated as i64 - stats.bytes_deallocated as i64;
    // The tree of 300,000 numbers takes megabytes while it is read.
    assert!(
        stats.bytes_allocated > 4_000_000,
        "the big intent was read: {stats:?}"
    );
    assert!(
        held < 512 * 1024,
        "after the decision the scratch still holds {held} bytes: {stats:?}"
    );
    // And the scratch still works: warm again after a few small decisions
    // (its arena grows back to a small intent's chunk), it allocates what
    // it did before the large intent.
    assert_eq!(
        warm_count(&bundle, &small, &opts, &mut scratch, &mut out),
        warm_before
    );
}

/// Allocations and reallocations of one decision of `text` after four that
/// warm the scratch.
fn warm_count(
    bundle: &gait_run::bundle::Verified,
    text: &[u8],
    opts: &EvalOptions,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> usize {
    for _ in 0..4 {
        out.clear();
        evaluate(bundle, text, opts, scratch, out);
    }
    out.clear();
    let region = Region::new(GLOBAL);
    evaluate(bundle, text, opts, scratch, out);
    let change = region.change();
    // A reused buffer grown again on every decision counts too.
    change.allocations + change.reallocations
}

fn warm_decisions_allocate_the_same_each_time() {
    // A warm scratch reaches a steady state: the same intent allocates the
    // same count on every decision (nothing accumulates, nothing is lazily
    // grown late). The counts are printed: the file-system intents allocate
    // nothing; URLs and command lines allocate inside the libraries that
    // read them (issue 15).
    let bundle = bundle();
    let opts = EvalOptions::default();
    let mut out = Vec::with_capacity(1 << 16);
    let mut report = Vec::new();
    for (name, text) in gait_run::bench::builtin_intents() {
        let mut scratch = Scratch::default();
        let counts: Vec<usize> = (0..5)
            .map(|_| warm_count(&bundle, &text, &opts, &mut scratch, &mut out))
            .collect();
        assert!(
            counts.windows(2).all(|w| w[0] == w[1]),
            "{name}: {counts:?}"
        );
        report.push(format!("{name} {}", counts[0]));
    }
    eprintln!("allocations per warm decision: {report:?}");
}

fn a_reused_scratch_decides_as_a_fresh_one() {
    let bundle = bundle();
    // A debug build on a busy machine: the deadline must never be what
    // differs.
    let opts = EvalOptions {
        decision_timeout: Some(std::time::Duration::from_secs(60)),
        ..Default::default()
    };
    let mut corpus = corpus();
    // A large intent in the middle (its arena is dropped after it), an
    // invalid one, and the corpus again after them.
    let zeros = vec!["0"; 100_000].join(",");
    corpus.push((
        "large".into(),
        format!(
            r#"{{"tool_name": "read_file", "args": {{"path": "/workspace/a", "pad": [{zeros}]}}}}"#
        )
        .into_bytes(),
    ));
    corpus.push(("not JSON".into(), b"{\"tool_name\": ".to_vec()));
    corpus.extend(corpus.clone());
    let mut scratch = Scratch::default();
    let (mut reused, mut fresh) = (Vec::new(), Vec::new());
    for (name, text) in &corpus {
        reused.clear();
        fresh.clear();
        evaluate(&bundle, text, &opts, &mut scratch, &mut reused);
        evaluate(&bundle, text, &opts, &mut Scratch::default(), &mut fresh);
        assert_eq!(
            String::from_utf8_lossy(&reused),
            String::from_utf8_lossy(&fresh),
            "{name}"
        );
    }
}
