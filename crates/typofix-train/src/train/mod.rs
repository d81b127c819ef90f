//! Training: a loop over any [`Task`] (a loss over numbered batches), with
//! AdamW, warm-up and decay, gradient accumulation and clipping, metrics,
//! and checkpoints that a run resumes from exactly.
//!
//! Everything random (initial weights, batch order, masking, dropout) is
//! drawn from generators seeded by the run's seed and the step, so a run
//! killed and resumed from its last checkpoint computes the very same losses
//! as one that never stopped.

mod detect;
mod mlm;
mod optimizer;
mod schedule;
mod state;

pub use detect::{DetectData, DetectTask};
pub use mlm::{MlmData, MlmDataOptions, MlmTask};
pub use optimizer::{clip_grad_norm, decays, AdamW, AdamWConfig};
pub use schedule::{Decay, Schedule};
pub use state::{latest_checkpoint, CHECKPOINTS_DIR, FINAL_DIR, METRICS_FILE};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

use typofix::model::{Config, DistilBertForMaskedLM, DropoutSource, Pass};
use typofix::tokenizer::Tokenizer;
use typofix::Error;

/// A training objective: a scalar loss on any batch of any epoch.
pub trait Task: Sync {
    fn batches_per_epoch(&self) -> usize;
    /// The loss on batch `index` of `epoch`; the same arguments must give the
    /// same batch.
    fn loss(
        &self,
        model: &DistilBertForMaskedLM,
        epoch: u64,
        index: usize,
        pass: Pass,
    ) -> Result<TaskLoss, Error>;
    /// Loss and accuracy on held-out data.
    fn validate(&self, model: &DistilBertForMaskedLM) -> Result<Validation, Error>;
}

pub struct TaskLoss {
    /// Mean loss, a scalar.
    pub loss: Tensor,
    /// Real (non-padding) tokens in the batch, for throughput.
    pub tokens: usize,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Validation {
    pub loss: f64,
    pub accuracy: f64,
    pub predictions: usize,
    /// F1 of the positive class, for tasks that detect something.
    pub f1: Option<f64>,
}

/// How to train.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct TrainOptions {
    /// Optimiser steps in all.
    pub steps: u64,
    /// Batches whose gradients are summed into one step.
    pub grad_accum: usize,
    pub schedule: Schedule,
    pub weight_decay: f64,
    /// Global gradient-norm limit; 0 turns clipping off.
    pub clip: f64,
    pub seed: u64,
    pub log_every: u64,
    pub eval_every: u64,
    pub checkpoint_every: u64,
    /// Checkpoints kept on disk (the newest ones).
    pub keep_checkpoints: usize,
}

/// A line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct StepLog {
    pub step: u64,
    pub epoch: u64,
    pub loss: f64,
    pub lr: f64,
    pub grad_norm: f64,
    pub tokens_per_sec: f64,
    pub elapsed_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalLog {
    pub step: u64,
    pub valid_loss: f64,
    pub valid_accuracy: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_f1: Option<f64>,
}

