//! AdamW with decoupled weight decay and savable state.
//!
//! Written here rather than taken from candle-nn: its AdamW decays every
//! variable (we exempt biases and LayerNorms, as BERT training does), and
//! its moments are private, so a run could not be resumed exactly.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};

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
            p.m = ((&p.m * c.beta1)? + (g * (1.0 - c.beta1))?)?;
            p.v = ((&p.v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let update = ((&p.m / bc1)? / ((&p.v / bc2)?.sqrt()? + c.eps)?)?;
            let theta = p.var.as_tensor();
            let theta = if p.decay {
                (theta * (1.0 - lr * c.weight_decay))?
            } else {
                theta.clone()
            };
            p.var.set(&(theta - (update * lr)?)?)?;
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
    use candle_core::{DType, Device};

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
        let _ = DType::F32;
    }
}
