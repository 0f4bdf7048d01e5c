//! Locations: which source file ([`FileId`]) and which byte range in it
//! ([`Span`]). The bottom of the crate: syntax, diagnostics, sources and every
//! phase above them use these, and this module uses nothing of the crate.
//!
//! Spans are location metadata, not part of a node's value: `Span`'s equality
//! is always true, so `==` on syntax trees compares structure and text only.

use std::fmt;

/// Identifies a source file in a [`crate::source::SourceMap`].
pub type FileId = usize;

/// A byte range `[start, end)` in one source file.
#[derive(Clone, Copy, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        // Sources are capped far below 4 GiB by the loader; saturate defensively.
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }
    pub fn start(self) -> usize {
        self.start as usize
    }
    pub fn end(self) -> usize {
        self.end as usize
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    /// The same span (structural equality ignores spans, this does not).
    pub fn same(self, other: Span) -> bool {
        self.start == other.start && self.end == other.end
    }
    /// An empty span at the start.
    pub fn head(self) -> Span {
        Span {
            start: self.start,
            end: self.start,
        }
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}
impl Eq for Span {}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}
