//! Converting a standard DistilBERT checkpoint to the ANE layout, and the
//! converted checkpoint on disk: `config.json`, `model.safetensors` with
//! the ANE tensors, and `ane.json`, which records the layout.
//!
//! The conversion, tensor by tensor (Hugging Face names are kept):
//! - every Linear weight `[out, in]` becomes a Conv2d weight
//!   `[out, in, 1, 1]`: q, k, v, out, lin1 and lin2 in every block, and
//!   the head's vocab_transform and vocab_projector (Apple's own load hook
//!   misses the head's two);
//! - the projector's weight, tied to the word embeddings in Hugging Face's
//!   checkpoints, is written out as its own tensor;
//! - each LayerNorm's bias is divided by its weight, because LayerNormANE
//!   adds the bias before the scale.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use super::ane::{AneDistilBertForMaskedLM, ANE_LAYER_NORM_EPS};
use super::checkpoint::{
    expected_shapes, read_config, var_builder, Checkpoint, CONFIG_FILE, WEIGHTS_FILE,
};
use super::Config;
use crate::atomic::AtomicFile;
use crate::Error;

/// The file that marks a directory as an ANE-layout checkpoint.
pub const ANE_LAYOUT_FILE: &str = "ane.json";

const FORMAT: &str = "typofix-ane-bc1s";

/// What `ane.json` records: the layout, and what the conversion changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AneLayout {
    pub format: String,
    pub version: u32,
    /// Activations are (batch, channels, 1, sequence).
    pub activations: String,
    pub layer_norm_eps: f64,
    /// `"bias-before-scale"`: LayerNormANE computes `(x̂ + bias) · weight`.
    pub layer_norm_order: String,
    /// Linear weights rewritten as 1×1 Conv2d weights `[out, in, 1, 1]`.
    pub conv2d: Vec<String>,
    /// LayerNorms whose bias was divided by their weight.
    pub layer_norms: Vec<String>,
    /// `[copy, source]`: tied tensors written out on their own.
    pub untied: Vec<[String; 2]>,
}

/// A checkpoint in the ANE layout.
#[derive(Debug, Clone)]
pub struct AneCheckpoint {
    pub config: Config,
    pub layout: AneLayout,
    pub tensors: HashMap<String, Tensor>,
}

const WORD_EMBEDDINGS: &str = "distilbert.embeddings.word_embeddings.weight";
const PROJECTOR: &str = "vocab_projector.weight";

fn is_linear_weight(name: &str) -> bool {
    let linear = ["q_lin", "k_lin", "v_lin", "out_lin", "lin1", "lin2"]
        .iter()
        .any(|l| name.ends_with(&format!(".{l}.weight")));
    linear || name == "vocab_transform.weight" || name == PROJECTOR
}

/// `x.LayerNorm` for `x.LayerNorm.bias`, and likewise for `*layer_norm`.
fn layer_norm_of_bias(name: &str) -> Option<&str> {
    name.strip_suffix(".bias")
        .filter(|p| p.ends_with("LayerNorm") || p.ends_with("layer_norm"))
}

/// Every tensor of the ANE form, with its shape, in a stable order.
pub fn ane_expected_shapes(cfg: &Config) -> Vec<(String, Vec<usize>)> {
    let mut shapes = expected_shapes(cfg);
    shapes.push((PROJECTOR.to_string(), vec![cfg.vocab_size, cfg.dim]));
    for (name, shape) in &mut shapes {
        if is_linear_weight(name) {
            shape.extend([1, 1]);
        }
    }
    shapes
}

impl AneCheckpoint {
    /// Rewrites a standard checkpoint in the ANE layout.
    pub fn from_standard(standard: &Checkpoint) -> Result<AneCheckpoint, Error> {
        let cfg = &standard.config;
        let mut layout = AneLayout {
            format: FORMAT.into(),
            version: 1,
            activations: "BC1S".into(),
            layer_norm_eps: ANE_LAYER_NORM_EPS,
            layer_norm_order: "bias-before-scale".into(),
            conv2d: Vec::new(),
            layer_norms: Vec::new(),
            untied: vec![[PROJECTOR.into(), WORD_EMBEDDINGS.into()]],
        };
        let mut tensors = HashMap::new();
        for (name, shape) in ane_expected_shapes(cfg) {
            let source = if name == PROJECTOR {
                WORD_EMBEDDINGS
            } else {
                name.as_str()
            };
            let tensor = standard.tensors.get(source).ok_or_else(|| {
                Error::InvalidArgument(format!("the checkpoint has no tensor {source}"))
            })?;
            let converted = if is_linear_weight(&name) {
                layout.conv2d.push(name.clone());
                tensor.reshape(shape)?
            } else if let Some(prefix) = layer_norm_of_bias(&name) {
                let weight = &standard.tensors[&format!("{prefix}.weight")];
                check_no_zero(prefix, weight)?;
                layout.layer_norms.push(prefix.to_string());
                tensor.div(weight)?
            } else {
                tensor.clone()
            };
            tensors.insert(name, converted);
        }
        Ok(AneCheckpoint {
            config: cfg.clone(),
            layout,
            tensors,
        })
    }

