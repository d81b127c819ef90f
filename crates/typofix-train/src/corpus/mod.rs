//! Clean corpora: files and directories of text, read as a stream of
//! paragraphs in constant memory.
//!
//! Formats: plain text (a paragraph per line), WikiExtractor dumps, WikiText,
//! and JSONL with a text field; any of them optionally gzip-compressed.
//!
//! Sentences to keep out of training (the dev sets) are an option of the
//! reader, so that no caller can forget them: [`Corpus::sentences`] never
//! yields one, and [`Corpus::is_excluded`] answers for callers that split
//! paragraphs themselves.

mod exclude;
mod lines;
mod wikitext;

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde::Serialize;

use typofix::gzip::open_maybe_gzip;
use typofix::Error;

pub use exclude::{sentence_key, Exclusions};
use lines::{read_capped_line, Line};

/// How a corpus file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Decide per file from its name and first lines.
    Auto,
    /// A paragraph or sentence per line.
    Text,
    /// `<doc …>` / title line / paragraphs / `</doc>`; headings are skipped.
    WikiExtractor,
    /// ` = Heading = ` lines and ` @-@ ` escapes, tokenised with spaces.
    WikiText,
    /// One JSON object per line, with the text in a field.
    Jsonl,
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Format, Error> {
        Ok(match s {
            "auto" => Format::Auto,
            "text" => Format::Text,
            "wikiextractor" => Format::WikiExtractor,
            "wikitext" => Format::WikiText,
            "jsonl" => Format::Jsonl,
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "unknown corpus format {s:?}; use auto, text, wikiextractor, wikitext or jsonl"
                )))
            }
        })
    }
}

/// How to read a corpus.
#[derive(Debug, Clone)]
pub struct CorpusOptions {
    pub format: Format,
    /// The JSONL field that holds the text.
    pub text_field: String,
    /// Longer lines are skipped (and counted), so memory stays bounded.
    pub max_line_bytes: usize,
    /// Files whose sentences are never read (JSONL `clean`/`corrupted`
    /// fields, or text lines), such as dev sets.
    pub exclude: Vec<PathBuf>,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            format: Format::Auto,
            text_field: "text".into(),
            max_line_bytes: 1 << 20,
            exclude: Vec::new(),
        }
    }
}

/// What reading skipped, for the run's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    pub files: usize,
    pub lines: usize,
    pub paragraphs: usize,
    pub empty_lines: usize,
    pub invalid_utf8: usize,
    pub overlong_lines: usize,
    pub invalid_json: usize,
    pub markup_lines: usize,
}

/// A set of corpus files, in a fixed order.
#[derive(Debug, Clone)]
pub struct Corpus {
    files: Vec<PathBuf>,
    options: CorpusOptions,
    exclusions: Arc<Exclusions>,
    /// Sentences [`Corpus::sentences`] has left out so far.
    excluded: Arc<AtomicUsize>,
}

