//! `agentwatch sessions`: list, active, filters, history, stats, show.

use serde_json::{Value, json};

use crate::support::*;

/// Three sessions: Claude in web-app (ended, 2 calls), Codex in api (ended),
/// and a Claude session with activity a minute ago.
fn fixture(env: &Env) {
    write_lines(
        &env.claude_file("/home/u/web-app", "aaaa1111-0000-0000-0000-000000000001.jsonl"),
        &lines(&[
            claude_user("2026-11-20T09:59:00.000Z", "aaaa1111-0000-0000-0000-000000000001", "fix the bug"),
            claude(
                "2026-11-20T10:00:00.000Z",
                "aaaa1111-0000-0000-0000-000000000001",
                "m1",
                "r1",
                SONNET,
                U(1000, 100, 0, 0),
            ),
            claude(
                "2026-11-20T11:30:00.000Z",
                "aaaa1111-0000-0000-0000-000000000001",
                "m2",
                "r2",
                SONNET,
                U(1000, 100, 0, 0),
            ),
        ]),
    );
    write_lines(
        &env.codex_file("2026-11-19", "rollout-2026-11-19T08-00-00-bbbb.jsonl"),
        &lines(&[
            codex_meta("2026-11-19T08:00:00.000Z", "bbbb2222-0000-0000-0000-000000000002", "/home/u/api"),
            codex_turn("2026-11-19T08:00:00.000Z", "gpt-5-codex"),
            codex_tokens("2026-11-19T08:10:00.000Z", None, Some([5000, 1000, 500, 100])),
        ]),
    );
    write_lines(
        &env.claude_file("/home/u/web-app", "aaaa3333-0000-0000-0000-000000000003.jsonl"),
        &lines(&[claude(&ago(60), "aaaa3333-0000-0000-0000-000000000003", "m3", "r3", SONNET, U(10, 10, 0, 0))]),
    );
}

fn ids(v: &Value) -> Vec<String> {
    v["sessions"].as_array().unwrap().iter().map(|s| s["sessionId"].as_str().unwrap().to_string()).collect()
}

#[test]
fn lists_sessions_newest_first_with_remb_and_routa_fields() {
    let env = Env::new();
    fixture(&env);
    let r = env.json(&["sessions"]);
    assert_eq!(
        ids(&r),
        vec![
            "aaaa3333-0000-0000-0000-000000000003",
            "aaaa1111-0000-0000-0000-000000000001",
            "bbbb2222-0000-0000-0000-000000000002"
        ]
    );
    let s = &r["sessions"][1];
    for field in SESSION_FIELDS {
        assert!(s.get(field).is_some(), "missing {field} in {s}");
    }
    assert_eq!(s["agentLabel"], "Claude Code");
    assert_eq!(s["workspaceId"], "/home/u/web-app");
    assert_eq!(s["status"], "closed");
    assert_eq!(s["state"], "completed");
    assert_eq!(s["startedAt"], "2026-11-20T10:00:00.000Z");
    assert_eq!(s["lastActiveAt"], "2026-11-20T11:30:00.000Z");
    assert_eq!(s["durationSeconds"], 5400);
    assert_eq!(s["tokens"]["total"], 2200);
    assert_eq!(s["model"], SONNET);
    assert!(close(num(&s["costUsd"]), 0.009));
    assert_eq!(s["source"], "transcript");
    assert_eq!(r["sessions"][0]["status"], "active");

    let table = env.ok(&["sessions", "--no-ingest"]);
    assert!(table.contains("aaaa1111") && table.contains("web-app") && table.contains("completed"), "{table}");
    assert!(table.contains("1h 30m"), "{table}");
    let limited = env.ok(&["sessions", "--limit", "1", "--no-ingest"]);
    assert!(limited.contains("Showing 1 of 3 sessions"), "{limited}");
}

