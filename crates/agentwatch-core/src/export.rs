//! `[export.otlp]`: the figures of [`crate::figures`] sent to a team's
//! OpenTelemetry Collector over OTLP/HTTP (protobuf), through the
//! `opentelemetry` SDK and `opentelemetry-otlp`. Off unless configured.
//!
//! - **Metrics**, every `interval_secs` (60 by default), to
//!   `<endpoint>/v1/metrics`: the series of `GET /metrics`, cumulative
//!   (`agentwatch_tokens`, `agentwatch_cost_usd`, … without the `_total`
//!   Prometheus adds).
//! - **Logs**, only with `state_changes = true`, to `<endpoint>/v1/logs`:
//!   one `agentwatch.session.state` event per session state change, with
//!   the agent, agentwatch's session id, the states and what the session
//!   waits for. Never a prompt, a tool's input, a path (unless
//!   `[metrics] project_label`) or a command line.
//! - **Resource:** `service.name` = agentwatch, `service.version`,
//!   `host.name` and `service.instance.id`, a random id made once per data
//!   dir (`instance-id`), plus `resource_attributes` from the config.
//!
//! `agentwatch export status` shows exactly this, with the values of now
//! ([`preview`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use serde::Serialize;

use crate::config::{Config, OtlpExport};
use crate::error::{Error, Result};
use crate::figures::{Figures, TOKEN_KINDS};
use crate::paths::Dirs;
use crate::pricing::PriceBook;
use crate::store::{Store, event};

const INSTANCE_FILE: &str = "instance-id";
/// The name of the state-change log events.
pub const STATE_EVENT: &str = "agentwatch.session.state";
/// How often new state changes are looked for.
const LOG_POLL: Duration = Duration::from_secs(2);

/// One series' value, as it is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub name: &'static str,
    /// counter or gauge.
    pub kind: &'static str,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// The series, with their values of now.
pub fn points(f: &Figures) -> Vec<Point> {
    let mut out = Vec::new();
    let l = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    for (agent, state, n) in &f.sessions {
        out.push(Point {
            name: "agentwatch_sessions",
            kind: "gauge",
            labels: l(&[("agent", agent), ("state", state)]),
            value: *n as f64,
        });
    }
    for u in &f.usage {
        for (kind, n) in TOKEN_KINDS.iter().zip(u.tokens) {
            let mut labels = u.labels();
            labels.push(("kind", kind));
            out.push(Point { name: "agentwatch_tokens", kind: "counter", labels: l(&labels), value: n as f64 });
        }
        out.push(Point { name: "agentwatch_cost_usd", kind: "counter", labels: l(&u.labels()), value: u.cost_usd });
    }
    for (kind, n) in &f.alerts {
        out.push(Point { name: "agentwatch_alerts", kind: "counter", labels: l(&[("kind", kind)]), value: *n as f64 });
    }
    for (agent, window, used) in &f.limits {
        out.push(Point {
            name: "agentwatch_limit_used_percent",
            kind: "gauge",
            labels: l(&[("agent", agent), ("window", window)]),
            value: *used,
        });
    }
    out.push(Point { name: "agentwatch_ingest_seconds", kind: "gauge", labels: Vec::new(), value: f.ingest_seconds });
    out
}

/// This data dir's anonymous, stable id: made once, kept in `instance-id`.
pub fn instance_id(dirs: &Dirs) -> Result<String> {
    let p = dirs.data.join(INSTANCE_FILE);
    match std::fs::read_to_string(&p) {
        Ok(s) if uuid::Uuid::parse_str(s.trim()).is_ok() => Ok(s.trim().to_string()),
        Ok(_) | Err(_) => {
            dirs.ensure_data_dir()?;
            let id = uuid::Uuid::new_v4().to_string();
            std::fs::write(&p, format!("{id}\n")).map_err(|e| Error::io(&p, e))?;
            Ok(id)
        }
    }
}

/// The resource every export carries, as (key, value).
pub fn resource_attributes(dirs: &Dirs, o: &OtlpExport) -> Result<Vec<(String, String)>> {
    let mut r = vec![
        ("service.name".to_string(), "agentwatch".to_string()),
        ("service.version".into(), env!("CARGO_PKG_VERSION").into()),
        ("host.name".into(), sysinfo::System::host_name().unwrap_or_else(|_| "unknown".into())),
        ("service.instance.id".into(), instance_id(dirs)?),
    ];
    for (k, v) in &o.resource_attributes {
        match r.iter_mut().find(|(key, _)| key == k) {
            Some(e) => e.1 = v.clone(),
            None => r.push((k.clone(), v.clone())),
        }
    }
    Ok(r)
}

