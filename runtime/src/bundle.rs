//! The signed, digest-pinned bundle (runtime.md §6).
//!
//! Layout: magic `GAITB\0`, format version (u16 LE, 1), manifest length
//! (u32 LE), manifest (RFC 8785 canonical JSON), signature block length (u32
//! LE), signature block (canonical JSON list of `{alg, key_id, sig}`), payload.
//! The policy digest is `sha256:` + hex SHA-256 of the manifest bytes; each
//! signature is Ed25519 over the raw 32 bytes of that digest. The manifest
//! pins the payload by size and SHA-256.
//!
//! Every check happens before any evaluation; a bundle that fails one is
//! rejected with a stable code and never evaluated.

use crate::jcs;
use crate::keys::{b64_decode, b64_encode, KeyPair, PublicKey};
use crate::tables::{TableData, Tables, FORMAT};
use serde_json::{json, Value};

pub const MAGIC: &[u8; 6] = b"GAITB\0";
pub const FORMAT_VERSION: u16 = 1;
pub const SCHEMA_ID: &str = "gait.policy.bundle";
pub const SCHEMA_VERSION: &str = "1.0.0";
/// Largest bundle accepted (bounds memory on hostile input).
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024 * 1024;

/// Why a bundle was rejected. The codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectCode {
    Malformed,
    FormatUnsupported,
    PayloadDigestMismatch,
    Unsigned,
    KeyUntrusted,
    SignatureInvalid,
    PinMismatch,
    Expired,
    RevisionRollback,
}

impl RejectCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::Malformed => "bundle_malformed",
            RejectCode::FormatUnsupported => "bundle_format_unsupported",
            RejectCode::PayloadDigestMismatch => "bundle_payload_digest_mismatch",
            RejectCode::Unsigned => "bundle_unsigned",
            RejectCode::KeyUntrusted => "bundle_key_untrusted",
            RejectCode::SignatureInvalid => "bundle_signature_invalid",
            RejectCode::PinMismatch => "bundle_pin_mismatch",
            RejectCode::Expired => "bundle_expired",
            RejectCode::RevisionRollback => "bundle_revision_rollback",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: RejectCode,
    pub message: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

fn reject(code: RejectCode, message: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message: message.into(),
    }
}

fn malformed(message: impl Into<String>) -> Rejection {
    reject(RejectCode::Malformed, message)
}

/// One entry of the signature block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureEntry {
    pub alg: String,
    pub key_id: String,
    pub sig: String,
}

/// The facts of a manifest the runtime uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestInfo {
    pub name: String,
    pub version: String,
    pub revision: u32,
    pub rules: u64,
    pub payload_size: u64,
    pub payload_sha256: String,
    pub not_after: Option<String>,
    /// `not_after` in Unix seconds (parsed once, at load).
    pub not_after_secs: Option<i64>,
}

impl ManifestInfo {
    /// [`ManifestInfo::expired_at`] the current time. The clock is read
    /// only for a bundle that has a `not_after`.
    pub fn expired_now(&self) -> Option<Rejection> {
        self.not_after_secs?;
        self.expired_at(crate::time::now().0)
    }

    /// The rejection of a bundle past its `not_after` at `now` (Unix
    /// seconds): checked at load ([`verify`]), and by the gate before every
    /// decision ([`ManifestInfo::expired_now`]), so a bundle held by a
    /// long-running sidecar, proxy or binding never keeps deciding past it.
    pub fn expired_at(&self, now: i64) -> Option<Rejection> {
        let limit = self.not_after_secs?;
        (now > limit).then(|| Rejection {
            code: RejectCode::Expired,
            message: format!(
                "the bundle expired at {}",
                self.not_after.as_deref().unwrap_or("?")
            ),
        })
    }
}

