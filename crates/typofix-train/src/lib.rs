//! typofix-train: everything that makes a typofix model, in pipeline order.
//!
//! - [`corpus`]: clean corpora streamed as paragraphs and sentences, with
//!   the dev sets excluded at the source;
//! - [`corrupt`]: the corruption model that makes synthetic typos;
//! - [`dataset`]: aligned `{"corrupted","clean","edits"}` examples and their
//!   statistics (which the channel model's rates come from);
//! - [`build`]: a vocabulary, a lexicon and word-pair counts from a corpus;
//! - [`word_stats`]: word-frequency lists from beyond the corpus, blended
//!   into the lexicon;
//! - [`import`]: pretrained BERT encoders (MiniLM, bert-base) into our
//!   DistilBERT layout, to train on from there;
//! - [`train`]: the training loop, masked-language-model pretraining,
//!   AdamW and checkpoints that resume exactly.
//!
//! The runtime it feeds is the `typofix` crate, which depends on none of
//! this.

pub mod build;
pub mod corpus;
pub mod corrupt;
pub mod dataset;
pub mod import;
pub mod train;
pub mod word_stats;
