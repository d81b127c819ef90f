//! The model: DistilBERT for masked language modelling, its configuration
//! and its checkpoints, in the standard layout and in the Apple Neural
//! Engine's (BC1S).

mod ane;
mod ane_checkpoint;
mod checkpoint;
mod config;
mod detector;
mod distilbert;
mod engine;
mod fill_mask;
mod fused;
mod kernels;
mod pass;

pub use ane::{
    AneDistilBertForMaskedLM, AttentionAne, Conv1x1, FeedForwardAne, LayerNormAne,
    TransformerBlockAne, ANE_LAYER_NORM_EPS, ANE_MASKED,
};
pub use ane_checkpoint::{ane_expected_shapes, AneCheckpoint, AneLayout, ANE_LAYOUT_FILE};
pub(crate) use checkpoint::write_safetensors;
pub use checkpoint::{
    expected_shapes, parse_config, read_config, Checkpoint, CONFIG_FILE, WEIGHTS_FILE,
};
pub use config::{Activation, Config, LAYER_NORM_EPS};
pub use detector::{Detector, DETECTOR_FILE, DETECTOR_PREFIX};
pub use distilbert::{
    Attention, DistilBertForMaskedLM, DistilBertModel, Embeddings, FeedForward, LayerNorm,
    TransformerBlock,
};
pub use engine::{Engine, MaskedLm};
pub use fill_mask::{fill_mask, Candidate, MaskPrediction};
pub use fused::{Bf16Kernel, FusedMaskedLm, Hidden, Int8Kernel, Precision};
pub use pass::{DropoutSource, Pass};
