//! The text layer: spans with byte offsets, casing, sentences, and offsets
//! in the units other languages count in.

mod casing;
pub mod offsets;
mod sentences;
mod spans;

pub use casing::Casing;
pub use offsets::{Offsets, Unit};
pub use sentences::sentences;
pub use spans::is_apostrophe;
pub use spans::{spans, Protected, Span, SpanKind};
