//! Plan limits: the 5-hour and weekly windows of Claude and Codex
//! subscriptions, as the agents themselves report them, without any network
//! access.
//!
//! - **Codex** writes `rate_limits` on its `token_count` rollout events
//!   (from the `x-codex-*` headers of its model's responses): read with the
//!   rest of the rollout ([`crate::sources::codex`]).
//! - **Claude Code** hands `rate_limits.five_hour` / `seven_day` to its status
//!   line command: `agentwatch statusline` records them
//!   ([`crate::statusline`]).
//!
//! Windows are told apart by their length (`window_minutes`: 300 is the
//! 5-hour window, 10080 the week), never by which slot they came in. API-key
//! users get no windows, and see none: nothing here is estimated. A reading
//! that cannot be right (a percentage outside 0–100, a reset before the
//! reading or further ahead than the window is long) is logged and dropped.

use chrono::{DateTime, Local, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::model::agent_short_name;
use crate::store::{LimitSample, Store};

/// A reading older than this is shown with its age.
pub const STALE_AFTER_MS: i64 = 15 * 60_000;
/// The forecast's burn rate is measured over this much of the latest readings.
pub const FORECAST_SPAN_MS: i64 = 30 * 60_000;

/// What an agent said about one window of its plan.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitReading {
    /// The agent type id: `codex`, `claude-code`.
    pub agent: String,
    pub window_minutes: i64,
    pub used_percent: f64,
    /// When the window resets (ms); None: not said.
    pub resets_at: Option<i64>,
    /// When the agent said it (ms).
    pub observed_at: i64,
    /// `rollout`, `statusline`.
    pub source: &'static str,
    pub plan: Option<String>,
    /// The agent's own id of the session that reported it.
    pub session: Option<String>,
}

impl LimitReading {
    /// Why the reading cannot be right, if it cannot.
    pub fn check(&self) -> std::result::Result<(), String> {
        // Named only when something is wrong: a rollout has a reading per call.
        let what = || format!("{} {} window", agent_short_name(&self.agent), window_name(self.window_minutes));
        if !(1..=60 * 24 * 62).contains(&self.window_minutes) {
            return Err(format!("{}: a window of {} minutes", agent_short_name(&self.agent), self.window_minutes));
        }
        if !(self.used_percent.is_finite() && (0.0..=100.0).contains(&self.used_percent)) {
            return Err(format!("{}: {}% used is not a percentage", what(), self.used_percent));
        }
        if let Some(at) = self.resets_at {
            let slack = 5 * 60_000;
            if at < self.observed_at - slack {
                return Err(format!(
                    "{}: it resets at {}, before it was read ({})",
                    what(),
                    iso(at),
                    iso(self.observed_at)
                ));
            }
            if at > self.observed_at + self.window_minutes * 60_000 + slack {
                return Err(format!("{}: it resets at {}, further ahead than the window is long", what(), iso(at)));
            }
        }
        Ok(())
    }
}

/// "5h", "week", else the length: "90m", "12h", "3d".
pub fn window_name(minutes: i64) -> String {
    match minutes {
        300 => "5h".into(),
        10_080 => "week".into(),
        m if m % 1440 == 0 => format!("{}d", m / 1440),
        m if m % 60 == 0 => format!("{}h", m / 60),
        m => format!("{m}m"),
    }
}

/// A window's name in a sentence: "5-hour", "weekly".
pub fn window_phrase(minutes: i64) -> String {
    match minutes {
        300 => "5-hour".into(),
        10_080 => "weekly".into(),
        m => format!("{} ", window_name(m)).trim_end().to_string(),
    }
}

fn iso(ms: i64) -> String {
    crate::views::iso(ms)
}

/// One plan window as users see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limit {
    pub agent: String,
    /// The plan's name for people: "Claude", "Codex".
    pub label: String,
    /// "5h", "week", …
    pub window: String,
    pub window_minutes: i64,
    /// 0 once the window has reset, until new readings come.
    pub used_percent: f64,
    pub resets_at: Option<String>,
    pub observed_at: String,
    /// `rollout`, `statusline`.
    pub source: String,
    pub plan: Option<String>,
    /// Seconds since the reading.
    pub age_seconds: i64,
    /// Older than 15 minutes: the window may have moved since.
    pub stale: bool,
    /// The reset time has passed since the reading.
    pub reset_passed: bool,
    /// When the window reaches 100 % at the last 30 minutes' rate, if
    /// that comes before its reset.
    pub full_at: Option<String>,
    #[serde(skip)]
    pub resets_at_ms: Option<i64>,
    #[serde(skip)]
    pub observed_at_ms: i64,
    #[serde(skip)]
    pub full_at_ms: Option<i64>,
}

