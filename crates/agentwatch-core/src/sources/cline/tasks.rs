//! A VS Code extension task of Cline 3 (and of its forks Roo Code and Kilo
//! Code): `tasks/<task id>/ui_messages.json`, the messages the extension
//! shows, one JSON array it rewrites in place. A model call is a `say`
//! message `api_req_started` whose `text` is JSON (`ClineApiReqInfo`):
//! `tokensIn`, `tokensOut`, `cacheWrites`, `cacheReads` and `cost` are
//! filled in as the request streams and when it ends (cline/cline
//! `src/core/task/utils.ts` `updateApiReqMsg` before v4; Roo-Code
//! `src/core/task/Task.ts`). A record not yet filled in (only its
//! `request`, or `apiProtocol`) is no call yet, and is skipped. Cline 3
//! folds the calls a checkpoint restore deletes into one `deleted_api_reqs`
//! message of the same shape, which counts as one call.
//!
//! Each call is keyed by its task and `ts` (ms), the message's own key.
//! The extension's recorded `cost` is the call's cost when above 0.
//!
//! What `tokensIn` holds depends on who wrote it ([`Input`]).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, Record, SessionInfo, plausible_cost};

use super::parser::count;

/// What an extension's `tokensIn` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The prompt without its cached part (Cline 3: its providers report
    /// input apart from cache reads and writes, and its own reader adds them
    /// back, `apps/vscode/src/sdk/legacy-task-handling.ts`).
    Uncached,
    /// Roo Code's rule (and Kilo Code's, its fork): since Roo 3.29.5
    /// (2025-11-01, Roo-Code commit 416fa57, `src/shared/cost.ts`)
    /// `tokensIn` is the whole prompt, cached part included, whatever the
    /// protocol; before, it was the provider's own count, which for the
    /// `openai` protocol includes the cached part and for `anthropic`
    /// does not.
    Roo,
}

/// When Roo Code 3.29.5, the first to write the whole prompt as
/// `tokensIn`, was released (ms).
pub const ROO_WHOLE_INPUT_SINCE_MS: i64 = 1_762_025_790_000;

impl Input {
    fn includes_cache(self, ts: i64, protocol: Option<&str>) -> bool {
        match self {
            Input::Uncached => false,
            Input::Roo => ts >= ROO_WHOLE_INPUT_SINCE_MS || protocol == Some("openai"),
        }
    }
}

/// What a task's other files say about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskMeta {
    /// Its working folder.
    pub project: Option<String>,
    pub version: Option<String>,
    /// The models it used, by when it switched to each (ms), oldest first.
    pub models: Vec<(i64, String)>,
}

impl TaskMeta {
    /// The model in use at `ts`: the newest switched to by then, else the
    /// first.
    fn model_at(&self, ts: i64) -> Option<&str> {
        self.models.iter().rev().find(|(at, _)| *at <= ts).or(self.models.first()).map(|(_, m)| m.as_str())
    }

    /// Cline 3's `task_metadata.json`: `model_usage` (`ts`, `model_id`) and
    /// `environment_history` (`cline_version`), as `ContextTrackerTypes.ts`
    /// types them. Unreadable: nothing.
    pub fn read_task_metadata(&mut self, bytes: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(bytes) else { return };
        let mut models: Vec<(i64, String)> = v["model_usage"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| Some((u["ts"].as_i64()?, u["model_id"].as_str().filter(|m| !m.is_empty())?.to_string())))
            .collect();
        models.sort_by_key(|(at, _)| *at);
        self.models = models;
        if let Some(v) = v["environment_history"]
            .as_array()
            .and_then(|h| h.iter().rev().find_map(|e| e["cline_version"].as_str().filter(|s| !s.is_empty())))
        {
            self.version = Some(v.to_string());
        }
    }

    /// Roo Code's `api_conversation_history.json`: each user message (with
    /// its `ts`) carries the environment details Roo adds to a prompt,
    /// whose `# Current Mode` names the model in use, `<model>id</model>`
    /// (Roo-Code `src/core/environment/getEnvironmentDetails.ts`, since
    /// 2025-05). Unreadable: nothing.
    pub fn read_api_history(&mut self, bytes: &[u8]) {
        let Ok(Value::Array(list)) = serde_json::from_slice::<Value>(bytes) else { return };
        let mut models: Vec<(i64, String)> = Vec::new();
        for m in list.iter().filter(|m| m["role"] == "user") {
            let Some(ts) = m["ts"].as_i64() else { continue };
            let texts: Vec<&str> = match &m["content"] {
                Value::String(s) => vec![s.as_str()],
                Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect(),
                _ => Vec::new(),
            };
            let named = texts.iter().rev().find_map(|t| {
                let from = t.rfind("<model>")? + "<model>".len();
                let len = t[from..].find("</model>")?;
                Some(t[from..from + len].trim()).filter(|m| !m.is_empty() && m.len() <= 200)
            });
            if let Some(model) = named
                && models.last().is_none_or(|(_, last)| last != model)
            {
                models.push((ts, model.to_string()));
            }
        }
        models.sort_by_key(|(at, _)| *at);
        self.models = models;
    }

