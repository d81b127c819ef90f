//! Word bigram counts: a second, cheap view of context next to the masked
//! language model. The small model that fits in the shipped package knows
//! less about which words follow which than 30 million words of counts do;
//! the two together rank candidates better than either alone.
//!
//! Stored as gzip-compressed `first second<TAB>count` lines, and held in
//! memory as 64-bit hashes of the pair, so that a million pairs cost about
//! 16 MB.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use rustc_hash::FxHashMap;

use crate::atomic::AtomicFile;
use crate::lexicon::{normalise, Lexicon};
use crate::text::{spans, SpanKind};
use crate::Error;

/// Sentence boundary, in place of a word.
pub const BOUNDARY: &str = "<s>";

/// Counts of adjacent word pairs.
#[derive(Debug, Clone, Default)]
pub struct Bigrams {
    // Keyed by FNV hashes already: Fx only has to spread them, where the
    // default SipHash took more time than the parsing.
    counts: FxHashMap<u64, u32>,
    /// Each word's pair counts summed as the first word and as the second:
    /// the corpus's own view of how common it is, on the pairs' scale.
    as_first: FxHashMap<u64, u64>,
    as_second: FxHashMap<u64, u64>,
    total: u64,
}

/// Counting: pairs by their words, to be pruned and saved.
#[derive(Debug, Default)]
pub struct BigramCounter {
    counts: HashMap<(String, String), u64>,
}

fn key(a: &str, b: &str) -> u64 {
    fnv(a.bytes().chain([b'\t']).chain(b.bytes()))
}

fn word_key(w: &str) -> u64 {
    fnv(w.bytes())
}

/// FNV-1a, 64-bit: collisions among a few million pairs are negligible.
fn fnv(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The words of a text, lower-cased, with a boundary for anything between
/// words other than whitespace (punctuation breaks a bigram).
/// `text` split around the first `byte`, an ASCII character.
fn split_once_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == byte)?;
    Some((&text[..at], &text[at + 1..]))
}

pub fn words_with_boundaries(text: &str) -> Vec<String> {
    let mut out = vec![BOUNDARY.to_string()];
    for span in spans(text) {
        match span.kind {
            SpanKind::Word => out.push(normalise(span.text(text))),
            SpanKind::Whitespace => {}
            _ => {
                if out.last().is_some_and(|w| w != BOUNDARY) {
                    out.push(BOUNDARY.to_string());
                }
            }
        }
    }
    if out.last().is_some_and(|w| w != BOUNDARY) {
        out.push(BOUNDARY.to_string());
    }
    out
}

impl BigramCounter {
    pub fn add_text(&mut self, text: &str) {
        let words = words_with_boundaries(text);
        for pair in words.windows(2) {
            if pair[0] == BOUNDARY && pair[1] == BOUNDARY {
                continue;
            }
            *self
                .counts
                .entry((pair[0].clone(), pair[1].clone()))
                .or_default() += 1;
        }
    }

    /// Writes the pairs seen at least `min_count` times whose words are in
    /// `lexicon` (or are boundaries), most frequent first.
    pub fn save(&self, path: &Path, min_count: u64, lexicon: &Lexicon) -> Result<usize, Error> {
        let known = |w: &str| w == BOUNDARY || lexicon.contains(w);
        let mut pairs: Vec<(&(String, String), u64)> = self
            .counts
            .iter()
            .filter(|&(p, &c)| c >= min_count && known(&p.0) && known(&p.1))
            .map(|(p, &c)| (p, c))
            .collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let file = AtomicFile::create(path)?;
        let mut gz = GzEncoder::new(file, Compression::best());
        let io = |e| Error::io(path, e);
        for ((a, b), c) in &pairs {
            writeln!(gz, "{a} {b}\t{c}").map_err(io)?;
        }
        gz.finish().map_err(io)?.commit()?;
        Ok(pairs.len())
    }
}