/// What `agentwatch limits --format json`, `GET /api/limits` and the MCP
/// tool `get_limits` answer: every window, and a line per plan as the tray
/// shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub limits: Vec<Limit>,
    /// `Claude 5h 37% · resets 14:05 | week 21%`, local time.
    pub plans: Vec<String>,
}

pub fn report(store: &Store, now: i64) -> Result<Report> {
    let limits = current(store, now)?;
    let plans = plan_lines(&limits, now);
    Ok(Report { limits, plans })
}

/// The current state of every window agentwatch has readings for.
pub fn current(store: &Store, now: i64) -> Result<Vec<Limit>> {
    let mut out = Vec::new();
    for s in store.latest_limits()? {
        let recent = store.limit_samples(&s.agent, s.window_minutes, s.observed_at - FORECAST_SPAN_MS)?;
        out.push(view(&s, &recent, now));
    }
    Ok(out)
}

/// The view of the newest sample `s`, with the forecast from `recent` (the
/// window's samples of the last 30 minutes before it, oldest first).
pub fn view(s: &LimitSample, recent: &[LimitSample], now: i64) -> Limit {
    let reset_passed = s.resets_at.is_some_and(|r| r <= now);
    let full_at_ms = if reset_passed { None } else { forecast(s, recent) };
    Limit {
        agent: s.agent.clone(),
        label: agent_short_name(&s.agent).to_string(),
        window: window_name(s.window_minutes),
        window_minutes: s.window_minutes,
        used_percent: if reset_passed { 0.0 } else { s.used_percent },
        resets_at: s.resets_at.filter(|_| !reset_passed).map(iso),
        observed_at: iso(s.observed_at),
        source: s.source.clone(),
        plan: s.plan.clone(),
        age_seconds: ((now - s.observed_at) / 1000).max(0),
        stale: now - s.observed_at > STALE_AFTER_MS,
        reset_passed,
        full_at: full_at_ms.map(iso),
        resets_at_ms: s.resets_at.filter(|_| !reset_passed),
        observed_at_ms: s.observed_at,
        full_at_ms,
    }
}

/// When the window reaches 100 % at the rate of its readings over the last
/// 30 minutes (of this same window: a reset in between starts over), if
/// that comes before it resets.
fn forecast(last: &LimitSample, recent: &[LimitSample]) -> Option<i64> {
    let same_window = |o: &LimitSample| match (o.resets_at, last.resets_at) {
        (Some(a), Some(b)) => (a - b).abs() <= 5 * 60_000,
        (None, None) => true,
        _ => false,
    };
    let first = recent
        .iter()
        .filter(|o| o.observed_at >= last.observed_at - FORECAST_SPAN_MS && o.observed_at < last.observed_at)
        .find(|o| same_window(o))?;
    let span = last.observed_at - first.observed_at;
    let rise = last.used_percent - first.used_percent;
    if span < 60_000 || rise <= 0.0 || last.used_percent >= 100.0 {
        return None;
    }
    let at = last.observed_at + ((100.0 - last.used_percent) / rise * span as f64) as i64;
    match last.resets_at {
        Some(reset) if at >= reset => None,
        _ => Some(at),
    }
}

/// How much of each current window of `agent` one session used: its share
/// of all the agent's tokens since the window began, times the window's use.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    pub window: String,
    pub window_minutes: i64,
    /// Percent of the whole window this session used (about).
    pub percent: f64,
    /// The session's part of the window's use so far, 0–1.
    pub fraction: f64,
}

pub fn session_shares(store: &Store, agent: &str, session_pk: i64, now: i64) -> Result<Vec<Share>> {
    let mut out = Vec::new();
    for l in current(store, now)?.into_iter().filter(|l| l.agent == agent && !l.reset_passed) {
        let Some(reset) = l.resets_at_ms else { continue };
        let start = reset - l.window_minutes * 60_000;
        let tokens = store.window_tokens(agent, start)?;
        let total: u64 = tokens.iter().map(|(_, t)| t).sum();
        let mine = tokens.iter().find(|(pk, _)| *pk == session_pk).map_or(0, |(_, t)| *t);
        if total == 0 || mine == 0 {
            continue;
        }
        let fraction = mine as f64 / total as f64;
        out.push(Share {
            window: l.window.clone(),
            window_minutes: l.window_minutes,
            percent: l.used_percent * fraction,
            fraction,
        });
    }
    Ok(out)
}

/// "about 31 % of your 5-hour window, 4 % of your weekly window".
pub fn shares_sentence(shares: &[Share]) -> Option<String> {
    if shares.is_empty() {
        return None;
    }
    let parts: Vec<String> = shares
        .iter()
        .map(|s| format!("{} % of your {} window", percent(s.percent), window_phrase(s.window_minutes)))
        .collect();
    Some(format!("about {}", parts.join(", ")))
}

