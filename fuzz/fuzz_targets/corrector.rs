//! `Corrector::fix` on arbitrary UTF-8 (up to 512 bytes): no panic, and
//! the output is the input with exactly its edits applied.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use typofix::Corrector;

fn corrector() -> &'static Corrector {
    static CORRECTOR: OnceLock<Corrector> = OnceLock::new();
    CORRECTOR.get_or_init(|| Corrector::builtin().expect("the shipped model loads"))
}

fuzz_target!(|text: &str| {
    if text.len() > 512 {
        return;
    }
    let fix = corrector().fix(text).expect("fix never fails on valid UTF-8");
    let mut rebuilt = String::new();
    let mut at = 0;
    for e in &fix.edits {
        assert!(e.start >= at && e.end >= e.start && e.end <= text.len());
        assert_eq!(&text[e.start..e.end], e.original);
        rebuilt.push_str(&text[at..e.start]);
        rebuilt.push_str(&e.replacement);
        at = e.end;
    }
    rebuilt.push_str(&text[at..]);
    assert_eq!(rebuilt, fix.text);
});
