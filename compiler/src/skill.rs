//! The skill supply chain (runtime.md §5).
//!
//! Publisher side, `gaitc skill sign DIR`: `DIR/skill.manifest.json` lists
//! every file of the skill (relative path, size, SHA-256; sorted) with its
//! name, version, publisher and source; the **skill digest** is the SHA-256 of
//! the manifest's RFC 8785 canonical JSON; `DIR/skill.manifest.sig` holds an
//! Ed25519 signature over those 32 bytes. Symlinks and anything outside DIR are
//! refused.
//!
//! Operator side, `gaitc skill verify DIR`: every check, in order, against a
//! policy's (or bundle's) `trust` and `pin` items; every failure reported.

use gait_run::keys::{b64_decode, b64_encode, KeyPair, PublicKey};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "skill.manifest.json";
pub const SIGNATURE: &str = "skill.manifest.sig";
pub const MANIFEST_SCHEMA_ID: &str = "gait.skill.manifest";
pub const REPORT_SCHEMA_ID: &str = "gait.skill.verification_report";

/// Failure codes, in check order.
pub mod codes {
    pub const MANIFEST_INVALID: &str = "skill_manifest_invalid";
    pub const FILE_DIGEST_MISMATCH: &str = "skill_file_digest_mismatch";
    pub const FILE_UNLISTED: &str = "skill_file_unlisted";
    pub const UNSIGNED: &str = "skill_unsigned";
    pub const PUBLISHER_UNTRUSTED: &str = "skill_publisher_untrusted";
    pub const KEY_UNTRUSTED: &str = "skill_key_untrusted";
    pub const SIGNATURE_INVALID: &str = "skill_signature_invalid";
    pub const NOT_PINNED: &str = "skill_not_pinned";
    pub const DIGEST_MISMATCH: &str = "skill_digest_mismatch";
}

