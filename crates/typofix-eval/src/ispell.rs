//! hunspell and aspell as baselines, through the ispell pipe protocol
//! (`-a`): each input line gets one result line per misspelled word
//! (`& word n offset: first, second, …` or `# word offset`) and then an
//! empty line. The first suggestion replaces the word.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use super::System;
use typofix::Error;

/// An ispell-compatible checker run as a child process.
pub struct Ispell {
    name: String,
    program: String,
    args: Vec<String>,
}

impl Ispell {
    pub fn hunspell() -> Ispell {
        Ispell {
            name: "hunspell".into(),
            program: "hunspell".into(),
            args: vec!["-d".into(), "en_US".into(), "-a".into()],
        }
    }

    pub fn aspell() -> Ispell {
        Ispell {
            name: "aspell".into(),
            program: "aspell".into(),
            args: vec!["-a".into(), "--lang=en".into()],
        }
    }

    /// Whether the program runs here (with its English dictionary).
    pub fn available(&self) -> bool {
        self.correct(&["test"]).is_ok()
    }
}

impl System for Ispell {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn correct(&self, texts: &[&str]) -> Result<Vec<String>, Error> {
        let fail = |why: String| Error::InvalidArgument(format!("{}: {why}", self.program));
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail(format!("cannot start it ({e}); install it to compare")))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        // Lines are single-line by construction: the protocol is per line.
        let lines: Vec<String> = texts.iter().map(|t| t.replace(['\n', '\r'], " ")).collect();
        let input = lines.clone();
        let writer = std::thread::spawn(move || -> std::io::Result<()> {
            for line in input {
                // `^` keeps a line from being read as a command.
                writeln!(stdin, "^{line}")?;
            }
            Ok(())
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut banner = String::new();
        stdout
            .read_line(&mut banner)
            .map_err(|e| fail(e.to_string()))?;
        let mut out = Vec::with_capacity(lines.len());
        for line in &lines {
            let mut fixes: Vec<(usize, String, String)> = Vec::new();
            loop {
                let mut result = String::new();
                if stdout
                    .read_line(&mut result)
                    .map_err(|e| fail(e.to_string()))?
                    == 0
                {
                    return Err(fail("stopped answering".into()));
                }
                let result = result.trim_end();
                if result.is_empty() {
                    break;
                }
                if let Some(rest) = result.strip_prefix("& ") {
                    let (head, suggestions) = rest.split_once(": ").unwrap_or((rest, ""));
                    let mut parts = head.split(' ');
                    let word = parts.next().unwrap_or("").to_string();
                    let offset: usize = parts.nth(1).and_then(|o| o.parse().ok()).unwrap_or(0);
                    if let Some(first) = suggestions.split(", ").next().filter(|s| !s.is_empty()) {
                        fixes.push((offset, word, first.to_string()));
                    }
                }
            }
            out.push(apply(line, fixes));
        }
        writer
            .join()
            .map_err(|_| fail("the writer thread panicked".into()))?
            .map_err(|e| fail(e.to_string()))?;
        let _ = child.wait();
        Ok(out)
    }
}

/// Applies (character offset, word, replacement) fixes to a line.
fn apply(line: &str, mut fixes: Vec<(usize, String, String)>) -> String {
    fixes.sort_by_key(|f| f.0);
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for (offset, word, replacement) in fixes {
        let byte = line
            .char_indices()
            .nth(offset)
            .map_or(line.len(), |(b, _)| b);
        let start = if line[byte..].starts_with(&word) {
            byte
        } else {
            match line[at..].find(&word) {
                Some(i) => at + i,
                None => continue,
            }
        };
        if start < at {
            continue;
        }
        out.push_str(&line[at..start]);
        out.push_str(&replacement);
        at = start + word.len();
    }
    out.push_str(&line[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_apply_at_their_character_offsets() {
        let fixes = vec![
            (0, "Thi".to_string(), "This".to_string()),
            (7, "tset".to_string(), "test".to_string()),
        ];
        assert_eq!(apply("Thi is tset", fixes), "This is test");
        let unicode = vec![(2, "tset".to_string(), "test".to_string())];
        assert_eq!(apply("é tset", unicode), "é test");
    }
}
