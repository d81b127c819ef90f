//! An open document, and conversions between its byte offsets and LSP
//! positions (a line, and a character offset in the negotiated unit).

use lsp_types::{Position, Range};
use typofix::text::Unit;

/// A document as the client last sent it.
#[derive(Debug, Clone)]
pub struct Document {
    pub text: String,
    pub version: i32,
    /// The client's language id: plaintext, markdown, gitcommit, …
    pub language: String,
    lines: Vec<usize>,
}

impl Document {
    pub fn new(text: String, version: i32, language: String) -> Document {
        let lines = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Document {
            text,
            version,
            language,
            lines,
        }
    }

    /// The position of byte offset `at`, counted in `unit`.
    pub fn position(&self, at: usize, unit: Unit) -> Position {
        let line = self.lines.partition_point(|&start| start <= at) - 1;
        let start = self.lines[line];
        Position::new(line as u32, unit.len(&self.text[start..at]) as u32)
    }

    pub fn range(&self, start: usize, end: usize, unit: Unit) -> Range {
        Range::new(self.position(start, unit), self.position(end, unit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_the_clients_units() {
        let doc = Document::new("é😀\nsecond teh\n".into(), 1, "plaintext".into());
        assert_eq!(doc.position(0, Unit::Utf16), Position::new(0, 0));
        assert_eq!(
            doc.position(6, Unit::Utf16),
            Position::new(0, 3),
            "😀 is 2 units"
        );
        assert_eq!(doc.position(6, Unit::Byte), Position::new(0, 6));
        assert_eq!(doc.position(14, Unit::Utf16), Position::new(1, 7));
        assert_eq!(
            doc.position(18, Unit::Utf16),
            Position::new(2, 0),
            "the end"
        );
    }
}
