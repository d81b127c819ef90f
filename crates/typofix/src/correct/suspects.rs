//! Suspects: which words and pairs of words of a sentence the corrector
//! looks at. A sentence is cut into units (its non-whitespace spans); a word
//! becomes a *slot* when the lexicon does not know it, knows it as rare or as
//! a misspelling, or has it in a confusion set, and a pair of neighbouring
//! words when one of them is suspect (for split and merged words). Names,
//! acronyms and allowed words are left alone.

use std::ops::Range;

use super::candidates::Candidate;
use super::{Corrector, FixOptions};
use crate::lexicon::normalise;
use crate::ngram::BOUNDARY;
use crate::text::{sentences, spans, Casing, SpanKind};
use crate::ErrorKind;

/// A word of a sentence, as the corrector works on it.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    /// Byte range in the input text.
    pub range: Range<usize>,
    /// The text now: the original, or a correction made in the first pass.
    pub text: String,
    pub word: bool,
    /// Not to be corrected in this pass: a correction already made, or a
    /// word lent as context by a neighbouring window (see [`windows`]).
    pub fixed: bool,
    /// The whitespace after it, when only spaces separate it from the next
    /// unit (split and merge candidates need that).
    pub spaced: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Slot {
    /// Units covered, as a range of indices.
    pub units: Range<usize>,
    /// Every original word is in the lexicon.
    pub known: bool,
    /// A common word whose only candidates are its confusion set: screened
    /// on the unmasked sentence before it costs a masked input.
    pub confusion_only: bool,
    /// The original words, lower-cased.
    pub original: Vec<String>,
    /// The words on each side, or a boundary: the bigram context.
    pub left: String,
    pub right: String,
    /// Word pieces of the original (first) and of each candidate, filled in
    /// once per pass by [`Corrector::tokenise_slots`].
    pub fills: Vec<Vec<u32>>,
    pub candidates: Vec<Candidate>,
    /// The detection head's probability that the slot's words are wrong
    /// (its most suspect word), once the unmasked pass has run.
    pub wrong: Option<f32>,
}

impl Slot {
    /// A slot for the one word `units[i]`, lower-cased as `word`.
    fn word(
        units: &[Unit],
        i: usize,
        word: String,
        known: bool,
        confusion_only: bool,
        candidates: Vec<Candidate>,
    ) -> Slot {
        Slot {
            left: neighbour(units, i.checked_sub(1)),
            right: neighbour(units, Some(i + 1)),
            fills: Vec::new(),
            wrong: None,
            units: i..i + 1,
            known,
            confusion_only,
            original: vec![word],
            candidates,
        }
    }
}

impl Corrector {
    /// The words of a sentence that may be corrected, lower-cased, with
    /// their counts: names, acronyms, allowed and corrected words are `None`.
    fn open_words(
        &self,
        text: &str,
        units: &[Unit],
        options: &FixOptions,
    ) -> Vec<Option<(String, u64)>> {
        let s = &self.settings;
        let first_word = units.iter().position(|u| u.word);
        // A sentence in capitals: its all-capital words are not acronyms.
        let mut words = units.iter().filter(|u| u.word && !u.fixed);
        let shouting = words.clone().count() > 1
            && !words.any(|u| text[u.range.clone()].chars().any(char::is_lowercase));
        units
            .iter()
            .enumerate()
            .map(|(i, unit)| {
                if !unit.word || unit.fixed {
                    return None;
                }
                let raw = &text[unit.range.clone()];
                let word = normalise(raw);
                if options.allow.contains(&word) {
                    return None;
                }
                let count = self.lexicon.count(&word);
                let initial = Some(i) == first_word;
                // Capitalised rare words inside a sentence are names, and
                // all-capital words are acronyms, unless the whole sentence
                // is in capitals.
                let name = match Casing::of(raw) {
                    Casing::Lower => false,
                    Casing::Title => !initial && count < s.rare_count,
                    Casing::Upper => raw.chars().count() > 1 && !shouting,
                    Casing::Mixed => true,
                };
                (!name).then_some((word, count))
            })
            .collect()
    }

