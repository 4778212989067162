//! `agentwatch daemon`: the live collector, headless, in the foreground.

use std::path::Path;

use agentwatch_core::alerts::{DesktopNotifier, Notifier};
use agentwatch_core::api::{EventHub, Server};
use agentwatch_core::collector::ScanReport;
use agentwatch_core::ingest::{IngestReport, default_sources};
use agentwatch_core::monitor::{self, Monitor, Observer};
use agentwatch_core::paths::Dirs;
use agentwatch_core::{Error, Result};

use crate::cli::DaemonArgs;

/// Logs what each round did.
struct Log;

impl Observer for Log {
    fn scanned(&mut self, r: &ScanReport) {
        tracing::debug!(scan = r.scan, agents = r.agents, ms = r.elapsed.as_secs_f64() * 1000.0, "scan");
        for t in &r.transitions {
            tracing::info!(session = %t.session_id, from = ?t.from, to = %t.to, "{}", t.reason);
        }
    }

    fn ingested(&mut self, r: &IngestReport) {
        if r.malformed_lines > 0 {
            tracing::warn!("skipped {} malformed transcript lines", r.malformed_lines);
        }
        for u in &r.unreadable {
            tracing::warn!("cannot read {} ({}); reports leave out its usage", u.path.display(), u.error);
        }
    }
}

pub fn run(data_dir: Option<&Path>, a: &DaemonArgs, verbose: u8) -> Result<()> {
    let dirs = Dirs::resolve(data_dir)?;
    // A settings file with a mistake: said here, once, before anything starts
    // (the monitor logs it too); the defaults are used.
    let (config, problems) = agentwatch_core::config::Config::load_or_defaults(&dirs)?;
    for p in &problems {
        crate::output::warn(p);
    }
    let _lock = monitor::acquire_lock(&dirs)?;
    let logs = dirs.data.join("logs");
    let _guard = crate::context::init_file_logging(&logs, verbose)?;
    let notifier = a.notify.then(|| Box::new(DesktopNotifier::default()) as Box<dyn Notifier>);
    let (mut m, handle) = Monitor::new(&dirs, default_sources(), notifier)?;
    if let Some(aside) = m.recovered() {
        let msg = format!(
            "the database was damaged or not agentwatch's; it was moved to {} and a new one started \
             (usage is rebuilt from the agents' files)",
            aside.display()
        );
        crate::output::warn(&msg);
        tracing::warn!("{msg}");
    }
    if let Some(s) = a.scan_interval {
        m.set_interval(s);
    }
    // Few threads: each one that touches the heap gets an allocator arena of
    // its own, and the blocking pool otherwise grows with bursts of requests
    // (database work runs there; SQLite takes one writer at a time anyway).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start: {e}")))?;
    let port = a.port.unwrap_or(config.api.port);
    let api = match a.no_api {
        true => None,
        false => Some(rt.block_on(Server::bind(&dirs, port, EventHub::watching(&dirs)))?),
    };
    // Stop cleanly on Ctrl-C and SIGTERM.
    let stopper = handle.clone();
    rt.spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping on signal");
        stopper.shutdown();
    });
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api_line = match api {
        Some(server) => {
            let line = format!("; API and MCP on http://127.0.0.1:{}", server.port());
            rt.spawn(async move {
                if let Err(e) = server
                    .serve(async {
                        let _ = api_stopped.await;
                    })
                    .await
                {
                    tracing::error!("{e}");
                }
            });
            line
        }
        None => String::new(),
    };
    eprintln!(
        "agentwatch daemon: scanning every {} s{}{api_line}; logs in {}. Ctrl-C stops it.",
        m.interval().as_secs(),
        if a.notify { ", desktop notifications on" } else { "" },
        logs.display()
    );
    tracing::info!(pid = std::process::id(), data = %dirs.data.display(), "daemon started");
    // The monitor blocks; the runtime keeps handling signals meanwhile.
    let monitor = rt.spawn_blocking(move || m.run(&mut Log));
    let result = rt.block_on(monitor).unwrap_or_else(|_| Err(Error::Other("the monitor crashed".into())));
    if let Err(e) = &result {
        // Said on stderr too, by main; the log keeps it.
        tracing::error!("the monitor stopped: {e}");
    }
    let _ = stop_api.send(());
    if !a.no_api {
        match Server::close_mcp_clients(&dirs) {
            Ok(0) => {}
            Ok(n) => tracing::info!("closed the sessions of {n} connected MCP clients"),
            Err(e) => tracing::warn!("cannot close the sessions of connected MCP clients: {e}"),
        }
    }
    tracing::info!("daemon stopped");
    result
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Windows: Ctrl-C or Ctrl-Break, the console window closed, the user
/// logging off or the system shutting down.
#[cfg(windows)]
async fn wait_for_signal() {
    use tokio::signal::windows;
    let (Ok(mut brk), Ok(mut close), Ok(mut logoff), Ok(mut shutdown)) =
        (windows::ctrl_break(), windows::ctrl_close(), windows::ctrl_logoff(), windows::ctrl_shutdown())
    else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = brk.recv() => {}
        _ = close.recv() => {}
        _ = logoff.recv() => {}
        _ = shutdown.recv() => {}
    }
}

#[cfg(not(any(unix, windows)))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
