//! Sentence splitting for corpus paragraphs.
//!
//! UAX #29 sentence boundaries (`unicode-segmentation`) do the heavy lifting; we
//! only re-join the places where it breaks after an abbreviation or an initial
//! ("Dr. Smith", "J. R. R. Tolkien"), which are common in encyclopaedic text.

use unicode_segmentation::UnicodeSegmentation;

/// Abbreviations that end with a period but rarely end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "e.g", "i.e", "cf", "al",
    "inc", "ltd", "co", "corp", "no", "fig", "vol", "gen", "col", "lt", "sgt", "capt", "rev",
    "gov", "sen", "rep", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "u.s", "u.k", "a.m", "p.m", "approx", "ca", "c", "op", "ed", "eds",
];

/// Splits a paragraph into trimmed sentences.
pub fn sentences(paragraph: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut start: Option<usize> = None;
    for (offset, piece) in paragraph.split_sentence_bound_indices() {
        let begin = *start.get_or_insert(offset);
        let end = offset + piece.len();
        if !ends_with_abbreviation(piece.trim_end()) {
            push_trimmed(&paragraph[begin..end], &mut out);
            start = None;
        }
    }
    if let Some(begin) = start {
        push_trimmed(&paragraph[begin..], &mut out);
    }
    out
}

fn push_trimmed<'a>(sentence: &'a str, out: &mut Vec<&'a str>) {
    let sentence = sentence.trim();
    if !sentence.is_empty() {
        out.push(sentence);
    }
}

fn ends_with_abbreviation(piece: &str) -> bool {
    let Some(body) = piece.strip_suffix('.') else {
        return false;
    };
    let last = body
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"')
        .next()
        .unwrap_or("");
    let is_initial = last.chars().count() == 1 && last.chars().all(|c| c.is_uppercase());
    is_initial || ABBREVIATIONS.contains(&last.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paragraph_splits_at_sentence_ends() {
        assert_eq!(
            sentences("It rained. Did it? Yes! Then it stopped."),
            vec!["It rained.", "Did it?", "Yes!", "Then it stopped."]
        );
    }

    #[test]
    fn abbreviations_and_initials_do_not_end_a_sentence() {
        assert_eq!(
            sentences("Dr. Smith met J. R. R. Tolkien in the U.S. in 1950. He left."),
            vec![
                "Dr. Smith met J. R. R. Tolkien in the U.S. in 1950.",
                "He left."
            ]
        );
    }

    #[test]
    fn surrounding_whitespace_is_dropped() {
        assert_eq!(sentences("  One.   Two.  "), vec!["One.", "Two."]);
        assert!(sentences("   ").is_empty());
    }
}
