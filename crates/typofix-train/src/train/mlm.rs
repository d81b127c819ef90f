//! Masked-language-model pretraining: the task that teaches the model
//! English from a clean corpus.
//!
//! Sentences become `[CLS] … [SEP]` sequences. Each epoch shuffles them,
//! groups similar lengths into batches (so little compute goes to padding),
//! and masks 15% of tokens anew: 80% become `[MASK]`, 10% a random token and
//! 10% stay, as in BERT. Every random choice is a function of the seed, the
//! epoch and the batch, so a resumed run sees exactly the batches it would
//! have seen.

use std::sync::Mutex;

use candle_core::{DType, Device, Tensor, D};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::{Task, TaskLoss, Validation};
use typofix::model::{DistilBertForMaskedLM, Pass};
use typofix::tokenizer::Tokenizer;
use typofix::Error;

use crate::corpus::{sentence_key, Corpus};

/// What to read from the corpus.
#[derive(Debug, Clone)]
pub struct MlmDataOptions {
    /// Longest sequence, in tokens, `[CLS]` and `[SEP]` included.
    pub seq_len: usize,
    pub min_words: usize,
    pub max_words: usize,
    /// Stop reading after this many sentences.
    pub max_sentences: usize,
    /// Share of sentences held out for validation (by a hash of the text).
    pub valid_fraction: f64,
    /// At most this many validation sequences.
    pub max_valid: usize,
}

impl Default for MlmDataOptions {
    fn default() -> Self {
        MlmDataOptions {
            seq_len: 64,
            min_words: 4,
            max_words: 64,
            max_sentences: 1_000_000,
            valid_fraction: 0.01,
            max_valid: 2_000,
        }
    }
}

/// Tokenised training and validation sequences.
pub struct MlmData {
    pub train: Vec<Vec<u32>>,
    pub valid: Vec<Vec<u32>>,
}

impl MlmData {
    /// Reads sentences from `corpus` (less its exclusions) and tokenises
    /// them in parallel.
    pub fn from_corpus(
        corpus: &Corpus,
        tokenizer: &Tokenizer,
        options: &MlmDataOptions,
    ) -> Result<MlmData, Error> {
        let mut picked: Vec<(String, bool)> = Vec::new();
        let cut = (options.valid_fraction * 1e6) as u64;
        for s in corpus.sentences(options.min_words..=options.max_words) {
            let s = s?;
            let key = sentence_key(&s);
            picked.push((s, key % 1_000_000 < cut));
            if picked.len() >= options.max_sentences {
                break;
            }
        }
        let encoded: Vec<(Vec<u32>, bool)> = picked
            .par_iter()
            .map(|(s, valid)| {
                let mut ids = tokenizer.encode(s)?.ids;
                if ids.len() > options.seq_len {
                    ids.truncate(options.seq_len - 1);
                    ids.push(tokenizer.sep_id);
                }
                Ok((ids, *valid))
            })
            .collect::<Result<_, Error>>()?;
        let (mut valid, train): (Vec<_>, Vec<_>) = encoded.into_iter().partition(|(_, v)| *v);
        valid.truncate(options.max_valid);
        let strip =
            |v: Vec<(Vec<u32>, bool)>| v.into_iter().map(|(ids, _)| ids).collect::<Vec<_>>();
        let data = MlmData {
            train: strip(train),
            valid: strip(valid),
        };
        if data.train.is_empty() {
            return Err(Error::InvalidArgument(
                "the corpus gave no training sentence (check --corpus and the sentence-length window)".into(),
            ));
        }
        Ok(data)
    }

    pub fn train_tokens(&self) -> usize {
        self.train.iter().map(Vec::len).sum()
    }
}

/// The MLM objective over [`MlmData`].
pub struct MlmTask {
    data: MlmData,
    batch_size: usize,
    seed: u64,
    mask_prob: f64,
    freeze_encoder: bool,
    special: Vec<u32>,
    vocab_size: u32,
    pad_id: u32,
    mask_id: u32,
    device: Device,
    /// The batches of the current epoch (indices into `data.train`).
    plan: Mutex<Option<(u64, Vec<Vec<usize>>)>>,
}

/// Batches of one epoch are made from pools of this many batches sorted by
/// length: similar lengths share a batch, yet the order stays random.
const POOL_BATCHES: usize = 50;

/// Seeds of the masking generators ("mask" and "valid" in ASCII), mixed with
/// the run's seed for training and fixed for validation.
const TRAIN_MASK_SEED: u64 = 0x6d61_736b;
const VALID_MASK_SEED: u64 = 0x76_616c_6964;

impl MlmTask {
    pub fn new(
        data: MlmData,
        tokenizer: &Tokenizer,
        vocab_size: usize,
        batch_size: usize,
        seed: u64,
        freeze_encoder: bool,
        device: Device,
    ) -> MlmTask {
        MlmTask {
            data,
            batch_size: batch_size.max(1),
            seed,
            mask_prob: 0.15,
            freeze_encoder,
            special: vec![
                tokenizer.pad_id,
                tokenizer.cls_id,
                tokenizer.sep_id,
                tokenizer.mask_id,
                tokenizer.unk_id,
            ],
            vocab_size: vocab_size as u32,
            pad_id: tokenizer.pad_id,
            mask_id: tokenizer.mask_id,
            device,
            plan: Mutex::new(None),
        }
    }

    pub fn data(&self) -> &MlmData {
        &self.data
    }

