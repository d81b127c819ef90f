//! The corrector: text in, corrected text and its edits out.
//!
//! For every sentence:
//! 1. **Suspects.** Words the lexicon does not know, rare ones, and members
//!    of confusion sets become *slots*; so do pairs of neighbouring words
//!    when one of them is suspect (for split and merged words).
//! 2. **Candidates.** A slot's candidates come from the symmetric-delete
//!    index (up to two edits), the misspelling tables read backwards, word
//!    splits, merges and re-segmentations, and confusion sets.
//! 3. **Scoring.** The masked language model scores the original and every
//!    candidate in the sentence's context; the channel model prices the edit
//!    from the candidate to what was typed. A candidate's score is the sum.
//! 4. **Decision.** The original stays unless a candidate beats it by the
//!    threshold. Overlapping slots are resolved best gain first, and a second
//!    pass re-scores the remaining slots with the corrections in context.
//!
//! Only the bytes of a corrected word change; its replacement takes the
//! original's casing. See docs/DESIGN.md for the reasoning and measurements.

mod channel;
mod package;
mod scorer;
mod symspell;

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use channel::ChannelModel;
use channel::Priced;
#[cfg(feature = "default-model")]
pub use package::{builtin_checkpoint, builtin_tokenizer};
pub use package::{Settings, CORRECTOR_FILE};
use scorer::{Query, Scorer};
pub(crate) use symspell::SymSpell;

use crate::corrupt::{ConfusionSets, ErrorKind};
use crate::lexicon::{normalise, Lexicon};
use crate::model::{Checkpoint, Engine, MaskedLm};
use crate::ngram::{Bigrams, BOUNDARY};
use crate::text::{sentences, spans, Casing, SpanKind};
use crate::Error;

/// One correction, with byte offsets into the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub original: String,
    pub replacement: String,
    pub kind: ErrorKind,
    /// The model's probability that the replacement is right, among the
    /// original and the candidates.
    pub confidence: f32,
}

/// A corrected text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub text: String,
    pub edits: Vec<Edit>,
}

impl Fix {
    pub fn changed(&self) -> bool {
        !self.edits.is_empty()
    }
}

/// Per-call options.
#[derive(Debug, Clone, Default)]
pub struct FixOptions {
    /// Minimum gain in log-probability over the original; higher is more
    /// conservative. `None`: the model's calibrated default.
    pub threshold: Option<f64>,
    /// Words never to correct (compared lower-cased).
    pub allow: HashSet<String>,
}

impl FixOptions {
    pub fn allow_words<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, words: I) -> Self {
        self.allow
            .extend(words.into_iter().map(|w| normalise(w.as_ref())));
        self
    }
}

/// A typo corrector: the language model, lexicon and error model together.
#[derive(Debug, Clone)]
pub struct Corrector {
    /// The weights, kept so that another engine can be built from them
    /// (their storage is shared with the model's, not copied).
    checkpoint: Checkpoint,
    scorer: Scorer,
    lexicon: Lexicon,
    index: SymSpell,
    /// Misspelling → (correct word, its share of that word's misspellings).
    known: HashMap<String, Vec<(String, f64)>>,
    confusions: ConfusionSets,
    bigrams: Option<Bigrams>,
    settings: Settings,
}

/// A word of a sentence, as the corrector works on it.
#[derive(Debug, Clone)]
struct Unit {
    /// Byte range in the input text.
    range: Range<usize>,
    /// The text now: the original, or a correction made in the first pass.
    text: String,
    word: bool,
    fixed: bool,
    /// The whitespace after it, when only spaces separate it from the next
    /// unit (split and merge candidates need that).
    spaced: bool,
}

#[derive(Debug, Clone)]
struct Candidate {
    words: Vec<String>,
    channel: f64,
    kind: ErrorKind,
}

#[derive(Debug, Clone)]
struct Slot {
    /// Units covered, as a range of indices.
    units: Range<usize>,
    /// Every original word is in the lexicon.
    known: bool,
    /// A common word whose only candidates are its confusion set: screened
    /// on the unmasked sentence before it costs a masked input.
    confusion_only: bool,
    /// The original words, lower-cased.
    original: Vec<String>,
    /// The words on each side, or a boundary: the bigram context.
    left: String,
    right: String,
    /// Word pieces of the original (first) and of each candidate, filled in
    /// once per pass by [`Corrector::tokenise_slots`].
    fills: Vec<Vec<u32>>,
    candidates: Vec<Candidate>,
}

