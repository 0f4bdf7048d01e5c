//! The `gait-run` command line.

use clap::{Parser, Subcommand};
use gait_run::bundle::{self, VerifyOptions};
use gait_run::keys::PublicKey;
use serde_json::json;
use std::path::PathBuf;

/// Exit codes (runtime.md §1).
mod exit {
    pub const OK: i32 = 0;
    pub const VERIFY: i32 = 2;
    pub const INVALID: i32 = 6;
}

/// The runtime of the Gait policy toolchain: verifies signed policy bundles
/// and decides agents' tool calls with them.
///
/// Exit codes: 0 ok/allow, 1 internal, 2 verification failed, 3 blocked,
/// 4 approval required, 6 invalid input.
#[derive(Parser, Debug)]
#[command(name = "gait-run", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct TrustArgs {
    /// Trusted public key file (repeat for key rotation).
    #[arg(long = "trust", value_name = "PUBFILE")]
    trust: Vec<PathBuf>,
    /// Accept only the bundle with this policy digest (`sha256:...`).
    #[arg(long, value_name = "sha256:HEX")]
    pin: Option<String>,
    /// Reject bundles whose revision is lower (anti-rollback).
    #[arg(long, value_name = "N")]
    min_revision: Option<u32>,
    /// Skip signature checks when no --trust is given (results say
    /// "bundle_verified": false). Never use in production.
    #[arg(long)]
    insecure_skip_verify: bool,
}

use clap::Args;

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a bundle without evaluating anything.
    ///
    /// Checks, in order: structure and format version, payload digest,
    /// signatures against the trusted keys, --pin, not_after, --min-revision,
    /// and the payload's tables. Prints a JSON report; exit 0 or 2 with a
    /// stable code (bundle_malformed, bundle_format_unsupported,
    /// bundle_payload_digest_mismatch, bundle_unsigned, bundle_key_untrusted,
    /// bundle_signature_invalid, bundle_pin_mismatch, bundle_expired,
    /// bundle_revision_rollback).
    ///
    /// Example:
    ///   gait-run verify payments.gaitb --trust release.pub
    Verify {
        /// The bundle file.
        bundle: PathBuf,
        #[command(flatten)]
        trust: TrustArgs,
    },
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::INVALID,
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match cli.command {
        Command::Verify { bundle, trust } => verify(&bundle, &trust),
    };
    std::process::exit(code);
}

fn fail(code: &str, error: &str, exit_code: i32) -> i32 {
    println!("{}", json!({"ok": false, "code": code, "error": error}));
    eprintln!("error: {code}: {error}");
    exit_code
}

fn options(t: &TrustArgs) -> Result<VerifyOptions, String> {
    let mut trust = Vec::new();
    for p in &t.trust {
        trust.push(PublicKey::read(p).map_err(|e| e.to_string())?);
    }
    if trust.is_empty() && !t.insecure_skip_verify {
        return Err("no --trust key given: refusing to accept an unverified bundle (add --trust PUBFILE, or --insecure-skip-verify for tests)".into());
    }
    if let Some(pin) = &t.pin {
        let hex = pin.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "--pin must be sha256: followed by 64 hex digits, got `{pin}`"
            ));
        }
    }
    Ok(VerifyOptions {
        trust,
        pin: t.pin.clone(),
        min_revision: t.min_revision,
        now: gait_run::time::now().0,
        insecure_skip_verify: t.insecure_skip_verify,
    })
}

fn verify(path: &PathBuf, t: &TrustArgs) -> i32 {
    let opts = match options(t) {
        Ok(o) => o,
        Err(e) => return fail("invalid_input", &e, exit::INVALID),
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return fail(
                "bundle_malformed",
                &format!("cannot read {}: {e}", path.display()),
                exit::VERIFY,
            )
        }
    };
    match bundle::verify(&bytes, &opts) {
        Ok(v) => {
            println!(
                "{}",
                json!({
                    "ok": true,
                    "policy": {"name": v.info.name, "version": v.info.version, "revision": v.info.revision},
                    "policy_digest": v.policy_digest,
                    "rules": v.info.rules,
                    "not_after": v.info.not_after,
                    "signed_by": v.signed_by,
                    "bundle_verified": v.signature_verified,
                })
            );
            exit::OK
        }
        Err(rej) => fail(rej.code.as_str(), &rej.message, exit::VERIFY),
    }
}
