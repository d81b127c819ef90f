//! The text-span layer's specification, over arbitrary Unicode.

use proptest::prelude::*;
use typofix::text::{sentences, spans, SpanKind};

/// Arbitrary strings, plus strings built from the pieces that matter most:
/// contractions, curly quotes, CRLF, tabs, accents, emoji, CJK and links.
fn text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(
        &[
            "don't",
            "they’re",
            "it's",
            "café",
            "naïve",
            "e\u{301}",
            "日本語",
            "👍🏽",
            "👨‍👩‍👧",
            "\r\n",
            "\t",
            " ",
            "  ",
            ",",
            ".",
            "'",
            "’",
            "\"",
            "(",
            ")",
            "https://ex.com/a?b",
            "me@ex.com",
            "@bob",
            "#tag",
            "snake_case",
            "CamelCase2",
            "3.14",
            "1,000",
            "word",
            "Word",
            "WORD",
            "-",
            "—",
            "\u{0}",
            "\u{feff}",
        ][..],
    );
    prop_oneof![
        any::<String>(),
        prop::collection::vec(piece, 0..30).prop_map(|p| p.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn joining_the_spans_gives_back_the_input(text in text()) {
        let joined: String = spans(&text).iter().map(|s| s.text(&text)).collect();
        prop_assert_eq!(joined, text);
    }

    #[test]
    fn spans_are_contiguous_non_empty_and_whitespace_is_its_own_span(text in text()) {
        let mut at = 0;
        for span in spans(&text) {
            prop_assert_eq!(span.start, at);
            prop_assert!(span.end > span.start);
            let piece = span.text(&text);
            let all_space = piece.chars().all(char::is_whitespace);
            prop_assert_eq!(span.kind == SpanKind::Whitespace, all_space, "{:?}", piece);
            if span.kind == SpanKind::Word {
                prop_assert!(piece.chars().any(char::is_alphabetic), "{:?}", piece);
                prop_assert!(!piece.chars().any(|c| c.is_numeric() || c.is_whitespace()), "{:?}", piece);
            }
            at = span.end;
        }
        prop_assert_eq!(at, text.len());
    }

    #[test]
    fn sentences_are_trimmed_pieces_of_the_paragraph_in_order(text in text()) {
        let mut from = 0;
        for s in sentences(&text) {
            prop_assert!(!s.is_empty() && s.trim() == s);
            let at = text[from..].find(s).map(|i| i + from);
            prop_assert!(at.is_some(), "{:?} not found in order in {:?}", s, text);
            from = at.unwrap() + s.len();
        }
    }
}
