//! `typofix data stats`: what a generated file contains.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Serialize;

use typofix::correct::ChannelModel;
use typofix::text::spans;
use typofix::ErrorKind;

use super::Example;
use crate::corrupt::{undo, EditOp};

/// Counts over a JSONL file of examples.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DatasetStats {
    pub examples: usize,
    /// Lines that are not an example.
    pub invalid_lines: usize,
    /// Examples whose edits do not align `corrupted` with `clean`.
    pub misaligned: usize,
    /// Corruptible words in the clean sentences, and how many were touched.
    pub words: usize,
    pub corrupted_words: usize,
    pub kinds: BTreeMap<ErrorKind, KindStats>,
    /// Edits per (kind, op), for kinds with several ways.
    pub ops: BTreeMap<String, usize>,
    /// Clean sentence length in words, in buckets of five.
    pub sentence_words: Histogram,
    pub edits_per_sentence: Histogram,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct KindStats {
    pub edits: usize,
    /// Clean words touched by edits of this kind.
    pub words: usize,
}

/// Labelled counts, in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Histogram(pub Vec<(String, usize)>);

impl Histogram {
    fn with_buckets(labels: impl IntoIterator<Item = String>) -> Histogram {
        Histogram(labels.into_iter().map(|l| (l, 0)).collect())
    }

    fn add(&mut self, bucket: usize) {
        let last = self.0.len() - 1;
        self.0[bucket.min(last)].1 += 1;
    }
}

impl DatasetStats {
    pub fn realised_rate(&self) -> f64 {
        self.corrupted_words as f64 / self.words.max(1) as f64
    }

    /// The corrector's error model with this data's per-word rate of each
    /// kind, scaled to `error_rate` (see [`ChannelModel::from_rates`]).
    pub fn channel_model(&self, error_rate: f64) -> ChannelModel {
        let words = self.words.max(1) as f64;
        let rate = |k: ErrorKind| self.kinds.get(&k).map_or(0.0, |s| s.words as f64) / words;
        ChannelModel::from_rates(rate, error_rate)
    }

    /// Reads a JSONL file of examples. Lines that do not parse are counted,
    /// not fatal, so that a damaged file can still be inspected.
    pub fn from_reader(reader: impl BufRead) -> std::io::Result<DatasetStats> {
        let mut stats = DatasetStats {
            sentence_words: Histogram::with_buckets(
                (0..12)
                    .map(|b| format!("{}-{}", b * 5 + 1, b * 5 + 5))
                    .chain(["61+".to_string()]),
            ),
            edits_per_sentence: Histogram::with_buckets(
                (0..8).map(|n| n.to_string()).chain(["8+".to_string()]),
            ),
            ..DatasetStats::default()
        };
        for line in reader.lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Example>(&line) {
                Ok(example) => stats.add(&example),
                Err(_) => stats.invalid_lines += 1,
            }
        }
        Ok(stats)
    }

    fn add(&mut self, example: &Example) {
        self.examples += 1;
        if undo(&example.clean, &example.corrupted, &example.edits).as_deref() != Ok(&example.clean)
        {
            self.misaligned += 1;
        }
        let words: Vec<_> = spans(&example.clean)
            .into_iter()
            .filter(|s| s.is_word())
            .collect();
        self.words += words.len();
        self.sentence_words.add(words.len().saturating_sub(1) / 5);
        self.edits_per_sentence.add(example.edits.len());
        for edit in &example.edits {
            let [start, end] = edit.clean;
            let touched = words
                .iter()
                .filter(|w| w.start < end && start < w.end)
                .count();
            let kind = self.kinds.entry(edit.kind).or_default();
            kind.edits += 1;
            kind.words += touched;
            self.corrupted_words += touched;
            if let Some(op) = edit.op {
                *self.ops.entry(op_label(edit.kind, op)).or_default() += 1;
            }
        }
    }
}

fn op_label(kind: ErrorKind, op: EditOp) -> String {
    format!("{kind}/{}", op.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_kinds_words_and_damage() {
        let jsonl = concat!(
            r#"{"corrupted":"Teh cat sat.","clean":"The cat sat.","edits":[{"kind":"transpose","clean":[0,3],"corrupted":[0,3]}]}"#,
            "\n",
            r#"{"corrupted":"alot here","clean":"a lot here","edits":[{"kind":"space","op":"merge","clean":[0,5],"corrupted":[0,4]}]}"#,
            "\n",
            r#"{"corrupted":"Teh cat","clean":"The cat","edits":[]}"#,
            "\nnot json\n"
        );
        let stats = DatasetStats::from_reader(jsonl.as_bytes()).unwrap();
        assert_eq!(stats.examples, 3);
        assert_eq!(stats.invalid_lines, 1);
        assert_eq!(stats.misaligned, 1);
        assert_eq!(stats.words, 8);
        assert_eq!(stats.corrupted_words, 3);
        assert_eq!(stats.kinds[&ErrorKind::Space].words, 2);
        assert_eq!(stats.ops["space/merge"], 1);
        assert_eq!(stats.edits_per_sentence.0[1].1, 2);
    }

    #[test]
    fn the_channel_model_takes_each_kinds_share_of_words() {
        let mut stats = DatasetStats {
            words: 1000,
            ..DatasetStats::default()
        };
        stats.kinds.entry(ErrorKind::Drop).or_default().words = 100;
        stats.kinds.entry(ErrorKind::Misspelling).or_default().words = 40;
        let m = stats.channel_model(0.05);
        assert!((m.total() - 0.05).abs() < 1e-12);
        assert!(m.drop > m.misspelling && m.keyboard == 0.0);
    }
}
