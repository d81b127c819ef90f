//! Hugging Face's layout: what transformers' `from_pretrained` reads.

use std::path::Path;

use candle_core::DType;
use typofix::model::Checkpoint;
use typofix::tokenizer::Tokenizer;
use typofix::Error;

/// Writes `config.json`, `model.safetensors` in `dtype` and, when given, the
/// tokenizer's files, so that the export is usable on its own.
pub fn export_safetensors(
    checkpoint: &Checkpoint,
    tokenizer: Option<&Tokenizer>,
    out: &Path,
    dtype: DType,
) -> Result<(), Error> {
    Checkpoint::save(out, &checkpoint.config, &checkpoint.tensors, dtype)?;
    if let Some(tokenizer) = tokenizer {
        tokenizer.save(out, checkpoint.config.max_position_embeddings)?;
    }
    Ok(())
}
