//! WordPiece tokenisation through Hugging Face's `tokenizers`: the BERT
//! normaliser (lower-casing and accent stripping as configured), the BERT
//! pre-tokeniser, WordPiece, and `[CLS] … [SEP]` post-processing. Offsets
//! into the input are kept for every token.

use std::path::Path;

use serde_json::json;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{AddedToken, Model};

use crate::Error;

pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const VOCAB_FILE: &str = "vocab.txt";
pub const TOKENIZER_CONFIG_FILE: &str = "tokenizer_config.json";

pub const PAD: &str = "[PAD]";
pub const UNK: &str = "[UNK]";
pub const CLS: &str = "[CLS]";
pub const SEP: &str = "[SEP]";
pub const MASK: &str = "[MASK]";
const SPECIALS: [&str; 5] = [PAD, UNK, CLS, SEP, MASK];

/// A tokenised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    /// Byte range of each token in the input; (0, 0) for special tokens.
    pub offsets: Vec<(usize, usize)>,
}

/// A BERT-style WordPiece tokenizer.
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    pub pad_id: u32,
    pub unk_id: u32,
    pub cls_id: u32,
    pub sep_id: u32,
    pub mask_id: u32,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.vocab_size())
            .finish()
    }
}

/// How the BERT normaliser treats case and accents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalisation {
    pub lowercase: bool,
    /// `None`: strip accents exactly when lower-casing, as BERT does.
    pub strip_accents: Option<bool>,
}

impl Default for Normalisation {
    fn default() -> Self {
        Normalisation {
            lowercase: true,
            strip_accents: None,
        }
    }
}

