//! The embedded replay store: one SQLite file (compiled in: `rusqlite`'s
//! bundled SQLite), shared safely by the threads and processes of one host.
//!
//! - WAL journal, `synchronous = FULL`: a consumed id survives a crash or a
//!   power loss once `consume` answered (a forgotten id could be replayed).
//! - Each `consume` is one `BEGIN IMMEDIATE` transaction (the write lock is
//!   taken before anything is read): look every id up (an expired row counts
//!   as absent), insert all or none. Expired rows are deleted in the same
//!   transaction at most once per [`PURGE_INTERVAL_SECS`] per process, not
//!   on every call. Two processes given the same ids serialize on
//!   the lock; exactly one records them.
//! - A busy lock is waited for up to [`BUSY_TIMEOUT`], then answered as a
//!   [`StoreError`] (never as `Recorded`).
//! - The file is created with mode 0600, missing parent folders with 0700
//!   (SQLite gives its `-wal` and `-shm` files the database file's mode).
//!
//! Schema (`PRAGMA user_version = 1`): `used_tokens(token_id TEXT PRIMARY
//! KEY, expires_at INTEGER)`, indexed on `expires_at`.

use super::{duplicates, expires_at, outcome};
use gait_run::approval::{Consumed, ReplayStore, StoreError, TokenUse};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// How long a `consume` waits for another process's transaction.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

const SCHEMA_VERSION: i64 = 1;

/// How often (seconds) a process deletes the expired rows.
pub const PURGE_INTERVAL_SECS: i64 = 60;

/// The file store. One connection, behind a mutex (threads of one process
/// take turns; processes take turns on SQLite's lock).
pub struct SqliteStore {
    conn: Mutex<Open>,
    path: PathBuf,
    busy_timeout: Duration,
}

impl SqliteStore {
    /// Opens (creating when missing) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_timeout(path, BUSY_TIMEOUT)
    }

    /// [`SqliteStore::open`] with another lock wait.
    pub fn open_with_timeout(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let path = std::path::absolute(path).map_err(|e| {
            StoreError(format!(
                "approval store file:{}: cannot resolve the path: {e}",
                path.display()
            ))
        })?;
        let ctx = |what: &str, e: &dyn std::fmt::Display| {
            StoreError(format!(
                "approval store file:{}: {what}: {e}",
                path.display()
            ))
        };
        create_file(&path).map_err(|e| ctx("cannot create the file", &e))?;
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| ctx("cannot open", &e))?;
        conn.busy_timeout(busy_timeout)
            .map_err(|e| ctx("cannot set the lock timeout", &e))?;
        // Switching a fresh file to WAL, or creating its schema, while another
        // process opens it too may answer SQLITE_BUSY at once (SQLite skips
        // the busy handler there to avoid a deadlock): both steps are retried
        // together, within the lock wait (switching to WAL again is a no-op).
        let (mode, version) = retry_busy(busy_timeout, || {
            let mode: String = conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
                .map_err(|e| ("cannot enable WAL", e))?;
            Ok((mode, init_schema(&mut conn)?))
        })
        .map_err(|f| failure(&path, busy_timeout, f))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(ctx(
                "cannot enable WAL",
                &format!("the journal mode stays '{mode}'"),
            ));
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| ctx("cannot set synchronous = FULL", &e))?;
        if version != SCHEMA_VERSION {
            return Err(ctx(
                &format!("schema version {version} is not {SCHEMA_VERSION}"),
                &"a newer gait-run's file, or not an approval store",
            ));
        }
        Ok(SqliteStore {
            conn: Mutex::new(Open {
                conn,
                next_purge: 0,
            }),
            path,
            busy_timeout,
        })
    }

    fn consume_locked(
        open: &mut Open,
        ids: &[TokenUse<'_>],
        now: i64,
    ) -> Result<Consumed, Failure> {
        let tx = open
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| ("cannot take the write lock", e))?;
        let purge = now >= open.next_purge;
        if purge {
            tx.execute("DELETE FROM used_tokens WHERE expires_at < ?1", [now])
                .map_err(|e| ("cannot purge expired ids", e))?;
        }
        let mut used = Vec::new();
        {
            let mut lookup = tx
                .prepare("SELECT 1 FROM used_tokens WHERE token_id = ?1 AND expires_at >= ?2")
                .map_err(|e| ("cannot look ids up", e))?;
            for (i, id) in ids.iter().enumerate() {
                if lookup
                    .exists(rusqlite::params![id.token_id, now])
                    .map_err(|e| ("cannot look ids up", e))?
                {
                    used.push(i);
                }
            }
        }
        let replayed = outcome(used, duplicates(ids));
        if replayed != Consumed::Recorded {
            // Dropping the transaction rolls it back: nothing recorded (the
            // purge neither: the next call does it).
            return Ok(replayed);
        }
        {
            let mut insert = tx
                // An expired row not purged yet is replaced.
                .prepare(
                    "INSERT INTO used_tokens (token_id, expires_at) VALUES (?1, ?2) \
                     ON CONFLICT (token_id) DO UPDATE SET expires_at = excluded.expires_at",
                )
                .map_err(|e| ("cannot record ids", e))?;
            for id in ids {
                insert
                    .execute(rusqlite::params![id.token_id, expires_at(id, now)])
                    .map_err(|e| ("cannot record ids", e))?;
            }
        }
        tx.commit().map_err(|e| ("cannot commit", e))?;
        if purge {
            open.next_purge = now.saturating_add(PURGE_INTERVAL_SECS);
        }
        Ok(Consumed::Recorded)
    }
}

