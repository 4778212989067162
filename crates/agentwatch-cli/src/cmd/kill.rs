//! `agentwatch kill <session>`

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use agentwatch_core::collector::process::{Ownership, ProcKey, Scanner};
use agentwatch_core::model::{SessionState, agent_display_name};
use agentwatch_core::store::find_session;
use agentwatch_core::{Error, Result};

use crate::cli::KillArgs;
use crate::context::Ctx;
use crate::output::{duration, emit, project_name};

pub fn run(data_dir: Option<&Path>, a: &KillArgs) -> Result<()> {
    let ctx = Ctx::open(data_dir)?;
    let s = find_session(&ctx.store, &a.session)?;
    let what = format!("{} in {}", agent_display_name(&s.agent), project_name(s.project_path.as_deref()));
    let (Some(pid), Some(start)) = (s.live.pid, s.live.proc_start) else {
        return Err(Error::Other(format!("{what} ({}) has no running process to kill", short(&s.id))));
    };
    if !s.state.is_live() {
        return Err(Error::Other(format!("{what} ({}) is {}; its process is not running", short(&s.id), s.state)));
    }
    let key = ProcKey { pid, start };
    let mut scanner = Scanner::new()?;
    match scanner.check(key) {
        Ownership::Ours => {}
        Ownership::Gone => return Err(Error::Other(format!("process {pid} of {what} has already exited"))),
        Ownership::Reused => {
            return Err(Error::Other(format!(
                "refusing: pid {pid} now belongs to a different process than {what} (it started at another time)"
            )));
        }
        Ownership::NotOurs => return Err(Error::Other(format!("refusing: process {pid} belongs to another user"))),
    }
    let runtime = duration(chrono::Utc::now().timestamp() - start);
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage("refusing to kill without confirmation; pass --yes".into()));
        }
        eprint!("Kill {what} (pid {pid}, running {runtime})? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            emit("Not killed.");
            return Ok(());
        }
    }
    // The agent's own processes (a wrapper and its binary), found again now.
    let procs = scanner.scan();
    let sigs = agentwatch_core::collector::signatures::Signatures::builtin();
    let members = agentwatch_core::collector::detect::detect(&procs, &sigs)
        .into_iter()
        .find(|g| g.root == key)
        .map_or_else(|| vec![pid], |g| g.members);
    let started = Instant::now();
    for m in members.iter().rev() {
        scanner.signal(*m, sysinfo::Signal::Term);
    }
    let grace = Duration::from_secs(a.grace);
    let mut how = "SIGTERM";
    while scanner.check(key) == Ownership::Ours {
        if started.elapsed() >= grace {
            for m in &members {
                scanner.signal(*m, sysinfo::Signal::Kill);
            }
            how = "SIGKILL";
            std::thread::sleep(Duration::from_millis(200));
            if scanner.check(key) == Ownership::Ours {
                return Err(Error::Other(format!("process {pid} did not stop, even after SIGKILL")));
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let now = chrono::Utc::now().timestamp_millis();
    ctx.store.transition(s.pk, SessionState::Dead, now, "killed by the user", None)?;
    ctx.store.set_process_metrics(s.pk, None, None, None)?;
    emit(&format!("Stopped {what} (pid {pid}) with {how} after {:.1} s.", started.elapsed().as_secs_f64()));
    Ok(())
}

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}
