//! `typofix data …`: synthetic typo data.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use typofix::atomic::AtomicFile;
use typofix::confusion::ConfusionSets;
use typofix::misspellings::MisspellingTable;
use typofix::ErrorKind;
use typofix_train::build::count_words;
use typofix_train::corrupt::{Corruptor, KindWeights};
use typofix_train::dataset::{generate, DatasetStats, GenerateOptions, GenerateSummary, Sinks};
use typofix_train::word_stats::{blend, WordFrequencies};

use super::CorpusArgs;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Corrupt a clean corpus into {"corrupted","clean","edits"} JSONL.
    Generate(Box<GenerateArgs>),
    /// Count kinds, rates and lengths in a generated JSONL file.
    Stats(StatsArgs),
    /// Merge public misspelling tables into typofix's own table format.
    BuildMisspellings(BuildMisspellingsArgs),
    /// Count the words of a clean corpus into the corrector's lexicon.
    BuildLexicon(BuildLexiconArgs),
}

#[derive(Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Examples to write (training and validation together).
    #[arg(long, default_value_t = 10_000)]
    examples: usize,
    /// Share of words to corrupt.
    #[arg(long, default_value_t = 0.15)]
    rate: f64,
    /// Error kinds and weights, e.g. `keyboard=2,drop,misspelling=4`.
    /// Kinds: keyboard, drop, double, transpose, space, confusion, misspelling.
    #[arg(long)]
    kinds: Option<KindWeights>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output JSONL file, written atomically; `-` for standard output.
    #[arg(long, short)]
    out: PathBuf,
    /// Share of sentences to set aside for validation.
    #[arg(long, default_value_t = 0.0)]
    valid_fraction: f64,
    /// Validation output [default: OUT with `.valid` before the extension].
    #[arg(long)]
    valid_out: Option<PathBuf>,
    /// Confusion sets to use instead of the built-in ones
    /// (`a,b,c` per line, or After the Deadline's merged TSV).
    #[arg(long)]
    confusion_sets: Option<PathBuf>,
    /// Misspelling tables to use instead of the built-in one.
    #[arg(long, num_args = 1..)]
    misspellings: Vec<PathBuf>,
    /// Worker threads [default: all cores; RAYON_NUM_THREADS also works].
    #[arg(long)]
    threads: Option<usize>,
    /// Overwrite existing outputs.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct StatsArgs {
    /// A JSONL file written by `typofix data generate`.
    file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct BuildMisspellingsArgs {
    /// Misspelling tables: codespell, `typos` CSV, Wikipedia's tab list,
    /// Freiburg counts, TOEFL-Spell TSV or typofix TSV (detected per file).
    #[arg(long, required = true, num_args = 1..)]
    source: Vec<PathBuf>,
    /// Output TSV; gzip-compressed when the name ends in `.gz`.
    #[arg(long, short)]
    out: PathBuf,
}

#[derive(Args)]
pub struct BuildLexiconArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Words seen fewer times are left out.
    #[arg(long, default_value_t = 3)]
    min_count: u64,
    /// Output file (`word<TAB>count`, gzip-compressed).
    #[arg(long, short)]
    out: PathBuf,
    /// Also count word pairs into this file (`first second<TAB>count`).
    #[arg(long)]
    bigrams: Option<PathBuf>,
    /// Pairs seen fewer times are left out of --bigrams.
    #[arg(long, default_value_t = 5)]
    bigram_min_count: u64,
    /// Word-frequency lists to blend with the corpus's counts: wordfreq's
    /// `large_en.msgpack.gz`, pyspellchecker's `en.json.gz`, or `word count`
    /// lines such as symspell's (`scripts/fetch-word-stats.sh` fetches them).
    #[arg(long, num_args = 1..)]
    word_stats: Vec<PathBuf>,
    /// Share of each word's frequency taken from --word-stats (their mean);
    /// the rest is the corpus's (after --min-count).
    #[arg(long, default_value_t = 0.5)]
    word_stats_weight: f64,
}

pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Generate(args) => run_generate(*args),
        DataCommand::Stats(args) => run_stats(args),
        DataCommand::BuildMisspellings(args) => run_build_misspellings(args),
        DataCommand::BuildLexicon(args) => run_build_lexicon(args),
    }
}

