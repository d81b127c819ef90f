//! `typofix train …`: tokenizers and models.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_nn::VarMap;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use typofix::model::{Checkpoint, Config, Detector, DETECTOR_PREFIX};
use typofix::tokenizer::{Normalisation, Tokenizer};
use typofix_train::build;
use typofix_train::train::{
    init_model, init_weights, latest_checkpoint, Decay, DetectData, DetectTask, Event, MlmData,
    MlmDataOptions, MlmTask, Schedule, Task, TrainOptions, Trainer, CHECKPOINTS_DIR, FINAL_DIR,
    METRICS_FILE,
};

use super::{CorpusArgs, ModelShapeArgs};

#[derive(Subcommand)]
pub enum TrainCommand {
    /// Train a WordPiece vocabulary on a corpus.
    Tokenizer(TokenizerArgs),
    /// Masked-language-model training: pretraining from scratch, or
    /// continued training of a checkpoint (--init).
    Mlm(Box<MlmArgs>),
    /// Train the error-detection head over a model's frozen encoder, on
    /// `typofix data` pairs.
    Detect(Box<DetectArgs>),
}

#[derive(Args)]
pub struct TokenizerArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    #[arg(long, default_value_t = 8192)]
    vocab_size: usize,
    /// Keep case and accents (the default is uncased, like distilbert-base-uncased).
    #[arg(long)]
    cased: bool,
    /// Sentences to learn from.
    #[arg(long, default_value_t = 500_000)]
    max_sentences: usize,
    #[arg(long, short)]
    out: PathBuf,
}

#[derive(Args)]
pub struct MlmArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Start from this checkpoint (ours or Hugging Face's) instead of from scratch.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Train only the MLM head (the prototype's recipe); needs --init.
    #[arg(long)]
    freeze_encoder: bool,
    /// A tokenizer directory for a model from scratch [default: train one].
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Vocabulary size of a tokenizer trained here.
    #[arg(long, default_value_t = 8192)]
    vocab_size: usize,
    /// Model size from scratch: distilbert-base, or small (the dims below).
    #[arg(long, default_value = "small", value_parser = ["small", "distilbert-base"])]
    config: String,
    #[command(flatten)]
    shape: ModelShapeArgs,
    /// Longest sequence in tokens ([CLS] and [SEP] included).
    #[arg(long, default_value_t = 64)]
    seq_len: usize,
    /// Sentences to read from the corpus.
    #[arg(long, default_value_t = 1_000_000)]
    max_sentences: usize,
    #[arg(long, default_value_t = 0.01)]
    valid_fraction: f64,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
pub struct DetectArgs {
    /// The model whose encoder the head reads: a model directory (such as
    /// one `typofix model package` wrote) or a training checkpoint.
    #[arg(long)]
    init: PathBuf,
    /// Training pairs, as `typofix data` writes them (JSONL).
    #[arg(long)]
    pairs: PathBuf,
    /// Validation pairs [default: PAIRS with `.valid` before the extension].
    #[arg(long)]
    valid: Option<PathBuf>,
    /// Longest sequence in tokens ([CLS] and [SEP] included).
    #[arg(long, default_value_t = 64)]
    seq_len: usize,
    /// Examples to read from each file.
    #[arg(long, default_value_t = 1_000_000)]
    max_examples: usize,
    #[command(flatten)]
    run: RunArgs,
}

/// How a training run goes, whatever its task.
#[derive(Args)]
pub struct RunArgs {
    /// Output directory: metrics.jsonl, checkpoints/ and the final model/.
    #[arg(long, short)]
    out: PathBuf,
    /// Continue from the newest checkpoint in --out.
    #[arg(long)]
    resume: bool,
    /// Optimiser steps [default: one epoch].
    #[arg(long)]
    steps: Option<u64>,
    /// Epochs, when --steps is not given.
    #[arg(long, default_value_t = 1.0)]
    epochs: f64,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Batches whose gradients are summed into one step.
    #[arg(long, default_value_t = 1)]
    grad_accum: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 5e-4)]
    lr: f64,
    /// Warm-up, as a share of the steps.
    #[arg(long, default_value_t = 0.05)]
    warmup: f64,
    /// Decay after warm-up: linear, cosine or constant.
    #[arg(long, default_value = "linear")]
    schedule: Decay,
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// Gradient-norm limit (0: none).
    #[arg(long, default_value_t = 1.0)]
    clip: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 10)]
    log_every: u64,
    #[arg(long, default_value_t = 200)]
    eval_every: u64,
    #[arg(long, default_value_t = 200)]
    checkpoint_every: u64,
    #[arg(long, default_value_t = 2)]
    keep_checkpoints: usize,
    /// cpu, or cuda / metal in builds with those features.
    #[arg(long, default_value = "cpu")]
    device: String,
    #[arg(long)]
    threads: Option<usize>,
}

