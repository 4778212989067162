//! The user's settings: `config.toml` in the config dir. Every key is
//! optional; a missing file means the defaults.
//!
//! ```toml
//! scan_interval_secs = 2          # how often running processes are scanned
//! idle_after_secs = 300           # alive but no activity for this long: idle
//! stale_after_secs = 900          # no heartbeat for this long: stale
//! waiting_alert_delay_secs = 30   # waiting this long before "waiting for you"
//! archive_after_hours = 4         # inactive this long: archived (never deleted)
//!
//! [stale_after_secs_per_agent]
//! codex = 1800
//!
//! [budgets]
//! daily_usd = 20.0
//! monthly_usd = 300.0
//!
//! [limits]
//! alert_at_percent = [80, 95]     # plan windows (5-hour, weekly): alert once per window at each
//!
//! [notifications]
//! enabled = true
//! quiet_hours = { start = "22:00", end = "07:00" }
//!
//! [api]
//! port = 47821
//!
//! [[signatures]]                  # more agents to detect (see collector::signatures)
//! agent = "my-agent"
//! names = ["my-agent"]
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use crate::collector::signatures::Signature;
use crate::error::{Error, Result};
use crate::paths::Dirs;

/// The API's default port: fixed, so MCP client configs stay valid.
pub const DEFAULT_API_PORT: u16 = 47821;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub scan_interval_secs: u64,
    pub idle_after_secs: u64,
    pub stale_after_secs: u64,
    pub stale_after_secs_per_agent: BTreeMap<String, u64>,
    pub waiting_alert_delay_secs: u64,
    pub archive_after_hours: u64,
    pub budgets: Budgets,
    pub limits: LimitAlerts,
    pub notifications: Notifications,
    pub api: ApiConfig,
    pub metrics: MetricsConfig,
    /// Figures sent off the machine: nothing unless configured.
    #[serde(skip_serializing_if = "ExportConfig::is_off")]
    pub export: ExportConfig,
    pub start_at_login: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Budgets {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_usd: Option<f64>,
}

/// When a plan window (Claude's or Codex's 5-hour and weekly limits) alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitAlerts {
    /// Percentages of a window at which to alert, once per window each.
    /// Empty: never.
    pub alert_at_percent: Vec<f64>,
}

impl Default for LimitAlerts {
    fn default() -> Self {
        LimitAlerts { alert_at_percent: vec![80.0, 95.0] }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notifications {
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
}

impl Default for Notifications {
    fn default() -> Self {
        Notifications { enabled: true, quiet_hours: None }
    }
}

/// A daily window, in local time, in which alerts are stored but not shown.
/// It may wrap midnight (`22:00`–`07:00`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuietHours {
    pub start: String,
    pub end: String,
}

impl QuietHours {
    pub fn parse(&self) -> Result<(NaiveTime, NaiveTime)> {
        let t = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M")
                .map_err(|_| Error::Usage(format!("quiet hours: '{s}' is not a time (expected HH:MM)")))
        };
        Ok((t(&self.start)?, t(&self.end)?))
    }

    /// Whether a local time of day falls in the window.
    pub fn contains(&self, t: NaiveTime) -> bool {
        match self.parse() {
            Ok((start, end)) if start <= end => t >= start && t < end,
            Ok((start, end)) => t >= start || t < end,
            Err(_) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiConfig {
    pub port: u16,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig { port: DEFAULT_API_PORT }
    }
}

/// What `GET /metrics` and the OTLP export carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// Label the usage series with the project's path (off: no path leaves
    /// the machine).
    pub project_label: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp: Option<OtlpExport>,
}

impl ExportConfig {
    fn is_off(&self) -> bool {
        self.otlp.is_none()
    }
}

/// `[export.otlp]`: the figures (and, if asked, session state changes as
/// log events) sent to an OpenTelemetry Collector over OTLP/HTTP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OtlpExport {
    /// The collector's OTLP/HTTP address, `http://host:4318`: `/v1/metrics`
    /// and `/v1/logs` are added.
    pub endpoint: String,
    /// Sent with every request (an API key, a tenant).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    pub interval_secs: u64,
    /// Also send each session state change as a log event.
    pub state_changes: bool,
    /// More resource attributes (`developer = "ana"`, `team = "web"`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_attributes: BTreeMap<String, String>,
}

