//! Test harness: an isolated home with Claude Code and Codex folders, a data
//! dir, and the real `agentwatch` binary.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_agentwatch");

pub struct Env {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub claude: PathBuf,
    pub codex: PathBuf,
    pub data: PathBuf,
    pub config: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let home = root.join("home");
        let env = Env {
            claude: home.join(".claude"),
            codex: home.join(".codex"),
            data: root.join("data"),
            config: root.join("config"),
            home,
            root,
            _dir: dir,
        };
        std::fs::create_dir_all(env.claude.join("projects")).unwrap();
        std::fs::create_dir_all(env.codex.join("sessions")).unwrap();
        env
    }

    /// The binary, with a clean environment pointing at this test's folders.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TZ", "UTC")
            .env("AGENTWATCH_DATA_DIR", &self.data)
            .env("AGENTWATCH_CONFIG_DIR", &self.config)
            // Only processes working in this test's folder count as agents.
            .env("AGENTWATCH_PROCESS_SCOPE", &self.root);
        c
    }

    /// The environment the binary runs with, for other programs of a test.
    pub fn vars(&self) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
        let c = self.command(&[]);
        c.get_envs().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))).collect()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a bash script on a private X display and session bus
    /// (`xvfb-run`, `dbus-run-session`: a notification daemon and
    /// `dbus-monitor` there see only this test), with this test's
    /// environment; asserts it succeeded.
    pub fn run_on_private_desktop(&self, script: &str) -> Output {
        let out = Command::new("xvfb-run")
            .args(["-a", "dbus-run-session", "--", "bash", "-c", script])
            .env_clear()
            .envs(self.vars())
            .output()
            .expect("xvfb-run and dbus-run-session are installed by `make test`");
        assert!(out.status.success(), "{}: {}", out.status, String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Runs with `input` on stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "agentwatch {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let out = self.ok(&a);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// A Claude Code transcript file for `cwd`'s project.
    pub fn claude_file(&self, cwd: &str, name: &str) -> PathBuf {
        let enc: String = cwd.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let p = self.claude.join("projects").join(enc).join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        p
    }

    /// A Codex rollout file under sessions/YYYY/MM/DD.
    pub fn codex_file(&self, day: &str, name: &str) -> PathBuf {
        let p = self.codex.join("sessions").join(day.replace('-', "/")).join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        p
    }
}

/// Writes lines (each followed by a newline) to a file, replacing it.
pub fn write_lines(p: &Path, lines: &[String]) {
    let mut s = lines.join("\n");
    s.push('\n');
    std::fs::write(p, s).unwrap();
}

/// Appends text to a file as is.
pub fn append(p: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).create(true).open(p).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// The model most tests use.
pub const SONNET: &str = "claude-sonnet-4-5-20250929";

/// Token counts of a Claude usage line: input, output, cache write, cache read.
#[derive(Clone, Copy)]
pub struct U(pub u64, pub u64, pub u64, pub u64);

/// A Claude Code assistant line with usage. `extra` is merged into the
/// top-level object (e.g. isSidechain, costUSD) and `usage_extra` into usage.
pub fn claude(ts: &str, session: &str, msg: &str, req: &str, model: &str, u: U) -> Value {
    json!({
        "parentUuid": null,
        "isSidechain": false,
        "userType": "external",
        "cwd": "/home/u/web-app",
        "sessionId": session,
        "version": "2.0.14",
        "gitBranch": "main",
        "message": {
            "id": msg,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "Done."}],
            "stop_reason": null,
            "usage": {
                "input_tokens": u.0,
                "output_tokens": u.1,
                "cache_creation_input_tokens": u.2,
                "cache_read_input_tokens": u.3,
                "service_tier": "standard"
            }
        },
        "requestId": req,
        "type": "assistant",
        "uuid": format!("{msg}-{req}-uuid"),
        "timestamp": ts
    })
}

/// A user line, as Claude Code writes between assistant turns.
pub fn claude_user(ts: &str, session: &str, text: &str) -> Value {
    json!({
        "parentUuid": null, "isSidechain": false, "userType": "external", "cwd": "/home/u/web-app",
        "sessionId": session, "version": "2.0.14", "type": "user",
        "message": {"role": "user", "content": text}, "uuid": "u-1", "timestamp": ts
    })
}

