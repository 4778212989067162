//! The figures a team's observability stack gets from agentwatch: the same
//! for Prometheus (`GET /metrics`, [`crate::api::metrics`]) and for an
//! OpenTelemetry Collector (`[export.otlp]`, [`crate::export`]).
//!
//! | series | kind | labels |
//! |---|---|---|
//! | `agentwatch_sessions` | gauge | `agent`, `state`: every session agentwatch knows |
//! | `agentwatch_tokens` | counter | `agent`, `model`, `kind` (input, output, cache_read, cache_write, reasoning) |
//! | `agentwatch_cost_usd` | counter | `agent`, `model`: the priced part |
//! | `agentwatch_alerts` | counter | `kind` |
//! | `agentwatch_limit_used_percent` | gauge | `agent`, `window` (5h, week): plan windows |
//! | `agentwatch_ingest_seconds` | gauge | the last ingest that read new bytes |
//!
//! Every value is read from the store when asked for, so the counters are
//! the totals of the whole history: they only grow while the database is
//! kept. Project paths are a label of the usage series only when
//! `[metrics] project_label = true`.

use std::collections::{BTreeMap, HashMap};

use crate::error::Result;
use crate::pricing::PriceBook;
use crate::store::{RollupGroup, Store, UsageFilter, rollup};

/// The `kind` label of the token counter, in [`UsageFigure::tokens`] order.
pub const TOKEN_KINDS: [&str; 5] = ["input", "output", "cache_read", "cache_write", "reasoning"];

/// Everything exported, at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// (agent, state, sessions).
    pub sessions: Vec<(String, String, i64)>,
    pub usage: Vec<UsageFigure>,
    /// (kind, alerts raised).
    pub alerts: Vec<(String, u64)>,
    /// (agent, window, percent used).
    pub limits: Vec<(String, String, f64)>,
    pub ingest_seconds: f64,
}

/// The usage of one agent's model (in one project, when projects are a
/// label), over the whole history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageFigure {
    pub agent: String,
    pub model: String,
    pub project: Option<String>,
    /// In [`TOKEN_KINDS`] order.
    pub tokens: [u64; 5],
    pub cost_usd: f64,
}

impl UsageFigure {
    /// The labels of the series, without `kind`.
    pub fn labels(&self) -> Vec<(&'static str, &str)> {
        let mut l = vec![("agent", self.agent.as_str()), ("model", self.model.as_str())];
        if let Some(p) = &self.project {
            l.push(("project", p.as_str()));
        }
        l
    }
}

impl Figures {
    pub fn read(store: &Store, prices: &PriceBook, now: i64, project_label: bool) -> Result<Figures> {
        let projects: HashMap<i64, String> = if project_label { store.session_projects()? } else { HashMap::new() };
        // (agent, model, project) → (tokens by kind, cost).
        type Key = (String, String, Option<String>);
        let mut usage: BTreeMap<Key, ([u64; 5], f64)> = BTreeMap::new();
        for r in rollup(store, &UsageFilter::default(), RollupGroup::Session)? {
            let project = project_label.then(|| projects.get(&r.session).cloned().unwrap_or_default());
            let e = usage.entry((r.agent.to_string(), r.model.to_string(), project)).or_default();
            let t = &r.tokens.tokens;
            let kinds = [t.input, t.output, t.cache_read, t.cache_write_5m + t.cache_write_1h, t.reasoning];
            for (sum, v) in e.0.iter_mut().zip(kinds) {
                *sum += v;
            }
            e.1 += r.cost(prices).usd.unwrap_or(0.0);
        }
        let last =
            store.meta(crate::store::LAST_INGEST)?.and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
        Ok(Figures {
            sessions: store.session_counts()?,
            usage: usage
                .into_iter()
                .map(|((agent, model, project), (tokens, cost_usd))| UsageFigure {
                    agent,
                    model,
                    project,
                    tokens,
                    cost_usd,
                })
                .collect(),
            alerts: store.alert_counts()?.into_iter().map(|(k, n)| (k, n.max(0) as u64)).collect(),
            limits: crate::limits::current(store, now)?
                .into_iter()
                .map(|l| (l.agent, l.window, l.used_percent))
                .collect(),
            ingest_seconds: last.and_then(|v| v["seconds"].as_f64()).unwrap_or(0.0),
        })
    }
}
