//! How corruptions are made and mixed: the ways within a kind, and the
//! kinds' weights.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use typofix::{Error, ErrorKind};

/// How a corruption was made, where a kind has more than one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditOp {
    /// Keyboard: a neighbour replaces the letter.
    Substitute,
    /// Keyboard: a neighbour is inserted beside the letter.
    Insert,
    /// Space: a space inside a word.
    Split,
    /// Space: the space between two words removed.
    Merge,
    /// Space: the space between two words moved by one letter.
    Shift,
}

impl EditOp {
    pub fn name(self) -> &'static str {
        match self {
            EditOp::Substitute => "substitute",
            EditOp::Insert => "insert",
            EditOp::Split => "split",
            EditOp::Merge => "merge",
            EditOp::Shift => "shift",
        }
    }
}

/// Relative weights of the error kinds; a kind of weight 0 is never made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KindWeights([f64; 7]);

impl KindWeights {
    /// Realistic misspellings weigh most: NeuSpell found realistic noise worth
    /// about nine points of correction rate over random character noise.
    pub const DEFAULT: KindWeights = KindWeights([2.0, 2.0, 1.0, 2.0, 1.5, 1.5, 4.0]);

    pub fn only(kinds: &[ErrorKind]) -> KindWeights {
        let mut w = [0.0; 7];
        for k in kinds {
            w[k.index()] = 1.0;
        }
        KindWeights(w)
    }

    pub fn get(&self, kind: ErrorKind) -> f64 {
        self.0[kind.index()]
    }

    pub fn set(&mut self, kind: ErrorKind, weight: f64) {
        self.0[kind.index()] = weight;
    }

    pub fn enabled(&self) -> impl Iterator<Item = ErrorKind> + '_ {
        ErrorKind::ALL.into_iter().filter(|k| self.get(*k) > 0.0)
    }
}

impl Default for KindWeights {
    fn default() -> Self {
        KindWeights::DEFAULT
    }
}

impl FromStr for KindWeights {
    type Err = Error;

    /// Parses `keyboard=2,drop,misspelling=4`: listed kinds only, weight 1
    /// unless given.
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut weights = KindWeights([0.0; 7]);
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, weight) = match item.split_once('=') {
                Some((name, w)) => {
                    let weight: f64 = w.trim().parse().map_err(|_| {
                        Error::InvalidArgument(format!("weight {w:?} of {name:?} is not a number"))
                    })?;
                    (name.trim(), weight)
                }
                None => (item, 1.0),
            };
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "weight of {name:?} must be a non-negative number, not {weight}"
                )));
            }
            weights.set(name.parse()?, weight);
        }
        if weights.enabled().next().is_none() {
            return Err(Error::InvalidArgument(
                "--kinds enables no kind: give at least one kind a positive weight".into(),
            ));
        }
        Ok(weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_from_a_kind_list() {
        let w: KindWeights = "keyboard=2, drop,misspelling=0.5".parse().unwrap();
        assert_eq!(w.get(ErrorKind::Keyboard), 2.0);
        assert_eq!(w.get(ErrorKind::Drop), 1.0);
        assert_eq!(w.get(ErrorKind::Misspelling), 0.5);
        assert_eq!(w.get(ErrorKind::Space), 0.0);
    }

    #[test]
    fn bad_weights_are_rejected_with_the_reason() {
        for bad in ["typo", "drop=x", "drop=-1", "drop=0", ""] {
            assert!(bad.parse::<KindWeights>().is_err(), "{bad:?}");
        }
        let err = "typo".parse::<KindWeights>().unwrap_err().to_string();
        assert!(err.contains("keyboard, drop, double"), "{err}");
    }
}
