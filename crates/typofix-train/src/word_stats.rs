//! Word statistics from beyond the corpus: the frequency lists that
//! registry packages ship (wordfreq's blend of subtitles, web text, Twitter
//! and Reddit; OpenSubtitles counts; symspell's unigrams).
//!
//! Wikipedia alone has few contractions, little chat spelling and few
//! everyday words of its own kind (nukes, invoiced, hogtied): a corrector
//! that knows only its words "corrects" them. [`blend`] mixes the corpus's
//! counts with such lists, as relative frequencies, into one lexicon on the
//! corpus's scale, so the corrector's count thresholds keep their meaning.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use typofix::lexicon::{normalise, Lexicon};
use typofix::text::{spans, SpanKind};
use typofix::Error;

/// A word list's relative frequencies (lower-cased, straight apostrophes).
#[derive(Debug, Clone, Default)]
pub struct WordFrequencies {
    frequencies: HashMap<String, f64>,
}

impl WordFrequencies {
    /// Reads a frequency list, the format told by the file's name:
    /// - `*.msgpack.gz`: wordfreq's cBpack (words in bins of one centibel);
    /// - `*.json` or `*.json.gz`: an object of word → count (pyspellchecker);
    /// - anything else: `word count` lines, space- or tab-separated (symspell).
    pub fn load(path: &Path) -> Result<WordFrequencies, Error> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let invalid = |reason: String| Error::InvalidData {
            path: path.to_owned(),
            reason,
        };
        let mut bytes = Vec::new();
        typofix::gzip::open_maybe_gzip(path)?
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
        let counts = if name.contains(".msgpack") {
            cbpack(&bytes).map_err(invalid)?
        } else if name.contains(".json") {
            let counts: HashMap<String, f64> = serde_json::from_slice(&bytes)
                .map_err(|e| invalid(format!("expected a JSON object of word → count: {e}")))?;
            counts.into_iter().collect()
        } else {
            word_count_lines(&String::from_utf8_lossy(&bytes)).map_err(invalid)?
        };
        let list = WordFrequencies::from_counts(counts);
        if list.frequencies.is_empty() {
            return Err(invalid("the list has no words".into()));
        }
        Ok(list)
    }

    /// Frequencies from raw counts. Entries that are not one word as the
    /// corrector splits text (numbers, hyphenated pairs, punctuation) are
    /// dropped, and the rest normalised to sum to one.
    pub fn from_counts(counts: impl IntoIterator<Item = (String, f64)>) -> WordFrequencies {
        let mut frequencies: HashMap<String, f64> = HashMap::new();
        for (word, count) in counts {
            if count > 0.0 && is_one_word(&word) {
                *frequencies.entry(normalise(&word)).or_default() += count;
            }
        }
        let total: f64 = frequencies.values().sum();
        for f in frequencies.values_mut() {
            *f /= total;
        }
        WordFrequencies { frequencies }
    }

    pub fn frequency(&self, word: &str) -> f64 {
        self.frequencies.get(word).copied().unwrap_or(0.0)
    }

    pub fn len(&self) -> usize {
        self.frequencies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frequencies.is_empty()
    }
}

/// The corpus's lexicon mixed with word lists: each word's frequency is
/// `(1 - weight)` times its corpus frequency plus `weight` times its mean
/// frequency in the lists, expressed as a count on the corpus's total.
/// Words whose blended count is under one are left out.
pub fn blend(corpus: &Lexicon, lists: &[WordFrequencies], weight: f64) -> Lexicon {
    let total = corpus.total().max(1) as f64;
    let mut mixed: HashMap<&str, f64> = HashMap::new();
    let own = if lists.is_empty() { 1.0 } else { 1.0 - weight };
    for (word, count) in corpus.iter() {
        *mixed.entry(word).or_default() += own * count as f64 / total;
    }
    for list in lists {
        let share = weight / lists.len() as f64;
        for (word, f) in &list.frequencies {
            *mixed.entry(word.as_str()).or_default() += share * f;
        }
    }
    let mut out = Lexicon::default();
    for (word, f) in mixed {
        let count = (f * total).round() as u64;
        if count >= 1 {
            out.add(word, count);
        }
    }
    out
}

