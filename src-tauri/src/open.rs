//! Opening the backend: attach to the data dir's daemon, or run the
//! monitor and the API in this app (at start, and when a daemon it
//! followed stops).

use std::sync::Mutex;

use agentwatch_core::api::{ApiContext, ApiInfo, EventHub, Server};
use agentwatch_core::config::Config;
use agentwatch_core::ingest::default_sources;
use agentwatch_core::monitor::{self, Monitor};
use agentwatch_core::paths::Dirs;
use agentwatch_core::{Error, Result};
use tauri::{AppHandle, Runtime};

use crate::backend::{Attached, Backend, Embedded};
use crate::notify::AppNotifier;

/// Attach to the data dir's daemon if one runs, else run the monitor here.
pub fn backend<R: Runtime>(app: &AppHandle<R>, dirs: &Dirs) -> Result<Backend> {
    if let Some(pid) = monitor::holder(dirs) {
        return Ok(Backend::Attached(Attached::new(dirs, pid)));
    }
    match embed(app, dirs) {
        Ok(b) => Ok(b),
        // A daemon started in between.
        Err(e) => match monitor::holder(dirs) {
            Some(pid) => Ok(Backend::Attached(Attached::new(dirs, pid))),
            None => Err(e),
        },
    }
}

/// Takes the lock, runs the monitor in a thread and the API server on
/// Tauri's async runtime.
pub fn embed<R: Runtime>(app: &AppHandle<R>, dirs: &Dirs) -> Result<Backend> {
    let lock = monitor::acquire_lock(dirs)?;
    let notifier = AppNotifier::new(app, dirs);
    let (m, handle) = Monitor::new(dirs, default_sources(), Some(Box::new(notifier)))?;
    std::thread::Builder::new()
        .name("monitor".into())
        .spawn(move || {
            if let Err(e) = m.run(&mut ()) {
                tracing::error!("the monitor stopped: {e}");
            }
        })
        .map_err(|e| Error::Other(format!("cannot start the monitor: {e}")))?;
    let hub = EventHub::watching(dirs);
    let port = Config::load(dirs)?.api.port;
    let (ctx, stop) = match tauri::async_runtime::block_on(Server::bind(dirs, port, hub.clone())) {
        Ok(server) => {
            let ctx = server.context();
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = server
                    .serve(async {
                        let _ = rx.await;
                    })
                    .await
                {
                    tracing::error!("{e}");
                }
            });
            (ctx, Some(tx))
        }
        Err(e) => {
            // The app works without the API; agents' hooks and MCP clients do not.
            tracing::warn!("no HTTP API: {e}");
            (ApiContext::new(dirs, ApiInfo { port: 0, token: String::new(), hook_token: None }, hub)?, None)
        }
    };
    Ok(Backend::Embedded(Embedded { ctx, monitor: Some(handle), stop_api: Mutex::new(stop), _lock: Some(lock) }))
}
