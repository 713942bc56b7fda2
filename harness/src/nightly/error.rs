//! Errors of the nightly tools, typed by phase: reading input, checking
//! it, writing output. Each names the file and says how to fix it.

use std::path::PathBuf;

/// What went wrong in a nightly tool.
#[derive(Debug, thiserror::Error)]
pub enum NightlyError {
    /// A file or directory could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file's content is not what it should be.
    #[error("{}{}: {message}; fix: {fix}", path.display(), location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Line and column, when known.
        location: Option<(usize, usize)>,
        /// What is wrong.
        message: String,
        /// How to fix it.
        fix: String,
    },
    /// Two inputs disagree.
    #[error("{} and {} conflict: {message}; fix: {fix}", first.display(), second.display())]
    Conflict {
        /// One input.
        first: PathBuf,
        /// The other.
        second: PathBuf,
        /// What they disagree on.
        message: String,
        /// How to fix it.
        fix: String,
    },
    /// The command asks for something the data cannot give.
    #[error("{message}; fix: {fix}")]
    Usage {
        /// What is wrong.
        message: String,
        /// How to fix it.
        fix: String,
    },
    /// The known-divergences file is unreadable or malformed.
    #[error(transparent)]
    Known(#[from] crate::known::KnownError),
    /// Output could not be written (nothing partial is left behind).
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl NightlyError {
    /// A [`NightlyError::Corrupt`] without a location.
    pub fn corrupt(
        path: impl Into<PathBuf>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        NightlyError::Corrupt {
            path: path.into(),
            location: None,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// A [`NightlyError::Read`].
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NightlyError::Read {
            path: path.into(),
            source,
        }
    }

    /// A [`NightlyError::Write`].
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NightlyError::Write {
            path: path.into(),
            source,
        }
    }
}
