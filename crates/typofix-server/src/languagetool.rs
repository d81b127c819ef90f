//! LanguageTool's HTTP API (`POST /v2/check`, `GET /v2/languages`), so that
//! clients written for it (LTeX, editor and browser plugins) can use
//! typofix by changing a URL. Shapes follow LanguageTool's published
//! OpenAPI description; offsets and lengths are in UTF-16 code units, as
//! LanguageTool (a Java server) counts them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use typofix::text::{Offsets, Unit};
use typofix::{Edit, ErrorKind, Fix, FixOptions};

use crate::error::ApiError;

/// The form fields we read; LanguageTool's others (level, enabledRules, …)
/// are accepted and ignored.
#[derive(Debug, Deserialize)]
pub struct CheckForm {
    pub text: Option<String>,
    pub data: Option<String>,
    pub language: Option<String>,
}

/// `data`: text and markup; only text is checked, but offsets count both.
#[derive(Debug, Deserialize)]
struct AnnotatedText {
    annotation: Vec<Annotation>,
}

#[derive(Debug, Deserialize)]
struct Annotation {
    text: Option<String>,
    markup: Option<String>,
}

/// A checked piece of the document and where it starts in it.
pub struct Segment {
    pub text: String,
    pub byte_offset: usize,
}

/// The whole document (text and markup) and the pieces to check.
pub struct Document {
    pub full: String,
    pub segments: Vec<Segment>,
}

impl CheckForm {
    pub fn parse(body: &[u8]) -> Result<CheckForm, ApiError> {
        std::str::from_utf8(body)
            .map_err(|_| ApiError::BadRequest("the form body is not valid UTF-8".into()))?;
        serde_urlencoded::from_bytes(body)
            .map_err(|e| ApiError::BadRequest(format!("not a form-encoded body: {e}")))
    }

    /// Checks the language and splits the document.
    pub fn document(&self) -> Result<Document, ApiError> {
        match self.language.as_deref() {
            None => {
                return Err(ApiError::BadRequest(
                    "missing 'language': pass language=en-US (or auto)".into(),
                ))
            }
            Some(l) if l == "auto" || l == "en" || l.starts_with("en-") => {}
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "language {other:?} is not supported: typofix corrects English (en, en-US, \
                     en-GB, … or auto)"
                )))
            }
        }
        match (&self.text, &self.data) {
            (Some(text), None) => Ok(Document {
                full: text.clone(),
                segments: vec![Segment {
                    text: text.clone(),
                    byte_offset: 0,
                }],
            }),
            (None, Some(data)) => {
                let annotated: AnnotatedText = serde_json::from_str(data).map_err(|e| {
                    ApiError::BadRequest(format!(
                        "'data' is not LanguageTool's annotated text ({{\"annotation\": \
                         [{{\"text\": …}}, {{\"markup\": …}}]}}): {e}"
                    ))
                })?;
                let mut document = Document {
                    full: String::new(),
                    segments: Vec::new(),
                };
                for part in annotated.annotation {
                    match (part.text, part.markup) {
                        (Some(text), None) => {
                            document.segments.push(Segment {
                                text: text.clone(),
                                byte_offset: document.full.len(),
                            });
                            document.full.push_str(&text);
                        }
                        (None, Some(markup)) => document.full.push_str(&markup),
                        _ => {
                            return Err(ApiError::BadRequest(
                                "each annotation needs exactly one of 'text' and 'markup'".into(),
                            ))
                        }
                    }
                }
                Ok(document)
            }
            (Some(_), Some(_)) => Err(ApiError::BadRequest(
                "pass 'text' or 'data', not both".into(),
            )),
            (None, None) => Err(ApiError::BadRequest("missing 'text' (or 'data')".into())),
        }
    }
}

pub fn options() -> FixOptions {
    FixOptions::default()
}

fn rule(kind: ErrorKind) -> Value {
    let (id, description, issue_type) = match kind {
        ErrorKind::Confusion => (
            "TYPOFIX_CONFUSION",
            "Commonly confused words (their/there, your/you're, …)",
            "grammar",
        ),
        ErrorKind::Space => ("TYPOFIX_SPACING", "Split or merged words", "misspelling"),
        _ => (
            "TYPOFIX_SPELLING",
            "Possible spelling mistake",
            "misspelling",
        ),
    };
    json!({
        "id": id,
        "description": description,
        "issueType": issue_type,
        "category": {"id": "TYPOS", "name": "Possible Typo"},
    })
}

