//! The local HTTP API through plain HTTP: REST, SSE, and every refusal.

use std::io::{BufRead, BufReader, Write};

use serde_json::{Value, json};

use crate::support::*;

const SONNET: &str = "claude-sonnet-4-5-20250929";

fn start(env: &Env) -> (Daemon, u16, String) {
    let port = free_port();
    let d = env.daemon(1, &["--port", &port.to_string()]);
    let token = env.api_token();
    (d, port, token)
}

fn get(port: u16, token: &str, path: &str) -> HttpReply {
    http(port, "GET", path, &[("Authorization", &format!("Bearer {token}"))], None)
}

#[test]
fn rest_endpoints_serve_sessions_costs_and_fleet_health() {
    let env = Env::new();
    write_lines(
        &env.claude_file("/home/u/web-app", "s-web.jsonl"),
        &lines(&[claude(&ago(120), "s-web", "m1", "r1", SONNET, U(1000, 100, 0, 0))]),
    );
    write_lines(
        &env.codex_file(&chrono::Utc::now().format("%Y-%m-%d").to_string(), "rollout-x-s-api.jsonl"),
        &lines(&[
            codex_meta(&ago(100), "s-api", "/home/u/api"),
            codex_turn(&ago(100), "gpt-5-codex"),
            codex_tokens(&ago(90), None, Some([2000, 0, 200, 0])),
        ]),
    );
    let (_d, port, token) = start(&env);

    let h = http(port, "GET", "/health", &[], None);
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    assert_eq!(h.header("cache-control"), Some("no-store"));

    let all = get(port, &token, "/api/sessions");
    assert_eq!(all.status, 200);
    assert_eq!(all.header("cache-control"), Some("no-store"));
    let list = all.json()["sessions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    for s in &list {
        for f in SESSION_FIELDS {
            assert!(s.get(f).is_some(), "{f} missing");
        }
    }
    // The CLI and the API serialise a session the same way.
    let cli = env.json(&["sessions", "--no-ingest"]);
    let by_id = |v: &Vec<Value>, id: &str| v.iter().find(|s| s["sessionId"] == id).unwrap().clone();
    let (a, b) = (by_id(&list, "s-web"), by_id(cli["sessions"].as_array().unwrap(), "s-web"));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&a), keys(&b));
    assert_eq!(a["tokens"], b["tokens"]);

    let codex = get(port, &token, "/api/sessions?agent=codex").json();
    assert_eq!(codex["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(codex["sessions"][0]["sessionId"], "s-api");
    let web = get(port, &token, "/api/sessions?workspaceId=web-app").json();
    assert_eq!(web["sessions"][0]["sessionId"], "s-web");
    assert_eq!(get(port, &token, "/api/sessions?project=api&limit=1").json()["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(get(port, &token, "/api/sessions?source=mcp").json()["sessions"], json!([]));
    assert_eq!(get(port, &token, "/api/sessions?state=bogus").status, 400);
    assert_eq!(get(port, &token, "/api/sessions?limit=0").status, 400);
    assert_eq!(get(port, &token, "/api/sessions?colour=red").status, 400);
    let r = get(port, &token, "/api/sessions?source=martian");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("unknown source 'martian'"), "{}", r.body);
    assert_eq!(get(port, &token, "/api/sessions?source=hook").status, 200);

    let detail = get(port, &token, "/api/sessions/s-web");
    assert_eq!(detail.status, 200);
    assert_eq!(detail.json()["models"][0]["modelName"], SONNET);
    let missing = get(port, &token, "/api/sessions/nope");
    assert_eq!((missing.status, missing.json()["error"].as_str().is_some()), (404, true));

    let costs = get(port, &token, "/api/costs?range=all&groupBy=agent").json();
    let total = costs["totalCost"].as_f64().unwrap();
    assert!((total - (1000.0 * 3e-6 + 100.0 * 15e-6 + 2000.0 * 1.25e-6 + 200.0 * 1e-5)).abs() < 1e-9, "{costs}");
    assert_eq!(costs["groupBy"], "agent");
    let groups: Vec<&str> = costs["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(groups, vec!["codex", "claude-code"]);
    assert_eq!(get(port, &token, "/api/costs?groupBy=colour").status, 400);
    assert_eq!(get(port, &token, "/api/costs?range=fortnight").status, 400);

    let fleet = get(port, &token, "/api/fleet-health").json();
    assert!(fleet["agents"].is_array() && fleet["programs"].is_array());

    // The agents as `agentwatch agents --format json` gives them.
    let agents = get(port, &token, "/api/agents").json();
    // (Its figures: the daemon may decide a state between the two.)
    let figures = |v: &Value| -> Vec<Value> {
        let list = v["agents"].as_array().unwrap();
        list.iter().map(|a| json!([a["id"], a["found"], a["sessions"], a["last30Days"], a["allTime"]])).collect()
    };
    assert_eq!(figures(&agents), figures(&env.json(&["agents", "--no-ingest"])), "one view, both shells");
    let claude = agents["agents"].as_array().unwrap().iter().find(|a| a["id"] == "claude-code").unwrap().clone();
    assert_eq!((&claude["sessions"], &claude["last30Days"]["provenance"]), (&json!(1), &json!("priced")), "{claude}");
    assert!((num(&claude["allTime"]["costUsd"]) - (1000.0 * 3e-6 + 100.0 * 15e-6)).abs() < 1e-12, "{claude}");
    assert_eq!(get(port, &token, "/api/nothing-here").status, 404);
}

#[test]
fn every_refusal_has_its_status_and_a_json_error() {
    let env = Env::new();
    let (_d, port, token) = start(&env);
    let bearer = format!("Bearer {token}");
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (vec![], 401, "missing bearer token"),
        (vec![("Authorization", "Bearer wrong")], 401, "wrong bearer token"),
        (vec![("Authorization", "Basic dXNlcjpwYXNz")], 401, "missing bearer token"),
        (vec![("Authorization", &bearer), ("Host", "evil.example")], 403, "host"),
        (vec![("Authorization", &bearer), ("Host", "attacker.example:4444")], 403, "host"),
        (vec![("Authorization", &bearer), ("Origin", "https://evil.example")], 403, "origin"),
        (vec![("Authorization", &bearer), ("Origin", "null")], 403, "origin"),
    ];
    for (headers, status, says) in cases {
        let r = http(port, "GET", "/api/sessions", &headers, None);
        assert_eq!(r.status, status, "{headers:?}: {}", r.body);
        assert!(r.json()["error"].as_str().unwrap().contains(says), "{headers:?}: {}", r.body);
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    assert_eq!(
        http(port, "GET", "/api/sessions", &[("Authorization", "Bearer wrong")], None).header("www-authenticate"),
        Some("Bearer")
    );
    // Even /health refuses a foreign Host: DNS rebinding gets nothing.
    assert_eq!(http(port, "GET", "/health", &[("Host", "evil.example")], None).status, 403);
    // A loopback Origin is fine.
    let ok = http(
        port,
        "GET",
        "/api/sessions",
        &[("Authorization", &bearer), ("Origin", &format!("http://localhost:{port}"))],
        None,
    );
    assert_eq!(ok.status, 200);
    // Oversize and malformed bodies.
    let big = vec![b'{'; 2 << 20];
    let r = http(port, "POST", "/mcp", &[("Authorization", &bearer), ("Content-Type", "application/json")], Some(&big));
    assert_eq!((r.status, r.json()["error"].as_str().is_some()), (413, true), "{}", r.body);
    let r = http(
        port,
        "POST",
        "/mcp",
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ],
        Some(b"{this is not json"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    // RFC 7235: the auth scheme is case-insensitive; clients send `bearer`.
    let env = Env::new();
    let (_d, port, token) = start(&env);
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let auth = format!("{scheme} {token}");
        let r = http(port, "GET", "/api/sessions", &[("Authorization", &auth)], None);
        assert_eq!(r.status, 200, "{scheme}: {}", r.body);
    }
    // Only the scheme: the token itself must match exactly, and other
    // schemes are still no token at all.
    let cases = [
        (format!("bearer {}", token.to_uppercase()), "wrong bearer token"),
        ("bearer wrong".to_string(), "wrong bearer token"),
        (format!("bearer{token}"), "missing bearer token"),
        (format!("Basic {token}"), "missing bearer token"),
        ("bearer".to_string(), "missing bearer token"),
    ];
    for (auth, says) in &cases {
        let r = http(port, "GET", "/api/sessions", &[("Authorization", auth)], None);
        assert_eq!(r.status, 401, "{auth}: {}", r.body);
        assert!(r.json()["error"].as_str().unwrap().contains(says), "{auth}: {}", r.body);
    }
}

#[test]
fn the_token_is_private_stable_and_rotates_live() {
    let env = Env::new();
    let (d, port, token) = start(&env);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(env.data.join("api.json")).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(env.data.join("agentwatch.db")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    drop(d);
    let (_d, port2, token2) = {
        let d = env.daemon(1, &["--port", &port.to_string()]);
        (d, port, env.api_token())
    };
    assert_eq!((port2, &token2), (port, &token), "kept across restarts, so agent configs stay valid");
    let out = env.ok(&["api", "rotate-token"]);
    assert!(out.contains("new token"), "{out}");
    let new = env.api_token();
    assert_ne!(new, token);
    assert_eq!(get(port, &token, "/api/sessions").status, 401, "the old token stops working at once");
    assert_eq!(get(port, &new, "/api/sessions").status, 200);
    let info = env.ok(&["api", "info"]);
    assert!(info.contains(&format!("http://127.0.0.1:{port}")) && info.contains("api.json"), "{info}");
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let env = Env::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let o = env.run(&["daemon", "--port", &port]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("port {port}")) && err.contains("already in use"), "{err}");
}

#[test]
fn the_event_stream_carries_live_changes() {
    let env = Env::new();
    let (_d, port, token) = start(&env);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    write!(s, "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    let mut status = String::new();
    r.read_line(&mut status).unwrap();
    assert!(status.contains("200"), "{status}");
    // Something happens: a hook reports a session waiting.
    let payload = json!({"session_id": "live-1", "cwd": "/home/u/app", "hook_event_name": "Stop"});
    let mut c = env.command(&["hook"]).stdin(std::process::Stdio::piped()).spawn().unwrap();
    c.stdin.take().unwrap().write_all(payload.to_string().as_bytes()).unwrap();
    c.wait().unwrap();
    // Read events until the state change arrives.
    let mut kinds = Vec::new();
    let mut line = String::new();
    let state = loop {
        line.clear();
        if r.read_line(&mut line).unwrap() == 0 {
            panic!("stream ended; saw {kinds:?}");
        }
        if let Some(k) = line.strip_prefix("event: ") {
            kinds.push(k.trim().to_string());
        }
        if let Some(d) = line.strip_prefix("data: ") {
            let e: Value = serde_json::from_str(d.trim()).unwrap();
            if e["kind"] == "session.state" {
                break e;
            }
        }
    };
    assert!(kinds.contains(&"session.created".to_string()), "{kinds:?}");
    assert_eq!(state["sessionId"], "live-1");
    assert_eq!(state["session"]["state"], "waiting");
    assert!(state["id"].as_i64().unwrap() > 0);
}
