//! Candidates: what a suspect might have meant. A word's come from the
//! symmetric-delete index (up to two edits), the misspelling tables read
//! backwards and splits into two known words; a pair's from merges and
//! shifted boundaries; a confusion-set member's from its set. Each is priced
//! by the channel model, and only the likeliest few go on to be scored.

use std::collections::HashMap;

use super::channel::Priced;
use super::Corrector;
use crate::lexicon::Lexicon;
use crate::misspellings::MisspellingTable;
use crate::ErrorKind;

/// How many times more often a pair must be written apart than together
/// for the joined form to be a merge.
const SPLIT_RATIO: u64 = 4;

/// One reading of a slot: its words, log P(typed | these words) from the
/// channel model, and the kind of error that reading implies.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub words: Vec<String>,
    pub channel: f64,
    pub kind: ErrorKind,
    /// A slip people make while writing a correct word (a confusion-set
    /// swap, a dropped apostrophe, a merge): its prior is in `channel`, so
    /// the known-word margin does not apply to it.
    pub word_slip: bool,
}

/// Misspelling → (correct word, its share of that word's misspellings), for
/// the lexicon's words: the misspelling tables read backwards.
pub(super) fn known_misspellings(
    lexicon: &Lexicon,
    table: &MisspellingTable,
) -> HashMap<String, Vec<(String, f64)>> {
    let mut known: HashMap<String, Vec<(String, f64)>> = HashMap::new();
    for correct in table.words() {
        if !lexicon.contains(correct) {
            continue;
        }
        let wrongs: Vec<(&str, u64)> = table.misspellings_of(correct).collect();
        let total: u64 = wrongs.iter().map(|&(_, w)| w).sum();
        let common = lexicon.count(correct);
        for (wrong, weight) in wrongs {
            // A "misspelling" nearly as common as the word is a word of its
            // own (form → from is in the tables, but form is fine); one a
            // hundred times rarer is a typo (teh).
            if lexicon.count(wrong).saturating_mul(100) > common {
                continue;
            }
            known
                .entry(wrong.to_string())
                .or_default()
                .push((correct.to_string(), weight as f64 / total.max(1) as f64));
        }
    }
    known
}

/// Apostrophe-less form → the lexicon's forms with apostrophes (dont →
/// don't, youre → you're, elses → else's): people drop apostrophes far more
/// often than any edit distance would price it.
pub(super) fn apostrophe_forms(lexicon: &Lexicon, min_count: u64) -> HashMap<String, Vec<String>> {
    let mut forms: HashMap<String, Vec<String>> = HashMap::new();
    for (word, count) in lexicon.iter() {
        if count < min_count || !word.contains('\'') {
            continue;
        }
        let bare = word.replace('\'', "");
        if !bare.is_empty() {
            forms.entry(bare).or_default().push(word.to_string());
        }
    }
    for list in forms.values_mut() {
        list.sort();
    }
    forms
}

/// `word` with every run of three or more of a letter cut to one and to
/// two (each run both ways, up to 16 forms): how people stretch words for
/// emphasis.
fn squeezed_forms(word: &str) -> Vec<String> {
    let mut runs: Vec<(char, usize)> = Vec::new();
    for c in word.chars() {
        match runs.last_mut() {
            Some((last, n)) if *last == c => *n += 1,
            _ => runs.push((c, 1)),
        }
    }
    let long: Vec<usize> = (0..runs.len()).filter(|&i| runs[i].1 >= 3).collect();
    if long.is_empty() || long.len() > 4 {
        return Vec::new();
    }
    (0..1u32 << long.len())
        .map(|choice| {
            let mut out = String::new();
            for (i, &(c, n)) in runs.iter().enumerate() {
                let keep = match long.iter().position(|&l| l == i) {
                    Some(bit) => 1 + ((choice >> bit) & 1) as usize,
                    None => n,
                };
                out.extend(std::iter::repeat_n(c, keep));
            }
            out
        })
        .collect()
}

impl Corrector {
    /// The apostrophe forms of `word` that are more common than it, as
    /// candidates: `dont` gets `don't`, but `were` is left to its
    /// confusion set.
    pub(super) fn apostrophe_candidates(&self, word: &str) -> Vec<Candidate> {
        let count = self.lexicon.count(word);
        let Some(forms) = self.apostrophes.get(word) else {
            return Vec::new();
        };
        forms
            .iter()
            .filter(|form| self.lexicon.count(form) > count)
            .map(|form| Candidate {
                words: vec![form.clone()],
                channel: self
                    .settings
                    .channel
                    .log_known_misspelling(1.0 / forms.len() as f64),
                kind: ErrorKind::Misspelling,
                word_slip: true,
            })
            .collect()
    }

    /// Stretched words (waaaay → way, hmmmm → hmm, sooooo → so): the
    /// squeezed forms more common than the word as written.
    pub(super) fn stretch_candidates(&self, word: &str) -> Vec<Candidate> {
        let count = self.lexicon.count(word);
        squeezed_forms(word)
            .into_iter()
            .filter(|f| {
                let c = self.lexicon.count(f);
                c >= self.settings.candidate_min_count && c > count
            })
            .map(|f| Candidate {
                words: vec![f],
                channel: self.settings.channel.log_known_misspelling(1.0),
                kind: ErrorKind::Double,
                word_slip: true,
            })
            .collect()
    }

