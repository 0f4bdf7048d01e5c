#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The `gaitc` binary: exit codes, output formats, determinism.

mod support;

use std::path::Path;
use support::{dir_with, exit_code, gaitc};

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const CLEAN: &str = "policy \"p\" version \"1.0.0\"\n\ndefault block\n\nrule r {\n  when any path in [\"/etc/**\"]\n  then block\n}\n";
const WARNS: &str =
    "policy \"p\" version \"1.0.0\"\n\ndefault block\n\nlet unused: paths = [\"/x\"]\n";
const BROKEN: &str = "policy \"p\" version \"1.0.0\"\ndefault block\nrule a { then nope }\nrule b { when path in [\"/x\"] then block }\n";

#[test]
fn check_exit_codes() {
    let dir = dir_with(&[("clean.gaitpol", CLEAN), ("warns.gaitpol", WARNS)]);
    assert_eq!(exit_code(&["check", "clean.gaitpol"], dir.path()), Some(0));
    assert_eq!(
        exit_code(&["check", "warns.gaitpol"], dir.path()),
        Some(0),
        "warnings alone pass"
    );
    assert_eq!(
        exit_code(&["check", "--deny-warnings", "warns.gaitpol"], dir.path()),
        Some(6)
    );
    write(dir.path(), "broken.gaitpol", BROKEN);
    let out = gaitc(&["check", "broken.gaitpol"], dir.path());
    assert_eq!(out.status.code(), Some(6));
    let text = String::from_utf8(out.stdout).unwrap();
    // Both independent errors, in one run, in words.
    assert!(
        text.contains("expected a verdict: allow, block, require_approval or dry_run"),
        "{text}"
    );
    assert!(text.contains("E0031"), "{text}");
    assert!(text.contains("2 errors"), "{text}");
    assert_eq!(
        exit_code(&["check", "no/such/file.gaitpol"], dir.path()),
        Some(6)
    );
    assert_eq!(
        exit_code(&["check", "--format", "yaml"], dir.path()),
        Some(6),
        "usage errors exit 6"
    );
    assert_eq!(exit_code(&["frobnicate"], dir.path()), Some(6));
    assert_eq!(exit_code(&["--help"], dir.path()), Some(0));
}

#[test]
fn check_walks_directories_recursively() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    write(&dir.path().join("a/b"), "deep.gaitpol", BROKEN);
    write(dir.path(), "top.gaitpol", CLEAN);
    write(dir.path(), "ignored.txt", "not a policy");
    let out = gaitc(&["check", "--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(6));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"], 2);
    assert!(v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["file"].as_str().unwrap().ends_with("deep.gaitpol")));
}

#[test]
fn json_has_the_documented_shape() {
    let dir = dir_with(&[("broken.gaitpol", BROKEN)]);
    let out = gaitc(&["check", "--format", "json", "broken.gaitpol"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"], 2);
    assert_eq!(v["warnings"], 0);
    let d = &v["diagnostics"][0];
    for key in [
        "code",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "labels",
        "help",
    ] {
        assert!(d.get(key).is_some(), "missing {key}: {d}");
    }
    assert_eq!(d["code"], "E0001");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "broken.gaitpol");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(15))
    );
    assert_eq!(v["diagnostics"][1]["line"], 4);
}

#[test]
fn sarif_is_2_1_0_with_rules_and_results() {
    let dir = dir_with(&[("broken.gaitpol", BROKEN)]);
    let out = gaitc(
        &["check", "--format", "sarif", "broken.gaitpol"],
        dir.path(),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "gaitc");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), gaitc::diag::codes::ALL.len());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let r = &results[1];
    assert_eq!(r["ruleId"], "E0031");
    assert_eq!(
        rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "E0031"
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "broken.gaitpol"
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    assert!(
        r["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"]
            .as_str()
            .unwrap()
            .starts_with("any")
    );
}

