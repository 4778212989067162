//! Desktop notifications for alerts, with an "Open" action that opens the
//! session's window where the notification server supports actions.
//!
//! In embed mode the core's alert engine calls [`AppNotifier`] (it has
//! already de-duplicated the alert and applied pauses and quiet hours). In
//! attach mode the daemon's `alert` events that were not suppressed come
//! here through [`agentwatch_core::alerts::deliver`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use agentwatch_core::alerts::{Alert, Notifier};
use agentwatch_core::paths::Dirs;
use tauri::{AppHandle, Runtime};

// Urgency, and the "Open" action that opens the session's window, exist
// on freedesktop notification servers only.
#[cfg(all(unix, not(target_os = "macos")))]
use {agentwatch_core::alerts::AlertKind, std::sync::Arc, tauri::Manager};

/// Notifications whose actions are still awaited (each holds a thread).
static WAITING: AtomicUsize = AtomicUsize::new(0);
/// Shown notifications of alerts that are withdrawn once answered
/// (permission prompts, questions): alert id → notification id.
static SHOWN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<i64, u32>>> =
    std::sync::LazyLock::new(Default::default);
const MAX_WAITING: usize = 32;

pub struct AppNotifier<R: Runtime> {
    app: AppHandle<R>,
    icon: Option<PathBuf>,
}

impl<R: Runtime> AppNotifier<R> {
    pub fn new(app: &AppHandle<R>, dirs: &Dirs) -> AppNotifier<R> {
        AppNotifier { app: app.clone(), icon: icon_file(dirs) }
    }
}

/// The app icon as a file the notification server can read.
fn icon_file(dirs: &Dirs) -> Option<PathBuf> {
    let p = dirs.data.join("icons").join("agentwatch-128.png");
    if !p.is_file() {
        std::fs::create_dir_all(p.parent()?).ok()?;
        std::fs::write(&p, include_bytes!("../../icons/128x128.png")).ok()?;
    }
    Some(p)
}

impl<R: Runtime> Notifier for AppNotifier<R> {
    fn withdraw(&self, id: i64) -> agentwatch_core::Result<()> {
        let shown = SHOWN.lock().expect("notification ids").remove(&id);
        match shown {
            Some(n) => agentwatch_core::alerts::close_notification(n),
            None => Ok(()),
        }
    }

    fn notify(&self, a: &Alert) -> agentwatch_core::Result<()> {
        let mut n = notify_rust::Notification::new();
        n.appname("agentwatch").summary(&a.title).body(&agentwatch_core::alerts::plain_body(&a.body));
        match &self.icon {
            Some(p) => n.icon(&p.display().to_string()),
            None => n.icon("dialog-information"),
        };
        let can_wait = a.session_id.is_some() && WAITING.load(Ordering::Relaxed) < MAX_WAITING;
        if can_wait {
            // "default" is what clicking the notification itself does.
            n.action("default", "Open").action("open", "Open");
        }
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            let urgency = match a.kind {
                AlertKind::Died | AlertKind::Permission | AlertKind::Question => notify_rust::Urgency::Critical,
                _ => notify_rust::Urgency::Normal,
            };
            n.urgency(urgency).hint(notify_rust::Hint::Category("im".into()));
        }
        // The notification's D-Bus connection stays on one thread: it is
        // shown there, then waits there for the user's action.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(), String>>(1);
        let app = self.app.clone();
        let session = a.session_id.clone().filter(|_| can_wait);
        let (alert_id, withdrawable) = (a.id, a.kind.is_withdrawn_when_answered());
        WAITING.fetch_add(1, Ordering::Relaxed);
        let spawned = std::thread::Builder::new().name("notification".into()).spawn(move || {
            match n.show() {
                Ok(handle) => {
                    #[cfg(all(unix, not(target_os = "macos")))]
                    if withdrawable {
                        SHOWN.lock().expect("notification ids").insert(alert_id, handle.id());
                    }
                    #[cfg(not(all(unix, not(target_os = "macos"))))]
                    let _ = (withdrawable, alert_id);
                    let _ = tx.send(Ok(()));
                    #[cfg(all(unix, not(target_os = "macos")))]
                    if let Some(id) = session {
                        handle.wait_for_action(|action| {
                            if matches!(action, "default" | "open")
                                && let Some(shared) = app.try_state::<Arc<crate::Shared>>()
                                && let Err(e) = crate::windows::open_session_window(&app, &shared, &id)
                            {
                                tracing::warn!("cannot open the window of {id}: {e}");
                            }
                        });
                    }
                    #[cfg(not(all(unix, not(target_os = "macos"))))]
                    let _ = (handle, app, session);
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                }
            }
            WAITING.fetch_sub(1, Ordering::Relaxed);
        });
        if let Err(e) = spawned {
            WAITING.fetch_sub(1, Ordering::Relaxed);
            return Err(agentwatch_core::Error::Other(format!("cannot show a notification: {e}")));
        }
        match rx.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(Ok(())) => {
                tracing::info!(kind = a.kind.as_str(), "notified: {}", a.title);
            }
            Ok(Err(e)) => return Err(agentwatch_core::Error::Other(format!("cannot show a notification: {e}"))),
            Err(_) => return Err(agentwatch_core::Error::Other("the notification service does not answer".into())),
        }
        Ok(())
    }
}
