//! Actions that act on this machine directly, in both modes: stopping an
//! agent, reading a transcript, settings, installing hooks, clearing
//! completed sessions, pausing notifications. Each is a few lines over the
//! core.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use agentwatch_core::config::{Config, QuietHours};
use agentwatch_core::install::{self, Agent, Target};
use agentwatch_core::model::SessionState;
use agentwatch_core::paths::Dirs;
use agentwatch_core::reports::{ReportOptions, Zone, session_report};
use agentwatch_core::sources::{Source, SourceEnv, TranscriptLine};
use agentwatch_core::store::{SessionFilter, Store, event, find_session, list_sessions};
use agentwatch_core::{Error, Result, alerts, control};
use serde::{Deserialize, Serialize};

/// The local side: the data dir, the agents' sources, database connections.
pub struct Local {
    pub dirs: Dirs,
    pub sources: Vec<Box<dyn Source>>,
    pool: Mutex<Vec<Store>>,
}

impl Local {
    pub fn new(dirs: &Dirs, sources: Vec<Box<dyn Source>>) -> Local {
        Local { dirs: dirs.clone(), sources, pool: Mutex::new(Vec::new()) }
    }

    /// Runs `f` with a connection from the pool.
    pub fn with_store<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let store = match self.pool.lock().expect("pool lock").pop() {
            Some(s) => s,
            None => Store::open_in(&self.dirs)?,
        };
        let r = f(&store);
        let mut pool = self.pool.lock().expect("pool lock");
        if pool.len() < 4 {
            pool.push(store);
        }
        r
    }

    /// `kill_session`: SIGTERM, SIGKILL after 5 s. A refusal (the process
    /// is gone, reused or not ours) is `ok: false` with the reason.
    pub fn kill(&self, id: &str) -> Result<KillResult> {
        self.with_store(|s| {
            let row = find_session(s, id)?;
            Ok(match control::kill(s, &row, Duration::from_secs(5)) {
                Ok(k) => KillResult { ok: true, message: k.message },
                Err(e) => KillResult { ok: false, message: e.to_string() },
            })
        })
    }

    /// `transcript_tail`.
    pub fn transcript_tail(&self, id: &str, lines: usize) -> Result<TranscriptTail> {
        let row = self.with_store(|s| find_session(s, id))?;
        let lines = control::transcript_tail(&self.sources, &row, lines.clamp(1, 2000));
        Ok(TranscriptTail { path: row.transcript_path.clone(), lines })
    }

    /// `clear_completed`: archives ended sessions and tells every window,
    /// so lists drop them.
    pub fn clear_completed(&self) -> Result<usize> {
        self.with_store(|s| {
            let ended = list_sessions(
                s,
                &SessionFilter {
                    states: vec![SessionState::Completed, SessionState::Dead],
                    not_archived: true,
                    ..Default::default()
                },
            )?;
            let n = s.archive_ended()?;
            for row in &ended {
                s.push_event(event::SESSION_UPDATED, Some(&row.id), None)?;
            }
            Ok(n)
        })
    }

    /// Today's cost per session id (sessions without usage today are absent).
    pub fn costs_today(&self, prices: &agentwatch_core::pricing::PriceBook) -> Result<Vec<(String, Option<f64>)>> {
        let today = Zone::Local.today();
        let opts = ReportOptions { since: Some(today), until: Some(today), ..Default::default() };
        self.with_store(|s| {
            Ok(session_report(s, prices, &opts)?.into_iter().map(|u| (u.session.id, u.summary.cost())).collect())
        })
    }

    /// Pauses every notification until `until` (ms).
    pub fn pause(&self, until: i64) -> Result<()> {
        self.with_store(|s| alerts::snooze(s, "all", until))
    }

    /// Ends every pause and snooze.
    pub fn resume(&self) -> Result<()> {
        self.with_store(|s| alerts::resume(s).map(|_| ()))
    }

    /// Whether notifications are paused right now.
    pub fn paused(&self) -> Result<bool> {
        // Ask with settings that suppress nothing themselves.
        let cfg = Config::default();
        self.with_store(|s| {
            Ok(alerts::suppression(s, &cfg, None, agentwatch_core::util::now_ms())?.as_deref() == Some("paused"))
        })
    }

    pub fn settings(&self, start_at_login: Option<bool>) -> Result<Settings> {
        let cfg = Config::load(&self.dirs)?;
        Ok(Settings::from_config(&cfg, &self.dirs, start_at_login.unwrap_or(cfg.start_at_login)))
    }

    /// Writes the settings the UI edits, keeping everything else in config.toml.
    pub fn save_settings(&self, s: &Settings) -> Result<Settings> {
        let mut cfg = Config::load(&self.dirs)?;
        s.apply(&mut cfg);
        cfg.validate()?;
        cfg.save(&self.dirs)?;
        self.settings(None)
    }

    /// The command the agents' configuration is to run: the CLI, with this
    /// app's data dir when one was chosen.
    /// Telemetry goes to the API, with the hook token.
    fn installed_exe(&self, t: Target) -> Result<install::Exe> {
        let mut exe = install::Exe::new(&cli_binary()?);
        if std::env::var_os(agentwatch_core::paths::DATA_DIR_ENV).is_some_and(|v| !v.is_empty()) {
            exe.data_dir = Some(self.dirs.data.clone());
        }
        if t == Target::Telemetry
            && let Some(info) = agentwatch_core::api::ApiInfo::read(&self.dirs)?
            && let Some(token) = info.hook_token
        {
            exe.http = Some((format!("http://127.0.0.1:{}", info.port), token));
        }
        Ok(exe)
    }

    pub fn install_preview(&self, target: &str, agent: &str, uninstall: bool) -> Result<InstallPreview> {
        let (t, a) = parse_install(target, agent)?;
        let p = install::plan(t, a, uninstall, &SourceEnv::from_process(), &self.installed_exe(t)?)?;
        Ok(InstallPreview {
            target: target.to_string(),
            agent: a.id().to_string(),
            installed: if uninstall { !p.done } else { p.done },
            changes: p
                .changes
                .iter()
                .map(|c| FileChange { path: c.path.display().to_string(), diff: c.diff.clone() })
                .collect(),
        })
    }

    pub fn install_apply(&self, target: &str, agent: &str, uninstall: bool) -> Result<String> {
        let (t, a) = parse_install(target, agent)?;
        let p = install::plan(t, a, uninstall, &SourceEnv::from_process(), &self.installed_exe(t)?)?;
        let what = match t {
            Target::Hooks => "agentwatch hooks",
            Target::McpProxy => "the agentwatch MCP proxy",
            Target::Statusline => "the agentwatch status line",
            Target::Telemetry => "telemetry to agentwatch",
        };
        if p.done {
            return Ok(format!(
                "{what}: nothing to change for {} (already {}).",
                a.id(),
                if uninstall { "removed" } else { "installed" }
            ));
        }
        let backups = install::apply(&p)?;
        let files: Vec<String> = p.changes.iter().map(|c| c.path.display().to_string()).collect();
        let mut msg = format!(
            "{} {what} for {} in {}.",
            if uninstall { "Removed" } else { "Installed" },
            a.id(),
            files.join(", ")
        );
        if let Some(b) = backups.first() {
            msg.push_str(&format!(" The previous version is in {}.", b.display()));
        }
        for n in &p.notes {
            msg.push_str(&format!(" Note: {n}."));
        }
        if !uninstall && matches!(t, Target::McpProxy | Target::Telemetry) {
            msg.push_str(" Restart the agent to use it.");
        }
        Ok(msg)
    }
}

