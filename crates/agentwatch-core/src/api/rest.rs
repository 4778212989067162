//! REST endpoints. Each is a few lines over the core.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use super::{ApiContext, ApiError};
use crate::model::SessionState;
use crate::reports::{Range, Zone, cost_summary};
use crate::store::{SessionFilter, count_sessions, find_session, list_sessions};
use crate::views::{FleetHealth, SessionDetail, SessionView};

type Reply = std::result::Result<Json<Value>, ApiError>;

pub fn routes() -> Router<ApiContext> {
    Router::new()
        .route("/health", get(health))
        .route("/api/sessions", get(sessions))
        .route("/api/sessions/{id}", get(session))
        .route("/api/costs", get(costs))
        .route("/api/blocks", get(blocks))
        .route("/api/fleet-health", get(fleet))
        .route("/api/limits", get(limits))
        .route("/api/agents", get(agents))
        .route("/metrics", get(metrics))
        .route("/api/events", get(super::events::stream))
        .route("/api/hooks/{agent}", axum::routing::post(hook))
}

/// `POST /api/hooks/{agent}`: a hook event posted by the agent itself
/// (Claude Code's `http` hooks), recorded as `agentwatch hook` records it.
async fn hook(State(ctx): State<ApiContext>, Path(agent): Path<String>, Json(payload): Json<Value>) -> Reply {
    let out = ctx
        .blocking(move |c| {
            c.with_store(|s| {
                let env = crate::sources::SourceEnv::from_process();
                crate::hooks::record(s, &c.config(), &env, &agent, &payload, crate::util::now_ms())
            })
        })
        .await?;
    ctx.hub().notify();
    tracing::debug!(session = out.session_id, event = out.event, "hook event over HTTP");
    // Claude Code reads a 2xx body like a command hook's output: nothing to say.
    Ok(Json(json!({})))
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

async fn health(State(ctx): State<ApiContext>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": ctx.inner.started.elapsed().as_secs(),
    }))
}

/// The filter of `GET /api/sessions`; strict about values, so a typo is a
/// 400 rather than a silently unfiltered list.
pub fn session_filter(q: &HashMap<String, String>) -> std::result::Result<SessionFilter, ApiError> {
    const KNOWN: &[&str] = &[
        "state",
        "agent",
        "project",
        "workspaceId",
        "active",
        "source",
        "limit",
        "offset",
        "range",
        "search",
        "ended",
    ];
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(bad(format!("unknown parameter '{k}' (known: {})", KNOWN.join(", "))));
    }
    let mut f = SessionFilter::default();
    if let Some(s) = q.get("state") {
        f.states = vec![s.parse::<SessionState>().map_err(bad)?];
    }
    f.agent_name = q.get("agent").filter(|s| !s.is_empty()).cloned();
    f.project = q.get("project").or(q.get("workspaceId")).filter(|s| !s.is_empty()).cloned();
    f.source = q.get("source").filter(|s| !s.is_empty()).cloned();
    if let Some(s) = &f.source {
        crate::model::check_session_source(s).map_err(|e| bad(e.to_string()))?;
    }
    match q.get("active").map(String::as_str) {
        None | Some("false" | "0") => {}
        Some("true" | "1") => {
            if f.states.is_empty() {
                f.states = SessionState::ALL.into_iter().filter(|s| s.is_live()).collect();
            }
            f.not_archived = true;
        }
        Some(v) => return Err(bad(format!("active must be true or false, not '{v}'"))),
    }
    f.search = q.get("search").filter(|s| !s.is_empty()).cloned();
    if let Some(r) = q.get("range") {
        let range = Range::parse(r).map_err(|e| bad(e.to_string()))?;
        (f.from_ms, f.to_ms) = range.window(Zone::Local, crate::util::now_ms());
    }
    match q.get("ended").map(String::as_str) {
        None | Some("false" | "0") => {}
        Some("true" | "1") => f.states = vec![SessionState::Completed, SessionState::Dead],
        Some(v) => return Err(bad(format!("ended must be true or false, not '{v}'"))),
    }
    if let Some(o) = q.get("offset") {
        // SQLite takes offsets up to i64::MAX; beyond, the query would fail.
        match o.parse::<usize>() {
            Ok(n) if i64::try_from(n).is_ok() => f.offset = Some(n),
            _ => return Err(bad(format!("offset must be a number from 0 to {}, not '{o}'", i64::MAX))),
        }
    }
    f.limit = Some(match q.get("limit") {
        None => 100,
        Some(l) => match l.parse::<usize>() {
            Ok(n @ 1..=1000) => n,
            _ => return Err(bad(format!("limit must be a number from 1 to 1000, not '{l}'"))),
        },
    });
    Ok(f)
}

async fn sessions(State(ctx): State<ApiContext>, Query(q): Query<HashMap<String, String>>) -> Reply {
    let filter = session_filter(&q)?;
    let (list, total) = ctx
        .blocking(move |c| {
            c.with_store(|s| {
                let now = crate::util::now_ms();
                let list = list_sessions(s, &filter)?.iter().map(|r| SessionView::new(r, now)).collect::<Vec<_>>();
                Ok((list, count_sessions(s, &filter)?))
            })
        })
        .await?;
    Ok(Json(json!({ "sessions": list, "total": total })))
}

