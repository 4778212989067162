//! One module per subcommand; each is a few lines over the core.

mod agents;
mod alerts;
mod api;
mod costs;
mod daemon;
mod export;
pub mod hook;
mod ingest;
mod install;
mod kill;
mod limits;
mod mcp_proxy;
mod prices;
mod sessions;
mod status;
mod statusline;

use std::path::Path;

use agentwatch_core::paths::Dirs;
use agentwatch_core::store::{REBUILT, io_cause, mark_damaged};
use agentwatch_core::{Error, Result};

use crate::cli::{Cli, Command};
use crate::context::Ctx;

pub fn run(cli: Cli) -> Result<()> {
    let data_dir = cli.data_dir.clone();
    dispatch(cli).map_err(|e| about_the_database(e, data_dir.as_deref()))
}

fn dispatch(cli: Cli) -> Result<()> {
    let data_dir = cli.data_dir.as_deref();
    match cli.command {
        Command::Ingest(a) => ingest::run(&mut Ctx::open(data_dir)?, &a),
        Command::Costs(c) => costs::run(data_dir, c),
        Command::Sessions(a) => sessions::run(data_dir, a),
        Command::Prices(c) => prices::run(data_dir, c),
        Command::Daemon(a) => daemon::run(data_dir, &a, cli.verbose),
        Command::Kill(a) => kill::run(data_dir, &a),
        Command::Alerts(a) => alerts::run(data_dir, &a),
        Command::Status(a) => status::run(data_dir, a.format),
        Command::Agents(a) => agents::run(data_dir, &a),
        Command::Api(c) => api::run(data_dir, &c),
        Command::Hook(a) => hook::run(data_dir, &a),
        Command::Hooks(c) => install::run(data_dir, agentwatch_core::install::Target::Hooks, &c),
        Command::Export(crate::cli::ExportCmd::Status(a)) => export::status(data_dir, a.format),
        Command::Telemetry(c) => install::run(data_dir, agentwatch_core::install::Target::Telemetry, &c),
        Command::McpProxy(a) => mcp_proxy::run(data_dir, &a),
        Command::Limits(a) => limits::run(data_dir, &a),
        Command::Statusline(a) => match &a.command {
            Some(c) => install::run(data_dir, agentwatch_core::install::Target::Statusline, c),
            None => statusline::run(data_dir, &a),
        },
    }
}

/// Names the database in an error from a query that came without its path,
/// and says what it means: damage found in use is remembered, so that the
/// next start rebuilds the database; a failed write is checked for a full
/// disk or a read-only data dir, which SQLite reports as a bare I/O error.
fn about_the_database(e: Error, data_dir: Option<&Path>) -> Error {
    if !matches!(e, Error::Database { .. } | Error::Damaged { .. }) {
        return e;
    }
    let Ok(dirs) = Dirs::resolve(data_dir) else { return e };
    let db = dirs.db_path();
    match e.with_db_path(&db) {
        Error::Damaged { path, why } if path == db && !why.contains(REBUILT) => {
            mark_damaged(&db);
            Error::Damaged { path, why: format!("{why}; {REBUILT}") }
        }
        Error::Database { path, message } if path == db && dirs.data.is_dir() => {
            Error::Database { message: io_cause(&db).unwrap_or(message), path }
        }
        other => other,
    }
}
