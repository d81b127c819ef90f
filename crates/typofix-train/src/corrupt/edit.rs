//! Edits: the alignment between a clean text and its corrupted form.

use serde::{Deserialize, Serialize};

use typofix::ErrorKind;

use super::EditOp;

/// One corrupted region: `clean[clean.0..clean.1]` became
/// `corrupted[corrupted.0..corrupted.1]`. Offsets are bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub kind: ErrorKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<EditOp>,
    pub clean: [usize; 2],
    pub corrupted: [usize; 2],
}

/// Why a set of edits does not align two texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("edit {index} does not align the texts: {reason}")]
pub struct Misalignment {
    pub index: usize,
    pub reason: &'static str,
}

/// Rebuilds `clean` from `corrupted`, taking the bytes outside the edits from
/// `corrupted` and the bytes inside from `clean`. Fails unless the edits are
/// ordered, in bounds, on character boundaries and the text between them is
/// identical on both sides; so `undo(..) == Ok(clean)` proves the alignment.
pub fn undo(clean: &str, corrupted: &str, edits: &[Edit]) -> Result<String, Misalignment> {
    let mut out = String::with_capacity(clean.len());
    let (mut at_clean, mut at_corrupted) = (0, 0);
    for (index, edit) in edits.iter().enumerate() {
        let fail = |reason| Misalignment { index, reason };
        let [c0, c1] = edit.clean;
        let [k0, k1] = edit.corrupted;
        if c0 < at_clean || c1 < c0 || k0 < at_corrupted || k1 < k0 {
            return Err(fail("edits overlap or are out of order"));
        }
        let (Some(clean_part), Some(corrupted_gap)) =
            (clean.get(c0..c1), corrupted.get(at_corrupted..k0))
        else {
            return Err(fail("offsets out of bounds or inside a character"));
        };
        if corrupted.get(k0..k1).is_none() {
            return Err(fail("offsets out of bounds or inside a character"));
        }
        if clean.get(at_clean..c0) != Some(corrupted_gap) {
            return Err(fail("the text before it differs between the two sides"));
        }
        out.push_str(corrupted_gap);
        out.push_str(clean_part);
        at_clean = c1;
        at_corrupted = k1;
    }
    match corrupted.get(at_corrupted..) {
        Some(tail) if clean.get(at_clean..) == Some(tail) => {
            out.push_str(tail);
            Ok(out)
        }
        _ => Err(Misalignment {
            index: edits.len(),
            reason: "the text after the last edit differs between the two sides",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(clean: [usize; 2], corrupted: [usize; 2]) -> Edit {
        Edit {
            kind: ErrorKind::Transpose,
            op: None,
            clean,
            corrupted,
        }
    }

    #[test]
    fn a_correct_alignment_undoes_to_the_clean_text() {
        let edits = [edit([0, 3], [0, 3])];
        assert_eq!(undo("The cat", "Teh cat", &edits).unwrap(), "The cat");
    }

    #[test]
    fn a_wrong_alignment_is_refused() {
        assert!(undo("The cat", "Teh cat", &[]).is_err());
        assert!(undo("The cat", "Teh cot", &[edit([0, 3], [0, 3])]).is_err());
        assert!(undo("The cat", "Teh cat", &[edit([0, 30], [0, 3])]).is_err());
    }

    #[test]
    fn edits_serialise_in_the_documented_shape() {
        let json = serde_json::to_string(&edit([0, 3], [0, 4])).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"transpose","clean":[0,3],"corrupted":[0,4]}"#
        );
    }
}
