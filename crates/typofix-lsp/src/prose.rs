//! Which parts of a document are prose, and the paragraphs they make.
//! Paragraphs are the unit of checking: a change re-checks only the
//! paragraphs it touched, and a long document is checked a few at a time.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag};

/// A paragraph to check, and the parts of it that must not be corrected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    /// Byte range in the document.
    pub range: Range<usize>,
    /// Byte ranges, in the document, of code, HTML and the like inside it.
    pub skip: Vec<Range<usize>>,
}

/// The paragraphs of `text`, a document in `language` (an LSP language id).
pub fn paragraphs(text: &str, language: &str) -> Vec<Paragraph> {
    let (end, skip) = match language {
        "markdown" => (text.len(), markdown_code(text)),
        "gitcommit" => git_comments(text),
        _ => (text.len(), Vec::new()),
    };
    blocks(&text[..end])
        .filter_map(|range| {
            let inside: Vec<Range<usize>> = skip
                .iter()
                .filter(|s| s.start < range.end && range.start < s.end)
                .cloned()
                .collect();
            // All code or comment: nothing to check.
            let end = range.start + text[range.clone()].trim_end().len();
            let covered = inside
                .iter()
                .any(|s| s.start <= range.start && end <= s.end);
            (!covered).then_some(Paragraph {
                range,
                skip: inside,
            })
        })
        .collect()
}

/// Runs of lines between blank lines.
fn blocks(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = None;
    let mut at = 0;
    let mut lines = text.split_inclusive('\n');
    std::iter::from_fn(move || loop {
        let Some(line) = lines.next() else {
            return start.take().map(|s| s..text.len());
        };
        let line_start = at;
        at += line.len();
        if line.trim().is_empty() {
            if let Some(s) = start.take() {
                return Some(s..line_start);
            }
        } else if start.is_none() {
            start = Some(line_start);
        }
    })
}

/// Code blocks, code spans, HTML and front matter: what a Markdown
/// document shows as written, not as prose.
fn markdown_code(text: &str) -> Vec<Range<usize>> {
    let options =
        Options::ENABLE_YAML_STYLE_METADATA_BLOCKS | Options::ENABLE_TABLES | Options::ENABLE_MATH;
    let mut skip = Vec::new();
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_) | Tag::MetadataBlock(_) | Tag::HtmlBlock)
            | Event::Code(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_)
            | Event::Html(_)
            | Event::InlineHtml(_) => skip.push(range),
            _ => {}
        }
    }
    skip
}

/// Where a commit message's own text ends (git's scissors line, above the
/// diff of `commit -v`), and its `#` comment lines.
fn git_comments(text: &str) -> (usize, Vec<Range<usize>>) {
    let mut skip = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("# ------------------------ >8 ------------------------") {
            return (at, skip);
        }
        if line.starts_with('#') {
            skip.push(at..at + line.len());
        }
        at += line.len();
    }
    (text.len(), skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(text: &'a str, language: &str) -> Vec<&'a str> {
        paragraphs(text, language)
            .into_iter()
            .map(|p| &text[p.range])
            .collect()
    }

    #[test]
    fn plain_text_paragraphs_are_runs_of_lines_between_blank_lines() {
        let text = "One teh\ntwo.\n\n  \nThree.\n";
        assert_eq!(texts(text, "plaintext"), ["One teh\ntwo.\n", "Three.\n"]);
    }

    #[test]
    fn markdown_code_blocks_are_not_paragraphs_and_inline_code_is_skipped() {
        let text = "# Titel\n\n```sh\nteh --help\n```\n\nRun `teh` now.\n";
        assert_eq!(texts(text, "markdown"), ["# Titel\n", "Run `teh` now.\n"]);
        let run = &paragraphs(text, "markdown")[1];
        let code = &run.skip[0];
        assert_eq!(&text[code.clone()], "`teh`");
    }

    #[test]
    fn a_commit_message_stops_at_the_scissors_and_skips_comments() {
        let text = "Fix teh bug\n\n# Please enter the commit message\n\
                    # ------------------------ >8 ------------------------\n\
                    diff --git a/teh b/teh\n";
        assert_eq!(texts(text, "gitcommit"), ["Fix teh bug\n"]);
    }
}
