//! `typofix model …`: inspect, fetch and query DistilBERT checkpoints.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use typofix::correct::{ChannelModel, Settings, CORRECTOR_FILE};
use typofix::dataset::DatasetStats;
use typofix::lexicon::{Lexicon, LEXICON_FILE};
use typofix::model::{fill_mask, Checkpoint, CONFIG_FILE, WEIGHTS_FILE};
use typofix::ngram::BIGRAMS_FILE;
use typofix::tokenizer::{Tokenizer, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, VOCAB_FILE};
use typofix::Corrector;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Predict every [MASK] in a text, like transformers' fill-mask pipeline.
    FillMask(FillMaskArgs),
    /// Fetch a DistilBERT checkpoint from the Hugging Face hub (needs a network).
    Download(DownloadArgs),
    /// Show a checkpoint's configuration and size.
    Info(InfoArgs),
    /// Rewrite a checkpoint in Hugging Face's layout, optionally in fp16.
    Convert(ConvertArgs),
    /// Assemble a corrector model: a trained MLM, its tokenizer, a lexicon and
    /// the error model estimated from generated data.
    Package(PackageArgs),
}

#[derive(Args)]
pub struct PackageArgs {
    /// The masked language model (a checkpoint directory with its tokenizer).
    #[arg(long)]
    mlm: PathBuf,
    /// The lexicon from `typofix data build-lexicon`.
    #[arg(long)]
    lexicon: PathBuf,
    /// Word-pair counts from `typofix data build-lexicon --bigrams`.
    #[arg(long)]
    bigrams: Option<PathBuf>,
    /// Generated data (`typofix data generate`) to estimate the error model
    /// from [default: the rates of the built-in generator].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Share of words with a typo in the text to correct: scales the error
    /// model's rates.
    #[arg(long, default_value_t = 0.05)]
    error_rate: f64,
    /// Decision settings (corrector.json) to start from.
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Weight precision.
    #[arg(long, default_value = "f16", value_parser = ["f32", "f16", "bf16"])]
    dtype: String,
    #[arg(long, short)]
    out: PathBuf,
    /// Replace the files of an existing model directory.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct FillMaskArgs {
    /// A checkpoint directory (config.json, model.safetensors, and
    /// tokenizer.json or vocab.txt).
    #[arg(long)]
    model: PathBuf,
    /// Candidates to show per mask.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// Print JSON: per mask, its position and [{token, id, probability}].
    #[arg(long)]
    json: bool,
    /// Text with one or more [MASK] tokens.
    text: String,
}

#[derive(Args)]
pub struct DownloadArgs {
    /// Repository on the hub, e.g. distilbert-base-uncased.
    name: String,
    #[arg(long, default_value = "main")]
    revision: String,
    /// Where to put the files [default: the repository's name].
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
pub struct ConvertArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    out: PathBuf,
    /// Weight precision: f32, f16 or bf16.
    #[arg(long, default_value = "f32", value_parser = ["f32", "f16", "bf16"])]
    dtype: String,
}

#[derive(Args)]
pub struct InfoArgs {
    #[arg(long)]
    model: PathBuf,
}

pub fn run(cmd: ModelCommand) -> Result<()> {
    match cmd {
        ModelCommand::FillMask(args) => run_fill_mask(args),
        ModelCommand::Download(args) => run_download(args),
        ModelCommand::Info(args) => run_info(args),
        ModelCommand::Convert(args) => run_convert(args),
        ModelCommand::Package(args) => run_package(args),
    }
}

fn load(dir: &Path) -> Result<(Checkpoint, Tokenizer)> {
    let checkpoint = Checkpoint::load(dir, &candle_core::Device::Cpu)?;
    let tokenizer = Tokenizer::load(dir)?;
    if tokenizer.vocab_size() > checkpoint.config.vocab_size {
        bail!(
            "{}: the tokenizer has {} tokens but the model only {}: they do not belong together",
            dir.display(),
            tokenizer.vocab_size(),
            checkpoint.config.vocab_size
        );
    }
    Ok((checkpoint, tokenizer))
}

fn run_fill_mask(args: FillMaskArgs) -> Result<()> {
    let (checkpoint, tokenizer) = load(&args.model)?;
    let model = checkpoint.model()?;
    let predictions = fill_mask(&model, &tokenizer, &args.text, args.top_k)?;
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &predictions)?;
        writeln!(out)?;
        return Ok(());
    }
    for p in &predictions {
        writeln!(out, "[MASK] at token {}:", p.position)?;
        for c in &p.candidates {
            writeln!(out, "  {:<16} {:>6}  {:.4}", c.token, c.id, c.probability)?;
        }
    }
    Ok(())
}

fn run_convert(args: ConvertArgs) -> Result<()> {
    let checkpoint = Checkpoint::load(&args.model, &candle_core::Device::Cpu)?;
    Checkpoint::save(
        &args.out,
        &checkpoint.config,
        &checkpoint.tensors,
        dtype(&args.dtype),
    )?;
    if let Ok(tokenizer) = Tokenizer::load(&args.model) {
        tokenizer.save(&args.out, checkpoint.config.max_position_embeddings)?;
    }
    eprintln!(
        "wrote {} ({}) to {}",
        args.model.display(),
        args.dtype,
        args.out.display()
    );
    Ok(())
}