/// One file of a skill directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// Lists the files of a skill directory (sorted, `/`-separated, the manifest
/// and signature excluded). Symlinks and special files are errors.
pub fn list_files(dir: &Path) -> Result<Vec<FileEntry>, String> {
    let mut out = Vec::new();
    let mut refused = Vec::new();
    walk(dir, dir, &mut out, &mut refused)?;
    if let Some(first) = refused.into_iter().next() {
        return Err(first);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Like [`list_files`], but symlinks and special files are returned as
/// refusals beside the regular files instead of stopping the listing.
fn list_files_lenient(dir: &Path) -> Result<(Vec<FileEntry>, Vec<String>), String> {
    let mut out = Vec::new();
    let mut refused = Vec::new();
    walk(dir, dir, &mut out, &mut refused)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((out, refused))
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<FileEntry>,
    refused: &mut Vec<String>,
) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let parts = path
            .strip_prefix(root)
            .map_err(|_| format!("{} is outside the skill directory", path.display()))?
            .components()
            .map(|c| c.as_os_str().to_str().map(str::to_owned).ok_or(c))
            .collect::<Vec<_>>();
        let rel = parts
            .iter()
            .map(|p| match p {
                Ok(s) => s.clone(),
                Err(c) => c.as_os_str().to_string_lossy().into_owned(),
            })
            .collect::<Vec<_>>()
            .join("/");
        if parts.iter().any(Result::is_err) {
            // Read lossily, `tool\xff.py` and `tool\xfe.py` would be one
            // listed name: a file could be swapped under a valid signature.
            refused.push(format!(
                "{rel} has a name that is not UTF-8: skills may contain only UTF-8 names"
            ));
            continue;
        }
        if meta.file_type().is_symlink() {
            refused.push(format!("{rel} is a symbolic link: skills may contain only regular files inside their directory"));
            continue;
        }
        if meta.is_dir() {
            walk(root, &path, out, refused)?;
        } else if meta.is_file() {
            if rel == MANIFEST || rel == SIGNATURE {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {rel}: {e}"))?;
            out.push(FileEntry {
                path: rel,
                size: bytes.len() as u64,
                sha256: gait_run::hex(&gait_run::sha256(&bytes)),
            });
        } else {
            refused.push(format!("{rel} is not a regular file"));
        }
    }
    Ok(())
}

/// The skill digest (hex) of a manifest: SHA-256 of its canonical JSON.
pub fn digest_of(manifest: &Value) -> [u8; 32] {
    gait_run::sha256(gait_run::jcs::to_string(manifest).as_bytes())
}

/// What `sign` produced.
#[derive(Debug, Clone)]
pub struct Signed {
    pub manifest: Value,
    /// `sha256:` + hex.
    pub digest: String,
}

/// Signs a skill directory: writes the manifest and the signature.
pub fn sign(
    dir: &Path,
    key: &KeyPair,
    publisher: &str,
    source: &str,
    name: Option<&str>,
    version: Option<&str>,
) -> Result<Signed, String> {
    if publisher.trim().is_empty() || source.trim().is_empty() {
        return Err("--publisher and --source must not be empty".to_owned());
    }
    let canonical_dir =
        std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !canonical_dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let name = match name {
        Some(n) => n.to_owned(),
        None => canonical_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or("the skill directory has no name; give --name")?,
    };
    let files = list_files(&canonical_dir)?;
    let manifest = json!({
        "schema_id": MANIFEST_SCHEMA_ID,
        "schema_version": "1.0.0",
        "name": name,
        "version": version.unwrap_or("0.0.0"),
        "publisher": publisher.trim(),
        "source": source.trim(),
        "files": files.iter().map(|f| json!({"path": f.path, "size": f.size, "sha256": f.sha256})).collect::<Vec<_>>(),
    });
    let digest = digest_of(&manifest);
    let signature = json!({
        "alg": "ed25519",
        "key_id": key.public().id(),
        "skill_digest": format!("sha256:{}", gait_run::hex(&digest)),
        "sig": b64_encode(&key.sign(&digest)),
    });
    let write = |file: &str, v: &Value| {
        crate::plumbing::write_atomic(
            &canonical_dir.join(file),
            format!("{}\n", gait_run::jcs::to_string(v)).as_bytes(),
        )
        .map_err(|e| format!("cannot write {file}: {e}"))
    };
    write(MANIFEST, &manifest)?;
    write(SIGNATURE, &signature)?;
    Ok(Signed {
        manifest,
        digest: format!("sha256:{}", gait_run::hex(&digest)),
    })
}

/// Trust and pins to verify against.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    /// `(publisher lower-cased, key)`.
    pub keys: Vec<(String, PublicKey)>,
    /// `(skill name lower-cased, version, digest hex)`.
    pub pins: Vec<(String, String, String)>,
}

impl TrustStore {
    /// From a checked policy's `trust` and `pin` items.
    pub fn from_policy(p: &crate::check::model::Policy) -> Result<TrustStore, String> {
        let mut keys = Vec::new();
        for t in &p.trust {
            for k in &t.keys {
                let key = PublicKey::from_bytes(&k.bytes)
                    .map_err(|e| format!("trust {}: {e}", t.publisher))?;
                keys.push((t.publisher.clone(), key));
            }
        }
        let pins = p.pins.iter().map(crate::check::model::Pin::row).collect();
        Ok(TrustStore { keys, pins })
    }

    /// From a verified bundle's trust and pin tables.
    pub fn from_tables(t: &gait_run::tables::Tables) -> Result<TrustStore, String> {
        let mut keys = Vec::new();
        for (publisher, _, b64) in t.trusted_keys() {
            keys.push((
                publisher.to_owned(),
                PublicKey::parse(b64).map_err(|e| format!("trust {publisher}: {e}"))?,
            ));
        }
        let pins = t
            .pins()
            .map(|(n, v, d)| (n.to_owned(), v.to_owned(), d.to_owned()))
            .collect();
        Ok(TrustStore { keys, pins })
    }
}

