//! The corruption model: turns clean sentences into realistic typos, with an
//! exact alignment. This is the product's own edge (it decides what the model
//! learns), so it is written here rather than taken from a crate.

mod edit;
mod kind;

pub use edit::{undo, Edit, Misalignment};
pub use kind::{EditOp, KindWeights};

use rand::seq::SliceRandom;
use rand::Rng;
use typofix::confusion::ConfusionSets;
use typofix::keyboard;
use typofix::misspellings::MisspellingTable;
use typofix::text::{is_apostrophe, spans, Casing, Span};
use typofix::{Error, ErrorKind};

/// A corrupted sentence and how it aligns with the clean one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    pub corrupted: String,
    pub edits: Vec<Edit>,
    /// Words of the clean text that may be corrupted.
    pub words: usize,
    /// How many of them were.
    pub corrupted_words: usize,
}

/// Makes typos in clean text.
///
/// About `rate` of the words of each text are corrupted: the number of words
/// to touch is drawn per text (binomially), then words are visited in random
/// order and each gets a kind, drawn by weight among the kinds that can apply
/// to it. A merge or a shifted boundary touches two words and counts twice,
/// so the realised rate (touched words / words) matches `rate` on average.
#[derive(Debug, Clone)]
pub struct Corruptor {
    rate: f64,
    weights: KindWeights,
    confusions: ConfusionSets,
    misspellings: MisspellingTable,
}

/// A planned replacement of the clean bytes `start..end`, covering the words
/// `first..=last`.
struct Plan {
    first: usize,
    last: usize,
    start: usize,
    end: usize,
    text: String,
    kind: ErrorKind,
    op: Option<EditOp>,
}

