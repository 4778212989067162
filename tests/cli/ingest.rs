//! `agentwatch ingest`: incremental, idempotent, never fatal on bad lines,
//! never touching the agents' files.

use serde_json::{Value, json};

use crate::support::*;

const SONNET: &str = "claude-sonnet-4-5-20250929";

fn call(n: u32) -> String {
    line(&claude(
        &format!("2026-11-20T10:{:02}:00.000Z", n % 60),
        "s1",
        &format!("m{n}"),
        &format!("r{n}"),
        SONNET,
        U(100, 10, 0, 0),
    ))
}

fn ingest(env: &Env) -> Value {
    env.json(&["ingest"])
}

#[test]
fn a_rerun_reads_only_the_appended_bytes() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &(0..50).map(call).collect::<Vec<_>>());
    let first = ingest(&env);
    assert_eq!(first["newEvents"], 50);
    assert_eq!(first["filesRead"], 1);
    assert_eq!(first["bytesRead"], std::fs::metadata(&f).unwrap().len());

    let nothing = ingest(&env);
    assert_eq!((nothing["filesRead"].as_u64(), nothing["bytesRead"].as_u64()), (Some(0), Some(0)));

    let extra = format!("{}\n{}\n", call(50), call(51));
    append(&f, &extra);
    let next = ingest(&env);
    assert_eq!(next["bytesRead"], extra.len() as u64, "only the new bytes are read");
    assert_eq!(next["newEvents"], 2);
    assert_eq!(next["duplicateEvents"], 0);
    assert_eq!(env.json(&["costs", "daily", "--no-ingest"])["totals"]["inputTokens"], 5200);
}

#[test]
fn a_partial_last_line_waits_for_the_next_run() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let done = call(1);
    let pending = call(2);
    let (head, tail) = pending.split_at(40);
    std::fs::write(&f, format!("{done}\n{head}")).unwrap();
    let r = ingest(&env);
    assert_eq!(r["newEvents"], 1);
    assert_eq!(r["malformedLines"], 0, "an unfinished line is not malformed yet");
    append(&f, &format!("{tail}\n"));
    let r = ingest(&env);
    assert_eq!(r["newEvents"], 1);
    assert_eq!(r["bytesRead"], (pending.len() + 1) as u64);
    assert_eq!(env.json(&["costs", "daily", "--no-ingest"])["totals"]["inputTokens"], 200);
}

#[test]
fn malformed_and_truncated_lines_are_counted_and_skipped() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    let good = call(1);
    let cut = &call(2)[..60];
    write_lines(&f, &[good, cut.to_string(), "{not json".into(), "plain text".into(), String::new(), call(3)]);
    let o = env.run(&["ingest"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(out.contains("2 new events") && out.contains("3 malformed lines skipped"), "{out}");
    assert!(err.contains("skipped 3 malformed transcript lines"), "{err}");
    // They are not reported again.
    let again = ingest(&env);
    assert_eq!(again["malformedLines"], 0);
}

#[test]
fn a_shrunk_file_is_read_again_without_double_counting() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &(0..10).map(call).collect::<Vec<_>>());
    ingest(&env);
    // Rewritten shorter: the first three calls and a new one.
    let mut rewritten: Vec<String> = (0..3).map(call).collect();
    rewritten.push(call(99));
    write_lines(&f, &rewritten);
    let r = ingest(&env);
    assert_eq!(r["filesReset"], 1);
    assert_eq!(r["newEvents"], 1);
    assert_eq!(r["duplicateEvents"], 3);
    // Usage already seen stays: it happened.
    assert_eq!(env.json(&["costs", "daily", "--no-ingest"])["totals"]["inputTokens"], 1100);
}

#[test]
fn a_file_rewritten_in_place_is_noticed_by_the_bytes_before_the_cursor() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &[call(10), call(11)]);
    ingest(&env);
    // Same inode, same length, different calls (a later mtime).
    std::thread::sleep(std::time::Duration::from_millis(50));
    write_lines(&f, &[call(12), call(13)]);
    let r = ingest(&env);
    assert_eq!(r["filesReset"], 1, "{r}");
    assert_eq!(r["newEvents"], 2);
    // Rewritten and grown.
    write_lines(&f, &[call(14), call(15), call(16)]);
    let r = ingest(&env);
    assert_eq!((r["filesReset"].as_u64(), r["newEvents"].as_u64()), (Some(1), Some(3)));
}

#[test]
fn a_replaced_file_is_read_from_the_start() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &[call(1)]);
    ingest(&env);
    let tmp = f.with_extension("tmp");
    write_lines(&tmp, &[call(1), call(2), call(3)]);
    std::fs::rename(&tmp, &f).unwrap();
    let r = ingest(&env);
    assert_eq!(
        (r["filesReset"].as_u64(), r["newEvents"].as_u64(), r["duplicateEvents"].as_u64()),
        (Some(1), Some(2), Some(1))
    );
}

#[test]
fn codex_totals_resume_across_runs() {
    let env = Env::new();
    let f = env.codex_file("2026-11-20", "rollout-2026-11-20T10-00-00-abc.jsonl");
    write_lines(
        &f,
        &lines(&[
            codex_meta("2026-11-20T10:00:00.000Z", "abc", "/home/u/api"),
            codex_turn("2026-11-20T10:00:00.000Z", "gpt-5-codex"),
            codex_tokens("2026-11-20T10:00:01.000Z", Some([1000, 0, 100, 0]), None),
        ]),
    );
    ingest(&env);
    // The next run starts after the cursor and still knows the previous total.
    append(&f, &format!("{}\n", line(&codex_tokens("2026-11-20T10:00:05.000Z", Some([1500, 200, 150, 0]), None))));
    let r = ingest(&env);
    assert_eq!(r["newEvents"], 1);
    let d = env.json(&["costs", "daily", "--no-ingest"]);
    let m = breakdown(&d, "2026-11-20", "gpt-5-codex");
    assert_eq!(
        (m["inputTokens"].as_u64(), m["cacheReadTokens"].as_u64(), m["outputTokens"].as_u64()),
        (Some(1300), Some(200), Some(150))
    );
}

#[test]
fn the_agents_files_are_never_modified() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &[call(1), "{broken".into(), call(2)]);
    let g = env.codex_file("2026-11-20", "rollout-2026-11-20T10-00-00-abc.jsonl");
    write_lines(
        &g,
        &lines(&[
            codex_meta("2026-11-20T10:00:00.000Z", "abc", "/x"),
            codex_tokens("2026-11-20T10:00:01.000Z", None, Some([5, 0, 5, 0])),
        ]),
    );
    let snapshot = |p: &std::path::Path| (std::fs::read(p).unwrap(), std::fs::metadata(p).unwrap().modified().unwrap());
    let before = (snapshot(&f), snapshot(&g));
    env.ok(&["ingest"]);
    env.ok(&["costs", "daily"]);
    env.ok(&["sessions"]);
    assert_eq!((snapshot(&f), snapshot(&g)), before);
    let listing: Vec<_> = std::fs::read_dir(f.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(listing.len(), 1, "nothing written next to the transcripts: {listing:?}");
}

#[test]
#[cfg(unix)]
fn the_database_is_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.ok(&["ingest"]);
    let db = env.data.join("agentwatch.db");
    assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&env.data).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn claude_config_dir_may_list_several_dirs_and_projects_dirs() {
    let env = Env::new();
    let a = env.root.join("work-claude");
    let b = env.root.join("other/projects");
    std::fs::create_dir_all(a.join("projects/-p")).unwrap();
    std::fs::create_dir_all(b.join("-q")).unwrap();
    write_lines(&a.join("projects/-p/s1.jsonl"), &[call(1)]);
    write_lines(
        &b.join("-q/s2.jsonl"),
        &[line(&claude("2026-11-20T10:00:00.000Z", "s2", "x", "y", SONNET, U(5, 0, 0, 0)))],
    );
    // The default ~/.claude is not read when CLAUDE_CONFIG_DIR is set.
    write_lines(
        &env.claude_file("/home/u/web-app", "s3.jsonl"),
        &[line(&claude("2026-11-20T10:00:00.000Z", "s3", "z", "z", SONNET, U(1000, 0, 0, 0)))],
    );
    let o = env
        .command(&["costs", "daily", "--format", "json"])
        .env("CLAUDE_CONFIG_DIR", format!("{}, {}", a.display(), b.display()))
        .output()
        .unwrap();
    assert!(o.status.success());
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["totals"]["inputTokens"], 105);
}

#[test]
fn gemini_chats_count_each_reply_once_however_often_it_is_appended() {
    let env = Env::new();
    let dir = env.home.join(".gemini/tmp/app");
    std::fs::create_dir_all(dir.join("chats")).unwrap();
    std::fs::write(dir.join(".project_root"), "/home/u/app").unwrap();
    let f = dir.join("chats/session-2026-12-05T10-00-aaaa1111.jsonl");
    let tokens = json!({"input": 1000, "output": 50, "cached": 400, "thoughts": 30, "tool": 0, "total": 1080});
    let reply = json!({"id": "m1", "timestamp": "2026-12-05T10:00:02.000Z", "type": "gemini", "content": "", "model": "gemini-2.5-flash"});
    let mut with_tokens = reply.clone();
    with_tokens["tokens"] = tokens.clone();
    let mut with_calls = with_tokens.clone();
    with_calls["toolCalls"] = json!([{"id": "c1", "name": "run_shell_command", "status": "success"}]);
    write_lines(
        &f,
        &lines(&[
            json!({"sessionId": "aaaa1111-2222", "projectHash": "h", "startTime": "2026-12-05T10:00:00.000Z", "kind": "main"}),
            json!({"id": "u1", "timestamp": "2026-12-05T10:00:01.000Z", "type": "user", "content": [{"text": "hi"}]}),
            reply,
            json!({"$set": {"lastUpdated": "2026-12-05T10:00:02.000Z"}}),
            with_tokens,
            with_calls.clone(),
            json!({"$set": {"messages": [with_calls]}}),
        ]),
    );
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(1), Some(0)), "{r}");
    // A second reply, appended later, and a line cut short: read on the next run.
    let mut second =
        json!({"id": "m2", "timestamp": "2026-12-05T10:00:09.000Z", "type": "gemini", "model": "gemini-2.5-flash"});
    second["tokens"] = json!({"input": 2000, "output": 10, "cached": 0, "thoughts": 0, "tool": 0, "total": 2010});
    append(&f, &format!("{}\n{{\"id\":\"m3\",\"type\":\"gemini\",\"tokens\":{{\n", line(&second)));
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(1), Some(1)), "{r}");

    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "gemini-cli"]);
    let m = breakdown(&d, "2026-12-05", "gemini-2.5-flash");
    // Cached input is inside the prompt count (1080 = 1000 + 50 + 30); thoughts are billed as output.
    assert_eq!(
        (m["inputTokens"].as_u64(), m["outputTokens"].as_u64(), m["cacheReadTokens"].as_u64()),
        (Some(600 + 2000), Some(80 + 10), Some(400)),
        "{m}"
    );
    assert!(m["cost"].as_f64().is_some_and(|c| c > 0.0), "priced: {m}");
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "gemini-cli"]);
    let s = &s["sessions"][0];
    assert_eq!((&s["sessionId"], &s["projectPath"]), (&json!("aaaa1111-2222"), &json!("/home/u/app")), "{s}");
    assert_eq!(s["tokens"]["total"], 600 + 80 + 400 + 2010, "{s}");
}

