//! Scoring alternatives in context with the masked language model.
//!
//! A query is a tokenised sentence, a range of its tokens to replace, and the
//! alternatives to put there (each a token sequence). Alternatives of the same
//! length share one input with that many `[MASK]`s, and all the inputs of a
//! call go through the model as one padded batch. An alternative's score is the
//! sum of its tokens' log-probabilities at their masks, so the original
//! spelling is scored exactly like every candidate.
//!
//! Pieces masked together are predicted without seeing one another, which
//! underrates words of several pieces (`it ' s` against `its`). A query
//! can ask for the chain rule instead: piece j is read with the pieces
//! before it in place and the rest still masked, so each word's score is a
//! proper product of conditionals. (Masking each piece alone, with all the
//! others in place, overrates them instead: `'` is certain between `you`
//! and `re`.) It costs one input per piece of every multi-piece fill, so
//! the corrector asks for it only where the choice is between real words
//! (its / it's, dont / don't).

use std::collections::HashMap;
use std::ops::Range;

use candle_core::{Device, Tensor};

use super::budget::{Halt, Meter};
use crate::model::{Detector, Hidden, MaskedLm, Pass};
use crate::tokenizer::Tokenizer;
use crate::Error;

/// Longest alternative scored, in tokens: longer ones are too rare to be the
/// intended word, and each extra mask blurs the context of the others.
pub const MAX_FILL: usize = 6;

/// Alternatives for one span of a tokenised sentence.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// The sentence's tokens, without `[CLS]` and `[SEP]`.
    pub tokens: &'a [u32],
    pub replace: Range<usize>,
    pub fills: &'a [Vec<u32>],
    /// Score each multi-piece fill piece by piece, by the chain rule (see
    /// the module's notes).
    pub per_piece: bool,
}

/// A token position of a sentence and the ids whose log-probability to read
/// there.
pub type Probe = (usize, Vec<u32>);

/// The masked language model and its tokenizer, and the detection head
/// over its encoder when the model has one.
#[derive(Debug, Clone)]
pub struct Scorer {
    model: MaskedLm,
    tokenizer: Tokenizer,
    detector: Option<Detector>,
    /// Word pieces of context a masked input keeps on each side of its
    /// masks ([`Settings::context_tokens`](super::Settings)).
    context: usize,
}

/// What one unmasked pass says about a sentence.
#[derive(Debug, Clone, Default)]
pub struct Unmasked {
    /// For each probe, the log-probability of each of its ids.
    pub probes: Vec<Vec<f32>>,
    /// For each token, the probability that it is part of an error; empty
    /// without a detection head.
    pub wrong: Vec<f32>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Input {
    ids: Vec<u32>,
    /// Position of the first mask in `ids`.
    first_mask: usize,
    masks: usize,
}

/// Scores already computed, by masked input and fill. The corrector's
/// second pass re-scores the slots of every sentence that took a
/// correction, and most of them lie further than the context window from
/// it: their inputs are the same as in the first pass, so they cost
/// nothing. Text that repeats itself (tables, logs) gains the same way.
/// One memo serves one group of sentences, so it stays small.
#[derive(Default)]
pub struct Memo(HashMap<FillKey, f64>);

/// What a fill's score depends on: its joint masked input, its pieces, and
/// whether it is scored piece by piece.
type FillKey = (Input, Vec<u32>, bool);

/// Inputs per forward pass: enough to amortise the weights, few enough to
/// keep padding and memory small.
const BATCH: usize = 48;

/// Padded tokens per forward pass, at most: this bounds the time of one
/// pass (a work budget is checked between passes) and the size of its
/// attention scores, which grow with the square of the inputs' length.
const BATCH_TOKENS: usize = 48 * 64;

/// Splits inputs sorted by length into batches of at most [`BATCH`] inputs
/// and [`BATCH_TOKENS`] padded tokens (one input always fits).
fn batches<T>(sorted: &[T], len: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = sorted;
    while !rest.is_empty() {
        let mut n = 1;
        while n < rest.len().min(BATCH) && (n + 1) * len(&rest[n]) <= BATCH_TOKENS {
            n += 1;
        }
        let (batch, later) = rest.split_at(n);
        out.push(batch);
        rest = later;
    }
    out
}

/// The input that scores piece `piece` of `fill`, from the fill's joint
/// input: the pieces before it in place, it and those after masked.
fn piece_input(joint: &Input, fill: &[u32], piece: usize) -> Input {
    let mut input = joint.clone();
    let at = input.first_mask;
    input.ids[at..at + piece].copy_from_slice(&fill[..piece]);
    input.first_mask = at + piece;
    input.masks = 1;
    input
}

/// How many pieces a masked input keeps before and after its masks, of
/// `before` and `after`: up to `context` each (half of `budget` when that
/// is smaller), a side giving what it does not use to the other (a word at
/// the end of a sentence takes its context from before it).
fn window(before: usize, after: usize, context: usize, budget: usize) -> (usize, usize) {
    let window = budget.min(2 * context);
    let left = before.min(window / 2);
    let right = after.min(window - left);
    (before.min(window - right), right)
}

impl Scorer {
    pub fn new(
        model: MaskedLm,
        tokenizer: Tokenizer,
        detector: Option<Detector>,
        context: usize,
    ) -> Scorer {
        Scorer {
            model,
            tokenizer,
            detector,
            context: context.max(1),
        }
    }