impl Default for OtlpExport {
    fn default() -> Self {
        OtlpExport {
            endpoint: String::new(),
            headers: BTreeMap::new(),
            interval_secs: 60,
            state_changes: false,
            resource_attributes: BTreeMap::new(),
        }
    }
}

impl OtlpExport {
    pub fn validate(&self) -> Result<()> {
        let e = self.endpoint.trim();
        if e.starts_with("https://") {
            return Err(Error::Usage(format!(
                "export.otlp.endpoint '{e}': https is not supported; send to an OpenTelemetry Collector over http (one on this machine or your network forwards with TLS)"
            )));
        }
        let rest = e.strip_prefix("http://").unwrap_or("");
        if rest.is_empty() || rest.starts_with('/') {
            return Err(Error::Usage(format!(
                "export.otlp.endpoint '{e}' is not an http:// address (e.g. http://collector:4318)"
            )));
        }
        if !(1..=86_400).contains(&self.interval_secs) {
            return Err(Error::Usage("export.otlp.interval_secs must be between 1 and 86400".into()));
        }
        for k in self.headers.keys() {
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(Error::Usage(format!("export.otlp.headers: '{k}' is not a header name")));
            }
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scan_interval_secs: 2,
            idle_after_secs: 300,
            stale_after_secs: 900,
            stale_after_secs_per_agent: BTreeMap::new(),
            waiting_alert_delay_secs: 30,
            archive_after_hours: 4,
            budgets: Budgets::default(),
            limits: LimitAlerts::default(),
            notifications: Notifications::default(),
            api: ApiConfig::default(),
            metrics: MetricsConfig::default(),
            export: ExportConfig::default(),
            start_at_login: false,
            signatures: Vec::new(),
        }
    }
}

/// What reading `config.toml` found: the settings, and one line per key it
/// does not know (a typo), each naming the file and line.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub unknown_keys: Vec<String>,
}

impl Config {
    /// Reads `config.toml` from the config dir; defaults when it is missing.
    /// Unknown keys are logged; a mistake (syntax, a wrong type or value) is
    /// an error naming the file and line.
    pub fn load(dirs: &Dirs) -> Result<Config> {
        let loaded = Config::read(&dirs.config_file())?;
        for k in &loaded.unknown_keys {
            tracing::warn!("{k}");
        }
        Ok(loaded.config)
    }

    /// For a process starting up: the settings from `config.toml`, or the
    /// defaults when it has a mistake, with every problem as one line
    /// (`file:line: what; using the defaults`) for the caller to show. A
    /// file that cannot be read at all (a folder, no permission) is an error.
    pub fn load_or_defaults(dirs: &Dirs) -> Result<(Config, Vec<String>)> {
        match Config::read(&dirs.config_file()) {
            Ok(l) => Ok((l.config, l.unknown_keys)),
            Err(e @ Error::Io { .. }) => Err(e),
            Err(e) => Ok((Config::default(), vec![format!("{e}; using the default settings")])),
        }
    }

    /// [`Config::load_or_defaults`] for the daemon, the desktop app and the
    /// API: each problem goes to the log.
    pub fn load_logged(dirs: &Dirs) -> Result<Config> {
        let (config, problems) = Config::load_or_defaults(dirs)?;
        for p in problems {
            tracing::warn!("{p}");
        }
        Ok(config)
    }

    pub fn load_from(path: &Path) -> Result<Config> {
        Config::read(path).map(|l| l.config)
    }

