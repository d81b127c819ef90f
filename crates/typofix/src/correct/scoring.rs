//! Scoring: how well each slot's original and candidates fit their
//! context. The masked language model scores every alternative in the
//! sentence (batched across sentences); word-pair counts add their view,
//! weighted. Common words whose only candidates are their confusion set are
//! screened first on one unmasked pass, so most of them cost no masked input.

use std::ops::Range;

use super::budget::{Halt, Meter};
use super::decision::{decision, Decision};
use super::lm::{Memo, Query};
use super::suspects::{Slot, Unit};
use super::Corrector;
use crate::Error;

/// A sentence's tokens, and the range of tokens of each unit.
pub(super) struct Tokens {
    pub ids: Vec<u32>,
    pub of_unit: Vec<Range<usize>>,
}

/// A sentence's slots and tokens, as one pass scores them; the first field
/// is the sentence's index in its group.
pub(super) type Work = (usize, Tokens, Vec<Slot>);

impl Corrector {
    /// The sentence's tokens, and which tokens each unit has.
    pub(super) fn tokens(&self, units: &[Unit]) -> Result<Tokens, Error> {
        let mut ids: Vec<u32> = Vec::new();
        let mut of_unit: Vec<Range<usize>> = Vec::with_capacity(units.len());
        for unit in units {
            let start = ids.len();
            ids.extend(self.scorer.pieces(&unit.text)?);
            of_unit.push(start..ids.len());
        }
        Ok(Tokens { ids, of_unit })
    }

    /// Scores every slot's original and candidates in context, for all the
    /// sentences at once. `memo` keeps the scores for the next pass.
    pub(super) fn decide(
        &self,
        work: &[Work],
        meter: &Meter,
        memo: &mut Memo,
    ) -> Result<Vec<Vec<Decision>>, Halt> {
        let mut queries = Vec::new();
        for (_, tokens, slots) in work {
            for slot in slots {
                let replace =
                    tokens.of_unit[slot.units.start].start..tokens.of_unit[slot.units.end - 1].end;
                queries.push(Query {
                    tokens: &tokens.ids,
                    replace,
                    fills: &slot.fills,
                    per_piece: self.settings.chain_rule && slot.confusion_only,
                });
            }
        }
        let mut scores = self.scorer.score(&queries, meter, memo)?.into_iter();
        let unchanged = self.settings.channel.log_unchanged();
        let mut out = Vec::with_capacity(work.len());
        for (_, _, slots) in work {
            let mut decisions = Vec::new();
            for (n, (slot, lm)) in slots.iter().zip(scores.by_ref()).enumerate() {
                let prior = if slot.known {
                    unchanged
                } else {
                    unchanged - self.settings.unknown_penalty / slot.original.len() as f64
                };
                let prior = prior - self.detection_evidence(slot) / slot.original.len() as f64;
                let lm = self.with_piece_bonus(slot, lm);
                let lm = self.with_bigrams(slot, lm);
                if let Some(d) = decision(n, slot, &lm, prior) {
                    decisions.push(d);
                }
            }
            out.push(decisions);
        }
        Ok(out)
    }

