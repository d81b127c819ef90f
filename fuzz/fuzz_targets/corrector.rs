//! `Corrector::fix` on structured text: sequences of real words (the
//! shipped lexicon's most frequent), misspellings of them, punctuation,
//! whitespace runs, long words, other scripts and raw strings, so that
//! libFuzzer reaches long sentences rather than a few random bytes. With a
//! small work budget now and then.
//!
//! What must hold: no panic, no error, the output is the input with exactly
//! its edits applied, and with a budget no edit lies past `unchecked` and
//! the text from there on is the input's own.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use typofix::{Budget, Corrector, Fix, FixOptions};

/// Words to build sentences from: the most frequent of the lexicon.
const WORDS: usize = 4096;

struct Fixture {
    corrector: Corrector,
    words: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let corrector = Corrector::builtin().expect("the shipped model loads");
        let mut words: Vec<(String, u64)> = corrector
            .lexicon()
            .iter()
            .map(|(w, c)| (w.to_string(), c))
            .collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        words.truncate(WORDS);
        Fixture {
            corrector,
            words: words.into_iter().map(|(w, _)| w).collect(),
        }
    })
}

/// How a word is misspelt.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Slip {
    Drop,
    Double,
    Swap,
    /// Another letter, a-z.
    Replace(u8),
    /// A space inside the word (a split).
    Split,
}

#[derive(Arbitrary, Debug)]
enum Piece {
    Word(u16),
    Capitalised(u16),
    Upper(u16),
    Misspelt(u16, Slip, u8),
    /// Two words with the space between them dropped (a merge).
    Merged(u16, u16),
    Punctuation(u8),
    Whitespace(u8, u8),
    /// A run of one letter, up to 255 long.
    LongWord(u8, u8),
    Foreign(u8),
    Raw(String),
}

const PUNCTUATION: &[&str] = &[
    ".",
    ",",
    "!",
    "?",
    ";",
    ":",
    "'",
    "\"",
    "(",
    ")",
    "-",
    "--",
    "...",
    "’",
    "“",
    "”",
    "'s",
    "n't",
    "/",
    "#",
    "@",
    "http://example.com/a?b=c",
    "3.14",
    "1,000",
    "e.g.",
    "Dr.",
];
const WHITESPACE: &[&str] = &[
    " ", "  ", "\t", "\n", "\r\n", "\n\n", "\u{a0}", "\u{2028}", "\u{3000}",
];
const FOREIGN: &[&str] = &[
    "café",
    "naïve",
    "Straße",
    "Москва",
    "東京",
    "こんにちは",
    "مرحبا",
    "שלום",
    "😀",
    "👩‍👩‍👧",
    "e\u{301}",
    "ﬁne",
    "İstanbul",
    "\u{200b}",
    "\u{feff}",
    "ǅ",
    "Ω",
];

impl Piece {
    fn write(&self, words: &[String], out: &mut String) {
        let word = |i: &u16| words[usize::from(*i) % words.len()].as_str();
        match self {
            Piece::Word(i) => out.push_str(word(i)),
            Piece::Capitalised(i) => {
                let mut chars = word(i).chars();
                if let Some(first) = chars.next() {
                    out.extend(first.to_uppercase());
                    out.push_str(chars.as_str());
                }
            }
            Piece::Upper(i) => out.push_str(&word(i).to_uppercase()),
            Piece::Misspelt(i, slip, at) => out.push_str(&misspell(word(i), *slip, *at)),
            Piece::Merged(a, b) => {
                out.push_str(word(a));
                out.push_str(word(b));
            }
            Piece::Punctuation(p) => out.push_str(PUNCTUATION[usize::from(*p) % PUNCTUATION.len()]),
            Piece::Whitespace(w, run) => {
                let w = WHITESPACE[usize::from(*w) % WHITESPACE.len()];
                out.push_str(&w.repeat(usize::from(*run % 8) + 1));
            }
            Piece::LongWord(letter, len) => {
                let letter = char::from(b'a' + letter % 26);
                out.extend(std::iter::repeat_n(letter, usize::from(*len) + 1));
            }
            Piece::Foreign(f) => out.push_str(FOREIGN[usize::from(*f) % FOREIGN.len()]),
            Piece::Raw(s) => out.push_str(s),
        }
    }

    /// Whether a space goes after it, as between words of a sentence.
    fn spaced(&self) -> bool {
        !matches!(self, Piece::Whitespace(..) | Piece::Raw(_))
    }
}

fn misspell(word: &str, slip: Slip, at: u8) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let at = usize::from(at) % chars.len();
    match slip {
        Slip::Drop => {
            chars.remove(at);
        }
        Slip::Double => chars.insert(at, chars[at]),
        Slip::Swap if at + 1 < chars.len() => chars.swap(at, at + 1),
        Slip::Swap => {}
        Slip::Replace(c) => chars[at] = char::from(b'a' + c % 26),
        Slip::Split => chars.insert(at, ' '),
    }
    chars.into_iter().collect()
}

#[derive(Arbitrary, Debug)]
struct Input {
    pieces: Vec<Piece>,
    /// Some: a budget of this many model inputs.
    budget: Option<u8>,
}

/// Longest text built, in bytes: long enough for several windows of a
/// long sentence, short enough for a few runs a second.
const MAX_LEN: usize = 4096;

fuzz_target!(|input: Input| {
    let Fixture { corrector, words } = fixture();
    let mut text = String::new();
    for piece in &input.pieces {
        piece.write(words, &mut text);
        if piece.spaced() {
            text.push(' ');
        }
        if text.len() > MAX_LEN {
            break;
        }
    }
    if std::env::var_os("TYPOFIX_FUZZ_STATS").is_some() {
        // What a corpus reaches: `TYPOFIX_FUZZ_STATS=1 corrector corpus/*`.
        let longest = text
            .split(['.', '!', '?', '\n'])
            .map(|s| s.split_whitespace().count())
            .max()
            .unwrap_or(0);
        eprintln!(
            "stats: bytes {} longest-sentence-words {longest}",
            text.len()
        );
    }
    let options = FixOptions {
        budget: input
            .budget
            .map_or_else(Budget::default, |n| Budget::inputs(u64::from(n) * 8)),
        ..FixOptions::default()
    };
    let fix = corrector
        .fix_with(&text, &options)
        .expect("fix never fails on valid UTF-8");
    let rebuilt = Fix::apply(&text, fix.edits.clone()).expect("the edits fit the input");
    assert_eq!(rebuilt.text, fix.text);
    assert_eq!(rebuilt.edits, fix.edits);
    match fix.unchecked {
        None => {}
        Some(at) => {
            assert!(
                input.budget.is_some(),
                "only a budget leaves text unchecked"
            );
            assert!(fix.edits.iter().all(|e| e.end <= at), "no edit past {at}");
            assert!(fix.text.ends_with(&text[at..]), "the rest is as it was");
        }
    }
});
