//! Learning-rate schedules: linear warm-up, then linear or cosine decay.

use std::str::FromStr;

use typofix::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decay {
    Linear,
    Cosine,
    Constant,
}

impl FromStr for Decay {
    type Err = Error;

    fn from_str(s: &str) -> Result<Decay, Error> {
        match s {
            "linear" => Ok(Decay::Linear),
            "cosine" => Ok(Decay::Cosine),
            "constant" => Ok(Decay::Constant),
            _ => Err(Error::InvalidArgument(format!(
                "unknown schedule {s:?}; use linear, cosine or constant"
            ))),
        }
    }
}

/// The learning rate at each optimiser step.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schedule {
    pub peak: f64,
    pub warmup_steps: u64,
    pub total_steps: u64,
    pub decay: Decay,
}

impl Schedule {
    /// The rate for step `step` (0-based).
    pub fn at(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return self.peak * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
        let done = ((step - self.warmup_steps) as f64 / span).min(1.0);
        match self.decay {
            Decay::Linear => self.peak * (1.0 - done),
            Decay::Cosine => self.peak * 0.5 * (1.0 + (std::f64::consts::PI * done).cos()),
            Decay::Constant => self.peak,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_rises_to_the_peak_then_decay_falls_to_zero() {
        for decay in [Decay::Linear, Decay::Cosine] {
            let s = Schedule {
                peak: 1e-3,
                warmup_steps: 10,
                total_steps: 110,
                decay,
            };
            assert!((s.at(0) - 1e-4).abs() < 1e-12);
            assert!((s.at(9) - 1e-3).abs() < 1e-12);
            assert!((s.at(60) - 5e-4).abs() < 1e-9, "{decay:?}");
            assert!(s.at(110).abs() < 1e-12);
            assert!((10..110).all(|i| s.at(i + 1) <= s.at(i)));
        }
    }
}