    /// Parses and checks one settings file.
    pub fn read(path: &Path) -> Result<Loaded> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Loaded { config: Config::default(), unknown_keys: Vec::new() });
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        let mut unknown = Vec::new();
        let parsed = toml::Deserializer::parse(&text)
            .and_then(|de| serde_ignored::deserialize(de, |key| unknown.push(key.to_string())));
        let c: Config = parsed.map_err(|e| {
            let msg = e.message().trim_end().to_string();
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            Error::Other(match line {
                Some(l) => format!("{}:{l}: {msg}", path.display()),
                None => format!("{}: {msg}", path.display()),
            })
        })?;
        c.validate().map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
        // serde_ignored writes `?` for an Option it passed through.
        let unknown_keys = unknown
            .iter()
            .map(|key| key.split('.').filter(|p| *p != "?").collect::<Vec<_>>().join("."))
            .map(|key| match line_of_key(&text, &key) {
                Some(l) => format!("{}:{l}: unknown setting `{key}` (ignored)", path.display()),
                None => format!("{}: unknown setting `{key}` (ignored)", path.display()),
            })
            .collect();
        Ok(Loaded { config: c, unknown_keys })
    }

    /// Checks values a file can hold but agentwatch cannot use.
    pub fn validate(&self) -> Result<()> {
        if !(1..=60).contains(&self.scan_interval_secs) {
            return Err(Error::Usage("scan_interval_secs must be between 1 and 60".into()));
        }
        if self.stale_after_secs == 0 || self.idle_after_secs == 0 || self.archive_after_hours == 0 {
            return Err(Error::Usage("thresholds must be greater than 0".into()));
        }
        for b in [self.budgets.daily_usd, self.budgets.monthly_usd].into_iter().flatten() {
            if !(b.is_finite() && b > 0.0) {
                return Err(Error::Usage("budgets must be positive amounts".into()));
            }
        }
        if self.limits.alert_at_percent.iter().any(|p| !(p.is_finite() && *p > 0.0 && *p <= 100.0)) {
            return Err(Error::Usage("limits.alert_at_percent: each must be a percentage over 0, up to 100".into()));
        }
        if let Some(q) = &self.notifications.quiet_hours {
            q.parse()?;
        }
        for s in &self.signatures {
            s.validate()?;
        }
        if let Some(o) = &self.export.otlp {
            o.validate()?;
        }
        Ok(())
    }

    /// Writes the settings back, atomically.
    pub fn save(&self, dirs: &Dirs) -> Result<()> {
        self.validate()?;
        crate::paths::create_private_dir(&dirs.config)?;
        let path = dirs.config_file();
        let text = toml::to_string_pretty(self).map_err(|e| Error::Other(format!("cannot write settings: {e}")))?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        Ok(())
    }

    /// The heartbeat threshold for an agent type, in ms.
    pub fn stale_after_ms(&self, agent: &str) -> i64 {
        (self.stale_after_secs_per_agent.get(agent).copied().unwrap_or(self.stale_after_secs) * 1000) as i64
    }
}

