//! Aider's analytics log (`--analytics-log FILE`, `AIDER_ANALYTICS_LOG`):
//! one JSON line per event, appended by `Analytics.event` in
//! `aider/analytics.py`:
//!
//! ```text
//! {"event": "message_send", "properties": {"main_model": "gpt-4o", "weak_model": …,
//!  "editor_model": …, "edit_format": "diff", "prompt_tokens": 4213, "completion_tokens": 1087,
//!  "total_tokens": 5300, "cost": 0.02140, "total_cost": 0.15}, "user_id": "…", "time": 1777765201}
//! ```
//!
//! - `launched` is written as each run starts (`aider/main.py`): a session,
//!   opened with its first call (most runs never send a message).
//! - `message_send` is written with every usage report
//!   (`Coder.show_usage_report` in `aider/coders/base_coder.py`, which also
//!   writes the report to the chat history): one call, with the exact counts
//!   (`prompt_tokens` is what the history rounds as `sent`,
//!   `completion_tokens` as `received`) and `cost`, the message's unrounded
//!   cost (0 when Aider has no price for the model: none recorded).
//! - `time` is `int(time.time())`: each call is dated to its second.
//! - `main_model` is the model that answered (the editor's, in architect
//!   mode), named as Aider knows it, `provider/REDACTED` when Aider does not
//!   know it, and `None` when it has no name.
//!
//! The log keeps no cache split (writes are inside `prompt_tokens`), no
//! project and no process: every run of every repository appends to it, and
//! a call belongs to the run launched last. A call is keyed by the log and
//! its byte offset (the file is only appended to).

use std::path::Path;
use std::sync::Arc;

use chrono::DateTime;
use serde::{Deserialize, Serialize};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, LineParser, MAX_TOKENS, Record, SessionInfo, plausible_cost};

/// How long before the log's first event a chat-history session counts as
/// covered by the log: the history's header is written as Aider starts, its
/// `launched` a moment later (or after its one-time analytics question).
pub const COVER_SLACK_SECS: i64 = 10 * 60;

/// A run's session id: the log and the run's start, in UTC (`Z`: the log's
/// times are exact, where the history's headers are local and zoneless).
pub fn session_id(path: &str, started: i64) -> String {
    let t = DateTime::from_timestamp(started, 0).unwrap_or_default();
    format!("{path}@{}", t.format("%Y-%m-%dT%H:%M:%SZ"))
}

/// Whether `id` is a session of the analytics log (its time ends in `Z`),
/// not of a chat history.
pub fn is_session(id: &str) -> bool {
    id.rsplit_once('@').is_some_and(|(_, t)| {
        t.strip_suffix('Z').is_some_and(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").is_ok())
    })
}

/// The time of the log's first event that has one, from its first lines:
/// from then on the log is the ledger of Aider's calls.
pub fn first_time(lines: &[String]) -> Option<i64> {
    lines.iter().find_map(|l| serde_json::from_str::<Line>(l).ok()?.time)
}

#[derive(Deserialize)]
struct Line {
    event: String,
    #[serde(default)]
    properties: serde_json::Value,
    time: Option<i64>,
}

/// What the parser remembers between runs: the run calls belong to.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct State {
    /// The start of the run launched last.
    run: Option<i64>,
    /// Its session was written (with its first call).
    opened: bool,
}

pub struct AnalyticsParser {
    state: State,
    path: String,
}

impl AnalyticsParser {
    pub fn new(path: &Path, state: Option<&str>) -> AnalyticsParser {
        AnalyticsParser {
            state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
            path: path.to_string_lossy().into_owned(),
        }
    }
}

fn count(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().filter(|n| *n <= MAX_TOKENS)
}

