//! The live event stream: `GET /api/events` (Server-Sent Events).
//!
//! Every writer (the monitor, MCP calls, `mcp-proxy` and `hook` processes)
//! appends to the store's change feed; an [`EventHub`] wakes listeners when
//! the database file changes (a file watch on its write-ahead log) or when
//! this process says so, and each listener sends what is new since its last
//! event id. `Last-Event-ID` (or `?after=`) resumes a stream.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::{ApiContext, ApiError};
use crate::alerts::Alert;
use crate::error::Result;
use crate::paths::Dirs;
use crate::store::{EventRecord, Store, event, find_session};
use crate::views::{SessionView, ToolCallView, iso};

/// Wakes event listeners when something may have changed.
#[derive(Clone)]
pub struct EventHub {
    tx: watch::Sender<u64>,
    _watcher: std::sync::Arc<Option<notify::RecommendedWatcher>>,
}

impl EventHub {
    /// A hub woken by changes to the data dir's database (from any process).
    pub fn watching(dirs: &Dirs) -> EventHub {
        let (tx, _) = watch::channel(0u64);
        let sender = tx.clone();
        let db = dirs.db_path();
        let watcher = {
            use notify::Watcher;
            let wal = db.with_extension("db-wal");
            let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                if let Ok(ev) = res
                    && ev.paths.iter().any(|p| p == &wal || p == &db)
                {
                    sender.send_modify(|n| *n += 1);
                }
            })
            .ok();
            if let Some(w) = w.as_mut()
                && let Err(e) = w.watch(&dirs.data, notify::RecursiveMode::NonRecursive)
            {
                tracing::warn!("cannot watch {}: {e}; live events come from this process only", dirs.data.display());
            }
            w
        };
        EventHub { tx, _watcher: std::sync::Arc::new(watcher) }
    }

    /// Tells listeners to look for new events.
    pub fn notify(&self) {
        self.tx.send_modify(|n| *n += 1);
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

/// One live event, as the UI and SSE clients receive it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveEvent {
    pub id: i64,
    pub at: String,
    pub kind: String,
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call: Option<ToolCallView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<Alert>,
    /// `alert.resolved`: the alert whose notification is to be withdrawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<i64>,
    /// `tool.decision`: `{at, tool, decision, source}`, from an agent's
    /// telemetry (accept, reject, … as the agent words it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<serde_json::Value>,
}

impl LiveEvent {
    /// Expands a change-feed record with the current state of what it names.
    pub fn expand(store: &Store, e: &EventRecord, now: i64) -> Result<LiveEvent> {
        let session = match (&e.session, e.kind.starts_with("session.") || e.kind == event::USAGE) {
            (Some(id), true) => find_session(store, id).ok().map(|s| SessionView::new(&s, now)),
            _ => None,
        };
        let tool_call = (e.kind == event::TOOL_CALL)
            .then(|| e.data.as_deref().and_then(|d| serde_json::from_str(d).ok()))
            .flatten();
        let alert =
            (e.kind == event::ALERT).then(|| e.data.as_deref().and_then(|d| serde_json::from_str(d).ok())).flatten();
        let alert_id = (e.kind == event::ALERT_RESOLVED)
            .then(|| e.data.as_deref().and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()?["id"].as_i64()))
            .flatten();
        let decision = (e.kind == event::TOOL_DECISION)
            .then(|| e.data.as_deref().and_then(|d| serde_json::from_str(d).ok()))
            .flatten();
        Ok(LiveEvent {
            decision,
            id: e.id,
            at: iso(e.at),
            kind: e.kind.clone(),
            session_id: e.session.clone(),
            session,
            tool_call,
            alert,
            alert_id,
        })
    }
}

#[derive(Deserialize)]
pub struct EventsQuery {
    after: Option<i64>,
}

/// `GET /api/events`
pub async fn stream(
    State(ctx): State<ApiContext>,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> std::result::Result<Sse<impl futures_util::Stream<Item = std::result::Result<Event, Infallible>>>, ApiError> {
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).or(q.after);
    let start = match resume {
        Some(id) => id,
        None => ctx.blocking(|c| c.with_store(|s| s.last_event_id())).await?,
    };
    let rx = ctx.hub().subscribe();
    let state = (ctx, rx, start, Vec::<LiveEvent>::new());
    let s = futures_util::stream::unfold(state, |(ctx, mut rx, mut last, mut queue)| async move {
        loop {
            if !queue.is_empty() {
                let e = queue.remove(0);
                let ev = Event::default()
                    .id(e.id.to_string())
                    .event(e.kind.clone())
                    .data(serde_json::to_string(&e).expect("event serializes"));
                return Some((Ok(ev), (ctx, rx, last, queue)));
            }
            let after = last;
            let fresh = ctx
                .blocking(move |c| {
                    c.with_store(|s| {
                        let now = crate::util::now_ms();
                        s.events_after(after, 500)?
                            .iter()
                            .map(|e| LiveEvent::expand(s, e, now))
                            .collect::<Result<Vec<_>>>()
                    })
                })
                .await
                .unwrap_or_default();
            if let Some(e) = fresh.last() {
                last = e.id;
                queue = fresh;
                continue;
            }
            // Nothing new: wait for a change (the keep-alive covers long quiet spells).
            if tokio::time::timeout(Duration::from_secs(30), rx.changed()).await.is_ok_and(|r| r.is_err()) {
                return None;
            }
        }
    });
    Ok(Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
