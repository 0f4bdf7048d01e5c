//! The string table: every string of a payload in one UTF-8 blob, addressed
//! by id. Decoding is one copy of the blob and one UTF-8 check, not one
//! allocation per string (a 10,000-rule bundle holds some 40,000 strings).

use super::{bad, TableError};

/// Strings by id (the order they were pushed in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Strings {
    /// Every string, one after the other.
    blob: String,
    /// Where each string ends in `blob` (non-decreasing; a string starts
    /// where the one before it ends, the first at 0).
    ends: Vec<u32>,
}

impl Strings {
    /// Appends a string; its id is the number of strings before it.
    pub fn push(&mut self, s: impl AsRef<str>) {
        self.blob.push_str(s.as_ref());
        self.ends.push(self.blob.len() as u32);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The string with id `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i.checked_sub(1) {
            Some(p) => *self.ends.get(p)? as usize,
            None => 0,
        };
        self.blob.get(start..end)
    }

    /// Every string, in id order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or(""))
    }

    /// The section's bytes: `u32` count, `count + 1` `u32` offsets (the
    /// first 0), the blob.
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 * (self.ends.len() + 2) + self.blob.len());
        out.extend_from_slice(&(self.ends.len() as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for e in &self.ends {
            out.extend_from_slice(&e.to_le_bytes());
        }
        out.extend_from_slice(self.blob.as_bytes());
        out
    }

    /// Reads a section written by [`Strings::encode`]: the offsets must
    /// start at 0, never decrease, end at the blob's end and fall on
    /// character boundaries, and the blob must be UTF-8, so every string is.
    pub(super) fn decode(body: &[u8]) -> Result<Strings, TableError> {
        let word = |i: usize| -> Result<u32, TableError> {
            let b = i
                .checked_mul(4)
                .and_then(|at| body.get(at..at.checked_add(4)?))
                .ok_or_else(|| bad("truncated string table"))?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let count = word(0)? as usize;
        let blob_start = count
            .checked_add(2)
            .and_then(|n| n.checked_mul(4))
            .filter(|&n| n <= body.len())
            .ok_or_else(|| bad("truncated string table"))?;
        let blob = std::str::from_utf8(&body[blob_start..])
            .map_err(|_| bad("string table is not UTF-8"))?;
        if word(1)? != 0 {
            return Err(bad("string table does not start at 0"));
        }
        let mut ends = Vec::with_capacity(count);
        let mut previous = 0;
        for i in 0..count {
            let end = word(2 + i)?;
            if end < previous || !blob.is_char_boundary(end as usize) {
                return Err(bad("string offset out of range"));
            }
            ends.push(end);
            previous = end;
        }
        if previous as usize != blob.len() {
            return Err(bad("string table has bytes after its last string"));
        }
        Ok(Strings {
            blob: blob.to_owned(),
            ends,
        })
    }
}

impl<S: AsRef<str>> FromIterator<S> for Strings {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Strings {
        let mut t = Strings::default();
        for s in iter {
            t.push(s);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_by_id() {
        let t: Strings = ["", "tool", "é/ü", "", "last"].into_iter().collect();
        let back = Strings::decode(&t.encode()).unwrap();
        assert_eq!(back, t);
        assert_eq!(
            back.iter().collect::<Vec<_>>(),
            ["", "tool", "é/ü", "", "last"]
        );
        assert_eq!(back.get(2), Some("é/ü"));
        assert_eq!(back.get(5), None);
        let empty = Strings::decode(&Strings::default().encode()).unwrap();
        assert!(empty.is_empty());
    }

    /// A section with `count`, the offsets and the blob as given.
    fn section(offsets: &[u32], blob: &[u8]) -> Vec<u8> {
        let mut out = ((offsets.len() - 1) as u32).to_le_bytes().to_vec();
        for o in offsets {
            out.extend_from_slice(&o.to_le_bytes());
        }
        out.extend_from_slice(blob);
        out
    }

    #[test]
    fn hostile_string_tables_are_refused() {
        let cases: [(&str, Vec<u8>); 7] = [
            ("empty", Vec::new()),
            ("count past the end", u32::MAX.to_le_bytes().to_vec()),
            ("first offset not 0", section(&[1, 2], b"ab")),
            ("decreasing", section(&[0, 2, 1, 2], b"ab")),
            ("past the blob", section(&[0, 3], b"ab")),
            ("short of the blob", section(&[0, 1], b"ab")),
            // "é" is two bytes: an offset of 1 splits it.
            ("inside a character", section(&[0, 1, 2], "é".as_bytes())),
        ];
        for (what, body) in cases {
            assert!(Strings::decode(&body).is_err(), "{what}");
        }
        assert!(Strings::decode(&section(&[0, 2], b"\xff\xfe")).is_err());
        assert_eq!(
            Strings::decode(&section(&[0, 2, 2], "é".as_bytes()))
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            ["é", ""]
        );
    }
}
