//! What a corrector model is built from, counted or learned from a corpus:
//! the WordPiece vocabulary, the lexicon and the word-pair counts.

use tokenizers::models::wordpiece::WordPieceTrainer;
use tokenizers::models::TrainerWrapper;
use tokenizers::AddedToken;
use typofix::lexicon::Lexicon;
use typofix::ngram::BigramCounter;
use typofix::tokenizer::{Normalisation, Tokenizer};
use typofix::Error;

use crate::corpus::Corpus;

/// Which sentences of a corpus to read, by length in words.
pub type Window = std::ops::RangeInclusive<usize>;

/// Word counts, and word-pair counts when asked for, over a corpus.
pub struct Counts {
    /// Every word seen, not yet pruned.
    pub lexicon: Lexicon,
    pub bigrams: Option<BigramCounter>,
    /// Sentences counted.
    pub sentences: usize,
    /// Sentences left out because the corpus excludes them.
    pub excluded: usize,
}

/// Counts the words (and, with `bigrams`, the word pairs) of the corpus's
/// sentences in `window`.
pub fn count_words(corpus: &Corpus, window: Window, bigrams: bool) -> Result<Counts, Error> {
    let mut counts = Counts {
        lexicon: Lexicon::default(),
        bigrams: bigrams.then(BigramCounter::default),
        sentences: 0,
        excluded: 0,
    };
    for sentence in corpus.sentences(window) {
        let sentence = sentence?;
        counts.sentences += 1;
        counts.lexicon.add_text(&sentence);
        if let Some(counter) = counts.bigrams.as_mut() {
            counter.add_text(&sentence);
        }
    }
    counts.excluded = corpus.excluded();
    Ok(counts)
}

/// Learns a WordPiece vocabulary of at most `vocab_size` tokens from the
/// first `max_sentences` sentences of the corpus in `window`.
pub fn train_tokenizer(
    corpus: &Corpus,
    window: Window,
    max_sentences: usize,
    vocab_size: usize,
    normalisation: Normalisation,
) -> Result<Tokenizer, Error> {
    let mut failure = None;
    let sentences = corpus
        .sentences(window)
        .map_while(|s| s.map_err(|e| failure = Some(e)).ok())
        .take(max_sentences);
    let tokenizer = wordpiece(sentences, vocab_size, normalisation)?;
    match failure {
        Some(e) => Err(e),
        None => Ok(tokenizer),
    }
}

/// Learns a WordPiece vocabulary of at most `vocab_size` tokens from `texts`.
pub fn wordpiece<I, S>(
    texts: I,
    vocab_size: usize,
    normalisation: Normalisation,
) -> Result<Tokenizer, Error>
where
    I: Iterator<Item = S> + Send,
    S: AsRef<str> + Send,
{
    let specials = Tokenizer::specials()
        .map(|t| AddedToken::from(t, true))
        .to_vec();
    let mut trainer: TrainerWrapper = WordPieceTrainer::builder()
        .vocab_size(vocab_size)
        .min_frequency(2)
        .special_tokens(specials)
        .show_progress(false)
        .build()
        .into();
    let mut inner = Tokenizer::untrained(normalisation)?;
    inner
        .train(&mut trainer, texts)
        .map_err(|e| Error::InvalidArgument(format!("tokenizer training failed: {e}")))?;
    Tokenizer::from_trained(inner)
}

#[cfg(test)]
mod tests {
    use typofix::tokenizer::{TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, VOCAB_FILE};

    use super::*;
    use crate::corpus::CorpusOptions;

    #[test]
    fn a_trained_tokenizer_saves_and_reloads_identically() {
        let texts = [
            "the cat sat on the mat.",
            "the dog sat on the log.",
            "walking and talking.",
        ]
        .repeat(20);
        let tok = wordpiece(texts.iter(), 60, Normalisation::default()).unwrap();
        assert!(tok.vocab_size() <= 60);
        let dir = tempfile::tempdir().unwrap();
        tok.save(dir.path(), 128).unwrap();
        for file in [TOKENIZER_FILE, VOCAB_FILE, TOKENIZER_CONFIG_FILE] {
            assert!(dir.path().join(file).exists(), "{file}");
        }
        let again = Tokenizer::load(dir.path()).unwrap();
        let from_vocab =
            Tokenizer::from_vocab(&dir.path().join(VOCAB_FILE), Normalisation::default()).unwrap();
        for text in ["The cat sat.", "walking dogs"] {
            assert_eq!(tok.encode(text).unwrap(), again.encode(text).unwrap());
            assert_eq!(tok.encode(text).unwrap(), from_vocab.encode(text).unwrap());
        }
    }

    #[test]
    fn excluded_sentences_are_not_counted() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("corpus.txt");
        std::fs::write(&text, "The cat sat on the mat.\nA zebra ate the grass.\n").unwrap();
        let dev = dir.path().join("dev.txt");
        std::fs::write(&dev, "a zebra ate the grass\n").unwrap();
        let corpus = Corpus::open(
            &[text],
            CorpusOptions {
                exclude: vec![dev],
                ..CorpusOptions::default()
            },
        )
        .unwrap();
        let counts = count_words(&corpus, 1..=100, true).unwrap();
        assert_eq!((counts.sentences, counts.excluded), (1, 1));
        assert!(counts.lexicon.contains("cat"));
        assert!(!counts.lexicon.contains("zebra"));
    }
}