/// Whether the corrector's text splitter sees `word` as exactly one word.
fn is_one_word(word: &str) -> bool {
    let found = spans(word);
    found.len() == 1 && found[0].kind == SpanKind::Word && found[0].end == word.len()
}

/// wordfreq's cBpack: `[header, bin0, bin1, …]`, where the words of bin `i`
/// have frequency 10^(-i/100).
fn cbpack(bytes: &[u8]) -> Result<Vec<(String, f64)>, String> {
    let value: Vec<serde_json::Value> = rmp_serde::from_slice(bytes)
        .map_err(|e| format!("not a wordfreq cBpack (msgpack) file: {e}"))?;
    let (header, bins) = value.split_first().ok_or("the cBpack file is empty")?;
    if header["format"] != "cB" {
        return Err(format!("expected a cBpack header, got {header}"));
    }
    let mut out = Vec::new();
    for (i, bin) in bins.iter().enumerate() {
        let frequency = 10f64.powf(-(i as f64) / 100.0);
        let words = bin.as_array().ok_or("a cBpack bin is not a list")?;
        for word in words.iter().filter_map(|w| w.as_str()) {
            out.push((word.to_string(), frequency));
        }
    }
    Ok(out)
}

fn word_count_lines(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || format!("line {}: expected `word count`, got {line:?}", n + 1);
        let (word, count) = line.trim().rsplit_once([' ', '\t']).ok_or_else(bad)?;
        let count: f64 = count.parse().map_err(|_| bad())?;
        out.push((word.trim().to_string(), count));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon(text: &str) -> Lexicon {
        let mut lexicon = Lexicon::default();
        lexicon.add_text(text);
        lexicon
    }

    #[test]
    fn a_list_keeps_only_single_words_as_relative_frequencies() {
        let list = WordFrequencies::from_counts([
            ("The".to_string(), 6.0),
            ("don’t".to_string(), 2.0),
            ("42".to_string(), 5.0),
            ("e-mail".to_string(), 5.0),
            ("lol".to_string(), 2.0),
        ]);
        assert_eq!(list.len(), 3);
        assert_eq!(list.frequency("the"), 0.6);
        assert_eq!(list.frequency("don't"), 0.2);
        assert_eq!(list.frequency("42"), 0.0);
    }

    #[test]
    fn blending_adds_the_lists_words_on_the_corpus_scale() {
        let corpus = lexicon("the cat the dog the cat the end the end");
        let list =
            WordFrequencies::from_counts([("the".to_string(), 5.0), ("gonna".to_string(), 5.0)]);
        let mixed = blend(&corpus, &[list], 0.8);
        // the: 0.2 * 5/10 + 0.8 * 0.5 = 0.5 of the corpus's 10 words.
        assert_eq!(mixed.count("the"), 5);
        assert_eq!(mixed.count("gonna"), 4);
        assert_eq!(mixed.count("end"), 0, "0.4 of a word rounds to nothing");
        assert_eq!(blend(&corpus, &[], 0.5).count("dog"), 1);
    }

    #[test]
    fn the_three_file_formats_load() {
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("counts.txt");
        std::fs::write(&lines, "the 30\ncat\t10\n\n").unwrap();
        assert_eq!(
            WordFrequencies::load(&lines).unwrap().frequency("cat"),
            0.25
        );
        let json = dir.path().join("en.json");
        std::fs::write(&json, r#"{"the": 3, "cat": 1}"#).unwrap();
        assert_eq!(WordFrequencies::load(&json).unwrap().frequency("cat"), 0.25);
        let pack = dir.path().join("large_en.msgpack");
        let value = serde_json::json!([{"format": "cB", "version": 1}, ["the"], [], ["cat"]]);
        std::fs::write(&pack, rmp_serde::to_vec(&value).unwrap()).unwrap();
        let list = WordFrequencies::load(&pack).unwrap();
        let ratio = list.frequency("the") / list.frequency("cat");
        assert!((ratio - 10f64.powf(0.02)).abs() < 1e-9, "{ratio}");
        std::fs::write(&lines, "the thirty\n").unwrap();
        let err = WordFrequencies::load(&lines).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }
}