/// A bundle split into its parts, structure checked, payload digest checked,
/// signatures not yet checked.
#[derive(Debug, Clone)]
pub struct Unverified<'a> {
    pub manifest_bytes: &'a [u8],
    pub manifest: Value,
    pub info: ManifestInfo,
    pub signatures: Vec<SignatureEntry>,
    pub payload: &'a [u8],
    /// `sha256:` + hex of the manifest bytes.
    pub policy_digest: String,
    digest_bytes: [u8; 32],
}

/// Options for [`verify`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Trusted public keys (several for rotation).
    pub trust: Vec<PublicKey>,
    /// Expected policy digest (`sha256:…`).
    pub pin: Option<String>,
    /// Lowest acceptable revision (anti-rollback).
    pub min_revision: Option<u32>,
    /// Current time (Unix seconds) for `not_after`.
    pub now: i64,
    /// Skip signature checks (`--insecure-skip-verify`): the result says so.
    pub insecure_skip_verify: bool,
}

/// A verified, loaded bundle.
#[derive(Debug)]
pub struct Verified {
    /// Private, with the digest: the result's `policy` object is written
    /// from them once, at verification ([`Verified::policy_json`]).
    info: ManifestInfo,
    policy_digest: String,
    /// Key ids of the trusted keys whose signatures verified.
    pub signed_by: Vec<String>,
    /// False only with `insecure_skip_verify`.
    pub signature_verified: bool,
    pub tables: Tables,
    /// The result's `policy` object (name, version, revision, digest),
    /// written once at verification: every result shows it.
    policy_json: Vec<u8>,
}

impl Verified {
    /// The manifest's policy name, version, revision and validity.
    pub fn info(&self) -> &ManifestInfo {
        &self.info
    }

    /// `sha256:` + hex SHA-256 of the manifest bytes.
    pub fn policy_digest(&self) -> &str {
        &self.policy_digest
    }

    /// The JSON text of the result's `policy` object:
    /// `{"name":…,"version":…,"revision":…,"digest":…}`.
    pub fn policy_json(&self) -> &[u8] {
        &self.policy_json
    }
}

