#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! Real outputs validate against the JSON Schemas in `schemas/v1/`.

mod support;

use std::path::Path;
use support::{dir_with, gaitc, gaitc_ok, repo, schema};

fn assert_valid(validator: &jsonschema::Validator, instance: &serde_json::Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{instance:#}");
}

#[test]
fn check_json_output_matches_its_schema() {
    let v = schema("diagnostics.schema.json");
    let policy = "policy \"p\" version \"1.0\"\ndefault block\nlet x: paths = [\"/a\", \"/a\"]\nrule r { when path in x then block }\nrule r { then nope }\n";
    let dir = dir_with(&[("p.gaitpol", policy)]);
    let out = gaitc(&["check", "--format", "json", "."], dir.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["diagnostics"].as_array().unwrap().len() >= 4,
        "{json:#}"
    );
    assert!(json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| !d["labels"].as_array().unwrap().is_empty()));
    assert!(json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| !d["fix"].is_null()));
    assert_valid(&v, &json);
    // And a shape the schema must reject, so the test can fail.
    assert!(!v.is_valid(
        &serde_json::json!({"diagnostics": [{"code": "X1"}], "errors": 0, "warnings": 0})
    ));
}

#[test]
fn bundle_manifest_and_verify_report_match_their_schemas() {
    let policy = "policy \"p\" version \"1.0.0\"\n\ndefault block\n\nimport std.secrets\n\nrule r {\n  when any path in secrets.ssh\n  then block\n}\n";
    let key = support::key(2);
    let dir = dir_with(&[("p.gaitpol", policy), ("k.key", &key.to_file_text())]);
    gaitc_ok(
        &[
            "build",
            "p.gaitpol",
            "-o",
            "p.gaitb",
            "--key",
            "k.key",
            "--not-after",
            "2099-01-01T00:00:00Z",
        ],
        dir.path(),
    );
    let bytes = std::fs::read(dir.path().join("p.gaitb")).unwrap();
    let parsed = gait_run::bundle::parse(&bytes).unwrap();
    assert_valid(&schema("bundle_manifest.schema.json"), &parsed.manifest);
    let report = serde_json::json!({
        "ok": true,
        "policy": {"name": parsed.info.name, "version": parsed.info.version, "revision": parsed.info.revision},
        "policy_digest": parsed.policy_digest,
        "rules": parsed.info.rules,
        "not_after": parsed.info.not_after,
        "signed_by": [key.public().id()],
        "bundle_verified": true,
    });
    assert_valid(&schema("verify_report.schema.json"), &report);
}

