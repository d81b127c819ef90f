//! `typofix model …`: inspect, fetch and query DistilBERT checkpoints.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use typofix::correct::{ChannelModel, Settings};
use typofix::gzip::open_maybe_gzip;
use typofix::model::{fill_mask, Checkpoint, CONFIG_FILE, WEIGHTS_FILE};
use typofix::package::{ModelPackage, PackageSources};
use typofix::tokenizer::{Tokenizer, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, VOCAB_FILE};
use typofix_train::dataset::DatasetStats;
use typofix_train::import::{import_bert, Head};

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Predict every [MASK] in a text, like transformers' fill-mask pipeline.
    FillMask(FillMaskArgs),
    /// Fetch a DistilBERT checkpoint from the Hugging Face hub (needs a network).
    Download(DownloadArgs),
    /// Show a checkpoint's configuration and size.
    Info(InfoArgs),
    /// Convert a Hugging Face BERT checkpoint (BertModel or
    /// BertForMaskedLM: MiniLM, bert-base-uncased, …) into typofix's
    /// DistilBertForMaskedLM layout, to train or package from there.
    Import(ImportArgs),
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
    /// The error-detection head: a checkpoint of `typofix train detect`
    /// trained over this --mlm's encoder.
    #[arg(long)]
    detector: Option<PathBuf>,
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
pub struct ImportArgs {
    /// A BERT checkpoint directory: config.json, model.safetensors, and
    /// tokenizer.json or vocab.txt.
    dir: PathBuf,
    #[arg(long, short)]
    out: PathBuf,
    /// Seed of a new MLM head, for a checkpoint without one.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Weight precision.
    #[arg(long, default_value = "f32", value_parser = ["f32", "f16", "bf16"])]
    dtype: String,
    /// Replace a model already in --out.
    #[arg(long)]
    force: bool,
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
        ModelCommand::Import(args) => run_import(args),
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

fn run_import(args: ImportArgs) -> Result<()> {
    if args.out.join(CONFIG_FILE).exists() && !args.force {
        bail!(
            "{} already holds a model; pass --force to replace it",
            args.out.display()
        );
    }
    let tokenizer = Tokenizer::load(&args.dir).with_context(|| {
        format!(
            "{} has no tokenizer; a model is only usable with the vocabulary it was trained on",
            args.dir.display()
        )
    })?;
    let imported = import_bert(&args.dir, args.seed)
        .with_context(|| format!("cannot import {}", args.dir.display()))?;
    let checkpoint = &imported.checkpoint;
    Checkpoint::save(
        &args.out,
        &checkpoint.config,
        &checkpoint.tensors,
        super::dtype(&args.dtype),
    )?;
    tokenizer.save(&args.out, checkpoint.config.max_position_embeddings)?;
    // Prove that what was written loads before saying so.
    load(&args.out)
        .with_context(|| format!("{} was written but does not load", args.out.display()))?;
    let c = &checkpoint.config;
    eprintln!(
        "imported {} into {}: DistilBertForMaskedLM, {} layers, dim {}, {} heads, hidden {}, \
         vocabulary {}; MLM head {}; token-type row 0 folded into the positions; left out: {}",
        args.dir.display(),
        args.out.display(),
        c.n_layers,
        c.dim,
        c.n_heads,
        c.hidden_dim,
        c.vocab_size,
        match imported.head {
            Head::Kept => "kept",
            Head::Initialised =>
                "initialised (the checkpoint had none): train it with `typofix train mlm --init`",
        },
        if imported.dropped.is_empty() {
            "nothing".to_string()
        } else {
            imported.dropped.join(", ")
        }
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
    if ModelPackage::exists(&args.out) && !args.force {
        bail!(
            "{} already holds a model; pass --force to replace it",
            args.out.display()
        );
    }
    let mut settings = match &args.settings {
        Some(path) => Settings::load(path)?,
        None => Settings::default(),
    };
    settings.channel = match &args.data {
        Some(path) => {
            let stats = DatasetStats::from_reader(open_maybe_gzip(path)?)
                .with_context(|| format!("reading {}", path.display()))?;
            if stats.examples == 0 {
                bail!("{} holds no examples", path.display());
            }
            stats.channel_model(args.error_rate)
        }
        None => ChannelModel::default(),
    };
    let sources = PackageSources {
        mlm: args.mlm.clone(),
        lexicon: args.lexicon.clone(),
        bigrams: args.bigrams.clone(),
        detector: args.detector.clone(),
        settings,
        dtype: super::dtype(&args.dtype),
    };
    let package = ModelPackage::write(&args.out, &sources)?;
    eprintln!(
        "wrote a corrector model to {} ({} lexicon words, error rate {:.3})",
        args.out.display(),
        package.lexicon.len(),
        package.settings.channel.total()
    );
    Ok(())
}
