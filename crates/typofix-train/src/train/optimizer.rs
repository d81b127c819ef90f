//! AdamW with decoupled weight decay and savable state.
//!
//! Written here rather than taken from candle-nn: its AdamW decays every
//! variable (we exempt biases and LayerNorms, as BERT training does), and
//! its moments are private, so a run could not be resumed exactly.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{DType, Result, Tensor, Var};
use rayon::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-6,
            weight_decay: 0.01,
        }
    }
}

/// One trained variable and its moments.
struct Param {
    name: String,
    var: Var,
    m: Tensor,
    v: Tensor,
    decay: bool,
}

pub struct AdamW {
    params: Vec<Param>,
    config: AdamWConfig,
    steps: u64,
}

/// Biases and LayerNorm parameters are not decayed.
pub fn decays(name: &str) -> bool {
    !(name.ends_with(".bias") || name.contains("LayerNorm") || name.contains("layer_norm"))
}

impl AdamW {
    /// Optimises `vars` (sorted by name, so the order is stable).
    pub fn new(mut vars: Vec<(String, Var)>, config: AdamWConfig) -> Result<AdamW> {
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let params = vars
            .into_iter()
            .map(|(name, var)| {
                Ok(Param {
                    decay: decays(&name),
                    m: var.zeros_like()?,
                    v: var.zeros_like()?,
                    name,
                    var,
                })
            })
            .collect::<Result<_>>()?;
        Ok(AdamW {
            params,
            config,
            steps: 0,
        })
    }

    pub fn vars(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.params.iter().map(|p| (p.name.as_str(), &p.var))
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The gradient of each parameter in `grads`, in parameter order.
    pub fn gradients(&self, grads: &GradStore) -> Vec<Option<Tensor>> {
        self.params
            .iter()
            .map(|p| grads.get(&p.var).cloned())
            .collect()
    }

    /// Applies one update with learning rate `lr`.
    pub fn step(&mut self, grads: &[Option<Tensor>], lr: f64) -> Result<()> {
        self.steps += 1;
        let c = self.config;
        let t = self.steps as i32;
        let (bc1, bc2) = (1.0 - c.beta1.powi(t), 1.0 - c.beta2.powi(t));
        for (p, g) in self.params.iter_mut().zip(grads) {
            let Some(g) = g else { continue };
            let u = Update {
                lr,
                decay: if p.decay {
                    1.0 - lr * c.weight_decay
                } else {
                    1.0
                },
                bc1,
                bc2,
                config: c,
            };
            if p.var.device().is_cpu() && p.var.dtype() == DType::F32 {
                fused_update(p, g, &u)?;
            } else {
                tensor_update(p, g, &u)?;
            }
        }
        Ok(())
    }

    /// The moments, named `m.<param>` and `v.<param>`, for a checkpoint.
    pub fn state(&self) -> HashMap<String, Tensor> {
        self.params
            .iter()
            .flat_map(|p| {
                [
                    (format!("m.{}", p.name), p.m.clone()),
                    (format!("v.{}", p.name), p.v.clone()),
                ]
            })
            .collect()
    }

    /// Restores moments saved by [`AdamW::state`] after `steps` updates.
    pub fn restore(
        &mut self,
        state: &HashMap<String, Tensor>,
        steps: u64,
    ) -> std::result::Result<(), String> {
        for p in &mut self.params {
            for (key, slot) in [("m", &mut p.m), ("v", &mut p.v)] {
                let name = format!("{key}.{}", p.name);
                let saved = state
                    .get(&name)
                    .ok_or_else(|| format!("the optimizer state lacks {name}"))?;
                if saved.dims() != slot.dims() {
                    return Err(format!(
                        "{name} has shape {:?}, expected {:?}",
                        saved.dims(),
                        slot.dims()
                    ));
                }
                *slot = saved.clone();
            }
        }
        self.steps = steps;
        Ok(())
    }
}

/// The scalars of one update: learning rate, decay factor and bias
/// corrections.
struct Update {
    lr: f64,
    decay: f64,
    bc1: f64,
    bc2: f64,
    config: AdamWConfig,
}

/// One AdamW update with tensor ops, for any device.
fn tensor_update(p: &mut Param, g: &Tensor, u: &Update) -> Result<()> {
    let c = &u.config;
    p.m = ((&p.m * c.beta1)? + (g * (1.0 - c.beta1))?)?;
    p.v = ((&p.v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
    let update = ((&p.m / u.bc1)? / ((&p.v / u.bc2)?.sqrt()? + c.eps)?)?;
    let theta = (p.var.as_tensor() * u.decay)?;
    p.var.set(&(theta - (update * u.lr)?)?)
}

/// The same update for an f32 parameter on the CPU, in a single pass where
/// the tensor form makes about fifteen temporary tensors. Chunks are
/// independent, so the result does not depend on the thread count.
fn fused_update(p: &mut Param, g: &Tensor, u: &Update) -> Result<()> {
    let c = &u.config;
    let shape = p.var.shape().clone();
    let device = p.var.device().clone();
    let mut theta = p.var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
    let mut m = p.m.flatten_all()?.to_vec1::<f32>()?;
    let mut v = p.v.flatten_all()?.to_vec1::<f32>()?;
    let g = g.flatten_all()?.to_vec1::<f32>()?;
    let (b1, b2, eps) = (c.beta1 as f32, c.beta2 as f32, c.eps as f32);
    let (lr, decay, bc1, bc2) = (u.lr as f32, u.decay as f32, u.bc1 as f32, u.bc2 as f32);
    const CHUNK: usize = 1 << 14;
    theta
        .par_chunks_mut(CHUNK)
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK)))
        .for_each(|((theta, m), (v, g))| {
            for i in 0..theta.len() {
                m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                let update = (m[i] / bc1) / ((v[i] / bc2).sqrt() + eps);
                theta[i] = theta[i] * decay - lr * update;
            }
        });
    p.m = Tensor::from_vec(m, &shape, &device)?;
    p.v = Tensor::from_vec(v, &shape, &device)?;
    p.var.set(&Tensor::from_vec(theta, &shape, &device)?)
}