pub fn line(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

pub fn lines(vs: &[Value]) -> Vec<String> {
    vs.iter().map(line).collect()
}

pub fn codex_meta(ts: &str, id: &str, cwd: &str) -> Value {
    json!({"timestamp": ts, "type": "session_meta", "payload": {"id": id, "cwd": cwd, "cli_version": "0.50.0", "originator": "codex_cli_rs"}})
}

pub fn codex_turn(ts: &str, model: &str) -> Value {
    json!({"timestamp": ts, "type": "turn_context", "payload": {"model": model, "cwd": "/home/u/api", "approval_policy": "on-request"}})
}

/// Usage as Codex counts it: input (including cached), cached, output
/// (including reasoning), reasoning.
pub fn codex_usage(v: [u64; 4]) -> Value {
    json!({"input_tokens": v[0], "cached_input_tokens": v[1], "output_tokens": v[2], "reasoning_output_tokens": v[3], "total_tokens": v[0] + v[2]})
}

pub fn codex_tokens(ts: &str, total: Option<[u64; 4]>, last: Option<[u64; 4]>) -> Value {
    let mut info = serde_json::Map::new();
    if let Some(t) = total {
        info.insert("total_token_usage".into(), codex_usage(t));
    }
    if let Some(l) = last {
        info.insert("last_token_usage".into(), codex_usage(l));
    }
    info.insert("model_context_window".into(), json!(272000));
    json!({"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": info}})
}

