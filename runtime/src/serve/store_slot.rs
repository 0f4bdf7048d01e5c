//! The sidecar's replay store slot: `--approval-store`, opened at start,
//! or the default store, opened at the first request that carries tokens
//! and retried at later ones after a failure.

use super::log::Logger;
use gait_run::approval::{ReplayStore, StoreError};
use serde_json::json;
use std::sync::Arc;

/// The replay store, shared by every request: `--approval-store`, opened
/// at start; or the default store, opened at the first request that
/// carries tokens and, when that fails, again at a later one (one attempt
/// at a time: a request that finds an attempt in flight does not wait for
/// it). A request without a store answers `approval_store_unavailable`
/// with the reason, never `allow`.
pub(super) struct StoreSlot {
    /// The store, once opened.
    pub(super) store: std::sync::OnceLock<Arc<dyn ReplayStore>>,
    /// Held by the attempt to open the default store in flight; holds the
    /// last failure logged (each distinct failure is logged once).
    opening: std::sync::Mutex<Option<String>>,
    /// Opens the default store ([`crate::stores::open_default`]).
    open: fn() -> Result<Box<dyn ReplayStore>, StoreError>,
}

impl StoreSlot {
    pub(super) fn new() -> StoreSlot {
        StoreSlot {
            store: std::sync::OnceLock::new(),
            opening: std::sync::Mutex::new(None),
            open: crate::stores::open_default,
        }
    }

    pub(super) fn get(&self, log: &Logger) -> Result<&dyn ReplayStore, StoreError> {
        if let Some(s) = self.store.get() {
            return Ok(&**s);
        }
        let mut last = match self.opening.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                return Err(StoreError(
                    "approval store: the default store is being opened (by another request)"
                        .to_string(),
                ))
            }
        };
        // Opened by the attempt that held the lock just before.
        if let Some(s) = self.store.get() {
            return Ok(&**s);
        }
        match (self.open)() {
            Ok(s) => {
                if last.take().is_some() {
                    log.event("approval_store", super::fields(json!({"result": "opened"})));
                }
                Ok(&**self.store.get_or_init(|| Arc::from(s)))
            }
            Err(e) => {
                if last.as_deref() != Some(e.0.as_str()) {
                    log.event(
                        "approval_store",
                        super::fields(json!({"result": "failure", "error": e.to_string()})),
                    );
                    *last = Some(e.0.clone());
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on broken fixtures"
)]
mod tests {
    use super::*;
    use gait_run::approval::{Consumed, TokenUse};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    struct Fine;
    impl ReplayStore for Fine {
        fn consume(&self, _: &[TokenUse<'_>]) -> Result<Consumed, StoreError> {
            Ok(Consumed::Recorded)
        }
        fn describe(&self) -> String {
            "fine".into()
        }
    }

    fn slot(open: fn() -> Result<Box<dyn ReplayStore>, StoreError>) -> StoreSlot {
        StoreSlot {
            open,
            ..StoreSlot::new()
        }
    }

    static FLAKY_CALLS: AtomicUsize = AtomicUsize::new(0);
    static FLAKY_UP: AtomicBool = AtomicBool::new(false);

    fn flaky() -> Result<Box<dyn ReplayStore>, StoreError> {
        FLAKY_CALLS.fetch_add(1, Ordering::SeqCst);
        if FLAKY_UP.load(Ordering::SeqCst) {
            Ok(Box::new(Fine))
        } else {
            Err(StoreError(
                "approval store: cannot create /x: denied".into(),
            ))
        }
    }

    #[test]
    fn a_failed_opening_is_tried_again_later_and_kept_once_opened() {
        let log = Logger::open(None).unwrap();
        let s = slot(flaky);
        for n in 1..=2 {
            let err = s.get(&log).err().unwrap();
            assert_eq!(err.0, "approval store: cannot create /x: denied");
            assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), n);
        }
        FLAKY_UP.store(true, Ordering::SeqCst);
        assert_eq!(s.get(&log).unwrap().describe(), "fine");
        // Opened: kept, never opened again.
        assert_eq!(s.get(&log).unwrap().describe(), "fine");
        assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 3);
    }

    static SLOW_CALLS: AtomicUsize = AtomicUsize::new(0);
    static SLOW_RELEASE: AtomicBool = AtomicBool::new(false);

    /// Fails, after the test lets it go on.
    fn slow() -> Result<Box<dyn ReplayStore>, StoreError> {
        SLOW_CALLS.fetch_add(1, Ordering::SeqCst);
        while !SLOW_RELEASE.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(StoreError("approval store: slow and failing".into()))
    }

    #[test]
    fn one_attempt_at_a_time_and_no_request_waits_for_it() {
        let log = Logger::open(None).unwrap();
        let s = slot(slow);
        std::thread::scope(|scope| {
            let first = scope.spawn(|| s.get(&log).err().unwrap());
            while SLOW_CALLS.load(Ordering::SeqCst) == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
            // An attempt is in flight: the others answer at once, unavailable.
            for _ in 0..3 {
                let err = s.get(&log).err().unwrap();
                assert!(err.0.contains("being opened"), "{err}");
            }
            assert_eq!(SLOW_CALLS.load(Ordering::SeqCst), 1);
            SLOW_RELEASE.store(true, Ordering::SeqCst);
            assert_eq!(first.join().unwrap().0, "approval store: slow and failing");
        });
        // The attempt is over: the next request tries again.
        assert!(s.get(&log).is_err());
        assert_eq!(SLOW_CALLS.load(Ordering::SeqCst), 2);
    }
}
