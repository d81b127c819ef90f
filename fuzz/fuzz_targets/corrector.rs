//! `Corrector::fix` on arbitrary UTF-8 (up to 512 bytes): no panic, and
//! the output is the input with exactly its edits applied.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use typofix::{Corrector, Fix};

fn corrector() -> &'static Corrector {
    static CORRECTOR: OnceLock<Corrector> = OnceLock::new();
    CORRECTOR.get_or_init(|| Corrector::builtin().expect("the shipped model loads"))
}

fuzz_target!(|text: &str| {
    if text.len() > 512 {
        return;
    }
    let fix = corrector().fix(text).expect("fix never fails on valid UTF-8");
    let rebuilt = Fix::apply(text, fix.edits.clone()).expect("the edits fit the input");
    assert_eq!(rebuilt, fix);
});
