//! Tables of real human misspellings, used to make realistic typos.
//!
//! Public tables come in several formats; [`MisspellingTable::from_sources`]
//! reads them all into one weighted map from a correct word to its
//! misspellings. `typofix data build-misspellings` writes the merged table in
//! our own compact TSV, which is what ships inside the binary.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use rand::Rng;

use crate::atomic::AtomicFile;
use crate::gzip::open_maybe_gzip;
use crate::Error;

/// First line of our own table format: `correct<TAB>misspelling<TAB>weight`.
const HEADER: &str = "# typofix misspellings v1";

/// Built by `typofix data build-misspellings` (see docs/DATA.md).
const BUILTIN_GZ: &[u8] = include_bytes!("../assets/misspellings.tsv.gz");

/// The source formats we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Our own `correct<TAB>misspelling<TAB>weight`.
    Typofix,
    /// codespell: `wrong->right[, alt]`.
    Codespell,
    /// `wrong,right[,alt]` (the `typos` project).
    Csv,
    /// `wrong<TAB>right` (Wikipedia's list of common misspellings).
    Tab,
    /// Freiburg: `correct typo1 count1 typo2 count2 …`.
    Counts,
    /// TOEFL-Spell: `Filename OffsetSpan Misspelling Type Correction`.
    ToeflSpell,
}

impl TableFormat {
    fn sniff(first_line: &str) -> TableFormat {
        if first_line.starts_with(HEADER) {
            TableFormat::Typofix
        } else if first_line.starts_with("Filename\tOffsetSpan") {
            TableFormat::ToeflSpell
        } else if first_line.contains("->") {
            TableFormat::Codespell
        } else if first_line.contains('\t') {
            TableFormat::Tab
        } else if first_line.contains(',') {
            TableFormat::Csv
        } else {
            TableFormat::Counts
        }
    }
}

/// Weighted misspellings of correct words. Immutable once read, and shared:
/// cloning is cheap.
#[derive(Debug, Clone, Default)]
pub struct MisspellingTable {
    /// Lower-case correct word → (misspelling, cumulative weight), for sampling.
    entries: Arc<HashMap<String, Vec<(String, u64)>>>,
}

impl MisspellingTable {
    /// The table that ships with typofix.
    pub fn builtin() -> MisspellingTable {
        let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(BUILTIN_GZ));
        let mut counts = Counts::default();
        read_table(reader, Path::new("<built-in>"), &mut counts)
            .expect("the built-in misspelling table is valid");
        counts.into_table()
    }

    /// Reads and merges misspelling tables in any of the [`TableFormat`]s.
    pub fn from_sources(paths: &[impl AsRef<Path>]) -> Result<MisspellingTable, Error> {
        let mut counts = Counts::default();
        for path in paths {
            let path = path.as_ref();
            let reader = open_maybe_gzip(path)?;
            let before = counts.pairs.len();
            read_table(reader, path, &mut counts)?;
            if counts.pairs.len() == before {
                return Err(Error::InvalidData {
                    path: path.to_owned(),
                    reason: "no usable misspelling found in this table".into(),
                });
            }
        }
        Ok(counts.into_table())
    }

    /// A misspelling of `word` (lower-case), drawn by weight.
    pub fn sample<R: Rng + ?Sized>(&self, word: &str, rng: &mut R) -> Option<&str> {
        let options = self.entries.get(word)?;
        let total = options.last()?.1;
        let pick = rng.random_range(0..total);
        let i = options.partition_point(|(_, cum)| *cum <= pick);
        Some(options[i].0.as_str())
    }

    /// The misspellings of `word` (lower-case), with their weights.
    pub fn misspellings_of<'a>(&'a self, word: &str) -> impl Iterator<Item = (&'a str, u64)> + 'a {
        let options = self.entries.get(word).map_or(&[][..], Vec::as_slice);
        options.iter().scan(0, |prev, (wrong, cum)| {
            let weight = cum - *prev;
            *prev = *cum;
            Some((wrong.as_str(), weight))
        })
    }

    /// The correct words that have misspellings, in no particular order.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn contains(&self, word: &str) -> bool {
        self.entries.contains_key(word)
    }

    /// Number of correct words with at least one misspelling.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Saves the table atomically in our own format, gzip-compressed when the
    /// name ends in `.gz` (with no timestamp, so rebuilds are byte-identical).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let mut file = AtomicFile::create(path)?;
        let written = if path.extension().is_some_and(|e| e == "gz") {
            let mut gz = flate2::write::GzEncoder::new(&mut file, flate2::Compression::best());
            self.write_tsv(&mut gz).and_then(|()| gz.finish().map(drop))
        } else {
            self.write_tsv(&mut file)
        };
        written.map_err(|e| Error::io(path, e))?;
        file.commit()
    }

    /// Writes the table in our own format, sorted, so that it diffs well.
    pub fn write_tsv(&self, mut out: impl Write) -> std::io::Result<()> {
        writeln!(out, "{HEADER}")?;
        let mut words: Vec<&String> = self.entries.keys().collect();
        words.sort();
        for correct in words {
            for (wrong, weight) in self.misspellings_of(correct) {
                writeln!(out, "{correct}\t{wrong}\t{weight}")?;
            }
        }
        Ok(())
    }
}

/// Accumulates weights per (correct, misspelling) pair while reading.
#[derive(Default)]
struct Counts {
    pairs: BTreeMap<(String, String), u64>,
}

