//! `agentwatch kill <session>`

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use agentwatch_core::collector::process::Scanner;
use agentwatch_core::control::{self, Killable};
use agentwatch_core::store::find_session;
use agentwatch_core::{Error, Result};

use crate::cli::KillArgs;
use crate::context::Ctx;
use crate::output::{duration, emit};

pub fn run(data_dir: Option<&Path>, a: &KillArgs) -> Result<()> {
    let ctx = Ctx::open(data_dir)?;
    let s = find_session(&ctx.store, &a.session)?;
    // Refuse early, before asking, when it cannot be done.
    let pid = match control::check(&mut Scanner::new()?, &s) {
        Killable::Yes { pid, .. } => pid,
        Killable::NoProcess(m) | Killable::Gone(m) | Killable::Reused(m) | Killable::NotOurs(m) => {
            return Err(Error::Other(m));
        }
    };
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage("refusing to kill without confirmation; pass --yes".into()));
        }
        let runtime = duration(chrono::Utc::now().timestamp() - s.live.proc_start.unwrap_or(0));
        eprint!("Kill {} (pid {pid}, running {runtime})? [y/N] ", crate::output::printable(&control::describe(&s)));
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            emit("Not killed.");
            return Ok(());
        }
    }
    let k = control::kill(&ctx.store, &s, Duration::from_secs(a.grace))?;
    emit(&k.message);
    Ok(())
}
