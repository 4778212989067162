//! # agentwatch-desktop
//!
//! The tray app: a thin Tauri 2 shell over `agentwatch-core`.
//!
//! - [`backend`]: where data comes from: the app's own monitor (embed mode)
//!   or a running `agentwatch daemon` (attach mode, over its HTTP API).
//! - [`local`]: actions on this machine (kill, transcript, settings, installs).
//! - [`commands`]: the IPC commands of docs/desktop-ipc.md.
//! - [`follow`]: the live event stream → `agentwatch://event`, the tray,
//!   notifications.
//! - [`tray`]: the tray icon and menu; [`notify`]: desktop notifications;
//!   [`windows`]: the dashboard and the per-session windows.

pub mod backend;
pub mod commands;
pub mod follow;
pub mod local;
pub mod notify;
pub mod open;
pub mod start;
pub mod tray;
pub mod windows;

use std::sync::{Arc, RwLock};

use agentwatch_core::paths::Dirs;
use tauri::{Manager, RunEvent, WindowEvent};

use crate::backend::Backend;
use crate::local::Local;

/// The one event name the UI listens to.
pub const EVENT: &str = "agentwatch://event";

/// Everything commands and background threads share.
pub struct Shared {
    pub local: Local,
    backend: RwLock<Arc<Backend>>,
    pub tray: tray::Trigger,
}

impl Shared {
    pub fn new(dirs: &Dirs, backend: Backend) -> Shared {
        Shared::with_sources(dirs, backend, agentwatch_core::ingest::default_sources())
    }

    /// With the agents' sources given (tests point them at fixtures).
    pub fn with_sources(
        dirs: &Dirs,
        backend: Backend,
        sources: Vec<Box<dyn agentwatch_core::sources::Source>>,
    ) -> Shared {
        Shared {
            local: Local::new(dirs, sources),
            backend: RwLock::new(Arc::new(backend)),
            tray: tray::Trigger::default(),
        }
    }

    pub fn backend(&self) -> Arc<Backend> {
        self.backend.read().expect("backend lock").clone()
    }

    /// Replaces the backend (a daemon went away and this app took over).
    pub fn set_backend(&self, b: Backend) {
        *self.backend.write().expect("backend lock") = Arc::new(b);
    }
}

/// Command-line flags of the app.
#[derive(Debug, Clone, Default)]
pub struct Args {
    /// Start in the tray, without showing the dashboard (autostart uses it).
    pub hidden: bool,
}

impl Args {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Args {
        let mut a = Args::default();
        for arg in args {
            if matches!(arg.as_str(), "--hidden" | "--minimized") {
                a.hidden = true;
            }
        }
        a
    }
}

/// Whether the locale is C/POSIX (or unset) with no LANGUAGE list, so
/// WebKitGTK would give pages the invalid language tag "C".
pub fn needs_language_fallback(var: impl Fn(&str) -> Option<String>) -> bool {
    if var("LANGUAGE").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|k| var(k).filter(|v| !v.is_empty()));
    match locale {
        None => true,
        Some(l) => {
            let name = l.split(['.', '@']).next().unwrap_or("");
            matches!(name, "C" | "POSIX" | "")
        }
    }
}

/// Runs the app until the user quits.
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AGENTWATCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tao=warn,wry=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let args = Args::parse(std::env::args().skip(1));
    let flags = tauri_plugin_window_state::StateFlags::SIZE
        | tauri_plugin_window_state::StateFlags::POSITION
        | tauri_plugin_window_state::StateFlags::MAXIMIZED;
    let app = tauri::Builder::default()
        // First: a second launch only focuses this one.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tracing::info!("second launch: showing the dashboard");
            windows::show_main(app);
        }))
        .plugin(
            tauri_plugin_window_state::Builder::new()
                .with_state_flags(flags)
                // Every session window shares one remembered size and place.
                .map_label(|l| if l.starts_with("session-") { "session" } else { l })
                .build(),
        )
        .plugin(tauri_plugin_autostart::Builder::new().arg("--hidden").build())
        .invoke_handler(commands::handlers())
        .setup(move |app| {
            start::start(app.handle(), &args)?;
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the dashboard hides it to the tray.
            if let WindowEvent::CloseRequested { api, .. } = event
                && window.label() == windows::MAIN
            {
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("agentwatch-desktop: cannot start: {e}");
            std::process::exit(1)
        });
    app.run(|app, event| match event {
        // The tray keeps the app alive when every window is closed.
        RunEvent::ExitRequested { code: None, api, .. } => api.prevent_exit(),
        RunEvent::Exit => {
            if let Some(s) = app.try_state::<Arc<Shared>>() {
                s.backend().shutdown();
            }
        }
        _ => {}
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_c_locale_gets_a_language_for_the_webview() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert!(needs_language_fallback(env(&[])));
        assert!(needs_language_fallback(env(&[("LANG", "C.UTF-8")])));
        assert!(needs_language_fallback(env(&[("LANG", "de_DE.UTF-8"), ("LC_ALL", "POSIX")])));
        assert!(!needs_language_fallback(env(&[("LANG", "de_DE.UTF-8")])));
        assert!(!needs_language_fallback(env(&[("LANG", "C.UTF-8"), ("LANGUAGE", "fr")])));
        assert!(Args::parse(["--hidden".to_string()]).hidden);
        assert!(!Args::parse(["--automation".to_string()]).hidden);
    }
}