/// Results (allow, block, fail-closed, invalid, rejected, simulated,
/// explained) and traces from real evaluations validate against their schemas.
#[test]
fn results_and_traces_match_their_schemas() {
    use gait_run::gate::{self, EvalOptions};
    use gait_run::tables::Scratch;
    let result_schema = schema("result.schema.json");
    let trace_schema = schema("trace.schema.json");
    let intent_schema = schema("intent.schema.json");
    let key = support::key(3);
    let src = "policy \"p\" version \"1.0.0\"\n\ndefault block\n\nmap tool \"read_file\" { path args.path as fs.read }\n\nrule ws {\n  when all path in [\"/workspace/**\"]\n  then allow\n}\n\nrule secrets priority 0 {\n  when any path in [\"**/.ssh/**\"]\n  then block\n  reason \"secret\"\n}\n";
    let mut s = gaitc::check::Session::new();
    let id = s.load_source("p.gaitpol", src, Path::new("."));
    let policy = s.check(id).policy.unwrap();
    let bytes = gaitc::bundle::build(&s, id, &policy, &[&key], None)
        .unwrap()
        .0;
    let opts = gait_run::bundle::VerifyOptions {
        trust: vec![key.public().clone()],
        ..Default::default()
    };
    let bundle = gait_run::bundle::verify(&bytes, &opts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let intents = [
        r#"{"tool_name": "read_file", "args": {"path": "/workspace/a"}, "context": {"risk_class": "low"}}"#,
        r#"{"tool_name": "read_file", "args": {"path": "/home/u/.ssh/id_rsa"}, "context": {"risk_class": "low"}, "skill_provenance": {"skill_name": "s", "publisher": "p", "source": "r"}}"#,
        r#"{"tool_name": "other", "context": {"risk_class": "high"}}"#,
        r#"{"tool_name": "x", "targets": [{"kind": "path", "value": "/a"}], "context": {"risk_class": "nope"}}"#,
    ];
    let mut checked = 0;
    for (i, text) in intents.iter().enumerate() {
        assert_valid(&intent_schema, &serde_json::from_str(text).unwrap());
        for (simulate, explain) in [(false, false), (true, true)] {
            let trace = Some((dir.path().join(format!("t{i}")), support::key(3)));
            let mut out = Vec::new();
            gate::evaluate(
                &bundle,
                text.as_bytes(),
                &EvalOptions {
                    simulate,
                    explain,
                    trace,
                    ..EvalOptions::default()
                },
                &mut Scratch::default(),
                &mut out,
            );
            let result: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_valid(&result_schema, &result);
            let trace: serde_json::Value = serde_json::from_slice(
                &std::fs::read(result["trace_path"].as_str().unwrap()).unwrap(),
            )
            .unwrap();
            assert_valid(&trace_schema, &trace);
            checked += 1;
        }
    }
    let mut invalid = Vec::new();
    gate::evaluate(
        &bundle,
        b"[1]",
        &EvalOptions::default(),
        &mut Scratch::default(),
        &mut invalid,
    );
    assert_valid(&result_schema, &serde_json::from_slice(&invalid).unwrap());
    let mut rejected = Vec::new();
    let rej = gait_run::bundle::verify(b"", &opts).unwrap_err();
    gate::refuse(&mut rejected, gate::Refusal::Rejected(&rej), None);
    assert_valid(&result_schema, &serde_json::from_slice(&rejected).unwrap());
    assert!(
        !result_schema.is_valid(&serde_json::json!({"ok": false, "verdict": "allow"})),
        "the schema must be able to fail"
    );
    assert_eq!(checked, 8);
}

#[test]
fn bench_report_matches_its_schema() {
    let f = repo().join("runtime/tests/fixtures");
    let bytes = std::fs::read(f.join("matrix.gaitb")).unwrap();
    let opts = gait_run::bundle::VerifyOptions {
        insecure_skip_verify: true,
        ..Default::default()
    };
    let bundle = gait_run::bundle::verify(&bytes, &opts).unwrap();
    let report = gait_run::bench::run(&bundle, &gait_run::bench::builtin_intents(), 5);
    assert_valid(&schema("perf_eval_report.schema.json"), &report);
    assert_eq!(report["classes"].as_object().unwrap().len(), 6);
}

#[test]
fn runtime_slo_budgets_match_their_schema_and_name_real_intents() {
    let root = repo();
    let budgets: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("perf/runtime_slo_budgets.json")).unwrap(),
    )
    .unwrap();
    let v = schema("runtime_slo_budgets.schema.json");
    assert_valid(&v, &budgets);
    // Every class with a budget has an intent file that exists, in both scopes.
    for scope in ["in_process", "process"] {
        let key = if scope == "in_process" {
            "budgets_ns"
        } else {
            "budgets_ms"
        };
        for class in budgets[scope][key].as_object().unwrap().keys() {
            let file = budgets["intents"][class]["file"].as_str().unwrap();
            assert!(root.join(file).is_file(), "{class}: {file}");
        }
    }
    // The instruction budgets cover the same classes as the wall-clock ones
    // (a class left out would lose its noise-free guard).
    let timed: Vec<&String> = budgets["in_process"]["budgets_ns"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let counted: Vec<&String> = budgets["instructions"]["budgets"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(timed, counted);
    let mut broken = budgets.clone();
    broken["in_process"]["budgets_ns"]["fs.read"]["p50"] = serde_json::json!(-1);
    assert!(!v.is_valid(&broken));
    let mut broken = budgets.clone();
    broken["instructions"]["budgets"]["fs.read"] = serde_json::json!(0);
    assert!(!v.is_valid(&broken));
    let mut broken = budgets;
    broken["instructions"]["rustc"] = serde_json::json!("1.95.0");
    assert!(!v.is_valid(&broken));
}
