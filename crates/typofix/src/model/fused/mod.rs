//! The fused engine: DistilBERT inference on the CPU over ragged batches,
//! with hand-fused kernels ([`ops`]).
//!
//! The corrector's inputs are sentences of very different lengths. Padded
//! to a common length, a third of the tokens the candle engine ran were
//! padding (measured on ewt_typos_train). Here sequences are laid end to
//! end: every linear layer runs once over all real tokens of the batch, and
//! only attention looks at sequence boundaries. The queries' 1/√d scale is
//! folded into their weights, and q, k and v are one product.
//!
//! The encoder's linear layers run in f32, on int8 weights
//! ([`Precision::Int8`], [`int8`]) or on bf16 ones ([`Precision::Bf16`],
//! [`bf16`]), with their kernels picked at run time for the CPU (AMX,
//! AVX-512 VNNI or BF16, AVX2; NEON with or without `sdot` for int8; or
//! portable). With either, the MLM head's projector runs in bf16
//! ([`projector`]); the rest of the head stays in f32.
//!
//! The math is Hugging Face's `DistilBertForMaskedLM` in inference; the
//! tests check it against the standard engine.

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod amx;
mod bf16;
mod dispatch;
mod int8;
mod ops;
// Only x86-64 has kernels that read the packed layout.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
mod packing;

use std::ops::Range;

use candle_core::Tensor;

use super::config::{Activation, Config, LAYER_NORM_EPS};
use super::Checkpoint;
use crate::Error;
use bf16::Bf16Dense;
pub use bf16::Kernel as Bf16Kernel;
use int8::Int8Dense;
pub use int8::Kernel as Int8Kernel;
use ops::{Dense, Norm};

/// How the encoder's linear layers store their weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    /// int8 weights per output channel, activations per token, both per
    /// group of inputs; see [`int8`].
    Int8,
    /// bf16 weights and activations, f32 sums.
    Bf16,
}

/// A linear layer in either precision.
#[derive(Debug, Clone)]
enum Linear {
    F32(Dense),
    Int8(Int8Dense),
    Bf16(Bf16Dense),
}

impl Linear {
    fn new(weight: &[f32], bias: Vec<f32>, precision: Precision) -> Linear {
        match precision {
            Precision::F32 => Linear::F32(Dense::from_out_in(weight, bias)),
            Precision::Int8 => Linear::Int8(Int8Dense::quantise(weight, bias)),
            Precision::Bf16 => Linear::Bf16(Bf16Dense::round(weight, bias)),
        }
    }

    /// [`Linear::new`], int8 weights smoothed for inputs whose channels
    /// reach `input_max` ([`Int8Dense::quantise_smoothed`]).
    fn smoothed(weight: &[f32], bias: Vec<f32>, precision: Precision, input_max: &[f32]) -> Linear {
        match precision {
            Precision::Int8 if !input_max.is_empty() => {
                Linear::Int8(Int8Dense::quantise_smoothed(weight, bias, input_max))
            }
            _ => Linear::new(weight, bias, precision),
        }
    }

    fn forward(&self, x: &[f32], y: &mut [f32]) {
        match self {
            Linear::F32(d) => d.forward(x, y),
            Linear::Int8(d) => d.forward(x, y),
            Linear::Bf16(d) => d.forward(x, y),
        }
    }
}

/// The last hidden states of a ragged batch: the rows of every sequence,
/// end to end.
#[derive(Debug, Clone)]
pub struct Hidden {
    /// (tokens × dim), row-major.
    pub rows: Vec<f32>,
    pub dim: usize,
    /// The token range of each sequence.
    pub seqs: Vec<Range<usize>>,
}

impl Hidden {
    /// Lays out sequences end to end; `rows` has one row per token.
    pub fn new(rows: Vec<f32>, dim: usize, lengths: impl IntoIterator<Item = usize>) -> Hidden {
        let mut seqs = Vec::new();
        let mut at = 0;
        for len in lengths {
            seqs.push(at..at + len);
            at += len;
        }
        debug_assert_eq!(rows.len(), at * dim);
        Hidden { rows, dim, seqs }
    }