    /// Finds the suspect words and pairs, with their candidates.
    pub(super) fn slots(&self, text: &str, units: &[Unit], options: &FixOptions) -> Vec<Slot> {
        let s = &self.settings;
        let mut slots = Vec::new();
        let words = self.open_words(text, units, options);
        // Whether each unit may be corrected, and whether it is suspect.
        let open: Vec<bool> = words.iter().map(Option::is_some).collect();
        let mut suspect = vec![false; units.len()];
        for (i, word) in words.into_iter().enumerate() {
            let Some((word, count)) = word else { continue };
            let alternatives = self.confusions.alternatives(&word);
            let rare = count < s.rare_count || self.known.contains_key(&word);
            suspect[i] = rare;
            let mut candidates = Vec::new();
            if !alternatives.is_empty() {
                let channel = self.settings.channel.log_confusion(alternatives.len());
                candidates.extend(alternatives.iter().map(|a| Candidate {
                    words: vec![a.clone()],
                    channel,
                    kind: ErrorKind::Confusion,
                    word_slip: true,
                }));
            }
            if rare {
                candidates.extend(self.word_candidates(&word, count > 0));
            }
            // Words that are really a dropped apostrophe, a stretch or a
            // merge (dont, sooo, highschool): weighed like a confusion, and
            // screened first when the word is common.
            let mut slipped = self.apostrophe_candidates(&word);
            slipped.extend(self.stretch_candidates(&word));
            if !rare {
                slipped.extend(self.split_candidates(&word));
            }
            for c in slipped {
                match candidates.iter_mut().find(|have| have.words == c.words) {
                    Some(have) => {
                        have.word_slip = true;
                        have.channel = have.channel.max(c.channel);
                    }
                    None => candidates.push(c),
                }
            }
            if !candidates.is_empty() {
                slots.push(Slot::word(units, i, word, count > 0, !rare, candidates));
            }
        }
        for i in 0..units.len().saturating_sub(1) {
            let (a, b) = (&units[i], &units[i + 1]);
            if open[i] && open[i + 1] && a.spaced && (suspect[i] || suspect[i + 1]) {
                let (wa, wb) = (normalise(&a.text), normalise(&b.text));
                let candidates = self.pair_candidates(&wa, &wb);
                if !candidates.is_empty() {
                    slots.push(Slot {
                        left: neighbour(units, i.checked_sub(1)),
                        right: neighbour(units, Some(i + 2)),
                        fills: Vec::new(),
                        wrong: None,
                        units: i..i + 2,
                        known: self.lexicon.contains(&wa) && self.lexicon.contains(&wb),
                        confusion_only: false,
                        original: vec![wa, wb],
                        candidates,
                    });
                }
            }
        }
        slots
    }

    /// Slots for the known words that the detection head finds likely to
    /// be wrong (`wrong`, per unit) and that no slot of `have` covers yet:
    /// spelling candidates one edit away, under the known-word margin.
    pub(super) fn flagged_slots(
        &self,
        text: &str,
        units: &[Unit],
        wrong: &[f32],
        have: &[Slot],
        options: &FixOptions,
    ) -> Vec<Slot> {
        let flag = self.settings.detect_flag;
        // Most sentences have no flagged word: skip their lexicon lookups.
        if !wrong.iter().any(|&w| f64::from(w) > flag) {
            return Vec::new();
        }
        let words = self.open_words(text, units, options);
        let mut out = Vec::new();
        for (i, word) in words.into_iter().enumerate() {
            let Some((word, count)) = word else { continue };
            // Capitalised words that are known are mostly names the head
            // has not seen.
            let lower = Casing::of(&text[units[i].range.clone()]) == Casing::Lower;
            if f64::from(wrong[i]) <= flag || !lower || have.iter().any(|s| s.units == (i..i + 1)) {
                continue;
            }
            // A known word split in two (entreaty → en treaty) is not the
            // slip the head finds; only respellings are offered.
            let mut candidates = self.word_candidates(&word, count > 0);
            candidates.retain(|c| c.words.len() == 1);
            if candidates.is_empty() {
                continue;
            }
            out.push(Slot::word(units, i, word, count > 0, false, candidates));
        }
        out
    }
}

/// The bigram context at `at`: the word there, or a boundary.
fn neighbour(units: &[Unit], at: Option<usize>) -> String {
    match at.and_then(|i| units.get(i)) {
        Some(u) if u.word => normalise(&u.text),
        _ => BOUNDARY.to_string(),
    }
}

