//! The serialized shape of a session: one type for the CLI's `--format json`
//! and the REST API.
//!
//! Field names follow two established session APIs so existing scripts keep
//! working: Routa's (`sessionId, name, workspaceId, createdAt, lastActivity,
//! status`) and Remb's (`agentLabel, ideType, source, toolCallCount,
//! lastToolName, lastActiveAt, startedAt, errorCount`), next to agentwatch's
//! own.

use serde::Serialize;

use crate::liveness::{Signal, WaitingFor, effective_state};
use crate::model::{PendingTool, SessionState, Tokens, agent_display_name};
use crate::store::SessionRow;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub input: u64,
    pub output: u64,
    pub cache_creation: u64,
    pub cache_read: u64,
    pub reasoning: u64,
    pub total: u64,
}

impl From<&Tokens> for TokenView {
    fn from(t: &Tokens) -> Self {
        TokenView {
            input: t.input,
            output: t.output,
            cache_creation: t.cache_creation(),
            cache_read: t.cache_read,
            reasoning: t.reasoning,
            total: t.total(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    // Routa's fields.
    pub session_id: String,
    pub name: Option<String>,
    pub workspace_id: Option<String>,
    pub created_at: String,
    pub last_activity: String,
    /// `active`, `idle` or `closed`.
    pub status: &'static str,
    // Remb's fields.
    pub agent_label: String,
    pub ide_type: Option<String>,
    pub source: String,
    pub tool_call_count: u64,
    pub last_tool_name: Option<String>,
    pub last_active_at: String,
    pub started_at: String,
    pub error_count: u64,
    // agentwatch's own.
    /// Agent type id.
    pub agent: String,
    pub state: SessionState,
    /// Whether the session is live ([`SessionState::is_live`]): the one
    /// answer every shell shows.
    pub live: bool,
    /// What a waiting session waits for: `permission`, `question` or `input`.
    pub waiting_for: Option<WaitingFor>,
    /// The tool a permission prompt or question is about.
    pub pending_tool: Option<PendingTool>,
    /// The signal that decided the state: registry, hook, transcript,
    /// process, mcp or otel.
    pub state_signal: Option<Signal>,
    pub pid: Option<u32>,
    pub project_path: Option<String>,
    /// The costliest model.
    pub model: Option<String>,
    pub models: Vec<String>,
    pub tokens: TokenView,
    pub cost_usd: Option<f64>,
    pub price_source: Option<String>,
    pub unpriced_models: Vec<String>,
    /// How the agent's files record usage: `tokens`, `cost-only`,
    /// `not-recorded` (Cursor's: never shown as $0), `approximate`.
    pub usage_kind: crate::sources::UsageKind,
    /// Said beside the cost when it is not tokens per call
    /// ("Cursor Agent: usage not recorded by Cursor").
    pub usage_note: Option<String>,
    pub heartbeat_age_seconds: Option<i64>,
    pub ended_at: Option<String>,
    pub duration_seconds: i64,
    pub external_id: Option<String>,
    pub agent_version: Option<String>,
    pub transcript_path: Option<String>,
    /// The process's command line, as one string.
    pub command: Option<String>,
    /// CPU of the agent's process tree at the last scan, % of one core.
    pub cpu: Option<f64>,
    /// Resident memory of the agent's process tree at the last scan.
    pub memory_bytes: Option<u64>,
    /// Self-reported (hooks, MCP): CacheBash's program id, progress 0–100,
    /// status line, context size and hand-off flag.
    pub program_id: Option<String>,
    pub progress: Option<i64>,
    pub status_text: Option<String>,
    pub context_bytes: Option<i64>,
    pub handoff_required: Option<bool>,
    pub state_changed_at: Option<String>,
    pub archived: bool,
}

pub use crate::util::iso;

impl SessionView {
    pub fn new(s: &SessionRow, now_ms: i64) -> SessionView {
        let state = effective_state(s.state, s.last_activity, s.live.state_changed_at.is_some(), now_ms);
        let status = match state {
            SessionState::Working | SessionState::Waiting => "active",
            SessionState::Idle | SessionState::Stale | SessionState::Pinned => "idle",
            SessionState::Completed | SessionState::Dead => "closed",
        };
        let end = s.ended_at.unwrap_or(if state.is_live() { now_ms } else { s.last_activity });
        let usage = crate::sources::agent_info(&s.agent);
        let kind = usage.map_or(crate::sources::UsageKind::Tokens, |a| a.usage_of(s.external_id.as_deref()));
        SessionView {
            session_id: s.id.clone(),
            name: s.name.clone(),
            workspace_id: s.project_path.clone(),
            created_at: iso(s.started_at),
            last_activity: iso(s.last_activity),
            status,
            agent_label: s.agent_label.clone().unwrap_or_else(|| agent_display_name(&s.agent).to_string()),
            ide_type: s.live.ide_type.clone(),
            source: s.source.clone(),
            tool_call_count: s.live.tool_calls,
            last_tool_name: s.live.last_tool.clone(),
            last_active_at: iso(s.last_activity),
            started_at: iso(s.started_at),
            error_count: s.live.errors,
            agent: s.agent.clone(),
            state,
            live: state.is_live(),
            waiting_for: s.live.waiting_for.filter(|_| state == SessionState::Waiting),
            pending_tool: s.live.pending_tool.clone().filter(|_| state == SessionState::Waiting),
            state_signal: s.live.state_signal,
            pid: s.live.pid,
            project_path: s.project_path.clone(),
            model: s.models.first().cloned(),
            models: s.models.clone(),
            tokens: TokenView::from(&s.tokens),
            cost_usd: s.cost_usd,
            price_source: s.cost_source.clone(),
            unpriced_models: s.unpriced_models.clone(),
            usage_kind: kind,
            usage_note: usage
                .filter(|_| kind != crate::sources::UsageKind::Tokens)
                .map(|a| kind.describe(a.display, a.short)),
            heartbeat_age_seconds: s.live.heartbeat_at.map(|h| ((now_ms - h) / 1000).max(0)),
            ended_at: s.ended_at.map(iso),
            duration_seconds: ((end - s.started_at) / 1000).max(0),
            external_id: s.external_id.clone(),
            agent_version: s.agent_version.clone(),
            transcript_path: s.transcript_path.clone(),
            command: s.live.command.clone(),
            cpu: s.live.cpu,
            memory_bytes: s.live.memory,
            program_id: s.live.program_id.clone(),
            progress: s.live.progress,
            status_text: s.live.status_text.clone(),
            context_bytes: s.live.context_bytes,
            handoff_required: s.live.handoff_required,
            state_changed_at: s.live.state_changed_at.map(iso),
            archived: s.live.archived,
        }
    }
}

/// A model's share of a session, with provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelBreakdown {
    pub model_name: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    /// None: no known price.
    pub cost: Option<f64>,
    pub price_source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateChangeView {
    pub at: String,
    pub from: Option<SessionState>,
    pub to: SessionState,
    pub reason: Option<String>,
    /// The collector's scan number that decided it (None: decided elsewhere,
    /// e.g. by `kill`).
    pub scan: Option<u64>,
    /// What the session waited for, when `to` is waiting.
    pub waiting_for: Option<WaitingFor>,
    /// The signal that decided it (None: recorded by an older version).
    pub signal: Option<Signal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolCallView {
    pub at: String,
    pub tool: String,
    pub source: String,
    pub is_error: bool,
}

/// Everything about one session: the CLI's `sessions show --format json`,
/// the API's `GET /api/sessions/{id}`, the desktop detail window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetail {
    pub session: SessionView,
    pub models: Vec<ModelBreakdown>,
    pub state_history: Vec<StateChangeView>,
    pub tool_calls: Vec<ToolCallView>,
    pub alerts: Vec<crate::alerts::Alert>,
    /// How much of each current plan window this session used (about).
    pub limit_shares: Vec<crate::limits::Share>,
    /// The same as a phrase: "about 31 % of your 5-hour window".
    pub limit_share: Option<String>,
    /// Context window use, as the agent's status line last said (Claude Code).
    pub context_percent: Option<f64>,
    /// The session's cost as the agent itself counts it (Claude Code's
    /// status line), next to agentwatch's own from the transcript.
    pub agent_cost_usd: Option<f64>,
    /// Model calls the agent's telemetry reported that its transcript does
    /// not have yet: live, not yet in the totals above.
    pub live_usage: Option<LiveUsage>,
}

/// Usage reported by an agent's OpenTelemetry ahead of its transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveUsage {
    pub calls: usize,
    pub tokens: crate::model::Tokens,
    /// The agent's own figure where it sends one, else priced like the
    /// transcript's; `None`: a model without a price.
    pub cost_usd: Option<f64>,
    pub source: &'static str,
}

impl LiveUsage {
    pub fn of(calls: &[crate::store::PendingCall], prices: &crate::pricing::PriceBook) -> Option<LiveUsage> {
        if calls.is_empty() {
            return None;
        }
        let mut tokens = crate::model::Tokens::default();
        let mut cost = Some(0.0);
        for c in calls {
            let t = &c.tokens;
            tokens.input += t.input;
            tokens.output += t.output;
            tokens.cache_read += t.cache_read;
            tokens.cache_write_5m += t.cache_write_5m;
            tokens.reasoning += t.reasoning;
            let priced = c.cost_usd.or_else(|| {
                let m = prices.lookup(&c.model)?;
                Some(m.price.cost(&crate::pricing::TieredTokens::of_event(t), false))
            });
            cost = cost.zip(priced).map(|(a, b)| a + b);
        }
        Some(LiveUsage { calls: calls.len(), tokens, cost_usd: cost, source: "otel" })
    }
}

impl SessionDetail {
    pub fn load(
        store: &crate::store::Store,
        prices: &crate::pricing::PriceBook,
        s: &SessionRow,
        now_ms: i64,
    ) -> crate::Result<SessionDetail> {
        let usage = crate::store::session_usage(store, s.pk)?;
        let (_, models) = crate::reports::models_of(&usage, prices);
        let models = models
            .iter()
            .map(|m| ModelBreakdown {
                model_name: m.model.clone(),
                input_tokens: m.summary.tokens.input,
                output_tokens: m.summary.tokens.output,
                cache_creation_tokens: m.summary.tokens.cache_creation(),
                cache_read_tokens: m.summary.tokens.cache_read,
                cost: m.summary.cost(),
                price_source: m.summary.source_text(),
            })
            .collect();
        let state_history = store
            .state_history(s.pk)?
            .into_iter()
            .map(|t| StateChangeView {
                at: iso(t.at),
                from: t.from,
                to: t.to,
                reason: (!t.reason.is_empty()).then_some(t.reason),
                scan: t.scan,
                waiting_for: t.waiting_for,
                signal: t.signal,
            })
            .collect();
        let tool_calls = store
            .tool_calls(s.pk, 200)?
            .into_iter()
            .map(|c| ToolCallView { at: iso(c.at), tool: c.tool, source: c.source, is_error: c.is_error })
            .collect();
        let alerts = crate::alerts::for_session(store, s.pk)?;
        let limit_shares = crate::limits::session_shares(store, &s.agent, s.pk, now_ms)?;
        let limit_share = crate::limits::shares_sentence(&limit_shares);
        let reported = match &s.external_id {
            Some(id) => store.statusline_report(&s.agent, id)?,
            None => None,
        };
        Ok(SessionDetail {
            session: SessionView::new(s, now_ms),
            models,
            state_history,
            tool_calls,
            alerts,
            limit_shares,
            limit_share,
            context_percent: reported.as_ref().and_then(|r| r.context_percent),
            agent_cost_usd: reported.as_ref().and_then(|r| r.cost_usd),
            live_usage: LiveUsage::of(&store.pending_calls(s.pk)?, prices),
        })
    }
}

/// Heartbeat age per agent type and per program.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetHealth {
    pub generated_at: String,
    pub agents: Vec<FleetEntry>,
    pub programs: Vec<FleetEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetEntry {
    pub key: String,
    pub label: String,
    /// Sessions not archived and not ended.
    pub live_sessions: u64,
    pub stale_sessions: u64,
    pub last_heartbeat: Option<String>,
    pub heartbeat_age_seconds: Option<i64>,
    pub last_activity: Option<String>,
    /// No heartbeat within the agent's threshold.
    pub stale: bool,
}

impl FleetHealth {
    pub fn load(store: &crate::store::Store, cfg: &crate::config::Config, now_ms: i64) -> crate::Result<FleetHealth> {
        let rows = crate::store::list_sessions(
            store,
            &crate::store::SessionFilter {
                states: SessionState::ALL.into_iter().filter(|s| s.is_live()).collect(),
                ..Default::default()
            },
        )?;
        let mut agents: std::collections::BTreeMap<String, Vec<&SessionRow>> = Default::default();
        let mut programs: std::collections::BTreeMap<String, Vec<&SessionRow>> = Default::default();
        for s in rows.iter().filter(|s| !s.live.archived) {
            agents.entry(s.agent.clone()).or_default().push(s);
            if let Some(p) = &s.live.program_id {
                programs.entry(p.clone()).or_default().push(s);
            }
        }
        let entry = |key: &str, label: String, list: &[&SessionRow]| {
            let hb = list.iter().filter_map(|s| s.live.heartbeat_at).max();
            let stale_after = list.iter().map(|s| cfg.stale_after_ms(&s.agent)).min().unwrap_or(900_000);
            FleetEntry {
                key: key.to_string(),
                label,
                live_sessions: list.len() as u64,
                stale_sessions: list.iter().filter(|s| s.state == SessionState::Stale).count() as u64,
                last_heartbeat: hb.map(iso),
                heartbeat_age_seconds: hb.map(|h| ((now_ms - h) / 1000).max(0)),
                last_activity: list.iter().map(|s| s.last_activity).max().map(iso),
                stale: hb.is_some_and(|h| now_ms - h > stale_after),
            }
        };
        Ok(FleetHealth {
            generated_at: iso(now_ms),
            agents: agents.iter().map(|(k, v)| entry(k, agent_display_name(k).to_string(), v)).collect(),
            programs: programs.iter().map(|(k, v)| entry(k, k.clone(), v)).collect(),
        })
    }
}

/// An agent agentwatch knows: what it reads of it, where, and what the
/// database holds of it (`agentwatch agents`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentView {
    pub id: String,
    pub name: String,
    /// Its folders exist, or sessions of it were seen.
    pub found: bool,
    /// Token usage is read from its files.
    pub usage: bool,
    /// How its files record usage (`tokens`, `cost-only`, `not-recorded`, `approximate`);
    /// none when its files are not read.
    pub usage_kind: Option<crate::sources::UsageKind>,
    /// Said of its usage when it is not tokens per call ("Cursor Agent:
    /// usage not recorded by Cursor"), as sessions' `usageNote`.
    pub usage_note: Option<String>,
    /// It sends hook (or plugin) events agentwatch reads.
    pub hooks: bool,
    /// Its OpenTelemetry is read (`agentwatch telemetry install`).
    pub telemetry: bool,
    /// The folders its files are read from (none: only its processes are
    /// recognised).
    pub paths: Vec<AgentPath>,
    pub sessions: i64,
    /// Sessions live now (working, waiting, idle).
    pub live: i64,
    /// Its usage and cost over the last 30 days (today included), and where
    /// the cost comes from: none (`null`, "not recorded", "no usage"),
    /// never $0, where nothing was recorded.
    pub last_30_days: crate::reports::AgentUsage,
    /// The same over all the usage the database holds.
    pub all_time: crate::reports::AgentUsage,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentPath {
    pub path: String,
    pub exists: bool,
}

/// Every agent agentwatch knows, in [`crate::model::AGENTS`] order, then any
/// other agent the database has sessions of (an MCP client by its name):
/// `agentwatch agents`, `GET /api/agents` and the app's Agents tab. Dates
/// are calendar days in `zone`.
pub fn agents(
    store: &crate::store::Store,
    prices: &crate::pricing::PriceBook,
    sources: &[Box<dyn crate::sources::Source>],
    zone: crate::reports::Zone,
    now_ms: i64,
) -> crate::Result<Vec<AgentView>> {
    // The folders of an agent that keeps no list of them (Aider's
    // repositories): where the store knows it ran.
    crate::ingest::follow_store(store, sources)?;
    let counts = store.counts_per_agent()?;
    let usage = crate::reports::usage_per_agent(store, prices, zone, now_ms)?;
    let none = Default::default();
    let count = |id: &str| counts.iter().find(|(a, _, _)| a == id).map_or((0, 0), |(_, n, l)| (*n, *l));
    let mut ids: Vec<String> = crate::model::AGENTS.iter().map(|a| a.id.to_string()).collect();
    ids.extend(counts.iter().map(|(a, _, _)| a.clone()).filter(|a| !crate::model::AGENTS.iter().any(|k| k.id == a)));
    Ok(ids
        .into_iter()
        .map(|id| {
            let src = sources.iter().find(|s| s.agent() == id);
            let paths: Vec<AgentPath> = src
                .map(|s| s.data_paths())
                .unwrap_or_default()
                .into_iter()
                .map(|p| AgentPath { exists: p.is_dir(), path: p.display().to_string() })
                .collect();
            let (sessions, live) = count(&id);
            let usage_kind = src
                .map(|s| s.usage_kind())
                .filter(|k| *k != crate::sources::UsageKind::Tokens || src.is_some_and(|s| s.reads_usage()));
            let (last_30, all) = usage.get(&id).unwrap_or(&none);
            AgentView {
                name: agent_display_name(&id).to_string(),
                found: sessions > 0 || paths.iter().any(|p| p.exists),
                usage: src.is_some_and(|s| s.reads_usage()),
                usage_kind,
                usage_note: usage_kind.filter(|k| *k != crate::sources::UsageKind::Tokens).map(|k| {
                    let maker = crate::sources::agent_info(&id).map_or(agent_display_name(&id), |i| i.short);
                    k.describe(agent_display_name(&id), maker)
                }),
                last_30_days: crate::reports::AgentUsage::of(usage_kind, last_30),
                all_time: crate::reports::AgentUsage::of(usage_kind, all),
                hooks: src.is_some_and(|s| s.has_hooks()),
                telemetry: src.is_some_and(|s| s.otel_prefix().is_some()),
                paths,
                sessions,
                live,
                id,
            }
        })
        .collect())
}
