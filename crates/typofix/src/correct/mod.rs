//! The corrector: text in, corrected text and its edits out.
//!
//! Each sentence goes through the stages, one module each:
//! 1. [`suspects`]: the words and pairs of words to look at (*slots*);
//! 2. [`candidates`]: what each slot might have meant, priced by the
//!    [`channel`] model;
//! 3. [`scoring`]: the masked language model ([`lm`]) and word-pair counts
//!    score the original and every candidate in context;
//! 4. [`decision`]: the original stays unless a candidate beats it by the
//!    threshold;
//! 5. [`recase`] and [`apply`]: accepted candidates take the original's
//!    casing and become edits; a second pass re-scores the remaining slots
//!    with the corrections in context;
//! 6. [`Fix::apply`] rebuilds the text from its edits: only the bytes of a
//!    corrected word change.
//!
//! See docs/DESIGN.md for the reasoning and measurements.

mod apply;
mod budget;
mod candidates;
mod channel;
mod decision;
mod fix;
mod lm;
mod phonetic;
mod recase;
mod scoring;
mod settings;
mod suspects;
mod symspell;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

pub use budget::Budget;
use budget::{Halt, Meter};
pub use channel::ChannelModel;
pub use fix::{Edit, Fix};
use lm::{Memo, Scorer};
use phonetic::PhoneticIndex;
pub use settings::Settings;
use suspects::{sentence_ranges, units, windows, Unit};
pub use symspell::SymSpell;

use crate::confusion::ConfusionSets;
use crate::lexicon::{normalise, Lexicon};
use crate::model::{Checkpoint, Engine, MaskedLm};
use crate::ngram::Bigrams;
use crate::package::ModelPackage;
use crate::Error;

/// Per-call options.
#[derive(Debug, Clone, Default)]
pub struct FixOptions {
    /// Minimum gain in log-probability over the original; higher is more
    /// conservative. `None`: the model's calibrated default.
    pub threshold: Option<f64>,
    /// Words never to correct (compared lower-cased).
    pub allow: HashSet<String>,
    /// How much work the call may do; see [`Fix::unchecked`].
    pub budget: Budget,
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
    phonetic: PhoneticIndex,
    /// Misspelling → (correct word, its share of that word's misspellings).
    known: HashMap<String, Vec<(String, f64)>>,
    /// Apostrophe-less form → forms with apostrophes.
    apostrophes: HashMap<String, Vec<String>>,
    confusions: ConfusionSets,
    bigrams: Option<Bigrams>,
    settings: Settings,
}

/// A span the corrector looks at, and what it might have meant there; see
/// [`Corrector::candidates`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidates {
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
    pub original: String,
    /// Each reading, as it would replace `original`.
    pub readings: Vec<String>,
}

/// A sentence being corrected.
struct Sentence {
    /// Index of its text in the batch.
    text: usize,
    /// Where, in its text, the part it corrects begins.
    start: usize,
    units: Vec<Unit>,
    edits: Vec<Edit>,
    /// No more corrections to look for.
    done: bool,
}

/// Sentences corrected together, at most, and their words: enough to
/// fill the model's batches many times over, few enough that the inputs
/// of one group stay small whatever the text's size.
const SENTENCES_PER_GROUP: usize = 256;
const UNITS_PER_GROUP: usize = 2048;

impl Corrector {
    /// Loads a model directory (see [`crate::package`]): `config.json`,
    /// `model.safetensors`, `tokenizer.json`, `lexicon.tsv.gz` and,
    /// optionally, `bigrams.tsv.gz` and `corrector.json`.
    pub fn load(dir: &Path) -> Result<Corrector, Error> {
        Corrector::load_with_engine(dir, Engine::default())
    }

    /// [`Corrector::load`], the model running on `engine`.
    pub fn load_with_engine(dir: &Path, engine: Engine) -> Result<Corrector, Error> {
        Corrector::from_package(ModelPackage::read(dir)?, engine)
    }

