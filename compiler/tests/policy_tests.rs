#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! `gaitc test`: examples pass with full coverage; a broken rule fails with a
//! readable diff and exit 5; JUnit has the common shape; a signed trace
//! becomes a fixture that pins today's verdict.

mod support;

use support::{dir_with, exit_code, gaitc, repo};

#[test]
fn examples_pass_with_full_coverage() {
    let out = gaitc(
        &["test", "examples/", "--coverage", "--min-coverage", "100"],
        &repo(),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = text.lines().last().unwrap();
    let (passed, failed) = summary.split_once(" passed, ").unwrap();
    assert!(passed.parse::<usize>().unwrap() >= 80, "{summary}");
    assert_eq!(failed, "0 failed");
    assert!(text.contains("(100.0%)"), "{text}");
}

#[test]
fn a_broken_rule_fails_with_a_readable_diff_and_exit_5() {
    let src = std::fs::read_to_string(repo().join("examples/payments-agent.gaitpol")).unwrap();
    let broken = src.replacen(
        "then block\n  reason \"secret_path_access\"",
        "then allow\n  reason \"secret_path_access\"",
        1,
    );
    assert_ne!(broken, src, "the example changed: update this test");
    let dir = dir_with(&[("p.gaitpol", broken.as_str())]);
    let out = gaitc(&["test", "p.gaitpol", "--junit", "junit.xml"], dir.path());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(
        text.contains("FAIL p.gaitpol :: reading an ssh key is blocked"),
        "{text}"
    );
    assert!(text.contains("expected verdict block, got allow"), "{text}");
    assert!(
        text.contains("rule secrets_never (priority 10, allow): matched"),
        "explain data of the deciding rules:\n{text}"
    );
    assert!(
        text.lines().last().unwrap().ends_with(" failed")
            && !text.lines().last().unwrap().ends_with(" 0 failed")
    );

    // The JUnit file has the common shape and counts the failures.
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    let cases: Vec<_> = suites[0]
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(
        suites[0]
            .attribute("tests")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        cases.len()
    );
    let failures: Vec<_> = cases
        .iter()
        .filter_map(|c| c.children().find(|n| n.has_tag_name("failure")))
        .collect();
    assert!(!failures.is_empty());
    assert_eq!(
        root.attribute("failures")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        failures.len()
    );
    assert!(cases
        .iter()
        .all(|c| c.attribute("name").is_some() && c.attribute("classname").is_some()));
    assert!(failures[0]
        .attribute("message")
        .unwrap()
        .contains("expected"));
}

#[test]
fn source_errors_exit_6() {
    let dir = dir_with(&[(
        "bad.gaitpol",
        "policy \"p\" version \"1.0.0\"\nrule r { then allow }\n",
    )]);
    assert_eq!(exit_code(&["test", "."], dir.path()), Some(6));
    assert_eq!(
        exit_code(&["test", ".", "--min-coverage", "150"], dir.path()),
        Some(6)
    );
}

#[test]
fn coverage_below_the_minimum_fails() {
    let policy = "policy \"p\" version \"1.0.0\"\n\ndefault block\n\nrule a {\n  when any path in [\"/etc/**\"]\n  then block\n}\n\nrule b {\n  when any path in [\"/root/**\"]\n  then block\n}\n\ntest \"a\" {\n  intent {\n    tool \"read\"\n    target path \"/etc/x\" op read\n  }\n  expect block rule a\n}\n";
    let dir = dir_with(&[("p.gaitpol", policy)]);
    let out = gaitc(
        &["test", ".", "--coverage", "--min-coverage", "75"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("not exercised: rule b"));
    assert_eq!(
        exit_code(&["test", ".", "--min-coverage", "50"], dir.path()),
        Some(0)
    );
}

#[test]
fn an_incident_trace_becomes_a_regression_fixture() {
    let policy = "policy \"p\" version \"1.0.0\"\n\ndefault allow\n\nmap tool \"read_file\" { path args.path as fs.read }\n\nrule secrets {\n  when any path in [\"**/.ssh/**\"]\n  then block\n  reason \"secret\"\n}\n";
    let dir = dir_with(&[("p.gaitpol", policy)]);
    let key = support::key(4);
    std::fs::write(dir.path().join("ops.pub"), key.public().to_base64()).unwrap();
    // Record a decision with a signed trace.
    let mut s = gaitc::check::Session::new();
    let id = s.load_path(&dir.path().join("p.gaitpol")).unwrap();
    let p = s.check(id).policy.unwrap();
    let bytes = gaitc::bundle::build(&s, id, &p, &[&key], None).unwrap().0;
    let bundle = gait_run::bundle::verify(
        &bytes,
        &gait_run::bundle::VerifyOptions {
            trust: vec![key.public().clone()],
            ..Default::default()
        },
    )
    .unwrap();
    let intent = br#"{"tool_name": "read_file", "args": {"path": "/home/dev/.ssh/id_rsa"}, "context": {"risk_class": "low"}}"#;
    let opts = gait_run::gate::EvalOptions {
        trace: Some((dir.path().join("traces"), support::key(4))),
        // Not a test of speed: a loaded machine running a debug build may
        // pass the 50 ms default, and a decision past it writes no trace.
        decision_timeout: Some(std::time::Duration::from_secs(30)),
        ..Default::default()
    };
    let mut out = Vec::new();
    gait_run::gate::evaluate(
        &bundle,
        intent,
        &opts,
        &mut gait_run::tables::Scratch::default(),
        &mut out,
    );
    let result: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(result["verdict"], "block");
    let trace = result["trace_path"].as_str().unwrap().to_owned();
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    let add = gaitc(
        &[
            "test",
            "add",
            "--from-trace",
            &trace,
            "--to",
            "tests/incident.test.json",
            "--trust",
            "ops.pub",
            "--policy",
            "p.gaitpol",
        ],
        dir.path(),
    );
    assert_eq!(
        add.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let fixture: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("tests/incident.test.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(fixture["policy"], "../p.gaitpol");
    assert_eq!(fixture["expect"]["verdict"], "block");
    // A trace with a key put before the signed one is no trace (a reader
    // keeping the first copy would see `allow` beside a valid signature).
    let text = std::fs::read_to_string(&trace).unwrap();
    let repeated = dir.path().join("repeated.json");
    std::fs::write(
        &repeated,
        text.replacen('{', "{\"verdict\": \"allow\", ", 1),
    )
    .unwrap();
    let refused = gaitc(
        &[
            "test",
            "add",
            "--from-trace",
            repeated.to_str().unwrap(),
            "--to",
            "tests/repeated.test.json",
            "--trust",
            "ops.pub",
            "--policy",
            "p.gaitpol",
        ],
        dir.path(),
    );
    assert_eq!(refused.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a readable JSON trace"));
    assert!(!dir.path().join("tests/repeated.test.json").exists());
    assert_eq!(fixture["expect"]["reasons"], serde_json::json!(["secret"]));
    // Today's policy passes the fixture...
    let ok = gaitc(&["test", "."], dir.path());
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8(ok.stdout)
        .unwrap()
        .contains("1 passed, 0 failed"));
    // ...and a changed policy fails it.
    std::fs::write(
        dir.path().join("p.gaitpol"),
        policy.replace("**/.ssh/**", "**/.gnupg/**"),
    )
    .unwrap();
    let changed = gaitc(&["test", "."], dir.path());
    assert_eq!(changed.status.code(), Some(5));
    assert!(String::from_utf8(changed.stdout)
        .unwrap()
        .contains("expected verdict block, got allow"));
    // A tampered trace or an untrusted key is refused.
    let mut t: serde_json::Value = serde_json::from_slice(&std::fs::read(&trace).unwrap()).unwrap();
    t["verdict"] = serde_json::json!("allow");
    std::fs::write(dir.path().join("tampered.json"), t.to_string()).unwrap();
    let refused = gaitc(
        &[
            "test",
            "add",
            "--from-trace",
            "tampered.json",
            "--to",
            "x.test.json",
            "--trust",
            "ops.pub",
            "--policy",
            "p.gaitpol",
        ],
        dir.path(),
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(!dir.path().join("x.test.json").exists());
}

#[test]
fn workflow_files_are_valid_yaml_with_the_expected_jobs() {
    for (file, jobs) in [
        (
            ".github/workflows/ci.yml",
            vec![
                "test",
                "v1-7-acceptance",
                "mcp-proxy",
                "editors",
                "bench-peers",
                "ci-run",
            ],
        ),
        (".github/workflows/adoption-template.yml", vec![]),
    ] {
        let path = repo().join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("{file} is missing");
        };
        let docs =
            yaml_rust2::YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let doc = &docs[0];
        let all_jobs = doc["jobs"]
            .as_hash()
            .unwrap_or_else(|| panic!("{file}: no jobs"));
        assert!(!all_jobs.is_empty(), "{file}");
        for job in jobs {
            assert!(!doc["jobs"][job].is_badvalue(), "{file}: job {job}");
        }
        for (name, job) in all_jobs {
            let steps = job["steps"]
                .as_vec()
                .unwrap_or_else(|| panic!("{file}: job {name:?} has no steps"));
            assert!(
                steps
                    .iter()
                    .all(|s| s["run"].as_str().is_some() || s["uses"].as_str().is_some()),
                "{file}: job {name:?}"
            );
        }
    }
}

#[test]
fn intents_are_read_as_strictly_as_the_gate_reads_them() {
    let policy = "policy \"p\" version \"1.0.0\"\ndefault block\nrule reads priority 10 {\n  when tool == \"read_file\"\n  then allow\n  reason \"r\"\n}\n\
         test \"garbled intent file is blocked\" {\n  intent file \"garbled.json\"\n  expect block reason \"intent_invalid\"\n}\n";
    let dir = dir_with(&[("p.gaitpol", policy), ("garbled.json", "{\"tool_name\": ")]);
    let out = gaitc(&["test", "p.gaitpol"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "an unreadable intent is decided as the gate decides it: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A repeated key: the gate refuses the intent, so a fixture cannot pass
    // with the last copy winning.
    std::fs::write(
        dir.path().join("dup.test.json"),
        r#"{"policy": "p.gaitpol", "intent": {"tool_name": "exec", "tool_name": "read_file"}, "expect": {"verdict": "allow"}}"#,
    )
    .unwrap();
    let out = gaitc(&["test", "."], dir.path());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("`tool_name` appears twice"), "{text}");
}