    /// One unmasked pass per sentence. It drops the confusion-only slots
    /// whose alternatives the sentence rates far below the word as written
    /// (most uses of `to`, `by` or `were` are right, and this keeps them from
    /// costing a masked input each), and with a detection head also those
    /// the head finds unlikely to be wrong. Returns, with a head, how likely
    /// each unit of each sentence is to be wrong.
    pub(super) fn screen(
        &self,
        work: &mut [Work],
        meter: &Meter,
    ) -> Result<Vec<Option<Vec<f32>>>, Halt> {
        let mut probes = Vec::with_capacity(work.len());
        for (_, tokens, slots) in work.iter() {
            let mut mine = Vec::new();
            for slot in slots.iter().filter(|s| s.confusion_only) {
                let at = tokens.of_unit[slot.units.start].start;
                let ids = slot
                    .fills
                    .iter()
                    .map(|f| f.first().copied().unwrap_or(0))
                    .collect();
                mine.push((at, ids));
            }
            probes.push((tokens.ids.as_slice(), mine));
        }
        let looks = self.scorer.unmasked(&probes, meter)?;
        drop(probes);
        let mut out = Vec::with_capacity(work.len());
        for ((_, tokens, slots), look) in work.iter_mut().zip(looks) {
            let Some(look) = look else {
                out.push(None);
                continue;
            };
            // A unit is as wrong as its most suspect piece.
            let wrong: Option<Vec<f32>> = (!look.wrong.is_empty()).then(|| {
                tokens
                    .of_unit
                    .iter()
                    .map(|r| look.wrong[r.clone()].iter().copied().fold(0.0, f32::max))
                    .collect()
            });
            let mut scores = look.probes.into_iter();
            slots.retain(|slot| {
                if !slot.confusion_only {
                    return true;
                }
                let lp = scores.next().unwrap_or_default();
                let best = lp.iter().skip(1).copied().fold(f32::NEG_INFINITY, f32::max);
                let fits = lp.first().is_none_or(|&original| {
                    f64::from(best - original) > self.settings.screen_margin
                });
                let suspect = wrong
                    .as_ref()
                    .is_none_or(|w| f64::from(w[slot.units.start]) >= self.settings.detect_keep);
                fits && suspect
            });
            out.push(wrong);
        }
        Ok(out)
    }

    /// The head's log-odds that the slot's original is wrong, weighted by
    /// [`Settings::detect_weight`](super::Settings); 0 without a head.
    fn detection_evidence(&self, slot: &Slot) -> f64 {
        slot.wrong.map_or(0.0, |p| {
            // Bounded, so that one confident head cannot overrule the rest.
            let p = f64::from(p).clamp(1e-3, 1.0 - 1e-3);
            self.settings.detect_weight * (p / (1.0 - p)).ln()
        })
    }

    /// Adds [`Settings::piece_bonus`](super::Settings) per extra word piece
    /// of each candidate. Not to the original: a misspelling is many pieces
    /// because it is not a word, and the bonus would excuse it.
    fn with_piece_bonus(&self, slot: &Slot, mut lm: Vec<f64>) -> Vec<f64> {
        let bonus = self.settings.piece_bonus;
        for (l, fill) in lm.iter_mut().zip(&slot.fills).skip(1) {
            *l += bonus * fill.len().saturating_sub(1) as f64;
        }
        lm
    }

    /// Adds the bigram model's view of each alternative, weighted.
    pub(super) fn with_bigrams(&self, slot: &Slot, mut lm: Vec<f64>) -> Vec<f64> {
        let Some(bigrams) = &self.bigrams else {
            return lm;
        };
        let weight = self.settings.bigram_weight;
        let score = |words: &[String]| -> f64 {
            let mut prev = slot.left.as_str();
            let mut total = 0.0;
            for w in words
                .iter()
                .map(String::as_str)
                .chain([slot.right.as_str()])
            {
                total += bigrams.log_prob(&self.lexicon, prev, w, self.settings.bigram_adaptation);
                prev = w;
            }
            total
        };
        lm[0] += weight * score(&slot.original);
        for (l, c) in lm[1..].iter_mut().zip(&slot.candidates) {
            *l += weight * score(&c.words);
        }
        lm
    }

    /// Fills in each slot's word pieces, the original's first: what the
    /// masked inputs put in the slot's place.
    pub(super) fn tokenise_slots(&self, mut slots: Vec<Slot>) -> Result<Vec<Slot>, Error> {
        for slot in &mut slots {
            let mut fills = vec![self.fill(&slot.original)?];
            for c in &slot.candidates {
                fills.push(self.fill(&c.words)?);
            }
            slot.fills = fills;
        }
        Ok(slots)
    }

    /// The word pieces of `words`, one after another.
    fn fill(&self, words: &[String]) -> Result<Vec<u32>, Error> {
        let mut ids = Vec::new();
        for w in words {
            ids.extend(self.scorer.pieces(w)?);
        }
        Ok(ids)
    }
}
