//! The IPC commands of docs/desktop-ipc.md, each a few lines over the core.
//! All run off the main thread; errors reach the UI as one-line strings.

use std::sync::Arc;

use serde_json::{Value, json};
use tauri::{AppHandle, Manager, Runtime, State, ipc::Invoke};

use crate::Shared;
use crate::backend::{HistoryArgs, ListFilter, cost_range};
use crate::local::{InstallPreview, KillResult, Settings, TranscriptTail};

type Res<T> = std::result::Result<T, String>;

/// Every command, for `invoke_handler`.
pub fn handlers<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        list_sessions,
        history,
        get_session,
        transcript_tail,
        kill_session,
        clear_completed,
        cost_summary,
        cost_blocks,
        limits,
        agents,
        get_settings,
        save_settings,
        install_options,
        install_preview,
        install_apply,
        open_session_window,
    ]
}

// The command names, as the capability file must allow them (also read by
// build.rs, which generates the `allow-<command>` permissions).
include!("command_names.rs");

/// Runs blocking work on the blocking pool.
async fn blocking<T: Send + 'static>(
    shared: &State<'_, Arc<Shared>>,
    f: impl FnOnce(&Shared) -> agentwatch_core::Result<T> + Send + 'static,
) -> Res<T> {
    let s = Arc::clone(shared);
    tauri::async_runtime::spawn_blocking(move || f(&s))
        .await
        .map_err(|e| format!("the command failed: {e}"))?
        .map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn list_sessions(shared: State<'_, Arc<Shared>>, filter: Option<ListFilter>) -> Res<Value> {
    let f = filter.unwrap_or_default();
    let list = blocking(&shared, move |s| s.backend().list_sessions(&f)).await?;
    Ok(json!({ "sessions": list }))
}

#[tauri::command]
pub async fn history(
    shared: State<'_, Arc<Shared>>,
    range: String,
    limit: usize,
    offset: usize,
    agent: Option<String>,
    search: Option<String>,
) -> Res<Value> {
    let h = HistoryArgs { range, limit, offset, agent, search };
    blocking(&shared, move |s| s.backend().history(&h)).await
}

#[tauri::command]
pub async fn get_session(shared: State<'_, Arc<Shared>>, id: String) -> Res<Value> {
    blocking(&shared, move |s| s.backend().get_session(&id)).await
}

#[tauri::command]
pub async fn transcript_tail(shared: State<'_, Arc<Shared>>, id: String, lines: Option<usize>) -> Res<TranscriptTail> {
    blocking(&shared, move |s| s.local.transcript_tail(&id, lines.unwrap_or(200))).await
}

#[tauri::command]
pub async fn kill_session(shared: State<'_, Arc<Shared>>, id: String) -> Res<KillResult> {
    let r = blocking(&shared, move |s| s.local.kill(&id)).await?;
    shared.tray.poke();
    Ok(r)
}

#[tauri::command]
pub async fn clear_completed(shared: State<'_, Arc<Shared>>) -> Res<Value> {
    let n = blocking(&shared, |s| s.local.clear_completed()).await?;
    shared.tray.poke();
    Ok(json!({ "archived": n }))
}

#[tauri::command]
pub async fn cost_summary(shared: State<'_, Arc<Shared>>, range: String) -> Res<Value> {
    let r = cost_range(&range).map_err(|e| e.to_string())?;
    blocking(&shared, move |s| s.backend().cost_summary(r)).await
}

#[tauri::command]
pub async fn cost_blocks(shared: State<'_, Arc<Shared>>) -> Res<Value> {
    blocking(&shared, |s| s.backend().cost_blocks()).await
}

#[tauri::command]
pub async fn limits(shared: State<'_, Arc<Shared>>) -> Res<Value> {
    blocking(&shared, |s| s.backend().limits()).await
}

#[tauri::command]
pub async fn agents(shared: State<'_, Arc<Shared>>) -> Res<Value> {
    blocking(&shared, |s| s.backend().agents(&s.local.sources)).await
}

#[tauri::command]
pub async fn get_settings<R: Runtime>(app: AppHandle<R>, shared: State<'_, Arc<Shared>>) -> Res<Settings> {
    let login = autostart_enabled(&app);
    blocking(&shared, move |s| s.local.settings(login)).await
}

#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    shared: State<'_, Arc<Shared>>,
    settings: Settings,
) -> Res<Settings> {
    let want_login = settings.start_at_login;
    let mut saved = blocking(&shared, move |s| {
        let saved = s.local.save_settings(&settings)?;
        s.backend().reload()?;
        Ok(saved)
    })
    .await?;
    if let Some(m) = app.try_state::<tauri_plugin_autostart::AutoLaunchManager>() {
        let r = if want_login {
            ensure_autostart_dir();
            m.enable()
        } else {
            m.disable()
        };
        r.map_err(|e| format!("settings saved, but start at login could not be changed: {e}"))?;
        saved.start_at_login = m.is_enabled().unwrap_or(want_login);
    }
    shared.tray.poke();
    Ok(saved)
}

