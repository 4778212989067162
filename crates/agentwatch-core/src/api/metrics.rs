//! `GET /metrics`: the figures of [`crate::figures`] in the OpenMetrics
//! text format, for the Prometheus a team already runs (behind the same
//! bearer token as the rest of the API: `authorization` in the scrape
//! config). Counters get the `_total` suffix: `agentwatch_tokens_total`,
//! `agentwatch_cost_usd_total`, `agentwatch_alerts_total`.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::error::{Error, Result};
use crate::figures::{Figures, TOKEN_KINDS};

/// The content type Prometheus asks for and gets.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The figures, encoded.
pub fn render(f: &Figures) -> Result<String> {
    let mut reg = <Registry>::with_prefix("agentwatch");

    let sessions = Family::<Labels, Gauge>::default();
    for (agent, state, n) in &f.sessions {
        sessions.get_or_create(&labels(&[("agent", agent), ("state", state)])).set(*n);
    }
    reg.register("sessions", "Sessions agentwatch knows, by agent and state", sessions);

    let tokens = Family::<Labels, Counter>::default();
    let cost = Family::<Labels, Counter<f64, AtomicU64>>::default();
    for u in &f.usage {
        let base = u.labels();
        for (kind, n) in TOKEN_KINDS.iter().zip(u.tokens) {
            let mut l = base.clone();
            l.push(("kind", kind));
            tokens.get_or_create(&labels(&l)).inc_by(n);
        }
        cost.get_or_create(&labels(&base)).inc_by(u.cost_usd);
    }
    reg.register("tokens", "Tokens used, by agent, model and kind", tokens);
    reg.register("cost_usd", "Cost in US dollars of the priced usage, by agent and model", cost);

    let alerts = Family::<Labels, Counter>::default();
    for (kind, n) in &f.alerts {
        alerts.get_or_create(&labels(&[("kind", kind)])).inc_by(*n);
    }
    reg.register("alerts", "Alerts raised, by kind", alerts);

    let limits = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    for (agent, window, used) in &f.limits {
        limits.get_or_create(&labels(&[("agent", agent), ("window", window)])).set(*used);
    }
    reg.register("limit_used_percent", "How much of each plan window is used, as the agent reported it", limits);

    let ingest = Gauge::<f64, AtomicU64>::default();
    ingest.set(f.ingest_seconds);
    reg.register("ingest_seconds", "How long the last ingest that read new transcript bytes took", ingest);

    let mut out = String::new();
    encode(&mut out, &reg).map_err(|e| Error::Other(format!("cannot encode the metrics: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::LimitReading;
    use crate::model::{EventKey, Tokens, UsageEvent};
    use crate::pricing::PriceBook;
    use crate::sources::{Record, SessionInfo};
    use crate::store::FileCursor;
    use crate::store::Store;

    #[test]
    fn every_series_with_its_values() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(&t.path().join("a.db")).unwrap();
        let prices = PriceBook::embedded();
        let now = crate::util::now_ms();
        let ts = chrono::DateTime::from_timestamp_millis(now - 60_000).unwrap();
        let records = vec![
            Record::Session(SessionInfo {
                external_id: "s1".into(),
                started_at: Some(ts),
                project_path: Some("/home/u/web-app".into()),
                ..Default::default()
            }),
            Record::Usage(UsageEvent {
                key: EventKey::of(&["t", "1"]),
                session_external_id: "s1".into(),
                timestamp: ts,
                model: "claude-sonnet-4-5-20250929".into(),
                model_fallback: false,
                fast: false,
                sidechain: false,
                tokens: Tokens {
                    input: 100_000,
                    output: 10_000,
                    cache_read: 7,
                    cache_write_5m: 3,
                    ..Default::default()
                },
                cost_usd: None,
            }),
        ];
        let mut w = crate::store::IngestWriter::new(&store, &prices).unwrap();
        w.apply("claude-code", &records, &FileCursor::default(), None).unwrap();
        w.finish().unwrap();
        let r = LimitReading {
            agent: "codex".into(),
            window_minutes: 300,
            used_percent: 42.5,
            resets_at: Some(now + 3_600_000),
            observed_at: now,
            source: "rollout",
            plan: None,
            session: None,
        };
        store.record_limit(&r, None).unwrap();
        store.set_meta(crate::store::LAST_INGEST, r#"{"seconds": 0.25, "at": 1}"#).unwrap();
        let text = render(&Figures::read(&store, &prices, now, false).unwrap()).unwrap();
        let m = "agent=\"claude-code\",model=\"claude-sonnet-4-5-20250929\"";
        for line in [
            "# TYPE agentwatch_sessions gauge".to_string(),
            "agentwatch_sessions{agent=\"claude-code\",state=\"completed\"} 1".into(),
            "# TYPE agentwatch_tokens counter".into(),
            format!("agentwatch_tokens_total{{{m},kind=\"input\"}} 100000"),
            format!("agentwatch_tokens_total{{{m},kind=\"output\"}} 10000"),
            format!("agentwatch_tokens_total{{{m},kind=\"cache_read\"}} 7"),
            format!("agentwatch_tokens_total{{{m},kind=\"cache_write\"}} 3"),
            "agentwatch_limit_used_percent{agent=\"codex\",window=\"5h\"} 42.5".into(),
            "agentwatch_ingest_seconds 0.25".into(),
            "# EOF".into(),
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
        }
        assert!(!text.contains("web-app"), "no path unless asked");
        let with = render(&Figures::read(&store, &prices, now, true).unwrap()).unwrap();
        let line = format!("agentwatch_tokens_total{{{m},project=\"/home/u/web-app\",kind=\"input\"}} 100000");
        assert!(with.lines().any(|l| l == line), "no {line:?} in:\n{with}");
        // $3/M input and $15/M output (and the cache's few tokens): $0.45.
        let cost = text.lines().find(|l| l.starts_with(&format!("agentwatch_cost_usd_total{{{m}}}"))).unwrap();
        let usd: f64 = cost.rsplit(' ').next().unwrap().parse().unwrap();
        assert!((usd - 0.45).abs() < 0.0001, "{cost}");
    }
}