struct Decision {
    /// Index of the slot in its sentence's list.
    slot: usize,
    best: usize,
    gain: f64,
    confidence: f32,
}

/// A sentence being corrected.
struct Sentence {
    /// Index of its text in the batch.
    text: usize,
    units: Vec<Unit>,
    edits: Vec<Edit>,
    /// No more corrections to look for.
    done: bool,
}

/// A sentence's tokens, and the range of tokens of each unit.
struct Tokens {
    ids: Vec<u32>,
    of_unit: Vec<Range<usize>>,
}

/// Sentences corrected together; bounds memory on long inputs.
const SENTENCES_PER_GROUP: usize = 256;

/// The decision for one slot, given the language model's scores of its
/// original (first) and candidates.
fn decision(n: usize, slot: &Slot, lm: &[f64], unchanged: f64) -> Option<Decision> {
    // `unchanged`: log P(each original word is as meant).
    let original = lm[0] + unchanged * slot.original.len() as f64;
    let totals: Vec<f64> = slot
        .candidates
        .iter()
        .zip(&lm[1..])
        .map(|(c, l)| l + c.channel)
        .collect();
    let best = (0..totals.len()).max_by(|&a, &b| totals[a].total_cmp(&totals[b]))?;
    let top = totals[best].max(original);
    let norm: f64 = totals
        .iter()
        .chain([&original])
        .map(|t| (t - top).exp())
        .sum();
    let confidence = ((totals[best] - top).exp() / norm) as f32;
    // An original the model cannot score (too many pieces) gives way to any
    // candidate it can score.
    let gain = if original.is_finite() {
        totals[best] - original
    } else if totals[best].is_finite() {
        f64::INFINITY
    } else {
        f64::NEG_INFINITY
    };
    tracing::debug!(
        original = ?slot.original,
        best = ?slot.candidates[best].words,
        lm_original = lm[0],
        lm_best = lm[best + 1],
        channel = slot.candidates[best].channel,
        gain,
        "slot"
    );
    Some(Decision {
        slot: n,
        best,
        gain,
        confidence,
    })
}

impl Corrector {
    /// Loads a model directory: `config.json`, `model.safetensors`,
    /// `tokenizer.json` (or `vocab.txt`), `lexicon.tsv.gz` and, optionally,
    /// `corrector.json`.
    pub fn load(dir: &Path) -> Result<Corrector, Error> {
        let parts = package::Parts::read(dir)?;
        Corrector::from_parts(parts)
    }

    /// The model that ships inside typofix.
    #[cfg(feature = "default-model")]
    pub fn builtin() -> Result<Corrector, Error> {
        Corrector::from_parts(package::Parts::builtin()?)
    }

    fn from_parts(parts: package::Parts) -> Result<Corrector, Error> {
        let settings = parts.settings;
        let lexicon = parts.lexicon;
        let words: Vec<String> = lexicon
            .iter()
            .filter(|&(_, c)| c >= settings.candidate_min_count)
            .map(|(w, _)| w.to_string())
            .collect();
        let index = SymSpell::new(words, 2);
        let mut known: HashMap<String, Vec<(String, f64)>> = HashMap::new();
        for correct in parts.misspellings.words() {
            if !lexicon.contains(correct) {
                continue;
            }
            let wrongs: Vec<(&str, u64)> = parts.misspellings.misspellings_of(correct).collect();
            let total: u64 = wrongs.iter().map(|&(_, w)| w).sum();
            let common = lexicon.count(correct);
            for (wrong, weight) in wrongs {
                // A "misspelling" nearly as common as the word is a word
                // of its own (form → from is in the tables, but form is
                // fine); one a hundred times rarer is a typo (teh).
                if lexicon.count(wrong).saturating_mul(100) > common {
                    continue;
                }
                known
                    .entry(wrong.to_string())
                    .or_default()
                    .push((correct.to_string(), weight as f64 / total.max(1) as f64));
            }
        }
        let model = MaskedLm::from_checkpoint(&parts.checkpoint, Engine::Standard)?;
        Ok(Corrector {
            checkpoint: parts.checkpoint,
            scorer: Scorer::new(model, parts.tokenizer),
            lexicon,
            index,
            known,
            confusions: ConfusionSets::builtin(),
            bigrams: parts.bigrams,
            settings,
        })
    }

