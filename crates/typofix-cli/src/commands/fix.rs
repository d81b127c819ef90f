//! `typofix fix`: correct text given as arguments, streamed on stdin, or in
//! files (printed, diffed, checked or rewritten in place).
//!
//! Exit codes are those of `diff`, `grep` and `ruff`: 0 when nothing needs
//! changing (or everything asked for was done), 1 when `--check` found
//! something to correct, 2 on an error. (The `typos` CLI differs: it uses 2
//! for typos found.)

use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};

use anyhow::{Context, Result};
use clap::Args;
use rayon::prelude::*;
use serde::Serialize;
use typofix::atomic::AtomicFile;
use typofix::model::Engine;
use typofix::{Corrector, Edit, FixOptions};

#[derive(Args)]
pub struct FixArgs {
    /// Texts to correct, one output line each [default: read stdin line by
    /// line].
    text: Vec<String>,
    /// Correct these files in place (atomically, and only when something
    /// changes).
    #[arg(long, num_args = 1.., value_name = "FILE", conflicts_with_all = ["file", "text"])]
    write: Vec<PathBuf>,
    /// Read these files; print them corrected, or see --diff, --json, --check.
    #[arg(long, num_args = 1.., value_name = "FILE", conflicts_with = "text")]
    file: Vec<PathBuf>,
    /// Print a unified diff of the corrections instead of the text (`patch`
    /// applies it).
    #[arg(long, conflicts_with = "json")]
    diff: bool,
    /// Print one JSON object per line: {"line", "text", "edits": [{start,
    /// end, original, replacement, kind, confidence}]}, with byte offsets.
    #[arg(long)]
    json: bool,
    /// Exit with 1 when anything would be corrected, and print nothing,
    /// or with --diff the diff (as `black --check --diff` does).
    #[arg(long, conflicts_with_all = ["json", "write"])]
    check: bool,
    /// A model directory [default: the model built into typofix].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Minimum gain (log-probability) over the original to make a
    /// correction: higher is more conservative [default: the model's].
    #[arg(long)]
    threshold: Option<f64>,
    /// Words never to correct.
    #[arg(long, value_name = "WORD")]
    allow: Vec<String>,
    /// A file of words never to correct, one per line (# starts a comment).
    #[arg(long, value_name = "PATH")]
    allow_file: Vec<PathBuf>,
    /// How the language model runs: fused (hand-fused CPU kernels over
    /// unpadded batches), int8 (the fused engine with int8 weights and
    /// activations: faster, and a few corrections differ), bf16 (the fused
    /// engine with bf16 weights and activations: twice as fast on CPUs with
    /// AMX, and nearly f32's corrections), standard (candle's
    /// ops: the reference, and what a GPU runs), or ane (the Apple Neural
    /// Engine's BC1S layout, on CPU: the computation of `export coreml`).
    #[arg(long, default_value = "fused")]
    engine: Engine,
    /// Threads for the model and the corrector [default: all cores].
    #[arg(long)]
    threads: Option<usize>,
}

/// Lines corrected together when reading files, so that threads share work.
const CHUNK_LINES: usize = 256;

/// How one input's corrections are reported.
#[derive(Clone, Copy, PartialEq)]
enum Output {
    Text,
    Json,
    Diff,
    Quiet,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    line: usize,
    text: &'a str,
    edits: &'a [Edit],
}

pub fn run(args: FixArgs) -> Result<u8> {
    super::set_threads(args.threads)?;
    let corrector = load_corrector(args.model.as_deref(), args.engine)?;
    let options = fix_options(&args)?;
    let output = if args.json {
        Output::Json
    } else if args.diff {
        Output::Diff
    } else if args.check {
        Output::Quiet
    } else {
        Output::Text
    };
    let fixer = Fixer {
        corrector: &corrector,
        options: &options,
        output,
    };
    let mut changed = false;
    if !args.write.is_empty() {
        for path in &args.write {
            changed |= fixer.write_file(path)?;
        }
    } else if !args.file.is_empty() {
        for path in &args.file {
            let reader = BufReader::new(
                std::fs::File::open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?,
            );
            changed |= fixer.stream(reader, Some(path))?;
        }
    } else if !args.text.is_empty() {
        let joined = args.text.join("\n") + "\n";
        changed = fixer.stream(joined.as_bytes(), None)?;
    } else {
        changed = fixer.stream_stdin()?;
    }
    Ok(if args.check && changed { 1 } else { 0 })
}

