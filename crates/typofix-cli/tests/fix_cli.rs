//! `typofix fix` and `typofix eval` end to end, with the built-in model.

use std::os::unix::fs::PermissionsExt;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn typofix() -> Command {
    Command::cargo_bin("typofix").unwrap()
}

#[test]
fn arguments_are_corrected_one_line_each() {
    typofix()
        .args([
            "fix",
            "Thi sis a test sentenc with typos",
            "The quikc brown fox jumps over teh lazy dog",
        ])
        .assert()
        .success()
        .stdout(
            "This is a test sentence with typos\nThe quick brown fox jumps over the lazy dog\n",
        );
}

#[test]
fn stdin_gives_exactly_one_line_per_line_with_bytes_kept() {
    // Blank lines, CRLF, a missing final newline and invalid UTF-8 all come
    // through; only the typos change.
    let mut input = b"teh cat\r\n\nplain text\n".to_vec();
    input.extend_from_slice(b"bad \xff byte\n");
    input.extend_from_slice(b"no newline, teh end");
    let mut expected = b"the cat\r\n\nplain text\n".to_vec();
    expected.extend_from_slice(b"bad \xff byte\n");
    expected.extend_from_slice(b"no newline, the end");
    typofix()
        .arg("fix")
        .write_stdin(input)
        .assert()
        .success()
        .stdout(expected)
        .stderr(predicate::str::contains("not valid UTF-8"));
}

/// Standard input is corrected as it arrives: a line comes back before the
/// next one is sent, and lines that arrive together are batched.
#[test]
fn stdin_answers_each_line_before_the_next_arrives() {
    use std::io::{BufRead, BufReader, Write};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_typofix"))
        .arg("fix")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for (sent, expected) in [
        ("teh cat\n", "the cat\n"),
        (
            "Thi sis a test sentenc with typos\n",
            "This is a test sentence with typos\n",
        ),
    ] {
        stdin.write_all(sent.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, expected, "answered while stdin is still open");
    }
    stdin.write_all("teh end\n".repeat(300).as_bytes()).unwrap();
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "the end\n".repeat(300));
    assert!(child.wait().unwrap().success());
}

#[test]
fn json_lists_each_lines_edits_with_byte_offsets() {
    let out = typofix()
        .args(["fix", "--json", "The quikc fox", "fine"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["text"], "The quick fox");
    let edit = &lines[0]["edits"][0];
    assert_eq!(
        (edit["start"].as_u64(), edit["end"].as_u64()),
        (Some(4), Some(9))
    );
    assert_eq!(edit["original"], "quikc");
    assert_eq!(edit["replacement"], "quick");
    assert!(edit["kind"].is_string() && edit["confidence"].is_number());
    assert_eq!(lines[1]["edits"].as_array().unwrap().len(), 0);
}

/// The exit codes are those of `diff`, `grep` and `ruff`: 0 when nothing
/// needs changing, 1 when `--check` finds something, 2 on any error.
#[test]
fn exit_codes_are_0_clean_1_found_2_error() {
    typofix()
        .args(["fix", "--check", "the cat sat on the mat"])
        .assert()
        .code(0)
        .stdout("");
    typofix()
        .args(["fix", "--check", "teh cat"])
        .assert()
        .code(1)
        .stdout("");
    // Without --check, corrections are output, not a failure.
    typofix().args(["fix", "teh cat"]).assert().code(0);
    // Errors of every sort: a missing file, a bad flag, a bad model.
    typofix()
        .args(["fix", "--check", "--file", "/nonexistent/notes.txt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/notes.txt"));
    typofix().args(["fix", "--no-such-flag"]).assert().code(2);
    typofix()
        .args(["fix", "--check", "--model", "/nonexistent/model", "teh"])
        .assert()
        .code(2);
}

#[test]
fn write_rewrites_a_file_in_place_only_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.txt");
    let clean = dir.path().join("clean.txt");
    std::fs::write(&typo, "teh cat\r\nsat here\n").unwrap();
    std::fs::write(&clean, "the cat\n").unwrap();
    std::fs::set_permissions(&typo, std::fs::Permissions::from_mode(0o640)).unwrap();
    let before = std::fs::metadata(&clean).unwrap().modified().unwrap();

    typofix()
        .arg("fix")
        .arg("--write")
        .arg(&typo)
        .arg(&clean)
        .assert()
        .success()
        .stderr(predicate::str::contains("typo.txt"));
    assert_eq!(
        std::fs::read_to_string(&typo).unwrap(),
        "the cat\r\nsat here\n"
    );
    let mode = std::fs::metadata(&typo).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "permissions are kept");
    assert_eq!(
        std::fs::metadata(&clean).unwrap().modified().unwrap(),
        before
    );
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 2, "no temporary file is left behind");
}

