//! `typofix data generate`: clean corpus in, aligned typo examples out.
//!
//! Paragraphs are read in chunks; sentence splitting and corruption run in
//! parallel (rayon), and results are written in corpus order. Each sentence's
//! random generator is seeded from the run's seed and the sentence's index,
//! so the output depends on the seed and the inputs only, never on the
//! number of threads or the chunk size.

use std::collections::BTreeMap;
use std::io::Write;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::corpus::{sentence_key, Corpus, ReadStats};
use crate::corrupt::{Corruptor, Edit};
use typofix::text::sentences;
use typofix::Error;
use typofix::ErrorKind;

/// Paragraphs read before each parallel step: enough to keep the cores busy,
/// few enough to keep memory small.
const CHUNK_PARAGRAPHS: usize = 2048;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Examples to write, train and validation together.
    pub examples: usize,
    pub seed: u64,
    /// Sentences outside this window of whitespace-separated words are skipped.
    pub min_words: usize,
    pub max_words: usize,
    /// Share of sentences set aside for validation, by a hash of their text,
    /// so that no sentence is in both files.
    pub valid_fraction: f64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            examples: 10_000,
            seed: 0,
            min_words: 4,
            max_words: 64,
            valid_fraction: 0.0,
        }
    }
}

/// What a run did, for the user and for docs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GenerateSummary {
    pub train_examples: usize,
    pub valid_examples: usize,
    /// Times the corpus was read: more than one when it has fewer usable
    /// sentences than examples were asked for (each pass corrupts anew).
    pub corpus_passes: usize,
    pub out_of_window: usize,
    pub excluded: usize,
    /// What the first pass over the corpus skipped.
    pub read: ReadStats,
    pub words: usize,
    pub corrupted_words: usize,
    pub edits: BTreeMap<ErrorKind, usize>,
}

impl GenerateSummary {
    /// Corrupted words / corruptible words.
    pub fn realised_rate(&self) -> f64 {
        self.corrupted_words as f64 / self.words.max(1) as f64
    }
}

/// Where examples go.
pub struct Sinks<'a> {
    pub train: &'a mut dyn Write,
    /// Required when `valid_fraction > 0`.
    pub valid: Option<&'a mut dyn Write>,
}

#[derive(Serialize)]
struct ExampleRef<'a> {
    corrupted: &'a str,
    clean: &'a str,
    edits: &'a [Edit],
}

enum Candidate {
    Sentence { text: String, key: u64 },
    OutOfWindow,
}

struct Job {
    index: u64,
    text: String,
    valid: bool,
}

/// Generates `options.examples` examples from `corpus`. `progress` is called
/// with the number of examples written so far.
pub fn generate(
    corpus: &Corpus,
    corruptor: &Corruptor,
    options: &GenerateOptions,
    sinks: Sinks<'_>,
    progress: &mut dyn FnMut(usize),
) -> Result<GenerateSummary, Error> {
    if !(0.0..1.0).contains(&options.valid_fraction) {
        return Err(Error::InvalidArgument(format!(
            "the validation fraction must be at least 0 and below 1, not {}",
            options.valid_fraction
        )));
    }
    if options.min_words == 0 || options.min_words > options.max_words {
        return Err(Error::InvalidArgument(format!(
            "the sentence window {}..={} words is empty",
            options.min_words, options.max_words
        )));
    }
    let Sinks { train, mut valid } = sinks;
    if options.valid_fraction > 0.0 && valid.is_none() {
        return Err(Error::InvalidArgument(
            "a validation fraction needs a validation output".into(),
        ));
    }
    let valid_cut = (options.valid_fraction * 1e6) as u64;
    let mut summary = GenerateSummary::default();
    let mut written = 0;
    let mut next_index: u64 = 0;
    while written < options.examples {
        summary.corpus_passes += 1;
        let index_at_pass_start = next_index;
        let mut paragraphs = corpus.paragraphs();
        while written < options.examples {
            let chunk = paragraphs
                .by_ref()
                .take(CHUNK_PARAGRAPHS)
                .collect::<Result<Vec<String>, Error>>()?;
            if chunk.is_empty() {
                break;
            }
            let candidates: Vec<Vec<Candidate>> =
                chunk.par_iter().map(|p| candidates(p, options)).collect();

            let mut jobs = Vec::new();
            for candidate in candidates.into_iter().flatten() {
                if written + jobs.len() == options.examples {
                    break;
                }
                let (text, key) = match candidate {
                    Candidate::OutOfWindow => {
                        summary.out_of_window += 1;
                        continue;
                    }
                    Candidate::Sentence { text, key } => (text, key),
                };
                if corpus.is_excluded_key(key) {
                    summary.excluded += 1;
                    continue;
                }
                jobs.push(Job {
                    index: next_index,
                    text,
                    valid: key % 1_000_000 < valid_cut,
                });
                next_index += 1;
            }

            let results: Vec<(String, crate::corrupt::Corruption)> = jobs
                .par_iter()
                .map(|job| {
                    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
                    rng.set_stream(job.index);
                    let c = corruptor.corrupt(&job.text, &mut rng);
                    let mut line = serde_json::to_string(&ExampleRef {
                        corrupted: &c.corrupted,
                        clean: &job.text,
                        edits: &c.edits,
                    })
                    .expect("examples serialise");
                    line.push('\n');
                    (line, c)
                })
                .collect();

            for (job, (line, corruption)) in jobs.iter().zip(results) {
                let (sink, count, name) = match (&mut valid, job.valid) {
                    (Some(v), true) => (&mut **v, &mut summary.valid_examples, "validation"),
                    _ => (&mut *train, &mut summary.train_examples, "training"),
                };
                sink.write_all(line.as_bytes()).map_err(|e| {
                    Error::InvalidArgument(format!("cannot write the {name} output: {e}"))
                })?;
                *count += 1;
                summary.words += corruption.words;
                summary.corrupted_words += corruption.corrupted_words;
                for edit in &corruption.edits {
                    *summary.edits.entry(edit.kind).or_default() += 1;
                }
            }
            written += jobs.len();
            progress(written);
        }
        if summary.corpus_passes == 1 {
            summary.read = paragraphs.stats().clone();
        }
        if next_index == index_at_pass_start {
            if written == 0 && options.examples > 0 {
                return Err(Error::InvalidArgument(format!(
                    "the corpus has no usable sentence of {} to {} words \
                     (check --format, or widen --min-words/--max-words)",
                    options.min_words, options.max_words
                )));
            }
            break;
        }
    }
    Ok(summary)
}

fn candidates(paragraph: &str, options: &GenerateOptions) -> Vec<Candidate> {
    sentences(paragraph)
        .into_iter()
        .map(|s| {
            let words = s.split_whitespace().count();
            if (options.min_words..=options.max_words).contains(&words) {
                Candidate::Sentence {
                    text: s.to_string(),
                    key: sentence_key(s),
                }
            } else {
                Candidate::OutOfWindow
            }
        })
        .collect()
}