impl Corruptor {
    pub fn new(
        rate: f64,
        weights: KindWeights,
        confusions: ConfusionSets,
        misspellings: MisspellingTable,
    ) -> Result<Corruptor, Error> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(Error::InvalidArgument(format!(
                "the corruption rate must be between 0 and 1, not {rate}"
            )));
        }
        Ok(Corruptor {
            rate,
            weights,
            confusions,
            misspellings,
        })
    }

    /// A corruptor with the built-in confusion sets and misspelling table.
    pub fn builtin(rate: f64, weights: KindWeights) -> Result<Corruptor, Error> {
        Corruptor::new(
            rate,
            weights,
            ConfusionSets::builtin(),
            MisspellingTable::builtin(),
        )
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Corrupts `clean`. Only words change; every other byte is kept.
    pub fn corrupt<R: Rng + ?Sized>(&self, clean: &str, rng: &mut R) -> Corruption {
        let all = spans(clean);
        let mut words: Vec<Span> = Vec::new();
        // glued[i]: words i and i+1 are separated by exactly one plain space,
        // the only place where a merge or a boundary shift makes sense.
        let mut glued: Vec<bool> = Vec::new();
        let mut last_word_at: Option<usize> = None;
        for (at, span) in all.iter().enumerate() {
            if span.is_word() {
                if let Some(prev) = last_word_at {
                    glued.push(at == prev + 2 && all[prev + 1].text(clean) == " ");
                }
                words.push(*span);
                last_word_at = Some(at);
            }
        }
        glued.push(false);

        let mut budget = (0..words.len())
            .filter(|_| rng.random_bool(self.rate))
            .count();
        let mut order: Vec<usize> = (0..words.len()).collect();
        order.shuffle(rng);
        let mut used = vec![false; words.len()];
        let mut plans = Vec::new();
        for i in order {
            if budget == 0 {
                break;
            }
            if used[i] {
                continue;
            }
            let ctx = WordContext {
                clean,
                words: &words,
                glued: &glued,
                used: &used,
                budget,
                i,
            };
            if let Some(plan) = self.plan(&ctx, rng) {
                used[plan.first..=plan.last].fill(true);
                budget -= plan.last - plan.first + 1;
                plans.push(plan);
            }
        }
        plans.sort_by_key(|p| p.start);
        let corrupted_words = plans.iter().map(|p| p.last - p.first + 1).sum();

        let mut corrupted = String::with_capacity(clean.len() + 8 * plans.len());
        let mut edits = Vec::with_capacity(plans.len());
        let mut at = 0;
        for plan in plans {
            corrupted.push_str(&clean[at..plan.start]);
            let from = corrupted.len();
            corrupted.push_str(&plan.text);
            edits.push(Edit {
                kind: plan.kind,
                op: plan.op,
                clean: [plan.start, plan.end],
                corrupted: [from, corrupted.len()],
            });
            at = plan.end;
        }
        corrupted.push_str(&clean[at..]);
        Corruption {
            corrupted,
            edits,
            words: words.len(),
            corrupted_words,
        }
    }

    fn plan<R: Rng + ?Sized>(&self, ctx: &WordContext, rng: &mut R) -> Option<Plan> {
        let mut choices: Vec<(ErrorKind, f64)> = self
            .weights
            .enabled()
            .map(|k| (k, self.weights.get(k)))
            .collect();
        while !choices.is_empty() {
            let total: f64 = choices.iter().map(|c| c.1).sum();
            let mut x = rng.random::<f64>() * total;
            let pick = choices
                .iter()
                .position(|c| {
                    x -= c.1;
                    x < 0.0
                })
                .unwrap_or(choices.len() - 1);
            let kind = choices.swap_remove(pick).0;
            if let Some(plan) = self.make(kind, ctx, rng) {
                return Some(plan);
            }
        }
        None
    }

    /// Applies `kind` to the word, or says it cannot apply.
    fn make<R: Rng + ?Sized>(
        &self,
        kind: ErrorKind,
        ctx: &WordContext,
        rng: &mut R,
    ) -> Option<Plan> {
        let word = ctx.word_text(ctx.i);
        let single = |text: String, op| (text != word).then(|| ctx.single(kind, op, text));
        match kind {
            ErrorKind::Confusion => {
                let alternatives = self.confusions.alternatives(&normalise(word));
                let pick = alternatives.get(rng.random_range(0..alternatives.len().max(1)))?;
                single(respell_like(word, pick), None)
            }
            ErrorKind::Misspelling => {
                let pick = self.misspellings.sample(&normalise(word), rng)?;
                single(respell_like(word, pick), None)
            }
            ErrorKind::Space => self.space_error(ctx, rng),
            _ => {
                let (text, op) = char_error(kind, word, rng)?;
                single(text, op)
            }
        }
    }

    fn space_error<R: Rng + ?Sized>(&self, ctx: &WordContext, rng: &mut R) -> Option<Plan> {
        let word: Vec<char> = ctx.word_text(ctx.i).chars().collect();
        let splits: Vec<usize> = (1..word.len())
            .filter(|&k| word[k - 1].is_alphabetic() && word[k].is_alphabetic())
            .collect();
        let pair = ctx.free_pair(rng);
        let mut ops = Vec::with_capacity(3);
        if !splits.is_empty() {
            ops.push(EditOp::Split);
        }
        if let Some((a, b)) = pair {
            ops.push(EditOp::Merge);
            if shifts(ctx.word_text(a), ctx.word_text(b)).next().is_some() {
                ops.push(EditOp::Shift);
            }
        }
        let op = *ops.get(rng.random_range(0..ops.len().max(1)))?;
        if op == EditOp::Split {
            let k = splits[rng.random_range(0..splits.len())];
            let left: String = word[..k].iter().collect();
            let right: String = word[k..].iter().collect();
            return Some(ctx.single(ErrorKind::Space, Some(op), format!("{left} {right}")));
        }
        let (a, b) = pair?;
        let (left, right) = (ctx.word_text(a), ctx.word_text(b));
        let text = if op == EditOp::Merge {
            format!("{left}{right}")
        } else {
            let options: Vec<(String, String)> = shifts(left, right).collect();
            let (l, r) = &options[rng.random_range(0..options.len())];
            format!("{l} {r}")
        };
        Some(Plan {
            first: a,
            last: b,
            start: ctx.words[a].start,
            end: ctx.words[b].end,
            text,
            kind: ErrorKind::Space,
            op: Some(op),
        })
    }
}

/// What [`Corruptor::make`] needs to know about the word it corrupts.
struct WordContext<'a> {
    clean: &'a str,
    words: &'a [Span],
    glued: &'a [bool],
    used: &'a [bool],
    budget: usize,
    i: usize,
}

