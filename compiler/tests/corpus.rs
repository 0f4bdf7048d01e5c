#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The diagnostics corpus:
//! - `tests/invalid/*.gaitpol`: each file declares `# expect: CODE line N`, and
//!   checking it must produce exactly those diagnostics;
//! - every code's `gaitc explain` example triggers the code, and its fixed
//!   version is clean;
//! - every code has insta snapshots (human and JSON) of its example.

mod support;

use gaitc::check::Session;
use gaitc::diag::{codes, render, Diagnostic};
use std::path::{Path, PathBuf};
use support::repo;

fn check_file(path: &Path) -> (Session, Vec<Diagnostic>) {
    let mut s = Session::new();
    let id = s.load_path(path).expect("readable");
    s.check(id);
    let d = s.diagnostics();
    (s, d)
}

#[test]
fn invalid_corpus_reports_the_intended_errors_on_the_intended_lines() {
    let dir = repo().join("tests/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "the corpus must hold at least 40 invalid policies, found {}",
        files.len()
    );
    let re_expect = |src: &str| -> Vec<(String, usize)> {
        src.lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .map(|rest| {
                let (code, line) = rest.split_once(" line ").expect("`# expect: CODE line N`");
                (
                    code.trim().to_owned(),
                    line.trim().parse().expect("line number"),
                )
            })
            .collect()
    };
    let mut failures = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        let expected = re_expect(&src);
        assert!(
            !expected.is_empty(),
            "{} declares no expectation",
            f.display()
        );
        let (session, diags) = check_file(f);
        let got: Vec<(String, usize)> = diags
            .iter()
            .map(|d| {
                (
                    d.code.clone(),
                    session
                        .sources
                        .line_col(d.primary.file.unwrap_or(d.file), d.primary.span.start())
                        .0,
                )
            })
            .collect();
        let mut want = expected.clone();
        want.sort();
        let mut have = got.clone();
        have.sort();
        have.dedup();
        if want != have {
            failures.push(format!(
                "{}: expected {want:?}, got {have:?}",
                f.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_covers_most_codes() {
    let dir = repo().join("tests/invalid");
    let mut seen = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let src = std::fs::read_to_string(e.unwrap().path()).unwrap();
        for l in src.lines().filter_map(|l| l.strip_prefix("# expect: ")) {
            seen.insert(l.split_whitespace().next().unwrap().to_owned());
        }
    }
    let missing: Vec<_> = codes::ALL
        .iter()
        .map(|i| i.code)
        .filter(|c| !seen.contains(*c))
        .collect();
    // Multi-file situations (module rules, cycles) are covered by the explain examples.
    assert!(
        missing.len() <= 4,
        "codes without an invalid-corpus case: {missing:?}"
    );
}

/// Writes an explanation's example blocks (before or after "Fixed:") to a
/// fresh directory; returns it and the file to check (the last block).
fn materialize(md: &str, fixed: bool) -> (tempfile::TempDir, PathBuf) {
    let part = if fixed {
        md.split_once("Fixed:").map(|x| x.1).unwrap_or("")
    } else {
        md.split("Fixed:").next().unwrap_or("")
    };
    let dir = tempfile::tempdir().unwrap();
    let mut last = None;
    let mut rest = part;
    while let Some(start) = rest.find("```gaitpol") {
        let after = &rest[start + "```gaitpol".len()..];
        let (info, body) = after.split_once('\n').unwrap();
        let end = body.find("```").expect("closed fence");
        let name = if info.trim().is_empty() {
            "policy.gaitpol"
        } else {
            info.trim()
        };
        std::fs::write(dir.path().join(name), &body[..end]).unwrap();
        last = Some(dir.path().join(name));
        rest = &body[end + 3..];
    }
    let last = last.expect("an example block");
    (dir, last)
}

#[test]
fn every_explanation_example_triggers_its_code_and_its_fix_is_clean() {
    let mut failures = Vec::new();
    for info in codes::ALL {
        assert!(
            info.explanation.starts_with(&format!("# {}", info.code)),
            "{} explanation title",
            info.code
        );
        let (_dir, file) = materialize(info.explanation, false);
        let (_, diags) = check_file(&file);
        if !diags.iter().any(|d| d.code == info.code) {
            failures.push(format!(
                "{}: example gives {:?}",
                info.code,
                diags.iter().map(|d| &d.code).collect::<Vec<_>>()
            ));
        }
        let (_dir2, fixed) = materialize(info.explanation, true);
        let (_, diags) = check_file(&fixed);
        if !diags.is_empty() {
            failures.push(format!(
                "{}: fixed example gives {:?}",
                info.code,
                diags
                    .iter()
                    .map(|d| (&d.code, &d.message))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_code_has_human_and_json_snapshots() {
    for info in codes::ALL {
        let (dir, file) = materialize(info.explanation, false);
        let (session, diags) = check_file(&file);
        let prefix = format!("{}/", dir.path().display());
        let human = render::text(&diags, &session.sources, false, false).replace(&prefix, "");
        let json = serde_json::to_string_pretty(&render::json(&diags, &session.sources))
            .unwrap()
            .replace(&prefix, "");
        insta::with_settings!({snapshot_path => "snapshots/diagnostics", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("{}_human", info.code), human);
            insta::assert_snapshot!(format!("{}_json", info.code), json);
        });
    }
}