impl Counts {
    fn add(&mut self, correct: &str, wrong: &str, weight: u64) {
        let correct = correct.trim().to_lowercase().replace('’', "'");
        let wrong = wrong.trim().to_lowercase().replace('’', "'");
        // Only single words of letters: multi-word fixes ("alot" -> "a lot")
        // are the space kind's business, and case-only pairs are no typo.
        let plain =
            |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '\'');
        if weight > 0 && correct != wrong && plain(&correct) && plain(&wrong) {
            *self.pairs.entry((correct, wrong)).or_default() += weight;
        }
    }

    fn into_table(self) -> MisspellingTable {
        let mut entries: HashMap<String, Vec<(String, u64)>> = HashMap::new();
        for ((correct, wrong), weight) in self.pairs {
            let options = entries.entry(correct).or_default();
            let cum = options.last().map_or(0, |(_, c)| *c) + weight;
            options.push((wrong, cum));
        }
        MisspellingTable {
            entries: Arc::new(entries),
        }
    }
}

fn read_table(reader: impl BufRead, path: &Path, counts: &mut Counts) -> Result<(), Error> {
    let mut format = None;
    for line in reader.lines() {
        let line = line.map_err(|e| Error::io(path, e))?;
        let format = *format.get_or_insert_with(|| TableFormat::sniff(&line));
        let line = line.trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match format {
            TableFormat::Typofix => {
                let mut f = line.split('\t');
                if let (Some(c), Some(w), Some(n)) = (f.next(), f.next(), f.next()) {
                    counts.add(c, w, n.parse().unwrap_or(0));
                }
            }
            TableFormat::Codespell => {
                if let Some((wrong, rights)) = line.split_once("->") {
                    rights.split(',').for_each(|r| counts.add(r, wrong, 1));
                }
            }
            TableFormat::Csv => {
                let mut f = line.split(',');
                if let Some(wrong) = f.next() {
                    f.for_each(|r| counts.add(r, wrong, 1));
                }
            }
            TableFormat::Tab => {
                if let Some((wrong, right)) = line.split_once('\t') {
                    counts.add(right, wrong, 1);
                }
            }
            TableFormat::Counts => {
                let mut f = line.split_whitespace();
                let Some(correct) = f.next() else { continue };
                while let (Some(wrong), Some(n)) = (f.next(), f.next()) {
                    counts.add(correct, wrong, n.parse().unwrap_or(0));
                }
            }
            TableFormat::ToeflSpell => {
                let f: Vec<&str> = line.split('\t').collect();
                if f.len() >= 5 && f[0] != "Filename" {
                    counts.add(f[4], f[2], 1);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn table_from(text: &str) -> MisspellingTable {
        let mut counts = Counts::default();
        read_table(text.as_bytes(), Path::new("t"), &mut counts).unwrap();
        counts.into_table()
    }

    fn misspellings_of(table: &MisspellingTable, word: &str) -> Vec<(String, u64)> {
        table
            .misspellings_of(word)
            .map(|(w, n)| (w.to_string(), n))
            .collect()
    }

    #[test]
    fn every_source_format_is_read() {
        let cases = [
            ("abandonned->abandoned\nalot->a lot\n", "abandoned", "abandonned"),
            ("aache,ache,cache\n", "cache", "aache"),
            ("abilty\tability\n", "ability", "abilty"),
            ("the The 30 teh 214 th 34\n", "the", "teh"),
            (
                "Filename\tOffsetSpan\tMisspelling\tType\tCorrection\n1\t1-5\tbeacuse\tM\tbecause\n",
                "because",
                "beacuse",
            ),
        ];
        for (text, correct, wrong) in cases {
            let table = table_from(text);
            assert!(
                misspellings_of(&table, correct)
                    .iter()
                    .any(|(w, _)| w == wrong),
                "{text:?}"
            );
        }
    }

    #[test]
    fn multi_word_and_case_only_entries_are_left_out() {
        let table = table_from("the The 30 teh 2\nalot->a lot\n");
        assert_eq!(misspellings_of(&table, "the"), vec![("teh".to_string(), 2)]);
        assert!(!table.contains("a lot"));
    }

    #[test]
    fn our_format_round_trips_with_its_weights() {
        let table = table_from("the teh 214 th 34 tha 4\nthere ther 3\n");
        let mut tsv = Vec::new();
        table.write_tsv(&mut tsv).unwrap();
        let again = table_from(std::str::from_utf8(&tsv).unwrap());
        assert_eq!(
            misspellings_of(&again, "the"),
            misspellings_of(&table, "the")
        );
        assert_eq!(
            misspellings_of(&again, "there"),
            vec![("ther".to_string(), 3)]
        );
    }

    #[test]
    fn the_builtin_table_knows_common_misspellings() {
        let table = MisspellingTable::builtin();
        assert!(table.len() > 10_000, "{}", table.len());
        for (correct, wrong) in [
            ("the", "teh"),
            ("because", "becasue"),
            ("receive", "recieve"),
        ] {
            assert!(
                table.misspellings_of(correct).any(|(w, _)| w == wrong),
                "{correct}"
            );
        }
    }

    #[test]
    fn sampling_follows_the_weights() {
        let table = table_from("the teh 900 th 100\n");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let teh = (0..10_000)
            .filter(|_| table.sample("the", &mut rng) == Some("teh"))
            .count();
        assert!((8_700..9_300).contains(&teh), "{teh}");
        assert_eq!(table.sample("unknown", &mut rng), None);
    }
}