#[test]
fn active_means_recent_activity_until_the_collector_knows_better() {
    let env = Env::new();
    fixture(&env);
    let r = env.json(&["sessions", "--active"]);
    assert_eq!(ids(&r), vec!["aaaa3333-0000-0000-0000-000000000003"]);
    // Its transcript ends with the agent's answer: the turn is over.
    assert_eq!(r["sessions"][0]["state"], "waiting");
    // A new prompt: working again.
    append(
        &env.claude_file("/home/u/web-app", "aaaa3333-0000-0000-0000-000000000003.jsonl"),
        &format!("{}\n", line(&claude_user(&ago(5), "aaaa3333-0000-0000-0000-000000000003", "and now the tests"))),
    );
    let r = env.json(&["sessions", "--active"]);
    assert_eq!(r["sessions"][0]["state"], "working");
}

#[test]
fn filters_by_agent_type_and_agent_name() {
    let env = Env::new();
    fixture(&env);
    assert_eq!(ids(&env.json(&["sessions", "--agent-type", "codex"])), vec!["bbbb2222-0000-0000-0000-000000000002"]);
    assert_eq!(
        env.json(&["sessions", "--agent", "claude code", "--no-ingest"])["sessions"].as_array().unwrap().len(),
        2
    );
    assert_eq!(env.json(&["sessions", "--project", "api", "--no-ingest"])["sessions"].as_array().unwrap().len(), 1);
    let none = env.ok(&["sessions", "--agent-type", "aider", "--no-ingest"]);
    assert!(none.contains("No sessions found"), "{none}");
}

#[test]
fn history_lists_ended_sessions_in_a_range() {
    let env = Env::new();
    fixture(&env);
    let all = env.json(&["sessions", "history"]);
    assert_eq!(ids(&all), vec!["aaaa1111-0000-0000-0000-000000000001", "bbbb2222-0000-0000-0000-000000000002"]);
    let limited = env.json(&["sessions", "history", "--limit", "1", "--no-ingest"]);
    assert_eq!(ids(&limited).len(), 1);
    let table = env.ok(&["sessions", "history", "--no-ingest"]);
    assert!(table.contains("Ended") && table.contains("aaaa1111"), "{table}");
}

#[test]
fn history_ranges_are_relative_to_now() {
    let env = Env::new();
    let days = |d: i64| ago(d * 86_400);
    write_lines(
        &env.claude_file("/p", "recent.jsonl"),
        &lines(&[claude(&days(3), "recent", "m1", "r1", SONNET, U(1, 1, 0, 0))]),
    );
    write_lines(
        &env.claude_file("/p", "older.jsonl"),
        &lines(&[claude(&days(20), "older", "m2", "r2", SONNET, U(1, 1, 0, 0))]),
    );
    write_lines(
        &env.claude_file("/p", "oldest.jsonl"),
        &lines(&[claude(&days(45), "oldest", "m3", "r3", SONNET, U(1, 1, 0, 0))]),
    );
    assert_eq!(ids(&env.json(&["sessions", "history", "--range", "7d"])), vec!["recent"]);
    assert_eq!(ids(&env.json(&["sessions", "history", "--range", "30d", "--no-ingest"])), vec!["recent", "older"]);
    assert_eq!(
        ids(&env.json(&["sessions", "history", "--range", "all", "--no-ingest"])),
        vec!["recent", "older", "oldest"]
    );
    assert!(ids(&env.json(&["sessions", "history", "--range", "today", "--no-ingest"])).is_empty());
    assert_eq!(env.json(&["sessions", "stats", "--range", "30d", "--no-ingest"])["totalSessions"], 2);
}

#[test]
fn stats_totals_and_averages() {
    let env = Env::new();
    fixture(&env);
    let s = env.json(&["sessions", "stats"]);
    assert_eq!(s["totalSessions"], 3);
    assert_eq!(s["activeSessions"], 1);
    assert_eq!(s["completedSessions"], 2);
    assert_eq!(s["totalTokens"], 2200 + 5500 + 20);
    assert_eq!(s["averageTokens"], (7720.0f64 / 3.0).round() as u64);
    // 90 minutes + 10 minutes + the active one (≈ 60 s so far).
    let dur = s["totalDurationSeconds"].as_i64().unwrap();
    assert!((6000 + 55..=6000 + 90).contains(&dur), "{dur}");
    let text = env.ok(&["sessions", "stats", "--no-ingest"]);
    assert!(text.contains("Total        3") && text.contains("7,720"), "{text}");
}

