//! Following the live event stream: every event goes to the UI as
//! `agentwatch://event` (the LiveEvent JSON), pokes the tray, and in attach
//! mode an unsuppressed alert becomes a notification.
//!
//! - Embed mode: the store's change feed, woken by the [`EventHub`] (a
//!   watch on the database's write-ahead log) and every 2 s regardless.
//! - Attach mode: the daemon's `GET /api/events` (Server-Sent Events),
//!   resumed with `Last-Event-ID` after a break. When the daemon is gone,
//!   the app takes over: it starts its own monitor.
//!
//! [`EventHub`]: agentwatch_core::api::EventHub

use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

use agentwatch_core::alerts::{self, Alert, Notifier};
use agentwatch_core::api::{ApiContext, ApiInfo, LiveEvent};
use agentwatch_core::monitor;
use serde_json::Value;
use tauri::{AppHandle, Emitter, Runtime};

use crate::backend::{Attached, Backend, url};
use crate::notify::AppNotifier;
use crate::{EVENT, Shared};

/// Starts following the current backend's events.
pub fn start<R: Runtime>(app: &AppHandle<R>, shared: &Arc<Shared>) {
    match &*shared.backend() {
        Backend::Embedded(e) => {
            let (app, shared, ctx) = (app.clone(), shared.clone(), e.ctx.clone());
            tauri::async_runtime::spawn(async move { follow_embedded(app, shared, ctx).await });
        }
        Backend::Attached(_) => {
            let (app, shared) = (app.clone(), shared.clone());
            let _ =
                std::thread::Builder::new().name("daemon-events".into()).spawn(move || follow_attached(&app, &shared));
        }
    }
}

/// Hands one event to the UI, the tray and (attach mode) notifications.
pub fn dispatch<R: Runtime>(app: &AppHandle<R>, shared: &Shared, ev: &Value, from_daemon: bool) {
    if let Err(e) = app.emit(EVENT, ev) {
        tracing::warn!("cannot emit an event: {e}");
    }
    let kind = ev["kind"].as_str().unwrap_or("");
    if kind.starts_with("session.") || kind == "usage" || kind == "alert" {
        shared.tray.poke();
    }
    if from_daemon
        && kind == "alert.resolved"
        && let Some(id) = ev["alertId"].as_i64()
        && let Err(e) = AppNotifier::new(app, &shared.local.dirs).withdraw(id)
    {
        tracing::warn!("alert {id}: {e}");
    }
    if from_daemon && kind == "alert" && ev["alert"]["suppressed"].is_null() {
        match serde_json::from_value::<Alert>(ev["alert"].clone()) {
            Ok(a) => {
                let n = AppNotifier::new(app, &shared.local.dirs);
                if let Err(e) = shared.local.with_store(|s| alerts::deliver(s, &n, &[a])) {
                    tracing::warn!("alert: {e}");
                }
            }
            Err(e) => tracing::warn!("a malformed alert event: {e}"),
        }
    }
}

