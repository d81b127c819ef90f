//! Simple baselines: the identity, and a Norvig-style nearest-edit corrector
//! over the same lexicon as typofix.

use rayon::prelude::*;

use super::System;
use typofix::correct::SymSpell;
use typofix::lexicon::{normalise, Lexicon};
use typofix::text::{spans, Casing, SpanKind};
use typofix::Error;

/// Changes nothing: the floor every corrector must beat on broken words.
pub struct Identity;

impl System for Identity {
    fn name(&self) -> String {
        "identity".into()
    }

    fn correct(&self, texts: &[&str]) -> Result<Vec<String>, Error> {
        Ok(texts.iter().map(|t| t.to_string()).collect())
    }
}

/// Replaces every unknown word with the most frequent known word at the
/// smallest edit distance (up to two), as Norvig's corrector does; no
/// context, no error model.
pub struct NearestEdit {
    lexicon: Lexicon,
    index: SymSpell,
}

impl NearestEdit {
    /// `min_count`: words seen fewer times are neither known nor candidates.
    pub fn new(lexicon: &Lexicon, min_count: u64) -> NearestEdit {
        let mut known = Lexicon::default();
        for (w, c) in lexicon.iter().filter(|&(_, c)| c >= min_count) {
            known.add(w, c);
        }
        let index = SymSpell::new(known.iter().map(|(w, _)| w.to_string()).collect(), 2);
        NearestEdit {
            lexicon: known,
            index,
        }
    }

    fn correct_one(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for span in spans(text) {
            let raw = span.text(text);
            let word = normalise(raw);
            if span.kind != SpanKind::Word || self.lexicon.contains(&word) {
                out.push_str(raw);
                continue;
            }
            let best = self
                .index
                .lookup(&word)
                .into_iter()
                .min_by_key(|&(w, d)| (d, std::cmp::Reverse(self.lexicon.count(w))));
            match best {
                Some((w, _)) => out.push_str(&Casing::of(raw).apply(w)),
                None => out.push_str(raw),
            }
        }
        out
    }
}

impl System for NearestEdit {
    fn name(&self) -> String {
        "nearest-edit".into()
    }

    fn correct(&self, texts: &[&str]) -> Result<Vec<String>, Error> {
        Ok(texts.par_iter().map(|t| self.correct_one(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_edit_prefers_the_closest_then_the_most_frequent_word() {
        let mut lexicon = Lexicon::default();
        lexicon.add_text("the the the then tea cat");
        let baseline = NearestEdit::new(&lexicon, 1);
        let out = baseline.correct(&["Teh cat", "the cat"]).unwrap();
        assert_eq!(out, vec!["The cat", "the cat"]);
    }
}
