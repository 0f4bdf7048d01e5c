//! Approvals (issue 18): signed approval tokens, bound to one intent and one
//! policy, single use, that turn a `require_approval` decision into `allow`
//! (reason `approval_granted`). A `block` is never turned by a token.
//!
//! The library checks tokens (pure: parsing, signatures, bindings, times);
//! single use is a [`ReplayStore`] the caller supplies (the binary's file
//! and Redis stores). Interface fixed here, used by the gate
//! ([`crate::gate::EvalOptions::approvals`]), `gait-run approve`, `eval`,
//! `serve` and `mcp-proxy`.

pub mod check;
pub mod token;

/// Schema id of an approval token.
pub const TOKEN_SCHEMA_ID: &str = "gait.approval_token";

/// What a decision may use to turn `require_approval` into `allow`.
#[derive(Clone, Copy, Default)]
pub struct Approvals<'a> {
    /// Each token's bytes (a token file's JSON text), as given (borrowed:
    /// the sidecar lends slices of the request body).
    pub tokens: &'a [&'a [u8]],
    /// Where granted token ids are consumed. `None` while tokens are given:
    /// nothing can be granted (`approval_store_unavailable`).
    pub store: Option<&'a dyn ReplayStore>,
    /// An approval given interactively by this approver (the MCP proxy's
    /// elicitation: `interactive:<client name>`), honoured only when every
    /// contributing rule allows interactive approval. Never from a request.
    pub interactive: Option<&'a str>,
    /// The time tokens are judged at (unix seconds); `None`: the clock.
    pub now: Option<i64>,
}

impl std::fmt::Debug for Approvals<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals")
            .field("tokens", &self.tokens.len())
            .field("store", &self.store.map(|s| s.describe()))
            .field("interactive", &self.interactive)
            .field("now", &self.now)
            .finish()
    }
}

/// One token id to consume, valid until `not_after` (unix seconds): the
/// store may forget it after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenUse<'a> {
    pub token_id: &'a str,
    pub not_after: i64,
}

/// What a store did with a set of token ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// None had been used: all are recorded now.
    Recorded,
    /// These (indices into the ids given) had been used before; nothing was
    /// recorded.
    Replayed(Vec<usize>),
}

/// The store cannot answer (unreachable, erroring, corrupt): the decision
/// answers `approval_store_unavailable`, never `allow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// The replay store: single use of token ids, across threads and processes
/// (and hosts, for a shared store).
pub trait ReplayStore: Send + Sync {
    /// Atomically: when none of `ids` has been used, records them all (each
    /// until its `not_after`) and answers [`Consumed::Recorded`]; otherwise
    /// records none and answers which were used. All or nothing, so that two
    /// gates given the same tokens at once grant exactly one decision.
    fn consume(&self, ids: &[TokenUse<'_>]) -> Result<Consumed, StoreError>;

    /// What the store is, for logs (`file:/path`, `redis://host:port`),
    /// without credentials.
    fn describe(&self) -> String;
}

#[cfg(test)]
mod tests;
