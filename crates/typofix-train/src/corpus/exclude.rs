//! Sentences that must never be trained on, such as the dev sets.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use typofix::gzip::open_maybe_gzip;
use typofix::Error;

/// A stable 64-bit FNV-1a hash. Written out because the split between train
/// and validation depends on it, and std's hasher may change between releases.
pub(crate) fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Hash of a sentence's letters and digits, lower-cased: the same sentence
/// with other spacing, casing or punctuation hashes the same.
pub fn sentence_key(sentence: &str) -> u64 {
    let mut buf = [0u8; 4];
    fnv1a(
        sentence
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .flat_map(|c| c.encode_utf8(&mut buf).as_bytes().to_vec()),
    )
}

/// A set of sentences to leave out of generated data.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    keys: HashSet<u64>,
}

impl Exclusions {
    /// Reads JSONL files (every `clean` and `corrupted` field) or text files
    /// (every line).
    pub fn from_paths(paths: &[impl AsRef<Path>]) -> Result<Exclusions, Error> {
        let mut keys = HashSet::new();
        for path in paths {
            let path = path.as_ref();
            for line in open_maybe_gzip(path)?.lines() {
                let line = line.map_err(|e| Error::io(path, e))?;
                match serde_json::from_str::<serde_json::Value>(&line) {
                    Ok(value) if value.is_object() => {
                        for field in ["clean", "corrupted"] {
                            if let Some(text) = value.get(field).and_then(|v| v.as_str()) {
                                keys.insert(sentence_key(text));
                            }
                        }
                    }
                    _ if !line.trim().is_empty() => {
                        keys.insert(sentence_key(&line));
                    }
                    _ => {}
                }
            }
        }
        Ok(Exclusions { keys })
    }

    pub fn contains_key(&self, key: u64) -> bool {
        self.keys.contains(&key)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_spacing_and_punctuation() {
        assert_eq!(sentence_key("Hello, World!"), sentence_key("hello world"));
        assert_ne!(sentence_key("hello world"), sentence_key("hello word"));
    }

    #[test]
    fn jsonl_and_text_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = dir.path().join("dev.jsonl");
        std::fs::write(
            &jsonl,
            "{\"corrupted\": \"Teh cat.\", \"clean\": \"The cat.\"}\n",
        )
        .unwrap();
        let txt = dir.path().join("dev.txt");
        std::fs::write(&txt, "A dog barked.\n").unwrap();
        let ex = Exclusions::from_paths(&[jsonl, txt]).unwrap();
        for s in ["The cat.", "teh cat", "A dog barked."] {
            assert!(ex.contains_key(sentence_key(s)), "{s}");
        }
        assert_eq!(ex.len(), 3);
    }
}
