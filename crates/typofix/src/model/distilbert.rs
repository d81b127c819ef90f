//! DistilBERT for masked language modelling, with Hugging Face's exact
//! semantics: learned position embeddings, post-LayerNorm blocks, erf GELU,
//! and a vocab_transform → GELU → vocab_layer_norm → vocab_projector head tied
//! to the word embeddings.
//!
//! Built on candle-core/candle-nn rather than candle-transformers' DistilBERT,
//! which uses tanh GELU and fixed epsilons, and leaves us no control over the
//! layout, freezing or training.
//!
//! Every `forward` takes a [`Pass`]: in training, dropout is on and LayerNorm
//! and softmax are composed from differentiable ops; in inference they use
//! candle's fused kernels, which have no backward pass.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{Embedding, Linear, VarBuilder};

use super::config::{Activation, Config, LAYER_NORM_EPS};
use super::kernels::{GeluOp, LayerNormOp};
use super::pass::Pass;

/// Value added to attention scores of padded keys.
const MASKED: f64 = -1e9;

/// LayerNorm with a differentiable path for training.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    pub fn load(vb: VarBuilder, size: usize, eps: f64) -> Result<LayerNorm> {
        Ok(LayerNorm {
            weight: vb.get_with_hints(size, "weight", candle_nn::Init::Const(1.0))?,
            bias: vb.get_with_hints(size, "bias", candle_nn::Init::Const(0.0))?,
            eps,
        })
    }

    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    pub fn forward(&self, x: &Tensor, pass: Pass) -> Result<Tensor> {
        if !pass.is_train() && x.is_contiguous() {
            return candle_nn::ops::layer_norm(x, &self.weight, &self.bias, self.eps as f32);
        }
        if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
            let x = x.contiguous()?;
            return x.apply_op3(
                &self.weight,
                &self.bias,
                LayerNormOp {
                    eps: self.eps as f32,
                },
            );
        }
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        normed
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

pub(super) fn activate(x: &Tensor, activation: Activation, pass: Pass) -> Result<Tensor> {
    match activation {
        Activation::Gelu if !pass.is_train() && x.device().is_cpu() && x.dtype() == DType::F32 => {
            x.contiguous()?.apply_op1(GeluOp)
        }
        Activation::Gelu => x.gelu_erf(),
        Activation::Relu => x.relu(),
    }
}

/// Word plus position embeddings, then LayerNorm.
#[derive(Debug, Clone)]
pub struct Embeddings {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    layer_norm: LayerNorm,
    dropout: f64,
}

impl Embeddings {
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<Embeddings> {
        Ok(Embeddings {
            word_embeddings: candle_nn::embedding(
                cfg.vocab_size,
                cfg.dim,
                vb.pp("word_embeddings"),
            )?,
            position_embeddings: candle_nn::embedding(
                cfg.max_position_embeddings,
                cfg.dim,
                vb.pp("position_embeddings"),
            )?,
            layer_norm: LayerNorm::load(vb.pp("LayerNorm"), cfg.dim, LAYER_NORM_EPS)?,
            dropout: cfg.dropout,
        })
    }

    pub fn word_embeddings(&self) -> &Tensor {
        self.word_embeddings.embeddings()
    }

    pub fn forward(&self, input_ids: &Tensor, pass: Pass) -> Result<Tensor> {
        let seq_len = input_ids.dim(1)?;
        let positions = Tensor::arange(0u32, seq_len as u32, input_ids.device())?;
        let words = self.word_embeddings.forward(input_ids)?;
        let positions = self.position_embeddings.forward(&positions)?;
        let x = self
            .layer_norm
            .forward(&words.broadcast_add(&positions)?, pass)?;
        pass.dropout(&x, self.dropout)
    }
}

/// Multi-head self-attention.
#[derive(Debug, Clone)]
pub struct Attention {
    q_lin: Linear,
    k_lin: Linear,
    v_lin: Linear,
    out_lin: Linear,
    n_heads: usize,
    dropout: f64,
}

