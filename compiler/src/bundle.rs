//! Building a signed bundle from a checked policy.

use crate::check::{model::Policy, ModuleId, Session};
use gait_run::bundle;
use gait_run::keys::KeyPair;

/// Compiles, lowers and signs. Returns the bundle bytes and the policy digest.
pub fn build(
    session: &Session,
    module: ModuleId,
    policy: &Policy,
    keys: &[&KeyPair],
    not_after: Option<&str>,
) -> Result<(Vec<u8>, String), String> {
    let tables = crate::lower::lower(policy).map_err(|e| e.to_string())?;
    let payload = tables.encode();
    let not_after = match not_after {
        None => None,
        Some(text) => {
            let secs = gait_run::time::parse_rfc3339(text)?;
            Some(gait_run::time::format_rfc3339(secs))
        }
    };
    let sources = session.source_digests(module);
    let spec = bundle::ManifestSpec {
        name: &policy.name,
        version: &policy.version,
        revision: policy.revision,
        compiler_version: env!("CARGO_PKG_VERSION"),
        sources: &sources,
        rules: policy.rules.len(),
        not_after: not_after.as_deref(),
    };
    let manifest = bundle::manifest(&spec, &payload);
    let bytes = bundle::assemble(&manifest, &payload, keys);
    let digest = format!(
        "sha256:{}",
        gait_run::hex(&gait_run::sha256(
            gait_run::jcs::to_string(&manifest).as_bytes()
        ))
    );
    Ok((bytes, digest))
}