/// Byte ranges of the sentences of `text`, line by line.
pub(super) fn sentence_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        // `sentences` returns slices of `line`, hence of `text`.
        for s in sentences(line) {
            let start = s.as_ptr() as usize - text.as_ptr() as usize;
            out.push(start..start + s.len());
        }
    }
    out
}

/// The non-whitespace spans of a sentence.
pub(super) fn units(text: &str, range: Range<usize>) -> Vec<Unit> {
    let sentence = &text[range.clone()];
    let spans = spans(sentence);
    let mut out: Vec<Unit> = Vec::new();
    for (n, span) in spans.iter().enumerate() {
        if span.kind == SpanKind::Whitespace {
            continue;
        }
        let spaced = spans.get(n + 1).is_some_and(|next| {
            next.kind == SpanKind::Whitespace
                && next.text(sentence).chars().all(|c| c == ' ')
                && spans.get(n + 2).is_some_and(|w| w.kind == SpanKind::Word)
        });
        out.push(Unit {
            range: range.start + span.start..range.start + span.end,
            text: span.text(sentence).to_string(),
            word: span.kind == SpanKind::Word,
            fixed: false,
            spaced,
        });
    }
    out
}

/// Units a sentence may have and still be corrected as one piece.
const MAX_UNITS: usize = WINDOW + 2 * WINDOW_CONTEXT;
/// Units each window of a longer sentence corrects...
const WINDOW: usize = 64;
/// ...and the units it borrows on each side, only to read them. The masked
/// inputs keep `context_tokens` word pieces each side (12 as shipped, at
/// most 63 within the 128 positions they are given): a word at a window's
/// edge still has this many units of context.
const WINDOW_CONTEXT: usize = 24;

/// A long sentence cut into overlapping windows, so that the work and the
/// memory of correcting it grow linearly with its length. Pasted
/// documents, OCR output and logs have lines of thousands of words with no
/// full stop, and every slot of one sentence is scored in the same batch.
/// Each unit is corrected in exactly one window; the units borrowed from
/// the neighbours are marked `fixed`. A sentence of up to [`MAX_UNITS`]
/// units stays whole.
pub(super) fn windows(units: Vec<Unit>) -> Vec<Vec<Unit>> {
    if units.len() <= MAX_UNITS {
        return vec![units];
    }
    (0..units.len())
        .step_by(WINDOW)
        .map(|start| {
            let core = start..(start + WINDOW).min(units.len());
            let lo = start.saturating_sub(WINDOW_CONTEXT);
            let hi = (core.end + WINDOW_CONTEXT).min(units.len());
            units[lo..hi]
                .iter()
                .enumerate()
                .map(|(i, unit)| Unit {
                    fixed: unit.fixed || !core.contains(&(lo + i)),
                    ..unit.clone()
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_sentence_is_corrected_in_windows_that_cover_each_word_once() {
        let text = "word ".repeat(1000);
        let all = units(&text, 0..text.len());
        assert_eq!(all.len(), 1000);
        let windows = windows(all);
        assert!(windows
            .iter()
            .all(|w| w.len() <= WINDOW + 2 * WINDOW_CONTEXT));
        let mut corrected: Vec<usize> = windows
            .iter()
            .flatten()
            .filter(|u| !u.fixed)
            .map(|u| u.range.start)
            .collect();
        let n = corrected.len();
        corrected.dedup();
        assert_eq!((n, corrected.len()), (1000, 1000), "each word once");
        // A window's words keep context on both sides.
        let second = &windows[1];
        assert!(second[..WINDOW_CONTEXT].iter().all(|u| u.fixed));
        assert!(second[second.len() - WINDOW_CONTEXT..]
            .iter()
            .all(|u| u.fixed));
    }

    #[test]
    fn a_sentence_of_ordinary_length_stays_whole() {
        let text = "word ".repeat(MAX_UNITS);
        let all = units(&text, 0..text.len());
        let windows = windows(all);
        assert_eq!(windows.len(), 1);
        assert!(windows[0].iter().all(|u| !u.fixed));
    }

    #[test]
    fn sentences_cover_every_line() {
        let text = "One two. Three\r\nfour\n\nfive";
        let ranges = sentence_ranges(text);
        let words: Vec<&str> = ranges.iter().map(|r| text[r.clone()].trim()).collect();
        assert_eq!(words, vec!["One two.", "Three", "four", "five"]);
    }
}
