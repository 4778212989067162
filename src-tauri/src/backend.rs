//! Where session and cost data come from: the app's own monitor (embed
//! mode) or a running `agentwatch daemon` (attach mode, through its HTTP
//! API). Commands call [`Backend`] and do not care which.
//!
//! Both modes answer with the JSON shapes of docs/desktop-ipc.md, which are
//! the shapes the REST API serves, so an answer is a `serde_json::Value`.

use std::collections::BTreeMap;
use std::time::Duration;

use agentwatch_core::api::{ApiContext, ApiInfo, session_filter};
use agentwatch_core::model::SessionState;
use agentwatch_core::paths::Dirs;
use agentwatch_core::reports::{Range, ReportOptions, Zone, block_json, blocks, cost_summary};
use agentwatch_core::store::{SessionFilter, count_sessions, find_session, list_sessions};
use agentwatch_core::util::now_ms;
use agentwatch_core::views::{SessionDetail, SessionView};
use agentwatch_core::{Error, Result};
use serde::Deserialize;
use serde_json::{Value, json};

/// `list_sessions`' filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListFilter {
    pub active: Option<bool>,
    pub state: Option<String>,
    pub agent: Option<String>,
    pub project: Option<String>,
    pub source: Option<String>,
    pub search: Option<String>,
    pub limit: Option<usize>,
}

impl ListFilter {
    fn limit(&self) -> usize {
        self.limit.unwrap_or(500).clamp(1, 1000)
    }

    fn state(&self) -> Result<Option<SessionState>> {
        match self.state.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s.parse::<SessionState>().map(Some).map_err(Error::Usage),
        }
    }

    /// The parameters every mode understands, as the REST API names them.
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        for (k, v) in
            [("agent", &self.agent), ("project", &self.project), ("source", &self.source), ("search", &self.search)]
        {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                p.push((k, v.clone()));
            }
        }
        p
    }
}

/// `history`' arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryArgs {
    pub range: String,
    pub limit: usize,
    pub offset: usize,
    pub agent: Option<String>,
    pub search: Option<String>,
}

impl HistoryArgs {
    fn params(&self) -> Result<BTreeMap<String, String>> {
        Range::parse(&self.range)?;
        if !(1..=1000).contains(&self.limit) {
            return Err(Error::Usage(format!("limit must be from 1 to 1000, not {}", self.limit)));
        }
        let mut q = BTreeMap::new();
        q.insert("range".to_string(), self.range.clone());
        q.insert("limit".to_string(), self.limit.to_string());
        q.insert("offset".to_string(), self.offset.to_string());
        for (k, v) in [("agent", &self.agent), ("search", &self.search)] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                q.insert(k.to_string(), v.clone());
            }
        }
        Ok(q)
    }
}

/// The cost ranges the Costs tab offers.
pub fn cost_range(name: &str) -> Result<Range> {
    match name {
        "today" | "7d" | "30d" | "thismonth" => Range::parse(name),
        _ => Err(Error::Usage(format!("unknown range '{name}' (expected today, 7d, 30d or thismonth)"))),
    }
}

pub enum Backend {
    /// This app runs the monitor (and serves the API).
    Embedded(Embedded),
    /// A daemon runs it; this app follows it through its API.
    Attached(Attached),
}

pub struct Embedded {
    pub ctx: ApiContext,
    pub monitor: Option<agentwatch_core::monitor::Handle>,
    /// Stops the API server, if this app serves one.
    pub stop_api: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    /// The data dir's monitor lock, held while the app lives.
    pub _lock: Option<agentwatch_core::monitor::Lock>,
}