impl ReplayStore for SqliteStore {
    fn consume(&self, ids: &[TokenUse<'_>]) -> Result<Consumed, StoreError> {
        if ids.is_empty() {
            return Ok(Consumed::Recorded);
        }
        // A panic while holding the lock dropped (rolled back) its
        // transaction: the connection is usable.
        let mut conn = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Self::consume_locked(&mut conn, ids, gait_run::time::now().0)
            .map_err(|f| failure(&self.path, self.busy_timeout, f))
    }

    fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }
}

/// The connection, and when (unix seconds) its next `consume` purges.
struct Open {
    conn: Connection,
    next_purge: i64,
}

/// A failed step: what was being done, and SQLite's answer.
type Failure = (&'static str, rusqlite::Error);

/// Creates the schema in a fresh file (in one `BEGIN IMMEDIATE`
/// transaction, so that two processes creating it at once take turns);
/// answers the file's schema version.
fn init_schema(conn: &mut Connection) -> Result<i64, Failure> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| ("cannot start the schema transaction", e))?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| ("cannot read the schema version", e))?;
    if version != 0 {
        return Ok(version);
    }
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS used_tokens (
             token_id TEXT PRIMARY KEY NOT NULL,
             expires_at INTEGER NOT NULL
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS used_tokens_expiry ON used_tokens (expires_at);
         PRAGMA user_version = 1;",
    )
    .map_err(|e| ("cannot create the schema", e))?;
    tx.commit().map_err(|e| ("cannot commit the schema", e))?;
    Ok(SCHEMA_VERSION)
}

/// Runs `f` again while it answers SQLITE_BUSY (or LOCKED), for up to
/// `wait`: the one retry of the steps SQLite's busy handler does not cover.
fn retry_busy<T>(wait: Duration, mut f: impl FnMut() -> Result<T, Failure>) -> Result<T, Failure> {
    let started = std::time::Instant::now();
    loop {
        match f() {
            Err((_, e))
                if matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                ) && started.elapsed() < wait =>
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            other => return other,
        }
    }
}

/// The store's error for a failed step.
fn failure(path: &Path, busy_timeout: Duration, (what, e): Failure) -> StoreError {
    StoreError(format!(
        "approval store file:{}: {}: {e}",
        path.display(),
        explain(&e, busy_timeout, what)
    ))
}

/// `what`, with the cause spelled out for the errors an operator can act on.
fn explain(e: &rusqlite::Error, busy_timeout: Duration, what: &str) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "{what} (locked by another process for more than {} ms)",
            busy_timeout.as_millis()
        ),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            format!("{what} (the file is not an intact SQLite database)")
        }
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            format!("{what} (not writable)")
        }
        _ => what.to_string(),
    }
}

