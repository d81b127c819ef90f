//! Text spans: the base layer of typofix.
//!
//! Text is cut into contiguous, non-overlapping spans that cover every byte, so
//! that an edit to one word can be applied while every other byte stays as it
//! was. Word boundaries follow Unicode's UAX #29 (`unicode-segmentation`), which
//! already keeps contractions such as `don't` and `they’re` in one piece; on top
//! of it we recognise what must never be "corrected": numbers, URLs, e-mail
//! addresses, handles, paths and code-like identifiers.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

/// What a span of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKind {
    /// A word of Latin letters, possibly with inner apostrophes: the only kind
    /// that typofix corrects or corrupts.
    Word,
    /// A run of whitespace, including `\r\n` and tabs.
    Whitespace,
    /// A punctuation mark.
    Punct,
    /// A token that looks like a word but must be left alone.
    Protected(Protected),
    /// Anything else (symbols, emoji, other scripts such as CJK): passed through.
    Other,
}

/// Kinds of protected tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protected {
    /// `42`, `3.14`, `1,000`, `1st`.
    Number,
    /// `https://example.com/a`, `www.example.com`.
    Url,
    /// `someone@example.com`.
    Email,
    /// `@handle` or `#hashtag`.
    Handle,
    /// `/usr/bin`, `./run.sh`, `src/main.rs`.
    Path,
    /// `snake_case`, `CamelCase2`, `file.txt`, `e.g`.
    Identifier,
}

/// A typed byte range of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub kind: SpanKind,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The span's text, given the text it was cut from.
    pub fn text<'t>(&self, text: &'t str) -> &'t str {
        &text[self.start..self.end]
    }

    pub fn is_word(&self) -> bool {
        self.kind == SpanKind::Word
    }
}

/// Cuts `text` into spans that cover it exactly, in order.
pub fn spans(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut chunk_start = 0;
    let mut in_space = None;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        match in_space {
            Some(prev) if prev != space => {
                push_chunk(text, chunk_start, i, prev, &mut out);
                chunk_start = i;
            }
            _ => {}
        }
        in_space = Some(space);
    }
    if let Some(space) = in_space {
        push_chunk(text, chunk_start, text.len(), space, &mut out);
    }
    out
}

fn push_chunk(text: &str, start: usize, end: usize, space: bool, out: &mut Vec<Span>) {
    if space {
        out.push(Span {
            kind: SpanKind::Whitespace,
            start,
            end,
        });
        return;
    }
    // Links keep their own inner punctuation, so look for them before UAX #29
    // cuts them apart, after peeling off wrapping punctuation like `(` or `).`.
    let chunk = &text[start..end];
    let core = chunk.trim_start_matches(is_leading_wrapper);
    let core = core.trim_end_matches(is_trailing_wrapper);
    let core_start = start + (chunk.len() - chunk.trim_start_matches(is_leading_wrapper).len());
    let core_end = core_start + core.len();
    match link_kind(core) {
        Some(kind) => {
            push_segments(text, start, core_start, out);
            out.push(Span {
                kind: SpanKind::Protected(kind),
                start: core_start,
                end: core_end,
            });
            push_segments(text, core_end, end, out);
        }
        None => push_segments(text, start, end, out),
    }
}

fn push_segments(text: &str, start: usize, end: usize, out: &mut Vec<Span>) {
    for (offset, segment) in text[start..end].split_word_bound_indices() {
        out.push(Span {
            kind: segment_kind(segment),
            start: start + offset,
            end: start + offset + segment.len(),
        });
    }
}

fn is_leading_wrapper(c: char) -> bool {
    matches!(c, '(' | '[' | '{' | '<' | '"' | '\'' | '“' | '‘' | '«')
}

fn is_trailing_wrapper(c: char) -> bool {
    matches!(
        c,
        ')' | ']' | '}' | '>' | '"' | '\'' | '”' | '’' | '»' | '.' | ',' | ';' | ':' | '!' | '?'
    )
}

fn link_kind(core: &str) -> Option<Protected> {
    if core.is_empty() {
        return None;
    }
    let lower = core.to_ascii_lowercase();
    if lower.starts_with("www.") && core.len() > 4 {
        return Some(Protected::Url);
    }
    if let Some((scheme, rest)) = core.split_once("://") {
        if !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphanumeric())
            && !rest.is_empty()
        {
            return Some(Protected::Url);
        }
    }
    if is_email(core) {
        return Some(Protected::Email);
    }
    if let Some(name) = core.strip_prefix('@').or_else(|| core.strip_prefix('#')) {
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Some(Protected::Handle);
        }
    }
    let pathlike = ["/", "./", "../", "~/"].iter().any(|p| core.starts_with(p))
        || core
            .rsplit_once('/')
            .is_some_and(|(dir, file)| !dir.is_empty() && file.contains('.'));
    if pathlike && core.len() > 1 && !core.contains("//") {
        return Some(Protected::Path);
    }
    None
}

fn is_email(core: &str) -> bool {
    let Some((local, domain)) = core.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-'));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
    local_ok && domain_ok
}

