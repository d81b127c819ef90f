//! Checkpoint directories in Hugging Face's layout: `config.json` and
//! `model.safetensors`, as `save_pretrained` writes them and as a user
//! downloads them. Loading checks every tensor against the config, so a
//! damaged or mismatched checkpoint is a clear error naming the file, never
//! a failure in the middle of a forward pass.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};

use super::{Config, DistilBertForMaskedLM};
use crate::atomic::AtomicFile;
use crate::Error;

pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// Prefix of the encoder's tensors in a `DistilBertForMaskedLM` state dict.
const ENCODER_PREFIX: &str = "distilbert.";

/// A loaded checkpoint: its config and its tensors (f32, on `device`), named
/// as in `DistilBertForMaskedLM`'s state dict.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub config: Config,
    pub tensors: HashMap<String, Tensor>,
}

impl Checkpoint {
    /// Reads `dir/config.json` and `dir/model.safetensors`.
    pub fn load(dir: &Path, device: &Device) -> Result<Checkpoint, Error> {
        let config = read_config(&dir.join(CONFIG_FILE))?;
        let weights = dir.join(WEIGHTS_FILE);
        if !weights.exists() && dir.join("pytorch_model.bin").exists() {
            return Err(Error::InvalidModel {
                path: weights,
                reason:
                    "missing; this checkpoint only has pytorch_model.bin, which typofix does not \
                         read (pickle can run code): convert it with transformers' \
                         save_pretrained(safe_serialization=True)"
                        .into(),
            });
        }
        let bytes = std::fs::read(&weights).map_err(|e| Error::io(&weights, e))?;
        Checkpoint::from_safetensors(config, &bytes, &weights, device)
    }

    /// Checks and loads the contents of a `model.safetensors` against its
    /// config; `origin` names the file in errors.
    pub fn from_safetensors(
        config: Config,
        bytes: &[u8],
        origin: &Path,
        device: &Device,
    ) -> Result<Checkpoint, Error> {
        let weights = origin.to_owned();
        let tensors = candle_core::safetensors::load_buffer(bytes, device).map_err(|e| {
            Error::InvalidModel {
                path: weights.clone(),
                reason: format!(
                    "not a readable safetensors file ({e}); it may be truncated or corrupt"
                ),
            }
        })?;
        let tensors = normalise_names(tensors);
        check_tensors(&config, &tensors).map_err(|reason| Error::InvalidModel {
            path: weights.clone(),
            reason,
        })?;
        let tensors = tensors
            .into_iter()
            .filter(|(name, _)| name != "vocab_projector.weight")
            .map(|(name, t)| Ok((name, t.to_dtype(DType::F32)?)))
            .collect::<candle_core::Result<_>>()?;
        check_finite(&tensors).map_err(|reason| Error::InvalidModel {
            path: weights.clone(),
            reason,
        })?;
        Ok(Checkpoint { config, tensors })
    }

    /// The model, for inference.
    pub fn model(&self) -> Result<DistilBertForMaskedLM, Error> {
        let vb = var_builder(&self.tensors);
        Ok(DistilBertForMaskedLM::load(vb, &self.config)?)
    }

    /// The tensors as trainable variables.
    pub fn into_varmap(self) -> Result<VarMap, Error> {
        let varmap = VarMap::new();
        {
            let mut data = varmap
                .data()
                .lock()
                .expect("a fresh VarMap is not poisoned");
            for (name, tensor) in self.tensors {
                data.insert(name, candle_core::Var::from_tensor(&tensor)?);
            }
        }
        Ok(varmap)
    }

    /// Writes `config.json` and `model.safetensors` into `dir` (created if
    /// needed), each atomically, with weights in `dtype` (F32, F16 or BF16).
    pub fn save(
        dir: &Path,
        config: &Config,
        tensors: &HashMap<String, Tensor>,
        dtype: DType,
    ) -> Result<(), Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let config_path = dir.join(CONFIG_FILE);
        let mut file = AtomicFile::create(&config_path)?;
        serde_json::to_writer_pretty(&mut file, config)
            .map_err(|e| Error::io(&config_path, e.into()))?;
        file.write_all(b"\n")
            .map_err(|e| Error::io(&config_path, e))?;
        file.commit()?;

        write_safetensors(&dir.join(WEIGHTS_FILE), tensors, dtype)
    }
}

/// Writes `tensors` to a safetensors file at `path`, atomically, sorted by
/// name and in `dtype`.
pub(crate) fn write_safetensors(
    path: &Path,
    tensors: &HashMap<String, Tensor>,
    dtype: DType,
) -> Result<(), Error> {
    let mut named: Vec<(&String, Tensor)> = tensors
        .iter()
        .map(|(name, t)| Ok((name, t.to_dtype(dtype)?.contiguous()?)))
        .collect::<candle_core::Result<_>>()?;
    named.sort_by(|a, b| a.0.cmp(b.0));
    // transformers refuses safetensors files without this metadata.
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    let bytes = safetensors::serialize(named.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata))
        .map_err(|e| Error::InvalidModel {
            path: path.to_owned(),
            reason: format!("cannot serialise the weights: {e}"),
        })?;
    let mut file = AtomicFile::create(path)?;
    file.write_all(&bytes).map_err(|e| Error::io(path, e))?;
    file.commit()
}

/// A builder over `tensors` (f32), on the device they are on.
pub(crate) fn var_builder(tensors: &HashMap<String, Tensor>) -> VarBuilder<'static> {
    let device = tensors
        .values()
        .next()
        .map_or(Device::Cpu, |t| t.device().clone());
    VarBuilder::from_tensors(tensors.clone(), DType::F32, &device)
}

