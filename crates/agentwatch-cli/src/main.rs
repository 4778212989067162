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
            // `agentwatch` alone: the whole help, as a start.
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand if args.len() < 2 => {
                let _ = e.print();
                std::process::exit(2);
            }
            // `agentwatch costs`: one line naming what may follow.
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
                eprintln!("agentwatch: {}", missing_subcommand(&args));
                std::process::exit(2);
            }
            _ => {
                eprintln!("agentwatch: {} (see --help)", output::printable(&first_line(&e.render().to_string())));
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
        eprintln!("agentwatch: {}", output::printable(&e.to_string()));
        std::process::exit(if e.is_usage() { 2 } else { 1 });
    }
}

/// `costs needs one of: daily, weekly, … (see agentwatch costs --help)`.
fn missing_subcommand(args: &[std::ffi::OsString]) -> String {
    let mut cmd = <cli::Cli as clap::CommandFactory>::command();
    let mut path = vec!["agentwatch".to_string()];
    for a in args.iter().skip(1).map(|a| a.to_string_lossy()) {
        if a.starts_with('-') {
            continue;
        }
        // Anything else is a flag's value (`--data-dir DIR`).
        if let Some(sub) = cmd.find_subcommand(a.as_ref()) {
            path.push(sub.get_name().to_string());
            cmd = sub.clone();
        }
    }
    let subs: Vec<&str> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).map(|s| s.get_name()).collect();
    let path = path.join(" ");
    format!("{} needs one of: {} (see {path} --help)", path.trim_start_matches("agentwatch "), subs.join(", "))
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
