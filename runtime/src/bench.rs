//! `gait-run bench`: in-process decision latency (intent JSON text → result),
//! per endpoint class, after warm-up. Timing reads the clock; the decisions
//! it times do not.

use crate::bundle::Verified;
use crate::gate::{evaluate, stage_times, EvalOptions, STAGES};
use crate::tables::Scratch;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;

/// Representative intents, one per common endpoint class.
pub fn builtin_intents() -> Vec<(String, Vec<u8>)> {
    let ctx = r#""context": {"identity": "bench", "workspace": "/workspace", "risk_class": "low"}"#;
    let prov = r#""arg_provenance": [{"arg_path": "$", "source": "user"}]"#;
    [
        ("fs.read", format!(r#"{{"tool_name": "read_file", "args": {{"path": "/workspace/src/main.rs"}}, "targets": [{{"kind": "path", "value": "/workspace/src/main.rs", "operation": "read"}}], {prov}, {ctx}}}"#)),
        ("fs.write", format!(r#"{{"tool_name": "write_file", "args": {{"path": "/workspace/out.txt", "content": "x"}}, "targets": [{{"kind": "path", "value": "/workspace/out.txt", "operation": "write"}}], {prov}, {ctx}}}"#)),
        ("fs.delete", format!(r#"{{"tool_name": "delete_file", "args": {{"path": "/workspace/tmp/a"}}, "targets": [{{"kind": "path", "value": "/workspace/tmp/a", "operation": "delete"}}], {prov}, {ctx}}}"#)),
        ("proc.exec", format!(r#"{{"tool_name": "exec", "args": {{"command": "ls -la && sudo rm -rf /tmp/x"}}, "targets": [{{"kind": "command", "value": "ls -la && sudo rm -rf /tmp/x"}}], {prov}, {ctx}}}"#)),
        ("net.http", format!(r#"{{"tool_name": "web_fetch", "args": {{"url": "https://api.github.com/repos"}}, "targets": [{{"kind": "url", "value": "https://api.github.com/repos", "operation": "get"}}], {prov}, {ctx}}}"#)),
        ("net.dns", format!(r#"{{"tool_name": "resolve", "args": {{"host": "pypi.org"}}, "targets": [{{"kind": "host", "value": "pypi.org", "operation": "resolve"}}], {prov}, {ctx}}}"#)),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_owned(), t.into_bytes()))
    .collect()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn stats(samples: &mut [u64]) -> Value {
    samples.sort_unstable();
    json!({
        "p50_ns": percentile(samples, 50.0),
        "p95_ns": percentile(samples, 95.0),
        "p99_ns": percentile(samples, 99.0),
        "max_ns": samples.last().copied().unwrap_or(0),
        "samples": samples.len(),
    })
}

/// Times `iterations` decisions of each intent (after as many warm-up
/// decisions, at most 1,000) and reports percentiles per endpoint class.
pub fn run(bundle: &Verified, intents: &[(String, Vec<u8>)], iterations: usize) -> Value {
    let opts = EvalOptions::default();
    let mut scratch = Scratch::default();
    let mut by_class: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut overall = Vec::with_capacity(intents.len() * iterations);
    let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(1024);
    let mut stages: BTreeMap<String, [Vec<u64>; 5]> = BTreeMap::new();
    for (_, text) in intents {
        out.clear();
        let first = evaluate(bundle, text, &opts, &mut scratch, &mut out);
        let class = match first.endpoint_classes.as_slice() {
            [] if first.intent_digest.is_none() => "invalid".to_owned(),
            [] => "none".to_owned(),
            [one] => (*one).to_owned(),
            many => many.join("+"),
        };
        *verdicts
            .entry(first.verdict.as_str().to_owned())
            .or_default() += 1;
        // The timed path is the serving path: text in, result bytes out
        // into a reused buffer.
        for _ in 0..iterations.min(1_000) {
            out.clear();
            std::hint::black_box(evaluate(
                bundle,
                std::hint::black_box(text),
                &opts,
                &mut scratch,
                &mut out,
            ));
        }
        // Where the time goes: each stage timed on its own, as many times.
        if let Some(per) = stage_times(bundle, text, &mut scratch, &mut out) {
            let entry = stages.entry(class.clone()).or_default();
            for (v, t) in entry.iter_mut().zip(per) {
                v.push(t);
            }
            for _ in 1..iterations {
                out.clear();
                if let Some(per) = stage_times(bundle, text, &mut scratch, &mut out) {
                    for (v, t) in entry.iter_mut().zip(per) {
                        v.push(t);
                    }
                }
            }
        }
        let samples = by_class.entry(class).or_default();
        for _ in 0..iterations {
            out.clear();
            let t = Instant::now();
            std::hint::black_box(evaluate(
                bundle,
                std::hint::black_box(text),
                &opts,
                &mut scratch,
                &mut out,
            ));
            let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
            samples.push(ns);
            overall.push(ns);
        }
    }
    let classes: serde_json::Map<String, Value> = by_class
        .into_iter()
        .map(|(k, mut v)| (k, stats(&mut v)))
        .collect();
    let stages: serde_json::Map<String, Value> = stages
        .into_iter()
        .map(|(class, mut per)| {
            let m: serde_json::Map<String, Value> = STAGES
                .iter()
                .zip(per.iter_mut())
                .map(|(name, v)| ((*name).to_owned(), stats(v)))
                .collect();
            (class, Value::Object(m))
        })
        .collect();
    json!({
        "schema_id": "gait.perf.eval_report",
        "schema_version": "1.0.0",
        "iterations": iterations,
        "rules": bundle.tables.rule_count(),
        "policy_digest": bundle.policy_digest(),
        "intents": intents.len(),
        "verdicts": verdicts,
        "classes": classes,
        "stages": stages,
        "overall": stats(&mut overall),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(super::percentile(&v, 50.0), 50);
        assert_eq!(super::percentile(&v, 99.0), 99);
        assert_eq!(super::percentile(&v, 100.0), 100);
        assert_eq!(super::percentile(&[7], 95.0), 7);
        assert_eq!(super::percentile(&[], 50.0), 0);
    }
}