    /// The same corrector with its language model in `engine`'s form:
    /// corrections are the same, up to floating-point rounding.
    pub fn with_engine(self, engine: Engine) -> Result<Corrector, Error> {
        if self.scorer.model().engine() == engine {
            return Ok(self);
        }
        let model = MaskedLm::from_checkpoint(&self.checkpoint, engine)?;
        Ok(Corrector {
            scorer: self.scorer.with_model(model),
            ..self
        })
    }

    pub fn engine(&self) -> Engine {
        self.scorer.model().engine()
    }

    /// The language model's weights, in Hugging Face's layout.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// Corrects `text` with the default options.
    pub fn fix(&self, text: &str) -> Result<Fix, Error> {
        self.fix_with(text, &FixOptions::default())
    }

    pub fn fix_with(&self, text: &str, options: &FixOptions) -> Result<Fix, Error> {
        Ok(self
            .fix_batch(&[text], options)?
            .pop()
            .expect("one fix per text"))
    }

    /// Corrects several texts together: their sentences share the model's
    /// batches, which is several times faster than one text at a time.
    pub fn fix_batch(&self, texts: &[&str], options: &FixOptions) -> Result<Vec<Fix>, Error> {
        let mut sentences: Vec<Sentence> = Vec::new();
        for (n, text) in texts.iter().enumerate() {
            for range in sentence_ranges(text) {
                sentences.push(Sentence {
                    text: n,
                    units: units(text, range),
                    edits: Vec::new(),
                    done: false,
                });
            }
        }
        // Long inputs go through in groups of sentences, so memory stays
        // bounded whatever the input's size.
        for group in sentences.chunks_mut(SENTENCES_PER_GROUP) {
            for _pass in 0..2 {
                self.pass(texts, group, options)?;
            }
        }
        let mut edits: Vec<Vec<Edit>> = vec![Vec::new(); texts.len()];
        for s in sentences {
            edits[s.text].extend(s.edits);
        }
        Ok(texts
            .iter()
            .zip(edits)
            .map(|(text, edits)| apply(text, edits))
            .collect())
    }

    /// One round of finding, scoring and accepting corrections.
    fn pass(
        &self,
        texts: &[&str],
        sentences: &mut [Sentence],
        options: &FixOptions,
    ) -> Result<(), Error> {
        let threshold = options.threshold.unwrap_or(self.settings.threshold);
        let mut work: Vec<(usize, Tokens, Vec<Slot>)> = Vec::new();
        for (n, s) in sentences.iter_mut().enumerate() {
            if s.done {
                continue;
            }
            let slots = self.slots(texts[s.text], &s.units, options);
            if slots.is_empty() {
                s.done = true;
                continue;
            }
            let slots = self.tokenise_slots(slots)?;
            work.push((n, self.tokens(&s.units)?, slots));
        }
        if work.is_empty() {
            return Ok(());
        }
        self.screen(&mut work)?;
        let decisions = self.decide(&work)?;
        for ((n, _, slots), mut decisions) in work.into_iter().zip(decisions) {
            let s = &mut sentences[n];
            decisions.sort_by(|a, b| b.gain.total_cmp(&a.gain));
            let mut taken: Vec<Range<usize>> = Vec::new();
            let mut accepted = Vec::new();
            for d in decisions {
                let slot = &slots[d.slot];
                let units = &slot.units;
                let margin = if slot.known && slot.candidates[d.best].kind != ErrorKind::Confusion {
                    self.settings.known_word_margin
                } else {
                    0.0
                };
                if d.gain <= threshold + margin
                    || taken
                        .iter()
                        .any(|r| r.start < units.end && units.start < r.end)
                {
                    continue;
                }
                taken.push(units.clone());
                accepted.push(d);
            }
            if accepted.is_empty() {
                s.done = true;
                continue;
            }
            // Apply right to left so that unit indices stay valid.
            accepted.sort_by_key(|d| std::cmp::Reverse(slots[d.slot].units.start));
            let text = texts[s.text];
            for d in accepted {
                let slot = &slots[d.slot];
                let candidate = &slot.candidates[d.best];
                let (first, last) = (&s.units[slot.units.start], &s.units[slot.units.end - 1]);
                let bytes = first.range.start..last.range.end;
                let original = &text[bytes.clone()];
                s.edits.push(Edit {
                    start: bytes.start,
                    end: bytes.end,
                    original: original.to_string(),
                    replacement: recase(original, &candidate.words),
                    kind: candidate.kind,
                    confidence: d.confidence,
                });
                let new_units: Vec<Unit> = candidate
                    .words
                    .iter()
                    .map(|w| Unit {
                        range: bytes.clone(),
                        text: w.clone(),
                        word: true,
                        fixed: true,
                        spaced: false,
                    })
                    .collect();
                s.units.splice(slot.units.clone(), new_units);
            }
        }
        Ok(())
    }

