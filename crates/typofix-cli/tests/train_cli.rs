//! `typofix train …` end to end: a tokenizer, MLM pretraining, and resuming
//! after `kill -9`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn sample_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample")
}

fn typofix() -> Command {
    Command::cargo_bin("typofix").unwrap()
}

fn tokenizer(dir: &Path) -> PathBuf {
    let out = dir.join("tok");
    typofix()
        .args(["train", "tokenizer", "--vocab-size", "400", "--corpus"])
        .arg(sample_corpus())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    out
}

/// A tiny model that trains in a few seconds in a debug build.
fn mlm_args(tok: &Path, out: &Path, steps: u64) -> Vec<String> {
    let mut args: Vec<String> = [
        "train",
        "mlm",
        "--dim",
        "32",
        "--layers",
        "2",
        "--heads",
        "2",
        "--hidden",
        "64",
        "--seq-len",
        "48",
        "--batch-size",
        "8",
        "--lr",
        "3e-3",
        "--log-every",
        "1",
        "--eval-every",
        "0",
        "--checkpoint-every",
        "10",
        "--valid-fraction",
        "0.1",
        "--threads",
        "1",
        "--steps",
    ]
    .map(String::from)
    .to_vec();
    args.push(steps.to_string());
    for (flag, path) in [
        ("--corpus", sample_corpus()),
        ("--tokenizer", tok.to_owned()),
        ("--out", out.to_owned()),
    ] {
        args.push(flag.into());
        args.push(path.display().to_string());
    }
    args
}

/// (step, loss) of every logged training step.
fn losses(out: &Path) -> Vec<(u64, f64)> {
    std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("loss").is_some())
        .map(|v| (v["step"].as_u64().unwrap(), v["loss"].as_f64().unwrap()))
        .collect()
}