pub fn load_corrector(model: Option<&Path>, engine: Engine) -> Result<Corrector> {
    match model {
        Some(dir) => Corrector::load_with_engine(dir, engine).with_context(|| {
            format!(
                "cannot load the model in {} on the {engine} engine (build one with \
                 `typofix model package`, or leave out --model to use the built-in one)",
                dir.display()
            )
        }),
        None => builtin(engine),
    }
}

#[cfg(feature = "default-model")]
fn builtin(engine: Engine) -> Result<Corrector> {
    Corrector::builtin_with_engine(engine)
        .with_context(|| format!("the built-in model does not load on the {engine} engine"))
}

#[cfg(not(feature = "default-model"))]
fn builtin(_engine: Engine) -> Result<Corrector> {
    anyhow::bail!("this typofix was built without its default model: pass --model DIR")
}

fn fix_options(args: &FixArgs) -> Result<FixOptions> {
    let mut words = args.allow.clone();
    for path in &args.allow_file {
        words.extend(typofix::allow::read(path).context("cannot read the allow-list")?);
    }
    Ok(FixOptions {
        threshold: args.threshold,
        ..FixOptions::default()
    }
    .allow_words(words))
}

struct Fixer<'a> {
    corrector: &'a Corrector,
    options: &'a FixOptions,
    output: Output,
}

/// A line corrected: its new bytes and edits (none for invalid UTF-8).
struct Fixed {
    bytes: Vec<u8>,
    edits: Vec<Edit>,
}

impl Fixer<'_> {
    /// Corrects `reader` to stdout, in parallel chunks of lines. Returns
    /// whether anything changed.
    fn stream(&self, reader: impl BufRead, path: Option<&Path>) -> Result<bool> {
        let name = path.map(|p| p.display().to_string());
        let source = Chunks {
            reader,
            name: name.clone(),
        };
        self.stream_from(source, name, false)
    }

    /// Corrects standard input as it arrives: each batch is whatever lines
    /// have come in (at least one, without waiting for more), so a pipe
    /// is corrected as fast as a file and a line typed at a terminal comes
    /// back at once. Each line is flushed as it is written.
    fn stream_stdin(&self) -> Result<bool> {
        self.stream_from(Arrived::start(), None, true)
    }

    /// Corrects `source` to stdout; `flush_lines` flushes after every line.
    fn stream_from(
        &self,
        source: impl LineSource,
        name: Option<String>,
        flush_lines: bool,
    ) -> Result<bool> {
        let stdout = io::stdout();
        let mut out = io::BufWriter::new(stdout.lock());
        let mut diff = Versions::default();
        let changed = self.each_line(source, |line_no, line, fix| {
            self.report(&mut out, name.as_deref(), line_no, line, fix, &mut diff)?;
            if flush_lines {
                out.flush()?;
            }
            Ok(())
        })?;
        diff.write_unified(&mut out, name.as_deref().unwrap_or("<stdin>"))?;
        out.flush()?;
        Ok(changed)
    }

    /// Takes chunks of lines from `source`, corrects them, and hands each
    /// line to `each` in order. Returns whether anything changed.
    fn each_line(
        &self,
        mut source: impl LineSource,
        mut each: impl FnMut(usize, &[u8], &Fixed) -> Result<()>,
    ) -> Result<bool> {
        let mut line_no = 0;
        let mut changed = false;
        loop {
            let lines = source.next_chunk()?;
            if lines.is_empty() {
                return Ok(changed);
            }
            let fixed = self.fix_lines(&lines)?;
            for (line, fix) in lines.iter().zip(&fixed) {
                line_no += 1;
                changed |= !fix.edits.is_empty();
                each(line_no, line, fix)?;
            }
        }
    }

    fn report(
        &self,
        out: &mut impl Write,
        name: Option<&str>,
        line_no: usize,
        line: &[u8],
        fix: &Fixed,
        diff: &mut Versions,
    ) -> Result<()> {
        match self.output {
            Output::Quiet => {}
            Output::Text => out.write_all(&fix.bytes)?,
            Output::Json => {
                let text = String::from_utf8_lossy(strip_newline(&fix.bytes));
                let record = JsonLine {
                    path: name,
                    line: line_no,
                    text: &text,
                    edits: &fix.edits,
                };
                serde_json::to_writer(&mut *out, &record)?;
                out.write_all(b"\n")?;
            }
            Output::Diff => diff.push(line, &fix.bytes),
        }
        Ok(())
    }

    /// Corrects lines, each thread taking an equal share as one batch.
    fn fix_lines(&self, lines: &[Vec<u8>]) -> Result<Vec<Fixed>> {
        let per_thread = lines.len().div_ceil(rayon::current_num_threads()).max(1);
        let fixed: Vec<Vec<Fixed>> = lines
            .par_chunks(per_thread)
            .map(|chunk| self.fix_chunk(chunk))
            .collect::<Result<_>>()?;
        Ok(fixed.into_iter().flatten().collect())
    }

    fn fix_chunk(&self, lines: &[Vec<u8>]) -> Result<Vec<Fixed>> {
        let bodies: Vec<Option<&str>> = lines
            .iter()
            .map(|line| std::str::from_utf8(strip_newline(line)).ok())
            .collect();
        let texts: Vec<&str> = bodies.iter().flatten().copied().collect();
        let mut fixes = self.corrector.fix_batch(&texts, self.options)?.into_iter();
        Ok(lines
            .iter()
            .zip(bodies)
            .map(|(line, body)| match body {
                Some(body) => {
                    let fix = fixes.next().expect("one fix per text");
                    let mut bytes = fix.text.into_bytes();
                    bytes.extend_from_slice(&line[body.len()..]);
                    Fixed {
                        bytes,
                        edits: fix.edits,
                    }
                }
                None => {
                    tracing::warn!("passing a line that is not valid UTF-8 through unchanged");
                    Fixed {
                        bytes: line.clone(),
                        edits: Vec::new(),
                    }
                }
            })
            .collect())
    }

    /// Corrects a file in place through a temporary file, fsync and rename;
    /// the original is untouched when nothing changes or anything fails,
    /// and when it changed meanwhile. A symbolic link stays a link to the
    /// corrected file, and permissions are kept.
    fn write_file(&self, path: &Path) -> Result<bool> {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let seen = file
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut out = AtomicFile::replace(path, &seen)?;
        let name = path.display().to_string();
        let stdout = io::stdout();
        let mut report = stdout.lock();
        let mut diff = Versions::default();
        let source = Chunks {
            reader: BufReader::new(file),
            name: Some(name.clone()),
        };
        let changed = self.each_line(source, |line_no, line, fix| {
            out.write_all(&fix.bytes)
                .with_context(|| format!("writing {}", path.display()))?;
            if matches!(self.output, Output::Json | Output::Diff) {
                self.report(&mut report, Some(&name), line_no, line, fix, &mut diff)?;
            }
            Ok(())
        })?;
        diff.write_unified(&mut report, &name)?;
        // Unchanged files are left alone: dropping `out` removes the
        // temporary file.
        if changed {
            out.commit()?;
            eprintln!("corrected {}", path.display());
        }
        Ok(changed)
    }
}