    /// The checkpoint back in Hugging Face's layout (for exporters that
    /// take standard weights).
    pub fn to_standard(&self) -> Result<Checkpoint, Error> {
        let mut tensors = HashMap::new();
        for (name, shape) in expected_shapes(&self.config) {
            let tensor = &self.tensors[&name];
            let restored = match layer_norm_of_bias(&name) {
                Some(p) => tensor.mul(&self.tensors[&format!("{p}.weight")])?,
                None => tensor.reshape(shape)?,
            };
            tensors.insert(name, restored);
        }
        Ok(Checkpoint {
            config: self.config.clone(),
            tensors,
        })
    }

    /// The model, for inference.
    pub fn model(&self) -> Result<AneDistilBertForMaskedLM, Error> {
        let vb = var_builder(&self.tensors);
        Ok(AneDistilBertForMaskedLM::load(
            vb,
            &self.config,
            self.layout.layer_norm_eps,
        )?)
    }

    /// Writes `config.json`, `model.safetensors` (f32) and `ane.json` into
    /// `dir`, each atomically.
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        Checkpoint::save(dir, &self.config, &self.tensors, DType::F32)?;
        let path = dir.join(ANE_LAYOUT_FILE);
        let mut file = AtomicFile::create(&path)?;
        serde_json::to_writer_pretty(&mut file, &self.layout)
            .map_err(|e| Error::io(&path, e.into()))?;
        file.write_all(b"\n").map_err(|e| Error::io(&path, e))?;
        file.commit()
    }

    /// Whether `dir` holds an ANE-layout checkpoint.
    pub fn is_ane_dir(dir: &Path) -> bool {
        dir.join(ANE_LAYOUT_FILE).is_file()
    }

    /// Reads a directory written by [`AneCheckpoint::save`], checking every
    /// tensor's shape against the config.
    pub fn load(dir: &Path, device: &Device) -> Result<AneCheckpoint, Error> {
        let layout_path = dir.join(ANE_LAYOUT_FILE);
        let text = std::fs::read_to_string(&layout_path).map_err(|e| Error::io(&layout_path, e))?;
        let layout: AneLayout = serde_json::from_str(&text).map_err(|e| Error::InvalidModel {
            path: layout_path.clone(),
            reason: format!("not an ANE layout description: {e}"),
        })?;
        if layout.format != FORMAT || layout.version != 1 {
            return Err(Error::InvalidModel {
                path: layout_path,
                reason: format!(
                    "format {:?} version {} is not one this typofix reads ({FORMAT:?} version 1)",
                    layout.format, layout.version
                ),
            });
        }
        let config = read_config(&dir.join(CONFIG_FILE))?;
        let weights = dir.join(WEIGHTS_FILE);
        let bytes = std::fs::read(&weights).map_err(|e| Error::io(&weights, e))?;
        let invalid = |reason: String| Error::InvalidModel {
            path: weights.clone(),
            reason,
        };
        let loaded = candle_core::safetensors::load_buffer(&bytes, device).map_err(|e| {
            invalid(format!(
                "not a readable safetensors file ({e}); it may be truncated or corrupt"
            ))
        })?;
        let mut tensors = HashMap::new();
        for (name, shape) in ane_expected_shapes(&config) {
            let tensor = loaded
                .get(&name)
                .ok_or_else(|| invalid(format!("has no tensor {name}")))?;
            if tensor.dims() != shape.as_slice() {
                return Err(invalid(format!(
                    "{name} has shape {:?}, but the ANE layout of config.json implies {shape:?}",
                    tensor.dims()
                )));
            }
            tensors.insert(name, tensor.to_dtype(DType::F32)?);
        }
        Ok(AneCheckpoint {
            config,
            layout,
            tensors,
        })
    }
}

/// LayerNormANE divides the bias by the weight: a zero weight has no
/// equivalent in that order.
fn check_no_zero(layer_norm: &str, weight: &Tensor) -> Result<(), Error> {
    let values = weight.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    if let Some(channel) = values.iter().position(|&w| w == 0.0) {
        return Err(Error::InvalidArgument(format!(
            "{layer_norm} has weight 0 at channel {channel}: LayerNormANE adds the bias before \
             the scale, so this LayerNorm has no ANE equivalent"
        )));
    }
    Ok(())
}
