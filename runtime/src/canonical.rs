//! The buffers normalization reuses from one decision to the next: the
//! canonical texts of an intent's targets and provenance, the whole
//! canonical text, and the mapping lookup's ids. They live in the gate's
//! [`crate::tables::Scratch`] (one reuse mechanism with the intent arena
//! and the tables' own buffers); normalization borrows them for its
//! duration and nothing it returns borrows from them.

/// Buffers past this (a large intent grew them) are dropped after use, not
/// kept for the next decision.
const KEEP_BYTES: usize = 64 * 1024;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct NormalizeBuffers {
    pub(crate) targets: Texts,
    pub(crate) provenance: Texts,
    /// The intent's canonical text, hashed into its digest.
    pub(crate) text: Vec<u8>,
    /// The tool mappings that apply to the intent's tool.
    pub(crate) mapping_ids: Vec<u32>,
    /// Where each target's value lies in the intent's text (the
    /// normalizer's `Memo`).
    pub(crate) spans: Vec<(usize, usize)>,
}

impl NormalizeBuffers {
    /// Bytes the buffers hold, used or not.
    pub fn capacity(&self) -> usize {
        self.text.capacity()
            + self.mapping_ids.capacity() * 4
            + self.spans.capacity() * 16
            + [&self.targets, &self.provenance]
                .iter()
                .map(|t| t.bytes.capacity() + t.items.capacity() * 16)
                .sum::<usize>()
    }

    /// Drops the buffers if a large intent grew them past 64 KiB.
    pub fn trim(&mut self) {
        if self.capacity() > KEEP_BYTES {
            *self = NormalizeBuffers::default();
        }
    }
}

/// Canonical item texts, one after another in one buffer.
#[derive(Debug, Default)]
pub(crate) struct Texts {
    bytes: Vec<u8>,
    /// Each item's `start..end` in `bytes`.
    items: Vec<(usize, usize)>,
}

impl Texts {
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.items.clear();
    }

    /// Appends the item `write` writes.
    pub(crate) fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        self.items.push((start, self.bytes.len()));
    }

    fn item(&self, (start, end): (usize, usize)) -> &[u8] {
        self.bytes.get(start..end).unwrap_or_default()
    }

    /// Items in byte order, each once.
    pub(crate) fn sort_dedup(&mut self) {
        let mut items = std::mem::take(&mut self.items);
        items.sort_unstable_by(|a, b| self.item(*a).cmp(self.item(*b)));
        items.dedup_by(|a, b| self.item(*a) == self.item(*b));
        self.items = items;
    }

    /// Appends `[a,b,…]`.
    pub(crate) fn write_joined(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, &item) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(self.item(item));
        }
        out.push(b']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_a_large_intent_grew_are_dropped_small_ones_kept() {
        let mut b = NormalizeBuffers::default();
        b.text.reserve(1024);
        b.targets
            .push_with(|j| j.extend_from_slice(b"{\"kind\":\"path\"}"));
        b.trim();
        assert!(b.text.capacity() >= 1024, "a small buffer is kept");
        b.provenance.push_with(|j| j.resize(KEEP_BYTES + 1, b' '));
        assert!(b.capacity() > KEEP_BYTES);
        b.trim();
        assert_eq!(b.capacity(), 0, "a large one is dropped");
    }

    #[test]
    fn texts_sort_and_join_their_items() {
        let mut t = Texts::default();
        for item in ["\"b\"", "\"a\"", "\"b\""] {
            t.push_with(|j| j.extend_from_slice(item.as_bytes()));
        }
        t.sort_dedup();
        let mut out = Vec::new();
        t.write_joined(&mut out);
        assert_eq!(out, b"[\"a\",\"b\"]");
        t.clear();
        out.clear();
        t.write_joined(&mut out);
        assert_eq!(out, b"[]");
    }
}
