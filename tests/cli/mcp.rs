//! The MCP server at /mcp, driven by a real MCP client (the PyPI `mcp` SDK,
//! tests/mcp/client.py) against a real `agentwatch daemon`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

/// A daemon with its API on a free port, and the API's token.
struct Api {
    port: u16,
    token: String,
    _daemon: Daemon,
}

fn api(env: &Env) -> Api {
    let port = free_port();
    let daemon = env.daemon(1, &["--port", &port.to_string()]);
    let info: Value = serde_json::from_str(&std::fs::read_to_string(env.data.join("api.json")).unwrap()).unwrap();
    Api { port, token: info["token"].as_str().unwrap().to_string(), _daemon: daemon }
}

impl Api {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    /// A REST GET with the token.
    fn get(&self, path: &str) -> Value {
        let auth = format!("Bearer {}", self.token);
        let r = http(self.port, "GET", path, &[("Authorization", &auth)], None);
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {}", r.body))
    }
}

/// The MCP client, run to the end: its summary.
fn client(api: &Api, args: &[&str]) -> Value {
    let out = Command::new(python())
        .arg(repo_root().join("tests/mcp/client.py"))
        .args(["--url", &api.url(), "--token", &api.token])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| {
        panic!("client.py printed no JSON ({e}):\n{stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr))
    })
}

/// The MCP client, paused while connected after its calls.
struct Paused {
    child: Child,
    stdin: Option<ChildStdin>,
    summary: Value,
}

fn client_paused(api: &Api, args: &[&str]) -> Paused {
    let mut child = Command::new(python())
        .arg(repo_root().join("tests/mcp/client.py"))
        .args(["--url", &api.url(), "--token", &api.token, "--pause"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(90)).unwrap_or_default();
    let summary: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
        let _ = child.kill();
        let mut err = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut err);
        panic!("client.py printed no summary ({e}): {line}\nstderr: {err}")
    });
    assert!(summary.get("error").is_none(), "client.py failed: {summary}");
    let stdin = child.stdin.take();
    Paused { child, stdin, summary }
}

impl Paused {
    /// Lets the client close its session (HTTP DELETE) and exit.
    fn close(mut self) {
        let mut stdin = self.stdin.take().unwrap();
        stdin.write_all(b"\n").unwrap();
        drop(stdin);
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                let _ = self.child.stderr.take().unwrap().read_to_string(&mut err);
                assert!(st.success(), "client.py exited with {st}: {err}");
                assert!(!err.contains("termination failed"), "the DELETE was not accepted: {err}");
                return;
            }
            assert!(Instant::now() < until, "client.py did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A call's result from the summary.
fn call<'a>(s: &'a Value, label: &str) -> &'a Value {
    let c = &s["calls"][label];
    assert!(c.is_object(), "no call {label} in {s}");
    c
}

fn ok<'a>(s: &'a Value, label: &str) -> &'a Value {
    let c = call(s, label);
    assert_eq!(c["isError"], false, "{label}: {c}");
    assert_eq!(c["structured"]["success"], true, "{label}: {c}");
    // The text content is the same JSON, for clients without structured content.
    let text: Value = serde_json::from_str(c["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, c["structured"], "{label}");
    &c["structured"]
}

fn tool_error(s: &Value, label: &str) -> String {
    let c = call(s, label);
    assert_eq!(c["isError"], true, "{label} should be a tool error: {c}");
    let text = c["text"].as_str().unwrap().to_string();
    assert!(!text.is_empty() && !text.contains('\n'), "{label}: one clear line, not {text:?}");
    text
}

fn ids(list: &Value) -> Vec<String> {
    list["sessions"].as_array().unwrap().iter().map(|s| s["sessionId"].as_str().unwrap().to_string()).collect()
}

fn by_id<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sessionId"] == id)
        .unwrap_or_else(|| panic!("no session {id} in {list}"))
}

fn mcp_sessions(env: &Env) -> Value {
    env.json(&["sessions", "--source", "mcp", "--limit", "100", "--no-ingest"])
}

