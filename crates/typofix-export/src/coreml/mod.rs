//! A Core ML `.mlpackage` (ML Program, iOS 16 / macOS 13) written straight
//! from Rust: `Manifest.json`, the Model protobuf and `weight.bin`. The
//! program is DistilBERT in Apple's Neural Engine layout; see
//! docs/COREML.md for using it on a Mac or iPhone.
//!
//! Hand-written rather than produced by coremltools, which needs Python,
//! PyTorch and a trace: the format is small and documented in
//! `../shared/docs/coreml-format.md`, and CI checks what we write with
//! coremltools' own loaders.

mod blob;
mod mil;
mod program;
pub mod proto;

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use prost::Message;
use serde::Serialize;

pub use blob::{BlobType, BlobWriter};
use proto::{ArrayDataType, DataType};

use typofix::model::Checkpoint;
use typofix::Error;

/// Specification version 7: iOS 16 / macOS 13, the first with fp16 I/O.
pub const SPECIFICATION_VERSION: i32 = 7;
/// The MIL opset of specification version 7.
pub const OPSET: &str = "CoreML6";

const MODEL_PATH: &str = "Data/com.apple.CoreML/model.mlmodel";
const WEIGHTS_PATH: &str = "Data/com.apple.CoreML/weights/weight.bin";

/// The precision of the program's weights and arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// What the Neural Engine computes in.
    #[default]
    Fp16,
    Fp32,
}

impl FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Precision, String> {
        match s {
            "fp16" => Ok(Precision::Fp16),
            "fp32" => Ok(Precision::Fp32),
            other => Err(format!("unknown precision {other:?}: use fp16 or fp32")),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::Fp16 => "fp16",
            Precision::Fp32 => "fp32",
        })
    }
}

impl Precision {
    fn mil(self) -> DataType {
        match self {
            Precision::Fp16 => DataType::Float16,
            Precision::Fp32 => DataType::Float32,
        }
    }

    fn array(self) -> ArrayDataType {
        match self {
            Precision::Fp16 => ArrayDataType::Float16,
            Precision::Fp32 => ArrayDataType::Float32,
        }
    }
}

/// What goes into the package besides the weights.
#[derive(Debug, Clone)]
pub struct CoremlOptions {
    /// Tokens per input, padding included.
    pub seq_len: usize,
    pub precision: Precision,
    /// Replace an existing package at the output path.
    pub force: bool,
    pub author: String,
    pub license: String,
    pub version: String,
    pub short_description: String,
}

