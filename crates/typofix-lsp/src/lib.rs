//! typofix as a language server, over stdio: misspellings as diagnostics
//! while you type, a quick fix for each, and "add to dictionary".
//!
//! - [`document`]: an open document and positions in the client's units;
//! - [`prose`]: which parts of a document are prose, cut into paragraphs;
//! - [`settings`]: what the client may configure;
//! - [`checker`]: the thread that corrects paragraphs, debounced, cached
//!   and cancelled by newer edits, so the server never waits on the model;
//! - [`server`]: the protocol: the handshake, the notifications and
//!   requests, and the code actions.
//!
//! ```no_run
//! let corrector = typofix::Corrector::builtin()?;
//! typofix_lsp::run_stdio(corrector)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod checker;
pub mod document;
pub mod prose;
pub mod server;
pub mod settings;

pub use server::{run, run_stdio, Error};
