//! Exporting a model for other runtimes: Hugging Face safetensors (see
//! [`crate::model::Checkpoint::save`]), the ANE layout (see
//! [`crate::model::AneCheckpoint`]), and Core ML packages ([`coreml`]).

pub mod coreml;

pub use coreml::{export_coreml, CoremlOptions, CoremlReport, Precision};