#[test]
fn show_finds_a_session_by_unique_prefix() {
    let env = Env::new();
    fixture(&env);
    let d = env.json(&["sessions", "show", "bbbb"]);
    let s = &d["session"];
    assert_eq!(s["sessionId"], "bbbb2222-0000-0000-0000-000000000002");
    assert_eq!(s["agent"], "codex");
    assert_eq!(s["projectPath"], "/home/u/api");
    assert_eq!(
        s["tokens"],
        json!({"input": 4000, "output": 500, "cacheCreation": 0, "cacheRead": 1000, "reasoning": 100, "total": 5500})
    );
    assert_eq!(d["models"][0]["modelName"], "gpt-5-codex");
    assert_eq!(d["models"][0]["priceSource"], "snapshot 2026-09-20");
    assert!(d["stateHistory"].is_array() && d["toolCalls"].is_array() && d["alerts"].is_array());
    let text = env.ok(&["sessions", "show", "aaaa1111", "--no-ingest"]);
    for want in [
        "aaaa1111-0000-0000-0000-000000000001",
        "Claude Code (claude-code) 2.0.14",
        "/home/u/web-app",
        "1h 30m",
        "sonnet-4-5",
        "Cost by model",
        "snapshot 2026-09-20",
    ] {
        assert!(text.contains(want), "missing {want}:\n{text}");
    }
}

