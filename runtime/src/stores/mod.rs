//! Replay stores for approval tokens.
// PLACEHOLDER: replaced by the store implementation branch (file store on
// an embedded database, Redis). Only the two functions below, with their
// fixed signatures, over a process-local memory map: single use holds
// within one process only.

use gait_run::approval::{Consumed, ReplayStore, StoreError, TokenUse};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

struct Memory {
    spec: String,
    used: Mutex<HashMap<String, i64>>,
}

impl ReplayStore for Memory {
    fn consume(&self, ids: &[TokenUse<'_>]) -> Result<Consumed, StoreError> {
        let mut used = self
            .used
            .lock()
            .map_err(|_| StoreError("the store's lock is poisoned".into()))?;
        let replayed: Vec<usize> = ids
            .iter()
            .enumerate()
            .filter(|(_, u)| used.contains_key(u.token_id))
            .map(|(i, _)| i)
            .collect();
        if !replayed.is_empty() {
            return Ok(Consumed::Replayed(replayed));
        }
        for u in ids {
            used.insert(u.token_id.to_owned(), u.not_after);
        }
        Ok(Consumed::Recorded)
    }

    fn describe(&self) -> String {
        format!("memory:{}", self.spec)
    }
}

/// Opens the replay store `spec` names: a file path or `redis://HOST:PORT`.
pub fn open(spec: &str) -> Result<Box<dyn ReplayStore>, StoreError> {
    if spec.is_empty() {
        return Err(StoreError("the approval store is empty".into()));
    }
    Ok(Box::new(Memory {
        spec: spec.to_owned(),
        used: Mutex::new(HashMap::new()),
    }))
}

/// The default store's path: a file in the user's state directory.
pub fn default_path() -> Result<PathBuf, StoreError> {
    let home = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })
        .ok_or_else(|| StoreError("neither XDG_STATE_HOME nor HOME is set".into()))?;
    Ok(home.join("gait").join("approvals.db"))
}
