//! `typofix serve`: the corrector over HTTP (see the typofix-server crate).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use typofix::model::Engine;
use typofix_server::{AppState, BatchConfig, ServerConfig, Token};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on; the default is reachable from this machine
    /// only (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A model directory [default: the model built into typofix].
    #[arg(long)]
    model: Option<PathBuf>,
    /// How the language model runs: fused, int8, bf16, standard or ane (see `typofix fix`).
    #[arg(long, default_value = "fused")]
    engine: Engine,
    /// Inference threads; each corrects a micro-batch at a time.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Most texts corrected together in one model call.
    #[arg(long, default_value_t = 32)]
    max_batch: usize,
    /// Requests waiting at most; more are refused with 429.
    #[arg(long, default_value_t = 256)]
    queue: usize,
    /// How long a worker waits for more requests to batch, in ms.
    #[arg(long, default_value_t = 2)]
    batch_window_ms: u64,
    /// Largest request body, in bytes (413 above).
    #[arg(long, default_value_t = 1 << 20)]
    max_body: usize,
    /// A request's deadline, in ms: what its text had not had checked by
    /// then comes back unchecked (504 only if it never reached a worker).
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// How long a client may take to send a request's headers, and then
    /// its body, in ms; a slower one is cut off (408 for a body).
    #[arg(long, default_value_t = 10_000)]
    read_timeout_ms: u64,
    /// A file holding the bearer token that requests must carry [default:
    /// $TYPOFIX_TOKEN if set; otherwise no token is needed].
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Allow browser requests from this origin (CORS); repeatable. Off by
    /// default.
    #[arg(long, value_name = "ORIGIN")]
    cors_origin: Vec<String>,
}

pub fn run(args: ServeArgs) -> Result<()> {
    let token = Token::load(args.token_file.as_deref()).map_err(anyhow::Error::msg)?;
    // Load the model before binding, so that a broken one fails at start-up.
    let corrector = super::fix::load_corrector(args.model.as_deref(), args.engine)?;
    let model = args
        .model
        .as_ref()
        .map_or("<built-in model>".to_string(), |p| p.display().to_string());
    let config = ServerConfig {
        addr: args.addr,
        batch: BatchConfig {
            workers: args.workers,
            max_batch: args.max_batch,
            queue: args.queue,
            window: Duration::from_millis(args.batch_window_ms),
        },
        max_body: args.max_body,
        timeout: Duration::from_millis(args.timeout_ms),
        read_timeout: Duration::from_millis(args.read_timeout_ms),
        token,
        cors_origins: args.cors_origin.clone(),
        ..ServerConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        let local = listener.local_addr()?;
        let auth = if config.token.is_some() {
            "bearer token required"
        } else {
            "no token"
        };
        let state = AppState::new(corrector, model, config);
        eprintln!("typofix serve: listening on http://{local} ({auth})");
        typofix_server::serve(listener, state, typofix_server::shutdown_signal()).await?;
        eprintln!("typofix serve: stopped");
        Ok(())
    })
}
