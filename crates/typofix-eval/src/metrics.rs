//! Scoring corrections against references.
//!
//! Texts are compared as whitespace-separated words. A word diff (Myers, via
//! `similar`) of corrupted → clean gives the *gold blocks*: runs of words
//! that differ, so a split or merge is one block. The same diff of corrupted →
//! predicted gives the *predicted blocks*. Then:
//!
//! - **token accuracy**: words of the reference that the prediction has in
//!   the same place (the word diff's matches), over the reference's words;
//! - **correction rate** (= recall): gold blocks that the prediction replaced
//!   with exactly the reference words;
//! - **broken rate**: corrupted words outside every gold block (correct
//!   words) that the prediction changed, over all such words;
//! - **precision**: predicted blocks that match a gold block exactly, over
//!   all predicted blocks; F1 is the harmonic mean with recall;
//! - **exact match**: predictions equal to the reference.
//!
//! With `lowercase`, words are compared lower-cased.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Serialize;
use similar::{capture_diff_slices, Algorithm, DiffOp};

use typofix::ErrorKind;
use typofix_train::corrupt::Edit;

/// A reference pair to score a system on.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub corrupted: String,
    pub clean: String,
    /// Compare lower-cased.
    pub lowercase: bool,
    /// The generator's edits, when known: gives each gold block a kind.
    pub edits: Vec<Edit>,
}

/// Counts for one error kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct KindCounts {
    pub errors: usize,
    pub fixed: usize,
}

/// Counts over a set of references; the rates are derived from them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scores {
    pub texts: usize,
    pub exact: usize,
    pub reference_words: usize,
    pub matched_words: usize,
    pub gold_blocks: usize,
    pub fixed_blocks: usize,
    pub predicted_blocks: usize,
    pub correct_words: usize,
    pub broken_words: usize,
    pub per_kind: BTreeMap<ErrorKind, KindCounts>,
}

/// A run of differing words: `from` in the corrupted text became `to`.
#[derive(Debug, Clone, PartialEq)]
struct Block {
    from: Range<usize>,
    to: Vec<String>,
}

impl Scores {
    /// Scores one prediction against its reference.
    pub fn add(&mut self, reference: &Reference, prediction: &str) {
        let norm = |s: &str| words(reference, s);
        let corrupted = norm(&reference.corrupted);
        let clean = norm(&reference.clean);
        let predicted = norm(prediction);

        self.texts += 1;
        self.exact += usize::from(clean == predicted);
        self.reference_words += clean.len();
        self.matched_words += matches(&clean, &predicted);

        let gold = blocks(&corrupted, &clean);
        let guessed = blocks(&corrupted, &predicted);
        self.gold_blocks += gold.len();
        self.predicted_blocks += guessed.len();
        let kinds = kinds_of(reference, &gold);
        for (block, kind) in gold.iter().zip(kinds) {
            let fixed = guessed.contains(block);
            self.fixed_blocks += usize::from(fixed);
            if let Some(kind) = kind {
                let counts = self.per_kind.entry(kind).or_default();
                counts.errors += 1;
                counts.fixed += usize::from(fixed);
            }
        }
        let mut erroneous = vec![false; corrupted.len()];
        for b in &gold {
            erroneous[b.from.clone()].iter_mut().for_each(|e| *e = true);
        }
        let mut changed = vec![false; corrupted.len()];
        for b in &guessed {
            changed[b.from.clone()].iter_mut().for_each(|c| *c = true);
            if b.from.is_empty() {
                // An insertion between words: count the word before it.
                if let Some(c) = changed.get_mut(b.from.start.saturating_sub(1)) {
                    *c = true;
                }
            }
        }
        for (e, c) in erroneous.iter().zip(&changed) {
            if !e {
                self.correct_words += 1;
                self.broken_words += usize::from(*c);
            }
        }
    }

    pub fn token_accuracy(&self) -> f64 {
        ratio(self.matched_words, self.reference_words)
    }

    pub fn correction_rate(&self) -> f64 {
        ratio(self.fixed_blocks, self.gold_blocks)
    }

    pub fn broken_rate(&self) -> f64 {
        ratio(self.broken_words, self.correct_words)
    }

    pub fn precision(&self) -> f64 {
        ratio(self.fixed_blocks, self.predicted_blocks)
    }

