//! A corrector model on disk: a DistilBERT checkpoint in Hugging Face's
//! layout plus the corrector's own files.
//!
//! ```text
//! config.json, model.safetensors   the masked language model
//! tokenizer.json                   its WordPiece tokenizer
//! lexicon.tsv.gz                   word counts (`typofix data build-lexicon`)
//! bigrams.tsv.gz                   word-pair counts (optional; same command)
//! corrector.json                   channel model and decision settings
//! detector.safetensors             error-detection head (optional)
//! SHA256SUMS                       the files' checksums (`sha256sum -c`)
//! ```
//!
//! A package read from disk is checked against its `SHA256SUMS` when it has
//! one (`typofix model package` writes it; it leaves out the hand-tunable
//! `corrector.json`), so a damaged copy (bit rot, a partial download) is
//! refused at load, naming the file.
//!
//! The default model is such a directory embedded in the library at build
//! time, so `typofix fix` works offline, from any directory, after
//! `cargo install`. The file names are this module's own: code elsewhere
//! reads and writes packages through [`ModelPackage`].

use std::path::{Path, PathBuf};

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

use crate::atomic::AtomicFile;
use crate::correct::Settings;
use crate::lexicon::Lexicon;
use crate::misspellings::MisspellingTable;
use crate::model::{
    parse_config, write_safetensors, Checkpoint, Detector, CONFIG_FILE, DETECTOR_FILE,
    DETECTOR_PREFIX, WEIGHTS_FILE,
};
use crate::ngram::Bigrams;
use crate::tokenizer::{Tokenizer, TOKENIZER_FILE};
use crate::Error;

const LEXICON_FILE: &str = "lexicon.tsv.gz";
const BIGRAMS_FILE: &str = "bigrams.tsv.gz";
const SETTINGS_FILE: &str = "corrector.json";
const CHECKSUMS_FILE: &str = "SHA256SUMS";

/// Everything a corrector is built from.
pub struct ModelPackage {
    pub checkpoint: Checkpoint,
    pub tokenizer: Tokenizer,
    pub lexicon: Lexicon,
    pub bigrams: Option<Bigrams>,
    /// The error-detection head over the model's encoder.
    pub detector: Option<Detector>,
    /// The built-in table of real misspellings (not stored per package).
    pub misspellings: MisspellingTable,
    pub settings: Settings,
}

/// What [`ModelPackage::write`] assembles a package from: the outputs of
/// training (`typofix train mlm`) and counting (`typofix data build-lexicon`).
#[derive(Debug, Clone)]
pub struct PackageSources {
    /// A checkpoint directory holding the `tokenizer.json` the model was
    /// trained with.
    pub mlm: PathBuf,
    /// Word counts, as `Lexicon::save` writes them.
    pub lexicon: PathBuf,
    /// Word-pair counts, as `BigramCounter::save` writes them.
    pub bigrams: Option<PathBuf>,
    /// A checkpoint of `typofix train detect` whose detection head to
    /// include; it must have been trained over this `mlm`'s encoder.
    pub detector: Option<PathBuf>,
    pub settings: Settings,
    /// Precision of the stored weights.
    pub dtype: DType,
}

impl ModelPackage {
    /// Reads a model directory.
    pub fn read(dir: &Path) -> Result<ModelPackage, Error> {
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
        let settings = optional(SETTINGS_FILE)?;
        let bigrams = optional(BIGRAMS_FILE)?;
        let detector = optional(DETECTOR_FILE)?;
        let (config, weights, tokenizer, lexicon) = (
            read(CONFIG_FILE)?,
            read(WEIGHTS_FILE)?,
            read(TOKENIZER_FILE)?,
            read(LEXICON_FILE)?,
        );
        if let Some(sums) = optional(CHECKSUMS_FILE)? {
            let present = [
                (CONFIG_FILE, Some(&config)),
                (WEIGHTS_FILE, Some(&weights)),
                (TOKENIZER_FILE, Some(&tokenizer)),
                (LEXICON_FILE, Some(&lexicon)),
                (BIGRAMS_FILE, bigrams.as_ref()),
                (DETECTOR_FILE, detector.as_ref()),
            ];
            verify_checksums(dir, &sums, &present)?;
        }
        ModelPackage::from_files(Files {
            dir: dir.to_owned(),
            config: &config,
            weights: &weights,
            tokenizer: &tokenizer,
            lexicon: &lexicon,
            bigrams: bigrams.as_deref(),
            detector: detector.as_deref(),
            settings: settings.as_deref(),
        })
    }