impl Backend {
    pub fn mode(&self) -> &'static str {
        match self {
            Backend::Embedded(_) => "embedded",
            Backend::Attached(_) => "attached",
        }
    }

    /// `list_sessions`: `active` means not archived yet (live ones, and ended
    /// ones until they are cleared or reaped).
    pub fn list_sessions(&self, f: &ListFilter) -> Result<Vec<Value>> {
        let state = f.state()?;
        match self {
            Backend::Embedded(e) => {
                let mut q: BTreeMap<String, String> = f.params().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                q.insert("limit".into(), f.limit().to_string());
                let mut filter = to_filter(&q)?;
                if let Some(s) = state {
                    filter.states = vec![s];
                }
                filter.not_archived = f.active == Some(true);
                e.ctx.with_store(|s| {
                    let now = now_ms();
                    Ok(list_sessions(s, &filter)?.iter().map(|r| view(&SessionView::new(r, now))).collect())
                })
            }
            Backend::Attached(a) => {
                let base = f.params();
                let limit = f.limit().to_string();
                let get = |extra: &[(&'static str, String)]| -> Result<Vec<Value>> {
                    let mut p = base.clone();
                    p.extend(extra.iter().cloned());
                    let v = a.get("/api/sessions", &p)?;
                    Ok(v["sessions"].as_array().cloned().unwrap_or_default())
                };
                if f.active != Some(true) {
                    let mut extra = vec![("limit", limit)];
                    if let Some(s) = state {
                        extra.push(("state", s.as_str().to_string()));
                    }
                    return get(&extra);
                }
                // The API's `active` is "live and not archived"; ended sessions
                // not archived yet are asked for separately.
                let mut out = match state {
                    Some(s) if s.is_live() => {
                        get(&[("active", "true".into()), ("state", s.as_str().into()), ("limit", limit)])?
                    }
                    Some(s) => get(&[("state", s.as_str().into()), ("limit", "1000".into())])?,
                    None => {
                        let mut v = get(&[("active", "true".into()), ("limit", limit)])?;
                        v.extend(get(&[("ended", "true".into()), ("limit", "1000".into())])?);
                        v
                    }
                };
                out.retain(|s| s["archived"] != true);
                out.sort_by(|x, y| {
                    y["lastActivity"].as_str().unwrap_or("").cmp(x["lastActivity"].as_str().unwrap_or(""))
                });
                out.truncate(f.limit());
                Ok(out)
            }
        }
    }

    pub fn history(&self, h: &HistoryArgs) -> Result<Value> {
        let q = h.params()?;
        match self {
            Backend::Embedded(e) => {
                let filter = to_filter(&q)?;
                e.ctx.with_store(|s| {
                    let now = now_ms();
                    let list: Vec<Value> =
                        list_sessions(s, &filter)?.iter().map(|r| view(&SessionView::new(r, now))).collect();
                    Ok(json!({ "sessions": list, "total": count_sessions(s, &filter)? }))
                })
            }
            Backend::Attached(a) => {
                let p: Vec<(&str, String)> = q.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                let v = a.get("/api/sessions", &p)?;
                Ok(json!({ "sessions": v["sessions"], "total": v["total"] }))
            }
        }
    }

    pub fn get_session(&self, id: &str) -> Result<Value> {
        match self {
            Backend::Embedded(e) => {
                let prices = e.ctx.prices();
                e.ctx.with_store(|s| {
                    let row = find_session(s, id)?;
                    Ok(serde_json::to_value(SessionDetail::load(s, &prices, &row, now_ms())?).expect("serializes"))
                })
            }
            Backend::Attached(a) => a.get(&format!("/api/sessions/{}", encode(id.trim())), &[]),
        }
    }

    pub fn cost_summary(&self, range: Range) -> Result<Value> {
        match self {
            Backend::Embedded(e) => {
                let (prices, cfg) = (e.ctx.prices(), e.ctx.config());
                e.ctx.with_store(|s| {
                    let c = cost_summary(s, &prices, &cfg, range, Zone::Local, now_ms())?;
                    Ok(serde_json::to_value(c).expect("serializes"))
                })
            }
            Backend::Attached(a) => {
                let mut v = a.get("/api/costs", &[("range", range.name().to_string())])?;
                if let Some(o) = v.as_object_mut() {
                    o.remove("groupBy");
                    o.remove("groups");
                }
                Ok(v)
            }
        }
    }

    /// Every agent with its sessions and costs (`{agents}`, as `GET
    /// /api/agents` and `agentwatch agents --format json`); embedded, with
    /// where the app's `sources` read.
    pub fn agents(&self, sources: &[Box<dyn agentwatch_core::sources::Source>]) -> Result<Value> {
        match self {
            Backend::Embedded(e) => {
                let prices = e.ctx.prices();
                e.ctx.with_store(|s| {
                    let list = agentwatch_core::views::agents(s, &prices, sources, Zone::Local, now_ms())?;
                    Ok(json!({ "agents": list }))
                })
            }
            Backend::Attached(a) => a.get("/api/agents", &[]),
        }
    }

    /// The plan windows (`{limits, plans}`, as `GET /api/limits`).
    pub fn limits(&self) -> Result<Value> {
        match self {
            Backend::Embedded(e) => e.ctx.with_store(|s| {
                Ok(serde_json::to_value(agentwatch_core::limits::report(s, now_ms())?).expect("serializes"))
            }),
            Backend::Attached(a) => a.get("/api/limits", &[]),
        }
    }

    pub fn cost_blocks(&self) -> Result<Value> {
        match self {
            Backend::Embedded(e) => {
                let prices = e.ctx.prices();
                e.ctx.with_store(|s| {
                    let now = now_ms();
                    // As the API: the blocks of the last three days.
                    let since = Some(Zone::Local.date_of(now) - chrono::Duration::days(2));
                    let opts = ReportOptions { since, ..Default::default() };
                    let bs = blocks(s, &prices, &opts, now)?;
                    Ok(json!({ "blocks": bs.iter().map(block_json).collect::<Vec<_>>() }))
                })
            }
            Backend::Attached(a) => a.get("/api/blocks", &[]),
        }
    }

    /// Settings changed: the running monitor and the API re-read them.
    pub fn reload(&self) -> Result<()> {
        match self {
            Backend::Embedded(e) => {
                if let Some(m) = &e.monitor {
                    m.reload();
                }
                e.ctx.reload()
            }
            // The daemon owns its monitor; it reads settings when it starts.
            Backend::Attached(_) => Ok(()),
        }
    }

    /// Stops what this app started (monitor, API server).
    pub fn shutdown(&self) {
        if let Backend::Embedded(e) = self {
            if let Some(m) = &e.monitor {
                m.shutdown();
            }
            if let Some(tx) = e.stop_api.lock().expect("api lock").take() {
                let _ = tx.send(());
            }
        }
    }
}

