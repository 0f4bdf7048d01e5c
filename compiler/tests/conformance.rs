#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The conformance corpus (`tests/conformance/*/`): each directory holds a
//! `policy.gaitpol` and `cases.json` (intent, expected verdict, exact reasons,
//! exit code, optionally exact violations and decision kind). Every case is
//! decided through a real signed bundle by the same code `gait-run eval` runs,
//! and the tables are cross-checked against the reference evaluator.

mod support;

use gait_run::bundle::{verify, Verified, VerifyOptions};
use gait_run::gate::{evaluate, EvalOptions, Summary};
use gait_run::tables::Scratch;
use serde_json::{json, Value};

/// An intent's text through the one gate entry: its summary and result
/// bytes.
fn eval_text<'b>(bundle: &'b Verified, text: &[u8]) -> (Summary<'b>, Vec<u8>) {
    let mut out = Vec::new();
    let summary = evaluate(
        bundle,
        text,
        // About the decisions, not the deadline (a debug build on a busy
        // machine can be descheduled past the default 50 ms).
        &EvalOptions {
            decision_timeout: Some(std::time::Duration::from_secs(60)),
            ..EvalOptions::default()
        },
        &mut Scratch::default(),
        &mut out,
    );
    (summary, out)
}

#[test]
fn conformance_corpus() {
    let mut dirs = support::conformance_dirs();
    // Gait's own published intent format evaluates unchanged.
    dirs.push(support::repo().join("examples/compat"));
    let key = support::key(7);
    let opts = VerifyOptions {
        trust: vec![key.public().clone()],
        ..Default::default()
    };
    let (mut total, mut failures) = (0, Vec::new());
    for dir in &dirs {
        let mut s = gaitc::check::Session::new();
        let id = s.load_path(&dir.join("policy.gaitpol")).unwrap();
        let policy = s
            .check(id)
            .policy
            .unwrap_or_else(|| panic!("{}: {:?}", dir.display(), s.diagnostics()));
        let bytes = gaitc::bundle::build(&s, id, &policy, &[&key], None)
            .unwrap()
            .0;
        let bundle = verify(&bytes, &opts).unwrap();
        let cases: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap())
                .unwrap();
        for case in &cases {
            total += 1;
            let name = format!(
                "{}/{}",
                dir.file_name().unwrap().to_string_lossy(),
                case["name"].as_str().unwrap_or("?")
            );
            // The intent's text, through the one gate entry.
            let text = serde_json::to_vec(&case["intent"]).unwrap();
            let (summary, bytes) = eval_text(&bundle, &text);
            let r: Value = serde_json::from_slice(&bytes).unwrap();
            let mut problems = Vec::new();
            // The summary says what the bytes say.
            if json!(summary.verdict.as_str()) != r["verdict"]
                || json!(summary.reason_codes) != r["reason_codes"]
                || json!(summary.endpoint_classes) != r["endpoint_classes"]
                || json!(summary.intent_digest) != r["intent_digest"]
            {
                problems.push(format!("summary {summary:?} differs from the result"));
            }
            if r["verdict"] != case["verdict"] {
                problems.push(format!(
                    "verdict {} (want {})",
                    r["verdict"], case["verdict"]
                ));
            }
            if r["reason_codes"] != case["reasons"] {
                problems.push(format!(
                    "reasons {} (want {})",
                    r["reason_codes"], case["reasons"]
                ));
            }
            if summary.exit as i64 != case["exit"].as_i64().unwrap() {
                problems.push(format!("exit {} (want {})", summary.exit, case["exit"]));
            }
            for key in ["violations", "decision"] {
                if let Some(want) = case.get(key) {
                    if &r[key] != want {
                        problems.push(format!("{key} {} (want {want})", r[key]));
                    }
                }
            }
            // Tables and reference agree on every valid intent of the corpus.
            if let Ok(n) = gait_run::normalize::normalize(&case["intent"], Some(&bundle.tables)) {
                let reference = n.decide(|i| gaitc::eval::evaluate(&policy, i));
                let tables = n.decide(|i| bundle.tables.decide(i, &mut Scratch::default()));
                if reference != tables {
                    problems.push(format!("tables {tables:?} != reference {reference:?}"));
                }
            }
            if !problems.is_empty() {
                failures.push(format!("{name}: {}", problems.join("; ")));
            }
        }
    }
    assert!(total >= 100, "the corpus has only {total} cases");
    support::assert_no_failures(&failures, total);
}

/// Targets a bundle maps from `args` count toward the bound on targets ×
/// readings as explicit ones do: `MAX_TARGET_READINGS / 3` paths holding a
/// `\` (each read three ways) are decided, one more is an invalid intent
/// (exit 6) on `targets`, never decided on a part of them.
#[test]
fn mapped_targets_count_toward_the_readings_bound() {
    use gait_run::normalize::MAX_TARGET_READINGS;
    let policy_text = "policy \"p\" version \"1.0.0\"\n\ndefault block\n\n\
        map tool \"write_files\" { path args.paths[*] as fs.write }\n\n\
        rule ws {\n  when all path in [\"/ws/**\"]\n  then allow\n  reason \"ws\"\n}\n";
    let mut s = gaitc::check::Session::new();
    let id = s.load_source("p.gaitpol", policy_text, std::path::Path::new("."));
    let policy = s
        .check(id)
        .policy
        .unwrap_or_else(|| panic!("{:?}", s.diagnostics()));
    let key = support::key(7);
    let bytes = gaitc::bundle::build(&s, id, &policy, &[&key], None)
        .unwrap()
        .0;
    let opts = VerifyOptions {
        trust: vec![key.public().clone()],
        ..Default::default()
    };
    let bundle = verify(&bytes, &opts).unwrap();
    let decide = |n: usize| {
        let paths: Vec<String> = (0..n).map(|i| format!("/ws/{i}/a\\..\\b")).collect();
        let text = serde_json::to_vec(&json!({
            "tool_name": "write_files",
            "args": {"paths": paths},
            "context": {"workspace": "/ws", "risk_class": "low"},
        }))
        .unwrap();
        let (summary, out) = eval_text(&bundle, &text);
        (summary.exit, serde_json::from_slice::<Value>(&out).unwrap())
    };
    let most = MAX_TARGET_READINGS / 3;
    let (exit, r) = decide(most);
    assert_eq!((exit, &r["verdict"]), (0, &json!("allow")), "{r}");
    let (exit, r) = decide(most + 1);
    assert_eq!(exit, 6, "{r}");
    assert_eq!(r["reason_codes"], json!(["intent_invalid"]));
    let error = r["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("targets") && error.contains("read 3 ways"),
        "{error}"
    );
}
