//! Candidate words within a few edits of a misspelling, by the symmetric
//! delete method (SymSpell): every word is indexed under the strings left by
//! deleting up to `max_distance` of its letters, and a query looks up its
//! own deletes. That replaces Norvig's millions of generated edits per
//! query with a few dozen hash lookups.
//!
//! Written here rather than taken from a crate because the index is built
//! from our lexicon at load time and must be compact: it stores 32-bit hashes
//! of the deletes, sorted, and verifies every hit with a true edit distance,
//! so a hash collision costs a comparison, never a wrong candidate.

use std::collections::HashSet;

use rayon::prelude::*;

/// A symmetric-delete index over a word list.
#[derive(Debug, Clone)]
pub struct SymSpell {
    words: Vec<String>,
    /// (hash of a delete, word index), sorted by hash.
    keys: Vec<u32>,
    ids: Vec<u32>,
    max_distance: usize,
}

/// Words of this many letters or fewer are matched within one edit only:
/// two edits of a three-letter word reach half the dictionary.
const SHORT_WORD: usize = 4;

impl SymSpell {
    pub fn new(words: Vec<String>, max_distance: usize) -> SymSpell {
        // (hash << 32 | word index) sorts by hash in one u64 comparison.
        let mut pairs: Vec<u64> = words
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, w)| {
                let chars: Vec<char> = w.chars().collect();
                let depth = distance_for(chars.len(), max_distance);
                let mut hashes = Vec::new();
                deletes(&chars, depth, &mut hashes);
                hashes.sort_unstable();
                hashes.dedup();
                hashes
                    .into_iter()
                    .map(move |h| (u64::from(h) << 32) | i as u64)
            })
            .collect();
        pairs.par_sort_unstable();
        let keys = pairs.iter().map(|p| (p >> 32) as u32).collect();
        let ids = pairs.iter().map(|&p| p as u32).collect();
        SymSpell {
            words,
            keys,
            ids,
            max_distance,
        }
    }

    /// The indexed words within the edit distance allowed for `word`'s
    /// length (optimal string alignment: a swap of neighbours is one edit),
    /// with their distances. `word` itself is not returned.
    pub fn lookup(&self, word: &str) -> Vec<(&str, usize)> {
        let chars: Vec<char> = word.chars().collect();
        let depth = distance_for(chars.len(), self.max_distance);
        let mut hashes = Vec::new();
        deletes(&chars, depth, &mut hashes);
        hashes.sort_unstable();
        hashes.dedup();
        let mut found: HashSet<u32> = HashSet::new();
        for h in hashes {
            let start = self.keys.partition_point(|&k| k < h);
            let end = start + self.keys[start..].partition_point(|&k| k == h);
            found.extend(&self.ids[start..end]);
        }
        let mut out: Vec<(&str, usize)> = found
            .into_iter()
            .filter_map(|id| {
                let candidate = self.words[id as usize].as_str();
                let limit = distance_for(candidate.chars().count(), depth)
                    .max(1)
                    .min(depth);
                let d = strsim::osa_distance(word, candidate);
                (d > 0 && d <= limit).then_some((candidate, d))
            })
            .collect();
        out.sort_unstable_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
        out
    }
}

fn distance_for(len: usize, max_distance: usize) -> usize {
    if len <= SHORT_WORD {
        max_distance.min(1)
    } else {
        max_distance
    }
}

/// Adds the hashes of `chars` and of every string made by deleting up to
/// `depth` characters. Deletions go left to right, so each set of deleted
/// positions is visited once.
fn deletes(chars: &[char], depth: usize, out: &mut Vec<u32>) {
    out.push(hash(chars));
    deletes_from(chars, depth, 0, out);
}

fn deletes_from(chars: &[char], depth: usize, from: usize, out: &mut Vec<u32>) {
    if depth == 0 || chars.len() <= 1 {
        return;
    }
    let mut shorter = Vec::with_capacity(chars.len() - 1);
    for i in from..chars.len() {
        shorter.clear();
        shorter.extend_from_slice(&chars[..i]);
        shorter.extend_from_slice(&chars[i + 1..]);
        out.push(hash(&shorter));
        deletes_from(&shorter, depth - 1, i, out);
    }
}

/// FNV-1a over the characters: fast, and good enough for a key whose hits are
/// verified.
fn hash(chars: &[char]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &c in chars {
        for b in (c as u32).to_le_bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(words: &[&str]) -> SymSpell {
        SymSpell::new(words.iter().map(|w| w.to_string()).collect(), 2)
    }

    #[test]
    fn finds_words_within_two_edits_nearest_first() {
        let s = index(&["sentence", "sentences", "tense", "quick", "quack"]);
        let found = s.lookup("sentenc");
        assert_eq!(found, vec![("sentence", 1), ("sentences", 2)]);
        assert_eq!(s.lookup("quikc")[0], ("quick", 1), "a swap is one edit");
    }

    #[test]
    fn short_words_are_matched_within_one_edit() {
        let s = index(&["the", "tea", "ten", "then"]);
        let found: Vec<&str> = s.lookup("teh").into_iter().map(|(w, _)| w).collect();
        assert_eq!(found, vec!["tea", "ten", "the"]);
        assert!(s.lookup("xyz").is_empty());
    }

    #[test]
    fn the_query_itself_is_not_a_candidate() {
        let s = index(&["store", "stir"]);
        assert_eq!(s.lookup("store"), vec![]);
    }
}
