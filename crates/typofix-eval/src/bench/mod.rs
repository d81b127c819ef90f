//! Speed measurements behind `typofix bench`: the language model's
//! inference and a full training step, on synthetic batches.

mod model;
mod train;

pub use model::{time_inference, InferenceTiming};
pub use train::{time_training_steps, StepTiming};