/// Reads and validates a `config.json`.
pub fn read_config(path: &Path) -> Result<Config, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_config(&text, path)
}

/// Parses and validates a `config.json`'s text; `path` names it in errors.
pub fn parse_config(text: &str, path: &Path) -> Result<Config, Error> {
    let config: Config = serde_json::from_str(text).map_err(|e| Error::InvalidModel {
        path: path.to_owned(),
        reason: format!("not a DistilBERT config: {e}"),
    })?;
    config.validate().map_err(|reason| Error::InvalidModel {
        path: path.to_owned(),
        reason,
    })?;
    Ok(config)
}

/// A bare `DistilBertModel` state dict lacks the `distilbert.` prefix.
fn normalise_names(tensors: HashMap<String, Tensor>) -> HashMap<String, Tensor> {
    if tensors.keys().any(|k| k.starts_with(ENCODER_PREFIX)) {
        return tensors;
    }
    tensors
        .into_iter()
        .map(|(k, v)| {
            let head = k.starts_with("vocab_");
            (
                if head {
                    k
                } else {
                    format!("{ENCODER_PREFIX}{k}")
                },
                v,
            )
        })
        .collect()
}

/// Every tensor `DistilBertForMaskedLM` needs, with its shape.
pub fn expected_shapes(cfg: &Config) -> Vec<(String, Vec<usize>)> {
    let (d, h, v) = (cfg.dim, cfg.hidden_dim, cfg.vocab_size);
    let mut out = vec![
        (
            "distilbert.embeddings.word_embeddings.weight".to_string(),
            vec![v, d],
        ),
        (
            "distilbert.embeddings.position_embeddings.weight".to_string(),
            vec![cfg.max_position_embeddings, d],
        ),
        (
            "distilbert.embeddings.LayerNorm.weight".to_string(),
            vec![d],
        ),
        ("distilbert.embeddings.LayerNorm.bias".to_string(), vec![d]),
    ];
    for i in 0..cfg.n_layers {
        let p = format!("distilbert.transformer.layer.{i}");
        for lin in ["q_lin", "k_lin", "v_lin", "out_lin"] {
            out.push((format!("{p}.attention.{lin}.weight"), vec![d, d]));
            out.push((format!("{p}.attention.{lin}.bias"), vec![d]));
        }
        out.push((format!("{p}.ffn.lin1.weight"), vec![h, d]));
        out.push((format!("{p}.ffn.lin1.bias"), vec![h]));
        out.push((format!("{p}.ffn.lin2.weight"), vec![d, h]));
        out.push((format!("{p}.ffn.lin2.bias"), vec![d]));
        for ln in ["sa_layer_norm", "output_layer_norm"] {
            out.push((format!("{p}.{ln}.weight"), vec![d]));
            out.push((format!("{p}.{ln}.bias"), vec![d]));
        }
    }
    out.push(("vocab_transform.weight".into(), vec![d, d]));
    out.push(("vocab_transform.bias".into(), vec![d]));
    out.push(("vocab_layer_norm.weight".into(), vec![d]));
    out.push(("vocab_layer_norm.bias".into(), vec![d]));
    out.push(("vocab_projector.bias".into(), vec![v]));
    out
}

/// The stored types typofix reads: anything else (integers, a quantised
/// format) would be converted to numbers that mean nothing.
pub(crate) fn check_dtype(name: &str, tensor: &Tensor) -> Result<(), String> {
    match tensor.dtype() {
        DType::F32 | DType::F16 | DType::BF16 => Ok(()),
        other => Err(format!(
            "{name} is stored as {other:?}; typofix reads f32, f16 or bf16 weights \
             (convert the checkpoint, for example with transformers' save_pretrained)"
        )),
    }
}

/// Weights that hold NaN or infinity are damaged (a flipped exponent bit, a
/// diverged run): refused at load, not discovered as nonsense corrections.
pub(crate) fn check_finite(tensors: &HashMap<String, Tensor>) -> Result<(), String> {
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    for name in names {
        let sum = tensors[name]
            .to_dtype(DType::F32)
            .and_then(|t| t.sum_all()?.to_scalar::<f32>())
            .map_err(|e| format!("{name}: {e}"))?;
        if !sum.is_finite() {
            return Err(format!(
                "{name} holds NaN or infinite values: the weights are damaged \
                 (re-download or re-package the model)"
            ));
        }
    }
    Ok(())
}

fn check_tensors(cfg: &Config, tensors: &HashMap<String, Tensor>) -> Result<(), String> {
    let expected = expected_shapes(cfg);
    let missing: Vec<&str> = expected
        .iter()
        .filter(|(n, _)| !tensors.contains_key(n))
        .map(|(n, _)| n.as_str())
        .collect();
    if let Some(first) = missing.first() {
        let what = if first.starts_with("vocab_") && missing.iter().all(|n| n.starts_with("vocab_"))
        {
            "has no masked-language-model head (vocab_transform, vocab_layer_norm, vocab_projector); \
             typofix needs a DistilBertForMaskedLM checkpoint"
                .to_string()
        } else {
            format!(
                "lacks {} tensor(s) that config.json implies, such as {first}",
                missing.len()
            )
        };
        return Err(what);
    }
    for (name, shape) in &expected {
        check_dtype(name, &tensors[name])?;
        let found = tensors[name].dims();
        if found != shape.as_slice() {
            return Err(format!(
                "{name} has shape {found:?}, but config.json implies {shape:?}: the config does not match the weights"
            ));
        }
    }
    Ok(())
}
