//! Byte offsets (the compiler's spans) ⇄ LSP positions (line, UTF-16 code unit).
//!
//! Lines end at `\n`, `\r\n` or a lone `\r`, as the LSP specification says.
//! Converting an offset costs a binary search over the line starts, plus one
//! over the line's non-ASCII characters (ASCII lines need none), so
//! publishing thousands of diagnostics on one long line stays linear.

use crate::span::Span;
use lsp_types::{Position, Range};

/// One non-ASCII character of a line: its byte offset in the text, and how
/// many more UTF-8 bytes than UTF-16 units the line has up to and including it.
#[derive(Debug, Clone, Copy)]
struct Wide {
    offset: usize,
    extra: usize,
}

/// Line starts and ends of one text, for converting offsets and positions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset where each line starts.
    starts: Vec<usize>,
    /// Byte offset where each line's content ends (before its line end).
    ends: Vec<usize>,
    /// Per line, the range of `wide` holding its non-ASCII characters.
    wide_of_line: Vec<(usize, usize)>,
    wide: Vec<Wide>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut idx = LineIndex {
            starts: vec![0],
            ends: Vec::new(),
            wide_of_line: Vec::new(),
            wide: Vec::new(),
            len: text.len(),
        };
        let bytes = text.as_bytes();
        let mut line_wide_start = 0;
        let mut extra = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' | b'\r' => {
                    let end = i;
                    i += if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    idx.ends.push(end);
                    idx.wide_of_line.push((line_wide_start, idx.wide.len()));
                    idx.starts.push(i);
                    line_wide_start = idx.wide.len();
                    extra = 0;
                }
                b if b.is_ascii() => i += 1,
                _ => {
                    let c = text.get(i..).and_then(|s| s.chars().next());
                    let (utf8, utf16) = c.map_or((1, 1), |c| (c.len_utf8(), c.len_utf16()));
                    extra += utf8 - utf16;
                    idx.wide.push(Wide { offset: i, extra });
                    i += utf8;
                }
            }
        }
        idx.ends.push(bytes.len());
        idx.wide_of_line.push((line_wide_start, idx.wide.len()));
        idx
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// The position of a byte offset (clamped to the text, floored to a
    /// character boundary; an offset inside a line end is the end of the line).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(self.len).min(text.len());
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let offset = offset.min(self.ends.get(line).copied().unwrap_or(offset));
        let (a, b) = self.wide_of_line.get(line).copied().unwrap_or((0, 0));
        let wide = self.wide.get(a..b).unwrap_or(&[]);
        let before = wide.partition_point(|w| w.offset < offset);
        let extra = before.checked_sub(1).map_or(0, |k| wide[k].extra);
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            character: u32::try_from(offset - start - extra).unwrap_or(u32::MAX),
        }
    }

    /// The range of a span.
    pub fn range(&self, text: &str, span: Span) -> Range {
        Range {
            start: self.position(text, span.start()),
            end: self.position(text, span.end().max(span.start())),
        }
    }

    /// The byte offset of a position. A line past the end gives the end of the
    /// text; a character past the end of its line gives the end of the line
    /// (before its line end); a position inside a surrogate pair gives the
    /// start of that character.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let line = pos.line as usize;
        let (Some(&start), Some(&end)) = (self.starts.get(line), self.ends.get(line)) else {
            return text.len();
        };
        let want = pos.character as usize;
        let (a, b) = self.wide_of_line.get(line).copied().unwrap_or((0, 0));
        let wide = self.wide.get(a..b).unwrap_or(&[]);
        // Walk the line's non-ASCII characters only: between two of them,
        // bytes and units advance together.
        let mut extra_before = 0;
        for w in wide {
            // The UTF-16 column where this character starts.
            let unit = w.offset - start - extra_before;
            if want <= unit {
                break;
            }
            let c_units = text
                .get(w.offset..)
                .and_then(|s| s.chars().next())
                .map_or(1, char::len_utf16);
            if want < unit + c_units {
                return w.offset;
            }
            extra_before = w.extra;
        }
        (start + want + extra_before).min(end)
    }

    /// The range covering the whole text.
    pub fn full_range(&self, text: &str) -> Range {
        self.range(text, Span::new(0, text.len()))
    }

    /// The number of UTF-16 units of each line's content (for tests).
    pub fn line_lengths(&self, text: &str) -> Vec<u32> {
        (0..self.ends.len())
            .map(|l| self.position(text, self.ends[l]).character)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_count_surrogate_pairs_and_multibyte_characters() {
        // `é` is 2 bytes / 1 UTF-16 unit; `𝔸` is 4 bytes / 2 units.
        let text = "ab\né𝔸x\n";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap_or(0);
        assert_eq!(idx.position(text, x), Position::new(1, 3));
        assert_eq!(idx.offset(text, Position::new(1, 3)), x);
        assert_eq!(idx.offset(text, Position::new(1, 1)), 5);
        // Inside the surrogate pair: the start of `𝔸`.
        assert_eq!(idx.offset(text, Position::new(1, 2)), 5);
        assert_eq!(idx.offset(text, Position::new(0, 99)), 2);
        assert_eq!(idx.offset(text, Position::new(9, 0)), text.len());
        assert_eq!(idx.position(text, text.len()), Position::new(2, 0));
        // Inside a multi-byte character: floored to its start.
        assert_eq!(idx.position(text, 4), Position::new(1, 0));
    }

    #[test]
    fn every_line_end_of_the_specification_ends_a_line() {
        // `\r\n`, lone `\r` and `\n`; a line end is never a column.
        let text = "a\r\nbc\rdé\nf";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_lengths(text), vec![1, 2, 2, 1]);
        assert_eq!(idx.position(text, 1), Position::new(0, 1), "before \\r");
        assert_eq!(
            idx.position(text, 2),
            Position::new(0, 1),
            "between \\r and \\n"
        );
        assert_eq!(idx.position(text, 3), Position::new(1, 0));
        assert_eq!(
            idx.position(text, 6),
            Position::new(2, 0),
            "after a lone \\r"
        );
        assert_eq!(idx.offset(text, Position::new(0, 5)), 1);
        assert_eq!(idx.offset(text, Position::new(1, 9)), 5);
        assert_eq!(idx.offset(text, Position::new(2, 2)), 9);
        assert_eq!(idx.offset(text, Position::new(3, 0)), 10);
    }

    #[test]
    fn positions_and_offsets_round_trip_on_every_character_boundary() {
        let text = "x = \"é𝔸\"\r\n\r\n  ü\rlast 𝔸𝔸 line\n";
        let idx = LineIndex::new(text);
        for (i, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let p = idx.position(text, i);
            let back = idx.offset(text, p);
            let at_line_end = matches!(text.as_bytes().get(i), Some(b'\r' | b'\n'));
            if !at_line_end || text.as_bytes().get(i.wrapping_sub(1)) != Some(&b'\r') {
                assert_eq!(back, i, "offset {i} → {p:?} → {back}");
            }
        }
    }

    #[test]
    fn a_long_line_of_many_characters_converts_every_offset() {
        // One line with 20,000 wide characters: every conversion is a
        // binary search, so this is instant (it was quadratic).
        let text: String = "é".repeat(20_000);
        let idx = LineIndex::new(&text);
        let last = text.len() - 2;
        assert_eq!(idx.position(&text, last), Position::new(0, 19_999));
        assert_eq!(idx.offset(&text, Position::new(0, 19_999)), last);
    }
}
