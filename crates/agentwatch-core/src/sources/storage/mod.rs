//! How agents store what they write, and the only code that reads agents'
//! databases. Each agent's parser turns what an engine reads into
//! [`Record`](super::Record)s and never opens a file itself.
//!
//! - lines: append-only JSONL transcripts, read from a saved offset (the
//!   reader is in `ingest.rs`, shared by every line source);
//! - documents: one JSON document the agent rewrites in place (a session's
//!   settings, a thread), read whole when its size or time changes (in
//!   `ingest.rs`); what it says replaces what it said before, call by call;
//! - [`sqlite`]: an agent's SQLite database, opened read-only and read from
//!   a saved watermark.

pub mod sqlite;

/// How an agent stores one of its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Append-only lines (JSONL), read from where the last read stopped.
    Lines,
    /// One document, rewritten in place: read whole when it changes.
    Document,
    /// A SQLite database, updated in place by the agent.
    Sqlite,
}