fn run_info(args: InfoArgs) -> Result<()> {
    let checkpoint = Checkpoint::load(&args.model, &candle_core::Device::Cpu)?;
    let c = &checkpoint.config;
    let params: usize = checkpoint.tensors.values().map(|t| t.elem_count()).sum();
    println!("{}", args.model.display());
    println!(
        "  DistilBERT: {} layers, dim {}, {} heads, hidden {}, vocabulary {}, {} positions",
        c.n_layers, c.dim, c.n_heads, c.hidden_dim, c.vocab_size, c.max_position_embeddings
    );
    println!("  parameters: {params} ({:.1} M)", params as f64 / 1e6);
    match Tokenizer::load(&args.model) {
        Ok(t) => println!("  tokenizer: {} tokens", t.vocab_size()),
        Err(e) => println!("  tokenizer: none ({e})"),
    }
    Ok(())
}

fn run_download(args: DownloadArgs) -> Result<()> {
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(args.name.rsplit('/').next().unwrap_or(&args.name)));
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(true)
        .build()
        .context("cannot set up the Hugging Face hub client")?;
    let repo = api.repo(hf_hub::Repo::with_revision(
        args.name.clone(),
        hf_hub::RepoType::Model,
        args.revision.clone(),
    ));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let required = [CONFIG_FILE, WEIGHTS_FILE];
    let optional = [TOKENIZER_FILE, VOCAB_FILE, TOKENIZER_CONFIG_FILE];
    for file in required.iter().chain(&optional) {
        match repo.get(file) {
            Ok(cached) => {
                std::fs::copy(&cached, out.join(file))
                    .with_context(|| format!("cannot copy {file} into {}", out.display()))?;
            }
            Err(e) if required.contains(file) => bail!(
                "cannot fetch {file} of {}@{} from the Hugging Face hub: {e}\n\
                 Check the name and your network. Offline, put config.json and model.safetensors \
                 (plus tokenizer.json or vocab.txt) in a directory by hand and pass it with --model.",
                args.name,
                args.revision
            ),
            Err(_) => {}
        }
    }
    // Prove that what arrived is a usable checkpoint before saying so.
    load(&out).with_context(|| format!("{} was downloaded but does not load", args.name))?;
    eprintln!(
        "downloaded {}@{} into {}",
        args.name,
        args.revision,
        out.display()
    );
    Ok(())
}

fn run_package(args: PackageArgs) -> Result<()> {
    if args.out.join(CONFIG_FILE).exists() && !args.force {
        bail!(
            "{} already holds a model; pass --force to replace it",
            args.out.display()
        );
    }
    let (checkpoint, _) = load(&args.mlm)?;
    let tokenizer_json = args.mlm.join(TOKENIZER_FILE);
    if !tokenizer_json.exists() {
        bail!(
            "{} is missing: a corrector model needs the tokenizer.json the MLM was trained with",
            tokenizer_json.display()
        );
    }
    // Fail before writing anything if the lexicon does not read.
    Lexicon::load(&args.lexicon)?;
    let mut settings = match &args.settings {
        Some(path) => serde_json::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("{} is not valid corrector settings", path.display()))?,
        None => Settings::default(),
    };
    settings.channel = match &args.data {
        Some(path) => {
            let file = typofix::corpus::open_maybe_gzip(path)?;
            let stats = DatasetStats::from_reader(file)
                .with_context(|| format!("reading {}", path.display()))?;
            if stats.examples == 0 {
                bail!("{} holds no examples", path.display());
            }
            ChannelModel::from_stats(&stats, args.error_rate)
        }
        None => ChannelModel::default(),
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    Checkpoint::save(
        &args.out,
        &checkpoint.config,
        &checkpoint.tensors,
        dtype(&args.dtype),
    )?;
    for (from, name) in [
        (&tokenizer_json, TOKENIZER_FILE),
        (&args.lexicon, LEXICON_FILE),
    ] {
        let to = args.out.join(name);
        std::fs::copy(from, &to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    if let Some(from) = &args.bigrams {
        let to = args.out.join(BIGRAMS_FILE);
        std::fs::copy(from, &to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    settings.save(&args.out.join(CORRECTOR_FILE))?;
    // Check that what was written loads as a corrector.
    let corrector = Corrector::load(&args.out)?;
    eprintln!(
        "wrote a corrector model to {} ({} lexicon words, error rate {:.3})",
        args.out.display(),
        corrector.lexicon().len(),
        corrector.settings().channel.total()
    );
    Ok(())
}

pub(crate) fn dtype(name: &str) -> candle_core::DType {
    match name {
        "f16" => candle_core::DType::F16,
        "bf16" => candle_core::DType::BF16,
        _ => candle_core::DType::F32,
    }
}