fn policy_json(info: &ManifestInfo, policy_digest: &str) -> Vec<u8> {
    use crate::json::{write_str, write_u64};
    let mut out =
        Vec::with_capacity(64 + info.name.len() + info.version.len() + policy_digest.len());
    out.extend_from_slice(br#"{"name":"#);
    write_str(&mut out, &info.name);
    out.extend_from_slice(br#","version":"#);
    write_str(&mut out, &info.version);
    out.extend_from_slice(br#","revision":"#);
    write_u64(&mut out, u64::from(info.revision));
    out.extend_from_slice(br#","digest":"#);
    write_str(&mut out, policy_digest);
    out.push(b'}');
    out
}

/// Writes a bundle: canonical manifest, signatures by every key (sorted by
/// key id), payload. Deterministic.
pub fn assemble(manifest: &Value, payload: &[u8], keys: &[&KeyPair]) -> Vec<u8> {
    let manifest_bytes = jcs::to_string(manifest).into_bytes();
    let digest = crate::sha256(&manifest_bytes);
    let mut sigs: Vec<Value> = keys
        .iter()
        .map(|k| json!({"alg": "ed25519", "key_id": k.public().id(), "sig": b64_encode(&k.sign(&digest))}))
        .collect();
    sigs.sort_by(|a, b| a["key_id"].as_str().cmp(&b["key_id"].as_str()));
    sigs.dedup();
    let sig_bytes = jcs::to_string(&Value::Array(sigs)).into_bytes();
    let mut out = Vec::with_capacity(16 + manifest_bytes.len() + sig_bytes.len() + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(manifest_bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&manifest_bytes);
    out.extend_from_slice(&(sig_bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&sig_bytes);
    out.extend_from_slice(payload);
    out
}

/// What a manifest says about a payload.
#[derive(Debug, Clone)]
pub struct ManifestSpec<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub revision: u32,
    pub compiler_version: &'a str,
    /// `(path relative to the main file, sha256 hex)`, sorted.
    pub sources: &'a [(String, String)],
    pub rules: usize,
    /// RFC 3339, UTC.
    pub not_after: Option<&'a str>,
}

/// The manifest of a payload.
pub fn manifest(spec: &ManifestSpec<'_>, payload: &[u8]) -> Value {
    let mut m = json!({
        "schema_id": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "policy": {"name": spec.name, "version": spec.version, "revision": spec.revision},
        "compiler": {"name": "gaitc", "version": spec.compiler_version},
        "sources": spec.sources.iter().map(|(p, h)| json!({"path": p, "sha256": h})).collect::<Vec<_>>(),
        "payload": {"format": FORMAT, "size": payload.len(), "sha256": crate::hex(&crate::sha256(payload))},
        "rules": spec.rules,
    });
    if let (Some(na), Some(obj)) = (spec.not_after, m.as_object_mut()) {
        obj.insert("not_after".into(), json!(na));
    }
    m
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Splits and checks a bundle's structure and payload digest.
pub fn parse(bytes: &[u8]) -> Result<Unverified<'_>, Rejection> {
    let parsed = split(bytes)?;
    parsed.check_payload()?;
    Ok(parsed)
}

/// Splits and checks a bundle's structure ([`parse`] without the payload
/// digest).
fn split(bytes: &[u8]) -> Result<Unverified<'_>, Rejection> {
    if bytes.is_empty() {
        return Err(malformed("the bundle is empty"));
    }
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(malformed(format!(
            "the bundle is larger than {} MiB",
            MAX_BUNDLE_BYTES >> 20
        )));
    }
    if bytes.len() < 8 || &bytes[..6] != MAGIC {
        return Err(malformed("not a gait bundle (bad magic)"));
    }
    let version = u16::from_le_bytes([bytes[6], bytes[7]]);
    if version != FORMAT_VERSION {
        return Err(reject(
            RejectCode::FormatUnsupported,
            format!("bundle format version {version} (this runtime reads {FORMAT_VERSION})"),
        ));
    }
    let mlen = read_u32(bytes, 8)
        .ok_or_else(|| malformed("truncated before the manifest length"))? as usize;
    let manifest_bytes = bytes
        .get(12..12 + mlen)
        .ok_or_else(|| malformed("truncated manifest"))?;
    let slen_at = 12 + mlen;
    let slen = read_u32(bytes, slen_at)
        .ok_or_else(|| malformed("truncated before the signature block"))? as usize;
    let sig_bytes = bytes
        .get(slen_at + 4..slen_at + 4 + slen)
        .ok_or_else(|| malformed("truncated signature block"))?;
    let payload = &bytes[slen_at + 4 + slen..];

    let manifest: Value = serde_json::from_slice(manifest_bytes)
        .map_err(|e| malformed(format!("manifest is not JSON: {e}")))?;
    if jcs::to_string(&manifest).as_bytes() != manifest_bytes {
        return Err(malformed("manifest is not in canonical form"));
    }
    let info = manifest_info(&manifest)?;
    let sig_json: Value = serde_json::from_slice(sig_bytes)
        .map_err(|e| malformed(format!("signature block is not JSON: {e}")))?;
    if jcs::to_string(&sig_json).as_bytes() != sig_bytes {
        return Err(malformed("signature block is not in canonical form"));
    }
    let signatures = sig_json
        .as_array()
        .ok_or_else(|| malformed("signature block is not a list"))?
        .iter()
        .map(|s| {
            let field = |k: &str| {
                s.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| malformed(format!("signature entry without `{k}`")))
            };
            Ok(SignatureEntry {
                alg: field("alg")?,
                key_id: field("key_id")?,
                sig: field("sig")?,
            })
        })
        .collect::<Result<Vec<_>, Rejection>>()?;
    let digest_bytes = crate::sha256(manifest_bytes);
    Ok(Unverified {
        manifest_bytes,
        policy_digest: format!("sha256:{}", crate::hex(&digest_bytes)),
        manifest,
        info,
        signatures,
        payload,
        digest_bytes,
    })
}

fn manifest_info(m: &Value) -> Result<ManifestInfo, Rejection> {
    let s = |v: &Value| v.as_str().map(str::to_owned);
    if m.get("schema_id").and_then(Value::as_str) != Some(SCHEMA_ID) {
        return Err(malformed("manifest schema_id is not gait.policy.bundle"));
    }
    let policy = m
        .get("policy")
        .ok_or_else(|| malformed("manifest has no policy"))?;
    let payload = m
        .get("payload")
        .ok_or_else(|| malformed("manifest has no payload"))?;
    if payload.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(reject(
            RejectCode::FormatUnsupported,
            format!("payload format is not {FORMAT}"),
        ));
    }
    let sha = payload
        .get("sha256")
        .and_then(s)
        .filter(|h| h.len() == 64 && h.bytes().all(|c| c.is_ascii_hexdigit()));
    let (not_after, not_after_secs) = match m.get("not_after") {
        None => (None, None),
        Some(v) => {
            let text = s(v).ok_or_else(|| malformed("not_after is not a string"))?;
            let secs = crate::time::parse_rfc3339(&text).map_err(malformed)?;
            (Some(text), Some(secs))
        }
    };
    Ok(ManifestInfo {
        name: policy
            .get("name")
            .and_then(s)
            .ok_or_else(|| malformed("manifest policy has no name"))?,
        version: policy
            .get("version")
            .and_then(s)
            .ok_or_else(|| malformed("manifest policy has no version"))?,
        revision: policy
            .get("revision")
            .and_then(Value::as_u64)
            .and_then(|r| u32::try_from(r).ok())
            .ok_or_else(|| malformed("manifest policy has no revision"))?,
        rules: m
            .get("rules")
            .and_then(Value::as_u64)
            .ok_or_else(|| malformed("manifest has no rule count"))?,
        payload_size: payload
            .get("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| malformed("manifest payload has no size"))?,
        payload_sha256: sha.ok_or_else(|| malformed("manifest payload has no sha256"))?,
        not_after,
        not_after_secs,
    })
}

impl Unverified<'_> {
    /// Checks the payload against the size and SHA-256 the manifest gives.
    fn check_payload(&self) -> Result<(), Rejection> {
        if self.payload.len() as u64 != self.info.payload_size
            || crate::hex(&crate::sha256(self.payload)) != self.info.payload_sha256
        {
            return Err(reject(
                RejectCode::PayloadDigestMismatch,
                "the payload does not match the digest in the manifest",
            ));
        }
        Ok(())
    }

    /// Checks signatures against the trusted keys. Returns the key ids that
    /// verified.
    pub fn check_signatures(&self, trust: &[PublicKey]) -> Result<Vec<String>, Rejection> {
        if self.signatures.is_empty() {
            return Err(reject(RejectCode::Unsigned, "the bundle has no signature"));
        }
        let mut verified = Vec::new();
        let mut trusted_but_bad = false;
        for entry in &self.signatures {
            let Some(key) = trust.iter().find(|k| k.id() == entry.key_id) else {
                continue;
            };
            let ok = entry.alg == "ed25519"
                && b64_decode(&entry.sig).is_some_and(|sig| key.verify(&self.digest_bytes, &sig));
            if ok {
                verified.push(entry.key_id.clone());
            } else {
                trusted_but_bad = true;
            }
        }
        if !verified.is_empty() {
            verified.sort();
            verified.dedup();
            return Ok(verified);
        }
        if trusted_but_bad {
            Err(reject(
                RejectCode::SignatureInvalid,
                "a signature by a trusted key does not verify",
            ))
        } else {
            let ids: Vec<&str> = self.signatures.iter().map(|s| s.key_id.as_str()).collect();
            Err(reject(
                RejectCode::KeyUntrusted,
                format!(
                    "no signature by a trusted key (signed by: {})",
                    ids.join(", ")
                ),
            ))
        }
    }
}

/// The verification options that `--trust FILE…`, `--pin` and
/// `--min-revision` ask for (key files read, the pin checked for form), as
/// `gait-run verify` and every other front end (the `gait` Python package
/// too) builds them. An error names the bad input. With no trusted key the
/// bundle is refused unless `insecure_skip_verify` (tests only).
pub fn verify_options(
    trust: &[std::path::PathBuf],
    pin: Option<&str>,
    min_revision: Option<u32>,
    insecure_skip_verify: bool,
) -> Result<VerifyOptions, String> {
    let mut keys = Vec::new();
    for p in trust {
        keys.push(PublicKey::read(p).map_err(|e| e.to_string())?);
    }
    if keys.is_empty() && !insecure_skip_verify {
        return Err("no --trust key given: refusing to accept an unverified bundle (add --trust PUBFILE, or --insecure-skip-verify for tests)".into());
    }
    if let Some(pin) = pin {
        let hex = pin.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "--pin must be sha256: followed by 64 hex digits, got `{pin}`"
            ));
        }
    }
    Ok(VerifyOptions {
        trust: keys,
        pin: pin.map(str::to_owned),
        min_revision,
        now: crate::time::now().0,
        insecure_skip_verify,
    })
}

