//! `typofix`: a thin command-line layer over the typofix library.
//!
//! Exit codes are those of `diff`, `grep` and `ruff`: 0 on success, 1 when
//! `fix --check` finds typos, 2 on an error (usage errors included, as clap
//! reports them). The `typos` CLI differs here: it exits 2 for typos found.

mod commands;

// Tensors are large, short-lived allocations: glibc returns each to the OS
// and takes it back with page faults, which cost a training step about 10%.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "typofix",
    version,
    about = "Fix typos in English text with a small masked language model"
)]
struct Cli {
    /// More log output (-v: debug, -vv: trace); RUST_LOG overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Correct typos in text: arguments, stdin line by line, or files.
    Fix(commands::fix::FixArgs),
    /// Score typofix and baselines side by side on reference sets.
    Eval(commands::eval::EvalArgs),
    /// Make and inspect synthetic typo data.
    #[command(subcommand)]
    Data(commands::data::DataCommand),
    /// Inspect, download and query models.
    #[command(subcommand)]
    Model(commands::model::ModelCommand),
    /// Train tokenizers and models.
    #[command(subcommand)]
    Train(commands::train::TrainCommand),
    /// Write the model as Hugging Face safetensors, in the Apple Neural
    /// Engine layout, or as a Core ML package.
    #[command(subcommand)]
    Export(commands::export::ExportCommand),
    /// Serve corrections over HTTP: a JSON API and LanguageTool's.
    Serve(commands::serve::ServeArgs),
    /// Run the language server on stdio, for editors.
    Lsp(commands::lsp::LspArgs),
    /// Measure speed.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Fix(args) => commands::fix::run(args),
        Command::Eval(args) => commands::eval::run(args).map(|()| 0),
        Command::Data(cmd) => commands::data::run(cmd).map(|()| 0),
        Command::Model(cmd) => commands::model::run(cmd).map(|()| 0),
        Command::Train(cmd) => commands::train::run(cmd).map(|()| 0),
        Command::Export(cmd) => commands::export::run(cmd).map(|()| 0),
        Command::Serve(args) => commands::serve::run(args).map(|()| 0),
        Command::Lsp(args) => commands::lsp::run(args).map(|()| 0),
        Command::Bench(cmd) => commands::bench::run(cmd).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}
