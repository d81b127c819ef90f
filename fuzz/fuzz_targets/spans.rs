//! The text-span layer on arbitrary UTF-8: spans tile the text exactly,
//! in order, on char boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let spans = typofix::text::spans(text);
    let mut at = 0;
    for span in &spans {
        let range = span.range();
        assert_eq!(range.start, at, "contiguous");
        assert!(range.end > range.start, "non-empty");
        assert!(text.is_char_boundary(range.end));
        at = range.end;
    }
    assert_eq!(at, text.len(), "covers the text");
    let _ = typofix::text::sentences(text);
});
