//! `typofix fix --write` when the file system misbehaves: a full disk, a
//! read-only file, a symbolic link, unusual permissions, and a file that
//! changes while typofix works. In every case the user's bytes survive, and
//! an error names the file and exits 2. (A kill -9 midway is in fix_cli.rs.)

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const TYPOS: &str = "Thi sis a sentenc with typos, and teh rest is fine.\n";
const FIXED: &str = "This is a sentence with typos, and the rest is fine.\n";

fn write(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_typofix"))
        .args(["fix", "--write"])
        .arg(path)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn entries(dir: &Path) -> usize {
    fs::read_dir(dir).unwrap().count()
}

#[test]
fn a_read_only_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("frozen.txt");
    fs::write(&file, TYPOS).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).unwrap();
    let out = write(&file);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("frozen.txt"), "{}", stderr(&out));
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), TYPOS);
    assert_eq!(mode(&file), 0o444);
    assert_eq!(entries(dir.path()), 1, "no temporary file is left");
}

#[test]
fn through_a_symbolic_link_the_target_is_corrected_and_the_link_kept() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.txt");
    let link = dir.path().join("link.txt");
    fs::write(&target, TYPOS).unwrap();
    std::os::unix::fs::symlink("real.txt", &link).unwrap();
    let out = write(&link);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&target).unwrap(), FIXED);
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("real.txt"));
    assert_eq!(entries(dir.path()), 2);
}

#[test]
fn unusual_permissions_are_kept_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    // 0666 would be narrowed by a 022 umask; 2755 is setgid.
    for wanted in [0o604, 0o666, 0o2755] {
        let file = dir.path().join(format!("mode-{wanted:o}.txt"));
        fs::write(&file, TYPOS).unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(wanted)).unwrap();
        let out = write(&file);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(fs::read_to_string(&file).unwrap(), FIXED);
        assert_eq!(mode(&file), wanted, "{}", file.display());
    }
}

/// Starts `typofix fix --write` on `file` and waits for its temporary copy
/// to appear in `dir`: by then it is working.
fn start_writing(dir: &Path, file: &Path) -> std::process::Child {
    let before = entries(dir);
    let child = Command::new(env!("CARGO_BIN_EXE_typofix"))
        .args(["fix", "--write"])
        .arg(file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while entries(dir) == before {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "it never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn a_file_that_changes_meanwhile_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("busy.txt");
    // Enough lines that it is still working when the file changes, a few
    // milliseconds after its temporary copy appears.
    let original = TYPOS.repeat(200);
    fs::write(&file, &original).unwrap();
    let child = start_writing(dir.path(), &file);
    let edited = format!("{original}A line someone added meanwhile.\n");
    fs::write(&file, &edited).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("busy.txt"), "{}", stderr(&out));
    assert!(stderr(&out).contains("changed"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), edited);
    assert_eq!(entries(dir.path()), 1, "no temporary file is left");
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` where mounting is not allowed (not root, or a container
    /// without the capability).
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "skipped: cannot mount a tmpfs here ({})",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(Tmpfs { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_file_system_leaves_the_original_intact() {
    let Some(fs_) = Tmpfs::mount("16k") else {
        return;
    };
    let file = fs_.path("notes.txt");
    // 10 KB: it fits, and its corrected copy does not fit beside it. Mostly
    // numbers, which are quick to check.
    let original = format!("{TYPOS}{}", "3.14159 2.71828 1.41421 1.73205\n".repeat(320));
    fs::write(&file, &original).unwrap();
    let out = write(&file);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("notes.txt"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("No space left on device"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), original);
    assert_eq!(entries(fs_.dir.path()), 1, "no temporary file is left");
}
