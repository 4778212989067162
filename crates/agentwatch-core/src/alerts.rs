//! Alerts: an agent died, went stale, waits for you, or a budget was
//! exceeded. GUI-independent: the daemon delivers them as desktop
//! notifications, the tray app does too, and every alert is stored.
//!
//! De-duplication: an alert's key names the session and the state change it
//! is about (or the budget period), and keys are unique in the store, so each
//! is raised once. Snoozes, "pause notifications" and quiet hours suppress
//! showing an alert, not recording it.

use chrono::{DateTime, Datelike, Local, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::error::Result;
use crate::model::{PendingTool, agent_display_name};
use crate::pricing::PriceBook;
use crate::reports::{Period, ReportOptions, Zone, period_report};
use crate::store::{AlertCandidate, AlertRow, AlertTrigger, Store, event};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Died,
    Stale,
    /// Finished its turn and waits for a prompt (after the waiting delay).
    Waiting,
    /// Asks permission to run a tool (at once).
    Permission,
    /// Asks the person a question (at once).
    Question,
    BudgetDaily,
    BudgetMonthly,
    /// A plan window (5-hour, weekly) passed a threshold.
    Limit,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Died => "died",
            AlertKind::Stale => "stale",
            AlertKind::Waiting => "waiting",
            AlertKind::Permission => "permission",
            AlertKind::Question => "question",
            AlertKind::BudgetDaily => "budget_daily",
            AlertKind::BudgetMonthly => "budget_monthly",
            AlertKind::Limit => "limit",
        }
    }

    fn parse(s: &str) -> AlertKind {
        match s {
            "died" => AlertKind::Died,
            "stale" => AlertKind::Stale,
            "waiting" => AlertKind::Waiting,
            "permission" => AlertKind::Permission,
            "question" => AlertKind::Question,
            "budget_daily" => AlertKind::BudgetDaily,
            "limit" => AlertKind::Limit,
            _ => AlertKind::BudgetMonthly,
        }
    }
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: i64,
    pub at: String,
    pub kind: AlertKind,
    pub session_id: Option<String>,
    pub title: String,
    pub body: String,
    pub delivered: bool,
    /// Why it was not shown: "paused", "snoozed", "quiet hours", "notifications off".
    pub suppressed: Option<String>,
    /// When a permission or question alert was answered (the session moved
    /// on), and its notification withdrawn.
    #[serde(default)]
    pub resolved_at: Option<String>,
}

impl AlertKind {
    /// Whether the alert is about a question the person has to answer, so
    /// its notification goes once they answered.
    pub fn is_withdrawn_when_answered(self) -> bool {
        matches!(self, AlertKind::Permission | AlertKind::Question)
    }
}

/// Shows alerts to the user.
pub trait Notifier: Send {
    fn notify(&self, alert: &Alert) -> Result<()>;

    /// Takes back the notification of alert `id` (the permission prompt it
    /// announced was answered). Nothing, if it shows none.
    fn withdraw(&self, _id: i64) -> Result<()> {
        Ok(())
    }
}

/// Desktop notifications through the freedesktop notification service (or
/// the platform's).
#[derive(Default)]
pub struct DesktopNotifier {
    /// Notification ids of alerts that may be withdrawn.
    shown: std::sync::Mutex<std::collections::HashMap<i64, u32>>,
}

impl Notifier for DesktopNotifier {
    fn withdraw(&self, id: i64) -> Result<()> {
        let shown = self.shown.lock().expect("notifier lock").remove(&id);
        match shown {
            Some(n) => close_notification(n),
            None => Ok(()),
        }
    }

