//! The OTLP receiver: the agents' telemetry as live usage, reconciled with
//! the transcript (the real agents' own exports are in tests/agents).

use serde_json::{Value, json};

use crate::support::*;

const SESSION: &str = "7f3c1a52-9e0b-4a53-8d1e-0c6a2b9d1e11";

/// One Claude Code `api_request` event, as its exporter writes OTLP/JSON.
fn api_request(at_ms: i64, req: &str, input: u64, output: u64, cost: f64) -> Value {
    json!({
        "timeUnixNano": format!("{}", at_ms as i128 * 1_000_000),
        "body": {"stringValue": "claude_code.api_request"},
        "attributes": [
            {"key": "event.name", "value": {"stringValue": "api_request"}},
            {"key": "session.id", "value": {"stringValue": SESSION}},
            {"key": "model", "value": {"stringValue": SONNET}},
            {"key": "input_tokens", "value": {"intValue": input}},
            {"key": "output_tokens", "value": {"intValue": output}},
            {"key": "cache_read_tokens", "value": {"intValue": 0}},
            {"key": "cache_creation_tokens", "value": {"intValue": 0}},
            {"key": "cost_usd", "value": {"doubleValue": cost}},
            {"key": "duration_ms", "value": {"intValue": 1500}},
            {"key": "request_id", "value": {"stringValue": req}}
        ]
    })
}

fn tool_result(at_ms: i64, tool: &str, ok: bool) -> Value {
    json!({
        "timeUnixNano": format!("{}", at_ms as i128 * 1_000_000),
        "body": {"stringValue": "claude_code.tool_result"},
        "attributes": [
            {"key": "session.id", "value": {"stringValue": SESSION}},
            {"key": "tool_name", "value": {"stringValue": tool}},
            {"key": "success", "value": {"stringValue": ok.to_string()}},
            {"key": "tool_input", "value": {"stringValue": "secret prompt text"}}
        ]
    })
}

fn tool_decision(at_ms: i64, tool: &str, decision: &str) -> Value {
    json!({
        "timeUnixNano": format!("{}", at_ms as i128 * 1_000_000),
        "body": {"stringValue": "claude_code.tool_decision"},
        "attributes": [
            {"key": "session.id", "value": {"stringValue": SESSION}},
            {"key": "tool_name", "value": {"stringValue": tool}},
            {"key": "decision", "value": {"stringValue": decision}}
        ]
    })
}

fn export(records: &[Value]) -> String {
    json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]},
        "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events"}, "logRecords": records}]
    }]})
    .to_string()
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn show(env: &Env) -> Value {
    env.json(&["sessions", "show", SESSION, "--no-ingest"])
}