/// Reads a bundle file and verifies it completely ([`verify`]); an
/// unreadable file is `bundle_malformed`.
pub fn read_verified(path: &std::path::Path, opts: &VerifyOptions) -> Result<Verified, Rejection> {
    let bytes = std::fs::read(path).map_err(|e| Rejection {
        code: RejectCode::Malformed,
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    verify(&bytes, opts)
}

/// Verifies a bundle completely and loads its tables.
///
/// Order: structure and format, payload digest, signatures (unsigned,
/// untrusted, invalid), pin, expiry, revision; then the tables are decoded.
/// A payload of [`PARALLEL_DIGEST_BYTES`] or more is hashed on a second
/// thread while this one checks the signatures and the rest and, once they
/// hold, decodes the tables: the result and the order of the rejections are
/// the same (a payload that does not match its digest is refused as such,
/// whatever its decoding gave), and tables are never decoded from a bundle
/// whose signatures, pin, expiry or revision are refused, nor from a
/// payload of another size than the manifest's. (The decoder may so read a
/// payload of the signed size whose digest then fails: it reads any bytes
/// safely — the `bundle` fuzz target — and its verdict is dropped.)
pub fn verify(bytes: &[u8], opts: &VerifyOptions) -> Result<Verified, Rejection> {
    verify_from(bytes, opts, PARALLEL_DIGEST_BYTES)
}

/// The payload size from which [`verify`] hashes the payload beside the
/// decoding: its SHA-256 then takes long enough (about 0.2 ms at the SHA
/// extensions' speed) for a thread's start to be small beside it.
pub const PARALLEL_DIGEST_BYTES: usize = 256 * 1024;

/// [`verify`], hashing beside the decoding from `parallel_from` bytes of
/// payload.
fn verify_from(
    bytes: &[u8],
    opts: &VerifyOptions,
    parallel_from: usize,
) -> Result<Verified, Rejection> {
    let parsed = split(bytes)?;
    let checked = |parsed: &Unverified<'_>| {
        let signed = checks(parsed, opts)?;
        // A payload decoded beside its digest may turn out not to be the
        // signed one: a decoder panic on it is a rejection, not a crash
        // (its digest's verdict comes first anyway).
        let tables = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load_tables(parsed)))
            .unwrap_or_else(|_| Err(malformed("payload: the tables could not be decoded")))?;
        Ok((signed, tables))
    };
    // One after the other: the digest's verdict, then the rest.
    let in_order = |parsed: &Unverified<'_>| parsed.check_payload().and_then(|()| checked(parsed));
    let ((signed_by, signature_verified), tables) = if hashed_beside(&parsed, parallel_from) {
        std::thread::scope(|scope| {
            let digest = std::thread::Builder::new()
                .name("gait-payload-digest".into())
                .spawn_scoped(scope, || parsed.check_payload());
            let Ok(digest) = digest else {
                // No thread to be had.
                return in_order(&parsed);
            };
            let rest = checked(&parsed);
            // The digest's verdict comes first, as in the order above (a
            // panic in it is a digest not checked).
            digest
                .join()
                .unwrap_or_else(|_| Err(malformed("the payload digest could not be computed")))?;
            rest
        })?
    } else {
        in_order(&parsed)?
    };
    Ok(Verified {
        policy_json: policy_json(&parsed.info, &parsed.policy_digest),
        info: parsed.info,
        policy_digest: parsed.policy_digest,
        signed_by,
        signature_verified,
        tables,
    })
}

