//! The corruption model's specification, as properties over random text.

use std::sync::LazyLock;

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use typofix::confusion::ConfusionSets;
use typofix::keyboard;
use typofix::misspellings::MisspellingTable;
use typofix::text::{spans, Casing};
use typofix::ErrorKind;
use typofix_train::corrupt::{undo, Corruption, Corruptor, EditOp, KindWeights};

static CONFUSIONS: LazyLock<ConfusionSets> = LazyLock::new(ConfusionSets::builtin);
static MISSPELLINGS: LazyLock<MisspellingTable> = LazyLock::new(MisspellingTable::builtin);

fn corruptor(rate: f64, weights: KindWeights) -> Corruptor {
    Corruptor::new(rate, weights, CONFUSIONS.clone(), MISSPELLINGS.clone()).unwrap()
}

fn corrupt(c: &Corruptor, text: &str, seed: u64) -> Corruption {
    c.corrupt(text, &mut ChaCha8Rng::seed_from_u64(seed))
}

/// Words people write, including confusable and often-misspelled ones.
const WORDS: &[&str] = &[
    "the",
    "The",
    "THE",
    "their",
    "there",
    "they're",
    "your",
    "you're",
    "its",
    "it's",
    "to",
    "too",
    "then",
    "than",
    "because",
    "receive",
    "sentence",
    "a",
    "I",
    "lot",
    "good",
    "This",
    "is",
    "café",
    "don't",
    "they’re",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "separate",
    "definitely",
    "government",
    "which",
    "would",
    "eXtra",
];

/// Sentence-like text: words mixed with spacing, punctuation and protected
/// tokens of every sort.
fn sentence() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => prop::sample::select(WORDS).prop_map(str::to_string),
        1 => prop::sample::select(&[
            "42", "3.14", "https://ex.com/a", "me@ex.com", "@bob", "snake_case", "日本", "👍🏽", "\u{301}",
        ][..]).prop_map(str::to_string),
    ];
    let sep = prop::sample::select(
        &[
            " ", " ", " ", " ", ", ", "  ", "\t", "\r\n", ". ", " (", ") ", "-",
        ][..],
    );
    prop::collection::vec((piece, sep), 0..24)
        .prop_map(|parts| parts.into_iter().map(|(p, s)| format!("{p}{s}")).collect())
}

/// Both realistic sentences and arbitrary Unicode.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![3 => sentence(), 1 => any::<String>()]
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// The positions at which one inserted char turns `short` into `long`
/// (several when the char repeats a neighbour: de|e|finitely).
fn insertions(short: &[char], long: &[char]) -> Vec<usize> {
    if long.len() != short.len() + 1 {
        return Vec::new();
    }
    (0..long.len())
        .filter(|&i| long[..i] == short[..i] && long[i + 1..] == short[i..])
        .collect()
}

