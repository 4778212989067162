//! One module per subcommand; each is a few lines over the core.

mod costs;
mod ingest;
mod prices;
mod sessions;

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
    }
}
