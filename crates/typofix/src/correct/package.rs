//! A corrector model on disk: a DistilBERT checkpoint in Hugging Face's
//! layout plus the corrector's own files.
//!
//! ```text
//! config.json, model.safetensors   the masked language model
//! tokenizer.json                   its WordPiece tokenizer
//! lexicon.tsv.gz                   word counts (`typofix data build-lexicon`)
//! bigrams.tsv.gz                   word-pair counts (optional; same command)
//! corrector.json                   channel model and decision settings
//! ```
//!
//! The default model is this directory embedded in the library at build time,
//! so `typofix fix` works offline, from any directory, after `cargo install`.

use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::{Deserialize, Serialize};

use super::ChannelModel;
use crate::atomic::AtomicFile;
use crate::corrupt::MisspellingTable;
use crate::lexicon::{Lexicon, LEXICON_FILE};
use crate::model::{parse_config, Checkpoint, CONFIG_FILE, WEIGHTS_FILE};
use crate::ngram::{Bigrams, BIGRAMS_FILE};
use crate::tokenizer::{Tokenizer, TOKENIZER_FILE};
use crate::Error;

pub const CORRECTOR_FILE: &str = "corrector.json";

/// How the corrector decides, stored in `corrector.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// A correction must beat the original by this much log-probability.
    pub threshold: f64,
    /// And by this much more when the original is a known word respelled
    /// (not a confusion-set swap, whose prior is in the channel model):
    /// changing a correct word is the worst mistake.
    pub known_word_margin: f64,
    /// log-probability taken from an original that is not in the lexicon:
    /// the prior that an unknown word is spelled as meant. The language
    /// model alone overrates unknown words that happen to be one word piece
    /// (`stor`).
    pub unknown_penalty: f64,
    /// Words seen fewer times in the corpus are suspects (and names, when
    /// capitalised inside a sentence).
    pub rare_count: u64,
    /// Candidates must have been seen this many times.
    pub candidate_min_count: u64,
    /// Both halves of a split word must have been seen this many times.
    pub split_min_count: u64,
    /// Candidates per slot that the language model scores.
    pub max_candidates: usize,
    /// A common word's confusion alternatives are scored in context only
    /// when the unmasked sentence puts one within this log-probability of
    /// the word as written.
    pub screen_margin: f64,
    /// Weight of the bigram model next to the masked language model.
    pub bigram_weight: f64,
    pub channel: ChannelModel,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threshold: 2.0,
            known_word_margin: 5.0,
            unknown_penalty: 3.0,
            rare_count: 20,
            candidate_min_count: 5,
            split_min_count: 100,
            max_candidates: 10,
            screen_margin: -6.0,
            bigram_weight: 1.0,
            channel: ChannelModel::default(),
        }
    }
}

impl Settings {
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let mut file = AtomicFile::create(path)?;
        let text = serde_json::to_string_pretty(self).expect("settings serialise") + "\n";
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| Error::io(path, e))?;
        file.commit()
    }

    fn parse(bytes: &[u8], path: &Path) -> Result<Settings, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::InvalidModel {
            path: path.to_owned(),
            reason: format!("not valid corrector settings: {e}"),
        })
    }
}

#[cfg(feature = "default-model")]
fn builtin_files() -> Files<'static> {
    macro_rules! model_file {
        ($name:literal) => {
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/model/", $name))
        };
    }
    Files {
        dir: PathBuf::from("<built-in model>"),
        config: model_file!("config.json"),
        weights: model_file!("model.safetensors"),
        tokenizer: model_file!("tokenizer.json"),
        lexicon: model_file!("lexicon.tsv.gz"),
        bigrams: Some(model_file!("bigrams.tsv.gz")),
        settings: Some(model_file!("corrector.json")),
    }
}

/// The shipped model's language model alone, for exporting it.
#[cfg(feature = "default-model")]
pub fn builtin_checkpoint() -> Result<Checkpoint, Error> {
    builtin_files().checkpoint()
}

/// The shipped model's tokenizer.
#[cfg(feature = "default-model")]
pub fn builtin_tokenizer() -> Result<Tokenizer, Error> {
    let files = builtin_files();
    Tokenizer::from_json_bytes(files.tokenizer, &files.dir.join(TOKENIZER_FILE))
}

