//! Byte offsets (the compiler's spans) ⇄ LSP positions (line, UTF-16 code unit).

use crate::syntax::ast::Span;
use lsp_types::{Position, Range};

/// Line starts of one text, for converting offsets and positions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// The position of a byte offset (clamped to the text, floored to a character boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(self.len).min(text.len());
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let character: usize = text
            .get(start..offset)
            .map(|s| s.chars().map(char::len_utf16).sum())
            .unwrap_or(0);
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            character: u32::try_from(character).unwrap_or(u32::MAX),
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
    /// text; a character past the end of its line gives the end of the line;
    /// a position inside a surrogate pair gives the start of that character.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return text.len();
        };
        let line_end = self
            .starts
            .get(pos.line as usize + 1)
            .map(|&next| next - 1)
            .unwrap_or(text.len());
        let line = text.get(start..line_end).unwrap_or("");
        let mut units = 0usize;
        for (i, c) in line.char_indices() {
            let next = units + c.len_utf16();
            if next > pos.character as usize {
                return start + i;
            }
            units = next;
        }
        // Past the end of the line: its end (before a `\r` of a CRLF pair).
        start + line.strip_suffix('\r').unwrap_or(line).len()
    }

    /// The range covering the whole text.
    pub fn full_range(&self, text: &str) -> Range {
        self.range(text, Span::new(0, text.len()))
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
    fn crlf_line_ends_are_not_columns() {
        let text = "a\r\nbc";
        let idx = LineIndex::new(text);
        assert_eq!(idx.offset(text, Position::new(0, 5)), 1);
        assert_eq!(idx.position(text, 4), Position::new(1, 1));
    }
}
