//! Output files that appear whole or not at all.

use std::fs::{File, Metadata};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tempfile::NamedTempFile;

use crate::Error;

/// A file written under a temporary name in the destination's directory and
/// renamed over the destination by [`AtomicFile::commit`]. Dropped without a
/// commit (an error, a panic, Ctrl-C), it leaves the destination untouched.
///
/// A destination that is a symbolic link is resolved first: the file it
/// points to is replaced, and the link stays a link.
pub struct AtomicFile {
    path: PathBuf,
    writer: BufWriter<NamedTempFile>,
    /// The destination as it was read, when it is to be replaced only if it
    /// has not changed since ([`AtomicFile::replace`]).
    seen: Option<Stamp>,
}

/// What tells that a file changed: its identity, size and modification time.
#[derive(Debug, PartialEq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Stamp {
    fn of(meta: &Metadata) -> Stamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode: (meta.dev(), meta.ino()),
        }
    }
}

impl AtomicFile {
    /// A new file at `path`, or a replacement for the one there.
    pub fn create(path: &Path) -> Result<AtomicFile, Error> {
        let path = &resolve_link(path)?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Temporary files are private (0600); the result should not be: keep
        // the permissions of the file we replace, or use the usual 0644.
        let permissions = match std::fs::metadata(path) {
            Ok(meta) => Some(meta.permissions()),
            Err(_) => default_permissions(),
        };
        let temp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
        // Set after creation, so that the umask does not narrow them.
        if let Some(p) = permissions {
            temp.as_file()
                .set_permissions(p)
                .map_err(|e| Error::io(path, e))?;
        }
        Ok(AtomicFile {
            path: path.to_owned(),
            writer: BufWriter::with_capacity(1 << 20, temp),
            seen: None,
        })
    }

    /// A replacement for the file at `path`, which was read as `seen` (the
    /// metadata of the handle it was read through). [`AtomicFile::commit`]
    /// refuses to replace it if it has changed since, so that an edit made
    /// meanwhile (by an editor, another tool) is never lost. A read-only
    /// file is refused at once: its owner asked for it not to be written.
    pub fn replace(path: &Path, seen: &Metadata) -> Result<AtomicFile, Error> {
        if seen.permissions().readonly() {
            return Err(Error::io(
                path,
                io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "the file is read-only; typofix does not write over it \
                     (make it writable to correct it in place)",
                ),
            ));
        }
        let mut file = AtomicFile::create(path)?;
        file.seen = Some(Stamp::of(seen));
        Ok(file)
    }

    /// Flushes, syncs to disk and renames into place.
    pub fn commit(self) -> Result<(), Error> {
        let path = self.path;
        let temp = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        temp.as_file().sync_all().map_err(|e| Error::io(&path, e))?;
        if let Some(seen) = &self.seen {
            let now = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
            if Stamp::of(&now) != *seen {
                return Err(Error::Changed(path));
            }
        }
        let file: File = temp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        drop(file);
        Ok(())
    }
}

/// The file a symbolic link at `path` points to, or `path` itself.
fn resolve_link(path: &Path) -> Result<PathBuf, Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).map_err(|e| Error::io(path, e))
        }
        _ => Ok(path.to_owned()),
    }
}

#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "old").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        file.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_kept_or_default_to_0644() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let fresh = dir.path().join("fresh");
        AtomicFile::create(&fresh).unwrap().commit().unwrap();
        assert_eq!(mode(&fresh), 0o644);

        let kept = dir.path().join("kept");
        std::fs::write(&kept, "x").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
        AtomicFile::create(&kept).unwrap().commit().unwrap();
        assert_eq!(mode(&kept), 0o640);
    }

    #[test]
    fn an_abandoned_file_leaves_no_trace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
