//! The Apple Neural Engine layout on disk: safetensors + `config.json` +
//! `ane.json`, the record of every converted tensor.

use std::path::Path;

use typofix::model::{AneCheckpoint, AneLayout, Checkpoint};
use typofix::tokenizer::Tokenizer;
use typofix::Error;

/// Converts `checkpoint` to the ANE layout and writes it, with the
/// tokenizer's files when given; returns what the conversion did.
pub fn export_ane(
    checkpoint: &Checkpoint,
    tokenizer: Option<&Tokenizer>,
    out: &Path,
) -> Result<AneLayout, Error> {
    let ane = AneCheckpoint::from_standard(checkpoint)?;
    ane.save(out)?;
    if let Some(tokenizer) = tokenizer {
        tokenizer.save(out, checkpoint.config.max_position_embeddings)?;
    }
    Ok(ane.layout)
}
