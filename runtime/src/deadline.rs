//! The per-decision deadline (`decision_timeout`).
//!
//! A decision runs under an optional deadline set by the caller with
//! [`run_with`]; long-running steps (command analysis, above all) call
//! [`check`] at bounded intervals and give up with [`Exceeded`] once it has
//! passed. The deadline lives in a thread-local so that the steps deep inside
//! normalization need no extra parameter; a decision never spans threads.
//! Whoever set the deadline turns an abandoned decision into `block` with
//! reason `decision_timeout` ([`expired`] tells it that this happened, whatever
//! error the abandoned step reported on its way out).

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The deadline has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded;

/// Runs `f` with a deadline of `limit` from now (none with `None`); the
/// previous deadline of this thread is restored afterwards, panics included.
pub fn run_with<R>(limit: Option<Duration>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DEADLINE.with(|d| d.set(self.0));
        }
    }
    let at = limit.and_then(|l| Instant::now().checked_add(l));
    let _restore = Restore(DEADLINE.with(|d| d.replace(at)));
    f()
}

/// `Err(Exceeded)` once the current deadline has passed; `Ok` when there is
/// none. Costs one clock read when a deadline is set.
pub fn check() -> Result<(), Exceeded> {
    if expired() {
        Err(Exceeded)
    } else {
        Ok(())
    }
}

/// Whether the current deadline has passed.
pub fn expired() -> bool {
    DEADLINE.with(|d| d.get().is_some_and(|at| Instant::now() >= at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_deadline_never_expires() {
        assert_eq!(check(), Ok(()));
        run_with(None, || assert_eq!(check(), Ok(())));
    }

    #[test]
    fn a_zero_deadline_has_passed_and_is_restored_after() {
        run_with(Some(Duration::ZERO), || {
            assert_eq!(check(), Err(Exceeded));
            // Nested: the inner deadline applies inside, the outer after.
            run_with(Some(Duration::from_secs(3600)), || {
                assert_eq!(check(), Ok(()))
            });
            assert!(expired());
        });
        assert_eq!(check(), Ok(()));
    }

    #[test]
    fn the_deadline_is_restored_after_a_panic() {
        let r = std::panic::catch_unwind(|| {
            run_with(Some(Duration::ZERO), || panic!("inside"));
        });
        assert!(r.is_err());
        assert!(!expired());
    }
}
