//! Where a source file is, as a URI an editor can open.
//!
//! Files on disk are `file://` URIs. Stdlib modules are embedded in `gaitc`;
//! they are written once, read-only, to a cache directory whose name carries a
//! digest of their sources (`<cache>/gaitc/stdlib-<digest>/secrets.gaitpol`),
//! so any editor can open them without a custom URI scheme, and two versions
//! of `gaitc` never share a directory.

use crate::source::SourceMap;
use crate::span::FileId;
use crate::stdlib;
use lsp_types::Uri;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The prefix of stdlib file names in a [`SourceMap`] (`<std>/secrets.gaitpol`).
const STD_PREFIX: &str = "<std>/";

/// Maps files to URIs and back.
#[derive(Debug, Clone)]
pub struct Locator {
    stdlib_dir: PathBuf,
}

impl Locator {
    /// `base` is the cache root (`stdlib-<digest>` is created below it).
    pub fn new(base: &Path) -> Locator {
        let mut h = Sha256::new();
        for (name, file, src) in stdlib::MODULES {
            h.update(name.as_bytes());
            h.update([0]);
            h.update(file.as_bytes());
            h.update([0]);
            h.update(src.as_bytes());
            h.update([0]);
        }
        let digest: String = h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Locator {
            stdlib_dir: base.join(format!("stdlib-{digest}")),
        }
    }

    /// The default cache root: `$XDG_CACHE_HOME/gaitc`, `$HOME/.cache/gaitc`,
    /// or the temporary directory.
    pub fn default_base() -> PathBuf {
        let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        if let Some(x) = non_empty("XDG_CACHE_HOME") {
            return PathBuf::from(x).join("gaitc");
        }
        if let Some(h) = non_empty("HOME") {
            return PathBuf::from(h).join(".cache").join("gaitc");
        }
        std::env::temp_dir().join("gaitc")
    }

    pub fn stdlib_dir(&self) -> &Path {
        &self.stdlib_dir
    }

    /// The URI of a file of `sources`; `doc` is used for in-memory documents.
    /// Stdlib modules are materialized in the cache on first use.
    pub fn uri(&self, sources: &SourceMap, file: FileId, doc: Option<&Uri>) -> Option<Uri> {
        let src = sources.get(file)?;
        if let Some(path) = &src.path {
            return path_to_uri(path);
        }
        if let Some(module_file) = src.name.strip_prefix(STD_PREFIX) {
            return self.stdlib_file(module_file).and_then(|p| path_to_uri(&p));
        }
        doc.cloned()
    }

    /// Writes (once) and returns the cached copy of a stdlib module file.
    fn stdlib_file(&self, file_name: &str) -> Option<PathBuf> {
        let (_, _, src) = stdlib::MODULES.iter().find(|(_, f, _)| *f == file_name)?;
        let path = self.stdlib_dir.join(file_name);
        if std::fs::read_to_string(&path).is_ok_and(|t| t == *src) {
            return Some(path);
        }
        std::fs::create_dir_all(&self.stdlib_dir).ok()?;
        // A read-only copy left by an interrupted run is replaced atomically.
        crate::plumbing::write_atomic(&path, src.as_bytes()).ok()?;
        if let Ok(meta) = std::fs::metadata(&path) {
            let mut perms = meta.permissions();
            perms.set_readonly(true);
            let _ = std::fs::set_permissions(&path, perms);
        }
        Some(path)
    }
}

/// `file://` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let url = url::Url::from_file_path(path).ok()?;
    Uri::from_str(url.as_str()).ok()
}

/// The canonical path of a `file://` URI (the path itself when it does not exist).
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let url = url::Url::parse(uri.as_str()).ok()?;
    if url.scheme() != "file" {
        return None;
    }
    let path = url.to_file_path().ok()?;
    Some(std::fs::canonicalize(&path).unwrap_or(path))
}
