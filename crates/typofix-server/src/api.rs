//! The JSON API: `POST /v1/fix` and `POST /v1/fix/batch`.
//!
//! Offsets: `start` and `end` are UTF-8 byte offsets into the request's
//! text (what Rust, Go and Python's `bytes` index); `start_utf16` and
//! `end_utf16` are UTF-16 code-unit offsets (what JavaScript, Java and
//! LanguageTool clients index).

use serde::{Deserialize, Serialize};
use typofix::text::{Offsets, Unit};
use typofix::{Edit, Fix, FixOptions};

use crate::error::ApiError;

/// Per-request options.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Minimum gain in log-probability over the original.
    pub threshold: Option<f64>,
    /// Words never to correct.
    #[serde(default)]
    pub allow: Vec<String>,
}

impl Options {
    pub fn to_fix_options(&self) -> Result<FixOptions, ApiError> {
        if let Some(t) = self.threshold {
            if !t.is_finite() {
                return Err(ApiError::BadRequest(
                    "options.threshold must be a finite number".into(),
                ));
            }
        }
        Ok(FixOptions {
            threshold: self.threshold,
            ..FixOptions::default()
        }
        .allow_words(&self.allow))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixRequest {
    pub text: String,
    #[serde(default)]
    pub options: Options,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub texts: Vec<String>,
    #[serde(default)]
    pub options: Options,
}

#[derive(Debug, Serialize)]
pub struct ApiEdit {
    pub start: usize,
    pub end: usize,
    pub start_utf16: usize,
    pub end_utf16: usize,
    pub original: String,
    pub replacement: String,
    pub kind: typofix::ErrorKind,
    pub confidence: f32,
}

#[derive(Debug, Serialize)]
pub struct FixResponse {
    pub text: String,
    pub edits: Vec<ApiEdit>,
    /// Where the request's time ran out, when it did: the text from there
    /// on was not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchecked: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchecked_utf16: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct BatchResponse {
    pub results: Vec<FixResponse>,
}

pub fn edits_with_utf16(text: &str, edits: Vec<Edit>) -> Vec<ApiEdit> {
    let mut offsets = Offsets::new(text, Unit::Utf16);
    edits
        .into_iter()
        .map(|e| {
            let (start_utf16, end_utf16) = (offsets.at(e.start), offsets.at(e.end));
            ApiEdit {
                start: e.start,
                end: e.end,
                start_utf16,
                end_utf16,
                original: e.original,
                replacement: e.replacement,
                kind: e.kind,
                confidence: e.confidence,
            }
        })
        .collect()
}

pub fn response(original: &str, fix: Fix) -> FixResponse {
    FixResponse {
        unchecked_utf16: fix.unchecked.map(|at| Unit::Utf16.len(&original[..at])),
        unchecked: fix.unchecked,
        edits: edits_with_utf16(original, fix.edits),
        text: fix.text,
    }
}
