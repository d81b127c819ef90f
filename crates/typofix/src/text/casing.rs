//! Casing patterns, so that a replacement word takes the casing of the word it
//! replaces (the → teh, The → Teh, THE → TEH).

/// The casing of a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Casing {
    /// `word`, or no cased letter at all.
    Lower,
    /// `WORD` (two letters or more).
    Upper,
    /// `Word`, and a single capital such as `I` or `A`.
    Title,
    /// Anything else (`mIxEd`): left as the replacement spells it.
    Mixed,
}

impl Casing {
    pub fn of(word: &str) -> Casing {
        let mut letters = word.chars().filter(|c| c.is_alphabetic());
        let Some(first) = letters.next() else {
            return Casing::Lower;
        };
        let (mut upper, mut lower, mut count) = (0, 0, 0);
        for c in letters {
            count += 1;
            upper += usize::from(c.is_uppercase());
            lower += usize::from(c.is_lowercase());
        }
        match (first.is_uppercase(), upper, lower) {
            (false, 0, _) => Casing::Lower,
            (true, _, 0) if count > 0 => Casing::Upper,
            (true, 0, _) => Casing::Title,
            _ => Casing::Mixed,
        }
    }

    /// Spells `word` with this casing.
    pub fn apply(self, word: &str) -> String {
        match self {
            Casing::Lower => word.to_lowercase(),
            Casing::Upper => word.to_uppercase(),
            Casing::Title => {
                let lower = word.to_lowercase();
                let mut chars = lower.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => lower,
                }
            }
            Casing::Mixed => word.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casing_is_read_from_the_letters() {
        assert_eq!(Casing::of("the"), Casing::Lower);
        assert_eq!(Casing::of("The"), Casing::Title);
        assert_eq!(Casing::of("THE"), Casing::Upper);
        assert_eq!(Casing::of("I"), Casing::Title);
        assert_eq!(Casing::of("DON'T"), Casing::Upper);
        assert_eq!(Casing::of("tHe"), Casing::Mixed);
        assert_eq!(Casing::of("'"), Casing::Lower);
    }

    #[test]
    fn casing_is_carried_over_to_a_replacement() {
        assert_eq!(Casing::Title.apply("teh"), "Teh");
        assert_eq!(Casing::Upper.apply("teh"), "TEH");
        assert_eq!(Casing::Lower.apply("Teh"), "teh");
        assert_eq!(Casing::Title.apply("éte"), "Éte");
        assert_eq!(Casing::Mixed.apply("tEh"), "tEh");
    }
}
