//! One module per subcommand; each is a few lines over the core.

mod alerts;
mod api;
mod costs;
mod daemon;
mod hook;
mod ingest;
mod install;
mod kill;
mod mcp_proxy;
mod prices;
mod sessions;
mod status;

use agentwatch_core::Result;

use crate::cli::{Cli, Command};
use crate::context::Ctx;

pub fn run(cli: Cli) -> Result<()> {
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
        Command::Api(c) => api::run(data_dir, &c),
        Command::Hook(a) => hook::run(data_dir, &a),
        Command::Hooks(c) => install::run(agentwatch_core::install::Target::Hooks, &c),
        Command::McpProxy(a) => mcp_proxy::run(data_dir, &a),
    }
}
