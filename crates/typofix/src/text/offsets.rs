//! Byte offsets in other units. The library counts in bytes of UTF-8; the
//! fronts over it count in what their callers index: UTF-16 code units
//! (JavaScript, Java, LanguageTool, the language server protocol's default)
//! and code points (Python's `str`).

/// What an offset counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Byte,
    Utf16,
    CodePoint,
}

impl Unit {
    /// The length of `text` in this unit.
    pub fn len(self, text: &str) -> usize {
        match self {
            Unit::Byte => text.len(),
            Unit::Utf16 => text.encode_utf16().count(),
            Unit::CodePoint => text.chars().count(),
        }
    }
}

/// Converts byte offsets into `text` to another unit. Offsets asked in
/// ascending order cost one pass over the text in all.
#[derive(Debug, Clone)]
pub struct Offsets<'a> {
    text: &'a str,
    unit: Unit,
    byte: usize,
    at: usize,
}

impl<'a> Offsets<'a> {
    pub fn new(text: &'a str, unit: Unit) -> Self {
        Offsets {
            text,
            unit,
            byte: 0,
            at: 0,
        }
    }

    /// The offset, in this unit, of byte offset `byte`, which must be a
    /// char boundary of the text. Asking for one before the last restarts
    /// the count.
    pub fn at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            self.byte = 0;
            self.at = 0;
        }
        self.at += self.unit.len(&self.text[self.byte..byte]);
        self.byte = byte;
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // é: 2 bytes, 1 UTF-16 unit, 1 code point; 😀: 4 bytes, 2 units, 1 point.
    const TEXT: &str = "é😀 teh";

    #[test]
    fn utf16_counts_a_surrogate_pair_as_two_units() {
        let mut o = Offsets::new(TEXT, Unit::Utf16);
        assert_eq!(
            [0, 2, 6, 7, 10].map(|b| o.at(b)),
            [0, 1, 3, 4, 7],
            "bytes 0, 2, 6, 7, 10 in UTF-16"
        );
        assert_eq!(o.at(2), 1, "going back restarts");
    }

    #[test]
    fn code_points_count_each_character_once() {
        let mut o = Offsets::new(TEXT, Unit::CodePoint);
        assert_eq!([0, 2, 6, 7, 10].map(|b| o.at(b)), [0, 1, 2, 3, 6]);
    }
}
