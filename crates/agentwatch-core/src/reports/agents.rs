//! Each agent's usage over the last 30 days and all time, with where its
//! cost comes from: what `agentwatch agents`, `GET /api/agents` and the
//! app's Agents tab show beside each agent ([`crate::views::agents`]).
//!
//! A cost is a number only where one was recorded or priced: an agent that
//! keeps no usage (Cursor's CLI), or used nothing in the period, has none
//! (`null`), never $0.

use std::collections::HashMap;

use chrono::Duration;
use serde::Serialize;

use super::{Summary, Zone};
use crate::error::Result;
use crate::pricing::{PriceBook, PriceSource};
use crate::sources::UsageKind;
use crate::store::{BUCKET_MS, RollupGroup, Store, UsageFilter, rollup_hourly};
use crate::views::TokenView;

/// Where an agent's cost figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CostProvenance {
    /// The agent's own recorded cost, in its files.
    Transcript,
    /// Priced from its tokens by the price list.
    Priced,
    /// Some calls the agent priced itself, the rest by the price list.
    TranscriptAndPriced,
    /// Tokens and cost as the agent rounded them when it wrote them (Aider).
    Approximate,
    /// The agent's own cost; its files keep no tokens (Crush).
    CostOnly,
    /// Tokens were used, but no model of them has a known price.
    Unpriced,
    /// The agent keeps no usage in its files (Cursor's CLI), or its files
    /// are not read: no figure, never $0.
    NotRecorded,
    /// Nothing was used in the period.
    NoUsage,
}

impl CostProvenance {
    /// For people: what the cost figure is.
    pub fn text(self) -> &'static str {
        match self {
            CostProvenance::Transcript => "transcript",
            CostProvenance::Priced => "priced",
            CostProvenance::TranscriptAndPriced => "transcript + priced",
            CostProvenance::Approximate => "approximate",
            CostProvenance::CostOnly => "cost only (tokens unknown)",
            CostProvenance::Unpriced => "unknown price",
            CostProvenance::NotRecorded => "not recorded",
            CostProvenance::NoUsage => "no usage",
        }
    }
}

/// An agent's usage over a period, and where its cost comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentUsage {
    /// Model calls counted.
    pub calls: u64,
    /// None: the agent keeps no tokens (cost only, not recorded), or used
    /// nothing in the period.
    pub tokens: Option<TokenView>,
    /// None: not recorded, nothing used, or no known price. Never $0 for
    /// those.
    pub cost_usd: Option<f64>,
    pub provenance: CostProvenance,
    /// [`CostProvenance::text`], for people, with `+ unknown price` when
    /// the cost leaves out models without a price
    /// (`priced + unknown price`).
    pub provenance_text: String,
    /// The price lists and transcripts the cost comes from
    /// (`snapshot 2026-09-20 + transcript`, as sessions' `priceSource`);
    /// none when nothing was priced.
    pub price_source: Option<String>,
    /// Models counted in tokens but without a price (not in the cost).
    pub unpriced_models: Vec<String>,
}