/// What `agentwatch export status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub enabled: bool,
    pub endpoint: Option<String>,
    pub metrics_url: Option<String>,
    /// `None`: state changes are not sent.
    pub logs_url: Option<String>,
    pub interval_secs: Option<u64>,
    /// Header names, with the values masked.
    pub headers: Vec<(String, String)>,
    pub resource: Vec<(String, String)>,
    pub points: Vec<Point>,
}

/// What would be sent now (or, export off, what is kept on the machine).
pub fn preview(dirs: &Dirs, cfg: &Config, store: &Store, prices: &PriceBook, now: i64) -> Result<Preview> {
    let Some(o) = &cfg.export.otlp else {
        return Ok(Preview {
            enabled: false,
            endpoint: None,
            metrics_url: None,
            logs_url: None,
            interval_secs: None,
            headers: Vec::new(),
            resource: Vec::new(),
            points: Vec::new(),
        });
    };
    o.validate()?;
    let f = Figures::read(store, prices, now, cfg.metrics.project_label)?;
    Ok(Preview {
        enabled: true,
        endpoint: Some(o.endpoint.clone()),
        metrics_url: Some(url(o, "metrics")),
        logs_url: o.state_changes.then(|| url(o, "logs")),
        interval_secs: Some(o.interval_secs),
        headers: o.headers.keys().map(|k| (k.clone(), "•••".to_string())).collect(),
        resource: resource_attributes(dirs, o)?,
        points: points(&f),
    })
}

fn url(o: &OtlpExport, signal: &str) -> String {
    format!("{}/v1/{signal}", o.endpoint.trim().trim_end_matches('/'))
}

/// A running export. Dropping it flushes what is pending and stops it.
pub struct Export {
    stop: mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// What it was started with: a changed config restarts it.
    pub config: (OtlpExport, bool),
}

