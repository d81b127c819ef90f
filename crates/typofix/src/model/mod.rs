//! The model: DistilBERT for masked language modelling, its configuration
//! and its checkpoints.

mod checkpoint;
mod config;
mod distilbert;
mod fill_mask;
mod kernels;
mod pass;

pub use checkpoint::{
    expected_shapes, parse_config, read_config, Checkpoint, CONFIG_FILE, WEIGHTS_FILE,
};
pub use config::{Activation, Config, LAYER_NORM_EPS};
pub use distilbert::{
    Attention, DistilBertForMaskedLM, DistilBertModel, Embeddings, FeedForward, LayerNorm,
    TransformerBlock,
};
pub use fill_mask::{fill_mask, Candidate, MaskPrediction};
pub use pass::{DropoutSource, Pass};
