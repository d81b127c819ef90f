//! `typofix model …` end to end, on the shared tiny DistilBERT fixture.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/tiny-distilbert")
}

/// The fixture plus a synthetic BERT vocabulary: [PAD]=0, [UNK]=100,
/// [CLS]=101, [SEP]=102, [MASK]=103 and `w<i>` for every other id.
fn fixture_with_vocab() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(fixture().join(file), dir.path().join(file)).unwrap();
    }
    let vocab: Vec<String> = (0..1000)
        .map(|i| match i {
            0 => "[PAD]".into(),
            100 => "[UNK]".into(),
            101 => "[CLS]".into(),
            102 => "[SEP]".into(),
            103 => "[MASK]".into(),
            _ => format!("w{i}"),
        })
        .collect();
    std::fs::write(dir.path().join("vocab.txt"), vocab.join("\n") + "\n").unwrap();
    dir
}

fn typofix() -> Command {
    Command::cargo_bin("typofix").unwrap()
}

fn fill_mask_json(model: &Path, text: &str) -> Value {
    let out = typofix()
        .args(["model", "fill-mask", "--json", "--top-k", "3", "--model"])
        .arg(model)
        .arg(text)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn fill_mask_ranks_candidates_for_every_mask() {
    let model = fixture_with_vocab();
    let json = fill_mask_json(model.path(), "w5 w17 [MASK] w300 [MASK] w42");
    let masks = json.as_array().unwrap();
    assert_eq!(masks.len(), 2);
    assert_eq!(masks[0]["position"], 3);
    assert_eq!(masks[1]["position"], 5);
    // Top candidates as transformers 5.24's pipeline gives them
    // (scripts/compare_fill_mask.py; docs/MODEL.md).
    assert_eq!(masks[0]["candidates"][0]["id"], 17);
    assert_eq!(masks[1]["candidates"][0]["id"], 442);
    let p = masks[1]["candidates"][0]["probability"].as_f64().unwrap();
    assert!((p - 0.751540).abs() < 1e-4, "{p}");
    for m in masks {
        let probs: Vec<f64> = m["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["probability"].as_f64().unwrap())
            .collect();
        assert!(probs.windows(2).all(|w| w[0] >= w[1]), "{probs:?}");
        assert_eq!(
            m["candidates"][0]["token"],
            format!("w{}", m["candidates"][0]["id"])
        );
    }
}

#[test]
fn fill_mask_without_a_mask_says_so() {
    let model = fixture_with_vocab();
    typofix()
        .args(["model", "fill-mask", "--model"])
        .arg(model.path())
        .arg("w5 w6")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no [MASK] token"));
}

#[test]
fn a_model_without_a_tokenizer_is_a_clear_error() {
    typofix()
        .args(["model", "fill-mask", "--model"])
        .arg(fixture())
        .arg("[MASK]")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no tokenizer"));
}

#[test]
fn an_fp16_export_halves_the_file_and_keeps_the_predictions() {
    let model = fixture_with_vocab();
    let out = tempfile::tempdir().unwrap();
    typofix()
        .args(["export", "safetensors", "--dtype", "f16", "--model"])
        .arg(model.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let size = |d: &Path| {
        std::fs::metadata(d.join("model.safetensors"))
            .unwrap()
            .len()
    };
    assert!(size(out.path()) * 10 < size(model.path()) * 6);
    let text = "w5 w17 [MASK] w300";
    let (a, b) = (
        fill_mask_json(model.path(), text),
        fill_mask_json(out.path(), text),
    );
    assert_eq!(a[0]["candidates"][0]["id"], b[0]["candidates"][0]["id"]);

    typofix()
        .args(["model", "info", "--model"])
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("2 layers, dim 64, 4 heads"))
        .stdout(predicate::str::contains("tokenizer: 1000 tokens"));
}

fn bert_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../typofix-train/tests/fixtures")
        .join(name)
}

#[test]
fn import_turns_a_bert_checkpoint_into_a_model_typofix_loads() {
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("model");
    typofix()
        .args(["model", "import"])
        .arg(bert_fixture("tiny-bert"))
        .arg("--out")
        .arg(&model)
        .assert()
        .success()
        .stderr(predicate::str::contains("MLM head initialised"))
        .stderr(predicate::str::contains("pooler.dense.weight"));
    typofix()
        .args(["model", "info", "--model"])
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 layers, dim 32, 4 heads, hidden 64",
        ))
        .stdout(predicate::str::contains("tokenizer: 200 tokens"));
    assert_eq!(
        fill_mask_json(&model, "w7 [MASK] w9")[0]["candidates"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // A second import into the same place needs --force.
    typofix()
        .args(["model", "import"])
        .arg(bert_fixture("tiny-bert-mlm"))
        .arg("--out")
        .arg(&model)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    typofix()
        .args(["model", "import", "--force"])
        .arg(bert_fixture("tiny-bert-mlm"))
        .arg("--out")
        .arg(&model)
        .assert()
        .success()
        .stderr(predicate::str::contains("MLM head kept"));
}

#[test]
fn import_of_a_directory_without_weights_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        bert_fixture("tiny-bert").join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    std::fs::copy(
        bert_fixture("tiny-bert").join("vocab.txt"),
        dir.path().join("vocab.txt"),
    )
    .unwrap();
    typofix()
        .args(["model", "import"])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("model.safetensors"));
}
