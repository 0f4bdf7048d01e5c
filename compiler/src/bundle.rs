//! Emission: a checked policy and the digests of its sources become a signed
//! bundle. Nothing here sees the checker or its session.

use crate::check::model::Policy;
use crate::resolve::{Graph, ModuleId};
use gait_run::bundle;
use gait_run::keys::KeyPair;

/// Lowers, encodes and signs `policy`. `sources` are the `(path, sha256 hex)`
/// of every source it was built from (the manifest lists them; see
/// [`Graph::source_digests`]). Returns the bundle bytes and the policy digest.
pub fn emit(
    policy: &Policy,
    sources: &[(String, String)],
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
    let spec = bundle::ManifestSpec {
        name: &policy.name,
        version: &policy.version,
        revision: policy.revision,
        compiler_version: env!("CARGO_PKG_VERSION"),
        sources,
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

/// [`emit`] with the sources of `module` in `graph` (a
/// [`crate::check::Session`] reads as its graph: `build(&session, id, ...)`).
pub fn build(
    graph: &Graph,
    module: ModuleId,
    policy: &Policy,
    keys: &[&KeyPair],
    not_after: Option<&str>,
) -> Result<(Vec<u8>, String), String> {
    emit(policy, &graph.source_digests(module), keys, not_after)
}
