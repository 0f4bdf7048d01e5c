//! Writing a file whole, in a folder others may write to: through a new
//! temporary file beside it (created exclusively: never one planted there,
//! never through a symlink — its name, pid, counter and time, is not secret:
//! `O_EXCL` is what protects), then renamed over the target.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How many names [`create_temp`] tries before it gives up.
const ATTEMPTS: u32 = 16;

/// Creates a new file `.{stem}.{pid}.{n}.{nanos}.tmp` in `dir` with `mode`,
/// exclusively (`O_CREAT | O_EXCL`: a file or symlink already at the name
/// is never opened, whoever planted it, and another name is tried).
pub fn create_temp(dir: &Path, stem: &str, mode: u32) -> std::io::Result<(File, PathBuf)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let names = std::iter::repeat_with(|| {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let (_, nanos) = crate::time::now();
        dir.join(format!(".{stem}.{}.{n}.{nanos}.tmp", std::process::id()))
    });
    create_first_free(names.take(ATTEMPTS as usize), mode)
}

/// Creates the first of `names` that does not exist yet, exclusively.
fn create_first_free(
    names: impl Iterator<Item = PathBuf>,
    mode: u32,
) -> std::io::Result<(File, PathBuf)> {
    let mut last = None;
    for path in names {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
        {
            Ok(f) => return Ok((f, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no temporary file name was free")))
}

/// Writes `bytes` to `path` whole: a new temporary file beside it
/// ([`create_temp`], `mode`), synced, then renamed over `path` (a symlink
/// at `path` is replaced, not followed). The temporary file is removed on
/// failure.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_owned());
    let (mut f, tmp) = create_temp(dir, &stem, mode)?;
    let written = f
        .write_all(bytes)
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A symlink planted at every name the writer might pick is never
    /// followed: the file it points at is untouched, the target is a new
    /// regular file with the mode asked for.
    #[test]
    fn planted_links_are_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        // The old names (pid-based) and a link at the target itself.
        let target = dir.path().join("trace_x.json");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        let pid = std::process::id();
        for name in [
            format!(".trace_x.json.tmp{pid}"),
            format!(".trace_x.{pid}.tmp"),
        ] {
            std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
        }
        write_atomic(&target, b"{}", 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let meta = std::fs::symlink_metadata(&target).unwrap();
        assert!(
            meta.file_type().is_file(),
            "the target is a file, not the link"
        );
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&target).unwrap(), b"{}");
    }

    /// Each temporary file is a new name: two writers never share one.
    #[test]
    fn each_temporary_file_is_a_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let (f, first) = create_temp(dir.path(), "s", 0o600).unwrap();
        drop(f);
        let (_, second) = create_temp(dir.path(), "s", 0o600).unwrap();
        assert_ne!(first, second);
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// A link (or a file) already at a name the writer tries is never
    /// opened: the next name is taken, the link's target stays as it was;
    /// every name taken is an error, not a write through a link.
    #[test]
    fn a_planted_name_is_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        let planted = dir.path().join(".t.planted.tmp");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let free = dir.path().join(".t.free.tmp");
        let (mut f, got) =
            create_first_free([planted.clone(), free.clone()].into_iter(), 0o600).unwrap();
        f.write_all(b"trace").unwrap();
        assert_eq!(got, free);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let err = create_first_free(std::iter::once(planted), 0o600).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }
}