impl Attention {
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<Attention> {
        let lin = |name| candle_nn::linear(cfg.dim, cfg.dim, vb.pp(name));
        Ok(Attention {
            q_lin: lin("q_lin")?,
            k_lin: lin("k_lin")?,
            v_lin: lin("v_lin")?,
            out_lin: lin("out_lin")?,
            n_heads: cfg.n_heads,
            dropout: cfg.attention_dropout,
        })
    }

    /// `x`: (batch, seq, dim); `mask_bias`: (batch, 1, 1, seq), 0 for real keys.
    pub fn forward(&self, x: &Tensor, mask_bias: &Tensor, pass: Pass) -> Result<Tensor> {
        let (b, s, d) = x.dims3()?;
        let dh = d / self.n_heads;
        let heads = |t: Tensor| {
            t.reshape((b, s, self.n_heads, dh))?
                .transpose(1, 2)?
                .contiguous()
        };
        // Hugging Face scales the queries before the product, not the scores.
        let q = heads((self.q_lin.forward(x)? / (dh as f64).sqrt())?)?;
        let k = heads(self.k_lin.forward(x)?)?;
        let v = heads(self.v_lin.forward(x)?)?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(mask_bias)?;
        let weights = if pass.is_train() {
            candle_nn::ops::softmax(&scores, D::Minus1)?
        } else {
            candle_nn::ops::softmax_last_dim(&scores)?
        };
        let weights = pass.dropout(&weights, self.dropout)?;
        let context = weights.matmul(&v)?.transpose(1, 2)?.reshape((b, s, d))?;
        self.out_lin.forward(&context)
    }
}

/// lin1 → activation → lin2.
#[derive(Debug, Clone)]
pub struct FeedForward {
    lin1: Linear,
    lin2: Linear,
    activation: Activation,
    dropout: f64,
}

impl FeedForward {
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<FeedForward> {
        Ok(FeedForward {
            lin1: candle_nn::linear(cfg.dim, cfg.hidden_dim, vb.pp("lin1"))?,
            lin2: candle_nn::linear(cfg.hidden_dim, cfg.dim, vb.pp("lin2"))?,
            activation: cfg.activation,
            dropout: cfg.dropout,
        })
    }

    pub fn forward(&self, x: &Tensor, pass: Pass) -> Result<Tensor> {
        let h = activate(&self.lin1.forward(x)?, self.activation, pass)?;
        pass.dropout(&self.lin2.forward(&h)?, self.dropout)
    }
}

/// One transformer block, post-LayerNorm.
#[derive(Debug, Clone)]
pub struct TransformerBlock {
    attention: Attention,
    sa_layer_norm: LayerNorm,
    ffn: FeedForward,
    output_layer_norm: LayerNorm,
}

impl TransformerBlock {
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<TransformerBlock> {
        Ok(TransformerBlock {
            attention: Attention::load(vb.pp("attention"), cfg)?,
            sa_layer_norm: LayerNorm::load(vb.pp("sa_layer_norm"), cfg.dim, LAYER_NORM_EPS)?,
            ffn: FeedForward::load(vb.pp("ffn"), cfg)?,
            output_layer_norm: LayerNorm::load(
                vb.pp("output_layer_norm"),
                cfg.dim,
                LAYER_NORM_EPS,
            )?,
        })
    }

    pub fn forward(&self, x: &Tensor, mask_bias: &Tensor, pass: Pass) -> Result<Tensor> {
        let attended = self.attention.forward(x, mask_bias, pass)?;
        let x = self.sa_layer_norm.forward(&(attended + x)?, pass)?;
        let transformed = self.ffn.forward(&x, pass)?;
        self.output_layer_norm.forward(&(transformed + x)?, pass)
    }
}

/// The encoder: embeddings and transformer blocks (`distilbert.*`).
#[derive(Debug, Clone)]
pub struct DistilBertModel {
    embeddings: Embeddings,
    layers: Vec<TransformerBlock>,
}