    /// The model that ships inside typofix.
    #[cfg(feature = "default-model")]
    pub fn builtin() -> Result<Corrector, Error> {
        Corrector::builtin_with_engine(Engine::default())
    }

    /// [`Corrector::builtin`], the model running on `engine`.
    #[cfg(feature = "default-model")]
    pub fn builtin_with_engine(engine: Engine) -> Result<Corrector, Error> {
        Corrector::from_package(ModelPackage::builtin()?, engine)
    }

    /// A corrector over a model package's parts, the model running on
    /// `engine`. Building an engine takes a large share of start-up, so
    /// only the one asked for is built: `--engine int8` used to build the
    /// default f32 one first, and took 1.56 s to start instead of 1.17 s
    /// (docs/BENCHMARKS.md, "Start-up").
    pub fn from_package(parts: ModelPackage, engine: Engine) -> Result<Corrector, Error> {
        let settings = parts.settings;
        let lexicon = parts.lexicon;
        let words: Vec<String> = lexicon
            .iter()
            .filter(|&(_, c)| c >= settings.candidate_min_count)
            .map(|(w, _)| w.to_string())
            .collect();
        let index = SymSpell::new(words, 2);
        let phonetic = PhoneticIndex::new(&lexicon, phonetic::MIN_COUNT);
        let known = candidates::known_misspellings(&lexicon, &parts.misspellings);
        let apostrophes = candidates::apostrophe_forms(&lexicon, settings.candidate_min_count);
        let model = MaskedLm::from_checkpoint(&parts.checkpoint, engine)?;
        Ok(Corrector {
            checkpoint: parts.checkpoint,
            scorer: Scorer::new(
                model,
                parts.tokenizer,
                parts.detector,
                settings.context_tokens,
            ),
            lexicon,
            index,
            phonetic,
            known,
            apostrophes,
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

    /// Every span of `text` the corrector looks at, with every reading it
    /// would weigh there (recased like the original), before the language
    /// model scores any: the ceiling of what it can correct. `typofix eval
    /// --oracle` measures how often the right reading is among them.
    pub fn candidates(&self, text: &str, options: &FixOptions) -> Vec<Candidates> {
        let mut out = Vec::new();
        for units in sentence_ranges(text)
            .into_iter()
            .flat_map(|range| windows(units(text, range)))
        {
            for slot in self.slots(text, &units, options) {
                let bytes =
                    units[slot.units.start].range.start..units[slot.units.end - 1].range.end;
                let original = &text[bytes.clone()];
                out.push(Candidates {
                    start: bytes.start,
                    end: bytes.end,
                    original: original.to_string(),
                    readings: slot
                        .candidates
                        .iter()
                        .map(|c| recase::recase(original, &c.words))
                        .collect(),
                });
            }
        }
        out
    }

    /// Corrects several texts together: their sentences share the model's
    /// batches, which is several times faster than one text at a time.
    ///
    /// When `options.budget` runs out, the sentences not yet checked are
    /// left as they are, and each fix says from where with
    /// [`Fix::unchecked`].
    pub fn fix_batch(&self, texts: &[&str], options: &FixOptions) -> Result<Vec<Fix>, Error> {
        // The passes below make many small parallel calls (one per layer
        // and row-wise op). Each one made from outside the thread pool
        // wakes a worker and puts this thread to sleep, so the whole batch
        // runs on a worker instead, where they run inline or are stolen.
        // On one thread: `fix --file` over ewt_clean_train went from 8.0–9.0 s
        // to 6.7–7.3 s, most of it system time (docs/BENCHMARKS.md).
        rayon::scope(|_| self.fix_batch_on_worker(texts, options))
    }

    fn fix_batch_on_worker(&self, texts: &[&str], options: &FixOptions) -> Result<Vec<Fix>, Error> {
        let mut sentences: Vec<Sentence> = Vec::new();
        for (n, text) in texts.iter().enumerate() {
            for range in sentence_ranges(text) {
                for units in windows(units(text, range.clone())) {
                    let start = units
                        .iter()
                        .find(|u| !u.fixed)
                        .map_or(range.start, |u| u.range.start);
                    sentences.push(Sentence {
                        text: n,
                        start,
                        units,
                        edits: Vec::new(),
                        done: false,
                    });
                }
            }
        }
        let meter = Meter::new(options.budget);
        // Long inputs go through in groups of sentences, so memory stays
        // bounded whatever the input's size. A group is checked whole or
        // not at all.
        let mut checked = 0;
        while checked < sentences.len() {
            let mut units = 0;
            let size = sentences[checked..]
                .iter()
                .take(SENTENCES_PER_GROUP)
                .take_while(|s| {
                    units += s.units.len();
                    units <= UNITS_PER_GROUP
                })
                .count()
                .max(1);
            let group = &mut sentences[checked..checked + size];
            let mut memo = Memo::default();
            match (0..2).try_for_each(|_pass| self.pass(texts, group, options, &meter, &mut memo)) {
                Ok(()) => checked += size,
                Err(Halt::Spent) => break,
                Err(Halt::Failed(e)) => return Err(e),
            }
        }
        tracing::debug!(inputs = meter.used(), "model inputs");
        let mut unchecked: Vec<Option<usize>> = vec![None; texts.len()];
        for s in &sentences[checked..] {
            unchecked[s.text].get_or_insert(s.start);
        }
        let mut edits: Vec<Vec<Edit>> = vec![Vec::new(); texts.len()];
        for s in sentences.into_iter().take(checked) {
            edits[s.text].extend(s.edits);
        }
        texts
            .iter()
            .zip(edits)
            .zip(unchecked)
            .map(|((text, mut edits), unchecked)| {
                edits.sort_by_key(|e| e.start);
                Ok(Fix {
                    unchecked,
                    ..Fix::apply(text, edits)?
                })
            })
            .collect()
    }

    /// One round of the stages over the sentences not yet done.
    fn pass(
        &self,
        texts: &[&str],
        sentences: &mut [Sentence],
        options: &FixOptions,
        meter: &Meter,
        memo: &mut Memo,
    ) -> Result<(), Halt> {
        let threshold = options.threshold.unwrap_or(self.settings.threshold);
        let mut work: Vec<scoring::Work> = Vec::new();
        for (n, s) in sentences.iter_mut().enumerate() {
            if s.done {
                continue;
            }
            let slots = self.slots(texts[s.text], &s.units, options);
            // With a detection head, a sentence without suspects still gets
            // its unmasked look: the head may flag a real-word slip.
            if slots.is_empty() && !self.scorer.detects() {
                s.done = true;
                continue;
            }
            let slots = self.tokenise_slots(slots)?;
            work.push((n, self.tokens(&s.units)?, slots));
        }
        if work.is_empty() {
            return Ok(());
        }
        let wrong = self.screen(&mut work, meter)?;
        for ((n, _, slots), wrong) in work.iter_mut().zip(wrong) {
            let Some(wrong) = wrong else { continue };
            let s = &sentences[*n];
            let flagged = self.flagged_slots(texts[s.text], &s.units, &wrong, slots, options);
            slots.extend(self.tokenise_slots(flagged)?);
            for slot in slots.iter_mut() {
                slot.wrong = Some(
                    wrong[slot.units.clone()]
                        .iter()
                        .copied()
                        .fold(0.0, f32::max),
                );
            }
        }
        let decisions = self.decide(&work, meter, memo)?;
        for ((n, _, slots), decisions) in work.into_iter().zip(decisions) {
            let s = &mut sentences[n];
            let accepted = self.accept(&slots, decisions, threshold);
            if accepted.is_empty() {
                s.done = true;
                continue;
            }
            apply::apply_decisions(texts[s.text], s, &slots, accepted);
        }
        Ok(())
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