#[test]
fn qwen_code_chats_count_each_call_once_as_the_api_counted_it() {
    let env = Env::new();
    let chats = env.home.join(".qwen/projects/-home-u-lib/chats");
    std::fs::create_dir_all(&chats).unwrap();
    let rec = |uuid: &str, session: &str, kind: &str, ts: &str| {
        json!({"uuid": uuid, "parentUuid": null, "sessionId": session, "timestamp": ts, "type": kind,
               "cwd": "/home/u/lib", "version": "0.15.10", "model": "qwen3-coder-plus"})
    };
    let mut call = rec("a1", "q-1", "assistant", "2026-12-05T10:00:02.000Z");
    // An OpenAI-compatible API's usage: cached inside the prompt, reasoning inside the completion.
    call["usageMetadata"] = json!({"promptTokenCount": 120, "candidatesTokenCount": 40, "totalTokenCount": 160,
                                   "cachedContentTokenCount": 64, "thoughtsTokenCount": 8});
    write_lines(
        &chats.join("q-1.jsonl"),
        &lines(&[rec("u1", "q-1", "user", "2026-12-05T10:00:01.000Z"), call.clone()]),
    );
    // `/branch` copies the records, uuids and all, into a new session.
    let mut copy = call.clone();
    copy["sessionId"] = json!("q-2");
    write_lines(
        &chats.join("q-2.jsonl"),
        &lines(&[
            copy,
            json!({"uuid": "bad", "type": "assistant", "sessionId": "q-2", "usageMetadata": {"promptTokenCount": -3}}),
        ]),
    );
    let r = ingest(&env);
    assert_eq!(
        (r["newEvents"].as_u64(), r["duplicateEvents"].as_u64(), r["malformedLines"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{r}"
    );
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "qwen-code"]);
    let m = breakdown(&d, "2026-12-05", "qwen3-coder-plus");
    assert_eq!(
        (
            m["inputTokens"].as_u64(),
            m["outputTokens"].as_u64(),
            m["cacheReadTokens"].as_u64(),
            m["reasoningOutputTokens"].as_u64()
        ),
        (Some(56), Some(40), Some(64), Some(8)),
        "{m}"
    );
    assert_eq!(d["totals"]["totalTokens"], 160);
    // Priced at DashScope's first tier: 56 × $1 + 40 × $5 + 64 × $0.10 per million.
    let cost = m["cost"].as_f64().expect("qwen3-coder-plus is priced");
    assert!((cost - 262.4e-6).abs() < 1e-12, "{m}");
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "qwen-code"]);
    let q1 = s["sessions"].as_array().unwrap().iter().find(|s| s["sessionId"] == "q-1").expect("q-1 listed");
    assert_eq!(q1["projectPath"], "/home/u/lib", "{q1}");
}

/// OpenCode's database as the real OpenCode 1.18.33 left it (one session,
/// three steps against the model stub), in WAL mode as OpenCode keeps it.
fn opencode_db(env: &Env) -> (std::path::PathBuf, rusqlite::Connection) {
    let dir = env.home.join(".local/share/opencode");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("opencode.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/opencode/fixtures/opencode-1.18.33.sql"))
        .unwrap();
    (path, c)
}

fn opencode_message(c: &rusqlite::Connection, id: &str, at_ms: i64, data: &Value) {
    c.execute(
        "INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?1, ?2, ?3, ?3, ?4)",
        rusqlite::params![id, "ses_db288e317ffeILjZco4XWz5M0J", at_ms, data.to_string()],
    )
    .unwrap();
}

#[test]
fn opencode_database_gives_sessions_and_calls_with_its_own_costs_and_is_never_written() {
    let env = Env::new();
    let (path, agent) = opencode_db(&env);
    // A call OpenCode priced itself (2025-12-05 10:00 UTC).
    let priced = json!({"role": "assistant", "modelID": "claude-sonnet-4.5", "providerID": "anthropic", "cost": 0.0421,
        "tokens": {"total": 1350, "input": 1000, "output": 200, "reasoning": 50, "cache": {"read": 100, "write": 0}},
        "time": {"created": 1_764_928_800_000_i64, "completed": 1_764_928_805_000_i64}});
    opencode_message(&agent, "msg_priced", 1_764_928_800_000, &priced);
    let files = || (std::fs::read(&path).unwrap(), std::fs::read(path.with_extension("db-wal")).unwrap());
    let before = files();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(4), Some(0)), "{r}");
    assert!(files() == before, "agentwatch never writes to the database or its WAL");

    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "opencode"]);
    // The model as OpenCode names it, priced as the price list names it.
    let m = breakdown(&d, "2025-12-05", "claude-sonnet-4.5");
    // Reasoning is priced as output, as OpenCode prices it; its cost is OpenCode's.
    assert_eq!(
        (m["inputTokens"].as_u64(), m["outputTokens"].as_u64(), m["cacheReadTokens"].as_u64()),
        (Some(1000), Some(250), Some(100)),
        "{m}"
    );
    assert_eq!(m["cost"].as_f64(), Some(0.0421), "{m}");
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "opencode"]);
    let s = &s["sessions"][0];
    assert_eq!(
        (&s["sessionId"], &s["projectPath"]),
        (&json!("ses_db288e317ffeILjZco4XWz5M0J"), &json!("/tmp/oc/proj"))
    );
    assert_eq!(s["tokens"]["total"], 3 * 160 + 1350, "{s}");
    let a = env.json(&["agents"]);
    let oc = a["agents"].as_array().unwrap().iter().find(|a| a["id"] == "opencode").expect("opencode listed");
    assert_eq!((&oc["found"], &oc["usage"], &oc["sessions"]), (&json!(true), &json!(true), &json!(1)), "{oc}");
    assert_eq!(oc["paths"][0]["path"], path.parent().unwrap().display().to_string(), "{oc}");

    // OpenCode goes on writing (to its WAL) while agentwatch reads: only the new row is read.
    let next = json!({"role": "assistant", "modelID": "stub-model", "providerID": "stub", "cost": 0,
        "tokens": {"total": 30, "input": 20, "output": 10, "reasoning": 0, "cache": {"read": 0, "write": 0}},
        "time": {"created": 1_796_596_100_000_i64}});
    opencode_message(&agent, "msg_next", 1_796_596_100_000, &next);
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["filesRead"].as_u64()), (Some(1), Some(1)), "{r}");
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["filesRead"].as_u64()), (Some(0), Some(0)), "unchanged: not opened: {r}");
}

#[test]
fn an_opencode_database_of_another_schema_or_garbage_is_named_and_the_rest_is_read() {
    let env = Env::new();
    let (_path, _agent) = opencode_db(&env);
    let dir = env.home.join(".local/share/opencode");
    let future = rusqlite::Connection::open(dir.join("opencode-next.db")).unwrap();
    future.execute_batch("CREATE TABLE session (id TEXT PRIMARY KEY); CREATE TABLE message (id TEXT)").unwrap();
    std::fs::write(dir.join("opencode-beta.db"), "not a database, only some text that is long enough").unwrap();
    let o = env.command(&["costs", "daily", "--agent", "opencode"]).output().unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "opencode-next.db (OpenCode database schema not understood: table session has no column parent_id"
        ),
        "{err}"
    );
    assert!(err.contains("opencode-beta.db (file is not a database)"), "{err}");
    let j = env.json(&["costs", "daily", "--agent", "opencode"]);
    assert_eq!(j["totals"]["totalTokens"], 3 * 160, "the readable database counted: {j}");
    assert_eq!(j["unreadableFiles"].as_array().map(Vec::len), Some(2), "{j}");
}

#[test]
fn kilo_clis_database_is_read_where_kilo_db_puts_it() {
    let env = Env::new();
    let dir = env.root.join("elsewhere");
    std::fs::create_dir_all(&dir).unwrap();
    let c = rusqlite::Connection::open(dir.join("mine.db")).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/kilo/fixtures/kilo-7.8.sql")).unwrap();
    let run = |args: &[&str]| -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let o = env.command(&a).env("KILO_DB", dir.join("mine.db")).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let r = run(&["ingest"]);
    assert_eq!(r["newEvents"], 2, "{r}");
    let d = run(&["costs", "daily", "--no-ingest", "--agent", "kilo"]);
    // Kilo's own price where it recorded one; gpt-5's tokens priced where it recorded 0.
    assert_eq!(breakdown(&d, "2026-01-02", "claude-sonnet-4-5")["cost"].as_f64(), Some(0.01845), "{d}");
    let gpt = breakdown(&d, "2026-01-02", "gpt-5");
    assert_eq!((gpt["inputTokens"].as_u64(), gpt["outputTokens"].as_u64()), (Some(5000), Some(1056)), "{gpt}");
    assert!(gpt["cost"].as_f64().is_some_and(|c| c > 0.0), "{gpt}");
    let s = run(&["sessions", "--no-ingest", "--agent-type", "kilo"]);
    assert_eq!(
        (&s["sessions"][0]["projectPath"], &s["sessions"][0]["agent"]),
        (&json!("/home/u/proj"), &json!("kilo"))
    );
}

#[test]
fn gooses_sessions_database_gives_each_session_its_running_totals_on_its_first_day() {
    let env = Env::new();
    let root = env.root.join("goose-root");
    let dir = root.join("data/sessions");
    std::fs::create_dir_all(&dir).unwrap();
    let c = rusqlite::Connection::open(dir.join("sessions.db")).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/goose/fixtures/goose-v13.sql")).unwrap();
    let run = |args: &[&str]| -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let o = env.command(&a).env("GOOSE_PATH_ROOT", &root).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let r = run(&["ingest"]);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(2), Some(1)), "{r}");
    // The session grows: its totals replace the earlier ones, on the day it began.
    c.execute(
        "UPDATE sessions SET accumulated_input_tokens = 200000, accumulated_total_tokens = 205440, \
         updated_at = '2026-05-02 03:00:00' WHERE id = '20260501_1'",
        [],
    )
    .unwrap();
    let r = run(&["ingest"]);
    assert_eq!((r["newEvents"].as_u64(), r["replacedEvents"].as_u64()), (Some(0), Some(1)), "{r}");
    let d = run(&["costs", "daily", "--no-ingest", "--agent", "goose"]);
    let m = breakdown(&d, "2026-05-01", "claude-sonnet-4-20250514");
    assert_eq!((m["inputTokens"].as_u64(), m["outputTokens"].as_u64()), (Some(200_000), Some(5440)), "{m}");
    assert!(m["cost"].as_f64().is_some_and(|c| c > 0.0), "{m}");
    assert_eq!(breakdown(&d, "2026-05-01", "gpt-4o")["outputTokens"], 2500, "total − input − output is output");
    let s = run(&["sessions", "--no-ingest", "--agent-type", "goose"]);
    let ids: Vec<&str> = s["sessions"].as_array().unwrap().iter().map(|s| s["sessionId"].as_str().unwrap()).collect();
    assert!(ids.contains(&"20260501_1") && ids.contains(&"20260502_1"), "{ids:?}");
}

