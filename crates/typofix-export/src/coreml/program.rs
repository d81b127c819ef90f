//! DistilBERT-ANE as an ML Program: the ops coremltools emits when it
//! converts Apple's ml-ane-transformers model (see
//! `../shared/fixtures/tiny-distilbert/coremltools_reference_program_fp16.mil.txt`),
//! built straight from a checkpoint's weights.

use candle_core::{DType, Tensor};

use super::mil::{FunctionBuilder, Param, Var};
use super::proto::{DataType, Function};
use typofix::model::{Activation, Checkpoint, Config, ANE_LAYER_NORM_EPS, ANE_MASKED};
use typofix::Error;

use Param::{Many, One};

/// The built function and its weights.
pub struct BuiltProgram {
    pub function: Function,
    pub weights: Vec<u8>,
    pub op_counts: std::collections::BTreeMap<String, usize>,
}

/// Builds `main(input_ids, attention_mask) -> logits` for `seq_len` tokens,
/// computing in `dtype` (fp16 or fp32).
pub fn build(
    checkpoint: &Checkpoint,
    seq_len: usize,
    dtype: DataType,
    opset: &str,
) -> Result<BuiltProgram, Error> {
    let mut g = Graph {
        f: FunctionBuilder::new(),
        checkpoint,
        cfg: &checkpoint.config,
        dt: dtype,
        s: seq_len,
    };
    let input_ids = Var {
        name: "input_ids".into(),
        dtype: DataType::Int32,
        shape: vec![1, seq_len],
    };
    let attention_mask = Var {
        name: "attention_mask".into(),
        dtype: DataType::Int32,
        shape: vec![1, seq_len],
    };
    let logits = g.masked_lm(&input_ids, &attention_mask)?;
    let op_counts = g.f.op_counts();
    let (function, weights) = g.f.finish(&[input_ids, attention_mask], &[logits], opset);
    Ok(BuiltProgram {
        function,
        weights,
        op_counts,
    })
}

struct Graph<'a> {
    f: FunctionBuilder,
    checkpoint: &'a Checkpoint,
    cfg: &'a Config,
    /// The compute dtype.
    dt: DataType,
    s: usize,
}

