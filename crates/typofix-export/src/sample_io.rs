//! Inputs and the standard model's logits, saved together, to check an
//! exported package against (scripts/check_coreml_numerics.py reads them).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use typofix::model::Checkpoint;
use typofix::tokenizer::Tokenizer;
use typofix::Error;

/// Sentences with typos, punctuation and a long one, so that rows have
/// different amounts of padding.
pub const SAMPLE_TEXTS: [&str; 3] = [
    "Thi sis a test sentenc with typos.",
    "The quikc brown fox jumps over teh lazy dog, and their going to the store tomorow to by \
     some milk becuase they ran out.",
    "I went.",
];

/// `input_ids` and `attention_mask` [N, S] (int64) for `texts`, each cut to
/// `seq_len` tokens with `[SEP]` kept last, and the model's `logits`
/// [N, S, V] (f32).
pub fn sample_io(
    checkpoint: &Checkpoint,
    tokenizer: &Tokenizer,
    texts: &[&str],
    seq_len: usize,
) -> Result<HashMap<String, Tensor>, Error> {
    let (mut ids, mut mask) = (Vec::new(), Vec::new());
    for text in texts {
        let mut row: Vec<i64> = tokenizer
            .encode(text)?
            .ids
            .iter()
            .map(|&i| i64::from(i))
            .collect();
        if row.len() > seq_len {
            row.truncate(seq_len - 1);
            row.push(i64::from(tokenizer.sep_id));
        }
        mask.extend(std::iter::repeat_n(1i64, row.len()));
        mask.extend(std::iter::repeat_n(0i64, seq_len - row.len()));
        row.resize(seq_len, i64::from(tokenizer.pad_id));
        ids.extend(row);
    }
    let shape = (texts.len(), seq_len);
    let ids = Tensor::from_vec(ids, shape, &Device::Cpu)?;
    let mask = Tensor::from_vec(mask, shape, &Device::Cpu)?;
    let logits = checkpoint.model()?.forward(&ids, &mask)?;
    Ok(HashMap::from([
        ("input_ids".to_string(), ids),
        ("attention_mask".to_string(), mask),
        ("logits".to_string(), logits),
    ]))
}

/// [`sample_io`], written to `out` as safetensors.
pub fn write_sample_io(
    checkpoint: &Checkpoint,
    tokenizer: &Tokenizer,
    texts: &[&str],
    seq_len: usize,
    out: &Path,
) -> Result<(), Error> {
    let tensors = sample_io(checkpoint, tokenizer, texts, seq_len)?;
    candle_core::safetensors::save(&tensors, out).map_err(|e| Error::InvalidData {
        path: out.to_owned(),
        reason: format!("cannot write the sample: {e}"),
    })
}