/// Where the lines to correct come from, a chunk at a time; an empty chunk
/// is the end.
trait LineSource {
    fn next_chunk(&mut self) -> Result<Vec<Vec<u8>>>;
}

/// A reader, in chunks of [`CHUNK_LINES`].
struct Chunks<R> {
    reader: R,
    name: Option<String>,
}

impl<R: BufRead> LineSource for Chunks<R> {
    fn next_chunk(&mut self) -> Result<Vec<Vec<u8>>> {
        read_lines(&mut self.reader, CHUNK_LINES, self.name.as_deref())
    }
}

/// Standard input, read on its own thread: a chunk is every line that has
/// arrived, up to [`CHUNK_LINES`]. The queue is bounded, so memory stays
/// bounded when input comes faster than it is corrected.
struct Arrived {
    lines: Receiver<io::Result<Vec<u8>>>,
}

impl Arrived {
    fn start() -> Arrived {
        let (sender, lines) = mpsc::sync_channel(4 * CHUNK_LINES);
        std::thread::spawn(move || {
            let mut stdin = io::stdin().lock();
            loop {
                let mut line = Vec::new();
                match stdin.read_until(b'\n', &mut line) {
                    Ok(0) => return,
                    Ok(_) => {
                        if sender.send(Ok(line)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = sender.send(Err(e));
                        return;
                    }
                }
            }
        });
        Arrived { lines }
    }
}

impl LineSource for Arrived {
    fn next_chunk(&mut self) -> Result<Vec<Vec<u8>>> {
        let mut lines = Vec::new();
        // The reader's end closes the channel: an empty chunk.
        let Ok(first) = self.lines.recv() else {
            return Ok(lines);
        };
        lines.push(first.context("reading standard input")?);
        while lines.len() < CHUNK_LINES {
            match self.lines.try_recv() {
                Ok(line) => lines.push(line.context("reading standard input")?),
                Err(_) => break,
            }
        }
        Ok(lines)
    }
}

/// Reads up to `n` lines, each with its terminator, as bytes. Memory is
/// bounded by the chunk, whatever the file's size.
fn read_lines(reader: &mut impl BufRead, n: usize, name: Option<&str>) -> Result<Vec<Vec<u8>>> {
    let mut lines = Vec::with_capacity(n);
    for _ in 0..n {
        let mut line = Vec::new();
        let read = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading {}", name.unwrap_or("standard input")))?;
        if read == 0 {
            break;
        }
        lines.push(line);
    }
    Ok(lines)
}

fn strip_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// An input before and after correction, kept whole for `--diff`: a
/// unified diff needs the lines around each change.
#[derive(Default)]
struct Versions {
    old: Vec<u8>,
    new: Vec<u8>,
}

impl Versions {
    fn push(&mut self, old: &[u8], new: &[u8]) {
        self.old.extend_from_slice(old);
        self.new.extend_from_slice(new);
    }