impl LineParser for AnalyticsParser {
    fn parse(&mut self, line: &[u8], offset: u64, out: &mut Vec<Record>) -> Result<(), LineError> {
        let l: Line = serde_json::from_slice(line).map_err(|_| LineError::Malformed)?;
        match l.event.as_str() {
            "launched" => {
                let time = l.time.ok_or(LineError::Malformed)?;
                self.state = State { run: Some(time), opened: false };
                Ok(())
            }
            "message_send" => {
                let p = &l.properties;
                let time = l.time.ok_or(LineError::Malformed)?;
                let timestamp = DateTime::from_timestamp(time, 0).ok_or(LineError::Malformed)?;
                let prompt = count(&p["prompt_tokens"]).ok_or(LineError::Malformed)?;
                let completion = count(&p["completion_tokens"]).ok_or(LineError::Malformed)?;
                // A log begun mid-run: the run starts with its first call here.
                let run = *self.state.run.get_or_insert(time);
                let session = session_id(&self.path, run);
                if !self.state.opened {
                    self.state.opened = true;
                    out.push(Record::Session(SessionInfo {
                        external_id: session.clone(),
                        started_at: DateTime::from_timestamp(run, 0),
                        ..SessionInfo::default()
                    }));
                }
                let model = p["main_model"].as_str().map(str::trim).filter(|m| !m.is_empty() && *m != "None");
                let (model, model_fallback) = match model {
                    Some(m) => (Arc::from(m), false),
                    None => (Arc::from(super::parser::FALLBACK_MODEL), true),
                };
                out.push(Record::Usage(UsageEvent {
                    key: EventKey::of(&["aider", "analytics", &self.path, &offset.to_string()]),
                    session_external_id: Arc::from(session.as_str()),
                    timestamp,
                    model,
                    model_fallback,
                    fast: false,
                    sidechain: false,
                    // Cache writes are inside the prompt; reasoning inside the completion.
                    tokens: Tokens { input: prompt, output: completion, ..Tokens::default() },
                    // 0: Aider had no price for the model.
                    cost_usd: plausible_cost(p["cost"].as_f64().filter(|c| *c > 0.0)),
                }));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn state(&self) -> Option<String> {
        Some(serde_json::to_string(&self.state).expect("state serializes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    const PATH: &str = "/home/u/aider-analytics.jsonl";
    /// Lines of Aider's own `aider/website/assets/sample-analytics.jsonl`.
    const SAMPLE: &str = include_str!("fixtures/sample-analytics.jsonl");
    /// Written from Aider's source: the log of the chat history fixture's
    /// second and third runs, and more.
    const WRITTEN: &str = include_str!("fixtures/aider.analytics.jsonl");

    fn read(text: &str) -> (Vec<Record>, usize) {
        let mut p = AnalyticsParser::new(Path::new(PATH), None);
        let (mut out, mut bad, mut off) = (Vec::new(), 0, 0u64);
        for l in text.split_inclusive('\n') {
            if l.ends_with('\n') && p.parse(l.trim_end_matches('\n').as_bytes(), off, &mut out).is_err() {
                bad += 1;
            }
            off += l.len() as u64;
        }
        (out, bad)
    }

    fn sessions(out: &[Record]) -> Vec<(&str, i64)> {
        out.iter()
            .filter_map(|r| match r {
                Record::Session(s) => Some((s.external_id.as_str(), s.started_at?.timestamp())),
                _ => None,
            })
            .collect()
    }

    type Call<'a> = (&'a str, i64, &'a str, u64, u64, Option<f64>);

    fn summary(out: &[Record]) -> Vec<Call<'_>> {
        calls(out)
            .into_iter()
            .map(|u| {
                let s = u.session_external_id.rsplit_once('@').unwrap().1;
                (s, u.timestamp.timestamp(), &*u.model, u.tokens.input, u.tokens.output, u.cost_usd)
            })
            .collect()
    }

    #[test]
    fn aiders_own_sample_gives_each_message_send_once_exactly_in_the_run_launched_last() {
        let (out, bad) = read(SAMPLE);
        assert_eq!(bad, 0);
        // Runs without a message (`--help`, a lint run) open no session.
        let runs = ["2025-11-21T23:09:39Z", "2025-12-18T18:28:25Z", "2025-12-18T18:29:48Z", "2025-12-18T18:33:04Z"];
        let ids = runs.map(|t| format!("{PATH}@{t}"));
        let starts = [1_763_766_579, 1_766_082_505, 1_766_082_588, 1_766_082_784];
        let want: Vec<(&str, i64)> = ids.iter().map(String::as_str).zip(starts).collect();
        assert_eq!(sessions(&out), want);
        let (pro, flash) = ("gemini/gemini-3-pro-preview", "gemini/gemini-3-flash-preview");
        assert_eq!(
            summary(&out),
            [
                (runs[0], 1_763_766_666, pro, 25_709, 321, Some(0.05527)),
                (runs[0], 1_763_767_312, pro, 26_356, 275, Some(0.05601199999999999)),
                (runs[0], 1_763_767_333, pro, 28_932, 258, Some(0.06096)),
                (runs[1], 1_766_082_511, flash, 9_566, 44, Some(0.004915)),
                (runs[1], 1_766_082_572, flash, 28_242, 276, Some(0.014949)),
                (runs[2], 1_766_082_601, flash, 11_441, 36, Some(0.0058284999999999995)),
                (runs[3], 1_766_082_812, flash, 33_123, 119, Some(0.0169185)),
            ]
        );
        let c = calls(&out);
        assert!(c.iter().all(|u| u.tokens.cache_read == 0 && u.tokens.cache_write_5m == 0 && !u.model_fallback));
        // Keyed by place: read again, the same calls.
        assert_eq!(calls(&read(SAMPLE).0), c);
    }

    #[test]
    fn an_unpriced_model_records_no_cost_and_an_unnamed_one_is_the_fallback() {
        let (out, bad) = read(WRITTEN);
        // A cut line, a message_send without its counts.
        assert_eq!(bad, 2);
        let c = calls(&out);
        let got: Vec<(&str, bool, Option<f64>)> = c.iter().map(|u| (&*u.model, u.model_fallback, u.cost_usd)).collect();
        assert_eq!(
            got,
            [
                ("deepseek/deepseek-chat", false, None),
                ("deepseek/deepseek-chat", false, Some(0.000_41)),
                ("o3", false, Some(0.041_2)),
                ("gpt-4.1", false, Some(0.018_4)),
                ("o3", false, Some(0.026_1)),
                ("openrouter/REDACTED", false, None),
                ("unknown", true, None),
            ]
        );
        assert!(c.iter().all(|u| is_session(&u.session_external_id)));
        assert!(!is_session("/home/u/app/.aider.chat.history.md@2026-05-01T09:15:02"));
        assert_eq!(first_time(&WRITTEN.lines().map(str::to_string).collect::<Vec<_>>()), Some(1_777_765_201));
    }

    #[test]
    fn a_resumed_read_equals_one_full_read_wherever_it_stops() {
        for text in [SAMPLE, WRITTEN] {
            let full = read(text).0;
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            for cut in 0..=lines.len() {
                let (mut out, mut off, mut state) = (Vec::new(), 0u64, None::<String>);
                for part in [&lines[..cut], &lines[cut..]] {
                    let mut p = AnalyticsParser::new(Path::new(PATH), state.as_deref());
                    for l in part {
                        let _ = p.parse(l.trim_end_matches('\n').as_bytes(), off, &mut out);
                        off += l.len() as u64;
                    }
                    state = p.state();
                }
                assert_eq!(calls(&out), calls(&full), "cut at line {cut}");
                assert_eq!(sessions(&out), sessions(&full), "cut at line {cut}");
            }
        }
    }
}