#[test]
fn ambiguous_and_unknown_ids_are_clear_errors() {
    let env = Env::new();
    fixture(&env);
    let o = env.run(&["sessions", "show", "aaaa"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("matches 2 sessions"), "{err}");
    assert_eq!(err.lines().count(), 1);
    let o = env.run(&["sessions", "show", "zzzz", "--no-ingest"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim(), "agentwatch: no session matches 'zzzz'");
}

#[test]
fn agents_lists_every_agent_found_here_or_not_with_what_is_read_and_its_sessions() {
    let env = Env::new();
    fixture(&env);
    env.json(&["ingest"]);
    let r = env.json(&["agents"]);
    let list = r["agents"].as_array().unwrap();
    let get = |id: &str| list.iter().find(|a| a["id"] == id).unwrap_or_else(|| panic!("{id} in {r}"));
    let claude = get("claude-code");
    assert_eq!(
        (&claude["name"], &claude["found"], &claude["usage"], &claude["sessions"]),
        (&json!("Claude Code"), &json!(true), &json!(true), &json!(2)),
        "{claude}"
    );
    assert_eq!(claude["paths"][0], json!({"path": env.claude.join("projects").display().to_string(), "exists": true}));
    assert_eq!(get("codex")["sessions"], 1);
    // Not installed here: listed, with where its files would be.
    let gemini = get("gemini-cli");
    assert_eq!(
        (&gemini["found"], &gemini["sessions"], &gemini["paths"][0]["exists"]),
        (&json!(false), &json!(0), &json!(false))
    );
    // Its files found only from its processes (none here) or its variable.
    let aider = get("aider");
    assert_eq!((&aider["usage"], &aider["hooks"], &aider["paths"]), (&json!(true), &json!(false), &json!([])));
    assert_eq!(list.len(), agentwatch_core::sources::AGENTS.len(), "every agent agentwatch knows: {r}");
    // How each records its usage: tokens, its own cost only, nothing at all, or rounded.
    let kinds = ["claude-code", "crush", "cursor-agent", "aider"].map(|id| get(id)["usageKind"].clone());
    assert_eq!(kinds, [json!("tokens"), json!("cost-only"), json!("not-recorded"), json!("approximate")], "{r}");
    // Kimi: Kimi CLI's folder and Kimi Code's.
    let kimi: Vec<&str> =
        get("kimi")["paths"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert!(
        kimi.len() == 2 && kimi[0].ends_with(".kimi/sessions") && kimi[1].ends_with(".kimi-code/sessions"),
        "{kimi:?}"
    );

    let table = env.ok(&["agents"]);
    let row = table.lines().find(|l| l.starts_with("Claude Code")).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("usage hooks telemetry") && row.contains("~/.claude/projects"), "{table}");
    let row = table.lines().find(|l| l.starts_with("Aider")).unwrap();
    assert!(row.split_whitespace().collect::<Vec<_>>() == ["Aider", "no", "usage", "0", "0", "—"], "{table}");
    let row = table.lines().find(|l| l.starts_with("Crush ")).unwrap();
    assert!(row.contains(" cost ") && !row.contains("usage"), "{table}");
    assert!(table.contains("Crush: cost only, tokens not recorded by Crush"), "{table}");
    assert!(table.contains("Cursor Agent: usage not recorded by Cursor\n"), "{table}");
    let row = table.lines().find(|l| l.starts_with("Cursor Agent")).unwrap();
    assert!(row.contains(" sessions ") && !row.contains("usage"), "its chats are read, no usage: {table}");
}

#[test]
fn agents_give_each_agents_cost_with_where_it_comes_from_and_never_zero_when_none_is_recorded() {
    let env = Env::new();
    // Claude Code: a call an hour ago, priced from its tokens ($3 in, $15
    // out per million: $0.45), and one in January with its own legacy cost.
    let session = "cccc3333-0000-0000-0000-000000000003";
    let mut old = claude("2026-01-05T10:00:00.000Z", session, "m0", "r0", SONNET, U(2000, 0, 0, 0));
    old["costUSD"] = json!(0.5);
    write_lines(
        &env.claude_file("/home/u/web-app", &format!("{session}.jsonl")),
        &lines(&[old, claude(&ago(3600), session, "m1", "r1", SONNET, U(100_000, 10_000, 0, 0))]),
    );
    // Codex: a call of a tenth of a cent today (gpt-5-codex, $1.25 in per million).
    write_lines(
        &env.codex_file(&chrono::Utc::now().format("%Y-%m-%d").to_string(), "rollout-x-dddd.jsonl"),
        &lines(&[
            codex_meta(&ago(100), "dddd4444-0000-0000-0000-000000000004", "/home/u/api"),
            codex_turn(&ago(100), "gpt-5-codex"),
            codex_tokens(&ago(90), None, Some([800, 0, 0, 0])),
        ]),
    );
    // Cursor's CLI: a chat, no usage.
    let chat = env.home.join(".cursor/chats/4fafce67053eea06f159a78f7ef15755/0b6d9f5e-3c2a-4e71-9d8f-1a2b3c4d5e6f");
    std::fs::create_dir_all(&chat).unwrap();
    let c = rusqlite::Connection::open(chat.join("store.db")).unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/cursor/fixtures/store.sql")).unwrap();
    drop(c);
    // Aider: its rounded reports (all in May 2026).
    let history = env.root.join("proj/.aider.chat.history.md");
    std::fs::create_dir_all(history.parent().unwrap()).unwrap();
    std::fs::write(
        &history,
        include_str!("../../crates/agentwatch-core/src/sources/aider/fixtures/aider.chat.history.md"),
    )
    .unwrap();
    let run = |args: &[&str]| -> std::process::Output {
        env.command(args).env("AIDER_CHAT_HISTORY_FILE", &history).output().unwrap()
    };
    let o = run(&["agents", "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = r["agents"].as_array().unwrap();
    let get = |id: &str| list.iter().find(|a| a["id"] == id).unwrap_or_else(|| panic!("{id} in {r}"));

    let claude = get("claude-code");
    let recent = &claude["last30Days"];
    assert_eq!(
        (&recent["provenance"], &recent["provenanceText"], &recent["calls"], &recent["tokens"]["total"]),
        (&json!("priced"), &json!("priced"), &json!(1), &json!(110_000)),
        "{claude}"
    );
    assert!(close(num(&recent["costUsd"]), 0.45), "{recent}");
    assert_eq!(recent["priceSource"], "snapshot 2026-09-20");
    let all = &claude["allTime"];
    assert_eq!((&all["provenance"], &all["calls"]), (&json!("transcript-and-priced"), &json!(2)), "{all}");
    assert!(close(num(&all["costUsd"]), 0.95), "{all}");
    assert_eq!(all["priceSource"], "snapshot 2026-09-20 + transcript");

    // Cursor: found, one session, its usage not recorded: null, not $0.
    let cursor = get("cursor-agent");
    assert_eq!((&cursor["found"], &cursor["sessions"]), (&json!(true), &json!(1)), "{cursor}");
    for period in ["last30Days", "allTime"] {
        let u = &cursor[period];
        assert_eq!(
            (&u["provenance"], &u["provenanceText"], &u["costUsd"], &u["tokens"]),
            (&json!("not-recorded"), &json!("not recorded"), &Value::Null, &Value::Null),
            "{cursor}"
        );
    }

    // Aider: approximate; by hand from the fixture (as the ingest test):
    // 0.03 + 0.05 + 0.01 + 0.0029 + DeepSeek's priced report and its
    // $0.0004 + 0.04 + 0.03 + 0.02.
    let aider = &get("aider")["allTime"];
    assert_eq!((&aider["provenance"], &aider["calls"]), (&json!("approximate"), &json!(9)), "{aider}");
    let deepseek = (23_000.0 * 0.28 + 2100.0 * 0.42) / 1e6;
    assert!(close(num(&aider["costUsd"]), 0.09 + 0.0029 + deepseek + 0.0004 + 0.07 + 0.02), "{aider}");
    assert_eq!(get("aider")["last30Days"]["provenance"], "no-usage", "May is not within the last 30 days");
    assert_eq!(get("aider")["last30Days"]["costUsd"], Value::Null);

    let codex = &get("codex")["allTime"];
    assert_eq!(codex["provenance"], "priced", "{codex}");
    assert!(close(num(&codex["costUsd"]), 800.0 * 1.25e-6), "{codex}");
    // Not here: no usage, no figure.
    let gemini = &get("gemini-cli")["allTime"];
    assert_eq!((&gemini["provenance"], &gemini["costUsd"]), (&json!("no-usage"), &Value::Null), "{gemini}");

    // The table: a second table of the agents found here, "—" where
    // nothing was recorded, "≈" before Aider's rounded cost.
    let o = run(&["agents", "--no-ingest"]);
    let table = String::from_utf8(o.stdout).unwrap();
    let row = |name: &str| -> Vec<String> {
        let line = table
            .lines()
            .filter(|l| l.starts_with(&format!("{name} ")))
            .nth(1)
            .unwrap_or_else(|| panic!("{name}: {table}"));
        line.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect()
    };
    assert_eq!(
        row("Claude Code"),
        ["Claude Code", "110,000", "$0.45", "112,000", "$0.95", "transcript + priced"],
        "{table}"
    );
    assert_eq!(row("Cursor Agent"), ["Cursor Agent", "—", "—", "—", "—", "not recorded"], "{table}");
    let aider = row("Aider");
    assert_eq!((aider[1].as_str(), aider[2].as_str(), aider[5].as_str()), ("—", "—", "approximate"), "{table}");
    assert!(aider[4].starts_with("≈$0."), "{table}");
    // A tenth of a cent is not $0.00.
    assert_eq!(row("Codex"), ["Codex", "800", "<$0.01", "800", "<$0.01", "priced"], "{table}");
    let gemini = table.lines().filter(|l| l.starts_with("Gemini CLI ")).count();
    assert_eq!(gemini, 1, "not found here: not in the table of costs: {table}");
}
