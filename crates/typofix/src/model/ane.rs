//! DistilBERT for masked language modelling in the Apple Neural Engine's
//! layout, after Apple's ml-ane-transformers (see
//! `../shared/docs/ane-distilbert.md`), running on candle.
//!
//! Activations are BC1S tensors, (batch, channels, 1, sequence), because
//! the Neural Engine keeps the last axis contiguous and 64-byte aligned:
//! - every Linear is a 1×1 Conv2d with weights `[out, in, 1, 1]`;
//! - LayerNorm normalises over the channels (axis 1), adds its bias before
//!   the scale, as Apple's `LayerNormANE` does, with an epsilon that fp16
//!   can represent;
//! - attention is split per head into the two contractions that Core ML's
//!   `einsum` accepts, with the padding mask on the key axis.
//!
//! This is the computation that `export coreml` writes as an ML Program, so
//! running it here checks the layout's math on CPU. The checkpoint it
//! loads comes from [`super::AneCheckpoint`].

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::VarBuilder;

use super::config::{Activation, Config};

/// LayerNorm epsilon of the ANE form: HF's 1e-12 underflows fp16, so Apple
/// uses 1e-7 (fp16's subnormal 0x0002 once converted).
pub const ANE_LAYER_NORM_EPS: f64 = 1e-7;

/// Additive bias for padded keys: Apple's value, finite in fp16.
pub const ANE_MASKED: f64 = -1e4;

/// LayerNorm over the channels of a BC1S tensor. Apple's order: the bias
/// is added before the scale, `(x̂ + bias) · weight`.
#[derive(Debug, Clone)]
pub struct LayerNormAne {
    /// (1, C, 1, 1)
    weight: Tensor,
    /// (1, C, 1, 1), in Apple's order: HF's bias divided by the weight.
    bias: Tensor,
    eps: f64,
}

impl LayerNormAne {
    pub fn load(vb: VarBuilder, channels: usize, eps: f64) -> Result<LayerNormAne> {
        let get = |name| {
            vb.get(channels, name)
                .and_then(|t| t.reshape((1, channels, 1, 1)))
        };
        Ok(LayerNormAne {
            weight: get("weight")?,
            bias: get("bias")?,
            eps,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mean = x.mean_keepdim(1)?;
        let centred = x.broadcast_sub(&mean)?;
        let rstd = (centred.sqr()?.mean_keepdim(1)? + self.eps)?
            .sqrt()?
            .recip()?;
        centred
            .broadcast_mul(&rstd)?
            .broadcast_add(&self.bias)?
            .broadcast_mul(&self.weight)
    }
}

/// A 1×1 Conv2d on BC1S: each sequence position is a matrix-vector product
/// with the `[out, in]` weight.
#[derive(Debug, Clone)]
pub struct Conv1x1 {
    /// `[out, in]`: the `[out, in, 1, 1]` weight with its unit axes dropped.
    weight: Tensor,
    /// `[out, 1]`, broadcast over the sequence.
    bias: Tensor,
}

impl Conv1x1 {
    pub fn load(vb: VarBuilder, inputs: usize, outputs: usize) -> Result<Conv1x1> {
        Ok(Conv1x1 {
            weight: vb
                .get((outputs, inputs, 1, 1), "weight")?
                .reshape((outputs, inputs))?,
            bias: vb.get(outputs, "bias")?.reshape((outputs, 1))?,
        })
    }

    /// (B, in, 1, S) → (B, out, 1, S).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, _, s) = x.dims4()?;
        let x = x.contiguous()?;
        // One (out, in) × (in, S) product per batch row: the weight is
        // shared, never copied per row as a batched matmul would.
        let rows = (0..b)
            .map(|i| {
                self.weight
                    .matmul(&x.get(i)?.reshape((c, s))?)?
                    .broadcast_add(&self.bias)
            })
            .collect::<Result<Vec<_>>>()?;
        let out = self.weight.dim(0)?;
        Tensor::stack(&rows, 0)?.reshape((b, out, 1, s))
    }
}

fn activate(x: &Tensor, activation: Activation) -> Result<Tensor> {
    match activation {
        Activation::Gelu => x.gelu_erf(),
        Activation::Relu => x.relu(),
    }
}

/// Multi-head self-attention, split per head.
#[derive(Debug, Clone)]
pub struct AttentionAne {
    q_lin: Conv1x1,
    k_lin: Conv1x1,
    v_lin: Conv1x1,
    out_lin: Conv1x1,
    n_heads: usize,
}

impl AttentionAne {
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<AttentionAne> {
        let conv = |name| Conv1x1::load(vb.pp(name), cfg.dim, cfg.dim);
        Ok(AttentionAne {
            q_lin: conv("q_lin")?,
            k_lin: conv("k_lin")?,
            v_lin: conv("v_lin")?,
            out_lin: conv("out_lin")?,
            n_heads: cfg.n_heads,
        })
    }

