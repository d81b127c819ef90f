//! How far the int8 and bf16 engines drift from f32 on real text: the mean
//! absolute difference of the last hidden states, and of the MLM head's
//! log-probabilities over the whole vocabulary, with the shipped model.
//!
//! ```sh
//! cargo run --release -p typofix --example int8_drift -- ../shared/data/corpus/ewt_train/sentences.txt
//! ```
//!
//! It reads sentences 6,001 to 6,300 of the file (truncated to 64 tokens);
//! docs/BENCHMARKS.md quotes its output.

use typofix::model::{Engine, MaskedLm};
use typofix::package::ModelPackage;

fn mean_abs_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: int8_drift SENTENCES.txt")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    let package = ModelPackage::builtin()?;
    let mut sequences = Vec::new();
    for line in text.lines().skip(6000).take(300) {
        let mut ids = package.tokenizer.encode(line)?.ids;
        ids.truncate(64);
        sequences.push(ids);
    }
    let sequences: Vec<&[u32]> = sequences.iter().map(Vec::as_slice).collect();
    let f32_model = MaskedLm::from_checkpoint(&package.checkpoint, Engine::Fused)?;
    let f32_hidden = f32_model.encode(&sequences)?;
    // The head over the first 200 tokens: 200 × 30,522 log-probabilities.
    let rows = 200 * f32_hidden.dim;
    let f32_log_probs = f32_model.log_probs(&f32_hidden.rows[..rows])?;
    for engine in [Engine::Int8, Engine::Bf16] {
        let model = MaskedLm::from_checkpoint(&package.checkpoint, engine)?;
        let hidden = model.encode(&sequences)?;
        let log_probs = model.log_probs(&hidden.rows[..rows])?;
        println!(
            "{engine}: mean |Δ hidden| {:.5}, mean |Δ log-probability| {:.5}",
            mean_abs_difference(&hidden.rows, &f32_hidden.rows),
            mean_abs_difference(&log_probs, &f32_log_probs),
        );
    }
    Ok(())
}
