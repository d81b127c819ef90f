//! Application: accepted decisions become edits of the input, with the
//! original's casing, and their words replace the slot's units so that a
//! second pass sees the corrections in context.

use super::decision::Decision;
use super::recase::recase;
use super::suspects::{Slot, Unit};
use super::{Edit, Sentence};

/// Applies `accepted` to the sentence `s` of `text`.
pub(super) fn apply_decisions(
    text: &str,
    s: &mut Sentence,
    slots: &[Slot],
    mut accepted: Vec<Decision>,
) {
    // Right to left, so that unit indices stay valid.
    accepted.sort_by_key(|d| std::cmp::Reverse(slots[d.slot].units.start));
    for d in accepted {
        let slot = &slots[d.slot];
        let candidate = &slot.candidates[d.best];
        let (first, last) = (&s.units[slot.units.start], &s.units[slot.units.end - 1]);
        let bytes = first.range.start..last.range.end;
        let original = &text[bytes.clone()];
        s.edits.push(Edit {
            start: bytes.start,
            end: bytes.end,
            original: original.to_string(),
            replacement: recase(original, &candidate.words),
            kind: candidate.kind,
            confidence: d.confidence,
        });
        let new_units: Vec<Unit> = candidate
            .words
            .iter()
            .map(|w| Unit {
                range: bytes.clone(),
                text: w.clone(),
                word: true,
                fixed: true,
                spaced: false,
            })
            .collect();
        s.units.splice(slot.units.clone(), new_units);
    }
}