    /// `x`: (B, D, 1, S); `mask_bias`: (B, S, 1, 1), on the key axis.
    pub fn forward(&self, x: &Tensor, mask_bias: &Tensor) -> Result<Tensor> {
        let (b, d, _, s) = x.dims4()?;
        let dh = d / self.n_heads;
        let scale = (dh as f64).powf(-0.5);
        let (q, k, v) = (
            self.q_lin.forward(x)?,
            self.k_lin.forward(x)?,
            self.v_lin.forward(x)?,
        );
        // (B, S_k, S_q): the key axis is where the mask and softmax apply.
        let mask = mask_bias.reshape((b, s, 1))?;
        let head = |t: &Tensor, h: usize| t.narrow(1, h * dh, dh)?.reshape((b, dh, s));
        let contexts = (0..self.n_heads)
            .map(|h| {
                let (q_h, k_h, v_h) = (head(&q, h)?, head(&k, h)?, head(&v, h)?);
                // einsum("bkhc,bchq->bkhq", kᵀ, q): scores with keys on axis 1.
                let scores = (k_h.transpose(1, 2)?.matmul(&q_h)? * scale)?.broadcast_add(&mask)?;
                let weights = candle_nn::ops::softmax(&scores, 1)?;
                // einsum("bchk,bkhq->bchq", v, w): the context, channels first.
                v_h.matmul(&weights)
            })
            .collect::<Result<Vec<_>>>()?;
        let context = Tensor::cat(&contexts, 1)?.reshape((b, d, 1, s))?;
        self.out_lin.forward(&context)
    }
}

/// lin1 → activation → lin2, as 1×1 convolutions.
#[derive(Debug, Clone)]
pub struct FeedForwardAne {
    lin1: Conv1x1,
    lin2: Conv1x1,
    activation: Activation,
}

impl FeedForwardAne {
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<FeedForwardAne> {
        Ok(FeedForwardAne {
            lin1: Conv1x1::load(vb.pp("lin1"), cfg.dim, cfg.hidden_dim)?,
            lin2: Conv1x1::load(vb.pp("lin2"), cfg.hidden_dim, cfg.dim)?,
            activation: cfg.activation,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.lin2
            .forward(&activate(&self.lin1.forward(x)?, self.activation)?)
    }
}

/// One post-LayerNorm transformer block on BC1S.
#[derive(Debug, Clone)]
pub struct TransformerBlockAne {
    attention: AttentionAne,
    sa_layer_norm: LayerNormAne,
    ffn: FeedForwardAne,
    output_layer_norm: LayerNormAne,
}

impl TransformerBlockAne {
    pub fn load(vb: VarBuilder, cfg: &Config, eps: f64) -> Result<TransformerBlockAne> {
        Ok(TransformerBlockAne {
            attention: AttentionAne::load(vb.pp("attention"), cfg)?,
            sa_layer_norm: LayerNormAne::load(vb.pp("sa_layer_norm"), cfg.dim, eps)?,
            ffn: FeedForwardAne::load(vb.pp("ffn"), cfg)?,
            output_layer_norm: LayerNormAne::load(vb.pp("output_layer_norm"), cfg.dim, eps)?,
        })
    }

    pub fn forward(&self, x: &Tensor, mask_bias: &Tensor) -> Result<Tensor> {
        let x = self
            .sa_layer_norm
            .forward(&(self.attention.forward(x, mask_bias)? + x)?)?;
        self.output_layer_norm
            .forward(&(self.ffn.forward(&x)? + x)?)
    }
}

/// DistilBERT with its MLM head, in the ANE layout. Tensor names are
/// Hugging Face's, so a converted state dict maps one to one.
#[derive(Debug, Clone)]
pub struct AneDistilBertForMaskedLM {
    word_embeddings: Tensor,
    position_embeddings: Tensor,
    embeddings_layer_norm: LayerNormAne,
    layers: Vec<TransformerBlockAne>,
    vocab_transform: Conv1x1,
    vocab_layer_norm: LayerNormAne,
    vocab_projector: Conv1x1,
    activation: Activation,
    config: Config,
}

impl AneDistilBertForMaskedLM {
    pub fn load(vb: VarBuilder, cfg: &Config, eps: f64) -> Result<AneDistilBertForMaskedLM> {
        let enc = vb.pp("distilbert");
        let emb = enc.pp("embeddings");
        let layers = (0..cfg.n_layers)
            .map(|i| TransformerBlockAne::load(enc.pp(format!("transformer.layer.{i}")), cfg, eps))
            .collect::<Result<Vec<_>>>()?;
        Ok(AneDistilBertForMaskedLM {
            word_embeddings: emb.get((cfg.vocab_size, cfg.dim), "word_embeddings.weight")?,
            position_embeddings: emb.get(
                (cfg.max_position_embeddings, cfg.dim),
                "position_embeddings.weight",
            )?,
            embeddings_layer_norm: LayerNormAne::load(emb.pp("LayerNorm"), cfg.dim, eps)?,
            layers,
            vocab_transform: Conv1x1::load(vb.pp("vocab_transform"), cfg.dim, cfg.dim)?,
            vocab_layer_norm: LayerNormAne::load(vb.pp("vocab_layer_norm"), cfg.dim, eps)?,
            vocab_projector: Conv1x1::load(vb.pp("vocab_projector"), cfg.dim, cfg.vocab_size)?,
            activation: cfg.activation,
            config: cfg.clone(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn device(&self) -> &Device {
        self.word_embeddings.device()
    }

    /// The encoder's output, BC1S (B, D, 1, S). `attention_mask` is
    /// (B, S), 1 for real tokens, of any dtype.
    pub fn encode(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let (b, s) = input_ids.dims2()?;
        let d = self.config.dim;
        let words = self
            .word_embeddings
            .index_select(&input_ids.flatten_all()?, 0)?
            .reshape((b, s, d))?;
        let positions = self.position_embeddings.narrow(0, 0, s)?;
        // (B, S, D) → (B, D, 1, S), as the converted program does it.
        let x = words
            .broadcast_add(&positions)?
            .transpose(1, 2)?
            .unsqueeze(2)?
            .contiguous()?;
        let mut x = self.embeddings_layer_norm.forward(&x)?;
        let keep = attention_mask.to_dtype(DType::F32)?;
        let mask_bias = ((keep - 1.0)? * -ANE_MASKED)?
            .to_dtype(x.dtype())?
            .reshape((b, s, 1, 1))?;
        for layer in &self.layers {
            x = layer.forward(&x, &mask_bias)?;
        }
        Ok(x)
    }

    /// The MLM head on BC1S hidden states: (B, D, 1, S) → (B, V, 1, S).
    pub fn head(&self, hidden: &Tensor) -> Result<Tensor> {
        let x = activate(&self.vocab_transform.forward(hidden)?, self.activation)?;
        self.vocab_projector
            .forward(&self.vocab_layer_norm.forward(&x)?)
    }

    /// Logits in the Core ML program's layout, (B, V, 1, S).
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        self.head(&self.encode(input_ids, attention_mask)?)
    }
}