#[tauri::command]
pub fn install_options() -> Value {
    json!({ "options": crate::local::install_options() })
}

#[tauri::command]
pub async fn install_preview(
    shared: State<'_, Arc<Shared>>,
    target: String,
    agent: String,
    uninstall: bool,
) -> Res<InstallPreview> {
    blocking(&shared, move |s| s.local.install_preview(&target, &agent, uninstall)).await
}

#[tauri::command]
pub async fn install_apply(
    shared: State<'_, Arc<Shared>>,
    target: String,
    agent: String,
    uninstall: bool,
) -> Res<Value> {
    let message = blocking(&shared, move |s| s.local.install_apply(&target, &agent, uninstall)).await?;
    Ok(json!({ "message": message }))
}

#[tauri::command]
pub async fn open_session_window<R: Runtime>(app: AppHandle<R>, shared: State<'_, Arc<Shared>>, id: String) -> Res<()> {
    crate::windows::open_session_window(&app, &shared, &id).map_err(|e| e.to_string())
}

/// Whether the app starts at login: the autostart entry when the plugin
/// runs, else the setting.
fn autostart_enabled<R: Runtime>(app: &AppHandle<R>) -> Option<bool> {
    app.try_state::<tauri_plugin_autostart::AutoLaunchManager>().and_then(|m| m.is_enabled().ok())
}

pub fn start_at_login<R: Runtime>(app: &AppHandle<R>, shared: &Shared) -> bool {
    autostart_enabled(app).unwrap_or_else(|| {
        agentwatch_core::config::Config::load(&shared.local.dirs).map(|c| c.start_at_login).unwrap_or(false)
    })
}

/// The tray's "Start at login": the autostart entry and the setting together.
pub fn set_start_at_login<R: Runtime>(app: &AppHandle<R>, shared: &Shared, on: bool) -> agentwatch_core::Result<()> {
    if let Some(m) = app.try_state::<tauri_plugin_autostart::AutoLaunchManager>() {
        let r = if on {
            ensure_autostart_dir();
            m.enable()
        } else {
            m.disable()
        };
        r.map_err(|e| agentwatch_core::Error::Other(format!("start at login: {e}")))?;
    }
    let mut cfg = agentwatch_core::config::Config::load(&shared.local.dirs)?;
    cfg.start_at_login = on;
    cfg.save(&shared.local.dirs)
}

/// The autostart entry goes to `~/.config/autostart/`, which the plugin
/// creates only when `~/.config` exists already.
fn ensure_autostart_dir() {
    #[cfg(target_os = "linux")]
    if let Some(home) = agentwatch_core::paths::home_dir() {
        let _ = std::fs::create_dir_all(home.join(".config/autostart"));
    }
}
