//! The kinds of typo: what the generator makes, and what each edit the
//! corrector reports is.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A kind of typo that the generator makes and the corrector fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A QWERTY neighbour substituted for a letter, or inserted beside it.
    Keyboard,
    /// A letter dropped: the → th.
    Drop,
    /// A letter doubled: good → goood.
    Double,
    /// Two adjacent letters swapped: the → teh.
    Transpose,
    /// Split (sen tence), merged (alot) or shifted (Thi sis) word boundaries.
    Space,
    /// A real word swapped for another from its confusion set: their → there.
    Confusion,
    /// A misspelling that people really make, from misspelling tables.
    Misspelling,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Keyboard,
        ErrorKind::Drop,
        ErrorKind::Double,
        ErrorKind::Transpose,
        ErrorKind::Space,
        ErrorKind::Confusion,
        ErrorKind::Misspelling,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Keyboard => "keyboard",
            ErrorKind::Drop => "drop",
            ErrorKind::Double => "double",
            ErrorKind::Transpose => "transpose",
            ErrorKind::Space => "space",
            ErrorKind::Confusion => "confusion",
            ErrorKind::Misspelling => "misspelling",
        }
    }

    /// Position in [`ErrorKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ErrorKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        ErrorKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "unknown error kind {s:?}; the kinds are {}",
                    ErrorKind::ALL.map(ErrorKind::name).join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in ErrorKind::ALL {
            assert_eq!(k.name().parse::<ErrorKind>().unwrap(), k);
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        }
    }

    #[test]
    fn indices_follow_the_list() {
        for (i, k) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}
