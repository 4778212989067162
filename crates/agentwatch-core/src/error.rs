//! One error type for the core. Every variant renders as a single line that
//! tells the user what went wrong and, where possible, what to do.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user asked for something that cannot be done as asked (bad value,
    /// unknown id). The CLI exits with status 2 for these.
    #[error("{0}")]
    Usage(String),

    /// A lookup found nothing.
    #[error("{0}")]
    NotFound(String),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("database {path}: {message}")]
    Database { path: PathBuf, message: String },

    /// The database file is damaged or is not agentwatch's: it can be moved
    /// aside and rebuilt from the agents' files.
    #[error("database {path}: {why}")]
    Damaged { path: PathBuf, why: String },

    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }

    /// Whether this error comes from how the command was called (exit 2)
    /// rather than from the machine or the data (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Usage(_))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error::Database { path: PathBuf::new(), message: e.to_string() }
    }
}
