//! The forms of the masked language model behind one interface: the fused
//! engine, fastest on CPU; the standard one (batch, sequence, channels) on
//! candle's ops, the reference, and the one that runs on a GPU; and the ANE
//! form (BC1S), the computation the Core ML export runs on Apple hardware.

use std::fmt;
use std::str::FromStr;

use candle_core::{Device, Result, Tensor};
use serde::{Deserialize, Serialize};

use super::fused::{FusedMaskedLm, Hidden, Precision};
use super::Pass;
use super::{AneCheckpoint, AneDistilBertForMaskedLM, Checkpoint, Config, DistilBertForMaskedLM};
use crate::Error;

/// Where every engine's results are read back.
static CPU: Device = Device::Cpu;

/// Which form of the model runs inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Hand-fused CPU kernels over unpadded batches ([`FusedMaskedLm`]).
    #[default]
    Fused,
    /// The fused engine with the encoder's weights in int8.
    Int8,
    /// The fused engine with the encoder's weights in bf16.
    Bf16,
    /// Hugging Face's layout on candle's ops: (batch, sequence, channels),
    /// Linear layers.
    Standard,
    /// Apple Neural Engine layout on CPU: BC1S, 1×1 convolutions.
    Ane,
}

impl FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Engine, String> {
        match s {
            "fused" => Ok(Engine::Fused),
            "int8" => Ok(Engine::Int8),
            "bf16" => Ok(Engine::Bf16),
            "standard" => Ok(Engine::Standard),
            "ane" => Ok(Engine::Ane),
            other => Err(format!(
                "unknown engine {other:?}: use fused, int8, bf16, standard or ane"
            )),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Fused => "fused",
            Engine::Int8 => "int8",
            Engine::Bf16 => "bf16",
            Engine::Standard => "standard",
            Engine::Ane => "ane",
        })
    }
}

/// A masked language model in either form.
#[derive(Debug, Clone)]
// One per corrector, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum MaskedLm {
    Fused(FusedMaskedLm),
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
            Engine::Fused => MaskedLm::Fused(FusedMaskedLm::from_checkpoint(checkpoint)?),
            Engine::Int8 => {
                MaskedLm::Fused(FusedMaskedLm::with_precision(checkpoint, Precision::Int8)?)
            }
            Engine::Bf16 => {
                MaskedLm::Fused(FusedMaskedLm::with_precision(checkpoint, Precision::Bf16)?)
            }
            Engine::Standard => MaskedLm::Standard(checkpoint.model()?),
            Engine::Ane => MaskedLm::Ane(AneCheckpoint::from_standard(checkpoint)?.model()?),
        })
    }

    pub fn engine(&self) -> Engine {
        match self {
            MaskedLm::Fused(m) => match m.precision() {
                Precision::F32 => Engine::Fused,
                Precision::Int8 => Engine::Int8,
                Precision::Bf16 => Engine::Bf16,
            },
            MaskedLm::Standard(_) => Engine::Standard,
            MaskedLm::Ane(_) => Engine::Ane,
        }
    }

    pub fn config(&self) -> &Config {
        match self {
            MaskedLm::Fused(m) => m.config(),
            MaskedLm::Standard(m) => m.config(),
            MaskedLm::Ane(m) => m.config(),
        }
    }

    pub fn device(&self) -> &Device {
        match self {
            MaskedLm::Fused(_) => &CPU,
            MaskedLm::Standard(m) => m.device(),
            MaskedLm::Ane(m) => m.device(),
        }
    }

    /// The last hidden states as (batch, sequence, channels), whatever the
    /// form computes them in.
    pub fn hidden_states(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        match self {
            MaskedLm::Fused(m) => m
                .padded_hidden_states(input_ids, attention_mask)
                .map_err(candle_core::Error::wrap),
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
            MaskedLm::Fused(m) => m
                .padded_logits(input_ids, attention_mask)
                .map_err(candle_core::Error::wrap),
            MaskedLm::Standard(m) => m.forward(input_ids, attention_mask),
            MaskedLm::Ane(m) => m.forward(input_ids, attention_mask),
        }
    }

    /// The MLM head on rows of hidden states: (N, channels) → (N, vocab).
    pub fn mlm_logits(&self, rows: &Tensor) -> Result<Tensor> {
        match self {
            MaskedLm::Fused(m) => {
                let (n, v) = (rows.dim(0)?, m.config().vocab_size);
                let logits = m.logits(&rows.flatten_all()?.to_vec1::<f32>()?);
                Tensor::from_vec(logits, (n, v), rows.device())
            }
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

    /// The last hidden states of sequences of token ids of any lengths
    /// (each with its `[CLS]` and `[SEP]`). The fused engine runs them
    /// unpadded; the others pad them into one batch.
    pub fn encode(&self, sequences: &[&[u32]]) -> std::result::Result<Hidden, Error> {
        if let MaskedLm::Fused(m) = self {
            return m.encode(sequences);
        }
        let width = sequences.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(sequences.len() * width);
        let mut mask = Vec::with_capacity(sequences.len() * width);
        for seq in sequences {
            ids.extend_from_slice(seq);
            ids.extend(std::iter::repeat_n(0, width - seq.len()));
            mask.extend(std::iter::repeat_n(1u32, seq.len()));
            mask.extend(std::iter::repeat_n(0u32, width - seq.len()));
        }
        let shape = (sequences.len(), width);
        let device = self.device();
        let padded = self
            .hidden_states(
                &Tensor::from_vec(ids, shape, device)?,
                &Tensor::from_vec(mask, shape, device)?,
            )?
            .to_device(&CPU)?
            .to_vec3::<f32>()?;
        let dim = self.config().dim;
        let mut rows = Vec::new();
        for (seq, states) in sequences.iter().zip(padded) {
            rows.extend(states.into_iter().take(seq.len()).flatten());
        }
        Ok(Hidden::new(rows, dim, sequences.iter().map(|s| s.len())))
    }

    /// The MLM head's log-softmax over the vocabulary for rows of hidden
    /// states (n × dim, row-major): (n × vocab), row-major.
    pub fn log_probs(&self, rows: &[f32]) -> std::result::Result<Vec<f32>, Error> {
        if let MaskedLm::Fused(m) = self {
            return Ok(m.log_probs(rows));
        }
        let dim = self.config().dim;
        let rows = Tensor::from_slice(rows, (rows.len() / dim, dim), self.device())?;
        let logits = self.mlm_logits(&rows)?;
        Ok(
            candle_nn::ops::log_softmax(&logits, candle_core::D::Minus1)?
                .to_device(&CPU)?
                .flatten_all()?
                .to_vec1::<f32>()?,
        )
    }
}