/// The breakdown of `model` on `date` in a daily report.
pub fn breakdown<'a>(report: &'a Value, date: &str, model: &str) -> &'a Value {
    let day = report["daily"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date)
        .unwrap_or_else(|| panic!("no day {date} in {report}"));
    day["modelBreakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["modelName"] == model)
        .unwrap_or_else(|| panic!("no model {model} on {date} in {report}"))
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

pub fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The current time minus `secs`, as an RFC 3339 timestamp.
pub fn ago(secs: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(secs)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A child process, in a process group of its own, killed with everything
/// it started when the test ends, pass or fail.
/// Starts a child in a process group of its own (Unix), so a test can
/// signal it and its children together; a no-op elsewhere.
pub trait OwnGroup {
    fn own_group(&mut self) -> &mut Self;
}

impl OwnGroup for Command {
    fn own_group(&mut self) -> &mut Self {
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(self, 0);
        self
    }
}

pub struct Proc(pub std::process::Child);

impl Proc {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Kills it and its descendants now, and waits for it.
    pub fn kill(&mut self) {
        let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", self.0.id())]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `f` until it returns Some, or panics after `secs` seconds.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(std::time::Instant::now() < until, "timed out after {secs} s waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

impl Env {
    /// An executable named `name`: a copy of `sleep`, like a native agent binary.
    pub fn native_agent(&self, name: &str) -> PathBuf {
        let p = self.root.join("bin").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::copy("/bin/sleep", &p).unwrap();
        p
    }

    /// A Claude Code transcript for `cwd` whose last line is a prompt the
    /// agent is working on: what a fake agent (a copy of `sleep`) is busy
    /// with, for faults a real agent cannot be made to show.
    pub fn claude_mid_turn(&self, cwd: &Path, session: &str) -> PathBuf {
        let f = self.claude_file(&cwd.display().to_string(), &format!("{session}.jsonl"));
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        write_lines(&f, &[line(&claude_user(&now, session, "fix the build"))]);
        f
    }

    /// A Codex rollout for `cwd` in the middle of a turn (`task_started`).
    pub fn codex_mid_turn(&self, cwd: &Path, session: &str) -> PathBuf {
        let now = chrono::Utc::now();
        let day = chrono::Local::now().format("%Y-%m-%d").to_string();
        let f = self.codex_file(&day, &format!("rollout-{}-{session}.jsonl", now.format("%Y-%m-%dT%H-%M-%S")));
        let ts = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let started =
            json!({"timestamp": ts, "type": "event_msg", "payload": {"type": "task_started", "turn_id": "t1"}});
        write_lines(&f, &lines(&[codex_meta(&ts, session, &cwd.display().to_string()), started]));
        f
    }

    /// A fake `@openai/codex` npm package: `bin/codex.js` starts the vendored
    /// `codex` binary (a copy of `sleep`) and forwards SIGTERM to it.
    pub fn codex_package(&self) -> PathBuf {
        let pkg = self.root.join("lib/node_modules/@openai/codex");
        let vendor = pkg.join("vendor/x86_64-unknown-linux-musl/codex");
        std::fs::create_dir_all(&vendor).unwrap();
        std::fs::create_dir_all(pkg.join("bin")).unwrap();
        std::fs::copy("/bin/sleep", vendor.join("codex")).unwrap();
        std::fs::write(
            pkg.join("bin/codex.js"),
            r#"const { spawn } = require('child_process');
const path = require('path');
const bin = path.join(__dirname, '..', 'vendor', 'x86_64-unknown-linux-musl', 'codex', 'codex');
const child = spawn(bin, ['600'], { stdio: 'ignore' });
process.on('SIGTERM', () => { child.kill('SIGTERM'); process.exit(0); });
child.on('exit', (c) => process.exit(c ?? 0));
"#,
        )
        .unwrap();
        pkg.join("bin/codex.js")
    }

    /// Starts a process in `cwd` with this test's environment.
    pub fn spawn(&self, program: &Path, args: &[&str], cwd: &Path) -> Proc {
        std::fs::create_dir_all(cwd).unwrap();
        let mut tries = 0;
        loop {
            let r = Command::new(program)
                .own_group()
                .args(args)
                .current_dir(cwd)
                .env("HOME", &self.home)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
            match r {
                Ok(child) => return Proc(child),
                // A copy of `sleep` just written (`native_agent`) is busy
                // while another test's child, forked in that moment, still
                // holds it open for writing until it execs: ETXTBSY.
                Err(e) if e.raw_os_error() == Some(26) && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => panic!("cannot start {}: {e}", program.display()),
            }
        }
    }

    /// Runs `agentwatch daemon` in the background, scanning every `interval`
    /// seconds; stopped with SIGTERM when dropped.
    pub fn daemon(&self, interval: u64, extra: &[&str]) -> Daemon {
        let interval = interval.to_string();
        let mut args = vec!["daemon", "--scan-interval", interval.as_str()];
        let port = extra
            .iter()
            .position(|a| *a == "--port")
            .and_then(|i| extra.get(i + 1))
            .and_then(|p| p.parse::<u16>().ok());
        if port.is_none() {
            args.push("--no-api");
        }
        args.extend(extra);
        let started = chrono::Utc::now().timestamp_millis();
        let child = self
            .command(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let d = Daemon(Some(child));
        // This daemon's own first scan, not one left by an earlier run.
        wait_for(20, "the daemon's first scan", || {
            let s = self.json(&["status"]);
            let at = s["monitor"]["lastScan"]["at"].as_i64().unwrap_or(0);
            (s["monitor"]["running"] == true && at >= started).then_some(())
        });
        if let Some(p) = port {
            wait_for(20, "the API", || {
                std::net::TcpStream::connect(("127.0.0.1", p))
                    .ok()
                    .filter(|_| http(p, "GET", "/health", &[], None).status == 200)
            });
        }
        d
    }

    /// The number of the monitor's latest scan.
    pub fn last_scan(&self) -> u64 {
        self.json(&["status"])["monitor"]["lastScan"]["scan"].as_u64().unwrap_or(0)
    }

    /// The session of `agent` whose process is `pid`, from `sessions --format json`.
    pub fn session_with_pid(&self, pid: u32, extra: &[&str]) -> Option<Value> {
        let mut args = vec!["sessions"];
        args.extend(extra);
        let r = self.json(&args);
        r["sessions"].as_array().unwrap().iter().find(|s| s["pid"] == pid).cloned()
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Daemon(Option<std::process::Child>);

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.0.as_ref().expect("running").id()
    }

    /// Stops it with SIGTERM and returns its exit status and stderr.
    pub fn stop(mut self) -> (Option<i32>, String) {
        let c = self.0.take().unwrap();
        sigterm(c.id());
        let out = c.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            sigterm(c.id());
            let _ = c.wait();
        }
    }
}

/// SIGTERM through the `kill` command, so the tests need no libc binding.
pub fn sigterm(pid: u32) {
    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The tests' Python, with the MCP SDK and the OTLP protobuf definitions:
/// the repo's .venv, made by tests/mcp/venv.sh (which `make test` runs) if
/// it is missing.
pub fn python() -> PathBuf {
    static READY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    READY
        .get_or_init(|| {
            let py = repo_root().join(".venv/bin/python");
            let ok = |py: &PathBuf| {
                let check = "import mcp, opentelemetry.proto.collector.metrics.v1.metrics_service_pb2";
                Command::new(py).args(["-c", check]).status().is_ok_and(|s| s.success())
            };
            if !ok(&py) {
                let st = Command::new(repo_root().join("tests/mcp/venv.sh")).status().expect("tests/mcp/venv.sh runs");
                assert!(st.success() && ok(&py), "tests/mcp/venv.sh could not install the mcp SDK into .venv");
            }
            py
        })
        .clone()
}

/// tests/mcp/node/client.mjs, on the npm MCP SDK that scripts/setup.sh
/// installs there (`npm ci` here if it is missing).
pub fn node_mcp_client() -> PathBuf {
    static READY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    READY
        .get_or_init(|| {
            let dir = repo_root().join("tests/mcp/node");
            if !dir.join("node_modules/@modelcontextprotocol/sdk/package.json").exists() {
                let st = Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                    .current_dir(&dir)
                    .status()
                    .expect("npm runs");
                assert!(st.success(), "npm ci in tests/mcp/node failed");
            }
            dir.join("client.mjs")
        })
        .clone()
}

/// The Python of .venv-mcp2, with PyPI `mcp` 2.x (protocol 2026-07-28);
/// made by `tests/mcp/venv.sh --mcp2` if it is missing.
pub fn python_mcp2() -> PathBuf {
    static READY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    READY
        .get_or_init(|| {
            let py = repo_root().join(".venv-mcp2/bin/python");
            let ok = |py: &PathBuf| {
                Command::new(py).args(["-c", "import mcp.client.client"]).status().is_ok_and(|s| s.success())
            };
            if !ok(&py) {
                let st = Command::new(repo_root().join("tests/mcp/venv.sh"))
                    .arg("--mcp2")
                    .status()
                    .expect("tests/mcp/venv.sh runs");
                assert!(st.success() && ok(&py), "tests/mcp/venv.sh --mcp2 could not install mcp 2.x");
            }
            py
        })
        .clone()
}

/// An HTTP reply, as a raw client sees it.
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A plain HTTP/1.1 request to 127.0.0.1:`port`, written by hand so tests can
/// send any Host, Origin or body. `Host` defaults to 127.0.0.1:port.
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> HttpReply {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    if let Some(b) = body {
        let _ = s.write_all(b); // the server may refuse before reading it all
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_string() };
    HttpReply { status, headers, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

impl Env {
    /// The API token the daemon wrote.
    pub fn api_token(&self) -> String {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(self.data.join("api.json")).unwrap()).unwrap();
        v["token"].as_str().unwrap().to_string()
    }
}

/// The fields every session object carries, in the CLI's JSON and the API's:
/// Routa's, Remb's and agentwatch's own.
pub const SESSION_FIELDS: &[&str] = &[
    "sessionId",
    "name",
    "workspaceId",
    "createdAt",
    "lastActivity",
    "status",
    "agentLabel",
    "ideType",
    "source",
    "toolCallCount",
    "lastToolName",
    "lastActiveAt",
    "startedAt",
    "errorCount",
    "state",
    "live",
    "waitingFor",
    "pendingTool",
    "stateSignal",
    "pid",
    "projectPath",
    "model",
    "tokens",
    "costUsd",
    "heartbeatAgeSeconds",
];