/// Checks that an edit does what its kind claims.
fn check_kind(
    kind: ErrorKind,
    op: Option<EditOp>,
    clean: &str,
    corrupted: &str,
) -> Result<(), String> {
    let (c, k) = (chars(&lower(clean)), chars(&lower(corrupted)));
    let ok = match (kind, op) {
        (ErrorKind::Transpose, _) => {
            let diff: Vec<usize> = (0..c.len()).filter(|&i| c.get(i) != k.get(i)).collect();
            c.len() == k.len()
                && diff.len() == 2
                && diff[1] == diff[0] + 1
                && c[diff[0]] == k[diff[1]]
                && c[diff[1]] == k[diff[0]]
        }
        (ErrorKind::Drop, _) => !insertions(&k, &c).is_empty(),
        (ErrorKind::Double, _) => insertions(&c, &k)
            .into_iter()
            .any(|i| (i > 0 && k[i] == k[i - 1]) || k.get(i + 1) == Some(&k[i])),
        (ErrorKind::Keyboard, Some(EditOp::Substitute)) => {
            let diff: Vec<usize> = (0..c.len()).filter(|&i| c.get(i) != k.get(i)).collect();
            c.len() == k.len()
                && diff.len() == 1
                && keyboard::neighbours(c[diff[0]]).is_some_and(|n| n.contains(&(k[diff[0]] as u8)))
        }
        (ErrorKind::Keyboard, Some(EditOp::Insert)) => insertions(&c, &k).into_iter().any(|i| {
            let near = |j: usize| {
                c.get(j)
                    .and_then(|&x| keyboard::neighbours(x))
                    .is_some_and(|n| n.contains(&(k[i] as u8)))
            };
            (i > 0 && near(i - 1)) || near(i)
        }),
        (ErrorKind::Space, Some(EditOp::Split)) => {
            !clean.contains(' ')
                && insertions(&c, &k)
                    .into_iter()
                    .any(|i| k[i] == ' ' && i > 0 && i + 1 < k.len())
        }
        (ErrorKind::Space, Some(EditOp::Merge)) => {
            clean.matches(' ').count() == 1 && insertions(&k, &c).into_iter().any(|i| c[i] == ' ')
        }
        (ErrorKind::Space, Some(EditOp::Shift)) => {
            let (cs, ks) = (clean.find(' '), corrupted.find(' '));
            clean.matches(' ').count() == 1
                && corrupted.matches(' ').count() == 1
                && clean.replace(' ', "") == corrupted.replace(' ', "")
                && cs.zip(ks).is_some_and(|(a, b)| {
                    let (a, b) = (clean[..a].chars().count(), corrupted[..b].chars().count());
                    a.abs_diff(b) == 1
                })
        }
        (ErrorKind::Confusion, _) => {
            let norm = |s: &str| lower(s).replace('’', "'");
            CONFUSIONS
                .alternatives(&norm(clean))
                .contains(&norm(corrupted))
        }
        (ErrorKind::Misspelling, _) => MISSPELLINGS
            .misspellings_of(&lower(clean).replace('’', "'"))
            .any(|(w, _)| w == lower(corrupted).replace('’', "'")),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{kind:?}/{op:?} does not explain {clean:?} -> {corrupted:?}"
        ))
    }
}

