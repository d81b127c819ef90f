//! The lexicon: lower-cased words and how often the corpus uses them.
//!
//! It answers two questions for the corrector: is a word known (so it is only
//! corrected when the context clearly asks for another word), and which words
//! are candidates for a misspelling. It is counted from clean text by
//! `typofix data build-lexicon` and stored as gzip-compressed `word<TAB>count`
//! lines, most frequent first.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::atomic::AtomicFile;
use crate::text::{spans, SpanKind};
use crate::Error;

/// Word counts, lower-cased, with straight apostrophes.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    counts: HashMap<String, u64>,
    total: u64,
}

/// The form words take in the lexicon: lower-case, straight apostrophes.
pub fn normalise(word: &str) -> String {
    word.to_lowercase().replace('’', "'")
}

impl Lexicon {
    /// Adds every word of `text`.
    pub fn add_text(&mut self, text: &str) {
        for span in spans(text) {
            if span.kind == SpanKind::Word {
                self.add(&normalise(span.text(text)), 1);
            }
        }
    }

    pub fn add(&mut self, word: &str, count: u64) {
        match self.counts.get_mut(word) {
            Some(c) => *c += count,
            None => {
                self.counts.insert(word.to_string(), count);
            }
        }
        self.total += count;
    }

    /// Drops the words seen fewer than `min_count` times: at that rarity a
    /// word is as likely to be a typo in the corpus as a word.
    pub fn prune(&mut self, min_count: u64) {
        self.counts.retain(|_, c| *c >= min_count);
    }

    pub fn count(&self, word: &str) -> u64 {
        self.counts.get(word).copied().unwrap_or(0)
    }

    pub fn contains(&self, word: &str) -> bool {
        self.counts.contains_key(word)
    }

    /// Words counted in the corpus, pruned ones included.
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The words and their counts, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.counts.iter().map(|(w, &c)| (w.as_str(), c))
    }

    /// Writes `word<TAB>count` lines, most frequent first, gzip-compressed,
    /// after a `#total<TAB>N` header.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let mut words: Vec<(&str, u64)> = self.iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let file = AtomicFile::create(path)?;
        let mut gz = GzEncoder::new(file, Compression::best());
        let io = |e| Error::io(path, e);
        writeln!(gz, "#total\t{}", self.total).map_err(io)?;
        for (word, count) in words {
            writeln!(gz, "{word}\t{count}").map_err(io)?;
        }
        gz.finish().map_err(io)?.commit()
    }

    pub fn load(path: &Path) -> Result<Lexicon, Error> {
        let reader = crate::gzip::open_maybe_gzip(path)?;
        Lexicon::read(reader).map_err(|reason| Error::InvalidData {
            path: path.to_owned(),
            reason,
        })
    }

    /// Reads the format [`Lexicon::save`] writes (gzip-compressed or not).
    pub fn from_bytes(bytes: &[u8]) -> Result<Lexicon, String> {
        Lexicon::read(crate::gzip::maybe_gzip_bytes(bytes))
    }

    fn read(reader: impl BufRead) -> Result<Lexicon, String> {
        let mut lexicon = Lexicon::default();
        let mut total = None;
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| format!("line {}: {e}", n + 1))?;
            let bad = || format!("line {}: expected `word<TAB>count`, got {line:?}", n + 1);
            let (word, count) = line.split_once('\t').ok_or_else(bad)?;
            let count: u64 = count.trim().parse().map_err(|_| bad())?;
            if word == "#total" {
                total = Some(count);
            } else {
                lexicon.add(word, count);
            }
        }
        if lexicon.is_empty() {
            return Err("the lexicon has no words".into());
        }
        lexicon.total = total.unwrap_or(lexicon.total).max(lexicon.total);
        Ok(lexicon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_counted_lower_cased_and_punctuation_is_not_a_word() {
        let mut lexicon = Lexicon::default();
        lexicon.add_text("The cat saw the dog. They’re 42 here, at https://x.org!");
        assert_eq!(lexicon.count("the"), 2);
        assert_eq!(lexicon.count("they're"), 1);
        assert_eq!(lexicon.count("42"), 0);
        assert!(!lexicon.contains("."));
        assert_eq!(lexicon.total(), 8);
    }

    #[test]
    fn a_saved_lexicon_loads_back_with_its_total() {
        let mut lexicon = Lexicon::default();
        lexicon.add_text("a a a b b c");
        lexicon.prune(2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lexicon.tsv.gz");
        lexicon.save(&path).unwrap();
        let back = Lexicon::load(&path).unwrap();
        assert_eq!(
            (back.count("a"), back.count("b"), back.count("c")),
            (3, 2, 0)
        );
        assert_eq!(back.total(), 6);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(Lexicon::from_bytes(&bytes).unwrap().len(), 2);
    }
}
