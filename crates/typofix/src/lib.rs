//! typofix: fix typos in English text with a DistilBERT-style masked language
//! model.
//!
//! The modules follow the pipeline:
//! - [`text`]: spans with byte offsets, so edits touch only misspelled words;
//! - [`corpus`]: clean corpora, streamed as paragraphs;
//! - [`corrupt`]: the corruption model that makes synthetic typos;
//! - [`dataset`]: aligned `{"corrupted","clean","edits"}` examples;
//! - [`model`]: DistilBERT for masked language modelling, in candle, in the
//!   standard layout and in the Apple Neural Engine's;
//! - [`correct`]: the corrector; [`eval`]: its evaluation;
//! - [`export`]: Core ML packages and other formats.

pub mod atomic;
pub mod bench;
pub mod corpus;
pub mod correct;
pub mod corrupt;
pub mod dataset;
mod error;
pub mod eval;
pub mod export;
pub mod lexicon;
pub mod model;
pub mod ngram;
pub mod text;
pub mod tokenizer;
pub mod train;

pub use correct::{Corrector, Edit, Fix, FixOptions};
pub use error::{Error, Result};