/// Scales `grads` so that their global L2 norm is at most `max_norm`;
/// returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut [Option<Tensor>], max_norm: f64) -> Result<f64> {
    let mut total = 0.0f64;
    for g in grads.iter().flatten() {
        total += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
    }
    let norm = total.sqrt();
    if max_norm > 0.0 && norm > max_norm {
        let scale = max_norm / (norm + 1e-6);
        for g in grads.iter_mut().flatten() {
            *g = (&*g * scale)?;
        }
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn adamw_minimises_a_quadratic_and_spares_biases_from_decay() {
        let w = Var::from_tensor(&Tensor::new(&[3.0f32, -2.0], &Device::Cpu).unwrap()).unwrap();
        let mut opt = AdamW::new(vec![("w".into(), w.clone())], AdamWConfig::default()).unwrap();
        for _ in 0..500 {
            let loss = w.as_tensor().sqr().unwrap().sum_all().unwrap();
            let grads = opt.gradients(&loss.backward().unwrap());
            opt.step(&grads, 0.05).unwrap();
        }
        let w = w.as_tensor().to_vec1::<f32>().unwrap();
        assert!(w.iter().all(|x| x.abs() < 0.05), "{w:?}");
        assert!(decays("vocab_transform.weight"));
        assert!(!decays("vocab_transform.bias"));
        assert!(!decays("distilbert.embeddings.LayerNorm.weight"));
        assert!(!decays("vocab_layer_norm.weight"));
    }

    #[test]
    fn the_fused_update_equals_the_tensor_form() {
        let dev = Device::Cpu;
        let start = Tensor::randn(0f32, 1.0, (37, 5), &dev).unwrap();
        let grads: Vec<Tensor> = (0..3)
            .map(|_| Tensor::randn(0f32, 1.0, (37, 5), &dev).unwrap())
            .collect();
        let run = |apply: fn(&mut Param, &Tensor, &Update) -> Result<()>| {
            let w = Var::from_tensor(&start).unwrap();
            let mut opt =
                AdamW::new(vec![("w.weight".into(), w.clone())], AdamWConfig::default()).unwrap();
            for (t, g) in grads.iter().enumerate() {
                let c = opt.config;
                let u = Update {
                    lr: 0.01,
                    decay: 1.0 - 0.01 * c.weight_decay,
                    bc1: 1.0 - c.beta1.powi(t as i32 + 1),
                    bc2: 1.0 - c.beta2.powi(t as i32 + 1),
                    config: c,
                };
                apply(&mut opt.params[0], g, &u).unwrap();
            }
            w.as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        let (a, b) = (run(fused_update), run(tensor_update));
        let diff = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-6, "{diff}");
    }

    #[test]
    fn clipping_bounds_the_global_norm() {
        let mut grads = vec![
            Some(Tensor::new(&[3.0f32], &Device::Cpu).unwrap()),
            Some(Tensor::new(&[4.0f32], &Device::Cpu).unwrap()),
            None,
        ];
        assert_eq!(clip_grad_norm(&mut grads, 1.0).unwrap(), 5.0);
        let after: f32 = grads
            .iter()
            .flatten()
            .map(|g| {
                g.sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap()
            })
            .sum();
        assert!((after.sqrt() - 1.0).abs() < 1e-4);
    }
}