fn run_generate(args: GenerateArgs) -> Result<()> {
    super::set_threads(args.threads)?;
    let weights = args.kinds.unwrap_or_default();
    let confusions = match &args.confusion_sets {
        Some(path) => ConfusionSets::from_path(path)?,
        None => ConfusionSets::builtin(),
    };
    let misspellings = if args.misspellings.is_empty() {
        MisspellingTable::builtin()
    } else {
        MisspellingTable::from_sources(&args.misspellings)?
    };
    let corruptor = Corruptor::new(args.rate, weights, confusions, misspellings)?;
    let corpus = args.corpus.open()?;
    let options = GenerateOptions {
        examples: args.examples,
        seed: args.seed,
        min_words: args.corpus.min_words,
        max_words: args.corpus.max_words,
        valid_fraction: args.valid_fraction,
    };

    let to_stdout = args.out.as_os_str() == "-";
    let valid_out = match (args.valid_fraction > 0.0, &args.valid_out) {
        (false, _) => None,
        (true, Some(path)) => Some(path.clone()),
        (true, None) if to_stdout => bail!("--valid-fraction with --out - needs --valid-out FILE"),
        (true, None) => Some(valid_path(&args.out)),
    };
    let files = (!to_stdout)
        .then_some(&args.out)
        .into_iter()
        .chain(valid_out.as_ref());
    for path in files {
        if path.exists() && !args.force {
            bail!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            );
        }
    }
    let mut train = if to_stdout {
        Output::Stdout(io::stdout().lock())
    } else {
        Output::File(AtomicFile::create(&args.out)?)
    };
    let mut valid = valid_out.as_deref().map(AtomicFile::create).transpose()?;

    let bar = ProgressBar::new(args.examples as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} examples, {per_sec}, ETA {eta}")
            .expect("the progress template is valid"),
    );
    let started = Instant::now();
    let summary = generate(
        &corpus,
        &corruptor,
        &options,
        Sinks {
            train: &mut train,
            valid: valid.as_mut().map(|v| v as &mut dyn Write),
        },
        &mut |n| bar.set_position(n as u64),
    )?;
    bar.finish_and_clear();
    match train {
        Output::File(file) => file.commit()?,
        Output::Stdout(mut out) => out.flush().context("cannot write to standard output")?,
    }
    if let Some(v) = valid {
        v.commit()?;
    }
    print_summary(
        &summary,
        &args,
        valid_out.as_deref(),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// Where the training examples go.
enum Output {
    File(AtomicFile),
    Stdout(io::StdoutLock<'static>),
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::File(f) => f.write(buf),
            Output::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::File(f) => f.flush(),
            Output::Stdout(s) => s.flush(),
        }
    }
}

/// `train.jsonl` → `train.valid.jsonl`.
pub(super) fn valid_path(out: &Path) -> PathBuf {
    let stem = out.file_stem().unwrap_or_default().to_string_lossy();
    let name = match out.extension() {
        Some(ext) => format!("{stem}.valid.{}", ext.to_string_lossy()),
        None => format!("{stem}.valid"),
    };
    out.with_file_name(name)
}

fn print_summary(s: &GenerateSummary, args: &GenerateArgs, valid_out: Option<&Path>, secs: f64) {
    let total = s.train_examples + s.valid_examples;
    let out = if args.out.as_os_str() == "-" {
        "standard output".into()
    } else {
        args.out.display().to_string()
    };
    eprintln!(
        "wrote {} examples to {out} in {secs:.1}s ({:.0} examples/min)",
        s.train_examples,
        total as f64 / secs.max(1e-9) * 60.0
    );
    if let Some(path) = valid_out {
        eprintln!(
            "wrote {} validation examples to {}",
            s.valid_examples,
            path.display()
        );
    }
    if total < args.examples {
        eprintln!(
            "warning: only {total} of the {} examples asked for",
            args.examples
        );
    }
    eprintln!(
        "corrupted {} of {} words ({:.2}%, asked for {:.2}%)",
        s.corrupted_words,
        s.words,
        100.0 * s.realised_rate(),
        100.0 * args.rate
    );
    let kinds: Vec<String> = s.edits.iter().map(|(k, n)| format!("{k} {n}")).collect();
    eprintln!("edits: {}", kinds.join(", "));
    let r = &s.read;
    eprintln!(
        "read {} files, {} lines, {} paragraphs{}; skipped {} empty, {} invalid UTF-8, {} over-long, \
         {} invalid JSON and {} markup lines, {} sentences outside {}..={} words, {} excluded",
        r.files,
        r.lines,
        r.paragraphs,
        if s.corpus_passes > 1 { format!(" ({} passes)", s.corpus_passes) } else { String::new() },
        r.empty_lines,
        r.invalid_utf8,
        r.overlong_lines,
        r.invalid_json,
        r.markup_lines,
        s.out_of_window,
        args.corpus.min_words,
        args.corpus.max_words,
        s.excluded
    );
}

