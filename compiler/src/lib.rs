//! `gaitc`: the compiler of the `.gaitpol` policy language.
//!
//! Phases: [`syntax`] (lex, parse) → [`resolve`] (files, imports) →
//! [`check`] (names, types, literals, lints) → [`lower`] → [`bundle`]. Every
//! phase returns data and [`diag::Diagnostic`]s; nothing prints but the
//! command-line front end (`cli`, `lsp` and the binary: the `cli` feature).

// A clone whose original is never used again. Meant for the workspace's lint
// table (Cargo.toml), once the runtime passes it too.

pub mod bundle;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod diag;
pub mod eval;
pub mod fmt;
pub mod lower;
#[cfg(feature = "cli")]
pub mod lsp;
pub mod plumbing;
pub mod resolve;
pub mod skill;
pub mod source;
pub mod span;
pub mod stdlib;
pub mod suggest;
pub mod syntax;
pub mod testing;