    /// The sentence's tokens, and which tokens each unit has.
    fn tokens(&self, units: &[Unit]) -> Result<Tokens, Error> {
        let mut ids: Vec<u32> = Vec::new();
        let mut of_unit: Vec<Range<usize>> = Vec::with_capacity(units.len());
        for unit in units {
            let start = ids.len();
            ids.extend(self.scorer.pieces(&unit.text)?);
            of_unit.push(start..ids.len());
        }
        Ok(Tokens { ids, of_unit })
    }

    /// Finds the suspect words and pairs, with their candidates.
    fn slots(&self, text: &str, units: &[Unit], options: &FixOptions) -> Vec<Slot> {
        let s = &self.settings;
        let first_word = units.iter().position(|u| u.word);
        // A sentence in capitals: its all-capital words are not acronyms.
        let mut words = units.iter().filter(|u| u.word && !u.fixed);
        let shouting = words.clone().count() > 1
            && !words.any(|u| text[u.range.clone()].chars().any(char::is_lowercase));
        let mut slots = Vec::new();
        // Whether each unit may be corrected, and whether it is suspect.
        let mut open = vec![false; units.len()];
        let mut suspect = vec![false; units.len()];
        for (i, unit) in units.iter().enumerate() {
            if !unit.word || unit.fixed {
                continue;
            }
            let raw = &text[unit.range.clone()];
            let word = normalise(raw);
            if options.allow.contains(&word) {
                continue;
            }
            let count = self.lexicon.count(&word);
            let casing = Casing::of(raw);
            let initial = Some(i) == first_word;
            // Capitalised rare words inside a sentence are names, and
            // all-capital words are acronyms, unless the whole sentence is
            // in capitals.
            let name = match casing {
                Casing::Lower => false,
                Casing::Title => !initial && count < s.rare_count,
                Casing::Upper => raw.chars().count() > 1 && !shouting,
                Casing::Mixed => true,
            };
            if name {
                continue;
            }
            open[i] = true;
            let alternatives = self.confusions.alternatives(&word);
            let rare = count < s.rare_count || self.known.contains_key(&word);
            suspect[i] = rare;
            let mut candidates = Vec::new();
            if !alternatives.is_empty() {
                let channel = self.settings.channel.log_confusion(alternatives.len());
                candidates.extend(alternatives.iter().map(|a| Candidate {
                    words: vec![a.clone()],
                    channel,
                    kind: ErrorKind::Confusion,
                }));
            }
            if rare {
                candidates.extend(self.word_candidates(&word, count > 0));
            }
            if !candidates.is_empty() {
                slots.push(Slot {
                    left: neighbour(units, i.checked_sub(1)),
                    right: neighbour(units, Some(i + 1)),
                    fills: Vec::new(),
                    units: i..i + 1,
                    known: count > 0,
                    confusion_only: !rare,
                    original: vec![word],
                    candidates,
                });
            }
        }
        for i in 0..units.len().saturating_sub(1) {
            let (a, b) = (&units[i], &units[i + 1]);
            if open[i] && open[i + 1] && a.spaced && (suspect[i] || suspect[i + 1]) {
                let (wa, wb) = (normalise(&a.text), normalise(&b.text));
                let candidates = self.pair_candidates(&wa, &wb);
                if !candidates.is_empty() {
                    slots.push(Slot {
                        left: neighbour(units, i.checked_sub(1)),
                        right: neighbour(units, Some(i + 2)),
                        fills: Vec::new(),
                        units: i..i + 2,
                        known: self.lexicon.contains(&wa) && self.lexicon.contains(&wb),
                        confusion_only: false,
                        original: vec![wa, wb],
                        candidates,
                    });
                }
            }
        }
        slots
    }