/// `GET /api/agents`: every agent, as `agentwatch agents --format json`.
async fn agents(State(ctx): State<ApiContext>) -> Reply {
    let list = ctx
        .blocking(|c| {
            let prices = c.prices();
            let sources = crate::ingest::default_sources();
            c.with_store(|s| crate::views::agents(s, &prices, &sources, Zone::Local, crate::util::now_ms()))
        })
        .await?;
    Ok(Json(json!({ "agents": list })))
}

async fn blocks(State(ctx): State<ApiContext>) -> Reply {
    let bs = ctx
        .blocking(|c| {
            let prices = c.prices();
            c.with_store(|s| {
                let now = crate::util::now_ms();
                let since = Some(Zone::Local.date_of(now) - chrono::Duration::days(2));
                let opts = crate::reports::ReportOptions { since, ..Default::default() };
                crate::reports::blocks(s, &prices, &opts, now)
            })
        })
        .await?;
    Ok(Json(json!({ "blocks": bs.iter().map(crate::reports::block_json).collect::<Vec<_>>() })))
}

async fn session(State(ctx): State<ApiContext>, Path(id): Path<String>) -> Reply {
    let detail = ctx
        .blocking(move |c| {
            let prices = c.prices();
            c.with_store(|s| {
                let row = find_session(s, &id)?;
                SessionDetail::load(s, &prices, &row, crate::util::now_ms())
            })
        })
        .await?;
    Ok(Json(serde_json::to_value(detail).expect("serializes")))
}

/// The range and grouping of `GET /api/costs`.
pub fn cost_params(q: &HashMap<String, String>) -> std::result::Result<(Range, String), ApiError> {
    let range = Range::parse(q.get("range").map_or("today", String::as_str)).map_err(|e| bad(e.to_string()))?;
    let group_by = q.get("groupBy").map_or("day", String::as_str).to_string();
    if !matches!(group_by.as_str(), "day" | "model" | "agent" | "project") {
        return Err(bad(format!("groupBy must be day, model, agent or project, not '{group_by}'")));
    }
    Ok((range, group_by))
}

async fn costs(State(ctx): State<ApiContext>, Query(q): Query<HashMap<String, String>>) -> Reply {
    let (range, group_by) = cost_params(&q)?;
    let summary = ctx
        .blocking(move |c| {
            let (prices, cfg) = (c.prices(), c.config());
            c.with_store(|s| cost_summary(s, &prices, &cfg, range, Zone::Local, crate::util::now_ms()))
        })
        .await?;
    let mut v = serde_json::to_value(&summary).expect("serializes");
    let groups = match group_by.as_str() {
        "day" => v["daily"].clone(),
        "model" => v["byModel"].clone(),
        "agent" => v["byAgent"].clone(),
        _ => v["byProject"].clone(),
    };
    v["groupBy"] = json!(group_by);
    v["groups"] = groups;
    Ok(Json(v))
}

async fn fleet(State(ctx): State<ApiContext>) -> Reply {
    let f = ctx
        .blocking(|c| {
            let cfg = c.config();
            c.with_store(|s| FleetHealth::load(s, &cfg, crate::util::now_ms()))
        })
        .await?;
    Ok(Json(serde_json::to_value(f).expect("serializes")))
}

async fn limits(State(ctx): State<ApiContext>) -> Reply {
    let r = ctx.blocking(|c| c.with_store(|s| crate::limits::report(s, crate::util::now_ms()))).await?;
    Ok(Json(serde_json::to_value(r).expect("serializes")))
}

/// `GET /metrics`: OpenMetrics text for Prometheus.
async fn metrics(State(ctx): State<ApiContext>) -> std::result::Result<axum::response::Response, ApiError> {
    let text = ctx
        .blocking(|c| {
            let (prices, cfg) = (c.prices(), c.config());
            let f = c.with_store(|s| {
                crate::figures::Figures::read(s, &prices, crate::util::now_ms(), cfg.metrics.project_label)
            })?;
            super::metrics::render(&f)
        })
        .await?;
    Ok(([(axum::http::header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)], text).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn an_offset_sqlite_cannot_take_is_a_bad_request() {
        // Found by the rest_query fuzz target: offset=17622349480036308992
        // passed, and the database then failed the query (a 500).
        for o in ["17622349480036308992", "9223372036854775808", "-1", "x"] {
            let e = session_filter(&query(&[("offset", o)])).unwrap_err();
            assert_eq!(e.0, StatusCode::BAD_REQUEST, "{o}");
        }
        let f = session_filter(&query(&[("offset", "9223372036854775807")])).unwrap();
        assert_eq!(f.offset, Some(i64::MAX as usize));
    }

    #[test]
    fn cost_params_default_and_refuse() {
        assert_eq!(cost_params(&query(&[])).unwrap(), (Range::Today, "day".to_string()));
        assert_eq!(cost_params(&query(&[("range", "7d"), ("groupBy", "model")])).unwrap().1, "model");
        assert_eq!(cost_params(&query(&[("groupBy", "week")])).unwrap_err().0, StatusCode::BAD_REQUEST);
    }
}
