//! Timing of training steps on synthetic batches, for `typofix bench train`
//! and comparison with other frameworks (scripts/bench_train_torch.py runs
//! the same step in PyTorch).

use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use typofix::model::{Config, DistilBertForMaskedLM, DropoutSource, Pass};
use typofix::Error;
use typofix_train::train::{clip_grad_norm, init_model, AdamW, AdamWConfig};

/// What one timing measured.
#[derive(Debug, Clone, Serialize)]
pub struct StepTiming {
    pub batch: usize,
    pub seq_len: usize,
    pub steps: usize,
    pub parameters: usize,
    /// Median seconds per optimiser step, and of its phases: forward (loss
    /// included), backward, and clipping plus the AdamW update.
    pub median_step_s: f64,
    pub median_forward_s: f64,
    pub median_backward_s: f64,
    pub median_optimizer_s: f64,
    /// Tokens per second at the median step time.
    pub tokens_per_sec: f64,
}

/// Times `steps` full training steps (forward, backward over the loss on 15%
/// of positions, gradient clipping, AdamW) of a fresh model on a fixed
/// random batch, after `warmup` untimed steps.
pub fn time_training_steps(
    config: &Config,
    batch: usize,
    seq_len: usize,
    warmup: usize,
    steps: usize,
    device: &Device,
) -> Result<StepTiming, Error> {
    let varmap = init_model(config, 0, device)?;
    let model = DistilBertForMaskedLM::load(
        VarBuilder::from_varmap(&varmap, candle_core::DType::F32, device),
        config,
    )?;
    let vars: Vec<_> = varmap
        .data()
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let parameters = vars.iter().map(|(_, v)| v.elem_count()).sum();
    let mut optimizer = AdamW::new(vars, AdamWConfig::default())?;

    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let ids: Vec<u32> = (0..batch * seq_len)
        .map(|_| rng.random_range(5..config.vocab_size as u32))
        .collect();
    let picked: Vec<u32> = (0..batch * seq_len)
        .filter(|_| rng.random_bool(0.15))
        .map(|i| i as u32)
        .collect();
    let targets: Vec<u32> = picked.iter().map(|&i| ids[i as usize]).collect();
    let ids = Tensor::from_vec(ids, (batch, seq_len), device)?;
    let attention = ids.ones_like()?;
    let positions = Tensor::new(picked, device)?;
    let targets = Tensor::new(targets, device)?;

    // Per timed step: [forward, backward, optimizer, whole step].
    let mut times: Vec<[f64; 4]> = Vec::with_capacity(steps);
    for step in 0..warmup + steps {
        let started = Instant::now();
        let dropout = DropoutSource::new(step as u64);
        let hidden = model
            .encoder()
            .forward(&ids, &attention, Pass::Train(&dropout))?;
        let flat = hidden.reshape(((), config.dim))?;
        let logits = model.mlm_logits(&flat.index_select(&positions, 0)?, Pass::Train(&dropout))?;
        let loss = candle_nn::loss::cross_entropy(&logits, &targets)?;
        let forward = started.elapsed().as_secs_f64();
        let mut grads = optimizer.gradients(&loss.backward()?);
        let backward = started.elapsed().as_secs_f64();
        clip_grad_norm(&mut grads, 1.0)?;
        optimizer.step(&grads, 1e-4)?;
        let total = started.elapsed().as_secs_f64();
        if step >= warmup {
            times.push([forward, backward - forward, total - backward, total]);
        }
    }
    let median = |phase: usize| {
        let mut t: Vec<f64> = times.iter().map(|x| x[phase]).collect();
        t.sort_by(f64::total_cmp);
        t.get(t.len() / 2).copied().unwrap_or(f64::NAN)
    };
    Ok(StepTiming {
        batch,
        seq_len,
        steps,
        parameters,
        median_step_s: median(3),
        median_forward_s: median(0),
        median_backward_s: median(1),
        median_optimizer_s: median(2),
        tokens_per_sec: (batch * seq_len) as f64 / median(3),
    })
}