#[test]
fn telemetry_is_live_usage_until_the_transcript_has_the_call_and_never_counts_twice() {
    let env = Env::new();
    let now = chrono::Utc::now().timestamp_millis();
    // The transcript has the first call; the second is still streaming.
    let file = env.claude_file("/home/u/web-app", &format!("{SESSION}.jsonl"));
    write_lines(&file, &[line(&claude(&iso(now - 60_000), SESSION, "msg_1", "req_1", SONNET, U(100, 50, 0, 0)))]);
    let port = free_port();
    let _d = env.daemon(1, &["--port", &port.to_string()]);
    wait_for(20, "the transcript's session", || {
        env.run(&["sessions", "show", SESSION, "--no-ingest"]).status.success().then_some(())
    });
    let api: Value = serde_json::from_str(&std::fs::read_to_string(env.data.join("api.json")).unwrap()).unwrap();
    let hook_token = api["hook_token"].as_str().unwrap().to_string();
    let auth = format!("Bearer {hook_token}");
    let json_ct = ("Content-Type", "application/json");

    // Only with a token, and only OTLP.
    let body = export(&[
        api_request(now - 58_000, "req_1", 100, 50, 0.25),
        api_request(now - 1_000, "req_2", 2000, 300, 0.5),
        tool_decision(now - 1_500, "Bash", "reject"),
        tool_result(now - 1_000, "Bash", false),
    ]);
    assert_eq!(http(port, "POST", "/v1/logs", &[json_ct], Some(body.as_bytes())).status, 401);
    let r = http(port, "POST", "/v1/logs", &[("Authorization", &auth), ("Content-Type", "text/plain")], Some(b"x"));
    assert_eq!(r.status, 415, "{}", r.body);
    let r = http(port, "POST", "/v1/logs", &[("Authorization", &auth), json_ct], Some(b"{\"resourceLogs\": 7}"));
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().starts_with("malformed OTLP Json body"), "{}", r.body);
    // The hook token posts telemetry and reads nothing.
    assert_eq!(http(port, "GET", "/api/sessions", &[("Authorization", &auth)], None).status, 401);

    let r = http(port, "POST", "/v1/logs", &[("Authorization", &auth), json_ct], Some(body.as_bytes()));
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    // An exporter's retry of the same batch changes nothing.
    assert_eq!(http(port, "POST", "/v1/logs", &[("Authorization", &auth), json_ct], Some(body.as_bytes())).status, 200);
    // Metrics and traces are acknowledged (an agent may send all three).
    let empty = http(port, "POST", "/v1/metrics", &[("Authorization", &auth), json_ct], Some(b"{}"));
    assert_eq!(empty.status, 200);

    let d = show(&env);
    // req_1 is in the transcript: only req_2 is live, at the agent's price.
    assert_eq!(d["liveUsage"]["calls"], 1, "{d}");
    assert_eq!(d["liveUsage"]["costUsd"], 0.5);
    assert_eq!(d["liveUsage"]["tokens"]["input"], 2000);
    assert_eq!(d["session"]["tokens"]["input"], 100, "the ledger is the transcript's");
    let tools = d["toolCalls"].as_array().unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(
        (&tools[0]["tool"], &tools[0]["source"], &tools[0]["isError"]),
        (&json!("Bash"), &json!("otel"), &json!(true))
    );
    let text = env.ok(&["sessions", "show", SESSION, "--no-ingest", "--format", "table"]);
    assert!(
        text.contains(
            "Live       +1 call, 2,300 tokens, $0.50 (from its telemetry; not yet in the transcript or the totals)"
        ),
        "{text}"
    );
    // The decision is on the live event stream.
    let c = rusqlite::Connection::open(env.data.join("agentwatch.db")).unwrap();
    let data: String = c.query_row("SELECT data FROM events WHERE kind = 'tool.decision'", [], |r| r.get(0)).unwrap();
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!((&data["tool"], &data["decision"], &data["source"]), (&json!("Bash"), &json!("reject"), &json!("otel")));
    // Prompt text and tool input are never stored.
    let db = std::fs::read(env.data.join("agentwatch.db")).unwrap();
    assert!(!db.windows(18).any(|w| w == b"secret prompt text"));

    // The transcript catches up: the call is counted once, from it.
    append(
        &file,
        &format!("{}\n", line(&claude(&iso(now - 1_200), SESSION, "msg_2", "req_2", SONNET, U(2000, 300, 0, 0)))),
    );
    let d = wait_for(20, "the transcript's second call", || {
        let d = show(&env);
        (d["session"]["tokens"]["input"] == 2100).then_some(d)
    });
    assert_eq!(d["liveUsage"], Value::Null, "{d}");
    let status = env.json(&["status"]);
    // Eight records arrived (one batch twice); four were applied.
    let t = &status["telemetry"];
    assert_eq!((&t["records"], &t["events"], &t["calls"]), (&json!(8), &json!(4), &json!(2)), "{status}");
}

#[test]
fn telemetry_of_an_unknown_session_creates_none() {
    let env = Env::new();
    let port = free_port();
    let _d = env.daemon(1, &["--port", &port.to_string()]);
    let token = env.api_token();
    let body = export(&[api_request(chrono::Utc::now().timestamp_millis(), "req_9", 10, 10, 0.1)]);
    let r = http(
        port,
        "POST",
        "/v1/logs",
        &[("Authorization", &format!("Bearer {token}")), ("Content-Type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 200);
    let all = env.json(&["sessions", "--no-ingest"]);
    assert_eq!(all["sessions"], json!([]), "{all}");
}
