//! Allow-list files: words never to correct, one per line, with `#`
//! comments. `typofix fix --allow-file` reads them and the language
//! server's "add to dictionary" writes them, so the two agree.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::Error;

/// The words of an allow-list's text.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|word| !word.is_empty())
}

/// The words of the allow-list at `path`.
pub fn read(path: &Path) -> Result<Vec<String>, Error> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(words(&text).map(String::from).collect())
}

/// Adds `word` to the allow-list at `path`, making the file if there is
/// none. A word already there is not added again.
pub fn add(path: &Path, word: &str) -> Result<(), Error> {
    let word = word.trim();
    if word.is_empty() || word.contains(['#', '\n', '\r']) {
        return Err(Error::InvalidArgument(format!(
            "{word:?} cannot go in an allow-list: one word per line, without '#'"
        )));
    }
    let existing = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(path, e)),
    };
    if words(&existing).any(|w| w == word) {
        return Ok(());
    }
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let separator = if existing.is_empty() || existing.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    writeln!(file, "{separator}{word}").map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_not_words() {
        let text = "# project words\nkubectl\n\n  serde  # the crate\n#\n";
        assert_eq!(words(text).collect::<Vec<_>>(), ["kubectl", "serde"]);
    }

    #[test]
    fn adding_makes_the_file_keeps_what_is_there_and_does_not_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("words.txt");
        add(&path, "kubectl").unwrap();
        fs::write(&path, "kubectl\n# ours\nserde").unwrap();
        add(&path, "typofix").unwrap();
        add(&path, "serde").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "kubectl\n# ours\nserde\ntypofix\n"
        );
        assert_eq!(read(&path).unwrap(), ["kubectl", "serde", "typofix"]);
        assert!(add(&path, "a#b").is_err());
    }
}
