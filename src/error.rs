//! Error types of the library. Every failure on user input is a value with a one-line message
//! naming the file, the line (where there is one) and the reason; the library never panics on
//! bad input.

use std::path::PathBuf;

/// Errors raised by pelx.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    /// A file's content is malformed; `line` is 1-based (0 when no single line is to blame).
    #[error("{}", fmt_parse(path, *line, reason))]
    Parse { path: PathBuf, line: usize, reason: String },
    /// Input that is well formed but physically or logically unusable.
    #[error("{0}")]
    Invalid(String),
    /// A force field could not be evaluated (for example, a species it does not know).
    #[error("potential: {0}")]
    Potential(String),
}

fn fmt_parse(path: &std::path::Path, line: usize, reason: &str) -> String {
    if line > 0 {
        format!("{}:{}: {}", path.display(), line, reason)
    } else {
        format!("{}: {}", path.display(), reason)
    }
}

impl Error {
    /// A parse error at `line` (1-based) of `path`.
    pub fn parse(path: impl Into<PathBuf>, line: usize, reason: impl Into<String>) -> Self {
        Error::Parse {
            path: path.into(),
            line,
            reason: reason.into(),
        }
    }
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            err: source,
        }
    }
    /// Invalid input.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }
}

/// Result alias used throughout pelx.
pub type Result<T, E = Error> = std::result::Result<T, E>;
