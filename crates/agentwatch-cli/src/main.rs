//! `agentwatch`: a thin command-line shell over agentwatch-core.
//!
//! Exit status: 0 on success, 2 when the command was called wrongly (bad
//! flag, bad value, ambiguous id), 1 when something went wrong while doing
//! it (unreadable database, missing file). Errors are one line on stderr.

mod cli;
mod cmd;
mod context;
mod output;

use clap::Parser;
use clap::error::ErrorKind;

fn main() {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let _ = e.print();
                std::process::exit(0);
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
                let _ = e.print();
                std::process::exit(2);
            }
            _ => {
                eprintln!("agentwatch: {} (see --help)", first_line(&e.render().to_string()));
                std::process::exit(2);
            }
        },
    };
    if !matches!(cli.command, cli::Command::Daemon(_)) {
        context::init_logging(cli.verbose);
    }
    if let Err(e) = cmd::run(cli) {
        eprintln!("agentwatch: {e}");
        std::process::exit(if e.is_usage() { 2 } else { 1 });
    }
}

/// The first line of a clap error, without its `error: ` prefix.
fn first_line(s: &str) -> String {
    let line = s.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid arguments");
    line.trim_start_matches("error: ").trim().to_string()
}
