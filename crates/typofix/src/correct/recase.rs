//! Recasing: a replacement takes the casing of the words it replaces
//! (Teh → The, TEH → THE, Alot → A lot).

use crate::text::Casing;

/// Spells `words` with the casing of `original`, word by word where the
/// counts match, keeping the original's separators.
pub(super) fn recase(original: &str, words: &[String]) -> String {
    let originals: Vec<&str> = original.split(' ').filter(|w| !w.is_empty()).collect();
    if originals.len() == words.len() {
        let mut out = String::new();
        let mut rest = original;
        for (o, w) in originals.iter().zip(words) {
            let at = rest.find(o).unwrap_or(0);
            out.push_str(&rest[..at]);
            out.push_str(&cased(Casing::of(o), w));
            rest = &rest[at + o.len()..];
        }
        out.push_str(rest);
        return out;
    }
    let casing = Casing::of(originals.first().copied().unwrap_or(original));
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let c = match casing {
            Casing::Upper => Casing::Upper,
            _ if i == 0 => casing,
            _ => Casing::Lower,
        };
        out.push(cased(c, w));
    }
    out.join(" ")
}

fn cased(casing: Casing, word: &str) -> String {
    match casing {
        // `I` and `A` read as title case, but a correction of them is not.
        Casing::Mixed => word.to_string(),
        c => c.apply(word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements_take_the_casing_of_the_original() {
        let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(recase("Teh", &w(&["the"])), "The");
        assert_eq!(recase("TEH", &w(&["the"])), "THE");
        assert_eq!(recase("Thi sis", &w(&["this", "is"])), "This is");
        assert_eq!(recase("Sen tence", &w(&["sentence"])), "Sentence");
        assert_eq!(recase("Alot", &w(&["a", "lot"])), "A lot");
        assert_eq!(recase("ALOT", &w(&["a", "lot"])), "A LOT");
    }
}
