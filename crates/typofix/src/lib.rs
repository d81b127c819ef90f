//! typofix: fix typos in English text with a DistilBERT-style masked language
//! model.
//!
//! This crate is the runtime: everything needed to load a model and correct
//! text, and nothing for making data, training, evaluating or exporting
//! (those are `typofix-train`, `typofix-eval` and `typofix-export`).
//!
//! ```no_run
//! let corrector = typofix::Corrector::builtin()?;
//! let fix = corrector.fix("Thi sis a test sentenc")?;
//! assert_eq!(fix.text, "This is a test sentence");
//! # Ok::<(), typofix::Error>(())
//! ```
//!
//! The modules, in the order the corrector uses them:
//! - [`text`]: spans with byte offsets, so edits touch only misspelled words;
//! - [`tokenizer`]: BERT's WordPiece;
//! - [`model`]: DistilBERT for masked language modelling, in candle, in the
//!   standard layout and in the Apple Neural Engine's;
//! - [`lexicon`], [`ngram`], [`misspellings`], [`confusion`], [`keyboard`]:
//!   what the corrector knows about words;
//! - [`correct`]: the corrector, one module per stage;
//! - [`package`]: a corrector model on disk, and the one built into typofix.

pub mod allow;
pub mod atomic;
pub mod confusion;
pub mod correct;
mod error;
pub mod gzip;
pub mod keyboard;
mod kind;
pub mod lexicon;
pub mod misspellings;
pub mod model;
pub mod ngram;
pub mod package;
pub mod text;
pub mod tokenizer;

pub use correct::{Budget, Candidates, Corrector, Edit, Fix, FixOptions};
pub use error::{Error, Result};
pub use kind::ErrorKind;
