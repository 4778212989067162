//! The dashboard (`main`) and one `session-<id>` window per session.

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

use crate::Shared;
use crate::backend::encode;

pub const MAIN: &str = "main";

/// Shows, un-minimizes and focuses the dashboard.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    match app.get_webview_window(MAIN) {
        Some(w) => {
            let _ = w.unminimize();
            let _ = w.show();
            let _ = w.set_focus();
        }
        None => tracing::warn!("the main window is gone"),
    }
}

/// The label of a session's window. Labels allow letters, digits and
/// `-/:_`; anything else becomes `_`.
pub fn session_label(id: &str) -> String {
    let safe: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':') { c } else { '_' }).collect();
    format!("session-{safe}")
}

/// Opens the window of a session, or focuses it when it is open already.
pub fn open_session_window<R: Runtime>(app: &AppHandle<R>, shared: &Shared, id: &str) -> tauri::Result<()> {
    let id = id.trim();
    // A prefix or the agent's own id names the same session: use its full id.
    let row = shared.local.with_store(|s| agentwatch_core::store::find_session(s, id));
    let (id, title) = match &row {
        Ok(r) => (r.id.clone(), format!("{} — agentwatch", agentwatch_core::control::describe(r))),
        Err(_) => (id.to_string(), format!("Session {id} — agentwatch")),
    };
    let label = session_label(&id);
    if let Some(w) = app.get_webview_window(&label) {
        w.unminimize()?;
        w.show()?;
        w.set_focus()?;
        return Ok(());
    }
    let url = WebviewUrl::App(format!("index.html?session={}", encode(&id)).into());
    WebviewWindowBuilder::new(app, &label, url)
        .title(&title)
        .inner_size(860.0, 700.0)
        .min_inner_size(480.0, 360.0)
        .build()?;
    tracing::info!(window = %label, "opened");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_safe() {
        assert_eq!(session_label("4d1c8a4e-0000-4000"), "session-4d1c8a4e-0000-4000");
        assert_eq!(session_label("a b/c?"), "session-a_b_c_");
    }
}