/// Single-word errors keep the word's casing pattern.
fn check_casing(clean: &str, corrupted: &str) -> Result<(), String> {
    let letters: Vec<char> = corrupted.chars().filter(|c| c.is_alphabetic()).collect();
    let ok = match Casing::of(clean) {
        Casing::Lower => letters.iter().all(|c| !c.is_uppercase()),
        Casing::Upper => letters.iter().all(|c| !c.is_lowercase()),
        Casing::Title => {
            letters.first().is_none_or(|c| c.is_uppercase())
                && letters.iter().skip(1).all(|c| !c.is_uppercase())
        }
        Casing::Mixed => true,
    };
    ok.then_some(())
        .ok_or_else(|| format!("casing of {clean:?} lost in {corrupted:?}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn undoing_the_edits_gives_back_the_clean_text(text in any_text(), rate in 0.0..=1.0f64, seed: u64) {
        let c = corrupt(&corruptor(rate, KindWeights::DEFAULT), &text, seed);
        prop_assert_eq!(undo(&text, &c.corrupted, &c.edits), Ok(text.clone()));
    }

    #[test]
    fn only_whole_words_change(text in any_text(), seed: u64) {
        // `undo` succeeding already proves every byte between edits is kept;
        // here each edit must also start and end on word boundaries.
        let c = corrupt(&corruptor(0.5, KindWeights::DEFAULT), &text, seed);
        let words: Vec<_> = spans(&text).into_iter().filter(|s| s.is_word()).collect();
        for e in &c.edits {
            prop_assert!(words.iter().any(|w| w.start == e.clean[0]), "{:?} starts mid-word in {:?}", e, text);
            prop_assert!(words.iter().any(|w| w.end == e.clean[1]), "{:?} ends mid-word in {:?}", e, text);
        }
    }

    #[test]
    fn each_kind_does_what_it_claims(text in sentence(), kind in prop::sample::select(&ErrorKind::ALL[..]), seed: u64) {
        let c = corrupt(&corruptor(0.5, KindWeights::only(&[kind])), &text, seed);
        for e in &c.edits {
            prop_assert_eq!(e.kind, kind);
            let clean = &text[e.clean[0]..e.clean[1]];
            let corrupted = &c.corrupted[e.corrupted[0]..e.corrupted[1]];
            prop_assert_ne!(clean, corrupted);
            check_kind(kind, e.op, clean, corrupted).map_err(TestCaseError::fail)?;
            if kind != ErrorKind::Space {
                check_casing(clean, corrupted).map_err(TestCaseError::fail)?;
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_corruption(text in sentence(), seed: u64) {
        let c = corruptor(0.3, KindWeights::DEFAULT);
        prop_assert_eq!(corrupt(&c, &text, seed), corrupt(&c, &text, seed));
    }
}

/// Sentences of the shipped sample corpus, with their word counts.
fn sample_sentences() -> Vec<String> {
    let text = include_str!("../../../data/sample/paragraphs.txt");
    text.lines()
        .flat_map(typofix::text::sentences)
        .map(str::to_string)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn the_realised_rate_is_within_one_point_of_the_requested_rate(rate in 0.02..0.4f64, seed: u64) {
        let c = corruptor(rate, KindWeights::DEFAULT);
        let sentences = sample_sentences();
        let (mut words, mut touched) = (0, 0);
        for i in 0..10_000u64 {
            let out = corrupt(&c, &sentences[i as usize % sentences.len()], seed ^ i);
            words += out.words;
            touched += out.corrupted_words;
        }
        let realised = touched as f64 / words as f64;
        prop_assert!((realised - rate).abs() <= 0.01, "asked {rate:.4}, got {realised:.4}");
    }
}

#[test]
fn examples_from_the_spec() {
    // Every kind can make the errors the spec names.
    let cases: &[(ErrorKind, &str, &str)] = &[
        (ErrorKind::Transpose, "The", "Teh"),
        (ErrorKind::Transpose, "THE", "TEH"),
        (ErrorKind::Drop, "sentence", "sentenc"),
        (ErrorKind::Double, "good", "goood"),
        (ErrorKind::Space, "sentence", "sen tence"),
        (ErrorKind::Space, "a lot", "alot"),
        (ErrorKind::Space, "This is", "Thi sis"),
        (ErrorKind::Confusion, "their", "there"),
    ];
    for &(kind, clean, wanted) in cases {
        let c = corruptor(1.0, KindWeights::only(&[kind]));
        let found = (0..5_000).any(|seed| corrupt(&c, clean, seed).corrupted == wanted);
        assert!(found, "{kind} never turns {clean:?} into {wanted:?}");
    }
}

#[test]
fn protected_tokens_and_other_scripts_are_never_touched() {
    let text =
        "Visit https://example.com or mail team@example.com, @bob: run snake_case 42 日本語 👍";
    let c = corruptor(1.0, KindWeights::DEFAULT);
    for seed in 0..200 {
        let out = corrupt(&c, text, seed);
        for keep in [
            "https://example.com",
            "team@example.com",
            "@bob",
            "snake_case",
            "42",
            "日本語",
            "👍",
        ] {
            assert!(
                out.corrupted.contains(keep),
                "{keep} changed in {:?}",
                out.corrupted
            );
        }
    }
}

#[test]
fn a_rate_outside_zero_to_one_is_refused() {
    for rate in [-0.1, 1.5, f64::NAN] {
        assert!(
            Corruptor::builtin(rate, KindWeights::DEFAULT).is_err(),
            "{rate}"
        );
    }
}