/// Whether [`verify_from`] hashes `parsed`'s payload beside the decoding:
/// from `parallel_from` bytes, and only at the size the manifest (signed,
/// once the checks hold) gives — a payload grown past it is refused by the
/// digest before anything decodes it.
fn hashed_beside(parsed: &Unverified<'_>, parallel_from: usize) -> bool {
    let size = parsed.payload.len();
    size >= parallel_from && size as u64 == parsed.info.payload_size
}

/// The checks of [`verify`] after the payload digest: signatures, pin,
/// expiry, revision. Returns the keys that signed and whether signatures
/// were checked at all.
fn checks(parsed: &Unverified<'_>, opts: &VerifyOptions) -> Result<(Vec<String>, bool), Rejection> {
    let (signed_by, signature_verified) = if opts.insecure_skip_verify && opts.trust.is_empty() {
        (Vec::new(), false)
    } else {
        (parsed.check_signatures(&opts.trust)?, true)
    };
    if let Some(pin) = &opts.pin {
        if !pin.eq_ignore_ascii_case(&parsed.policy_digest) {
            return Err(reject(
                RejectCode::PinMismatch,
                format!(
                    "policy digest {} is not the pinned {pin}",
                    parsed.policy_digest
                ),
            ));
        }
    }
    if let Some(rej) = parsed.info.expired_at(opts.now) {
        return Err(rej);
    }
    if let Some(min) = opts.min_revision {
        if parsed.info.revision < min {
            return Err(reject(
                RejectCode::RevisionRollback,
                format!(
                    "revision {} is below the minimum {min}",
                    parsed.info.revision
                ),
            ));
        }
    }
    Ok((signed_by, signature_verified))
}