#[test]
fn a_diff_applied_with_patch_gives_the_corrected_file_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    // Changes near each other and far apart, CRLF, a line that is not
    // UTF-8, and no newline at the end.
    let mut original: Vec<u8> = b"teh first line\n".to_vec();
    for n in 0..12 {
        original.extend_from_slice(format!("plain line {n}\n").as_bytes());
    }
    original.extend_from_slice(b"a windows line with teh cat\r\n");
    original.extend_from_slice(b"bytes \xff\xfe kept\n");
    original.extend_from_slice(b"the last line has teh typo");
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, &original).unwrap();

    let corrected = typofix()
        .arg("fix")
        .arg("--file")
        .arg(&file)
        .output()
        .unwrap();
    assert!(corrected.status.success());
    assert_ne!(corrected.stdout, original, "a real test corrects something");
    let diff = typofix()
        .args(["fix", "--diff", "--file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(diff.status.success());
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(text.contains("\\ No newline at end of file"), "{text}");
    assert!(text.contains(" plain line 0\n"), "context lines: {text}");
    assert!(!text.contains("plain line 6"), "far lines stay out: {text}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        original,
        "--diff writes nothing"
    );

    let patch = dir.path().join("fix.patch");
    std::fs::write(&patch, &diff.stdout).unwrap();
    let status = std::process::Command::new("patch")
        .arg("--quiet")
        .arg(&file)
        .arg(&patch)
        .status()
        .expect("patch is installed (Debian: apt install patch)");
    assert!(status.success());
    assert_eq!(std::fs::read(&file).unwrap(), corrected.stdout);
}

/// `--check --diff`, as pre-commit's check hook runs it: the diff is shown
/// and the exit code says whether there was anything to correct.
#[test]
fn check_with_diff_shows_the_corrections_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("notes.md");
    let clean = dir.path().join("clean.txt");
    std::fs::write(&typo, "Teh fox.\n").unwrap();
    std::fs::write(&clean, "The fox.\n").unwrap();
    typofix()
        .args(["fix", "--check", "--diff", "--file"])
        .arg(&typo)
        .arg(&clean)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("-Teh fox.\n+The fox.\n"));
    typofix()
        .args(["fix", "--check", "--diff", "--file"])
        .arg(&clean)
        .assert()
        .code(0)
        .stdout("");
    assert_eq!(std::fs::read_to_string(&typo).unwrap(), "Teh fox.\n");
}

#[test]
fn nothing_to_correct_gives_an_empty_diff() {
    typofix()
        .args(["fix", "--diff", "the cat sat"])
        .assert()
        .success()
        .stdout("");
}

#[test]
fn allow_lists_keep_words_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let allow = dir.path().join("allow.txt");
    std::fs::write(&allow, "# project words\nteh\n").unwrap();
    typofix()
        .args(["fix", "--allow", "quikc", "--allow-file"])
        .arg(&allow)
        .arg("The quikc fox saw teh dog")
        .assert()
        .success()
        .stdout("The quikc fox saw teh dog\n");
}

#[test]
fn a_bad_model_directory_is_an_error_that_says_what_to_do() {
    typofix()
        .args(["fix", "--model", "/nonexistent/model", "text"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/model"))
        .stderr(predicate::str::contains("typofix model package"));
}

/// A JSONL reference set in `dir`, one record per line.
fn reference_set(dir: &std::path::Path, records: &[&str]) -> std::path::PathBuf {
    let path = dir.join("set.jsonl");
    std::fs::write(&path, records.join("\n") + "\n").unwrap();
    path
}

#[test]
fn eval_scores_typofix_beside_the_baselines() {
    let dir = tempfile::tempdir().unwrap();
    let data = reference_set(
        dir.path(),
        &[
            r#"{"corrupted": "The quikc brown fox", "clean": "The quick brown fox"}"#,
            r#"{"corrupted": "teh dog sleeps", "clean": "the dog sleeps", "lowercase": true}"#,
        ],
    );
    let out = typofix()
        .args(["eval", "--json", "--baselines", "identity"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let systems = report[0]["systems"].as_array().unwrap();
    assert_eq!(systems[0]["system"], "typofix");
    assert_eq!(systems[0]["correction_rate"], 1.0);
    assert_eq!(systems[0]["broken_rate"], 0.0);
    assert_eq!(systems[1]["system"], "identity");
    assert_eq!(systems[1]["correction_rate"], 0.0);
    assert_eq!(report[0]["references"], 2);
}

/// Candidate recall: the right reading is among the candidates for a slip,
/// and a word the corrector never looks at ("cat" for "hat") is not.
#[test]
fn eval_oracle_counts_the_corrections_among_the_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let data = reference_set(
        dir.path(),
        &[
            r#"{"corrupted": "The quikc brown fox", "clean": "The quick brown fox"}"#,
            r#"{"corrupted": "the cat sat", "clean": "the hat sat"}"#,
        ],
    );
    let out = typofix()
        .args(["eval", "--oracle", "--json"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["gold_blocks"], 2);
    assert_eq!(report[0]["covered"], 1);
    assert_eq!(report[0]["candidate_recall"], 0.5);
}

#[test]
fn a_write_killed_midway_leaves_the_original_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    // Several chunks of lines, so that the process is killed while it is
    // still writing the corrected copy.
    let original: String = (0..2000)
        .map(|n| format!("Thi sis sentenc {n} with typos, and teh rest is fine.\n"))
        .collect();
    std::fs::write(&file, &original).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_typofix"))
        .arg("fix")
        .arg("--write")
        .arg(&file)
        .spawn()
        .unwrap();
    // Wait for the temporary copy to appear, then kill -9.
    let started = std::time::Instant::now();
    while std::fs::read_dir(dir.path()).unwrap().count() < 2 {
        assert!(
            started.elapsed().as_secs() < 60,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed before it finished");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
}