#[test]
fn droids_settings_are_read_whole_when_droid_rewrites_them() {
    let env = Env::new();
    let dir = env.home.join(".factory/sessions/-home-u-app");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("0b6a3c1e-8f2d-4c7a-9e51-3d2f6a7b9c10.settings.json");
    let settings = |input: u64, thinking: u64| {
        json!({"model": "claude-sonnet-4-5-20250929", "providerLock": "anthropic",
               "providerLockTimestamp": "2026-05-01T23:30:00.000Z",
               "tokenUsage": {"inputTokens": input, "outputTokens": 50, "cacheCreationTokens": 20,
                              "cacheReadTokens": 10, "thinkingTokens": thinking}})
        .to_string()
    };
    std::fs::write(&f, settings(100, 5)).unwrap();
    let r = ingest(&env);
    assert_eq!(r["newEvents"], 1, "{r}");
    // Droid rewrites it as the session goes on (into the next day): its totals replace the old.
    std::fs::write(&f, settings(1_000, 7)).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["replacedEvents"].as_u64()), (Some(0), Some(1)), "{r}");
    // Caught mid-rewrite: counted, and the last whole totals stay.
    std::fs::write(&f, &settings(2_000, 7)[..40]).unwrap();
    assert_eq!(ingest(&env)["malformedLines"], 1);
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "droid"]);
    let m = breakdown(&d, "2026-05-01", "claude-sonnet-4-5-20250929");
    assert_eq!(
        (m["inputTokens"].as_u64(), m["outputTokens"].as_u64(), m["reasoningOutputTokens"].as_u64()),
        (Some(1_000), Some(57), Some(7)),
        "thinking is output, on the session's first day: {m}"
    );
    assert!(m["cost"].as_f64().is_some_and(|c| c > 0.0), "{m}");
}

#[test]
fn amps_threads_give_each_assistant_messages_usage_once_and_an_edited_thread_loses_what_it_dropped() {
    let env = Env::new();
    let dir = env.home.join(".local/share/amp/threads");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("T-019b9d03-62e3-772f-9780-3e637f90eaec.json");
    let full = include_str!("../../crates/agentwatch-core/src/sources/amp/fixtures/T-019b9d03.json");
    std::fs::write(&f, &full[..full.len() - 30]).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(0), Some(1)), "cut short: {r}");
    std::fs::write(&f, full).unwrap();
    let r = ingest(&env);
    assert_eq!(r["newEvents"], 2, "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "amp"]);
    let m = breakdown(&d, "2026-01-19", "claude-haiku-4-5-20251001");
    assert_eq!(
        (m["inputTokens"].as_u64(), m["outputTokens"].as_u64(), m["cacheCreationTokens"].as_u64()),
        (Some(15), Some(220), Some(986)),
        "{m}"
    );
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "amp"]);
    assert_eq!(s["sessions"][0]["projectPath"], "/home/alice/src/webapp");
    let total = |env: &Env| {
        env.json(&["sessions", "--no-ingest", "--agent-type", "amp"])["sessions"][0]["tokens"]["total"].as_u64()
    };
    let both = total(&env).unwrap();

    // The thread edited back to its first exchange: Amp rewrites it without
    // the later messages, and their usage leaves the totals.
    let mut v: Value = serde_json::from_str(full).unwrap();
    let last = v["messages"].as_array_mut().unwrap().split_off(2);
    std::fs::write(&f, v.to_string()).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["removedEvents"].as_u64()), (Some(0), Some(1)), "{r}");
    let u = &last[1]["usage"];
    let gone = ["inputTokens", "outputTokens", "cacheCreationInputTokens", "cacheReadInputTokens"]
        .iter()
        .map(|k| u[k].as_u64().unwrap_or(0))
        .sum::<u64>();
    assert!(gone > 0, "{u}");
    assert_eq!(total(&env), Some(both - gone));
    // Caught half-written: nothing is removed, and the next whole read still knows what it held.
    std::fs::write(&f, &v.to_string()[..50]).unwrap();
    assert_eq!(ingest(&env)["removedEvents"], 0);
    std::fs::write(&f, full).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["removedEvents"].as_u64()), (Some(1), Some(0)), "{r}");
    assert_eq!(total(&env), Some(both));
}

#[test]
fn a_legacy_gemini_json_chat_is_read_and_its_resumed_copy_counts_once() {
    let env = Env::new();
    let chats = env.home.join(".gemini/tmp/app/chats");
    std::fs::create_dir_all(&chats).unwrap();
    std::fs::write(env.home.join(".gemini/tmp/app/.project_root"), "/home/u/app").unwrap();
    let doc =
        include_str!("../../crates/agentwatch-core/src/sources/gemini/fixtures/session-2025-09-18T14-03-5b7e2c1a.json");
    std::fs::write(chats.join("session-2025-09-18T14-03-5b7e2c1a.json"), doc).unwrap();
    let r = ingest(&env);
    assert_eq!(r["newEvents"], 2, "{r}");
    // Gemini CLI resumed it: the messages, ids and all, copied into a chat of lines.
    let v: Value = serde_json::from_str(doc).unwrap();
    let mut lines = vec![json!({"sessionId": v["sessionId"], "startTime": v["startTime"]})];
    lines.extend(v["messages"].as_array().unwrap().iter().cloned());
    write_lines(&chats.join("session-2025-09-18T14-03-5b7e2c1a.jsonl"), &super::support::lines(&lines));
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["duplicateEvents"].as_u64()), (Some(0), Some(2)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "gemini-cli"]);
    assert_eq!(breakdown(&d, "2025-09-18", "gemini-2.5-pro")["inputTokens"], 3808, "{d}");
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "gemini-cli"]);
    assert_eq!(s["sessions"][0]["projectPath"], "/home/u/app");
}

#[test]
fn kimis_wire_logs_count_each_call_once_under_the_model_that_served_it() {
    let env = Env::new();
    // Kimi CLI's folder of /home/u/app is the MD5 of that path.
    let cli = env.home.join(".kimi/sessions/e8fe62499352db84ffbb31a6ce9eda68/5b1c");
    let code = env.home.join(".kimi-code/sessions/wd_app_1a2b3c4d5e6f/s-9/agents/main");
    for (dir, text) in [
        (&cli, include_str!("../../crates/agentwatch-core/src/sources/kimi/fixtures/kimi-cli-wire.jsonl")),
        (&code, include_str!("../../crates/agentwatch-core/src/sources/kimi/fixtures/kimi-code-wire.jsonl")),
    ] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("wire.jsonl"), text).unwrap();
    }
    // Where each Kimi writes its work dirs down.
    std::fs::write(
        env.home.join(".kimi/kimi.json"),
        r#"{"work_dirs": [{"path": "/home/u/app", "kaos": "local", "last_session_id": "5b1c"}]}"#,
    )
    .unwrap();
    std::fs::write(
        env.home.join(".kimi-code/session_index.jsonl"),
        "{\"sessionId\":\"s-9\",\"sessionDir\":\"wd_app_1a2b3c4d5e6f/s-9\",\"workDir\":\"/home/u/site\"}\n",
    )
    .unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(6), Some(0)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "kimi"]);
    let m = breakdown(&d, "2026-04-14", "kimi-k2.5");
    assert_eq!(
        (
            m["inputTokens"].as_u64(),
            m["outputTokens"].as_u64(),
            m["cacheReadTokens"].as_u64(),
            m["cacheCreationTokens"].as_u64()
        ),
        (Some(3453), Some(852), Some(30800), Some(512)),
        "{m}"
    );
    // K2.5's list price: $0.60 in, $3.00 out, $0.10 cache read, $0.75 cache write per million.
    let want = (3453.0 * 0.60 + 852.0 * 3.00 + 30800.0 * 0.10 + 512.0 * 0.75) / 1e6;
    assert!((m["cost"].as_f64().unwrap() - want).abs() < 1e-9, "{m} vs {want}");
    assert_eq!(breakdown(&d, "2026-04-21", "kimi-k2.6")["outputTokens"], 95, "after the K2.6 change");
    // Kimi Code: a turn's call and a compaction's, then another model.
    assert_eq!(breakdown(&d, "2026-06-10", "kimi-k2.6")["inputTokens"], 4099 + 1520);
    assert_eq!(breakdown(&d, "2026-06-10", "kimi-k3")["outputTokens"], 230);
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "kimi"]);
    let mut ids: Vec<&str> =
        s["sessions"].as_array().unwrap().iter().map(|s| s["sessionId"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["5b1c", "s-9"]);
    let project = |id: &str| {
        s["sessions"].as_array().unwrap().iter().find(|s| s["sessionId"] == id).unwrap()["projectPath"].clone()
    };
    assert_eq!((project("5b1c"), project("s-9")), (json!("/home/u/app"), json!("/home/u/site")));

    // The cut-off last line is finished: read then, once.
    append(
        &cli.join("wire.jsonl"),
        "\n{\"timestamp\": 1776800010.5, \"message\": {\"type\": \"StatusUpdate\", \"payload\": {\"token_usage\": {\"input_other\": 7, \"output\": 3, \"input_cache_read\": 0, \"input_cache_creation\": 0}, \"message_id\": \"chatcmpl-late\"}}}\n",
    );
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(1), Some(1)), "{r}");
    assert_eq!(ingest(&env)["newEvents"], 0);
}