#[test]
fn clients_of_the_npm_sdk_and_of_mcp_2_register_themselves_too() {
    let env = Env::new();
    let api = api(&env);
    let run = |program: &std::path::Path, args: &[&str]| -> Value {
        let o = Command::new(program).args(args).stdin(Stdio::null()).output().unwrap();
        assert!(o.status.success(), "client failed: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let all_tools = json!([
        "create_session",
        "get_cost_summary",
        "get_fleet_health",
        "get_limits",
        "list_sessions",
        "update_session"
    ]);

    // The official TypeScript SDK (npm), naming itself "cursor".
    let node =
        run(std::path::Path::new("node"), &[node_mcp_client().to_str().unwrap(), "http", &api.url(), &api.token]);
    assert_eq!(node["protocol"], "2025-11-25", "{node}");
    assert_eq!(node["tools"], all_tools);
    assert_eq!(node["created"]["success"], true, "{node}");
    let id = node["created"]["sessionId"].as_str().unwrap();
    let mine = node["listed"]["sessions"].as_array().unwrap().iter().find(|s| s["sessionId"] == id).unwrap();
    assert_eq!((&mine["agentLabel"], &mine["workspaceId"]), (&json!("cursor"), &json!("/home/u/npm-app")));

    // PyPI `mcp` 2.x in its default mode: `server/discover`, then the
    // stateless revision, naming itself ("codex") in every request's `_meta`.
    let client2 = repo_root().join("tests/mcp/client2_http.py");
    let py2 = run(&python_mcp2(), &[client2.to_str().unwrap(), &api.url(), &api.token, id]);
    assert_eq!(py2["protocol"], "2026-07-28", "{py2}");
    assert_eq!(py2["tools"], all_tools);
    assert_eq!(py2["isError"], false);
    let made = py2["created"]["sessionId"].as_str().unwrap();
    let theirs = py2["listed"]["sessions"].as_array().unwrap().iter().find(|s| s["sessionId"] == made).unwrap();
    assert_eq!((&theirs["agentLabel"], &theirs["name"]), (&json!("codex"), &json!("mcp2 work")), "{theirs}");
    // Known by its `_meta`, it cannot complete Cursor's session.
    assert_eq!(py2["other"]["isError"], true, "{py2}");
    assert!(
        py2["other"]["text"].as_str().unwrap().contains("belongs to Cursor Agent, not to this client (codex)"),
        "{py2}"
    );
    let cursor = mcp_sessions(&env)["sessions"].as_array().unwrap().iter().find(|s| s["sessionId"] == id).cloned();
    assert_eq!(cursor.unwrap()["state"], "working");
}

