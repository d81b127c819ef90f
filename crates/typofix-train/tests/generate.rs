//! `generate`: determinism, splits, exclusions and bad corpora.

use std::collections::HashSet;
use std::path::PathBuf;

use typofix_train::corpus::{Corpus, CorpusOptions};
use typofix_train::corrupt::{undo, Corruptor, KindWeights};
use typofix_train::dataset::{generate, Example, GenerateOptions, GenerateSummary, Sinks};

fn sample_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample"))
}

fn sample_corpus() -> Corpus {
    Corpus::open(&[sample_path()], CorpusOptions::default()).unwrap()
}

fn options(examples: usize, valid_fraction: f64) -> GenerateOptions {
    GenerateOptions {
        examples,
        seed: 7,
        valid_fraction,
        ..GenerateOptions::default()
    }
}

/// Runs `generate` on `threads` threads and returns (train, valid, summary).
fn run(
    threads: usize,
    corpus: &Corpus,
    options: &GenerateOptions,
) -> (String, String, GenerateSummary) {
    let corruptor = Corruptor::builtin(0.15, KindWeights::DEFAULT).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    let summary = pool
        .install(|| {
            generate(
                corpus,
                &corruptor,
                options,
                Sinks {
                    train: &mut train,
                    valid: Some(&mut valid),
                },
                &mut |_| {},
            )
        })
        .unwrap();
    (
        String::from_utf8(train).unwrap(),
        String::from_utf8(valid).unwrap(),
        summary,
    )
}

fn examples(jsonl: &str) -> Vec<Example> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn output_is_identical_with_one_and_two_threads() {
    let corpus = sample_corpus();
    let opts = options(3_000, 0.1);
    let one = run(1, &corpus, &opts);
    let two = run(2, &corpus, &opts);
    assert_eq!(one.0, two.0);
    assert_eq!(one.1, two.1);
}

#[test]
fn a_small_corpus_is_read_again_until_enough_examples_are_made() {
    let (train, valid, summary) = run(2, &sample_corpus(), &options(1_000, 0.0));
    assert!(valid.is_empty());
    let train = examples(&train);
    assert_eq!(train.len(), 1_000);
    assert!(summary.corpus_passes > 1);
    // Each pass corrupts the same sentences differently.
    let distinct: HashSet<&str> = train.iter().map(|e| e.corrupted.as_str()).collect();
    assert!(distinct.len() > 700, "{}", distinct.len());
    for e in &train {
        assert_eq!(
            undo(&e.clean, &e.corrupted, &e.edits).as_deref(),
            Ok(e.clean.as_str())
        );
    }
}

#[test]
fn train_and_validation_share_no_sentence() {
    let (train, valid, summary) = run(2, &sample_corpus(), &options(2_000, 0.2));
    let train: HashSet<String> = examples(&train).into_iter().map(|e| e.clean).collect();
    let valid: HashSet<String> = examples(&valid).into_iter().map(|e| e.clean).collect();
    assert!(!valid.is_empty() && !train.is_empty());
    assert!(train.is_disjoint(&valid));
    assert_eq!(summary.train_examples + summary.valid_examples, 2_000);
}

#[test]
fn excluded_sentences_never_appear() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev.jsonl");
    std::fs::write(
        &dev,
        "{\"corrupted\": \"Teh rivr runs.\", \"clean\": \"the river runs through the middle of the town\"}\n",
    )
    .unwrap();
    let corpus = Corpus::open(
        &[sample_path()],
        CorpusOptions {
            exclude: vec![dev],
            ..CorpusOptions::default()
        },
    )
    .unwrap();
    let (train, _, summary) = run(2, &corpus, &options(500, 0.0));
    assert!(summary.excluded > 0);
    assert!(!train.contains("The river runs through the middle of the town."));
}

#[test]
fn a_corpus_without_usable_sentences_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("short.txt"), "Too short.\nAlso short.\n").unwrap();
    let corpus = Corpus::open(&[dir.path().to_owned()], CorpusOptions::default()).unwrap();
    let corruptor = Corruptor::builtin(0.15, KindWeights::DEFAULT).unwrap();
    let mut out = Vec::new();
    let err = generate(
        &corpus,
        &corruptor,
        &options(10, 0.0),
        Sinks {
            train: &mut out,
            valid: None,
        },
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("no usable sentence"), "{err}");
}
