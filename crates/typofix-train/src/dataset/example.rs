//! One training example, as stored in JSONL.

use serde::{Deserialize, Serialize};

use crate::corrupt::Edit;

/// `{"corrupted": …, "clean": …, "edits": [...]}`: a sentence with typos,
/// its clean form, and the alignment between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub corrupted: String,
    pub clean: String,
    #[serde(default)]
    pub edits: Vec<Edit>,
}