#[test]
fn a_real_client_registers_itself_and_reports_sessions_through_every_tool() {
    let env = Env::new();
    let api = api(&env);
    // A plan window for get_limits to report, as Claude Code's status line gives it.
    let reset = chrono::Utc::now().timestamp() + 3600;
    let status = json!({"session_id": "x", "model": {"display_name": "Opus"},
                        "rate_limits": {"five_hour": {"used_percentage": 55.0, "resets_at": reset}}});
    assert!(env.run_with_stdin(&["statusline"], status.to_string().as_bytes()).status.success());
    let c = client_paused(&api, &["--client-name", "cursor-vscode", "--client-title", "Cursor Test"]);
    let s = &c.summary;

    // The handshake and the tool list.
    assert_eq!(s["serverInfo"]["name"], "agentwatch", "{s}");
    assert!(s["instructions"].as_str().unwrap().contains("create_session"));
    let mut tools: Vec<&str> = s["tools"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    tools.sort();
    assert_eq!(
        tools,
        ["create_session", "get_cost_summary", "get_fleet_health", "get_limits", "list_sessions", "update_session"]
    );
    let update = &s["schemas"]["update_session"];
    assert_eq!(update["required"], json!(["sessionId"]));
    for arg in ["status", "progress", "state", "lastHeartbeat", "contextBytes", "handoffRequired"] {
        assert!(update["properties"][arg].is_object(), "update_session has no {arg}: {update}");
    }
    for arg in ["name", "programId", "state", "progress", "sessionId", "projectName"] {
        assert!(s["schemas"]["create_session"]["properties"][arg].is_object(), "create_session has no {arg}");
    }

    // What the tools answered.
    let alpha = ok(s, "create_alpha")["sessionId"].as_str().unwrap().to_string();
    assert_eq!(ok(s, "create_alpha")["message"], "Session created: \"alpha build\"");
    assert_eq!(ok(s, "update_alpha")["sessionId"], alpha);
    assert_eq!(ok(s, "create_beta")["sessionId"], "reviewer.beta-1");
    let gamma = ok(s, "create_gamma")["sessionId"].as_str().unwrap().to_string();
    ok(s, "complete_gamma");
    let upsert = ok(s, "upsert_alpha");
    assert_eq!(upsert["sessionId"], alpha, "create_session with an existing id updates it");
    assert_eq!(
        upsert["message"],
        "Session updated: \"alpha build (renamed)\"; ignored unknown argument(s): unknownArg"
    );
    let pinned = ok(s, "create_pinned")["sessionId"].as_str().unwrap().to_string();
    let me = s["mcpSessionId"].as_str().unwrap().to_string();

    // list_sessions: CacheBash's fields and vocabulary, and its filters.
    let default = ok(s, "list_default");
    let mut d = ids(default);
    d.sort();
    let mut want = vec![alpha.clone(), "reviewer.beta-1".to_string(), pinned.clone(), me.clone()];
    want.sort();
    assert_eq!(d, want, "without includeArchived, completed sessions are left out");
    assert_eq!(default["count"], 4);
    let a = by_id(default, &alpha);
    assert_eq!(
        (&a["state"], &a["status"], &a["progress"], &a["programId"], &a["name"]),
        (&json!("working"), &json!("compiling"), &json!(45), &json!("builder"), &json!("alpha build (renamed)"))
    );
    assert_eq!(
        (&a["agentwatchState"], &a["projectName"], &a["source"]),
        (&json!("working"), &json!("/home/u/app"), &json!("mcp"))
    );
    assert!(a["lastHeartbeat"].as_str().unwrap().starts_with("20"), "{a}");
    let beta = by_id(default, "reviewer.beta-1");
    assert_eq!(
        (&beta["state"], &beta["agentwatchState"], &beta["programId"]),
        (&json!("blocked"), &json!("waiting"), &json!("reviewer"))
    );
    assert_eq!(by_id(default, &pinned)["state"], "pinned");
    assert_eq!(ids(ok(s, "list_blocked")), ["reviewer.beta-1"]);
    let complete = ok(s, "list_complete");
    assert_eq!(ids(complete), [gamma.as_str()]);
    assert_eq!(
        (&by_id(complete, &gamma)["agentwatchState"], &by_id(complete, &gamma)["progress"]),
        (&json!("completed"), &json!(100))
    );
    let mut working = ids(ok(s, "list_working"));
    working.sort();
    let mut want = vec![alpha.clone(), me.clone()];
    want.sort();
    assert_eq!(working, want);
    assert_eq!(ids(ok(s, "list_program")), [pinned.as_str()]);
    let mut all = ids(ok(s, "list_program_all"));
    all.sort();
    let mut want = vec![gamma.clone(), pinned.clone()];
    want.sort();
    assert_eq!(all, want, "includeArchived brings completed ones back");
    assert_eq!(ok(s, "list_limit")["count"], 1);

    // Fleet health and costs.
    let fleet = ok(s, "fleet");
    let cursor = fleet["agents"].as_array().unwrap().iter().find(|a| a["key"] == "cursor-agent").expect("cursor-agent");
    assert_eq!(cursor["liveSessions"], 4, "alpha, beta, the pinned one and the client: {fleet}");
    assert!(cursor["heartbeatAgeSeconds"].as_i64().unwrap() <= 60 && cursor["stale"] == false, "{cursor}");
    let programs: Vec<&str> =
        fleet["programs"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap()).collect();
    assert!(programs.contains(&"builder") && programs.contains(&"reviewer"), "{fleet}");
    let costs = ok(s, "costs");
    assert_eq!((&costs["range"], &costs["totalCost"]), (&json!("today"), &json!(0.0)));
    assert_eq!(costs["from"], costs["to"]);
    let week = ok(s, "costs_7d");
    assert_eq!((&week["range"], week["daily"].as_array().unwrap().len()), (&json!("7d"), 7));
    let limits = ok(s, "limits");
    assert_eq!((&limits["limits"][0]["window"], &limits["limits"][0]["usedPercent"]), (&json!("5h"), &json!(55.0)));
    assert!(limits["plans"][0].as_str().is_some_and(|p| p.starts_with("Claude 5h 55% · resets ")), "{limits}");

    // Bad arguments: tool errors with clear messages; the server keeps working.
    assert_eq!(tool_error(s, "err_state"), "state must be one of working, blocked, complete, pinned, not \"sleeping\"");
    assert_eq!(tool_error(s, "err_missing_name"), "name is required");
    assert_eq!(tool_error(s, "err_progress"), "progress must be a number from 0 to 100, not 150");
    assert_eq!(tool_error(s, "err_progress_type"), "progress must be a number from 0 to 100, not the string \"50\"");
    assert_eq!(tool_error(s, "err_heartbeat_type"), "lastHeartbeat must be true or false, not the string \"yes\"");
    assert_eq!(
        tool_error(s, "err_unknown_session"),
        "no session with id 'no-such-session' (create it with create_session first)"
    );
    assert_eq!(tool_error(s, "err_limit"), "limit must be a whole number from 1 to 50, not 0");
    assert_eq!(tool_error(s, "err_limit_high"), "limit must be a whole number from 1 to 50, not 51");
    assert!(
        tool_error(s, "err_list_state").starts_with("state must be one of working, blocked, pinned, complete, all")
    );
    assert!(tool_error(s, "err_range").starts_with("unknown range 'fortnight'"));
    assert!(tool_error(s, "err_unknown_tool").starts_with("unknown tool 'delete_everything'"));
    assert_eq!(ok(s, "after_errors")["count"], 4);

    // The CLI shows what the tools reported.
    let order = s["order"].as_array().unwrap();
    let errors = order.iter().filter(|c| c["isError"] == true).count();
    assert_eq!(errors, 11);
    let list = mcp_sessions(&env);
    assert_eq!(list["sessions"].as_array().unwrap().len(), 5, "{list}");
    let a = by_id(&list, &alpha);
    assert_eq!(
        (&a["state"], &a["progress"], &a["statusText"], &a["programId"], &a["projectPath"]),
        (&json!("working"), &json!(45), &json!("compiling"), &json!("builder"), &json!("/home/u/app"))
    );
    assert_eq!(
        (&a["contextBytes"], &a["handoffRequired"], &a["source"]),
        (&json!(120000), &json!(false), &json!("mcp"))
    );
    assert_eq!(
        (&a["agent"], &a["agentLabel"], &a["ideType"]),
        (&json!("cursor-agent"), &json!("Cursor Test"), &json!("cursor-vscode"))
    );
    assert!(a["heartbeatAgeSeconds"].as_i64().unwrap() < 60, "{a}");
    let b = by_id(&list, "reviewer.beta-1");
    assert_eq!((&b["state"], &b["statusText"]), (&json!("waiting"), &json!("waiting for approval")));
    let g = by_id(&list, &gamma);
    assert_eq!((&g["state"], &g["progress"], &g["statusText"]), (&json!("completed"), &json!(100), &json!("done")));
    assert!(g["endedAt"].is_string());
    assert_eq!(by_id(&list, &pinned)["state"], "pinned");

    // The client itself: a session named by its MCP session id.
    let me_row = by_id(&list, &me);
    assert_eq!(
        (&me_row["agent"], &me_row["agentLabel"], &me_row["ideType"], &me_row["source"], &me_row["state"]),
        (&json!("cursor-agent"), &json!("Cursor Test"), &json!("cursor-vscode"), &json!("mcp"), &json!("working"))
    );
    assert_eq!(me_row["toolCallCount"], order.len(), "one per tools/call");
    assert_eq!(me_row["errorCount"], errors);
    assert_eq!(me_row["lastToolName"], "list_sessions");

    // The REST API agrees, and keeps the calls.
    let rest = api.get("/api/sessions?source=mcp");
    assert_eq!(rest["sessions"].as_array().unwrap().len(), 5);
    let a = by_id(&rest, &alpha);
    assert_eq!((&a["state"], &a["progress"], &a["statusText"]), (&json!("working"), &json!(45), &json!("compiling")));
    assert_eq!(by_id(&rest, &me)["toolCallCount"], order.len());
    let detail = api.get(&format!("/api/sessions/{me}"));
    let calls = detail["toolCalls"].as_array().unwrap();
    assert_eq!(calls.len(), order.len());
    assert_eq!(
        (&calls[0]["tool"], &calls[0]["source"], &calls[0]["isError"]),
        (&json!("create_session"), &json!("mcp"), &json!(false))
    );
    let unknown = calls.iter().find(|c| c["tool"] == "delete_everything").unwrap();
    assert_eq!(unknown["isError"], true);
    let beta_detail = api.get("/api/sessions/reviewer.beta-1");
    let history: Vec<&str> =
        beta_detail["stateHistory"].as_array().unwrap().iter().map(|t| t["to"].as_str().unwrap()).collect();
    assert_eq!(history.last(), Some(&"waiting"), "{history:?}");

    // Closing the client (HTTP DELETE) closes its session; the others stay.
    c.close();
    let list = mcp_sessions(&env);
    let me_row = by_id(&list, &me);
    assert_eq!(me_row["state"], "completed", "{me_row}");
    assert!(me_row["endedAt"].is_string());
    assert_eq!(by_id(&list, &alpha)["state"], "working");
}

#[test]
fn a_session_whose_heartbeats_stop_goes_stale_and_a_heartbeat_revives_it() {
    let env = Env::new();
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(env.config.join("config.toml"), "[stale_after_secs_per_agent]\nquiet-bot = 2\n").unwrap();
    let api = api(&env);
    let s = client(&api, &["--scenario", "stale", "--client-name", "quiet-bot"]);
    assert!(s.get("error").is_none(), "{s}");
    let id = ok(&s, "create")["sessionId"].as_str().unwrap().to_string();
    let stale = wait_for(20, "the silent session to go stale", || {
        let list = mcp_sessions(&env);
        let row = by_id(&list, &id).clone();
        (row["state"] == "stale").then_some(row)
    });
    assert_eq!(
        (&stale["progress"], &stale["programId"], &stale["agent"]),
        (&json!(5), &json!("quiet"), &json!("quiet-bot"))
    );
    assert!(stale["heartbeatAgeSeconds"].as_i64().unwrap() >= 2, "{stale}");
    let fleet = api.get("/api/fleet-health");
    let quiet = fleet["programs"].as_array().unwrap().iter().find(|p| p["key"] == "quiet").expect("program quiet");
    assert_eq!((&quiet["stale"], &quiet["staleSessions"]), (&json!(true), &json!(1)), "{fleet}");
    let listed = by_id(&api.get("/api/sessions?source=mcp"), &id).clone();
    assert_eq!(listed["state"], "stale");

    // One heartbeat, and it works again at once.
    let s = client(&api, &["--scenario", "beat", "--session-id", &id, "--client-name", "quiet-bot"]);
    assert_eq!(ok(&s, "beat")["message"], "Status updated: \"back\"");
    let row = by_id(&mcp_sessions(&env), &id).clone();
    assert_eq!((&row["state"], &row["statusText"]), (&json!("working"), &json!("back")), "{row}");
    let history: Vec<String> = api.get(&format!("/api/sessions/{id}"))["stateHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(history, ["working", "stale", "working"]);
}

#[test]
fn without_the_token_the_connection_is_refused_and_delete_ends_a_session() {
    let env = Env::new();
    let api = api(&env);

    // A real client without the token: 401.
    let s = client(&api, &["--scenario", "noauth"]);
    assert_eq!(s["httpStatus"], 401, "{s}");
    let r = http(api.port, "POST", "/mcp", &[("Content-Type", "application/json")], Some(&initialize("x")));
    assert_eq!(r.status, 401);
    assert!(r.body.contains("missing bearer token"), "{}", r.body);
    let r = http(api.port, "POST", "/mcp", &[("Authorization", "Bearer nope")], Some(&initialize("x")));
    assert_eq!(r.status, 401);
    assert!(mcp_sessions(&env)["sessions"].as_array().unwrap().is_empty(), "nothing was registered");

    // By hand, with Host: localhost:<port> (rmcp's own Host check accepts it).
    let auth = format!("Bearer {}", api.token);
    let base = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    let r = http(api.port, "POST", "/mcp", &base, Some(&initialize("claude-code")));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"serverInfo\""), "{}", r.body);
    let sid = r.header("mcp-session-id").expect("a session id").to_string();
    let with_sid = |extra: &[(&'static str, &'static str)]| {
        let mut h: Vec<(&str, &str)> = base.to_vec();
        h.push(("Mcp-Session-Id", sid.as_str()));
        h.push(("MCP-Protocol-Version", "2025-06-18"));
        h.extend_from_slice(extra);
        h
    };
    // Registered by the handshake itself, before `notifications/initialized`.
    let row = by_id(&mcp_sessions(&env), &sid).clone();
    assert_eq!(
        (&row["agent"], &row["agentLabel"], &row["ideType"], &row["state"], &row["toolCallCount"]),
        (&json!("claude-code"), &json!("Claude Code (raw)"), &json!("claude-code"), &json!("working"), &json!(0))
    );
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
    let r = http(api.port, "POST", "/mcp", &with_sid(&[]), Some(&note));
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(mcp_sessions(&env)["sessions"].as_array().unwrap().len(), 1, "registered once");

    // A wrong type is a tool error, in band.
    let bad = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "update_session", "arguments": {"sessionId": 42}}})
    .to_string();
    let r = http(api.port, "POST", "/mcp", &with_sid(&[]), Some(&bad));
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("\"isError\":true") && r.body.contains("sessionId must be a string, not the number 42"),
        "{}",
        r.body
    );

    // DELETE ends the MCP session and closes the client's session.
    let r = http(api.port, "DELETE", "/mcp", &with_sid(&[]), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let row = by_id(&mcp_sessions(&env), &sid).clone();
    assert_eq!(
        (&row["state"], &row["toolCallCount"], &row["errorCount"]),
        (&json!("completed"), &json!(1), &json!(1)),
        "{row}"
    );
    let list = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}).to_string();
    let r = http(api.port, "POST", "/mcp", &with_sid(&[]), Some(&list));
    assert_eq!(r.status, 404, "the session is gone: {}", r.body);
}

