//! The library's error type.

use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong in the typofix library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: no such file or directory", .0.display())]
    NotFound(PathBuf),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {reason}", path.display())]
    InvalidData { path: PathBuf, reason: String },
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{}: {reason}", path.display())]
    InvalidModel { path: PathBuf, reason: String },
    #[error(
        "{}: the file changed while typofix was working on it, so it was left \
         as it is now; run typofix again to correct the new version",
        .0.display()
    )]
    Changed(PathBuf),
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
}

impl Error {
    /// An I/O error on `path`, with a missing file reported as such.
    pub fn io(path: &Path, source: io::Error) -> Error {
        if source.kind() == io::ErrorKind::NotFound {
            Error::NotFound(path.to_owned())
        } else {
            Error::Io {
                path: path.to_owned(),
                source,
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