    /// Two words for a known one that the word-pair counts see written
    /// apart far more often than together: highschool → high school.
    pub(super) fn split_candidates(&self, word: &str) -> Vec<Candidate> {
        let Some(bigrams) = &self.bigrams else {
            return Vec::new();
        };
        let s = &self.settings;
        let together = self.lexicon.count(word);
        let mut out = Vec::new();
        for (at, _) in word.char_indices().skip(1) {
            let (a, b) = word.split_at(at);
            let apart = u64::from(bigrams.count(a, b));
            if apart >= s.split_min_count && apart > together.saturating_mul(SPLIT_RATIO) {
                if let Some(p) = s.channel.price(word, &format!("{a} {b}")) {
                    out.push(Candidate {
                        words: vec![a.to_string(), b.to_string()],
                        channel: p.log_prob,
                        kind: ErrorKind::Space,
                        word_slip: true,
                    });
                }
            }
        }
        out
    }

    /// Spelling candidates for one unknown or rare word. A known word
    /// only gets candidates one edit away: a rare word is more often right
    /// than two slips away from a common one.
    pub(super) fn word_candidates(&self, word: &str, known: bool) -> Vec<Candidate> {
        let s = &self.settings;
        let channel = &s.channel;
        let mut found: HashMap<Vec<String>, Candidate> = HashMap::new();
        let mut offer = |words: Vec<String>, priced: Option<Priced>| {
            if let Some(p) = priced {
                let entry = found.entry(words.clone()).or_insert(Candidate {
                    words,
                    channel: f64::NEG_INFINITY,
                    kind: p.kind,
                    word_slip: false,
                });
                if p.log_prob > entry.channel {
                    entry.channel = p.log_prob;
                    entry.kind = p.kind;
                }
            }
        };
        let max_distance = if known { 1 } else { 2 };
        for (candidate, _) in self
            .index
            .lookup(word)
            .into_iter()
            .filter(|&(_, d)| d <= max_distance)
        {
            offer(vec![candidate.to_string()], channel.price(word, candidate));
        }
        if !known {
            // Respellings by ear reach three edits, past the index, but pay
            // for every edit like any other candidate: a floor at a known
            // misspelling's price let common words that merely sound alike
            // (teste → dust, gound → kind) outbid the nearer word, and cost
            // 4.9 points of F1 on bea322 and 7–8 on norvig (docs/EVAL.md).
            for candidate in self.phonetic.lookup(word) {
                offer(
                    vec![candidate.to_string()],
                    channel.price(word, candidate).map(|p| Priced {
                        kind: ErrorKind::Misspelling,
                        ..p
                    }),
                );
            }
        }
        for (correct, share) in self.known.get(word).into_iter().flatten() {
            offer(
                vec![correct.clone()],
                Some(Priced {
                    log_prob: channel.log_known_misspelling(*share),
                    kind: ErrorKind::Misspelling,
                }),
            );
        }
        // Merged words: alot → a lot.
        for (at, _) in word.char_indices().skip(1) {
            let (a, b) = word.split_at(at);
            if self.lexicon.count(a) >= s.split_min_count
                && self.lexicon.count(b) >= s.split_min_count
            {
                offer(
                    vec![a.to_string(), b.to_string()],
                    channel.price(word, &format!("{a} {b}")),
                );
            }
        }
        self.best_candidates(found.into_values().collect())
    }

    /// Re-segmentations of two neighbouring words: merges (sen tence →
    /// sentence) and shifted boundaries (Thi sis → This is).
    pub(super) fn pair_candidates(&self, a: &str, b: &str) -> Vec<Candidate> {
        let s = &self.settings;
        let observed = format!("{a} {b}");
        let joined = format!("{a}{b}");
        let mut out = Vec::new();
        if self.lexicon.count(&joined) >= s.candidate_min_count {
            if let Some(p) = s.channel.price(&observed, &joined) {
                out.push(Candidate {
                    words: vec![joined.clone()],
                    channel: p.log_prob,
                    kind: ErrorKind::Space,
                    word_slip: false,
                });
            }
        }
        for (at, _) in joined.char_indices().skip(1) {
            let (x, y) = joined.split_at(at);
            if x == a {
                continue;
            }
            if self.lexicon.count(x) >= s.split_min_count
                && self.lexicon.count(y) >= s.split_min_count
            {
                if let Some(p) = s.channel.price(&observed, &format!("{x} {y}")) {
                    out.push(Candidate {
                        words: vec![x.to_string(), y.to_string()],
                        channel: p.log_prob,
                        kind: ErrorKind::Space,
                        word_slip: false,
                    });
                }
            }
        }
        self.best_candidates(out)
    }

    /// Keeps the `max_candidates` likeliest by channel and word frequency, so
    /// that the model only scores plausible ones.
    pub(super) fn best_candidates(&self, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
        let total = self.lexicon.total().max(1) as f64;
        let prior = |c: &Candidate| {
            c.channel
                + c.words
                    .iter()
                    .map(|w| ((self.lexicon.count(w) as f64 + 0.5) / total).ln())
                    .sum::<f64>()
        };
        candidates.sort_by(|a, b| prior(b).total_cmp(&prior(a)).then(a.words.cmp(&b.words)));
        candidates.truncate(self.settings.max_candidates);
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretched_letters_squeeze_to_one_or_two() {
        assert_eq!(squeezed_forms("waaaay"), ["way", "waay"]);
        assert_eq!(squeezed_forms("hmmmm"), ["hm", "hmm"]);
        assert_eq!(squeezed_forms("sooo goood").len(), 4, "each run both ways");
        assert!(
            squeezed_forms("good").is_empty(),
            "two of a letter is spelling"
        );
    }
}