fn message(edit: &Edit) -> (String, &'static str) {
    match edit.kind {
        ErrorKind::Confusion => (
            format!("Did you mean “{}”?", edit.replacement),
            "Confused word",
        ),
        _ => (
            "Possible spelling mistake found.".to_string(),
            "Spelling mistake",
        ),
    }
}

/// Characters of context on each side of a match.
const CONTEXT_CHARS: usize = 40;

#[derive(Serialize)]
struct Context {
    text: String,
    offset: usize,
    length: usize,
}

fn context(full: &str, start: usize, end: usize) -> Context {
    let before: String = {
        let chars: Vec<char> = full[..start].chars().rev().take(CONTEXT_CHARS).collect();
        chars.into_iter().rev().collect()
    };
    let after: String = full[end..].chars().take(CONTEXT_CHARS).collect();
    let span = &full[start..end];
    Context {
        offset: before.encode_utf16().count(),
        length: span.encode_utf16().count(),
        text: format!("{before}{span}{after}"),
    }
}

/// LanguageTool's response for `document`, given each segment's fix.
/// Segments the request's time did not cover make `incompleteResults`
/// true, as LanguageTool says of a check cut short.
pub fn response(document: &Document, fixes: Vec<Fix>) -> Value {
    let mut offsets = Offsets::new(&document.full, Unit::Utf16);
    let mut matches = Vec::new();
    let incomplete = fixes.iter().any(|f| f.unchecked.is_some());
    for (segment, fix) in document.segments.iter().zip(fixes) {
        for edit in fix.edits {
            let (start, end) = (
                segment.byte_offset + edit.start,
                segment.byte_offset + edit.end,
            );
            let offset = offsets.at(start);
            let length = offsets.at(end) - offset;
            let (message, short) = message(&edit);
            matches.push(json!({
                "message": message,
                "shortMessage": short,
                "replacements": [{"value": edit.replacement}],
                "offset": offset,
                "length": length,
                "context": context(&document.full, start, end),
                "sentence": segment.text,
                "type": {"typeName": "Other"},
                "rule": rule(edit.kind),
                "ignoreForIncompleteSentence": false,
                "contextForSureMatch": 0,
            }));
        }
    }
    json!({
        "software": {
            "name": "typofix",
            "version": env!("CARGO_PKG_VERSION"),
            "buildDate": "",
            "apiVersion": 1,
            "premium": false,
            "status": "",
        },
        "warnings": {"incompleteResults": incomplete},
        "language": {
            "name": "English (US)",
            "code": "en-US",
            "detectedLanguage": {"name": "English (US)", "code": "en-US", "confidence": 1.0},
        },
        "matches": matches,
    })
}

/// `GET /v2/languages`.
pub fn languages() -> Value {
    json!([
        {"name": "English", "code": "en", "longCode": "en"},
        {"name": "English (US)", "code": "en", "longCode": "en-US"},
        {"name": "English (GB)", "code": "en", "longCode": "en-GB"},
        {"name": "English (Canadian)", "code": "en", "longCode": "en-CA"},
        {"name": "English (Australian)", "code": "en", "longCode": "en-AU"},
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotated_text_checks_text_parts_and_counts_markup_in_offsets() {
        let form = CheckForm {
            text: None,
            data: Some(
                r#"{"annotation":[{"text":"A "},{"markup":"<b>"},{"text":"tset"},{"markup":"</b>"}]}"#
                    .into(),
            ),
            language: Some("en-US".into()),
        };
        let doc = form.document().unwrap();
        assert_eq!(doc.full, "A <b>tset</b>");
        assert_eq!(doc.segments.len(), 2);
        assert_eq!(doc.segments[1].byte_offset, 5);
    }

    #[test]
    fn other_languages_and_missing_fields_are_bad_requests() {
        let form = |text: Option<&str>, language: Option<&str>| CheckForm {
            text: text.map(Into::into),
            data: None,
            language: language.map(Into::into),
        };
        assert!(form(Some("x"), Some("de-DE")).document().is_err());
        assert!(form(Some("x"), None).document().is_err());
        assert!(form(None, Some("en-US")).document().is_err());
        assert!(form(Some("x"), Some("auto")).document().is_ok());
    }
}
