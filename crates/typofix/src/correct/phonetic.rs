//! Phonetic candidates: words that sound like the typed one. Learners and
//! children spell by ear (becuase, wich, sed → said, enuff), often more
//! than two edits away, where the symmetric-delete index does not reach.
//! Words are grouped by their Metaphone key (rphonetic's port of Apache
//! commons-codec); a word's candidates are the common words with its key
//! within three edits.

use std::collections::HashMap;

use rphonetic::{Encoder, Metaphone};

use crate::lexicon::Lexicon;

/// Metaphone key → the words with that key, most frequent first.
#[derive(Debug, Clone, Default)]
pub struct PhoneticIndex {
    encoder: Metaphone,
    words: HashMap<String, Vec<String>>,
}

/// Words rarer than this are not indexed: rare words that sound alike are
/// more often noise than what was meant.
pub const MIN_COUNT: u64 = 50;
/// Edits allowed between a word and a phonetic candidate.
const MAX_DISTANCE: usize = 3;
/// Candidates kept per word.
const MAX_RESULTS: usize = 5;

impl PhoneticIndex {
    /// Indexes the lexicon's words seen at least `min_count` times.
    pub fn new(lexicon: &Lexicon, min_count: u64) -> PhoneticIndex {
        let encoder = Metaphone::new(None);
        let mut ranked: Vec<(&str, u64)> = lexicon
            .iter()
            .filter(|&(w, c)| c >= min_count && w.chars().all(|c| c.is_ascii_lowercase()))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut words: HashMap<String, Vec<String>> = HashMap::new();
        for (word, _) in ranked {
            let key = encoder.encode(word);
            if !key.is_empty() {
                words.entry(key).or_default().push(word.to_string());
            }
        }
        PhoneticIndex { encoder, words }
    }

    /// Common words that sound like `word` and are within three edits of
    /// it (and not `word` itself), most frequent first.
    pub fn lookup(&self, word: &str) -> Vec<&str> {
        if word.chars().count() < 3 || !word.chars().all(|c| c.is_ascii_lowercase()) {
            return Vec::new();
        }
        let key = self.encoder.encode(word);
        self.words
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|w| *w != word && strsim::damerau_levenshtein(w, word) <= MAX_DISTANCE)
            .take(MAX_RESULTS)
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_by_ear_find_the_word_they_sound_like() {
        let mut lexicon = Lexicon::default();
        for (word, count) in [("because", 90), ("said", 80), ("enough", 50), ("sad", 5)] {
            lexicon.add(word, count);
        }
        let index = PhoneticIndex::new(&lexicon, 10);
        assert_eq!(index.lookup("becuz"), ["because"]);
        assert_eq!(
            index.lookup("sed"),
            ["said"],
            "sad is too rare to be indexed"
        );
        assert!(
            index.lookup("said").is_empty(),
            "a word is not its own candidate"
        );
        assert!(index.lookup("xq").is_empty());
    }
}
