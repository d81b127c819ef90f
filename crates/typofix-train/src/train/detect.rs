//! Error detection: the task that trains the [`Detector`] head.
//!
//! Each example is a corrupted sentence from `typofix data`; its edits say
//! which bytes the corruption touched, so every token that overlaps an edit
//! is labelled wrong and every other token right. The language model's
//! encoder runs frozen, as at inference, and only the head learns: the
//! masked language model the corrector scores with stays exactly as it was.

use std::io::BufRead;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::{Task, TaskLoss, Validation};
use typofix::model::{Detector, DistilBertForMaskedLM, Pass};
use typofix::tokenizer::Tokenizer;
use typofix::Error;

use crate::dataset::Example;

/// A tokenised sentence and, per token, whether it is part of an error
/// (`None` for `[CLS]` and `[SEP]`, which are not scored).
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub ids: Vec<u32>,
    pub wrong: Vec<Option<bool>>,
}

impl Labelled {
    /// Labels `example`'s corrupted text, truncated to `seq_len` tokens.
    pub fn new(
        example: &Example,
        tokenizer: &Tokenizer,
        seq_len: usize,
    ) -> Result<Labelled, Error> {
        let enc = tokenizer.encode(&example.corrupted)?;
        let mut ids = enc.ids;
        let mut wrong: Vec<Option<bool>> = enc
            .offsets
            .iter()
            .zip(&ids)
            .map(|(&(start, end), &id)| {
                (id != tokenizer.cls_id && id != tokenizer.sep_id).then(|| {
                    example
                        .edits
                        .iter()
                        .any(|e| start < e.corrupted[1] && e.corrupted[0] < end)
                })
            })
            .collect();
        if ids.len() > seq_len {
            ids.truncate(seq_len - 1);
            ids.push(tokenizer.sep_id);
            wrong.truncate(seq_len - 1);
            wrong.push(None);
        }
        Ok(Labelled { ids, wrong })
    }
}

/// Labelled training and validation sentences.
pub struct DetectData {
    pub train: Vec<Labelled>,
    pub valid: Vec<Labelled>,
}

impl DetectData {
    /// Reads `typofix data` JSONL files: `train` and, for validation,
    /// `valid`; at most `max` examples from each.
    pub fn from_pairs(
        train: &Path,
        valid: &Path,
        tokenizer: &Tokenizer,
        seq_len: usize,
        max: usize,
    ) -> Result<DetectData, Error> {
        let read = |path: &Path| -> Result<Vec<Labelled>, Error> {
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            let mut examples = Vec::new();
            for (n, line) in std::io::BufReader::new(file).lines().take(max).enumerate() {
                let line = line.map_err(|e| Error::io(path, e))?;
                let example: Example =
                    serde_json::from_str(&line).map_err(|e| Error::InvalidData {
                        path: path.to_owned(),
                        reason: format!("line {}: not a typofix data example: {e}", n + 1),
                    })?;
                examples.push(example);
            }
            examples
                .par_iter()
                .map(|e| Labelled::new(e, tokenizer, seq_len))
                .collect()
        };
        let data = DetectData {
            train: read(train)?,
            valid: read(valid)?,
        };
        if data.train.is_empty() {
            return Err(Error::InvalidData {
                path: train.to_owned(),
                reason: "holds no example (make one with `typofix data`)".into(),
            });
        }
        Ok(data)
    }
}

/// Binary cross-entropy of the head's logits against the labels.
pub struct DetectTask {
    data: DetectData,
    detector: Detector,
    batch_size: usize,
    seed: u64,
    pad_id: u32,
    device: Device,
}

struct Batch {
    ids: Tensor,
    attention: Tensor,
    /// Flat indices of the labelled tokens, and their labels (0 or 1).
    positions: Tensor,
    targets: Tensor,
    tokens: usize,
}

impl DetectTask {
    /// `detector` must be built on the same variables the trainer updates.
    pub fn new(
        data: DetectData,
        detector: Detector,
        tokenizer: &Tokenizer,
        batch_size: usize,
        seed: u64,
        device: Device,
    ) -> DetectTask {
        DetectTask {
            data,
            detector,
            batch_size: batch_size.max(1),
            seed,
            pad_id: tokenizer.pad_id,
            device,
        }
    }

    fn batch(&self, rows: &[&Labelled]) -> Result<Batch, Error> {
        let len = rows.iter().map(|r| r.ids.len()).max().unwrap_or(0);
        let mut ids = vec![self.pad_id; rows.len() * len];
        let mut attention = vec![0u32; rows.len() * len];
        let (mut positions, mut targets) = (Vec::new(), Vec::new());
        for (r, row) in rows.iter().enumerate() {
            for (i, (&id, &wrong)) in row.ids.iter().zip(&row.wrong).enumerate() {
                ids[r * len + i] = id;
                attention[r * len + i] = 1;
                if let Some(wrong) = wrong {
                    positions.push((r * len + i) as u32);
                    targets.push(if wrong { 1f32 } else { 0.0 });
                }
            }
        }
        let shape = (rows.len(), len);
        Ok(Batch {
            ids: Tensor::from_vec(ids, shape, &self.device)?,
            attention: Tensor::from_vec(attention, shape, &self.device)?,
            positions: Tensor::new(positions, &self.device)?,
            targets: Tensor::new(targets, &self.device)?,
            tokens: rows.iter().map(|r| r.ids.len()).sum(),
        })
    }

