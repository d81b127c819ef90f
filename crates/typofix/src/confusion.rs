//! Real-word confusion sets (their/there/they're, to/too/two, …).

use std::collections::HashMap;
use std::path::Path;

use crate::Error;

const BUILTIN: &str = include_str!("../assets/confusion_sets.txt");

/// For each word, the words it is confused with.
#[derive(Debug, Clone, Default)]
pub struct ConfusionSets {
    alternatives: HashMap<String, Vec<String>>,
}

impl ConfusionSets {
    /// The sets that ship with typofix.
    pub fn builtin() -> ConfusionSets {
        ConfusionSets::parse(BUILTIN)
    }

    /// Reads sets from a file: one comma-separated set per line, optionally
    /// followed by a tab and anything (After the Deadline's merged TSV has
    /// `words<TAB>sources` with a `words` header).
    pub fn from_path(path: &Path) -> Result<ConfusionSets, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let sets = ConfusionSets::parse(&text);
        if sets.alternatives.is_empty() {
            return Err(Error::InvalidData {
                path: path.to_owned(),
                reason: "no confusion set found (expected lines like `their,there,they're`)".into(),
            });
        }
        Ok(sets)
    }

    fn parse(text: &str) -> ConfusionSets {
        let mut alternatives: HashMap<String, Vec<String>> = HashMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("words\t") {
                continue;
            }
            let words_field = line.split('\t').next().unwrap_or("");
            let words: Vec<String> = words_field
                .split(',')
                .map(|w| w.trim().to_lowercase().replace('’', "'"))
                .filter(|w| !w.is_empty() && !w.contains(' '))
                .collect();
            for w in &words {
                let entry = alternatives.entry(w.clone()).or_default();
                for other in &words {
                    if other != w && !entry.contains(other) {
                        entry.push(other.clone());
                    }
                }
            }
        }
        alternatives.retain(|_, alts| !alts.is_empty());
        ConfusionSets { alternatives }
    }

    /// The words `word` (lower-case, straight apostrophe) is confused with.
    pub fn alternatives(&self, word: &str) -> &[String] {
        self.alternatives.get(word).map_or(&[], Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.alternatives.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alternatives.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_sets_cover_the_classic_confusions() {
        let sets = ConfusionSets::builtin();
        let mut their = sets.alternatives("their").to_vec();
        their.sort();
        assert_eq!(their, ["there", "they're"]);
        assert!(sets.alternatives("you're").contains(&"your".to_string()));
        assert!(sets.alternatives("it's").contains(&"its".to_string()));
        assert!(sets.alternatives("to").contains(&"too".to_string()));
        assert!(sets.alternatives("zebra").is_empty());
    }

    #[test]
    fn atd_style_tsv_is_read_and_sets_sharing_a_word_are_merged() {
        let sets = ConfusionSets::parse("words\tsources\nto,too\tatd\nto,two\tatd\n");
        let mut to = sets.alternatives("to").to_vec();
        to.sort();
        assert_eq!(to, ["too", "two"]);
        assert!(sets.alternatives("words").is_empty());
    }
}