    pub fn detects(&self) -> bool {
        self.detector.is_some()
    }

    pub fn model(&self) -> &MaskedLm {
        &self.model
    }

    pub fn with_model(self, model: MaskedLm) -> Scorer {
        Scorer { model, ..self }
    }

    /// The word pieces of a single word or punctuation mark.
    pub fn pieces(&self, text: &str) -> Result<Vec<u32>, Error> {
        let ids = self.tokenizer.encode(text)?.ids;
        // Drop [CLS] and [SEP].
        Ok(ids[1..ids.len() - 1].to_vec())
    }

    /// log P of every fill of every query; a fill longer than [`MAX_FILL`]
    /// or empty gets negative infinity. Inputs are run in batches of similar
    /// length, so a call with many queries (from many sentences) pays for
    /// the model's weights once per batch, not once per sentence. Inputs
    /// that repeat run once, and fills already in `memo` not at all. Each
    /// batch is charged to `meter` before it runs.
    pub fn score(
        &self,
        queries: &[Query],
        meter: &Meter,
        memo: &mut Memo,
    ) -> Result<Vec<Vec<f64>>, Halt> {
        let mut out: Vec<Vec<f64>> = queries
            .iter()
            .map(|q| vec![f64::NEG_INFINITY; q.fills.len()])
            .collect();
        // Each distinct input once, however many fills (of however many
        // queries) read it; and the (query, fill, piece) each input serves,
        // `None` for every piece of the fill at once.
        let mut inputs: Vec<Input> = Vec::new();
        let mut index: HashMap<Input, usize> = HashMap::new();
        let mut users: Vec<Vec<(usize, usize, Option<usize>)>> = Vec::new();
        let mut add = |input: Input, user| {
            let n = *index.entry(input).or_insert_with_key(|input| {
                inputs.push(input.clone());
                users.push(Vec::new());
                inputs.len() - 1
            });
            users[n].push(user);
        };
        // The fills to compute, with their memo keys.
        let mut pending: Vec<(usize, usize, FillKey)> = Vec::new();
        for (q, query) in queries.iter().enumerate() {
            for (f, fill) in query.fills.iter().enumerate() {
                let k = fill.len();
                if k == 0 || k > MAX_FILL {
                    continue;
                }
                let joint = self.masked_input(query, k);
                let per_piece = query.per_piece && k > 1;
                let key = (joint, fill.clone(), per_piece);
                if let Some(&score) = memo.0.get(&key) {
                    out[q][f] = score;
                    continue;
                }
                if per_piece {
                    // Summed over the fill's inputs below. Its first piece
                    // is read with every piece masked: the joint input.
                    out[q][f] = 0.0;
                    add(key.0.clone(), (q, f, Some(0)));
                    for piece in 1..k {
                        add(piece_input(&key.0, fill, piece), (q, f, Some(piece)));
                    }
                } else {
                    add(key.0.clone(), (q, f, None));
                }
                pending.push((q, f, key));
            }
        }
        tracing::trace!(
            queries = queries.len(),
            inputs = inputs.len(),
            "masked batch"
        );

        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by_key(|&i| inputs[i].ids.len());
        for chunk in batches(&order, |&i| inputs[i].ids.len()) {
            meter.charge(chunk.len())?;
            let batch: Vec<&Input> = chunk.iter().map(|&i| &inputs[i]).collect();
            let batch_rows = self.mask_log_probs(&batch)?;
            for (n, &input) in chunk.iter().enumerate() {
                let rows = batch_rows.of(n);
                for &(q, f, piece) in &users[input] {
                    let fill = &queries[q].fills[f];
                    match piece {
                        Some(j) => out[q][f] += f64::from(rows[0][fill[j] as usize]),
                        None => {
                            out[q][f] = fill
                                .iter()
                                .zip(&rows)
                                .map(|(&id, row)| f64::from(row[id as usize]))
                                .sum()
                        }
                    }
                }
            }
        }
        for (q, f, key) in pending {
            memo.0.insert(key, out[q][f]);
        }
        Ok(out)
    }