impl Drop for Export {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the export `cfg` asks for, if any, on a thread of its own (the
/// exporters block while they send).
pub fn start(dirs: &Dirs, cfg: &Config) -> Result<Option<Export>> {
    let Some(o) = cfg.export.otlp.clone() else { return Ok(None) };
    o.validate()?;
    let resource = resource_attributes(dirs, &o)?;
    let (stop, stopped) = mpsc::channel();
    let (ready_tx, ready) = mpsc::channel();
    let (dirs2, o2, project) = (dirs.clone(), o.clone(), cfg.metrics.project_label);
    let thread = std::thread::Builder::new()
        .name("otlp-export".into())
        .spawn(move || {
            let providers = match Providers::new(&dirs2, &o2, resource, project) {
                Ok(p) => {
                    let _ = ready_tx.send(Ok(()));
                    p
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            providers.run(&dirs2, &stopped);
        })
        .map_err(|e| Error::Other(format!("cannot start the OTLP export: {e}")))?;
    ready.recv().map_err(|_| Error::Other("the OTLP export stopped at start".into()))??;
    tracing::info!(endpoint = o.endpoint, interval = o.interval_secs, logs = o.state_changes, "OTLP export on");
    Ok(Some(Export { stop, thread: Some(thread), config: (o, cfg.metrics.project_label) }))
}

struct Providers {
    meters: SdkMeterProvider,
    logs: Option<SdkLoggerProvider>,
}

/// The figures, read at most once a second whatever the number of series.
struct Source {
    store: Store,
    prices: PriceBook,
    project: bool,
    cached: Option<(Instant, Arc<Vec<Point>>)>,
}

impl Source {
    fn points(&mut self) -> Arc<Vec<Point>> {
        if let Some((at, p)) = &self.cached
            && at.elapsed() < Duration::from_secs(1)
        {
            return p.clone();
        }
        let p = match Figures::read(&self.store, &self.prices, crate::util::now_ms(), self.project) {
            Ok(f) => Arc::new(points(&f)),
            Err(e) => {
                tracing::warn!("OTLP export: cannot read the figures: {e}");
                Arc::new(Vec::new())
            }
        };
        self.cached = Some((Instant::now(), p.clone()));
        p
    }
}

impl Providers {
    fn new(dirs: &Dirs, o: &OtlpExport, resource: Vec<(String, String)>, project: bool) -> Result<Providers> {
        let resource =
            Resource::builder_empty().with_attributes(resource.into_iter().map(|(k, v)| KeyValue::new(k, v))).build();
        let headers: HashMap<String, String> = o.headers.clone().into_iter().collect();
        let fail = |e: opentelemetry_otlp::ExporterBuildError| Error::Other(format!("OTLP export: {e}"));
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_endpoint(url(o, "metrics"))
            .with_headers(headers.clone())
            .with_timeout(Duration::from_secs(10))
            .build()
            .map_err(fail)?;
        let reader = PeriodicReader::builder(exporter).with_interval(Duration::from_secs(o.interval_secs)).build();
        let meters = SdkMeterProvider::builder().with_reader(reader).with_resource(resource.clone()).build();
        let source = Arc::new(Mutex::new(Source {
            store: Store::open_in(dirs)?,
            prices: PriceBook::load(dirs)?,
            project,
            cached: None,
        }));
        register(&meters, &source);
        let logs = if o.state_changes {
            let exporter = opentelemetry_otlp::LogExporter::builder()
                .with_http()
                .with_endpoint(url(o, "logs"))
                .with_headers(headers)
                .with_timeout(Duration::from_secs(10))
                .build()
                .map_err(fail)?;
            Some(SdkLoggerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
        } else {
            None
        };
        Ok(Providers { meters, logs })
    }

    /// Sends state changes as they happen, until told to stop; then flushes.
    fn run(self, dirs: &Dirs, stop: &mpsc::Receiver<()>) {
        let store = match (&self.logs, Store::open_in(dirs)) {
            (Some(_), Ok(s)) => Some(s),
            (Some(_), Err(e)) => {
                tracing::warn!("OTLP export: no state changes: {e}");
                None
            }
            (None, _) => None,
        };
        // Changes from now on: the history is not sent again.
        let mut cursor = store.as_ref().and_then(|s| s.last_event_id().ok()).unwrap_or(0);
        loop {
            match stop.recv_timeout(LOG_POLL) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if let (Some(logs), Some(store)) = (&self.logs, &store) {
                match state_changes(store, cursor) {
                    Ok((changes, last)) => {
                        cursor = last;
                        let logger = logs.logger("agentwatch");
                        for c in changes {
                            let mut r = logger.create_log_record();
                            r.set_event_name(STATE_EVENT);
                            r.set_timestamp(std::time::UNIX_EPOCH + Duration::from_millis(c.at.max(0) as u64));
                            r.set_body(AnyValue::from(format!("{} {} → {}", c.agent, c.from, c.to)));
                            for (k, v) in c.attributes() {
                                r.add_attribute(k, v);
                            }
                            logger.emit(r);
                        }
                    }
                    Err(e) => tracing::debug!("OTLP export: state changes not read: {e}"),
                }
            }
        }
        // A last export of everything, so a stop loses nothing.
        if let Err(e) = self.meters.shutdown() {
            tracing::warn!("OTLP export: the last metrics were not sent: {e}");
        }
        if let Some(l) = self.logs
            && let Err(e) = l.shutdown()
        {
            tracing::warn!("OTLP export: the last state changes were not sent: {e}");
        }
    }
}

/// One state change, as its log event says it.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub at: i64,
    pub session: String,
    pub agent: String,
    pub from: String,
    pub to: String,
    pub waiting_for: Option<String>,
}

impl StateChange {
    fn attributes(&self) -> Vec<(&'static str, String)> {
        let mut a = vec![
            ("event.name", STATE_EVENT.to_string()),
            ("agent", self.agent.clone()),
            ("session.id", self.session.clone()),
            ("state.from", self.from.clone()),
            ("state.to", self.to.clone()),
        ];
        if let Some(w) = &self.waiting_for {
            a.push(("waiting_for", w.clone()));
        }
        a
    }
}

/// State changes after change-feed id `after`, and the last id read.
fn state_changes(store: &Store, after: i64) -> Result<(Vec<StateChange>, i64)> {
    let mut out = Vec::new();
    let mut last = after;
    let mut agents: BTreeMap<String, String> = BTreeMap::new();
    for e in store.events_after(after, 1000)? {
        last = e.id;
        if e.kind != event::SESSION_STATE {
            continue;
        }
        let (Some(session), Some(data)) = (e.session, e.data) else { continue };
        let Ok(d) = serde_json::from_str::<serde_json::Value>(&data) else { continue };
        let agent = match agents.get(&session) {
            Some(a) => a.clone(),
            None => {
                let a = crate::store::find_session(store, &session).map(|s| s.agent).unwrap_or_default();
                agents.insert(session.clone(), a.clone());
                a
            }
        };
        out.push(StateChange {
            at: e.at,
            agent,
            from: d["from"].as_str().unwrap_or("new").to_string(),
            to: d["to"].as_str().unwrap_or("").to_string(),
            waiting_for: d["waitingFor"].as_str().map(str::to_string),
            session,
        });
    }
    Ok((out, last))
}

/// One observable instrument per series: each collection reads the figures
/// (once for all of them).
fn register(meters: &SdkMeterProvider, source: &Arc<Mutex<Source>>) {
    let meter = meters.meter("agentwatch");
    let observe = |name: &'static str| {
        let s = source.clone();
        move || {
            let pts = s.lock().map(|mut s| s.points()).unwrap_or_default();
            pts.iter()
                .filter(|p| p.name == name)
                .map(|p| (p.value, p.labels.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect()))
                .collect::<Vec<(f64, Vec<KeyValue>)>>()
        }
    };
    let read = observe("agentwatch_sessions");
    let _ = meter
        .i64_observable_gauge("agentwatch_sessions")
        .with_description("Sessions agentwatch knows, by agent and state")
        .with_callback(move |o| read().into_iter().for_each(|(v, l)| o.observe(v as i64, &l)))
        .build();
    let read = observe("agentwatch_tokens");
    let _ = meter
        .u64_observable_counter("agentwatch_tokens")
        .with_description("Tokens used, by agent, model and kind")
        .with_callback(move |o| read().into_iter().for_each(|(v, l)| o.observe(v as u64, &l)))
        .build();
    let read = observe("agentwatch_cost_usd");
    let _ = meter
        .f64_observable_counter("agentwatch_cost_usd")
        .with_description("Cost in US dollars of the priced usage, by agent and model")
        .with_callback(move |o| read().into_iter().for_each(|(v, l)| o.observe(v, &l)))
        .build();
    let read = observe("agentwatch_alerts");
    let _ = meter
        .u64_observable_counter("agentwatch_alerts")
        .with_description("Alerts raised, by kind")
        .with_callback(move |o| read().into_iter().for_each(|(v, l)| o.observe(v as u64, &l)))
        .build();
    let read = observe("agentwatch_limit_used_percent");
    let _ = meter
        .f64_observable_gauge("agentwatch_limit_used_percent")
        .with_description("How much of each plan window is used, as the agent reported it")
        .with_callback(move |o| read().into_iter().for_each(|(v, l)| o.observe(v, &l)))
        .build();
    let read = observe("agentwatch_ingest_seconds");
    let _ = meter
        .f64_observable_gauge("agentwatch_ingest_seconds")
        .with_description("How long the last ingest that read new transcript bytes took")
        .with_callback(move |o| read().into_iter().for_each(|(v, l)| o.observe(v, &l)))
        .build();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_id_is_made_once_and_kept() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        let a = instance_id(&dirs).unwrap();
        assert!(uuid::Uuid::parse_str(&a).is_ok());
        assert_eq!(instance_id(&dirs).unwrap(), a);
        let o = OtlpExport {
            endpoint: "http://c:4318/".into(),
            resource_attributes: [("developer".to_string(), "ana".to_string())].into(),
            ..Default::default()
        };
        let r = resource_attributes(&dirs, &o).unwrap();
        assert_eq!(r[0], ("service.name".into(), "agentwatch".into()));
        assert!(r.contains(&("service.instance.id".into(), a)));
        assert!(r.contains(&("developer".into(), "ana".into())));
        assert_eq!(url(&o, "metrics"), "http://c:4318/v1/metrics");
    }

    #[test]
    fn endpoints_that_cannot_work_are_refused_with_the_reason() {
        let bad = |e: &str| OtlpExport { endpoint: e.into(), ..Default::default() }.validate().unwrap_err().to_string();
        assert!(bad("https://otel.example.com").contains("https is not supported"));
        assert!(bad("collector:4318").contains("not an http:// address"));
        assert!(bad("").contains("not an http:// address"));
        let mut o = OtlpExport { endpoint: "http://c:4318".into(), ..Default::default() };
        o.validate().unwrap();
        o.headers.insert("bad header".into(), "x".into());
        assert!(o.validate().is_err());
    }
}