/// The verification report (`gait.skill.verification_report`): deterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub digest: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub publisher: Option<String>,
    pub source: Option<String>,
    pub key_id: Option<String>,
    pub failure_codes: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failure_codes.is_empty()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "schema_id": REPORT_SCHEMA_ID,
            "schema_version": "1.0.0",
            "status": if self.passed() { "pass" } else { "fail" },
            "digest": self.digest,
            "name": self.name,
            "version": self.version,
            "publisher": self.publisher,
            "source": self.source,
            "key_id": self.key_id,
            "failure_codes": self.failure_codes,
        })
    }
}

fn manifest_fields(m: &Value) -> Option<(String, String, String, String, Vec<FileEntry>)> {
    if m.get("schema_id")?.as_str()? != MANIFEST_SCHEMA_ID {
        return None;
    }
    let s = |k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|v| !v.trim().is_empty())
    };
    let mut files = Vec::new();
    for f in m.get("files")?.as_array()? {
        let path = f.get("path")?.as_str()?.to_owned();
        let hex = f.get("sha256")?.as_str()?.to_owned();
        let bad_path = path.is_empty()
            || path.starts_with('/')
            || path.contains('\\')
            || path
                .split('/')
                .any(|seg| seg.is_empty() || seg == "." || seg == "..");
        if bad_path || hex.len() != 64 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        files.push(FileEntry {
            path,
            size: f.get("size")?.as_u64()?,
            sha256: hex.to_lowercase(),
        });
    }
    let mut sorted = files.clone();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    sorted.dedup_by(|a, b| a.path == b.path);
    if sorted.len() != files.len() {
        return None;
    }
    Some((
        s("name")?,
        s("version")?,
        s("publisher")?,
        s("source")?,
        files,
    ))
}