impl Tokenizer {
    /// Loads `dir/tokenizer.json`, or else `dir/vocab.txt` with the casing
    /// that `dir/tokenizer_config.json` gives (uncased by default).
    pub fn load(dir: &Path) -> Result<Tokenizer, Error> {
        let json = dir.join(TOKENIZER_FILE);
        if json.exists() {
            let inner =
                tokenizers::Tokenizer::from_file(&json).map_err(|e| Error::InvalidModel {
                    path: json.clone(),
                    reason: format!("not a readable tokenizer: {e}"),
                })?;
            return Tokenizer::wrap(inner, &json);
        }
        let vocab = dir.join(VOCAB_FILE);
        if !vocab.exists() {
            return Err(Error::InvalidModel {
                path: dir.to_owned(),
                reason: format!("no tokenizer: neither {TOKENIZER_FILE} nor {VOCAB_FILE} is there"),
            });
        }
        let config = dir.join(TOKENIZER_CONFIG_FILE);
        let normalisation = match std::fs::read_to_string(&config) {
            Ok(text) => {
                let value: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| Error::InvalidModel {
                        path: config.clone(),
                        reason: format!("not valid JSON: {e}"),
                    })?;
                Normalisation {
                    lowercase: value["do_lower_case"].as_bool().unwrap_or(true),
                    strip_accents: value["strip_accents"].as_bool(),
                }
            }
            Err(_) => Normalisation::default(),
        };
        Tokenizer::from_vocab(&vocab, normalisation)
    }

    /// Reads the contents of a `tokenizer.json`; `origin` names it in errors.
    pub fn from_json_bytes(bytes: &[u8], origin: &Path) -> Result<Tokenizer, Error> {
        let inner = tokenizers::Tokenizer::from_bytes(bytes).map_err(|e| Error::InvalidModel {
            path: origin.to_owned(),
            reason: format!("not a readable tokenizer: {e}"),
        })?;
        Tokenizer::wrap(inner, origin)
    }

    /// A BERT tokenizer over a `vocab.txt` (one token per line, id = line).
    pub fn from_vocab(vocab: &Path, normalisation: Normalisation) -> Result<Tokenizer, Error> {
        let path = vocab.to_string_lossy();
        let model = WordPiece::from_file(&path)
            .unk_token(UNK.into())
            .build()
            .map_err(|e| Error::InvalidModel {
                path: vocab.to_owned(),
                reason: format!("not a readable WordPiece vocabulary: {e}"),
            })?;
        Tokenizer::wrap(bert_pipeline(model, normalisation, vocab)?, vocab)
    }

    /// An empty BERT pipeline (normaliser, pre-tokeniser, decoder and the
    /// special tokens) around an untrained WordPiece model: what
    /// `typofix-train` learns a vocabulary into.
    pub fn untrained(normalisation: Normalisation) -> Result<tokenizers::Tokenizer, Error> {
        let model = WordPiece::builder()
            .unk_token(UNK.into())
            .build()
            .map_err(|e| Error::InvalidArgument(format!("cannot build WordPiece: {e}")))?;
        bert_pipeline(model, normalisation, Path::new("<training>"))
    }

    /// Wraps a pipeline from [`Tokenizer::untrained`] once its vocabulary is
    /// learned, adding BERT's `[CLS] … [SEP]` post-processing.
    pub fn from_trained(mut inner: tokenizers::Tokenizer) -> Result<Tokenizer, Error> {
        let bert = bert_processing(&inner, Path::new("<training>"))?;
        inner.with_post_processor(Some(bert));
        Tokenizer::wrap(inner, Path::new("<training>"))
    }

    /// The special tokens, in id order.
    pub fn specials() -> [&'static str; 5] {
        SPECIALS
    }

    fn wrap(mut inner: tokenizers::Tokenizer, path: &Path) -> Result<Tokenizer, Error> {
        // Hugging Face tokenizers often ship with fixed padding and
        // truncation (all-MiniLM-L6-v2 pads every text to 128): typofix
        // encodes single words and windows sentences itself, so both go.
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| Error::InvalidModel {
                path: path.to_owned(),
                reason: format!("cannot turn off truncation: {e}"),
            })?;
        let id = |token: &str| {
            inner.token_to_id(token).ok_or_else(|| Error::InvalidModel {
                path: path.to_owned(),
                reason: format!("the vocabulary has no {token} token"),
            })
        };
        Ok(Tokenizer {
            pad_id: id(PAD)?,
            unk_id: id(UNK)?,
            cls_id: id(CLS)?,
            sep_id: id(SEP)?,
            mask_id: id(MASK)?,
            inner,
        })
    }

    /// Saves `tokenizer.json`, `vocab.txt` and `tokenizer_config.json`, which
    /// is what transformers' `AutoTokenizer` reads.
    pub fn save(&self, dir: &Path, model_max_length: usize) -> Result<(), Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let json = dir.join(TOKENIZER_FILE);
        self.inner
            .save(&json, true)
            .map_err(|e| Error::InvalidModel {
                path: json.clone(),
                reason: format!("cannot save the tokenizer: {e}"),
            })?;
        self.inner
            .get_model()
            .save(dir, None)
            .map_err(|e| Error::InvalidModel {
                path: dir.join(VOCAB_FILE),
                reason: format!("cannot save the vocabulary: {e}"),
            })?;
        let config = json!({
            "tokenizer_class": "DistilBertTokenizer",
            "do_lower_case": self.normalisation().lowercase,
            "strip_accents": self.normalisation().strip_accents,
            "model_max_length": model_max_length,
            "unk_token": UNK, "sep_token": SEP, "pad_token": PAD, "cls_token": CLS, "mask_token": MASK,
        });
        let path = dir.join(TOKENIZER_CONFIG_FILE);
        let text = serde_json::to_string_pretty(&config).expect("a JSON value serialises") + "\n";
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    }

    fn normalisation(&self) -> Normalisation {
        let value = serde_json::to_value(self.inner.get_normalizer()).unwrap_or_default();
        Normalisation {
            lowercase: value["lowercase"].as_bool().unwrap_or(true),
            strip_accents: value["strip_accents"].as_bool(),
        }
    }

    /// Tokenises `text` with `[CLS]` and `[SEP]`.
    pub fn encode(&self, text: &str) -> Result<Encoding, Error> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| Error::InvalidArgument(format!("cannot tokenise the text: {e}")))?;
        Ok(Encoding {
            ids: enc.get_ids().to_vec(),
            offsets: enc.get_offsets().to_vec(),
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The vocabulary entry of `id`, such as `walk` or `##ing`.
    pub fn token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }
}

