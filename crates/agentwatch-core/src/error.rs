//! One error type for the core. Every variant renders as a single line that
//! tells the user what went wrong and, where possible, what to do.

use std::path::{Path, PathBuf};

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

    #[error("{}: {message}", database(path))]
    Database { path: PathBuf, message: String },

    /// The database file is damaged or is not agentwatch's: it can be moved
    /// aside and rebuilt from the agents' files.
    #[error("{}: {why}", database(path))]
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

    /// Whether another writer held the database's write lock for longer
    /// than this one would wait: worth a retry, or a spool.
    pub fn is_busy(&self) -> bool {
        matches!(self, Error::Database { message, .. } if message.contains("locked") || message.contains("busy"))
    }

    /// Names the database in an error that came without its path (a query's
    /// `?`), for a command that knows which database it used.
    pub fn with_db_path(self, db: &Path) -> Error {
        match self {
            Error::Database { path, message } if path.as_os_str().is_empty() => {
                Error::Database { path: db.to_path_buf(), message }
            }
            Error::Damaged { path, why } if path.as_os_str().is_empty() => {
                Error::Damaged { path: db.to_path_buf(), why }
            }
            other => other,
        }
    }
}

/// "database PATH", or just "database" when the path is not known.
fn database(path: &Path) -> String {
    match path.as_os_str().is_empty() {
        true => "database".into(),
        false => format!("database {}", path.display()),
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        let damaged = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        );
        match damaged {
            true => Error::Damaged { path: PathBuf::new(), why: e.to_string() },
            false => Error::Database { path: PathBuf::new(), message: e.to_string() },
        }
    }
}