    fn epoch_plan(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(epoch);
        let mut order: Vec<usize> = (0..self.data.train.len()).collect();
        order.shuffle(&mut rng);
        let mut batches = Vec::new();
        for pool in order.chunks(self.batch_size * POOL_BATCHES) {
            let mut pool = pool.to_vec();
            pool.sort_by_key(|&i| self.data.train[i].len());
            batches.extend(pool.chunks(self.batch_size).map(<[usize]>::to_vec));
        }
        batches.shuffle(&mut rng);
        batches
    }

    fn batch(&self, epoch: u64, index: usize) -> Vec<usize> {
        let mut plan = self.plan.lock().expect("no panic while planning");
        if plan.as_ref().is_none_or(|(e, _)| *e != epoch) {
            *plan = Some((epoch, self.epoch_plan(epoch)));
        }
        plan.as_ref()
            .map(|(_, p)| p[index].clone())
            .unwrap_or_default()
    }

    /// Masked inputs and targets for `seqs`, from `rng`.
    fn masked_batch(&self, seqs: &[&[u32]], rng: &mut ChaCha8Rng) -> Result<MaskedBatch, Error> {
        let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut ids = vec![self.pad_id; seqs.len() * len];
        let mut attention = vec![0u32; seqs.len() * len];
        let mut positions = Vec::new();
        let mut targets = Vec::new();
        for (row, seq) in seqs.iter().enumerate() {
            let base = row * len;
            let candidates: Vec<usize> = (0..seq.len())
                .filter(|&i| !self.special.contains(&seq[i]))
                .collect();
            let mut chosen: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|_| rng.random_bool(self.mask_prob))
                .collect();
            if chosen.is_empty() && !candidates.is_empty() {
                chosen.push(candidates[rng.random_range(0..candidates.len())]);
            }
            for (i, &token) in seq.iter().enumerate() {
                ids[base + i] = token;
                attention[base + i] = 1;
            }
            for i in chosen {
                positions.push((base + i) as u32);
                targets.push(seq[i]);
                let roll: f64 = rng.random();
                ids[base + i] = if roll < 0.8 {
                    self.mask_id
                } else if roll < 0.9 {
                    rng.random_range(0..self.vocab_size)
                } else {
                    seq[i]
                };
            }
        }
        let shape = (seqs.len(), len);
        Ok(MaskedBatch {
            ids: Tensor::from_vec(ids, shape, &self.device)?,
            attention: Tensor::from_vec(attention, shape, &self.device)?,
            positions: Tensor::new(positions, &self.device)?,
            targets: Tensor::new(targets, &self.device)?,
            tokens: seqs.iter().map(|s| s.len()).sum(),
        })
    }

    fn logits(
        &self,
        model: &DistilBertForMaskedLM,
        batch: &MaskedBatch,
        pass: Pass,
    ) -> Result<Tensor, Error> {
        let mut hidden = model
            .encoder()
            .forward(&batch.ids, &batch.attention, pass)?;
        if self.freeze_encoder {
            hidden = hidden.detach();
        }
        let dim = hidden.dim(D::Minus1)?;
        let flat = hidden.reshape(((), dim))?;
        Ok(model.mlm_logits(&flat.index_select(&batch.positions, 0)?, pass)?)
    }
}

struct MaskedBatch {
    ids: Tensor,
    attention: Tensor,
    positions: Tensor,
    targets: Tensor,
    tokens: usize,
}

impl Task for MlmTask {
    fn batches_per_epoch(&self) -> usize {
        self.data.train.len().div_ceil(self.batch_size)
    }

    fn loss(
        &self,
        model: &DistilBertForMaskedLM,
        epoch: u64,
        index: usize,
        pass: Pass,
    ) -> Result<TaskLoss, Error> {
        let rows = self.batch(epoch, index);
        let seqs: Vec<&[u32]> = rows
            .iter()
            .map(|&i| self.data.train[i].as_slice())
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ TRAIN_MASK_SEED);
        rng.set_stream((epoch << 32) | index as u64);
        let batch = self.masked_batch(&seqs, &mut rng)?;
        let logits = self.logits(model, &batch, pass)?;
        Ok(TaskLoss {
            loss: candle_nn::loss::cross_entropy(&logits, &batch.targets)?,
            tokens: batch.tokens,
        })
    }

    fn validate(&self, model: &DistilBertForMaskedLM) -> Result<Validation, Error> {
        let (mut loss_sum, mut correct, mut count) = (0.0f64, 0usize, 0usize);
        let mut order: Vec<usize> = (0..self.data.valid.len()).collect();
        order.sort_by_key(|&i| self.data.valid[i].len());
        for (n, rows) in order.chunks(self.batch_size).enumerate() {
            let seqs: Vec<&[u32]> = rows
                .iter()
                .map(|&i| self.data.valid[i].as_slice())
                .collect();
            // The same masks at every evaluation, so losses compare.
            let mut rng = ChaCha8Rng::seed_from_u64(VALID_MASK_SEED);
            rng.set_stream(n as u64);
            let batch = self.masked_batch(&seqs, &mut rng)?;
            let logits = self.logits(model, &batch, Pass::Infer)?;
            let per_token =
                candle_nn::loss::cross_entropy(&logits, &batch.targets)?.to_scalar::<f32>()? as f64;
            let n_targets = batch.targets.dim(0)?;
            loss_sum += per_token * n_targets as f64;
            let predicted = logits.argmax(D::Minus1)?;
            correct += predicted
                .eq(&batch.targets)?
                .to_dtype(DType::U32)?
                .sum_all()?
                .to_scalar::<u32>()? as usize;
            count += n_targets;
        }
        Ok(Validation {
            loss: loss_sum / count.max(1) as f64,
            accuracy: correct as f64 / count.max(1) as f64,
            predictions: count,
            f1: None,
        })
    }
}
