//! Command-line pieces shared by the subcommands that load a bundle
//! (`verify`, `eval`, `bench`, `serve`, `mcp-proxy`): the trust flags, the
//! verification options they make, and reading + verifying a bundle file.

use clap::Args;
use gait_run::bundle::{self, Rejection, Verified, VerifyOptions};
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone)]
pub struct TrustArgs {
    /// Trusted public key file (repeat for key rotation).
    #[arg(long = "trust", value_name = "PUBFILE")]
    pub trust: Vec<PathBuf>,
    /// Accept only the bundle with this policy digest (`sha256:...`).
    #[arg(long, value_name = "sha256:HEX")]
    pub pin: Option<String>,
    /// Reject bundles whose revision is lower (anti-rollback).
    #[arg(long, value_name = "N")]
    pub min_revision: Option<u32>,
    /// Skip signature checks when no --trust is given (results say
    /// "bundle_verified": false). Never use in production.
    #[arg(long)]
    pub insecure_skip_verify: bool,
}

/// The per-decision deadline flag (`eval`, `serve`, `mcp-proxy`).
#[derive(Args, Debug, Clone)]
pub struct DeadlineArgs {
    /// Abandon a decision that runs longer than this many milliseconds: it
    /// answers block with reason `decision_timeout` (exit 1). Default 50;
    /// at least 1 (a decision without a deadline is not offered).
    #[arg(long = "decision-timeout-ms", value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub decision_timeout_ms: Option<u64>,
}

impl DeadlineArgs {
    pub fn limit(&self) -> Option<std::time::Duration> {
        self.decision_timeout_ms
            .map(std::time::Duration::from_millis)
    }
}

/// The verification options the trust flags ask for (keys read, pin checked
/// for form); an error is a usage error (exit 6).
pub fn options(t: &TrustArgs) -> Result<VerifyOptions, String> {
    bundle::verify_options(
        &t.trust,
        t.pin.as_deref(),
        t.min_revision,
        t.insecure_skip_verify,
    )
}

/// Reads a bundle file and verifies it completely; an unreadable file is
/// `bundle_malformed`.
pub fn read_verified(path: &Path, opts: &VerifyOptions) -> Result<Verified, Rejection> {
    bundle::read_verified(path, opts)
}