#[test]
fn groks_completed_turns_count_once_per_model_at_the_cost_grok_recorded() {
    let env = Env::new();
    let dir = env.home.join(".grok/sessions/%2Fhome%2Fu%2Fapp/019fa7cc-a6a2-7bb0-99c4-5a235935acaa");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("updates.jsonl"),
        include_str!("../../crates/agentwatch-core/src/sources/grok/fixtures/updates.jsonl"),
    )
    .unwrap();
    std::fs::write(
        dir.join("summary.json"),
        include_str!("../../crates/agentwatch-core/src/sources/grok/fixtures/summary.json"),
    )
    .unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(4), Some(0)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "grok"]);
    let m = breakdown(&d, "2026-07-28", "grok-4.5-build");
    let counts = |m: &Value| {
        ["inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens"].map(|k| m[k].as_u64().unwrap_or(0))
    };
    assert_eq!(counts(m), [800 + 6000 + 700, 50 + 300 + 20, 200 + 24_000 + 300, 0], "{m}");
    // Two turns' own costUsdTicks, and one turn without any priced as grok-4.5
    // ($2 in, $6 out, $0.30 cache read per million).
    let want = 0.002_843 + 0.25 + (700.0 * 2.0 + 20.0 * 6.0 + 300.0 * 0.30) / 1e6;
    assert!((m["cost"].as_f64().unwrap() - want).abs() < 1e-9, "{m} vs {want}");
    let m = breakdown(&d, "2026-07-28", "grok-4.3-build");
    assert_eq!(counts(m), [2100, 90, 6000, 400], "{m}");
    // grok-4.3: $1.25 in, $2.50 out, $0.20 cache read, a cache write at 1.25× input.
    let want = (2100.0 * 1.25 + 90.0 * 2.5 + 6000.0 * 0.20 + 400.0 * 1.5625) / 1e6;
    assert!((m["cost"].as_f64().unwrap() - want).abs() < 1e-9, "{m} vs {want}");
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "grok"]);
    assert_eq!(s["sessions"][0]["sessionId"], "019fa7cc-a6a2-7bb0-99c4-5a235935acaa");
    assert_eq!(s["sessions"][0]["projectPath"], "/home/u/app");

    // The cut-off last line is finished, and a later turn written: read then, once.
    append(
        &dir.join("updates.jsonl"),
        "ng the tests.\"}},\"_meta\":{\"agentTimestampMs\":1785226100000}}}\n{\"timestamp\":1785226200,\"method\":\"_x.ai/session/update\",\"params\":{\"update\":{\"sessionUpdate\":\"turn_completed\",\"usage\":{\"costUsdTicks\":10000000,\"modelUsage\":{\"grok-4.5-build\":{\"inputTokens\":90,\"outputTokens\":9,\"costUsdTicks\":10000000}}}},\"_meta\":{\"eventId\":\"019fa7cc-a6a2-7bb0-99c4-5a235935acaa-20\"}}}\n",
    );
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(1), Some(0)), "{r}");
    assert_eq!(ingest(&env)["newEvents"], 0);
}

#[test]
fn zcodes_ledger_counts_each_completed_request_once_at_z_ais_prices() {
    let env = Env::new();
    let dir = env.home.join(".zcode/cli/db");
    std::fs::create_dir_all(&dir).unwrap();
    let c = rusqlite::Connection::open(dir.join("db.sqlite")).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/zcode/fixtures/zcode.sql")).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(6), Some(1)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "zcode"]);
    let counts = |m: &Value| {
        ["inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens"].map(|k| m[k].as_u64().unwrap_or(0))
    };
    let m = breakdown(&d, "2026-08-16", "GLM-5.3");
    assert_eq!(counts(m), [4495 + 1600, 59 + 420, 300, 11_712 + 16_400], "{m}");
    // Z.ai's GLM-5.3: $1.40 in (cache writes too), $0.26 cache read, $4.40 out per million.
    let want = ((6095.0 + 300.0) * 1.40 + 28_112.0 * 0.26 + 479.0 * 4.40) / 1e6;
    assert!((m["cost"].as_f64().unwrap() - want).abs() < 1e-9, "{m} vs {want}");
    let m = breakdown(&d, "2026-08-17", "GLM-5.2");
    assert_eq!(counts(m), [4000, 240, 0, 1000], "the total's 40 beyond input and output is output: {m}");
    assert_eq!(m["reasoningOutputTokens"], 40, "{m}");
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "zcode"]);
    let mut dirs: Vec<&str> =
        s["sessions"].as_array().unwrap().iter().map(|s| s["projectPath"].as_str().unwrap_or("")).collect();
    dirs.sort();
    assert_eq!(dirs, ["/home/u/api", "/home/u/app"]);

    // A request that ends later: read then, once.
    c.execute(
        "INSERT INTO model_usage (id, session_id, model_id, provider_id, status, started_at, input_tokens,
             output_tokens, cache_creation_input_tokens, cache_read_input_tokens, computed_total_tokens)
         VALUES ('mu_11', 'sess_01JZ9A7B3C', 'GLM-5.3', 'builtin:zai-coding-plan', 'completed', 1786995600000,
             900, 90, 0, 0, 990)",
        [],
    )
    .unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["replacedEvents"].as_u64()), (Some(1), Some(0)), "{r}");
    assert_eq!(ingest(&env)["newEvents"], 0);
}

#[test]
fn antigravitys_conversations_give_each_call_once_and_a_backup_copy_adds_nothing() {
    let env = Env::new();
    let id = "3f1c2a9e-6b7d-4e21-9a0c-5d8e7f6a4b31";
    let dir = env.home.join(".gemini/antigravity/conversations");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join(format!("{id}.db"));
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/antigravity/fixtures/conversation.sql"))
        .unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(8), Some(2)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "antigravity"]);
    let counts = |m: &Value| {
        ["inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "reasoningOutputTokens"]
            .map(|k| m[k].as_u64().unwrap_or(0))
    };
    let cost = |m: &Value| m["cost"].as_f64().unwrap();
    // What `ccusage antigravity daily` 20.0.24 gives for this conversation
    // (without its two broken rows, which make it fail): the same tokens
    // (its output column without the thinking) and costs.
    let m = breakdown(&d, "2026-11-03", "gemini-3.5-flash-high");
    assert_eq!(counts(m), [6000, 370, 0, 11_800, 120], "{m}");
    assert!((cost(m) - 0.0141).abs() < 1e-9, "{m}");
    let m = breakdown(&d, "2026-11-03", "gemini-3.6-flash-high");
    assert_eq!(counts(m), [1200, 60, 0, 0, 0], "{m}");
    assert!((cost(m) - 0.001125).abs() < 1e-9, "{m}");
    let m = breakdown(&d, "2026-11-04", "claude-opus-4-6");
    assert_eq!(counts(m), [1275, 700, 17_000, 0, 0], "{m}");
    assert!((cost(m) - 0.130125).abs() < 1e-9, "{m}");
    let m = breakdown(&d, "2026-11-04", "gpt-oss-120b-medium");
    assert_eq!((counts(m), &m["cost"]), ([1000, 100, 0, 0, 0], &Value::Null), "no list price: {m}");
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "antigravity"]);
    assert_eq!(s["sessions"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["sessions"][0]["projectPath"], "/home/u/my app");

    // A copy of the conversation in the backup folder: the same calls.
    let backup = env.home.join(".gemini/antigravity-backup");
    std::fs::create_dir_all(&backup).unwrap();
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    std::fs::copy(&db, backup.join(format!("{id}.db"))).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(0), Some(2)), "{r}");

    // A new generation: read then, once; the broken rows are not counted again.
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let num = |n: u64, v: u64| {
        let mut out = Vec::new();
        varint(n << 3, &mut out);
        varint(v, &mut out);
        out
    };
    let len = |n: u64, b: &[u8]| {
        let mut out = Vec::new();
        varint(n << 3 | 2, &mut out);
        varint(b.len() as u64, &mut out);
        out.extend_from_slice(b);
        out
    };
    let usage = [num(2, 1000), num(3, 100), len(11, b"resp-9")].concat();
    let time = len(4, &num(1, 1_793_810_596)); // 2026-11-04T16:43:16Z
    let data = len(1, &[len(4, &usage), len(9, &time), len(19, b"gemini-3-flash-a")].concat());
    c.execute("INSERT INTO gen_metadata (idx, data) VALUES (9, ?1)", [data]).unwrap();
    let r = ingest(&env);
    assert_eq!(
        (r["newEvents"].as_u64(), r["replacedEvents"].as_u64(), r["malformedLines"].as_u64()),
        (Some(1), Some(0), Some(0)),
        "{r}"
    );
    assert_eq!(ingest(&env)["newEvents"], 0);
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "antigravity"]);
    assert_eq!(counts(breakdown(&d, "2026-11-04", "gemini-3.5-flash-high")), [1000, 100, 0, 0, 0]);
}

#[test]
fn pis_sessions_give_each_call_once_with_pis_own_cost_and_a_branched_copy_adds_nothing() {
    let env = Env::new();
    let dir = env.home.join(".pi/agent/sessions/--home-u-app--");
    std::fs::create_dir_all(&dir).unwrap();
    let text = include_str!("../../crates/agentwatch-core/src/sources/pi/fixtures/session.jsonl");
    let original = dir.join("2026-03-14T09-12-03-511Z_6f1d2c7e-1b3a-4c55-9e0f-2a7b8c9d0e1f.jsonl");
    std::fs::write(&original, text).unwrap();
    // `/fork`: a new header, then the branch's entries copied as they were.
    let branch: Vec<&str> = text.lines().skip(1).take(6).collect();
    std::fs::write(
        dir.join("2026-03-16T10-00-00-000Z_9a8b7c6d-0000-4000-8000-000000000001.jsonl"),
        format!(
            "{{\"type\":\"session\",\"version\":3,\"id\":\"9a8b7c6d-0000-4000-8000-000000000001\",\"timestamp\":\"2026-03-16T10:00:00.000Z\",\"cwd\":\"/home/u/app\",\"parentSession\":\"{}\"}}\n{}\n",
            original.display(),
            branch.join("\n")
        ),
    )
    .unwrap();
    let r = ingest(&env);
    assert_eq!(
        (r["newEvents"].as_u64(), r["malformedLines"].as_u64()),
        (Some(4), Some(0)),
        "the cut-off last line waits: {r}"
    );
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "pi"]);
    let m = breakdown(&d, "2026-03-14", "claude-sonnet-4-5");
    assert_eq!(
        (
            m["inputTokens"].as_u64(),
            m["outputTokens"].as_u64(),
            m["cacheReadTokens"].as_u64(),
            m["cacheCreationTokens"].as_u64()
        ),
        (Some(8), Some(208), Some(4210), Some(4520)),
        "{m}"
    );
    assert!((m["cost"].as_f64().unwrap() - (0.0175965 + 0.0037605)).abs() < 1e-12, "pi's own costs: {m}");
    let g = breakdown(&d, "2026-03-15", "gpt-5");
    assert_eq!((g["inputTokens"].as_u64(), g["cacheReadTokens"].as_u64()), (Some(1200), Some(2048)), "{g}");
    assert!((g["cost"].as_f64().unwrap() - 0.005156).abs() < 1e-12, "{g}");
    assert_eq!(breakdown(&d, "2026-03-15", "qwen3-coder:30b")["outputTokens"], 60);
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "pi"]);
    let mut ids: Vec<&str> =
        s["sessions"].as_array().unwrap().iter().map(|s| s["sessionId"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["6f1d2c7e-1b3a-4c55-9e0f-2a7b8c9d0e1f", "9a8b7c6d-0000-4000-8000-000000000001"]);

    // The cut-off prompt is finished, then a call: read once.
    append(
        &original,
        "xt\",\"text\":\"more\"}],\"timestamp\":1773532979000}}\n{\"type\":\"message\",\"id\":\"1f2a3b4c\",\"parentId\":\"0e1f2a3b\",\"timestamp\":\"2026-03-15T00:03:05.000Z\",\"message\":{\"role\":\"assistant\",\"content\":[],\"api\":\"openai-completions\",\"provider\":\"ollama\",\"model\":\"qwen3-coder:30b\",\"usage\":{\"input\":7,\"output\":3,\"cacheRead\":0,\"cacheWrite\":0,\"totalTokens\":10,\"cost\":{\"input\":0,\"output\":0,\"cacheRead\":0,\"cacheWrite\":0,\"total\":0}},\"stopReason\":\"stop\",\"timestamp\":1773532980000}}\n",
    );
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(1), Some(0)), "{r}");
    assert_eq!(ingest(&env)["newEvents"], 0);
}