fn parse_install(target: &str, agent: &str) -> Result<(Target, Agent)> {
    let Some(t) = Target::from_name(target) else {
        return Err(Error::Usage(format!(
            "unknown target '{target}' (expected hooks, mcp-proxy, statusline or telemetry)"
        )));
    };
    Ok((t, Agent::parse(agent)?))
}

/// The `agentwatch` command-line binary the hooks and proxy run:
/// `AGENTWATCH_BIN`, else next to this app, else on PATH.
pub fn cli_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("AGENTWATCH_BIN").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok().and_then(|e| e.canonicalize().ok());
    let beside = exe.as_deref().and_then(Path::parent).map(|d| d.join("agentwatch"));
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("agentwatch")).collect::<Vec<_>>())
        .unwrap_or_default();
    beside.into_iter().chain(on_path).find(|p| p.is_file()).ok_or_else(|| {
        Error::Other(
            "cannot find the `agentwatch` command-line binary (next to this app or on PATH) that hooks and the proxy run"
                .into(),
        )
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KillResult {
    pub ok: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptTail {
    pub path: Option<String>,
    pub lines: Vec<TranscriptLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileChange {
    pub path: String,
    pub diff: String,
}

/// An agent something can be installed for, and what (`install::offers`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstallOption {
    pub agent: String,
    pub name: String,
    pub targets: Vec<String>,
}

/// The rows of the Settings tab's integrations table.
pub fn install_options() -> Vec<InstallOption> {
    install::offers()
        .into_iter()
        .map(|o| InstallOption {
            agent: o.agent.to_string(),
            name: o.name.to_string(),
            targets: o.targets.iter().map(|t| t.name().to_string()).collect(),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstallPreview {
    pub target: String,
    pub agent: String,
    pub installed: bool,
    pub changes: Vec<FileChange>,
}

/// The settings the UI shows and edits (docs/desktop-ipc.md `Settings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub scan_interval_secs: u64,
    pub idle_after_secs: u64,
    pub stale_after_secs: u64,
    pub waiting_alert_delay_secs: u64,
    pub archive_after_hours: u64,
    pub budgets: BudgetSettings,
    pub notifications: NotificationSettings,
    pub start_at_login: bool,
    /// Read-only.
    #[serde(default)]
    pub data_dir: String,
    /// Read-only.
    #[serde(default)]
    pub price_override_file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetSettings {
    pub daily_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSettings {
    pub enabled: bool,
    pub quiet_hours: Option<QuietHoursSettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuietHoursSettings {
    pub start: String,
    pub end: String,
}

impl Settings {
    pub fn from_config(c: &Config, dirs: &Dirs, start_at_login: bool) -> Settings {
        Settings {
            scan_interval_secs: c.scan_interval_secs,
            idle_after_secs: c.idle_after_secs,
            stale_after_secs: c.stale_after_secs,
            waiting_alert_delay_secs: c.waiting_alert_delay_secs,
            archive_after_hours: c.archive_after_hours,
            budgets: BudgetSettings { daily_usd: c.budgets.daily_usd, monthly_usd: c.budgets.monthly_usd },
            notifications: NotificationSettings {
                enabled: c.notifications.enabled,
                quiet_hours: c
                    .notifications
                    .quiet_hours
                    .as_ref()
                    .map(|q| QuietHoursSettings { start: q.start.clone(), end: q.end.clone() }),
            },
            start_at_login,
            data_dir: dirs.data.display().to_string(),
            price_override_file: dirs.price_override_file().display().to_string(),
        }
    }

    /// Copies the editable values into a config (the read-only ones are ignored).
    pub fn apply(&self, c: &mut Config) {
        c.scan_interval_secs = self.scan_interval_secs;
        c.idle_after_secs = self.idle_after_secs;
        c.stale_after_secs = self.stale_after_secs;
        c.waiting_alert_delay_secs = self.waiting_alert_delay_secs;
        c.archive_after_hours = self.archive_after_hours;
        c.budgets.daily_usd = self.budgets.daily_usd;
        c.budgets.monthly_usd = self.budgets.monthly_usd;
        c.notifications.enabled = self.notifications.enabled;
        c.notifications.quiet_hours =
            self.notifications.quiet_hours.as_ref().map(|q| QuietHours { start: q.start.clone(), end: q.end.clone() });
        c.start_at_login = self.start_at_login;
    }
}
