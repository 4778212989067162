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
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e)
            if cmd::hook::is_hook_call(&args)
                && !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) =>
        {
            cmd::hook::bad_call(&args, &first_line(&e.render().to_string()));
            std::process::exit(0);
        }
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
    // The daemon logs to files; a hook prints nothing at all (Gemini CLI
    // shows a hook's stderr to the person).
    if !matches!(cli.command, cli::Command::Daemon(_) | cli::Command::Hook(_)) {
        context::init_logging(cli.verbose);
    }
    if let Err(e) = cmd::run(cli) {
        eprintln!("agentwatch: {e}");
        std::process::exit(if e.is_usage() { 2 } else { 1 });
    }
}

/// The first line of a clap error, without its `error: ` prefix. A line
/// that ends in a colon gets the indented list under it ("the following
/// required arguments were not provided: --from <FILE>").
fn first_line(s: &str) -> String {
    let mut lines = s.lines().skip_while(|l| l.trim().is_empty());
    let line = lines.next().unwrap_or("invalid arguments");
    let mut out = line.trim_start_matches("error: ").trim().to_string();
    if out.ends_with(':') {
        let items: Vec<&str> = lines.take_while(|l| l.starts_with("  ")).map(str::trim).collect();
        if !items.is_empty() {
            out = format!("{out} {}", items.join(", "));
        }
    }
    out
}
