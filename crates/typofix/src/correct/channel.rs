//! The error (noisy-channel) model: how likely a writer who meant `intended`
//! typed `observed`.
//!
//! Its parameters are the per-word rates of each error kind, estimated from
//! generated data (`typofix-train`'s `DatasetStats::channel_model`), plus a rate for edits
//! outside the generator's kinds. Each edit is priced as its kind's rate
//! spread over the places it could happen, so a keyboard slip (one of a few
//! neighbour keys) is cheaper than a random substitution (one of 26 letters).
//! Hand-written because this is the product's own model, not a library's.

use serde::{Deserialize, Serialize};

use crate::keyboard::neighbours;
use crate::ErrorKind;

/// Per-word probabilities of each kind of error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChannelModel {
    pub keyboard: f64,
    pub drop: f64,
    pub double: f64,
    pub transpose: f64,
    pub space: f64,
    pub confusion: f64,
    pub misspelling: f64,
    /// Substitutions and insertions of letters that are not keyboard
    /// neighbours: what human misspellings outside the tables look like.
    pub other: f64,
}

impl Default for ChannelModel {
    /// The rates realised by `typofix data generate` at its default 15% rate
    /// (docs/DATA.md), scaled to a 5% error rate, which is closer to real
    /// text.
    fn default() -> Self {
        let scale = 5.0 / 15.0;
        ChannelModel {
            keyboard: 0.0239 * scale,
            drop: 0.0231 * scale,
            double: 0.0119 * scale,
            transpose: 0.0229 * scale,
            space: 0.0259 * scale,
            confusion: 0.0040 * scale,
            misspelling: 0.0386 * scale,
            other: 0.01 * scale,
        }
    }
}

/// One priced difference between the observed and the intended spelling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priced {
    /// log P(observed | intended).
    pub log_prob: f64,
    /// The kind of the costliest edit, for reporting.
    pub kind: ErrorKind,
}

impl ChannelModel {
    /// The model for per-word rates of each kind (as measured on generated
    /// data), scaled so that they sum to `error_rate` (the generator's rate is
    /// a choice, not a property of real text).
    pub fn from_rates(rate: impl Fn(ErrorKind) -> f64, error_rate: f64) -> ChannelModel {
        let mut model = ChannelModel {
            keyboard: rate(ErrorKind::Keyboard),
            drop: rate(ErrorKind::Drop),
            double: rate(ErrorKind::Double),
            transpose: rate(ErrorKind::Transpose),
            space: rate(ErrorKind::Space),
            confusion: rate(ErrorKind::Confusion),
            misspelling: rate(ErrorKind::Misspelling),
            other: 0.0,
        };
        // Human misspellings outside any table happen about as often as
        // those in it: the tables are samples.
        model.other = model.misspelling;
        let total = model.total();
        if total > 0.0 {
            model.scale(error_rate / total);
        }
        model
    }

    fn scale(&mut self, factor: f64) {
        for r in [
            &mut self.keyboard,
            &mut self.drop,
            &mut self.double,
            &mut self.transpose,
            &mut self.space,
            &mut self.confusion,
            &mut self.misspelling,
            &mut self.other,
        ] {
            *r *= factor;
        }
    }

    /// The probability that a word has an error.
    pub fn total(&self) -> f64 {
        self.keyboard
            + self.drop
            + self.double
            + self.transpose
            + self.space
            + self.confusion
            + self.misspelling
            + self.other
    }

    /// log P(a word is typed as meant).
    pub fn log_unchanged(&self) -> f64 {
        (1.0 - self.total()).max(1e-6).ln()
    }

    /// log P(`observed` | `intended`) for a word confused with another.
    pub fn log_confusion(&self, alternatives: usize) -> f64 {
        (self.confusion / alternatives.max(1) as f64).ln()
    }

    /// log P(`observed` | `intended`) when a misspelling table says people
    /// write `intended` as `observed` with the given share of its misspellings.
    pub fn log_known_misspelling(&self, share: f64) -> f64 {
        (self.misspelling * share.clamp(1e-6, 1.0)).ln()
    }