    /// The hidden state of token `position` of sequence `seq`.
    pub fn row(&self, seq: usize, position: usize) -> &[f32] {
        let at = self.seqs[seq].start + position;
        &self.rows[at * self.dim..(at + 1) * self.dim]
    }
}

/// The rows that enter a block's attention or FFN (the block's index).
enum Site {
    Attention(usize),
    Ffn(usize),
}

/// Per input channel, the largest magnitude seen entering a block's q/k/v
/// product and its FFN; empty: not calibrated.
#[derive(Debug, Clone, Default)]
struct InputMax {
    attention: Vec<f32>,
    ffn: Vec<f32>,
}

#[derive(Debug, Clone)]
struct Block {
    qkv: Linear,
    out: Linear,
    attention_norm: Norm,
    ffn_in: Linear,
    ffn_out: Linear,
    output_norm: Norm,
}

/// DistilBERT's embeddings and transformer blocks: token ids to last
/// hidden states.
#[derive(Debug, Clone)]
struct Encoder {
    config: Config,
    /// (vocab × dim): the word embeddings, and the projector's weight.
    word_embeddings: Vec<f32>,
    position_embeddings: Vec<f32>,
    embedding_norm: Norm,
    blocks: Vec<Block>,
}

/// DistilBERT for masked language modelling, for inference with fused
/// kernels.
#[derive(Debug, Clone)]
pub struct FusedMaskedLm {
    precision: Precision,
    encoder: Encoder,
    vocab_transform: Dense,
    vocab_norm: Norm,
    /// The projector from dim to vocab ([`projector`]).
    projector: Linear,
}

impl FusedMaskedLm {
    /// Builds the engine from a checkpoint's tensors (copied into its own
    /// layout), in f32.
    pub fn from_checkpoint(checkpoint: &Checkpoint) -> Result<FusedMaskedLm, Error> {
        FusedMaskedLm::with_precision(checkpoint, Precision::F32)
    }

    /// Builds the engine with the encoder's weights in `precision`.
    pub fn with_precision(
        checkpoint: &Checkpoint,
        precision: Precision,
    ) -> Result<FusedMaskedLm, Error> {
        let encoder = Encoder::load(checkpoint, precision)?;
        let projector = projector(
            &encoder.word_embeddings,
            tensor(checkpoint, "vocab_projector.bias")?,
            precision,
        );
        Ok(FusedMaskedLm {
            precision,
            encoder,
            projector,
            vocab_transform: Dense::from_out_in(
                &tensor(checkpoint, "vocab_transform.weight")?,
                tensor(checkpoint, "vocab_transform.bias")?,
            ),
            vocab_norm: norm(checkpoint, "vocab_layer_norm")?,
        })
    }