#[test]
fn openclaws_transcripts_and_their_checkpoint_copies_count_each_call_once_on_the_day_it_was_written() {
    let env = Env::new();
    let dir = env.home.join(".openclaw/agents/main/sessions");
    std::fs::create_dir_all(&dir).unwrap();
    let id = "4f1c2a9e-7b3d-4e21-9c5a-1d2e3f4a5b6c";
    let text = include_str!(
        "../../crates/agentwatch-core/src/sources/openclaw/fixtures/4f1c2a9e-7b3d-4e21-9c5a-1d2e3f4a5b6c.jsonl"
    );
    std::fs::write(dir.join(format!("{id}.jsonl")), text).unwrap();
    // A compaction's checkpoint: a byte copy of the transcript.
    std::fs::write(dir.join(format!("{id}.checkpoint.0b9e8f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b.jsonl")), text).unwrap();
    // Run traces and the session index are not transcripts.
    std::fs::write(dir.join(format!("{id}.trajectory.jsonl")), "{\"type\":\"trace.metadata\"}\n").unwrap();
    std::fs::write(dir.join("sessions.json"), "{}").unwrap();
    let r = ingest(&env);
    // 3 calls on 2026-05-02/03; on 2026-05-04, 8 calls in 10 rows (two
    // calls also as a bridge: the second row takes the first's key) besides
    // 4 rows that add nothing (a bridge after its message, a compaction's
    // total, two bridges after their compaction's). The copy: 13 again.
    assert_eq!(
        (r["filesScanned"].as_u64(), r["newEvents"].as_u64(), r["duplicateEvents"].as_u64()),
        (Some(2), Some(11), Some(2 + 13)),
        "{r}"
    );
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "openclaw"]);
    let m = breakdown(&d, "2026-05-02", "claude-opus-4-5");
    assert_eq!((m["inputTokens"].as_u64(), m["cacheCreationTokens"].as_u64()), (Some(4), Some(9210)), "{m}");
    assert!((m["cost"].as_f64().unwrap() - 0.0599825).abs() < 1e-12, "OpenClaw's own cost: {m}");
    // Begun at 23:59:58, written at 00:00:03: the day it was written, as OpenClaw reports it.
    let n = breakdown(&d, "2026-05-03", "claude-opus-4-5");
    assert_eq!(
        (n["inputTokens"].as_u64(), n["outputTokens"].as_u64(), n["cacheReadTokens"].as_u64()),
        (Some(18), Some(71), Some(18600)),
        "{n}"
    );
    assert!((n["cost"].as_f64().unwrap() - (0.006785 + 0.005505)).abs() < 1e-12, "{n}");
    // The calls OpenClaw's accounting entries record, each once, as its own
    // usage report counts them (sources/openclaw/README.md): an assistant
    // message with its bridge either side, an ephemeral call, a hidden
    // call, a compaction's two calls, a branch summary's, a compaction's
    // openclaw:compaction-usage with its bridges after it.
    let o = breakdown(&d, "2026-05-04", "claude-opus-4-5");
    assert_eq!(
        (
            o["inputTokens"].as_u64(),
            o["outputTokens"].as_u64(),
            o["cacheReadTokens"].as_u64(),
            o["cacheCreationTokens"].as_u64()
        ),
        (Some(10 + 3 + 6000 + 2500 + 1500 + 900), Some(50 + 20 + 400 + 300 + 200 + 150), Some(18160), Some(100)),
        "{o}"
    );
    let opus = 0.006425 + 0.005095 + 0.04 + 0.02 + 0.0125 + 0.00825;
    assert!((o["cost"].as_f64().unwrap() - opus).abs() < 1e-12, "{o}");
    for (model, input, output, cost) in [("gpt-5-mini", 800, 120, 0.00044), ("claude-haiku-4-5", 1200, 30, 0.00135)] {
        let m = breakdown(&d, "2026-05-04", model);
        assert_eq!((m["inputTokens"].as_u64(), m["outputTokens"].as_u64()), (Some(input), Some(output)), "{m}");
        assert!((m["cost"].as_f64().unwrap() - cost).abs() < 1e-12, "{m}");
    }
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "openclaw"]);
    let ids: Vec<&str> = s["sessions"].as_array().unwrap().iter().map(|s| s["sessionId"].as_str().unwrap()).collect();
    assert_eq!(ids, [id], "a checkpoint copy is its transcript's session");

    // Reset: OpenClaw renames the transcript; nothing new.
    std::fs::rename(dir.join(format!("{id}.jsonl")), dir.join(format!("{id}.jsonl.reset.2026-05-04T07-00-00.000Z")))
        .unwrap();
    let r = ingest(&env);
    assert_eq!(r["newEvents"], 0, "{r}");
    assert_eq!(env.json(&["costs", "daily", "--no-ingest", "--agent", "openclaw"])["totals"], d["totals"]);
}

#[test]
fn codebuffs_chats_give_each_assistant_messages_usage_once_and_are_read_whole_when_rewritten() {
    let env = Env::new();
    let dir = env.home.join(".config/manicode/projects/webapp/chats/2026-01-02T03-04-05.000Z");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("chat-messages.json");
    std::fs::write(dir.join("run-state.json"), "{}").unwrap();
    let full = include_str!("../../crates/agentwatch-core/src/sources/codebuff/fixtures/chat-messages.json");
    // Caught while Codebuff rewrote it: counted, read again at its next change.
    std::fs::write(&f, &full[..full.len() / 2]).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(0), Some(1)), "{r}");
    std::fs::write(&f, full).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(3), Some(0)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "codebuff"]);
    let m = breakdown(&d, "2026-01-02", "claude-sonnet-4-20250514");
    assert_eq!(
        (
            m["inputTokens"].as_u64(),
            m["outputTokens"].as_u64(),
            m["cacheCreationTokens"].as_u64(),
            m["cacheReadTokens"].as_u64()
        ),
        (Some(1200), Some(340), Some(5000), Some(18000)),
        "{m}"
    );
    assert!(m["cost"].as_f64().is_some_and(|c| c > 0.0), "{m}");
    let g = breakdown(&d, "2026-01-02", "openai/gpt-5");
    assert_eq!(
        (g["inputTokens"].as_u64(), g["cacheReadTokens"].as_u64(), g["reasoningOutputTokens"].as_u64()),
        (Some(2000), Some(4000), Some(256)),
        "the cached part of OpenAI's prompt count is not input: {g}"
    );
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "codebuff"]);
    assert_eq!(s["sessions"][0]["sessionId"], "manicode/webapp/2026-01-02T03-04-05.000Z");
    assert_eq!(s["sessions"][0]["projectPath"], "/home/alice/src/webapp");

    // The next turn rewrites the chat: the calls it held stay once, the new one is added.
    let mut v: Value = serde_json::from_str(full).unwrap();
    v.as_array_mut().unwrap().push(json!({"id": "ai-next", "variant": "ai", "timestamp": "2026-01-02T03:10:00.000Z",
        "metadata": {"model": "claude-sonnet-4-20250514", "usage": {"inputTokens": 10, "outputTokens": 5}}}));
    std::fs::write(&f, v.to_string()).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["removedEvents"].as_u64()), (Some(1), Some(0)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "codebuff"]);
    assert_eq!(breakdown(&d, "2026-01-02", "claude-sonnet-4-20250514")["inputTokens"], 1210);
    // CODEBUFF_DATA_DIR (ccusage's variable) names the channel folders to read instead.
    let other = env.root.join("elsewhere/manicode-dev");
    let dir = other.join("projects/webapp/chats/2026-01-02T03-04-05.000Z");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("chat-messages.json"), full).unwrap();
    let out = env.command(&["ingest", "--format", "json"]).env("CODEBUFF_DATA_DIR", &other).output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["filesRead"].as_u64(), r["newEvents"].as_u64()), (Some(1), Some(3)), "another channel's chat: {r}");
}

#[test]
fn hermes_state_databases_give_each_session_its_totals_and_what_the_provider_billed_and_are_never_written() {
    let env = Env::new();
    let home = env.home.join(".hermes");
    let work = home.join("profiles/work");
    std::fs::create_dir_all(&work).unwrap();
    let c = rusqlite::Connection::open(home.join("state.db")).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/hermes/fixtures/hermes-state.sql")).unwrap();
    // A named profile is a Hermes home of its own.
    let p = rusqlite::Connection::open(work.join("state.db")).unwrap();
    p.execute_batch(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT NOT NULL, model TEXT, started_at REAL NOT NULL,
             input_tokens INTEGER DEFAULT 0, output_tokens INTEGER DEFAULT 0, cache_read_tokens INTEGER DEFAULT 0,
             cache_write_tokens INTEGER DEFAULT 0, reasoning_tokens INTEGER DEFAULT 0, estimated_cost_usd REAL,
             actual_cost_usd REAL);
         INSERT INTO sessions VALUES ('20260501_120000_ffffff', 'cli', 'claude-sonnet-4-20250514', 1777636800, 1000, 100,
             0, 0, 0, NULL, NULL);",
    )
    .unwrap();
    drop(p);
    let bytes = |f: &std::path::Path| std::fs::read(f).unwrap_or_default();
    let before = (bytes(&home.join("state.db")), bytes(&home.join("state.db-wal")));
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(5), Some(1)), "{r}");
    assert_eq!((bytes(&home.join("state.db")), bytes(&home.join("state.db-wal"))), before, "read-only");

    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "hermes"]);
    let m = breakdown(&d, "2026-05-01", "claude-sonnet-4-20250514");
    assert_eq!(
        (m["inputTokens"].as_u64(), m["outputTokens"].as_u64(), m["cacheReadTokens"].as_u64()),
        (Some(1200 + 1000), Some(300 + 100), Some(50)),
        "{m}"
    );
    let g = breakdown(&d, "2026-05-01", "gpt-5");
    assert_eq!((g["outputTokens"].as_u64(), g["reasoningOutputTokens"].as_u64()), (Some(900), Some(400)), "{g}");
    // Included in a subscription (Hermes recorded 0): priced from the tokens,
    // the reasoning once, inside the output.
    let want = (5000.0 * 1.25 + 900.0 * 10.0 + 20000.0 * 0.125) / 1e6;
    assert!((g["cost"].as_f64().unwrap() - want).abs() < 1e-9, "{g} vs {want}");
    // What the provider billed, as Hermes recorded it (its estimates are not bills).
    assert_eq!(breakdown(&d, "2026-05-02", "anthropic/claude-opus-4.1")["cost"], 0.5);

    // The session goes on: Hermes adds the next call to its totals.
    c.execute(
        "UPDATE sessions SET input_tokens = input_tokens + 400, estimated_cost_usd = 0.02 \
         WHERE id = '20260501_010203_a1b2c3'",
        [],
    )
    .unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["replacedEvents"].as_u64()), (Some(0), Some(1)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "hermes"]);
    assert_eq!(breakdown(&d, "2026-05-01", "claude-sonnet-4-20250514")["inputTokens"], 1600 + 1000);
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "hermes"]);
    let ids: Vec<&str> = s["sessions"].as_array().unwrap().iter().map(|s| s["sessionId"].as_str().unwrap()).collect();
    assert!(ids.contains(&"20260503_100000_6a7b8c") && ids.contains(&"20260501_120000_ffffff"), "{ids:?}");
}