impl Corpus {
    /// Collects the files under `paths` and reads the exclusions.
    /// Directories are walked recursively in name order (hidden entries
    /// skipped); a missing path is an error.
    pub fn open(paths: &[PathBuf], options: CorpusOptions) -> Result<Corpus, Error> {
        let mut files = Vec::new();
        for path in paths {
            let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
            if !meta.is_dir() {
                files.push(path.clone());
                continue;
            }
            let walk = walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                });
            for entry in walk {
                let entry = entry.map_err(|e| {
                    let at = e.path().unwrap_or(path).to_owned();
                    Error::io(&at, e.into())
                })?;
                if entry.file_type().is_file() {
                    files.push(entry.into_path());
                }
            }
        }
        if files.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "no corpus file found under {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let exclusions = Arc::new(Exclusions::from_paths(&options.exclude)?);
        Ok(Corpus {
            files,
            options,
            exclusions,
            excluded: Arc::default(),
        })
    }

    /// Whether a sentence is one of the excluded ones.
    pub fn is_excluded(&self, sentence: &str) -> bool {
        self.is_excluded_key(sentence_key(sentence))
    }

    /// [`Corpus::is_excluded`] for a sentence's [`sentence_key`].
    pub fn is_excluded_key(&self, key: u64) -> bool {
        self.exclusions.contains_key(key)
    }

    /// How many sentences [`Corpus::sentences`] has left out as excluded.
    pub fn excluded(&self) -> usize {
        self.excluded.load(Ordering::Relaxed)
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Streams the sentences of `window` whitespace-separated words, less
    /// the excluded ones.
    pub fn sentences(
        &self,
        window: std::ops::RangeInclusive<usize>,
    ) -> impl Iterator<Item = Result<String, Error>> + Send {
        let (exclusions, excluded) = (self.exclusions.clone(), self.excluded.clone());
        self.paragraphs().flat_map(move |paragraph| {
            let found: Vec<Result<String, Error>> = match paragraph {
                Ok(p) => typofix::text::sentences(&p)
                    .into_iter()
                    .filter(|s| window.contains(&s.split_whitespace().count()))
                    .filter(|s| {
                        let out = exclusions.contains_key(sentence_key(s));
                        if out {
                            excluded.fetch_add(1, Ordering::Relaxed);
                        }
                        !out
                    })
                    .map(|s| Ok(s.to_string()))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            found
        })
    }

    /// Streams the corpus's paragraphs, file after file.
    pub fn paragraphs(&self) -> Paragraphs {
        Paragraphs {
            pending: self.files.iter().cloned().collect(),
            current: None,
            options: self.options.clone(),
            stats: ReadStats::default(),
            buf: Vec::new(),
        }
    }
}

struct OpenFile {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    format: Format,
    /// WikiExtractor: the next non-empty line is an article title.
    expect_title: bool,
}

/// An iterator over paragraphs; see [`Corpus::paragraphs`].
pub struct Paragraphs {
    pending: VecDeque<PathBuf>,
    current: Option<OpenFile>,
    options: CorpusOptions,
    stats: ReadStats,
    buf: Vec<u8>,
}

impl Paragraphs {
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    fn open_next(&mut self) -> Option<Result<(), Error>> {
        let path = self.pending.pop_front()?;
        Some(self.open(path))
    }

    fn open(&mut self, path: PathBuf) -> Result<(), Error> {
        let mut reader = open_maybe_gzip(&path)?;
        let format = match self.options.format {
            Format::Auto => {
                let head = reader.fill_buf().map_err(|e| Error::io(&path, e))?;
                sniff(&path, head)
            }
            format => format,
        };
        self.stats.files += 1;
        self.current = Some(OpenFile {
            path,
            reader,
            format,
            expect_title: false,
        });
        Ok(())
    }
}

impl Iterator for Paragraphs {
    type Item = Result<String, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(file) = self.current.as_mut() else {
                if let Err(e) = self.open_next()? {
                    return Some(Err(e));
                }
                continue;
            };
            let line = match read_capped_line(
                &mut file.reader,
                &mut self.buf,
                self.options.max_line_bytes,
            ) {
                Ok(line) => line,
                Err(e) => return Some(Err(Error::io(&file.path, e))),
            };
            let text = match line {
                Line::End => {
                    self.current = None;
                    continue;
                }
                Line::TooLong => {
                    self.stats.lines += 1;
                    self.stats.overlong_lines += 1;
                    continue;
                }
                Line::Complete => {
                    self.stats.lines += 1;
                    match std::str::from_utf8(&self.buf) {
                        Ok(text) => text,
                        Err(_) => {
                            self.stats.invalid_utf8 += 1;
                            continue;
                        }
                    }
                }
            };
            if text.trim().is_empty() {
                self.stats.empty_lines += 1;
                continue;
            }
            let paragraph = match file.format {
                Format::Jsonl => match json_text(text, &self.options.text_field) {
                    Some(t) => t,
                    None => {
                        self.stats.invalid_json += 1;
                        continue;
                    }
                },
                Format::WikiExtractor => {
                    if text.starts_with("<doc ") {
                        file.expect_title = true;
                        self.stats.markup_lines += 1;
                        continue;
                    }
                    if text.starts_with("</doc>")
                        || std::mem::take(&mut file.expect_title)
                        || is_heading(text)
                    {
                        self.stats.markup_lines += 1;
                        continue;
                    }
                    text.trim().to_string()
                }
                Format::WikiText => match wikitext::paragraph(text) {
                    Some(t) => t,
                    None => {
                        self.stats.markup_lines += 1;
                        continue;
                    }
                },
                Format::Text | Format::Auto => text.trim().to_string(),
            };
            if paragraph.is_empty() {
                self.stats.empty_lines += 1;
                continue;
            }
            self.stats.paragraphs += 1;
            return Some(Ok(paragraph));
        }
    }
}

