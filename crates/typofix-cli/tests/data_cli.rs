//! `typofix data …` end to end, as a user runs it.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn typofix() -> Command {
    Command::cargo_bin("typofix").unwrap()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn generate(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    typofix()
        .args(["data", "generate", "--corpus"])
        .arg(corpus())
        .args(["--examples", "400", "--seed", "3", "--out"])
        .arg(out)
        .args(extra)
        .assert()
}

#[test]
fn generate_reads_every_format_and_writes_aligned_examples() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("train.jsonl");
    generate(&out, &[])
        .success()
        .stderr(predicate::str::contains("wrote 400 examples"))
        .stderr(predicate::str::contains("read 4 files"))
        .stderr(predicate::str::contains("1 invalid JSON"));
    let examples = lines(&out);
    assert_eq!(examples.len(), 400);
    let cleans: HashSet<&str> = examples
        .iter()
        .map(|e| e["clean"].as_str().unwrap())
        .collect();
    for from_each_format in [
        "Their dog likes to sleep in the sun near the kitchen door.",
        "The first lighthouses were simple fires lit on hills near harbours.",
        "Robins eat worms, insects and berries, and they will often follow a gardener who is digging.",
        "Please return your books before the end of the week so that they can be catalogued.",
    ] {
        assert!(cleans.contains(from_each_format), "{from_each_format}");
    }
    assert!(!cleans
        .iter()
        .any(|c| c.contains("History") || c.contains("Diet")));
    for e in &examples {
        assert!(e["corrupted"].is_string() && e["edits"].is_array(), "{e}");
    }
}

#[test]
fn the_same_seed_gives_identical_files_on_one_or_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    generate(&a, &["--threads", "1"]).success();
    generate(&b, &["--threads", "2"]).success();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn a_validation_split_shares_no_sentence_with_training() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("train.jsonl");
    generate(&out, &["--valid-fraction", "0.3"]).success();
    let valid = dir.path().join("train.valid.jsonl");
    let clean = |p: &Path| -> HashSet<String> {
        lines(p)
            .iter()
            .map(|e| e["clean"].as_str().unwrap().to_string())
            .collect()
    };
    let (train, valid) = (clean(&out), clean(&valid));
    assert!(!train.is_empty() && !valid.is_empty());
    assert!(train.is_disjoint(&valid));
}

#[test]
fn a_missing_corpus_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    typofix()
        .args(["data", "generate", "--corpus", "no/such/corpus", "--out"])
        .arg(dir.path().join("x.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no/such/corpus: no such file or directory",
        ));
}

#[test]
fn bad_lines_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let messy = dir.path().join("messy.txt");
    let mut content = b"A perfectly ordinary sentence about the weather today.\n\xff\xfe\xfd broken bytes here\n\n".to_vec();
    content.extend(vec![b'x'; 5000]);
    content.extend(b"\nAnother ordinary sentence about the garden in spring.\n");
    std::fs::write(&messy, content).unwrap();
    typofix()
        .args([
            "data",
            "generate",
            "--examples",
            "20",
            "--max-line-bytes",
            "1000",
            "--corpus",
        ])
        .arg(&messy)
        .arg("--out")
        .arg(dir.path().join("out.jsonl"))
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "1 empty, 1 invalid UTF-8, 1 over-long",
        ));
}

#[test]
fn an_existing_output_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("train.jsonl");
    std::fs::write(&out, "precious").unwrap();
    generate(&out, &[])
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
    generate(&out, &["--force"]).success();
}

#[test]
fn a_failed_run_leaves_no_output_behind() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("a.txt");
    std::fs::write(
        &good,
        "A perfectly ordinary sentence about the weather today.\n",
    )
    .unwrap();
    let broken = dir.path().join("b.txt.gz");
    let mut gz = flate2_like_header();
    gz.write_all(&[0u8; 64]).unwrap();
    std::fs::write(&broken, gz).unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    typofix()
        .args(["data", "generate", "--examples", "100", "--corpus"])
        .args([&good, &broken])
        .arg("--out")
        .arg(out_dir.join("train.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("b.txt.gz"));
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0);
}

/// The gzip magic bytes and a header, so the file is taken for gzip.
fn flate2_like_header() -> Vec<u8> {
    vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]
}

#[test]
fn examples_can_stream_to_standard_output() {
    let assert = typofix()
        .args([
            "data",
            "generate",
            "--examples",
            "25",
            "--out",
            "-",
            "--corpus",
        ])
        .arg(corpus())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "wrote 25 examples to standard output",
        ));
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 25);
    assert!(stdout
        .lines()
        .all(|l| serde_json::from_str::<Value>(l).is_ok()));
}

#[test]
fn stats_on_a_missing_file_says_so() {
    typofix()
        .args(["data", "stats", "nowhere.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "nowhere.jsonl: no such file or directory",
        ));
}

#[test]
fn unknown_kinds_are_refused_with_the_list_of_kinds() {
    let dir = tempfile::tempdir().unwrap();
    generate(&dir.path().join("x.jsonl"), &["--kinds", "keyboard,typo"])
        .code(2)
        .stderr(predicate::str::contains("unknown error kind \"typo\""))
        .stderr(predicate::str::contains("misspelling"));
}

#[test]
fn stats_show_every_kind_and_the_realised_rate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("train.jsonl");
    generate(&out, &["--rate", "0.3"]).success();
    let assert = typofix()
        .args(["data", "stats"])
        .arg(&out)
        .assert()
        .success();
    let table = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for kind in [
        "keyboard",
        "drop",
        "double",
        "transpose",
        "space",
        "confusion",
        "misspelling",
    ] {
        let row = table
            .lines()
            .find(|l| l.starts_with(kind))
            .unwrap_or_else(|| panic!("{kind}\n{table}"));
        let edits: usize = row.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(edits > 0, "{row}");
    }

    let assert = typofix()
        .args(["data", "stats", "--json"])
        .arg(&out)
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(json["examples"], 400);
    assert_eq!(json["misaligned"], 0);
    let rate = json["corrupted_words"].as_f64().unwrap() / json["words"].as_f64().unwrap();
    assert!((rate - 0.3).abs() < 0.03, "{rate}");
}

#[test]
fn custom_misspelling_tables_and_confusion_sets_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("mine.txt");
    std::fs::write(&table, "teh->the\nthier->their\n").unwrap();
    let built = dir.path().join("mine.tsv.gz");
    typofix()
        .args(["data", "build-misspellings", "--source"])
        .arg(&table)
        .arg("--out")
        .arg(&built)
        .assert()
        .success()
        .stderr(predicate::str::contains("misspellings of 2 words"));
    let out = dir.path().join("train.jsonl");
    typofix()
        .args(["data", "generate", "--corpus"])
        .arg(corpus())
        .args([
            "--examples",
            "50",
            "--kinds",
            "misspelling",
            "--rate",
            "1",
            "--misspellings",
        ])
        .arg(&built)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    for e in lines(&out) {
        for edit in e["edits"].as_array().unwrap() {
            let [a, b] = [
                edit["corrupted"][0].as_u64().unwrap(),
                edit["corrupted"][1].as_u64().unwrap(),
            ];
            let wrong = &e["corrupted"].as_str().unwrap()[a as usize..b as usize];
            assert!(["teh", "Teh", "thier", "Thier"].contains(&wrong), "{wrong}");
        }
    }
}
