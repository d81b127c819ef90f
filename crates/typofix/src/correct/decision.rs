//! The decision: the original stays unless a candidate beats it by the
//! threshold (and by a margin more when the original is a known word).
//! Overlapping slots are resolved best gain first.

use std::ops::Range;

use super::suspects::Slot;
use super::Corrector;

/// A slot's best candidate, and by how much it beats the original.
pub(super) struct Decision {
    /// Index of the slot in its sentence's list.
    pub slot: usize,
    /// Index of the candidate in the slot's list.
    pub best: usize,
    /// Its score less the original's, in log-probability.
    pub gain: f64,
    /// Its probability among the original and the candidates.
    pub confidence: f32,
}

/// The decision for one slot, given the language model's scores of its
/// original (first) and candidates.
pub(super) fn decision(n: usize, slot: &Slot, lm: &[f64], unchanged: f64) -> Option<Decision> {
    // `unchanged`: log P(each original word is as meant).
    let original = lm[0] + unchanged * slot.original.len() as f64;
    let totals: Vec<f64> = slot
        .candidates
        .iter()
        .zip(&lm[1..])
        .map(|(c, l)| l + c.channel)
        .collect();
    let best = (0..totals.len()).max_by(|&a, &b| totals[a].total_cmp(&totals[b]))?;
    let top = totals[best].max(original);
    let norm: f64 = totals
        .iter()
        .chain([&original])
        .map(|t| (t - top).exp())
        .sum();
    let confidence = ((totals[best] - top).exp() / norm) as f32;
    // An original the model cannot score (too many pieces) gives way to any
    // candidate it can score.
    let gain = if original.is_finite() {
        totals[best] - original
    } else if totals[best].is_finite() {
        f64::INFINITY
    } else {
        f64::NEG_INFINITY
    };
    tracing::trace!(
        original = ?slot.original,
        readings = ?slot
            .candidates
            .iter()
            .zip(lm[1..].iter().zip(&totals))
            .map(|(c, (l, t))| format!("{}: lm {l:.2} channel {:.2} total {t:.2}", c.words.join(" "), c.channel))
            .collect::<Vec<_>>(),
        original_total = original,
        "readings"
    );
    tracing::debug!(
        original = ?slot.original,
        best = ?slot.candidates[best].words,
        lm_original = lm[0],
        lm_best = lm[best + 1],
        channel = slot.candidates[best].channel,
        gain,
        "slot"
    );
    Some(Decision {
        slot: n,
        best,
        gain,
        confidence,
    })
}

impl Corrector {
    /// The decisions to act on, best gain first: those that clear the
    /// threshold and overlap no better one.
    pub(super) fn accept(
        &self,
        slots: &[Slot],
        mut decisions: Vec<Decision>,
        threshold: f64,
    ) -> Vec<Decision> {
        decisions.sort_by(|a, b| b.gain.total_cmp(&a.gain));
        let mut taken: Vec<Range<usize>> = Vec::new();
        let mut accepted = Vec::new();
        for d in decisions {
            let slot = &slots[d.slot];
            let units = &slot.units;
            let margin = if slot.known && !slot.candidates[d.best].word_slip {
                self.settings.known_word_margin
            } else {
                0.0
            };
            if d.gain <= threshold + margin
                || taken
                    .iter()
                    .any(|r| r.start < units.end && units.start < r.end)
            {
                continue;
            }
            taken.push(units.clone());
            accepted.push(d);
        }
        accepted
    }
}