fn json_text(line: &str, field: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    Some(value.get(field)?.as_str()?.trim().to_string())
}

/// WikiExtractor keeps section headings as short lines ending in a period
/// ("Etymology and terminology."): at most ten words, no other sentence
/// punctuation, and none of the common verbs that a short sentence has.
fn is_heading(line: &str) -> bool {
    const VERBS: &[&str] = &[
        "is", "was", "are", "were", "be", "been", "has", "have", "had", "do", "does", "did",
        "will", "would", "can", "could", "may", "might", "should", "must",
    ];
    let line = line.trim();
    let Some(body) = line.strip_suffix('.') else {
        return false;
    };
    let words: Vec<&str> = body.split_whitespace().collect();
    words.len() <= 10
        && !body.contains(['.', '!', '?', ',', ';', ':', '"'])
        && !words
            .iter()
            .any(|w| VERBS.contains(&w.to_lowercase().as_str()))
}

fn sniff(path: &Path, head: &[u8]) -> Format {
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        return Format::Jsonl;
    }
    let head = String::from_utf8_lossy(head);
    let first = head.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.starts_with("<doc ") {
        Format::WikiExtractor
    } else if first.trim_start().starts_with('{') {
        Format::Jsonl
    } else if head.lines().any(wikitext::is_heading)
        || head.contains(" @-@ ")
        || head.contains(" @,@ ")
    {
        Format::WikiText
    } else {
        Format::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(name: &str, content: &[u8]) -> (Vec<String>, ReadStats) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let corpus = Corpus::open(&[path], CorpusOptions::default()).unwrap();
        let mut paragraphs = corpus.paragraphs();
        let all = paragraphs.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
        (all, paragraphs.stats().clone())
    }

    #[test]
    fn wikiextractor_titles_headings_and_doc_tags_are_skipped() {
        let dump = "<doc id=\"1\" title=\"Anarchism\">\nAnarchism\n\nAnarchism is a political philosophy. It is old.\n\
                    Etymology and terminology.\nThe term is Greek.\nRussian Revolution and other uprisings of the 1910s.\n</doc>\n";
        let (paragraphs, stats) = read_all("wiki_00", dump.as_bytes());
        assert_eq!(
            paragraphs,
            [
                "Anarchism is a political philosophy. It is old.",
                "The term is Greek."
            ]
        );
        assert_eq!(stats.markup_lines, 5);
    }

    #[test]
    fn gzip_is_detected_by_content() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"One line.\nTwo lines.\n").unwrap();
        let (paragraphs, _) = read_all("corpus.txt.gz", &gz.finish().unwrap());
        assert_eq!(paragraphs, ["One line.", "Two lines."]);
    }

    #[test]
    fn jsonl_text_fields_are_read_and_bad_lines_counted() {
        let (paragraphs, stats) = read_all(
            "c.jsonl",
            b"{\"text\": \"Hello there.\"}\nnot json\n{\"other\": 1}\n",
        );
        assert_eq!(paragraphs, ["Hello there."]);
        assert_eq!(stats.invalid_json, 2);
    }

    #[test]
    fn invalid_utf8_empty_and_overlong_lines_are_skipped_and_counted() {
        let mut content = b"Good line.\n\xff\xfe bad\n\n   \n".to_vec();
        content.extend(vec![b'a'; 2 << 20]);
        content.extend(b"\nLast line.");
        let (paragraphs, stats) = read_all("c.txt", &content);
        assert_eq!(paragraphs, ["Good line.", "Last line."]);
        assert_eq!(
            (stats.invalid_utf8, stats.empty_lines, stats.overlong_lines),
            (1, 2, 1)
        );
    }

    #[test]
    fn directories_are_walked_in_name_order_and_missing_paths_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.txt"), "B.\n").unwrap();
        std::fs::write(dir.path().join("a.txt"), "A.\n").unwrap();
        std::fs::write(dir.path().join(".hidden"), "H.\n").unwrap();
        let corpus = Corpus::open(&[dir.path().to_owned()], CorpusOptions::default()).unwrap();
        let all: Vec<String> = corpus.paragraphs().map(Result::unwrap).collect();
        assert_eq!(all, ["A.", "B."]);

        let missing = dir.path().join("nope");
        let err =
            Corpus::open(std::slice::from_ref(&missing), CorpusOptions::default()).unwrap_err();
        assert!(matches!(err, Error::NotFound(p) if p == missing));
    }
}