    fn notify(&self, a: &Alert) -> Result<()> {
        let urgency = match a.kind {
            AlertKind::Died => notify_rust::Urgency::Critical,
            _ => notify_rust::Urgency::Normal,
        };
        let mut n = notify_rust::Notification::new();
        n.appname("agentwatch").summary(&a.title).body(&plain_body(&a.body)).icon("dialog-information");
        #[cfg(all(unix, not(target_os = "macos")))]
        n.urgency(urgency).hint(notify_rust::Hint::Category("im".into()));
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        let _ = urgency;
        let handle = n.show().map_err(|e| crate::Error::Other(format!("cannot show a notification: {e}")))?;
        #[cfg(all(unix, not(target_os = "macos")))]
        if a.kind.is_withdrawn_when_answered() {
            self.shown.lock().expect("notifier lock").insert(a.id, handle.id());
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        let _ = handle;
        Ok(())
    }
}

/// Closes a desktop notification by its id: the freedesktop service's
/// `CloseNotification`.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn close_notification(id: u32) -> Result<()> {
    let fail = |e: dbus::Error| crate::Error::Other(format!("cannot withdraw notification {id}: {e}"));
    let c = dbus::blocking::Connection::new_session().map_err(fail)?;
    let p = c.with_proxy(
        "org.freedesktop.Notifications",
        "/org/freedesktop/Notifications",
        std::time::Duration::from_secs(2),
    );
    p.method_call::<(), _, _, _>("org.freedesktop.Notifications", "CloseNotification", (id,)).map_err(fail)
}

/// Notifications are shown by the platform's own service there, and not
/// withdrawn.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub fn close_notification(_id: u32) -> Result<()> {
    Ok(())
}

