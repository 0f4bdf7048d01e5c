#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! `import std.mcp.filesystem`: a stdlib module whose name has two dots loads,
//! its mappings reach the importing policy, and the mcp-proxy test policy's
//! inline tests pass.

use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

#[test]
fn mcp_filesystem_module_is_in_the_stdlib() {
    let (file, src) = gaitc::stdlib::module("std.mcp.filesystem").unwrap();
    assert_eq!(file, "mcp/filesystem.gaitpol");
    assert!(src.contains("map tool \"move_file\""));
}

#[test]
fn the_mcp_test_policy_imports_it_and_its_tests_pass() {
    let out = Command::new(env!("CARGO_BIN_EXE_gaitc"))
        .arg("test")
        .arg(repo().join("tests/mcp/policy.gaitpol"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.lines().any(|l| l == "9 passed, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn without_the_import_the_tools_have_no_targets() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.gaitpol");
    std::fs::write(
        &policy,
        r#"policy "p" version "1.0.0"
default block
rule ws priority 20 {
  when all endpoint in [fs.read] and all path in ["/ws/**"]
  then allow
  reason "ws"
}
test "mapped only with the import" {
  intent { tool "read_text_file" args { "path": "/ws/a" } }
  expect block reason "default_block"
}
"#,
    )
    .unwrap();
    let run = |p: &Path| {
        Command::new(env!("CARGO_BIN_EXE_gaitc"))
            .arg("test")
            .arg(p)
            .output()
            .unwrap()
    };
    assert_eq!(run(&policy).status.code(), Some(0));
    let with = std::fs::read_to_string(&policy)
        .unwrap()
        .replace(
            "default block\n",
            "default block\nimport std.mcp.filesystem\n",
        )
        .replace(
            "expect block reason \"default_block\"",
            "expect allow reason \"ws\"",
        );
    std::fs::write(&policy, with).unwrap();
    let out = run(&policy);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