impl AgentUsage {
    /// The figures of an agent whose files record usage as `kind` (none:
    /// its files are not read) and whose usage in the period sums to `s`.
    pub fn of(kind: Option<UsageKind>, s: &Summary) -> AgentUsage {
        let provenance = match kind {
            Some(UsageKind::NotRecorded) => CostProvenance::NotRecorded,
            None if s.events == 0 => CostProvenance::NotRecorded,
            _ if s.events == 0 => CostProvenance::NoUsage,
            Some(UsageKind::CostOnly) => CostProvenance::CostOnly,
            Some(UsageKind::Approximate) => CostProvenance::Approximate,
            // Tokens per call; an agent of which something else recorded
            // usage (an MCP client through the proxy) is counted the same.
            Some(UsageKind::Tokens) | None => {
                let transcript = s.sources.contains(&PriceSource::Transcript);
                let listed = s.sources.iter().any(|p| *p != PriceSource::Transcript);
                match (transcript, listed) {
                    (true, false) => CostProvenance::Transcript,
                    (false, true) => CostProvenance::Priced,
                    (true, true) => CostProvenance::TranscriptAndPriced,
                    (false, false) => CostProvenance::Unpriced,
                }
            }
        };
        let recorded = !matches!(provenance, CostProvenance::NotRecorded | CostProvenance::NoUsage);
        let tokens = recorded && provenance != CostProvenance::CostOnly;
        AgentUsage {
            calls: if recorded { s.events } else { 0 },
            tokens: tokens.then(|| TokenView::from(&s.tokens)),
            cost_usd: if recorded { s.cost() } else { None },
            provenance,
            provenance_text: match provenance {
                CostProvenance::NotRecorded | CostProvenance::NoUsage | CostProvenance::Unpriced => {
                    provenance.text().into()
                }
                _ if !s.unpriced.is_empty() => format!("{} + unknown price", provenance.text()),
                _ => provenance.text().into(),
            },
            price_source: (recorded && s.priced)
                .then(|| s.sources.iter().map(PriceSource::to_string).collect::<Vec<_>>().join(" + ")),
            unpriced_models: if recorded { s.unpriced.iter().cloned().collect() } else { Vec::new() },
        }
    }
}

