//! Pretrained BERT-family encoders into typofix's model layout.
//!
//! A Hugging Face `BertModel` or `BertForMaskedLM` (MiniLM,
//! bert-base-uncased, …) becomes a `DistilBertForMaskedLM` that computes the
//! same function:
//! - BERT adds a token-type embedding to every position; with one segment
//!   that is always row 0, so it is folded into the position embeddings;
//! - the encoder's tensors are renamed to DistilBERT's (`query` → `q_lin`,
//!   `attention.output.LayerNorm` → `sa_layer_norm`, …), and the pooler,
//!   which masked language modelling does not use, is dropped;
//! - an MLM head is kept when there is one, and initialised as transformers
//!   initialises a new one when there is not (a sentence encoder has none).
//!
//! Hand-written because it is a fixed renaming with one fold, specific to
//! the two architectures; no crate does it.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Deserialize;
use typofix::model::{Activation, Checkpoint, Config, CONFIG_FILE, LAYER_NORM_EPS, WEIGHTS_FILE};
use typofix::Error;

/// The fields of a BERT `config.json` that the conversion needs.
#[derive(Debug, Deserialize)]
struct BertConfig {
    #[serde(default)]
    model_type: String,
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    #[serde(default = "default_act")]
    hidden_act: String,
    #[serde(default = "default_eps")]
    layer_norm_eps: f64,
    #[serde(default)]
    pad_token_id: u32,
    #[serde(default = "default_range")]
    initializer_range: f64,
    #[serde(default = "default_position")]
    position_embedding_type: String,
    #[serde(default)]
    hidden_dropout_prob: Option<f64>,
    #[serde(default)]
    attention_probs_dropout_prob: Option<f64>,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_eps() -> f64 {
    1e-12
}
fn default_range() -> f64 {
    0.02
}
fn default_position() -> String {
    "absolute".into()
}

/// Where the imported model's MLM head came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// The checkpoint's own (`BertForMaskedLM`).
    Kept,
    /// Newly initialised: the checkpoint had none (`BertModel`).
    Initialised,
}

/// A converted checkpoint, and what the conversion did.
pub struct Imported {
    pub checkpoint: Checkpoint,
    pub head: Head,
    /// Source tensors with no counterpart (the pooler, `position_ids`).
    pub dropped: Vec<String>,
}

/// Reads a BERT checkpoint directory (`config.json` + `model.safetensors`)
/// and converts it; `seed` draws a new head's weights.
pub fn import_bert(dir: &Path, seed: u64) -> Result<Imported, Error> {
    let config_path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?;
    let bert: BertConfig = serde_json::from_str(&text).map_err(|e| Error::InvalidModel {
        path: config_path.clone(),
        reason: format!("not a BERT config: {e}"),
    })?;
    let config = distilbert_config(&bert).map_err(|reason| Error::InvalidModel {
        path: config_path,
        reason,
    })?;
    let weights = dir.join(WEIGHTS_FILE);
    if !weights.exists() {
        return Err(Error::InvalidModel {
            path: weights,
            reason:
                "missing: import reads safetensors weights only (convert a \
                     pytorch_model.bin with transformers' save_pretrained(safe_serialization=True))"
                    .into(),
        });
    }
    let source = candle_core::safetensors::load(&weights, &Device::Cpu).map_err(|e| {
        Error::InvalidModel {
            path: weights.clone(),
            reason: format!("not readable safetensors: {e}"),
        }
    })?;
    convert(&config, source, seed).map_err(|reason| Error::InvalidModel {
        path: weights,
        reason,
    })
}