/// What the loop reports as it goes.
pub enum Event<'a> {
    Resumed { step: u64 },
    Step(&'a StepLog),
    Eval(&'a EvalLog),
    Checkpoint { step: u64, path: &'a Path },
}

/// A fresh model with Hugging Face's initialisation (normal(0, 0.02)
/// weights, zero biases, unit LayerNorms, a zero padding embedding), drawn
/// from `seed`.
pub fn init_model(config: &Config, seed: u64, device: &Device) -> Result<VarMap, Error> {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
    DistilBertForMaskedLM::load(vb, config)?;
    init_weights(&varmap, config, seed, |_| true)?;
    Ok(varmap)
}

/// Re-initialises the variables of `varmap` that `which` names, as
/// [`init_model`] does, from `seed`: candle's own initialisers draw from an
/// unseeded generator, which would make runs irreproducible.
pub fn init_weights(
    varmap: &VarMap,
    config: &Config,
    seed: u64,
    which: impl Fn(&str) -> bool,
) -> Result<(), Error> {
    let normal = Normal::new(0.0f32, config.initializer_range as f32)
        .map_err(|e| Error::InvalidArgument(format!("bad initializer_range: {e}")))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = varmap.data().lock().expect("not poisoned");
    let mut names: Vec<&String> = data.keys().filter(|n| which(n)).collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let value = if name.ends_with(".bias") {
            var.zeros_like()?
        } else if !decays(name) {
            var.ones_like()?
        } else {
            let mut values: Vec<f32> = (0..var.elem_count())
                .map(|_| normal.sample(&mut rng))
                .collect();
            if name.ends_with("word_embeddings.weight") {
                let pad = config.pad_token_id as usize * config.dim;
                values[pad..pad + config.dim].fill(0.0);
            }
            Tensor::from_vec(values, var.shape(), var.device())?
        };
        var.set(&value)?;
    }
    Ok(())
}

/// A training run writing into one output directory.
pub struct Trainer {
    out: PathBuf,
    config: Config,
    varmap: VarMap,
    tokenizer: Tokenizer,
    model: DistilBertForMaskedLM,
    optimizer: AdamW,
    options: TrainOptions,
    step: u64,
}

impl Trainer {
    /// `varmap` holds the model's weights; only those for which `trainable`
    /// says yes are updated.
    pub fn new(
        out: &Path,
        config: Config,
        varmap: &VarMap,
        tokenizer: Tokenizer,
        options: TrainOptions,
        trainable: impl Fn(&str) -> bool,
    ) -> Result<Trainer, Error> {
        let device = varmap
            .all_vars()
            .first()
            .map_or(Device::Cpu, |v| v.device().clone());
        let vb = VarBuilder::from_varmap(varmap, DType::F32, &device);
        let model = DistilBertForMaskedLM::load(vb, &config)?;
        let vars: Vec<_> = varmap
            .data()
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|(name, _)| trainable(name))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        let optimizer = AdamW::new(
            vars,
            AdamWConfig {
                weight_decay: options.weight_decay,
                ..AdamWConfig::default()
            },
        )?;
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        Ok(Trainer {
            out: out.to_owned(),
            config,
            varmap: varmap.clone(),
            tokenizer,
            model,
            optimizer,
            options,
            step: 0,
        })
    }

    pub fn model(&self) -> &DistilBertForMaskedLM {
        &self.model
    }

    pub fn step(&self) -> u64 {
        self.step
    }

    /// Continues from the newest checkpoint in the output directory, if any.
    pub fn resume(&mut self) -> Result<Option<u64>, Error> {
        let Some(dir) = latest_checkpoint(&self.out)? else {
            return Ok(None);
        };
        let step = state::load(&dir, &self.options, &self.varmap, &mut self.optimizer)?;
        self.step = step;
        state::truncate_metrics(&self.out.join(METRICS_FILE), step)?;
        Ok(Some(step))
    }

    /// Trains until `options.steps`, then saves the final model.
    pub fn run(&mut self, task: &dyn Task, observer: &mut dyn FnMut(Event)) -> Result<(), Error> {
        if self.step > 0 {
            observer(Event::Resumed { step: self.step });
        }
        let per_epoch = task.batches_per_epoch().max(1) as u64;
        let accum = self.options.grad_accum.max(1) as u64;
        let metrics_path = self.out.join(METRICS_FILE);
        let mut metrics = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&metrics_path)
            .map_err(|e| Error::io(&metrics_path, e))?;
        let started = Instant::now();
        let (mut window_loss, mut window_tokens, mut window_steps) = (0.0, 0usize, 0u64);
        let mut window_start = Instant::now();
        while self.step < self.options.steps {
            let lr = self.options.schedule.at(self.step);
            let mut grads: Vec<Option<Tensor>> = Vec::new();
            let mut epoch = 0;
            for micro in 0..accum {
                let at = self.step * accum + micro;
                epoch = at / per_epoch;
                let dropout = DropoutSource::new(
                    self.options.seed ^ (at.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                );
                let out = task.loss(
                    &self.model,
                    epoch,
                    (at % per_epoch) as usize,
                    Pass::Train(&dropout),
                )?;
                let scaled = (out.loss.clone() / accum as f64)?;
                let micro_grads = self.optimizer.gradients(&scaled.backward()?);
                grads = if grads.is_empty() {
                    micro_grads
                } else {
                    grads
                        .into_iter()
                        .zip(micro_grads)
                        .map(|(a, b)| match (a, b) {
                            (Some(a), Some(b)) => Ok(Some((a + b)?)),
                            (a, b) => Ok(a.or(b)),
                        })
                        .collect::<candle_core::Result<_>>()?
                };
                window_loss += out.loss.to_scalar::<f32>()? as f64 / accum as f64;
                window_tokens += out.tokens;
            }
            let grad_norm = clip_grad_norm(&mut grads, self.options.clip)?;
            self.optimizer.step(&grads, lr)?;
            self.step += 1;
            window_steps += 1;

            if self.step.is_multiple_of(self.options.log_every.max(1))
                || self.step == self.options.steps
            {
                let secs = window_start.elapsed().as_secs_f64();
                let log = StepLog {
                    step: self.step,
                    epoch,
                    loss: window_loss / window_steps as f64,
                    lr,
                    grad_norm,
                    tokens_per_sec: window_tokens as f64 / secs.max(1e-9),
                    elapsed_s: started.elapsed().as_secs_f64(),
                };
                write_line(&mut metrics, &metrics_path, &log)?;
                observer(Event::Step(&log));
                (window_loss, window_tokens, window_steps) = (0.0, 0, 0);
                window_start = Instant::now();
            }
            if self.options.eval_every > 0 && self.step.is_multiple_of(self.options.eval_every) {
                let v = task.validate(&self.model)?;
                let log = EvalLog {
                    step: self.step,
                    valid_loss: v.loss,
                    valid_accuracy: v.accuracy,
                    valid_f1: v.f1,
                };
                write_line(&mut metrics, &metrics_path, &log)?;
                observer(Event::Eval(&log));
                window_start = Instant::now();
            }
            if self.options.checkpoint_every > 0
                && self.step.is_multiple_of(self.options.checkpoint_every)
            {
                let path = self.checkpoint()?;
                observer(Event::Checkpoint {
                    step: self.step,
                    path: &path,
                });
                window_start = Instant::now();
            }
        }
        let final_dir = self.out.join(FINAL_DIR);
        typofix::model::Checkpoint::save(&final_dir, &self.config, &self.weights(), DType::F32)?;
        self.tokenizer
            .save(&final_dir, self.config.max_position_embeddings)?;
        Ok(())
    }

    /// Every weight, trained or frozen.
    fn weights(&self) -> std::collections::HashMap<String, Tensor> {
        let data = self.varmap.data().lock().expect("not poisoned");
        data.iter()
            .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
            .collect()
    }

    /// Writes a checkpoint now and returns its directory.
    pub fn checkpoint(&self) -> Result<PathBuf, Error> {
        state::save(
            &self.out,
            self.step,
            &self.config,
            &self.weights(),
            &self.tokenizer,
            &self.optimizer,
            &self.options,
        )
    }
}

fn write_line(file: &mut std::fs::File, path: &Path, value: &impl Serialize) -> Result<(), Error> {
    let mut line = serde_json::to_string(value).expect("metrics serialise");
    line.push('\n');
    file.write_all(line.as_bytes())
        .map_err(|e| Error::io(path, e))
}
