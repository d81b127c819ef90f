//! Timing of the language model's inference, for `typofix bench model`:
//! a forward pass over full sequences (logits at every position, as the
//! Core ML package computes them), in either engine.

use std::time::Instant;

use candle_core::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use typofix::model::{Engine, MaskedLm};
use typofix::Error;

/// One measured configuration.
#[derive(Debug, Clone, Serialize)]
pub struct InferenceTiming {
    pub engine: Engine,
    pub batch: usize,
    pub seq_len: usize,
    pub threads: usize,
    pub runs: usize,
    /// Per forward call of `batch` sequences.
    pub median_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    /// The median divided by the batch.
    pub per_sequence_ms: f64,
    pub sequences_per_s: f64,
    pub tokens_per_s: f64,
    /// Tokens per second over the tokenizer's tokens per word.
    pub words_per_s: f64,
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Times `runs` forward passes on a fixed random batch of full-length
/// sequences, after `warmup` untimed ones. `threads` is recorded only: the
/// caller runs this inside a pool of that size.
pub fn time_inference(
    model: &MaskedLm,
    batch: usize,
    seq_len: usize,
    warmup: usize,
    runs: usize,
    threads: usize,
    tokens_per_word: f64,
) -> Result<InferenceTiming, Error> {
    if runs == 0 || batch == 0 || seq_len == 0 {
        return Err(Error::InvalidArgument(
            "runs, batch and sequence length must be positive".into(),
        ));
    }
    let cfg = model.config();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let ids: Vec<u32> = (0..batch * seq_len)
        .map(|_| rng.random_range(1..cfg.vocab_size as u32))
        .collect();
    let device = model.device();
    let ids = Tensor::from_vec(ids, (batch, seq_len), device)?;
    let mask = Tensor::ones((batch, seq_len), candle_core::DType::U32, device)?;
    for _ in 0..warmup {
        model.logits(&ids, &mask)?;
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let logits = model.logits(&ids, &mask)?;
        // candle's CPU ops are eager; touching the output keeps that honest.
        std::hint::black_box(logits.dims());
        samples.push(start.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    let median = percentile(&samples, 50.0);
    let sequences_per_s = batch as f64 / (median / 1e3);
    let tokens_per_s = sequences_per_s * seq_len as f64;
    Ok(InferenceTiming {
        engine: model.engine(),
        batch,
        seq_len,
        threads,
        runs,
        median_ms: median,
        p90_ms: percentile(&samples, 90.0),
        p99_ms: percentile(&samples, 99.0),
        per_sequence_ms: median / batch as f64,
        sequences_per_s,
        tokens_per_s,
        words_per_s: tokens_per_s / tokens_per_word,
    })
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&samples, 50.0), 50.0);
        assert_eq!(percentile(&samples, 90.0), 90.0);
        assert_eq!(percentile(&samples, 99.0), 99.0);
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
    }
}
