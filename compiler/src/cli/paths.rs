//! Which files a command works on: PATH arguments expanded, directories
//! walked recursively in sorted order; key files read.

use gait_run::keys::KeyError;
use std::fs::FileType;
use std::path::{Path, PathBuf};

/// Directories never searched when a directory is given.
const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules", ".local"];

/// Expands PATH arguments: files as given, directories recursively (sorted)
/// to their `*.gaitpol` files.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut out, &|path, ty| {
                ty.is_file() && path.extension().is_some_and(|x| x == "gaitpol")
            })
            .map_err(|e| format!("{}: {e}", p.display()))?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// `*.test.json` fixtures under the given paths (sorted).
pub(super) fn collect_fixtures(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let fixture = |path: &Path| path.to_string_lossy().ends_with(".test.json");
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out, &|path, _| fixture(path))
                .map_err(|e| format!("{}: {e}", p.display()))?;
        } else if fixture(p) {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The keys in the files given to `--key` or `--trust`, each read by `read`;
/// the first file that cannot be read is the error.
pub(super) fn read_keys<K>(
    paths: &[PathBuf],
    read: fn(&Path) -> Result<K, KeyError>,
) -> Result<Vec<K>, KeyError> {
    paths.iter().map(|p| read(p)).collect()
}

/// Every entry below `dir` (sorted, skipping [`SKIP_DIRS`]) that is not a
/// directory and that `keep` accepts.
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    keep: &dyn Fn(&Path, &FileType) -> bool,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let ty = e.file_type()?;
        if ty.is_dir() {
            if !SKIP_DIRS.iter().any(|s| e.file_name() == *s) {
                walk(&path, out, keep)?;
            }
        } else if keep(&path, &ty) {
            out.push(path);
        }
    }
    Ok(())
}
