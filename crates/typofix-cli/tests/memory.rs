//! Memory stays bounded on long lines: a line with no sentence end is
//! corrected in windows, so its size does not set the corrector's memory.
//! Peak RSS is read from the child's `/proc/PID/status`; nothing is timed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/paragraphs.txt")
}

/// Runs `typofix fix --file FILE` and returns its peak resident set, in
/// bytes, as the kernel recorded it (VmHWM) just before it exited.
fn peak_rss_of_fix(file: &Path) -> u64 {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("typofix"))
        .args(["fix", "--threads", "2", "--file"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb * 1024);
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.wait().unwrap().success());
    peak
}

#[test]
fn a_200_kb_line_costs_less_than_300_mb_above_the_models_own_footprint() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipped: no /proc to read a child's peak memory from");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tiny = dir.path().join("tiny.txt");
    std::fs::write(&tiny, "teh cat\n").unwrap();
    // Ordinary text with its full stops taken out: one sentence, 200 KB.
    let text = std::fs::read_to_string(sample()).unwrap();
    let words: String = text.replace(['.', '!', '?', '\n'], " ");
    let long = dir.path().join("long.txt");
    let mut out = std::fs::File::create(&long).unwrap();
    let mut written = 0;
    while written < 200_000 {
        out.write_all(words.as_bytes()).unwrap();
        written += words.len();
    }
    out.write_all(b"\n").unwrap();
    drop(out);

    let footprint = peak_rss_of_fix(&tiny);
    let peak = peak_rss_of_fix(&long);
    let mb = |b: u64| b as f64 / 1e6;
    eprintln!(
        "peak RSS: {:.0} MB for one short line, {:.0} MB for a 200 KB line",
        mb(footprint),
        mb(peak)
    );
    assert!(
        peak < footprint + 300_000_000,
        "a 200 KB line took {:.0} MB, {:.0} MB above the {:.0} MB of a short one",
        mb(peak),
        mb(peak - footprint),
        mb(footprint)
    );
}