    pub fn config(&self) -> &Config {
        &self.encoder.config
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The last hidden states of each sequence of token ids (each with its
    /// `[CLS]` and `[SEP]`, at most the model's positions long).
    pub fn encode(&self, sequences: &[&[u32]]) -> Result<Hidden, Error> {
        self.encoder.encode_observed(sequences, |_, _| {})
    }

    /// The MLM head's log-softmax over the vocabulary for each row of
    /// `rows` (n × dim, row-major): (n × vocab), row-major.
    pub fn log_probs(&self, rows: &[f32]) -> Vec<f32> {
        let mut logits = self.logits(rows);
        ops::log_softmax_rows(&mut logits, self.encoder.config.vocab_size);
        logits
    }

    /// The MLM head's logits for each row of `rows`: (n × vocab).
    pub fn logits(&self, rows: &[f32]) -> Vec<f32> {
        let n = rows.len() / self.encoder.config.dim;
        let mut h = vec![0f32; rows.len()];
        self.vocab_transform.forward(rows, &mut h);
        activate(&mut h, self.encoder.config.activation);
        self.vocab_norm.add_and_normalise(&mut h, &[]);
        let mut logits = vec![0f32; n * self.encoder.config.vocab_size];
        self.projector.forward(&h, &mut logits);
        logits
    }

    /// Logits at every position of a padded batch, (batch, seq, vocab), as
    /// the other engines compute them; `attention_mask` marks real tokens
    /// (each row's real tokens come first).
    pub fn padded_logits(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
    ) -> Result<Tensor, Error> {
        let (hidden, width) = self.padded_hidden(input_ids, attention_mask)?;
        let logits = self.logits(&hidden.rows);
        padded(
            &logits,
            &hidden.seqs,
            width,
            self.encoder.config.vocab_size,
            input_ids,
        )
    }

    /// Hidden states of a padded batch, (batch, seq, dim), zero at padding.
    pub fn padded_hidden_states(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
    ) -> Result<Tensor, Error> {
        let (hidden, width) = self.padded_hidden(input_ids, attention_mask)?;
        padded(&hidden.rows, &hidden.seqs, width, hidden.dim, input_ids)
    }

    fn padded_hidden(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
    ) -> Result<(Hidden, usize), Error> {
        let ids = input_ids
            .to_dtype(candle_core::DType::U32)?
            .to_vec2::<u32>()?;
        let mask = attention_mask
            .to_dtype(candle_core::DType::U32)?
            .to_vec2::<u32>()?;
        let width = ids.first().map_or(0, Vec::len);
        let seqs: Vec<&[u32]> = ids
            .iter()
            .zip(&mask)
            .map(|(ids, mask)| &ids[..mask.iter().filter(|&&m| m != 0).count()])
            .collect();
        Ok((self.encode(&seqs)?, width))
    }
}

impl Encoder {
    /// The embeddings and blocks of a checkpoint, the blocks' linear layers
    /// in `precision`. int8 smooths the products that follow a LayerNorm,
    /// calibrated on the activations of an f32 copy of the encoder (the
    /// MLM head, with its 30,522-word projector, is not built for it).
    fn load(checkpoint: &Checkpoint, precision: Precision) -> Result<Encoder, Error> {
        let cfg = &checkpoint.config;
        let get = |name: &str| tensor(checkpoint, name);
        let linear = |prefix: &str| -> Result<Linear, Error> {
            Ok(Linear::new(
                &get(&format!("{prefix}.weight"))?,
                get(&format!("{prefix}.bias"))?,
                precision,
            ))
        };
        let input_max = match precision {
            Precision::Int8 => Encoder::load(checkpoint, Precision::F32)?.input_maxima()?,
            _ => vec![InputMax::default(); cfg.n_layers],
        };
        let scale = 1.0 / ((cfg.dim / cfg.n_heads) as f32).sqrt();
        let blocks = (0..cfg.n_layers)
            .map(|i| {
                let p = format!("distilbert.transformer.layer.{i}");
                let (mut weight, mut bias) = (Vec::new(), Vec::new());
                for (name, factor) in [("q_lin", scale), ("k_lin", 1.0), ("v_lin", 1.0)] {
                    let at = format!("{p}.attention.{name}");
                    weight.extend(get(&format!("{at}.weight"))?.iter().map(|v| v * factor));
                    bias.extend(get(&format!("{at}.bias"))?.iter().map(|v| v * factor));
                }
                let max = &input_max[i];
                let ffn = format!("{p}.ffn.lin1");
                Ok(Block {
                    qkv: Linear::smoothed(&weight, bias, precision, &max.attention),
                    out: linear(&format!("{p}.attention.out_lin"))?,
                    attention_norm: norm(checkpoint, &format!("{p}.sa_layer_norm"))?,
                    ffn_in: Linear::smoothed(
                        &get(&format!("{ffn}.weight"))?,
                        get(&format!("{ffn}.bias"))?,
                        precision,
                        &max.ffn,
                    ),
                    ffn_out: linear(&format!("{p}.ffn.lin2"))?,
                    output_norm: norm(checkpoint, &format!("{p}.output_layer_norm"))?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Encoder {
            config: cfg.clone(),
            word_embeddings: get("distilbert.embeddings.word_embeddings.weight")?,
            position_embeddings: get("distilbert.embeddings.position_embeddings.weight")?,
            embedding_norm: norm(checkpoint, "distilbert.embeddings.LayerNorm")?,
            blocks,
        })
    }

    /// Per block, the largest magnitude of each input channel of the
    /// products that follow its LayerNorms, over calibration inputs.
    ///
    /// The inputs are fixed pseudo-random token ids, not text: this engine
    /// has no tokenizer, and the channels that stand out are the same for
    /// any input. On the shipped model, smoothing calibrated this way came
    /// within 3% of smoothing calibrated on 200 real sentences, in the
    /// log-probabilities' error (`scripts/int8_calibration.py`).
    fn input_maxima(&self) -> Result<Vec<InputMax>, Error> {
        let len = self.config.max_position_embeddings.min(32);
        let vocab = self.config.vocab_size as u64;
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let sequences: Vec<Vec<u32>> = (0..8)
            .map(|_| {
                (0..len)
                    .map(|_| {
                        // A 64-bit LCG (Knuth's MMIX constants); the top bits.
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        ((state >> 33) % vocab) as u32
                    })
                    .collect()
            })
            .collect();
        let refs: Vec<&[u32]> = sequences.iter().map(Vec::as_slice).collect();
        let d = self.config.dim;
        let mut maxima = vec![
            InputMax {
                attention: vec![0.0; d],
                ffn: vec![0.0; d],
            };
            self.blocks.len()
        ];
        self.encode_observed(&refs, |site, rows| {
            let max = match site {
                Site::Attention(n) => &mut maxima[n].attention,
                Site::Ffn(n) => &mut maxima[n].ffn,
            };
            for row in rows.chunks_exact(d) {
                for (m, v) in max.iter_mut().zip(row) {
                    *m = m.max(v.abs());
                }
            }
        })?;
        Ok(maxima)
    }

    /// [`FusedMaskedLm::encode`], showing `observe` the rows that enter each
    /// block's attention and FFN.
    fn encode_observed(
        &self,
        sequences: &[&[u32]],
        mut observe: impl FnMut(Site, &[f32]),
    ) -> Result<Hidden, Error> {
        let cfg = &self.config;
        let d = cfg.dim;
        if let Some(long) = sequences
            .iter()
            .find(|s| s.len() > cfg.max_position_embeddings)
        {
            return Err(Error::InvalidArgument(format!(
                "a sequence of {} tokens is longer than the model's {} positions",
                long.len(),
                cfg.max_position_embeddings
            )));
        }
        let tokens: usize = sequences.iter().map(|s| s.len()).sum();
        let mut x = Vec::with_capacity(tokens * d);
        for seq in sequences {
            for (position, &id) in seq.iter().enumerate() {
                let id = id as usize;
                if id >= cfg.vocab_size {
                    return Err(Error::InvalidArgument(format!(
                        "token id {id} is outside the model's vocabulary of {}",
                        cfg.vocab_size
                    )));
                }
                let word = &self.word_embeddings[id * d..(id + 1) * d];
                let place = &self.position_embeddings[position * d..(position + 1) * d];
                x.extend(word.iter().zip(place).map(|(w, p)| w + p));
            }
        }
        self.embedding_norm.add_and_normalise(&mut x, &[]);
        let hidden = Hidden::new(x, d, sequences.iter().map(|s| s.len()));
        let mut x = hidden.rows;
        let seqs = hidden.seqs;
        // Scratch buffers, reused by every block.
        let mut qkv = vec![0f32; tokens * 3 * d];
        let mut context = vec![0f32; tokens * d];
        let mut branch = vec![0f32; tokens * d];
        let mut inner = vec![0f32; tokens * cfg.hidden_dim];
        for (n, block) in self.blocks.iter().enumerate() {
            observe(Site::Attention(n), &x);
            block.qkv.forward(&x, &mut qkv);
            ops::attention(&qkv, &seqs, cfg.n_heads, &mut context);
            block.out.forward(&context, &mut branch);
            block.attention_norm.add_and_normalise(&mut x, &branch);
            observe(Site::Ffn(n), &x);
            block.ffn_in.forward(&x, &mut inner);
            activate(&mut inner, cfg.activation);
            block.ffn_out.forward(&inner, &mut branch);
            block.output_norm.add_and_normalise(&mut x, &branch);
        }
        Ok(Hidden {
            rows: x,
            dim: d,
            seqs,
        })
    }
}

/// A checkpoint's tensor, flattened.
fn tensor(checkpoint: &Checkpoint, name: &str) -> Result<Vec<f32>, Error> {
    let tensor = checkpoint
        .tensors
        .get(name)
        .ok_or_else(|| Error::InvalidArgument(format!("the checkpoint has no tensor {name}")))?;
    Ok(tensor.flatten_all()?.to_vec1::<f32>()?)
}

/// The LayerNorm whose weight and bias are `{prefix}.weight` and `.bias`.
fn norm(checkpoint: &Checkpoint, prefix: &str) -> Result<Norm, Error> {
    Ok(Norm {
        weight: tensor(checkpoint, &format!("{prefix}.weight"))?,
        bias: tensor(checkpoint, &format!("{prefix}.bias"))?,
        eps: LAYER_NORM_EPS as f32,
    })
}

/// The MLM head's projector (the word embeddings, tied): in f32 for the
/// f32 engine, and in bf16 for the int8 and bf16 ones. Once the encoder
/// runs on int8 or bf16, the projector's 30,522 outputs per scored row
/// are the largest product left in f32. In bf16 the int8 engine differed
/// from f32 on 103 of 7,824 dev-set lines instead of 98, and the bf16
/// engine on 13 instead of 11 (docs/BENCHMARKS.md); int8 would be too
/// coarse for log-probabilities that tell candidates apart.
fn projector(word_embeddings: &[f32], bias: Vec<f32>, precision: Precision) -> Linear {
    let precision = match precision {
        Precision::F32 => Precision::F32,
        Precision::Int8 | Precision::Bf16 => Precision::Bf16,
    };
    Linear::new(word_embeddings, bias, precision)
}

/// Rows of `values` (each `size` wide), one block per sequence, as a
/// (batch, width, size) tensor with zeros at padding, on `like`'s device.
fn padded(
    values: &[f32],
    seqs: &[Range<usize>],
    width: usize,
    size: usize,
    like: &Tensor,
) -> Result<Tensor, Error> {
    let mut out = vec![0f32; seqs.len() * width * size];
    for (n, seq) in seqs.iter().enumerate() {
        out[n * width * size..][..seq.len() * size]
            .copy_from_slice(&values[seq.start * size..seq.end * size]);
    }
    Ok(Tensor::from_vec(
        out,
        (seqs.len(), width, size),
        like.device(),
    )?)
}

/// Makes a thread's scratch `buffer` at least `len` long; what it held may
/// stay. The int8 and bf16 layers keep their buffers of quantised rows and
/// sums from call to call: fresh zeroed ones for every task took 2–4% of
/// the corrector's time.
fn grow<T: Default + Clone>(buffer: &mut Vec<T>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, T::default());
    }
}

fn activate(x: &mut [f32], activation: Activation) {
    match activation {
        Activation::Gelu => ops::gelu_in_place(x),
        Activation::Relu => ops::relu_in_place(x),
    }
}
