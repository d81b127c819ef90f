//! `typofix lsp`: the language server over stdio (see the typofix-lsp
//! crate); editors start it themselves (docs/EDITORS.md).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use typofix::model::Engine;

#[derive(Args)]
pub struct LspArgs {
    /// A model directory [default: the model built into typofix].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Accepted for editors that pass it; stdio is the only transport.
    #[arg(long, hide = true)]
    stdio: bool,
}

pub fn run(args: LspArgs) -> Result<()> {
    // Load first, so that a broken model fails before the handshake, on
    // stderr, where editors show a server's start-up errors.
    let corrector = super::fix::load_corrector(args.model.as_deref(), Engine::default())?;
    typofix_lsp::run_stdio(corrector).context("the language server stopped")
}