    /// Spelling candidates for one unknown or rare word. A known word
    /// only gets candidates one edit away: a rare word is more often right
    /// than two slips away from a common one.
    fn word_candidates(&self, word: &str, known: bool) -> Vec<Candidate> {
        let s = &self.settings;
        let channel = &s.channel;
        let mut found: HashMap<Vec<String>, Candidate> = HashMap::new();
        let mut offer = |words: Vec<String>, priced: Option<Priced>| {
            if let Some(p) = priced {
                let entry = found.entry(words.clone()).or_insert(Candidate {
                    words,
                    channel: f64::NEG_INFINITY,
                    kind: p.kind,
                });
                if p.log_prob > entry.channel {
                    entry.channel = p.log_prob;
                    entry.kind = p.kind;
                }
            }
        };
        let max_distance = if known { 1 } else { 2 };
        for (candidate, _) in self
            .index
            .lookup(word)
            .into_iter()
            .filter(|&(_, d)| d <= max_distance)
        {
            offer(vec![candidate.to_string()], channel.price(word, candidate));
        }
        for (correct, share) in self.known.get(word).into_iter().flatten() {
            offer(
                vec![correct.clone()],
                Some(Priced {
                    log_prob: channel.log_known_misspelling(*share),
                    kind: ErrorKind::Misspelling,
                }),
            );
        }
        // Merged words: alot → a lot.
        for (at, _) in word.char_indices().skip(1) {
            let (a, b) = word.split_at(at);
            if self.lexicon.count(a) >= s.split_min_count
                && self.lexicon.count(b) >= s.split_min_count
            {
                offer(
                    vec![a.to_string(), b.to_string()],
                    channel.price(word, &format!("{a} {b}")),
                );
            }
        }
        self.best_candidates(found.into_values().collect())
    }

    /// Re-segmentations of two neighbouring words: merges (sen tence →
    /// sentence) and shifted boundaries (Thi sis → This is).
    fn pair_candidates(&self, a: &str, b: &str) -> Vec<Candidate> {
        let s = &self.settings;
        let observed = format!("{a} {b}");
        let joined = format!("{a}{b}");
        let mut out = Vec::new();
        if self.lexicon.count(&joined) >= s.candidate_min_count {
            if let Some(p) = s.channel.price(&observed, &joined) {
                out.push(Candidate {
                    words: vec![joined.clone()],
                    channel: p.log_prob,
                    kind: ErrorKind::Space,
                });
            }
        }
        for (at, _) in joined.char_indices().skip(1) {
            let (x, y) = joined.split_at(at);
            if x == a {
                continue;
            }
            if self.lexicon.count(x) >= s.split_min_count
                && self.lexicon.count(y) >= s.split_min_count
            {
                if let Some(p) = s.channel.price(&observed, &format!("{x} {y}")) {
                    out.push(Candidate {
                        words: vec![x.to_string(), y.to_string()],
                        channel: p.log_prob,
                        kind: ErrorKind::Space,
                    });
                }
            }
        }
        self.best_candidates(out)
    }

    /// Keeps the `max_candidates` likeliest by channel and word frequency, so
    /// that the model only scores plausible ones.
    fn best_candidates(&self, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
        let total = self.lexicon.total().max(1) as f64;
        let prior = |c: &Candidate| {
            c.channel
                + c.words
                    .iter()
                    .map(|w| ((self.lexicon.count(w) as f64 + 0.5) / total).ln())
                    .sum::<f64>()
        };
        candidates.sort_by(|a, b| prior(b).total_cmp(&prior(a)).then(a.words.cmp(&b.words)));
        candidates.truncate(self.settings.max_candidates);
        candidates
    }

