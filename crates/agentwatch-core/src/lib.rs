//! # agentwatch-core
//!
//! All of agentwatch's logic, with no GUI dependencies. The `agentwatch` CLI
//! and the desktop app are thin shells over this crate.
//!
//! Data flows one way:
//!
//! ```text
//! sources/<agent>  ──▶  ingest  ──▶  store (SQLite)  ──▶  reports / views
//!  (transcripts)      (cursors,      (sessions, events,     (costs, session
//!                      dedup)         rollups)               lists, JSON)
//! ```
//!
//! - [`model`]: the session model and usage events.
//! - [`sources`]: one folder per agent: where its files are, how to parse them.
//! - [`ingest`]: incremental reading of new bytes into the [`store`].
//! - [`pricing`]: the embedded price snapshot, overrides, cost rules.
//! - [`reports`]: daily/weekly/monthly/session/block reports.
//! - [`views`]: the serialized shape of a session, shared by CLI and API.
//! - [`liveness`]: how a session's state is decided.

pub mod alerts;
pub mod api;
pub mod collector;
pub mod config;
pub mod control;
pub mod error;
pub mod export;
pub mod figures;
pub mod hooks;
pub mod ingest;
pub mod install;
pub mod limits;
pub mod liveness;
pub mod model;
pub mod monitor;
pub mod otel;
pub mod paths;
pub mod pricing;
pub mod proxy;
pub mod redact;
pub mod reports;
pub mod sources;
pub mod statusline;
pub mod store;
pub mod util;
pub mod views;

pub use error::{Error, Result};