    pub fn recall(&self) -> f64 {
        self.correction_rate()
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    pub fn exact_match(&self) -> f64 {
        ratio(self.exact, self.texts)
    }
}

/// For each gold block of `reference` (in order), its kind, and whether one
/// of `alternatives` (whole corrected texts) has exactly that block right.
pub fn blocks_fixed_by_any(
    reference: &Reference,
    alternatives: &[String],
) -> Vec<(Option<ErrorKind>, bool)> {
    let corrupted = words(reference, &reference.corrupted);
    let gold = blocks(&corrupted, &words(reference, &reference.clean));
    let guessed: Vec<Vec<Block>> = alternatives
        .iter()
        .map(|a| blocks(&corrupted, &words(reference, a)))
        .collect();
    kinds_of(reference, &gold)
        .into_iter()
        .zip(&gold)
        .map(|(kind, block)| (kind, guessed.iter().any(|g| g.contains(block))))
        .collect()
}

/// A text's whitespace-separated words, lower-cased when the reference is.
fn words(reference: &Reference, text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            if reference.lowercase {
                w.to_lowercase()
            } else {
                w.to_string()
            }
        })
        .collect()
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn diff(a: &[String], b: &[String]) -> Vec<DiffOp> {
    capture_diff_slices(Algorithm::Myers, a, b)
}

fn matches(reference: &[String], predicted: &[String]) -> usize {
    diff(reference, predicted)
        .iter()
        .map(|op| match *op {
            DiffOp::Equal { len, .. } => len,
            _ => 0,
        })
        .sum()
}

/// The differing runs of `to` against `from`, adjacent changes merged.
fn blocks(from: &[String], to: &[String]) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut last_end: Option<usize> = None;
    for op in diff(from, to) {
        let (old, new) = match op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete {
                old_index,
                old_len,
                new_index,
                ..
            } => (old_index..old_index + old_len, new_index..new_index),
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index..old_index, new_index..new_index + new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (
                old_index..old_index + old_len,
                new_index..new_index + new_len,
            ),
        };
        let words: Vec<String> = to[new].to_vec();
        match out.last_mut() {
            Some(prev) if last_end == Some(old.start) => {
                prev.from.end = old.end;
                prev.to.extend(words);
            }
            _ => out.push(Block {
                from: old.clone(),
                to: words,
            }),
        }
        last_end = Some(old.end);
    }
    out
}

/// The kind of each gold block, from the generator's edits that overlap it.
fn kinds_of(reference: &Reference, gold: &[Block]) -> Vec<Option<ErrorKind>> {
    if reference.edits.is_empty() {
        return vec![None; gold.len()];
    }
    // Byte range of each whitespace-separated word of the corrupted text.
    let mut word_bytes = Vec::new();
    let text = &reference.corrupted;
    let mut at = 0;
    for w in text.split_whitespace() {
        let start = at + text[at..].find(w).unwrap_or(0);
        word_bytes.push(start..start + w.len());
        at = start + w.len();
    }
    gold.iter()
        .map(|b| {
            let start = word_bytes.get(b.from.start).map_or(text.len(), |r| r.start);
            let end = if b.from.is_empty() {
                start
            } else {
                word_bytes[b.from.end - 1].end
            };
            reference
                .edits
                .iter()
                .find(|e| e.corrupted[0] <= end && start <= e.corrupted[1])
                .map(|e| e.kind)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(corrupted: &str, clean: &str, predicted: &str) -> Scores {
        let mut s = Scores::default();
        s.add(
            &Reference {
                corrupted: corrupted.into(),
                clean: clean.into(),
                lowercase: false,
                edits: vec![],
            },
            predicted,
        );
        s
    }

    #[test]
    fn a_perfect_correction_fixes_every_block_and_breaks_nothing() {
        let s = score("Thi sis a tset", "This is a test", "This is a test");
        assert_eq!(
            (s.gold_blocks, s.fixed_blocks, s.predicted_blocks),
            (2, 2, 2)
        );
        assert_eq!(s.broken_words, 0);
        assert_eq!(s.token_accuracy(), 1.0);
        assert_eq!(s.f1(), 1.0);
        assert_eq!(s.exact_match(), 1.0);
    }

    #[test]
    fn a_split_error_is_one_block() {
        let s = score("a sen tence here", "a sentence here", "a sentence here");
        assert_eq!((s.gold_blocks, s.fixed_blocks), (1, 1));
    }

    #[test]
    fn changing_a_correct_word_counts_as_broken_and_lowers_precision() {
        let s = score("the cat sat", "the cat sat", "the car sat");
        assert_eq!((s.correct_words, s.broken_words), (3, 1));
        assert_eq!(s.precision(), 0.0);
        assert!((s.token_accuracy() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_identity_fixes_nothing_and_breaks_nothing() {
        let s = score("teh cat", "the cat", "teh cat");
        assert_eq!((s.gold_blocks, s.fixed_blocks, s.broken_words), (1, 0, 0));
        assert_eq!(s.f1(), 0.0);
    }

    #[test]
    fn a_wrong_correction_of_an_error_is_neither_fixed_nor_broken() {
        let s = score("teh cat", "the cat", "tea cat");
        assert_eq!(
            (s.fixed_blocks, s.predicted_blocks, s.broken_words),
            (0, 1, 0)
        );
    }
}