fn initialize(client: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": client, "title": "Claude Code (raw)", "version": "2.0.0"}}})
    .to_string()
}

/// One HTTP/1.1 request sent as `Host: localhost:<port>`, as MCP clients do.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> HttpReply {
    let host = format!("localhost:{port}");
    let mut all = vec![("Host", host.as_str())];
    all.extend_from_slice(headers);
    crate::support::http(port, method, path, &all, body.map(str::as_bytes))
}

#[test]
fn stopping_the_daemon_closes_the_sessions_of_connected_clients() {
    let env = Env::new();
    let port = free_port();
    let daemon = env.daemon(1, &["--port", &port.to_string()]);
    let info: Value = serde_json::from_str(&std::fs::read_to_string(env.data.join("api.json")).unwrap()).unwrap();
    let auth = format!("Bearer {}", info["token"].as_str().unwrap());
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    let r = http(port, "POST", "/mcp", &headers, Some(&initialize("claude-code")));
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("mcp-session-id").expect("a session id").to_string();
    assert_eq!(by_id(&mcp_sessions(&env), &sid)["state"], "working");

    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
    let row = by_id(&mcp_sessions(&env), &sid).clone();
    assert_eq!(row["state"], "completed", "the client's MCP session ended with the daemon: {row}");
}

#[test]
fn a_client_cannot_change_another_agents_session() {
    let env = Env::new();
    write_lines(
        &env.claude_file("/home/u/web-app", "c1.jsonl"),
        &lines(&[claude(&ago(60), "c1", "m1", "r1", SONNET, U(100, 10, 0, 0))]),
    );
    env.ok(&["ingest"]);
    let api = api(&env);
    let before = env.json(&["sessions", "show", "c1", "--no-ingest"])["session"].clone();
    let auth = format!("Bearer {}", api.token);
    let base = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    // A Codex client: its handshake, then tries to end and pin Claude Code's session.
    let hello = initialize("codex-mcp-client");
    let r = http(api.port, "POST", "/mcp", &base, Some(&hello));
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("mcp-session-id").expect("a session id").to_string();
    let mut h: Vec<(&str, &str)> = base.to_vec();
    h.push(("Mcp-Session-Id", sid.as_str()));
    h.push(("MCP-Protocol-Version", "2025-06-18"));
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
    assert_eq!(http(api.port, "POST", "/mcp", &h, Some(&note)).status, 202);
    for (i, (tool, args)) in [
        ("update_session", json!({"sessionId": "c1", "state": "complete", "status": "hijacked"})),
        ("update_session", json!({"sessionId": "c1", "state": "pinned"})),
        ("create_session", json!({"sessionId": "c1", "name": "mine now", "state": "complete"})),
    ]
    .into_iter()
    .enumerate()
    {
        let call = json!({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call",
            "params": {"name": tool, "arguments": args}})
        .to_string();
        let r = http(api.port, "POST", "/mcp", &h, Some(&call));
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body.contains("\"isError\":true") && r.body.contains("session 'c1' belongs to Claude Code"),
            "{tool}: {}",
            r.body
        );
    }
    let after = env.json(&["sessions", "show", "c1", "--no-ingest"])["session"].clone();
    for field in ["state", "name", "statusText", "endedAt", "agent"] {
        assert_eq!(after[field], before[field], "{field} changed: {after}");
    }
    // Its own sessions it may change.
    let own = json!({"jsonrpc": "2.0", "id": 20, "method": "tools/call",
        "params": {"name": "create_session", "arguments": {"name": "refactor"}}})
    .to_string();
    let r = http(api.port, "POST", "/mcp", &h, Some(&own));
    assert!(r.body.contains("Session created") && !r.body.contains("\"isError\":true"), "{}", r.body);
}