/// Each agent's usage (by agent type id): over the last 30 days (today
/// included, calendar days in `zone`, as `Range::Days30`), and all time.
pub fn usage_per_agent(
    store: &Store,
    prices: &PriceBook,
    zone: Zone,
    now_ms: i64,
) -> Result<HashMap<String, (Summary, Summary)>> {
    let today = zone.date_of(now_ms);
    let first = today - Duration::days(29);
    // All of it at once; an hour that holds a local midnight is read by
    // its quarters, so that each row lies within one day.
    let rows = rollup_hourly(store, &UsageFilter::default(), RollupGroup::Bucket, &|h| zone.whole_hour(h))?;
    let mut out: HashMap<String, (Summary, Summary)> = HashMap::new();
    let mut day_of = None;
    for r in &rows {
        let recent = match day_of {
            Some((b, recent)) if b == r.bucket => recent,
            _ => {
                let d = zone.date_of(r.bucket * BUCKET_MS);
                let recent = d >= first && d <= today;
                day_of = Some((r.bucket, recent));
                recent
            }
        };
        let c = r.cost(prices);
        let (last30, all) = match out.get_mut(&*r.agent) {
            Some(v) => v,
            None => out.entry(r.agent.to_string()).or_default(),
        };
        all.add_priced(r, &c);
        if recent {
            last30.add_priced(r, &c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventKey, Tokens, UsageEvent};
    use crate::sources::{Record, SessionInfo, SourceEnv, parse_ts};
    use crate::store::{FileCursor, IngestWriter};
    use crate::views::AgentView;

    fn call(key: &str, ts: &str, model: &str, tokens: Tokens, cost: Option<f64>) -> Record {
        Record::Usage(UsageEvent {
            key: EventKey::of(&[key]),
            session_external_id: format!("s-{key}").into(),
            timestamp: parse_ts(ts).unwrap(),
            model: model.into(),
            model_fallback: false,
            fast: false,
            sidechain: false,
            tokens,
            cost_usd: cost,
        })
    }

    /// Where the cost comes from, the calls and the tokens.
    fn figures(u: &AgentUsage) -> (CostProvenance, &str, u64, Option<u64>) {
        (u.provenance, &u.provenance_text, u.calls, u.tokens.as_ref().map(|t| t.total))
    }

    fn tokens(input: u64, output: u64) -> Tokens {
        Tokens { input, output, ..Default::default() }
    }

    /// Claude Code priced and with its own legacy cost, Crush's cost only,
    /// Aider's rounded figures, Cursor's chat without usage, Gemini CLI
    /// lately on a model without a price, Codex with nothing: by hand from
    /// the snapshot (claude-sonnet-4-5: $3 in, $15 out per million).
    fn agents_of_a_store() -> Vec<AgentView> {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(&t.path().join("a.db")).unwrap();
        let prices = PriceBook::embedded();
        let mut w = IngestWriter::new(&store, &prices).unwrap();
        let mut apply = |agent: &str, records: &[Record]| {
            let cursor = FileCursor { path: format!("{agent}.log"), agent: agent.into(), ..Default::default() };
            w.apply(agent, records, &cursor, None).unwrap();
        };
        apply(
            "claude-code",
            &[
                call("c1", "2026-11-20T10:00:00Z", "claude-sonnet-4-5", tokens(1000, 100), None),
                call("c2", "2026-08-01T10:00:00Z", "claude-sonnet-4-5", tokens(2000, 0), Some(0.5)),
            ],
        );
        apply("crush", &[call("r1", "2026-11-01T10:00:00Z", "unknown", Tokens::default(), Some(0.25))]);
        apply("aider", &[call("a1", "2026-09-01T10:00:00Z", "gpt-4o", tokens(987, 45), Some(0.0029))]);
        apply(
            "gemini-cli",
            &[
                call("g1", "2026-11-21T09:00:00Z", "mystery-model-9", tokens(500, 50), None),
                call("g2", "2026-10-01T09:00:00Z", "gemini-2.5-pro", tokens(4000, 100), None),
            ],
        );
        let chat = SessionInfo {
            external_id: "chat-1".into(),
            project_path: Some("/home/u/proj".into()),
            agent_version: None,
            started_at: Some(parse_ts("2026-11-19T10:00:00Z").unwrap()),
        };
        apply("cursor-agent", &[Record::Session(chat)]);
        w.finish().unwrap();
        let home = t.path().join("home");
        let sources = crate::sources::all(&SourceEnv::of(home.to_str().unwrap(), &[]));
        let now = parse_ts("2026-11-21T12:00:00Z").unwrap().timestamp_millis();
        crate::views::agents(&store, &prices, &sources, Zone::parse("UTC").unwrap(), now).unwrap()
    }

    #[test]
    fn each_agents_cost_says_where_it_comes_from_and_none_recorded_is_never_zero() {
        let list = agents_of_a_store();
        let get = |id: &str| list.iter().find(|a| a.id == id).unwrap_or_else(|| panic!("{id}"));

        let claude = get("claude-code");
        assert_eq!(
            figures(&claude.all_time),
            (CostProvenance::TranscriptAndPriced, "transcript + priced", 2, Some(3100))
        );
        assert!((claude.all_time.cost_usd.unwrap() - (0.0045 + 0.5)).abs() < 1e-12, "{:?}", claude.all_time);
        assert_eq!(claude.all_time.price_source.as_deref(), Some("snapshot 2026-09-20 + transcript"));
        assert_eq!(claude.usage_note, None, "tokens per call: nothing to say");
        // The call in August is not within the last 30 days.
        assert_eq!(figures(&claude.last_30_days), (CostProvenance::Priced, "priced", 1, Some(1100)));
        assert!((claude.last_30_days.cost_usd.unwrap() - 0.0045).abs() < 1e-12, "{:?}", claude.last_30_days);
        assert_eq!(claude.last_30_days.price_source.as_deref(), Some("snapshot 2026-09-20"));

        // Crush: its own cost, no tokens.
        let crush = get("crush");
        assert_eq!(figures(&crush.last_30_days), (CostProvenance::CostOnly, "cost only (tokens unknown)", 1, None));
        assert_eq!(crush.last_30_days.cost_usd, Some(0.25));
        assert_eq!(crush.last_30_days.price_source.as_deref(), Some("transcript"));

        // Aider: rounded by Aider, marked so; nothing in the last 30 days.
        let aider = get("aider");
        assert_eq!(figures(&aider.all_time), (CostProvenance::Approximate, "approximate", 1, Some(1032)));
        assert_eq!(aider.all_time.cost_usd, Some(0.0029));
        assert_eq!(figures(&aider.last_30_days), (CostProvenance::NoUsage, "no usage", 0, None));
        assert_eq!(aider.last_30_days.cost_usd, None, "no usage is no figure, not $0");

        // Cursor: a session, and no usage recorded: never $0.
        let cursor = get("cursor-agent");
        assert_eq!(cursor.sessions, 1);
        assert_eq!(cursor.usage_note.as_deref(), Some("Cursor Agent: usage not recorded by Cursor"));
        for u in [&cursor.last_30_days, &cursor.all_time] {
            assert_eq!(figures(u), (CostProvenance::NotRecorded, "not recorded", 0, None));
            assert_eq!((u.cost_usd, &u.price_source), (None, &None));
        }

        // Gemini CLI on a model without a price: tokens, no cost.
        let gemini = get("gemini-cli");
        assert_eq!(figures(&gemini.last_30_days), (CostProvenance::Unpriced, "unknown price", 1, Some(550)));
        assert_eq!(gemini.last_30_days.cost_usd, None);
        assert_eq!(gemini.last_30_days.unpriced_models, ["mystery-model-9"]);
        // All time, a priced model too ($1.25 in, $10 out per million): its
        // cost, marked as leaving the other out.
        assert_eq!(figures(&gemini.all_time), (CostProvenance::Priced, "priced + unknown price", 2, Some(4650)));
        assert!((gemini.all_time.cost_usd.unwrap() - 0.006).abs() < 1e-12, "{:?}", gemini.all_time);
        assert_eq!(gemini.all_time.unpriced_models, ["mystery-model-9"]);

        // Not found here: nothing used, no figure.
        let codex = get("codex");
        assert_eq!((codex.found, codex.sessions), (false, 0));
        assert_eq!(figures(&codex.all_time), (CostProvenance::NoUsage, "no usage", 0, None));
        assert_eq!(codex.all_time.cost_usd, None);

        // Nobody's cost is $0: every figure is recorded or priced, or none.
        for a in &list {
            for u in [&a.last_30_days, &a.all_time] {
                assert_ne!(u.cost_usd, Some(0.0), "{}: {u:?}", a.id);
            }
        }
    }

    #[test]
    fn the_json_names_each_figure_and_its_provenance() {
        let list = agents_of_a_store();
        let v = serde_json::to_value(&list).unwrap();
        let cursor = v.as_array().unwrap().iter().find(|a| a["id"] == "cursor-agent").unwrap();
        assert_eq!(
            cursor["last30Days"],
            serde_json::json!({"calls": 0, "tokens": null, "costUsd": null, "provenance": "not-recorded",
                "provenanceText": "not recorded", "priceSource": null, "unpricedModels": []})
        );
        let crush = v.as_array().unwrap().iter().find(|a| a["id"] == "crush").unwrap();
        assert_eq!(
            (&crush["allTime"]["provenance"], &crush["allTime"]["tokens"], &crush["allTime"]["costUsd"]),
            (&serde_json::json!("cost-only"), &serde_json::Value::Null, &serde_json::json!(0.25))
        );
        let claude = v.as_array().unwrap().iter().find(|a| a["id"] == "claude-code").unwrap();
        assert_eq!(claude["allTime"]["provenance"], "transcript-and-priced");
        assert_eq!(claude["allTime"]["tokens"]["input"], 3000);
    }

    #[test]
    fn an_agent_whose_files_are_not_read_records_nothing_unless_something_else_did() {
        let none = Summary::default();
        assert_eq!(AgentUsage::of(None, &none).provenance, CostProvenance::NotRecorded);
        assert_eq!(AgentUsage::of(Some(UsageKind::Tokens), &none).provenance, CostProvenance::NoUsage);
        let mut s = Summary { events: 2, cost: 0.125, priced: true, ..Default::default() };
        s.tokens.input = 40;
        s.sources.insert(PriceSource::Transcript);
        let u = AgentUsage::of(None, &s);
        assert_eq!(
            (u.provenance, u.cost_usd, u.tokens.map(|t| t.input)),
            (CostProvenance::Transcript, Some(0.125), Some(40))
        );
        // Cursor's kind wins over any figure.
        assert_eq!(AgentUsage::of(Some(UsageKind::NotRecorded), &s).cost_usd, None);
    }
}