    /// Scores every slot's original and candidates in context, for all the
    /// sentences at once.
    fn decide(&self, work: &[(usize, Tokens, Vec<Slot>)]) -> Result<Vec<Vec<Decision>>, Error> {
        let mut queries = Vec::new();
        for (_, tokens, slots) in work {
            for slot in slots {
                let replace =
                    tokens.of_unit[slot.units.start].start..tokens.of_unit[slot.units.end - 1].end;
                queries.push(Query {
                    tokens: &tokens.ids,
                    replace,
                    fills: &slot.fills,
                });
            }
        }
        let mut scores = self.scorer.score(&queries)?.into_iter();
        let unchanged = self.settings.channel.log_unchanged();
        let mut out = Vec::with_capacity(work.len());
        for (_, _, slots) in work {
            let mut decisions = Vec::new();
            for (n, (slot, lm)) in slots.iter().zip(scores.by_ref()).enumerate() {
                let prior = if slot.known {
                    unchanged
                } else {
                    unchanged - self.settings.unknown_penalty / slot.original.len() as f64
                };
                let lm = self.with_bigrams(slot, lm);
                if let Some(d) = decision(n, slot, &lm, prior) {
                    decisions.push(d);
                }
            }
            out.push(decisions);
        }
        Ok(out)
    }

    /// Drops the confusion-only slots whose alternatives the unmasked
    /// sentence rates far below the word as written: most uses of `to`,
    /// `by` or `were` are right, and this keeps them from costing a masked
    /// input each.
    fn screen(&self, work: &mut [(usize, Tokens, Vec<Slot>)]) -> Result<(), Error> {
        let mut probes = Vec::with_capacity(work.len());
        for (_, tokens, slots) in work.iter() {
            let mut mine = Vec::new();
            for slot in slots.iter().filter(|s| s.confusion_only) {
                let at = tokens.of_unit[slot.units.start].start;
                let ids = slot
                    .fills
                    .iter()
                    .map(|f| f.first().copied().unwrap_or(0))
                    .collect();
                mine.push((at, ids));
            }
            probes.push((tokens.ids.as_slice(), mine));
        }
        let scores = self.scorer.unmasked(&probes)?;
        drop(probes);
        for ((_, _, slots), scores) in work.iter_mut().zip(scores) {
            let Some(scores) = scores else { continue };
            let mut scores = scores.into_iter();
            slots.retain(|slot| {
                if !slot.confusion_only {
                    return true;
                }
                let lp = scores.next().unwrap_or_default();
                let best = lp.iter().skip(1).copied().fold(f32::NEG_INFINITY, f32::max);
                lp.first().is_none_or(|&original| {
                    f64::from(best - original) > self.settings.screen_margin
                })
            });
        }
        Ok(())
    }

    /// Adds the bigram model's view of each alternative, weighted.
    fn with_bigrams(&self, slot: &Slot, mut lm: Vec<f64>) -> Vec<f64> {
        let Some(bigrams) = &self.bigrams else {
            return lm;
        };
        let weight = self.settings.bigram_weight;
        let score = |words: &[String]| -> f64 {
            let mut prev = slot.left.as_str();
            let mut total = 0.0;
            for w in words
                .iter()
                .map(String::as_str)
                .chain([slot.right.as_str()])
            {
                total += bigrams.log_prob(&self.lexicon, prev, w);
                prev = w;
            }
            total
        };
        lm[0] += weight * score(&slot.original);
        for (l, c) in lm[1..].iter_mut().zip(&slot.candidates) {
            *l += weight * score(&c.words);
        }
        lm
    }

    fn tokenise_slots(&self, mut slots: Vec<Slot>) -> Result<Vec<Slot>, Error> {
        for slot in &mut slots {
            let mut fills = vec![self.fill(&slot.original)?];
            for c in &slot.candidates {
                fills.push(self.fill(&c.words)?);
            }
            slot.fills = fills;
        }
        Ok(slots)
    }

    fn fill(&self, words: &[String]) -> Result<Vec<u32>, Error> {
        let mut ids = Vec::new();
        for w in words {
            ids.extend(self.scorer.pieces(w)?);
        }
        Ok(ids)
    }
}