#[test]
fn clines_calls_count_exactly_what_its_files_recorded_day_by_day() {
    let env = Env::new();
    let (session, task) = cline_fixtures(&env);
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(7), Some(0)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "cline"]);
    let day = |date: &str, model: &str| {
        let m = breakdown(&d, date, model);
        (
            m["inputTokens"].as_u64().unwrap(),
            m["outputTokens"].as_u64().unwrap(),
            m["cacheCreationTokens"].as_u64().unwrap(),
            m["cacheReadTokens"].as_u64().unwrap(),
            m["cost"].as_f64(),
            m["priceSource"].as_str().unwrap_or_default().to_string(),
        )
    };
    let close = |got: Option<f64>, want: f64| got.is_some_and(|g| (g - want).abs() < 1e-12);
    // Cline 3 (its `api_req_started` records: `tokensIn` without the cache).
    // 2025-12-11: 12 + 3 in, 310 + 95 out, 14 230 + 420 written, 0 + 14 230 read; $0.0580485 + $0.007278.
    let s = day("2025-12-11", "claude-sonnet-4-5-20250929");
    assert_eq!((s.0, s.1, s.2, s.3, s.5.as_str()), (15, 405, 14_650, 14_230, "transcript"), "{s:?}");
    assert!(close(s.4, 0.0653265), "{s:?}");
    // 2025-12-12: the calls a checkpoint restore folded into `deleted_api_reqs`, by the model then in use.
    let h = day("2025-12-12", "claude-haiku-4-5-20251001");
    assert_eq!((h.0, h.1, h.2, h.3), (40, 640, 0, 9_000), "{h:?}");
    assert!(close(h.4, 0.00414), "{h:?}");
    // Cline 4 (`metrics`: `inputTokens` holds the cache, taken out).
    // 2026-07-15: (34 334 − 0) + (35 912 − 34 332) in, 741 + 164 out, 34 332 read; $0.114117 + $0.0174996.
    let s = day("2026-07-15", "anthropic/claude-sonnet-4.5");
    assert_eq!((s.0, s.1, s.2, s.3, s.5.as_str()), (35_914, 905, 0, 34_332, "transcript"), "{s:?}");
    assert!(close(s.4, 0.1316166), "{s:?}");
    // The sub-agent's call, in its session: 3 900 − 3 000 in; $0.0018.
    let a = day("2026-07-15", "claude-haiku-4-5");
    assert_eq!((a.0, a.1, a.2, a.3), (900, 120, 0, 3_000), "{a:?}");
    assert!(close(a.4, 0.0018), "{a:?}");
    // 2026-07-16: 37 310 − 35 910 − 1 200 in; Cline's cost 0 is no price: its tokens are priced.
    let s = day("2026-07-16", "anthropic/claude-sonnet-4.5");
    assert_eq!((s.0, s.1, s.2, s.3), (200, 310, 1_200, 35_910), "{s:?}");
    assert_ne!(s.5, "transcript", "{s:?}");
    let want = (200.0 * 3.0 + 310.0 * 15.0 + 1_200.0 * 3.75 + 35_910.0 * 0.30) / 1e6;
    assert!(close(s.4, want), "{s:?} vs {want}");

    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "cline"]);
    let mut got: Vec<(String, String)> = s["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["sessionId"].as_str().unwrap().into(), s["projectPath"].as_str().unwrap_or_default().into()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("1765432100000".to_string(), "/home/alice/src/shop".to_string()),
            ("1784094124598_rruoq".to_string(), "/home/alice/src/webapp".to_string())
        ]
    );

    // Cline 3 fills in the request it was making: one more call.
    let text = std::fs::read_to_string(task.join("ui_messages.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let last = v.as_array_mut().unwrap().iter_mut().rev().find(|m| m["say"] == "api_req_started").unwrap();
    last["text"] = json!(
        json!({"request": "<feedback>", "tokensIn": 5, "tokensOut": 50, "cacheWrites": 0, "cacheReads": 9040, "cost": 0.001159})
            .to_string()
    );
    std::fs::write(task.join("ui_messages.json"), v.to_string()).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["removedEvents"].as_u64()), (Some(1), Some(0)), "{r}");
    // A fork copies its parent's messages, ids and all: the same calls, counted once.
    let fork = session.with_file_name("1784094200000_forkd");
    std::fs::create_dir_all(&fork).unwrap();
    std::fs::copy(session.join("1784094124598_rruoq.messages.json"), fork.join("1784094200000_forkd.messages.json"))
        .unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["duplicateEvents"].as_u64()), (Some(0), Some(3)), "{r}");
    // Caught mid-rewrite: counted, and what it held stays.
    std::fs::write(session.join("1784094124598_rruoq.messages.json"), &text[..100]).unwrap();
    let r = ingest(&env);
    assert_eq!((r["malformedLines"].as_u64(), r["removedEvents"].as_u64()), (Some(1), Some(0)), "{r}");
}

#[test]
fn roo_codes_calls_count_exactly_what_its_tasks_recorded_day_by_day() {
    let env = Env::new();
    let id = "019a7c2e-5b41-7d0a-8f3e-2c6b9d1a4e70";
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../agentwatch-core/src/sources/roo/fixtures/tasks")
        .join(id);
    // A task of the CLI's (`roo`), whose storage is the same on every OS.
    let task = env.home.join(".vscode-mock/global-storage/tasks").join(id);
    std::fs::create_dir_all(&task).unwrap();
    for f in ["ui_messages.json", "api_conversation_history.json", "history_item.json"] {
        std::fs::copy(fixtures.join(f), task.join(f)).unwrap();
    }
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(3), Some(0)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "roo-code"]);
    let close = |got: &Value, want: f64| got.as_f64().is_some_and(|g| (g - want).abs() < 1e-12);
    // 2026-02-03: `tokensIn` is the whole prompt: (14 242 − 14 230) + (14 655 − 420 − 14 230) in; $0.0580485 + $0.007278.
    let m = breakdown(&d, "2026-02-03", "claude-sonnet-4-5");
    assert_eq!(
        (&m["inputTokens"], &m["outputTokens"], &m["cacheCreationTokens"], &m["cacheReadTokens"], &m["priceSource"]),
        (&json!(17), &json!(405), &json!(14_650), &json!(14_230), &json!("transcript")),
        "{m}"
    );
    assert!(close(&m["cost"], 0.0653265), "{m}");
    // 2026-02-04: after a model switch (the prompt's environment details name it); the condensing is no call.
    let m = breakdown(&d, "2026-02-04", "claude-haiku-4-5");
    assert_eq!(
        (&m["inputTokens"], &m["outputTokens"], &m["cacheCreationTokens"], &m["cacheReadTokens"]),
        (&json!(0), &json!(800), &json!(9_000), &json!(12_000)),
        "{m}"
    );
    assert!(close(&m["cost"], 0.01645), "{m}");
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "roo-code"]);
    assert_eq!(
        (&s["sessions"][0]["sessionId"], &s["sessions"][0]["projectPath"]),
        (&json!(id), &json!("/home/bob/src/dates"))
    );
}

/// The totals `costs daily` gives of `agent`, from the store.
fn totals_of(env: &Env, agent: &str) -> Value {
    env.json(&["costs", "daily", "--no-ingest", "--agent", agent])["totals"].clone()
}

/// A document read, then rewritten by its agent (`edit`: without one of its
/// calls), and read again: the report of that read and the totals before and
/// after it. The totals after are those of a fresh read of the rewritten
/// document alone, and stay when it is next caught half-written. `place` puts the document (and what is read with it) in
/// an environment and names it.
fn rewritten_as_read_fresh(
    agent: &str,
    place: &dyn Fn(&Env) -> std::path::PathBuf,
    edit: &dyn Fn(&mut Value),
) -> (Value, Value, Value) {
    let env = Env::new();
    let f = place(&env);
    let r = ingest(&env);
    assert_eq!(r["malformedLines"], 0, "{r}");
    let before = totals_of(&env, agent);
    let mut v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    edit(&mut v);
    let rewritten = v.to_string();
    std::fs::write(&f, &rewritten).unwrap();
    let r = ingest(&env);
    let after = totals_of(&env, agent);
    let fresh = Env::new();
    std::fs::write(place(&fresh), &rewritten).unwrap();
    ingest(&fresh);
    assert_eq!(after, totals_of(&fresh, agent), "read as rewritten, as read fresh");
    // Caught half-written: counted, never fatal, and what it held stays.
    std::fs::write(&f, &rewritten[..rewritten.len() / 2]).unwrap();
    let cut = ingest(&env);
    assert_eq!(
        (cut["malformedLines"].as_u64(), cut["removedEvents"].as_u64(), cut["newEvents"].as_u64()),
        (Some(1), Some(0), Some(0)),
        "{cut}"
    );
    assert_eq!(totals_of(&env, agent), after);
    (r, before, after)
}

/// Of `costs daily` totals, what one call's leaving took out: (input, output).
fn gone(before: &Value, after: &Value) -> (u64, u64) {
    let n = |v: &Value, k: &str| v[k].as_u64().unwrap();
    (n(before, "inputTokens") - n(after, "inputTokens"), n(before, "outputTokens") - n(after, "outputTokens"))
}

#[test]
fn a_cline_4_session_rewritten_without_a_call_loses_it_and_keeps_the_rest_once() {
    let place = |env: &Env| cline_fixtures(env).0.join("1784094124598_rruoq.messages.json");
    // A checkpoint restored: the messages of 2026-07-16 are gone.
    let (r, before, after) =
        rewritten_as_read_fresh("cline", &place, &|v| v["messages"].as_array_mut().unwrap().truncate(5));
    assert_eq!(
        (r["newEvents"].as_u64(), r["removedEvents"].as_u64(), r["malformedLines"].as_u64()),
        (Some(0), Some(1), Some(0)),
        "{r}"
    );
    assert_eq!(gone(&before, &after), (200, 310), "the call of 2026-07-16");
}