    /// A cheap first look at many sentences, one input each, unmasked: for
    /// each sentence's probes (token position, ids), the log-probability of
    /// each id there, and with a detection head, how likely each token is
    /// to be wrong. `None` for a sentence too long for one input, or with
    /// nothing to look at. Sentences that repeat share one input. Each batch
    /// is charged to `meter` before it runs.
    pub fn unmasked(
        &self,
        sentences: &[(&[u32], Vec<Probe>)],
        meter: &Meter,
    ) -> Result<Vec<Option<Unmasked>>, Halt> {
        let max_len = self.model.config().max_position_embeddings;
        // Sentences that repeat one another (same tokens, same probes) share
        // an input: the first of them, whose look the others copy.
        let mut first_of: HashMap<(&[u32], &[Probe]), usize> = HashMap::new();
        let mut copies: Vec<(usize, usize)> = Vec::new();
        let mut inputs: Vec<(usize, Input)> = Vec::new();
        for (n, (tokens, probes)) in sentences.iter().enumerate() {
            if tokens.len() + 2 > max_len || (probes.is_empty() && !self.detects()) {
                continue;
            }
            let first = *first_of.entry((tokens, probes)).or_insert(n);
            if first != n {
                copies.push((n, first));
                continue;
            }
            let mut ids = Vec::with_capacity(tokens.len() + 2);
            ids.push(self.tokenizer.cls_id);
            ids.extend_from_slice(tokens);
            ids.push(self.tokenizer.sep_id);
            inputs.push((
                n,
                Input {
                    ids,
                    first_mask: 0,
                    masks: 0,
                },
            ));
        }
        inputs.sort_by_key(|(_, i)| i.ids.len());
        let mut out: Vec<Option<Unmasked>> = vec![None; sentences.len()];
        for chunk in batches(&inputs, |(_, i)| i.ids.len()) {
            meter.charge(chunk.len())?;
            let batch: Vec<&Input> = chunk.iter().map(|(_, i)| i).collect();
            let positions: Vec<Vec<usize>> = chunk
                .iter()
                .map(|&(n, _)| sentences[n].1.iter().map(|(p, _)| p + 1).collect())
                .collect();
            let (rows, wrong) = self.read_batch(&batch, &positions)?;
            for (i, ((n, input), wrong)) in chunk.iter().zip(wrong).enumerate() {
                let probes = &sentences[*n].1;
                let rows = rows.of(i);
                out[*n] = Some(Unmasked {
                    probes: probes
                        .iter()
                        .zip(rows)
                        .map(|((_, ids), row)| ids.iter().map(|&id| row[id as usize]).collect())
                        .collect(),
                    // Without [CLS] and [SEP].
                    wrong: wrong
                        .map(|w| w[1..input.ids.len() - 1].to_vec())
                        .unwrap_or_default(),
                });
            }
        }
        for (n, first) in copies {
            out[n] = out[first].clone();
        }
        Ok(out)
    }

    fn masked_input(&self, query: &Query, k: usize) -> Input {
        let t = self.tokenizer.mask_id;
        let max_len = self.model.config().max_position_embeddings.min(128);
        let budget = max_len.saturating_sub(k + 2);
        let (before, after) = (
            &query.tokens[..query.replace.start],
            &query.tokens[query.replace.end..],
        );
        let (left, right) = window(before.len(), after.len(), self.context, budget);
        let mut ids = Vec::with_capacity(left + k + right + 2);
        ids.push(self.tokenizer.cls_id);
        ids.extend_from_slice(&before[before.len() - left..]);
        let first_mask = ids.len();
        ids.extend(std::iter::repeat_n(t, k));
        ids.extend_from_slice(&after[..right]);
        ids.push(self.tokenizer.sep_id);
        Input {
            ids,
            first_mask,
            masks: k,
        }
    }

    /// Runs a batch; for each input, the log-softmax rows at its masks.
    fn mask_log_probs(&self, inputs: &[&Input]) -> Result<LogProbRows, Error> {
        let positions: Vec<Vec<usize>> = inputs
            .iter()
            .map(|i| (i.first_mask..i.first_mask + i.masks).collect())
            .collect();
        self.log_probs_at(inputs, &positions)
    }