/// Decodes and loads the payload's tables, held to the manifest's rule
/// count.
fn load_tables(parsed: &Unverified<'_>) -> Result<Tables, Rejection> {
    let data = TableData::decode(parsed.payload).map_err(|e| malformed(format!("payload: {e}")))?;
    let tables = Tables::load(data).map_err(|e| malformed(format!("payload: {e}")))?;
    if tables.rule_count() as u64 != parsed.info.rules {
        return Err(malformed(
            "the manifest's rule count differs from the payload",
        ));
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn trusting(key: &KeyPair) -> VerifyOptions {
        VerifyOptions {
            trust: vec![key.public().clone()],
            now: crate::time::now().0,
            ..VerifyOptions::default()
        }
    }

    /// What a verification gave: the policy digest, the signers and the
    /// rule count, or the rejection's code.
    fn outcome(r: Result<Verified, Rejection>) -> Result<(String, Vec<String>, usize), RejectCode> {
        r.map(|v| (v.policy_digest, v.signed_by, v.tables.rule_count()))
            .map_err(|e| e.code)
    }

    /// Both ways of [`verify`] — the payload hashed beside the decoding
    /// (from 0 bytes) and after it (never) — give the same result and the
    /// same first rejection on every kind of bundle: valid, a payload
    /// changed under a valid signature, grown past its size or cut short,
    /// signed by an untrusted key, both at once, a payload re-signed that
    /// does not decode — alone, under an untrusted key, under another pin
    /// (the signature and pin come before the decoding).
    #[test]
    fn hashing_beside_the_decoding_changes_no_outcome() {
        let key = KeyPair::read(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test.key"),
        )
        .unwrap_or_else(|e| panic!("test.key: {e}"));
        let other = KeyPair::from_seed(&[7; 32]);
        let good = fixture("matrix.gaitb");
        let parsed = parse(&good).unwrap_or_else(|e| panic!("fixture: {e:?}"));
        let payload = parsed.payload.to_vec();
        let manifest = parsed.manifest;
        let at = good.len() - payload.len();
        let mut flipped = good.clone();
        flipped[at + payload.len() / 2] ^= 1;
        // Not a tables payload: its magic changed.
        let mut undecodable = payload.clone();
        undecodable[0] ^= 1;
        let undecodable_manifest = {
            let mut m = manifest.clone();
            m["payload"]["size"] = json!(undecodable.len());
            m["payload"]["sha256"] = json!(crate::hex(&crate::sha256(&undecodable)));
            m
        };
        let resigned_bad = assemble(&undecodable_manifest, &undecodable, &[&key]);
        let by_other = assemble(&manifest, &payload, &[&other]);
        let undecodable_by_other = assemble(&undecodable_manifest, &undecodable, &[&other]);
        let mut grown = resigned_bad.clone();
        grown.extend_from_slice(&[0; 64]);
        let mut by_other_flipped = by_other.clone();
        let n = by_other_flipped.len();
        by_other_flipped[n - 1] ^= 1;
        let opts = trusting(&key);
        let pinned_elsewhere = VerifyOptions {
            pin: Some(format!("sha256:{}", "0".repeat(64))),
            ..trusting(&key)
        };
        type Case<'c> = (&'c str, &'c [u8], &'c VerifyOptions, Result<(), RejectCode>);
        let cases: [Case<'_>; 9] = [
            ("valid", &good, &opts, Ok(())),
            (
                "payload changed",
                &flipped,
                &opts,
                Err(RejectCode::PayloadDigestMismatch),
            ),
            (
                "re-signed, does not decode",
                &resigned_bad,
                &opts,
                Err(RejectCode::Malformed),
            ),
            // The signature and the pin are judged before any decoding:
            // a payload that would not decode is not what is reported.
            (
                "untrusted key, does not decode",
                &undecodable_by_other,
                &opts,
                Err(RejectCode::KeyUntrusted),
            ),
            (
                "pinned elsewhere, does not decode",
                &resigned_bad,
                &pinned_elsewhere,
                Err(RejectCode::PinMismatch),
            ),
            (
                "untrusted key",
                &by_other,
                &opts,
                Err(RejectCode::KeyUntrusted),
            ),
            (
                "untrusted key, payload changed",
                &by_other_flipped,
                &opts,
                Err(RejectCode::PayloadDigestMismatch),
            ),
            (
                "truncated",
                &good[..good.len() - 1],
                &opts,
                Err(RejectCode::PayloadDigestMismatch),
            ),
            (
                "grown past its size",
                &grown,
                &opts,
                Err(RejectCode::PayloadDigestMismatch),
            ),
        ];
        for (name, bytes, opts, want) in cases {
            let beside = outcome(verify_from(bytes, opts, 0));
            let after = outcome(verify_from(bytes, opts, usize::MAX));
            assert_eq!(beside, after, "{name}");
            assert_eq!(beside.as_ref().map(|_| ()).map_err(|c| *c), want, "{name}");
        }
        assert_eq!(
            outcome(verify(&good, &opts)),
            outcome(verify_from(&good, &opts, 0))
        );
    }
}
