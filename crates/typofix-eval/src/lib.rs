//! Evaluation and benchmarks: systems (typofix and baselines) run on
//! reference sets and scored side by side (see [`metrics`] for the
//! definitions), and the timing of inference and training steps
//! ([`bench`]), and the corrector's candidate recall ([`oracle`]).

mod baselines;
pub mod bench;
mod ispell;
pub mod metrics;
pub mod oracle;

use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use baselines::{Identity, NearestEdit};
pub use ispell::Ispell;
pub use metrics::{KindCounts, Reference, Scores};

use typofix::{Corrector, Error, FixOptions};
use typofix_train::corrupt::Edit;

/// A spelling corrector under evaluation.
pub trait System: Sync {
    fn name(&self) -> String;
    /// Corrects each text. Called with batches; implementations may run
    /// them in parallel.
    fn correct(&self, texts: &[&str]) -> Result<Vec<String>, Error>;
}

/// typofix itself.
pub struct Typofix<'a> {
    pub corrector: &'a Corrector,
    pub options: FixOptions,
}

impl System for Typofix<'_> {
    fn name(&self) -> String {
        "typofix".into()
    }

    fn correct(&self, texts: &[&str]) -> Result<Vec<String>, Error> {
        let fixed: Vec<Vec<String>> = texts
            .par_chunks(64)
            .map(|chunk| {
                let fixes = self.corrector.fix_batch(chunk, &self.options)?;
                Ok(fixes.into_iter().map(|f| f.text).collect())
            })
            .collect::<Result<_, Error>>()?;
        Ok(fixed.into_iter().flatten().collect())
    }
}

/// One system's scores on one set.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub system: String,
    #[serde(flatten)]
    pub scores: Scores,
    pub token_accuracy: f64,
    pub correction_rate: f64,
    pub broken_rate: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub exact_match: f64,
    pub seconds: f64,
    pub words_per_second: f64,
}

/// Runs `system` over `references` and scores it.
pub fn evaluate(system: &dyn System, references: &[Reference]) -> Result<Report, Error> {
    let texts: Vec<&str> = references.iter().map(|r| r.corrupted.as_str()).collect();
    let start = Instant::now();
    let predictions = system.correct(&texts)?;
    let seconds = start.elapsed().as_secs_f64();
    let mut scores = Scores::default();
    for (reference, prediction) in references.iter().zip(&predictions) {
        scores.add(reference, prediction);
    }
    let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    Ok(Report {
        system: system.name(),
        token_accuracy: scores.token_accuracy(),
        correction_rate: scores.correction_rate(),
        broken_rate: scores.broken_rate(),
        precision: scores.precision(),
        recall: scores.recall(),
        f1: scores.f1(),
        exact_match: scores.exact_match(),
        seconds,
        words_per_second: words as f64 / seconds.max(1e-9),
        scores,
    })
}

#[derive(Deserialize)]
struct JsonRecord {
    corrupted: String,
    clean: String,
    #[serde(default)]
    lowercase: bool,
    #[serde(default)]
    edits: Vec<Edit>,
}

/// Reads `{"corrupted","clean"}` JSONL (`lowercase` and `edits` optional).
pub fn read_jsonl(path: &Path) -> Result<Vec<Reference>, Error> {
    let reader = typofix::gzip::open_maybe_gzip(path)?;
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: JsonRecord = serde_json::from_str(&line).map_err(|e| Error::InvalidData {
            path: path.to_owned(),
            reason: format!("line {}: expected {{\"corrupted\", \"clean\"}}: {e}", n + 1),
        })?;
        out.push(Reference {
            corrupted: r.corrupted,
            clean: r.clean,
            lowercase: r.lowercase,
            edits: r.edits,
        });
    }
    Ok(out)
}

/// Reads line-aligned corrupted and correct text files.
pub fn read_parallel(corrupted: &Path, clean: &Path) -> Result<Vec<Reference>, Error> {
    let read = |p: &Path| -> Result<Vec<String>, Error> {
        let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
        Ok(text.lines().map(String::from).collect())
    };
    let (a, b) = (read(corrupted)?, read(clean)?);
    if a.len() != b.len() {
        return Err(Error::InvalidData {
            path: clean.to_owned(),
            reason: format!(
                "has {} lines but {} has {}: the files must be line-aligned",
                b.len(),
                corrupted.display(),
                a.len()
            ),
        });
    }
    Ok(a.into_iter()
        .zip(b)
        .map(|(corrupted, clean)| Reference {
            corrupted,
            clean,
            lowercase: false,
            edits: Vec::new(),
        })
        .collect())
}
