//! Fill-mask: the model's predictions for every `[MASK]` in a text, as
//! transformers' fill-mask pipeline gives them.

use candle_core::{Device, Tensor, D};
use serde::Serialize;

use super::{DistilBertForMaskedLM, Pass};
use crate::tokenizer::Tokenizer;
use crate::Error;

/// One candidate for a masked position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub token: String,
    pub id: u32,
    pub probability: f32,
}

/// The candidates for one `[MASK]`, most probable first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskPrediction {
    /// Index of the mask among the tokens, `[CLS]` being 0.
    pub position: usize,
    pub candidates: Vec<Candidate>,
}

/// Predicts the `top_k` most probable tokens for each `[MASK]` in `text`.
pub fn fill_mask(
    model: &DistilBertForMaskedLM,
    tokenizer: &Tokenizer,
    text: &str,
    top_k: usize,
) -> Result<Vec<MaskPrediction>, Error> {
    let ids = tokenizer.encode(text)?.ids;
    let positions: Vec<usize> = (0..ids.len())
        .filter(|&i| ids[i] == tokenizer.mask_id)
        .collect();
    if positions.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "the text has no {} token to fill",
            crate::tokenizer::MASK
        )));
    }
    let max = model.config().max_position_embeddings;
    if ids.len() > max {
        return Err(Error::InvalidArgument(format!(
            "the text is {} tokens long, but the model takes at most {max}",
            ids.len()
        )));
    }
    let device: &Device = model.device();
    let input = Tensor::new(ids.as_slice(), device)?.unsqueeze(0)?;
    let mask = input.ones_like()?;
    let hidden = model
        .encoder()
        .forward(&input, &mask, Pass::Infer)?
        .squeeze(0)?;
    let picked = Tensor::new(
        positions.iter().map(|&p| p as u32).collect::<Vec<_>>(),
        device,
    )?;
    let logits = model.mlm_logits(&hidden.index_select(&picked, 0)?, Pass::Infer)?;
    let probabilities = candle_nn::ops::softmax(&logits, D::Minus1)?.to_vec2::<f32>()?;

    Ok(positions
        .into_iter()
        .zip(probabilities)
        .map(|(position, probs)| {
            let mut order: Vec<usize> = (0..probs.len()).collect();
            // Ties go to the lower id, as torch.topk does on CPU.
            order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
            let candidates = order
                .into_iter()
                .take(top_k)
                .map(|id| Candidate {
                    token: tokenizer.token(id as u32).unwrap_or_default(),
                    id: id as u32,
                    probability: probs[id],
                })
                .collect();
            MaskPrediction {
                position,
                candidates,
            }
        })
        .collect())
}