fn run_stats(args: StatsArgs) -> Result<()> {
    let file = File::open(&args.file).map_err(|e| typofix::Error::io(&args.file, e))?;
    let stats = DatasetStats::from_reader(BufReader::new(file))
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &stats)?;
        writeln!(out)?;
        return Ok(());
    }
    print_stats(&mut out, &stats)?;
    Ok(())
}

fn print_stats(out: &mut impl Write, s: &DatasetStats) -> io::Result<()> {
    writeln!(out, "examples        {}", s.examples)?;
    if s.invalid_lines > 0 || s.misaligned > 0 {
        writeln!(out, "invalid lines   {}", s.invalid_lines)?;
        writeln!(out, "misaligned      {}", s.misaligned)?;
    }
    writeln!(out, "words           {}", s.words)?;
    writeln!(
        out,
        "corrupted words {} ({:.2}%)\n",
        s.corrupted_words,
        100.0 * s.realised_rate()
    )?;
    writeln!(
        out,
        "{:<12} {:>9} {:>9} {:>7}",
        "kind", "edits", "words", "rate"
    )?;
    for kind in ErrorKind::ALL {
        let k = s.kinds.get(&kind).cloned().unwrap_or_default();
        writeln!(
            out,
            "{:<12} {:>9} {:>9} {:>6.2}%",
            kind.name(),
            k.edits,
            k.words,
            100.0 * k.words as f64 / s.words.max(1) as f64
        )?;
    }
    if !s.ops.is_empty() {
        writeln!(out)?;
        for (op, n) in &s.ops {
            writeln!(out, "  {op:<20} {n:>9}")?;
        }
    }
    for (title, hist) in [
        ("sentence length (words)", &s.sentence_words),
        ("edits per sentence", &s.edits_per_sentence),
    ] {
        writeln!(out, "\n{title}")?;
        let max = hist.0.iter().map(|b| b.1).max().unwrap_or(0).max(1);
        for (label, n) in &hist.0 {
            let bar = "#".repeat((n * 40).div_ceil(max));
            writeln!(out, "  {label:>6} {n:>9} {bar}")?;
        }
    }
    Ok(())
}

fn run_build_misspellings(args: BuildMisspellingsArgs) -> Result<()> {
    let table = MisspellingTable::from_sources(&args.source)?;
    table.save(&args.out)?;
    eprintln!(
        "wrote misspellings of {} words to {}",
        table.len(),
        args.out.display()
    );
    Ok(())
}

fn run_build_lexicon(args: BuildLexiconArgs) -> Result<()> {
    let corpus = args.corpus.open()?;
    if !(0.0..=1.0).contains(&args.word_stats_weight) {
        bail!("--word-stats-weight must be between 0 and 1");
    }
    let mut counts = count_words(&corpus, args.corpus.window(), args.bigrams.is_some())?;
    counts.lexicon.prune(args.min_count);
    if !args.word_stats.is_empty() {
        let lists = args
            .word_stats
            .iter()
            .map(|path| {
                WordFrequencies::load(path)
                    .with_context(|| format!("cannot read the word list {}", path.display()))
            })
            .collect::<Result<Vec<_>>>()?;
        for (path, list) in args.word_stats.iter().zip(&lists) {
            eprintln!("{}: {} words", path.display(), list.len());
        }
        counts.lexicon = blend(&counts.lexicon, &lists, args.word_stats_weight);
    }
    counts.lexicon.save(&args.out)?;
    if let (Some(counter), Some(path)) = (&counts.bigrams, &args.bigrams) {
        let kept = counter.save(path, args.bigram_min_count, &counts.lexicon)?;
        eprintln!(
            "wrote {kept} word pairs seen {}+ times to {}",
            args.bigram_min_count,
            path.display()
        );
    }
    eprintln!(
        "counted {} words in {} sentences ({} excluded); wrote {} words (those seen {}+ times{}) to {}",
        counts.lexicon.total(),
        counts.sentences,
        counts.excluded,
        counts.lexicon.len(),
        args.min_count,
        if args.word_stats.is_empty() { "" } else { ", blended with the word lists" },
        args.out.display()
    );
    Ok(())
}
