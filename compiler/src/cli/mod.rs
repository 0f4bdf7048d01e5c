//! The `gaitc` commands, as functions from arguments to an exit code, writing
//! to the given output. `main.rs` only parses the command line.

mod bundles;
mod paths;
mod policy_tests;
mod skills;
mod sources;

pub use bundles::{build, inspect, keygen};
pub use paths::collect_files;
pub use policy_tests::{junit_xml, test, test_add, TestArgs};
pub use skills::{skill_sign, skill_verify, SkillSignArgs, SkillVerifyArgs};
pub use sources::{check, explain, fmt};

use crate::plumbing::{exit, fail};
use std::io::Write;

/// `gaitc lsp`: the language server on standard input/output. Exit 0 after
/// `shutdown` + `exit`, 1 when the client exits without `shutdown` or the
/// connection fails.
pub fn lsp(err: &mut dyn Write) -> i32 {
    match crate::lsp::run_stdio() {
        Ok(true) => exit::OK,
        Ok(false) => exit::INTERNAL,
        Err(e) => fail(err, e, exit::INTERNAL),
    }
}
