//! The detection head: from one unmasked pass over a sentence, how likely
//! each token is to belong to a misspelled word. It is ELECTRA's
//! replaced-token detection, trained on our corruption pairs over the
//! language model's frozen encoder. So the masked language model stays as
//! it is, and the head costs one small MLP per token on hidden states the
//! corrector computes anyway.
//!
//! Its weights live beside the language model's, in `detector.safetensors`,
//! under the names `detector.dense.*`, `detector.layer_norm.*` and
//! `detector.out.*`.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Module, Result, Tensor, D};
use candle_nn::{Linear, VarBuilder};

use super::checkpoint::{check_dtype, check_finite};
use super::config::{Activation, Config, LAYER_NORM_EPS};
use super::distilbert::{activate, LayerNorm};
use super::pass::Pass;
use crate::Error;

pub const DETECTOR_FILE: &str = "detector.safetensors";

/// The prefix of the head's tensor names.
pub const DETECTOR_PREFIX: &str = "detector";

/// dense → GELU → LayerNorm → one logit per token.
#[derive(Debug, Clone)]
pub struct Detector {
    dense: Linear,
    norm: LayerNorm,
    out: Linear,
}

impl Detector {
    /// `vb` is rooted at the head's prefix (`vb.pp("detector")`).
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<Detector> {
        Ok(Detector {
            dense: candle_nn::linear(cfg.dim, cfg.dim, vb.pp("dense"))?,
            norm: LayerNorm::load(vb.pp("layer_norm"), cfg.dim, LAYER_NORM_EPS)?,
            out: candle_nn::linear(cfg.dim, 1, vb.pp("out"))?,
        })
    }

    /// Reads the head from a `detector.safetensors`; `origin` names the
    /// file in errors.
    pub fn from_safetensors(
        cfg: &Config,
        bytes: &[u8],
        origin: &Path,
    ) -> std::result::Result<Detector, Error> {
        let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu).map_err(|e| {
            Error::InvalidModel {
                path: origin.to_owned(),
                reason: format!(
                    "not a readable safetensors file ({e}); it may be truncated or corrupt"
                ),
            }
        })?;
        Detector::from_tensors(cfg, tensors, origin)
    }

    /// The head from its tensors, each checked against the model's width.
    pub fn from_tensors(
        cfg: &Config,
        tensors: HashMap<String, Tensor>,
        origin: &Path,
    ) -> std::result::Result<Detector, Error> {
        let invalid = |reason: String| Error::InvalidModel {
            path: origin.to_owned(),
            reason,
        };
        for (name, shape) in expected_shapes(cfg) {
            match tensors.get(&name) {
                None => return Err(invalid(format!("lacks the detection head's tensor {name}"))),
                Some(t) if t.dims() != shape.as_slice() => {
                    return Err(invalid(format!(
                        "{name} has shape {:?}, but the model's width implies {shape:?}: \
                         the detector belongs to another model",
                        t.dims()
                    )))
                }
                Some(t) => check_dtype(&name, t).map_err(invalid)?,
            }
        }
        let tensors: HashMap<String, Tensor> = tensors
            .into_iter()
            .map(|(n, t)| Ok((n, t.to_dtype(candle_core::DType::F32)?)))
            .collect::<Result<_>>()?;
        check_finite(&tensors).map_err(invalid)?;
        let vb = VarBuilder::from_tensors(tensors, candle_core::DType::F32, &Device::Cpu);
        Ok(Detector::load(vb.pp(DETECTOR_PREFIX), cfg)?)
    }

    /// Logits that each token is part of an error: `hidden` (…, dim) →
    /// (…). Positive means more likely wrong than right.
    pub fn forward(&self, hidden: &Tensor, pass: Pass) -> Result<Tensor> {
        let h = self.dense.forward(hidden)?;
        let h = activate(&h, Activation::Gelu, pass)?;
        let h = self.norm.forward(&h, pass)?;
        self.out.forward(&h)?.squeeze(D::Minus1)
    }
}

/// Every tensor of the head, with its shape.
pub fn expected_shapes(cfg: &Config) -> Vec<(String, Vec<usize>)> {
    let d = cfg.dim;
    let p = DETECTOR_PREFIX;
    vec![
        (format!("{p}.dense.weight"), vec![d, d]),
        (format!("{p}.dense.bias"), vec![d]),
        (format!("{p}.layer_norm.weight"), vec![d]),
        (format!("{p}.layer_norm.bias"), vec![d]),
        (format!("{p}.out.weight"), vec![1, d]),
        (format!("{p}.out.bias"), vec![1]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;

    fn tiny() -> Config {
        Config::new(10, 8, 1, 2, 16, 16)
    }

    fn saved(cfg: &Config, dim: usize) -> Vec<u8> {
        let mut shapes = expected_shapes(cfg);
        shapes[0].1 = vec![dim, dim];
        let tensors: Vec<(String, Tensor)> = shapes
            .into_iter()
            .map(|(n, s)| (n, Tensor::ones(s, DType::F32, &Device::Cpu).unwrap()))
            .collect();
        safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), None).unwrap()
    }

    #[test]
    fn a_saved_head_loads_and_gives_one_logit_per_token() {
        let cfg = tiny();
        let head = Detector::from_safetensors(&cfg, &saved(&cfg, 8), Path::new("d")).unwrap();
        let hidden = Tensor::randn(0f32, 1.0, (2, 5, 8), &Device::Cpu).unwrap();
        assert_eq!(head.forward(&hidden, Pass::Infer).unwrap().dims(), &[2, 5]);
    }

    #[test]
    fn a_head_of_another_width_is_refused_with_a_reason() {
        let cfg = tiny();
        let err = Detector::from_safetensors(&cfg, &saved(&cfg, 4), Path::new("d")).unwrap_err();
        assert!(
            err.to_string().contains("belongs to another model"),
            "{err}"
        );
        let err = Detector::from_safetensors(&cfg, b"garbage", Path::new("d")).unwrap_err();
        assert!(err.to_string().contains("truncated or corrupt"), "{err}");
    }
}