impl Graph<'_> {
    fn tensor(&self, name: &str) -> Result<Vec<f32>, Error> {
        // Hugging Face checkpoints tie the projector to the word embeddings.
        let name = match name {
            "vocab_projector.weight" => "distilbert.embeddings.word_embeddings.weight",
            other => other,
        };
        let t: &Tensor = self.checkpoint.tensors.get(name).ok_or_else(|| {
            Error::InvalidArgument(format!("the checkpoint has no tensor {name}"))
        })?;
        Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
    }

    fn weight(&mut self, name: &str, shape: &[usize]) -> Result<Var, Error> {
        let data = self.tensor(name)?;
        let hint = name.replace('.', "_");
        Ok(self.f.floats(&hint, self.dt, shape, &data))
    }

    fn bc1s(&self, channels: usize) -> Vec<usize> {
        vec![1, channels, 1, self.s]
    }

    /// A Linear layer `prefix` as a 1×1 convolution on BC1S.
    fn conv(&mut self, x: &Var, prefix: &str, inputs: usize, outputs: usize) -> Result<Var, Error> {
        self.conv_named(x, prefix, inputs, outputs, None)
    }

    fn conv_named(
        &mut self,
        x: &Var,
        prefix: &str,
        inputs: usize,
        outputs: usize,
        name: Option<&str>,
    ) -> Result<Var, Error> {
        let weight = self.weight(&format!("{prefix}.weight"), &[outputs, inputs, 1, 1])?;
        let bias = self.weight(&format!("{prefix}.bias"), &[outputs])?;
        let f = &mut self.f;
        let strides = f.int_vec("strides", &[1, 1]);
        let pad_type = f.string("pad_type", "valid");
        let pad = f.int_vec("pad", &[0, 0, 0, 0]);
        let dilations = f.int_vec("dilations", &[1, 1]);
        let groups = f.int("groups", 1);
        let params = vec![
            ("x", One(x)),
            ("weight", One(&weight)),
            ("bias", One(&bias)),
            ("strides", One(&strides)),
            ("pad_type", One(&pad_type)),
            ("pad", One(&pad)),
            ("dilations", One(&dilations)),
            ("groups", One(&groups)),
        ];
        let shape = self.bc1s(outputs);
        Ok(match name {
            Some(name) => self.f.named_op("conv", name, params, self.dt, shape),
            None => self.f.op1("conv", "conv", params, self.dt, shape),
        })
    }

    /// Hugging Face's LayerNorm `prefix` over the channels of BC1S. Apple's
    /// bias-before-scale LayerNormANE is the same function; coremltools
    /// fuses it back into this op with the original weight and bias.
    fn layer_norm(&mut self, x: &Var, prefix: &str) -> Result<Var, Error> {
        let d = self.cfg.dim;
        let gamma = self.weight(&format!("{prefix}.weight"), &[d])?;
        let beta = self.weight(&format!("{prefix}.bias"), &[d])?;
        let f = &mut self.f;
        let axes = f.int_vec("axes", &[1]);
        let eps = f.scalar("epsilon", self.dt, ANE_LAYER_NORM_EPS as f32);
        Ok(f.op1(
            "layer_norm",
            "layer_norm",
            vec![
                ("x", One(x)),
                ("axes", One(&axes)),
                ("gamma", One(&gamma)),
                ("beta", One(&beta)),
                ("epsilon", One(&eps)),
            ],
            self.dt,
            x.shape.clone(),
        ))
    }

    fn activation(&mut self, x: &Var) -> Var {
        let f = &mut self.f;
        match self.cfg.activation {
            Activation::Gelu => {
                let mode = f.string("mode", "EXACT");
                f.op1(
                    "gelu",
                    "gelu",
                    vec![("x", One(x)), ("mode", One(&mode))],
                    self.dt,
                    x.shape.clone(),
                )
            }
            Activation::Relu => f.op1(
                "relu",
                "relu",
                vec![("x", One(x))],
                self.dt,
                x.shape.clone(),
            ),
        }
    }

    fn binary(&mut self, op: &str, x: &Var, y: &Var, shape: Vec<usize>) -> Var {
        let dtype = x.dtype;
        self.f
            .op1(op, op, vec![("x", One(x)), ("y", One(y))], dtype, shape)
    }

    fn expand_dims(&mut self, x: &Var, axis: i32) -> Var {
        let axes = self.f.int_vec("axes", &[axis]);
        let mut shape = x.shape.clone();
        shape.insert(axis as usize, 1);
        self.f.op1(
            "expand_dims",
            "expand_dims",
            vec![("x", One(x)), ("axes", One(&axes))],
            x.dtype,
            shape,
        )
    }

    fn transpose(&mut self, x: &Var, perm: &[usize]) -> Var {
        let p: Vec<i32> = perm.iter().map(|&p| p as i32).collect();
        let perm_var = self.f.int_vec("perm", &p);
        let shape = perm.iter().map(|&p| x.shape[p]).collect();
        self.f.op1(
            "transpose",
            "transpose",
            vec![("x", One(x)), ("perm", One(&perm_var))],
            x.dtype,
            shape,
        )
    }

    /// Splits `x` into `parts` equal pieces along `axis`.
    fn split(&mut self, x: &Var, parts: usize, axis: usize) -> Vec<Var> {
        let size = x.shape[axis] / parts;
        let sizes = self.f.int_vec("split_sizes", &vec![size as i32; parts]);
        let axis_var = self.f.int("axis", axis as i32);
        let mut shape = x.shape.clone();
        shape[axis] = size;
        let outputs = vec![(x.dtype, shape); parts];
        self.f.op(
            "split",
            "split",
            vec![
                ("x", One(x)),
                ("split_sizes", One(&sizes)),
                ("axis", One(&axis_var)),
            ],
            &outputs,
        )
    }

    fn einsum(&mut self, a: &Var, b: &Var, equation: &str, shape: Vec<usize>) -> Var {
        let eq = self.f.string("equation", equation);
        self.f.op1(
            "einsum",
            "einsum",
            vec![("values", Many(vec![a, b])), ("equation", One(&eq))],
            self.dt,
            shape,
        )
    }

    /// Embeddings: gather, plus the position table (constant for a fixed
    /// length), to BC1S, LayerNorm.
    fn embeddings(&mut self, input_ids: &Var) -> Result<Var, Error> {
        let (v, d, s) = (self.cfg.vocab_size, self.cfg.dim, self.s);
        let table = self.weight("distilbert.embeddings.word_embeddings.weight", &[v, d])?;
        let positions = self.tensor("distilbert.embeddings.position_embeddings.weight")?;
        let positions = self.f.floats(
            "position_embeddings",
            self.dt,
            &[1, s, d],
            &positions[..s * d],
        );
        let axis = self.f.int("axis", 0);
        let batch_dims = self.f.int("batch_dims", 0);
        let words = self.f.op1(
            "gather",
            "input_embeds",
            vec![
                ("x", One(&table)),
                ("indices", One(input_ids)),
                ("axis", One(&axis)),
                ("batch_dims", One(&batch_dims)),
            ],
            self.dt,
            vec![1, s, d],
        );
        let summed = self.binary("add", &words, &positions, vec![1, s, d]);
        let channels_first = self.transpose(&summed, &[0, 2, 1]);
        let x = self.expand_dims(&channels_first, 2);
        self.layer_norm(&x, "distilbert.embeddings.LayerNorm")
    }

    /// The (1, S, 1, 1) additive mask on the key axis: (1 − mask) · −1e4.
    fn mask_bias(&mut self, attention_mask: &Var) -> Var {
        let s = self.s;
        let one = self.f.int("one", 1);
        let padding = self.binary("sub", &one, attention_mask, vec![1, s]);
        let dtype = self.f.string(
            "dtype",
            if self.dt == DataType::Float16 {
                "fp16"
            } else {
                "fp32"
            },
        );
        let padding = self.f.op1(
            "cast",
            "cast",
            vec![("x", One(&padding)), ("dtype", One(&dtype))],
            self.dt,
            vec![1, s],
        );
        let masked = self.f.scalar("masked", self.dt, ANE_MASKED as f32);
        let bias = self.binary("mul", &padding, &masked, vec![1, s]);
        let bias = self.expand_dims(&bias, 2);
        self.expand_dims(&bias, 2)
    }

    fn attention(&mut self, x: &Var, mask: &Var, prefix: &str) -> Result<Var, Error> {
        let (d, h, s) = (self.cfg.dim, self.cfg.n_heads, self.s);
        let dh = d / h;
        let q = self.conv(x, &format!("{prefix}.q_lin"), d, d)?;
        let k = self.conv(x, &format!("{prefix}.k_lin"), d, d)?;
        let v = self.conv(x, &format!("{prefix}.v_lin"), d, d)?;
        let qs = self.split(&q, h, 1);
        let kt = self.transpose(&k, &[0, 3, 2, 1]);
        let ks = self.split(&kt, h, 3);
        let vs = self.split(&v, h, 1);
        let scale = self.f.scalar("scale", self.dt, (dh as f32).powf(-0.5));
        let mut contexts = Vec::with_capacity(h);
        for i in 0..h {
            // The one einsum form MIL accepts: keys on axis 1, then softmax
            // over them.
            let scores = self.einsum(&ks[i], &qs[i], "bkhc,bchq->bkhq", vec![1, s, 1, s]);
            let scores = self.binary("mul", &scores, &scale, vec![1, s, 1, s]);
            let scores = self.binary("add", &scores, mask, vec![1, s, 1, s]);
            let axis = self.f.int("axis", 1);
            let weights = self.f.op1(
                "softmax",
                "softmax",
                vec![("x", One(&scores)), ("axis", One(&axis))],
                self.dt,
                vec![1, s, 1, s],
            );
            contexts.push(self.einsum(&vs[i], &weights, "bchk,bkhq->bchq", vec![1, dh, 1, s]));
        }
        let axis = self.f.int("axis", 1);
        let interleave = self.f.boolean("interleave", false);
        let context = self.f.op1(
            "concat",
            "concat",
            vec![
                ("values", Many(contexts.iter().collect())),
                ("axis", One(&axis)),
                ("interleave", One(&interleave)),
            ],
            self.dt,
            self.bc1s(d),
        );
        self.conv(&context, &format!("{prefix}.out_lin"), d, d)
    }

    fn block(&mut self, x: &Var, mask: &Var, layer: usize) -> Result<Var, Error> {
        let (d, hidden) = (self.cfg.dim, self.cfg.hidden_dim);
        let p = format!("distilbert.transformer.layer.{layer}");
        let attended = self.attention(x, mask, &format!("{p}.attention"))?;
        let residual = self.binary("add", &attended, x, self.bc1s(d));
        let x = self.layer_norm(&residual, &format!("{p}.sa_layer_norm"))?;
        let h = self.conv(&x, &format!("{p}.ffn.lin1"), d, hidden)?;
        let h = self.activation(&h);
        let h = self.conv(&h, &format!("{p}.ffn.lin2"), hidden, d)?;
        let residual = self.binary("add", &h, &x, self.bc1s(d));
        self.layer_norm(&residual, &format!("{p}.output_layer_norm"))
    }

    fn masked_lm(&mut self, input_ids: &Var, attention_mask: &Var) -> Result<Var, Error> {
        let (d, v) = (self.cfg.dim, self.cfg.vocab_size);
        let mut x = self.embeddings(input_ids)?;
        let mask = self.mask_bias(attention_mask);
        for layer in 0..self.cfg.n_layers {
            x = self.block(&x, &mask, layer)?;
        }
        let x = self.conv(&x, "vocab_transform", d, d)?;
        let x = self.activation(&x);
        let x = self.layer_norm(&x, "vocab_layer_norm")?;
        // The tied projector is stored again as its own [V, D, 1, 1] blob,
        // as coremltools does.
        self.conv_named(&x, "vocab_projector", d, v, Some("logits"))
    }
}