/// The bigram context at `at`: the word there, or a boundary.
fn neighbour(units: &[Unit], at: Option<usize>) -> String {
    match at.and_then(|i| units.get(i)) {
        Some(u) if u.word => normalise(&u.text),
        _ => BOUNDARY.to_string(),
    }
}

/// `Corrector::default()` is the shipped model, as `Corrector::builtin()`
/// is. The embedded files are checked by the test suite, so this cannot fail
/// in a released build; code that wants an error rather than that guarantee
/// calls `builtin()`.
#[cfg(feature = "default-model")]
impl Default for Corrector {
    fn default() -> Self {
        Corrector::builtin().expect("the embedded model is valid (checked by the test suite)")
    }
}

/// Byte ranges of the sentences of `text`, line by line.
fn sentence_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        // `sentences` returns slices of `line`, hence of `text`.
        for s in sentences(line) {
            let start = s.as_ptr() as usize - text.as_ptr() as usize;
            out.push(start..start + s.len());
        }
    }
    out
}

/// The non-whitespace spans of a sentence.
fn units(text: &str, range: Range<usize>) -> Vec<Unit> {
    let sentence = &text[range.clone()];
    let spans = spans(sentence);
    let mut out: Vec<Unit> = Vec::new();
    for (n, span) in spans.iter().enumerate() {
        if span.kind == SpanKind::Whitespace {
            continue;
        }
        let spaced = spans.get(n + 1).is_some_and(|next| {
            next.kind == SpanKind::Whitespace
                && next.text(sentence).chars().all(|c| c == ' ')
                && spans.get(n + 2).is_some_and(|w| w.kind == SpanKind::Word)
        });
        out.push(Unit {
            range: range.start + span.start..range.start + span.end,
            text: span.text(sentence).to_string(),
            word: span.kind == SpanKind::Word,
            fixed: false,
            spaced,
        });
    }
    out
}

/// Spells `words` with the casing of `original`, word by word where the
/// counts match, keeping the original's separators.
fn recase(original: &str, words: &[String]) -> String {
    let originals: Vec<&str> = original.split(' ').filter(|w| !w.is_empty()).collect();
    if originals.len() == words.len() {
        let mut out = String::new();
        let mut rest = original;
        for (o, w) in originals.iter().zip(words) {
            let at = rest.find(o).unwrap_or(0);
            out.push_str(&rest[..at]);
            out.push_str(&cased(Casing::of(o), w));
            rest = &rest[at + o.len()..];
        }
        out.push_str(rest);
        return out;
    }
    let casing = Casing::of(originals.first().copied().unwrap_or(original));
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let c = match casing {
            Casing::Upper => Casing::Upper,
            _ if i == 0 => casing,
            _ => Casing::Lower,
        };
        out.push(cased(c, w));
    }
    out.join(" ")
}

fn cased(casing: Casing, word: &str) -> String {
    match casing {
        // `I` and `A` read as title case, but a correction of them is not.
        Casing::Mixed => word.to_string(),
        c => c.apply(word),
    }
}

/// The text with `edits` applied, and the edits in order.
fn apply(text: &str, mut edits: Vec<Edit>) -> Fix {
    edits.sort_by_key(|e| e.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in &edits {
        out.push_str(&text[at..e.start]);
        out.push_str(&e.replacement);
        at = e.end;
    }
    out.push_str(&text[at..]);
    Fix { text: out, edits }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements_take_the_casing_of_the_original() {
        let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(recase("Teh", &w(&["the"])), "The");
        assert_eq!(recase("TEH", &w(&["the"])), "THE");
        assert_eq!(recase("Thi sis", &w(&["this", "is"])), "This is");
        assert_eq!(recase("Sen tence", &w(&["sentence"])), "Sentence");
        assert_eq!(recase("Alot", &w(&["a", "lot"])), "A lot");
        assert_eq!(recase("ALOT", &w(&["a", "lot"])), "A LOT");
    }

    #[test]
    fn sentences_cover_every_line() {
        let text = "One two. Three\r\nfour\n\nfive";
        let ranges = sentence_ranges(text);
        let words: Vec<&str> = ranges.iter().map(|r| text[r.clone()].trim()).collect();
        assert_eq!(words, vec!["One two.", "Three", "four", "five"]);
    }
}
