//! `typofix bench …`: speed measurements.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use typofix::model::{Checkpoint, Config, Engine, MaskedLm};
use typofix_eval::bench::{time_inference, time_training_steps, InferenceTiming};
use typofix_train::train::init_model;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Time the language model's inference on CPU in each engine (fused,
    /// int8, standard, ANE form): latency per call (median, p90, p99) and
    /// throughput, for each engine, sequence length, batch size and thread
    /// count (compare with
    /// scripts/bench_inference_peers.py: PyTorch and ONNX Runtime).
    Model(ModelBenchArgs),
    /// Time MLM training steps on a synthetic batch (compare with
    /// scripts/bench_train_torch.py, which runs the same step in PyTorch).
    Train(TrainBenchArgs),
}

#[derive(Args)]
pub struct TrainBenchArgs {
    #[arg(long, default_value_t = 8192)]
    vocab_size: usize,
    #[command(flatten)]
    shape: super::ModelShapeArgs,
    #[arg(long, default_value_t = 32)]
    batch: usize,
    #[arg(long, default_value_t = 32)]
    seq_len: usize,
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    #[arg(long, default_value_t = 20)]
    steps: usize,
    #[arg(long)]
    threads: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Which model to time.
#[derive(Clone, Copy, ValueEnum)]
enum ModelChoice {
    /// The model that ships with typofix.
    Shipped,
    /// all-MiniLM-L6-v2's size, which the shipped model has (6 layers, dim
    /// 384, vocabulary 30522), random weights: the size PyTorch and ONNX
    /// Runtime are given in scripts/bench_inference_peers.py.
    Minilm,
    /// distilbert-base-uncased's size (6 layers, dim 768, vocabulary
    /// 30522), random weights.
    DistilbertBase,
}

#[derive(Args)]
pub struct ModelBenchArgs {
    /// The model: shipped, or minilm or distilbert-base (random weights of that size).
    #[arg(long, value_enum, default_value = "shipped", conflicts_with = "model")]
    config: ModelChoice,
    /// A checkpoint directory instead.
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, value_delimiter = ',', default_value = "fused,standard,ane")]
    engines: Vec<Engine>,
    /// Sequence lengths; those above the model's positions are skipped.
    #[arg(long, value_delimiter = ',', default_value = "16,32,128")]
    seq_lens: Vec<usize>,
    #[arg(long, value_delimiter = ',', default_value = "1,32")]
    batches: Vec<usize>,
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Timed runs per configuration (the prototype used 40).
    #[arg(long, default_value_t = 40)]
    runs: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ModelBenchReport {
    model: String,
    parameters: usize,
    config: Config,
    tokens_per_word: f64,
    skipped: Vec<String>,
    timings: Vec<InferenceTiming>,
}

/// Tokens per word of the shipped tokenizer on data/sample/paragraphs.txt, for words/s.
fn tokens_per_word() -> Result<f64> {
    let tokenizer = super::builtin_tokenizer()?;
    let sample = include_str!("../../../../data/sample/paragraphs.txt");
    let (mut tokens, mut words) = (0usize, 0usize);
    for line in sample.lines().filter(|l| !l.trim().is_empty()) {
        tokens += tokenizer.encode(line)?.ids.len() - 2;
        words += line.split_whitespace().count();
    }
    Ok(tokens as f64 / words.max(1) as f64)
}

fn bench_checkpoint(args: &ModelBenchArgs) -> Result<(String, Checkpoint)> {
    if let Some(dir) = &args.model {
        let checkpoint = Checkpoint::load(dir, &candle_core::Device::Cpu)
            .with_context(|| format!("cannot load {}", dir.display()))?;
        return Ok((dir.display().to_string(), checkpoint));
    }
    let (config, name) = match args.config {
        ModelChoice::Shipped => return Ok(("shipped".into(), super::builtin_checkpoint()?)),
        ModelChoice::Minilm => (Config::minilm_l6(), "minilm"),
        ModelChoice::DistilbertBase => (Config::distilbert_base(), "distilbert-base"),
    };
    let varmap = init_model(&config, 0, &candle_core::Device::Cpu)?;
    let tensors = varmap
        .data()
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
        .collect();
    Ok((
        format!("{name} (random weights)"),
        Checkpoint { config, tensors },
    ))
}

fn run_model_bench(args: ModelBenchArgs) -> Result<()> {
    let (name, checkpoint) = bench_checkpoint(&args)?;
    let tokens_per_word = tokens_per_word()?;
    let parameters = checkpoint.tensors.values().map(|t| t.elem_count()).sum();
    let mut report = ModelBenchReport {
        model: name,
        parameters,
        config: checkpoint.config.clone(),
        tokens_per_word,
        skipped: Vec::new(),
        timings: Vec::new(),
    };
    let max_len = checkpoint.config.max_position_embeddings;
    for &s in args.seq_lens.iter().filter(|&&s| s > max_len) {
        report
            .skipped
            .push(format!("seq {s}: the model has {max_len} positions"));
    }
    for &engine in &args.engines {
        let model = MaskedLm::from_checkpoint(&checkpoint, engine)?;
        for &threads in &args.threads {
            // candle's matrix kernels size their work from this variable,
            // and element-wise ops run in the rayon pool they are called from.
            std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| anyhow::anyhow!("cannot start {threads} threads: {e}"))?;
            for &seq_len in args.seq_lens.iter().filter(|&&s| s <= max_len) {
                for &batch in &args.batches {
                    let timing = pool.install(|| {
                        time_inference(
                            &model,
                            batch,
                            seq_len,
                            args.warmup,
                            args.runs,
                            threads,
                            tokens_per_word,
                        )
                    })?;
                    if !args.json {
                        print_timing(&timing);
                    }
                    report.timings.push(timing);
                }
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for note in &report.skipped {
            println!("skipped {note}");
        }
    }
    Ok(())
}

fn print_timing(t: &InferenceTiming) {
    println!(
        "{:<8} threads {} seq {:>3} batch {:>2}: median {:>8.2} ms  p90 {:>8.2}  p99 {:>8.2}  \
         per sequence {:>7.3} ms  {:>8.1} seq/s  {:>9.0} words/s",
        t.engine.to_string(),
        t.threads,
        t.seq_len,
        t.batch,
        t.median_ms,
        t.p90_ms,
        t.p99_ms,
        t.per_sequence_ms,
        t.sequences_per_s,
        t.words_per_s
    );
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Model(args) => run_model_bench(args),
        BenchCommand::Train(args) => {
            super::set_threads(args.threads)?;
            let config = args.shape.config(args.vocab_size, args.seq_len.max(64));
            let t = time_training_steps(
                &config,
                args.batch,
                args.seq_len,
                args.warmup,
                args.steps,
                &candle_core::Device::Cpu,
            )?;
            if args.json {
                println!("{}", serde_json::to_string(&t)?);
            } else {
                println!(
                    "typofix (candle): {} parameters, batch {} x seq {}: median step {:.1} ms \
                     (forward {:.1}, backward {:.1}, optimizer {:.1}), {:.0} tokens/s",
                    t.parameters,
                    t.batch,
                    t.seq_len,
                    t.median_step_s * 1e3,
                    t.median_forward_s * 1e3,
                    t.median_backward_s * 1e3,
                    t.median_optimizer_s * 1e3,
                    t.tokens_per_sec
                );
            }
            Ok(())
        }
    }
}
