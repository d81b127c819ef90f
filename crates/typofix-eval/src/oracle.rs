//! Candidate recall (`typofix eval --oracle`): the share of gold corrections
//! that are among the readings the corrector weighs, whatever it then
//! decides. It bounds what the scoring and the decision can reach: a
//! correction that is never a candidate is never made.
//!
//! A gold block counts as covered when one reading of one span, applied
//! alone to the corrupted text, gets that block exactly right. A block that
//! needs two separate edits (two wrong neighbours merged into one block by
//! the word diff) is therefore never covered, so this is a lower bound.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;
use typofix::{Corrector, ErrorKind, FixOptions};

use crate::metrics::{blocks_fixed_by_any, KindCounts, Reference};

/// Candidate recall on one set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OracleReport {
    pub gold_blocks: usize,
    /// Gold blocks that one reading gets right.
    pub covered: usize,
    pub candidate_recall: f64,
    /// Spans looked at, and readings weighed, per text on average.
    pub spans_per_text: f64,
    pub readings_per_span: f64,
    pub per_kind: BTreeMap<ErrorKind, KindCounts>,
}

/// One text's gold blocks (kind, covered), spans and readings.
struct TextCoverage {
    blocks: Vec<(Option<ErrorKind>, bool)>,
    spans: usize,
    readings: usize,
}

/// Measures candidate recall over `references`.
pub fn candidate_recall(
    corrector: &Corrector,
    references: &[Reference],
    options: &FixOptions,
) -> OracleReport {
    let per_text: Vec<TextCoverage> = references
        .par_iter()
        .map(|reference| {
            let text = &reference.corrupted;
            let spans = corrector.candidates(text, options);
            let mut alternatives = Vec::new();
            for span in &spans {
                for reading in &span.readings {
                    alternatives.push(format!(
                        "{}{reading}{}",
                        &text[..span.start],
                        &text[span.end..]
                    ));
                }
            }
            TextCoverage {
                blocks: blocks_fixed_by_any(reference, &alternatives),
                spans: spans.len(),
                readings: alternatives.len(),
            }
        })
        .collect();
    let mut report = OracleReport::default();
    let (mut spans, mut readings) = (0usize, 0usize);
    for text in per_text {
        spans += text.spans;
        readings += text.readings;
        for (kind, covered) in text.blocks {
            report.gold_blocks += 1;
            report.covered += usize::from(covered);
            if let Some(kind) = kind {
                let counts = report.per_kind.entry(kind).or_default();
                counts.errors += 1;
                counts.fixed += usize::from(covered);
            }
        }
    }
    report.candidate_recall = report.covered as f64 / report.gold_blocks.max(1) as f64;
    report.spans_per_text = spans as f64 / references.len().max(1) as f64;
    report.readings_per_span = readings as f64 / spans.max(1) as f64;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_covered_only_when_one_reading_fixes_it() {
        let reference = |corrupted: &str, clean: &str| Reference {
            corrupted: corrupted.into(),
            clean: clean.into(),
            lowercase: false,
            edits: Vec::new(),
        };
        let r = reference("I saw teh cat", "I saw the cat");
        assert_eq!(
            blocks_fixed_by_any(&r, &["I saw the cat".into()]),
            vec![(None, true)]
        );
        assert_eq!(
            blocks_fixed_by_any(&r, &["I saw tea cat".into(), "I saw teh hat".into()]),
            vec![(None, false)]
        );
    }
}