impl Default for CoremlOptions {
    fn default() -> Self {
        CoremlOptions {
            seq_len: 128,
            precision: Precision::Fp16,
            force: false,
            author: "typofix".into(),
            license: "MIT OR Apache-2.0".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            short_description: "DistilBERT masked language model (typofix), in Apple's Neural \
                                Engine layout: logits [1, vocab, 1, seq] for each token"
                .into(),
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct CoremlReport {
    pub path: PathBuf,
    pub seq_len: usize,
    pub precision: Precision,
    pub ops: BTreeMap<String, usize>,
    pub blobs: u32,
    pub model_bytes: usize,
    pub weight_bytes: usize,
}

/// Writes `checkpoint` as an ML Program package at `out` (a path ending in
/// `.mlpackage`). The package is assembled in a temporary directory beside
/// `out` and renamed into place, so a failure never leaves a partial one.
pub fn export_coreml(
    checkpoint: &Checkpoint,
    out: &Path,
    options: &CoremlOptions,
) -> Result<CoremlReport, Error> {
    check_request(checkpoint, out, options)?;
    let built = program::build(checkpoint, options.seq_len, options.precision.mil(), OPSET)?;
    let blobs = count_blobs(&built.weights);
    let model = proto::Model {
        specification_version: SPECIFICATION_VERSION,
        description: Some(description(checkpoint, options)),
        is_updatable: false,
        ml_program: Some(proto::Program {
            version: 1,
            functions: BTreeMap::from([("main".to_string(), built.function)]),
            doc_string: String::new(),
            attributes: BTreeMap::new(),
        }),
    };
    let model_bytes = model.encode_to_vec();
    write_package(out, &model_bytes, &built.weights, options.force)?;
    Ok(CoremlReport {
        path: out.to_owned(),
        seq_len: options.seq_len,
        precision: options.precision,
        ops: built.op_counts,
        blobs,
        model_bytes: model_bytes.len(),
        weight_bytes: built.weights.len(),
    })
}

fn count_blobs(weights: &[u8]) -> u32 {
    u32::from_le_bytes(weights[0..4].try_into().expect("a header"))
}

fn check_request(
    checkpoint: &Checkpoint,
    out: &Path,
    options: &CoremlOptions,
) -> Result<(), Error> {
    let cfg = &checkpoint.config;
    if let Some(other) = cfg
        .architectures
        .iter()
        .find(|a| a.as_str() != "DistilBertForMaskedLM")
    {
        return Err(Error::InvalidArgument(format!(
            "the checkpoint's architecture is {other}; export coreml writes \
             DistilBertForMaskedLM models only"
        )));
    }
    if options.seq_len == 0 || options.seq_len > cfg.max_position_embeddings {
        return Err(Error::InvalidArgument(format!(
            "--seq-len {} is outside what the model takes: 1 to {} positions \
             (max_position_embeddings)",
            options.seq_len, cfg.max_position_embeddings
        )));
    }
    if out.extension().and_then(|e| e.to_str()) != Some("mlpackage") {
        return Err(Error::InvalidArgument(format!(
            "{}: a Core ML package's name must end in .mlpackage",
            out.display()
        )));
    }
    if out.exists() && !options.force {
        return Err(Error::InvalidArgument(format!(
            "{} exists: pass --force to replace it",
            out.display()
        )));
    }
    Ok(())
}

fn array_feature(
    name: &str,
    doc: &str,
    shape: &[usize],
    dtype: ArrayDataType,
) -> proto::FeatureDescription {
    proto::FeatureDescription {
        name: name.into(),
        short_description: doc.into(),
        r#type: Some(proto::FeatureType {
            multi_array_type: Some(proto::ArrayFeatureType {
                shape: shape.iter().map(|&d| d as i64).collect(),
                data_type: dtype as i32,
            }),
            is_optional: false,
        }),
    }
}

fn description(checkpoint: &Checkpoint, options: &CoremlOptions) -> proto::ModelDescription {
    let (s, v) = (options.seq_len, checkpoint.config.vocab_size);
    let config = serde_json::to_string(&checkpoint.config).expect("a config serialises");
    proto::ModelDescription {
        input: vec![
            array_feature(
                "input_ids",
                "WordPiece ids: [CLS] text [SEP], padded with [PAD] to the sequence length",
                &[1, s],
                ArrayDataType::Int32,
            ),
            array_feature(
                "attention_mask",
                "1 for real tokens, 0 for padding",
                &[1, s],
                ArrayDataType::Int32,
            ),
        ],
        output: vec![array_feature(
            "logits",
            "Masked-language-model logits, [1, vocab, 1, seq]: read token t's at [0, :, 0, t]",
            &[1, v, 1, s],
            options.precision.array(),
        )],
        metadata: Some(proto::Metadata {
            short_description: options.short_description.clone(),
            version_string: options.version.clone(),
            author: options.author.clone(),
            license: options.license.clone(),
            user_defined: BTreeMap::from([
                ("typofix.config".to_string(), config),
                ("typofix.layout".to_string(), "ane-bc1s".to_string()),
                (
                    "typofix.precision".to_string(),
                    options.precision.to_string(),
                ),
                ("typofix.seq_len".to_string(), s.to_string()),
            ]),
        }),
    }
}

/// An identifier for a manifest entry. Any unique string is valid; one
/// derived from the content keeps exports reproducible.
fn identifier(content: &[u8], item: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    content.hash(&mut h);
    item.hash(&mut h);
    let a = h.finish();
    a.hash(&mut h);
    let b = h.finish();
    let hex = format!("{a:016X}{b:016X}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn manifest(model_bytes: &[u8]) -> serde_json::Value {
    let (model_id, weights_id) = (
        identifier(model_bytes, "model.mlmodel"),
        identifier(model_bytes, "weights"),
    );
    serde_json::json!({
        "fileFormatVersion": "1.0.0",
        "itemInfoEntries": {
            model_id.clone(): {
                "author": "com.apple.CoreML",
                "description": "CoreML Model Specification",
                "name": "model.mlmodel",
                "path": "com.apple.CoreML/model.mlmodel",
            },
            weights_id: {
                "author": "com.apple.CoreML",
                "description": "CoreML Model Weights",
                "name": "weights",
                "path": "com.apple.CoreML/weights",
            },
        },
        "rootModelIdentifier": model_id,
    })
}

fn write_package(out: &Path, model_bytes: &[u8], weights: &[u8], force: bool) -> Result<(), Error> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".typofix-mlpackage-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let write = |relative: &str, bytes: &[u8]| -> Result<(), Error> {
        let path = staging.path().join(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
    };
    write(MODEL_PATH, model_bytes)?;
    write(WEIGHTS_PATH, weights)?;
    let manifest = serde_json::to_vec_pretty(&manifest(model_bytes)).expect("json serialises");
    write("Manifest.json", &manifest)?;

    // Move an existing package aside first: a directory cannot be renamed
    // over a non-empty one, and the old one stays until the new one is in.
    let staged = staging.keep();
    let backup = if out.exists() && force {
        let aside = parent.join(format!(
            ".typofix-replaced-{}",
            out.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let _ = std::fs::remove_dir_all(&aside);
        std::fs::rename(out, &aside).map_err(|e| Error::io(out, e))?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&staged, out) {
        let _ = std::fs::remove_dir_all(&staged);
        if let Some(aside) = &backup {
            let _ = std::fs::rename(aside, out);
        }
        return Err(Error::io(out, e));
    }
    if let Some(aside) = backup {
        std::fs::remove_dir_all(&aside).map_err(|e| Error::io(&aside, e))?;
    }
    Ok(())
}