impl RunArgs {
    /// Sets the threads and opens the device; refuses to overwrite a run
    /// unless resuming it. Returns the checkpoint to resume from, if any.
    fn start(&self) -> Result<(candle_core::Device, Option<PathBuf>)> {
        super::set_threads(self.threads)?;
        let device = device(&self.device)?;
        let resuming = latest_checkpoint(&self.out)?;
        if resuming.is_some() && !self.resume {
            bail!(
                "{} already holds a training run; pass --resume to continue it, or choose another --out",
                self.out.display()
            );
        }
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("cannot create {}", self.out.display()))?;
        Ok((device, resuming))
    }

    fn options(&self, task: &dyn Task) -> TrainOptions {
        let steps = self.steps.unwrap_or_else(|| {
            ((task.batches_per_epoch() as f64 * self.epochs) / self.grad_accum.max(1) as f64).ceil()
                as u64
        });
        TrainOptions {
            steps,
            grad_accum: self.grad_accum,
            schedule: Schedule {
                peak: self.lr,
                warmup_steps: (self.warmup * steps as f64).round() as u64,
                total_steps: steps,
                decay: self.schedule,
            },
            weight_decay: self.weight_decay,
            clip: self.clip,
            seed: self.seed,
            log_every: self.log_every,
            eval_every: self.eval_every,
            checkpoint_every: self.checkpoint_every,
            keep_checkpoints: self.keep_checkpoints,
        }
    }
}

pub fn run(cmd: TrainCommand) -> Result<()> {
    match cmd {
        TrainCommand::Tokenizer(args) => run_tokenizer(args),
        TrainCommand::Mlm(args) => run_mlm(*args),
        TrainCommand::Detect(args) => run_detect(*args),
    }
}

fn train_tokenizer(
    corpus: &CorpusArgs,
    vocab_size: usize,
    max_sentences: usize,
    cased: bool,
) -> Result<Tokenizer> {
    let normalisation = Normalisation {
        lowercase: !cased,
        strip_accents: None,
    };
    Ok(build::train_tokenizer(
        &corpus.open()?,
        corpus.window(),
        max_sentences,
        vocab_size,
        normalisation,
    )?)
}

fn run_tokenizer(args: TokenizerArgs) -> Result<()> {
    let tokenizer = train_tokenizer(
        &args.corpus,
        args.vocab_size,
        args.max_sentences,
        args.cased,
    )?;
    tokenizer.save(&args.out, 512)?;
    eprintln!(
        "wrote a {}-token WordPiece vocabulary to {}",
        tokenizer.vocab_size(),
        args.out.display()
    );
    Ok(())
}

fn device(name: &str) -> Result<candle_core::Device> {
    Ok(match name {
        "cpu" => candle_core::Device::Cpu,
        "cuda" => candle_core::Device::new_cuda(0).context(
            "cannot use CUDA: this build has no CUDA support or no GPU is visible \
             (build with `--features cuda` on a machine with the CUDA toolkit)",
        )?,
        "metal" => candle_core::Device::new_metal(0)
            .context("cannot use Metal: build with `--features metal` on a Mac")?,
        other => bail!("unknown device {other:?}; use cpu, cuda or metal"),
    })
}

fn run_mlm(args: MlmArgs) -> Result<()> {
    let (device, resuming) = args.run.start()?;
    if args.freeze_encoder && args.init.is_none() && resuming.is_none() {
        bail!("--freeze-encoder trains the head of an existing model: give it with --init");
    }

    // Tokenizer and model: from the run's own checkpoint when resuming, from
    // --init when fine-tuning, else new.
    let tokenizer_dir = args.run.out.join("tokenizer");
    let (tokenizer, config, varmap) = if let Some(dir) = &resuming {
        let config = typofix::model::read_config(&dir.join("config.json"))?;
        let varmap = init_model(&config, args.run.seed, &device)?;
        (Tokenizer::load(dir)?, config, varmap)
    } else if let Some(init) = &args.init {
        let checkpoint = Checkpoint::load(init, &device)?;
        let config = checkpoint.config.clone();
        (Tokenizer::load(init)?, config, checkpoint.into_varmap()?)
    } else {
        let tokenizer = match &args.tokenizer {
            Some(dir) => Tokenizer::load(dir)?,
            None => {
                eprintln!("training a {}-token WordPiece vocabulary…", args.vocab_size);
                let t = train_tokenizer(
                    &args.corpus,
                    args.vocab_size,
                    args.max_sentences.min(500_000),
                    false,
                )?;
                t.save(&tokenizer_dir, args.seq_len)?;
                t
            }
        };
        let mut config = match args.config.as_str() {
            "distilbert-base" => Config::distilbert_base(),
            _ => args.shape.config(tokenizer.vocab_size(), args.seq_len),
        };
        config.vocab_size = tokenizer.vocab_size();
        config.pad_token_id = tokenizer.pad_id;
        config.validate().map_err(anyhow::Error::msg)?;
        let varmap = init_model(&config, args.run.seed, &device)?;
        (tokenizer, config, varmap)
    };
    if tokenizer.vocab_size() > config.vocab_size {
        bail!(
            "the tokenizer has {} tokens but the model only {}",
            tokenizer.vocab_size(),
            config.vocab_size
        );
    }

    let data_options = MlmDataOptions {
        seq_len: args.seq_len.min(config.max_position_embeddings),
        min_words: args.corpus.min_words,
        max_words: args.corpus.max_words,
        max_sentences: args.max_sentences,
        valid_fraction: args.valid_fraction,
        ..MlmDataOptions::default()
    };
    let data = MlmData::from_corpus(&args.corpus.open()?, &tokenizer, &data_options)?;
    eprintln!(
        "{} training sequences ({} tokens), {} validation sequences",
        data.train.len(),
        data.train_tokens(),
        data.valid.len()
    );
    let task = MlmTask::new(
        data,
        &tokenizer,
        config.vocab_size,
        args.run.batch_size,
        args.run.seed,
        args.freeze_encoder,
        device,
    );
    let freeze = args.freeze_encoder;
    let trainable = move |name: &str| !freeze || !name.starts_with("distilbert.");
    train(
        &args.run,
        &task,
        config,
        &varmap,
        tokenizer,
        trainable,
        "masked-token",
    )
}

