//! The approval replay stores (issue 18): where granted approval token ids
//! are consumed, so that each token is used once. The library checks tokens;
//! these stores (binary side: SQLite and Redis stay out of the library)
//! implement [`ReplayStore`] for `eval`, `serve` and `mcp-proxy`.
//!
//! - [`open`]`("redis://HOST:PORT[/DB]")`: a Redis server shared by a fleet
//!   of gates ([`redis::RedisStore`]).
//! - [`open`]`(PATH)`: an embedded SQLite file shared by the processes of one
//!   host ([`sqlite::SqliteStore`]); [`default_path`] is where it lives when
//!   no `--approval-store` is given.
//!
//! Both answer [`ReplayStore::consume`] all or nothing, atomically across
//! threads and processes. Conventions common to both:
//!
//! - A token id given twice in one call counts as a replay of its later
//!   occurrences (`Replayed` with their indices; nothing is recorded): one
//!   token is one use.
//! - An empty list is vacuously `Recorded` (nothing to record).
//! - Each id is kept until its `not_after` plus [`RETENTION_MARGIN_SECS`]
//!   (and at least that margin past now): a gate whose clock lags the
//!   store's (or another gate's) must not see a still-valid token forgotten.
//!   Kept longer is always safe; forgotten early never is.
//! - Any failure (unreachable, corrupt, locked too long) is a [`StoreError`]
//!   naming the store: the decision answers `approval_store_unavailable`,
//!   never `allow`. A `StoreError` may follow a write that did happen (a
//!   Redis reply lost on the way back): the ids are then spent without a
//!   grant, which fails closed.

pub mod redis;
#[cfg(test)]
mod redis_server;
pub mod sqlite;

use gait_run::approval::{Consumed, ReplayStore, StoreError, TokenUse};
use std::ffi::OsString;
use std::path::PathBuf;

/// How long past its `not_after` a token id is remembered (seconds): covers
/// clock differences between the gates and the store.
pub const RETENTION_MARGIN_SECS: i64 = 3600;

/// The file name of the embedded store in the state directory.
pub const DEFAULT_FILE_NAME: &str = "approvals.db";

/// Opens the replay store named by `spec` (the `--approval-store` value):
///
/// - `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`: the Redis store (port
///   6379 by default, database 0). Connects lazily, on the first use, so a
///   gate starts while Redis is down and answers `approval_store_unavailable`
///   until it is back.
/// - any other URL scheme (`rediss://`, `unix://`, `file:`…): refused.
/// - anything else: the path of the embedded SQLite file, created (with its
///   parent folders, mode 0600/0700) and opened now, so that an unwritable
///   path or a corrupt file is an error at start-up.
pub fn open(spec: &str) -> Result<Box<dyn ReplayStore>, StoreError> {
    match classify(spec)? {
        Spec::Redis => Ok(Box::new(redis::RedisStore::open(spec)?)),
        Spec::File(path) => Ok(Box::new(sqlite::SqliteStore::open(&path)?)),
    }
}

/// A store that could not be opened: every [`ReplayStore::consume`]
/// answers the opening's error, so that a decision it would have granted
/// answers `approval_store_unavailable` with that error as its
/// `store_error` (never `allow`).
pub struct Unopened(pub StoreError);

