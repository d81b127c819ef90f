//! Datasets of aligned typo examples: generation, exclusions and statistics.

mod example;
mod exclude;
mod generate;
mod stats;

pub use example::Example;
pub use exclude::{sentence_key, Exclusions};
pub use generate::{generate, GenerateOptions, GenerateSummary, Sinks};
pub use stats::{DatasetStats, Histogram, KindStats};
