//! DistilBERT's configuration, read from and written to Hugging Face's
//! `config.json` with the same field names.

use serde::{Deserialize, Serialize};

/// The activation of the feed-forward blocks and of the MLM head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// The exact, erf-based GELU (Hugging Face's `gelu`).
    Gelu,
    Relu,
}

/// A DistilBERT configuration, as in Hugging Face's `DistilBertConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default)]
    pub sinusoidal_pos_embds: bool,
    pub n_layers: usize,
    pub n_heads: usize,
    pub dim: usize,
    pub hidden_dim: usize,
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    #[serde(default = "default_dropout")]
    pub attention_dropout: f64,
    #[serde(default = "default_activation")]
    pub activation: Activation,
    #[serde(default = "default_initializer_range")]
    pub initializer_range: f64,
    #[serde(default)]
    pub pad_token_id: u32,
    #[serde(default = "default_true")]
    pub tie_word_embeddings: bool,
    #[serde(default = "default_model_type")]
    pub model_type: String,
    #[serde(default = "default_architectures")]
    pub architectures: Vec<String>,
    /// Fields we do not use, kept so that a saved config loses nothing.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn default_dropout() -> f64 {
    0.1
}
fn default_activation() -> Activation {
    Activation::Gelu
}
fn default_initializer_range() -> f64 {
    0.02
}
fn default_true() -> bool {
    true
}
fn default_model_type() -> String {
    "distilbert".into()
}
fn default_architectures() -> Vec<String> {
    vec!["DistilBertForMaskedLM".into()]
}

/// Hugging Face's DistilBERT LayerNorms all use this epsilon.
pub const LAYER_NORM_EPS: f64 = 1e-12;

impl Config {
    /// A model of `distilbert-base-uncased`'s size.
    pub fn distilbert_base() -> Config {
        Config::new(30_522, 768, 6, 12, 3072, 512)
    }

    /// A model of all-MiniLM-L6-v2's size, which the shipped model is
    /// imported from (6 layers, dim 384, 12 heads, hidden 1536).
    pub fn minilm_l6() -> Config {
        Config::new(30_522, 384, 6, 12, 1536, 512)
    }

    pub fn new(
        vocab_size: usize,
        dim: usize,
        n_layers: usize,
        n_heads: usize,
        hidden_dim: usize,
        max_position_embeddings: usize,
    ) -> Config {
        Config {
            vocab_size,
            max_position_embeddings,
            sinusoidal_pos_embds: false,
            n_layers,
            n_heads,
            dim,
            hidden_dim,
            dropout: default_dropout(),
            attention_dropout: default_dropout(),
            activation: Activation::Gelu,
            initializer_range: default_initializer_range(),
            pad_token_id: 0,
            tie_word_embeddings: true,
            model_type: default_model_type(),
            architectures: default_architectures(),
            extra: serde_json::Map::new(),
        }
    }

    pub fn head_dim(&self) -> usize {
        self.dim / self.n_heads
    }

    /// Checks what the model code relies on; the reason says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.model_type != "distilbert" {
            return Err(format!(
                "model_type is {:?}, but typofix runs DistilBERT models only",
                self.model_type
            ));
        }
        for (name, value) in [
            ("vocab_size", self.vocab_size),
            ("dim", self.dim),
            ("n_layers", self.n_layers),
            ("n_heads", self.n_heads),
            ("hidden_dim", self.hidden_dim),
            ("max_position_embeddings", self.max_position_embeddings),
        ] {
            if value == 0 {
                return Err(format!("{name} must be positive"));
            }
        }
        if !self.dim.is_multiple_of(self.n_heads) {
            return Err(format!(
                "dim {} is not divisible by n_heads {}",
                self.dim, self.n_heads
            ));
        }
        if !self.tie_word_embeddings {
            return Err("untied MLM heads are not supported (tie_word_embeddings is false)".into());
        }
        if self.pad_token_id as usize >= self.vocab_size {
            return Err(format!(
                "pad_token_id {} is outside the vocabulary of {}",
                self.pad_token_id, self.vocab_size
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hugging_face_config_is_read_and_written_back_whole() {
        let json = r#"{"activation":"gelu","architectures":["DistilBertForMaskedLM"],"attention_dropout":0.1,
            "dim":64,"dropout":0.1,"hidden_dim":128,"initializer_range":0.02,"max_position_embeddings":128,
            "model_type":"distilbert","n_heads":4,"n_layers":2,"pad_token_id":0,"qa_dropout":0.1,
            "seq_classif_dropout":0.2,"sinusoidal_pos_embds":false,"tie_word_embeddings":true,
            "transformers_version":"5.24.0","vocab_size":1000}"#;
        let config: Config = serde_json::from_str(json).unwrap();
        assert_eq!(
            (config.dim, config.n_layers, config.head_dim()),
            (64, 2, 16)
        );
        assert_eq!(config.extra["qa_dropout"], 0.1);
        let again: serde_json::Value = serde_json::to_value(&config).unwrap();
        let original: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(again, original);
        config.validate().unwrap();
    }

    #[test]
    fn invalid_configs_say_what_is_wrong() {
        let mut c = Config::new(100, 64, 2, 5, 128, 32);
        assert!(c.validate().unwrap_err().contains("not divisible"));
        c.n_heads = 4;
        c.model_type = "bert".into();
        assert!(c.validate().unwrap_err().contains("DistilBERT"));
    }
}