/// Creates the missing parent folders (0700) and the file (0600), keeping an
/// existing file as it is; anything but a regular file (after symlinks) is
/// refused.
fn create_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    // A FIFO or a device (/dev/null) opens, and would lose every id.
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn id(token_id: &str) -> TokenUse<'_> {
        TokenUse {
            token_id,
            not_after: gait_run::time::now().0 + 900,
        }
    }

    fn fresh() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("approvals.db");
        (dir, path)
    }

    #[test]
    fn record_then_replay_all_or_nothing() {
        let (_dir, path) = fresh();
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.describe(),
            format!("file:{}", path.display()),
            "describe names the file"
        );
        super::super::tests::record_then_replay_all_or_nothing(&store);
        drop(store);
        // Kept across processes' lifetimes: a new open sees them.
        let again = SqliteStore::open(&path).unwrap();
        assert_eq!(
            again.consume(&[id("t4"), id("t9"), id("t1")]),
            Ok(Consumed::Replayed(vec![0, 2]))
        );
    }

    #[test]
    fn file_and_folder_modes() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path) = fresh();
        let store = SqliteStore::open(&path).unwrap();
        store.consume(&[id("m")]).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let wal = path.with_file_name("approvals.db-wal");
        assert_eq!(mode(&wal), 0o600, "the WAL file takes the file's mode");
    }

    #[test]
    fn expired_ids_may_be_forgotten() {
        let (_dir, path) = fresh();
        let store = SqliteStore::open(&path).unwrap();
        let now = gait_run::time::now().0;
        let long_gone = TokenUse {
            token_id: "old",
            not_after: now - super::super::RETENTION_MARGIN_SECS - 10,
        };
        let just_expired = TokenUse {
            token_id: "recent",
            not_after: now - 10,
        };
        // Recorded now, each kept until max(not_after, now) + margin…
        assert_eq!(
            store.consume(&[long_gone, just_expired]),
            Ok(Consumed::Recorded)
        );
        // …which is in the future for both: still replays.
        assert_eq!(store.consume(&[long_gone]), Ok(Consumed::Replayed(vec![0])));
        let expire_old = |store: &SqliteStore| {
            let open = store.conn.lock().unwrap();
            open.conn
                .execute(
                    "UPDATE used_tokens SET expires_at = ?1 WHERE token_id = 'old'",
                    [now - 1],
                )
                .unwrap();
        };
        let rows = |store: &SqliteStore| -> Vec<String> {
            let open = store.conn.lock().unwrap();
            let mut st = open
                .conn
                .prepare("SELECT token_id FROM used_tokens ORDER BY token_id")
                .unwrap();
            st.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        // A row whose time has passed stays until a purge is due…
        expire_old(&store);
        assert_eq!(
            store.consume(&[id("other")]),
            Ok(Consumed::Recorded),
            "no purge due"
        );
        assert_eq!(rows(&store), ["old", "other", "recent"]);
        // …but is no replay meanwhile: the id is recorded anew.
        assert_eq!(store.consume(&[long_gone]), Ok(Consumed::Recorded));
        assert_eq!(store.consume(&[long_gone]), Ok(Consumed::Replayed(vec![0])));
        // The first consume once a purge is due deletes it.
        expire_old(&store);
        store.conn.lock().unwrap().next_purge = 0;
        assert_eq!(
            store.consume(&[id("other2")]),
            Ok(Consumed::Recorded),
            "purges"
        );
        assert_eq!(rows(&store), ["other", "other2", "recent"]);
        assert!(store.conn.lock().unwrap().next_purge >= now + PURGE_INTERVAL_SECS);
        assert_eq!(store.consume(&[long_gone]), Ok(Consumed::Recorded));
        // The expiry written is not_after + margin for a future not_after.
        let future = id("future");
        store.consume(&[future]).unwrap();
        let exp: i64 = store
            .conn
            .lock()
            .unwrap()
            .conn
            .query_row(
                "SELECT expires_at FROM used_tokens WHERE token_id = 'future'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(exp, future.not_after + super::super::RETENTION_MARGIN_SECS);
    }

    #[test]
    fn threads_racing_the_same_ids_record_once() {
        let (_dir, path) = fresh();
        let shared = SqliteStore::open(&path).unwrap();
        // Half share one store (its mutex), half have their own connection
        // (SQLite's lock).
        let own: Vec<SqliteStore> = (0..4).map(|_| SqliteStore::open(&path).unwrap()).collect();
        let stores: Vec<&dyn ReplayStore> = own
            .iter()
            .flat_map(|o| [&shared as &dyn ReplayStore, o])
            .collect();
        super::super::tests::racers_record_once(&stores, 20);
    }

    #[test]
    fn threads_opening_a_fresh_file_at_once_all_succeed() {
        // The WAL switch and the schema creation race (retry_busy): every
        // open succeeds, and the stores share one record.
        for round in 0..30 {
            let (_dir, path) = fresh();
            let n = 8;
            let barrier = std::sync::Barrier::new(n);
            let stores: Vec<SqliteStore> = std::thread::scope(|s| {
                let openers: Vec<_> = (0..n)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            SqliteStore::open(&path)
                        })
                    })
                    .collect();
                openers
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap()
                            .unwrap_or_else(|e| panic!("round {round}: {e}"))
                    })
                    .collect()
            });
            assert_eq!(stores[0].consume(&[id("o")]), Ok(Consumed::Recorded));
            for store in &stores {
                assert_eq!(store.consume(&[id("o")]), Ok(Consumed::Replayed(vec![0])));
            }
        }
    }

    /// Env var that turns [`child_racer`] on, with the database path.
    const CHILD_DB: &str = "GAIT_TEST_STORE_CHILD_DB";
    const CHILD_SIDE: &str = "GAIT_TEST_STORE_CHILD_SIDE";
    const CHILD_START: &str = "GAIT_TEST_STORE_CHILD_START";
    const ROUNDS: usize = 100;
    const SLOT: Duration = Duration::from_millis(5);

    /// Not a test by itself: the child process of
    /// `two_processes_racing_on_one_file_record_once` (run by it with
    /// `--ignored --exact`). Opens the file (both children create it at
    /// once) and consumes overlapping batches; prints each round it won.
    #[test]
    #[ignore = "a child process of two_processes_racing_on_one_file_record_once"]
    fn child_racer() {
        let (Some(db), Some(side)) = (std::env::var_os(CHILD_DB), std::env::var_os(CHILD_SIDE))
        else {
            return;
        };
        let side = side.to_string_lossy().into_owned();
        let store = SqliteStore::open(Path::new(&db)).unwrap();
        // Both run round k at start + k × SLOT (libtest printed `test … `
        // without a newline before this output).
        let start: u64 = std::env::var(CHILD_START).unwrap().parse().unwrap();
        let start = std::time::UNIX_EPOCH + Duration::from_millis(start);
        println!();
        for round in 0..ROUNDS {
            let at = start + SLOT * u32::try_from(round).unwrap();
            while std::time::SystemTime::now() < at {
                std::hint::spin_loop();
            }
            // Side A consumes [k-a, k-b], side B [k-b, k-c]: they share k-b,
            // so exactly one of the two batches may be recorded.
            let (x, y) = if side == "A" { ("a", "b") } else { ("b", "c") };
            let first = format!("{round}-{x}");
            let second = format!("{round}-{y}");
            if store.consume(&[id(&first), id(&second)]).unwrap() == Consumed::Recorded {
                println!("WON {round}");
            }
        }
        println!("CHILD DONE");
    }

    #[test]
    fn two_processes_racing_on_one_file_record_once() {
        let (_dir, path) = fresh();
        let exe = std::env::current_exe().unwrap();
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 1000;
        let spawn = |side: &str| {
            std::process::Command::new(&exe)
                .args([
                    "--ignored",
                    "--exact",
                    "stores::sqlite::tests::child_racer",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_DB, &path)
                .env(CHILD_SIDE, side)
                .env(CHILD_START, start.to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn("A"), spawn("B"));
        let won = |child: std::process::Child| {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success() && stdout.contains("CHILD DONE"),
                "child failed: {}\n{stdout}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            stdout
                .lines()
                .filter_map(|l| l.strip_prefix("WON "))
                .map(|n| n.trim().parse::<usize>().unwrap())
                .collect::<BTreeSet<usize>>()
        };
        let (won_a, won_b) = (won(a), won(b));
        eprintln!(
            "two processes: A won {}, B won {}",
            won_a.len(),
            won_b.len()
        );
        assert!(
            won_a.is_disjoint(&won_b),
            "both processes recorded rounds {:?}",
            won_a.intersection(&won_b).collect::<Vec<_>>()
        );
        assert_eq!(
            won_a.len() + won_b.len(),
            ROUNDS,
            "every round recorded by one process (A won {}, B won {})",
            won_a.len(),
            won_b.len()
        );
    }

    #[test]
    fn unwritable_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        // A regular file where a folder should be (refused even to root).
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        let err = SqliteStore::open(&file.join("approvals.db")).err().unwrap();
        assert!(
            err.0.contains("approval store file:") && err.0.contains("cannot create the file"),
            "{err}"
        );
        // A folder where the file should be.
        let err = SqliteStore::open(dir.path()).err().unwrap();
        assert!(err.0.contains("cannot create the file"), "{err}");
        // Through the module's entry point too.
        assert!(super::super::open(&file.join("x").to_string_lossy()).is_err());
    }

    #[test]
    fn not_a_regular_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.db");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = SqliteStore::open(&fifo).err().unwrap();
        assert!(err.0.contains("not a regular file"), "{err}");
        let err = SqliteStore::open(Path::new("/dev/null")).err().unwrap();
        assert!(err.0.contains("not a regular file"), "{err}");
    }

    #[test]
    fn a_symlinked_path_is_the_file_it_names() {
        let (_dir, path) = fresh();
        let real = SqliteStore::open(&path).unwrap();
        real.consume(&[id("s1")]).unwrap();
        let link = path.with_file_name("link.db");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let linked = SqliteStore::open(&link).unwrap();
        assert_eq!(linked.consume(&[id("s1")]), Ok(Consumed::Replayed(vec![0])));
        assert_eq!(linked.consume(&[id("s2")]), Ok(Consumed::Recorded));
        assert_eq!(real.consume(&[id("s2")]), Ok(Consumed::Replayed(vec![0])));
        // One WAL, beside the file itself.
        assert!(path.with_file_name("approvals.db-wal").exists());
        assert!(!path.with_file_name("link.db-wal").exists());
    }

    #[test]
    fn corrupt_file_is_an_error() {
        let (_dir, path) = fresh();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let err = SqliteStore::open(&path).err().unwrap();
        assert!(err.0.contains("not an intact SQLite database"), "{err}");
        // Another application's SQLite file (another schema version).
        let (_dir2, other) = fresh();
        std::fs::create_dir_all(other.parent().unwrap()).unwrap();
        Connection::open(&other)
            .unwrap()
            .execute_batch("PRAGMA user_version = 7")
            .unwrap();
        let err = SqliteStore::open(&other).err().unwrap();
        assert!(err.0.contains("schema version 7"), "{err}");
    }

    #[test]
    fn lock_held_too_long_is_an_error_not_a_grant() {
        let (_dir, path) = fresh();
        let wait = Duration::from_millis(300);
        let store = SqliteStore::open_with_timeout(&path, wait).unwrap();
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let start = std::time::Instant::now();
        let err = store.consume(&[id("l")]).unwrap_err();
        assert!(
            err.0
                .contains("locked by another process for more than 300 ms"),
            "{err}"
        );
        let waited = start.elapsed();
        assert!(waited >= wait && waited < wait * 10, "{waited:?}");
        holder.execute_batch("ROLLBACK").unwrap();
        assert_eq!(store.consume(&[id("l")]), Ok(Consumed::Recorded));
    }
}
