//! The text layer: spans with byte offsets, casing, and sentences.

mod casing;
mod sentences;
mod spans;

pub use casing::Casing;
pub use sentences::sentences;
pub use spans::is_apostrophe;
pub use spans::{spans, Protected, Span, SpanKind};