/// An alert's text as a notification body. Notification servers may read
/// bodies as markup (`<b>`, `<a href>`), and alert texts carry names that
/// agents and users chose: shown as they are, never as markup.
pub fn plain_body(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

type Candidate = AlertCandidate;

trait Label {
    fn label(&self) -> String;
}

impl Label for Candidate {
    /// "Codex in api-server", "builder".
    fn label(&self) -> String {
        let project = self.project.as_deref().map(|p| p.trim_end_matches('/').rsplit('/').next().unwrap_or(p));
        match (self.name.as_deref(), project) {
            (Some(n), _) if !n.is_empty() => n.to_string(),
            (_, Some(p)) if !p.is_empty() => format!("{} in {p}", agent_display_name(&self.agent)),
            _ => agent_display_name(&self.agent).to_string(),
        }
    }
}

pub struct AlertEngine {
    /// Changes before this time (ms) are history, not news.
    since: i64,
}

impl AlertEngine {
    /// An engine that alerts about what happens from `since` (ms) on.
    pub fn new(since: i64) -> AlertEngine {
        AlertEngine { since }
    }

    /// Raises the alerts that are due, stores them, and returns the new
    /// ones (suppressed ones included, marked).
    pub fn evaluate(&self, store: &Store, cfg: &Config, prices: &PriceBook, now: i64) -> Result<Vec<Alert>> {
        let mut raised = Vec::new();
        let recent = self.since.max(now - 3_600_000);

        // Died: every transition to dead, except the ones the user caused.
        for c in store.alert_candidates(AlertTrigger::Died, recent)? {
            let key = format!("died:{}:{}", c.pk, c.change_id.unwrap_or(0));
            let title = format!("{} died", c.label());
            let body = "The agent's process ended in the middle of its work.".to_string();
            raised.extend(insert(store, cfg, now, AlertKind::Died, Some(&c), &key, &title, &body)?);
        }
        // Stale: no heartbeat within the threshold.
        for c in store.alert_candidates(AlertTrigger::Stale, recent)? {
            let minutes = c.heartbeat_at.map_or(0, |h| (now - h) / 60_000);
            let who = c.program.clone().or(c.name.clone()).unwrap_or_else(|| c.label());
            let key = format!("stale:{}:{}", c.pk, c.changed_at);
            let title = format!("No heartbeat from {who} for {minutes} min");
            let body = format!("{} stopped reporting; it may be stuck.", c.label());
            raised.extend(insert(store, cfg, now, AlertKind::Stale, Some(&c), &key, &title, &body)?);
        }
        // Asks permission, or asks a question: at once, while it still waits.
        for c in store.alert_candidates(AlertTrigger::Asks, recent)? {
            let tool = c.pending_tool.as_deref().and_then(PendingTool::from_json);
            let (kind, title, body) = if c.waiting_for.as_deref() == Some("question") {
                let q = tool.as_ref().map(|t| t.summary.clone()).filter(|s| !s.is_empty());
                let title = format!("{} asks a question", c.label());
                (AlertKind::Question, title, q.unwrap_or_else(|| "It waits for your answer.".into()))
            } else {
                let what = tool.as_ref().map(PendingTool::label);
                let title = match &what {
                    Some(w) => format!("{} asks permission: {w}", c.label()),
                    None => format!("{} asks permission", c.label()),
                };
                (AlertKind::Permission, title, "It waits for you to approve or deny a tool call.".to_string())
            };
            let key = format!("{}:{}:{}", kind.as_str(), c.pk, c.change_id.unwrap_or(0));
            raised.extend(insert(store, cfg, now, kind, Some(&c), &key, &title, &body)?);
        }
        // Waiting for you: its turn ended (it worked, then waited) longer than
        // the delay ago. A fresh agent at its prompt has nothing to tell.
        let delay = (cfg.waiting_alert_delay_secs * 1000) as i64;
        for c in store.alert_candidates(AlertTrigger::TurnEnded, recent)? {
            if now - c.changed_at < delay {
                continue;
            }
            let key = format!("waiting:{}:{}", c.pk, c.changed_at);
            let title = format!("{} is waiting for you", c.label());
            let body = "It finished its turn.".to_string();
            raised.extend(insert(store, cfg, now, AlertKind::Waiting, Some(&c), &key, &title, &body)?);
        }
        // Budgets, in local time.
        let zone = Zone::Local;
        let today = zone.date_of(now);
        for (limit, period, kind) in [
            (cfg.budgets.daily_usd, Period::Day, AlertKind::BudgetDaily),
            (cfg.budgets.monthly_usd, Period::Month, AlertKind::BudgetMonthly),
        ] {
            let Some(limit) = limit else { continue };
            let since = match period {
                Period::Month => today.with_day0(0).unwrap_or(today),
                _ => today,
            };
            let opts = ReportOptions { since: Some(since), until: Some(today), zone, ..Default::default() };
            let spent = period_report(store, prices, &opts, period)?.totals.cost;
            if spent <= limit {
                continue;
            }
            let label = period.key(today);
            let key = format!("{}:{label}", kind.as_str());
            let (title, body) = match kind {
                AlertKind::BudgetDaily => {
                    (format!("Daily budget ${limit:.2} exceeded"), format!("Today's usage has cost ${spent:.2}."))
                }
                _ => (
                    format!("Monthly budget ${limit:.2} exceeded"),
                    format!("This month's usage has cost ${spent:.2}."),
                ),
            };
            raised.extend(insert(store, cfg, now, kind, None, &key, &title, &body)?);
        }
        // Plan windows: the highest threshold reached, once per window.
        for l in crate::limits::current(store, now)? {
            let Some(reset) = l.resets_at_ms else { continue };
            let reached = cfg.limits.alert_at_percent.iter().copied().filter(|t| l.used_percent >= *t).reduce(f64::max);
            let Some(t) = reached else { continue };
            let window_start = reset - l.window_minutes * 60_000;
            let prefix = format!("limit:{}:{}:", l.agent, l.window_minutes);
            if limit_alerted(store, &prefix, window_start)?.iter().any(|done| *done >= t) {
                continue;
            }
            let key = format!("{prefix}{t}:{}", reset / 60_000);
            let plan = crate::model::agent_short_name(&l.agent);
            let window = crate::limits::window_phrase(l.window_minutes);
            let title = format!("{plan} {window} window at {}%", crate::limits::percent(l.used_percent));
            let body = format!(
                "Your {plan} plan's {window} window is {}% used; it resets at {}.",
                crate::limits::percent(l.used_percent),
                crate::limits::local_time(reset, now)
            );
            raised.extend(insert(store, cfg, now, AlertKind::Limit, None, &key, &title, &body)?);
        }
        Ok(raised)
    }
}

/// The thresholds already alerted for a window (keys starting `prefix`,
/// raised since the window began).
fn limit_alerted(store: &Store, prefix: &str, since: i64) -> Result<Vec<f64>> {
    let keys = store.limit_alert_keys(prefix, since)?;
    Ok(keys.iter().filter_map(|k| k[prefix.len()..].split(':').next()?.parse().ok()).collect())
}

/// Why an alert raised now should not be shown, if it should not.
pub fn suppression(store: &Store, cfg: &Config, session_id: Option<&str>, now: i64) -> Result<Option<String>> {
    if !cfg.notifications.enabled {
        return Ok(Some("notifications off".into()));
    }
    let until = |scope: &str| store.snoozed_until(scope, now);
    if until("all")?.is_some() {
        return Ok(Some("paused".into()));
    }
    if let Some(id) = session_id
        && until(id)?.is_some()
    {
        return Ok(Some("snoozed".into()));
    }
    if let Some(q) = &cfg.notifications.quiet_hours {
        let local = DateTime::<Utc>::from_timestamp_millis(now).unwrap_or_default().with_timezone(&Local).time();
        if q.contains(local) {
            return Ok(Some("quiet hours".into()));
        }
    }
    Ok(None)
}

#[allow(clippy::too_many_arguments)]
fn insert(
    store: &Store,
    cfg: &Config,
    now: i64,
    kind: AlertKind,
    c: Option<&Candidate>,
    key: &str,
    title: &str,
    body: &str,
) -> Result<Option<Alert>> {
    let suppressed = suppression(store, cfg, c.map(|c| c.id.as_str()), now)?;
    let Some(id) = store.insert_alert(now, c.map(|c| c.pk), kind.as_str(), key, title, body, suppressed.as_deref())?
    else {
        return Ok(None);
    };
    let alert = Alert {
        id,
        at: crate::util::iso(now),
        kind,
        session_id: c.map(|c| c.id.clone()),
        title: title.to_string(),
        body: body.to_string(),
        delivered: false,
        suppressed,
        resolved_at: None,
    };
    let data = serde_json::to_string(&alert).expect("alert serializes");
    store.push_event(event::ALERT, alert.session_id.as_deref(), Some(&data))?;
    Ok(Some(alert))
}

/// Marks the permission and question alerts whose session no longer waits
/// for that answer as resolved (the person approved, denied or answered, or
/// the agent went away), and returns their ids: their notifications are to
/// be withdrawn. Each is resolved once.
pub fn resolve_answered(store: &Store, now: i64) -> Result<Vec<i64>> {
    let rows = store.answered_alerts()?;
    for (id, session) in &rows {
        if store.resolve_alert(*id, now)? {
            store.push_event(event::ALERT_RESOLVED, Some(session), Some(&serde_json::json!({"id": id}).to_string()))?;
        }
    }
    Ok(rows.into_iter().map(|(id, _)| id).collect())
}

/// Takes back the notifications of resolved alerts.
pub fn withdraw(notifier: &dyn Notifier, ids: &[i64]) {
    for id in ids {
        if let Err(e) = notifier.withdraw(*id) {
            tracing::warn!("alert {id}: cannot withdraw its notification: {e}");
        }
    }
}

/// Shows the alerts that are not suppressed and records that they were.
pub fn deliver(store: &Store, notifier: &dyn Notifier, alerts: &[Alert]) -> Result<usize> {
    let mut shown = 0;
    for a in alerts.iter().filter(|a| a.suppressed.is_none()) {
        match notifier.notify(a) {
            Ok(()) => {
                store.mark_alert_delivered(a.id)?;
                shown += 1;
            }
            Err(e) => tracing::warn!("alert {}: {e}", a.id),
        }
    }
    Ok(shown)
}

/// Stored alerts, newest first.
pub fn list(store: &Store, limit: usize) -> Result<Vec<Alert>> {
    Ok(store.alerts(limit)?.into_iter().map(alert_of).collect())
}

/// The alerts about one session, oldest first.
pub fn for_session(store: &Store, pk: i64) -> Result<Vec<Alert>> {
    Ok(store.session_alerts(pk)?.into_iter().map(alert_of).collect())
}

fn alert_of(r: AlertRow) -> Alert {
    Alert {
        id: r.id,
        at: crate::util::iso(r.at),
        kind: AlertKind::parse(&r.kind),
        session_id: r.session_id,
        title: r.title,
        body: r.body,
        delivered: r.delivered,
        suppressed: r.suppressed,
        resolved_at: r.resolved_at.map(crate::util::iso),
    }
}

/// Pauses alerts for a session id, or for everything with `all`, until `until` (ms).
pub fn snooze(store: &Store, scope: &str, until: i64) -> Result<()> {
    store.snooze(scope, until)
}

/// Ends every snooze and pause.
pub fn resume(store: &Store) -> Result<usize> {
    store.end_snoozes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SessionState;
    use crate::paths::Dirs;
    use crate::store::ProcessFacts;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Notifier for Recorder {
        fn notify(&self, a: &Alert) -> Result<()> {
            self.0.lock().unwrap().push(a.title.clone());
            Ok(())
        }
    }

    fn setup() -> (tempfile::TempDir, Store, i64) {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let facts = ProcessFacts {
            agent: "codex".into(),
            pid: 42,
            start: 1_700_000_000,
            command: "codex".into(),
            cwd: Some("/home/u/api-server".into()),
            name: None,
            transcript: None,
        };
        let (pk, _) = store.attach_process(&facts, Some("abc"), 1000).unwrap();
        (t, store, pk)
    }

    #[test]
    fn a_death_alerts_once_with_a_readable_title() {
        let (_t, store, pk) = setup();
        let now = crate::util::now_ms();
        store.transition(pk, SessionState::Working, now - 5000, "running", Some(1)).unwrap();
        store.transition(pk, SessionState::Dead, now - 1000, "process exited mid-turn", Some(2)).unwrap();
        let cfg = Config::default();
        let engine = AlertEngine::new(now - 10_000);
        let prices = PriceBook::embedded();
        let first = engine.evaluate(&store, &cfg, &prices, now).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].title, "Codex in api-server died");
        assert_eq!(first[0].kind, AlertKind::Died);
        let rec = Recorder::default();
        assert_eq!(deliver(&store, &rec, &first).unwrap(), 1);
        assert!(engine.evaluate(&store, &cfg, &prices, now + 2000).unwrap().is_empty(), "de-duplicated");
        assert!(list(&store, 10).unwrap()[0].delivered);
        // Changes from before the engine started are history.
        assert!(AlertEngine::new(now).evaluate(&store, &cfg, &prices, now).unwrap().is_empty());
    }

    #[test]
    fn a_plan_window_alerts_once_per_window_at_the_highest_threshold() {
        use crate::limits::LimitReading;
        let (_t, store, _) = setup();
        let now = crate::util::now_ms();
        let (cfg, prices, engine) = (Config::default(), PriceBook::embedded(), AlertEngine::new(now));
        let read = |at: i64, used: f64, reset: i64| {
            let r = LimitReading {
                agent: "claude-code".into(),
                window_minutes: 300,
                used_percent: used,
                resets_at: Some(reset),
                observed_at: at,
                source: "statusline",
                plan: None,
                session: None,
            };
            store.record_limit(&r, None).unwrap();
        };
        let reset = now + 2 * 3_600_000;
        read(now - 60_000, 50.0, reset);
        assert!(engine.evaluate(&store, &cfg, &prices, now).unwrap().is_empty(), "under 80 %");
        read(now, 83.0, reset + 20_000); // the reset time moves by seconds between readings
        let a = engine.evaluate(&store, &cfg, &prices, now).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].kind, a[0].title.as_str()), (AlertKind::Limit, "Claude 5-hour window at 83%"));
        assert!(a[0].body.starts_with("Your Claude plan's 5-hour window is 83% used; it resets at "), "{}", a[0].body);
        read(now + 1000, 88.0, reset);
        assert!(engine.evaluate(&store, &cfg, &prices, now + 1000).unwrap().is_empty(), "80 % was said");
        read(now + 2000, 96.0, reset);
        let a = engine.evaluate(&store, &cfg, &prices, now + 2000).unwrap();
        assert_eq!(a[0].title, "Claude 5-hour window at 96%");
        assert!(engine.evaluate(&store, &cfg, &prices, now + 3000).unwrap().is_empty(), "95 % was said");
        // The next window alerts again; quiet hours and snoozes hold it back
        // like any other alert.
        let next = reset + 5 * 3_600_000;
        read(reset + 60_000, 81.0, next);
        snooze(&store, "all", reset + 3_600_000).unwrap();
        let a = engine.evaluate(&store, &cfg, &prices, reset + 60_000).unwrap();
        assert_eq!((a.len(), a[0].suppressed.as_deref()), (1, Some("paused")));
    }

    #[test]
    fn waiting_alerts_after_the_delay_and_again_after_a_new_wait() {
        let (_t, store, pk) = setup();
        let now = crate::util::now_ms();
        let cfg = Config::default();
        let prices = PriceBook::embedded();
        let engine = AlertEngine::new(now - 100_000);
        // A fresh agent at its prompt is no news.
        store.transition(pk, SessionState::Waiting, now - 60_000, "at its prompt", Some(1)).unwrap();
        assert!(engine.evaluate(&store, &cfg, &prices, now).unwrap().is_empty(), "nothing done yet");
        store.transition(pk, SessionState::Working, now - 50_000, "prompt", Some(1)).unwrap();
        store.transition(pk, SessionState::Waiting, now - 10_000, "turn ended", Some(1)).unwrap();
        assert!(engine.evaluate(&store, &cfg, &prices, now).unwrap().is_empty(), "not yet: 30 s delay");
        let a = engine.evaluate(&store, &cfg, &prices, now + 21_000).unwrap();
        assert_eq!(a[0].title, "Codex in api-server is waiting for you");
        store.transition(pk, SessionState::Working, now + 22_000, "activity", Some(2)).unwrap();
        store.transition(pk, SessionState::Waiting, now + 30_000, "turn ended", Some(3)).unwrap();
        assert_eq!(engine.evaluate(&store, &cfg, &prices, now + 61_000).unwrap().len(), 1, "a new wait, a new alert");
    }

    #[test]
    fn a_permission_prompt_alerts_at_once_and_is_withdrawn_when_answered() {
        use crate::liveness::{Signal, Verdict, WaitingFor};
        let (_t, store, pk) = setup();
        let now = crate::util::now_ms();
        let (cfg, prices) = (Config::default(), PriceBook::embedded());
        let engine = AlertEngine::new(now - 100_000);
        store.transition(pk, SessionState::Working, now - 5_000, "prompt", Some(1)).unwrap();
        let ask =
            Verdict { state: SessionState::Waiting, waiting_for: Some(WaitingFor::Permission), signal: Signal::Hook };
        let tool = PendingTool::new("Bash", "rm -rf build");
        store.record_verdict(pk, &ask, Some(&tool), now - 1_000, "asks", Some(2)).unwrap();
        let a = engine.evaluate(&store, &cfg, &prices, now).unwrap();
        assert_eq!(a.len(), 1, "no waiting delay for a permission prompt");
        assert_eq!(
            (a[0].kind, a[0].title.as_str()),
            (AlertKind::Permission, "Codex in api-server asks permission: Bash(rm -rf build)")
        );
        assert!(resolve_answered(&store, now).unwrap().is_empty(), "still asking");
        let rec = Recorder::default();
        deliver(&store, &rec, &a).unwrap();
        // Approved: working again; the alert is resolved once, with an event.
        store.transition(pk, SessionState::Working, now + 1_000, "approved", Some(3)).unwrap();
        assert_eq!(resolve_answered(&store, now + 1_100).unwrap(), vec![a[0].id]);
        assert!(resolve_answered(&store, now + 1_200).unwrap().is_empty());
        assert!(list(&store, 10).unwrap()[0].resolved_at.is_some());
        let kinds: Vec<String> = store.events_after(0, 100).unwrap().into_iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&"alert.resolved".to_string()), "{kinds:?}");
        // A question says so, with the question.
        let q = Verdict {
            state: SessionState::Waiting,
            waiting_for: Some(WaitingFor::Question),
            signal: Signal::Transcript,
        };
        let asked = PendingTool::new("AskUserQuestion", "Which colour?");
        store.record_verdict(pk, &q, Some(&asked), now + 2_000, "asks", Some(4)).unwrap();
        let a = engine.evaluate(&store, &cfg, &prices, now + 2_100).unwrap();
        assert_eq!(
            (a[0].kind, a[0].title.as_str(), a[0].body.as_str()),
            (AlertKind::Question, "Codex in api-server asks a question", "Which colour?")
        );
        // A prompt answered before the engine looks raises nothing.
        store.transition(pk, SessionState::Working, now + 3_000, "answered", Some(5)).unwrap();
        store.record_verdict(pk, &ask, Some(&tool), now + 4_000, "asks", Some(6)).unwrap();
        store.transition(pk, SessionState::Working, now + 4_500, "approved", Some(7)).unwrap();
        assert!(
            engine
                .evaluate(&store, &cfg, &prices, now + 5_000)
                .unwrap()
                .iter()
                .all(|a| a.kind != AlertKind::Permission)
        );
    }

    #[test]
    fn pause_snooze_and_quiet_hours_suppress_but_record() {
        let (_t, store, pk) = setup();
        let now = crate::util::now_ms();
        let prices = PriceBook::embedded();
        store.transition(pk, SessionState::Dead, now - 1000, "process exited mid-turn", Some(1)).unwrap();
        snooze(&store, "all", now + 3_600_000).unwrap();
        let a = AlertEngine::new(now - 10_000).evaluate(&store, &Config::default(), &prices, now).unwrap();
        assert_eq!(a[0].suppressed.as_deref(), Some("paused"));
        let rec = Recorder::default();
        assert_eq!(deliver(&store, &rec, &a).unwrap(), 0);
        assert!(rec.0.lock().unwrap().is_empty());
        resume(&store).unwrap();
        assert_eq!(suppression(&store, &Config::default(), Some("abc"), now).unwrap(), None);
        snooze(&store, "abc", now + 1000).unwrap();
        assert_eq!(suppression(&store, &Config::default(), Some("abc"), now).unwrap().as_deref(), Some("snoozed"));
        let mut quiet = Config::default();
        quiet.notifications.quiet_hours =
            Some(crate::config::QuietHours { start: "00:00".into(), end: "23:59".into() });
        let late = chrono::Local::now().date_naive().and_hms_opt(12, 0, 0).unwrap();
        let noon = late.and_local_timezone(Local).unwrap().timestamp_millis();
        assert_eq!(suppression(&store, &quiet, None, noon).unwrap().as_deref(), Some("quiet hours"));
    }

    #[test]
    fn notification_bodies_are_never_markup() {
        assert_eq!(
            plain_body("<b>x</b> & <a href=\"y\">z</a>"),
            "&lt;b&gt;x&lt;/b&gt; &amp; &lt;a href=\"y\"&gt;z&lt;/a&gt;"
        );
        assert_eq!(plain_body("It finished its turn."), "It finished its turn.");
    }
}