    /// The model that ships inside typofix.
    #[cfg(feature = "default-model")]
    pub fn builtin() -> Result<ModelPackage, Error> {
        ModelPackage::from_files(builtin_files())
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

    /// Whether `dir` already holds a model.
    pub fn exists(dir: &Path) -> bool {
        dir.join(CONFIG_FILE).exists()
    }

    /// Writes a model directory from `sources`, replacing the files of one
    /// already there, and reads it back: an `Ok` is a package that loads.
    /// Every input is checked before anything is written.
    pub fn write(out: &Path, sources: &PackageSources) -> Result<ModelPackage, Error> {
        let checkpoint = Checkpoint::load(&sources.mlm, &Device::Cpu)?;
        let tokenizer_json = sources.mlm.join(TOKENIZER_FILE);
        let tokenizer =
            std::fs::read(&tokenizer_json).map_err(|e| match Error::io(&tokenizer_json, e) {
                Error::NotFound(path) => Error::InvalidModel {
                    path,
                    reason: "missing: a corrector model needs the tokenizer.json its language \
                         model was trained with"
                        .into(),
                },
                other => other,
            })?;
        check_vocabulary(
            &Tokenizer::from_json_bytes(&tokenizer, &tokenizer_json)?,
            &checkpoint,
            &tokenizer_json,
        )?;
        Lexicon::load(&sources.lexicon)?;
        if let Some(path) = &sources.bigrams {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            Bigrams::from_bytes(&bytes).map_err(|reason| Error::InvalidData {
                path: path.clone(),
                reason,
            })?;
        }

        let detector = match &sources.detector {
            Some(dir) => Some(detector_tensors(dir, &checkpoint)?),
            None => None,
        };

        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        // A detection run's checkpoint carries the head too; it goes to
        // its own file, so the language model stays a plain checkpoint.
        let language_model: HashMap<String, Tensor> = checkpoint
            .tensors
            .iter()
            .filter(|(name, _)| !is_detector(name))
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect();
        Checkpoint::save(out, &checkpoint.config, &language_model, sources.dtype)?;
        match detector {
            Some(tensors) => write_safetensors(&out.join(DETECTOR_FILE), &tensors, sources.dtype)?,
            None => remove_if_present(&out.join(DETECTOR_FILE))?,
        }
        let copy = |from: &Path, name: &str| -> Result<(), Error> {
            std::fs::copy(from, out.join(name))
                .map(drop)
                .map_err(|e| Error::io(&out.join(name), e))
        };
        copy(&tokenizer_json, TOKENIZER_FILE)?;
        copy(&sources.lexicon, LEXICON_FILE)?;
        match &sources.bigrams {
            Some(from) => copy(from, BIGRAMS_FILE)?,
            // An older package's word pairs would not match the new lexicon.
            None => remove_if_present(&out.join(BIGRAMS_FILE))?,
        }
        sources.settings.save(&out.join(SETTINGS_FILE))?;
        write_checksums(out)?;
        ModelPackage::read(out)
    }

    fn from_files(files: Files) -> Result<ModelPackage, Error> {
        let path = |name: &str| files.dir.join(name);
        let checkpoint = files.checkpoint()?;
        let tokenizer = Tokenizer::from_json_bytes(files.tokenizer, &path(TOKENIZER_FILE))?;
        check_vocabulary(&tokenizer, &checkpoint, &path(TOKENIZER_FILE))?;
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
            Some(bytes) => Settings::parse(bytes, &path(SETTINGS_FILE))?,
            None => Settings::default(),
        };
        let detector = match files.detector {
            Some(bytes) => Some(Detector::from_safetensors(
                &checkpoint.config,
                bytes,
                &path(DETECTOR_FILE),
            )?),
            None => None,
        };
        Ok(ModelPackage {
            checkpoint,
            tokenizer,
            lexicon,
            bigrams,
            detector,
            misspellings: MisspellingTable::builtin(),
            settings,
        })
    }
}