    /// Prices the cheapest sequence of edits that turns `intended` into
    /// `observed` (both lower-case; a space marks a word boundary), by a
    /// Damerau-Levenshtein alignment whose operations cost their kind's
    /// negative log-probability. `None` when they are equal.
    pub fn price(&self, observed: &str, intended: &str) -> Option<Priced> {
        if observed == intended {
            return None;
        }
        let o: Vec<char> = observed.chars().collect();
        let t: Vec<char> = intended.chars().collect();
        let len = t.len().max(1) as f64;
        let cost = |p: f64| -(p / len).max(1e-12).ln();
        let c_space = cost(self.space);
        let c_drop = cost(self.drop);
        let c_double = cost(self.double);
        let c_transpose = cost(self.transpose);
        let c_keyboard = cost(self.keyboard / 6.0);
        let c_other = cost(self.other / 26.0);
        // Writers who spell by ear swap vowels far more than other letters
        // (seperate, definately): one of five, not one of 26.
        let c_vowel = cost(self.other / 5.0);

        // d[i][j]: cost of typing t[..i] as o[..j]; k[i][j]: the kind of
        // the costliest edit on that path.
        let (n, m) = (t.len(), o.len());
        let mut d = vec![vec![f64::INFINITY; m + 1]; n + 1];
        let mut k = vec![vec![(0.0f64, ErrorKind::Misspelling); m + 1]; n + 1];
        d[0][0] = 0.0;
        let mut relax =
            |d: &mut Vec<Vec<f64>>, i: usize, j: usize, from: (usize, usize), c: f64, kind| {
                let total = d[from.0][from.1] + c;
                if total < d[i][j] {
                    d[i][j] = total;
                    let prev = k[from.0][from.1];
                    k[i][j] = if c > prev.0 { (c, kind) } else { prev };
                }
            };
        for i in 0..=n {
            for j in 0..=m {
                if i > 0 && j > 0 {
                    let (ti, oj) = (t[i - 1], o[j - 1]);
                    if ti == oj {
                        relax(&mut d, i, j, (i - 1, j - 1), 0.0, ErrorKind::Misspelling);
                    } else if ti == ' ' || oj == ' ' {
                        // A boundary swapped for a letter is two edits.
                    } else if neighbours(ti).is_some_and(|ns| ns.contains(&(oj as u8))) {
                        relax(
                            &mut d,
                            i,
                            j,
                            (i - 1, j - 1),
                            c_keyboard,
                            ErrorKind::Keyboard,
                        );
                    } else if is_vowel(ti) && is_vowel(oj) {
                        relax(
                            &mut d,
                            i,
                            j,
                            (i - 1, j - 1),
                            c_vowel,
                            ErrorKind::Misspelling,
                        );
                    } else {
                        relax(
                            &mut d,
                            i,
                            j,
                            (i - 1, j - 1),
                            c_other,
                            ErrorKind::Misspelling,
                        );
                    }
                }
                if i > 0 {
                    // t[i-1] was not typed.
                    let c = if t[i - 1] == ' ' { c_space } else { c_drop };
                    let kind = if t[i - 1] == ' ' {
                        ErrorKind::Space
                    } else {
                        ErrorKind::Drop
                    };
                    relax(&mut d, i, j, (i - 1, j), c, kind);
                }
                if j > 0 {
                    // o[j-1] was typed in excess.
                    let oj = o[j - 1];
                    let (c, kind) = if oj == ' ' {
                        (c_space, ErrorKind::Space)
                    } else if (i > 0 && t[i - 1] == oj) || (j > 1 && o[j - 2] == oj) {
                        (c_double, ErrorKind::Double)
                    } else if i > 0
                        && neighbours(t[i - 1]).is_some_and(|ns| ns.contains(&(oj as u8)))
                    {
                        (c_keyboard, ErrorKind::Keyboard)
                    } else {
                        (c_other, ErrorKind::Misspelling)
                    };
                    relax(&mut d, i, j, (i, j - 1), c, kind);
                }
                if i > 1
                    && j > 1
                    && t[i - 1] == o[j - 2]
                    && t[i - 2] == o[j - 1]
                    && t[i - 1] != t[i - 2]
                {
                    let kind = if t[i - 1] == ' ' || t[i - 2] == ' ' {
                        ErrorKind::Space
                    } else {
                        ErrorKind::Transpose
                    };
                    let c = if kind == ErrorKind::Space {
                        c_space
                    } else {
                        c_transpose
                    };
                    relax(&mut d, i, j, (i - 2, j - 2), c, kind);
                }
            }
        }
        Some(Priced {
            log_prob: -d[n][m],
            kind: k[n][m].1,
        })
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(observed: &str, intended: &str) -> ErrorKind {
        ChannelModel::default()
            .price(observed, intended)
            .unwrap()
            .kind
    }

    #[test]
    fn each_generated_kind_is_recognised() {
        assert_eq!(kind("teh", "the"), ErrorKind::Transpose);
        assert_eq!(kind("th", "the"), ErrorKind::Drop);
        assert_eq!(kind("thee", "the"), ErrorKind::Double);
        assert_eq!(kind("tge", "the"), ErrorKind::Keyboard);
        assert_eq!(kind("thi sis", "this is"), ErrorKind::Space);
        assert_eq!(kind("sen tence", "sentence"), ErrorKind::Space);
        assert_eq!(kind("alot", "a lot"), ErrorKind::Space);
    }

    #[test]
    fn likelier_slips_cost_less() {
        let m = ChannelModel::default();
        let p = |o: &str, t: &str| m.price(o, t).unwrap().log_prob;
        assert!(
            p("tge", "the") > p("tqe", "the"),
            "a neighbour key beats a far one"
        );
        assert!(p("teh", "the") > p("hte", "the") - 1e-9);
        assert!(p("th", "the") > p("t", "the"), "one edit beats two");
        assert!(
            p("seperate", "separate") > p("sepdrate", "separate"),
            "vowels swap often"
        );
        assert!(m.price("the", "the").is_none());
        assert!(m.log_unchanged() > p("teh", "the"));
    }

    #[test]
    fn rates_are_scaled_to_the_requested_error_rate() {
        let rate = |k: ErrorKind| match k {
            ErrorKind::Drop => 0.1,
            ErrorKind::Misspelling => 0.04,
            _ => 0.0,
        };
        let m = ChannelModel::from_rates(rate, 0.05);
        assert!((m.total() - 0.05).abs() < 1e-12);
        assert!(m.drop > m.misspelling && m.keyboard == 0.0);
        // Misspellings outside the tables are as common as those in them.
        assert_eq!(m.other, m.misspelling);
    }
}