/// Verifies a skill directory. Never fails: problems are failure codes.
pub fn verify(dir: &Path, trust: &TrustStore) -> Report {
    let mut codes_found: Vec<&str> = Vec::new();
    let mut report = Report {
        digest: None,
        name: None,
        version: None,
        publisher: None,
        source: None,
        key_id: None,
        failure_codes: Vec::new(),
    };
    // The strict reader: a repeated key (`"publisher"` twice) is no
    // manifest, not one whose last copy counts.
    let manifest: Option<Value> = std::fs::read(dir.join(MANIFEST))
        .ok()
        .and_then(|b| gait_run::json::Json::parse_value(&b).ok());
    let fields = manifest.as_ref().and_then(manifest_fields);
    let digest = manifest
        .as_ref()
        .filter(|_| fields.is_some())
        .map(digest_of);
    if let Some((name, version, publisher, source, listed)) = &fields {
        report.name = Some(name.clone());
        report.version = Some(version.clone());
        report.publisher = Some(publisher.clone());
        report.source = Some(source.clone());
        report.digest = digest.map(|d| format!("sha256:{}", gait_run::hex(&d)));
        // Files: every listed file present and matching; nothing extra.
        match list_files_lenient(dir) {
            Ok((actual, refused)) => {
                for l in listed {
                    if !actual.iter().any(|a| a == l) {
                        codes_found.push(codes::FILE_DIGEST_MISMATCH);
                    }
                }
                // A symlink, special file or non-UTF-8 name can never be
                // listed; and no two files may answer to one listed name
                // (`actual` is sorted by path).
                if !refused.is_empty()
                    || actual
                        .iter()
                        .any(|a| !listed.iter().any(|l| l.path == a.path))
                    || actual.windows(2).any(|w| w[0].path == w[1].path)
                {
                    codes_found.push(codes::FILE_UNLISTED);
                }
            }
            Err(_) => codes_found.push(codes::FILE_DIGEST_MISMATCH),
        }
    } else {
        codes_found.push(codes::MANIFEST_INVALID);
    }
    // Signature.
    let sig: Option<Value> = match std::fs::read(dir.join(SIGNATURE)) {
        Err(_) => {
            codes_found.push(codes::UNSIGNED);
            None
        }
        Ok(bytes) => match gait_run::json::Json::parse_value(&bytes) {
            Ok(v) if v.get("key_id").and_then(Value::as_str).is_some() => Some(v),
            _ => {
                codes_found.push(codes::SIGNATURE_INVALID);
                None
            }
        },
    };
    if let (Some(sig), Some((_, _, publisher, _, _))) = (&sig, &fields) {
        let key_id = sig
            .get("key_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_lowercase();
        report.key_id = Some(key_id.clone());
        let publisher = publisher.to_lowercase();
        let keys: Vec<&PublicKey> = trust
            .keys
            .iter()
            .filter(|(p, _)| *p == publisher)
            .map(|(_, k)| k)
            .collect();
        if keys.is_empty() {
            codes_found.push(codes::PUBLISHER_UNTRUSTED);
        } else if let Some(key) = keys.iter().find(|k| k.id() == key_id) {
            // The digest the file names must be the one computed (a tool
            // that reads the field, not the manifest, would be misled).
            let named = sig.get("skill_digest").and_then(Value::as_str);
            let valid = sig.get("alg").and_then(Value::as_str) == Some("ed25519")
                && digest.is_some_and(|d| {
                    named == Some(&*format!("sha256:{}", gait_run::hex(&d)))
                        && sig
                            .get("sig")
                            .and_then(Value::as_str)
                            .and_then(b64_decode)
                            .is_some_and(|s| key.verify(&d, &s))
                });
            if !valid {
                codes_found.push(codes::SIGNATURE_INVALID);
            }
        } else {
            codes_found.push(codes::KEY_UNTRUSTED);
        }
    }
    // Pin.
    if let (Some((name, version, _, _, _)), Some(d)) = (&fields, digest) {
        let pins: Vec<&(String, String, String)> = trust
            .pins
            .iter()
            .filter(|(n, v, _)| *n == name.to_lowercase() && v == version)
            .collect();
        if pins.is_empty() {
            codes_found.push(codes::NOT_PINNED);
        } else if !pins.iter().any(|(_, _, pd)| *pd == gait_run::hex(&d)) {
            codes_found.push(codes::DIGEST_MISMATCH);
        }
    }
    let mut codes_sorted: Vec<String> = codes_found.into_iter().map(str::to_owned).collect();
    codes_sorted.sort();
    codes_sorted.dedup();
    report.failure_codes = codes_sorted;
    report
}

/// Resolves `--policy` or `--bundle/--trust` into a trust store.
pub fn trust_store(
    policy: Option<&Path>,
    bundle: Option<&Path>,
    trust: &[PathBuf],
) -> Result<TrustStore, StoreError> {
    let invalid = StoreError::Invalid;
    match (policy, bundle) {
        (Some(p), None) => {
            let mut s = crate::check::Session::new();
            let id = s.load_path(p).map_err(invalid)?;
            let checked = s.check(id);
            let policy = checked.policy.ok_or_else(|| {
                invalid(format!(
                    "{} does not check cleanly (run `gaitc check`)",
                    p.display()
                ))
            })?;
            TrustStore::from_policy(&policy).map_err(invalid)
        }
        (None, Some(b)) => {
            if trust.is_empty() {
                return Err(invalid(
                    "--bundle needs --trust PUBFILE to verify the bundle first".to_owned(),
                ));
            }
            let keys = trust
                .iter()
                .map(|t| PublicKey::read(t).map_err(|e| invalid(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            let bytes = std::fs::read(b)
                .map_err(|e| invalid(format!("cannot read {}: {e}", b.display())))?;
            let opts = gait_run::bundle::VerifyOptions {
                trust: keys,
                now: gait_run::time::now().0,
                ..Default::default()
            };
            // Only a verification failure is a rejected bundle (exit 2).
            let verified = gait_run::bundle::verify(&bytes, &opts)
                .map_err(|r| StoreError::BundleRejected(r.to_string()))?;
            TrustStore::from_tables(&verified.tables).map_err(invalid)
        }
        _ => Err(invalid(
            "give either --policy POLICY or --bundle BUNDLE --trust PUBFILE".to_owned(),
        )),
    }
}

/// Why a trust store could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// Bad arguments or an unreadable/invalid policy or key (exit 6).
    Invalid(String),
    /// The bundle failed verification (exit 2).
    BundleRejected(String),
}