fn is_detector(name: &str) -> bool {
    name.strip_prefix(DETECTOR_PREFIX)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// The detection head's tensors from a `typofix train detect` checkpoint,
/// checked against the language model they will sit beside.
fn detector_tensors(dir: &Path, lm: &Checkpoint) -> Result<HashMap<String, Tensor>, Error> {
    let weights = dir.join(WEIGHTS_FILE);
    let bytes = std::fs::read(&weights).map_err(|e| Error::io(&weights, e))?;
    let all = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).map_err(|e| {
        Error::InvalidModel {
            path: weights.clone(),
            reason: format!(
                "not a readable safetensors file ({e}); it may be truncated or corrupt"
            ),
        }
    })?;
    let head: HashMap<String, Tensor> = all.into_iter().filter(|(n, _)| is_detector(n)).collect();
    if head.is_empty() {
        return Err(Error::InvalidModel {
            path: weights,
            reason: "holds no detection head: give a checkpoint of `typofix train detect`".into(),
        });
    }
    // The same shape checks as at load, before anything is written.
    Detector::from_tensors(&lm.config, head.clone(), &weights)?;
    Ok(head)
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `SHA256SUMS` over the package's files, in `sha256sum`'s format.
/// Not over `corrector.json`: its settings are there to be tuned by hand,
/// and it is parsed strictly anyway.
fn write_checksums(dir: &Path) -> Result<(), Error> {
    use std::io::Write;
    let mut sums = String::new();
    for name in [
        CONFIG_FILE,
        WEIGHTS_FILE,
        TOKENIZER_FILE,
        LEXICON_FILE,
        BIGRAMS_FILE,
        DETECTOR_FILE,
    ] {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => sums.push_str(&format!("{}  {name}\n", sha256_hex(&bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    let path = dir.join(CHECKSUMS_FILE);
    let mut file = AtomicFile::create(&path)?;
    file.write_all(sums.as_bytes())
        .map_err(|e| Error::io(&path, e))?;
    file.commit()
}

/// Checks each file `SHA256SUMS` lists against its checksum. A listed file
/// that is missing is an error too: the package is incomplete.
fn verify_checksums(
    dir: &Path,
    sums: &[u8],
    present: &[(&str, Option<&Vec<u8>>)],
) -> Result<(), Error> {
    let sums_path = dir.join(CHECKSUMS_FILE);
    let invalid = |path: PathBuf, reason: String| Error::InvalidModel { path, reason };
    let text = std::str::from_utf8(sums)
        .map_err(|_| invalid(sums_path.clone(), "not UTF-8 text".into()))?;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (hash, name) = line
            .split_once("  ")
            .ok_or_else(|| invalid(sums_path.clone(), format!("not `HASH  NAME`: {line:?}")))?;
        let path = dir.join(name);
        let Some((_, bytes)) = present.iter().find(|(n, _)| *n == name) else {
            // Not a file the package reads: nothing to check.
            continue;
        };
        let Some(bytes) = bytes else {
            return Err(invalid(
                path,
                format!("missing, though {CHECKSUMS_FILE} lists it: the package is incomplete"),
            ));
        };
        if !sha256_hex(bytes).eq_ignore_ascii_case(hash) {
            return Err(invalid(
                path,
                format!(
                    "does not match its checksum in {CHECKSUMS_FILE}: the file is damaged \
                     (bit rot, a partial copy); re-download or re-package the model"
                ),
            ));
        }
    }
    Ok(())
}

/// A tokenizer must not produce ids the model has no embedding for.
fn check_vocabulary(
    tokenizer: &Tokenizer,
    checkpoint: &Checkpoint,
    path: &Path,
) -> Result<(), Error> {
    if tokenizer.vocab_size() > checkpoint.config.vocab_size {
        return Err(Error::InvalidModel {
            path: path.to_owned(),
            reason: format!(
                "the tokenizer has {} tokens but the model only {}: they do not belong together",
                tokenizer.vocab_size(),
                checkpoint.config.vocab_size
            ),
        });
    }
    Ok(())
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
        detector: Some(model_file!("detector.safetensors")),
        settings: Some(model_file!("corrector.json")),
    }
}

/// The files of a model directory, in memory.
struct Files<'a> {
    dir: PathBuf,
    config: &'a [u8],
    weights: &'a [u8],
    tokenizer: &'a [u8],
    lexicon: &'a [u8],
    bigrams: Option<&'a [u8]>,
    detector: Option<&'a [u8]>,
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
