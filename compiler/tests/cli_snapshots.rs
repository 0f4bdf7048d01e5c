#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The command line as a user sees it: the exit code, standard output and
//! standard error of `gaitc check` (human, plain, json, sarif), `gaitc test`,
//! `gaitc build` + `gaitc inspect`, and `--help` of every command, as insta
//! snapshots (`tests/snapshots/cli/`). A change to any byte a user reads shows
//! up here.

use std::path::Path;
use std::process::Command;

/// A module the policies import.
const SHARED: &str = r#"# Shared sets and tool mappings.
let workspace: paths = ["/workspace/**"]
let api_hosts: domains = ["api.github.com", "*.stripe.com"]

map tool "read_file" { path args.path as fs.read }
map tool "web_fetch" { url args.url as net.http }
"#;

/// A clean policy with imports (stdlib and a file) and passing tests.
const AGENT: &str = r#"policy "agent" version "1.0.0" revision 2

default block

import std.secrets
import "shared.gaitpol" as shared

rule secrets_never priority 10 {
  when any path in secrets.credentials
  then block
  reason "secret_path_access"
}

rule workspace_reads priority 20 {
  when all endpoint in [fs.read] and all path in shared.workspace
  then allow
  reason "workspace_io"
}

rule egress priority 30 {
  when all domain in shared.api_hosts
  then allow
}

test "an ssh key is blocked" {
  intent {
    tool "read_file"
    args { "path": "/home/dev/.ssh/id_ed25519" }
  }
  expect block reason "secret_path_access" rule secrets_never
}

test "a workspace file is read" {
  intent {
    tool "read_file"
    args { "path": "/workspace/README.md" }
  }
  expect allow rule workspace_reads
}
"#;

/// A policy to build: trust, a pin, approvers, an approval set and the
/// approval TTL reach the bundle's tables.
const RELEASE: &str = r#"policy "release" version "2.1.0" revision 3

default block

import "shared.gaitpol" as shared

# RFC 8032 test-vector key.
trust publisher "acme" key "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

pin skill "web-search" version "1.2.0" digest "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

approval_ttl 1h

# Example-only approver keys (examples/approvals/).
trust approver "alice" key "ed25519:39lyMPTOAWJma2U5s5lqL3KiMQiU8tPo7S6rYnqM2Wk="
trust approver "bob" key "ed25519:gpYBo2M7hMAOfGBKIwLYJE59+xCjTl+x3R5S070OAdE="

rule unverified_skill priority 5 {
  when skill and not skill.verified
  then require_approval
  approvals 2 from ["alice", "bob"] interactive
}

rule workspace_reads priority 10 {
  when all endpoint in [fs.read] and all path in shared.workspace
  then allow
  reason "workspace_io"
}

rule egress priority 20 {
  when all domain in shared.api_hosts
  then allow
}
"#;

/// Tests that fail, and a rule no test reaches.
const FAILING: &str = r#"policy "failing" version "1.0.0"

default block

import "shared.gaitpol" as shared

rule workspace_reads {
  when all path in shared.workspace
  then allow
}

rule never_tested {
  when destructive
  then require_approval
}

test "expects the wrong verdict" {
  intent {
    tool "read_file"
    args { "path": "/workspace/a.txt" }
  }
  expect block
}

test "expects the right verdict" {
  intent {
    tool "read_file"
    args { "path": "/etc/passwd" }
  }
  expect block reason "default_block"
}
"#;

/// Warnings only: an unused set, `any` in an allow rule, a duplicate value,
/// a confusable domain.
const WARNS: &str = r#"policy "warns" version "1.0.0"

default block

let unused: paths = ["/srv/**"]

rule reads {
  when any path in ["/workspace/**", "/workspace/**"]
  then allow
}

rule hosts {
  when any domain in ["аpple.com"]
  then block
}
"#;

/// Errors of several phases: syntax, names (with a suggestion), types (with
/// a fix-it), literals, and an import of a policy (a label in another file).
const BROKEN: &str = r#"policy "broken" version "1.0"

default block

import "agent.gaitpol" as agent