fn run_detect(args: DetectArgs) -> Result<()> {
    let (device, _) = args.run.start()?;
    let checkpoint = Checkpoint::load(&args.init, &device).with_context(|| {
        format!(
            "cannot read the model to train a detector on ({})",
            args.init.display()
        )
    })?;
    let tokenizer = Tokenizer::load(&args.init)?;
    let config = checkpoint.config.clone();
    // A run resumed from its checkpoint takes the head from there; the
    // encoder is frozen, so --init gives the same one either way.
    let varmap = checkpoint.into_varmap()?;
    let vb = candle_nn::VarBuilder::from_varmap(&varmap, candle_core::DType::F32, &device);
    let detector = Detector::load(vb.pp(DETECTOR_PREFIX), &config)?;
    let is_head = |name: &str| name.starts_with(DETECTOR_PREFIX);
    init_weights(&varmap, &config, args.run.seed, is_head)?;

    let valid = args
        .valid
        .clone()
        .unwrap_or_else(|| super::data::valid_path(&args.pairs));
    let seq_len = args.seq_len.min(config.max_position_embeddings);
    let data = DetectData::from_pairs(&args.pairs, &valid, &tokenizer, seq_len, args.max_examples)?;
    eprintln!(
        "{} training and {} validation sentences",
        data.train.len(),
        data.valid.len()
    );
    let task = DetectTask::new(
        data,
        detector,
        &tokenizer,
        args.run.batch_size,
        args.run.seed,
        device,
    );
    train(
        &args.run, &task, config, &varmap, tokenizer, is_head, "token",
    )
}

/// Runs `task` to the end with a progress bar; `metric` names what the
/// validation accuracy counts.
fn train(
    run: &RunArgs,
    task: &dyn Task,
    config: Config,
    varmap: &VarMap,
    tokenizer: Tokenizer,
    trainable: impl Fn(&str) -> bool,
    metric: &str,
) -> Result<()> {
    let options = run.options(task);
    let steps = options.steps;
    let mut trainer = Trainer::new(&run.out, config, varmap, tokenizer, options, trainable)?;
    if let Some(step) = trainer.resume()? {
        eprintln!("resuming {} from step {step}", run.out.display());
    }

    let bar = ProgressBar::new(steps).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps {msg} ETA {eta}")
            .expect("valid template"),
    );
    bar.set_position(trainer.step());
    trainer.run(task, &mut |event| match event {
        Event::Resumed { .. } => {}
        Event::Step(log) => {
            bar.set_position(log.step);
            bar.set_message(format!(
                "loss {:.3} lr {:.2e} {:.0} tok/s",
                log.loss, log.lr, log.tokens_per_sec
            ));
        }
        Event::Eval(log) => bar.println(format!(
            "step {}: validation loss {:.4}, {metric} accuracy {:.2}%{}",
            log.step,
            log.valid_loss,
            100.0 * log.valid_accuracy,
            log.valid_f1
                .map(|f1| format!(", F1 {:.2}%", 100.0 * f1))
                .unwrap_or_default()
        )),
        Event::Checkpoint { path, .. } => bar.println(format!("checkpoint {}", path.display())),
    })?;
    bar.finish_and_clear();
    report_done(&run.out)
}

fn report_done(out: &Path) -> Result<()> {
    eprintln!(
        "done: model in {}, metrics in {}, checkpoints in {}",
        out.join(FINAL_DIR).display(),
        out.join(METRICS_FILE).display(),
        out.join(CHECKPOINTS_DIR).display()
    );
    Ok(())
}
