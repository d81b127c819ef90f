//! The HTTP API's request parsing on arbitrary bytes: JSON bodies of
//! /v1/fix and /v1/fix/batch, and LanguageTool's form (text or annotated
//! data). Errors are fine; panics are not. A parsed request's response is
//! built too, over an unchanged text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use typofix::Fix;
use typofix_server::api::{self, BatchRequest, FixRequest};
use typofix_server::languagetool::{self, CheckForm};

fuzz_target!(|body: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<FixRequest>(body) {
        let _ = request.options.to_fix_options();
        let fix = Fix::apply(&request.text, Vec::new()).expect("no edits fit any text");
        let _ = serde_json::to_string(&api::response(&request.text, fix));
    }
    if let Ok(request) = serde_json::from_slice::<BatchRequest>(body) {
        let _ = request.options.to_fix_options();
    }
    if let Ok(form) = CheckForm::parse(body) {
        if let Ok(document) = form.document() {
            let unchanged = document
                .segments
                .iter()
                .map(|s| Fix::apply(&s.text, Vec::new()).expect("no edits fit any text"))
                .collect();
            let _ = languagetool::response(&document, unchanged);
        }
    }
});
