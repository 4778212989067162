//! `agentwatch hook`: called by the agents themselves, so it must be quick,
//! must never block them, and always exits 0: a problem is logged to
//! `logs/hooks.log` in the data dir instead.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use agentwatch_core::config::Config;
use agentwatch_core::hooks::{self, spool};
use agentwatch_core::paths::Dirs;
use agentwatch_core::store::Store;
use agentwatch_core::{Error, Result};

use crate::cli::HookArgs;

/// Payloads larger than this are not hook payloads.
const MAX_PAYLOAD: u64 = 1 << 20;

pub fn run(data_dir: Option<&Path>, a: &HookArgs) -> Result<()> {
    let started = Instant::now();
    let dirs = Dirs::resolve(data_dir);
    let result = dirs.as_ref().map_err(|e| Error::Other(e.to_string())).and_then(|d| record(d, a));
    if let (Err(e), Ok(d)) = (&result, &dirs) {
        log(d, &format!("{} hook failed after {} ms: {e}", a.agent, started.elapsed().as_millis()));
    }
    Ok(())
}

fn record(dirs: &Dirs, a: &HookArgs) -> Result<()> {
    let text = match &a.payload {
        Some(p) => p.clone(),
        None => {
            let mut s = String::new();
            std::io::stdin()
                .lock()
                .take(MAX_PAYLOAD)
                .read_to_string(&mut s)
                .map_err(|e| Error::Other(format!("reading the payload: {e}")))?;
            s
        }
    };
    let payload: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::Usage(format!("the hook payload is not JSON: {e}")))?;
    let env = agentwatch_core::sources::SourceEnv::from_process();
    let known = hooks::agents(&agentwatch_core::sources::all(&env));
    if !known.contains(&a.agent.as_str()) {
        return Err(Error::Usage(format!("unknown agent '{}' (expected {})", a.agent, known.join(", "))));
    }
    let now = chrono::Utc::now().timestamp_millis();
    let spool = |why: &Error| -> Result<()> {
        let file = spool::put(dirs, &a.agent, &payload, now)?;
        tracing::debug!("{why}: event left in {}", file.display());
        Ok(())
    };
    let store = match Store::open_in(dirs) {
        Ok(s) => s,
        Err(e) if e.is_busy() => return spool(&e),
        Err(e) => return Err(e),
    };
    store.skip_checkpoint_on_close();
    // Never keep the agent waiting on a busy database: past this, the event
    // goes to the spool for the next writer.
    store.busy_timeout(Duration::from_millis(250))?;
    let cfg = Config::load(dirs).unwrap_or_default();
    // Events spooled before this one are applied first, in the same
    // transaction, so a session's events land in the order they came.
    let done = store.atomically(|| {
        let applied = spool::apply(&store, &cfg, dirs, now)?;
        hooks::record(&store, &cfg, &env, &a.agent, &payload, now)?;
        Ok(applied)
    });
    match done {
        Ok(applied) => {
            spool::remove(&applied.files);
            for why in &applied.refused {
                log(dirs, &format!("spooled hook event refused: {why}"));
            }
            Ok(())
        }
        Err(e) if e.is_busy() => spool(&e),
        Err(e) => Err(e),
    }
}

/// A call of `agentwatch hook` that does not parse (say, an installed hook
/// passing a flag this version does not know) is logged, and exits 0 like
/// every other hook problem: exit 2 would block the agent's tool call.
pub fn bad_call(args: &[std::ffi::OsString], message: &str) {
    let data_dir = args.iter().position(|a| a == "--data-dir").and_then(|i| args.get(i + 1)).map(Path::new);
    if let Ok(dirs) = Dirs::resolve(data_dir) {
        log(&dirs, &format!("hook called wrongly: {message}"));
    }
}

/// Whether these arguments call `agentwatch hook`.
pub fn is_hook_call(args: &[std::ffi::OsString]) -> bool {
    let mut rest = args.iter().skip(1);
    while let Some(a) = rest.next() {
        match a.to_str() {
            Some("--data-dir") => {
                rest.next();
            }
            Some(s) if s.starts_with('-') => {}
            Some("hook") => return true,
            _ => return false,
        }
    }
    false
}

fn log(dirs: &Dirs, line: &str) {
    let dir = dirs.data.join("logs");
    if agentwatch_core::paths::create_private_dir(&dir).is_err() {
        return;
    }
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    if let Ok(mut f) = o.open(dir.join("hooks.log")) {
        let _ = std::io::Write::write_all(&mut f, format!("{} {line}\n", chrono::Utc::now().to_rfc3339()).as_bytes());
    }
}