impl Bigrams {
    pub fn count(&self, a: &str, b: &str) -> u32 {
        self.counts.get(&key(a, b)).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Reads the format [`BigramCounter::save`] writes (gzip or not).
    pub fn from_bytes(bytes: &[u8]) -> Result<Bigrams, String> {
        let mut text = String::new();
        crate::gzip::maybe_gzip_bytes(bytes)
            .read_to_string(&mut text)
            .map_err(|e| format!("not gzip-compressed UTF-8 text: {e}"))?;
        Bigrams::parse(&text)
    }

    /// Parses the whole text at once, into maps sized for it: the shipped
    /// model's 1.1 million pairs took a third of typofix's start-up when
    /// read line by line into maps that grew as they went.
    fn parse(text: &str) -> Result<Bigrams, String> {
        let pairs = text.bytes().filter(|&b| b == b'\n').count() + 1;
        let mut bigrams = Bigrams {
            counts: FxHashMap::with_capacity_and_hasher(pairs, Default::default()),
            ..Bigrams::default()
        };
        // Split on bytes: `str`'s searchers for a `char` call `memcmp` at
        // every match, which took a third of this loop.
        for (n, line) in text.as_bytes().split(|&b| b == b'\n').enumerate() {
            let line = std::str::from_utf8(line).map_err(|e| format!("line {}: {e}", n + 1))?;
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let bad = || {
                format!(
                    "line {}: expected `first second<TAB>count`, got {line:?}",
                    n + 1
                )
            };
            let (pair, count) = split_once_byte(line, b'\t').ok_or_else(bad)?;
            let (a, b) = split_once_byte(pair, b' ').ok_or_else(bad)?;
            let count: u32 = count.trim().parse().map_err(|_| bad())?;
            bigrams.counts.insert(key(a, b), count);
            *bigrams.as_first.entry(word_key(a)).or_default() += u64::from(count);
            *bigrams.as_second.entry(word_key(b)).or_default() += u64::from(count);
            bigrams.total += u64::from(count);
        }
        Ok(bigrams)
    }

    /// log P(`b` | `a`) with stupid backoff to the unigram (Brants et al.,
    /// 2007): relative frequency when the pair was seen, else 0.4 times the
    /// word's frequency in the lexicon. Not normalised, which ranking does
    /// not need.
    ///
    /// The pairs are counted in Wikipedia, where `it's` or `gonna` are rare;
    /// the lexicon blends in conversational word lists. A seen pair's
    /// relative frequency is therefore taken against the pair counts' own
    /// totals, and then rescaled by `(P_lexicon(b) / P_pairs(b))^adaptation`
    /// (unigram rescaling of a background model to a target domain): at 1, a
    /// word that follows `a` as often as anything else does gets exactly its
    /// lexicon frequency, so informal words are not priced at Wikipedia's
    /// rates. At 0 the pairs speak for the corpus alone.
    pub fn log_prob(&self, lexicon: &Lexicon, a: &str, b: &str, adaptation: f64) -> f64 {
        let pair = self.count(a, b);
        let total = lexicon.total().max(1) as f64;
        if pair == 0 {
            let unigram = if b == BOUNDARY {
                // Sentences in the corpus: roughly one per 25 words.
                1.0 / 25.0
            } else {
                (lexicon.count(b) as f64 + 0.5) / total
            };
            return (0.4 * unigram).ln();
        }
        let sum = |marginal: &FxHashMap<u64, u64>, w: &str| {
            marginal.get(&word_key(w)).copied().unwrap_or(0).max(1) as f64
        };
        let mut log_p = (f64::from(pair) / sum(&self.as_first, a)).min(1.0).ln();
        if b != BOUNDARY && adaptation != 0.0 {
            let in_pairs = sum(&self.as_second, b) / self.total.max(1) as f64;
            let in_lexicon = (lexicon.count(b) as f64 + 0.5) / total;
            log_p += adaptation * (in_lexicon / in_pairs).ln();
        }
        log_p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_breaks_pairs_and_sentences_have_boundaries() {
        assert_eq!(
            words_with_boundaries("The cat, sat."),
            vec!["<s>", "the", "cat", "<s>", "sat", "<s>"]
        );
    }

    #[test]
    fn seen_pairs_beat_unseen_ones() {
        let mut lexicon = Lexicon::default();
        let mut counter = BigramCounter::default();
        for _ in 0..3 {
            let text = "we went to the store";
            lexicon.add_text(text);
            counter.add_text(text);
        }
        lexicon.add_text("too");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bigrams.tsv.gz");
        assert_eq!(counter.save(&path, 2, &lexicon).unwrap(), 6);
        let bigrams = Bigrams::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(bigrams.count("to", "the"), 3);
        for adaptation in [0.0, 1.0] {
            assert!(
                bigrams.log_prob(&lexicon, "went", "to", adaptation)
                    > bigrams.log_prob(&lexicon, "went", "too", adaptation)
            );
        }
    }

    #[test]
    fn adaptation_prices_a_word_at_the_lexicons_rate_not_the_corpuss() {
        // The pairs come from text where `it's` is rare; the lexicon (with
        // conversational lists blended in) knows it is as common as `its`.
        let mut counter = BigramCounter::default();
        for _ in 0..30 {
            counter.add_text("and its parts");
        }
        for _ in 0..3 {
            counter.add_text("and it's fine");
        }
        let mut lexicon = Lexicon::default();
        for word in ["and", "its", "it's", "parts", "fine"] {
            lexicon.add(word, 1000);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bigrams.tsv.gz");
        counter.save(&path, 1, &lexicon).unwrap();
        let bigrams = Bigrams::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
        let gap = |adaptation| {
            bigrams.log_prob(&lexicon, "and", "its", adaptation)
                - bigrams.log_prob(&lexicon, "and", "it's", adaptation)
        };
        // The corpus alone: ten times less likely after `and`.
        assert!((gap(0.0) - 10f64.ln()).abs() < 1e-9);
        // Rescaled to the lexicon, where the two are equally common, both
        // follow `and` equally often.
        assert!(gap(1.0).abs() < 1e-9);
    }
}