    /// Roo Code's `history_item.json` (a `HistoryItem`): its `workspace`.
    pub fn read_history_item(&mut self, bytes: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(bytes) else { return };
        if let Some(w) = v["workspace"].as_str().filter(|s| !s.is_empty()) {
            self.project = Some(w.to_string());
        }
    }
}

/// Cline 3's task list (`state/taskHistory.json`, its `HistoryItem`s): each
/// task's folder when it began (`cwdOnTaskInitialization`), by task id.
/// Unreadable: nothing.
pub fn task_history(bytes: &[u8]) -> HashMap<String, String> {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(bytes) else { return HashMap::new() };
    items
        .iter()
        .filter_map(|h| {
            let id = h["id"].as_str().filter(|s| !s.is_empty())?;
            let cwd = h["cwdOnTaskInitialization"].as_str().filter(|s| !s.is_empty())?;
            Some((id.to_string(), cwd.to_string()))
        })
        .collect()
}

/// What one task's `ui_messages.json` says.
pub fn ui_messages(
    agent: &'static str,
    task: &str,
    bytes: &[u8],
    meta: &TaskMeta,
    input: Input,
    out: &mut Vec<Record>,
) -> Result<(), LineError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|_| LineError::Malformed)?;
    let Some(list) = v.as_array() else { return Err(LineError::Malformed) };
    out.push(Record::Session(SessionInfo {
        external_id: task.to_string(),
        project_path: meta.project.clone(),
        agent_version: meta.version.clone(),
        started_at: list.first().and_then(|m| m["ts"].as_i64()).and_then(chrono::DateTime::from_timestamp_millis),
    }));
    for m in list {
        if m["type"] != "say" || !(m["say"] == "api_req_started" || m["say"] == "deleted_api_reqs") {
            continue;
        }
        // Its `text` is JSON the extension wrote; anything else is no call.
        let Some(info) = m["text"].as_str().and_then(|t| serde_json::from_str::<Value>(t).ok()) else { continue };
        if !["tokensIn", "tokensOut", "cost"].iter().any(|k| info[*k].is_number()) {
            continue; // not filled in yet
        }
        let ts = m["ts"].as_i64().ok_or(LineError::Malformed)?;
        let timestamp = chrono::DateTime::from_timestamp_millis(ts).ok_or(LineError::Malformed)?;
        let (tokens_in, output) = (count(&info["tokensIn"])?, count(&info["tokensOut"])?);
        let (cache_write, cache_read) = (count(&info["cacheWrites"])?, count(&info["cacheReads"])?);
        let protocol = info["apiProtocol"].as_str().or(m["apiProtocol"].as_str());
        let tokens = Tokens {
            input: if input.includes_cache(ts, protocol) {
                tokens_in.saturating_sub(cache_write + cache_read)
            } else {
                tokens_in
            },
            output,
            cache_write_5m: cache_write,
            cache_write_1h: 0,
            cache_read,
            reasoning: 0,
        };
        let cost = plausible_cost(info["cost"].as_f64()).filter(|c| *c > 0.0);
        if tokens.is_zero() && cost.is_none() {
            continue;
        }
        let (model, fallback) = match meta.model_at(ts) {
            Some(m) => (m, false),
            None => ("unknown", true),
        };
        out.push(Record::Usage(UsageEvent {
            key: EventKey::of(&[agent, task, &ts.to_string()]),
            session_external_id: Arc::from(task),
            timestamp,
            model: Arc::from(model),
            model_fallback: fallback,
            fast: false,
            sidechain: false,
            tokens,
            cost_usd: cost,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    const TASK: &str = "1765432100000";

    fn cline_meta() -> TaskMeta {
        let mut meta = TaskMeta::default();
        meta.read_task_metadata(include_bytes!("fixtures/legacy/tasks/1765432100000/task_metadata.json"));
        meta
    }

    #[test]
    fn a_cline_3_task_as_the_extension_writes_it() {
        let meta = cline_meta();
        assert_eq!(meta.version.as_deref(), Some("3.38.3"));
        assert_eq!(meta.models.len(), 2);
        let mut out = Vec::new();
        ui_messages(
            "cline",
            TASK,
            include_bytes!("fixtures/legacy/tasks/1765432100000/ui_messages.json"),
            &meta,
            Input::Uncached,
            &mut out,
        )
        .unwrap();
        let Record::Session(s) = &out[0] else { panic!() };
        assert_eq!(s.started_at.map(|t| t.timestamp_millis()), Some(1_765_432_100_000));
        let c = calls(&out);
        assert_eq!(c.len(), 3, "two filled-in requests and a deleted_api_reqs; the unfinished one is skipped");
        assert_eq!(
            c[0].tokens,
            Tokens { input: 12, output: 310, cache_write_5m: 14_230, ..Default::default() },
            "tokensIn is input without the cache"
        );
        assert_eq!((c[0].cost_usd, &*c[0].model), (Some(0.0580485), "claude-sonnet-4-5-20250929"));
        assert_eq!(
            c[1].tokens,
            Tokens { input: 3, output: 95, cache_write_5m: 420, cache_read: 14_230, ..Default::default() }
        );
        assert_eq!(&*c[1].model, "claude-sonnet-4-5-20250929");
        assert_eq!(&*c[2].model, "claude-haiku-4-5-20251001", "the model switched to by then");
        assert_eq!(c[2].tokens.output, 640);
        assert_eq!(c[0].key, EventKey::of(&["cline", TASK, "1765432102000"]));
    }

    #[test]
    fn cline_3_s_task_list_names_each_task_s_folder() {
        let h = task_history(include_bytes!("fixtures/legacy/state/taskHistory.json"));
        assert_eq!(h.get(TASK).map(String::as_str), Some("/home/alice/src/shop"));
        assert!(task_history(b"{").is_empty());
    }

    #[test]
    fn roo_s_tokens_in_is_the_whole_prompt_since_3_29_5() {
        let rec = |ts: i64, protocol: &str| {
            format!(
                r#"[{{"ts":{ts},"type":"say","say":"api_req_started","text":"{{\"apiProtocol\":\"{protocol}\",\"tokensIn\":1000,\"tokensOut\":50,\"cacheWrites\":100,\"cacheReads\":800,\"cost\":0.01}}"}}]"#
            )
        };
        let input = |ts: i64, protocol: &str| {
            let mut out = Vec::new();
            ui_messages("roo-code", "t", rec(ts, protocol).as_bytes(), &TaskMeta::default(), Input::Roo, &mut out)
                .unwrap();
            let c = calls(&out);
            assert_eq!((&*c[0].model, c[0].model_fallback), ("unknown", true));
            c[0].tokens.input
        };
        assert_eq!(input(ROO_WHOLE_INPUT_SINCE_MS, "anthropic"), 100);
        assert_eq!(
            input(ROO_WHOLE_INPUT_SINCE_MS - 1, "anthropic"),
            1000,
            "before, Anthropic's count left the cache out"
        );
        assert_eq!(input(ROO_WHOLE_INPUT_SINCE_MS - 1, "openai"), 100, "OpenAI's always held it");
    }

    #[test]
    fn a_task_cut_short_or_with_bad_counts_is_malformed() {
        let full = include_bytes!("fixtures/legacy/tasks/1765432100000/ui_messages.json");
        let m = TaskMeta::default();
        assert_eq!(
            ui_messages("cline", TASK, &full[..full.len() / 2], &m, Input::Uncached, &mut Vec::new()),
            Err(LineError::Malformed)
        );
        assert_eq!(ui_messages("cline", TASK, b"{}", &m, Input::Uncached, &mut Vec::new()), Err(LineError::Malformed));
        let negative = br#"[{"ts":1,"type":"say","say":"api_req_started","text":"{\"tokensIn\":-3}"}]"#;
        assert_eq!(
            ui_messages("cline", TASK, negative, &m, Input::Uncached, &mut Vec::new()),
            Err(LineError::Malformed)
        );
        let mut out = Vec::new();
        let odd = br#"[{"ts":1,"type":"say","say":"api_req_started","text":"not json"},{"ts":2,"type":"say","say":"text","text":"{\"tokensIn\":5}"}]"#;
        ui_messages("cline", TASK, odd, &m, Input::Uncached, &mut out).unwrap();
        assert!(calls(&out).is_empty());
    }
}