/// A percentage as people read it: whole numbers, "<1" for a sliver.
pub fn percent(p: f64) -> String {
    if p > 0.0 && p < 1.0 { "<1".into() } else { format!("{:.0}", p) }
}

/// A time in local time: "14:05" today, "Tue 14:05" within a week, else
/// "Dec 12 14:05".
pub fn local_time(ms: i64, now: i64) -> String {
    let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().with_timezone(&Local);
    let n = DateTime::<Utc>::from_timestamp_millis(now).unwrap_or_default().with_timezone(&Local);
    if t.date_naive() == n.date_naive() {
        t.format("%H:%M").to_string()
    } else if (ms - now).abs() < 6 * 86_400_000 {
        t.format("%a %H:%M").to_string()
    } else {
        t.format("%b %-d %H:%M").to_string()
    }
}

/// How long ago, roughly: "3 min", "2 h", "4 d".
pub fn age(ms: i64) -> String {
    let m = ms / 60_000;
    match m {
        ..=0 => "<1 min".into(),
        1..=59 => format!("{m} min"),
        60..=2879 => format!("{} h", m / 60),
        _ => format!("{} d", m / 1440),
    }
}

/// A line per plan, shortest window first: `Claude 5h 37% · resets 14:05 |
/// week 21%`. Stale readings say how old they are; a window that reset
/// says so.
pub fn plan_lines(limits: &[Limit], now: i64) -> Vec<String> {
    let mut agents: Vec<&str> = limits.iter().map(|l| l.agent.as_str()).collect();
    agents.dedup();
    agents
        .into_iter()
        .map(|agent| {
            let mut parts = Vec::new();
            let mut windows: Vec<&Limit> = limits.iter().filter(|l| l.agent == agent).collect();
            windows.sort_by_key(|l| l.window_minutes);
            for (i, l) in windows.iter().enumerate() {
                let mut s = format!("{} {}%", l.window, percent(l.used_percent));
                if l.reset_passed {
                    s.push_str(" (reset)");
                } else if i == 0
                    && let Some(r) = l.resets_at_ms
                {
                    s.push_str(&format!(" · resets {}", local_time(r, now)));
                }
                parts.push(s);
            }
            let mut line = format!("{} {}", agent_short_name(agent), parts.join(" | "));
            if let Some(oldest) = windows.iter().filter(|l| l.stale).map(|l| l.observed_at_ms).min() {
                line.push_str(&format!(" ({} ago)", age(now - oldest)));
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const NOW: i64 = 1_780_000_000_000;

    fn sample(at: i64, used: f64, reset: Option<i64>) -> LimitSample {
        LimitSample {
            agent: "codex".into(),
            window_minutes: 300,
            observed_at: at,
            used_percent: used,
            resets_at: reset,
            source: "rollout".into(),
            plan: None,
        }
    }

    fn reading(used: f64, reset: Option<i64>, window: i64) -> LimitReading {
        LimitReading {
            agent: "claude-code".into(),
            window_minutes: window,
            used_percent: used,
            resets_at: reset,
            observed_at: NOW,
            source: "statusline",
            plan: None,
            session: None,
        }
    }

    #[test]
    fn a_batch_of_readings_keeps_the_last_hours_of_each_window() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&crate::paths::Dirs::under(t.path())).unwrap();
        const M: i64 = 60_000;
        let at = |t: i64, used: f64| (LimitReading { observed_at: t, ..reading(used, None, 300) }, None);
        // Out of order, as files are read: 30 days back, 3 hours, 1 hour, now; then 10 and 90 minutes back.
        let batch = [at(NOW - 720 * H, 5.0), at(NOW - 3 * H, 9.0), at(NOW - H, 7.0), at(NOW, 50.0)];
        store.record_limits(&batch).unwrap();
        store.record_limits(&[at(NOW - 10 * M, 40.0), at(NOW - 90 * M, 6.0)]).unwrap();
        let kept: Vec<(i64, f64)> = store
            .limit_samples("claude-code", 300, 0)
            .unwrap()
            .iter()
            .map(|s| ((NOW - s.observed_at) / M, s.used_percent))
            .collect();
        assert_eq!(kept, [(90, 6.0), (60, 7.0), (10, 40.0), (0, 50.0)]);
        // One by one, a newer reading drops what is more than 2 hours older.
        store.record_limit(&at(NOW + 100 * M, 60.0).0, None).unwrap();
        let left = store.limit_samples("claude-code", 300, 0).unwrap();
        assert_eq!(left.iter().map(|s| s.used_percent).collect::<Vec<_>>(), [40.0, 50.0, 60.0]);
        assert_eq!(store.latest_limits().unwrap()[0].used_percent, 60.0);
    }

    #[test]
    fn windows_are_named_by_length() {
        assert_eq!([300, 10_080, 1440, 120, 90].map(window_name), ["5h", "week", "1d", "2h", "90m"].map(String::from));
    }

    #[test]
    fn impossible_readings_are_refused_with_a_reason() {
        assert!(reading(37.0, Some(NOW + 2 * H), 300).check().is_ok());
        assert!(reading(0.0, None, 300).check().is_ok());
        assert!(reading(100.0, Some(NOW + H), 300).check().is_ok());
        let e = reading(140.0, Some(NOW + H), 300).check().unwrap_err();
        assert_eq!(e, "Claude 5h window: 140% used is not a percentage");
        assert!(reading(-3.0, None, 300).check().unwrap_err().contains("-3% used"));
        assert!(reading(f64::NAN, None, 300).check().is_err());
        let e = reading(10.0, Some(NOW - 2 * H), 300).check().unwrap_err();
        assert!(e.contains("before it was read"), "{e}");
        let e = reading(10.0, Some(NOW + 3 * 365 * 24 * H), 10_080).check().unwrap_err();
        assert!(e.contains("further ahead than the window is long"), "{e}");
        assert!(reading(10.0, None, 0).check().is_err());
    }

    #[test]
    fn a_passed_reset_reads_zero_and_old_readings_are_stale() {
        let s = sample(NOW - 2 * H, 64.0, Some(NOW - H));
        let v = view(&s, &[], NOW);
        assert_eq!((v.used_percent, v.reset_passed, v.stale, v.resets_at), (0.0, true, true, None));
        let s = sample(NOW - 60_000, 64.0, Some(NOW + H));
        let v = view(&s, &[], NOW);
        assert_eq!((v.used_percent, v.reset_passed, v.stale, v.age_seconds), (64.0, false, false, 60));
    }

    #[test]
    fn the_forecast_projects_the_last_half_hour_and_only_before_the_reset() {
        let reset = NOW + 3 * H;
        let samples = [sample(NOW - 20 * 60_000, 40.0, Some(reset)), sample(NOW, 60.0, Some(reset))];
        // 20 points in 20 minutes: 40 more in 40 minutes.
        let v = view(&samples[1], &samples, NOW);
        assert_eq!(v.full_at_ms, Some(NOW + 40 * 60_000));
        // Slower: it would fill after the reset, so no forecast.
        let slow = [sample(NOW - 20 * 60_000, 58.0, Some(reset)), sample(NOW, 60.0, Some(reset))];
        assert_eq!(view(&slow[1], &slow, NOW).full_at_ms, None);
        // A reading of the previous window does not count.
        let other = [sample(NOW - 20 * 60_000, 10.0, Some(NOW - H)), sample(NOW, 60.0, Some(reset))];
        assert_eq!(view(&other[1], &other, NOW).full_at_ms, None);
        // Flat or falling: none.
        let flat = [sample(NOW - 20 * 60_000, 60.0, Some(reset)), sample(NOW, 60.0, Some(reset))];
        assert_eq!(view(&flat[1], &flat, NOW).full_at_ms, None);
    }

    #[test]
    fn plan_lines_read_like_the_tray() {
        let reset = NOW + 2 * H;
        let mut five = view(&sample(NOW - 60_000, 42.4, Some(reset)), &[], NOW);
        five.agent = "codex".into();
        let week =
            view(&LimitSample { window_minutes: 10_080, ..sample(NOW - 60_000, 17.0, Some(NOW + 48 * H)) }, &[], NOW);
        let lines = plan_lines(&[five, week], NOW);
        assert_eq!(lines, [format!("Codex 5h 42% · resets {} | week 17%", local_time(reset, NOW))]);
        let old = view(&sample(NOW - 3 * H, 42.0, Some(NOW + H)), &[], NOW);
        assert_eq!(plan_lines(&[old], NOW)[0], format!("Codex 5h 42% · resets {} (3 h ago)", local_time(NOW + H, NOW)));
    }

    #[test]
    fn shares_read_as_a_sentence() {
        let s = [
            Share { window: "5h".into(), window_minutes: 300, percent: 31.2, fraction: 0.5 },
            Share { window: "week".into(), window_minutes: 10_080, percent: 0.4, fraction: 0.1 },
        ];
        assert_eq!(shares_sentence(&s).unwrap(), "about 31 % of your 5-hour window, <1 % of your weekly window");
        assert_eq!(shares_sentence(&[]), None);
    }
}
