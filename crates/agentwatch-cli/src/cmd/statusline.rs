//! `agentwatch statusline`: Claude Code's status line command. It reads the
//! JSON on stdin, records the plan windows, cost and context use, and prints
//! one line. It never fails the agent: on any error it says why on stderr,
//! prints a minimal line and exits 0.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agentwatch_core::paths::Dirs;
use agentwatch_core::pricing::PriceBook;
use agentwatch_core::statusline::{self, Input};
use agentwatch_core::store::Store;
use agentwatch_core::{Result, util};

use crate::cli::StatuslineArgs;
use crate::output::{printable, warn};

/// More than any status JSON; the rest is not read.
const MAX_INPUT: u64 = 1 << 20;
/// How long the wrapped command may take: Claude Code runs the status line
/// again after each change, and kills the previous run.
const THEN_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(data_dir: Option<&Path>, a: &StatuslineArgs) -> Result<()> {
    let mut input = Vec::new();
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        warn(
            "statusline: reads the JSON Claude Code sends on stdin; \
             `agentwatch statusline install --agent claude-code` sets it up",
        );
    } else if let Err(e) = std::io::stdin().take(MAX_INPUT).read_to_end(&mut input) {
        warn(&format!("statusline: cannot read stdin: {e}"));
    }
    let now = util::now_ms();
    let line = match statusline::parse(&input) {
        // Not even a bug may fail the agent's status line.
        Ok(i) => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| line(data_dir, &i, now))) {
            Ok(Ok(l)) => l,
            Ok(Err(e)) => {
                warn(&format!("statusline: {e}"));
                statusline::minimal(Some(&i))
            }
            Err(_) => statusline::minimal(Some(&i)),
        },
        Err(e) => {
            warn(&format!("statusline: {e}"));
            statusline::minimal(None)
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", printable(&line));
    if let Some(cmd) = &a.then {
        match then(cmd, &input) {
            Ok(theirs) => {
                let _ = out.write_all(&theirs);
            }
            Err(e) => warn(&format!("statusline: {cmd}: {e}")),
        }
    }
    let _ = out.flush();
    Ok(())
}

/// Records what the input says, then renders the line.
fn line(data_dir: Option<&Path>, input: &Input, now: i64) -> Result<String> {
    let dirs = Dirs::resolve(data_dir)?;
    let store = Store::open_in(&dirs)?;
    // The agent waits for this line: a busy database is skipped, not awaited.
    store.busy_timeout(Duration::from_millis(250))?;
    for p in statusline::record(&store, input, now)? {
        warn(&format!("statusline: {p}"));
    }
    let prices = PriceBook::load(&dirs)?;
    let today = statusline::today_cost(&store, &prices, now)?;
    let five = statusline::five_hour(&store, now)?;
    Ok(statusline::render(input, Some(today), five.as_ref(), now))
}

/// Runs the person's own status line command with the same input, and
/// returns what it printed.
fn then(cmd: &str, input: &[u8]) -> std::io::Result<Vec<u8>> {
    #[cfg(unix)]
    let mut c = Command::new("sh");
    #[cfg(unix)]
    c.arg("-c").arg(cmd);
    #[cfg(windows)]
    let mut c = Command::new("cmd");
    #[cfg(windows)]
    c.arg("/C").arg(cmd);
    let mut child = c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            let out = reader.join().unwrap_or_default();
            return match status.success() {
                true => Ok(out),
                false => Err(std::io::Error::other(format!("exited with {status}"))),
            };
        }
        if started.elapsed() > THEN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("took over 5 s; stopped"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
