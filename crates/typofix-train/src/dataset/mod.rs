//! Datasets of aligned typo examples: generation and statistics.

mod example;
mod generate;
mod stats;

pub use example::Example;
pub use generate::{generate, GenerateOptions, GenerateSummary, Sinks};
pub use stats::{DatasetStats, Histogram, KindStats};