#[test]
fn a_cline_3_task_rewritten_without_a_call_loses_it_and_keeps_the_rest_once() {
    let place = |env: &Env| cline_fixtures(env).1.join("ui_messages.json");
    let (r, before, after) = rewritten_as_read_fresh("cline", &place, &|v| {
        let m = v.as_array_mut().unwrap();
        assert_eq!(m[6]["say"], "deleted_api_reqs");
        m.remove(6);
    });
    assert_eq!((r["newEvents"].as_u64(), r["removedEvents"].as_u64()), (Some(0), Some(1)), "{r}");
    assert_eq!(gone(&before, &after), (40, 640), "the calls deleted_api_reqs folded");
}

/// A task of Roo Code's CLI or Kilo Code's extension, from the folder's fixtures.
fn task_fixture(env: &Env, fixtures: &str, id: &str, dir: &str, files: &[&str]) -> std::path::PathBuf {
    let from =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../agentwatch-core/src/sources").join(fixtures).join(id);
    let task = env.home.join(dir).join(id);
    std::fs::create_dir_all(&task).unwrap();
    for f in files {
        std::fs::copy(from.join(f), task.join(f)).unwrap();
    }
    task.join("ui_messages.json")
}

#[test]
fn a_roo_code_task_rewritten_without_a_call_loses_it_and_keeps_the_rest_once() {
    let place = |env: &Env| {
        let files = ["ui_messages.json", "api_conversation_history.json", "history_item.json"];
        task_fixture(
            env,
            "roo/fixtures/tasks",
            "019a7c2e-5b41-7d0a-8f3e-2c6b9d1a4e70",
            ".vscode-mock/global-storage/tasks",
            &files,
        )
    };
    let (r, before, after) = rewritten_as_read_fresh("roo-code", &place, &|v| {
        let m = v.as_array_mut().unwrap();
        assert_eq!(m[6]["ts"], 1770192005000i64);
        m.remove(6);
    });
    assert_eq!((r["newEvents"].as_u64(), r["removedEvents"].as_u64()), (Some(0), Some(1)), "{r}");
    assert_eq!(gone(&before, &after), (0, 800), "the call after the condensing");
}

#[test]
fn a_kilo_code_task_rewritten_without_a_call_loses_it_and_keeps_the_rest_once() {
    let place = |env: &Env| {
        let files = ["ui_messages.json", "api_conversation_history.json"];
        let dir = ".config/Code/User/globalStorage/kilocode.kilo-code/tasks";
        task_fixture(env, "kilo/fixtures/tasks", "0198f1d2-3c4b-7a5e-9f60-1a2b3c4d5e6f", dir, &files)
    };
    let (r, before, after) = rewritten_as_read_fresh("kilo", &place, &|v| {
        let m = v.as_array_mut().unwrap();
        assert_eq!(m[5]["ts"], 1763631000000i64);
        m.remove(5);
    });
    assert_eq!((r["newEvents"].as_u64(), r["removedEvents"].as_u64()), (Some(0), Some(1)), "{r}");
    assert_eq!(gone(&before, &after), (150, 210), "the second call");
}

#[test]
fn a_legacy_gemini_chat_rewritten_without_a_call_loses_it_and_keeps_the_rest_once() {
    let place = |env: &Env| {
        let chats = env.home.join(".gemini/tmp/app/chats");
        std::fs::create_dir_all(&chats).unwrap();
        let f = chats.join("session-2025-09-18T14-03-5b7e2c1a.json");
        let doc = include_str!(
            "../../crates/agentwatch-core/src/sources/gemini/fixtures/session-2025-09-18T14-03-5b7e2c1a.json"
        );
        std::fs::write(&f, doc).unwrap();
        f
    };
    let (r, before, after) = rewritten_as_read_fresh("gemini-cli", &place, &|v| {
        let m = v["messages"].as_array_mut().unwrap();
        assert_eq!(m[2]["model"], "gemini-2.5-flash");
        m.remove(2);
    });
    assert_eq!((r["newEvents"].as_u64(), r["removedEvents"].as_u64()), (Some(0), Some(1)), "{r}");
    assert_eq!(gone(&before, &after), (8000, 120), "the flash call");
}

#[test]
fn a_codebuff_chat_rewritten_without_a_call_loses_it_and_keeps_the_rest_once() {
    let place = |env: &Env| {
        let dir = env.home.join(".config/manicode/projects/webapp/chats/2026-01-02T03-04-05.000Z");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("run-state.json"), "{}").unwrap();
        let f = dir.join("chat-messages.json");
        std::fs::write(
            &f,
            include_str!("../../crates/agentwatch-core/src/sources/codebuff/fixtures/chat-messages.json"),
        )
        .unwrap();
        f
    };
    // The last turn undone: its sub-agent's call (a message without an id,
    // keyed by its place) is gone.
    let (r, before, after) = rewritten_as_read_fresh("codebuff", &place, &|v| {
        let m = v.as_array_mut().unwrap();
        assert_eq!(m[5]["variant"], "agent");
        m.truncate(5);
    });
    assert_eq!((r["newEvents"].as_u64(), r["removedEvents"].as_u64()), (Some(0), Some(1)), "{r}");
    assert_eq!(gone(&before, &after), (2000, 700), "gpt-5's call: its cached 4 000 are not input");
}

/// Cline's fixtures: Cline 4's session folder and Cline 3's extension storage.
fn cline_fixtures(env: &Env) -> (std::path::PathBuf, std::path::PathBuf) {
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../agentwatch-core/src/sources/cline/fixtures");
    let session = env.home.join(".cline/data/sessions/1784094124598_rruoq");
    std::fs::create_dir_all(&session).unwrap();
    for f in ["1784094124598_rruoq.json", "1784094124598_rruoq.messages.json", "researcher.messages.json"] {
        std::fs::copy(fixtures.join("v4/1784094124598_rruoq").join(f), session.join(f)).unwrap();
    }
    let ext = env.home.join(".config/Code/User/globalStorage/saoudrizwan.claude-dev");
    let task = ext.join("tasks/1765432100000");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::create_dir_all(ext.join("state")).unwrap();
    for f in ["ui_messages.json", "task_metadata.json"] {
        std::fs::copy(fixtures.join("legacy/tasks/1765432100000").join(f), task.join(f)).unwrap();
    }
    std::fs::copy(fixtures.join("legacy/state/taskHistory.json"), ext.join("state/taskHistory.json")).unwrap();
    (session, task)
}

#[test]
fn crushs_project_databases_give_each_session_its_own_cost_with_tokens_unknown() {
    let env = Env::new();
    let proj = env.root.join("proj");
    let data = proj.join(".crush");
    std::fs::create_dir_all(&data).unwrap();
    let global = env.home.join(".local/share/crush");
    std::fs::create_dir_all(&global).unwrap();
    let projects = json!({"projects": [
        {"path": proj, "data_dir": data, "last_accessed": "2026-05-02T10:00:00Z"},
        {"path": env.root.join("gone"), "data_dir": env.root.join("gone/.crush"), "last_accessed": "2026-04-01T00:00:00Z"}
    ]});
    std::fs::write(global.join("projects.json"), serde_json::to_vec_pretty(&projects).unwrap()).unwrap();
    let db = data.join("crush.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/crush/fixtures/crush.sql")).unwrap();
    drop(c);
    let before = std::fs::read(&db).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(3), Some(1)), "{r}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "crush.db is never written");

    // By hand from the fixture: the top-level sessions' costs on the days they
    // were created (UTC); the sub-agent's $0.0612 is inside its parent's
    // $0.4213; the orphaned sub-agent's $0.01 counts nowhere; no tokens.
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "crush"]);
    let counts = |m: &Value| {
        ["inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens"].map(|k| m[k].as_u64().unwrap_or(0))
    };
    for (day, model, cost) in [
        ("2026-05-01", "claude-sonnet-4-5-20250929", 0.4213),
        ("2026-05-01", "gpt-5", 0.0385),
        ("2026-05-02", "unknown", 0.25),
    ] {
        let m = breakdown(&d, day, model);
        assert!(close(num(&m["cost"]), cost), "{m} vs {cost}");
        assert_eq!(counts(m), [0; 4], "{m}");
    }
    assert!(close(num(&d["totals"]["totalCost"]), 0.4213 + 0.0385 + 0.25), "{d}");
    assert_eq!(d["totals"]["totalTokens"].as_u64().unwrap_or(0), 0, "{d}");

    // The session goes on: its cost grows and replaces the earlier figure.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute(
        "UPDATE sessions SET cost = 0.5, prompt_tokens = 900, completion_tokens = 12, updated_at = 1777690000 \
         WHERE id = '5b0c7e2a-4f1d-4c3e-9a51-2f7d0c1e0001'",
        [],
    )
    .unwrap();
    drop(c);
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["replacedEvents"].as_u64()), (Some(0), Some(1)), "{r}");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "crush"]);
    assert!(close(num(&breakdown(&d, "2026-05-01", "claude-sonnet-4-5-20250929")["cost"]), 0.5), "{d}");
    assert!(close(num(&d["totals"]["totalCost"]), 0.5 + 0.0385 + 0.25), "{d}");
    assert_eq!(ingest(&env)["newEvents"], 0);

    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "crush"]);
    let sessions = s["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 6, "{s}");
    let top = sessions.iter().find(|x| x["sessionId"] == "5b0c7e2a-4f1d-4c3e-9a51-2f7d0c1e0001").unwrap();
    assert_eq!(top["projectPath"], json!(proj.to_string_lossy()), "{top}");
    assert!(close(num(&top["costUsd"]), 0.5), "{top}");
}

#[test]
fn cursor_agents_chats_are_sessions_with_their_work_dir_and_no_usage() {
    let env = Env::new();
    let chat = "0b6d9f5e-3c2a-4e71-9d8f-1a2b3c4d5e6f";
    // The bucket is the MD5 of the work dir the chat's first prompt names.
    let dir = env.home.join(".cursor/chats/4fafce67053eea06f159a78f7ef15755").join(chat);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("store.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/cursor/fixtures/store.sql")).unwrap();
    drop(c);
    // A chat whose meta cannot be read: counted, the other still read.
    let bad = env.home.join(".cursor/chats/4fafce67053eea06f159a78f7ef15755/c-bad");
    std::fs::create_dir_all(&bad).unwrap();
    let c = rusqlite::Connection::open(bad.join("store.db")).unwrap();
    c.execute_batch("CREATE TABLE blobs (id TEXT PRIMARY KEY, data BLOB); CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('0', 'not hex');").unwrap();
    drop(c);
    let before = std::fs::read(&db).unwrap();
    let r = ingest(&env);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(0), Some(1)), "{r}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "store.db is never written");
    let s = env.json(&["sessions", "--no-ingest", "--agent-type", "cursor-agent"]);
    let sessions = s["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{s}");
    assert_eq!(sessions[0]["sessionId"], chat);
    assert_eq!(sessions[0]["projectPath"], "/home/u/proj");
    // Shown as not recorded, never as $0.
    assert_eq!(
        (&sessions[0]["usageKind"], &sessions[0]["usageNote"], &sessions[0]["costUsd"]),
        (&json!("not-recorded"), &json!("Cursor Agent: usage not recorded by Cursor"), &Value::Null),
        "{s}"
    );
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "cursor-agent"]);
    assert_eq!(d["daily"].as_array().map(Vec::len), Some(0), "no usage is recorded locally: {d}");
    assert_eq!(ingest(&env)["newEvents"], 0);
}