let workspace: paths = ["/workspace/**", "relative/dir"]

rule typo {
  when path in workspac
  then allow
}

rule no_verdict {
  when destructive
  then
}

rule wrong_class {
  when any endpoint in [fs.raed]
  then block
}
"#;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A directory holding the policies above.
fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("shared.gaitpol", SHARED),
        ("agent.gaitpol", AGENT),
        ("failing.gaitpol", FAILING),
        ("release.gaitpol", RELEASE),
        ("warns.gaitpol", WARNS),
        ("broken.gaitpol", BROKEN),
    ] {
        write(dir.path(), name, text);
    }
    dir
}

/// Runs `gaitc ARGS` in `dir`; the transcript a user would see, with the
/// temporary directory (imported files are named by their full path) as `<dir>`.
fn gaitc(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gaitc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("gaitc runs");
    let transcript = format!(
        "$ gaitc {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status
            .code()
            .map_or_else(|| "signal".to_owned(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let canonical = std::fs::canonicalize(dir).unwrap();
    transcript
        .replace(&canonical.display().to_string(), "<dir>")
        .replace(&dir.display().to_string(), "<dir>")
}

fn snapshot(name: &str, transcript: &str) {
    insta::with_settings!({snapshot_path => "snapshots/cli", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, transcript);
    });
}

#[test]
fn check_in_every_format() {
    let dir = fixtures();
    // SARIF carries every code's explanation: one file of it is enough.
    let runs: &[(&str, &[&str])] = &[
        ("agent", &["human"]),
        ("warns", &["human", "json"]),
        ("broken", &["human", "plain", "json", "sarif"]),
    ];
    for (file, formats) in runs {
        for format in *formats {
            let path = format!("{file}.gaitpol");
            let out = gaitc(dir.path(), &["check", &path, "--format", format]);
            snapshot(&format!("check_{file}_{format}"), &out);
        }
    }
    snapshot(
        "check_directory",
        &gaitc(dir.path(), &["check", ".", "--deny-warnings"]),
    );
    snapshot(
        "check_usage_error",
        &gaitc(dir.path(), &["check", "--format", "yaml"]),
    );
}

#[test]
fn test_with_coverage() {
    let dir = fixtures();
    snapshot(
        "test_passing",
        &gaitc(dir.path(), &["test", "agent.gaitpol", "--coverage"]),
    );
    snapshot(
        "test_failing",
        &gaitc(
            dir.path(),
            &["test", "failing.gaitpol", "--min-coverage", "100"],
        ),
    );
    snapshot(
        "test_source_errors",
        &gaitc(dir.path(), &["test", "broken.gaitpol"]),
    );
}

#[test]
fn build_then_inspect() {
    let dir = fixtures();
    let key = gait_run::keys::KeyPair::from_seed(&[7; 32]);
    write(dir.path(), "release.key", &key.to_file_text());
    let build = gaitc(
        dir.path(),
        &[
            "build",
            "release.gaitpol",
            "-o",
            "release.gaitb",
            "--key",
            "release.key",
            "--not-after",
            "2030-01-01T00:00:00Z",
        ],
    );
    snapshot("build", &build);
    snapshot(
        "build_refused",
        &gaitc(
            dir.path(),
            &[
                "build",
                "broken.gaitpol",
                "-o",
                "x.gaitb",
                "--key",
                "release.key",
            ],
        ),
    );
    snapshot("inspect", &gaitc(dir.path(), &["inspect", "release.gaitb"]));
    snapshot(
        "inspect_json",
        &gaitc(dir.path(), &["inspect", "release.gaitb", "--json"]),
    );
}

#[test]
fn help_of_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &[],
        &["check"],
        &["fmt"],
        &["keygen"],
        &["build"],
        &["inspect"],
        &["test"],
        &["test", "add"],
        &["skill"],
        &["skill", "sign"],
        &["skill", "verify"],
        &["explain"],
        &["lsp"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let name = if command.is_empty() {
            "help".to_owned()
        } else {
            format!("help_{}", command.join("_"))
        };
        snapshot(&name, &gaitc(dir.path(), &args));
    }
}
