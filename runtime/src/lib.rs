//! `gait-run`: the minimal runtime of the Gait policy toolchain.
//!
//! It holds what the compiler and the runtime must agree on — the vocabulary,
//! the bundle format and the decision tables — and evaluates intents with the
//! tables of a verified bundle. The library has no parser, no parser
//! generator and no command-line parser (`clap` is only in the `cli`
//! feature's binary).

pub mod approval;
pub mod bench;
pub mod bundle;
pub mod canonical;
pub mod command;
pub mod deadline;
pub mod decision;
pub mod envelope;
pub mod exit;
pub mod files;
pub mod gate;
pub mod intent;
pub mod jcs;
pub mod json;
pub mod keys;
pub mod normalize;
pub mod tables;
pub mod time;
pub mod vocab;

use sha2::{Digest, Sha256};

/// SHA-256 of bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

/// Appends lowercase hex.
pub fn push_hex(s: &mut String, bytes: &[u8]) {
    for &b in bytes {
        s.extend(hex_pair(b).map(char::from));
    }
}

/// The two lowercase hex digits of a byte.
pub fn hex_pair(b: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]
}
