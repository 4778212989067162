//! Starting up: attach to a running daemon, or run the monitor and the API
//! in this app; then the tray, the event stream and the dashboard.

use std::sync::Arc;

use agentwatch_core::paths::Dirs;
use agentwatch_core::{Error, Result};
use tauri::{AppHandle, Manager, Runtime};

use crate::backend::Backend;
use crate::{Args, Shared};

/// Sets the app up (from Tauri's `setup`).
pub fn start<R: Runtime>(app: &AppHandle<R>, args: &Args) -> Result<()> {
    let dirs = Dirs::resolve(None)?;
    let b = crate::open::backend(app, &dirs)?;
    match &b {
        Backend::Attached(a) => tracing::info!(pid = a.pid, "attached to the running agentwatch daemon"),
        Backend::Embedded(e) => tracing::info!(
            data = %dirs.data.display(),
            api = ?e.stop_api.lock().expect("api lock").is_some().then(|| e.ctx.port()),
            "monitor started"
        ),
    }
    let shared = Arc::new(Shared::new(&dirs, b));
    app.manage(shared.clone());
    crate::tray::create(app, &shared).map_err(|e| Error::Other(format!("cannot create the tray icon: {e}")))?;
    crate::follow::start(app, &shared);
    if !args.hidden {
        crate::windows::show_main(app);
    }
    Ok(())
}
