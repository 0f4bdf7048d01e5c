//! The Gait side of the comparison, through the public APIs only: `gaitc`
//! compiles a `.gaitpol` source to a signed bundle, `gait_run` verifies and
//! loads it and decides.

use crate::Result;
use gait_run::bundle::{self, Verified, VerifyOptions};
use gait_run::gate::{self, EvalOptions};
use gait_run::intent::Intent;
use gait_run::keys::KeyPair;
use gait_run::tables::Scratch;
use gait_run::vocab::Verdict;
use std::path::Path;

/// The signing key of every bench bundle (fixed, so bundles are reproducible).
pub fn key() -> KeyPair {
    KeyPair::from_seed(&[1; 32])
}

/// Verification options trusting [`key`].
pub fn verify_options() -> VerifyOptions {
    VerifyOptions {
        trust: vec![key().public().clone()],
        now: 0,
        ..VerifyOptions::default()
    }
}

/// `gaitc` check + lower + build: source text to signed bundle bytes.
pub fn compile(source: &str, key: &KeyPair) -> Result<Vec<u8>> {
    let mut s = gaitc::check::Session::new();
    let id = s.load_source("bench.gaitpol", source, Path::new("."));
    let Some(policy) = s.check(id).policy else {
        return Err(format!(
            "the generated policy does not check: {:?}",
            s.diagnostics().first()
        ));
    };
    gaitc::bundle::build(&s, id, &policy, &[key], None)
        .map(|(bytes, _digest)| bytes)
        .map_err(|e| format!("bundle build: {e}"))
}

/// `gait_run` bundle parse + signature check + table load.
pub fn load(bytes: &[u8], opts: &VerifyOptions) -> Result<Verified> {
    bundle::verify(bytes, opts).map_err(|e| format!("bundle rejected: {e:?}"))
}

/// A loaded bundle and the scratch space of its decisions.
pub struct Gait {
    pub bundle: Verified,
    scratch: Scratch,
    opts: EvalOptions<'static>,
    out: Vec<u8>,
}

impl Gait {
    pub fn new(bundle: Verified) -> Gait {
        Gait {
            bundle,
            scratch: Scratch::default(),
            opts: EvalOptions::default(),
            out: Vec::with_capacity(1024),
        }
    }

    /// Compiles and loads `source` with [`key`].
    pub fn from_source(source: &str) -> Result<Gait> {
        let bytes = compile(source, &key())?;
        Ok(Gait::new(load(&bytes, &verify_options())?))
    }

    /// Parses and normalizes intent JSON text with this bundle's tool
    /// mappings: the prepared input of [`Gait::decide`].
    pub fn prepare(&self, intent_json: &str) -> Result<Intent<'static>> {
        let arena = gait_run::json::Bump::new();
        let raw = gait_run::normalize::parse_json(intent_json.as_bytes(), &arena)
            .map_err(|e| format!("intent: {e:?}"))?;
        gait_run::normalize::normalize_json(&raw, Some(&self.bundle.tables))
            .map(|n| n.intent.into_owned())
            .map_err(|e| format!("intent: {e:?}"))
    }

    /// The decision on a normalized intent: allowed or not.
    pub fn decide(&mut self, intent: &Intent) -> bool {
        self.bundle.tables.decide(intent, &mut self.scratch).verdict == Verdict::Allow
    }

    /// The whole in-process path, intent JSON text to result bytes
    /// (`gait_run::gate::evaluate`, the one gate entry): allowed or not.
    pub fn decide_json(&mut self, intent_json: &str) -> bool {
        self.out.clear();
        gate::evaluate(
            &self.bundle,
            intent_json.as_bytes(),
            &self.opts,
            &mut self.scratch,
            &mut self.out,
        )
        .allowed()
    }
}
