//! `typofix export …`: the model for other runtimes: Hugging Face
//! safetensors, the Apple Neural Engine layout, and Core ML packages.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use typofix::model::Checkpoint;
use typofix::tokenizer::Tokenizer;
use typofix_export::ane::export_ane;
use typofix_export::huggingface::export_safetensors;
use typofix_export::sample_io::{write_sample_io, SAMPLE_TEXTS};
use typofix_export::{export_coreml, read_checkpoint, CoremlOptions, Precision};

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Hugging Face's layout (config.json + model.safetensors), loadable by
    /// transformers.
    Safetensors(SafetensorsArgs),
    /// The Apple Neural Engine layout: 1×1 Conv2d weights, LayerNormANE,
    /// for BC1S activations (safetensors + config.json + ane.json).
    Ane(AneArgs),
    /// A Core ML package (ML Program, iOS 16 / macOS 13) of the ANE layout.
    Coreml(CoremlArgs),
    /// Inputs and the standard model's logits, as safetensors, to check an
    /// exported package against (input_ids, attention_mask [N, S] int64;
    /// logits [N, S, V] f32).
    SampleIo(SampleIoArgs),
}

#[derive(Args)]
pub struct SampleIoArgs {
    #[command(flatten)]
    model: ModelArg,
    /// The safetensors file to write.
    #[arg(long, short)]
    out: PathBuf,
    /// Tokens per row, padding included [default: 128, or the model's
    /// positions if fewer].
    #[arg(long)]
    seq_len: Option<usize>,
    /// Texts, one row each [default: three sample sentences].
    texts: Vec<String>,
}

#[derive(Args)]
pub struct ModelArg {
    /// A checkpoint or model directory, standard or ANE layout [default:
    /// the model built into typofix].
    #[arg(long)]
    model: Option<PathBuf>,
}

#[derive(Args)]
pub struct SafetensorsArgs {
    #[command(flatten)]
    model: ModelArg,
    #[arg(long, short)]
    out: PathBuf,
    /// Weight precision.
    #[arg(long, default_value = "f32", value_parser = ["f32", "f16", "bf16"])]
    dtype: String,
    /// Write into an existing directory.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct AneArgs {
    #[command(flatten)]
    model: ModelArg,
    #[arg(long, short)]
    out: PathBuf,
    /// Write into an existing directory.
    #[arg(long)]
    force: bool,
    /// Print the conversion report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct CoremlArgs {
    #[command(flatten)]
    model: ModelArg,
    /// The package to write, NAME.mlpackage.
    #[arg(long, short)]
    out: PathBuf,
    /// Tokens per input, padding included [default: 128, or the model's
    /// positions if fewer].
    #[arg(long)]
    seq_len: Option<usize>,
    /// Weights and arithmetic: fp16 (what the Neural Engine runs) or fp32.
    #[arg(long, default_value = "fp16")]
    precision: Precision,
    /// Replace an existing package.
    #[arg(long)]
    force: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: ExportCommand) -> Result<()> {
    match cmd {
        ExportCommand::Safetensors(args) => {
            let (checkpoint, dir) = load(&args.model)?;
            refuse_existing(&args.out, args.force)?;
            let tokenizer = tokenizer_of(dir.as_deref())?;
            export_safetensors(
                &checkpoint,
                tokenizer.as_ref(),
                &args.out,
                super::dtype(&args.dtype),
            )?;
            eprintln!("wrote {} ({})", args.out.display(), args.dtype);
            Ok(())
        }
        ExportCommand::Ane(args) => {
            let (checkpoint, dir) = load(&args.model)?;
            refuse_existing(&args.out, args.force)?;
            let tokenizer = tokenizer_of(dir.as_deref())?;
            let l = export_ane(&checkpoint, tokenizer.as_ref(), &args.out)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&l)?);
            } else {
                println!(
                    "wrote {}: {} Linear layers as 1x1 Conv2d, {} LayerNorms as LayerNormANE \
                     (bias before scale, eps {:e}), {} tied tensor(s) copied; activations {}",
                    args.out.display(),
                    l.conv2d.len(),
                    l.layer_norms.len(),
                    l.layer_norm_eps,
                    l.untied.len(),
                    l.activations
                );
            }
            Ok(())
        }
        ExportCommand::Coreml(args) => {
            let (checkpoint, _) = load(&args.model)?;
            let options = CoremlOptions {
                seq_len: seq_len(args.seq_len, &checkpoint),
                precision: args.precision,
                force: args.force,
                ..CoremlOptions::default()
            };
            let report = export_coreml(&checkpoint, &args.out, &options)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                let ops: usize = report.ops.values().sum();
                println!(
                    "wrote {}: ML Program (spec 7, CoreML6), {} ops, {} weight blobs, {} \
                     ({:.1} MB of weights); inputs input_ids, attention_mask int32 [1, {}]; \
                     output logits [1, {}, 1, {}]",
                    report.path.display(),
                    ops,
                    report.blobs,
                    report.precision,
                    report.weight_bytes as f64 / 1e6,
                    report.seq_len,
                    checkpoint.config.vocab_size,
                    report.seq_len
                );
            }
            Ok(())
        }
        ExportCommand::SampleIo(args) => sample_io(args),
    }
}

fn seq_len(asked: Option<usize>, checkpoint: &Checkpoint) -> usize {
    asked.unwrap_or(checkpoint.config.max_position_embeddings.min(128))
}

fn sample_io(args: SampleIoArgs) -> Result<()> {
    let (checkpoint, dir) = load(&args.model)?;
    let tokenizer = match &dir {
        Some(dir) => Tokenizer::load(dir)?,
        None => super::builtin_tokenizer()?,
    };
    let s = seq_len(args.seq_len, &checkpoint);
    let texts: Vec<&str> = if args.texts.is_empty() {
        SAMPLE_TEXTS.to_vec()
    } else {
        args.texts.iter().map(String::as_str).collect()
    };
    write_sample_io(&checkpoint, &tokenizer, &texts, s, &args.out)?;
    eprintln!(
        "wrote {} ({} rows of {s} tokens)",
        args.out.display(),
        texts.len()
    );
    Ok(())
}

/// The checkpoint to export, and the directory it came from.
fn load(arg: &ModelArg) -> Result<(Checkpoint, Option<PathBuf>)> {
    match &arg.model {
        Some(dir) => {
            let checkpoint = read_checkpoint(dir).with_context(|| {
                format!(
                    "cannot load a DistilBERT checkpoint from {} (config.json + \
                     model.safetensors, as transformers' save_pretrained writes them, \
                     or an ANE layout from `typofix export ane`)",
                    dir.display()
                )
            })?;
            Ok((checkpoint, Some(dir.clone())))
        }
        None => Ok((super::builtin_checkpoint()?, None)),
    }
}

fn refuse_existing(out: &Path, force: bool) -> Result<()> {
    if !force
        && out.exists()
        && out
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{} exists and is not empty: pass --force to write into it",
            out.display()
        );
    }
    Ok(())
}

/// The tokenizer to travel with the weights: the model directory's, if it
/// has one, or the built-in model's.
fn tokenizer_of(dir: Option<&Path>) -> Result<Option<Tokenizer>> {
    match dir {
        Some(dir) => Ok(Tokenizer::load(dir).ok()),
        None => Ok(Some(super::builtin_tokenizer()?)),
    }
}
