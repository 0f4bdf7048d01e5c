//! `gait-run`: the minimal runtime of the Gait policy toolchain.
//!
//! This crate holds what both the compiler and the runtime must agree on — the
//! vocabulary of the language — and (as the back-end issues land) the bundle
//! format, intent normalization and table evaluation. It has no parser, no
//! parser generator and no command-line parser in its library.

pub mod vocab;
