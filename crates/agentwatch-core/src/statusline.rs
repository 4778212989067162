//! Claude Code's status line: the JSON it hands its `statusLine` command on
//! stdin, recorded, and the one line agentwatch prints back.
//!
//! Claude Code (2.1) runs the command in its interactive terminal after
//! each change (debounced 300 ms), with `session_id`, `model`, `cost`,
//! `context_window` and, for subscription users only, `rate_limits`
//! (`five_hour` / `seven_day`: `used_percentage`, `resets_at` in epoch
//! seconds). Each line of the command's output is a row under its prompt.

use serde::Deserialize;

use crate::error::Result;
use crate::limits::{self, LimitReading};
use crate::pricing::PriceBook;
use crate::reports::{Period, ReportOptions, Zone, period_report};
use crate::store::{StatuslineReport, Store};

pub const AGENT: &str = "claude-code";

/// What agentwatch reads of the status line JSON.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Input {
    pub session_id: Option<String>,
    pub model: Option<Model>,
    pub cost: Option<Cost>,
    pub context_window: Option<ContextWindow>,
    pub rate_limits: Option<RateLimits>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Model {
    pub id: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Cost {
    pub total_cost_usd: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContextWindow {
    pub used_percentage: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RateLimits {
    pub five_hour: Option<Window>,
    pub seven_day: Option<Window>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Window {
    pub used_percentage: Option<f64>,
    /// Epoch seconds.
    pub resets_at: Option<f64>,
}

/// Parses the JSON on stdin; the error says why in one line.
pub fn parse(bytes: &[u8]) -> std::result::Result<Input, String> {
    serde_json::from_slice::<Input>(bytes).map_err(|e| format!("stdin is not Claude Code's status line JSON ({e})"))
}

impl Input {
    /// The model's name for people: its display name, else its id.
    pub fn model_name(&self) -> Option<&str> {
        let m = self.model.as_ref()?;
        m.display_name.as_deref().or(m.id.as_deref()).filter(|s| !s.is_empty())
    }

    /// The plan windows it reports, and a line for each one that is
    /// missing a field.
    pub fn readings(&self, now: i64) -> (Vec<LimitReading>, Vec<String>) {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        let Some(r) = &self.rate_limits else { return (out, problems) };
        for (name, minutes, w) in [("five_hour", 300, &r.five_hour), ("seven_day", 10_080, &r.seven_day)] {
            let Some(w) = w else { continue };
            let Some(used) = w.used_percentage else {
                problems.push(format!("rate_limits.{name} has no used_percentage; not recorded"));
                continue;
            };
            let resets_at = match w.resets_at {
                Some(s) if s.is_finite() && s.abs() < 1e13 => Some((s * 1000.0) as i64),
                Some(s) => {
                    problems.push(format!("rate_limits.{name}.resets_at {s} is not a time; not recorded"));
                    continue;
                }
                None => None,
            };
            out.push(LimitReading {
                agent: AGENT.into(),
                window_minutes: minutes,
                used_percent: used,
                resets_at,
                observed_at: now,
                source: "statusline",
                plan: None,
                session: self.session_id.clone(),
            });
        }
        (out, problems)
    }
}

/// Records what the status line says: the session's cost, context use and
/// model, and the plan windows that pass [`LimitReading::check`]. Returns a
/// line per thing left out.
pub fn record(store: &Store, input: &Input, now: i64) -> Result<Vec<String>> {
    let (readings, mut problems) = input.readings(now);
    let session = match &input.session_id {
        Some(id) if !id.is_empty() => {
            let report = StatuslineReport {
                observed_at: now,
                model: input.model_name().map(str::to_string),
                cost_usd: input.cost.as_ref().and_then(|c| c.total_cost_usd).filter(|c| c.is_finite() && *c >= 0.0),
                context_percent: input
                    .context_window
                    .as_ref()
                    .and_then(|c| c.used_percentage)
                    .filter(|p| p.is_finite() && (0.0..=100.0).contains(p)),
            };
            store.record_statusline(AGENT, id, &report)?;
            store.session_by_external_id(AGENT, id)?
        }
        _ => None,
    };
    for r in readings {
        match r.check() {
            Ok(()) => store.record_limit(&r, session)?,
            Err(why) => problems.push(format!("{why}; not recorded")),
        }
    }
    Ok(problems)
}

/// The line to print: model, session cost, today's cost, the 5-hour window
/// and when it resets, context use. `today` is today's cost of every agent
/// (None: not known). Text from the input is the caller's to escape.
pub fn render(input: &Input, today: Option<f64>, five_hour: Option<&limits::Limit>, now: i64) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = input.model_name() {
        parts.push(m.to_string());
    }
    if let Some(c) = input.cost.as_ref().and_then(|c| c.total_cost_usd).filter(|c| c.is_finite() && *c >= 0.0) {
        parts.push(format!("${c:.2} session"));
    }
    if let Some(t) = today {
        parts.push(format!("${t:.2} today"));
    }
    if let Some(l) = five_hour {
        let mut s = format!("5h {}%", limits::percent(l.used_percent));
        if let Some(r) = l.resets_at_ms {
            s.push_str(&format!(" (resets in {})", until(r - now)));
        }
        parts.push(s);
    }
    if let Some(p) = input.context_window.as_ref().and_then(|c| c.used_percentage).filter(|p| p.is_finite()) {
        parts.push(format!("ctx {}%", limits::percent(p.clamp(0.0, 100.0))));
    }
    if parts.is_empty() { "agentwatch".into() } else { parts.join(" · ") }
}

/// "2h 05m", "14m", "<1m".
fn until(ms: i64) -> String {
    let m = ms.max(0) / 60_000;
    match m {
        0 => "<1m".into(),
        1..=59 => format!("{m}m"),
        _ => format!("{}h {:02}m", m / 60, m % 60),
    }
}

/// Today's cost, local time, over every agent.
pub fn today_cost(store: &Store, prices: &PriceBook, now: i64) -> Result<f64> {
    let zone = Zone::Local;
    let today = zone.date_of(now);
    let opts = ReportOptions { since: Some(today), until: Some(today), zone, ..Default::default() };
    Ok(period_report(store, prices, &opts, Period::Day)?.totals.cost)
}

/// The current 5-hour window of Claude, if one is known.
pub fn five_hour(store: &Store, now: i64) -> Result<Option<limits::Limit>> {
    Ok(limits::current(store, now)?.into_iter().find(|l| l.agent == AGENT && l.window_minutes == 300))
}

/// The line printed when anything fails: the model, if the input says it.
pub fn minimal(input: Option<&Input>) -> String {
    input.and_then(Input::model_name).unwrap_or("agentwatch").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape Claude Code 2.1.197 sends (API-key user, after one reply),
    /// with a subscription's `rate_limits` added.
    const INPUT: &str = r#"{"session_id":"3f2b9c1e-0000-4000-8000-000000000001","transcript_path":"/home/u/.claude/projects/-home-u-proj/3f2b9c1e-0000-4000-8000-000000000001.jsonl","cwd":"/home/u/proj","model":{"id":"claude-sonnet-4-5","display_name":"Sonnet 4.5"},"workspace":{"current_dir":"/home/u/proj","project_dir":"/home/u/proj","added_dirs":[]},"version":"2.1.197","output_style":{"name":"default"},"cost":{"total_cost_usd":0.0123,"total_duration_ms":45000,"total_api_duration_ms":2300,"total_lines_added":10,"total_lines_removed":2},"context_window":{"total_input_tokens":15234,"total_output_tokens":412,"context_window_size":200000,"current_usage":{"input_tokens":8,"output_tokens":412,"cache_creation_input_tokens":1200,"cache_read_input_tokens":14026},"used_percentage":8,"remaining_percentage":92},"exceeds_200k_tokens":false,"fast_mode":false,"thinking":{"enabled":true},"rate_limits":{"five_hour":{"used_percentage":37.5,"resets_at":1780003600},"seven_day":{"used_percentage":21,"resets_at":1780300000}}}"#;
    const NOW: i64 = 1_780_000_000_000;

    #[test]
    fn reads_the_windows_in_epoch_seconds() {
        let i = parse(INPUT.as_bytes()).unwrap();
        let (r, problems) = i.readings(NOW);
        assert!(problems.is_empty());
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].window_minutes, r[0].used_percent, r[0].resets_at), (300, 37.5, Some(1_780_003_600_000)));
        assert_eq!((r[1].window_minutes, r[1].used_percent), (10_080, 21.0));
        assert_eq!(r[0].session.as_deref(), Some("3f2b9c1e-0000-4000-8000-000000000001"));
        assert!(r.iter().all(|r| r.check().is_ok()));
    }

    #[test]
    fn an_api_key_user_has_no_windows_and_a_missing_field_is_named() {
        let i = parse(br#"{"session_id":"x","model":{"display_name":"Opus"}}"#).unwrap();
        assert_eq!(i.readings(NOW), (vec![], vec![]));
        let i = parse(br#"{"rate_limits":{"five_hour":{"resets_at":1780003600}}}"#).unwrap();
        let (r, p) = i.readings(NOW);
        assert!(r.is_empty());
        assert_eq!(p, ["rate_limits.five_hour has no used_percentage; not recorded"]);
        assert!(parse(b"{not json").unwrap_err().starts_with("stdin is not Claude Code's status line JSON"));
    }

    #[test]
    fn the_line_has_model_costs_window_and_context() {
        let i = parse(INPUT.as_bytes()).unwrap();
        let l = limits::Limit {
            agent: AGENT.into(),
            label: "Claude".into(),
            window: "5h".into(),
            window_minutes: 300,
            used_percent: 37.5,
            resets_at: None,
            observed_at: String::new(),
            source: "statusline".into(),
            plan: None,
            age_seconds: 0,
            stale: false,
            reset_passed: false,
            full_at: None,
            resets_at_ms: Some(NOW + 2 * 3_600_000 + 5 * 60_000),
            observed_at_ms: NOW,
            full_at_ms: None,
        };
        assert_eq!(
            render(&i, Some(12.4), Some(&l), NOW),
            "Sonnet 4.5 · $0.01 session · $12.40 today · 5h 38% (resets in 2h 05m) · ctx 8%"
        );
        assert_eq!(render(&Input::default(), None, None, NOW), "agentwatch");
        assert_eq!(minimal(Some(&i)), "Sonnet 4.5");
    }
}