async fn follow_embedded<R: Runtime>(app: AppHandle<R>, shared: Arc<Shared>, ctx: ApiContext) {
    let mut rx = ctx.hub().subscribe();
    let mut last = ctx.blocking(|c| c.with_store(|s| s.last_event_id())).await.unwrap_or(0);
    let mut failing = false;
    loop {
        let after = last;
        let fresh = ctx
            .blocking(move |c| {
                c.with_store(|s| {
                    let now = agentwatch_core::util::now_ms();
                    s.events_after(after, 500)?
                        .iter()
                        .map(|e| LiveEvent::expand(s, e, now))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .await;
        match fresh {
            Ok(evs) if !evs.is_empty() => {
                failing = false;
                last = evs.last().map_or(last, |e| e.id);
                for e in &evs {
                    dispatch(&app, &shared, &serde_json::to_value(e).expect("serializes"), false);
                }
                continue;
            }
            Ok(_) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!("events: {e}");
            }
            Err(_) => {}
        }
        // A change, or 2 s; a closed hub means polling every 2 s.
        if let Ok(Err(_)) = tokio::time::timeout(Duration::from_secs(2), rx.changed()).await {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}

fn follow_attached<R: Runtime>(app: &AppHandle<R>, shared: &Arc<Shared>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(5)))
        .build()
        .into();
    let dirs = shared.local.dirs.clone();
    let mut last: Option<i64> = None;
    let mut warned = false;
    loop {
        match ApiInfo::read(&dirs) {
            Ok(Some(info)) => {
                let mut req = agent
                    .get(&url(info.port, "/api/events", &[]))
                    .header("Authorization", &format!("Bearer {}", info.token))
                    .header("Accept", "text/event-stream");
                if let Some(id) = last {
                    req = req.header("Last-Event-ID", &id.to_string());
                }
                match req.call() {
                    Ok(resp) if resp.status() == 200 => {
                        tracing::info!(port = info.port, "following the daemon's events");
                        warned = false;
                        let reader = std::io::BufReader::new(resp.into_body().into_reader());
                        read_sse(reader, |id, data| {
                            last = Some(id);
                            match serde_json::from_str::<Value>(data) {
                                Ok(v) => dispatch(app, shared, &v, true),
                                Err(e) => tracing::warn!("a malformed event: {e}"),
                            }
                        });
                    }
                    Ok(resp) if !warned => {
                        warned = true;
                        tracing::warn!("the daemon refused the event stream: HTTP {}", resp.status());
                    }
                    Err(e) if !warned => {
                        warned = true;
                        tracing::warn!("the daemon's event stream: {e}");
                    }
                    _ => {}
                }
            }
            Ok(None) | Err(_) if !warned => {
                warned = true;
                tracing::warn!("the daemon serves no API; live updates need `agentwatch daemon` without --no-api");
            }
            _ => {}
        }
        // The stream ended. Is the daemon still there?
        match monitor::holder(&dirs) {
            Some(pid) => {
                if let Backend::Attached(a) = &*shared.backend()
                    && a.pid != pid
                {
                    tracing::info!(pid, "a new daemon runs; attaching to it");
                    shared.set_backend(Backend::Attached(Attached::new(&dirs, pid)));
                    last = None;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            None => {
                tracing::info!("the daemon stopped; this app runs the monitor from now on");
                match crate::open::backend(app, &dirs) {
                    Ok(b) => {
                        let attached = matches!(b, Backend::Attached(_));
                        shared.set_backend(b);
                        shared.tray.poke();
                        if !attached {
                            start(app, shared);
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::error!("cannot start the monitor: {e}");
                        std::thread::sleep(Duration::from_secs(5));
                    }
                }
            }
        }
    }
}

/// Reads a Server-Sent Events stream, calling `on` with each event's id and data.
pub fn read_sse(mut r: impl BufRead, mut on: impl FnMut(i64, &str)) {
    let mut id: Option<i64> = None;
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            if !data.is_empty() {
                on(id.unwrap_or(0), &data);
            }
            data.clear();
            continue;
        }
        if l.starts_with(':') {
            continue; // keep-alive
        }
        let (field, value) = l.split_once(':').map_or((l, ""), |(f, v)| (f, v.strip_prefix(' ').unwrap_or(v)));
        match field {
            "id" => id = value.parse().ok(),
            "data" => {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_split_with_their_ids() {
        let text = ": keep-alive\n\nid: 7\nevent: usage\ndata: {\"id\":7}\n\nid: 8\nevent: alert\ndata: {\"id\":8,\ndata: \"x\":1}\n\n";
        let mut got = Vec::new();
        read_sse(text.as_bytes(), |id, d| got.push((id, d.to_string())));
        assert_eq!(got, vec![(7, "{\"id\":7}".to_string()), (8, "{\"id\":8,\n\"x\":1}".to_string())]);
    }
}
