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
    /// Appends a string and returns its id (the number of strings before
    /// it). A table's blob is addressed with 32-bit offsets: a string that
    /// would end past 4 GiB is refused, and the table is left unchanged.
    pub fn push(&mut self, s: impl AsRef<str>) -> Result<u32, TableError> {
        let s = s.as_ref();
        let end = self
            .blob
            .len()
            .checked_add(s.len())
            .and_then(|end| u32::try_from(end).ok())
            .ok_or_else(|| bad("the string table would exceed 4 GiB"))?;
        let id = u32::try_from(self.ends.len())
            .map_err(|_| bad("the string table would exceed 2^32 strings"))?;
        self.blob.push_str(s);
        self.ends.push(end);
        Ok(id)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Where the string with id `i` lies in the blob.
    fn span(&self, i: usize) -> Option<std::ops::Range<usize>> {
        let end = *self.ends.get(i)? as usize;
        let start = match i.checked_sub(1) {
            Some(p) => *self.ends.get(p)? as usize,
            None => 0,
        };
        Some(start..end)
    }

    /// The length in bytes of the string with id `i` (without reading it).
    pub fn len_of(&self, i: usize) -> Option<usize> {
        self.span(i).map(|r| r.len())
    }

    /// The string with id `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.blob.get(self.span(i)?)
    }

    /// Every string, in id order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or(""))
    }

    /// The section's bytes: each string's length in bytes, packed
    /// ([`super::format::pack`]: most fit one byte), then the blob.
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut start = 0;
        let lens: Vec<u32> = self
            .ends
            .iter()
            .map(|&end| {
                let len = end - start;
                start = end;
                len
            })
            .collect();
        let mut out = super::format::pack(&lens, 1);
        out.extend_from_slice(self.blob.as_bytes());
        out
    }

    /// Reads a section written by [`Strings::encode`]: the lengths must add
    /// up to the blob's length and every string end on a character
    /// boundary, and the blob must be UTF-8, so every string is.
    pub(super) fn decode(body: &[u8]) -> Result<Strings, TableError> {
        let (mut ends, blob) = super::format::unpack_prefix(body)?;
        let blob = std::str::from_utf8(blob).map_err(|_| bad("string table is not UTF-8"))?;
        let mut end = 0u32;
        for e in &mut ends {
            end = end
                .checked_add(*e)
                .filter(|&x| blob.is_char_boundary(x as usize))
                .ok_or_else(|| bad("string length out of range"))?;
            *e = end;
        }
        if end as usize != blob.len() {
            return Err(bad("string table has bytes after its last string"));
        }
        Ok(Strings {
            blob: blob.to_owned(),
            ends,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_by_id() {
        let mut t = Strings::default();
        for (i, s) in ["", "tool", "é/ü", "", "last"].into_iter().enumerate() {
            assert_eq!(t.push(s).unwrap() as usize, i, "ids are push order");
        }
        let back = Strings::decode(&t.encode()).unwrap();
        assert_eq!(back, t);
        assert_eq!(
            back.iter().collect::<Vec<_>>(),
            ["", "tool", "é/ü", "", "last"]
        );
        assert_eq!(back.get(2), Some("é/ü"));
        assert_eq!(back.get(5), None);
        // Lengths in bytes, read without the strings.
        let lens: Vec<Option<usize>> = (0..6).map(|i| back.len_of(i)).collect();
        assert_eq!(lens, [Some(0), Some(4), Some(5), Some(0), Some(4), None]);
        let empty = Strings::decode(&Strings::default().encode()).unwrap();
        assert!(empty.is_empty());
    }

    /// A section with the lengths (packed) and the blob as given.
    fn section(lens: &[u32], blob: &[u8]) -> Vec<u8> {
        let mut out = super::super::format::pack(lens, 1);
        out.extend_from_slice(blob);
        out
    }

    #[test]
    fn hostile_string_tables_are_refused() {
        let cases: [(&str, Vec<u8>); 6] = [
            ("empty", Vec::new()),
            (
                "count past the end",
                [&u32::MAX.to_le_bytes()[..], &[1, 1]].concat(),
            ),
            ("past the blob", section(&[3], b"ab")),
            ("short of the blob", section(&[1], b"ab")),
            ("lengths overflow", section(&[0xffff_fff0, 0x20], b"ab")),
            // "é" is two bytes: a length of 1 splits it.
            ("inside a character", section(&[1, 1], "é".as_bytes())),
        ];
        for (what, body) in cases {
            assert!(Strings::decode(&body).is_err(), "{what}");
        }
        assert!(Strings::decode(&section(&[2], b"\xff\xfe")).is_err());
        assert_eq!(
            Strings::decode(&section(&[2, 0], "é".as_bytes()))
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            ["é", ""]
        );
    }
}
