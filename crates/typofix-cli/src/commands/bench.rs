//! `typofix bench …`: speed measurements.

use anyhow::Result;
use clap::{Args, Subcommand};
use typofix::train::time_training_steps;

#[derive(Subcommand)]
pub enum BenchCommand {
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

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
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