impl WordContext<'_> {
    fn word_text(&self, i: usize) -> &str {
        self.words[i].text(self.clean)
    }

    fn single(&self, kind: ErrorKind, op: Option<EditOp>, text: String) -> Plan {
        Plan {
            first: self.i,
            last: self.i,
            start: self.words[self.i].start,
            end: self.words[self.i].end,
            text,
            kind,
            op,
        }
    }

    /// A neighbour pair (this word and the next, or the previous and this)
    /// that a two-word error may use.
    fn free_pair<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<(usize, usize)> {
        if self.budget < 2 {
            return None;
        }
        let i = self.i;
        let next = (self.glued[i] && !self.used[i + 1]).then_some((i, i + 1));
        let prev = (i > 0 && self.glued[i - 1] && !self.used[i - 1]).then(|| (i - 1, i));
        match (next, prev) {
            (Some(n), Some(p)) => Some(if rng.random_bool(0.5) { n } else { p }),
            (n, p) => n.or(p),
        }
    }
}

/// The ways to move the boundary between two words by one letter:
/// ("This", "is") → ("Thi", "sis") or ("Thisi", "s").
fn shifts<'a>(left: &'a str, right: &'a str) -> impl Iterator<Item = (String, String)> + 'a {
    let left_gives = left
        .char_indices()
        .last()
        .filter(|&(at, c)| at > 0 && c.is_alphabetic())
        .map(|(at, _)| (left[..at].to_string(), format!("{}{right}", &left[at..])));
    let right_gives = right
        .chars()
        .next()
        .filter(|c| c.is_alphabetic() && right.len() > c.len_utf8())
        .map(|c| {
            let cut = c.len_utf8();
            (format!("{left}{}", &right[..cut]), right[cut..].to_string())
        });
    left_gives.into_iter().chain(right_gives)
}

/// Character-level slips: keyboard, drop, double, transpose.
fn char_error<R: Rng + ?Sized>(
    kind: ErrorKind,
    word: &str,
    rng: &mut R,
) -> Option<(String, Option<EditOp>)> {
    let mut chars: Vec<char> = word.chars().collect();
    // Letters only, and not in words with combining marks, whose base letter
    // and mark must stay together.
    if chars
        .iter()
        .any(|c| !c.is_alphabetic() && !is_apostrophe(*c))
    {
        return None;
    }
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&j| chars[j].is_alphabetic())
        .collect();
    let any = |positions: &[usize], rng: &mut R| -> Option<usize> {
        (!positions.is_empty()).then(|| positions[rng.random_range(0..positions.len())])
    };
    let mut op = None;
    match kind {
        ErrorKind::Keyboard => {
            let keys: Vec<usize> = letters
                .iter()
                .copied()
                .filter(|&j| keyboard::neighbours(chars[j]).is_some())
                .collect();
            let j = any(&keys, rng)?;
            let near = keyboard::neighbours(chars[j])?;
            let mut key = near[rng.random_range(0..near.len())] as char;
            if chars[j].is_uppercase() {
                key = key.to_ascii_uppercase();
            }
            if rng.random_bool(0.7) {
                chars[j] = key;
                op = Some(EditOp::Substitute);
            } else {
                chars.insert(j + usize::from(rng.random_bool(0.5)), key);
                op = Some(EditOp::Insert);
            }
        }
        ErrorKind::Drop => {
            if letters.len() < 2 {
                return None;
            }
            chars.remove(any(&letters, rng)?);
        }
        ErrorKind::Double => {
            let j = any(&letters, rng)?;
            chars.insert(j, chars[j]);
        }
        ErrorKind::Transpose => {
            let pairs: Vec<usize> = (1..chars.len())
                .filter(|&j| {
                    chars[j - 1].is_alphabetic()
                        && chars[j].is_alphabetic()
                        && chars[j - 1] != chars[j]
                })
                .collect();
            let j = any(&pairs, rng)?;
            chars.swap(j - 1, j);
        }
        _ => return None,
    }
    let text: String = chars.into_iter().collect();
    // A slip at the first letter keeps the word's casing: The → Hte, not hTe.
    let text = match Casing::of(word) {
        Casing::Mixed => text,
        casing => casing.apply(&text),
    };
    Some((text, op))
}

/// Lower-case with straight apostrophes: how tables spell their words.
fn normalise(word: &str) -> String {
    word.to_lowercase().replace('’', "'")
}

/// Spells a table word like `original`: its casing and its apostrophe.
fn respell_like(original: &str, replacement: &str) -> String {
    let cased = Casing::of(original).apply(replacement);
    if original.contains('’') {
        cased.replace('\'', "’")
    } else {
        cased
    }
}