    /// Writes the unified diff (three lines of context, as `diff -u`) of
    /// `a/{label}` and `b/{label}`; nothing when they are the same.
    fn write_unified(&self, out: &mut impl Write, label: &str) -> io::Result<()> {
        write_unified_diff(out, label, &self.old, &self.new)
    }
}

/// `similar` finds the changes and groups them into hunks; the lines are
/// written here as raw bytes, because similar's own formatter goes through
/// `to_string_lossy` and would garble lines that are not UTF-8, so that
/// `patch` could no longer match them.
fn write_unified_diff(out: &mut impl Write, label: &str, old: &[u8], new: &[u8]) -> io::Result<()> {
    let diff = similar::TextDiff::from_lines(old, new);
    let groups = diff.grouped_ops(3);
    if groups.is_empty() {
        return Ok(());
    }
    writeln!(out, "--- a/{label}\n+++ b/{label}")?;
    for group in groups {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        writeln!(
            out,
            "@@ -{} +{} @@",
            hunk_range(first.old_range().start..last.old_range().end),
            hunk_range(first.new_range().start..last.new_range().end)
        )?;
        for op in &group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Equal => b" ",
                    similar::ChangeTag::Delete => b"-",
                    similar::ChangeTag::Insert => b"+",
                };
                out.write_all(sign)?;
                out.write_all(change.value())?;
                if !change.value().ends_with(b"\n") {
                    out.write_all(b"\n\\ No newline at end of file\n")?;
                }
            }
        }
    }
    Ok(())
}

/// A hunk's line range as `diff -u` writes it: 1-based `start,count`, the
/// count left out when it is 1, and the line before when it is 0.
fn hunk_range(lines: std::ops::Range<usize>) -> String {
    match lines.len() {
        0 => format!("{},0", lines.start),
        1 => format!("{}", lines.start + 1),
        n => format!("{},{n}", lines.start + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_terminators_are_kept_apart_from_the_text() {
        assert_eq!(strip_newline(b"a b\r\n"), b"a b");
        assert_eq!(strip_newline(b"a b\n"), b"a b");
        assert_eq!(strip_newline(b"a b"), b"a b");
    }

    #[test]
    fn hunk_ranges_are_written_as_diff_does() {
        assert_eq!(hunk_range(0..1), "1");
        assert_eq!(hunk_range(2..5), "3,3");
        assert_eq!(hunk_range(4..4), "4,0");
    }

    #[test]
    fn a_diff_has_context_and_marks_a_missing_final_newline() {
        let mut out = Vec::new();
        let old = b"one\ntwo\nthree\nfour\nfive\nteh end";
        let new = b"one\ntwo\nthree\nfour\nfive\nthe end";
        write_unified_diff(&mut out, "f.txt", old, new).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "--- a/f.txt\n+++ b/f.txt\n@@ -3,4 +3,4 @@\n three\n four\n five\n-teh end\n\\ No newline at end of file\n+the end\n\\ No newline at end of file\n"
        );
        let mut none = Vec::new();
        write_unified_diff(&mut none, "f.txt", old, old).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn reading_stops_at_the_chunk_size() {
        let mut input: &[u8] = b"one\ntwo\r\nthree";
        let lines = read_lines(&mut input, 2, None).unwrap();
        assert_eq!(lines, vec![b"one\n".to_vec(), b"two\r\n".to_vec()]);
        let rest = read_lines(&mut input, 2, None).unwrap();
        assert_eq!(rest, vec![b"three".to_vec()]);
    }
}