fn distilbert_config(bert: &BertConfig) -> Result<Config, String> {
    if !bert.model_type.is_empty() && bert.model_type != "bert" {
        return Err(format!(
            "model_type is {:?}: import converts BERT checkpoints (BertModel, BertForMaskedLM)",
            bert.model_type
        ));
    }
    if bert.hidden_act != "gelu" {
        return Err(format!(
            "hidden_act {:?} is not supported: typofix's DistilBERT uses the exact (erf) gelu",
            bert.hidden_act
        ));
    }
    if (bert.layer_norm_eps - LAYER_NORM_EPS).abs() > 1e-15 {
        return Err(format!(
            "layer_norm_eps is {}, but DistilBERT's LayerNorms use {LAYER_NORM_EPS}",
            bert.layer_norm_eps
        ));
    }
    if bert.position_embedding_type != "absolute" {
        return Err(format!(
            "position_embedding_type {:?} is not supported; only absolute positions are",
            bert.position_embedding_type
        ));
    }
    let mut config = Config::new(
        bert.vocab_size,
        bert.hidden_size,
        bert.num_hidden_layers,
        bert.num_attention_heads,
        bert.intermediate_size,
        bert.max_position_embeddings,
    );
    config.activation = Activation::Gelu;
    config.pad_token_id = bert.pad_token_id;
    config.initializer_range = bert.initializer_range;
    if let Some(p) = bert.hidden_dropout_prob {
        config.dropout = p;
    }
    if let Some(p) = bert.attention_probs_dropout_prob {
        config.attention_dropout = p;
    }
    config.validate()?;
    Ok(config)
}

/// The renaming of one encoder layer: BERT's suffix → DistilBERT's.
const LAYER_NAMES: [(&str, &str); 16] = [
    ("attention.self.query.weight", "attention.q_lin.weight"),
    ("attention.self.query.bias", "attention.q_lin.bias"),
    ("attention.self.key.weight", "attention.k_lin.weight"),
    ("attention.self.key.bias", "attention.k_lin.bias"),
    ("attention.self.value.weight", "attention.v_lin.weight"),
    ("attention.self.value.bias", "attention.v_lin.bias"),
    ("attention.output.dense.weight", "attention.out_lin.weight"),
    ("attention.output.dense.bias", "attention.out_lin.bias"),
    ("attention.output.LayerNorm.weight", "sa_layer_norm.weight"),
    ("attention.output.LayerNorm.bias", "sa_layer_norm.bias"),
    ("intermediate.dense.weight", "ffn.lin1.weight"),
    ("intermediate.dense.bias", "ffn.lin1.bias"),
    ("output.dense.weight", "ffn.lin2.weight"),
    ("output.dense.bias", "ffn.lin2.bias"),
    ("output.LayerNorm.weight", "output_layer_norm.weight"),
    ("output.LayerNorm.bias", "output_layer_norm.bias"),
];

/// The MLM head: BERT's name → DistilBERT's.
const HEAD_NAMES: [(&str, &str); 5] = [
    (
        "cls.predictions.transform.dense.weight",
        "vocab_transform.weight",
    ),
    (
        "cls.predictions.transform.dense.bias",
        "vocab_transform.bias",
    ),
    (
        "cls.predictions.transform.LayerNorm.weight",
        "vocab_layer_norm.weight",
    ),
    (
        "cls.predictions.transform.LayerNorm.bias",
        "vocab_layer_norm.bias",
    ),
    ("cls.predictions.bias", "vocab_projector.bias"),
];

