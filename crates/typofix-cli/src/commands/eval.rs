//! `typofix eval`: typofix and baselines side by side on reference sets.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;
use typofix::FixOptions;
use typofix_eval::oracle::{candidate_recall, OracleReport};
use typofix_eval::{
    evaluate, read_jsonl, read_parallel, Identity, Ispell, NearestEdit, Reference, Report, System,
    Typofix,
};

#[derive(Args)]
pub struct EvalArgs {
    /// Reference sets: JSONL with "corrupted" and "clean" ("lowercase" and
    /// "edits" optional).
    #[arg(num_args = 0.., value_name = "JSONL")]
    data: Vec<PathBuf>,
    /// Line-aligned text files instead: the corrupted side...
    #[arg(long, requires = "clean")]
    corrupted: Option<PathBuf>,
    /// ...and the correct side.
    #[arg(long, requires = "corrupted")]
    clean: Option<PathBuf>,
    /// A model directory [default: the built-in model].
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long)]
    threshold: Option<f64>,
    /// Systems to compare with: identity, nearest-edit, hunspell, aspell
    /// (the last two when installed).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "identity,nearest-edit,hunspell,aspell"
    )]
    baselines: Vec<String>,
    /// Score only the first N references of each set.
    #[arg(long)]
    limit: Option<usize>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Measure candidate recall instead: how many gold corrections are
    /// among the readings the corrector weighs (no model is run).
    #[arg(long)]
    oracle: bool,
    /// How the language model runs: fused, int8, bf16, standard or ane (see `typofix fix`).
    #[arg(long, default_value = "fused")]
    engine: typofix::model::Engine,
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Serialize)]
struct OracleSet {
    set: String,
    references: usize,
    #[serde(flatten)]
    report: OracleReport,
}

#[derive(Serialize)]
struct SetReport {
    set: String,
    references: usize,
    systems: Vec<Report>,
}

pub fn run(args: EvalArgs) -> Result<()> {
    super::set_threads(args.threads)?;
    let mut sets: Vec<(String, Vec<Reference>)> = Vec::new();
    for path in &args.data {
        let name = path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into(),
        );
        sets.push((name, read_jsonl(path)?));
    }
    if let (Some(c), Some(k)) = (&args.corrupted, &args.clean) {
        let name = c
            .file_stem()
            .map_or("text".into(), |s| s.to_string_lossy().to_string());
        sets.push((name, read_parallel(c, k)?));
    }
    if sets.is_empty() {
        bail!("nothing to evaluate: give JSONL files, or --corrupted and --clean");
    }
    let corrector = super::fix::load_corrector(args.model.as_deref(), args.engine)?;
    if args.oracle {
        return run_oracle(&args, &corrector, sets);
    }
    let mut systems: Vec<Box<dyn System + '_>> = vec![Box::new(Typofix {
        corrector: &corrector,
        options: FixOptions {
            threshold: args.threshold,
            ..FixOptions::default()
        },
    })];
    for name in &args.baselines {
        match name.as_str() {
            "identity" => systems.push(Box::new(Identity)),
            "nearest-edit" => systems.push(Box::new(NearestEdit::new(
                corrector.lexicon(),
                corrector.settings().candidate_min_count,
            ))),
            "hunspell" | "aspell" => {
                let checker = if name == "hunspell" {
                    Ispell::hunspell()
                } else {
                    Ispell::aspell()
                };
                if checker.available() {
                    systems.push(Box::new(checker));
                } else {
                    eprintln!(
                        "note: {name} is not installed (Debian: apt install hunspell \
                         hunspell-en-us aspell aspell-en); leaving it out"
                    );
                }
            }
            "" | "none" => {}
            other => {
                bail!("unknown baseline {other:?}: use identity, nearest-edit, hunspell or aspell")
            }
        }
    }

    let mut reports = Vec::new();
    for (name, mut references) in sets {
        if let Some(n) = args.limit {
            references.truncate(n);
        }
        let mut set = SetReport {
            set: name,
            references: references.len(),
            systems: Vec::new(),
        };
        for system in &systems {
            set.systems.push(evaluate(system.as_ref(), &references)?);
        }
        if !args.json {
            print_table(&set);
        }
        reports.push(set);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

fn run_oracle(
    args: &EvalArgs,
    corrector: &typofix::Corrector,
    sets: Vec<(String, Vec<Reference>)>,
) -> Result<()> {
    let options = FixOptions {
        threshold: args.threshold,
        ..FixOptions::default()
    };
    let mut reports = Vec::new();
    for (name, mut references) in sets {
        if let Some(n) = args.limit {
            references.truncate(n);
        }
        let report = candidate_recall(corrector, &references, &options);
        if !args.json {
            println!(
                "{name}: candidate recall {:.2}% ({} of {} error blocks; {:.1} spans per text, \
                 {:.1} readings per span)",
                100.0 * report.candidate_recall,
                report.covered,
                report.gold_blocks,
                report.spans_per_text,
                report.readings_per_span
            );
            for (kind, c) in &report.per_kind {
                println!(
                    "  {:<12} {:>6.2}% ({}/{})",
                    kind.name(),
                    100.0 * c.fixed as f64 / c.errors.max(1) as f64,
                    c.fixed,
                    c.errors
                );
            }
        }
        reports.push(OracleSet {
            set: name,
            references: references.len(),
            report,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

fn print_table(set: &SetReport) {
    println!(
        "\n{} ({} texts, {} error blocks, {} words)",
        set.set,
        set.references,
        set.systems.first().map_or(0, |r| r.scores.gold_blocks),
        set.systems.first().map_or(0, |r| r.scores.reference_words),
    );
    println!(
        "| system | token acc | correction | broken | precision | recall | F1 | exact | words/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let pct = |x: f64| format!("{:.2}%", 100.0 * x);
    for r in &set.systems {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.0} |",
            r.system,
            pct(r.token_accuracy),
            pct(r.correction_rate),
            pct(r.broken_rate),
            pct(r.precision),
            pct(r.recall),
            pct(r.f1),
            pct(r.exact_match),
            r.words_per_second
        );
    }
    let kinds: Vec<_> = set
        .systems
        .first()
        .map(|r| r.scores.per_kind.keys().copied().collect())
        .unwrap_or_default();
    if kinds.is_empty() {
        return;
    }
    println!("\ncorrection rate per error kind:");
    let header: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
    println!("| system | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(kinds.len()));
    for r in &set.systems {
        let cells: Vec<String> = kinds
            .iter()
            .map(|k| {
                let c = r.scores.per_kind[k];
                format!(
                    "{} ({}/{})",
                    pct(c.fixed as f64 / c.errors.max(1) as f64),
                    c.fixed,
                    c.errors
                )
            })
            .collect();
        println!("| {} | {} |", r.system, cells.join(" | "));
    }
}
