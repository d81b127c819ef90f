//! How a forward pass runs: inference, or training with seeded dropout.

use std::sync::Mutex;

use candle_core::{Result, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A forward pass's mode.
#[derive(Clone, Copy)]
pub enum Pass<'a> {
    /// Fused kernels, no dropout.
    Infer,
    /// Differentiable ops, with dropout masks drawn from the source.
    Train(&'a DropoutSource),
}

impl Pass<'_> {
    pub fn is_train(&self) -> bool {
        matches!(self, Pass::Train(_))
    }

    pub(crate) fn dropout(&self, x: &Tensor, p: f64) -> Result<Tensor> {
        match self {
            Pass::Train(source) if p > 0.0 => source.apply(x, p),
            _ => Ok(x.clone()),
        }
    }
}

/// Dropout masks from a seeded generator. Candle's own dropout draws from an
/// unseeded thread-local generator, which would make training runs, and so
/// resuming one, irreproducible.
pub struct DropoutSource {
    rng: Mutex<ChaCha8Rng>,
}

impl DropoutSource {
    pub fn new(seed: u64) -> DropoutSource {
        DropoutSource {
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
        }
    }

    fn apply(&self, x: &Tensor, p: f64) -> Result<Tensor> {
        let keep = 1.0 - p;
        let scale = (1.0 / keep) as f32;
        let threshold = (keep * u32::MAX as f64) as u32;
        let mask: Vec<f32> = {
            let mut rng = self.rng.lock().expect("no panic while drawing");
            (0..x.elem_count())
                .map(|_| {
                    if rng.random::<u32>() < threshold {
                        scale
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        x * mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn dropout_is_reproducible_from_its_seed_and_keeps_the_expectation() {
        let x = Tensor::ones(10_000, candle_core::DType::F32, &Device::Cpu).unwrap();
        let draw = |seed| {
            Pass::Train(&DropoutSource::new(seed))
                .dropout(&x, 0.1)
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        let (a, b, c) = (draw(1), draw(1), draw(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let dropped = a.iter().filter(|&&v| v == 0.0).count();
        assert!((800..1200).contains(&dropped), "{dropped}");
        let mean: f32 = a.iter().sum::<f32>() / a.len() as f32;
        assert!((mean - 1.0).abs() < 0.05, "{mean}");
        assert_eq!(
            Pass::Infer
                .dropout(&x, 0.1)
                .unwrap()
                .to_vec1::<f32>()
                .unwrap(),
            vec![1.0; 10_000]
        );
    }
}