impl DistilBertModel {
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<DistilBertModel> {
        let layers = (0..cfg.n_layers)
            .map(|i| TransformerBlock::load(vb.pp(format!("transformer.layer.{i}")), cfg))
            .collect::<Result<Vec<_>>>()?;
        Ok(DistilBertModel {
            embeddings: Embeddings::load(vb.pp("embeddings"), cfg)?,
            layers,
        })
    }

    pub fn embeddings(&self) -> &Embeddings {
        &self.embeddings
    }

    /// The last hidden state, (batch, seq, dim). `attention_mask` is
    /// (batch, seq), 1 for real tokens and 0 for padding, of any dtype.
    pub fn forward(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        pass: Pass,
    ) -> Result<Tensor> {
        let mask_bias = mask_bias(attention_mask, self.embeddings.word_embeddings().dtype())?;
        let mut x = self.embeddings.forward(input_ids, pass)?;
        for layer in &self.layers {
            x = layer.forward(&x, &mask_bias, pass)?;
        }
        Ok(x)
    }
}

/// (batch, seq) 1/0 mask → (batch, 1, 1, seq) additive bias: 0 or `MASKED`.
fn mask_bias(attention_mask: &Tensor, dtype: DType) -> Result<Tensor> {
    let (b, s) = attention_mask.dims2()?;
    let keep = attention_mask.to_dtype(DType::F32)?;
    ((keep - 1.0)? * -MASKED)?
        .to_dtype(dtype)?
        .reshape((b, 1, 1, s))
}

/// DistilBERT with its masked-language-model head.
#[derive(Debug, Clone)]
pub struct DistilBertForMaskedLM {
    distilbert: DistilBertModel,
    vocab_transform: Linear,
    vocab_layer_norm: LayerNorm,
    vocab_projector: Linear,
    activation: Activation,
    config: Config,
}

impl DistilBertForMaskedLM {
    /// Loads from a builder rooted where Hugging Face's `DistilBertForMaskedLM`
    /// state dict is: `distilbert.*`, `vocab_transform.*`, `vocab_layer_norm.*`
    /// and `vocab_projector.bias` (the projector's weight is the word
    /// embeddings).
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<DistilBertForMaskedLM> {
        let distilbert = DistilBertModel::load(vb.pp("distilbert"), cfg)?;
        let tied = distilbert.embeddings.word_embeddings().clone();
        let bias = vb.get_with_hints(
            cfg.vocab_size,
            "vocab_projector.bias",
            candle_nn::Init::Const(0.0),
        )?;
        Ok(DistilBertForMaskedLM {
            distilbert,
            vocab_transform: candle_nn::linear(cfg.dim, cfg.dim, vb.pp("vocab_transform"))?,
            vocab_layer_norm: LayerNorm::load(vb.pp("vocab_layer_norm"), cfg.dim, LAYER_NORM_EPS)?,
            vocab_projector: Linear::new(tied, Some(bias)),
            activation: cfg.activation,
            config: cfg.clone(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn encoder(&self) -> &DistilBertModel {
        &self.distilbert
    }

    pub fn device(&self) -> &Device {
        self.vocab_transform.weight().device()
    }

    /// Logits over the vocabulary, (batch, seq, vocab).
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let hidden = self
            .distilbert
            .forward(input_ids, attention_mask, Pass::Infer)?;
        self.mlm_logits(&hidden, Pass::Infer)
    }

    /// The head alone, on hidden states of any leading shape (…, dim). Apply
    /// it to the masked positions only: the vocabulary projection dominates
    /// a small model's cost.
    pub fn mlm_logits(&self, hidden: &Tensor, pass: Pass) -> Result<Tensor> {
        let x = activate(
            &self.vocab_transform.forward(hidden)?,
            self.activation,
            pass,
        )?;
        let x = self.vocab_layer_norm.forward(&x, pass)?;
        self.vocab_projector.forward(&x)
    }
}