impl ReplayStore for Unopened {
    fn consume(&self, _: &[TokenUse<'_>]) -> Result<Consumed, StoreError> {
        Err(self.0.clone())
    }

    fn describe(&self) -> String {
        "unopened".to_string()
    }
}

/// The embedded store at [`default_path`], opened as a file (never read as
/// a spec: a state folder named like `redis://…` is still a folder).
pub fn open_default() -> Result<Box<dyn ReplayStore>, StoreError> {
    Ok(Box::new(sqlite::SqliteStore::open(&default_path()?)?))
}

/// Where the embedded store lives when no `--approval-store` is given:
/// `$GAIT_STATE_DIR/approvals.db` when `GAIT_STATE_DIR` is set, else
/// `$XDG_STATE_HOME/gait/approvals.db` (when `XDG_STATE_HOME` is an absolute
/// path, as the XDG base directory specification requires), else
/// `$HOME/.local/state/gait/approvals.db`. Empty variables count as unset.
/// Nothing is created here; [`open`] creates the folders.
pub fn default_path() -> Result<PathBuf, StoreError> {
    default_path_from(|name| std::env::var_os(name))
}

fn default_path_from(var: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, StoreError> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("GAIT_STATE_DIR") {
        return Ok(dir.join(DEFAULT_FILE_NAME));
    }
    if let Some(dir) = set("XDG_STATE_HOME").filter(|d| d.is_absolute()) {
        return Ok(dir.join("gait").join(DEFAULT_FILE_NAME));
    }
    match set("HOME") {
        Some(home) => Ok(home
            .join(".local")
            .join("state")
            .join("gait")
            .join(DEFAULT_FILE_NAME)),
        None => Err(StoreError(
            "approval store: no default location (none of GAIT_STATE_DIR, XDG_STATE_HOME, HOME \
             is set); give --approval-store PATH"
                .to_string(),
        )),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Spec {
    Redis,
    File(PathBuf),
}

fn classify(spec: &str) -> Result<Spec, StoreError> {
    if spec.trim().is_empty() {
        return Err(StoreError(
            "approval store: empty spec (expected redis://HOST:PORT[/DB] or a file path)"
                .to_string(),
        ));
    }
    if spec.trim() != spec {
        // " redis://h:1" would otherwise be a file path: each gate of a
        // fleet on a file of its own, no replay seen across them.
        // Not echoed: the spec may hold a Redis password.
        return Err(StoreError(
            "approval store: the spec has leading or trailing white space".to_string(),
        ));
    }
    if let Some((scheme, _)) = spec.split_once("://") {
        let is_scheme = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if is_scheme {
            if scheme.eq_ignore_ascii_case("redis") {
                return Ok(Spec::Redis);
            }
            return Err(StoreError(format!(
                "approval store: unsupported URL scheme '{scheme}://' (expected \
                 redis://HOST:PORT[/DB] or a file path{})",
                if scheme.eq_ignore_ascii_case("rediss") {
                    "; TLS to Redis is not built in"
                } else {
                    ""
                }
            )));
        }
    }
    if spec.starts_with("file:") {
        return Err(StoreError(format!(
            "approval store: '{spec}': give the file's path itself, without 'file:'"
        )));
    }
    Ok(Spec::File(PathBuf::from(spec)))
}

/// The ids whose earlier occurrence in the same call makes them a replay.
fn duplicates(ids: &[TokenUse<'_>]) -> Vec<usize> {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.iter()
        .enumerate()
        .filter(|(_, id)| !seen.insert(id.token_id))
        .map(|(i, _)| i)
        .collect()
}

/// The answer of a `consume` whose ids at indices `used` are stored and at
/// `repeated` repeat an earlier one of the call: `Recorded` when there are
/// none (the store then recorded them).
fn outcome(mut used: Vec<usize>, repeated: Vec<usize>) -> Consumed {
    if used.is_empty() && repeated.is_empty() {
        return Consumed::Recorded;
    }
    used.extend(repeated);
    used.sort_unstable();
    used.dedup();
    Consumed::Replayed(used)
}

/// When a record of `id` may be forgotten (unix seconds), given the time now.
fn expires_at(id: &TokenUse<'_>, now: i64) -> i64 {
    id.not_after
        .max(now)
        .saturating_add(RETENTION_MARGIN_SECS)
        // Year 9999: both stores take it (Redis refuses expiries whose
        // milliseconds overflow).
        .min(253_402_300_799)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, OsString)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn id(token_id: &str) -> TokenUse<'_> {
        TokenUse {
            token_id,
            not_after: gait_run::time::now().0 + 900,
        }
    }

    /// What every store answers, on a fresh `store` (the same body for
    /// both): all or nothing, replays named by index, ids repeated in one
    /// call, ids that are patterns or hold the key's separator to Redis.
    pub(super) fn record_then_replay_all_or_nothing(store: &dyn ReplayStore) {
        assert_eq!(store.consume(&[]), Ok(Consumed::Recorded));
        assert_eq!(store.consume(&[id("t1"), id("t2")]), Ok(Consumed::Recorded));
        assert_eq!(store.consume(&[id("t1")]), Ok(Consumed::Replayed(vec![0])));
        // One used id among new ones: which one is said, and the new ones
        // are not recorded.
        assert_eq!(
            store.consume(&[id("t3"), id("t2"), id("t4")]),
            Ok(Consumed::Replayed(vec![1]))
        );
        assert_eq!(store.consume(&[id("t3"), id("t4")]), Ok(Consumed::Recorded));
        // The same id twice in one call: its second use is a replay, nothing
        // is recorded, and a stored one is still named.
        assert_eq!(
            store.consume(&[id("t5"), id("t5")]),
            Ok(Consumed::Replayed(vec![1]))
        );
        assert_eq!(
            store.consume(&[id("t5"), id("t1"), id("t5")]),
            Ok(Consumed::Replayed(vec![1, 2]))
        );
        assert_eq!(store.consume(&[id("t5")]), Ok(Consumed::Recorded));
        // Ids are compared as they are: a glob pattern matches nothing but
        // itself, a colon is no separator.
        let odd = [
            "g*", "g?", "g[ab]", "ga", "g:x", "g", "x:g", "g\\*", "g x\n",
        ];
        for o in odd {
            assert_eq!(store.consume(&[id(o)]), Ok(Consumed::Recorded), "{o:?}");
        }
        let all: Vec<TokenUse<'_>> = odd.iter().map(|o| id(o)).collect();
        assert_eq!(
            store.consume(&all),
            Ok(Consumed::Replayed((0..odd.len()).collect()))
        );
    }

    /// Each of `stores` (one thread each) consumes, at the same moment, a
    /// batch holding the round's id `a` (and `b`, and one of its own): in
    /// every round exactly one batch is recorded.
    pub(super) fn racers_record_once(stores: &[&dyn ReplayStore], rounds: usize) {
        for round in 0..rounds {
            let barrier = std::sync::Barrier::new(stores.len());
            let results: Vec<Consumed> = std::thread::scope(|s| {
                let racers: Vec<_> = stores
                    .iter()
                    .enumerate()
                    .map(|(t, store)| {
                        let barrier = &barrier;
                        s.spawn(move || {
                            let a = format!("r{round}-a");
                            let b = format!("r{round}-b");
                            let own = format!("r{round}-own{t}");
                            let batch = if t % 2 == 0 {
                                vec![id(&own), id(&a)]
                            } else {
                                vec![id(&b), id(&own), id(&a)]
                            };
                            barrier.wait();
                            store.consume(&batch).unwrap()
                        })
                    })
                    .collect();
                racers.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let recorded = results.iter().filter(|r| **r == Consumed::Recorded).count();
            assert_eq!(recorded, 1, "round {round}: {results:?}");
        }
    }

    #[test]
    fn default_path_order() {
        let p = |pairs| default_path_from(env(pairs));
        assert_eq!(
            p(&[
                ("GAIT_STATE_DIR", "/s"),
                ("XDG_STATE_HOME", "/x"),
                ("HOME", "/h")
            ]),
            Ok(PathBuf::from("/s/approvals.db"))
        );
        assert_eq!(
            p(&[("XDG_STATE_HOME", "/x"), ("HOME", "/h")]),
            Ok(PathBuf::from("/x/gait/approvals.db"))
        );
        // Empty counts as unset; a relative XDG_STATE_HOME is ignored.
        assert_eq!(
            p(&[
                ("GAIT_STATE_DIR", ""),
                ("XDG_STATE_HOME", "rel"),
                ("HOME", "/h")
            ]),
            Ok(PathBuf::from("/h/.local/state/gait/approvals.db"))
        );
        let err = p(&[("HOME", "")]).unwrap_err();
        assert!(err.0.contains("--approval-store"), "{err}");
    }

    #[test]
    fn default_path_reads_the_environment() {
        // With HOME set (as in any test run) there is always an answer, and
        // it ends in the file name (an error fails the test, not skips it).
        let got = default_path();
        let home_set = std::env::var_os("HOME").is_some_and(|h| !h.is_empty());
        if home_set {
            assert!(got.unwrap().ends_with(DEFAULT_FILE_NAME));
        }
    }

    #[test]
    fn specs() {
        assert_eq!(classify("redis://127.0.0.1:6379"), Ok(Spec::Redis));
        assert_eq!(classify("REDIS://h:1/2"), Ok(Spec::Redis));
        assert_eq!(
            classify("/var/lib/gait/a.db"),
            Ok(Spec::File(PathBuf::from("/var/lib/gait/a.db")))
        );
        assert_eq!(
            classify("rel/a.db"),
            Ok(Spec::File(PathBuf::from("rel/a.db")))
        );
        // A path that holds "://" but starts with no scheme is a path.
        assert_eq!(
            classify("./redis://x"),
            Ok(Spec::File(PathBuf::from("./redis://x")))
        );
        for (bad, says) in [
            ("", "empty"),
            ("  ", "empty"),
            ("rediss://h:1", "TLS"),
            ("unix:///run/redis.sock", "'unix://'"),
            ("http://h/", "'http://'"),
            ("file:///tmp/a.db", "'file://'"),
            ("file:/tmp/a.db", "without 'file:'"),
            (" redis://h:1", "white space"),
            ("redis://h:1\n", "white space"),
            ("/var/lib/gait/a.db ", "white space"),
        ] {
            let err = classify(bad).unwrap_err();
            assert!(err.0.contains(says), "{bad}: {err}");
        }
        assert!(open("").is_err());
        assert!(open("memcached://h:1").is_err());
    }

    #[test]
    fn duplicates_and_expiry() {
        let ids = [
            TokenUse {
                token_id: "a",
                not_after: 10,
            },
            TokenUse {
                token_id: "b",
                not_after: 10,
            },
            TokenUse {
                token_id: "a",
                not_after: 10,
            },
        ];
        assert_eq!(duplicates(&ids), vec![2]);
        assert_eq!(duplicates(&ids[..2]), Vec::<usize>::new());
        assert_eq!(expires_at(&ids[0], 100), 100 + RETENTION_MARGIN_SECS);
        assert_eq!(expires_at(&ids[0], 5), 10 + RETENTION_MARGIN_SECS);
        let far = TokenUse {
            token_id: "c",
            not_after: i64::MAX,
        };
        assert_eq!(expires_at(&far, 0), 253_402_300_799);
    }
}