    /// The head's logits at the batch's labelled tokens.
    fn logits(
        &self,
        model: &DistilBertForMaskedLM,
        batch: &Batch,
        pass: Pass,
    ) -> Result<Tensor, Error> {
        // Frozen, and computed as the corrector computes it.
        let hidden = model
            .encoder()
            .forward(&batch.ids, &batch.attention, Pass::Infer)?
            .detach();
        let logits = self.detector.forward(&hidden, pass)?.flatten_all()?;
        Ok(logits.index_select(&batch.positions, 0)?)
    }

    fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(epoch);
        let mut order: Vec<usize> = (0..self.data.train.len()).collect();
        order.shuffle(&mut rng);
        order
    }
}

impl Task for DetectTask {
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
        // Shuffling is cheap next to a forward pass, so the order is
        // recomputed rather than cached.
        let order = self.epoch_order(epoch);
        let rows: Vec<&Labelled> = order
            .chunks(self.batch_size)
            .nth(index)
            .unwrap_or_default()
            .iter()
            .map(|&i| &self.data.train[i])
            .collect();
        let batch = self.batch(&rows)?;
        let logits = self.logits(model, &batch, pass)?;
        Ok(TaskLoss {
            loss: candle_nn::loss::binary_cross_entropy_with_logit(&logits, &batch.targets)?,
            tokens: batch.tokens,
        })
    }

    fn validate(&self, model: &DistilBertForMaskedLM) -> Result<Validation, Error> {
        let (mut loss_sum, mut count) = (0.0f64, 0usize);
        let (mut tp, mut fp, mut fnn, mut correct) = (0usize, 0usize, 0usize, 0usize);
        let mut order: Vec<usize> = (0..self.data.valid.len()).collect();
        order.sort_by_key(|&i| self.data.valid[i].ids.len());
        for rows in order.chunks(self.batch_size) {
            let rows: Vec<&Labelled> = rows.iter().map(|&i| &self.data.valid[i]).collect();
            let batch = self.batch(&rows)?;
            let logits = self.logits(model, &batch, Pass::Infer)?;
            let n = batch.targets.dim(0)?;
            let loss = candle_nn::loss::binary_cross_entropy_with_logit(&logits, &batch.targets)?;
            loss_sum += loss.to_dtype(DType::F64)?.to_scalar::<f64>()? * n as f64;
            count += n;
            let logits = logits.to_vec1::<f32>()?;
            let targets = batch.targets.to_vec1::<f32>()?;
            for (l, t) in logits.iter().zip(&targets) {
                match (*l > 0.0, *t > 0.5) {
                    (true, true) => tp += 1,
                    (true, false) => fp += 1,
                    (false, true) => fnn += 1,
                    (false, false) => {}
                }
                correct += usize::from((*l > 0.0) == (*t > 0.5));
            }
        }
        let f1 = 2.0 * tp as f64 / (2 * tp + fp + fnn).max(1) as f64;
        Ok(Validation {
            loss: loss_sum / count.max(1) as f64,
            accuracy: correct as f64 / count.max(1) as f64,
            predictions: count,
            f1: Some(f1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrupt::Edit;
    use typofix::ErrorKind;

    fn tokenizer() -> Tokenizer {
        let dir = tempfile::tempdir().unwrap();
        let vocab = dir.path().join("vocab.txt");
        let words = "[PAD] [UNK] [CLS] [SEP] [MASK] the cat sat on mat ##t h ##e";
        std::fs::write(&vocab, words.replace(' ', "\n")).unwrap();
        Tokenizer::from_vocab(&vocab, Default::default()).unwrap()
    }

    #[test]
    fn tokens_that_overlap_an_edit_are_labelled_wrong() {
        let example = Example {
            corrupted: "the cat sat on hte matt".into(),
            clean: "the cat sat on the mat".into(),
            edits: vec![
                Edit {
                    kind: ErrorKind::Transpose,
                    op: None,
                    clean: [15, 18],
                    corrupted: [15, 18],
                },
                Edit {
                    kind: ErrorKind::Double,
                    op: None,
                    clean: [19, 22],
                    corrupted: [19, 23],
                },
            ],
        };
        let labelled = Labelled::new(&example, &tokenizer(), 64).unwrap();
        let wrong: Vec<Option<bool>> = labelled.wrong;
        // [CLS] the cat sat on h ##t ##e mat ##t [SEP]
        assert_eq!(wrong.first(), Some(&None));
        assert_eq!(wrong.last(), Some(&None));
        let inner: Vec<bool> = wrong[1..wrong.len() - 1]
            .iter()
            .map(|w| w.unwrap())
            .collect();
        let right = inner.iter().take_while(|w| !**w).count();
        assert_eq!(right, 4, "the cat sat on are right: {inner:?}");
        assert!(
            inner[4..].iter().all(|w| *w),
            "hte matt are wrong: {inner:?}"
        );
    }

    #[test]
    fn truncation_keeps_the_closing_separator_unlabelled() {
        let example = Example {
            corrupted: "the cat sat on the mat".into(),
            clean: "the cat sat on the mat".into(),
            edits: vec![],
        };
        let labelled = Labelled::new(&example, &tokenizer(), 4).unwrap();
        assert_eq!(labelled.ids.len(), 4);
        assert_eq!(labelled.wrong, vec![None, Some(false), Some(false), None]);
    }
}
