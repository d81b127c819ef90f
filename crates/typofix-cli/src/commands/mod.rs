pub mod bench;
pub mod data;
pub mod eval;
pub mod export;
pub mod fix;
pub mod lsp;
pub mod model;
pub mod serve;
pub mod train;

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use typofix_train::corpus::{Corpus, CorpusOptions, Format};

/// Where clean text comes from: shared by `data generate` and `train`.
#[derive(Args)]
pub struct CorpusArgs {
    /// Corpus files or directories (plain text, WikiExtractor, WikiText or
    /// JSONL; optionally gzip-compressed).
    #[arg(long, required = true, num_args = 1..)]
    pub corpus: Vec<PathBuf>,
    /// Corpus format: auto, text, wikiextractor, wikitext or jsonl.
    #[arg(long, default_value = "auto")]
    pub format: Format,
    /// JSONL field that holds the text.
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// Shortest sentence to use, in words.
    #[arg(long, default_value_t = 4)]
    pub min_words: usize,
    /// Longest sentence to use, in words.
    #[arg(long, default_value_t = 64)]
    pub max_words: usize,
    /// Lines longer than this many bytes are skipped.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_line_bytes: usize,
    /// Leave out every sentence found in these files (JSONL clean/corrupted
    /// fields, or text lines), such as dev sets.
    #[arg(long, num_args = 1..)]
    pub exclude: Vec<PathBuf>,
}

impl CorpusArgs {
    /// The corpus, less the sentences of `--exclude`.
    pub fn open(&self) -> Result<Corpus> {
        Ok(Corpus::open(
            &self.corpus,
            CorpusOptions {
                format: self.format,
                text_field: self.text_field.clone(),
                max_line_bytes: self.max_line_bytes,
                exclude: self.exclude.clone(),
            },
        )?)
    }

    /// The sentence lengths to read, in words.
    pub fn window(&self) -> std::ops::RangeInclusive<usize> {
        self.min_words..=self.max_words
    }
}

/// The shape of a DistilBERT built from scratch.
#[derive(Args)]
pub struct ModelShapeArgs {
    #[arg(long, default_value_t = 256)]
    pub dim: usize,
    #[arg(long, default_value_t = 4)]
    pub layers: usize,
    #[arg(long, default_value_t = 4)]
    pub heads: usize,
    /// Width of the feed-forward layers.
    #[arg(long, default_value_t = 1024)]
    pub hidden: usize,
}

impl ModelShapeArgs {
    pub fn config(&self, vocab_size: usize, max_positions: usize) -> typofix::model::Config {
        typofix::model::Config::new(
            vocab_size,
            self.dim,
            self.layers,
            self.heads,
            self.hidden,
            max_positions,
        )
    }
}

/// Sets the number of worker threads for rayon and for candle's kernels.
pub fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        // candle's matrix kernels size their pool from this variable.
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| anyhow::anyhow!("cannot start {n} worker threads: {e}"))?;
    }
    Ok(())
}

/// The language model built into typofix.
#[cfg(feature = "default-model")]
pub fn builtin_checkpoint() -> Result<typofix::model::Checkpoint> {
    use anyhow::Context;
    typofix::package::ModelPackage::builtin_checkpoint().context("the built-in model does not load")
}

#[cfg(not(feature = "default-model"))]
pub fn builtin_checkpoint() -> Result<typofix::model::Checkpoint> {
    anyhow::bail!("this typofix was built without its default model: pass --model DIR")
}

/// The built-in model's tokenizer.
#[cfg(feature = "default-model")]
pub fn builtin_tokenizer() -> Result<typofix::tokenizer::Tokenizer> {
    use anyhow::Context;
    typofix::package::ModelPackage::builtin_tokenizer()
        .context("the built-in tokenizer does not load")
}

#[cfg(not(feature = "default-model"))]
pub fn builtin_tokenizer() -> Result<typofix::tokenizer::Tokenizer> {
    anyhow::bail!("this typofix was built without its default model: pass --model DIR")
}

/// A weight precision named on the command line (clap has checked it).
pub fn dtype(name: &str) -> candle_core::DType {
    match name {
        "f16" => candle_core::DType::F16,
        "bf16" => candle_core::DType::BF16,
        _ => candle_core::DType::F32,
    }
}