#[test]
fn aiders_chat_history_gives_each_rounded_report_once_as_the_session_it_was_written_in() {
    let env = Env::new();
    let proj = env.root.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    let f = proj.join(".aider.chat.history.md");
    let run = |args: &[&str]| -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let o = env.command(&a).env("AIDER_CHAT_HISTORY_FILE", &f).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    // Written up to a report with both cache parts, whose cost line Aider
    // writes after it: read in two goes, each report is counted once.
    let full = include_str!("../../crates/agentwatch-core/src/sources/aider/fixtures/aider.chat.history.md");
    let cut = full.find("Cost: $0.01 message").unwrap();
    std::fs::write(&f, &full[..cut]).unwrap();
    let r = run(&["ingest"]);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(2), Some(1)), "{r}");
    append(&f, &full[cut..]);
    let r = run(&["ingest"]);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(7), Some(2)), "{r}");
    assert_eq!(run(&["ingest"])["newEvents"], 0);

    // By hand from the fixture (TZ=UTC): input is `sent` less the cache
    // writes; every call on its session's day; the message costs as recorded.
    let d = run(&["costs", "daily", "--no-ingest", "--agent", "aider"]);
    let counts = |m: &Value| {
        ["inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens"].map(|k| m[k].as_u64().unwrap())
    };
    let sonnet = breakdown(&d, "2026-05-01", "anthropic/claude-sonnet-4-20250514");
    assert_eq!(counts(sonnet), [4200 + 3000 + 1800, 1100 + 220 + 310, 13_000 + 1200, 14_000], "{sonnet}");
    assert!(close(num(&sonnet["cost"]), 0.03 + 0.05 + 0.01), "{sonnet}");
    let gpt = breakdown(&d, "2026-05-01", "gpt-4o");
    assert_eq!(counts(gpt), [987, 45, 0, 0]);
    assert!(close(num(&gpt["cost"]), 0.0029), "{gpt}");
    let deepseek = breakdown(&d, "2026-05-02", "deepseek/deepseek-chat");
    assert_eq!(counts(deepseek), [23_000 + 1234, 2100 + 56, 0, 0], "{deepseek}");
    // The unpriced report at DeepSeek's list price ($0.28 in, $0.42 out per
    // million), the other at its recorded $0.0004.
    assert!(close(num(&deepseek["cost"]), (23_000.0 * 0.28 + 2100.0 * 0.42) / 1e6 + 0.0004), "{deepseek}");
    assert_eq!(deepseek["priceSource"], "snapshot 2026-09-20 + transcript");
    // Architect mode: the architect's reports under its model, the editor's under its own.
    let o3 = breakdown(&d, "2026-05-03", "o3");
    assert_eq!(counts(o3), [8100 + 9000, 2400 + 1000, 0, 0]);
    assert!(close(num(&o3["cost"]), 0.04 + 0.03), "{o3}");
    let editor = breakdown(&d, "2026-05-03", "gpt-4.1");
    assert_eq!(counts(editor), [5600, 900, 0, 0]);
    assert!(close(num(&editor["cost"]), 0.02), "{editor}");

    let s = run(&["sessions", "--no-ingest", "--agent-type", "aider"]);
    let list = s["sessions"].as_array().unwrap();
    let mut ids: Vec<&str> = list.iter().map(|s| s["sessionId"].as_str().unwrap()).collect();
    ids.sort();
    let path = f.to_string_lossy();
    assert_eq!(
        ids,
        ["2026-05-01T09:15:02", "2026-05-02T23:40:00", "2026-05-03T08:00:00"].map(|t| format!("{path}@{t}"))
    );
    assert!(list.iter().all(|s| s["projectPath"] == json!(proj) && s["agentVersion"] == "0.86.1"), "{s}");
    let first = list.iter().find(|s| s["startedAt"] == "2026-05-01T09:15:02.000Z").unwrap();
    assert_eq!(first["models"], json!(["anthropic/claude-sonnet-4-20250514", "gpt-4o"]));
    assert_eq!(first["tokens"]["total"], 9987 + 1675 + 14_200 + 14_000);
    assert!(close(num(&first["costUsd"]), 0.09 + 0.0029), "{first}");
    assert_eq!(first["priceSource"], "transcript");
    assert_eq!(
        (&first["usageKind"], &first["usageNote"]),
        (&json!("approximate"), &json!("Aider: tokens and cost per call, as rounded by Aider"))
    );
}

/// With Aider's analytics log named (`AIDER_ANALYTICS_LOG`), the log counts
/// the calls of the runs it covers, exactly and at their own times; the chat
/// history only those of the sessions begun before it (see the Aider
/// README: a history session from ten minutes before the log's first event
/// on is the log's).
#[test]
fn aiders_analytics_log_counts_exactly_the_calls_of_the_history_sessions_it_covers() {
    let env = Env::new();
    let proj = env.root.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    let hist = proj.join(".aider.chat.history.md");
    let log = env.root.join("aider-analytics.jsonl");
    std::fs::write(
        &hist,
        include_str!("../../crates/agentwatch-core/src/sources/aider/fixtures/aider.chat.history.md"),
    )
    .unwrap();
    std::fs::write(&log, include_str!("../../crates/agentwatch-core/src/sources/aider/fixtures/aider.analytics.jsonl"))
        .unwrap();
    let run = |args: &[&str]| -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let o =
            env.command(&a).env("AIDER_CHAT_HISTORY_FILE", &hist).env("AIDER_ANALYTICS_LOG", &log).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    // The history's first session (4 reports) and the log's 7 calls; three
    // bad lines in the history, two in the log.
    let r = run(&["ingest"]);
    assert_eq!((r["newEvents"].as_u64(), r["malformedLines"].as_u64()), (Some(11), Some(5)), "{r}");
    assert_eq!(run(&["ingest"])["newEvents"], 0);

    let d = run(&["costs", "daily", "--no-ingest", "--agent", "aider"]);
    let counts = |m: &Value| {
        ["inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens"].map(|k| m[k].as_u64().unwrap())
    };
    // Before the log: the history's rounded figures, as without it.
    let sonnet = breakdown(&d, "2026-05-01", "anthropic/claude-sonnet-4-20250514");
    assert_eq!(counts(sonnet), [4200 + 3000 + 1800, 1100 + 220 + 310, 13_000 + 1200, 14_000], "{sonnet}");
    assert!(close(num(&breakdown(&d, "2026-05-01", "gpt-4o")["cost"]), 0.0029));
    // The log's: exact counts, each call on its own day (the second DeepSeek
    // call after midnight), the history's rounded ones of the same runs gone.
    let deepseek = breakdown(&d, "2026-05-02", "deepseek/deepseek-chat");
    assert_eq!(counts(deepseek), [23_041, 2087, 0, 0], "{deepseek}");
    // Aider had no price (cost 0): at DeepSeek's list price, $0.28 in, $0.42 out per million.
    assert!(close(num(&deepseek["cost"]), (23_041.0 * 0.28 + 2087.0 * 0.42) / 1e6), "{deepseek}");
    let deepseek = breakdown(&d, "2026-05-03", "deepseek/deepseek-chat");
    assert_eq!(counts(deepseek), [1234, 56, 0, 0], "{deepseek}");
    assert!(close(num(&deepseek["cost"]), 0.00041), "{deepseek}");
    let o3 = breakdown(&d, "2026-05-03", "o3");
    assert_eq!(counts(o3), [8112 + 9020, 2398 + 1004, 0, 0]);
    assert!(close(num(&o3["cost"]), 0.0412 + 0.0261), "{o3}");
    let editor = breakdown(&d, "2026-05-03", "gpt-4.1");
    assert_eq!(counts(editor), [5581, 903, 0, 0]);
    assert!(close(num(&editor["cost"]), 0.0184), "{editor}");
    assert_eq!(counts(breakdown(&d, "2026-05-03", "openrouter/REDACTED")), [1500, 200, 0, 0]);
    assert_eq!(counts(breakdown(&d, "2026-05-03", "unknown")), [700, 20, 0, 0]);

    let s = run(&["sessions", "--no-ingest", "--agent-type", "aider"]);
    let list = s["sessions"].as_array().unwrap();
    let get = |id: String| list.iter().find(|s| s["sessionId"] == id.as_str()).unwrap_or_else(|| panic!("{id}: {s}"));
    let (h, l) = (hist.display(), log.display());
    assert_eq!(list.len(), 6, "the history's three sessions and the log's three runs: {s}");
    // Covered: its session (project, version) stays, its calls are the log's.
    let covered = get(format!("{h}@2026-05-03T08:00:00"));
    assert_eq!((&covered["tokens"]["total"], &covered["projectPath"]), (&json!(0), &json!(proj)), "{covered}");
    let run3 = get(format!("{l}@2026-05-03T08:00:01Z"));
    assert_eq!(run3["models"], json!(["o3", "gpt-4.1"]));
    assert_eq!(run3["tokens"]["total"], 8112 + 9020 + 5581 + 2398 + 1004 + 903);
    assert!(close(num(&run3["costUsd"]), 0.0412 + 0.0184 + 0.0261), "{run3}");
    assert_eq!(run3["priceSource"], "transcript");
    assert_eq!((&run3["usageKind"], &run3["usageNote"]), (&json!("tokens"), &Value::Null), "exact: {run3}");
    let first = get(format!("{h}@2026-05-01T09:15:02"));
    assert_eq!(first["usageKind"], "approximate");
}

/// A history file read once is read again without its variable or its
/// process: the one-shot ingest follows what the store knows.
#[test]
fn an_aider_history_read_before_is_found_again_from_the_store() {
    let env = Env::new();
    let repo = env.root.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let hist = repo.join(".aider.chat.history.md");
    let report = |k: u32| format!("> Model: gpt-4o with diff edit format  \n> Tokens: {k}.0k sent, 10 received.  \n");
    std::fs::write(&hist, format!("\n# aider chat started at 2026-05-01 09:00:00\n\n{}", report(1))).unwrap();
    let ingest = |with_var: bool| -> Value {
        let mut c = env.command(&["ingest", "--format", "json"]);
        if with_var {
            c.env("AIDER_CHAT_HISTORY_FILE", &hist);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    assert_eq!(ingest(false)["newEvents"], 0, "nothing says where it is yet");
    assert_eq!(ingest(true)["newEvents"], 1);
    append(&hist, &format!("\n# aider chat started at 2026-05-02 09:00:00\n\n{}", report(2)));
    assert_eq!(ingest(false)["newEvents"], 1, "found from the store's cursor");
    let d = env.json(&["costs", "daily", "--no-ingest", "--agent", "aider"]);
    assert_eq!(d["totals"]["inputTokens"], 3000, "{d}");
}
