//! WikiText (Merity et al.) markup: ` = Heading = ` lines, text tokenised with
//! spaces, ` @-@ `-style escapes, and `<unk>` for rare words.

use typofix::text::sentences;

/// ` = Heading = ` and ` = = Sub = = `.
pub(super) fn is_heading(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 3 && t.starts_with("= ") && t.ends_with(" =")
}

/// Turns a WikiText line back into ordinary text, keeping only the sentences
/// without `<unk>`; `None` for headings and lines with nothing left.
pub(super) fn paragraph(line: &str) -> Option<String> {
    if is_heading(line) {
        return None;
    }
    let text = detokenize(
        &line
            .replace(" @-@ ", "-")
            .replace(" @,@ ", ",")
            .replace(" @.@ ", "."),
    );
    let kept: Vec<&str> = sentences(&text)
        .into_iter()
        .filter(|s| !s.contains("<unk>"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(" "))
}

/// Removes the spaces that tokenisation put around punctuation.
fn detokenize(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quote_open = false;
    let mut glue_next = false;
    for token in line.split_whitespace() {
        let glue_left = matches!(
            token,
            "," | "."
                | ";"
                | ":"
                | "!"
                | "?"
                | ")"
                | "]"
                | "%"
                | "'s"
                | "'t"
                | "n't"
                | "'re"
                | "'ve"
                | "'ll"
                | "'d"
                | "'m"
        ) || (token == "\"" && quote_open);
        if !out.is_empty() && !glue_left && !glue_next {
            out.push(' ');
        }
        out.push_str(token);
        glue_next = matches!(token, "(" | "[" | "$") || (token == "\"" && !quote_open);
        if token == "\"" {
            quote_open = !quote_open;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_dropped() {
        assert!(is_heading(" = Homarus gammarus = "));
        assert!(is_heading(" = = Description = = "));
        assert_eq!(paragraph(" = = Description = = "), None);
    }

    #[test]
    fn escapes_and_token_spacing_are_undone() {
        assert_eq!(
            paragraph(" It weighs 0 @.@ 7 kg ( 1 @,@ 500 g ) , and is red @-@ tipped . He said \" yes \" . ").unwrap(),
            "It weighs 0.7 kg (1,500 g), and is red-tipped. He said \"yes\"."
        );
        assert_eq!(
            paragraph(" It isn 't John 's ; they 're here . ").unwrap(),
            "It isn't John's; they're here."
        );
    }

    #[test]
    fn sentences_with_unknown_words_are_dropped() {
        assert_eq!(
            paragraph(" The <unk> is blue . The claw is red . ").unwrap(),
            "The claw is red."
        );
        assert_eq!(paragraph(" A <unk> . "), None);
    }
}