fn segment_kind(segment: &str) -> SpanKind {
    let mut chars = segment.chars();
    let Some(first) = chars.next() else {
        return SpanKind::Other;
    };
    if first.is_whitespace() {
        return SpanKind::Whitespace;
    }
    if !segment.chars().any(char::is_alphanumeric) {
        return if segment.chars().all(is_punctuation) {
            SpanKind::Punct
        } else {
            SpanKind::Other
        };
    }
    if first.is_numeric() {
        return SpanKind::Protected(Protected::Number);
    }
    if segment
        .chars()
        .any(|c| c.is_numeric() || c == '_' || c == '.')
    {
        return SpanKind::Protected(Protected::Identifier);
    }
    if !segment
        .chars()
        .all(|c| is_latin_letter(c) || is_apostrophe(c) || is_combining_mark(c))
    {
        return SpanKind::Other;
    }
    if has_inner_capital(segment) {
        return SpanKind::Protected(Protected::Identifier);
    }
    SpanKind::Word
}

/// `camelCase`, `iPhone`, `McDonald`: a capital after a lower-case letter.
fn has_inner_capital(word: &str) -> bool {
    let mut prev_lower = false;
    for c in word.chars() {
        if c.is_uppercase() && prev_lower {
            return true;
        }
        prev_lower = c.is_lowercase();
    }
    false
}

/// Straight and typographic apostrophes, which join the parts of a word.
pub fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’')
}

pub(crate) fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || (c.is_alphabetic() && matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}'))
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c,
            '‘' | '’'
                | '“'
                | '”'
                | '«'
                | '»'
                | '–'
                | '—'
                | '…'
                | '¿'
                | '¡'
                | '·'
                | '‹'
                | '›'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str) -> Vec<(&str, SpanKind)> {
        spans(text).iter().map(|s| (s.text(text), s.kind)).collect()
    }

    fn kind_of(text: &str, piece: &str) -> SpanKind {
        let found = spans(text).into_iter().find(|s| s.text(text) == piece);
        found
            .unwrap_or_else(|| panic!("{piece:?} is not a span of {text:?}: {:?}", cut(text)))
            .kind
    }

    #[test]
    fn words_whitespace_and_punctuation_are_separate_spans() {
        use SpanKind::*;
        assert_eq!(
            cut("Hello,  world!\r\n"),
            vec![
                ("Hello", Word),
                (",", Punct),
                ("  ", Whitespace),
                ("world", Word),
                ("!", Punct),
                ("\r\n", Whitespace)
            ]
        );
    }

    #[test]
    fn contractions_are_one_word() {
        for w in ["don't", "they're", "it's", "they’re", "o’clock"] {
            assert_eq!(kind_of(&format!("so {w} here"), w), SpanKind::Word, "{w}");
        }
    }

    #[test]
    fn quotes_around_a_word_are_punctuation() {
        assert_eq!(cut("'solidarity'")[1], ("solidarity", SpanKind::Word));
    }

    #[test]
    fn accented_latin_words_are_words() {
        assert_eq!(kind_of("a café naïve", "café"), SpanKind::Word);
        assert_eq!(kind_of("a café naïve", "naïve"), SpanKind::Word);
    }

    #[test]
    fn protected_tokens_are_recognised() {
        use Protected::*;
        let text = "See https://ex.com/a?b=1, www.rust-lang.org or mail me@ex.co.uk (@alice #rust) \
                    in src/main.rs or /usr/bin: snake_case CamelCase2 parseJson 3.14 1,000 2nd file.txt.";
        for (piece, kind) in [
            ("https://ex.com/a?b=1", Url),
            ("www.rust-lang.org", Url),
            ("me@ex.co.uk", Email),
            ("@alice", Handle),
            ("#rust", Handle),
            ("src/main.rs", Path),
            ("/usr/bin", Path),
            ("snake_case", Identifier),
            ("CamelCase2", Identifier),
            ("parseJson", Identifier),
            ("3.14", Number),
            ("1,000", Number),
            ("2nd", Number),
            ("file.txt", Identifier),
        ] {
            assert_eq!(kind_of(text, piece), SpanKind::Protected(kind), "{piece}");
        }
    }

    #[test]
    fn other_scripts_and_emoji_pass_through_as_other() {
        assert_eq!(kind_of("hi 日本 there", "日"), SpanKind::Other);
        assert_eq!(kind_of("ok 👍🏽 fine", "👍🏽"), SpanKind::Other);
        assert_eq!(kind_of("the Ελλάδα page", "Ελλάδα"), SpanKind::Other);
    }

    #[test]
    fn crlf_and_tabs_are_whitespace() {
        assert_eq!(cut("a\tb\r\nc")[1], ("\t", SpanKind::Whitespace));
        assert_eq!(cut("a\tb\r\nc")[3], ("\r\n", SpanKind::Whitespace));
    }

    #[test]
    fn empty_text_has_no_spans() {
        assert!(spans("").is_empty());
    }
}