fn latest_step(out: &Path) -> u64 {
    std::fs::read_to_string(out.join("checkpoints/latest"))
        .ok()
        .and_then(|name| {
            name.trim()
                .strip_prefix("step-")
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn pretraining_lowers_the_loss_and_writes_a_loadable_model() {
    let dir = tempfile::tempdir().unwrap();
    let tok = tokenizer(dir.path());
    let out = dir.path().join("run");
    typofix().args(mlm_args(&tok, &out, 80)).assert().success();
    let l = losses(&out);
    assert_eq!(l.len(), 80);
    let first: f64 = l[..10].iter().map(|x| x.1).sum::<f64>() / 10.0;
    let last: f64 = l[70..].iter().map(|x| x.1).sum::<f64>() / 10.0;
    assert!(last < first - 0.3, "loss went from {first} to {last}");
    typofix()
        .args(["model", "info", "--model"])
        .arg(out.join("model"))
        .assert()
        .success()
        .stdout(predicate::str::contains("2 layers, dim 32"));
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_the_same_losses() {
    let dir = tempfile::tempdir().unwrap();
    let tok = tokenizer(dir.path());
    let steps = 300;

    let whole = dir.path().join("whole");
    typofix()
        .args(mlm_args(&tok, &whole, steps))
        .assert()
        .success();

    let broken = dir.path().join("broken");
    let bin = assert_cmd::cargo::cargo_bin("typofix");
    let mut child = std::process::Command::new(bin)
        .args(mlm_args(&tok, &broken, steps))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while latest_step(&broken) < 30 {
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before it could be killed"
    );
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let killed_at = latest_step(&broken);
    assert!(killed_at < steps);

    // Without --resume, the directory is protected.
    typofix()
        .args(mlm_args(&tok, &broken, steps))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--resume"));
    typofix()
        .args(mlm_args(&tok, &broken, steps))
        .arg("--resume")
        .assert()
        .success()
        .stderr(predicate::str::is_match("resuming .* from step [0-9]+").unwrap());

    assert_eq!(
        losses(&broken),
        losses(&whole),
        "killed at step {killed_at}"
    );
    assert_eq!(
        std::fs::read(whole.join("model/model.safetensors")).unwrap(),
        std::fs::read(broken.join("model/model.safetensors")).unwrap()
    );
}

/// A corpus where one sentence, repeated, is the only one with "quokka",
/// and a dev set that holds that sentence.
fn corpus_with_a_dev_sentence(dir: &Path) -> (PathBuf, PathBuf) {
    let corpus = dir.join("corpus.txt");
    let mut text = std::fs::read_to_string(sample_corpus().join("paragraphs.txt")).unwrap();
    for _ in 0..200 {
        text.push_str("The quokka smiled at the quokka keeper today.\n");
    }
    std::fs::write(&corpus, text).unwrap();
    let dev = dir.join("dev.jsonl");
    std::fs::write(
        &dev,
        "{\"corrupted\": \"Teh quokka smiled at the quokka keeper today.\", \
         \"clean\": \"The quokka smiled at the quokka keeper today.\"}\n",
    )
    .unwrap();
    (corpus, dev)
}

/// Every command that reads a corpus leaves out the sentences of
/// `--exclude`: the tokenizer, the MLM's own tokenizer and the lexicon never
/// see the dev sentence, and without `--exclude` they do.
#[test]
fn excluded_sentences_reach_no_command_that_reads_a_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, dev) = corpus_with_a_dev_sentence(dir.path());
    let knows_quokka = |vocab: &Path| {
        std::fs::read_to_string(vocab)
            .unwrap()
            .lines()
            .any(|t| t == "quokka")
    };
    for (name, exclude) in [("with", true), ("without", false)] {
        let out = dir.path().join(format!("tok-{name}"));
        let mut cmd = typofix();
        cmd.args(["train", "tokenizer", "--vocab-size", "300", "--corpus"])
            .arg(&corpus)
            .arg("--out")
            .arg(&out);
        if exclude {
            cmd.arg("--exclude").arg(&dev);
        }
        cmd.assert().success();
        assert_eq!(
            knows_quokka(&out.join("vocab.txt")),
            !exclude,
            "tokenizer {name}"
        );

        let lexicon = dir.path().join(format!("lexicon-{name}.tsv.gz"));
        let mut cmd = typofix();
        cmd.args(["data", "build-lexicon", "--min-count", "1", "--corpus"])
            .arg(&corpus)
            .arg("--out")
            .arg(&lexicon);
        if exclude {
            cmd.arg("--exclude").arg(&dev);
            cmd.assert()
                .success()
                .stderr(predicate::str::contains("(200 excluded)"));
        } else {
            cmd.assert().success();
        }
        let words = typofix::lexicon::Lexicon::load(&lexicon).unwrap();
        assert_eq!(words.contains("quokka"), !exclude, "lexicon {name}");
    }

    // `train mlm` without --tokenizer trains its own, on the same corpus.
    let run = dir.path().join("mlm");
    typofix()
        .args([
            "train",
            "mlm",
            "--vocab-size",
            "300",
            "--dim",
            "16",
            "--layers",
            "1",
            "--heads",
            "2",
            "--hidden",
            "32",
            "--seq-len",
            "16",
            "--steps",
            "1",
            "--batch-size",
            "4",
            "--corpus",
        ])
        .arg(&corpus)
        .arg("--exclude")
        .arg(&dev)
        .arg("--out")
        .arg(&run)
        .assert()
        .success();
    assert!(!knows_quokka(&run.join("tokenizer/vocab.txt")));
}

/// Training pairs (and their validation file) from the sample corpus.
fn pairs(dir: &Path) -> PathBuf {
    let out = dir.join("pairs.jsonl");
    typofix()
        .args([
            "data",
            "generate",
            "--examples",
            "300",
            "--valid-fraction",
            "0.2",
            "--corpus",
        ])
        .arg(sample_corpus())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn a_detection_head_learns_over_a_frozen_encoder_and_ships_in_a_package() {
    let dir = tempfile::tempdir().unwrap();
    let tok = tokenizer(dir.path());
    let lm = dir.path().join("lm");
    typofix().args(mlm_args(&tok, &lm, 10)).assert().success();
    let pairs = pairs(dir.path());
    let run = dir.path().join("detect");
    typofix()
        .args(["train", "detect", "--init"])
        .arg(lm.join("model"))
        .arg("--pairs")
        .arg(&pairs)
        .arg("--out")
        .arg(&run)
        .args([
            "--steps",
            "60",
            "--batch-size",
            "8",
            "--lr",
            "3e-3",
            "--log-every",
            "1",
        ])
        .args([
            "--eval-every",
            "60",
            "--checkpoint-every",
            "0",
            "--threads",
            "1",
        ])
        .assert()
        .success();
    let l = losses(&run);
    let first: f64 = l[..10].iter().map(|x| x.1).sum::<f64>() / 10.0;
    let last: f64 = l[50..].iter().map(|x| x.1).sum::<f64>() / 10.0;
    assert!(last < first - 0.05, "loss went from {first} to {last}");
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert!(metrics.contains("\"valid_f1\""), "validation reports F1");

    // The head goes to its own file; the language model stays as it was.
    let lexicon = dir.path().join("lexicon.tsv.gz");
    typofix()
        .args(["data", "build-lexicon", "--min-count", "1", "--corpus"])
        .arg(sample_corpus())
        .arg("--out")
        .arg(&lexicon)
        .assert()
        .success();
    let package = dir.path().join("package");
    let package_with = |detector: &Path| {
        let mut cmd = typofix();
        cmd.args(["model", "package", "--force", "--mlm"])
            .arg(lm.join("model"))
            .arg("--lexicon")
            .arg(&lexicon)
            .arg("--detector")
            .arg(detector)
            .arg("--out")
            .arg(&package);
        cmd
    };
    package_with(&run.join("model")).assert().success();
    assert!(package.join("detector.safetensors").exists());
    typofix()
        .args(["fix", "--model"])
        .arg(&package)
        .write_stdin("the cat sat on teh mat\n")
        .assert()
        .success();

    // A checkpoint without a head is refused before anything is written.
    package_with(&lm.join("model"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("typofix train detect"));
}
