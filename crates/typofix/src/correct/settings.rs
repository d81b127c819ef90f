//! The corrector's decision settings, stored in a model's `corrector.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ChannelModel;
use crate::atomic::AtomicFile;
use crate::Error;

/// How the corrector decides, stored in `corrector.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// A correction must beat the original by this much log-probability.
    pub threshold: f64,
    /// And by this much more when the original is a known word respelled
    /// (not a confusion-set swap, whose prior is in the channel model):
    /// changing a correct word is the worst mistake.
    pub known_word_margin: f64,
    /// log-probability taken from an original that is not in the lexicon:
    /// the prior that an unknown word is spelled as meant. The language
    /// model alone overrates unknown words that happen to be one word piece
    /// (`stor`).
    pub unknown_penalty: f64,
    /// Words seen fewer times in the corpus are suspects (and names, when
    /// capitalised inside a sentence).
    pub rare_count: u64,
    /// Candidates must have been seen this many times.
    pub candidate_min_count: u64,
    /// Both halves of a split word must have been seen this many times.
    pub split_min_count: u64,
    /// Candidates per slot that the language model scores.
    pub max_candidates: usize,
    /// A common word's confusion alternatives are scored in context only
    /// when the unmasked sentence puts one within this log-probability of
    /// the word as written.
    pub screen_margin: f64,
    /// Weight of the bigram model next to the masked language model.
    pub bigram_weight: f64,
    /// How far the pair counts' word frequencies are pulled to the
    /// lexicon's, which knows informal words better (0: not at all, 1: all
    /// the way; see [`Bigrams::log_prob`](crate::ngram::Bigrams::log_prob)).
    pub bigram_adaptation: f64,
    /// Word pieces of context a masked input keeps on each side of the
    /// word it scores. Its cost grows with the window, and beyond a dozen
    /// pieces the dev sets gain almost nothing (docs/EVAL.md).
    pub context_tokens: usize,
    /// log-probability added per word piece beyond the first. Pieces
    /// masked together are predicted without seeing one another, so a
    /// three-piece `don ' t` scores far below a one-piece `dont` that the
    /// same context prefers; this evens the lengths out.
    pub piece_bonus: f64,
    /// Score the words of confusion-like slots (its / it's, dont / don't)
    /// piece by piece, by the chain rule, rather than all pieces masked
    /// at once: see `lm.rs`.
    pub chain_rule: bool,
    /// With a detection head: a confusion-only slot is scored in context
    /// only when the head gives its word at least this probability of being
    /// wrong (0: the head does not screen).
    pub detect_keep: f64,
    /// With a detection head: a known word that the head gives more than
    /// this probability of being wrong gets spelling candidates, like a rare
    /// word (1: never). This is how real-word slips outside the confusion
    /// sets (form for from) are found.
    pub detect_flag: f64,
    /// With a detection head: weight of its log-odds that the original is
    /// wrong, taken from the original's prior (0: the head does not vote).
    pub detect_weight: f64,
    pub channel: ChannelModel,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threshold: 2.0,
            known_word_margin: 5.0,
            unknown_penalty: 3.0,
            rare_count: 20,
            candidate_min_count: 5,
            split_min_count: 100,
            max_candidates: 10,
            screen_margin: -6.0,
            bigram_weight: 1.0,
            bigram_adaptation: 1.0,
            context_tokens: 12,
            piece_bonus: 0.0,
            chain_rule: true,
            detect_keep: 0.0,
            detect_flag: 1.0,
            detect_weight: 0.0,
            channel: ChannelModel::default(),
        }
    }
}

impl Settings {
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let mut file = AtomicFile::create(path)?;
        let text = serde_json::to_string_pretty(self).expect("settings serialise") + "\n";
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| Error::io(path, e))?;
        file.commit()
    }

    /// Reads settings from a `corrector.json`.
    pub fn load(path: &Path) -> Result<Settings, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Settings::parse(&bytes, path)
    }

    pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Settings, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::InvalidModel {
            path: path.to_owned(),
            reason: format!("not valid corrector settings: {e}"),
        })
    }
}
