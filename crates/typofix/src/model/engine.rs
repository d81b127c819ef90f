//! The two forms of the masked language model behind one interface: the
//! standard one (batch, sequence, channels), fastest on CPU, and the ANE
//! form (BC1S), the computation the Core ML export runs on Apple hardware.

use std::fmt;
use std::str::FromStr;

use candle_core::{Device, Result, Tensor};
use serde::{Deserialize, Serialize};

use super::Pass;
use super::{AneCheckpoint, AneDistilBertForMaskedLM, Checkpoint, Config, DistilBertForMaskedLM};
use crate::Error;

/// Which form of the model runs inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Hugging Face's layout: (batch, sequence, channels), Linear layers.
    #[default]
    Standard,
    /// Apple Neural Engine layout on CPU: BC1S, 1×1 convolutions.
    Ane,
}

impl FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Engine, String> {
        match s {
            "standard" => Ok(Engine::Standard),
            "ane" => Ok(Engine::Ane),
            other => Err(format!("unknown engine {other:?}: use standard or ane")),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Standard => "standard",
            Engine::Ane => "ane",
        })
    }
}

/// A masked language model in either form.
#[derive(Debug, Clone)]
pub enum MaskedLm {
    Standard(DistilBertForMaskedLM),
    Ane(AneDistilBertForMaskedLM),
}

impl MaskedLm {
    /// Builds `engine`'s form of a standard checkpoint.
    pub fn from_checkpoint(
        checkpoint: &Checkpoint,
        engine: Engine,
    ) -> std::result::Result<MaskedLm, Error> {
        Ok(match engine {
            Engine::Standard => MaskedLm::Standard(checkpoint.model()?),
            Engine::Ane => MaskedLm::Ane(AneCheckpoint::from_standard(checkpoint)?.model()?),
        })
    }

    pub fn engine(&self) -> Engine {
        match self {
            MaskedLm::Standard(_) => Engine::Standard,
            MaskedLm::Ane(_) => Engine::Ane,
        }
    }

    pub fn config(&self) -> &Config {
        match self {
            MaskedLm::Standard(m) => m.config(),
            MaskedLm::Ane(m) => m.config(),
        }
    }

    pub fn device(&self) -> &Device {
        match self {
            MaskedLm::Standard(m) => m.device(),
            MaskedLm::Ane(m) => m.device(),
        }
    }

    /// The last hidden states as (batch, sequence, channels), whatever the
    /// form computes them in.
    pub fn hidden_states(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        match self {
            MaskedLm::Standard(m) => m.encoder().forward(input_ids, attention_mask, Pass::Infer),
            MaskedLm::Ane(m) => m
                .encode(input_ids, attention_mask)?
                .squeeze(2)?
                .transpose(1, 2)?
                .contiguous(),
        }
    }

    /// Logits at every position, in the engine's own layout: (B, S, V)
    /// for the standard engine, (B, V, 1, S) for the ANE form.
    pub fn logits(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        match self {
            MaskedLm::Standard(m) => m.forward(input_ids, attention_mask),
            MaskedLm::Ane(m) => m.forward(input_ids, attention_mask),
        }
    }

    /// The MLM head on rows of hidden states: (N, channels) → (N, vocab).
    pub fn mlm_logits(&self, rows: &Tensor) -> Result<Tensor> {
        match self {
            MaskedLm::Standard(m) => m.mlm_logits(rows, Pass::Infer),
            MaskedLm::Ane(m) => {
                // The rows become the sequence axis of one BC1S input.
                let (n, d) = rows.dims2()?;
                let bc1s = rows.t()?.contiguous()?.reshape((1, d, 1, n))?;
                let logits = m.head(&bc1s)?;
                let v = logits.dim(1)?;
                logits.reshape((v, n))?.t()?.contiguous()
            }
        }
    }
}
