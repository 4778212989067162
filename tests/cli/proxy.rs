//! `agentwatch mcp-proxy`: a real MCP server, driven by a real MCP client,
//! through the proxy.

use std::io::Write;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::support::*;

fn run_client(env: &Env, server: &[&str], cwd: &std::path::Path) -> Value {
    run_client_with(&python(), "client.py", env, server, cwd)
}

/// Runs `tests/proxy/<client>` with `python` against `server`; its JSON.
fn run_client_with(python: &std::path::Path, client: &str, env: &Env, server: &[&str], cwd: &std::path::Path) -> Value {
    let o = std::process::Command::new(python)
        .arg(repo_root().join("tests/proxy").join(client))
        .args(server)
        .current_dir(cwd)
        .env_clear()
        .envs(env.vars())
        .output()
        .unwrap();
    assert!(o.status.success(), "client failed: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn replies_are_unchanged_and_tool_calls_are_counted() {
    let env = Env::new();
    let server = repo_root().join("tests/proxy/server.py");
    let py = python();
    let (py, server) = (py.to_str().unwrap(), server.to_str().unwrap());
    let direct = run_client(&env, &[py, server], &env.root);
    let proxied = run_client(&env, &[BIN, "mcp-proxy", "--label", "test-tools", "--", py, server], &env.root);
    assert_eq!(proxied, direct, "the proxy changes nothing the client sees");
    assert_eq!(direct["calls"][2]["isError"], true);

    let r = env.json(&["sessions", "--source", "proxy", "--no-ingest"]);
    let s = &r["sessions"][0];
    assert_eq!(s["toolCallCount"], 3);
    assert_eq!(s["lastToolName"], "fail");
    assert_eq!(s["errorCount"], 1, "the isError result is counted");
    assert_eq!(s["agentLabel"], "mcp");
    assert_eq!(s["name"], "test-tools");
    assert_eq!(s["state"], "completed", "closed when the client disconnected");
    let table = env.ok(&["sessions", "--source", "proxy", "--no-ingest"]);
    for col in ["Agent", "Session ID", "Tools", "Last Active", "Started", "Last Tool", "Errors"] {
        assert!(table.contains(col), "{table}");
    }
    assert!(table.contains("fail"), "{table}");
}

#[test]
fn a_client_of_the_2026_protocol_is_counted_too() {
    // PyPI `mcp` 2.x speaks protocol 2026-07-28: `server/discover`, the
    // client named in each request's `_meta`, no `initialize`.
    let env = Env::new();
    let py = python_mcp2();
    let (py, server) = (py.to_str().unwrap(), repo_root().join("tests/proxy/server.py"));
    let server = server.to_str().unwrap();
    let run = |args: &[&str]| run_client_with(std::path::Path::new(py), "client2.py", &env, args, &env.root);
    let direct = run(&[py, server]);
    let proxied = run(&[BIN, "mcp-proxy", "--label", "new-tools", "--", py, server]);
    assert_eq!(proxied, direct, "the proxy changes nothing the client sees");
    assert_eq!(proxied["protocol"], "2026-07-28", "{proxied}");

    let r = env.json(&["sessions", "--source", "proxy", "--no-ingest"]);
    let s = &r["sessions"][0];
    assert_eq!(
        (&s["toolCallCount"], &s["errorCount"], &s["lastToolName"]),
        (&json!(3), &json!(1), &json!("fail")),
        "{s}"
    );
    assert_eq!(
        (&s["agentLabel"], &s["agent"], &s["name"]),
        (&json!("claude-code"), &json!("claude-code"), &json!("new-tools"))
    );
    assert_eq!(s["state"], "completed", "closed when the client disconnected");
}

#[test]
fn a_client_on_the_npm_sdk_is_counted_too() {
    // The official TypeScript SDK (npm @modelcontextprotocol/sdk), as
    // Cursor and many agents embed it, naming itself "cursor".
    let env = Env::new();
    let (py, server) = (python(), repo_root().join("tests/proxy/server.py"));
    let (py, server) = (py.to_str().unwrap(), server.to_str().unwrap());
    let run = |args: &[&str]| {
        let o = std::process::Command::new("node")
            .arg(node_mcp_client())
            .arg("stdio")
            .args(args)
            .current_dir(&env.root)
            .env_clear()
            .envs(env.vars())
            .output()
            .unwrap();
        assert!(o.status.success(), "client failed: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let direct = run(&[py, server]);
    let proxied = run(&[BIN, "mcp-proxy", "--label", "npm-tools", "--", py, server]);
    assert_eq!(proxied, direct, "the proxy changes nothing the client sees");
    assert_eq!(direct["calls"][1]["content"], json!(["42"]));

    let r = env.json(&["sessions", "--source", "proxy", "--no-ingest"]);
    let s = &r["sessions"][0];
    assert_eq!(
        (&s["toolCallCount"], &s["errorCount"], &s["lastToolName"]),
        (&json!(3), &json!(1), &json!("fail")),
        "{s}"
    );
    assert_eq!(
        (&s["agentLabel"], &s["name"], &s["state"]),
        (&json!("cursor"), &json!("npm-tools"), &json!("completed"))
    );
}

#[test]
fn messages_are_relayed_byte_for_byte_in_order() {
    let env = Env::new();
    // `cat` as the "server": whatever goes in must come back exactly.
    let mut child =
        env.command(&["mcp-proxy", "--", "cat"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let big = "x".repeat(300_000);
    let mut input = String::new();
    input.push_str(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"clientInfo":{"name":"relay-test","version":"1"}}}"#,
    );
    input.push('\n');
    for i in 0..200 {
        input.push_str(&format!("{{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"tools/call\",\"params\":{{\"name\":\"t{i}\",\"arguments\":{{\"s\":\"ünïcødé \\\"{}\\\"\"}}}}}}\n", i + 2, if i == 100 { &big } else { "" }));
    }
    input.push_str("not json at all, still relayed\n");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.clone();
    let writer = std::thread::spawn(move || {
        stdin.write_all(data.as_bytes()).unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), input.len());
    assert!(out.stdout == input.as_bytes(), "relayed bytes differ");
    let r = env.json(&["sessions", "--source", "proxy", "--no-ingest"]);
    assert_eq!(r["sessions"][0]["toolCallCount"], 200);
    assert_eq!(r["sessions"][0]["lastToolName"], "t199");
}

#[test]
fn inside_an_agent_the_calls_count_for_the_agents_session() {
    let env = Env::new();
    // A fake Claude Code (a Python script named `claude`) that runs the MCP
    // client, which starts the proxy: the proxy's ancestor is the agent.
    let bin = env.root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let server = repo_root().join("tests/proxy/server.py");
    let script = format!(
        "import subprocess, sys\nsys.exit(subprocess.call([{py:?}, {client:?}, {aw:?}, 'mcp-proxy', '--label', 'tools', '--', {py:?}, {server:?}]))\n",
        py = python().display().to_string(),
        client = repo_root().join("tests/proxy/client.py").display().to_string(),
        aw = BIN,
        server = server.display().to_string(),
    );
    std::fs::write(bin.join("claude"), script).unwrap();
    let work = env.root.join("src/app");
    std::fs::create_dir_all(&work).unwrap();
    let status = std::process::Command::new(python())
        .arg(bin.join("claude"))
        .current_dir(&work)
        .env_clear()
        .envs(env.vars())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let all = env.json(&["sessions", "--no-ingest"]);
    let list = all["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 1, "no separate proxy session: {all}");
    assert_eq!(list[0]["agent"], "claude-code");
    assert_eq!(list[0]["source"], "process");
    assert_eq!(list[0]["toolCallCount"], 3);
    assert_eq!(list[0]["projectPath"], work.display().to_string());
}

#[test]
fn a_missing_server_is_a_clear_error_and_no_command_a_usage_error() {
    let env = Env::new();
    let o = env.run(&["mcp-proxy", "--", "/nonexistent/server"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot start the MCP server"));
    let o = env.run(&["mcp-proxy"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn when_the_server_exits_the_client_sees_the_end_at_once() {
    use std::io::{Read, Write};
    let env = Env::new();
    let mut proxy = env
        .command(&["mcp-proxy", "--", "sh", "-c", "read x; echo bye; exit 3"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The client keeps its end open, as a client waiting for a reply does.
    let mut stdin = proxy.stdin.take().unwrap();
    stdin.write_all(b"hello\n").unwrap();
    let mut from_proxy = proxy.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = from_proxy.read_to_string(&mut out);
        let _ = tx.send(out);
    });
    let out = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("EOF from the proxy once the server exits");
    assert_eq!(out, "bye\n", "the server's output, then EOF");
    let status = wait_for(10, "the proxy to exit", || proxy.try_wait().unwrap());
    assert_eq!(status.code(), Some(3), "the server's exit code");
    drop(stdin);
}
