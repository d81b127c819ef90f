//! typofix-export: a typofix language model for other runtimes.
//!
//! - [`huggingface`]: Hugging Face's layout (`config.json` +
//!   `model.safetensors` + tokenizer), which transformers loads;
//! - [`ane`]: the Apple Neural Engine layout (1×1 Conv2d, LayerNormANE,
//!   BC1S), whose conversion lives in the runtime's
//!   [`typofix::model::AneCheckpoint`] because `--engine ane` runs it;
//! - [`coreml`]: Core ML packages (ML Program) of the ANE layout, written
//!   from Rust;
//! - [`sample_io`]: inputs and reference logits to check an export against.

pub mod ane;
pub mod coreml;
pub mod huggingface;
pub mod sample_io;

use std::path::Path;

use candle_core::Device;
use typofix::model::{AneCheckpoint, Checkpoint};
use typofix::Error;

pub use coreml::{export_coreml, CoremlOptions, CoremlReport, Precision};

/// Reads a checkpoint in either layout, the ANE one converted back to the
/// standard one, so that every export starts from the same weights.
pub fn read_checkpoint(dir: &Path) -> Result<Checkpoint, Error> {
    if AneCheckpoint::is_ane_dir(dir) {
        AneCheckpoint::load(dir, &Device::Cpu)?.to_standard()
    } else {
        Checkpoint::load(dir, &Device::Cpu)
    }
}