#[test]
fn plain_and_no_color_output_have_no_escapes_or_box_drawing() {
    let dir = dir_with(&[("broken.gaitpol", BROKEN)]);
    let human = String::from_utf8(gaitc(&["check", "broken.gaitpol"], dir.path()).stdout).unwrap();
    assert!(
        !human.contains('\u{1b}'),
        "NO_COLOR output has ANSI escapes"
    );
    assert!(human.contains('│'), "human output draws boxes");
    let plain = String::from_utf8(
        gaitc(
            &["check", "--format", "plain", "broken.gaitpol"],
            dir.path(),
        )
        .stdout,
    )
    .unwrap();
    assert!(plain.is_ascii(), "plain output is ASCII only:\n{plain}");
    assert!(plain.contains("error[E0001]"));
}

#[test]
fn output_is_deterministic() {
    let dir = dir_with(&[("broken.gaitpol", BROKEN), ("warns.gaitpol", WARNS)]);
    let runs: Vec<Vec<u8>> = (0..3)
        .map(|_| gaitc(&["check", "--format", "json", "."], dir.path()).stdout)
        .collect();
    assert!(runs.windows(2).all(|w| w[0] == w[1]));
    let sarif: Vec<Vec<u8>> = (0..2)
        .map(|_| gaitc(&["check", "--format", "sarif", "."], dir.path()).stdout)
        .collect();
    assert_eq!(sarif[0], sarif[1]);
}

#[test]
fn fmt_check_and_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.gaitpol",
        "policy \"p\"   version \"1.0.0\" # keep me\ndefault   block\n",
    );
    assert_eq!(
        exit_code(&["fmt", "--check", "p.gaitpol"], dir.path()),
        Some(1)
    );
    assert_eq!(exit_code(&["fmt", "p.gaitpol"], dir.path()), Some(0));
    let text = std::fs::read_to_string(dir.path().join("p.gaitpol")).unwrap();
    assert_eq!(
        text,
        "policy \"p\" version \"1.0.0\" # keep me\n\ndefault block\n"
    );
    assert_eq!(
        exit_code(&["fmt", "--check", "p.gaitpol"], dir.path()),
        Some(0)
    );
    write(dir.path(), "bad.gaitpol", "rule { then");
    assert_eq!(exit_code(&["fmt", "bad.gaitpol"], dir.path()), Some(6));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("bad.gaitpol")).unwrap(),
        "rule { then",
        "a file with syntax errors is never rewritten"
    );
}

#[test]
fn explain_prints_every_code_and_rejects_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    for info in gaitc::diag::codes::ALL {
        let out = gaitc(&["explain", info.code], dir.path());
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("```gaitpol"), "{} has no example", info.code);
    }
    let lower = gaitc(&["explain", "e0031"], dir.path());
    assert_eq!(lower.status.code(), Some(0));
    let unknown = gaitc(&["explain", "E0999"], dir.path());
    assert_eq!(unknown.status.code(), Some(6));
    let list = String::from_utf8(gaitc(&["explain"], dir.path()).stdout).unwrap();
    assert!(list.contains("W0005"));
}

#[test]
fn output_that_cannot_be_written_is_not_a_success() {
    // Standard output refusing every write (/dev/full; a reader that closed
    // the pipe is the same to the process): what a command printed is lost,
    // so it exits 1 with the cause on standard error (`explain` ignored its
    // writes' results and exited 0); a run that failed keeps its own code.
    let dir = dir_with(&[("clean.gaitpol", CLEAN)]);
    let run = |args: &[&str]| {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_gaitc"))
            .args(args)
            .current_dir(dir.path())
            .stdout(full)
            .output()
            .unwrap()
    };
    for args in [
        &["explain", "E0031"][..],
        &["explain"],
        &["check", "--format", "json", "clean.gaitpol"],
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot be written to standard output") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(run(&["explain", "E9999"]).status.code(), Some(6));
}
