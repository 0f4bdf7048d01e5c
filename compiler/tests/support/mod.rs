//! What the integration tests share: where the repository and its corpora
//! are, test keys, scratch directories with files in them, and running the
//! `gaitc` binary.
#![allow(dead_code, reason = "each test uses some of the helpers")]

use gait_run::keys::KeyPair;
use std::path::{Path, PathBuf};
#[cfg(feature = "cli")]
use std::process::{Command, Output};

/// The repository's root (the compiler's parent directory).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The validator of a JSON Schema in `schemas/v1/`.
pub fn schema(name: &str) -> jsonschema::Validator {
    let path = repo().join("schemas/v1").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).expect("a schema is JSON");
    jsonschema::validator_for(&v).expect("a valid schema")
}

/// The conformance corpus: the directories `tests/conformance/*/`, sorted.
pub fn conformance_dirs() -> Vec<PathBuf> {
    let root = repo().join("tests/conformance");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// A signing key from a fixed seed: the same key on every run, never a real one.
pub fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed(&[seed; 32])
}

/// Fails, listing them, when there are `failures` among `total` checks.
pub fn assert_no_failures(failures: &[String], total: usize) {
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A scratch directory holding `files`: `(relative path, text)`.
pub fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write a scratch file");
    }
    dir
}

/// Runs the `gaitc` binary with `args` in `dir`, without colour.
#[cfg(feature = "cli")]
pub fn gaitc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gaitc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("gaitc runs")
}

/// The exit code of [`gaitc`] (`None` when a signal ended it).
#[cfg(feature = "cli")]
pub fn exit_code(args: &[&str], dir: &Path) -> Option<i32> {
    gaitc(args, dir).status.code()
}

/// [`gaitc`], which must succeed (its stderr says why when it does not).
#[cfg(feature = "cli")]
pub fn gaitc_ok(args: &[&str], dir: &Path) -> Output {
    let out = gaitc(args, dir);
    assert!(
        out.status.success(),
        "gaitc {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