/// Everything a corrector is built from.
pub(super) struct Parts {
    pub checkpoint: Checkpoint,
    pub tokenizer: Tokenizer,
    pub lexicon: Lexicon,
    pub bigrams: Option<Bigrams>,
    pub misspellings: MisspellingTable,
    pub settings: Settings,
}

/// The files of a model directory, in memory.
struct Files<'a> {
    dir: PathBuf,
    config: &'a [u8],
    weights: &'a [u8],
    tokenizer: &'a [u8],
    lexicon: &'a [u8],
    bigrams: Option<&'a [u8]>,
    settings: Option<&'a [u8]>,
}

impl Files<'_> {
    fn checkpoint(&self) -> Result<Checkpoint, Error> {
        let path = |name: &str| self.dir.join(name);
        let config_text = std::str::from_utf8(self.config).map_err(|_| Error::InvalidModel {
            path: path(CONFIG_FILE),
            reason: "not UTF-8 text".into(),
        })?;
        let config = parse_config(config_text, &path(CONFIG_FILE))?;
        Checkpoint::from_safetensors(config, self.weights, &path(WEIGHTS_FILE), &Device::Cpu)
    }
}

impl Parts {
    pub fn read(dir: &Path) -> Result<Parts, Error> {
        if !dir.is_dir() {
            return Err(Error::InvalidModel {
                path: dir.to_owned(),
                reason: format!(
                    "not a model directory (one holds {CONFIG_FILE}, {WEIGHTS_FILE}, \
                     {TOKENIZER_FILE} and {LEXICON_FILE})"
                ),
            });
        }
        let read = |name: &str| -> Result<Vec<u8>, Error> {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| Error::io(&path, e))
        };
        let optional = |name: &str| -> Result<Option<Vec<u8>>, Error> {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(&path, e)),
            }
        };
        let settings = optional(CORRECTOR_FILE)?;
        let bigrams = optional(BIGRAMS_FILE)?;
        let (config, weights, tokenizer, lexicon) = (
            read(CONFIG_FILE)?,
            read(WEIGHTS_FILE)?,
            read(TOKENIZER_FILE)?,
            read(LEXICON_FILE)?,
        );
        Parts::from_files(Files {
            dir: dir.to_owned(),
            config: &config,
            weights: &weights,
            tokenizer: &tokenizer,
            lexicon: &lexicon,
            bigrams: bigrams.as_deref(),
            settings: settings.as_deref(),
        })
    }

    #[cfg(feature = "default-model")]
    pub fn builtin() -> Result<Parts, Error> {
        Parts::from_files(builtin_files())
    }

    fn from_files(files: Files) -> Result<Parts, Error> {
        let path = |name: &str| files.dir.join(name);
        let checkpoint = files.checkpoint()?;
        let tokenizer = Tokenizer::from_json_bytes(files.tokenizer, &path(TOKENIZER_FILE))?;
        if tokenizer.vocab_size() > checkpoint.config.vocab_size {
            return Err(Error::InvalidModel {
                path: path(TOKENIZER_FILE),
                reason: format!(
                    "the tokenizer has {} tokens but the model only {}",
                    tokenizer.vocab_size(),
                    checkpoint.config.vocab_size
                ),
            });
        }
        let lexicon = Lexicon::from_bytes(files.lexicon).map_err(|reason| Error::InvalidModel {
            path: path(LEXICON_FILE),
            reason,
        })?;
        let bigrams = match files.bigrams {
            Some(bytes) => {
                Some(
                    Bigrams::from_bytes(bytes).map_err(|reason| Error::InvalidModel {
                        path: path(BIGRAMS_FILE),
                        reason,
                    })?,
                )
            }
            None => None,
        };
        let settings = match files.settings {
            Some(bytes) => Settings::parse(bytes, &path(CORRECTOR_FILE))?,
            None => Settings::default(),
        };
        Ok(Parts {
            checkpoint,
            tokenizer,
            lexicon,
            bigrams,
            misspellings: MisspellingTable::builtin(),
            settings,
        })
    }
}
