//! The corrector's output: the corrected text and its edits, and the one
//! function that rebuilds a text from its edits.

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind};

/// One correction, with byte offsets into the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub original: String,
    pub replacement: String,
    pub kind: ErrorKind,
    /// The model's probability that the replacement is right, among the
    /// original and the candidates.
    pub confidence: f32,
}

/// A corrected text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub text: String,
    pub edits: Vec<Edit>,
    /// Where the work budget ran out (a byte offset into the input): the
    /// text from there on was not checked and is as it was. `None`: all of
    /// it was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchecked: Option<usize>,
}

impl Fix {
    pub fn changed(&self) -> bool {
        !self.edits.is_empty()
    }

    /// `text` with `edits` applied. The edits must be in order, must not
    /// overlap, and each one's `original` must be the text at its range:
    /// everything outside them is `text`'s own bytes. This is the only place
    /// a corrected text is built, so checking a [`Fix`] against its input is
    /// `Fix::apply(input, fix.edits.clone()) == Ok(fix)`.
    pub fn apply(text: &str, edits: Vec<Edit>) -> Result<Fix, Error> {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for e in &edits {
            let valid = at <= e.start
                && e.start <= e.end
                && text.get(e.start..e.end) == Some(e.original.as_str());
            if !valid {
                return Err(Error::InvalidArgument(format!(
                    "edit {}..{} ({:?} → {:?}) does not fit the text after byte {at}",
                    e.start, e.end, e.original, e.replacement
                )));
            }
            out.push_str(&text[at..e.start]);
            out.push_str(&e.replacement);
            at = e.end;
        }
        out.push_str(&text[at..]);
        Ok(Fix {
            text: out,
            edits,
            unchecked: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: usize, end: usize, original: &str, replacement: &str) -> Edit {
        Edit {
            start,
            end,
            original: original.into(),
            replacement: replacement.into(),
            kind: ErrorKind::Transpose,
            confidence: 1.0,
        }
    }

    #[test]
    fn edits_replace_only_their_bytes() {
        let fix = Fix::apply(
            "Teh cat, teh hat\n",
            vec![edit(0, 3, "Teh", "The"), edit(9, 12, "teh", "the")],
        )
        .unwrap();
        assert_eq!(fix.text, "The cat, the hat\n");
        assert!(fix.changed());
        assert_eq!(Fix::apply("as is", vec![]).unwrap().text, "as is");
    }

    #[test]
    fn edits_out_of_order_overlapping_or_misplaced_are_refused() {
        let text = "teh cat teh";
        for edits in [
            vec![edit(8, 11, "teh", "the"), edit(0, 3, "teh", "the")],
            vec![edit(0, 3, "teh", "the"), edit(2, 5, "h c", "x")],
            vec![edit(4, 7, "teh", "the")],
            vec![edit(9, 12, "eh", "e")],
        ] {
            assert!(Fix::apply(text, edits.clone()).is_err(), "{edits:?}");
        }
    }
}