fn bert_pipeline(
    model: WordPiece,
    n: Normalisation,
    path: &Path,
) -> Result<tokenizers::Tokenizer, Error> {
    let mut tokenizer = tokenizers::Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(
            true,
            true,
            n.strip_accents,
            n.lowercase,
        )))
        .map_err(|e| Error::InvalidArgument(format!("cannot set the normaliser: {e}")))?;
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    tokenizer.with_decoder(Some(WordPieceDecoder::default()));
    tokenizer
        .add_special_tokens(SPECIALS.map(|t| AddedToken::from(t, true)))
        .map_err(|e| Error::InvalidArgument(format!("cannot add the special tokens: {e}")))?;
    if tokenizer.get_vocab_size(false) > 0 {
        let bert = bert_processing(&tokenizer, path)?;
        tokenizer.with_post_processor(Some(bert));
    }
    Ok(tokenizer)
}

fn bert_processing(
    tokenizer: &tokenizers::Tokenizer,
    path: &Path,
) -> Result<BertProcessing, Error> {
    let id = |token: &str| {
        tokenizer
            .token_to_id(token)
            .ok_or_else(|| Error::InvalidModel {
                path: path.to_owned(),
                reason: format!("the vocabulary has no {token} token"),
            })
    };
    Ok(BertProcessing::new(
        (SEP.into(), id(SEP)?),
        (CLS.into(), id(CLS)?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_vocab(dir: &Path) -> std::path::PathBuf {
        let path = dir.join(VOCAB_FILE);
        let words = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "walk", "##ing",
            "cafe", ".",
        ];
        std::fs::write(&path, words.join("\n") + "\n").unwrap();
        path
    }

    #[test]
    fn a_vocab_file_tokenises_uncased_with_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let tok = Tokenizer::from_vocab(&tiny_vocab(dir.path()), Normalisation::default()).unwrap();
        let enc = tok.encode("The cat WALKING café.").unwrap();
        let tokens: Vec<String> = enc.ids.iter().map(|&i| tok.token(i).unwrap()).collect();
        assert_eq!(
            tokens,
            ["[CLS]", "the", "cat", "walk", "##ing", "cafe", ".", "[SEP]"]
        );
        assert_eq!(enc.offsets[1], (0, 3));
        assert_eq!(enc.offsets[4], (12, 15));
        assert_eq!(enc.offsets[5], (16, 21));
        assert_eq!(tok.mask_id, 4);
    }

    #[test]
    fn mask_tokens_in_text_become_the_mask_id() {
        let dir = tempfile::tempdir().unwrap();
        let tok = Tokenizer::from_vocab(&tiny_vocab(dir.path()), Normalisation::default()).unwrap();
        assert_eq!(tok.encode("the [MASK] sat").unwrap().ids, [2, 5, 4, 7, 3]);
    }

    #[test]
    fn padding_and_truncation_saved_with_a_tokenizer_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let tok = Tokenizer::from_vocab(&tiny_vocab(dir.path()), Normalisation::default()).unwrap();
        let mut inner = tok.inner.clone();
        inner.with_padding(Some(tokenizers::PaddingParams {
            strategy: tokenizers::PaddingStrategy::Fixed(16),
            ..Default::default()
        }));
        inner
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: 3,
                ..Default::default()
            }))
            .unwrap();
        let json = inner.to_string(false).unwrap();
        let back = Tokenizer::from_json_bytes(json.as_bytes(), dir.path()).unwrap();
        assert_eq!(back.encode("the cat sat").unwrap().ids, [2, 5, 6, 7, 3]);
    }

    #[test]
    fn a_directory_without_a_tokenizer_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let err = Tokenizer::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no tokenizer"), "{err}");
    }
}