    /// Runs a batch; for each input, the log-softmax rows at `positions`.
    fn log_probs_at(
        &self,
        inputs: &[&Input],
        positions: &[Vec<usize>],
    ) -> Result<LogProbRows, Error> {
        let hidden = self.hidden(inputs)?;
        self.rows_at(&hidden, positions)
    }

    /// Runs a batch unmasked: the log-softmax rows at `positions`, and the
    /// detection head's probability at every token.
    #[allow(clippy::type_complexity)]
    fn read_batch(
        &self,
        inputs: &[&Input],
        positions: &[Vec<usize>],
    ) -> Result<(LogProbRows, Vec<Option<Vec<f32>>>), Error> {
        let hidden = self.hidden(inputs)?;
        let rows = self.rows_at(&hidden, positions)?;
        let wrong = match &self.detector {
            Some(head) => {
                let states = Tensor::from_slice(
                    &hidden.rows,
                    (hidden.rows.len() / hidden.dim, hidden.dim),
                    &Device::Cpu,
                )?;
                let wrong = candle_nn::ops::sigmoid(&head.forward(&states, Pass::Infer)?)?
                    .to_vec1::<f32>()?;
                hidden
                    .seqs
                    .iter()
                    .map(|seq| Some(wrong[seq.clone()].to_vec()))
                    .collect()
            }
            None => vec![None; inputs.len()],
        };
        Ok((rows, wrong))
    }

    /// The last hidden states of a batch, unpadded.
    fn hidden(&self, inputs: &[&Input]) -> Result<Hidden, Error> {
        let sequences: Vec<&[u32]> = inputs.iter().map(|i| i.ids.as_slice()).collect();
        self.model.encode(&sequences)
    }

    /// The MLM head's log-softmax rows at `positions` of each input.
    fn rows_at(&self, hidden: &Hidden, positions: &[Vec<usize>]) -> Result<LogProbRows, Error> {
        let mut picked: Vec<f32> = Vec::new();
        let mut starts = Vec::with_capacity(positions.len() + 1);
        starts.push(0);
        for (n, at) in positions.iter().enumerate() {
            for &p in at {
                picked.extend_from_slice(hidden.row(n, p));
            }
            starts.push(starts[n] + at.len());
        }
        let vocab = self.model.config().vocab_size;
        let values = if picked.is_empty() {
            Vec::new()
        } else {
            self.model.log_probs(&picked)?
        };
        Ok(LogProbRows {
            values,
            vocab,
            starts,
        })
    }
}

/// Log-softmax rows over the vocabulary, grouped by input. One buffer, as
/// the head wrote it: a row is 30,522 values (120 KB), and copying each
/// into a vector of its own took 3% of the corrector's time.
struct LogProbRows {
    values: Vec<f32>,
    vocab: usize,
    /// The first row of each input, then the number of rows.
    starts: Vec<usize>,
}

impl LogProbRows {
    /// Input `n`'s rows, in the order of its positions.
    fn of(&self, n: usize) -> Vec<&[f32]> {
        let rows = self.starts[n]..self.starts[n + 1];
        self.values[rows.start * self.vocab..rows.end * self.vocab]
            .chunks_exact(self.vocab)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_input_keeps_its_context_on_each_side_and_lends_what_one_side_lacks() {
        // Both sides long: `context` each.
        assert_eq!(window(50, 50, 12, 120), (12, 12));
        // Short sides are kept whole.
        assert_eq!(window(3, 5, 12, 120), (3, 5));
        // A word near the end takes its context from before it, and the
        // other way round.
        assert_eq!(window(50, 2, 12, 120), (22, 2));
        assert_eq!(window(0, 50, 12, 120), (0, 24));
        // Never more than the model's positions allow.
        assert_eq!(window(50, 50, 100, 30), (15, 15));
        assert_eq!(window(50, 4, 100, 30), (26, 4));
    }

    #[test]
    fn batches_are_bounded_in_inputs_and_in_padded_tokens() {
        let short = vec![10; 100];
        let sizes: Vec<usize> = batches(&short, |&l| l).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [BATCH, BATCH, 100 - 2 * BATCH]);

        let mut mixed: Vec<usize> = (1..=400).collect();
        mixed.sort_unstable();
        let split = batches(&mixed, |&l| l);
        assert_eq!(split.iter().map(|b| b.len()).sum::<usize>(), 400);
        for batch in &split {
            let padded = batch.len() * batch.last().unwrap();
            assert!(batch.len() == 1 || padded <= BATCH_TOKENS, "{padded}");
        }
        assert_eq!(batches(&[5000], |&l| l).len(), 1, "a long input alone");
    }
}