/// The line where the key at `path` (`budgets.daly_usd`,
/// `signatures.0.nmes`) is written, from the spans `toml_edit` keeps.
fn line_of_key(text: &str, path: &str) -> Option<usize> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut table: &dyn toml_edit::TableLike = doc.as_item().as_table_like()?;
    let mut item: Option<&toml_edit::Item> = None;
    let mut span = None;
    for seg in path.split('.') {
        match (seg.parse::<usize>(), item) {
            // An element of `[[signatures]]` or of an inline array of tables.
            (Ok(i), Some(it)) => {
                table = match it.as_array_of_tables() {
                    Some(a) => a.get(i)?,
                    None => it.as_array()?.get(i)?.as_inline_table()?,
                };
                item = None;
            }
            _ => {
                if let Some(it) = item {
                    table = it.as_table_like()?;
                }
                let (key, it) = table.get_key_value(seg)?;
                span = key.span();
                item = Some(it);
            }
        }
    }
    Some(text[..span?.start].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_means_defaults() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(Config::load_from(&t.path().join("nope.toml")).unwrap(), Config::default());
    }

    #[test]
    fn values_round_trip_and_per_agent_thresholds_apply() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        let mut c = Config::default();
        c.stale_after_secs_per_agent.insert("codex".into(), 1800);
        c.budgets.daily_usd = Some(20.0);
        c.notifications.quiet_hours = Some(QuietHours { start: "22:00".into(), end: "07:00".into() });
        c.save(&dirs).unwrap();
        let back = Config::load(&dirs).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.stale_after_ms("codex"), 1_800_000);
        assert_eq!(back.stale_after_ms("claude-code"), 900_000);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("config.toml");
        std::fs::write(&p, "scan_interval_secs = 2\nidle_after_secs = \"five\"\n").unwrap();
        let e = Config::load_from(&p).unwrap_err().to_string();
        assert!(e.contains("config.toml:2") && e.contains("invalid type"), "{e}");
        std::fs::write(&p, "scan_interval_secs = [2\n").unwrap();
        let e = Config::load_from(&p).unwrap_err().to_string();
        assert!(e.contains("config.toml:1") || e.contains("config.toml:2"), "{e}");
        std::fs::write(&p, "scan_interval_secs = 0\n").unwrap();
        assert!(Config::load_from(&p).unwrap_err().to_string().contains("between 1 and 60"));
    }

    #[test]
    fn unknown_keys_are_named_with_their_line_and_the_rest_applies() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("config.toml");
        std::fs::write(
            &p,
            "scan_interval_secs = 3\nbogus_key = 1\n\n[budgets]\ndaly_usd = 5.0\nmonthly_usd = 300.0\n\n\
             [notifications]\nquiet_hours = { start = \"22:00\", end = \"07:00\", tz = \"x\" }\n",
        )
        .unwrap();
        let l = Config::read(&p).unwrap();
        assert_eq!(l.config.scan_interval_secs, 3);
        assert_eq!(l.config.budgets.monthly_usd, Some(300.0));
        assert_eq!(l.config.budgets.daily_usd, None);
        let shown = l.unknown_keys.join("\n");
        assert!(shown.contains("config.toml:2: unknown setting `bogus_key`"), "{shown}");
        assert!(shown.contains("config.toml:5: unknown setting `budgets.daly_usd`"), "{shown}");
        assert!(shown.contains("config.toml:9: unknown setting `notifications.quiet_hours.tz`"), "{shown}");
        assert_eq!(l.unknown_keys.len(), 3, "{shown}");
        std::fs::write(
            &p,
            "[[signatures]]\nagent = \"a\"\nnames = [\"a\"]\n\n[[signatures]]\nagent = \"b\"\nnmes = [\"b\"]\n",
        )
        .unwrap();
        let shown = Config::read(&p).map(|l| l.unknown_keys.join("\n")).unwrap_or_else(|e| e.to_string());
        assert!(shown.contains("config.toml:7:") && shown.contains("nmes"), "{shown}");
    }

    #[test]
    fn a_file_with_a_mistake_means_the_defaults_and_one_line_saying_so() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        std::fs::create_dir_all(&dirs.config).unwrap();
        std::fs::write(dirs.config_file(), "scan_interval_secs = 5\n[api]\nport = \"x\"\n").unwrap();
        let (c, problems) = Config::load_or_defaults(&dirs).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("config.toml:3: ") && problems[0].ends_with("; using the default settings"),
            "{problems:?}"
        );
    }

    #[test]
    fn quiet_hours_may_wrap_midnight() {
        let q = QuietHours { start: "22:00".into(), end: "07:00".into() };
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert!(q.contains(t(23, 30)) && q.contains(t(6, 59)));
        assert!(!q.contains(t(7, 0)) && !q.contains(t(12, 0)));
        let day = QuietHours { start: "12:00".into(), end: "13:00".into() };
        assert!(day.contains(t(12, 30)) && !day.contains(t(13, 30)));
    }
}