fn convert(
    config: &Config,
    source: HashMap<String, Tensor>,
    seed: u64,
) -> Result<Imported, String> {
    // A BertForMaskedLM's encoder is under `bert.`; a BertModel's is not.
    let mut source: HashMap<String, Tensor> = source
        .into_iter()
        .map(|(name, t)| (name.strip_prefix("bert.").unwrap_or(&name).to_string(), t))
        .collect();
    let mut out: HashMap<String, Tensor> = HashMap::new();
    let e = "distilbert.embeddings";
    out.insert(
        format!("{e}.word_embeddings.weight"),
        take(&mut source, "embeddings.word_embeddings.weight")?,
    );
    // One segment: BERT adds token-type row 0 at every position.
    let positions = take(&mut source, "embeddings.position_embeddings.weight")?;
    let segment = take(&mut source, "embeddings.token_type_embeddings.weight")?
        .get(0)
        .map_err(|e| e.to_string())?;
    out.insert(
        format!("{e}.position_embeddings.weight"),
        positions
            .broadcast_add(&segment)
            .map_err(|e| e.to_string())?,
    );
    out.insert(
        format!("{e}.LayerNorm.weight"),
        take(&mut source, "embeddings.LayerNorm.weight")?,
    );
    out.insert(
        format!("{e}.LayerNorm.bias"),
        take(&mut source, "embeddings.LayerNorm.bias")?,
    );
    for i in 0..config.n_layers {
        for (from, to) in LAYER_NAMES {
            out.insert(
                format!("distilbert.transformer.layer.{i}.{to}"),
                take(&mut source, &format!("encoder.layer.{i}.{from}"))?,
            );
        }
    }

    let head = if source.contains_key(HEAD_NAMES[0].0) {
        for (from, to) in HEAD_NAMES {
            let tensor = match take(&mut source, from) {
                Ok(t) => t,
                // Older checkpoints keep the output bias on the decoder.
                Err(_) if to == "vocab_projector.bias" => {
                    take(&mut source, "cls.predictions.decoder.bias")?
                }
                Err(e) => return Err(e),
            };
            out.insert(to.to_string(), tensor);
        }
        if let Some(decoder) = source.remove("cls.predictions.decoder.weight") {
            let word = &out[&format!("{e}.word_embeddings.weight")];
            let same = decoder
                .to_dtype(DType::F32)
                .and_then(|d| d.sub(word)?.abs()?.max_all()?.to_scalar::<f32>())
                .map_err(|e| e.to_string())?;
            if same > 0.0 {
                return Err(
                    "its decoder is not tied to the word embeddings, which DistilBERT requires"
                        .into(),
                );
            }
        }
        source.remove("cls.predictions.decoder.bias");
        Head::Kept
    } else {
        init_head(config, seed, &mut out).map_err(|e| e.to_string())?;
        Head::Initialised
    };
    let mut dropped: Vec<String> = source.into_keys().collect();
    dropped.sort();
    Ok(Imported {
        checkpoint: Checkpoint {
            config: config.clone(),
            tensors: out,
        },
        head,
        dropped,
    })
}

/// Removes `name` from the source tensors, as f32.
fn take(source: &mut HashMap<String, Tensor>, name: &str) -> Result<Tensor, String> {
    let t = source
        .remove(name)
        .ok_or_else(|| format!("has no {name}: not a BERT checkpoint of this config"))?;
    t.to_dtype(DType::F32).map_err(|e| e.to_string())
}

/// A new MLM head as transformers initialises one: the transform drawn from
/// N(0, initializer_range), biases 0, the LayerNorm at identity.
fn init_head(
    config: &Config,
    seed: u64,
    out: &mut HashMap<String, Tensor>,
) -> candle_core::Result<()> {
    let (d, v) = (config.dim, config.vocab_size);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, config.initializer_range as f32)
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let weights: Vec<f32> = (0..d * d).map(|_| normal.sample(&mut rng)).collect();
    let cpu = Device::Cpu;
    out.insert(
        "vocab_transform.weight".into(),
        Tensor::from_vec(weights, (d, d), &cpu)?,
    );
    out.insert(
        "vocab_transform.bias".into(),
        Tensor::zeros(d, DType::F32, &cpu)?,
    );
    out.insert(
        "vocab_layer_norm.weight".into(),
        Tensor::ones(d, DType::F32, &cpu)?,
    );
    out.insert(
        "vocab_layer_norm.bias".into(),
        Tensor::zeros(d, DType::F32, &cpu)?,
    );
    out.insert(
        "vocab_projector.bias".into(),
        Tensor::zeros(v, DType::F32, &cpu)?,
    );
    Ok(())
}