fn view(v: &SessionView) -> Value {
    serde_json::to_value(v).expect("serializes")
}

fn to_filter(q: &BTreeMap<String, String>) -> Result<SessionFilter> {
    let map = q.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    session_filter(&map).map_err(|e| Error::Usage(e.1))
}

/// A client of a running daemon's API.
pub struct Attached {
    pub dirs: Dirs,
    /// The daemon's pid.
    pub pid: u32,
    agent: ureq::Agent,
}

impl Attached {
    pub fn new(dirs: &Dirs, pid: u32) -> Attached {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Attached { dirs: dirs.clone(), pid, agent }
    }

    /// The daemon's port and token, from `api.json` (read every time: the
    /// daemon may have restarted or the token been rotated).
    pub fn info(&self) -> Result<ApiInfo> {
        ApiInfo::read(&self.dirs)?.ok_or_else(|| {
            Error::Other(format!(
                "the agentwatch daemon (pid {}) serves no API ({} is missing); restart it without --no-api",
                self.pid,
                self.dirs.data.join("api.json").display()
            ))
        })
    }

    pub fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Value> {
        let info = self.info()?;
        let url = url(info.port, path, params);
        let mut resp = self
            .agent
            .get(&url)
            .header("Authorization", &format!("Bearer {}", info.token))
            .call()
            .map_err(|e| Error::Other(format!("the agentwatch daemon does not answer: {e}")))?;
        let status = resp.status();
        let v: Value = resp
            .body_mut()
            .read_json()
            .map_err(|e| Error::Other(format!("the agentwatch daemon sent a bad answer: {e}")))?;
        match status.as_u16() {
            200..=299 => Ok(v),
            code => {
                let msg = v["error"].as_str().map(str::to_string).unwrap_or_else(|| format!("HTTP {code}"));
                Err(match code {
                    400 => Error::Usage(msg),
                    404 => Error::NotFound(msg),
                    _ => Error::Other(msg),
                })
            }
        }
    }
}

pub fn url(port: u16, path: &str, params: &[(&str, String)]) -> String {
    let mut u = format!("http://127.0.0.1:{port}{path}");
    for (i, (k, v)) in params.iter().enumerate() {
        u.push(if i == 0 { '?' } else { '&' });
        u.push_str(&encode(k));
        u.push('=');
        u.push_str(&encode(v));
    }
    u
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_every_parameter() {
        assert_eq!(encode("a b/ü&?"), "a%20b%2F%C3%BC%26%3F");
        assert_eq!(
            url(47821, "/api/sessions", &[("search", "web app".into()), ("limit", "5".into())]),
            "http://127.0.0.1:47821/api/sessions?search=web%20app&limit=5"
        );
    }

    #[test]
    fn history_arguments_are_checked() {
        let h = HistoryArgs { range: "fortnight".into(), limit: 10, offset: 0, agent: None, search: None };
        assert!(h.params().unwrap_err().is_usage());
        let h = HistoryArgs { range: "7d".into(), limit: 0, offset: 0, agent: None, search: None };
        assert!(h.params().unwrap_err().to_string().contains("limit"));
        assert!(cost_range("yesterday").is_err() && cost_range("30d").is_ok());
    }
}
